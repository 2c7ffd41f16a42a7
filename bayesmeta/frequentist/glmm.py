r"""Binomial generalised linear mixed models for 2x2 tables (log odds ratio), as metafor's ``rma.glmm``.

Notation per study :math:`i`: :math:`a_i` events of :math:`n_{1i}` in arm 1, :math:`c_i` of
:math:`n_{2i}` in arm 2, :math:`m_i = a_i + c_i`; :math:`z_i \sim N(0, 1)` (and :math:`z_{2i}`)
are standardised random effects, :math:`\mu` the pooled log OR, :math:`\tau^2` its between-study
variance. The four models of Jackson et al. (2018, doi:10.1002/sim.7588) as metafor fits them
(Viechtbauer 2010, doi:10.18637/jss.v036.i03; Stijnen, Hamza & Ozdemir 2010,
doi:10.1002/sim.4040):

``"UM.FS"`` (unconditional, fixed study effects :math:`\alpha_i`)
    :math:`\mathrm{logit}\,p_{i1} = \alpha_i + \mu + \tau z_i/2`,
    :math:`\mathrm{logit}\,p_{i2} = \alpha_i - \tau z_i/2`, binomial arms.
``"UM.RS"`` (unconditional, random study effects; uncorrelated as metafor's ``cor=FALSE``)
    :math:`\mathrm{logit}\,p_{i1} = \beta_0 + \sigma z_{1i} + \mu + \tau z_{2i}/2`,
    :math:`\mathrm{logit}\,p_{i2} = \beta_0 + \sigma z_{1i} - \tau z_{2i}/2`.
``"CM.EL"`` (conditional on :math:`m_i`, exact likelihood)
    :math:`a_i \mid m_i \sim` Fisher's noncentral hypergeometric with odds ratio
    :math:`e^{\theta_i}`, :math:`\theta_i = \mu + \tau z_i`:
    :math:`P(a) = \binom{n_1}{a}\binom{n_2}{m-a}e^{a\theta}\big/
    \sum_x\binom{n_1}{x}\binom{n_2}{m-x}e^{x\theta}`.
``"CM.AL"`` (conditional, approximate likelihood)
    :math:`a_i \mid m_i \sim \mathrm{Bin}(m_i, p_i)`,
    :math:`\mathrm{logit}\,p_i = \log(n_{1i}/n_{2i}) + \mu + \tau z_i`.

The marginal likelihood :math:`\prod_i \int L_i(z) \phi(z)\,dz` is computed per study by adaptive
Gauss-Hermite quadrature (Pinheiro & Bates 1995, doi:10.1080/10618600.1995.10474663): with the mode
:math:`\hat z_i` of :math:`h_i(z) = \log L_i(z) - z^2/2` and :math:`s_i = (-h_i''(\hat z_i))^{-1/2}`,

.. math:: \int L_i(z)\phi(z)\,dz \approx \frac{s_i}{\sqrt{2\pi}} \sum_{q} W_q\,
          e^{h_i(\hat z_i + s_i t_q) + t_q^2/2}

with the probabilists' Gauss-Hermite nodes :math:`t_q` and weights :math:`W_q`. One node is the
Laplace approximation. metafor (through lme4's ``glmer``) uses ``nAGQ = 7`` for UM.FS and CM.AL and
the Laplace approximation for UM.RS (two random effects per study; with ``method="EE"`` the
study intercept is the only random effect and 7 nodes are used); CM.EL integrates numerically
(R's ``integrate``), done here with 40 adaptive nodes, which is exact to rounding for this
log-concave integrand. The parameters maximise the approximated likelihood (damped Newton); the
SE of :math:`\hat\mu` is from the inverse of the numerical Hessian of the negative
log-likelihood over all parameters (as lme4's ``vcov`` and metafor's CM.EL). Derivatives are central differences on the per-study log-likelihoods, so the
k study effects of UM.FS cost one perturbation, not k. ``method="EE"`` fixes :math:`\tau = 0`.

Heterogeneity: the likelihood-ratio test ``QE_LRT`` compares the common-effect model with the
saturated model (a study-specific log OR), :math:`2(\ell_{sat} - \ell_{EE})` on :math:`k - 1` df, as
metafor's ``QE.LRT`` (for UM.RS the saturated model keeps the random study intercept). The
Wald-type test ``QE_Wld`` (metafor's ``QE.Wld``) tests the k - 1 study-by-group interactions of
the saturated fixed-effects model; its study log ORs are estimated independently, so it is the
inverse-variance Q of the study-specific maximum-likelihood log ORs: UM.FS the unconditional
:math:`\log(a d/(b c))` with variance :math:`1/a + 1/b + 1/c + 1/d`, CM.AL
:math:`\log(a/c) - \log(n_1/n_2)` with :math:`1/a + 1/c`, CM.EL the conditional MLE with the
inverse conditional variance (studies with a zero cell have an infinite estimate and, in the glm,
an infinite variance: they carry no weight). Measured against metafor 3.8-1: UM.FS and CM.AL to
4e-8 (R's glm convergence); CM.EL 8e-4 on dat.nielweise2007, and 163.09 against metafor's 268.6 on
dat.bcg, where metafor takes the variances from numDeriv's Hessian of its integrate()d saturated
likelihood. UM.RS: the Wald test of equal study log odds ratios in the saturated model (study-specific
log ORs, random study intercepts; the covariance from the numerical Hessian of its quadrature
likelihood; studies whose log OR is at the boundary carry no information and are left out, as
metafor drops the zero columns of its Hessian): 12.909 (EE) and 12.916 (ML) against metafor 3.8-1's
12.962 and 12.920 on dat.nielweise2007 (tests/test_metafor_testthat_umrs.py).

Studies with no events in either arm (or only events) are dropped (metafor's ``drop00=TRUE``).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from bayesmeta.effects.escalc import double_zero
from bayesmeta.frequentist._display import Displayed
from bayesmeta.frequentist.rma import DroppedStudiesWarning

__all__ = ["MODELS", "GLMMResult", "nchg_logpmf", "rma_glmm"]

MODELS = ("UM.FS", "UM.RS", "CM.EL", "CM.AL")
_DEFAULT_NAGQ = {"UM.FS": 7, "UM.RS": 1, "CM.EL": 40, "CM.AL": 7}


def _logbin(n, x):
    return special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)


def _binom_ll(x, n, eta):
    """Binomial log-likelihood (without the binomial coefficient) and its first two eta-derivatives."""
    p = special.expit(eta)
    ll = x * eta - n * np.logaddexp(0.0, eta)
    return ll, x - n * p, -n * p * (1 - p)


def nchg_logpmf(a, n1, n2, m, theta):
    r"""Log pmf of Fisher's noncentral hypergeometric distribution and its theta-derivatives.

    :math:`P(a) = \binom{n_1}{a}\binom{n_2}{m-a}e^{a\theta}/\sum_x \binom{n_1}{x}\binom{n_2}{m-x}e^{x\theta}`
    (Fisher 1935; Breslow & Day 1980). Vectorised: ``a, n1, n2, m`` of shape (k,), ``theta`` of
    shape (k,) or (k, q).

    Returns
    -------
    logp, d1, d2 : ndarray
        The log pmf, :math:`a - E[X]` and :math:`-\mathrm{Var}[X]` (shape of ``theta``).
    """
    a, n1, n2, m = (np.asarray(v, float) for v in (a, n1, n2, m))
    theta = np.asarray(theta, float)
    lo, hi = np.maximum(0, m - n2), np.minimum(n1, m)
    width = int(np.max(hi - lo)) + 1
    x = lo[:, None] + np.arange(width)[None, :]  # (k, w)
    valid = x <= hi[:, None]
    lw = np.where(
        valid, _logbin(n1[:, None], x) + _logbin(n2[:, None], m[:, None] - np.where(valid, x, 0)), -np.inf
    )
    th = theta if theta.ndim == 2 else theta[:, None]  # (k, q)
    e = lw[:, None, :] + th[:, :, None] * x[:, None, :]  # (k, q, w)
    lse = special.logsumexp(e, axis=-1)
    w = np.exp(e - lse[..., None])
    mean = np.sum(w * x[:, None, :], axis=-1)
    var = np.sum(w * x[:, None, :] ** 2, axis=-1) - mean**2
    logp = (_logbin(n1, a) + _logbin(n2, m - a))[:, None] + th * a[:, None] - lse
    d1, d2 = a[:, None] - mean, -var
    if theta.ndim == 1:
        return logp[:, 0], d1[:, 0], d2[:, 0]
    return logp, d1, d2


# ----------------------------------------------------------------------------- conditional likelihoods


def _terms(model, par, data, z):
    """log L_i(z) and its first two z-derivatives for scalar random effects; z of shape (k,) or (k, q)."""
    a, n1, c, n2 = data
    k = a.size
    zz = z if z.ndim == 2 else z[:, None]
    if model == "UM.FS":
        alpha, mu, tau = par[:k, None], par[k], par[k + 1]
        l1, g1, h1 = _binom_ll(a[:, None], n1[:, None], alpha + mu + tau * zz / 2)
        l2, g2, h2 = _binom_ll(c[:, None], n2[:, None], alpha - tau * zz / 2)
        out = (l1 + l2, tau / 2 * (g1 - g2), tau**2 / 4 * (h1 + h2))
    elif model == "UM.RS0":  # UM.RS with tau = 0: one random effect, the study intercept
        b0, mu, sig = par[0], par[1], par[2]
        l1, g1, h1 = _binom_ll(a[:, None], n1[:, None], b0 + sig * zz + mu)
        l2, g2, h2 = _binom_ll(c[:, None], n2[:, None], b0 + sig * zz)
        out = (l1 + l2, sig * (g1 + g2), sig**2 * (h1 + h2))
    elif model == "UM.RS_sat":  # saturated UM.RS: study-specific log ORs, random intercept
        d, b0, sig = par[:k, None], par[k], par[k + 1]
        l1, g1, h1 = _binom_ll(a[:, None], n1[:, None], b0 + sig * zz + d)
        l2, g2, h2 = _binom_ll(c[:, None], n2[:, None], b0 + sig * zz)
        out = (l1 + l2, sig * (g1 + g2), sig**2 * (h1 + h2))
    elif model == "CM.AL":
        mu, tau = par[0], par[1]
        eta = np.log(n1 / n2)[:, None] + mu + tau * zz
        ll, g, h = _binom_ll(a[:, None], (a + c)[:, None], eta)
        out = (ll, tau * g, tau**2 * h)
    elif model == "CM.EL":
        mu, tau = par[0], par[1]
        ll, g, h = nchg_logpmf(a, n1, n2, a + c, mu + tau * zz)
        out = (ll, tau * g, tau**2 * h)
    else:
        raise ValueError(model)
    return tuple(o if z.ndim == 2 else o[:, 0] for o in out)


@functools.lru_cache(maxsize=16)
def _gh(n):
    t, W = np.polynomial.hermite_e.hermegauss(n)
    return t, np.log(W)


def _agq_1d(model, par, data, nagq):
    """Per-study log marginal likelihood by adaptive Gauss-Hermite quadrature (scalar random effect)."""
    k = data[0].size
    z = np.zeros(k)
    ll, g, h = _terms(model, par, data, z)
    obj = ll - z**2 / 2
    for _ in range(200):  # Newton on h(z) = l(z) - z^2/2 (concave), step halving
        step = (g - z) / (1.0 - h)
        for _ in range(60):
            zn = z + step
            lln, gn, hn = _terms(model, par, data, zn)
            objn = lln - zn**2 / 2
            bad = objn < obj - 1e-12 * np.abs(obj)
            if not bad.any():
                break
            step = np.where(bad, step / 2, step)
        z, ll, g, h, obj = zn, lln, gn, hn, objn
        if np.max(np.abs(step)) < 1e-12:
            break
    s = 1.0 / np.sqrt(1.0 - h)
    t, logW = _gh(nagq)
    zq = z[:, None] + s[:, None] * t[None, :]
    ll, _, _ = _terms(model, par, data, zq)
    e = logW + ll - zq**2 / 2 + t**2 / 2
    mx = e.max(axis=1)
    return np.log(s) - 0.5 * np.log(2 * np.pi) + mx + np.log(np.sum(np.exp(e - mx[:, None]), axis=1))


def _laplace_rs(par, data):
    """UM.RS: per-study Laplace approximation with two random effects (intercept, log OR)."""
    a, n1, c, n2 = data
    b0, mu, sig, tau = par
    k = a.size
    z = np.zeros((k, 2))

    def h_of(z):
        l1, g1, w1 = _binom_ll(a, n1, b0 + sig * z[:, 0] + mu + tau * z[:, 1] / 2)
        l2, g2, w2 = _binom_ll(c, n2, b0 + sig * z[:, 0] - tau * z[:, 1] / 2)
        return l1 + l2 - 0.5 * np.sum(z**2, axis=1), g1, g2, w1, w2

    obj, g1, g2, w1, w2 = h_of(z)
    for _ in range(200):  # Newton with step halving on the concave h(z)
        gz = np.stack([sig * (g1 + g2) - z[:, 0], tau / 2 * (g1 - g2) - z[:, 1]], axis=1)
        A = 1 - sig**2 * (w1 + w2)  # -(Hessian of h), entries (w are negative)
        B = -sig * tau / 2 * (w1 - w2)
        C = 1 - tau**2 / 4 * (w1 + w2)
        det = A * C - B**2
        step = np.stack([(C * gz[:, 0] - B * gz[:, 1]) / det, (A * gz[:, 1] - B * gz[:, 0]) / det], axis=1)
        for _ in range(60):
            zn = z + step
            objn, g1n, g2n, w1n, w2n = h_of(zn)
            bad = objn < obj - 1e-12 * np.abs(obj)
            if not bad.any():
                break
            step = np.where(bad[:, None], step / 2, step)
        z, obj, g1, g2, w1, w2 = zn, objn, g1n, g2n, w1n, w2n
        if np.max(np.abs(step)) < 1e-12:
            break
    l1, _, w1 = _binom_ll(a, n1, b0 + sig * z[:, 0] + mu + tau * z[:, 1] / 2)
    l2, _, w2 = _binom_ll(c, n2, b0 + sig * z[:, 0] - tau * z[:, 1] / 2)
    A = 1 - sig**2 * (w1 + w2)
    B = -sig * tau / 2 * (w1 - w2)
    C = 1 - tau**2 / 4 * (w1 + w2)
    return l1 + l2 - 0.5 * np.sum(z**2, axis=1) - 0.5 * np.log(A * C - B**2)


def _const(model, data):
    """The binomial coefficients left out of the kernels (so log-likelihoods match metafor's)."""
    a, n1, c, n2 = data
    if model in ("UM.FS", "UM.RS"):
        return float(np.sum(_logbin(n1, a) + _logbin(n2, c)))
    if model == "CM.AL":
        return float(np.sum(_logbin(a + c, a)))
    return 0.0


# ----------------------------------------------------------------------------- result


@dataclass(frozen=True, repr=False)
class GLMMResult(Displayed):
    r"""A binomial GLMM fit (log odds ratio), immutable.

    Attributes
    ----------
    model, method : str
        metafor's model code and ``"ML"`` or ``"EE"``.
    k : int
        Studies used (double zeros dropped); ``k_all`` studies supplied.
    mu, se, zval, pval, ci_lb, ci_ub : float
        Pooled log OR, its SE (inverse numerical Hessian), Wald test and CI.
    tau2 : float
        Between-study variance of the log OR (0 for EE).
    sigma2 : float
        Variance of the random study intercepts (UM.RS only; NaN otherwise).
    loglik : float
        Maximised (approximate) log-likelihood.
    QE_LRT, QE_df, QE_p : float
        Likelihood-ratio test for heterogeneity (saturated vs common-effect model).
    QE_Wld, QE_Wld_p : float
        Wald-type test for heterogeneity on ``QE_df`` df; see the module docstring.
    nagq : int
        Quadrature nodes per study (1 = Laplace).
    params : dict
        All estimated parameters (e.g. the study effects of UM.FS).
    """

    model: str
    method: str
    k: int
    k_all: int
    mu: float
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    tau2: float
    sigma2: float
    loglik: float
    QE_LRT: float
    QE_df: int
    QE_p: float
    nagq: int
    level: float
    params: dict
    QE_Wld: float = float("nan")
    QE_Wld_p: float = float("nan")
    I2: float = float("nan")
    H2: float = float("nan")

    @property
    def beta(self) -> np.ndarray:
        """``[mu]`` (metafor's ``coef(res)``)."""
        return np.array([self.mu])

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    def summary(self) -> pd.DataFrame:
        """One-row table on the log scale plus ``exp_*`` (odds ratio) columns."""
        pct = f"{100 * self.level:g}".replace(".", "_")
        return pd.DataFrame(
            [
                {
                    "model": self.model,
                    "method": self.method,
                    "k": self.k,
                    "estimate": self.mu,
                    "se": self.se,
                    "zval": self.zval,
                    "pval": self.pval,
                    f"ci{pct}_lb": self.ci_lb,
                    f"ci{pct}_ub": self.ci_ub,
                    "exp_estimate": np.exp(self.mu),
                    f"exp_ci{pct}_lb": np.exp(self.ci_lb),
                    f"exp_ci{pct}_ub": np.exp(self.ci_ub),
                    "tau2": self.tau2,
                    "sigma2": self.sigma2,
                    "loglik": self.loglik,
                    "QE_LRT": self.QE_LRT,
                    "QE_df": self.QE_df,
                    "QE_p": self.QE_p,
                    "QE_Wld": self.QE_Wld,
                    "QE_Wld_p": self.QE_Wld_p,
                    "nagq": self.nagq,
                }
            ]
        )

    def __str__(self) -> str:
        pct = f"{100 * self.level:g}"
        quad = (
            "Laplace approximation"
            if self.nagq == 1
            else f"adaptive Gauss-Hermite quadrature, {self.nagq} nodes"
        )
        return "\n".join(
            [
                (
                    f"Binomial GLMM {self.model} ({'random' if self.method == 'ML' else 'common'} effect, "
                    f"log odds ratio; k = {self.k} of {self.k_all}; {quad})"
                ),
                (
                    f"  tau^2 = {self.tau2:.4f}"
                    + (f", I^2 = {self.I2:.2f}%, H^2 = {self.H2:.2f} (against the typical within-study variance)"
                       if self.method == "ML" and np.isfinite(self.I2) else "")
                    + (
                        f", sigma^2 (study intercepts) = {self.sigma2:.4f}"
                        if np.isfinite(self.sigma2)
                        else ""
                    )
                ),
                (
                    f"  log OR = {self.mu:.4f}, SE = {self.se:.4f}, z = {self.zval:.4f}, "
                    f"p = {self.pval:.4g}, {pct}% CI [{self.ci_lb:.4f}, {self.ci_ub:.4f}]; "
                    f"OR = {np.exp(self.mu):.4f} [{np.exp(self.ci_lb):.4f}, {np.exp(self.ci_ub):.4f}]"
                ),
                (
                    f"  Heterogeneity (likelihood ratio): QE = {self.QE_LRT:.4f} on {self.QE_df} df, "
                    f"p = {self.QE_p:.4g}"
                    + (f"; Wald-type: QE = {self.QE_Wld:.4f}, p = {self.QE_Wld_p:.4g}"
                       if np.isfinite(self.QE_Wld) else "")
                ),
            ]
        )


def _wald_heterogeneity(model, a, n1, c, n2) -> float:
    """Wald-type heterogeneity statistic (see the module docstring)."""
    b, d = n1 - a, n2 - c
    with np.errstate(divide="ignore", invalid="ignore"):
        if model == "UM.FS":
            th, v = np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d
        elif model == "CM.AL":
            th, v = np.log(a / c) - np.log(n1 / n2), 1 / a + 1 / c
        elif model == "CM.EL":
            m = a + c
            inner = (a > np.maximum(0, m - n2)) & (a < np.minimum(n1, m))
            th = np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)))
            for _ in range(200):
                _, d1, d2 = nchg_logpmf(a, n1, n2, m, th)
                step = np.where(inner, np.clip(-d1 / d2, -2.0, 2.0), 0.0)
                th = th + step
                if np.all(np.abs(step) < 1e-13):
                    break
            _, _, d2 = nchg_logpmf(a, n1, n2, m, th)
            th, v = np.where(inner, th, np.nan), -1.0 / d2
        else:
            return float("nan")
    ok = np.isfinite(th) & np.isfinite(v) & (v > 0)
    if ok.sum() < 2:
        return float("nan")
    w, th = 1.0 / v[ok], th[ok]
    return float(np.sum(w * (th - np.sum(w * th) / np.sum(w)) ** 2))


