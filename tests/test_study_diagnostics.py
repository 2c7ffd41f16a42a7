"""Study-level diagnostics and meta-regression as `bayesmeta reanalyze` runs them (issue 11, items 4-5).

The pipeline's numbers on the public stand-ins (models/colditz1994.toml: 13 BCG trials, log RR, with
the moderators ablat and alloc from data/colditz1994/studies.csv; models/normand1999.toml: 9 trials,
Hedges' g) are checked

* against metafor: tests/golden/metafor_study_level.json, written by
  validation/metafor/make_golden_study_level.R (influence with is.infl, leave1out, baujat, regtest,
  trimfill of rma(yi, vi) REML; rma(yi, vi, mods = ~ ablat) and ~ factor(alloc), REML, z and
  Knapp-Hartung). rtol 1e-6: REML is solved to ~1e-12 on both sides, everything else is a closed
  form or a refit of it, so 1e-6 catches any difference of formula or of data (study order, escalc);
* against direct calls of the library functions the pipeline wraps (exact Bayesian leave-one-out,
  GOSH, PET-PEESE, bmr), which are themselves checked in test_issue11_diagnostics.py: equality to
  1e-12 shows the pipeline passes the right data, priors and settings.

No sampling: the blocks run with sample = false (the exact solver only), ~2 s per spec.
"""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bayesmeta.bayes.bias import pet_peese
from bayesmeta.bayes.exact import solve
from bayesmeta.bayes.influence import bayes_leave1out
from bayesmeta.bayes.metareg import bmr
from bayesmeta.decide.decision import decision_table
from bayesmeta.frequentist.influence import gosh
from bayesmeta.frequentist.metareg import design_matrix
from bayesmeta.frequentist.rma import rma
from bayesmeta.pipeline.spec import load_spec
from bayesmeta.pipeline.study_level import run_block

pytestmark = pytest.mark.reference

ROOT = Path(__file__).resolve().parents[1]
G = json.loads((ROOT / "tests" / "golden" / "metafor_study_level.json").read_text())
RTOL, ATOL = 1e-6, 1e-10


def close(a, b, rtol=RTOL, atol=ATOL):
    a = np.asarray(a, float)
    b = np.asarray([np.nan if v is None else v for v in np.atleast_1d(b)], float)
    return bool(np.all((np.abs(a - b) <= atol + rtol * np.abs(b)) | (np.isnan(a) & np.isnan(b))))


def _block(name):
    spec = load_spec(ROOT / "models" / f"{name}.toml")
    spec = replace(spec, sampler=replace(spec.sampler, sample=False))
    return spec, run_block(spec, spec.study_level[0])


@pytest.fixture(scope="module")
def colditz():
    return _block("colditz1994")


@pytest.fixture(scope="module")
def normand():
    return _block("normand1999")


@pytest.mark.parametrize("name", ["colditz1994", "normand1999"])
def test_influence_leave1out_baujat_against_metafor(name, colditz, normand):
    _, blk = colditz if name == "colditz1994" else normand
    r, g = blk.result, G["diagnostics"][name]
    d = r.diagnostics
    assert list(r.labels) == g["study"]  # same studies, same order
    assert close(r.yi, g["yi"]) and close(r.sei**2, g["vi"])
    assert close(d.fit.mu, g["mu"]) and close(d.fit.tau2, g["tau2"])
    inf = d.influence
    for ours, theirs in (("rstudent", "rstudent"), ("dffits", "dffits"), ("cook_d", "cook.d"), ("cov_r", "cov.r"),
                         ("tau2_del", "tau2.del"), ("QE_del", "QE.del"), ("hat", "hat"), ("weight", "weight")):
        assert close(inf[ours], g["influence"][theirs]), ours
    assert close(inf["dfbetas_intrcpt"], g["dfbetas"])
    assert inf["influential"].tolist() == g["is_infl"]
    l1 = d.leave1out
    for ours, theirs in (("estimate", "estimate"), ("se", "se"), ("ci_lb", "ci.lb"), ("ci_ub", "ci.ub"),
                         ("tau2", "tau2"), ("Q", "Q"), ("I2", "I2")):
        assert close(l1[ours], g["leave1out"][theirs]), ours
    assert close(d.baujat["x"], g["baujat"]["x"]) and close(d.baujat["y"], g["baujat"]["y"])


