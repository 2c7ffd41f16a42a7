"""Port of metafor's test_misc_confint.r."""

import numpy as np
from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def compute() -> dict:
    d = dat("bcg")
    es = bm.escalc("RR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg)
    res = bm.rma(es, method="DL")
    sav = bm.confint(res, transf=np.exp)
    r = sav.random
    v = {13: sav.fixed.loc["intrcpt"].to_numpy(), 14: r.loc["tau2"].to_numpy(), 15: r.loc["I2"].to_numpy(),
         16: r.loc["H2"].to_numpy()}
    # as.data.frame(sav)[, 1] rounded to 4 digits: the estimates of mu (transformed), tau^2, tau, I^2, H^2
    v[19] = np.round([sav.fixed.estimate.iloc[0], *r.estimate.to_numpy()], 4)
    v[28] = bm.confint(bm.rma_mh(es, measure="RR"), transf=np.exp).fixed.loc["intrcpt"].to_numpy()
    v[37] = bm.confint(bm.rma_peto(es), transf=np.exp).fixed.loc["intrcpt"].to_numpy()
    return v
