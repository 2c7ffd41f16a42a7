"""The public estimators: each takes an :class:`~bayesmeta.effects.table.EffectTable` first.

These are the functions ``import bayesmeta as bm`` exposes (``bm.rma``, ``bm.solve``,
``bm.sample``, ...). They read ``yi``, ``vi``/``sei``, the labels, time points, subgroups and the
arm-level counts from the table and call the numerical kernels of :mod:`bayesmeta.frequentist`
and :mod:`bayesmeta.bayes`, which take plain arrays and are for the library's own code. Passing
bare arrays here is refused with a message naming the constructors
(:meth:`EffectTable.from_yi_vi`, :meth:`EffectTable.from_yi_sei`, ...): a position can then never
turn standard errors into variances.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from bayesmeta.bayes import exact as _exact
from bayesmeta.bayes.priors import Prior, flat
from bayesmeta.effects.table import EffectTable
from bayesmeta.frequentist import mantel_haenszel as _mh
from bayesmeta.frequentist import rma as _rma
from bayesmeta.frequentist import subgroups as _subgroups

__all__ = [
    "leave_one_out",
    "mixed_effects_test",
    "model_average",
    "posterior_predictive_check",
    "prior_sensitivity",
    "publication_bias",
    "sample",
    "sample_multilevel",
    "solve",
    "subgroup_analysis",
    "subgroup_analysis_mh",
]
# the metafor-shaped front door (helper "metafor")
__all__ += [
    "anova",
    "blup",
    "confint",
    "cooks_distance",
    "cumul",
    "fitstats",
    "fsn",
    "hatvalues",
    "hc",
    "influence",
    "leave1out",
    "predict",
    "ranef",
    "ranktest",
    "regtest",
    "residuals",
    "rstandard",
    "rstudent",
    "rma",
    "rma_glmm",
    "rma_mh",
    "rma_mv",
    "rma_peto",
    "robust",
    "selmodel",
    "trimfill",
]

_MAKE = (
    "make one with bm.EffectTable.from_yi_vi(yi, vi) (sampling variances), "
    "bm.EffectTable.from_yi_sei(yi, sei) (standard errors), bm.EffectTable.from_ci(...), "
    "bm.escalc(measure, ...) or bm.read_csv(path)"
)


def _table(data: Any, fn: str) -> EffectTable:
    if isinstance(data, EffectTable):
        if data.not_estimable:  # rows bm.escalc kept as NaN: omitted with a warning, as metafor's rma
            warnings.warn(
                f"bm.{fn}: {len(data.not_estimable)} not-estimable row(s) omitted: "
                + "; ".join(f"{k} ({v})" for k, v in data.not_estimable.items()),
                UserWarning,
                stacklevel=3,
            )
            return data.complete()
        return data
    raise TypeError(f"bm.{fn} takes an EffectTable as its first argument, not {type(data).__name__}; {_MAKE}")


def _prior(p: Any, name: str, fn: str, target: str) -> Prior:
    if not isinstance(p, Prior):
        raise TypeError(
            f"bm.{fn}: {name} must be a prior (e.g. bm.priors.halfnormal(0.5)), not {type(p).__name__}"
        )
    if p.target != target:
        raise ValueError(f"bm.{fn}: {name} is a prior on {p.target}, expected a prior on {target}")
    return p


def _binary_arms(data: EffectTable, fn: str) -> dict[str, Any]:
    arms = data.arms
    if arms is None or not {"ai", "n1i", "ci", "n2i"} <= set(arms.columns):
        raise ValueError(
            f"bm.{fn} needs arm-level binary counts: make the table with bm.escalc('RR', ai=..., "
            "n1i=..., ci=..., n2i=...) or bm.read_csv on a binary file"
        )
    out = {c: arms[c].to_numpy(float) for c in ("ai", "n1i", "ci", "n2i")}
    import numpy as np

    ok = np.all([np.isfinite(v) for v in out.values()], axis=0)
    if not ok.all():
        import warnings

        from bayesmeta.frequentist.rma import DroppedStudiesWarning

        labels = arms["study"].astype(str).tolist() if "study" in arms.columns else [str(i + 1) for i in range(ok.size)]
        gone = [lab for lab, o in zip(labels, ok, strict=True) if not o]
        warnings.warn(f"bm.{fn}: {len(gone)} stud{'y' if len(gone) == 1 else 'ies'} with missing counts left out "
                      f"(as metafor's 'studies with NAs omitted'): {', '.join(gone)}", DroppedStudiesWarning,
                      stacklevel=3)
        out = {c: v[ok] for c, v in out.items()}
    return out


def solve(
    data: EffectTable, tau_prior: Prior, mu_prior: Prior | None = None, **kwargs: Any
) -> _exact.NormalNormalPosterior:
    """Exact posterior of the normal-normal model by numerical integration (no sampling).

    Parameters
    ----------
    data : EffectTable
    tau_prior : Prior
        Prior on tau (any family, including the improper ``jeffreys`` and ``flat``).
    mu_prior : Prior, optional
        Prior on mu (default flat).
    **kwargs
        Grid sizes, see :func:`bayesmeta.bayes.exact.solve`.

    Returns
    -------
    NormalNormalPosterior
        Marginals ``mu``, ``tau``, ``theta_new`` and ``theta(i)`` with ``cdf``, ``ppf``,
        ``interval``, ``summary``.

    Examples
    --------
    >>> import bayesmeta as bm
    >>> es = bm.EffectTable.from_yi_sei([0.1, 0.3, -0.2], [0.1, 0.2, 0.15], study=["a", "b", "c"])
    >>> post = bm.solve(es, bm.priors.halfnormal(0.5))
    >>> post.labels
    ('a', 'b', 'c')
    """
    t = _table(data, "solve")
    tp = _prior(tau_prior, "tau_prior", "solve", "tau")
    mp = None if mu_prior is None else _prior(mu_prior, "mu_prior", "solve", "mu")
    return _exact.solve(t.yi, t.sei, tp, mp, labels=t.labels, **kwargs)


def sample(
    data: EffectTable,
    tau_prior: Prior,
    mu_prior: Prior,
    *,
    model: str = "normal",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    target_accept: float = 0.95,
    sampler: str = "nutpie",
    **kwargs: Any,
):
    """Sample a hierarchical model with PyMC (nutpie by default), gated by ArviZ diagnostics.

    Parameters
    ----------
    data : EffectTable
    tau_prior, mu_prior : Prior
        Proper priors on tau and mu (improper priors: use :func:`solve`).
    model : {"normal", "binomial"}
        ``"normal"``: the normal-normal model on ``yi``/``sei`` (marginal form); ``"binomial"``:
        the binomial-normal model (log OR, exact likelihood) on the table's 2x2 counts.
    draws, tune, chains, seed, target_accept, sampler
        Sampler settings.
    **kwargs
        Passed to :func:`bayesmeta.bayes.sampling.fit_normal_normal` or ``fit_binomial_normal``.

    Returns
    -------
    BayesResult
        Posterior DataTree, diagnostics, provenance.
    """
    from bayesmeta.bayes import sampling  # PyMC is imported only when sampling

    t = _table(data, "sample")
    tp = _prior(tau_prior, "tau_prior", "sample", "tau")
    mp = _prior(mu_prior, "mu_prior", "sample", "mu")
    opts = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "seed": seed,
        "target_accept": target_accept,
        "sampler": sampler,
        **kwargs,
    }
    if model == "normal":
        return sampling.fit_normal_normal(t.yi, t.sei, tp, mp, list(t.labels), measure=t.measure, **opts)
    if model == "binomial":
        a = _binary_arms(t, "sample")
        labels = t.arms["study"].astype(str).tolist() if t.arms is not None else None
        return sampling.fit_binomial_normal(a["ai"], a["n1i"], a["ci"], a["n2i"], tp, mp, labels, **opts)
    raise ValueError(f"bm.sample: model must be 'normal' or 'binomial', got {model!r}")


def sample_multilevel(
    data: EffectTable,
    tau_prior: Prior,
    mu_prior: Prior,
    *,
    rho: float = 0.5,
    correlation: str = "ar1",
    timepoint_order: Sequence[str] | None = None,
    **kwargs: Any,
):
    """Multilevel model for repeated time points (one effect per time point; marginal MVN).

    Parameters
    ----------
    data : EffectTable
        With a ``timepoint`` column (a study may appear at several time points).
    tau_prior, mu_prior : Prior
    rho : float
        Within-study correlation of sampling errors between time points (data, not estimated).
    correlation : {"ar1", "exchangeable"}
    timepoint_order : sequence of str, optional
    **kwargs
        Sampler settings, see :func:`bayesmeta.bayes.sampling.fit_multilevel_timepoints`.

    Returns
    -------
    BayesResult
    """
    from bayesmeta.bayes import sampling

    t = _table(data, "sample_multilevel")
    if t.timepoint is None:
        raise ValueError("bm.sample_multilevel needs a table with a timepoint column")
    return sampling.fit_multilevel_timepoints(
        t.yi,
        t.vi,
        list(t.study),
        list(t.timepoint),
        _prior(tau_prior, "tau_prior", "sample_multilevel", "tau"),
        _prior(mu_prior, "mu_prior", "sample_multilevel", "mu"),
        rho=rho,
        correlation=correlation,
        timepoint_order=timepoint_order,
        measure=t.measure,
        **kwargs,
    )


def _groups(t: EffectTable, by: str, fn: str) -> list:
    if by == "subgroup":
        if t.subgroup is None:
            raise ValueError(f"bm.{fn}: the table has no subgroup column (or pass by=<moderator name>)")
        return list(t.subgroup)
    if by == "timepoint" and t.timepoint is not None:
        return list(t.timepoint)
    if by in t.moderators:
        return list(t.moderators[by])
    raise ValueError(f"bm.{fn}: no column {by!r}; available: subgroup, timepoint, {', '.join(t.moderators)}")


def subgroup_analysis(
    data: EffectTable,
    by: str = "subgroup",
    method: str = "DL",
    test: str = "z",
    level: float = 0.95,
    mixed: bool = True,
) -> _subgroups.SubgroupResult:
    """Pool each subgroup and all studies; RevMan's test for subgroup differences (and metafor's QM).

    Parameters
    ----------
    data : EffectTable
    by : str
        ``"subgroup"``, ``"timepoint"`` or a moderator name.
    method, test, level, mixed
        See :func:`bayesmeta.frequentist.subgroups.subgroup_analysis`.

    Returns
    -------
    SubgroupResult
    """
    t = _table(data, "subgroup_analysis")
    return _subgroups.subgroup_analysis(
        t.yi, t.vi, _groups(t, by, "subgroup_analysis"), method=method, test=test, level=level, mixed=mixed
    )


def subgroup_analysis_mh(
    data: EffectTable,
    by: str = "subgroup",
    measure: str | None = None,
    random: bool = False,
    level: float = 0.95,
    **kwargs: Any,
) -> _subgroups.SubgroupResult:
    """RevMan subgroup analysis of the table's 2x2 counts with Mantel-Haenszel pooling.

    Parameters
    ----------
    data : EffectTable
        Made from binary arm-level data; the groups are read from its arm-level rows (every study,
        also those not estimable on the ratio scale).
    by : str
        Column of the arm-level data holding the groups (``"subgroup"``).
    measure : {"RR", "OR", "RD"}, optional
        Default: the table's measure.
    random : bool
        ``False``: MH common effect per subgroup; ``True``: RevMan's DL random effects.
    level : float
    **kwargs
        Passed to :func:`bayesmeta.frequentist.subgroups.subgroup_analysis_mh`.

    Returns
    -------
    SubgroupResult
    """
    t = _table(data, "subgroup_analysis_mh")
    a = _binary_arms(t, "subgroup_analysis_mh")
    arms = t.arms
    if arms is None or by not in arms.columns:
        raise ValueError(f"bm.subgroup_analysis_mh: the arm-level data have no {by!r} column")
    return _subgroups.subgroup_analysis_mh(
        a["ai"],
        a["n1i"],
        a["ci"],
        a["n2i"],
        arms[by].tolist(),
        measure=measure or t.measure,
        random=random,
        level=level,
        **kwargs,
    )


def mixed_effects_test(
    data: EffectTable, by: str = "subgroup", method: str = "REML"
) -> _subgroups.MixedEffectsTest:
    """Mixed-effects (meta-regression) test for subgroup differences with one common tau^2 (metafor QM).

    Parameters
    ----------
    data : EffectTable
    by : str
        ``"subgroup"``, ``"timepoint"`` or a moderator name.
    method : {"EE", "DL", "REML", "PM", "ML"}
        Estimator of the residual tau^2.

    Returns
    -------
    MixedEffectsTest
        See :func:`bayesmeta.frequentist.subgroups.mixed_effects_test`.
    """
    t = _table(data, "mixed_effects_test")
    return _subgroups.mixed_effects_test(t.yi, t.vi, _groups(t, by, "mixed_effects_test"), method=method)


def posterior_predictive_check(data: EffectTable, mu: Any, tau: Any, seed: int = 0):
    """Posterior predictive p-values for Q and the most extreme study, from draws of mu and tau.

    Parameters
    ----------
    data : EffectTable
    mu, tau : array_like
        Posterior draws (e.g. ``post.draws(20000)`` of :func:`solve`).
    seed : int

    Returns
    -------
    PPCResult
    """
    from bayesmeta.decide import checks

    t = _table(data, "posterior_predictive_check")
    return checks.posterior_predictive_check(t.yi, t.sei, mu, tau, seed=seed)


def model_average(
    data: EffectTable, mu_prior: Prior, tau_prior: Prior, prior_prob: Mapping[str, float] | None = None
):
    """Bayes factors and model averaging over {common, random} x {no effect, effect} (exact).

    Parameters
    ----------
    data : EffectTable
    mu_prior, tau_prior : Prior
        Proper priors on mu (under "effect") and tau (under "random").
    prior_prob : mapping of str to float, optional
        Prior probabilities of the four models (default equal).

    Returns
    -------
    ModelAveraged
        See :func:`bayesmeta.bayes.model_averaging.average`.
    """
    from bayesmeta.bayes import model_averaging

    t = _table(data, "model_average")
    return model_averaging.average(
        t.yi,
        t.sei,
        _prior(mu_prior, "mu_prior", "model_average", "mu"),
        _prior(tau_prior, "tau_prior", "model_average", "tau"),
        prior_prob=prior_prob,
    )


def publication_bias(data: EffectTable, mu_prior: Prior, tau_prior: Prior, direction: str = "positive", **kwargs):
    """RoBMA-style model averaging over no bias, PET, PEESE and selection models (exact quadrature).

    Parameters
    ----------
    data : EffectTable
    mu_prior, tau_prior : Prior
        Proper priors on mu (under "effect") and tau (under "random").
    direction : {"positive", "negative"}
        Direction of the effects that publication favours.
    **kwargs
        Passed to :func:`bayesmeta.bayes.bias.publication_bias_average` (``selection_steps``,
        ``prior_probs``, ``prob``, resolutions).

    Returns
    -------
    PublicationBiasAverage
        ``.summary()``, ``.mu_table()``, ``.models`` and ``.statement()`` (what the analysis can say at this k).
    """
    from bayesmeta.bayes import bias

    t = _table(data, "publication_bias")
    return bias.publication_bias_average(
        t.yi, t.sei, _prior(mu_prior, "mu_prior", "publication_bias", "mu"),
        _prior(tau_prior, "tau_prior", "publication_bias", "tau"), direction=direction, **kwargs)


def leave_one_out(data: EffectTable, tau_prior: Prior, mu_prior: Prior | None = None):
    """Exact leave-one-study-out predictive checks under the random- and common-effect models.

    Parameters
    ----------
    data : EffectTable
    tau_prior : Prior
    mu_prior : Prior, optional
        Default flat.

    Returns
    -------
    pandas.DataFrame
        Per study: two-sided predictive p-value and log p(y_i | y_-i) under both models, see
        :func:`bayesmeta.pipeline.study_level.loo_table`.
    """
    from bayesmeta.pipeline import study_level

    t = _table(data, "leave_one_out")
    mp = flat("mu") if mu_prior is None else _prior(mu_prior, "mu_prior", "leave_one_out", "mu")
    return study_level.loo_table(
        t.yi, t.sei, list(t.labels), _prior(tau_prior, "tau_prior", "leave_one_out", "tau"), mp
    )


def prior_sensitivity(
    data: EffectTable,
    tau_priors: Mapping[str, Prior],
    mu_priors: Mapping[str, Prior],
    orientation: Any,
    margins: Sequence[float],
    prob: float = 0.95,
    kind: str = "hdi",
    threshold: float = 0.95,
    *,
    primary: tuple[str, str],
):
    """Exact posteriors over a grid of tau priors by mu priors, with decision probabilities.

    Parameters
    ----------
    data : EffectTable
    tau_priors, mu_priors : mapping of name to Prior
    orientation : Orientation
    margins : sequence of float
        Non-inferiority margins (the first is the primary one).
    prob, kind
        Interval probability and kind (``"hdi"`` or ``"eti"``).
    threshold : float
        Posterior probability that counts as a verdict.
    primary : (str, str)
        Names of the primary (tau prior, mu prior) pair; a cell whose verdict differs from it is
        flagged in ``decision_flips``.

    Returns
    -------
    pandas.DataFrame
        One row per (tau prior, mu prior), see :func:`bayesmeta.pipeline.study_level.prior_sensitivity`.
    """
    from bayesmeta.pipeline import study_level

    t = _table(data, "prior_sensitivity")
    return study_level.prior_sensitivity(
        t.yi,
        t.sei,
        dict(tau_priors),
        dict(mu_priors),
        orientation,
        list(margins),
        prob=prob,
        kind=kind,
        threshold=threshold,
        primary=primary,
    )


# ============================================================================ the metafor-shaped front door
# (helper "metafor"; every verb takes the EffectTable or a fitted result first)

_FIT_TYPES = "a fit of bm.rma (with or without mods)"


def _level(level: Any) -> float:
    from bayesmeta.frequentist.rma import as_level

    return as_level(level)


def _formula_terms(formula: str) -> tuple[list[tuple[str, bool]], bool]:
    """Terms of a one-sided formula (``"~ ablat + factor(alloc)"``): (name, categorical) and the intercept."""
    rhs = formula.strip()
    if not rhs.startswith("~"):
        raise ValueError(f"mods formula must start with '~' (e.g. '~ ablat + year'); got {formula!r}")
    rhs = rhs[1:].replace("-1", "+ -1").replace("- 1", "+ -1")
    intercept = True
    terms: list[tuple[str, bool]] = []
    for raw in (p.strip() for p in rhs.split("+")):
        if raw in ("", "1"):
            continue
        if raw in ("0", "-1"):
            intercept = False
            continue
        if any(ch in raw for ch in "*:^|"):
            raise ValueError(f"mods formula term {raw!r}: interactions are not supported; build the column "
                             "yourself and pass it in moderators=")
        cat = raw.startswith("factor(") and raw.endswith(")")
        terms.append((raw[7:-1].strip() if cat else raw, cat))
    return terms, intercept


def _design(t: EffectTable, mods: Any, intercept: bool, fn: str):
    """Design matrix (k, p), coefficient names and a mask of the rows with complete moderators."""
    import numpy as np
    import pandas as pd

    from bayesmeta.frequentist.metareg import design_matrix

    k = t.k
    if mods is None:
        return np.ones((k, 1)), ["intrcpt"], np.ones(k, bool)
    cats: set[str] = set()
    if isinstance(mods, str) and mods.strip().startswith("~"):
        terms, intercept = _formula_terms(mods)
        mods = [n for n, _ in terms]
        cats = {n for n, c in terms if c}
    if isinstance(mods, str):
        mods = [mods]
    if isinstance(mods, Mapping | pd.DataFrame):
        frame = pd.DataFrame({str(c): list(v) for c, v in mods.items()})
    elif isinstance(mods, Sequence) and mods and all(isinstance(m, str) for m in mods):
        missing = [m for m in mods if m not in t.moderators]
        if missing:
            raise ValueError(f"bm.{fn}: no moderator {', '.join(map(repr, missing))} in the table; "
                             f"moderators: {', '.join(t.moderators) or 'none'} (add them with moderators=...)")
        frame = pd.DataFrame({m: list(t.moderators[m]) for m in mods})
    else:
        arr = np.asarray(mods, dtype=float)
        arr = arr.reshape(k, -1) if arr.ndim <= 2 else arr
        if arr.shape[0] != k:
            raise ValueError(f"bm.{fn}: mods has {arr.shape[0]} rows for {k} studies")
        frame = pd.DataFrame(arr, columns=[f"X{j + 1}" for j in range(arr.shape[1])] if arr.shape[1] > 1 else ["mods"])
    if len(frame) != k:
        raise ValueError(f"bm.{fn}: mods has {len(frame)} rows for {k} studies")
    for c in cats:
        frame[c] = frame[c].astype(str).where(frame[c].notna())
    ok = frame.notna().all(axis=1).to_numpy()
    # categorical moderators: levels in alphabetical order (R's factor()), the first is the reference
    for c in frame.columns:
        col = frame[c]
        if c in cats or not (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)):
            if not isinstance(col.dtype, pd.CategoricalDtype):
                frame[c] = pd.Categorical(col, categories=sorted(col.dropna().unique(), key=str))
    X, names = design_matrix(frame[ok].reset_index(drop=True), list(frame.columns), intercept=intercept)
    return X, names, ok


def rma(
    data: EffectTable,
    mods: Any = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    *,
    btt: Any = None,
    tau2: float | None = None,
    weights: Any = None,
    intercept: bool = True,
    pi: str = "metafor",
    i2: str | None = None,
    preset: str | None = None,
    control: Mapping[str, float] | None = None,
):
    """Common-effect, random-effects or mixed-effects meta-analysis, as metafor's ``rma``.

    Parameters
    ----------
    data : EffectTable
    mods : str, sequence of str, mapping, DataFrame or array_like, optional
        Moderators: a formula over the table's moderators (``"~ ablat + factor(alloc)"``; ``"~ 0 + x"``
        drops the intercept), moderator names (``["ablat", "alloc"]``), columns (a mapping or
        DataFrame) or a numeric array (k,) or (k, m). Text columns enter as treatment contrasts with
        alphabetically ordered levels, the first the reference (R's ``factor()``).
    method : str
        tau^2 estimator, metafor's codes: ``"EE"`` (``"FE"``), ``"DL"``, ``"REML"``, ``"ML"``, ``"PM"``,
        ``"PMM"``, ``"EB"``, ``"HE"``, ``"HS"``, ``"HSk"``, ``"SJ"``, ``"SJIT"``, ``"DLIT"``, ``"GENQ"``,
        ``"GENQM"`` (the last two need ``weights``).
    test : {"z", "t", "knha", "adhoc"}
    level : float
        0.95 or 95 (as metafor).
    btt : str, int or sequence, optional
        Coefficients of the omnibus test QM, by name (``"alloc"`` matches every ``alloc[...]``) or
        0-based position; default all but the intercept.
    tau2 : float, optional
        Fix tau^2.
    weights : array_like, optional
        Weights of the generalised Q estimators (GENQ, GENQM).
    intercept : bool
    pi : {"metafor", "t_k-2", "t_k-1_wald"}
        Prediction interval reported by intercept-only fits.
    i2 : {"tau2", "Q"}, optional
        I^2 definition of intercept-only fits (metafor's from tau^2, or RevMan 5's from Q).
    preset : {"revman5", "revman2025", "metafor"}, optional
    control : mapping, optional
        ``tau2_init`` (start value of SJ, SJIT, DLIT) and ``threshold`` (convergence of DLIT, SJIT),
        as metafor's ``control=list(tau2.init=, threshold=)``.

    Returns
    -------
    RMAResult or MetaRegResult
        Intercept-only: :class:`~bayesmeta.frequentist.rma.RMAResult` (``mu``, ``se``, ``zval``/``stat``,
        ``pval``, ``ci_lb``, ``ci_ub``, ``tau2``, ``QE``, ``QE_p``, ``I2``, ``H2``, ...); with moderators:
        :class:`~bayesmeta.frequentist.metareg.MetaRegResult` (``beta``, ``se``, ``QM``, ``QE``, ``R2``, ...).
        Field names are listed in ``docs/api.md``.

    Examples
    --------
    >>> import bayesmeta as bm
    >>> es = bm.EffectTable.from_yi_vi([0.1, 0.3, 0.35, 0.65], [0.01, 0.02, 0.015, 0.05])
    >>> round(bm.rma(es, method="DL").mu, 4)  # metafor: coef(rma(yi, vi, method="DL")) = 0.2973588
    0.2974
    """
    import warnings

    import numpy as np

    from bayesmeta.frequentist.anova import resolve_btt
    from bayesmeta.frequentist.metareg import rma_mods

    t = _table(data, "rma")
    lv = _level(level)
    if mods is None and intercept:
        return _rma.rma(t.yi, vi=t.vi, labels=t.labels, method=method, test=test, level=lv, tau2=tau2, pi=pi,
                        i2=i2, preset=preset, weights=weights, control=control)
    X, names, ok_mods = _design(t, mods, intercept, "rma")
    fin = np.isfinite(t.yi) & np.isfinite(t.vi)
    ok = ok_mods & fin
    if not ok.all():
        gone = [lab for lab, o in zip(t.labels, ok, strict=True) if not o]
        warnings.warn(f"{len(gone)} stud{'y' if len(gone) == 1 else 'ies'} with a missing estimate, variance or "
                      f"moderator left out of the fit: {', '.join(gone)}", _rma.DroppedStudiesWarning, stacklevel=2)
    X = X[fin[ok_mods]]
    rows = np.flatnonzero(ok)
    w = None if weights is None else np.asarray(weights, float)[rows]
    b = None if btt is None else resolve_btt(btt, names)
    return rma_mods(t.yi[rows], t.vi[rows], X, names=names, method=method, test=test, level=lv, btt=b, tau2=tau2,
                    weights=w, labels=[t.labels[i] for i in rows], control=control)


def _mv_V(V: Any, frame: Any, n: int):
    """The sampling-error matrix of :func:`rma_mv` from a column name, variances, a matrix or blocks."""
    import numpy as np
    from scipy.linalg import block_diag

    if V is None:
        if "vi" not in frame.columns:
            raise ValueError("bm.rma_mv: V= is required (a column name, the variances, an (n, n) matrix or a list "
                             "of per-study blocks) when the data have no 'vi' column")
        V = "vi"
    if isinstance(V, str):
        if V not in frame.columns:
            raise ValueError(f"bm.rma_mv: V={V!r}: no such column; columns: {', '.join(map(str, frame.columns))}")
        V = frame[V].to_numpy(float)
    if isinstance(V, list | tuple) and V and np.ndim(V[0]) == 2:
        V = block_diag(*[np.asarray(b, float) for b in V])
    V = np.asarray(V, float)
    if V.ndim == 1:
        V = np.diag(V)
    if V.shape != (n, n):
        raise ValueError(f"bm.rma_mv: V has shape {V.shape}; expected ({n},) variances or an ({n}, {n}) matrix, "
                         "one row per estimate")
    if not np.allclose(V, V.T, rtol=1e-8, atol=1e-12 * max(1.0, float(np.max(np.abs(V))))):
        raise ValueError("bm.rma_mv: V is not symmetric; give the variance-covariance matrix of the sampling errors")
    return (V + V.T) / 2


def rma_mv(
    data: Any,
    V: Any = None,
    mods: Any = None,
    random: str | Sequence[str] | None = None,
    struct: str | Sequence[str] = "CS",
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    *,
    yi: Any = "yi",
    btt: Any = None,
    sigma2: Any = None,
    tau2: Any = None,
    rho: Any = None,
    gamma2: Any = None,
    phi: Any = None,
    intercept: bool = True,
):
    """Multivariate / multilevel random-effects model, as metafor's ``rma.mv``.

    Parameters
    ----------
    data : EffectTable or pandas.DataFrame
        The estimates and the columns the formulas name (an EffectTable offers ``study``,
        ``timepoint``, ``subgroup``, ``yi``, ``vi`` and its moderators).
    V : str, array_like or list of arrays, optional
        Sampling (co)variances: a column name, the variances (n,), the full (n, n) matrix, or a list
        of per-study blocks in row order (metafor's ``bldiag``). Default: the ``vi`` column.
    mods : str or array_like, optional
        Fixed effects: a formula over the columns (``"~ 0 + outcome + outcome:I(year - 1983)"``,
        ``"~ factor(trt)"``; see :mod:`bayesmeta.frequentist.mv_formula`) or a matrix / DataFrame of
        moderators (n, q), to which an intercept is added unless ``intercept=False``. Default: an
        intercept.
    random : str or sequence of str, optional
        metafor's random-effects formulas: ``"~ 1 | study"``, nested ``"~ 1 | district/school"``,
        ``"~ outcome | trial"`` (structured by ``struct``) or a list of them. None: the common-effects
        model with V only.
    struct : str or sequence of str
        Structure of each ``~ inner | outer`` term: ``"CS"``, ``"HCS"``, ``"UN"``, ``"ID"``, ``"DIAG"``,
        ``"AR"``, ``"HAR"``, ``"CAR"``.
    method : {"REML", "ML"}
    test : {"z", "t"}
        z tests, or t tests on n - p df (with F for the omnibus test).
    level : float
        0.95 or 95.
    yi : str or array_like
        The estimates' column (default ``"yi"``) or the values.
    btt : str, int or sequence, optional
        Coefficients of the omnibus test (names or 0-based positions); default all but the intercept.
    sigma2, tau2, rho, gamma2, phi : float or sequence, optional
        Fix components (NaN entries are estimated), as metafor's arguments of the same names.
    intercept : bool
        Add an intercept to a moderator matrix (formulas say it with ``0 +``).

    Returns
    -------
    RMAMVResult
        ``beta``, ``se``, ``zval``, ``pval``, ``ci_lb``, ``ci_ub``, ``vb``, ``sigma2``, ``tau2``, ``rho``,
        ``gamma2``, ``phi``, ``QE``/``QE_p``, ``QM``/``QM_p``, ``logLik``, ``deviance``, ``AIC``, ``BIC``,
        ``AICc``, ``fitted``, ``residuals`` (:class:`~bayesmeta.frequentist.multilevel.RMAMVResult`).

    Examples
    --------
    >>> import pandas as pd, bayesmeta as bm
    >>> d = pd.DataFrame({"yi": [0.2, 0.4, 0.1, 0.5, 0.3, 0.6], "vi": [0.02, 0.03, 0.02, 0.04, 0.03, 0.02],
    ...                   "district": [1, 1, 2, 2, 3, 3], "school": [1, 2, 1, 2, 1, 2]})
    >>> fit = bm.rma_mv(d, "vi", random="~ 1 | district/school")
    >>> fit.sigma2.shape
    (2,)
    """
    import numpy as np
    import pandas as pd

    from bayesmeta.frequentist.anova import resolve_btt
    from bayesmeta.frequentist.multilevel import fit_rma_mv
    from bayesmeta.frequentist.mv_formula import model_matrix, random_terms

    if isinstance(data, EffectTable):
        frame = data.to_frame()
        labels = list(data.labels)
    elif isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
        labels = [str(i + 1) for i in range(len(frame))]
    else:
        raise TypeError("bm.rma_mv takes an EffectTable or a pandas DataFrame first (with columns yi and vi, or "
                        f"name them with yi=, V=); {_MAKE}")
    n = len(frame)
    if isinstance(yi, str):
        if yi not in frame.columns:
            raise ValueError(f"bm.rma_mv: yi={yi!r}: no such column; columns: {', '.join(map(str, frame.columns))}")
        y = frame[yi].to_numpy(float)
    else:
        y = np.asarray(yi, float).ravel()
        if y.size != n:
            raise ValueError(f"bm.rma_mv: yi has {y.size} values for {n} rows")
    Vm = _mv_V(V, frame, n)
    # rows with a missing estimate, variance or column the formulas use are left out (as metafor, with a warning)
    used: list[str] = []
    for f in ([mods] if isinstance(mods, str) else []) + ([random] if isinstance(random, str) else list(random or [])):
        used += [c for c in frame.columns if re.search(rf"(?<![A-Za-z0-9_.]){re.escape(str(c))}(?![A-Za-z0-9_.])",
                                                     f)]
    ok = np.isfinite(y) & np.isfinite(np.diag(Vm))
    if used:
        ok &= frame[list(dict.fromkeys(used))].notna().all(axis=1).to_numpy()
    if not ok.all():
        warnings.warn(f"bm.rma_mv: {int((~ok).sum())} row(s) with missing values left out of the fit",
                      _rma.DroppedStudiesWarning, stacklevel=2)
        frame = frame[ok].reset_index(drop=True)
        y, Vm = y[ok], Vm[np.ix_(ok, ok)]
        labels = [lab for lab, o in zip(labels, ok, strict=True) if o]
    if np.isnan(Vm).any():
        raise ValueError("bm.rma_mv: V has missing covariances between rows that are kept")
    ev = np.linalg.eigvalsh(Vm)
    if ev.min() < -1e-8 * max(1.0, float(ev.max())):
        raise ValueError(f"bm.rma_mv: V is not positive semi-definite (smallest eigenvalue {ev.min():.3g}); give "
                         "the variance-covariance matrix of the sampling errors")
    if mods is None:
        X, names = np.ones((len(y), 1)), ["intrcpt"]
    elif isinstance(mods, str):
        X, names = model_matrix(frame, mods, "mods")
    else:  # a matrix of moderators; the intercept is added unless intercept=False (as metafor)
        mm = np.asarray(mods, float).reshape(n, -1)[ok]
        names = list(mods.columns) if isinstance(mods, pd.DataFrame) else [f"X{j + 1}" for j in range(mm.shape[1])]
        X = np.column_stack([np.ones(len(mm)), mm]) if intercept else mm
        names = ["intrcpt", *names] if intercept else names
    terms, forms = ([], []) if random is None else random_terms(frame, random, struct)
    fixed = {k: np.atleast_1d(np.asarray(v, float)) for k, v in
             (("sigma2", sigma2), ("tau2", tau2), ("rho", rho), ("gamma2", gamma2), ("phi", phi)) if v is not None}
    b = None if btt is None else resolve_btt(btt, names)
    return fit_rma_mv(y, Vm, X, terms, names=names, method=method, test=test, level=_level(level), btt=b,
                      fixed=fixed, labels=labels, random=forms)


def rma_mh(data: EffectTable, *args: Any, measure: str | None = None, level: float = 0.95,
           rd_variance: str | None = None, preset: str | None = None, **kwargs: Any) -> _mh.MHResult:
    """Mantel-Haenszel common-effect meta-analysis of the table's 2x2 counts (metafor ``rma.mh``).

    Parameters
    ----------
    data : EffectTable
        Made from binary arm-level data (it keeps every study, also those not estimable).
    measure : {"RR", "OR", "RD"}, optional
        Default: the table's measure.
    level : float
        0.95 or 95.
    rd_variance : {"sato", "greenland-robins"}, optional
        Variance of the MH risk difference: Sato (metafor's, the default here) or Greenland-Robins
        (RevMan 5's); stated on the result (``rd_variance``) and in its print.
    preset : {"revman5", "revman2025", "metafor"}, optional
        RevMan's settings (0.5 added to zero-cell tables in the MH sums, Greenland-Robins RD variance).
    **kwargs
        ``drop00``, ``mh_correction``, ``add``, ``method_tau`` (see
        :func:`bayesmeta.frequentist.mantel_haenszel.rma_mh`).

    Returns
    -------
    MHResult
        ``estimate`` (log scale for RR/OR), ``se``, ``zval``, ``pval``, ``ci_lb``, ``ci_ub``, ``QE``/``Q``,
        ``QE_p``, ``I2``, ``H2``; for OR the Cochran-Mantel-Haenszel test ``MH``, ``MH_p`` and Tarone's
        heterogeneity test ``TA``, ``TA_p``.
    """
    t = _table(data, "rma_mh")
    if args:
        raise TypeError("bm.rma_mh takes the EffectTable and keyword arguments (measure=, level=, ...)")
    if rd_variance is None and preset is None:
        rd_variance = "sato"
    return _mh.rma_mh(**_binary_arms(t, "rma_mh"), measure=measure or t.measure, level=_level(level),
                      rd_variance=rd_variance, preset=preset, **kwargs)


def rma_peto(data: EffectTable, level: float = 0.95):
    """Peto's one-step odds ratio of the table's 2x2 counts (metafor ``rma.peto``; RevMan's Peto method).

    Parameters
    ----------
    data : EffectTable
        Made from binary arm-level data.
    level : float
        0.95 or 95.

    Returns
    -------
    PetoResult
        ``estimate``/``beta`` (log OR), ``se``, ``zval``, ``pval``, ``ci_lb``, ``ci_ub``, ``QE``, ``QE_p``, ``I2``.
    """
    from bayesmeta.frequentist import rare

    t = _table(data, "rma_peto")
    return rare.rma_peto(**_binary_arms(t, "rma_peto"), level=_level(level))


def rma_glmm(data: EffectTable, model: str = "UM.FS", method: str = "ML", level: float = 0.95,
             nagq: int | None = None, drop00: bool = True):
    """Binomial GLMM for the table's 2x2 counts, log odds ratio (metafor ``rma.glmm(measure="OR")``).

    Parameters
    ----------
    data : EffectTable
    model : {"UM.FS", "UM.RS", "CM.EL", "CM.AL"}
    method : {"ML", "EE"}
    level : float
    nagq : int, optional
    drop00 : bool

    Returns
    -------
    GLMMResult
        ``mu``, ``se``, ``zval``, ``pval``, ``ci_lb``, ``ci_ub``, ``tau2``, ``I2``, ``H2``, Wald and
        likelihood-ratio heterogeneity tests ``QE_Wld``, ``QE_Wld_p``, ``QE_LRT``, ``QE_p``.
    """
    from bayesmeta.frequentist import glmm

    t = _table(data, "rma_glmm")
    return glmm.rma_glmm(**_binary_arms(t, "rma_glmm"), model=model, method=method, level=_level(level),
                         nagq=nagq, drop00=drop00)


def _is_mv(fit: Any) -> bool:
    from bayesmeta.frequentist.multilevel import RMAMVResult

    return isinstance(fit, RMAMVResult)


def _fit_arg(fit: Any, fn: str) -> Any:
    from bayesmeta.frequentist.metareg import MetaRegResult

    if isinstance(fit, _rma.RMAResult | MetaRegResult):
        return fit
    if isinstance(fit, EffectTable):
        raise TypeError(f"bm.{fn} takes a fitted model: fit = bm.rma(es, ...); bm.{fn}(fit)")
    raise TypeError(f"bm.{fn} takes {_FIT_TYPES}, not {type(fit).__name__}")


def blup(fit: Any, transf: Any = None, level: float | None = None):
    """Best linear unbiased predictions of the studies' true effects (metafor ``blup``).

    Parameters
    ----------
    fit : RMAResult or MetaRegResult
        A fit of :func:`rma`.
    transf : callable, optional
        Back-transformation (e.g. ``numpy.exp``) of ``pred`` and the bounds (``se`` is then NaN).
    level : float, optional
        Default: the fit's level.

    Returns
    -------
    pandas.DataFrame
        ``study``, ``pred``, ``se``, ``pi_lb``, ``pi_ub``.
    """
    from bayesmeta.frequentist import blup as _b

    if _is_mv(fit):
        raise TypeError("bm.blup: not defined for a bm.rma_mv fit (as metafor); use bm.ranef(fit) for the predicted "
                        "random effects, bm.predict(fit) for the fitted values")
    return _b.blup(_fit_arg(fit, "blup"), transf=transf, level=None if level is None else _level(level))


def ranef(fit: Any, transf: Any = None, level: float | None = None):
    """Predicted random effects, the deviations from the fitted mean (metafor ``ranef``).

    Parameters
    ----------
    fit : RMAResult or MetaRegResult or RMAMVResult (one table per random intercept, keyed by its factor)
    transf : callable, optional
    level : float, optional

    Returns
    -------
    pandas.DataFrame
        ``study``, ``pred``, ``se``, ``pi_lb``, ``pi_ub``.
    """
    from bayesmeta.frequentist import blup as _b

    if _is_mv(fit):  # one table per random intercept (metafor's list), keyed by its grouping factor
        from bayesmeta.frequentist.multilevel import ranef_mv

        out = ranef_mv(fit, level=None if level is None else _level(level))
        if transf is not None:
            out = {k: _b._tr(v.rename(columns={"intrcpt": "pred"}), transf, ("pred", "pi_lb", "pi_ub"))
                   .rename(columns={"pred": "intrcpt"}) for k, v in out.items()}
        return out
    return _b.ranef(_fit_arg(fit, "ranef"), transf=transf, level=None if level is None else _level(level))



def _transformed(df: Any, transf) -> Any:
    """``predict``'s table with ``transf`` applied to every column but ``se`` (then NaN), as metafor."""
    import numpy as np

    if transf is not None:
        for col in df.columns:
            if col != "se":
                df[col] = np.asarray(transf(df[col].to_numpy(float)), float)
        df["se"] = np.nan
    return df

def predict(fit: Any, newmods: Any = None, transf: Any = None, level: float | None = None, intercept: bool = True,
            *, tau2_levels: Any = None, gamma2_levels: Any = None, hetvar: float | None = None):
    """Predicted average effect with CI and prediction interval (metafor ``predict``).

    Parameters
    ----------
    fit : RMAResult, MetaRegResult, MHResult, PetoResult or GLMMResult or RMAMVResult
        For MH, Peto and GLMM fits: the pooled estimate with its CI (a GLMM with tau^2 also gets a
        prediction interval).
    newmods : array_like, optional
        Moderator values, one row per prediction, without the intercept. Default: the pooled
        effect, or the fitted values of the studies for a meta-regression.
    transf : callable, optional
        Back-transformation (``numpy.exp`` for ratio measures); ``se`` is then NaN.
    level : float, optional
        0.95 or 95; default the fit's level.
    intercept : bool
        Include the intercept in the predictions.
    tau2_levels, gamma2_levels : int or sequence of int, optional
        For a bm.rma_mv fit with several tau^2 (gamma^2): the 0-based inner level whose variance enters
        the prediction interval (metafor's ``tau2.levels``).
    hetvar : float, optional
        For a bm.rma_mv fit: the heterogeneity variance of the prediction interval, in place of the
        sum of the fit's components (metafor's ``hetvar``).

    Returns
    -------
    pandas.DataFrame
        ``pred``, ``se``, ``ci_lb``, ``ci_ub``, ``pi_lb``, ``pi_ub``.
    """
    import numpy as np
    import pandas as pd

    from bayesmeta.frequentist import blup as _b

    if _is_mv(fit):
        from bayesmeta.frequentist.multilevel import predict_mv

        df = predict_mv(fit, newmods=newmods, level=None if level is None else _level(level), intercept=intercept,
                        tau2_levels=tau2_levels, gamma2_levels=gamma2_levels, hetvar=hetvar)
        return _transformed(df, transf)
    if not isinstance(fit, _rma.RMAResult) and hasattr(fit, "ci_lb") and np.ndim(fit.ci_lb) == 0:
        est = getattr(fit, "mu", None)
        est = fit.estimate if est is None else est
        lv = fit.level if level is None else _level(level)
        from scipy import stats

        c = stats.norm.ppf(0.5 + lv / 2)
        row = {"pred": est, "se": fit.se, "ci_lb": est - c * fit.se, "ci_ub": est + c * fit.se}
        if getattr(fit, "tau2", 0.0) and np.isfinite(getattr(fit, "tau2", np.nan)):
            h = c * np.sqrt(fit.se**2 + fit.tau2)
            row.update({"pi_lb": est - h, "pi_ub": est + h})
        df = pd.DataFrame([row])
        return _transformed(df, transf)
    return _b.predict(_fit_arg(fit, "predict"), newmods=newmods, transf=transf,
                      level=None if level is None else _level(level), intercept=intercept)


def confint(fit: Any, type: str | None = None, level: float | None = None, transf: Any = None):
    """Confidence intervals for tau^2, tau, I^2, H^2 and the coefficients (metafor ``confint``).

    Parameters
    ----------
    fit : RMAResult, MetaRegResult, MHResult, PetoResult, GLMMResult or a bm.selmodel fit or RMAMVResult (profile-likelihood CIs of its variance components)
        MH, Peto and GLMM fits get the CI of their estimate only (``.fixed``); selection models the
        profile-likelihood CIs of tau^2 and the selection parameters (``.random``, rows ``tau2``,
        ``delta.j``; :mod:`bayesmeta.frequentist.selection_confint`).
    type : {"QP", "PL", "GENQ", "Wald"}, optional
        Q-profile (default), profile likelihood, generalised Q (default for GENQ/GENQM fits), Wald.
    level : float, optional
        0.95 or 95; default the fit's level.
    transf : callable, optional
        Back-transformation of the coefficients' rows (e.g. ``numpy.exp``), as metafor's ``transf``.

    Returns
    -------
    ConfintResult
        ``.random`` (rows ``tau2``, ``tau``, ``I2``, ``H2``; columns ``estimate``, ``ci_lb``, ``ci_ub``)
        and ``.fixed`` (one row per coefficient).
    """
    import dataclasses

    import numpy as np
    import pandas as pd
    from scipy import stats

    from bayesmeta.frequentist import confint as _c
    from bayesmeta.frequentist import glmm, rare, selection, selection_functions

    lv = None if level is None else _level(level)
    if _is_mv(fit):
        from bayesmeta.frequentist.multilevel import confint_mv

        if type not in (None, "PL"):
            raise ValueError(f"bm.confint: a bm.rma_mv fit has profile-likelihood CIs only (type='PL'), got "
                             f"type={type!r}")
        res = confint_mv(fit, level=lv)
    elif isinstance(fit, selection.SelectionModelResult | selection_functions.SelectionFamilyResult):
        from bayesmeta.frequentist.selection_confint import selmodel_confint

        if type not in (None, "PL"):
            raise ValueError(f"bm.confint: a selection model has profile-likelihood CIs only (type='PL'), "
                             f"got type={type!r}")
        res = selmodel_confint(fit, level=lv)
    elif isinstance(fit, _mh.MHResult | rare.PetoResult | glmm.GLMMResult):
        lv = fit.level if lv is None else lv
        est = float(fit.beta[0])
        c = stats.norm.ppf(0.5 + lv / 2)
        fixed = pd.DataFrame({"estimate": [est], "ci_lb": [est - c * fit.se], "ci_ub": [est + c * fit.se]},
                             index=["intrcpt"])
        res = _c.ConfintResult(random=pd.DataFrame(columns=["estimate", "ci_lb", "ci_ub"], dtype=float),
                               fixed=fixed, type="QP", level=lv)
    else:
        res = _c.confint(_fit_arg(fit, "confint"), type=type, level=lv)
    if transf is not None:
        fx = res.fixed.apply(lambda col: np.asarray(transf(col.to_numpy(float)), float))
        lo, hi = np.minimum(fx.ci_lb, fx.ci_ub), np.maximum(fx.ci_lb, fx.ci_ub)
        fx["ci_lb"], fx["ci_ub"] = lo, hi
        res = dataclasses.replace(res, fixed=fx)
    return res


def anova(fit: Any, fit2: Any = None, *, btt: Any = None, L: Any = None, rhs: Any = 0.0):
    """Wald tests of coefficients or linear combinations, or a likelihood-ratio test (metafor ``anova``).

    Parameters
    ----------
    fit : RMAResult or MetaRegResult or RMAMVResult (two bm.rma_mv fits: LRT)
        The (full) model.
    fit2 : RMAResult or MetaRegResult, optional
        A nested model fitted to the same data (both ML or both REML): likelihood-ratio test.
    btt : str, int or sequence, optional
        Coefficients to test jointly, by name (a prefix such as ``"alloc"`` matches its levels) or
        0-based position; default all but the intercept.
    L : array_like, optional
        Linear combinations (rows) of the coefficients (metafor's ``X=``).
    rhs : float or array_like
        Values the combinations are tested against (default 0).

    Returns
    -------
    AnovaResult
        Wald: ``QM``, ``QM_df``, ``QM_p`` (and ``hyp`` for ``L``); LRT: ``LRT``, ``df``, ``pval``, ``fits``, ``R2``.
    """
    from bayesmeta.frequentist import anova as _a

    if _is_mv(fit) or _is_mv(fit2):
        from bayesmeta.frequentist.multilevel import anova_mv

        if fit2 is not None and not (_is_mv(fit) and _is_mv(fit2)):
            raise TypeError("bm.anova: a likelihood-ratio test needs two bm.rma_mv fits (or two bm.rma fits)")
        return anova_mv(fit, fit2, btt=btt, L=L, rhs=rhs)
    return _a.anova(_fit_arg(fit, "anova"), None if fit2 is None else _fit_arg(fit2, "anova"), btt=btt, L=L,
                    rhs=rhs)


def fitstats(fit: Any, reml: bool | None = None) -> dict:
    """logLik, deviance, AIC, BIC and AICc of a fit (metafor ``fitstats``).

    Parameters
    ----------
    fit : RMAResult or MetaRegResult or RMAMVResult
    reml : bool, optional
        Restricted likelihood; default True for REML fits.

    Returns
    -------
    dict
        ``logLik``, ``deviance``, ``AIC``, ``BIC``, ``AICc``, ``n_par``, ``reml``.
    """
    from bayesmeta.frequentist.model import fitstats as _f

    if _is_mv(fit):
        from bayesmeta.frequentist.multilevel import fitstats_mv

        return fitstats_mv(fit, reml=reml)
    return _f(_fit_arg(fit, "fitstats"), reml=reml)


def robust(fit: Any, cluster: Any, adjust: bool = True, clubSandwich: bool = False):
    """Cluster-robust tests and confidence intervals (metafor ``robust``).

    Parameters
    ----------
    fit : RMAResult or MetaRegResult or RMAMVResult
    cluster : sequence
        Cluster label per study (in the fit's order).
    adjust : bool
        Small-sample factor n/(n - p) (CR1; metafor's default).
    clubSandwich : bool
        CR2 with Satterthwaite degrees of freedom, as R's clubSandwich.

    Returns
    -------
    RobustResult
        ``beta``, ``se``, ``tval``, ``df``, ``pval``, ``ci_lb``, ``ci_ub``, ``vb``, ``QM``, ``QM_p``.
    """
    if _is_mv(fit):
        from bayesmeta.frequentist.multilevel import robust_mv

        return robust_mv(fit, cluster, adjust=adjust, clubSandwich=clubSandwich)
    return _robust(_fit_arg(fit, "robust"), cluster, adjust, clubSandwich)


def _robust(fit: Any, cluster: Any, adjust: bool, club: bool):
    from bayesmeta.frequentist import robust as _r

    return _r.robust(fit, cluster, adjust=adjust, clubSandwich=club)


def influence(fit: Any):
    """Case-deletion diagnostics (metafor ``influence``).

    Parameters
    ----------
    fit : RMAResult or MetaRegResult

    Returns
    -------
    pandas.DataFrame
        ``rstudent``, ``dffits``, ``cook_d``, ``cov_r``, ``tau2_del``, ``QE_del``, ``hat``, ``weight``
        and ``dfbetas_<term>`` per study.
    """
    from bayesmeta.frequentist import influence as _i

    return _i.influence(_fit_arg(fit, "influence"))


def cooks_distance(fit: Any, cluster: Any = None, reestimate: bool = True):
    """Cook's distances (metafor ``cooks.distance``).

    Parameters
    ----------
    fit : RMAResult, MetaRegResult or RMAMVResult
    cluster : sequence, optional
        For a bm.rma_mv fit: leave out whole clusters (one label per row; clusters in sorted order, as
        metafor) instead of single rows.
    reestimate : bool
        For a bm.rma_mv fit: re-estimate the variance components in each refit (metafor's default),
        or hold them at the fit's values.

    Returns
    -------
    numpy.ndarray
        One distance per row (or cluster).
    """
    import numpy as np

    if _is_mv(fit):
        from bayesmeta.frequentist.multilevel import cooks_distance_mv

        return cooks_distance_mv(fit, cluster=cluster, reestimate=reestimate)
    if cluster is not None:
        raise ValueError("bm.cooks_distance: cluster= is for bm.rma_mv fits; bm.influence(fit) gives the "
                         "per-study distances of a bm.rma fit")
    return np.asarray(influence(fit).cook_d, float)


def hatvalues(fit: Any, type: str = "diagonal"):
    """Hat values (metafor ``hatvalues``): the diagonal, or the matrix :math:`X(X^\\top WX)^{-1}X^\\top W`.

    Parameters
    ----------
    fit : RMAResult or MetaRegResult or RMAMVResult
    type : {"diagonal", "matrix"}

    Returns
    -------
    numpy.ndarray
        (k,) or (k, k).
    """
    import numpy as np

    from bayesmeta.frequentist.model import model_of

    if _is_mv(fit):
        from bayesmeta.frequentist.multilevel import hatvalues_mv

        return hatvalues_mv(fit, type)
    m = model_of(_fit_arg(fit, "hatvalues"))
    w = 1.0 / (m.vi + m.tau2) if m.weights is None else m.weights
    XtW = m.X.T * w
    H = m.X @ np.linalg.solve(XtW @ m.X, XtW)
    if type == "diagonal":
        return np.diag(H).copy()
    if type == "matrix":
        return H
    raise ValueError("type must be 'diagonal' or 'matrix'")


def residuals(fit: Any, type: str = "response"):
    """Residuals of a fit (metafor ``residuals``).

    Parameters
    ----------
    fit : RMAResult, MetaRegResult, MHResult or PetoResult or RMAMVResult
    type : {"response", "rstandard", "rstudent", "pearson", "cholesky"}

    Returns
    -------
    numpy.ndarray
    """
    from bayesmeta.frequentist import residuals as _r

    if _is_mv(fit):
        from bayesmeta.frequentist.multilevel import rstandard_mv

        if type == "response":
            return fit.residuals
        if type == "rstandard":
            return rstandard_mv(fit).z.to_numpy()
        raise ValueError(f"bm.residuals: a bm.rma_mv fit has type 'response' or 'rstandard', not {type!r}")
    return _r.residuals(_resid_fit(fit, "residuals"), type=type)


def rstandard(fit: Any, cluster: Any = None):
    """Standardized residuals (metafor ``rstandard``).

    Parameters
    ----------
    fit : RMAResult, MetaRegResult, MHResult or PetoResult or RMAMVResult
    cluster : sequence, optional
        For a bm.rma_mv fit: also the quadratic form ``X2`` of the residuals per cluster; the result
        is then a dict ``{"obs": ..., "cluster": ...}`` (metafor's ``$obs``, ``$cluster``).

    Returns
    -------
    pandas.DataFrame
        ``resid``, ``se``, ``z`` per study.
    """
    from bayesmeta.frequentist import residuals as _r

    if _is_mv(fit):
        from bayesmeta.frequentist.multilevel import rstandard_mv

        return rstandard_mv(fit, cluster=cluster)
    if cluster is not None:
        raise ValueError("bm.rstandard: cluster= is for bm.rma_mv fits")
    return _r.rstandard(_resid_fit(fit, "rstandard"))


def rstudent(fit: Any, cluster: Any = None, reestimate: bool = True):
    """Studentized deleted residuals (metafor ``rstudent``).

    Parameters
    ----------
    fit : RMAResult, MetaRegResult, MHResult, PetoResult or RMAMVResult
    cluster : sequence, optional
        For a bm.rma_mv fit: delete whole clusters (one label per row); the result is then a dict
        ``{"obs": ..., "cluster": ...}`` with ``X2`` and ``k`` per cluster (metafor's ``$obs``, ``$cluster``).
    reestimate : bool
        For a bm.rma_mv fit: re-estimate the variance components in each refit (metafor's default).

    Returns
    -------
    pandas.DataFrame
        ``resid``, ``se``, ``z`` per study (or row).
    """
    from bayesmeta.frequentist import residuals as _r

    if _is_mv(fit):
        from bayesmeta.frequentist.multilevel import rstudent_mv

        return rstudent_mv(fit, cluster=cluster, reestimate=reestimate)
    if cluster is not None:
        raise ValueError("bm.rstudent: cluster= is for bm.rma_mv fits")
    return _r.rstudent(_resid_fit(fit, "rstudent"))


def _resid_fit(fit: Any, fn: str) -> Any:
    from bayesmeta.frequentist import rare

    if isinstance(fit, _mh.MHResult | rare.PetoResult):
        return fit
    return _fit_arg(fit, fn)


def leave1out(fit: Any):
    """Leave-one-out estimates (metafor ``leave1out``).

    Parameters
    ----------
    fit : RMAResult, MHResult or PetoResult
        An intercept-only fit of :func:`rma`, :func:`rma_mh` or :func:`rma_peto`.

    Returns
    -------
    pandas.DataFrame
        One row per left-out study: ``estimate``, ``se``, ``zval``, ``pval``, ``ci_lb``, ``ci_ub``, ``Q``,
        ``Q_p``, ``I2`` (and ``tau2``, ``H2`` for :func:`rma` fits).
    """
    import numpy as np
    import pandas as pd

    from bayesmeta.frequentist import influence as _i
    from bayesmeta.frequentist import rare

    if isinstance(fit, _mh.MHResult | rare.PetoResult):
        if fit.counts is None:
            raise ValueError("bm.leave1out: this fit does not carry its 2x2 counts")
        a, n1, c, n2 = fit.counts
        rows = []
        r: Any
        for i in range(a.size):
            keep = np.arange(a.size) != i
            if isinstance(fit, _mh.MHResult):
                r = _mh.rma_mh(a[keep], n1[keep], c[keep], n2[keep], measure=fit.measure, level=fit.level,
                               drop00=fit.drop00, rd_variance=fit.rd_variance, mh_correction=fit.mh_correction,
                               add=fit.add)
            else:
                r = rare.rma_peto(a[keep], n1[keep], c[keep], n2[keep], level=fit.level)
            rows.append({"study": f"study {i + 1}", "estimate": r.estimate, "se": r.se, "zval": r.zval,
                         "pval": r.pval, "ci_lb": r.ci_lb, "ci_ub": r.ci_ub, "Q": r.Q, "Q_p": r.Q_p, "I2": r.I2,
                         "H2": r.Q / r.QE_df if r.QE_df > 0 else float("nan")})
        return pd.DataFrame(rows)
    f = _fit_arg(fit, "leave1out")
    if not isinstance(f, _rma.RMAResult):
        raise ValueError("bm.leave1out needs a model without moderators (as metafor)")
    return _i.leave1out(f)


def cumul(fit: Any, order: Any = None):
    """Cumulative meta-analysis (metafor ``cumul``).

    Parameters
    ----------
    fit : RMAResult
        An intercept-only fit.
    order : sequence of int, optional
        0-based positions of the studies in the order they are added (default the fit's order).

    Returns
    -------
    pandas.DataFrame
        One row per step: ``study`` added, ``estimate``, ``se``, ``zval``, ``pval``, ``ci_lb``, ``ci_ub``,
        ``Q``, ``Q_p``, ``tau2``, ``I2``, ``H2``.
    """
    from bayesmeta.frequentist import influence as _i

    return _i.cumul(_fit_arg(fit, "cumul"), order=order)


def _ni(fit: Any, data: EffectTable | None):
    import numpy as np

    if data is not None and data.arms is not None and {"n1i", "n2i"} <= set(data.arms.columns):
        return (data.arms["n1i"].to_numpy(float) + data.arms["n2i"].to_numpy(float))
    if data is not None and "ni" in data.moderators:
        return np.asarray(data.moderators["ni"], float)
    return None


def regtest(fit: Any, model: str = "rma", predictor: str = "sei", *, ni: Any = None, data: EffectTable | None = None):
    """Regression test for funnel-plot asymmetry (metafor ``regtest``).

    Parameters
    ----------
    fit : fit of bm.rma, or an EffectTable (then fitted with REML first, as metafor's default)
    model : {"rma", "lm"}
    predictor : {"sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv"}
    ni : array_like, optional
        Sample sizes for the ``ni`` predictors (default: from the table's arm-level data).
    data : EffectTable, optional
        The table the fit was made from (for its sample sizes).
    """
    from bayesmeta.frequentist import small_study

    if isinstance(fit, EffectTable):
        data, fit = fit, rma(fit)
    f = _fit_arg(fit, "regtest")
    return small_study.egger_test(f, model=model, predictor=predictor, ni=ni if ni is not None else _ni(f, data))


def ranktest(fit: Any, exact: bool = True):
    """Begg & Mazumdar's rank correlation test for funnel-plot asymmetry (metafor ``ranktest``).

    Parameters
    ----------
    fit : fit of :func:`rma` or EffectTable
    exact : bool
        Exact p-value when possible (k < 50, no ties), as R's ``cor.test``.

    Returns
    -------
    RanktestResult
        ``tau`` (Kendall's), ``pval``.
    """
    from bayesmeta.frequentist import small_study

    if isinstance(fit, EffectTable):
        return small_study.ranktest(fit.yi, fit.vi, exact=exact)
    f = _fit_arg(fit, "ranktest")
    return small_study.ranktest(f.yi, f.vi, exact=exact)


def trimfill(fit: Any, side: str | None = None):
    """Duval & Tweedie's trim and fill with the L0 estimator (metafor ``trimfill``).

    Parameters
    ----------
    fit : RMAResult
        An intercept-only fit.
    side : {"left", "right"}, optional
        Side of the missing studies (default from Egger's slope, as metafor).

    Returns
    -------
    TrimFillResult
        ``k0``, ``se_k0``, ``side``, ``fit`` (the filled-in fit).
    """
    from bayesmeta.frequentist import small_study

    f = _fit_arg(fit, "trimfill")
    if not isinstance(f, _rma.RMAResult):
        raise ValueError("bm.trimfill needs a model without moderators (as metafor)")
    return small_study.trimfill(f, side=side)


def fsn(data: Any, type: str = "Rosenthal", alpha: float = 0.05, target: float | None = None):
    """Fail-safe N (metafor ``fsn``).

    Parameters
    ----------
    data : EffectTable or fit of :func:`rma`
    type : {"Rosenthal", "Orwin", "Rosenberg"}
    alpha : float
        Significance level (one-sided for Rosenthal).
    target : float, optional
        Orwin's target average effect (default half the observed one).

    Returns
    -------
    FsnResult
        ``fsnum``, ``pval``, ``est``, ``target``.
    """
    from bayesmeta.frequentist import fail_safe

    src = data if isinstance(data, EffectTable) else _fit_arg(data, "fsn")
    return fail_safe.fsn(src.yi, src.vi, type=type, alpha=alpha, target=target)


def hc(fit: Any):
    """Henmi & Copas (2010) estimate and confidence interval beside the fit's (metafor ``hc``).

    Parameters
    ----------
    fit : RMAResult
        An intercept-only fit.

    Returns
    -------
    HCResult
        ``beta``, ``se``, ``ci_lb``, ``ci_ub``, ``tau2`` and the fit's ``beta_rma``, ``ci_lb_rma``, ...
    """
    from bayesmeta.frequentist import henmi_copas

    f = _fit_arg(fit, "hc")
    if not isinstance(f, _rma.RMAResult):
        raise ValueError("bm.hc needs a model without moderators (as metafor)")
    b, se, lb, ub, t2 = henmi_copas.hc(f.yi, f.vi, level=f.level)
    return henmi_copas.HCResult(beta=b, se=se, ci_lb=lb, ci_ub=ub, tau2=t2, beta_rma=f.mu, se_rma=f.se,
                                ci_lb_rma=f.ci_lb, ci_ub_rma=f.ci_ub, tau2_rma=f.tau2, method_rma=f.method,
                                level=f.level)


def selmodel(data: Any, type: str = "stepfun", steps: Sequence[float] | float | None = None,
             alternative: str = "greater", method: str | None = None, level: float = 0.95,
             prec: str | None = None, delta: Sequence[float] | float | None = None, scaleprec: bool = True,
             ni: Sequence[float] | None = None, **kwargs: Any):
    """Selection model by maximum likelihood (metafor ``selmodel``) of an EffectTable or an ``rma`` fit.

    Parameters
    ----------
    data : EffectTable or fit of bm.rma
        Its data and ``method`` (EE stays common-effect, every other estimator is refitted by ML, as
        metafor). A meta-regression fit (``bm.rma(es, mods=...)``) is supported by the continuous
        selection functions.
    type : {"stepfun", "beta", "halfnorm", "negexp", "logistic", "power", "negexppow", "halfnorm2",
        "negexp2", "logistic2", "power2"}
        Selection function: metafor's step function (Vevea & Hedges 1995), the beta function
        (Citkowicz & Vevea 2017) or the exponential/power families (Preston et al. 2004); see
        :mod:`bayesmeta.frequentist.selection_functions` for the formulas and parameter bounds.
    steps : sequence of float or float, optional
        Step function: p-value cut-points (default 0.025; 1 is appended). Continuous families except
        beta: one value alpha below which studies have weight 1 (default: none).
    alternative : {"greater", "less", "two.sided"}
    method : {"ML", "EE"}, optional
        Default: EE for a common-effect fit, else ML.
    level : float
    prec : {"sei", "vi", "ninv", "sqrtninv"}, optional
        Continuous families: precision multiplier of delta (``ni`` needed for the last two),
        divided by its maximum unless ``scaleprec=False``.
    delta : sequence of float, optional
        Fixed values of the selection parameters (NaN = estimated): for the step function one weight
        per interval (the first 1), e.g. Vevea & Woods' (2005) a-priori weight patterns.
    **kwargs
        Step function only: ``delta_max`` (upper bound of the weights, metafor's
        ``control=list(delta.max=)``), ``decreasing=True`` (non-increasing weights).

    Returns
    -------
    SelectionModelResult (step function) or SelectionFamilyResult (continuous families)
    """
    from bayesmeta.frequentist import selection, selection_functions
    from bayesmeta.frequentist.metareg import MetaRegResult

    families = ("stepfun", *selection_functions.FAMILIES)
    if not isinstance(type, str) or type not in families:
        raise ValueError(f"bm.selmodel: type {type!r} is unknown; choose one of "
                         f"{', '.join(repr(t) for t in families)}")
    X = names = None
    if isinstance(data, EffectTable):
        yi, vi, labels, meth = data.yi, data.vi, data.labels, "ML"
    else:
        f = _fit_arg(data, "selmodel")
        if isinstance(f, MetaRegResult):
            if type == "stepfun":
                raise ValueError("bm.selmodel: the step function with moderators is not supported; fit an "
                                 "intercept-only model (bm.rma(es)) or use a continuous type such as 'beta'")
            X, names = f.X, f.names
            yi, vi, labels, meth = f.yi, f.vi, f.labels, "EE" if f.method in ("EE", "FE", "CE") else "ML"
        else:
            yi, vi, labels, meth = f.yi, f.vi, f.labels, "EE" if f.common_effect else "ML"
    if type == "stepfun":
        extra = [n for n, v in (("prec", prec), ("ni", ni)) if v is not None]
        extra += sorted(set(kwargs) - {"delta_max", "decreasing"})
        if extra:
            raise ValueError(f"bm.selmodel: {', '.join(extra)} is not available for type='stepfun' "
                             "(it takes steps, alternative, method, level, delta, delta_max, decreasing)")
    elif kwargs:
        raise ValueError(f"bm.selmodel: unknown argument(s) {', '.join(sorted(kwargs))} for type={type!r}")
    try:
        if type == "stepfun":
            return selection.selmodel(yi, vi, steps=(0.025,) if steps is None else steps, alternative=alternative,
                                      method=method or meth, level=_level(level), labels=labels, delta=delta,
                                      **kwargs)
        return selection_functions.selmodel_family(
            yi, vi, type, alternative=alternative, method=method or meth, X=X, names=names, steps=steps, prec=prec,
            ni=ni, scaleprec=scaleprec, delta=delta, level=_level(level), labels=labels)
    except ValueError as e:
        raise ValueError(f"bm.selmodel: {e}") from None
