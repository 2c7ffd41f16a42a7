r"""Selection models with a continuous selection function (beta, half-normal, negative-exponential,
logistic, power, negative-exponential-power), fitted by maximum likelihood as metafor's ``selmodel``.

A study with one-sided p-value :math:`p_i` (``alternative="greater"``: :math:`1 - \Phi(y_i/s_i)`;
``"less"``: :math:`\Phi(y_i/s_i)`; ``"two.sided"``: :math:`2(1 - \Phi(|y_i|/s_i))`) is published with
relative probability :math:`w(p_i; \delta)`, so that its estimate has the weighted density

.. math::

    f(y_i) = \frac{w(p_i; \delta)\, \phi\big((y_i - x_i^\top\beta)/\sigma_i\big)/\sigma_i}{A_i},\qquad
    A_i = \int w(p(y); \delta)\, \phi\big((y - x_i^\top\beta)/\sigma_i\big)/\sigma_i\, dy,
    \qquad \sigma_i^2 = v_i + \tau^2 .

The selection functions are metafor's (``selmodel.rma.uni``, version 3.8-1), with
:math:`\alpha` the optional ``steps`` value below which :math:`w = 1` (default 0) and :math:`c_i`
the precision multiplier (1 unless ``prec`` is given):

========== ============================================================ =============== =========
type       :math:`w(p)` for :math:`p > \alpha`                            bounds of delta pval.min
========== ============================================================ =============== =========
beta       :math:`p^{\delta_1 - 1}(1 - p)^{\delta_2 - 1}` (no ``steps``)    [1e-5, 100]     1e-5
halfnorm   :math:`\exp(-\delta c_i p^2)/\exp(-\delta c_i \alpha^2)`        [0, 100]        0
negexp     :math:`\exp(-\delta c_i p)/\exp(-\delta c_i \alpha)`            [0, 100]        0
logistic   :math:`\frac{2e^{-\delta c_i p}}{1 + e^{-\delta c_i p}}`
           divided by its value at :math:`\alpha`                        [0, 100]        0
power      :math:`(1 - p)^{\delta c_i}/(1 - \alpha)^{\delta c_i}`          [0, 100]        1e-5
negexppow  :math:`\exp(-\delta_1 c_i p^{1/\delta_2})` / value at alpha     [0, 100]        0
halfnorm2, negexp2, logistic2, power2
           :math:`(\delta_1 + w_1(p; \delta_2))/(1 + \delta_1)`          [0, 100]        as w_1
trunc      1 for :math:`y_i` beyond the cut-point ``steps`` (default 0;   [0, 100]        --
           above it for ``greater``), :math:`\delta` otherwise
           (metafor >= 4.2; closed-form normalising constant)
========== ============================================================ =============== =========

p-values are clamped to ``[pval.min, 1 - pval.min]`` in both the data term and the integral
(metafor does the same; it keeps the beta and power weights finite at 0 and 1). The hypothesis of
no selection is :math:`\delta = (1, 1)` for the beta model, :math:`\delta = 1` for trunc and
:math:`\delta = 0` otherwise; the
likelihood-ratio test compares with the ML fit without selection on as many degrees of freedom as
there are estimated :math:`\delta` (``LRT``, ``LRTdf``, ``LRTp``).

Computation. metafor integrates :math:`A_i` with R's adaptive ``integrate`` over the real line
(``rel.tol`` :math:`1.2\times 10^{-4}`), one study at a time, and maximises with BFGS on
:math:`(\beta, \log\tau^2, \mathrm{logit}\,\delta)`. Here :math:`A_i` is computed on the
standardised scale :math:`z = y/s_i`, on which :math:`p` depends on :math:`z` alone: beyond the
points where the (clamped) weight is constant the integral is a normal tail probability, and in
between a composite Gauss-Legendre rule (16 nodes per panel of width at most 1, panel edges at the
clamp points, at :math:`\alpha` and at 0 for two-sided p-values) is exact to about 1e-13 because
the normal density has standard deviation :math:`\sigma_i/s_i \ge 1` on this scale (for two-sided
p-values the panels are graded geometrically towards :math:`z = 0`, where :math:`1 - p \propto |z|`). The nodes are
shared by all studies, so one likelihood costs one matrix product. The optimiser is SLSQP on
:math:`(\beta, \tau, \delta)` within metafor's bounds, from metafor's starting values and two more;
standard errors come from a Richardson-extrapolated central-difference Hessian of :math:`-\log L`
on :math:`(\beta, \tau^2, \delta)` (metafor: ``numDeriv::hessian``), with :math:`\tau^2` included
also at :math:`\hat\tau^2 \approx 0` as metafor does.

References
----------
Citkowicz M, Vevea JL (2017). A parsimonious weight function for modeling publication bias.
    Psychological Methods 22:28-41. doi:10.1037/met0000119 (beta selection model)
Preston C, Ashby D, Smyth R (2004). Adjusting for publication bias: modelling the selection
    process. Journal of Evaluation in Clinical Practice 10:313-322. doi:10.1111/j.1365-2753.2003.00457.x
    (half-normal, negative-exponential, logistic and power selection functions)
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).
    doi:10.18637/jss.v036.i03 (``selmodel``, metafor >= 2.5)

Examples
--------
>>> import numpy as np
>>> y = np.array([0.9, 0.2, 0.6, 0.1, 0.5, 0.05, 0.7, -0.1, 0.4, 0.3, 0.8, 0.35])
>>> v = np.array([0.04, 0.03, 0.05, 0.02, 0.06, 0.01, 0.05, 0.03, 0.04, 0.02, 0.05, 0.03])
>>> fit = selmodel_family(y, v, type="negexp")
>>> fit.LRTdf
1
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from bayesmeta.frequentist._display import Displayed

__all__ = ["FAMILIES", "SelectionFamilyResult", "selmodel_family", "family_loglik", "profile_loglik"]

ALTERNATIVES = ("greater", "less", "two.sided")
PRECISIONS = ("sei", "vi", "ninv", "sqrtninv")


@dataclass(frozen=True)
class _Family:
    n_delta: int
    delta_min: tuple[float, ...]
    delta_max: tuple[float, ...]
    delta_init: tuple[float, ...]
    H0: tuple[float, ...]
    pval_min: float
    steps_allowed: bool
    # log w(p, delta, preci, alpha) for p > alpha (p already clamped); broadcasting
    logw: Callable[..., np.ndarray]
    truncation: bool = False   # metafor's 'trunc': weight 1 beyond a cut-point on the y scale, delta before it


def _log_ratio(f):
    """log w(p) - log w(alpha) for a one-parameter family given by log f(p, d)."""
    return lambda p, d, c, a: f(p, d[0] * c) - f(a, d[0] * c)


def _lf_halfnorm(p, d):
    return -d * p**2


def _lf_negexp(p, d):
    return -d * p


def _lf_logistic(p, d):
    return np.log(2.0) - d * p - np.log1p(np.exp(-d * p))


def _lf_power(p, d):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d == 0, 0.0, d * np.log1p(-p))


def _lf_beta(p, d, c, a):
    return (d[0] - 1) * np.log(p) + (d[1] - 1) * np.log1p(-p)


def _lf_negexppow(p, d, c, a):
    with np.errstate(divide="ignore"):
        return -d[0] * c * (p ** (1 / d[1]) - a ** (1 / d[1]))


def _two(f):
    """metafor's '2' variants: (delta_1 + w(p; delta_2)) / (1 + delta_1)."""
    def lw(p, d, c, a):
        inner = f(p, d[1] * c) - f(a, d[1] * c)
        with np.errstate(divide="ignore", invalid="ignore"):
            ld = np.where(d[0] > 0, np.log(np.maximum(d[0], 1e-300)), -np.inf)
        return np.logaddexp(ld, inner) - np.log1p(d[0])
    return lw


