"""Notebook surface of issue 18 item 4, the sampler's part: exactly the draws asked for, one chain
explained (R-hat needs two), a failed diagnostics gate reported instead of silently doubling the
draws, and bm.plot on a sampled fit."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest

import bayesmeta as bm

matplotlib.use("Agg")

pytestmark = pytest.mark.sampling

YI = [0.10, 0.30, -0.20, 0.25, 0.05]
SEI = [0.10, 0.20, 0.15, 0.12, 0.18]


@pytest.fixture(scope="module")
def es():
    return bm.EffectTable.from_yi_sei(YI, SEI, study=list("abcde"), measure="SMD")


def test_sampler_returns_the_draws_asked_for_and_explains_one_chain(es):
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        fit = bm.sample(es, tau_prior=bm.priors.halfnormal(0.5), mu_prior=bm.priors.normal(0, 1), draws=300,
                        chains=2, tune=300, seed=1)
    assert fit.posterior.sizes["draw"] == 300 and fit.posterior.sizes["chain"] == 2
    assert repr(fit).startswith("<BayesResult") and "\n" not in repr(fit)
    assert "<table>" in fit._repr_html_()
    assert float(bm.prob_benefit(fit, bm.Orientation(lower_is_better=False))) == pytest.approx(
        float(np.mean(fit.draws("mu") > 0)))
    with pytest.warns(UserWarning, match="R-hat compares chains and needs at least 2"):
        one = bm.sample(es, tau_prior=bm.priors.halfnormal(0.5), mu_prior=bm.priors.normal(0, 1), draws=300,
                        chains=1, tune=300, seed=1)
    assert one.posterior.sizes["draw"] == 300
    assert "R-hat needs >= 2 chains" in repr(one)
    # 50 draws cannot reach the gate's ESS: the retry is reported and keeps the 50 draws asked for
    from bayesmeta.bayes.diagnostics import ConvergenceWarning
    with pytest.warns(ConvergenceWarning, match=r"diagnostics gate failed \(.*ESS.*draws unchanged, 50 per chain"):
        few = bm.sample(es, tau_prior=bm.priors.halfnormal(0.5), mu_prior=bm.priors.normal(0, 1), draws=50,
                        chains=2, tune=300, seed=1)
    assert few.posterior.sizes["draw"] == 50 and len(few.meta["attempts"]) == 2
    assert "re-sampled once after a failed gate" in repr(few)
    ax = bm.plot.forest(fit)
    assert ax.get_xlabel() == "SMD"
    ax = bm.plot.posterior(fit, "mu")
    assert ax.get_ylabel() == "probability density" and len(ax.lines) >= 2
