r"""Coverage and operating characteristics of 95% intervals for the overall effect :math:`\mu`.

Data are simulated from the normal-normal model :math:`y_i \sim N(\mu, s_i^2 + \tau^2)` with
:math:`k \in \{2, 3, 5, 10, 20\}`, :math:`\tau \in \{0, 0.1, 0.2, 0.4, 0.8\}` and standard errors
spaced geometrically around :math:`s_0 = 0.25` (an SMD or log odds ratio from trials of about 30
patients per arm) with ratio ``se_ratio`` :math:`\in \{1, 3, 10\}` between the largest and the
smallest, :math:`s_i = s_0\, r^{(i-1)/(k-1) - 1/2}` (equal sizes, moderate and strong imbalance).
The typical :math:`I^2` of each scenario (Higgins & Thompson 2002) is reported beside it.

Methods (all with the DerSimonian-Laird :math:`\hat\tau^2`, as IntHout et al. 2014):

``DL``
    Wald interval :math:`\hat\mu \pm z_{0.975}\,SE`, :math:`SE = (\sum w_i)^{-1/2}`, :math:`w_i = 1/(s_i^2 + \hat\tau^2)`.
``HKSJ``
    Hartung-Knapp-Sidik-Jonkman: :math:`SE^2 q`, :math:`q = \sum w_i(y_i - \hat\mu)^2/(k-1)`, :math:`t_{k-1}` quantile.
``mHKSJ``
    modified HKSJ, :math:`\max(1, q)` (Röver, Knapp & Friede 2015, doi:10.1186/s12874-015-0091-1;
    metafor ``test="adhoc"``).
``Bayes``
    the exact normal-normal posterior with the toolkit's default heterogeneity prior
    :math:`\tau \sim HN(0.5)` and the reference (flat) prior on :math:`\mu`; 95% equal-tailed interval.

These are the same closed forms as :func:`bayesmeta.frequentist.rma.rma` (checked against it in the
tests), vectorised over replications.

Non-inferiority (lower is better): with the true effect exactly at the margin
(:math:`\mu = \delta = 0.2`), how often is non-inferiority declared? Bayes: :math:`P(\mu < \delta \mid y)
\ge 0.95` (the toolkit's rule, :func:`bayesmeta.decide.decision.prob_noninferior`, with the spec's
default threshold); frequentist: the upper limit of the two-sided 90% interval (one-sided 95%) lies
below :math:`\delta`. The nominal rate is 5%. All methods are location-equivariant (the Bayesian
one through its flat prior on :math:`\mu`), so :math:`\mu = \delta` loses no generality.

Run the full version (Dask sweep; resumable) with::

    python -m bayesmeta.simulate.coverage --full

It writes ``validation/coverage/coverage.csv``, ``coverage.json`` and ``coverage.png``.

References
----------
IntHout J, Ioannidis JPA, Borm GF (2014). The Hartung-Knapp-Sidik-Jonkman method for random effects
    meta-analysis is straightforward and considerably outperforms the standard DerSimonian-Laird
    method. BMC Med Res Methodol 14:25. doi:10.1186/1471-2288-14-25
Friede T, Röver C, Wandel S, Neuenschwander B (2017). Meta-analysis of few small studies in orphan
    diseases. Res Synth Methods 8:79-91. doi:10.1002/jrsm.1217
Friede T, Röver C, Wandel S, Neuenschwander B (2017). Meta-analysis of two studies in the presence
    of heterogeneity with applications in rare diseases. Biom J 59:658-671. doi:10.1002/bimj.201500236
Röver C, Bender R, Dias S, et al. (2021). On weakly informative prior distributions for the
    heterogeneity parameter in Bayesian random-effects meta-analysis. Res Synth Methods 12:448-474.
    doi:10.1002/jrsm.1475
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from bayesmeta.bayes.priors import flat, halfnormal
from bayesmeta.frequentist.rma import mu_hat, tau2_dl, typical_variance

S0 = 0.25
MARGIN = 0.2
THRESHOLD = 0.95
LEVEL = 0.95
METHODS = ("DL", "HKSJ", "mHKSJ", "Bayes")
TAU_PRIOR = halfnormal(0.5)
MU_PRIOR = flat("mu")
KS = (2, 3, 5, 10, 20)
TAUS = (0.0, 0.1, 0.2, 0.4, 0.8)
SE_RATIOS = (1.0, 3.0, 10.0)


def standard_errors(k: int, se_ratio: float, s0: float = S0) -> np.ndarray:
    """Geometrically spaced SEs around ``s0`` with max/min ratio ``se_ratio``."""
    if k == 1:
        return np.array([s0])
    return s0 * se_ratio ** (np.arange(k) / (k - 1) - 0.5)


def frequentist_intervals(yi, vi, level: float = LEVEL) -> dict[str, np.ndarray]:
    """DL-Wald, HKSJ and modified-HKSJ intervals (rows of ``yi``: replications), shape (n, 2) each."""
    yi = np.atleast_2d(np.asarray(yi, float))
    vi = np.broadcast_to(np.asarray(vi, float), yi.shape)
    k = yi.shape[-1]
    t2 = tau2_dl(yi, vi, axis=-1)
    t2 = np.atleast_1d(t2)[:, None]
    mu, se = mu_hat(yi, vi, t2, axis=-1)
    w = 1.0 / (vi + t2)
    q = np.sum(w * (yi - mu[:, None]) ** 2, axis=-1) / (k - 1)
    z = stats.norm.ppf(0.5 + level / 2)
    t = stats.t.ppf(0.5 + level / 2, k - 1)
    se_hk = se * np.sqrt(q)
    se_mod = se * np.sqrt(np.maximum(1.0, q))
    return {"DL": np.stack([mu - z * se, mu + z * se], -1),
            "HKSJ": np.stack([mu - t * se_hk, mu + t * se_hk], -1),
            "mHKSJ": np.stack([mu - t * se_mod, mu + t * se_mod], -1)}


def exact_fit(yi, sei):
    """The exact normal-normal posterior of one data set with the study's default priors.

    The one adapter between this study and the solver (swap in a batched engine here).
    """
    from bayesmeta.bayes.exact import solve

    return solve(yi, sei, TAU_PRIOR, MU_PRIOR, n_tau=4001, n_mix=400)


def bayes_interval_and_ni(yi, sei, margin: float = MARGIN) -> tuple[float, float, float]:
    """95% ETI for mu and P(non-inferior) at ``margin`` (lower is better) from the exact posterior."""
    from bayesmeta.decide.decision import Orientation, prob_noninferior

    post = exact_fit(yi, sei)
    lo, hi = post.mu.interval(LEVEL, "eti")
    p_ni = float(prob_noninferior(post.mu, margin, Orientation(lower_is_better=True)))
    return lo, hi, p_ni


def coverage_task(k: int, tau: float, se_ratio: float, block: int, seed: int, n_freq: int = 1000,
                  n_bayes: int = 100) -> dict:
    """One block of replications of one scenario: hits, widths and NI declarations per method.

    ``n_freq`` replications for the frequentist methods (vectorised), the first ``n_bayes`` of them
    also for the exact Bayesian fit.
    """
    k = int(k)
    rng = np.random.default_rng(seed)
    sei = standard_errors(k, float(se_ratio))
    vi = sei**2
    mu_true = MARGIN  # the true effect sits at the margin (see module docstring)
    y = rng.normal(mu_true, np.sqrt(vi + float(tau) ** 2), size=(int(n_freq), k))
    iv = frequentist_intervals(y, vi, LEVEL)
    one_sided = frequentist_intervals(y, vi, 1 - 2 * (1 - THRESHOLD))  # upper limit = one-sided 95%
    hits, width, ni, n = [], [], [], []
    for m in METHODS[:3]:
        lo, hi = iv[m][:, 0], iv[m][:, 1]
        hits.append(np.sum((lo <= mu_true) & (mu_true <= hi)))
        width.append(np.sum(hi - lo))
        ni.append(np.sum(one_sided[m][:, 1] < MARGIN))
        n.append(len(y))
    b = np.array([bayes_interval_and_ni(y[i], sei) for i in range(min(int(n_bayes), len(y)))])
    hits.append(np.sum((b[:, 0] <= mu_true) & (mu_true <= b[:, 1])))
    width.append(np.sum(b[:, 1] - b[:, 0]))
    ni.append(np.sum(b[:, 2] >= THRESHOLD))
    n.append(len(b))
    return {"hits": ("method", np.array(hits, float)), "width_sum": ("method", np.array(width, float)),
            "ni": ("method", np.array(ni, float)), "n": ("method", np.array(n, float))}


def grid(full: bool, seed: int = 20261124) -> pd.DataFrame:
    """Scenario blocks: the full factorial with 5 blocks (5,000 frequentist and 500 Bayesian
    replications per scenario), or the small CI subset."""
    from bayesmeta.simulate.sweep import expand_grid

    if full:
        return expand_grid(seed, 5, k=list(KS), tau=list(TAUS), se_ratio=list(SE_RATIOS)).rename(
            columns={"replication": "block"})
    small = expand_grid(seed, 1, k=[3, 10], tau=[0.0, 0.4], se_ratio=[1.0, 10.0])
    return small.rename(columns={"replication": "block"}).assign(n_freq=4000, n_bayes=10)


def summarise(ds) -> pd.DataFrame:
    """One row per scenario and method: coverage, its Monte Carlo SE, mean width, NI rate."""
    if hasattr(ds, "to_dataframe"):
        df = ds[["hits", "width_sum", "ni", "n"]].to_dataframe().reset_index()
        df["method"] = np.asarray(METHODS)[df["method"].to_numpy()]
    else:
        df = ds
    rows = []
    for (k, tau, r, m), g in df.groupby(["k", "tau", "se_ratio", "method"], sort=False):
        n = g["n"].sum()
        cov = g["hits"].sum() / n
        ni = g["ni"].sum() / n
        v = standard_errors(int(k), float(r)) ** 2
        i2 = tau**2 / (tau**2 + typical_variance(v)) if k > 1 else np.nan
        rows.append({"k": int(k), "tau": float(tau), "se_ratio": float(r), "I2": float(i2), "method": m,
                     "n": int(n), "coverage": cov, "mcse": float(np.sqrt(cov * (1 - cov) / n)),
                     "mean_width": g["width_sum"].sum() / n, "ni_rate": ni,
                     "ni_mcse": float(np.sqrt(ni * (1 - ni) / n))})
    out = pd.DataFrame(rows)
    out["method"] = pd.Categorical(out["method"], METHODS, ordered=True)
    return out.sort_values(["se_ratio", "tau", "k", "method"]).reset_index(drop=True)


def plot(table: pd.DataFrame, path) -> None:
    """Coverage against k, one panel per (se_ratio, tau), one line per method."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayesmeta._io import atomic_path

    ratios, taus = sorted(table["se_ratio"].unique()), sorted(table["tau"].unique())
    fig, axes = plt.subplots(len(ratios), len(taus), figsize=(2.4 * len(taus), 2.3 * len(ratios)),
                             sharex=True, sharey=True, squeeze=False)
    colors = dict(zip(METHODS, ("#C44E52", "#4C72B0", "#55A868", "#8172B2"), strict=True))
    for i, r in enumerate(ratios):
        for j, t in enumerate(taus):
            ax = axes[i, j]
            sub = table[(table["se_ratio"] == r) & (table["tau"] == t)]
            for m in METHODS:
                s = sub[sub["method"] == m].sort_values("k")
                ax.plot(s["k"], s["coverage"], "o-", ms=3, lw=1, color=colors[m], label=m)
            ax.axhline(0.95, color="0.4", lw=0.8, ls="--")
            ax.set_xscale("log")
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            ax.set_xticks(sorted(table["k"].unique()))
            ax.set_xticklabels([str(k) for k in sorted(table["k"].unique())], fontsize=7)
            ax.set_ylim(0.55, 1.005)
            ax.set_title(f"tau={t:g}, SE ratio {r:g}", fontsize=8)
            if j == 0:
                ax.set_ylabel("coverage of 95% CI")
            if i == len(ratios) - 1:
                ax.set_xlabel("k")
    axes[0, 0].legend(fontsize=7, loc="lower right")
    fig.suptitle("Empirical coverage of 95% intervals for mu (DL tau^2; Bayes: HN(0.5) on tau, flat on mu)",
                 fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def main(argv=None) -> int:
    from bayesmeta._io import write_csv, write_text
    from bayesmeta.provenance import versions
    from bayesmeta.simulate.sweep import RichProgress, run_sweep

    ap = argparse.ArgumentParser(prog="python -m bayesmeta.simulate.coverage", description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="the full factorial (otherwise the CI subset)")
    ap.add_argument("--out", default=".cache/validation/coverage",
                    help="folder for coverage.csv, .json, .png (default .cache/validation/coverage; "
                         "--out validation/coverage updates the committed run)")
    ap.add_argument("--work", default=".cache/sweeps/coverage", help="sweep folder (chunks; rerun to resume)")
    ap.add_argument("--address", default=None, help="address of an existing Dask scheduler")
    ap.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    ap.add_argument("--plot-only", action="store_true", help="redraw coverage.png from OUT/coverage.csv")
    args = ap.parse_args(argv)
    if args.plot_only:
        plot(pd.read_csv(Path(args.out) / "coverage.csv"), Path(args.out) / "coverage.png")
        return 0
    g = grid(args.full)
    t0 = time.perf_counter()
    with RichProgress("coverage") as bar:
        ds = run_sweep(coverage_task, g, Path(args.work) / ("full" if args.full else "small"), chunk_size=1,
                       address=args.address, n_workers=args.workers,
                       name="coverage-full" if args.full else "coverage-small", progress=bar)
    table = summarise(ds)
    out = Path(args.out)
    write_csv(out / "coverage.csv", table)
    plot(table, out / "coverage.png")
    meta = {"command": "python -m bayesmeta.simulate.coverage" + (" --full" if args.full else ""),
            "seconds": round(time.perf_counter() - t0, 1), "s0": S0, "margin": MARGIN, "threshold": THRESHOLD,
            "level": LEVEL, "tau_prior": TAU_PRIOR.to_dict(), "mu_prior": MU_PRIOR.to_dict(),
            "bayes_interval": "equal-tailed", "tau2_estimator": "DL",
            "date": time.strftime("%Y-%m-%d", time.gmtime()), "versions": versions()}
    write_text(out / "coverage.json", json.dumps(meta, indent=2))
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
