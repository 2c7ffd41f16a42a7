r"""Simulation-based calibration (SBC) of the normal-normal, binomial-normal and multilevel models.

For each replication, parameters are drawn from the prior, data from the model given them, and
the model is fitted to those data with the same prior. If the fit is correct, the rank of the
true value among :math:`L` independent posterior draws is uniform on :math:`\{0, \dots, L\}`
(Talts et al. 2018, arXiv:1804.06788; Cook, Gelman & Rubin 2006, doi:10.1198/106186006X136976).
For the exact solver the posterior CDF at the true value (the probability integral transform,
PIT, the :math:`L \to \infty` limit of the normalised rank) is uniform on (0, 1) as well.

Ranks are taken for :math:`\mu`, :math:`\tau` and one study effect (:math:`\theta_1`); for the
multilevel model :math:`\mu_1` (first time point), :math:`\tau_{study}`, and the first study's
effect at the first time point, :math:`\mu_1 + u_1`, whose draws come from the exact Gaussian
conditional of the study deviation :math:`u_1` given :math:`(\mu, \tau_{study}, \tau_{within}, y)`.
Sampled fits use ``L = 99`` draws thinned evenly from all chains (every 10th of 2 x 500).

Uniformity is tested with a chi-square test on the ranks in equal bins (``n_bins``, each of
:math:`(L+1)/n_{bins}` rank values) and a Kolmogorov-Smirnov test on the PIT (exact solver) or on
randomised normalised ranks :math:`(r + U)/(L + 1)` (sampled fits).

Settings (proper priors are required by SBC): :math:`\tau \sim HN(0.5)` (the toolkit's default
heterogeneity prior for SMD and log-ratio scales), :math:`\mu \sim N(0, 1)`; standard errors
:math:`s_i \sim U(0.1, 0.5)`; the binomial-normal model with study intercepts
:math:`\alpha_i \sim N(0, 1)` (``alpha_sd = 1``) and 20-100 patients per arm; the multilevel model
with 4 studies x 2 time points, within-study AR(1) correlation 0.5 and variances U(0.02, 0.1).

Run the full version (Dask sweep on a local 2-worker cluster, or ``--address``) with::

    python -m bayesmeta.simulate.sbc --full

which writes ``validation/calibration/sbc.csv`` (one row per model and parameter), ``sbc.json``
(settings and versions) and ``sbc.png`` (rank histograms with 99% bands).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from bayesmeta.bayes.priors import Prior, halfnormal, normal

L_DRAWS = 99
TAU_PRIOR = halfnormal(0.5)
MU_PRIOR = normal(0.0, 1.0)
PARAMS = ("mu", "tau", "theta1")
MODELS = ("normal_normal_exact", "normal_normal_sampled", "binomial_normal", "multilevel")
DRAWS, TUNE, CHAINS = 500, 500, 2
SAMPLER = {"draws": DRAWS, "tune": TUNE, "chains": CHAINS}


def _thin(x: np.ndarray, n: int = L_DRAWS) -> np.ndarray:
    x = np.asarray(x, dtype=float).reshape(-1)
    return x[np.linspace(0, x.size - 1, n).round().astype(int)]


def _rank(draws: np.ndarray, truth: float) -> int:
    return int(np.sum(np.asarray(draws) < truth))


def _simulate_nn(rng, k: int, tau_prior: Prior = TAU_PRIOR, mu_prior: Prior = MU_PRIOR):
    mu = float(mu_prior.rvs(1, rng)[0])
    tau = float(tau_prior.rvs(1, rng)[0])
    sei = rng.uniform(0.1, 0.5, size=k)
    theta = rng.normal(mu, tau, size=k)
    return mu, tau, theta, rng.normal(theta, sei), sei


def sbc_normal_normal_exact(k: int, seed: int, fit_tau_prior: Prior = TAU_PRIOR) -> dict:
    """One SBC replication of the exact solver (``fit_tau_prior`` other than the simulation's
    prior gives a deliberately miscalibrated fit, the negative control)."""
    from bayesmeta.bayes.exact import solve

    rng = np.random.default_rng(seed)
    mu, tau, theta, y, sei = _simulate_nn(rng, k)
    post = solve(y, sei, fit_tau_prior, MU_PRIOR)
    d = post.draws(L_DRAWS, rng)
    return {"rank_mu": _rank(d["mu"], mu), "rank_tau": _rank(d["tau"], tau),
            "rank_theta1": _rank(d["theta"][:, 0], theta[0]),
            "pit_mu": post.prob("mu", mu), "pit_tau": float(post.tau.cdf(tau)),
            "pit_theta1": float(post.theta(0).cdf(theta[0])), "converged": True}


def sbc_normal_normal_sampled(k: int, seed: int) -> dict:
    """One SBC replication of the sampled normal-normal model (PyMC + nutpie, marginal form)."""
    from bayesmeta.bayes.sampling import fit_normal_normal

    rng = np.random.default_rng(seed)
    mu, tau, theta, y, sei = _simulate_nn(rng, k)
    with _quiet_gate():
        res = fit_normal_normal(y, sei, TAU_PRIOR, MU_PRIOR, seed=int(seed % 2**31), draws=DRAWS, tune=TUNE,
                                chains=CHAINS)
    return _sampled_ranks(rng, {"mu": res.draws("mu"), "tau": res.draws("tau"), "theta1": res.draws("theta")[:, 0]},
                          {"mu": mu, "tau": tau, "theta1": theta[0]}, res.converged)


@contextlib.contextmanager
def _quiet_gate():
    """No :class:`~bayesmeta.bayes.diagnostics.ConvergenceWarning` from a replication's fit:
    each replication records whether it converged (``converged``, counted in the summary), so the
    warning would only repeat it, once per failing replication."""
    from bayesmeta.bayes.diagnostics import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _sampled_ranks(rng, draws: dict, truth: dict, converged: bool) -> dict:
    out: dict = {"converged": bool(converged)}
    for p in PARAMS:
        r = _rank(_thin(draws[p]), truth[p])
        out[f"rank_{p}"] = r
        out[f"pit_{p}"] = (r + rng.uniform()) / (L_DRAWS + 1)  # randomised normalised rank
    return out


def sbc_binomial_normal(k: int, seed: int) -> dict:
    """One SBC replication of the binomial-normal model (log-OR, exact binomial likelihood)."""
    from bayesmeta.bayes.sampling import fit_binomial_normal

    rng = np.random.default_rng(seed)
    mu = float(MU_PRIOR.rvs(1, rng)[0])
    tau = float(TAU_PRIOR.rvs(1, rng)[0])
    alpha = rng.normal(0.0, 1.0, size=k)
    theta = rng.normal(mu, tau, size=k)
    n_e, n_c = rng.integers(20, 101, size=k), rng.integers(20, 101, size=k)
    ev_c = rng.binomial(n_c, 1 / (1 + np.exp(-alpha)))
    ev_e = rng.binomial(n_e, 1 / (1 + np.exp(-(alpha + theta))))
    with _quiet_gate():
        res = fit_binomial_normal(ev_e, n_e, ev_c, n_c, TAU_PRIOR, MU_PRIOR, alpha_sd=1.0, seed=int(seed % 2**31),
                                  draws=DRAWS, tune=TUNE, chains=CHAINS)
    return _sampled_ranks(rng, {"mu": res.draws("mu"), "tau": res.draws("tau"), "theta1": res.draws("theta")[:, 0]},
                          {"mu": mu, "tau": tau, "theta1": theta[0]}, res.converged)


ML_STUDIES, ML_TIMES, ML_RHO = 4, 2, 0.5


def _ml_design():
    study = [f"s{i}" for i in range(ML_STUDIES) for _ in range(ML_TIMES)]
    time_ = [f"t{j}" for _ in range(ML_STUDIES) for j in range(ML_TIMES)]
    si = np.repeat(np.arange(ML_STUDIES), ML_TIMES)
    ti = np.tile(np.arange(ML_TIMES), ML_STUDIES)
    same = (si[:, None] == si[None, :]).astype(float)
    R = same * ML_RHO ** np.abs(ti[:, None] - ti[None, :])
    return study, time_, si, ti, same, R


def sbc_multilevel(k: int, seed: int) -> dict:
    """One SBC replication of the multilevel time-point model (``k`` is ignored: 4 studies x 2 times)."""
    from bayesmeta.bayes.sampling import fit_multilevel_timepoints

    rng = np.random.default_rng(seed)
    study, time_, si, ti, same, R = _ml_design()
    n = si.size
    mu = MU_PRIOR.rvs(ML_TIMES, rng)
    tau_s, tau_w = (float(v) for v in TAU_PRIOR.rvs(2, rng))
    vi = rng.uniform(0.02, 0.1, size=n)
    s = np.sqrt(vi)
    u = rng.normal(0.0, tau_s, size=ML_STUDIES)
    e = rng.multivariate_normal(np.zeros(n), (s[:, None] * s[None, :]) * R + tau_w**2 * np.eye(n))
    y = mu[ti] + u[si] + e
    with _quiet_gate():
        res = fit_multilevel_timepoints(y, vi, study, time_, TAU_PRIOR, MU_PRIOR, rho=ML_RHO, seed=int(seed % 2**31),
                                        draws=DRAWS, tune=TUNE, chains=CHAINS)
    mu_d = res.posterior["mu"].to_numpy().reshape(-1, ML_TIMES)
    ts = res.draws("tau_study")
    tw = res.draws("tau_within")
    idx = np.linspace(0, ts.size - 1, L_DRAWS).round().astype(int)
    z1 = (si == 0).astype(float)
    theta1 = np.empty(L_DRAWS)
    for j, d in enumerate(idx):  # exact conditional draw of study 1's deviation u_1
        C = (s[:, None] * s[None, :]) * R + tw[d] ** 2 * np.eye(n) + ts[d] ** 2 * same
        r = y - mu_d[d][ti]
        a = np.linalg.solve(C, z1)
        m = ts[d] ** 2 * a @ r
        v = max(ts[d] ** 2 - ts[d] ** 4 * (z1 @ a), 0.0)
        theta1[j] = mu_d[d, 0] + rng.normal(m, np.sqrt(v))
    draws = {"mu": mu_d[idx, 0], "tau": ts[idx], "theta1": theta1}
    return _sampled_ranks(rng, draws, {"mu": mu[0], "tau": tau_s, "theta1": mu[0] + u[0]}, res.converged)


TASKS = {"normal_normal_exact": sbc_normal_normal_exact, "normal_normal_sampled": sbc_normal_normal_sampled,
         "binomial_normal": sbc_binomial_normal, "multilevel": sbc_multilevel}


def sbc_task(model: str, k: int, replication: int, seed: int) -> dict:
    """One replication of ``model`` (a sweep task)."""
    return TASKS[model](int(k), int(seed))


def uniformity(ranks, pit, n_bins: int = 20, n_draws: int = L_DRAWS) -> dict:
    """Chi-square test of ranks in ``n_bins`` equal bins and KS test of the PIT against U(0, 1)."""
    ranks = np.asarray(ranks, dtype=int)
    if (n_draws + 1) % n_bins:
        raise ValueError(f"n_bins must divide L + 1 = {n_draws + 1}")
    counts = np.bincount(ranks * n_bins // (n_draws + 1), minlength=n_bins)
    chi = stats.chisquare(counts)
    ks = stats.kstest(np.asarray(pit, dtype=float), "uniform")
    return {"n": int(ranks.size), "n_bins": n_bins, "chi2": float(chi.statistic), "df": n_bins - 1,
            "p_chi2": float(chi.pvalue), "ks": float(ks.statistic), "p_ks": float(ks.pvalue),
            "mean_rank": float(ranks.mean()), "expected_mean_rank": n_draws / 2}


def summarise(ds) -> pd.DataFrame:
    """One row per (model, k, parameter) with the uniformity tests (from a sweep Dataset or DataFrame)."""
    df = ds.to_dataframe() if hasattr(ds, "to_dataframe") else ds
    rows = []
    for (model, k), g in df.groupby(["model", "k"], sort=False):
        n_bins = 20 if len(g) >= 200 else 10 if len(g) >= 50 else 5
        for p in PARAMS:
            rows.append({"model": model, "k": int(k), "parameter": p, "converged": float(g["converged"].mean()),
                         **uniformity(g[f"rank_{p}"], g[f"pit_{p}"], n_bins)})
    return pd.DataFrame(rows)


def plot(ds, path) -> None:
    """Rank histograms (rows: model and k; columns: parameter) with the 99% band of a uniform."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayesmeta._io import atomic_path

    df = ds.to_dataframe() if hasattr(ds, "to_dataframe") else ds
    groups = list(df.groupby(["model", "k"], sort=False))
    fig, axes = plt.subplots(len(groups), len(PARAMS), figsize=(9, 2.1 * len(groups)), squeeze=False)
    for r, ((model, k), g) in enumerate(groups):
        n_bins = 20 if len(g) >= 200 else 10 if len(g) >= 50 else 5
        lo, hi = stats.binom.ppf([0.005, 0.995], len(g), 1 / n_bins)
        for c, p in enumerate(PARAMS):
            ax = axes[r, c]
            counts = np.bincount(np.asarray(g[f"rank_{p}"], int) * n_bins // (L_DRAWS + 1), minlength=n_bins)
            ax.axhspan(lo, hi, color="0.85", zorder=0)
            ax.axhline(len(g) / n_bins, color="0.5", lw=0.8)
            ax.bar(np.arange(n_bins), counts, width=1.0, color="#4C72B0", edgecolor="white")
            ax.set_xticks([])
            label = model.replace("_", "-") + ("" if model == "multilevel" else f", k={k}")
            ax.set_title(f"{p}: {label}", fontsize=8)
    fig.suptitle(f"SBC rank histograms (L = {L_DRAWS} draws; grey: 99% band of a uniform)", fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def grid(full: bool, seed: int = 20261124) -> pd.DataFrame:
    """The replications of the full (or a small) SBC run."""
    from bayesmeta.simulate.sweep import expand_grid

    if full:
        parts = [expand_grid(seed, 2000, model=["normal_normal_exact"], k=[2, 5, 10]),
                 expand_grid(seed + 1, 400, model=["normal_normal_sampled", "binomial_normal"], k=[5]),
                 expand_grid(seed + 2, 400, model=["multilevel"], k=[ML_STUDIES * ML_TIMES])]
    else:
        parts = [expand_grid(seed, 200, model=["normal_normal_exact"], k=[5]),
                 expand_grid(seed + 1, 20, model=["normal_normal_sampled", "binomial_normal"], k=[5]),
                 expand_grid(seed + 2, 20, model=["multilevel"], k=[ML_STUDIES * ML_TIMES])]
    return pd.concat(parts, ignore_index=True)


def main(argv=None) -> int:
    from bayesmeta._io import write_csv, write_text
    from bayesmeta.provenance import versions
    from bayesmeta.simulate.sweep import RichProgress, run_sweep

    ap = argparse.ArgumentParser(prog="python -m bayesmeta.simulate.sbc", description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="the full run (otherwise a small one)")
    ap.add_argument("--out", default=".cache/validation/calibration",
                    help="folder for sbc.csv, sbc.json, sbc.png (default .cache/validation/calibration; "
                         "--out validation/calibration updates the committed run)")
    ap.add_argument("--work", default=".cache/sweeps/sbc", help="sweep folder (chunks; rerun to resume)")
    ap.add_argument("--address", default=None, help="address of an existing Dask scheduler")
    ap.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    args = ap.parse_args(argv)
    g = grid(args.full)
    work = Path(args.work) / ("full" if args.full else "small")
    t0 = time.perf_counter()
    with RichProgress("SBC") as bar:
        ds = run_sweep(sbc_task, g, work, chunk_size=25, address=args.address, n_workers=args.workers,
                       name="sbc-full" if args.full else "sbc-small", progress=bar)
    table = summarise(ds)
    out = Path(args.out)
    write_csv(out / "sbc.csv", table)
    plot(ds, out / "sbc.png")
    meta = {"command": "python -m bayesmeta.simulate.sbc" + (" --full" if args.full else ""),
            "seconds": round(time.perf_counter() - t0, 1), "n_replications": len(g), "L": L_DRAWS,
            "tau_prior": TAU_PRIOR.to_dict(), "mu_prior": MU_PRIOR.to_dict(), "sampler": SAMPLER,
            "date": time.strftime("%Y-%m-%d", time.gmtime()), "versions": versions()}
    write_text(out / "sbc.json", json.dumps(meta, indent=2))
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
