r"""Influence, small-study and meta-regression analyses of one study-level outcome (frozen results).

:func:`diagnose` runs, for one outcome's study estimates:

* frequentist leave-one-out and case-deletion diagnostics of the random-effects fit
  (:func:`bayesmeta.frequentist.influence.leave1out`, :func:`~bayesmeta.frequentist.influence.influence`:
  studentized residuals, DFFITS, Cook's distance, covariance ratio, hat values, DFBETAS), with the
  studies flagged influential by metafor's rules (``influence.rma.uni``: :math:`|DFFITS| > 3\sqrt{p/(k-p)}`,
  :math:`P(\chi^2_p \le D_i) > 0.5` for Cook's distance :math:`D_i`, hat :math:`> 3p/k`, any
  :math:`|DFBETAS| > 1`; Viechtbauer & Cheung 2010, doi:10.1002/jrsm.11), and the Baujat data;
* GOSH (all :math:`2^k - 1` subsets up to ``gosh_max_k`` studies, a random sample of subsets
  beyond; DerSimonian-Laird in closed form, so every subset is fitted exactly);
* exact Bayesian leave-one-out under the primary priors
  (:func:`bayesmeta.bayes.influence.bayes_leave1out`, plus the decision probability of the spec's
  question without each study);
* small-study effects: the funnel plot, Egger's regression test and trim-and-fill only when
  :math:`k \ge 10` (Cochrane Handbook 6.5, section 13.3.5.4: with fewer studies the tests cannot
  tell chance from asymmetry), and the Bayesian PET-PEESE model averaging
  (:func:`bayesmeta.bayes.bias.pet_peese`) with its statement of what it can say at this k.

:func:`meta_regression` fits one moderator (from the study table, :mod:`bayesmeta.data.moderators`)
as metafor's ``rma(yi, vi, mods = ~ x)`` (REML with the z test, metafor's default, and REML with
Knapp-Hartung; a further estimator, e.g. a preset's, on request) and as R bayesmeta's ``bmr``
(exact: one-dimensional integration over :math:`\tau`; flat prior on the coefficients, the
primary prior on :math:`\tau`). Nothing here writes a file: the report renders the results.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy import special, stats

from bayesmeta._progress import step
from bayesmeta.bayes.bias import BiasResult, PublicationBiasAverage, pet_peese, publication_bias_average
from bayesmeta.bayes.exact import solve
from bayesmeta.bayes.metareg import BMRPosterior, bmr
from bayesmeta.bayes.priors import Prior
from bayesmeta.data.moderators import Moderator
from bayesmeta.decide.decision import Orientation, decision_table
from bayesmeta.frequentist.influence import baujat, gosh, influence, leave1out
from bayesmeta.frequentist.metareg import MetaRegResult, design_matrix, rma_mods
from bayesmeta.frequentist.rma import RMAResult, rma
from bayesmeta.frequentist.small_study import TrimFillResult, funnel_data, regtest, trimfill

__all__ = [
    "MIN_K_SMALL_STUDY",
    "GOSH_MAX_K",
    "CASE_DELETION_MAX_K",
    "BIAS_AVERAGE_MAX_K",
    "SMALL_STUDY_MAX_K",
    "PPC_PANEL_MAX_STUDIES",
    "Skipped",
    "ppc_draws",
    "Diagnostics",
    "MetaRegression",
    "diagnose",
    "influential",
    "meta_regression",
]

MIN_K_SMALL_STUDY = 10
"""Funnel plot, Egger's test and trim-and-fill need at least this many studies (Handbook 13.3.5.4)."""
GOSH_MAX_K = 15
"""GOSH fits every subset up to this many studies (32,767 subsets); beyond, a random sample."""
GOSH_SAMPLE = 2**15
GOSH_LIMIT_K = 50
"""No GOSH plot beyond this many studies (a random sample of subsets shows no study-level clusters)."""
PET_PEESE_BUDGET = 8e6
"""Grid nodes x studies of PET-PEESE's 2-d integrals: 400 nodes per parameter up to k = 50, fewer beyond."""
CASE_DELETION_MAX_K = 500
"""Case deletion refits every study's deletion: k fits of k - 1 studies (quadratic work: metafor's
leave1out, influence and Baujat refit the random-effects model, the Bayesian leave-one-out table
solves the exact posterior per deleted study). Beyond this many studies they are not run (the
result says so in :attr:`Diagnostics.skipped`); the exact leave-one-out predictive checks, computed
for all studies at once by downdating (:func:`bayesmeta.decide.checks.exact_loo`), still are."""
SMALL_STUDY_MAX_K = 5000
"""Egger's regression test is a meta-regression on the standard error, fitted as metafor does with
k x k projection matrices (200 MB at k = 5,000, 3.2 GB at 20,000), and PET-PEESE integrates on a grid
of at least 60 x 60 prior quantiles for every study (576 MB per array at 20,000); beyond this many
studies the funnel plot, Egger's test, trim-and-fill and PET-PEESE are not run (``Diagnostics.skipped``)."""
BIAS_AVERAGE_MAX_K = 1000
"""The RoBMA-style publication-bias average integrates each of its selection models on 48 x 41 x 3^steps
quadrature nodes for every study (about 18,000 node evaluations per study and model: minutes at
k = 2,000). Beyond this many studies it is not run (``Diagnostics.skipped``); PET-PEESE, whose grid
shrinks with k (:data:`PET_PEESE_BUDGET`), still is."""
PPC_DRAW_BUDGET = 8_000_000
"""Posterior predictive draws x studies: 20,000 draws up to k = 400, fewer beyond (4,000 at k = 2,000,
where a predictive p-value's Monte Carlo SE is at most 0.008; at least 1,000), so that the replicated
data stay below 64 MB and the check below ~2 s (it took 4.3 s at k = 2,000 with 2e7)."""
PPC_MAX_DRAWS = 20_000
PPC_MIN_DRAWS = 1_000
PPC_PANEL_MAX_STUDIES = 60
"""The per-study predictive-check panel shows at most this many studies (those with the most extreme
predictive p-values) and says so; the check's table keeps every study."""