_ONE = dict(n_delta=1, delta_min=(0.0,), delta_max=(100.0,), delta_init=(1.0,), H0=(0.0,), steps_allowed=True)
_TWO = dict(n_delta=2, delta_min=(0.0, 0.0), delta_max=(100.0, 100.0), delta_init=(1.0, 0.25), H0=(0.0, 0.0),
            steps_allowed=True)
FAMILIES: dict[str, _Family] = {
    "beta": _Family(n_delta=2, delta_min=(1e-5, 1e-5), delta_max=(100.0, 100.0), delta_init=(1.0, 1.0),
                    H0=(1.0, 1.0), pval_min=1e-5, steps_allowed=False, logw=_lf_beta),
    "halfnorm": _Family(**_ONE, pval_min=0.0, logw=_log_ratio(_lf_halfnorm)),  # type: ignore[arg-type]
    "negexp": _Family(**_ONE, pval_min=0.0, logw=_log_ratio(_lf_negexp)),  # type: ignore[arg-type]
    "logistic": _Family(**_ONE, pval_min=0.0, logw=_log_ratio(_lf_logistic)),  # type: ignore[arg-type]
    "power": _Family(**_ONE, pval_min=1e-5, logw=_log_ratio(_lf_power)),  # type: ignore[arg-type]
    "negexppow": _Family(n_delta=2, delta_min=(0.0, 0.0), delta_max=(100.0, 100.0), delta_init=(1.0, 1.0),
                         H0=(0.0, 0.0), pval_min=0.0, steps_allowed=True, logw=_lf_negexppow),
    "halfnorm2": _Family(**_TWO, pval_min=0.0, logw=_two(_lf_halfnorm)),  # type: ignore[arg-type]
    "negexp2": _Family(**_TWO, pval_min=0.0, logw=_two(_lf_negexp)),  # type: ignore[arg-type]
    "logistic2": _Family(**_TWO, pval_min=0.0, logw=_two(_lf_logistic)),  # type: ignore[arg-type]
    "power2": _Family(**_TWO, pval_min=1e-5, logw=_two(_lf_power)),  # type: ignore[arg-type]
    "trunc": _Family(n_delta=1, delta_min=(0.0,), delta_max=(100.0,), delta_init=(1.0,), H0=(1.0,), pval_min=0.0,
                     steps_allowed=True, logw=_lf_beta, truncation=True),
}


