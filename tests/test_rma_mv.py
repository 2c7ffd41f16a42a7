"""bm.rma_mv against metafor 3.8.1's rma.mv (tests/golden/metafor_rma_mv.json, made by
validation/metafor/make_golden_rma_mv.R on the data of tests/golden/metafor_testthat/data/).

Tolerances: quantities computed in closed form from the data (QE, the saturated likelihood) to 1e-9;
everything that rests on the optimised variance components to ``OPT`` = 2e-4 relative -- metafor's
nlminb and this BFGS stop at different points of a flat maximum (both within ~1e-8 of the same
log-likelihood), which moves variance components by up to ~1e-4 relative and coefficients less;
the log-likelihood at the maximum is insensitive to that, to 1e-7. Profile-likelihood bounds: the
root-finders of both stop at ~1e-5 relative (metafor's uniroot tol is .Machine$double.eps^0.25), 1e-3.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmeta as bm

pytestmark = pytest.mark.reference

HERE = Path(__file__).resolve().parent
G = json.loads((HERE / "golden" / "metafor_rma_mv.json").read_text())
DATA = HERE / "golden" / "metafor_testthat" / "data"
OPT, LL, CLOSED, PROFILE = 2e-4, 1e-7, 1e-9, 1e-3


def _kon():
    return pd.read_csv(DATA / "konstantopoulos2011.csv")


def _ber():
    d = pd.read_csv(DATA / "berkey1998.csv")
    return d, [g[["v1i", "v2i"]].to_numpy() for _, g in d.groupby("trial", sort=True)]


def _ish():
    d = pd.read_csv(DATA / "ishak2007.csv")
    long = pd.DataFrame([{"study": s.study, "time": t, "yi": s[f"y{t}i"], "vi": s[f"v{t}i"]}
                         for _, s in d.iterrows() for t in (1, 2, 3, 4)])
    long = long.sort_values(["study", "time"], kind="stable").reset_index(drop=True)
    ar = 0.97 ** np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    blocks = []
    for _, g in long.groupby("study", sort=True):
        s = np.sqrt(g.vi.to_numpy())
        keep = np.isfinite(s)
        blocks.append((s[:, None] * ar * s[None, :])[np.ix_(keep, keep)])
    return long[long.yi.notna()].reset_index(drop=True), blocks


def _close(a, b, rtol, atol=0.0):
    np.testing.assert_allclose(np.ravel(np.asarray(a, float)), np.ravel(np.asarray(b, float)), rtol=rtol, atol=atol)


def _check_fit(fit, g, opt=OPT):
    _close(fit.beta, g["beta"], opt, 1e-8)
    _close(fit.se, g["se"], opt)
    _close(fit.pval, g["pval"], 50 * opt, 1e-12)
    _close(fit.ci_lb, g["ci_lb"], opt, 1e-6)
    _close(fit.ci_ub, g["ci_ub"], opt, 1e-6)
    _close(fit.vb, g["vb"], 2 * opt, 1e-10)
    _close(fit.QE, g["QE"], CLOSED)
    _close(fit.QE_p, g["QEp"], 1e-7, 1e-300)
    _close(fit.QM, g["QM"], 2 * opt)
    _close(fit.logLik, g["logLik"], LL)
    for mine, theirs in (("deviance", "deviance"), ("AIC", "AIC"), ("BIC", "BIC"), ("AICc", "AICc")):
        _close(getattr(fit, mine), g[theirs], LL, 1e-7)
    assert fit.n_par == g["parms"]
    for comp in ("sigma2", "tau2", "rho"):
        if comp in g and (comp != "rho" or len(fit.rho)):
            _close(getattr(fit, comp), g[comp], opt, 1e-6)


def _check_ci(fit, g):
    ci = bm.confint(fit).random
    for block in g["confint"].values():
        rows = block["rows"] if isinstance(block["rows"], list) else [block["rows"]]
        # metafor names a lone tau^2 "tau^2"; several sigma2 are "sigma^2.1", ...
        got = ci.loc[rows]
        _close(got.estimate, block["estimate"], OPT)
        _close(got.ci_lb, block["ci_lb"], PROFILE)
        _close(got.ci_ub, block["ci_ub"], PROFILE)


def test_three_level_reml_with_profile_ci_and_blups():
    fit = bm.rma_mv(_kon(), "vi", random="~ 1 | district/study")
    g = G["kon_reml"]
    _check_fit(fit, g)
    _check_ci(fit, g)
    re = bm.ranef(fit)["district"]
    _close(re.intrcpt, g["ranef_district"], OPT, 1e-6)
    _close(re.se, g["ranef_district_se"], OPT)
    # the ML fit statistics of the REML fit (metafor's fitstats(res, REML=FALSE))
    f = bm.fitstats(fit, reml=False)
    _close([f["logLik"], f["deviance"], f["AIC"], f["BIC"], f["AICc"]], g["ml"], LL)


def test_three_level_ml():
    fit = bm.rma_mv(_kon(), "vi", random="~ 1 | district/study", method="ML")
    _check_fit(fit, G["kon_ml"])
    _check_ci(fit, G["kon_ml"])


def test_meta_regression_t_tests_and_predict():
    fit = bm.rma_mv(_kon(), "vi", mods="~ I(year - mean(year))", random="~ 1 | district/study", method="ML",
                    test="t")
    g = G["kon_ml_t"]
    _check_fit(fit, g)
    assert (fit.QM_df, fit.df) == tuple(g["QMdf"])
    p = bm.predict(fit, newmods=[-10, 0, 10])
    _close(p.pred, g["pred"], OPT)
    _close(p.se, g["pred_se"], OPT)
    _close(p.ci_lb, g["pred_ci_lb"], OPT)
    _close(p.pi_lb, g["pred_pi_lb"], OPT)
    _close(p.pi_ub, g["pred_pi_ub"], OPT)


def test_multivariate_parameterisation_cs():
    fit = bm.rma_mv(_kon(), "vi", random="~ factor(study) | district")
    _check_fit(fit, G["kon_cs"])
    _check_ci(fit, G["kon_cs"])


def test_one_tau2_per_district_diag():
    fit = bm.rma_mv(_kon(), "vi", random=["~ 1 | district", "~ factor(district) | study"], struct="DIAG")
    g = G["kon_diag"]
    assert fit.n_par == g["parms"]
    # several tau^2 sit at or near 0 on a flat likelihood: the maximum must be at least metafor's
    assert fit.logLik >= g["logLik"] - 1e-7
    _close(fit.beta, g["beta"], 1e-3)
    _close(fit.tau2, g["tau2"], 0, 2e-3)
    _close(fit.QE, g["QE"], CLOSED)


def test_bivariate_unstructured_ml_with_wald_combinations_and_profile_ci():
    d, V = _ber()
    fit = bm.rma_mv(d, V, mods="~ 0 + outcome + outcome:I(year - 1983)", random="~ outcome | trial", struct="UN",
                    method="ML")
    g = G["ber_un"]
    assert fit.names == ("outcomeAL", "outcomePD", "outcomeAL:I(year - 1983)", "outcomePD:I(year - 1983)")
    _check_fit(fit, g)
    a = bm.anova(fit, L=[[1, -1, 0, 0], [0, 0, 1, -1]])
    _close(a.QM, g["L_QM"], OPT)
    _close(a.QM_p, g["L_QMp"], 50 * OPT, 1e-12)
    _close(a.hyp.estimate, g["L_est"], OPT)
    _close(a.hyp.se, g["L_se"], OPT)
    # profile CIs of the UN components: the profile has several local maxima (tau^2_2 = 0 frees rho), both
    # searches are local; tau^2 bounds agree to 0.2% (testthat's 1%), rho's lower bound is -1 here (with
    # tau^2_2 = 0 every rho is within the critical value: checked below) and -0.834 in metafor
    ci = bm.confint(fit).random
    for block in list(g["confint"].values())[:2]:
        _close(ci.loc[block["rows"]].ci_lb, block["ci_lb"], 1e-2)
        _close(ci.loc[block["rows"]].ci_ub, block["ci_ub"], 1e-2)
    assert ci.loc["rho"].ci_ub == pytest.approx(G["ber_un"]["confint"]["3"]["ci_ub"], abs=1e-5)
    assert ci.loc["rho"].ci_lb == pytest.approx(-1, abs=1e-5)
    at0 = bm.rma_mv(d, V, mods="~ 0 + outcome + outcome:I(year - 1983)", random="~ outcome | trial", struct="UN",
                    method="ML", tau2=[np.nan, 0.0], rho=-0.834)
    assert 2 * (fit.logLik - at0.logLik) < 3.8414588


def test_lrt_un_against_cs_reml_and_hcs():
    d, V = _ber()
    kw = {"mods": "~ 0 + outcome", "random": "~ outcome | trial"}
    un, cs = bm.rma_mv(d, V, struct="UN", **kw), bm.rma_mv(d, V, struct="CS", **kw)
    g = G["ber_lrt_reml"]
    _check_fit(un, g["un"])
    _check_fit(cs, g["cs"])
    p = bm.predict(un, newmods=np.eye(2), tau2_levels=[0, 1])  # metafor's tau2.levels (1-based) c(1, 2)
    _close(p.pred, g["pred"], OPT)
    _close([p.pi_lb, p.pi_ub], [g["pi_lb"], g["pi_ub"]], OPT)
    assert bm.predict(un, newmods=np.eye(2)).pi_lb.isna().all()  # several tau^2 and no level: no PI
    a = bm.anova(cs, un)
    _close(a.LRT, g["LRT"], 1e-5)
    _close(a.pval, g["pval"], 1e-5)
    # HCS with two levels is UN reparameterised: same maximum
    _check_fit(bm.rma_mv(d, V, struct="HCS", **kw), G["ber_hcs"])
    t = bm.rma_mv(d, V, struct="UN", test="t", **kw)
    _check_fit(t, G["ber_un_t"])
    assert (t.QM_df, t.df) == tuple(G["ber_un_t"]["QMdf"])


def test_longitudinal_ar_hcs_and_random_intercept_with_full_v():
    long, V = _ish()
    fx = "~ 0 + factor(time)"
    fit = bm.rma_mv(long, V, mods=fx, random="~ time | study", struct="AR")
    _check_fit(fit, G["ish_ar"])
    _check_ci(fit, G["ish_ar"])
    _check_fit(bm.rma_mv(long, V, mods=fx, random="~ time | study", struct="HCS", method="ML"), G["ish_hcs_ml"])
    _check_fit(bm.rma_mv(long, V, random="~ 1 | study"), G["ish_sigma"])


def test_display_is_a_short_summary():
    fit = bm.rma_mv(_kon(), "vi", random="~ 1 | district/study")
    text = repr(fit)
    assert text.startswith("Multivariate meta-analysis model (k = 56; method: REML")
    assert "sigma2.1" in text and "district/study" in text and len(text.splitlines()) < 20
    assert "<pre" in fit._repr_html_() and "<table" in fit._repr_html_()


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"random": "~ 1 | distrct/study"}, "random: no column 'distrct'"),
    ({"random": "~ factor(study) | district", "struct": "XYZ"}, "struct: unknown structure 'XYZ'"),
    ({"mods": "~ yeer"}, "mods: no column 'yeer'"),
    ({"V": np.ones(5)}, "V has shape (5, 5)"),
    ({"V": -np.eye(56)}, "V is not positive semi-definite"),
    ({"V": np.triu(np.ones((56, 56)))}, "V is not symmetric"),
    ({"random": "~ 1 | district", "method": "DL"}, "method must be 'REML' or 'ML'"),
])
def test_bad_input_names_the_argument(kwargs, needle):
    kwargs = {"V": "vi", **kwargs}
    with pytest.raises(ValueError, match=None) as e:
        bm.rma_mv(_kon(), **kwargs)
    assert needle in str(e.value)


def test_missing_rows_are_left_out_with_a_warning():
    d = _kon()
    d.loc[3, "yi"] = np.nan
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit = bm.rma_mv(d, "vi", random="~ 1 | district/study")
    assert fit.k == 55 and any("missing" in str(x.message) for x in w)
    ref = bm.rma_mv(d.drop(index=3), "vi", random="~ 1 | district/study")
    _close(fit.sigma2, ref.sigma2, 1e-10)


def test_cluster_robust_inference():
    d = _kon()
    fit = bm.rma_mv(d, "vi", random="~ 1 | district/study")
    rb, g = bm.robust(fit, cluster=d.district), G["kon_reml_robust"]
    _close(rb.se, g["se"], OPT)
    _close(rb.pval, g["pval"], OPT)
    _close([rb.ci_lb, rb.ci_ub], [g["ci_lb"], g["ci_ub"]], OPT, 1e-6)
    assert rb.df[0] == g["df"]
    b, V = _ber()
    fit = bm.rma_mv(b, V, mods="~ 0 + outcome + outcome:I(year - 1983)", random="~ outcome | trial", struct="UN",
                    method="ML")
    rb, g = bm.robust(fit, cluster=b.trial), G["ber_un_robust"]
    _close(rb.se, g["se"], OPT)
    _close(rb.pval, g["pval"], OPT)
    _close(rb.QM, g["QM"], 2 * OPT)
    assert (rb.QM_df, rb.QM_ddf) == tuple(g["QMdf"])
    _close(bm.robust(fit, cluster=b.trial, adjust=False).se, g["se_unadjusted"], OPT)
    # CR2 with Satterthwaite df (clubSandwich, as metafor's robust(clubSandwich=TRUE))
    fit = bm.rma_mv(d, "vi", mods="~ I(year - mean(year))", random="~ 1 | district/study", method="ML", test="t")
    rb, g = bm.robust(fit, cluster=d.district, clubSandwich=True), G["kon_ml_t_cr2"]
    _close(rb.se, g["se"], OPT)
    _close(rb.df, g["df"], OPT)
    _close(rb.pval, g["pval"], OPT)
    _close(rb.ci_lb, g["ci_lb"], OPT)
    _close([rb.QM, rb.QM_ddf, rb.QM_p], [g["QM"], g["QMdf"][1], g["QMp"]], 2 * OPT)
    long, V = _ish()
    fit = bm.rma_mv(long, V, mods="~ 0 + factor(time)", random="~ time | study", struct="AR")
    rb, g = bm.robust(fit, cluster=long.study, clubSandwich=True), G["ish_ar"]
    _close(rb.se, g["cr2_se"], OPT)
    _close(rb.df, g["cr2_df"], OPT)
    _close(rb.pval, g["cr2_pval"], 10 * OPT, 1e-12)
    with pytest.raises(ValueError, match="not nested within the clusters"):
        bm.robust(fit, cluster=long.time, clubSandwich=True)


def test_effect_table_input_and_refusals():
    d = _kon()
    # repeated rows of a study are time points (here: the schools of a district)
    es = bm.EffectTable.from_yi_vi(d.yi, d.vi, study=d.district.astype(str).tolist(),
                                   timepoint=d.study.astype(str).tolist(), moderators={"year": d.year.tolist()})
    fit = bm.rma_mv(es, random="~ 1 | study/timepoint")  # V defaults to the table's vi
    _close(fit.sigma2, G["kon_reml"]["sigma2"], OPT)
    assert fit.labels == es.labels
    with pytest.raises(TypeError, match="EffectTable or a pandas DataFrame"):
        bm.rma_mv(d.yi.to_numpy(), d.vi.to_numpy())
    with pytest.raises(TypeError, match=r"not defined for a bm\.rma_mv fit"):
        bm.blup(fit)
