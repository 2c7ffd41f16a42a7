r"""Compiled kernels of the exact normal-normal engine (numba, cached on disk).

Everything here works row by row: one row is one (analysis, tau prior, mu prior) combination, so
a row's result never depends on the other rows of a batch (the single-fit path and the batched
path give the same numbers).

* :func:`suffstats` -- for every tau node the sums over studies that the conditionals of
  :mod:`bayesmeta.bayes.batch` need: :math:`\sum w_i`, :math:`\sum w_i y_i`,
  :math:`\sum w_i y_i^2`, :math:`\sum w_i^2` and :math:`\sum \log w_i`, with
  :math:`w_i = 1/(v_i + \tau^2)`.
* Local polynomial quadrature on an equispaced grid in :math:`x = \log\tau`: the integral of a
  cell is the integral of the degree-5 polynomial through the 6 nearest nodes (one-sided at the
  ends), so the cumulative distribution at any point is accurate to :math:`O(h^6)`, and the
  quantile inverts exactly that cumulative (one consistent cdf/ppf).
* Normal mixtures: cdf, pdf, quantiles (safeguarded Newton) and shortest intervals (Newton on
  the two conditions :math:`F(b) - F(a) = p`, :math:`f(a) = f(b)`).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from bayesmeta.bayes import _env  # noqa: F401  (numba cache directory before numba loads)

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# Lagrange bases of the 6-point windows
# --------------------------------------------------------------------------------------------

def _window_bases():
    """Coefficients (in powers of s, s = (x - x_i)/h in the cell [x_i, x_{i+1}]) of the 6 Lagrange
    basis polynomials and of their antiderivatives from s = 0, for each position of the cell in
    its window (shift = i - first window node, 0..4)."""
    L = np.zeros((5, 6, 6))
    A = np.zeros((5, 6, 7))
    for shift in range(5):
        nodes = np.arange(6) - shift
        for k in range(6):
            others = np.delete(nodes, k)
            poly = np.poly1d(others, r=True) / np.prod(nodes[k] - others)
            c = poly.coefficients[::-1]  # ascending powers
            L[shift, k, : c.size] = c
            A[shift, k, 1: c.size + 1] = c / np.arange(1, c.size + 1)
    return L, A


LBASIS, ABASIS = _window_bases()
CELLW = ABASIS.sum(axis=2)  # integral of each basis polynomial over the cell, (5, 6)


@njit(cache=True, nogil=True)
def _window(i, n):
    st = i - 2
    if st < 0:
        st = 0
    if st > n - 6:
        st = n - 6
    return st, i - st


@njit(cache=True, nogil=True)
def suffstats(tau2, row_a, y, v, kk):
    """Per row r and node j: S0, S1, S2, S3 = sums of w, w*y, w*y^2, w^2 and SL = sum log w."""
    R, N = tau2.shape
    S0 = np.empty((R, N))
    S1 = np.empty((R, N))
    S2 = np.empty((R, N))
    S3 = np.empty((R, N))
    SL = np.empty((R, N))
    for r in range(R):
        a = row_a[r]
        k = kk[a]
        ya = y[a]
        va = v[a]
        for j in range(N):
            S0[r, j], S1[r, j], S2[r, j], S3[r, j], SL[r, j] = suffstats1(tau2[r, j], ya, va, k)
    return S0, S1, S2, S3, SL


@njit(cache=True, nogil=True, inline="always")
def suffstats1(t2, y, v, k):
    """S0, S1, S2, S3, SL of the first k studies (y, v: one analysis) at tau^2 = t2; the product
    of the weights is logged whenever it leaves [1e-150, 1e150]."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    sl = 0.0
    prod = 1.0
    for i in range(k):
        w = 1.0 / (v[i] + t2)
        yi = y[i]
        s0 += w
        s1 += w * yi
        s2 += w * yi * yi
        s3 += w * w
        prod *= w
        if prod > 1e150 or prod < 1e-150:
            sl += math.log(prod)
            prod = 1.0
    return s0, s1, s2, s3, sl + math.log(prod)



@njit(cache=True, nogil=True)
def weight_sums(tau2, y, v):
    """S0 = sum_i w_i and S1 = sum_i w_i y_i, w_i = 1 / (v_i + tau^2), at each tau^2 (one analysis)."""
    S0 = np.empty(tau2.size)
    S1 = np.empty(tau2.size)
    for j in range(tau2.size):
        s0 = 0.0
        s1 = 0.0
        for i in range(y.size):
            w = 1.0 / (v[i] + tau2[j])
            s0 += w
            s1 += w * y[i]
        S0[j] = s0
        S1[j] = s1
    return S0, S1

# --------------------------------------------------------------------------------------------
# Grid distributions in x = log tau (one row each; nodes x0 + j*h, j < n)
# --------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def cumulative(f, n_nodes, h, atom, cellw):
    """Cumulative integral F at the nodes (F[0] = atom) and node quadrature weights W
    (sum W f = F[n-1] - atom)."""
    R, N = f.shape
    F = np.zeros((R, N))
    W = np.zeros((R, N))
    for r in range(R):
        n = n_nodes[r]
        acc = atom[r]
        F[r, 0] = acc
        for i in range(n - 1):
            st, sh = _window(i, n)
            cell = 0.0
            for k in range(6):
                cell += cellw[sh, k] * f[r, st + k]
                W[r, st + k] += h[r] * cellw[sh, k]
            acc += h[r] * cell
            F[r, i + 1] = acc
        for j in range(n, N):
            F[r, j] = acc
    return F, W


@njit(cache=True, nogil=True)
def _cell_eval(fr, st, sh, s, lb, ab):
    """Density P(s) and cell integral A(s) (from s = 0, in units of h) of the window polynomial."""
    p = 0.0
    q = 0.0
    for k in range(6):
        lk = 0.0
        for m in range(5, -1, -1):
            lk = lk * s + lb[sh, k, m]
        ak = 0.0
        for m in range(6, -1, -1):
            ak = ak * s + ab[sh, k, m]
        p += lk * fr[st + k]
        q += ak * fr[st + k]
    return p, q


@njit(cache=True, nogil=True)
def _cell_deriv(fr, st, sh, s, lb):
    d = 0.0
    for k in range(6):
        dk = 0.0
        for m in range(5, 0, -1):
            dk = dk * s + m * lb[sh, k, m]
        d += dk * fr[st + k]
    return d


