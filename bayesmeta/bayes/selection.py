r"""Bayesian step-function selection models (RoBMA's weight functions), integrated exactly by quadrature.

Model (Vevea & Hedges 1995; Maier, Bartoš & Wagenmakers 2023; Bartoš et al. 2023): study :math:`i`
reports :math:`y_i` with standard error :math:`s_i`; its one-sided p-value falls in interval
:math:`j` of the cut-points ``steps`` (interval 0 is the most significant one, :math:`p \le a_1`),
and it is published with relative probability :math:`\omega_j`, :math:`\omega_0 = 1`:

.. math::

    p(y_i \mid \mu, \tau, \omega) = \frac{\omega_{j(i)}\, N(y_i;\, \mu,\, s_i^2 + \tau^2)}
    {\sum_j \omega_j\, P_{ij}(\mu, \tau)},

:math:`P_{ij}` the probability that :math:`y \sim N(\mu, s_i^2 + \tau^2)` gives a p-value in interval
:math:`j` (:func:`bayesmeta.frequentist.selection.interval_probs`, shared with the ML fit).
The weights carry RoBMA's cumulative-Dirichlet prior: with :math:`\eta \sim \mathrm{Dir}(\alpha)` over the
:math:`J` intervals ordered from the least significant, the least significant interval has
:math:`\omega = \eta_1`, the next :math:`\eta_1 + \eta_2`, ..., the most significant 1. For
:math:`\alpha = (1, 1)` (two intervals) :math:`\omega_1 \sim U(0, 1)`; for :math:`\alpha = (1, 1, 1)`
:math:`(\omega_2, \omega_1)` is uniform on :math:`0 < \omega_2 < \omega_1 < 1`. RoBMA's defaults
(``RoBMA()``, BayesTools ``prior_weightfunction``, JAGS ``omega[j] = sum(std_eta[1:j])``).

Integration. There is no conjugacy (the normalising sum depends on :math:`\mu` and :math:`\tau`),
so :math:`\mu`, :math:`\tau` and the free weights are integrated numerically, which gives the
marginal likelihood and the posteriors without sampling:

* weights: :math:`\omega_1 = u_1`, :math:`\omega_2 = u_1 u_2`, ... (Jacobian :math:`\prod u`), each
  :math:`u` by composite Gauss-Legendre on panels with edges 0, 1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.8, 1
  (16 panels for a single weight)
  (the likelihood in :math:`\omega` varies on the scale of the significance probabilities, which can
  be small);
* :math:`\tau`: Gauss-Legendre in the prior's probability scale :math:`u = F(\tau)` over the range
  holding the posterior mass (the prior density is absorbed, so heavy-tailed and spike-like priors
  alike are smooth there);
* :math:`\mu`: trapezoid rule on an even grid over the range holding the posterior mass (for an
  integrand that vanishes smoothly at both ends the trapezoid rule converges geometrically);
* the ranges come from a first pass on a coarse grid that covers the prior, the data and the
  no-bias posterior; the second pass puts the nodes where that pass found mass (more than
  :math:`e^{-36}` of the largest node).

The same engine integrates the no-bias model, for which it reproduces the exact normal-normal
marginal likelihood (:mod:`bayesmeta.bayes.exact`) to 1e-10, and the PET and PEESE models of
:mod:`bayesmeta.bayes.bias` (one extra dimension: the bias coefficient on the probability scale of its
half-Cauchy prior). Measured accuracy of the log marginal likelihood (doubling every resolution):
see ``tests/test_selection_models.py``.

References
----------
Vevea JL, Hedges LV (1995). Psychometrika 60:419-435. doi:10.1007/BF02294384
Maier M, Bartoš F, Wagenmakers EJ (2023). Robust Bayesian meta-analysis: addressing publication bias
    with model-averaging. Psychol Methods 28:107-122. doi:10.1037/met0000405
Bartoš F, Maier M, Wagenmakers EJ, Doucouliagos H, Stanley TD (2023). Robust Bayesian meta-analysis:
    model-averaging across complementary publication bias adjustment methods. Res Synth Methods
    14:99-116. doi:10.1002/jrsm.1594
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import interpolate, special, stats

from bayesmeta.bayes.priors import Prior
from bayesmeta.frequentist.selection import _full_steps, interval_probs, step_pvalues

__all__ = ["GridPosterior", "SelectionFit", "WeightFunction", "selection_model", "integrate_model", "weight_nodes"]

_LOG2PI = float(np.log(2 * np.pi))
_PANELS = np.array([0.0, 1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5, 0.8, 1.0])
# one free weight (two intervals) is cheap: twice the panels, for the sharp posteriors of large k
_PANELS_FINE = np.array([0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 0.9, 1.0])
_CUT = 36.0  # nodes below max - 36 (e^-36 ~ 2e-16) hold no mass


def _panel_nodes(n_per_panel: int, edges=_PANELS):
    """Composite Gauss-Legendre nodes and weights on [0, 1] over the panels ``edges``."""
    x, w = np.polynomial.legendre.leggauss(n_per_panel)
    a, b = edges[:-1, None], edges[1:, None]
    return (0.5 * (b - a) * x + 0.5 * (a + b)).ravel(), (0.5 * (b - a) * w).ravel()


def weight_nodes(n_intervals: int, alpha=None, n_per_panel: int = 5):
    r"""Quadrature over the free weights of a ``n_intervals``-interval weight function.

    Returns ``omega`` (E, J) with ``omega[:, 0] = 1`` (most significant interval) and log weights
    (E,) that include the cumulative-Dirichlet prior density and the Jacobian, so that
    :math:`\sum_e e^{\mathrm{logw}_e} g(\omega_e) \approx E_{prior}[g(\omega)]`.
    """
    J = int(n_intervals)
    alpha = np.ones(J) if alpha is None else np.asarray(alpha, float)
    if alpha.shape != (J,) or np.any(alpha <= 0):
        raise ValueError(f"alpha must hold {J} positive Dirichlet concentrations")
    u, wu = _panel_nodes(n_per_panel, _PANELS_FINE if J == 2 else _PANELS)
    grids = np.meshgrid(*([u] * (J - 1)), indexing="ij")
    wgrids = np.meshgrid(*([wu] * (J - 1)), indexing="ij")
    U = np.stack([g.ravel() for g in grids], axis=1)                    # (E, J-1)
    logw = np.sum(np.log(np.stack([g.ravel() for g in wgrids], axis=1)), axis=1)
    W = np.cumprod(U, axis=1)                                          # omega_1 = u1, omega_2 = u1 u2, ...
    # Jacobian d(omega)/d(u): triangular, diagonal prod_{l<m} u_l
    logw = logw + sum((J - 2 - m) * np.log(U[:, m]) for m in range(J - 1))
    # Dirichlet over eta (least significant first): eta_1 = omega_{J-1}, eta_m = omega_{J-m} - omega_{J-m+1},
    # eta_J = 1 - omega_1
    om = np.concatenate([np.ones((W.shape[0], 1)), W], axis=1)          # (E, J): interval 0 .. J-1
    eta = np.concatenate([om[:, -1:], -np.diff(om, axis=1)[:, ::-1]], axis=1)
    with np.errstate(divide="ignore"):
        logw = logw + stats.dirichlet.logpdf(np.clip(eta, 1e-300, None).T, alpha) if J > 2 else \
            logw + stats.beta.logpdf(W[:, 0], alpha[0], alpha[1])
    return om, logw


@dataclass(frozen=True)
class GridPosterior:
    """A posterior on an even grid (density ``pdf`` at ``x``, normalised by the trapezoid rule),
    or a point mass (``x`` of length 1)."""

    x: np.ndarray
    pdf: np.ndarray

    @property
    def point(self) -> bool:
        return self.x.size == 1

    def cdf(self, q):
        """CDF from the antiderivative of a cubic spline through the density (error O(h^4))."""
        q = np.asarray(q, float)
        if self.point:
            return (q >= self.x[0]).astype(float)
        anti = interpolate.CubicSpline(self.x, self.pdf).antiderivative()
        fine = np.linspace(self.x[0], self.x[-1], 8 * self.x.size)
        c = np.maximum.accumulate(np.maximum(anti(fine) - anti(self.x[0]), 0.0))
        return np.interp(q, fine, c / c[-1])

    def mean(self) -> float:
        if self.point:
            return float(self.x[0])
        return float(np.trapezoid(self.x * self.pdf, self.x) / np.trapezoid(self.pdf, self.x))

    def sd(self) -> float:
        if self.point:
            return 0.0
        m = self.mean()
        return float(np.sqrt(np.trapezoid((self.x - m) ** 2 * self.pdf, self.x) / np.trapezoid(self.pdf, self.x)))


@dataclass(frozen=True)
class _Integral:
    log_evidence: float
    mu: GridPosterior
    tau_mean: float
    extra_mean: np.ndarray


def _tau_u_nodes(tau_prior: Prior, yi, sei, n: int):
    """First-pass nodes on the probability scale of the tau prior: even in u, plus nodes even in tau
    over the data's spread (so that a narrow posterior is not missed)."""
    u = (np.arange(n) + 0.5) / n
    spread = max(float(np.std(yi)), float(np.median(sei)))
    t = np.linspace(0.0, 4 * spread, n + 1)[1:]
    u2 = np.asarray(tau_prior.cdf(t), float)
    u2 = u2[(u2 > 0) & (u2 < 1)]
    return np.unique(np.concatenate([u, u2]))


