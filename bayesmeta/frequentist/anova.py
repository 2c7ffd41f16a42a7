r"""Wald tests of coefficients and linear combinations, and likelihood-ratio tests between nested
fits, as metafor's ``anova``.

* ``btt`` (coefficients by name or position): :math:`Q_M = \hat\beta_{b}^\top V_{b,bb}^{-1}\hat\beta_b`
  on :math:`m` df (or :math:`F = Q_M/m` on :math:`(m, k-p)` df for tests t/knha).
* ``L`` (a :math:`q\times p` matrix of linear combinations): each :math:`L_j\hat\beta` with its SE,
  z (or t) and p, and the omnibus :math:`Q_M = (L\hat\beta)^\top(LV_bL^\top)^{-1}L\hat\beta` on
  :math:`\mathrm{rank}(L)` df (F for t/knha).
* two fits (full, reduced): :math:`LRT = 2(\ell_{full} - \ell_{red})` on the difference in the
  number of parameters; both must be ML or both REML (REML fits must share their fixed effects
  for the test to be meaningful, as metafor warns); with pseudo
  :math:`R^2 = (\hat\tau^2_{red} - \hat\tau^2_{full})/\hat\tau^2_{red}`.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from bayesmeta.frequentist.model import fitstats, model_of

__all__ = ["AnovaResult", "anova", "resolve_btt"]


@dataclass(frozen=True, repr=False)
class AnovaResult:
    """A Wald test (``kind`` ``"wald"``) or a likelihood-ratio test (``"lrt"``).

    Wald: ``QM``, ``QM_df``, ``QM_p`` (F and its df ``QM_df``/``df`` for tests t/knha), ``btt`` and,
    for ``L``, the table ``hyp`` (``estimate``, ``se``, ``zval``/``tval``, ``pval`` per row of L).
    LRT: ``LRT``, ``df``, ``pval``, ``fits`` (logLik, deviance, AIC, BIC, AICc, QE, tau2 of both),
    ``R2`` (percent).
    """

    kind: str
    QM: float = float("nan")
    QM_df: int = 0
    QM_p: float = float("nan")
    df: float | None = None
    btt: tuple[int, ...] = ()
    hyp: pd.DataFrame | None = None
    LRT: float = float("nan")
    pval: float = float("nan")
    fits: pd.DataFrame | None = None
    R2: float = float("nan")
    names: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        if self.kind == "lrt":
            return (f"Likelihood-ratio test (full vs reduced): LRT = {self.LRT:.4f}, df = {self.df:g}, "
                    f"p = {self.pval:.4g}" + (f"; pseudo R^2 = {self.R2:.2f}%" if np.isfinite(self.R2) else "")
                    + "\n" + (self.fits.to_string(float_format=lambda v: f"{v:.4f}") if self.fits is not None else ""))
        head = (f"Test of moderators ({', '.join(self.names)}): QM({self.QM_df}) = {self.QM:.4f}, p = {self.QM_p:.4g}"
                if self.df is None else
                f"Test of moderators ({', '.join(self.names)}): F({self.QM_df}, {self.df:g}) = {self.QM:.4f}, "
                f"p = {self.QM_p:.4g}")
        if self.hyp is not None:
            head += "\n" + self.hyp.to_string(float_format=lambda v: f"{v:.4f}")
        return head

    __repr__ = __str__

    def _repr_html_(self) -> str:
        tab = self.hyp if self.hyp is not None else self.fits
        return f"<pre>{html.escape(str(self).splitlines()[0])}</pre>" + ("" if tab is None else tab.to_html())


def resolve_btt(btt, names: Sequence[str]) -> tuple[int, ...]:
    """Coefficient positions from names (exact, or a prefix such as ``"alloc"`` for ``"alloc[random]"``,
    as metafor's ``btt="alloc"``) or 0-based positions."""
    if isinstance(btt, str | int | np.integer):
        btt = [btt]
    out: list[int] = []
    for b in btt:
        if isinstance(b, str):
            hit = [i for i, n in enumerate(names) if n == b] or [i for i, n in enumerate(names) if n.startswith(b)]
            if not hit:
                raise ValueError(f"btt: no coefficient named {b!r}; coefficients: {', '.join(names)}")
            out += hit
        else:
            i = int(b)
            if not 0 <= i < len(names):
                raise ValueError(f"btt: position {i} out of range 0..{len(names) - 1} ({', '.join(names)})")
            out.append(i)
    return tuple(dict.fromkeys(out))


def linear_combinations(beta, vb, names, df, L, rhs=0.0) -> AnovaResult:
    """Tests of the linear combinations ``L beta = rhs`` (metafor's ``anova(fit, X = L)``): each row
    by z (``df`` None) or t, and all jointly by the Wald statistic ``QM``."""
    Lm = np.atleast_2d(np.asarray(L, float))
    if Lm.shape[1] != len(beta):
        raise ValueError(f"L must have {len(beta)} columns (one per coefficient: {', '.join(names)})")
    est = Lm @ beta
    V = Lm @ vb @ Lm.T
    se = np.sqrt(np.diag(V))
    r = np.broadcast_to(np.asarray(rhs, float), est.shape)
    st = (est - r) / se
    p = 2 * (stats.norm.sf(np.abs(st)) if df is None else stats.t.sf(np.abs(st), df))
    hyp = pd.DataFrame({"estimate": est, "se": se, "zval" if df is None else "tval": st, "pval": p})
    QM, QM_df, QM_p = _wald(est - r, V, df)
    return AnovaResult(kind="wald", QM=QM, QM_df=QM_df, QM_p=QM_p, df=df, hyp=hyp,
                       names=tuple(f"L{j + 1}" for j in range(Lm.shape[0])))


def _wald(b, V, df):
    m = int(np.linalg.matrix_rank(V))
    QM = float(b @ np.linalg.pinv(V) @ b)
    if df is None:
        return QM, m, float(stats.chi2.sf(QM, m))
    return QM / m, m, float(stats.f.sf(QM / m, m, df))


def anova(fit, fit2=None, *, btt=None, L=None, rhs=0.0) -> AnovaResult:
    """Wald test (``btt`` or ``L``) or likelihood-ratio test against a second fit (metafor ``anova``).

    Parameters
    ----------
    fit : RMAResult or MetaRegResult
        The (full) model.
    fit2 : RMAResult or MetaRegResult, optional
        The reduced model (nested in ``fit``): a likelihood-ratio test.
    btt : str, int or sequence, optional
        Coefficients to test jointly (names or 0-based positions); default all but the intercept.
    L : array_like, optional
        Linear combinations (rows) of the coefficients to test.
    rhs : float or array_like
        Values the linear combinations are tested against (default 0).

    Returns
    -------
    AnovaResult
    """
    m = model_of(fit)
    if fit2 is not None:
        m2 = model_of(fit2)
        if m.yi.shape != m2.yi.shape or not np.allclose(m.yi, m2.yi) or not np.allclose(m.vi, m2.vi):
            raise ValueError("the two fits are not to the same data")
        if m.method not in ("ML", "REML", "EE") or m2.method not in ("ML", "REML", "EE") or \
                (m.method == "REML") != (m2.method == "REML"):
            # as metafor: a warning, no likelihood-ratio test, the pseudo R^2 of the two tau^2 estimates
            warnings.warn("a likelihood-ratio test needs two ML fits or two REML fits (method='ML' or 'REML'); "
                          "only the pseudo R^2 is computed", UserWarning, stacklevel=2)
            full, red = (m, m2) if m.p >= m2.p else (m2, m)
            r2 = 100 * max(0.0, (red.tau2 - full.tau2) / red.tau2) if red.tau2 > 0 else float("nan")
            return AnovaResult(kind="lrt", df=float(full.p - red.p), R2=r2)
        reml = "REML" in (m.method, m2.method)
        if reml and m.p != m2.p:
            warnings.warn("REML likelihoods of models with different fixed effects are not comparable: "
                          "refit both with method='ML'", UserWarning, stacklevel=2)
        f1, f2 = fitstats(fit, reml=reml), fitstats(fit2, reml=reml)
        if f1["n_par"] < f2["n_par"]:
            (fit, fit2), (m, m2), (f1, f2) = (fit2, fit), (m2, m), (f2, f1)
        lrt = max(0.0, 2 * (f1["logLik"] - f2["logLik"]))
        dfd = f1["n_par"] - f2["n_par"]
        qe = [getattr(fit, "QE", getattr(fit, "Q", np.nan)), getattr(fit2, "QE", getattr(fit2, "Q", np.nan))]
        fits = pd.DataFrame([{**{k: f[k] for k in ("n_par", "AIC", "BIC", "AICc", "logLik")}, "LRT": v,
                              "pval": pv, "QE": q, "tau2": mm.tau2}
                             for f, v, pv, q, mm in ((f1, np.nan, np.nan, qe[0], m),
                                                     (f2, lrt, float(stats.chi2.sf(lrt, dfd)), qe[1], m2))],
                            index=["full", "reduced"])
        r2 = 100 * max(0.0, (m2.tau2 - m.tau2) / m2.tau2) if m2.tau2 > 0 and m.method != "EE" else float("nan")
        return AnovaResult(kind="lrt", LRT=lrt, df=dfd, pval=float(stats.chi2.sf(lrt, dfd)), fits=fits, R2=r2)
    if L is not None:
        return linear_combinations(m.beta, m.vb, m.names, m.df, L, rhs)
    if btt is None:
        b = tuple(j for j in range(m.p) if not np.all(m.X[:, j] == 1.0))
    else:
        b = resolve_btt(btt, m.names)
    if not b:
        raise ValueError("nothing to test: the model has only an intercept (give btt= or L=)")
    QM, QM_df, QM_p = _wald(m.beta[list(b)], m.vb[np.ix_(b, b)], m.df)
    return AnovaResult(kind="wald", QM=QM, QM_df=QM_df, QM_p=QM_p, df=m.df, btt=b,
                       names=tuple(m.names[j] for j in b))
