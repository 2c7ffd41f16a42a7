r"""Frequentist meta-analysis as metafor's ``rma.uni`` (and RevMan 5.4) computes it.

Model: :math:`y_i \sim N(\mu, v_i + \tau^2)`, :math:`i = 1..k`, with known :math:`v_i`.
Given :math:`\tau^2`, with :math:`w_i = 1/(v_i + \tau^2)`,

.. math:: \hat\mu = \frac{\sum w_i y_i}{\sum w_i}, \qquad \mathrm{SE}(\hat\mu) = (\textstyle\sum w_i)^{-1/2}.

:math:`\tau^2` estimators (metafor's codes; all truncated at 0 except SJ, which is positive):

* ``"EE"`` (alias ``"FE"``): common effect, :math:`\tau^2 = 0` (inverse variance).
* ``"DL"`` (DerSimonian & Laird 1986, doi:10.1016/0197-2456(86)90046-2):
  :math:`\hat\tau^2 = \max\{0, (Q - (k-1))/(\sum w^0 - \sum (w^0)^2/\sum w^0)\}`, :math:`w^0 = 1/v`.
* ``"PM"`` (Paule & Mandel 1982): root of :math:`Q(\tau^2) = \sum w_i (y_i - \hat\mu)^2 = k - 1`.
* ``"ML"`` / ``"REML"`` (Viechtbauer 2005, doi:10.3102/10769986030003261): roots of the
  (restricted) score :math:`\sum w_i^2 (y_i - \hat\mu)^2 - \sum w_i\, [+ \sum w_i^2/\sum w_i] = 0`.
* ``"HE"`` (Hedges 1983): :math:`\max\{0, \sum (y_i - \bar y)^2/(k-1) - \bar v\}`.
* ``"SJ"`` (Sidik & Jonkman 2005, doi:10.1002/sim.2115): :math:`\tau_0^2 = \sum(y_i - \bar y)^2/k`,
  :math:`\hat\tau^2 = \tau_0^2\,Q(\tau_0^2)/(k-1)` with :math:`Q(\tau_0^2)` computed with weights
  :math:`1/(v_i + \tau_0^2)`.

PM, ML and REML are solved by Brent's method on :math:`[0, \tau^2_{max}]` to an absolute tolerance
of 1e-14 (metafor's Fisher scoring stops at a change below 1e-5 by default; the golden values in
``tests/golden/metafor.json`` are made with ``threshold = 1e-12``).

Tests and intervals for :math:`\mu`: ``"z"`` (normal); ``"t"`` (t with k-1 df, same SE);
``"knha"`` (Hartung & Knapp 2001, doi:10.1002/sim.1009; Sidik & Jonkman 2002: the variance is
multiplied by :math:`q = \sum w_i (y_i - \hat\mu)^2/(k-1)`, t with k-1 df); ``"knha_adhoc"``
(alias ``"adhoc"``, ``"knha_mod"``: :math:`\max(1, q)`, Röver, Knapp & Friede 2015,
doi:10.1186/s12874-015-0091-1; metafor's ``test="adhoc"``).

Heterogeneity: Cochran's :math:`Q = \sum w^0_i (y_i - \hat\mu_{EE})^2` on k-1 df; metafor's
:math:`I^2 = 100\,\hat\tau^2/(\hat\tau^2 + \tilde v)` and :math:`H^2 = (\hat\tau^2 + \tilde v)/\tilde v`
with the typical within-study variance :math:`\tilde v = (k-1)\sum w^0/\{(\sum w^0)^2 - \sum (w^0)^2\}`
(Higgins & Thompson 2002, doi:10.1002/sim.1186), which depend on the estimator; RevMan's
:math:`I^2 = \max\{0, (Q - (k-1))/Q\}` (the same for every estimator; equal to metafor's for DL).
The Q-profile CI for :math:`\tau^2` (Viechtbauer 2007, doi:10.1002/sim.2514; metafor ``confint()``)
solves :math:`Q(\tau^2) = \chi^2_{k-1}` quantiles.

Prediction intervals for a new study's true effect :math:`\theta_{new}`: ``pi="metafor"`` is
metafor's ``predict()``, :math:`\hat\mu \pm c\sqrt{\mathrm{SE}^2 + \hat\tau^2}` with c the normal
quantile for test ``"z"`` and the t(k-1) quantile otherwise (SE as used by the test);
``pi="t_k-2"`` is Higgins, Thompson & Spiegelhalter 2009 (doi:10.1111/j.1467-985X.2008.00552.x),
used by RevMan 5.4 and the Cochrane Handbook (section 10.10.4.3): t with k-2 df and the
standard (not HK-scaled) SE; ``pi="t_k-1_wald"`` is Veroniki et al. 2019 (doi:10.1002/jrsm.1319),
t with k-1 df and the standard SE.

Standard error of :math:`\hat\tau^2` (metafor's ``se.tau2``, one formula per estimator, see
:func:`se_tau2`) and the Hartung-Knapp scale factor :math:`q` (metafor's ``s2w``) are stored in
every result. Named settings (``preset="revman5"``, ``"revman2025"``, ``"metafor"``) are in
:mod:`bayesmeta.frequentist.presets`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bayesmeta.frequentist._display import Displayed

__all__ = [
    "METHODS",
    "TESTS",
    "DroppedStudiesWarning",
    "RMAResult",
    "mu_hat",
    "q_gen",
    "qprofile_ci",
    "rma",
    "se_tau2",
    "tau2_dl",
    "tau2_he",
    "tau2_ml",
    "tau2_pm",
    "tau2_reml",
    "tau2_sj",
    "typical_variance",
]

METHODS = ("EE", "FE", "DL", "REML", "PM", "ML", "HE", "SJ", "HS", "HSk", "EB", "PMM", "DLIT", "SJIT", "GENQ",
           "GENQM")
_VIA_METAREG = ("HS", "HSk", "EB", "PMM", "DLIT", "SJIT", "GENQ", "GENQM")
TESTS = ("z", "t", "knha", "knha_adhoc")
_TEST_ALIASES = {"adhoc": "knha_adhoc", "knha_mod": "knha_adhoc", "hksj": "knha", "hk": "knha"}
PI_TYPES = ("metafor", "t_k-2", "t_k-1_wald")
I2_TYPES = ("tau2", "Q")


class DroppedStudiesWarning(UserWarning):
    """Studies with a missing (NaN) estimate or variance were left out of a fit (metafor does the same,
    with the note "studies with NAs omitted from model fitting")."""


class ZeroWidthIntervalWarning(UserWarning):
    """The Hartung-Knapp scale factor is 0 (identical study estimates): the CI for mu has zero width."""


_TOL = 1e-14


# ----------------------------------------------------------------------------- numpy kernels

def mu_hat(yi, vi, tau2=0.0, axis=-1):
    r"""Inverse-variance weighted mean and its SE for given :math:`\tau^2` (vectorised over ``axis``).

    Parameters
    ----------
    yi, vi : array_like
        Estimates and sampling variances (broadcast together).
    tau2 : float or array_like
        Between-study variance, broadcast against ``yi`` (e.g. one per draw with ``keepdims``).
    axis : int
        The study axis.

    Returns
    -------
    mu, se : ndarray
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    w = 1.0 / (vi + np.asarray(tau2, float))
    sw = np.sum(w, axis=axis)
    return np.sum(w * yi, axis=axis) / sw, 1.0 / np.sqrt(sw)


