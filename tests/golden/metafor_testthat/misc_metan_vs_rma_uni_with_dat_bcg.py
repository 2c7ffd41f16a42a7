"""Port of metafor's test_misc_metan_vs_rma.uni_with_dat.bcg.r (Stata metan, inverse-variance pooling)."""

import numpy as np
from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def compute() -> dict:
    d = dat("bcg")
    v = {}
    blocks = (("RR", "EE", 15), ("RR", "DL", 39), ("OR", "EE", 64), ("OR", "DL", 88), ("RD", "EE", 113),
              ("RD", "DL", 129))
    for measure, method, first in blocks:
        es = bm.escalc(measure, ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg, study=d.trial)
        res = bm.rma(es, method=method)
        v[first], v[first + 1], v[first + 2], v[first + 3] = res.beta[0], res.ci_lb, res.ci_ub, res.zval
        if method == "EE":
            v[first + 4] = res.QE
        else:
            v[first + 4], v[first + 5] = res.tau2, res.I2
        if measure != "RD":
            sav = bm.predict(res, transf=np.exp)
            off = 10 if method == "EE" else 11
            v[first + off], v[first + off + 1], v[first + off + 2] = sav.pred[0], sav.ci_lb[0], sav.ci_ub[0]
    return v
