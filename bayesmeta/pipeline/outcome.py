"""Reanalysis of one published pooled result: the ``[[outcome]]`` blocks of a spec.

The per-study values behind a published pooled result are often unavailable, but the result
itself is a likelihood: the estimate with the SE implied by its confidence interval,
``estimate ~ N(mu, SE^2)`` on the analysis scale (log scale for ratios; the registry
:mod:`bayesmeta.effects.measures` says which). :func:`analyse_outcome` combines it with every
prior of the outcome's set, under the published likelihood and, where several time points of the
same patients were pooled, under the unit-of-analysis correction; it returns a frozen
:class:`OutcomeResult` holding every number the report prints (no file writing, no figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayesmeta.decide.decision import (
    Orientation,
    margin_from_native,
    margin_grid,
    noninferiority_curve,
    prob_harm,
)
from bayesmeta.decide.sensitivity import prior_grid, tipping_prior_mean, tipping_prior_scale
from bayesmeta.effects.measures import get_measure
from bayesmeta.errors import DataError, Problem
from bayesmeta.pipeline.spec import BINARY_RATIO_MEASURES as BASELINE_MEASURES
from bayesmeta.pipeline.spec import AnalysisSpec, OutcomeSpec
from bayesmeta.published.pooled import posterior_mu, prior_predictive_check
from bayesmeta.published.unit_of_analysis import UnitOfAnalysisCorrection, correct_repeated_timepoints

PUBLISHED = "as published"


@dataclass(frozen=True)
class OutcomeResult:
    """Everything computed for one published pooled result (read-only by convention: the report
    only reads it).

    Attributes
    ----------
    spec : OutcomeSpec
        The outcome's block of the spec.
    orientation : Orientation
        Direction and arm labels.
    estimate, se : float
        The published estimate and its implied SE on the analysis scale.
    published : pandas.Series
        The row of ``published.csv``.
    consistency : pandas.Series or None
        Its row of the consistency checks.
    reference : str
        Name of the prior with ``role = "reference"``.
    scenarios : dict
        Likelihood scenario -> SE (``"as published"`` first; unit-of-analysis corrections after).
    main_scenario : str
        The scenario the figures show (the corrected one at the spec's rho where there is one).
    uoa : UnitOfAnalysisCorrection or None
        The correction over rho, with ``uoa_effect`` (P(harm) under the flat prior by rho).
    grid : pandas.DataFrame
        Posterior summaries and decision probabilities per (scenario, prior).
    curves, native_curves : pandas.DataFrame
        P(non-inferior) over margins (native units where the spec gives an SD).
    tipping, conflict : pandas.DataFrame
        Tipping points; Box's prior predictive p-values.
    posteriors : xarray.Dataset
        Posterior densities of mu on a grid, per scenario and prior.
    """

    spec: OutcomeSpec
    orientation: Orientation
    estimate: float
    se: float
    published: pd.Series
    consistency: pd.Series | None
    reference: str
    scenarios: dict[str, float]
    main_scenario: str
    uoa: UnitOfAnalysisCorrection | None
    uoa_effect: pd.DataFrame | None
    grid: pd.DataFrame
    curves: pd.DataFrame
    native_curves: pd.DataFrame | None
    tipping: pd.DataFrame
    conflict: pd.DataFrame
    posteriors: xr.Dataset
    # issue 8: what the published summary supports beyond the published likelihood (rounding, decision
    # priors, summary-level random effects, Bayes factors, absolute effects, bottom line); None when
    # the spec gives no tau priors for the outcome's measure
    summary_level: Any = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def measure(self) -> str:
        return self.spec.measure

    @property
    def is_ratio(self) -> bool:
        return get_measure(self.spec.measure).ratio

    @property
    def primary_margin(self) -> float:
        return self.spec.margins[0]

    def reference_row(self, scenario: str = PUBLISHED) -> pd.Series:
        """The grid row of the reference (flat) prior under ``scenario``."""
        g = self.grid
        return g[(g["prior"] == self.reference) & (g["scenario"] == scenario)].iloc[0]


def published_row(table: pd.DataFrame, oid: str, file) -> pd.Series:
    """The row of ``published.csv`` whose ``analysis`` is ``oid`` (an error naming the file if none)."""
    rows = table[table["analysis"] == oid] if "analysis" in table else table.iloc[0:0]
    if rows.empty:
        raise DataError(
            Problem(
                str(file), None, "analysis", f"the spec asks for outcome {oid!r}, which {file} does not hold"
            )
        )
    return rows.iloc[0]


def tipping_sd(spec: AnalysisSpec, ospec: OutcomeSpec) -> float | None:
    """Prior SD for the tipping-point search on the prior mean: the outcome's ``tipping_prior_sd``,
    else the SD of its normal prior with role 'favours_control', else of its normal 'sceptical' prior."""
    if ospec.tipping_prior_sd is not None:
        return float(ospec.tipping_prior_sd)
    for role in ("favours_control", "sceptical"):
        name = spec.by_role(ospec.mu_priors, role)
        if name is not None:
            p = spec.priors("mu", ospec.mu_priors)[name]
            if p.family == "normal":
                return float(p.params["scale"])
    return None


def _check_against_published(spec: AnalysisSpec, ospec: OutcomeSpec, pub: pd.Series) -> None:
    i = spec.outcomes.index(ospec)
    if str(pub["measure"]).strip() != ospec.measure:
        raise DataError(
            Problem(
                str(spec.path),
                None,
                f"outcome[{i}].measure",
                f"the spec says {ospec.measure}, but published.csv gives {pub['measure']} for "
                f"{ospec.id!r}; the margins are in the units of the measure, so they must agree",
            )
        )
    lib_pub = pub.get("lower_is_better")
    if (
        lib_pub is not None
        and pd.notna(lib_pub)
        and str(lib_pub).lower() in ("true", "false")
        and (str(lib_pub).lower() == "true") != ospec.lower_is_better
    ):
        raise DataError(
            Problem(
                str(spec.path),
                None,
                f"outcome[{i}].lower_is_better",
                f"the spec says {str(ospec.lower_is_better).lower()}, but published.csv says "
                f"lower_is_better = {lib_pub} for {ospec.id!r}: correct one of them",
            )
        )


def analyse_outcome(
    spec: AnalysisSpec, ospec: OutcomeSpec, pub: pd.Series, checks: pd.DataFrame
) -> OutcomeResult:
    """Reanalyse one published pooled result under every prior of its set (see module docstring)."""
    _check_against_published(spec, ospec, pub)
    measure = get_measure(ospec.measure)
    orient = Orientation(
        lower_is_better=ospec.lower_is_better,
        measure=ospec.measure,
        experimental=spec.experimental,
        control=spec.control,
        superiority_threshold=ospec.superiority_threshold,
    )
    level = float(pub.get("ci_level", 0.95) or 0.95)
    est, se = measure.ci_to_analysis(float(pub["estimate"]), float(pub["ci_lb"]), float(pub["ci_ub"]), level)
    if level == 0.95 and ospec.preset in (None, "revman5"):
        # one rounding rule everywhere (issue 16): the centre of the set of (estimate, SE) consistent
        # with every printed digit, as the primary analysis reads it (pipeline/answers.py)
        from bayesmeta.pipeline.answers import summary_context

        est, se = summary_context(spec, ospec, pub).centre
    if ospec.preset is not None:
        # the program that printed the CI decides its quantile (t(k-1) for RevMan 2025's HKSJ)
        from scipy import stats

        from bayesmeta.published.consistency import interval_quantile

        k = pub.get("k_studies")
        try:
            q, df = interval_quantile(level, ospec.preset, None if k is None or pd.isna(k) else int(k))
        except ValueError as e:
            raise DataError(
                Problem(str(spec.data_dir / "published.csv"), None, "k_studies", f"{e} for {ospec.id!r}")
            ) from None
        if df is not None:
            se = se * float(stats.norm.ppf(0.5 + level / 2)) / q
    priors = spec.priors("mu", ospec.mu_priors)
    reference = spec.by_role(ospec.mu_priors, "reference")
    assert reference is not None  # the spec requires one for [[outcome]] blocks
    margins = list(ospec.margins)
    scen = {PUBLISHED: se}
    uoa = uoa_effect = None
    if ospec.repeated_timepoints is not None and not measure.ratio:
        rt = ospec.repeated_timepoints
        uoa = correct_repeated_timepoints(est, se, int(rt["participants_randomised"]))
        rho = float(rt.get("rho", 0.5))
        scen[f"unit-of-analysis corrected, rho = {rho:g}"] = float(uoa.at(rho)["se"])
        scen["unit-of-analysis corrected, rho = 1"] = float(uoa.at(1.0)["se"])
        t = uoa.table
        # flat prior: mu ~ N(est, se_rho^2), so P(harm) is the one-sided p-value read as a probability
        uoa_effect = pd.DataFrame(
            {
                "rho": t["rho"],
                "se": t["se"],
                "pval": t["pval"],
                "ci95_lb": t["ci95_lb"],
                "ci95_ub": t["ci95_ub"],
                "p_harm_flat": [
                    float(prob_harm(posterior_mu(est, s, priors[reference]), orient)) for s in t["se"]
                ],
            }
        )
    grid = prior_grid(
        est,
        scen,
        priors,
        orient,
        margins,
        rope=ospec.rope,
        prob=spec.interval_prob,
        kind=spec.interval_kind,
        threshold=spec.decision_threshold,
        reference=reference,
    )
    grid.insert(0, "outcome", ospec.id)

    # curves over margins (printed margins) for every prior, published and main scenario
    main = list(scen)[-2] if len(scen) > 1 else PUBLISHED
    shown = list(dict.fromkeys([PUBLISHED, main]))
    mgrid = margin_grid(orient, np.log(3.0) if measure.ratio else max(0.6, 1.2 * max(margins)), 121)
    curves, native, dens = [], [], {}
    x_mu = np.linspace(est - 6 * max(scen.values()), est + 6 * max(scen.values()), 801)
    for sname in shown:
        for pname, prior in priors.items():
            post = posterior_mu(est, scen[sname], prior)
            c = noninferiority_curve(post, mgrid, orient)
            c.insert(0, "prior", pname)
            c.insert(0, "scenario", sname)
            curves.append(c)
            if ospec.native is not None:
                sd = float(ospec.native["sd"])
                nm = np.linspace(0, max(ospec.native["margins"]) * 1.5, 121)
                cn = noninferiority_curve(post, margin_from_native(nm, sd), orient)
                cn.insert(0, "margin_native", nm)
                cn.insert(0, "prior", pname)
                cn.insert(0, "scenario", sname)
                native.append(cn)
            dens[(sname, pname)] = post.pdf(x_mu)

    # tipping points (normal priors, closed form): how far a prior must lean to flip the verdict
    tip = []
    m0 = margins[0]
    scale_ref = tipping_sd(spec, ospec)
    for sname, s in scen.items():
        if scale_ref is not None:
            tip.append(
                {
                    "scenario": sname,
                    "question": f"prior mean (prior SD {scale_ref:g}) at which P(non-inferior @ {m0:g}) = "
                    f"{spec.decision_threshold}",
                    "value": tipping_prior_mean(
                        est, s, scale_ref, orient, m0, threshold=spec.decision_threshold
                    ),
                }
            )
        tip.append(
            {
                "scenario": sname,
                "question": "sceptical N(0, SD^2) prior: SD below which "
                f"P(harm to {spec.experimental}) < 0.9",
                "value": tipping_prior_scale(est, s, orient, quantity="p_harm", threshold=0.9),
            }
        )
        tip.append(
            {
                "scenario": sname,
                "question": "sceptical N(0, SD^2) prior: SD below which "
                f"P(benefit for {spec.experimental}) < 0.9",
                "value": tipping_prior_scale(est, s, orient, quantity="p_benefit", threshold=0.9),
            }
        )

    conflict = []
    for pname, prior in priors.items():
        if prior.proper:
            c = prior_predictive_check(est, se, prior, seed=spec.seed)
            conflict.append({"prior": pname, "box_p": c.p_value, "mcse": c.mcse})

    ds = xr.Dataset(
        {"density": (("scenario", "prior", "mu"), np.array([[dens[(s, p)] for p in priors] for s in shown]))},
        coords={"scenario": shown, "prior": list(priors), "mu": x_mu},
        attrs={
            "outcome": ospec.id,
            "measure": ospec.measure,
            "estimate": est,
            "se": se,
            "orientation": orient.describe(),
        },
    )
    cons = checks[checks["analysis"] == ospec.id].iloc[0] if "analysis" in checks else None
    return OutcomeResult(
        spec=ospec,
        orientation=orient,
        estimate=float(est),
        se=float(se),
        published=pub,
        consistency=cons,
        reference=reference,
        scenarios=scen,
        main_scenario=main,
        uoa=uoa,
        uoa_effect=uoa_effect,
        grid=grid,
        curves=pd.concat(curves, ignore_index=True),
        native_curves=pd.concat(native, ignore_index=True) if native else None,
        tipping=pd.DataFrame(tip),
        conflict=pd.DataFrame(conflict),
        posteriors=ds,
        summary_level=_summary_level(spec, ospec, pub),
    )


def _summary_level(spec: AnalysisSpec, ospec: OutcomeSpec, pub: pd.Series):
    """Issue 8: the summary-level reanalysis (bayesmeta.published.summary_reanalysis) when the spec
    has tau priors for the outcome's measure and a neutral mu prior."""
    from bayesmeta.published.summary_reanalysis import from_data_folder

    taus = spec.priors("tau", ospec.tau_priors) if ospec.tau_priors else {}
    neutral = spec.by_role(ospec.mu_priors, "neutral")
    if not taus or neutral is None:
        return None
    if ospec.measure in BASELINE_MEASURES and not ospec.baseline_risk:
        import warnings

        i = spec.outcomes.index(ospec)
        warnings.warn(
            f"{spec.path}: outcome[{i}] ({ospec.id}) gives no baseline_risk: its risk differences per 1,000 "
            "are not computed (add baseline_risk = [...] with baseline_risk_source)",
            UserWarning,
            stacklevel=2,
        )
    # the trials the primary uses (pipeline/answers.py): a ratio measure does not count trials without
    # events; a plausible k range replaces a k that counts them
    pub = pub.copy()
    if get_measure(ospec.measure).ratio and isinstance(pub.get("studies"), str):
        from bayesmeta.pipeline.answers import zero_event_trials

        zero = set(zero_event_trials(spec.data_dir, str(pub.get("outcome", ""))))
        pub["studies"] = ";".join(x for x in str(pub["studies"]).split(";") if x and x not in zero)
    if ospec.heterogeneity.get("k_range"):
        pub["k_studies"] = int(min(ospec.heterogeneity["k_range"]))
        pub["participants"] = np.nan
    return from_data_folder(spec.data_dir, ospec, pub, spec.priors("mu", ospec.mu_priors), neutral, taus,
                            spec.primary("tau", ospec.tau_priors), spec.experimental, spec.control,
                            baseline_risks=ospec.baseline_risk)