# ----------------------------------------------------------------------------- fitting


def _blocks(model, k, random):
    """Parameter layout: a list of index arrays; a block of length k holds one parameter per study."""
    if model == "UM.FS":
        b = [np.arange(k), np.array([k])]
    elif model == "UM.RS":
        b = [np.array([0]), np.array([1]), np.array([2])]
    else:
        b = [np.array([0])]
    if random:
        b.append(np.array([b[-1][-1] + 1]))
    return b


def _derivs(fvec, x, blocks, h=1e-4):
    r"""Gradient and Hessian of :math:`\sum_i f_i(x)` by central differences on the per-study vector.

    A block with one parameter per study (UM.FS's :math:`\alpha_i`) is perturbed as a whole: study
    :math:`i` depends only on its own :math:`\alpha_i`, so one perturbation gives every
    :math:`\partial f_i/\partial\alpha_i` (the Hessian is an arrow matrix).
    """
    n = x.size
    e = np.zeros(n)
    dirs = []
    for b in blocks:
        d = np.zeros(n)
        d[b] = h * np.maximum(1.0, np.abs(x[b]))
        dirs.append(d)
    f0 = fvec(x)
    g = np.zeros(n)
    H = np.zeros((n, n))
    steps = [d[d != 0] for d in dirs]
    fp = [fvec(x + d) for d in dirs]
    fm = [fvec(x - d) for d in dirs]
    for bi, b in enumerate(blocks):
        step = steps[bi]
        gi = (fp[bi] - fm[bi]) / (2 * (step if b.size > 1 else step[0]))
        g[b] = gi if b.size > 1 else gi.sum()
        for bj in range(bi, len(blocks)):
            cb = blocks[bj]
            if bj == bi:
                hii = (fp[bi] - 2 * f0 + fm[bi]) / ((step if b.size > 1 else step[0]) ** 2)
                if b.size > 1:
                    H[b, b] = hii
                else:
                    H[b[0], b[0]] = hii.sum()
                continue
            dj = dirs[bj]
            sj = steps[bj] if cb.size > 1 else steps[bj][0]
            si = step if b.size > 1 else step[0]
            hij = (
                fvec(x + dirs[bi] + dj)
                - fvec(x + dirs[bi] - dj)
                - fvec(x - dirs[bi] + dj)
                + fvec(x - dirs[bi] - dj)
            ) / (4 * si * sj)
            if b.size > 1 and cb.size > 1:
                raise ValueError("two per-study blocks")
            if b.size > 1:
                H[b, cb[0]] = H[cb[0], b] = hij
            elif cb.size > 1:
                H[cb, b[0]] = H[b[0], cb] = hij
            else:
                H[b[0], cb[0]] = H[cb[0], b[0]] = hij.sum()
    del e
    return g, H


