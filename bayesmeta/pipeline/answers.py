r"""Evaluate analysis plans into ONE tidy results structure: the ``answers`` Dataset.

Every headline of a report (bottom line, summary table, headline figures, robustness, certainty)
reads the coordinate ``departure = "primary"`` of this Dataset; the report selects, it never
recomputes. Schema (``/work/notes/INTERFACE.md``):

* dims ``outcome`` (display order: the clinical outcomes first, those carrying a unit-of-analysis
  error last) and ``departure`` (``"primary"`` first);
* per (outcome, departure), on the analysis scale (log for ratios): ``median``, ``lb95``, ``ub95``
  (the spec's interval kind at 95%), ``largest_plausible`` (the one-sided 95% bound on the harmful
  side: the smallest margin at which non-inferiority would reach P = 0.95), ``p_decision``
  (P(no worse than the margin) for non-inferiority and equivalence-by-margin, P(benefit) for
  superiority and estimation), ``prior_p_decision``, ``bf_decision`` (posterior odds over prior odds of
  the decision hypothesis against its complement, under that analysis' model; NaN under an
  improper prior), ``p_benefit``, ``flips`` (the verdict at the decision threshold differs from the
  primary's), ``available``;
* per outcome: the published result, ``k`` (trials that inform a ratio measure: trials with no
  events in either arm are not counted), ``n_participants``, ``sparse`` (:func:`too_sparse`),
  ``imprecise`` (the primary 95% interval crosses the margin), ``m1_exceeded`` (the margin exceeds the
  control's effect over placebo), ``unit_of_analysis_error``, ``certainty`` (a GRADE level word).

P(no worse than d) over d (``curve`` with dim ``d``) is stored for the primary.

References
----------
Lee MD, Wagenmakers E-J (2013). Bayesian Cognitive Modeling. Cambridge University Press, table 7.1
    (Bayes factor categories, after Jeffreys 1961).
Kass RE, Raftery AE (1995). Bayes factors. JASA 90:773-795. doi:10.1080/01621459.1995.10476572
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from bayesmeta.effects.measures import get_measure
from bayesmeta.pipeline import plan as pl
from bayesmeta.pipeline.spec import AnalysisSpec, OutcomeSpec
from bayesmeta.published import summary_likelihood as sl
from bayesmeta.published.pooled import posterior_mu
from bayesmeta.published.rounding import Reconstruction, reconstruct
from bayesmeta.published.subsets import matching_subsets

#: a decision probability within this distance of its prior value is "too sparse to tell"
SPARSE_DELTA = 0.05
#: ... as is a Bayes factor of the decision within (1/SPARSE_BF, SPARSE_BF): "anecdotal" evidence
#: (Lee & Wagenmakers 2013, table 7.1)
SPARSE_BF = 3.0
#: largest plausible difference: the one-sided bound with this probability on the harmful side
PLAUSIBLE = 0.95
#: Bayes factor bounds printed instead of a raw float (the grid resolves odds up to about 1e6)
BF_BOUND = 1e6

#: Lee & Wagenmakers (2013, table 7.1) categories of a Bayes factor BF10 (evidence for H1)
BF_CATEGORIES = (
    (100.0, "extreme"),
    (30.0, "very strong"),
    (10.0, "strong"),
    (3.0, "moderate"),
    (1.0, "anecdotal"),
)

QUANTITIES = ("median", "lb95", "ub95", "largest_plausible", "p_decision", "prior_p_decision",
              "bf_decision", "p_benefit")


def bf_category(bf: float) -> tuple[str, str]:
    """``(strength, direction)`` of a Bayes factor for a hypothesis H against its complement:
    strength from Lee & Wagenmakers (2013), direction ``"for"``, ``"against"`` or ``"none"``."""
    if not np.isfinite(bf) or bf <= 0:
        return ("undefined", "none")
    b = bf if bf >= 1 else 1.0 / bf
    if b == 1.0:
        return ("no evidence", "none")
    strength = next(w for lo, w in BF_CATEGORIES if b >= lo)
    return (strength, "for" if bf > 1 else "against")


def too_sparse(p: float, prior_p: float, bf: float) -> bool:
    """The data are too sparse to tell: P(decision) moves less than :data:`SPARSE_DELTA` from its
    prior value, or the decision's Bayes factor lies within (1/3, 3)."""
    if not (np.isfinite(prior_p) and np.isfinite(p)):
        return False
    if abs(p - prior_p) < SPARSE_DELTA:
        return True
    return bool(np.isfinite(bf) and 1.0 / SPARSE_BF < bf < SPARSE_BF)