@njit(cache=True, nogil=True)
def grid_cdf(x0, h, n_nodes, f, F, xq, lb, ab):
    """CDF (unnormalised: F units) at log-points xq (R, Q); points below x0 get NaN (atom region)."""
    R, Q = xq.shape
    out = np.empty((R, Q))
    for r in range(R):
        n = n_nodes[r]
        for q in range(Q):
            t = (xq[r, q] - x0[r]) / h[r]
            if not (t >= 0.0):
                out[r, q] = np.nan
                continue
            if t >= n - 1:
                out[r, q] = F[r, n - 1]
                continue
            i = int(t)
            st, sh = _window(i, n)
            _, a = _cell_eval(f[r], st, sh, t - i, lb, ab)
            out[r, q] = F[r, i] + h[r] * a
    return out


@njit(cache=True, nogil=True)
def grid_pdf(x0, h, n_nodes, f, xq, lb, ab):
    """Density in x (f units) and its x-derivative at log-points xq (R, Q)."""
    R, Q = xq.shape
    out = np.zeros((R, Q))
    der = np.zeros((R, Q))
    for r in range(R):
        n = n_nodes[r]
        for q in range(Q):
            t = (xq[r, q] - x0[r]) / h[r]
            if t < 0.0 or t > n - 1:
                continue
            i = min(int(t), n - 2)
            st, sh = _window(i, n)
            p, _ = _cell_eval(f[r], st, sh, t - i, lb, ab)
            out[r, q] = max(p, 0.0)
            der[r, q] = _cell_deriv(f[r], st, sh, t - i, lb) / h[r]
    return out, der


@njit(cache=True, nogil=True)
def _gppf1(x0, h, n, fr, Fr, tq, lb, ab):
    """x with F(x) = tq for one row (tq in F units, F[0] <= tq < F[n-1])."""
    lo_i = 0
    hi_i = n - 1
    while hi_i - lo_i > 1:
        mid = (lo_i + hi_i) // 2
        if Fr[mid] <= tq:
            lo_i = mid
        else:
            hi_i = mid
    i = lo_i
    st, sh = _window(i, n)
    need = (tq - Fr[i]) / h
    tot = (Fr[i + 1] - Fr[i]) / h
    s = need / tot if tot > 0 else 0.5
    a, b = 0.0, 1.0
    for _ in range(100):
        p, c = _cell_eval(fr, st, sh, s, lb, ab)
        g = c - need
        if g > 0:
            b = s
        elif g < 0:
            a = s
        else:
            break
        sn = s - g / p if p > 0 else 0.5 * (a + b)
        if not (sn > a and sn < b):
            sn = 0.5 * (a + b)
        if abs(sn - s) < 1e-13 or b - a < 1e-13:
            s = sn
            break
        s = sn
    return x0 + (i + s) * h


@njit(cache=True, nogil=True)
def _gpdf1(x0, h, n, fr, x, lb, ab):
    """Density f(x) (>= 0) and f'(x) for one row; zero outside the grid."""
    t = (x - x0) / h
    if t < 0.0 or t > n - 1:
        return 0.0, 0.0
    i = min(int(t), n - 2)
    st, sh = _window(i, n)
    p, _ = _cell_eval(fr, st, sh, t - i, lb, ab)
    return max(p, 0.0), _cell_deriv(fr, st, sh, t - i, lb) / h


@njit(cache=True, nogil=True)
def grid_ppf(x0, h, n_nodes, f, F, target, lb, ab):
    """x with F(x) = target (target in F units); NaN below F[0] (the atom)."""
    R, Q = target.shape
    out = np.empty((R, Q))
    for r in range(R):
        n = n_nodes[r]
        for q in range(Q):
            tq = target[r, q]
            if not (tq >= F[r, 0]):
                out[r, q] = np.nan
            elif tq >= F[r, n - 1]:
                out[r, q] = x0[r] + (n - 1) * h[r]
            else:
                out[r, q] = _gppf1(x0[r], h[r], n, f[r], F[r], tq, lb, ab)
    return out


@njit(cache=True, nogil=True)
def grid_hdi(x0, h, n_nodes, f, F, prob, lb, ab):
    """Shortest interval in tau = exp(x) (R, 2) for rows whose density does not peak at zero:
    Newton (bisection-safeguarded) on the lower tail probability t, solving
    log g(hi) = log g(lo) with g(tau) = f(x)/tau, lo = F^-1(t), hi = F^-1(t + prob)."""
    R = f.shape[0]
    out = np.empty((R, 2))
    for r in range(R):
        n = n_nodes[r]
        Fr = F[r]
        fr = f[r]
        Z = Fr[n - 1]
        a0 = Fr[0] / Z
        p = prob[r]
        tl = a0
        th = 1.0 - p
        t = 0.5 * (tl + th)
        xl = 0.0
        xh = 0.0
        for _ in range(100):
            xl = _gppf1(x0[r], h[r], n, fr, Fr, min(t * Z, Fr[n - 1] * (1 - 1e-16)), lb, ab)
            xh = _gppf1(x0[r], h[r], n, fr, Fr, min((t + p) * Z, Fr[n - 1] * (1 - 1e-16)), lb, ab)
            fl, dl = _gpdf1(x0[r], h[r], n, fr, xl, lb, ab)
            fh, dh = _gpdf1(x0[r], h[r], n, fr, xh, lb, ab)
            if fl <= 0.0 and fh <= 0.0:
                break
            if fl <= 0.0:
                tl = t
                t = 0.5 * (tl + th)
                continue
            if fh <= 0.0:
                th = t
                t = 0.5 * (tl + th)
                continue
            hv = (math.log(fh) - xh) - (math.log(fl) - xl)
            if hv > 0:
                tl = t
            elif hv < 0:
                th = t
            else:
                break
            # d/dt [log g(hi) - log g(lo)] with dx/dt = Z / f(x)
            dv = (dh / fh - 1.0) * Z / fh - (dl / fl - 1.0) * Z / fl
            tn = t - hv / dv if dv < 0 else 0.5 * (tl + th)
            if not (tn > tl and tn < th):
                tn = 0.5 * (tl + th)
            if abs(tn - t) < 1e-15 or th - tl < 1e-15:
                t = tn
                break
            t = tn
        out[r, 0] = math.exp(xl)
        out[r, 1] = math.exp(xh)
    return out


# --------------------------------------------------------------------------------------------
# Normal mixtures (one row each: weights w, means m, sds s; zero weights are ignored)
# --------------------------------------------------------------------------------------------

