"""Port of metafor's test_analysis_example_miller1978.r (Miller 1978, Am Stat 32:138: Freeman-Tukey
double arcsine transformation)."""

import numpy as np

import bayesmeta as bm

IPFT_HM = "transf.ipft.hm (inverse Freeman-Tukey with the harmonic mean of the ni): no bayesmeta back-transformation"
IPFT = "transf.ipft (inverse Freeman-Tukey per study): no bayesmeta back-transformation"
UNWEIGHTED = "rma(weighted=FALSE) (unweighted estimation): not implemented"
OUT_OF_SCOPE = {92: "compares a plot image (plots are not ported)", 106: "compares a plot image (plots are not ported)",
                27: UNWEIGHTED, 30: UNWEIGHTED, 42: IPFT_HM, 54: IPFT, 67: IPFT, 73: IPFT_HM, 74: IPFT_HM,
                75: IPFT_HM}


def compute() -> dict:
    es = bm.escalc("PFT", xi=[3, 6, 10, 1], ni=[11, 17, 21, 6])
    res = bm.rma(es, method="EE")
    return {17: np.asarray(es.yi) * 2, 18: np.asarray(es.vi) * 4,
            39: bm.predict(res, transf=lambda x: x * 2).pred[0]}
