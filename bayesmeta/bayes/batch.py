r"""Batched exact engine for the normal-normal model: many data sets and many priors in one call.

Model (Röver 2020, J Stat Softw 93(6), doi:10.18637/jss.v093.i06):
:math:`y_i \mid \mu, \tau \sim N(\mu, s_i^2 + \tau^2)`, :math:`\mu \sim p(\mu)`,
:math:`\tau \sim p(\tau)`. Given :math:`\tau` everything is conjugate (see
:mod:`bayesmeta.bayes.exact`), so the posterior is a one-dimensional integral over
:math:`\tau`, done here

* on :math:`x = \log\tau` (the scale on which the literature's priors for :math:`\tau^2` are
  smooth: log-normal (Turner et al. 2015), log-t (Rhodes et al. 2015), and on which a prior or a
  likelihood with a spike at :math:`\tau = 0`, e.g. the Jeffreys prior or one study with a tiny
  standard error, is an ordinary smooth density);
* on a range found by two coarse passes (everything within :math:`e^{-40}` of the largest
  density, or of the largest density times :math:`\tau^2`), then a fine equispaced grid with
  :math:`h \le 0.1` and at least 150 cells;
* with the mass below :math:`\tau_0 = 10^{-5}\min(s_{min}, \text{prior median})`, where the
  likelihood equals :math:`p(y \mid \tau = 0)` to :math:`O(\tau_0^2/s_{min}^2) = 10^{-10}`,
  added exactly as :math:`p(y \mid 0)\,P_{prior}(\tau < \tau_0)`;
* by 6-point local polynomial quadrature (:mod:`bayesmeta.bayes._kernels`): cdf, quantiles and
  moments of :math:`\tau` to :math:`O(h^6)`;
* the marginals of :math:`\mu` and :math:`\theta_{new}` are normal mixtures with one component
  per node, weighted by the same quadrature (the integrands are analytic in a strip around the
  real :math:`x` axis, so the rule converges geometrically; with :math:`h \le 0.1` the mixture
  moments agree with nested adaptive quadrature to about :math:`10^{-9}`), with one cdf used by
  both quantiles and probabilities; runs of neighbouring components whose means, variances and
  :math:`\tau^2` differ by less than :math:`10^{-3}` SDs (the tails, where :math:`\tau \ll s_i`)
  are replaced by one moment-matched normal (CDF error :math:`O(10^{-9})`), and components lighter
  than :math:`10^{-16}` are dropped;
* a Student-t prior on :math:`\mu` is a scale mixture of normals,
  :math:`\mu \sim N(m_0, s_0^2/\lambda)`, :math:`\lambda \sim \Gamma(\nu/2, \nu/2)`, integrated by
  generalised Gauss-Laguerre quadrature in :math:`\lambda` (weight
  :math:`\lambda^{\nu/2 - 1/2}e^{-\nu\lambda/2}`, which takes the :math:`\sqrt\lambda` behaviour of
  the marginal likelihood at :math:`\lambda \to 0` out of the integrand).

Bayes factors: :math:`\log BF_{10}` for :math:`\mu \ne 0` against :math:`\mu = 0` by the
Savage-Dickey density ratio :math:`p(\mu = 0)/p(\mu = 0 \mid y)` (Dickey 1971; Wagenmakers et al.
2010, doi:10.1016/j.cogpsych.2009.12.001), and for :math:`\tau > 0` against :math:`\tau = 0`
as :math:`p(y)/p(y \mid \tau = 0)`.

:func:`solve_batch` returns an :class:`xarray.Dataset` indexed by ``analysis`` and ``prior``;
:func:`bayesmeta.bayes.exact.solve` calls the same engine with one row, so both paths give the
same numbers.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xarray as xr
from scipy import special

from bayesmeta.bayes import _heap
from bayesmeta.bayes import _kernels as K
from bayesmeta.bayes.priors import Prior, flat
from bayesmeta.bayes.scale_mixture import studentt_components

_LOG2PI = float(np.log(2 * np.pi))
FLOOR_FACTOR = 1e-5     # tau_0 = FLOOR_FACTOR * min(smallest SE, prior median)
THRESH = 40.0           # nodes within exp(-THRESH) of the largest density define the range
N_PASS1, N_PASS2 = 96, 64
H_MAX, MIN_CELLS = 0.1, 150
MERGE_EPS = 1e-3        # neighbouring components closer than this (in SDs) are moment-matched
PRUNE_W = 1e-16         # components lighter than this are dropped (their total is below 1e-13)
MAX_ABS = 1e150         # values beyond this overflow squared quantities
MIN_SE = 1e-150
MIN_CHUNK = 128         # analyses per thread task at least (below this, threads cost more than they save)


class ExactInputError(ValueError):
    """The data cannot be solved exactly (the message says why and what to do)."""


# --------------------------------------------------------------------------------------------
# priors
# --------------------------------------------------------------------------------------------

def _likelihood_pairs(data: Data):
    """(y, v) pairs spanning where the data put weight on mu, for choosing Student-t nodes.

    Per analysis: the common-effect estimate with its variance and the two most extreme studies
    (the conditional estimate of mu given tau is a weighted mean of the studies, between these).
    """
    A, K_ = data.y.shape
    valid = np.arange(K_)[None, :] < data.kk[:, None]
    y = np.where(valid, data.y + data.center[:, None], np.nan)
    v = np.where(valid, data.v, np.nan)
    w = np.where(valid, 1.0 / data.v, 0.0)
    V_fe = 1.0 / np.sum(w, axis=1)
    y_fe = np.sum(w * np.where(valid, y, 0.0), axis=1) * V_fe
    idx = np.arange(A)
    lo, hi = np.nanargmin(y, axis=1), np.nanargmax(y, axis=1)
    return (np.concatenate([y_fe, y[idx, lo], y[idx, hi]]),
            np.concatenate([V_fe, v[idx, lo], v[idx, hi]]))


def mu_prior_nodes(mu_prior: Prior, n_lambda: int = 32, data: Data | None = None):
    """(loc, variance or inf, log weight) of the normal components representing the mu prior.

    A Student-t prior is a scale mixture of normals; its components come from the one rule of
    :func:`bayesmeta.bayes.scale_mixture.studentt_components` (trapezoid in log lambda over the
    range where the data put posterior weight: under prior-data conflict the weight sits far in
    the prior's tail, where a fixed Gauss-Laguerre rule of ``n_lambda`` nodes was 0.16 posterior
    SDs off). ``n_lambda`` is kept for backward compatibility and no longer used.
    """
    p = mu_prior.params
    if mu_prior.family == "flat":
        return np.array([0.0]), np.array([np.inf]), np.array([0.0])
    if mu_prior.family == "normal":
        return np.array([p["loc"]]), np.array([p["scale"] ** 2]), np.array([0.0])
    if mu_prior.family == "studentt":
        y, v = _likelihood_pairs(data) if data is not None else (None, None)
        return studentt_components(mu_prior, y, v)
    raise ValueError(f"unsupported mu prior family {mu_prior.family!r}; use normal, studentt or flat")


def _tau_logprior(prior: Prior, tau, S3):
    """log p(tau) at tau > 0 (R', N); S3 = sum_i w_i^2 (needed by the Jeffreys prior).

    The densities are written out (the same as :meth:`Prior.logpdf`, checked in the tests),
    because building scipy's frozen distributions costs more than a whole small fit.
    """
    f, p = prior.family, prior.params
    with np.errstate(divide="ignore"):
        if f == "jeffreys":
            return np.log(tau) + 0.5 * np.log(S3)
        if f == "flat":
            return np.zeros_like(tau)
        if f == "halfnormal":
            sc = p["scale"]
            return 0.5 * np.log(2 / np.pi) - np.log(sc) - 0.5 * (tau / sc) ** 2
        if f == "halfcauchy":
            sc = p["scale"]
            return np.log(2 / (np.pi * sc)) - np.log1p((tau / sc) ** 2)
        if f == "halfstudentt":
            nu, sc = p["nu"], p["scale"]
            return (np.log(2.0) + _t_const(nu) - np.log(sc)
                    - (nu + 1) / 2 * np.log1p((tau / sc) ** 2 / nu))
        if f == "exponential":
            return np.log(p["rate"]) - p["rate"] * tau
        if f == "uniform":
            return np.where(tau <= p["upper"], -np.log(p["upper"]), -np.inf)
        if f == "lognormal_tau2":
            lt, m, sd = np.log(tau), p["mean"] / 2, p["sd"] / 2
            return -lt - np.log(sd) - 0.5 * np.log(2 * np.pi) - 0.5 * ((lt - m) / sd) ** 2
        if f == "logt_tau2":
            lt, nu, loc, sc = np.log(tau), p["nu"], p["loc"] / 2, p["scale"] / 2
            return -lt + _t_const(nu) - np.log(sc) - (nu + 1) / 2 * np.log1p(((lt - loc) / sc) ** 2 / nu)
        if f == "invgamma":
            al, be = p["alpha"], p["beta"]
            return al * np.log(be) - special.gammaln(al) - (al + 1) * np.log(tau) - be / tau
    return np.asarray(prior.logpdf(tau), dtype=float)


def _t_const(nu):
    return special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2) - 0.5 * np.log(nu * np.pi)


@lru_cache(maxsize=4096)
def _prior_ppf(prior: Prior, q: float) -> float:
    return float(prior.ppf(q))


@lru_cache(maxsize=4096)
def mu_logpdf_at(prior: Prior, x: float) -> float:
    """log p(mu = x) of a proper mu prior (cached: used for the Savage-Dickey ratio)."""
    return float(prior.logpdf(x))




def _tau_floor_mass(prior: Prior, tau0, v, kk):
    """log P_prior(tau < tau0) (unnormalised like logpdf for the improper priors)."""
    if prior.family == "flat":
        return np.log(tau0)
    if prior.family == "jeffreys":
        # p(tau) = tau * sqrt(sum_i 1/v_i^2) (1 + O(tau^2/v)) near zero
        s = np.array([np.sum(1.0 / v[a, : kk[a]] ** 2) for a in range(v.shape[0])])
        return 2 * np.log(tau0) - np.log(2.0) + 0.5 * np.log(s)
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(prior.cdf(np.asarray(tau0, dtype=float)), dtype=float))


def _atom_ppf(prior: Prior, tau0, u):
    """tau in [0, tau0] below which a fraction u of the prior mass of [0, tau0] lies."""
    if prior.family == "flat":
        return tau0 * u
    if prior.family == "jeffreys":
        return tau0 * np.sqrt(u)
    return np.asarray(prior.ppf(u * prior.cdf(tau0)), dtype=float)


def _atom_cdf(prior: Prior, tau0, t):
    if prior.family == "flat":
        return t / tau0
    if prior.family == "jeffreys":
        return (t / tau0) ** 2
    return np.asarray(prior.cdf(t), dtype=float) / np.asarray(prior.cdf(tau0), dtype=float)


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Data:
    """Compacted, centred data: y (A, K) = yi - center, v (A, K), kk (A,) studies per analysis."""

    y: np.ndarray
    v: np.ndarray
    kk: np.ndarray
    center: np.ndarray
    smin: np.ndarray
    scale: np.ndarray


def prepare(yi, sei, mask=None, where: str = "") -> Data:
    """Check and compact 2-D (analysis, study) arrays; NaN in yi or sei (or mask False) pads."""
    yi = np.atleast_2d(np.asarray(yi, dtype=float))
    sei = np.atleast_2d(np.asarray(sei, dtype=float))
    if yi.shape != sei.shape or yi.ndim != 2:
        raise ExactInputError(f"{where}yi and sei must have the same shape (analysis, study); "
                              f"got {yi.shape} and {sei.shape}")
    valid = ~(np.isnan(yi) & np.isnan(sei))
    if mask is not None:
        valid &= np.asarray(mask, dtype=bool)
    bad = valid & ~np.isfinite(yi)
    if bad.any():
        a, i = np.argwhere(bad)[0]
        raise ExactInputError(f"{where}yi[{a}, {i}] = {yi[a, i]} is not finite; "
                              "give a finite estimate or mask the study out")
    bad = valid & ~(sei > 0)
    if bad.any():
        a, i = np.argwhere(bad)[0]
        raise ExactInputError(f"{where}sei[{a}, {i}] = {sei[a, i]} is not a positive standard error; "
                              "give SE > 0 (a study with SE 0 would fix the effect exactly)")
    big = valid & ((np.abs(yi) > MAX_ABS) | (sei > MAX_ABS))
    if big.any():
        a, i = np.argwhere(big)[0]
        raise ExactInputError(f"{where}study [{a}, {i}] has |yi| or sei above {MAX_ABS:g} "
                              f"(yi {yi[a, i]:g}, sei {sei[a, i]:g}): "
                              "squares overflow double precision; rescale the effect measure")
    tiny = valid & (sei < MIN_SE)
    if tiny.any():
        a, i = np.argwhere(tiny)[0]
        raise ExactInputError(f"{where}sei[{a}, {i}] = {sei[a, i]:g} is below {MIN_SE:g}: "
                              "its variance underflows double "
                              "precision; check the standard error (a study this precise fixes the effect)")
    kk = valid.sum(axis=1)
    if np.any(kk < 1):
        raise ExactInputError(f"{where}analysis {int(np.argmin(kk))} has no studies")
    order = np.argsort(~valid, axis=1, kind="stable")
    y = np.take_along_axis(np.where(valid, yi, 0.0), order, 1)
    v = np.take_along_axis(np.where(valid, sei, 1.0) ** 2, order, 1)
    pad = np.arange(y.shape[1])[None, :] >= kk[:, None]
    w = np.where(pad, 0.0, 1.0 / v)
    center = np.sum(w * y, axis=1) / np.sum(w, axis=1)
    y = np.where(pad, 0.0, y - center[:, None])
    v = np.where(pad, 1.0, v)
    s = np.sqrt(v)
    smin = np.min(np.where(pad, np.inf, s), axis=1)
    scale = np.maximum(np.max(np.where(pad, 0.0, np.abs(y)), axis=1), np.max(np.where(pad, 0.0, s), axis=1))
    return Data(y=np.ascontiguousarray(y), v=np.ascontiguousarray(v), kk=kk.astype(np.int64), center=center,
                smin=smin, scale=scale)


def check_propriety(k: int, tau_prior: Prior, mu_prior: Prior, where: str = ""):
    """Refuse combinations whose posterior is improper (Röver 2020, appendix B)."""
    if mu_prior.family == "flat" and tau_prior.family == "flat" and k < 3:
        raise ExactInputError(f"{where}flat priors on mu and tau give an improper posterior for k < 3 "
                              "(Roever 2020, app. B); use a proper tau prior")
    if mu_prior.family == "flat" and k < 2 and not tau_prior.proper:
        raise ExactInputError(f"{where}an improper tau prior needs k >= 2 studies with a flat mu prior")


# --------------------------------------------------------------------------------------------
# the engine
# --------------------------------------------------------------------------------------------

@dataclass
class Rows:
    """Engine output for R rows (one mu prior): everything the summaries and objects need."""

    row_a: np.ndarray
    row_t: np.ndarray
    center: np.ndarray
    x0: np.ndarray
    h: np.ndarray
    n: np.ndarray
    f: np.ndarray        # density in x on the fine grid (R, N), scaled by exp(-shift)
    F: np.ndarray        # cumulative (same units); F[:, n-1] = Z
    Z: np.ndarray
    atom: np.ndarray     # mass below tau0 (same units)
    tau0: np.ndarray
    has_atom: np.ndarray
    tau_mean: np.ndarray
    tau_sd: np.ndarray
    w: np.ndarray        # mixture weights (R, C), normalised
    m: np.ndarray        # mixture means (original scale)
    V: np.ndarray        # mixture variances of mu given (tau, lambda)
    tau_c: np.ndarray    # tau of each component (0 for the atom)
    log_ml: np.ndarray   # log p(y) (NaN unless both priors are proper)
    log_bf_tau: np.ndarray  # log BF10 tau > 0 vs tau = 0 (NaN for improper tau priors)


def _conditionals(S0, S1, S2, SL, kk, mloc, mvar, mlogw):
    """m, V and log p(y | tau, lambda) + log weight of lambda; S* (R, N) -> (R, N, L)."""
    finite = np.isfinite(mvar)
    prec0 = np.where(finite, 1.0 / np.where(finite, mvar, 1.0), 0.0)
    S0, S1, S2, SL = (a[..., None] for a in (S0, S1, S2, SL))
    V = 1.0 / (S0 + prec0)
    m = V * (S1 + prec0 * mloc)
    quad = S2 + prec0 * mloc**2 - m * m / V
    const = np.where(finite, -0.5 * np.log(np.where(finite, mvar, 1.0)), 0.5 * _LOG2PI)
    ll = 0.5 * SL - 0.5 * quad + 0.5 * np.log(V) - 0.5 * kk[:, None, None] * _LOG2PI + const + mlogw
    return m, V, ll


def _lse(a):
    """log-sum-exp over the last axis (plain numpy; the last axis is often of length one)."""
    if a.shape[-1] == 1:
        return a[..., 0].copy()
    top = np.max(a, axis=-1)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(a - safe[..., None]), axis=-1)) + safe


def _logpost(x, data: Data, row_a, row_t, tau_priors, mloc, mvar, mlogw, keep=False):
    """log posterior density in x = log tau at nodes x (R, N): marginal over lambda, and optionally
    the per-lambda conditionals."""
    tau = np.exp(x)
    S0, S1, S2, S3, SL = K.suffstats(tau * tau, row_a, data.y, data.v, data.kk)
    mloc_r = mloc[None, :] - data.center[row_a][:, None]  # centred prior location per row
    m, V, ll = _conditionals(S0, S1, S2, SL, data.kk[row_a], mloc_r[:, None, :], mvar, mlogw)
    lp = _lse(ll) + x
    for t, prior in enumerate(tau_priors):
        sel = row_t == t
        if sel.all():  # one tau prior for every row (the common case): no gather and scatter
            lp += _tau_logprior(prior, tau, S3)
        elif sel.any():
            lp[sel] += _tau_logprior(prior, tau[sel], S3[sel])
    lp = np.where(np.isnan(lp), -np.inf, lp)
    return (lp, m, V, ll) if keep else lp


def _range(x, lp):
    """[a, b] covering the nodes within exp(-THRESH) of the row maximum of the density, or of the
    density times tau^2 (so that the second moment of tau, and theta_new's variance, are
    complete for heavy-tailed posteriors), one node to spare."""
    top = np.max(lp, axis=1, keepdims=True)
    if not np.all(np.isfinite(top)):
        raise ExactInputError("the posterior density is zero or infinite on the whole tau grid; "
                              "check the data and the priors")
    lp2 = lp + 2 * x
    ok = (lp >= top - THRESH) | (lp2 >= np.max(lp2, axis=1, keepdims=True) - THRESH)
    n = x.shape[1]
    first = np.argmax(ok, axis=1)
    last = n - 1 - np.argmax(ok[:, ::-1], axis=1)
    idx = np.arange(x.shape[0])
    return x[idx, np.maximum(first - 1, 0)], x[idx, np.minimum(last + 1, n - 1)], first == 0


def run(data: Data, tau_priors: Sequence[Prior], mu_prior: Prior, row_a, row_t, n_lambda: int = 32) -> Rows:
    """The engine for rows (analysis row_a[r], tau prior row_t[r]) under one mu prior."""
    row_a = np.asarray(row_a, dtype=np.int64)
    row_t = np.asarray(row_t, dtype=np.int64)
    R = row_a.size
    mloc, mvar, mlogw = mu_prior_nodes(mu_prior, n_lambda, data)
    # floor and ceiling of x = log tau
    tau0 = FLOOR_FACTOR * data.smin[row_a]
    x_hi = np.log(data.scale[row_a]) + 25.0
    upper = np.full(R, np.inf)
    for t, prior in enumerate(tau_priors):
        sel = row_t == t
        if prior.proper:
            tau0[sel] = np.minimum(tau0[sel], FLOOR_FACTOR * _prior_ppf(prior, 0.5))
            x_hi[sel] = np.maximum(x_hi[sel], np.log(_prior_ppf(prior, 1 - 1e-12)) + 1.0)
        if prior.family == "uniform":
            upper[sel] = prior.params["upper"]
    # heavy prior tails: beyond e^60 times the data scale the mass is negligible (and tau^2 must not overflow)
    x_hi = np.minimum(np.minimum(x_hi, np.log(data.scale[row_a]) + 60.0), 300.0)
    x_hi = np.minimum(x_hi, np.log(upper))
    x_lo = np.log(tau0)
    if np.any(x_hi <= x_lo):
        raise ExactInputError("the tau prior's support ends below the smallest resolvable tau; "
                              "widen the prior")
    # pass 1 and 2: locate the mass
    g = np.linspace(0.0, 1.0, N_PASS1)
    x = x_lo[:, None] + (x_hi - x_lo)[:, None] * g
    lp = _logpost(x, data, row_a, row_t, tau_priors, mloc, mvar, mlogw)
    a, b, at_floor = _range(x, lp)
    g = np.linspace(0.0, 1.0, N_PASS2)
    x = a[:, None] + (b - a)[:, None] * g
    lp = _logpost(x, data, row_a, row_t, tau_priors, mloc, mvar, mlogw)
    a2, b2, first = _range(x, lp)
    has_atom = at_floor & first & (a2 <= x_lo)
    a2 = np.where(has_atom, x_lo, a2)
    # fine grid: h <= H_MAX, >= MIN_CELLS cells
    width = b2 - a2
    cells = np.maximum(np.ceil(width / H_MAX), MIN_CELLS).astype(np.int64)
    n = cells + 1
    h = width / cells
    N = int(n.max())
    j = np.arange(N)
    x = a2[:, None] + h[:, None] * j
    lp, m, V, ll = _logpost(x, data, row_a, row_t, tau_priors, mloc, mvar, mlogw, keep=True)
    valid = j[None, :] < n[:, None]
    lp = np.where(valid, lp, -np.inf)
    # the mass below tau0: p(y | tau = 0) * P(tau < tau0)
    zero = np.zeros((R, 1))
    S0, S1, S2, _, SL = K.suffstats(zero, row_a, data.y, data.v, data.kk)
    mloc_r = mloc[None, :] - data.center[row_a][:, None]
    m0, V0, ll0 = _conditionals(S0, S1, S2, SL, data.kk[row_a], mloc_r[:, None, :], mvar, mlogw)
    ll0_marg = _lse(ll0[:, 0, :])
    logF0 = np.full(R, -np.inf)
    for t, prior in enumerate(tau_priors):
        sel = (row_t == t) & has_atom
        if sel.any():
            logF0[sel] = _tau_floor_mass(prior, tau0[sel], data.v[row_a[sel]], data.kk[row_a[sel]])
    log_atom = np.where(has_atom, ll0_marg + logF0, -np.inf)
    shift = np.maximum(np.max(lp, axis=1), log_atom)
    f = np.exp(lp - shift[:, None])
    atom = np.exp(log_atom - shift)
    F, W = K.cumulative(f, n, h, atom, K.CELLW)
    Z = F[np.arange(R), n - 1]
    tau = np.exp(x)
    tau_mean = (atom * tau0 / 2 + np.sum(W * f * tau, axis=1)) / Z
    tau_m2 = (atom * tau0**2 / 3 + np.sum(W * f * tau**2, axis=1)) / Z
    tau_sd = np.sqrt(np.maximum(tau_m2 - tau_mean**2, 0.0))
    # the mixtures: one component per node and lambda (+ the atom's), weighted by the node's
    # quadrature weight times p(lambda | tau, y); f is zero beyond a row's nodes
    L = mloc.size
    if L == 1:  # p(lambda | tau, y) = 1 where the likelihood is finite (f = 0 elsewhere)
        wc = (W * f)[:, :, None]
    else:
        lw_lam = ll - _lse(ll)[..., None]
        lw_lam = np.where(np.isfinite(lw_lam), lw_lam, -np.inf)
        wc = (W * f)[:, :, None] * np.exp(lw_lam)
    w0 = atom[:, None] * np.exp(ll0[:, 0, :] - ll0_marg[:, None])
    w_all = np.concatenate([w0, wc.reshape(R, -1)], axis=1)
    m_all = np.concatenate([m0[:, 0, :], m.reshape(R, -1)], axis=1) + data.center[row_a][:, None]
    V_all = np.concatenate([V0[:, 0, :], V.reshape(R, -1)], axis=1)
    t_all = np.concatenate([np.zeros((R, L)), tau if L == 1 else np.repeat(tau, L, axis=1)], axis=1)
    w_all = np.where(np.isfinite(w_all) & (w_all > 0), w_all, 0.0)
    w_all = w_all / w_all.sum(axis=1, keepdims=True)
    w_all, m_all, V_all, t_all = K.compress(w_all, m_all, V_all, t_all, MERGE_EPS, PRUNE_W)
    # marginal likelihood and Bayes factor for tau
    log_p = shift + np.log(Z)
    log_ml = np.full(R, np.nan)
    log_bf_tau = np.full(R, np.nan)
    for t, prior in enumerate(tau_priors):
        sel = row_t == t
        if prior.proper:
            log_bf_tau[sel] = log_p[sel] - ll0_marg[sel]
            if mu_prior.proper:
                log_ml[sel] = log_p[sel]
    return Rows(row_a=row_a, row_t=row_t, center=data.center[row_a], x0=a2, h=h, n=n,
                f=np.ascontiguousarray(f),
                F=F, Z=Z, atom=atom, tau0=tau0, has_atom=has_atom, tau_mean=tau_mean, tau_sd=tau_sd,
                w=np.ascontiguousarray(w_all), m=np.ascontiguousarray(m_all), V=np.ascontiguousarray(V_all),
                tau_c=t_all, log_ml=log_ml, log_bf_tau=log_bf_tau)


# --------------------------------------------------------------------------------------------
# summaries on Rows (vectorised over rows)
# --------------------------------------------------------------------------------------------

def tau_cdf(rows: Rows, tau_priors, c):
    """P(tau < c) for c (R, Q)."""
    c = np.asarray(c, dtype=float)
    with np.errstate(divide="ignore"):
        xq = np.log(np.maximum(c, 0.0))
    out = K.grid_cdf(rows.x0, rows.h, rows.n, rows.f, rows.F, np.ascontiguousarray(xq), K.LBASIS, K.ABASIS)
    below = np.isnan(out)
    if below.any():
        for r, q in zip(*np.nonzero(below)):
            if c[r, q] <= 0 or not rows.has_atom[r]:
                out[r, q] = 0.0
            else:
                prior = tau_priors[rows.row_t[r]]
                out[r, q] = rows.atom[r] * float(_atom_cdf(prior, rows.tau0[r], c[r, q]))
    return out / rows.Z[:, None]


def tau_ppf(rows: Rows, tau_priors, probs):
    """Quantiles of tau for probabilities probs (R, Q)."""
    probs = np.asarray(probs, dtype=float)
    target = probs * rows.Z[:, None]
    x = K.grid_ppf(rows.x0, rows.h, rows.n, rows.f, rows.F, np.ascontiguousarray(target), K.LBASIS, K.ABASIS)
    out = np.exp(x)
    below = np.isnan(x)
    if below.any():
        for r, q in zip(*np.nonzero(below)):
            if not rows.has_atom[r] or rows.atom[r] <= 0:
                out[r, q] = np.exp(rows.x0[r])
            else:
                u = min(target[r, q] / rows.atom[r], 1.0)
                out[r, q] = float(_atom_ppf(tau_priors[rows.row_t[r]], rows.tau0[r], u))
    return out


def tau_pdf(rows: Rows, c):
    """Posterior density of tau (per unit of tau) at c (R, Q) > 0."""
    c = np.asarray(c, dtype=float)
    with np.errstate(divide="ignore"):
        xq = np.log(np.maximum(c, 1e-300))
    fx, _ = K.grid_pdf(rows.x0, rows.h, rows.n, rows.f, np.ascontiguousarray(xq), K.LBASIS, K.ABASIS)
    return fx / c / rows.Z[:, None]


def tau_hdi(rows: Rows, tau_priors, prob):
    """Shortest interval of tau (R, 2): [0, q_prob] when the density is largest at zero, else the
    interval with equal density at its ends (bisection on the lower tail probability)."""
    R = rows.Z.size
    prob = np.broadcast_to(np.asarray(prob, dtype=float), (R,))
    out = np.empty((R, 2))
    hi0 = tau_ppf(rows, tau_priors, prob[:, None])[:, 0]
    # density just above zero: at the floor node (finite priors) or infinite (spikes)
    g0 = np.where(rows.has_atom, tau_pdf(rows, np.exp(rows.x0)[:, None])[:, 0], 0.0)
    ghi = tau_pdf(rows, hi0[:, None])[:, 0]
    at_zero = rows.has_atom & (g0 >= ghi)
    out[at_zero, 0] = 0.0
    out[at_zero, 1] = hi0[at_zero]
    todo = np.nonzero(~at_zero)[0]
    if todo.size:
        sub = _subset(rows, todo)
        out[todo] = K.grid_hdi(sub.x0, sub.h, sub.n, sub.f, sub.F, np.ascontiguousarray(prob[todo]),
                               K.LBASIS, K.ABASIS)
    return out


def _subset(rows: Rows, idx) -> Rows:
    return Rows(**{k: (v[idx] if isinstance(v, np.ndarray) else v) for k, v in rows.__dict__.items()})


def mixture(rows: Rows, which: str):
    """(w, m, s) of the normal mixture of ``mu`` or ``theta_new``."""
    if which == "mu":
        return rows.w, rows.m, np.sqrt(rows.V)
    if which == "theta_new":
        return rows.w, rows.m, np.sqrt(rows.V + rows.tau_c**2)
    raise ValueError("which must be 'mu' or 'theta_new'")


def _tail_starts(quantiles, probs, interval_prob):
    """The equal-tailed interval's ends when the reported quantiles include them (the start of
    the shortest-interval search), else NaN (solved by the kernel)."""
    R = quantiles.shape[0]
    out = []
    for target in (0.5 * (1 - interval_prob), 0.5 * (1 + interval_prob)):
        hit = np.nonzero(np.abs(probs - target) < 1e-15)[0]
        out.append(np.ascontiguousarray(quantiles[:, hit[0]]) if hit.size else np.full(R, np.nan))
    return out


def summarise(rows: Rows, tau_priors, mu_prior: Prior, probs, interval_prob: float, thresholds):
    """Dict of arrays (R, ...) with the summaries that solve_batch reports."""
    R = rows.Z.size
    probs = np.asarray(probs, dtype=float)
    thr = np.asarray(thresholds, dtype=float)
    P = np.broadcast_to(probs, (R, probs.size)).copy()
    out = {"tau_mean": rows.tau_mean, "tau_sd": rows.tau_sd,
           "tau_quantile": tau_ppf(rows, tau_priors, P)}
    hd = tau_hdi(rows, tau_priors, interval_prob)
    out["tau_hdi_lb"], out["tau_hdi_ub"] = hd[:, 0], hd[:, 1]
    for name in ("mu", "theta_new"):
        w, m, s = mixture(rows, name)
        mean, sd = K.mix_moments(w, m, s)
        out[f"{name}_mean"], out[f"{name}_sd"] = mean, sd
        out[f"{name}_quantile"] = K.mix_ppf(w, m, s, mean, sd, P)
        hd = K.mix_hdi(w, m, s, mean, sd, np.full(R, float(interval_prob)),
                       *_tail_starts(out[f"{name}_quantile"], probs, interval_prob))
        out[f"{name}_hdi_lb"], out[f"{name}_hdi_ub"] = hd[:, 0], hd[:, 1]
        out[f"p_{name}_below"] = K.mix_cdf(w, m, s, np.ascontiguousarray(np.broadcast_to(thr, (R, thr.size))))
    out["log_marginal_likelihood"] = rows.log_ml
    out["log_bf_tau"] = rows.log_bf_tau
    if mu_prior.proper:
        w, m, s = mixture(rows, "mu")
        post0 = K.mix_pdf(w, m, s, np.zeros((R, 1)))[:, 0]
        with np.errstate(divide="ignore"):
            out["log_bf_mu"] = mu_logpdf_at(mu_prior, 0.0) - np.log(post0)
    else:
        out["log_bf_mu"] = np.full(R, np.nan)
    return out


# --------------------------------------------------------------------------------------------
# public batched call
# --------------------------------------------------------------------------------------------

def solve_batch(yi, sei, tau_priors: Sequence[Prior] | Prior,
                mu_priors: Sequence[Prior] | Prior | None = None, *,
                mask=None, probs=(0.025, 0.25, 0.5, 0.75, 0.975), interval_prob: float = 0.95,
                thresholds=(0.0,), analyses=None, pairing: str = "product", n_lambda: int = 32,
                chunk: int = 256, workers: int | None = None, modes: bool = False) -> xr.Dataset:
    """Exact posteriors of the normal-normal model for many data sets and priors at once.

    Parameters
    ----------
    yi, sei : array_like, shape (analysis, study)
        Estimates and standard errors; ragged analyses are padded with NaN (or use ``mask``).
        A 1-D pair is one analysis.
    tau_priors, mu_priors : Prior or sequence of Prior
        Priors on tau and on mu (``mu_priors`` defaults to a flat prior).
    mask : array_like of bool, optional
        True where a study is present.
    probs : sequence of float
        Quantile probabilities reported for tau, mu and theta_new.
    interval_prob : float
        Probability of the shortest (highest-density) intervals.
    thresholds : sequence of float
        Values c for P(mu < c) and P(theta_new < c).
    analyses : sequence, optional
        Labels of the analyses (default 0..A-1).
    pairing : {"product", "zip"}
        Every tau prior with every mu prior, or the i-th tau prior with the i-th mu prior.
    n_lambda : int
        Gauss-Laguerre nodes for a Student-t mu prior.
    chunk : int
        Analyses per engine call at most; the analyses are split into equal chunks, as many as a
        multiple of the threads. It bounds memory, and the default keeps the engine's (analysis x
        node) arrays (256 x ~160 doubles, 0.3 MB) in a core's cache: 10,000 analyses of k = 8 ran
        1.20 s on one thread against 1.34 s with chunks of 2,048 (best of 9, interleaved). On
        glibc the first call sets malloc's M_TOP_PAD to 64 MB for the process, so the chunks'
        freed scratch memory is reused rather than returned to the OS and faulted in again
        (:mod:`bayesmeta.bayes._heap`).
    workers : int, optional
        Threads that run the chunks (default: one per core; 1 runs them in turn). The result does
        not depend on it: every row is computed on its own.

    Returns
    -------
    xarray.Dataset
        Dimensions ``analysis``, ``prior`` (coordinates ``tau_prior``, ``mu_prior``: labels),
        ``quantile`` and ``threshold``. Variables ``{tau,mu,theta_new}_{mean,sd,quantile}``,
        ``{...}_hdi{pct}_lb/ub``, ``p_mu_below``, ``p_theta_new_below``, ``log_marginal_likelihood``
        (NaN when a prior is improper), ``log_bf_mu`` (log BF10, mu free vs mu = 0, Savage-Dickey;
        NaN for a flat mu prior), ``log_bf_tau`` (log BF10, tau free vs tau = 0) and ``k``.
        With ``modes=True`` also ``{tau,mu,theta_new}_mode`` (marginal posterior modes) and
        ``{tau,mu}_map_joint`` (the joint MAP), as :func:`bayesmeta.bayes.exact.solve` computes
        them (one row at a time, a few ms each: off by default to keep the batch throughput).

    Examples
    --------
    >>> from bayesmeta.bayes.priors import halfnormal, normal
    >>> nan = float("nan")
    >>> ds = solve_batch([[0.1, 0.3, -0.2], [0.2, 0.1, nan]], [[0.1, 0.2, 0.15], [0.1, 0.1, nan]],
    ...                  [halfnormal(0.5)], [normal(0, 1)])
    >>> ds["mu_mean"].shape
    (2, 1)
    """
    if isinstance(tau_priors, Prior):
        tau_priors = [tau_priors]
    if mu_priors is None:
        mu_priors = [flat("mu")]
    elif isinstance(mu_priors, Prior):
        mu_priors = [mu_priors]
    tau_priors, mu_priors = list(tau_priors), list(mu_priors)
    for p in tau_priors:
        if not isinstance(p, Prior) or p.target != "tau":
            raise ExactInputError(f"tau_priors: {p!r} is not a tau prior")
    for p in mu_priors:
        if not isinstance(p, Prior) or p.target != "mu":
            raise ExactInputError(f"mu_priors: {p!r} is not a mu prior")
    if pairing == "product":
        pairs = [(t, m) for t in range(len(tau_priors)) for m in range(len(mu_priors))]
    elif pairing == "zip":
        if len(tau_priors) != len(mu_priors):
            raise ExactInputError("pairing='zip' needs as many tau priors as mu priors")
        pairs = [(i, i) for i in range(len(tau_priors))]
    else:
        raise ExactInputError("pairing must be 'product' or 'zip'")
    if not 0 < interval_prob < 1:
        raise ExactInputError(f"interval_prob = {interval_prob} must lie in (0, 1)")
    probs = np.atleast_1d(np.asarray(probs, dtype=float))
    if np.any((probs <= 0) | (probs >= 1)):
        raise ExactInputError("probs must lie in (0, 1)")
    data = prepare(yi, sei, mask)
    A = data.y.shape[0]
    _heap.keep_heap_top()  # the chunks' scratch memory stays with the process (no page faults per chunk)
    # propriety depends on k and the priors only: one check per distinct k, named by its first analysis
    ks, first = np.unique(data.kk, return_index=True)
    for k, a in sorted(zip(ks.tolist(), first.tolist()), key=lambda ka: ka[1]):
        for t, m in pairs:
            check_propriety(int(k), tau_priors[t], mu_priors[m], where=f"analysis {a}: ")
    Pn = len(pairs)
    results: dict[str, np.ndarray] = {}
    tasks = []
    # equal chunks, as many as a multiple of the threads (5 chunks on 2 threads would leave one
    # idle for a fifth of the run), none smaller than MIN_CHUNK analyses
    n_threads = 1 if workers == 1 else (workers or os.cpu_count() or 1)
    n_chunks = max(-(-A // chunk), min(n_threads, -(-A // MIN_CHUNK)))
    if n_chunks > 1:
        n_chunks = -(-n_chunks // n_threads) * n_threads
    step = -(-A // n_chunks)
    for m_idx, mp in enumerate(mu_priors):
        cols = [p for p, (t, m) in enumerate(pairs) if m == m_idx]
        if cols:
            tasks += [(mp, cols, start, min(A, start + step)) for start in range(0, A, step)]

    def one(task):
        mp, cols, start, stop = task
        ts = [pairs[p][0] for p in cols]
        sub = Data(*(getattr(data, f)[start:stop] for f in ("y", "v", "kk", "center", "smin", "scale")))
        na = stop - start
        row_a = np.repeat(np.arange(na), len(ts))
        row_t = np.tile(np.asarray(ts), na)
        rows = run(sub, tau_priors, mp, row_a, row_t, n_lambda)
        out = summarise(rows, tau_priors, mp, probs, interval_prob, thresholds)
        if modes:
            from bayesmeta.bayes.exact import modes_of_rows  # exact imports this module
            out.update(modes_of_rows(sub, rows, tau_priors, mp, n_lambda))
        return out

    # Rows are independent and the compiled kernels release the GIL (nogil), so chunks run on
    # threads, one per core; the assembly below is sequential, so the numbers do not depend on it.
    if len(tasks) > 1 and n_threads > 1:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            outs = list(pool.map(one, tasks))
    else:
        outs = [one(t) for t in tasks]
    for (_, cols, start, stop), s in zip(tasks, outs):
        na = stop - start
        for key, val in s.items():
            arr = results.get(key)
            if arr is None:
                arr = results[key] = np.full((A, Pn, *val.shape[1:]), np.nan)
            arr[start:stop][:, cols] = val.reshape((na, len(cols), *val.shape[1:]))
    pct_f = interval_prob * 100
    pct = f"{round(pct_f)}" if abs(pct_f - round(pct_f)) < 1e-9 else f"{pct_f:g}"
    dims2 = ("analysis", "prior")
    dv: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
    for key, arr in results.items():
        name = key.replace("_hdi_", f"_hdi{pct}_")
        if arr.ndim == 2:
            dv[name] = (dims2, arr)
        elif key.endswith("quantile"):
            dv[name] = ((*dims2, "quantile"), arr)
        else:
            dv[name] = ((*dims2, "threshold"), arr)
    dv["k"] = (("analysis",), data.kk)
    coords = {"analysis": list(analyses) if analyses is not None else np.arange(A),
              "prior": np.arange(Pn),
              "tau_prior": ("prior", [tau_priors[t].label for t, _ in pairs]),
              "mu_prior": ("prior", [mu_priors[m].label for _, m in pairs]),
              "quantile": probs, "threshold": np.asarray(thresholds, dtype=float)}
    return xr.Dataset(dv, coords=coords, attrs={
        "model": "normal-normal random effects, exact by numerical integration (bayesmeta.bayes.batch)",
        "interval_prob": float(interval_prob), "interval": "shortest (highest posterior density)"})


def solve_batch_dask(yi, sei, tau_priors: Sequence[Prior] | Prior, mu_priors: Sequence[Prior] | Prior | None = None,
                     *, mask=None, analyses=None, chunk: int = 20_000, client=None, address: str | None = None,
                     n_workers: int = 2, **kwargs) -> xr.Dataset:
    """:func:`solve_batch` spread over a Dask cluster, for more analyses than one machine should hold.

    The analyses are cut into chunks of ``chunk`` rows; each chunk is one Dask task running
    :func:`solve_batch` (with ``workers=1``: the cluster's workers are the parallelism) and the
    results are concatenated along ``analysis`` in their order, so the numbers equal one
    :func:`solve_batch` call on all rows to rounding (every row is computed on its own; a chunk
    without ragged analyses is bit-identical, with them the padding differs: measured below 1e-15).

    Parameters
    ----------
    yi, sei, tau_priors, mu_priors, mask, analyses
        As :func:`solve_batch`.
    chunk : int
        Analyses per Dask task.
    client : distributed.Client, optional
        Use this client.
    address : str, optional
        Address of a running scheduler, e.g. ``"tcp://10.0.0.5:8786"`` (start one with
        ``dask scheduler`` and workers with ``dask worker tcp://10.0.0.5:8786 --nthreads 1`` on each
        machine that has bayesmeta installed). Without ``client`` or ``address``, a
        :class:`distributed.LocalCluster` of ``n_workers`` single-threaded processes is started and
        closed again.
    **kwargs
        Passed to :func:`solve_batch` (``probs``, ``interval_prob``, ``thresholds``, ``pairing``, ...).

    Examples
    --------
    >>> from distributed import Client, LocalCluster                                  # doctest: +SKIP
    >>> with LocalCluster(n_workers=2, threads_per_worker=1) as c, Client(c) as client:  # doctest: +SKIP
    ...     ds = solve_batch_dask(yi, sei, halfnormal(0.5), normal(0, 1), client=client)
    """
    from distributed import Client, LocalCluster

    yi = np.atleast_2d(np.asarray(yi, dtype=float))
    sei = np.atleast_2d(np.asarray(sei, dtype=float))
    A = yi.shape[0]
    labels = list(analyses) if analyses is not None else list(range(A))
    if len(labels) != A:
        raise ExactInputError(f"{len(labels)} analysis labels for {A} analyses")
    m = None if mask is None else np.atleast_2d(np.asarray(mask, dtype=bool))
    cluster = None
    own = client is None
    if own:
        if address is None:
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(address)
    try:
        futures = [client.submit(solve_batch, yi[a:a + chunk], sei[a:a + chunk], tau_priors, mu_priors,
                                 mask=None if m is None else m[a:a + chunk], analyses=labels[a:a + chunk],
                                 workers=1, pure=False, **kwargs)
                   for a in range(0, A, chunk)]
        parts = client.gather(futures)
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
    return xr.concat(parts, dim="analysis", data_vars="minimal", coords="minimal", compat="override",
                     join="override")