def _maximise(fvec, x0, blocks):
    """Damped Newton ascent of sum(fvec) on structured central-difference derivatives."""
    x = x0.astype(float).copy()
    f = float(np.sum(fvec(x)))
    lam = 1e-3
    for _ in range(500):
        g, H = _derivs(fvec, x, blocks)
        A = -H
        while True:
            try:
                step = np.linalg.solve(A + lam * np.diag(np.maximum(np.abs(np.diag(A)), 1e-8)), g)
            except np.linalg.LinAlgError:
                step = None
            if step is not None and np.all(np.isfinite(step)):
                fn = float(np.sum(fvec(x + step)))
                if fn >= f - 1e-12 * max(1.0, abs(f)):
                    break
            lam *= 10
            if lam > 1e12:
                return x
        x, f_old, f = x + step, f, fn
        lam = max(lam / 10, 1e-12)
        if np.max(np.abs(step)) < 1e-10 or (abs(f - f_old) < 1e-15 * max(1.0, abs(f)) and lam < 1e-6):
            break
    return x


def _fit(model, data, method, nagq):
    a, n1, c, n2 = data
    k = a.size
    random = method == "ML"
    if model == "UM.RS" and random:

        def fvec(x):
            return _laplace_rs(np.array([x[0], x[1], x[2], x[3]]), data)

        p0 = np.log((a.sum() + c.sum()) / (n1.sum() + n2.sum() - a.sum() - c.sum()))
        x0 = np.array([p0, 0.0, 0.5, 0.3])
    elif model == "UM.RS":

        def fvec(x):
            return _agq_1d("UM.RS0", x, data, nagq)

        p0 = np.log((a.sum() + c.sum()) / (n1.sum() + n2.sum() - a.sum() - c.sum()))
        x0 = np.array([p0, 0.0, 0.5])
    else:
        nfix = k + 1 if model == "UM.FS" else 1

        def fvec(x):
            return _agq_1d(model, np.append(x[:nfix], x[nfix] if random else 0.0), data, nagq)

        if model == "UM.FS":
            pa = (a + c + 0.5) / (n1 + n2 - a - c + 0.5)
            x0 = np.append(np.log(pa), 0.0)
        else:
            x0 = np.array([0.0])
        if random:
            x0 = np.append(x0, 0.3)
    blocks = _blocks(model, k, random)
    x = _maximise(fvec, x0, blocks)
    if random:
        x[-1] = abs(x[-1])
    idx_mu = {"UM.FS": k, "UM.RS": 1}.get(model, 0)
    # SE from the inverse Hessian over all parameters; at tau = 0 the likelihood is flat in tau
    # (metafor's CM.EL then leaves tau out, as done here)
    if random and x[-1] < 1e-5:
        blocks = blocks[:-1]
    _, H = _derivs(fvec, x, blocks)
    free = np.concatenate(blocks)
    cov = np.linalg.inv(-H[np.ix_(free, free)])
    j = int(np.flatnonzero(free == idx_mu)[0])
    return x, float(np.sqrt(cov[j, j])), float(np.sum(fvec(x))) + _const(model, data), idx_mu


