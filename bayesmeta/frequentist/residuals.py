r"""Residuals of a fitted model, as metafor's ``residuals``, ``rstandard`` and ``rstudent``.

For an ``rma`` fit with :math:`H = X(X^\top WX)^{-1}X^\top W`, :math:`M = \mathrm{diag}(v_i + \hat\tau^2)`:

* raw residuals :math:`e_i = y_i - x_i^\top\hat\beta`;
* standardized (``rstandard``): :math:`e_i/\sqrt{[(I-H)M(I-H)^\top]_{ii}}`;
* studentized deleted (``rstudent``): :math:`(y_i - x_i^\top\hat\beta_{(-i)})/\sqrt{s^2_{w(-i)}(v_i +
  \hat\tau^2_{(-i)}) + x_i^\top V_{b(-i)}x_i}` (see :mod:`bayesmeta.frequentist.influence`);
* Pearson: :math:`e_i/\sqrt{v_i + \hat\tau^2}`; with :math:`M` diagonal the Cholesky residuals
  :math:`L^{-1}e` (:math:`LL^\top = M`) are the same.

For Mantel-Haenszel and Peto fits (metafor's ``rstandard.rma.mh``/``rma.peto``): :math:`(y_i - \hat\theta)/\sqrt{v_i}`
with the study-level estimates, and :math:`(y_i - \hat\theta_{(-i)})/\sqrt{v_i + \mathrm{SE}(\hat\theta_{(-i)})^2}`
with the pooled estimate refitted without study :math:`i`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["residuals", "rstandard", "rstudent"]


def _is_pooled(fit) -> bool:
    from bayesmeta.frequentist.mantel_haenszel import MHResult
    from bayesmeta.frequentist.rare import PetoResult

    return isinstance(fit, MHResult | PetoResult)


def _frame(resid, se):
    resid = np.where(np.abs(resid) < 100 * np.finfo(float).eps, 0.0, resid)
    return pd.DataFrame({"resid": resid, "se": se, "z": resid / se})


def rstandard(fit) -> pd.DataFrame:
    """Standardized residuals: ``resid``, ``se``, ``z`` per study."""
    if _is_pooled(fit):
        return _frame(fit.yi - fit.estimate, np.sqrt(fit.vi))
    from bayesmeta.frequentist.model import model_of

    m = model_of(fit)
    w = 1.0 / (m.vi + m.tau2)
    XtW = m.X.T * w
    H = m.X @ np.linalg.solve(XtW @ m.X, XtW)
    ImH = np.eye(m.k) - H
    ve = ImH @ np.diag(m.vi + m.tau2) @ ImH.T
    return _frame(m.yi - m.X @ m.beta, np.sqrt(np.diag(ve)))


def rstudent(fit) -> pd.DataFrame:
    """Studentized deleted residuals: ``resid``, ``se``, ``z`` per study."""
    if _is_pooled(fit):
        from bayesmeta.frequentist import mantel_haenszel, rare

        a, n1, c, n2 = fit.counts
        from bayesmeta.effects.escalc import double_zero

        keep_tables = ~double_zero(a, n1, c, n2) if (getattr(fit, "drop00", True) and fit.yi.size < a.size) else \
            np.ones(a.size, bool)
        idx = np.flatnonzero(keep_tables)
        pred, vpred = np.empty(idx.size), np.empty(idx.size)
        r: Any
        for j, drop in enumerate(idx):
            keep = np.arange(a.size) != drop
            if isinstance(fit, mantel_haenszel.MHResult):
                r = mantel_haenszel.rma_mh(a[keep], n1[keep], c[keep], n2[keep], measure=fit.measure,
                                           drop00=fit.drop00, rd_variance=fit.rd_variance,
                                           mh_correction=fit.mh_correction, add=fit.add)
            else:
                r = rare.rma_peto(a[keep], n1[keep], c[keep], n2[keep])
            pred[j], vpred[j] = r.estimate, r.se**2
        return _frame(fit.yi - pred, np.sqrt(fit.vi + vpred))
    from bayesmeta.frequentist.influence import influence

    inf = influence(fit)
    from bayesmeta.frequentist.model import model_of

    m = model_of(fit)
    resid_over_se = inf.rstudent.to_numpy()
    # rebuild resid and se from the refits (influence keeps the standardized value)
    resid, se = np.full(m.k, np.nan), np.full(m.k, np.nan)
    from bayesmeta.frequentist.influence import _refit

    for i in range(m.k):
        keep = np.arange(m.k) != i
        try:
            b, vb, t, _, s2w = _refit(m.yi[keep], m.vi[keep], m.X[keep], m.method, m.test, m.level)
        except (ValueError, np.linalg.LinAlgError):
            continue
        x = m.X[i]
        resid[i] = m.yi[i] - float(x @ b)
        se[i] = np.sqrt(s2w * (m.vi[i] + t) + float(x @ vb @ x))
    out = _frame(resid, se)
    out["z"] = np.where(np.isfinite(resid_over_se), out.z, np.nan)
    return out


def residuals(fit, type: str = "response") -> np.ndarray:
    """Residuals of ``type`` ``"response"`` (raw), ``"rstandard"``, ``"rstudent"``, ``"pearson"`` or ``"cholesky"``."""
    if type == "rstandard":
        return rstandard(fit).z.to_numpy()
    if type == "rstudent":
        return rstudent(fit).z.to_numpy()
    if _is_pooled(fit):
        e = fit.yi - fit.estimate
        if type == "response":
            return e
        if type in ("pearson", "cholesky"):
            return e / np.sqrt(fit.vi)
    else:
        from bayesmeta.frequentist.model import model_of

        m = model_of(fit)
        e = m.yi - m.X @ m.beta
        if type == "response":
            return e
        if type in ("pearson", "cholesky"):
            return e / np.sqrt(m.vi + m.tau2)
    raise ValueError("type must be 'response', 'rstandard', 'rstudent', 'pearson' or 'cholesky'")
