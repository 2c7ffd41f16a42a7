"""Every headline of a reanalysis, read from the primary coordinate of the ``answers`` Dataset.

The bottom line, the summary table, the per-outcome answer, the robustness statement and the
certainty all select ``departure = "primary"`` (and, for robustness, the named departures) from
:mod:`bayesmeta.pipeline.answers`; nothing here computes. Each quantity is printed by ONE formatter
(:func:`fmt_prob`, :func:`fmt_effect`, :func:`fmt_bf`), so the same number reads the same
wherever it appears (tested on every committed report: ``tests/test_report_consistency.py``).

Bayes factors are put into words with the categories of Lee & Wagenmakers (2013, table 7.1, after
Jeffreys 1961): 1-3 anecdotal, 3-10 moderate, 10-30 strong, 30-100 very strong, > 100 extreme.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayesmeta.pipeline.answers import BF_BOUND, bf_category
from bayesmeta.report.bottom_line import probability_phrase
from bayesmeta.report.render import Block, Details, Heading, Note, Paragraph, Table

RATIO = ("RR", "OR", "HR")


# --- one formatter per quantity ------------------------------------------------------------------

def fmt_prob(p: float) -> str:
    """A probability: 2 decimals, 3 near 0 or 1, bounds beyond 0.001 / 0.999."""
    if not np.isfinite(p):
        return "not defined"
    if p > 0.999:
        return "> 0.999"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if (p > 0.99 or p < 0.01) else f"{p:.2f}"


def peq(p: float) -> str:
    """'= 0.98', '> 0.999', '< 0.001' (after 'P')."""
    f = fmt_prob(p)
    return f if f[0] in "<>" else f"= {f}"


def _is_ratio(measure: str) -> bool:
    return str(measure).upper() in RATIO


def fmt_effect(x: float, measure: str) -> str:
    """An effect on the measure's printed scale (ratios back-transformed), 2 decimals (never '-0.00')."""
    v = round(float(np.exp(x)) if _is_ratio(measure) else float(x), 2)
    return f"{0.0 if v == 0 else v:.2f}"


def fmt_native(x: float, sd: float) -> str:
    """An SMD in native units (1 decimal; never '-0.0')."""
    v = round(x * sd, 1)
    return f"{0.0 if v == 0 else v:.1f}"


def fmt_bf(bf: float) -> str:
    """A Bayes factor with its words; bounds (never 'inf' or a raw float such as 3e+15)."""
    if np.isnan(bf) or bf < 0:
        return "not defined"
    if bf == np.inf:
        return f"> {BF_BOUND:,.0f} (extreme evidence for; the posterior probability is 1 within the computation's resolution)"
    if bf == 0:
        return f"< 1/{BF_BOUND:,.0f} (extreme evidence against; the posterior probability is 0 within the computation's resolution)"
    strength, direction = bf_category(bf)
    if bf > BF_BOUND:
        num = f"> {BF_BOUND:,.0f}"
    elif bf < 1 / BF_BOUND:
        num = f"< 1/{BF_BOUND:,.0f}"
    elif bf >= 1:
        num = f"{bf:.1f}" if bf < 100 else f"{bf:,.0f}"
    else:
        num = f"1/{1 / bf:.1f}" if 1 / bf < 100 else f"1/{1 / bf:,.0f}"
    if direction == "none":
        return f"{num} ({strength})"
    return f"{num} ({strength} evidence {direction})"


# --- reading the Dataset ---------------------------------------------------------------------------

def _o(ds: xr.Dataset, oid: str, dep: str = "primary") -> xr.Dataset:
    return ds.sel(outcome=oid, departure=dep)


def margin_text(ds: xr.Dataset, oid: str, margin: float | None = None) -> str:
    """'SMD 0.5 (1.0 points on a 0-10 pain scale)', 'RR 1.25'."""
    o = ds.sel(outcome=oid)
    m = float(o.margin) if margin is None else margin
    measure = str(o.measure.values)
    s = f"{measure} {fmt_effect(m, measure)}"
    sd = float(o.native_scale)
    if np.isfinite(sd):
        s += f" ({fmt_native(m, sd)} {o.native_unit.values})"
    return s


