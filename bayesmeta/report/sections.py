"""Report sections: pure functions from frozen results to blocks (Heading, Paragraph, Table, Figure).

Nothing here computes a posterior, samples or refits: every number comes from a
:class:`bayesmeta.pipeline.reanalysis.Reanalysis`. Figures are referred to by their path relative
to the report folder (``figures/<id>_<name>.png``, see :mod:`bayesmeta.report.panels`), so a
report renders the same wherever the folder is. No text is specific to one publication: the
published model, I^2, the arm labels and the priors' roles come from the data and the spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.pipeline.outcome import OutcomeResult
from bayesmeta.pipeline.reanalysis import Reanalysis
from bayesmeta.pipeline.spec import AnalysisSpec
from bayesmeta.pipeline.study_level import StudyLevelBlock
from bayesmeta.report.bottom_line import probability_phrase, summary_statement
from bayesmeta.report.diagnostics import (
    diagnostics_blocks,
    meta_regressions_waiting,
    moderator_words,
    moderators_not_run,
)
from bayesmeta.report.panels import SUMMARY_ID, study_framing
from bayesmeta.report.render import (
    Block,
    Code,
    Details,
    Figure,
    Heading,
    KeyValues,
    Note,
    Paragraph,
    Table,
    plural,
)


def figure_path(item_id: str, name: str) -> Path:
    """Where the figure ``name`` of an outcome or block lives, relative to the report folder."""
    return Path("figures") / f"{item_id}_{name}.png"


def fmt_p(p: float) -> str:
    return "<0.001" if p < 0.001 else (">0.999" if p > 0.999 else f"{p:.3f}")


def _short(scenario: str) -> str:
    return scenario.replace("unit-of-analysis corrected, ", "")


def console_summary(r: Reanalysis, out) -> str:
    """The lines ``bayesmeta reanalyze`` prints."""
    spec = r.spec
    lines = [f"Report written to {out}"]
    if len(r.checks):
        lines.append(
            "Published pooled results: consistency within rounding and implied SE (log scale for ratios)"
        )
        for _, c in r.checks.iterrows():
            flag = "consistent" if c["ci_symmetric"] and c["p_consistent"] is not False else "INCONSISTENT"
            n = (
                ""
                if pd.isna(c["participants_implied"])
                else f", implies {c['participants_implied']:.0f} participants"
            )
            lines.append(
                f"  {c['analysis']:<22} {c['measure']} {c['estimate']:.2f} [{c['ci_lb']:.2f}, "
                f"{c['ci_ub']:.2f}]"
                f"  SE {c['se']:.4f}{n}: {flag}"
            )
    if r.answers is not None:
        from bayesmeta.report import headline as hl

        lines.append("Primary analysis of each outcome (the report's summary table):")
        for oid in r.answers.outcome.values:
            oid = str(oid)
            a = r.answers.sel(outcome=oid, departure="primary")
            lines.append(
                f"  {r.answers.outcome_label.sel(outcome=oid).values}: {hl.effect_text(r.answers, oid)}; "
                f"P({hl.decision_event(r.answers, oid)}) {_peq(float(a.p_decision))}"
                + ("; too sparse to tell" if bool(r.answers.sparse.sel(outcome=oid)) else "")
            )
    outs_flat = r.outcomes if r.answers is None else ()
    if outs_flat:
        lines.append("Reanalysis (flat reference prior, as published):")
    for o in outs_flat:
        ref = o.reference_row()
        ni = (
            f", P(non-inferior, margin {o.primary_margin:g}) = {ref[f'p_noninferior@{o.primary_margin:g}']:.3f}"
            if o.spec.question in ("noninferiority", "equivalence") and o.spec.margins
            else ""
        )
        lines.append(
            f"  {o.label}: P(benefit {spec.experimental}) = P({o.orientation.benefit_text()}) = "
            f"{ref['p_benefit']:.3f}{ni} "
            f"[{ref['scenario']}, prior {ref['prior']}]  ({o.orientation.describe()})"
        )
    for b in r.study_blocks:
        if b.result is None:
            n_missing = len(b.missing) if b.missing is not None else 0
            why = "values missing, as the spec expects" if b.expected else "values missing"
            lines.append(f"  study-level {b.label}: not run, {n_missing} {why} ({b.message.split(': ')[0]})")
        else:
            res = b.result
            d = res.decisions[res.decisions["parameter"] == "mu"].iloc[0]
            ni = (
                f", P(non-inferior, margin {d['margin']:g}) = {d['p_noninferior']:.3f}"
                if b.spec.question in ("noninferiority", "equivalence") and b.spec.margins
                else ""
            )
            lines.append(
                f"  study-level {b.label}: P(benefit {res.orientation.experimental}) = "
                f"P({res.orientation.benefit_text()}) = {d['p_benefit']:.3f}{ni} "
                f"({res.orientation.describe()})"
            )
    return "\n".join(lines)


def methods_and_results(r: Reanalysis) -> list[str]:
    """Methods-and-results paragraphs following the Bayesian Analysis Reporting Guidelines
    (Kruschke 2021, Nat Hum Behav 5:1282, doi:10.1038/s41562-021-01177-7)."""
    spec, outs = r.spec, r.outcomes
    pct = round(spec.interval_prob * 100)
    kind = "highest-density (shortest)" if spec.interval_kind == "hdi" else "equal-tailed"
    models = sorted({str(o.published.get("model")) for o in outs if pd.notna(o.published.get("model"))})
    i2 = sorted({float(o.published["i2"]) for o in outs if pd.notna(o.published.get("i2"))})
    het = (
        f"Heterogeneity is what the published model ({'; '.join(models)}) estimated"
        if models
        else "Heterogeneity is what the published model estimated"
    )
    if i2:
        het += (
            f"; the review reported I^2 = {i2[0]:g}% for every pooled result that states it"
            if len(i2) == 1
            else f"; the review reported I^2 from {i2[0]:g}% to {i2[-1]:g}%"
        )
    orient = list(dict.fromkeys(o.orientation.describe() for o in outs))
    uoa_outs = [o for o in outs if o.uoa is not None]
    prior_lines = []
    for key in dict.fromkeys(o.spec.mu_priors for o in outs):
        ps = spec.prior_specs("mu", key)
        prior_lines.append(f"{key}: " + "; ".join(f"{n} ({p.role}, {p.text})" for n, p in ps.items()))
    gone = [b for b in r.study_blocks if b.result is None]
    lead = (
        f"The per-study values are not available for {len(gone)} of the {len(r.study_blocks)} study-level "
        "analyses (section 3 lists what is missing), so each"
        if gone
        else "Each"
    )
    paras = [
        f"**Model.** {lead} published pooled estimate, on the analysis scale (log scale for ratios), is used "
        "as a "
        "normal likelihood with the standard error implied by its confidence interval: estimate ~ N(mu, "
        "SE^2). "
        f"{het}. Orientation: " + "; ".join(orient) + ".",
    ]
    presets = list(dict.fromkeys(o.spec.preset for o in outs if o.spec.preset))
    if presets:
        paras.append(
            "**Published analysis.** The published pooled results were made with "
            + "; ".join(preset_text(p) for p in presets)
            + " (the spec's preset). The consistency checks and the SE implied by each CI use that "
            "program's interval: "
            + "; ".join(
                f"{p}: " + ("t(k-1) quantile with the printed number of studies" if _knha(p) else "normal quantile")
                for p in presets
            )
            + "."
        )
    if uoa_outs:
        paras.append(
            "**Unit of analysis.** "
            + ", ".join(o.label for o in uoa_outs)
            + " pool several follow-up times of the "
            "same patients as if they were independent studies. The participants implied by each CI were "
            "compared "
            "with the participants randomised, and the SE was inflated by the design effect 1 + (m - 1) rho, "
            "with m "
            "the implied number of rows per patient and rho the within-patient correlation between time "
            "points "
            "(Borenstein et al. 2009, ch. 24), reported for rho from 0 to 1."
        )
    paras += [
        "**Priors.** The priors on mu, with their roles (the 'reference' prior is flat and reproduces the "
        "frequentist result), were: "
        + " | ".join(prior_lines)
        + ". Their parameters and rationale are tabulated "
        "below. Prior-data conflict was checked with Box's prior predictive p-value.",
        "**Computation.** Posteriors of mu were computed exactly by one-dimensional numerical integration "
        "(no Monte Carlo error in the posterior summaries; Box p-values by Monte Carlo with stated MCSE). "
        f"Posterior summaries are medians with {pct}% {kind} intervals.",
        f"**Decision rule.** {spec.experimental} is called non-inferior when the posterior probability that "
        "the effect "
        f"lies on the harmful side by less than the margin is at least {spec.decision_threshold}. Margins "
        "are given in "
        "the units of each outcome's measure (ratios as printed, on the harmful side; SMD margins also in "
        "native units "
        "through a stated SD where the spec gives one); probabilities are shown as curves over all margins, "
        "so no "
        "single margin decides the conclusion. The margin marked primary in the spec is reported first. A "
        "verdict "
        "'flips' when it differs from the verdict under the reference prior in the same likelihood scenario.",
    ]
    res = []
    for o in outs:
        m0 = o.primary_margin
        g = o.grid
        ref = o.reference_row()
        lo, hi = ref[f"{spec.interval_kind}{pct}_lb"], ref[f"{spec.interval_kind}{pct}_ub"]
        tr = np.exp if o.is_ratio else (lambda v: v)
        s = (
            f"{o.label} ({o.measure}): published {o.published['estimate']:.2f} [{o.published['ci_lb']:.2f}, "
            f"{o.published['ci_ub']:.2f}]. Flat prior: median {tr(ref['median']):.2f} ({pct}% "
            f"{spec.interval_kind.upper()} "
            f"{tr(lo):.2f} to {tr(hi):.2f}), P({o.measure} favours {spec.control}) = {fmt_p(ref['p_harm'])}, "
            f"P({spec.experimental} non-inferior at {m0:g}) = {fmt_p(ref[f'p_noninferior@{m0:g}'])}"
        )
        pr = g[f"p_noninferior@{m0:g}"]
        s += f"; over all priors and scenarios that probability ranges {pr.min():.3f}-{pr.max():.3f}"
        if o.uoa is not None:
            rr = o.reference_row(o.main_scenario)
            s += (
                f". The CI implies {o.uoa.participants_implied:.0f} participants against "
                f"{o.uoa.participants_randomised} randomised ({o.uoa.rows_per_patient:.2f} rows per "
                "patient); "
                f"corrected ({_short(o.main_scenario)}), P(favours {spec.control}) = {fmt_p(rr['p_harm'])} "
                "and "
                f"P(non-inferior at {m0:g}) = {fmt_p(rr[f'p_noninferior@{m0:g}'])}"
            )
        flips = g[g["decision_flips"]]
        s += (
            f". The non-inferiority verdict changes with the prior in {len(flips)} of {len(g)} prior x "
            "scenario cells."
            if len(flips)
            else ". The non-inferiority verdict is the same under every prior and scenario."
        )
        res.append(s)
    paras.append("**Results.** " + " ".join(res))
    return paras


def uoa_conclusion(o: OutcomeResult, spec: AnalysisSpec) -> str:
    """What the unit-of-analysis correction does to the published conclusion (flat prior)."""
    assert o.uoa is not None and o.uoa_effect is not None and o.spec.repeated_timepoints is not None
    g = o.grid[o.grid["prior"] == o.reference].set_index("scenario")
    e = o.uoa_effect
    parts = []
    for rho in (0.0, float(o.spec.repeated_timepoints.get("rho", 0.5)), 1.0):
        row = e.iloc[int(np.argmin(np.abs(e["rho"].to_numpy() - rho)))]
        parts.append(
            f"rho = {rho:g}: p = {row['pval']:.3f}, 95% CI [{row['ci95_lb']:.2f}, {row['ci95_ub']:.2f}], "
            f"P(favours {spec.control}) = {row['p_harm_flat']:.3f}"
        )
    m0 = o.primary_margin
    ni = ", ".join(f"{_short(sc)}: {g.loc[sc, f'p_noninferior@{m0:g}']:.3f}" for sc in g.index)
    weak = e.loc[e["ci95_lb"] <= 0, "rho"]
    naive_p = float(e.iloc[int(np.argmin(np.abs(e["rho"].to_numpy())))]["pval"])
    return (
        "**Effect on the published conclusion** (flat prior, so the probabilities are the frequentist "
        f"one-sided p-values read as posterior probabilities): {'; '.join(parts)}. The published analysis "
        f"corresponds to rho = 0 (every follow-up time treated as new patients). P({spec.experimental} "
        "non-inferior "
        f"at {o.measure} {m0:g}): {ni}. "
        + (
            f"A result that is 'borderline significant' only when the same patients are counted about "
            f"{o.uoa.rows_per_patient:.1f} times is weaker evidence than it appears: corrected, the "
            f"interval includes no difference for any rho >= {weak.min():g}; the direction "
            "of the point estimate is unchanged."
            if naive_p < 0.1 and len(weak)
            else "The correction widens the interval; the conclusion about a difference is unchanged."
        )
    )


def priors_table(spec: AnalysisSpec) -> pd.DataFrame:
    """Effect priors with role, distribution as written, quantiles and rationale."""
    rows = []
    for key, ps in spec.mu_priors.items():
        for name, p in ps.items():
            prior = p.prior
            q = (
                ""
                if not prior.proper
                else ", ".join(f"{v:.3f}" for v in np.ravel(prior.ppf(np.array([0.025, 0.5, 0.975]))))
            )
            rows.append(
                {
                    "measure": key,
                    "prior": name,
                    "role": p.role,
                    "primary": p.primary,
                    "distribution": p.text,
                    "2.5/50/97.5% quantiles": q,
                    "rationale": p.rationale,
                }
            )
    return pd.DataFrame(rows)


def tau_priors_table(spec: AnalysisSpec) -> pd.DataFrame:
    """Heterogeneity priors with quantiles and the spread of a new study's effect they imply."""
    rows = []
    for key, ps in spec.tau_priors.items():
        for name, pspec in ps.items():
            p = pspec.prior
            q = p.ppf(np.array([0.05, 0.5, 0.95])) if p.proper else [np.nan] * 3
            pi = p.predictive_interval(0.95) if p.proper else (np.nan, np.nan)
            rows.append(
                {
                    "measure": key,
                    "prior": name,
                    "primary": pspec.primary,
                    "distribution": str(p),
                    "tau q05": q[0],
                    "tau median": q[1],
                    "tau q95": q[2],
                    "95% range of theta_new - mu": f"+-{pi[1]:.3f}",
                    "rationale": "; ".join(t for t in (pspec.rationale, pspec.transfer and
                                                        f"used on another measure: {pspec.transfer}") if t),
                }
            )
    return pd.DataFrame(rows)