def test_normand_flags_orpington_moderate(normand):
    """metafor flags Orpington-Moderate (DFFITS, Cook's D, DFBETAS); the pipeline names the rules."""
    inf = normand[1].result.diagnostics.influence.set_index("study")
    assert inf.loc["Orpington-Moderate", "influential"]
    assert inf.loc["Orpington-Moderate", "flags"] == "DFFITS, Cook's D, DFBETAS"
    assert inf["influential"].sum() == 1


def test_small_study_tests_only_from_ten_studies(colditz, normand):
    dc, dn = colditz[1].result.diagnostics, normand[1].result.diagnostics
    g = G["diagnostics"]["colditz1994"]
    assert dc.k == 13 and dc.regtest is not None and dc.trimfill is not None and dc.funnel is not None
    assert close(dc.regtest["stat"], g["regtest"]["zval"]) and close(dc.regtest["pval"], g["regtest"]["pval"])
    assert close([dc.regtest["limit_estimate"], dc.regtest["limit_ci_lb"], dc.regtest["limit_ci_ub"]],
                 [g["regtest"]["est"], g["regtest"]["ci_lb"], g["regtest"]["ci_ub"]])
    tf = dc.trimfill
    assert tf.k0 == g["trimfill"]["k0"] and tf.side == g["trimfill"]["side"]
    # metafor refits the filled data without the control list (threshold 1e-5): rtol 1e-4, as in
    # test_issue11_diagnostics.py
    assert close([tf.fit.mu, tf.fit.se, tf.fit.tau2], [g["trimfill"]["beta"], g["trimfill"]["se"], g["trimfill"]["tau2"]],
                 rtol=1e-4)
    assert dn.k == 9 and dn.regtest is None and dn.trimfill is None and dn.funnel is None
    assert "fewer than 10" in dn.small_study_note and "13.3.5.4" in dn.small_study_note


@pytest.mark.parametrize("mod,test", [("ablat", "z"), ("ablat", "knha"), ("alloc", "z"), ("alloc", "knha")])
def test_colditz_metaregression_against_metafor(colditz, mod, test):
    regs = {m.moderator.name: m for m in colditz[1].result.metaregression}
    m = regs[mod]
    fit = m.fits["REML (metafor default, z)" if test == "z" else "REML + Knapp-Hartung"]
    g = G["metareg"][f"{mod}_{test}"]
    assert [n.replace("alloc[", "factor(alloc)").rstrip("]") for n in fit.names] == g["names"]
    for ours, theirs in (("beta", "beta"), ("se", "se"), ("pval", "pval"), ("ci_lb", "ci_lb"), ("ci_ub", "ci_ub")):
        assert close(getattr(fit, ours), g[theirs]), ours
    assert close(fit.tau2, g["tau2"]) and close(fit.R2, g["R2"]) and close(fit.QM, g["QM"])
    rows = m.table[m.table["analysis"] == ("REML (metafor default, z)" if test == "z" else "REML + Knapp-Hartung")]
    assert close(rows["estimate"], g["beta"]) and close(rows["lb"], g["ci_lb"]) and close(rows["ub"], g["ci_ub"])
    assert close(rows["tau_residual"], np.sqrt(g["tau2"])) and close(rows["R2"], g["R2"])


def test_alloc_reference_level_is_rs_first_level(colditz):
    regs = {m.moderator.name: m for m in colditz[1].result.metaregression}
    assert regs["alloc"].moderator.kind == "categorical"
    assert regs["alloc"].moderator.reference == "alternate"  # R's factor(): sorted levels
    assert regs["ablat"].moderator.kind == "continuous"


