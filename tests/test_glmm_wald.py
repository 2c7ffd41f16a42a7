"""Wald-type heterogeneity test of the binomial GLMMs (metafor's rma.glmm ``QE.Wld``) against
metafor 3.8-1 (tests/golden/metafor_issue11.json, validation/metafor/make_golden_issue11.R).

UM.FS and CM.AL: the saturated model's study log ORs are closed form, so metafor's value differs
only by R's glm convergence (measured 4e-8 relative): rtol 1e-6. CM.EL: metafor takes the
variances from numDeriv's Hessian of its integrate()d saturated likelihood; ours are the exact
conditional variances (measured 8e-4 relative on dat.nielweise2007): rtol 2e-3; on dat.bcg
metafor's 268.6 is not reproduced (ours 163.09, close to the unconditional 163.16), so it is not
checked. UM.RS: not computed (NaN).
"""
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from bayesmeta.frequentist.glmm import _wald_heterogeneity, rma_glmm
from bayesmeta.frequentist.rma import DroppedStudiesWarning

pytestmark = pytest.mark.reference

G = json.loads((Path(__file__).parent / "golden" / "metafor_issue11.json").read_text())


def _tabs(name):
    d = G["rare"][name]["data"]
    a, n1, c, n2 = (np.array(d[k], float) for k in ("ai", "n1i", "ci", "n2i"))
    keep = ~(((a == 0) & (c == 0)) | ((a == n1) & (c == n2)))  # metafor drop00 = TRUE
    return a[keep], n1[keep], c[keep], n2[keep]


@pytest.mark.parametrize("key, rtol", [(k, 2e-3 if "CM.EL" in k else 1e-6) for k in G["glmm"]
                                       if ("UM.FS" in k or "CM.AL" in k or k.startswith("nielweise2007_CM.EL"))])
def test_wald_heterogeneity_against_metafor(key, rtol):
    g = G["glmm"][key]
    assert _wald_heterogeneity(g["model"], *_tabs(g["data"])) == pytest.approx(g["QE_Wld"], rel=rtol)


def test_rma_glmm_reports_the_wald_test():
    g = G["glmm"]["nielweise2007_UM.FS_EE"]
    d = G["rare"]["nielweise2007"]["data"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedStudiesWarning)
        r = rma_glmm(d["ai"], d["n1i"], d["ci"], d["n2i"], model="UM.FS", method="EE")
    assert r.QE_Wld == pytest.approx(g["QE_Wld"], rel=1e-6)
    assert r.QE_Wld_p == pytest.approx(stats.chi2.sf(g["QE_Wld"], r.k - 1), rel=1e-5)
    assert "Wald-type" in str(r) and "QE_Wld" in r.summary().columns
    assert np.isnan(_wald_heterogeneity("UM.RS", *_tabs("bcg")))