def outcome_section(o: OutcomeResult, spec: AnalysisSpec) -> list[Block]:
    """Blocks of one published pooled result."""
    pct = round(spec.interval_prob * 100)
    sp = o.spec
    p = o.published
    b: list[Block] = [Heading(o.label, 3)]
    b.append(
        Paragraph(
            f"Orientation: {o.orientation.describe()}. Question: {sp.question}. Published: {p['measure']} "
            f"{p['estimate']:.2f} [{p['ci_lb']:.2f}, {p['ci_ub']:.2f}]"
            f"{', p = ' + str(p['p']) if pd.notna(p.get('p')) else ''}"
            f"{' (' + str(p['model']) + ')' if pd.notna(p.get('model')) else ''}; "
            f"analysis-scale estimate {o.estimate:.4f}, SE {o.se:.4f}."
        )
    )
    if o.uoa is not None:
        assert sp.repeated_timepoints is not None
        b.append(
            Paragraph(
                f"**Unit of analysis.** The CI implies {o.uoa.participants_implied:.0f} participants, but "
                "only "
                f"{o.uoa.participants_randomised} were randomised in the contributing trials: each patient "
                "enters "
                f"about {o.uoa.rows_per_patient:.2f} times (one row per follow-up time). Corrected results "
                "over the "
                "within-patient correlation rho (source of the default: "
                f"{sp.repeated_timepoints.get('rho_source', 'spec')}):"
            )
        )
        b.append(
            Table(o.uoa.table, caption="Unit-of-analysis correction (design effect 1 + (m-1) rho)", digits=3)
        )
        b.append(Paragraph(uoa_conclusion(o, spec)))
        b.append(
            Figure(
                figure_path(o.id, "unit_of_analysis"),
                "Against the within-patient correlation rho: left, the posterior probability that the "
                f"effect favours {spec.control} (flat prior); right, the two-sided p-value, on its own axis",
            )
        )
    iv = [f"{spec.interval_kind}{pct}_lb", f"{spec.interval_kind}{pct}_ub"]
    cols = (
        ["scenario", "prior", "median", *iv, "p_benefit", "p_harm"]
        + [c for c in o.grid.columns if c.startswith("p_noninferior@") or c.startswith("p_rope@")]
    )
    g = o.grid[cols].copy()
    if o.is_ratio:
        for c in ("median", *iv):
            g[c] = np.exp(g[c])
    b.append(
        Details(
            f"Posterior of mu and decision probabilities: the full grid ({plural(len(g), 'row')})",
            (
                Table(
                    g,
                    caption=f"Posterior of mu ({o.measure}; median and {pct}% "
                    f"{spec.interval_kind.upper()}) and decision probabilities by prior and likelihood "
                    "scenario. "
                    f"P(benefit) = P(favours {spec.experimental}); P(harm) = P(favours {spec.control}); "
                    "P(no worse than d) = P(effect on the harmful side smaller than margin d). Heterogeneity is "
                    "fixed here (at the published value or corrected for the unit of analysis): the primary "
                    "re-opens it.",
                    collapse_after=10**6,
                ),
            ),
        )
    )
    b.append(
        Figure(
            figure_path(o.id, "forest"),
            "Published estimate and 95% CI (black) and the posterior median "
            "and interval under each prior (blue), for each likelihood scenario, "
            "with the primary margin (dashed)",
        )
    )
    b.append(
        Figure(
            figure_path(o.id, "posterior"),
            "Prior (dashed) and posterior (solid) of mu under each prior, "
            "with the likelihood of the published estimate (dotted)",
        )
    )
    b.append(
        Figure(
            figure_path(o.id, "noninferiority"),
            "Posterior probability of non-inferiority against the "
            "margin (up to twice the primary margin), one line per prior; primary margin and decision "
            "threshold marked"
            + (f"; top axis: the margin in {sp.native['unit']} (converted with SD {sp.native['sd']:g}: "
               f"{sp.native['sd_source']})" if sp.native is not None and not o.is_ratio else ""),
        )
    )
    b.append(
        Figure(
            figure_path(o.id, "sensitivity"),
            "Prior sensitivity: P(non-inferior) at the primary margin by "
            "prior and likelihood scenario; the black line is the decision "
            "boundary",
        )
    )
    b.append(
        Table(
            o.tipping,
            caption="Tipping points: how far a prior must lean to change the verdict "
            "(NA: no prior in the searched range changes it)",
            digits=3,
        )
    )
    if len(o.conflict):
        b.append(
            Table(
                o.conflict,
                caption="Prior-data conflict: Box's prior predictive p-value (small = conflict)",
                digits=3,
            )
        )
    return b


