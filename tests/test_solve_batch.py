"""Batched exact engine (bayesmeta.bayes.batch.solve_batch): layout, ragged input, priors, and
its marginal likelihoods and Bayes factors against an independent implementation.

References: the single-fit path is validated against brute force in test_exact_edges.py (and
batch == single to 1e-10 there). The log marginal likelihoods are checked against
bayesmeta.bayes.model_averaging (issue 8; its own Simpson quadrature over tau with the mu
integral done per node, written separately): agreement to 1e-6 (both converged to ~1e-8).
Data: dentine hypersensitivity example of Bartos et al. 2021 (values in
tests/golden/published.json, robma_dentine), priors as published there.
"""
from types import MappingProxyType

import numpy as np
import pytest

from bayesmeta.bayes import priors as P
from bayesmeta.bayes.batch import ExactInputError, solve_batch
from bayesmeta.bayes.exact import solve
from bayesmeta.bayes.model_averaging import average

pytestmark = pytest.mark.unit

D = np.array([0.9073, 0.7208, 1.3306, 1.7689, 1.3287])
SE = np.array([0.2720, 0.1978, 0.2722, 0.2656, 0.3583])
MU = P.Prior("studentt", MappingProxyType({"nu": 5.0, "loc": 0.0, "scale": 0.51}), "mu")
TAU = P.Prior("invgamma", MappingProxyType({"alpha": 1.79, "beta": 0.28}), "tau")


def test_layout_and_ragged_rows():
    y = np.array([[0.1, 0.3, -0.2, np.nan], [0.2, 0.1, 0.4, 0.0]])
    s = np.array([[0.1, 0.2, 0.15, np.nan], [0.1, 0.1, 0.3, 0.2]])
    ds = solve_batch(y, s, [P.halfnormal(0.5), P.rhodes2015()], [P.flat("mu"), P.normal(0, 1)],
                     probs=(0.1, 0.9), thresholds=(0.0, 0.1, 0.2), analyses=["a", "b"])
    assert dict(ds.sizes) == {"analysis": 2, "prior": 4, "quantile": 2, "threshold": 3}
    assert list(ds["k"].values) == [3, 4]
    assert list(ds["tau_prior"].values[:2]) == [P.halfnormal(0.5).label] * 2
    assert ds["mu_hdi95_lb"].dims == ("analysis", "prior")
    # the padded row equals the unpadded analysis
    post = solve(y[0, :3], s[0, :3], P.halfnormal(0.5), P.normal(0, 1))
    np.testing.assert_allclose(ds["mu_quantile"].sel(analysis="a").isel(prior=1), post.mu.ppf(np.array([0.1, 0.9])),
                               atol=1e-10)
    # flat mu prior: no marginal likelihood, no BF for mu
    assert np.isnan(ds["log_marginal_likelihood"].isel(prior=0)).all()
    assert np.isnan(ds["log_bf_mu"].isel(prior=0)).all()


def test_zip_pairing_and_mask():
    y = np.array([[0.1, 0.3, -0.2], [0.2, 0.1, 0.4]])
    s = np.full((2, 3), 0.2)
    mask = np.array([[True, True, False], [True, True, True]])
    ds = solve_batch(y, s, [P.halfnormal(0.5), P.halfnormal(1.0)], [P.normal(0, 1), P.normal(0, 2)], mask=mask,
                     pairing="zip")
    assert ds.sizes["prior"] == 2 and list(ds["k"].values) == [2, 3]
    single = solve(y[0, :2], s[0, :2], P.halfnormal(1.0), P.normal(0, 2))
    assert float(ds["mu_mean"][0, 1]) == pytest.approx(single.mu.mean(), abs=1e-12)