def pvalues(yi, vi, alternative: str = "greater") -> np.ndarray:
    """One-sided (``greater``/``less``) or two-sided p-values of :math:`y_i/s_i` (metafor's ``.selmodel.pval``)."""
    z = np.asarray(yi, float) / np.sqrt(np.asarray(vi, float))
    if alternative == "two.sided":
        return 2 * special.ndtr(-np.abs(z))
    return special.ndtr(-z) if alternative == "greater" else special.ndtr(z)


def _p_of_z(z, alternative):
    if alternative == "two.sided":
        return 2 * special.ndtr(-np.abs(z))
    return special.ndtr(-z) if alternative == "greater" else special.ndtr(z)


_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


class _Quadrature:
    """Nodes on the standardised scale z = y/s_i and the constant weights beyond them."""

    def __init__(self, fam: _Family, alternative: str, alpha: float):
        pmin = fam.pval_min
        two = alternative == "two.sided"
        Z = float(stats.norm.isf(pmin / 2 if two else pmin)) if pmin > 0 else 8.5
        cuts = [-Z, Z]
        if alpha > 0:
            za = float(stats.norm.isf(alpha / 2 if two else alpha))
            cuts += [za, -za] if two else [za if alternative == "greater" else -za]
        if two:
            # p = 2(1 - Phi(|z|)) is 1 - c|z| near 0, so weights such as (1 - p)^(delta - 1) behave like
            # |z|^gamma there: panels graded geometrically towards 0 (and the clamp 1 - pval.min) keep
            # Gauss-Legendre exponentially convergent
            cuts += [0.0] + [sg * 10.0**j for j in range(-6, 0) for sg in (1, -1)]
            if pmin > 0:
                zc = float(stats.norm.isf((1 - pmin) / 2))
                cuts += [zc, -zc]
        cuts = sorted(c for c in set(cuts) if -Z <= c <= Z)
        edges: list[float] = []
        for a, b in itertools.pairwise(cuts):
            n = max(1, int(np.ceil(b - a)))
            edges.extend(np.linspace(a, b, n + 1)[:-1])
        edges.append(cuts[-1])
        e = np.asarray(edges)
        half = np.diff(e) / 2
        mid = (e[:-1] + e[1:]) / 2
        self.z = (mid[:, None] + half[:, None] * _GL_X[None, :]).ravel()
        self.w = (half[:, None] * _GL_W[None, :]).ravel()
        self.Z = Z
        self.p = np.clip(_p_of_z(self.z, alternative), pmin, 1 - pmin)
        # p beyond the outer cut-points (clamped), +Z side and -Z side
        self.p_hi = float(np.clip(_p_of_z(np.inf, alternative), pmin, 1 - pmin))
        self.p_lo = float(np.clip(_p_of_z(-np.inf, alternative), pmin, 1 - pmin))


def _logw(fam: _Family, p, delta, preci, alpha):
    """log weight; p shape (..., n) broadcast against preci (k, 1); 0 for p <= alpha."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lw = fam.logw(p, delta, preci, alpha)
    return np.where(p <= alpha, 0.0, lw) if alpha > 0 else lw


@dataclass
class _Problem:
    fam: _Family
    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    preci: np.ndarray
    alternative: str
    alpha: float

    def __post_init__(self):
        self.sei = np.sqrt(self.vi)
        self.q = _Quadrature(self.fam, self.alternative, 0.0 if self.fam.truncation else self.alpha)
        p = np.clip(pvalues(self.yi, self.vi, self.alternative), self.fam.pval_min, 1 - self.fam.pval_min)
        self.p = p
        self.varies = bool(np.ptp(self.preci) > 0)

    def loglik(self, beta, tau2, delta) -> float:
        """metafor's log-likelihood (``.selmodel.ll.cont``) at (beta, tau2, delta), tau2 unclamped."""
        return float(self.loglik_batch(np.atleast_2d(np.asarray(beta, float)), np.atleast_1d(float(tau2)),
                                       np.atleast_2d(np.asarray(delta, float)))[0])

    def loglik_batch(self, B, T, D) -> np.ndarray:
        """Log-likelihoods at P parameter sets at once: B (P, p), T (P,), D (P, n_delta); -inf where undefined."""
        if self.fam.truncation:
            return self._loglik_trunc(B, T, D)
        fam, q, alpha = self.fam, self.q, self.alpha
        c = self.preci[None, :, None]
        d = D.T[:, :, None, None]                                   # (n_delta, P, 1, 1)
        var = self.vi[None, :] + T[:, None]                         # (P, k)
        ok = np.all(var > 0, axis=1)
        var = np.where(var > 0, var, 1.0)
        yhat = B @ self.X.T                                         # (P, k)
        sd = np.sqrt(var)
        with np.errstate(all="ignore"):
            lw_data = _logw(fam, self.p[None, :, None], d, c, alpha)[..., 0]
            # A_i on the z scale: the density of z = y/s_i is N(yhat/s_i, sd^2/s_i^2)
            m = (yhat / self.sei)[..., None]
            r = (sd / self.sei)[..., None]
            lw_nodes = _logw(fam, q.p[None, None, :], d, c if self.varies else c[:, :1], alpha)
            dens = np.exp(-0.5 * ((q.z - m) / r) ** 2 - lw_nodes * -1.0) / r
            A = (dens @ q.w) / np.sqrt(2 * np.pi)
            w_hi = np.exp(_logw(fam, np.array([[[q.p_hi]]]), d, c, alpha))[..., 0]
            w_lo = np.exp(_logw(fam, np.array([[[q.p_lo]]]), d, c, alpha))[..., 0]
            A = A + w_hi * special.ndtr((m[..., 0] - q.Z) / r[..., 0]) + w_lo * special.ndtr((-q.Z - m[..., 0]) / r[..., 0])
            ll = lw_data - 0.5 * (np.log(2 * np.pi * var) + (self.yi - yhat) ** 2 / var) - np.log(A)
            out = np.sum(ll, axis=1)
        return np.where(ok & np.isfinite(out), out, -np.inf)


    def _loglik_trunc(self, B, T, D) -> np.ndarray:
        """'trunc' (metafor >= 4.2, ``.selmodel.ll.trunc``): w = 1 for y beyond the cut-point ``alpha`` (above it
        for ``greater``), delta otherwise; A_i = 1 - (1 - delta) P(y on delta's side), in closed form."""
        var = self.vi[None, :] + T[:, None]
        ok = np.all(var > 0, axis=1)
        var = np.where(var > 0, var, 1.0)
        sd = np.sqrt(var)
        yhat = B @ self.X.T
        d = D[:, :1]
        cut = self.alpha
        with np.errstate(all="ignore"):
            if self.alternative == "greater":
                lw = np.where(self.yi[None, :] > cut, 0.0, np.log(d))
                A = 1 - (1 - d) * special.ndtr((cut - yhat) / sd)
            else:
                lw = np.where(self.yi[None, :] < cut, 0.0, np.log(d))
                A = 1 - (1 - d) * special.ndtr((yhat - cut) / sd)
            ll = lw - 0.5 * (np.log(2 * np.pi * var) + (self.yi - yhat) ** 2 / var) - np.log(A)
            out = np.sum(ll, axis=1)
        return np.where(ok & np.isfinite(out), out, -np.inf)


