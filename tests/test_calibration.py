"""Calibration of the exact solver: with data simulated from the prior, posterior intervals have
nominal coverage on average (Cook, Gelman & Rubin 2006, doi:10.1198/106186006X136976).

The fast test (in CI) uses 200 simulated meta-analyses: the coverage of a 95% interval is
0.95 +- 4 * sqrt(0.95 * 0.05 / 200) = 0.95 +- 0.062. `./dev validate` runs the slow version with
2000 simulations per setting (tolerance +- 0.0195; tests/test_validation_full.py).
"""
import numpy as np
import pandas as pd
import pytest

from bayesmeta.bayes.exact import solve
from bayesmeta.bayes.priors import halfnormal, normal
from bayesmeta.simulate import sbc

pytestmark = pytest.mark.unit


def coverage(n_sims, k, seed, kind):
    rng = np.random.default_rng(seed)
    tp, mp = halfnormal(0.5), normal(0.0, 1.0)
    hit_mu = hit_tau = hit_new = 0
    for _ in range(n_sims):
        mu, tau = rng.normal(0, 1), abs(rng.normal(0, 0.5))
        sei = rng.uniform(0.1, 0.5, size=k)
        theta = rng.normal(mu, tau, size=k)
        y = rng.normal(theta, sei)
        theta_new = rng.normal(mu, tau)
        post = solve(y, sei, tp, mp, n_tau=4001, n_mix=400)
        lo, hi = post.mu.interval(0.95, kind)
        hit_mu += lo <= mu <= hi
        lo, hi = post.tau.interval(0.95, kind)
        hit_tau += lo <= tau <= hi
        lo, hi = post.theta_new.interval(0.95, kind)
        hit_new += lo <= theta_new <= hi
    return hit_mu / n_sims, hit_tau / n_sims, hit_new / n_sims


@pytest.mark.parametrize("k", [3, 8])
def test_coverage_fast(k):
    tol = 4 * np.sqrt(0.95 * 0.05 / 200)
    for c in coverage(200, k, seed=k, kind="eti"):
        assert abs(c - 0.95) <= tol


# --- simulation-based calibration (bayesmeta.simulate.sbc) -----------------------------------
# Under a correct fit the ranks (and the PIT) are exactly uniform, so each uniformity test's
# p-value is U(0, 1): a threshold of 0.001 fails a correct solver with probability 0.001 per test
# (the seeds are fixed, so a pass is reproducible); the negative control shows the same tests do
# reject a fit with the wrong tau prior (HN(0.25) against data simulated from HN(0.5)).


def _sbc_table(rows, model, k):
    return sbc.summarise(pd.DataFrame(rows).assign(model=model, k=k))


def test_sbc_exact_normal_normal_is_uniform():
    rows = [sbc.sbc_normal_normal_exact(5, 1000 + i) for i in range(300)]
    t = _sbc_table(rows, "normal_normal_exact", 5)
    assert list(t["parameter"]) == ["mu", "tau", "theta1"] and (t["n"] == 300).all() and (t["n_bins"] == 20).all()
    assert (t["p_chi2"] > 1e-3).all(), t
    assert (t["p_ks"] > 1e-3).all(), t


def test_sbc_detects_a_wrong_tau_prior():
    rows = [sbc.sbc_normal_normal_exact(5, 5000 + i, fit_tau_prior=halfnormal(0.25)) for i in range(100)]
    t = _sbc_table(rows, "wrong", 5).set_index("parameter")
    assert t.loc["tau", "p_ks"] < 1e-3
    assert t.loc["tau", "mean_rank"] > 55  # true tau sits high in a posterior pulled towards 0


def test_uniformity_closed_form():
    # ranks 0..99 once each: every bin holds 5, chi-square 0; PIT = midpoints: KS statistic 1/200
    u = sbc.uniformity(np.arange(100), (np.arange(100) + 0.5) / 100, n_bins=20)
    assert u["chi2"] == 0.0 and u["p_chi2"] == 1.0 and abs(u["ks"] - 0.005) < 1e-12
    with pytest.raises(ValueError, match="must divide"):
        sbc.uniformity(np.arange(10), np.linspace(0, 1, 10), n_bins=7)


@pytest.mark.sampling
@pytest.mark.parametrize("model", ["normal_normal_sampled", "binomial_normal", "multilevel"])
def test_sbc_sampled_models_small(model, tmp_path):
    # 6 replications: only gross miscalibration (a sign error, a wrong scale) can be seen; the
    # full run (400 replications, `python -m bayesmeta.simulate.sbc --full`) is committed in
    # validation/calibration/sbc.csv.
    import warnings

    from bayesmeta.bayes.diagnostics import ConvergenceWarning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = [sbc.sbc_task(model, 5, i, 300 + i) for i in range(6)]
    # a replication records its convergence instead of warning (the summary counts it)
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    df = pd.DataFrame(rows).assign(model=model, k=5)
    assert set(df["converged"].unique()) <= {True, False}
    for p in sbc.PARAMS:
        r = df[f"rank_{p}"]
        assert ((r >= 0) & (r <= sbc.L_DRAWS)).all()
    t = sbc.summarise(df)
    assert (t["p_ks"] > 1e-3).all(), t
    sbc.plot(df, tmp_path / "sbc.png")
    assert (tmp_path / "sbc.png").stat().st_size > 5000
