r"""Small-study effects: funnel plot data, Egger's regression test and trim-and-fill (metafor).

**Funnel data**: each study's estimate :math:`y_i` against its standard error, with the pseudo
confidence region :math:`\hat\mu \pm z_{1-\alpha/2}\,\mathrm{SE}` around the pooled estimate
(Sterne & Egger 2001, doi:10.1016/S0895-4356(01)00377-8; metafor ``funnel()``).

**Egger's regression test** as metafor's ``regtest()`` default (``model="rma"``,
``predictor="sei"``): the meta-regression :math:`y_i \sim N(\beta_0 + \beta_1\sqrt{v_i}, v_i + \tau^2)`
with the estimator and test of the original fit; the test of :math:`\beta_1 = 0` is the test for
funnel asymmetry, and :math:`\hat\beta_0` (the estimate at SE = 0) is the "limit estimate"
(Egger et al. 1997, doi:10.1136/bmj.315.7109.629; Sterne & Egger 2005).

**Trim and fill** (Duval & Tweedie 2000, doi:10.1111/j.0006-341X.2000.00455.x), as metafor's
``trimfill()`` with the default ``L0`` estimator: the side with missing studies is the one opposite
to the sign of the slope of ``rma(yi, vi, mods = sqrt(vi))`` (negative slope: missing on the right);
estimates are mirrored so that missing studies are on the left, sorted, and iterated: fit the
model to the :math:`k - k_0` smallest estimates, centre all at its :math:`\hat\mu`, rank
:math:`|y_i - \hat\mu|`, :math:`S_r` = sum of the ranks of positive centred values,
:math:`k_0 = \max\{0, \mathrm{round}((4S_r - k(k+1))/(2k-1))\}`, until :math:`k_0` is stable. The
:math:`k_0` largest are then mirrored about :math:`\hat\mu` and the model refitted to the
:math:`k + k_0` studies (z test, as metafor). With few studies (k < 10) the funnel-based methods
have little power and the Cochrane Handbook advises against them (section 13.3.5.4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bayesmeta.frequentist._display import Displayed
from bayesmeta.frequentist.metareg import rma_mods
from bayesmeta.frequentist.rma import RMAResult, rma

__all__ = ["funnel_data", "regtest", "trimfill", "TrimFillResult"]


def funnel_data(fit: RMAResult, level: float = 0.95, n: int = 100) -> dict:
    """Points and pseudo-confidence region of a funnel plot.

    Returns
    -------
    dict
        ``studies`` (DataFrame: study, yi, sei) and ``region`` (DataFrame: sei from 0 to the
        largest SE, lb, ub at ``level`` around the fit's estimate).
    """
    sei = np.sqrt(fit.vi)
    z = stats.norm.ppf(0.5 + level / 2)
    grid = np.linspace(0.0, float(sei.max()) * 1.05, n)
    return {
        "studies": pd.DataFrame(
            {"study": list(fit.labels) or [f"study {i + 1}" for i in range(fit.k)], "yi": fit.yi, "sei": sei}
        ),
        "region": pd.DataFrame({"sei": grid, "lb": fit.mu - z * grid, "ub": fit.mu + z * grid}),
        "estimate": fit.mu,
        "level": level,
    }


def regtest(fit: RMAResult) -> dict:
    """Egger's regression test for funnel asymmetry, as metafor's ``regtest(fit)`` (model rma, predictor sei).

    Returns
    -------
    dict
        ``stat`` (z or t of the SE coefficient), ``df`` (None for z), ``pval``, ``slope``,
        ``limit_estimate``, ``limit_ci_lb``, ``limit_ci_ub``, ``method``, ``test``, ``k``.
    """
    if fit.k < 3:
        raise ValueError("Egger's test needs k >= 3")
    X = np.column_stack([np.ones(fit.k), np.sqrt(fit.vi)])
    test = "knha" if fit.test in ("knha", "knha_adhoc") else "z"
    m = rma_mods(
        fit.yi,
        fit.vi,
        X,
        names=("intrcpt", "sei"),
        method="EE" if fit.common_effect else fit.method,
        test=test,
        level=fit.level,
    )
    return {
        "stat": float(m.stat[1]),
        "df": m.df,
        "pval": float(m.pval[1]),
        "slope": float(m.beta[1]),
        "limit_estimate": float(m.beta[0]),
        "limit_ci_lb": float(m.ci_lb[0]),
        "limit_ci_ub": float(m.ci_ub[0]),
        "method": m.method,
        "test": m.test,
        "k": fit.k,
    }


@dataclass(frozen=True, repr=False)
class TrimFillResult(Displayed):
    """Trim-and-fill result: the estimated number of missing studies and the filled-in fit."""

    k0: int
    se_k0: float
    side: str
    fit: RMAResult
    filled_yi: np.ndarray
    filled_vi: np.ndarray

    def __str__(self) -> str:
        return (
            f"Trim and fill (L0): {self.k0} studies estimated missing on the {self.side} side "
            f"(SE {self.se_k0:.4f})\n" + str(self.fit)
        )


def trimfill(fit: RMAResult, side: str | None = None, maxiter: int = 100) -> TrimFillResult:
    """Duval & Tweedie's trim and fill with the L0 estimator, as metafor's ``trimfill()``.

    Parameters
    ----------
    fit : RMAResult
        Intercept-only fit; its estimator is used in the iterations and the final fit.
    side : {"left", "right"}, optional
        Side of the missing studies; default from the sign of the slope on sqrt(vi) (metafor; the
        slope model uses the fit's estimator when it is EE, DL, ML or REML, else DL).

    Returns
    -------
    TrimFillResult
    """
    yi0, vi0 = fit.yi, fit.vi
    method = fit.method
    k = yi0.size
    if side is None:
        mm = "EE" if method in ("EE", "FE") else method if method in ("REML", "ML", "DL") else "DL"
        m = rma_mods(yi0, vi0, np.column_stack([np.ones(k), np.sqrt(vi0)]), method=mm)
        side = "right" if m.beta[1] < 0 else "left"
    if side not in ("left", "right"):
        raise ValueError("side must be 'left' or 'right'")
    yi = -yi0 if side == "right" else yi0.copy()
    ix = np.argsort(yi, kind="stable")
    yi, vi = yi[ix], vi0[ix]
    k0, k0_sav, it = 0, -1, 0
    se_k0 = 0.0
    beta = 0.0
    while k0 != k0_sav:
        k0_sav = k0
        it += 1
        if it > maxiter:
            raise RuntimeError("trim and fill did not converge")
        beta = rma(yi[: k - k0], vi[: k - k0], method=method).mu
        yc = yi - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(yc), kind="stable")] = np.arange(1, k + 1)
        sr = float(np.sum((np.sign(yc) * ranks)[yc > 0]))
        k0f = (4 * sr - k * (k + 1)) / (2 * k - 1)
        var_sr = (
            k * (k + 1) * (2 * k + 1)
            + 10 * k0f**3
            + 27 * k0f**2
            + 17 * k0f
            - 18 * k * k0f**2
            - 18 * k * k0f
            + 6 * k**2 * k0f
        ) / 24
        se_k0 = max(0.0, 4 * np.sqrt(var_sr) / (2 * k - 1)) if var_sr >= 0 else float("nan")
        k0 = max(0, int(np.round(k0f)))  # R's round(): half to even, as numpy
    if k0 > 0:
        yc = yi - beta
        fill = -(yc[k - k0 :]) + beta  # mirror the k0 largest about beta (mirrored scale)
        fill = -fill if side == "right" else fill
        yf = np.concatenate([yi0, fill])
        vf = np.concatenate([vi0, vi[k - k0 :]])
        labels = list(fit.labels) + [f"filled {j + 1}" for j in range(k0)]
        res = rma(yf, vf, method=method, level=fit.level, labels=labels)
    else:
        yf, vf, res = yi0, vi0, fit
    return TrimFillResult(k0=k0, se_k0=float(se_k0), side=side, fit=res, filled_yi=yf, filled_vi=vf)


# ----------------------------------------------------------------------------- metafor's regtest / ranktest

_PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")


@dataclass(frozen=True, repr=False)
class RegtestResult:
    """Regression test for funnel-plot asymmetry (metafor ``regtest``): ``zval`` (z, or t with ``df``) and
    ``pval`` of the predictor's coefficient ``slope``; ``est``, ``ci_lb``, ``ci_ub``: the limit estimate
    (intercept, the effect as the predictor goes to 0); ``model``, ``predictor``."""

    zval: float
    pval: float
    df: int | None
    slope: float
    est: float
    ci_lb: float
    ci_ub: float
    model: str
    predictor: str
    k: int

    def __str__(self) -> str:
        m = "weighted regression (lm)" if self.model == "lm" else "meta-regression (rma)"
        st = "z" if self.df is None else f"t({self.df})"
        return (f"Regression test for funnel plot asymmetry: {m}, predictor {self.predictor} (k = {self.k})\n"
                f"  {st} = {self.zval:.4f}, p = {self.pval:.4g}\n"
                f"  limit estimate (as {self.predictor} -> 0): {self.est:.4f} [{self.ci_lb:.4f}, {self.ci_ub:.4f}]")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(str(self))}</pre>"


def _predictor(name: str, vi, ni):
    if name in ("sei", "vi"):
        return np.sqrt(vi) if name == "sei" else vi
    if ni is None:
        raise ValueError(f"predictor {name!r} needs the sample sizes (ni=, or a table made from arm-level data)")
    ni = np.asarray(ni, float)
    return {"ni": ni, "ninv": 1 / ni, "sqrtni": np.sqrt(ni), "sqrtninv": 1 / np.sqrt(ni)}[name]


def egger_test(fit, model: str = "rma", predictor: str = "sei", ni=None) -> RegtestResult:
    """Egger-type regression test (metafor ``regtest(fit, model=, predictor=)``).

    ``model="rma"`` adds the predictor to the fit's model (same estimator and test); ``model="lm"``
    is Egger's original weighted least squares (weights 1/vi, t on k - p - 1 df).
    """
    from bayesmeta.frequentist.model import model_of

    m = model_of(fit)
    if predictor not in _PREDICTORS:
        raise ValueError(f"predictor must be one of {', '.join(_PREDICTORS)}")
    x = _predictor(predictor, m.vi, ni)
    X = np.column_stack([m.X, x])
    names = (*m.names, predictor)
    if model == "rma":
        r = rma_mods(m.yi, m.vi, X, names=names, method=m.method, test=m.test, level=m.level, weights=m.weights)
        b, se, df = r.beta, r.se, r.df
    elif model == "lm":
        w = 1.0 / m.vi
        XtW = X.T * w
        cov = np.linalg.inv(XtW @ X)
        b = cov @ XtW @ m.yi
        res = m.yi - X @ b
        df = m.k - X.shape[1]
        s2 = float(np.sum(w * res**2) / df)
        se = np.sqrt(np.diag(cov) * s2)
    else:
        raise ValueError("model must be 'rma' or 'lm'")
    z = float(b[-1] / se[-1])
    p = float(2 * (stats.norm.sf(abs(z)) if df is None else stats.t.sf(abs(z), df)))
    c = stats.norm.ppf(0.5 + m.level / 2) if df is None else stats.t.ppf(0.5 + m.level / 2, df)
    return RegtestResult(zval=z, pval=p, df=df, slope=float(b[-1]), est=float(b[0]), ci_lb=float(b[0] - c * se[0]),
                         ci_ub=float(b[0] + c * se[0]), model=model, predictor=predictor, k=m.k)


@dataclass(frozen=True, repr=False)
class RanktestResult:
    """Begg and Mazumdar's rank correlation test (metafor ``ranktest``): Kendall's ``tau`` and ``pval``."""

    tau: float
    pval: float
    k: int
    exact: bool

    def __str__(self) -> str:
        return (f"Rank correlation test for funnel plot asymmetry (Begg & Mazumdar 1994; k = {self.k}): "
                f"Kendall's tau = {self.tau:.4f}, p = {self.pval:.4g} ({'exact' if self.exact else 'normal approx.'})")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<pre>{self!s}</pre>"


def ranktest(yi, vi, exact: bool = True) -> RanktestResult:
    r"""Begg & Mazumdar (1994, doi:10.2307/2533446) rank correlation test, as metafor's ``ranktest``:
    Kendall's tau between :math:`(y_i - \hat\theta_{EE})/\sqrt{v_i - V(\hat\theta_{EE})}` and :math:`v_i`
    (exact p-value without ties for k < 50, as R's ``cor.test``; else the normal approximation)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    w = 1 / vi
    theta = np.sum(w * yi) / np.sum(w)
    ys = (yi - theta) / np.sqrt(vi - 1 / np.sum(w))
    ties = len(np.unique(ys)) < ys.size or len(np.unique(vi)) < vi.size
    use_exact = exact and yi.size < 50 and not ties
    r = stats.kendalltau(ys, vi, method="exact" if use_exact else "asymptotic")
    return RanktestResult(tau=float(r.statistic), pval=float(r.pvalue), k=int(yi.size), exact=use_exact)
