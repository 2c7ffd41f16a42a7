"""The floating-point kernels a report is computed with (bayesmeta.provenance.NUMERIC_PINS).

NumPy's float64 exp and log on AVX-512 machines differ from its AVX2 kernels in the last bit, and
OpenBLAS picks kernels per CPU, so without pins a report's last digits depend on the machine.
``./dev run`` pins both; the provenance record states the pins. Independent reference for the
kernel difference: Python's ``math`` module (the C library), which NumPy's AVX2 (X86_V3) build
calls for float64 exp and log, against NumPy in a subprocess with and without the pins."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bayesmeta.provenance import NUMERIC_PINS, numeric_pins

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]


def test_provenance_records_the_pins(monkeypatch):
    monkeypatch.setenv("NPY_DISABLE_CPU_FEATURES", "X86_V4 AVX512_ICL AVX512_SPR")
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    assert numeric_pins() == {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR", "OPENBLAS_CORETYPE": None}


def test_dev_run_sets_every_pin():
    dev = (ROOT / "dev").read_text()
    body = re.search(r"pin_numerics\(\) \{(.*?)\n\}", dev, re.S)
    assert body, "./dev has no pin_numerics function"
    for name in NUMERIC_PINS:
        assert f"export {name}=" in body.group(1), name
    for cmd in ("run)", "bayesmeta)"):
        line = next(ln for ln in dev.splitlines() if ln.strip().startswith(cmd))
        assert "pin_numerics" in line, cmd


_PROBE = """
import json, math, numpy as np
rng = np.random.default_rng(0)
x = rng.uniform(1e-8, 50, 200_000)
print(json.dumps({"log": int((np.log(x) != np.array([math.log(v) for v in x])).sum()),
                  "exp": int((np.exp(-x) != np.array([math.exp(-v) for v in x])).sum())}))
"""


def _differences(env):
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_pinned_numpy_uses_the_c_library_kernels():
    # with the pins NumPy's float64 exp and log are the C library's, on any x86-64 machine (on an
    # AVX-512 machine without them 9,146 of the 200,000 exps and 70 logs differed in the last bit)
    env = {k: v for k, v in os.environ.items() if k not in NUMERIC_PINS}
    env["NPY_DISABLE_CPU_FEATURES"] = "X86_V4 AVX512_ICL AVX512_SPR"
    assert _differences(env) == {"log": 0, "exp": 0}
