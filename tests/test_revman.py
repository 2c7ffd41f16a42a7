"""RevMan 5 and Cochrane review files: reading (rm5, analysis CSV, data package) and RevMan's own
numbers reproduced.

Reference values are RevMan's own stored results in the three Fleiss1993 files of the R package
meta 8.3-0 (``inst/extdata``; data/fleiss1993/README.md), full precision in the ``.rm5`` file
(e.g. ``EFFECT_SIZE="0.8968655609130709"``, Fleiss1993.rm5 line 441, the DICH_OUTCOME element).
"""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

import bayesmeta as bm
from bayesmeta.errors import DataError

DATA = Path(__file__).resolve().parents[1] / "data" / "fleiss1993"
FILES = {"rm5": DATA / "Fleiss1993.rm5", "csv": DATA / "Fleiss1993_CR.csv", "zip": DATA / "Fleiss1993.zip"}

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def reviews():
    return {k: bm.read_revman(p) for k, p in FILES.items()}


@pytest.fixture(scope="module")
def checks(reviews):
    return {k: bm.check_revman(r) for k, r in reviews.items()}


def test_structure_and_settings(reviews):
    for fmt, r in reviews.items():
        assert r.format == fmt
        assert [a.id for a in r] == ["1.1", "1.2"]
        a = r["1.1"]
        assert (a.settings.data_type, a.settings.method, a.settings.measure, a.settings.random) == (
            "dichotomous", "MH", "OR", False)
        assert a.comparison == "Examples from Fleiss (1993)"
        assert a.name == "Aspirin for Preventing Death after Myocardial Infarction"
        assert r["1.2"].settings.data_type == "continuous"
        assert r["1.2"].settings.method == "IV"
        assert len(r.sha256) == 64
    # the CSV export was made with the measure changed to MD (README); rm5 and the package say SMD
    assert reviews["rm5"]["1.2"].settings.measure == "SMD_revman"
    assert reviews["zip"]["1.2"].settings.measure == "SMD_revman"
    assert reviews["csv"]["1.2"].settings.measure == "MD"
    for fmt in ("rm5", "csv"):
        a = reviews[fmt]["1.1"]
        assert (a.experimental, a.control) == ("Aspirin", "Control")
        assert (a.favours_left, a.favours_right) == ("Favours experimental", "Favours control")
    assert (reviews["zip"]["1.1"].experimental, reviews["zip"]["1.1"].favours_left) == ("Experimental", "")
    assert reviews["rm5"]["1.1"].settings.level_total == 0.95
    tidy = reviews["csv"].to_frame()
    assert len(tidy) == 12 and list(tidy.analysis.unique()) == ["1.1", "1.2"] and tidy.source.str.contains("line").all()


def test_provenance_per_value(reviews):
    s = next(x for x in reviews["rm5"]["1.1"].studies if x.study == "ISIS-2")
    assert s.year == "1988" and (s.events_1, s.total_1, s.events_2, s.total_2) == (1570, 8587, 1720, 8600)
    src = str(s.source)
    assert "Fleiss1993.rm5" in src and "line 453" in src and "<DICH_DATA>" in src and "study ISIS-2" in src
    assert "outcome 1.1 Aspirin" in src and "comparison 1 Examples" in src
    c = next(x for x in reviews["csv"]["1.2"].studies if x.study == "Hart")
    assert c.source.location == "line 15"
    z = next(x for x in reviews["zip"]["1.1"].studies if x.study == "AMIS")
    assert z.source.location.endswith("921923100913455418-data-rows.csv line 2")
    assert "-data.zip!" in z.source.location


def test_three_formats_same_data(reviews):
    def arms(r, aid):
        f = r[aid].arms().drop(columns="subgroup").sort_values("study").reset_index(drop=True)
        return f

    for aid in ("1.1", "1.2"):
        ref = arms(reviews["rm5"], aid)
        for fmt in ("csv", "zip"):
            other = arms(reviews[fmt], aid)
            assert list(other.columns) == list(ref.columns)
            assert other.equals(ref), (fmt, aid)
    assert reviews["rm5"]["1.1"].k == 7 and reviews["rm5"]["1.2"].k == 5


