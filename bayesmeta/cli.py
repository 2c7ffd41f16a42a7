"""The ``bayesmeta`` command line.

``bayesmeta reanalyze [SPEC]`` is the main job: it reads an analysis spec (default
``models/viderman2023.toml``), reproduces the published analysis, reanalyses it and writes the
report folder. Bad input ends with one clear message naming file, row and column (exit code 2).
"""

from __future__ import annotations

import inspect
import sys
import warnings
from pathlib import Path

import click

from bayesmeta.errors import DataError

DEFAULT_SPEC = Path("models") / "viderman2023.toml"


class _Failure(Exception):
    """A failure already explained to the user: exit with ``code``."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def _debug_requested() -> bool:
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("debug") or (isinstance(ctx.obj, dict) and ctx.obj.get("debug")):
            return True
        ctx = ctx.parent
    return "--debug" in sys.argv


def _fail_on_data_error(fn):
    """Bad input: one message and exit 2; a run that could not finish: its reason and exit 1;
    anything unexpected: one line and exit 1. ``--debug`` shows the traceback instead."""
    import functools

    takes_debug = "debug" in inspect.signature(fn).parameters

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not takes_debug:
            kwargs.pop("debug", None)
        try:
            if _debug_requested():
                return fn(*args, **kwargs)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    return fn(*args, **kwargs)
                finally:
                    _echo_warnings(caught)
        except DataError as e:
            if _debug_requested():
                raise
            click.echo(f"error: {e}", err=True)
            sys.exit(2)
        except (_Failure, *_report_failures()) as e:
            if _debug_requested():
                raise
            click.echo(f"error: {e}", err=True)
            sys.exit(getattr(e, "code", 1))
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click prints its own usage errors (exit 2)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as e:
            if _debug_requested():
                raise
            click.echo(
                f"error: {type(e).__name__}: {e}\n(an unexpected failure; rerun with --debug for the "
                "traceback and report it)",
                err=True,
            )
            sys.exit(1)

    return wrapper


def _report_failures() -> tuple[type[Exception], ...]:
    """The report writer's failures (a block that could not run, a report not written), looked up
    only if the writer was imported: an exception of its classes cannot exist otherwise, and
    importing it (xarray, the exact engine, matplotlib; ~2.5 s) would slow every command that does
    not write a report, such as `bayesmeta batch` (issue 20)."""
    writer = sys.modules.get("bayesmeta.report.writer")
    return () if writer is None else (writer.IncompleteRun, writer.ReportNotWritten)


def _echo_warnings(caught) -> None:
    """The library's warnings (UserWarning and subclasses) as one ``warning:`` line each on stderr,
    without Python's file and line; numerical RuntimeWarnings are internal (``--debug`` shows them)."""
    seen = set()
    for w in caught:
        msg = str(w.message)
        if issubclass(w.category, UserWarning) and msg not in seen:
            seen.add(msg)
            click.echo(f"warning: {msg}", err=True)


class _Probability(click.ParamType):
    """A probability in (0, 1); a percentage such as 95 is refused with the fix."""

    name = "probability"

    def convert(self, value, param, ctx):
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"expected a probability in (0, 1), e.g. 0.95; got {value!r}", param, ctx)
        if not 0 < x < 1:
            self.fail(
                f"expected a probability in (0, 1), e.g. 0.95 (not a percentage); got {value}", param, ctx
            )
        return x


PROBABILITY = _Probability()