@dataclass(frozen=True)
class SummaryContext:
    """What one published result offers a likelihood: both readings of its rounding, the trials
    (and their relative within-study variances), k, I^2, and the unit-of-analysis design."""

    rounding: Reconstruction
    centre: tuple[float, float]
    printed: tuple[float, float]
    v_rel: np.ndarray | None  # relative within-study variances of the named/matched trials
    k: int | None  # informative trials (printed, named or matched; zero-event trials removed)
    n_participants: int | None
    i2: float | None  # printed I^2 (percent)
    excluded: tuple[str, ...]  # trials with no events in either arm (ratio measures)
    rows_per_patient: float | None  # unit-of-analysis design (None: none)


def _num(v):
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f


def _sizes(data_dir: Path) -> dict[str, tuple[int, int]]:
    p = data_dir / "studies.csv"
    if not p.exists():
        return {}
    st = pd.read_csv(p, index_col=False)
    if not {"study", "n_experimental", "n_control"} <= set(st.columns):
        return {}
    return {str(r.study): (int(r.n_experimental), int(r.n_control)) for r in st.itertuples()
            if pd.notna(r.n_experimental) and pd.notna(r.n_control)}


def zero_event_trials(data_dir: Path, outcome: str) -> tuple[str, ...]:
    """Trials of ``binary_arms.csv`` reporting no events in either arm for ``outcome``: they carry
    no information on a ratio measure and are not counted in its k (Cochrane Handbook 10.4.4.2)."""
    p = data_dir / "binary_arms.csv"
    if not p.exists():
        return ()
    with p.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    per: dict[str, list] = {}
    for r in rows:
        if str(r.get("outcome", "")).strip() != outcome:
            continue
        per.setdefault(str(r.get("study", "")), []).append(_num(r.get("events")))
    return tuple(s for s, ev in per.items() if len(ev) >= 2 and all(e == 0 for e in ev))


