"""Gauss rules of a discrete measure (bayesmeta.bayes.quadrature).

Independent references: the Gauss-Legendre rule of numpy (``leggauss``; the n-node Gauss rule of
the m-node Gauss-Legendre measure, n < m, is the n-node Gauss-Legendre rule, since the m-node rule
has the Legendre moments up to degree 2m - 1), and the defining property (the first 2n moments of
the measure, exactly). Tolerances: 1e-13, a few rounding errors of an eigenproblem of size 16."""
import numpy as np
import pytest

from bayesmeta.bayes.quadrature import gauss_rule, gauss_rules

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("n", [1, 2, 4, 8, 12, 16])
def test_gauss_rule_of_a_legendre_rule_is_the_smaller_legendre_rule(n):
    t, w = np.polynomial.legendre.leggauss(40)
    x, gw = gauss_rule(t, w, n)
    xr, wr = np.polynomial.legendre.leggauss(n)
    np.testing.assert_allclose(x, xr, rtol=0, atol=1e-13)
    np.testing.assert_allclose(gw, wr / 2, rtol=0, atol=1e-13)


def test_the_first_2n_moments_of_a_skewed_measure():
    rng = np.random.default_rng(3)
    t = np.sort(rng.lognormal(-1.0, 0.7, 130))
    w = rng.gamma(2.0, size=130)
    w /= w.sum()
    for (x, gw), n in zip(gauss_rules(np.log(t), w, [4, 8, 16]), [4, 8, 16], strict=True):
        assert x.size == n and np.all(np.diff(x) > 0) and abs(gw.sum() - 1) < 1e-14
        c = np.log(t).mean()  # moments about the centre: well conditioned
        for j in range(2 * n):
            exact = w @ (np.log(t) - c) ** j
            assert abs(gw @ (x - c) ** j - exact) <= 1e-11 * max(1.0, abs(exact)), (n, j)


def test_a_measure_with_fewer_nodes_than_asked_is_returned_as_it_is():
    t = np.array([0.2, 0.5, 0.9])
    w = np.array([0.3, 0.0, 0.7])  # zero weights are ignored: two nodes
    x, gw = gauss_rule(t, w, 8)
    np.testing.assert_allclose(x, [0.2, 0.9], atol=1e-14)
    np.testing.assert_allclose(gw, [0.3, 0.7], atol=1e-14)
    with pytest.raises(ValueError, match="positive weight"):
        gauss_rule(t, np.zeros(3), 2)


def test_the_normal_cdf_of_the_mixture_kernels_matches_libm_erfc():
    # _ncdf (Cody's rational approximations sharing the density's exp) against 0.5 erfc(-z / sqrt 2)
    # of the C library and scipy's ndtr: absolute error at most 2.2e-16 (one rounding of a value
    # below 1), relative error at most 1.1e-14 for |z| < 8 and 2.4e-13 to |z| = 40 (measured: the
    # exp of a rounded z^2; scipy and libm differ by as much there)
    import math

    from scipy import special

    from bayesmeta.bayes import _kernels as K

    z = np.concatenate([np.linspace(-40, 40, 80_001), np.random.default_rng(0).normal(0, 3, 20_000), [0.0, 0.46875]])
    got = np.array([K._ncdf(t, math.exp(-0.5 * t * t)) for t in z])
    ref = np.array([0.5 * math.erfc(-t / math.sqrt(2)) for t in z])
    assert np.abs(got - ref).max() <= 3e-16
    assert np.abs(got - special.ndtr(z)).max() <= 3e-16
    ok = ref > 1e-300
    rel = np.abs(got - ref)[ok] / ref[ok]
    assert rel[np.abs(z[ok]) < 8].max() < 2e-14 and rel.max() < 5e-13