def effect_text(ds: xr.Dataset, oid: str, dep: str = "primary") -> str:
    """'SMD 0.08 (95% interval -0.33 to 0.45)' (and native units where an SD is given)."""
    o = ds.sel(outcome=oid)
    a = _o(ds, oid, dep)
    measure = str(o.measure.values)
    s = (f"{measure} {fmt_effect(float(a['median']), measure)} (95% interval {fmt_effect(float(a.lb95), measure)} "
         f"to {fmt_effect(float(a.ub95), measure)})")
    sd = float(o.native_scale)
    if np.isfinite(sd):
        s += (f", i.e. {fmt_native(float(a['median']), sd)} ({fmt_native(float(a.lb95), sd)} to "
              f"{fmt_native(float(a.ub95), sd)}) {o.native_unit.values}")
    return s


def plausible_text(ds: xr.Dataset, oid: str, dep: str = "primary") -> str:
    """The largest plausible difference on the harmful side: 'SMD 0.38 (0.8 points ...)'."""
    o = ds.sel(outcome=oid)
    a = _o(ds, oid, dep)
    measure = str(o.measure.values)
    x = float(a.largest_plausible)
    s = f"{measure} {fmt_effect(x, measure)}"
    sd = float(o.native_scale)
    if np.isfinite(sd):
        s += f" ({fmt_native(x, sd)} {o.native_unit.values})"
    return s


def decision_event(ds: xr.Dataset, oid: str) -> str:
    """The event P(decision) is about, in words: 'US no worse than FL by more than SMD 0.5'."""
    o = ds.sel(outcome=oid)
    exp, ctl = ds.attrs.get("experimental", "experimental"), ds.attrs.get("control", "control")
    if str(o.question.values) in ("noninferiority", "equivalence"):
        return f"{exp} no worse than {ctl} by more than {margin_text(ds, oid)}"
    return f"{exp} better than {ctl}"


def flipping(ds: xr.Dataset, oid: str, axes=None) -> list[str]:
    """Departures (names) whose verdict differs from the primary's, optionally on some axes."""
    o = ds.sel(outcome=oid)
    out = []
    for d in ds.departure.values:
        if d == "primary" or not bool(o.available.sel(departure=d)) or not bool(o.flips.sel(departure=d)):
            continue
        if axes is not None and str(ds.departure_axis.sel(departure=d).values) not in axes:
            continue
        out.append(str(d))
    return out


ROBUSTNESS_AXES = ("effect_prior", "tau_prior", "heterogeneity", "likelihood", "rounding", "rho")


def robustness_sentence(ds: xr.Dataset, oid: str) -> str:
    """'Robust: ...' only when no named departure flips the verdict; else names each that does."""
    o = ds.sel(outcome=oid)
    thr = float(ds.attrs.get("decision_threshold", 0.95))
    n = int(sum(bool(o.available.sel(departure=d)) for d in ds.departure.values
                if str(ds.departure_axis.sel(departure=d).values) in ROBUSTNESS_AXES))
    flips = flipping(ds, oid, ROBUSTNESS_AXES)
    p0 = float(_o(ds, oid).p_decision)
    held = p0 >= thr
    keep = " that keep the margin" if str(o.question.values) in ("noninferiority", "equivalence") else ""
    if not flips:
        return (f"Robust: the verdict (P {'at or above' if held else 'below'} {thr:g}) is the same under all {n} "
                f"named departures{keep} (effect priors, heterogeneity priors and information, "
                "likelihood, rounding"
                f"{', within-patient correlation' if any(str(x).startswith('rho:') for x in ds.departure.values) else ''}).")
    parts = [f"{ds.departure_label.sel(departure=d).values}: P {peq(float(o.p_decision.sel(departure=d)))}"
             for d in flips]
    what = "rests on the primary analysis" if held else "is not shared by every departure"
    return (f"Not robust: the verdict {what}; {len(flips)} of the {n} named departures{keep} change it ("
            + "; ".join(parts) + ")" + ("; other margins below." if keep else "."))


