r"""Step-function selection model (Vevea & Hedges 1995), fitted by maximum likelihood as metafor's ``selmodel``.

Each study's one-sided p-value :math:`p_i = 1 - \Phi(y_i/s_i)` (``alternative="greater"``; for
``"less"`` :math:`p_i = \Phi(y_i/s_i)`; for ``"two.sided"`` :math:`2(1 - \Phi(|y_i|/s_i))`) falls into one of the intervals
:math:`(0, a_1], (a_1, a_2], \dots, (a_{J-1}, 1]` cut at ``steps``. A study in interval :math:`j`
is published with relative probability :math:`\delta_j` (:math:`\delta_1 = 1`, the most significant
interval), so that its estimate has the weighted normal density

.. math::

    f(y_i \mid \mu, \tau^2, \delta) = \frac{\delta_{j(i)}\; \phi\big((y_i - \mu)/\sqrt{v_i + \tau^2}\big)/\sqrt{v_i + \tau^2}}
    {\sum_j \delta_j\, P_{ij}(\mu, \tau^2)},

with :math:`P_{ij}` the probability that :math:`y \sim N(\mu, v_i + \tau^2)` gives a p-value in interval
:math:`j` (the cut-points on the :math:`y` scale are :math:`z_{1-a_j}\,s_i`). :math:`\mu`,
:math:`\tau^2 \ge 0` and :math:`\delta_2, \dots, \delta_J \in [0, 100]` (metafor's bounds) maximise the
log-likelihood; ``method="EE"`` fixes :math:`\tau^2 = 0`. Standard errors come from the inverse
Hessian of :math:`-\log L` on the scale :math:`(\mu, \tau^2, \delta_2, \dots)` (metafor computes it with
``numDeriv``; here by Richardson-extrapolated central differences). The likelihood-ratio test for
selection compares the fit with the model without selection (:math:`\delta \equiv 1`, the ML
random-effects or the common-effect fit), on :math:`J - 1` degrees of freedom.

Agreement with metafor 3.8-1 (``tests/golden/metafor_selmodel.json``, made by
``validation/metafor/make_golden_selmodel.R``): with metafor's optimiser run to its limit
(``reltol = 1e-15``) estimates agree to 1e-6 relative and SEs to 1e-4; metafor's default BFGS
(``reltol`` 1.5e-8 on the log-likelihood) stops up to 1e-5 relative from the optimum, and up to 2e-3
on a flat likelihood (dat.normand1999, k = 9, :math:`\hat\tau^2` = 535), where this fit reaches a
higher likelihood.

With few studies the weights are poorly identified (an interval holding two studies estimates its
:math:`\delta` from two observations); read the fit as a sensitivity analysis (how far would
:math:`\hat\mu` move under this selection?), not as a test for publication bias.

References
----------
Vevea JL, Hedges LV (1995). A general linear model for estimating effect size in the presence of
    publication bias. Psychometrika 60:419-435. doi:10.1007/BF02294384
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).
    doi:10.18637/jss.v036.i03 (``selmodel``, metafor >= 2.5)

Examples
--------
>>> import numpy as np
>>> y = np.array([0.9, 0.2, 0.6, 0.1, 0.5, 0.05, 0.7, -0.1, 0.4, 0.3])
>>> v = np.array([0.04, 0.03, 0.05, 0.02, 0.06, 0.01, 0.05, 0.03, 0.04, 0.02])
>>> fit = selmodel(y, v, steps=(0.025,))
>>> fit.delta[0], fit.ptable
(1.0, (4, 6))
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from bayesmeta.frequentist._display import Displayed

__all__ = ["selmodel", "SelectionModelResult", "step_pvalues", "interval_probs", "profile_loglik"]

DELTA_MAX = 100.0  # metafor's default upper bound of the selection weights


ALTERNATIVES = ("greater", "less", "two.sided")


def step_pvalues(yi, vi, alternative: str = "greater") -> np.ndarray:
    """p-values of :math:`z_i = y_i/s_i`: one-sided :math:`1-\\Phi(z_i)` (``greater``), :math:`\\Phi(z_i)`
    (``less``) or two-sided :math:`2(1-\\Phi(|z_i|))` (``two.sided``), as metafor's ``selmodel``."""
    z = np.asarray(yi, float) / np.sqrt(np.asarray(vi, float))
    if alternative == "two.sided":
        return 2 * stats.norm.sf(np.abs(z))
    return stats.norm.sf(z) if alternative == "greater" else stats.norm.cdf(z)


