"""The exact solver at the edges (issue 10 item 3) and its properties.

References (each independent of bayesmeta.bayes.batch / exact):

1. tests/golden/edges_bruteforce.json, written by validation/bruteforce/edges.py: nested adaptive
   quadrature (scipy quad) of the joint posterior over (log tau, mu), no closed forms; quantiles
   are roots of that CDF. Cases: priors with a spike at tau = 0 (Rhodes log-t and Turner
   log-normal on tau^2, Jeffreys), a study with SE 1e-12, a Student-t mu prior, k = 1.
   Tolerance: every quantile within 1e-5 posterior SDs (the issue's accuracy target); means and
   SDs to 1e-6 relative (both sides are converged to ~1e-9).
2. validation/bruteforce/simple2d.py: a dense 2-D trapezoid/Simpson grid, for random inputs in
   the property-based tests; its own error is below 1e-6 SDs (module docstring), so the
   tolerance is 1e-5 SDs for moments and 1e-5 for P(mu < 0).
3. Symmetries of the model: invariance to the order of studies; flipping the sign of every yi
   (with a mu prior symmetric about 0) flips mu and theta_new and leaves tau unchanged.
"""
import importlib.util
import json
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bayesmeta.bayes import priors as P
from bayesmeta.bayes.batch import ExactInputError, solve_batch
from bayesmeta.bayes.exact import solve

pytestmark = pytest.mark.reference

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = json.loads((ROOT / "tests" / "golden" / "edges_bruteforce.json").read_text())


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "validation" / "bruteforce" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


simple2d = _load("simple2d")


@pytest.fixture(scope="module", params=sorted(GOLDEN["cases"]))
def case(request):
    c = GOLDEN["cases"][request.param]
    post = solve(c["yi"], c["sei"], P.Prior.from_dict(c["tau_prior"]), P.Prior.from_dict(c["mu_prior"]))
    return request.param, c, post


def test_golden_covers_the_edges():
    # the reference must hold the cases the issue names: spikes at zero and a tiny SE
    fams = {c["tau_prior"]["family"] for c in GOLDEN["cases"].values()}
    assert {"logt_tau2", "lognormal_tau2", "jeffreys"} <= fams
    assert any(min(c["sei"]) <= 1e-12 for c in GOLDEN["cases"].values())


def test_quantiles_within_1e5_sd_of_bruteforce(case):
    name, ref, post = case
    probs = GOLDEN["probs"]
    for par, sd in (("tau", ref["tau_sd"]), ("mu", ref["mu_sd"]), ("theta_new", post.theta_new.sd())):
        got = getattr(post, par).ppf(np.array(probs))
        err = np.abs(got - np.array(ref[f"{par}_quantile"])) / sd
        assert np.all(err <= 1e-5), (name, par, got, ref[f"{par}_quantile"], err)


def test_moments_and_probability_match_bruteforce(case):
    _, ref, post = case
    assert post.mu.mean() == pytest.approx(ref["mu_mean"], abs=1e-6 * ref["mu_sd"])
    assert post.mu.sd() == pytest.approx(ref["mu_sd"], rel=1e-6)
    assert post.tau.mean() == pytest.approx(ref["tau_mean"], abs=1e-6 * ref["tau_sd"])
    assert post.tau.sd() == pytest.approx(ref["tau_sd"], rel=1e-6)
    assert post.prob("mu", 0.0) == pytest.approx(ref["p_mu_below_0"], abs=1e-8)


def test_one_consistent_cdf_and_ppf(case):
    _, _, post = case
    for q in (0.001, 0.025, 0.5, 0.975, 0.999):
        assert post.prob("mu", post.mu.ppf(q)) == pytest.approx(q, abs=1e-9)
        assert post.prob("theta_new", post.theta_new.ppf(q)) == pytest.approx(q, abs=1e-9)
        assert post.prob("tau", post.tau.ppf(q)) == pytest.approx(q, abs=1e-9)


def test_hdi_has_its_probability_and_equal_density(case):
    _, _, post = case
    for d in (post.mu, post.theta_new):
        lo, hi = d.interval(0.95, "hdi")
        assert d.cdf(hi) - d.cdf(lo) == pytest.approx(0.95, abs=1e-9)
        assert d.pdf(lo) == pytest.approx(d.pdf(hi), rel=1e-6)
    lo, hi = post.tau.interval(0.95, "hdi")
    assert post.tau.cdf(hi) - post.tau.cdf(lo) == pytest.approx(0.95, abs=1e-9)
    if lo > 0:  # an interior shortest interval has equal density at its ends
        assert post.tau.pdf(lo) == pytest.approx(post.tau.pdf(hi), rel=1e-5)
    else:  # [0, hi]: the density is nowhere higher beyond hi than just above zero
        assert post.tau.pdf(hi) <= post.tau.pdf(np.exp(post._rows.x0[0])) * (1 + 1e-9)


