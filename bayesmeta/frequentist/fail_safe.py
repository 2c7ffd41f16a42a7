r"""Fail-safe N (file-drawer analysis), as metafor's ``fsn``.

* Rosenthal (1979, doi:10.1037/0033-2909.86.3.638), Stouffer's method: with :math:`z_i = y_i/\sqrt{v_i}`,
  :math:`\bar z = |\sum z_i|/\sqrt k`, :math:`N = \max\{0, k(\bar z/z_{1-\alpha})^2 - k\}`
  (one-sided :math:`\alpha`); p-value :math:`1-\Phi(\bar z)`.
* Orwin (1983, doi:10.3102/10769986008002157): :math:`N = k(\hat\theta - \theta_t)/\theta_t` with the
  inverse-variance mean :math:`\hat\theta` and target :math:`\theta_t` (default :math:`\hat\theta/2`).
* Rosenberg (2005, doi:10.1111/j.0014-3820.2005.tb01004.x): :math:`N = \max\{0, ((\sum w_iy_i/z_{1-\alpha/2})^2
  - \sum w_i)\,\bar v\}`, :math:`\bar v = 1/\mathrm{mean}(1/v_i)`.

A non-integer N is rounded up (metafor's ``.rnd.fsn``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["FsnResult", "fsn"]


@dataclass(frozen=True, repr=False)
class FsnResult:
    """``fsnum`` (the fail-safe N), ``type``, ``alpha``, ``pval`` (of the observed data), ``est`` and ``target``
    (Orwin), ``k``."""

    fsnum: float
    type: str
    alpha: float
    pval: float
    est: float
    target: float
    k: int

    def __str__(self) -> str:
        extra = (f"; average effect {self.est:.4f}, target {self.target:.4f}" if self.type == "Orwin" else
                 f"; observed p = {self.pval:.4g}, alpha = {self.alpha:g}")
        return f"Fail-safe N ({self.type}; k = {self.k}): {self.fsnum:g}{extra}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<pre>{self!s}</pre>"


def _rnd(x: float) -> float:
    if np.isfinite(x) and abs(x - round(x)) >= np.sqrt(np.finfo(float).eps):
        return float(np.ceil(x))
    return float(round(x))


def fsn(yi, vi, type: str = "Rosenthal", alpha: float = 0.05, target: float | None = None) -> FsnResult:
    """Fail-safe N of Rosenthal, Orwin or Rosenberg (see the module docstring)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = yi.size
    t = type.capitalize()
    est, tgt, pval = float("nan"), float("nan"), float("nan")
    if t == "Rosenthal":
        zbar = abs(np.sum(yi / np.sqrt(vi)) / np.sqrt(k))
        pval = float(stats.norm.sf(zbar))
        n = max(0.0, k * (zbar / stats.norm.isf(alpha)) ** 2 - k)
    elif t == "Orwin":
        w = 1 / vi
        est = float(np.sum(w * yi) / np.sum(w))
        tgt = est / 2 if target is None else float(target)
        if tgt == 0:
            n = float("inf")
        else:
            if np.sign(tgt) != np.sign(est):
                tgt = -tgt
            n = max(0.0, k * (est - tgt) / tgt)
    elif t == "Rosenberg":
        w = 1 / vi
        est = float(np.sum(w * yi) / np.sum(w))
        pval = float(2 * stats.norm.sf(abs(est * np.sqrt(np.sum(w)))))
        vt = 1 / np.mean(w)
        n = max(0.0, ((np.sum(w * yi) / stats.norm.isf(alpha / 2)) ** 2 - np.sum(w)) * vt)
    else:
        raise ValueError("type must be 'Rosenthal', 'Orwin' or 'Rosenberg'")
    return FsnResult(fsnum=_rnd(float(n)), type=t, alpha=alpha, pval=pval, est=est, target=tgt, k=k)
