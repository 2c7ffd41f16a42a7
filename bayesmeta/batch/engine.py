r"""Posteriors for a batch: vectorised over published results, one exact fit per study-level analysis.

**Published results** (one estimate :math:`\hat\mu` with standard error :math:`s` per
meta-analysis) are reanalysed as in :mod:`bayesmeta.published.pooled`: the pooled estimate is a
normal likelihood :math:`\hat\mu \mid \mu \sim N(\mu, s^2)` combined with a prior on :math:`\mu`.
A normal prior :math:`N(m_0, s_0^2)` is conjugate; a Student-t prior is a scale mixture of
normals, :math:`\mu \mid \lambda \sim N(m_0, s_0^2/\lambda)`, :math:`\lambda \sim
\Gamma(\nu/2, \nu/2)`, integrated over :math:`\log\lambda` by the trapezoidal rule
(exponentially convergent; 128 nodes), so the posterior is a finite normal mixture,

.. math::

    p(\mu \mid \hat\mu) = \sum_j \pi_j\, N(\mu; m_j, v_j), \quad
    v_j = (s^{-2} + \sigma_j^{-2})^{-1}, \quad m_j = v_j(\hat\mu/s^2 + m_0/\sigma_j^2), \quad
    \pi_j \propto w_j\, N(\hat\mu; m_0, s^2 + \sigma_j^2),

with :math:`\sigma_j^2 = s_0^2/\lambda_j`; a flat prior gives :math:`N(\hat\mu, s^2)`. All of
this is evaluated for every row at once (arrays rows x nodes); quantiles by safeguarded Newton
iterations on the mixture CDF. The Bayes factor of an effect against none is
:math:`BF_{10} = p(\hat\mu \mid H_1)/N(\hat\mu; 0, s^2)` with
:math:`p(\hat\mu \mid H_1) = \sum_j w_j N(\hat\mu; m_0, s^2 + \sigma_j^2)` (it needs a proper prior).

**Study-level analyses** go through :func:`fit_studies`, the one adapter to the batched exact
engine (:func:`bayesmeta.bayes.batch.solve_batch`, all analyses sharing priors in one call),
which also gives the Bayes factors of an effect (Savage-Dickey, mu free vs mu = 0 within the
random-effects model) and of heterogeneity (tau free vs tau = 0).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from bayesmeta.bayes.priors import Prior

_LOG2PI = float(np.log(2 * np.pi))
N_LAMBDA = 128


def _lognorm(x, m, v):
    return -0.5 * (_LOG2PI + np.log(v) + (x - m) ** 2 / v)


@dataclass(frozen=True)
class PooledBatch:
    """Normal-mixture posteriors of mu for many published results (rows), one prior."""

    w: np.ndarray  # (n, J) component weights (rows sum to 1)
    m: np.ndarray  # (n, J) component means
    s: np.ndarray  # (n, J) component SDs
    log_bf10: np.ndarray  # (n,) log Bayes factor of an effect (nan for an improper prior)

    def cdf(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.sum(self.w * special.ndtr((x[..., None] - self.m) / self.s), axis=-1)

    def pdf(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        z = (x[..., None] - self.m) / self.s
        return np.sum(self.w * np.exp(-0.5 * z**2) / (np.sqrt(2 * np.pi) * self.s), axis=-1)

    def mean(self) -> np.ndarray:
        return np.sum(self.w * self.m, axis=-1)

    def sd(self) -> np.ndarray:
        mu = self.mean()
        return np.sqrt(np.sum(self.w * (self.s**2 + (self.m - mu[:, None]) ** 2), axis=-1))

    def ppf(self, q: float) -> np.ndarray:
        """The ``q`` quantile of every row (safeguarded Newton, tolerance 1e-13 relative)."""
        lo = np.min(self.m - 40 * self.s, axis=-1)
        hi = np.max(self.m + 40 * self.s, axis=-1)
        x = self.mean() + self.sd() * special.ndtri(q)
        for _ in range(100):
            f = self.cdf(x) - q
            lo = np.where(f < 0, x, lo)
            hi = np.where(f > 0, x, hi)
            xn = x - f / np.maximum(self.pdf(x), 1e-300)
            bad = (xn <= lo) | (xn >= hi) | ~np.isfinite(xn)
            xn = np.where(bad, 0.5 * (lo + hi), xn)
            done = np.all(np.abs(xn - x) <= 1e-13 * (1 + np.abs(x)))
            x = xn
            if done:
                break
        return x


    def ppf_many(self, q) -> np.ndarray:
        """Quantiles (rows, len(q)) for the probabilities ``q``: the safeguarded Newton iteration of
        :meth:`ppf`, each (row, probability) stopped on its own once its step falls below 1e-13
        relative (:meth:`ppf` iterates every row until the slowest converges; the answers agree to
        that tolerance), with CDF and density evaluated together on the still active rows only."""
        q = np.atleast_1d(np.asarray(q, dtype=float))
        n, Q = self.w.shape[0], q.size
        lo = np.repeat(np.min(self.m - 40 * self.s, axis=-1), Q)
        hi = np.repeat(np.max(self.m + 40 * self.s, axis=-1), Q)
        x = (self.mean()[:, None] + self.sd()[:, None] * special.ndtri(q)[None, :]).ravel()
        target = np.tile(q, n)
        active = np.arange(n * Q)
        c = 1.0 / np.sqrt(2 * np.pi)
        for _ in range(100):
            r = active // Q
            w, m, s = self.w[r], self.m[r], self.s[r]
            xa = x[active]
            z = (xa[:, None] - m) / s
            f = np.sum(w * special.ndtr(z), axis=-1) - target[active]
            dens = np.sum(w * np.exp(-0.5 * z**2) * c / s, axis=-1)
            la = np.where(f < 0, xa, lo[active])
            ha = np.where(f > 0, xa, hi[active])
            xn = xa - f / np.maximum(dens, 1e-300)
            # a Newton step below the tolerance ends the row (tested before the bracket: a step
            # smaller than one ulp lands on the bracket's end and would send :meth:`ppf` bisecting)
            done = np.abs(xn - xa) <= 1e-13 * (1 + np.abs(xa))
            bad = ~done & ((xn <= la) | (xn >= ha) | ~np.isfinite(xn))
            xn = np.where(bad, 0.5 * (la + ha), xn)
            x[active], lo[active], hi[active] = xn, la, ha
            active = active[~done]
            if not active.size:
                break
        return x.reshape(n, Q)


# lambda ~ Gamma(shape nu/2, scale 2/nu): quantiles and log density written with the scipy.special
# functions scipy.stats.gamma evaluates, in its order (scipy 1.18 ``gamma_gen`` and
# ``rv_continuous.ppf/isf/logpdf`` with loc = 0), so the numbers are scipy.stats' bit for bit
# (tests/test_lazy_import.py) without importing scipy.stats, ~1 s of the batch command's start-up.
def _gamma_shape_scale(nu: float) -> tuple[float, float]:
    return nu / 2, 2.0 / nu


def _gamma_ppf(q, a, scale):
    return special.gammaincinv(a, q) * scale


def _gamma_isf(q, a, scale):
    return special.gammainccinv(a, q) * scale


def _gamma_logpdf(x, a, scale):
    z = np.asarray(x, dtype=float) / scale
    return special.xlogy(a - 1.0, z) - z - special.gammaln(a) - np.log(scale)


def _prior_components(mu_prior: Prior, n_lambda: int):
    r"""(locations, variances, normalised log weights) of a normal or Student-t prior on mu.

    A Student-t prior is :math:`N(m_0, s_0^2/\lambda)` mixed over :math:`\lambda \sim
    \Gamma(\nu/2, \nu/2)`; the mixture integral is taken over :math:`t = \log\lambda` by the
    trapezoidal rule, which converges exponentially here because the integrand is smooth and decays
    exponentially at both ends (Trefethen & Weideman 2014, SIAM Rev 56:385, doi:10.1137/130932132).
    """
    p = mu_prior.params
    if mu_prior.family == "normal":
        return np.array([p["loc"]]), np.array([p["scale"] ** 2]), np.array([0.0])
    if mu_prior.family != "studentt":
        raise ValueError(f"published rows take a normal, Student-t or flat prior on mu, got {mu_prior}")
    a, scale = _gamma_shape_scale(p["nu"])
    t = np.linspace(np.log(_gamma_ppf(1e-30, a, scale)), np.log(_gamma_isf(1e-20, a, scale)) + 0.5, n_lambda)
    lam = np.exp(t)
    logw = _gamma_logpdf(lam, a, scale) + t  # density of t = log(lambda)
    logw -= special.logsumexp(logw)
    return np.full(n_lambda, p["loc"]), p["scale"] ** 2 / lam, logw


def pooled_posterior(estimate, se, mu_prior: Prior, n_lambda: int = N_LAMBDA) -> PooledBatch:
    """Posteriors of mu for published estimates ``estimate`` with SEs ``se`` (analysis scale)."""
    y = np.asarray(estimate, dtype=float)[:, None]
    v = np.asarray(se, dtype=float)[:, None] ** 2
    if mu_prior.family == "flat":
        ones = np.ones_like(y)
        return PooledBatch(ones, y.copy(), np.sqrt(v), np.full(y.shape[0], np.nan))
    loc, var0, logw0 = _prior_components(mu_prior, n_lambda)
    lp = logw0 + _lognorm(y, loc, v + var0)  # (n, J)
    log_m1 = special.logsumexp(lp, axis=-1)
    w = np.exp(lp - log_m1[:, None])
    vj = 1.0 / (1.0 / v + 1.0 / var0)
    mj = vj * (y / v + loc / var0)
    log_m0 = _lognorm(y[:, 0], 0.0, v[:, 0])
    return PooledBatch(w, mj, np.sqrt(vj), log_m1 - log_m0)


def fit_studies(analyses: list[str], yi: list, sei: list, tau_prior: Prior, mu_prior: Prior,
                thresholds: list[float]) -> dict[str, np.ndarray]:
    """The one adapter from study-level analyses to the batched exact engine.

    All ``analyses`` (ragged ``yi``/``sei`` lists) share the priors; ``thresholds[a]`` is the
    value c of P(mu < c) wanted for analysis ``a`` (besides c = 0). Returns arrays over analyses:
    ``mu_mean, mu_sd, mu_median, mu_eti95_lb, mu_eti95_ub, tau_median, tau_eti95_lb,
    tau_eti95_ub, p_mu_below0, p_mu_below_c, log_bf_mu, log_bf_tau`` from
    :func:`bayesmeta.bayes.batch.solve_batch` (the engine :func:`bayesmeta.bayes.exact.solve`
    also calls).
    """
    from bayesmeta.bayes.batch import solve_batch

    k = max(len(y) for y in yi)
    Y = np.full((len(yi), k), np.nan)
    S = np.full((len(yi), k), np.nan)
    for a, (y, s) in enumerate(zip(yi, sei, strict=True)):
        Y[a, :len(y)], S[a, :len(s)] = y, s
    c = np.asarray(thresholds, dtype=float)
    thr = np.unique(np.concatenate([[0.0], c[np.isfinite(c)]]))
    ds = solve_batch(Y, S, [tau_prior], [mu_prior], probs=(0.025, 0.5, 0.975), thresholds=tuple(thr),
                     analyses=list(analyses)).isel(prior=0)
    pb = ds["p_mu_below"].to_numpy()
    col = np.searchsorted(thr, np.where(np.isfinite(c), c, 0.0))
    mq, tq = ds["mu_quantile"].to_numpy(), ds["tau_quantile"].to_numpy()
    return {"mu_mean": ds["mu_mean"].to_numpy(), "mu_sd": ds["mu_sd"].to_numpy(), "mu_median": mq[:, 1],
            "mu_eti95_lb": mq[:, 0], "mu_eti95_ub": mq[:, 2], "tau_median": tq[:, 1], "tau_eti95_lb": tq[:, 0],
            "tau_eti95_ub": tq[:, 2], "p_mu_below0": pb[:, int(np.searchsorted(thr, 0.0))],
            "p_mu_below_c": np.where(np.isfinite(c), pb[np.arange(len(c)), col], np.nan),
            "log_bf_mu": ds["log_bf_mu"].to_numpy(), "log_bf_tau": ds["log_bf_tau"].to_numpy()}
