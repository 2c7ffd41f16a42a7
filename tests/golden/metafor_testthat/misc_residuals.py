"""Port of metafor's test_misc_residuals.r (residuals, rstandard, rstudent)."""

import numpy as np
from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE = {
                73: "compares with escalc(measure='PETO'), not in bm.escalc on this branch (the Peto residuals "
                    "are checked at 74-75)",
                86: "residuals() of a GLMM fit: not implemented"}


def compute() -> dict:
    d = dat("bcg").iloc[:6]
    es = bm.escalc("RR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg,
                   moderators={"trial1": (d.trial == 1).astype(float).tolist()})
    v: dict = {}
    res = bm.rma(es)
    v[12] = ("pair", bm.residuals(res), es.yi - res.beta[0])
    v[13], v[14] = bm.rstandard(res).z, bm.rstudent(res).z
    res = bm.rma(es, method="EE")
    v[17] = ("pair", np.sum(bm.residuals(res, type="pearson") ** 2), res.QE)
    v[18] = ("pair", np.sum(bm.residuals(res, type="cholesky") ** 2), res.QE)
    for test, first in (("z", 31), ("knha", 38)):
        sav = bm.rstudent(bm.rma(es, test=test))
        res = bm.rma(es, mods="~ trial1", test=test)  # mean-shift outlier model
        v[first] = ("pair", res.beta[1], sav.resid[0])
        v[first + 1] = ("pair", res.se[1], sav.se[0])
    mh = bm.rma_mh(es, measure="RR")
    v[62] = ("pair", bm.residuals(mh), es.yi - mh.beta[0])
    v[63], v[64] = bm.residuals(mh, type="rstandard"), bm.residuals(mh, type="rstudent")
    peto = bm.rma_peto(es)
    v[74], v[75] = bm.rstandard(peto).z, bm.rstudent(peto).z
    mv = bm.rma_mv(es.to_frame().assign(trial=d.trial.to_numpy()), "vi", random="~ 1 | trial")
    v[48] = ("pair", bm.residuals(mv), es.yi - mv.beta[0])
    v[49] = bm.rstandard(mv).z
    alloc = d.alloc.to_numpy()
    v[50] = bm.rstandard(mv, cluster=alloc)["cluster"].X2
    v[51] = bm.rstudent(mv).z
    v[52] = bm.rstudent(mv, cluster=alloc)["cluster"].X2
    v[53] = bm.rstudent(mv, cluster=alloc, reestimate=False)["cluster"].X2
    return v