ACCEPT_HALLEY = 1e-5
"""A Halley step (cubic convergence) of at most this many posterior SDs is accepted without a
confirming evaluation: the error left is of order 1e-15 SDs."""
ACCEPT_NEWTON = 1e-9
"""A Newton step (quadratic convergence) of at most this many posterior SDs is accepted: the
error left is of order K 1e-18 SDs, K the problem's curvature constant (for the shortest interval
of a heavy-tailed mixture K can reach 1e6: at 1e-7 such an interval moved by 1e-10 SDs). Used by
the mode iterations."""
ACCEPT_CHEBYSHEV = 1e-5
"""The shortest interval's Chebyshev iteration (cubic convergence, :func:`_mix_hdi_core`) ends on
a step whose Newton part is at most this many posterior SDs and whose second-order part t satisfies
t^2 / |s| <= :data:`CHEBYSHEV_TOL` SDs (t^2 / s estimates the error left, K^2 s^3, whatever the
problem's curvature constant K)."""
CHEBYSHEV_TOL = 1e-15

# W. J. Cody's rational approximations to erf and erfc (Cody 1969, Math Comp 23:631-637; the
# coefficients of his CALERF, netlib specfun): erfc(y) = exp(-y^2) R(y) for y > 0.46875, so the
# normal cdf costs one rational function on top of the exp the density needs anyway
_CODY_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
           1.85777706184603153e-1)
_CODY_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_CODY_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
           8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
           2.15311535474403846e-8)
_CODY_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
           3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_CODY_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
           6.58749161529837803e-4, 1.63153871373020978e-2)
_CODY_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
           2.33520497626869185e-3)
_RSQRTPI = 0.5641895835477562869


# the same rationals with coefficients in ascending powers, for Estrin's scheme
_CODY_SMALL_NUM = (_CODY_A[3], _CODY_A[2], _CODY_A[1], _CODY_A[0], _CODY_A[4])   # in y^2
_CODY_SMALL_DEN = (_CODY_B[3], _CODY_B[2], _CODY_B[1], _CODY_B[0], 1.0)
_CODY_MID_NUM = (_CODY_C[7], _CODY_C[6], _CODY_C[5], _CODY_C[4], _CODY_C[3], _CODY_C[2], _CODY_C[1], _CODY_C[0],
                 _CODY_C[8])                                                         # in y
_CODY_MID_DEN = (_CODY_D[7], _CODY_D[6], _CODY_D[5], _CODY_D[4], _CODY_D[3], _CODY_D[2], _CODY_D[1], _CODY_D[0],
                 1.0)
_CODY_BIG_NUM = (_CODY_P[4], _CODY_P[3], _CODY_P[2], _CODY_P[1], _CODY_P[0], _CODY_P[5])  # in 1 / y^2
_CODY_BIG_DEN = (_CODY_Q[4], _CODY_Q[3], _CODY_Q[2], _CODY_Q[1], _CODY_Q[0], 1.0)


@njit(cache=True, nogil=True, inline="always")
def _estrin8(c, x, x2, x4):
    """sum_i c[i] x^i, i = 0..8, by Estrin's scheme (Knuth, TAOCP vol. 2, 4.6.4): pairs, then pairs
    of pairs, so the dependency chain is three multiply-adds long instead of Horner's eight."""
    return (((c[0] + c[1] * x) + (c[2] + c[3] * x) * x2) + ((c[4] + c[5] * x) + (c[6] + c[7] * x) * x2) * x4
            + c[8] * (x4 * x4))


@njit(cache=True, nogil=True, inline="always")
def _estrin5(c, x, x2):
    """sum_i c[i] x^i, i = 0..5 (Estrin's scheme, :func:`_estrin8`)."""
    return (c[0] + c[1] * x) + (c[2] + c[3] * x) * x2 + (c[4] + c[5] * x) * (x2 * x2)


@njit(cache=True, nogil=True)
def _ncdf(z, e):
    """Phi(z) given e = exp(-z^2 / 2): Phi(z) = erfc(u) / 2 with u = -z / sqrt(2) and
    exp(-u^2) = e, by Cody's approximations, their polynomials evaluated by Estrin's scheme (the
    mixtures' cost is this function's latency: 0.78-0.85 of Horner's time per quantile). Against
    libm's erfc (measured on 500,000 points, tested; the same bounds as Horner's order): absolute
    error at most 2.2e-16; relative error at most 1.1e-14 for |z| < 8 and 2.4e-13 out to |z| = 40
    (the exp of a rounded z^2), as scipy's ``ndtr`` differs from libm there."""
    u = -z / _SQRT2
    y = abs(u)
    if y <= 0.46875:
        ysq = y * y
        y4 = ysq * ysq
        num = (_CODY_SMALL_NUM[0] + _CODY_SMALL_NUM[1] * ysq) + (_CODY_SMALL_NUM[2] + _CODY_SMALL_NUM[3] * ysq) * y4 \
            + _CODY_SMALL_NUM[4] * (y4 * y4)
        den = (_CODY_SMALL_DEN[0] + _CODY_SMALL_DEN[1] * ysq) + (_CODY_SMALL_DEN[2] + _CODY_SMALL_DEN[3] * ysq) * y4 \
            + y4 * y4
        return 0.5 - 0.5 * u * num / den
    if y <= 4.0:
        y2 = y * y
        y4 = y2 * y2
        r = _estrin8(_CODY_MID_NUM, y, y2, y4) / _estrin8(_CODY_MID_DEN, y, y2, y4)
    else:
        ysq = 1.0 / (y * y)
        y4 = ysq * ysq
        r = (_RSQRTPI - ysq * _estrin5(_CODY_BIG_NUM, ysq, y4) / _estrin5(_CODY_BIG_DEN, ysq, y4)) / y
    half = 0.5 * e * r  # erfc(y) / 2
    return half if u > 0 else 1.0 - half


@njit(cache=True, nogil=True, inline="always")
def _mix_terms(w, m, s, x, curvature, cumulative):
    """cdf (when ``cumulative``; else 0), pdf, pdf' and (when ``curvature``) pdf'' of one mixture
    row at x: one exp per component, shared with :func:`_ncdf`. Both flags are constants at every
    call site, so their branches compile away."""
    c = 0.0
    p = 0.0
    d = 0.0
    d2 = 0.0
    for j in range(w.size):
        if w[j] == 0.0:
            continue
        z = (x - m[j]) / s[j]
        ez = math.exp(-0.5 * z * z)
        if cumulative:
            c += w[j] * _ncdf(z, ez)
        e = w[j] * _INV_SQRT2PI * ez / s[j]
        p += e
        d -= e * z / s[j]
        if curvature:
            d2 += e * (z * z - 1.0) / (s[j] * s[j])
    return c, p, d, d2


