r"""Peto's odds ratio and the classical tests for stratified 2x2 tables (rare events).

Per table: :math:`a_i, b_i` events and non-events in arm 1 (:math:`n_{1i}`), :math:`c_i, d_i` in
arm 2 (:math:`n_{2i}`), :math:`N_i = n_{1i} + n_{2i}`, :math:`m_i = a_i + c_i` events in all,
:math:`E_i = n_{1i} m_i / N_i`, :math:`V_i = n_{1i} n_{2i} m_i (N_i - m_i)/\{N_i^2 (N_i - 1)\}`
(hypergeometric mean and variance of :math:`a_i` given the margins).

**Peto's one-step odds ratio** (Yusuf et al. 1985, doi:10.1016/S0033-0620(85)80003-7; RevMan 5's
"Peto" method; metafor ``rma.peto``): :math:`\log\hat\psi = \sum(a_i - E_i)/\sum V_i`,
:math:`\mathrm{SE} = (\sum V_i)^{-1/2}`; heterogeneity
:math:`Q = \sum (a_i - E_i)^2/V_i - (\sum (a_i - E_i))^2/\sum V_i` on (estimable tables - 1) df.
Raw counts, no continuity correction.

**Cochran-Mantel-Haenszel test** of :math:`H_0`: common OR = 1 (Mantel & Haenszel 1959,
doi:10.1093/jnci/22.4.719; metafor ``rma.mh(...)$MH``):
:math:`X^2_{MH} = (|\sum (a_i - E_i)| - 0.5)^2/\sum V_i` on 1 df (the 0.5 continuity correction
is metafor's default ``correct=TRUE``).

**Breslow-Day test with Tarone's correction** of homogeneity of the ORs (Breslow & Day 1980;
Tarone 1985, doi:10.1093/biomet/72.1.91; metafor ``rma.mh(...)$TA``): with
:math:`\hat\psi_{MH}`, :math:`A_i` solves :math:`A(N_i - n_{1i} - m_i + A) = \hat\psi (n_{1i} - A)(m_i - A)`
in the admissible range,
:math:`W_i = (1/A_i + 1/(n_{1i} - A_i) + 1/(m_i - A_i) + 1/(N_i - n_{1i} - m_i + A_i))^{-1}`,

.. math:: X^2_{BD} = \sum \frac{(a_i - A_i)^2}{W_i}, \qquad
          X^2_{T} = X^2_{BD} - \frac{(\sum a_i - \sum A_i)^2}{\sum W_i},

on (tables with :math:`A_i > 0` and events and non-events) - 1 df.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bayesmeta.effects.escalc import double_zero
from bayesmeta.frequentist._display import Displayed

__all__ = ["PetoResult", "breslow_day_tarone", "cmh_test", "rma_peto"]


def _tables(ai, n1i, ci, n2i):
    a, n1, c, n2 = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (ai, n1i, ci, n2i))
    if not (a.shape == n1.shape == c.shape == n2.shape) or a.ndim != 1:
        raise ValueError("ai, n1i, ci, n2i must be 1-d arrays of the same length")
    if np.any((a < 0) | (c < 0) | (a > n1) | (c > n2) | (n1 <= 0) | (n2 <= 0)):
        raise ValueError("events must lie between 0 and n, and n must be positive")
    return a, n1, c, n2


def _hyper(a, n1, c, n2):
    N, m = n1 + n2, a + c
    E = n1 * m / N
    with np.errstate(invalid="ignore", divide="ignore"):
        V = np.where(N > 1, n1 * n2 * m * (N - m) / (N**2 * (N - 1)), 0.0)
    return E, V


@dataclass(frozen=True, repr=False)
class PetoResult(Displayed):
    """Peto's one-step pooled odds ratio (log scale), immutable."""

    k: int
    k_estimable: int
    estimate: float
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    Q: float
    Q_df: int
    Q_p: float
    I2: float
    level: float
    counts: tuple | None = None
    yi: np.ndarray | None = None
    vi: np.ndarray | None = None

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

    def summary(self) -> pd.DataFrame:
        """One-row table; log scale plus ``exp_*`` odds-ratio columns."""
        pct = f"{100 * self.level:g}".replace(".", "_")
        return pd.DataFrame(
            [
                {
                    "method": "Peto",
                    "k": self.k,
                    "k_estimable": self.k_estimable,
                    "estimate": self.estimate,
                    "se": self.se,
                    "zval": self.zval,
                    "pval": self.pval,
                    f"ci{pct}_lb": self.ci_lb,
                    f"ci{pct}_ub": self.ci_ub,
                    "exp_estimate": np.exp(self.estimate),
                    f"exp_ci{pct}_lb": np.exp(self.ci_lb),
                    f"exp_ci{pct}_ub": np.exp(self.ci_ub),
                    "Q": self.Q,
                    "Q_df": self.Q_df,
                    "Q_p": self.Q_p,
                    "I2": self.I2,
                }
            ]
        )

    def __str__(self) -> str:
        pct = f"{100 * self.level:g}"
        return "\n".join(
            [
                f"Peto odds ratio (k = {self.k} tables, {self.k_estimable} with events)",
                (
                    f"  OR = {np.exp(self.estimate):.4f} [{pct}% CI {np.exp(self.ci_lb):.4f}, "
                    f"{np.exp(self.ci_ub):.4f}], log OR = {self.estimate:.4f} (SE {self.se:.4f}), "
                    f"z = {self.zval:.4f}, p = {self.pval:.4g}"
                ),
                f"  Heterogeneity: Q({self.Q_df}) = {self.Q:.4f}, p = {self.Q_p:.4g}, I^2 = {self.I2:.2f}%",
            ]
        )