def test_spike_prior_lower_quantile_is_not_clipped():
    # the Rhodes log-t prior puts its mass on log tau: the 2.5% quantile of tau sits orders of
    # magnitude below the median, where a linear grid in tau has no nodes
    ref = GOLDEN["cases"]["homog_rhodes_flat"]
    assert ref["tau_quantile"][0] < 0.1 * ref["tau_quantile"][1]
    post = solve(ref["yi"], ref["sei"], P.Prior.from_dict(ref["tau_prior"]), P.flat("mu"))
    assert post.tau.ppf(0.025) == pytest.approx(ref["tau_quantile"][0], rel=1e-6)


def test_tiny_standard_error_is_solved_not_collapsed():
    # one SE of 1e-12: the likelihood of tau falls off from tau ~ 1e-12, which a linear tau grid
    # cannot see (the previous solver returned a median and HDI of 0)
    ref = GOLDEN["cases"]["tiny_se_halfnormal05_flat"]
    post = solve(ref["yi"], ref["sei"], P.Prior.from_dict(ref["tau_prior"]), P.flat("mu"))
    assert post.tau.median() == pytest.approx(ref["tau_quantile"][1], abs=1e-5 * ref["tau_sd"])
    assert post.tau.median() > 1e-3


@pytest.mark.parametrize("yi, sei, match", [
    ([0.1, 1e300, 0.2], [0.1, 0.1, 0.1], "above 1e\\+150"),
    ([0.1, 0.2, 0.3], [0.1, 1e-200, 0.1], "below 1e-150"),
    ([0.1, 0.2, 0.3], [0.1, 0.0, 0.1], "not a positive standard error"),
    ([0.1, np.inf, 0.3], [0.1, 0.2, 0.1], "not finite"),
    ([0.1, np.nan, 0.3], [0.1, 0.2, 0.1], "NaN"),
])
def test_unusable_values_are_refused_with_a_message(yi, sei, match):
    with pytest.raises(ExactInputError, match=match):
        solve(yi, sei, P.halfnormal(0.5), P.flat("mu"))


def test_identical_studies_are_solved():
    # identical estimates and SEs: by symmetry mu's posterior is centred at the common value, and
    # the shortest interval for tau starts at zero (the likelihood decreases in tau)
    y, s = np.full(5, 0.3), np.full(5, 0.2)
    post = solve(y, s, P.halfnormal(0.5), P.flat("mu"))
    assert post.mu.median() == pytest.approx(0.3, abs=1e-12)
    assert post.mu.mean() == pytest.approx(0.3, abs=1e-12)
    lo, hi = post.mu.interval(0.95, "hdi")
    assert 0.3 - lo == pytest.approx(hi - 0.3, rel=1e-9)
    assert post.tau.interval(0.95, "hdi")[0] == 0.0


def test_large_values_are_solved_by_centring():
    # estimates around 1e6 with differences of order 1: centring keeps the quadratic forms exact
    y = np.array([0.10, 0.30, -0.20, 0.05, 0.40])
    s = np.array([0.10, 0.20, 0.15, 0.12, 0.25])
    a = solve(y, s, P.halfnormal(0.5), P.flat("mu"))
    b = solve(y + 1e6, s, P.halfnormal(0.5), P.flat("mu"))
    assert b.mu.median() - 1e6 == pytest.approx(a.mu.median(), abs=1e-9)
    assert b.tau.median() == pytest.approx(a.tau.median(), rel=1e-9)


