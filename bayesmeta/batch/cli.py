"""``bayesmeta batch TABLE.csv --out DIR``: reanalyse many published meta-analyses at once."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from bayesmeta.errors import DataError


def _prior(text: str | None, target: str, option: str):
    """A prior in the one prior syntax of specs and the command line (docs/spec.md), e.g.
    ``halfnormal(0.5)``, ``normal(loc=0, scale=1)``, ``flat()``, ``bartos2021()``; a bad one is an
    error naming the option (exit 2)."""
    if text is None:
        return None
    from bayesmeta.bayes.priors import parse_prior
    from bayesmeta.errors import Problem

    try:
        return parse_prior(text, target)
    except (ValueError, TypeError) as e:
        raise DataError(Problem("command line", None, option, str(e))) from None


@click.command("batch")
@click.argument("table", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder (batch.csv, batch.png, batch.json).")
@click.option("--mu-prior", default=None,
              help="Prior on mu for every row, in the spec syntax, e.g. 'normal(0, 1)', 'studentt(nu=3, loc=0, "
                   "scale=0.32)', 'flat()' (default: Bartos et al. empirical priors for SMD, OR, RR; flat otherwise).")
@click.option("--tau-prior", default=None,
              help="Prior on tau for study rows in the spec syntax, e.g. 'halfnormal(0.5)', 'rhodes2015()' "
                   "(default halfnormal(0.5)).")
@click.option("--threshold", default=0.95, show_default=True, type=click.FloatRange(0.5, 1.0, max_open=True),
              help="P(non-inferior) at or above which non-inferiority is declared.")
@click.option("--preset", default=None, type=click.Choice(["revman5", "revman2025", "metafor"]),
              help="Program that printed the published rows (revman2025: HKSJ t(k-1) CIs, so each row needs k) "
                   "[default: Wald CIs, as RevMan 5 and metafor print them].")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def batch(table: Path, out: Path, mu_prior: str | None, tau_prior: str | None, threshold: float, quiet: bool,
          debug: bool, preset: str | None = None):
    """Reanalyse every published result (one row per meta-analysis) or every analysis of study rows
    (one row per study with an analysis id) in TABLE; write one tidy table and a summary figure."""
    from bayesmeta.batch.figure import FigureWorker

    # the figure's process imports matplotlib while this one reads and reanalyses (~1 s saved)
    try:
        with FigureWorker() as worker:
            from bayesmeta.batch.run import run_batch

            mp = _prior(mu_prior, "mu", "--mu-prior")
            tp = _prior(tau_prior, "tau", "--tau-prior")
            t = run_batch(table, out, mp, tp, threshold, progress=not quiet,
                          command=" ".join(["bayesmeta", *sys.argv[1:]]), preset=preset, figure=worker.draw)
    except DataError as e:
        if debug:
            raise
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    n_ni = int(t["noninferior"].eq(True).sum())
    flags = int((t["consistent"].eq(False) | t["uoa_flag"]).sum())
    click.echo(f"{len(t)} analyses reanalysed; {n_ni} non-inferior at P >= {threshold:g}; {flags} flagged. "
               f"Wrote {out / 'batch.csv'}, {out / 'batch.png'}, {out / 'batch.json'}")