def _mu_nodes(mu_prior: Prior, yi, sei, center: float, scale: float, n: int):
    lo_p, hi_p = (float(v) for v in mu_prior.ppf(np.array([1e-10, 1 - 1e-10])))
    z = np.linspace(stats.norm.ppf(1e-10), stats.norm.isf(1e-10), n)      # even in the normal score
    a = np.asarray(mu_prior.ppf(stats.norm.cdf(z)), float)
    b = np.linspace(float(np.min(yi - 4 * sei)), float(np.max(yi + 4 * sei)), 2 * n)
    c = center + scale * np.linspace(-10, 10, n)
    x = np.unique(np.concatenate([a, b, c]))
    return x[(x >= lo_p) & (x <= hi_p)]


def _tanh_sinh(a: float, b: float, n: int):
    """Double-exponential (tanh-sinh) nodes and weights on [a, b]: exponential convergence even when
    the integrand is singular at an end (the prior-probability scale near u = 0 or 1)."""
    t = np.linspace(-3.0, 3.0, n)
    h = t[1] - t[0]
    s = 0.5 * np.pi * np.sinh(t)
    x = 0.5 * (1.0 + np.tanh(s))
    w = 0.5 * h * 0.5 * np.pi * np.cosh(t) / np.cosh(s) ** 2
    return a + (b - a) * x, (b - a) * w


