"""A whole RevMan review reanalysed: the spec generated per analysis, the options, and one end-to-end run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

import bayesmeta as bm
from bayesmeta.errors import DataError
from bayesmeta.pipeline.review import direction, spec_for_review, write_review_data
from bayesmeta.pipeline.spec import spec_from_dict

DATA = Path(__file__).resolve().parents[1] / "data" / "fleiss1993"


@pytest.fixture(scope="module")
def rev():
    return bm.read_revman(DATA / "Fleiss1993.rm5")


def _spec(rev, tmp_path, analyses=None, **kw):
    analyses = analyses or rev.analyses
    (tmp_path / "data").mkdir(exist_ok=True)
    write_review_data(analyses, tmp_path / "data")
    opts = dict(lower_is_better=None, question=None, margins=[], tau_priors=[], mu_priors=[], seed=1,
                sample=False, draws=100, chains=2)
    opts.update(kw)
    return spec_for_review(rev, analyses, tmp_path / "data", tmp_path, **opts)


@pytest.mark.unit
def test_direction_from_favours_labels(rev):
    lib, why = direction(rev["1.1"])
    assert lib is True and "Favours experimental" in why
    flipped = dataclasses.replace(rev["1.1"], favours_left="Favours control", favours_right="Favours aspirin")
    assert direction(flipped)[0] is False
    assert direction(dataclasses.replace(rev["1.1"], favours_left="", favours_right=""))[0] is None
    assert direction(dataclasses.replace(rev["1.1"], favours_left="Lower", favours_right="Higher"))[0] is None


@pytest.mark.unit
def test_spec_one_block_per_analysis(rev, tmp_path):
    raw = _spec(rev, tmp_path)
    assert [b["id"] for b in raw["study_level"]] == ["a1_1", "a1_2"]
    b1, b2 = raw["study_level"]
    assert (b1["measure"], b1["lower_is_better"], b1["question"], b1["outcome"]) == ("OR", True, "superiority", "1.1")
    assert b2["measure"] == "SMD_revman" and b2["file"] == "analysis_1_2.csv"
    assert raw["analysis"]["preset"] == "revman5" and raw["analysis"]["data"] == "data"
    assert set(raw["mu_priors"]) == {"OR", "SMD_revman"}
    spec = spec_from_dict(raw, tmp_path / "spec.toml")  # the toolkit's own validation
    assert len(spec.study_level) == 2
    rows = pd.read_csv(tmp_path / "data" / "analysis_1_1.csv")
    isis = rows[(rows.study == "ISIS-2") & (rows.arm == "experimental")].iloc[0]
    assert (isis.events, isis.n) == (1570, 8587)
    assert "Fleiss1993.rm5 (line 453, <DICH_DATA>), analysis 1.1" == isis.source
    cont = pd.read_csv(tmp_path / "data" / "analysis_1_2.csv")
    assert list(cont.columns) == ["study", "outcome", "arm", "n", "mean", "sd", "source"]


@pytest.mark.unit
def test_margins_and_priors_per_outcome(rev, tmp_path):
    raw = _spec(rev, tmp_path, analyses=(rev["1.1"],), margins=[1.1])
    b = raw["study_level"][0]
    assert b["question"] == "noninferiority" and b["primary_margin"] == 1.1
    assert "sceptical" in raw["mu_priors"]["OR"]
    with pytest.raises(DataError) as e:
        _spec(rev, tmp_path, margins=[1.1])  # an OR and an SMD: one margin cannot fit both
    assert e.value.problems[0].column == "--margin"


@pytest.mark.unit
def test_direction_required_when_the_file_does_not_say(tmp_path):
    pkg = bm.read_revman(DATA / "Fleiss1993.zip")  # the data package stores no favours labels
    with pytest.raises(DataError) as e:
        _spec(pkg, tmp_path)
    p = e.value.problems[0]
    assert p.column == "--lower-is-better" and "1.1 Aspirin" in p.message and "1.2 Mental" in p.message
    raw = _spec(pkg, tmp_path, lower_is_better=True)
    assert all(b["lower_is_better"] for b in raw["study_level"])


@pytest.mark.e2e
@pytest.mark.slow
def test_cli_analyse_review_and_repeat(tmp_path):
    """The whole path, twice (about 1 to 2 min: two full reports): run with
    `pytest -m slow tests/test_revman_review.py`."""
    from click.testing import CliRunner

    from bayesmeta.cli import main

    out = tmp_path / "rep"
    res = CliRunner().invoke(main, ["analyse", str(DATA / "Fleiss1993_CR.csv"), "--outcome", "1.2",
                                    "--higher-is-better", "--no-sample", "--quiet", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for f in ("report.md", "spec.toml", "data/analysis_1_2.csv", "review_summary.csv", "review_summary.md",
              "revman_check.csv", "provenance.json"):
        assert (out / f).is_file(), f
    s = pd.read_csv(out / "review_summary.csv")
    assert list(s.analysis.astype(str)) == ["1.2"]
    row = s.iloc[0]
    assert row.revman_estimate == -0.70938839 and row.revman_source == "stored by RevMan"
    # higher is better: a negative MD is harm, so P(benefit) is small and the harmful bound is the lower one
    assert row.p_decision < 0.5 and row.largest_plausible < row.posterior_median
    res2 = CliRunner().invoke(main, ["reanalyze", str(out / "spec.toml"), "--quiet"])
    assert res2.exit_code == 0, res2.output
    assert (out / "data" / "analysis_1_2.csv").is_file()  # the data inside the report survive a rerun


@pytest.mark.unit
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
