"""Validated tables: every kind of bad input gives one error naming file, line and column."""
import hashlib
from pathlib import Path

import pytest

from bayesmeta.errors import DataError
from bayesmeta.data.tables import (
    Vocabulary,
    read_binary_arms,
    read_continuous_arms,
    read_contrasts,
    read_published,
    read_studies,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "viderman2023"
VOC = Vocabulary(frozenset({"pain", "odi"}), frozenset({"1m", "3m"}), experimental="US", control="FL")
HEAD = "study,outcome,timepoint,arm,n,mean,sd,source\n"
GOOD = "a,pain,1m,US,20,3.1,1.2,Doc T1\na,pain,1m,FL,21,3.4,1.1,Doc T1\n"


def write(tmp_path, text, name="arms.csv", mode="w"):
    p = tmp_path / name
    if mode == "wb":
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def problems(fn, path, **kw):
    with pytest.raises(DataError) as e:
        fn(path, **kw)
    return e.value.problems, str(e.value)


def test_good_file_reads_and_is_immutable(tmp_path):
    p = write(tmp_path, HEAD + GOOD)
    before = hashlib.sha256(p.read_bytes()).hexdigest()
    t = read_continuous_arms(p, vocabulary=VOC)
    assert t.sha256 == before == hashlib.sha256(p.read_bytes()).hexdigest()  # input untouched
    f = t.frame
    f.loc[0, "n"] = 999
    assert t.frame.loc[0, "n"] == 20  # the table does not change
    w = t.complete()
    assert list(w[["n_e", "n_c"]].iloc[0]) == [20, 21]
    with pytest.raises(AttributeError):
        t.kind = "x"


@pytest.mark.parametrize(
    "body,line,column,words",
    [
        ("a,pain,1m,US,abc,3.1,1.2,D\na,pain,1m,FL,21,3.4,1.1,D\n", 2, "n", "not a whole number"),
        ("a,pain,1m,US,20,3.1,0,D\na,pain,1m,FL,21,3.4,1.1,D\n", 2, "sd", "must be > 0"),
        ("a,pain,1m,US,20,3.1,-1,D\na,pain,1m,FL,21,3.4,1.1,D\n", 2, "sd", "must be > 0"),
        ("a,pain,1m,US,0,3.1,1,D\na,pain,1m,FL,21,3.4,1.1,D\n", 2, "n", ">= 1"),
        ("a,pain,1m,US,2.5,3.1,1,D\na,pain,1m,FL,21,3.4,1.1,D\n", 2, "n", "whole number"),
        ("a,pain,1m,US,20,3.1,1.2,D\n", 2, "arm", "arm 'FL' is missing"),
        (GOOD + "a,pain,1m,US,20,3.0,1.2,D\n", 4, "study,outcome,timepoint,arm", "duplicate key"),
        ("a,sleep,1m,US,20,3.1,1.2,D\na,sleep,1m,FL,21,3.4,1.1,D\n", 2, "outcome", "unknown outcome 'sleep'"),
        ("a,pain,6w,US,20,3.1,1.2,D\na,pain,6w,FL,21,3.4,1.1,D\n", 2, "timepoint", "unknown timepoint '6w'"),
        ("a,pain,1m,US,20,nan,1.2,D\na,pain,1m,FL,21,3.4,1.1,D\n", 2, "mean", "'nan' is not a number"),
        ("a,pain,1m,us,20,3.1,1.2,D\na,pain,1m,FL,21,3.4,1.1,D\nb,pain,1m,US,20,3.1,1.2,D\nb,pain,1m,FL,21,3,1,D\n",
         2, "arm", "differs from 'US', used on other rows, only in case"),
        ("a,pain,1m,US,20,3.1,1.2,\na,pain,1m,FL,21,3.4,1.1,D\n", 2, "source", "required"),
    ],
)
def test_bad_continuous_rows(tmp_path, body, line, column, words):
    p = write(tmp_path, HEAD + body)
    probs, text = problems(read_continuous_arms, p, vocabulary=VOC)
    hit = [q for q in probs if q.row == line and q.column == column]
    assert hit, text
    assert words in hit[0].message
    assert str(p) in text and f"line {line}" in text and f"column '{column}'" in text


def test_other_arms_and_missing_spellings_are_left_out_with_notes(tmp_path):
    """issue 19: a third arm is left out with a note (never an error per row); NA, n/a, -, NR and empty
    cells are missing values (the study left out, the reason says what the cell held)."""
    body = (GOOD + "a,pain,1m,XX,20,3.1,1.2,D\n"
            "b,pain,1m,US,20,NR,1.2,D\nb,pain,1m,FL,21,-,1.1,D\nc,pain,1m,US,20,n/a,,D\nc,pain,1m,FL,21,NA,1,D\n")
    t = read_continuous_arms(write(tmp_path, HEAD + body), vocabulary=VOC)
    assert t.notes == ("arm 'XX' (1 row: a) left out: the analysis compares 'US' (experimental) with 'FL' (control)",)
    assert list(t.complete()["study"]) == ["a"]
    miss = t.missing()
    assert set(miss["study"]) == {"b", "c"}
    assert set(miss.loc[miss["study"] == "b", "reason"]) == {"mean 'NR' in the file", "mean '-' in the file"}
    assert set(miss.loc[miss["study"] == "c", "reason"]) == {"mean 'n/a'; sd empty in the file", "mean 'NA' in the file"}


def test_missing_column_and_all_problems_at_once(tmp_path):
    p = write(tmp_path, "study,outcome,timepoint,arm,n,mean,source\na,pain,1m,US,x,3,D\na,pain,1m,FL,2,3,D\n")
    probs, text = problems(read_continuous_arms, p, vocabulary=VOC)
    assert any(q.column == "sd" and "required column" in q.message for q in probs)
    assert any(q.column == "n" and q.row == 2 for q in probs)  # reported together


def test_binary_events_exceed_n(tmp_path):
    p = write(tmp_path, "study,outcome,arm,events,n,source\na,pain,US,12,10,D\na,pain,FL,-1,10,D\n")
    probs, _ = problems(read_binary_arms, p, vocabulary=Vocabulary(frozenset(), frozenset(), "US", "FL"))
    assert any(q.row == 2 and q.column == "events" and "exceed" in q.message for q in probs)
    assert any(q.row == 3 and q.column == "events" and ">= 0" in q.message for q in probs)


@pytest.mark.parametrize(
    "content,words",
    [(None, "file not found"), (b"", "file is empty"), (b"\xff\xfe\x00bad", "not UTF-8"),
     (b"study,outcome\n\"a,b\nc", "fields")],
)
def test_unreadable_files(tmp_path, content, words):
    p = tmp_path / "x.csv"
    if content is not None:
        p.write_bytes(content)
    _, text = problems(read_continuous_arms, p)
    assert words in text and str(p) in text


def test_missing_rows_need_a_reason(tmp_path):
    p = write(tmp_path, "study,outcome,timepoint,arm,n,mean,sd,source,status,missing_reason\n"
                        "a,pain,1m,US,20,,,D,missing,\na,pain,1m,FL,20,,,D,missing,in figure only\n")
    probs, _ = problems(read_continuous_arms, p, vocabulary=VOC)
    assert [(q.row, q.column) for q in probs] == [(2, "missing_reason")]


def test_contrasts_and_published_checks(tmp_path):
    p = write(tmp_path, "study,outcome,timepoint,measure,estimate,ci_lb,ci_ub,source\n"
                        "a,pain,1m,SMD,0.5,0.6,0.9,D\nb,pain,1m,SMD,0.5,,,D\n", "c.csv")
    probs, _ = problems(read_contrasts, p, vocabulary=VOC)
    assert {(q.row, q.column) for q in probs} == {(2, "ci_lb,ci_ub"), (3, "se")}


def test_seed_tables_are_complete_with_sources():
    studies = read_studies(SEED / "studies.csv").frame
    # Viderman 2023 section 3: eight RCTs, 642 patients, 321 per arm (Table 1)
    assert len(studies) == 8
    assert studies["n_experimental"].sum() == 321 and studies["n_control"].sum() == 321
    assert studies["n_total"].sum() == 642
    pub = read_published(SEED / "published.csv").frame
    assert set(pub["analysis"]) == {"pain_overall", "odi_overall", "odi_2w", "complications_overall",
                                    "pain_1m", "odi_1m", "vasovagal", "headache", "flushing"}
    for name in ("studies.csv", "published.csv", "risk_of_bias.csv", "continuous_arms.csv", "binary_arms.csv"):
        import pandas as pd
        f = pd.read_csv(SEED / name, dtype=str, keep_default_na=False)
        assert (f["source"].str.strip() != "").all(), name
    cont = read_continuous_arms(SEED / "continuous_arms.csv")
    miss = cont.missing()
    assert len(miss) == 80 and set(miss["field"]) == {"mean", "sd"}  # no value was invented
    assert cont.complete().empty
    binary = read_binary_arms(SEED / "binary_arms.csv")
    # the double-zero studies stated in section 3.2.3
    assert set(binary.complete()["study"]) == {"hazra2016", "soneji2016"}
    assert (binary.complete()[["events_e", "events_c"]] == 0).all().all()
