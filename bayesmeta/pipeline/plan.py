r"""The analysis plan of one outcome: a declared primary analysis and named one-axis departures.

A trial's statistical analysis plan (ICH E9(R1), 2019) names one primary analysis per estimand and
a short list of sensitivity analyses, each changing one assumption; the conclusion comes from the
primary, and a sensitivity analysis that changes it is named. :class:`OutcomePlan` carries that
structure for the reanalysis of one published pooled result:

* :class:`Analysis`: one fully specified analysis (likelihood, tau prior, mu prior, margin, and the
  readings of what the paper prints: k, I^2, rounding, within-patient correlation rho);
* :class:`Departure`: a named analysis that differs from the primary along exactly one axis
  (:data:`AXES`).

The default primary (:func:`default_primary`) is the analysis that needs the fewest assumptions the
data cannot check: the between-study SD tau is re-opened wherever the published summary allows it
(a summary-level random-effects likelihood, :mod:`bayesmeta.published.summary_likelihood`) instead
of being fixed at a DerSimonian-Laird estimate of 0 from a handful of small trials (Röver et al.
2021, Res Synth Methods 12:448, doi:10.1002/jrsm.1475; Friede et al. 2017, Res Synth Methods
8:79, doi:10.1002/jrsm.1217), and the effect prior is the spec's ``primary = true`` mu prior,
else its ``role = "neutral"`` prior (centred on no difference, from the field's own distribution of
effects: Bartoš et al. 2021, Stat Med 40:6743, doi:10.1002/sim.9170), else the flat reference prior.
Priors built to bracket a decision (sceptical, enthusiastic, favours-control; Spiegelhalter,
Freedman & Parmar 1994, JRSS-A 157:357, doi:10.2307/2983527) are departures, never the primary:
they are the priors that carry a verdict by construction. Whether the verdict rests on the primary
prior is not hidden: the flat prior is always a departure, and a flip under it is named.

Nothing here computes a posterior: :mod:`bayesmeta.pipeline.answers` evaluates a plan.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from bayesmeta.pipeline.spec import AnalysisSpec, OutcomeSpec

#: the axes along which a departure changes the primary analysis (INTERFACE.md)
AXES = ("primary", "effect_prior", "tau_prior", "heterogeneity", "margin", "rounding", "rho", "likelihood")

#: likelihoods of a published pooled result
SUMMARY_RE = "summary_random_effects"  # tau re-opened from the published summary
PUBLISHED_TAU = "published_heterogeneity"  # tau fixed at the published value (RevMan's model)
LIKELIHOODS = (SUMMARY_RE, PUBLISHED_TAU)

#: readings of a printed heterogeneity statistic
I2_PRINTED = "printed"  # I^2 as the text prints it (censored Q when 0%)
I2_IGNORED = "ignored"  # not used (the primary when the text prints none for this result)

#: readings of the printed (estimate, CI, p)
ROUNDING_CENTRE = "centre"  # the centre of the set of (estimate, SE) consistent with every printed digit
ROUNDING_PRINTED = "printed"  # the printed estimate and the SE of the printed CI


@dataclass(frozen=True)
class Analysis:
    """One fully specified analysis of a published pooled result.

    Attributes
    ----------
    likelihood : str
        :data:`SUMMARY_RE` or :data:`PUBLISHED_TAU`.
    tau_prior : str or None
        Name of the tau prior in the outcome's tau set (``None`` with :data:`PUBLISHED_TAU`).
    mu_prior : str
        Name of the effect prior in the outcome's mu set.
    margin : float
        Decision margin as printed (measure units; ratios on the harmful side).
    k : int or None
        Number of trials when the paper does not print it (a value of the plausible range).
    i2 : str or float
        :data:`I2_PRINTED`, :data:`I2_IGNORED`, or a value in percent read from a figure.
    rounding : str
        :data:`ROUNDING_CENTRE` or :data:`ROUNDING_PRINTED`.
    rho : float or None
        Within-patient correlation between time points (outcomes pooled over time only).
    """

    likelihood: str
    tau_prior: str | None
    mu_prior: str
    margin: float
    k: int | None = None
    i2: str | float = I2_PRINTED
    rounding: str = ROUNDING_CENTRE
    rho: float | None = None


@dataclass(frozen=True)
class Departure:
    """A named analysis differing from the primary along one axis (``axis`` in :data:`AXES`).

    ``value`` is what changed (a prior name, a margin, a k, an I^2 reading, a rho), ``source`` where
    an assumed value comes from (spec keys ``*_source``)."""

    name: str
    axis: str
    value: str
    analysis: Analysis
    source: str = ""


@dataclass(frozen=True)
class OutcomePlan:
    """Primary analysis and departures of one outcome; ``departures[0]`` is the primary itself."""

    outcome: str
    question: str
    primary: Analysis
    departures: tuple[Departure, ...]
    declared: bool  # the spec names the primary (``primary = {...}``); else the default rule
    k_range: tuple[int, ...] = ()
    k_source: str = ""

    def names(self) -> list[str]:
        return [d.name for d in self.departures]


def _present(v) -> bool:
    """A printed value (not None, NaN, pandas.NA or an empty string)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return False
    try:
        return not bool(np.isnan(float(v)))
    except (TypeError, ValueError):
        return False


def _summary_allowed(ospec: OutcomeSpec, pub) -> bool:
    """tau can be re-opened when the spec has tau priors and the summary names the trials or k
    (printed, or a declared plausible range)."""
    if not ospec.tau_priors:
        return False
    named = pub.get("studies")
    has_k = _present(pub.get("k_studies"))
    has_named = isinstance(named, str) and bool(named.strip())
    return has_k or has_named or bool(ospec.heterogeneity.get("k_range"))


