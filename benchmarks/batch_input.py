"""Synthetic input for ``bayesmeta batch``: N published pooled results (one row per meta-analysis).

Run: .venv/bin/python benchmarks/batch_input.py [N] [OUT.csv]   (default 10000, /tmp/batch/published.csv)

Speed only (seeded, random numbers, no real review): SMD, MD, RR and OR rows with CIs printed to 2
decimals (a few to 3, with an explicit ``decimals`` column), about 60% with a printed p-value (2 or 3
decimals, some of them deliberately inconsistent), a few asymmetric CIs, k and participants (some
too few for the CI, so the unit-of-analysis flag fires) and a margin per measure.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats


def table(n: int, seed: int = 0) -> pd.DataFrame:
    """The synthetic published-results table (columns of the published layout, docs/data-format.md)."""
    rng = np.random.default_rng(seed)
    meas = rng.choice(["SMD", "RR", "OR", "MD"], n)
    ratio = np.isin(meas, ["RR", "OR"])
    est, se = rng.normal(0, 0.3, n), rng.uniform(0.05, 0.5, n)
    skew = np.where(rng.random(n) < 0.05, rng.normal(0, 0.2, n) * se, 0.0)  # asymmetric CIs
    lb, ub = est - 1.96 * se + skew, est + 1.96 * se + skew
    dec = np.where(rng.random(n) < 0.1, 3, 2)
    e, lo, hi = (np.round(np.where(ratio, np.exp(a), a) * 10.0**dec) / 10.0**dec for a in (est, lb, ub))
    lo = np.minimum(lo, e)
    hi = np.maximum(hi, e)
    lo = np.where(ratio, np.maximum(lo, 10.0**-dec), lo)
    p = 2 * stats.norm.sf(np.abs(est) / se) * np.exp(np.where(rng.random(n) < 0.05, rng.normal(0, 1, n), 0.0))
    pdec = np.where(rng.random(n) < 0.5, 2, 3)
    p = np.where(rng.random(n) < 0.6, np.round(np.minimum(p, 1.0) * 10.0**pdec) / 10.0**pdec, np.nan)
    participants = rng.integers(50, 5000, n)
    return pd.DataFrame({
        "analysis": [f"ma{i}" for i in range(n)], "measure": meas,
        "estimate": [f"{v:.{d}f}" for v, d in zip(e, dec, strict=True)],
        "ci_lb": [f"{v:.{d}f}" for v, d in zip(lo, dec, strict=True)],
        "ci_ub": [f"{v:.{d}f}" for v, d in zip(hi, dec, strict=True)],
        "decimals": np.where(dec == 3, "3", ""),
        "p": [("" if np.isnan(v) else f"{v:.{d}f}") for v, d in zip(p, pdec, strict=True)],
        "k": rng.integers(2, 30, n), "participants": participants,
        "lower_is_better": rng.integers(0, 2, n).astype(bool),
        "margin": pd.Series(meas).map({"SMD": 0.2, "RR": 1.25, "OR": 1.25, "MD": 1.0}),
    })


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/tmp/batch/published.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    table(n).to_csv(out, index=False)
    print(f"wrote {n} rows to {out}")


if __name__ == "__main__":
    main()
