"""Batch reanalysis: a validated table in, one tidy table, a summary figure and provenance out.

Output columns (one row per analysis; effects on the analysis scale, i.e. log for ratio measures,
with ``*_reported`` columns back-transformed):

``analysis, layout, line, measure, k, participants, estimate, se, mu_prior, tau_prior,
mu_mean, mu_sd, mu_median, mu_eti95_lb, mu_eti95_ub`` (+ ``_reported``), ``tau_median,
tau_eti95_lb, tau_eti95_ub`` (study level), ``lower_is_better, p_benefit, margin,
p_noninferior, noninferior`` (P(non-inferior) >= threshold), ``bf10_effect, log10_bf10_effect,
bf_heterogeneity`` (study level), ``ci_symmetric, p_consistent, consistent`` (printed estimate,
CI and p agree within rounding, :mod:`bayesmeta.published.consistency`), ``participants_implied``
(SMD), ``uoa_flag`` and ``notes``.

Unit-of-analysis flags: for a published SMD, more participants implied by its CI than reported
(or randomised) means rows were counted more than once, e.g. time points pooled as studies
(:mod:`bayesmeta.published.unit_of_analysis`); for study rows, a study label entered more than
once in one analysis.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bayesmeta.batch import engine
from bayesmeta.batch.table import BatchInput
from bayesmeta.bayes.priors import Prior, bartos2021, bartos2023, flat, halfnormal
from bayesmeta.decide.decision import Orientation
from bayesmeta.effects.measures import get_measure
from bayesmeta.published.consistency import check_published_many

LEVEL = 0.95


def default_mu_prior(measure: str) -> Prior:
    """Empirical 'neutral' priors on mu (Bartoš et al. 2021, 2023) where they exist, else flat."""
    code = get_measure(measure).code
    if code in ("SMD", "SMD_revman"):
        return bartos2021("mu")
    if code == "OR":
        return bartos2023("logOR", "mu")
    if code == "RR":
        return bartos2023("logRR", "mu")
    return flat("mu")


def default_tau_prior(measure: str) -> Prior:
    """Half-normal(0.5) on tau, for SMD and log-ratio scales (Friede et al. 2017; Röver et al. 2021)."""
    return halfnormal(0.5)


def _analysis_scale(df: pd.DataFrame, preset: str | None = None, path="batch table") -> tuple[np.ndarray, np.ndarray]:
    """Estimates and SEs on the analysis scale; a CI is read with the quantile of the program that
    printed it (``preset``: t(k-1) for RevMan 2025, :func:`bayesmeta.published.consistency.interval_quantile`).

    Vectorised per (measure, CI level): the same element-wise arithmetic as one
    :meth:`Measure.se_from_ci` call per row, so the same numbers.
    """
    from scipy import special

    from bayesmeta.frequentist.presets import get_preset

    meas = df["measure"].to_numpy(dtype=object)
    level = df["ci_level"].to_numpy(float)
    lb, ub = df["ci_lb"].to_numpy(float), df["ci_ub"].to_numpy(float)
    has_ci = np.isfinite(lb) & np.isfinite(ub)
    est = np.empty(len(df))
    se = df["se_given"].to_numpy(float).copy()
    estimate = df["estimate"].to_numpy(float)
    for code in dict.fromkeys(meas):
        rows = meas == code
        m = get_measure(code)
        est[rows] = m.to_analysis(estimate[rows])
        for lev in np.unique(level[rows & has_ci]):
            idx = rows & has_ci & (level == lev)
            se[idx] = m.se_from_ci(lb[idx], ub[idx], float(lev))
    if preset is not None and get_preset(preset).test in ("knha", "knha_adhoc", "t"):
        k = df["k"].to_numpy(float)
        bad = np.nonzero(has_ci & ~(k >= 2))[0]
        if bad.size:
            from bayesmeta.errors import DataError, Problem
            from bayesmeta.published.consistency import interval_quantile

            r = df.iloc[bad[0]]
            try:
                interval_quantile(float(r["ci_level"]), preset, None if not np.isfinite(r["k"]) else int(r["k"]))
            except ValueError as e:
                raise DataError(Problem(str(path), int(r["line"]), "k", f"{e} (row {r['analysis']!r})")) from None
        prob = 0.5 + level[has_ci] / 2
        se[has_ci] *= special.ndtri(prob) / special.stdtrit(np.floor(k[has_ci]) - 1, prob)
    return est, se


def _margin(measure: str, margin: float) -> float:
    if not np.isfinite(margin):
        return np.nan
    return float(Orientation(lower_is_better=True, measure=get_measure(measure).reported_label).to_analysis_scale(margin))


def _margins(measures: np.ndarray, margins: np.ndarray) -> np.ndarray:
    """:func:`_margin` of every row, computed once per distinct (measure, margin)."""
    d = np.full(measures.size, np.nan)
    fin = np.isfinite(margins)
    for m, g in dict.fromkeys(zip(measures[fin], margins[fin], strict=True)):
        d[fin & (measures == m) & (margins == g)] = _margin(m, g)
    return d


def _consistency(df: pd.DataFrame, preset: str | None):
    """Consistency of every row's printed estimate, CI and p, vectorised over rows
    (:func:`bayesmeta.published.consistency.check_published_many`; the same numbers as
    :func:`check_published` row by row). Returns the columns ``ci_symmetric``, ``p_consistent``,
    ``consistent`` (object arrays of True, False or None), ``participants_implied`` and the
    lower bound of the participants implied (float, NaN where not an SMD or no CI)."""
    n = len(df)
    lb = df["ci_lb"].to_numpy(float)
    ci = np.isfinite(lb)
    sym = np.full(n, None, dtype=object)
    pcons = np.full(n, None, dtype=object)
    cons = np.full(n, None, dtype=object)
    nimp, nimp_min = np.full(n, np.nan), np.full(n, np.nan)
    if ci.any():
        sub = df.loc[ci]
        c = check_published_many(sub["estimate"].to_numpy(float), lb[ci], sub["ci_ub"].to_numpy(float),
                                 sub["p"].to_numpy(float), level=sub["ci_level"].to_numpy(float),
                                 measure=sub["measure"].to_numpy(dtype=str), decimals=sub["decimals"].to_numpy(float),
                                 preset=preset, k=sub["k"].to_numpy(float))
        s_ = c.ci_symmetric.astype(bool)
        has_p = ~np.isnan(c.p_consistent)
        p_ = np.where(has_p, c.p_consistent == 1.0, False)
        sym[ci] = s_.tolist()
        pc = np.full(int(ci.sum()), None, dtype=object)
        pc[has_p] = p_[has_p].tolist()
        pcons[ci] = pc
        cons[ci] = (s_ & ~(has_p & ~p_)).tolist()
        nimp[ci], nimp_min[ci] = c.n_implied, c.n_implied_min
    return sym, pcons, cons, nimp, nimp_min


def _published(inp: BatchInput, mu_prior: Prior | None, threshold: float, progress,
               preset: str | None = None) -> pd.DataFrame:
    df = inp.frame.reset_index(drop=True)
    n = len(df)
    est, se = _analysis_scale(df, preset, inp.path)
    meas = df["measure"].to_numpy(dtype=object)
    prior_of = {m: mu_prior or default_mu_prior(m) for m in dict.fromkeys(meas)}
    key_of = {m: json.dumps(p.to_dict(), sort_keys=True) for m, p in prior_of.items()}
    out = pd.DataFrame({"analysis": df["analysis"], "layout": "published", "line": df["line"],
                        "measure": df["measure"], "k": df["k"], "participants": df["participants"],
                        "estimate": est, "se": se, "mu_prior": [prior_of[m].label for m in meas], "tau_prior": "",
                        "lower_is_better": df["lower_is_better"].astype(bool)})
    cols = {c: np.full(n, np.nan) for c in ("mu_mean", "mu_sd", "mu_median", "mu_eti95_lb", "mu_eti95_ub",
                                             "p_below0", "p_below_margin", "log_bf10")}
    d = _margins(meas, df["margin"].to_numpy(float))
    d_signed = np.where(out["lower_is_better"], d, -d)
    keys = np.array([key_of[m] for m in meas], dtype=object)
    step = 2000
    for key in sorted(set(key_of.values())):
        idx = np.nonzero(keys == key)[0]
        prior = prior_of[meas[idx[0]]]
        for s in range(0, idx.size, step):
            j = idx[s:s + step]
            post = engine.pooled_posterior(est[j], se[j], prior)
            cols["mu_mean"][j] = post.mean()
            cols["mu_sd"][j] = post.sd()
            q = post.ppf_many(np.array([0.5, (1 - LEVEL) / 2, (1 + LEVEL) / 2]))
            cols["mu_median"][j], cols["mu_eti95_lb"][j], cols["mu_eti95_ub"][j] = q.T
            cols["p_below0"][j] = post.cdf(np.zeros(j.size))
            cols["p_below_margin"][j] = post.cdf(np.nan_to_num(d_signed[j]))
            cols["log_bf10"][j] = post.log_bf10
            progress(j.size)
    out = out.assign(**{c: v for c, v in cols.items() if c not in ("p_below0", "p_below_margin", "log_bf10")})
    lib = out["lower_is_better"].to_numpy()
    out["p_benefit"] = np.where(lib, cols["p_below0"], 1 - cols["p_below0"])
    out["margin"] = df["margin"]
    out["p_noninferior"] = np.where(np.isfinite(d), np.where(lib, cols["p_below_margin"], 1 - cols["p_below_margin"]),
                                    np.nan)
    with np.errstate(over="ignore"):
        out["bf10_effect"] = np.exp(cols["log_bf10"])
    out["log10_bf10_effect"] = cols["log_bf10"] / np.log(10)
    out["bf_heterogeneity"] = np.nan
    out["tau_median"] = out["tau_eti95_lb"] = out["tau_eti95_ub"] = np.nan
    # consistency of the printed numbers and unit-of-analysis flags
    sym, pcons, cons, nimp, nimp_min = _consistency(df, preset)
    progress(n)
    out["ci_symmetric"] = sym
    out["p_consistent"] = pcons
    out["consistent"] = cons
    out["participants_implied"] = nimp
    pr = df["participants_randomised"].to_numpy(float)
    ref = np.where(np.isfinite(pr), pr, df["participants"].to_numpy(float))
    with np.errstate(invalid="ignore"):
        uoa = np.isfinite(ref) & np.isfinite(nimp_min) & (nimp_min > ref)
    out["uoa_flag"] = uoa.tolist()
    notes: list[list[str]] = [[] for _ in range(n)]
    for i in np.nonzero(sym == False)[0]:  # noqa: E712 (object array of True, False, None)
        notes[i].append("estimate not at the CI midpoint within rounding")
    for i in np.nonzero(pcons == False)[0]:  # noqa: E712
        notes[i].append("printed p disagrees with estimate and CI")
    for i in np.nonzero(uoa)[0]:
        notes[i].append(f"CI implies at least {nimp_min[i]:.0f} participants, more than the {ref[i]:.0f} "
                        "reported: rows counted more than once (time points as studies?)")
    if mu_prior is None:
        for i in np.nonzero(np.array([prior_of[m].family == "flat" for m in meas], dtype=bool))[0]:
            notes[i].append("no empirical mu prior for this measure: flat prior, no Bayes factor")
    out["notes"] = ["; ".join(x) for x in notes]
    return out


def _studies(inp: BatchInput, mu_prior: Prior | None, tau_prior: Prior | None, threshold: float,
             progress) -> pd.DataFrame:
    groups = list(inp.frame.groupby("analysis", sort=False))
    info = []
    for a, g in groups:
        measure = g["measure"].iloc[0]
        lib = bool(g["lower_is_better"].iloc[0])
        d = _margin(measure, float(g["margin"].iloc[0]))
        info.append({"analysis": a, "measure": measure, "lib": lib, "d": d, "c": d if lib else -d,
                     "mp": mu_prior or default_mu_prior(measure), "tp": tau_prior or default_tau_prior(measure),
                     "yi": g["yi"].to_numpy(float), "sei": g["sei"].to_numpy(float), "g": g})
    res: dict[int, dict] = {}
    keys = [json.dumps([i["tp"].to_dict(), i["mp"].to_dict()], sort_keys=True) for i in info]
    for key in dict.fromkeys(keys):
        idx = [j for j, kk in enumerate(keys) if kk == key]
        for s in range(0, len(idx), 2000):
            part = idx[s:s + 2000]
            out = engine.fit_studies([info[j]["analysis"] for j in part], [info[j]["yi"] for j in part],
                                     [info[j]["sei"] for j in part], info[part[0]]["tp"], info[part[0]]["mp"],
                                     [info[j]["c"] for j in part])
            for n, j in enumerate(part):
                res[j] = {c: v[n] for c, v in out.items()}
            progress(sum(info[j]["yi"].size for j in part))
    rows = []
    for j, i in enumerate(info):
        r, g, lib, mp = res[j], i["g"], i["lib"], i["mp"]
        notes = []
        if not mp.proper:
            notes.append("flat mu prior: no Bayes factor for the effect")
        dup = g["study"][g["study"].duplicated()].unique()
        if len(dup):
            notes.append(f"study entered more than once: {', '.join(map(str, dup))} (time points or subgroups "
                         "counted as separate studies?)")
        if get_measure(i["measure"]).code in ("MD", "GEN", "RD") and tau_prior is None:
            notes.append("default tau prior HN(0.5) assumes SMD or log-ratio units; pass --tau-prior")
        p0, pc = r["p_mu_below0"], r["p_mu_below_c"]
        rows.append({"analysis": i["analysis"], "layout": "studies", "line": int(g["line"].iloc[0]),
                     "measure": i["measure"], "k": len(g), "participants": np.nan, "estimate": np.nan,
                     "se": np.nan, "mu_prior": mp.label, "tau_prior": i["tp"].label, "lower_is_better": lib,
                     **{c: float(r[c]) for c in ("mu_mean", "mu_sd", "mu_median", "mu_eti95_lb", "mu_eti95_ub",
                                                 "tau_median", "tau_eti95_lb", "tau_eti95_ub")},
                     "p_benefit": p0 if lib else 1 - p0, "margin": float(g["margin"].iloc[0]),
                     "p_noninferior": (pc if lib else 1 - pc) if np.isfinite(i["d"]) else np.nan,
                     "bf10_effect": float(np.exp(r["log_bf_mu"])), "bf_heterogeneity": float(np.exp(r["log_bf_tau"])),
                     "ci_symmetric": None, "p_consistent": None, "consistent": None, "participants_implied": np.nan,
                     "uoa_flag": bool(len(dup)), "notes": "; ".join(notes)})
    return pd.DataFrame(rows)


COLUMNS = ["analysis", "layout", "line", "measure", "k", "participants", "estimate", "se", "mu_prior", "tau_prior",
           "mu_mean", "mu_sd", "mu_median", "mu_eti95_lb", "mu_eti95_ub", "mu_median_reported",
           "mu_eti95_lb_reported", "mu_eti95_ub_reported", "tau_median", "tau_eti95_lb", "tau_eti95_ub",
           "lower_is_better", "p_benefit", "margin", "p_noninferior", "noninferior", "bf10_effect",
           "log10_bf10_effect", "bf_heterogeneity", "ci_symmetric", "p_consistent", "consistent",
           "participants_implied", "uoa_flag", "notes"]


def reanalyse(inp: BatchInput, mu_prior: Prior | None = None, tau_prior: Prior | None = None,
              threshold: float = 0.95, progress=None, preset: str | None = None) -> pd.DataFrame:
    """The tidy batch table (see the module docstring) for a validated :class:`BatchInput`.

    ``preset``: the program that printed the published rows' CIs (RevMan 2025: t(k-1), so ``k`` is
    needed); study rows are analysed by the exact Bayesian engine, which no preset changes.
    """
    progress = progress or (lambda n: None)
    if inp.layout == "published":
        out = _published(inp, mu_prior, threshold, progress, preset)
    else:
        out = _studies(inp, mu_prior, tau_prior, threshold, progress)
    ratio = np.array([get_measure(m).ratio for m in out["measure"]])
    for c in ("mu_median", "mu_eti95_lb", "mu_eti95_ub"):
        out[f"{c}_reported"] = np.where(ratio, np.exp(out[c]), out[c])
    out["noninferior"] = np.where(np.isfinite(out["p_noninferior"]), out["p_noninferior"] >= threshold, None)
    if "log10_bf10_effect" not in out:
        with np.errstate(divide="ignore"):
            out["log10_bf10_effect"] = np.log10(out["bf10_effect"].astype(float))
    return out[COLUMNS]


def run_batch(table_path, out, mu_prior: Prior | None = None, tau_prior: Prior | None = None,
              threshold: float = 0.95, progress: bool = True, command: str = "",
              preset: str | None = None, figure=None) -> pd.DataFrame:
    """Read, validate, reanalyse and write ``OUT/batch.csv``, ``batch.png`` and ``batch.json``.

    ``figure(table, path, threshold)`` draws ``batch.png`` (default: :func:`.figure.summary_figure`
    in this process; the command passes a :class:`.figure.FigureWorker`'s ``draw``)."""
    from bayesmeta._io import write_csv, write_text
    from bayesmeta.batch.table import read_batch
    from bayesmeta.provenance import numeric_pins, versions

    t0 = time.perf_counter()
    out = Path(out)
    inp = read_batch(table_path)
    n = len(inp.frame)
    if progress:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        bar = Progress(TextColumn("batch"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"), TimeElapsedColumn())
        task = bar.add_task("batch", total=n * (2 if inp.layout == "published" else 1))
        with bar:
            table = reanalyse(inp, mu_prior, tau_prior, threshold,
                              progress=lambda k: bar.advance(task, k if k else 1), preset=preset)
    else:
        table = reanalyse(inp, mu_prior, tau_prior, threshold, preset=preset)
    write_csv(out / "batch.csv", table)
    if figure is None:
        from bayesmeta.batch.figure import summary_figure as figure
    figure(table, out / "batch.png", threshold)
    meta = {"command": command, "input": str(table_path),
            "input_sha256": hashlib.sha256(Path(table_path).read_bytes()).hexdigest(), "layout": inp.layout,
            "rows": n, "analyses": len(table), "mu_prior": None if mu_prior is None else mu_prior.to_dict(),
            "tau_prior": None if tau_prior is None else tau_prior.to_dict(),
            "default_priors": "mu: Bartos et al. 2021 (SMD) / 2023 (log OR, log RR), flat otherwise; tau: HN(0.5)",
            "threshold": threshold, "preset": preset, "interval": "95% equal-tailed", "seconds": round(time.perf_counter() - t0, 3),
            "versions": versions(), "numeric_pins": numeric_pins()}
    write_text(out / "batch.json", json.dumps(meta, indent=2))
    return table
