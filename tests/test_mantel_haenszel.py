"""Mantel-Haenszel pooling against metafor's rma.mh (tests/golden/metafor.json) and by hand.

rtol 1e-6 against metafor: everything here is a closed form, so both sides agree to rounding
(~1e-13); 1e-6 is the project-wide bound. metafor uses the Sato variance for the MH risk
difference, RevMan 5 the Greenland-Robins one (tested by hand below).
"""
import json
from pathlib import Path

import numpy as np
import pytest

from bayesmeta.effects.escalc import log_rr
from bayesmeta.frequentist.mantel_haenszel import rma_mh

pytestmark = pytest.mark.reference

GOLDEN = json.loads((Path(__file__).parent / "golden" / "metafor.json").read_text())
BIN = {c["id"]: c for c in GOLDEN["cases"] if "mh" in c}
CASES = sorted({(c["id"], m) for c in BIN.values() for m in c["mh"]})
RTOL = 1e-6


@pytest.mark.parametrize("cid,measure", CASES, ids=[f"{a}-{b}" for a, b in CASES])
def test_mh_against_metafor(cid, measure):
    ref = BIN[cid]["mh"][measure]
    d = BIN[cid]["data"]
    r = rma_mh(d["ai"], d["n1i"], d["ci"], d["n2i"], measure=measure, rd_variance="sato")
    assert r.k == ref["k"]
    for ours, name in ((r.estimate, "beta"), (r.se, "se"), (r.zval, "zval"), (r.ci_lb, "ci_lb"),
                       (r.ci_ub, "ci_ub"), (r.Q, "QE"), (r.Q_p, "QEp"), (r.I2, "I2"), (r.H2, "H2")):
        assert ours == pytest.approx(ref[name], rel=RTOL, abs=1e-12), name
    assert r.pval == pytest.approx(ref["pval"], rel=RTOL, abs=1e-300)


@pytest.mark.parametrize("cid,measure", CASES, ids=[f"{a}-{b}" for a, b in CASES])
def test_revman_random_effects_against_r(cid, measure):
    # R side: DL tau^2 from rma.mh's QE, then rma(yi, vi, tau2=) (see make_golden.R)
    ref = BIN[cid]["mh"][measure]["revman_re"]
    d = BIN[cid]["data"]
    re = rma_mh(d["ai"], d["n1i"], d["ci"], d["n2i"], measure=measure).random_effects()
    assert re.tau2 == pytest.approx(ref["tau2"], rel=RTOL, abs=1e-12)
    for ours, name in ((re.mu, "beta"), (re.se, "se"), (re.ci_lb, "ci_lb"), (re.ci_ub, "ci_ub"), (re.pval, "pval")):
        assert ours == pytest.approx(ref[name], rel=RTOL, abs=1e-12), name


def test_revman_random_effects_uses_mh_q_by_hand():
    r = rma_mh([10, 20, 5], [100, 100, 50], [15, 10, 12], [100, 100, 50], measure="RR")
    # study log RRs and variances 1/a - 1/n1 + 1/c - 1/n2, Q around the MH estimate
    y = np.log([(10 / 100) / (15 / 100), (20 / 100) / (10 / 100), (5 / 50) / (12 / 50)])
    v = np.array([1 / 10 - 1 / 100 + 1 / 15 - 1 / 100, 1 / 20 - 1 / 100 + 1 / 10 - 1 / 100,
                  1 / 5 - 1 / 50 + 1 / 12 - 1 / 50])
    R = 10 * 100 / 200 + 20 * 100 / 200 + 5 * 50 / 100
    S = 15 * 100 / 200 + 10 * 100 / 200 + 12 * 50 / 100
    assert r.estimate == pytest.approx(np.log(R / S), rel=1e-13)
    q = np.sum((y - np.log(R / S)) ** 2 / v)
    assert r.Q == pytest.approx(q, rel=1e-12)
    w = 1 / v
    tau2 = max(0, (q - 2) / (w.sum() - (w**2).sum() / w.sum()))
    assert tau2 > 0
    re = r.random_effects()
    assert re.tau2 == pytest.approx(tau2, rel=1e-12)
    ws = 1 / (v + tau2)
    assert re.mu == pytest.approx(np.sum(ws * y) / ws.sum(), rel=1e-12)
    # the random-effects result carries the MH-based Q, and its I^2 is RevMan's (Q - df)/Q
    assert re.Q == pytest.approx(q, rel=1e-12) and "Mantel-Haenszel" in str(re)
    assert re.I2 == pytest.approx(100 * (q - 2) / q, rel=1e-10) and re.I2_revman == pytest.approx(re.I2, rel=1e-10)
    # Q around the MH estimate is not Q around the IV estimate (here they differ by ~1e-6 only,
    # because MH and IV estimates nearly coincide); unbalanced tables separate them clearly
    assert re.Q > np.sum(w * (y - np.sum(w * y) / w.sum()) ** 2)
    u = rma_mh([2, 40], [20, 400], [8, 20], [20, 100], measure="RR")
    wu = 1 / u.vi
    assert abs(u.Q - np.sum(wu * (u.yi - np.sum(wu * u.yi) / wu.sum()) ** 2)) > 1e-2


