"""Exact solver with a Student-t prior on mu under prior-data conflict.

The Student-t prior enters the engine as a scale mixture of normals. Under conflict the posterior
weight of the mixing variable sits deep in the prior's tail, where the former fixed 32-node
Gauss-Laguerre rule missed it (posterior mean of mu 0.077 and 0.18 posterior SDs off for the
t5(0, 0.1) and t5(0, 0.05) cases below). Independent source: brute-force 2-D quadrature of prior
times likelihood over (mu, tau) in [-3, 4] x [0, 5] (composite Gauss-Legendre, 16 nodes per panel,
vectorised; formerly scipy's dblquad at relative tolerance 1e-11, which took minutes per case), with
its own convergence shown by halving the panels; tolerance 1e-8 posterior SDs.
"""
import numpy as np
import pytest
from scipy import stats

from bayesmeta.bayes import priors as P
from bayesmeta.bayes.batch import solve_batch
from bayesmeta.bayes.exact import solve

pytestmark = pytest.mark.reference

Y = np.array([0.9, 1.3, 0.6, 1.1, 1.5])
S = np.array([0.3, 0.4, 0.35, 0.25, 0.5])
TAU = P.halfnormal(0.5)


def _nodes(a, b, panels, order=16):
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(a, b, panels + 1)
    half, mid = np.diff(edges)[:, None] / 2, (edges[:-1] + edges[1:])[:, None] / 2
    return (mid + half * x).ravel(), (half * w).ravel()


def _quad_moments(mu_prior, mu_panels=200, tau_panels=100):
    """Posterior mean and SD of mu by composite Gauss-Legendre over (tau, mu): prior times likelihood."""
    mu, wm = _nodes(-3.0, 4.0, mu_panels)
    tau, wt = _nodes(0.0, 5.0, tau_panels)
    v = S[:, None] ** 2 + tau[None, :] ** 2                      # (study, tau)
    ll = TAU.logpdf(tau)[:, None] + mu_prior.logpdf(mu)[None, :]  # (tau, mu)
    for y, vi in zip(Y, v, strict=True):
        ll = ll + stats.norm.logpdf(y, mu[None, :], np.sqrt(vi)[:, None])
    f = np.exp(ll - ll.max()) * wt[:, None] * wm[None, :]
    z = f.sum()
    m1 = (f * mu).sum() / z
    m2 = (f * mu * mu).sum() / z
    return m1, np.sqrt(m2 - m1 * m1)


def test_brute_force_has_converged():
    mu_prior = P.parse_prior("studentt(nu=5, loc=0.0, scale=0.05)", "mu")
    fine, coarse = _quad_moments(mu_prior), _quad_moments(mu_prior, 100, 50)
    assert fine[0] == pytest.approx(coarse[0], abs=1e-11) and fine[1] == pytest.approx(coarse[1], rel=1e-11)


@pytest.mark.parametrize("scale", [0.05, 0.1, 0.51])
def test_mu_moments_match_quadrature_under_conflict(scale):
    mu_prior = P.parse_prior(f"studentt(nu=5, loc=0.0, scale={scale})", "mu")
    post = solve(Y, S, TAU, mu_prior)
    mean, sd = _quad_moments(mu_prior)
    assert post.mu.mean() == pytest.approx(mean, abs=1e-8 * sd)
    assert post.mu.sd() == pytest.approx(sd, rel=1e-8)


def test_batch_equals_single_fit_with_conflicting_studentt_prior():
    mu_prior = P.parse_prior("studentt(nu=5, loc=0.0, scale=0.1)", "mu")
    yi = np.vstack([Y, Y - 1.0])
    si = np.vstack([S, S])
    ds = solve_batch(yi, si, [TAU], mu_prior)
    for a in range(2):
        single = solve(yi[a], si[a], TAU, mu_prior)
        got = float(ds["mu_mean"].isel(analysis=a, prior=0))
        assert got == pytest.approx(single.mu.mean(), abs=1e-10)