@njit(cache=True, nogil=True)
def _mix_eval(w, m, s, x):
    """cdf, pdf and pdf' of one mixture row at x (:func:`_mix_terms`)."""
    c, p, d, _ = _mix_terms(w, m, s, x, False, True)
    return c, p, d


@njit(cache=True, nogil=True)
def _mix_eval3(w, m, s, x):
    """cdf, pdf, pdf' and pdf'' of one mixture row at x (:func:`_mix_terms`; the curvature is for
    the shortest interval's Chebyshev steps)."""
    return _mix_terms(w, m, s, x, True, True)


@njit(cache=True, nogil=True)
def mix_cdf(w, m, s, xq):
    R, Q = xq.shape
    out = np.empty((R, Q))
    for r in range(R):
        for q in range(Q):
            out[r, q] = _mix_eval(w[r], m[r], s[r], xq[r, q])[0]
    return out


@njit(cache=True, nogil=True)
def mix_pdf(w, m, s, xq):
    R, Q = xq.shape
    out = np.empty((R, Q))
    for r in range(R):
        for q in range(Q):
            out[r, q] = _mix_terms(w[r], m[r], s[r], xq[r, q], False, False)[1]  # no cdf: no erfc
    return out


@njit(cache=True, nogil=True)
def _moments1(w, m, s):
    """Mean and SD of one mixture row (two passes: no cancellation)."""
    a = 0.0
    for j in range(w.size):
        a += w[j] * m[j]
    b = 0.0
    for j in range(w.size):
        b += w[j] * (s[j] ** 2 + (m[j] - a) ** 2)
    return a, math.sqrt(b)


@njit(cache=True, nogil=True)
def mix_moments(w, m, s):
    R = w.shape[0]
    mean = np.empty(R)
    sd = np.empty(R)
    for r in range(R):
        mean[r], sd[r] = _moments1(w[r], m[r], s[r])
    return mean, sd


@njit(cache=True, nogil=True)
def _mix_ppf1(w, m, s, q, x, lo, hi):
    """Quantile of one row from the start value x inside the bracket [lo, hi]: Halley steps
    (the mixture's pdf' comes with every evaluation; cubic convergence, so one evaluation fewer
    than Newton from the normal-approximation start), bisection whenever a step leaves the
    bracket."""
    return _mix_ppf_core(w, m, s, q, x, lo, hi, 0.0)


@njit(cache=True, nogil=True)
def _mix_ppf_core(w, m, s, q, x, lo, hi, acc):
    """:func:`_mix_ppf1` that also accepts a Halley step of at most ``acc`` without the
    confirming evaluation (cubic convergence: the error left is of order acc^3 / sd^2)."""
    for _ in range(100):
        c, p, d = _mix_eval(w, m, s, x)
        g = c - q
        if g < 0:
            lo = x
        elif g > 0:
            hi = x
        else:
            return x
        if p > 0:
            step = g / p
            den = 1.0 - 0.5 * step * d / p
            if den > 0.5:  # Halley; otherwise the Newton step
                step = step / den
            if abs(step) <= max(1e-13 * (1.0 + abs(x)), acc):
                return x - step  # converged (tested before the bracket: x - step may round to x)
            xn = x - step
        else:
            xn = 0.5 * (lo + hi)
        if not (xn > lo and xn < hi):
            xn = 0.5 * (lo + hi)
        if abs(xn - x) <= 1e-13 * (1.0 + abs(x)) or hi - lo <= 1e-13 * (1.0 + abs(x)):
            return xn
        x = xn
    return x


@njit(cache=True, nogil=True)
def _bracket(w, m, s):
    lo = np.inf
    hi = -np.inf
    for j in range(w.size):
        if w[j] == 0.0:
            continue
        lo = min(lo, m[j] - 40.0 * s[j])
        hi = max(hi, m[j] + 40.0 * s[j])
    return lo, hi


@njit(cache=True, nogil=True)
def mix_ppf(w, m, s, mean, sd, probs):
    """Quantiles (R, Q) for probabilities probs (R, Q) (Halley steps from the normal approximation,
    see :func:`_mix_ppf1`; a step below :data:`ACCEPT_HALLEY` SDs ends the iteration)."""
    R, Q = probs.shape
    out = np.empty((R, Q))
    for r in range(R):
        lo, hi = _bracket(w[r], m[r], s[r])
        for q in range(Q):
            pq = probs[r, q]
            if pq <= 0.0:
                out[r, q] = -np.inf
                continue
            if pq >= 1.0:
                out[r, q] = np.inf
                continue
            x = mean[r] + sd[r] * _ndtri_approx(pq)
            x = min(max(x, lo), hi)
            out[r, q] = _mix_ppf_core(w[r], m[r], s[r], pq, x, lo, hi, ACCEPT_HALLEY * sd[r])
    return out


@njit(cache=True, nogil=True)
def _ndtri_approx(p):
    """Normal quantile (Acklam's rational approximation, |rel err| < 1.2e-9; a start value only)."""
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if p > 1 - 0.02425:
        q = math.sqrt(-2 * math.log(1 - p))
        return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    q = p - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


@njit(cache=True, nogil=True)
def mix_hdi(w, m, s, mean, sd, prob, a_start, b_start):
    """Shortest interval [a, b] with F(b) - F(a) = prob (R,), by Chebyshev's method on
    (F(b) - F(a) - prob, f(b) - f(a)) from the equal-tailed interval (``a_start``, ``b_start``: its
    ends when already known, e.g. the reported 2.5% and 97.5% quantiles; NaN: solved here); see
    :func:`_mix_hdi_core` for the steps and when they stop; falls back to bisection on the lower
    tail probability if the iteration does not converge."""
    R = w.shape[0]
    out = np.empty((R, 2))
    for r in range(R):
        a, b = _mix_hdi_core(w[r], m[r], s[r], mean[r], sd[r], prob[r], a_start[r], b_start[r],
                             ACCEPT_CHEBYSHEV * sd[r], True)
        out[r, 0] = a
        out[r, 1] = b
    return out