def margin_sentence(ds: xr.Dataset, oid: str) -> str:
    """P(no worse) at the other margins of the spec, and the M1 check."""
    o = ds.sel(outcome=oid)
    if str(o.question.values) not in ("noninferiority", "equivalence"):
        return ""
    parts = []
    for d in ds.departure.values:
        if str(ds.departure_axis.sel(departure=d).values) == "margin" and bool(o.available.sel(departure=d)):
            v = float(str(ds.departure_value.sel(departure=d).values))
            mm = np.log(v) if _is_ratio(str(o.measure.values)) else v
            parts.append(f"{margin_text(ds, oid, mm)}: {fmt_prob(float(o.p_decision.sel(departure=d)))}")
    s = ("P(no worse) at the other margins: " + "; ".join(parts) + ".") if parts else ""
    if bool(o.m1_exceeded):
        s += (f" **The margin exceeds M1**, the control's own effect over placebo ({margin_text(ds, oid, float(o.m1))}):"
              " a non-inferiority margin must not exceed it (ICH E10; FDA 2016 non-inferiority guidance), so "
              "'no worse by more than the margin' would not rule out losing the control's whole benefit.")
    return s.strip()


def evidence_sentence(ds: xr.Dataset, oid: str) -> str:
    """The Bayes factor of the decision, defined where shown, in words; or 'too sparse to tell'."""
    a = _o(ds, oid)
    bf = float(a.bf_decision)
    ev = decision_event(ds, oid)
    if not np.isfinite(bf):
        return ("No Bayes factor: the primary effect prior is flat, so it gives no prior probability of "
                f"'{ev}'.")
    return (f"Bayes factor of '{ev}' against its complement, under the primary model (posterior odds over prior "
            f"odds; P before the data {fmt_prob(float(a.prior_p_decision))}, after {fmt_prob(float(a.p_decision))}): "
            f"{fmt_bf(bf)}.")


def verdict_sentence(ds: xr.Dataset, oid: str) -> str:
    """The plain-language answer of one outcome from its primary."""
    o = ds.sel(outcome=oid)
    a = _o(ds, oid)
    exp, ctl = ds.attrs.get("experimental", "experimental"), ds.attrs.get("control", "control")
    p = float(a.p_decision)
    if bool(o.sparse):
        return (f"The data are too sparse to tell: P({decision_event(ds, oid)}) {peq(p)} against "
                f"{fmt_prob(float(a.prior_p_decision))} before the data; {exp} could be worse than {ctl} by as "
                f"much as {plausible_text(ds, oid)} (95% bound).")
    if str(o.question.values) in ("noninferiority", "equivalence"):
        words = probability_phrase(p)
        s = (f"{exp} is {words} no worse than {ctl} by more than {margin_text(ds, oid)} "
             f"(P {peq(p)}); ")
        return s + f"it is unlikely (P = 0.05) to be worse by more than {plausible_text(ds, oid)}."
    return f"{exp} is {probability_phrase(p)} better than {ctl} (P {peq(p)})."


# --- blocks ------------------------------------------------------------------------------------------

SERIOUS_WORDS = {
    "risk_of_bias": "risk of bias",
    "imprecision": "imprecision (the 95% interval crosses the margin)",
    "inconsistency": "inconsistency (tau likely above half the margin)",
    "unit_of_analysis": "unit-of-analysis error",
}


def certainty_text(ds: xr.Dataset, oid: str) -> str:
    o = ds.sel(outcome=oid)
    codes = [w for w in str(o.serious_domains.values).split(";") if w]
    why = [SERIOUS_WORDS[w] for w in codes if w in SERIOUS_WORDS]
    s = f"{o.certainty.values}" + (f" (downgraded for {', '.join(why)})" if why else " (no domain rated serious)")
    if "inconsistency_not_assessable" in codes:
        s += "; inconsistency not assessable: the paper prints no heterogeneity statistic for this result"
    return s


