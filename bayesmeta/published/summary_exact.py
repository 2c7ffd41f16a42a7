r"""The exact posterior of a published summary's random-effects likelihood, on the engine's grids.

The summary likelihood of :mod:`bayesmeta.published.summary_likelihood` is

.. math::

    L(\mu, \tau) = N\big(\hat\mu;\ \mu,\ V(\tau)\big)\, g_\tau(\hat\mu - \mu), \quad
    V(\tau) = \textstyle\sum_i a_i^2 (v_i + \tau^2),

with :math:`g_\tau(e) = P(q_{lo} \le Q \le q_{hi} \mid e, \tau)` (1 when no heterogeneity
statistic is printed). It is not conjugate in :math:`\mu` given :math:`\tau` (``g`` depends on
:math:`e^2`), so the posterior is a genuine two-dimensional integral, done as the exact engine
(:mod:`bayesmeta.bayes.batch`) does its one-dimensional one:

* **tau** on :math:`x = \log\tau`: the engine's two coarse passes find the range holding
  everything within :math:`e^{-40}` of the largest density (or of the density times
  :math:`\tau^2`), then an equispaced grid with :math:`h \le 0.1` and at least 150 cells; the mass
  below :math:`\tau_0 = 10^{-5}\min(\sqrt{v_{min}}, \text{prior median})` is added exactly as
  :math:`p(\mu, \tau = 0)\,P_{prior}(\tau < \tau_0)`; quadrature, cdf and quantiles of
  :math:`\tau` are the engine's 6-point local polynomial rules (:class:`bayesmeta.bayes.exact.TauPosterior`).
  In the coarse passes the :math:`\mu` integral is Gauss-Hermite around the conditional normal.
* **mu** on :math:`u = \operatorname{asinh}((\mu - c)/s)` with :math:`c, s` the centre and
  spread of :math:`\mu` given :math:`\tau` at the posterior median of :math:`\tau` (found in the
  passes): equispaced in :math:`u` with :math:`s\,h_u = s/400` at the centre, and spacing growing
  like :math:`|\mu - c|` in the tails, so that the heavy tails that log-t and inverse-gamma tau
  priors give :math:`\mu` (its range spans every conditional :math:`\mu \mid \tau` to 13 SDs) are
  covered with a few thousand nodes. The marginal density of :math:`u` is integrated with the same
  6-point rule; cdf, quantiles and the shortest interval (:math:`f_\mu(a) = f_\mu(b)`, Brent on the
  lower tail probability) come from that one cumulative. The 81 x 801 grid this replaces set the
  :math:`\mu` range from the tau prior's 99% quantile, which under heavy-tailed priors gave steps
  of a third to two thirds of a posterior SD.
* :math:`g_\tau` is the Ruben/Farebrother series (:func:`~bayesmeta.published.quadratic_forms.q_cdf`)
  at 129 values of :math:`|e|` per tau node over the 13-SD range of the normal factor,
  interpolated by a cubic spline (a smooth function of :math:`|e|`).
* **theta_new** :math:`= \mu + \tau z` is the normal mixture over the joint nodes (component
  :math:`N(\mu_j, \tau_i^2)`, weight the node's mass); for each tau the :math:`\mu` nodes are
  thinned to a spacing of at most :math:`\tau_i/2` (the trapezoid rule on a kernel at least twice
  its step is exact to :math:`e^{-2\pi^2 \cdot 4}`), and components narrower than 0.6 of their
  spacing are widened to it (tau below two core steps: a variance error below
  :math:`(s/670)^2`); its cdf, quantiles and interval are the engine's mixture kernels.

Accuracy: quantiles, intervals and probabilities of :math:`\mu` agree with nested adaptive
quadrature (``validation/summary_level/bruteforce_summary.py``, pinned in
``tests/golden/summary_bruteforce.json``) to about :math:`10^{-5}` posterior SDs under the
heavy-tailed priors of the atlas.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import interpolate, optimize

from bayesmeta.bayes import _kernels as K
from bayesmeta.bayes import batch as B
from bayesmeta.bayes.exact import NormalMixture, TauPosterior
from bayesmeta.published.quadratic_forms import q_cdf, q_given_pooled

N_E = 129          # |e| nodes per tau for the spline of g
E_SDS = 13.0       # the normal factor below exp(-84) beyond this many SDs
N_GH = 48          # Gauss-Hermite nodes for the mu integral of the coarse passes
U_STEP = 1.0 / 400.0  # spacing of u (core spacing s/400)
MAX_U_NODES = 24001


# --------------------------------------------------------------------------------------------
# the factor of the printed heterogeneity statistic
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _QFactor:
    """g_tau(|e|) for a set of tau nodes: cubic splines through N_E equispaced values of |e| on
    [0, emax_i] (one spline object for all rows, in r = |e| / emax_i), evaluated row-wise."""

    emax: np.ndarray
    coef: np.ndarray   # (4, N_E - 1, rows): piecewise cubic coefficients in r

    def log(self, e: np.ndarray, rows=None) -> np.ndarray:
        """log g at e (rows, points) for the given rows (default all)."""
        rows = np.arange(self.emax.size) if rows is None else np.asarray(rows)
        em = self.emax[rows][:, None]
        r = np.abs(e) / em
        k = np.clip((r * (N_E - 1)).astype(np.int64), 0, N_E - 2)
        dx = r - k / (N_E - 1)
        ri = np.broadcast_to(rows[:, None], k.shape)
        c = self.coef
        val = ((c[0][k, ri] * dx + c[1][k, ri]) * dx + c[2][k, ri]) * dx + c[3][k, ri]
        with np.errstate(divide="ignore"):
            out = np.log(np.maximum(val, 0.0))
        return np.where(r <= 1.0, out, -np.inf)


def _q_factor(data, tau: np.ndarray, emax: np.ndarray) -> _QFactor:
    """Evaluate g on N_E values of |e| in [0, emax_i] for every tau_i (one vectorised series)."""
    assert data.q_interval is not None
    qlo, qhi = data.q_interval
    rn = np.linspace(0.0, 1.0, N_E)
    lams, d2s, shifts = [], [], []
    for t, em in zip(tau, emax, strict=True):
        lam, h, kappa = q_given_pooled(data.vi, float(t), data.a)
        en = rn * em
        lams.append(np.broadcast_to(lam, (N_E, lam.size)))
        d2s.append((en[:, None] * h[None, :]) ** 2)
        shifts.append(en**2 * kappa)
    sizes = {x.shape[1] for x in lams}
    if len(sizes) == 1:
        L, D2, S = np.concatenate(lams), np.concatenate(d2s), np.concatenate(shifts)
        p = q_cdf(qhi - S, L, D2) - (q_cdf(qlo - S, L, D2) if qlo > 0 else 0.0)
        p = np.maximum(p, 0.0).reshape(tau.size, N_E)
    else:  # eigenvalues dropped at some tau: one call per node
        p = np.array([np.maximum(q_cdf(qhi - s, lm, d2) - (q_cdf(qlo - s, lm, d2) if qlo > 0 else 0.0), 0.0)
                      for lm, d2, s in zip(lams, d2s, shifts, strict=True)])
    sp = interpolate.CubicSpline(rn, p.T, axis=0)
    return _QFactor(np.asarray(emax, dtype=float), np.ascontiguousarray(sp.c))


# --------------------------------------------------------------------------------------------
# the normal factor and the mu prior
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Model:
    data: Any
    tau_prior: Any
    mu_prior: Any
    s02: float      # sum a^2 v: V(0)
    a2: float       # sum a^2
    mloc: np.ndarray
    mvar: np.ndarray
    mlogw: np.ndarray

    def V(self, tau):
        return self.s02 + self.a2 * np.asarray(tau, dtype=float) ** 2

    def conditionals(self, tau):
        """Normal part given tau (N,) as mixture over the mu prior's components (N, L): means,
        variances and log weights (log of the normal factor's integral over mu)."""
        V = self.V(tau)[None, :]
        S0, S1, S2, SL = 1.0 / V, self.data.estimate / V, self.data.estimate**2 / V, -np.log(V)
        m, Vc, ll = B._conditionals(S0, S1, S2, SL, np.ones(1, dtype=np.int64), self.mloc[None, None, :],
                                    self.mvar, self.mlogw)
        return m[0], Vc[0], ll[0]

    def logprior_tau(self, tau):
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = np.asarray(B._tau_logprior(self.tau_prior, tau, np.zeros_like(tau)), dtype=float)
        return np.where(np.isnan(lp), -np.inf, lp)


def _model(data, tau_prior, mu_prior) -> _Model:
    s02 = float(np.sum(data.a**2 * data.vi))
    d1 = B.prepare([[data.estimate]], [[np.sqrt(s02)]])
    mloc, mvar, mlogw = B.mu_prior_nodes(mu_prior, 32, d1)
    return _Model(data, tau_prior, mu_prior, s02, float(np.sum(data.a**2)), np.asarray(mloc, float),
                  np.asarray(mvar, float), np.asarray(mlogw, float))


def _log_tau_marginal(model: _Model, x: np.ndarray, with_q: bool = False):
    """log p(tau) + log p(data | tau) + x at x = log tau (Gauss-Hermite in mu for g), the
    conditional normal parts (for the mu grid) and, with ``with_q``, the g factor of these tau
    nodes (|e| up to E_SDS SDs of the normal factor, and to the Gauss-Hermite nodes)."""
    tau = np.exp(x)
    m, Vc, ll = model.conditionals(tau)
    lp = B._lse(ll)
    qf = None
    if model.data.q_interval is not None:
        z, wz = np.polynomial.hermite_e.hermegauss(N_GH)
        wz = wz / wz.sum()
        e = model.data.estimate - (m[..., None] + np.sqrt(Vc)[..., None] * z)       # (N, L, G)
        emax = np.maximum(np.max(np.abs(e).reshape(tau.size, -1), axis=1),
                          E_SDS * np.sqrt(model.V(tau))) * 1.0001 + 1e-300
        qf = _q_factor(model.data, tau, emax)
        g = np.exp(qf.log(e.reshape(tau.size, -1))).reshape(e.shape)
        with np.errstate(divide="ignore"):
            eg = np.log(np.maximum(np.sum(g * wz, axis=-1), 0.0))                      # (N, L)
        lp = B._lse(ll + eg)
    return lp + model.logprior_tau(tau) + x, m, Vc, ll, qf


# --------------------------------------------------------------------------------------------
# the marginal of mu on the u grid
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SinhGridDistribution:
    r"""A distribution of :math:`\mu` known by its density in :math:`u = \operatorname{asinh}((\mu - c)/s)`
    on an equispaced grid (``x0 + j h``), with the engine's 6-point cumulative ``F`` (``F[n-1] = 1``)."""

    c: float
    s: float
    x0: float
    h: float
    f: np.ndarray
    F: np.ndarray

    def _u(self, q):
        return np.arcsinh((np.asarray(q, dtype=float) - self.c) / self.s)

    def _arrs(self):
        return (np.array([self.x0]), np.array([self.h]), np.array([self.f.size], dtype=np.int64),
                self.f[None, :], self.F[None, :])

    def cdf(self, q):
        q = np.asarray(q, dtype=float)
        x0, h, n, f, F = self._arrs()
        u = np.ascontiguousarray(self._u(q).reshape(1, -1))
        out = K.grid_cdf(x0, h, n, f, F, u, K.LBASIS, K.ABASIS)[0]
        out = np.clip(np.where(np.isnan(out), 0.0, out), 0.0, 1.0)
        return out.reshape(q.shape) if q.ndim else float(out[0])

    def pdf(self, q):
        q = np.asarray(q, dtype=float)
        x0, h, n, f, _ = self._arrs()
        u = self._u(q).reshape(1, -1)
        fu, _ = K.grid_pdf(x0, h, n, f, np.ascontiguousarray(u), K.LBASIS, K.ABASIS)
        out = fu[0] / (self.s * np.cosh(u[0]))
        return out.reshape(q.shape) if q.ndim else float(out[0])

    def ppf(self, p):
        p = np.asarray(p, dtype=float)
        if np.any((p < 0) | (p > 1)):
            raise ValueError("probabilities must lie in [0, 1]")
        x0, h, n, f, F = self._arrs()
        u = K.grid_ppf(x0, h, n, f, F, np.ascontiguousarray(p.reshape(1, -1)), K.LBASIS, K.ABASIS)[0]
        u = np.where(np.isnan(u), self.x0, u)
        out = self.c + self.s * np.sinh(u)
        return out.reshape(p.shape) if p.ndim else float(out[0])

    def _moment_nodes(self):
        u = self.x0 + self.h * np.arange(self.f.size)
        _, W = K.cumulative(self.f[None, :], np.array([self.f.size], dtype=np.int64), np.array([self.h]),
                            np.zeros(1), K.CELLW)
        return self.c + self.s * np.sinh(u), W[0] * self.f

    def mean(self) -> float:
        mu, w = self._moment_nodes()
        return float(np.sum(w * mu) / np.sum(w))

    def sd(self) -> float:
        mu, w = self._moment_nodes()
        m = np.sum(w * mu) / np.sum(w)
        return float(np.sqrt(np.sum(w * (mu - m) ** 2) / np.sum(w)))

    def median(self) -> float:
        return float(self.ppf(0.5))

    def interval(self, prob: float = 0.95, kind: str = "eti") -> tuple[float, float]:
        """Equal-tailed (``eti``) or shortest (``hdi``: equal density at both ends) interval."""
        if not 0 < prob < 1:
            raise ValueError("prob must lie in (0, 1)")
        if kind == "eti":
            lo, hi = self.ppf(np.array([(1 - prob) / 2, (1 + prob) / 2]))
            return float(lo), float(hi)
        if kind != "hdi":
            raise ValueError(f"unknown interval kind {kind!r}; use 'eti' or 'hdi'")

        def gap(t):
            lo, hi = self.ppf(np.array([t, t + prob]))
            with np.errstate(divide="ignore"):
                return float(np.log(self.pdf(hi)) - np.log(self.pdf(lo)))

        a, b = 1e-12, 1 - prob - 1e-12
        ga, gb = gap(a), gap(b)
        if not (ga > 0 > gb):  # monotone density: the interval starts at an end
            t = a if ga <= 0 else b
        else:
            t = optimize.brentq(gap, a, b, xtol=1e-14, rtol=1e-12)
        lo, hi = self.ppf(np.array([t, t + prob]))
        return float(lo), float(hi)


# --------------------------------------------------------------------------------------------
# the engine
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExactSummaryPosterior:
    tau: TauPosterior
    mu: SinhGridDistribution
    theta_new: NormalMixture
    log_evidence: float


def solve(data, tau_prior, mu_prior) -> ExactSummaryPosterior:
    """Exact posterior of (mu, tau, theta_new) under the summary likelihood (module docstring)."""
    model = _model(data, tau_prior, mu_prior)
    # floor and ceiling of x = log tau (as bayes.batch.run)
    med = float(tau_prior.ppf(0.5))
    tau0 = B.FLOOR_FACTOR * min(float(np.sqrt(np.min(data.vi))), float(np.sqrt(model.s02 / model.a2)), med)
    scale = max(abs(data.estimate), float(np.sqrt(np.max(data.vi))))
    x_hi = max(np.log(scale) + 25.0, np.log(float(tau_prior.ppf(1 - 1e-12))) + 1.0)
    x_hi = min(x_hi, np.log(scale) + 60.0, 300.0)
    if tau_prior.family == "uniform":
        x_hi = min(x_hi, float(np.log(tau_prior.params["upper"])))
    x_lo = float(np.log(tau0))
    # passes 1 and 2: where is the mass of tau
    x = np.linspace(x_lo, x_hi, B.N_PASS1)
    lp = _log_tau_marginal(model, x)[0]
    a, b, at_floor = (float(v[0]) if v.dtype != bool else bool(v[0]) for v in B._range(x[None, :], lp[None, :]))
    x = np.linspace(a, b, B.N_PASS2)
    lp = _log_tau_marginal(model, x)[0]
    a2, b2, first = (float(v[0]) if v.dtype != bool else bool(v[0]) for v in B._range(x[None, :], lp[None, :]))
    has_atom = bool(at_floor and first and a2 <= x_lo)
    if has_atom:
        a2 = x_lo
    cells = max(int(np.ceil((b2 - a2) / B.H_MAX)), B.MIN_CELLS)
    n = cells + 1
    h = (b2 - a2) / cells
    x = a2 + h * np.arange(n)
    tau = np.exp(x)
    lpt, m, Vc, ll, qf = _log_tau_marginal(model, x, with_q=True)
    # centre and spread of mu: the conditional at the posterior median of tau (robust to heavy tails)
    wt = np.exp(lpt - np.max(lpt))
    cw = np.cumsum(wt) / wt.sum()
    i_med = int(np.searchsorted(cw, 0.5))
    lw = ll[i_med] - B._lse(ll[i_med][None, :])[0]
    pm = np.exp(lw)
    c = float(np.sum(pm * m[i_med]))
    s = float(np.sqrt(np.sum(pm * (Vc[i_med] + (m[i_med] - c) ** 2))))
    # mu range: every conditional (tau nodes within exp(-40) of the largest) to E_SDS SDs
    keep = lpt >= np.max(lpt) - B.THRESH
    sdc = np.sqrt(Vc[keep])
    lo = float(np.min(m[keep] - E_SDS * sdc))
    hi = float(np.max(m[keep] + E_SDS * sdc))
    u_lo, u_hi = np.arcsinh((lo - c) / s), np.arcsinh((hi - c) / s)
    nu = int(min(max(np.ceil((u_hi - u_lo) / U_STEP), 600), MAX_U_NODES - 1)) + 1
    u = np.linspace(u_lo, u_hi, nu)
    hu = float(u[1] - u[0])
    mu = c + s * np.sinh(u)
    jac_u = np.log(s * np.cosh(u))
    est = data.estimate
    e = est - mu
    lpmu = np.asarray(model.mu_prior.logpdf(mu), dtype=float) if model.mu_prior.family != "flat" \
        else np.zeros_like(mu)
    V = model.V(tau)
    base = lpmu + jac_u
    LP = -0.5 * (np.log(2 * np.pi * V)[:, None] + e[None, :] ** 2 / V[:, None]) + base[None, :] \
        + (model.logprior_tau(tau) + x)[:, None]
    lp0 = -0.5 * (np.log(2 * np.pi * model.s02) + e * e / model.s02) + base
    if qf is not None:
        LP = LP + qf.log(np.broadcast_to(e, LP.shape))
        q0 = _q_factor(data, np.zeros(1), np.array([E_SDS * np.sqrt(model.s02) * 1.0001]))
        lp0 = lp0 + q0.log(e[None, :])[0]
    LP = np.where(np.isnan(LP), -np.inf, LP)
    with np.errstate(divide="ignore"):
        log_atom_mass = float(np.log(float(tau_prior.cdf(tau0)))) if has_atom else -np.inf
    shift = max(float(np.max(LP)), float(np.max(lp0)) + log_atom_mass)
    P = np.exp(LP - shift)
    P0 = np.exp(lp0 + log_atom_mass - shift) if has_atom else np.zeros(nu)
    one = np.ones(1, dtype=np.int64)
    _, Wu = K.cumulative(np.ones((1, nu)), one * nu, np.array([hu]), np.zeros(1), K.CELLW)
    _, Wx = K.cumulative(np.ones((1, n)), one * n, np.array([h]), np.zeros(1), K.CELLW)
    Wu, Wx = Wu[0], Wx[0]
    # tau: density in x and the atom, as the engine's Rows
    fx = np.maximum(P @ Wu, 0.0)
    atom = float(np.sum(Wu * P0))
    Fx, Wx2 = K.cumulative(fx[None, :], one * n, np.array([h]), np.array([atom]), K.CELLW)
    Z = float(Fx[0, n - 1])
    tau_mean = (atom * tau0 / 2 + np.sum(Wx2[0] * fx * tau)) / Z
    tau_m2 = (atom * tau0**2 / 3 + np.sum(Wx2[0] * fx * tau**2)) / Z
    z1 = np.zeros(1)
    rows = B.Rows(row_a=np.zeros(1, dtype=np.int64), row_t=np.zeros(1, dtype=np.int64), center=z1,
                  x0=np.array([a2]), h=np.array([h]), n=one * n, f=np.ascontiguousarray(fx[None, :]),
                  F=Fx, Z=np.array([Z]), atom=np.array([atom]), tau0=np.array([tau0]),
                  has_atom=np.array([has_atom]), tau_mean=np.array([tau_mean]),
                  tau_sd=np.array([np.sqrt(max(tau_m2 - tau_mean**2, 0.0))]), w=z1[None, :], m=z1[None, :],
                  V=z1[None, :], tau_c=z1[None, :],
                  log_ml=np.full(1, np.nan), log_bf_tau=np.full(1, np.nan))
    tau_post = TauPosterior(rows, tau_prior)
    # mu: density in u
    fu = np.maximum(Wx @ P + P0, 0.0)
    Fu, _ = K.cumulative(fu[None, :], one * nu, np.array([hu]), np.zeros(1), K.CELLW)
    Zu = float(Fu[0, nu - 1])
    mu_post = SinhGridDistribution(c, s, float(u[0]), hu, fu / Zu, Fu[0] / Zu)
    log_ev = shift + np.log(Zu) if (tau_prior.proper and mu_prior.proper) else float("nan")
    theta = _theta_new(tau, P, P0, Wx, hu, mu, s, u)
    return ExactSummaryPosterior(tau_post, mu_post, theta, float(log_ev))


def _theta_new(tau, P, P0, Wx, hu, mu, s, u) -> NormalMixture:
    """theta_new = mu + tau z as a normal mixture over the joint nodes (module docstring)."""
    delta = s * hu * np.cosh(u)             # local spacing of the mu nodes
    core = s * hu
    cell = delta**2 / 12                    # variance of a node's cell
    ws, ms, ss = [], [], []
    small = tau < 2 * core
    # small tau (and the atom): one component per mu node
    wsm = Wx[small] @ P[small] + P0
    t2 = (Wx[small] * tau[small] ** 2) @ P[small] / np.maximum(wsm, 1e-300)
    ws.append(wsm * hu)
    ms.append(mu)
    ss.append(np.sqrt(t2 + cell))
    # larger tau: the mu nodes of each bin of width tau/2, moment-matched (mean and variance kept)
    for i in np.nonzero(~small)[0]:
        wi = Wx[i] * P[i] * hu
        on = wi > 0
        b = np.floor((mu[on] - mu[0]) / (tau[i] / 2)).astype(np.int64)
        b = b - b[0] if b.size else b
        W = np.bincount(b, wi[on])
        M1 = np.bincount(b, wi[on] * mu[on])
        M2 = np.bincount(b, wi[on] * (mu[on] ** 2 + cell[on]))
        ok = W > 0
        mean = M1[ok] / W[ok]
        var = np.maximum(M2[ok] / W[ok] - mean**2, 0.0)
        ws.append(W[ok])
        ms.append(mean)
        ss.append(np.sqrt(tau[i] ** 2 + var))
    w = np.concatenate(ws)
    keep = w > 1e-18 * w.max()
    w = w[keep]
    return NormalMixture(w / w.sum(), np.concatenate(ms)[keep], np.concatenate(ss)[keep])