def _trap_weights(x):
    if x.size == 1:
        return np.ones(1)
    d = np.diff(x)
    w = np.zeros_like(x)
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    return w


def integrate_model(loglik: Callable, yi, sei, mu_prior: Prior | None, tau_prior: Prior | None,
                    extra_coarse=None, extra_fine=None, n_mu: int = 96, n_tau: int = 81,
                    center: float = 0.0, scale: float = 1.0, chunk: int = 2_000_000) -> _Integral:
    r""":math:`\log \int p(y\mid\mu,\tau,\xi)\,p(\mu)\,p(\tau)\,p(\xi)` and the posterior of mu.

    ``loglik(mu, tau, idx, fine)`` returns :math:`\log p(y\mid\mu,\tau,\xi_e)` of shape
    ``(len(mu), len(tau), len(idx))`` for the extra-parameter nodes ``idx`` of the coarse or fine grid.
    ``extra_*`` are ``(values (E, d), log weights (E,))`` with the prior folded into the weights, or
    None. ``mu_prior=None`` fixes mu at 0, ``tau_prior=None`` tau at 0. ``center``/``scale`` locate
    the no-bias posterior of mu (first-pass nodes are added there).
    """
    yi = np.asarray(yi, float)
    sei = np.asarray(sei, float)
    none = (np.zeros((1, 0)), np.zeros(1))
    ex_c = extra_coarse if extra_coarse is not None else none
    ex_f = extra_fine if extra_fine is not None else none

    def grid(mu, lw_mu, tau, lw_tau, ex, fine):
        """log integrand summed over extra nodes -> (M, T), plus per-(m,t) sums needed for posteriors."""
        E = ex[1].size
        step = max(1, int(chunk // max(1, tau.size * E * yi.size)))
        out = np.empty((mu.size, tau.size))
        ext = np.zeros((mu.size, tau.size, ex[0].shape[1]))
        for s in range(0, mu.size, step):
            ll = loglik(mu[s:s + step], tau, np.arange(E), fine) + ex[1][None, None, :]
            m = ll.max(axis=2, keepdims=True)
            m = np.where(np.isfinite(m), m, 0.0)
            e = np.exp(ll - m)
            tot = e.sum(axis=2)
            with np.errstate(divide="ignore"):
                out[s:s + step] = np.log(tot) + m[..., 0]
            if ex[0].shape[1]:
                ext[s:s + step] = np.einsum("mte,ed->mtd", e, ex[0]) / np.maximum(tot, 1e-300)[..., None]
        return out + lw_mu[:, None] + lw_tau[None, :], ext

    # --- pass 1: find where the mass is
    if mu_prior is None:
        mu1, lwm1 = np.zeros(1), np.zeros(1)
    else:
        mu1 = _mu_nodes(mu_prior, yi, sei, center, scale, 25)
        lwm1 = np.log(_trap_weights(mu1)) + mu_prior.logpdf(mu1)
    if tau_prior is None:
        u1, tau1, lwt1 = np.zeros(1), np.zeros(1), np.zeros(1)
    else:
        u1 = _tau_u_nodes(tau_prior, yi, sei, 30)
        tau1 = np.asarray(tau_prior.ppf(u1), float)
        lwt1 = np.log(_trap_weights(u1))
    L1, _ = grid(mu1, lwm1, tau1, lwt1, ex_c, False)
    keep = L1 > np.max(L1) - _CUT

    def span(nodes, axis):
        idx = np.flatnonzero(keep.any(axis=axis))
        lo, hi = max(idx[0] - 1, 0), min(idx[-1] + 1, nodes.size - 1)
        return lo, hi

    if mu_prior is None:
        mu2, lwm2 = np.zeros(1), np.zeros(1)
    else:
        # range: drop tails holding less than 1e-12 of the mass (pass-1 estimate, widened by a node);
        # nodes: at least n_mu, and at most 1/4 of the pass-1 posterior SD apart (up to 3 n_mu)
        lm = special.logsumexp(L1, axis=1)
        mass = np.exp(lm - special.logsumexp(lm))
        lo = max(int(np.searchsorted(np.cumsum(mass), 1e-12)) - 1, 0)
        hi = min(int(np.flatnonzero(np.cumsum(mass[::-1])[::-1] >= 1e-12)[-1]) + 1, mu1.size - 1)
        m1 = float(np.sum(mass * mu1))
        sd1 = float(np.sqrt(np.sum(mass * (mu1 - m1) ** 2)))
        n_eff = int(np.clip(np.ceil((mu1[hi] - mu1[lo]) / max(sd1 / 4, 1e-300)), n_mu, 3 * n_mu))
        mu2 = np.linspace(mu1[lo], mu1[hi], n_eff)
        lwm2 = np.log(_trap_weights(mu2)) + mu_prior.logpdf(mu2)
    if tau_prior is None:
        tau2, lwt2 = np.zeros(1), np.zeros(1)
    else:
        lo, hi = span(u1, 0)
        ulo = 0.0 if lo == 0 else u1[lo]
        uhi = 1.0 if hi == u1.size - 1 else u1[hi]
        u2, w2 = _tanh_sinh(ulo, uhi, n_tau)
        tau2 = np.asarray(tau_prior.ppf(u2), float)
        ok = np.isfinite(tau2) & (w2 > 0)
        tau2, lwt2 = tau2[ok], np.log(w2[ok])
    L2, ext = grid(mu2, lwm2, tau2, lwt2, ex_f, True)
    logZ = float(special.logsumexp(L2))
    P = np.exp(L2 - logZ)                                             # posterior mass per (mu, tau) node
    pm = P.sum(axis=1)
    if mu_prior is None:
        mu_post = GridPosterior(np.zeros(1), np.ones(1))
    else:
        dens = pm / _trap_weights(mu2)
        mu_post = GridPosterior(mu2, dens / np.trapezoid(dens, mu2))
    tau_mean = float(np.sum(P.sum(axis=0) * tau2))
    extra_mean = np.einsum("mt,mtd->d", P, ext) if ext.shape[2] else np.zeros(0)
    return _Integral(logZ, mu_post, tau_mean, extra_mean)


def normal_loglik(yi, vi, mu, tau, shift=None):
    """sum_i log N(y_i; mu (+ shift_i), v_i + tau^2) -> (M, T) or (M, T, E) with shift (E, k)."""
    var = vi[None, :] + tau[:, None] ** 2                                 # (T, k)
    if shift is None:
        r = yi[None, None, :] - mu[:, None, None]                        # (M, 1, k)
        return -0.5 * np.sum(_LOG2PI + np.log(var)[None] + r**2 / var[None], axis=-1)
    r = yi[None, None, None, :] - mu[:, None, None, None] - shift[None, None, :, :]   # (M,1,E,k)
    return -0.5 * np.sum(_LOG2PI + np.log(var)[None, :, None, :] + r**2 / var[None, :, None, :], axis=-1)


@dataclass(frozen=True)
class WeightFunction:
    """A step weight function for :func:`bayesmeta.bayes.bias.publication_bias_average`: p-value
    cut-points, one- or two-sided, with a cumulative-Dirichlet(``alpha``) prior (default all ones)."""

    steps: tuple[float, ...]
    two_sided: bool = False
    alpha: tuple[float, ...] | None = None

    @property
    def name(self) -> str:
        side = "two-sided" if self.two_sided else "one-sided"
        return f"selection {side} " + ", ".join(f"{v:g}" for v in self.steps)


@dataclass(frozen=True)
class SelectionFit:
    """One Bayesian selection model (immutable): log marginal likelihood and posterior summaries."""

    steps: tuple[float, ...]
    direction: str
    ptable: tuple[int, ...]
    log_evidence: float
    mu: GridPosterior
    tau_mean: float
    omega_mean: tuple[float, ...]


def selection_model(yi, sei, steps=(0.025,), mu_prior: Prior | None = None, tau_prior: Prior | None = None,
                    direction: str = "positive", alpha=None, two_sided: bool = False, n_mu: int = 64, n_tau: int = 61,
                    n_omega: int = 4, omega_fixed=None, center: float | None = None,
                    scale: float | None = None) -> SelectionFit:
    r"""Bayesian step-function selection model, integrated by quadrature (see the module docstring).

    Parameters
    ----------
    yi, sei : array_like
        Estimates and standard errors.
    steps : sequence of float
        One-sided p-value cut-points (1 is appended): ``(0.025,)`` two intervals, ``(0.025, 0.05)`` three.
    mu_prior, tau_prior : Prior or None
        Priors on mu and tau; None fixes mu = 0 (no effect) or tau = 0 (common effect).
    direction : {"positive", "negative"}
        Direction of the effects that selection favours (RoBMA's ``effect_direction``).
    two_sided : bool
        Cut two-sided p-values instead (RoBMA's ``"two.sided"`` weight functions; ``direction`` is then
        irrelevant).
    alpha : sequence of float, optional
        Dirichlet concentrations (default all 1, RoBMA's default).
    n_mu, n_tau, n_omega : int
        Second-pass nodes for mu (even grid), tau (Gauss-Legendre) and per weight panel.
    omega_fixed : sequence of float, optional
        Fix the weights (e.g. all 1: the model without selection) instead of integrating them.

    Returns
    -------
    SelectionFit
    """
    yi = np.asarray(yi, float)
    sei = np.asarray(sei, float)
    if yi.ndim != 1 or yi.shape != sei.shape or yi.size < 1 or np.any(~np.isfinite(yi)) or np.any(~(sei > 0)):
        raise ValueError("yi and sei must be finite 1-d arrays of the same length with sei > 0")
    if direction not in ("positive", "negative"):
        raise ValueError("direction must be 'positive' or 'negative'")
    for p, tgt in ((mu_prior, "mu"), (tau_prior, "tau")):
        if p is not None and (p.target != tgt or not p.proper):
            raise ValueError(f"{tgt} prior must be a proper prior on {tgt} (or None to fix {tgt} at 0)")
    st = _full_steps(steps)
    J = st.size
    vi = sei**2
    alt = "two.sided" if two_sided else "greater" if direction == "positive" else "less"
    groups = np.searchsorted(st, step_pvalues(yi, vi, alt), side="left")
    counts = np.bincount(groups, minlength=J)
    if omega_fixed is not None:
        om = np.asarray(omega_fixed, float).reshape(1, J)
        ex_c = ex_f = (om[:, 1:], np.zeros(1))
        om_c = om_f = om
    else:
        om_c, lw_c = weight_nodes(J, alpha, 2)
        om_f, lw_f = weight_nodes(J, alpha, n_omega)
        ex_c, ex_f = (om_c[:, 1:], lw_c), (om_f[:, 1:], lw_f)
    with np.errstate(divide="ignore"):
        num_c = np.log(om_c) @ counts                                       # (E,)
        num_f = np.log(om_f) @ counts

    def loglik(mu, tau, idx, fine):
        om = om_f if fine else om_c
        num = num_f if fine else num_c
        A = normal_loglik(yi, vi, mu, tau)                                  # (M, T)
        P = interval_probs(mu[:, None], tau[None, :] ** 2, vi, st, alt)       # (M, T, k, J)
        D = np.einsum("mtkj,ej->mtek", P, om[idx])
        return A[:, :, None] + num[idx][None, None, :] - np.sum(np.log(D), axis=-1)

    if center is None or scale is None:
        w = 1 / vi
        center = float(np.sum(w * yi) / np.sum(w))
        scale = float(max(np.sqrt(1 / np.sum(w)), np.std(yi) / np.sqrt(yi.size)))
    res = integrate_model(loglik, yi, sei, mu_prior, tau_prior, ex_c, ex_f, n_mu=n_mu, n_tau=n_tau,
                          center=center, scale=scale)
    omega_mean = (1.0, *tuple(float(v) for v in res.extra_mean))
    return SelectionFit(steps=tuple(map(float, st)), direction=direction, ptable=tuple(int(c) for c in counts),
                        log_evidence=res.log_evidence, mu=res.mu, tau_mean=res.tau_mean, omega_mean=omega_mean)
