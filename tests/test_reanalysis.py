"""The main job end to end on the seed spec (published-results path), the report folder written
all or nothing, and the CLI's exit codes."""
import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from bayesmeta.cli import main
from bayesmeta.pipeline.reanalysis import reanalyse
from bayesmeta.report import writer
from bayesmeta.report.sections import console_summary
from bayesmeta.report.writer import ReportNotWritten, write

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "models" / "viderman2023.toml"
DATA = ROOT / "data" / "viderman2023"


def _hashes(folder=DATA):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _mini_spec(folder: Path, declare_missing: bool = True) -> Path:
    """The seed spec cut to one published outcome and one study-level block (fast CLI tests)."""
    import tomllib

    from bayesmeta.pipeline.spec import to_toml

    raw = tomllib.loads(SPEC.read_text())
    raw["analysis"]["data"] = str(DATA)
    raw["outcome"] = [o for o in raw["outcome"] if o["id"] == "odi_2w"]
    raw["study_level"] = raw["study_level"][:1]
    raw["study_level"][0]["expected_missing"] = declare_missing
    p = folder / "mini.toml"
    p.write_text(to_toml(raw))
    return p


@pytest.fixture(scope="module")
def analysis():
    before = _hashes()
    r = reanalyse(SPEC)
    assert _hashes() == before  # input data are never modified
    return r


@pytest.fixture(scope="module")
def report(analysis, tmp_path_factory):
    return write(analysis, tmp_path_factory.mktemp("report") / "viderman2023")


def test_report_files(report):
    out = report.out
    for name in ("report.md", "report.html", "posteriors.nc", "provenance.json",
                 "tables/published_checks.csv", "tables/prior_sensitivity.csv",
                 "tables/odi_overall_unit_of_analysis.csv", "tables/missing_study_values.csv",
                 "figures/odi_overall_forest.png", "figures/odi_overall_noninferiority.png",
                 "figures/pain_overall_sensitivity.png"):
        assert (out / name).exists(), name
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "<img src='figures" not in html  # self-contained
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed"] == 20231118 and len(prov["data_sha256"]) == 64 and prov["versions"]["pymc"]
    # input paths relative to the spec's folder: the record does not depend on where the clone lies
    assert prov["inputs"][SPEC.name] == hashlib.sha256(SPEC.read_bytes()).hexdigest()
    assert prov["inputs"]["../data/viderman2023/published.csv"] == _hashes()["published.csv"]
    assert prov["expected_missing"] == ["pain_study_level", "odi_study_level", "complications_study_level"]
    md = (out / "report.md").read_text()
    assert "Methods: the primary analysis" in md and "never invented" in md
    assert not list(out.parent.glob(".viderman2023.*"))  # no temporary folder left


def test_reference_prior_reproduces_the_published_likelihood(analysis):
    # flat prior: P(SMD > 0) = Phi(est / SE). The printed 0.13 [-0.00, 0.25] is read by one rule (issue 16):
    # the centre of the (estimate, SE) set consistent with every printed digit, which lies within half a
    # unit of the last digit of 0.13 and of the SE 0.25 / (2 * 1.96) of the printed CI
    o = next(o for o in analysis.outcomes if o.id == "odi_overall")
    est, se = o.estimate, o.se
    assert abs(est - 0.13) <= 0.005 and abs(se - 0.25 / (2 * stats.norm.ppf(0.975))) <= 0.01 / (2 * 1.96)
    ref = o.reference_row()
    assert ref["prior"] == "reference"
    assert ref["p_harm"] == pytest.approx(stats.norm.cdf(est / se), abs=1e-6)
    assert ref["p_noninferior@0.2"] == pytest.approx(stats.norm.cdf((0.2 - est) / se), abs=1e-6)
    # the unit-of-analysis correction widens the interval: P(harm) falls
    assert o.reference_row(o.main_scenario)["p_harm"] < ref["p_harm"]
    assert "rho = 0.5" in o.main_scenario


def test_missing_values_are_named(analysis):
    assert len(analysis.missing) == 86  # 80 means/SDs + 6 event counts (data/viderman2023/README.md)
    assert all(b.result is None and b.expected for b in analysis.study_blocks)
    assert not analysis.failed_blocks
    assert "not run" in console_summary(analysis, "somewhere")


def test_report_text_comes_from_the_data_not_from_one_paper(report):
    md = (report.out / "report.md").read_text()
    # the published model and I^2 are quoted from published.csv, not written into the library
    assert "RevMan 5.4 random effects (inverse variance; DerSimonian-Laird)" in md
    assert "I^2 = 0% for every pooled result that states it" in md


def test_failed_write_leaves_the_previous_report_intact(analysis, report, monkeypatch, tmp_path):
    import shutil

    out = tmp_path / "rep"
    shutil.copytree(report.out, out)
    before = _hashes(out)
    calls = {"n": 0}
    real = writer.figures.save

    def failing_save(fig, path):  # the fifth figure fails, mid-way through the build
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError("disk full (simulated)")
        real(fig, path)

    monkeypatch.setattr(writer.figures, "save", failing_save)
    with pytest.raises(ReportNotWritten, match="disk full.*previous report in it is unchanged"):
        write(analysis, out)
    assert _hashes(out) == before
    assert not list(tmp_path.glob(".rep.*"))  # the partial build was removed

    def interrupt(fig, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer.figures, "save", interrupt)
    with pytest.raises(ReportNotWritten, match="interrupted"):
        write(analysis, out)
    assert _hashes(out) == before