def test_stored_results_read(reviews):
    p = reviews["rm5"]["1.1"].pooled
    assert p.estimate == 0.8968655609130709 and p.Q == 9.946055983220074 and p.Q_df == 6
    assert p.I2 == 39.67458045558399 and p.z == 3.287633061337987 and p.k == 7
    assert not reviews["rm5"]["1.2"].pooled.computed  # RevMan left the SMD analysis empty
    assert not reviews["zip"]["1.2"].pooled.computed  # the package wrote 0, read as missing
    q = reviews["csv"]["1.2"].pooled
    assert (q.estimate, q.ci_lb, q.ci_ub, q.Q, q.I2) == (-0.70938839, -1.25848502, -0.16029176, 5.66012379, 29.33016758)
    assert reviews["csv"]["1.1"].pooled.decimals["estimate"] == 8
    assert reviews["zip"]["1.1"].pooled.decimals["estimate"] == 6


def test_effect_table(reviews):
    es = reviews["rm5"]["1.1"].effect_table()
    assert isinstance(es, bm.EffectTable) and es.k == 7 and es.measure == "OR"
    log_or = {s.study: math.log(s.stored_estimate) for s in reviews["rm5"]["1.1"].studies}
    np.testing.assert_allclose(es.yi, [log_or[s] for s in es.study], rtol=1e-13)
    se = {s.study: s.stored_se for s in reviews["rm5"]["1.1"].studies}
    np.testing.assert_allclose(es.sei, [se[s] for s in es.study], rtol=1e-13)
    md = reviews["csv"]["1.2"].effect_table()
    assert md.measure == "MD"
    np.testing.assert_allclose(md.yi, [-1.5, -1.2, -2.4, 0.2, -0.88], atol=1e-12)  # mean_1 - mean_2
    assert reviews["rm5"]["1.2"].effect_table().measure == "SMD_revman"
    # and the estimators take it
    r = bm.rma(es, method="EE")
    assert r.k == 7


@pytest.mark.reference
def test_every_stored_number_reproduced(checks):
    counts = {fmt: len(c.table) for fmt, c in checks.items()}
    assert counts == {"rm5": 44, "csv": 78, "zip": 36}
    for c in checks.values():
        assert c.ok, c.differences()
        assert c.table["agrees_stored"].all(), c.differences("stored")
    t = checks["rm5"].table
    est = t[(t.study == "") & (t.quantity == "estimate")].iloc[0]
    assert abs(est.recomputed - 0.8968655609130709) < 1e-13  # MH OR to full stored precision
    w = t[(t.study == "ISIS-2") & (t.quantity == "weight")].iloc[0]
    assert abs(w.recomputed - 72.87984024392564) < 1e-9  # MH weight b*c/N
    assert any("1.2" in n for n in checks["rm5"].not_compared)
    assert {"estimate", "ci_lb", "ci_ub", "z", "p_z", "Q", "Q_p", "I2", "tau2", "se", "weight"} <= set(t.quantity)


def test_chi2_p_tolerance_is_revmans_accuracy(checks):
    """RevMan's chi-square P is 7.4e-8 from R's pchisq (0.1269421779062949); only that row needs
    the documented 1e-7 allowance, every other number agrees to its stored digits."""
    t = checks["rm5"].table
    row = t[(t.quantity == "Q_p")].iloc[0]
    assert abs(row.recomputed - 0.1269421779062949) < 1e-12
    assert 7.3e-8 < row.abs_diff < 7.5e-8
    other = t[t.quantity != "Q_p"]
    assert (other.abs_diff <= np.maximum(other.revman.abs() * 1e-9, 1e-12)).all()


def test_check_detects_a_changed_number(reviews):
    import dataclasses

    r = reviews["rm5"]
    a = r["1.1"]
    bad = dataclasses.replace(a, pooled=dataclasses.replace(a.pooled, estimate=0.91))
    chk = bm.check_revman(dataclasses.replace(r, analyses=(bad, r["1.2"])))
    d = chk.differences()
    assert not chk.ok and list(d.quantity) == ["estimate"] and d.iloc[0].revman == 0.91


def test_select(reviews):
    r = reviews["rm5"]
    assert [a.id for a in r.select(outcome="2")] == ["1.2"]
    assert [a.id for a in r.select(outcome="1.1")] == ["1.1"]
    assert [a.id for a in r.select(comparison="Examples from Fleiss (1993)")] == ["1.1", "1.2"]
    assert [a.id for a in r.select(outcome="1.2, 1.1")] == ["1.1", "1.2"]
    with pytest.raises(KeyError, match=r"it has: 1\.1"):
        r.select(outcome="mortality")


