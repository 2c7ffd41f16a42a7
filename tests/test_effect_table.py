"""EffectTable: named constructors, checks on lengths/labels/values, escalc, selection, hash.

Numbers are checked against definitions worked by hand (vi = sei^2; log RR and its variance
1/a - 1/n1 + 1/c - 1/n2, Deeks & Higgins 2010) and against metafor escalc values pinned in
tests/golden/metafor.json (made by validation/metafor/make_golden.R).
"""
import doctest
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmeta.effects.table as table_module
from bayesmeta.effects.table import EffectTable, escalc

pytestmark = pytest.mark.unit
GOLDEN = Path(__file__).parent / "golden" / "metafor.json"


def test_from_yi_sei_and_from_yi_vi_agree():
    # SEs that are powers of two, so that sei**2 is exact in binary floating point
    a = EffectTable.from_yi_sei([0.1, 0.3, -0.2], [0.5, 0.25, 0.125], study=["a", "b", "c"], measure="SMD")
    b = EffectTable.from_yi_vi([0.1, 0.3, -0.2], [0.25, 0.0625, 0.015625], study=["a", "b", "c"], measure="SMD")
    np.testing.assert_array_equal(a.vi, b.vi)
    np.testing.assert_array_equal(b.sei, [0.5, 0.25, 0.125])
    assert a.sha256 == b.sha256 and len(a.sha256) == 64
    assert EffectTable.from_yi_vi([0.1, 0.3, -0.2], [0.25, 0.0625, 0.02], study=["a", "b", "c"],
                                  measure="SMD").sha256 != a.sha256


def test_table_is_frozen():
    es = EffectTable.from_yi_vi([0.1, 0.2], [0.01, 0.02])
    with pytest.raises(ValueError):
        es.yi[0] = 5.0
    with pytest.raises(AttributeError):
        es.measure = "RR"  # type: ignore[misc]
    x = np.array([0.1, 0.2])
    es2 = EffectTable.from_yi_vi(x, [0.01, 0.02])
    x[0] = 9.0
    assert es2.yi[0] == 0.1  # the table keeps its own copy


@pytest.mark.parametrize("kwargs,words", [
    ({"yi": [1, 2, 3], "vi": [1, 1, 1], "study": ["a", "b"]}, "2 study labels for 3 estimates"),
    ({"yi": [1, 2, 3], "vi": [1, 1], "study": ["a", "b", "c"]}, "yi has 3 values but vi has 2"),
    ({"yi": [1, np.nan], "vi": [1, 1], "study": ["a", "b"]}, "yi is not a finite number for b"),
    ({"yi": [1, 2], "vi": [1, 0], "study": ["a", "b"]}, "positive finite variance; not so for b"),
    ({"yi": [1, 2], "vi": [1, 1], "study": ["a", "a"]}, "duplicate study label: a"),
    ({"yi": [1, 2], "vi": [1, 1], "study": ["a", "b"], "measure": "SDM"}, "unknown effect measure"),
    ({"yi": [], "vi": [], "study": []}, "no studies"),
])
def test_checks(kwargs, words):
    with pytest.raises(ValueError, match=words):
        EffectTable.from_yi_vi(**kwargs)


def test_timepoints_allow_repeated_studies():
    es = EffectTable.from_yi_vi([1, 2, 3], [1, 1, 1], study=["a", "a", "b"], timepoint=["1m", "3m", "1m"])
    assert es.labels == ("a (1m)", "a (3m)", "b (1m)")
    assert es.select(timepoint="3m").study == ("a",)
    with pytest.raises(ValueError, match="duplicate study and timepoint"):
        EffectTable.from_yi_vi([1, 2], [1, 1], study=["a", "a"], timepoint=["1m", "1m"])
    with pytest.raises(ValueError, match="no rows with timepoint '6m'"):
        es.select(timepoint="6m")


def test_from_ci_reported_and_analysis_scale():
    z = 1.959963984540054
    es = EffectTable.from_ci([0.5, 2.0], [0.25, 1.0], [1.0, 4.0], measure="RR", study=["a", "b"])
    np.testing.assert_allclose(es.yi, np.log([0.5, 2.0]), rtol=1e-15)
    np.testing.assert_allclose(es.sei, [np.log(4) / (2 * z)] * 2, rtol=1e-14)
    es2 = EffectTable.from_ci(np.log([0.5, 2.0]), np.log([0.25, 1.0]), np.log([1.0, 4.0]), measure="RR",
                              scale="analysis", study=["a", "b"])
    np.testing.assert_allclose(es2.vi, es.vi, rtol=1e-13)
    smd = EffectTable.from_ci([0.13], [-0.00], [0.25], measure="SMD", level=0.95)
    assert smd.sei[0] == pytest.approx(0.25 / (2 * z), rel=1e-14)
    with pytest.raises(ValueError, match="estimate outside its interval for b"):
        EffectTable.from_ci([0.5, 5.0], [0.25, 1.0], [1.0, 4.0], measure="RR", study=["a", "b"])


