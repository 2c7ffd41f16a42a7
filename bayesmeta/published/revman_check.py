r"""RevMan reproduced from its own numbers: every analysis of a review recomputed and compared.

For each analysis of a :class:`~bayesmeta.data.revman.model.Review` (and each subgroup), the
studies' data are pooled again with the review's own settings and a preset's conventions
(:mod:`bayesmeta.frequentist.presets`; ``revman5`` by default):

* dichotomous, Mantel-Haenszel: :func:`~bayesmeta.frequentist.mantel_haenszel.rma_mh` (0.5 added
  to zero-cell tables, Greenland-Robins / Robins-Breslow-Greenland variances), Q around the MH
  estimate with inverse-variance weights; random effects: DerSimonian-Laird from that Q
  (:meth:`~bayesmeta.frequentist.mantel_haenszel.MHResult.random_effects`); study weights are the
  MH weights (OR :math:`b_i c_i/N_i`, RR :math:`c_i n_{1i}/N_i`, RD :math:`n_{1i} n_{2i}/N_i`) for a
  fixed effect, :math:`1/(v_i + \hat\tau^2)` for random effects;
* dichotomous, Peto: :func:`~bayesmeta.frequentist.rare.rma_peto`; weights :math:`V_i`;
* inverse variance (dichotomous, continuous MD / SMD (RevMan's Hedges' g), O-E and variance as
  :math:`(O-E)/V` with variance :math:`1/V`, generic inverse variance as entered):
  :func:`~bayesmeta.frequentist.rma.rma` with ``method="EE"`` or the preset's tau^2 estimator;
* :math:`I^2 = \max\{0, (Q - df)/Q\}` (percent), RevMan's definition;
* test for subgroup differences: :math:`Q_{int} = \sum_j w_j(\hat\theta_j - \bar\theta)^2` over the
  subgroup estimates with :math:`w_j = 1/\mathrm{SE}_j^2` on J - 1 df (equal to
  :math:`Q - \sum_j Q_j` for an inverse-variance fixed effect; Deeks & Higgins 2010).

Each recomputed number is set beside the stored one with two tolerances: the precision it was
**stored** with (half a unit of its last stored decimal, at least 1e-9 relative for RevMan 5's
full-precision ``.rm5`` values, and 1e-7 for the P of a chi-square statistic, which RevMan computes
to about that accuracy) and RevMan's **printed** precision (forest plots: estimates, CIs,
Chi^2, Tau^2 and Z to 2 decimals, weights to 1 decimal, I^2 to the whole percent, P to 2 decimals
or, below 0.01, to one significant digit; "P < 0.00001" below that).

References
----------
Deeks JJ, Higgins JPT (2010). Statistical algorithms in Review Manager 5. The Cochrane
Collaboration.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bayesmeta.data.revman.effects import study_values
from bayesmeta.data.revman.model import Analysis, Pooled, Review, StudyRow

__all__ = ["RevManCheck", "check_revman", "recompute"]

_PRINTED = {"estimate": 0.005, "ci_lb": 0.005, "ci_ub": 0.005, "Q": 0.005, "tau2": 0.005, "z": 0.005,
            "I2": 0.5, "weight": 0.05, "se": 0.005, "Q_int": 0.005, "I2_int": 0.5}
_RTOL_FULL = 1e-9
#: RevMan's own accuracy where it is coarser than what it stores: its chi-square tail probabilities
#: differ from the exact ones (R's pchisq, scipy) by up to 7.4e-8 in Fleiss1993 (P_CHI2 stored as
#: 0.1269422521561745; pchisq(9.946055983220074, 6, lower.tail = FALSE) = 0.1269421779062949).
_REVMAN_ACCURACY = {"Q_p": 1e-7, "Q_int_p": 1e-7}


def _printed_tol(q: str, value: float) -> float:
    if q in ("p_z", "Q_p", "Q_int_p"):
        if not math.isfinite(value):
            return math.nan
        if value < 1e-5:
            return 1e-5
        return 0.005 if value >= 0.01 else 0.5 * 10 ** math.floor(math.log10(value))
    return _PRINTED[q]


def _weights_mh(measure: str, ai, n1, ci, n2, correct: bool) -> np.ndarray:
    bi, di = n1 - ai, n2 - ci
    if correct:
        z = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
        adj = np.where(z, 0.5, 0.0)
        ai, bi, ci, di = ai + adj, bi + adj, ci + adj, di + adj
        n1, n2 = ai + bi, ci + di
    N = n1 + n2
    w = {"OR": bi * ci / N, "RR": ci * n1 / N, "RD": n1 * n2 / N}[measure]
    return np.asarray(w, dtype=float)


def _pool(a: Analysis, rows_sel: int | None, preset: str) -> dict[str, Any] | None:
    """RevMan's analysis of the studies (all, or subgroup ``rows_sel``); None if nothing is estimable."""
    from bayesmeta.frequentist.presets import get_preset
    from bayesmeta.frequentist.rma import rma

    s = a.settings
    pre = get_preset(preset)
    _labels, yi, vi, _g, _notes, rows = study_values(a, preset, rows_sel)
    ok = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    if not ok.any():
        return None
    level = s.level_total
    k = int(ok.sum())
    w = np.full(len(rows), np.nan)
    out: dict[str, Any] = {"k": k}
    if s.data_type == "dichotomous" and s.method == "MH":
        from bayesmeta.frequentist.mantel_haenszel import rma_mh

        ai, n1, ci, n2 = (np.array([getattr(r, f) for r in rows], float) for f in ("events_1", "total_1", "events_2", "total_2"))
        good = np.isfinite(ai) & np.isfinite(n1) & np.isfinite(ci) & np.isfinite(n2)
        with warnings.catch_warnings():  # double zeros are left out by RevMan's rule: the study rows say so
            warnings.filterwarnings("ignore", message=r".*with no events \(or only events\) in both arms left out")
            mh = rma_mh(ai[good], n1[good], ci[good], n2[good], measure=s.measure, level=level, preset=preset)
        Q, df = mh.Q, mh.k_estimable - 1
        if s.random:
            re = mh.random_effects()
            est, se, tau2 = re.mu, re.se, re.tau2
            w[ok] = 1.0 / (vi[ok] + tau2)
        else:
            est, se, tau2 = mh.estimate, mh.se, 0.0
            w[ok] = _weights_mh(s.measure, ai[ok], n1[ok], ci[ok], n2[ok], pre.mh_correction == "only0")
    elif s.data_type == "dichotomous" and s.method == "Peto" and not s.random:
        from bayesmeta.frequentist.rare import rma_peto

        ai, n1, ci, n2 = (np.array([getattr(r, f) for r in rows], float)[ok] for f in ("events_1", "total_1", "events_2", "total_2"))
        pr = rma_peto(ai, n1, ci, n2, level=level)
        est, se, tau2, Q, df = pr.estimate, pr.se, 0.0, pr.Q, pr.Q_df
        w[ok] = 1.0 / vi[ok]
    else:
        method = pre.method if s.random else "EE"
        test = pre.test if s.random else "z"
        r = rma(yi[ok], vi[ok], method=method, test=test, level=level, i2="Q")
        est, se, tau2, Q, df = r.mu, r.se, r.tau2, r.Q, r.Q_df
        w[ok] = 1.0 / (vi[ok] + tau2)
        if test != "z":
            out["ci"] = (r.ci_lb, r.ci_ub, r.pval, r.stat)
    crit = stats.norm.ppf(0.5 + level / 2)
    z = est / se
    lb, ub, p = est - crit * se, est + crit * se, 2 * stats.norm.sf(abs(z))
    if "ci" in out:
        lb, ub, p, z = out.pop("ci")
    w = 100 * w / np.nansum(w)
    out.update(
        estimate=est, se=se, ci_lb=lb, ci_ub=ub, z=abs(z), p_z=p, Q=Q, Q_df=df,
        Q_p=float(stats.chi2.sf(Q, df)) if df > 0 else math.nan,
        I2=100 * max(0.0, (Q - df) / Q) if df > 0 and Q > 0 else 0.0, tau2=tau2,
        yi=yi, vi=vi, weights=w, rows=rows,
    )
    return out


