r"""Gauss rules for a discrete measure: a few nodes that integrate like many.

The exact engine represents the posterior of :math:`\tau` by a weighted node set (about 60-140
nodes, fine enough for every functional it reports). A smooth function of :math:`\tau`, such as a
study's conditional CDF :math:`\Phi((x - m_i(\tau)) / s_i(\tau))`, is integrated against that
measure as accurately by the :math:`n`-node Gauss rule of the measure itself when the function is
well approximated by polynomials of degree :math:`2n - 1` on the nodes' range (the rule matches
the measure's first :math:`2n` moments). When the posterior of :math:`\tau` is narrow (large
:math:`k`) 6-8 nodes reproduce the full sum to rounding error.

The rule is computed as in Gautschi (2004, sec. 2.2.3): the Lanczos process on the diagonal
matrix of nodes started from the square roots of the weights (with full reorthogonalisation, so it
stays stable when :math:`n` approaches the number of nodes) gives the Jacobi matrix of the
measure's orthogonal polynomials; its eigenvalues are the Gauss nodes and the squared first
components of its eigenvectors the weights (Golub and Welsch 1969).

References
----------
Golub GH, Welsch JH (1969). Calculation of Gauss quadrature rules. Math Comp 23:221-230.
Gautschi W (2004). Orthogonal Polynomials: Computation and Approximation. Oxford University
Press, sec. 2.2.3 (discretisation and the Lanczos algorithm).
Giraud L, Langou J, Rozloznik M, van den Eshof J (2005). Rounding error analysis of the classical
Gram-Schmidt orthogonalization process. Numer Math 101:87-100 ("twice is enough").
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from bayesmeta._blas import one_blas_thread


@njit(cache=True, nogil=True)
def _lanczos(t, w, n):
    """Lanczos with full reorthogonalisation: (a, b, m) for the first m <= n steps."""
    C = t.size
    scale = 1e-300
    for j in range(C):
        scale = max(scale, abs(t[j]))
    Q = np.zeros((n, C))
    a = np.zeros(n)
    b = np.zeros(n)
    q = np.sqrt(w)
    z = np.empty(C)
    for j in range(n):
        Q[j] = q
        aj = 0.0
        for c in range(C):
            z[c] = t[c] * q[c]
            aj += q[c] * z[c]
        a[j] = aj
        for _ in range(2):  # full reorthogonalisation (twice is enough; Giraud et al. 2005)
            for i in range(j + 1):
                d = 0.0
                for c in range(C):
                    d += Q[i, c] * z[c]
                for c in range(C):
                    z[c] -= d * Q[i, c]
        nz = 0.0
        for c in range(C):
            nz += z[c] * z[c]
        b[j] = math.sqrt(nz)
        if j + 1 < n and b[j] <= 1e-13 * scale:  # the measure has only j + 1 distinct nodes
            return a, b, j + 1
        q = z / b[j] if b[j] > 0 else z.copy()
    return a, b, n


@njit(cache=True, nogil=True)
def _gauss_ladder(t, w, sizes):
    nmax = 0
    for s in sizes:
        nmax = max(nmax, s)
    a, b, m = _lanczos(t, w, nmax)
    X = np.zeros((sizes.size, nmax))
    W = np.zeros((sizes.size, nmax))
    got = np.zeros(sizes.size, dtype=np.int64)
    for p in range(sizes.size):
        n = min(sizes[p], m)
        J = np.zeros((n, n))
        for i in range(n):
            J[i, i] = a[i]
            if i + 1 < n:
                J[i, i + 1] = b[i]
                J[i + 1, i] = b[i]
        x, vec = np.linalg.eigh(J)
        tot = 0.0
        for i in range(n):
            tot += vec[0, i] ** 2
        for i in range(n):
            X[p, i] = x[i]
            W[p, i] = vec[0, i] ** 2 / tot
        got[p] = n
    return X, W, got


def gauss_rules(nodes, weights, sizes) -> list[tuple[np.ndarray, np.ndarray]]:
    """The Gauss rules with ``sizes`` nodes of the discrete measure
    :math:`\\sum_j w_j \\delta_{t_j}` (weights normalised here; zero weights ignored), from one
    Lanczos process with full reorthogonalisation (Gautschi 2004, sec. 2.2.3): its recurrence
    coefficients form the Jacobi matrix, whose leading m x m block gives the m-node rule (nodes:
    its eigenvalues; weights: the squared first components of its eigenvectors; Golub and Welsch
    1969). A rule has fewer nodes than asked when the measure has fewer distinct nodes (it is
    then the measure itself, up to rounding).

    Returns
    -------
    list of (x, w) : per size, the Gauss nodes (ascending) and their weights (summing to 1). The
    m-node rule integrates every polynomial of degree up to 2m - 1 exactly against the normalised
    measure.
    """
    t = np.asarray(nodes, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    if not keep.any():
        raise ValueError("the measure has no positive weight")
    t, w = np.ascontiguousarray(t[keep]), np.ascontiguousarray(w[keep] / w[keep].sum())
    sz = np.minimum(np.asarray(sizes, dtype=np.int64), t.size)
    if np.any(sz < 1):
        raise ValueError("sizes must be positive")
    with one_blas_thread():  # the eigensolver is LAPACK's: no spinning BLAS threads afterwards (bayesmeta._blas)
        X, W, got = _gauss_ladder(t, w, sz)
    return [(X[p, : got[p]].copy(), W[p, : got[p]].copy()) for p in range(sz.size)]


def gauss_rule(nodes, weights, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n``-node Gauss rule of the discrete measure :math:`\\sum_j w_j \\delta_{t_j}`
    (see :func:`gauss_rules`).

    Parameters
    ----------
    nodes, weights : array_like
        Node positions and non-negative weights (normalised here); zero weights are ignored.
    n : int
        Nodes wanted; fewer are returned when the measure has fewer distinct nodes.

    Returns
    -------
    (x, w) : the Gauss nodes (ascending) and their weights (summing to 1).
    """
    return gauss_rules(nodes, weights, [n])[0]
