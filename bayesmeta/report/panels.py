"""The report's figures, composed from frozen results with the drawing functions of
:mod:`bayesmeta.report.figures`.

Each function yields ``(name, matplotlib figure)`` pairs; the writer saves them as
``figures/<id>_<name>.png`` (:func:`bayesmeta.report.sections.figure_path`). Nothing here
computes a posterior or draws random numbers: densities, curves and replicated data are fields of
the results (prior densities are evaluated from the spec's priors; study weights are the
random-effects weights 1 / (SE^2 + tau^2) of the DerSimonian-Laird fit in the results).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.pipeline.outcome import PUBLISHED, OutcomeResult
from bayesmeta.pipeline.spec import AnalysisSpec
from bayesmeta.pipeline.study_level import StudyLevelBlock
from bayesmeta.report import figures

SUMMARY_ID = "all_outcomes"


def _short(scenario: str) -> str:
    return scenario.replace("unit-of-analysis corrected, ", "UoA ")


def _favours(orientation) -> tuple[str, str]:
    e, c = f"favours {orientation.experimental}", f"favours {orientation.control}"
    return (e, c) if orientation.lower_is_better else (c, e)


def _margin_label(measure: str, ratio: bool, experimental: str, control: str) -> str:
    """x-axis label of a P(non-inferior) curve over margins (published and study-level figures)."""
    return (f"non-inferiority margin ({measure}{', ratio' if ratio else ''}; {experimental} worse than "
            f"{control} by less than this)")


def harmful_margin(orientation, margin: float) -> float:
    """Where a margin (as printed) lies on the reported scale, on the harmful side of the null."""
    a = float(orientation.harmful_sign * orientation.to_analysis_scale(margin))
    return float(np.exp(a)) if orientation.is_ratio else a


def _pdf(prior, x: np.ndarray) -> np.ndarray | None:
    return np.asarray(prior.pdf(x), float) if getattr(prior, "proper", False) else None


def _spread(prior) -> float:
    """How widely a prior spreads (its 97.5% quantile of |x|; inf when improper): orders heat-map
    rows and columns from the most to the least informative prior."""
    if not getattr(prior, "proper", False):
        return float("inf")
    q = np.ravel(prior.ppf(np.array([0.025, 0.975])))
    return float(np.max(np.abs(q)))


def summary_rows(outcomes: Sequence[OutcomeResult], spec: AnalysisSpec) -> pd.DataFrame:
    """Rows of the summary forest: per outcome the published estimate and CI, and the posterior
    under each prior (main likelihood scenario) on the reported scale, with the primary margin."""
    pct = round(spec.interval_prob * 100)
    kind = spec.interval_kind
    rows = []
    for o in outcomes:
        tr = np.exp if o.is_ratio else (lambda v: v)
        scen = o.main_scenario
        group = o.label if scen == PUBLISHED else f"{o.label} ({_short(scen)})"
        m = harmful_margin(o.orientation, o.primary_margin)
        p = o.published
        rows.append(
            {
                "outcome": group,
                "measure": o.measure,
                "label": "published",
                "kind": "published",
                "estimate": float(p["estimate"]),
                "lb": float(p["ci_lb"]),
                "ub": float(p["ci_ub"]),
                "margin": m,
            }
        )
        for _, r in o.grid[o.grid["scenario"] == scen].iterrows():
            rows.append(
                {
                    "outcome": group,
                    "measure": o.measure,
                    "label": f"posterior, prior {r['prior']}",
                    "kind": "posterior",
                    "estimate": float(tr(r["median"])),
                    "lb": float(tr(r[f"{kind}{pct}_lb"])),
                    "ub": float(tr(r[f"{kind}{pct}_ub"])),
                    "margin": m,
                }
            )
    return pd.DataFrame(rows)


def summary_figures(outcomes: Sequence[OutcomeResult], spec: AnalysisSpec) -> Iterator[tuple[str, object]]:
    """One forest of every published result with its margin and the posterior under each prior."""
    if not outcomes:
        return
    pct = round(spec.interval_prob * 100)
    fav = {o.measure: _favours(o.orientation) for o in outcomes}
    ratio = {o.measure: o.is_ratio for o in outcomes}
    xl = {
        m: (
            f"{m}{' (log scale)' if ratio[m] else ''}, {spec.experimental} vs {spec.control}: "
            "published 95% CI; "
            f"posterior median and {pct}% {spec.interval_kind.upper()}"
        )
        for m in fav
    }
    yield (
        "forest",
        figures.summary_forest(
            summary_rows(outcomes, spec),
            favours=fav,
            xlabels=xl,
            title="Every published result with its margin, and the posterior under each prior",
        ),
    )


def outcome_figures(o: OutcomeResult, spec: AnalysisSpec) -> Iterator[tuple[str, object]]:
    """Forest by scenario, prior-to-posterior densities, P(non-inferior) curves, sensitivity map
    and the unit-of-analysis panels."""
    ratio = o.is_ratio
    pct = round(spec.interval_prob * 100)
    kind = spec.interval_kind
    sp = o.spec
    exp, ctl = spec.experimental, spec.control
    m0 = o.primary_margin
    tr = np.exp if ratio else (lambda v: v)
    # forest: published estimate and the posterior under every prior, per likelihood scenario
    rows = []
    pub = o.published
    for scen in dict.fromkeys(o.grid["scenario"]):
        rows.append(
            {
                "outcome": f"likelihood: {_short(scen)}",
                "measure": o.measure,
                "label": "published",
                "kind": "published",
                "estimate": float(pub["estimate"]),
                "lb": float(pub["ci_lb"]),
                "ub": float(pub["ci_ub"]),
                "margin": harmful_margin(o.orientation, m0),
            }
        )
        for _, r in o.grid[o.grid["scenario"] == scen].iterrows():
            rows.append(
                {
                    "outcome": f"likelihood: {_short(scen)}",
                    "measure": o.measure,
                    "label": f"posterior, prior {r['prior']}",
                    "kind": "posterior",
                    "estimate": float(tr(r["median"])),
                    "lb": float(tr(r[f"{kind}{pct}_lb"])),
                    "ub": float(tr(r[f"{kind}{pct}_ub"])),
                    "margin": harmful_margin(o.orientation, m0),
                }
            )
    yield (
        "forest",
        figures.summary_forest(
            pd.DataFrame(rows),
            favours=_favours(o.orientation),
            xlabels={
                o.measure: f"{o.measure}{' (log scale)' if ratio else ''}, {exp} vs {ctl}: published 95% CI; "
                f"posterior median and {pct}% {kind.upper()}"
            },
            title=f"{o.label}: published estimate and posterior under each prior and likelihood",
        ),
    )

    # prior (dashed) and posterior (solid) of mu under each prior, with the likelihood
    ds = o.posteriors
    scen = o.main_scenario if o.main_scenario in ds["scenario"].values else str(ds["scenario"].values[-1])
    x = ds["mu"].values
    priors = spec.priors("mu", sp.mu_priors)
    curves = {
        str(p): (
            _pdf(priors[str(p)], x) if str(p) in priors else None,
            ds["density"].sel(scenario=scen, prior=p).values,
        )
        for p in ds["prior"].values
    }
    like = np.exp(-0.5 * ((x - o.estimate) / o.scenarios.get(scen, o.se)) ** 2)
    marks = {
        f"published estimate ({float(pub['estimate']):g})": o.estimate,
        f"margin {m0:g}": float(o.orientation.harmful_sign * o.orientation.to_analysis_scale(m0)),
    }
    # priors over a range that also holds the margin (a sceptical prior sits on it)
    ends = [float(x.min()), float(x.max()), *marks.values()]
    px = np.linspace(min(ends), max(ends), 600)
    yield (
        "posterior",
        figures.prior_posterior(
            x,
            curves,
            likelihood=like,
            ratio=ratio,
            marks=marks,
            prior_x=px,
            priors={str(p): _pdf(priors[str(p)], px) if str(p) in priors else None for p in ds["prior"].values},
            xlabel=f"mu: {o.measure}{' (log scale)' if ratio else ''}, {exp} vs {ctl}",
            title=f"{o.label}: prior and posterior of mu under each prior (likelihood: {_short(scen)})",
        ),
    )

    # P(non-inferior) against the margin, one line per prior, main scenario; native units on a
    # second axis (one figure, not two)
    cur = o.curves[o.curves["scenario"] == scen]
    cs = {f"prior {p}": g for p, g in cur.groupby("prior", sort=False)}
    nat = sp.native if (sp.native is not None and not ratio) else None
    yield (
        "noninferiority",
        figures.noninferiority_curves(
            cs,
            margin=m0,
            threshold=spec.decision_threshold,
            log=ratio,
            xlabel=_margin_label(o.measure, ratio, exp, ctl),
            ylabel=f"posterior P({exp} non-inferior)",
            title=f"{o.label}: P({exp} non-inferior) by margin (likelihood: {_short(scen)})",
            native=(float(nat["sd"]), str(nat["unit"])) if nat else None,
        ),
    )

    # sensitivity: priors (from the most to the least informative) x scenarios (as published first)
    key = f"p_noninferior@{m0:g}"
    g = o.grid.assign(scenario=o.grid["scenario"].map(_short))
    order = sorted(
        dict.fromkeys(o.grid["prior"]), key=lambda p: _spread(priors[p]) if p in priors else np.inf
    )
    yield (
        "sensitivity",
        figures.sensitivity_heatmap(
            g,
            row="prior",
            col="scenario",
            value=key,
            row_order=order,
            threshold=spec.decision_threshold,
            row_label="prior on mu (most to least informative)",
            col_label="likelihood scenario",
            cbar_label=f"posterior P(non-inferior at {m0:g})",
            title=f"{o.label}: P({exp} non-inferior at margin {m0:g}) by prior and likelihood",
        ),
    )
    if o.uoa_effect is not None:
        e = o.uoa_effect
        rt: Any = sp.repeated_timepoints or {}
        yield (
            "unit_of_analysis",
            figures.unit_of_analysis(
                e["rho"].to_numpy(),
                e["p_harm_flat"].to_numpy(),
                e["pval"].to_numpy(),
                posterior_label=f"P(effect favours {ctl}), flat prior",
                rho_default=float(rt.get("rho", 0.5)),
                title=f"{o.label}: what counting the same patients at several time points does",
            ),
        )


def ppc_panel_studies(yi, y_rep) -> np.ndarray:
    """Indices (in study order) of the studies the predictive-check panel draws: all of them up to
    :data:`bayesmeta.pipeline.diagnostics.PPC_PANEL_MAX_STUDIES`, else those whose observed effect
    is least typical of its replications (two-sided predictive p-value, smallest first), so the
    figure's height stays bounded."""
    from bayesmeta.pipeline.diagnostics import PPC_PANEL_MAX_STUDIES

    k = len(yi)
    if k <= PPC_PANEL_MAX_STUDIES:
        return np.arange(k)
    p = np.mean(np.asarray(y_rep) <= np.asarray(yi)[None, :], axis=0)
    p2 = np.minimum(p, 1 - p)
    return np.sort(np.argsort(p2, kind="stable")[:PPC_PANEL_MAX_STUDIES])


