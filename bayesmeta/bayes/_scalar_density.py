r"""Compiled scalar log densities of the normal-normal posterior, for the searches of the modes.

The marginal mode of :math:`\tau` and the joint MAP of :math:`(\tau, \mu)` are bounded searches in
:math:`x = \log\tau` (:meth:`bayesmeta.bayes.exact._LogDensity.argmax_tau`): a grid, then Brent's
bounded minimiser on the neighbourhood of its best node, about 25 evaluations of the log density
at one :math:`\tau`. Written with NumPy those cost ~60 microseconds each (array overhead on
one-element arrays), 3 ms of a first ``summary()`` at k = 8. Here the same expressions, in the same
order of operations, are compiled for one :math:`\tau`: the marginal density under a flat or
normal prior on :math:`\mu` (a Student-t prior's scale mixture stays on the NumPy path), the joint
density under all three (under a Student-t prior its best :math:`\mu` per :math:`\tau` is the NumPy
path's 65-point grid and SciPy's ``brentq``, scipy/optimize/Zeros/brentq.c, line for line), and
:func:`bounded_argmin_log_density` is SciPy's ``minimize_scalar(method="bounded")`` (Brent 1973,
ch. 5; scipy.optimize._optimize, ``_minimize_scalar_bounded``) line for line, so the iterates are
the same floating-point numbers wherever NumPy's exp, log and log1p are the C library's (NumPy's
AVX2 build, and ``./dev run``, which pins it, see :data:`bayesmeta.provenance.NUMERIC_PINS`):
tested against the NumPy path.

References
----------
Brent RP (1973). Algorithms for Minimization without Derivatives. Prentice-Hall, ch. 5.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from bayesmeta.bayes._kernels import suffstats1

# tau prior families (bayesmeta.bayes.batch._tau_logprior)
FAMILY_CODES = {"jeffreys": 0, "flat": 1, "halfnormal": 2, "halfcauchy": 3, "halfstudentt": 4, "exponential": 5,
                "uniform": 6, "lognormal_tau2": 7, "logt_tau2": 8, "invgamma": 9}
_LOG2PI = float(np.log(2 * np.pi))


@njit(cache=True, nogil=True)
def _tau_logprior(code, q, tau, S3):
    """log p(tau) at tau >= 0 as :func:`bayesmeta.bayes.batch._tau_logprior` writes it (q: the
    family's parameters and constants, :func:`tau_prior_args`); NaN -> -inf, and the limits at
    tau = 0 of :data:`bayesmeta.bayes.exact._LOGPRIOR_AT_ZERO`."""
    if tau == 0.0:
        if code == 8:
            return np.inf
        if code == 7 or code == 9 or code == 0:
            return -np.inf
    if code == 0:
        lp = math.log(tau) + 0.5 * math.log(S3)
    elif code == 1:
        lp = 0.0
    elif code == 2:
        lp = q[1] - q[2] - 0.5 * (tau / q[0]) ** 2
    elif code == 3:
        lp = q[1] - math.log1p((tau / q[0]) ** 2)
    elif code == 4:
        lp = q[2] - q[3] * math.log1p((tau / q[1]) ** 2 / q[0])
    elif code == 5:
        lp = q[1] - q[0] * tau
    elif code == 6:
        lp = q[1] if tau <= q[0] else -np.inf
    elif code == 7:
        lt = math.log(tau)
        lp = -lt - q[2] - q[3] - 0.5 * ((lt - q[0]) / q[1]) ** 2
    elif code == 8:
        lt = math.log(tau)
        lp = -lt + q[3] - q[4] - q[5] * math.log1p(((lt - q[0]) / q[1]) ** 2 / q[2])
    else:
        lp = q[2] - (q[0] + 1) * math.log(tau) - q[1] / tau
    return -np.inf if lp != lp else lp


def tau_prior_args(prior) -> tuple[int, np.ndarray] | None:
    """(family code, parameters and the constants the NumPy path computes from them, in its own
    expressions) for :func:`_tau_logprior`, or None for a family not written out there."""
    from scipy import special

    from bayesmeta.bayes.batch import _t_const

    f, p = prior.family, prior.params
    if f not in FAMILY_CODES:
        return None
    with np.errstate(divide="ignore"):
        if f == "halfnormal":
            q = [p["scale"], 0.5 * np.log(2 / np.pi), np.log(p["scale"])]
        elif f == "halfcauchy":
            q = [p["scale"], np.log(2 / (np.pi * p["scale"]))]
        elif f == "halfstudentt":
            nu, sc = p["nu"], p["scale"]
            q = [nu, sc, np.log(2.0) + _t_const(nu) - np.log(sc), (nu + 1) / 2]
        elif f == "exponential":
            q = [p["rate"], np.log(p["rate"])]
        elif f == "uniform":
            q = [p["upper"], -np.log(p["upper"])]
        elif f == "lognormal_tau2":
            m, sd = p["mean"] / 2, p["sd"] / 2
            q = [m, sd, np.log(sd), 0.5 * np.log(2 * np.pi)]
        elif f == "logt_tau2":
            nu, loc, sc = p["nu"], p["loc"] / 2, p["scale"] / 2
            q = [loc, sc, nu, _t_const(nu), np.log(sc), (nu + 1) / 2]
        elif f == "invgamma":
            al, be = p["alpha"], p["beta"]
            q = [al, be, al * np.log(be) - special.gammaln(al)]
        else:
            q = [0.0]
    return FAMILY_CODES[f], np.array([float(v) for v in q])


@njit(cache=True, nogil=True)
def log_density(joint, tau, y, v, k, code, q, m):
    """The marginal log density of tau (``joint`` False; mu integrated out,
    :meth:`bayesmeta.bayes.exact._LogDensity.marginal`) or the joint one maximised over mu
    (:meth:`~bayesmeta.bayes.exact._LogDensity.joint_profile`) at one tau, under a flat or normal
    mu prior described by ``m`` (:func:`mu_prior_args`)."""
    S0, S1, S2, S3, SL = suffstats1(tau * tau, y, v, k)  # the engine's sums (bayesmeta.bayes._kernels)
    lpt = _tau_logprior(code, q, tau, S3)
    if not joint:
        # bayesmeta.bayes.batch._conditionals with one component (m: prec0, centred location,
        # const); its log-sum-exp over one component is the value itself
        prec0 = m[0]
        mloc = m[1]
        V = 1.0 / (S0 + prec0)
        mm = V * (S1 + prec0 * mloc)
        quad = S2 + prec0 * mloc ** 2 - mm * mm / V
        ll = 0.5 * SL - 0.5 * quad + 0.5 * math.log(V) - 0.5 * k * _LOG2PI + m[2] + 0.0
        return ll + lpt
    # joint: the best mu given tau (m: kind 0 flat / 1 normal: prec0, centred location, the
    # location and scale of the prior, the centre; kind 2 Student-t, see _best_mu_t)
    if m[0] == 0.0:
        mu_c = S1 / S0
        lpm = 0.0
    elif m[0] == 1.0:
        mu_c = (S1 + m[1] * m[2]) / (S0 + m[1])
        mu = mu_c + m[5]
        lpm = -0.5 * ((mu - m[3]) / m[4]) ** 2 - math.log(m[4]) - 0.5 * _LOG2PI
    else:
        mu_c = _best_mu_t(S0, S1, m)
        lpm = _t_logprior(mu_c, m)
    kf = float(k)
    loglik = 0.5 * SL - 0.5 * kf * _LOG2PI - 0.5 * (S2 - 2 * mu_c * S1 + mu_c * mu_c * S0)
    return lpt + lpm + loglik


@njit(cache=True, nogil=True)
def log_density_nodes(joint, taus, y, v, k, code, q, m):
    """:func:`log_density` at every tau of ``taus`` (the grid of a search)."""
    out = np.empty(taus.size)
    for j in range(taus.size):
        out[j] = log_density(joint, taus[j], y, v, k, code, q, m)
    return out


@njit(cache=True, nogil=True)
def bounded_argmin_log_density(joint, x1, x2, xatol, maxfun, y, v, k, code, q, m):
    """SciPy's ``minimize_scalar(fun, bounds=(x1, x2), method="bounded", options={"xatol": xatol,
    "maxiter": maxfun})`` (``_minimize_scalar_bounded``, Brent's golden-section and parabolic
    steps) line for line, of fun(x) = -:func:`log_density`(exp(x)). Returns (x, fun(x))."""
    sqrt_eps = math.sqrt(2.2e-16)
    golden_mean = 0.5 * (3.0 - math.sqrt(5.0))
    a, b = x1, x2
    fulc = a + golden_mean * (b - a)
    nfc, xf = fulc, fulc
    rat = e = 0.0
    x = xf
    fx = -log_density(joint, math.exp(x), y, v, k, code, q, m)
    num = 1
    fu = np.inf
    ffulc = fnfc = fx
    xm = 0.5 * (a + b)
    tol1 = sqrt_eps * abs(xf) + xatol / 3.0
    tol2 = 2.0 * tol1
    while abs(xf - xm) > (tol2 - 0.5 * (b - a)):
        golden = 1
        if abs(e) > tol1:
            golden = 0
            r = (xf - nfc) * (fx - ffulc)
            q_ = (xf - fulc) * (fx - fnfc)
            p = (xf - fulc) * q_ - (xf - nfc) * r
            q_ = 2.0 * (q_ - r)
            if q_ > 0.0:
                p = -p
            q_ = abs(q_)
            r = e
            e = rat
            if (abs(p) < abs(0.5 * q_ * r)) and (p > q_ * (a - xf)) and (p < q_ * (b - xf)):
                rat = (p + 0.0) / q_
                x = xf + rat
                if ((x - a) < tol2) or ((b - x) < tol2):
                    si = _sign(xm - xf) + (1.0 if (xm - xf) == 0 else 0.0)
                    rat = tol1 * si
            else:
                golden = 1
        if golden:
            if xf >= xm:
                e = a - xf
            else:
                e = b - xf
            rat = golden_mean * e
        si = _sign(rat) + (1.0 if rat == 0 else 0.0)
        ar = abs(rat)
        x = xf + si * (ar if (ar > tol1 or ar != ar) else tol1)  # np.maximum: NaN propagates
        fu = -log_density(joint, math.exp(x), y, v, k, code, q, m)
        num += 1
        if fu <= fx:
            if x >= xf:
                a = xf
            else:
                b = xf
            fulc, ffulc = nfc, fnfc
            nfc, fnfc = xf, fx
            xf, fx = x, fu
        else:
            if x < xf:
                a = x
            else:
                b = x
            if (fu <= fnfc) or (nfc == xf):
                fulc, ffulc = nfc, fnfc
                nfc, fnfc = x, fu
            elif (fu <= ffulc) or (fulc == xf) or (fulc == nfc):
                fulc, ffulc = x, fu
        xm = 0.5 * (a + b)
        tol1 = sqrt_eps * abs(xf) + xatol / 3.0
        tol2 = 2.0 * tol1
        if num >= maxfun:
            break
    return xf, fx


@njit(cache=True, nogil=True)
def _t_logprior(mu_c, m):
    """log p(mu) of the Student-t prior at centred mu (``_LogDensity._logprior_mu``; m as
    :func:`mu_prior_args`: 2, nu, scale^2, centred location, centre, t constant, log scale,
    location, scale)."""
    z = (mu_c + m[4] - m[7]) / m[8]
    return m[5] - m[6] - (m[1] + 1) / 2 * math.log1p(z * z / m[1])


@njit(cache=True, nogil=True)
def _t_score(u, s0, s1, m):
    """d/du of -s0 u^2 / 2 + s1 u + log p(u) under the Student-t prior (``_LogDensity._best_mu``)."""
    return s1 - s0 * u - (m[1] + 1) * (u - m[3]) / (m[1] * m[2] + (u - m[3]) ** 2)


@njit(cache=True, nogil=True)
def _best_mu_t(s0, s1, m):
    """The centred mu maximising the joint density at one tau under a Student-t prior, as
    ``_LogDensity._best_mu`` finds it: 65 points between the weighted mean and the prior location
    (``np.linspace``'s values), the best one, then the root of the score between its neighbours
    by :func:`_brentq`."""
    loc = m[3]
    ybar = s1 / s0
    lo, hi = min(ybar, loc), max(ybar, loc)
    if hi - lo <= 1e-15 * (1 + abs(lo)):
        return lo
    step = (hi - lo) / 64
    j = 0
    best = -np.inf
    for i in range(65):
        g = i * step + lo if i < 64 else hi
        val = -0.5 * s0 * g * g + s1 * g + _t_logprior(g, m)
        if val > best or (i == 0 and val == val):
            best = val
            j = i
    a = max(j - 1, 0) * step + lo
    b = hi if j + 1 >= 64 else (j + 1) * step + lo
    if _t_score(a, s0, s1, m) > 0 > _t_score(b, s0, s1, m):
        return _brentq(a, b, 1e-300, 4 * 2.220446049250313e-16, 100, s0, s1, m)
    return j * step + lo if j < 64 else hi


@njit(cache=True, nogil=True)
def _brentq(xa, xb, xtol, rtol, iters, s0, s1, m):
    """SciPy's ``brentq`` (scipy/optimize/Zeros/brentq.c, C. Harris) line for line, on
    :func:`_t_score`; the root, or the last iterate after ``iters`` steps."""
    xpre, xcur = xa, xb
    xblk = 0.0
    fblk = 0.0
    spre = 0.0
    scur = 0.0
    fpre = _t_score(xpre, s0, s1, m)
    fcur = _t_score(xcur, s0, s1, m)
    if fpre * fcur > 0:
        return np.nan
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    for _ in range(iters):
        if fpre * fcur < 0:
            xblk = xpre
            fblk = fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre = xcur
            xcur = xblk
            xblk = xpre
            fpre = fcur
            fcur = fblk
            fblk = fpre
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):
                spre = scur
                scur = stry
            else:
                spre = sbis
                scur = sbis
        else:
            spre = sbis
            scur = sbis
        xpre = xcur
        fpre = fcur
        if abs(scur) > delta:
            xcur += scur
        else:
            xcur += delta if sbis > 0 else -delta
        fcur = _t_score(xcur, s0, s1, m)
    return xcur


@njit(cache=True, nogil=True, inline="always")
def _sign(x):
    """np.sign of a float (0 at 0, NaN at NaN)."""
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return x * 0.0 if x != x else 0.0


def mu_prior_args(mu_prior, center: float, joint: bool) -> np.ndarray | None:
    """The mu prior's constants for :func:`log_density`, computed by the NumPy path's own
    expressions (:func:`bayesmeta.bayes.batch._conditionals`, ``_LogDensity._best_mu`` and
    ``_logprior_mu``); None for a Student-t prior (a scale mixture: the NumPy path)."""
    from bayesmeta.bayes.batch import _t_const, mu_prior_nodes

    f, p = mu_prior.family, mu_prior.params
    if joint:
        if f == "flat":
            return np.zeros(6)
        if f == "normal":
            return np.array([1.0, 1.0 / p["scale"] ** 2, p["loc"] - center, p["loc"], p["scale"], center])
        if f == "studentt":
            return np.array([2.0, p["nu"], p["scale"] ** 2, p["loc"] - center, center, _t_const(p["nu"]),
                             np.log(p["scale"]), p["loc"], p["scale"]])
        return None
    if f not in ("flat", "normal"):
        return None
    mloc, mvar, _ = mu_prior_nodes(mu_prior)
    finite = np.isfinite(mvar)
    prec0 = np.where(finite, 1.0 / np.where(finite, mvar, 1.0), 0.0)
    const = np.where(finite, -0.5 * np.log(np.where(finite, mvar, 1.0)), 0.5 * _LOG2PI)
    return np.array([float(prec0[0]), float(mloc[0] - center), float(const[0])])
