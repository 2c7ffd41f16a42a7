"""Port of metafor's test_misc_handling_of_edge_cases_due_to_zeros.r (an outcome that never occurs)."""

import warnings

import numpy as np

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def _raises(f) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            f()
        except (ValueError, RuntimeError):
            return True
    return False


def _mh(es, measure):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = bm.rma_mh(es, measure=measure)
    return len(w) > 0, res


def compute() -> dict:
    v: dict = {}
    cases = ((([0, 0, 0, 0], [10, 15, 20, 25], [0, 0, 0, 0], [10, 10, 30, 20]), 14),
             (([10, 15, 20, 25], [0, 0, 0, 0], [10, 10, 30, 20], [0, 0, 0, 0]), 36))
    for (ai, bi, ci, di), first in cases:
        es = bm.escalc("OR", ai=ai, bi=bi, ci=ci, di=di)
        v[first] = _raises(lambda es=es: bm.rma_peto(es))
        warned, res = _mh(es, "OR")
        v[first + 2], v[first + 3] = warned, bool(np.isnan(res.beta[0]))
        warned, res = _mh(es, "RR")
        v[first + 4] = warned
        if first == 14:
            v[first + 5] = bool(np.isnan(res.beta[0]))
        else:
            v[first + 5] = res.beta[0]
        warned, res = _mh(es, "RD")
        v[first + 6], v[first + 7] = warned, res.beta[0]
        v[first + 11] = _raises(lambda es=es: bm.rma_glmm(es))
    return v