def weights_from(r: Any) -> str:
    """The frequentist row whose tau^2 weights the studies: the preset's analysis when the spec
    names a preset (e.g. ``revman2025 preset (REML, HKSJ)``), else ``DL``."""
    pre = [a for a in r.frequentist["analysis"] if " preset (" in str(a)]
    return str(pre[0]) if pre else "DL"


def forest_studies(r: Any, spec: AnalysisSpec) -> pd.DataFrame:
    """Study rows of the forest plot (and of the report's study table): arm data, effect and 95% CI,
    random-effects weight (tau^2 of the spec's preset, else DerSimonian-Laird: :func:`weights_from`),
    shrunken estimate, and the reason a study is left out."""
    ratio = r.orientation.is_ratio
    tau2 = float(r.frequentist.set_index("analysis").loc[weights_from(r), "tau2"])
    pct = round(spec.interval_prob * 100)
    th = r.exact.theta_summary(spec.interval_prob, spec.interval_kind)  # all studies in one kernel call
    theta = th[["median", f"{spec.interval_kind}{pct}_lb", f"{spec.interval_kind}{pct}_ub"]].to_numpy()
    arms = getattr(r, "arms", None)
    reason = "not estimable"
    if ratio and arms is not None and {"events_e", "events_c"} <= set(arms.columns):
        reason = f"double zero, no information on {r.measure}"
    return figures.study_rows(
        r.labels, r.yi, r.sei, ratio=ratio, tau2=tau2, arms=arms, theta=theta, excluded_reason=reason
    )


