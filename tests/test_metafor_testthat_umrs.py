"""The Wald-type heterogeneity test of the UM.RS GLMM (was NaN) against metafor 3.8.1 / lme4 1.1.31
(tests/golden/metafor_umrs_wald.json, made by validation/metafor/make_umrs_wald.R), through ``bm``.

Tolerance 1% relative (metafor's own testthat tolerance): metafor's saturated UM.RS fit is lme4's
(Laplace for ML), bayesmeta's its own quadrature; the LRT is checked too.
"""

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import bayesmeta as bm

pytestmark = pytest.mark.reference

ROOT = Path(__file__).resolve().parents[1]
GOLD = json.loads((ROOT / "tests" / "golden" / "metafor_umrs_wald.json").read_text())
DATA = ROOT / "tests" / "golden" / "metafor_testthat" / "data"


@pytest.mark.parametrize("method", ["EE", "ML"])
def test_umrs_wald_nielweise2007(method):
    d = pd.read_csv(DATA / "nielweise2007.csv")
    es = bm.escalc("OR", ai=d.ai, n1i=d.n1i, ci=d.ci, n2i=d.n2i)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = bm.rma_glmm(es, model="UM.RS", method=method)
    g = GOLD["nielweise2007"][method]
    assert r.QE_Wld == pytest.approx(g["QE_Wld"], rel=0.01)
    assert r.QE_Wld_p == pytest.approx(g["QE_Wld_p"], rel=0.01)
    assert r.QE_LRT == pytest.approx(g["QE_LRT"], rel=0.01)
    assert r.QE_df == g["QE_df"]
