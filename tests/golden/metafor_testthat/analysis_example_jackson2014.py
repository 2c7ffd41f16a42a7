"""Port of metafor's test_analysis_example_jackson2014.r (Jackson, Turner, Rhodes & Viechtbauer 2014,
BMC Med Res Methodol 14:103: CIs for tau^2 in meta-regression)."""

import numpy as np

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}
EX1 = ([0.0267, 0.8242, 0.3930, 2.4405, 2.1401, 1.2528, 2.4849, 0.3087, 1.4246, 0.1823, 1.1378, 1.2321, 2.0695,
        4.0237, 1.4383, 1.6021],
       [0.1285, 0.0315, 0.0931, 2.0967, 1.0539, 0.1602, 1.0235, 0.0218, 0.5277, 0.0556, 0.3304, 0.1721, 0.4901,
        2.0200, 0.3399, 0.1830],
       [0] * 10 + [1] * 6)
EX2 = ([0.54, 0.4, 0.64, 0.365, 0.835, 0.02, 0.12, 0.085, 1.18, 0.08, 0.18, 0.325, 0.06, 0.715, 0.065, 0.245, 0.24,
        0.06, 0.19],
       [0.0176, 0.019, 0.0906, 0.0861, 0.0063, 0.0126, 0.0126, 0.0041, 0.0759, 0.0126, 0.0104, 0.0242, 0.0026, 0.2629,
        0.0169, 0.0156, 0.0481, 0.0084, 0.0044],
       [1986, 1987, 1988, 1988, 1998, 1999, 2000, 2000, 2000, 2001, 2001, 2001, 2002, 2002, 2002, 2002, 2003, 2003,
        2003])


def compute() -> dict:
    v: dict = {}
    for (yi, vi, xi), first in ((EX1, 24), (EX2, 66)):
        es = bm.EffectTable.from_yi_vi(yi, vi, moderators={"xi": xi})
        vi = np.asarray(vi)
        res = bm.rma(es, mods="~ xi")
        # the test's own Wald-type CI on the log scale: exp(log tau^2 +- 1.96 SE(tau^2)/tau^2)
        ci = np.exp(np.log(res.tau2) + np.array([-1.96, 1.96]) * (res.se_tau2 / res.tau2))
        v[first], v[first + 1] = ci[0], ci[1]
        for j, kw in enumerate(({"method": "GENQ", "weights": 1 / vi}, {"method": "GENQ", "weights": 1 / np.sqrt(vi)},
                                {"method": "PM"})):
            c = bm.confint(bm.rma(es, mods="~ xi", **kw)).random.loc["tau2"]
            v[first + 6 + 6 * j], v[first + 7 + 6 * j] = c.ci_lb, c.ci_ub
    return v