def study_framing(question: str, orientation: Any, measure: str, margin: float | None) -> dict:
    """How a study-level analysis frames its decision: the one place that branches on the spec's
    ``question`` (issue 9: "the question decides the framing").

    Returns ``key`` (the column of the decision table that decides, None for estimation),
    ``label`` (that probability in words, e.g. "P(benefit) = P(RR < 1)"), ``columns`` (the
    decision-table columns shown), ``caption`` and ``margin`` (whether the figures draw the
    non-inferiority margin).
    """
    side = "<" if orientation.lower_is_better else ">"
    null = 1 if orientation.is_ratio else 0
    if question == "superiority":
        label = (
            f"P(benefit) = P({orientation.benefit_text()})"
            if getattr(orientation, "superiority_threshold", None) is not None
            else f"P(benefit) = P({measure} {side} {null})"
        )
        return {
            "key": "p_benefit",
            "label": label,
            "columns": ["parameter", "p_benefit", "p_harm", "orientation"],
            "caption": f"Decision probabilities (question: superiority): {label} and P(harm) for mu "
            "and for a new study's effect",
            "margin": False,
        }
    if question == "estimation" or margin is None:
        return {"key": None, "label": "", "columns": [], "caption": "", "margin": False}
    return {
        "key": "p_noninferior",
        "label": f"P(non-inferior at {measure} {margin:g})",
        "columns": [],  # all
        "caption": "Decision probabilities for mu and for a new study's effect",
        "margin": True,
    }


