"""Port of metafor's test_analysis_example_yusuf1985.r (Yusuf et al. 1985, beta blockade, table 6)."""

import warnings

import numpy as np
from _data import dat

import bayesmeta as bm

PLOT = "llplot / a plot image (plots are not ported)"
PETO_ESCALC = "escalc(measure='PETO') as study-level effect sizes: not in bm.escalc on this branch (measures are helper nb's)"
OUT_OF_SCOPE = {22: PLOT, 24: PLOT, 29: PLOT, 38: PLOT, 40: PLOT, 47: PLOT, 67: PETO_ESCALC, 70: PETO_ESCALC,
                75: PETO_ESCALC}


def compute() -> dict:
    d = dat("yusuf1985")
    d = d[d.table.astype(str) == "6"]
    es = bm.escalc("OR", ai=d.ai, n1i=d.n1i, ci=d.ci, n2i=d.n2i)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = bm.rma_peto(es)
    p = bm.predict(res, transf=np.exp)
    return {53: len(w) > 0, 61: [p.pred[0], p.ci_lb[0], p.ci_ub[0]]}