def default_primary(spec: AnalysisSpec, ospec: OutcomeSpec, pub) -> Analysis:
    """The default primary analysis (module docstring: fewest unverifiable assumptions)."""
    mset = ospec.mu_priors
    mu = next((n for n, p in spec.mu_priors[mset].items() if p.primary), None)
    mu = mu or spec.by_role(mset, "neutral") or spec.by_role(mset, "reference")
    assert mu is not None  # the spec requires a reference prior for [[outcome]] blocks
    k = None
    kr = ospec.heterogeneity.get("k_range")
    if kr:
        k = int(min(kr))  # fewest trials: the least information on tau from a printed I^2
    summary = _summary_allowed(ospec, pub)
    i2_printed = _present(pub.get("i2"))
    rho = None
    if ospec.repeated_timepoints is not None:
        rho = float(ospec.repeated_timepoints.get("rho", 0.5))
    return Analysis(
        likelihood=SUMMARY_RE if summary else PUBLISHED_TAU,
        tau_prior=spec.primary("tau", ospec.tau_priors) if summary else None,
        mu_prior=mu,
        margin=float(ospec.margins[0]),
        k=k,
        i2=I2_PRINTED if i2_printed else I2_IGNORED,
        rho=rho,
    )


def _declared_primary(spec: AnalysisSpec, ospec: OutcomeSpec, base: Analysis) -> Analysis:
    d = dict(ospec.primary or {})
    if not d:
        return base
    lik = d.get("likelihood", base.likelihood)
    tau = d.get("tau_prior", base.tau_prior if lik == SUMMARY_RE else None)
    if lik == SUMMARY_RE and tau is None:
        tau = spec.primary("tau", ospec.tau_priors)
    return replace(
        base,
        likelihood=lik,
        tau_prior=tau if lik == SUMMARY_RE else None,
        mu_prior=d.get("mu_prior", base.mu_prior),
        margin=float(d.get("margin", base.margin)),
        k=int(d["k"]) if "k" in d else base.k,
    )


def build_plan(spec: AnalysisSpec, ospec: OutcomeSpec, pub) -> OutcomePlan:
    """The plan of one ``[[outcome]]``: the primary (declared, else :func:`default_primary`) and
    every one-axis departure the spec and the published summary support."""
    base = default_primary(spec, ospec, pub)
    primary = _declared_primary(spec, ospec, base)
    deps: list[Departure] = [Departure("primary", "primary", "", primary)]

    def add(name: str, axis: str, value: str, a: Analysis, source: str = "") -> None:
        if a != primary and name not in {d.name for d in deps}:
            deps.append(Departure(name, axis, value, a, source))

    # effect prior: every other prior of the set (flat reference, sceptical, enthusiastic, ...)
    for name, ps in spec.mu_priors[ospec.mu_priors].items():
        if name != primary.mu_prior:
            add(f"mu:{name}", "effect_prior", ps.role or name, replace(primary, mu_prior=name))
    # likelihood: tau fixed at the published value (the paper's own model)
    if primary.likelihood == SUMMARY_RE:
        add("likelihood:published", "likelihood", PUBLISHED_TAU,
            replace(primary, likelihood=PUBLISHED_TAU, tau_prior=None, k=None))
        # tau prior: every other tau prior of the set
        for name in spec.tau_priors[ospec.tau_priors]:
            if name != primary.tau_prior:
                add(f"tau:{name}", "tau_prior", name, replace(primary, tau_prior=name))
        # heterogeneity information: an I^2 read from a figure, a printed I^2 ignored, the k range
        het = ospec.heterogeneity
        if "i2" in het:
            add("heterogeneity:i2_figure", "heterogeneity", f"{float(het['i2']):g}",
                replace(primary, i2=float(het["i2"])), str(het.get("i2_source", "")))
        if primary.i2 == I2_PRINTED:
            add("heterogeneity:i2_ignored", "heterogeneity", I2_IGNORED, replace(primary, i2=I2_IGNORED))
        for k in het.get("k_range", ()):
            add(f"heterogeneity:k={int(k)}", "heterogeneity", str(int(k)), replace(primary, k=int(k)),
                str(het.get("k_source", "")))
    # margin
    for m in ospec.margins:
        if float(m) != primary.margin:
            add(f"margin:{float(m):g}", "margin", f"{float(m):g}", replace(primary, margin=float(m)))
    # rounding
    add("rounding:printed", "rounding", ROUNDING_PRINTED, replace(primary, rounding=ROUNDING_PRINTED))
    # within-patient correlation (outcomes pooled over time points)
    if primary.rho is not None:
        for r in (0.0, 1.0):
            if r != primary.rho:
                add(f"rho:{r:g}", "rho", f"{r:g}", replace(primary, rho=r),
                    str(ospec.repeated_timepoints.get("rho_source", "")) if ospec.repeated_timepoints else "")
    het = ospec.heterogeneity
    return OutcomePlan(
        outcome=ospec.id,
        question=ospec.question,
        primary=primary,
        departures=tuple(deps),
        declared=bool(ospec.primary),
        k_range=tuple(int(k) for k in het.get("k_range", ())),
        k_source=str(het.get("k_source", "")),
    )


__all__ = [
    "AXES",
    "I2_IGNORED",
    "I2_PRINTED",
    "LIKELIHOODS",
    "PUBLISHED_TAU",
    "ROUNDING_CENTRE",
    "ROUNDING_PRINTED",
    "SUMMARY_RE",
    "Analysis",
    "Departure",
    "OutcomePlan",
    "build_plan",
    "default_primary",
]