def test_rr_greenland_robins_variance_by_hand():
    # one table a=3/10, c=1/10: Var log RR = (n1 n2 (a + c) - a c N)/N^2 / (R S), R = a n2/N, S = c n1/N
    r = rma_mh([3], [10], [1], [10], measure="RR")
    R, S = 3 * 10 / 20, 1 * 10 / 20
    assert r.se**2 == pytest.approx((100 * 4 - 3 * 20) / 400 / (R * S), rel=1e-12)
    # for a single table it reduces to the Katz variance 1/a - 1/n1 + 1/c - 1/n2
    assert r.se**2 == pytest.approx(1 / 3 - 1 / 10 + 1 - 1 / 10, rel=1e-12)


def test_or_rbg_variance_single_table_is_woolf():
    # RBG variance of one table = 1/a + 1/b + 1/c + 1/d
    r = rma_mh([3], [10], [1], [10], measure="OR")
    assert r.estimate == pytest.approx(np.log(3 * 9 / (7 * 1)), rel=1e-12)
    assert r.se**2 == pytest.approx(1 / 3 + 1 / 7 + 1 + 1 / 9, rel=1e-12)


def test_rd_greenland_robins_variance_by_hand():
    # one study, a=3/10, c=1/10: Var = (a b n2^3 + c d n1^3)/(n1 n2 N^2) / (n1 n2 / N)^2
    r = rma_mh([3], [10], [1], [10], measure="RD")
    var = (3 * 7 * 1000 + 1 * 9 * 1000) / (100 * 400) / (100 / 20) ** 2
    assert r.se**2 == pytest.approx(var, rel=1e-12)
    assert r.estimate == pytest.approx(0.2, rel=1e-12)
    # = p1 q1/n1 + p2 q2/n2 for one table
    assert var == pytest.approx(0.3 * 0.7 / 10 + 0.1 * 0.9 / 10, rel=1e-12)
    # Sato's variance coincides for one table but not in general
    g = rma_mh([3, 10], [10, 50], [1, 20], [10, 40], measure="RD")
    s = rma_mh([3, 10], [10, 50], [1, 20], [10, 40], measure="RD", rd_variance="sato")
    assert s.estimate == g.estimate and abs(s.se / g.se - 1) > 1e-3


def test_double_zero_dropped_but_single_zero_kept():
    r = rma_mh([0, 0, 3], [20, 25, 30], [0, 2, 5], [20, 25, 30], measure="RR")
    assert r.k == 3 and r.k_estimable == 2 and r.n_participants == 150
    # RD keeps the double-zero table in the MH estimate: sum (a n2 - c n1)/N / sum n1 n2/N
    d = rma_mh([0, 0, 3], [20, 25, 30], [0, 2, 5], [20, 25, 30], measure="RD")
    est = (0 + (0 - 2 * 25) / 50 + (3 * 30 - 5 * 30) / 60) / (20 * 20 / 40 + 25 * 25 / 50 + 30 * 30 / 60)
    assert d.estimate == pytest.approx(est, rel=1e-12)


def test_revman_zero_cell_correction_in_mh_sums():
    # study 1 has a zero cell: RevMan adds 0.5 to its four cells in the MH sums; metafor does not
    ai, n1, ci, n2 = [0, 6], [20, 30], [4, 9], [20, 30]
    raw = rma_mh(ai, n1, ci, n2, measure="RR")
    rev = rma_mh(ai, n1, ci, n2, measure="RR", mh_correction="only0")
    # by hand with corrected cells a=0.5, n1=21, c=4.5, n2=21 (N=42) for study 1
    R = 0.5 * 21 / 42 + 6 * 30 / 60
    S = 4.5 * 21 / 42 + 9 * 30 / 60
    assert rev.estimate == pytest.approx(np.log(R / S), rel=1e-12)
    assert raw.estimate == pytest.approx(np.log((6 * 30 / 60) / (4 * 20 / 40 + 9 * 30 / 60)), rel=1e-12)
    # the study-level parts (Q) are the same either way
    y, v = log_rr(ai, n1, ci, n2)
    assert rev.Q == pytest.approx(np.sum((y - rev.estimate) ** 2 / v), rel=1e-12)


def test_summary_and_print():
    r = rma_mh([10, 20], [100, 100], [15, 30], [100, 100], measure="OR", level=0.9)
    s = r.summary()
    assert {"estimate", "se", "ci90_lb", "ci90_ub", "exp_estimate", "Q", "I2"} <= set(s.columns)
    assert s["exp_estimate"].iloc[0] == pytest.approx(np.exp(r.estimate))
    assert "Mantel-Haenszel" in str(r) and "90% CI" in str(r)
    with pytest.raises(ValueError):
        rma_mh([1], [10], [2], [10], measure="HR")
    with pytest.warns(UserWarning, match="not estimable"):  # metafor: NA with a warning
        assert np.isnan(rma_mh([0, 0], [10, 10], [0, 0], [10, 10], measure="RR").estimate)
