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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.data.revman.model import Analysis, Review
from bayesmeta.effects.measures import get_measure
from bayesmeta.errors import DataError, Problem

__all__ = ["block_id", "direction", "review_summary", "spec_for_review", "write_review_data"]


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


def write_review_data(analyses: tuple[Analysis, ...], folder: Path) -> dict[str, str]:
    """Write one CSV per analysis into ``folder``; returns ``{block id: CSV text}``.

    Dichotomous: ``study, outcome, arm, events, n, subgroup, source`` (arms ``experimental`` and
    ``control``); continuous: ``study, outcome, arm, n, mean, sd, subgroup, source``; O-E and generic
    inverse variance: ``study, outcome, yi, sei, subgroup, source`` on the analysis scale (O-E as
    Peto's :math:`(O-E)/V`, SE :math:`1/\\sqrt V`).
    """
    texts: dict[str, str] = {}
    for a in analyses:
        buf = io.StringIO()
        w = csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        t = a.settings.data_type
        sub = any(s.subgroup for s in a.studies)
        tail = ["subgroup"] if sub else []
        if t == "dichotomous":
            w.writerow(["study", "outcome", "arm", "events", "n", *tail, "source"])
            for s in a.studies:
                for arm, e, n in (("experimental", s.events_1, s.total_1), ("control", s.events_2, s.total_2)):
                    w.writerow([s.study, a.id, arm, _fmt(e), _fmt(n), *([s.subgroup or ""] if sub else []), _source(a, s)])
        elif t == "continuous":
            w.writerow(["study", "outcome", "arm", "n", "mean", "sd", *tail, "source"])
            for s in a.studies:
                for arm, n, m, sd in (("experimental", s.total_1, s.mean_1, s.sd_1), ("control", s.total_2, s.mean_2, s.sd_2)):
                    w.writerow([s.study, a.id, arm, _fmt(n), _fmt(m), _fmt(sd), *([s.subgroup or ""] if sub else []), _source(a, s)])
        else:
            w.writerow(["study", "outcome", "yi", "sei", *tail, "source"])
            for s in a.studies:
                if t == "oe":
                    y = s.o_e / s.var if s.var > 0 else math.nan
                    se = 1 / math.sqrt(s.var) if s.var > 0 else math.nan
                else:
                    y, se = s.giv_estimate, s.giv_se
                w.writerow([s.study, a.id, _fmt(y), _fmt(se), *([s.subgroup or ""] if sub else []), _source(a, s)])
        text = buf.getvalue().replace('""', "")
        texts[block_id(a)] = text
        (folder / _file_name(a)).write_text(text, encoding="utf-8")
    return texts


