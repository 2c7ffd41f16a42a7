"""Large reviews and large k (issue 20): the user paths as ratios against baselines run in the same process.

Run: .venv/bin/python benchmarks/scale.py [--quick]   (writes benchmarks/scale.json and scale.md)

Rows (each: the toolkit against a baseline measured side by side in this run, with the 1-minute
load average of the 2-core machine at that moment; absolute times move with the load, ratios less):

1. ``post.summary(0.95, "hdi")`` at k = 8 ... 10,000: the vectorised study marginals
   (``theta_summary``, one compiled kernel) against the per-study path it replaced
   (``post.theta(i)``: median, HDI and mode one study at a time; timed on up to 50 studies and
   scaled by k / 50).
2. ``solve_batch`` on 10,000 meta-analyses of k = 8 (tau ~ HN(0.5), mu ~ N(0, 1)): analyses per
   wall second and per CPU second, threads = 1 and 2, against a lean NumPy yardstick (a 400-node
   tau grid with mu integrated in closed form and a 400-point mu grid for the quantiles, vectorised
   over the analyses), run on the same data.
3. ``bayesmeta batch`` on 10,000 published results (the synthetic table of
   benchmarks/batch_published.py) in this process, end to end (read, validate, reanalyse, write).
4. ``bayesmeta analyse --no-sample`` in a fresh process at k = 2,000 (and 20,000 without
   ``--quick``): wall time and peak memory, against the stored baseline of the previous code (issue
   20: 370 s and 2.0 GB at k = 2,000 on a quiet machine; at k = 20,000 it ran out of time at 318 s
   with 16.8 GB), with the report's HTML size and its largest figure in pixels.
"""
from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import special  # noqa: E402

from bayesmeta.bayes.batch import solve_batch  # noqa: E402
from bayesmeta.bayes.exact import solve  # noqa: E402
from bayesmeta.bayes.priors import halfnormal, normal  # noqa: E402
from bayesmeta.provenance import versions  # noqa: E402

QUICK = "--quick" in sys.argv
LOG: list[dict] = []


def load() -> float:
    return round(os.getloadavg()[0], 1)


def clock(fn, repeat: int = 3) -> tuple[float, float]:
    """Best wall and CPU seconds of ``repeat`` calls."""
    best = (np.inf, np.inf)
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - w, time.process_time() - c))
    return best


def row(name, base, tb, other, to, **extra):
    r = {"benchmark": name, "baseline": base, "baseline_s": tb, "other": other, "other_s": to,
         "ratio": to / tb, "load": load(), **extra}
    LOG.append(r)
    print(f"{name}: {base} {tb:.4g} s | {other} {to:.4g} s | ratio {to / tb:.3g} | load {r['load']}", flush=True)


def data(k, seed=1):
    rng = np.random.default_rng(seed)
    sei = rng.uniform(0.1, 0.5, k)
    return rng.normal(0.2, np.sqrt(sei**2 + 0.1)), sei


def per_study(post, n):
    for i in range(n):
        d = post.theta(i)
        d.median(), d.interval(0.95, "hdi"), d.mode(), d.mean(), d.sd()


def summaries():
    for k in ((8, 1000) if QUICK else (8, 100, 1000, 10_000)):
        y, s = data(k)
        post = solve(y, s, halfnormal(0.5), normal(0, 1))
        post.summary(0.95, "hdi")  # compile
        tn, _ = clock(lambda: post.theta_summary(0.95, "hdi"))
        ts, _ = clock(lambda: post.summary(0.95, "hdi"))
        n = min(k, 50)
        to, _ = clock(lambda: per_study(post, n), repeat=1)
        row(f"study marginals, k = {k}", "theta_summary (one kernel)", tn, "per-study path", to * k / n,
            summary_s=ts)


