"""One published result reanalysed from its summary: rounding, trials, decision priors, random
effects, Bayes factors, absolute effects and bottom line, checked against the pieces computed
directly."""
import numpy as np
import pytest

from bayesmeta.bayes import priors
from bayesmeta.published import summary_likelihood as sl
from bayesmeta.published.summary_reanalysis import reanalyse
from bayesmeta.report.bottom_line import summary_statement

pytestmark = pytest.mark.unit

SIZES = {"a": (15, 15), "b": (56, 56), "c": (55, 55), "d": (40, 40), "e": (25, 25), "f": (20, 20)}
ROB = {"a": "some concerns", "b": "high", "c": "high", "d": "high", "e": "some concerns", "f": "some concerns"}


def test_reanalyse_smd_result_with_unique_subset():
    # Viderman 2023 Table 3 shape: pain at 1 month 0.10 [-0.12, 0.33], 312 participants in 5 studies
    row = {"analysis": "pain_1m", "measure": "SMD", "estimate": 0.10, "ci_lb": -0.12, "ci_ub": 0.33,
           "decimals": 2, "p": None, "i2": None, "k_studies": 5, "participants": 30 + 112 + 80 + 50 + 40,
           "studies": None, "grade": "high"}
    tp = {"hn05": priors.halfnormal(0.5)}
    neutral = priors.from_atlas("bartos.back_and_neck.smd.effect")
    r = reanalyse(row, SIZES, ROB, 0.5, "1 point", neutral, tp, "hn05", "US", "FL", "pain",
                  n_tau=41, n_mu=401, published_grade="high")
    assert "only one subset" in r.trials and r.data.k == 5
    d = r.decisions.set_index("prior")
    assert d.loc["sceptical", "prior_p_ni"] == pytest.approx(0.5)
    # the primary P(NI) is the summary-level random-effects posterior under the neutral prior
    direct = sl.posterior(r.data, tp["hn05"], neutral, n_tau=41, n_mu=401)
    assert r.primary_p_ni() == pytest.approx(float(direct.mu.cdf(0.5)), abs=1e-12)
    assert r.primary_p_ni() == pytest.approx(r.random_effects.p_ni.iloc[0], abs=1e-12)
    # integrating over tau widens mu relative to the published SE
    assert direct.mu.sd() > r.se
    line, cert = summary_statement(r)  # prose is written in the report layer
    assert line.startswith("In patients like these, US is")
    assert "The paper rated it high" in cert
    assert r.bma is not None and 0 < r.bma.bf_effect < np.inf


def test_reanalyse_ratio_without_trials_uses_equal_variances_and_absolute_effects():
    row = {"analysis": "vasovagal", "measure": "RR", "estimate": 0.96, "ci_lb": 0.21, "ci_ub": 4.41,
           "decimals": 2, "p": None, "i2": None, "k_studies": 4, "participants": 240, "studies": None}
    tp = {"hn05": priors.halfnormal(0.5)}
    r = reanalyse(row, SIZES, ROB, np.log(1.25), "RR 1.25", priors.normal(0, 1), tp, "hn05", "US", "FL",
                  "vasovagal reactions", baseline_risks=(0.05,), n_tau=41, n_mu=401)
    assert "equal variances" in r.trials
    assert np.allclose(r.data.vi, r.data.vi[0])
    a = r.absolute.iloc[0]
    assert a.rd_per_1000_lb < a.rd_per_1000_median < a.rd_per_1000_ub
    assert "per 1,000 patients" in summary_statement(r)[0]


def test_missing_arm_sizes_fall_back_to_equal_variances():
    row = {"analysis": "x", "measure": "SMD", "estimate": 0.10, "ci_lb": -0.12, "ci_ub": 0.33,
           "decimals": 2, "k_studies": 5, "participants": 312, "studies": None}
    r = reanalyse(row, {}, {}, 0.5, "m", priors.normal(0, 1), {"hn": priors.halfnormal(0.5)}, "hn", "A", "B", "",
                  n_tau=31, n_mu=201)
    assert "equal variances" in r.trials and r.data.k == 5
    row["studies"] = "a;zz"
    r = reanalyse(row, SIZES, ROB, 0.5, "m", priors.normal(0, 1), {"hn": priors.halfnormal(0.5)}, "hn", "A", "B",
                  "", n_tau=31, n_mu=201)
    assert "arm sizes unknown for zz" in r.trials and r.data.k == 2