def q_gen(yi, vi, tau2=0.0, axis=-1):
    r"""Generalised Cochran's Q, :math:`\sum w_i (y_i - \hat\mu)^2` with :math:`w_i = 1/(v_i + \tau^2)`.

    ``tau2 = 0`` gives Cochran's Q. Vectorised over all but ``axis``; returns a float for 1-d input.
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    w = 1.0 / (vi + np.asarray(tau2, float))
    mu = np.sum(w * yi, axis=axis, keepdims=True) / np.sum(w, axis=axis, keepdims=True)
    q = np.sum(w * (yi - mu) ** 2, axis=axis)
    return float(q) if np.ndim(q) == 0 else q


def tau2_dl(yi, vi, axis=-1):
    """DerSimonian-Laird moment estimator, truncated at 0 (vectorised over ``axis``)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    w = 1.0 / vi
    k = yi.shape[axis]
    sw = np.sum(w, axis=axis)
    t2 = np.maximum(0.0, (q_gen(yi, vi, 0.0, axis=axis) - (k - 1)) / (sw - np.sum(w**2, axis=axis) / sw))
    return float(t2) if np.ndim(t2) == 0 else t2


def tau2_he(yi, vi, axis=-1):
    """Hedges (1983) unweighted moment estimator, truncated at 0 (metafor ``method="HE"``)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = yi.shape[axis]
    rss = np.sum((yi - np.mean(yi, axis=axis, keepdims=True)) ** 2, axis=axis)
    t2 = np.maximum(0.0, rss / (k - 1) - np.mean(vi, axis=axis))
    return float(t2) if np.ndim(t2) == 0 else t2


def tau2_sj(yi, vi, axis=-1):
    """Sidik-Jonkman (2005) estimator (metafor ``method="SJ"``; positive, no truncation needed)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = yi.shape[axis]
    t0 = np.mean((yi - np.mean(yi, axis=axis, keepdims=True)) ** 2, axis=axis)
    t2 = t0 * q_gen(yi, vi, np.expand_dims(t0, axis), axis=axis) / (k - 1)
    return float(t2) if np.ndim(t2) == 0 else t2


def typical_variance(vi, axis=-1):
    r"""Typical within-study variance :math:`\tilde v` of Higgins & Thompson (2002), as metafor uses for I^2."""
    w = 1.0 / np.asarray(vi, float)
    k = w.shape[axis]
    sw = np.sum(w, axis=axis)
    return (k - 1) * sw / (sw**2 - np.sum(w**2, axis=axis))


def _upper(yi, vi):
    return max(100.0 * float(np.var(yi)) + 10.0 * float(np.max(vi)), 1e-8)


def _root_from_zero(f, yi, vi):
    """Root of a decreasing-through-zero function of tau^2; 0 when f(0) <= 0 (truncation)."""
    if f(0.0) <= 0:
        return 0.0
    hi = _upper(yi, vi)
    while f(hi) > 0:
        hi *= 10
        if hi > 1e12:
            raise RuntimeError("no root for tau^2 below 1e12")
    return float(optimize.brentq(f, 0.0, hi, xtol=_TOL, rtol=4 * np.finfo(float).eps, maxiter=500))


