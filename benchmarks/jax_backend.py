"""Option (c) of issue 12 item 4, measured: nutpie's JAX backend with JAX's persistent compilation
cache, against the numba backend with bayesmeta's compile cache (bayesmeta.bayes.compile_cache).

JAX is not in requirements.lock, so this runs against a scratch install:

    .venv/bin/python -m pip install --target /tmp/jaxpkgs jax jaxlib   # then remove its numpy copy
    .venv/bin/python benchmarks/jax_backend.py /tmp/jaxpkgs

Each case is a fresh process on the normand1999 structure (normal-normal, k = 9): the compile,
the first (tiny) sampling call (where JAX traces and compiles, or loads from its cache), then
4 chains x (1,000 tune + 2,000 draws), then the same after ``with_data`` (a prior-sensitivity
refit). Writes benchmarks/jax_backend.json (with versions and the load average).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASE = """
import json, sys, time
t0 = time.perf_counter()
backend = sys.argv[1]
import numpy as np, nutpie
if backend == "jax":
    import jax
    jax.config.update("jax_compilation_cache_dir", sys.argv[2])
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
from bayesmeta.bayes import compile_cache, models
from bayesmeta.bayes.priors import halfnormal, normal
t1 = time.perf_counter()
y, s = np.linspace(-0.4, 0.3, 9), np.linspace(0.1, 0.3, 9)
model = models.normal_normal(y, s, [f"s{i}" for i in range(9)], halfnormal(0.5), normal(0, 10))
t2 = time.perf_counter()
if backend == "jax":
    c = nutpie.compile_pymc_model(model, backend="jax", gradient_backend="jax", freeze_model=False)
    status = "jax"
else:
    c, rec = compile_cache.compile_pymc_model(model)
    status = rec.status
t3 = time.perf_counter()
nutpie.sample(c, draws=10, tune=10, chains=1, seed=1, progress_bar=False)
t4 = time.perf_counter()
nutpie.sample(c, draws=2000, tune=1000, chains=4, seed=1, progress_bar=False)
t5 = time.perf_counter()
nutpie.sample(c.with_data(yi=y + 0.1), draws=2000, tune=1000, chains=4, seed=1, progress_bar=False)
t6 = time.perf_counter()
out = {"backend": backend, "status": status, "imports_s": t1 - t0, "compile_s": t3 - t2,
       "first_tiny_sample_s": t4 - t3, "sample_4x3000_s": t5 - t4, "sample_after_with_data_s": t6 - t5}
if backend == "jax":
    out["jax"] = jax.__version__
print(json.dumps(out))
"""


def run(args, extra_path=""):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (extra_path, os.environ.get("PYTHONPATH", "")) if p))
    pr = subprocess.run([sys.executable, "-c", CASE, *args], cwd=ROOT, capture_output=True, text=True, env=env)
    last = [ln for ln in pr.stdout.splitlines() if ln.startswith("{")]
    res = json.loads(last[-1]) if last else {"error": pr.stderr[-800:]}
    res["load_1min"] = os.getloadavg()[0]
    return res


def main(jax_path: str) -> int:
    from bayesmeta.provenance import versions

    with tempfile.TemporaryDirectory() as tmp:
        res = {"versions": versions(), "cpu_count": os.cpu_count(),
               "numba_compile_cache_warm": run(["numba"]),
               "jax_cache_cold": run(["jax", tmp], jax_path),
               "jax_cache_warm": run(["jax", tmp], jax_path)}
    for k, v in res.items():
        print(k, v)
    (ROOT / "benchmarks" / "jax_backend.json").write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
