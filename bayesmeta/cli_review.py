"""``bayesmeta analyse REVIEW.rm5|.csv|.zip``: a whole RevMan review reanalysed in one run.

Called by :func:`bayesmeta.cli.analyse` when its DATA is a RevMan file. The review's analyses
(all, or those chosen with ``--comparison``/``--outcome``) are written as data files and one spec
(:mod:`bayesmeta.pipeline.review`), run by the same path as any spec, and written as one report
with, beside it, ``spec.toml``, ``data/`` (so ``bayesmeta reanalyze DIR/spec.toml`` repeats the run),
``review_summary.csv``/``.md`` (one row per outcome) and ``revman_check.csv`` (RevMan's stored
numbers beside their recomputation).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

import click

from bayesmeta.errors import DataError, Problem

__all__ = ["analyse_review"]


def _table_md(df) -> str:
    cols = list(df.columns)
    fmt = lambda v: (f"{v:.4g}" if isinstance(v, float) else str(v)).replace("|", "/")
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


_KEY_TO_OPTION = (
    ("margins", "--margin"), ("primary_margin", "--margin"), ("question", "--question"),
    ("superiority_threshold", "--superiority-threshold"), ("preset", "--preset"), ("tau_priors", "--tau-prior"),
    ("mu_priors", "--mu-prior"), ("seed", "--seed"), ("draws", "--draws"), ("chains", "--chains"),
)


def _as_options(e: DataError) -> DataError:
    """A problem of the generated spec, renamed to the command-line option that set the key (the
    spec is the command's, not the user's)."""
    import re

    out = []
    for p in e.problems:
        key = p.column or ""
        leaf = re.sub(r"^(study_level|outcome)\[\d+\]\.|^(analysis|sampler)\.", "", key).split(".")[0]
        opt = next((o for k, o in _KEY_TO_OPTION if leaf == k or key.startswith(k)), None)
        out.append(Problem("command line", None, opt, p.message) if opt else p)
    return DataError(out)


def analyse_review(
    data: Path, *, comparison, outcome, measure, lower_is_better, margins, question, tau_priors, mu_priors,
    timepoint, experimental, control, seed, draws, chains, no_sample, preset, superiority_threshold, out, quiet,
    command: str, strict: bool = False,
) -> None:
    """Reanalyse the analyses of a RevMan review into the report folder ``out`` (see the module docstring)."""
    from bayesmeta.data.revman import read_revman
    from bayesmeta.pipeline.reanalysis import reanalyse
    from bayesmeta.pipeline.review import review_summary, spec_for_review, write_review_data
    from bayesmeta.pipeline.spec import spec_from_dict, to_toml
    from bayesmeta.published.revman_check import check_revman
    from bayesmeta.report.writer import IncompleteRun, check_target, write

    bad = [(opt, v) for opt, v in (("--measure", measure), ("--timepoint", timepoint),
                                   ("--experimental", experimental), ("--control", control)) if v is not None]
    if bad:
        raise DataError([
            Problem("command line", None, opt, "does not apply to a RevMan review: each analysis carries its own "
                    "measure, arms and labels (edit the spec.toml the run writes to change them)")
            for opt, _ in bad
        ])
    review = read_revman(data)
    try:
        analyses = review.select(comparison, outcome)
    except KeyError as e:
        raise DataError(Problem("command line", None, "--outcome" if outcome else "--comparison", str(e.args[0]))) from None
    target = check_target(out)
    tmp = Path(tempfile.mkdtemp(prefix=".bayesmeta-review-"))
    try:
        (tmp / "data").mkdir()
        units = write_review_data(analyses, tmp / "data")
        raw, notes = spec_for_review(
            review, units, tmp / "data", tmp, lower_is_better=lower_is_better, question=question,
            margins=list(margins), tau_priors=list(tau_priors), mu_priors=list(mu_priors), seed=seed,
            sample=not no_sample, draws=draws, chains=chains,
        )
        if preset is not None:
            raw["analysis"]["preset"] = preset
        if superiority_threshold is not None:
            for b in raw["study_level"]:
                b["superiority_threshold"] = superiority_threshold
        try:
            spec = spec_from_dict(raw, tmp / "spec.toml")
        except DataError as e:
            raise _as_options(e) from None
        from bayesmeta.cli import _check_prior_measures

        _check_prior_measures(spec, strict, options=True)  # an empirical prior made for another measure
        text = to_toml(
            raw,
            header=f"Written by `{command}`.\nOne [[study_level]] block per analysis of {Path(data).name} (per "
            "subgroup where subgroups share studies); the data files in data/ were written from it (each row's "
            "source names the file and line).\n" + "".join(f"Note: {n}\n" for n in notes) + "Repeat with: "
            "bayesmeta reanalyze spec.toml (paths are relative to this file); edit freely (docs/spec.md).",
        )
        (tmp / "spec.toml").write_text(text, encoding="utf-8")
        r = reanalyse(spec, progress=not quiet)
        if r.failed_blocks:
            raise IncompleteRun(r, target)
        # the review file is an input too (provenance.json records its sha256 beside the data written from it)
        r = dataclasses.replace(r, inputs={**r.inputs, str(Path(data).resolve()): review.sha256})
        summary = review_summary(review, units, r, interval=spec.interval_prob, kind=spec.interval_kind)
        r = dataclasses.replace(r, review=summary)  # the report opens with the review-level table
        check = check_revman(dataclasses.replace(review, analyses=analyses))
        extra = {"spec.toml": text, "review_summary.md": f"# {review.title}: one row per outcome\n\n" + _table_md(summary)}
        extra.update({f"data/{f.name}": f.read_text(encoding="utf-8") for f in sorted((tmp / "data").glob("*.csv"))})
        extra["review_summary.csv"] = summary.to_csv(index=False)
        extra["revman_check.csv"] = check.table.to_csv(index=False)
        written = write(r, target, command=command, extra=extra)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_colwidth", 40):
        click.echo(summary.drop(columns=["revman_source"]).to_string(index=False))
    for n in notes:
        click.echo(f"note: {n}")
    click.echo(str(check))
    click.echo(f"Report written to {written.out}")
    click.echo(f"Spec written to {written.out / 'spec.toml'} (repeat: bayesmeta reanalyze {written.out / 'spec.toml'})")
