r"""Henmi & Copas (2010, doi:10.1002/sim.4029) confidence interval, as metafor's ``hc``.

The point estimate is the common-effect (inverse-variance) mean :math:`\hat\beta`, robust to
publication bias that favours small studies; its CI accounts for heterogeneity (DL :math:`\hat\tau^2`)
through the exact distribution of :math:`(\hat\beta - \beta)/\mathrm{SE}` given Q: with
:math:`W_j = \sum w_i^j/\sum w_i` (:math:`w_i = 1/v_i`), :math:`V_R = 1 + \hat\tau^2 W_2`, the bound
:math:`t_0` solves :math:`\int_{t_0}^\infty F_\Gamma(f^{-1}(r/t_0); \kappa(r), \theta(r))\,\phi(r)\,dr = \alpha/2`
with the gamma approximation to Q given R (moments :math:`E(Q|R)`, :math:`V(Q|R)` as in the paper),
and :math:`\hat\beta \pm \sqrt{V_R}\,t_0\,\mathrm{SE}`, :math:`\mathrm{SE} = \sqrt{(\hat\tau^2W_2 + 1)/W_1}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize, stats

__all__ = ["HCResult", "hc"]


@dataclass(frozen=True, repr=False)
class HCResult:
    """``beta``, ``se``, ``ci_lb``, ``ci_ub`` (Henmi-Copas), ``tau2`` (DL) and the fit's ``beta_rma``, ``se_rma``,
    ``ci_lb_rma``, ``ci_ub_rma``, ``tau2_rma``, ``method_rma``."""

    beta: float
    se: float
    ci_lb: float
    ci_ub: float
    tau2: float
    beta_rma: float
    se_rma: float
    ci_lb_rma: float
    ci_ub_rma: float
    tau2_rma: float
    method_rma: str
    level: float

    def __str__(self) -> str:
        pct = f"{100 * self.level:g}"
        return ("Henmi-Copas interval (tau^2 by DL) vs the random-effects fit\n"
                f"  HC:  {self.beta:.4f} (SE {self.se:.4f}) {pct}% CI [{self.ci_lb:.4f}, {self.ci_ub:.4f}], "
                f"tau^2 = {self.tau2:.4f}\n"
                f"  {self.method_rma}: {self.beta_rma:.4f} (SE {self.se_rma:.4f}) {pct}% CI "
                f"[{self.ci_lb_rma:.4f}, {self.ci_ub_rma:.4f}], tau^2 = {self.tau2_rma:.4f}")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<pre>{self!s}</pre>"


def hc(yi, vi, level: float = 0.95, tol: float = np.finfo(float).eps ** 0.25):
    """Henmi-Copas estimate and CI (see the module docstring); returns (beta, se, ci_lb, ci_ub, tau2)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = yi.size
    if k < 2:
        raise ValueError("hc needs k >= 2")
    alpha = 1 - level
    wi = 1 / vi
    W1 = wi.sum()
    W2, W3, W4 = (np.sum(wi**j) / W1 for j in (2, 3, 4))
    beta = np.sum(wi * yi) / W1
    Q = np.sum(wi * (yi - beta) ** 2)
    tau2 = max(0.0, (Q - (k - 1)) / (W1 - W2))
    se = np.sqrt((tau2 * W2 + 1) / W1)
    VR = 1 + tau2 * W2
    SDR = np.sqrt(VR)

    def EQ(r):
        return (k - 1) + tau2 * (W1 - W2) + tau2**2 * (r**2 / VR**2 - 1 / VR) * (W3 - W2**2)

    def VQ(r):
        rsq = r**2
        rv2 = 1 / VR**2
        return (2 * (k - 1) + 4 * tau2 * (W1 - W2) + 2 * tau2**2 * (W1 * W2 - 2 * W3 + W2**2)
                + 4 * tau2**2 * (rv2 * rsq - 1 / VR) * (W3 - W2**2)
                + 4 * tau2**3 * (rv2 * rsq - 1 / VR) * (W4 - 2 * W2 * W3 + W2**3)
                + 2 * tau2**4 * (rv2 - 2 / VR**3 * rsq) * (W3 - W2**2) ** 2)

    def finv(f):
        return (W1 / W2 - 1) * (f**2 - 1) + (k - 1)

    def eqn(x):
        def integrand(r):
            e, v = EQ(SDR * r), VQ(SDR * r)
            return stats.gamma.cdf(finv(r / x), a=e**2 / v, scale=v / e) * stats.norm.pdf(r)

        return integrate.quad(integrand, x, np.inf)[0] - alpha / 2

    t0 = optimize.brentq(eqn, 1e-8, 2, xtol=tol, maxiter=1000)
    u0 = SDR * t0
    return float(beta), float(se), float(beta - u0 * se), float(beta + u0 * se), float(tau2)
