"""Study-level reanalysis end to end on public data sets with full study rows."""
import json
import os
from pathlib import Path

from types import SimpleNamespace

import pytest

from bayesmeta.report.sections import figure_path
from bayesmeta.report.writer import run

pytestmark = [pytest.mark.e2e, pytest.mark.sampling]

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = {c["id"]: c for c in json.loads((ROOT / "tests" / "golden" / "metafor.json").read_text())["cases"]}


@pytest.fixture(scope="module")
def normand(tmp_path_factory):
    r, written = run(ROOT / "models" / "normand1999.toml", out=tmp_path_factory.mktemp("normand") / "report")
    return SimpleNamespace(study_blocks=r.study_blocks, out=written.out, spec=r.spec)


def test_frequentist_rows_match_metafor(normand):
    r = normand.study_blocks[0].result
    f = r.frequentist.set_index("analysis")
    ref = GOLDEN["normand1999_SMD"]["rma"]
    assert f.loc["DL", "mu"] == pytest.approx(ref["DL_z"]["beta"], rel=1e-6)
    assert f.loc["REML", "tau2"] == pytest.approx(ref["REML_z"]["tau2"], rel=1e-6)
    assert f.loc["REML + HKSJ", "ci95_lb"] == pytest.approx(ref["REML_knha"]["ci_lb"], rel=1e-6)


def test_sampled_fit_agrees_with_exact_and_is_saved(normand):
    blk = normand.study_blocks[0]
    r = blk.result
    assert r.sampled is not None and r.sampled.converged
    assert r.sampler_check is not None and r.sampler_check.agrees, r.sampler_check
    assert (normand.out / "los_smd_posterior.nc").exists()
    for k in ("forest", "tau", "mu", "noninferiority", "sensitivity", "ppc"):
        assert (normand.out / figure_path(blk.id, k)).exists()


def test_checks_and_sensitivity(normand):
    r = normand.study_blocks[0].result
    c = r.checks.set_index("statistic")
    # Orpington-Moderate (SMD -2.3) is far from the rest: random effects predict it far better
    assert c.loc["exact LOO elpd, random effects", "observed"] > c.loc["exact LOO elpd, common effect", "observed"]
    assert 0 <= c.loc["Cochran's Q", "ppp"] <= 1
    assert len(r.sensitivity) == 5 * 4 and "decision_flips" in r.sensitivity
    # the sceptical prior is centred on the margin (issue 16): prior P(non-inferior at 0.2) = 0.5
    sc = normand.spec.priors("mu", "SMD")["sceptical"]
    assert sc.cdf(0.2) == pytest.approx(0.5)
    # "agrees" has a stated criterion, and DL (0.6 posterior SD from the Bayesian median) does not meet it
    comp = r.comparison.set_index("analysis")
    assert "posterior SDs apart" in comp.loc["DL", "note"]
    assert r.loo.set_index("study").loc["Orpington-Moderate", "p_two_sided"] < 0.05
    md = (normand.out / "report.md").read_text()
    assert "Posterior beside DL, REML and HKSJ" in md
    assert "Heterogeneity dominates" in md.split("## 2.")[0]  # tau 0.80 > |mu| 0.38, said in the summary
    assert " inf " not in md and "e+1" not in md


def test_saved_posterior_carries_input_hashes_and_spec(normand, tmp_path):
    import shutil
    from dataclasses import replace

    from bayesmeta.bayes.result import StaleResult, load
    from bayesmeta.provenance import file_sha256

    fit = load(normand.out / "los_smd_posterior.nc")  # inputs unchanged: loads
    data = (ROOT / "data" / "normand1999" / "continuous_arms.csv").resolve()
    # recorded relative to the report folder, so the file does not depend on where the clone lies
    assert fit.meta["inputs"][os.path.relpath(data, normand.out.resolve())] == file_sha256(data)
    assert fit.meta["spec"]["analysis"]["id"] == "normand1999" and fit.meta["spec_sha256"] == normand.spec.sha256
    # the same result recorded against a copy of the data; change one byte of the copy
    copy = tmp_path / "continuous_arms.csv"
    shutil.copy(data, copy)
    p = replace(fit, meta={**fit.meta, "inputs": {str(copy): file_sha256(copy)}}).save(tmp_path / "fit.nc")
    assert load(p).meta["inputs"] == {str(copy): file_sha256(copy)}
    copy.write_text(copy.read_text().replace("155", "156", 1))
    with pytest.raises(StaleResult, match="continuous_arms.csv \\(changed"):
        load(p)
    assert load(p, check_inputs=False).labels == fit.labels
    with pytest.raises(StaleResult, match="another spec"):
        load(normand.out / "los_smd_posterior.nc", spec_sha256="0" * 64)
