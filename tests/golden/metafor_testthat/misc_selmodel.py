"""Port of metafor's test_misc_selmodel.r (selection models; the step-function model is ported)."""

import numpy as np
from _data import dat

import bayesmeta as bm

PLOT = "compares a plot image with metafor's reference image (plots are not ported)"
FAMILY = "selection model family {} : not implemented (bm.selmodel has the step function only)"
OUT_OF_SCOPE = {
    27: PLOT, 35: PLOT, 87: PLOT, 95: PLOT, 142: PLOT, 214: PLOT,
    38: "profile-likelihood confint() of a selection model: not implemented",
    39: "profile-likelihood confint() of a selection model: not implemented",
    40: "profile-likelihood confint() of a selection model: not implemented",
    41: "profile-likelihood confint() of a selection model: not implemented",
    48: "control=list(delta.max=) of the step function: not implemented", 49: "control delta.max: not implemented",
    53: "decreasing=TRUE (monotone step weights): not implemented",
    **{ln: FAMILY.format("'beta'") for ln in (72, 77, 78, 79, 80, 81, 102, 103, 104, 105, 106, 107, 108)},
    126: "escalc(drop00=TRUE) leaves NA rows that rma drops with a warning; bm.escalc/EffectTable drop them "
         "silently (the selection models of this block are not implemented either)",
    **{ln: FAMILY.format("'halfnorm'/'negexp'/'logistic'/'power'/'negexppow'")
       for ln in (135, 136, 144, 151, 152, 159, 160, 163, 164)},
    185: "step function with fixed (a priori) weights delta=: not implemented",
    186: "step function with fixed (a priori) weights delta=: not implemented",
    **{ln: FAMILY.format("'trunc'/'truncest'") for ln in (200, 201, 202, 203, 204, 207, 208, 219, 222)},
}


def compute() -> dict:
    d = dat("hackshaw1998")
    es = bm.EffectTable.from_yi_vi(d.yi, d.vi)
    sav = bm.selmodel(bm.rma(es), type="stepfun", steps=[0.05, 0.10, 0.50, 1.00])
    return {17: sav.delta, 18: [np.nan if j == 0 else s for j, s in enumerate(sav.se_delta)], 19: sav.LRT,
            20: sav.LRTdf, 21: sav.tau2, 45: list(sav.ptable)}
