"""Write a report folder from a :class:`bayesmeta.pipeline.reanalysis.Reanalysis`, all or nothing.

The folder is built in a temporary sibling (``.<name>.building-XXXX`` next to the target, so the
final rename stays on one file system) and swapped in whole: the previous report is renamed aside,
the new one renamed into place, the old one removed. An exception or an interruption while
building removes the temporary folder and leaves the previous report untouched
(:class:`ReportNotWritten` says so). A target that exists but is not a bayesmeta report folder is
never replaced.

Contents: ``report.md`` and a self-contained ``report.html``, ``tables/*.csv``, ``figures/*.png``,
``posteriors.nc`` (exact posterior densities of each published outcome), one
``<block>_posterior.nc`` per sampled fit (with the hashes of the input files and the spec, and the
spec itself) and ``provenance.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import xarray as xr

from bayesmeta import _io
from bayesmeta.errors import DataError, Problem
from bayesmeta.pipeline.reanalysis import Reanalysis
from bayesmeta.provenance import inputs_digest, numeric_pins, relative_inputs, versions
from bayesmeta.report import figures
from bayesmeta.report.panels import SUMMARY_ID, outcome_figures, study_figures, summary_figures
from bayesmeta.report.render import write_report
from bayesmeta.report.sections import figure_path, report_blocks

MARKERS = ("provenance.json", "report.md")


class ReportNotWritten(RuntimeError):
    """Building the report failed or was interrupted; the previous report (if any) is unchanged."""


@dataclass(frozen=True)
class WrittenReport:
    out: Path
    files: tuple[Path, ...]
    provenance: dict


def _is_report_folder(p: Path) -> bool:
    return p.is_dir() and any((p / m).exists() for m in MARKERS)


def check_target(out) -> Path:
    """The absolute report folder; refuses a folder that exists, is not empty and is not a report."""
    out = Path(out).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise ReportNotWritten(f"--out {out}: is a file, not a folder")
    if out.exists() and any(out.iterdir()) and not _is_report_folder(out):
        raise ReportNotWritten(
            f"--out {out}: the folder exists, is not empty and holds no bayesmeta report "
            f"({' or '.join(MARKERS)}); it is not replaced. Choose a new or empty folder."
        )
    # the report is built beside the target: fail now, not after the analysis, if that is impossible
    base = out.parent
    while not base.exists():
        base = base.parent
    try:
        os.rmdir(tempfile.mkdtemp(dir=base, prefix=f".{out.name}.check-"))
    except OSError as e:
        raise DataError(
            Problem(
                "command line",
                None,
                "--out",
                f"cannot create the report folder {out}: {base} is not "
                f"writable ({e.strerror}); choose a folder you can write to",
            )
        ) from None
    return out


def _leftovers(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.building-*")) + sorted(out.parent.glob(f".{out.name}.old-*"))


def _swap(tmp: Path, out: Path) -> None:
    """Replace ``out`` by ``tmp`` with renames (each atomic on POSIX)."""
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        os.rmdir(old)
        os.replace(out, old)
        try:
            os.replace(tmp, out)
        except BaseException:
            os.replace(old, out)  # put the previous report back
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def provenance(r: Reanalysis, command: str) -> dict:
    """The reproducibility record of a run (also stored in ``provenance.json``).

    Deterministic: command, spec and input hashes, seed, versions, what was not run; never a clock
    (the run time is ``Reanalysis.seconds``), so a rerun of a committed report is byte-identical in
    every file and a clean clone stays clean after ``./dev run``."""
    spec = r.spec
    return {
        "command": command,
        "spec": str(spec.path),
        "spec_sha256": spec.sha256,
        "data_dir": Path(os.path.relpath(Path(spec.data_dir).resolve(), Path(spec.path).resolve().parent)).as_posix(),
        "data_sha256": inputs_digest(r.inputs, Path(spec.path).resolve().parent),
        "inputs": relative_inputs(r.inputs, Path(spec.path).resolve().parent),
        "seed": spec.seed,
        "versions": versions(),
        "numeric_pins": numeric_pins(),
        "expected_missing": [b.id for b in r.expected_missing_blocks],
        "not_run": [{"block": b.id, "reason": b.message} for b in r.failed_blocks],
    }


def _tables(r: Reanalysis) -> list[tuple[str, pd.DataFrame]]:
    spec = r.spec
    out: list[tuple[str, pd.DataFrame]] = []
    if len(r.checks):
        out.append(("published_checks", r.checks))
    if r.outcomes:
        out.append(("prior_sensitivity", pd.concat([o.grid for o in r.outcomes], ignore_index=True)))
    for blk in r.study_blocks:
        res = blk.result
        if res is not None:
            out += [
                (f"{blk.id}_{name}", df)
                for name, df in (
                    ("frequentist", res.frequentist),
                    ("exact_summary", res.exact.summary(spec.interval_prob, spec.interval_kind)),
                    ("comparison", res.comparison),
                    ("decisions", res.decisions),
                    ("sensitivity", res.sensitivity),
                    ("checks", res.checks),
                    ("loo", res.loo),
                )
            ]
            d = res.diagnostics  # issue 11: influence, Bayesian leave-one-out, meta-regression
            if d is not None and getattr(d, "case_deletion", True):  # not run beyond CASE_DELETION_MAX_K
                out += [(f"{blk.id}_influence", d.influence), (f"{blk.id}_leave1out_bayes", d.bayes_loo)]
            if any(len(m.table) for m in res.metaregression):
                out.append(
                    (
                        f"{blk.id}_metaregression",
                        pd.concat(
                            [m.table.assign(moderator=m.moderator.name) for m in res.metaregression if len(m.table)],
                            ignore_index=True,
                        ),
                    )
                )
    for o in r.outcomes:
        out += [
            (f"{o.id}_{name}", df)
            for name, df in (
                ("noninferiority_curves", o.curves),
                ("noninferiority_curves_native", o.native_curves),
                ("tipping_points", o.tipping),
                ("prior_data_conflict", o.conflict),
                ("unit_of_analysis", o.uoa.table if o.uoa is not None else None),
                # issue 8: summary-level reanalysis (bayesmeta.published.summary_reanalysis)
                ("decision_priors", o.summary_level.decisions if o.summary_level is not None else None),
                ("summary_random_effects", o.summary_level.random_effects
                 if o.summary_level is not None and len(o.summary_level.random_effects) else None),

            )
            if df is not None
        ]
    if r.answers is not None:
        # the answers of the analysis plan: one row per (outcome, departure), the primary first
        a = r.answers[["median", "lb95", "ub95", "largest_plausible", "p_decision", "prior_p_decision",
                       "bf_decision", "p_benefit", "flips", "available"]].to_dataframe().reset_index()
        out.insert(0, ("answers", a[a["available"]].drop(columns=["available"])))
    if len(r.missing):
        out.append(("missing_study_values", r.missing))
    return out


def _write_into(r: Reanalysis, folder: Path, prov: dict) -> list[Path]:
    spec = r.spec
    files: list[Path] = []
    for name, df in _tables(r):
        p = folder / "tables" / f"{name}.csv"
        _io.write_csv(p, df)
        files.append(p)
    for o in r.outcomes:
        for name, fig in outcome_figures(o, spec):
            figures.save(fig, folder / figure_path(o.id, name))
            files.append(folder / figure_path(o.id, name))
    for name, fig in summary_figures(r.outcomes, spec):
        figures.save(fig, folder / figure_path(SUMMARY_ID, name))
        files.append(folder / figure_path(SUMMARY_ID, name))
    if r.answers is not None and hasattr(figures, "primary_forest"):
        # the headline figures read the primary of the answers Dataset (report/figures.py, helper "look")
        drawers = (("primary", figures.primary_forest), ("robustness", getattr(figures, "robustness_figure")))  # noqa: B009
        for name, draw in drawers:
            figures.save(draw(r.answers), folder / figure_path(SUMMARY_ID, name))
            files.append(folder / figure_path(SUMMARY_ID, name))
    # input paths relative to the report folder (the build folder is its sibling, so the same paths):
    # the saved posteriors do not depend on where the project lies, and load() reads them from there
    inputs = relative_inputs(r.inputs, folder)
    meta = {"inputs": inputs, "spec": json.loads(spec.to_json()), "spec_sha256": spec.sha256}
    for blk in r.study_blocks:
        for name, fig in study_figures(blk, spec):
            figures.save(fig, folder / figure_path(blk.id, name))
            files.append(folder / figure_path(blk.id, name))
        res = blk.result
        if res is None:
            continue
        for suffix, fit in (("posterior", res.sampled), ("binomial_posterior", res.binomial)):
            if fit is not None:
                p = folder / f"{blk.id}_{suffix}.nc"
                replace(fit, meta={**fit.meta, **meta}).save(p)
                files.append(p)
    if r.outcomes:
        tree = xr.DataTree.from_dict({f"/{o.id}": o.posteriors for o in r.outcomes})
        tree.attrs.update(
            {
                "spec_json": spec.to_json(),
                "spec_sha256": spec.sha256,
                "inputs": json.dumps(inputs),
                "data_sha256": prov["data_sha256"],
                "seed": spec.seed,
                "versions": json.dumps(prov["versions"]),
            }
        )
        with _io.atomic_path(folder / "posteriors.nc") as tmp:
            tree.to_netcdf(tmp, engine="h5netcdf")
        files.append(folder / "posteriors.nc")
    md, hp = write_report(report_blocks(r, prov), folder, spec.title)
    files += [md, hp]
    _io.write_text(folder / "provenance.json", json.dumps(prov, indent=2, default=str))
    files.append(folder / "provenance.json")
    return files


def write(
    r: Reanalysis, out, command: str = "bayesmeta reanalyze", extra: dict[str, str] | None = None
) -> WrittenReport:
    """Build the report of ``r`` beside ``out`` and swap it in whole.

    ``extra`` maps file names to text written into the folder as well (e.g. the ``spec.toml`` that
    ``bayesmeta analyse`` used). Raises :class:`ReportNotWritten` (the previous report unchanged)
    when building fails or is interrupted.
    """
    out = check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in _leftovers(out):  # a build killed hard (SIGKILL, power loss) leaves these behind
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.building-"))
    os.chmod(tmp, 0o755)
    prov = provenance(r, command)
    extra = dict(extra or {})
    spec_path = Path(r.spec.path).resolve()
    if spec_path.is_relative_to(out) and spec_path.is_file():
        # the spec lives in the report folder (as `bayesmeta analyse` writes it): it is an input, keep it
        extra.setdefault(spec_path.relative_to(out).as_posix(), spec_path.read_text(encoding="utf-8"))
    for inp in map(Path, r.inputs):  # data files inside the report folder (`bayesmeta analyse REVIEW` writes them there)
        if inp.is_relative_to(out) and inp.is_file():
            extra.setdefault(inp.relative_to(out).as_posix(), inp.read_text(encoding="utf-8"))
    try:
        for name, text in extra.items():
            _io.write_text(tmp / name, text)
        files = _write_into(r, tmp, prov)
        _swap(tmp, out)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        what = "interrupted" if isinstance(e, KeyboardInterrupt) else f"failed ({type(e).__name__}: {e})"
        prev = (
            "the previous report in it is unchanged"
            if _is_report_folder(out)
            else "nothing was written there"
        )
        raise ReportNotWritten(f"writing the report to {out} {what}; {prev}") from e
    files = [out / f.relative_to(tmp) for f in files] + [out / n for n in extra]
    return WrittenReport(out=out, files=tuple(files), provenance=prov)


def run(
    spec_path,
    out=None,
    progress: bool = False,
    command: str = "bayesmeta reanalyze",
    allow_partial: bool = True,
    extra: dict[str, str] | None = None,
):
    """Reanalyse ``spec_path`` and write its report folder (``out`` or the spec's ``report``).

    With ``allow_partial=False`` a study-level block that could not run (and is not declared
    ``expected_missing`` in the spec) raises :class:`IncompleteRun` before anything is written.
    Returns ``(Reanalysis, WrittenReport)``.
    """
    from bayesmeta.pipeline.reanalysis import reanalyse
    from bayesmeta.pipeline.spec import load_spec

    spec = load_spec(spec_path)
    target = check_target(out if out is not None else spec.report_dir)
    r = reanalyse(spec, progress=progress)
    if r.failed_blocks and not allow_partial:
        raise IncompleteRun(r, target)
    return r, write(r, target, command=command, extra=extra)


class IncompleteRun(RuntimeError):
    """A block could not run; nothing was written (the previous report is unchanged)."""

    def __init__(self, r: Reanalysis, out: Path):
        self.reanalysis = r
        reasons = "; ".join(f"{b.id}: {b.message}" for b in r.failed_blocks)
        super().__init__(
            f"{len(r.failed_blocks)} study-level block(s) could not run: {reasons}. Nothing was written "
            f"to {out} (a previous report there is unchanged). Enter the missing values, declare them "
            "with expected_missing = true in the spec, or rerun with --allow-partial."
        )
