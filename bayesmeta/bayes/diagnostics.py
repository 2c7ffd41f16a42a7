r"""The convergence gate: ArviZ R-hat, bulk/tail ESS, divergences and E-BFMI; and the Monte Carlo
standard errors of reported posterior quantities.

Thresholds follow Vehtari et al. (2021, doi:10.1214/20-BA1221): R-hat <= 1.01, bulk and tail
ESS >= 400 (100 per chain with 4 chains), no divergent transitions, and E-BFMI >= 0.3
(Betancourt 2016, arXiv:1604.00695).

Monte Carlo standard errors (:func:`mcse_quantile`, :func:`mcse_summary`) are ArviZ's
(``az.mcse``): for a quantile the method of Vehtari et al. (2021, sec. 4.3): the ESS of the
indicator :math:`I(\theta \le \hat q_p)` gives a Beta distribution for the probability level, whose
16% and 84% quantiles are mapped back through the empirical quantile function; half that distance is
the MCSE. For independent draws it tends to :math:`\sqrt{p(1-p)/n}/f(q_p)`
(``tests/test_mcse.py``). An HDI bound is not a quantile at a fixed level; its MCSE is the quantile
MCSE at the bound's empirical level (the fraction of draws below it), which ignores the extra
variability from choosing the level (small next to the quantile's own error for unimodal
posteriors).
"""
from __future__ import annotations

from dataclasses import dataclass

import arviz as az
import numpy as np
import xarray as xr

RHAT_MAX, ESS_MIN, BFMI_MIN = 1.01, 400, 0.3


class ConvergenceWarning(UserWarning):
    """A sampled fit failed the diagnostics gate (:func:`check`) and was re-sampled; the message
    says whether the second run passed. Its own class, so that callers which record convergence
    themselves (simulation-based calibration) can silence it without silencing other warnings."""


@dataclass(frozen=True)
class Diagnostics:
    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    bfmi_min: float
    draws: int
    chains: int
    messages: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.messages

    def to_dict(self) -> dict:
        return {"rhat_max": self.rhat_max, "ess_bulk_min": self.ess_bulk_min, "ess_tail_min": self.ess_tail_min,
                "divergences": self.divergences, "bfmi_min": self.bfmi_min, "draws": self.draws,
                "chains": self.chains, "messages": list(self.messages), "passed": self.passed}

    @classmethod
    def from_dict(cls, d: dict) -> Diagnostics:
        return cls(d["rhat_max"], d["ess_bulk_min"], d["ess_tail_min"], int(d["divergences"]), d["bfmi_min"],
                   int(d["draws"]), int(d["chains"]), tuple(d["messages"]))

    def __str__(self) -> str:
        head = (f"R-hat max {self.rhat_max:.3f}, ESS bulk min {self.ess_bulk_min:.0f}, tail min "
                f"{self.ess_tail_min:.0f}, {self.divergences} divergences, E-BFMI min {self.bfmi_min:.2f} "
                f"({self.chains} chains x {self.draws} draws): ")
        return head + ("OK" if self.passed else "NOT CONVERGED\n  WARNING: " + "\n  WARNING: ".join(self.messages))


def check(tree, var_names=("mu", "tau")) -> Diagnostics:
    """Run the gate on a posterior DataTree (``var_names``: the sampled parameters to check)."""
    post = tree["posterior"].to_dataset()
    names = [v for v in var_names if v in post]
    s = az.summary(tree, var_names=names, kind="diagnostics", round_to="none")
    rhat = float(np.nanmax(s["r_hat"].to_numpy(dtype=float)))
    eb = float(np.nanmin(s["ess_bulk"].to_numpy(dtype=float)))
    et = float(np.nanmin(s["ess_tail"].to_numpy(dtype=float)))
    ss = tree["sample_stats"].to_dataset()
    div = int(ss["diverging"].sum()) if "diverging" in ss else 0
    try:
        b = az.bfmi(tree)
        b = b.to_dataset() if hasattr(b, "to_dataset") else b
        bfmi = float(np.min(np.asarray(b["energy"] if "energy" in b else b)))
    except Exception:  # samplers without energy
        bfmi = float("nan")
    msgs = []
    if not rhat <= RHAT_MAX:
        msgs.append(f"R-hat {rhat:.3f} > {RHAT_MAX}")
    if not eb >= ESS_MIN:
        msgs.append(f"bulk ESS {eb:.0f} < {ESS_MIN}")
    if not et >= ESS_MIN:
        msgs.append(f"tail ESS {et:.0f} < {ESS_MIN}")
    if div > 0:
        msgs.append(f"{div} divergent transitions")
    if np.isfinite(bfmi) and bfmi < BFMI_MIN:
        msgs.append(f"E-BFMI {bfmi:.2f} < {BFMI_MIN}")
    return Diagnostics(rhat, eb, et, div, bfmi, int(post.sizes["draw"]), int(post.sizes["chain"]), tuple(msgs))


def mcse_quantile(draws, prob: float) -> float:
    """Monte Carlo SE of the ``prob`` quantile of ``draws`` (array (chain, draw)), by ArviZ
    (``az.mcse(method="quantile")``, Vehtari et al. 2021, sec. 4.3). ``prob`` is clipped to
    [1/n, 1 - 1/n] (n draws), so an interval bound at the smallest or largest draw gets the MCSE of
    the most extreme estimable quantile."""
    a = np.asarray(draws, dtype=float)
    if a.ndim == 1:
        a = a[None, :]
    n = a.size
    p = float(np.clip(prob, 1.0 / n, 1.0 - 1.0 / n))
    return float(az.mcse(a, method="quantile", prob=p))


def mcse_summary(da: xr.DataArray, bounds: dict[str, np.ndarray], levels: dict[str, float | None]) -> dict:
    """Monte Carlo SEs of the mean, sd, median and interval bounds of a posterior variable.

    Parameters
    ----------
    da : xarray.DataArray
        Draws with dims ``chain``, ``draw`` and at most one more (e.g. ``study``).
    bounds : dict
        Name of a bound column -> its values (one per element of ``da``).
    levels : dict
        Name of a bound column -> its nominal probability level (equal-tailed intervals), or
        ``None`` for an HDI bound, whose level is taken as the fraction of draws below it.

    Returns
    -------
    dict
        Column -> array (one per element): ``mcse_median``, ``mcse_<bound>`` for each bound.
    """
    extra = [d for d in da.dims if d not in ("chain", "draw")]
    arr = da.transpose("chain", "draw", *extra).to_numpy()
    arr = arr.reshape(arr.shape[0], arr.shape[1], -1)
    m = arr.shape[2]
    out: dict[str, np.ndarray] = {"mcse_median": np.array([mcse_quantile(arr[:, :, j], 0.5) for j in range(m)])}
    for col, vals in bounds.items():
        lvl = levels.get(col)
        res = np.empty(m)
        for j in range(m):
            x = arr[:, :, j]
            p = float(np.mean(x <= vals[j])) if lvl is None else float(lvl)
            res[j] = mcse_quantile(x, p)
        out[f"mcse_{col}"] = res
    return out
