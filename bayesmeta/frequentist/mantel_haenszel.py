r"""Mantel-Haenszel pooling of 2x2 tables (RR, OR, RD), as RevMan 5 and metafor's ``rma.mh``.

Notation per study: :math:`a_i, b_i` events and non-events in arm 1 (:math:`n_{1i}`),
:math:`c_i, d_i` in arm 2 (:math:`n_{2i}`), :math:`N_i = n_{1i} + n_{2i}`. Estimates are arm 1
versus arm 2; RR and OR on the log scale (Deeks & Higgins 2010, "Statistical algorithms in Review
Manager 5"; Greenland & Robins 1985, doi:10.2307/2531795; Robins, Breslow & Greenland 1986,
doi:10.2307/2531169; Sato, Greenland & Robins 1989, doi:10.2307/2531965).

* RR: :math:`\hat R_{MH} = \sum a_i n_{2i}/N_i \big/ \sum c_i n_{1i}/N_i` with the
  Greenland-Robins variance of :math:`\log \hat R_{MH}`,
  :math:`\sum\{(n_{1i} n_{2i}(a_i + c_i) - a_i c_i N_i)/N_i^2\} \big/ (R\,S)`,
  :math:`R = \sum a_i n_{2i}/N_i`, :math:`S = \sum c_i n_{1i}/N_i`.
* OR: :math:`\hat\psi_{MH} = \sum a_i d_i/N_i \big/ \sum b_i c_i/N_i` with the
  Robins-Breslow-Greenland variance of :math:`\log\hat\psi_{MH}`,
  :math:`\frac{\sum P_i R_i}{2R^2} + \frac{\sum (P_i S_i + Q_i R_i)}{2RS} + \frac{\sum Q_i S_i}{2S^2}`,
  :math:`P_i = (a_i + d_i)/N_i`, :math:`Q_i = (b_i + c_i)/N_i`, :math:`R_i = a_i d_i/N_i`,
  :math:`S_i = b_i c_i/N_i`.
* RD: :math:`\sum (a_i n_{2i} - c_i n_{1i})/N_i \big/ \sum n_{1i} n_{2i}/N_i` with the
  Greenland-Robins variance :math:`\sum (a_i b_i n_{2i}^3 + c_i d_i n_{1i}^3)/(n_{1i} n_{2i} N_i^2)
  \big/ (\sum n_{1i} n_{2i}/N_i)^2` (RevMan 5; ``rd_variance="greenland-robins"``) or the
  Sato-Greenland-Robins variance (metafor; ``rd_variance="sato"``).

Heterogeneity (both programs): Cochran's :math:`Q = \sum w_i (y_i - \hat\theta_{MH})^2` with the
study estimates :math:`y_i` and inverse-variance weights :math:`w_i = 1/v_i` of
:func:`bayesmeta.effects.escalc.escalc` (0.5 added to the cells of zero-cell studies), around the **MH**
estimate; :math:`I^2 = \max\{0, (Q - (k-1))/Q\}`, :math:`H^2 = Q/(k-1)`.

RevMan's random-effects analysis of dichotomous data (:meth:`MHResult.random_effects`) is
DerSimonian-Laird with that MH-based Q: :math:`\hat\tau^2 = \max\{0, (Q - (k-1))/(\sum w_i -
\sum w_i^2/\sum w_i)\}`, then the inverse-variance estimate with weights :math:`1/(v_i + \hat\tau^2)`.

Zero cells and double zeros
---------------------------
* Studies with no events in either arm (or only events in both) are dropped for RR and OR
  (``drop00=True``, both programs) but counted in ``k`` (as metafor's ``k``); RD keeps them.
* The MH estimate and variance use the raw counts by default (``mh_correction="none"``,
  metafor's ``rma.mh``): the MH sums are finite whenever some study has events. RevMan 5 adds 0.5
  to every cell of a zero-cell study in the MH calculation too (the R package meta reproduces this
  with ``MH.exact = FALSE`` and documents it as RevMan 5's behaviour); choose
  ``mh_correction="only0"`` for that. Without zero cells both give the same numbers.
* The study-level ``yi``, ``vi`` (Q, I^2 and the random-effects model) always use 0.5 added to
  zero-cell studies (metafor ``add=1/2, to="only0"``; RevMan 5).

So metafor's ``rma.mh`` is ``mh_correction="none", rd_variance="sato"``, RevMan 5 is
``mh_correction="only0", rd_variance="greenland-robins"``; the default is raw counts with the
Greenland-Robins RD variance.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bayesmeta.effects.escalc import double_zero, log_or, log_rr, rd, zero_cell
from bayesmeta.frequentist._display import Displayed
from bayesmeta.frequentist.rare import breslow_day_tarone, cmh_test
from bayesmeta.frequentist.rma import RMAResult, rma

__all__ = ["rma_mh", "MHResult", "mh_estimate"]

MEASURES = ("RR", "OR", "RD")


def mh_estimate(a, b, c, d, measure: str, rd_variance: str = "greenland-robins"):
    r"""Mantel-Haenszel estimate (log scale for RR and OR) and its variance from 2x2 cells.

    Parameters
    ----------
    a, b, c, d : ndarray
        Cells (events, non-events in arm 1; events, non-events in arm 2), possibly corrected.
    measure : {"RR", "OR", "RD"}
    rd_variance : {"greenland-robins", "sato"}

    Returns
    -------
    est, var : float
    """
    n1, n2 = a + b, c + d
    N = n1 + n2
    if measure == "RR":
        R, S = np.sum(a * n2 / N), np.sum(c * n1 / N)
        return float(np.log(R / S)), float(np.sum((n1 * n2 * (a + c) - a * c * N) / N**2) / (R * S))
    if measure == "OR":
        Ri, Si = a * d / N, b * c / N
        P, Q = (a + d) / N, (b + c) / N
        R, S = Ri.sum(), Si.sum()
        var = np.sum(P * Ri) / (2 * R**2) + np.sum(P * Si + Q * Ri) / (2 * R * S) + np.sum(Q * Si) / (2 * S**2)
        return float(np.log(R / S)), float(var)
    if measure == "RD":
        W = np.sum(n1 * n2 / N)
        est = np.sum((a * n2 - c * n1) / N) / W
        if rd_variance == "greenland-robins":
            var = np.sum((a * b * n2**3 + c * d * n1**3) / (n1 * n2 * N**2)) / W**2
        elif rd_variance == "sato":
            P = (n1**2 * c - n2**2 * a + n1 * n2 * (n2 - n1) / 2) / N**2
            Q = (a * (n2 - c) + c * (n1 - a)) / (2 * N)
            var = (est * P.sum() + Q.sum()) / W**2
        else:
            raise ValueError("rd_variance must be 'greenland-robins' or 'sato'")
        return float(est), float(var)
    raise ValueError(f"measure must be one of {MEASURES}")


@dataclass(frozen=True, repr=False)
class MHResult(Displayed):
    r"""Mantel-Haenszel common-effect result (immutable).

    ``estimate``, ``ci_lb``, ``ci_ub`` are on the log scale for RR and OR (use :meth:`summary` for
    the ratio scale). ``k`` counts the tables supplied (metafor's ``k``), ``k_estimable`` those in
    Q and the random-effects model (double zeros dropped for RR/OR).
    """

    measure: str
    k: int
    k_estimable: int
    estimate: float
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    Q: float
    Q_p: float
    I2: float
    yi: np.ndarray
    vi: np.ndarray
    level: float
    H2: float = float("nan")
    mh_correction: str = "none"
    rd_variance: str = "greenland-robins"
    method_tau: str = "DL"
    n_participants: int = 0
    MH: float = float("nan")
    MH_p: float = float("nan")
    CO: float = float("nan")
    CO_p: float = float("nan")
    TA: float = float("nan")
    TA_p: float = float("nan")
    TA_df: int = 0
    counts: tuple | None = None
    drop00: bool = True
    add: float = 0.5

    @property
    def Q_df(self) -> int:
        return self.k_estimable - 1

    # metafor's names (docs/api.md)
    @property
    def beta(self) -> np.ndarray:
        """``[estimate]`` (metafor's ``coef(res)``; log scale for RR and OR)."""
        return np.array([self.estimate])

    @property
    def mu(self) -> float:
        return self.estimate

    @property
    def QE(self) -> float:
        return self.Q

    @property
    def QE_p(self) -> float:
        return self.Q_p

    @property
    def QE_df(self) -> int:
        return self.Q_df

    @property
    def ratio(self) -> bool:
        return self.measure in ("RR", "OR")

    def summary(self) -> pd.DataFrame:
        """One-row table; for RR/OR the log-scale columns plus ``exp_*`` on the ratio scale."""
        pct = f"{100 * self.level:g}".replace(".", "_")
        row = {"measure": self.measure, "method": "MH", "k": self.k, "k_estimable": self.k_estimable,
               "estimate": self.estimate, "se": self.se, "zval": self.zval, "pval": self.pval,
               f"ci{pct}_lb": self.ci_lb, f"ci{pct}_ub": self.ci_ub}
        if self.ratio:
            row.update({"exp_estimate": np.exp(self.estimate), f"exp_ci{pct}_lb": np.exp(self.ci_lb),
                        f"exp_ci{pct}_ub": np.exp(self.ci_ub)})
        row.update({"Q": self.Q, "Q_df": self.Q_df, "Q_p": self.Q_p, "I2": self.I2, "H2": self.H2})
        return pd.DataFrame([row])

    def random_effects(self, method_tau: str | None = None, pi: str = "t_k-2") -> RMAResult:
        """RevMan 5 random effects for dichotomous data: DerSimonian-Laird with Q around the MH estimate.

        The returned :class:`~bayesmeta.frequentist.rma.RMAResult` carries this MH-based Q (so its
        I^2 is RevMan's) and, by default, RevMan 5.4's t(k-2) prediction interval.
        """
        method_tau = self.method_tau if method_tau is None else method_tau
        if method_tau != "DL":
            raise ValueError("RevMan's random-effects model for MH analyses uses DL only")
        w = 1.0 / self.vi
        c = w.sum() - np.sum(w**2) / w.sum()
        tau2 = max(0.0, (self.Q - (self.k_estimable - 1)) / c)
        r = rma(self.yi, self.vi, method="DL", tau2=tau2, level=self.level, pi=pi)
        return dataclasses.replace(r, Q=self.Q, Q_p=self.Q_p, tau2_fixed=False,
                                   note=f"RevMan 5 ({self.measure}): DL tau^2 from Q around the Mantel-Haenszel estimate")

    def __str__(self) -> str:
        pct = f"{100 * self.level:g}"
        tr = np.exp if self.ratio else (lambda v: v)
        name = {"RR": "risk ratio", "OR": "odds ratio", "RD": "risk difference"}[self.measure]
        var = {"RR": "Greenland-Robins", "OR": "Robins-Breslow-Greenland",
               "RD": "Greenland-Robins" if self.rd_variance == "greenland-robins" else "Sato"}[self.measure]
        return "\n".join([
            f"Mantel-Haenszel common-effect model ({name}; k = {self.k} tables, {self.k_estimable} estimable; "
            f"{self.n_participants} participants)",
            f"  variance: {var}; zero cells in the MH sums: "
            f"{'raw counts (metafor)' if self.mh_correction == 'none' else '0.5 added (RevMan 5)'}",
            f"  estimate {tr(self.estimate):.4f} [{pct}% CI {tr(self.ci_lb):.4f}, {tr(self.ci_ub):.4f}], "
            f"z = {self.zval:.4f}, p = {self.pval:.4g}",
            f"  Heterogeneity (Q around the MH estimate, IV weights): Q({self.Q_df}) = {self.Q:.4f}, "
            f"p = {self.Q_p:.4g}, I^2 = {self.I2:.2f}%",
        ] + ([f"  Cochran-Mantel-Haenszel test: {self.MH:.4f} (p = {self.MH_p:.4g}); Tarone's heterogeneity test: "
              f"{self.TA:.4f} on {self.TA_df} df (p = {self.TA_p:.4g})"] if self.measure == "OR" else []))


def _cochran(a, n1, c, n2) -> float:
    r"""Cochran's test of a common OR of 1 (metafor ``rma.mh``'s ``CO``):
    :math:`(\sum a_i - n_{1i}m_i/N_i)^2 / \sum n_{1i}n_{2i}m_i(N_i - m_i)/N_i^3` (Cochran 1954)."""
    N, m = n1 + n2, a + c
    den = float(np.sum(n1 * n2 * m * (N - m) / N**3))
    return float(np.sum(a - n1 * m / N) ** 2 / den) if den > 0 else float("nan")


def rma_mh(ai, n1i, ci, n2i, measure: str = "RR", level: float = 0.95, drop00: bool = True,
           rd_variance: str | None = None, *, mh_correction: str | None = None, add: float = 0.5,
           method_tau: str = "DL", preset: str | None = None, correct: bool = True) -> MHResult:
    """Mantel-Haenszel common-effect meta-analysis of 2x2 tables.

    Parameters
    ----------
    ai, n1i : array_like
        Events and participants in arm 1 (experimental).
    ci, n2i : array_like
        Events and participants in arm 2 (control).
    measure : {"RR", "OR", "RD"}
    level : float
        Confidence level.
    drop00 : bool
        Drop double-zero (and double-full) tables for RR and OR (both programs).
    rd_variance : {"greenland-robins", "sato"}
        RevMan 5 or metafor variance of the MH risk difference.
    mh_correction : {"none", "only0"}
        Raw counts in the MH sums (metafor) or ``add`` added to all cells of zero-cell tables
        (RevMan 5).
    add : float
        Continuity correction for zero-cell tables (study-level estimates, and MH if ``"only0"``).
    method_tau : {"DL"}
        tau^2 estimator of :meth:`MHResult.random_effects` (RevMan: DL).
    correct : bool
        Continuity correction of the Cochran-Mantel-Haenszel test ``MH`` (metafor's ``correct``).
    preset : {"revman5", "revman2025", "metafor"}, optional
        Take ``rd_variance`` and ``mh_correction`` from a preset
        (:mod:`bayesmeta.frequentist.presets`); explicit arguments override it. Without a preset:
        raw counts (``"none"``) and the Greenland-Robins RD variance.

    Returns
    -------
    MHResult

    Examples
    --------
    >>> r = rma_mh([10, 20], [100, 100], [15, 30], [100, 100], measure="RR")
    >>> round(float(np.exp(r.estimate)), 4)
    0.6667
    """
    if preset is not None:
        from bayesmeta.frequentist.presets import get_preset

        pre = get_preset(preset)
        rd_variance = pre.rd_variance if rd_variance is None else rd_variance
        mh_correction = pre.mh_correction if mh_correction is None else mh_correction
    rd_variance = "greenland-robins" if rd_variance is None else rd_variance
    mh_correction = "none" if mh_correction is None else mh_correction
    a, n1, c, n2 = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (ai, n1i, ci, n2i))
    measure = measure.upper()
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}")
    if mh_correction not in ("none", "only0"):
        raise ValueError("mh_correction must be 'none' or 'only0'")
    if np.any((a < 0) | (c < 0) | (a > n1) | (c > n2)) or np.any((n1 <= 0) | (n2 <= 0)):
        raise ValueError("events must lie between 0 and n, and n must be positive")
    k_all = a.size
    n_part = int(np.sum(n1 + n2))
    counts = (a.copy(), n1.copy(), c.copy(), n2.copy())
    dz = double_zero(a, n1, c, n2)
    keep = ~dz if (drop00 and measure in ("RR", "OR")) else np.ones(a.shape, bool)
    # metafor (raw counts): every table enters the MH sums (double zeros add nothing to them; tables
    # with only events do, for RR); RevMan 5 (0.5 added): not-estimable tables are left out
    if mh_correction == "only0":
        ma, mn1, mc, mn2 = a[keep], n1[keep], c[keep], n2[keep]
        adj = np.where(zero_cell(ma, mn1, mc, mn2), add, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            est, var = mh_estimate(ma + adj, mn1 - ma + adj, mc + adj, mn2 - mc + adj, measure, rd_variance) \
                if ma.size else (np.nan, np.nan)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            est, var = mh_estimate(a, n1 - a, c, n2 - c, measure, rd_variance)
    a, n1, c, n2 = a[keep], n1[keep], c[keep], n2[keep]
    if not np.isfinite(est):
        warnings.warn(f"the MH {measure} is not estimable from these tables (no events, or no non-events, in "
                      "one arm overall): estimate NaN, as metafor's NA", UserWarning, stacklevel=2)
        est, var = float("nan"), float("nan")
    # study-level estimates with 0.5 added to zero-cell tables, for Q and the random-effects model
    if measure == "RR":
        yi, vi = log_rr(a, n1, c, n2, add=add)
    elif measure == "OR":
        yi, vi = log_or(a, n1, c, n2, add=add)
    else:
        yi, vi = rd(a, n1, c, n2, add=add)
        if drop00:  # as metafor: double-zero tables stay in the MH estimate but not in Q
            sel = ~double_zero(a, n1, c, n2)
            yi, vi = yi[sel], vi[sel]
    n_out = k_all - yi.size
    if n_out:
        warnings.warn(f"{n_out} table{'s' if n_out > 1 else ''} with no events (or only events) in both arms left "
                      "out of the study-level estimates and the heterogeneity test (metafor: 'Some yi/vi values are "
                      "NA')", UserWarning, stacklevel=2)
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / se if se > 0 else float("nan")
    crit = stats.norm.ppf(0.5 + level / 2)
    k = yi.size
    Q = float(np.sum((yi - est) ** 2 / vi)) if k and np.isfinite(est) else float("nan")
    I2 = (100 * max(0.0, (Q - (k - 1)) / Q) if Q > 0 else 0.0) if np.isfinite(Q) else float("nan")
    extra: dict = {}
    if measure == "OR":
        cm = cmh_test(*counts, correct=correct)
        co = _cochran(*counts)
        bd = breslow_day_tarone(*counts, psi=float(np.exp(est))) if np.isfinite(est) and k > 1 else {}
        extra = {"MH": cm["statistic"], "MH_p": cm["p"], "CO": co, "CO_p": float(stats.chi2.sf(co, 1)),
                 "TA": bd.get("tarone", float("nan")),
                 "TA_p": bd.get("tarone_p", float("nan")), "TA_df": bd.get("df", 0)}
    return MHResult(measure=measure, k=k_all, k_estimable=k, estimate=float(est), se=float(se), zval=float(z),
                    pval=float(2 * stats.norm.sf(abs(z))), ci_lb=float(est - crit * se), ci_ub=float(est + crit * se),
                    Q=Q, Q_p=float(stats.chi2.sf(Q, k - 1)) if k > 1 else np.nan, I2=I2, yi=yi, vi=vi, level=level,
                    H2=Q / (k - 1) if k > 1 else np.nan, mh_correction=mh_correction, rd_variance=rd_variance,
                    method_tau=method_tau, n_participants=n_part, counts=counts, drop00=drop00, add=add, **extra)
