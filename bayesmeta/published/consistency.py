r"""Internal consistency of published pooled results, within their printed rounding.

A published result prints an estimate, a confidence interval and often a p-value, each rounded.
Interval arithmetic over the rounding (every printed number stands for any value within half a
unit of its last digit) tells whether the three agree, and what standard error they imply:

* SE: :math:`(u - l)/(2 z_{1-\alpha/2})`, on the log scale for ratio measures (RevMan computes
  ratio CIs on the log scale; Deeks & Higgins 2010, RevMan 5 statistical algorithms);
* symmetry: the CI midpoint (geometric for ratios) must match the estimate;
* p-value: the Wald test :math:`p = 2\{1 - \Phi(|\hat\theta|/SE)\}` RevMan uses must overlap the
  printed p;
* for an SMD, the participants the SE implies, :math:`N \approx (4 + g^2/2)/SE^2` for equal arms
  (Borenstein et al. 2009, eq. 4.20), to compare with those randomised.

The program that made the numbers decides the interval: RevMan 5.4 and metafor's defaults print a
Wald interval (normal quantile, as above); RevMan since 2025 prints a Hartung-Knapp-Sidik-Jonkman
interval and test with k - 1 degrees of freedom, so with ``preset="revman2025"`` the SE is
:math:`(u - l)/(2 t_{k-1, 1-\alpha/2})` and the p-value :math:`2 P(T_{k-1} > |\hat\theta|/SE)`
(:mod:`bayesmeta.frequentist.presets`; the number of studies ``k`` is then required).

Reference: Altman DG, Bland JM (2011). How to obtain the P value from a confidence interval.
BMJ 343:d2304. doi:10.1136/bmj.d2304
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from bayesmeta.effects.measures import RATIO_MEASURES as RATIO


@dataclass(frozen=True)
class PublishedCheck:
    """Result of :func:`check_published` (analysis-scale quantities are log for ratio measures)."""

    measure: str
    estimate: float
    ci_lb: float
    ci_ub: float
    p: float | None
    se: float
    se_min: float
    se_max: float
    p_implied: float
    p_implied_min: float
    p_implied_max: float
    ci_symmetric: bool
    p_consistent: bool | None
    n_implied: float | None
    n_implied_min: float | None
    n_implied_max: float | None

    @property
    def consistent(self) -> bool:
        return self.ci_symmetric and self.p_consistent is not False


def _decimals_of(x: float) -> int:
    s = f"{x:.10f}".rstrip("0")
    return len(s.split(".")[1]) if "." in s else 0


def interval_quantile(level: float = 0.95, preset: str | None = None, k: int | None = None) -> tuple[float, int | None]:
    """The quantile of a published CI and its degrees of freedom (None: normal) for ``preset``.

    RevMan 5 and metafor print Wald intervals (normal quantile); RevMan 2025 prints
    Hartung-Knapp-Sidik-Jonkman intervals, t(k-1), so ``k`` is required.
    """
    from scipy import stats  # here, not at import: scipy.stats takes ~1 s to import (issue 20)

    if preset is not None:
        from bayesmeta.frequentist.presets import get_preset

        if get_preset(preset).test in ("knha", "knha_adhoc", "t"):
            if k is None or not k >= 2:
                raise ValueError(f"preset {preset!r} prints t(k-1) intervals: the number of studies k is needed")
            return float(stats.t.ppf(0.5 + level / 2, int(k) - 1)), int(k) - 1
    return float(stats.norm.ppf(0.5 + level / 2)), None


def check_published(estimate, ci_lb, ci_ub, p=None, level=0.95, measure="SMD", decimals=None,
                    p_decimals=None, p_relation="=", preset: str | None = None, k: int | None = None) -> PublishedCheck:
    """Check one published (estimate, CI, p) for consistency within its rounding.

    Parameters
    ----------
    estimate, ci_lb, ci_ub : float
        As printed (ratio scale for RR/OR/HR).
    p : float, optional
        Printed p-value; ``p_relation`` is ``"="`` or ``"<"`` (e.g. p < 0.001).
    decimals : int, optional
        Printed decimals of estimate and CI; inferred from the numbers if not given (a printed
        trailing zero such as ``0.10`` cannot be inferred, so pass it when known).
    p_decimals : int, optional
        Printed decimals of ``p`` (inferred if not given).
    preset : {"revman5", "revman2025", "metafor"}, optional
        The program that printed the result (see the module docstring); default: a Wald interval.
    k : int, optional
        Number of studies pooled (needed for ``preset="revman2025"``: t(k-1)).
    """
    from scipy import stats

    measure = measure.upper()
    d = decimals if decimals is not None else max(_decimals_of(v) for v in (estimate, ci_lb, ci_ub))
    h = 0.5 * 10.0 ** (-d)
    z, df = interval_quantile(level, preset, k)
    dist = stats.norm if df is None else stats.t(df)
    ratio = measure in RATIO
    tr = np.log if ratio else (lambda v: v)
    lo = lambda v: tr(max(v - h, 1e-12) if ratio else v - h)
    hi = lambda v: tr(v + h)
    est = tr(estimate)
    se = (tr(ci_ub) - tr(ci_lb)) / (2 * z)
    se_min = max((lo(ci_ub) - hi(ci_lb)) / (2 * z), 1e-12)
    se_max = (hi(ci_ub) - lo(ci_lb)) / (2 * z)
    mid_min, mid_max = (lo(ci_lb) + lo(ci_ub)) / 2, (hi(ci_lb) + hi(ci_ub)) / 2
    symmetric = bool(mid_max >= lo(estimate) - 1e-12 and mid_min <= hi(estimate) + 1e-12)
    e_min, e_max = lo(estimate), hi(estimate)
    abs_min = 0.0 if e_min <= 0 <= e_max else min(abs(e_min), abs(e_max))
    abs_max = max(abs(e_min), abs(e_max))
    p_impl = 2 * dist.sf(abs(est) / se)
    p_min = 2 * dist.sf(abs_max / se_min)
    p_max = 2 * dist.sf(abs_min / se_max)
    p_ok = None
    if p is not None and not pd.isna(p):
        pd_ = p_decimals if p_decimals is not None else _decimals_of(p)
        hp = 0.5 * 10.0 ** (-pd_)
        if p_relation == "<":
            p_ok = bool(p_min < p)
        elif p_relation == ">":
            p_ok = bool(p_max > p)
        else:
            p_ok = bool(p_max >= p - hp and p_min <= p + hp)
    n = n_lo = n_hi = None
    if measure == "SMD":
        n = (4 + est**2 / 2) / se**2
        n_lo = 4 / se_max**2
        n_hi = (4 + abs_max**2 / 2) / se_min**2
    return PublishedCheck(measure, float(estimate), float(ci_lb), float(ci_ub), None if p is None or pd.isna(p) else float(p),
                          float(se), float(se_min), float(se_max), float(p_impl), float(p_min), float(p_max),
                          symmetric, p_ok, n, n_lo, n_hi)


@dataclass(frozen=True)
class PublishedChecks:
    """Result of :func:`check_published_many`: the fields of :class:`PublishedCheck` as arrays over rows.

    ``p_consistent`` is a float array (1.0 true, 0.0 false, NaN where no p was printed);
    ``n_implied*`` are NaN for measures other than SMD.
    """

    estimate: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    p: np.ndarray
    se: np.ndarray
    se_min: np.ndarray
    se_max: np.ndarray
    p_implied: np.ndarray
    p_implied_min: np.ndarray
    p_implied_max: np.ndarray
    ci_symmetric: np.ndarray
    p_consistent: np.ndarray
    n_implied: np.ndarray
    n_implied_min: np.ndarray
    n_implied_max: np.ndarray


def check_published_many(estimate, ci_lb, ci_ub, p=None, level=0.95, measure="SMD", decimals=None,
                         p_decimals=None, p_relation="=", preset: str | None = None, k=None) -> PublishedChecks:
    """:func:`check_published` for many rows at once (arrays; every argument may be a scalar).

    The same arithmetic, element by element, as the row function (the normal and t quantiles and
    tail areas through the scipy.special functions scipy.stats calls: ``ndtri``, ``ndtr``,
    ``stdtrit``, ``stdtr``), so the numbers equal the row function's (tested to 1e-12 on random
    rows with ratios, missing p, asymmetric CIs and t(k-1) intervals). ``decimals`` or
    ``p_decimals`` that are NaN (or None) are inferred per row as the row function does; ``p``
    NaN means none printed; ``k`` NaN means unknown (an error for ``preset="revman2025"``).
    """
    shape = np.broadcast_shapes(*(np.shape(x) for x in (estimate, ci_lb, ci_ub, p, level, measure, decimals,
                                                        p_decimals, p_relation, k) if x is not None))
    shape = (int(np.prod(shape)),)

    def arr(x, dtype=float):
        return np.broadcast_to(np.asarray(x, dtype=dtype), shape).copy()

    est_r, lb_r, ub_r = arr(estimate), arr(ci_lb), arr(ci_ub)
    pv = arr(np.nan if p is None else p)
    lev = arr(level)
    meas = np.char.upper(arr(measure, dtype=str).astype(str))
    ratio = np.isin(meas, sorted(RATIO))
    dec = arr(np.nan if decimals is None else decimals)
    miss = np.isnan(dec)
    if miss.any():
        dec[miss] = [max(_decimals_of(float(v)) for v in t) for t in zip(est_r[miss], lb_r[miss], ub_r[miss],
                                                                          strict=True)]
    h = 0.5 * 10.0 ** (-dec)
    prob = 0.5 + lev / 2
    df = np.full(shape, np.nan)
    if preset is not None:
        from bayesmeta.frequentist.presets import get_preset

        if get_preset(preset).test in ("knha", "knha_adhoc", "t"):
            kk = arr(np.nan if k is None else k)
            if not np.all(kk >= 2):
                raise ValueError(f"preset {preset!r} prints t(k-1) intervals: the number of studies k is needed")
            df = np.floor(kk) - 1
    use_t = np.isfinite(df)
    z = np.where(use_t, special.stdtrit(np.where(use_t, df, 1.0), prob), special.ndtri(prob))

    def sf(x):
        return np.where(use_t, special.stdtr(np.where(use_t, df, 1.0), -x), special.ndtr(-x))

    with np.errstate(divide="ignore", invalid="ignore"):
        def tr(v):
            return np.where(ratio, np.log(np.where(ratio, v, 1.0)), v)

        def lo(v):
            return tr(np.where(ratio, np.maximum(v - h, 1e-12), v - h))

        def hi(v):
            return tr(v + h)

        est = tr(est_r)
        se = (tr(ub_r) - tr(lb_r)) / (2 * z)
        se_min = np.maximum((lo(ub_r) - hi(lb_r)) / (2 * z), 1e-12)
        se_max = (hi(ub_r) - lo(lb_r)) / (2 * z)
        mid_min, mid_max = (lo(lb_r) + lo(ub_r)) / 2, (hi(lb_r) + hi(ub_r)) / 2
        e_min, e_max = lo(est_r), hi(est_r)
        symmetric = (mid_max >= e_min - 1e-12) & (mid_min <= e_max + 1e-12)
        abs_min = np.where((e_min <= 0) & (0 <= e_max), 0.0, np.minimum(np.abs(e_min), np.abs(e_max)))
        abs_max = np.maximum(np.abs(e_min), np.abs(e_max))
        p_impl = 2 * sf(np.abs(est) / se)
        p_min = 2 * sf(abs_max / se_min)
        p_max = 2 * sf(abs_min / se_max)
    has_p = ~np.isnan(pv)
    pdec = arr(np.nan if p_decimals is None else p_decimals)
    need = has_p & np.isnan(pdec)
    if need.any():
        pdec[need] = [_decimals_of(float(v)) for v in pv[need]]
    hp = 0.5 * 10.0 ** (-np.where(has_p, pdec, 0.0))
    rel = arr(p_relation, dtype=str).astype(str)
    ok = np.where(rel == "<", p_min < pv, np.where(rel == ">", p_max > pv, (p_max >= pv - hp) & (p_min <= pv + hp)))
    p_ok = np.where(has_p, ok.astype(float), np.nan)
    smd = meas == "SMD"
    with np.errstate(divide="ignore", invalid="ignore"):
        n_impl = np.where(smd, (4 + est**2 / 2) / se**2, np.nan)
        n_lo = np.where(smd, 4 / se_max**2, np.nan)
        n_hi = np.where(smd, (4 + abs_max**2 / 2) / se_min**2, np.nan)
    return PublishedChecks(est_r, lb_r, ub_r, pv, se, se_min, se_max, p_impl, p_min, p_max, symmetric, p_ok,
                           n_impl, n_lo, n_hi)


def check_table(published, preset: str | dict | None = None) -> pd.DataFrame:
    """Run :func:`check_published` on every row of a published-results table; one tidy row each.

    ``preset``: the program that made the numbers, one for all rows or a dict ``analysis -> preset``
    (rows it does not name: a Wald interval).
    """
    df = published.frame if hasattr(published, "frame") else published
    rows = []
    for _, r in df.iterrows():
        pre = preset.get(r["analysis"]) if isinstance(preset, dict) else preset
        k = r.get("k_studies")
        c = check_published(r["estimate"], r["ci_lb"], r["ci_ub"], None if pd.isna(r["p"]) else r["p"],
                            level=float(r["ci_level"]), measure=str(r["measure"]),
                            decimals=None if "decimals" not in r or pd.isna(r["decimals"]) else int(r["decimals"]),
                            p_relation="=" if pd.isna(r.get("p_relation")) else r["p_relation"],
                            preset=pre, k=None if k is None or pd.isna(k) else int(k))
        part = r.get("participants")
        rows.append({
            "analysis": r["analysis"], "measure": c.measure, "estimate": c.estimate, "ci_lb": c.ci_lb,
            "ci_ub": c.ci_ub, "p": c.p, "se": c.se, "se_min": c.se_min, "se_max": c.se_max,
            "p_implied": c.p_implied, "p_implied_min": c.p_implied_min, "p_implied_max": c.p_implied_max,
            "ci_symmetric": c.ci_symmetric, "p_consistent": c.p_consistent,
            "participants_reported": None if pd.isna(part) else int(part),
            "participants_implied": c.n_implied,
        })
    return pd.DataFrame(rows)