def summary_table(ds: xr.Dataset) -> pd.DataFrame:
    """One row per outcome, every number from the primary (flat and sceptical beside it)."""
    exp, ctl = ds.attrs.get("experimental", "experimental"), ds.attrs.get("control", "control")
    rows = []
    for oid in ds.outcome.values:
        o = ds.sel(outcome=oid)
        measure = str(o.measure.values)
        a = _o(ds, oid)
        k, n = int(o.k), int(o.n_participants)
        row = {
            "Outcome": str(o.outcome_label.values),
            "Trials (participants)": f"{k}" + (f" ({n})" if n else ""),
            "Published (95% CI)": f"{measure} {fmt_effect(float(o.published_est), measure)} "
                                  f"({fmt_effect(float(o.published_lb), measure)} to "
                                  f"{fmt_effect(float(o.published_ub), measure)})",
            "Primary: effect (95% interval)": effect_text(ds, oid),
            "Largest plausible difference": plausible_text(ds, oid),
            f"P({exp} no worse than the margin)": fmt_prob(float(a.p_decision))
            + f" (margin {margin_text(ds, oid)})",
        }
        for dep, col in (("reference", "with a flat prior"), ("sceptical", "with a sceptical prior")):
            name = next((str(d) for d in ds.departure.values
                         if str(ds.departure_axis.sel(departure=d).values) == "effect_prior"
                         and str(ds.departure_value.sel(departure=d).values) == dep), None)
            row[f"P {col}"] = (fmt_prob(float(o.p_decision.sel(departure=name)))
                               if name and bool(o.available.sel(departure=name)) else "")
        bf = float(a.bf_decision)
        row["Evidence (Bayes factor)"] = ("too sparse to tell; " if bool(o.sparse) else "") + fmt_bf(bf)
        row["Certainty"] = str(o.certainty.values) + (" (carries a unit-of-analysis error)"
                                                     if bool(o.unit_of_analysis_error) else "")
        rows.append(row)
    del ctl
    return pd.DataFrame(rows)


def departures_table(ds: xr.Dataset, oid: str) -> pd.DataFrame:
    """Every named departure of one outcome with its P(decision), interval and whether it flips."""
    o = ds.sel(outcome=oid)
    rows = []
    for d in ds.departure.values:
        if not bool(o.available.sel(departure=d)):
            continue
        rows.append({
            "Analysis": str(ds.departure_label.sel(departure=d).values),
            "Changes": str(ds.departure_axis.sel(departure=d).values).replace("_", " "),
            "Effect (95% interval)": effect_text(ds, str(oid), str(d)),
            "P(decision)": fmt_prob(float(o.p_decision.sel(departure=d))),
            "Changes the verdict": "yes" if bool(o.flips.sel(departure=d)) else "no",
        })
    return pd.DataFrame(rows)


def question_sentence(ds: xr.Dataset) -> str:
    exp, ctl = ds.attrs.get("experimental", "experimental"), ds.attrs.get("control", "control")
    qs = set(str(q) for q in ds.question.values)
    if qs <= {"noninferiority", "equivalence"}:
        return (f"**Question.** Is {exp} no worse than {ctl}, by more than a stated margin, for each outcome "
                "below? (Patients like these: those randomised in the included trials.)")
    return f"**Question.** How does {exp} compare with {ctl}?"


def conclusion(ds: xr.Dataset) -> str:
    """Two sentences from the primary of the leading outcomes (those without a unit-of-analysis error)."""
    thr = float(ds.attrs.get("decision_threshold", 0.95))
    lead = [str(o) for o in ds.outcome.values if not bool(ds.unit_of_analysis_error.sel(outcome=o))]
    sparse = [o for o in lead if bool(ds.sparse.sel(outcome=o))]
    clear = [o for o in lead if o not in sparse]
    s = []
    if clear:
        held = [o for o in clear if float(ds.p_decision.sel(outcome=o, departure="primary")) >= thr]
        bounds = "; ".join(f"{plausible_text(ds, o)} for {ds.outcome_label.sel(outcome=o).values}" for o in clear)
        fragile = [o for o in held if flipping(ds, o, ROBUSTNESS_AXES)]
        s.append(f"{ds.attrs.get('experimental')} is unlikely (P = 0.05) to be worse than {ds.attrs.get('control')} "
                 f"by more than {bounds}; smaller differences cannot be ruled out"
                 + (" (the verdicts at the margin depend on the primary effect prior: see the flat and sceptical "
                    "columns)" if fragile else "") + ".")
    if sparse:
        s.append("For " + ", ".join(str(ds.outcome_label.sel(outcome=o).values) for o in sparse)
                 + " the data are too sparse to tell.")
    return " ".join(s)


