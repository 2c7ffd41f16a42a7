r"""Frequentist meta-analysis exactly as metafor's ``rma.uni`` and RevMan 5.4 compute it.

Common effect (``"EE"``, inverse variance) and random effects with :math:`\tau^2` estimated by
DerSimonian-Laird (``"DL"``), restricted maximum likelihood (``"REML"``), Paule-Mandel (``"PM"``)
or maximum likelihood (``"ML"``); tests ``"z"``, ``"t"`` (t with k-1 df) and ``"knha"``
(Hartung-Knapp-Sidik-Jonkman; ``"knha_adhoc"`` is the modified form with the scale factor
truncated at 1, Röver, Knapp & Friede 2015, doi:10.1186/s12874-015-0091-1). Cochran's Q,
:math:`I^2`, :math:`H^2` (metafor's definitions, from the typical within-study variance of
Higgins & Thompson 2002), the Q-profile CI for :math:`\tau^2` (Viechtbauer 2007,
doi:10.1002/sim.2514) and prediction intervals (metafor's, or t with k-2 df as in Higgins,
Thompson & Spiegelhalter 2009, doi:10.1111/j.1467-985X.2008.00552.x, and RevMan 5.4).

Estimating equations (:math:`w_i = 1/(v_i + \tau^2)`, :math:`\hat\mu = \sum w_i y_i/\sum w_i`):

* DL: :math:`\hat\tau^2 = \max\{0, (Q - (k-1))/(\sum w^0 - \sum (w^0)^2/\sum w^0)\}`, :math:`w^0 = 1/v`.
* PM: :math:`\sum w_i (y_i - \hat\mu)^2 = k - 1`.
* ML / REML: roots of the (restricted) score
  :math:`\sum w_i^2 (y_i - \hat\mu)^2 - \sum w_i\,[+\sum w_i^2/\sum w_i] = 0`.

All truncate at zero. Roots are found with Brent's method to 1e-12 (metafor iterates to 1e-5 on
tau^2 by default; the golden values are made with a tighter threshold).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

METHODS = ("EE", "FE", "DL", "REML", "PM", "ML")
TESTS = ("z", "t", "knha", "knha_adhoc")


def _mu_se(yi, vi, tau2):
    w = 1.0 / (vi + tau2)
    mu = np.sum(w * yi) / np.sum(w)
    return mu, np.sqrt(1.0 / np.sum(w)), w


def q_gen(yi, vi, tau2):
    """Generalised Q: sum w (y - mu_hat)^2 with w = 1/(v + tau2)."""
    mu, _, w = _mu_se(yi, vi, tau2)
    return float(np.sum(w * (yi - mu) ** 2))


def _upper(yi, vi):
    return max(100.0 * np.var(yi) + 10.0 * np.max(vi), 1e-8)


def tau2_dl(yi, vi):
    w = 1.0 / vi
    q = q_gen(yi, vi, 0.0)
    c = w.sum() - np.sum(w**2) / w.sum()
    return max(0.0, (q - (yi.size - 1)) / c)


def _root_at_or_above_zero(f, yi, vi):
    """Root of a function of tau^2 that is positive below the root; 0 if f(0) <= 0 (truncation)."""
    if f(0.0) <= 0:
        return 0.0
    hi = _upper(yi, vi)
    while f(hi) > 0:
        hi *= 10
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-14, rtol=1e-14))


def tau2_pm(yi, vi):
    return _root_at_or_above_zero(lambda t: q_gen(yi, vi, t) - (yi.size - 1), yi, vi)


def _score(yi, vi, t, reml):
    mu, _, w = _mu_se(yi, vi, t)
    s = np.sum(w**2 * (yi - mu) ** 2) - np.sum(w)
    if reml:
        s += np.sum(w**2) / np.sum(w)
    return s


def tau2_ml(yi, vi, reml=False):
    return _root_at_or_above_zero(lambda t: _score(yi, vi, t, reml), yi, vi)


def typical_variance(vi):
    """Typical within-study variance s^2 of Higgins & Thompson (2002), as metafor uses for I^2."""
    w = 1.0 / np.asarray(vi, float)
    k = w.size
    return (k - 1) * w.sum() / (w.sum() ** 2 - np.sum(w**2))


@dataclass(frozen=True)
class RMAResult:
    """One random-effects (or common-effect) meta-analysis; immutable."""

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

    @property
    def k(self) -> int:
        return self.yi.size

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def weights(self) -> np.ndarray:
        """Percentage weights (as RevMan and metafor print them)."""
        w = 1.0 / (self.vi + self.tau2)
        return 100 * w / w.sum()

    @property
    def I2_revman(self) -> float:
        """RevMan's I^2 = max(0, (Q - df)/Q) in percent (Higgins & Thompson 2002)."""
        return 100.0 * max(0.0, (self.Q - self.Q_df) / self.Q) if self.Q > 0 else 0.0

    def _crit(self, level, df):
        a = 0.5 + level / 2
        return stats.norm.ppf(a) if df is None else stats.t.ppf(a, df)

    def predict(self, pi: str = "metafor", level: float | None = None) -> dict:
        """Prediction interval for a new study's true effect.

        ``pi="metafor"``: metafor's ``predict()``: z (test "z") or t with k-1 df (other tests),
        using the test's SE. ``pi="t_k-2"``: Higgins et al. 2009 / RevMan 5.4, t with k-2 df and
        the standard (non-HK) SE.
        """
        level = self.level if level is None else level
        if pi == "metafor":
            crit = self._crit(level, self.df)
            half = crit * np.sqrt(self.se**2 + self.tau2)
        elif pi == "t_k-2":
            if self.k < 3:
                raise ValueError("a t(k-2) prediction interval needs k >= 3")
            se = np.sqrt(1.0 / np.sum(1.0 / (self.vi + self.tau2)))
            half = stats.t.ppf(0.5 + level / 2, self.k - 2) * np.sqrt(se**2 + self.tau2)
        else:
            raise ValueError("pi must be 'metafor' or 't_k-2'")
        return {"pred": self.mu, "pi_lb": self.mu - half, "pi_ub": self.mu + half}

    def confint_tau2(self, level: float | None = None) -> dict:
        """Q-profile CI for tau^2 (and tau), as metafor's ``confint()`` (Viechtbauer 2007)."""
        level = self.level if level is None else level
        k = self.k
        a = (1 - level) / 2
        q_hi, q_lo = stats.chi2.ppf(1 - a, k - 1), stats.chi2.ppf(a, k - 1)

        lb, ub = (_root_at_or_above_zero(lambda t, c=c: q_gen(self.yi, self.vi, t) - c, self.yi, self.vi)
                  for c in (q_hi, q_lo))
        return {"tau2": self.tau2, "tau2_lb": lb, "tau2_ub": ub, "tau_lb": np.sqrt(lb), "tau_ub": np.sqrt(ub)}

    def summary(self) -> pd.DataFrame:
        pct = round(self.level * 100)
        p = self.predict()
        return pd.DataFrame([{"method": self.method, "test": self.test, "k": self.k, "estimate": self.mu,
                              "se": self.se, "zval" if self.df is None else "tval": self.stat, "pval": self.pval,
                              f"ci{pct}_lb": self.ci_lb, f"ci{pct}_ub": self.ci_ub,
                              f"pi{pct}_lb": p["pi_lb"], f"pi{pct}_ub": p["pi_ub"], "tau2": self.tau2,
                              "I2": self.I2, "H2": self.H2, "Q": self.Q, "Q_df": self.Q_df, "Q_p": self.Q_p}])

    def heterogeneity(self) -> pd.DataFrame:
        ci = self.confint_tau2()
        return pd.DataFrame([{"tau2": self.tau2, "tau2_lb": ci["tau2_lb"], "tau2_ub": ci["tau2_ub"], "tau": self.tau,
                              "I2": self.I2, "I2_revman": self.I2_revman, "H2": self.H2, "Q": self.Q,
                              "Q_df": self.Q_df, "Q_p": self.Q_p}])

    def __str__(self) -> str:
        pct = round(self.level * 100)
        kind = "Common-effect" if self.method in ("EE", "FE") else f"Random-effects ({self.method})"
        st = "z" if self.df is None else f"t({self.df:g})"
        p = self.predict()
        ci = self.confint_tau2()
        return "\n".join([
            f"{kind} model (k = {self.k}; test: {self.test})",
            f"  tau^2 = {self.tau2:.4f} [{pct}% Q-profile CI {ci['tau2_lb']:.4f}, {ci['tau2_ub']:.4f}], tau = {self.tau:.4f}",
            f"  I^2 = {self.I2:.2f}% (RevMan: {self.I2_revman:.2f}%), H^2 = {self.H2:.2f}",
            f"  Q({self.Q_df}) = {self.Q:.4f}, p = {self.Q_p:.4g}",
            f"  estimate {self.mu:.4f}, SE {self.se:.4f}, {st} = {self.stat:.4f}, p = {self.pval:.4g}, "
            f"{pct}% CI [{self.ci_lb:.4f}, {self.ci_ub:.4f}]",
            f"  {pct}% prediction interval [{p['pi_lb']:.4f}, {p['pi_ub']:.4f}] ({'z' if self.df is None else 't'})",
        ])


