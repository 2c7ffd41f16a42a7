"""Heavy validation (`./dev validate`, about an hour on 2 cores): the full coverage run of the exact
solver, the full SBC sweep and the full coverage factorial of the frequentist and Bayesian
intervals.

These write below ``--validation-out`` (default ``.cache/validation/``, ignored by git), never into
the committed ``validation/`` folder: ``./dev validate --out validation`` updates the committed
results on purpose (``validation/calibration/README.md``, ``validation/coverage/README.md``).
"""
import json

import numpy as np
import pandas as pd
import pytest
from test_calibration import coverage  # tests/ is on sys.path (pytest prepend import mode)

from bayesmeta.simulate import coverage as cv
from bayesmeta.simulate import sbc

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("k", [2, 3, 5, 10])
@pytest.mark.parametrize("kind", ["eti", "hdi"])
def test_coverage_full(k, kind, validation_out):
    n = 2000
    tol = 4 * np.sqrt(0.95 * 0.05 / n)
    cov = coverage(n, k, seed=100 + k, kind=kind)
    out = validation_out / "calibration" / "coverage.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(out.read_text()) if out.exists() else {}
    data[f"k={k},{kind}"] = {"n_sims": n, "mu": cov[0], "tau": cov[1], "theta_new": cov[2], "tolerance": tol}
    out.write_text(json.dumps(data, indent=2, sort_keys=True))
    for c in cov:
        assert abs(c - 0.95) <= tol


def test_sbc_full_run(validation_out):
    """The full SBC run (Dask sweep); committed as validation/calibration/."""
    out = validation_out / "calibration"
    assert sbc.main(["--full", "--out", str(out)]) == 0
    t = pd.read_csv(out / "sbc.csv")
    assert (t["p_chi2"] > 1e-3).all() and (t["p_ks"] > 1e-3).all(), t


def test_coverage_full_run(validation_out):
    """The full factorial; committed as validation/coverage/."""
    out = validation_out / "coverage"
    assert cv.main(["--full", "--out", str(out)]) == 0
    t = pd.read_csv(out / "coverage.csv")
    assert len(t) == 5 * 5 * 3 * 4
    eq = t[(t["se_ratio"] == 1.0) & (t["method"] == "HKSJ")]
    assert (abs(eq["coverage"] - 0.95) <= 4 * np.sqrt(0.95 * 0.05 / eq["n"])).all()