def absolute_text(ds: xr.Dataset, oid: str, risks, source: str = "") -> str:
    """Risk differences per 1,000 at stated control-arm risks, from the primary's median and 95% interval
    of a risk ratio (1000 b (RR - 1): a change of units, as for native units)."""
    o = ds.sel(outcome=oid)
    if str(o.measure.values) != "RR" or not risks:
        return ""
    a = _o(ds, oid)

    def n(x: float) -> str:
        v = round(x)
        return "no difference" if v == 0 else f"{abs(v):.0f} {'more' if v > 0 else 'fewer'}"

    parts = []
    for b0 in risks:
        med, lo, hi = (1000 * b0 * (float(np.exp(float(a[q]))) - 1) for q in ("median", "lb95", "ub95"))
        parts.append(f"at a control-arm risk of {100 * b0:g}%: {n(med)} per 1,000 ({n(lo)} to {n(hi)})")
    return ("Events with " + str(ds.attrs.get("experimental")) + ", " + "; ".join(parts) + "."
            + (f" (Control-arm risks: {source})" if source else ""))


def answer_blocks(ds: xr.Dataset, oid: str, risks=(), risk_source: str = "") -> list[Block]:
    """The primary answer of one outcome: verdict, effect, evidence, robustness, margins, certainty."""
    o = ds.sel(outcome=oid)
    b: list[Block] = [
        Paragraph(f"**Answer (primary analysis).** {verdict_sentence(ds, oid)} Effect: {effect_text(ds, oid)}. "
                  f"P({ds.attrs.get('experimental')} better) {peq(float(_o(ds, oid).p_benefit))}."),
        Paragraph(evidence_sentence(ds, oid)),
        Paragraph(robustness_sentence(ds, oid)),
    ]
    ab = absolute_text(ds, oid, risks, risk_source)
    if ab:
        b.append(Paragraph(ab))
    m = margin_sentence(ds, oid)
    if m:
        b.append(Paragraph(m))
    b.append(Paragraph(f"Certainty: {certainty_text(ds, oid)}."))
    b.append(Details(f"Every named departure from the primary ({int(o.available.sum()) - 1})",
                     (Table(departures_table(ds, oid), caption="", collapse_after=10**6),)))
    return b


def summary_blocks(ds: xr.Dataset) -> list[Block]:
    """The first screen: the question, the conclusion, the one summary table."""
    b: list[Block] = [Heading("Summary"), Paragraph(question_sentence(ds)), Paragraph(conclusion(ds))]
    b.append(Table(summary_table(ds), caption="One row per outcome, every number from the primary analysis "
                   "(the sceptical and flat priors beside it). Largest plausible difference: the 95% posterior "
                   "bound on the side that disfavours " + str(ds.attrs.get("experimental")) + ".",
                   collapse_after=10**6))
    if bool(ds.m1_exceeded.any()):
        names = [str(ds.outcome_label.sel(outcome=o).values) for o in ds.outcome.values if bool(ds.m1_exceeded.sel(outcome=o))]
        b.append(Note("The margin exceeds the control's effect over placebo (M1) for " + ", ".join(names)
                      + ": see each outcome.", "warning"))
    return b


