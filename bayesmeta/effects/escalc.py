r"""Effect sizes for two-arm studies: numpy kernels returning ``(yi, vi)``.

Every kernel is vectorised (arrays broadcast elementwise, no Python loops) and returns the
estimate ``yi`` and its sampling variance ``vi``; :func:`escalc` wraps them in a DataFrame with
``yi``, ``vi`` and ``sei`` like metafor's ``escalc()``.

Direction: arm 1 (experimental) minus arm 2 (control); ratios are arm 1 / arm 2,
on the log scale.

Continuous outcomes
-------------------
With means :math:`\bar x_j`, SDs :math:`s_j`, sizes :math:`n_j`, :math:`N = n_1 + n_2`:

* MD: :math:`y = \bar x_1 - \bar x_2`, :math:`v = s_1^2/n_1 + s_2^2/n_2`.
* SMD (Hedges' g) in two conventions, see :func:`smd`: metafor's (exact correction :math:`J`) and
  RevMan 5's (approximate correction, a different variance).

Binary outcomes
---------------
:math:`a, b` events and non-events in arm 1 (:math:`n_1 = a + b`), :math:`c, d` in arm 2.

* log RR: :math:`\log\{(a/n_1)/(c/n_2)\}`, :math:`v = 1/a - 1/n_1 + 1/c - 1/n_2`.
* log OR: :math:`\log\{ad/(bc)\}`, :math:`v = 1/a + 1/b + 1/c + 1/d`.
* RD: :math:`a/n_1 - c/n_2`, :math:`v = p_1(1-p_1)/n_1 + p_2(1-p_2)/n_2`.

* Peto log OR: :math:`y = (a - E)/V`, :math:`v = 1/V` with :math:`E = n_1(a+c)/N`,
  :math:`V = n_1 n_2 (a+c)(b+d)/\{N^2(N-1)\}` (Yusuf et al. 1985, doi:10.1016/S0033-0620(85)80003-7).

Zero cells: 0.5 is added to every cell of a study with at least one zero cell (``add=0.5,
to="only0"``; RevMan 5 and metafor agree). A study with no events in either arm (double zero), or
only events in both, carries little information on a ratio scale. The two programs differ here,
and :func:`escalc` follows metafor by default (``zero_rule="metafor"``: metafor's ``escalc``
default ``drop00=FALSE`` keeps such a study, with 0.5 added to its cells); ``zero_rule="revman"``
applies RevMan's rule: the study is excluded from RR/OR pooling (``yi``/``vi`` are NaN) but keeps
its participants in the totals (Deeks & Higgins 2010; Cochrane Handbook 6.2, section 10.4.4.2).
For RD such studies are kept by both: the difference is estimable, and 0.5 is added to the cells
of zero-cell studies as metafor's ``escalc("RD")`` does (otherwise a double-zero study would have
zero variance). metafor's ``escalc("PETO")`` also adds 0.5 to zero-cell studies; RevMan's Peto
method and metafor's ``rma.peto`` use the raw counts (``to="none"``).

References
----------
Hedges LV (1981). Distribution theory for Glass's estimator of effect size and related estimators.
J Educ Stat 6:107-128. doi:10.3102/10769986006002107

Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2009). Introduction to Meta-Analysis, ch. 4-5.
Wiley. doi:10.1002/9780470743386

Deeks JJ, Higgins JPT (2010). Statistical algorithms in Review Manager 5. The Cochrane
Collaboration. https://training.cochrane.org/handbook/current/statistical-methods-revman5

Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).
doi:10.18637/jss.v036.i03
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from bayesmeta.effects.measures import MEASURES, get_measure, se_from_ci

__all__ = [
    "ADD_ZERO",
    "VTYPES",
    "ZERO_RULES",
    "correlation",
    "double_zero",
    "escalc",
    "incidence_rate",
    "incidence_rates",
    "mean_change",
    "partial_correlation",
    "proportion",
    "single_mean",
    "hedges_j",
    "log_or",
    "log_rr",
    "md",
    "peto_or",
    "rd",
    "se_from_ci",
    "smd",
    "zero_cell",
]

ZERO_RULES = ("metafor", "revman")


def _a(x):
    return np.asarray(x, dtype=float)


#: metafor's ``vtype`` options per measure (the first is the default, ``"LS"``).
VTYPES: dict[str, tuple[str, ...]] = {
    "SMD": ("LS", "UB", "LS2", "AV"), "SMD1": ("LS", "UB", "LS2", "AV"), "SMDH": ("LS", "LS2", "LS3"),
    "MD": ("LS", "UB", "HO"), "ROM": ("LS", "HO", "AV", "AVHO"), "RD": ("LS", "UB", "AV"),
    "COR": ("LS", "UB", "AV"), "UCOR": ("LS", "UB", "AV"), "PCOR": ("LS", "AV"), "SPCOR": ("LS", "AV"),
    "PR": ("LS", "UB", "AV"), "PLN": ("LS", "AV"), "PLO": ("LS", "AV"), "SMCC": ("LS", "LS2"),
    "SMCR": ("LS", "LS2"), "SMCRH": ("LS", "LS2"),
}
#: Measures whose default ``add`` is 0 (metafor: no continuity correction for these).
ADD_ZERO = frozenset({"AS", "PHI", "RTET", "IRSD", "PAS", "PFT", "IRS", "IRFT"})


def _wmean(x, w):
    """Weighted mean ignoring NaN (metafor's ``.wmean(..., na.rm=TRUE)``)."""
    x, w = np.broadcast_arrays(_a(x), _a(w))
    ok = np.isfinite(x) & np.isfinite(w)
    return float(np.sum(x[ok] * w[ok]) / np.sum(w[ok])) if ok.any() else np.nan


def _vtypes(vtype, measure, options):
    """The variance of each study under metafor's ``vtype`` (one code, or one per study).

    ``options`` maps codes to arrays (or to callables, evaluated only when chosen).
    """
    allowed = VTYPES.get(measure, tuple(options))
    codes = [vtype] if isinstance(vtype, str) else list(vtype)
    bad = sorted({str(v) for v in codes} - set(allowed))
    if bad:
        raise ValueError(f"vtype for {measure} must be one of {', '.join(allowed)}; got {', '.join(bad)}")
    vals = {c: np.asarray(options[c]() if callable(options[c]) else options[c], dtype=float) for c in set(codes)}
    if isinstance(vtype, str):
        return vals[vtype]
    shape = np.broadcast_shapes(*(v.shape for v in vals.values()))
    if len(codes) != (shape[0] if shape else 1):
        raise ValueError(f"vtype has {len(codes)} entries for {shape[0] if shape else 1} studies")
    out = np.empty(shape)
    for i, c in enumerate(codes):
        out[i] = np.broadcast_to(vals[c], shape)[i]
    return out


def _hyp2f1(a, b, c, x):
    """Gauss's hypergeometric function 2F1(a, b; c; x) for 0 <= x < 1 (UCOR).

    scipy's ``hyp2f1`` returns NaN for large ``c`` near ``x = 1`` (e.g. n = 1832, r = 0.15); there
    the power series converges fast (its terms shrink like (k / (c + k)) x), and it is summed to
    double precision.
    """
    c, x = np.broadcast_arrays(_a(c), _a(x))
    out = np.asarray(special.hyp2f1(a, b, c, x), dtype=float).copy()
    redo = ~np.isfinite(out) & np.isfinite(c) & np.isfinite(x)
    if redo.any():
        cc, xx = c[redo], x[redo]
        term, total = np.ones_like(cc), np.ones_like(cc)
        for k in range(200000):
            term = term * (a + k) * (b + k) / ((cc + k) * (k + 1)) * xx
            total = total + term
            if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
                break
        out[redo] = total
    return out


def _adjust(x, zero, add, to):
    """``x + add`` where ``to`` says (``zero`` marks the studies with a zero cell)."""
    if to == "only0":
        return x + np.where(zero, add, 0.0)
    if to == "if0all":
        return x + (add if np.any(zero) else 0.0)
    if to == "all":
        return x + add
    if to == "none":
        return x + 0.0
    raise ValueError("to must be 'only0', 'all', 'if0all' or 'none'")


def hedges_j(m):
    r"""Exact small-sample bias correction of Hedges (1981).

    .. math:: J(m) = \frac{\Gamma(m/2)}{\sqrt{m/2}\,\Gamma((m-1)/2)}, \qquad m = n_1 + n_2 - 2,

    computed on the log scale (``gammaln``) so that it is finite for large ``m``.

    Parameters
    ----------
    m : array_like
        Degrees of freedom of the pooled SD (> 1).

    Returns
    -------
    ndarray
        :math:`J(m)`, which tends to :math:`1 - 3/(4m - 1)` as :math:`m` grows.

    Examples
    --------
    >>> float(hedges_j(18))  # doctest: +ELLIPSIS
    0.957...
    """
    m = _a(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        j = np.exp(special.gammaln(m / 2) - 0.5 * np.log(m / 2) - special.gammaln((m - 1) / 2))
    return np.where(m > 1, j, np.nan)  # metafor's .cmicalc: NA for m <= 1


def smd(m1, sd1, n1, m2, sd2, n2, convention: str = "metafor", vtype="LS"):
    r"""Standardised mean difference (Hedges' g) and its sampling variance.

    Both conventions use the pooled SD and Cohen's d,

    .. math:: S = \sqrt{\frac{(n_1-1)s_1^2 + (n_2-1)s_2^2}{N-2}}, \qquad
              d = \frac{\bar x_1 - \bar x_2}{S}, \qquad N = n_1 + n_2,

    and differ in the bias correction and the variance:

    ``"metafor"`` (metafor ``escalc(measure="SMD")``, default ``vtype="LS"``; Hedges 1981,
    Borenstein et al. 2009 eq. 4.20-4.24 with the exact :math:`J`)

    .. math:: g = J(N-2)\,d, \qquad v = \frac{1}{n_1} + \frac{1}{n_2} + \frac{g^2}{2N}.

    ``"revman"`` (RevMan 5, Deeks & Higgins 2010, "Statistical algorithms in Review Manager 5",
    section on standardised mean difference)

    .. math:: g = d\left(1 - \frac{3}{4N - 9}\right), \qquad
              v = \frac{N}{n_1 n_2} + \frac{g^2}{2(N - 3.94)}.

    The RevMan correction is the first-order approximation :math:`1 - 3/(4(N-2) - 1)` of
    :math:`J(N-2)`; the two conventions agree to :math:`O(N^{-2})` in ``yi`` but not in ``vi``
    (:math:`2(N-3.94)` versus :math:`2N`), so a reanalysis of a RevMan forest plot should use
    ``"revman"``. There is no R reference for the RevMan convention: it is tested against the
    formula worked by hand.

    Parameters
    ----------
    m1, sd1, n1 : array_like
        Mean, SD and size of arm 1 (experimental).
    m2, sd2, n2 : array_like
        Mean, SD and size of arm 2 (control).
    convention : {"metafor", "revman"}
    vtype : {"LS", "UB", "LS2", "AV"} or sequence
        metafor's variance type for ``"metafor"``: large-sample (default), unbiased, the
        large-sample variance of d times :math:`J^2`, or with the sample-size weighted mean of g.

    Returns
    -------
    yi, vi : ndarray
        Hedges' g (arm 1 minus arm 2) and its sampling variance.

    References
    ----------
    Hedges 1981, doi:10.3102/10769986006002107; Borenstein et al. 2009, doi:10.1002/9780470743386;
    Deeks & Higgins 2010 (RevMan 5 statistical algorithms).

    Examples
    --------
    >>> g, v = smd(5, 2, 10, 4, 2, 10, convention="revman")  # d = 0.5, g = 0.5 (1 - 3/71)
    >>> round(float(g), 6)
    0.478873
    """
    m1, sd1, n1, m2, sd2, n2 = map(_a, (m1, sd1, n1, m2, sd2, n2))
    N = n1 + n2
    s = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (N - 2))
    d = (m1 - m2) / s
    if convention == "metafor":
        J = hedges_j(N - 2)
        g = J * d
        return g, _vtypes(vtype, "SMD", {
            "LS": 1 / n1 + 1 / n2 + g**2 / (2 * N),
            "UB": 1 / n1 + 1 / n2 + (1 - (N - 4) / ((N - 2) * J**2)) * g**2,
            "LS2": J**2 * (1 / n1 + 1 / n2 + d**2 / (2 * N)),
            "AV": lambda: 1 / n1 + 1 / n2 + _wmean(g, N) ** 2 / (2 * N),
        })
    if convention == "revman":
        g = d * (1 - 3 / (4 * N - 9))
        return g, N / (n1 * n2) + g**2 / (2 * (N - 3.94))
    raise ValueError(f"unknown SMD convention {convention!r}; use 'metafor' or 'revman'")


def md(m1, sd1, n1, m2, sd2, n2, vtype="LS"):
    r"""Mean difference :math:`\bar x_1 - \bar x_2` and variance :math:`s_1^2/n_1 + s_2^2/n_2`.

    This is metafor's ``escalc("MD")`` (default ``vtype="LS"``, unpooled variances; ``"HO"``
    uses the pooled SD, :math:`S^2(1/n_1 + 1/n_2)`) and RevMan 5's MD.

    Returns
    -------
    yi, vi : ndarray
    """
    m1, sd1, n1, m2, sd2, n2 = map(_a, (m1, sd1, n1, m2, sd2, n2))
    sp2 = ((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2)
    unpooled = sd1**2 / n1 + sd2**2 / n2
    return m1 - m2, _vtypes(vtype, "MD", {"LS": unpooled, "UB": unpooled, "HO": sp2 * (1 / n1 + 1 / n2)})


def zero_cell(ai, n1i, ci, n2i):
    """True for studies with at least one zero cell in the 2x2 table."""
    ai, n1i, ci, n2i = map(_a, (ai, n1i, ci, n2i))
    return (ai == 0) | (ai == n1i) | (ci == 0) | (ci == n2i)


def double_zero(ai, n1i, ci, n2i):
    """True for studies with no events in both arms, or only events in both (RR/OR not estimable)."""
    ai, n1i, ci, n2i = map(_a, (ai, n1i, ci, n2i))
    return ((ai == 0) & (ci == 0)) | ((ai == n1i) & (ci == n2i))


def _cells(ai, n1i, ci, n2i, add, to):
    ai, n1i, ci, n2i = map(_a, (ai, n1i, ci, n2i))
    bi, di = n1i - ai, n2i - ci
    with np.errstate(invalid="ignore"):
        bad = np.any((ai < 0) | (ci < 0) | (bi < 0) | (di < 0)) or np.any((n1i <= 0) | (n2i <= 0))
    if bad:
        raise ValueError("events must lie between 0 and n, and n must be positive")
    if to == "only0":
        adj = np.where(zero_cell(ai, n1i, ci, n2i), add, 0.0)
    elif to == "if0all":
        adj = np.full(ai.shape, float(add) if np.any(zero_cell(ai, n1i, ci, n2i)) else 0.0)
    elif to == "all":
        adj = np.full(ai.shape, float(add))
    elif to == "none":
        adj = np.zeros(ai.shape)
    else:
        raise ValueError("to must be 'only0', 'all', 'if0all' or 'none'")
    return ai + adj, bi + adj, ci + adj, di + adj


def _drop(yi, vi, bad):
    return np.where(bad, np.nan, yi), np.where(bad, np.nan, vi)


def log_rr(ai, n1i, ci, n2i, add=0.5, to="only0", drop00=False):
    r"""Log risk ratio (arm 1 / arm 2) and its variance.

    .. math:: y = \log\frac{a/(a+b)}{c/(c+d)}, \qquad v = \frac1a - \frac1{a+b} + \frac1c - \frac1{c+d},

    after adding ``add`` to every cell of studies with a zero cell (``to="only0"``, RevMan 5 and
    metafor default; ``"all"`` adds to every study, ``"none"`` never).

    Parameters
    ----------
    ai, n1i : array_like
        Events and participants in arm 1.
    ci, n2i : array_like
        Events and participants in arm 2.
    add : float
        Continuity correction (0.5).
    to : {"only0", "all", "none"}
    drop00 : bool
        Return NaN for double-zero (or double-full) studies, as RevMan excludes them. Default
        False, as metafor's ``escalc`` (0.5 added to their cells).

    Returns
    -------
    yi, vi : ndarray
    """
    a, b, c, d = _cells(ai, n1i, ci, n2i, add, to)
    yi = np.log(a / (a + b)) - np.log(c / (c + d))
    vi = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    return _drop(yi, vi, double_zero(ai, n1i, ci, n2i)) if drop00 else (yi, vi)


def log_or(ai, n1i, ci, n2i, add=0.5, to="only0", drop00=False):
    r"""Log odds ratio (arm 1 / arm 2) and its variance (Woolf).

    .. math:: y = \log\frac{a d}{b c}, \qquad v = \frac1a + \frac1b + \frac1c + \frac1d,

    with the zero-cell rule and ``drop00`` as in :func:`log_rr`.

    Returns
    -------
    yi, vi : ndarray
    """
    a, b, c, d = _cells(ai, n1i, ci, n2i, add, to)
    yi = np.log(a * d / (b * c))
    vi = 1 / a + 1 / b + 1 / c + 1 / d
    return _drop(yi, vi, double_zero(ai, n1i, ci, n2i)) if drop00 else (yi, vi)


def peto_or(ai, n1i, ci, n2i, add=0.0, to="none"):
    r"""Peto's one-step log odds ratio (arm 1 / arm 2) and its variance.

    .. math:: y = \frac{a - E}{V}, \qquad v = \frac1V, \qquad E = \frac{n_1 (a + c)}{N}, \qquad
              V = \frac{n_1 n_2 (a + c)(b + d)}{N^2 (N - 1)}

    (Yusuf, Peto, Lewis, Collins & Sleight 1985, doi:10.1016/S0033-0620(85)80003-7; RevMan 5's
    Peto method, Deeks & Higgins 2010). The default uses the raw counts, as RevMan and metafor's
    ``rma.peto``; metafor's ``escalc("PETO")`` adds 0.5 to zero-cell studies (``add=0.5,
    to="only0"``). A table with no events (or only events) in both arms has :math:`V = 0`: NaN.

    Returns
    -------
    yi, vi : ndarray
    """
    a, b, c, d = _cells(ai, n1i, ci, n2i, add, to)
    n1, n2 = a + b, c + d
    N = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        V = (a + c) * (b + d) * n1 * n2 / (N**2 * (N - 1))
        yi = (a - (a + c) * n1 / N) / V
        vi = 1.0 / V
    bad = ~(V > 0)
    return np.where(bad, np.nan, yi), np.where(bad, np.nan, vi)


def rd(ai, n1i, ci, n2i, add=0.5, to="only0", vtype="LS"):
    r"""Risk difference (arm 1 minus arm 2) and its variance.

    .. math:: y = p_1 - p_2, \qquad v = \frac{p_1(1-p_1)}{n_1} + \frac{p_2(1-p_2)}{n_2},
              \qquad p_1 = \frac{a}{a+b},\; p_2 = \frac{c}{c+d},

    with ``add`` added to every cell of zero-cell studies (``to="only0"``, metafor's ``escalc``
    default) so that double-zero studies, which are kept for RD, have a positive variance. Use
    ``to="none"`` for the raw proportions (a double-zero study then has ``vi = 0``).

    Returns
    -------
    yi, vi : ndarray
    """
    a, b, c, d = _cells(ai, n1i, ci, n2i, add, to)
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    return p1 - p2, _vtypes(vtype, "RD", {
        "LS": p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2,
        "UB": p1 * (1 - p1) / (n1 - 1) + p2 * (1 - p2) / (n2 - 1),
        "AV": lambda: _wmean(p1, n1) * (1 - _wmean(p1, n1)) / n1 + _wmean(p2, n2) * (1 - _wmean(p2, n2)) / n2,
    })


def smdh(m1, sd1, n1, m2, sd2, n2, vtype="LS"):
    r"""Standardised mean difference with heteroscedastic SDs (Bonett 2009; metafor ``"SMDH"``).

    With :math:`s_p^2 = (s_1^2 + s_2^2)/2`,

    .. math:: g = J(N-2)\,\frac{\bar x_1 - \bar x_2}{s_p}, \qquad
              v = \frac{g^2}{8 s_p^4}\Big(\frac{s_1^4}{n_1 - 1} + \frac{s_2^4}{n_2 - 1}\Big)
                + \frac{1}{s_p^2}\Big(\frac{s_1^2}{n_1 - 1} + \frac{s_2^2}{n_2 - 1}\Big)

    (``vtype="LS"``, Bonett 2008 eq. 8, 2009 eq. 5; ``"LS2"`` replaces every :math:`n_j - 1` by
    :math:`n_j`, ``"LS3"`` only those of the first term). These are metafor's formulas since 4.6-0
    (R/escalc.r of metafor 5.0-1, lines 1037-1072), which its test suite checks
    (test_misc_escalc.r lines 66-68); metafor 3.8 multiplied the LS variance by :math:`J^2` and had
    another LS2.

    References
    ----------
    Bonett DG (2009). Meta-analytic interval estimation for standardized and unstandardized mean
    differences. Psychol Methods 14:225-238. doi:10.1037/a0016619
    """
    m1, sd1, n1, m2, sd2, n2 = map(_a, (m1, sd1, n1, m2, sd2, n2))
    J = hedges_j(n1 + n2 - 2)
    v1, v2 = sd1**2, sd2**2
    sp2 = (v1 + v2) / 2
    g = J * (m1 - m2) / np.sqrt(sp2)
    return g, _vtypes(vtype, "SMDH", {
        "LS": g**2 * (v1**2 / (n1 - 1) + v2**2 / (n2 - 1)) / (8 * sp2**2) + (v1 / (n1 - 1) + v2 / (n2 - 1)) / sp2,
        "LS2": v1 / (n1 * sp2) + v2 / (n2 * sp2) + g**2 / (8 * sp2**2) * (v1**2 / n1 + v2**2 / n2),
        "LS3": v1 / (n1 * sp2) + v2 / (n2 * sp2) + g**2 / (8 * sp2**2) * (v1**2 / (n1 - 1) + v2**2 / (n2 - 1)),
    })


def smd1(m1, n1, m2, sd2, n2, vtype="LS"):
    r"""Mean difference standardised by the control arm's SD (Glass's delta; metafor ``"SMD1"``).

    .. math:: g = J(n_2 - 1)\,\frac{\bar x_1 - \bar x_2}{s_2}, \qquad
              v = \frac1{n_1} + \frac1{n_2} + \frac{g^2}{2 n_2}

    (metafor 3.8, ``vtype="LS"``; Glass, McGaw & Smith 1981).
    """
    m1, n1, m2, sd2, n2 = map(_a, (m1, n1, m2, sd2, n2))
    J = hedges_j(n2 - 1)
    d = (m1 - m2) / sd2
    g = J * d
    return g, _vtypes(vtype, "SMD1", {
        "LS": 1 / n1 + 1 / n2 + g**2 / (2 * n2),
        "UB": 1 / n1 + 1 / n2 + (1 - (n2 - 3) / ((n2 - 1) * J**2)) * g**2,
        "LS2": J**2 * (1 / n1 + 1 / n2 + d**2 / (2 * n2)),
        "AV": lambda: 1 / n1 + 1 / n2 + _wmean(g, n1 + n2) ** 2 / (2 * n2),
    })


def log_rom(m1, sd1, n1, m2, sd2, n2, vtype="LS"):
    r"""Log ratio of means (Hedges, Gurevitch & Curtis 1999; metafor ``"ROM"``).

    .. math:: y = \log\frac{\bar x_1}{\bar x_2}, \qquad
              v = \frac{s_1^2}{n_1 \bar x_1^2} + \frac{s_2^2}{n_2 \bar x_2^2}

    (``vtype="LS"``; ``"HO"`` uses the pooled SD, ``"AV"`` and ``"AVHO"`` the sample-size weighted
    mean coefficients of variation). Means must be positive.

    References
    ----------
    Hedges LV, Gurevitch J, Curtis PS (1999). The meta-analysis of response ratios in experimental
    ecology. Ecology 80:1150-1156. doi:10.1890/0012-9658(1999)080[1150:TMAORR]2.0.CO;2
    """
    m1, sd1, n1, m2, sd2, n2 = map(_a, (m1, sd1, n1, m2, sd2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        yi = np.log(m1 / m2)
    sp2 = ((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2)

    def avho():
        cv1, cv2 = sd1 / m1, sd2 / m2
        ok = np.isfinite(cv1) & np.isfinite(cv2) & np.isfinite(n1) & np.isfinite(n2)
        cv = (np.sum((n1 * cv1)[ok]) + np.sum((n2 * cv2)[ok])) / np.sum((n1 + n2)[ok])
        return cv**2 * (1 / n1 + 1 / n2)

    return yi, _vtypes(vtype, "ROM", {
        "LS": sd1**2 / (n1 * m1**2) + sd2**2 / (n2 * m2**2),
        "HO": sp2 / (n1 * m1**2) + sp2 / (n2 * m2**2),
        "AV": lambda: _wmean(sd1 / m1, n1) ** 2 / n1 + _wmean(sd2 / m2, n2) ** 2 / n2,
        "AVHO": avho,
    })


def arcsine_rd(ai, n1i, ci, n2i, add=0.0, to="only0"):
    r"""Arcsine square-root risk difference (Rücker et al. 2009; metafor ``"AS"``).

    .. math:: y = \arcsin\sqrt{p_1} - \arcsin\sqrt{p_2}, \qquad v = \frac1{4n_1} + \frac1{4n_2}

    References
    ----------
    Rücker G, Schwarzer G, Carpenter J, Olkin I (2009). Why add anything to nothing? The arcsine
    difference as a measure of treatment effect in meta-analysis with zero cells. Stat Med
    28:721-738. doi:10.1002/sim.3511
    """
    a, b, c, d = _cells(ai, n1i, ci, n2i, add, to)
    n1, n2 = a + b, c + d
    return np.arcsin(np.sqrt(a / n1)) - np.arcsin(np.sqrt(c / n2)), 1 / (4 * n1) + 1 / (4 * n2)


def incidence_rates(x1i, t1i, x2i, t2i, measure="IRR", add=0.5, to="only0", drop00=False):
    r"""Two-group incidence rate comparisons: ``"IRR"`` (log rate ratio), ``"IRD"``, ``"IRSD"``.

    With events :math:`x_j` over person-time :math:`t_j` and rates :math:`r_j = x_j / t_j`:

    * IRR: :math:`\log(r_1/r_2)`, :math:`v = 1/x_1 + 1/x_2`;
    * IRD: :math:`r_1 - r_2`, :math:`v = r_1/t_1 + r_2/t_2`;
    * IRSD: :math:`\sqrt{r_1} - \sqrt{r_2}`, :math:`v = 1/(4t_1) + 1/(4t_2)`;

    ``add`` is added to the counts of studies with a zero count (``to="only0"``), metafor's
    defaults (``add=0`` for IRSD); ``drop00`` makes studies with no events in either group NaN.
    """
    x1, t1, x2, t2 = map(_a, (x1i, t1i, x2i, t2i))
    with np.errstate(invalid="ignore"):
        if np.any((x1 < 0) | (x2 < 0)):
            raise ValueError("event counts must not be negative")
        if np.any((t1 <= 0) | (t2 <= 0)):
            raise ValueError("person-times must be positive")
        zero = (x1 == 0) | (x2 == 0)
        both = (x1 == 0) & (x2 == 0)
    x1, x2 = _adjust(x1, zero, add, to), _adjust(x2, zero, add, to)
    r1, r2 = x1 / t1, x2 / t2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "IRR":
            yi, vi = np.log(r1) - np.log(r2), 1 / x1 + 1 / x2
        elif measure == "IRD":
            yi, vi = r1 - r2, r1 / t1 + r2 / t2
        elif measure == "IRSD":
            yi, vi = np.sqrt(r1) - np.sqrt(r2), 1 / (4 * t1) + 1 / (4 * t2)
        else:
            raise ValueError(f"unknown two-group rate measure {measure!r}; use IRR, IRD or IRSD")
    return _drop(yi, vi, both) if drop00 else (yi, vi)


def correlation(ri, ni, measure="COR", vtype="LS"):
    r"""Correlation coefficients: ``"COR"`` (raw r), ``"UCOR"`` (unbiased), ``"ZCOR"`` (Fisher's z).

    * COR: :math:`y = r`, :math:`v = (1 - r^2)^2 / (n - 1)` (``vtype="LS"``; ``"AV"`` with the
      sample-size weighted mean r);
    * UCOR: :math:`y = r\,{}_2F_1(\tfrac12, \tfrac12; \tfrac{n-2}2; 1 - r^2)` (Olkin & Pratt 1958),
      with the LS variance or the unbiased one (``vtype="UB"``); NaN for :math:`n \le 4`;
    * ZCOR: :math:`y = \operatorname{artanh} r`, :math:`v = 1/(n - 3)`.

    The variance is NaN for :math:`n \le 3` (metafor).

    References
    ----------
    Olkin I, Pratt JW (1958). Unbiased estimation of certain correlation coefficients. Ann Math
    Stat 29:201-211. doi:10.1214/aoms/1177706717
    Fisher RA (1921). On the "probable error" of a coefficient of correlation deduced from a small
    sample. Metron 1:3-32.
    """
    r, n = map(_a, (ri, ni))
    with np.errstate(invalid="ignore"):
        if np.any(np.abs(r) > 1):
            raise ValueError("correlations must lie in [-1, 1]")
        if np.any(n <= 0):
            raise ValueError("sample sizes must be positive")
    if measure == "ZCOR":
        if not (isinstance(vtype, str) and vtype == "LS"):
            raise ValueError("vtype for ZCOR must be LS")
        with np.errstate(divide="ignore", invalid="ignore"):
            yi, vi = np.arctanh(r), 1 / (n - 3)
    elif measure in ("COR", "UCOR"):
        if measure == "COR":
            if not isinstance(vtype, str) or vtype == "UB":
                codes = [vtype] if isinstance(vtype, str) else list(vtype)
                if "UB" in codes:
                    raise ValueError("vtype='UB' is only for UCOR")
            yi = r.copy()
        else:
            with np.errstate(invalid="ignore"):
                yi = np.where(n > 4, r * _hyp2f1(0.5, 0.5, (n - 2) / 2, 1 - r**2), np.nan)

        def ub():
            with np.errstate(invalid="ignore", divide="ignore"):
                f = np.where(n / 2 > 2, _hyp2f1(1, 1, n / 2, 1 - r**2), np.nan)
                return yi**2 - (1 - (n - 3) / (n - 2) * (1 - r**2) * f)

        vi = _vtypes(vtype, measure, {
            "LS": (1 - yi**2) ** 2 / (n - 1),
            "UB": ub,
            "AV": lambda: (1 - _wmean(yi, n) ** 2) ** 2 / (n - 1),
        })
    else:
        raise ValueError(f"unknown correlation measure {measure!r}; use COR, UCOR or ZCOR")
    vi = np.where(n <= 3, np.nan, vi)
    return np.broadcast_to(yi, np.shape(vi)).astype(float), vi


def partial_correlation(ti, ni, mi, r2i=None, measure="PCOR", vtype="LS"):
    r"""(Semi-)partial correlations from a regression's t statistic (Aloe & Thompson 2013).

    With :math:`t` the test statistic of the predictor, :math:`n` the sample size and :math:`m`
    the number of predictors (df :math:`n - m - 1`):

    * PCOR: :math:`y = t/\sqrt{t^2 + n - m - 1}`, :math:`v = (1 - y^2)^2/(n - m - 1)`;
    * ZPCOR: :math:`\operatorname{artanh}` of it, :math:`v = 1/(n - m - 1)`;
    * SPCOR: :math:`y = t\sqrt{1 - R^2}/\sqrt{n - m - 1}` with the model's :math:`R^2` (``r2i``).

    References
    ----------
    Aloe AM, Thompson CG (2013). The synthesis of partial effect sizes. J Soc Soc Work Res
    4:390-405. doi:10.5243/jsswr.2013.24
    """
    t, n, m = map(_a, (ti, ni, mi))
    with np.errstate(invalid="ignore"):
        if np.any(n <= 0):
            raise ValueError("sample sizes must be positive")
        if np.any(m < 0):
            raise ValueError("numbers of predictors (mi) must not be negative")
        if np.any(n - m - 1 <= 0):
            raise ValueError("the degrees of freedom ni - mi - 1 must be positive")
    df = n - m - 1
    if measure in ("PCOR", "ZPCOR"):
        yi = t / np.sqrt(t**2 + df)
        if measure == "ZPCOR":
            return np.arctanh(yi), 1 / df
        return yi, _vtypes(vtype, "PCOR", {"LS": (1 - yi**2) ** 2 / df, "AV": lambda: (1 - _wmean(yi, n) ** 2) ** 2 / df})
    if measure == "SPCOR":
        if r2i is None:
            raise ValueError("SPCOR needs r2i (the R^2 of the full regression model)")
        r2 = _a(r2i)
        with np.errstate(invalid="ignore"):
            if np.any((r2 < 0) | (r2 > 1)):
                raise ValueError("R^2 values (r2i) must lie in [0, 1]")
        yi = t * np.sqrt(1 - r2) / np.sqrt(df)

        def v(y):
            return (r2**2 - 2 * r2 + (r2 - y**2) + 1 - (r2 - y**2) ** 2) / n

        return yi, _vtypes(vtype, "SPCOR", {"LS": v(yi), "AV": lambda: v(_wmean(yi, n))})
    raise ValueError(f"unknown partial correlation measure {measure!r}; use PCOR, ZPCOR or SPCOR")


def proportion(xi, ni, measure="PR", add=0.5, to="only0", vtype="LS"):
    r"""Single-group proportions: ``"PR"``, ``"PLN"`` (log), ``"PLO"`` (logit), ``"PAS"``, ``"PFT"``.

    With :math:`x` events of :math:`n` (:math:`p = x/n`):

    * PR: :math:`p`, :math:`v = p(1-p)/n`;
    * PLN: :math:`\log p`, :math:`v = 1/x - 1/n`;
    * PLO: :math:`\log\{p/(1-p)\}`, :math:`v = 1/x + 1/(n - x)`;
    * PAS: :math:`\arcsin\sqrt p`, :math:`v = 1/(4n)`;
    * PFT (Freeman & Tukey 1950): :math:`\tfrac12\{\arcsin\sqrt{x/(n+1)} + \arcsin\sqrt{(x+1)/(n+1)}\}`,
      :math:`v = 1/(4n + 2)`.

    ``add`` is added to :math:`x` and :math:`n - x` of studies with :math:`x = 0` or :math:`x = n`
    (``to="only0"``; metafor's default 0.5, 0 for PAS and PFT).

    References
    ----------
    Freeman MF, Tukey JW (1950). Transformations related to the angular and the square root. Ann
    Math Stat 21:607-611. doi:10.1214/aoms/1177729756
    """
    x, n = map(_a, (xi, ni))
    with np.errstate(invalid="ignore"):
        if np.any((x < 0) | (x > n)):
            raise ValueError("event counts must lie between 0 and the group size")
        if np.any(n <= 0):
            raise ValueError("group sizes must be positive")
    m = n - x
    zero = (x == 0) | (m == 0)
    x, m = _adjust(x, zero, add, to), _adjust(m, zero, add, to)
    n = x + m
    p = x / n
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "PR":
            return p, _vtypes(vtype, "PR", {
                "LS": p * (1 - p) / n, "UB": p * (1 - p) / (n - 1),
                "AV": lambda: _wmean(p, n) * (1 - _wmean(p, n)) / n,
            })
        if measure == "PLN":
            return np.log(p), _vtypes(vtype, "PLN", {"LS": 1 / x - 1 / n, "AV": lambda: 1 / (_wmean(p, n) * n) - 1 / n})
        if measure == "PLO":
            return np.log(p / (1 - p)), _vtypes(vtype, "PLO", {
                "LS": 1 / x + 1 / m, "AV": lambda: 1 / (_wmean(p, n) * n) + 1 / ((1 - _wmean(p, n)) * n),
            })
        if measure == "PAS":
            return np.arcsin(np.sqrt(p)), 1 / (4 * n)
        if measure == "PFT":
            return 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1)))), 1 / (4 * n + 2)
    raise ValueError(f"unknown proportion measure {measure!r}; use PR, PLN, PLO, PAS or PFT")


def incidence_rate(xi, ti, measure="IR", add=0.5, to="only0"):
    r"""Single-group incidence rates: ``"IR"``, ``"IRLN"`` (log), ``"IRS"`` (sqrt), ``"IRFT"``.

    With :math:`x` events over person-time :math:`t` (:math:`r = x/t`): IR :math:`r`,
    :math:`v = r/t`; IRLN :math:`\log r`, :math:`v = 1/x`; IRS :math:`\sqrt r`,
    :math:`v = 1/(4t)`; IRFT :math:`\tfrac12(\sqrt r + \sqrt{r + 1/t})`, :math:`v = 1/(4t)`.
    ``add`` (0.5; 0 for IRS and IRFT) is added to zero counts (``to="only0"``).
    """
    x, t = map(_a, (xi, ti))
    with np.errstate(invalid="ignore"):
        if np.any(x < 0):
            raise ValueError("event counts must not be negative")
        if np.any(t <= 0):
            raise ValueError("person-times must be positive")
    x = _adjust(x, x == 0, add, to)
    r = x / t
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "IR":
            return r, r / t
        if measure == "IRLN":
            return np.log(r), 1 / x
        if measure == "IRS":
            return np.sqrt(r), 1 / (4 * t)
        if measure == "IRFT":
            return 0.5 * (np.sqrt(r) + np.sqrt(r + 1 / t)), 1 / (4 * t)
    raise ValueError(f"unknown incidence rate measure {measure!r}; use IR, IRLN, IRS or IRFT")


def single_mean(mi, sdi, ni, measure="MN"):
    r"""A single group's mean: ``"MN"`` (:math:`\bar x`, :math:`s^2/n`) or ``"MNLN"``
    (:math:`\log\bar x`, :math:`s^2/(n\bar x^2)`; positive means)."""
    m, sd, n = map(_a, (mi, sdi, ni))
    with np.errstate(invalid="ignore"):
        if np.any(sd < 0):
            raise ValueError("standard deviations must not be negative")
        if np.any(n <= 0):
            raise ValueError("sample sizes must be positive")
        if measure == "MN":
            return m, sd**2 / n
        if measure == "MNLN":
            if np.any(m < 0):
                raise ValueError("MNLN needs positive means")
            with np.errstate(divide="ignore"):
                return np.log(m), sd**2 / (n * m**2)
    raise ValueError(f"unknown single-group mean measure {measure!r}; use MN or MNLN")


def mean_change(m1i, m2i, sd1i, ni, ri, sd2i=None, measure="SMCR", vtype="LS"):
    r"""Paired (pre/post) mean changes with the correlation ``ri`` of the two measurements.

    With means :math:`\bar x_1, \bar x_2` (time 1 minus time 2, as metafor: pass the later
    measurement as ``m1i`` for a change from baseline), SDs :math:`s_1, s_2`, :math:`n`
    participants, correlation :math:`r` and :math:`J = J(n - 1)`:

    * MC: :math:`\bar x_1 - \bar x_2`, :math:`v = (s_1^2 + s_2^2 - 2 r s_1 s_2)/n`;
    * SMCC (change-score standardisation, Gibbons et al. 1993): :math:`g = J d`,
      :math:`d = (\bar x_1 - \bar x_2)/s_d`, :math:`s_d^2 = s_1^2 + s_2^2 - 2 r s_1 s_2`,
      :math:`v = 1/n + g^2/(2n)`;
    * SMCR (raw-score standardisation, Becker 1988): :math:`g = J(\bar x_1 - \bar x_2)/s_1`,
      :math:`v = 2(1 - r)/n + g^2/(2n)`;
    * SMCRH (heteroscedastic, Bonett 2008 eq. 13): :math:`v = s_d^2/(s_1^2(n-1)) + g^2/(2(n-1))`
      (metafor since 4.6; 3.8 multiplied it by :math:`J^2`);
    * ROMC: :math:`\log(\bar x_1/\bar x_2)`, :math:`v = s_1^2/(n\bar x_1^2) + s_2^2/(n\bar x_2^2)
      - 2 r s_1 s_2/(n \bar x_1 \bar x_2)` (Lajeunesse 2011).

    References
    ----------
    Becker BJ (1988). Synthesizing standardized mean-change measures. Br J Math Stat Psychol
    41:257-278. doi:10.1111/j.2044-8317.1988.tb00901.x
    Morris SB (2008). Estimating effect sizes from pretest-posttest-control group designs. Organ
    Res Methods 11:364-386. doi:10.1177/1094428106291059
    """
    m1, m2, sd1, n, r = map(_a, (m1i, m2i, sd1i, ni, ri))
    with np.errstate(invalid="ignore"):
        if np.any(np.abs(r) > 1):
            raise ValueError("correlations (ri) must lie in [-1, 1]")
        if np.any(n <= 0):
            raise ValueError("sample sizes must be positive")
        if np.any(sd1 < 0):
            raise ValueError("standard deviations must not be negative")
    J = hedges_j(n - 1)
    if measure == "SMCR":
        d = (m1 - m2) / sd1
        g = J * d
        return g, _vtypes(vtype, "SMCR", {
            "LS": 2 * (1 - r) / n + g**2 / (2 * n), "LS2": J**2 * (2 * (1 - r) / n + d**2 / (2 * n)),
        })
    if sd2i is None:
        raise ValueError(f"{measure} needs sd2i (the SD at the second measurement)")
    sd2 = _a(sd2i)
    with np.errstate(invalid="ignore"):
        if np.any(sd2 < 0):
            raise ValueError("standard deviations must not be negative")
    vd = sd1**2 + sd2**2 - 2 * r * sd1 * sd2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "MC":
            return m1 - m2, vd / n
        if measure == "SMCC":
            d = (m1 - m2) / np.sqrt(vd)
            g = J * d
            return g, _vtypes(vtype, "SMCC", {"LS": 1 / n + g**2 / (2 * n), "LS2": J**2 * (1 / n + d**2 / (2 * n))})
        if measure == "SMCRH":  # metafor >= 4.6 (no J^2 factor; test_misc_escalc.r lines 205-207)
            g = J * (m1 - m2) / sd1
            return g, _vtypes(vtype, "SMCRH", {"LS": vd / (sd1**2 * (n - 1)) + g**2 / (2 * (n - 1)),
                                                "LS2": vd / (sd1**2 * n) + g**2 / (2 * n)})
        if measure == "ROMC":
            return np.log(m1 / m2), (sd1**2 / (n * m1**2) + sd2**2 / (n * m2**2)
                                     - 2 * r * sd1 * sd2 / (m1 * m2 * n))
    raise ValueError(f"unknown mean change measure {measure!r}; use MC, SMCC, SMCR, SMCRH or ROMC")


_CONT = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
_BIN = ("ai", "n1i", "ci", "n2i")
#: Optional arguments a measure may take besides its required inputs.
_OPTIONAL = {"SMD1": ("sd1i",), "SMCR": ("sd2i",)}


def _binary_arrays(measure, arrays):
    """ai, n1i, ci, n2i from metafor's cell arguments (ai, bi, ci, di) or sizes (n1i, n2i)."""
    out = {}
    for ev, non, n in (("ai", "bi", "n1i"), ("ci", "di", "n2i")):
        if ev not in arrays:
            raise ValueError(f"escalc({measure!r}) needs {ev} (events) and {non} or {n}")
        e = np.asarray(arrays[ev], dtype=float)
        if non in arrays:
            tot = e + np.asarray(arrays[non], dtype=float)
            if n in arrays:
                given = np.asarray(arrays[n], dtype=float)
                both = np.isfinite(given) & np.isfinite(tot)
                if not np.array_equal(given[both], tot[both]):
                    raise ValueError(f"escalc({measure!r}): {n} is not equal to {ev} + {non} in every study")
                tot = np.where(np.isfinite(tot), tot, given)
        elif n in arrays:
            tot = np.asarray(arrays[n], dtype=float)
        else:
            raise ValueError(f"escalc({measure!r}) needs {non} (non-events) or {n} (group size) besides {ev}")
        out[ev], out[n] = e, tot
    return [out[k] for k in _BIN]


def required_inputs(measure: str) -> tuple[str, ...]:
    """The arguments :func:`escalc` needs for ``measure`` (metafor's names)."""
    return get_measure(measure).inputs


def escalc(measure: str, *, add: float | None = None, to: str = "only0", drop00: bool | None = None,
           vtype="LS", zero_rule: str = "metafor", **arrays) -> pd.DataFrame:
    r"""Effect sizes and sampling variances as a DataFrame (metafor's ``escalc``, numpy kernels).

    Parameters
    ----------
    measure : str
        A code of :data:`bayesmeta.effects.measures.MEASURES` computed from raw data: two-group
        continuous (``MD``, ``SMD``, ``SMD_revman``, ``SMDH``, ``SMD1``, ``ROM``), two-group binary
        (``RR``, ``OR``, ``PETO``, ``RD``, ``AS``), two-group rates (``IRR``, ``IRD``, ``IRSD``),
        correlations (``COR``, ``UCOR``, ``ZCOR``, ``PCOR``, ``ZPCOR``, ``SPCOR``), proportions
        (``PR``, ``PLN``, ``PLO``, ``PAS``, ``PFT``), rates (``IR``, ``IRLN``, ``IRS``, ``IRFT``),
        means (``MN``, ``MNLN``) and paired changes (``MC``, ``SMCC``, ``SMCR``, ``SMCRH``,
        ``ROMC``). ``"SMD"`` is Hedges' g as metafor computes it, ``"SMD_revman"`` as RevMan 5
        does (see :func:`smd`).
    add : float, optional
        Continuity correction for counts; default metafor's: 0.5, but 0 for AS, IRSD, PAS, PFT,
        IRS and IRFT.
    to : {"only0", "all", "if0all", "none"}
        Where ``add`` is added (metafor's ``to``): studies with a zero cell, all studies, all
        studies if any has a zero cell, none.
    drop00 : bool, optional
        NaN for studies with no events in either group (or, for 2x2 tables, only events): metafor's
        ``drop00``. Default: from ``zero_rule`` for RR and OR, else False.
    vtype : str or sequence of str
        metafor's variance type (``"LS"`` default; see :data:`VTYPES` for the options per measure),
        one code or one per study.
    zero_rule : {"metafor", "revman"}
        ``"metafor"`` (default): metafor's ``escalc`` defaults, double-zero studies kept with 0.5
        added (``drop00=FALSE``). ``"revman"``: RevMan's rule, double-zero studies excluded from
        RR and OR (NaN).
    **arrays
        The measure's inputs with metafor's names (:func:`required_inputs`): ``m1i, sd1i, n1i, m2i,
        sd2i, n2i``; ``ai, bi, ci, di`` or ``ai, n1i, ci, n2i``; ``x1i, t1i, x2i, t2i``;
        ``ri, ni``; ``ti, ni, mi[, r2i]``; ``xi, ni`` (or ``xi, mi`` non-events); ``xi, ti``;
        ``mi, sdi, ni``; ``m1i, m2i, sd1i, sd2i, ni, ri``.

    Returns
    -------
    pandas.DataFrame
        Columns ``yi``, ``vi``, ``sei`` (one row per study, input order; NaN where not estimable).

    Examples
    --------
    >>> escalc("RR", ai=[4, 0], n1i=[100, 50], ci=[8, 0], n2i=[100, 50], zero_rule="revman")["yi"].round(4).tolist()
    [-0.6931, nan]
    >>> escalc("RR", ai=[4, 0], bi=[96, 50], ci=[8, 0], di=[92, 50])["yi"].round(4).tolist()  # metafor keeps it
    [-0.6931, 0.0]
    >>> escalc("ZCOR", ri=[0.5], ni=[23])["vi"].tolist()  # 1 / (n - 3)
    [0.05]
    """
    if zero_rule not in ZERO_RULES:
        raise ValueError(f"zero_rule must be one of {ZERO_RULES}")
    if to not in ("only0", "all", "if0all", "none"):
        raise ValueError("to must be 'only0', 'all', 'if0all' or 'none'")
    m = get_measure(measure)
    code = m.code
    if code in ("HR", "GEN"):
        raise ValueError(
            f"{code} is not computed from raw data; make the table with EffectTable.from_yi_sei or from_ci"
        )
    a = 0.0 if (add is None and code in ADD_ZERO) else (0.5 if add is None else float(add))
    d00 = bool(drop00) if drop00 is not None else (zero_rule == "revman" and code in ("RR", "OR"))
    allowed = {*m.inputs, *_OPTIONAL.get(code, ())}
    if m.data == "binary":
        allowed |= {"bi", "di"}
    if m.data == "proportion":
        allowed |= {"mi"}
    extra = sorted(set(arrays) - allowed)
    if extra:
        raise ValueError(
            f"escalc({code!r}) is computed from {', '.join(m.inputs)}; {', '.join(extra)} do not belong to it"
        )
    if m.data == "binary":
        ai, n1i, ci, n2i = _binary_arrays(measure, arrays)
    elif m.data == "proportion" and "ni" not in arrays and {"xi", "mi"} <= set(arrays):
        arrays = {**arrays, "ni": _a(arrays["xi"]) + _a(arrays["mi"])}
    missing = [k for k in m.inputs if k not in arrays and m.data != "binary"]
    if missing:
        raise ValueError(f"escalc({code!r}) needs {', '.join(m.inputs)}; missing {', '.join(missing)}")
    A = {k: _a(v) for k, v in arrays.items()}
    if code in ("SMD", "SMD_revman", "MD", "SMDH", "ROM"):
        m1, s1, n1, m2, s2, n2 = (A[k] for k in _CONT)
        with np.errstate(divide="ignore", invalid="ignore"):
            if code == "MD":
                yi, vi = md(m1, s1, n1, m2, s2, n2, vtype=vtype)
            elif code == "SMDH":
                yi, vi = smdh(m1, s1, n1, m2, s2, n2, vtype=vtype)
            elif code == "ROM":
                yi, vi = log_rom(m1, s1, n1, m2, s2, n2, vtype=vtype)
            elif code == "SMD_revman":
                yi, vi = smd(m1, s1, n1, m2, s2, n2, convention="revman")
            else:
                yi, vi = smd(m1, s1, n1, m2, s2, n2, convention="metafor", vtype=vtype)
    elif code == "SMD1":
        with np.errstate(divide="ignore", invalid="ignore"):
            yi, vi = smd1(A["m1i"], A["n1i"], A["m2i"], A["sd2i"], A["n2i"], vtype=vtype)
    elif m.data == "binary":
        with np.errstate(divide="ignore", invalid="ignore"):
            if code == "RD":
                yi, vi = rd(ai, n1i, ci, n2i, add=a, to=to, vtype=vtype)
            elif code == "PETO":
                yi, vi = peto_or(ai, n1i, ci, n2i, add=a, to=to)
            elif code == "AS":
                yi, vi = arcsine_rd(ai, n1i, ci, n2i, add=a, to=to)
            else:
                f = log_rr if code == "RR" else log_or
                yi, vi = f(ai, n1i, ci, n2i, add=a, to=to)
            if d00:
                yi, vi = _drop(yi, vi, double_zero(ai, n1i, ci, n2i))
    elif m.data == "count":
        yi, vi = incidence_rates(A["x1i"], A["t1i"], A["x2i"], A["t2i"], code, add=a, to=to, drop00=d00)
    elif code in ("COR", "UCOR", "ZCOR"):
        yi, vi = correlation(A["ri"], A["ni"], code, vtype=vtype)
    elif m.data == "partial correlation":
        yi, vi = partial_correlation(A["ti"], A["ni"], A["mi"], A.get("r2i"), code, vtype=vtype)
    elif m.data == "proportion":
        yi, vi = proportion(A["xi"], A["ni"], code, add=a, to=to, vtype=vtype)
    elif m.data == "rate":
        yi, vi = incidence_rate(A["xi"], A["ti"], code, add=a, to=to)
    elif m.data == "mean":
        yi, vi = single_mean(A["mi"], A["sdi"], A["ni"], code)
    elif m.data == "change":
        yi, vi = mean_change(A["m1i"], A["m2i"], A["sd1i"], A["ni"], A["ri"], A.get("sd2i"), code, vtype=vtype)
    else:  # pragma: no cover - every raw-data measure is dispatched above
        raise ValueError(f"escalc cannot compute {code}")
    if not isinstance(vtype, str) and code not in VTYPES:
        raise ValueError(f"vtype is not an option of {code}")
    if isinstance(vtype, str) and vtype != "LS" and code not in VTYPES:
        raise ValueError(f"vtype is not an option of {code} (only LS)")
    yi, vi = np.broadcast_arrays(np.atleast_1d(np.asarray(yi, dtype=float)), np.atleast_1d(np.asarray(vi, dtype=float)))
    with np.errstate(invalid="ignore"):
        sei = np.sqrt(vi)
    return pd.DataFrame({"yi": yi, "vi": vi, "sei": sei})


#: Codes :func:`escalc` computes from raw data.
RAW_MEASURES = tuple(c for c, m in MEASURES.items() if m.inputs)
