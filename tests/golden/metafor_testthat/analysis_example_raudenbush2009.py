"""Port of metafor's test_analysis_example_raudenbush2009.r (Raudenbush 2009, Handbook of research
synthesis, chapter 16)."""

import warnings

import numpy as np
from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}
METHODS = ("EE", "ML", "REML", "DL", "HE")


def _table(fits, robust=False) -> list:
    """The 5 x 6 matrix (tau2, mu, se, z, ci.lb, ci.ub) in R's column-major order."""
    rows = [[f.tau2, f.beta[0], f.se[0] if robust else f.se, f.tval[0] if robust else f.zval,
             f.ci_lb[0] if robust else f.ci_lb, f.ci_ub[0] if robust else f.ci_ub] for f in fits]
    return np.array(rows).T.ravel().tolist()


def compute() -> dict:
    d = dat("raudenbush1985")
    es = bm.EffectTable.from_yi_vi(d.yi, d.vi, study=d.study, moderators={"weeks_c": d.weeks.clip(upper=3)})
    v: dict = {}
    ee = bm.rma(es, method="EE")
    v[18], v[19], v[20] = ee.beta, ee.QE, ee.zval
    re = bm.rma(es)
    v[30], v[31], v[32] = re.beta, re.zval, re.tau2
    p = bm.predict(re)
    v[38], v[39] = p.pi_lb[0], p.pi_ub[0]
    v[45] = [bm.blup(re).pred.min(), bm.blup(re).pred.max()]
    me = bm.rma(es, mods="~ weeks_c")
    v[58], v[59], v[60], v[61] = me.tau2, me.beta, me.QE, me.zval
    v[67] = [bm.blup(me).pred.min(), bm.blup(me).pred.max()]
    std = [bm.rma(es, method=m) for m in METHODS]
    v[87] = _table(std)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        knha = [bm.rma(es, method="EE", test="knha")]
    v[95] = any("Knapp-Hartung" in str(x.message) for x in w)
    knha += [bm.rma(es, method=m, test="knha") for m in METHODS[1:]]
    v[107] = _table(knha)
    hw = [bm.robust(f, cluster=d.study, adjust=False) for f in std]
    v[137] = _table(hw, robust=True)
    return v
