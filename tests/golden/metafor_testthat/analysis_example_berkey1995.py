"""Port of metafor's test_analysis_example_berkey1995.r (Berkey et al. 1995, Stat Med 14:395-411)."""

import warnings

import numpy as np
import pandas as pd
from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def compute() -> dict:
    d = dat("bcg")
    rr = bm.escalc("RR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg)
    # the paper's pooled within-study variance (the test's own formula)
    vi = (np.sum(d.tneg / d.tpos) / (13 * (d.tneg + d.tpos)) + np.sum(d.cneg / d.cpos) / (13 * (d.cneg + d.cpos)))
    es = bm.EffectTable.from_yi_vi(rr.yi, vi.to_numpy())
    mods = pd.DataFrame({"I(ablat - 33.46)": d.ablat - 33.46})
    v: dict = {}
    re = bm.rma(es, method="EB")
    v[24], v[25], v[26] = re.beta, re.se, re.tau2
    me = bm.rma(es, mods=mods, method="EB")
    v[40], v[41], v[42] = me.beta, me.se, me.tau2
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        tmp = bm.anova(re, me)
    v[43], v[44] = len(w) > 0, tmp.R2
    v[50] = bm.predict(me, newmods=np.array([33.46, 42]) - 33.46, transf=np.exp).pred
    fe = bm.rma(es, mods=mods, method="FE")
    v[60], v[61] = fe.beta, fe.se
    v[67] = bm.predict(fe, newmods=np.array([33.46, 42]) - 33.46, transf=np.exp).pred
    return v
