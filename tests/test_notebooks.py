"""Notebook surface of issue 18 item 4 (Bayesian side): reprs, ArviZ conversion of the exact
posterior, decision functions taking posteriors in one argument order, and bm.plot.
The sampler's part (draw counts, one chain, a failed gate) is in test_notebooks_sampling.py.

Structure tests (types, labels, counts of artists), never pixels. The probabilities are checked
against the exact marginal's own cdf (the same number by two routes) and against a closed form
(a flat mu prior with tau fixed near 0 is a normal posterior).
"""

from __future__ import annotations

import arviz as az
import matplotlib
import numpy as np
import pytest
from scipy import stats

import bayesmeta as bm

matplotlib.use("Agg")

pytestmark = pytest.mark.unit

YI = [0.10, 0.30, -0.20, 0.25, 0.05]
SEI = [0.10, 0.20, 0.15, 0.12, 0.18]


@pytest.fixture(scope="module")
def es():
    return bm.EffectTable.from_yi_sei(YI, SEI, study=list("abcde"), measure="SMD")


@pytest.fixture(scope="module")
def post(es):
    return bm.solve(es, tau_prior=bm.priors.halfnormal(0.5), mu_prior=bm.priors.normal(0, 1))


def test_exact_posterior_repr_is_short_and_html(post):
    r = repr(post)
    assert r.startswith("<NormalNormalPosterior exact, k=5") and "mu median" in r and "\n" not in r
    assert len(r) < 400
    h = post._repr_html_()
    assert h.count("<tr>") == 4 and "95% HDI" in h and "half-normal" in h


def test_exact_posterior_to_datatree_works_with_arviz(post):
    tree = post.to_datatree(draws=500, chains=2, seed=3)
    assert dict(tree["posterior"].to_dataset().sizes) == {"chain": 2, "draw": 500, "study": 5}
    s = az.summary(tree, var_names=["mu", "tau"], kind="stats", round_to="none")
    # independent exact draws: the mean within 4 Monte Carlo SEs of the exact mean
    assert abs(float(s.loc["mu", "mean"]) - post.mu.mean()) < 4 * post.mu.sd() / np.sqrt(1000)
    again = post.to_datatree(draws=500, chains=2, seed=3)
    np.testing.assert_array_equal(again["posterior"]["mu"].to_numpy(), tree["posterior"]["mu"].to_numpy())
    with pytest.raises(ValueError, match="draws and chains must be positive"):
        post.to_datatree(draws=0)


def test_decisions_accept_the_posterior_object_in_one_order(post):
    o = bm.Orientation(lower_is_better=True, measure="SMD")
    p_obj = bm.prob_benefit(post, o)
    assert float(p_obj) == pytest.approx(float(post.mu.cdf(0.0)), rel=1e-12)
    assert float(bm.prob_benefit(post.mu, o)) == pytest.approx(float(p_obj), rel=1e-12)
    new = bm.prob_noninferior(post, o, 0.2)
    old = bm.prob_noninferior(post, 0.2, o)  # the older order still works
    assert float(new) == float(old) == pytest.approx(float(post.mu.cdf(0.2)), rel=1e-12)
    assert float(bm.prob_noninferior(post, o, 0.2, parameter="theta_new")) == pytest.approx(
        float(post.theta_new.cdf(0.2)), rel=1e-12)
    c_new = bm.noninferiority_curve(post, o, [0.1, 0.2])
    c_old = bm.noninferiority_curve(post, [0.1, 0.2], o)
    assert c_new.equals(c_old) and list(c_new.columns) == ["margin", "margin_analysis_scale", "p_noninferior"]
    assert float(bm.prob_rope(post, o, 0.1)) == pytest.approx(float(bm.prob_rope(post, 0.1, o)), rel=1e-12)
    t = bm.decision_table(post, o, [0.2], rope=0.1)
    assert t["p_noninferior"].iloc[0] == pytest.approx(float(new))
    with pytest.raises(TypeError, match=r"call prob_noninferior\(posterior, orientation, margin\)"):
        bm.prob_noninferior(post, 0.2, 0.3)
    with pytest.raises(TypeError, match="an Orientation"):
        bm.prob_benefit(o, post)