def summary_context(spec: AnalysisSpec, ospec: OutcomeSpec, pub) -> SummaryContext:
    """The :class:`SummaryContext` of one published result (rounding read once, by one rule)."""
    measure = get_measure(ospec.measure)
    p = _num(pub.get("p"))
    rec = reconstruct(float(pub["estimate"]), float(pub["ci_lb"]), float(pub["ci_ub"]), p=p,
                      p_relation=str(pub.get("p_relation") or "=") if p is not None else "=",
                      decimals=int(_num(pub.get("decimals")) or 2), measure=ospec.measure)
    naive = rec.centred_reading()
    printed = (float(naive["estimate"]), float(naive["se"]))
    centre = tuple(float(v) for v in rec.grid(11).mean(axis=0)) if rec.feasible else printed
    sizes = _sizes(spec.data_dir)
    k_print = _num(pub.get("k_studies"))
    npart = _num(pub.get("participants"))
    raw = pub.get("studies")
    named = [s for s in str(raw).split(";") if s] if isinstance(raw, str) else []
    excluded: tuple[str, ...] = ()
    if measure.ratio and named:
        excluded = tuple(s for s in zero_event_trials(spec.data_dir, str(pub.get("outcome", ""))) if s in named)
        named = [s for s in named if s not in excluded]
    studies = None
    if named and all(s in sizes for s in named):
        studies = named
    elif not named and k_print is not None and npart is not None and int(k_print) <= len(sizes):
        m = matching_subsets({s: int(sum(n)) for s, n in sizes.items()}, int(k_print), int(npart))
        if m.unique:
            studies = list(m.studies)
    v_rel = None
    if studies is not None and len(studies) >= 2:
        n1 = np.array([sizes[s][0] for s in studies], float)
        n2 = np.array([sizes[s][1] for s in studies], float)
        v_rel = 1.0 / (n1 + n2) if measure.ratio else sl.smd_variance(n1, n2, centre[0])
    k = len(studies) if studies is not None else (len(named) if named else (int(k_print) if k_print else None))
    if npart is None and studies is not None:
        npart = float(sum(sum(sizes[s]) for s in studies))
    rt = ospec.repeated_timepoints
    rows = None
    if rt is not None:
        from bayesmeta.published.unit_of_analysis import implied_participants_smd

        n_rows = _num(rt.get("participant_rows"))
        n_rows = n_rows if n_rows is not None else float(implied_participants_smd(*printed))
        rows = max(n_rows / float(rt["participants_randomised"]), 1.0)
    return SummaryContext(rec, (float(centre[0]), float(centre[1])), printed, v_rel, k,
                          None if npart is None else int(npart), _num(pub.get("i2")), excluded, rows)


def _se(ctx: SummaryContext, a: pl.Analysis) -> tuple[float, float]:
    est, se = ctx.centre if a.rounding == pl.ROUNDING_CENTRE else ctx.printed
    if ctx.rows_per_patient is not None and a.rho is not None:
        # the published SE treats every row as a patient; the SE of a patient's rows averaged, with
        # within-patient correlation rho, is SE * sqrt(1 + (m - 1) rho) (Borenstein 2009, eq. 24.7)
        se = se * float(np.sqrt(1.0 + (ctx.rows_per_patient - 1.0) * a.rho))
    return est, se


def summary_data(ctx: SummaryContext, a: pl.Analysis) -> sl.SummaryData:
    """The summary-level likelihood of analysis ``a``. Within-study variances are rescaled to the
    SE of ``a``'s reading, which for a result pooled over time points is the unit-of-analysis
    corrected SE: the rescaling then never rebuilds the double counting it corrects."""
    est, se = _se(ctx, a)
    k = a.k if a.k is not None else ctx.k
    v = ctx.v_rel if (ctx.v_rel is not None and (a.k is None or a.k == ctx.v_rel.size)) else None
    if v is None:
        if k is None or k < 2:
            raise ValueError("neither the trials nor k are known")
        v = np.ones(int(k))
    if a.i2 == pl.I2_IGNORED:
        q = None
    elif a.i2 == pl.I2_PRINTED:
        q = sl.q_interval_from_i2(ctx.i2, v.size, 0) if ctx.i2 is not None else None
    else:
        q = sl.q_interval_from_i2(float(a.i2), v.size, 0)
    return sl.summary_data(est, se, v, q_interval=q)


class _Evaluator:
    """Posterior of mu under each analysis of one outcome (summary-level posteriors cached)."""

    def __init__(self, spec: AnalysisSpec, ospec: OutcomeSpec, ctx: SummaryContext):
        self.spec, self.ospec, self.ctx = spec, ospec, ctx
        self.mu = spec.priors("mu", ospec.mu_priors)
        self.tau = spec.priors("tau", ospec.tau_priors) if ospec.tau_priors else {}
        self.cache: dict = {}
        self.info: dict = {}
        self.data: dict = {}

    def posterior(self, a: pl.Analysis):
        key = (a.likelihood, a.tau_prior, a.mu_prior, a.k, a.i2, a.rounding, a.rho)
        if key not in self.cache:
            if a.likelihood == pl.SUMMARY_RE:
                # exact summary-level posterior (published/summary_exact.py: log-tau grid with the exact mass
                # near 0, mu range from the posterior), under every prior
                from bayesmeta.published.summary_exact import solve as solve_summary

                assert a.tau_prior is not None  # a summary-level likelihood always has one
                data = self.data.get(key[:2] + key[3:])
                if data is None:
                    data = self.data[key[:2] + key[3:]] = summary_data(self.ctx, a)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    post = solve_summary(data, self.tau[a.tau_prior], self.mu[a.mu_prior])
                self.cache[key] = post.mu
                self.info[key] = {"k": data.k, "calibration": data.calibration,
                                  "q_used": data.q_interval is not None, "tau_post": post.tau}
            else:
                est, se = _se(self.ctx, a)
                self.cache[key] = posterior_mu(est, se, self.mu[a.mu_prior])
        return self.cache[key]


