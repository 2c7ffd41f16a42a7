r"""Frequentist meta-regression (mixed-effects model), as metafor's ``rma(yi, vi, mods = ...)``.

Model: :math:`y_i \sim N(x_i^\top\beta, v_i + \tau^2)` with a :math:`k\times p` design matrix
:math:`X` (an intercept column plus the moderators) and known :math:`v_i`. With
:math:`W = \mathrm{diag}\{1/(v_i + \tau^2)\}` and :math:`P = W - WX(X^\top WX)^{-1}X^\top W`:

.. math:: \hat\beta = (X^\top WX)^{-1}X^\top Wy, \qquad \mathrm{Var}(\hat\beta) = (X^\top WX)^{-1}.

Residual heterogeneity :math:`\tau^2` (Viechtbauer 2005, doi:10.3102/10769986030003261;
Raudenbush 2009, "Analyzing effect sizes: random-effects models"):

* ``"DL"``: :math:`\max\{0, (Q_E - (k-p))/\mathrm{tr}P_0\}`, :math:`Q_E = y^\top P_0 y`,
  :math:`P_0 = P|_{\tau^2=0}`;
* ``"ML"``: root of :math:`y^\top PPy = \mathrm{tr}W`; ``"REML"``: root of :math:`y^\top PPy = \mathrm{tr}P`
  (all local maxima of the (restricted) likelihood on :math:`[0, \infty)` are compared, as in
  :func:`bayesmeta.frequentist.rma.tau2_ml`);
* ``"HE"`` (Hedges): :math:`\max\{0, (y^\top P_{ols} y - \mathrm{tr}(P_{ols}V))/(k-p)\}` with the
  ordinary least-squares residual maker :math:`P_{ols} = I - X(X^\top X)^{-1}X^\top`;
* ``"HS"`` (Hunter-Schmidt): :math:`\max\{0, (Q_E - k)/\sum_i v_i^{-1}\}`;
* ``"SJ"`` (Sidik-Jonkman): :math:`\tau_0^2\,y^\top P(\tau_0^2)y/(k-p)` with
  :math:`\tau_0^2 = \frac{k-1}{k}\mathrm{var}(y)` (metafor's start value);
* ``"PM"`` (Paule-Mandel) and ``"EB"`` (empirical Bayes, Morris 1983; its estimating equation has
  the same root): root of :math:`y^\top P(\tau^2)y = k-p` (0 when :math:`Q_E < k-p`), found by
  Brent's method to :math:`10^{-14}` in :math:`\tau^2` (the generalised Q is decreasing in
  :math:`\tau^2`, so the root is unique);
* ``"EE"``: 0.

Tests: ``"z"`` (Wald, normal) or ``"knha"`` (Knapp & Hartung 2003, doi:10.1002/sim.1482:
:math:`\mathrm{Var}(\hat\beta)` times :math:`s^2_w = y^\top Py/(k-p)`, t with :math:`k-p` df).
Omnibus test of the moderators (coefficients ``btt``, default all but the intercept):
:math:`Q_M = \hat\beta_{btt}^\top \mathrm{Var}(\hat\beta_{btt})^{-1}\hat\beta_{btt}` on
:math:`m` df (``"z"``), or :math:`F = Q_M/m` on :math:`(m, k-p)` df (``"knha"``). Residual
heterogeneity :math:`Q_E` on :math:`k-p` df; :math:`I^2 = \hat\tau^2/(\hat\tau^2 + \tilde v)`,
:math:`\tilde v = (k-p)/\mathrm{tr}P_0`; pseudo
:math:`R^2 = \max\{0, (\hat\tau^2_0 - \hat\tau^2)/\hat\tau^2_0\}`
against the intercept-only model (Raudenbush 2009).

Moderators can be coded from a study table with :func:`design_matrix` (numeric columns as they
are, categorical columns as treatment contrasts against the first level).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bayesmeta.frequentist._display import Displayed
from bayesmeta.frequentist.rma import se_tau2

__all__ = ["MetaRegResult", "design_matrix", "fit_beta", "rma_mods"]

_TOL = 1e-14


def design_matrix(table: pd.DataFrame, mods, intercept: bool = True) -> tuple[np.ndarray, list[str]]:
    """Design matrix from columns of a study table.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per study.
    mods : str or sequence of str
        Column names. Numeric columns enter as they are; other columns (text, categories,
        booleans) as 0/1 indicators of every level but the first (in order of appearance, or the
        categorical's order), named ``"column[level]"``.
    intercept : bool

    Returns
    -------
    X : ndarray (k, p)
    names : list of str

    Examples
    --------
    >>> X, names = design_matrix(pd.DataFrame({"site": ["lumbar", "cervical", "lumbar"]}), "site")
    >>> names, X[:, 1].tolist()
    (['intrcpt', 'site[cervical]'], [0.0, 1.0, 0.0])
    """
    mods = [mods] if isinstance(mods, str) else list(mods)
    cols, names = [], []
    if intercept:
        cols.append(np.ones(len(table)))
        names.append("intrcpt")
    for m in mods:
        if m not in table.columns:
            raise ValueError(
                f"moderator {m!r} is not a column of the study table (columns: {', '.join(table.columns)})"
            )
        s = table[m]
        if s.isna().any():
            raise ValueError(
                f"moderator {m!r} is missing for {int(s.isna().sum())} studies; fill it in or drop them"
            )
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            cols.append(s.to_numpy(float))
            names.append(m)
        else:
            levels = (
                list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else list(dict.fromkeys(s))
            )
            for lev in levels[1:]:
                cols.append((s == lev).to_numpy(float))
                names.append(f"{m}[{lev}]")
    return np.column_stack(cols), names


def fit_beta(yi, vi, X, tau2):
    """Weighted least squares: beta, its covariance (X'WX)^-1, and P (see module docstring)."""
    w = 1.0 / (vi + tau2)
    XtW = X.T * w
    cov = np.linalg.inv(XtW @ X)
    beta = cov @ (XtW @ yi)
    P = np.diag(w) - XtW.T @ cov @ XtW
    return beta, cov, P


def _ll(yi, vi, X, t, reml):
    _, cov, P = fit_beta(yi, vi, X, t)
    ll = -0.5 * (np.sum(np.log(vi + t)) + yi @ P @ yi)
    if reml:
        ll -= 0.5 * np.linalg.slogdet(np.linalg.inv(cov))[1]
    return ll


LOW_RANK_MIN_K = 1000
"""From this many studies :func:`_score` (called some 400 times per REML fit) applies P in its low-rank
form, P y = w y - U C U'y and tr P = sum w - sum((U C) * U) with U = WX, C = (X'WX)^-1, instead of
forming the k x k matrix (at k = 2,000 that was most of `bayesmeta analyse`'s time); equal to rounding."""


def _score(yi, vi, X, t, reml):
    if yi.size >= LOW_RANK_MIN_K:
        w = 1.0 / (vi + t)
        U = X * w[:, None]
        C = np.linalg.inv(U.T @ X)
        Py = w * yi - U @ (C @ (U.T @ yi))
        return Py @ Py - (np.sum(w) - np.sum((U @ C) * U) if reml else np.sum(w))
    _, _, P = fit_beta(yi, vi, X, t)
    Py = P @ yi
    return Py @ Py - (np.trace(P) if reml else np.sum(1.0 / (vi + t)))


METHODS = ("REML", "ML", "DL", "HE", "HS", "HSk", "SJ", "PM", "PMM", "EB", "DLIT", "SJIT", "GENQ", "GENQM", "EE")
"""metafor's tau^2 estimators (``GENQ`` and ``GENQM`` need ``weights``)."""


def _generalised_q(yi, vi, X, a):
    r"""Generalised Q with weights ``a``: (Q_a, P_a) with :math:`P_a = A - AX(X^\top AX)^{-1}X^\top A`."""
    A = np.diag(a)
    AX = a[:, None] * X
    P = A - AX @ np.linalg.solve(X.T @ AX, AX.T)
    return float(yi @ P @ yi), P


def genq_cdf(q, tau2, vi, P, df):
    r"""P(Q_a <= q) when the true tau^2 is ``tau2``: Q_a is a weighted sum of ``df`` chi^2_1 with the
    non-zero eigenvalues of :math:`S P_a S`, :math:`S = \mathrm{diag}(\sqrt{v_i + \tau^2})`
    (Jackson 2013, doi:10.1002/jrsm.1076; metafor's ``.GENQ.func`` with Farebrother's algorithm)."""
    from bayesmeta.published.quadratic_forms import q_cdf

    s = np.sqrt(vi + tau2)
    lam = np.linalg.eigvalsh(s[:, None] * P * s[None, :])[::-1][:df]
    lam = lam[lam > 1e-12 * lam.max()]
    return float(q_cdf(np.array([q]), lam[None, :])[0])


def _iterate(step, t0, threshold=1e-5, maxiter=100):
    """metafor's fixed-point iteration (stop at an absolute change <= ``threshold``)."""
    t = t0
    for _ in range(maxiter):
        new = step(t)
        if abs(new - t) <= threshold:
            return new
        t = new
    raise RuntimeError("the iterative tau^2 estimator did not converge")


def _root_q(yi, vi, X, target):
    def q(t):
        _, _, P = fit_beta(yi, vi, X, t)
        return float(yi @ P @ yi) - target

    if q(0.0) <= 0:
        return 0.0
    hi = max(float(np.var(yi)), 1e-8)
    while q(hi) > 0:
        hi *= 10
        if hi > 1e12:
            raise RuntimeError("no root of the generalised Q statistic for tau^2 below 1e12")
    return float(optimize.brentq(q, 0.0, hi, xtol=_TOL, rtol=4 * np.finfo(float).eps, maxiter=500))


def tau2_mods(yi, vi, X, method: str, weights=None, threshold: float = 1e-5, tau2_init: float | None = None,
              maxiter: int = 100) -> float:
    r"""Residual tau^2 of a meta-regression by one of :data:`METHODS` (see the module docstring).

    ``weights`` are the weights of the generalised Q estimators (``GENQ``, ``GENQM``);
    ``threshold`` the convergence criterion of ``DLIT`` and ``SJIT`` (metafor's default 1e-5);
    ``tau2_init`` the start value of ``SJ``/``SJIT`` (default :math:`\frac{k-1}{k}\mathrm{var}(y)`) and
    ``DLIT`` (default 0), as metafor's ``control=list(tau2.init=)``.
    """
    k, p = X.shape
    if method == "EE":
        return 0.0
    if method in ("GENQ", "GENQM"):
        if weights is None:
            raise ValueError(f"method {method!r} needs weights= (the weights of the generalised Q statistic)")
        Qa, Pa = _generalised_q(yi, vi, X, np.asarray(weights, float))
        if method == "GENQ":
            return max(0.0, float((Qa - np.sum(np.diag(Pa) * vi)) / np.trace(Pa)))
        f = lambda t: genq_cdf(Qa, t, vi, Pa, k - p) - 0.5
        if f(0.0) <= 0:  # P(Q_a <= observed | tau^2 = 0) already below 1/2
            return 0.0
        hi = max(100.0 * float(np.var(yi)) + 10.0 * float(np.max(vi)), 1e-8)
        while f(hi) > 0:
            hi *= 10
        return float(optimize.brentq(f, 0.0, hi, xtol=1e-10, maxiter=500))
    if method == "HSk":
        _, _, P0 = fit_beta(yi, vi, X, 0.0)
        return max(0.0, float((k / (k - p) * (yi @ P0 @ yi) - k) / np.sum(1.0 / vi)))
    if method == "DLIT":
        def step_dl(t):
            _, _, P = fit_beta(yi, vi, X, t)
            return max(0.0, float((yi @ P @ yi - np.sum(np.diag(P) * vi)) / np.trace(P)))

        return _iterate(step_dl, 0.0 if tau2_init is None else float(tau2_init), threshold, maxiter)
    if method == "SJIT":
        def step_sj(t):
            _, _, P = fit_beta(yi, vi, X, t)
            return float(t * (yi @ P @ yi) / (k - p))

        return _iterate(step_sj, float(np.var(yi)) if tau2_init is None else float(tau2_init), threshold, maxiter)
    if method == "PMM":
        return _root_q(yi, vi, X, float(stats.chi2.ppf(0.5, k - p)))
    if method == "DL":
        _, _, P0 = fit_beta(yi, vi, X, 0.0)
        return max(0.0, float((yi @ P0 @ yi - (k - p)) / np.trace(P0)))
    if method == "HE":
        Pols = np.eye(k) - X @ np.linalg.solve(X.T @ X, X.T)
        return max(0.0, float((yi @ Pols @ yi - np.sum(np.diag(Pols) * vi)) / (k - p)))
    if method == "HS":
        _, _, P0 = fit_beta(yi, vi, X, 0.0)
        return max(0.0, float((yi @ P0 @ yi - k) / np.sum(1.0 / vi)))
    if method == "SJ":
        t0 = float(np.var(yi)) if tau2_init is None else float(tau2_init)  # var(yi) * (k - 1)/k
        _, _, P = fit_beta(yi, vi, X, t0)
        return float(t0 * (yi @ P @ yi) / (k - p))
    if method in ("PM", "EB"):
        return _root_q(yi, vi, X, k - p)
    reml = method == "REML"
    hi = max(100.0 * float(np.var(yi)) + 10.0 * float(np.max(vi)), 1e-8)
    while _score(yi, vi, X, hi, reml) > 0:
        hi *= 10
        if hi > 1e12:
            raise RuntimeError("no maximum of the likelihood for tau^2 below 1e12")
    grid = np.concatenate([[0.0], np.geomspace(max(float(np.min(vi)), 1e-12) * 1e-6, hi, 200)])
    sc = np.array([_score(yi, vi, X, t, reml) for t in grid])
    cands = [0.0]
    for i in np.flatnonzero((sc[:-1] > 0) & (sc[1:] <= 0)):
        cands.append(
            float(
                optimize.brentq(
                    lambda t: _score(yi, vi, X, t, reml),
                    grid[i],
                    grid[i + 1],
                    xtol=_TOL,
                    rtol=4 * np.finfo(float).eps,
                    maxiter=500,
                )
            )
        )
    return cands[int(np.argmax([_ll(yi, vi, X, t, reml) for t in cands]))]


def _se_tau2(yi, vi, t2, method, X, weights=None) -> float:
    r"""SE of tau^2 as metafor: :func:`bayesmeta.frequentist.rma.se_tau2`, plus HS
    (:math:`\sqrt{2(k-p) + 4t\,\mathrm{tr}P_0 + 2t^2\mathrm{tr}(P_0^2)}/\sum_i v_i^{-1}`), HSk (HS
    times k/(k-p)), GENQ/GENQM (:math:`\sqrt{2\mathrm{tr}(P_aVP_aV) + 4t\,\mathrm{tr}(P_aVP_a) +
    2t^2\mathrm{tr}(P_a^2)}/\mathrm{tr}P_a`) and EB, PMM, DLIT, SJIT (as PM)."""
    k, p = X.shape
    t = max(float(t2), 0.0)
    if method in ("HS", "HSk"):
        _, _, P0 = fit_beta(yi, vi, X, 0.0)
        se = float(np.sqrt(2 * (k - p) + 4 * t * np.trace(P0) + 2 * t**2 * np.sum(P0 * P0)) / np.sum(1.0 / vi))
        return se * k / (k - p) if method == "HSk" else se
    if method in ("GENQ", "GENQM"):
        _, Pa = _generalised_q(yi, vi, X, np.asarray(weights, float))
        PV = Pa * vi[None, :]
        return float(np.sqrt(2 * np.sum(PV * PV.T) + 4 * t * np.sum(PV * Pa) + 2 * t**2 * np.sum(Pa * Pa))
                     / np.trace(Pa))
    return se_tau2(yi, vi, t2, "PM" if method in ("EB", "PMM", "DLIT", "SJIT") else method, X)


@dataclass(frozen=True, repr=False)
class MetaRegResult(Displayed):
    r"""Mixed-effects meta-regression result (immutable).

    Attributes
    ----------
    names : tuple of str
        Coefficient names (``"intrcpt"`` first when there is an intercept).
    beta, se, stat, pval, ci_lb, ci_ub : ndarray
        Coefficients, SEs (HK-scaled for ``knha``), z or t statistics, p-values, CIs.
    vb : ndarray
        Covariance matrix of the coefficients (HK-scaled for ``knha``).
    df : int or None
        t degrees of freedom (k - p) for ``knha``; None for z.
    tau2, se_tau2 : float
        Residual heterogeneity and its SE (metafor's ``se.tau2``).
    QE, QE_df, QE_p : residual heterogeneity test.
    QM, QM_df, QM_p : omnibus test of the moderators (F statistic for ``knha``).
    I2, H2, R2 : residual I^2 (percent), H^2, pseudo R^2 (percent; NaN without an intercept).
    s2w : float
        Hartung-Knapp scale factor (1 for ``z``).
    """

    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    names: tuple[str, ...]
    method: str
    test: str
    level: float
    beta: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    vb: np.ndarray
    df: int | None
    tau2: float
    se_tau2: float
    QE: float
    QE_df: int
    QE_p: float
    QM: float
    QM_df: int
    QM_p: float
    btt: tuple[int, ...]
    I2: float
    H2: float
    R2: float
    s2w: float
    labels: tuple[str, ...] = ()
    tau2_fixed: bool = False
    weights: np.ndarray | None = None

    @property
    def k(self) -> int:
        return int(self.yi.size)

    @property
    def zval(self) -> np.ndarray:
        """z (or t) statistics (metafor stores both as ``zval``)."""
        return self.stat

    def coefficients(self) -> pd.DataFrame:
        """Coefficient table: estimate, se, zval/tval, pval, ci{level}_lb/ub (metafor's print)."""
        pct = f"{100 * self.level:g}".replace(".", "_")
        return pd.DataFrame(
            {
                "term": list(self.names),
                "estimate": self.beta,
                "se": self.se,
                "zval" if self.df is None else "tval": self.stat,
                "pval": self.pval,
                f"ci{pct}_lb": self.ci_lb,
                f"ci{pct}_ub": self.ci_ub,
            }
        )

    def summary(self) -> pd.DataFrame:
        """The coefficient table (:meth:`coefficients`)."""
        return self.coefficients()

    def predict(self, x) -> dict:
        """Fitted mean for a row ``x`` of the design matrix (with the intercept entry), with its CI."""
        x = np.asarray(x, float)
        pred = float(x @ self.beta)
        se = float(np.sqrt(x @ self.vb @ x))
        a = 0.5 + self.level / 2
        crit = stats.norm.ppf(a) if self.df is None else stats.t.ppf(a, self.df)
        return {"pred": pred, "se": se, "ci_lb": pred - crit * se, "ci_ub": pred + crit * se}

    def __str__(self) -> str:
        lines = [
            (
                f"Mixed-effects meta-regression (k = {self.k}; tau^2 estimator: {self.method}; test: "
                f"{'z' if self.df is None else f'Knapp-Hartung t({self.df})'})"
            ),
            f"  residual tau^2 = {self.tau2:.4f} (SE = {self.se_tau2:.4f}), I^2 = {self.I2:.2f}%, "
            f"H^2 = {self.H2:.2f}" + (f", R^2 = {self.R2:.2f}%" if np.isfinite(self.R2) else ""),
            f"  residual heterogeneity: QE({self.QE_df}) = {self.QE:.4f}, p = {self.QE_p:.4g}",
            (
                f"  moderators: QM({self.QM_df}) = {self.QM:.4f}"
                if self.df is None
                else f"  moderators: F({self.QM_df}, {self.df}) = {self.QM:.4f}"
            )
            + f", p = {self.QM_p:.4g}",
        ]
        lines.append(self.coefficients().to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        return "\n".join(lines)


_CANON = {m.upper(): m for m in METHODS} | {"FE": "EE", "MP": "PM"}
_TESTS = {"z": "z", "t": "t", "knha": "knha", "hksj": "knha", "hk": "knha", "adhoc": "knha_adhoc",
          "knha_adhoc": "knha_adhoc", "knha_mod": "knha_adhoc"}


def canonical_method(method: str, methods=METHODS) -> str:
    """metafor's estimator code in its canonical spelling (``"hsk"`` -> ``"HSk"``, ``"FE"`` -> ``"EE"``)."""
    m = _CANON.get(str(method).upper())
    if m is None or m not in methods:
        raise ValueError(f"method must be one of {', '.join(methods)} (metafor's codes); got {method!r}")
    return m


def rma_mods(
    yi, vi, X, names=None, method: str = "REML", test: str = "z", level: float = 0.95, btt=None,
    *, tau2: float | None = None, weights=None, labels=None, control=None,
) -> MetaRegResult:
    """Mixed-effects meta-regression, as metafor's ``rma(yi, vi, mods = X, method, test)``.

    Parameters
    ----------
    yi, vi : array_like
    X : array_like (k, p)
        Design matrix including the intercept column (see :func:`design_matrix`).
    names : sequence of str, optional
    method : str
        One of :data:`METHODS` (metafor's codes).
    test : {"z", "t", "knha", "adhoc"}
        Wald z; t with k - p df; Knapp-Hartung; Knapp-Hartung with the factor truncated at 1.
    level : float
    btt : sequence of int, optional
        Coefficients of the omnibus test; default all but an intercept (a column of ones).
    tau2 : float, optional
        Fix the residual tau^2.
    weights : array_like, optional
        Weights of the generalised Q estimators (GENQ, GENQM).
    labels : sequence of str, optional
    control : mapping, optional
        ``tau2_init`` and ``threshold`` of the iterative estimators (see :func:`tau2_mods`).

    Returns
    -------
    MetaRegResult
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    X = np.asarray(X, float)
    if X.ndim == 1:
        X = X[:, None]
    k, p = X.shape
    if yi.shape != (k,) or vi.shape != (k,):
        raise ValueError("yi, vi and the rows of X must have the same length")
    if not (np.all(np.isfinite(yi)) and np.all(np.isfinite(vi)) and np.all(np.isfinite(X))):
        raise ValueError("yi, vi and X must be finite (drop studies with missing values first)")
    if np.linalg.matrix_rank(X) < p:
        raise ValueError("the design matrix is rank deficient (a moderator is constant or collinear)")
    if k - p < 1 and not (method.upper() in ("EE", "FE") and k - p == 0):
        raise ValueError(f"too few studies (k = {k}) for {p} coefficients")
    method = canonical_method(method)
    if test not in _TESTS:
        raise ValueError("test must be 'z', 't', 'knha' or 'adhoc'")
    test = _TESTS[test]
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(p))
    has_int = bool(np.any(np.all(X == 1.0, axis=0)))
    if btt is None:
        btt = tuple(j for j in range(p) if not np.all(X[:, j] == 1.0))
    btt = tuple(int(j) for j in btt)
    ctl = dict(control or {})
    bad = set(ctl) - {"tau2_init", "threshold", "maxiter"}
    if bad:
        raise ValueError(f"control: unknown keys {sorted(bad)}; known: tau2_init, threshold, maxiter")
    t2 = float(tau2) if tau2 is not None else float(tau2_mods(yi, vi, X, method, weights=weights, **ctl))
    beta, vb, P = fit_beta(yi, vi, X, t2)
    if weights is not None:  # metafor: user weights also give the (weighted least squares) estimates
        aw = np.asarray(weights, float)
        XtA = X.T * aw
        B = np.linalg.inv(XtA @ X)
        beta = B @ (XtA @ yi)
        vb = B @ (XtA * (vi + t2)) @ XtA.T @ B
        if test in ("knha", "knha_adhoc"):
            raise ValueError("the Knapp-Hartung test with user weights is not available")
    s2w = 1.0
    df = None
    if test in ("knha", "knha_adhoc") and method == "EE":
        import warnings

        warnings.warn("the Knapp-Hartung method is meant for mixed-effects models, not EE (as metafor)",
                      UserWarning, stacklevel=2)
    if test in ("knha", "knha_adhoc"):
        s2w = float(yi @ P @ yi / (k - p))
        if test == "knha_adhoc":
            s2w = max(1.0, s2w)
        vb = vb * s2w
        df = k - p
    elif test == "t":
        df = k - p
    se = np.sqrt(np.diag(vb))
    stat = beta / se
    a = 0.5 + level / 2
    if df is None:
        pval, crit = 2 * stats.norm.sf(np.abs(stat)), stats.norm.ppf(a)
    else:
        pval, crit = 2 * stats.t.sf(np.abs(stat), df), stats.t.ppf(a, df)
    m = len(btt)
    if m:
        b = beta[list(btt)]
        QM = float(b @ np.linalg.solve(vb[np.ix_(btt, btt)], b))
        if df is None:
            QM_p = float(stats.chi2.sf(QM, m))
        else:
            QM = QM / m
            QM_p = float(stats.f.sf(QM, m, df))
    else:
        QM, QM_p = float("nan"), float("nan")
    _, _, P0 = fit_beta(yi, vi, X, 0.0)
    QE = float(yi @ P0 @ yi)
    s2 = (k - p) / np.trace(P0) if k > p else float("nan")
    I2, H2 = 100 * t2 / (t2 + s2), (t2 + s2) / s2
    R2 = float("nan")
    if has_int and p > 1 and method != "EE" and tau2 is None:
        t0 = tau2_mods(yi, vi, np.ones((k, 1)), method, weights=weights)
        R2 = 100 * max(0.0, (t0 - t2) / t0) if t0 > 0 else 0.0
    return MetaRegResult(
        yi=yi, vi=vi, X=X, names=names, method=method, test=test, level=level, beta=beta, se=se, stat=stat,
        pval=pval, ci_lb=beta - crit * se, ci_ub=beta + crit * se, vb=vb, df=df, tau2=t2,
        se_tau2=_se_tau2(yi, vi, t2, method, X, weights) if method != "EE" and k > p else float("nan"),
        QE=QE, QE_df=k - p, QE_p=float(stats.chi2.sf(QE, k - p)) if k > p else float("nan"), QM=QM,
        QM_df=m, QM_p=QM_p, btt=btt, I2=float(I2), H2=float(H2), R2=float(R2), s2w=s2w,
        labels=tuple(map(str, labels)) if labels is not None else tuple(f"study {i + 1}" for i in range(k)),
        tau2_fixed=tau2 is not None, weights=None if weights is None else np.asarray(weights, float),
    )