def family_loglik(yi, vi, type: str, beta, tau2, delta, alternative: str = "greater", X=None, preci=None,
                  steps: float = 0.0) -> float:
    """Log-likelihood of a continuous selection model at given parameters (metafor's ``ll``)."""
    yi = np.asarray(yi, float)
    vi = np.asarray(vi, float)
    X = np.ones((yi.size, 1)) if X is None else np.asarray(X, float)
    pr = np.ones(yi.size) if preci is None else np.asarray(preci, float)
    return _Problem(FAMILIES[type], yi, vi, X, pr, alternative, steps).loglik(np.atleast_1d(beta), tau2, delta)


def _hessian(fb, x, h):
    """Hessian of f by central differences with one Richardson step (steps h and h/2); ``fb`` evaluates f
    at a batch of points (rows), so the whole stencil costs one call."""
    n = x.size
    E = np.eye(n)
    pts = [x]
    for hh in (h, h / 2):
        for a in range(n):
            pts += [x + hh[a] * E[a], x - hh[a] * E[a]]
            for b in range(a + 1, n):
                for sa, sb in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                    pts.append(x + sa * hh[a] * E[a] + sb * hh[b] * E[b])
    vals = iter(fb(np.array(pts)))
    f0 = next(vals)
    Hs = []
    for hh in (h, h / 2):
        out = np.empty((n, n))
        for a in range(n):
            fp, fm = next(vals), next(vals)
            out[a, a] = (fp - 2 * f0 + fm) / hh[a] ** 2
            for b in range(a + 1, n):
                pp, pm, mp, mm = next(vals), next(vals), next(vals), next(vals)
                out[a, b] = out[b, a] = (pp - pm - mp + mm) / (4 * hh[a] * hh[b])
        Hs.append(out)
    return (4 * Hs[1] - Hs[0]) / 3


def _fit(prob: _Problem, random: bool, delta_fixed: np.ndarray, beta0, tau20: float, starts_delta,
         tau2_fixed: float = 0.0):
    """Maximise over the free parameters: beta (scaled), tau = sqrt(tau2) >= 0, free delta within bounds.

    SLSQP (bounds) with the gradient by central differences, the 2n + 1 points of each evaluation in
    one batched likelihood call. (L-BFGS-B finds the same optimum but is 5-10 times slower here: its
    BLAS calls contend for threads on a shared machine.)"""
    fam = prob.fam
    p = prob.X.shape[1]
    free = np.isnan(delta_fixed)
    scale = float(np.sqrt(np.mean(prob.vi)))

    def unpack_batch(Xb):
        B = Xb[:, :p] * scale
        T = (Xb[:, p] * scale) ** 2 if random else np.full(Xb.shape[0], tau2_fixed)
        D = np.tile(delta_fixed, (Xb.shape[0], 1))
        D[:, free] = Xb[:, p + random:]
        return B, T, D

    def fg(x):
        n = x.size
        h = 1e-6 * np.maximum(1.0, np.abs(x))
        pts = np.vstack([x, x + np.diag(h), x - np.diag(h)])
        v = -prob.loglik_batch(*unpack_batch(pts))
        v = np.where(np.isfinite(v), v, 1e300)
        g = (v[1:n + 1] - v[n + 1:]) / (2 * h)
        return float(v[0]), np.where(np.isfinite(g) & (np.abs(g) < 1e200), g, 0.0)

    lo = np.asarray(fam.delta_min)[free]
    hi = np.asarray(fam.delta_max)[free]
    bounds = [(None, None)] * p + ([(0.0, None)] if random else []) + list(zip(lo, hi))
    best = None
    seen: list = []
    for ds in starts_delta:
        x0 = np.concatenate([np.asarray(beta0, float) / scale, [np.sqrt(max(tau20, 0.0) + 0.001 * scale**2) / scale]
                             if random else [], np.clip(np.asarray(ds, float)[free], lo, hi)])
        if any(np.array_equal(x0, s_) for s_ in seen):
            continue
        seen.append(x0)
        r = optimize.minimize(fg, x0, jac=True, method="SLSQP", bounds=bounds, options={"ftol": 1e-12, "maxiter": 1000})
        if best is None or r.fun < best.fun:
            best = r
    assert best is not None
    best = optimize.minimize(fg, best.x, jac=True, method="SLSQP", bounds=bounds,
                             options={"ftol": 1e-15, "maxiter": 1000})
    B, T, D = unpack_batch(best.x[None, :])
    return (B[0], float(T[0]), D[0]), -float(best.fun)