def test_bayesian_parts_equal_direct_library_calls(colditz):
    spec, blk = colditz
    r, d = blk.result, blk.result.diagnostics
    tp = spec.priors("tau", "RR")[spec.primary("tau", "RR")]
    mp = spec.priors("mu", "RR")[spec.primary("mu", "RR")]
    bl = bayes_leave1out(r.yi, r.sei, tp, mp, labels=r.labels)
    assert np.allclose(d.bayes_loo["shift_sd"], bl["shift_sd"], rtol=1e-12, atol=0)
    assert np.allclose(d.bayes_loo["p_loo"], bl["p_loo"], rtol=1e-12, atol=0)
    # superiority question: the decision probability is P(benefit) = P(RR < 1), without study i
    assert d.decision_label.startswith("P(benefit)")
    for i in (0, 7):
        keep = np.arange(len(r.yi)) != i
        post = solve(r.yi[keep], r.sei[keep], tp, mp)
        p = float(decision_table(post.mu, [1.1], r.orientation)["p_benefit"].iloc[0])
        assert d.bayes_loo["p_decision"].iloc[i] == pytest.approx(p, rel=1e-12)
        assert d.bayes_loo["mu_median"].iloc[i] == pytest.approx(post.mu.median(), rel=1e-12)
    full = float(decision_table(solve(r.yi, r.sei, tp, mp).mu, [1.1], r.orientation)["p_benefit"].iloc[0])
    assert d.p_decision_full == pytest.approx(full, rel=1e-12)
    # GOSH: all 2^13 - 1 subsets, DL in closed form
    g = gosh(rma(r.yi, r.sei**2, method="DL"), max_subsets=2**13)
    assert len(d.gosh) == 2**13 - 1
    assert np.allclose(d.gosh["estimate"], g["estimate"], rtol=1e-12)
    # PET-PEESE with the primary priors (normal mu prior as written in the spec)
    pp = pet_peese(r.yi, r.sei, tp, mu_mean=0.0, mu_sd=2.0, direction="negative")
    assert d.pet_peese.bf_bias == pytest.approx(pp.bf_bias, rel=1e-12)
    assert d.pet_peese.mu_averaged.mean() == pytest.approx(pp.mu_averaged.mean(), rel=1e-12)
    # bmr: flat coefficients, the primary tau prior
    regs = {m.moderator.name: m for m in r.metaregression}
    X, names = design_matrix(regs["ablat"].data, "ablat")
    post = bmr(r.yi, r.sei, X, tp, names=names)
    row = regs["ablat"].table.query("term == 'ablat' and analysis.str.startswith('Bayesian')").iloc[0]
    assert row["estimate"] == pytest.approx(post.beta("ablat").median(), rel=1e-12)
    assert row["lb"] == pytest.approx(post.beta("ablat").ppf(0.025), rel=1e-12)


def test_leave_one_out_keeps_the_colditz_conclusion(colditz):
    """Every leave-one-out P(benefit) of the BCG trials stays above 0.99 (the vaccine effect does not
    hinge on one trial); the largest |shift| is TPT Madras or Hart & Sutherland, the two largest trials."""
    b = colditz[1].result.diagnostics.bayes_loo
    assert b["p_decision"].min() > 0.99
    assert b.loc[b["shift_sd"].abs().idxmax(), "study"] in ("TPT Madras 1980", "Hart & Sutherland 1977")


def test_normand_has_no_moderator(normand):
    assert normand[1].result.metaregression == ()


# ----------------------------------------------------------------------------- the report layer