def summary_level_section(o: OutcomeResult) -> list[Block]:
    """What the published summary supports beyond the primary (``OutcomeResult.summary_level``):
    the rounding set, the trials, the summary likelihood's assumptions, the decision priors with tau
    fixed as published, and the summary-level random effects under every tau prior. The verdict,
    the certainty and the Bayes factor of the decision are the primary's (report/headline.py) and are
    not repeated here; Bayes factors for an effect or for heterogeneity from one pooled estimate mostly
    restate their priors and are not shown as evidence."""
    r = o.summary_level
    if r is None:
        return []
    b: list[Block] = [Heading(f"{o.label}: from the published summary", 4)]
    b.append(Paragraph(f"**Rounding.** {r.rounding.verdict()}. Every analysis uses the centre of the consistent "
                       f"set: estimate {r.estimate:.4f}, SE {r.se:.4f} (analysis scale)."))
    b.append(Paragraph(f"**Trials.** {r.trials}." + "".join(f" {n}." for n in r.notes)))
    if r.data is not None and r.data.assumptions:
        b.append(Paragraph("Summary likelihood (neutral effect prior): " + "; ".join(r.data.assumptions) + "."))
    dec = r.decisions.drop(columns=[c for c in ("posterior_p_ni",) if c in r.decisions.columns])
    b.append(
        Table(
            dec.rename(columns={"re_posterior_p_ni": "posterior P(no worse), heterogeneity re-opened"}),
            caption="Decision priors: prior P(non-inferior) at the primary margin and its posterior with "
            "heterogeneity re-opened, with Box's prior-data conflict p (conflict: p < 0.05)",
            digits=3,
        )
    )
    if len(r.random_effects):
        b.append(
            Table(
                r.random_effects.drop(columns=[c for c in ("primary",) if c in r.random_effects.columns]),
                caption="Summary-level random effects under each tau prior (neutral effect prior; 95% HDIs; "
                "prior P(tau < 0.05) below 0.01 flags an inverse-gamma prior that excludes homogeneity a priori)",
                digits=3,
            )
        )
    if o.measure in ("RR", "OR") and not o.spec.baseline_risk:
        b.append(
            Note(
                "Risk differences per 1,000 are not computed: the spec gives no baseline_risk for this "
                "outcome (add baseline_risk = [...] with baseline_risk_source, docs/spec.md)."
            )
        )
    return b


