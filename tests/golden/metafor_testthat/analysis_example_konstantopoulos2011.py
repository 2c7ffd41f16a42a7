"""Port of metafor's test_analysis_example_konstantopoulos2011.r (Konstantopoulos 2011, Res Synth Methods
2:61-76): the two-level models fitted with rma() are ported; the rest uses rma.mv."""

import pandas as pd
from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}
DEFAULT_REASON = ("rma.mv (three-level / multilevel models, their profiles, plots and comparisons): not on "
                  "bayesmeta's front door")


def compute() -> dict:
    d = dat("konstantopoulos2011")
    es = bm.EffectTable.from_yi_vi(d.yi, d.vi, study=[f"{a}-{b}" for a, b in zip(d.district, d.study, strict=True)])
    v: dict = {}
    res = bm.rma(es)
    v[16], v[17], v[18], v[19] = res.beta, res.se, res.tau2, res.se_tau2
    c = bm.confint(res).random.loc["tau2"]
    v[24], v[25] = c.ci_lb, c.ci_ub
    res = bm.rma(es, mods=pd.DataFrame({"I(year - mean(year))": d.year - d.year.mean()}))
    v[34], v[35], v[36], v[37] = res.beta, res.se, res.tau2, res.se_tau2
    c = bm.confint(res).random.loc["tau2"]
    v[41], v[42] = c.ci_lb, c.ci_ub
    return v
