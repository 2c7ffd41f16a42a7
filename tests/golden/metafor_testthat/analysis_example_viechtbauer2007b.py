"""Port of metafor's test_analysis_example_viechtbauer2007b.r (Viechtbauer 2007, Z Psychol 215:104-121;
St. John's wort, dat.linde2005)."""

import numpy as np
import pandas as pd
from _data import dat

import bayesmeta as bm

PLOT = "compares a plot image with metafor's reference image (plots are not ported)"
OUT_OF_SCOPE = {92: PLOT, 114: PLOT}
METHODS = ("HS", "HE", "DL", "GENQ", "SJ", "DLIT", "SJIT", "PM", "ML", "REML", "EB")


def compute() -> dict:
    d = dat("linde2005")
    rows = list(range(6, 10)) + list(range(12, 25))  # R's dat[c(7:10, 13:25), ]
    d = d.iloc[rows].reset_index(drop=True)
    es = bm.escalc("RR", ai=d.ai, ci=d.ci, n1i=d.n1i, n2i=d.n2i)
    v: dict = {}
    s = bm.rma(es, method="EE").studies().iloc[[12, 16]]
    v[20], v[22] = np.exp(s.ci95_lb), np.exp(s.ci95_ub)
    res = bm.rma(es, method="EE")
    p = bm.predict(res, transf=np.exp)
    v[33], v[34] = [p.pred[0], p.ci_lb[0], p.ci_ub[0]], res.QE
    res = bm.rma(es, method="DL")
    p = bm.predict(res, transf=np.exp)
    v[45], v[47], v[48] = [p.pred[0], p.ci_lb[0], p.ci_ub[0]], [p.pi_lb[0], p.pi_ub[0]], res.tau2
    dose = d.dosage * 7 / 1000 * d.duration
    mods = pd.DataFrame({"I(dosage - 34)": dose - 34, "I(baseline - 20)": d.baseline - 20})
    mods["I(dosage - 34):I(baseline - 20)"] = mods.iloc[:, 0] * mods.iloc[:, 1]
    res = bm.rma(es, mods=mods, method="DL")
    v[58], v[59] = res.tau2, res.R2
    v[64] = np.concatenate([res.beta, res.se, res.zval, res.pval])
    for x, line in ((12.5, 69), (23.6, 72)):
        p = bm.predict(res, newmods=[[0, x - 20, 0]], transf=np.exp)
        v[line] = [p.pred[0], p.ci_lb[0], p.ci_ub[0]]
    fits = [bm.rma(es, mods=mods, method=m, weights=(d.n1i + d.n2i).to_numpy() if m == "GENQ" else None,
                   control={"maxiter": 500} if m == "DLIT" else None) for m in METHODS]
    v[136], v[137] = [f.tau2 for f in fits], [f.se_tau2 for f in fits]
    return v