def test_escalc_binary_by_hand_and_double_zero_note():
    # issue 18: a row escalc cannot compute keeps its place as NaN, named in a warning (metafor's escalc);
    # complete() (what the estimators use) leaves it out with a note
    with pytest.warns(UserWarning, match=r"1 of 2 rows not estimable, kept as NaN: B \(no events in either arm"):
        full = escalc("RR", ai=[4, 0], n1i=[100, 50], ci=[8, 0], n2i=[100, 50], study=["A", "B"],
                      zero_rule="revman")
    assert full.study == ("A", "B") and np.isnan(full.yi[1]) and np.isnan(full.vi[1])
    assert full.not_estimable == {"B": "no events in either arm, or only events"}
    es = full.complete()
    assert es.study == ("A",) and es.measure == "RR"
    assert es.yi[0] == pytest.approx(np.log(0.5), rel=1e-15)
    assert es.vi[0] == pytest.approx(1 / 4 - 1 / 100 + 1 / 8 - 1 / 100, rel=1e-15)
    assert "B: not estimable for RR" in es.notes[0]
    assert es.arms is not None and es.arms["study"].tolist() == ["A", "B"]  # MH keeps every study
    # non-events instead of group sizes (metafor's bi/di)
    es2 = escalc("RR", ai=[4], bi=[96], ci=[8], di=[92], study=["A"])
    assert es2.yi[0] == pytest.approx(es.yi[0], rel=1e-15)


CASES = json.loads(GOLDEN.read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_escalc_matches_metafor(case):
    # metafor 3.8-1 escalc() values (validation/metafor/make_golden.R); rows metafor leaves NA
    # (double-zero studies for RR/OR) are left out of the table with a note
    df = pd.DataFrame(case["data"])
    df["trial"] = [f"t{i}" for i in range(len(df))]
    # the golden cases were made with escalc(drop00 = TRUE) for RR/OR (RevMan's rule)
    rule = "revman" if case["measure"] in ("RR", "OR") else "metafor"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the not-estimable rows (checked below)
        full = escalc(case["measure"], data=df, study="trial", zero_rule=rule, **{c: c for c in case["data"]})
    es = full.complete()
    ref_yi = np.array([np.nan if v is None else v for v in case["yi"]])
    ref_vi = np.array([np.nan if v is None else v for v in case["vi"]])
    ok = np.isfinite(ref_yi)
    assert es.study == tuple(df["trial"][ok])
    np.testing.assert_allclose(es.yi, ref_yi[ok], rtol=1e-10)
    np.testing.assert_allclose(es.vi, ref_vi[ok], rtol=1e-10)
    assert len(es.notes) == int((~ok).sum())
    assert full.study == tuple(df["trial"])  # row positions do not shift
    np.testing.assert_array_equal(np.isnan(full.yi), ~ok)


def test_escalc_continuous_and_errors():
    es = escalc("MD", m1i=[5.0], sd1i=[2.0], n1i=[10], m2i=[4.0], sd2i=[2.0], n2i=[10])
    assert es.yi[0] == 1.0 and es.vi[0] == pytest.approx(0.8, rel=1e-15)  # 4/10 + 4/10
    with pytest.raises(ValueError, match="missing sd2i"):
        escalc("SMD", m1i=[5.0], sd1i=[2.0], n1i=[10], m2i=[4.0], n2i=[10])
    with pytest.raises(ValueError, match="differ in length"):
        escalc("MD", m1i=[5.0, 1.0], sd1i=[2.0], n1i=[10], m2i=[4.0], sd2i=[2.0], n2i=[10])
    with pytest.raises(ValueError, match="not computed from arm-level data"):
        escalc("HR", ai=[1], n1i=[2], ci=[1], n2i=[2])
    with pytest.raises(ValueError, match="data has no column 'x'"):
        escalc("RR", ai="x", n1i="n1", ci="c", n2i="n2", data=pd.DataFrame({"n1": [1]}))


def test_to_frame_and_moderators():
    es = EffectTable.from_yi_vi([0.1, 0.2], [0.01, 0.04], study=["a", "b"], subgroup=["x", "y"],
                                moderators={"year": [1990, 2000]})
    f = es.to_frame()
    assert f.columns.tolist() == ["study", "subgroup", "yi", "vi", "sei", "year"]
    assert f["sei"].tolist() == pytest.approx([0.1, 0.2])
    with pytest.raises(ValueError, match="moderator 'year' has 1 values for 2 estimates"):
        EffectTable.from_yi_vi([0.1, 0.2], [0.01, 0.04], moderators={"year": [1990]})


def test_docstring_examples():
    assert doctest.testmod(table_module).failed == 0
