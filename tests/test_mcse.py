"""Monte Carlo standard errors of sampled posterior summaries (issue 11 item 3).

The quantile MCSE is ArviZ's (Vehtari et al. 2021, Bayesian Analysis 16(2), doi:10.1214/20-BA1221,
sec. 4.3), wrapped by :mod:`bayesmeta.bayes.diagnostics` and reported by
:meth:`bayesmeta.bayes.result.BayesResult.summary` for every interval bound and the median.

Independent source: for n independent draws the sample p-quantile has the asymptotic standard error
sqrt(p (1 - p) / n) / f(q_p) (e.g. van der Vaart 1998, Asymptotic Statistics, cor. 21.5).
"""
import dataclasses

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from bayesmeta.bayes.diagnostics import mcse_quantile, mcse_summary
from bayesmeta.bayes.priors import halfcauchy, normal

pytestmark = pytest.mark.unit  # the one nutpie test is also marked `sampling`

R, C, D = 64, 4, 5000  # replications, chains, draws per chain (n = 20,000 draws per replication)
PROBS = (0.025, 0.5, 0.975)


def _tolerance(ratios: np.ndarray, p: float) -> float:
    """Allowed |mean ratio - 1|: the estimator's known discretisation bias plus 4 standard errors.

    ArviZ takes the order statistics at floor() of the lower and ceil() of the upper Beta quantile,
    which widens the 2 sqrt(n p (1 - p)) order statistics the interval spans by about one: a relative
    upward bias of 1 / (2 sqrt(n p (1 - p))) (2.3% at p = 0.025, 0.7% at p = 0.5 for n = 20,000).
    The replicates' own spread gives the standard error of their mean ratio (SD of one ratio about
    14% in the tails, 8% at the median; /sqrt(64)); 4 SEs make a false alarm rarer than 1e-4.
    Measured (seed below): mean ratios 1.01-1.04 for both distributions.
    """
    n = C * D
    return 1 / (2 * np.sqrt(n * p * (1 - p))) + 4 * ratios.std(ddof=1) / np.sqrt(ratios.size)


@pytest.mark.parametrize("dist", [stats.norm(), stats.expon()], ids=["normal", "exponential"])
def test_quantile_mcse_matches_closed_form_for_iid_draws(dist):
    rng = np.random.default_rng(20261124)
    x = dist.rvs(size=(C, D, R), random_state=rng)
    da = xr.DataArray(x, dims=("chain", "draw", "rep"))
    # interval bounds given as HDI-like bounds (level taken from the draws) and as nominal levels
    lo = np.quantile(x.reshape(-1, R), PROBS[0], axis=0)
    hi = np.quantile(x.reshape(-1, R), PROBS[2], axis=0)
    out = mcse_summary(da, {"lb": lo, "ub": hi}, {"lb": None, "ub": PROBS[2]})
    for p, got in zip(PROBS, (out["mcse_lb"], out["mcse_median"], out["mcse_ub"]), strict=True):
        ref = np.sqrt(p * (1 - p) / (C * D)) / dist.pdf(dist.ppf(p))
        ratios = got / ref
        assert np.all(np.isfinite(ratios)) and np.all(ratios > 0)
        assert abs(ratios.mean() - 1) <= _tolerance(ratios, p), (p, ratios.mean())


def test_mcse_quantile_wrapper():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 1000))
    # one chain given as a 1-D array is the same as shape (1, n)
    assert mcse_quantile(x[0], 0.3) == mcse_quantile(x[:1], 0.3)
    # an interval bound at the smallest draw (level 0) gets the MCSE of the 1/n quantile, finite
    assert np.isfinite(mcse_quantile(x, 0.0)) and mcse_quantile(x, 0.0) == mcse_quantile(x, 1 / x.size)
    # strongly autocorrelated draws (AR(1), rho = 0.9) have a larger quantile MCSE than iid ones
    ar = np.empty_like(x)
    ar[:, 0] = x[:, 0]
    for t in range(1, x.shape[1]):
        ar[:, t] = 0.9 * ar[:, t - 1] + np.sqrt(1 - 0.81) * x[:, t]
    assert mcse_quantile(ar, 0.5) > 2 * mcse_quantile(x, 0.5)  # sqrt((1 + rho)/(1 - rho)) = 4.4


@pytest.mark.sampling
def test_nutpie_fit_mcse_finite_and_shrinks_with_draws():
    """Eight schools (Rubin 1981), marginal normal-normal model, nutpie, 4 chains x 2000 draws: every
    MCSE column of the summary is finite and positive, and the full fit's MCSEs are about half those
    of a quarter of it (500 draws per chain; MCSE ~ 1/sqrt(ESS), ESS proportional to the draws; one
    fit, so the convergence gate's reruns with more draws do not enter). Each MCSE estimate is
    itself noisy (its ESS estimate and, for quantiles, the order-statistic spacing), so the check is
    on the geometric mean over the four quarters and the 15 quantities (mu, tau, theta_new x mean,
    sd, median, two bounds): expected 2, allowed [1.5, 2.7]; measured 2.11 (seed 7)."""
    from bayesmeta.bayes.sampling import fit_normal_normal

    y = np.array([28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16])
    s = np.array([14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6])
    fit = fit_normal_normal(y, s, halfcauchy(25), normal(0, 50), list("ABCDEFGH"), seed=7,
                            draws=2000, tune=500, measure="MD")
    assert fit.posterior.sizes["draw"] == 2000
    cols = ["mcse_mean", "mcse_sd", "mcse_median", "mcse_hdi95_lb", "mcse_hdi95_ub"]

    def mcse(res):
        sm = res.summary(0.95, "hdi", var_names=("mu", "tau", "theta_new")).set_index("parameter")
        m = sm[cols].to_numpy(dtype=float)
        assert np.all(np.isfinite(m)) and np.all(m > 0), sm[cols]
        assert np.all(np.isfinite(sm["mode_kde"].to_numpy(dtype=float)))
        return m

    full = mcse(fit)
    quarters = [mcse(dataclasses.replace(fit, tree=fit.tree.isel(draw=slice(q, q + 500), missing_dims="ignore")))
                for q in range(0, 2000, 500)]
    ratio = np.exp(np.mean(np.log(quarters), axis=0)) / full
    gm = float(np.exp(np.mean(np.log(ratio))))
    assert 1.5 <= gm <= 2.7, (gm, ratio)


def test_kde_mode_of_draws():
    """``mode_kde`` (ArviZ KDE mode) of 4,000 iid draws: within 4 of its measured sampling SDs of the
    true mode (0.09 posterior SDs for a normal, 0.07 for a half-normal with bias 0.03; see
    BayesResult.summary), i.e. 0.4 and 0.35."""
    from bayesmeta.bayes.result import _kde_mode

    rng = np.random.default_rng(11)
    assert abs(_kde_mode(rng.normal(2.0, 0.5, size=4000)) - 2.0) <= 0.4 * 0.5
    assert abs(_kde_mode(np.abs(rng.normal(size=4000)))) <= 0.35
    assert _kde_mode(np.full(10, 3.0)) == 3.0  # no spread: the value itself