def _p3(p: float) -> str:
    """'= 0.884', '> 0.999', '< 0.001'."""
    return "> 0.999" if p > 0.999 else "< 0.001" if p < 0.001 else f"= {p:.3f}"


#: Pareto k above which PSIS-LOO is unreliable (Vehtari, Gelman & Gabry 2017, Stat Comput 27:1413)
PARETO_K_BAD = 0.7


def study_notes(r: Any) -> list[str]:
    """The sentences about a study-level result's computation, from its flags and checks."""
    out = list(getattr(r, "data_notes", ()))
    if r.n_not_estimable:
        out.append(f"{r.n_not_estimable} studies not estimable for {r.measure} (double zero) were left out of the "
                   "normal-normal analyses and kept in the binomial-normal model")
    if r.diagnostics_skipped:
        out.append(f"Influence and small-study diagnostics need at least 3 studies ({len(r.yi)} here).")
    if r.sampling_skipped_improper:
        out.append(f"Sampled fit not run: the primary priors ({r.exact.tau_prior.label}; {r.exact.mu_prior.label}) "
                   "include an improper prior, which the sampler does not accept; the exact posterior is complete.")
    c = r.sampler_check
    if c is not None:
        z = ", ".join(f"{k} {v:.1f} MCSE" for k, v in c.z.items())
        out.append(("Sampler agrees with the exact solver (posterior means within 4 MCSE: " if c.agrees
                    else "WARNING: sampler and exact solver disagree beyond 4 MCSE (") + z + ")")
        out.append(f"Sampler diagnostics: {c.diagnostics}")
        if c.loo_skipped_above is not None:
            out.append(f"PSIS-LOO of the sampled fit not run: {len(r.yi):,} studies, above {c.loo_skipped_above:,} "
                       "(its Pareto smoothing takes ~8.5 ms per study); the exact leave-one-out table (downdating) "
                       "is the one to read")
        elif c.loo_elpd is None:
            out.append(f"PSIS-LOO not available: {c.loo_error}")
        else:
            k = c.pareto_k_max
            out.append(f"PSIS-LOO (sampled, random effects): elpd {c.loo_elpd:.2f} (exact {c.loo_elpd_exact:.2f}); "
                       f"max Pareto k {k:.2f}"
                       + (f": above {PARETO_K_BAD}, so PSIS-LOO is unreliable for at least one study; the exact "
                          "leave-one-out table is the one to read" if k is not None and k > PARETO_K_BAD else ""))
    b = r.binomial_check
    if b is not None:
        o = r.orientation
        if r.measure != "OR":
            side = "<" if o.lower_is_better else ">"
            null = 1 if o.is_ratio else 0
            out.append(
                f"The binomial-normal model (exact likelihood) is fitted on log OR, while the reported measure is "
                f"{r.measure}: its P(benefit) = P(OR {side} 1) {_p3(b.p_benefit_binomial)} sits beside the normal "
                f"approximation's P({r.measure} {side} {null}) {_p3(b.p_benefit_normal)}; the two can differ because "
                f"the measure differs (OR vs {r.measure}) and because it uses the exact binomial likelihood instead "
                "of the normal approximation (with the 0.5 continuity correction for zero cells).")
        out.append(
            f"Binomial-normal (exact likelihood, log OR): median mu {b.median_binomial:.3f} vs normal approximation "
            f"(log OR with 0.5 correction) {b.median_normal:.3f}; "
            + ("they DISAGREE by more than a quarter of a posterior SD: prefer the exact likelihood" if b.disagrees
               else "they agree within a quarter of a posterior SD")
            + f"; diagnostics: {b.diagnostics}")
    return out


def study_table(r: Any, spec: AnalysisSpec) -> Table:
    """The studies as the forest plot shows them: arm data, effect and 95% CI, weight, shrunken
    estimate, and whether each study is in the analysis (with the reason when it is not)."""
    from bayesmeta.report.panels import forest_studies

    d = forest_studies(r, spec)
    e, c = r.orientation.experimental, r.orientation.control
    pct = round(spec.interval_prob * 100)
    out = pd.DataFrame({"study": d["study"]})

    def count(v: object) -> str:
        return "" if pd.isna(v) else str(int(float(str(v))))

    if "events_e" in d:
        out[f"{e} events/n"] = [f"{count(a)}/{count(n)}" for a, n in zip(d["events_e"], d["n_e"])]
        out[f"{c} events/n"] = [f"{count(a)}/{count(n)}" for a, n in zip(d["events_c"], d["n_c"])]
    elif "mean_e" in d:
        for arm, sfx in ((e, "e"), (c, "c")):
            out[f"{arm} n"] = [count(v) for v in d[f"n_{sfx}"]]
            out[f"{arm} mean (SD)"] = [
                f"{m:.2f} ({s_:.2f})" for m, s_ in zip(d[f"mean_{sfx}"], d[f"sd_{sfx}"])
            ]

    def iv(est: float, lb: float, ub: float) -> str:
        return "" if pd.isna(est) else f"{est:.2f} [{lb:.2f}, {ub:.2f}]"

    out[f"{r.measure} [95% CI]"] = [iv(*t) for t in zip(d["yi"], d["ci_lb"], d["ci_ub"])]
    out["weight (DL), %"] = ["" if pd.isna(w) else f"{w:.1f}" for w in d["weight"]]
    out[f"shrunken [{pct}% {spec.interval_kind.upper()}]"] = [
        iv(*t) for t in zip(d["theta"], d["theta_lb"], d["theta_ub"])
    ]
    out["status"] = ["in the analysis" if not x else f"left out: {x}" for x in d["excluded"]]
    n_out = int((d["excluded"] != "").sum())
    cap = f"{plural(len(d), 'study', 'studies')}"
    if n_out:
        cap += f", {n_out} left out of the normal-normal analyses"
    return Table(out, caption=f"Studies ({cap}); effects on the {r.measure} scale", digits=1)


