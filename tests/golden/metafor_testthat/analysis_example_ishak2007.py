"""Port of metafor's test_analysis_example_ishak2007.r (Ishak et al. 2007, Clin Trials 4:482-492;
dat.ishak2007): longitudinal meta-analysis of up to four time points per study, with struct DIAG, ID,
HAR, AR, HCS and CAR and a full V with an AR(1) within-study correlation of 0.97, through bm.rma_mv."""

import numpy as np
import pandas as pd
from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def compute() -> dict:
    d = dat("ishak2007")
    # long format (study, time), missing occasions removed; rows ordered by study as R's order(study, time)
    long = pd.DataFrame([{"study": s.study, "time": t, "yi": s[f"y{t}i"], "vi": s[f"v{t}i"]}
                         for _, s in d.iterrows() for t in (1, 2, 3, 4)])
    long = long.sort_values(["study", "time"], kind="stable").reset_index(drop=True)
    # V: per study sqrt(v) AR1(0.97) sqrt(v) over the four occasions, then the missing ones dropped
    ar = 0.97 ** np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    blocks = []
    for _, g in long.groupby("study", sort=True):
        s = np.sqrt(g.vi.to_numpy())
        keep = np.isfinite(s)
        blocks.append((s[:, None] * ar * s[None, :])[np.ix_(keep, keep)])
    long = long[long.yi.notna()].reset_index(drop=True)
    V = blocks
    v: dict = {}
    fx = "~ 0 + factor(time)"
    res = bm.rma_mv(long, "vi", mods=fx, random="~ factor(time) | study", struct="DIAG")
    v[33], v[34] = res.beta, res.tau2
    res = bm.rma_mv(long, "vi", mods=fx, random="~ 1 | study")
    v[43], v[44] = res.beta, res.sigma2
    res = bm.rma_mv(long, "vi", mods=fx, random="~ factor(time) | study", struct="ID")
    v[54], v[55] = res.beta, res.tau2
    res = bm.rma_mv(long, "vi", mods=fx, random="~ time | study", struct="HAR")
    v[65], v[66], v[67] = res.beta, res.tau2, res.rho
    res = bm.rma_mv(long, V, mods=fx, random="~ time | study", struct="HAR")
    v[77], v[78], v[79] = res.beta, res.tau2, res.rho
    res = bm.rma_mv(long, V, mods=fx, random="~ time | study", struct="AR")
    v[89], v[90], v[91] = res.beta, res.tau2, res.rho
    res = bm.rma_mv(long, V, mods=fx, random="~ factor(time) | study", struct="HCS")
    v[101], v[102] = res.beta, res.tau2
    res = bm.rma_mv(long, V, mods=fx, random="~ time | study", struct="CAR")
    v[112], v[113], v[114] = res.beta, res.tau2, res.rho
    # unequally spaced time points (months 3, 6, 12, 24 in units of 3 months)
    long["time"] = long.time.map({1: 3 / 3, 2: 6 / 3, 3: 12 / 3, 4: 24 / 3})
    res = bm.rma_mv(long, V, mods=fx, random="~ time | study", struct="CAR")
    v[129], v[130], v[131] = res.beta, res.tau2, res.rho
    return v
