"""Port of metafor's test_misc_influence.r (influence, leave1out, hat values, Cook's distances)."""

from _data import dat

import bayesmeta as bm

NAPASS = "na.action='na.pass' (outputs padded with NA for the omitted studies): bayesmeta drops such rows"
NA_YI = ("missing yi and vi in the data: bm.EffectTable refuses them (validated input); missing moderators "
         "are dropped with a warning by bm.rma")
INFONLY = "checks the length of an object of a previous block ('sav'), not a result of this block"
OUT_OF_SCOPE = {136: NAPASS, 139: NAPASS, 140: NAPASS, 141: NAPASS,
                142: NAPASS, 126: NA_YI, 129: NA_YI, 130: NA_YI, 131: NA_YI, 132: NA_YI, 154: INFONLY, 156: INFONLY}


def compute() -> dict:
    d = dat("bcg")
    es = bm.escalc("RR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg, moderators={"ablat": d.ablat})
    res = bm.rma(es)
    inf = bm.influence(res).iloc[0]
    v: dict = {19: [inf.rstudent, inf.dffits, inf.cook_d, inf.cov_r, inf.tau2_del, inf.QE_del, inf.hat, inf.weight,
                    inf.dfbetas_intrcpt, res.tau2, res.QE]}
    l1 = bm.leave1out(res).iloc[0]
    v[32] = [l1.estimate, l1.se, l1.zval, l1.pval, l1.ci_lb, l1.ci_ub, l1.Q, l1.Q_p, l1.tau2, l1.I2, l1.H2]
    for fit, line in ((bm.rma_mh(es, measure="RR"), 44), (bm.rma_peto(es), 56)):
        l1 = bm.leave1out(fit).iloc[0]
        v[line] = [l1.estimate, l1.se, l1.zval, l1.pval, l1.ci_lb, l1.ci_ub, l1.Q, l1.Q_p, l1.I2, l1.H2]
    res = bm.rma(es, mods="~ ablat")
    v[67] = res.X.T.ravel()  # column-major, as R's matrix
    v[76] = bm.hatvalues(res)
    v[79] = bm.hatvalues(res, type="matrix")[:3, :3].T.ravel()
    v[100] = bm.influence(res).cook_d
    frame = es.to_frame().assign(trial=d.trial, alloc=d.alloc)
    mv = bm.rma_mv(frame, "vi", mods="~ ablat", random="~ 1 | trial")
    v[88] = bm.hatvalues(mv)
    v[91] = bm.hatvalues(mv, type="matrix")[:3, :3].T.ravel()
    v[109] = bm.cooks_distance(mv)
    v[110] = bm.cooks_distance(mv, cluster=frame.alloc)
    v[111] = bm.cooks_distance(mv, cluster=frame.alloc, reestimate=False)
    return v
