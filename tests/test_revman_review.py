"""A whole RevMan review reanalysed: the spec generated per analysis and the options (the end-to-end run of
the command, twice, is in test_revman_review_e2e.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

import bayesmeta as bm
from bayesmeta.data.revman import Subgroup
from bayesmeta.errors import DataError
from bayesmeta.pipeline.review import direction, spec_for_review, write_review_data
from bayesmeta.pipeline.spec import spec_from_dict

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data" / "fleiss1993"


@pytest.fixture(scope="module")
def rev():
    return bm.read_revman(DATA / "Fleiss1993.rm5")


def _spec(rev, tmp_path, analyses=None, with_notes=False, **kw):
    analyses = analyses or rev.analyses
    (tmp_path / "data").mkdir(exist_ok=True)
    units = write_review_data(analyses, tmp_path / "data")
    opts = dict(lower_is_better=None, question=None, margins=[], tau_priors=[], mu_priors=[], seed=1,
                sample=False, draws=100, chains=2)
    opts.update(kw)
    raw, notes = spec_for_review(rev, units, tmp_path / "data", tmp_path, **opts)
    return (raw, notes) if with_notes else raw


def test_direction_from_favours_labels(rev):
    lib, why = direction(rev["1.1"])
    assert lib is True and "Favours experimental" in why
    flipped = dataclasses.replace(rev["1.1"], favours_left="Favours control", favours_right="Favours aspirin")
    assert direction(flipped)[0] is False
    assert direction(dataclasses.replace(rev["1.1"], favours_left="", favours_right=""))[0] is None
    assert direction(dataclasses.replace(rev["1.1"], favours_left="Lower", favours_right="Higher"))[0] is None


def test_spec_one_block_per_analysis(rev, tmp_path):
    raw = _spec(rev, tmp_path)
    assert [b["id"] for b in raw["study_level"]] == ["a1_1", "a1_2"]
    b1, b2 = raw["study_level"]
    assert (b1["measure"], b1["lower_is_better"], b1["question"], b1["outcome"]) == ("OR", True, "superiority", "1.1")
    assert b2["measure"] == "SMD_revman" and b2["file"] == "analysis_1_2.csv"
    assert raw["analysis"]["preset"] == "revman5" and raw["analysis"]["data"] == "data"
    assert set(raw["mu_priors"]) == {"OR", "SMD_revman"} and "outcome" not in raw  # no margin: study rows only
    spec = spec_from_dict(raw, tmp_path / "spec.toml")  # the toolkit's own validation
    assert len(spec.study_level) == 2 and not spec.outcomes
    rows = pd.read_csv(tmp_path / "data" / "analysis_1_1.csv")
    isis = rows[(rows.study == "ISIS-2") & (rows.arm == "experimental")].iloc[0]
    assert (isis.events, isis.n) == (1570, 8587)
    assert "Fleiss1993.rm5 (line 453, <DICH_DATA>), analysis 1.1" == isis.source
    cont = pd.read_csv(tmp_path / "data" / "analysis_1_2.csv")
    assert list(cont.columns) == ["study", "outcome", "arm", "n", "mean", "sd", "source"]


def test_margins_and_priors_per_outcome(rev, tmp_path):
    raw = _spec(rev, tmp_path, analyses=(rev["1.1"],), margins=[1.1])
    b = raw["study_level"][0]
    assert b["question"] == "noninferiority" and b["primary_margin"] == 1.1
    assert "sceptical" in raw["mu_priors"]["OR"]
    # with a margin, RevMan's stored pooled result is also the published result of an [[outcome]] block
    assert [(o["id"], o["mu_priors"], o["margins"]) for o in raw["outcome"]] == [("a1_1_revman", "OR_published", [1.1])]
    assert raw["mu_priors"]["OR_published"]["reference"]["prior"] == "flat()"
    row = pd.read_csv(tmp_path / "data" / "published.csv").iloc[0]
    assert (row.analysis, row.measure, row.estimate, row.ci_lb, row.k_studies, row.participants) == (
        "a1_1_revman", "OR", 0.8968655609130709, 0.8405144008917793, 7, 28003)
    assert row.source == "Fleiss1993.rm5 (line 441, <DICH_OUTCOME>), analysis 1.1"
    spec = spec_from_dict(raw, tmp_path / "spec.toml")
    assert [o.id for o in spec.outcomes] == ["a1_1_revman"] and spec.outcomes[0].margins == (1.1,)
    with pytest.raises(DataError) as e:
        _spec(rev, tmp_path, margins=[1.1])  # an OR and an SMD: one margin cannot fit both
    assert e.value.problems[0].column == "--margin"


def test_direction_required_when_the_file_does_not_say(tmp_path):
    pkg = bm.read_revman(DATA / "Fleiss1993.zip")  # the data package stores no favours labels
    with pytest.raises(DataError) as e:
        _spec(pkg, tmp_path)
    p = e.value.problems[0]
    assert p.column == "--lower-is-better" and "1.1 Aspirin" in p.message and "1.2 Mental" in p.message
    raw = _spec(pkg, tmp_path, lower_is_better=True)
    assert all(b["lower_is_better"] for b in raw["study_level"])


def test_subgroups_sharing_studies_are_analysed_apart(rev, tmp_path):
    """Subgroups holding the same studies (time points of the same patients) become one block each,
    with the subgroup as the time point; RevMan's total would count the patients twice."""
    a = rev["1.1"]
    rows = [dataclasses.replace(s, subgroup_no=g, subgroup=name) for g, name in ((1, "1 month"), (2, "1 year"))
            for s in a.studies]
    rows[0] = dataclasses.replace(rows[0], events_1=float("nan"))  # MRC-1 at 1 month: not reported
    subs = (Subgroup(1, "1 month"), Subgroup(2, "1 year"))
    b = dataclasses.replace(a, studies=tuple(rows), subgroups=subs,
                            settings=dataclasses.replace(a.settings, subgroups=True))
    review = dataclasses.replace(rev, analyses=(b,))
    raw, notes = _spec(review, tmp_path, with_notes=True)
    assert [(x["id"], x["timepoint"]) for x in raw["study_level"]] == [("a1_1_s1", "1 month"), ("a1_1_s2", "1 year")]
    assert notes[0] == ("1.1 Aspirin for Preventing Death after Myocardial Infarction, subgroup 1 month (OR; Aspirin "
                        "vs Control): MRC-1 (1 month): events or totals missing; left out")
    assert "lower_is_better = true from RevMan's labels: left 'Favours experimental'" in notes[1]
    data = pd.read_csv(tmp_path / "data" / "analysis_1_1.csv")
    assert "timepoint" in data and len(data) == 2 * 13
    spec = spec_from_dict(raw, tmp_path / "spec.toml")
    assert [x.timepoint for x in spec.study_level] == ["1 month", "1 year"]