def rma(yi, vi, method: str = "REML", test: str = "z", level: float = 0.95, labels=None, tau2=None) -> RMAResult:
    """Random-effects (or common-effect) meta-analysis of effect sizes ``yi`` with variances ``vi``.

    Studies with a missing ``yi`` or ``vi`` (e.g. double-zero studies for RR/OR) are dropped.
    ``tau2`` fixes the heterogeneity (as metafor's ``tau2=`` argument).
    """
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    ok = np.isfinite(yi) & np.isfinite(vi)
    labels = tuple(labels) if labels is not None else tuple(f"study {i + 1}" for i in range(yi.size))
    yi, vi = yi[ok], vi[ok]
    labels = tuple(lab for lab, o in zip(labels, ok) if o)
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}")
    if np.any(vi <= 0):
        raise ValueError("sampling variances must be positive")
    k = yi.size
    if k < 1 or (k < 2 and method not in ("EE", "FE")):
        raise ValueError(f"too few studies (k = {k}) for method {method}")
    if tau2 is not None:
        t2 = float(tau2)
    elif method in ("EE", "FE"):
        t2 = 0.0
    else:
        t2 = {"DL": tau2_dl, "PM": tau2_pm, "ML": lambda y, v: tau2_ml(y, v, False),
              "REML": lambda y, v: tau2_ml(y, v, True)}[method](yi, vi)
    mu, se, w = _mu_se(yi, vi, t2)
    df = None
    if test in ("knha", "knha_adhoc"):
        qf = np.sum(w * (yi - mu) ** 2) / (k - 1)
        if test == "knha_adhoc":
            qf = max(1.0, qf)
        se = se * np.sqrt(qf)
        df = k - 1
    elif test == "t":
        df = k - 1
    stat = mu / se
    a = 0.5 + level / 2
    if df is None:
        pval, crit = 2 * stats.norm.sf(abs(stat)), stats.norm.ppf(a)
    else:
        pval, crit = 2 * stats.t.sf(abs(stat), df), stats.t.ppf(a, df)
    Q = q_gen(yi, vi, 0.0)
    s2 = typical_variance(vi) if k > 1 else np.nan
    if method in ("EE", "FE") and tau2 is None:
        I2 = 100 * max(0.0, (Q - (k - 1)) / Q) if Q > 0 else 0.0
        H2 = Q / (k - 1) if k > 1 else np.nan
    else:
        I2 = 100 * t2 / (t2 + s2)
        H2 = (t2 + s2) / s2
    return RMAResult(yi=yi, vi=vi, method=method, test=test, level=level, mu=float(mu), se=float(se),
                     stat=float(stat), pval=float(pval), ci_lb=float(mu - crit * se), ci_ub=float(mu + crit * se),
                     df=df, tau2=float(t2), Q=float(Q), Q_df=k - 1, Q_p=float(stats.chi2.sf(Q, k - 1)) if k > 1 else np.nan,
                     I2=float(I2), H2=float(H2), labels=labels)
