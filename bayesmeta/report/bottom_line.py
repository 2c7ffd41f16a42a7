"""A bottom line a clinician can read: one plain sentence per outcome, then a certainty statement.

Pure text: every function takes numbers and labels and returns strings; nothing here knows a
particular paper (arm names, outcomes, margins and units come from the caller, i.e. the spec).

The probability words follow a fixed, stated scale (:data:`PROBABILITY_WORDS`), in the spirit of
the IPCC calibrated language (Mastrandrea et al. 2010) adapted to decision thresholds. The
certainty statement counts GRADE domains (Guyatt et al. 2008; 2011) from the inputs given: risk of
bias from the contributing studies' overall RoB 2 judgements, imprecision against the margin
(posterior P(non-inferior) between 0.05 and 0.95, i.e. the credible interval crosses the margin),
inconsistency from the posterior probability that the between-study SD exceeds half the margin,
and a unit-of-analysis error (time points of the same patients pooled as independent rows). It is
set beside the paper's own GRADE rating when one is given.

References
----------
Guyatt GH, Oxman AD, Vist GE, et al. (2008). GRADE: an emerging consensus on rating quality of
    evidence and strength of recommendations. BMJ 336:924-926. doi:10.1136/bmj.39489.470347.AD
Guyatt GH, Oxman AD, Kunz R, et al. (2011). GRADE guidelines 6: imprecision. J Clin Epidemiol
    64:1283-1293. doi:10.1016/j.jclinepi.2011.01.012
Mastrandrea MD, et al. (2010). Guidance note for lead authors of the IPCC Fifth Assessment Report
    on consistent treatment of uncertainties. IPCC.
"""

from __future__ import annotations

from dataclasses import dataclass

#: (lower bound of the probability, phrase); the first row whose bound is <= P is used
PROBABILITY_WORDS = (
    (0.99, "almost certainly"),
    (0.95, "very probably"),
    (0.75, "probably"),
    (0.25, "possibly"),
    (0.05, "probably not"),
    (0.01, "very probably not"),
    (0.0, "almost certainly not"),
)
LEVELS = ("very low", "low", "moderate", "high")


def probability_phrase(p: float) -> str:
    """The phrase of :data:`PROBABILITY_WORDS` for probability ``p``."""
    for bound, words in PROBABILITY_WORDS:
        if p >= bound:
            return words
    return PROBABILITY_WORDS[-1][1]


def noninferiority_sentence(
    experimental: str,
    control: str,
    outcome: str,
    margin_text: str,
    p_ni: float,
    population: str = "In patients like these",
    timepoint: str = "",
) -> str:
    """'In patients like these, <experimental> is very probably no worse than <control> by more
    than <margin_text> <timepoint> (P = 0.97).'"""
    when = f" {timepoint}" if timepoint else ""
    of = f" of {outcome}" if outcome else ""
    words = probability_phrase(p_ni)
    if words == "possibly":
        return (
            f"{population}, it is uncertain whether {experimental} is worse than {control} by more than "
            f"{margin_text}{of}{when} (P(no worse) = {_p(p_ni)})."
        )
    core = f"{experimental} is {words} no worse than {control} by more than {margin_text}{of}"
    if words.endswith("not"):
        worse = words.replace(" not", "")
        core = f"{experimental} is {worse} worse than {control} by more than {margin_text}{of}"
        p_show = 1.0 - p_ni
        return f"{population}, {core}{when} (P = {_p(p_show)} that it is worse by more than the margin)."
    return f"{population}, {core}{when} (P = {_p(p_ni)})."


def _p(p: float) -> str:
    if p > 0.999:
        return "> 0.999"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if (p > 0.99 or p < 0.01) else f"{p:.2f}"


@dataclass(frozen=True)
class Certainty:
    """GRADE-style certainty built from the given domains."""

    level: str
    reasons: tuple[str, ...]
    published: str | None = None

    def sentence(self) -> str:
        why = "; ".join(self.reasons) if self.reasons else "no domain rated serious"
        s = f"Certainty: {self.level} ({why})."
        if self.published:
            same = self.published.strip().lower() == self.level
            s += f" The paper rated it {self.published.strip().lower()}" + (
                " as well." if same else "; the difference comes from the domains above."
            )
        return s