def _full_steps(steps) -> np.ndarray:
    s = np.asarray(steps, float).ravel()
    if s.size == 0 or np.any(~np.isfinite(s)) or np.any(s <= 0) or np.any(s > 1) or np.any(np.diff(s) <= 0):
        raise ValueError(f"steps must be increasing p-value cut-points in (0, 1], got {list(np.asarray(steps).ravel())}")
    return s if s[-1] == 1.0 else np.append(s, 1.0)


def interval_probs(mu, tau2, vi, steps, alternative: str = "greater") -> np.ndarray:
    r""":math:`P_{ij}`: probability that a study with variance ``vi`` and true-effect distribution
    :math:`N(\mu, \tau^2)` reports a one-sided p-value in interval ``j`` of ``steps`` (with 1 appended).

    Broadcasts ``mu`` and ``tau2`` (shape ``S``) against ``vi`` (shape ``(k,)``); returns shape
    ``S + (k, J)``. Computed from differences of upper-tail probabilities on the side away from the
    cut-points, so that small probabilities keep their relative precision.
    """
    steps = _full_steps(steps)
    vi = np.asarray(vi, float)
    mu = np.asarray(mu, float)[..., None, None]
    sd = np.sqrt(vi[:, None] + np.asarray(tau2, float)[..., None, None])
    # cut-points on the y scale: p <= a  <=>  y >= z_{1-a} s_i ("greater"); y <= z_a s_i ("less")
    if steps.size == 1:
        return np.ones((*np.broadcast_shapes(mu.shape[:-2], sd.shape[:-2]), vi.size, 1))
    if alternative == "two.sided":                                         # p <= a  <=>  |y| >= z_{1-a/2} s_i
        c2 = stats.norm.isf(steps[:-1] / 2)[None, :] * np.sqrt(vi)[:, None]
        below = special.ndtr((mu - c2) / sd) + special.ndtr((-c2 - mu) / sd)
        cl = c2[:, -1]
        last = special.ndtr((cl - mu[..., 0]) / sd[..., 0]) - special.ndtr((-cl - mu[..., 0]) / sd[..., 0])
        zero = np.zeros((*below.shape[:-1], 1))
        P = np.diff(np.concatenate([zero, below, zero], axis=-1), axis=-1)
        P[..., -1] = last
        return np.maximum(P, 0.0)
    crit = stats.norm.isf(steps[:-1])[None, :] * np.sqrt(vi)[:, None]      # (k, J-1)
    if alternative == "greater":
        below = special.ndtr((mu - crit) / sd)                            # P(p <= a_j) = P(y >= c_j), increasing in j
        last = special.ndtr((crit[:, -1] - mu[..., 0]) / sd[..., 0])     # P(p > a_{J-1}) from its own tail
    else:
        below = special.ndtr((-crit - mu) / sd)                          # P(p <= a_j) = P(y <= -c_j)
        last = special.ndtr((mu[..., 0] + crit[:, -1]) / sd[..., 0])
    zero = np.zeros((*below.shape[:-1], 1))
    P = np.diff(np.concatenate([zero, below, zero], axis=-1), axis=-1)
    P[..., -1] = last
    return np.maximum(P, 0.0)


def _loglik(yi, vi, groups, steps, alternative, mu, tau2, delta) -> float:
    d = np.concatenate([[1.0], delta])
    P = interval_probs(mu, tau2, vi, steps, alternative)
    A = P @ d
    var = vi + tau2
    with np.errstate(divide="ignore"):
        return float(np.sum(np.log(d[groups]) - 0.5 * (np.log(2 * np.pi * var) + (yi - mu) ** 2 / var) - np.log(A)))


