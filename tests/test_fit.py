"""Sampled normal-normal fits: agreement with the exact solver within Monte Carlo error,
reproducibility, prior swaps without recompiling, structure, persistence, and the gate."""
import numpy as np
import pytest

from bayesmeta.bayes import sampling as fitmod
from bayesmeta.bayes.sampling import fit_normal_normal
from bayesmeta.bayes.priors import halfcauchy, halfnormal, normal
from bayesmeta.bayes.exact import solve
from bayesmeta.bayes.result import load

pytestmark = pytest.mark.sampling

Y = np.array([28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16])
S = np.array([14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6])
LAB = list("ABCDEFGH")


@pytest.fixture(scope="module")
def eight():
    return fit_normal_normal(Y, S, halfcauchy(25), normal(0, 50), LAB, seed=11, draws=2000, measure="MD")


def test_sampler_agrees_with_exact_solver_within_4_mcse(eight):
    # the exact solver (tests/test_eight_schools.py validates it to 1e-6) is the reference;
    # tolerance 4 Monte Carlo standard errors of the posterior mean (ArviZ mcse_mean)
    exact = solve(Y, S, halfcauchy(25), normal(0, 50))
    s = eight.summary(0.95, "hdi").set_index("parameter")
    assert eight.converged, str(eight.diagnostics)
    for name, ref in (("mu", exact.mu.mean()), ("tau", exact.tau.mean()), ("theta_new", exact.theta_new.mean()),
                      ("theta[A]", exact.theta(0).mean())):
        assert abs(s.loc[name, "mean"] - ref) <= 4 * s.loc[name, "mcse_mean"], name


def test_structure(eight):
    t = eight.tree
    assert {"posterior", "posterior_predictive", "log_likelihood", "log_prior", "observed_data",
            "sample_stats"} <= set(t.children)
    post = t["posterior"]
    assert post["theta"].dims == ("chain", "draw", "study")
    assert list(post["theta"]["study"].values) == LAB
    assert t["log_likelihood"]["y"].shape == (4, 2000, 8)
    s = eight.summary(0.9, "eti")
    assert {"eti90_lb", "eti90_ub", "mcse_mean", "ess_bulk", "r_hat"} <= set(s.columns)
    assert "half-Cauchy" in str(eight) and "OK" in str(eight)


def test_bitwise_reproducible_and_prior_swap_reuses_compile():
    a = fit_normal_normal(Y, S, halfnormal(10), normal(0, 50), LAB, seed=5, draws=500, tune=500)
    n_compiles = len(fitmod.COMPILE_LOG)
    b = fit_normal_normal(Y, S, halfnormal(10), normal(0, 50), LAB, seed=5, draws=500, tune=500)
    c = fit_normal_normal(Y, S, halfnormal(2), normal(0, 10), LAB, seed=5, draws=500, tune=500)
    assert len(fitmod.COMPILE_LOG) == n_compiles  # same structure: no new compile
    np.testing.assert_array_equal(a.posterior["mu"].values, b.posterior["mu"].values)
    np.testing.assert_array_equal(a.posterior["theta"].values, b.posterior["theta"].values)
    # the swapped prior is really used: a half-normal(2) pulls tau down
    assert c.posterior["tau"].mean() < a.posterior["tau"].mean()
    assert c.priors["tau"]["params"]["scale"] == 2.0


def test_save_load_roundtrip(tmp_path, eight):
    p = eight.save(tmp_path / "full.nc", compact=False)
    back = load(p, expected_data_hash=eight.meta["data_sha256"])
    assert back.summary().equals(eight.summary())
    # the run time is the one field not saved (it differs between identical runs; provenance.json has it)
    assert back.diagnostics == eight.diagnostics
    assert back.meta == {k: v for k, v in eight.meta.items() if k != "seconds"}
    with pytest.raises(ValueError, match="data hash"):
        load(p, expected_data_hash="0" * 64)
    # compact storage (the default): per-study arrays in float32, mu/tau/theta_new bit-identical
    p = eight.save(tmp_path / "compact.nc")
    back = load(p)
    a, b = eight.summary().set_index("parameter"), back.summary().set_index("parameter")
    scalar = ["mu", "tau", "theta_new"]
    assert a.loc[scalar].equals(b.loc[scalar])
    # float32 keeps 24 significant bits: relative error <= 2^-24 (6e-8) per draw, so moments and
    # quantiles agree to 1e-6; rank-based diagnostics (ESS, R-hat, MCSE) can see rounding reorder
    # near-equal draws, so they agree to 1e-4 (printed with 3 digits)
    moments = ["mean", "sd", "median", "hdi95_lb", "hdi95_ub"]
    np.testing.assert_allclose(b[moments].to_numpy(float), a[moments].to_numpy(float), rtol=1e-6, atol=1e-9)
    diag = ["mcse_mean", "ess_bulk", "ess_tail", "r_hat"]
    np.testing.assert_allclose(b[diag].to_numpy(float), a[diag].to_numpy(float), rtol=1e-4)
    # the normal-normal log-likelihood is left out and recomputed on load, bit-identical
    np.testing.assert_array_equal(back.tree["log_likelihood"]["y"].to_numpy(), eight.tree["log_likelihood"]["y"].to_numpy())
    assert back.posterior["theta"].dtype == np.float64 and p.stat().st_size < (tmp_path / "full.nc").stat().st_size


