"""Report sections and figures of the study-level diagnostics and meta-regressions (issue 11).

Pure functions from a :class:`~bayesmeta.pipeline.study_level.StudyLevelBlock` (whose result carries
:class:`~bayesmeta.pipeline.diagnostics.Diagnostics` and
:class:`~bayesmeta.pipeline.diagnostics.MetaRegression` objects) to report blocks and matplotlib
figures; nothing is fitted here. :func:`diagnostics_blocks` is the "Diagnostics" and
"Meta-regression" subsections of one outcome, :func:`diagnostics_figures` their figures,
:func:`moderators_not_run` what a meta-regression of a block without study values needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.pipeline.diagnostics import MIN_K_SMALL_STUDY, prior_text
from bayesmeta.report import figures
from bayesmeta.report.render import Block, Details, Figure, Heading, Note, Paragraph, Table, fmt_p, plural

__all__ = ["diagnostics_blocks", "diagnostics_figures", "loo_sentence", "meta_regressions_waiting", "moderators_not_run"]


def _fig(item_id: str, name: str) -> Path:
    return Path("figures") / f"{item_id}_{name}.png"


def _scale(r: Any) -> str:
    return f"log {r.measure}" if r.orientation.is_ratio else r.measure


def _num(v: object) -> float:
    return float(v) if isinstance(v, (int, float, np.integer, np.floating)) else float("nan")


def _p(p: float) -> str:
    """A probability in a sentence: 4 decimals near 0 and 1 (so that 0.9988 and 0.9998 differ)."""
    if 0.99 < p < 1 - 5e-5 or 5e-5 < p < 0.01:
        return f"{p:.4f}"
    return fmt_p(p)


def loo_sentence(d: Any, threshold: float, question: str, experimental: str) -> str:
    """One plain-language sentence: does leaving any single study out change the conclusion?"""
    loo = d.bayes_loo
    lo, hi = float(loo["p_decision"].min()), float(loo["p_decision"].max())
    full = d.p_decision_full
    label = d.decision_label
    if question == "estimation":
        m = loo["mu_median"]
        return (
            f"Leaving any one study out, the posterior median of mu ranges from {m.min():.3f} to {m.max():.3f} "
            f"({d.k} leave-one-out fits; {label} from {_p(lo)} to {_p(hi)})."
        )
    verdict = full >= threshold
    flips = loo.loc[(loo["p_decision"] >= threshold) != verdict, "study"].tolist()
    if not flips:
        return (
            f"No single study changes the conclusion: leaving any one out, {label} stays between {_p(lo)} and "
            f"{_p(hi)} (all {d.k} studies: {_p(full)}; decision threshold {threshold:g})."
        )
    names = ", ".join(map(str, flips))
    return (
        f"The conclusion hinges on single studies: without {names}, {label} crosses the decision threshold "
        f"{threshold:g} (range {_p(lo)} to {_p(hi)}; all {d.k} studies: {_p(full)})."
    )


def _influence_sentence(d: Any) -> str:
    inf = d.influence
    flagged = inf[inf["influential"]]
    rules = (
        "metafor's rules: |DFFITS| > 3 sqrt(p/(k-p)), Cook's distance beyond the median of chi^2(p), "
        "hat > 3p/k, any |DFBETAS| > 1"
    )
    if flagged.empty:
        return f"No study is flagged influential ({rules})."
    items = "; ".join(f"{r['study']} ({r['flags']})" for _, r in flagged.iterrows())
    return (
        f"{plural(len(flagged), 'study', 'studies')} flagged influential ({rules}): {items}. A flag asks for a "
        "closer look at that study (population, design, risk of bias), not for its removal."
    )


def _influence_table(d: Any) -> pd.DataFrame:
    cols = ["study", "rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "QE_del", "hat", "weight",
            "dfbetas_intrcpt", "flags"]
    t = d.influence[cols].copy()
    t["flags"] = t["flags"].replace("", "-")
    return t


def diagnostics_blocks(blk: Any, spec: Any) -> list[Block]:
    """The "Diagnostics" and "Meta-regression" subsections of one study-level outcome."""
    r = blk.result
    if r is None or r.diagnostics is None:
        return []
    d = r.diagnostics
    pct = round(spec.interval_prob * 100)
    kind = spec.interval_kind
    b: list[Block] = [Heading(f"Diagnostics: {blk.label}", 4)]
    if not getattr(d, "case_deletion", True):  # beyond CASE_DELETION_MAX_K studies (pipeline/diagnostics.py)
        b.append(Paragraph(skipped_sentence(d)))
    else:
        b += _case_deletion_blocks(blk, d, spec, pct, kind)
    _small_study_blocks(b, blk, d, r, spec, pct)
    return b


def skipped_sentence(d: Any) -> str:
    """What the diagnostics did not run, and why (from the structured ``Diagnostics.skipped``)."""
    parts = []
    for s in d.skipped:
        if s.what == "case_deletion":
            parts.append(
                f"Case-deletion diagnostics (leave-one-out refits, influence, Baujat, the Bayesian leave-one-out "
                f"table) were not run: with k = {s.k:,} studies they refit the model {s.k:,} times ({s.reason}; "
                f"run up to k = {s.limit:,}), and no single study among so many can move the pooled result much. "
                "The exact leave-one-out predictive checks (by downdating, all studies at once) are in the "
                "model checks above."
            )
        elif s.what == "gosh":
            parts.append(f"GOSH not drawn (k = {s.k:,} > {s.limit}: {s.reason}).")
    return " ".join(parts)


def _case_deletion_blocks(blk: Any, d: Any, spec: Any, pct: int, kind: str) -> list[Block]:
    r = blk.result
    spec_q = blk.spec.question
    b: list[Block] = []
    b.append(Paragraph(loo_sentence(d, spec.decision_threshold, spec_q, r.orientation.experimental)))
    b.append(Paragraph(_influence_sentence(d)))
    b.append(
        Table(
            _influence_table(d),
            caption=f"Case-deletion diagnostics of the random-effects fit ({d.method}, z test; {_scale(r)}), "
            "as metafor's influence(): studentized residual, DFFITS, Cook's distance, covariance ratio, "
            "tau^2 and Q without the study, hat value, weight (%), DFBETAS",
        )
    )
    b.append(
        Figure(
            _fig(blk.id, "baujat"),
            "Baujat plot: each study's contribution to the heterogeneity statistic Q against its influence on "
            "the pooled estimate; studies in the upper right drive both",
        )
    )
    if d.gosh is not None:
        b.append(
            Figure(
                _fig(blk.id, "gosh"),
                "GOSH plot: pooled estimate and I^2 of the random-effects model fitted to subsets of the "
                "studies; separate clusters point to studies that pull the result. " + d.gosh_note,
            )
        )
    loo = d.bayes_loo.rename(columns={"p_decision": f"{d.decision_label} without the study",
                                      "p_decision_change": "change"})
    b.append(
        Table(
            loo,
            caption=f"Exact Bayesian leave-one-out under the primary priors (tau ~ {prior_text(r.exact.tau_prior)}; "
            f"mu ~ {prior_text(r.exact.mu_prior)}; {_scale(r)}): posterior of mu without each study (median, {pct}% "
            f"{kind.upper()}), tau median, shift of the posterior mean of mu in full-data posterior SDs, "
            f"{d.decision_label} without the study and its change, and P(replicate <= observed | other "
            "studies), P(y_rep <= y_i | other studies) (near 0 or 1: the study is surprising given the others)",
            formats={"change": lambda v: f"{_num(v):+.4f}"},
        )
    )
    b.append(
        Details(
            f"Frequentist leave-one-out ({plural(d.k, 'fit')}, metafor's leave1out())",
            (Table(d.leave1out, caption=f"{d.method}, z test; {_scale(r)}", collapse_after=10**6),),
        )
    )
    return b


def _small_study_blocks(b: list[Block], blk: Any, d: Any, r: Any, spec: Any, pct: int) -> list[Block]:
    # small-study effects
    b.append(Heading(f"Small-study effects: {blk.label}", 4))
    b.append(Paragraph(d.small_study_note))
    if d.regtest is not None and d.trimfill is not None:
        rt, tf = d.regtest, d.trimfill
        tr = np.exp if r.orientation.is_ratio else (lambda v: v)
        b.append(
            Figure(
                _fig(blk.id, "funnel"),
                f"Funnel plot: study estimates against their standard errors with the pseudo {pct}% region around "
                f"the pooled {d.method} estimate"
                + ("; open circles: studies filled in by trim and fill" if tf.k0 else ""),
            )
        )
        stat = "z" if rt["df"] is None else f"t({rt['df']})"
        b.append(
            Paragraph(
                f"Egger's regression test (metafor's regtest(): {rt['method']} meta-regression on the standard "
                f"error): {stat} = {rt['stat']:.2f}, p = {_p(rt['pval'])}; limit estimate at SE = 0: "
                f"{r.measure} {tr(rt['limit_estimate']):.2f} ({pct}% CI {tr(rt['limit_ci_lb']):.2f} to "
                f"{tr(rt['limit_ci_ub']):.2f}). Trim and fill (L0): {plural(tf.k0, 'study', 'studies')} estimated "
                f"missing on the {tf.side} side; "
                + (
                    f"with the filled-in {'study' if tf.k0 == 1 else 'studies'} the estimate is {r.measure} {tr(tf.fit.mu):.2f} ({pct}% CI {tr(tf.fit.ci_lb):.2f} "
                    f"to {tr(tf.fit.ci_ub):.2f}), against {tr(d.fit.mu):.2f} without."
                    if tf.k0
                    else "the estimate is unchanged."
                )
                + " Neither method can tell publication bias from other causes of asymmetry."
            )
        )
    if d.pet_peese is not None:
        b.append(Paragraph(d.pet_peese_note))
        b.append(
            Table(
                d.pet_peese.summary(spec.interval_prob),
                caption=f"PET-PEESE (Bayesian, exact): posterior of mu ({_scale(r)}) without a bias term and "
                f"averaged over no bias, PET and PEESE (posterior model probabilities: "
                + ", ".join(
                    f"{m} {p:.2f}" for m, p in zip(d.pet_peese.models["model"], d.pet_peese.models["posterior_prob"])
                )
                + f"); inclusion Bayes factor for bias {d.pet_peese.bf_bias:.2f}",
            )
        )
    else:
        b.append(Note(d.pet_peese_note))
    ba = d.bias_average
    if ba is not None:
        b.append(Paragraph(d.bias_average_note))
        from bayesmeta.report.headline import fmt_bf

        b.append(Table(ba.summary(), caption="Publication-bias model averaging (RoBMA-style, exact): prior and "
                       "posterior inclusion probabilities and inclusion Bayes factors (posterior over prior "
                       "inclusion odds; beyond 1,000,000 a bound is printed: the posterior probability is then "
                       "1 within the resolution of the computation)",
                       formats={"inclusion_bf": lambda v: fmt_bf(float(v))}))  # type: ignore[arg-type]
        b.append(Table(ba.mu_table(), caption=f"Posterior of mu ({_scale(r)}) without and with the bias adjustments"))
    elif d.bias_average_note:
        b.append(Note(d.bias_average_note))
    b += _metareg_blocks(blk, spec)
    return b


def _metareg_sentence(m: Any, r: Any) -> str:
    rows = m.table
    kh = rows[(rows["analysis"] == "REML + Knapp-Hartung") & (rows["term"] != "intrcpt")]
    by = rows[rows["analysis"].str.startswith("Bayesian") & (rows["term"] != "intrcpt")]
    scale = _scale(r)
    parts = []
    for (_, f), (_, g) in zip(kh.iterrows(), by.iterrows()):
        what = (
            f"per unit of {m.moderator.name}, {scale} changes by"
            if m.moderator.kind == "continuous"
            else f"{f['term']} differs from {m.moderator.reference!r} by"
        )
        times = (
            f" (the {r.measure} is multiplied by {np.exp(f['estimate']):.3f})" if r.orientation.is_ratio else ""
        )
        parts.append(
            f"{what} {f['estimate']:.3f}{times} ({f['interval']}: {f['lb']:.3f} to {f['ub']:.3f}, p = {_p(f['pval'])}; "
            f"Bayesian median {g['estimate']:.3f}, {g['interval']} {g['lb']:.3f} to {g['ub']:.3f})"
        )
    f0 = kh.iloc[0]
    g0 = by.iloc[0]
    return (
        f"{m.moderator.name} ({m.moderator.kind}"
        + (f"; reference level {m.moderator.reference!r}" if m.moderator.kind == "categorical" else "")
        + f"): {'; '.join(parts)}. The residual between-study SD is tau = {f0['tau_residual']:.3f} (REML; "
        f"{f0['tau_no_moderator']:.3f} without the moderator, R^2 = {f0['R2']:.0f}%); Bayesian: "
        f"{g0['tau_residual']:.3f} against {g0['tau_no_moderator']:.3f} (posterior medians). With "
        f"{plural(len(m.data), 'study', 'studies')} a moderator is an observational comparison between "
        "studies, not a randomised one."
    )


def _metareg_blocks(blk: Any, spec: Any) -> list[Block]:
    r = blk.result
    if not blk.spec.moderators:
        return []
    b: list[Block] = [Heading(f"Meta-regression: {blk.label}", 4)]
    b.append(
        Paragraph(
            f"One moderator at a time, from {blk.spec.study_table}: frequentist mixed-effects meta-regression "
            "as metafor's rma(yi, vi, mods = ~ x) (REML with the z test, and with the Knapp-Hartung t test), "
            "and the exact Bayesian meta-regression as R bayesmeta's bmr() (flat prior on the coefficients, the "
            f"primary prior on tau, {prior_text(r.exact.tau_prior)}; one-dimensional integration over tau)."
        )
    )
    for m in r.metaregression:
        if m.table.empty:
            b.append(Note(f"{m.moderator.name}: {m.note}"))
            continue
        b.append(Paragraph(_metareg_sentence(m, r)))
        b.append(
            Table(
                m.table,
                caption=f"Meta-regression on {m.moderator.name} ({_scale(r)}; {m.note}): coefficient, SE "
                "(posterior SD for the Bayesian fit), interval, p-value, residual tau, tau without the moderator, "
                "R^2 (% of tau^2 explained; Bayesian: 1 - (tau_residual / tau_no_moderator)^2 of the posterior "
                "medians)",
                formats={"R2": lambda v: "NA" if not np.isfinite(_num(v)) else f"{_num(v):.1f}%"},
            )
        )
        b.append(
            Figure(
                _fig(blk.id, f"bubble_{m.moderator.name}"),
                f"Study estimates against {m.moderator.name} (area proportional to the REML weight), the fitted "
                "mean with its CI (frequentist) and the Bayesian posterior median with its interval",
            )
        )
    return b


def diagnostics_figures(blk: Any, spec: Any) -> Iterator[tuple[str, object]]:
    """Baujat, GOSH, funnel (k >= 10, with trim-and-fill fill-ins) and one bubble plot per moderator."""
    r = blk.result
    if r is None or r.diagnostics is None:
        return
    d = r.diagnostics
    o = r.orientation
    ratio = o.is_ratio
    xlab = f"{r.measure}{' (log scale)' if ratio else ''}, {o.experimental} vs {o.control}"
    if getattr(d, "case_deletion", True):
        yield (
            "baujat",
            figures.baujat(
                d.baujat["x"].to_numpy(), d.baujat["y"].to_numpy(), list(d.baujat["study"]),
                flagged=d.influence["influential"].to_numpy(),
                title=f"{blk.label}: Baujat plot ({d.method})",
            ),
        )
    if d.gosh is not None:
        yield (
            "gosh",
            figures.gosh(
                d.gosh["estimate"].to_numpy(), d.gosh["I2"].to_numpy(), xlabel=f"pooled {xlab} (DL)",
                ratio=ratio, full=(float(d.gosh["estimate"].iloc[-1]), float(d.gosh["I2"].iloc[-1])),
                title=f"{blk.label}: GOSH plot ({len(d.gosh):,} subsets)",
            ),
        )
    if d.trimfill is not None and d.k >= MIN_K_SMALL_STUDY:
        tf = d.trimfill
        fy = tf.filled_yi[d.k:] if tf.k0 else None
        fs = np.sqrt(tf.filled_vi[d.k:]) if tf.k0 else None
        yield (
            "funnel",
            figures.funnel_filled(
                r.yi, r.sei, mu=d.fit.mu, filled_yi=fy, filled_sei=fs, mu_filled=tf.fit.mu if tf.k0 else None,
                ratio=ratio, xlabel=xlab, title=f"{blk.label}: funnel plot with trim and fill",
            ),
        )
    for m in r.metaregression:
        if m.table.empty:
            continue
        yield (
            f"bubble_{m.moderator.name}",
            figures.bubble(
                list(m.data[m.moderator.name]), m.data["yi"].to_numpy(), m.data["weight"].to_numpy(), m.line,
                moderator=m.moderator.name, xlabel=moderator_words(spec, m.moderator.name), ylabel=f"{r.measure}"
                + (" (log scale)" if ratio else "") + f", {o.experimental} vs {o.control}",
                ratio=ratio, categorical=m.moderator.kind == "categorical", labels=list(m.data["study"]),
                prob=spec.interval_prob, title=f"{blk.label}: meta-regression on {m.moderator.name}",
            ),
        )


def moderator_words(spec: Any, name: str) -> str:
    """A moderator's axis label: its name and, when the study table's ``source`` column defines
    it (``name = what it is, in units``), that definition (the unit comes from the data)."""
    import csv
    import re

    path = Path(getattr(spec, "data_dir", ".")) / "studies.csv"
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                m = re.search(rf"\b{re.escape(name)} = ([^,;)]+)", row.get("source") or "")
                if m:
                    return f"{name}: {m.group(1).strip()}"
    except OSError:
        pass
    return name


def moderators_not_run(blk: Any) -> list[Block]:
    """For a block without study values: the declared meta-regression cannot run, and what is coded."""
    if not blk.spec.moderators:
        return []
    st = blk.moderators
    b: list[Block] = [
        Paragraph(
            f"**Meta-regression on {', '.join(blk.spec.moderators)} (declared in the spec) cannot run either**: it "
            f"needs the per-study effect values listed above; the moderators are coded in {blk.spec.study_table}, "
            "each with its source."
        )
    ]
    if st is not None and len(st):
        miss = st[st["status"] == "missing"]
        if len(miss):
            b.append(
                Note(
                    f"{plural(len(miss), 'moderator value')} not stated in the source and left missing: "
                    + "; ".join(f"{r['study']} {r['moderator']}" for _, r in miss.iterrows())
                )
            )
        b.append(
            Details(
                f"Moderators as coded ({plural(len(st), 'value')}, {len(miss)} missing)",
                (Table(st, caption="", collapse_after=10**6),),
            )
        )
    return b


def meta_regressions_waiting(blocks: Any) -> list[Block]:
    """For the report's missing-data section: the declared meta-regressions that wait for study values."""
    waiting = [blk for blk in blocks if blk.result is None and blk.spec.moderators]
    if not waiting:
        return []
    items = "; ".join(f"{blk.label} on {', '.join(blk.spec.moderators)}" for blk in waiting)
    miss = sorted(
        {
            f"{r['study']} {r['moderator']}"
            for blk in waiting
            if blk.moderators is not None
            for _, r in blk.moderators[blk.moderators["status"] == "missing"].iterrows()
        }
    )
    return [
        Paragraph(
            f"The meta-regressions declared in the spec ({items}) need the same per-study effect values: moderators "
            "describe the studies, they do not replace their results. "
            + (
                f"Moderator values the source does not state (left missing): {', '.join(miss)}."
                if miss
                else "Every moderator value is coded, with its source."
            )
        )
    ]

