r"""Exact solution of the normal-normal hierarchical model by numerical integration.

Model (Röver 2020, J Stat Softw 93(6), doi:10.18637/jss.v093.i06):

.. math::

    y_i \mid \theta_i \sim N(\theta_i, s_i^2), \quad \theta_i \mid \mu, \tau \sim N(\mu, \tau^2),
    \quad \mu \sim p(\mu), \quad \tau \sim p(\tau).

Given :math:`\tau` and a normal (or flat) prior :math:`N(m_0, s_0^2)` on :math:`\mu`, everything
is conjugate: with :math:`w_i = 1/(s_i^2 + \tau^2)`,

.. math::

    \mu \mid \tau, y \sim N\!\left(m(\tau), V(\tau)\right), \quad
    V(\tau) = \Big(\sum_i w_i + s_0^{-2}\Big)^{-1}, \quad
    m(\tau) = V(\tau)\Big(\sum_i w_i y_i + m_0 s_0^{-2}\Big),

and the marginal likelihood :math:`p(y \mid \tau)` is closed form. The posterior of :math:`\tau` is
integrated numerically on :math:`x = \log\tau` (priors with a spike at zero, such as the log-t and
log-normal priors for :math:`\tau^2` or the Jeffreys prior, and studies with tiny standard errors
are smooth there), the marginals of :math:`\mu`, :math:`\theta_{new}` and :math:`\theta_i` are
normal mixtures over the nodes; the engine and its accuracy are described in
:mod:`bayesmeta.bayes.batch`, which :func:`solve` calls with one row (the batched and the single
path give the same numbers). Reported quantiles are within :math:`10^{-5}` posterior SDs of a
brute-force double integral (``validation/bruteforce/edges.py``, pinned in ``tests/golden``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from bayesmeta.bayes import _kernels as K
from bayesmeta.bayes import batch as B
from bayesmeta.bayes.priors import Prior, flat


@dataclass(frozen=True)
class NormalMixture:
    """A finite mixture of normals: weights ``w`` (summing to one), means ``m``, SDs ``s``.

    ``cdf`` is the exact mixture CDF; ``ppf`` inverts that same function (safeguarded Newton,
    tolerance 1e-14 relative), so ``cdf(ppf(p)) == p`` to rounding.
    """

    w: np.ndarray
    m: np.ndarray
    s: np.ndarray
    _moments: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        keep = self.w > 0
        w = np.ascontiguousarray(np.asarray(self.w, float)[keep])[None, :]
        m = np.ascontiguousarray(np.asarray(self.m, float)[keep])[None, :]
        s = np.ascontiguousarray(np.asarray(self.s, float)[keep])[None, :]
        object.__setattr__(self, "w", w[0])
        object.__setattr__(self, "m", m[0])
        object.__setattr__(self, "s", s[0])
        mean, sd = K.mix_moments(w, m, s)
        object.__setattr__(self, "_moments", (float(mean[0]), float(sd[0])))

    def _rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.w[None, :], self.m[None, :], self.s[None, :]

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        out = K.mix_pdf(*self._rows(), np.ascontiguousarray(x.reshape(1, -1)))
        return out.reshape(x.shape) if x.ndim else float(out[0, 0])

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        out = K.mix_cdf(*self._rows(), np.ascontiguousarray(x.reshape(1, -1)))
        return out.reshape(x.shape) if x.ndim else float(out[0, 0])

    def mean(self) -> float:
        return self._moments[0]

    def sd(self) -> float:
        return self._moments[1]

    def ppf(self, q):
        q = np.asarray(q, dtype=float)
        if np.any((q < 0) | (q > 1)):
            raise ValueError("probabilities must lie in [0, 1]")
        mean, sd = (np.array([v]) for v in self._moments)
        out = K.mix_ppf(*self._rows(), mean, sd, np.ascontiguousarray(q.reshape(1, -1)))
        return out.reshape(q.shape) if q.ndim else float(out[0, 0])

    def median(self) -> float:
        return float(self.ppf(0.5))

    def interval(self, prob: float = 0.95, kind: str = "eti") -> tuple[float, float]:
        """Equal-tailed (``eti``) or shortest (``hdi``) interval."""
        if not 0 < prob < 1:
            raise ValueError("prob must lie in (0, 1)")
        if kind == "eti":
            lo, hi = self.ppf(np.array([(1 - prob) / 2, (1 + prob) / 2]))
            return float(lo), float(hi)
        if kind != "hdi":
            raise ValueError(f"unknown interval kind {kind!r}; use 'eti' or 'hdi'")
        mean, sd = (np.array([v]) for v in self._moments)
        lo, hi = K.mix_hdi(*self._rows(), mean, sd, np.array([float(prob)]), np.full(1, np.nan), np.full(1, np.nan))[0]
        return float(lo), float(hi)

    def prob_below(self, c) -> float:
        return float(self.cdf(c))


@dataclass(frozen=True)
class TauPosterior:
    """Posterior of tau from the engine (grid on log tau with the exact mass below tau0).

    ``cdf``, ``ppf``, ``pdf`` are mutually consistent: ``ppf`` inverts the same local polynomial
    cumulative that ``cdf`` evaluates.
    """

    _rows: B.Rows = field(repr=False)
    prior: Prior

    def _col(self, v):
        v = np.asarray(v, dtype=float)
        return v, np.ascontiguousarray(v.reshape(1, -1))

    def cdf(self, q):
        q, r = self._col(q)
        out = B.tau_cdf(self._rows, [self.prior], r)
        return out.reshape(q.shape) if q.ndim else float(out[0, 0])

    def pdf(self, q):
        q, r = self._col(q)
        out = np.where(r > 0, B.tau_pdf(self._rows, np.maximum(r, 1e-300)), 0.0)
        return out.reshape(q.shape) if q.ndim else float(out[0, 0])

    def ppf(self, p):
        p, r = self._col(p)
        if np.any((p < 0) | (p > 1)):
            raise ValueError("probabilities must lie in [0, 1]")
        out = B.tau_ppf(self._rows, [self.prior], r)
        return out.reshape(p.shape) if p.ndim else float(out[0, 0])

    def mean(self) -> float:
        return float(self._rows.tau_mean[0])

    def sd(self) -> float:
        return float(self._rows.tau_sd[0])

    def median(self) -> float:
        return float(self.ppf(0.5))

    def interval(self, prob: float = 0.95, kind: str = "eti") -> tuple[float, float]:
        """Equal-tailed (``eti``) or shortest (``hdi``) interval."""
        if not 0 < prob < 1:
            raise ValueError("prob must lie in (0, 1)")
        if kind == "eti":
            lo, hi = self.ppf(np.array([(1 - prob) / 2, (1 + prob) / 2]))
            return float(lo), float(hi)
        if kind == "hdi":
            lo, hi = B.tau_hdi(self._rows, [self.prior], prob)[0]
            return float(lo), float(hi)
        raise ValueError(f"unknown interval kind {kind!r}; use 'eti' or 'hdi'")


@dataclass(frozen=True)
class NormalNormalPosterior:
    """Exact posterior of the normal-normal model (see :func:`solve`).

    Attributes ``tau`` (:class:`TauPosterior`), ``mu`` and ``theta_new`` (:class:`NormalMixture`)
    are the marginal posteriors; ``theta(i)`` the shrunken effect of study ``i``.
    ``log_marginal_likelihood`` is :math:`\\log p(y)` (``None`` when a prior is improper);
    ``log_bf_mu`` is :math:`\\log BF_{10}` of :math:`\\mu` free against :math:`\\mu = 0`
    (Savage-Dickey; ``None`` for a flat mu prior) and ``log_bf_tau`` of :math:`\\tau` free against
    :math:`\\tau = 0` (``None`` for an improper tau prior).
    """

    yi: np.ndarray
    sei: np.ndarray
    labels: tuple[str, ...]
    tau_prior: Prior
    mu_prior: Prior
    tau: TauPosterior
    mu: NormalMixture
    theta_new: NormalMixture
    log_marginal_likelihood: float | None
    log_bf_mu: float | None
    log_bf_tau: float | None
    _rows: B.Rows = field(repr=False)
    _data: B.Data = field(repr=False)
    n_lambda: int = 32

    @property
    def k(self) -> int:
        return self.yi.size

    @property
    def log_evidence(self) -> float | None:
        """Alias of ``log_marginal_likelihood``."""
        return self.log_marginal_likelihood

    def theta(self, i) -> NormalMixture:
        r"""Posterior of study effect :math:`\theta_i`: given :math:`\tau` (and :math:`\mu`'s
        conditional :math:`N(m, V)`), with :math:`B_i = s_i^2/(s_i^2 + \tau^2)`, mean
        :math:`B_i m + (1 - B_i) y_i` and variance :math:`s_i^2 (1 - B_i) + B_i^2 V`."""
        if isinstance(i, str):
            i = self.labels.index(i)
        r = self._rows
        s2 = self.sei[i] ** 2
        Bi = s2 / (s2 + r.tau_c[0] ** 2)
        mean = Bi * r.m[0] + (1 - Bi) * self.yi[i]
        var = s2 * (1 - Bi) + Bi**2 * r.V[0]
        return NormalMixture(r.w[0], mean, np.sqrt(var))

    def prob(self, parameter: str, c: float, side: str = "below") -> float:
        """P(parameter < c) (``side="below"``) or P(parameter > c) for ``mu``, ``theta_new``, ``tau``."""
        if parameter == "mu":
            p = self.mu.cdf(c)
        elif parameter == "theta_new":
            p = self.theta_new.cdf(c)
        elif parameter == "tau":
            p = self.tau.cdf(c)
        else:
            raise ValueError("parameter must be 'mu', 'theta_new' or 'tau'")
        if side not in ("below", "above"):
            raise ValueError("side must be 'below' or 'above'")
        return float(p) if side == "below" else 1.0 - float(p)

    def prob_mu_below(self, c: float) -> float:
        return self.prob("mu", c, "below")

    def summary(self, prob: float = 0.95, kind: str = "hdi", studies: bool = True) -> pd.DataFrame:
        """Tidy summary: median, mean, sd and the ``kind`` interval at level ``prob``."""
        pct = round(prob * 100)
        rows = []
        items: list[tuple[str, TauPosterior | NormalMixture]] = [
            ("tau", self.tau), ("mu", self.mu), ("theta_new", self.theta_new)]
        if studies:
            items += [(f"theta[{lab}]", self.theta(i)) for i, lab in enumerate(self.labels)]
        for name, d in items:
            lo, hi = d.interval(prob, kind)
            rows.append({"parameter": name, "median": d.median(), "mean": d.mean(), "sd": d.sd(),
                         f"{kind}{pct}_lb": lo, f"{kind}{pct}_ub": hi})
        return pd.DataFrame(rows)

    def draws(self, n: int, rng=None) -> dict[str, np.ndarray]:
        """Exact Monte Carlo draws of tau, mu, theta_new and theta (n, k) from the posterior:
        tau by inversion of its CDF, then mu (and the Student-t scale) from their exact
        conditionals given tau."""
        rng = np.random.default_rng(rng)
        tau = np.asarray(self.tau.ppf(rng.uniform(size=n)), dtype=float)
        d = self._data
        row_a = np.zeros(1, dtype=np.int64)
        S0, S1, S2, _, SL = K.suffstats(np.ascontiguousarray((tau * tau)[None, :]), row_a, d.y, d.v, d.kk)
        mloc, mvar, mlogw = B.mu_prior_nodes(self.mu_prior, self.n_lambda)
        m, V, ll = B._conditionals(S0, S1, S2, SL, d.kk, (mloc - d.center[0])[None, None, :], mvar, mlogw)
        m, V, ll = m[0], V[0], ll[0]  # (n, L)
        if ll.shape[1] > 1:
            p = np.exp(ll - special.logsumexp(ll, axis=1, keepdims=True))
            lam = (rng.uniform(size=(n, 1)) > np.cumsum(p, axis=1)).sum(axis=1)
            lam = np.minimum(lam, ll.shape[1] - 1)
        else:
            lam = np.zeros(n, dtype=int)
        idx = np.arange(n)
        mu = rng.normal(m[idx, lam] + d.center[0], np.sqrt(V[idx, lam]))
        theta_new = rng.normal(mu, tau)
        v = self.sei**2
        with np.errstate(divide="ignore"):
            prec = 1.0 / v + 1.0 / tau[:, None] ** 2
        mean = np.where(tau[:, None] > 0,
                        (self.yi / v + mu[:, None] / np.maximum(tau[:, None], 1e-300) ** 2) / prec, mu[:, None])
        sd = np.where(tau[:, None] > 0, 1.0 / np.sqrt(prec), 0.0)
        theta = rng.normal(mean, sd)
        return {"tau": tau, "mu": mu, "theta_new": theta_new, "theta": theta}

    def __str__(self) -> str:
        s = self.summary(0.95, "hdi", studies=False)
        lines = [
            "Normal-normal hierarchical model, exact posterior by numerical integration",
            f"  k = {self.k} studies; priors: {self.tau_prior}; {self.mu_prior}",
            "  95% intervals are shortest (highest-density) intervals",
        ]
        for _, r in s.iterrows():
            lines.append(f"  {r['parameter']:>9}: median {r['median']:.4f}, mean {r['mean']:.4f}, sd {r['sd']:.4f}, "
                         f"95% HDI [{r['hdi95_lb']:.4f}, {r['hdi95_ub']:.4f}]")
        if self.log_marginal_likelihood is not None:
            lines.append(f"  log marginal likelihood {self.log_marginal_likelihood:.4f}")
        return "\n".join(lines)


def _opt(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def solve(yi, sei, tau_prior: Prior, mu_prior: Prior | None = None, labels=None,
          n_lambda: int = 32, n_tau: int | None = None, n_mix: int | None = None) -> NormalNormalPosterior:
    """Exact posterior of the normal-normal model.

    Parameters
    ----------
    yi, sei : array_like
        Study effect estimates and their standard errors (analysis scale).
    tau_prior : Prior
        Prior on tau (any family, including the improper ``jeffreys`` and ``flat``).
    mu_prior : Prior, optional
        Prior on mu: ``normal``, ``studentt`` or ``flat`` (default).
    labels : sequence of str, optional
        Study labels.
    n_lambda : int
        Gauss-Laguerre nodes for the Student-t scale mixture.
    n_tau, n_mix : ignored
        Grid sizes of the previous implementation, accepted for compatibility: the grid is now
        chosen by the engine (:mod:`bayesmeta.bayes.batch`).

    Raises
    ------
    ExactInputError (a ValueError)
        Non-finite estimates, non-positive, underflowing (< 1e-150) or overflowing (> 1e150)
        standard errors or estimates, and prior combinations with an improper posterior, each
        with a message saying what to change.

    Examples
    --------
    >>> from bayesmeta.bayes.priors import halfnormal, flat
    >>> post = solve([0.1, 0.3, -0.2], [0.1, 0.2, 0.15], halfnormal(0.5), flat("mu"))
    >>> abs(post.mu.cdf(post.mu.ppf(0.975)) - 0.975) < 1e-12
    True
    """
    yi = np.asarray(yi, dtype=float)
    sei = np.asarray(sei, dtype=float)
    if yi.ndim != 1 or yi.shape != sei.shape or yi.size < 1:
        raise B.ExactInputError("yi and sei must be 1-D arrays of the same length (at least one study); "
                                "use bayesmeta.bayes.batch.solve_batch for many analyses")
    if np.any(np.isnan(yi) | np.isnan(sei)):
        raise B.ExactInputError("yi and sei must not contain NaN (missing studies: leave them out)")
    mu_prior = mu_prior or flat("mu")
    if not isinstance(tau_prior, Prior) or not isinstance(mu_prior, Prior) or tau_prior.target != "tau" \
            or mu_prior.target != "mu":
        raise B.ExactInputError("pass a tau prior and a mu prior (bayesmeta.bayes.priors)")
    data = B.prepare(yi[None, :], sei[None, :])
    k = yi.size
    B.check_propriety(k, tau_prior, mu_prior)
    labels = tuple(labels) if labels is not None else tuple(f"study {i + 1}" for i in range(k))
    if len(labels) != k:
        raise B.ExactInputError(f"{len(labels)} labels for {k} studies: give one label per study")
    rows = B.run(data, [tau_prior], mu_prior, np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), n_lambda)
    w, m, s = B.mixture(rows, "mu")
    mu = NormalMixture(w[0], m[0], s[0])
    w, m, s = B.mixture(rows, "theta_new")
    theta_new = NormalMixture(w[0], m[0], s[0])
    log_bf_mu = None
    if mu_prior.proper:
        with np.errstate(divide="ignore"):
            log_bf_mu = _opt(B.mu_logpdf_at(mu_prior, 0.0) - np.log(mu.pdf(0.0)))
    return NormalNormalPosterior(yi=yi, sei=sei, labels=labels, tau_prior=tau_prior, mu_prior=mu_prior,
                                 tau=TauPosterior(rows, tau_prior), mu=mu, theta_new=theta_new,
                                 log_marginal_likelihood=_opt(rows.log_ml[0]), log_bf_mu=log_bf_mu,
                                 log_bf_tau=_opt(rows.log_bf_tau[0]), _rows=rows, _data=data, n_lambda=n_lambda)
