"""A whole RevMan review as one spec: what ``bayesmeta analyse REVIEW.rm5|.csv|.zip`` runs.

The review's analyses (all, or those selected by comparison and outcome) become one
``[[study_level]]`` block each, on data files written in the toolkit's CSV vocabulary
(:func:`write_review_data`: arm rows for dichotomous and continuous data, contrasts for O-E and
generic inverse variance; every row's ``source`` names the review file, the line or element and the
analysis), so the analysis plan and the report of a hand-written spec apply unchanged
(:func:`spec_for_review` builds the spec with :func:`bayesmeta.pipeline.quick.spec_for_data` per
analysis and validates it with :func:`bayesmeta.pipeline.spec.spec_from_dict`). The frequentist
reproduction uses the ``revman5`` preset. The spec and the data are written beside the report, so
``bayesmeta reanalyze DIR/spec.toml`` repeats the run and both can be edited.

Direction of each outcome: from ``--lower-is-better``/``--higher-is-better`` when given, otherwise
from RevMan's own forest-plot labels (:func:`direction`): the left label (effects below the null)
names the side that values below the null favour, so "Favours experimental" (or the experimental
group's label) on the left means lower is better. An outcome whose labels say neither is an
error naming it.

:func:`review_summary` is the review-level table: one row per analysis with the result as RevMan
computed it, the primary posterior, P(benefit) or P(no worse than the margin), the largest plausible
difference, the Bayes factor in words and whether a conclusion changes under a prior departure.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.data.revman.model import Analysis, Review
from bayesmeta.effects.measures import get_measure
from bayesmeta.errors import DataError, Problem

__all__ = ["Unit", "block_id", "direction", "review_summary", "review_units", "spec_for_review", "write_review_data"]


def block_id(a: Analysis) -> str:
    """The spec id of an analysis: ``a1_2`` for analysis 1.2."""
    return f"a{a.comparison_no}_{a.outcome_no}"


def _file_name(a: Analysis) -> str:
    return f"analysis_{a.comparison_no}_{a.outcome_no}.csv"


def direction(a: Analysis) -> tuple[bool | None, str]:
    """``(lower_is_better, reason)`` from RevMan's "favours" labels; ``(None, reason)`` if they do not say.

    The left label of a RevMan forest plot stands under effects below the null (ratio < 1,
    difference < 0). If it names the experimental side ("Favours experimental", "Favours
    <experimental group label>") and the right one does not, lower is better; the mirror image
    means higher is better.
    """
    left, right = a.favours_left.casefold(), a.favours_right.casefold()
    if not left and not right:
        return None, "the file stores no 'favours' labels"

    def names(label: str, side: str) -> bool:
        group = (a.experimental if side == "e" else a.control).casefold()
        word = "experimental" if side == "e" else "control"
        return word in label or (bool(group) and group in label and group not in ("experimental", "control"))

    le, lc, re_, rc = names(left, "e"), names(left, "c"), names(right, "e"), names(right, "c")
    why = f"RevMan's labels: left {a.favours_left!r}, right {a.favours_right!r}"
    if le and not lc and rc and not re_:
        return True, why + " (effects below the null favour the experimental arm)"
    if lc and not le and re_ and not rc:
        return False, why + " (effects above the null favour the experimental arm)"
    return None, why + " do not say which side favours the experimental arm"


def _source(a: Analysis, row) -> str:
    s = row.source
    return f"{Path(s.file).name} ({s.location}), analysis {a.id}" if s else f"analysis {a.id}"


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return ""
    return repr(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass(frozen=True)
class Unit:
    """One analysed unit of a review: an analysis, or one subgroup of it when its subgroups hold the
    same studies (time points of the same patients; RevMan's total then counts them more than once).

    ``timepoint`` is the subgroup's name written in the data file's ``timepoint`` column (None when the
    analysis is one unit); ``left_out`` names the study rows not written and why.
    """

    analysis: Analysis
    id: str
    file: str
    timepoint: str | None = None
    subgroup_no: int | None = None
    left_out: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        a = self.analysis
        sub = f", subgroup {self.timepoint}" if self.timepoint else ""
        return f"{a.id} {a.name}{sub} ({a.settings.measure}; {a.experimental} vs {a.control})"


def _complete(a: Analysis, s) -> str | None:
    """Why a study row cannot be written (values missing or impossible), or None."""
    t = a.settings.data_type
    ok = lambda *v: all(math.isfinite(x) for x in v)
    if t == "dichotomous":
        if not ok(s.events_1, s.total_1, s.events_2, s.total_2) or min(s.total_1, s.total_2) <= 0:
            return "events or totals missing"
    elif t == "continuous":
        if not ok(s.mean_1, s.sd_1, s.total_1, s.mean_2, s.sd_2, s.total_2) or min(s.sd_1, s.sd_2, s.total_1, s.total_2) <= 0:
            return "means, SDs or totals missing (or SD 0)"
    elif t == "oe":
        if not ok(s.o_e, s.var) or s.var <= 0:
            return "O-E or variance missing"
    elif not ok(s.giv_estimate, s.giv_se) or s.giv_se <= 0:
        return "estimate or SE missing"
    return None


def review_units(analyses: tuple[Analysis, ...]) -> tuple[Unit, ...]:
    """The units to analyse: one per analysis, or one per subgroup where subgroups share studies."""
    units = []
    for a in analyses:
        names = [s.study for s in a.studies if s.subgroup_no is not None]
        repeated = len(names) != len(set(names)) and len(a.subgroups) > 1
        left = tuple(f"{s.study}{' (' + s.subgroup + ')' if s.subgroup else ''}: {why}; left out"
                     for s in a.studies if (why := _complete(a, s)))
        if repeated:
            for g in a.subgroups:
                units.append(Unit(a, f"{block_id(a)}_s{g.no}", _file_name(a), g.name, g.no,
                                  tuple(x for x in left if f"({g.name})" in x)))
        else:
            units.append(Unit(a, block_id(a), _file_name(a), None, None, left))
    return tuple(units)


def write_review_data(analyses: tuple[Analysis, ...], folder: Path) -> tuple[Unit, ...]:
    """Write one CSV per analysis into ``folder``; returns the units to analyse (:func:`review_units`).

    Dichotomous: ``study, outcome, arm, events, n, source`` (arms ``experimental`` and ``control``);
    continuous: ``study, outcome, arm, n, mean, sd, source``; O-E and generic inverse variance:
    ``study, outcome, yi, sei, source`` on the analysis scale (O-E as Peto's :math:`(O-E)/V`, SE
    :math:`1/\\sqrt V`). Subgroups go into a ``subgroup`` column, or into ``timepoint`` when they hold
    the same studies (then each subgroup is its own unit). Rows with missing values are left out
    (the unit's ``left_out`` says which).
    """
    units = review_units(analyses)
    for a in analyses:
        split = any(u.analysis is a and u.timepoint is not None for u in units)
        buf = io.StringIO()
        w = csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        t = a.settings.data_type
        sub = any(s.subgroup for s in a.studies)
        extra = ["timepoint"] if split else (["subgroup"] if sub else [])
        has_extra = bool(extra)
        head = {"dichotomous": ["arm", "events", "n"], "continuous": ["arm", "n", "mean", "sd"]}.get(t, ["yi", "sei"])
        w.writerow(["study", "outcome", *extra, *head, "source"])
        for s in a.studies:
            if _complete(a, s):
                continue
            if t == "dichotomous":
                for arm, e, n in (("experimental", s.events_1, s.total_1), ("control", s.events_2, s.total_2)):
                    w.writerow([s.study, a.id, *([s.subgroup or ''] if has_extra else []), arm, _fmt(e), _fmt(n), _source(a, s)])
            elif t == "continuous":
                for arm, n, m, sd in (("experimental", s.total_1, s.mean_1, s.sd_1), ("control", s.total_2, s.mean_2, s.sd_2)):
                    w.writerow([s.study, a.id, *([s.subgroup or ''] if has_extra else []), arm, _fmt(n), _fmt(m), _fmt(sd), _source(a, s)])
            else:
                y, se = (s.o_e / s.var, 1 / math.sqrt(s.var)) if t == "oe" else (s.giv_estimate, s.giv_se)
                w.writerow([s.study, a.id, *([s.subgroup or ''] if has_extra else []), _fmt(y), _fmt(se), _source(a, s)])
        (folder / _file_name(a)).write_text(buf.getvalue().replace('""', ""), encoding="utf-8")
    return units


def spec_for_review(
    review: Review,
    units: tuple[Unit, ...],
    data_dir: Path,
    out: Path,
    *,
    lower_is_better: bool | None,
    question: str | None,
    margins: list[float],
    tau_priors: list[str],
    mu_priors: list[str],
    seed: int,
    sample: bool,
    draws: int,
    chains: int,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The spec (a dict) reanalysing the ``units`` of ``review`` (data written in ``data_dir``), and notes.

    ``question`` None means non-inferiority when margins are given, else superiority. A unit with
    fewer than 2 complete studies is left out with a note. Raises :class:`DataError` naming the
    option (and the analyses) when a choice is missing or does not fit.
    """
    from bayesmeta.pipeline.quick import spec_for_data

    problems: list[Problem] = []
    notes: list[str] = []
    if margins:
        kinds = {get_measure(u.analysis.settings.measure).ratio for u in units}
        if len(kinds) > 1:
            problems.append(Problem("command line", None, "--margin", "the selected analyses mix ratio and "
                                    "difference measures, so one margin cannot fit them all: select outcomes of "
                                    "one kind with --outcome, or give margins per outcome in the spec it writes"))
    q = question or ("noninferiority" if margins else "superiority")
    blocks: list[dict[str, Any]] = []
    mu_sets: dict[str, Any] = {}
    tau_sets: dict[str, Any] = {}
    undecided: dict[str, str] = {}
    raw: dict[str, Any] = {}
    kept: list[Unit] = []
    for u in units:
        a = u.analysis
        notes += [f"{u.label}: {x}" for x in u.left_out]
        complete = [s for s in a.studies if (u.subgroup_no is None or s.subgroup_no == u.subgroup_no)
                    and _complete(a, s) is None]
        if len(complete) < 2:
            notes.append(f"{u.label}: {len(complete)} complete stud{'y' if len(complete) == 1 else 'ies'}; "
                         "not reanalysed (a pooled analysis needs 2)")
            continue
        from bayesmeta.data.revman.effects import study_values

        _lab, yi, vi, _g, why_not, _rows = study_values(a, "revman5", u.subgroup_no)
        n_est = int(np.sum(np.isfinite(yi) & np.isfinite(vi) & (vi > 0)))
        if n_est < 2:
            notes.append(f"{u.label}: {n_est} estimable stud{'y' if n_est == 1 else 'ies'} for {a.settings.measure} "
                         f"({'; '.join(why_not) or 'none'}); not reanalysed (a pooled analysis needs 2)")
            continue
        lib, why = (lower_is_better, "--lower-is-better/--higher-is-better") if lower_is_better is not None else direction(a)
        if lib is None:
            undecided[a.id] = f"{a.id} {a.name} ({why})"
            continue
        if lower_is_better is None:
            notes.append(f"{u.label}: lower_is_better = {str(lib).lower()} from {why}")
        kind = a.settings.data_type
        raw = spec_for_data(
            data_dir / u.file, out, measure=a.settings.measure, lower_is_better=lib, question=q,
            margins=list(margins), tau_priors=list(tau_priors), mu_priors=list(mu_priors), outcome=a.id,
            timepoint=u.timepoint, experimental="experimental" if kind in ("dichotomous", "continuous") else None,
            control="control" if kind in ("dichotomous", "continuous") else None, seed=seed, sample=sample,
            draws=draws, chains=chains,
        )
        b = raw["study_level"][0]
        code = b["measure"]
        b["id"] = u.id
        b["label"] = u.label
        for sets, key in ((mu_sets, "mu_priors"), (tau_sets, "tau_priors")):
            mine = raw[key][code]
            name = code if sets.get(code, mine) == mine else f"{code}_{u.id}"
            sets[name] = mine
            if name != code:
                b[key] = name
        blocks.append(b)
        kept.append(u)
    if undecided:
        problems.append(Problem("command line", None, "--lower-is-better",
                                "say which direction is better (--lower-is-better or --higher-is-better; or "
                                "edit lower_is_better per outcome in the spec): the file does not say for "
                                + "; ".join(undecided.values())))
    if not blocks and not problems:
        problems.append(Problem(review.file, None, None, "no analysis has 2 or more complete studies to reanalyse: "
                                + "; ".join(notes)))
    if problems:
        raise DataError(problems)
    outcomes = _published_outcomes(kept, blocks, data_dir, mu_sets)
    spec = {
        "analysis": {
            "id": "".join(c if c.isalnum() else "_" for c in Path(review.file).stem).strip("_") or "review",
            "title": f"Bayesian reanalysis of the RevMan review {review.title!r}",
            "citation": f"{Path(review.file).name} (sha256 {review.sha256[:16]}...)",
            "data": raw["analysis"]["data"],
            "report": ".",
            "seed": int(seed),
            "experimental": "experimental",
            "control": "control",
            "preset": "revman5",
        },
        "sampler": raw["sampler"],
        **({"outcome": outcomes} if outcomes else {}),
        "study_level": blocks,
        "mu_priors": mu_sets,
        "tau_priors": tau_sets,
    }
    return spec, tuple(notes)


def _pooled_of(u: Unit):
    a = u.analysis
    if u.subgroup_no is None:
        return a.pooled
    return next((g.pooled for g in a.subgroups if g.no == u.subgroup_no), None)


def _published_outcomes(units: list[Unit], blocks: list[dict[str, Any]], data_dir: Path,
                        mu_sets: dict[str, Any]) -> list[dict[str, Any]]:
    """RevMan's stored pooled results as the spec's published results: ``published.csv`` in the data
    folder and one ``[[outcome]]`` block each (id ``<block id>_revman``), so the summary-level
    reanalysis and the report's outcome summary table read RevMan's result as published. Only units
    with a stored result and a margin get one (the spec requires margins in [[outcome]] blocks; none
    is invented: without ``--margin`` the review is analysed from its study rows alone). Their mu prior set adds the flat ``reference`` prior the
    summary-level analysis needs (the study-level blocks keep theirs)."""
    rows, out = [], []
    for u, b in zip(units, blocks):
        p = _pooled_of(u)
        if p is None or not p.computed or not b.get("margins"):
            continue  # no stored result, or no margin ([[outcome]] blocks need one; never invented)
        a = u.analysis
        studies = [s for s in a.studies if u.subgroup_no is None or s.subgroup_no == u.subgroup_no]
        n = p.total_1 + p.total_2
        src = p.source
        rows.append({
            "analysis": f"{u.id}_revman", "outcome": a.id, "timepoint": u.timepoint or "all",
            "measure": b["measure"], "estimate": repr(float(p.estimate)), "ci_lb": repr(float(p.ci_lb)),
            "ci_ub": repr(float(p.ci_ub)), "ci_level": repr(a.settings.level_total),
            "p": repr(float(p.p_z)) if math.isfinite(p.p_z) else "", "p_relation": "=" if math.isfinite(p.p_z) else "",
            "i2": repr(float(p.I2)) if math.isfinite(p.I2) else "",
            "k_studies": str(p.k) if p.k else str(len(studies)),
            "participants": str(int(n)) if math.isfinite(n) and n > 0 else "",
            "studies": ";".join(s.study for s in studies),
            "lower_is_better": "true" if b["lower_is_better"] else "false",
            "model": f"RevMan 5: {a.settings.describe()}",
            "source": f"{Path(src.file).name} ({src.location}), analysis {a.id}" if src else f"analysis {a.id}",
        })
        mset = b.get("mu_priors", b["measure"])
        pub_set = f"{mset}_published"
        if pub_set not in mu_sets:
            mu_sets[pub_set] = {
                "reference": {"prior": "flat()", "role": "reference",
                              "rationale": "improper uniform: the posterior equals RevMan's likelihood"},
                **mu_sets[mset],
            }
        o: dict[str, Any] = {
            "id": f"{u.id}_revman", "label": f"{u.label}, as RevMan pooled it", "measure": b["measure"],
            "lower_is_better": b["lower_is_better"], "question": b["question"], "mu_priors": pub_set,
        }
        for k in ("margins", "primary_margin", "superiority_threshold", "tau_priors"):
            if k in b:
                o[k] = b[k]
        out.append(o)
    if rows:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        (data_dir / "published.csv").write_text(buf.getvalue(), encoding="utf-8")
    return out


def _bf_words(log_bf: float) -> str:
    """Jeffreys' scale as worded by Lee & Wagenmakers (2013), for BF of the decision hypothesis."""
    if not math.isfinite(log_bf):
        return ""
    bf = math.exp(log_bf)
    big = max(bf, 1 / bf)
    word = ("anecdotal" if big < 3 else "moderate" if big < 10 else "strong" if big < 30
            else "very strong" if big < 100 else "extreme")
    side = "for" if bf >= 1 else "against"
    return f"{word} evidence {side} (BF {bf:.3g})"


def review_summary(
    review: Review, units: tuple[Unit, ...], reanalysis, interval: float = 0.95, kind: str = "hdi"
) -> pd.DataFrame:
    """One row per analysis: RevMan's result, the primary posterior and what it says.

    Columns: ``analysis, outcome, subgroup`` (when the analysis' subgroups share studies, each is a
    unit), ``k, measure, revman_model, revman_estimate, revman_ci`` (as RevMan
    stored it, or recomputed with its settings when it stored none: ``revman_source`` says which),
    ``primary_analysis`` (where the next columns come from: the report's primary analysis of RevMan's
    published result when the spec has an ``[[outcome]]`` block for it, so the table and the report's
    summary agree; otherwise the study rows), ``posterior_median, posterior_interval`` (primary priors;
    the report's interval kind), ``question``,
    ``p_decision`` (P(benefit) for superiority and estimation, P(no worse than the primary margin) for
    non-inferiority), ``largest_plausible`` (the one-sided 95% bound on the harmful side, reported
    scale: the smallest margin at which non-inferiority would reach P = 0.95), ``bayes_factor`` (of
    the decision hypothesis against its complement: posterior odds over the primary mu prior's odds)
    in words (Lee & Wagenmakers 2013), ``conclusion_changes`` (the prior combinations of the sensitivity table whose decision
    differs from the primary's).
    """
    from bayesmeta.published.revman_check import recompute

    blocks = {b.id: b for b in reanalysis.study_blocks}
    rows = []
    for u in units:
        a = u.analysis
        m = get_measure(a.settings.measure)
        back = (lambda v: float(np.exp(v))) if m.ratio else (lambda v: float(v))
        if u.subgroup_no is None:
            p = a.pooled
        else:
            p = next((g.pooled for g in a.subgroups if g.no == u.subgroup_no), None)
        if p is not None and p.computed:
            est, lb, ub, src = p.estimate, p.ci_lb, p.ci_ub, "stored by RevMan"
        else:
            rr = recompute(a)
            rec = rr["total"] if u.subgroup_no is None else rr["subgroups"].get(u.subgroup_no)
            est, lb, ub = (back(rec[k]) for k in ("estimate", "ci_lb", "ci_ub")) if rec else (math.nan,) * 3
            src = "recomputed with RevMan's settings (RevMan stored none)"
        row: dict[str, Any] = {
            "analysis": a.id, "outcome": a.name, "subgroup": u.timepoint or "",
            "k": sum(1 for s in a.studies if u.subgroup_no is None or s.subgroup_no == u.subgroup_no),
            "measure": a.settings.measure,
            "revman_model": f"{a.settings.method}, {'random' if a.settings.random else 'fixed'}",
            "revman_estimate": est, "revman_ci": f"[{lb:.4g}, {ub:.4g}]", "revman_source": src,
        }
        b = blocks.get(u.id)
        res = b.result if b is not None else None
        ans = getattr(reanalysis, "answers", None)
        oid = f"{u.id}_revman"
        if ans is not None and "outcome" in ans.coords and oid in list(ans.coords["outcome"].values):
            # the report's own primary analysis of RevMan's published result: the same numbers as its summary
            row.update(_from_answers(ans, oid, back))
            rows.append(row)
            continue
        row["primary_analysis"] = "the study rows (exact posterior, primary priors)"
        if res is None:
            row.update(posterior_median=math.nan, posterior_interval="", question="", p_decision=math.nan,
                       largest_plausible=math.nan, bayes_factor="", conclusion_changes=b.message if b else "not run")
        else:
            assert b is not None
            mu = res.exact.mu
            o = res.orientation
            lo, hi = mu.interval(interval, kind=kind)
            dec = res.decisions
            if "parameter" in dec:
                dec = dec[dec["parameter"] == "mu"]
            q = b.spec.question
            margins = tuple(b.spec.margins)
            if q == "noninferiority" and margins:
                row_m = dec[np.isclose(dec["margin"].astype(float), margins[0])]
                pd_ = float((row_m if len(row_m) else dec)["p_noninferior"].iloc[0])
                bound = o.harmful_sign * float(o.to_analysis_scale(margins[0]))
                what = f"P(no worse than {margins[0]:g})"
            else:
                pd_ = float(dec["p_benefit"].iloc[0])
                bound = o.benefit_bound
                what = f"P(benefit: {o.benefit_text()})"
            # largest plausible difference: the one-sided 95% bound on the harmful side
            plausible = mu.ppf(0.95) if o.lower_is_better else mu.ppf(0.05)
            row.update(
                posterior_median=back(mu.ppf(0.5)), posterior_interval=f"[{back(lo):.4g}, {back(hi):.4g}]",
                question=f"{q}: {what}", p_decision=pd_, largest_plausible=back(plausible),
                bayes_factor=_bf_words(_log_bf(res, pd_, bound)),
                conclusion_changes=_flips(res),
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _from_answers(ans, oid: str, back) -> dict[str, Any]:
    """The primary row of the report's answers Dataset (:mod:`bayesmeta.pipeline.answers`) for one
    outcome, in this table's columns (reported scale)."""
    from bayesmeta.pipeline.answers import bf_category

    o = ans.sel(outcome=oid)
    prim = o.sel(departure="primary")
    q = str(o.coords["question"].values) if "question" in o.coords else ""
    margin = float(o.coords["margin"].values) if "margin" in o.coords else math.nan
    what = (f"P(no worse than {back(margin):.4g})" if q == "noninferiority" and math.isfinite(margin)
            else "P(benefit)")
    bf = float(prim["bf_decision"])
    strength, side = bf_category(bf)
    flips = [str(d) for d in o.coords["departure"].values if bool(o["flips"].sel(departure=d))]
    return {
        "primary_analysis": "RevMan's published result (the report's summary-level primary analysis)",
        "posterior_median": back(float(prim["median"])),
        "posterior_interval": f"[{back(float(prim['lb95'])):.4g}, {back(float(prim['ub95'])):.4g}]",
        "question": f"{q}: {what}", "p_decision": float(prim["p_decision"]),
        "largest_plausible": back(float(prim["largest_plausible"])),
        "bayes_factor": f"{strength} evidence {side} (BF {bf:.3g})" if side != "none" else strength,
        "conclusion_changes": "; ".join(flips) if flips else "none of the named departures",
    }


def _log_bf(res, p_post: float, bound: float) -> float:
    """log Bayes factor of the decision hypothesis against its complement: posterior odds over the
    primary mu prior's odds. The hypothesis is mu below ``bound`` (analysis scale) when lower is
    better, above it otherwise (benefit: the null or the superiority threshold; no worse: the margin).
    """
    below = float(res.exact.mu_prior.cdf(bound))
    p_prior = below if res.orientation.lower_is_better else 1 - below
    if not (0 < p_prior < 1) or not (0 < p_post < 1):
        return math.nan
    return math.log(p_post / (1 - p_post)) - math.log(p_prior / (1 - p_prior))


def _flips(res) -> str:
    """Named sensitivity departures whose decision differs from the primary's (from the block's table)."""
    s = res.sensitivity
    if s is None or len(s) == 0:
        return ""
    for col in ("decision_flips", "flips"):
        if col in s:
            sel = s[s[col].astype(bool)]
            if sel.empty:
                return f"none of {len(s)} prior combinations"
            labs = [c for c in ("tau_prior", "mu_prior") if c in sel]
            return "; ".join(" + ".join(str(r[c]) for c in labs) for _, r in sel.iterrows())
    return ""