_SAT_RS: dict = {}  # the Wald statistic of the last UM.RS saturated fit (read right after the fit)


def _saturated_ll(model, data, nagq=7):
    a, n1, c, n2 = data
    if model == "UM.RS":
        k = a.size

        def fvec(x):
            return _agq_1d("UM.RS_sat", x, data, nagq)

        with np.errstate(divide="ignore"):
            d0 = np.log((a + 0.5) / (n1 - a + 0.5)) - np.log((c + 0.5) / (n2 - c + 0.5))
        p0 = np.log((c.sum() + 0.5) / (n2.sum() - c.sum() + 0.5))
        blocks = [np.arange(k), np.array([k]), np.array([k + 1])]
        x = _maximise(fvec, np.concatenate([d0, [p0, 0.5]]), blocks)
        _SAT_RS.clear()
        try:  # the Wald-type heterogeneity test needs the covariance of the study log ORs
            _, H = _derivs(fvec, x, blocks)
            # as metafor: study log ORs at the boundary (no information: a zero column of the Hessian,
            # a study without events in one arm) are left out of the test
            keep = np.concatenate([np.isfinite(np.diag(H)[:k]) & (np.abs(np.diag(H)[:k]) > 1e-6), [True, True]])
            Hk = np.nan_to_num(H[np.ix_(keep, keep)])
            kk = int(keep[:k].sum())
            cov = np.linalg.inv(-Hk)[:kk, :kk]
            C = np.eye(kk)[:-1] - np.eye(kk)[-1]  # contrasts d_i - d_k: all study log ORs equal
            dc = C @ x[:k][keep[:k]]
            _SAT_RS["QE_Wld"] = float(dc @ np.linalg.solve(C @ cov @ C.T, dc))
        except np.linalg.LinAlgError:
            _SAT_RS["QE_Wld"] = float("nan")
        return float(np.sum(fvec(x))) + _const(model, data)
    if model == "UM.FS":
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = (
                special.xlogy(a, a / n1)
                + special.xlogy(n1 - a, 1 - a / n1)
                + special.xlogy(c, c / n2)
                + special.xlogy(n2 - c, 1 - c / n2)
            )
        return float(np.sum(ll)) + _const(model, data)
    if model == "CM.AL":
        m = a + c
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = special.xlogy(a, a / m) + special.xlogy(c, c / m)
        return float(np.sum(ll)) + _const(model, data)
    if model == "CM.EL":
        m = a + c
        lo, hi = np.maximum(0, m - n2), np.minimum(n1, m)
        inner = (a > lo) & (a < hi)
        total = 0.0
        for i in np.flatnonzero(inner):  # study-wise conditional MLE (boundary studies: likelihood 1)

            def f(t, i=i):
                return -float(nchg_logpmf(a[[i]], n1[[i]], n2[[i]], m[[i]], np.array([t]))[0][0])

            total -= optimize.minimize_scalar(f, bracket=(-1.0, 1.0), tol=1e-12).fun
        return total
    return float("nan")


