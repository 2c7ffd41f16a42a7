"""Port of metafor's test_misc_metan_vs_rma.mh_with_dat.bcg.r (Stata metan, MH pooling of dat.bcg)."""

import numpy as np
from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def compute() -> dict:
    d = dat("bcg")
    es = bm.escalc("RR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg, study=d.trial)
    v = {}
    for measure, first in (("RR", 13), ("OR", 35), ("RD", 57)):
        res = bm.rma_mh(es, measure=measure)
        v[first], v[first + 1], v[first + 2] = res.beta[0], res.ci_lb, res.ci_ub
        v[first + 3], v[first + 4] = res.zval, res.QE
        if measure != "RD":
            sav = bm.predict(res, transf=np.exp)
            v[first + 10], v[first + 11], v[first + 12] = sav.pred[0], sav.ci_lb[0], sav.ci_ub[0]
    return v
