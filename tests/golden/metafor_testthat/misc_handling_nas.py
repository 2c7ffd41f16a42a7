"""Port of metafor's test_misc_handling_nas.r: method functions after missing values are omitted.

bm.EffectTable refuses missing yi/vi (validated input), so the rows with a missing estimate or
variance are removed before the table is made; a missing moderator is dropped by bm.rma with a
warning, as metafor's na.omit. The na.omit blocks are checked; na.pass / na.exclude (outputs padded
with NA to the original rows) are not offered.
"""

import warnings

import numpy as np
from _data import dat

import bayesmeta as bm

PAD = "na.action 'na.pass'/'na.exclude' (outputs padded with NA to the original rows): not offered; bayesmeta " \
      "returns the rows used (checked with na.omit)"
SIMULATE = "simulate(): not implemented"
NA_YI = "missing yi or vi: bm.EffectTable refuses them (the rows are removed before the table is made)"
OUT_OF_SCOPE = {11: NA_YI, 28: SIMULATE, 89: SIMULATE,
                **{ln: PAD for ln in list(range(35, 48)) + list(range(53, 66)) + list(range(96, 108))
                   + list(range(113, 125))}}
YI = np.array([np.nan, 1, 3, 2, 5, 4, 6])
VI = np.array([1, np.nan, 1, 1, 1, 1, 1])
XI = np.array([0, 1, np.nan, 3, 4, 5, 6])


def _methods(res, v, lines, dfb):
    fitted, resid, pred, blup, cook, dfbetas, hat, l1, ranef, rstd, rstu, w = lines
    p = bm.predict(res)
    v[fitted] = p.pred if "study" in p.columns else np.full(res.k, p.pred[0])
    v[resid], v[pred] = bm.residuals(res), p.pred
    inf = bm.influence(res)
    v[blup], v[cook], v[dfbetas], v[hat] = bm.blup(res).pred, inf.cook_d, inf[dfb], bm.hatvalues(res)
    if l1 is not None:
        v[l1] = bm.leave1out(res).estimate
    v[ranef], v[rstd], v[rstu], v[w] = bm.ranef(res).pred, bm.rstandard(res).resid, bm.rstudent(res).resid, inf.weight


def compute() -> dict:
    v: dict = {}
    ok = np.isfinite(YI) & np.isfinite(VI)
    es = bm.EffectTable.from_yi_vi(YI[ok], VI[ok], moderators={"xi": XI[ok]})
    res = bm.rma(es)
    v[13] = res.k
    _methods(res, v, (17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 29), "dfbetas_intrcpt")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = bm.rma(es, mods="~ xi")  # the missing moderator: dropped with a warning
    v[73], v[75] = len(w) > 0, res.k
    _methods(res, v, (79, 80, 81, 82, 83, 84, 85, None, 86, 87, 88, 90), "dfbetas_xi")
    # rma.mv: the multilevel and the multivariate parameterisation agree, also with rows (a district) missing
    d = dat("konstantopoulos2011")
    for nas, (l_ml, l_mv, l_ll) in ((0, (None, None, 136)), (2, (140, 141, 142)), (4, (146, 147, 148))):
        d.loc[: nas - 1, "yi"] = np.nan
        with warnings.catch_warnings(record=True) as w1:
            warnings.simplefilter("always")
            r1 = bm.rma_mv(d, "vi", random="~ 1 | district/study")
        with warnings.catch_warnings(record=True) as w2:
            warnings.simplefilter("always")
            r2 = bm.rma_mv(d, "vi", random="~ factor(study) | district")
        if l_ml is not None:
            v[l_ml], v[l_mv] = len(w1) > 0, len(w2) > 0
        v[l_ll] = ("pair", bm.fitstats(r1)["logLik"], bm.fitstats(r2)["logLik"])
    return v