def _loglik_batch(yi, vi, groups, steps, alternative, mu, tau2, delta) -> np.ndarray:
    """:func:`_loglik` at P parameter sets: mu, tau2 of shape (P,), delta (P, J - 1)."""
    d = np.concatenate([np.ones((delta.shape[0], 1)), delta], axis=1)
    P = interval_probs(mu, tau2, vi, steps, alternative)                 # (P, k, J)
    A = np.einsum("pkj,pj->pk", P, d)
    var = vi[None, :] + tau2[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.log(d[:, groups]) - 0.5 * (np.log(2 * np.pi * var) + (yi[None, :] - mu[:, None]) ** 2 / var) - np.log(A)
        return np.sum(ll, axis=1)


def _hessian(f, x, h):
    """Hessian of ``f`` at ``x`` by central differences with one Richardson step (steps h and h/2)."""
    n = x.size

    def H(hh):
        out = np.empty((n, n))
        f0 = f(x)
        for a in range(n):
            ea = np.zeros(n)
            ea[a] = hh[a]
            out[a, a] = (f(x + ea) - 2 * f0 + f(x - ea)) / hh[a] ** 2
            for b in range(a + 1, n):
                eb = np.zeros(n)
                eb[b] = hh[b]
                out[a, b] = out[b, a] = (f(x + ea + eb) - f(x + ea - eb) - f(x - ea + eb) + f(x - ea - eb)) / (
                    4 * hh[a] * hh[b])
        return out

    return (4 * H(h / 2) - H(h)) / 3


@dataclass(frozen=True, repr=False)
class SelectionModelResult(Displayed):
    r"""Maximum-likelihood step-function selection model (immutable).

    Attributes
    ----------
    mu, se, zval, pval, ci_lb, ci_ub : float
        Estimate of :math:`\mu` under selection, its SE, Wald z, p-value and CI.
    tau2, se_tau2 : float
        :math:`\hat\tau^2` (0 for EE) and its SE (NaN for EE or at the boundary 0).
    delta, se_delta : tuple of float
        Selection weights per interval (the first fixed at 1, its SE NaN).
    steps : tuple of float
        Interval upper bounds (1 appended).
    ptable : tuple of int
        Studies per interval.
    ll, ll0 : float
        Log-likelihood with and without selection (ML; metafor's ``ll`` and ``logLik(fit, REML=FALSE)``).
    LRT, LRTdf, LRTp : likelihood-ratio test for selection.
    mu_unadjusted, tau2_unadjusted : the fit without selection.
    at_bound : bool
        A weight at its bound 0 or 100 (metafor warns "Treat results with caution").
    """

    yi: np.ndarray
    vi: np.ndarray
    method: str
    alternative: str
    level: float
    steps: tuple[float, ...]
    ptable: tuple[int, ...]
    mu: float
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    tau2: float
    se_tau2: float
    delta: tuple[float, ...]
    se_delta: tuple[float, ...]
    ll: float
    ll0: float
    LRT: float
    LRTdf: int
    LRTp: float
    mu_unadjusted: float
    tau2_unadjusted: float
    at_bound: bool
    labels: tuple[str, ...] = field(default=())
    delta_fixed: tuple[bool, ...] = field(default=())

    @property
    def k(self) -> int:
        return int(self.yi.size)

    def summary(self) -> pd.DataFrame:
        """One row per parameter: estimate, SE and (for mu) the Wald CI."""
        pct = f"{100 * self.level:g}".replace(".", "_")
        rows = [{"parameter": "mu", "estimate": self.mu, "se": self.se, f"ci{pct}_lb": self.ci_lb,
                 f"ci{pct}_ub": self.ci_ub},
                {"parameter": "tau2", "estimate": self.tau2, "se": self.se_tau2}]
        lo = (0.0, *self.steps[:-1])
        for j, (d, s) in enumerate(zip(self.delta, self.se_delta)):
            rows.append({"parameter": f"delta[{lo[j]:g} < p <= {self.steps[j]:g}] (k = {self.ptable[j]})",
                         "estimate": d, "se": s})
        return pd.DataFrame(rows)

    def __str__(self) -> str:
        model = "common-effect" if self.method == "EE" else "random-effects (ML)"
        return "\n".join([
            f"Step-function selection model ({model}, k = {self.k}; one-sided p-values, alternative "
            f"'{self.alternative}', steps {', '.join(f'{s:g}' for s in self.steps)})",
            f"  mu = {self.mu:.4f} (SE {self.se:.4f}, {100 * self.level:g}% CI {self.ci_lb:.4f} to {self.ci_ub:.4f}); "
            f"without selection {self.mu_unadjusted:.4f}",
            f"  tau^2 = {self.tau2:.4f}; weights " + ", ".join(f"{d:.3f}" for d in self.delta),
            f"  LRT for selection: {self.LRT:.3f} on {self.LRTdf} df, p = {self.LRTp:.4f}"
            + ("\n  warning: a selection weight is at its bound 0 or 100; treat with caution" if self.at_bound else ""),
        ])


def _maximise(yi, vi, groups, steps, alternative, random, n_delta, x0, dfix=None, tau2_fixed=None,
              extra_starts=True, delta_max=DELTA_MAX, decreasing=False):
    """Maximise the log-likelihood over (mu, tau, delta_2..J); tau = sqrt(tau2) >= 0, delta in [0, 100].

    ``dfix`` (length J - 1, NaN = free) holds weights fixed by the user; ``n_delta`` counts the free ones;
    ``tau2_fixed`` holds tau^2 at a value (with ``random=False``; profile likelihood); ``delta_max`` is the
    upper bound of the weights; ``decreasing`` constrains 1 >= delta_2 >= ... >= delta_J (all free)."""
    scale_mu = float(np.sqrt(np.mean(vi)))

    def unpack(x):
        mu = x[0] * scale_mu
        tau2 = (x[1] * scale_mu) ** 2 if random else (0.0 if tau2_fixed is None else tau2_fixed)
        delta = x[1 + random:]
        if dfix is not None:
            full = dfix.copy()
            full[np.isnan(dfix)] = delta
            delta = full
        return mu, tau2, delta

    free = None if dfix is None else np.isnan(dfix)
    d_all = np.full(steps.size - 1, np.nan) if dfix is None else dfix

    def fg(x):
        """-log L and its gradient by central differences, the 2n + 1 points in one batched call."""
        n = x.size
        h = 1e-6 * np.maximum(1.0, np.abs(x))
        X = np.vstack([x, x + np.diag(h), x - np.diag(h)])
        mu = X[:, 0] * scale_mu
        tau2 = (X[:, 1] * scale_mu) ** 2 if random else np.full(X.shape[0], 0.0 if tau2_fixed is None else tau2_fixed)
        D = np.tile(d_all, (X.shape[0], 1))
        if free is None:
            D[:] = X[:, 1 + random:]
        else:
            D[:, free] = X[:, 1 + random:]
        v = -_loglik_batch(yi, vi, groups, steps, alternative, mu, tau2, D)
        v = np.where(np.isfinite(v), v, 1e300)
        g = (v[1:n + 1] - v[n + 1:]) / (2 * h)
        return float(v[0]), np.where(np.isfinite(g) & (np.abs(g) < 1e200), g, 0.0)

    def nll(x):
        return fg(x)

    bounds = [(None, None)] + ([(0.0, None)] if random else []) + [(0.0, delta_max)] * n_delta
    cons: list = []
    if decreasing and n_delta:
        A = np.zeros((n_delta, x0.size))                  # 1 - d_2 >= 0, d_j - d_{j+1} >= 0
        c = np.zeros(n_delta)
        o = 1 + random
        A[0, o], c[0] = -1.0, 1.0
        for j in range(1, n_delta):
            A[j, o + j - 1], A[j, o + j] = 1.0, -1.0
        cons = [{"type": "ineq", "fun": lambda x, A=A, c=c: A @ x + c, "jac": lambda x, A=A: A}]
    best = None
    starts = [x0] + ([np.concatenate([x0[:1 + random], np.full(n_delta, d)]) for d in (0.2, 3.0)]
                     if n_delta and extra_starts else [])
    for s in starts:
        r = optimize.minimize(nll, np.minimum(s, [np.inf] * (1 + random) + [delta_max] * n_delta), jac=True,
                              method="SLSQP", bounds=bounds, constraints=cons, options={"ftol": 1e-14, "maxiter": 2000})
        if best is None or r.fun < best.fun:
            best = r
    assert best is not None
    # polish the best start (SLSQP: L-BFGS-B reaches the same optimum but is several times slower on a
    # shared machine, its BLAS calls contending for threads)
    if extra_starts:
        best = optimize.minimize(nll, best.x, jac=True, method="SLSQP", bounds=bounds, constraints=cons,
                                 options={"ftol": 1e-16, "maxiter": 2000})
    return unpack(best.x), -best.fun


def selmodel(yi, vi, steps=(0.025,), alternative: str = "greater", method: str = "ML", level: float = 0.95,
             labels=None, delta=None, delta_max: float = DELTA_MAX, decreasing: bool = False) -> SelectionModelResult:
    """Step-function selection model by maximum likelihood (metafor ``selmodel(type="stepfun")``).

    Parameters
    ----------
    yi, vi : array_like
        Estimates and sampling variances.
    steps : sequence of float
        Upper bounds of the one-sided p-value intervals; 1 is appended (metafor does the same).
    alternative : {"greater", "less", "two.sided"}
        Direction in which significant results are favoured (metafor's ``alternative``); ``two.sided``
        cuts two-sided p-values (significance in either direction is favoured).
    method : {"ML", "EE"}
        Random effects (tau^2 estimated by ML; metafor refits REML and other fits by ML) or common effect.
    level : float
        Confidence level of the Wald CI of mu.
    delta : sequence of float, optional
        Weights fixed a priori, one per interval (NaN = estimated; the first is the reference and
        must be 1 or NaN), as metafor's ``delta`` (Vevea & Woods 2005). Fixed weights are not
        tested (``LRTdf`` counts the estimated ones) and may belong to intervals without studies.
    delta_max : float
        Upper bound of the weights (metafor's ``control=list(delta.max=)``; default 100).
    decreasing : bool
        Constrain the weights to be non-increasing in the p-value, 1 >= delta_2 >= ... >= delta_J
        (metafor's ``decreasing=TRUE``; not with fixed weights).

    Returns
    -------
    SelectionModelResult

    Raises
    ------
    ValueError
        Bad input, an interval without studies (as metafor), or too few studies for the parameters.
    """
    yi = np.asarray(yi, float)
    vi = np.asarray(vi, float)
    if yi.ndim != 1 or yi.shape != vi.shape or np.any(~np.isfinite(yi)) or np.any(~(vi > 0)):
        raise ValueError("yi and vi must be finite 1-d arrays of the same length with vi > 0")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be 'greater', 'less' or 'two.sided', got {alternative!r}")
    if method not in ("ML", "EE"):
        raise ValueError(f"method must be 'ML' (random effects) or 'EE' (common effect), got {method!r}")
    st = _full_steps(steps)
    J = st.size
    random = method == "ML"
    k = yi.size
    dfix = np.full(J - 1, np.nan)
    if delta is not None:
        dv = np.asarray(delta, float).ravel()
        if dv.size != J:
            raise ValueError(f"delta should have one weight per interval ({J} for steps "
                             f"{[float(s) for s in st]}), got {dv.size}")
        if np.isfinite(dv[0]) and dv[0] != 1.0:
            raise ValueError(f"the first weight (most significant interval) is the reference 1, got {dv[0]:g}")
        if np.any(dv[np.isfinite(dv)] < 0):
            raise ValueError("fixed weights delta must be >= 0")
        dfix = dv[1:]
    free = np.isnan(dfix)
    n_free = int(free.sum())
    if not (np.isfinite(delta_max) and delta_max > 0):
        raise ValueError(f"delta_max must be a positive number, got {delta_max!r}")
    if decreasing and delta is not None:
        raise ValueError("decreasing=True cannot be combined with fixed weights delta")
    if k < 1 + random + n_free:
        raise ValueError(f"Number of studies (k={k}) is too small to fit the selection model "
                         f"({1 + random + n_free} parameters).")
    p = step_pvalues(yi, vi, alternative)
    groups = np.searchsorted(st, p, side="left")          # first j with p <= steps[j]
    ptable = tuple(int(np.sum(groups == j)) for j in range(J))
    if any(c == 0 for c, f in zip(ptable, (delta is None, *free)) if f):
        raise ValueError("One or more p-value intervals contain no study (counts per interval "
                         f"{list(ptable)} for steps {[float(s) for s in st]}); choose other steps.")
    scale_mu = float(np.sqrt(np.mean(vi)))
    # fit without selection (delta = 1): ML random effects / common effect
    (mu0, tau20, _), ll0 = _maximise(yi, vi, np.zeros(k, int), np.array([1.0]), alternative, random, 0,
                                     np.array([np.average(yi, weights=1 / vi) / scale_mu]
                                              + ([0.5] if random else [])))
    x0 = np.array([mu0 / scale_mu] + ([np.sqrt(tau20) / scale_mu + 0.03] if random else []) + [1.0] * n_free)
    (mu, tau2, delta), ll = _maximise(yi, vi, groups, st, alternative, random, n_free, x0,
                                      dfix if delta is not None else None, delta_max=delta_max,
                                      decreasing=decreasing)
    # Hessian of -ll on (mu, tau2, delta_2..J), free parameters only (tau2 at 0 and deltas at bounds excluded)
    free_tau = random and tau2 > 1e-10 * scale_mu**2
    names = ["mu"] + (["tau2"] if free_tau else [])
    free_d = [j for j in range(J - 1) if free[j] and 1e-8 < delta[j] < delta_max - 1e-8]
    x = np.array([mu] + ([tau2] if free_tau else []) + [delta[j] for j in free_d])

    def nll(z):
        m = z[0]
        t2 = z[1] if free_tau else tau2
        d = np.array(delta, float)
        for i, j in enumerate(free_d):
            d[j] = z[len(names) + i]
        return -_loglik(yi, vi, groups, st, alternative, m, t2, d)

    h = 1e-4 * np.maximum(np.abs(x), np.array([scale_mu] + ([scale_mu**2] if free_tau else []) + [0.1] * len(free_d)))
    h = np.minimum(h, 0.5 * np.where(np.arange(x.size) >= 1, x, np.inf))  # stay inside tau2 > 0, delta > 0
    cov = np.linalg.inv(_hessian(nll, x, h))
    sd = np.sqrt(np.diag(cov))
    se = float(sd[0])
    se_tau2 = float(sd[1]) if free_tau else float("nan")
    se_delta = [float("nan")] * J
    for i, j in enumerate(free_d):
        se_delta[j + 1] = float(sd[len(names) + i])
    z = mu / se
    crit = stats.norm.isf((1 - level) / 2)
    LRT = max(0.0, 2 * (ll - ll0))
    return SelectionModelResult(
        yi=yi, vi=vi, method=method, alternative=alternative, level=level, steps=tuple(map(float, st)),
        ptable=ptable, mu=float(mu), se=se, zval=float(z), pval=float(2 * stats.norm.sf(abs(z))),
        ci_lb=float(mu - crit * se), ci_ub=float(mu + crit * se), tau2=float(tau2), se_tau2=se_tau2,
        delta=(1.0, *tuple(float(d) for d in delta)), se_delta=tuple(se_delta), ll=float(ll), ll0=float(ll0),
        LRT=float(LRT), LRTdf=n_free, LRTp=float(stats.chi2.sf(LRT, n_free)) if n_free else float("nan"),
        mu_unadjusted=float(mu0), tau2_unadjusted=float(tau20), at_bound=len(free_d) < n_free,
        labels=tuple(labels) if labels is not None else (), delta_fixed=(True, *(bool(f) for f in ~free)))


def profile_loglik(fit: SelectionModelResult, component: str, value: float) -> float:
    """Maximum log-likelihood with one parameter held at ``value`` (the others re-estimated):
    ``component`` is ``"tau2"`` or ``"delta.j"`` (j = 2, ..., J; metafor's ``profile``/``confint``)."""
    st = np.asarray(fit.steps, float)
    J = st.size
    random = fit.method == "ML"
    groups = np.searchsorted(st, step_pvalues(fit.yi, fit.vi, fit.alternative), side="left")
    fixed = fit.delta_fixed or (True,) + (False,) * (J - 1)
    dfix = np.array([d if f else np.nan for d, f in zip(fit.delta[1:], fixed[1:])], float)
    tau2_fixed = None
    if component == "tau2":
        random, tau2_fixed = False, float(value)
    else:
        dfix[int(component.split(".")[1]) - 2] = value
    free = np.isnan(dfix)
    scale_mu = float(np.sqrt(np.mean(fit.vi)))
    x0 = np.concatenate([[fit.mu / scale_mu], [np.sqrt(fit.tau2) / scale_mu + 1e-3] if random else [],
                         np.clip(np.asarray(fit.delta[1:], float)[free], 1e-3, DELTA_MAX)])
    _, ll = _maximise(fit.yi, fit.vi, groups, st, fit.alternative, random, int(free.sum()), x0, dfix,
                      tau2_fixed, extra_starts=False)
    return float(ll)