def test_unconverged_fit_is_flagged():
    # 5 tuning steps and 20 draws cannot reach 400 effective draws, even after the automatic retry
    from bayesmeta.bayes.diagnostics import ConvergenceWarning
    with pytest.warns(ConvergenceWarning, match="NOT converged"):
        r = fit_normal_normal(Y, S, halfcauchy(25), normal(0, 50), LAB, seed=3, draws=20, tune=5)
    assert not r.converged
    assert len(r.meta["attempts"]) == 2 and r.meta["attempts"][1]["target_accept"] == 0.99
    assert "NOT CONVERGED" in str(r) and "WARNING" in str(r)
    assert not r.summary()["converged"].any()


def test_sampler_object_compiles_once_per_structure_and_is_separate_from_default():
    from bayesmeta.bayes.sampling import DEFAULT, Sampler

    own = Sampler()
    n_default = len(DEFAULT.compile_log)
    # 4 x 500 draws: enough for the diagnostics gate (2 x 200 failed it, re-sampled and warned "NOT
    # converged" in every CI log)
    kw = dict(seed=3, draws=500, tune=500, chains=4, engine=own)
    r1 = fit_normal_normal(Y, S, halfnormal(10), normal(0, 50), LAB, **kw)
    fit_normal_normal(Y, S, halfnormal(3), normal(0, 20), LAB, **kw)  # same structure: data swapped in
    assert len(own) == 1 and len(own.compile_log) == 1
    assert len(DEFAULT.compile_log) == n_default  # the default sampler was not used
    own.clear()
    r3 = fit_normal_normal(Y, S, halfnormal(10), normal(0, 50), LAB, **kw)
    assert len(own.compile_log) == 2  # cleared: compiled again
    np.testing.assert_array_equal(r1.posterior["mu"].values, r3.posterior["mu"].values)  # same draws


def test_a_sampled_fit_states_its_expected_time(capsys, monkeypatch):
    # progress on: nutpie's callback reaches SamplingProgress, whose first line (made immediate
    # here) states the expected duration of the run on stderr
    from bayesmeta import _progress

    monkeypatch.setattr(_progress.SamplingProgress, "FIRST_AFTER", 0.0)
    monkeypatch.setattr(_progress, "ANNOUNCE_AFTER", 0.0)
    monkeypatch.setattr(fitmod, "PROGRESS_RATE_MS", 10)
    with _progress.reporting(True):
        fit_normal_normal(Y, S, halfnormal(10), normal(0, 50), LAB, seed=5, draws=3000, tune=3000)
    err = capsys.readouterr().err
    assert "sampling the normal-normal model (4 chains x 3,000 tuning + 3,000 draws)" in err
    assert "expected about" in err and " in all (" in err


def test_pointwise_loglik_is_scipys_to_the_bit():
    # reference: scipy.stats.norm.logpdf, which the fit and the save-time recomputation used
    from scipy import stats

    from bayesmeta.bayes.result import normal_loglik
    rng = np.random.default_rng(4)
    for shape in ((4, 250), (2, 3, 7), (1000,)):
        k = int(rng.integers(1, 40))
        yi, sei = rng.normal(0, 1, k), rng.uniform(1e-3, 3, k)
        mu, tau = rng.normal(0, 1, shape), np.abs(rng.standard_cauchy(shape))
        ref = stats.norm.logpdf(yi, mu[..., None], np.sqrt(sei**2 + tau[..., None] ** 2))
        assert np.array_equal(normal_loglik(yi, sei, mu, tau), ref)