def rma_peto(ai, n1i, ci, n2i, level: float = 0.95) -> PetoResult:
    """Peto's one-step odds ratio, as RevMan 5's Peto method and metafor's ``rma.peto``.

    Parameters
    ----------
    ai, n1i, ci, n2i : array_like
        Events and sizes of arm 1 (experimental) and arm 2 (control).
    level : float

    Returns
    -------
    PetoResult

    Examples
    --------
    >>> r = rma_peto([2, 5], [50, 60], [6, 9], [50, 61])
    >>> round(float(np.exp(r.estimate)), 4)  # metafor: exp(coef(rma.peto(...))) = 0.4530638
    0.4531
    """
    a, n1, c, n2 = _tables(ai, n1i, ci, n2i)
    E, V = _hyper(a, n1, c, n2)
    n_dz = int(np.sum(double_zero(a, n1, c, n2)))
    if n_dz:
        import warnings

        warnings.warn(f"{n_dz} table{'s' if n_dz > 1 else ''} with no events (or only events) in both arms "
                      "contribute nothing to Peto's odds ratio (metafor: 'Some yi/vi values are NA')",
                      UserWarning, stacklevel=2)
    sv = V.sum()
    if sv <= 0:
        raise ValueError("Peto's OR is not estimable: no table has both events and non-events")
    est = float(np.sum(a - E) / sv)
    se = float(1 / np.sqrt(sv))
    z = est / se
    crit = stats.norm.ppf(0.5 + level / 2)
    pos = V > 0
    Q = max(0.0, float(np.sum((a - E)[pos] ** 2 / V[pos]) - np.sum(a - E) ** 2 / sv))
    k_est = int(np.sum(~double_zero(a, n1, c, n2)))
    df = k_est - 1
    return PetoResult(
        k=a.size,
        k_estimable=k_est,
        estimate=est,
        se=se,
        zval=float(z),
        pval=float(2 * stats.norm.sf(abs(z))),
        ci_lb=est - crit * se,
        ci_ub=est + crit * se,
        Q=Q,
        Q_df=df,
        Q_p=float(stats.chi2.sf(Q, df)) if df > 0 else float("nan"),
        I2=100 * max(0.0, (Q - df) / Q) if Q > 0 else 0.0,
        level=level,
        counts=(a, n1, c, n2),
        yi=((a - E) / np.where(V > 0, V, np.nan))[pos],  # metafor escalc(measure="PETO"): (a - E)/V, 1/V
        vi=(1 / V[pos]),
    )


def cmh_test(ai, n1i, ci, n2i, correct: bool = True) -> dict:
    """Cochran-Mantel-Haenszel test of a common odds ratio of 1 (metafor ``rma.mh``'s ``MH``, ``MHp``).

    Returns
    -------
    dict
        ``statistic`` (chi-squared, 1 df), ``p``, ``correct``.

    Examples
    --------
    >>> round(cmh_test([2, 5], [50, 60], [6, 9], [50, 61])["statistic"], 4)  # metafor rma.mh()$MH: 2.379574
    2.3796
    """
    a, n1, c, n2 = _tables(ai, n1i, ci, n2i)
    E, V = _hyper(a, n1, c, n2)
    if V.sum() <= 0:
        return {"statistic": float("nan"), "p": float("nan"), "correct": correct}
    x2 = (abs(np.sum(a - E)) - (0.5 if correct else 0.0)) ** 2 / V.sum()
    return {"statistic": float(x2), "p": float(stats.chi2.sf(x2, 1)), "correct": correct}


def breslow_day_tarone(ai, n1i, ci, n2i, psi: float | None = None) -> dict:
    """Breslow-Day and Tarone tests of homogeneity of odds ratios (metafor ``rma.mh``'s ``BD``, ``TA``).

    Parameters
    ----------
    ai, n1i, ci, n2i : array_like
    psi : float, optional
        The common odds ratio; default the Mantel-Haenszel estimate from the raw counts.

    Returns
    -------
    dict
        ``BD``, ``BD_p``, ``tarone``, ``tarone_p``, ``df``.
    """
    a, n1, c, n2 = _tables(ai, n1i, ci, n2i)
    N, m = n1 + n2, a + c
    b, d = n1 - a, n2 - c
    if psi is None:
        psi = float(np.sum(a * d / N) / np.sum(b * c / N))
    if psi == 1:
        A = n1 * m / N
    else:
        qa = psi * (n1 + m) + (n2 - m)
        disc = np.sqrt(qa**2 - 4 * n1 * m * psi * (psi - 1))
        A = (qa - disc) / (2 * (psi - 1))
    pos = (A > 0) & (m > 0) & (N - m > 0)
    A, ap = A[pos], a[pos]
    W = 1 / (1 / A + 1 / (n1[pos] - A) + 1 / (m[pos] - A) + 1 / (A - n1[pos] - m[pos] + N[pos]))
    bd = max(0.0, float(np.sum((ap - A) ** 2 / W)))
    ta = max(0.0, bd - float(np.sum(ap - A) ** 2 / np.sum(W)))
    df = int(pos.sum()) - 1
    return {
        "BD": bd,
        "BD_p": float(stats.chi2.sf(bd, df)) if df > 0 else float("nan"),
        "tarone": ta,
        "tarone_p": float(stats.chi2.sf(ta, df)) if df > 0 else float("nan"),
        "df": df,
    }
