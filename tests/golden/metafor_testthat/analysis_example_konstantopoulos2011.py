"""Port of metafor's test_analysis_example_konstantopoulos2011.r (Konstantopoulos 2011, Res Synth Methods
2:61-76): two-level models with rma(), two- and three-level models with bm.rma_mv (multilevel and
multivariate parameterisations, ML and REML, profile-likelihood CIs, BLUPs, one tau^2 per district)."""

import numpy as np
import pandas as pd
from _data import dat

import bayesmeta as bm

PLOT = "compares a plot image of profile() with metafor's reference image (plots are not ported)"
OUT_OF_SCOPE: dict[int, str] = {
    128: PLOT, 138: PLOT, 174: PLOT, 185: PLOT,
    **{ln: ("control=list(maxiter=4) / restart=TRUE: bm.rma_mv has no iteration cap to exceed nor a restart "
            "option (its optimiser runs to convergence); the converged values are checked at lines 94-96")
       for ln in (209, 210, 213, 214, 215)},
}


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
    # rma.mv
    res = bm.rma_mv(d, "vi", random="~ 1 | study")
    v[51], v[52], v[53] = res.beta, res.se, res.sigma2
    ml = bm.rma_mv(d, "vi", random="~ 1 | district/study", method="ML")
    v[65], v[66], v[67] = ml.beta, ml.se, ml.sigma2
    p = bm.predict(ml)
    v[70] = [p.pi_lb[0], p.pi_ub[0]]
    ml = bm.rma_mv(d, "vi", mods="~ I(year - mean(year))", random="~ 1 | district/study", method="ML")
    v[81], v[82], v[83] = ml.beta, ml.se, ml.sigma2
    ml = bm.rma_mv(d, "vi", random="~ 1 | district/study")
    v[94], v[95], v[96] = ml.beta, ml.se, ml.sigma2
    v[99], v[102] = ml.sigma2[0] / ml.sigma2.sum(), ml.sigma2.sum()
    v[105] = bm.fitstats(ml)["logLik"]
    ci = bm.confint(ml).random.round(4)
    v[111] = ci.loc[["sigma^2.1", "sigma.1", "sigma^2.2", "sigma.2"], ["estimate", "ci_lb", "ci_ub"]].to_numpy().T
    re = bm.ranef(ml)
    v[198], v[199] = re["district"].intrcpt, re["district"].se
    v[200], v[201] = re["district/study"].intrcpt, re["district/study"].se
    mv = bm.rma_mv(d, "vi", random="~ factor(study) | district")
    v[150], v[151], v[152], v[153] = mv.beta, mv.se, mv.tau2, mv.rho
    v[156] = bm.fitstats(mv)["logLik"]
    # one tau^2 per district (metafor shuffles the rows first with R's RNG; the fit does not depend on the order)
    res = bm.rma_mv(d, "vi", random=["~ 1 | district", "~ factor(district) | study"], struct="DIAG")
    v[231], v[232], v[233] = res.beta, res.se, res.tau2
    vc = res.variance_components()
    vc = vc[vc.component.str.startswith("tau2")]
    v[237] = np.round(vc.estimate.to_numpy(float), 4)  # the printed column
    v[239] = vc.n_levels.to_numpy(float)
    v[241] = vc.factor.astype(float).to_numpy()
    return v
