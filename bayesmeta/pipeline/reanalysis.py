"""The main job's analysis: reproduce a published meta-analysis and reanalyse it, as frozen results.

:func:`reanalyse` reads the spec and the data (validated tables with provenance), checks every
published pooled result for internal consistency, reanalyses each ``[[outcome]]`` from its
published estimate (:mod:`bayesmeta.pipeline.outcome`), runs each ``[[study_level]]`` block where
study rows exist and names the missing values where they do not
(:mod:`bayesmeta.pipeline.study_level`), and returns one frozen :class:`Reanalysis`. It writes no
file and draws no figure: :func:`bayesmeta.report.writer.write` turns the result into the report
folder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

from bayesmeta.errors import DataError, Problem
from bayesmeta.pipeline.outcome import OutcomeResult, analyse_outcome, published_row
from bayesmeta.pipeline.spec import AnalysisSpec, load_spec
from bayesmeta.pipeline.study_level import (
    ARM_TYPES,
    StudyLevelBlock,
    analyse_block,
    block_inputs,
    data_kind,
    read_arm_table,
)
from bayesmeta.provenance import file_hashes


@dataclass(frozen=True)
class Reanalysis:
    """Every result of one spec.

    Attributes
    ----------
    spec : AnalysisSpec
    checks : pandas.DataFrame
        Consistency of each published pooled result (empty without ``published.csv``).
    outcomes : tuple of OutcomeResult
        One per ``[[outcome]]`` block.
    study_blocks : tuple of StudyLevelBlock
        One per ``[[study_level]]`` block (with the missing values where it could not run).
    missing : pandas.DataFrame
        Every missing value of the arm-level files the spec uses.
    inputs : dict
        ``{path: sha256}`` of every input file read (the spec file and the data files).
    seconds : float
        Wall time of the analysis.
    answers : xarray.Dataset or None
        The analysis plan evaluated (:mod:`bayesmeta.pipeline.answers`): one row per outcome, one
        column per named departure, ``"primary"`` first. Every headline reads its primary.
    plans : dict
        ``{outcome id: OutcomeAnswer}`` (the plan, the evaluated departures, the summary context).
    review : pandas.DataFrame or None
        For a RevMan review analysed whole (``bayesmeta analyse REVIEW.rm5``): the review-level table,
        one row per outcome (:func:`bayesmeta.pipeline.review.review_summary`); the report opens with it.
    """

    spec: AnalysisSpec
    checks: pd.DataFrame
    outcomes: tuple[OutcomeResult, ...]
    study_blocks: tuple[StudyLevelBlock, ...]
    missing: pd.DataFrame
    inputs: dict[str, str]
    seconds: float
    answers: xr.Dataset | None = None
    plans: dict | None = None
    review: pd.DataFrame | None = None

    @property
    def failed_blocks(self) -> tuple[StudyLevelBlock, ...]:
        """Blocks that could not run although the spec did not declare their values missing."""
        return tuple(b for b in self.study_blocks if b.result is None and not b.expected)

    @property
    def expected_missing_blocks(self) -> tuple[StudyLevelBlock, ...]:
        return tuple(b for b in self.study_blocks if b.result is None and b.expected)


def _progress(enabled: bool):
    from contextlib import nullcontext

    if not enabled:
        return nullcontext(None)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), transient=True)


def missing_table(spec: AnalysisSpec) -> pd.DataFrame:
    """Missing values of every arm-level file the spec's study-level blocks read (column ``file``)."""
    parts = []
    for name in dict.fromkeys(b.file for b in spec.study_level):
        p = spec.data_dir / name
        if p.exists():
            if data_kind(p) not in ARM_TYPES:
                continue
            m = read_arm_table(p, spec.experimental, spec.control).missing()
            if len(m):
                parts.append(m.assign(file=name))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def missing_report(data_dir: Path, spec: AnalysisSpec | None = None) -> str:
    """Plain-text list of the study values a study-level analysis would need but are missing
    (every arm-level CSV in ``data_dir``, recognised by its columns); with ``spec``, also what each
    declared meta-regression needs (:func:`bayesmeta.pipeline.study_level.moderator_needs`)."""

    data_dir = Path(data_dir)
    lines = []
    import csv

    from bayesmeta.data.readers import read_table
    from bayesmeta.data.tables import ArmTable

    for p in sorted(data_dir.glob("*.csv")):
        try:
            kind = data_kind(p)
        except DataError:
            # not recognised: an arm-level file with a faulty header (capitalised names, ...) is read
            # so that its reader names the problem; anything else is not study data
            try:
                with open(p, encoding="utf-8-sig", newline="") as f:
                    head = {c.strip().lower() for c in next(csv.reader(f), [])}
            except (OSError, UnicodeDecodeError):
                head = set()
            kind = ("binary_arms" if "events" in head else "continuous_arms") if "arm" in head else ""
        if kind not in ARM_TYPES:
            continue
        t = read_table(p, kind)
        assert isinstance(t, ArmTable)  # kind is in ARM_TYPES, whose readers return ArmTable
        m = t.missing()
        if len(m):
            lines.append(f"{p}: {len(m)} missing values")
            with pd.option_context("display.width", 200, "display.max_colwidth", 60, "display.max_rows", 500):
                lines.append(m.to_string(index=False))
        else:
            lines.append(f"{p}: complete")
    if spec is not None:
        from bayesmeta.pipeline.study_level import moderator_needs

        extra = moderator_needs(spec)
        if extra:
            lines.append(extra)
    return "\n".join(lines) if lines else f"{data_dir}: no arm-level files"


