r"""Everything the published summary of one pooled result supports, in one frozen result.

For a result row of ``published.csv`` (estimate, CI, p, I^2, k, participants, contributing
studies) and the included trials' arm sizes and risk of bias, :func:`reanalyse` runs:

1. **Rounding** (:mod:`~bayesmeta.published.rounding`): the (estimate, SE) consistent with every
   printed number; the analysis uses the centre of that set, and the published-heterogeneity
   probability of non-inferiority is also integrated over it (with bounds).
2. **Which trials** (:mod:`~bayesmeta.published.subsets`): the named studies, else the unique
   subset of trials matching k and participants, else k equal variances (stated).
3. **Published heterogeneity** (tau fixed at the published DL value, here as printed):
   :func:`bayesmeta.published.pooled.posterior_mu` under each decision prior, with prior and
   posterior P(non-inferior) and Box's conflict p (:mod:`bayesmeta.decide.decision_priors`).
4. **Heterogeneity re-opened** (:mod:`~bayesmeta.published.summary_likelihood`): the exact
   summary-level random-effects posterior under every tau prior, and under the decision priors
   with the primary tau prior. This is the primary analysis: it integrates over tau instead of
   fixing it at an estimate of zero from a handful of small trials.
5. **Evidence for an effect** : Bayes factors and model averaging over {common, random} x {no
   effect, effect}, and the Bayes factor of non-inferiority, from the summary likelihood.
6. **Absolute effects** for ratio measures: risk difference per 1,000 at stated baseline risks.
7. **What a bottom line needs** (``statement``: arm labels, margin text, P(non-inferior), the
   contributing studies' risk of bias, P(tau > half the margin), the paper's GRADE rating); the sentence
   and the certainty statement are written by :func:`bayesmeta.report.bottom_line.summary_statement`
   (prose lives in the report layer only).

Nothing here knows a particular paper: labels, margins, priors and baseline risks are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.bayes.priors import Prior
from bayesmeta.decide import decision_priors as dp
from bayesmeta.published import summary_likelihood as sl
from bayesmeta.published.pooled import posterior_mu
from bayesmeta.published.rounding import Reconstruction, carry, reconstruct
from bayesmeta.published.subsets import matching_subsets

RATIO = {"RR", "OR", "HR"}


@dataclass(frozen=True)
class PublishedReanalysis:
    """Result of :func:`reanalyse` (analysis scale: log for ratio measures)."""

    outcome: str
    label: str
    measure: str
    margin: float
    estimate: float
    se: float
    rounding: Reconstruction
    trials: str
    data: sl.SummaryData | None
    decisions: pd.DataFrame
    random_effects: pd.DataFrame
    bma: Any
    absolute: pd.DataFrame | None
    p_ni_published_carried: tuple[float, float, float]
    statement: Any
    notes: tuple[str, ...] = field(default=())

    def primary_p_ni(self) -> float:
        d = self.decisions.set_index("prior")
        col = "re_posterior_p_ni" if self.data is not None else "posterior_p_ni"
        return float(d.loc["neutral", col])


def _trials(row, sizes: dict, k, participants):
    raw = row.get("studies")
    named = (
        []
        if raw is None or (isinstance(raw, float) and np.isnan(raw))
        else [s for s in str(raw).split(";") if s]
    )
    if named:
        if k is not None and len(named) != k:
            return named, f"{len(named)} named studies (k printed {k})"
        return named, f"the {len(named)} studies named for this result"
    if k is not None and participants is not None:
        if k > len(sizes):
            return None, (f"k = {k} studies but arm sizes are known for {len(sizes)}: k equal variances "
                          "reproducing the published SE (approximation)")
        m = matching_subsets({s: int(sum(n)) for s, n in sizes.items()}, k, participants)
        if m.unique:
            return list(m.studies), str(m)
        return None, str(
            m
        ) + "; within-study variances: k equal variances reproducing the published SE (approximation)"
    return None, "neither the contributing studies nor k are printed"


def reanalyse(
    row: dict,
    sizes: dict[str, tuple[int, int]],
    rob: dict[str, str],
    margin: float,
    margin_text: str,
    neutral: Prior,
    tau_priors: dict[str, Prior],
    primary_tau: str,
    experimental: str,
    control: str,
    outcome_text: str,
    lower_is_better: bool = True,
    baseline_risks=(),
    unit_of_analysis_error: bool = False,
    timepoint_text: str = "",
    published_grade: str | None = None,
    n_tau: int = 121,
    n_mu: int = 1201,
    bma_prior_mu: Prior | None = None,
    bma_prior_tau: Prior | None = None,
) -> PublishedReanalysis:
    """Reanalyse one published pooled result from its summary (see the module docstring).

    ``margin`` is on the analysis scale (log for ratios), positive, on the harmful side given by
    ``lower_is_better``; ``sizes`` maps each included study to its (n_experimental, n_control).
    """
    # missing values may arrive as None, NaN or pandas.NA: make them all None
    row = {k: (None if (v is None or (np.ndim(v) == 0 and not isinstance(v, str) and pd.isna(v))) else v)
           for k, v in dict(row).items()}
    measure = str(row["measure"]).upper()
    ratio = measure in RATIO
    h = 1 if lower_is_better else -1
    notes = []
    p = None if row.get("p") in (None, "") or pd.isna(row.get("p")) else float(row["p"])
    rec = reconstruct(
        float(row["estimate"]),
        float(row["ci_lb"]),
        float(row["ci_ub"]),
        p=p,
        p_relation=str(row.get("p_relation") or "="),
        decimals=int(row.get("decimals") or 2),
        measure=measure,
    )
    if rec.feasible:
        pts = rec.grid(11)
        m, s = (float(v) for v in pts.mean(axis=0))
    else:
        naive = rec.centred_reading()
        m, s = naive["estimate"], naive["se"]
        notes.append("printed numbers inconsistent: the centred reading is used")
    k = None if pd.isna(row.get("k_studies")) or row.get("k_studies") in ("", None) else int(row["k_studies"])
    npart = (
        None
        if pd.isna(row.get("participants")) or row.get("participants") in ("", None)
        else int(row["participants"])
    )
    studies, trials_text = _trials(row, sizes, k, npart)
    if studies is not None and any(x not in sizes for x in studies):
        unknown = [x for x in studies if x not in sizes]
        k = len(studies)
        studies = None
        trials_text += (f"; arm sizes unknown for {', '.join(unknown)}: k equal variances reproducing the "
                        "published SE (approximation)")
    priors = dp.decision_priors(margin, h, neutral)

    # 3. published heterogeneity (tau as published), decision priors
    dec = dp.decision_table(m, s, margin, priors, harmful_sign=h)
    carried = (
        carry(rec, lambda mm, ss: _p_ni(posterior_mu(mm, ss, neutral, n=4001), margin, h), n=7)
        if rec.feasible
        else None
    )
    pc = (carried.value, carried.lower, carried.upper) if carried else (np.nan, np.nan, np.nan)

    # 4. summary-level random effects
    data = None
    re_rows = []
    if studies is not None or k is not None:
        if studies is not None:
            n1 = np.array([sizes[x][0] for x in studies], float)
            n2 = np.array([sizes[x][1] for x in studies], float)
            v_rel = sl.smd_variance(n1, n2, m) if not ratio else 1.0 / (n1 + n2)
            if ratio:
                notes.append(
                    "log-ratio within-study variances taken inversely proportional to trial size "
                    "(event counts are not printed)"
                )
        else:
            v_rel = np.ones(int(k or 0))
        kk = len(v_rel)
        i2 = row.get("i2")
        qint = None
        if i2 not in (None, "") and not pd.isna(i2) and k is not None:
            qint = sl.q_interval_from_i2(float(i2), kk, 0)
        elif i2 not in (None, "") and not pd.isna(i2):
            notes.append(
                f"I^2 = {float(i2):g}% is printed but k is not (rows pool several time points): "
                "it is not used"
            )
        data = sl.summary_data(m, s, v_rel, q_interval=qint)
        for name, tp in tau_priors.items():
            post = sl.posterior(data, tp, neutral, n_tau=n_tau, n_mu=n_mu)
            lo, hi = post.mu.interval(0.95, "hdi")
            nlo, nhi = post.theta_new.interval(0.95, "hdi")
            re_rows.append(
                {
                    "tau_prior": name,
                    "mu_median": post.mu.median(),
                    "mu_hdi95_lb": lo,
                    "mu_hdi95_ub": hi,
                    "tau_median": post.tau.median(),
                    "tau_hdi95_ub": post.tau.interval(0.95, "hdi")[1],
                    "theta_new_hdi95_lb": nlo,
                    "theta_new_hdi95_ub": nhi,
                    "p_ni": _p_ni(post.mu, margin, h),
                    "p_tau_gt_half_margin": post.prob("tau", margin / 2, "above"),
                    "prior_p_tau_below_005": float(tp.cdf(0.05)),
                    "primary": name == primary_tau,
                }
            )
        tp = tau_priors[primary_tau]
        dec["re_posterior_p_ni"] = [
            _p_ni(sl.posterior(data, tp, pr, n_tau=n_tau, n_mu=n_mu).mu, margin, h) for pr in priors.values()
        ]
    re = pd.DataFrame(re_rows)

    # 5. Bayes factors
    bma = None
    if data is not None:
        bma = sl.model_average(
            data,
            bma_prior_mu or neutral,
            bma_prior_tau or tau_priors[primary_tau],
            margin=h * margin,
            harm_above=h > 0,
            n_tau=n_tau,
            n_mu=2 * n_mu,
        )

    # 6. absolute effects
    absolute = None
    if ratio and baseline_risks:
        if data is not None:
            post = sl.posterior(data, tau_priors[primary_tau], neutral, n_tau=n_tau, n_mu=n_mu)
            q = np.exp(post.mu.ppf([0.025, 0.5, 0.975]))
        else:
            q = np.exp(posterior_mu(m, s, neutral).ppf([0.025, 0.5, 0.975]))

        def _rr(ratio_q, b):  # an OR at control risk b is the RR or / (1 - b + b or)
            return ratio_q / (1 - b + b * ratio_q) if measure == "OR" else ratio_q

        absolute = pd.DataFrame(
            [
                {
                    "baseline_risk": b,
                    "rd_per_1000_median": float(dp.risk_difference_per_1000(_rr(q[1], b), b)),
                    "rd_per_1000_lb": float(dp.risk_difference_per_1000(_rr(q[0], b), b)),
                    "rd_per_1000_ub": float(dp.risk_difference_per_1000(_rr(q[2], b), b)),
                }
                for b in baseline_risks
            ]
        )

    # 7. what a bottom line needs (the report writes it: report/bottom_line.summary_statement)
    res = PublishedReanalysis(
        str(row["analysis"]),
        str(row.get("label") or row["analysis"]),
        measure,
        margin,
        m,
        s,
        rec,
        trials_text,
        data,
        dec,
        re,
        bma,
        absolute,
        pc,
        {},
        tuple(notes),
    )
    rob_list = [rob[x] for x in (studies or []) if x in rob] or list(rob.values())
    p_tau = None
    if data is not None and data.q_interval is not None and len(re):
        p_tau = float(re[re.primary].p_tau_gt_half_margin.iloc[0])
    statement = {
        "experimental": experimental, "control": control, "outcome": outcome_text, "margin_text": margin_text,
        "timepoint": timepoint_text, "p_ni": res.primary_p_ni(), "rob": tuple(rob_list), "p_tau_large": p_tau,
        "unit_of_analysis_error": unit_of_analysis_error, "published_grade": published_grade,
    }
    return replace(res, statement=statement)


def _p_ni(dist, margin: float, h: int) -> float:
    c = float(dist.cdf(h * margin))
    return c if h > 0 else 1.0 - c


__all__ = ["DEFAULT_BASELINE_RISKS", "PublishedReanalysis", "from_data_folder", "reanalyse", "timepoint_phrase"]


#: Illustrative control-arm risks for absolute effects when the spec states none (ASSUMPTION,
#: printed as such): the event counts behind a published ratio are often not in its text.
DEFAULT_BASELINE_RISKS = (0.01, 0.05, 0.10)


def timepoint_phrase(tp: str) -> str:
    """'1m' -> 'at 1 month', '2w' -> 'at 2 weeks', 'overall' -> 'over all follow-up visits pooled'."""
    import re
    tp = str(tp or "").strip()
    m = re.fullmatch(r"(\d+)\s*([dwmy])", tp)
    if m:
        n, u = int(m.group(1)), {"d": "day", "w": "week", "m": "month", "y": "year"}[m.group(2)]
        return f"at {n} {u}{'s' if n != 1 else ''}"
    if tp == "overall":
        return "over all follow-up visits pooled"
    return ""


def from_data_folder(data_dir, ospec, pub, mu_priors: dict, neutral_name: str, tau_priors: dict,
                     primary_tau: str, experimental: str, control: str, baseline_risks=None,
                     n_tau: int = 81, n_mu: int = 801) -> PublishedReanalysis:
    """:func:`reanalyse` for one spec outcome, reading arm sizes (``studies.csv``: study,
    n_experimental, n_control) and overall risk of bias (``risk_of_bias.csv``: study, overall,
    optional) from the data folder. Margins: the spec's primary margin (ratio measures on the log
    scale); native-unit text from the spec's ``native`` block."""
    import warnings
    from pathlib import Path
    data_dir = Path(data_dir)
    sizes: dict[str, tuple[int, int]] = {}
    if (data_dir / "studies.csv").exists():
        st = pd.read_csv(data_dir / "studies.csv", index_col=False)
        if {"study", "n_experimental", "n_control"} <= set(st.columns):
            sizes = {str(r.study): (int(r.n_experimental), int(r.n_control)) for r in st.itertuples()
                     if pd.notna(r.n_experimental) and pd.notna(r.n_control)}

    rob_file = data_dir / "risk_of_bias.csv"
    rob = {}
    if rob_file.exists():
        # csv.reader, not pandas: an unquoted comma in a trailing free-text column (source) must not
        # shift the columns before it
        import csv
        with rob_file.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        if rows:
            head = [h.strip() for h in rows[0]]
            if "study" in head and "overall" in head:
                i_s, i_o = head.index("study"), head.index("overall")
                rob = {r[i_s]: r[i_o] for r in rows[1:] if len(r) > max(i_s, i_o) and r[i_o].strip()}
    ratio = ospec.measure.upper() in RATIO
    m0 = float(ospec.margins[0])
    margin = float(np.log(m0)) if ratio else m0
    nat = ospec.native
    if ratio:
        mtext = f"a risk ratio of {m0:g}"
    elif nat:
        x = m0 * float(nat["sd"])
        unit = str(nat["unit"]).replace("points", "point", 1) if x == 1 else str(nat["unit"])
        mtext = f"{x:g} {unit} (SMD {m0:g})"
    else:
        mtext = f"{ospec.measure} {m0:g}"
    row = dict(pub)
    row["analysis"] = ospec.id
    row["label"] = ospec.label
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # inverse-gamma tau priors: flagged in the tables
        return reanalyse(row, sizes, rob, margin, mtext, mu_priors[neutral_name], tau_priors, primary_tau,
                         experimental, control, "", ospec.lower_is_better,
                         baseline_risks=(DEFAULT_BASELINE_RISKS if baseline_risks is None else baseline_risks)
                         if ratio else (),
                         unit_of_analysis_error=ospec.repeated_timepoints is not None,
                         timepoint_text="",
                         published_grade=None if pd.isna(row.get("grade")) else str(row.get("grade")),
                         n_tau=n_tau, n_mu=n_mu)
