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

Modes and the joint MAP (as R bayesmeta's ``$summary["mode", ]`` and ``$MAP``; Röver 2020, sec. 3):
the marginal modes of :math:`\mu`, :math:`\theta_{new}` and :math:`\theta_i` are the roots of the
exact mixture density's derivative (:meth:`NormalMixture.mode`); the marginal mode of :math:`\tau`
maximises :math:`\log p(\tau) + \log p(y \mid \tau)` (exact up to a constant), located on the
engine's grid and refined by a bounded optimiser (:meth:`TauPosterior.mode`); the joint MAP
maximises :math:`\log p(\tau) + \log p(\mu) + \sum_i \log N(y_i \mid \mu, s_i^2 + \tau^2)`,
where for a normal or flat :math:`\mu` prior the maximising :math:`\mu` given :math:`\tau` is the
conditional mean :math:`m(\tau)`, so the joint MAP is a one-dimensional search in :math:`\tau`
(:attr:`NormalNormalPosterior.map_estimate`). A mode at the boundary :math:`\tau = 0` is exact:
:math:`\tau = 0` is reported when the density there is infinite (e.g. the log-t prior on
:math:`\tau^2`) or not below the interior maximum, bayesmeta's rule. Agreement with R bayesmeta 3.4
is pinned in ``tests/golden/bayesmeta_modes.json`` (``validation/bayesmeta/make_golden_modes.R``).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize, special

from bayesmeta.bayes import _kernels as K
from bayesmeta.bayes import _scalar_density as SD
from bayesmeta.bayes import batch as B
from bayesmeta.bayes.priors import Prior, flat

# --------------------------------------------------------------------------------------------
# modes and the joint MAP
# --------------------------------------------------------------------------------------------

# log p(tau) as tau -> 0+ where the general expression is not defined there: the log-t prior on
# tau^2 has density 2/tau * t(log tau^2) -> infinity; the log-normal on tau^2, the inverse-gamma and
# the Jeffreys prior (proportional to tau near 0) vanish at 0.
_LOGPRIOR_AT_ZERO = {"logt_tau2": np.inf, "lognormal_tau2": -np.inf, "invgamma": -np.inf, "jeffreys": -np.inf}


def _mixture_mode(w, m, s, mean: float, sd: float) -> float:
    """Global mode of the normal mixture (w, m, s). When the spread of the component means is at
    most the smallest component SD (:func:`bayesmeta.bayes._kernels._concave`), the density is
    concave between the extreme means, where every mode lies, so it has one mode, found by Newton
    steps on f' from the mean (:func:`bayesmeta.bayes._kernels._mix_mode_core`, to 1e-14
    relative). Otherwise a grid search over 1,001 points between the extreme means (within 10 SDs
    of the mean; the densities by :func:`bayesmeta.bayes._kernels._mix_pdf_grid`), then Brent's
    method on the derivative."""
    if K._concave(w, m, s):
        x, ok = K._mix_mode_core(w, m, s, mean, sd, mean, 0, 0.0, True)
        if ok and np.isfinite(x):
            return float(x)
    lo, hi = max(float(m.min()), mean - 10 * sd), min(float(m.max()), mean + 10 * sd)
    if not hi > lo:
        return float(np.clip(mean, m.min(), m.max())) if lo > hi else lo
    g = np.linspace(lo, hi, 1001)
    fg = np.empty(g.size)
    K._mix_pdf_grid(w, m, s, lo, (hi - lo) / (g.size - 1), fg)  # by ratios: ~65 exps per component, not 1,001
    j = int(np.argmax(fg))

    def deriv(x: float) -> float:
        return float(K._mix_eval(w, m, s, x)[2])

    a, b = g[max(j - 1, 0)], g[min(j + 1, g.size - 1)]
    da, db = deriv(a), deriv(b)
    if da > 0 > db:
        return float(optimize.brentq(deriv, a, b, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=200))
    return float(g[j])  # the maximum is at an end of [lo, hi] (a component mean) or flat


@dataclass(frozen=True)
class _LogDensity:
    r"""Unnormalised log posterior densities of one analysis (per unit of :math:`\tau` and :math:`\mu`)."""

    data: B.Data
    tau_prior: Prior
    mu_prior: Prior
    n_lambda: int
    _grid: dict = field(default_factory=dict, repr=False, compare=False)

    def _stats(self, tau):
        """S0, S1, S2, S3, SL at tau (1, n). The sums at a grid (n > 1) are kept (read-only): the
        marginal mode of tau and the joint MAP start from the same grid, whose sums cost
        O(grid x k) (~8 ms at k = 10,000)."""
        t = np.ascontiguousarray(np.asarray(tau, dtype=float).reshape(1, -1))
        key = t.tobytes() if t.size > 1 else None
        if key is not None and key in self._grid:
            return self._grid[key]
        out = K.suffstats(t * t, np.zeros(1, dtype=np.int64), self.data.y, self.data.v, self.data.kk)
        if key is not None:
            for a in out:
                a.flags.writeable = False
            self._grid.clear()  # one grid at a time
            self._grid[key] = out
        return out

    def _logprior_tau(self, tau, S3):
        pos = tau > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = np.asarray(B._tau_logprior(self.tau_prior, np.where(pos, tau, 1.0), S3), dtype=float)
            if not pos.all():
                fam = self.tau_prior.family
                z = _LOGPRIOR_AT_ZERO[fam] if fam in _LOGPRIOR_AT_ZERO else \
                    B._tau_logprior(self.tau_prior, np.zeros_like(tau), S3)
                lp = np.where(pos, lp, z)
        return np.where(np.isnan(lp), -np.inf, lp)

    def marginal(self, tau) -> np.ndarray:
        r""":math:`\log p(\tau) + \log p(y \mid \tau)` (mu integrated out) at tau >= 0."""
        tau = np.asarray(tau, dtype=float).ravel()
        S0, S1, S2, S3, SL = self._stats(tau)
        mloc_c, mvar, mlogw = self._mu_nodes
        _, _, ll = B._conditionals(S0, S1, S2, SL, self.data.kk, mloc_c, mvar, mlogw)
        return B._lse(ll)[0] + self._logprior_tau(tau, S3[0])

    @cached_property
    def _mu_nodes(self):
        """The mu prior's normal components (:func:`bayesmeta.bayes.batch.mu_prior_nodes`; locations
        centred), built once: a Student-t prior's components depend on the data and took ~0.4 ms,
        more than the rest of an evaluation of :meth:`marginal` (the searches of the tau mode call
        it ~25 times)."""
        mloc, mvar, mlogw = B.mu_prior_nodes(self.mu_prior, self.n_lambda, self.data)
        return (mloc - self.data.center[0])[None, None, :], mvar, mlogw

    def _logprior_mu(self, mu_c):
        """log p(mu) at centred mu (0 for the flat prior)."""
        p, f = self.mu_prior.params, self.mu_prior.family
        mu = mu_c + self.data.center[0]
        if f == "flat":
            return np.zeros_like(mu)
        if f == "normal":
            return -0.5 * ((mu - p["loc"]) / p["scale"]) ** 2 - np.log(p["scale"]) - 0.5 * B._LOG2PI
        z = (mu - p["loc"]) / p["scale"]
        return B._t_const(p["nu"]) - np.log(p["scale"]) - (p["nu"] + 1) / 2 * np.log1p(z * z / p["nu"])

    def _best_mu(self, S0, S1):
        """Centred mu maximising log p(mu) + sum_i log N(y_i | mu, s_i^2 + tau^2), per tau."""
        f, p = self.mu_prior.family, self.mu_prior.params
        if f == "flat":
            return S1 / S0
        loc = p["loc"] - self.data.center[0]
        if f == "normal":
            prec0 = 1.0 / p["scale"] ** 2
            return (S1 + prec0 * loc) / (S0 + prec0)
        # Student-t: the maximiser lies between the weighted mean and the prior location (both
        # terms rise below the smaller and fall above the larger); grid, then the derivative's root
        nu, sc2 = p["nu"], p["scale"] ** 2
        out = np.empty_like(S0)
        for i, (s0, s1) in enumerate(zip(S0, S1, strict=True)):
            ybar = s1 / s0

            def deriv(u, s0=s0, s1=s1):
                return s1 - s0 * u - (nu + 1) * (u - loc) / (nu * sc2 + (u - loc) ** 2)

            lo, hi = min(ybar, loc), max(ybar, loc)
            if hi - lo <= 1e-15 * (1 + abs(lo)):
                out[i] = lo
                continue
            g = np.linspace(lo, hi, 65)
            v = -0.5 * s0 * g * g + s1 * g + self._logprior_mu(g)
            j = int(np.argmax(v))
            a, b = g[max(j - 1, 0)], g[min(j + 1, g.size - 1)]
            out[i] = optimize.brentq(deriv, a, b, xtol=1e-300, rtol=4 * np.finfo(float).eps) \
                if deriv(a) > 0 > deriv(b) else g[j]
        return out

    def joint_profile(self, tau, with_mu: bool = False):
        r"""max over :math:`\mu` of :math:`\log p(\tau, \mu \mid y)` (unnormalised) at tau >= 0."""
        tau = np.asarray(tau, dtype=float).ravel()
        S0, S1, S2, S3, SL = (a[0] for a in self._stats(tau))
        mu_c = self._best_mu(S0, S1)
        k = float(self.data.kk[0])
        loglik = 0.5 * SL - 0.5 * k * B._LOG2PI - 0.5 * (S2 - 2 * mu_c * S1 + mu_c * mu_c * S0)
        val = self._logprior_tau(tau, S3) + self._logprior_mu(mu_c) + loglik
        return (val, mu_c + self.data.center[0]) if with_mu else val

    @cached_property
    def _scalar_args(self):
        """(y, v, k, family code, its constants, mu prior constants of the marginal and of the
        joint density) for the compiled scalar densities (:mod:`bayesmeta.bayes._scalar_density`),
        or None. Under a Student-t mu prior only the joint density is compiled (its best mu per
        tau, a root search per node, was ~12 ms of a first ``summary()`` at k = 8); the marginal
        sums the prior's scale mixture on the NumPy path."""
        tp = SD.tau_prior_args(self.tau_prior)
        center = self.data.center[0]
        mm = SD.mu_prior_args(self.mu_prior, center, joint=False)
        mj = SD.mu_prior_args(self.mu_prior, center, joint=True)
        if tp is None or (mm is None and mj is None):
            return None
        k = int(self.data.kk[0])
        y = np.ascontiguousarray(self.data.y[0, :k], dtype=float)
        v = np.ascontiguousarray(self.data.v[0, :k], dtype=float)
        return y, v, k, tp[0], tp[1], mm, mj

    def argmax_tau(self, x, joint: bool = False) -> tuple[float, float]:
        """(tau, value) maximising :meth:`marginal` (or :meth:`joint_profile` when ``joint``) over
        tau >= 0, starting from the nodes exp(x): the best node, then Brent's bounded search
        between its neighbours (compiled, :func:`bayesmeta.bayes._scalar_density.
        bounded_argmin_log_density`, where :attr:`_scalar_args` has the density: the same
        iterates as SciPy's ``minimize_scalar``, which the marginal under a Student-t mu prior
        uses)."""
        floor = np.log(B.FLOOR_FACTOR * float(self.data.smin[0]))
        if x[0] > floor:  # also look below the grid, down to the engine's floor
            x = np.concatenate([np.linspace(floor, x[0], 48, endpoint=False), x])
        fn = self.joint_profile if joint else self.marginal
        v0 = float(fn(np.zeros(1))[0])
        if v0 == np.inf:
            return 0.0, v0
        args = self._scalar_args
        m = None if args is None else args[6] if joint else args[5]
        if m is not None and m[0] == 2.0:  # Student-t joint (the marginal has no such m): its grid compiled too
            ys, vs, k, code, q = args[:5]
            v = SD.log_density_nodes(True, np.exp(x), ys, vs, k, code, q, m)
        else:
            v = fn(np.exp(x))
        v = np.where(np.isnan(v), -np.inf, v)
        j = int(np.argmax(v))
        best_x, best_v = float(x[j]), float(v[j])
        a, b = x[max(j - 1, 0)], x[min(j + 1, x.size - 1)]
        if b > a:
            if m is not None:
                ys, vs, k, code, q = args[:5]
                rx, rfun = SD.bounded_argmin_log_density(joint, float(a), float(b), 1e-12, 500, ys, vs, k, code, q, m)
            else:
                res = optimize.minimize_scalar(lambda t: -float(fn(np.exp([t]))[0]), bounds=(a, b),
                                               method="bounded", options={"xatol": 1e-12})
                rx, rfun = res.x, res.fun
            if -rfun >= best_v:
                best_x, best_v = float(rx), float(-rfun)
        if np.isfinite(v0) and v0 >= best_v:
            return 0.0, v0
        return float(np.exp(best_x)), best_v



def modes_of_rows(data: B.Data, rows: B.Rows, tau_priors, mu_prior: Prior, n_lambda: int = 32) -> dict:
    """Marginal modes of tau, mu, theta_new and the joint MAP of (tau, mu) for every row of an
    engine run (used by :func:`bayesmeta.bayes.batch.solve_batch` with ``modes=True``): the same
    computation as :meth:`TauPosterior.mode`, :meth:`NormalMixture.mode` and
    :attr:`NormalNormalPosterior.joint_map`, one row at a time (a few milliseconds each)."""
    R = rows.Z.size
    out = {k: np.full(R, np.nan) for k in ("tau_mode", "mu_mode", "theta_new_mode", "tau_map_joint",
                                           "mu_map_joint")}
    fields = ("y", "v", "kk", "center", "smin", "scale")
    for r in range(R):
        a = int(rows.row_a[r])
        d = B.Data(*(getattr(data, f)[a:a + 1] for f in fields))
        ld = _LogDensity(d, tau_priors[int(rows.row_t[r])], mu_prior, n_lambda)
        x = rows.x0[r] + rows.h[r] * np.arange(int(rows.n[r]))
        out["tau_mode"][r] = ld.argmax_tau(x)[0]
        tau, _ = ld.argmax_tau(x, joint=True)
        out["tau_map_joint"][r] = tau
        out["mu_map_joint"][r] = float(ld.joint_profile(np.array([tau]), with_mu=True)[1][0])
        for name in ("mu", "theta_new"):
            w, m, sd = (v[r] for v in B.mixture(rows, name))
            keep = w > 0
            w, m, sd = w[keep], m[keep], sd[keep]
            mean, msd = (float(v[0]) for v in K.mix_moments(w[None, :], m[None, :], sd[None, :]))
            out[f"{name}_mode"][r] = _mixture_mode(w, m, sd, mean, msd)
    return out

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

    def mode(self) -> float:
        """The (global) mode of the mixture density.

        A mixture of normals has its modes between its smallest and largest component mean (the
        density rises below all means and falls above them). The density is evaluated on 1,001
        points spanning those means (within 10 SDs of the mean), and the best point is refined by
        Brent's root finder on the exact derivative :math:`f'(x)` (to about 1e-14 relative).
        """
        return self._mode

    @cached_property
    def _mode(self) -> float:
        return _mixture_mode(self.w, self.m, self.s, self.mean(), self.sd())

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
    _logdens: _LogDensity | None = field(default=None, repr=False, compare=False)

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

    def mode(self) -> float:
        r"""The marginal posterior mode of :math:`\tau` (density per unit of :math:`\tau`).

        Maximises :math:`\log p(\tau) + \log p(y \mid \tau)` (exact up to a constant): best node
        of the engine's grid, refined by a bounded optimiser on :math:`\log\tau` (bracket: the
        neighbouring nodes; tolerance 1e-12). It is 0 when the density at :math:`\tau = 0` is
        infinite, or finite and not below the interior maximum (R bayesmeta's rule).
        """
        return self._mode

    @cached_property
    def _mode(self) -> float:
        if self._logdens is None:
            raise ValueError("this tau posterior was built without its density: use exact.solve")
        r = self._rows
        x = r.x0[0] + r.h[0] * np.arange(int(r.n[0]))
        return self._logdens.argmax_tau(x)[0]

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
    Each marginal has ``mode()``; :attr:`joint_map` is the joint MAP of (tau, mu) and
    :attr:`map_estimate` the table of joint and marginal modes (R bayesmeta's ``$MAP``).
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

    @cached_property
    def joint_map(self) -> tuple[float, float]:
        r"""The joint maximum a posteriori estimate :math:`(\tau, \mu)` (R bayesmeta's
        ``$MAP["joint", ]``): the maximiser of :math:`p(\tau, \mu \mid y)` per unit of
        :math:`\tau` and :math:`\mu`, i.e. of
        :math:`\log p(\tau) + \log p(\mu) + \sum_i \log N(y_i \mid \mu, s_i^2 + \tau^2)`
        (Röver 2020, sec. 3.3). Given :math:`\tau` the best :math:`\mu` is the conditional mean
        :math:`m(\tau)` (normal or flat :math:`\mu` prior; a Student-t prior is maximised
        numerically), so this is a bounded one-dimensional search in :math:`\tau`; it is
        :math:`\tau = 0` when the joint density is infinite there or largest there."""
        ld = self.tau._logdens or _LogDensity(self._data, self.tau_prior, self.mu_prior, self.n_lambda)
        r = self._rows
        x = r.x0[0] + r.h[0] * np.arange(int(r.n[0]))
        tau, _ = ld.argmax_tau(x, joint=True)
        _, mu = ld.joint_profile(np.array([tau]), with_mu=True)
        return tau, float(mu[0])

    @property
    def map_estimate(self) -> pd.DataFrame:
        """Joint and marginal posterior modes of tau and mu, as R bayesmeta's ``$MAP``: rows
        ``joint`` (:attr:`joint_map`) and ``marginal`` (``tau.mode()``, ``mu.mode()``)."""
        jt, jm = self.joint_map
        return pd.DataFrame({"tau": [jt, self.tau.mode()], "mu": [jm, self.mu.mode()]},
                            index=pd.Index(["joint", "marginal"], name="MAP"))

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

    GAUSS_LADDER = (4, 6, 8, 12, 16)
    """Sizes of the Gauss rules of the tau measure tried by :meth:`theta_summary`, as consecutive
    pairs."""
    GAUSS_LADDER_WIDE = (16, 20, 24, 28, 32)
    """Sizes tried, under a normal or flat mu prior, when no probe study agrees on a pair of
    :data:`GAUSS_LADDER` (the posterior of tau reaches down to 0 at large k: the 28- and 32-node
    rules agree to 1e-12 on most such studies, and a 32-node rule costs less than the full mixture
    of 70-90 components). Built only then."""
    GAUSS_LAMBDA_LADDER = (10, 12, 16, 20, 24)
    """Under a Student-t mu prior, the size of the Gauss rule in log lambda at each node of the tau
    rule of the same rank in :data:`GAUSS_LADDER` (it grows with it, so every pair of rules
    differs in both directions and the kernel's pair check sees both errors; p(lambda | tau, y)
    needs about 12 nodes for 1e-12, tau at large k 6-8)."""
    GAUSS_TOL = 1e-12
    """Agreement asked of two Gauss rules (cdf units; see
    :func:`bayesmeta.bayes._kernels.study_marginals_gauss`): a quantile then moves by at most
    about 2e-11 posterior SDs (tol / pdf at a 2.5% tail)."""
    GAUSS_MIN_K = 64
    """Below this many studies :meth:`theta_summary` uses the full mixture only (it costs under
    3 ms there, and with few studies the posterior of tau is usually too wide for a small rule)."""
    GAUSS_PROBE = 32
    """Studies (evenly spaced) on which all pairs of rules are tried first: the other studies are
    offered the pairs from the one on which half of the agreeing probe studies agreed (the lower
    median; a study that would have agreed on a smaller pair gets a larger, more accurate rule),
    none when no pair agreed (then every study uses the full mixture at the cost of this probe
    only)."""

    @cached_property
    def _gauss_rules(self):
        """The rules of :data:`GAUSS_LADDER` (:meth:`_rules_for`), computed once per posterior."""
        return self._rules_for(self.GAUSS_LADDER)

    @cached_property
    def _gauss_rules_wide(self):
        """The rules of :data:`GAUSS_LADDER_WIDE` (:meth:`_rules_for`) under a normal or flat mu
        prior; None under a Student-t prior (its rules would carry 20-24 lambda nodes per tau node,
        more components than the full mixture)."""
        if self.mu_prior.family not in ("normal", "flat"):
            return None
        return self._rules_for(self.GAUSS_LADDER_WIDE)

    def _rules_for(self, ladder):
        r"""Gauss rules of the posterior of tau in :math:`\xi = \log(1 + \tau^2 / c)`,
        :math:`c = 1 / \sum_i v_i^{-1}` (``ladder``: their sizes), with mu | tau's mean and variance
        at their nodes, stacked as (RW, RT, RM, RV, RN)
        and the pairs to try (PA, PB); the atom at tau = 0 (when the engine has one) is a
        component of every rule. Under a Student-t mu prior, mu | tau is a mixture over the
        prior's scale nodes lambda with weights p(lambda | tau, y): at each node of a tau rule it
        is replaced by the Gauss rule of that measure in log lambda with
        :data:`GAUSS_LAMBDA_LADDER` nodes, so the pair check of the kernel covers both reductions.
        None when the measure has too few nodes. Independent of the interval and its level.

        The variable: a Gauss rule converges geometrically at a rate set by how far from the
        measure's range, relative to its length, the integrand's singularities lie (Trefethen 2008,
        sec. 5). A study's conditional cdf depends on tau through tau^2: the shrinkage factor
        v_i / (v_i + tau^2) and mu | tau have poles at tau^2 = -v_j, and the conditional SD a
        branch point near tau^2 = -c (c is mu | tau = 0's variance under a flat prior). In xi all of
        them lie on Im xi = pi; where tau^2 >> c, xi is 2 log tau (the engine's variable), and where
        the posterior of tau reaches down to 0 (few studies' worth of heterogeneity, large k) the
        measure's range in xi stays short instead of spanning the orders of magnitude of log tau:
        on simulated reviews with tau near 0 the 16-node rule's cdf error fell from 1e-6 (log tau)
        to 1e-9, and elsewhere it is the same as in log tau.

        References
        ----------
        Trefethen LN (2008). Is Gauss quadrature better than Clenshaw-Curtis? SIAM Rev 50:67-87."""
        from bayesmeta.bayes.quadrature import gauss_rules

        d = self._data
        mloc, mvar, mlogw = B.mu_prior_nodes(self.mu_prior, self.n_lambda, d)
        r = self._rows
        w, tc = (np.asarray(a[0], dtype=float) for a in (r.w, r.tau_c))
        keep = w > 0
        w, tc = w[keep], tc[keep]
        atom = tc == 0
        w_atom = w[atom].sum()
        tu, inv = np.unique(tc[~atom], return_inverse=True)  # Student-t: one tau, many components
        wc = np.bincount(inv, weights=w[~atom])
        sizes = [n for n in ladder if n < tu.size]
        if len(sizes) < 2:
            return None
        # the rules' variable: xi = log(1 + tau^2 / c), c = 1 / sum(1 / v_i) (see the docstring)
        c = 1.0 / float(np.sum(1.0 / d.v[0, : int(d.kk[0])]))
        rules = gauss_rules(np.log1p(tu * tu / c), wc, sizes)
        # tau nodes of every rule, the atom first (tau = 0) when there is one
        taus = [np.concatenate([[0.0] if w_atom > 0 else [], np.sqrt(c * np.expm1(x))]) for x, _ in rules]
        wts = [np.concatenate([[w_atom] if w_atom > 0 else [], gw * wc.sum()]) for _, gw in rules]
        tau = np.concatenate(taus)
        kk = int(d.kk[0])
        if mloc.size == 1:
            # mu | tau ~ N(m, V): V = 1 / (S0 + 1/s0^2), m = V (S1 + m0/s0^2) on the centred data
            S0, S1 = K.weight_sums(np.ascontiguousarray(tau * tau), d.y[0, :kk], d.v[0, :kk])
            prec0 = 1.0 / mvar[0] if np.isfinite(mvar[0]) else 0.0
            Vg = 1.0 / (S0 + prec0)
            mg = Vg * (S1 + prec0 * (mloc[0] - d.center[0])) + d.center[0]
            comps = []
            start = 0
            for t, wt in zip(taus, wts, strict=True):
                sl = slice(start, start + t.size)
                start += t.size
                comps.append((wt, t, mg[sl], Vg[sl]))
        else:
            # p(lambda | tau, y) as the engine computes it (log lambda = log(var_0 / var) + const)
            S0, S1, S2, _, SL = K.suffstats(np.ascontiguousarray((tau * tau)[None, :]), np.zeros(1, dtype=np.int64),
                                            d.y, d.v, d.kk)
            _, _, ll = B._conditionals(S0, S1, S2, SL, d.kk, (mloc - d.center[0])[None, None, :], mvar, mlogw)
            ll = ll[0]
            lam = np.log(mvar[0] / mvar)
            loc_c = mloc[0] - d.center[0]
            comps = []
            start = 0
            for t, wt, n in zip(taus, wts, self.GAUSS_LAMBDA_LADDER, strict=False):
                cw, ct, cm, cV = [], [], [], []
                for j in range(t.size):
                    g = start + j
                    pl = np.exp(ll[g] - ll[g].max())
                    (xl, wl), = gauss_rules(lam, pl, [n])
                    var0 = mvar[0] * np.exp(-xl)
                    Vj = 1.0 / (S0[0, g] + 1.0 / var0)
                    cw.append(wt[j] * wl)
                    ct.append(np.full(xl.size, t[j]))
                    cm.append(Vj * (S1[0, g] + loc_c / var0) + d.center[0])
                    cV.append(Vj)
                start += t.size
                comps.append(tuple(np.concatenate(c) for c in (cw, ct, cm, cV)))
        n_all = np.array([c[0].size for c in comps], dtype=np.int64)
        N = int(n_all.max())
        RW, RT, RM, RV = (np.zeros((len(comps), N)) for _ in range(4))
        RV[:] = 1.0
        for p, c in enumerate(comps):
            for o, a in zip((RW, RT, RM, RV), c, strict=True):
                o[p, : a.size] = a
        PA = np.arange(len(comps) - 1, dtype=np.int64)
        return RW, RT, RM, RV, n_all, PA, PA + 1

    def theta_summary(self, prob: float = 0.95, kind: str = "hdi", workers: int | None = None,
                      reduction: bool = True) -> pd.DataFrame:
        r"""Every study's shrinkage marginal at once: ``study``, ``mode``, ``median``, ``mean``, ``sd``
        and the ``kind`` interval at level ``prob`` (columns as :meth:`summary`), the same numbers as
        :meth:`theta` study by study (to 1e-10 posterior SDs; tested) from compiled kernels that
        build each study's mixture in turn, never the (k, nodes) arrays; chunks of studies run on
        threads (``workers``, default one per core).

        With ``reduction`` (default) each study is first tried on Gauss rules of the posterior of
        tau (:mod:`bayesmeta.bayes.quadrature`; 4 to 16 nodes instead of the engine's 60-140): a
        study whose marginal two consecutive rules agree on to 1e-12 (:data:`GAUSS_TOL`) is solved on
        the larger one (:func:`bayesmeta.bayes._kernels.study_marginals_gauss`); when no probe study
        agrees on any pair, the wider rules of :data:`GAUSS_LADDER_WIDE` are tried (tau near 0 at
        large k); the others (in practice small k, where the posterior of tau is wide) on the full
        mixture (:func:`bayesmeta.bayes._kernels.study_marginals`), started from their summaries on
        the 16-node rule (:meth:`_start_rule`). ``reduction=False`` uses the full mixture for every
        study, started from the 8-component moment-matched reduction. A mode is refined by Newton steps on the density's derivative;
        when a check of 8 points finds a higher density elsewhere (a second mode) that study's mode
        comes from the global search of :meth:`NormalMixture.mode`."""
        out = self._theta_table(prob, kind, workers, reduction)
        return pd.DataFrame({"study": list(self.labels)}
                            | {c: out[:, j] for c, j in self._theta_columns(prob, kind)})

    @staticmethod
    def _theta_columns(prob: float, kind: str) -> list[tuple[str, int]]:
        """(summary column, column of :meth:`_theta_table`) in the order of :meth:`summary`."""
        pct = round(prob * 100)
        return list(zip(("mode", "median", "mean", "sd", f"{kind}{pct}_lb", f"{kind}{pct}_ub"), (5, 2, 0, 1, 3, 4),
                        strict=True))

    def _theta_table(self, prob: float, kind: str, workers: int | None, reduction: bool) -> np.ndarray:
        """(k, 6) array of (mean, sd, median, lower, upper, mode) per study (see :meth:`theta_summary`)."""
        if not 0 < prob < 1:
            raise ValueError("prob must lie in (0, 1)")
        if kind not in ("eti", "hdi"):
            raise ValueError(f"unknown interval kind {kind!r}; use 'eti' or 'hdi'")
        yi = np.ascontiguousarray(self.yi, dtype=float)
        vi = np.ascontiguousarray(self.sei, dtype=float) ** 2
        k = yi.size
        out = np.empty((k, 6))
        ok = np.ones(k, dtype=np.bool_)
        n_threads = 1 if workers == 1 else (workers or os.cpu_count() or 1)

        def chunked(fn, n):
            # whole multiples of the threads (an odd chunk would leave a thread idle), up to 4 per
            # thread for balance at large k; each chunk costs a kernel dispatch (~0.1 ms)
            n_chunks = n_threads * max(1, min(4, n // 512)) if n >= 128 else 1
            bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64)
            if n_chunks > 1 and n_threads > 1:
                with ThreadPoolExecutor(max_workers=n_threads) as pool:
                    list(pool.map(lambda c: fn(int(bounds[c]), int(bounds[c + 1])), range(n_chunks)))
            else:
                for c in range(n_chunks):
                    fn(int(bounds[c]), int(bounds[c + 1]))

        rules = self._gauss_rules if reduction and k >= self.GAUSS_MIN_K else None
        rest = np.arange(k)
        if rules is not None:
            used = np.full(k, -1, dtype=np.int64)
            tol = self.GAUSS_TOL
            probe = np.unique(np.linspace(0, k - 1, self.GAUSS_PROBE).astype(np.int64))
            o_p, ok_p, u_p = np.empty((probe.size, 6)), np.ones(probe.size, dtype=np.bool_), np.empty(probe.size, np.int64)
            RW, RT, RM, RV, RN, PA, PB = rules
            K.study_marginals_gauss(RW, RT, RM, RV, RN, PA, PB, yi[probe], vi[probe], float(prob), kind == "hdi",
                                    tol, 0, probe.size, o_p, ok_p, u_p)
            wide = self._gauss_rules_wide if not (u_p >= 0).any() else None
            if wide is not None:  # no pair agreed: try the wider rules on the same probe
                RW, RT, RM, RV, RN, PA, PB = wide
                K.study_marginals_gauss(RW, RT, RM, RV, RN, PA, PB, yi[probe], vi[probe], float(prob),
                                        kind == "hdi", tol, 0, probe.size, o_p, ok_p, u_p)
            if (u_p >= 0).any():
                agreed = np.sort(u_p[u_p >= 0])
                first = int(np.flatnonzero(PB == agreed[(agreed.size - 1) // 2])[0])
                PA, PB = PA[first:], PB[first:]
                chunked(lambda a, b: K.study_marginals_gauss(RW, RT, RM, RV, RN, PA, PB, yi, vi, float(prob),
                                                             kind == "hdi", tol, a, b, out, ok, used), k)
                rest = np.flatnonzero(used < 0)
        if rest.size:
            r = self._rows
            keep = r.w[0] > 0
            w, m, V, tc = (np.ascontiguousarray(np.asarray(a[0], dtype=float)[keep]) for a in (r.w, r.m, r.V, r.tau_c))
            yr, vr = yi[rest], vi[rest]
            o2 = np.empty((rest.size, 6))
            ok2 = np.ones(rest.size, dtype=np.bool_)
            start = self._start_rule(rules, w.size)
            chunked(lambda a, b: K.study_marginals(w, m, V, tc, yr, vr, float(prob), kind == "hdi", a, b, o2, ok2,
                                                   *start), rest.size)
            out[rest] = o2
            ok[rest] = ok2
        for i in np.flatnonzero(~ok):  # a second mode (or one at an end of the means' range)
            out[i, 5] = self.theta(int(i)).mode()
        return out

    @staticmethod
    def _start_rule(rules, n_full: int) -> tuple[np.ndarray, ...]:
        """(weights, tau, mean and variance of mu | tau) of the largest Gauss rule with at most a
        quarter of the full mixture's ``n_full`` components: where no pair of rules agrees on a
        study, its summaries on this rule are the starts of the full mixture's iterations
        (:func:`bayesmeta.bayes._kernels.study_marginals`; within about 1e-9 SDs where the 16-node
        rule fails to agree to 1e-12, against about 1e-3 SDs for the 8-component moment-matched
        reduction used without rules, so each iteration ends after one step: the full path at
        k = 1,000-10,000 with tau near 0 takes 0.75-0.8 of the reduction's time). Empty arrays
        (the reduction) without rules."""
        empty = np.empty(0)
        if rules is None:
            return empty, empty, empty, empty
        RW, RT, RM, RV, RN = rules[:5]
        fit = np.flatnonzero(RN <= n_full // 4)
        if not fit.size:
            return empty, empty, empty, empty
        p, n = int(fit[-1]), int(RN[fit[-1]])
        return tuple(np.ascontiguousarray(a[p, :n]) for a in (RW, RT, RM, RV))

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
        """Tidy summary, per parameter as R bayesmeta's ``$summary`` (Röver 2020, sec. 3):
        ``mode`` (the marginal posterior mode), median, mean, sd, the ``kind`` interval at level
        ``prob``, and ``map_joint``, the parameter's coordinate of the joint MAP of
        (tau, mu) (:attr:`joint_map`; NaN for theta_new and the study effects, for which it is not
        defined)."""
        pct = round(prob * 100)
        rows = []
        items: list[tuple[str, TauPosterior | NormalMixture]] = [
            ("tau", self.tau), ("mu", self.mu), ("theta_new", self.theta_new)]
        jmap = dict(zip(("tau", "mu"), self.joint_map, strict=True))
        for name, d in items:
            lo, hi = d.interval(prob, kind)
            rows.append({"parameter": name, "mode": d.mode(), "median": d.median(), "mean": d.mean(),
                         "sd": d.sd(), f"{kind}{pct}_lb": lo, f"{kind}{pct}_ub": hi,
                         "map_joint": jmap.get(name, np.nan)})
        if not studies:
            return pd.DataFrame(rows)
        th = self._theta_table(prob, kind, None, True)
        cols: dict[str, object] = {"parameter": [r["parameter"] for r in rows]
                                   + [f"theta[{lab}]" for lab in self.labels]}
        for c, col in self._theta_columns(prob, kind):
            cols[c] = np.concatenate([[r[c] for r in rows], th[:, col]])
        cols["map_joint"] = np.concatenate([[r["map_joint"] for r in rows], np.full(self.k, np.nan)])
        return pd.DataFrame(cols)

    def draws(self, n: int, rng=None) -> dict[str, np.ndarray]:
        """Exact Monte Carlo draws of tau, mu, theta_new and theta (n, k) from the posterior:
        tau by inversion of its CDF, then mu (and the Student-t scale) from their exact
        conditionals given tau."""
        rng = np.random.default_rng(rng)
        tau = np.asarray(self.tau.ppf(rng.uniform(size=n)), dtype=float)
        d = self._data
        row_a = np.zeros(1, dtype=np.int64)
        S0, S1, S2, _, SL = K.suffstats(np.ascontiguousarray((tau * tau)[None, :]), row_a, d.y, d.v, d.kk)
        mloc, mvar, mlogw = B.mu_prior_nodes(self.mu_prior, self.n_lambda, d)
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
            lines.append(f"  {r['parameter']:>9}: mode {r['mode']:.4f}, median {r['median']:.4f}, "
                         f"mean {r['mean']:.4f}, sd {r['sd']:.4f}, "
                         f"95% HDI [{r['hdi95_lb']:.4f}, {r['hdi95_ub']:.4f}]")
        mp = self.map_estimate
        lines.append("  MAP estimates (joint: maximum of p(tau, mu | y); marginal: the modes above):")
        lines += [f"    {row:>8}: tau {mp.loc[row, 'tau']:.4f}, mu {mp.loc[row, 'mu']:.4f}" for row in mp.index]
        if self.log_marginal_likelihood is not None:
            lines.append(f"  log marginal likelihood {self.log_marginal_likelihood:.4f}")
        return "\n".join(lines)


    # --- notebooks and the PyData stack (issue 18) -------------------------------------------
    def __repr__(self) -> str:
        lo, hi = self.mu.interval(0.95, "hdi")
        tlo, thi = self.tau.interval(0.95, "hdi")
        return (f"<NormalNormalPosterior exact, k={self.k}; priors {self.tau_prior}, {self.mu_prior}; "
                f"mu median {self.mu.median():.4g} [95% HDI {lo:.4g}, {hi:.4g}]; "
                f"tau median {self.tau.median():.4g} [95% HDI {tlo:.4g}, {thi:.4g}]>")

    def _repr_html_(self) -> str:
        from html import escape

        s = self.summary(0.95, "hdi", studies=False)
        rows = "".join(
            f"<tr><td>{escape(str(r['parameter']))}</td><td>{r['mode']:.4f}</td><td>{r['median']:.4f}</td>"
            f"<td>{r['mean']:.4f}</td><td>{r['sd']:.4f}</td><td>[{r['hdi95_lb']:.4f}, {r['hdi95_ub']:.4f}]</td></tr>"
            for _, r in s.iterrows())
        lml = ("" if self.log_marginal_likelihood is None
               else f"; log marginal likelihood {self.log_marginal_likelihood:.4f}")
        return (
            "<div><b>Normal-normal hierarchical model, exact posterior</b> (numerical integration)<br>"
            f"k = {self.k} studies; prior on tau: {escape(str(self.tau_prior))}; prior on mu: "
            f"{escape(str(self.mu_prior))}{lml}<br>"
            "<table><thead><tr><th>parameter</th><th>mode</th><th>median</th><th>mean</th><th>sd</th>"
            "<th>95% HDI</th></tr></thead><tbody>" + rows + "</tbody></table></div>"
        )

    def to_datatree(self, draws: int = 1000, chains: int = 4, seed: int | None = 0) -> xr.DataTree:
        """Exact Monte Carlo draws as an ArviZ-ready ``xarray.DataTree``.

        ``az.summary(post.to_datatree())`` and every ArviZ plot then work on the exact posterior.
        The draws are independent (:meth:`draws`), split into ``chains`` chains of ``draws`` each so
        that ArviZ's R-hat and ESS are defined (they are ~1 and ~the number of draws); the
        exact summaries (:meth:`summary`) need no draws and have no Monte Carlo error.

        Parameters
        ----------
        draws : int
            Draws per chain.
        chains : int
            Number of chains (independent blocks).
        seed : int, optional
            Random seed (reproducible by default).

        Returns
        -------
        xarray.DataTree
            Groups ``posterior`` (``tau``, ``mu``, ``theta_new`` and ``theta`` with dim ``study``) and
            ``observed_data`` (``y``, ``sei``); the priors in the root attributes.
        """
        if int(draws) < 1 or int(chains) < 1:
            raise ValueError(f"draws and chains must be positive, got draws={draws}, chains={chains}")
        n, c = int(draws), int(chains)
        d = self.draws(n * c, rng=seed)
        coords = {"chain": np.arange(c), "draw": np.arange(n), "study": list(self.labels)}
        post = xr.Dataset(
            {
                "tau": (("chain", "draw"), d["tau"].reshape(c, n)),
                "mu": (("chain", "draw"), d["mu"].reshape(c, n)),
                "theta_new": (("chain", "draw"), d["theta_new"].reshape(c, n)),
                "theta": (("chain", "draw", "study"), d["theta"].reshape(c, n, self.k)),
            },
            coords=coords,
        )
        obs = xr.Dataset({"y": ("study", np.asarray(self.yi)), "sei": ("study", np.asarray(self.sei))},
                         coords={"study": list(self.labels)})
        tree = xr.DataTree.from_dict({"/posterior": post, "/observed_data": obs})
        tree.attrs = {"inference": "exact posterior (numerical integration); independent Monte Carlo draws",
                      "tau_prior": str(self.tau_prior), "mu_prior": str(self.mu_prior), "seed": str(seed)}
        return tree


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
    logdens = _LogDensity(data, tau_prior, mu_prior, n_lambda)
    return NormalNormalPosterior(yi=yi, sei=sei, labels=labels, tau_prior=tau_prior, mu_prior=mu_prior,
                                 tau=TauPosterior(rows, tau_prior, logdens), mu=mu, theta_new=theta_new,
                                 log_marginal_likelihood=_opt(rows.log_ml[0]), log_bf_mu=log_bf_mu,
                                 log_bf_tau=_opt(rows.log_bf_tau[0]), _rows=rows, _data=data, n_lambda=n_lambda)
