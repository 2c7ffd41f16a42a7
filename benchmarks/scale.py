"""Large reviews and large k (issue 20): the user paths as ratios against baselines run in the same process.

Run: .venv/bin/python benchmarks/scale.py [--quick] [--only-batch | --only-summary]   (writes benchmarks/scale.json and scale.md;
``--only-batch`` reruns rows 2 and 3 and keeps the other rows of the last run with their date and load)

Rows (each: the toolkit against a baseline measured side by side in this run, with the 1-minute
load average of the 2-core machine at that moment; absolute times move with the load, ratios less):

1. ``post.summary(0.95, "hdi")`` at k = 8 ... 10,000 (simulated, tau^2 = 0.1; and at k = 1,000 and
   10,000 with tau^2 = 0, where the posterior of tau reaches down to 0 and no pair of Gauss rules
   agrees, the slowest case): the study marginals (``theta_summary``:
   each study on a Gauss rule of the tau posterior where two rules agree, the full mixture
   otherwise) against the full mixture for every study (``reduction=False``: commit b78f904's
   kernel, with the current row routines; same process), with ``summary()`` itself (repeated on
   one posterior: ``summary_s``; and ``solve(...).summary()`` on a fresh posterior, whose modes,
   joint MAP and Gauss rules are computed on first use: ``solve_and_first_summary_s``), the share of
   studies on a Gauss rule, and the per-study path (``post.theta(i)``: median, HDI and mode one
   study at a time; timed on up to 50 studies and scaled by k / 50). ``--only-summary`` reruns
   this row alone.
2. ``solve_batch`` on 10,000 meta-analyses of k = 8 (tau ~ HN(0.5), mu ~ N(0, 1)): analyses per
   wall second (threads = 1 and 2) and per CPU second, against a lean NumPy yardstick run on the
   same data (a 400-node trapezoid grid in tau, mu given tau in closed form, quantiles by
   vectorised Newton steps on the mixture CDF; see :func:`yardstick`), with the largest
   difference of the posterior means as a sanity check (grid error, ~1e-4).
3. ``bayesmeta batch`` on 10,000 published results (the synthetic table of
   benchmarks/batch_input.py): ``run_batch`` end to end in this process (read, validate,
   reanalyse, write CSV, figure and provenance) against the previous code kept here as
   :func:`previous_run_batch` (row-by-row reader, per-row SEs, ``check_published`` per row,
   ``PooledBatch.ppf`` per quantile; it writes fewer columns and no notes, so it is if anything
   flattered); the two tables are asserted equal (consistency columns exactly, quantiles to the
   Newton tolerance). Also the command a user types, in a fresh process (median of 3 runs, each
   listed; issue 20's target is under 5 s; its batch.csv and batch.png are asserted equal to
   run_batch's byte for byte) beside, interleaved, the same command with the modules every CLI call
   imported before issue 20 imported first (``cli_eager_imports``: a same-moment yardstick, since the
   VM's speed drifts), and, in fresh processes (median of 3), ``import bayesmeta.batch.cli``
   (``import_only``) and ``import bayesmeta`` alone: interpreter start and package import are part
   of every CLI call.
4. ``bayesmeta analyse --no-sample`` in a fresh process at k = 2,000 (and 20,000 without
   ``--quick``): wall time and peak memory, against the stored baseline of the previous code (issue
   20: 370 s and 2.0 GB at k = 2,000 on a quiet machine; at k = 20,000 it ran out of time at 318 s
   with 16.8 GB), with the report's HTML size and its largest figure in pixels.
5. ``bayesmeta analyse`` with sampling (nutpie, 4 chains) at k = 2,000, the model's compile cached
   by a first run: CPU seconds against the stored CPU seconds of commit 2524904 (436.9 CPU s, where
   the sampled summary reduced the whole draws array once per study), and the progress lines the
   user saw (printed).
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


def data(k, seed=1, tau2=0.1):
    rng = np.random.default_rng(seed)
    sei = rng.uniform(0.1, 0.5, k)
    return rng.normal(0.2, np.sqrt(sei**2 + tau2)), sei


def per_study(post, n):
    for i in range(n):
        d = post.theta(i)
        d.median(), d.interval(0.95, "hdi"), d.mode(), d.mean(), d.sd()


def summaries():
    from bayesmeta.bayes import _kernels as K

    # tau^2 = 0.1 (I^2 ~ 60%), and tau^2 = 0: the posterior of tau reaches down to 0, no pair of
    # Gauss rules agrees and every study takes the full mixture (from the largest rule's starts)
    cases = [(k, 0.1) for k in ((8, 1000) if QUICK else (8, 100, 1000, 10_000))] + \
        [(k, 0.0) for k in ((1000,) if QUICK else (1000, 10_000))]
    for k, tau2 in cases:
        y, s = data(k, tau2=tau2)
        post = solve(y, s, halfnormal(0.5), normal(0, 1))
        post.summary(0.95, "hdi")  # compile
        post.theta_summary(0.95, "hdi", reduction=False)
        tf, _ = clock(lambda post=post: post.theta_summary(0.95, "hdi", reduction=False))
        tn, _ = clock(lambda post=post: post.theta_summary(0.95, "hdi"))
        ts, _ = clock(lambda post=post: post.summary(0.95, "hdi"))
        # what a script pays for one analysis: solve, then the first summary() of the fresh
        # posterior (its modes, joint MAP and Gauss rules are computed on first use)
        tfirst, _ = clock(lambda y=y, s=s: solve(y, s, halfnormal(0.5), normal(0, 1)).summary(0.95, "hdi"))
        n = min(k, 50)
        to, _ = clock(lambda post=post, n=n: per_study(post, n), repeat=1)
        rules = post._gauss_rules if k >= post.GAUSS_MIN_K else None
        share = 0.0
        if rules is not None:
            used = np.full(k, -1, dtype=np.int64)
            K.study_marginals_gauss(*rules, post.yi, post.sei**2, 0.95, True, post.GAUSS_TOL, 0, k,
                                    np.empty((k, 6)), np.ones(k, dtype=np.bool_), used)
            share = float((used >= 0).mean())
        row(f"study marginals, k = {k}" + ("" if tau2 else ", tau^2 = 0 (tau near 0)"), "full mixture per study (reduction=False: b78f904's kernel)", tf,
            "theta_summary (Gauss rules where they agree)", tn, summary_s=ts, solve_and_first_summary_s=tfirst,
            per_study_path_s=to * k / n,
            gauss_share=share)


def yardstick(y, s, n_tau=400, tau_max=3.0, prior_sd=1.0, hn_scale=0.5, probs=(0.025, 0.5, 0.975)):
    """Lean NumPy exact-by-grid normal-normal posterior of mu per row: (mean, sd, quantiles).

    tau ~ HN(hn_scale), mu ~ N(0, prior_sd^2): p(tau | y) on an equispaced grid of ``n_tau`` nodes
    in (0, tau_max] (trapezoid weights), mu | tau, y in closed form, so the marginal of mu is a
    normal mixture; its quantiles by Newton steps on the mixture CDF (8 steps from the normal
    approximation; converged to ~1e-10 here), everything vectorised over rows (chunks of 1,000).
    What a careful user would write in NumPy in an afternoon: no range finding, no tail handling.
    """
    A = y.shape[0]
    tau = np.linspace(0, tau_max, n_tau + 1)[1:]
    tw = np.full(n_tau, tau[0])
    tw[-1] *= 0.5
    z = special.ndtri(np.asarray(probs))
    out = np.empty((A, 2 + z.size))
    for a in range(0, A, 1000):
        yy, ss = y[a:a + 1000, None, :], s[a:a + 1000, None, :]
        w = 1.0 / (ss**2 + tau[None, :, None] ** 2)
        prec = w.sum(-1) + 1 / prior_sd**2
        m = (w * yy).sum(-1) / prec
        ll = 0.5 * np.log(w).sum(-1) - 0.5 * (w * yy**2).sum(-1) + 0.5 * prec * m**2 - 0.5 * np.log(prec)
        lp = ll - 0.5 * (tau / hn_scale) ** 2
        p = np.exp(lp - lp.max(1, keepdims=True)) * tw
        p /= p.sum(1, keepdims=True)
        sd_c = 1 / np.sqrt(prec)
        mean = (p * m).sum(1)
        sd = np.sqrt((p * (sd_c**2 + m**2)).sum(1) - mean**2)
        x = mean[:, None] + sd[:, None] * z[None, :]
        for _ in range(8):
            u = (x[:, None, :] - m[:, :, None]) / sd_c[:, :, None]
            F = (p[:, :, None] * special.ndtr(u)).sum(1)
            f = (p[:, :, None] * np.exp(-0.5 * u**2) / sd_c[:, :, None]).sum(1) / np.sqrt(2 * np.pi)
            x = x - (F - np.asarray(probs)) / f
        out[a:a + 1000] = np.column_stack([mean, sd, x])
    return out


def batch_throughput():
    A = 2000 if QUICK else 10_000
    rng = np.random.default_rng(3)
    s = rng.uniform(0.1, 0.5, (A, 8))
    y = rng.normal(0.1, np.sqrt(s**2 + 0.04))
    tp, mp = halfnormal(0.5), normal(0, 1)
    solve_batch(y[:50], s[:50], tp, mp)
    yardstick(y[:50], s[:50])
    l0 = load()
    t1 = clock(lambda: solve_batch(y, s, tp, mp, workers=1))
    t2 = clock(lambda: solve_batch(y, s, tp, mp, workers=2))
    ty = clock(lambda: yardstick(y, s))
    ds = solve_batch(y[:200], s[:200], tp, mp)
    ys = yardstick(y[:200], s[:200])
    agree = float(np.max(np.abs(ds["mu_mean"].values[:, 0] - ys[:, 0])))
    row(f"solve_batch, {A:,} analyses of k = 8", "NumPy yardstick (400-node tau grid, 1 thread)", ty[0],
        "solve_batch (2 threads)", t2[0], load_before=l0, per_wall_s_2threads=A / t2[0], per_wall_s_1thread=A / t1[0],
        per_cpu_s_1thread=A / t1[1], cpu_s_2threads=t2[1], yardstick_per_wall_s=A / ty[0],
        yardstick_per_cpu_s=A / ty[1], yardstick_mu_mean_max_abs_diff=agree)


def previous_published(inp, preset=None):
    """The published-rows path of ``bayesmeta batch`` before issue 20's vectorisation (commit
    acd8a1a, kept here as the baseline): per-row SEs and margins, ``check_published`` row by row,
    ``PooledBatch.ppf`` per quantile. Returns the same table as ``reanalyse`` (quantiles to 1e-12)."""
    import json as _json

    from scipy import stats as _stats

    from bayesmeta.batch import engine
    from bayesmeta.batch.run import LEVEL, _margin, default_mu_prior
    from bayesmeta.effects.measures import get_measure
    from bayesmeta.published.consistency import check_published, interval_quantile

    df = inp.frame.reset_index(drop=True)
    est, se = np.empty(len(df)), np.empty(len(df))
    for i, r in enumerate(df.itertuples(index=False)):
        m = get_measure(r.measure)
        est[i] = float(m.to_analysis(r.estimate))
        if np.isfinite(r.ci_lb) and np.isfinite(r.ci_ub):
            se[i] = float(m.se_from_ci(r.ci_lb, r.ci_ub, r.ci_level))
            if preset is not None:
                q, dof = interval_quantile(r.ci_level, preset, None if not np.isfinite(r.k) else int(r.k))
                if dof is not None:
                    se[i] *= float(_stats.norm.ppf(0.5 + r.ci_level / 2)) / q
        else:
            se[i] = r.se_given
    priors = [default_mu_prior(m) for m in df["measure"]]
    out = pd.DataFrame({"analysis": df["analysis"], "estimate": est, "se": se,
                        "lower_is_better": df["lower_is_better"].astype(bool)})
    cols = {c: np.full(len(df), np.nan) for c in ("mu_mean", "mu_sd", "mu_median", "mu_eti95_lb", "mu_eti95_ub",
                                                   "p_below0", "p_below_margin", "log_bf10")}
    d = np.array([_margin(m, g) for m, g in zip(df["measure"], df["margin"], strict=True)])
    d_signed = np.where(out["lower_is_better"], d, -d)
    keys = pd.Series([_json.dumps(p.to_dict(), sort_keys=True) for p in priors])
    for group in keys.groupby(keys).groups.values():
        idx = np.asarray(group)
        for st in range(0, idx.size, 2000):
            j = idx[st:st + 2000]
            post = engine.pooled_posterior(est[j], se[j], priors[idx[0]])
            cols["mu_mean"][j], cols["mu_sd"][j] = post.mean(), post.sd()
            for q, c in ((0.5, "mu_median"), ((1 - LEVEL) / 2, "mu_eti95_lb"), ((1 + LEVEL) / 2, "mu_eti95_ub")):
                cols[c][j] = post.ppf(q)
            cols["p_below0"][j] = post.cdf(np.zeros(j.size))
            cols["p_below_margin"][j] = post.cdf(np.nan_to_num(d_signed[j]))
            cols["log_bf10"][j] = post.log_bf10
    out = out.assign(**cols)
    sym, pcons, nimp = [], [], []
    for r in df.itertuples(index=False):
        if np.isfinite(r.ci_lb):
            chk = check_published(r.estimate, r.ci_lb, r.ci_ub, None if np.isnan(r.p) else r.p, level=r.ci_level,
                                  measure=r.measure, decimals=None if np.isnan(r.decimals) else int(r.decimals),
                                  preset=preset, k=None if not np.isfinite(r.k) else int(r.k))
            sym.append(chk.ci_symmetric)
            pcons.append(chk.p_consistent)
            nimp.append(chk.n_implied if chk.n_implied is not None else np.nan)
        else:
            sym.append(None)
            pcons.append(None)
            nimp.append(np.nan)
    out["ci_symmetric"], out["p_consistent"], out["participants_implied"] = sym, pcons, nimp
    return out


def previous_run_batch(path, out):
    """End to end with the previous code: the row-by-row reader, :func:`previous_published`, and the
    same CSV, figure and provenance writing as :func:`bayesmeta.batch.run.run_batch`."""
    from bayesmeta._io import write_csv
    from bayesmeta.batch import table as T
    from bayesmeta.batch.figure import summary_figure

    fast, T._published_fast = T._published_fast, lambda header, body: None
    try:
        inp = T.read_batch(path)
    finally:
        T._published_fast = fast
    t = previous_published(inp)
    t["p_benefit"] = np.where(t["lower_is_better"], t["p_below0"], 1 - t["p_below0"])
    t["p_noninferior"] = np.where(t["lower_is_better"], t["p_below_margin"], 1 - t["p_below_margin"])
    t["log10_bf10_effect"] = t["log_bf10"] / np.log(10)
    t["consistent"] = [None if a is None else bool(a and b is not False) for a, b in zip(t["ci_symmetric"],
                                                                                        t["p_consistent"])]
    t["uoa_flag"] = False
    write_csv(Path(out) / "batch.csv", t)
    summary_figure(t, Path(out) / "batch.png")
    (Path(out) / "batch.json").write_text(json.dumps({"versions": versions()}))
    return t


def batch_published():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from batch_input import table

    from bayesmeta.batch.run import run_batch

    n = 2000 if QUICK else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "published.csv"
        table(n).to_csv(p, index=False)
        run_batch(p, Path(tmp) / "warm", progress=False)  # compiles and imports once
        l0 = load()
        w, c = time.perf_counter(), time.process_time()
        new = run_batch(p, Path(tmp) / "out", progress=False)
        tw, tc = time.perf_counter() - w, time.process_time() - c
        w, c = time.perf_counter(), time.process_time()
        old = previous_run_batch(p, Path(tmp) / "old")
        bw, bc = time.perf_counter() - w, time.process_time() - c
        # same per-row numbers: consistency exactly, quantiles to the Newton tolerance
        for col in ("estimate", "se", "mu_mean", "mu_sd", "p_benefit", "participants_implied"):
            assert np.array_equal(new[col].to_numpy(float), old[col].to_numpy(float), equal_nan=True), col
        for col in ("ci_symmetric", "p_consistent", "consistent"):
            assert list(new[col]) == list(old[col]), col
        qdiff = max(float(np.max(np.abs(new[c].to_numpy(float) - old[c].to_numpy(float))))
                    for c in ("mu_median", "mu_eti95_lb", "mu_eti95_ub"))
        # the command a user types, in a fresh process (interpreter start and imports included; issue 20's
        # target: under 5 s); median of 3 runs, and its output equals run_batch's byte for byte
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
        cmd = [sys.executable, "-c", "import sys; from bayesmeta.cli import main; sys.exit(main())", "batch", str(p),
               "--out", str(Path(tmp) / "cli"), "--quiet"]
        # the same-moment yardstick for it (this 2-core VM's speed drifts by tens of percent over an
        # afternoon): the command with what every CLI call imported before issue 20's lazy imports
        # first (bayesmeta's eager front door: the exact engine, numba, xarray, scipy.optimize; the
        # report writer, imported by every command's error handler: matplotlib, the pipeline; the
        # --measure help: scipy.stats), interleaved with the current command
        eager = [cmd[0], "-c", "import sys, bayesmeta.api, bayesmeta.report.writer, scipy.stats; "
                 "from bayesmeta.cli import main; sys.exit(main())", "batch", str(p), "--out",
                 str(Path(tmp) / "cli_eager"), "--quiet"]
        cli_load = load()
        cli, old_cli = [], []
        for _ in range(3):
            cli.append(fresh(cmd, env))
            old_cli.append(fresh(eager, env))
        for d in ("cli", "cli_eager"):
            for name in ("batch.csv", "batch.png"):
                assert (Path(tmp) / d / name).read_bytes() == (Path(tmp) / "out" / name).read_bytes(), (d, name)
        imp = [fresh([sys.executable, "-c", "import bayesmeta.batch.cli"], env) for _ in range(3)]
        imp_bm = [fresh([sys.executable, "-c", "import bayesmeta"], env) for _ in range(3)]
    (cw, cc), (ow, _), (iw, ic), (bmw, _) = (sorted(runs)[1] for runs in (cli, old_cli, imp, imp_bm))  # medians
    row(f"bayesmeta batch, {n:,} published results", "previous code (row by row, same process)", bw,
        "run_batch end to end", tw, load_before=l0, cpu_s=tc, baseline_cpu_s=bc, quantile_max_abs_diff=qdiff,
        cli_fresh_process_wall_s=cw, cli_fresh_process_cpu_s=cc, cli_fresh_process_runs_s=" / ".join(
            f"{w:.2f}" for w, _ in cli), cli_eager_imports_wall_s=ow, cli_eager_imports_runs_s=" / ".join(
            f"{w:.2f}" for w, _ in old_cli), cli_vs_eager=cw / ow, cli_load_before=cli_load, import_only_wall_s=iw,
        import_only_cpu_s=ic,
        import_bayesmeta_wall_s=bmw)


def fresh(cmd: list[str], env: dict) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of ``cmd`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - w
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def px(path: Path) -> tuple[int, int]:
    b = path.read_bytes()[:24]
    return struct.unpack(">II", b[16:24])


def analyse(k: int, baseline_s: float | None, baseline_gb: float | None, sample: bool = False):
    rng = np.random.default_rng(k)
    sei = rng.uniform(0.1, 0.5, k)
    y = rng.normal(0.1, np.sqrt(sei**2 + 0.04))
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / f"k{k}.csv"
        pd.DataFrame({"study": [f"S{i + 1}" for i in range(k)], "yi": y.round(4), "sei": sei.round(4),
                      "source": "simulated"}).to_csv(csv, index=False)
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-c", "import sys; from bayesmeta.cli import main; sys.exit(main())", "analyse",
               str(csv), "--measure", "MD", "--lower-is-better", "--margin", "0.2",
               *(() if sample else ("--no-sample",)), "--out", str(out)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w = time.perf_counter()
        if sample:  # compile the model structure once first: the row times a run with the compiled model cached
            subprocess.run([*cmd[:-1], str(Path(tmp) / "warm")], env=env, check=True, capture_output=True, text=True)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            w = time.perf_counter()
        done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        tw = time.perf_counter() - w
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_gb = after.ru_maxrss / 1024**2  # the largest child so far (kB -> GB): run order matters
        html = (out / "report.html").stat().st_size / 1e6
        figs = {p.name: px(p) for p in (out / "figures").glob("*.png")}
        tallest = max(figs.items(), key=lambda kv: kv[1][1])
    if sample:  # the progress lines a user sees (sampling is announced with its expected time when it runs > 3 s)
        print(done.stderr, flush=True)
    extra = dict(cpu_s=after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, peak_gb=peak_gb,
                 html_mb=html, tallest_figure=f"{tallest[0]} {tallest[1][0]} x {tallest[1][1]} px",
                 baseline_peak_gb=baseline_gb)
    if sample:
        row(f"bayesmeta analyse (sampling, model compiled), k = {k:,}",
            "previous code (stored: CPU s of 2524904, niced under load; the sum of the study rows was quadratic)",
            baseline_s, "current (CPU s)", extra["cpu_s"], wall_s=tw, **extra)
    elif baseline_s is not None:
        row(f"bayesmeta analyse --no-sample, k = {k:,}", "previous code (stored, issue 20, quiet machine)",
            baseline_s, "current", tw, **extra)
    else:
        LOG.append({"benchmark": f"bayesmeta analyse --no-sample, k = {k:,}", "other": "current", "other_s": tw,
                    "load": load(), **extra})
        print(LOG[-1], flush=True)


ONLY_BATCH = "--only-batch" in sys.argv
ONLY_SUMMARY = "--only-summary" in sys.argv
BATCH_ROWS = ("solve_batch", "bayesmeta batch")


def main():
    t0 = load()
    kept: list[dict] = []
    if ONLY_BATCH or ONLY_SUMMARY:
        # rerun rows 2 and 3 (or row 1) only; keep the other rows of the last full run with their own date and load
        old = json.loads((ROOT / "benchmarks" / "scale.json").read_text())
        rerun = BATCH_ROWS if ONLY_BATCH else ("study",)
        kept = [{**r, "measured": r.get("measured", old["date"])} for r in old["rows"]
                if not r["benchmark"].startswith(rerun)]
    if not ONLY_BATCH:
        summaries()
    if not ONLY_SUMMARY:
        batch_throughput()
        batch_published()
    if not (ONLY_BATCH or ONLY_SUMMARY):
        analyse(2000, 370.0, 2.0)
        if not QUICK:
            analyse(20_000, None, 16.8)
        # last: peak memory is the largest child process so far (getrusage), so the sampled run,
        # which keeps every draw, must not precede the rows it would mask
        analyse(2000, 436.9, 1.86, sample=True)
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for r in LOG:
        r["measured"] = date
    rows = [r for r in kept if r["benchmark"].startswith("study")] + LOG + [r for r in kept
                                                                            if not r["benchmark"].startswith("study")]
    res = {"date": date, "load_start": t0, "load_end": load(), "versions": versions(), "rows": rows}
    (ROOT / "benchmarks" / "scale.json").write_text(json.dumps(res, indent=2, default=float))
    lines = [f"# Large k and large reviews (issue 20): {res['date']}, 2 shared cores, load {t0} -> {res['load_end']}",
             "", "Written by `benchmarks/scale.py` (see its docstring for what each row measures). Each row: the "
             "toolkit ('other') against a baseline run side by side in the same process; `other / baseline` "
             "below 1 means the toolkit is faster. Times are wall seconds (best of 3 where repeated); CPU seconds "
             "(`time.process_time`, all threads) and the 1-minute load average of the 2 shared cores "
             "(`os.getloadavg`) stand beside them, since another helper and CI ran at the same time. "
             "`measured` is when the row was last run.", "",
             "| benchmark | baseline | s | other | s | other / baseline | load | notes |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        notes = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items()
                          if k not in ("benchmark", "baseline", "baseline_s", "other", "other_s", "ratio", "load")
                          and v is not None)
        lines.append(f"| {r['benchmark']} | {r.get('baseline', '')} | {r.get('baseline_s', float('nan')):.4g} | "
                     f"{r['other']} | {r['other_s']:.4g} | {r.get('ratio', float('nan')):.3g} | {r['load']} | {notes} |")
    (ROOT / "benchmarks" / "scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
