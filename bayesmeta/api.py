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
    "rma",
    "rma_mh",
    "sample",
    "sample_multilevel",
    "selmodel",
    "solve",
    "subgroup_analysis",
    "subgroup_analysis_mh",
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
    return {c: arms[c].to_numpy(float) for c in ("ai", "n1i", "ci", "n2i")}


def rma(
    data: EffectTable,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    tau2: float | None = None,
    pi: str = "metafor",
) -> _rma.RMAResult:
    """Common-effect or random-effects meta-analysis, as metafor's ``rma``.

    Parameters
    ----------
    data : EffectTable
    method : {"EE", "DL", "REML", "PM", "ML", "HE", "SJ"}
        tau^2 estimator (metafor's codes).
    test : {"z", "t", "knha", "knha_adhoc"}
    level : float
        Confidence level.
    tau2 : float, optional
        Fix tau^2.
    pi : {"metafor", "t_k-2"}
        Default prediction interval.

    Returns
    -------
    RMAResult
        See :func:`bayesmeta.frequentist.rma.rma`.

    Examples
    --------
    >>> import bayesmeta as bm
    >>> es = bm.EffectTable.from_yi_vi([0.1, 0.3, 0.35, 0.65], [0.01, 0.02, 0.015, 0.05])
    >>> round(bm.rma(es, method="DL").mu, 4)  # metafor: coef(rma(yi, vi, method="DL")) = 0.2973588
    0.2974
    """
    t = _table(data, "rma")
    return _rma.rma(t.yi, vi=t.vi, labels=t.labels, method=method, test=test, level=level, tau2=tau2, pi=pi)


def rma_mh(
    data: EffectTable, *args: Any, measure: str | None = None, level: float = 0.95, **kwargs: Any
) -> _mh.MHResult:
    """Mantel-Haenszel meta-analysis of the table's 2x2 counts (RevMan 5 / metafor ``rma.mh``).

    Parameters
    ----------
    data : EffectTable
        Made from binary arm-level data (it keeps every study, also those not estimable).
    measure : {"RR", "OR", "RD"}, optional
        Default: the table's measure.
    level : float
    **kwargs
        Passed to :func:`bayesmeta.frequentist.mantel_haenszel.rma_mh` (``drop00``,
        ``rd_variance``, ``mh_correction``, ``add``, ``method_tau``).

    Returns
    -------
    MHResult
    """
    t = _table(data, "rma_mh")
    if args:
        raise TypeError("bm.rma_mh takes the EffectTable and keyword arguments (measure=, level=, ...)")
    return _mh.rma_mh(**_binary_arms(t, "rma_mh"), measure=measure or t.measure, level=level, **kwargs)


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


def selmodel(data: EffectTable, steps: Sequence[float] = (0.025,), alternative: str = "greater",
             method: str = "ML", level: float = 0.95):
    """Step-function selection model by maximum likelihood (metafor ``selmodel(type="stepfun")``).

    Parameters
    ----------
    data : EffectTable
    steps : sequence of float
        One-sided p-value cut-points (1 is appended).
    alternative : {"greater", "less"}
        Direction in which significant results are favoured.
    method : {"ML", "EE"}
        Random effects (tau^2 by ML) or common effect.
    level : float
        Confidence level of the Wald CI of mu.

    Returns
    -------
    SelectionModelResult
        See :func:`bayesmeta.frequentist.selection.selmodel`.
    """
    from bayesmeta.frequentist import selection

    t = _table(data, "selmodel")
    return selection.selmodel(t.yi, t.vi, steps=steps, alternative=alternative, method=method, level=level,
                              labels=t.labels)


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