def recompute(a: Analysis, preset: str = "revman5") -> dict[str, Any]:
    """RevMan's results of one analysis recomputed: ``{"total": ..., "subgroups": {no: ...}}``.

    Estimates are on the analysis scale (log for ratios); ``weights`` are percentages per study row
    of the pooled set (NaN where not estimable).
    """
    total = _pool(a, None, preset)
    subs = {g.no: _pool(a, g.no, preset) for g in a.subgroups}
    if total is not None and len([v for v in subs.values() if v is not None]) >= 2:
        est = np.array([v["estimate"] for v in subs.values() if v is not None])
        se = np.array([v["se"] for v in subs.values() if v is not None])
        wj = 1 / se**2
        qint = float(np.sum(wj * (est - np.sum(wj * est) / np.sum(wj)) ** 2))
        dfint = est.size - 1
        total.update(Q_int=qint, Q_int_df=dfint, Q_int_p=float(stats.chi2.sf(qint, dfint)),
                     I2_int=100 * max(0.0, (qint - dfint) / qint) if qint > 0 else 0.0)
    return {"total": total, "subgroups": subs}


def _tol_stored(q: str, dec: int | None, value: float) -> float:
    full = max(abs(value) * _RTOL_FULL + 1e-12, _REVMAN_ACCURACY.get(q, 0.0))
    if dec is None:
        return full
    return max(0.5 * 10.0**-dec * (1 + 1e-9), full)


