"""Above PSIS_LOO_MAX_K studies the sampled fit's PSIS-LOO is not run, and the report says so
(issue 20: at k = 2,000 it took 17 s of a 41 s sampled analysis)."""
from dataclasses import replace
from pathlib import Path

import pytest

from bayesmeta.pipeline import study_level
from bayesmeta.pipeline.spec import load_spec
from bayesmeta.report.sections import study_notes

pytestmark = pytest.mark.sampling

ROOT = Path(__file__).resolve().parents[1]


def _run(monkeypatch, limit):
    monkeypatch.setattr(study_level, "PSIS_LOO_MAX_K", limit)
    spec = load_spec(ROOT / "models" / "normand1999.toml")
    spec = replace(spec, sampler=replace(spec.sampler, draws=250, tune=300, chains=4))
    return study_level.run_block(spec, spec.study_level[0]).result


def test_psis_loo_skipped_above_the_limit_and_said(monkeypatch):
    r = _run(monkeypatch, 5)
    k = len(r.yi)
    c = r.sampler_check
    assert k > 5 and c.loo_skipped_above == 5 and c.loo_elpd is None
    notes = study_notes(r)
    assert any(f"PSIS-LOO of the sampled fit not run: {k} studies, above 5" in n for n in notes), notes
    assert not any(n.startswith("PSIS-LOO (sampled") for n in notes)


def test_psis_loo_run_at_or_below_the_limit(monkeypatch):
    r = _run(monkeypatch, 500)
    c = r.sampler_check
    assert c.loo_skipped_above is None and c.loo_elpd is not None
    assert any(n.startswith("PSIS-LOO (sampled, random effects)") for n in study_notes(r))