def study_section(blk: StudyLevelBlock, spec: AnalysisSpec) -> list[Block]:
    """Blocks of one study-level analysis (or of what it is missing)."""
    pct = round(spec.interval_prob * 100)
    b: list[Block] = [Heading(blk.label, 3)]
    if blk.result is None:
        lead = (
            "**Not run: the study values are missing** (the spec declares them expected-missing)."
            if blk.expected
            else "**NOT RUN: the study values are missing.**"
        )
        b.append(
            Paragraph(
                f"{lead} {missing_message(blk)} The list below says what to enter (with its source) to "
                "run the hierarchical models."
            )
        )
        if blk.missing is not None and len(blk.missing):
            b.append(
                Details(
                    f"Missing values for {blk.label} ({plural(len(blk.missing), 'value')})",
                    (Table(blk.missing, caption="", collapse_after=10**6),),
                )
            )
        b += moderators_not_run(blk)
        return b
    r = blk.result
    fr = study_framing(
        blk.spec.question, r.orientation, r.measure, blk.spec.margins[0] if blk.spec.margins else None
    )
    b.append(
        Paragraph(
            f"{plural(len(r.labels), 'study', 'studies')} in the analysis; measure {r.measure} "
            f"({r.orientation.describe()}); question: {blk.spec.question}"
            + (
                f", decided by {fr['label']}."
                if fr["label"]
                else " (no verdict: the estimate and its interval)."
            )
            + (
                f" Frequentist reproduction: {preset_text(blk.spec.preset)}."
                if blk.spec.preset
                else ""
            )
        )
    )
    # the primary analysis, its figure and its robustness; everything else is collapsed below
    b.append(
        Figure(
            figure_path(blk.id, "forest"),
            "Studies with their arm data, random-effects weights and 95% CIs "
            "(black), shrunken study estimates (open circles), the pooled "
            "frequentist (black) and Bayesian (blue) diamonds, the prediction "
            "interval for a new study (green) and the primary margin (dashed)",
        )
    )
    if fr["caption"]:
        cols = [c for c in fr["columns"] if c in r.decisions] or list(r.decisions.columns)
        dec = r.decisions[cols]
        if fr["key"] == "p_benefit":  # one row per parameter: the margin columns do not enter
            dec = dec.drop_duplicates("parameter")
        b.append(Table(dec, caption=fr["caption"]))
    if blk.spec.preset and len(r.frequentist):
        b.append(Table(r.frequentist.iloc[:1],
                       caption=f"Frequentist reproduction: {preset_text(blk.spec.preset)} "
                       "(metafor/RevMan conventions; log scale for ratios)"))
    b.append(
        Figure(
            figure_path(blk.id, "sensitivity"),
            (
                f"Prior sensitivity: {fr['label']}"
                if fr["key"] == "p_benefit"
                else "Prior sensitivity: P(non-inferior) at the primary margin"
            )
            + " over tau priors x mu priors; the black line is the decision boundary",
        )
    )
    more: list[Block] = []
    notes = study_notes(r)
    if notes:
        more.append(Details("Computation checks: sampler against the exact solver, PSIS-LOO, binomial-normal model",
                            tuple(Note(n, "warning" if n.startswith("WARNING") or "unreliable" in n else "note")
                                  for n in notes)))
    more.append(study_table(r, spec))
    more.append(
        Table(
            r.frequentist,
            caption="Frequentist reproduction (metafor/RevMan conventions; log scale for ratios)"
            + (f"; first row: {preset_text(blk.spec.preset)}" if blk.spec.preset else ""),
        )
    )
    more.append(
        Table(
            r.exact.summary(spec.interval_prob, spec.interval_kind),
            caption=f"Exact posterior ({r.exact.tau_prior.label}; {r.exact.mu_prior.label}); "
            f"{pct}% {spec.interval_kind.upper()}; mode: marginal posterior mode; joint MAP: the joint "
            "MAP of (tau, mu), as R bayesmeta's $MAP",
        )
    )
    more.append(
        Table(r.comparison, caption="Posterior beside DL, REML and HKSJ, with the reason where they differ")
    )
    if r.sampled is not None:
        more.append(
            Table(
                r.sampled.summary(
                    spec.interval_prob, spec.interval_kind, var_names=("mu", "tau", "theta_new")
                ),
                caption=f"Sampled fit ({spec.sampler.backend}, seed {spec.seed}); MCSE: Monte Carlo "
                "standard errors (Vehtari et al. 2021); mode (KDE): mode of the KDE of the draws (indicative)",
            )
        )
        more.append(KeyValues({"sampler diagnostics": r.sampled.diagnostics}))
    more.append(
        Figure(
            figure_path(blk.id, "tau"), "Prior (dashed) and posterior (solid) of tau, the between-study SD"
        )
    )
    more.append(
        Figure(figure_path(blk.id, "mu"), "Prior (dashed) and posterior (solid) of mu, the pooled effect")
    )
    if blk.spec.margins and blk.spec.question in ("noninferiority", "equivalence") and fr["margin"]:
        more.append(
            Figure(
                figure_path(blk.id, "noninferiority"),
                "Posterior probability of non-inferiority against the "
                "margin (up to twice the primary margin), for the pooled effect and for a new study",
            )
        )
    more.append(
        Table(
            r.sensitivity,
            caption=f"Prior sensitivity, the full grid ({plural(len(r.sensitivity), 'cell')}; exact): tau priors "
            "x mu priors; verdict changes: the verdict at the primary margin differs from the primary priors'",
            collapse_after=10**6,
        )
    )
    more.append(
        Table(
            r.checks, caption="Posterior predictive checks (p-values near 0 or 1 signal misfit) and exact LOO"
        )
    )
    more.append(
        Table(r.loo, caption=f"Leave-one-study-out predictive checks ({plural(len(r.loo), 'study', 'studies')}; "
              "exact solver on the other studies)", collapse_after=10**6)
    )
    more.append(
        Figure(
            figure_path(blk.id, "ppc"),
            "Replicated study effects (95% posterior predictive interval) against the observed ones",
        )
    )
    more += diagnostics_blocks(blk, spec)  # influence, small-study effects, meta-regression (issue 11)
    b.append(Details(f"Details: {blk.label}: the studies, other estimators, posterior and sampler checks, the full "
                     "prior grid, predictive checks, influence, small-study effects and meta-regression",
                     tuple(more)))
    return b


