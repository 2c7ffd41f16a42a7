"""Mantel-Haenszel against metafor's rma.mh (tests/golden/metafor.json), rtol 1e-6."""
import json
from pathlib import Path

import numpy as np
import pytest

from bayesmeta.mantel_haenszel import rma_mh

GOLDEN = json.loads((Path(__file__).parent / "golden" / "metafor.json").read_text())
BIN = [c for c in GOLDEN["cases"] if "mh" in c]
CASES = [(c["id"], m) for c in BIN for m in c["mh"]]


@pytest.mark.parametrize("cid,measure", CASES, ids=[f"{a}-{b}" for a, b in CASES])
def test_mh_against_metafor(cid, measure):
    case = next(c for c in BIN if c["id"] == cid)
    ref = case["mh"][measure]
    d = case["data"]
    # metafor uses the Sato-Greenland-Robins variance for RD (RevMan: Greenland-Robins, tested below)
    r = rma_mh(d["ai"], d["n1i"], d["ci"], d["n2i"], measure=measure, rd_variance="sato")
    assert r.k == ref["k"]
    for ours, name in ((r.estimate, "beta"), (r.se, "se"), (r.zval, "zval"), (r.ci_lb, "ci_lb"),
                       (r.ci_ub, "ci_ub"), (r.Q, "QE")):
        assert ours == pytest.approx(ref[name], rel=1e-6, abs=1e-12), name
    assert r.pval == pytest.approx(ref["pval"], rel=1e-6, abs=1e-300)


def test_revman_random_effects_uses_mh_q():
    # two studies by hand: the DL tau^2 is built from Q around the MH estimate
    r = rma_mh([10, 20], [100, 100], [15, 10], [100, 100], measure="RR")
    w = 1 / r.vi
    q = np.sum(w * (r.yi - r.estimate) ** 2)
    tau2 = max(0, (q - 1) / (w.sum() - (w**2).sum() / w.sum()))
    re = r.random_effects()
    assert re.tau2 == pytest.approx(tau2, rel=1e-12)
    ws = 1 / (r.vi + tau2)
    assert re.mu == pytest.approx(np.sum(ws * r.yi) / ws.sum(), rel=1e-12)


def test_double_zero_dropped_but_single_zero_kept():
    r = rma_mh([0, 0, 3], [20, 25, 30], [0, 2, 5], [20, 25, 30], measure="RR")
    assert r.k == 3 and r.k_estimable == 2


def test_rd_greenland_robins_variance_by_hand():
    # one study, a=3/10, c=1/10: Var = (a b n2^3 + c d n1^3)/(n1 n2 N^2) / (n1 n2 / N)^2
    r = rma_mh([3], [10], [1], [10], measure="RD")
    var = (3 * 7 * 1000 + 1 * 9 * 1000) / (100 * 400) / (100 / 20) ** 2
    assert r.se**2 == pytest.approx(var, rel=1e-12)
    assert r.estimate == pytest.approx(0.2, rel=1e-12)
