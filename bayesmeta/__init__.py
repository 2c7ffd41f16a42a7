"""bayesmeta: Bayesian reanalysis of published meta-analyses.

Reproduce a published (RevMan / metafor) random-effects meta-analysis exactly, then reanalyse it
with explicit, literature-backed priors: exact normal-normal posteriors by numerical integration,
hierarchical models in PyMC sampled with nutpie, ArviZ diagnostics, decision probabilities.

The front door (``import bayesmeta as bm``):

* data in: :func:`read_csv` (the table type is chosen from the columns; ``docs/data-format.md``)
  and :func:`read_table`, :func:`escalc` and the :class:`EffectTable` constructors
  (``from_yi_vi``, ``from_yi_sei``, ``from_ci``, ``from_arms``);
* estimators, each taking an EffectTable: :func:`rma`, :func:`rma_mh`, :func:`solve` (exact),
  :func:`sample` (PyMC), :func:`sample_multilevel`, :func:`subgroup_analysis`,
  :func:`subgroup_analysis_mh`, :func:`mixed_effects_test`, :func:`model_average`;
* priors: the :mod:`bm.priors <bayesmeta.bayes.priors>` namespace and :func:`from_atlas`;
* decisions, sensitivity and checks: :class:`Orientation`, :func:`prob_noninferior`,
  :func:`prob_benefit`, :func:`prob_harm`, :func:`prob_rope`, :func:`noninferiority_curve`,
  :func:`decision_table`, :func:`prior_sensitivity`, :func:`prior_grid`,
  :func:`posterior_predictive_check`;
* published results: :func:`check_published`, :func:`posterior_mu`,
  :func:`correct_repeated_timepoints`;
* the whole reanalysis from a spec: :func:`reanalyze`;
* plots returning matplotlib Axes: ``bm.plot.forest``, ``bm.plot.funnel``, ``bm.plot.posterior``,
  ``bm.plot.noninferiority`` (:mod:`bayesmeta.plot`).

Examples
--------
>>> import bayesmeta as bm
>>> es = bm.EffectTable.from_yi_sei([0.1, 0.3, -0.2], [0.1, 0.2, 0.15], measure="SMD")
>>> round(bm.rma(es, method="DL").mu, 4)
0.0506
"""

import sys as _sys

if _sys.version_info < (3, 12):  # noqa: UP036  # pragma: no cover - guarded at install time too
    raise ImportError(
        "bayesmeta needs Python >= 3.12 (PyMC >= 6 and ArviZ >= 1.3 do not support "
        f"Python {_sys.version.split()[0]}). Run ./dev, which finds a suitable interpreter."
    )

from typing import TYPE_CHECKING as _TYPE_CHECKING

# the compile caches' folders (PyTensor, numba) go into the environment before anything imports
# either (os and pathlib only): `import bayesmeta` did this when it loaded the engines eagerly
from bayesmeta.bayes import _env  # noqa: F401

# Every public name is imported on first use (PEP 562 ``__getattr__`` below): ``import bayesmeta``
# and every CLI command start without loading the exact engine, xarray, scipy.optimize, numba,
# pandas or matplotlib until a name that needs them is touched (issue 20: `bayesmeta batch` on
# 10,000 rows spent 4 s of its 7 s importing). ``bm.rma(...)``, ``from bayesmeta import rma`` and
# ``dir(bm)`` behave as before; the imports below are for type checkers and IDEs only, and
# :data:`_LAZY` must name the same modules (tests/test_lazy_import.py checks both).
if _TYPE_CHECKING:
    # issue 18 (helper nb): bm.plot (matplotlib, the report's figure code)
    from bayesmeta import plot

    # the metafor-shaped front door: estimators and post-fit verbs (helper "metafor")
    from bayesmeta.api import (
        anova,
        blup,
        confint,
        cooks_distance,
        cumul,
        fitstats,
        fsn,
        hatvalues,
        hc,
        influence,
        leave1out,
        leave_one_out,
        mixed_effects_test,
        model_average,
        posterior_predictive_check,
        predict,
        prior_sensitivity,
        publication_bias,
        ranef,
        ranktest,
        regtest,
        residuals,
        rma,
        rma_glmm,
        rma_mh,
        rma_mv,
        rma_peto,
        robust,
        rstandard,
        rstudent,
        sample,
        sample_multilevel,
        selmodel,
        solve,
        subgroup_analysis,
        subgroup_analysis_mh,
        trimfill,
    )
    from bayesmeta.bayes import priors
    from bayesmeta.bayes.prior_atlas import from_atlas
    from bayesmeta.data.readers import detect_type, read_csv, read_table

    # RevMan 5 and Cochrane review files: read a review, reproduce RevMan's stored results (issue 19)
    from bayesmeta.data.revman import Review, read_revman
    from bayesmeta.data.tables import Vocabulary
    from bayesmeta.decide.decision import (
        Orientation,
        decision_table,
        margin_from_native,
        noninferiority_curve,
        prob_benefit,
        prob_harm,
        prob_noninferior,
        prob_rope,
    )
    from bayesmeta.decide.sensitivity import prior_grid, tipping_prior_mean, tipping_prior_scale
    from bayesmeta.effects.measures import (
        FAMILIES,
        MEASURES,
        Measure,
        get_measure,
    )
    from bayesmeta.effects.table import EffectTable, escalc
    from bayesmeta.errors import DataError, Problem
    from bayesmeta.published.consistency import check_published
    from bayesmeta.published.pooled import posterior_mu
    from bayesmeta.published.revman_check import RevManCheck, check_revman
    from bayesmeta.published.unit_of_analysis import correct_repeated_timepoints