@njit(cache=True, nogil=True)
def _mix_hdi_core(wr, mr, sr, mean, sd, p, a, b, acc, tails):
    """Shortest interval of one row: Chebyshev's method (Traub 1964, sec. 8.4; Ortega and
    Rheinboldt 1970, sec. 10.2) on G(a, b) = (F(b) - F(a) - p, f(b) - f(a)). Each step is the
    Newton step s = J^-1 G plus the second-order correction t = J^-1 G''[s, s] / 2 (G'' from the
    mixture's pdf' and pdf'', which come with the same evaluation), so the error falls cubically:
    4-5 evaluations of the mixture from the equal-tailed interval instead of Newton's 7-9. A
    correction larger than half the Newton step (far from the solution) is dropped for that step.
    The iteration ends when a step is below 1e-13 relative, or when its Newton part is at most
    ``acc`` and t^2 / |s| (the error left) at most :data:`CHEBYSHEV_TOL` SDs (``acc`` = 0: the
    relative rule alone). ``tails``: a and b are the equal-tailed interval's ends (quantiles
    (1 -+ p) / 2 to the quantile solver's accuracy, or NaN: solved here), so F(b) - F(a) - p = 0
    at the start and the first step needs only the densities (:func:`_mix_eval2`: no erfc,
    about half an evaluation at each end)."""
    lo_b, hi_b = _bracket(wr, mr, sr)
    acc_q = acc * ACCEPT_HALLEY / ACCEPT_CHEBYSHEV
    if not math.isfinite(a):
        a0 = min(max(mean + sd * _ndtri_approx(0.5 * (1 - p)), lo_b), hi_b)
        a = _mix_ppf_core(wr, mr, sr, 0.5 * (1 - p), a0, lo_b, hi_b, acc_q)
    if not math.isfinite(b):
        b0 = min(max(mean + sd * _ndtri_approx(0.5 * (1 + p)), lo_b), hi_b)
        b = _mix_ppf_core(wr, mr, sr, 0.5 * (1 + p), b0, lo_b, hi_b, acc_q)
    tol = CHEBYSHEV_TOL * sd
    ok = False
    for it in range(50):
        if it == 0 and tails:
            pa, da, ea = _mix_eval2(wr, mr, sr, a)
            pb, db, eb = _mix_eval2(wr, mr, sr, b)
            r1 = 0.0
        else:
            ca, pa, da, ea = _mix_eval3(wr, mr, sr, a)
            cb, pb, db, eb = _mix_eval3(wr, mr, sr, b)
            r1 = cb - ca - p
        r2 = pb - pa
        scale = max(pa, pb)
        if abs(r1) < 1e-14 and abs(r2) <= 1e-12 * scale:
            ok = True
            break
        # Jacobian wrt (a, b): [[-pa, pb], [-da, db]]
        det = -pa * db + pb * da
        if det == 0.0 or not math.isfinite(det):
            break
        sa = (r1 * db - pb * r2) / det
        sb = (-pa * r2 + da * r1) / det
        # G''[s, s] / 2 and its Newton solve
        h1 = 0.5 * (db * sb * sb - da * sa * sa)
        h2 = 0.5 * (eb * sb * sb - ea * sa * sa)
        ta = (h1 * db - pb * h2) / det
        tb = (-pa * h2 + da * h1) / det
        cheb = abs(ta) <= 0.5 * abs(sa) and abs(tb) <= 0.5 * abs(sb)
        if not cheb:
            ta = 0.0
            tb = 0.0
        an = a - sa - ta
        bn = b - sb - tb
        if not (an < bn) or not math.isfinite(an) or not math.isfinite(bn):
            break
        a, b = an, bn
        s_max = max(abs(sa), abs(sb))
        t_max = max(abs(ta), abs(tb))
        if (abs(sa) <= 1e-13 * (1.0 + abs(a)) and abs(sb) <= 1e-13 * (1.0 + abs(b))) or \
                (cheb and s_max <= acc and t_max * t_max <= tol * s_max):
            ok = True
            break
    if not ok:
        # bisection on the lower tail probability t: width(t) = ppf(t + p) - ppf(t) is
        # minimised where f(ppf(t)) = f(ppf(t + p)) (unimodal mixtures)
        tl, th = 0.0, 1.0 - p
        for _ in range(200):
            t = 0.5 * (tl + th)
            a = _mix_ppf1(wr, mr, sr, t, mean, lo_b, hi_b)
            b = _mix_ppf1(wr, mr, sr, t + p, mean, lo_b, hi_b)
            fa = _mix_eval(wr, mr, sr, a)[1]
            fb = _mix_eval(wr, mr, sr, b)[1]
            if fb > fa:
                tl = t
            else:
                th = t
            if th - tl < 1e-15:
                break
    return a, b


# --------------------------------------------------------------------------------------------
# Study effects: the shrinkage marginals of every theta_i at once
# --------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _mix_eval2(w, m, s, x):
    """pdf, pdf' and pdf'' of one mixture row at x (:func:`_mix_terms` without the cdf: no erfc,
    cheaper than :func:`_mix_eval`)."""
    _, p, d, d2 = _mix_terms(w, m, s, x, True, False)
    return p, d, d2


@njit(cache=True, nogil=True)
def _mix_mode1(w, m, s, mean, sd, start, n_check):
    return _mix_mode_core(w, m, s, mean, sd, start, n_check, 0.0, False)


@njit(cache=True, nogil=True)
def _mix_mode_core(w, m, s, mean, sd, start, n_check, acc, concave):
    """Mode of one mixture row: the root of pdf' in [lo, hi] = [max(min m, mean - 10 sd),
    min(max m, mean + 10 sd)] (every mode of a normal mixture lies between its smallest and largest
    component mean) by Newton steps on pdf' from ``start``, bisection whenever a step leaves the
    bracket or pdf is not concave there (to 1e-14 relative). Returns (mode, ok): ``ok`` is False
    when the density at one of ``n_check`` evenly spaced points of [lo, hi] exceeds the density at
    the root found (a second, higher mode: the caller then uses the global grid search).

    ``acc`` > 0 also accepts a Newton step of at most ``acc`` (error left of order acc^2 / sd);
    ``concave`` (the caller has shown the density concave between its smallest and largest
    component mean, see :func:`_reduce`) skips the end and check evaluations, which cannot fail then."""
    mmin = np.inf
    mmax = -np.inf
    for j in range(w.size):
        if w[j] == 0.0:
            continue
        mmin = min(mmin, m[j])
        mmax = max(mmax, m[j])
    lo = max(mmin, mean - 10 * sd)
    hi = min(mmax, mean + 10 * sd)
    if not hi > lo:
        if lo > hi:
            return min(max(mean, mmin), mmax), True  # (as _mixture_mode: the mean clipped to the means)
        return lo, True
    if not concave:
        fa = _mix_eval2(w, m, s, lo)[1]
        fb = _mix_eval2(w, m, s, hi)[1]
        if fa <= 0.0 or fb >= 0.0:
            return np.nan, False  # the maximum at an end of [lo, hi]: the grid search decides
    a, b = lo, hi
    x = min(max(start, a), b)
    for _ in range(200):
        _, d, d2 = _mix_eval2(w, m, s, x)
        if d > 0:
            a = x
        elif d < 0:
            b = x
        else:
            break
        if d2 < 0:
            step = d / d2
            if abs(step) <= max(1e-14 * (1.0 + abs(x)), acc):
                x = x - step  # converged (tested before the bracket: x - step may round onto its end)
                break
            xn = x - step
        else:
            xn = 0.5 * (a + b)
        if not (xn > a and xn < b):
            xn = 0.5 * (a + b)
        if b - a <= 1e-14 * (1.0 + abs(x)):
            x = xn
            break
        x = xn
    if concave or n_check == 0:
        return x, True
    fx = _mix_eval2(w, m, s, x)[0]
    fg = np.empty(n_check)
    _mix_pdf_grid(w, m, s, lo + 0.5 * (hi - lo) / n_check, (hi - lo) / n_check, fg)
    for i in range(n_check):
        if fg[i] > fx * (1.0 + 1e-12):
            return x, False
    return x, True


