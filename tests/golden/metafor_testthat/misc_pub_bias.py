"""Port of metafor's test_misc_pub_bias.r (regtest, ranktest on dat.egger2001)."""

from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def compute() -> dict:
    d = dat("egger2001")
    es = bm.escalc("OR", ai=d.ai, n1i=d.n1i, ci=d.ci, n2i=d.n2i)
    res = bm.rma(es)
    v = {13: bm.regtest(res).zval, 18: bm.regtest(es).zval, 21: bm.regtest(es).zval,
         24: bm.regtest(res, model="lm", predictor="sqrtninv", data=es).zval,
         27: bm.regtest(es, model="lm", predictor="sqrtninv").zval,
         30: bm.regtest(es, model="lm", predictor="sqrtninv").zval}
    for line, src in ((40, res), (44, es), (48, es)):
        r = bm.ranktest(src)
        v[line], v[line + 1] = r.tau, r.pval
    return v