GLOSSARY = (
    ("SMD", "standardised mean difference: the difference in means divided by the between-patient SD."),
    ("95% interval", "the range that holds the true pooled effect with probability 0.95, given the model, the "
                     "priors and the data (a credible interval)."),
    ("prior", "what is assumed about an effect before seeing these data; every prior used is named and sourced."),
    ("margin", "the largest loss against the control that would still count as 'no worse' (non-inferiority)."),
    ("P(no worse)", "the posterior probability that the loss is smaller than the margin."),
    ("largest plausible difference", "the loss that the data rule out with probability 0.95."),
    ("Bayes factor", "how much the data change the odds of a hypothesis against its complement (posterior odds "
                     "over prior odds); 1-3 anecdotal, 3-10 moderate, 10-30 strong, 30-100 very strong, above 100 "
                     "extreme (Lee & Wagenmakers 2013)."),
    ("too sparse to tell", "the data move P(no worse) by less than 0.05 from its prior value, or its Bayes factor "
                           "lies between 1/3 and 3."),
    ("heterogeneity (tau)", "the SD of the true effects between trials."),
    ("unit of analysis", "each patient must count once; pooling several time points (or event types) of the same "
                         "patients as separate trials counts them several times and makes intervals too narrow."),
)


def glossary_block() -> Block:
    return Details("Words used in this report", (Table(pd.DataFrame(GLOSSARY, columns=["Term", "Meaning"]),
                                                        caption="", collapse_after=10**6),))


__all__ = ["answer_blocks", "conclusion", "departures_table", "effect_text", "evidence_sentence", "fmt_bf",
           "fmt_effect", "fmt_prob", "glossary_block", "margin_sentence", "plausible_text", "robustness_sentence",
           "summary_blocks", "summary_table", "verdict_sentence"]


# --- methods: the primary model, its priors and why, the margin and why ---------------------------