def _standard_errors(prob: _Problem, beta, tau2, dl, free, free_tau: bool, sc: float) -> np.ndarray:
    """sqrt(diag(inverse Hessian of -ll)) on (beta, [tau2], free delta); NaN when not positive definite."""
    p_ = beta.size
    x = np.concatenate([beta, [tau2] if free_tau else [], dl[free]])

    def nllb(Z):
        D = np.tile(dl, (Z.shape[0], 1))
        D[:, free] = Z[:, p_ + free_tau:]
        T = Z[:, p_] if free_tau else np.full(Z.shape[0], tau2)
        return -prob.loglik_batch(Z[:, :p_], T, D)

    h = 1e-4 * np.maximum(np.abs(x), np.concatenate([np.full(p_, sc), [sc**2] if free_tau else [],
                                                       np.full(free.size, 0.1)]))
    if free_tau:
        h[p_] = min(h[p_], 0.2 * (tau2 + float(np.min(prob.vi))))
    with np.errstate(all="ignore"):
        Hm = _hessian(nllb, x, h)
        try:
            L = np.linalg.cholesky(Hm)
        except np.linalg.LinAlgError:
            return np.full(x.size, np.nan)
        Li = np.linalg.inv(L)
        return np.sqrt(np.sum(Li**2, axis=0))


