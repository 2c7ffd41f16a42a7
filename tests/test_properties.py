"""Property-based tests (hypothesis) of the readers, the effect sizes and the decision rule.

Each property is exact algebra, so each comparison has a tolerance of a few ulps scaled by the
values (floating-point sums in another order), never a statistical one:

* reading an arm-level file gives the same effect for every study whatever the order of its rows
  (the readers pair arms by key, never by position);
* swapping the arms (experimental <-> control) flips the sign of SMD, MD, log RR, log OR and RD
  and leaves the sampling variance unchanged (every formula is antisymmetric in the arms; metafor
  ``escalc`` has the same property), both in the kernels and through the reader's arm labels;
* P(non-inferior) never decreases as the margin widens (it is a CDF evaluated further toward the
  harmful side), for draws and for an exact posterior; at margin 0 it equals P(benefit); and
  reversing the orientation together with the sign of the effect leaves it unchanged.

The solvers' properties (exact vs brute force, study-order invariance of the posterior) are in
the solver tests.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bayesmeta.data.readers import read_csv
from bayesmeta.decide.decision import Orientation, prob_benefit, prob_noninferior
from bayesmeta.effects import escalc

pytestmark = pytest.mark.unit

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)
READER_SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)  # a read takes ~0.1 s

n_st = st.integers(2, 400)
mean_st = st.floats(-100, 100, allow_nan=False, allow_infinity=False)
sd_st = st.floats(0.05, 50, allow_nan=False, allow_infinity=False)


@st.composite
def continuous_studies(draw, min_k=2, max_k=6):
    k = draw(st.integers(min_k, max_k))
    return [(draw(n_st), draw(mean_st), draw(sd_st), draw(n_st), draw(mean_st), draw(sd_st)) for _ in range(k)]


@st.composite
def binary_studies(draw, min_k=2, max_k=6):
    out = []
    for _ in range(draw(st.integers(min_k, max_k))):
        n1, n2 = draw(st.integers(1, 400)), draw(st.integers(1, 400))
        out.append((draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2))
    # no events anywhere (or events in every participant) is refused by the readers with a DataError
    # (tests/test_bad_inputs.py): such tables have no effect to keep invariant
    assume(any(a > 0 or c > 0 for a, _, c, _ in out))
    assume(any(a < n1 or c < n2 for a, n1, c, n2 in out))
    return out


def _close(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * max(1.0, float(np.max(np.abs(b), initial=0))))


# ------------------------------------------------------------------ effect-size kernels: arm swap

@SETTINGS
@given(continuous_studies(1, 8), st.sampled_from(["metafor", "revman"]))
def test_smd_antisymmetric_in_the_arms(rows, convention):
    n1, m1, s1, n2, m2, s2 = map(np.array, zip(*rows))
    y, v = escalc.smd(m1, s1, n1, m2, s2, n2, convention=convention)
    y_sw, v_sw = escalc.smd(m2, s2, n2, m1, s1, n1, convention=convention)
    _close(y_sw, -y)
    _close(v_sw, v)


@SETTINGS
@given(continuous_studies(1, 8))
def test_md_antisymmetric_in_the_arms(rows):
    n1, m1, s1, n2, m2, s2 = map(np.array, zip(*rows))
    y, v = escalc.md(m1, s1, n1, m2, s2, n2)
    y_sw, v_sw = escalc.md(m2, s2, n2, m1, s1, n1)
    _close(y_sw, -y)
    _close(v_sw, v)


@SETTINGS
@given(binary_studies(1, 8), st.sampled_from(["log_rr", "log_or", "rd"]))
def test_binary_measures_antisymmetric_in_the_arms(rows, fn):
    a, n1, c, n2 = map(np.array, zip(*rows))
    f = getattr(escalc, fn)
    y, v = f(a, n1, c, n2)
    y_sw, v_sw = f(c, n2, a, n1)
    ok = np.isfinite(y)  # studies a measure cannot estimate are NaN in both orders
    assert np.array_equal(ok, np.isfinite(y_sw))
    _close(y_sw[ok], -y[ok])
    _close(v_sw[ok], v[ok])


# ------------------------------------------------------------------ readers: row order and arm labels

def _continuous_csv(rows, order):
    lines = ["study,outcome,timepoint,arm,n,mean,sd,source"]
    arms = []
    for i, (n1, m1, s1, n2, m2, s2) in enumerate(rows):
        arms.append(f"s{i},pain,1m,A,{n1},{m1!r},{s1!r},property test")
        arms.append(f"s{i},pain,1m,B,{n2},{m2!r},{s2!r},property test")
    return "\n".join(lines + [arms[j] for j in order]) + "\n"


def _binary_csv(rows, order):
    lines = ["study,outcome,arm,events,n,source"]
    arms = []
    for i, (a, n1, c, n2) in enumerate(rows):
        arms.append(f"s{i},events,A,{a},{n1},property test")
        arms.append(f"s{i},events,B,{c},{n2},property test")
    return "\n".join(lines + [arms[j] for j in order]) + "\n"


def _read(text, measure, experimental="A", control="B"):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "arms.csv"
        p.write_text(text, encoding="utf-8")
        es = read_csv(p, measure=measure, experimental=experimental, control=control)
    return dict(zip(es.labels, zip(np.asarray(es.yi), np.asarray(es.vi))))


def _assert_same(d1, d2, sign=1.0):
    assert set(d1) == set(d2)
    for s in d1:
        _close(d2[s][0], sign * d1[s][0])
        _close(d2[s][1], d1[s][1])


@READER_SETTINGS
@given(continuous_studies(), st.randoms(use_true_random=False), st.sampled_from(["SMD", "MD"]))
def test_continuous_reader_ignores_row_order(rows, rnd, measure):
    order = list(range(2 * len(rows)))
    shuffled = order.copy()
    rnd.shuffle(shuffled)
    _assert_same(_read(_continuous_csv(rows, order), measure), _read(_continuous_csv(rows, shuffled), measure))


@READER_SETTINGS
@given(binary_studies(), st.randoms(use_true_random=False), st.sampled_from(["RR", "OR", "RD"]))
def test_binary_reader_ignores_row_order(rows, rnd, measure):
    order = list(range(2 * len(rows)))
    shuffled = order.copy()
    rnd.shuffle(shuffled)
    _assert_same(_read(_binary_csv(rows, order), measure), _read(_binary_csv(rows, shuffled), measure))


@READER_SETTINGS
@given(continuous_studies(), st.sampled_from(["SMD", "MD"]))
def test_continuous_reader_swapping_arm_labels_flips_the_sign(rows, measure):
    text = _continuous_csv(rows, range(2 * len(rows)))
    _assert_same(_read(text, measure), _read(text, measure, experimental="B", control="A"), sign=-1.0)


@READER_SETTINGS
@given(binary_studies(), st.sampled_from(["RR", "OR", "RD"]))
def test_binary_reader_swapping_arm_labels_flips_the_sign(rows, measure):
    text = _binary_csv(rows, range(2 * len(rows)))
    _assert_same(_read(text, measure), _read(text, measure, experimental="B", control="A"), sign=-1.0)


# ------------------------------------------------------------------ P(non-inferior) and the margin

draws_st = st.lists(st.floats(-3, 3, allow_nan=False, allow_infinity=False), min_size=1, max_size=200)
margins_st = st.lists(st.floats(0, 3, allow_nan=False, allow_infinity=False), min_size=2, max_size=20)


@SETTINGS
@given(draws_st, margins_st, st.booleans())
def test_p_noninferior_is_monotone_in_the_margin_draws(draws, margins, lower_is_better):
    o = Orientation(lower_is_better=lower_is_better, measure="SMD")
    m = np.sort(np.asarray(margins))
    p = prob_noninferior(np.asarray(draws), m, o)
    assert np.all(np.diff(p) >= 0)
    assert prob_noninferior(np.asarray(draws), 0.0, o) == pytest.approx(prob_benefit(np.asarray(draws), o), abs=0)


@SETTINGS
@given(draws_st, st.lists(st.floats(1.0, 5.0, allow_nan=False), min_size=2, max_size=20), st.booleans())
def test_p_noninferior_is_monotone_in_ratio_margins(draws, ratios, lower_is_better):
    """Ratio margins widen away from 1 on the harmful side: upward when lower is better, downward else."""
    o = Orientation(lower_is_better=lower_is_better, measure="RR")
    r = np.sort(np.asarray(ratios))
    margins = r if lower_is_better else 1.0 / r
    p = prob_noninferior(np.asarray(draws), margins, o)
    assert np.all(np.diff(p) >= 0)


@SETTINGS
@given(draws_st, margins_st)
def test_p_noninferior_reversing_orientation_and_sign(draws, margins):
    """Swapping the arms flips the effect's sign and which side is harmful: P(non-inferior) is unchanged.

    (A draw exactly at the margin counts as non-inferior on one side and not on the other, as a
    CDF is right-continuous; posteriors are continuous, so such ties are excluded.)"""
    d = np.asarray(draws)
    m = np.asarray(margins)
    assume(not np.isin(np.abs(d), m).any())
    p = prob_noninferior(d, m, Orientation(lower_is_better=True))
    q = prob_noninferior(-d, m, Orientation(lower_is_better=False))
    np.testing.assert_allclose(p, q, rtol=0, atol=1e-15)  # 1 - cdf vs cdf: one rounding


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.floats(-1, 1, allow_nan=False), st.floats(0.05, 0.5, allow_nan=False)),
                min_size=2, max_size=6), st.booleans())
def test_p_noninferior_is_monotone_in_the_margin_exact(studies, lower_is_better):
    from bayesmeta.bayes.exact import solve
    from bayesmeta.bayes.priors import flat, halfnormal

    yi, sei = map(np.asarray, zip(*studies))
    post = solve(yi, sei, halfnormal(0.5), flat("mu"), n_tau=2001, n_mix=400)
    o = Orientation(lower_is_better=lower_is_better, measure="SMD")
    p = prob_noninferior(post.mu, np.linspace(0, 2, 41), o)
    # the mixture CDF is evaluated in floating point: allow non-increase at the level of rounding
    assert np.all(np.diff(p) >= -1e-12)
    assert p[0] == pytest.approx(float(prob_benefit(post.mu, o)), abs=1e-12)
