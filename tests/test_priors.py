"""Priors: log densities against scipy (independent forms), tau^2-scale priors by change of variables."""
import json
from types import MappingProxyType

import numpy as np
import pytest
from scipy import integrate, special, stats

from bayesmeta.bayes.priors import (
    Prior,
    bartos2021,
    bartos2023,
    halfnormal,
    parse_prior,
    rhodes2015,
    turner2015,
    unit_information,
)

pytestmark = pytest.mark.unit

X = np.array([0.01, 0.1, 0.37, 1.0, 2.5])


def P(family, target="tau", **params):
    return Prior(family, MappingProxyType(params), target)


@pytest.mark.parametrize(
    "prior,ref",
    [
        (P("halfnormal", scale=0.5), lambda x: np.log(2) + stats.norm.logpdf(x, 0, 0.5)),
        (P("halfcauchy", scale=1.0), lambda x: np.log(2) + stats.cauchy.logpdf(x, 0, 1.0)),
        (P("halfstudentt", nu=3, scale=0.7), lambda x: np.log(2) + stats.t.logpdf(x, 3, 0, 0.7)),
        (P("exponential", rate=2.0), lambda x: np.log(2.0) - 2.0 * x),
        (P("uniform", upper=3.0), lambda x: np.full_like(x, -np.log(3.0))),
        (P("invgamma", alpha=1.71, beta=0.40),
         # b^a / Gamma(a) x^-(a+1) exp(-b/x), written out
         lambda x: 1.71 * np.log(0.4) - special.gammaln(1.71) - 2.71 * np.log(x) - 0.4 / x),
        (P("normal", "mu", loc=0.2, scale=0.1), lambda x: stats.norm.logpdf(x, 0.2, 0.1)),
        (P("studentt", "mu", nu=5, loc=0.0, scale=0.43), lambda x: stats.t.logpdf(x, 5, 0, 0.43)),
    ],
)
def test_logpdf_against_scipy(prior, ref):
    np.testing.assert_allclose(prior.logpdf(X), ref(X), rtol=1e-12)


XC = np.concatenate([-np.geomspace(1e-3, 10, 20), [0.0, np.nan, np.inf, -np.inf],
                     np.geomspace(1e-14, 1e4, 4000)])


@pytest.mark.parametrize(
    "prior,frozen",
    [
        (P("halfnormal", scale=0.5), stats.halfnorm(scale=0.5)),
        (P("halfnormal", scale=0.31), stats.halfnorm(scale=0.31)),
        (P("halfcauchy", scale=1.0), stats.halfcauchy(scale=1.0)),
        (P("halfcauchy", scale=0.17), stats.halfcauchy(scale=0.17)),
        (P("exponential", rate=2.0), stats.expon(scale=1 / 2.0)),
        (P("exponential", rate=0.7), stats.expon(scale=1 / 0.7)),
        (P("uniform", upper=3.0), stats.uniform(0.0, 3.0)),
        (P("uniform", upper=0.3), stats.uniform(0.0, 0.3)),
    ],
)
def test_closed_form_cdf_is_scipys_to_the_last_bit(prior, frozen):
    """The written-out CDFs (fast: the exact engine's floor mass) against scipy.stats' frozen
    distributions: equal bit for bit, also at 0, below 0, NaN and +-inf."""
    got, ref = prior.cdf(XC), frozen.cdf(XC)
    np.testing.assert_array_equal(got, ref)
    assert prior.cdf(0.2).shape == () and float(prior.cdf(0.2)) == float(frozen.cdf(0.2))


def test_lognormal_tau2_by_change_of_variables():
    # Turner 2015 all settings: log tau^2 ~ N(-2.56, 1.74^2); P(tau <= t) = P(log tau^2 <= 2 log t)
    p = turner2015()
    t = np.array([0.05, 0.2, 0.6])
    np.testing.assert_allclose(p.cdf(t), stats.norm.cdf(2 * np.log(t), -2.56, 1.74), rtol=1e-12)
    total, _ = integrate.quad(p.pdf, 0, np.inf, limit=200)
    assert total == pytest.approx(1.0, abs=1e-8)
    # density is the derivative of the CDF
    h = 1e-6
    assert p.pdf(0.2) == pytest.approx((p.cdf(0.2 + h) - p.cdf(0.2 - h)) / (2 * h), rel=1e-6)


