r"""Bayesian meta-regression by numerical integration over :math:`\tau` (as R bayesmeta's ``bmr``).

Model (Röver & Friede 2022, doi:10.1002/jrsm.1541 for ``bmr``; Röver 2020,
doi:10.18637/jss.v093.i06):

.. math::

    y_i \mid \beta, \tau \sim N(x_i^\top\beta,\; s_i^2 + \tau^2), \qquad
    \beta \sim N(b_0, S_0) \text{ (or flat)}, \qquad \tau \sim p(\tau).

Given :math:`\tau` everything is conjugate: with :math:`\Sigma = \mathrm{diag}(s_i^2 + \tau^2)`,

.. math::

    V(\tau) = (X^\top\Sigma^{-1}X + S_0^{-1})^{-1}, \qquad
    m(\tau) = V(\tau)(X^\top\Sigma^{-1}y + S_0^{-1}b_0), \qquad
    \beta \mid \tau, y \sim N(m(\tau), V(\tau)),

and the marginal likelihood is closed form,

.. math::

    \log p(y \mid \tau) = \text{const} - \tfrac12\log|\Sigma| + \tfrac12\log|V| - \tfrac12
    \left(y^\top\Sigma^{-1}y + b_0^\top S_0^{-1}b_0 - m^\top V^{-1}m\right)

(the :math:`S_0` terms drop for a flat prior, which gives the restricted likelihood). The
posterior of :math:`\tau` is integrated as the exact engine does (:mod:`bayesmeta.bayes.batch`):
on :math:`x = \log\tau`, where a prior or a likelihood with a spike at :math:`\tau = 0` is an
ordinary smooth density, over the range found by two coarse passes (everything within
:math:`e^{-40}` of the largest density, or of the largest density times :math:`\tau^2`), on an
equispaced grid with :math:`h \le 0.02`, and with the mass below
:math:`\tau_0 = 10^{-5}\min(s_{min}, \text{prior median})` added exactly as
:math:`p(y \mid \tau = 0)\,P_{prior}(\tau < \tau_0)` (the likelihood is flat there to
:math:`O(\tau_0^2/s_{min}^2)`). The cumulative of :math:`\tau` is Simpson's rule between nodes
and Gauss-Legendre inside a cell (exact density evaluations), so quantiles are Newton iterations
on a CDF accurate to ~1e-10. The posterior of each coefficient and of the mean at a given
:math:`x` is the mixture of the conditional normals over the nodes (trapezoid weights in
:math:`x`: geometric convergence for these analytic integrands) plus one component at
:math:`\tau = 0` for the mass below the floor. The previous linear grid in :math:`\tau` put few
nodes under a spike at :math:`\tau = 0`. Exact for any number of
coefficients (the integral is one-dimensional in :math:`\tau`); with one moderator this is the
two-coefficient model of the issue (e.g. cervical vs lumbar injection site).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import integrate

from bayesmeta.bayes.exact import NormalMixture
from bayesmeta.bayes.priors import Prior

__all__ = ["bmr", "BMRPosterior"]


def _conditionals(yi, vi, X, tau, b0, S0inv):
    """m (n, p), V (n, p, p), log p(y | tau) (n,) for a vector of tau values."""
    w = 1.0 / (vi[None, :] + tau[:, None] ** 2)  # (n, k)
    A = np.einsum("ki,nk,kj->nij", X, w, X) + S0inv[None]  # V^-1
    rhs = np.einsum("ki,nk,k->ni", X, w, yi) + (S0inv @ b0)[None]
    V = np.linalg.inv(A)
    m = np.einsum("nij,nj->ni", V, rhs)
    quad = np.einsum("nk,k->n", w, yi**2) + b0 @ S0inv @ b0 - np.einsum("ni,ni->n", m, rhs)
    ll = 0.5 * np.sum(np.log(w), axis=1) - 0.5 * np.linalg.slogdet(A)[1] - 0.5 * quad
    return m, V, ll


FLOOR_FACTOR = 1e-5
THRESH = 40.0
H_MAX = 0.02


@dataclass(frozen=True)
class LogTauPosterior:
    """Posterior of tau from a density in x = log tau on an equispaced grid plus an atom below tau0.

    ``logf(x)`` is the unnormalised log density in x (exact anywhere); ``x`` the nodes,
    ``cum`` the cumulative mass at the nodes (atom included), ``atom`` the mass below ``tau0``
    (spread as the prior's shape there; reported as at most tau0), ``z`` the total.
    """

    logf: object = field(repr=False)
    x: np.ndarray = field(repr=False)
    cum: np.ndarray = field(repr=False)
    atom: float
    tau0: float
    z: float
    shift: float

    def _f(self, x):
        return np.exp(self.logf(np.atleast_1d(np.asarray(x, float))) - self.shift)

    def _mass(self, a, b):
        """integral of f over [a, b] (inside one cell) by 8-point Gauss-Legendre."""
        g, w = np.polynomial.legendre.leggauss(8)
        a, b = np.asarray(a, float), np.asarray(b, float)
        xs = 0.5 * (b - a)[..., None] * g + 0.5 * (a + b)[..., None]
        return 0.5 * (b - a) * np.sum(w * self._f(xs.ravel()).reshape(xs.shape), axis=-1)

    def cdf(self, q):
        q = np.asarray(q, float)
        t = np.atleast_1d(q).astype(float)
        out = np.empty(t.shape)
        with np.errstate(divide="ignore"):
            xq = np.log(np.maximum(t, 0.0))
        below = xq < self.x[0]
        above = xq >= self.x[-1]
        mid = ~below & ~above
        out[below] = np.where(t[below] <= 0, 0.0, self.atom * np.minimum(t[below] / self.tau0, 1.0))
        out[above] = self.z
        if mid.any():
            i = np.searchsorted(self.x, xq[mid], side="right") - 1
            out[mid] = self.cum[i] + self._mass(self.x[i], xq[mid])
        out = out / self.z
        return out.reshape(q.shape) if q.ndim else float(out[0])

    def ppf(self, p):
        p = np.asarray(p, float)
        if np.any((p < 0) | (p > 1)):
            raise ValueError("probabilities must lie in [0, 1]")
        pt = np.atleast_1d(p) * self.z
        out = np.empty(pt.shape)
        for k, target in enumerate(pt):
            if target <= self.atom:
                out[k] = self.tau0 * (target / self.atom if self.atom > 0 else 0.0)
                continue
            i = int(np.clip(np.searchsorted(self.cum, target, side="right") - 1, 0, self.x.size - 2))
            lo, hi = self.x[i], self.x[i + 1]
            x = lo + (hi - lo) * (target - self.cum[i]) / max(self.cum[i + 1] - self.cum[i], 1e-300)
            for _ in range(60):
                g = self.cum[i] + float(self._mass(np.array(self.x[i]), np.array(x))) - target
                if g > 0:
                    hi = x
                elif g < 0:
                    lo = x
                else:
                    break
                fx = float(self._f(x)[0])
                xn = x - g / fx if fx > 0 else 0.5 * (lo + hi)
                if not (self.x[i] <= xn <= self.x[i + 1]) or not (lo <= xn <= hi):
                    xn = 0.5 * (lo + hi)
                if abs(xn - x) < 1e-14 * (1 + abs(x)):
                    x = xn
                    break
                x = xn
            out[k] = np.exp(x)
        return out.reshape(p.shape) if p.ndim else float(out[0])

    def pdf(self, q):
        """Posterior density of tau (per unit of tau) at q > 0."""
        q = np.asarray(q, float)
        return self._f(np.log(q)).reshape(q.shape) / q / self.z

    def _moment(self, k):
        # Simpson on the nodes in x (tau^k e^x-weighted); the atom contributes tau0^k/(k+1) at most
        f = self._f(self.x) * np.exp(k * self.x)
        return (float(integrate.simpson(f, x=self.x)) + self.atom * self.tau0**k / (k + 1)) / self.z

    def mean(self) -> float:
        return self._moment(1)

    def sd(self) -> float:
        m = self.mean()
        return float(np.sqrt(max(self._moment(2) - m * m, 0.0)))

    def median(self) -> float:
        return float(self.ppf(0.5))

    def interval(self, prob: float = 0.95, kind: str = "eti") -> tuple[float, float]:
        if kind != "eti":
            raise ValueError("only equal-tailed ('eti') intervals are available for tau here")
        lo, hi = self.ppf(np.array([(1 - prob) / 2, (1 + prob) / 2]))
        return float(lo), float(hi)


@dataclass(frozen=True)
class BMRPosterior:
    """Posterior of a Bayesian meta-regression: tau on a log grid, coefficients as normal mixtures."""

    names: tuple[str, ...]
    tau: LogTauPosterior
    weights: np.ndarray
    m: np.ndarray
    V: np.ndarray
    X: np.ndarray
    tau_prior: Prior
    beta_prior: str
    tau_nodes: np.ndarray

    def beta(self, j) -> NormalMixture:
        """Marginal posterior of coefficient ``j`` (index or name)."""
        j = self.names.index(j) if isinstance(j, str) else int(j)
        return NormalMixture(self.weights, self.m[:, j], np.sqrt(self.V[:, j, j]))

    def mean_at(self, x) -> NormalMixture:
        """Posterior of the mean effect :math:`x^\\top\\beta` at a design row ``x``."""
        x = np.asarray(x, float)
        return NormalMixture(self.weights, self.m @ x, np.sqrt(np.einsum("i,nij,j->n", x, self.V, x)))

    def predict_at(self, x) -> NormalMixture:
        """Posterior predictive of a new study's true effect at ``x``: mean at x plus N(0, tau^2)."""
        x = np.asarray(x, float)
        t = self.tau_nodes
        return NormalMixture(self.weights, self.m @ x, np.sqrt(np.einsum("i,nij,j->n", x, self.V, x) + t**2))

    def summary(self, prob: float = 0.95) -> pd.DataFrame:
        """Mean, SD, median and equal-tailed interval of tau and every coefficient."""
        lo, hi = (1 - prob) / 2, (1 + prob) / 2
        pct = f"{100 * prob:g}".replace(".", "_")
        rows = [
            {
                "parameter": "tau",
                "mean": self.tau.mean(),
                "sd": self.tau.sd(),
                "median": self.tau.median(),
                f"eti{pct}_lb": float(self.tau.ppf(lo)),
                f"eti{pct}_ub": float(self.tau.ppf(hi)),
            }
        ]
        for n in self.names:
            b = self.beta(n)
            rows.append(
                {
                    "parameter": n,
                    "mean": b.mean(),
                    "sd": b.sd(),
                    "median": b.median(),
                    f"eti{pct}_lb": b.ppf(lo),
                    f"eti{pct}_ub": b.ppf(hi),
                }
            )
        return pd.DataFrame(rows)


def bmr(
    yi, sei, X, tau_prior: Prior, names=None, beta_mean=None, beta_cov=None, n_tau: int | None = None
) -> BMRPosterior:
    """Exact Bayesian meta-regression (normal-normal model with regressors), as bayesmeta's ``bmr``.

    Parameters
    ----------
    yi, sei : array_like
        Estimates and standard errors.
    X : array_like (k, p)
        Design matrix (e.g. from :func:`bayesmeta.frequentist.metareg.design_matrix`).
    tau_prior : Prior
        Proper prior on tau (a flat prior on beta needs k > p + 1 for a proper posterior).
    names : sequence of str, optional
    beta_mean, beta_cov : array_like, optional
        Normal prior on the coefficients; default flat (improper uniform), as ``bmr``.
    n_tau : int, optional
        Ignored (the linear grid size of the previous implementation, kept for compatibility):
        the log-tau grid is chosen as described in the module docstring.

    Returns
    -------
    BMRPosterior
    """
    yi, sei = np.asarray(yi, float), np.asarray(sei, float)
    X = np.asarray(X, float)
    if X.ndim == 1:
        X = X[:, None]
    k, p = X.shape
    if yi.shape != (k,) or sei.shape != (k,) or np.any(~(sei > 0)) or np.any(~np.isfinite(yi)):
        raise ValueError("yi and sei must be finite 1-d arrays with one row of X each, sei > 0")
    if np.linalg.matrix_rank(X) < p:
        raise ValueError("the design matrix is rank deficient")
    if tau_prior.target != "tau":
        raise ValueError("tau_prior must be a prior on tau")
    if beta_mean is None and beta_cov is None:
        b0, S0inv, label = np.zeros(p), np.zeros((p, p)), "flat"
        if k <= p:
            raise ValueError(f"a flat prior on {p} coefficients needs more than {p} studies")
    else:
        b0 = np.asarray(beta_mean, float).reshape(p)
        S0inv = np.linalg.inv(np.asarray(beta_cov, float).reshape(p, p))
        label = "normal"
    vi = sei**2
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(p))

    def logpost_x(x):
        x = np.asarray(x, float)
        t = np.exp(x)
        _, _, ll = _conditionals(yi, vi, X, t, b0, S0inv)
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = ll + np.asarray(tau_prior.logpdf(t), float) + x
        return np.where(np.isfinite(lp), lp, -np.inf)

    smin = float(np.min(sei))
    scale = max(float(np.max(np.abs(yi - np.mean(yi)))), float(np.max(sei)))
    tau0 = FLOOR_FACTOR * smin
    x_hi = np.log(scale) + 25.0
    if tau_prior.proper:
        tau0 = min(tau0, FLOOR_FACTOR * float(tau_prior.ppf(0.5)))
        x_hi = max(x_hi, float(np.log(tau_prior.ppf(1 - 1e-12))) + 1.0)
    x_hi = min(x_hi, np.log(scale) + 60.0)
    if tau_prior.family == "uniform":
        x_hi = min(x_hi, float(np.log(tau_prior.params["upper"])))
    x_lo = float(np.log(tau0))
    a_, b_ = x_lo, x_hi
    at_floor = True
    for npass in (96, 64):
        xg = np.linspace(a_, b_, npass)
        lp = logpost_x(xg)
        top = np.max(lp)
        if not np.isfinite(top):
            raise ValueError("the posterior density of tau is zero or infinite everywhere; check data and prior")
        ok = (lp >= top - THRESH) | (lp + 2 * xg >= np.max(lp + 2 * xg) - THRESH)
        first, last = int(np.argmax(ok)), int(npass - 1 - np.argmax(ok[::-1]))
        at_floor = at_floor and first == 0
        a_, b_ = xg[max(first - 1, 0)], xg[min(last + 1, npass - 1)]
    if at_floor:
        a_ = x_lo
    cells = max(int(np.ceil((b_ - a_) / H_MAX)), 200)
    cells += cells % 2  # even: Simpson
    x = np.linspace(a_, b_, cells + 1)
    lp = logpost_x(x)
    # the mass below tau0: p(y | tau = 0) P_prior(tau < tau0)
    atom_log = -np.inf
    if at_floor:
        _, _, ll0 = _conditionals(yi, vi, X, np.zeros(1), b0, S0inv)
        if tau_prior.family == "flat":
            lmass = np.log(tau0)
        elif tau_prior.proper:
            with np.errstate(divide="ignore"):
                lmass = float(np.log(tau_prior.cdf(tau0)))
        else:
            raise ValueError(f"bmr: the prior {tau_prior} has no mass function below tau0; use a proper prior")
        atom_log = float(ll0[0]) + lmass
    shift = max(float(np.max(lp)), atom_log)
    f = np.exp(lp - shift)
    atom = float(np.exp(atom_log - shift))
    h = x[1] - x[0]
    # cumulative at the nodes: Gauss-Legendre per cell (exact density), the atom first
    g, gw = np.polynomial.legendre.leggauss(8)
    xs = x[:-1, None] + 0.5 * h * (g + 1.0)
    cell = 0.5 * h * np.sum(gw * np.exp(logpost_x(xs.ravel()) - shift).reshape(xs.shape), axis=1)
    cum = atom + np.concatenate([[0.0], np.cumsum(cell)])
    z = float(cum[-1])
    tau = LogTauPosterior(logf=logpost_x, x=x, cum=cum, atom=atom, tau0=tau0, z=z, shift=shift)
    # mixture weights: trapezoid in x, plus the atom as one component at tau = 0
    w = f * h
    w[0] *= 0.5
    w[-1] *= 0.5
    nodes = np.exp(x)
    if atom > 0:
        w = np.concatenate([[atom], w])
        nodes = np.concatenate([[0.0], nodes])
    keep = w > 1e-300
    m, V, _ = _conditionals(yi, vi, X, nodes[keep], b0, S0inv)
    return BMRPosterior(
        names=names,
        tau=tau,
        weights=w[keep] / w[keep].sum(),
        m=m,
        V=V,
        X=X,
        tau_prior=tau_prior,
        beta_prior=label,
        tau_nodes=nodes[keep],
    )
