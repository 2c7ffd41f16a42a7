"""Front-door readers: the type comes from the columns (never the file name); every shape of data
(arm-level continuous/binary, one row per study, contrasts with yi/vi, yi/sei, estimate with SE or
CI on either scale, with or without time points) gives an EffectTable; bad input names file, line
and column. Numbers are definitions worked by hand (vi = sei^2, SE = (log u - log l) / (2 z))."""
import io

import numpy as np
import pandas as pd
import pytest

import bayesmeta as bm
from bayesmeta.data.readers import detect_type
from bayesmeta.errors import DataError

pytestmark = pytest.mark.unit
Z = 1.959963984540054


def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def problems(path, **kw):
    with pytest.raises(DataError) as e:
        bm.read_csv(path, **kw)
    return e.value.problems, str(e.value)


@pytest.mark.parametrize("cols,kind", [
    (["study", "arm", "n", "mean", "sd"], "continuous_arms"),
    (["study", "arm", "events", "n"], "binary_arms"),
    (["study", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"], "continuous_studies"),
    (["study", "ai", "bi", "ci", "di"], "binary_studies"),
    (["study", "yi", "vi"], "contrasts"),
    (["study", "estimate", "ci_lb", "ci_ub"], "contrasts"),
    (["analysis", "estimate", "ci_lb", "ci_ub"], "published"),
])
def test_type_from_columns(cols, kind):
    assert detect_type(cols) == kind


def test_unknown_columns_name_the_file_and_suggest(tmp_path):
    p = write(tmp_path, "study,y,vii\na,1,2\n", "binary_trials.csv")
    probs, text = problems(p)
    assert probs[0].row == 1 and str(p) in text
    assert "cannot tell the data type" in text and "docs/data-format.md" in text and "'vii' -> 'vi'?" in text


def test_binary_file_name_does_not_matter(tmp_path):
    # a contrasts file whose name says "binary" is read as contrasts
    p = write(tmp_path, "study,yi,vi\na,0.1,0.01\nb,0.2,0.04\n", "binary_arms.csv")
    es = bm.read_csv(p)
    assert es.measure == "GEN" and es.k == 2


def test_contrast_rows_every_form(tmp_path):
    p = write(tmp_path, "study,measure,yi,vi,sei,estimate,se,ci_lb,ci_ub,ci_level,scale\n"
                        "a,RR,0.1,0.04,,,,,,,\n"
                        "b,RR,0.2,,0.5,,,,,,\n"
                        "c,RR,,,,0.5,0.25,,,,\n"
                        "d,RR,,,,0.5,,0.25,1.0,,\n"
                        "e,RR,,,,-0.5,,-1,0,0.9,analysis\n")
    es = bm.read_csv(p)
    assert es.measure == "RR" and es.study == ("a", "b", "c", "d", "e")
    np.testing.assert_allclose(es.yi, [0.1, 0.2, np.log(0.5), np.log(0.5), -0.5], rtol=1e-15)
    np.testing.assert_allclose(es.vi, [0.04, 0.25, 0.0625, (np.log(4) / (2 * Z)) ** 2,
                                       (1 / (2 * 1.6448536269514722)) ** 2], rtol=1e-12)


@pytest.mark.parametrize("row,line,column,words", [
    ("a,0.1,0.04,0.2,,,,\n", 2, "vi", "exactly one of vi"),
    ("a,0.1,,,,,,\n", 2, "vi", "exactly one of vi"),
    ("a,,,,0.5,,,\n", 2, "se", "either se or both ci_lb and ci_ub"),
    ("a,,,,0.5,,0.6,0.9\n", 2, "ci_lb,ci_ub", "not inside"),
    ("a,0.1,-1,,,,,\n", 2, "vi", "must be > 0"),
    ("a,x,0.1,,,,,\n", 2, "yi", "not a number"),
    ("a,,,,,,,\n", 2, "yi", "each row needs yi"),
    ("a,0.1,0.01,,0.1,,,\n", 2, "yi,estimate", "not both"),
])
def test_bad_contrast_rows(tmp_path, row, line, column, words):
    p = write(tmp_path, "study,yi,vi,sei,estimate,se,ci_lb,ci_ub\n" + row)
    probs, text = problems(p)
    hit = [q for q in probs if q.row == line and q.column == column]
    assert hit and words in hit[0].message, text
    assert f"line {line}" in text and f"column '{column}'" in text and str(p) in text


def test_measure_column_and_argument(tmp_path):
    p = write(tmp_path, "study,measure,yi,vi\na,SMD,0.1,0.04\nb,MD,2,1\n")
    _, text = problems(p)
    assert "several measures (MD, SMD)" in text
    assert bm.read_csv(p, measure="MD").study == ("b",)
    bad = write(tmp_path, "study,measure,yi,vi\na,SDM,0.1,0.04\n", "bad.csv")
    probs, _ = problems(bad)
    assert probs[0].row == 2 and probs[0].column == "measure" and "did you mean 'SMD'" in probs[0].message


def test_arm_level_without_vocabulary(tmp_path):
    p = write(tmp_path, "study,arm,events,n\na,experimental,3,20\na,control,6,20\nb,experimental,1,30\n"
                        "b,control,4,30\n")
    es = bm.read_csv(p, measure="OR")
    assert es.yi[0] == pytest.approx(np.log(3 * 14 / (17 * 6)), rel=1e-14)
    # other labels: say which is which
    q = write(tmp_path, "study,arm,events,n\na,drug,3,20\na,placebo,6,20\n", "q.csv")
    probs, text = problems(q, measure="OR")
    assert probs[0].column == "arm" and "cannot tell which arm is experimental" in text and "vocabulary.toml" in text
    es2 = bm.read_csv(q, measure="OR", experimental="drug", control="placebo")
    assert es2.yi[0] == pytest.approx(np.log(3 * 14 / (17 * 6)), rel=1e-14)
    _, text = problems(q, measure="OR", experimental="placebo", control="control")
    assert "the control arm 'control' (from experimental=/control=) is not an arm of this file, whose arms are " \
        "'drug', 'placebo'; name the two arms to compare" in text


def test_arm_labels_from_vocabulary_are_named_in_errors(tmp_path):
    (tmp_path / "vocabulary.toml").write_text('[arms]\nexperimental = "drug"\ncontrol = "placebo"\n')
    p = write(tmp_path, "study,arm,events,n\na,drug,3,20\na,plaecbo,6,20\n")
    _probs, text = problems(p, measure="RR")
    assert "the control arm 'placebo' (from " in text and "vocabulary.toml) is not an arm of this file" in text
    assert "the file has 'plaecbo': correct the spelling in the file or in " in text
    (tmp_path / "vocabulary.toml").write_text('[arms]\nexperimental = "drug"\n')
    _, text = problems(p, measure="RR")
    assert "give both experimental and control" in text


def test_arm_level_needs_a_fitting_measure(tmp_path):
    p = write(tmp_path, "study,arm,n,mean,sd\na,experimental,10,5,2\na,control,10,4,2\n")
    _, text = problems(p)
    assert "need an effect measure" in text
    _, text = problems(p, measure="RR")
    assert "does not fit continuous data" in text
    es = bm.read_csv(p, measure="MD")
    assert es.yi[0] == 1.0 and es.vi[0] == pytest.approx(0.8)


def test_timepoints_and_outcomes(tmp_path):
    p = write(tmp_path, "study,outcome,timepoint,m1i,sd1i,n1i,m2i,sd2i,n2i\n"
                        "a,pain,1m,5,2,10,4,2,10\na,pain,3m,5,2,10,3,2,10\nb,pain,1m,6,2,12,4,2,12\n"
                        "a,odi,1m,5,2,10,4,2,10\n")
    _, text = problems(p, measure="MD")
    assert "several outcomes (pain, odi)" in text
    es = bm.read_csv(p, measure="MD", outcome="pain")
    assert es.timepoint == ("1m", "3m", "1m") and es.labels[1] == "a (3m)"
    one = bm.read_csv(p, measure="MD", outcome="pain", timepoint="1m")
    assert one.study == ("a", "b") and one.timepoint is None
    _, text = problems(p, measure="MD", outcome="pain", timepoint="6m")
    assert "column 'timepoint': '6m' is not a timepoint of the file (it has: 1m, 3m)" in text


def test_wide_binary_with_non_events_and_moderators(tmp_path):
    p = write(tmp_path, "study,ai,bi,ci,di,year\na,4,96,8,92,1990\nb,0,50,0,50,1995\nc,2,18,5,15,2001\n",
              "trials.csv")
    es = bm.read_csv(p, measure="RR")
    # metafor's escalc default keeps the double-zero study b with 0.5 added: log RR = log(0.5/50.5 / (0.5/50.5)) = 0
    assert es.study == ("a", "b", "c") and es.yi[1] == 0.0
    assert es.notes == ("Zero cells (metafor's escalc defaults add = 1/2, to = 'only0', drop00 = FALSE): 0.5 added "
                        "to every cell of the 1 study with a zero cell (b); 1 double-zero study (b) kept",)
    assert es.moderators["year"] == (1990, 1995, 2001)
    assert es.arms["study"].tolist() == ["a", "b", "c"]
    bad = write(tmp_path, "study,ai,n1i,ci,n2i\na,12,10,1,10\n", "bad.csv")
    probs, _ = problems(bad, measure="RR")
    assert probs[0].row == 2 and probs[0].column == "ai" and "exceed" in probs[0].message


def test_explicit_type(tmp_path):
    p = write(tmp_path, "study,yi,vi\na,0.1,0.01\n")
    assert bm.read_csv(p, type="contrasts").k == 1
    with pytest.raises(ValueError, match="did you mean 'contrasts'"):
        bm.read_csv(p, type="contrast")


def test_missing_rows_are_left_out_with_a_note(tmp_path):
    p = write(tmp_path, "study,arm,n,mean,sd,status,missing_reason\n"
                        "a,experimental,10,5,2,,\na,control,10,4,2,,\n"
                        "b,experimental,10,,,missing,in a figure only\nb,control,10,,,missing,in a figure only\n")
    es = bm.read_csv(p, measure="MD")
    assert es.study == ("a",) and es.notes[0] == "b: mean, sd missing (in a figure only), left out"


def test_seed_data_still_reads():
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    es = bm.read_csv(root / "data" / "normand1999" / "continuous_arms.csv", measure="SMD")
    assert es.k == 9 and "'specialist' (experimental)" in es.source
    with pytest.raises(DataError, match="no study has complete data"):
        bm.read_csv(root / "data" / "viderman2023" / "continuous_arms.csv", measure="SMD", outcome="pain")


def test_every_csv_example_in_the_data_format_doc_reads(tmp_path):
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[1] / "docs" / "data-format.md").read_text()
    import re
    blocks = re.findall(r"```csv\n(.*?)```", doc, flags=re.S)
    assert len(blocks) == 5
    kwargs = [{"measure": "MD", "experimental": "specialist", "control": "routine"}, {"measure": "MD"},
              {"measure": "RR"}, {}, {}]
    for i, (text, kw) in enumerate(zip(blocks, kwargs)):
        es = bm.read_csv(write(tmp_path, text, f"example{i}.csv"), **kw)
        assert es.k == (1 if i == 0 else 2)  # the first example is one study's two arms


# --- issue 19: one rule for every shape; workbooks ------------------------------------------------------

ARMS_DZ = ("study,arm,events,n\na,experimental,4,100\na,control,8,100\nb,experimental,0,50\nb,control,0,50\n"
           "c,experimental,2,20\nc,control,5,20\nd,experimental,1,40\nd,control,0,40\n")
WIDE_DZ = "study,ai,n1i,ci,n2i\na,4,100,8,100\nb,0,50,0,50\nc,2,20,5,20\nd,1,40,0,40\n"


def test_the_same_trials_give_the_same_effects_in_every_shape(tmp_path):
    """Arm rows and one row per study: the same yi, vi, studies and zero-cell note (metafor's rule: the
    double-zero study b kept with 0.5 added), through bm.read_csv and through the spec pipeline."""
    from bayesmeta.pipeline.study_level import contrasts_from_arms, read_arm_table

    arms, wide = write(tmp_path, ARMS_DZ, "arms.csv"), write(tmp_path, WIDE_DZ, "wide.csv")
    for m in ("RR", "OR", "RD"):
        ea, ew = bm.read_csv(arms, measure=m), bm.read_csv(wide, measure=m)
        assert ea.study == ew.study == ("a", "b", "c", "d")
        np.testing.assert_array_equal(ea.yi, ew.yi)
        np.testing.assert_array_equal(ea.vi, ew.vi)
        assert ea.notes == ew.notes and "1 double-zero study (b) kept" in ea.notes[-1]
        pa = contrasts_from_arms(read_arm_table(arms), "all", m)
        pw = contrasts_from_arms(read_arm_table(wide), "all", m)
        np.testing.assert_array_equal(pa[0], ea.yi)
        np.testing.assert_array_equal(pw[0], ea.yi)
    # metafor: escalc("RR", ai = 0, n1i = 50, ci = 0, n2i = 50) keeps b with yi = log((0.5/51) / (0.5/51)) = 0
    assert bm.read_csv(wide, measure="RR").yi[1] == 0.0
    # RevMan's rule with its preset: the same 0.5, the double zero left out of RR
    pr = contrasts_from_arms(read_arm_table(wide), "all", "RR", preset="revman5")
    assert np.isnan(pr[0][1]) and np.isfinite(np.delete(pr[0], 1)).all()


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_workbooks_are_read_as_their_csv_export(tmp_path, suffix):
    text = "study,arm,n,mean,sd,source\na,experimental,40,3.1,1.9,T1\na,control,41,3.4,2.0,T1\n" \
           "b,experimental,25,NR,1.7,T2\nb,control,24,3.0,1.8,T2\nc,experimental,60,3.6,2.2,T3\nc,control,58,3.5,2.1,T3\n"
    csv_path = write(tmp_path, text, "arms.csv")
    book = tmp_path / f"arms{suffix}"
    pd.read_csv(csv_path, dtype=object, keep_default_na=False).to_excel(
        book, index=False, engine="openpyxl" if suffix == ".xlsx" else "odf")
    a, b = bm.read_csv(csv_path, measure="SMD"), bm.read_csv(book, measure="SMD")
    assert a.study == b.study == ("a", "c")
    np.testing.assert_array_equal(a.yi, b.yi)
    assert b.notes[0] == "b: mean missing (mean 'NR' in the file), left out"
    # a problem names the sheet's row as the line, as for the CSV
    bad = text.replace("41,3.4,2.0", "41,3.4,-2.0")
    pd.read_csv(io.StringIO(bad), dtype=object, keep_default_na=False).to_excel(
        book, index=False, engine="openpyxl" if suffix == ".xlsx" else "odf")
    _, msg = problems(book, measure="SMD")
    assert f"arms{suffix}, line 3, column 'sd': must be > 0, got -2" in msg