# ----------------------------------------------------------------------------- bad files
def _problem(excinfo):
    return excinfo.value.problems[0]


def test_not_revman_xml(tmp_path):
    f = tmp_path / "x.rm5"
    f.write_text('<?xml version="1.0"?>\n<html>\n<body/></html>\n')
    with pytest.raises(DataError) as e:
        bm.read_revman(f)
    p = _problem(e)
    assert p.file == str(f) and p.row == 2 and p.column == "<html>" and "COCHRANE_REVIEW" in p.message


def test_malformed_xml_names_line(tmp_path):
    f = tmp_path / "broken.rm5"
    f.write_text('<?xml version="1.0"?>\n<COCHRANE_REVIEW>\n<ANALYSES_AND_DATA>\n</COCHRANE_REVIEW>\n')
    with pytest.raises(DataError) as e:
        bm.read_revman(f)
    assert _problem(e).row == 4 and "not well-formed" in _problem(e).message


def test_entities_refused(tmp_path):
    f = tmp_path / "bomb.rm5"
    f.write_text('<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
                 "<COCHRANE_REVIEW>&b;</COCHRANE_REVIEW>\n")
    with pytest.raises(DataError, match="refused: the XML declares entities"):
        bm.read_revman(f)
    f.write_text('<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                 "<COCHRANE_REVIEW>&x;</COCHRANE_REVIEW>\n")
    with pytest.raises(DataError, match="refused"):
        bm.read_revman(f)


def test_unknown_measure_names_element(tmp_path):
    text = FILES["rm5"].read_text(encoding="iso-8859-1").replace('EFFECT_MEASURE="OR"', 'EFFECT_MEASURE="XYZ"')
    f = tmp_path / "m.rm5"
    f.write_text(text, encoding="iso-8859-1")
    with pytest.raises(DataError) as e:
        bm.read_revman(f)
    p = _problem(e)
    assert p.row == 441 and p.column == "<DICH_OUTCOME EFFECT_MEASURE>" and "unknown effect measure 'XYZ'" in p.message


def test_bad_number_names_attribute(tmp_path):
    text = FILES["rm5"].read_text(encoding="iso-8859-1").replace('EVENTS_1="49"', 'EVENTS_1="4 9"')
    f = tmp_path / "n.rm5"
    f.write_text(text, encoding="iso-8859-1")
    with pytest.raises(DataError) as e:
        bm.read_revman(f)
    p = _problem(e)
    assert p.row == 447 and p.column == "<DICH_DATA EVENTS_1>" and "'4 9'" in p.message


def test_csv_unknown_column(tmp_path):
    lines = FILES["csv"].read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("Year of study", "Risk of bias tables")
    f = tmp_path / "rob.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        bm.read_revman(f)
    p = _problem(e)
    assert (p.row, p.column) == (1, "Risk of bias tables") and "export the analyses again without it" in p.message


def test_csv_not_an_export(tmp_path):
    f = tmp_path / "arms.csv"
    f.write_text("study,arm,events,n\na,x,1,10\n")
    with pytest.raises(DataError) as e:
        bm.read_revman(f)
    msgs = [str(p) for p in e.value.problems]
    assert any("unknown column" in m and "'study'" in m for m in msgs)
    assert any("missing column(s) Comparison Number" in m for m in msgs)


def test_csv_bad_value_names_line_and_column(tmp_path):
    text = FILES["csv"].read_text(encoding="utf-8").replace(",49,0,0,615,", ",49,0,0,six hundred,")
    f = tmp_path / "v.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as e:
        bm.read_revman(f)
    p = _problem(e)
    assert (p.row, p.column) == (4, "Total 1") and "six hundred" in p.message


def test_zip_without_package(tmp_path):
    f = tmp_path / "other.zip"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(DataError, match="not a Cochrane data package: no file ending in '-overall-estimates"):
        bm.read_revman(f)
    g = tmp_path / "fake.zip"
    g.write_bytes(b"not a zip at all")
    with pytest.raises(DataError, match="not a zip file"):
        bm.read_revman(g)


def test_flat_data_package(tmp_path):
    """The package's analysis files at the top of the zip (meta's dataPackage.zip layout) read the same."""
    outer = zipfile.ZipFile(FILES["zip"])
    inner_name = next(n for n in outer.namelist() if n.endswith("-data.zip"))
    inner = zipfile.ZipFile(io.BytesIO(outer.read(inner_name)))
    f = tmp_path / "CD000000-dataPackage.zip"
    with zipfile.ZipFile(f, "w") as z:
        for n in inner.namelist():
            z.writestr(n, inner.read(n))
    r = bm.read_revman(f)
    assert [a.id for a in r] == ["1.1", "1.2"] and r["1.1"].pooled.estimate == 0.896866


def test_cli_check_revman(tmp_path):
    from click.testing import CliRunner

    from bayesmeta.cli import main

    out = tmp_path / "cmp.csv"
    res = CliRunner().invoke(main, ["check-revman", str(FILES["csv"]), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "all reproduced within RevMan's printed precision" in res.output
    assert "1.2 Mental Health Treatment versus Control: 34 numbers, 34 within the stored precision" in res.output
    import pandas as pd

    assert len(pd.read_csv(out)) == 78
    bad = tmp_path / "x.rm5"
    bad.write_text("<notxml")
    res = CliRunner().invoke(main, ["check-revman", str(bad)])
    assert res.exit_code == 2 and "not well-formed XML" in res.output


# ----------------------------------------------------------------------------- the synthetic review (metafor)
SYNTH = Path(__file__).resolve().parents[1] / "data" / "revman_synthetic" / "Synthetic.rm5"


@pytest.mark.reference
def test_synthetic_review_reproduced_against_metafor():
    """Stored numbers computed by metafor 3.8.1 (validation/revman/make_synthetic_review.R): random-effects
    MH with subgroups, Peto, RevMan's SMD, O-E, generic inverse variance, RD and an MD with subtotals
    only all agree to 1e-9 relative."""
    r = bm.read_revman(SYNTH)
    kinds = [(a.settings.data_type, a.settings.method, a.settings.measure, a.settings.random) for a in r]
    assert kinds == [("dichotomous", "MH", "RR", True), ("dichotomous", "Peto", "OR", False),
                     ("continuous", "IV", "SMD_revman", True), ("oe", "Peto", "HR", False),
                     ("giv", "IV", "HR", True), ("dichotomous", "MH", "RD", False),
                     ("continuous", "IV", "MD", False)]
    chk = bm.check_revman(r)
    t = chk.table
    assert chk.ok and t["agrees_stored"].all(), chk.differences("stored")
    assert len(t) == 246
    # "subtotals only" (1.7): no total, weights within each subgroup, the subgroup test still compared
    assert r["1.7"].settings.totals == "subtotals" and not r["1.7"].pooled.computed
    assert {"Q_int", "Q_int_p", "I2_int"} <= set(t[t.analysis == "1.7"].quantity)
    w17 = t[(t.analysis == "1.7") & (t.quantity == "weight")]
    assert abs(w17.groupby("subgroup").recomputed.sum() - 100).max() < 1e-9
    rel = t.abs_diff / t.revman.abs().clip(lower=1e-300)
    assert (rel[t.revman != 0] < 1e-9).all()
    assert {"Q_int", "Q_int_p", "I2_int"} <= set(t[t.analysis == "1.1"].quantity)
    assert set(t[(t.analysis == "1.1") & (t.study == "")].subgroup) == {"", "Low dose", "High dose"}
    # the double-zero study is read, not estimable, and left out of the effect table with a note
    a = r["1.1"]
    evans = next(s for s in a.studies if s.study == "Evans")
    assert not evans.estimable and "Evans" not in set(t[t.analysis == "1.1"].study)
    es = a.effect_table()
    assert es.k == 6 and any("Evans" in n for n in es.notes)
    assert es.subgroup is not None and set(es.subgroup) == {"Low dose", "High dose"}
    assert r["1.6"].favours_left == "Favours placebo"


@pytest.mark.unit
@pytest.mark.parametrize("declared", ["windows-1252", "UTF-8"])
def test_rm5_windows_characters(tmp_path, declared):
    """A Windows-1252 en dash (byte 0x96) in a file declaring windows-1252 (expat cannot) or, wrongly,
    UTF-8 is read as the dash, with a note saying how."""
    data = FILES["rm5"].read_bytes().replace(b'encoding="ISO-8859-1"', f'encoding="{declared}"'.encode())
    f = tmp_path / "w.rm5"
    f.write_bytes(data.replace(b">Aspirin<", b">Aspirin \x96 low dose<"))
    r = bm.read_revman(f)
    assert r["1.1"].experimental == "Aspirin – low dose"
    assert "windows-1252" in r.notes[0].casefold() or "Windows-1252" in r.notes[0]
    assert r.sha256 != bm.read_revman(FILES["rm5"]).sha256


@pytest.mark.unit
def test_arm_table_is_the_toolkits(reviews):
    """Analysis.arm_table() is a validated ArmTable the study-level pipeline takes; its effects equal
    effect_table()'s and RevMan's stored log ORs."""
    from bayesmeta.data.tables import ArmTable
    from bayesmeta.pipeline.study_level import contrasts_from_arms

    a = reviews["rm5"]["1.1"]
    t = a.arm_table()
    assert isinstance(t, ArmTable) and t.kind == "binary_arms" and len(t) == 14
    assert (t.experimental, t.control) == ("Aspirin", "Control") and t.sha256 == reviews["rm5"].sha256
    assert t.frame["source"].iloc[0] == "Fleiss1993.rm5 (line 447, <DICH_DATA>), analysis 1.1"
    yi, vi, labels, *_ = contrasts_from_arms(t, "1.1", "OR", None, preset="revman5")
    es = a.effect_table()
    order = [list(es.study).index(s) for s in labels]
    np.testing.assert_allclose(yi, es.yi[order], rtol=1e-14)
    np.testing.assert_allclose(vi, es.vi[order], rtol=1e-14)
    assert reviews["csv"]["1.2"].arm_table().kind == "continuous_arms"
    with pytest.raises(ValueError, match="not arms"):
        bm.read_revman(SYNTH)["1.5"].arm_table()


@pytest.mark.unit
def test_csv_semicolons_and_decimal_commas(tmp_path, reviews):
    """RevMan in a decimal-comma locale exports ';'-separated fields with decimal commas: same numbers."""
    import csv as _csv

    rows = list(_csv.reader(io.StringIO(FILES["csv"].read_text(encoding="utf-8"))))
    buf = io.StringIO()
    w = _csv.writer(buf, delimiter=";")
    for r in rows:
        w.writerow([v.replace(".", ",") if v.replace(".", "").replace("-", "").isdigit() else v for v in r])
    f = tmp_path / "de.csv"
    f.write_text(buf.getvalue(), encoding="utf-8")
    r = bm.read_revman(f)
    assert r["1.1"].pooled.estimate == reviews["csv"]["1.1"].pooled.estimate == 0.89686556
    assert r["1.2"].arms().equals(reviews["csv"]["1.2"].arms())
    assert any("decimal commas" in n for n in r.notes)


@pytest.mark.unit
def test_csv_not_estimable_and_untyped_subgroup_rows(tmp_path):
    lines = FILES["csv"].read_text(encoding="utf-8").splitlines()
    # a "Not estimable" study estimate, and the 1.1 studies split into a subgroup whose row has no data type
    lines[3] = lines[3].replace("0.71971415,0.19721981,0.48897453,1.05933628", "Not estimable,,,")
    sub = "1,1,1,Low dose,,,,,,,,,,,,,0.9,,0.8,1.0,100,1.5,0.2,10,0,2,0.05,,,,2,,,,,,"
    assert sub.count(",") == lines[0].count(",")
    out = [lines[0], lines[1], lines[2], sub] + [ln.replace("1,1,0,", "1,1,1,", 1) for ln in lines[3:10]] + lines[10:]
    f = tmp_path / "sg.csv"
    f.write_text("\n".join(out) + "\n", encoding="utf-8")
    r = bm.read_revman(f)
    a = r["1.1"]
    assert [g.name for g in a.subgroups] == ["Low dose"] and a.subgroups[0].pooled.Q == 1.5
    assert a.k == 7 and all(s.subgroup == "Low dose" for s in a.studies)
    mrc = next(s for s in a.studies if s.study == "MRC-1")
    assert not mrc.estimable and math.isnan(mrc.stored_estimate) and mrc.events_1 == 49


@pytest.mark.unit
def test_cli_check_revman_exit_1_on_a_difference(tmp_path):
    from click.testing import CliRunner

    from bayesmeta.cli import main

    text = FILES["rm5"].read_text(encoding="iso-8859-1").replace('EFFECT_SIZE="0.8968655609130709"', 'EFFECT_SIZE="0.91"')
    f = tmp_path / "changed.rm5"
    f.write_text(text, encoding="iso-8859-1")
    res = CliRunner().invoke(main, ["check-revman", str(f)])
    assert res.exit_code == 1, res.output
    assert "1 number(s) differ beyond RevMan's printed precision" in res.output and "0.91" in res.output
