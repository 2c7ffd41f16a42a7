r"""Leave-one-out, influence diagnostics, Baujat and GOSH data, as metafor computes them.

For a fit with design :math:`X` (a column of ones for :func:`~bayesmeta.frequentist.rma.rma`),
:math:`\hat\beta`, :math:`\mathrm{Var}(\hat\beta) = V_b` and :math:`\hat\tau^2`, study :math:`i` is
deleted and the model refitted with the same estimator and test, giving :math:`\hat\beta_{(-i)}`,
:math:`V_{b(-i)}`, :math:`\hat\tau^2_{(-i)}`, :math:`Q_{E(-i)}` and the HK factor :math:`s^2_{w(-i)}`
(1 for the z test). metafor's ``influence.rma.uni`` (Viechtbauer & Cheung 2010,
doi:10.1002/jrsm.11) then reports

* ``rstudent``: :math:`(y_i - x_i^\top\hat\beta_{(-i)})/
  \sqrt{s^2_{w(-i)}(v_i + \hat\tau^2_{(-i)}) + x_i^\top V_{b(-i)}x_i}`;
* ``dffits``: :math:`x_i^\top(\hat\beta - \hat\beta_{(-i)})/
  \sqrt{s^2_{w(-i)}\,h_i\,(\hat\tau^2_{(-i)} + v_i)}`;
* ``cook.d``: :math:`(\hat\beta - \hat\beta_{(-i)})^\top V_b^{-1}(\hat\beta - \hat\beta_{(-i)})`;
* ``cov.r``: :math:`\det V_{b(-i)}/\det V_b`;
* ``tau2.del``, ``QE.del``; ``hat``: :math:`h_i = [X(X^\top WX)^{-1}X^\top W]_{ii}`;
  ``weight``: :math:`100\,w_i/\sum w`;
* ``dfbetas``: :math:`(\hat\beta - \hat\beta_{(-i)})/\sqrt{s^2_{w(-i)}\,\mathrm{diag}(X^\top W_{(i)}X)^{-1}}`
  with :math:`W_{(i)} = \mathrm{diag}\{1/(v_j + \hat\tau^2_{(-i)})\}` over all k studies.

Baujat et al. (2002, doi:10.1002/sim.1221), as metafor's ``baujat()``: horizontal
:math:`(y_i - x_i^\top\hat\beta)^2/(v_i + \hat\tau^2)` (contribution to Q), vertical
:math:`(x_i^\top\hat\beta_{(-i)} - x_i^\top\hat\beta)^2 / x_i^\top V_{b(-i)}x_i` (influence on the result).

GOSH (Olkin, Dahabreh & Trikalinos 2012, doi:10.1002/jrsm.1057; metafor ``gosh()``): the model is
fitted to every subset of the studies (or to a random sample of subsets beyond a cap), recording
k, Q, I^2, H^2, tau^2 and the estimate. Closed-form estimators (EE, DL) are vectorised over
subsets, with metafor's :math:`I^2 = \max\{0, (Q - (k-1))/Q\}` and :math:`H^2 = Q/(k-1)` (for DL
this I^2 is the tau^2-based one; H^2 differs from ``rma``'s 1 when :math:`\hat\tau^2 = 0`); the
other estimators refit each subset.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from bayesmeta.frequentist.metareg import MetaRegResult, fit_beta, rma_mods
from bayesmeta.frequentist.rma import RMAResult, rma

__all__ = ["baujat", "cumul", "gosh", "influence", "leave1out"]


def _design(fit):
    if isinstance(fit, RMAResult):
        if fit.tau2_fixed:
            raise ValueError("influence diagnostics need an estimated tau^2 (the fit has tau2 fixed)")
        return fit.yi, fit.vi, np.ones((fit.k, 1)), fit.method, fit.test
    if isinstance(fit, MetaRegResult):
        return fit.yi, fit.vi, fit.X, fit.method, fit.test
    raise TypeError("fit must be an RMAResult (rma) or a MetaRegResult (rma_mods)")


def _refit(yi, vi, X, method, test, level):
    """beta, vb (HK-scaled), tau2, QE, s2w of a refit."""
    if X.shape[1] == 1 and np.all(X == 1):
        r = rma(yi, vi, method=method, test=test, level=level)
        s2w = r.hk_scale if r.hk_scale is not None else 1.0
        if test == "knha_adhoc":
            s2w = max(1.0, s2w)
        return np.array([r.mu]), np.array([[r.se**2]]), r.tau2, r.Q, s2w
    m = rma_mods(yi, vi, X, method=method, test=test, level=level)
    return m.beta, m.vb, m.tau2, m.QE, m.s2w


def _full(fit):
    if isinstance(fit, RMAResult):
        return np.array([fit.mu]), np.array([[fit.se**2]]), fit.tau2
    return fit.beta, fit.vb, fit.tau2


def leave1out(fit) -> pd.DataFrame:
    """Leave-one-out estimates (metafor ``leave1out``): one row per deleted study.

    Columns: ``study``, ``estimate``, ``se``, ``zval``/``tval``, ``pval``, ``ci_lb``, ``ci_ub``,
    ``Q``, ``Q_p``, ``tau2``, ``I2``, ``H2`` (intercept-only fits).
    """
    if not isinstance(fit, RMAResult):
        raise TypeError("leave1out needs an intercept-only fit (rma)")
    rows = []
    for i in range(fit.k):
        keep = np.arange(fit.k) != i
        r = rma(fit.yi[keep], fit.vi[keep], method=fit.method, test=fit.test, level=fit.level, i2=fit.i2_def)
        rows.append(
            {
                "study": fit.labels[i] if fit.labels else f"study {i + 1}",
                "estimate": r.mu,
                "se": r.se,
                "zval" if r.df is None else "tval": r.stat,
                "pval": r.pval,
                "ci_lb": r.ci_lb,
                "ci_ub": r.ci_ub,
                "Q": r.Q,
                "Q_p": r.Q_p,
                "tau2": r.tau2,
                "I2": r.I2,
                "H2": r.H2,
            }
        )
    return pd.DataFrame(rows)


def influence(fit) -> pd.DataFrame:
    """Case-deletion diagnostics as metafor's ``influence()`` (see the module docstring).

    Parameters
    ----------
    fit : RMAResult or MetaRegResult

    Returns
    -------
    pandas.DataFrame
        ``rstudent``, ``dffits``, ``cook_d``, ``cov_r``, ``tau2_del``, ``QE_del``, ``hat``,
        ``weight`` and one ``dfbetas_<term>`` column per coefficient.
    """
    yi, vi, X, method, test = _design(fit)
    level = fit.level
    k, p = X.shape
    beta, vb, tau2 = _full(fit)
    w = 1.0 / (vi + tau2)
    XtW = X.T * w
    hat = np.einsum("ij,ji->i", X @ np.linalg.inv(XtW @ X), XtW)
    svb = np.linalg.inv(vb)
    out = {k_: np.full(k, np.nan) for k_ in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "QE_del")}
    dfbs = np.full((k, p), np.nan)
    for i in range(k):
        keep = np.arange(k) != i
        try:
            b_i, vb_i, t_i, q_i, s2w_i = _refit(yi[keep], vi[keep], X[keep], method, test, level)
        except (ValueError, np.linalg.LinAlgError):  # e.g. a moderator constant without study i: NA, as metafor
            continue
        xi = X[i]
        delpred, vdel = float(xi @ b_i), float(xi @ vb_i @ xi)
        resid = yi[i] - delpred
        if abs(resid) < 100 * np.finfo(float).eps:
            resid = 0.0
        out["rstudent"][i] = resid / np.sqrt(vi[i] * s2w_i + vdel + t_i * s2w_i)
        out["dffits"][i] = (float(xi @ beta) - delpred) / np.sqrt(s2w_i * hat[i] * (t_i + vi[i]))
        _, vb_del, _ = fit_beta(yi, vi, X, t_i)
        dfb = beta - b_i
        dfbs[i] = dfb / np.sqrt(s2w_i * np.diag(vb_del))
        out["cook_d"][i] = float(dfb @ svb @ dfb)
        out["cov_r"][i] = np.linalg.det(vb_i) / np.linalg.det(vb)
        out["tau2_del"][i], out["QE_del"][i] = t_i, q_i
    names = fit.names if isinstance(fit, MetaRegResult) else ("intrcpt",)
    labels = (
        list(fit.labels)
        if isinstance(fit, RMAResult) and fit.labels
        else [f"study {i + 1}" for i in range(k)]
    )
    df = pd.DataFrame({"study": labels, **out, "hat": hat, "weight": 100 * w / w.sum()})
    for j, n in enumerate(names):
        df[f"dfbetas_{n}"] = dfbs[:, j]
    return df


def baujat(fit) -> pd.DataFrame:
    """Baujat plot data (metafor ``baujat()``): ``x`` contribution to Q, ``y`` influence on the estimate."""
    yi, vi, X, method, test = _design(fit)
    beta, _, tau2 = _full(fit)
    k = X.shape[0]
    xs = (yi - X @ beta) ** 2 / (tau2 + vi)
    ys = np.empty(k)
    for i in range(k):
        keep = np.arange(k) != i
        b_i, vb_i, *_ = _refit(yi[keep], vi[keep], X[keep], method, test, fit.level)
        ys[i] = (X[i] @ b_i - X[i] @ beta) ** 2 / (X[i] @ vb_i @ X[i])
    labels = (
        list(fit.labels)
        if isinstance(fit, RMAResult) and fit.labels
        else [f"study {i + 1}" for i in range(k)]
    )
    return pd.DataFrame({"study": labels, "x": xs, "y": ys})


def _gosh_closed(yi, vi, incl, method):
    """EE or DL for every row of the inclusion matrix (vectorised)."""
    M = incl.astype(float)
    w0 = M / vi
    kk = M.sum(axis=1)
    sw = w0.sum(axis=1)
    mu0 = (w0 @ yi) / sw
    Q = (w0 * (yi[None, :] - mu0[:, None]) ** 2).sum(axis=1)
    if method == "DL":
        c = sw - (w0**2).sum(axis=1) / sw
        with np.errstate(invalid="ignore", divide="ignore"):
            t2 = np.where(kk > 1, np.maximum(0.0, (Q - (kk - 1)) / c), 0.0)
        w = M / (vi[None, :] + t2[:, None])
        est = (w @ yi) / w.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):  # as metafor's closed-form gosh(): from Q
            I2 = np.where(kk > 1, 100 * np.maximum(0.0, (Q - (kk - 1)) / Q), np.nan)
            H2 = np.where(kk > 1, Q / (kk - 1), np.nan)
    else:
        t2 = np.zeros_like(Q)
        est = mu0
        with np.errstate(invalid="ignore", divide="ignore"):
            I2 = np.where(kk > 1, 100 * np.maximum(0.0, (Q - (kk - 1)) / Q), np.nan)
            H2 = np.where(kk > 1, Q / (kk - 1), np.nan)
    I2 = np.where(kk == 1, 0.0, np.nan_to_num(I2))  # one study: metafor reports I^2 = 0, H^2 = 1
    H2 = np.where(kk == 1, 1.0, H2)
    return kk, Q, I2, H2, t2, est


def gosh(fit, max_subsets: int = 2**16, seed: int = 0) -> pd.DataFrame:
    """GOSH data: the model refitted to all subsets of studies (or a random sample beyond a cap).

    Parameters
    ----------
    fit : RMAResult
        Intercept-only fit; its estimator is reused (EE and DL vectorised, others refitted).
    max_subsets : int
        All :math:`2^k - 1` subsets when that is at most this cap; otherwise this many random
        subsets (sizes drawn from Binomial(k, 1/2) as metafor, then studies at random).
    seed : int
        Seed of the random subsets.

    Returns
    -------
    pandas.DataFrame
        ``k``, ``Q``, ``I2``, ``H2``, ``tau2``, ``estimate`` and one boolean column per study
        (``incl_<i>``) saying whether it is in the subset; sorted by subset size.
    """
    if not isinstance(fit, RMAResult):
        raise TypeError("gosh needs an intercept-only fit (rma)")
    yi, vi, k = fit.yi, fit.vi, fit.k
    if 2**k - 1 <= max_subsets:
        incl = np.array(list(itertools.product([False, True], repeat=k)))[:, ::-1][1:]  # expand.grid order
    else:
        rng = np.random.default_rng(seed)
        sizes = rng.binomial(k, 0.5, size=4 * max_subsets)
        sizes = sizes[sizes >= 1][:max_subsets]
        incl = np.zeros((sizes.size, k), bool)
        for r, m in enumerate(sizes):
            incl[r, rng.choice(k, m, replace=False)] = True
    if fit.method in ("EE", "FE", "DL"):
        kk, Q, I2, H2, t2, est = _gosh_closed(yi, vi, incl, "DL" if fit.method == "DL" else "EE")
    else:
        rows: list[tuple[float, ...]] = []
        for row in incl:
            if row.sum() == 1:
                rows.append((1.0, 0.0, 0.0, 1.0, 0.0, float(yi[row][0])))
                continue
            sub = rma(yi[row], vi[row], method=fit.method)
            rows.append((float(row.sum()), sub.Q, sub.I2, sub.H2, sub.tau2, sub.mu))
        kk, Q, I2, H2, t2, est = (np.array(c, float) for c in zip(*rows))
    order = np.argsort(kk, kind="stable")
    df = pd.DataFrame(
        {
            "k": kk[order].astype(int),
            "Q": Q[order],
            "I2": I2[order],
            "H2": H2[order],
            "tau2": t2[order],
            "estimate": est[order],
        }
    )
    for j in range(k):
        df[f"incl_{j + 1}"] = incl[order, j]
    return df


def _row(label, r) -> dict:
    return {"study": label, "estimate": r.mu, "se": r.se, "zval" if r.df is None else "tval": r.stat,
            "pval": r.pval, "ci_lb": r.ci_lb, "ci_ub": r.ci_ub, "Q": r.Q, "Q_p": r.Q_p, "tau2": r.tau2,
            "I2": r.I2, "H2": r.H2}


def cumul(fit, order=None) -> pd.DataFrame:
    """Cumulative meta-analysis (metafor ``cumul``): the fit's estimator and test applied to the first
    1, 2, ..., k studies (in ``order``, a permutation of 0..k-1, or the fit's order). The first row is
    the single study (its own estimate and CI; Q = 0, tau^2 = 0, I^2 and H^2 undefined), as metafor.

    Returns
    -------
    pandas.DataFrame
        ``study`` (the study added), ``estimate``, ``se``, ``zval``/``tval``, ``pval``, ``ci_lb``,
        ``ci_ub``, ``Q``, ``Q_p``, ``tau2``, ``I2``, ``H2``.
    """
    if not isinstance(fit, RMAResult):
        raise TypeError("cumul needs an intercept-only fit (bm.rma without mods)")
    ix = np.arange(fit.k) if order is None else np.asarray(order, int)
    if sorted(ix.tolist()) != list(range(fit.k)):
        raise ValueError(f"order must be a permutation of 0..{fit.k - 1}")
    labels = list(fit.labels) or [f"study {i + 1}" for i in range(fit.k)]
    rows = []
    for j in range(1, fit.k + 1):
        s = ix[:j]
        if j == 1:
            r = rma(fit.yi[s], fit.vi[s], method="EE", test="z", level=fit.level)
            row = _row(labels[s[-1]], r)
            if fit.df is not None:  # metafor: t with 0 df is undefined
                row = {**{k_: v for k_, v in row.items() if k_ != "zval"}, "tval": np.nan, "pval": np.nan,
                       "ci_lb": np.nan, "ci_ub": np.nan}
            row.update({"Q": 0.0, "Q_p": 1.0, "tau2": 0.0, "I2": np.nan, "H2": np.nan})
        else:
            r = rma(fit.yi[s], fit.vi[s], method=fit.method, test=fit.test, level=fit.level, i2=fit.i2_def,
                    tau2=fit.tau2 if fit.tau2_fixed else None,
                    weights=None if fit.genq_weights is None else fit.genq_weights[s])
            row = _row(labels[s[-1]], r)
        rows.append(row)
    return pd.DataFrame(rows)
