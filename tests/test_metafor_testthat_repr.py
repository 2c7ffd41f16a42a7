"""Every frequentist result prints a short metafor-like summary (never an array dump) and shows in a
notebook (``_repr_html_``) -- issue 18, item 4 (frequentist half)."""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesmeta as bm

pytestmark = pytest.mark.reference

BCG = pd.read_csv(__import__("pathlib").Path(__file__).resolve().parent / "golden" / "metafor_testthat" / "data"
                  / "bcg.csv")


@pytest.fixture(scope="module")
def results():
    d = BCG
    es = bm.escalc("RR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg, moderators={"ablat": d.ablat, "alloc": d.alloc})
    eso = bm.escalc("OR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg)
    fit = bm.rma(es)
    mr = bm.rma(es, mods="~ ablat + factor(alloc)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = {
            "rma": fit, "rma_mods": mr, "rma_mh": bm.rma_mh(es), "rma_peto": bm.rma_peto(eso),
            "rma_glmm": bm.rma_glmm(eso, model="CM.AL"), "selmodel": bm.selmodel(fit, steps=[0.05], alternative="less"),
            "confint": bm.confint(fit), "anova": bm.anova(mr, btt="alloc"),
            "lrt": bm.anova(bm.rma(es, method="ML"), bm.rma(es, mods="~ ablat", method="ML")),
            "robust": bm.robust(bm.rma(es, mods="~ ablat"), cluster=d.trial), "regtest": bm.regtest(fit), "ranktest": bm.ranktest(fit),
            "fsn": bm.fsn(es), "hc": bm.hc(fit), "trimfill": bm.trimfill(fit),
            "subgroups": bm.subgroup_analysis(es, by="alloc"), "mixed": bm.mixed_effects_test(es, by="alloc"),
        }
    return out


@pytest.mark.parametrize("name", ["rma", "rma_mods", "rma_mh", "rma_peto", "rma_glmm", "selmodel", "confint", "anova",
                                  "lrt", "robust", "regtest", "ranktest", "fsn", "hc", "trimfill", "subgroups",
                                  "mixed"])
def test_short_repr_and_html(results, name):
    r = results[name]
    text = repr(r)
    assert "array(" not in text and "np.float64" not in text, text
    assert len(text.splitlines()) <= 40, text
    assert text == str(r)
    html = r._repr_html_()
    assert html.startswith("<pre") and len(html) < 20000


def test_rma_repr_states_the_model(results):
    text = repr(results["rma"])
    assert "REML" in text and "k = 13" in text and "95%" in text
    assert np.isfinite(results["rma"].tau2)
