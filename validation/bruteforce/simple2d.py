"""A second, simple brute-force reference: the joint posterior p(mu, log tau | y) of the marginal
model y_i ~ N(mu, s_i^2 + tau^2) on a dense 2-D tensor grid over (mu, x = log tau), integrated
with the trapezoidal rule over x and Simpson's rule over mu (numpy only: no closed forms of the
conditionals, no atoms, no mixtures). Used by the property-based tests on random inputs (about
0.5 s per case). Its own error, measured by refining the grid on the eight-schools data scaled to
SD units, is below 1e-6 posterior SDs for the means and SDs and below 1e-6 for P(mu < 0).
"""
from __future__ import annotations

import numpy as np
from scipy import integrate


def posterior_summaries(yi, sei, tau_logpdf, mu_logpdf, n_mu: int = 2001, n_x: int = 801,
                        mu_scale: float | None = None) -> dict:
    """mu mean and sd, P(mu < 0), tau mean and sd.

    The grid spans log tau from 1e-7 times the smallest SE to 1e8 times the data's range plus the
    largest SE, and mu over its mean +- 12 ``mu_scale`` (default: SD of yi plus the largest SE;
    pass the prior scale of mu when it is wider).
    """
    y = np.asarray(yi, float)
    v = np.asarray(sei, float) ** 2
    spread = float(np.std(y) + np.sqrt(v.max())) if mu_scale is None else float(mu_scale)
    x = np.linspace(np.log(1e-7 * np.sqrt(v.min())), np.log(1e8 * (np.ptp(y) + np.sqrt(v.max()))), n_x)
    tau = np.exp(x)
    lo, hi = y.mean() - 12 * spread, y.mean() + 12 * spread
    dm = (hi - lo) / (n_mu - 1)
    if lo < 0 < hi:  # zero is a node with an even index, so Simpson's rule below 0 has an odd node count
        j = int(np.ceil(-lo / dm))
        lo = -(j + j % 2) * dm
    mu = lo + dm * np.arange(n_mu)
    lmu = np.asarray(mu_logpdf(mu), dtype=float)
    ltau = np.asarray(tau_logpdf(tau), dtype=float) + x
    lp = np.empty((n_x, n_mu))
    for i in range(0, n_x, 50):
        s2 = v[None, None, :] + tau[i:i + 50, None, None] ** 2
        ll = -0.5 * np.sum(np.log(2 * np.pi * s2) + (y - mu[None, :, None]) ** 2 / s2, axis=-1)
        lp[i:i + 50] = ll + lmu[None, :] + ltau[i:i + 50, None]
    d = np.exp(lp - lp.max())
    pmu = integrate.trapezoid(d, x, axis=0)
    z = integrate.simpson(pmu, x=mu)
    pmu /= z
    ptau = integrate.simpson(d, x=mu, axis=1) / z  # density in x
    mmu = integrate.simpson(mu * pmu, x=mu)
    sdmu = np.sqrt(integrate.simpson((mu - mmu) ** 2 * pmu, x=mu))
    j0 = int(np.argmin(np.abs(mu)))
    p0 = integrate.simpson(pmu[: j0 + 1], x=mu[: j0 + 1]) if mu[0] < 0 <= mu[-1] else float(mu[0] >= 0) * 0.0 + float(mu[-1] < 0)
    mt = integrate.trapezoid(tau * ptau, x)
    sdt = np.sqrt(integrate.trapezoid((tau - mt) ** 2 * ptau, x))
    return {"mu_mean": float(mmu), "mu_sd": float(sdmu), "p_mu_below_0": float(p0), "tau_mean": float(mt),
            "tau_sd": float(sdt)}
