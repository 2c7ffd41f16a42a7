"""A whole RevMan review through `bayesmeta analyse` and repeated from its written spec (two full reports
without sampling: about 20 s on 2 quiet cores, so it runs in CI)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parents[1] / "data" / "fleiss1993"


def test_cli_analyse_review_and_repeat(tmp_path):
    """The whole path, twice: analyse the review's CSV export, then reanalyze the spec it wrote."""
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
    # the report opens with the review-level table (first screen), in words
    md = (out / "report.md").read_text()
    summary = md.split("## 1. Summary", 1)[1].split("\n## ", 1)[0]
    assert "| Analysis | Outcome |" in summary and "RevMan's estimate" in summary and "| 1.2 |" in summary
    import json

    prov = (out / "provenance.json").read_text()  # the review file's hash beside the data written from it
    assert "e9b5e4a76aabb1564520a6f4de77f3c53346f374ad46923720e1c959940449b9" in prov
    assert json.loads(prov)
    res2 = CliRunner().invoke(main, ["reanalyze", str(out / "spec.toml"), "--quiet"])
    assert res2.exit_code == 0, res2.output
    assert (out / "data" / "analysis_1_2.csv").is_file()  # the data inside the report survive a rerun
