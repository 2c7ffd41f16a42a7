"""Meta-regression with every tau^2 estimator metafor offers with moderators (DL, HE, HS, SJ, ML,
REML, EB, PM; tests z and knha) against metafor 3.8-1 (tests/golden/metafor_metareg.json, made by
validation/metafor/make_golden_metareg.R) on dat.bcg log RR with ablat, with alloc (categorical)
and with ablat + year.

Tolerance rtol 1e-6 (issue 11). Closed-form estimators (DL, HE, HS, SJ) agree to rounding; the
root-found ones (ML, REML: score equations, PM/EB: generalised Q = k - p) are solved here by
Brent's method to 1e-14 in tau^2 and in metafor by Fisher scoring / its PM iteration with
threshold 1e-12 (the script's control list), so both sides are converged far below 1e-6.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from bayesmeta.frequentist.metareg import rma_mods

pytestmark = pytest.mark.reference

G = json.loads((Path(__file__).parent / "golden" / "metafor_metareg.json").read_text())
Y, V = np.array(G["data"]["yi"]), np.array(G["data"]["vi"])
RTOL, ATOL = 1e-6, 1e-10  # atol for quantities that are exactly zero (truncated tau^2, R^2)


@pytest.mark.parametrize("key", list(G["fits"]))
def test_rma_mods_against_metafor(key):
    g = G["fits"][key]
    X = np.array(g["X"], float)
    r = rma_mods(Y, V, X, names=g["names"], method=g["method"], test=g["test"])

    def close(got, want, what):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=f"{key}: {what}")

    close(r.tau2, g["tau2"], "tau2")
    close(r.beta, g["beta"], "beta")
    close(r.se, g["se"], "se")
    close(r.stat, g["zval"], "zval/tval")
    close(r.pval, g["pval"], "pval")
    close(r.ci_lb, g["ci_lb"], "ci_lb")
    close(r.ci_ub, g["ci_ub"], "ci_ub")
    close(r.QE, g["QE"], "QE")
    close(r.QE_p, g["QEp"], "QEp")
    close(r.QM, g["QM"], "QM")
    close(r.QM_p, g["QMp"], "QMp")
    close(r.I2, g["I2"], "I2")
    close(r.H2, g["H2"], "H2")
    close(r.R2, g["R2"], "R2")
    if np.isfinite(g["se_tau2"]):
        close(r.se_tau2, g["se_tau2"], "se_tau2")


def test_unknown_method_names_the_choices():
    with pytest.raises(ValueError, match="one of REML, ML, DL, HE, HS, HSk, SJ, PM, PMM, EB, DLIT, SJIT, GENQ"):
        rma_mods(Y, V, np.column_stack([np.ones_like(Y), G["data"]["ablat"]]), method="XX")
    with pytest.raises(ValueError, match="needs weights="):
        rma_mods(Y, V, np.column_stack([np.ones_like(Y), G["data"]["ablat"]]), method="GENQ")
