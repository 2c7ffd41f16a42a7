r"""Confidence intervals for :math:`\tau^2`, :math:`\tau`, :math:`I^2` and :math:`H^2`, as metafor's ``confint``.

* ``type="QP"`` (Q-profile; Viechtbauer 2007, doi:10.1002/sim.2514): the bounds solve
  :math:`y^\top P(\tau^2)y = \chi^2_{k-p}` quantiles :math:`1-\alpha/2` (lower) and :math:`\alpha/2`
  (upper), a bound being 0 when the generalised Q at 0 is already below its quantile.
* ``type="PL"`` (profile likelihood; Hardy & Thompson 1996, doi:10.1002/(SICI)1097-0258(19960330)15:6<619::AID-SIM188>3.0.CO;2-A):
  :math:`2\{\ell(\hat\tau^2) - \ell(\tau^2)\} = \chi^2_{1,1-\alpha}` with the fit's (restricted) likelihood
  (ML or REML; other estimators use REML).
* ``type="Wald"``: :math:`\hat\tau^2 \pm z_{1-\alpha/2}\mathrm{SE}(\hat\tau^2)`, truncated at 0.
* ``type="GENQ"`` (Jackson 2013, doi:10.1002/jrsm.1076; the default for GENQ/GENQM fits): the
  generalised Q with the fit's weights, bounds where its CDF equals :math:`1-\alpha/2` and :math:`\alpha/2`.

:math:`I^2 = 100\,\tau^2/(\tau^2 + \tilde v)` and :math:`H^2 = (\tau^2 + \tilde v)/\tilde v`,
:math:`\tilde v = (k-p)/\mathrm{tr}P_0`, are monotone in :math:`\tau^2`: their bounds are those of
:math:`\tau^2` mapped (metafor does the same).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bayesmeta.frequentist.metareg import _generalised_q, fit_beta, genq_cdf
from bayesmeta.frequentist.model import loglik, model_of

__all__ = ["ConfintResult", "confint"]


@dataclass(frozen=True, repr=False)
class ConfintResult:
    """Confidence intervals of a fit: ``random`` (tau^2, tau, I^2 in percent, H^2) and ``fixed`` (coefficients).

    Both are DataFrames with columns ``estimate``, ``ci_lb``, ``ci_ub``; ``type`` and ``level`` say how.
    """

    random: pd.DataFrame
    fixed: pd.DataFrame
    type: str
    level: float

    def __getitem__(self, key: str) -> pd.Series:
        """``ci["tau2"]`` (a row of ``random``) or ``ci["intrcpt"]`` (a row of ``fixed``)."""
        if key in self.random.index:
            return self.random.loc[key]
        return self.fixed.loc[key]

    def __str__(self) -> str:
        kind = {"QP": "Q-profile", "PL": "profile likelihood", "GENQ": "generalised Q", "WALD": "Wald"}[self.type]
        return (f"{100 * self.level:g}% confidence intervals ({kind} for the heterogeneity)\n"
                + self.random.to_string(float_format=lambda v: f"{v:.4f}") + "\n\n"
                + self.fixed.to_string(float_format=lambda v: f"{v:.4f}"))

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self).splitlines()[0])}</pre>" + self.random.to_html() + self.fixed.to_html()


def _root(f, target, lo_val, hi0):
    """Root of a decreasing f(t) = target on [0, inf); 0 when f(0) <= target."""
    if lo_val <= target:
        return 0.0
    hi = hi0
    while f(hi) > target:
        hi *= 10
        if hi > 1e12:
            return float("inf")
    return float(optimize.brentq(lambda t: f(t) - target, 0.0, hi, xtol=1e-12, rtol=1e-12, maxiter=500))


def _tau2_bounds(m, type_: str, level: float) -> tuple[float, float]:
    k, p = m.k, m.p
    a = 1 - level
    hi0 = max(100.0 * float(np.var(m.yi)) + 10.0 * float(np.max(m.vi)), 1e-4)
    if type_ == "QP":
        def q(t):
            _, _, P = fit_beta(m.yi, m.vi, m.X, t)
            return float(m.yi @ P @ m.yi)

        q0 = q(0.0)
        return (_root(q, stats.chi2.ppf(1 - a / 2, k - p), q0, hi0),
                _root(q, stats.chi2.ppf(a / 2, k - p), q0, hi0))
    if type_ == "GENQ":
        if m.weights is None:
            raise ValueError("confint(type='GENQ') needs a fit with weights (method GENQ or GENQM)")
        Qa, Pa = _generalised_q(m.yi, m.vi, m.X, m.weights)

        def cdf(t):
            return genq_cdf(Qa, t, m.vi, Pa, k - p)

        c0 = cdf(0.0)
        return _root(cdf, 1 - a / 2, c0, hi0), _root(cdf, a / 2, c0, hi0)
    if type_ == "WALD":
        se_t2 = float(getattr(m.fit, "se_tau2", float("nan")))
        z = stats.norm.ppf(1 - a / 2)
        return max(0.0, m.tau2 - z * se_t2), m.tau2 + z * se_t2
    if type_ == "PL":
        reml = m.method != "ML"

        def dev(t):  # decreasing below the estimate, increasing above it
            return 2 * (ll_hat - loglik(m.yi, m.vi, m.X, t, reml))

        ll_hat = loglik(m.yi, m.vi, m.X, m.tau2, reml)
        crit = stats.chi2.ppf(level, 1)
        t_hat = m.tau2
        if dev(0.0) <= crit or t_hat <= 0:
            lb = 0.0
        else:
            lb = float(optimize.brentq(lambda t: dev(t) - crit, 0.0, t_hat, xtol=1e-12, maxiter=500))
        hi = max(t_hat * 2, hi0)
        while dev(hi) < crit:
            hi *= 10
        ub = float(optimize.brentq(lambda t: dev(t) - crit, t_hat, hi, xtol=1e-12, maxiter=500))
        return lb, ub
    raise ValueError(f"type must be 'QP', 'PL', 'GENQ' or 'Wald'; got {type_!r}")


def confint(fit, type: str | None = None, level: float | None = None) -> ConfintResult:
    """Confidence intervals for tau^2, tau, I^2, H^2 and the coefficients (metafor ``confint``).

    Parameters
    ----------
    fit : RMAResult or MetaRegResult
    type : {"QP", "PL", "GENQ", "Wald"}, optional
        Default ``"GENQ"`` for GENQ/GENQM fits, else ``"QP"`` (as metafor).
    level : float, optional
        0.95 or 95; default the fit's level.

    Returns
    -------
    ConfintResult
    """
    from bayesmeta.frequentist.rma import as_level

    m = model_of(fit)
    level = m.level if level is None else as_level(level)
    type_ = (type or ("GENQ" if m.method in ("GENQ", "GENQM") else "QP")).upper()
    c = m.crit(level)
    se = np.sqrt(np.diag(m.vb))
    fixed = pd.DataFrame({"estimate": m.beta, "ci_lb": m.beta - c * se, "ci_ub": m.beta + c * se},
                         index=list(m.names))
    if m.method == "EE" or m.k - m.p < 1:
        random = pd.DataFrame(columns=["estimate", "ci_lb", "ci_ub"], dtype=float)
        return ConfintResult(random=random, fixed=fixed, type=type_, level=level)
    lb, ub = _tau2_bounds(m, type_, level)
    _, _, P0 = fit_beta(m.yi, m.vi, m.X, 0.0)
    s2 = (m.k - m.p) / np.trace(P0)
    rows = {}
    for name, f in (("tau2", lambda t: t), ("tau", np.sqrt), ("I2", lambda t: 100 * t / (t + s2)),
                    ("H2", lambda t: (t + s2) / s2)):
        rows[name] = {"estimate": float(f(m.tau2)), "ci_lb": float(f(lb)), "ci_ub": float(f(ub))}
    random = pd.DataFrame.from_dict(rows, orient="index")
    return ConfintResult(random=random, fixed=fixed, type=type_, level=level)