def tau2_pm(yi, vi):
    """Paule-Mandel: root of Q(tau^2) = k - 1, truncated at 0 (1-d input)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    return _root_from_zero(lambda t: q_gen(yi, vi, t) - (yi.size - 1), yi, vi)


def _score(yi, vi, t, reml):
    """(Restricted) score for tau^2 (times 2), vectorised over a grid ``t`` of shape (m, 1)."""
    w = 1.0 / (vi + t)
    sw = np.sum(w, axis=-1)
    mu = np.sum(w * yi, axis=-1) / sw
    s = np.sum(w**2 * (yi - np.expand_dims(mu, -1)) ** 2, axis=-1) - sw
    return s + np.sum(w**2, axis=-1) / sw if reml else s


def _loglik(yi, vi, t, reml):
    """(Restricted) log-likelihood of tau^2, up to a constant."""
    w = 1.0 / (vi + t)
    sw = np.sum(w)
    mu = np.sum(w * yi) / sw
    ll = -0.5 * (np.sum(np.log(vi + t)) + np.sum(w * (yi - mu) ** 2))
    return ll - 0.5 * np.log(sw) if reml else ll


def tau2_ml(yi, vi, reml=False):
    r"""(Restricted) maximum likelihood estimate of tau^2 on :math:`[0, \infty)` (1-d input).

    The (restricted) likelihood need not be unimodal: the score is evaluated on a geometric grid
    (vectorised), every local maximum (a + to - sign change of the score, refined by Brent's
    method) and the boundary 0 are candidates, and the one with the largest (restricted)
    log-likelihood is returned. metafor's Fisher scoring converges to the mode it starts near
    (from the HE estimate) and resets to 0 when it lands at a local maximum below ``ll(0)``.
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    hi = _upper(yi, vi)
    while _score(yi, vi, np.array([[hi]]), reml)[0] > 0:
        hi *= 10
        if hi > 1e12:
            raise RuntimeError("no maximum of the likelihood for tau^2 below 1e12")
    scale = max(float(np.min(vi)), 1e-12)
    grid = np.concatenate([[0.0], np.geomspace(scale * 1e-6, hi, 400)])
    sc = _score(yi, vi, grid[:, None], reml)
    cands = [0.0]
    for i in np.flatnonzero((sc[:-1] > 0) & (sc[1:] <= 0)):
        f = lambda t: float(_score(yi, vi, np.array([[t]]), reml)[0])
        cands.append(float(optimize.brentq(f, grid[i], grid[i + 1], xtol=_TOL, rtol=4 * np.finfo(float).eps,
                                           maxiter=500)))
    ll = [_loglik(yi, vi, t, reml) for t in cands]
    return cands[int(np.argmax(ll))]


def tau2_reml(yi, vi):
    """Restricted maximum likelihood estimate of tau^2 (see :func:`tau2_ml`)."""
    return tau2_ml(yi, vi, reml=True)


def qprofile_ci(yi, vi, level=0.95):
    r"""Q-profile confidence interval for :math:`\tau^2` (Viechtbauer 2007, doi:10.1002/sim.2514).

    The bounds solve :math:`Q(\tau^2) = \chi^2_{k-1,\,1-\alpha/2}` (lower) and
    :math:`\chi^2_{k-1,\,\alpha/2}` (upper); a bound is 0 when :math:`Q(0)` is already below its
    quantile, as in metafor's ``confint()``.

    Returns
    -------
    (lb, ub) : tuple of float
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = yi.size
    if k < 2:
        return (np.nan, np.nan)
    a = (1 - level) / 2
    crit_lb, crit_ub = stats.chi2.ppf(1 - a, k - 1), stats.chi2.ppf(a, k - 1)
    lb = _root_from_zero(lambda t: q_gen(yi, vi, t) - crit_lb, yi, vi)
    ub = _root_from_zero(lambda t: q_gen(yi, vi, t) - crit_ub, yi, vi)
    return lb, ub


def _proj(w, X):
    r""":math:`P = W - WX(X^\top W X)^{-1}X^\top W` for weights ``w`` (k,) and design ``X`` (k, p)."""
    W = np.diag(w)
    WX = w[:, None] * X
    return W - WX @ np.linalg.solve(X.T @ WX, WX.T)


def se_tau2(yi, vi, tau2, method, X=None) -> float:
    r"""Standard error of :math:`\hat\tau^2` as metafor's ``rma.uni`` computes it (``se.tau2``).

    With :math:`P(w) = W - WX(X^\top WX)^{-1}X^\top W`, :math:`V = \mathrm{diag}(v)`, :math:`p` columns
    of :math:`X` (1 without moderators) and :math:`t = \max(\hat\tau^2, 0)`:

    * DL (:math:`P_0 = P(1/v)`): :math:`\sqrt{2(k-p) + 4t\,\mathrm{tr}P_0 + 2t^2\,\mathrm{tr}(P_0^2)}\,/\,\mathrm{tr}P_0`;
    * HE (:math:`P = I - X(X^\top X)^{-1}X^\top`): :math:`\sqrt{2\,\mathrm{tr}(PVPV) + 4t\,\mathrm{tr}(PV) + 2t^2(k-p)}/(k-p)`;
    * SJ (:math:`P = P(1/(v + \tau_0^2))`): :math:`\tau_0^2\sqrt{2\,\mathrm{tr}(PVPV) + 4t\,\mathrm{tr}(PVP) + 2t^2\mathrm{tr}(P^2)}/(k-p)`;
    * ML: :math:`\sqrt{2/\sum w_i^2}`, REML: :math:`\sqrt{2/\mathrm{tr}(P^2)}` (inverse Fisher
      information; :math:`w = 1/(v + \hat\tau^2)`);
    * PM: :math:`\sqrt{2k^2/(k-p)}/\sum w_i`;
    * EE: NaN.

    Reference: Viechtbauer W (2005), doi:10.3102/10769986030003261, and metafor's ``rma.uni``
    source (Viechtbauer 2010, doi:10.18637/jss.v036.i03).

    Parameters
    ----------
    yi, vi : array_like
    tau2 : float
        The estimate (or a fixed value).
    method : str
        metafor's estimator code.
    X : array_like, optional
        Design matrix (k, p); default a column of ones.

    Returns
    -------
    float
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = yi.size
    if X is None and k > DENSE_MAX_K:
        return _se_tau2_intercept(yi, vi, float(tau2), method.upper())
    X = np.ones((k, 1)) if X is None else np.asarray(X, float).reshape(k, -1)
    p = X.shape[1]
    t = max(float(tau2), 0.0)
    method = method.upper()
    if method == "DL":
        P = _proj(1.0 / vi, X)
        trP = np.trace(P)
        return float(np.sqrt(2 * (k - p) + 4 * t * trP + 2 * t**2 * np.sum(P * P)) / trP)
    if method == "HE":
        P = np.eye(k) - X @ np.linalg.solve(X.T @ X, X.T)
        PV = P * vi[None, :]
        return float(np.sqrt(2 * np.sum(PV * PV.T) + 4 * t * np.trace(PV) + 2 * t**2 * (k - p)) / (k - p))
    if method == "SJ":
        t0 = float(np.var(yi))  # metafor: var(yi) * (k-1)/k
        P = _proj(1.0 / (vi + t0), X)
        PV = P * vi[None, :]
        return float(t0 / (k - p) * np.sqrt(2 * np.sum(PV * PV.T) + 4 * t * np.sum(PV * P) + 2 * t**2 * np.sum(P * P)))
    w = 1.0 / (vi + float(tau2))
    if method == "ML":
        return float(np.sqrt(2 / np.sum(w**2)))
    if method == "REML":
        P = _proj(w, X)
        return float(np.sqrt(2 / np.sum(P * P)))
    if method == "PM":
        return float(np.sqrt(2 * k**2 / (k - p)) / np.sum(w))
    return float("nan")


