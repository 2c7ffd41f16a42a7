"""Port of metafor's test_analysis_example_normand1999.r (Normand 1999, Stat Med 18:321-359)."""

from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def _ci(es):
    s = bm.rma(es, method="EE").studies()
    return s["ci95_lb"].to_numpy(), s["ci95_ub"].to_numpy()


def _fits(es, v, lines):
    for method, first in zip(("EE", "REML", "DL"), lines, strict=True):
        if first is None:
            continue
        res = bm.rma(es, method=method)
        v[first], v[first + 1], v[first + 2] = res.beta[0], res.ci_lb, res.ci_ub
        if method != "EE":
            v[first + 3] = res.tau2


def compute() -> dict:
    v: dict = {}
    d = dat("hine1989")
    rd = bm.escalc("RD", ai=d.ai, n1i=d.n1i, ci=d.ci, n2i=d.n2i, study=d.study)
    es = bm.EffectTable.from_yi_vi(rd.yi * 100, rd.vi * 100**2, study=rd.study)
    v[21], v[22] = es.yi, es.vi
    v[28], v[29] = _ci(es)
    _fits(es, v, (35, 52, 43))
    d = dat("normand1999")
    sdp = (((d.n1i - 1) * d.sd1i**2 + (d.n2i - 1) * d.sd2i**2) / (d.n1i + d.n2i - 2)) ** 0.5
    es = bm.escalc("MD", m1i=d.m1i, sd1i=sdp, n1i=d.n1i, m2i=d.m2i, sd2i=sdp, n2i=d.n2i, study=d.source)
    v[68], v[69] = es.yi, es.vi
    v[75], v[76] = _ci(es)
    _fits(es, v, (82, 99, 90))
    return v