def _knha(preset: str) -> bool:
    from bayesmeta.frequentist.presets import get_preset

    return get_preset(preset).test == "knha"


def preset_text(preset: str) -> str:
    """The settings of a preset in words, for the methods (:mod:`bayesmeta.frequentist.presets`)."""
    from bayesmeta.frequentist.presets import get_preset

    pre = get_preset(preset)
    ci = "Hartung-Knapp-Sidik-Jonkman t(k-1)" if pre.test == "knha" else "Wald (normal)"
    if pre.pi == "t_k-2":
        pi = "t(k-2) with the Wald SE (Higgins et al. 2009)"
    elif pre.test == "knha":
        pi = "t(k-1) with the Hartung-Knapp SE (metafor's predict())"
    else:
        pi = "normal quantile (metafor's predict())"
    return (
        f"preset '{pre.name}' ({pre.description.split(':')[0]}): tau^2 by {pre.method}, {ci} CI for mu, "
        f"prediction interval {pi}, I^2 from {'Q' if pre.i2 == 'Q' else 'tau^2'}, "
        f"{'Q-profile CI for tau^2' if pre.tau2_ci else 'no CI for tau^2'}, zero cells by "
        f"{'RevMan' if pre.zero_rule == 'revman' else 'metafor'}'s rule, Mantel-Haenszel "
        f"{'with 0.5 added to zero-cell tables' if pre.mh_correction == 'only0' else 'on the raw counts'}, "
        f"Hedges' g as {'RevMan' if pre.smd == 'SMD_revman' else 'metafor'} computes it"
    )


def missing_message(blk: StudyLevelBlock) -> str:
    """Why a block did not run, in words (the exception text holds a dict of the first rows)."""
    n = len(blk.missing) if blk.missing is not None else 0
    head = blk.message.split(": ")[0] if blk.message else "values are missing"
    return f"{head[0].upper()}{head[1:]}: {plural(n, 'required value')} missing."


# --- summary first (issue 9): the bottom line per outcome, then the methods ----------------------


def study_bottom_line(question: str, orientation: Any, measure: str, margin: float | None, d0: Any) -> str:
    """The verdict sentence of a study-level analysis (empty for estimation), from :func:`study_framing`."""
    fr = study_framing(question, orientation, measure, margin)
    exp, ctl = orientation.experimental, orientation.control
    if fr["key"] is None:
        return ""
    if fr["key"] == "p_benefit":
        p = float(d0["p_benefit"])
        s = f"{exp} is {probability_phrase(p)} better than {ctl}: {fr['label']} {_peq(p)}."
        return s[:1].upper() + s[1:]
    return _bottom_line(
        question, exp, ctl, measure, margin, float(d0["p_noninferior"]), float(d0["p_benefit"])
    )


def ratio_effect_text(est: float, lb: float, ub: float, measure: str, lower_is_better: bool) -> str:
    """The effect as "RR 0.49 [0.35, 0.69]" and, for a risk ratio where lower is better (prevention), the relative
    risk reduction 1 - RR in per cent with its interval."""
    s = f"{measure} {est:.2f} [{lb:.2f}, {ub:.2f}]"
    if measure == "RR" and lower_is_better:
        s += (
            f"; relative risk reduction (1 - RR) {100 * (1 - est):.0f}% "
            f"[{100 * (1 - ub):.0f}%, {100 * (1 - lb):.0f}%]"
        )
    return s


def _interval_text(est: float, lb: float, ub: float, measure: str, pct: int, kind: str) -> str:
    return f"{measure} {est:.2f} ({pct}% {kind.upper()} {lb:.2f} to {ub:.2f})"


def _peq(p: float) -> str:
    """'= 0.81', '> 0.999', '< 0.001'."""
    f = fmt_p(p)
    return f"{f[0]} {f[1:]}" if f[0] in "<>" else f"= {f}"


def _bottom_line_text(
    question: str,
    exp: str,
    ctl: str,
    measure: str,
    margin: float | None,
    p_ni: float | None,
    p_benefit: float,
) -> str:
    """One sentence answering the spec's question, in the probability words of
    :data:`bayesmeta.report.bottom_line.PROBABILITY_WORDS`."""
    if question in ("noninferiority", "equivalence") and margin is not None and p_ni is not None:
        words = probability_phrase(p_ni)
        if words == "possibly":
            return (
                f"It is uncertain whether {exp} is worse than {ctl} by more than {measure} {margin:g} "
                f"(P(no worse) {_peq(p_ni)})."
            )
        if words.endswith("not"):
            return (
                f"{exp} is {words.replace(' not', '')} worse than {ctl} by more than {measure} {margin:g} "
                f"(P {_peq(1 - p_ni)})."
            )
        return f"{exp} is {words} no worse than {ctl} by more than {measure} {margin:g} (P {_peq(p_ni)})."
    if question == "superiority":
        return f"{exp} is {probability_phrase(p_benefit)} better than {ctl} (P {_peq(p_benefit)})."
    return f"Estimated effect of {exp} against {ctl}:"


def _bottom_line(*args: Any) -> str:
    s = _bottom_line_text(*args)
    return s[:1].upper() + s[1:]


def summary_section(r: Reanalysis) -> list[Block]:
    """The bottom line of every outcome (published results and study-level analyses), first."""
    spec = r.spec
    pct = round(spec.interval_prob * 100)
    kind = spec.interval_kind
    exp, ctl = spec.experimental, spec.control
    items: list[Block] = [Heading("Summary")]
    for o in r.outcomes:
        m0 = o.primary_margin
        ref = o.reference_row(o.main_scenario)
        tr = np.exp if o.is_ratio else (lambda v: v)
        est = _interval_text(
            float(tr(ref["median"])),
            float(tr(ref[f"{kind}{pct}_lb"])),
            float(tr(ref[f"{kind}{pct}_ub"])),
            o.measure,
            pct,
            kind,
        )
        key = f"p_noninferior@{m0:g}"
        sl = getattr(o, "summary_level", None)  # issue 8's bottom line and certainty, where computed
        line = (
            " ".join(summary_statement(sl))
            if sl is not None
            else _bottom_line(
                o.spec.question, exp, ctl, o.measure, m0, float(ref[key]), float(ref["p_benefit"])
            )
        )
        g = o.grid[key]
        scen = o.main_scenario
        items.append(
            Paragraph(
                f"**{o.label}.** {line} Posterior {est} with the reference prior "
                f"(likelihood: {scen}); published "
                f"{o.published['measure']} {o.published['estimate']:.2f} [{o.published['ci_lb']:.2f}, "
                f"{o.published['ci_ub']:.2f}]. Over {plural(o.grid['prior'].nunique(), 'prior')} and "
                f"{plural(o.grid['scenario'].nunique(), 'likelihood scenario')}, "
                f"P(non-inferior at {m0:g}) ranges "
                f"{fmt_p(float(g.min()))} to {fmt_p(float(g.max()))}."
            )
        )
    items += study_summary(r)
    if r.outcomes:
        items.append(
            Figure(
                figure_path(SUMMARY_ID, "forest"),
                "Every published result (black: published estimate and 95% CI) with the posterior "
                "under each prior (blue) and the primary non-inferiority margin (dashed)",
            )
        )
    return items


