"""Port of metafor's test_analysis_example_raudenbush1985.r (Raudenbush 1984/1985, teacher expectancy)."""

from _data import dat

import bayesmeta as bm

PLOT = "compares a plot image with metafor's reference image (plots are not ported)"
OUT_OF_SCOPE = {47: PLOT, 54: PLOT, 61: PLOT, 109: PLOT, 119: PLOT, 129: PLOT}


def compute() -> dict:
    d = dat("raudenbush1985")
    weeks_c = d.weeks.clip(upper=3)
    es = bm.EffectTable.from_yi_vi(d.yi, d.vi, study=d.study, moderators={"weeks_c": weeks_c})
    v: dict = {}
    res = bm.rma(es)
    v[18], v[19], v[20], v[21] = res.tau2, res.beta, res.QE, res.zval
    b, r = bm.blup(res), bm.ranef(res)
    v[29], v[30], v[31] = b.pred, b.pi_lb, b.pi_ub
    v[36], v[37], v[38] = r.pred, r.pi_lb, r.pi_ub
    res = bm.rma(es, mods="~ weeks_c")
    v[74], v[75], v[76], v[77] = res.tau2, res.beta, res.QE, res.zval
    b, r, p = bm.blup(res), bm.ranef(res), bm.predict(res)
    v[83], v[84], v[85] = b.pred, b.pi_lb, b.pi_ub
    v[90], v[91], v[92] = r.pred, r.pi_lb, r.pi_ub
    v[98], v[99], v[100] = p.pred, p.ci_lb, p.ci_ub
    return v