def test_decisions_on_draws_match_a_closed_form():
    rng = np.random.default_rng(1)
    draws = rng.normal(0.1, 0.2, 200_000)
    o = bm.Orientation(lower_is_better=False, measure="MD")
    exact = stats.norm.sf(0, 0.1, 0.2)
    assert float(bm.prob_benefit(draws, o)) == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / draws.size))


def test_escalc_nan_rows_and_summary_front_door():
    with pytest.warns(UserWarning, match="study 2"):
        es = bm.escalc("ZCOR", ri=[0.3, 0.4, 0.5], ni=[30, 3, 50])
    assert es.k == 3 and np.isnan(es.yi[1]) and "ni = 3" in es.not_estimable["study 2"]
    s = es.summary()
    assert list(s.columns) == ["study", "yi", "vi", "sei", "zi", "pval", "ci95_lb", "ci95_ub"]
    assert np.isnan(s["yi"].iloc[1]) and s.shape[0] == 3


def test_plot_forest_of_table_fit_and_posterior(es, post):
    import matplotlib.pyplot as plt

    ax = bm.plot.forest(es)
    assert isinstance(ax, matplotlib.axes.Axes) and ax.get_xlabel() == "SMD"
    n_table = len(ax.lines) + len(ax.collections) + len(ax.patches)
    ax2 = bm.plot.forest(post)
    n_post = len(ax2.lines) + len(ax2.collections) + len(ax2.patches)
    assert n_post > n_table  # shrunken estimates, mu and theta_new added
    ax3 = bm.plot.forest(bm.rma(es, method="DL"))
    assert isinstance(ax3, matplotlib.axes.Axes)
    plt.close("all")


def test_plot_ratio_forest_uses_a_log_axis():
    import matplotlib.pyplot as plt

    rr = bm.escalc("RR", ai=[4, 6, 9], n1i=[100, 120, 90], ci=[8, 10, 12], n2i=[100, 110, 95])
    ax = bm.plot.forest(rr)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "RR"
    post = bm.solve(rr, tau_prior=bm.priors.halfnormal(0.5), mu_prior=bm.priors.normal(0, 2))
    o = bm.Orientation(lower_is_better=True, measure="RR")
    ax = bm.plot.noninferiority(post, margin=1.25, orientation=o)
    xs = ax.lines[0].get_xdata()
    assert ax.get_xscale() == "log" and xs.min() == pytest.approx(1.0) and xs.max() == pytest.approx(1.25**2)
    assert float(np.interp(1.25, xs, ax.lines[0].get_ydata())) == pytest.approx(
        float(bm.prob_noninferior(post, o, 1.25)), abs=2e-3)  # the curve passes through P(NI) at the margin
    with pytest.raises(ValueError, match="beneficial side"):
        bm.plot.noninferiority(post, margin=0.8, orientation=o)
    plt.close("all")


def test_plot_funnel_posterior_and_noninferiority(post):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(2)
    sei = rng.uniform(0.05, 0.3, 12)
    es12 = bm.EffectTable.from_yi_sei(rng.normal(0.1, sei), sei, measure="MD")
    ax = bm.plot.funnel(es12)
    assert isinstance(ax, matplotlib.axes.Axes) and ax.get_ylabel() == "standard error"
    pts = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert len(pts) == 1 and len(pts[0].get_xdata()) == 12
    with pytest.raises(ValueError, match="at least 10 studies"):
        bm.plot.funnel(bm.EffectTable.from_yi_sei(YI, SEI))
    ax = bm.plot.posterior(post, "mu")
    assert ax.get_ylabel() == "probability density" and len(ax.lines) >= 2  # posterior and prior
    ax = bm.plot.posterior(post, "tau")
    assert ax.get_xlim()[0] == 0.0
    o = bm.Orientation(lower_is_better=True, measure="SMD")
    ax = bm.plot.noninferiority(post, margin=0.2, orientation=o)
    ys = ax.lines[0].get_ydata()
    assert np.all(np.diff(ys) >= -1e-12) and ax.get_ylim() == (0.0, 1.02)  # P(NI) grows with the margin
    with pytest.raises(TypeError, match="orientation"):
        bm.plot.noninferiority(post, margin=0.2, orientation=None)
    plt.close("all")