def certainty(
    rob_overall: list[str],
    p_ni: float,
    p_tau_large: float | None = None,
    unit_of_analysis_error: bool = False,
    start: str = "high",
    published: str | None = None,
) -> Certainty:
    """Certainty of evidence from the domains this tool can assess.

    Parameters
    ----------
    rob_overall : list of str
        Overall RoB 2 judgement of each contributing study ("low", "some concerns", "high").
    p_ni : float
        Posterior probability of non-inferiority at the primary margin.
    p_tau_large : float, optional
        Posterior P(tau > margin / 2); ``None`` when heterogeneity could not be assessed.
    unit_of_analysis_error : bool
        Time points of the same patients pooled as independent rows.
    start : str
        Starting level ("high" for randomised trials).
    published : str, optional
        The paper's own GRADE rating for the outcome, shown beside.
    """
    level = LEVELS.index(start)
    reasons = []
    rob = [r.strip().lower() for r in rob_overall]
    if rob:
        n_high = sum(r.startswith("high") for r in rob)
        n_some = sum(r.startswith("some") for r in rob)
        if n_high * 2 >= len(rob):
            level -= 1
            reasons.append(f"risk of bias serious: {n_high} of {len(rob)} studies at high risk")
        elif n_high + n_some == len(rob) and n_some:
            level -= 1
            reasons.append(
                f"risk of bias serious: no study at low risk ({n_high} high, {n_some} some concerns)"
            )
    if 0.05 < p_ni < 0.95:
        level -= 1
        reasons.append(
            f"imprecision serious: the credible interval crosses the margin (P(non-inferior) = {p_ni:.2f})"
        )
    if p_tau_large is not None and p_tau_large > 0.5:
        level -= 1
        reasons.append(f"inconsistency serious: P(tau > half the margin) = {p_tau_large:.2f}")
    elif p_tau_large is None:
        reasons.append("inconsistency not assessable from the published summary")
    if unit_of_analysis_error:
        level -= 1
        reasons.append(
            "unit-of-analysis error: time points of the same patients pooled as independent studies"
        )
    return Certainty(LEVELS[max(level, 0)], tuple(reasons), published)


def absolute_effect_sentence(
    rd_median: float,
    rd_lb: float,
    rd_ub: float,
    baseline_risk: float,
    experimental: str,
    outcome: str,
    prob: float = 0.95,
) -> str:
    """'At a baseline risk of 5%, US-guided injection means 2 more (95% CrI 30 fewer to 60 more)
    complications per 1,000 patients.'"""

    def n(x):
        return f"{abs(x):.0f} {'more' if x >= 0 else 'fewer'}"

    return (
        f"At a baseline risk of {100 * baseline_risk:g}%, {experimental} means {n(rd_median)} "
        f"({round(100 * prob)}% credible interval {n(rd_lb)} to {n(rd_ub)}) {outcome} per 1,000 patients."
    )


def summary_statement(r) -> tuple[str, str]:
    """The bottom-line sentence and the certainty statement of a summary-level reanalysis
    (:class:`bayesmeta.published.summary_reanalysis.PublishedReanalysis`), from its ``statement``
    numbers and labels (with a risk difference per 1,000 at the middle baseline risk for ratios)."""
    st = r.statement
    sentence = noninferiority_sentence(st["experimental"], st["control"], st["outcome"], st["margin_text"],
                                       st["p_ni"], timepoint=st["timepoint"])
    if r.absolute is not None and len(r.absolute):
        a = r.absolute.iloc[len(r.absolute) // 2]
        sentence += " " + absolute_effect_sentence(a.rd_per_1000_median, a.rd_per_1000_lb, a.rd_per_1000_ub,
                                                   a.baseline_risk, st["experimental"], st["outcome"] or "events")
    cert = certainty(list(st["rob"]), st["p_ni"], st["p_tau_large"], st["unit_of_analysis_error"],
                     published=st["published_grade"])
    return sentence, cert.sentence()