def yardstick(y, s, n_tau=400, n_mu=400, tau_max=3.0, prior_sd=1.0, hn_scale=0.5):
    """Lean NumPy exact-by-grid normal-normal posterior (mean, sd, 2.5/50/97.5% of mu) per row."""
    A = y.shape[0]
    tau = np.linspace(0, tau_max, n_tau)[1:]
    out = np.empty((A, 5))
    for a in range(0, A, 500):
        yy, ss = y[a:a + 500, None, :], s[a:a + 500, None, :]
        w = 1.0 / (ss**2 + tau[None, :, None] ** 2)
        prec = w.sum(-1) + 1 / prior_sd**2
        m = (w * yy).sum(-1) / prec
        ll = 0.5 * np.log(w).sum(-1) - 0.5 * (w * yy**2).sum(-1) + 0.5 * prec * m**2 - 0.5 * np.log(prec)
        lp = ll - 0.5 * (tau / hn_scale) ** 2
        p = np.exp(lp - lp.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        mean = (p * m).sum(1)
        sd = np.sqrt((p * (1 / prec + m**2)).sum(1) - mean**2)
        grid = mean[:, None] + sd[:, None] * np.linspace(-6, 6, n_mu)[None, :]
        cdf = (p[:, :, None] * special.ndtr((grid[:, None, :] - m[:, :, None]) * np.sqrt(prec)[:, :, None])).sum(1)
        q = np.array([[np.interp(t, c, g) for t in (0.025, 0.5, 0.975)] for c, g in zip(cdf, grid)])
        out[a:a + 500] = np.column_stack([mean, sd, q])
    return out


def batch_throughput():
    A = 2000 if QUICK else 10_000
    rng = np.random.default_rng(3)
    s = rng.uniform(0.1, 0.5, (A, 8))
    y = rng.normal(0.1, np.sqrt(s**2 + 0.04))
    tp, mp = halfnormal(0.5), normal(0, 1)
    solve_batch(y[:50], s[:50], tp, mp)
    t1 = clock(lambda: solve_batch(y, s, tp, mp, workers=1))
    t2 = clock(lambda: solve_batch(y, s, tp, mp, workers=2))
    ty = clock(lambda: yardstick(y, s), repeat=1)
    row(f"solve_batch, {A:,} analyses of k = 8", "solve_batch (2 threads)", t2[0], "NumPy yardstick (400-node grid)",
        ty[0], per_wall_s_2threads=A / t2[0], per_wall_s_1thread=A / t1[0], per_cpu_s=A / t1[1],
        yardstick_per_wall_s=A / ty[0])


def batch_published():
    from benchmarks.batch_published import table

    from bayesmeta.batch.run import run_batch

    n = 2000 if QUICK else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "published.csv"
        table(n).to_csv(p, index=False)
        run_batch(p, Path(tmp) / "warm", progress=False)  # compiles and imports once
        w, c = time.perf_counter(), time.process_time()
        run_batch(p, Path(tmp) / "out", progress=False)
        tw, tc = time.perf_counter() - w, time.process_time() - c
    row(f"bayesmeta batch, {n:,} published results", "target", 5.0, "run_batch end to end", tw, cpu_s=tc)


def px(path: Path) -> tuple[int, int]:
    b = path.read_bytes()[:24]
    return struct.unpack(">II", b[16:24])


def analyse(k: int, baseline_s: float | None, baseline_gb: float | None):
    rng = np.random.default_rng(k)
    sei = rng.uniform(0.1, 0.5, k)
    y = rng.normal(0.1, np.sqrt(sei**2 + 0.04))
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / f"k{k}.csv"
        pd.DataFrame({"study": [f"S{i + 1}" for i in range(k)], "yi": y.round(4), "sei": sei.round(4),
                      "source": "simulated"}).to_csv(csv, index=False)
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-c", "import sys; from bayesmeta.cli import main; sys.exit(main())", "analyse",
               str(csv), "--measure", "MD", "--lower-is-better", "--margin", "0.2", "--no-sample", "--out", str(out)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        tw = time.perf_counter() - w
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_gb = after.ru_maxrss / 1024**2  # the largest child so far (kB -> GB)
        html = (out / "report.html").stat().st_size / 1e6
        figs = {p.name: px(p) for p in (out / "figures").glob("*.png")}
        tallest = max(figs.items(), key=lambda kv: kv[1][1])
    extra = dict(cpu_s=after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, peak_gb=peak_gb,
                 html_mb=html, tallest_figure=f"{tallest[0]} {tallest[1][0]} x {tallest[1][1]} px",
                 baseline_peak_gb=baseline_gb)
    if baseline_s is not None:
        row(f"bayesmeta analyse --no-sample, k = {k:,}", "previous code (stored, issue 20, quiet machine)",
            baseline_s, "current", tw, **extra)
    else:
        LOG.append({"benchmark": f"bayesmeta analyse --no-sample, k = {k:,}", "other": "current", "other_s": tw,
                    "load": load(), **extra})
        print(LOG[-1], flush=True)


def main():
    t0 = load()
    summaries()
    batch_throughput()
    batch_published()
    analyse(2000, 370.0, 2.0)
    if not QUICK:
        analyse(20_000, None, 16.8)
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_start": t0, "load_end": load(),
           "versions": versions(), "rows": LOG}
    (ROOT / "benchmarks" / "scale.json").write_text(json.dumps(res, indent=2, default=float))
    lines = [f"# Large k and large reviews (issue 20): {res['date']}, 2 shared cores, load {t0} -> {res['load_end']}",
             "", "| benchmark | baseline | s | other | s | other / baseline | load | notes |", "|---|---|---|---|---|---|---|---|"]
    for r in LOG:
        notes = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items()
                          if k not in ("benchmark", "baseline", "baseline_s", "other", "other_s", "ratio", "load")
                          and v is not None)
        lines.append(f"| {r['benchmark']} | {r.get('baseline', '')} | {r.get('baseline_s', float('nan')):.4g} | "
                     f"{r['other']} | {r['other_s']:.4g} | {r.get('ratio', float('nan')):.3g} | {r['load']} | {notes} |")
    (ROOT / "benchmarks" / "scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
