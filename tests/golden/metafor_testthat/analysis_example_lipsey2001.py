"""Port of metafor's test_analysis_example_lipsey2001.r (Lipsey & Wilson 2001, Practical meta-analysis)."""

import warnings

import numpy as np

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}
YI = [-0.33, 0.32, 0.39, 0.31, 0.17, 0.64, -0.33, 0.15, -0.02, 0.00]
VI = [0.084, 0.035, 0.017, 0.034, 0.072, 0.117, 0.102, 0.093, 0.012, 0.067]
RANDOM = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
INTENSITY = [7, 3, 7, 5, 7, 7, 4, 4, 5, 6]


def _coef(res):
    """coef(summary(res)) in R's column-major order (estimate, se, zval, pval, ci.lb, ci.ub)."""
    return np.concatenate([np.atleast_1d(x) for x in (res.beta, res.se, res.zval, res.pval, res.ci_lb, res.ci_ub)])


def compute() -> dict:
    es = bm.EffectTable.from_yi_vi(YI, VI, moderators={"random": RANDOM, "intensity": INTENSITY})
    v: dict = {}
    res = bm.rma(es, method="EE")
    v[22], v[23], v[24] = _coef(res), res.QE, res.QE_p
    res = bm.rma(es, method="DL")
    v[33], v[34] = _coef(res), res.tau2
    res = bm.rma(es, mods="~ random", method="FE")
    p = bm.predict(res, newmods=[0, 1])
    v[49] = [p.pred[0], p.se[0], p.ci_lb[0], p.ci_ub[0]]
    v[50] = [p.pred[1], p.se[1], p.ci_lb[1], p.ci_ub[1]]
    v[51], v[52], v[53], v[54] = res.QM, res.QM_p, res.QE, res.QE_p
    r = np.asarray(RANDOM)
    for grp, first in ((0, 55), (1, 57)):
        sub = bm.EffectTable.from_yi_vi(np.asarray(YI)[r == grp], np.asarray(VI)[r == grp])
        f = bm.rma(sub, method="EE")
        v[first], v[first + 1] = f.QE, f.QE_p
    res = bm.rma(es, mods="~ random + intensity", method="FE")
    v[70] = _coef(res)
    v[71], v[72], v[73], v[74] = res.QM, res.QM_p, res.QE, res.QE_p
    res = bm.rma(es, mods="~ random + intensity", method="DL")
    v[86] = _coef(res)
    v[87], v[88], v[89] = res.QM, res.QM_p, res.tau2
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        tmp = bm.anova(bm.rma(es, method="DL"), res)
    v[97], v[99] = ("likelihood" in " ".join(str(x.message) for x in w)), tmp.R2
    return v
