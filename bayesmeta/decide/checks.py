r"""Posterior and prior predictive checks for the normal-normal model (numpy kernels).

All functions take posterior (or prior) draws of ``mu`` and ``tau`` as 1-D arrays, from the exact
solver's ``draws`` or from a sampler, and are vectorised over draws.

* Replicated study effects, "mixed" replication (Marshall & Spiegelhalter 2003,
  doi:10.1002/sim.1394): :math:`\theta^{rep}_i \sim N(\mu, \tau^2)`,
  :math:`y^{rep}_i \sim N(\theta^{rep}_i, s_i^2)`, which checks the random-effects distribution
  itself rather than the fitted study effects.
* Posterior predictive p-value for Cochran's Q (common-effect weights) and for the most extreme
  study, :math:`T(y, \mu, \tau) = \max_i |y_i - \mu| / \sqrt{s_i^2 + \tau^2}` (a discrepancy that
  depends on parameters; Gelman, Meng & Stern 1996, Statistica Sinica 6:733).
* Leave-one-study-out predictive checks: the cross-validatory p-value of each study under the
  model fitted to the others, and the exact expected log predictive density
  :math:`\sum_i \log p(y_i \mid y_{-i})` for comparing common-effect and random-effects models.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats


def q_statistic(y, sei, axis=-1):
    """Cochran's Q with inverse-variance (common-effect) weights, along ``axis``."""
    y = np.asarray(y, dtype=float)
    w = 1.0 / np.asarray(sei, dtype=float) ** 2
    ybar = np.sum(w * y, axis=axis, keepdims=True) / np.sum(w)
    return np.sum(w * (y - ybar) ** 2, axis=axis)


def replicate(mu, tau, sei, rng, mixed: bool = True, theta=None):
    """Replicated study effects, shape (draws, k).

    With ``mixed=True`` new study effects are drawn from N(mu, tau^2); otherwise the posterior
    study effects ``theta`` (draws, k) are used.
    """
    mu = np.asarray(mu, dtype=float)[:, None]
    tau = np.asarray(tau, dtype=float)[:, None]
    sei = np.asarray(sei, dtype=float)[None, :]
    n, k = mu.shape[0], sei.shape[1]
    if mixed:
        th = mu + tau * rng.standard_normal((n, k))
    else:
        if theta is None:
            raise ValueError("conditional replication needs posterior draws of theta")
        th = np.asarray(theta, dtype=float)
    return th + sei * rng.standard_normal((n, k))


