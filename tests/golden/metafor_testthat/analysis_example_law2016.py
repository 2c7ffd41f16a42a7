"""Port of metafor's test_analysis_example_law2016.r (Law et al. 2016, BMC Med Res Methodol 16:87): network
meta-analyses as multivariate models, consistency (random = ~ contr | study, rho = 1/2) and inconsistency
(plus ~ contr | design, phi = 1/2) models, with profile-likelihood CIs, predictions and BLUPs, through
bm.rma_mv. The sampling var-cov matrices S1 and S2 are the test's inputs (its `structure(...)` literals:
S1 diagonal, S2 diagonal with the 2x2 blocks of the three-arm studies 11-13)."""

import io

import numpy as np
import pandas as pd

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}

EG1 = """study y ref trt contr design
1 -0.16561092 C D CD CD
2 -0.13597406 C D CD CD
3 -0.08012604 C E CE CE
4 -0.14746890 C F CF CF
5 0.09316853 E F EF EF
6 -0.15859403 E F EF EF
7 -0.22314355 E F EF EF
8 -0.06744128 F G FG FG
9 -0.11888254 C H CH CH
10 -0.06899287 C H CH CH
11 0.26917860 B C BC BC
12 -0.33160986 A B AB AB
13 -0.26236426 A B AB AB
14 -0.39319502 F G FG FG
15 -0.11557703 A B AB AB
16 0.00000000 E F EF EF
17 -0.40987456 A E AE AE"""
S1 = np.diag([0.0294183340466069, 0.147112449467866, 0.0780588660166125, 0.140361934247383, 0.0479709251030665,
              0.0506583523716436, 0.235695187165775, 2.04499494438827, 0.17968120987923, 0.735714285714286,
              0.184889643463497, 0.0294022652280727, 0.232478632478632, 0.857874134296899, 0.0219285638496459,
              0.168131868131868, 0.0826973577700322])
EG2 = """study y ref trt contr design
1 -3.61988658 A B AB AB
2 0.00000000 B C BC BC
3 0.19342045 B C BC BC
4 2.79320801 B C BC BC
5 0.24512246 B C BC BC
6 0.03748309 B C BC BC
7 0.86020127 B D BD BD
8 0.14310084 B D BD BD
9 0.07598591 C D CD CD
10 -0.99039870 C D CD CD
11 -1.74085310 A B AB ABD
11 0.34830670 A D AD ABD
12 0.40546510 B C BC BCD
12 1.91692260 B D BD BCD
13 -0.32850410 B C BC BCD
13 1.07329450 B D BD BCD"""
S2 = np.diag([0.9672619, 0.4, 0.24987648, 0.61904762, 0.27958937, 0.23845689, 0.04321419, 0.47692308, 0.18416468,
              0.61978022, 0.12650164, 0.1583906, 0.389881, 0.5151261, 0.4361111, 0.5380342])
for a, b, c in ((10, 11, 0.07397504), (12, 13, 0.2857143), (14, 15, 0.2111111)):
    S2[a, b] = S2[b, a] = c


def _contrasts(d: pd.DataFrame) -> pd.DataFrame:
    """metafor's contrmat(grp1="trt", grp2="ref")[, -1]: +1 for trt, -1 for ref, treatment A the reference."""
    lev = sorted(set(d.trt) | set(d.ref))
    X = pd.DataFrame(0.0, index=d.index, columns=lev)
    for i, (t, r) in enumerate(zip(d.trt, d.ref, strict=True)):
        X.iloc[i, lev.index(t)] += 1.0
        X.iloc[i, lev.index(r)] -= 1.0
    return X.drop(columns="A")


def _fits(d: pd.DataFrame, S: np.ndarray):
    X = _contrasts(d)
    modC = bm.rma_mv(d, S, mods=X, intercept=False, yi="y", random="~ contr | study", rho=0.5)
    modI = bm.rma_mv(d, S, mods=X, intercept=False, yi="y", random=["~ contr | study", "~ contr | design"],
                     rho=0.5, phi=0.5)
    return X, modC, modI


def _pred(fit, newmods) -> list:
    p = bm.predict(fit, newmods=newmods, transf=np.exp)
    return [p.pred[0], p.ci_lb[0], p.ci_ub[0], p.pi_lb[0], p.pi_ub[0]]


def compute() -> dict:
    v: dict = {}
    d1 = pd.read_csv(io.StringIO(EG1), sep=" ")
    X, modC, modI = _fits(d1, S1)
    ci = bm.confint(modC).random
    v[60], v[61], v[62] = modC.tau2, modC.beta, ci.loc["tau^2", ["ci_lb", "ci_ub"]]
    ci = bm.confint(modI).random
    v[72], v[73], v[74] = modI.tau2, modI.gamma2, modI.beta
    v[75], v[76] = ci.loc["tau^2", ["ci_lb", "ci_ub"]], ci.loc["gamma^2", ["ci_lb", "ci_ub"]]
    v[80] = _pred(modI, np.eye(X.shape[1])[0])
    d2 = pd.read_csv(io.StringIO(EG2), sep=" ")
    X, modC, modI = _fits(d2, S2)
    ci = bm.confint(modC).random
    v[134], v[135], v[136] = modC.tau2, modC.beta, ci.loc["tau^2", ["ci_lb", "ci_ub"]]
    ci = bm.confint(modI).random
    v[142], v[143], v[144] = modI.tau2, modI.gamma2, modI.beta
    v[145], v[146] = ci.loc["tau^2", ["ci_lb", "ci_ub"]], ci.loc["gamma^2", ["ci_lb", "ci_ub"]]
    v[150] = _pred(modI, np.eye(X.shape[1])[0])
    re = bm.ranef(modI)
    v[154], v[155] = re["contr | study"].intrcpt, re["contr | study"].se
    v[156], v[157] = re["contr | design"].intrcpt, re["contr | design"].se
    v[162] = bm.predict(modI).pi_lb
    return v