def test_marginal_likelihoods_and_bayes_factors_match_model_averaging():
    ds = solve_batch(D, SE, [TAU], [MU])
    ma = average(D, SE, MU, TAU)
    assert float(ds["log_marginal_likelihood"][0, 0]) == pytest.approx(ma.log_ml["RE1"], abs=1e-6)
    # tau free vs tau = 0 (both with the effect): RE1 - FE1
    assert float(ds["log_bf_tau"][0, 0]) == pytest.approx(ma.log_ml["RE1"] - ma.log_ml["FE1"], abs=1e-6)
    # Savage-Dickey for mu = 0 equals the ratio of marginal likelihoods RE1 / RE0
    assert float(ds["log_bf_mu"][0, 0]) == pytest.approx(ma.log_ml["RE1"] - ma.log_ml["RE0"], abs=1e-6)
    post = solve(D, SE, TAU, MU)
    assert post.log_marginal_likelihood == pytest.approx(float(ds["log_marginal_likelihood"][0, 0]), abs=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    ({"tau_priors": [P.normal(0, 1)]}, "not a tau prior"),
    ({"interval_prob": 1.5}, "interval_prob"),
    ({"probs": (0.0, 0.5)}, "probs"),
    ({"pairing": "cross"}, "pairing"),
])
def test_bad_arguments_are_refused(kwargs, match):
    args = {"tau_priors": [P.halfnormal(0.5)], "mu_priors": [P.normal(0, 1)]} | kwargs
    with pytest.raises(ExactInputError, match=match):
        solve_batch(D, SE, **args)


def test_improper_combination_names_the_analysis():
    with pytest.raises(ExactInputError, match=r"analysis 1: .*improper"):
        solve_batch([[0.1, 0.2, 0.3], [0.1, 0.2, np.nan]], [[0.1, 0.1, 0.1], [0.1, 0.1, np.nan]],
                    [P.flat("tau")], [P.flat("mu")])


def test_written_out_tau_densities_equal_prior_logpdf():
    from bayesmeta.bayes.batch import _tau_logprior

    tau = np.geomspace(1e-6, 50, 41)[None, :]
    for prior in (P.halfnormal(0.5), P.halfcauchy(0.3), P.rhodes2015(), P.turner2015(), TAU,
                  P.Prior("halfstudentt", MappingProxyType({"nu": 3.0, "scale": 0.5}), "tau"),
                  P.Prior("exponential", MappingProxyType({"rate": 2.0}), "tau"),
                  P.Prior("uniform", MappingProxyType({"upper": 2.0}), "tau")):
        np.testing.assert_allclose(_tau_logprior(prior, tau, None), prior.logpdf(tau), rtol=1e-12, atol=1e-12)


def test_threaded_chunks_equal_sequential_bit_for_bit():
    """Chunks run on threads (nogil kernels); every row is computed on its own, so the result must
    not depend on the number of workers or the chunk size: compared bit for bit (no tolerance)."""
    rng = np.random.default_rng(2)
    y = rng.normal(0.2, 0.3, (900, 6))
    s = rng.uniform(0.1, 0.5, (900, 6))
    y[::7, 4:] = np.nan
    s[::7, 4:] = np.nan
    priors = [P.halfnormal(0.5), P.rhodes2015()]
    a = solve_batch(y, s, priors, [P.normal(0, 1)], workers=1, chunk=900)
    b = solve_batch(y, s, priors, [P.normal(0, 1)], workers=2, chunk=128)
    assert set(a.data_vars) == set(b.data_vars)
    for v in a.data_vars:
        assert np.array_equal(a[v].values, b[v].values, equal_nan=True), v


def test_shortest_intervals_from_reported_quantiles_equal_solved_from_scratch():
    """solve_batch starts the shortest-interval search from the reported 2.5% / 97.5% quantiles
    when ``probs`` has them; without them (and in the single-fit path) the kernel solves the
    equal-tailed ends itself. Both are the same root of the same equations (converged to 1e-13
    relative), so they agree to 1e-10."""
    rng = np.random.default_rng(5)
    y, s = rng.normal(0.2, 0.4, (300, 7)), rng.uniform(0.05, 0.6, (300, 7))
    priors = [P.halfnormal(0.5), P.halfcauchy(1.0)]
    a = solve_batch(y, s, priors, [MU], probs=(0.025, 0.5, 0.975))
    b = solve_batch(y, s, priors, [MU], probs=(0.1, 0.9))
    for v in ("mu_hdi95_lb", "mu_hdi95_ub", "theta_new_hdi95_lb", "theta_new_hdi95_ub"):
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=0, atol=1e-10, err_msg=v)
    post = solve(y[3], s[3], priors[1], MU)
    np.testing.assert_allclose([a["mu_hdi95_lb"].values[3, 1], a["mu_hdi95_ub"].values[3, 1]],
                               post.mu.interval(0.95, "hdi"), rtol=0, atol=1e-10)
