"""Port of metafor's test_analysis_example_vanhouwelingen2002.r (van Houwelingen, Arends & Stijnen 2002,
Stat Med 21:589-624; BCG trials, dat.colditz1994)."""

import numpy as np
from _data import dat

import bayesmeta as bm

PLOT = "compares a plot image with metafor's reference image (plots are not ported)"
MV = "rma.mv bivariate model of the arm-level log odds (struct='UN') and matreg: not on bayesmeta's front door"
OUT_OF_SCOPE = {72: PLOT, 92: PLOT, 105: PLOT, 140: PLOT, 150: PLOT,
                **{ln: MV for ln in (167, 168, 169, 173, 175, 179, 180, 181, 182, 183, 188, 189, 193, 194, 195, 200,
                                     201, 206, 207, 226, 227, 228, 229, 234, 235, 236, 237)}}


def compute() -> dict:
    d = dat("colditz1994")
    es = bm.escalc("OR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg, moderators={"ablat": d.ablat})
    v: dict = {}
    p = bm.predict(bm.rma(es, method="EE"), transf=np.exp)
    v[24], v[25], v[26] = p.pred[0], p.ci_lb[0], p.ci_ub[0]
    res = bm.rma(es, method="ML")
    p = bm.predict(res, transf=np.exp)
    v[36], v[37], v[38], v[39] = p.pred[0], p.ci_lb[0], p.ci_ub[0], res.tau2
    c = bm.confint(res, type="PL").random.loc["tau2"]
    v[43], v[44] = c.ci_lb, c.ci_ub
    c = bm.confint(res).random.loc["tau2"]
    v[48], v[49] = c.ci_lb, c.ci_ub
    p = bm.predict(bm.rma(es, method="ML", test="knha"), transf=np.exp)
    v[56], v[57] = p.ci_lb[0], p.ci_ub[0]
    v[117] = res.beta[0] + np.array([-1, 1]) * 1.959963984540054 * np.sqrt(res.tau2)
    p = bm.predict(res)
    v[123], v[124] = p.pi_lb[0], p.pi_ub[0]
    res = bm.rma(es, mods="~ ablat", method="ML")
    v[218], v[219], v[220], v[221] = res.beta, res.se, res.tau2, res.R2
    return v