DENSE_MAX_K = 1000
"""Up to this many studies :func:`se_tau2` forms metafor's k x k projection matrices; beyond, the
intercept-only model uses the same quantities in closed form (O(k) memory: at k = 20,000 a k x k
matrix takes 3.2 GB; equal to rounding, tested)."""


def _se_tau2_intercept(yi, vi, tau2: float, method: str) -> float:
    r""":func:`se_tau2` without moderators in O(k): with :math:`P(w) = W - ww^\top/S`, :math:`S = \sum w_i`,
    :math:`\mathrm{tr}P = S - \sum w_i^2/S`, :math:`\sum_{ij} P_{ij}^2 = \sum w_i^2 - 2\sum w_i^3/S + (\sum w_i^2)^2/S^2`,
    :math:`\sum_{ij} P_{ij}^2 v_i v_j = \sum w_i^2 v_i^2 - 2\sum w_i^3 v_i^2/S + (\sum w_i^2 v_i)^2/S^2` and
    :math:`\sum_{ij} P_{ij}^2 v_j = \sum w_i^2 v_i - 2\sum w_i^3 v_i/S + \sum w_i^2 \sum w_j^2 v_j/S^2`."""
    k = yi.size
    t = max(tau2, 0.0)

    def sums(w):
        S = w.sum()
        tr = S - np.sum(w * w) / S
        pp = np.sum(w**2) - 2 * np.sum(w**3) / S + np.sum(w**2) ** 2 / S**2
        ppvv = np.sum(w**2 * vi**2) - 2 * np.sum(w**3 * vi**2) / S + np.sum(w**2 * vi) ** 2 / S**2
        ppv = np.sum(w**2 * vi) - 2 * np.sum(w**3 * vi) / S + np.sum(w**2) * np.sum(w**2 * vi) / S**2
        return tr, pp, ppvv, ppv

    if method == "DL":
        trP, pp, _, _ = sums(1.0 / vi)
        return float(np.sqrt(2 * (k - 1) + 4 * t * trP + 2 * t**2 * pp) / trP)
    if method == "HE":  # P = I - 11'/k
        pvpv = np.sum(vi**2) * (1 - 2 / k) + np.sum(vi) ** 2 / k**2
        return float(np.sqrt(2 * pvpv + 4 * t * (1 - 1 / k) * np.sum(vi) + 2 * t**2 * (k - 1)) / (k - 1))
    if method == "SJ":
        t0 = float(np.var(yi))
        _, pp, ppvv, ppv = sums(1.0 / (vi + t0))
        return float(t0 / (k - 1) * np.sqrt(2 * ppvv + 4 * t * ppv + 2 * t**2 * pp))
    w = 1.0 / (vi + tau2)
    if method == "ML":
        return float(np.sqrt(2 / np.sum(w**2)))
    if method == "REML":
        return float(np.sqrt(2 / sums(w)[1]))
    if method == "PM":
        return float(np.sqrt(2 * k**2 / (k - 1)) / np.sum(w))
    return float("nan")


_ESTIMATORS = {"DL": tau2_dl, "PM": tau2_pm, "ML": tau2_ml, "REML": tau2_reml, "HE": tau2_he, "SJ": tau2_sj}


# ----------------------------------------------------------------------------- result

def _pct(level):
    p = 100 * level
    return f"{p:g}".replace(".", "_")