def study_summary(r: Reanalysis) -> list[Block]:
    """The bottom line of every study-level block."""
    spec = r.spec
    pct = round(spec.interval_prob * 100)
    kind = spec.interval_kind
    items: list[Block] = []
    for blk in r.study_blocks:
        if blk.result is None:
            items.append(
                Paragraph(
                    f"**{blk.label}.** Not run: the study values are missing "
                    f"({plural(len(blk.missing) if blk.missing is not None else 0, 'value')} missing; "
                    "listed under Study-level analyses)."
                )
            )
            continue
        res: Any = blk.result
        b: Any = blk.spec
        m1: float | None = b.margins[0] if b.margins else None
        tr = np.exp if res.orientation.is_ratio else (lambda v: v)
        lo, hi = res.exact.mu.interval(spec.interval_prob, kind)
        est = _interval_text(
            float(tr(res.exact.mu.median())), float(tr(lo)), float(tr(hi)), res.measure, pct, kind
        )
        d = res.decisions[res.decisions["parameter"] == "mu"]
        d0 = d.iloc[0]
        line = study_bottom_line(b.question, res.orientation, res.measure, m1, d0)
        lo2, hi2 = res.exact.theta_new.interval(spec.interval_prob, kind)
        if res.orientation.is_ratio:
            est = (
                ratio_effect_text(
                    float(tr(res.exact.mu.median())),
                    float(tr(lo)),
                    float(tr(hi)),
                    res.measure,
                    res.orientation.lower_is_better,
                )
                + f" (posterior median, {pct}% {kind.upper()}, back-transformed from the log scale)"
            )
        items.append(
            Paragraph(
                f"**{blk.label}** ({plural(len(res.labels), 'study', 'studies')}). "
                + (f"{line} " if line else "")
                + f"Pooled effect {est}; a new "
                f"study's effect {float(tr(lo2)):.2f} to {float(tr(hi2)):.2f} ({pct}% {kind.upper()})."
                + "".join(f" {x}" for x in study_caveats(res, b, spec))
            )
        )
    return items


#: a moderator is called influential when it explains at least this share of tau^2 (Bayesian pseudo-R^2)
#: or its Knapp-Hartung test has p < 0.05
R2_INFLUENTIAL = 50.0


def study_caveats(res: Any, b: Any, spec: AnalysisSpec) -> list[str]:
    """What a reader of a study-level bottom line must also know: heterogeneity larger than the effect,
    influential moderators, prior-data conflict on tau, and the bias-adjusted estimate."""
    out = []
    mu, tau = float(res.exact.mu.median()), float(res.exact.tau.median())
    tr = np.exp if res.orientation.is_ratio else (lambda v: v)
    if tau > abs(mu):
        out.append(f"**Heterogeneity dominates**: the between-study SD tau (median {tau:.2f}) exceeds the pooled "
                   f"effect (|mu| = {abs(mu):.2f}, {res.measure} scale{' log' if res.orientation.is_ratio else ''}): "
                   "the pooled effect does not describe every setting, and a new study's effect may lie on "
                   "either side.")
    for m in res.metaregression:
        t = m.table
        by = t[t["analysis"].str.startswith("Bayesian") & (t["term"] != "intrcpt")]
        kh = t[(t["analysis"] == "REML + Knapp-Hartung") & (t["term"] != "intrcpt")]
        r2 = float(by["R2"].iloc[0]) if len(by) else float("nan")
        pk = float(kh["pval"].min()) if len(kh) else float("nan")
        if (np.isfinite(r2) and r2 >= R2_INFLUENTIAL) or (np.isfinite(pk) and pk < 0.05):
            out.append(f"**Influential moderator**: {moderator_words(spec, m.moderator.name)} explains {r2:.0f}% "
                       "of the between-study "
                       f"variance (Bayesian pseudo-R^2; Knapp-Hartung p = {pk:.3f}).")
    tp = res.exact.tau_prior
    if getattr(tp, "proper", False):
        q95 = float(tp.ppf(0.95))
        if tau > q95:
            out.append(f"**Prior-data conflict on tau**: the posterior median of tau ({tau:.2f}) lies beyond the "
                       f"95th percentile of its prior ({tp.label}: {q95:.2f}); a wider tau prior is a named "
                       "departure in the prior-sensitivity table.")
    d = res.diagnostics
    ba = getattr(d, "bias_average", None) if d is not None else None
    if ba is not None:
        row = ba.mu_table().set_index("estimate").loc["model-averaged, conditional on an effect"]
        pct = round(spec.interval_prob * 100)
        lo, hi = row.get(f"eti{pct}_lb", np.nan), row.get(f"eti{pct}_ub", np.nan)
        out.append(f"Adjusted for publication bias (RoBMA-style model average, conditional on an effect): "
                   f"{res.measure} {float(tr(row['median'])):.2f} ({pct}% interval {float(tr(lo)):.2f} to "
                   f"{float(tr(hi)):.2f}).")
    sens = res.sensitivity
    if "decision_flips" in sens:
        from bayesmeta.pipeline.study_level import decision_column

        key = decision_column(res.question, b.margins)
        flips = sens[sens["decision_flips"].fillna(False).astype(bool)]
        if len(flips):
            by_mu = flips.groupby("mu_prior")[key].agg(["min", "max"])
            parts = [f"{m} effect prior (P {fmt_p(float(r['min']))} to {fmt_p(float(r['max']))} over the tau priors)"
                     if r["min"] != r["max"] else f"{m} effect prior (P = {fmt_p(float(r['min']))})"
                     for m, r in by_mu.iterrows()]
            out.append(f"**Not robust**: {len(flips)} of {len(sens)} prior combinations change the verdict: "
                       + "; ".join(parts) + ".")
        else:
            out.append(f"Robust: the verdict is the same under all {len(sens)} prior combinations of the "
                       "sensitivity grid.")
    return out


#: the review-level table's columns (pipeline/review.review_summary) in the words a reader sees
REVIEW_COLUMNS = {
    "analysis": "Analysis", "outcome": "Outcome", "subgroup": "Subgroup", "k": "Trials", "measure": "Measure",
    "revman_model": "RevMan's model", "revman_estimate": "RevMan's estimate", "revman_ci": "RevMan's 95% CI",
    "posterior_median": "Primary: median", "posterior_interval": "Primary: 95% interval", "question": "Question",
    "p_decision": "P(decision)", "largest_plausible": "Largest plausible difference",
    "bayes_factor": "Evidence (Bayes factor)", "conclusion_changes": "Prior combinations that change the verdict",
}


