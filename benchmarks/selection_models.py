"""CPU time of the Bayesian selection models and of the RoBMA-style publication-bias average.

For the golden data sets of ``tests/golden/metafor_selmodel.json`` (k = 13, 37, 81) it times, in one
process: the exact normal-normal fit (:func:`bayesmeta.bayes.exact.solve`, the baseline), the
two-interval and three-interval selection models with mu and tau (3-d and 4-d quadrature, default
resolution), and the full 20-model average at the default and at the pipeline's reduced resolution.
CPU seconds (``time.process_time``), so the numbers hold on a busy machine; ratios to the baseline.
Run::

    .venv/bin/python benchmarks/selection_models.py

Last result: ``benchmarks/selection_models.json``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from types import MappingProxyType

import numpy as np

from bayesmeta.bayes.bias import publication_bias_average
from bayesmeta.bayes.exact import solve
from bayesmeta.bayes.priors import Prior, halfnormal
from bayesmeta.bayes.selection import selection_model

HERE = Path(__file__).parent
G = json.loads((HERE.parent / "tests" / "golden" / "metafor_selmodel.json").read_text())
MU = Prior("normal", MappingProxyType({"loc": 0, "scale": 1}), "mu")
TAU = halfnormal(0.5)


def cpu(f, *args, repeat: int = 1, **kwargs) -> float:
    t = time.process_time()
    for _ in range(repeat):
        f(*args, **kwargs)
    return (time.process_time() - t) / repeat


def main() -> dict:
    rows = []
    for name, direction in (("bcg", "negative"), ("hackshaw1998", "positive"), ("lehmann2018", "positive")):
        yi = np.array(G["data"][name]["yi"])
        sei = np.sqrt(np.array(G["data"][name]["vi"]))
        base = cpu(solve, yi, sei, TAU, MU, repeat=20)
        row = {"data": name, "k": int(yi.size), "exact_solve_s": base}
        row["selection_2_interval_s"] = cpu(selection_model, yi, sei, (0.025,), MU, TAU, direction=direction)
        row["selection_3_interval_s"] = cpu(selection_model, yi, sei, (0.025, 0.05), MU, TAU, direction=direction)
        row["average_20_models_s"] = cpu(publication_bias_average, yi, sei, MU, TAU, direction=direction)
        row["average_20_models_pipeline_s"] = cpu(publication_bias_average, yi, sei, MU, TAU, direction=direction,
                                                  n_mu=48, n_tau=41, n_omega=3)
        row["average_ratio_to_solve"] = row["average_20_models_s"] / base
        rows.append(row)
        print(row, flush=True)
    out = {"rows": rows, "date": time.strftime("%Y-%m-%d"), "clock": "CPU seconds (time.process_time)"}
    (HERE / "selection_models.json").write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