@dataclass(frozen=True, repr=False)
class SelectionFamilyResult(Displayed):
    r"""Maximum-likelihood selection model with a continuous selection function (immutable).

    Field names follow metafor's ``rma.uni.selmodel`` object.

    Attributes
    ----------
    type, alternative, method : str
        Selection function, direction of the p-values, ``"ML"`` (random effects) or ``"EE"``.
    names : tuple of str
        Coefficient names (``"intrcpt"`` first).
    beta, se, zval, pval, ci_lb, ci_ub : ndarray
        Coefficients under selection, Wald SEs, z, p-values and CIs (``mu`` is ``beta[0]`` for an
        intercept-only model).
    tau2, se_tau2 : float
        :math:`\hat\tau^2` (0 for EE) and its SE (NaN for EE).
    delta, se_delta, zval_delta, pval_delta, ci_lb_delta, ci_ub_delta : ndarray
        Selection parameters; z tests against the value of no selection (``H0_delta``); CIs
        truncated at the parameter space as metafor.
    delta_fixed : tuple of bool
        Parameters fixed by the user (``delta=``).
    ll, ll0 : float
        Log-likelihood with and without selection (ML).
    LRT, LRTdf, LRTp : likelihood-ratio test for selection.
    LRT_tau2, LRTp_tau2 : likelihood-ratio test of :math:`\tau^2 = 0` under selection (NaN for EE).
    steps : float
        :math:`\alpha` (p-values at or below it have weight 1; 0 = none).
    ptable : tuple of int
        Studies with :math:`p \le \alpha` and above (empty without ``steps``).
    at_bound : bool
        A free delta at (or within 1e-4 of) its bound (metafor warns "Treat results with caution").
    """

    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    names: tuple[str, ...]
    type: str
    alternative: str
    method: str
    level: float
    prec: str | None
    steps: float
    ptable: tuple[int, ...]
    beta: np.ndarray
    se: np.ndarray
    zval: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    tau2: float
    se_tau2: float
    delta: np.ndarray
    se_delta: np.ndarray
    zval_delta: np.ndarray
    pval_delta: np.ndarray
    ci_lb_delta: np.ndarray
    ci_ub_delta: np.ndarray
    H0_delta: tuple[float, ...]
    delta_fixed: tuple[bool, ...]
    ll: float
    ll0: float
    LRT: float
    LRTdf: int
    LRTp: float
    LRT_tau2: float
    LRTp_tau2: float
    beta_unadjusted: np.ndarray
    tau2_unadjusted: float
    at_bound: bool
    labels: tuple[str, ...] = field(default=())
    preci: np.ndarray | None = None

    @property
    def k(self) -> int:
        return int(self.yi.size)

    @property
    def mu(self) -> float:
        """The intercept (the pooled effect of an intercept-only model)."""
        return float(self.beta[0])

    def summary(self) -> pd.DataFrame:
        """One row per parameter: estimate, SE, z, p and Wald CI (metafor's two tables and tau^2)."""
        pct = f"{100 * self.level:g}".replace(".", "_")
        rows = [{"parameter": n, "estimate": b, "se": s, "zval": z, "pval": p, f"ci{pct}_lb": lb, f"ci{pct}_ub": ub}
                for n, b, s, z, p, lb, ub in zip(self.names, self.beta, self.se, self.zval, self.pval, self.ci_lb,
                                                 self.ci_ub)]
        rows.append({"parameter": "tau2", "estimate": self.tau2, "se": self.se_tau2})
        for j in range(self.delta.size):
            rows.append({"parameter": f"delta.{j + 1}", "estimate": self.delta[j], "se": self.se_delta[j],
                         "zval": self.zval_delta[j], "pval": self.pval_delta[j],
                         f"ci{pct}_lb": self.ci_lb_delta[j], f"ci{pct}_ub": self.ci_ub_delta[j]})
        return pd.DataFrame(rows)

    def __str__(self) -> str:
        def f(x, d=4):
            return "NA" if not np.isfinite(x) else f"{x:.{d}f}"

        def pv(x):
            return "NA" if not np.isfinite(x) else ("< .0001" if x < 1e-4 else f"= {x:.4f}")

        def pcell(x):
            return "NA" if not np.isfinite(x) else ("<.0001" if x < 1e-4 else f"{x:.4f}")

        def table(rows, head):
            cells = [head, *rows]
            wid = [max(len(r[j]) for r in cells) for j in range(len(head))]
            return ["  ".join(c.rjust(wid[j]) if j else c.ljust(wid[j]) for j, c in enumerate(r)).rstrip()
                    for r in cells]

        random = self.method != "EE"
        out = [f"{'Random-Effects Model (k = ' + str(self.k) + '; tau^2 estimator: ML)' if random else 'Equal-Effects Model (k = ' + str(self.k) + ')'}",
               ""]
        if random:
            out += [f"tau^2 (estimated amount of total heterogeneity): {f(self.tau2)} (SE = {f(self.se_tau2)})",
                    f"tau (square root of estimated tau^2 value):      {f(np.sqrt(self.tau2))}", "",
                    "Test for Heterogeneity:", f"LRT(df = 1) = {f(self.LRT_tau2)}, p-val {pv(self.LRTp_tau2)}", ""]
        out += ["Model Results:", ""]
        head = ["", "estimate", "se", "zval", "pval", "ci.lb", "ci.ub"]
        rows = [[n, f(b), f(s), f(z), pcell(p), f(lb), f(ub)] for n, b, s, z, p, lb, ub in
                zip(self.names, self.beta, self.se, self.zval, self.pval, self.ci_lb, self.ci_ub)]
        out += table(rows, head)
        out += ["", "Test for Selection Model Parameters:",
                f"LRT(df = {self.LRTdf}) = {f(self.LRT)}, p-val {pv(self.LRTp)}" if self.LRTdf > 0 else "(all fixed)",
                "", f"Selection Model Results ({self.type}; {self.alternative}"
                + (f"; y {'>' if self.alternative == 'greater' else '<'} {self.steps:g} has weight 1, the rest delta"
                   if self.type == "trunc" else f"; p <= {self.steps:g} has weight 1" if self.steps > 0 else "")
                + (f"; precision {self.prec}" if self.prec else "") + "):", ""]
        rows = []
        for j in range(self.delta.size):
            fx = self.delta_fixed[j]
            rows.append([f"delta.{j + 1}", f(self.delta[j])] + (["---"] * 5 if fx else [
                f(self.se_delta[j]), f(self.zval_delta[j]), pcell(self.pval_delta[j]), f(self.ci_lb_delta[j]),
                f(self.ci_ub_delta[j])]))
        out += table(rows, head)
        if self.at_bound:
            out += ["", "warning: a 'delta' estimate is at (or near) its bound; treat results with caution"]
        return "\n".join(out)


