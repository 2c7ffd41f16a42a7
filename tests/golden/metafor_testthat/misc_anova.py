"""Port of metafor's test_misc_anova.r (likelihood-ratio tests, Wald tests with btt and X)."""

import warnings

from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def compute() -> dict:
    d = dat("bcg")
    es = bm.escalc("RR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg,
                   moderators={"ablat": d.ablat, "alloc": d.alloc, "year": d.year})
    v: dict = {}
    sav = bm.anova(bm.rma(es, method="ML"), bm.rma(es, mods="~ ablat", method="ML"))
    v[15], v[16] = sav.LRT, sav.fits.LRT.iloc[1]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        sav = bm.anova(bm.rma(es, method="REML"), bm.rma(es, mods="~ ablat", method="REML"))
    v[20] = any("REML" in str(x.message) for x in w)
    v[22], v[23] = sav.LRT, sav.fits.LRT.iloc[1]
    res = bm.rma(es, mods="~ ablat + alloc")
    for btt, first in (([2, 3], 34), ("alloc", 41)):
        sav = bm.anova(res, btt=btt)
        v[first], v[first + 1], v[first + 2] = sav.QM, sav.QM_p, sav.QM
    res = bm.rma(es, mods="~ ablat + alloc", test="knha")
    sav = bm.anova(res, btt=[2, 3])
    v[49], v[50], v[51] = sav.QM, sav.QM_p, sav.QM
    two = [bm.anova(res, btt=[1]), bm.anova(res, btt=[2, 3])]
    v[56], v[57], v[58] = [a.QM for a in two], [a.QM_p for a in two], [a.QM for a in two]
    res = bm.rma(es, mods="~ ablat + alloc + year", test="knha")
    v[62] = [bm.anova(res, btt=t).QM for t in ("ablat", "alloc", "year")]
    res = bm.rma(es, mods="~ ablat + alloc")
    L = [[1, 10, 0, 0], [1, 30, 0, 0], [1, 50, 0, 0]]
    sav = bm.anova(res, L=L)
    v[74], v[75] = sav.hyp.zval, sav.hyp.zval
    sav = bm.anova(res, L=L, rhs=-0.10)
    v[79], v[80] = sav.hyp.zval, sav.hyp.zval
    res = bm.rma(es, mods="~ ablat + alloc", test="knha")
    sav = bm.anova(res, L=[[1, 10, 0, 0], [1, 10, 1, 0], [1, 10, 0, 1]])
    v[86], v[87], v[88], v[89] = sav.hyp.tval, sav.hyp.tval, sav.QM, sav.QM_p
    return v