# public name -> module that defines it (a module name alone: the name is that module)
_LAZY: dict[str, str] = {
    "plot": "bayesmeta.plot",
    "priors": "bayesmeta.bayes.priors",
    **dict.fromkeys(
        ("anova", "blup", "confint", "cooks_distance", "cumul", "fitstats", "fsn", "hatvalues", "hc",
         "influence", "leave1out", "leave_one_out", "mixed_effects_test", "model_average",
         "posterior_predictive_check", "predict", "prior_sensitivity", "publication_bias", "ranef",
         "ranktest", "regtest", "residuals", "rma", "rma_glmm", "rma_mh", "rma_mv", "rma_peto", "robust",
         "rstandard", "rstudent", "sample", "sample_multilevel", "selmodel", "solve", "subgroup_analysis",
         "subgroup_analysis_mh", "trimfill"),
        "bayesmeta.api",
    ),
    "from_atlas": "bayesmeta.bayes.prior_atlas",
    **dict.fromkeys(("Review", "read_revman"), "bayesmeta.data.revman"),
    **dict.fromkeys(("detect_type", "read_csv", "read_table"), "bayesmeta.data.readers"),
    "Vocabulary": "bayesmeta.data.tables",
    **dict.fromkeys(
        ("Orientation", "decision_table", "margin_from_native", "noninferiority_curve", "prob_benefit",
         "prob_harm", "prob_noninferior", "prob_rope"),
        "bayesmeta.decide.decision",
    ),
    **dict.fromkeys(("prior_grid", "tipping_prior_mean", "tipping_prior_scale"), "bayesmeta.decide.sensitivity"),
    **dict.fromkeys(("FAMILIES", "MEASURES", "Measure", "get_measure"), "bayesmeta.effects.measures"),
    **dict.fromkeys(("EffectTable", "escalc"), "bayesmeta.effects.table"),
    **dict.fromkeys(("DataError", "Problem"), "bayesmeta.errors"),
    "check_published": "bayesmeta.published.consistency",
    "posterior_mu": "bayesmeta.published.pooled",
    **dict.fromkeys(("RevManCheck", "check_revman"), "bayesmeta.published.revman_check"),
    "correct_repeated_timepoints": "bayesmeta.published.unit_of_analysis",
}
_MODULES = frozenset({"plot", "priors"})

__version__ = "0.1.0"


def reanalyze(spec, out=None, progress: bool = False):
    """Run the whole reanalysis a TOML spec describes and write its report.

    Parameters
    ----------
    spec : str or Path
        The analysis spec (``docs/spec.md``), e.g. ``models/viderman2023.toml``.
    out : str or Path, optional
        Report folder (default: the spec's ``report`` key).
    progress : bool
        Print progress.

    Returns
    -------
    (Reanalysis, WrittenReport)
        The frozen results (:mod:`bayesmeta.pipeline.reanalysis`) and the report folder written
        (:mod:`bayesmeta.report.writer`).
    """
    from bayesmeta.report.writer import run

    return run(spec, out=out, progress=progress)


def load(path, expected_data_hash: str | None = None, check_inputs: bool = True):
    """Load a saved Bayesian result (netCDF); refuses one whose input files changed since
    (``check_inputs``) or whose data hash differs from ``expected_data_hash``."""
    from bayesmeta.bayes.result import load as _load

    return _load(path, check_inputs=check_inputs, expected_data_hash=expected_data_hash)


__all__ = [
    # issue 18 (helper nb)
    "FAMILIES",
    "plot",
    # the front door
    "MEASURES",
    "DataError",
    "EffectTable",
    "Measure",
    "Orientation",
    "Problem",
    "Vocabulary",
    "__version__",
    "check_published",
    "correct_repeated_timepoints",
    "decision_table",
    "detect_type",
    "escalc",
    "from_atlas",
    "get_measure",
    "leave_one_out",
    "load",
    "margin_from_native",
    "mixed_effects_test",
    "model_average",
    "noninferiority_curve",
    "posterior_mu",
    "posterior_predictive_check",
    "prior_grid",
    "prior_sensitivity",
    "publication_bias",
    "priors",
    "prob_benefit",
    "prob_harm",
    "prob_noninferior",
    "prob_rope",
    "read_csv",
    "read_table",
    "reanalyze",
    "rma",
    "rma_mh",
    "sample",
    "sample_multilevel",
    "selmodel",
    "solve",
    "subgroup_analysis",
    "subgroup_analysis_mh",
    "tipping_prior_mean",
    "tipping_prior_scale",
]

# RevMan 5 and Cochrane review files (issue 19)
__all__ += ["Review", "RevManCheck", "check_revman", "read_revman"]
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
    "rma_glmm",
    "rma_mv",
    "rma_peto",
    "robust",
    "trimfill",
]


def __getattr__(name: str):
    """A public name on first use (PEP 562): its module is imported then, and the value cached in
    the package namespace so later lookups are plain attribute reads."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'bayesmeta' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(module_name)
    value = module if name in _MODULES else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