def selmodel_family(yi, vi, type: str, alternative: str = "greater", method: str = "ML", X=None,
                    names=None, steps=None, prec: str | None = None, ni=None, scaleprec: bool = True,
                    delta=None, level: float = 0.95, labels=None) -> SelectionFamilyResult:
    """Continuous-weight selection model by maximum likelihood (metafor ``selmodel(type=...)``).

    Parameters
    ----------
    yi, vi : array_like
        Estimates and sampling variances.
    type : {"beta", "halfnorm", "negexp", "logistic", "power", "negexppow", "halfnorm2", "negexp2",
        "logistic2", "power2"}
    alternative : {"greater", "less", "two.sided"}
    method : {"ML", "EE"}
        Random effects with tau^2 by ML, or common effect (tau^2 = 0).
    X : array_like, optional
        Design matrix (k, p) of a meta-regression (default: intercept only); ``names`` its columns.
    steps : float, optional
        :math:`\\alpha`: p-values at or below it get weight 1 (not for ``beta``).
    prec : {"sei", "vi", "ninv", "sqrtninv"}, optional
        Precision multiplier of delta (``ni`` needed for the last two); divided by its maximum
        unless ``scaleprec=False``.
    delta : sequence of float or None, optional
        Fixed values of the selection parameters (NaN = estimate).
    level : float

    Returns
    -------
    SelectionFamilyResult

    Raises
    ------
    ValueError
        Unknown type or alternative, ``steps`` with the beta model or with more than one value,
        an interval of ``steps`` without studies, bad ``prec``/``delta``, or too few studies.
    """
    if type not in FAMILIES:
        raise ValueError(f"selection model type {type!r} is unknown; choose one of "
                         f"{', '.join(repr(t) for t in ('stepfun', *FAMILIES))}")
    fam = FAMILIES[type]
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be 'greater', 'less' or 'two.sided', got {alternative!r}")
    if method not in ("ML", "EE"):
        raise ValueError(f"method must be 'ML' (random effects) or 'EE' (common effect), got {method!r}")
    yi = np.asarray(yi, float)
    vi = np.asarray(vi, float)
    if yi.ndim != 1 or yi.shape != vi.shape or np.any(~np.isfinite(yi)) or np.any(~(vi > 0)):
        raise ValueError("yi and vi must be finite 1-d arrays of the same length with vi > 0")
    k = yi.size
    X = np.ones((k, 1)) if X is None else np.asarray(X, float)
    if X.ndim != 2 or X.shape[0] != k:
        raise ValueError(f"X must have {k} rows (one per study)")
    names = tuple(names) if names is not None else (("intrcpt",) if X.shape[1] == 1 else
                                                     tuple(f"X{j}" for j in range(X.shape[1])))
    alpha = 0.0
    if fam.truncation:
        if alternative == "two.sided":
            raise ValueError("the 'trunc' selection model needs alternative 'greater' or 'less'")
        st = np.atleast_1d(np.asarray(0.0 if steps is None else steps, float))
        if st.size != 1 or not np.isfinite(st[0]):
            raise ValueError(f"the 'trunc' selection model takes a single steps value: the cut-point on the scale of "
                             f"the estimates (default 0), got {list(np.atleast_1d(steps))}")
        alpha = float(st[0])
    elif steps is not None:
        st = np.atleast_1d(np.asarray(steps, float))
        st = st[st < 1.0]
        if not fam.steps_allowed:
            raise ValueError(f"steps does not apply to the {type!r} selection model (metafor ignores it with a "
                             "warning); leave it out")
        if st.size != 1 or not (0 < st[0] < 1):
            raise ValueError(f"the {type!r} selection model takes a single steps value in (0, 1) (the p-value "
                             f"below which studies have weight 1), got {list(np.atleast_1d(steps))}")
        alpha = float(st[0])
    if prec is None:
        preci = np.ones(k)
    else:
        if type in ("beta", "trunc"):
            raise ValueError(f"prec does not apply to the {type!r} selection model; leave it out")
        if prec not in PRECISIONS:
            raise ValueError(f"prec must be one of {', '.join(map(repr, PRECISIONS))}, got {prec!r}")
        if prec in ("ninv", "sqrtninv"):
            if ni is None or np.any(~np.isfinite(np.asarray(ni, float))):
                raise ValueError(f"prec={prec!r} needs the studies' sample sizes (ni)")
            n = np.asarray(ni, float)
            preci = 1 / n if prec == "ninv" else 1 / np.sqrt(n)
        else:
            preci = np.sqrt(vi) if prec == "sei" else vi.copy()
        if scaleprec:
            preci = preci / preci.max()
    dfix = np.full(fam.n_delta, np.nan)
    if delta is not None:
        d = np.atleast_1d(np.asarray(delta, float))
        if d.size == 1:
            d = np.full(fam.n_delta, d[0])
        if d.size != fam.n_delta:
            raise ValueError(f"delta should be of length {fam.n_delta} for the {type!r} selection model")
        lo = np.asarray(fam.delta_min)
        if np.any(d[np.isfinite(d)] < (0.0 if type != "beta" else 1e-300)):
            raise ValueError(f"delta must be {'> 0' if type == 'beta' else '>= 0'} for the {type!r} selection model")
        dfix = np.where(np.isfinite(d), d, np.nan)
        del lo
    random = method == "ML"
    nfree = int(np.isnan(dfix).sum())
    if k < X.shape[1] + random + nfree:
        raise ValueError(f"Number of studies (k={k}) is too small to fit the selection model "
                         f"({X.shape[1] + random + nfree} parameters).")
    ptable: tuple[int, ...] = ()
    if alpha > 0 and not fam.truncation:
        p = pvalues(yi, vi, alternative)
        ptable = (int(np.sum(p <= alpha)), int(np.sum(p > alpha)))
        if min(ptable) == 0:
            raise ValueError(f"one of the p-value intervals (0, {alpha:g}] and ({alpha:g}, 1] contains no study "
                             f"(counts {list(ptable)}); choose another steps value")
    prob = _Problem(fam, yi, vi, X, preci, alternative, alpha)
    # fit without selection (delta at H0): the ML random-effects / common-effect model
    H0 = np.asarray(fam.H0, float)
    W = 1 / vi
    b_ee = np.linalg.lstsq(X * np.sqrt(W)[:, None], yi * np.sqrt(W), rcond=None)[0]
    (b0, t20, _), ll0 = _fit(prob, random, H0.copy(), b_ee, 0.01 * float(np.mean(vi)), [H0])
    starts = [np.where(np.isnan(dfix), np.asarray(fam.delta_init), dfix)]
    for s in ((0.5, 2.0) if fam.n_delta == 2 else (5.0,)), ((2.0, 0.5) if fam.n_delta == 2 else (20.0,)):
        starts.append(np.where(np.isnan(dfix), np.asarray(s, float), dfix))
    (beta, tau2, dl), ll = _fit(prob, random, dfix.copy(), b0, t20, starts)
    LRT_tau2 = LRTp_tau2 = float("nan")
    if random:
        _, ll_t0 = _fit(prob, False, dfix.copy(), beta, 0.0, [dl])
        LRT_tau2 = max(0.0, 2 * (ll - ll_t0))
        LRTp_tau2 = float(stats.chi2.sf(LRT_tau2, 1))
    # Hessian of -ll on (beta, tau2, free delta), evaluated unclamped. At the boundary tau2 = 0 the
    # maximum is not a stationary point, so tau2 is left out (held at 0; metafor's numDeriv Hessian at
    # its tau2 ~ 1e-6 is dominated by its step ~1e-10 on an integrate()d likelihood, which amounts to the same).
    p_ = X.shape[1]
    free = np.flatnonzero(np.isnan(dfix))
    sc = float(np.sqrt(np.mean(vi)))
    free_tau = random and tau2 > 1e-8 * sc**2
    sd = _standard_errors(prob, beta, tau2, dl, free, free_tau, sc)
    if free_tau and not np.all(np.isfinite(sd)) and tau2 < 1e-3 * sc**2:
        free_tau = False                       # not locally concave with tau2 free: treat as at the boundary
        sd = _standard_errors(prob, beta, tau2, dl, free, free_tau, sc)
    se = sd[:p_]
    se_tau2 = float(sd[p_]) if free_tau else float("nan")
    se_delta = np.full(fam.n_delta, np.nan)
    se_delta[free] = sd[p_ + free_tau:]
    crit = stats.norm.isf((1 - level) / 2)
    zval = beta / se
    zd = (dl - H0) / se_delta
    lo_b = np.asarray([0.0] * fam.n_delta)
    ci_lb_d = np.maximum(dl - crit * se_delta, lo_b)
    ci_ub_d = dl + crit * se_delta
    at_bound = bool(np.any((dl[free] <= np.asarray(fam.delta_min)[free] + 1e-4)
                           | (dl[free] >= np.asarray(fam.delta_max)[free] - 1e-2)))
    LRT = max(0.0, 2 * (ll - ll0))
    return SelectionFamilyResult(
        yi=yi, vi=vi, X=X, names=names, type=type, alternative=alternative, method=method, level=level, prec=prec,
        steps=alpha, ptable=ptable, beta=np.asarray(beta, float), se=se, zval=zval,
        pval=2 * stats.norm.sf(np.abs(zval)), ci_lb=beta - crit * se, ci_ub=beta + crit * se, tau2=float(tau2),
        se_tau2=se_tau2, delta=dl, se_delta=se_delta, zval_delta=zd, pval_delta=2 * stats.norm.sf(np.abs(zd)),
        ci_lb_delta=ci_lb_d, ci_ub_delta=ci_ub_d, H0_delta=tuple(fam.H0),
        delta_fixed=tuple(bool(b) for b in ~np.isnan(dfix)), ll=float(ll), ll0=float(ll0), LRT=float(LRT),
        LRTdf=nfree, LRTp=float(stats.chi2.sf(LRT, nfree)) if nfree else float("nan"), LRT_tau2=LRT_tau2,
        LRTp_tau2=LRTp_tau2, beta_unadjusted=np.asarray(b0, float), tau2_unadjusted=float(t20), at_bound=at_bound,
        labels=tuple(labels) if labels is not None else (), preci=preci)


def profile_loglik(fit: SelectionFamilyResult, component: str, value: float) -> float:
    """Maximum log-likelihood with one parameter held at ``value`` (the others re-estimated):
    ``component`` is ``"tau2"`` or ``"delta.j"`` (metafor's ``profile``/``confint``)."""
    fam = FAMILIES[fit.type]
    preci = fit.preci if fit.preci is not None else np.ones(fit.k)
    prob = _Problem(fam, fit.yi, fit.vi, fit.X, preci, fit.alternative, fit.steps)
    dfix = np.where(np.asarray(fit.delta_fixed), fit.delta, np.nan)
    random = fit.method != "EE"
    tau2_fixed = 0.0
    if component == "tau2":
        random, tau2_fixed = False, float(value)
    else:
        dfix[int(component.split(".")[1]) - 1] = value
    start = np.where(np.isnan(dfix), fit.delta, dfix)
    _, ll = _fit(prob, random, dfix, fit.beta, fit.tau2, [start], tau2_fixed=tau2_fixed)
    return float(ll)