def ppc_draws(k: int) -> int:
    """Number of posterior draws of the predictive check for k studies (see :data:`PPC_DRAW_BUDGET`)."""
    return int(min(PPC_MAX_DRAWS, max(PPC_MIN_DRAWS, PPC_DRAW_BUDGET // max(k, 1))))


@dataclass(frozen=True)
class Skipped:
    """A diagnostic not run, and why (the report turns it into a sentence)."""

    what: str  # e.g. "case_deletion"
    k: int
    limit: int
    reason: str  # short, structured: "quadratic in k"


def influential(infl: pd.DataFrame, p: int = 1) -> pd.DataFrame:
    """metafor's rules for an influential study (``influence.rma.uni``, ``is.infl``).

    Returns one boolean column per rule (``flag_dffits``, ``flag_cook``, ``flag_hat``,
    ``flag_dfbetas``), ``influential`` (any of them) and ``flags`` (the rules met, as text).
    """
    k = len(infl)
    dfb = infl[[c for c in infl.columns if c.startswith("dfbetas_")]].abs()
    rules = {
        "flag_dffits": (infl["dffits"].abs() > 3 * np.sqrt(p / (k - p))).to_numpy(),
        "flag_cook": (stats.chi2.cdf(infl["cook_d"].to_numpy(float), df=p) > 0.5),
        "flag_hat": (infl["hat"] > 3 * p / k).to_numpy(),
        "flag_dfbetas": (dfb > 1).any(axis=1).to_numpy(),
    }
    names = {"flag_dffits": "DFFITS", "flag_cook": "Cook's D", "flag_hat": "hat", "flag_dfbetas": "DFBETAS"}
    out = pd.DataFrame(rules, index=infl.index)
    out["influential"] = out.any(axis=1)
    out["flags"] = [", ".join(names[c] for c in rules if out.at[i, c]) for i in out.index]
    return out


@dataclass(frozen=True)
class Diagnostics:
    """Influence and small-study diagnostics of one study-level outcome (see the module docstring).

    ``fit`` is the frequentist random-effects fit the diagnostics refer to; ``influence`` carries
    metafor's columns and the flags of :func:`influential`; ``bayes_loo`` one row per deleted
    study under the primary priors (``p_decision`` is the probability named ``decision_label``
    without that study, ``p_decision_full`` with all studies). ``funnel``, ``regtest`` and
    ``trimfill`` are None when :math:`k < 10` (``small_study_note`` says why).
    """

    k: int
    method: str
    fit: RMAResult
    leave1out: pd.DataFrame
    influence: pd.DataFrame
    baujat: pd.DataFrame
    gosh: pd.DataFrame | None
    gosh_note: str
    bayes_loo: pd.DataFrame
    decision_label: str
    p_decision_full: float
    funnel: dict | None
    regtest: dict | None
    trimfill: TrimFillResult | None
    small_study_note: str
    pet_peese: BiasResult | None
    pet_peese_note: str
    notes: tuple[str, ...] = ()
    bias_average: PublicationBiasAverage | None = None  # RoBMA-style average incl. selection models
    bias_average_note: str = ""
    skipped: tuple[Skipped, ...] = ()  # diagnostics not run (e.g. case deletion beyond CASE_DELETION_MAX_K)

    @property
    def case_deletion(self) -> bool:
        """Whether the case-deletion diagnostics (leave-one-out refits, influence, Baujat) were run."""
        return not any(s.what == "case_deletion" for s in self.skipped)


@dataclass(frozen=True)
class MetaRegression:
    """One moderator's meta-regression: frequentist fits, the exact Bayesian fit, fitted lines.

    ``data`` holds per study ``study``, ``yi``, ``vi``, the moderator value and the REML weight
    (percent); ``fits`` maps an analysis label to metafor-equivalent fits; ``bayes`` is the exact
    posterior (flat coefficients, primary tau prior); ``table`` one row per fit and coefficient
    (``estimate``, ``se``, interval ``lb``/``ub``, ``pval``, residual ``tau``, ``R2``); ``line`` the
    fitted mean over the moderator (continuous: a grid; categorical: one row per level) with the
    frequentist CI and the Bayesian interval.
    """

    moderator: Moderator
    data: pd.DataFrame
    fits: dict[str, MetaRegResult]
    bayes: BMRPosterior | None
    table: pd.DataFrame
    line: pd.DataFrame
    tau0: dict[str, float]  # residual-free tau of the intercept-only model per analysis
    interval: str  # e.g. "95% CI / 95% ETI"
    note: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def prior_text(p: Prior) -> str:
    """A prior with its parameters, e.g. ``halfnormal(scale=0.5)`` (the label alone may be a family name)."""
    args = ", ".join(f"{k}={v:g}" for k, v in dict(p.params).items())
    return f"{p.family}({args})"


def _decision(orientation: Orientation, question: str, margin: float | None) -> tuple[str, str]:
    """(column of decision_table, label) of the probability that answers the spec's question."""
    if question in ("noninferiority", "equivalence") and margin is not None:
        return "p_noninferior", f"P(non-inferior, margin {margin:g})"
    return "p_benefit", f"P(benefit) = P({orientation.benefit_text()})"  # the spec's superiority threshold


def _pet_peese_prior(mu_prior: Prior) -> tuple[float, float, str]:
    """Normal prior on mu for PET-PEESE (conjugate): the primary prior when normal, else matched."""
    fam, p = mu_prior.family, dict(mu_prior.params)
    if fam == "normal":
        return p["loc"], p["scale"], f"the primary prior on mu, {prior_text(mu_prior)}"
    if fam == "studentt":
        return (
            p["loc"],
            p["scale"],
            f"normal(loc={p['loc']:g}, scale={p['scale']:g}), the normal with the location and scale of the "
            f"primary prior {prior_text(mu_prior)} (PET-PEESE integrates mu in closed form, which needs a normal prior)",
        )
    return 0.0, 10.0, "normal(loc=0, scale=10) (the primary prior on mu is flat; PET-PEESE needs a proper normal)"


def _loo_row(i, yi, sei, labels, tau_prior, mu_prior, prob, kind, pct, margins, orientation, col, p_full,
             m_full, sd_full) -> dict:
    """One row of the Bayesian leave-one-out table: the exact posterior without study i."""
    k = yi.size
    keep = np.arange(k) != i
    post = solve(yi[keep], sei[keep], tau_prior, mu_prior)
    lo, hi = post.mu.interval(prob, kind)
    p = float(decision_table(post.mu, margins, orientation)[col].iloc[0])
    tn = post.theta_new
    return {
        "study": labels[i],
        "mu_median": post.mu.median(),
        f"mu_{kind}{pct}_lb": lo,
        f"mu_{kind}{pct}_ub": hi,
        "tau_median": post.tau.median(),
        "shift_sd": (post.mu.mean() - m_full) / sd_full,
        "p_decision": p,
        "p_decision_change": p - p_full,
        "p_loo": float(np.sum(tn.w * special.ndtr((yi[i] - tn.m) / np.sqrt(tn.s**2 + sei[i] ** 2)))),
    }


def diagnose(
    yi,
    vi,
    labels,
    *,
    tau_prior: Prior,
    mu_prior: Prior,
    orientation: Orientation,
    question: str = "noninferiority",
    margin: float | None = None,
    method: str = "REML",
    prob: float = 0.95,
    kind: str = "hdi",
    seed: int = 0,
    gosh_max_k: int = GOSH_MAX_K,
    case_deletion_max_k: int = CASE_DELETION_MAX_K,
    bias_average_max_k: int = BIAS_AVERAGE_MAX_K,
    small_study_max_k: int = SMALL_STUDY_MAX_K,
) -> Diagnostics:
    """Influence and small-study diagnostics of one outcome (see the module docstring).

    Parameters
    ----------
    yi, vi, labels : study estimates (analysis scale), their variances and labels.
    tau_prior, mu_prior : the primary priors (Bayesian leave-one-out, PET-PEESE).
    orientation, question, margin : what the decision probability of the leave-one-out table is
        (``p_noninferior`` at ``margin`` for non-inferiority, else ``p_benefit``).
    method : tau^2 estimator of the frequentist fit (metafor code; z test).
    prob, kind : interval of the Bayesian leave-one-out table.
    seed : seed of the GOSH subset sample (only used when k > ``gosh_max_k``).
    case_deletion_max_k : beyond this many studies the case-deletion diagnostics are not run
        (:data:`CASE_DELETION_MAX_K`; ``skipped`` says so).
    bias_average_max_k : beyond this many studies the publication-bias average is not run
        (:data:`BIAS_AVERAGE_MAX_K`).
    small_study_max_k : beyond this many studies funnel, Egger's test and trim-and-fill are not run
        (:data:`SMALL_STUDY_MAX_K`).
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    labels = [str(s) for s in labels]
    k = yi.size
    sei = np.sqrt(vi)
    fit = rma(yi, vi, method=method, test="z", level=prob, labels=labels)
    notes: list[str] = []
    skipped: list[Skipped] = []
    case_deletion = k <= case_deletion_max_k
    if case_deletion:
        with step(f"case-deletion diagnostics ({k} refits)"):
            l1o = leave1out(fit)
            infl = influence(fit)
            infl = pd.concat([infl, influential(infl, 1)], axis=1)
            bj = baujat(fit)
    else:
        skipped.append(Skipped("case_deletion", k, case_deletion_max_k, "quadratic in k"))
        l1o, infl, bj = pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    gfit = rma(yi, vi, method="DL", level=prob, labels=labels)
    g: pd.DataFrame | None
    if k > GOSH_LIMIT_K:
        g = None
        skipped.append(Skipped("gosh", k, GOSH_LIMIT_K, "a sample of subsets shows no clusters"))
        gnote = (
            f"GOSH not drawn: with k = {k} studies (more than {GOSH_LIMIT_K}) a sample of subsets cannot show "
            "which studies form clusters; the case-deletion diagnostics above cover influence."
        )
    elif k <= gosh_max_k:
        with step("GOSH"):
            g = gosh(gfit, max_subsets=2**k)
        gnote = (
            f"GOSH: all {2**k - 1:,} subsets of the {k} studies, each fitted by DerSimonian-Laird "
            "(closed form, as metafor's gosh() for DL)."
        )
    else:
        with step("GOSH"):
            g = gosh(gfit, max_subsets=GOSH_SAMPLE, seed=seed)
        gnote = (
            f"GOSH: a random sample of {len(g):,} of the {2**k - 1:,} subsets of the {k} studies (seed {seed}; "
            "subset sizes from Binomial(k, 1/2), as metafor), each fitted by DerSimonian-Laird."
        )
    # exact Bayesian leave-one-out under the primary priors
    col, dlabel = _decision(orientation, question, margin)
    margins = [margin] if margin is not None else [0.0 if not orientation.is_ratio else 1.0]
    full = solve(yi, sei, tau_prior, mu_prior)
    p_full = float(decision_table(full.mu, margins, orientation)[col].iloc[0])
    pct = round(prob * 100)
    rows = []
    # one exact fit per deleted study, shared by the table's columns and by shift_sd and p_loo (the
    # same formulas as bayes_leave1out, which would refit every study a second time)
    m_full, sd_full = full.mu.mean(), full.mu.sd()
    bayes_steps = step(f"Bayesian leave-one-out ({k} exact fits)") if case_deletion else nullcontext()
    with bayes_steps:
        for i in range(k if case_deletion else 0):
            rows.append(_loo_row(i, yi, sei, labels, tau_prior, mu_prior, prob, kind, pct, margins, orientation,
                                 col, p_full, m_full, sd_full))
    bloo = pd.DataFrame(rows)
    # small-study effects
    fd: dict | None
    rt: dict | None
    tf: TrimFillResult | None
    if k > small_study_max_k:
        fd = rt = tf = None
        skipped.append(Skipped("small_study", k, small_study_max_k, "k x k projection matrices"))
        ss_note = (
            f"Funnel plot, Egger's test and trim-and-fill are not shown: with k = {k:,} studies Egger's "
            f"meta-regression would need k x k matrices as metafor forms them (run up to k = {small_study_max_k:,}); "
            "PET-PEESE, the other adjustment for small-study effects, is not run at this k either (below)."
        )
    elif k >= MIN_K_SMALL_STUDY:
        with step("funnel, Egger's test and trim-and-fill"):
            fd, rt, tf = funnel_data(fit, level=prob), regtest(fit), trimfill(fit)
        ss_note = (
            f"k = {k} studies (at least {MIN_K_SMALL_STUDY}): funnel plot, Egger's regression test and "
            "trim-and-fill are shown; asymmetry can have causes other than publication bias "
            "(heterogeneity, chance, differences between small and large studies)."
        )
    else:
        fd = rt = tf = None
        ss_note = (
            f"Funnel plot, Egger's test and trim-and-fill are not shown: with k = {k} studies (fewer than "
            f"{MIN_K_SMALL_STUDY}) tests for funnel asymmetry are too weak to tell chance from asymmetry "
            "(Cochrane Handbook 6.5, section 13.3.5.4)."
        )
    direction = "negative" if orientation.lower_is_better else "positive"
    if k > small_study_max_k:
        pp = None
        skipped.append(Skipped("pet_peese", k, small_study_max_k, "grid of n^2 x k values"))
        pp_note = (
            f"PET-PEESE not run: with k = {k:,} studies its grid over the prior quantiles of tau and the bias "
            f"coefficient (at least 60 x 60 nodes for every study: over 500 MB per array at k = 20,000) neither "
            f"fits in memory nor resolves a posterior this narrow (run up to k = {small_study_max_k:,})."
        )
    elif tau_prior.proper and k >= 3:
        m0, s0, prior_txt = _pet_peese_prior(mu_prior)
        n_grid = int(min(400, max(60, np.sqrt(PET_PEESE_BUDGET / k))))
        with step("PET-PEESE"):
            pp = pet_peese(yi, sei, tau_prior, mu_mean=m0, mu_sd=s0, direction=direction, n_grid=n_grid)
        pp_note = (
            f"PET-PEESE model averaging (exact; RoBMA's priors on the bias terms, restricted to small studies "
            f"favouring {orientation.experimental}; mu prior {prior_txt}; tau prior {prior_text(tau_prior)}"
            + (f"; quantile grids of {n_grid} nodes per parameter" if n_grid < 400 else "")
            + "). "
            + pp.statement()
        )
    else:
        pp = None
        pp_note = (
            "PET-PEESE not run: it needs a proper prior on tau"
            if not tau_prior.proper
            else "PET-PEESE not run: it needs at least 3 studies"
        )
    # RoBMA-style average over no bias, PET, PEESE and two selection models (bayes/bias.py); the
    # quadrature at reduced resolution (log marginal likelihoods within ~5e-3, quantiles within 1e-3 SD)
    ba: PublicationBiasAverage | None = None
    if k > bias_average_max_k:
        skipped.append(Skipped("bias_average", k, bias_average_max_k, "selection-model quadrature per study"))
        ba_note = (
            f"Publication-bias model averaging not run: with k = {k:,} studies its selection models need about "
            f"18,000 quadrature nodes per study and model (run up to k = {bias_average_max_k:,})"
            + ("; PET-PEESE above adjusts for small-study effects." if pp is not None else ".")
        )
    elif tau_prior.proper and k >= 3:
        mp_ba = mu_prior if mu_prior.proper else Prior("normal", MappingProxyType({"loc": 0.0, "scale": 10.0}), "mu")
        with step("publication-bias model averaging"):
            ba = publication_bias_average(yi, sei, mp_ba, tau_prior, direction=direction, prob=prob,
                                          n_mu=48, n_tau=41, n_omega=3)
        ba_note = (
            f"Model averaging over publication-bias adjustments as RoBMA does (exact quadrature, no sampling): "
            f"no bias, PET, PEESE and one-sided selection models with steps at p = 0.025 and 0.025/0.05 "
            f"(favouring {orientation.experimental}), each with and without an effect and heterogeneity; "
            f"mu prior {prior_text(mp_ba)}, tau prior {prior_text(tau_prior)}. " + ba.statement()
        )
    else:
        ba_note = (
            "Publication-bias model averaging not run: it needs a proper prior on tau"
            if not tau_prior.proper
            else "Publication-bias model averaging not run: it needs at least 3 studies"
        )
    return Diagnostics(
        k=k,
        method=method,
        fit=fit,
        leave1out=l1o,
        influence=infl,
        baujat=bj,
        gosh=g,
        gosh_note=gnote,
        bayes_loo=bloo,
        decision_label=dlabel,
        p_decision_full=p_full,
        funnel=fd,
        regtest=rt,
        trimfill=tf,
        small_study_note=ss_note,
        pet_peese=pp,
        pet_peese_note=pp_note,
        notes=tuple(notes),
        bias_average=ba,
        bias_average_note=ba_note,
        skipped=tuple(skipped),
    )


def meta_regression(
    yi,
    vi,
    labels,
    frame: pd.DataFrame,
    moderator: Moderator,
    *,
    tau_prior: Prior,
    prob: float = 0.95,
    extra: tuple[str, ...] | None = None,
    n_line: int = 61,
) -> MetaRegression:
    """Meta-regression of the estimates on one moderator (see the module docstring).

    Parameters
    ----------
    yi, vi, labels : the outcome's studies.
    frame : pandas.DataFrame
        Moderator values indexed by study (:func:`bayesmeta.data.moderators.moderator_frame`).
    moderator : Moderator
    tau_prior : Prior
        Primary prior on tau of the Bayesian fit (coefficients: flat, as bmr's default).
    prob : float
        Level of the CIs and credible intervals.
    extra : (method, test[, note]), optional
        A further frequentist fit (e.g. a preset's estimator; ``test`` "z" or "knha"), labelled with
        ``note`` (e.g. "preset revman5"); skipped when it is one of the two REML fits.
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    labels = [str(s) for s in labels]
    k = yi.size
    table = frame.loc[labels, [moderator.name]].copy()
    X, names = design_matrix(table, moderator.name)
    pct = round(prob * 100)
    analyses = [("REML", "z", "REML (metafor default, z)"), ("REML", "knha", "REML + Knapp-Hartung")]
    if extra is not None and (extra[0].upper(), extra[1]) not in {("REML", "z"), ("REML", "knha")}:
        m_, t_ = extra[0].upper(), extra[1]
        lab = f"{m_} + Knapp-Hartung" if t_ == "knha" else f"{m_}, z"
        if len(extra) > 2:
            lab += f" ({extra[2]})"
        analyses.append((m_, t_, lab))
    data = pd.DataFrame({"study": labels, "yi": yi, "vi": vi, moderator.name: table[moderator.name].to_numpy()})
    rank = np.linalg.matrix_rank(X)
    if X.shape[1] < 2 or rank < X.shape[1] or k - X.shape[1] < 2:
        why = (
            f"{moderator.name!r} takes a single value among the {k} studies"
            if X.shape[1] < 2 or rank < X.shape[1]
            else f"{k} studies for {X.shape[1]} coefficients leave fewer than 2 degrees of freedom"
        )
        return MetaRegression(
            moderator, data, {}, None, pd.DataFrame(), pd.DataFrame(), {}, "", note=f"Not estimable: {why}."
        )
    fits: dict[str, MetaRegResult] = {}
    tau0: dict[str, float] = {}
    rows = []
    for method, test, lab in analyses:
        m = rma_mods(yi, vi, X, names=names, method=method, test=test, level=prob)
        fits[lab] = m
        r0 = rma(yi, vi, method=method, test=test, level=prob)
        tau0[lab] = float(np.sqrt(r0.tau2))
        for j, term in enumerate(names):
            rows.append(
                {
                    "analysis": lab,
                    "term": term,
                    "estimate": float(m.beta[j]),
                    "se": float(m.se[j]),
                    "lb": float(m.ci_lb[j]),
                    "ub": float(m.ci_ub[j]),
                    "interval": f"{pct}% CI" + (f", t({m.df})" if m.df is not None else ""),
                    "pval": float(m.pval[j]),
                    "tau_residual": float(np.sqrt(m.tau2)),
                    "tau_no_moderator": tau0[lab],
                    "R2": float(m.R2),
                }
            )
    w = 1.0 / (vi + fits[analyses[0][2]].tau2)
    data["weight"] = 100 * w / w.sum()
    post = bmr(yi, np.sqrt(vi), X, tau_prior, names=names)
    t0 = solve(yi, np.sqrt(vi), tau_prior).tau.median()
    tau0["Bayesian (exact)"] = float(t0)
    lo_q, hi_q = (1 - prob) / 2, (1 + prob) / 2
    t_res = float(post.tau.median())
    for j, term in enumerate(names):
        b = post.beta(j)
        rows.append(
            {
                "analysis": f"Bayesian (exact; flat coefficients, tau ~ {prior_text(tau_prior)})",
                "term": term,
                "estimate": b.median(),
                "se": b.sd(),
                "lb": float(b.ppf(lo_q)),
                "ub": float(b.ppf(hi_q)),
                "interval": f"{pct}% ETI",
                "pval": np.nan,
                "tau_residual": t_res,
                "tau_no_moderator": float(t0),
                "R2": 100 * max(0.0, 1 - (t_res / t0) ** 2) if t0 > 0 else np.nan,
            }
        )
    tab = pd.DataFrame(rows)
    # fitted line (continuous) or level means (categorical)
    ref = fits[analyses[1][2]]  # REML + KH
    if moderator.kind == "continuous":
        x = data[moderator.name].to_numpy(float)
        span = x.max() - x.min()
        grid = np.linspace(x.min() - 0.05 * span, x.max() + 0.05 * span, n_line)
        rows_x = [np.array([1.0, g]) for g in grid]
        keys = list(grid)
    else:
        levels = moderator.levels
        rows_x = [np.array([1.0] + [float(lev == lv) for lv in levels[1:]]) for lev in levels]
        keys = list(levels)
    line = []
    for key, xr in zip(keys, rows_x):
        pf = ref.predict(xr)
        bm = post.mean_at(xr)
        line.append(
            {
                moderator.name: key,
                "freq_mean": pf["pred"],
                "freq_lb": pf["ci_lb"],
                "freq_ub": pf["ci_ub"],
                "bayes_median": bm.median(),
                "bayes_lb": float(bm.ppf(lo_q)),
                "bayes_ub": float(bm.ppf(hi_q)),
            }
        )
    return MetaRegression(
        moderator=moderator,
        data=data,
        fits=fits,
        bayes=post,
        table=tab,
        line=pd.DataFrame(line),
        tau0=tau0,
        interval=f"{pct}% CI (frequentist) / {pct}% ETI (Bayesian)",
        note=(
            f"reference level {moderator.reference!r}; each coefficient is the difference from it"
            if moderator.kind == "categorical"
            else f"slope per unit of {moderator.name}"
        ),
    )
