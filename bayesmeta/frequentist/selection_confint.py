r"""Profile-likelihood confidence intervals of the selection models' :math:`\tau^2` and selection
parameters (metafor's ``confint.rma.uni.selmodel``).

For each estimated component :math:`\theta` (:math:`\tau^2` of a random-effects fit, every estimated
:math:`\delta_j`) the bounds solve :math:`2\{\ell(\hat\theta) - \ell_p(\theta)\} = \chi^2_{1,
\text{level}}` with :math:`\ell_p` the log-likelihood maximised over the other parameters. As
metafor, the search interval is :math:`[0, \max(10, 100\hat\tau^2)]` for :math:`\tau^2` and
:math:`[\max(0, \delta_{\min}), \min(\max(10, 10\hat\delta), \delta_{\max})]` for :math:`\delta`;
when the profile stays above the cut-off at an end of it, that end is the bound (metafor prints it
with ``<`` or ``>``; here ``lb_beyond``/``ub_beyond`` say so). The roots are found with Brent's
method to 1e-5 relative (metafor's ``uniroot``: 1.2e-4 absolute).

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).
    doi:10.18637/jss.v036.i03 (``confint`` of ``selmodel`` fits)
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bayesmeta.frequentist import selection, selection_functions
from bayesmeta.frequentist.confint import ConfintResult

__all__ = ["selmodel_confint"]

_SQRT_EPS = float(np.sqrt(np.finfo(float).eps))


def _pl_bounds(prof: Callable[[float], float], est: float, ll_max: float, lo: float, hi: float,
               level: float) -> tuple[float, float, bool, bool]:
    crit = float(stats.chi2.ppf(level, 1))

    def g(v: float) -> float:
        return 2 * (ll_max - prof(v)) - crit

    def root(a: float, b: float) -> float:
        return float(optimize.brentq(g, a, b, xtol=1e-8, rtol=1e-5))

    lb_beyond = ub_beyond = False
    if lo >= est:
        lb = est
    elif g(lo) < 0:
        lb, lb_beyond = lo, lo > 0
    else:
        lb = root(lo, est)
    if hi <= est:
        ub = est
    elif g(hi) < 0:
        ub, ub_beyond = hi, True
    else:
        ub = root(est, hi)
    return lb, ub, lb_beyond, ub_beyond


def selmodel_confint(fit, level: float | None = None) -> ConfintResult:
    """Profile-likelihood CIs of tau^2 and the estimated selection parameters of a selection model.

    Parameters
    ----------
    fit : SelectionModelResult or SelectionFamilyResult
    level : float, optional
        Default: the fit's level.

    Returns
    -------
    ConfintResult
        ``random``: rows ``tau2`` (random-effects fits) and ``delta.j`` (estimated weights; for the
        step function j = 2, ..., J), columns ``estimate``, ``ci_lb``, ``ci_ub``, ``lb_beyond``,
        ``ub_beyond`` (the profile does not reach the cut-off within the search interval);
        ``fixed``: the Wald CIs of the coefficients (as the fit's).
    """
    lv = fit.level if level is None else level
    rows = []
    prof_fn: Callable[..., float]
    if isinstance(fit, selection.SelectionModelResult):
        prof_fn = selection.profile_loglik
        fixed = fit.delta_fixed or (True,) + (False,) * (len(fit.delta) - 1)
        comps = [(f"delta.{j + 1}", fit.delta[j], 0.0, selection.DELTA_MAX) for j in range(len(fit.delta))
                 if not fixed[j]]
        coef = pd.DataFrame({"estimate": [fit.mu], "ci_lb": [fit.ci_lb], "ci_ub": [fit.ci_ub]}, index=["intrcpt"])
    else:
        prof_fn = selection_functions.profile_loglik
        fam = selection_functions.FAMILIES[fit.type]
        comps = [(f"delta.{j + 1}", float(fit.delta[j]), fam.delta_min[j], fam.delta_max[j])
                 for j in range(fit.delta.size) if not fit.delta_fixed[j]]
        coef = pd.DataFrame({"estimate": fit.beta, "ci_lb": fit.ci_lb, "ci_ub": fit.ci_ub}, index=list(fit.names))
    if fit.method != "EE":
        comps.insert(0, ("tau2", fit.tau2, 0.0, np.inf))
    for name, est, dmin, dmax in comps:
        if name == "tau2":
            lo, hi = 0.0, 10.0 if est <= _SQRT_EPS else max(10.0, est * 100)
        else:
            lo = max(0.0, dmin)
            hi = min(max(10.0 if est <= _SQRT_EPS else max(10.0, est * 10), lo), dmax)
        def prof(v: float, name: str = name) -> float:
            return prof_fn(fit, name, v)

        lb, ub, lbb, ubb = _pl_bounds(prof, float(est), fit.ll, lo, hi, lv)
        rows.append({"component": name, "estimate": float(est), "ci_lb": lb, "ci_ub": ub, "lb_beyond": lbb,
                     "ub_beyond": ubb})
    random = pd.DataFrame(rows).set_index("component") if rows else pd.DataFrame(
        columns=["estimate", "ci_lb", "ci_ub", "lb_beyond", "ub_beyond"], dtype=float)
    random.index.name = None
    return ConfintResult(random=random, fixed=coef, type="PL", level=lv)