GRID_RESTART = 32
"""Points between exact evaluations in :func:`_mix_pdf_grid`."""


@njit(cache=True, nogil=True)
def _mix_pdf_grid(w, m, s, g0, dg, out):
    """The density of one mixture row at the equispaced points g0 + i dg, i < out.size, with three
    exps per component (and two more every :data:`GRID_RESTART` points) instead of one per point:
    a component's Gaussian is evaluated at the point nearest its mean, and outwards by the ratio
    of neighbours, exp(-z_(i+1)^2 / 2) = exp(-z_i^2 / 2) r_i with r_i = exp(-(z_i d + d^2 / 2)) and
    r_(i+1) = r_i exp(-d^2) (d = dg / s; downwards likewise). Outwards every factor is at most 1,
    so nothing overflows and a value that underflows is smaller than its true value's underflow.
    The rounding error of the product grows with the square of the steps since the last exact
    value, so the recurrence restarts from exact values every :data:`GRID_RESTART` points (a few
    hundred ulps at most; 2.9e-15 relative over 8 points against one exp per point)."""
    n = out.size
    for i in range(n):
        out[i] = 0.0
    for j in range(w.size):
        if w[j] == 0.0:
            continue
        c = w[j] * _INV_SQRT2PI / s[j]
        d = dg / s[j]
        z0 = (g0 - m[j]) / s[j]
        ii = 0
        if d > 0.0:
            ii = round(min(max(-z0 / d, 0.0), n - 1.0))  # clamped before the int: no overflow
        zi = z0 + ii * d
        e = math.exp(-0.5 * zi * zi)
        out[ii] += c * e
        q = math.exp(-d * d)
        r = math.exp(-(zi * d + 0.5 * d * d))
        eu = e
        for i in range(ii + 1, n):
            if (i - ii) % GRID_RESTART == 0:
                zu = z0 + i * d
                eu = math.exp(-0.5 * zu * zu)
                r = math.exp(-(zu * d + 0.5 * d * d))
            else:
                eu *= r
                r *= q
            out[i] += c * eu
        r = math.exp(zi * d - 0.5 * d * d)
        ed = e
        for i in range(ii - 1, -1, -1):
            if (ii - i) % GRID_RESTART == 0:
                zd = z0 + i * d
                ed = math.exp(-0.5 * zd * zd)
                r = math.exp(zd * d - 0.5 * d * d)
            else:
                ed *= r
                r *= q
            out[i] += c * ed


@njit(cache=True, nogil=True)
def _reduce(w, m, s, G, gw, gm, gs):
    """A start for one mixture row's summaries: its components (in node order) pooled into about
    ``G`` consecutive groups of equal mass, each replaced by the normal with the group's mean and
    variance (moment matching, as :func:`compress`), written to ``gw, gm, gs``; returns the number
    of groups. Only a start: every summary is then polished on the full row."""
    tot = 0.0
    for j in range(w.size):
        tot += w[j]
    n = 0
    cum = 0.0
    sw = 0.0
    s1 = 0.0
    s2 = 0.0
    m0 = 0.0
    for j in range(w.size):
        wj = w[j]
        if wj == 0.0:
            continue
        if sw == 0.0:
            m0 = m[j]
        d = m[j] - m0  # deviations from the group's first mean: no cancellation
        sw += wj
        s1 += wj * d
        s2 += wj * (s[j] * s[j] + d * d)
        cum += wj
        if cum >= tot * (n + 1) / G or j == w.size - 1:
            mm = s1 / sw
            gw[n] = sw
            gm[n] = m0 + mm
            gs[n] = math.sqrt(max(s2 / sw - mm * mm, 1e-300))
            n += 1
            sw = 0.0
            s1 = 0.0
            s2 = 0.0
    if sw > 0.0:  # trailing zero weights only; kept for safety
        mm = s1 / sw
        gw[n] = sw
        gm[n] = m0 + mm
        gs[n] = math.sqrt(max(s2 / sw - mm * mm, 1e-300))
        n += 1
    return n


@njit(cache=True, nogil=True)
def _study_row(w, t, m, V, y, s2, ow, om, os):
    """Study i's components on tau nodes ``t`` (weights ``w``, mu | tau ~ N(m, V)): with
    B = s2 / (s2 + tau^2), theta_i | tau, y ~ N(B m + (1 - B) y, s2 (1 - B) + B^2 V)."""
    for j in range(w.size):
        Bi = s2 / (s2 + t[j] ** 2)
        ow[j] = w[j]
        om[j] = Bi * m[j] + (1 - Bi) * y
        os[j] = math.sqrt(s2 * (1 - Bi) + Bi ** 2 * V[j])


@njit(cache=True, nogil=True)
def _concave(w, m, s):
    """True when the spread of the (weighted) component means is at most the smallest component
    SD: the density is then concave between the extreme means and has one mode (see
    :func:`study_marginals`)."""
    mmin = np.inf
    mmax = -np.inf
    smin = np.inf
    for j in range(w.size):
        if w[j] != 0.0:
            mmin = min(mmin, m[j])
            mmax = max(mmax, m[j])
            smin = min(smin, s[j])
    return mmax - mmin <= smin


