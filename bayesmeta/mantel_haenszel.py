r"""Mantel-Haenszel pooling for binary outcomes, as RevMan 5 and metafor's ``rma.mh`` compute it.

With :math:`a_i, b_i` events/non-events in arm 1, :math:`c_i, d_i` in arm 2, :math:`N_i` the study
total (Deeks & Higgins 2010, RevMan 5 statistical algorithms; Greenland & Robins 1985,
doi:10.2307/2531795; Robins, Breslow & Greenland 1986, doi:10.2307/2531169):

* RR: :math:`\hat R = \sum a_i n_{2i}/N_i \,/\, \sum c_i n_{1i}/N_i`, variance of :math:`\log\hat R`
  :math:`\sum (n_{1i} n_{2i} (a_i + c_i) - a_i c_i N_i)/N_i^2 \,/\, (\sum a_i n_{2i}/N_i \sum c_i n_{1i}/N_i)`;
* OR: :math:`\sum a_i d_i/N_i \,/\, \sum b_i c_i/N_i` with the Robins-Breslow-Greenland variance;
* RD: :math:`\sum (a_i n_{2i} - c_i n_{1i})/N_i \,/\, \sum n_{1i} n_{2i}/N_i` with the
  Greenland-Robins variance.

The pooled estimate uses the raw counts; studies with no events (or all events) in both arms are
dropped for RR and OR (``drop00``). Cochran's Q uses the study estimates with 0.5 added to the
cells of studies with a zero cell and their inverse-variance weights around the MH estimate
(as metafor's ``rma.mh`` and RevMan). RevMan's random-effects analysis of dichotomous data
(:meth:`MHResult.random_effects`) is DerSimonian-Laird with that Q.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .effects import log_or, log_rr, rd
from .frequentist import RMAResult, rma


@dataclass(frozen=True)
class MHResult:
    measure: str
    k: int  # tables supplied (as metafor counts them)
    k_estimable: int  # tables that enter the pooled estimate and Q
    estimate: float  # log scale for RR and OR
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    Q: float
    Q_p: float
    I2: float
    yi: np.ndarray
    vi: np.ndarray
    level: float

    def summary(self) -> pd.DataFrame:
        pct = round(self.level * 100)
        tr = np.exp if self.measure in ("RR", "OR") else (lambda v: v)
        return pd.DataFrame([{"measure": self.measure, "method": "MH", "k": self.k, "estimate": tr(self.estimate),
                              f"ci{pct}_lb": tr(self.ci_lb), f"ci{pct}_ub": tr(self.ci_ub), "zval": self.zval,
                              "pval": self.pval, "Q": self.Q, "Q_p": self.Q_p, "I2": self.I2}])

    def random_effects(self) -> RMAResult:
        """RevMan 5 random effects for dichotomous data: DL with Q around the MH estimate."""
        w = 1.0 / self.vi
        c = w.sum() - np.sum(w**2) / w.sum()
        tau2 = max(0.0, (self.Q - (self.k_estimable - 1)) / c)
        return rma(self.yi, self.vi, method="DL", tau2=tau2, level=self.level)

    def __str__(self) -> str:
        s = self.summary().iloc[0]
        pct = round(self.level * 100)
        return (f"Mantel-Haenszel common-effect model ({self.measure}; k = {self.k})\n"
                f"  estimate {s['estimate']:.4f} [{pct}% CI {s[f'ci{pct}_lb']:.4f}, {s[f'ci{pct}_ub']:.4f}], "
                f"z = {self.zval:.4f}, p = {self.pval:.4g}\n  Q({self.k_estimable - 1}) = {self.Q:.4f}, p = {self.Q_p:.4g}, I^2 = {self.I2:.2f}%")


def rma_mh(ai, n1i, ci, n2i, measure: str = "RR", level: float = 0.95, drop00: bool = True,
           rd_variance: str = "greenland-robins") -> MHResult:
    """Mantel-Haenszel common-effect meta-analysis (RR, OR or RD).

    ``rd_variance``: ``"greenland-robins"`` (RevMan 5) or ``"sato"`` (Sato, Greenland & Robins
    1989, doi:10.2307/2531965, which metafor's ``rma.mh`` uses).
    """
    a, n1, c, n2 = (np.asarray(x, dtype=float) for x in (ai, n1i, ci, n2i))
    measure = measure.upper()
    keep = np.ones(a.shape, bool)
    if drop00 and measure in ("RR", "OR"):
        keep = ~(((a == 0) & (c == 0)) | ((a == n1) & (c == n2)))
    k_all = a.size
    a, n1, c, n2 = a[keep], n1[keep], c[keep], n2[keep]
    b, d = n1 - a, n2 - c
    N = n1 + n2
    if measure == "RR":
        R, S = np.sum(a * n2 / N), np.sum(c * n1 / N)
        est = np.log(R / S)
        var = np.sum((n1 * n2 * (a + c) - a * c * N) / N**2) / (R * S)
        yi, vi = log_rr(a, n1, c, n2)
    elif measure == "OR":
        R, S = np.sum(a * d / N), np.sum(b * c / N)
        P, Qc = (a + d) / N, (b + c) / N
        est = np.log(R / S)
        var = (np.sum(P * a * d / N) / (2 * R**2) + np.sum((P * b * c / N + Qc * a * d / N)) / (2 * R * S)
               + np.sum(Qc * b * c / N) / (2 * S**2))
        yi, vi = log_or(a, n1, c, n2)
    elif measure == "RD":
        W = np.sum(n1 * n2 / N)
        est = np.sum((a * n2 - c * n1) / N) / W
        if rd_variance == "greenland-robins":
            var = np.sum((a * b * n2**3 + c * d * n1**3) / (n1 * n2 * N**2)) / W**2
        elif rd_variance == "sato":
            Pi = (n1**2 * c - n2**2 * a + n1 * n2 * (n2 - n1) / 2) / N**2
            Qi = (a * (n2 - c) + c * (n1 - a)) / (2 * N)
            var = (est * Pi.sum() + Qi.sum()) / W**2
        else:
            raise ValueError("rd_variance must be 'greenland-robins' or 'sato'")
        yi, vi = rd(a, n1, c, n2)
        # studies with a zero cell have zero variance for RD: metafor adds 1/2 for the IV parts
        zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        aa, cc = np.where(zero, a + 0.5, a), np.where(zero, c + 0.5, c)
        yi, vi = rd(aa, np.where(zero, n1 + 1, n1), cc, np.where(zero, n2 + 1, n2))
        if drop00:  # as metafor: double-zero tables stay in the MH estimate but not in Q
            dz = ((a == 0) & (c == 0)) | ((a == n1) & (c == n2))
            yi, vi = yi[~dz], vi[~dz]
    else:
        raise ValueError("measure must be 'RR', 'OR' or 'RD'")
    se = np.sqrt(var)
    z = est / se
    crit = stats.norm.ppf(0.5 + level / 2)
    k = yi.size
    Q = float(np.sum((yi - est) ** 2 / vi))
    I2 = 100 * max(0.0, (Q - (k - 1)) / Q) if Q > 0 else 0.0
    return MHResult(measure, k_all, k, float(est), float(se), float(z), float(2 * stats.norm.sf(abs(z))),
                    float(est - crit * se), float(est + crit * se), Q, float(stats.chi2.sf(Q, k - 1)), I2,
                    yi, vi, level)