def test_a_stale_table_does_not_survive_a_rerun(tmp_path):
    out = tmp_path / "rep"
    r = reanalyse(_mini_spec(tmp_path))
    write(r, out)
    (out / "tables" / "old_block_decisions.csv").write_text("stale\n")
    write(r, out)
    assert not (out / "tables" / "old_block_decisions.csv").exists()
    assert (out / "tables" / "odi_2w_tipping_points.csv").exists()


def test_out_folder_that_is_not_a_report_is_never_replaced(analysis, tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(ReportNotWritten, match="not empty and holds no bayesmeta report"):
        write(analysis, tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_cli_relative_out(tmp_path, monkeypatch):
    spec = _mini_spec(tmp_path)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["reanalyze", str(spec), "--out", "myrep", "--quiet"])
    assert r.exit_code == 0, r.output
    for name in ("report.md", "report.html", "provenance.json", "figures/odi_2w_forest.png"):
        assert (tmp_path / "myrep" / name).exists(), name
    assert not (tmp_path / "myrep" / "myrep").exists()
    assert "expected_missing" in r.output  # the missing blocks are stated, exit 0


def test_cli_block_that_cannot_run_fails_unless_partial_allowed(tmp_path):
    p = _mini_spec(tmp_path, declare_missing=False)  # pain_study_level no longer declared missing
    out = tmp_path / "rep"
    r = CliRunner().invoke(main, ["reanalyze", str(p), "--out", str(out), "--quiet"])
    assert r.exit_code == 1 and "pain_study_level" in r.output and "Nothing was written" in r.output
    assert "Traceback" not in r.output and not out.exists()
    r = CliRunner().invoke(main, ["reanalyze", str(p), "--out", str(out), "--quiet", "--allow-partial"])
    assert r.exit_code == 0 and "partial report" in r.output and (out / "report.md").exists()
    assert "NOT RUN" in (out / "report.md").read_text()


def test_cli_help_and_bad_spec(tmp_path):
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0 and "reanalyze" in r.output and "analyse" in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[analysis]\nid = 'x'\n")
    r = CliRunner().invoke(main, ["reanalyze", str(bad)])
    assert r.exit_code == 2 and "analysis.data" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["reanalyze", str(bad), "--debug"])
    assert r.exit_code != 0 and r.exception is not None  # --debug lets the exception (traceback) through


def test_cli_missing_and_check_published():
    r = CliRunner().invoke(main, ["missing", str(DATA)])
    assert r.exit_code == 0 and "80 missing values" in r.output and "6 missing values" in r.output
    r = CliRunner().invoke(main, ["check-published", str(DATA / "published.csv")])
    assert r.exit_code == 0 and "odi_overall" in r.output


def test_cli_solve_prior_syntax_errors_name_the_option(tmp_path):
    csv = tmp_path / "e.csv"
    csv.write_text("study,yi,vi\na,0.1,0.04\nb,0.3,0.05\nc,-0.1,0.03\n")
    r = CliRunner().invoke(main, ["solve", str(csv), "--tau-prior", "halfnormal(scale='abc')"])
    assert r.exit_code == 2 and "--tau-prior" in r.output and "must be a number" in r.output
    r = CliRunner().invoke(main, ["solve", str(csv), "--tau-prior", "halfnormal(-1)"])
    assert r.exit_code == 2 and "--tau-prior" in r.output and "not valid" in r.output
    r = CliRunner().invoke(main, ["solve", str(csv), "--tau-prior", "halfnormal(0.5)", "--mu-prior", "normal(0, 1)"])
    assert r.exit_code == 0 and "mu" in r.output


def test_tables_identical_to_the_committed_report(report):
    """The restructured pipeline reproduces the committed report's tables (compare_tables.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("ct", ROOT / "validation" / "reports" / "compare_tables.py")
    ct = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ct)
    assert ct.compare(ROOT / "reports" / "viderman2023", report.out) == []
    assert os.access(report.out / "report.md", os.R_OK)
    assert pd.read_csv(report.out / "tables" / "prior_sensitivity.csv")["decision_flips"].dtype == bool


def test_a_rerun_is_byte_identical(report, tmp_path):
    """Reproducibility: analysing again and writing again gives the same bytes in every file
    (report.md/html, tables, figures, posteriors, and provenance.json, which holds no clock)."""
    again = write(reanalyse(SPEC), tmp_path / "viderman2023")
    first, second = _hashes(report.out), _hashes(again.out)
    assert "provenance.json" in first and "runtime_seconds" not in (report.out / "provenance.json").read_text()
    assert sorted(first) == sorted(second)
    assert [f for f in first if first[f] != second[f]] == []