@dataclass(frozen=True)
class RevManCheck:
    """Every stored RevMan number of a review beside its recomputation.

    Attributes
    ----------
    file, format, preset : str
    table : pandas.DataFrame
        One row per compared number: ``analysis, outcome, subgroup, study, quantity, revman,
        recomputed, abs_diff, stored_decimals, tol_stored, tol_printed, agrees_stored,
        agrees_printed, source``. Ratio estimates and CIs on the ratio scale (as RevMan stores
        them), study SEs on the analysis scale.
    not_compared : tuple of str
        Analyses and subgroups with no stored result (RevMan left them empty), with the reason.
    """

    file: str
    format: str
    preset: str
    table: pd.DataFrame
    not_compared: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Every stored number reproduced within RevMan's printed precision."""
        return bool(self.table["agrees_printed"].all())

    def differences(self, within: str = "printed") -> pd.DataFrame:
        """Rows whose difference exceeds the ``"printed"`` or ``"stored"`` precision."""
        return self.table[~self.table[f"agrees_{within}"]]

    def summary(self) -> pd.DataFrame:
        """One row per analysis: numbers compared, agreeing within stored and printed precision,
        the largest relative difference."""
        t = self.table
        rel = t["abs_diff"] / t["revman"].abs().where(t["revman"].abs() > 0, 1.0)
        g = t.assign(rel=rel).groupby(["analysis", "outcome"], sort=False)
        return g.agg(
            compared=("quantity", "size"),
            agree_stored=("agrees_stored", "sum"),
            agree_printed=("agrees_printed", "sum"),
            max_rel_diff=("rel", "max"),
        ).reset_index()

    def __str__(self) -> str:
        s = self.summary()
        lines = [f"RevMan's stored results of {self.file} ({self.format}) recomputed with the {self.preset} preset"]
        for _, r in s.iterrows():
            lines.append(
                f"  {r['analysis']} {r['outcome']}: {r['compared']} numbers, {r['agree_stored']} within "
                f"the stored precision, {r['agree_printed']} within RevMan's printed precision "
                f"(largest relative difference {r['max_rel_diff']:.2g})"
            )
        for n in self.not_compared:
            lines.append(f"  not compared: {n}")
        d = self.differences()
        lines.append("all reproduced within RevMan's printed precision" if d.empty
                     else f"{len(d)} number(s) differ beyond RevMan's printed precision")
        return "\n".join(lines)


