"""Port of metafor's test_analysis_example_stijnen2010.r (Stijnen, Hamza & Ozdemir 2010, Stat Med
29:3046-3067: normal-normal vs exact likelihoods for sparse data)."""

import warnings

import numpy as np
from _data import dat

import bayesmeta as bm

UNI_GLMM = "univariate binomial/Poisson GLMM (rma.glmm with measure PLO or IRLN): not implemented"
RATE_GLMM = "conditional Poisson GLMM for incidence rate ratios: not implemented (binomial 2x2 GLMMs only)"
OUT_OF_SCOPE = {**{ln: UNI_GLMM for ln in (45, 46, 47, 49, 50, 51, 56, 57, 58, 60, 61, 62, 158, 159, 160, 162, 163, 164,
                                           169, 170, 171, 173, 174, 175)},
                **{ln: RATE_GLMM for ln in (201, 202, 203, 205, 206, 207)}}


def ilogit(x):
    return 1 / (1 + np.exp(-x))


def _block(res, first, transf, sqrt_tau=False, gap=4):
    p = bm.predict(res, transf=transf)
    return {first: res.beta, first + 1: res.se, first + 2: np.sqrt(res.tau2) if sqrt_tau else res.tau2,
            first + gap: p.pred[0], first + gap + 1: p.ci_lb[0], first + gap + 2: p.ci_ub[0]}


def compute() -> dict:
    d = dat("nielweise2007")
    v: dict = {}
    v.update(_block(bm.rma(bm.escalc("PLO", xi=d.ci, ni=d.n2i)), 17, ilogit))
    v.update(_block(bm.rma(bm.escalc("PLO", xi=d.ai, ni=d.n1i)), 28, ilogit))
    es = bm.escalc("OR", ai=d.ai, n1i=d.n1i, ci=d.ci, n2i=d.n2i, drop00=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = bm.rma(bm.escalc("OR", ai=d.ai, n1i=d.n1i, ci=d.ci, n2i=d.n2i, drop00=True))
    v[68] = len(w) > 0
    v.update(_block(res, 71, np.exp, sqrt_tau=True))
    es = bm.escalc("OR", ai=d.ai, n1i=d.n1i, ci=d.ci, n2i=d.n2i)
    for model, warn, first in (("CM.EL", 85, 89), ("CM.AL", 103, 106)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            res = bm.rma_glmm(es, model=model)
        v[warn] = len(w) > 0
        v.update(_block(res, first, np.exp, sqrt_tau=True))
    d = dat("nielweise2008")
    t1, t2 = d.t1i / 1000, d.t2i / 1000
    v.update(_block(bm.rma(bm.escalc("IRLN", xi=d.x2i, ti=t2)), 130, np.exp))
    v.update(_block(bm.rma(bm.escalc("IRLN", xi=d.x1i, ti=t1)), 141, np.exp))
    v.update(_block(bm.rma(bm.escalc("IRR", x1i=d.x1i, t1i=t1, x2i=d.x2i, t2i=t2)), 184, np.exp, sqrt_tau=True,
                    gap=4))
    return v
