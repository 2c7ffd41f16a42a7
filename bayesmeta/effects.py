r"""Effect sizes (numpy kernels, vectorised): SMD, MD, log RR, log OR, RD, and SE from a CI.

Direction: arm 1 (experimental, e.g. US) minus arm 2 (control, e.g. FL); ratios arm 1 / arm 2.

SMD conventions
---------------
Both use the pooled SD :math:`S = \sqrt{((n_1-1)s_1^2 + (n_2-1)s_2^2)/(N-2)}`, :math:`N = n_1+n_2`,
:math:`d = (\bar x_1 - \bar x_2)/S`.

* ``"metafor"`` (``escalc(measure="SMD")``; Hedges 1981, doi:10.3102/10769986006002107): exact
  correction :math:`J(m) = \Gamma(m/2)/\{\sqrt{m/2}\,\Gamma((m-1)/2)\}`, :math:`m = N - 2`,
  :math:`g = J d`, :math:`v = 1/n_1 + 1/n_2 + g^2/(2N)`.
* ``"revman"`` (RevMan 5 statistical algorithms, Deeks & Higgins 2010): approximate correction
  :math:`g = d\,(1 - 3/(4N - 9))`, :math:`v = N/(n_1 n_2) + g^2/(2(N - 3.94))`.

Binary outcomes
---------------
RevMan's zero-cell rule: 0.5 is added to every cell of a study with a zero cell (RR, OR); a study
with no events in either arm (double zero) or events in every participant of both arms is not
estimable for RR and OR (``yi`` is NaN) but keeps its participants. RD needs no correction and keeps
every study (Deeks & Higgins 2010; Cochrane Handbook section 10.4.4.2).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats


def _a(x):
    return np.asarray(x, dtype=float)


def hedges_j(m):
    """Exact small-sample correction J(m) (Hedges 1981), computed on the log scale."""
    m = _a(m)
    return np.exp(special.gammaln(m / 2) - 0.5 * np.log(m / 2) - special.gammaln((m - 1) / 2))


def smd(m1, sd1, n1, m2, sd2, n2, convention: str = "metafor"):
    """Hedges' g and its sampling variance; ``convention`` is ``"metafor"`` or ``"revman"``."""
    m1, sd1, n1, m2, sd2, n2 = map(_a, (m1, sd1, n1, m2, sd2, n2))
    N = n1 + n2
    s = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (N - 2))
    d = (m1 - m2) / s
    if convention == "metafor":
        g = hedges_j(N - 2) * d
        return g, 1 / n1 + 1 / n2 + g**2 / (2 * N)
    if convention == "revman":
        g = d * (1 - 3 / (4 * N - 9))
        return g, N / (n1 * n2) + g**2 / (2 * (N - 3.94))
    raise ValueError(f"unknown SMD convention {convention!r}; use 'metafor' or 'revman'")


def md(m1, sd1, n1, m2, sd2, n2):
    """Mean difference and variance sd1^2/n1 + sd2^2/n2."""
    m1, sd1, n1, m2, sd2, n2 = map(_a, (m1, sd1, n1, m2, sd2, n2))
    return m1 - m2, sd1**2 / n1 + sd2**2 / n2


def _cells(ai, n1i, ci, n2i, add, rule):
    ai, n1i, ci, n2i = map(_a, (ai, n1i, ci, n2i))
    bi, di = n1i - ai, n2i - ci
    if np.any((ai < 0) | (ci < 0) | (bi < 0) | (di < 0)):
        raise ValueError("events must lie between 0 and n")
    zero = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
    if rule == "only0":
        adj = np.where(zero, add, 0.0)
    elif rule == "all":
        adj = np.full(ai.shape, add)
    elif rule == "none":
        adj = np.zeros(ai.shape)
    else:
        raise ValueError("rule must be 'only0', 'all' or 'none'")
    return ai + adj, bi + adj, ci + adj, di + adj


def _inestimable(ai, n1i, ci, n2i):
    ai, n1i, ci, n2i = map(_a, (ai, n1i, ci, n2i))
    return ((ai == 0) & (ci == 0)) | ((ai == n1i) & (ci == n2i))


def log_rr(ai, n1i, ci, n2i, add=0.5, rule="only0", drop_double_zero=True):
    """log risk ratio and variance 1/a - 1/n1 + 1/c - 1/n2 (RevMan zero-cell rule by default)."""
    a, b, c, d = _cells(ai, n1i, ci, n2i, add, rule)
    yi = np.log(a / (a + b)) - np.log(c / (c + d))
    vi = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    if drop_double_zero:
        bad = _inestimable(ai, n1i, ci, n2i)
        yi, vi = np.where(bad, np.nan, yi), np.where(bad, np.nan, vi)
    return yi, vi


def log_or(ai, n1i, ci, n2i, add=0.5, rule="only0", drop_double_zero=True):
    """log odds ratio and variance 1/a + 1/b + 1/c + 1/d (RevMan zero-cell rule by default)."""
    a, b, c, d = _cells(ai, n1i, ci, n2i, add, rule)
    yi = np.log(a * d / (b * c))
    vi = 1 / a + 1 / b + 1 / c + 1 / d
    if drop_double_zero:
        bad = _inestimable(ai, n1i, ci, n2i)
        yi, vi = np.where(bad, np.nan, yi), np.where(bad, np.nan, vi)
    return yi, vi


def rd(ai, n1i, ci, n2i):
    """Risk difference and variance p1(1-p1)/n1 + p2(1-p2)/n2 (no correction; every study kept)."""
    ai, n1i, ci, n2i = map(_a, (ai, n1i, ci, n2i))
    p1, p2 = ai / n1i, ci / n2i
    return p1 - p2, p1 * (1 - p1) / n1i + p2 * (1 - p2) / n2i


def se_from_ci(lb, ub, level=0.95, log=False):
    """Standard error implied by a symmetric Wald CI: (ub - lb) / (2 z); log scale for ratios."""
    lb, ub = _a(lb), _a(ub)
    if log:
        if np.any((lb <= 0) | (ub <= 0)):
            raise ValueError("ratio CI bounds must be positive")
        lb, ub = np.log(lb), np.log(ub)
    if np.any(ub < lb):
        raise ValueError("ci upper bound below lower bound")
    return (ub - lb) / (2 * stats.norm.ppf(0.5 + level / 2))


def escalc(measure: str, **arrays) -> pd.DataFrame:
    """Effect sizes as a DataFrame with ``yi``, ``vi``, ``sei`` (metafor-like front end).

    ``measure``: ``"SMD"`` (metafor convention), ``"SMD_revman"``, ``"MD"`` (arrays ``m1i, sd1i,
    n1i, m2i, sd2i, n2i``) or ``"RR"``, ``"OR"``, ``"RD"`` (arrays ``ai, n1i, ci, n2i``).
    """
    m = measure.upper()
    if m in ("SMD", "SMD_REVMAN", "MD"):
        args = [arrays[k] for k in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")]
        yi, vi = md(*args) if m == "MD" else smd(*args, convention="revman" if m == "SMD_REVMAN" else "metafor")
    elif m in ("RR", "OR", "RD"):
        args = [arrays[k] for k in ("ai", "n1i", "ci", "n2i")]
        yi, vi = {"RR": log_rr, "OR": log_or, "RD": rd}[m](*args)
    else:
        raise ValueError(f"unknown measure {measure!r}")
    return pd.DataFrame({"yi": yi, "vi": vi, "sei": np.sqrt(vi)})
