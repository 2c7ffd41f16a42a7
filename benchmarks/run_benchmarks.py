"""Speed benchmarks (issue 12), reported as ratios against a baseline run in the same process.

Run: ./dev bench  [--quick] [--r-k100]   (writes benchmarks/results.json and prints a table)

Every row records wall-clock and CPU seconds of the baseline and of the other side, their ratio,
and the 1-minute load average when it was measured (the machine has 2 cores shared with other
jobs: ratios measured side by side are meaningful, absolute times less so).

1. Exact single fit with its summaries (quantiles of tau, mu, theta_new and 95% shortest
   intervals) at k = 8: the current engine against the previous implementation (the exact.py of
   commit 12a495e, loaded from git into a temporary module) and against R bayesmeta 3.4
   (benchmarks/r_bayesmeta.R; installed from github.com/cran/bayesmeta into .cache/Rlib, see that
   script), with the numbers they produce side by side.
2. Scaling in k (8 .. 10,000): current vs previous (previous up to k = 1,000: at 10,000 it needs
   3.3 GB).
3. Batched: solve_batch over many meta-analyses of k = 8 (analyses per second) against a loop of
   single fits of the current and of the previous implementation; scaling in the number of
   meta-analyses.
4. Exact leave-one-out at k = 500: downdating (decide/checks.exact_loo) against refitting k times
   (the previous loo_table; timed on 10 studies and scaled by k / 10); and `bayesmeta analyse
   --no-sample` of 500 studies end to end.
5. Sampling a 20-prior run of the normal-normal model: one compile then with_data refits (the
   Sampler) against recompiling for every prior (no disk cache), against a new Sampler per prior
   with the compile cache warm, and against a naive PyMC loop (new model and PyMC NUTS per
   prior); per-fit ratios (the others measured on 2 priors).
6. The seed reanalysis (`bayesmeta reanalyze models/viderman2023.toml`) in a fresh process twice
   (cold, then warm caches on disk) with peak memory; the normand1999 study-level job twice in
   one process (cold, then warm: the Sampler reuses the compiled model; what a long-lived worker
   gives).
7. Compiled models across processes (bayesmeta.bayes.compile_cache): the compile alone of the
   normand1999 structure (normal-normal, k = 9) in fresh processes, nutpie's own compile (the
   previous behaviour; PyTensor's disk cache warm) against the disk-cached wrappers cold (empty
   cache) and warm; and `bayesmeta reanalyze models/normand1999.toml` in fresh processes with the
   cache off (previous), cold and warm, with peak memory, the compile records and whether the
   report tables are byte-identical.

Options: --quick (fewer sizes, no reanalyses), --only=1,2,7 (sections), --r-k100 (R at k = 100).
The R comparison uses R bayesmeta from the system library when `library(bayesmeta)` loads there
(Debian/CRAN install), else from .cache/Rlib (see benchmarks/r_bayesmeta.R).
Writes benchmarks/results.json and benchmarks/results.md (the summary table).
"""
from __future__ import annotations

import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bayesmeta.bayes import sampling as fitmod  # noqa: E402
from bayesmeta.bayes.batch import solve_batch  # noqa: E402
from bayesmeta.bayes.exact import solve  # noqa: E402
from bayesmeta.bayes.priors import halfnormal, normal  # noqa: E402
from bayesmeta.decide.checks import exact_loo  # noqa: E402
from bayesmeta.provenance import versions  # noqa: E402

OLD_COMMIT = "12a495e"
Y8 = np.array([28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16]) / 10
S8 = np.array([14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6]) / 10
TP, MP = halfnormal(0.5), normal(0, 1)
Q = np.array([0.025, 0.5, 0.975])
QUICK = "--quick" in sys.argv
ONLY = {int(x) for a in sys.argv if a.startswith("--only=") for x in a[7:].split(",")}


def want(section: int) -> bool:
    return not ONLY or section in ONLY


def timed(fn, repeat=1):
    """Best wall and CPU seconds over ``repeat`` calls."""
    best, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return best, cpu