@dataclass(frozen=True, repr=False)
class RMAResult(Displayed):
    r"""One common-effect or random-effects meta-analysis (immutable; derived values are returned).

    Attributes
    ----------
    yi, vi : ndarray
        The studies used (non-finite rows dropped).
    method, test : str
        tau^2 estimator and test (canonical codes, see module docstring).
    level : float
        Confidence level of ``ci_lb``/``ci_ub`` and default level of the PI and tau^2 CI.
    mu, se, stat, pval, ci_lb, ci_ub : float
        Estimate of :math:`\mu`, its SE (HK-scaled for ``knha``), z or t statistic, p-value, CI.
    df : float or None
        Degrees of freedom of the t reference distribution (None for z).
    tau2 : float
        :math:`\hat\tau^2` (0 for EE).
    Q, Q_df, Q_p : Cochran's Q (around the common-effect estimate), df, p-value.
    I2, H2 : metafor's definitions (percent for I2).
    pi_type : {"metafor", "t_k-2", "t_k-1_wald"}
        Default prediction interval of :meth:`summary` and ``str``.
    note : str
        How the result was derived, when not by :func:`rma` alone (printed).
    se_tau2 : float
        Standard error of :math:`\hat\tau^2` (metafor's ``se.tau2``; NaN for EE), see :func:`se_tau2`.
    hk_scale : float or None
        Hartung-Knapp scale factor :math:`q = \sum w_i(y_i - \hat\mu)^2/(k-1)` (metafor's ``s2w``)
        for tests ``knha`` and ``knha_adhoc`` (before the max(1, q) of the latter); None otherwise.
    i2_def : {"tau2", "Q"}
        Definition of ``I2``/``H2``: from tau^2 (metafor, RevMan 2025) or from Q (RevMan 5).
    preset : str
        The preset the settings came from ("" if none).
    n_dropped : int
        Studies left out because their estimate or variance was missing.
    """

    yi: np.ndarray
    vi: np.ndarray
    method: str
    test: str
    level: float
    mu: float
    se: float
    stat: float
    pval: float
    ci_lb: float
    ci_ub: float
    df: float | None
    tau2: float
    Q: float
    Q_df: int
    Q_p: float
    I2: float
    H2: float
    labels: tuple[str, ...] = field(default=())
    pi_type: str = "metafor"
    tau2_fixed: bool = False
    note: str = ""
    se_tau2: float = float("nan")
    hk_scale: float | None = None
    i2_def: str = "tau2"
    preset: str = ""
    n_dropped: int = 0
    genq_weights: np.ndarray | None = None

    @property
    def k(self) -> int:
        return int(self.yi.size)

    # metafor's names (docs/api.md): coef(res) = beta, res$zval, res$QE, res$QEp
    @property
    def beta(self) -> np.ndarray:
        """The coefficient vector, ``[mu]`` (metafor's ``coef(res)``)."""
        return np.array([self.mu])

    @property
    def estimate(self) -> float:
        return self.mu

    @property
    def zval(self) -> float:
        """z (or t) statistic of mu (metafor stores both as ``zval``)."""
        return self.stat

    @property
    def QE(self) -> float:
        return self.Q

    @property
    def QE_p(self) -> float:
        return self.Q_p

    @property
    def QE_df(self) -> int:
        return self.Q_df

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def common_effect(self) -> bool:
        return self.method in ("EE", "FE")

    @property
    def weights(self) -> np.ndarray:
        """Percentage weights :math:`100\\,w_i/\\sum w` (as RevMan and metafor print them)."""
        w = 1.0 / (self.vi + self.tau2)
        return 100 * w / w.sum()

    @property
    def I2_revman(self) -> float:
        """RevMan's I^2 = max(0, (Q - df)/Q) in percent (Higgins & Thompson 2002)."""
        return 100.0 * max(0.0, (self.Q - self.Q_df) / self.Q) if self.Q > 0 else 0.0

    def predict(self, pi: str | None = None, level: float | None = None) -> dict:
        r"""Prediction interval for the true effect :math:`\theta_{new}` of a new study.

        Parameters
        ----------
        pi : {"metafor", "t_k-2", "t_k-1_wald"}, optional
            ``"metafor"``: metafor's ``predict()``, :math:`\hat\mu \pm c\sqrt{SE^2 + \hat\tau^2}`,
            c from N(0,1) (test z) or t(k-1) (t, knha), SE as used by the test. ``"t_k-2"``:
            Higgins et al. 2009 / RevMan 5.4 / Cochrane Handbook, t(k-2) and the standard SE
            (needs k >= 3). ``"t_k-1_wald"``: Veroniki et al. 2019, t(k-1) and the standard SE. Default: the result's ``pi_type``. For a common-effect model metafor
            returns the CI (no heterogeneity); so does ``"metafor"`` here.
        level : float, optional
            Default: the result's level.

        Returns
        -------
        dict
            ``pred``, ``pi_lb``, ``pi_ub``, ``pi_type``, ``level``, ``df`` (None for normal).
        """
        pi = self.pi_type if pi is None else pi
        level = self.level if level is None else level
        a = 0.5 + level / 2
        if pi == "metafor":
            df = self.df
            crit = stats.norm.ppf(a) if df is None else stats.t.ppf(a, df)
            half = crit * np.sqrt(self.se**2 + self.tau2)
        elif pi in ("t_k-2", "t_k-1_wald"):
            if pi == "t_k-2" and self.k < 3:
                raise ValueError("a t(k-2) prediction interval needs k >= 3")
            df = self.k - 2 if pi == "t_k-2" else self.k - 1
            se = np.sqrt(1.0 / np.sum(1.0 / (self.vi + self.tau2)))
            half = stats.t.ppf(a, df) * np.sqrt(se**2 + self.tau2)
        else:
            raise ValueError(f"pi must be one of {PI_TYPES}")
        return {"pred": self.mu, "pi_lb": float(self.mu - half), "pi_ub": float(self.mu + half),
                "pi_type": pi, "level": level, "df": df}

    def confint_tau2(self, level: float | None = None) -> dict:
        """Q-profile CI for tau^2 and tau, as metafor's ``confint()`` (Viechtbauer 2007)."""
        level = self.level if level is None else level
        lb, ub = qprofile_ci(self.yi, self.vi, level)
        return {"tau2": self.tau2, "tau2_lb": lb, "tau2_ub": ub, "tau_lb": float(np.sqrt(lb)),
                "tau_ub": float(np.sqrt(ub)), "level": level}

    def summary(self) -> pd.DataFrame:
        """One-row tidy table: estimate, se, zval or tval, df, pval, ci{level}_lb/ub, pi{level}_lb/ub."""
        pct = _pct(self.level)
        p = self.predict() if (self.pi_type != "t_k-2" or self.k >= 3) else {"pi_lb": np.nan, "pi_ub": np.nan}
        return pd.DataFrame([{"method": self.method, "test": self.test, "k": self.k, "estimate": self.mu,
                              "se": self.se, "zval" if self.df is None else "tval": self.stat,
                              "df": np.nan if self.df is None else self.df, "pval": self.pval,
                              f"ci{pct}_lb": self.ci_lb, f"ci{pct}_ub": self.ci_ub,
                              f"pi{pct}_lb": p["pi_lb"], f"pi{pct}_ub": p["pi_ub"], "pi_type": self.pi_type,
                              "tau2": self.tau2, "se_tau2": self.se_tau2, "tau": self.tau, "I2": self.I2,
                              "H2": self.H2, "Q": self.Q, "Q_df": self.Q_df, "Q_p": self.Q_p,
                              "hk_scale": np.nan if self.hk_scale is None else self.hk_scale,
                              "preset": self.preset}])

    def heterogeneity(self) -> pd.DataFrame:
        """tau^2 with its Q-profile CI, tau, I^2 (metafor and RevMan definitions), H^2, Q, df, p."""
        pct = _pct(self.level)
        ci = self.confint_tau2() if not self.common_effect and self.k > 1 else {"tau2_lb": np.nan, "tau2_ub": np.nan}
        return pd.DataFrame([{"tau2": self.tau2, "se_tau2": self.se_tau2, f"tau2_qp{pct}_lb": ci["tau2_lb"],
                              f"tau2_qp{pct}_ub": ci["tau2_ub"], "tau": self.tau, "I2": self.I2,
                              "I2_revman": self.I2_revman, "H2": self.H2,
                              "Q": self.Q, "Q_df": self.Q_df, "Q_p": self.Q_p}])

    def studies(self) -> pd.DataFrame:
        """Per-study table: label, yi, sei, Wald CI at the result's level, percentage weight."""
        z = stats.norm.ppf(0.5 + self.level / 2)
        sei = np.sqrt(self.vi)
        pct = _pct(self.level)
        return pd.DataFrame({"study": list(self.labels) or [f"study {i + 1}" for i in range(self.k)],
                             "yi": self.yi, "sei": sei, f"ci{pct}_lb": self.yi - z * sei,
                             f"ci{pct}_ub": self.yi + z * sei, "weight_pct": self.weights})

    def __str__(self) -> str:
        pct = f"{100 * self.level:g}"
        tests = {"z": "z (normal)", "t": f"t({self.df:g})" if self.df else "t",
                 "knha": f"Hartung-Knapp-Sidik-Jonkman, t({self.df:g})" if self.df else "HKSJ",
                 "knha_adhoc": f"modified HKSJ (max(1, q)), t({self.df:g})" if self.df else "modified HKSJ"}
        if self.common_effect:
            head = f"Common-effect (inverse-variance) model (k = {self.k})"
        else:
            fixed = ", fixed" if self.tau2_fixed else ""
            head = f"Random-effects model (k = {self.k}; tau^2 estimator: {self.method}{fixed})"
        if self.preset:
            head += f" [preset {self.preset}]"
        if self.n_dropped:
            head += f"; {self.n_dropped} stud{'y' if self.n_dropped == 1 else 'ies'} with missing values left out"
        hk = f"; scale factor q = {self.hk_scale:.4f}" if self.hk_scale is not None else ""
        lines = [head] + ([f"  {self.note}"] if self.note else []) + [f"  test and CI for mu: {tests[self.test]}{hk}"]
        if not self.common_effect and self.k > 1:
            ci = self.confint_tau2()
            lines.append(f"  tau^2 = {self.tau2:.4f} (SE = {self.se_tau2:.4f}) [{pct}% Q-profile CI {ci['tau2_lb']:.4f}, "
                         f"{ci['tau2_ub']:.4f}], tau = {self.tau:.4f}")
        i2_txt = ("from Q, (Q-df)/Q, as RevMan 5" if self.i2_def == "Q" else
                  f"tau^2/(tau^2 + typical v); RevMan 5 (Q-df)/Q: {self.I2_revman:.2f}%")
        lines += [f"  I^2 = {self.I2:.2f}% ({i2_txt}), H^2 = {self.H2:.2f}",
                  f"  Heterogeneity: Q({self.Q_df}) = {self.Q:.4f}, p = {self.Q_p:.4g}",
                  (f"  mu = {self.mu:.4f}, SE = {self.se:.4f}, {'z' if self.df is None else 't'} = {self.stat:.4f}, "
                   f"p = {self.pval:.4g}, {pct}% CI [{self.ci_lb:.4f}, {self.ci_ub:.4f}]")]
        if not self.common_effect and (self.pi_type != "t_k-2" or self.k >= 3):
            p = self.predict()
            kind = ("t(k-2), Higgins et al. 2009 / RevMan 5" if self.pi_type == "t_k-2"
                    else f"t({p['df']:g}) with the standard SE, Veroniki et al. 2019" if self.pi_type == "t_k-1_wald"
                    else ("normal" if p["df"] is None else f"t({p['df']:g})") + ", as metafor predict()")
            lines.append(f"  {pct}% prediction interval [{p['pi_lb']:.4f}, {p['pi_ub']:.4f}] ({kind})")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- front end