def extreme_discrepancy(y, mu, tau, sei):
    """max_i |y_i - mu| / sqrt(s_i^2 + tau^2); ``y`` is (k,) or (draws, k)."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    mu = np.asarray(mu, dtype=float)[:, None]
    tau = np.asarray(tau, dtype=float)[:, None]
    return np.max(np.abs(y - mu) / np.sqrt(np.asarray(sei) ** 2 + tau**2), axis=-1)


@dataclass(frozen=True)
class PPCResult:
    """Posterior predictive p-values with Monte Carlo standard errors (iid-draw approximation)."""

    p_q: float
    p_extreme: float
    q_obs: float
    n_draws: int
    y_rep: np.ndarray

    def mcse(self, p: float) -> float:
        return float(np.sqrt(p * (1 - p) / self.n_draws))

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({
            "statistic": ["Cochran's Q", "most extreme study"],
            "observed": [self.q_obs, np.nan],
            "ppp": [self.p_q, self.p_extreme],
            "mcse": [self.mcse(self.p_q), self.mcse(self.p_extreme)],
        })


def posterior_predictive_check(yi, sei, mu, tau, seed: int = 0) -> PPCResult:
    """Posterior predictive p-values for Q and the most extreme study (mixed replication)."""
    rng = np.random.default_rng(seed)
    yi = np.asarray(yi, dtype=float)
    y_rep = replicate(mu, tau, sei, rng, mixed=True)
    q_obs = float(q_statistic(yi, sei))
    p_q = float(np.mean(q_statistic(y_rep, sei) >= q_obs))
    t_obs = extreme_discrepancy(yi, mu, tau, sei)
    t_rep = extreme_discrepancy(y_rep, mu, tau, sei)
    return PPCResult(p_q=p_q, p_extreme=float(np.mean(t_rep >= t_obs)), q_obs=q_obs,
                     n_draws=int(np.size(mu)), y_rep=y_rep)


def log_predictive_density(y_new, se_new, mu, tau):
    r"""Rao-Blackwellised :math:`\log p(y_{new} \mid \text{data}) = \log E[N(y_{new} \mid \mu, s^2 + \tau^2)]`."""
    mu = np.asarray(mu, dtype=float)
    tau = np.asarray(tau, dtype=float)
    lp = stats.norm.logpdf(y_new, mu, np.sqrt(se_new**2 + tau**2))
    return float(special.logsumexp(lp) - np.log(lp.size))


def predictive_pvalue(y_new, se_new, mu, tau):
    """Two-sided cross-validatory p-value min(2P, 2(1-P)), P = P(y_rep <= y_new) (Rao-Blackwellised)."""
    mu = np.asarray(mu, dtype=float)
    tau = np.asarray(tau, dtype=float)
    p = float(np.mean(stats.norm.cdf(y_new, mu, np.sqrt(se_new**2 + tau**2))))
    return min(2 * p, 2 * (1 - p), 1.0), p


def common_effect_loo(yi, sei, mu_prior_sd: float | None = None) -> np.ndarray:
    r"""Exact :math:`\log p(y_i \mid y_{-i})` under the common-effect model, flat or N(0, sd^2) prior.

    :math:`\mu \mid y_{-i} \sim N(m_{-i}, v_{-i})` in closed form, so
    :math:`y_i \mid y_{-i} \sim N(m_{-i}, v_{-i} + s_i^2)`.
    """
    yi = np.asarray(yi, dtype=float)
    w = 1.0 / np.asarray(sei, dtype=float) ** 2
    prior_prec = 0.0 if mu_prior_sd is None else 1.0 / mu_prior_sd**2
    prec = w.sum() - w + prior_prec
    m = (np.sum(w * yi) - w * yi) / prec
    return stats.norm.logpdf(yi, m, np.sqrt(1.0 / prec + 1.0 / w))


def exact_loo(yi, sei, tau_prior, mu_prior=None, labels=None, n_lambda: int = 32) -> pd.DataFrame:
    r"""Exact leave-one-study-out predictive checks of the normal-normal model, by downdating.

    For every study :math:`i`, :math:`p(\tau \mid y_{-i}) \propto p(\tau)\,p(y_{-i} \mid \tau)`
    with the sufficient statistics of :math:`y_{-i}` obtained from those of all studies by
    subtracting study :math:`i`'s terms (:math:`\sum_j w_j - w_i`, ...), so no refit is needed:
    one pass over a common :math:`\log\tau` grid costs :math:`O(kN)` for all :math:`k` studies
    together (the refitting approach costs :math:`k` fits of :math:`k - 1` studies). Then

    * :math:`\log p(y_i \mid y_{-i})` (exact, the summand of the LOO elpd),
    * :math:`P(y^{rep}_i \le y_i \mid y_{-i})` and the two-sided cross-validatory p-value
      :math:`\min(2P, 2(1 - P))` (Marshall & Spiegelhalter 2003, doi:10.1002/sim.1394),

    from the predictive mixture :math:`y_i \mid \tau, \lambda, y_{-i} \sim
    N(m_{-i}, V_{-i} + s_i^2 + \tau^2)`. The grid is the one the exact engine
    (:mod:`bayesmeta.bayes.batch`) places for all studies, widened upwards (by half its width, at
    least 3 units of :math:`\log\tau` when k <= 30) and refined (:math:`h \le 0.05` and at least 100
    nodes over the full-data mass; at most 4,000 nodes), always down to the engine's floor
    :math:`\tau_0` (leaving out an outlier can move the mass to :math:`\tau = 0`), with the mass
    below :math:`\tau_0` added exactly as in the engine.

    Returns a DataFrame with columns ``study``, ``yi``, ``p_two_sided``, ``p_lower``,
    ``lpd_random_effects`` (and ``lpd_common_effect`` from :func:`common_effect_loo`).
    """
    from bayesmeta.bayes import _kernels as K
    from bayesmeta.bayes import batch as B
    from bayesmeta.bayes.priors import flat

    mu_prior = mu_prior or flat("mu")
    y0 = np.asarray(yi, dtype=float)
    s0 = np.asarray(sei, dtype=float)
    k = y0.size
    if k < 2:
        raise ValueError("leave-one-out needs at least 2 studies")
    labels = list(labels) if labels is not None else [f"study {i + 1}" for i in range(k)]
    B.check_propriety(k - 1, tau_prior, mu_prior, where="leave-one-out: ")
    data = B.prepare(y0[None, :], s0[None, :])
    # study order inside Data is the input order (no padding), centred at data.center
    y, v, c = data.y[0], data.v[0], float(data.center[0])
    full = B.run(data, [tau_prior], mu_prior, np.zeros(1, np.int64), np.zeros(1, np.int64), n_lambda)
    x0, xe = float(full.x0[0]), float(full.x0[0] + (full.n[0] - 1) * full.h[0])
    width = xe - x0
    tau0 = float(full.tau0[0])
    lo = np.log(tau0)  # leaving out an outlier can move the mass to tau = 0: always reach the floor
    hi = xe + (max(0.5 * width, 3.0) if k <= 30 else 0.5 * width)
    n = int(min(np.ceil((hi - lo) / min(0.05, width / 100)), 4000)) + 1
    h = (hi - lo) / (n - 1)
    x = lo + h * np.arange(n)
    tau2 = np.append(np.exp(2 * x), 0.0)  # the last column is tau = 0 (the mass below tau0)
    S0, S1, S2, S3, SL = (a[0][None, :] for a in K.suffstats(np.ascontiguousarray(tau2[None, :]),
                                                               np.zeros(1, np.int64), data.y, data.v, data.kk))
    mloc, mvar, mlogw = B.mu_prior_nodes(mu_prior, n_lambda, data)
    _, Wq = K.cumulative(np.ones((1, n)), np.array([n], np.int64), np.array([h]), np.zeros(1), K.CELLW)
    logW = np.log(np.maximum(Wq[0], 1e-300))
    tau = np.exp(x)
    lpd = np.empty(k)
    p_lower = np.empty(k)
    step = max(1, int(2e6 // (n * mloc.size)))
    for a in range(0, k, step):
        b = min(k, a + step)
        yy, vv = y[a:b, None], v[a:b, None]
        W = 1.0 / (vv + tau2[None, :])  # (block, N + 1)
        d0, d1, d2, d3, dl = S0 - W, S1 - W * yy, S2 - W * yy**2, S3 - W**2, SL - np.log(W)
        m, V, ll = B._conditionals(d0, d1, d2, dl, np.full(b - a, k - 1), (mloc - c)[None, None, :], mvar, mlogw)
        lt = B._tau_logprior(tau_prior, np.broadcast_to(tau, (b - a, n)), d3[:, :n])
        if tau_prior.family == "jeffreys":
            logF0 = 2 * np.log(tau0) - np.log(2.0) + 0.5 * np.log(np.sum(1.0 / v**2) - 1.0 / v[a:b] ** 2)
        else:
            logF0 = np.full(b - a, float(B._tau_floor_mass(tau_prior, np.array([tau0]), data.v, data.kk)[0]))
        lw = np.concatenate([ll[:, :n, :] + (lt + x + logW)[:, :, None], ll[:, n:, :] + logF0[:, None, None]], axis=1)
        sd = np.sqrt(V + vv[:, :, None] + tau2[None, :, None])
        z = (yy[:, :, None] - m) / sd
        top = np.max(lw.reshape(b - a, -1), axis=1)
        wts = np.exp(lw - top[:, None, None])
        Z = wts.reshape(b - a, -1).sum(axis=1)
        dens = np.exp(-0.5 * z**2) / (sd * np.sqrt(2 * np.pi))
        lpd[a:b] = np.log(np.sum((wts * dens).reshape(b - a, -1), axis=1) / Z)
        p_lower[a:b] = np.sum((wts * special.ndtr(z)).reshape(b - a, -1), axis=1) / Z
    p2 = np.minimum(np.minimum(2 * p_lower, 2 * (1 - p_lower)), 1.0)
    return pd.DataFrame({"study": labels, "yi": y0, "p_two_sided": p2, "p_lower": p_lower,
                         "lpd_random_effects": lpd, "lpd_common_effect": common_effect_loo(y0, s0)})