def test_batch_and_single_paths_agree_to_1e10():
    rng = np.random.default_rng(3)
    Y = rng.normal(0, 0.4, (6, 7))
    S = rng.uniform(0.05, 0.5, (6, 7))
    Y[2, 5:] = np.nan
    S[2, 5:] = np.nan
    tps = [P.halfnormal(0.5), P.rhodes2015(), P.Prior("jeffreys", MappingProxyType({}), "tau")]
    mps = [P.flat("mu"), P.normal(0, 1), P.bartos2021("mu")]
    probs = (0.025, 0.5, 0.975)
    ds = solve_batch(Y, S, tps, mps, probs=probs, thresholds=(0.0, 0.2))
    for a in range(6):
        keep = np.isfinite(Y[a])
        for p, (t, m) in enumerate([(t, m) for t in tps for m in mps]):
            post = solve(Y[a, keep], S[a, keep], t, m)
            cell = ds.isel(analysis=a, prior=p)
            np.testing.assert_allclose(cell["mu_quantile"], post.mu.ppf(np.array(probs)), rtol=0, atol=1e-10)
            np.testing.assert_allclose(cell["tau_quantile"], post.tau.ppf(np.array(probs)), rtol=0, atol=1e-10)
            np.testing.assert_allclose(cell["theta_new_quantile"], post.theta_new.ppf(np.array(probs)), rtol=0,
                                       atol=1e-10)
            np.testing.assert_allclose([cell["mu_hdi95_lb"], cell["mu_hdi95_ub"]], post.mu.interval(0.95, "hdi"),
                                       rtol=0, atol=1e-10)
            np.testing.assert_allclose([cell["tau_hdi95_lb"], cell["tau_hdi95_ub"]], post.tau.interval(0.95, "hdi"),
                                       rtol=0, atol=1e-10)
            np.testing.assert_allclose(cell["p_mu_below"], [post.prob("mu", 0.0), post.prob("mu", 0.2)], atol=1e-12)
            for key in ("log_marginal_likelihood", "log_bf_tau", "log_bf_mu"):
                single = getattr(post, key)
                assert (np.isnan(cell[key]) and single is None) or float(cell[key]) == pytest.approx(single, abs=1e-10)


# ---- property-based tests ------------------------------------------------------------------

studies = st.integers(2, 7).flatmap(lambda k: st.tuples(
    st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=k, max_size=k),
    st.lists(st.floats(0.05, 0.8, allow_nan=False), min_size=k, max_size=k)))
TAU = [P.halfnormal(0.5), P.halfcauchy(0.3), P.rhodes2015(), P.turner2015()]


@settings(max_examples=20, deadline=None, derandomize=True)
@given(studies, st.sampled_from(TAU), st.randoms(use_true_random=False))
def test_invariant_to_study_order(data, tau_prior, rnd):
    y, s = map(np.array, data)
    perm = np.array(rnd.sample(range(y.size), y.size))
    a = solve(y, s, tau_prior, P.normal(0, 1))
    b = solve(y[perm], s[perm], tau_prior, P.normal(0, 1))
    q = np.array([0.025, 0.5, 0.975])
    np.testing.assert_allclose(a.mu.ppf(q), b.mu.ppf(q), atol=1e-9 * a.mu.sd())
    np.testing.assert_allclose(a.tau.ppf(q), b.tau.ppf(q), atol=1e-9 * a.tau.sd())
    assert a.log_marginal_likelihood == pytest.approx(b.log_marginal_likelihood, abs=1e-9)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(studies, st.sampled_from(TAU))
def test_sign_flip_flips_mu_and_keeps_tau(data, tau_prior):
    y, s = map(np.array, data)
    a = solve(y, s, tau_prior, P.normal(0, 1))
    b = solve(-y, s, tau_prior, P.normal(0, 1))
    q = np.array([0.025, 0.5, 0.975])
    np.testing.assert_allclose(a.mu.ppf(q), -b.mu.ppf(1 - q), atol=1e-9 * a.mu.sd())
    np.testing.assert_allclose(a.theta_new.ppf(q), -b.theta_new.ppf(1 - q), atol=1e-9 * a.theta_new.sd())
    np.testing.assert_allclose(a.tau.ppf(q), b.tau.ppf(q), atol=1e-9 * a.tau.sd())
    assert a.prob("mu", 0.0) == pytest.approx(1 - b.prob("mu", 0.0), abs=1e-12)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(studies, st.sampled_from([P.halfnormal(0.5), P.halfcauchy(0.3)]))
# a small SE beside a large one: the reference once put 0 at an odd node and its Simpson sum below 0
# was off by 2.5e-5 (the engine agrees with scipy quad to 1e-12 here)
@example(([0.0, 0.25], [0.0625, 0.5]), P.halfnormal(0.5))
def test_agrees_with_bruteforce_grid_on_random_inputs(data, tau_prior):
    y, s = map(np.array, data)
    mu_prior = P.normal(0, 1)
    post = solve(y, s, tau_prior, mu_prior)
    ref = simple2d.posterior_summaries(y, s, tau_prior.logpdf, mu_prior.logpdf, mu_scale=1.0 + np.ptp(y) + s.max())
    assert post.mu.mean() == pytest.approx(ref["mu_mean"], abs=1e-5 * ref["mu_sd"])
    assert post.mu.sd() == pytest.approx(ref["mu_sd"], rel=1e-5)
    assert post.tau.mean() == pytest.approx(ref["tau_mean"], abs=1e-5 * ref["tau_sd"])
    assert post.tau.sd() == pytest.approx(ref["tau_sd"], rel=1e-5)
    assert post.prob("mu", 0.0) == pytest.approx(ref["p_mu_below_0"], abs=1e-5)
