"""Port of metafor's test_misc_calc_q.r (Cochran's Q, also for data in any order)."""

import itertools

import numpy as np
from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}
PLANCK3 = ([6.62607013300, 6.62607005883, 6.62606993400], [6.00e-08, 1.65e-07, 8.90e-08])
G = ([6.67248, 6.6729, 6.67398, 6.674255, 6.67559, 6.67422, 6.67387, 6.67222, 6.67425, 6.67349, 6.67554, 6.67191,
      6.67435, 6.674184, 6.674484, 6.67260],
     [0.00043, 0.00050, 0.00070, 0.000092, 0.00027, 0.00098, 0.00027, 0.00087, 0.00012, 0.00018, 0.00016, 0.00099,
      0.00013, 0.000078, 0.000077, 0.00025])
PLANCK18 = ([6.626073000, 6.626065800, 6.626068400, 6.626068200, 6.626067000, 6.626071000, 6.626068910, 6.626069890,
             6.626069100, 6.626071200, 6.626070150, 6.626068800, 6.626069360, 6.626070133, 6.626070410, 6.626070059,
             6.626069200, 6.626070404],
            [6.70e-06, 8.80e-06, 3.60e-06, 1.30e-06, 4.20e-06, 1.10e-05, 5.80e-07, 2.00e-07, 2.00e-06, 1.30e-06,
             1.30e-07, 1.70e-06, 3.80e-07, 6.00e-08, 3.80e-07, 1.65e-07, 1.60e-06, 7.92e-08])


def _q(orders, yi, sei):
    fits = [bm.rma(bm.EffectTable.from_yi_sei(np.asarray(yi)[list(o)], np.asarray(sei)[list(o)]), method="DL")
            for o in orders]
    return [f.QE for f in fits], [f.QE_p for f in fits]


def compute() -> dict:
    d = dat("bcg")
    es = bm.escalc("RR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg, moderators={"ablat": d.ablat})
    res = bm.rma(es)
    v = {12: res.QE, 13: res.QE_p}
    res = bm.rma(es, mods="~ ablat")
    v[16], v[17] = res.QE, res.QE_p
    v[53], v[54] = _q(itertools.permutations(range(3)), *PLANCK3)
    rng = np.random.default_rng(1234)  # 100 random orders (R's sample() stream is not needed: Q must not depend on it)
    v[91], v[92] = _q([rng.permutation(16) for _ in range(100)], *G)
    v[131], v[132] = _q([rng.permutation(18) for _ in range(100)], *PLANCK18)
    return v
