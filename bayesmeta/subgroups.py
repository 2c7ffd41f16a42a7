r"""Subgroup analysis and the test for subgroup differences, as RevMan 5 reports it.

Each subgroup is pooled separately (its own :math:`\tau^2`); the test for subgroup differences is
Cochran's Q across the subgroup estimates with their standard errors,
:math:`Q_b = \sum_g (\hat\mu_g - \bar\mu)^2 / SE_g^2` on :math:`G - 1` df, with
:math:`\bar\mu` the inverse-variance mean of the :math:`\hat\mu_g` (Deeks & Higgins 2010; Borenstein
& Higgins 2013, doi:10.1007/s11121-013-0377-7). It equals metafor's
``rma(estimates, sei = se, method = "EE")$QE`` on the subgroup results, which is how the golden
values are made. The same Q_b also gives an I^2 for subgroup differences, as RevMan prints.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .frequentist import RMAResult, rma


@dataclass(frozen=True)
class SubgroupResult:
    subgroups: dict[str, RMAResult]
    overall: RMAResult
    Q_between: float
    df: int
    p: float
    I2_between: float

    def summary(self) -> pd.DataFrame:
        pct = round(self.overall.level * 100)
        rows = [{"subgroup": g, "k": r.k, "estimate": r.mu, "se": r.se, f"ci{pct}_lb": r.ci_lb,
                 f"ci{pct}_ub": r.ci_ub, "tau2": r.tau2, "I2": r.I2, "Q": r.Q}
                for g, r in {**self.subgroups, "overall": self.overall}.items()]
        return pd.DataFrame(rows)

    def __str__(self) -> str:
        return (f"{self.summary().to_string(index=False)}\nTest for subgroup differences: "
                f"Chi^2 = {self.Q_between:.2f}, df = {self.df} (P = {self.p:.4g}), I^2 = {self.I2_between:.1f}%")


def subgroup_analysis(yi, vi, groups, method: str = "DL", test: str = "z", level: float = 0.95) -> SubgroupResult:
    """Pool each subgroup and the whole set with ``method``; test for subgroup differences."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    groups = np.asarray(groups)
    subs = {}
    for g in dict.fromkeys(groups.tolist()):
        sel = groups == g
        subs[str(g)] = rma(yi[sel], vi[sel], method=method if sel.sum() > 1 else "EE", test=test, level=level)
    est = np.array([r.mu for r in subs.values()])
    se = np.array([r.se for r in subs.values()])
    w = 1 / se**2
    qb = float(np.sum(w * (est - np.sum(w * est) / w.sum()) ** 2))
    df = len(subs) - 1
    i2 = 100 * max(0.0, (qb - df) / qb) if qb > 0 else 0.0
    return SubgroupResult(subs, rma(yi, vi, method=method, test=test, level=level), qb, df,
                          float(stats.chi2.sf(qb, df)) if df > 0 else float("nan"), i2)
