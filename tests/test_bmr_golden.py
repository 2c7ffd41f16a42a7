"""Bayesian meta-regression (bayesmeta.bayes.metareg.bmr) against R bayesmeta 3.4's bmr()
(tests/golden/bayesmeta_bmr.json, made by validation/bayesmeta/make_golden_bmr.R): dat.colditz1994
log RR with absolute latitude, with the allocation method (categorical, 3 levels), with Turner et
al.'s log-normal prior for tau^2 (most prior mass near tau = 0: the case a linear tau grid
resolves poorly) and with a normal prior on the coefficients.

Tolerances:
* tau (mean, SD, median, 2.5% / 97.5% quantiles): R integrates and inverts tau's posterior with
  integrate()/uniroot() at rel.tol 1.5e-11; ours is Gauss-Legendre per cell on the log-tau grid
  with Newton inversion (~1e-10); measured 1.9e-11 at most. rtol 1e-9.
* coefficients: R's marginals are its DIRECT discrete mixture over tau (delta = 1e-5, epsilon =
  1e-7). The change of each number between delta = 1e-4 and 1e-5 is written by the script
  (delta_drift_in_sd, posterior SDs); the delta = 1e-5 values are within that of the exact
  mixture, so it (at least 2e-6 SDs) is the tolerance, in posterior SDs.
"""
import json
from pathlib import Path
from types import MappingProxyType as M

import numpy as np
import pytest

from bayesmeta.bayes.metareg import bmr
from bayesmeta.bayes.priors import Prior

pytestmark = pytest.mark.reference

G = json.loads((Path(__file__).parent / "golden" / "bayesmeta_bmr.json").read_text())
Y, S = np.array(G["data"]["yi"]), np.array(G["data"]["sei"])


def _fit(case):
    c = G["cases"][case]
    prior = Prior(c["tau_prior"]["family"], M({k: float(v) for k, v in c["tau_prior"]["params"].items()}), "tau")
    kw = {}
    if c.get("beta_mean"):
        kw = {"beta_mean": np.array(c["beta_mean"], float), "beta_cov": np.diag(np.array(c["beta_sd"], float) ** 2)}
    return c, bmr(Y, S, np.array(c["X"], float), prior, names=c["names"], **kw)


@pytest.mark.parametrize("case", list(G["cases"]))
def test_bmr_against_r_bayesmeta(case):
    c, post = _fit(case)
    t = c["tau"]
    assert post.tau.mean() == pytest.approx(t["mean"], rel=1e-9)
    assert post.tau.sd() == pytest.approx(t["sd"], rel=1e-9)
    np.testing.assert_allclose(post.tau.ppf(np.array([0.025, 0.5, 0.975])), [t["q025"], t["median"], t["q975"]],
                               rtol=1e-9)
    tol = max(float(c["delta_drift_in_sd"]), 2e-6)
    for name in c["names"]:
        b, ref = post.beta(name), c["beta"][name]
        sd = ref["sd"]
        got = [b.mean(), b.sd(), b.median(), b.ppf(0.025), b.ppf(0.975)]
        want = [ref["mean"], ref["sd"], ref["median"], ref["q025"], ref["q975"]]
        np.testing.assert_array_less(np.abs(np.array(got) - np.array(want)) / sd, tol, err_msg=f"{case} {name}")


def test_mass_below_the_floor_is_counted():
    """A half-normal prior has a finite density at tau = 0, so in x = log tau the posterior reaches
    the floor tau0 = 1e-5 min(SE) within e^-40 of its top: the mass below tau0 (p(y | tau = 0) times
    the prior mass there) is part of the CDF: P(tau <= tau0) = atom / Z, continuous at tau0."""
    _, post = _fit("ablat_halfnormal")
    tp = post.tau
    assert tp.atom > 0
    assert tp.cdf(tp.tau0) == pytest.approx(tp.atom / tp.z, rel=1e-12)
    assert tp.cdf(tp.tau0 * (1 + 1e-9)) == pytest.approx(tp.cdf(tp.tau0), abs=1e-12)