@njit(cache=True, nogil=True)
def _store(out, ok, i, mean, sd, med, lo, hi, mode, good):
    out[i, 0] = mean
    out[i, 1] = sd
    out[i, 2] = med
    out[i, 3] = lo
    out[i, 4] = hi
    out[i, 5] = mode
    ok[i] = good


@njit(cache=True, nogil=True)
def study_marginals(w, m, V, tc, yi, vi, prob, hdi, lo_row, hi_row, out, ok, sw, st, sm, sV):
    """Summaries of the shrinkage marginals of the study effects theta_i, rows ``lo_row`` to
    ``hi_row`` (a chunk; threads run chunks): given tau (node j of the engine's mixture, weight
    ``w[j]``, mu | tau ~ N(m[j], V[j]), tau = ``tc[j]``) and B_i = v_i / (v_i + tau^2),
    theta_i | tau, y ~ N(B_i m + (1 - B_i) y_i, v_i (1 - B_i) + B_i^2 V): each study's marginal is
    the normal mixture with the engine's weights, built here one study at a time (no (k, C)
    arrays), with the same row routines as :class:`bayesmeta.bayes.exact.NormalMixture`.

    Each summary is first solved on a small stand-in for the study's mixture and then polished on
    the full mixture. The stand-in is the study's mixture on the start rule (``sw, st, sm, sV``:
    weights, tau and mu | tau's mean and variance at the nodes of a Gauss rule of the tau measure,
    :meth:`bayesmeta.bayes.exact.NormalNormalPosterior.theta_summary`; its summaries are within
    about 1e-9 SDs where the rules fail to agree to 1e-12, so each polish takes one step), or,
    when ``sw`` is empty, an 8-component moment-matched reduction (:func:`_reduce`; about a tenth
    of the work, summaries within about 1e-3 SDs). The polish:
    Halley steps for the median and the equal-tailed ends (:func:`_mix_ppf_core`: the first is
    accepted when at most 1e-5 posterior SDs, error of order 1e-15 SDs), Newton steps for the shortest interval and the mode (accepted
    when at most 1e-9 SDs), the original iterations whenever a step is
    larger. When the spread of the component means is at most the smallest component SD the
    density is concave between the smallest and the largest mean (each component's second
    derivative is negative within one SD of its mean) and increasing / decreasing outside, so it
    has exactly one mode and the second-mode check is skipped.

    Fills ``out[i] = (mean, sd, median, lower, upper, mode)`` (interval: equal-tailed, or shortest
    when ``hdi``, at level ``prob``) and ``ok[i]`` (False: the mode needs the global search)."""
    C = w.size
    G = 8
    mr = np.empty(C)
    sr = np.empty(C)
    wr = np.empty(C)
    gw = np.empty(max(C, sw.size) + 1)
    gm = np.empty(max(C, sw.size) + 1)
    gs = np.empty(max(C, sw.size) + 1)
    qa = 0.5 * (1 - prob)
    qb = 0.5 * (1 + prob)
    for i in range(lo_row, hi_row):
        s2 = vi[i]
        y = yi[i]
        _study_row(w, tc, m, V, y, s2, wr, mr, sr)
        mean, sd = _moments1(w, mr, sr)
        concave = _concave(w, mr, sr)
        lo_b, hi_b = _bracket(w, mr, sr)
        if sw.size:
            n = sw.size
            _study_row(sw, st, sm, sV, y, s2, gw, gm, gs)
        else:
            n = _reduce(w, mr, sr, G, gw, gm, gs)
        rw, rm, rs = gw[:n], gm[:n], gs[:n]
        # the stand-in's summaries (starts)
        x = min(max(mean + sd * _ndtri_approx(0.5), lo_b), hi_b)
        med = _mix_ppf1(rw, rm, rs, 0.5, x, lo_b, hi_b)
        xa = _mix_ppf1(rw, rm, rs, qa, min(max(mean + sd * _ndtri_approx(qa), lo_b), hi_b), lo_b, hi_b)
        xb = _mix_ppf1(rw, rm, rs, qb, min(max(mean + sd * _ndtri_approx(qb), lo_b), hi_b), lo_b, hi_b)
        # polished on the full mixture
        med = _mix_ppf_core(w, mr, sr, 0.5, med, lo_b, hi_b, ACCEPT_HALLEY * sd)
        if hdi:
            xa, xb = _mix_hdi_core(rw, rm, rs, mean, sd, prob, xa, xb, 0.0, True)
            lo, hi = _mix_hdi_core(w, mr, sr, mean, sd, prob, xa, xb, ACCEPT_CHEBYSHEV * sd, False)
        else:
            lo = _mix_ppf_core(w, mr, sr, qa, xa, lo_b, hi_b, ACCEPT_HALLEY * sd)
            hi = _mix_ppf_core(w, mr, sr, qb, xb, lo_b, hi_b, ACCEPT_HALLEY * sd)
        start, _ = _mix_mode_core(rw, rm, rs, mean, sd, med, 0, 0.0, concave)
        if not math.isfinite(start):
            start = med
        mode, good = _mix_mode_core(w, mr, sr, mean, sd, start, 8, ACCEPT_NEWTON * sd, concave)
        _store(out, ok, i, mean, sd, med, lo, hi, mode, good)


@njit(cache=True, nogil=True)
def _halley_from(x, c, p, d, q, lo, hi):
    """One Halley step towards the q-quantile from x, where the cdf, pdf and pdf' are (c, p, d),
    clipped to [lo, hi] (a start value)."""
    if not p > 0:
        return min(max(x, lo), hi)
    step = (c - q) / p
    den = 1.0 - 0.5 * step * d / p
    if den > 0.5:
        step = step / den
    return min(max(x - step, lo), hi)