def test_logt_tau2_by_change_of_variables():
    p = rhodes2015()  # log tau^2 ~ t5(-3.44, 2.59)
    t = np.array([0.05, 0.2, 0.6])
    np.testing.assert_allclose(p.cdf(t), stats.t.cdf(2 * np.log(t), 5, -3.44, 2.59), rtol=1e-12)
    # integrate log tau: the density of log tau is p(tau) * tau
    total, _ = integrate.quad(lambda u: np.exp(p.logpdf(np.exp(u)) + u), -200, 200, limit=800, points=[-5, -1.72, 2])
    assert total == pytest.approx(1.0, abs=1e-6)
    assert p.ppf(p.cdf(0.3)) == pytest.approx(0.3, rel=1e-10)


@pytest.mark.parametrize("prior", [halfnormal(0.5), P("halfstudentt", nu=4, scale=1), turner2015(),
                                   rhodes2015(), bartos2021(), bartos2021("mu"), unit_information("logRR")])
def test_quantiles_invert_cdf_and_density_integrates(prior):
    q = np.array([0.025, 0.5, 0.975])
    np.testing.assert_allclose(prior.cdf(prior.ppf(q)), q, rtol=1e-9)
    lo = 0 if prior.target == "tau" else -np.inf
    total, _ = integrate.quad(prior.pdf, lo, np.inf, limit=400)
    assert total == pytest.approx(1.0, abs=1e-6)


def test_jeffreys_needs_sei_and_matches_formula():
    j = P("jeffreys")
    assert not j.proper
    sei = np.array([0.1, 0.3])
    t = 0.25
    expect = 0.5 * np.log(np.sum((t / (sei**2 + t**2)) ** 2))
    assert j.logpdf(t, sei=sei) == pytest.approx(expect)
    with pytest.raises(ValueError, match="sei"):
        j.logpdf(0.2)
    with pytest.raises(ValueError, match="improper"):
        j.ppf(0.5)


def test_implied_i2_and_predictive_interval():
    sei = np.full(4, 0.2)  # typical within-study variance 0.04 for equal SEs
    p = halfnormal(0.5)
    t = p.ppf(np.array([0.5]))
    assert p.implied_i2(sei, probs=[0.5])[0] == pytest.approx(t[0] ** 2 / (t[0] ** 2 + 0.04))
    lo, hi = p.predictive_interval(0.95)
    # Monte Carlo check of P(|theta_new - mu| < hi) = 0.95 with 10^6 draws (MCSE 2e-4)
    rng = np.random.default_rng(0)
    z = p.rvs(1_000_000, rng) * rng.standard_normal(1_000_000)
    assert np.mean(np.abs(z) < hi) == pytest.approx(0.95, abs=1e-3)
    assert lo == -hi


def test_roundtrip_and_errors():
    for p in (turner2015(), bartos2023("logRR", "mu"), P("flat", "mu")):
        d = json.loads(json.dumps(p.to_dict()))
        assert Prior.from_dict(d) == p
    # the one prior syntax (spec, solve, batch); the older family:param=value form is refused with the fix
    assert parse_prior("halfcauchy(scale=1)", "tau") == P("halfcauchy", scale=1.0)
    assert parse_prior("halfcauchy(1)", "tau") == P("halfcauchy", scale=1.0)
    with pytest.raises(ValueError, match=r"write the prior as family\(parameters\), e.g. halfnormal\(0.5\)"):
        parse_prior("halfcauchy:scale=1", "tau")
    with pytest.raises(ValueError, match="choose one of"):
        P("gamma", scale=1)
    with pytest.raises(ValueError, match="needs parameters"):
        P("halfnormal", sd=1)
    with pytest.raises(ValueError, match="not valid"):
        P("halfnormal", scale=-1)
    with pytest.raises(ValueError, match="transcribed settings"):
        turner2015("cancer", "surgery")


def test_tau2_scale_priors_have_zero_density_at_zero():
    for p in (rhodes2015(), turner2015()):
        assert p.logpdf(0.0) == -np.inf and p.pdf(np.array([0.0, 0.1]))[0] == 0.0
