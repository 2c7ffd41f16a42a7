"""Port of metafor's test_misc_metan_vs_rma.peto_with_dat.bcg.r (Stata metan, Peto OR of dat.bcg)."""

import numpy as np
from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def compute() -> dict:
    d = dat("bcg")
    es = bm.escalc("OR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg, study=d.trial)
    res = bm.rma_peto(es)
    sav = bm.predict(res, transf=np.exp)
    return {13: res.beta[0], 14: res.ci_lb, 15: res.ci_ub, 16: res.zval, 17: res.QE,
            23: sav.pred[0], 24: sav.ci_lb[0], 25: sav.ci_ub[0]}