def study_figures(blk: StudyLevelBlock, spec: AnalysisSpec) -> Iterator[tuple[str, object]]:
    """Study forest, tau and mu prior-to-posterior, P(non-inferior) curves, sensitivity map,
    predictive check and (with at least 10 studies) a funnel plot."""
    r: Any = blk.result  # StudyLevelResult (its exact posterior is typed loosely)
    if r is None:
        return
    ratio = r.orientation.is_ratio
    tr = np.exp if ratio else (lambda v: v)
    pct = round(spec.interval_prob * 100)
    kind = spec.interval_kind
    o = r.orientation
    b: Any = blk.spec
    m0 = b.margins[0] if b.margins else None
    framing = study_framing(b.question, o, r.measure, m0)
    show_margin = framing["margin"]
    f = r.frequentist.set_index("analysis")
    studies = forest_studies(r, spec)
    pooled = []
    wrow = weights_from(r)
    shown = (
        (wrow, f"Random effects, {wrow} ({pct}% CI)")
        if wrow != "DL"
        else ("DL", "Random effects, DerSimonian-Laird (95% CI)")
    )
    for a, lab in (shown,):
        pooled.append(
            {
                "label": lab,
                "kind": "frequentist",
                "estimate": float(tr(f.loc[a, "mu"])),
                "lb": float(tr(f.loc[a, f"ci{pct}_lb"])),
                "ub": float(tr(f.loc[a, f"ci{pct}_ub"])),
            }
        )
    for label, kind_, marginal in ((f"Bayesian mu ({pct}% {kind.upper()})", "bayesian", r.exact.mu),
                                   (f"Prediction, new study ({pct}% {kind.upper()})", "prediction",
                                    r.exact.theta_new)):
        lo, hi = marginal.interval(spec.interval_prob, kind)
        pooled.append({"label": label, "kind": kind_, "estimate": float(tr(marginal.median())),
                       "lb": float(tr(lo)), "ub": float(tr(hi))})
    yield (
        "forest",
        figures.study_forest(
            studies,
            pd.DataFrame(pooled),
            measure=r.measure,
            arms=(o.experimental, o.control),
            favours=_favours(o),
            margin=harmful_margin(o, m0) if show_margin and m0 is not None else None,
            margin_label=f"non-inferiority margin {m0:g}" if show_margin else None,
            xlabel=f"{r.measure}{' (log scale)' if ratio else ''}, {o.experimental} vs {o.control}; "
            f"weights: random effects ({'DL' if wrow == 'DL' else wrow.split(' (')[1].split(',')[0]}); "
            "open circles: shrunken study estimates",
            title=f"{blk.label}: studies, pooled estimates and prediction",
        ),
    )

    t = r.exact.tau
    x = np.linspace(0, float(t.ppf(0.995)) * 1.3, 400)
    tp = r.exact.tau_prior
    yield (
        "tau",
        figures.prior_posterior(
            x,
            {tp.label: (_pdf(tp, x), t.pdf(x))},
            xlabel=f"tau: between-study SD ({'log ' if ratio else ''}{r.measure} scale)",
            title=f"{blk.label}: heterogeneity, prior and posterior of tau",
        ),
    )
    mu = r.exact.mu
    xm = np.linspace(float(mu.ppf(0.0005)), float(mu.ppf(0.9995)), 400)
    mp = r.exact.mu_prior
    yield (
        "mu",
        figures.prior_posterior(
            xm,
            {mp.label: (_pdf(mp, xm), mu.pdf(xm))},
            ratio=ratio,
            marks={f"margin {m0:g}": float(o.harmful_sign * o.to_analysis_scale(m0))}
            if show_margin and m0 is not None
            else {f"benefit: {o.benefit_text()}": o.benefit_bound}
            if o.superiority_threshold is not None
            else None,
            xlabel=f"mu: {r.measure}{' (log scale)' if ratio else ''}, {o.experimental} vs {o.control}",
            title=f"{blk.label}: effect, prior and posterior of mu",
        ),
    )
    names = {"mu": "pooled effect (mu)", "theta_new": "effect in a new study (theta_new)"}
    cs = {names.get(p, p): g for p, g in r.curves.groupby("parameter", sort=False)}
    if show_margin and m0 is not None and cs:  # superiority or estimation: no P(non-inferior) curves
        yield (
            "noninferiority",
            figures.noninferiority_curves(
                cs,
                margin=m0,
                threshold=spec.decision_threshold,
                log=ratio,
                xlabel=_margin_label(r.measure, ratio, o.experimental, o.control),
                ylabel=f"posterior P({o.experimental} non-inferior)",
                title=f"{blk.label}: P(non-inferior) by margin",
            ),
        )
    key = f"p_noninferior@{m0:g}" if m0 is not None else "p_benefit"
    what = f"P(non-inferior at {m0:g})" if m0 is not None else f"P(benefit) = P({o.benefit_text()})"
    what_title = (
        f"P({o.experimental} non-inferior at margin {m0:g})" if m0 is not None else f"{o.experimental}: {what}"
    )
    if framing["key"] == "p_benefit":
        key, what = "p_benefit", framing["label"]
        what_title = f"{o.experimental}: {what}"
    sens = r.sensitivity.dropna(subset=[key])
    tps, mps = spec.priors("tau", b.tau_priors), spec.priors("mu", b.mu_priors)
    yield (
        "sensitivity",
        figures.sensitivity_heatmap(
            sens,
            row="tau_prior",
            col="mu_prior",
            value=key,
            threshold=spec.decision_threshold,
            row_order=sorted(
                dict.fromkeys(sens["tau_prior"]), key=lambda p: _spread(tps[p]) if p in tps else np.inf
            ),
            col_order=sorted(
                dict.fromkeys(sens["mu_prior"]), key=lambda p: _spread(mps[p]) if p in mps else np.inf
            ),
            row_label="prior on tau (least to most heterogeneity)",
            col_label="prior on mu (most to least informative)",
            cbar_label=f"posterior {what}",
            title=f"{blk.label}: {what_title} by prior",
        ),
    )
    ppc_idx = ppc_panel_studies(r.yi, r.y_rep)
    yield (
        "ppc",
        figures.ppc_studies(
            r.yi[ppc_idx],
            r.y_rep[:, ppc_idx],
            [r.labels[i] for i in ppc_idx],
            xlabel=f"{r.measure}{' (log scale)' if ratio else ''}, {o.experimental} vs {o.control}",
            ratio=ratio,
            title=f"{blk.label}: replicated study effects (new-study replication)"
            + (f"; the {len(ppc_idx)} of {len(r.labels):,} studies with the most extreme predictive p-values"
               if len(ppc_idx) < len(r.labels) else ""),
        ),
    )
    # Baujat, GOSH, funnel with trim and fill (k >= 10), bubble plots (issue 11)
    from bayesmeta.report.diagnostics import diagnostics_figures

    yield from diagnostics_figures(blk, spec)


__all__ = [
    "PUBLISHED",
    "SUMMARY_ID",
    "harmful_margin",
    "outcome_figures",
    "study_figures",
    "summary_figures",
    "summary_rows",
    "forest_studies",
]