def _compare(a: Analysis, preset: str, rows: list[dict[str, Any]], skipped: list[str]) -> None:
    """Append the comparison rows of one analysis to ``rows`` (and what was not compared to ``skipped``)."""
    from bayesmeta.effects.measures import get_measure

    ratio = get_measure(a.settings.measure).ratio
    back = math.exp if ratio else (lambda v: v)
    rec = recompute(a, preset)

    def add(subgroup: str | None, study: str | None, q: str, stored: float, ours: float, dec, src) -> None:
        if not (math.isfinite(stored) and math.isfinite(ours)):
            return
        diff = abs(ours - stored)
        ts = _tol_stored(q, dec, stored)
        tp = _printed_tol(q, stored)
        if q in ("p_z", "Q_p", "Q_int_p") and stored < 1e-5 and ours < 1e-5:
            diff_p = 0.0
        else:
            diff_p = diff
        rows.append({
            "analysis": a.id, "outcome": a.name, "subgroup": subgroup or "", "study": study or "",
            "quantity": q, "revman": stored, "recomputed": ours, "abs_diff": diff, "stored_decimals": dec,
            "tol_stored": ts, "tol_printed": tp, "agrees_stored": bool(diff <= ts),
            "agrees_printed": bool(diff_p <= tp + ts), "source": str(src) if src else "",
        })

    def pooled(p: Pooled | None, res: dict[str, Any] | None, subgroup: str | None, label: str) -> None:
        if p is None or not p.computed:
            skipped.append(f"{a.id} {a.name}{' / ' + subgroup if subgroup else ''}: RevMan stored no {label} result")
            if p is not None and subgroup is None and res is not None and "Q_int" in res:
                subgroup_test(p, res)  # "subtotals only" still shows the test for subgroup differences
            return
        if res is None:
            skipped.append(f"{a.id} {a.name}{' / ' + subgroup if subgroup else ''}: no estimable study to recompute")
            return
        dec = p.decimals
        add(subgroup, None, "estimate", p.estimate, back(res["estimate"]), dec.get("estimate"), p.source)
        add(subgroup, None, "ci_lb", p.ci_lb, back(res["ci_lb"]), dec.get("ci_lb"), p.source)
        add(subgroup, None, "ci_ub", p.ci_ub, back(res["ci_ub"]), dec.get("ci_ub"), p.source)
        add(subgroup, None, "z", p.z, res["z"], dec.get("z"), p.source)
        add(subgroup, None, "p_z", p.p_z, res["p_z"], dec.get("p_z"), p.source)
        if res["Q_df"] > 0:
            add(subgroup, None, "Q", p.Q, res["Q"], dec.get("Q"), p.source)
            add(subgroup, None, "Q_p", p.Q_p, res["Q_p"], dec.get("Q_p"), p.source)
            add(subgroup, None, "I2", p.I2, res["I2"], dec.get("I2"), p.source)
        add(subgroup, None, "tau2", p.tau2, res["tau2"], dec.get("tau2"), p.source)
        if subgroup is None and "Q_int" in res:
            subgroup_test(p, res)

    def subgroup_test(p: Pooled, res: dict[str, Any]) -> None:
        dec = p.decimals
        add(None, None, "Q_int", p.Q_int, res["Q_int"], dec.get("Q_int"), p.source)
        add(None, None, "Q_int_p", p.Q_int_p, res["Q_int_p"], dec.get("Q_int_p"), p.source)
        add(None, None, "I2_int", p.I2_int, res["I2_int"], dec.get("I2_int"), p.source)

    def studies(res: dict[str, Any] | None, subgroup: str | None) -> None:
        if res is None:
            return
        crit = stats.norm.ppf(0.5 + a.settings.level_study / 2)
        for r, y, v, w in zip(res["rows"], res["yi"], res["vi"], res["weights"]):
            r: StudyRow  # type: ignore[no-redef]
            if not (np.isfinite(y) and np.isfinite(v)) or not r.estimable:
                continue
            d = r.decimals
            se = math.sqrt(v)
            add(subgroup, r.study, "estimate", r.stored_estimate, back(y), d.get("stored_estimate"), r.source)
            add(subgroup, r.study, "ci_lb", r.stored_ci_lb, back(y - crit * se), d.get("stored_ci_lb"), r.source)
            add(subgroup, r.study, "ci_ub", r.stored_ci_ub, back(y + crit * se), d.get("stored_ci_ub"), r.source)
            add(subgroup, r.study, "se", r.stored_se, se, d.get("stored_se"), r.source)
            add(subgroup, r.study, "weight", r.stored_weight, float(w), d.get("stored_weight"), r.source)

    if a.pooled is not None:
        pooled(a.pooled, rec["total"], None, "pooled")
    for g in a.subgroups:
        pooled(g.pooled, rec["subgroups"].get(g.no), g.name, "subtotal")
    if a.subgroups and a.settings.totals != "overall":
        for g in a.subgroups:
            studies(rec["subgroups"].get(g.no), g.name)
    else:
        studies(rec["total"], None)


def check_revman(review: Review, preset: str = "revman5") -> RevManCheck:
    """Recompute every analysis of ``review`` and compare with the numbers RevMan stored.

    Parameters
    ----------
    review : Review
        From :func:`bayesmeta.read_revman`.
    preset : str
        The program's conventions (``"revman5"``: DerSimonian-Laird, Wald CI, RevMan's zero-cell
        rules and Hedges' g).

    Returns
    -------
    RevManCheck

    Examples
    --------
    >>> import bayesmeta as bm
    >>> chk = bm.check_revman(bm.read_revman("data/fleiss1993/Fleiss1993.rm5"))
    >>> chk.ok, int(chk.table["agrees_stored"].sum()) == len(chk.table)
    (True, True)
    """
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for a in review.analyses:
        _compare(a, preset, rows, skipped)
    cols = ["analysis", "outcome", "subgroup", "study", "quantity", "revman", "recomputed", "abs_diff",
            "stored_decimals", "tol_stored", "tol_printed", "agrees_stored", "agrees_printed", "source"]
    return RevManCheck(file=review.file, format=review.format, preset=preset,
                       table=pd.DataFrame(rows, columns=cols), not_compared=tuple(skipped))