def as_level(level) -> float:
    """A confidence level as a probability: 0.95 or 95 (as metafor) both give 0.95."""
    if isinstance(level, bool) or not isinstance(level, int | float | np.integer | np.floating):
        raise ValueError(f"level must be a number such as 0.95 or 95; got {level!r}")
    lv = float(level)
    if 1 < lv < 100:
        lv /= 100
    if not 0 < lv < 1:
        raise ValueError(f"level must lie in (0, 1) or (1, 100) (a percentage, as metafor); got {level!r}")
    return lv


def _se(yi, vi, t2, method, weights, ok):
    if method in _VIA_METAREG:
        from bayesmeta.frequentist.metareg import _se_tau2

        w = None if weights is None else np.asarray(weights, float)[ok]
        return _se_tau2(yi, vi, t2, method, np.ones((yi.size, 1)), w)
    return se_tau2(yi, vi, t2, method)


def rma(yi, vi=None, method: str | None = None, test: str | None = None, level: float = 0.95, labels=None,
        tau2=None, *, sei=None, pi: str | None = None, i2: str | None = None, preset: str | None = None,
        weights=None, control=None) -> RMAResult:
    r"""Common-effect or random-effects meta-analysis of ``yi`` with sampling variances ``vi``.

    Parameters
    ----------
    yi : array_like
        Study estimates (e.g. from :func:`bayesmeta.effects.escalc.escalc`).
    vi : array_like, optional
        Sampling variances (or pass ``sei``).
    method : {"EE", "DL", "REML", "PM", "ML", "HE", "SJ"}, optional
        tau^2 estimator (metafor's codes; ``"FE"`` is accepted for ``"EE"``). Default: the
        preset's, else ``"REML"`` (metafor).
    test : {"z", "t", "knha", "knha_adhoc"}, optional
        ``"adhoc"``/``"knha_mod"`` are aliases of ``"knha_adhoc"`` (modified HKSJ, Röver et al. 2015).
        Default: the preset's, else ``"z"``.
    level : float
        Confidence level (stated in the column names of :meth:`RMAResult.summary`).
    labels : sequence of str, optional
    tau2 : float, optional
        Fix tau^2 (as metafor's ``tau2=``); I^2 and H^2 then follow from it.
    sei : array_like, optional
        Standard errors instead of ``vi``.
    pi : {"metafor", "t_k-2", "t_k-1_wald"}, optional
        Default prediction interval reported (see :meth:`RMAResult.predict`). Default: the
        preset's, else ``"metafor"``.
    i2 : {"tau2", "Q"}, optional
        Definition of I^2 and H^2 for random-effects fits: from tau^2 (metafor, RevMan 2025) or
        from Q (RevMan 5). Default: the preset's, else ``"tau2"``. (Common-effect fits use Q.)
    preset : {"revman5", "revman2025", "metafor"}, optional
        Named settings (:mod:`bayesmeta.frequentist.presets`); explicit arguments override them.
    weights : array_like, optional
        Weights of the generalised Q estimators ``"GENQ"`` and ``"GENQM"`` (Jackson 2013).
    control : mapping, optional
        ``tau2_init`` (start of SJ, SJIT, DLIT) and ``threshold`` (DLIT, SJIT), as metafor's ``control``.

    Returns
    -------
    RMAResult

    Warns
    -----
    DroppedStudiesWarning
        When studies with a missing ``yi`` or ``vi`` (e.g. double-zero studies for RR/OR under
        RevMan's rule) are left out; the count is in ``RMAResult.n_dropped``.

    Examples
    --------
    >>> r = rma([0.1, 0.3, 0.35, 0.65], [0.01, 0.02, 0.015, 0.05], method="DL")
    >>> round(r.mu, 4)  # metafor: coef(rma(yi, vi, method="DL")) = 0.2973588
    0.2974
    """
    yi = np.atleast_1d(np.asarray(yi, dtype=float))
    if (vi is None) == (sei is None):
        raise ValueError("give exactly one of vi and sei")
    vi = np.atleast_1d(np.asarray(vi, dtype=float) if vi is not None else np.asarray(sei, dtype=float) ** 2)
    if yi.shape != vi.shape or yi.ndim != 1:
        raise ValueError("yi and vi must be 1-d arrays of the same length")
    ok = np.isfinite(yi) & np.isfinite(vi)
    labels = tuple(map(str, labels)) if labels is not None else tuple(f"study {i + 1}" for i in range(yi.size))
    if len(labels) != yi.size:
        raise ValueError("labels must have one entry per study")
    n_dropped = int(np.sum(~ok))
    if n_dropped:
        gone = ", ".join(lab for lab, o in zip(labels, ok) if not o)
        warnings.warn(f"{n_dropped} stud{'y' if n_dropped == 1 else 'ies'} with a missing estimate or variance "
                      f"left out of the fit: {gone}", DroppedStudiesWarning, stacklevel=2)
    yi, vi = yi[ok], vi[ok]
    labels = tuple(lab for lab, o in zip(labels, ok) if o)
    pre = None
    if preset is not None:
        from bayesmeta.frequentist.presets import get_preset
        pre = get_preset(preset)
    method = (method if method is not None else pre.method if pre else "REML")
    method = {m.upper(): m for m in METHODS}.get(str(method).upper(), str(method))
    test = test if test is not None else pre.test if pre else "z"
    pi = pi if pi is not None else pre.pi if pre else "metafor"
    i2 = i2 if i2 is not None else pre.i2 if pre else "tau2"
    level = as_level(level)
    if i2 not in I2_TYPES:
        raise ValueError(f"i2 must be one of {I2_TYPES}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    test = _TEST_ALIASES.get(test, test)
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS} (or adhoc / knha_mod)")
    if pi not in PI_TYPES:
        raise ValueError(f"pi must be one of {PI_TYPES}")
    if np.any(vi <= 0):
        raise ValueError("sampling variances must be positive")
    k = yi.size
    common = method in ("EE", "FE")
    if k < 1 or (k < 2 and not common and tau2 is None):
        raise ValueError(f"too few studies (k = {k}) for method {method}")
    if tau2 is not None:
        if tau2 < 0:
            raise ValueError("tau2 must be >= 0")
        t2 = float(tau2)
    elif common:
        t2 = 0.0
    elif method in _VIA_METAREG or control:
        from bayesmeta.frequentist.metareg import tau2_mods

        ctl = dict(control or {})
        if set(ctl) - {"tau2_init", "threshold", "maxiter"}:
            raise ValueError(f"control: unknown keys {sorted(set(ctl) - {'tau2_init', 'threshold', 'maxiter'})}; "
                             "known: tau2_init, threshold, maxiter")
        wts = None if weights is None else np.asarray(weights, float)[ok]
        t2 = float(tau2_mods(yi, vi, np.ones((k, 1)), method, weights=wts, **ctl))
    else:
        t2 = float(_ESTIMATORS[method](yi, vi))
    mu, se = mu_hat(yi, vi, t2)
    mu, se = float(mu), float(se)
    if weights is not None:  # metafor: user weights also give the weighted estimate of mu
        a = np.asarray(weights, float)[ok]
        mu = float(np.sum(a * yi) / np.sum(a))
        se = float(np.sqrt(np.sum(a**2 * (vi + t2))) / np.sum(a))
        if test in ("knha", "knha_adhoc"):
            raise ValueError("the Knapp-Hartung test with user weights is not available")
    df = None
    hk = None
    if test in ("knha", "knha_adhoc") and common:
        warnings.warn(f"the Knapp-Hartung method is meant for random-effects models, not {method} (as metafor)",
                      UserWarning, stacklevel=2)
    if test in ("knha", "knha_adhoc"):
        if k < 2:
            raise ValueError("the Hartung-Knapp test needs k >= 2")
        rss = q_gen(yi, vi, t2)
        q = hk = 0.0 if rss <= np.finfo(float).eps else rss / (k - 1)  # as metafor
        if q == 0.0 and test == "knha":
            warnings.warn("the Hartung-Knapp scale factor is 0 (the study estimates are identical), so the "
                          "confidence interval for mu has zero width: use the test knha_adhoc (modified "
                          "Hartung-Knapp, never narrower than the Wald interval) or z",
                          ZeroWidthIntervalWarning, stacklevel=2)
        if test == "knha_adhoc":
            q = max(1.0, q)
        se = se * np.sqrt(q)
        df = k - 1
    elif test == "t":
        if k < 2:
            raise ValueError("the t test needs k >= 2")
        df = k - 1
    stat = mu / se
    a = 0.5 + level / 2
    if df is None:
        pval, crit = 2 * stats.norm.sf(abs(stat)), stats.norm.ppf(a)
    else:
        pval, crit = 2 * stats.t.sf(abs(stat), df), stats.t.ppf(a, df)
    Q = q_gen(yi, vi, 0.0)
    if k > 1 and ((common and tau2 is None) or i2 == "Q"):
        I2 = 100 * max(0.0, (Q - (k - 1)) / Q) if Q > 0 else 0.0
        H2 = Q / (k - 1)
    elif k > 1:
        s2 = typical_variance(vi)
        I2, H2 = 100 * t2 / (t2 + s2), (t2 + s2) / s2
    else:
        I2 = H2 = np.nan
    return RMAResult(yi=yi, vi=vi, method=method, test=test, level=level, mu=mu, se=float(se), stat=float(stat),
                     pval=float(pval), ci_lb=float(mu - crit * se), ci_ub=float(mu + crit * se), df=df,
                     tau2=t2, Q=float(Q), Q_df=k - 1, Q_p=float(stats.chi2.sf(Q, k - 1)) if k > 1 else np.nan,
                     I2=float(I2), H2=float(H2), labels=labels, pi_type=pi, tau2_fixed=tau2 is not None,
                     se_tau2=_se(yi, vi, t2, method, weights, ok) if (k > 1 and not common) else float("nan"),
                     hk_scale=None if hk is None else float(hk), i2_def="Q" if (common and tau2 is None) else i2,
                     preset=pre.name if pre else "", n_dropped=n_dropped,
                     genq_weights=None if weights is None else np.asarray(weights, float)[ok])
