"""Frequentist engine against metafor (tests/golden/metafor.json, made by
validation/metafor/make_golden.R with metafor's convergence thresholds set to 1e-12).

Tolerance rtol = 1e-6 (the issue's bound): both sides solve the same estimating equations to
about 1e-12; the Q-profile CI bounds, found by root finding on both sides, use 1e-6 too.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from bayesmeta.effects import escalc
from bayesmeta.frequentist import rma

GOLDEN = json.loads((Path(__file__).parent / "golden" / "metafor.json").read_text())
CASES = {c["id"]: c for c in GOLDEN["cases"]}
RTOL = 1e-6


def close(a, b, rtol=RTOL, atol=1e-10):
    if b is None:
        return a is None or not np.isfinite(a)
    return abs(a - b) <= atol + rtol * abs(b)


def effects(case):
    return escalc(case["measure"], **case["data"])


@pytest.mark.parametrize("cid", list(CASES))
def test_effect_sizes(cid):
    case = CASES[cid]
    es = effects(case)
    ref_y = np.array([np.nan if v is None else v for v in case["yi"]], dtype=float)
    ref_v = np.array([np.nan if v is None else v for v in case["vi"]], dtype=float)
    np.testing.assert_allclose(es["yi"], ref_y, rtol=RTOL, equal_nan=True)
    np.testing.assert_allclose(es["vi"], ref_v, rtol=RTOL, equal_nan=True)


FITS = [(cid, key) for cid, c in CASES.items() for key in c["rma"]]


@pytest.mark.parametrize("cid,key", FITS, ids=[f"{c}-{k}" for c, k in FITS])
def test_rma_against_metafor(cid, key):
    case = CASES[cid]
    ref = case["rma"][key]
    method, test = key.split("_")
    es = effects(case)
    r = rma(es["yi"], es["vi"], method=method, test=test)
    assert r.k == ref["k"]
    for ours, name in ((r.mu, "beta"), (r.se, "se"), (r.stat, "zval"), (r.pval, "pval"), (r.ci_lb, "ci_lb"),
                       (r.ci_ub, "ci_ub"), (r.Q, "QE"), (r.Q_p, "QEp"), (r.I2, "I2"), (r.H2, "H2")):
        assert close(ours, ref[name]), (name, ours, ref[name])
    assert close(r.tau2, ref["tau2"], atol=1e-10), ("tau2", r.tau2, ref["tau2"])
    p = r.predict()
    if method == "EE":  # metafor's predict() gives no separate PI for a common-effect model: it is the CI
        ref = {**ref, "pi_lb": ref["ci_lb"], "pi_ub": ref["ci_ub"]}
    assert close(p["pi_lb"], ref["pi_lb"]) and close(p["pi_ub"], ref["pi_ub"])
    if method != "EE":
        ci = r.confint_tau2()
        assert close(ci["tau2_lb"], ref["tau2_lb"], atol=1e-9) and close(ci["tau2_ub"], ref["tau2_ub"], atol=1e-9)


def test_golden_file_records_versions():
    assert GOLDEN["R"].startswith("R version") and GOLDEN["metafor"]