def spec_for_review(
    review: Review,
    analyses: tuple[Analysis, ...],
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
) -> dict[str, Any]:
    """The spec (a dict) reanalysing ``analyses`` of ``review``, their data written in ``data_dir``.

    ``question`` None means non-inferiority when margins are given, else superiority. Raises
    :class:`DataError` naming the option (and the analyses) when a choice is missing or does not fit.
    """
    from bayesmeta.pipeline.quick import spec_for_data

    problems: list[Problem] = []
    if margins:
        kinds = {get_measure(a.settings.measure).ratio for a in analyses}
        if len(kinds) > 1:
            problems.append(Problem("command line", None, "--margin", "the selected analyses mix ratio and "
                                    "difference measures, so one margin cannot fit them all: select outcomes of "
                                    "one kind with --outcome, or give margins per outcome in the spec it writes"))
    q = question or ("noninferiority" if margins else "superiority")
    blocks: list[dict[str, Any]] = []
    mu_sets: dict[str, Any] = {}
    tau_sets: dict[str, Any] = {}
    undecided = []
    for a in analyses:
        lib, why = (lower_is_better, "--lower-is-better/--higher-is-better") if lower_is_better is not None else direction(a)
        if lib is None:
            undecided.append(f"{a.id} {a.name} ({why})")
            continue
        kind = a.settings.data_type
        raw = spec_for_data(
            data_dir / _file_name(a), out, measure=a.settings.measure, lower_is_better=lib, question=q,
            margins=list(margins), tau_priors=list(tau_priors), mu_priors=list(mu_priors), outcome=a.id,
            timepoint=None, experimental="experimental" if kind in ("dichotomous", "continuous") else None,
            control="control" if kind in ("dichotomous", "continuous") else None, seed=seed, sample=sample,
            draws=draws, chains=chains,
        )
        b = raw["study_level"][0]
        code = b["measure"]
        b["id"] = block_id(a)
        b["label"] = f"{a.id} {a.name} ({code}; {a.experimental} vs {a.control})"
        for sets, key in ((mu_sets, "mu_priors"), (tau_sets, "tau_priors")):
            mine = raw[key][code]
            name = code if sets.get(code, mine) == mine else f"{code}_{block_id(a)}"
            sets[name] = mine
            if name != code:
                b[key] = name
        blocks.append(b)
    if undecided:
        problems.append(Problem("command line", None, "--lower-is-better",
                                "say which direction is better (--lower-is-better or --higher-is-better; or "
                                "edit lower_is_better per outcome in the spec): the file does not say for "
                                + "; ".join(undecided)))
    if problems:
        raise DataError(problems)
    return {
        "analysis": {
            "id": "".join(c if c.isalnum() else "_" for c in Path(review.file).stem).strip("_") or "review",
            "title": f"Bayesian reanalysis of the RevMan review {review.title!r}",
            "citation": f"{Path(review.file).name} (sha256 {review.sha256[:16]}...)",
            "data": raw["analysis"]["data"] if analyses else "data",
            "report": ".",
            "seed": int(seed),
            "experimental": "experimental",
            "control": "control",
            "preset": "revman5",
        },
        "sampler": raw["sampler"],
        "study_level": blocks,
        "mu_priors": mu_sets,
        "tau_priors": tau_sets,
    }


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
    review: Review, analyses: tuple[Analysis, ...], reanalysis, interval: float = 0.95, kind: str = "hdi"
) -> pd.DataFrame:
    """One row per analysis: RevMan's result, the primary posterior and what it says.

    Columns: ``analysis, outcome, k, measure, revman_model, revman_estimate, revman_ci`` (as RevMan
    stored it, or recomputed with its settings when it stored none: ``revman_source`` says which),
    ``posterior_median, posterior_interval`` (primary priors, exact; the report's interval kind), ``question``,
    ``p_decision`` (P(benefit) for superiority and estimation, P(no worse than the primary margin) for
    non-inferiority), ``largest_plausible`` (the 95% bound on the harmful side, reported scale),
    ``bayes_factor`` (of benefit against no benefit: posterior odds over the primary mu prior's odds)
    in words, ``conclusion_changes`` (the prior combinations of the sensitivity table whose decision
    differs from the primary's).
    """
    from bayesmeta.published.revman_check import recompute

    blocks = {b.id: b for b in reanalysis.study_blocks}
    rows = []
    for a in analyses:
        m = get_measure(a.settings.measure)
        back = (lambda v: float(np.exp(v))) if m.ratio else (lambda v: float(v))
        p = a.pooled
        if p is not None and p.computed:
            est, lb, ub, src = p.estimate, p.ci_lb, p.ci_ub, "stored by RevMan"
        else:
            rec = recompute(a)["total"]
            est, lb, ub = (back(rec[k]) for k in ("estimate", "ci_lb", "ci_ub")) if rec else (math.nan,) * 3
            src = "recomputed with RevMan's settings (RevMan stored none)"
        row: dict[str, Any] = {
            "analysis": a.id, "outcome": a.name, "k": a.k, "measure": a.settings.measure,
            "revman_model": f"{a.settings.method}, {'random' if a.settings.random else 'fixed'}",
            "revman_estimate": est, "revman_ci": f"[{lb:.4g}, {ub:.4g}]", "revman_source": src,
        }
        b = blocks.get(block_id(a))
        res = b.result if b is not None else None
        if res is None:
            row.update(posterior_median=math.nan, posterior_interval="", question="", p_decision=math.nan,
                       largest_plausible=math.nan, bayes_factor="", conclusion_changes=b.message if b else "not run")
        else:
            assert b is not None
            post = res.exact
            mu = post.mu
            lo, hi = mu.interval(interval, kind=kind)
            lib = res.orientation.lower_is_better
            harmful_bound = hi if lib else lo
            spec = b.spec
            dec = res.decisions
            q = spec.question
            if q == "noninferiority" and "p_noninferior" in dec and dec["p_noninferior"].notna().any():
                pd_ = float(dec["p_noninferior"].dropna().iloc[0])
                what = f"P(no worse than {dec['margin'].dropna().iloc[0]:g})"
            else:
                pd_ = float(dec["p_benefit"].iloc[0])
                what = "P(benefit)"
            log_bf = _log_bf_benefit(res, float(dec["p_benefit"].iloc[0]))
            flips = _flips(res)
            row.update(
                posterior_median=back(mu.ppf(0.5)), posterior_interval=f"[{back(lo):.4g}, {back(hi):.4g}]",
                question=f"{q}: {what}", p_decision=pd_, largest_plausible=back(harmful_bound),
                bayes_factor=_bf_words(log_bf),
                conclusion_changes=flips,
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _log_bf_benefit(res, p_post: float) -> float:
    """log Bayes factor of benefit against no benefit: posterior odds over the primary mu prior's odds.

    Benefit is mu below (lower is better) or above the null, or beyond the superiority threshold;
    the prior probability is the primary mu prior's mass there (0.5 for a prior centred on the null).
    """
    o = res.orientation
    m = get_measure(o.measure)
    t = 0.0 if o.superiority_threshold is None else float(o.superiority_threshold)
    t = float(np.log(t)) if m.ratio and o.superiority_threshold is not None else t
    prior_below = float(res.exact.mu_prior.cdf(t))
    p_prior = prior_below if o.lower_is_better else 1 - prior_below
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
