"""Port of metafor's test_analysis_example_rothman2008.r (Rothman, Greenland & Lash 2008, Modern
Epidemiology, chapter 15: stratified 2x2 tables and person-time data)."""

import numpy as np

import bayesmeta as bm

TABLE = "to.table()/to.long() data reshaping: not a bayesmeta function (data layout, no estimate)"
MH_RATES = "Mantel-Haenszel pooling of incidence rates (x1i, t1i): not implemented (2x2 tables only)"
GLMM_RATES = "Poisson GLMMs for incidence rates: not implemented (binomial GLMMs only)"
CMEL_WALD = ("CM.EL Wald heterogeneity test: metafor prints {} with its default optimiser; metafor's own "
             "saturated likelihood (metafor:::.dnchg, BiasedUrn precision 1e-10) maximised precisely with "
             "numDeriv's Hessian gives {} (bayesmeta's value), and rma.glmm with optimizer optim/BFGS gives {}: "
             "the printed statistic depends on where metafor's optimiser stops "
             "(validation/metafor/make_cmel_wald.R -> tests/golden/metafor_cmel_wald.json, tests/test_cmel_wald.py)")
OUT_OF_SCOPE = {27: TABLE, 41: TABLE, 171: TABLE, 190: TABLE, 323: TABLE, 339: TABLE,
                **{ln: MH_RATES for ln in (243, 244, 245, 246, 247, 252, 253, 254, 255, 256, 257, 258, 261, 266, 267)},
                **{ln: GLMM_RATES for ln in (274, 275, 276, 277, 278, 279, 280, 283, 284, 285, 290, 291, 292, 293, 294,
                                             295, 296, 299, 300, 301)},
}
KNOWN_MISMATCH = {
    141: CMEL_WALD.format("0.3480", "0.3463", "0.3484"), 142: CMEL_WALD.format("0.3480 (p 0.5552)", "0.3463", "0.3484"),
    388: CMEL_WALD.format("0.1327", "0.1232", "0.1237"), 389: CMEL_WALD.format("0.1327 (p 0.7156)", "0.1232", "0.1237"),
}


def _summary(es):
    """summary(escalc): yi, vi, sei, zi per study (R's column-major matrix)."""
    return np.concatenate([es.yi, es.vi, es.sei, es.yi / es.sei])


def _exp_ci(es):
    s = bm.rma(es, method="EE").studies()
    return np.concatenate([np.exp(es.yi), np.exp(s.ci95_lb), np.exp(s.ci95_ub)])


def _mh(es, measure, first, correct=True, extra=()):
    res = bm.rma_mh(es, measure=measure, level=90, correct=correct) if measure == "OR" else \
        bm.rma_mh(es, measure=measure, level=90)
    v = {first: res.beta, first + 1: res.ci_lb, first + 2: res.ci_ub, first + 3: res.QE, first + 4: res.QE_p}
    for j, name in enumerate(extra):
        v[first + 5 + j] = getattr(res, name)
    return v, res


def _glmm(es, model, first, level=0.95):
    res = bm.rma_glmm(es, model=model, method="EE", level=level)
    p = bm.predict(res, transf=np.exp)
    return {first: res.beta, first + 1: res.ci_lb, first + 2: res.ci_ub, first + 3: res.QE_Wld,
            first + 4: res.QE_Wld_p, first + 5: res.QE_LRT, first + 6: res.QE_p,
            first + 9: p.pred[0], first + 10: p.ci_lb[0], first + 11: p.ci_ub[0]}


def compute() -> dict:
    v: dict = {}
    # Tolbutamide (Table 15-1)
    tab = {"ai": [8, 22], "bi": [98, 76], "ci": [5, 16], "di": [115, 69]}
    crude = {k: [sum(x)] for k, x in tab.items()}
    v[54], v[63] = _summary(bm.escalc("RD", **tab)), _summary(bm.escalc("RD", **crude))
    v[76], v[85] = _exp_ci(bm.escalc("RR", **tab)), _exp_ci(bm.escalc("RR", **crude))
    es = bm.escalc("OR", **tab)
    out, res = _mh(es, "RD", 95)
    v.update(out)
    out, res = _mh(es, "RR", 105)
    v.update(out)
    v[112] = bm.confint(res, transf=np.exp).fixed.loc["intrcpt"].to_numpy()
    out, res = _mh(es, "OR", 118, correct=False, extra=("CO", "CO_p", "MH", "MH_p", "TA", "TA_p"))
    v.update(out)
    v[131] = bm.confint(res, transf=np.exp).fixed.loc["intrcpt"].to_numpy()
    v.update(_glmm(es, "CM.EL", 138))
    # person-time data (Table 15-2): rate differences and ratios per stratum and crude
    rates = {"x1i": [32, 104, 206, 186, 102], "t1i": np.array([52407, 43248, 28612, 12663, 5317]) / 10000,
             "x2i": [2, 12, 28, 28, 31], "t2i": np.array([18790, 10673, 5710, 2585, 1462]) / 10000}
    crude = {k: [float(np.sum(x))] for k, x in rates.items()}
    v[203], v[212] = _summary(bm.escalc("IRD", **rates)), _summary(bm.escalc("IRD", **crude))
    v[225], v[234] = _exp_ci(bm.escalc("IRR", **rates)), _exp_ci(bm.escalc("IRR", **crude))
    # Down syndrome and spermicide (Table 15-5)
    tab = {"ai": [3, 1], "bi": [9, 3], "ci": [104, 5], "di": [1059, 86]}
    es = bm.escalc("OR", **tab)
    out, res = _mh(es, "OR", 348, correct=False, extra=("CO", "CO_p", "MH", "MH_p", "TA", "TA_p"))
    v.update(out)
    v[361] = bm.confint(res, transf=np.exp).fixed.loc["intrcpt"].to_numpy()
    v.update(_glmm(es, "UM.FS", 368, level=0.90))
    v.update(_glmm(es, "CM.EL", 385, level=0.90))
    return v
