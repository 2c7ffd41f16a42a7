"""Port of metafor's test_analysis_example_viechtbauer2007a.r (Viechtbauer 2007, Stat Med 26:37-52)."""

from _data import dat
from scipy import optimize, stats

import bayesmeta as bm

PLOT = "compares a plot image with metafor's reference image (plots are not ported)"
BOOT = "bootstrap with R's random number stream (set.seed(12345)); not reproducible outside R"
ELSE = "expect_true(TRUE) in the branch for R < 3.6 (never run)"
OUT_OF_SCOPE = {87: PLOT, 95: PLOT, 147: BOOT, 151: ELSE, 179: BOOT, 183: ELSE}


def compute() -> dict:
    d = dat("collins1985b")
    es = bm.escalc("OR", ai=d["pre.xti"], n1i=d["pre.nti"], ci=d["pre.xci"], n2i=d["pre.nci"])
    dl, ml, reml, sj = (bm.rma(es, method=m) for m in ("DL", "ML", "REML", "SJ"))
    v: dict = {24: [dl.tau2, ml.tau2, reml.tau2, sj.tau2]}
    ci = bm.confint(dl)
    v[32] = [ci["tau2"].ci_lb, ci["tau2"].ci_ub]
    # Biggerstaff-Tweedie: the test's own computation from Q, k and the weights
    wi = 1 / es.vi
    s1 = wi.sum() - (wi**2).sum() / wi.sum()
    s2 = (wi**2).sum() - 2 * (wi**3).sum() / wi.sum() + (wi**2).sum() ** 2 / wi.sum() ** 2

    def f(t, lower):
        e, var = (dl.k - 1) + s1 * t, 2 * (dl.k - 1) + 4 * s1 * t + 2 * s2 * t**2
        g = stats.gamma(e**2 / var)
        return (g.cdf(dl.QE / (var / e)) if lower else g.sf(dl.QE / (var / e))) - 0.025

    v[54] = [optimize.brentq(f, 0, 10, args=(False,)), optimize.brentq(f, 0, 10, args=(True,))]
    for fit, line in ((ml, 62), (reml, 66)):
        c = bm.confint(fit, type="PL")["tau2"]
        v[line] = [c.ci_lb, c.ci_ub]
    # the same model as rma.mv(yi, vi, random = ~ 1 | id): profile-likelihood CI of sigma^2
    frame = es.to_frame().assign(id=range(1, es.k + 1))
    for method, line in (("ML", 73), ("REML", 77)):
        c = bm.confint(bm.rma_mv(frame, "vi", random="~ 1 | id", method=method)).random.loc["sigma^2"]
        v[line] = [c.ci_lb, c.ci_ub]
    for fit, line in ((ml, 103), (reml, 107)):
        c = bm.confint(fit, type="Wald")["tau2"]
        v[line] = [c.ci_lb, c.ci_ub]
    v[115] = [(sj.k - 1) * sj.tau2 / stats.chi2.ppf(0.975, sj.k - 1), (sj.k - 1) * sj.tau2 / stats.chi2.ppf(0.025, sj.k - 1)]
    return v
