"""Port of metafor's test_analysis_example_vanhouwelingen2002.r (van Houwelingen, Arends & Stijnen 2002,
Stat Med 21:589-624; BCG trials, dat.colditz1994)."""

import numpy as np
import pandas as pd
from _data import dat

import bayesmeta as bm

PLOT = "compares a plot image with metafor's reference image (plots are not ported)"
MATREG = ("matreg (regression of one outcome's true effects on another's from the fitted G): not offered by "
          "bayesmeta")
OUT_OF_SCOPE = {72: PLOT, 92: PLOT, 105: PLOT, 140: PLOT, 150: PLOT,
                200: MATREG, 201: MATREG,
                206: MATREG + "; with cvvc='varcov' (var-cov matrix of the variance components), also not offered",
                207: MATREG + "; with cvvc='varcov' (var-cov matrix of the variance components), also not offered"}


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
    # bivariate model of the arm-level log odds (metafor's to.long + escalc("PLO")): one row per arm
    arms = pd.concat([pd.DataFrame({"trial": d.trial, "group": "EXP", "xi": d.tpos, "mi": d.tneg, "ablat": d.ablat}),
                      pd.DataFrame({"trial": d.trial, "group": "CON", "xi": d.cpos, "mi": d.cneg, "ablat": d.ablat})])
    arms = arms.sort_values(["trial", "group"], ascending=[True, False], kind="stable").reset_index(drop=True)
    plo = bm.escalc("PLO", xi=arms.xi, mi=arms.mi)
    long = arms.assign(yi=plo.yi, vi=plo.vi)
    kw = {"random": "~ group | trial", "struct": "UN", "method": "ML"}
    res = bm.rma_mv(long, "vi", mods="~ 0 + group", **kw)
    v[167], v[168], v[169] = res.beta, res.tau2, res.rho
    v[173] = res.tau2[0] + res.tau2[1] - 2 * res.rho[0] * np.sqrt(res.tau2[0] * res.tau2[1])
    v[175] = res.tau2.sum() - 2 * res.G[0, 1]
    p = bm.predict(res, newmods=[-1, 1], hetvar=res.tau2.sum() - 2 * res.G[0, 1], transf=np.exp)
    v[179], v[180], v[181], v[182], v[183] = p.pred, p.ci_lb, p.ci_ub, p.pi_lb, p.pi_ub
    res = bm.rma_mv(long, "vi", mods="~ group", **kw)
    v[188], v[189] = res.beta, res.se
    p = bm.predict(res, newmods=1, intercept=False, transf=np.exp)
    v[193], v[194], v[195] = p.pred, p.ci_lb, p.ci_ub
    res = bm.rma_mv(long, "vi", mods="~ 0 + group + group:I(ablat - 33)", **kw)
    v[226], v[227], v[228], v[229] = res.beta, res.se, res.tau2, res.rho
    res = bm.rma_mv(long, "vi", mods="~ group*I(ablat - 33)", **kw)
    v[234], v[235], v[236], v[237] = res.beta, res.se, res.tau2, res.rho
    return v