def _debug_option(fn):
    return click.option("--debug", is_flag=True, help="Show the Python traceback of an error.")(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bayesmeta")
@click.option("--debug", is_flag=True, help="Show the Python traceback of an error.")
@click.pass_context
def main(ctx, debug: bool):
    """Bayesian reanalysis of published meta-analyses.

    Reproduce a RevMan/metafor random-effects analysis exactly, then reanalyse it with explicit
    priors: exact normal-normal posteriors, PyMC/nutpie hierarchical models, ArviZ diagnostics,
    probabilities of non-inferiority, prior sensitivity and predictive checks.
    """
    ctx.obj = {"debug": debug}


def _command_line() -> str:
    return " ".join(["bayesmeta", *sys.argv[1:]])


def _report(r, written, allow_partial: bool) -> None:
    from bayesmeta.report.sections import console_summary

    click.echo(console_summary(r, written.out))
    for b in r.expected_missing_blocks:
        click.echo(
            f"note: {b.id} was not run: its study values are missing, as the spec declares "
            "(expected_missing = true)",
            err=True,
        )
    if r.failed_blocks:
        click.echo(
            f"warning: partial report (--allow-partial): {len(r.failed_blocks)} block(s) not run: "
            + "; ".join(f"{b.id}: {b.message}" for b in r.failed_blocks),
            err=True,
        )


@main.command()
@click.argument("spec", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Report folder (default: the spec's `report`), relative to the working directory.",
)
@click.option("--quiet", is_flag=True, help="No progress display.")
@click.option(
    "--allow-partial",
    is_flag=True,
    help="Write the report even if a study-level block cannot run (it says what is missing).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse (exit 2) what is otherwise a warning: an empirical prior made for another measure.",
)
@_debug_option
@_fail_on_data_error
def reanalyze(spec: Path | None, out: Path | None, quiet: bool, allow_partial: bool, strict: bool):
    """Run the reanalysis in SPEC (default models/viderman2023.toml) and write its report.

    The report is built beside the target folder and swapped in whole: a failed or interrupted run
    leaves the previous report unchanged. Exit status: 0 done; 1 a block could not run (unless
    --allow-partial or the spec declares its values expected-missing) or the report could not be
    written; 2 bad input.
    """
    from bayesmeta.pipeline.spec import load_spec
    from bayesmeta.report.writer import run

    # the recorded command names the spec whether or not it was typed (a rerun is byte-identical)
    command = _command_line() if spec is not None else f"{_command_line()} {DEFAULT_SPEC.as_posix()}"
    spec = spec or DEFAULT_SPEC
    _check_prior_measures(load_spec(spec), strict)
    r, written = run(spec, out=out, progress=not quiet, command=command, allow_partial=allow_partial)
    _report(r, written, allow_partial)


PRESET_CHOICES = ("revman5", "revman2025", "metafor")
def _measure_help() -> str:
    from bayesmeta.effects.measures import FAMILIES

    return "Effect measure (metafor's codes): " + "; ".join(f"{f}: {', '.join(c)}" for f, c in FAMILIES.items()) + "."


class _MeasureOption(click.Option):
    """``--measure``, whose help lists the measures registry's families when help is shown: building
    it when the module loads imported the registry (and scipy.stats) for every command, ~1-2 s of
    the start-up of `bayesmeta batch` (issue 20). The ``help=`` given follows that list."""

    @property
    def help(self) -> str:
        return " ".join(filter(None, (_measure_help(), self._help_suffix)))

    @help.setter
    def help(self, value: str | None) -> None:
        self._help_suffix = (value or "").strip()


def _measure_option(required: bool):
    return click.option(
        "--measure",
        cls=_MeasureOption,
        required=required,
        default=None,
        help="" if required else ("Needed for arm-level data (computed from the arms); for contrasts it "
                                  "labels the scale and back-transforms ratio results [default: the file's "
                                  "measure column]."),
    )


def _check_measure(measure: str | None) -> str | None:
    """The registry code of ``--measure`` (the same check as `analyse`), or a DataError naming it."""
    if measure is None:
        return None
    from bayesmeta.effects.measures import get_measure
    from bayesmeta.errors import Problem

    try:
        return get_measure(measure).code
    except ValueError as e:
        raise DataError(Problem("command line", None, "--measure", str(e))) from None


def _read_effects(csv: Path, measure: str | None):
    """The effect table of ``csv`` for `rma` and `solve`; 'pass measure=' becomes '--measure'."""
    from bayesmeta.data.readers import read_csv
    from bayesmeta.errors import Problem

    try:
        return read_csv(csv, measure=measure)
    except DataError as e:
        raise DataError(
            [Problem(p.file, p.row, p.column, p.message.replace("pass measure=", "give --measure"))
             for p in e.problems]
        ) from None


def _back_transformed(code: str | None, rows: list[tuple[str, float, float, float]]) -> str:
    """Ratio measures: ``name est [lb, ub]`` on the ratio scale, one line each (empty otherwise)."""
    if code is None:
        return ""
    from bayesmeta.effects.measures import get_measure

    m = get_measure(code)
    if m.transform in ("identity", "pft", "irft"):  # PFT/IRFT need the studies' sizes: see EffectTable.summary
        return ""
    return "\n".join(
        f"  {name} as {m.reported_label}: {float(m.back_transform(e)):.4f} "
        f"[{float(m.back_transform(lo)):.4f}, {float(m.back_transform(hi)):.4f}]"
        for name, e, lo, hi in rows
    )


_SPEC_TO_OPTION = (
    ("study_level[0].margins", "--margin"),
    ("study_level[0].primary_margin", "--margin"),
    ("study_level[0].rope", "--rope"),
    ("study_level[0].timepoint", "--timepoint"),
    ("study_level[0].outcome", "--outcome"),
    ("study_level[0].question", "--question"),
    ("study_level[0].superiority_threshold", "--superiority-threshold"),
    ("study_level[0].measure", "--measure"),
    ("study_level[0].moderators", "--mods"),
    ("study_level[0].categorical", "--mods"),
    ("analysis.preset", "--preset"),
    ("tau_priors", "--tau-prior"),
    ("mu_priors", "--mu-prior"),
    ("analysis.experimental", "--experimental"),
    ("analysis.control", "--control"),
    ("sampler.draws", "--draws"),
    ("sampler.chains", "--chains"),
    ("analysis.seed", "--seed"),
)


def _given(param: str) -> bool:
    """The option was given on the command line (not its default)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    src = ctx.get_parameter_source(param)
    return src is not None and src.name == "COMMANDLINE"


def _check_prior_measures(spec, strict: bool, options: bool = False) -> None:
    """Empirical priors made for another measure than the data's: a warning naming the prior's
    measure, or (``strict``) one problem per prior, named by its spec key or option."""
    from bayesmeta.bayes.prior_atlas import measure_mismatch
    from bayesmeta.errors import Problem

    found = []
    blocks = [(f"study_level[{i}]", b) for i, b in enumerate(spec.study_level)]
    blocks += [(f"outcome[{i}]", o) for i, o in enumerate(spec.outcomes)]
    seen = set()
    for where, b in blocks:
        for kind in ("tau", "mu"):
            key = getattr(b, f"{kind}_priors", None) or ("" if where.startswith("outcome") and kind == "tau"
                                                          else b.measure)
            if not key:
                continue
            try:
                priors = spec.prior_specs(kind, key)
            except (KeyError, ValueError):
                continue
            for name, ps in priors.items():
                msg = None if ps.transfer else measure_mismatch(ps.prior, b.measure)
                if msg and (kind, key, name, b.measure) not in seen:
                    seen.add((kind, key, name, b.measure))
                    found.append((f"{kind}_priors.{key}.{name}.prior", f"{msg} (used by {where})" + ("" if options else
                                  f"; or state why it carries over in key '{kind}_priors.{key}.{name}.transfer'")))
    if not found:
        return
    if strict:
        from bayesmeta.errors import Problem

        raise _as_options(DataError([Problem(str(spec.path), None, k, m + "; --strict refuses it") for k, m in found])) \
            if options else DataError([Problem(str(spec.path), None, k, m + "; --strict refuses it") for k, m in found])
    import warnings

    for k, m in found:
        where = f"option '--{k.split('_', 1)[0]}-prior'" if options else f"key '{k}'"
        warnings.warn(f"{where}: {m} (--strict makes this an error)", UserWarning, stacklevel=2)


def _as_options(e: DataError) -> DataError:
    """A spec problem of the spec that `analyse` built, renamed to the option that set the key."""
    from bayesmeta.errors import Problem

    out = []
    for p in e.problems:
        key = p.column or ""
        opt = next((o for k, o in _SPEC_TO_OPTION if key.startswith(k)), None)
        out.append(Problem("command line", None, opt, p.message) if opt else p)
    return DataError(out)


@main.command()
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--measure",
    cls=_MeasureOption,
    default=None,
    help="Required, except for a RevMan review, whose analyses carry their own.",
)
@click.option(
    "--comparison",
    default=None,
    help="RevMan review: the comparison to reanalyse (number or name) [default: all].",
)
@click.option(
    "--lower-is-better",
    "lower_flag",
    is_flag=True,
    default=False,
    help="Lower values are better (pain, adverse events); this or --higher-is-better is required.",
)
@click.option(
    "--higher-is-better",
    "higher_flag",
    is_flag=True,
    default=False,
    help="Higher values are better (response, function scores).",
)
@click.option(
    "--margin",
    "margins",
    multiple=True,
    type=float,
    help="Non-inferiority margin in the measure's units (ratio on the harmful side, e.g. 1.25); "
    "repeat for several, the first is primary.",
)
@click.option(
    "--question",
    default="noninferiority",
    show_default=True,
    type=click.Choice(["noninferiority", "superiority", "equivalence", "estimation"]),
)
@click.option(
    "--tau-prior",
    "tau_priors",
    multiple=True,
    help="Prior on tau, e.g. 'halfnormal(0.5)' or 'rhodes2015()'; repeat for a sensitivity set, the "
    "first is primary [default: half-normal(0.5), half-normal(1), half-Cauchy(0.5), empirical].",
)
@click.option(
    "--mu-prior",
    "mu_priors",
    multiple=True,
    help="Prior on mu, e.g. 'normal(0, 1)'; repeat, the first is primary [default: weakly informative "
    "and sceptical normal priors].",
)
@click.option(
    "--outcome",
    default=None,
    help="Outcome to analyse (the file's outcome column), if it holds several; for a RevMan review the "
    "outcome's number, name or analysis number (1.2; several as 1.1,1.3) [default: all].",
)
@click.option("--timepoint", default=None, help="Time point to analyse (one per study).")
@click.option(
    "--mods",
    "mods",
    multiple=True,
    help="Moderator column of the data file for a meta-regression (repeat, or separate with commas); "
    "text columns are categorical.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse (exit 2) what is otherwise a warning: an empirical prior made for another measure.",
)
@click.option("--experimental", default=None, help="Label of the experimental arm (arm column).")
@click.option("--control", default=None, help="Label of the control arm (arm column).")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(min=0))
@click.option("--draws", default=2000, show_default=True, type=click.IntRange(min=1))
@click.option("--chains", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--no-sample", is_flag=True, help="Exact posteriors only (no MCMC).")
@click.option(
    "--preset",
    default=None,
    type=click.Choice(PRESET_CHOICES),
    help="Program whose frequentist analysis to reproduce first: revman5 (DL, Wald CI, t(k-2) PI, I^2 from "
    "Q), revman2025 (REML, HKSJ CI, t(k-1) PI, I^2 from tau^2) or metafor (REML, z); it also sets the "
    "zero-cell rule and the SMD variant (docs/spec.md).",
)
@click.option(
    "--superiority-threshold",
    type=float,
    default=None,
    help="The effect that counts as a benefit, on the beneficial side: a ratio (e.g. 0.8 for RR where "
    "lower is better) or a positive distance for differences [default: the null].",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder (relative to the working directory, or absolute).",
)
@click.option("--quiet", is_flag=True, help="No progress display.")
@_debug_option
@_fail_on_data_error
def analyse(
    data: Path,
    measure: str | None,
    comparison: str | None,
    lower_flag: bool,
    higher_flag: bool,
    margins: tuple[float, ...],
    question: str,
    tau_priors: tuple[str, ...],
    mu_priors: tuple[str, ...],
    outcome: str | None,
    timepoint: str | None,
    mods: tuple[str, ...],
    strict: bool,
    experimental: str | None,
    control: str | None,
    seed: int,
    draws: int,
    chains: int,
    no_sample: bool,
    preset: str | None,
    superiority_threshold: float | None,
    out: Path,
    quiet: bool,
):
    """Analyse one data file without writing a spec: the full report in OUT, and OUT/spec.toml.

    DATA is arm-level (study, outcome, arm, n, mean, sd or events, source) or contrast-level (yi
    with vi or sei). The spec the run used is written beside the report, so that
    `bayesmeta reanalyze OUT/spec.toml` repeats it and the file can be edited.
    """
    from bayesmeta.data.revman.read import is_revman_file
    from bayesmeta.errors import Problem
    from bayesmeta.pipeline.quick import spec_for_data
    from bayesmeta.pipeline.reanalysis import reanalyse
    from bayesmeta.pipeline.spec import spec_from_dict, to_toml
    from bayesmeta.report.writer import IncompleteRun, check_target, write

    problems: list[Problem] = []
    if lower_flag and higher_flag:
        problems.append(
            Problem(
                "command line",
                None,
                "--lower-is-better",
                "given together with --higher-is-better: they contradict each other; keep the one that is true "
                "of the outcome (pain, adverse events: --lower-is-better; response, function: --higher-is-better)",
            )
        )
    if is_revman_file(data):
        if mods:
            problems.append(Problem("command line", None, "--mods", "a RevMan review holds no moderator columns: "
                                    "export the analysis as a CSV with a column per moderator, or leave --mods out"))
        if problems:
            raise DataError(problems)
        from bayesmeta.cli_review import analyse_review

        analyse_review(
            data, comparison=comparison, outcome=outcome, measure=measure,
            lower_is_better=True if lower_flag else (False if higher_flag else None),
            margins=margins, question=question if _given("question") else None, tau_priors=tau_priors,
            mu_priors=mu_priors, timepoint=timepoint, experimental=experimental, control=control, seed=seed,
            draws=draws, chains=chains, no_sample=no_sample, preset=preset,
            superiority_threshold=superiority_threshold, out=out, quiet=quiet, command=_command_line(),
            strict=strict,
        )
        return
    if comparison is not None:
        problems.append(Problem("command line", None, "--comparison", "only a RevMan review (.rm5, .zip or "
                                "RevMan's analysis CSV) has comparisons"))
    if measure is None:
        problems.append(Problem("command line", None, "--measure", "give the effect measure of the data "
                                "(SMD, SMD_revman, MD, RR, OR, RD, HR, ROM, IRR or GEN)"))
    if not (lower_flag or higher_flag):
        problems.append(
            Problem(
                "command line",
                None,
                "--lower-is-better",
                "say which direction is better: --lower-is-better (pain, adverse events) or "
                "--higher-is-better (response, function scores)",
            )
        )
    lower_is_better = bool(lower_flag)
    if not Path(data).is_file():
        raise DataError(
            [
                *problems,
                Problem(
                    str(data), None, None, "data file not found" if not Path(data).exists() else "is not a file"
                ),
            ]
        )
    target = check_target(out)
    if measure is None:  # reported with the other option problems; nothing to build a spec from
        raise DataError(problems)
    try:
        raw = spec_for_data(
            data,
            target,
            measure=measure,
            lower_is_better=lower_is_better,
            question=question,
            margins=list(margins),
            tau_priors=list(tau_priors),
            mu_priors=list(mu_priors),
            outcome=outcome,
            timepoint=timepoint,
            experimental=experimental,
            control=control,
            seed=seed,
            sample=not no_sample,
            draws=draws,
            chains=chains,
            mods=[m.strip() for x in mods for m in x.split(",") if m.strip()],
        )
    except DataError as e:
        raise DataError([*problems, *e.problems]) from None
    if preset is not None:
        raw["analysis"]["preset"] = preset
    if superiority_threshold is not None:
        raw["study_level"][0]["superiority_threshold"] = superiority_threshold
    try:
        spec = spec_from_dict(raw, target / "spec.toml")
    except DataError as e:
        later = [p for p in e.problems if not (problems and "lower_is_better" in p.message)]
        raise _as_options(DataError([*problems, *later])) from None
    if problems:
        raise DataError(problems)
    _check_prior_measures(spec, strict, options=True)
    blk = spec.study_level[0]
    primary = (
        f"\nPrimary analysis: tau prior {spec.primary('tau', blk.tau_priors)}, effect prior "
        f"{spec.primary('mu', blk.mu_priors)}"
        + (f", margin {blk.margins[0]:g}" if blk.margins and blk.question in ("noninferiority", "equivalence") else "")
        + f", question {blk.question}; every other prior is a named departure (the sensitivity grid)."
    )
    text = to_toml(
        raw,
        header=f"Written by `{_command_line()}`.\nRepeat with: bayesmeta reanalyze "
        "spec.toml (paths are relative to this file); edit freely (docs/spec.md)." + primary,
    )
    try:
        r = reanalyse(spec, progress=not quiet)
    except DataError as e:
        raise _as_options(e) from None
    if r.failed_blocks:
        raise IncompleteRun(r, target)
    written = write(r, target, command=_command_line(), extra={"spec.toml": text})
    _report(r, written, False)
    click.echo(f"Spec written to {written.out / 'spec.toml'}")


@main.command("check-published")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--preset",
    default=None,
    type=click.Choice(PRESET_CHOICES),
    help="Program that printed the results: revman5 and metafor print Wald CIs (the default reading), "
    "revman2025 HKSJ t(k-1) CIs (the k_studies column is then needed).",
)
@_debug_option
@_fail_on_data_error
def check_published_cmd(path: Path, preset: str | None):
    """Check every pooled result in a published-results CSV for internal consistency."""
    import pandas as pd

    from bayesmeta.data.tables import read_published
    from bayesmeta.errors import Problem
    from bayesmeta.published.consistency import check_table

    published = read_published(path)
    try:
        table = check_table(published, preset=preset)
    except DataError:
        raise
    except ValueError as e:
        raise DataError(Problem(str(path), None, "k_studies", f"{e}: give k_studies for every result")) from None
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        click.echo(table.to_string(index=False))


@main.command("check-revman")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--preset",
    default="revman5",
    show_default=True,
    type=click.Choice(PRESET_CHOICES),
    help="Conventions of the recomputation (revman5: DerSimonian-Laird, Wald CI, RevMan's zero-cell rules).",
)
@click.option("--all", "show_all", is_flag=True, help="Print every compared number, not only the differences.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the whole comparison table (one row per number) to this CSV file.",
)
@_debug_option
@_fail_on_data_error
def check_revman_cmd(path: Path, preset: str, show_all: bool, out: Path | None):
    """Recompute every analysis of a RevMan review and compare with RevMan's stored numbers.

    PATH is a RevMan 5 file (.rm5), RevMan 5's analysis CSV export, or a Cochrane data package
    (.zip). Every pooled estimate, CI, Z, P, Chi^2, I^2, Tau^2 (overall and per subgroup), the test
    for subgroup differences and every study's estimate, CI and weight are set beside their
    recomputation. Exit 0 when all agree within RevMan's printed precision, 1 otherwise.
    """
    import pandas as pd

    from bayesmeta.data.revman import read_revman
    from bayesmeta.published.revman_check import check_revman

    chk = check_revman(read_revman(path), preset=preset)
    click.echo(str(chk))
    cols = ["analysis", "subgroup", "study", "quantity", "revman", "recomputed", "abs_diff", "tol_printed",
            "agrees_stored", "agrees_printed"]
    shown = chk.table if show_all else chk.differences("stored")
    if not shown.empty:
        with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_rows", 10_000):
            click.echo(("Every number:" if show_all else "Beyond the stored precision:") + "\n"
                       + shown[cols].to_string(index=False))
    if out is not None:
        from bayesmeta import _io

        _io.write_csv(out, chk.table)
        click.echo(f"Comparison table written to {out}")
    if not chk.ok:
        sys.exit(1)


@main.command("missing")
@click.argument("data_dir", type=click.Path(path_type=Path))
@_debug_option
@_fail_on_data_error
def missing_cmd(data_dir: Path):
    """List the study values a study-level analysis of DATA_DIR would need but does not have.

    DATA_DIR may also be a spec (SPEC.toml): its data folder is listed, and what each declared
    meta-regression needs (effect values and moderator values)."""
    from bayesmeta.errors import Problem
    from bayesmeta.pipeline.reanalysis import missing_report

    spec = None
    if data_dir.is_file() and data_dir.suffix == ".toml":
        from bayesmeta.pipeline.spec import load_spec

        spec = load_spec(data_dir)
        data_dir = spec.data_dir
    if not data_dir.is_dir():
        raise DataError(Problem(str(data_dir), None, None, "folder not found: give the data folder"))

    click.echo(missing_report(data_dir, spec))


@main.command()
@click.argument("csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--method",
    default=None,
    type=click.Choice(["EE", "DL", "REML", "PM", "ML"]),
    help="tau^2 estimator (metafor's codes) [default: the preset's, else REML].",
)
@click.option(
    "--test",
    "test_",
    default=None,
    type=click.Choice(["z", "t", "knha", "knha_adhoc"]),
    help="test and CI for mu (knha_adhoc: modified Hartung-Knapp) [default: the preset's, else z].",
)
@_measure_option(required=False)
@click.option(
    "--preset",
    default=None,
    type=click.Choice(PRESET_CHOICES),
    help="named settings: revman5 (DL, Wald CI, t(k-2) PI, I^2 from Q) or revman2025 (REML, Q-profile "
    "CI for tau^2, Hartung-Knapp CI, t(k-1) PI, I^2 from tau^2); --method/--test override it.",
)
@click.option(
    "--level", default=0.95, show_default=True, type=PROBABILITY, help="confidence level, e.g. 0.95."
)
@_debug_option
@_fail_on_data_error
def rma(csv: Path, method: str | None, test_: str | None, level: float, preset: str | None, measure: str | None):
    """Frequentist random-effects meta-analysis of a study-data CSV: contrasts (yi with vi or sei),
    or arm-level/one-row-per-study data with --measure."""
    import numpy as np

    from bayesmeta.frequentist.rma import rma as fit_rma

    code = _check_measure(measure)
    es = _read_effects(csv, code)
    yi, vi = np.asarray(es.yi, float), np.asarray(es.vi, float)
    if len(yi) < 2 and method != "EE":
        from bayesmeta.errors import Problem

        raise DataError(
            Problem(
                str(csv),
                None,
                None,
                f"{len(yi)} study: a random-effects meta-analysis needs at least 2 "
                "(with one study, report its own estimate and CI; --method EE accepts one)",
            )
        )
    fit = fit_rma(yi, vi, method=method, test=test_, level=level, preset=preset, labels=list(es.labels))
    if code is not None:
        click.echo(f"measure: {es.measure}")
    click.echo(str(fit))
    rows = [("mu", fit.mu, fit.ci_lb, fit.ci_ub)]
    if not fit.common_effect and (fit.pi_type != "t_k-2" or fit.k >= 3):
        p = fit.predict()
        rows.append(("prediction", fit.mu, p["pi_lb"], p["pi_ub"]))
    back = _back_transformed(code or es.measure, rows)  # the file's measure column when no --measure
    if back:
        click.echo(back)


@main.command()
@click.argument("csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--tau-prior",
    default="halfnormal(0.5)",
    show_default=True,
    help="Prior on tau in the spec syntax, e.g. 'halfcauchy(1)', 'rhodes2015()' (docs/spec.md).",
)
@click.option("--mu-prior", default="flat()", show_default=True, help="Prior on mu, e.g. 'normal(0, 1)'.")
@click.option(
    "--prob", default=0.95, show_default=True, type=PROBABILITY, help="interval probability, e.g. 0.95."
)
@click.option("--kind", default="hdi", show_default=True, type=click.Choice(["hdi", "eti"]))
@_measure_option(required=False)
@_debug_option
@_fail_on_data_error
def solve(csv: Path, tau_prior: str, mu_prior: str, prob: float, kind: str, measure: str | None):
    """Exact normal-normal posterior (numerical integration) for a study-data CSV: contrasts, or
    arm-level/one-row-per-study data with --measure."""
    import numpy as np

    from bayesmeta.bayes.exact import solve as exact
    from bayesmeta.errors import Problem
    from bayesmeta.pipeline.spec import parse_prior_text

    code = _check_measure(measure)

    priors = {}
    for opt, text, target in (("--tau-prior", tau_prior, "tau"), ("--mu-prior", mu_prior, "mu")):
        try:
            priors[target] = parse_prior_text(text, target)
        except (ValueError, TypeError) as e:
            raise DataError(Problem("command line", None, opt, str(e))) from None
        if code is not None:
            import warnings

            from bayesmeta.bayes.prior_atlas import measure_mismatch

            msg = measure_mismatch(priors[target], code)
            if msg:
                warnings.warn(f"option '{opt}': {msg}", UserWarning, stacklevel=2)
    es = _read_effects(csv, code)
    yi, vi = np.asarray(es.yi, float), np.asarray(es.vi, float)
    post = exact(yi, vi**0.5, priors["tau"], priors["mu"], labels=list(es.labels))
    if code is not None:
        click.echo(f"measure: {es.measure}")
    click.echo(str(post))
    click.echo(post.summary(prob=prob, kind=kind).to_string(index=False))
    back = _back_transformed(
        code or es.measure,
        [(name, d.median(), *d.interval(prob, kind)) for name, d in (("mu", post.mu), ("theta_new", post.theta_new))],
    )
    if back:
        click.echo(f"median and {round(100 * prob)}% {kind.upper()}, back-transformed:\n{back}")


_batch = __import__(
    "bayesmeta.batch.cli", fromlist=["batch"]
).batch  # `bayesmeta batch` (bayesmeta/batch/cli.py)
_batch.callback = _fail_on_data_error(_batch.callback)  # the same error handling as every other command
main.add_command(_batch)

if __name__ == "__main__":  # pragma: no cover
    main()