def _margin(ospec: OutcomeSpec, m: float) -> float:
    return float(np.log(m)) if get_measure(ospec.measure).ratio else float(m)


def quantities(post, prior, ospec: OutcomeSpec, margin: float, prob: float, kind: str) -> dict:
    """The answer quantities of one posterior of mu (analysis scale; ``margin`` as printed)."""
    h = 1 if ospec.lower_is_better else -1
    ratio = get_measure(ospec.measure).ratio
    d = _margin(ospec, margin)
    lo, hi = (float(v) for v in post.interval(prob, kind))
    if ospec.superiority_threshold is not None:
        b = float(np.log(ospec.superiority_threshold)) if ratio else -h * abs(float(ospec.superiority_threshold))
    else:
        b = 0.0

    def below(dist, x):
        return float(dist.cdf(x))

    p_ni = below(post, h * d) if h > 0 else 1.0 - below(post, h * d)
    p_ben = below(post, b) if h > 0 else 1.0 - below(post, b)
    bound = float(post.ppf(PLAUSIBLE)) if h > 0 else float(post.ppf(1 - PLAUSIBLE))
    if ospec.question in ("noninferiority", "equivalence"):
        p_dec = p_ni
        prior_p = (below(prior, h * d) if h > 0 else 1.0 - below(prior, h * d)) if prior.proper else np.nan
    else:
        p_dec = p_ben
        prior_p = (below(prior, b) if h > 0 else 1.0 - below(prior, b)) if prior.proper else np.nan
    bf = np.nan
    if np.isfinite(prior_p) and 0 < prior_p < 1:
        pp = min(max(p_dec, 1e-300), 1 - 1e-16)
        bf = (pp / (1 - pp)) / (prior_p / (1 - prior_p))
    return {"median": float(post.median() if callable(getattr(post, "median", None)) else post.ppf(0.5)),
            "lb95": lo, "ub95": hi, "largest_plausible": bound, "p_decision": p_dec,
            "prior_p_decision": prior_p, "bf_decision": float(bf), "p_benefit": p_ben}


@dataclass(frozen=True)
class OutcomeAnswer:
    """One outcome's plan, its evaluated departures (a DataFrame, primary first) and its context."""

    plan: pl.OutcomePlan
    context: SummaryContext
    table: pd.DataFrame
    curve: pd.DataFrame
    tau: dict


