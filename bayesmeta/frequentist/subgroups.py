r"""Subgroup analysis and the test for subgroup differences (RevMan 5 and metafor).

Two tests of whether the pooled effect differs between G subgroups:

**RevMan 5** (:func:`subgroup_analysis`, :func:`subgroup_analysis_mh`): each subgroup is pooled
separately (its own :math:`\tau^2_g` under random effects), then Cochran's Q is computed across the
subgroup estimates with their standard errors,

.. math:: Q_b = \sum_g \frac{(\hat\mu_g - \bar\mu)^2}{SE_g^2}, \qquad
          \bar\mu = \frac{\sum_g \hat\mu_g/SE_g^2}{\sum_g 1/SE_g^2}, \qquad Q_b \sim \chi^2_{G-1},

with :math:`I^2_b = \max\{0, (Q_b - (G-1))/Q_b\}` (Deeks & Higgins 2010, "Statistical algorithms
in Review Manager 5"; Borenstein & Higgins 2013, doi:10.1007/s11121-013-0377-7; Cochrane Handbook
6.2, section 10.11.3.1). For the common-effect model this is :math:`Q_{total} - \sum_g Q_g`. It
equals metafor's ``rma(est, sei = se, method = "EE")$QE`` on the subgroup results.

**metafor's mixed-effects model** (:func:`mixed_effects_test`): ``rma(yi, vi, mods = ~ factor(g))``
with one :math:`\tau^2` common to all subgroups, estimated from the residuals; the omnibus Wald test
of the moderators,

.. math:: Q_M = \sum_g W_g (\hat\mu_g - \bar\mu)^2, \qquad W_g = \sum_{i\in g} \frac{1}{v_i + \hat\tau^2},

on G - 1 df (Viechtbauer 2010, doi:10.18637/jss.v036.i03). With the cell-means design matrix
:math:`X`, :math:`P = W - WX(X^\top W X)^{-1}X^\top W` acts as :math:`Py = w \odot (y - \hat\mu_{g(i)})`,
so the estimating equations are sums within groups (``np.bincount``, no loop over groups):

* DL: :math:`\hat\tau^2 = \max\{0, (Q_E - (k - G))/\mathrm{tr}\,P_0\}`, :math:`\mathrm{tr}\,P = \sum_g (\sum_{g} w - \sum_g w^2/\sum_g w)`;
* PM: :math:`y^\top P y = k - G`; REML: :math:`y^\top P P y = \mathrm{tr}\,P`; ML: :math:`y^\top P P y = \sum w`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bayesmeta.frequentist._display import Displayed
from bayesmeta.frequentist.mantel_haenszel import MHResult, rma_mh
from bayesmeta.frequentist.rma import RMAResult, rma

__all__ = ["subgroup_test", "subgroup_analysis", "subgroup_analysis_mh", "mixed_effects_test",
           "SubgroupResult", "MixedEffectsTest"]

_TOL = 1e-14


def subgroup_test(estimates, se) -> dict:
    r"""RevMan's test for subgroup differences from subgroup estimates and their SEs.

    Returns
    -------
    dict
        ``Q_between``, ``df``, ``p``, ``I2_between`` (percent).

    Examples
    --------
    >>> round(subgroup_test([0.0, 1.0], [0.5, 0.5])["Q_between"], 6)  # (0.5^2 + 0.5^2)/0.25
    2.0
    """
    est, se = np.asarray(estimates, float), np.asarray(se, float)
    if est.shape != se.shape or est.ndim != 1 or np.any(se <= 0):
        raise ValueError("estimates and positive SEs must be 1-d arrays of the same length")
    w = 1.0 / se**2
    qb = float(np.sum(w * (est - np.sum(w * est) / w.sum()) ** 2))
    df = est.size - 1
    return {"Q_between": qb, "df": df, "p": float(stats.chi2.sf(qb, df)) if df > 0 else float("nan"),
            "I2_between": 100 * max(0.0, (qb - df) / qb) if qb > 0 else 0.0}


# ----------------------------------------------------------------------------- mixed-effects model

def _codes(groups):
    groups = np.asarray(groups)
    levels = list(dict.fromkeys(groups.tolist()))
    idx = np.array([levels.index(g) for g in groups.tolist()])
    return levels, idx


def _group_fit(yi, vi, idx, G, t):
    """Group means, within-group residuals and group weights for tau^2 = t (arrays over t-grid rows)."""
    t = np.atleast_1d(np.asarray(t, float))[:, None]
    w = 1.0 / (vi + t)  # (m, k)
    m = t.shape[0]
    rows = np.repeat(np.arange(m), yi.size)
    flat = rows * G + np.tile(idx, m)
    W = np.bincount(flat, weights=w.ravel(), minlength=m * G).reshape(m, G)
    WY = np.bincount(flat, weights=(w * yi).ravel(), minlength=m * G).reshape(m, G)
    W2 = np.bincount(flat, weights=(w**2).ravel(), minlength=m * G).reshape(m, G)
    mu = WY / W
    r = yi - mu[:, idx]
    return w, W, W2, mu, r


def _equation(yi, vi, idx, G, t, method):
    w, W, W2, _mu, r = _group_fit(yi, vi, idx, G, t)
    if method == "PM":
        return np.sum(w * r**2, axis=1) - (yi.size - G)
    ypPy = np.sum(w**2 * r**2, axis=1)
    if method == "REML":
        return ypPy - (np.sum(w, axis=1) - np.sum(W2 / W, axis=1))
    return ypPy - np.sum(w, axis=1)  # ML


def _loglik(yi, vi, idx, G, t, method):
    w, W, _, _, r = _group_fit(yi, vi, idx, G, t)
    ll = -0.5 * (np.sum(np.log(vi + t)) + np.sum(w * r**2))
    return float(ll - 0.5 * np.sum(np.log(W))) if method == "REML" else float(ll)


def _tau2_mixed(yi, vi, idx, G, method):
    k = yi.size
    if method == "EE":
        return 0.0
    if method == "DL":
        _, W, W2, _, r = _group_fit(yi, vi, idx, G, 0.0)
        qe = np.sum(r[0] ** 2 / vi)
        return max(0.0, float((qe - (k - G)) / (np.sum(1 / vi) - np.sum(W2 / W))))
    f = lambda t: float(_equation(yi, vi, idx, G, t, method)[0])
    hi = max(100.0 * float(np.var(yi)) + 10.0 * float(np.max(vi)), 1e-8)
    while f(hi) > 0:
        hi *= 10
        if hi > 1e12:
            raise RuntimeError("no root for tau^2 below 1e12")
    if method == "PM":  # Q(tau^2) decreases monotonically
        return 0.0 if f(0.0) <= 0 else float(optimize.brentq(f, 0.0, hi, xtol=_TOL, maxiter=500))
    # ML / REML: the likelihood may be multimodal; compare every local maximum and 0
    grid = np.concatenate([[0.0], np.geomspace(max(float(np.min(vi)), 1e-12) * 1e-6, hi, 400)])
    sc = _equation(yi, vi, idx, G, grid, method)
    cands = [0.0] + [float(optimize.brentq(f, grid[i], grid[i + 1], xtol=_TOL, maxiter=500))
                     for i in np.flatnonzero((sc[:-1] > 0) & (sc[1:] <= 0))]
    return cands[int(np.argmax([_loglik(yi, vi, idx, G, t, method) for t in cands]))]


@dataclass(frozen=True, repr=False)
class MixedEffectsTest(Displayed):
    """metafor's ``rma(yi, vi, mods = ~ factor(group))``: common tau^2, omnibus test QM."""

    method: str
    levels: tuple[str, ...]
    mu: np.ndarray  # subgroup means under the common tau^2
    se: np.ndarray
    tau2: float
    QM: float
    QM_df: int
    QM_p: float
    QE: float
    QE_df: int
    QE_p: float

    def summary(self) -> pd.DataFrame:
        """One row per subgroup: estimate and SE under the common tau^2."""
        return pd.DataFrame({"subgroup": list(self.levels), "estimate": self.mu, "se": self.se})

    def __str__(self) -> str:
        return (f"Mixed-effects test for subgroup differences (common tau^2 by {self.method} = {self.tau2:.4f}): "
                f"QM({self.QM_df}) = {self.QM:.4f}, p = {self.QM_p:.4g}; residual QE({self.QE_df}) = "
                f"{self.QE:.4f}, p = {self.QE_p:.4g}")


