"""Port of metafor's test_analysis_example_henmi2010.r (Henmi & Copas 2010, Stat Med 29:2969-2983)."""

from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def compute() -> dict:
    d = dat("lee2004")
    es = bm.escalc("OR", ai=d.ai, n1i=d.n1i, ci=d.ci, n2i=d.n2i)
    res = bm.rma(es, method="DL")
    sav = bm.hc(res)
    return {21: res.tau2, 22: res.beta, 23: res.ci_lb, 24: res.ci_ub, 38: sav.beta, 39: sav.ci_lb, 40: sav.ci_ub}