def answer_outcome(spec: AnalysisSpec, ospec: OutcomeSpec, pub) -> OutcomeAnswer:
    """Build the plan of one outcome and evaluate its primary and every departure."""
    plan = pl.build_plan(spec, ospec, pub)
    ctx = summary_context(spec, ospec, pub)
    ev = _Evaluator(spec, ospec, ctx)
    rows = []
    thr = spec.decision_threshold
    for dep in plan.departures:
        a = dep.analysis
        try:
            post = ev.posterior(a)
            q = quantities(post, ev.mu[a.mu_prior], ospec, a.margin, 0.95, spec.interval_kind)
            ok = True
        except ValueError:
            q = dict.fromkeys(QUANTITIES, np.nan)
            ok = False
        rows.append({"departure": dep.name, "axis": dep.axis, "value": dep.value, "source": dep.source,
                     "likelihood": a.likelihood, "tau_prior": a.tau_prior or "", "mu_prior": a.mu_prior,
                     "margin": a.margin, "k": a.k if a.k is not None else (ctx.k or 0), "i2": str(a.i2),
                     "rounding": a.rounding, "rho": np.nan if a.rho is None else a.rho, **q, "available": ok})
    t = pd.DataFrame(rows)
    verdict = t["p_decision"] >= thr
    t["flips"] = (verdict != verdict.iloc[0]) & t["available"]
    # P(no worse than d) over d for the primary (native units where an SD is given)
    post = ev.posterior(plan.primary)
    h = 1 if ospec.lower_is_better else -1
    ratio = get_measure(ospec.measure).ratio
    top = max(2.0 * max(float(m) for m in ospec.margins) if not ratio else
              2.0 * max(np.log(float(m)) for m in ospec.margins), 1e-6)
    dd = np.linspace(0.0, top, 121)
    p = np.array([float(post.cdf(x)) if h > 0 else 1.0 - float(post.cdf(-x)) for x in dd])
    curve = pd.DataFrame({"d": np.exp(dd) if ratio else dd, "p_no_worse": p})
    key = next(iter(ev.info), None)
    tau = {}
    pk = (plan.primary.likelihood, plan.primary.tau_prior, plan.primary.mu_prior, plan.primary.k,
          plan.primary.i2, plan.primary.rounding, plan.primary.rho)
    if pk in ev.info and plan.primary.tau_prior is not None:
        tp = ev.info[pk]["tau_post"]
        half = _margin(ospec, plan.primary.margin) / 2
        tau = {"tau_median": float(tp.median()), "p_tau_gt_half_margin": 1.0 - float(tp.cdf(half)),
               "calibration": ev.info[pk]["calibration"], "k_used": ev.info[pk]["k"],
               "q_used": ev.info[pk]["q_used"],
               "prior_p_tau_gt_half_margin": 1.0 - float(ev.tau[plan.primary.tau_prior].cdf(half))}
    del key
    return OutcomeAnswer(plan, ctx, t, curve, tau)


def _certainty(o: OutcomeAnswer, ospec: OutcomeSpec, rob: dict[str, str], pub) -> tuple[str, tuple[str, ...]]:
    """GRADE level word and the codes of the domains rated serious (the report words them)."""
    levels = ("very low", "low", "moderate", "high")
    level = 3
    reasons = []
    raw = pub.get("studies")
    named = [s for s in str(raw).split(";") if s] if isinstance(raw, str) else []
    rl = [rob[s].strip().lower() for s in named if s in rob] or [v.strip().lower() for v in rob.values()]
    if rl:
        n_high = sum(r.startswith("high") for r in rl)
        n_some = sum(r.startswith("some") for r in rl)
        if n_high * 2 >= len(rl) or (n_high + n_some == len(rl) and n_some):
            level -= 1
            reasons.append("risk_of_bias")
    prim = o.table.iloc[0]
    d = _margin(ospec, prim["margin"])
    h = 1 if ospec.lower_is_better else -1
    crosses = (prim["ub95"] > d) if h > 0 else (prim["lb95"] < -d)
    if ospec.question in ("noninferiority", "equivalence") and crosses:
        level -= 1
        reasons.append("imprecision")
    # inconsistency is rated only where the paper prints a heterogeneity statistic: without one the
    # posterior of tau is its prior, and a prior is no evidence of inconsistency
    if (o.tau.get("q_used") and o.tau.get("p_tau_gt_half_margin", 0.0) > 0.5
            and o.tau["p_tau_gt_half_margin"] > o.tau["prior_p_tau_gt_half_margin"]):
        level -= 1
        reasons.append("inconsistency")
    elif o.tau and not o.tau.get("q_used"):
        reasons.append("inconsistency_not_assessable")  # not a downgrade (the report says so)
    if ospec.repeated_timepoints is not None:
        level -= 1
        reasons.append("unit_of_analysis")
    return levels[max(level, 0)], tuple(reasons)