def old_exact():
    """The previous exact.py (commit 12a495e) as a temporary module."""
    src = subprocess.run(["git", "show", f"{OLD_COMMIT}:bayesmeta/bayes/exact.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    d = Path(tempfile.mkdtemp())
    (d / "old_exact.py").write_text(src)
    spec = importlib.util.spec_from_file_location("old_exact", d / "old_exact.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_exact"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def r_library():
    """Environment for Rscript and where R bayesmeta comes from: the system library when it loads
    there, else .cache/Rlib (installed as benchmarks/r_bayesmeta.R describes)."""
    try:
        ok = subprocess.run(["Rscript", "-e", "suppressMessages(library(bayesmeta))"], capture_output=True,
                            timeout=120).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        ok = False
    if ok:
        return dict(os.environ), "system library"
    rlib = ROOT / ".cache" / "Rlib"
    return dict(os.environ, R_LIBS=str(rlib)), str(rlib.relative_to(ROOT))


def summaries(post):
    """What a fit reports: quantiles of tau, mu, theta_new and the 95% shortest intervals."""
    out = [post.tau.ppf(Q), post.mu.ppf(Q), post.theta_new.ppf(Q)]
    out += [post.tau.interval(0.95, "hdi"), post.mu.interval(0.95, "hdi"), post.theta_new.interval(0.95, "hdi")]
    return out


def data(k, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0.2, 0.3, k), rng.uniform(0.1, 0.5, k)


COMPILE_CODE = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np, nutpie
from bayesmeta.bayes import compile_cache, models
from bayesmeta.bayes.priors import halfnormal, normal
t1 = time.perf_counter()
y, s = np.linspace(-0.4, 0.3, 9), np.linspace(0.1, 0.3, 9)
model = models.normal_normal(y, s, [f"s{i}" for i in range(9)], halfnormal(0.5), normal(0, 10))
t2 = time.perf_counter()
if sys.argv[1] == "nutpie":
    nutpie.compile_pymc_model(model)
    status = "nutpie"
else:
    status = compile_cache.compile_pymc_model(model)[1].status
t3 = time.perf_counter()
print(json.dumps({"compile_s": t3 - t2, "imports_s": t1 - t0, "status": status}))
"""

RUN_CODE = """
import json, sys, time
t = time.perf_counter()
from bayesmeta.cli import main
from bayesmeta.bayes import sampling
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps({"seconds": time.perf_counter() - t,
                  "compile_s": sum(r.seconds for r in sampling.DEFAULT.compile_records),
                  "compiles": [r.status for r in sampling.DEFAULT.compile_records],
                  "peak_rss_mb": [int(ln.split()[1]) / 1024 for ln in open("/proc/self/status")
                                  if ln.startswith("VmHWM")][0]}))
"""


def _fresh(code, args, env):
    """Run ``code`` in a fresh interpreter; its last JSON line, wall and CPU seconds."""
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    pr = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    last = [ln for ln in pr.stdout.splitlines() if ln.startswith("{")]
    out = json.loads(last[-1]) if last else {"error": pr.stderr[-800:]}
    out.update(process_s=wall, process_cpu_s=(c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime),
               load_1min=os.getloadavg()[0])
    return out


def compile_cache_section(row):
    """Section 7 (see the module docstring)."""
    import hashlib

    out = {"pytensor_cache": "PyTensor's own disk cache (~/.pytensor) warm in every run"}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, BAYESMETA_COMPILE_CACHE=str(Path(tmp) / "compile-cache"))
        off = dict(env, BAYESMETA_COMPILE_CACHE="off")
        nut = _fresh(COMPILE_CODE, ["nutpie"], off)
        cold = _fresh(COMPILE_CODE, ["cache"], env)
        warm = [_fresh(COMPILE_CODE, ["cache"], env) for _ in range(2)]
        best = min(warm, key=lambda r: r.get("compile_s", float("inf")))
        out["compile_alone"] = {"nutpie_previous": nut, "cache_cold": cold, "cache_warm": warm}
        print("compile alone (normal-normal, k = 9): nutpie", nut, "cold", cold, "warm", warm, flush=True)
        if all("compile_s" in r for r in (nut, cold, best)):
            row("compile alone, fresh process", "nutpie compile (previous)", (nut["compile_s"], nut["compile_s"]),
                "disk-cached wrappers, warm", (best["compile_s"], best["compile_s"]),
                note=f"cold (empty cache) {cold['compile_s']:.2f} s; status {best['status']}; wall only")
        # the normand1999 study-level reanalysis in fresh processes
        runs, tables = {}, {}
        shutil.rmtree(Path(tmp) / "compile-cache", ignore_errors=True)
        for name, e in (("cache_off_previous", off), ("cache_cold", env), ("cache_warm", env),
                        ("cache_warm_2", env)):
            dest = Path(tmp) / name
            runs[name] = _fresh(RUN_CODE, ["reanalyze", "models/normand1999.toml", "--quiet", "--out", str(dest)], e)
            tables[name] = {str(f.relative_to(dest)): hashlib.sha256(f.read_bytes()).hexdigest()
                            for f in sorted((dest / "tables").rglob("*")) if f.is_file()}
            print(f"normand1999 reanalysis, {name}:", runs[name], flush=True)
        ref = tables["cache_off_previous"]
        out["normand1999_reanalysis"] = runs
        out["normand1999_tables_identical"] = bool(ref) and all(t == ref for t in tables.values())
        out["normand1999_tables_compared"] = len(ref)
        w = min((runs["cache_warm"], runs["cache_warm_2"]), key=lambda r: r.get("seconds", float("inf")))
        if all("seconds" in r for r in (runs["cache_off_previous"], w)):
            row("normand1999 reanalysis, fresh process", "cache off (previous)",
                (runs["cache_off_previous"]["seconds"], runs["cache_off_previous"]["process_cpu_s"]),
                "compile cache warm", (w["seconds"], w["process_cpu_s"]),
                note=f"cold {runs['cache_cold'].get('seconds', float('nan')):.2f} s; compile "
                     f"{runs['cache_off_previous'].get('compile_s', float('nan')):.2f} s -> {w.get('compile_s', float('nan')):.2f} s;"
                     f" tables identical: {out['normand1999_tables_identical']}")
    return out


def summary_md(res) -> str:
    """The summary table of a run (benchmarks/results.md)."""
    v = res["versions"]
    lines = ["# Benchmarks (issue 12): ratios measured side by side in one run", "",
             f"Written by `benchmarks/run_benchmarks.py` ({res['started']} UTC, {res['cpu_count']} cores shared; "
             f"1-minute load average {res['load_start']:.1f} at the start, {res['load_end']:.1f} at the end; "
             f"{', '.join(f'{k} {v[k]}' for k in sorted(v) if isinstance(v[k], str))}). "
             "Absolute times depend on the load; ratios are measured side by side.", "",
             "| benchmark | baseline | s | other | s | other / baseline | load |", "|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['benchmark']} | {r['baseline']} | {r['baseline_s']:.4g} | {r['other']} | "
                     f"{r['other_s']:.4g} | {r['ratio']:.3g} | {r['load_1min']:.1f} |")
    val = res["values"]
    extra = [f"- solve_batch, {k[7:-6]} analyses of k = 8: {x:,.0f} per second wall "
             f"({val.get(k[:-6] + '_one_thread_per_s', float('nan')):,.0f} on one thread, "
             f"{val.get(k[:-6] + '_per_cpu_s', float('nan')):,.0f} per CPU second)"
             for k, x in val.items() if k.startswith("batch_A") and k.endswith("_per_s")
             and not k.endswith(("_cpu_s", "_thread_per_s"))]
    if "k10000_current_s" in val:
        extra.append(f"- one fit with summaries at k = 10,000: {val['k10000_current_s'] * 1000:.1f} ms")
    cc = val.get("compile_cache")
    if cc:
        ca = cc["compile_alone"]
        extra.append(f"- compile alone (normal-normal, k = 9, fresh process): nutpie {ca['nutpie_previous'].get('compile_s', float('nan')):.2f} s, "
                     f"cache cold {ca['cache_cold'].get('compile_s', float('nan')):.2f} s, cache warm "
                     + ", ".join(f"{w.get('compile_s', float('nan')):.2f} s" for w in ca["cache_warm"]))
        nr = cc["normand1999_reanalysis"]
        extra.append("- `bayesmeta reanalyze models/normand1999.toml`, fresh process: "
                     + ", ".join(f"{k} {r.get('seconds', float('nan')):.2f} s (compile {r.get('compile_s', float('nan')):.2f} s, "
                                 f"peak {r.get('peak_rss_mb', float('nan')):.0f} MB)" for k, r in nr.items())
                     + f"; report tables byte-identical across the runs: {cc['normand1999_tables_identical']}")
    if "R_library" in res:
        extra.append(f"- R bayesmeta from: {res['R_library']}")
    return "\n".join(lines + (["", *extra] if extra else [])) + "\n"


def main():
    import numba

    res = {"versions": {**versions(), "numba": numba.__version__}, "cpu_count": os.cpu_count(), "old_implementation": f"{OLD_COMMIT}:exact.py",
           "started": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "load_start": os.getloadavg()[0],
           "argv": sys.argv[1:], "rows": [], "values": {}}

    def row(name, base_name, base, other_name, other, note=""):
        (bw, bc), (ow, oc) = base, other
        r = {"benchmark": name, "baseline": base_name, "baseline_s": bw, "baseline_cpu_s": bc, "other": other_name,
             "other_s": ow, "other_cpu_s": oc, "ratio": ow / bw, "ratio_cpu": oc / bc if bc > 0 else None,
             "load_1min": os.getloadavg()[0], "note": note}
        res["rows"].append(r)
        print(f"{name:<44} {base_name:<30} {bw:9.4f} s  {other_name:<34} {ow:9.4f} s  x{ow / bw:9.1f}"
              f"  (cpu x{(oc / bc if bc > 0 else float('nan')):8.1f}, load {r['load_1min']:.1f})", flush=True)

    old = old_exact() if (want(1) or want(2) or want(3) or want(4)) else None
    if want(1):
        # 1. single fit at k = 8
        new_t = timed(lambda: summaries(solve(Y8, S8, TP, MP)), repeat=20)
        old_t = timed(lambda: summaries(old.solve(Y8, S8, TP, MP)), repeat=3)
        row("exact fit + summaries, k = 8", "current engine", new_t, "previous (12a495e)", old_t)
        p_new, p_old = solve(Y8, S8, TP, MP), old.solve(Y8, S8, TP, MP)
        res["values"]["k8"] = {"current": {"mu_q": p_new.mu.ppf(Q).tolist(), "tau_q": p_new.tau.ppf(Q).tolist(),
                                           "mu_hdi": list(p_new.mu.interval(0.95, "hdi"))},
                               "previous": {"mu_q": p_old.mu.ppf(Q).tolist(), "tau_q": p_old.tau.ppf(Q).tolist(),
                                            "mu_hdi": list(p_old.mu.interval(0.95, "hdi"))}}
        r_cases = {"k8": {"yi": Y8.tolist(), "sei": S8.tolist(), "repeat": 1}}
        y100, s100 = data(100)
        if "--r-k100" in sys.argv:  # R bayesmeta takes minutes per fit at k = 100
            r_cases["k100"] = {"yi": y100.tolist(), "sei": s100.tolist(), "repeat": 1}
        r_env, res["R_library"] = r_library()
        r_out = Path(tempfile.mkdtemp()) / "r.json"
        r_in = r_out.with_name("cases.json")
        r_in.write_text(json.dumps(r_cases))
        try:
            subprocess.run(["Rscript", str(ROOT / "benchmarks" / "r_bayesmeta.R"), str(r_in), str(r_out)], check=True,
                           env=r_env, capture_output=True, text=True, timeout=3600)
            rr = json.loads(r_out.read_text())
            res["values"]["R_bayesmeta"] = rr
            for name, (y, s) in {"k8": (Y8, S8), "k100": (y100, s100)}.items():
                if name in rr["cases"]:
                    c = rr["cases"][name]
                    t = timed(lambda y=y, s=s: summaries(solve(y, s, TP, MP)), repeat=5)
                    row(f"exact fit + summaries, {name} vs R", "current engine", t, f"R bayesmeta {rr['version']}",
                        (c["seconds"], c["cpu_seconds"]), note="R timed in its own process, same minute")
        except (subprocess.CalledProcessError, FileNotFoundError, subprocess.TimeoutExpired) as e:
            res["values"]["R_bayesmeta"] = {"error": f"R bayesmeta not run: {e}"}
            print("R bayesmeta not run:", e)
    if want(2):
        # 2. scaling in k
        for k in (8, 100, 1000, 10000):
            y, s = data(k)
            t_new = timed(lambda y=y, s=s: summaries(solve(y, s, TP, MP)), repeat=3)
            if k <= 1000:
                t_old = timed(lambda y=y, s=s: summaries(old.solve(y, s, TP, MP)))
                row(f"scaling in k: k = {k}", "current engine", t_new, "previous (12a495e)", t_old)
            else:
                res["values"][f"k{k}_current_s"] = t_new[0]
                print(f"k = {k}: current {t_new[0]:.4f} s (previous not run: 3.3 GB)")
    if want(3):
        # 3. batched
        rng = np.random.default_rng(1)
        solve_batch(rng.normal(0.2, 0.3, (4, 8)), rng.uniform(0.1, 0.5, (4, 8)), TP, MP, probs=Q)  # load kernels
        for A in ((100, 1000) if QUICK else (100, 1000, 10000)):
            YY, SS = rng.normal(0.2, 0.3, (A, 8)), rng.uniform(0.1, 0.5, (A, 8))
            t_b = timed(lambda YY=YY, SS=SS: solve_batch(YY, SS, TP, MP, probs=Q))
            res["values"][f"batch_A{A}_per_s"] = A / t_b[0]
            res["values"][f"batch_A{A}_per_cpu_s"] = A / t_b[1]  # both threads' CPU time: load-robust
            t_1 = timed(lambda YY=YY, SS=SS: solve_batch(YY, SS, TP, MP, probs=Q, workers=1))
            res["values"][f"batch_A{A}_one_thread_per_s"] = A / t_1[0]
            if A == 100:
                t_loop = timed(lambda: [summaries(solve(YY[a], SS[a], TP, MP)) for a in range(A)])  # noqa: B023
                t_old = timed(lambda: [summaries(old.solve(YY[a], SS[a], TP, MP)) for a in range(20)])  # noqa: B023
                t_old = (t_old[0] * A / 20, t_old[1] * A / 20)
                row("100 analyses k = 8: batch vs loop", "solve_batch", t_b, "loop of current solve", t_loop)
                row("100 analyses k = 8: batch vs previous", "solve_batch", t_b, "loop of previous solve", t_old,
                    note="previous timed on 20 analyses, scaled x5")
            print(f"solve_batch, {A} analyses of k = 8: {A / t_b[0]:.0f} per second, {A / t_1[0]:.0f} on one thread, "
                  f"{A / t_b[1]:.0f} per CPU second (load {os.getloadavg()[0]:.1f})")
    if want(4):
        # 4. exact leave-one-out at k = 500
        y5, s5 = data(500, seed=3)
        t_loo = timed(lambda: exact_loo(y5, s5, TP, MP))

        def refit10():
            for i in range(10):
                keep = np.arange(500) != i
                d = old.solve(y5[keep], s5[keep], TP, MP).draws(20000, rng=i)
                _ = np.mean(np.exp(-0.5 * (y5[i] - d["mu"]) ** 2 / (s5[i] ** 2 + d["tau"] ** 2)))

        t_ref = timed(refit10)
        row("exact LOO, k = 500", "downdating (exact_loo)", t_loo, "refit k times (previous)", (t_ref[0] * 50, t_ref[1] * 50),
            note="refits timed on 10 studies, scaled x50")
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "k500.csv"
            csv.write_text("study,yi,sei\n" + "".join(f"s{i},{a:.6f},{b:.6f}\n" for i, (a, b) in enumerate(zip(y5, s5))))
            t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            pr = subprocess.run([sys.executable, "-m", "bayesmeta.cli", "analyse", str(csv), "--measure", "GEN",
                                 "--lower-is-better", "--margin", "0.2", "--no-sample", "--quiet", "--out",
                                 str(Path(tmp) / "rep")], cwd=ROOT, capture_output=True, text=True)
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            res["values"]["analyse_500_no_sample"] = {"seconds": time.perf_counter() - t0, "exit": pr.returncode,
                                                      "cpu_seconds": (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime),
                                                      "stderr_tail": pr.stderr[-500:], "load_1min": os.getloadavg()[0]}
            print("bayesmeta analyse, 500 studies, --no-sample:", res["values"]["analyse_500_no_sample"]["seconds"], "s")
    if want(5):
        # 5. sampling a 20-prior run
        kw = dict(draws=500, tune=500, chains=2)
        scales = np.linspace(0.2, 2.0, 20)
        eng = fitmod.Sampler()
        t0, c0 = time.perf_counter(), time.process_time()
        for sc in scales:
            fitmod.fit_normal_normal(Y8, S8, halfnormal(float(sc)), MP, seed=1, engine=eng, **kw)
        t_refit = (time.perf_counter() - t0, time.process_time() - c0)

        def recompile2():
            for sc in scales[:2]:
                fitmod.fit_normal_normal(Y8, S8, halfnormal(float(sc)), MP, seed=1, engine=fitmod.Sampler(cache=None), **kw)

        def fresh_sampler2():  # a new Sampler per prior (a new process would do the same): disk cache hit
            for sc in scales[:2]:
                fitmod.fit_normal_normal(Y8, S8, halfnormal(float(sc)), MP, seed=1, engine=fitmod.Sampler(), **kw)

        def pymc2():
            for sc in scales[:2]:
                fitmod.fit_normal_normal(Y8, S8, halfnormal(float(sc)), MP, seed=1, sampler="pymc", **kw)

        t_rec, t_pymc, t_fresh = timed(recompile2), timed(pymc2), timed(fresh_sampler2)
        per = lambda t, n: (t[0] / n, t[1] / n)
        row("20-prior run, per fit", "Sampler: 1 compile + with_data", per(t_refit, 20), "recompile every prior (no disk cache)",
            per(t_rec, 2), note=f"compile seconds {eng.compile_log[0][1]:.1f}")
        row("20-prior run, per fit (disk cache)", "Sampler: 1 compile + with_data", per(t_refit, 20),
            "new Sampler per prior, compile cache warm", per(t_fresh, 2))
        row("20-prior run, per fit (PyMC)", "Sampler: 1 compile + with_data", per(t_refit, 20), "naive PyMC loop",
            per(t_pymc, 2))
    if want(6):
        # 6. seed reanalysis, cold and warm processes; normand study level in one process
        if not QUICK:
            code = ("import resource, sys, time, json; t = time.perf_counter(); from bayesmeta.cli import main\n"
                    "try:\n    main(sys.argv[1:], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
                    "print(json.dumps({'seconds': time.perf_counter() - t, "
                    "'peak_rss_mb': [int(ln.split()[1]) / 1024 for ln in open('/proc/self/status') "
                    "if ln.startswith('VmHWM')][0]}))")  # VmHWM: this process only (ru_maxrss keeps the parent's)
            with tempfile.TemporaryDirectory() as tmp:
                runs = []
                for _ in range(2):
                    pr = subprocess.run([sys.executable, "-c", code, "reanalyze", "models/viderman2023.toml", "--quiet",
                                         "--out", str(Path(tmp) / "seed")], cwd=ROOT, capture_output=True, text=True)
                    last = [ln for ln in pr.stdout.splitlines() if ln.startswith("{")]
                    runs.append(json.loads(last[-1]) if last else {"error": pr.stderr[-500:]})
                res["values"]["seed_reanalysis"] = {"cold_process": runs[0], "warm_process": runs[1],
                                                    "load_1min": os.getloadavg()[0]}
                print("seed reanalysis:", runs)
            from bayesmeta.pipeline import reanalysis
            spec = ROOT / "models" / "normand1999.toml"
            if True:
                times = []
                for _ in range(2):
                    n0 = len(fitmod.DEFAULT.compile_log)
                    t0 = time.perf_counter()
                    reanalysis.reanalyse(spec)
                    times.append({"seconds": time.perf_counter() - t0,
                                  "compiles": len(fitmod.DEFAULT.compile_log) - n0})
                res["values"]["normand_study_level_in_process"] = {"cold": times[0], "warm": times[1],
                                                                   "load_1min": os.getloadavg()[0]}
                print("normand1999 in one process:", times)
    if want(7) and not QUICK:
        # 7. compiled models across processes: compile alone, then the normand1999 reanalysis
        res["values"]["compile_cache"] = compile_cache_section(row)
    res["load_end"] = os.getloadavg()[0]
    res["peak_rss_mb_benchmark_process"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = ROOT / "benchmarks" / "results.json"
    out.write_text(json.dumps(res, indent=2))
    (out.with_suffix(".md")).write_text(summary_md(res))
    print(f"wrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    sys.exit(main())
