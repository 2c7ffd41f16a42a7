"""The batch command's summary figure drawn in a worker process (bayesmeta.batch.figure).

The worker exists for speed only (it imports matplotlib while the command reads and reanalyses),
so the tests check that it never changes the output: the same PNG byte for byte as drawn in
process, the same when the worker fails (drawn here instead), nothing written when it is not used,
and the command's parent process never importing matplotlib when the worker works.
"""
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bayesmeta.batch.figure import FigureWorker, summary_figure
from bayesmeta.batch.run import run_batch

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]

ROWS = ("analysis,measure,estimate,ci_lb,ci_ub,p,k,participants,lower_is_better,margin\n"
        "a,SMD,0.21,-0.05,0.47,0.11,6,400,false,0.2\nb,RR,0.80,0.66,0.97,0.02,9,2100,true,1.25\n"
        "c,OR,1.10,0.90,1.35,,4,800,true,1.25\nd,MD,-1.5,-3.1,0.1,0.07,5,300,true,1.0\n"
        "e,SMD,0.40,0.10,0.70,0.01,12,1500,false,0.2\n")


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch")
    (d / "t.csv").write_text(ROWS)
    return run_batch(d / "t.csv", d / "ref", progress=False)


def test_worker_draws_the_same_png_as_this_process(table, tmp_path):
    summary_figure(table, tmp_path / "here.png")
    with FigureWorker() as w:
        proc = w._proc
        w.draw(table, tmp_path / "worker.png")
    assert proc is not None and proc.returncode == 0  # drawn by the worker, not by the fallback
    assert (tmp_path / "worker.png").read_bytes() == (tmp_path / "here.png").read_bytes()


def test_a_failed_worker_falls_back_to_this_process(table, tmp_path):
    summary_figure(table, tmp_path / "here.png")
    with FigureWorker() as w:
        w._proc.kill()  # the worker died before it got the data
        w._proc.wait()
        w.draw(table, tmp_path / "fallback.png")
    assert (tmp_path / "fallback.png").read_bytes() == (tmp_path / "here.png").read_bytes()


def test_an_unused_worker_ends_without_writing(tmp_path):
    with FigureWorker() as w:
        proc = w._proc
    assert proc is not None and proc.returncode == 0
    assert not list(tmp_path.iterdir())


def test_the_command_never_imports_matplotlib_in_its_own_process(tmp_path):
    # the batch command in a fresh interpreter: the figure exists, equals the in-process one, and
    # the command's own process never loaded matplotlib (the worker drew it)
    src = tmp_path / "t.csv"
    src.write_text(ROWS)
    code = ("import json, sys\nfrom bayesmeta.cli import main\n"
            f"try:\n    main(['batch', {str(src)!r}, '--out', {str(tmp_path / 'out')!r}, '--quiet'])\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('matplotlib'))))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"})
    assert json.loads(out.stdout.splitlines()[-1]) == []
    t = pd.read_csv(tmp_path / "out" / "batch.csv")
    run_batch(src, tmp_path / "ref", progress=False)
    assert (tmp_path / "out" / "batch.png").read_bytes() == (tmp_path / "ref" / "batch.png").read_bytes()
    assert len(t) == 5