def test_report_sections_and_figures(colditz, normand):
    import matplotlib.pyplot as plt

    from bayesmeta.report.diagnostics import diagnostics_blocks, diagnostics_figures
    from bayesmeta.report.figures import text_outside
    from bayesmeta.report.render import Figure, Heading, Paragraph

    spec, blk = colditz
    blocks = diagnostics_blocks(blk, spec)
    heads = [b.text for b in blocks if isinstance(b, Heading)]
    assert heads == [f"{x}: {blk.label}" for x in ("Diagnostics", "Small-study effects", "Meta-regression")]
    text = " ".join(b.text for b in blocks if isinstance(b, Paragraph))
    assert "No single study changes the conclusion: leaving any one out, P(benefit) = P(RR < 1) stays between" in text
    assert "Egger's regression test" in text and "Trim and fill (L0): 1 study estimated missing" in text
    assert "per unit of ablat, log RR changes by -0.029" in text
    figs = dict(diagnostics_figures(blk, spec))
    assert list(figs) == ["baujat", "gosh", "funnel", "bubble_ablat", "bubble_alloc"]
    shown = {b.path.stem.removeprefix(f"{blk.id}_") for b in blocks if isinstance(b, Figure)}
    assert shown == set(figs)
    for name, fig in figs.items():
        assert text_outside(fig) == [], name
        assert fig.get_figwidth() * fig.dpi <= 1280
        plt.close(fig)
    spec, blk = normand
    blocks = diagnostics_blocks(blk, spec)
    text = " ".join(b.text for b in blocks if isinstance(b, Paragraph))
    assert "are not shown: with k = 9 studies (fewer than 10)" in text
    assert "Orpington-Moderate (DFFITS, Cook's D, DFBETAS)" in text
    assert not any(isinstance(b, Heading) and b.text.startswith("Meta-regression") for b in blocks)
    figs = dict(diagnostics_figures(blk, spec))
    assert list(figs) == ["baujat", "gosh"]
    for fig in figs.values():
        plt.close(fig)


def test_seed_block_says_its_meta_regression_needs_the_study_values():
    from bayesmeta.report.diagnostics import moderators_not_run
    from bayesmeta.report.render import Details, Note, Paragraph

    spec = load_spec(ROOT / "models" / "viderman2023.toml")
    blk = run_block(spec, spec.study_level[0])
    assert blk.result is None and blk.moderators is not None
    blocks = moderators_not_run(blk)
    assert isinstance(blocks[0], Paragraph) and "cannot run either" in blocks[0].text
    assert "needs the per-study effect values listed above" in blocks[0].text
    assert any(isinstance(b, Note) and "evansa2015 site" in b.text for b in blocks)
    assert isinstance(blocks[-1], Details)
    from bayesmeta.report.diagnostics import meta_regressions_waiting

    (para,) = meta_regressions_waiting([blk, run_block(spec, spec.study_level[1])])
    assert "on site, injection" in para.text and "evansa2015 injection, evansa2015 site" in para.text


def test_preset_estimator_added_to_the_meta_regression(colditz):
    """A spec preset (e.g. revman5: DL, z) adds its estimator; checked against metafor's
    rma(yi, vi, mods = ~ ablat, method = "DL") in tests/golden/metafor_issue11.json (same dat.bcg data)."""
    from bayesmeta.pipeline.diagnostics import meta_regression

    _, blk = colditz
    r = blk.result
    m0 = {m.moderator.name: m for m in r.metaregression}["ablat"]
    frame = m0.data.set_index("study")[["ablat"]]
    m = meta_regression(r.yi, r.sei**2, r.labels, frame, m0.moderator, tau_prior=r.exact.tau_prior,
                        extra=("DL", "z", "preset revman5"))
    fit = m.fits["DL, z (preset revman5)"]
    g = json.loads((ROOT / "tests" / "golden" / "metafor_issue11.json").read_text())["metareg"]["bcg_ablat_DL_z"]
    assert close(fit.beta, g["beta"]) and close(fit.se, g["se"]) and close(fit.tau2, g["tau2"])
    assert set(m.table["analysis"]) >= {"REML (metafor default, z)", "REML + Knapp-Hartung", "DL, z (preset revman5)"}
