"""Port of metafor's test_analysis_example_berkey1998.r (Berkey et al. 1998, Stat Med 17:2537-2550):
bivariate random-effects models of two periodontal outcomes per trial (struct="UN", ML), their
meta-regression, and likelihood-ratio tests of the var-cov structure, through bm.rma_mv."""

import numpy as np
from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def compute() -> dict:
    d = dat("berkey1998")
    # V: one 2x2 block per trial from the v1i, v2i columns (metafor's bldiag(split(...)))
    V = [g[["v1i", "v2i"]].to_numpy() for _, g in d.groupby("trial", sort=True)]
    v: dict = {}
    kw = {"random": "~ outcome | trial", "method": "ML"}
    res = bm.rma_mv(d, V, mods="~ 0 + outcome", struct="UN", **kw)
    v[22], v[23], v[24], v[25] = res.beta, res.se, res.tau2, res.rho
    res = bm.rma_mv(d, V, mods="~ 0 + outcome + outcome:I(year - 1983)", struct="UN", **kw)
    v[35], v[36], v[37], v[38] = res.beta, res.se, res.tau2, res.rho
    v[42] = res.rho * np.sqrt(res.tau2[0] * res.tau2[1])
    res = bm.rma_mv(d, V, mods="~ 0 + outcome*I(year - 1983)", struct="UN", **kw)
    v[48], v[49], v[50] = res.beta, res.se, res.pval
    res1 = bm.rma_mv(d, V, mods="~ 0 + outcome", struct="UN", **kw)
    res0 = bm.rma_mv(d, V, mods="~ 0 + outcome", struct="CS", **kw)
    v[63] = bm.anova(res0, res1).pval
    res0 = bm.rma_mv(d, V, mods="~ 0 + outcome", struct="UN", rho=0, **kw)
    v[71] = bm.anova(res0, res1).pval
    return v
