r"""One view of a fitted normal-normal model, whatever estimator made it (metafor's ``rma.uni`` object).

:func:`model_of` reads an intercept-only fit (:class:`~bayesmeta.frequentist.rma.RMAResult`) or a
meta-regression (:class:`~bayesmeta.frequentist.metareg.MetaRegResult`) as a :class:`Model`: the
data (``yi``, ``vi``, design ``X``), the settings (estimator, test, level) and the estimates
(``beta``, ``vb``, ``tau2``, Knapp-Hartung factor ``s2w``). The post-fit verbs (``blup``, ``predict``,
``confint``, ``anova``, ``robust``, ``influence``, ...) take this view, so each is written once.

Log-likelihoods as metafor's ``logLik`` / ``fitstats`` (Viechtbauer 2005, doi:10.3102/10769986030003261),
with :math:`W = \mathrm{diag}\{1/(v_i + \tau^2)\}`, :math:`P = W - WX(X^\top WX)^{-1}X^\top W`:

.. math::
    \ell_{ML} = -\tfrac12\{k\log 2\pi + \textstyle\sum\log(v_i + \tau^2) + y^\top P y\},\qquad
    \ell_{REML} = -\tfrac12\{(k-p)\log 2\pi - \log|X^\top X| + \textstyle\sum\log(v_i + \tau^2)
    + \log|X^\top WX| + y^\top P y\}.

The number of parameters is :math:`p` plus one for an estimated :math:`\tau^2`; AIC, BIC and AICc as
metafor (REML criteria use :math:`k - p` observations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Model", "fitstats", "loglik", "model_of", "refit"]


@dataclass(frozen=True)
class Model:
    """A fitted normal-normal model (see the module docstring)."""

    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    names: tuple[str, ...]
    labels: tuple[str, ...]
    method: str
    test: str
    level: float
    beta: np.ndarray
    vb: np.ndarray
    tau2: float
    s2w: float
    df: int | None
    tau2_fixed: bool
    weights: np.ndarray | None
    fit: object

    @property
    def k(self) -> int:
        return int(self.yi.size)

    @property
    def p(self) -> int:
        return int(self.X.shape[1])

    @property
    def intercept_only(self) -> bool:
        return self.p == 1 and bool(np.all(self.X == 1.0))

    def crit(self, level: float | None = None) -> float:
        """Critical value of the fit's test (normal, or t with the fit's df)."""
        a = 0.5 + (self.level if level is None else level) / 2
        return float(stats.norm.ppf(a) if self.df is None else stats.t.ppf(a, self.df))


def model_of(fit) -> Model:
    """The :class:`Model` view of an ``rma`` fit (intercept-only or meta-regression)."""
    from bayesmeta.frequentist.metareg import MetaRegResult
    from bayesmeta.frequentist.rma import RMAResult

    if isinstance(fit, RMAResult):
        s2w = 1.0
        if fit.hk_scale is not None:
            s2w = max(1.0, fit.hk_scale) if fit.test == "knha_adhoc" else fit.hk_scale
        return Model(yi=fit.yi, vi=fit.vi, X=np.ones((fit.k, 1)), names=("intrcpt",),
                     labels=tuple(fit.labels) or tuple(f"study {i + 1}" for i in range(fit.k)),
                     method=fit.method if fit.method != "FE" else "EE", test=fit.test, level=fit.level,
                     beta=np.array([fit.mu]), vb=np.array([[fit.se**2]]), tau2=fit.tau2, s2w=float(s2w),
                     df=None if fit.df is None else int(fit.df), tau2_fixed=fit.tau2_fixed,
                     weights=fit.genq_weights, fit=fit)
    if isinstance(fit, MetaRegResult):
        return Model(yi=fit.yi, vi=fit.vi, X=fit.X, names=tuple(fit.names),
                     labels=tuple(fit.labels) or tuple(f"study {i + 1}" for i in range(fit.k)),
                     method=fit.method, test=fit.test, level=fit.level, beta=fit.beta, vb=fit.vb, tau2=fit.tau2,
                     s2w=fit.s2w, df=fit.df, tau2_fixed=fit.tau2_fixed, weights=fit.weights, fit=fit)
    raise TypeError(f"expected a fit of bm.rma (intercept-only or with mods), not {type(fit).__name__}")


def refit(m: Model, yi=None, vi=None, X=None, keep=None, tau2: float | None = None, method: str | None = None):
    """Refit the model's estimator and test to other data (``keep``: a boolean mask of the studies)."""
    from bayesmeta.frequentist.metareg import rma_mods

    yi = m.yi if yi is None else yi
    vi = m.vi if vi is None else vi
    X = m.X if X is None else X
    w = m.weights
    if keep is not None:
        yi, vi, X = yi[keep], vi[keep], X[keep]
        w = None if w is None else w[keep]
    return rma_mods(yi, vi, X, names=m.names, method=method or m.method, test=m.test, level=m.level,
                    tau2=m.tau2 if (tau2 is None and m.tau2_fixed) else tau2, weights=w)


def loglik(yi, vi, X, tau2: float, reml: bool) -> float:
    """(Restricted) log-likelihood at ``tau2``, with metafor's constants (see the module docstring)."""
    yi, vi, X = np.asarray(yi, float), np.asarray(vi, float), np.asarray(X, float)
    k, p = X.shape
    w = 1.0 / (vi + tau2)
    XtW = X.T * w
    A = XtW @ X
    beta = np.linalg.solve(A, XtW @ yi)
    r = yi - X @ beta
    rss = float(np.sum(w * r**2))
    if not reml:
        return float(-0.5 * (k * np.log(2 * np.pi) + np.sum(np.log(vi + tau2)) + rss))
    return float(-0.5 * ((k - p) * np.log(2 * np.pi) - np.linalg.slogdet(X.T @ X)[1] + np.sum(np.log(vi + tau2))
                         + np.linalg.slogdet(A)[1] + rss))


def fitstats(fit, reml: bool | None = None) -> dict:
    """logLik, deviance, AIC, BIC and AICc of a fit, as metafor's ``fitstats`` (REML for REML fits).

    Returns
    -------
    dict
        ``logLik``, ``deviance``, ``AIC``, ``BIC``, ``AICc``, ``n_par``, ``reml``.
    """
    m = model_of(fit)
    reml = (m.method == "REML") if reml is None else reml
    k, p = m.k, m.p
    ll = loglik(m.yi, m.vi, m.X, m.tau2, reml)
    n_par = p + (0 if (m.method == "EE" or m.tau2_fixed) else 1)
    n = k - p if reml else k
    if reml:
        dev = -2 * ll
    else:  # against the saturated model, as metafor's dev.ML
        dev = -2 * (ll - float(np.sum(stats.norm.logpdf(m.yi, m.yi, np.sqrt(m.vi)))))
    aicc = -2 * ll + 2 * n_par * max(n, n_par + 2) / (max(n, n_par + 2) - n_par - 1)
    return {"logLik": ll, "deviance": float(dev), "AIC": -2 * ll + 2 * n_par,
            "BIC": -2 * ll + n_par * np.log(n), "AICc": float(aicc), "n_par": n_par, "reml": reml}
