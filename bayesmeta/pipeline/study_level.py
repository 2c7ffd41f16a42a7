"""Study-level reanalysis: frequentist reproduction, exact and sampled Bayesian fits, prior
sensitivity, predictive checks and the comparison table, for one outcome with study rows.

:func:`run_block` runs one ``[[study_level]]`` block of a spec (reads its arm file, analyses it,
returns a frozen :class:`StudyLevelBlock`); :func:`analyse` is the analysis itself, callable from
scripts. When the rows an analysis needs are missing, :class:`MissingStudyData` names them instead
of failing obscurely, and the block says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayesmeta.bayes.exact import solve
from bayesmeta.bayes.priors import Prior
from bayesmeta.decide.checks import exact_loo, posterior_predictive_check
from bayesmeta.decide.decision import (
    Orientation,
    decision_flips,
    decision_table,
    margin_grid,
    noninferiority_curve,
)
from bayesmeta.effects.escalc import escalc
from bayesmeta.errors import DataError, Problem
from bayesmeta.frequentist.mantel_haenszel import rma_mh
from bayesmeta.frequentist.rma import rma

if TYPE_CHECKING:
    from bayesmeta.bayes.exact import NormalNormalPosterior
    from bayesmeta.bayes.result import BayesResult
    from bayesmeta.data.moderators import Moderator
    from bayesmeta.pipeline.diagnostics import Diagnostics, MetaRegression
    from bayesmeta.pipeline.spec import StudyLevelSpec


class MissingStudyData(ValueError):
    """The study-level analysis needs values that the data do not hold."""

    def __init__(self, what: str, missing: pd.DataFrame):
        self.missing = missing
        first = "; ".join(
            " ".join(str(r[k]) for k in ("study", "timepoint", "arm", "field") if k in r and str(r[k]))
            + (f" ({r['reason']})" if str(r.get("reason", "") or "") else "")
            for r in missing.head(3).to_dict("records")
        )
        super().__init__(
            f"{what}: {len(missing)} required values are missing" + (f" (first: {first})" if first else "")
        )


@dataclass(frozen=True)
class StudyLevelResult:
    """Every number of one study-level analysis (the report only reads it).

    ``exact`` is the exact posterior under the primary priors; ``y_rep`` are replicated study
    effects (4,000 posterior predictive draws) for the predictive-check figure; ``sampled`` and
    ``binomial`` are the sampled fits (:class:`bayesmeta.bayes.result.BayesResult`) when run.
    """

    label: str
    measure: str
    orientation: Orientation
    labels: list
    yi: np.ndarray
    sei: np.ndarray
    frequentist: pd.DataFrame
    exact: NormalNormalPosterior  # with the primary priors
    sensitivity: pd.DataFrame
    decisions: pd.DataFrame
    curves: pd.DataFrame
    checks: pd.DataFrame
    loo: pd.DataFrame
    comparison: pd.DataFrame
    y_rep: np.ndarray
    sampled: BayesResult | None = None
    binomial: BayesResult | None = None
    arms: pd.DataFrame | None = None  # arm data of every complete study (columns of the forest plot)
    diagnostics: Diagnostics | None = None  # influence, leave-one-out, small-study (pipeline/diagnostics.py)
    metaregression: tuple[MetaRegression, ...] = ()  # one per declared moderator
    # flags and checks (numbers only; the report writes the sentences)
    n_not_estimable: int = 0  # double-zero studies left out of the normal-normal analyses
    data_notes: tuple[str, ...] = ()  # the reader's record: arms and studies left out, zero-cell rule applied
    question: str = "noninferiority"
    diagnostics_skipped: bool = False  # fewer than 3 studies
    sampling_skipped_improper: bool = False  # an improper primary prior: the sampler was not run
    sampler_check: Any = None  # SamplerCheck
    binomial_check: Any = None  # BinomialCheck


@dataclass(frozen=True)
class StudyLevelBlock:
    """One ``[[study_level]]`` block of a spec: its result, or why it could not run.

    ``missing`` lists the values that are missing (when ``result`` is None); ``expected`` is the
    spec's ``expected_missing`` (the values are known to be unavailable, so the run still succeeds).
    """

    spec: StudyLevelSpec
    result: StudyLevelResult | None
    missing: pd.DataFrame | None
    message: str
    expected: bool = False
    moderators: pd.DataFrame | None = None  # declared moderators of a block that did not run (moderator_status)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def label(self) -> str:
        return self.spec.label


ARM_TYPES = ("continuous_arms", "binary_arms")
STUDY_TYPES = (*ARM_TYPES, "continuous_studies", "binary_studies", "contrasts")


def data_kind(path) -> str:
    """The table type of a study-data CSV, from its columns (:func:`bayesmeta.data.readers.detect_type`)."""
    from bayesmeta.data.readers import _header, detect_type

    path = Path(path)
    if not path.is_file():
        raise DataError(
            Problem(str(path), None, None, "file not found" if not path.exists() else "is not a file")
        )
    return detect_type(_header(path), str(path))


def read_arm_table(path, experimental: str | None = None, control: str | None = None):
    """Read an arm-level CSV (type chosen from its columns by :func:`bayesmeta.data.readers.read_table`).

    The arm labels are ``experimental``/``control`` (from the spec); a ``vocabulary.toml`` beside
    the file that names other arms is an error naming both, so the labels have one source.
    """
    from bayesmeta.data.readers import read_table
    from bayesmeta.data.tables import Vocabulary

    path = Path(path)
    kind = data_kind(path)
    if kind in ("continuous_studies", "binary_studies"):  # one row per study: the same arm rows
        from bayesmeta.data.tables import studies_as_arms

        return studies_as_arms(read_table(path, kind), experimental or "experimental", control or "control")
    if kind not in ARM_TYPES:
        raise DataError(Problem(str(path), 1, None, f"holds {kind}, not arm-level rows"))
    vfile = path.parent / "vocabulary.toml"
    if experimental is not None and vfile.exists():
        vocab = Vocabulary.load(vfile)
        if vocab.experimental and (vocab.experimental, vocab.control) != (experimental, control):
            raise DataError(
                Problem(
                    str(vfile),
                    None,
                    "arms",
                    f"names the arms {vocab.experimental!r} (experimental) and {vocab.control!r} "
                    f"(control), but the spec (analysis.experimental / analysis.control) names them "
                    f"{experimental!r} and {control!r}: make them agree",
                )
            )
    return read_table(path, kind, experimental=experimental, control=control)


@dataclass(frozen=True)
class BlockInputs:
    """The validated inputs of one ``[[study_level]]`` block: its effect rows, counts, arm table and
    moderators (read by :func:`block_inputs` before any analysis runs)."""

    kind: str
    yi: np.ndarray
    vi: np.ndarray
    labels: list
    counts: Any
    table: Any
    left_out: Any
    moderators: Any
    moderator_specs: tuple


def run_block(spec, b) -> StudyLevelBlock:
    """Run one ``[[study_level]]`` block ``b`` of ``spec`` (an :class:`AnalysisSpec`)."""
    inp = block_inputs(spec, b)
    if isinstance(inp, StudyLevelBlock):
        return inp
    return analyse_block(spec, b, inp)


def block_inputs(spec, b) -> BlockInputs | StudyLevelBlock:
    """Read and validate the data of block ``b``: its inputs, or (study values not yet entered) the
    block that says what is missing. Raises :class:`DataError` naming the spec key or the file's
    line and column, so a run can collect the problems of every block before analysing any."""
    from bayesmeta.data.readers import read_csv

    path = spec.data_dir / b.file
    i = spec.study_level.index(b)
    counts = None
    if not path.is_file():
        have = ", ".join(sorted(p.name for p in spec.data_dir.glob("*.csv"))) or "none"
        raise DataError(
            Problem(
                str(spec.path),
                None,
                f"study_level[{i}].file",
                f"{path} not found (CSV files in the data folder: {have})",
            )
        )
    kind = data_kind(path)
    data = "binary" if kind in ("binary_arms", "binary_studies") else "continuous"
    if kind in ("binary_arms", "binary_studies", "continuous_arms", "continuous_studies"):
        from bayesmeta.effects.measures import get_measure

        if get_measure(b.measure).data != data:
            fits = "RR, OR or RD" if data == "binary" else "SMD, SMD_revman, MD or ROM"
            raise DataError(
                Problem(
                    str(spec.path),
                    None,
                    f"study_level[{i}].measure",
                    f"{b.measure} does not fit {path.name}, which holds {data} data: use {fits}",
                )
            )
    if kind not in STUDY_TYPES:
        raise DataError(
            Problem(
                str(spec.path),
                None,
                f"study_level[{i}].file",
                f"{path} holds {kind}, not study data (arm-level rows, one row per study, or contrasts)",
            )
        )
    if kind == "contrasts":
        es = read_csv(
            path,
            measure=b.measure,
            outcome=None if b.outcome == path.stem else b.outcome,
            timepoint=b.timepoint,
            experimental=spec.experimental,
            control=spec.control,
        )
        yi, vi, labels = np.asarray(es.yi, float), np.asarray(es.vi, float), list(es.labels)
        if len(yi) < 2:
            raise DataError(Problem(str(path), None, None, f"{len(yi)} studies: at least 2 are needed"))
    else:
        table = read_arm_table(path, spec.experimental, spec.control)
        frame = table.frame
        outcomes = set(frame["outcome"].dropna()) if "outcome" in frame else set()
        if b.outcome not in outcomes:
            raise DataError(
                Problem(
                    str(spec.path),
                    None,
                    f"study_level[{i}].outcome",
                    f"{b.outcome!r} is not an outcome of {path} (it has: "
                    f"{', '.join(sorted(map(str, outcomes)))})",
                )
            )
        tps_present = (
            sorted(map(str, frame.loc[frame["outcome"] == b.outcome, "timepoint"].dropna().unique()))
            if "timepoint" in frame
            else []
        )
        if b.timepoint is not None and b.timepoint not in tps_present:
            raise DataError(
                Problem(
                    str(spec.path),
                    None,
                    f"study_level[{i}].timepoint",
                    f"{b.timepoint!r} is not a time point of {b.outcome!r} in {path} (it has: "
                    f"{', '.join(tps_present) or 'none'})",
                )
            )
        if b.timepoint is None and "timepoint" in frame:
            tps = frame.loc[frame["outcome"] == b.outcome].groupby("study")["timepoint"].nunique()
            if (tps > 1).any():
                raise DataError(
                    Problem(
                        str(spec.path),
                        None,
                        f"study_level[{i}].timepoint",
                        f"studies {', '.join(map(str, tps[tps > 1].index[:5]))} have several time points "
                        f"for {b.outcome!r}: pooling them would count the same patients more than "
                        "once; name one with timepoint = '...'",
                    )
                )
        try:
            yi, vi, labels, counts, _ = contrasts_from_arms(
                table, b.outcome, b.measure, b.timepoint, preset=b.preset
            )
        except MissingStudyData as e:
            mstat = moderator_status(spec, b) if b.moderators else None
            return StudyLevelBlock(b, None, e.missing, str(e), expected=b.expected_missing, moderators=mstat)
        left_out = left_out_notes(table, b.outcome, b.timepoint, labels, counts, b.measure, b.preset)
    mframe, mods = read_moderators(spec, b, labels) if b.moderators else (None, ())
    return BlockInputs(kind, yi, vi, labels, counts, None if kind == "contrasts" else table,
                       None if kind == "contrasts" else left_out, mframe, tuple(mods))


def analyse_block(spec, b, inp: BlockInputs) -> StudyLevelBlock:
    """Analyse block ``b`` from its validated inputs (:func:`block_inputs`)."""
    yi, vi, labels, counts = inp.yi, inp.vi, inp.labels, inp.counts
    mframe, mods = inp.moderators, inp.moderator_specs
    orient = Orientation(
        lower_is_better=b.lower_is_better,
        measure=b.measure,
        experimental=spec.experimental,
        control=spec.control,
        superiority_threshold=b.superiority_threshold,
    )
    res = analyse(
        yi,
        vi,
        labels,
        measure=b.measure,
        orientation=orient,
        tau_priors=spec.priors("tau", b.tau_priors),
        mu_priors=spec.priors("mu", b.mu_priors),
        default=(spec.primary("tau", b.tau_priors), spec.primary("mu", b.mu_priors)),
        margins=list(b.margins),
        counts=counts,
        label=b.label,
        prob=spec.interval_prob,
        kind=spec.interval_kind,
        threshold=spec.decision_threshold,
        sample=b.sample and spec.sampler.sample,
        seed=spec.seed,
        sampler_settings=spec.sampler.settings(),
        question=b.question,
        moderators=mframe,
        moderator_specs=mods,
        preset=b.preset,
    )
    if inp.kind != "contrasts":
        res = replace(res, arms=arm_frame(inp.table, b.outcome, b.timepoint), data_notes=inp.left_out)
    return StudyLevelBlock(b, res, None, "", expected=b.expected_missing)


def moderator_status(spec, b) -> pd.DataFrame:
    """Every declared moderator of block ``b`` per study of its study table: value (or missing) and
    source (the column ``<moderator>_source`` when the table has one, else the row's ``source``).

    For a block that cannot run: the moderators are checked (unknown columns, text in a numeric
    column are errors as in :func:`read_moderators`) and reported; missing cells are listed, not refused.
    """
    from bayesmeta.data.moderators import moderator_values, read_study_table

    i = spec.study_level.index(b)
    path = spec.data_dir / b.study_table
    _check_table_exists(spec, b, i, path)
    values, mods = moderator_values(
        path, b.moderators, b.categorical, spec_file=str(spec.path), key=f"study_level[{i}].moderators"
    )
    raw = read_study_table(path).set_index("study")
    rows = []
    for m in mods:
        for st in values.index:
            v = values.at[st, m.name]
            miss = v is None or (isinstance(v, float) and np.isnan(v))
            src = raw.at[st, f"{m.name}_source"] if f"{m.name}_source" in raw.columns else raw.at[st, "source"]
            rows.append(
                {
                    "study": st,
                    "moderator": m.name,
                    "kind": m.kind,
                    "value": "" if miss else v,
                    "status": "missing" if miss else "coded",
                    "source": src,
                }
            )
    return pd.DataFrame(rows)


def moderator_needs(spec) -> str:
    """What the meta-regressions of ``spec`` need: for each block with moderators, whether its effect
    values are complete, and the moderator values that are missing (with the reason the table gives).

    Plain text for ``bayesmeta missing SPEC`` (empty when no block declares moderators).
    """
    lines = []
    for i, b in enumerate(spec.study_level):
        if not b.moderators:
            continue
        blk = run_block_inputs(spec, b)
        st = moderator_status(spec, b)
        miss = st[st["status"] == "missing"]
        head = f"study_level[{i}] {b.id}: meta-regression on {', '.join(b.moderators)} ({b.study_table})"
        if blk is None:
            lines.append(f"{head}: the per-study effect values are complete")
        else:
            lines.append(
                f"{head}: cannot run: it needs the per-study effect values of {b.outcome!r}"
                + (f" at {b.timepoint!r}" if b.timepoint else "")
                + f" ({blk} missing, listed above) and cannot run until they are entered with their source"
            )
        if len(miss):
            lines.append(f"  moderator values missing ({len(miss)}):")
            for _, r in miss.iterrows():
                lines.append(f"    {r['study']} {r['moderator']}: {r['source']}")
        else:
            lines.append("  moderator values: all coded")
    return "\n".join(lines)


def run_block_inputs(spec, b) -> int | None:
    """Number of values block ``b`` lacks to run (None when its study data are complete)."""
    path = spec.data_dir / b.file
    if data_kind(path) not in ARM_TYPES:
        return None
    table = read_arm_table(path, spec.experimental, spec.control)
    try:
        contrasts_from_arms(table, b.outcome, b.measure, b.timepoint)
    except MissingStudyData as e:
        return len(e.missing)
    return None


def _check_table_exists(spec, b, i: int, path: Path) -> None:
    if not path.is_file():
        have = ", ".join(sorted(p.name for p in spec.data_dir.glob("*.csv"))) or "none"
        raise DataError(
            Problem(
                str(spec.path),
                None,
                f"study_level[{i}].study_table",
                f"{path} not found: moderators ({', '.join(b.moderators)}) are read from a study table "
                f"(one row per study: study, source, the moderator columns); CSV files in the data folder: {have}",
            )
        )


def read_moderators(spec, b, labels) -> tuple[pd.DataFrame, tuple[Moderator, ...]]:
    """The moderators of block ``b`` for the studies ``labels`` from the block's study table.

    A missing study table is a problem of the spec key ``study_level[i].study_table``; unknown
    columns, missing values, text in a numeric column and studies without a row are problems of the
    table or of ``study_level[i].moderators`` (:func:`bayesmeta.data.moderators.moderator_frame`).
    """
    from bayesmeta.data.moderators import moderator_frame

    i = spec.study_level.index(b)
    path = spec.data_dir / b.study_table
    _check_table_exists(spec, b, i, path)
    return moderator_frame(
        path,
        b.moderators,
        labels,
        b.categorical,
        spec_file=str(spec.path),
        key=f"study_level[{i}].moderators",
    )


def arm_frame(table, outcome: str, timepoint: str | None = None) -> pd.DataFrame:
    """Arm data of the complete studies of ``outcome``, one row per study (for the forest plot)."""
    wide = table.complete()
    wide = wide[wide["outcome"] == outcome]
    if timepoint is not None:
        wide = wide[wide["timepoint"] == timepoint]
    cols = [c for c in ("study", "n_e", "mean_e", "sd_e", "n_c", "mean_c", "sd_c", "events_e", "events_c")
            if c in wide.columns]
    return wide[cols].reset_index(drop=True)


def effect_settings(measure: str, preset: str | None = None) -> tuple[str, str]:
    """The escalc measure and zero-cell rule of ``measure`` under ``preset``.

    Without a preset: ``measure`` as given and metafor's zero-cell rule, the one rule of every input
    shape (``escalc`` defaults ``add=1/2, to="only0", drop00=FALSE``: 0.5 added to every cell of a
    study with a zero cell, double-zero studies kept). With one, the preset's
    rule, and ``"SMD"`` (Hedges' g) becomes the preset's variant (``"SMD_revman"`` for RevMan,
    metafor's ``"SMD"``); an explicit ``"SMD_revman"`` is kept.
    """
    if preset is None:
        return measure, "metafor"
    from bayesmeta.frequentist.presets import get_preset

    pre = get_preset(preset)
    return (pre.smd if measure == "SMD" else measure), pre.zero_rule


def contrasts_from_arms(table, outcome: str, measure: str, timepoint: str | None = None,
                        preset: str | None = None):
    """yi, vi, labels (and raw arm counts for binary data) from a validated arm table
    (the measure variant and zero-cell rule of ``preset``: :func:`effect_settings`)."""
    es_measure, zero_rule = effect_settings(measure, preset)
    wide = table.complete()
    wide = wide[wide["outcome"] == outcome]
    if timepoint is not None:
        wide = wide[wide["timepoint"] == timepoint]
    miss = table.missing()
    miss = miss[miss["outcome"] == outcome]
    if timepoint is not None:
        miss = miss[miss["timepoint"] == timepoint]
    if len(wide) < 2 and miss.empty:  # nothing is missing: the data hold too few studies
        raise DataError(
            Problem(
                str(table.path),
                None,
                None,
                f"outcome {outcome!r}{'' if timepoint is None else f' at {timepoint!r}'} has {len(wide)} "
                f"{'study' if len(wide) == 1 else 'studies'} with both arms: a meta-analysis needs at least 2 "
                "(with one study, report its own estimate and CI)",
            )
        )
    if len(wide) < 2:
        raise MissingStudyData(f"outcome {outcome!r} has {len(wide)} complete studies (2 needed)", miss)
    if "mean_e" in wide:
        es = escalc(
            es_measure,
            m1i=wide["mean_e"],
            sd1i=wide["sd_e"],
            n1i=wide["n_e"],
            m2i=wide["mean_c"],
            sd2i=wide["sd_c"],
            n2i=wide["n_c"],
        )
        counts = None
    else:
        counts = {k: wide[k].to_numpy(float) for k in ("events_e", "n_e", "events_c", "n_c")}
        from bayesmeta.data.readers import no_information

        why = no_information(counts["events_e"], counts["n_e"], counts["events_c"], counts["n_c"],
                             wide["study"].tolist(), measure)
        if why and not miss.empty:  # the studies with values carry no information; the others are missing
            raise MissingStudyData(
                f"outcome {outcome!r}: the {len(wide)} complete studies have no events in either arm (no "
                f"information on {measure}); the other studies' values are missing",
                miss,
            )
        if why:
            raise DataError(Problem(str(table.path), None, "events", why))
        es = escalc(
            measure,
            ai=counts["events_e"],
            n1i=counts["n_e"],
            ci=counts["events_c"],
            n2i=counts["n_c"],
            zero_rule=zero_rule,
        )
    n_est = int(np.isfinite(es["yi"]).sum())
    if n_est < 2:
        raise DataError(
            Problem(
                str(table.path),
                None,
                "events",
                f"outcome {outcome!r} has {len(wide)} complete studies but only {n_est} estimable for {measure}: "
                f"the preset's zero-cell rule (RevMan's) leaves double-zero studies out of {measure}; run "
                "without the preset (metafor's rule keeps them with 0.5 added) or analyse the risk difference (RD)",
            )
        )
    return es["yi"].to_numpy(), es["vi"].to_numpy(), wide["study"].tolist(), counts, miss


def left_out_notes(table, outcome: str, timepoint, labels, counts, measure: str, preset=None) -> tuple[str, ...]:
    """What an arm-level analysis of ``outcome`` left out and why (other arms, studies with missing
    values) and the zero-cell rule it applied, one sentence each; the studies left out also as a
    warning (the console says it, not only the report)."""
    import warnings

    from bayesmeta.data.readers import zero_cell_note

    miss = table.missing()
    miss = miss[(miss["outcome"] == outcome) & ~miss["study"].isin(labels)]
    if timepoint is not None:
        miss = miss[miss["timepoint"] == timepoint]
    out = list(table.notes)
    for (s_, tp), g in miss.groupby(["study", "timepoint"], sort=False):
        at = "" if tp == "all" else f" ({tp})"
        out.append(f"{s_}{at}: {', '.join(sorted(set(g['field'])))} missing ({'; '.join(dict.fromkeys(map(str, g['reason'])))}), left out")
    if len(out):
        of = "" if outcome == "all" else f", {outcome}"
        warnings.warn(f"{table.path.name}{of}: " + "; ".join(out), UserWarning, stacklevel=2)
    if counts is not None:
        zn = zero_cell_note(counts["events_e"], counts["n_e"], counts["events_c"], counts["n_c"], labels, measure,
                            effect_settings(measure, preset)[1])
        if zn:
            out.append(zn)
    return tuple(out)


PI_TEXT = {"t_k-2": "t(k-2), Higgins 2009 / RevMan", "metafor": "metafor"}


def preset_analysis(preset: str) -> str:
    """The ``analysis`` label of a preset's row in :func:`frequentist_table`, e.g.
    ``"revman2025 preset (REML, HKSJ)"``."""
    from bayesmeta.frequentist.presets import get_preset

    pre = get_preset(preset)
    return f"{pre.name} preset ({pre.method}, {'HKSJ' if pre.test == 'knha' else 'Wald'})"


def frequentist_table(yi, vi, labels, counts=None, measure="SMD", level=0.95, preset=None) -> pd.DataFrame:
    """DL, REML, PM (z), REML + HKSJ, and for binary data RevMan's MH + DL, with PIs and tau^2 CIs.

    With ``preset`` (:mod:`bayesmeta.frequentist.presets`), its analysis comes first (tau^2
    estimator, CI for mu, prediction interval, I^2 definition and tau^2 CI of that program; the
    label is :func:`preset_analysis`), and the Mantel-Haenszel rows use its continuity correction
    and RD variance.
    """
    rows = []
    pct = round(level * 100)
    def row(analysis, r, p, ci, pi_method):
        return {
            "analysis": analysis,
            "k": r.k,
            "mu": r.mu,
            "se": r.se,
            f"ci{pct}_lb": r.ci_lb,
            f"ci{pct}_ub": r.ci_ub,
            "pval": r.pval,
            "tau2": r.tau2,
            "tau2_lb": ci["tau2_lb"],
            "tau2_ub": ci["tau2_ub"],
            "I2": r.I2,
            "Q": r.Q,
            f"pi{pct}_lb": p["pi_lb"],
            f"pi{pct}_ub": p["pi_ub"],
            "pi_method": pi_method,
        }

    no_ci = {"tau2_lb": np.nan, "tau2_ub": np.nan}
    if preset is not None:
        from bayesmeta.frequentist.presets import get_preset

        pre = get_preset(preset)
        r = rma(yi, vi, level=level, labels=labels, preset=pre.name)
        p = r.predict() if (pre.pi != "t_k-2" or r.k >= 3) else r.predict(pi="metafor")
        ci = r.confint_tau2() if pre.tau2_ci else no_ci
        rows.append(row(preset_analysis(pre.name), r, p, ci, PI_TEXT.get(pre.pi, pre.pi)))
    for method, test, pi in (
        ("DL", "z", "t_k-2"),
        ("REML", "z", "t_k-2"),
        ("PM", "z", "t_k-2"),
        ("REML", "knha", "metafor"),
        ("EE", "z", "metafor"),
    ):
        r = rma(yi, vi, method=method, test=test, level=level, labels=labels)
        p = r.predict(pi=pi) if (pi != "t_k-2" or r.k >= 3) else r.predict()
        ci = r.confint_tau2() if method != "EE" else no_ci
        rows.append(row(f"{method}{' + HKSJ' if test == 'knha' else ''}", r, p, ci,
                        "t(k-2), Higgins 2009 / RevMan" if pi == "t_k-2" else "metafor"))
    if counts is not None and measure in ("RR", "OR", "RD"):
        mh = rma_mh(
            counts["events_e"], counts["n_e"], counts["events_c"], counts["n_c"], measure=measure, level=level,
            preset=preset,
        )
        re = mh.random_effects()
        p = re.predict(pi="t_k-2") if re.k >= 3 else re.predict()
        rows.append(
            {
                "analysis": "MH common effect (RevMan)",
                "k": mh.k_estimable,
                "mu": mh.estimate,
                "se": mh.se,
                f"ci{pct}_lb": mh.ci_lb,
                f"ci{pct}_ub": mh.ci_ub,
                "pval": mh.pval,
                "tau2": 0.0,
                "tau2_lb": np.nan,
                "tau2_ub": np.nan,
                "I2": mh.I2,
                "Q": mh.Q,
                f"pi{pct}_lb": np.nan,
                f"pi{pct}_ub": np.nan,
                "pi_method": "",
            }
        )
        rows.append(
            {
                "analysis": "MH + DL random effects (RevMan)",
                "k": re.k,
                "mu": re.mu,
                "se": re.se,
                f"ci{pct}_lb": re.ci_lb,
                f"ci{pct}_ub": re.ci_ub,
                "pval": re.pval,
                "tau2": re.tau2,
                "tau2_lb": np.nan,
                "tau2_ub": np.nan,
                "I2": mh.I2,
                "Q": mh.Q,
                f"pi{pct}_lb": p["pi_lb"],
                f"pi{pct}_ub": p["pi_ub"],
                "pi_method": "t(k-2), RevMan",
            }
        )
    return pd.DataFrame(rows)


def prior_sensitivity(
    yi,
    sei,
    tau_priors: dict,
    mu_priors: dict,
    orientation: Orientation,
    margins,
    prob=0.95,
    kind="hdi",
    threshold=0.95,
    *,
    primary: tuple[str, str],
    question: str = "noninferiority",
) -> pd.DataFrame:
    """Exact posteriors over a tau-prior x mu-prior grid: summaries and decision probabilities,
    flagging cells whose verdict differs from the verdict under the ``primary`` (tau prior, mu prior)
    pair (:func:`bayesmeta.decide.decision.decision_flips`). The verdict is the question's
    (:func:`decision_column`): P(benefit) for superiority and estimation, P(non-inferior) at the primary
    margin for non-inferiority and equivalence."""
    rows = []
    pct = round(prob * 100)
    for tn, tp in tau_priors.items():
        for mn, mp in mu_priors.items():
            try:
                post = solve(yi, sei, tp, mp)
            except ValueError as e:
                rows.append({"tau_prior": tn, "mu_prior": mn, "note": str(e)})
                continue
            lo, hi = post.mu.interval(prob, kind)
            tlo, thi = post.tau.interval(prob, kind)
            d = decision_table(post.mu, margins, orientation)
            row = {
                "tau_prior": tn,
                "mu_prior": mn,
                "mu_median": post.mu.median(),
                f"mu_{kind}{pct}_lb": lo,
                f"mu_{kind}{pct}_ub": hi,
                "tau_median": post.tau.median(),
                f"tau_{kind}{pct}_lb": tlo,
                f"tau_{kind}{pct}_ub": thi,
                "p_benefit": d["p_benefit"].iloc[0],
                "p_harm": d["p_harm"].iloc[0],
            }
            for m, p in zip(margins, d["p_noninferior"]):
                row[f"p_noninferior@{m:g}"] = p
            if len(margins):
                row[f"p_noninferior_new@{margins[0]:g}"] = float(
                    noninferiority_curve(post.theta_new, [margins[0]], orientation)["p_noninferior"].iloc[0]
                )
            rows.append(row)
    df = pd.DataFrame(rows)
    key = decision_column(question, margins)
    if key in df:
        verdict = df[key] >= threshold
        ref = (df["tau_prior"] == primary[0]) & (df["mu_prior"] == primary[1])
        df["decision_flips"] = decision_flips(verdict, bool(verdict[ref].iloc[0])) if ref.any() else np.nan
    return df


def decision_column(question: str, margins) -> str:
    """The column of a decision table that decides ``question``: a superiority (or estimation) question
    is decided on P(benefit), never at a non-inferiority margin; non-inferiority and equivalence on
    P(non-inferior) at the primary margin."""
    if question in ("noninferiority", "equivalence") and len(margins):
        return f"p_noninferior@{margins[0]:g}"
    return "p_benefit"


#: frequentist and Bayesian pooled effects "agree" when their centres differ by at most this many
#: posterior SDs of mu and their interval widths by at most this factor
AGREE_SD = 0.25
AGREE_WIDTH = 1.25


def loo_table(yi, sei, labels, tau_prior: Prior, mu_prior: Prior) -> pd.DataFrame:
    """Exact leave-one-study-out: predictive p-value of each study and log p(y_i | y_-i) under
    the random-effects model and the common-effect model (by downdating, without refits:
    :func:`bayesmeta.decide.checks.exact_loo`)."""
    return exact_loo(np.asarray(yi, float), np.asarray(sei, float), tau_prior, mu_prior, labels)


def comparison_table(exact, freq: pd.DataFrame, prob=0.95, kind="hdi") -> pd.DataFrame:
    """The posterior beside DL, REML and HKSJ, with a one-line reason where they disagree."""
    pct = round(prob * 100)
    lo, hi = exact.mu.interval(prob, kind)
    rows = [
        {
            "analysis": f"Bayesian (exact; {exact.tau_prior.label}, {exact.mu_prior.label})",
            "mu": exact.mu.median(),
            "lb": lo,
            "ub": hi,
            "tau": exact.tau.median(),
            "note": f"median, {pct}% {kind.upper()}",
        }
    ]
    bw = hi - lo
    sd = float(exact.mu.sd())
    for _, r in freq.iterrows():
        if r["analysis"] not in ("DL", "REML", "REML + HKSJ") and " preset (" not in r["analysis"]:
            continue
        fw = r[f"ci{pct}_ub"] - r[f"ci{pct}_lb"]
        notes = []
        if r["tau2"] == 0:
            notes.append("tau^2 truncated at zero: the CI ignores heterogeneity uncertainty")
        hksj = r["analysis"] == "REML + HKSJ" or "HKSJ)" in r["analysis"]
        if not hksj and bw > AGREE_WIDTH * fw:
            notes.append("the posterior integrates over tau, widening the interval")
        if hksj and fw > AGREE_WIDTH * bw:
            notes.append("HKSJ's t(k-1) quantile is wide with few studies")
        if fw > AGREE_WIDTH * bw and not hksj:
            notes.append("the frequentist interval is wider (the tau prior excludes large tau)")
        dist = abs(r["mu"] - exact.mu.median()) / sd
        if dist > AGREE_SD:
            notes.append(f"centres {dist:.1f} posterior SDs apart: the prior on mu shrinks the estimate"
                         if abs(exact.mu.median()) < abs(r["mu"]) else
                         f"centres {dist:.1f} posterior SDs apart: the weights differ (tau integrated, not fixed)")
        rows.append(
            {
                "analysis": r["analysis"],
                "mu": r["mu"],
                "lb": r[f"ci{pct}_lb"],
                "ub": r[f"ci{pct}_ub"],
                "tau": np.sqrt(r["tau2"]),
                "note": "; ".join(notes) or f"agrees (centres within {AGREE_SD:g} posterior SD, widths within "
                f"a factor {AGREE_WIDTH:g})",
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SamplerCheck:
    """The sampled fit against the exact solver: ``z`` = |mean difference| / MCSE per parameter
    (agreement: every z <= 4), the sampler's diagnostics, and PSIS-LOO of the sampled fit."""

    z: dict
    diagnostics: Any
    loo_elpd: float | None
    loo_elpd_exact: float
    pareto_k_max: float | None
    loo_error: str = ""
    loo_skipped_above: int | None = None  # PSIS-LOO not run: more studies than this (PSIS_LOO_MAX_K)

    @property
    def agrees(self) -> bool:
        return all(v <= 4 for v in self.z.values())


@dataclass(frozen=True)
class BinomialCheck:
    """The binomial-normal model (exact likelihood, log OR) against the normal approximation."""

    median_binomial: float
    median_normal: float
    sd_binomial: float
    p_benefit_binomial: float  # P(OR on the beneficial side of 1)
    p_benefit_normal: float  # P(measure on the beneficial side of its null)
    diagnostics: Any

    @property
    def disagrees(self) -> bool:
        """Medians more than a quarter of a posterior SD apart."""
        return abs(self.median_binomial - self.median_normal) > 0.25 * self.sd_binomial


def _estimable(yi, vi, labels):
    """Studies with a finite effect and variance (double-zero studies are not, for ratio measures)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    ok = np.isfinite(yi) & np.isfinite(vi)
    return yi[ok], np.sqrt(vi[ok]), [lab for lab, o in zip(labels, ok) if o], int((~ok).sum())


def _decisions(exact, margins, orientation: Orientation) -> pd.DataFrame:
    dec = decision_table(exact.mu, margins, orientation)
    dec.insert(0, "parameter", "mu")
    dnew = decision_table(exact.theta_new, margins, orientation)
    dnew.insert(0, "parameter", "theta_new")
    return pd.concat([dec, dnew], ignore_index=True)


def _curves(exact, margins, orientation: Orientation, question: str) -> pd.DataFrame:
    """P(non-inferior) over margins, for non-inferiority and equivalence questions only."""
    if not (len(margins) and question in ("noninferiority", "equivalence")):
        # a superiority or estimation question: no non-inferiority curve to draw
        return noninferiority_curve(exact.mu, [], orientation).assign(parameter=pd.Series(dtype=str))
    mgrid = margin_grid(
        orientation, np.log(3) if orientation.is_ratio else 3 * max(orientation.to_analysis_scale(margins)), 101
    )
    return pd.concat([
        noninferiority_curve(exact.mu, mgrid, orientation).assign(parameter="mu"),
        noninferiority_curve(exact.theta_new, mgrid, orientation).assign(parameter="theta_new"),
    ])


def _predictive_checks(y, s, labs, exact, tp: Prior, mp: Prior, seed: int):
    """Posterior predictive checks and exact leave-one-out (random and common effect)."""
    from bayesmeta._progress import step
    from bayesmeta.pipeline.diagnostics import ppc_draws

    with step("posterior predictive check"):
        d = exact.draws(ppc_draws(len(y)), rng=seed)  # 20,000 up to k = 400, bounded time and memory beyond
        ppc = posterior_predictive_check(y, s, d["mu"], d["tau"], seed=seed)
    with step("exact leave-one-out (downdating)"):
        loo = loo_table(y, s, labs, tp, mp)
    elpd = [{"statistic": f"exact LOO elpd, {name}", "observed": loo[col].sum(), "ppp": np.nan, "mcse": np.nan}
            for name, col in (("random effects", "lpd_random_effects"), ("common effect", "lpd_common_effect"))]
    return pd.concat([ppc.table(), pd.DataFrame(elpd)], ignore_index=True), loo, ppc.y_rep[:4000].copy()


def _with_diagnostics(res: StudyLevelResult, tp: Prior, mp: Prior, question: str, margins, method: str,
                      prob: float, kind: str, seed: int, moderators, moderator_specs, preset) -> StudyLevelResult:
    """Influence, leave-one-out, small-study diagnostics and one meta-regression per moderator."""
    from bayesmeta.pipeline.diagnostics import diagnose, meta_regression

    y, s = res.yi, res.sei
    diag = diagnose(y, s**2, res.labels, tau_prior=tp, mu_prior=mp, orientation=res.orientation,
                    question=question, margin=margins[0] if len(margins) else None, method=method,
                    prob=prob, kind=kind, seed=seed)
    extra: tuple[str, ...] | None = None
    if preset is not None:
        from bayesmeta.frequentist.presets import get_preset

        pr = get_preset(preset)
        extra = (pr.method, "knha" if pr.test in ("knha", "knha_adhoc") else "z", f"preset {preset}")
    regs = tuple(
        meta_regression(y, s**2, res.labels, moderators, m, tau_prior=tp, prob=prob, extra=extra)
        for m in moderator_specs
    ) if moderators is not None else ()
    return replace(res, diagnostics=diag, metaregression=regs)


PSIS_LOO_MAX_K = 500
"""Above this many studies the sampled fit's PSIS-LOO (a computation check beside the exact
leave-one-out by downdating, which is always reported) is not run: ArviZ smooths each study's
importance weights in turn, ~8.5 ms per study for 4 x 2,000 draws (17 s of a 41 s sampled
analysis at k = 2,000, measured)."""


def _with_sampling(res: StudyLevelResult, tp: Prior, mp: Prior, mu_priors: dict, counts, labels, seed: int,
                   settings: dict) -> StudyLevelResult:
    """The sampled normal-normal fit checked against the exact solver, and the binomial-normal model."""
    import arviz as az

    from bayesmeta.bayes.sampling import fit_binomial_normal, fit_normal_normal  # PyMC only when sampling

    exact = res.exact
    fitted = fit_normal_normal(res.yi, res.sei, tp, mp, res.labels, measure=res.measure, seed=seed, **settings)
    sm = fitted.summary(var_names=("mu", "tau", "theta_new")).set_index("parameter")  # no per-study rows: not used
    z = {name: float(abs(sm.loc[name, "mean"] - ref) / sm.loc[name, "mcse_mean"])
         for name, ref in (("mu", exact.mu.mean()), ("tau", exact.tau.mean()), ("theta_new", exact.theta_new.mean()))}
    elpd_exact = float(res.loo["lpd_random_effects"].sum())
    if len(res.yi) > PSIS_LOO_MAX_K:  # said in the report; the exact leave-one-out table stands
        check = SamplerCheck(z, fitted.diagnostics, None, elpd_exact, None, loo_skipped_above=PSIS_LOO_MAX_K)
    else:
        try:
            lo = az.loo(fitted.tree)
            check = SamplerCheck(z, fitted.diagnostics, float(lo.elpd), elpd_exact, float(np.max(lo.pareto_k)))
        except Exception as e:  # PSIS-LOO unavailable (no log likelihood): said in the report
            check = SamplerCheck(z, fitted.diagnostics, None, elpd_exact, None, str(e))
    res = replace(res, sampled=fitted, sampler_check=check)
    if counts is None:
        return res
    bn = fit_binomial_normal(counts["events_e"], counts["n_e"], counts["events_c"], counts["n_c"], tp,
                             mu_priors.get("binomial", mp), labels, seed=seed, **settings)
    approx = solve(*_log_or_approx(counts), tp, mp)
    draws = bn.draws("mu")
    bc = BinomialCheck(float(np.median(draws)), float(approx.mu.median()), float(np.std(draws)),
                       float(np.mean(res.orientation.harmful_sign * draws < 0)),
                       float(res.decisions["p_benefit"].iloc[0]), bn.diagnostics)
    return replace(res, binomial=bn, binomial_check=bc)


def analyse(
    yi,
    vi,
    labels,
    *,
    measure: str,
    orientation: Orientation,
    tau_priors: dict,
    mu_priors: dict,
    default: tuple[str, str],
    margins,
    counts=None,
    label="",
    prob=0.95,
    kind="hdi",
    threshold=0.95,
    sample: bool = True,
    seed: int = 0,
    sampler_settings: dict | None = None,
    question: str = "noninferiority",
    moderators: pd.DataFrame | None = None,
    moderator_specs: tuple = (),
    diagnostics: bool = True,
    method: str = "REML",
    preset: str | None = None,
) -> StudyLevelResult:
    """Full study-level analysis of one outcome, in small steps: the estimable studies, the frequentist
    reproduction, the exact posterior under the primary priors (``default`` = (tau prior, mu prior)),
    the prior grid (flips on the question's decision, :func:`decision_column`), decisions and curves,
    predictive checks, then diagnostics and meta-regressions (``diagnostics``; at least 3 studies) and the
    sampled fits (``sample``; proper primary priors). ``margins`` may be empty (a superiority or
    estimation question: no non-inferiority probabilities or curves). The result holds numbers and flags
    only; the report writes every sentence (:func:`bayesmeta.report.sections.study_notes`)."""
    y, s, labs, dropped = _estimable(yi, vi, labels)
    tp, mp = tau_priors[default[0]], mu_priors[default[1]]
    exact = solve(y, s, tp, mp, labels=labs)
    checks, loo, y_rep = _predictive_checks(y, s, labs, exact, tp, mp, seed)
    from bayesmeta._progress import step

    with step("frequentist fits"):
        freq = frequentist_table(yi, vi, labels, counts, measure, prob, preset=preset)
    res = StudyLevelResult(
        label=label, measure=measure, orientation=orientation, labels=labs, yi=y, sei=s, frequentist=freq,
        exact=exact,
        sensitivity=prior_sensitivity(y, s, tau_priors, mu_priors, orientation, margins, prob, kind, threshold,
                                      primary=default, question=question),
        decisions=_decisions(exact, margins, orientation), curves=_curves(exact, margins, orientation, question),
        checks=checks, loo=loo, comparison=comparison_table(exact, freq, prob, kind), y_rep=y_rep,
        n_not_estimable=dropped, question=question,
    )
    if diagnostics and len(y) >= 3:
        res = _with_diagnostics(res, tp, mp, question, margins, method, prob, kind, seed, moderators,
                                moderator_specs, preset)
    res = replace(res, diagnostics_skipped=diagnostics and len(y) < 3)
    if sample and not (tp.proper and mp.proper):
        return replace(res, sampling_skipped_improper=True)
    if sample:
        res = _with_sampling(res, tp, mp, mu_priors, counts, labels, seed, dict(sampler_settings or {}))
    return res


def _p3(p: float) -> str:
    """'= 0.884', '> 0.999', '< 0.001'."""
    return "> 0.999" if p > 0.999 else "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _log_or_approx(counts) -> tuple[np.ndarray, np.ndarray]:
    es = escalc(
        "OR",
        ai=counts["events_e"],
        n1i=counts["n_e"],
        ci=counts["events_c"],
        n2i=counts["n_c"],
        zero_rule="revman",
    )
    ok = np.isfinite(es["yi"])
    return es["yi"][ok].to_numpy(), es["sei"][ok].to_numpy()