def _rob(data_dir: Path) -> dict[str, str]:
    p = data_dir / "risk_of_bias.csv"
    if not p.exists():
        return {}
    with p.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return {}
    head = [x.strip() for x in rows[0]]
    if "study" not in head or "overall" not in head:
        return {}
    i_s, i_o = head.index("study"), head.index("overall")
    return {r[i_s]: r[i_o] for r in rows[1:] if len(r) > max(i_s, i_o) and r[i_o].strip()}


def answers_dataset(spec: AnalysisSpec, pubs: dict[str, pd.Series]) -> tuple[xr.Dataset, dict[str, OutcomeAnswer]]:
    """Evaluate every ``[[outcome]]``'s plan into the ``answers`` Dataset (module docstring).

    Outcomes are ordered as in the spec, those carrying a unit-of-analysis error last. Departures
    are the union over outcomes (primary first); a departure an outcome does not have is
    ``available = False`` with NaN quantities."""
    res = {o.id: answer_outcome(spec, o, pubs[o.id]) for o in spec.outcomes}
    ospecs = {o.id: o for o in spec.outcomes}
    order = [o.id for o in spec.outcomes if o.repeated_timepoints is None] + \
            [o.id for o in spec.outcomes if o.repeated_timepoints is not None]
    deps: list[str] = ["primary"]
    axis: dict[str, str] = {"primary": "primary"}
    value: dict[str, str] = {"primary": ""}
    for oid in order:
        for r in res[oid].table.itertuples():
            if r.departure not in axis:
                deps.append(r.departure)
                axis[r.departure] = r.axis
                value[r.departure] = r.value
    no, nd = len(order), len(deps)
    arr = {q: np.full((no, nd), np.nan) for q in QUANTITIES}
    flips = np.zeros((no, nd), bool)
    avail = np.zeros((no, nd), bool)
    for i, oid in enumerate(order):
        t = res[oid].table.set_index("departure")
        for j, dname in enumerate(deps):
            if dname in t.index:
                r = t.loc[dname]
                for q in QUANTITIES:
                    arr[q][i, j] = r[q]
                flips[i, j] = bool(r["flips"])
                avail[i, j] = bool(r["available"])
    rob = _rob(spec.data_dir)
    per: dict[str, list] = {k: [] for k in ("published_est", "published_lb", "published_ub", "k", "n_participants",
                                           "sparse", "imprecise", "m1_exceeded", "m1", "certainty",
                                           "serious_domains", "unit_of_analysis_error", "excluded_trials",
                                           "tau_median", "p_tau_gt_half_margin")}
    for oid in order:
        o, ospec, pub = res[oid], ospecs[oid], pubs[oid]
        ratio = get_measure(ospec.measure).ratio
        g = np.log if ratio else (lambda x: x)
        per["published_est"].append(float(g(float(pub["estimate"]))))
        per["published_lb"].append(float(g(float(pub["ci_lb"]))))
        per["published_ub"].append(float(g(float(pub["ci_ub"]))))
        prim = o.table.iloc[0]
        k_used = o.tau.get("k_used", o.context.k)
        per["k"].append(int(k_used) if k_used else 0)
        per["n_participants"].append(int(o.context.n_participants or 0))
        per["sparse"].append(too_sparse(prim["p_decision"], prim["prior_p_decision"], prim["bf_decision"]))
        cert, why = _certainty(o, ospec, rob, pub)
        per["certainty"].append(cert)
        per["imprecise"].append("imprecision" in why)
        per["serious_domains"].append(";".join(why))
        ce = ospec.control_effect
        m1 = _margin(ospec, float(ce["value"])) if ce else np.nan
        per["m1"].append(m1)
        per["m1_exceeded"].append(bool(ce) and _margin(ospec, prim["margin"]) > m1)
        per["unit_of_analysis_error"].append(ospec.repeated_timepoints is not None)
        per["excluded_trials"].append(";".join(o.context.excluded))
        per["tau_median"].append(o.tau.get("tau_median", np.nan))
        per["p_tau_gt_half_margin"].append(o.tau.get("p_tau_gt_half_margin", np.nan))
    od = ("outcome", "departure")
    data_vars: dict[str, tuple] = {q: (od, arr[q]) for q in QUANTITIES}
    data_vars["flips"] = (od, flips)
    data_vars["available"] = (od, avail)
    for kname, vals in per.items():
        data_vars[kname] = ("outcome", np.asarray(vals))
    curve = np.array([res[oid].curve["p_no_worse"].to_numpy() for oid in order])
    dgrid = np.array([res[oid].curve["d"].to_numpy() for oid in order])
    data_vars["curve"] = (("outcome", "d_index"), curve)
    data_vars["curve_d"] = (("outcome", "d_index"), dgrid)

    def nat(o: OutcomeSpec, key: str, default):
        return o.native[key] if o.native is not None else default

    coords = {
        "outcome": order,
        "departure": deps,
        "outcome_label": ("outcome", [ospecs[o].label for o in order]),
        "measure": ("outcome", [ospecs[o].measure for o in order]),
        "question": ("outcome", [ospecs[o].question for o in order]),
        "margin": ("outcome", [_margin(ospecs[o], res[o].plan.primary.margin) for o in order]),
        "native_scale": ("outcome", [float(nat(ospecs[o], "sd", np.nan)) for o in order]),
        "native_unit": ("outcome", [str(nat(ospecs[o], "unit", "")) for o in order]),
        "lower_is_better": ("outcome", [bool(ospecs[o].lower_is_better) for o in order]),
        "departure_axis": ("departure", [axis[d] for d in deps]),
        "departure_value": ("departure", [value[d] for d in deps]),
        "departure_label": ("departure", [departure_label(d, axis[d], value[d]) for d in deps]),
    }
    ds = xr.Dataset(data_vars, coords=coords, attrs={
        "decision_threshold": spec.decision_threshold, "interval_prob": 0.95,
        "interval_kind": spec.interval_kind, "largest_plausible_prob": PLAUSIBLE,
        "sparse_delta": SPARSE_DELTA, "sparse_bf": SPARSE_BF, "experimental": spec.experimental,
        "control": spec.control})
    return ds, res