@njit(cache=True, nogil=True)
def study_marginals_gauss(RW, RT, RM, RV, RN, PA, PB, yi, vi, prob, hdi, tol, lo_row, hi_row, out, ok, rule):
    """Study marginals (as :func:`study_marginals`) on Gauss rules of the tau measure, rows
    ``lo_row`` to ``hi_row``.

    ``RW, RT, RM, RV`` (P, N) hold P rules of increasing size ``RN`` (weights, tau, and mu | tau's
    mean and variance at the nodes; zero-padded; see :func:`bayesmeta.bayes.quadrature.gauss_rule`).
    For each study the pairs of rules (``PA[p]``, ``PB[p]``; PB the larger) are tried in turn: rule PB[p] is used
    when the two agree on the study's mean and SD (to ``tol`` SDs) and on its cdf, pdf and pdf'
    (to ``tol``, ``tol`` / SD and ``tol`` / SD^2) at 5 points from the centre to beyond the
    interval's ends (mean + SD c, c = 0, -z, z, -z - 1/2, z + 1/2, z the normal quantile of the
    interval's upper end; with the derivatives agreeing too, the smooth error between them cannot
    hide); the larger rule's values at 0 and -+z give each quantile's start
    (one Halley step; for the shortest interval the equal-tailed starts go straight to its Chebyshev
    iteration). As the Gauss error falls geometrically in the rule's size, the
    larger rule's error is then well below ``tol`` (an estimate by two rules, as QUADPACK's
    Gauss-Kronrod pairs; Piessens et al. 1983). Every summary is then solved on that rule with the
    row routines and the acceptance rules of the full path (:data:`ACCEPT_HALLEY`,
    :data:`ACCEPT_CHEBYSHEV`, :data:`ACCEPT_NEWTON`). ``rule[i]`` is the rule used (PB[p]), or -1 when no pair agreed
    (the caller then uses :func:`study_marginals` on the full mixture); ``out`` and ``ok`` as there."""
    N = RW.shape[1]
    aw = np.empty(N)
    am = np.empty(N)
    as_ = np.empty(N)
    bw = np.empty(N)
    bm = np.empty(N)
    bs = np.empty(N)
    zq = _ndtri_approx(0.5 * (1 + prob))
    checks = np.array([0.0, -zq, zq, -zq - 0.5, zq + 0.5])
    chk = np.empty((checks.size, 3))
    qa = 0.5 * (1 - prob)
    qb = 0.5 * (1 + prob)
    for i in range(lo_row, hi_row):
        rule[i] = -1
        y = yi[i]
        s2 = vi[i]
        for p in range(PA.size):
            ra = PA[p]
            rb = PB[p]
            na = RN[ra]
            nb = RN[rb]
            _study_row(RW[ra, :na], RT[ra, :na], RM[ra, :na], RV[ra, :na], y, s2, aw, am, as_)
            _study_row(RW[rb, :nb], RT[rb, :nb], RM[rb, :nb], RV[rb, :nb], y, s2, bw, bm, bs)
            wa, ma, sa = aw[:na], am[:na], as_[:na]
            w, m, s = bw[:nb], bm[:nb], bs[:nb]
            mean_a, sd_a = _moments1(wa, ma, sa)
            mean, sd = _moments1(w, m, s)
            if not (abs(mean_a - mean) <= tol * sd and abs(sd_a - sd) <= tol * sd):
                continue
            good = True
            for c in range(checks.size):
                x = mean + sd * checks[c]
                ca, pa, da = _mix_eval(wa, ma, sa, x)
                cb, pb, db = _mix_eval(w, m, s, x)
                if not (abs(ca - cb) <= tol and abs(pa - pb) * sd <= tol and abs(da - db) * sd * sd <= tol):
                    good = False
                    break
                chk[c, 0] = cb
                chk[c, 1] = pb
                chk[c, 2] = db
            if not good:
                continue
            # starts: one Halley step from the check points at mean, mean -+ z sd
            lo_b, hi_b = _bracket(w, m, s)
            x0 = _halley_from(mean, chk[0, 0], chk[0, 1], chk[0, 2], 0.5, lo_b, hi_b)
            xa = _halley_from(mean - zq * sd, chk[1, 0], chk[1, 1], chk[1, 2], qa, lo_b, hi_b)
            xb = _halley_from(mean + zq * sd, chk[2, 0], chk[2, 1], chk[2, 2], qb, lo_b, hi_b)
            med = _mix_ppf_core(w, m, s, 0.5, x0, lo_b, hi_b, ACCEPT_HALLEY * sd)
            if hdi:
                lo, hi = _mix_hdi_core(w, m, s, mean, sd, prob, xa, xb, ACCEPT_CHEBYSHEV * sd, False)
            else:
                lo = _mix_ppf_core(w, m, s, qa, xa, lo_b, hi_b, ACCEPT_HALLEY * sd)
                hi = _mix_ppf_core(w, m, s, qb, xb, lo_b, hi_b, ACCEPT_HALLEY * sd)
            mode, good = _mix_mode_core(w, m, s, mean, sd, med, 8, ACCEPT_NEWTON * sd, _concave(w, m, s))
            _store(out, ok, i, mean, sd, med, lo, hi, mode, good)
            rule[i] = rb
            break


@njit(cache=True, nogil=True)
def compress(w, m, V, tc, eps, wmin):
    """Merge runs of neighbouring mixture components (in node order) whose means differ by less
    than ``eps`` SDs and whose variances and tau^2 differ by less than ``eps`` times the variance,
    into one moment-matched component (mean, variance and mean tau^2 exact); drop components
    lighter than ``wmin``. Returns compacted (w, m, V, tau) padded with zero weights."""
    R, C = w.shape
    ow = np.zeros((R, C))
    om = np.zeros((R, C))
    oV = np.ones((R, C))
    ot = np.zeros((R, C))
    cmax = 1
    for r in range(R):
        k = -1
        m0 = 0.0
        V0 = 1.0
        t0 = 0.0
        sw = 0.0
        s1 = 0.0
        s2 = 0.0
        st = 0.0
        for j in range(C):
            wj = w[r, j]
            if wj < wmin:
                continue
            t2 = tc[r, j] * tc[r, j]
            if k >= 0 and abs(m[r, j] - m0) < eps * math.sqrt(V0) and abs(V[r, j] - V0) < eps * V0 \
                    and abs(t2 - t0) < eps * V0:
                d = m[r, j] - m0  # deviations from the run's first mean: no cancellation
                sw += wj
                s1 += wj * d
                s2 += wj * (V[r, j] + d * d)
                st += wj * t2
                continue
            if k >= 0:
                mm = s1 / sw
                ow[r, k] = sw
                om[r, k] = m0 + mm
                oV[r, k] = max(s2 / sw - mm * mm, 1e-300)
                ot[r, k] = math.sqrt(st / sw)
            k += 1
            m0 = m[r, j]
            V0 = V[r, j]
            t0 = t2
            sw = wj
            s1 = 0.0
            s2 = wj * V0
            st = wj * t2
        if k >= 0:
            mm = s1 / sw
            ow[r, k] = sw
            om[r, k] = m0 + mm
            oV[r, k] = max(s2 / sw - mm * mm, 1e-300)
            ot[r, k] = math.sqrt(st / sw)
        cmax = max(cmax, k + 1)
    return ow[:, :cmax].copy(), om[:, :cmax].copy(), oV[:, :cmax].copy(), ot[:, :cmax].copy()
