"""Coverage and operating characteristics (bayesmeta.simulate.coverage).

Independent sources: (1) the interval formulas against :func:`bayesmeta.frequentist.rma.rma`
(itself checked against metafor in tests/golden); (2) closed forms with equal standard errors,
where ybar ~ N(mu, sigma^2/k) and X = Q v / sigma^2 ~ chi^2_{k-1} are independent
(sigma^2 = v + tau^2) and the DL estimate is tau2_hat = v max(0, Q/(k-1) - 1):

* HKSJ: SE^2 q = sum (y_i - ybar)^2 / (k(k-1)), so the interval is Student's t interval and its
  coverage is exactly 0.95 for every tau;
* DL-Wald: coverage = E[2 Phi(z sqrt(max(v/sigma^2, X/(k-1)))) - 1];
* modified HKSJ: SE^2 max(1, q) = (v/k) max(1, Q/(k-1)), the DL variance, with a t quantile:
  coverage = E[2 Phi(t_{k-1} sqrt(max(v/sigma^2, X/(k-1)))) - 1];

(one-dimensional integrals by quadrature). Simulated coverages are compared with them within
4 Monte Carlo SEs (a correct implementation fails with probability ~6e-5 per comparison).
"""
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from bayesmeta.frequentist.rma import rma
from bayesmeta.simulate import coverage as cv

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("k,ratio", [(2, 1.0), (3, 10.0), (7, 3.0)])
def test_intervals_match_rma(k, ratio):
    rng = np.random.default_rng(k)
    vi = cv.standard_errors(k, ratio) ** 2
    y = rng.normal(0.1, np.sqrt(vi + 0.3**2), size=(5, k))
    iv = cv.frequentist_intervals(y, vi)
    for i in range(5):
        for m, test in (("DL", "z"), ("HKSJ", "knha"), ("mHKSJ", "knha_adhoc")):
            r = rma(y[i], vi, method="DL", test=test, level=0.95)
            np.testing.assert_allclose(iv[m][i], [r.ci_lb, r.ci_ub], rtol=1e-10, atol=1e-12)


def _closed_form(k, tau, v, quantile):
    s2 = v + tau**2
    f = lambda x: (2 * stats.norm.cdf(quantile * np.sqrt(max(v / s2, x / (k - 1)))) - 1) * stats.chi2.pdf(x, k - 1)
    b = (k - 1) * v / s2  # the kink of max(.)
    return integrate.quad(f, 0, b, limit=200)[0] + integrate.quad(f, b, np.inf, limit=200)[0]


@pytest.mark.parametrize("k,tau", [(2, 0.0), (3, 0.4), (5, 0.1), (10, 0.8)])
def test_equal_se_coverage_closed_forms(k, tau):
    n = 40_000
    v = cv.S0**2
    rng = np.random.default_rng(100 + k)
    y = rng.normal(0.0, np.sqrt(v + tau**2), size=(n, k))
    iv = cv.frequentist_intervals(y, np.full(k, v))
    exact = {"DL": _closed_form(k, tau, v, stats.norm.ppf(0.975)), "HKSJ": 0.95,
             "mHKSJ": _closed_form(k, tau, v, stats.t.ppf(0.975, k - 1))}
    for m, c in exact.items():
        cov = np.mean((iv[m][:, 0] <= 0) & (0 <= iv[m][:, 1]))
        assert abs(cov - c) <= 4 * np.sqrt(c * (1 - c) / n), (m, cov, c)


def test_task_bookkeeping_and_containment():
    r = cv.coverage_task(3, 0.4, 10.0, 0, 7, n_freq=2000, n_bayes=30)
    assert r["n"][0] == "method"
    np.testing.assert_array_equal(r["n"][1], [2000, 2000, 2000, 30])
    hits = dict(zip(cv.METHODS, r["hits"][1], strict=True))
    # the modified HKSJ interval contains both the DL and the HKSJ interval (wider SE, t quantile)
    assert hits["mHKSJ"] >= max(hits["DL"], hits["HKSJ"])
    # IntHout et al. 2014: DL-Wald with k = 3 unequal studies under heterogeneity is anti-conservative
    assert hits["DL"] / 2000 < 0.90


def test_bayes_rule_is_the_one_sided_bound():
    # P(mu < margin) >= 0.95 exactly when the posterior 95% quantile of mu lies below the margin
    rng = np.random.default_rng(3)
    sei = cv.standard_errors(4, 3.0)
    for _ in range(10):
        y = rng.normal(0.0, np.sqrt(sei**2 + 0.04))
        post = cv.exact_fit(y, sei)
        lo, hi, p_ni = cv.bayes_interval_and_ni(y, sei)
        assert (p_ni >= cv.THRESHOLD) == (post.mu.ppf(0.95) < cv.MARGIN)
        assert lo < post.mu.median() < hi


def test_small_sweep_on_dask(tmp_path):
    """The CI subset through the Dask sweep (2 local workers): table, plot and patterns."""
    assert cv.main(["--out", str(tmp_path / "out"), "--work", str(tmp_path / "work")]) == 0
    t = pd.read_csv(tmp_path / "out" / "coverage.csv")
    assert len(t) == 2 * 2 * 2 * 4 and set(t["method"]) == set(cv.METHODS)
    assert (tmp_path / "out" / "coverage.png").stat().st_size > 10_000
    eq = t[(t["se_ratio"] == 1.0) & (t["method"] == "HKSJ")]
    assert (abs(eq["coverage"] - 0.95) <= 4 * np.sqrt(0.95 * 0.05 / eq["n"])).all()  # exact t interval
    w = t.pivot_table(index=["k", "tau", "se_ratio"], columns="method", values="coverage", observed=True)
    assert (w["mHKSJ"] >= w[["DL", "HKSJ"]].max(axis=1)).all()