def test_cli_review_option_errors(tmp_path):
    from click.testing import CliRunner

    from bayesmeta.cli import main

    f = str(DATA / "Fleiss1993.rm5")
    res = CliRunner().invoke(main, ["analyse", f, "--measure", "RR", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--measure" in res.output and "does not apply to a RevMan review" in res.output
    res = CliRunner().invoke(main, ["analyse", f, "--outcome", "mortality", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "option '--outcome'" in res.output and "it has: 1.1" in res.output
    res = CliRunner().invoke(main, ["analyse", str(DATA / "Fleiss1993.zip"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "say which direction is better" in res.output
    assert not (tmp_path / "o").exists()
    res = CliRunner().invoke(main, ["analyse", f, "--outcome", "1.1", "--question", "noninferiority",
                                    "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "option '--margin'" in res.output and "required for question" in res.output
    # an ordinary data file still needs --measure, and has no comparisons
    plain = Path(__file__).resolve().parent / "data" / "raudenbush1985.csv"
    res = CliRunner().invoke(main, ["analyse", str(plain), "--higher-is-better", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "option '--measure'" in res.output and "give the effect measure" in res.output
    res = CliRunner().invoke(main, ["analyse", str(plain), "--measure", "SMD", "--comparison", "1", "--out",
                                    str(tmp_path / "o")])
    assert res.exit_code == 2 and "option '--comparison'" in res.output


def test_bayes_factor_words_and_odds():
    """BF = posterior odds / prior odds; Jeffreys' categories as worded by Lee & Wagenmakers (2013)."""
    import math

    from bayesmeta.pipeline.review import _bf_words

    assert _bf_words(math.log(27.4)) == "strong evidence for (BF 27.4)"
    assert _bf_words(math.log(1 / 6)) == "moderate evidence against (BF 0.167)"
    assert _bf_words(math.log(2)) == "anecdotal evidence for (BF 2)"
    assert _bf_words(math.log(150)) == "extreme evidence for (BF 150)"
    assert _bf_words(float("nan")) == ""


def test_outcomes_that_cannot_be_pooled_are_skipped_with_a_note(tmp_path):
    """An analysis with fewer than 2 estimable studies (here: double zeros under RevMan's rule) is not
    turned into a block that would stop the whole review; the note says why."""
    syn = bm.read_revman(DATA.parent / "revman_synthetic" / "Synthetic.rm5")
    a = syn["1.6"]  # MH RD, 3 studies
    rows = tuple(dataclasses.replace(s, events_1=0.0, events_2=0.0) for s in a.studies)
    rr = dataclasses.replace(a, settings=dataclasses.replace(a.settings, measure="RR"), studies=rows)
    review = dataclasses.replace(syn, analyses=(syn["1.1"], rr))
    raw, notes = _spec(review, tmp_path, with_notes=True)
    assert [b["id"] for b in raw["study_level"]] == ["a1_1"]
    assert any("0 estimable studies for RR" in n and "no events in either arm" in n for n in notes)


def test_summary_row_from_the_reports_answers():
    """Where the spec has an [[outcome]] block for RevMan's result, the summary row is the report's
    primary (the answers Dataset of /work/notes/INTERFACE.md), back-transformed; hand-made Dataset."""
    import math

    import numpy as np
    import xarray as xr

    from bayesmeta.pipeline.review import _from_answers

    deps = ["primary", "tau_prior:halfcauchy"]
    val = lambda *v: (("outcome", "departure"), np.array([v]))
    ds = xr.Dataset(
        {"median": val(math.log(0.9), math.log(0.92)), "lb95": val(math.log(0.81), math.log(0.8)),
         "ub95": val(math.log(1.0), math.log(1.05)), "largest_plausible": val(math.log(0.98), math.log(1.03)),
         "p_decision": val(0.998, 0.93), "bf_decision": val(459.0, 12.0),
         "flips": (("outcome", "departure"), np.array([[False, True]]))},
        coords={"outcome": ["a1_1_revman"], "departure": deps, "question": ("outcome", ["noninferiority"]),
                "margin": ("outcome", [math.log(1.1)])},
    )
    row = _from_answers(ds, "a1_1_revman", math.exp)
    assert row["posterior_median"] == pytest.approx(0.9) and row["posterior_interval"] == "[0.81, 1]"
    assert row["question"] == "noninferiority: P(no worse than 1.1)" and row["p_decision"] == 0.998
    assert row["largest_plausible"] == pytest.approx(0.98)
    assert row["bayes_factor"] == "extreme evidence for (BF 459)"
    assert row["conclusion_changes"] == "tau_prior:halfcauchy"


def test_review_table_in_words_with_the_decision_key():
    """The report opens a whole review with one row per outcome; its headers are words and the
    decisive column is the key (kept on screen, tests/test_browser.py)."""
    from bayesmeta.report.columns import column_words
    from bayesmeta.report.sections import REVIEW_COLUMNS, review_table

    row = {"analysis": "1.1", "outcome": "Death", "subgroup": "", "k": 7, "measure": "OR",
           "revman_model": "MH, fixed", "revman_estimate": 0.8969, "revman_ci": "[0.8, 1.0]",
           "revman_source": "stored by RevMan", "primary_analysis": "the study rows (exact posterior, primary priors)",
           "posterior_median": 0.9, "posterior_interval": "[0.8, 1.02]", "question": "superiority: P(benefit)",
           "p_decision": 0.97, "largest_plausible": 1.0, "bayes_factor": "12 (strong evidence for)",
           "conclusion_changes": "none"}
    t = review_table(pd.DataFrame([row]))
    assert list(t.frame.columns) == list(REVIEW_COLUMNS.values()) and t.key == "P(decision)"
    assert all(column_words(c) == c for c in t.frame.columns)  # already words
    assert "stored by RevMan" in t.caption and "the study rows" in t.caption
