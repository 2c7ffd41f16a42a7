r"""Random effects from a published summary: a likelihood for (mu, tau) from what a paper prints.

A meta-analysis that prints only its pooled estimate :math:`\hat\mu` with a CI (hence its SE), the
number of studies :math:`k`, the participants (hence, with Table 1's arm sizes, the contributing
trials and their within-study variances :math:`v_i`) and a heterogeneity statistic (Q, I^2 or
tau^2, rounded) still carries information on :math:`\tau`. With :math:`y_i \sim N(\mu, v_i+\tau^2)`
independent, the published estimate is :math:`\hat\mu = a^\top y` with the published model's
weights :math:`a_i \propto 1/(v_i + \hat\tau^2_{DL})` (:math:`\hat\tau^2_{DL} = 0` when
:math:`I^2 = 0\%` is printed), so

.. math::

    L(\mu, \tau) = N\big(\hat\mu;\ \mu,\ \textstyle\sum_i a_i^2 (v_i+\tau^2)\big)\;
                   P\big(q_{lo} \le Q \le q_{hi} \mid \hat\mu, \mu, \tau\big),

where :math:`[q_{lo}, q_{hi}]` is the set of Q values consistent with the printed statistic
within its rounding (a printed :math:`I^2 = 0\%` is the censored observation
:math:`Q \le (k-1)/(1-0.005)`), and Q given :math:`\hat\mu` is a weighted sum of non-central
chi-squares (:mod:`bayesmeta.published.quadratic_forms`, Ruben/Farebrother series). The posterior
of :math:`\mu`, :math:`\tau` and :math:`\theta_{new} \sim N(\mu, \tau^2)` is computed exactly on a
two-dimensional grid (no sampling) for any proper tau prior and any mu prior.

Within-study variances from arm sizes use the measure's large-sample variance
(:func:`smd_variance`: :math:`(n_1+n_2)/(n_1n_2) + d^2/\{2(n_1+n_2)\}`, Hedges & Olkin 1985, with
:math:`d` set to the pooled value), then, by default, are rescaled by one common factor so that the
published SE is reproduced (:attr:`SummaryData.calibration` reports the factor: near 1 means Table
1's sizes and the printed CI agree). Without arm sizes, equal variances reproducing the SE are the
stated fallback (:func:`equal_variances`).

Assumptions (stated in every result): normal within-study likelihoods with known variances; the
published estimate is the inverse-variance pooled estimate of the named trials; the relative sizes
of the within-study variances follow from arm sizes.

References
----------
Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. Academic Press, ch. 5.
Biggerstaff BJ, Jackson D (2008). Stat Med 27:6093-6110. doi:10.1002/sim.3428
Higgins JPT, Thompson SG (2002). Stat Med 21:1539-1558. doi:10.1002/sim.1186
DerSimonian R, Laird N (1986). Control Clin Trials 7:177-188. doi:10.1016/0197-2456(86)90046-2
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import interpolate

from bayesmeta.bayes.grid import GridDistribution
from bayesmeta.published.quadratic_forms import q_cdf, q_given_pooled

# --- within-study variances ------------------------------------------------------------------

def smd_variance(n1, n2, d: float = 0.0) -> np.ndarray:
    r"""Large-sample variance of a standardised mean difference, :math:`(n_1+n_2)/(n_1n_2) +
    d^2/\{2(n_1+n_2)\}` (Hedges & Olkin 1985), with ``d`` near the pooled value."""
    n1 = np.asarray(n1, dtype=float)
    n2 = np.asarray(n2, dtype=float)
    return (n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2))


def equal_variances(k: int, se: float) -> np.ndarray:
    """Fallback without arm sizes: k equal variances whose inverse-variance pooled SE is ``se``."""
    return np.full(int(k), k * se**2)


# --- the heterogeneity statistic as printed -----------------------------------------------------

def q_interval_from_i2(i2_percent: float, k: int, decimals: int = 0) -> tuple[float, float]:
    r"""Q values consistent with a printed :math:`I^2` (in percent, rounded to ``decimals``):
    :math:`I^2 = \max(0, (Q-df)/Q)`, so :math:`Q = df/(1-I^2)`. A printed 0 is censored:
    :math:`0 \le Q \le df/(1-h)` with :math:`h` half a unit of the last digit."""
    df = k - 1
    h = 0.5 * 10.0 ** (-decimals) / 100.0
    p = i2_percent / 100.0
    lo = 0.0 if p - h <= 0 else df / (1.0 - (p - h))
    hi = df / (1.0 - min(p + h, 1 - 1e-12))
    return lo, hi


def q_interval_from_q(q: float, decimals: int = 2) -> tuple[float, float]:
    """Q values consistent with a printed Q."""
    h = 0.5 * 10.0 ** (-decimals)
    return max(q - h, 0.0), q + h


def q_interval_from_tau2(tau2: float, vi, decimals: int = 2) -> tuple[float, float]:
    r"""Q values consistent with a printed DerSimonian-Laird :math:`\hat\tau^2 = \max\{0,
    (Q-df)/(S_1 - S_2/S_1)\}`; a printed 0 means :math:`Q \le df + h(S_1-S_2/S_1)`."""
    w = 1.0 / np.asarray(vi, dtype=float)
    C = w.sum() - (w**2).sum() / w.sum()
    df = w.size - 1
    h = 0.5 * 10.0 ** (-decimals)
    lo = 0.0 if tau2 - h <= 0 else df + (tau2 - h) * C
    return lo, df + (tau2 + h) * C


# --- the data a paper prints ------------------------------------------------------------------

@dataclass(frozen=True)
class SummaryData:
    """What the likelihood uses: the published estimate and SE, within-study variances, the
    pooling weights of the published model and the Q interval (or none)."""

    estimate: float
    se: float
    vi: np.ndarray
    a: np.ndarray
    q_interval: tuple[float, float] | None
    calibration: float
    assumptions: tuple[str, ...] = field(default=())

    @property
    def k(self) -> int:
        return int(self.vi.size)


def summary_data(estimate: float, se: float, vi, q_interval=None, tau2_published: float = 0.0,
                 calibrate: bool = True, assumptions=()) -> SummaryData:
    """Assemble :class:`SummaryData`.

    Parameters
    ----------
    estimate, se : float
        Published pooled estimate (analysis scale) and SE (from its CI).
    vi : array_like
        Within-study variances (e.g. :func:`smd_variance` of Table 1 arm sizes).
    q_interval : (float, float), optional
        Q values consistent with the printed heterogeneity statistic (``q_interval_from_*``);
        ``None`` when the paper prints none for this result.
    tau2_published : float
        The published model's tau^2 (DerSimonian-Laird), used for the pooling weights.
    calibrate : bool
        Rescale ``vi`` by one factor so that the published model's SE equals ``se``.
    """
    vi = np.asarray(vi, dtype=float)
    if vi.ndim != 1 or vi.size < 2 or np.any(~(vi > 0)):
        raise ValueError("vi must hold at least 2 positive within-study variances")
    if not se > 0:
        raise ValueError("se must be positive")
    notes = list(assumptions)
    factor = 1.0
    if calibrate:
        f = lambda c: 1.0 / np.sum(1.0 / (c * vi + tau2_published)) - se**2
        lo, hi = 1e-6, 1e6
        for _ in range(200):  # bisection on the monotone SE(c)
            mid = np.sqrt(lo * hi)
            lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
        factor = float(np.sqrt(lo * hi))
        vi = vi * factor
        notes.append(f"within-study variances rescaled by {factor:.3f} to reproduce the published SE {se:.4g}")
    w = 1.0 / (vi + tau2_published)
    a = w / w.sum()
    if q_interval is None:
        notes.append("no heterogeneity statistic printed for this result: tau is informed by its prior "
                     "and the spread it implies for the pooled estimate only")
    return SummaryData(float(estimate), float(se), vi, a, None if q_interval is None else
                       (float(q_interval[0]), float(q_interval[1])), factor, tuple(notes))


# --- likelihood and exact posterior ------------------------------------------------------------

def _log_q_factor(data: SummaryData, tau, e, n_nodes: int = 241) -> np.ndarray:
    """log P(q_lo <= Q <= q_hi | pooled estimate, mu, tau) on (tau, e = estimate - mu).

    The probability depends on e only through e^2; it is computed at ``n_nodes`` values of |e|
    per tau in one vectorised series evaluation and interpolated (cubic in |e|, a smooth function)."""
    assert data.q_interval is not None
    qlo, qhi = data.q_interval
    emax = float(np.max(np.abs(e))) if e.size else 0.0
    en = np.linspace(0.0, emax, n_nodes)
    lams, d2s, shifts = [], [], []
    for t in tau:
        lam, h, kappa = q_given_pooled(data.vi, float(t), data.a)
        lams.append(np.broadcast_to(lam, (en.size, lam.size)))
        d2s.append((en[:, None] * h[None, :]) ** 2)
        shifts.append(en**2 * kappa)
    L, D2, S = np.concatenate(lams), np.concatenate(d2s), np.concatenate(shifts)
    p = q_cdf(qhi - S, L, D2) - (q_cdf(qlo - S, L, D2) if qlo > 0 else 0.0)
    p = np.maximum(p, 0.0).reshape(tau.size, en.size)
    out = np.empty((tau.size, e.size))
    ae = np.abs(e)
    for i in range(tau.size):
        out[i] = interpolate.CubicSpline(en, p[i])(ae) if n_nodes >= 4 else np.interp(ae, en, p[i])
    with np.errstate(divide="ignore"):
        return np.log(np.maximum(out, 0.0))


def log_likelihood(data: SummaryData, mu, tau) -> np.ndarray:
    """log L(mu, tau) on the outer product of ``tau`` (rows) and ``mu`` (columns)."""
    mu = np.atleast_1d(np.asarray(mu, dtype=float))
    tau = np.atleast_1d(np.asarray(tau, dtype=float))
    var = np.array([np.sum(data.a**2 * (data.vi + t**2)) for t in tau])       # (T,)
    e = data.estimate - mu                                                    # (G,)
    ll = -0.5 * (np.log(2 * np.pi * var)[:, None] + e[None, :] ** 2 / var[:, None])
    if data.q_interval is not None:
        ll += _log_q_factor(data, tau, e)
    return ll


@dataclass(frozen=True)
class SummaryPosterior:
    """Exact posterior of mu, tau and theta_new from a published summary."""

    data: SummaryData
    tau_prior: object
    mu_prior: object
    mu: Any
    tau: Any
    theta_new: Any

    def summary(self, prob: float = 0.95, kind: str = "hdi") -> pd.DataFrame:
        pct = round(prob * 100)
        rows = []
        for name, d in (("mu", self.mu), ("tau", self.tau), ("theta_new", self.theta_new)):
            lo, hi = d.interval(prob, kind)
            rows.append({"parameter": name, "median": d.median(), "mean": d.mean(), "sd": d.sd(),
                         f"{kind}{pct}_lb": lo, f"{kind}{pct}_ub": hi})
        return pd.DataFrame(rows)

    def prob(self, parameter: str, c: float, side: str = "below") -> float:
        d = {"mu": self.mu, "tau": self.tau, "theta_new": self.theta_new}[parameter]
        p = float(d.cdf(c))
        return p if side == "below" else 1.0 - p


def _tau_grid(tau_prior, n: int) -> np.ndarray:
    """tau nodes: 0, then the union of a grid uniform in u = tau/(tau + median) and a geometric
    grid, from the prior's 1e-6 quantile to its 1 - 1e-5 quantile (heavy-tailed log-t priors
    need the geometric part; the prior mass above the last node, 1e-5, is dropped)."""
    hi = float(tau_prior.ppf(1 - 1e-5))
    med = max(float(tau_prior.ppf(0.5)), 1e-8)
    lo = max(float(tau_prior.ppf(1e-6)), med * 1e-6)
    umax = hi / (hi + med)
    u = np.linspace(0.0, umax, n)
    lin = med * u / (1.0 - u)
    geo = np.geomspace(lo, hi, n)
    return np.unique(np.concatenate([lin, geo]))


def _mu_grid(data: SummaryData, tau_prior, mu_prior, n_mu: int) -> np.ndarray:
    t_hi = float(tau_prior.ppf(0.99)) if tau_prior is not None else 0.0
    s_hi = float(np.sqrt(np.sum(data.a**2 * (data.vi + t_hi**2))))
    lo, hi = data.estimate - 10 * s_hi, data.estimate + 10 * s_hi
    if getattr(mu_prior, "proper", False):
        plo, phi = (float(v) for v in mu_prior.ppf([1e-7, 1 - 1e-7]))
        lo, hi = min(lo, max(plo, lo - 10 * s_hi)), max(hi, min(phi, hi + 10 * s_hi))
    return np.linspace(lo, hi, n_mu)


def _trap_weights(x: np.ndarray) -> np.ndarray:
    d = np.diff(x)
    q = np.zeros_like(x)
    q[:-1] += d / 2
    q[1:] += d / 2
    return q


def log_evidence(data: SummaryData, mu_prior=None, tau_prior=None, n_tau: int = 241, n_mu: int = 2401) -> float:
    r"""log marginal likelihood of the published summary under one of four models: ``mu_prior``
    ``None`` means :math:`\mu = 0`, ``tau_prior`` ``None`` means :math:`\tau = 0` (common effect).
    Priors must be proper. The same likelihood (estimate density times the probability of the
    printed heterogeneity statistic) is used by all four, so Bayes factors between them are
    well defined (see :mod:`bayesmeta.bayes.model_averaging` for study-level data)."""
    from scipy.special import logsumexp
    if mu_prior is not None and not mu_prior.proper:
        raise ValueError(f"a Bayes factor needs a proper mu prior, got {mu_prior}")
    tau = np.array([0.0]) if tau_prior is None else _tau_grid(tau_prior, n_tau)
    mu = np.array([0.0]) if mu_prior is None else _mu_grid(data, tau_prior, mu_prior, n_mu)
    lp = log_likelihood(data, mu, tau)
    if mu_prior is not None:
        lp = lp + np.asarray(mu_prior.logpdf(mu))[None, :] + np.log(_trap_weights(mu))[None, :]
    if tau_prior is not None:
        if not tau_prior.proper:
            raise ValueError(f"a Bayes factor needs a proper tau prior, got {tau_prior}")
        with np.errstate(divide="ignore"):
            lp = lp + (np.asarray(tau_prior.logpdf(tau)) + np.log(_trap_weights(tau)))[:, None]
    lp = np.where(np.isfinite(lp), lp, -np.inf)
    return float(logsumexp(lp))


def posterior(data: SummaryData, tau_prior, mu_prior, n_tau: int | None = None,
              n_mu: int | None = None) -> SummaryPosterior:
    """Exact posterior of mu, tau and theta_new (:func:`bayesmeta.published.summary_exact.solve`:
    log-tau grid with the exact mass near 0, mu range from the posterior, the exact engine's
    quadrature rules).

    ``tau_prior`` must be proper (without study-level data the likelihood does not vanish as tau
    grows, so an improper tau prior gives an improper posterior). ``n_tau`` and ``n_mu`` are
    ignored (kept for callers of the former fixed grid): the grids follow the posterior."""
    from bayesmeta.published.summary_exact import solve

    if not getattr(tau_prior, "proper", False):
        raise ValueError(f"a summary-level random-effects analysis needs a proper tau prior, got {tau_prior}: "
                         "the published summary alone does not bound tau")
    ex = solve(data, tau_prior, mu_prior)
    return SummaryPosterior(data, tau_prior, mu_prior, ex.mu, ex.tau, ex.theta_new)


@dataclass(frozen=True)
class SummaryModelAveraging:
    """Bayes factors and model averaging from a published summary (see :func:`model_average`)."""

    log_ml: dict
    post_prob: dict
    bf_effect: float
    bf_heterogeneity: float
    noninferiority: dict | None

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"model": m, "log_ml": self.log_ml[m], "post_prob": self.post_prob[m]}
                             for m in self.log_ml])


def model_average(data: SummaryData, mu_prior, tau_prior, margin: float | None = None,
                  harm_above: bool = True, n_tau: int = 241, n_mu: int = 2401) -> SummaryModelAveraging:
    """{common, random} x {no effect, effect} from the summary likelihood, equal prior model
    probabilities (as RoBMA): posterior model probabilities, inclusion BFs for the effect and for
    heterogeneity, and, given a ``margin``, the BF of non-inferiority (mu on the acceptable side
    of the margin against beyond it; posterior over prior odds) within the effect models."""
    from bayesmeta.bayes.model_averaging import inclusion_bf, posterior_model_probs
    lm = {"FE0": log_evidence(data, None, None), "FE1": log_evidence(data, mu_prior, None, n_tau, n_mu),
          "RE0": log_evidence(data, None, tau_prior, n_tau, n_mu), "RE1": log_evidence(data, mu_prior, tau_prior, n_tau, n_mu)}
    pp = posterior_model_probs(lm)
    ni = None
    if margin is not None:
        mu = _mu_grid(data, None, mu_prior, n_mu)
        lp = log_likelihood(data, mu, np.array([0.0]))[0] + np.asarray(mu_prior.logpdf(mu))
        fe = GridDistribution.from_logpdf(mu, lp)
        re = posterior(data, tau_prior, mu_prior, n_tau=n_tau, n_mu=n_mu).mu
        below = {"FE1": float(fe.cdf(margin)), "RE1": float(re.cdf(margin))}
        prior_below = float(mu_prior.cdf(margin))
        if not harm_above:
            below = {k: 1 - v for k, v in below.items()}
            prior_below = 1 - prior_below
        w1 = pp["FE1"] + pp["RE1"]
        post_c = (pp["FE1"] * below["FE1"] + pp["RE1"] * below["RE1"]) / w1
        odds = (post_c / (1 - post_c)) / (prior_below / (1 - prior_below)) if 0 < post_c < 1 else float("nan")
        ni = {"margin": margin, "prior_p_ni": prior_below, "post_p_ni": post_c, "bf_ni": odds}
    return SummaryModelAveraging(lm, pp, inclusion_bf(lm, ("FE1", "RE1")), inclusion_bf(lm, ("RE0", "RE1")), ni)