def mixed_effects_test(yi, vi, groups, method: str = "REML") -> MixedEffectsTest:
    """Mixed-effects (meta-regression) test for subgroup differences with one common tau^2.

    Parameters
    ----------
    yi, vi : array_like
    groups : array_like
        Subgroup label per study (at least two subgroups; k > number of subgroups).
    method : {"EE", "DL", "REML", "PM", "ML"}
        tau^2 estimator for the residual heterogeneity.
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    groups = np.asarray(groups)
    ok = np.isfinite(yi) & np.isfinite(vi)
    yi, vi, groups = yi[ok], vi[ok], groups[ok]
    method = "EE" if method.upper() == "FE" else method.upper()
    if method not in ("EE", "DL", "REML", "PM", "ML"):
        raise ValueError("method must be EE, DL, REML, PM or ML")
    levels, idx = _codes(groups)
    G, k = len(levels), yi.size
    if G < 2 or k <= G:
        raise ValueError("need at least two subgroups and more studies than subgroups")
    t2 = _tau2_mixed(yi, vi, idx, G, method)
    _, W, _, mu, _ = _group_fit(yi, vi, idx, G, t2)
    W, mu = W[0], mu[0]
    qm = float(np.sum(W * (mu - np.sum(W * mu) / W.sum()) ** 2))
    _, _, _, _, r0 = _group_fit(yi, vi, idx, G, 0.0)
    qe = float(np.sum(r0[0] ** 2 / vi))
    return MixedEffectsTest(method, tuple(map(str, levels)), mu, 1 / np.sqrt(W), t2, qm, G - 1,
                            float(stats.chi2.sf(qm, G - 1)), qe, k - G, float(stats.chi2.sf(qe, k - G)))


# ----------------------------------------------------------------------------- RevMan-style analysis

@dataclass(frozen=True, repr=False)
class SubgroupResult(Displayed):
    """Separate pooled analyses per subgroup, the overall analysis and the tests for differences."""

    subgroups: dict
    overall: RMAResult | MHResult
    Q_between: float
    df: int
    p: float
    I2_between: float
    level: float = 0.95
    model: str = ""
    mixed: MixedEffectsTest | None = field(default=None)

    def summary(self) -> pd.DataFrame:
        """One row per subgroup and one for all studies: k, estimate, se, CI, tau2, I2, Q."""
        pct = f"{100 * self.level:g}".replace(".", "_")
        rows = []
        for g, r in {**self.subgroups, "overall": self.overall}.items():
            if isinstance(r, MHResult):
                rows.append({"subgroup": g, "k": r.k_estimable, "estimate": r.estimate, "se": r.se,
                             f"ci{pct}_lb": r.ci_lb, f"ci{pct}_ub": r.ci_ub, "tau2": 0.0, "I2": r.I2, "Q": r.Q})
            else:
                rows.append({"subgroup": g, "k": r.k, "estimate": r.mu, "se": r.se, f"ci{pct}_lb": r.ci_lb,
                             f"ci{pct}_ub": r.ci_ub, "tau2": r.tau2, "I2": r.I2_revman, "Q": r.Q})
        return pd.DataFrame(rows)

    def test_table(self) -> pd.DataFrame:
        """The test(s) for subgroup differences as a table."""
        rows = [{"test": "RevMan: Q across subgroup estimates (separate tau^2)", "Q": self.Q_between,
                 "df": self.df, "p": self.p, "I2": self.I2_between}]
        if self.mixed is not None:
            m = self.mixed
            rows.append({"test": f"metafor: QM, mixed-effects model (common tau^2, {m.method})", "Q": m.QM,
                         "df": m.QM_df, "p": m.QM_p, "I2": np.nan})
        return pd.DataFrame(rows)

    def __str__(self) -> str:
        lines = [f"Subgroup analysis ({self.model}; {100 * self.level:g}% CIs; I2 as RevMan (Q - df)/Q)",
                 self.summary().to_string(index=False),
                 f"Test for subgroup differences: Chi^2 = {self.Q_between:.2f}, df = {self.df} "
                 f"(P = {self.p:.4g}), I^2 = {self.I2_between:.1f}%"]
        if self.mixed is not None:
            m = self.mixed
            lines.append(f"Mixed-effects model (common tau^2 = {m.tau2:.4f}, {m.method}): QM({m.QM_df}) = {m.QM:.4f}, "
                         f"p = {m.QM_p:.4g}")
        return "\n".join(lines)


def subgroup_analysis(yi, vi, groups, method: str = "DL", test: str = "z", level: float = 0.95,
                      mixed: bool = True) -> SubgroupResult:
    """Pool each subgroup and all studies with :func:`bayesmeta.frequentist.rma.rma`; test for differences.

    Parameters
    ----------
    yi, vi : array_like
        Study estimates and sampling variances (non-finite rows are dropped).
    groups : array_like
        Subgroup label per study (order of first appearance is kept).
    method, test, level
        Passed to :func:`~bayesmeta.frequentist.rma.rma` (RevMan: ``"DL"`` or ``"EE"``, test ``"z"``).
        A subgroup with a single study is reported as that study (common effect).
    mixed : bool
        Also fit metafor's mixed-effects model (common tau^2, same ``method``) when possible.

    Returns
    -------
    SubgroupResult
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    groups = np.asarray(groups)
    if not (yi.shape == vi.shape == groups.shape):
        raise ValueError("yi, vi and groups must have the same length")
    ok = np.isfinite(yi) & np.isfinite(vi)
    yi, vi, groups = yi[ok], vi[ok], groups[ok]
    subs = {}
    for g in dict.fromkeys(groups.tolist()):
        sel = groups == g
        subs[str(g)] = rma(yi[sel], vi[sel], method=method if sel.sum() > 1 else "EE",
                           test=test if sel.sum() > 1 else "z", level=level)
    t = subgroup_test([r.mu for r in subs.values()], [r.se for r in subs.values()])
    mx = None
    if mixed and len(subs) > 1 and yi.size > len(subs):
        mx = mixed_effects_test(yi, vi, groups, method=method)
    overall = rma(yi, vi, method=method, test=test, level=level)
    model = "common effect (inverse variance)" if method.upper() in ("EE", "FE") else f"random effects, {method}"
    return SubgroupResult(subs, overall, t["Q_between"], t["df"], t["p"], t["I2_between"], level, model, mx)


