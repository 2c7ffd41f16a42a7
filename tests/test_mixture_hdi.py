"""Shortest intervals of normal mixtures (``_kernels.mix_hdi``: Chebyshev's method from the
equal-tailed interval) on mixtures built to be awkward: heavy-tailed scale mixtures with a common
mean (the shape of theta_new at small k under half-Cauchy priors) and skewed mixtures whose means
drift with their SDs (mu at small k).

Independent checks: the two conditions that define the shortest interval of a unimodal density,
F(b) - F(a) = p and f(a) = f(b), evaluated with scipy.stats.norm (not the kernels' own cdf), and a
brute-force highest-density region (the density's upper level set holding mass p by scipy's cdf,
its ends on a 50,001-point grid).
"""
import numpy as np
import pytest
from scipy import stats

from bayesmeta.bayes import _kernels as K

pytestmark = pytest.mark.unit


def _mixtures(n=120, seed=11):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        C = int(rng.integers(1, 40))
        if i % 2 == 0:  # scale mixture, common mean: symmetric, heavy-tailed
            m = np.full(C, rng.normal())
            s = np.exp(rng.normal(0, 1.5, C))
        else:  # skewed: the means drift with the SDs
            t = np.sort(rng.uniform(0, 3, C))
            m = t**2 * rng.uniform(0.1, 1)
            s = 0.2 + t
        out.append((rng.dirichlet(np.ones(C)), m, s))
    return out


def _cdf(w, m, s, x):
    return float(np.sum(w * stats.norm.cdf(x, m, s)))


def _pdf(w, m, s, x):
    return float(np.sum(w * stats.norm.pdf(x, m, s)))


def _grid(w, m, s, mean, sd):
    """The density on 50,001 points over mean -+ 60 SD (a component of weight w_j has SD at most
    SD / sqrt(w_j), so the mass beyond is negligible for these weights)."""
    x = np.linspace(mean - 60 * sd, mean + 60 * sd, 50_001)
    return x, np.sum(w[:, None] * stats.norm.pdf(x[None, :], m[:, None], s[:, None]), axis=0)


def _brute_hdi(x, f, p, w, m, s):
    """The upper level set {f >= c} of a unimodal density is an interval [lo(c), hi(c)]; c is
    found by bisection so that F(hi) - F(lo) = p (F by scipy), the ends located on the grid: the
    shortest interval to the grid spacing, without integrating the density on the grid."""
    c_lo, c_hi = 0.0, float(f.max())
    for _ in range(80):
        c = 0.5 * (c_lo + c_hi)
        idx = np.nonzero(f >= c)[0]
        if _cdf(w, m, s, x[idx[-1]]) - _cdf(w, m, s, x[idx[0]]) > p:
            c_lo = c
        else:
            c_hi = c
    idx = np.nonzero(f >= c_lo)[0]
    return x[idx[0]], x[idx[-1]]


def test_shortest_interval_meets_its_defining_conditions():
    checked = 0
    for w, m, s in _mixtures():
        W, M, S = (np.ascontiguousarray(a[None, :]) for a in (w, m, s))
        mean, sd = K.mix_moments(W, M, S)
        x, f = _grid(w, m, s, mean[0], sd[0])
        peaks = np.sum((f[1:-1] > f[:-2]) & (f[1:-1] > f[2:]))
        if peaks != 1:  # not unimodal: f(a) = f(b) does not define the shortest interval
            continue
        h = x[1] - x[0]
        for prob in (0.5, 0.95, 0.99):
            nan = np.full(1, np.nan)
            a, b = K.mix_hdi(W, M, S, mean, sd, np.full(1, prob), nan, nan)[0]
            # the probability content to rounding (scipy's cdf, not the kernels')
            assert _cdf(w, m, s, b) - _cdf(w, m, s, a) == pytest.approx(prob, abs=1e-12)
            # equal density at both ends
            assert _pdf(w, m, s, a) == pytest.approx(_pdf(w, m, s, b), rel=1e-8)
            # the brute-force level set agrees to its grid spacing
            lo, hi = _brute_hdi(x, f, prob, w, m, s)
            assert abs(a - lo) <= 2 * h and abs(b - hi) <= 2 * h, (a, lo, b, hi, h)
        checked += 1
    assert checked >= 100, checked  # unimodal by construction (counted on the grid)