def reanalyse(spec: AnalysisSpec | str | Path, progress: bool = False) -> Reanalysis:
    """Run every analysis of ``spec`` (a spec or the path of one) and return the frozen results."""
    from bayesmeta.data.tables import read_published
    from bayesmeta.published.consistency import check_table

    t0 = time.perf_counter()
    if not isinstance(spec, AnalysisSpec):
        spec = load_spec(spec)
    if not spec.data_dir.is_dir():
        raise DataError(
            Problem(
                str(spec.path),
                None,
                "analysis.data",
                f"data folder {spec.data_dir} not found (paths are relative to the spec file)",
            )
        )
    pub_path = spec.data_dir / "published.csv"
    read: list[Path] = [spec.path]
    if spec.outcomes or pub_path.exists():
        published = read_published(pub_path)
        read.append(pub_path)
        pub = published.frame
        # the program that made each published number (an outcome's preset, else [analysis] preset)
        made_by = {a: spec.preset for a in pub["analysis"]} if "analysis" in pub else {}
        made_by.update({o.id: o.preset for o in spec.outcomes})
        try:
            checks = check_table(published, preset=made_by if any(made_by.values()) else None)
        except DataError:
            raise
        except ValueError as e:
            raise DataError(
                Problem(str(pub_path), None, "k_studies", f"{e}: give k_studies for every result")
            ) from None
    else:
        pub, checks = pd.DataFrame(), pd.DataFrame()
    from bayesmeta._progress import reporting

    with reporting(progress):  # long steps inside the analyses say so (plain lines when not a terminal)
        outs, blocks, answers, plans = _run_all(spec, pub, pub_path, checks, read, progress)
    vocab = spec.data_dir / "vocabulary.toml"
    if vocab.exists():
        read.append(vocab)
    return Reanalysis(
        spec=spec,
        checks=checks,
        outcomes=tuple(outs),
        study_blocks=tuple(blocks),
        missing=missing_table(spec),
        inputs=file_hashes(read),
        seconds=round(time.perf_counter() - t0, 2),
        answers=answers,
        plans=plans,
    )


def _block_inputs_or_all_problems(spec: AnalysisSpec) -> list:
    """Every study-level block's validated inputs, read before any analysis runs; the problems of
    all blocks in one :class:`DataError` (they are independent: each block has its own data)."""
    inputs, problems = [], []
    for b in spec.study_level:
        try:
            inputs.append(block_inputs(spec, b))
        except DataError as e:
            problems.extend(e.problems)
    if problems:
        raise DataError(problems)
    return inputs


def _run_all(spec: AnalysisSpec, pub, pub_path: Path, checks, read: list[Path], progress: bool):
    """The outcome and study-level analyses of ``reanalyse`` (``read`` collects the files read)."""
    outs = []
    answers, plans = None, None
    inputs = _block_inputs_or_all_problems(spec)
    if spec.outcomes:
        from bayesmeta.pipeline.answers import answers_dataset

        answers, plans = answers_dataset(spec, {o.id: published_row(pub, o.id, pub_path) for o in spec.outcomes})
    with _progress(progress) as bar:
        task = bar.add_task("reanalysing outcomes", total=len(spec.outcomes)) if bar else None
        for ospec in spec.outcomes:
            outs.append(analyse_outcome(spec, ospec, published_row(pub, ospec.id, pub_path), checks))
            if bar:
                bar.advance(task)
    blocks = []
    with _progress(progress) as bar:
        task = bar.add_task("study-level analyses", total=len(spec.study_level)) if bar else None
        for b, inp in zip(spec.study_level, inputs, strict=True):
            blocks.append(inp if isinstance(inp, StudyLevelBlock) else analyse_block(spec, b, inp))
            read.append(spec.data_dir / b.file)
            if bar:
                bar.advance(task)
    return outs, blocks, answers, plans