def subgroup_analysis_mh(ai, n1i, ci, n2i, groups, measure: str = "RR", random: bool = False,
                         level: float = 0.95, **mh_kwargs) -> SubgroupResult:
    """RevMan subgroup analysis of 2x2 tables with Mantel-Haenszel pooling.

    ``random=False``: MH common effect per subgroup; ``random=True``: RevMan's DL random effects
    around the MH estimate (:meth:`bayesmeta.frequentist.mantel_haenszel.MHResult.random_effects`). The test for
    subgroup differences uses the subgroup estimates (log scale for RR/OR) and SEs.
    """
    a1, n1, c2, n2 = (np.asarray(x, float) for x in (ai, n1i, ci, n2i))
    groups = np.asarray(groups)
    subs = {}
    for g in dict.fromkeys(groups.tolist()):
        sel = groups == g
        r = rma_mh(a1[sel], n1[sel], c2[sel], n2[sel], measure=measure, level=level, **mh_kwargs)
        subs[str(g)] = r.random_effects() if random and r.k_estimable > 1 else r
    est = [r.mu if isinstance(r, RMAResult) else r.estimate for r in subs.values()]
    t = subgroup_test(est, [r.se for r in subs.values()])
    ov = rma_mh(a1, n1, c2, n2, measure=measure, level=level, **mh_kwargs)
    overall = ov.random_effects() if random else ov
    model = f"Mantel-Haenszel {measure}, " + ("random effects (DL, MH-based Q)" if random else "common effect")
    return SubgroupResult(subs, overall, t["Q_between"], t["df"], t["p"], t["I2_between"], level, model, None)
