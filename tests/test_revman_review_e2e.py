"""A whole RevMan review through `bayesmeta analyse` and repeated from its written spec (about 1 to 2 min:
two full reports; heavy, so `slow`: `./dev test -m slow tests/test_revman_review_e2e.py`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DATA = Path(__file__).resolve().parents[1] / "data" / "fleiss1993"


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
    import json

    prov = (out / "provenance.json").read_text()  # the review file's hash beside the data written from it
    assert "e9b5e4a76aabb1564520a6f4de77f3c53346f374ad46923720e1c959940449b9" in prov
    assert json.loads(prov)
    res2 = CliRunner().invoke(main, ["reanalyze", str(out / "spec.toml"), "--quiet"])
    assert res2.exit_code == 0, res2.output
    assert (out / "data" / "analysis_1_2.csv").is_file()  # the data inside the report survive a rerun
