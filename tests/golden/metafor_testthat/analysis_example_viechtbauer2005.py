"""Port of metafor's test_analysis_example_viechtbauer2005.r (Viechtbauer 2005, J Educ Behav Stat 30:261-293)."""

import numpy as np

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}
METHODS = ("HS", "HE", "DL", "ML", "REML", "EB", "SJ")
EX1 = ([-0.581, 0.530, 0.771, 1.031, 0.553, 0.295, 0.078, 0.573, -0.176, -0.232],
       [0.023, 0.052, 0.060, 0.115, 0.095, 0.203, 0.200, 0.211, 0.051, 0.040])
EX2 = ([0.100, -0.162, -0.090, -0.049, -0.046, -0.010, -0.431, -0.261, 0.134, 0.019, 0.175, 0.056, 0.045, 0.103,
        0.121, -0.482, 0.290, 0.342],
       [0.016, 0.015, 0.050, 0.050, 0.032, 0.052, 0.036, 0.024, 0.034, 0.033, 0.031, 0.034, 0.039, 0.167, 0.134,
        0.096, 0.016, 0.035])


def compute() -> dict:
    v: dict = {}
    for (yi, vi), first in ((EX1, 33), (EX2, 65)):
        es = bm.EffectTable.from_yi_vi(yi, vi)
        fits = [bm.rma(es, method=m) for m in METHODS]
        for j, field in enumerate(("tau2", "I2", "H2", "se_tau2")):
            v[first + j] = np.array([getattr(f, field) for f in fits])
    return v
