"""Port of metafor's test_analysis_example_vanhouwelingen1993.r (van Houwelingen, Zwinderman & Stijnen
1993, Stat Med 12:2273-2284: conditional logistic models, dat.collins1985a)."""

import warnings

from _data import dat

import bayesmeta as bm

PLOT = "llplot / a plot image (plots are not ported)"
OUT_OF_SCOPE = {18: PLOT, 22: PLOT, 27: PLOT, 32: PLOT}


def compute() -> dict:
    d = dat("collins1985a")
    es = bm.escalc("OR", ai=d["b.xci"], n1i=d.nci, ci=d["b.xti"], n2i=d.nti)
    v: dict = {}
    for method, blocks in (("EE", ((40, 43), (50, 53))), ("ML", ((65, 68), (76, 79)))):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            res = bm.rma_glmm(es, model="CM.EL", method=method)
        for warn, first in blocks:  # the second block: metafor's other density algorithm, the same model
            v[warn] = len(w) > 0
            v[first], v[first + 1], v[first + 2], v[first + 3] = res.beta, res.se, res.ci_lb, res.ci_ub
            v[first + 4] = res.loglik
            if method == "ML":
                v[first + 5] = res.tau2
    return v