def departure_label(name: str, axis: str, value: str) -> str:
    """A short label of a departure (words for tables and figures; no sentence)."""
    if axis == "primary":
        return "primary analysis"
    if axis == "effect_prior":
        return {"reference": "flat effect prior", "neutral": "neutral effect prior",
                "sceptical": "sceptical prior (centred on the margin)", "enthusiastic": "enthusiastic prior",
                "favours_control": "prior favouring the control"}.get(value, f"effect prior {value}")
    if axis == "tau_prior":
        return f"heterogeneity prior {value}"
    if axis == "likelihood":
        return "tau fixed at the published value"
    if axis == "heterogeneity":
        if name == "heterogeneity:i2_figure":
            return f"I\u00b2 = {value}% read from the forest plot"
        if value == pl.I2_IGNORED:
            return "printed I\u00b2 not used"
        return f"k = {value} trials"
    if axis == "margin":
        return f"margin {value}"
    if axis == "rounding":
        return "printed numbers taken at face value"
    if axis == "rho":
        return f"within-patient correlation {value}"
    return name


__all__ = ["BF_BOUND", "BF_CATEGORIES", "OutcomeAnswer", "SPARSE_BF", "SPARSE_DELTA", "SummaryContext",
           "answer_outcome", "answers_dataset", "bf_category", "departure_label", "quantities", "summary_context",
           "summary_data", "too_sparse", "zero_event_trials"]
