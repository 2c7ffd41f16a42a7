r"""Bayes factors and Bayesian model averaging from exact marginal likelihoods.

Four models of the normal-normal meta-analysis, as in RoBMA without publication-bias components
(Gronau et al. 2017; Bartoš et al. 2021):

==========  ===================  =====================
model       effect               heterogeneity
==========  ===================  =====================
``FE0``     :math:`\mu = 0`      :math:`\tau = 0`
``FE1``     :math:`\mu\sim p(\mu)`  :math:`\tau = 0`
``RE0``     :math:`\mu = 0`      :math:`\tau\sim p(\tau)`
``RE1``     :math:`\mu\sim p(\mu)`  :math:`\tau\sim p(\tau)`
==========  ===================  =====================

with :math:`y_i \mid \mu, \tau \sim N(\mu, s_i^2 + \tau^2)`. The marginal likelihoods are exact
up to quadrature error (no sampling):

* ``FE0``: :math:`\prod_i N(y_i; 0, s_i^2)` in closed form.
* ``FE1``/``RE1``: given :math:`\tau` and a normal prior :math:`N(m_0, s_0^2)` the integral over
  :math:`\mu` is closed form; a Student-t prior is the scale mixture
  :math:`\mu \mid \lambda \sim N(m_0, s_0^2/\lambda)`, :math:`\lambda \sim \Gamma(\nu/2, \nu/2)`,
  integrated by the trapezoidal rule in :math:`\log\lambda` with nodes where the posterior has
  weight (:mod:`bayesmeta.bayes.scale_mixture`, the one rule for Student-t priors; geometric
  convergence, checked against adaptive quadrature to 1e-10).
* ``RE0``/``RE1``: one-dimensional integral over :math:`\tau`: the mass is located on
  :math:`\tau = c\,u/(1-u)`, then integrated by Simpson's rule in :math:`\log\tau` over it
  (agreement with the exact engine :mod:`bayesmeta.bayes.batch` to 1e-12 in log ML).
* The posteriors of :math:`\mu` under ``FE1``/``RE1`` are exact normal mixtures over the tau
  nodes and the prior's normal components (:meth:`ModelAveraged.mu_posterior`).

Inclusion Bayes factors are posterior inclusion odds over prior inclusion odds: the effect
:math:`BF_{10}` compares {FE1, RE1} with {FE0, RE0}, the heterogeneity :math:`BF_{rf}` compares
{RE0, RE1} with {FE0, FE1}. The Bayes factor of non-inferiority compares
:math:`\mu` on the acceptable side of a margin with :math:`\mu` beyond it, as posterior odds over
prior odds, within the effect models (conditional) and averaged over all four models.

References
----------
Gronau QF, van Erp S, Heck DW, Cesario J, Jonas KJ, Wagenmakers EJ (2017). A Bayesian
    model-averaged meta-analysis of the power pose effect with informed and default priors: the
    case of felt power. Compr Results Soc Psychol 2:123-138. doi:10.1080/23743603.2017.1326760
Bartoš F, Gronau QF, Timmers B, Otte WM, Ly A, Wagenmakers EJ (2021). Bayesian model-averaged
    meta-analysis in medicine. Stat Med 40:6743-6761. doi:10.1002/sim.9170
Kass RE, Raftery AE (1995). Bayes factors. J Am Stat Assoc 90:773-795. doi:10.1080/01621459.1995.10476572
Röver C (2020). Bayesian random-effects meta-analysis using the bayesmeta R package. J Stat Softw
    93(6). doi:10.18637/jss.v093.i06

Examples
--------
>>> from bayesmeta.bayes.exact import NormalMixture
from bayesmeta.bayes.priors import Prior
from bayesmeta.bayes.scale_mixture import mixture_nodes
>>> from types import MappingProxyType as M
>>> mu = Prior("studentt", M({"nu": 5, "loc": 0, "scale": 0.51}), "mu")
>>> tau = Prior("invgamma", M({"alpha": 1.79, "beta": 0.28}), "tau")
>>> bma = average([0.9073, 0.7208, 1.3306, 1.7689, 1.3287], [0.2720, 0.1978, 0.2722, 0.2656, 0.3583], mu, tau)
>>> round(bma.bf_effect)  # RoBMA (MCMC, bridge sampling) prints 218.53
218
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy import integrate, special

from bayesmeta.bayes.exact import NormalMixture
from bayesmeta.bayes.priors import Prior
from bayesmeta.bayes.scale_mixture import mixture_nodes

_LOG2PI = float(np.log(2 * np.pi))
MODELS = ("FE0", "FE1", "RE0", "RE1")


def _mu_components(mu_prior: Prior, ybar=None, V=None):
    """(locations, variances, log weights) of the mu prior as a mixture of normals, with nodes
    covering the posterior weight for likelihoods N(ybar; mu, V) (bayesmeta.bayes.scale_mixture)."""
    if mu_prior.family not in ("normal", "studentt"):
        raise ValueError(f"Bayes factors need a proper normal or Student-t prior on mu, got {mu_prior}")
    return mixture_nodes(mu_prior, ybar, V)


def _pooled(yi, vi, tau):
    """Inverse-variance mean ybar(tau) and its variance V(tau) = 1/sum w_i, for each tau."""
    w = 1.0 / (vi + np.asarray(tau, dtype=float)[..., None] ** 2)
    sw = w.sum(-1)
    return (w * yi).sum(-1) / sw, 1.0 / sw


def loglik_mu0(yi, vi, tau):
    r"""log p(y | mu = 0, tau) for each tau (array): :math:`\sum_i \log N(y_i; 0, s_i^2+\tau^2)`."""
    t2 = np.asarray(tau, dtype=float)[..., None] ** 2
    var = vi + t2
    return -0.5 * np.sum(_LOG2PI + np.log(var) + yi**2 / var, axis=-1)


def loglik_mu_integrated(yi, vi, tau, mu_prior: Prior, n_lambda: int | None = None):
    r"""log p(y | tau) with mu integrated over its prior, for each tau (array).

    With :math:`w_i = 1/(s_i^2+\tau^2)`, :math:`P = \sum w_i + s_0^{-2}` and
    :math:`M = \sum w_i y_i + m_0 s_0^{-2}`:
    :math:`\log p(y\mid\tau) = -\tfrac{k}{2}\log 2\pi + \tfrac12\sum\log w_i
    - \tfrac12(\sum w_i y_i^2 + m_0^2 s_0^{-2} - M^2/P) - \tfrac12\log(s_0^2 P)`;
    a Student-t prior is the normal mixture of :mod:`bayesmeta.bayes.scale_mixture`
    (``n_lambda`` is ignored: the nodes are placed by that rule).
    """
    tau = np.asarray(tau, dtype=float)
    loc, var0, logw0 = _mu_components(mu_prior, *_pooled(yi, vi, np.ravel(tau)))
    w = 1.0 / (vi + tau[..., None] ** 2)                       # (..., k)
    sw, swy, swy2 = w.sum(-1), (w * yi).sum(-1), (w * yi**2).sum(-1)
    sl = 0.5 * np.log(w).sum(-1)
    prec0 = 1.0 / var0                                          # (n,)
    P = sw[..., None] + prec0
    M = swy[..., None] + prec0 * loc
    quad = swy2[..., None] + prec0 * loc**2 - M**2 / P
    ll = -0.5 * yi.size * _LOG2PI + sl[..., None] - 0.5 * quad - 0.5 * np.log(var0 * P)
    return special.logsumexp(ll + logw0, axis=-1)


def _simpson_logw(x):
    """log Simpson weights for equispaced sorted nodes x (odd count)."""
    h = (x[-1] - x[0]) / (x.size - 1)
    c = np.full(x.size, 2.0)
    c[1::2] = 4.0
    c[0] = c[-1] = 1.0
    return np.log(c * h / 3.0)


def tau_nodes(loglik_tau, tau_prior: Prior, scale: float, n: int = 1000):
    r"""Nodes :math:`\tau_i` and log weights :math:`\log(\omega_i\,p(y\mid\tau_i)\,p(\tau_i))`
    of the quadrature of :math:`\int_0^\infty p(y\mid\tau)\,p(\tau)\,d\tau` (Simpson weights
    :math:`\omega_i`, Jacobian included), for a proper tau prior.

    ``loglik_tau`` maps an array of tau to log p(y | tau). First pass on
    :math:`\tau = c\,u/(1-u)`, :math:`u\in[0,1)` (the whole half-line) to find the mass (its
    1e-12 tail points); second pass Simpson with ``2 n + 1`` nodes in :math:`x = \log\tau`
    (Jacobian :math:`\tau`) over that range, where priors rising steeply from tau = 0 (inverse
    gamma) are smooth: a linear grid of 4,003 nodes was off by 2e-5 in log ML on the RoBMA dentine
    example, the log grid agrees with the exact engine to 1e-12.
    """
    if not tau_prior.proper:
        raise ValueError(f"a Bayes factor needs a proper tau prior, got {tau_prior}")
    c = max(float(scale), 1e-8)
    u = np.linspace(0.0, 1.0, n)[:-1]
    tau = c * u / (1.0 - u)
    with np.errstate(divide="ignore"):
        lf = loglik_tau(tau) + tau_prior.logpdf(tau)
    # the integrand in u has the Jacobian c/(1-u)^2
    lu = lf + np.log(c) - 2 * np.log1p(-u)
    dens = np.exp(lu - np.max(lu))
    cum = integrate.cumulative_trapezoid(dens, u, initial=0.0)
    cum /= cum[-1]
    ulo = float(np.interp(1e-12, cum, u))
    uhi = float(np.interp(1 - 1e-12, cum, u))
    i_lo = max(int(np.searchsorted(u, ulo)) - 2, 0)
    i_hi = min(int(np.searchsorted(u, uhi)) + 2, u.size - 1)
    t_lo, t_hi = max(tau[i_lo], 1e-300), tau[i_hi]
    if i_lo == 0:  # mass down to tau = 0: start where the integrand is e^-40 of its top in log tau
        t_lo = max(float(tau[1]) * 1e-12, 1e-300)
    if i_hi >= u.size - 1:  # heavy tail
        t_hi = c * (1.0 - 1e-9) / 1e-9
    # second pass: Simpson in x = log(tau) (Jacobian tau), where priors and likelihoods with
    # steep behaviour near tau = 0 are smooth (as the exact engine, bayesmeta.bayes.batch)
    x = np.linspace(np.log(t_lo), np.log(t_hi), 2 * n + 1)
    t2 = np.exp(x)
    with np.errstate(divide="ignore"):
        l2 = loglik_tau(t2) + tau_prior.logpdf(t2) + x
    return t2, l2 + _simpson_logw(x)


def log_evidence_tau(loglik_tau, tau_prior: Prior, scale: float, n: int = 1000) -> float:
    r"""log of :math:`\int_0^\infty p(y\mid\tau)\,p(\tau)\,d\tau` for a proper tau prior
    (the quadrature of :func:`tau_nodes`)."""
    _, lw = tau_nodes(loglik_tau, tau_prior, scale, n)
    return float(special.logsumexp(lw))


def _log_c(yi, vi, tau):
    r"""log C(tau) with :math:`\prod_i N(y_i; \mu, v_i + \tau^2) = C(\tau)\,N(\bar y_\tau; \mu, V_\tau)`."""
    ybar, V = _pooled(yi, vi, tau)
    return loglik_mu0(yi - ybar[..., None], vi, tau) + 0.5 * np.log(2 * np.pi * V)


def _mu_mixture(yi, vi, taus, logw_tau, mu_prior: Prior) -> NormalMixture:
    r"""Posterior of mu as one normal mixture over tau nodes (log weights ``logw_tau`` of the tau
    quadrature, ``taus = [0]`` with weight 0 for the common-effect model) and the prior's normal
    components: given (tau, lambda) the posterior of mu is conjugate normal."""
    ybar, V = _pooled(yi, vi, taus)
    loc, var0, logw0 = _mu_components(mu_prior, ybar, V)
    tot = V[:, None] + var0[None, :]
    lp = (logw_tau + _log_c(yi, vi, taus))[:, None] + logw0[None, :] \
        - 0.5 * (np.log(2 * np.pi * tot) + (ybar[:, None] - loc[None, :]) ** 2 / tot)
    lp = lp - np.max(lp)
    keep = lp > -40.0
    vj = 1.0 / (1.0 / V[:, None] + 1.0 / var0[None, :])
    mj = vj * (ybar[:, None] / V[:, None] + loc[None, :] / var0[None, :])
    w = np.exp(lp[keep])
    return NormalMixture(w / w.sum(), mj[keep], np.sqrt(vj[keep]))


@dataclass(frozen=True)
class ModelAveraged:
    """Marginal likelihoods, posterior model probabilities and inclusion Bayes factors.

    Attributes
    ----------
    log_ml : mapping model -> log marginal likelihood (``FE0``, ``FE1``, ``RE0``, ``RE1``)
    prior_prob, post_prob : mapping model -> probability
    bf_effect : inclusion BF10 for the effect ({FE1, RE1} vs {FE0, RE0})
    bf_heterogeneity : inclusion BF_rf ({RE0, RE1} vs {FE0, FE1})
    mu_prior, tau_prior : the priors under the effect / random-effects models
    """

    yi: np.ndarray
    sei: np.ndarray
    mu_prior: Prior
    tau_prior: Prior
    log_ml: MappingProxyType
    prior_prob: MappingProxyType
    post_prob: MappingProxyType

    @property
    def bf_effect(self) -> float:
        return _inclusion_bf(self, ("FE1", "RE1"))

    @property
    def bf_heterogeneity(self) -> float:
        return _inclusion_bf(self, ("RE0", "RE1"))

    def bf(self, a: str, b: str) -> float:
        """Bayes factor of model ``a`` against model ``b``."""
        return float(np.exp(self.log_ml[a] - self.log_ml[b]))

    # --- posterior of mu -------------------------------------------------------------------
    @cached_property
    def _mu_posteriors(self) -> dict[str, NormalMixture]:
        vi = self.sei**2
        fe = _mu_mixture(self.yi, vi, np.zeros(1), np.zeros(1), self.mu_prior)

        def ll(t):
            return loglik_mu_integrated(self.yi, vi, t, self.mu_prior)

        taus, lw = tau_nodes(ll, self.tau_prior, _tau_scale(self.yi, self.sei), n=1000)
        with np.errstate(invalid="ignore"):
            lw_prior = np.where(np.isfinite(lw), lw - ll(taus), -np.inf)
        return {"FE1": fe, "RE1": _mu_mixture(self.yi, vi, taus, lw_prior, self.mu_prior)}

    def mu_posterior(self, model: str) -> NormalMixture:
        """Posterior of mu under ``"FE1"`` or ``"RE1"``: an exact normal mixture (over the tau
        quadrature nodes and the prior's normal components)."""
        if model not in ("FE1", "RE1"):
            raise ValueError("model must be 'FE1' or 'RE1' (mu is 0 under FE0 and RE0)")
        return self._mu_posteriors[model]

    def mu_cdf_models(self, x):
        """P(mu <= x | y, model) under FE1 and RE1 (dict of arrays)."""
        x = np.asarray(x, dtype=float)
        return {m: np.asarray(self.mu_posterior(m).cdf(x)) for m in ("FE1", "RE1")}

    def mu_conditional(self, prob: float = 0.95) -> dict:
        """Model-averaged posterior of mu conditional on an effect (FE1 and RE1 weighted by their
        posterior probabilities): mean, median and central ``prob`` interval (as RoBMA prints)."""
        fe, re = self.mu_posterior("FE1"), self.mu_posterior("RE1")
        w1 = self.post_prob["FE1"] + self.post_prob["RE1"]
        a, b = self.post_prob["FE1"] / w1, self.post_prob["RE1"] / w1
        mix = NormalMixture(np.concatenate([a * fe.w, b * re.w]), np.concatenate([fe.m, re.m]),
                            np.concatenate([fe.s, re.s]))
        q = mix.ppf(np.array([(1 - prob) / 2, 0.5, (1 + prob) / 2]))
        return {"mean": mix.mean(), "median": float(q[1]), f"eti{round(100 * prob)}_lb": float(q[0]),
                f"eti{round(100 * prob)}_ub": float(q[2])}

    def bf_noninferiority(self, margin: float, harm_above: bool = True) -> dict:
        r"""Bayes factor for non-inferiority: :math:`\mu` on the acceptable side of ``margin``
        (below it if ``harm_above``) against beyond it; posterior odds over prior odds.

        Returns the conditional BF (effect models FE1/RE1, whose prior on mu is ``mu_prior``) and
        the model-averaged BF over all four models (the spikes at mu = 0 counted on the side where
        0 lies), each with the prior and posterior probabilities of non-inferiority.
        """
        F = self.mu_cdf_models(np.array([margin]))
        p1 = float(self.mu_prior.cdf(margin))
        below_post = {m: float(F[m][0]) for m in ("FE1", "RE1")}
        spike_below = 1.0 if 0.0 < margin else 0.0
        below_post.update(FE0=spike_below, RE0=spike_below)
        below_prior = {"FE1": p1, "RE1": p1, "FE0": spike_below, "RE0": spike_below}
        if not harm_above:
            below_post = {m: 1 - v for m, v in below_post.items()}
            below_prior = {m: 1 - v for m, v in below_prior.items()}
        w1 = self.post_prob["FE1"] + self.post_prob["RE1"]
        post_c = (self.post_prob["FE1"] * below_post["FE1"] + self.post_prob["RE1"] * below_post["RE1"]) / w1
        prior_c = below_prior["FE1"]
        post_a = sum(self.post_prob[m] * below_post[m] for m in MODELS)
        prior_a = sum(self.prior_prob[m] * below_prior[m] for m in MODELS)

        def bf(post, prior):
            if prior in (0.0, 1.0) or post in (0.0, 1.0):
                return np.inf if post == 1.0 else 0.0 if post == 0.0 else np.nan
            return (post / (1 - post)) / (prior / (1 - prior))

        return {"margin": margin, "prior_p_ni_conditional": prior_c, "post_p_ni_conditional": post_c,
                "bf_ni_conditional": bf(post_c, prior_c), "prior_p_ni_averaged": prior_a,
                "post_p_ni_averaged": post_a, "bf_ni_averaged": bf(post_a, prior_a)}

    def summary(self) -> pd.DataFrame:
        """One row per model: prior probability, log marginal likelihood, posterior probability,
        BF against the best model."""
        best = max(self.log_ml.values())
        return pd.DataFrame([{"model": m, "effect": m.endswith("1"), "random": m.startswith("RE"),
                              "prior_prob": self.prior_prob[m], "log_ml": self.log_ml[m],
                              "post_prob": self.post_prob[m], "bf_vs_best": float(np.exp(self.log_ml[m] - best))}
                             for m in MODELS])

    def __str__(self) -> str:
        lines = ["Bayesian model-averaged meta-analysis (exact marginal likelihoods)",
                 f"  effect prior (H1): {self.mu_prior}; heterogeneity prior (random effects): {self.tau_prior}",
                 f"  BF10 (effect) = {self.bf_effect:.4g}; BF_rf (heterogeneity) = {self.bf_heterogeneity:.4g}"]
        for _, r in self.summary().iterrows():
            lines.append(f"  {r['model']}: prior {r['prior_prob']:.3f}, log ML {r['log_ml']:.4f}, "
                         f"posterior {r['post_prob']:.4f}")
        return "\n".join(lines)


def posterior_model_probs(log_ml, prior_prob=None) -> dict[str, float]:
    """Posterior probabilities of FE0, FE1, RE0, RE1 from their log marginal likelihoods."""
    pp = dict(prior_prob or dict.fromkeys(MODELS, 0.25))
    lm = np.array([log_ml[m] for m in MODELS])
    with np.errstate(divide="ignore"):
        lpost = lm + np.log(np.array([pp[m] for m in MODELS]))
    post = np.exp(lpost - special.logsumexp(lpost))
    return dict(zip(MODELS, map(float, post)))


def inclusion_bf(log_ml, included, prior_prob=None) -> float:
    """Inclusion Bayes factor of the models in ``included`` against the rest: posterior inclusion
    odds over prior inclusion odds."""
    pp = dict(prior_prob or dict.fromkeys(MODELS, 0.25))
    lm = np.array([log_ml[m] for m in MODELS])
    with np.errstate(divide="ignore"):
        lp = np.log(np.array([pp[m] for m in MODELS]))
    inc = np.array([m in included for m in MODELS])
    post_in = special.logsumexp(lm[inc] + lp[inc]) - special.logsumexp(lm[~inc] + lp[~inc])
    prior_in = special.logsumexp(lp[inc]) - special.logsumexp(lp[~inc])
    return float(np.exp(post_in - prior_in))


def _inclusion_bf(res: ModelAveraged, included) -> float:
    return inclusion_bf(res.log_ml, included, res.prior_prob)


def _tau_scale(yi, sei) -> float:
    return max(float(np.std(yi)), float(np.median(sei)))


def average(yi, sei, mu_prior: Prior, tau_prior: Prior, prior_prob=None,
            n_lambda: int | None = None) -> ModelAveraged:
    """Exact marginal likelihoods of FE0, FE1, RE0, RE1 and their posterior probabilities.

    Parameters
    ----------
    yi, sei : array_like
        Study estimates and standard errors (analysis scale).
    mu_prior : Prior
        Proper prior on mu under the effect models (normal or Student-t).
    tau_prior : Prior
        Proper prior on tau under the random-effects models.
    prior_prob : mapping, optional
        Prior model probabilities (default: 1/4 each, as RoBMA).
    n_lambda : int, optional
        Ignored (the Gauss-Legendre node count of the previous implementation, kept for
        compatibility): a Student-t prior's nodes are placed by :mod:`bayesmeta.bayes.scale_mixture`.
    """
    yi = np.asarray(yi, dtype=float)
    sei = np.asarray(sei, dtype=float)
    if yi.ndim != 1 or yi.shape != sei.shape or yi.size < 1 or np.any(~(sei > 0)):
        raise ValueError("yi and sei must be 1-D of equal length with positive sei")
    if mu_prior.target != "mu" or tau_prior.target != "tau":
        raise ValueError("pass a mu prior and a tau prior")
    vi = sei**2
    pp = dict(prior_prob or dict.fromkeys(MODELS, 0.25))
    if set(pp) != set(MODELS) or any(v < 0 for v in pp.values()) or not np.isclose(sum(pp.values()), 1.0):
        raise ValueError(f"prior_prob must give a probability to each of {MODELS}, summing to 1")
    scale = _tau_scale(yi, sei)
    lml = {
        "FE0": float(loglik_mu0(yi, vi, np.array(0.0))),
        "FE1": float(loglik_mu_integrated(yi, vi, np.array(0.0), mu_prior)),
        "RE0": log_evidence_tau(lambda t: loglik_mu0(yi, vi, t), tau_prior, scale),
        "RE1": log_evidence_tau(lambda t: loglik_mu_integrated(yi, vi, t, mu_prior), tau_prior, scale),
    }
    return ModelAveraged(yi=yi, sei=sei, mu_prior=mu_prior, tau_prior=tau_prior,
                         log_ml=MappingProxyType(lml), prior_prob=MappingProxyType(pp),
                         post_prob=MappingProxyType(posterior_model_probs(lml, pp)))


__all__ = ["MODELS", "ModelAveraged", "average", "inclusion_bf", "log_evidence_tau", "loglik_mu0", "tau_nodes",
           "loglik_mu_integrated", "posterior_model_probs"]