def methods_primary(r) -> list[Block]:
    """BARG methods (Kruschke 2021, Nat Hum Behav 5:1282) of the primary analysis of every outcome:
    model, priors and why, margin and why, assumptions read from the paper's figures, departures."""
    from bayesmeta.pipeline import plan as pl

    spec, ds = r.spec, r.answers
    exp, ctl = spec.experimental, spec.control
    b: list[Block] = [Heading("Methods: the primary analysis and its departures")]
    b.append(Paragraph(
        "**Model.** Each published pooled result is reanalysed from what the paper prints. Where the summary "
        "allows it (the contributing trials named or matched by their participants, or k printed or bounded), the "
        "primary likelihood re-opens the between-trial SD tau: the pooled estimate is modelled as the "
        "inverse-variance average of k trials whose true effects vary with SD tau, and a printed I\u00b2 adds the "
        "probability of the printed heterogeneity statistic (summary-level random effects). Otherwise tau is fixed "
        "at the published value. The posterior of the pooled effect mu is computed exactly on a grid (no Monte "
        "Carlo error). Why this is the default: it needs the fewest assumptions the data cannot check; fixing tau at "
        "a DerSimonian-Laird estimate of 0 from a few small trials understates uncertainty (Friede et al. 2017, "
        "Res Synth Methods 8:79; R\u00f6ver et al. 2021, Res Synth Methods 12:448)."))
    b.append(Paragraph(
        "**Rounding.** Every analysis reads the printed estimate and CI by one rule: the centre of the set of "
        "(estimate, SE) consistent with every printed digit; taking the printed numbers at face value is a named "
        "departure."))
    rows = []
    for oid in ds.outcome.values:
        oa = r.plans[str(oid)]
        p = oa.plan.primary
        ospec = next(o for o in spec.outcomes if o.id == oid)
        mu = spec.prior_specs("mu", ospec.mu_priors)[p.mu_prior]
        tau = spec.prior_specs("tau", ospec.tau_priors)[p.tau_prior].text if p.tau_prior else "fixed at the published value"
        lik = ("tau re-opened (summary-level random effects)" if p.likelihood == pl.SUMMARY_RE
               else "tau fixed at the published value")
        het = []
        if p.likelihood == pl.SUMMARY_RE:
            het.append(f"k = {oa.tau.get('k_used', oa.context.k)}")
            if p.k is not None:
                het.append(f"assumed from the plausible range {min(oa.plan.k_range)}-{max(oa.plan.k_range)}")
            het.append("printed I\u00b2 used" if oa.tau.get("q_used") else "no I\u00b2 printed")
        if oa.context.excluded:
            het.append("trials without events not counted: " + ", ".join(oa.context.excluded))
        if p.rho is not None:
            het.append(f"unit-of-analysis corrected at rho = {p.rho:g} ({oa.context.rows_per_patient:.2f} rows per patient)")
        rows.append({"Outcome": ospec.label, "Likelihood": lik, "Heterogeneity information": "; ".join(het),
                     "Effect prior": f"{p.mu_prior}: {mu.text}", "Heterogeneity prior": tau,
                     "Margin": margin_text(ds, str(oid)),
                     "Primary declared in the spec": "yes" if oa.plan.declared else "no (default rule)"})
    b.append(Table(pd.DataFrame(rows), caption="The primary analysis of each outcome", collapse_after=10**6))
    why = []
    for key in dict.fromkeys(o.mu_priors for o in spec.outcomes):
        for name, ps in spec.prior_specs("mu", key).items():
            if any(r.plans[o.id].plan.primary.mu_prior == name for o in spec.outcomes if o.mu_priors == key):
                why.append(f"{key} effect prior '{name}' ({ps.text}): {ps.rationale}")
    b.append(Paragraph(
        "**Priors, and why.** The primary effect prior is the spec's prior marked primary, else its neutral prior: "
        "centred on no difference and taken from the field's own distribution of effects, it favours neither arm. "
        "Priors built to bracket a decision (sceptical, centred on the margin so that P(no worse) is 0.5 before "
        "the data; enthusiastic; favouring the control) are departures, never the primary, and a flat prior is "
        "always a departure, so a verdict that rests on the primary prior is named. " + " ".join(why)))
    texts: dict[str, list[str]] = {}
    for o in spec.outcomes:
        src = (o.native or {}).get("margin_source") if o.native else None
        if src:
            texts.setdefault(f"Margin: {src}", []).append(o.label)
        ce = o.control_effect
        if ce:
            texts.setdefault(f"M1: {o.measure} {ce['value']:g} ({ce.get('comparison', '')}; {ce['source']})",
                             []).append(o.label)
    if texts:
        b.append(Details("The margins and why, and the control's effect over placebo (M1)",
                         tuple(Paragraph(f"{t} [{', '.join(v)}]") for t, v in texts.items())))
    assumptions: dict[str, list[str]] = {}
    for oid in ds.outcome.values:
        oa = r.plans[str(oid)]
        label = next(o.label for o in spec.outcomes if o.id == oid)
        for d in oa.plan.departures:
            if d.source:
                key = f"{label}: {d.source}"
                assumptions.setdefault(key, []).append(str(ds.departure_label.sel(departure=d.name).values))
        if oa.plan.k_source:
            assumptions.setdefault(f"{label}: {oa.plan.k_source}", []).append("k")
    if assumptions:
        b.append(Details("Assumptions read from figures or arithmetic, with their sources",
                         tuple(Paragraph(f"{t} [departures: {', '.join(dict.fromkeys(v))}]")
                               for t, v in assumptions.items())))
    b.append(Paragraph(
        f"**Decision rule and summaries.** {exp} is called no worse than {ctl} when P(no worse than the margin) is "
        f"at least {spec.decision_threshold:g}. Effects are posterior medians with 95% "
        f"{'highest-density' if spec.interval_kind == 'hdi' else 'equal-tailed'} intervals; the largest plausible "
        "difference is the one-sided 95% bound on the harmful side (the smallest margin at which P(no worse) would "
        "reach 0.95). The Bayes factor of the decision is its posterior odds over its prior odds under the primary "
        "model. 'Too sparse to tell': P(no worse) moves less than 0.05 from its prior value, or that Bayes factor "
        "lies between 1/3 and 3. Robustness: every named departure changes one assumption of the primary; a "
        "verdict is called robust only when none changes it."))
    return b


__all__ += ["methods_primary"]
