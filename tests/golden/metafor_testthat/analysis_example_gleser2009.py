"""Port of metafor's test_analysis_example_gleser2009.r (Gleser & Olkin 2009, in The Handbook of Research
Synthesis and Meta-Analysis, 2nd ed., ch. 19): multiple-treatment and multiple-endpoint studies, common-effect
multivariate models with a full V (risk differences, log odds and risk ratios, arcsine differences,
standardised mean differences), through bm.escalc and bm.rma_mv."""

import numpy as np
import pandas as pd

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def _blocks(d: pd.DataFrame, cov) -> list[np.ndarray]:
    """One block per study: ``cov(first row of the study)`` off the diagonal, vi on it (the test's calc.v)."""
    out = []
    for _, g in d.groupby("study", sort=True):
        b = np.full((len(g), len(g)), float(cov(g)))
        np.fill_diagonal(b, g.vi.to_numpy())
        out.append(b)
    return out


def compute() -> dict:
    d0 = pd.DataFrame({"study": [1, 1, 2, 3, 3, 3], "trt": [1, 2, 1, 1, 2, 3],
                       "ai": [40, 40, 10, 150, 150, 150], "n1i": [1000, 1000, 200, 2000, 2000, 2000],
                       "ci": [100, 150, 15, 40, 80, 50], "n2i": [4000, 4000, 400, 1000, 1000, 1000]})
    d0["pti"] = d0.ci / d0.n2i
    d0["pci"] = d0.ai / d0.n1i
    v: dict = {}
    covs = {"RD": lambda x: x.pci.iloc[0] * (1 - x.pci.iloc[0]) / x.n1i.iloc[0],
            "OR": lambda x: 1 / (x.n1i.iloc[0] * x.pci.iloc[0] * (1 - x.pci.iloc[0])),
            "RR": lambda x: (1 - x.pci.iloc[0]) / (x.n1i.iloc[0] * x.pci.iloc[0]),
            "AS": lambda x: 1 / (4 * x.n1i.iloc[0])}
    lines = {"RD": (24, 37, 43, 46), "OR": (55, 68, 74, 77), "RR": (86, 99, 105, 108), "AS": (117, 130, 136, 139)}
    for m, (ly, lb, lv, lq) in lines.items():
        es = bm.escalc(m, ai=d0.ai, n1i=d0.n1i, ci=d0.ci, n2i=d0.n2i)
        d = d0.assign(yi=es.yi, vi=es.vi)
        res = bm.rma_mv(d, _blocks(d, covs[m]), mods="~ 0 + factor(trt)")
        f = 2 if m == "AS" else 1  # the chapter's arcsine difference is twice metafor's
        v[ly], v[lb], v[lq] = d.yi * f, res.beta * f, res.QE
        v[lv] = res.vb * {"RD": 1e6, "AS": 4}.get(m, 1)
    # standardised mean differences, multiple-treatment studies (common control arm)
    d = pd.DataFrame({"study": [1, 1, 2, 3, 4, 4], "trt": [1, 2, 1, 1, 1, 2],
                      "m1i": [7.87, 4.35, 9.32, 8.08, 7.44, 5.34], "m2i": [-1.36, -1.36, 0.98, 1.17, 0.45, 0.45],
                      "sdpi": [4.2593, 4.2593, 2.8831, 3.1764, 2.9344, 2.9344],
                      "n1i": [25, 22, 38, 50, 30, 30], "n2i": [25, 25, 40, 50, 30, 30]})
    d["Ni"] = d.groupby("study").n1i.transform("sum") + d.groupby("study").n2i.transform("first")
    d["yi"] = (d.m1i - d.m2i) / d.sdpi
    d["vi"] = 1 / d.n1i + 1 / d.n2i + d.yi**2 / (2 * d.Ni)
    v[161] = d.yi
    V = []
    for _, g in d.groupby("study", sort=True):
        b = 1 / g.n2i.iloc[0] + np.outer(g.yi, g.yi) / (2 * g.Ni.iloc[0])
        np.fill_diagonal(b, g.vi.to_numpy())
        V.append(b)
    res = bm.rma_mv(d, V, mods="~ 0 + factor(trt)")
    v[174], v[179], v[182] = res.beta, res.vb, res.QE
    # multiple-endpoint studies (math and reading per school)
    d = pd.DataFrame({"school": np.repeat(np.arange(1, 8), 2), "outcome": ["math", "reading"] * 7,
                      "m1i": [2.3, 2.5, 2.4, 1.3, 2.5, 2.4, 3.3, 1.7, 1.1, 2.0, 2.8, 2.1, 1.7, 0.6],
                      "m2i": [10.3, 6.6, 9.7, 3.1, 8.7, 3.7, 7.5, 8.5, 2.2, 2.1, 3.8, 1.4, 1.8, 3.9],
                      "sdpi": [8.2, 7.3, 8.3, 8.9, 8.5, 8.3, 7.7, 9.8, 9.1, 10.4, 9.6, 7.9, 9.2, 10.2],
                      "ri": np.repeat([.55, .43, .57, .66, .51, .59, .49], 2),
                      "n1i": np.repeat([22, 21, 26, 18, 38, 42, 39], 2),
                      "n2i": np.repeat([24, 21, 23, 18, 36, 42, 38], 2)})
    # the test rounds yi to 3 and vi, covi to 4 decimals (R's round: half to even, as numpy's)
    d["yi"] = np.round((d.m2i - d.m1i) / d.sdpi, 3)
    d["vi"] = np.round(1 / d.n1i + 1 / d.n2i + d.yi**2 / (2 * (d.n1i + d.n2i)), 4)
    prod = d.groupby("school").yi.transform("prod")
    d["covi"] = np.round((1 / d.n1i + 1 / d.n2i) * d.ri + (prod / (2 * (d.n1i + d.n2i))) * d.ri**2, 4)
    V = [np.array([[g.vi.iloc[0], g.covi.iloc[1]], [g.covi.iloc[0], g.vi.iloc[1]]])
         for _, g in d.groupby("school", sort=True)]
    res = bm.rma_mv(d, V, mods="~ 0 + outcome")
    v[212], v[217], v[220] = res.beta, res.vb, res.QE
    return v