def rma_glmm(
    ai,
    n1i,
    ci,
    n2i,
    model: str = "UM.FS",
    method: str = "ML",
    level: float = 0.95,
    nagq: int | None = None,
    drop00: bool = True,
) -> GLMMResult:
    """Fit a binomial GLMM to 2x2 tables (log odds ratio), as metafor's ``rma.glmm(measure="OR")``.

    Parameters
    ----------
    ai, n1i, ci, n2i : array_like
        Events and group sizes, arm 1 (experimental) and arm 2 (control).
    model : {"UM.FS", "UM.RS", "CM.EL", "CM.AL"}
        See the module docstring.
    method : {"ML", "EE"}
        Random effects (tau^2 estimated by maximum likelihood) or common effect (tau^2 = 0).
    level : float
    nagq : int, optional
        Quadrature nodes per study; default as metafor: 7 (UM.FS, CM.AL), Laplace (UM.RS, where
        only 1 is supported), 40 for the exact CM.EL likelihood.
    drop00 : bool
        Drop studies with no events (or only events) in both arms (metafor's default).

    Returns
    -------
    GLMMResult

    Examples
    --------
    >>> a, n1, c, n2 = [2, 5, 1, 0], [50, 60, 40, 45], [6, 9, 4, 3], [50, 61, 42, 44]
    >>> r = rma_glmm(a, n1, c, n2, model="CM.AL", method="EE")
    >>> r.k, round(r.mu, 4)  # metafor rma.glmm(model="CM.AL", method="EE"): -0.9980938
    (4, -0.9981)
    """
    model = model.upper()
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}")
    method = {"FE": "EE"}.get(method.upper(), method.upper())
    if method not in ("ML", "EE"):
        raise ValueError("method must be 'ML' or 'EE'")
    a, n1, c, n2 = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (ai, n1i, ci, n2i))
    if not (a.shape == n1.shape == c.shape == n2.shape) or a.ndim != 1:
        raise ValueError("ai, n1i, ci, n2i must be 1-d arrays of the same length")
    if np.any((a < 0) | (c < 0) | (a > n1) | (c > n2) | (n1 <= 0) | (n2 <= 0)):
        raise ValueError("events must lie between 0 and n, and n must be positive")
    k_all = a.size
    if drop00:
        dz = double_zero(a, n1, c, n2)
        if dz.any():
            warnings.warn(
                f"{int(dz.sum())} stud{'y' if dz.sum() == 1 else 'ies'} with no events (or only events) in "
                "both arms left out (as metafor's rma.glmm, drop00=TRUE)",
                DroppedStudiesWarning,
                stacklevel=2,
            )
        a, n1, c, n2 = a[~dz], n1[~dz], c[~dz], n2[~dz]
    k = a.size
    if k < 1 or (method == "ML" and k < 2):
        raise ValueError(f"too few studies (k = {k})")
    if model == "UM.RS" and method == "ML" and nagq not in (None, 1):
        raise ValueError(
            "UM.RS with two random effects is fitted with the Laplace approximation only (nagq=1), "
            "as metafor/lme4"
        )
    nq = (7 if (model == "UM.RS" and method == "EE") else _DEFAULT_NAGQ[model]) if nagq is None else int(nagq)
    data = (a, n1, c, n2)
    x, se, ll, i_mu = _fit(model, data, method, nq)
    mu = float(x[i_mu])
    tau2 = float(x[-1] ** 2) if method == "ML" else 0.0
    sigma2 = float(x[2] ** 2) if model == "UM.RS" else float("nan")
    if method == "EE":
        ll_ee = ll
    else:
        _, _, ll_ee, _ = _fit(model, data, "EE", nq)  # metafor: the same nAGQ (Laplace for UM.RS ML)
    ll_sat = _saturated_ll(model, data, nq)
    qe = 2 * (ll_sat - ll_ee) if np.isfinite(ll_sat) else float("nan")
    qw = _wald_heterogeneity(model, a, n1, c, n2) if model != "UM.RS" else _SAT_RS.get("QE_Wld", float("nan"))
    z = mu / se
    crit = stats.norm.ppf(0.5 + level / 2)
    names = (
        [f"alpha_{i + 1}" for i in range(k)] + ["mu"]
        if model == "UM.FS"
        else ["beta0", "mu", "sigma"]
        if model == "UM.RS"
        else ["mu"]
    ) + (["tau"] if method == "ML" else [])
    return GLMMResult(
        model=model,
        method=method,
        k=k,
        k_all=k_all,
        mu=mu,
        se=se,
        zval=float(z),
        pval=float(2 * stats.norm.sf(abs(z))),
        ci_lb=mu - crit * se,
        ci_ub=mu + crit * se,
        tau2=tau2,
        sigma2=sigma2,
        loglik=float(ll),
        QE_LRT=float(qe),
        QE_df=k - 1,
        QE_p=float(stats.chi2.sf(qe, k - 1)) if np.isfinite(qe) and k > 1 else float("nan"),
        nagq=nq,
        level=level,
        params=dict(zip(names, map(float, x))),
        QE_Wld=qw,
        QE_Wld_p=float(stats.chi2.sf(qw, k - 1)) if np.isfinite(qw) and k > 1 else float("nan"),
        **_i2_h2(a, n1, c, n2, tau2),
    )


def _i2_h2(a, n1, c, n2, tau2) -> dict:
    r"""metafor's I^2 and H^2 of a GLMM: :math:`\hat\tau^2` against the typical within-study variance of
    the studies' log odds ratios (0.5 added to zero-cell tables), as for ``rma``."""
    from bayesmeta.effects.escalc import log_or
    from bayesmeta.frequentist.rma import typical_variance

    if a.size < 2:
        return {"I2": float("nan"), "H2": float("nan")}
    _, vi = log_or(a, n1, c, n2, add=0.5)
    s2 = float(typical_variance(vi))
    return {"I2": 100 * tau2 / (tau2 + s2), "H2": (tau2 + s2) / s2}
