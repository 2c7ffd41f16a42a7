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
from bayesmeta.published.consistency import check_published

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
    printed it (``preset``: t(k-1) for RevMan 2025, :func:`bayesmeta.published.consistency.interval_quantile`)."""
    from scipy import stats

    from bayesmeta.published.consistency import interval_quantile

    est, se = np.empty(len(df)), np.empty(len(df))
    for i, r in enumerate(df.itertuples(index=False)):
        m = get_measure(r.measure)
        est[i] = float(m.to_analysis(r.estimate))
        if np.isfinite(r.ci_lb) and np.isfinite(r.ci_ub):
            se[i] = float(m.se_from_ci(r.ci_lb, r.ci_ub, r.ci_level))
            if preset is not None:
                k = None if not np.isfinite(r.k) else int(r.k)
                try:
                    q, dof = interval_quantile(r.ci_level, preset, k)
                except ValueError as e:
                    from bayesmeta.errors import DataError, Problem

                    raise DataError(Problem(str(path), int(r.line), "k", f"{e} (row {r.analysis!r})")) from None
                if dof is not None:
                    se[i] *= float(stats.norm.ppf(0.5 + r.ci_level / 2)) / q
        else:
            se[i] = r.se_given
    return est, se


def _margin(measure: str, margin: float) -> float:
    if not np.isfinite(margin):
        return np.nan
    return float(Orientation(lower_is_better=True, measure=get_measure(measure).reported_label).to_analysis_scale(margin))


def _published(inp: BatchInput, mu_prior: Prior | None, threshold: float, progress,
               preset: str | None = None) -> pd.DataFrame:
    df = inp.frame.reset_index(drop=True)
    est, se = _analysis_scale(df, preset, inp.path)
    priors = [mu_prior or default_mu_prior(m) for m in df["measure"]]
    out = pd.DataFrame({"analysis": df["analysis"], "layout": "published", "line": df["line"],
                        "measure": df["measure"], "k": df["k"], "participants": df["participants"],
                        "estimate": est, "se": se, "mu_prior": [p.label for p in priors], "tau_prior": "",
                        "lower_is_better": df["lower_is_better"].astype(bool)})
    cols = {c: np.full(len(df), np.nan) for c in ("mu_mean", "mu_sd", "mu_median", "mu_eti95_lb", "mu_eti95_ub",
                                                   "p_below0", "p_below_margin", "log_bf10")}
    d = np.array([_margin(m, g) for m, g in zip(df["measure"], df["margin"], strict=True)])
    d_signed = np.where(out["lower_is_better"], d, -d)
    keys = pd.Series([json.dumps(p.to_dict(), sort_keys=True) for p in priors])
    step = 2000
    for group in keys.groupby(keys).groups.values():
        idx = np.asarray(group)
        prior = priors[idx[0]]
        for s in range(0, idx.size, step):
            j = idx[s:s + step]
            post = engine.pooled_posterior(est[j], se[j], prior)
            cols["mu_mean"][j] = post.mean()
            cols["mu_sd"][j] = post.sd()
            for q, c in ((0.5, "mu_median"), ((1 - LEVEL) / 2, "mu_eti95_lb"), ((1 + LEVEL) / 2, "mu_eti95_ub")):
                cols[c][j] = post.ppf(q)
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
    sym: list[bool | None] = []
    pcons: list[bool | None] = []
    nimp: list[float] = []
    nimp_min: list[float] = []
    notes: list[list[str]] = []
    for r in df.itertuples(index=False):
        note = []
        if np.isfinite(r.ci_lb):
            chk = check_published(r.estimate, r.ci_lb, r.ci_ub, None if np.isnan(r.p) else r.p, level=r.ci_level,
                                measure=r.measure, decimals=None if np.isnan(r.decimals) else int(r.decimals),
                                preset=preset, k=None if not np.isfinite(r.k) else int(r.k))
            sym.append(chk.ci_symmetric)
            pcons.append(chk.p_consistent)
            nimp.append(chk.n_implied if chk.n_implied is not None else np.nan)
            nimp_min.append(chk.n_implied_min if chk.n_implied_min is not None else np.nan)
            if not chk.ci_symmetric:
                note.append("estimate not at the CI midpoint within rounding")
            if chk.p_consistent is False:
                note.append("printed p disagrees with estimate and CI")
        else:
            sym.append(None)
            pcons.append(None)
            nimp.append(np.nan)
            nimp_min.append(np.nan)
        notes.append(note)
        progress(0)
    out["ci_symmetric"] = sym
    out["p_consistent"] = pcons
    out["consistent"] = [None if s is None else bool(s and p is not False) for s, p in zip(sym, pcons, strict=True)]
    out["participants_implied"] = nimp
    uoa = []
    for i, r in enumerate(df.itertuples(index=False)):
        ref = r.participants_randomised if np.isfinite(r.participants_randomised) else r.participants
        flag = bool(np.isfinite(ref) and np.isfinite(nimp_min[i]) and nimp_min[i] > ref)
        if flag:
            notes[i].append(f"CI implies at least {nimp_min[i]:.0f} participants, more than the {ref:.0f} "
                            "reported: rows counted more than once (time points as studies?)")
        uoa.append(flag)
    out["uoa_flag"] = uoa
    if mu_prior is None:
        for i, p in enumerate(priors):
            if p.family == "flat":
                notes[i].append("no empirical mu prior for this measure: flat prior, no Bayes factor")
    out["notes"] = ["; ".join(n) for n in notes]
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


def summary_figure(table: pd.DataFrame, path, threshold: float = 0.95) -> None:
    """Two panels: P(benefit) against P(non-inferior) (flags marked) and the Bayes factors."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayesmeta._io import atomic_path

    fig, ax = plt.subplots(1, 2, figsize=(10, 4.2))
    t = table
    has_ni = np.isfinite(t["p_noninferior"].to_numpy(float))
    flag = t["consistent"].eq(False) | t["uoa_flag"].astype(bool)
    a = ax[0]
    pb = t["p_benefit"].to_numpy(float)
    pn = np.where(has_ni, t["p_noninferior"].to_numpy(float), np.nan)
    a.scatter(pb[~flag], np.where(has_ni, pn, pb)[~flag], s=8, alpha=0.5, color="#4C72B0", label="no flag")
    a.scatter(pb[flag], np.where(has_ni, pn, pb)[flag], s=14, alpha=0.8, color="#C44E52", marker="x",
              label="consistency or unit-of-analysis flag")
    a.axhline(threshold, color="0.4", ls="--", lw=0.8)
    a.axvline(threshold, color="0.4", ls="--", lw=0.8)
    a.set_xlabel("P(benefit)")
    a.set_ylabel("P(non-inferior) (P(benefit) where no margin)")
    n_ni = int(np.nansum(pn >= threshold))
    a.set_title(f"{len(t)} analyses; {n_ni} non-inferior at P >= {threshold:g}", fontsize=9)
    a.legend(fontsize=7, loc="lower right")
    b = ax[1]
    lb = t["log10_bf10_effect"].to_numpy(float)
    lb = lb[np.isfinite(lb)]
    if lb.size:
        b.hist(np.clip(lb, -3, 6), bins=40, color="#8172B2")
        for x in (-1, 0, 1):
            b.axvline(x, color="0.4", ls=":" if x else "--", lw=0.8)
    b.set_xlabel("log10 BF10 (effect vs none; clipped to [-3, 6])")
    b.set_ylabel("analyses")
    b.set_title(f"Bayes factors ({lb.size} with a proper mu prior)", fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def run_batch(table_path, out, mu_prior: Prior | None = None, tau_prior: Prior | None = None,
              threshold: float = 0.95, progress: bool = True, command: str = "",
              preset: str | None = None) -> pd.DataFrame:
    """Read, validate, reanalyse and write ``OUT/batch.csv``, ``batch.png`` and ``batch.json``."""
    from bayesmeta._io import write_csv, write_text
    from bayesmeta.batch.table import read_batch
    from bayesmeta.provenance import versions

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
    summary_figure(table, out / "batch.png", threshold)
    meta = {"command": command, "input": str(table_path),
            "input_sha256": hashlib.sha256(Path(table_path).read_bytes()).hexdigest(), "layout": inp.layout,
            "rows": n, "analyses": len(table), "mu_prior": None if mu_prior is None else mu_prior.to_dict(),
            "tau_prior": None if tau_prior is None else tau_prior.to_dict(),
            "default_priors": "mu: Bartos et al. 2021 (SMD) / 2023 (log OR, log RR), flat otherwise; tau: HN(0.5)",
            "threshold": threshold, "preset": preset, "interval": "95% equal-tailed", "seconds": round(time.perf_counter() - t0, 3),
            "versions": versions()}
    write_text(out / "batch.json", json.dumps(meta, indent=2))
    return table
