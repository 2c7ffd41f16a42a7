r"""Predicted values, best linear unbiased predictions and random effects, as metafor's ``predict``,
``blup`` and ``ranef`` (Raudenbush & Bryk 1985, doi:10.3102/10769986010002075; Viechtbauer 2010,
doi:10.18637/jss.v036.i03).

With :math:`\lambda_i = \hat\tau^2/(\hat\tau^2 + v_i)` and the fitted mean :math:`x_i^\top\hat\beta`:

* ``predict``: :math:`\hat\mu(x) = x^\top\hat\beta`, SE :math:`\sqrt{x^\top V_b x}`, CI
  :math:`\hat\mu \pm c\,\mathrm{SE}` and prediction interval :math:`\hat\mu \pm c\sqrt{\mathrm{SE}^2 + \hat\tau^2}`
  (c from the normal, or the t with the fit's df for tests t and knha);
* ``blup`` (study-specific true effects): :math:`\lambda_i y_i + (1 - \lambda_i)x_i^\top\hat\beta`, variance
  :math:`\lambda_i v_i + (1-\lambda_i)^2 x_i^\top V_b x_i`;
* ``ranef`` (deviations from the fitted mean): :math:`\lambda_i(y_i - x_i^\top\hat\beta)`, variance
  :math:`\lambda_i v_i + \lambda_i^2 x_i^\top V_b x_i` (metafor's ``ranef.rma.uni``).

``transf`` back-transforms every column but ``se`` (then NaN), as metafor does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from bayesmeta.frequentist.model import model_of

__all__ = ["blup", "predict", "ranef"]


def _tr(df: pd.DataFrame, transf: Callable | None, cols) -> pd.DataFrame:
    if transf is None:
        return df
    df = df.copy()
    for c in cols:
        df[c] = np.asarray(transf(df[c].to_numpy(float)), float)
    df["se"] = np.nan
    lo, hi = [c for c in cols if c.endswith("_lb")], [c for c in cols if c.endswith("_ub")]
    for a, b in zip(lo, hi, strict=True):  # a decreasing transformation swaps the bounds
        lo_v, hi_v = np.minimum(df[a], df[b]), np.maximum(df[a], df[b])
        df[a], df[b] = lo_v, hi_v
    return df


def _lam(m):
    return m.tau2 / (m.tau2 + m.vi)


def blup(fit, transf: Callable | None = None, level: float | None = None) -> pd.DataFrame:
    """Best linear unbiased predictions of the studies' true effects (metafor ``blup``).

    Returns
    -------
    pandas.DataFrame
        ``study``, ``pred``, ``se``, ``pi_lb``, ``pi_ub``.
    """
    m = model_of(fit)
    if m.weights is not None:
        raise ValueError("BLUPs are not available for fits with non-standard weights (metafor neither)")
    lam = _lam(m)
    xb = m.X @ m.beta
    vx = np.einsum("ij,jk,ik->i", m.X, m.vb, m.X)
    pred = lam * m.yi + (1 - lam) * xb
    se = np.sqrt(lam * m.vi + (1 - lam) ** 2 * vx)
    c = m.crit(level)
    df = pd.DataFrame({"study": list(m.labels), "pred": pred, "se": se, "pi_lb": pred - c * se,
                       "pi_ub": pred + c * se})
    return _tr(df, transf, ["pred", "pi_lb", "pi_ub"])


def ranef(fit, transf: Callable | None = None, level: float | None = None) -> pd.DataFrame:
    """Predicted random effects :math:`\\hat u_i` (deviations from the fitted mean; metafor ``ranef``).

    Returns
    -------
    pandas.DataFrame
        ``study``, ``pred``, ``se``, ``pi_lb``, ``pi_ub`` (zeros for a common-effect fit).
    """
    m = model_of(fit)
    if m.weights is not None:
        raise ValueError("random effects are not available for fits with non-standard weights (metafor neither)")
    if m.method == "EE":
        z = np.zeros(m.k)
        df = pd.DataFrame({"study": list(m.labels), "pred": z, "se": z, "pi_lb": z, "pi_ub": z})
        return _tr(df, transf, ["pred", "pi_lb", "pi_ub"])
    lam = _lam(m)
    vx = np.einsum("ij,jk,ik->i", m.X, m.vb, m.X)
    pred = lam * (m.yi - m.X @ m.beta)
    se = np.sqrt(lam * m.vi + lam**2 * vx)
    c = m.crit(level)
    df = pd.DataFrame({"study": list(m.labels), "pred": pred, "se": se, "pi_lb": pred - c * se,
                       "pi_ub": pred + c * se})
    return _tr(df, transf, ["pred", "pi_lb", "pi_ub"])


def newmods_matrix(m, newmods) -> np.ndarray:
    """Rows of the design matrix for ``newmods`` (without the intercept column when the model has one)."""
    x = np.asarray(newmods, float)
    has_int = bool(np.all(m.X[:, 0] == 1.0))
    q = m.p - (1 if has_int else 0)
    if x.ndim == 0:
        x = x.reshape(1, 1)
    elif x.ndim == 1:
        x = x.reshape(-1, 1) if q == 1 else x.reshape(1, -1)
    if x.shape[1] == q and has_int:
        x = np.column_stack([np.ones(x.shape[0]), x])
    if x.shape[1] != m.p:
        raise ValueError(f"newmods must have {q} column(s) (one per moderator coefficient: "
                         f"{', '.join(m.names[1 if has_int else 0:])}); got {x.shape[1]}")
    return x


def predict(fit, newmods=None, transf: Callable | None = None, level: float | None = None,
            intercept: bool = True) -> pd.DataFrame:
    """Predicted (average) effect with its CI and prediction interval (metafor ``predict``).

    Parameters
    ----------
    fit : RMAResult or MetaRegResult
    newmods : array_like, optional
        Moderator values (one row per prediction, without the intercept). Default: the pooled
        effect (intercept-only fit) or the fitted values of the studies (meta-regression).
    transf : callable, optional
        Back-transformation (e.g. ``numpy.exp``) applied to pred and the bounds.
    level : float, optional
        Default: the fit's level.
    intercept : bool
        Include the intercept in the predictions (metafor's ``intercept=``).

    Returns
    -------
    pandas.DataFrame
        ``pred``, ``se``, ``ci_lb``, ``ci_ub``, ``pi_lb``, ``pi_ub``.
    """
    from bayesmeta.frequentist.rma import as_level

    m = model_of(fit)
    level = m.level if level is None else as_level(level)
    if newmods is None:
        x = np.ones((1, 1)) if m.intercept_only else m.X
    else:
        x = newmods_matrix(m, newmods)
    if not intercept and np.all(m.X[:, 0] == 1.0):
        x = x.copy()
        x[:, 0] = 0.0
    pred = x @ m.beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", x, m.vb, x))
    c = m.crit(level)
    tau2 = 0.0 if m.method == "EE" else m.tau2
    half_pi = c * np.sqrt(se**2 + tau2)
    df = pd.DataFrame({"pred": pred, "se": se, "ci_lb": pred - c * se, "ci_ub": pred + c * se,
                       "pi_lb": pred - half_pi, "pi_ub": pred + half_pi})
    if newmods is None and not m.intercept_only:
        df.insert(0, "study", list(m.labels))
    return _tr(df, transf, ["pred", "ci_lb", "ci_ub", "pi_lb", "pi_ub"])