def review_table(review: pd.DataFrame) -> Table:
    """The review-level table of a RevMan review: one row per outcome, RevMan's result beside the primary."""
    shown = review[[c for c in REVIEW_COLUMNS if c in review.columns]].rename(columns=REVIEW_COLUMNS)
    sources = sorted(set(review.get("revman_source", pd.Series(dtype=str)).dropna().astype(str)))
    prim = sorted(set(review.get("primary_analysis", pd.Series(dtype=str)).dropna().astype(str)))
    return Table(
        shown,
        caption="The review, one row per outcome: RevMan's result ("
        + ("; ".join(sources) or "as stored") + ") beside the primary posterior ("
        + ("; ".join(prim) or "primary priors") + "). Largest plausible difference: the one-sided 95% bound "
        "on the harmful side. Details per outcome below.",
        key="P(decision)",
    )


def _headline_figures(r: Reanalysis) -> list[Block]:
    """The primary forest and the robustness figure (report/figures.py, drawn by the writer)."""
    from bayesmeta.report import figures as _figs

    if r.answers is None or not hasattr(_figs, "primary_forest"):
        return []
    return [
        Figure(figure_path(SUMMARY_ID, "primary"), "The primary answer per outcome: posterior median and 95% "
               "interval (blue), the published estimate and CI (grey), the margin (shaded)"),
        Figure(figure_path(SUMMARY_ID, "robustness"), "How robust is this? P(decision) under the primary analysis "
               "and under each named departure; the decision threshold as a line; departures that change the "
               "verdict are named"),
    ]


def _outcome_details(o: OutcomeResult, spec: AnalysisSpec) -> list[Block]:
    """Everything beyond the primary answer of one outcome, collapsed."""
    inner = outcome_section(o, spec)[1:] + summary_level_section(o)
    return [Details("Details: other likelihoods, the full prior grid, tipping points and prior-data conflict",
                    tuple(inner))]


def report_blocks(r: Reanalysis, prov: dict) -> list[Block]:
    """The whole report: summary and primary answers first, then methods and details."""
    from bayesmeta.report import headline as hl

    spec = r.spec
    source = f"Source: {spec.citation}. " if getattr(spec, "citation", "") else ""
    b: list[Block] = [
        Paragraph(
            f"{source}Generated by `{prov['command']}`; the numbers below are recomputed "
            "from the data folder on every run."
        )
    ]
    ds = r.answers
    if ds is not None:
        b += hl.summary_blocks(ds)
        b += _headline_figures(r)
        b.append(hl.glossary_block())
        b += study_summary(r)
    else:
        b += summary_section(r)
    review = getattr(r, "review", None)
    if review is not None:
        # a whole RevMan review: the review-level table right under the summary heading (first screen)
        at = next(i for i, x in enumerate(b) if isinstance(x, Heading) and x.text == "Summary") + 1
        b.insert(at, review_table(review))
    if ds is not None:
        by_id = {o.id: o for o in r.outcomes}
        lead = [str(x) for x in ds.outcome.values if not bool(ds.unit_of_analysis_error.sel(outcome=x))]
        uoa = [str(x) for x in ds.outcome.values if bool(ds.unit_of_analysis_error.sel(outcome=x))]
        b.append(Heading("Answers by outcome"))
        for oid in lead:
            b.append(Heading(by_id[oid].label, 3))
            b += hl.answer_blocks(ds, oid, by_id[oid].spec.baseline_risk, by_id[oid].spec.baseline_risk_source)
            b += _outcome_details(by_id[oid], spec)
        if uoa:
            b.append(Heading("Results carrying a unit-of-analysis error"))
            b.append(Paragraph(
                "These results pool several time points, or several adverse-event types, of the same patients as "
                "if they were independent trials: each patient counts more than once and the published intervals "
                "are too narrow (Cochrane Handbook, section 23.3). They are not clinical estimands. Their primary "
                "analysis uses the corrected likelihood: the SE inflated by the design effect 1 + (m - 1) rho, "
                "with m the rows per patient and rho the within-patient correlation (Borenstein et al. 2009, "
                "ch. 24); rho = 0 (the published analysis) and rho = 1 are departures."))
            for oid in uoa:
                b.append(Heading(by_id[oid].label, 3))
                b += hl.answer_blocks(ds, oid, by_id[oid].spec.baseline_risk, by_id[oid].spec.baseline_risk_source)
                b += _outcome_details(by_id[oid], spec)
        b += hl.methods_primary(r)
        b.append(Details("Methods and results of the earlier analysis grid (fixed heterogeneity, every prior)",
                         tuple(Paragraph(p) for p in methods_and_results(r))))
    if len(r.checks):
        b.append(Heading("The published results and their internal consistency"))
        b.append(
            Paragraph(
                "Each pooled result was checked for consistency between its estimate, confidence interval "
                "and p-value within their printed rounding; the SE each implies is the likelihood used below."
            )
        )
        b.append(
            Table(
                r.checks,
                caption="Published pooled results: consistency within rounding and implied SE",
                digits=3,
            )
        )
    if ds is None and r.outcomes:
        b.append(Heading("Reanalysis by outcome"))
        for o in r.outcomes:
            b += outcome_section(o, spec)
            b += summary_level_section(o)
    if r.study_blocks:
        b.append(Heading("Study-level analyses"))
    for blk in r.study_blocks:
        b += study_section(blk, spec)
    if len(r.missing):
        b.append(
            Paragraph(
                f"The study-level (hierarchical) analyses need per-study values. {len(r.missing)} values "
                "are missing (listed in tables/missing_study_values.csv; never invented or "
                "reconstructed). Enter them in the data folder with their source and rerun."
            )
        )
        b.append(
            Details(
                f"Missing study values, all files ({plural(len(r.missing), 'value')})",
                (Table(r.missing, caption="", collapse_after=10**6),),
            )
        )
        b += meta_regressions_waiting(r.study_blocks)
    b.append(Heading("Priors"))
    b.append(
        Table(
            priors_table(spec),
            caption="Effect priors (mu): role, distribution as written in the spec, quantiles and rationale",
        )
    )
    if spec.tau_priors:
        b.append(
            Table(
                tau_priors_table(spec),
                caption="Heterogeneity priors (tau): quantiles and the spread of a new "
                "study's effect they imply",
            )
        )
    b.append(Heading("Reproducibility"))
    b.append(
        Code(
            "\n".join(
                [
                    f"command: {prov['command']}",
                    f"spec: {prov['spec']} (sha256 {prov['spec_sha256']})",
                    f"data: {prov['data_dir']} (sha256 of its input files {prov['data_sha256']})",
                    f"seed: {prov['seed']}",
                    *(f"input {k}: sha256 {v}" for k, v in prov["inputs"].items()),
                    *(f"{k} {v}" for k, v in prov["versions"].items()),
                ]
            )
        )
    )
    return b
