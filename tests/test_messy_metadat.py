"""Five real data sets of metadat as a new user prepares them (issue 19, item 4), each through
``bayesmeta analyse`` end to end (``--no-sample``), against metafor.

The files (``tests/data/metadat/*.csv``) and metafor's results (``metafor_messy.json``, metafor
4.x on R 4.x, REML with ``threshold = tol = 1e-12``) come from
``validation/metafor/make_messy_metadat.R`` (``Rscript validation/metafor/make_messy_metadat.R``).
What makes each file messy: a multi-arm review (pagliaro1992), ``NA`` for trials that report
nothing and double zeros (yusuf1985), a categorical moderator and ``.`` cells (curtis1998), four
outcomes of the same trials and a zero cell (fine1993), Fisher z contrasts with a numeric moderator
(molloy2014).

Tolerance: both sides solve the same REML estimating equation to 1e-12; 1e-8 relative (and
1e-10 absolute for tau^2 at 0) leaves room for the iteration paths.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bayesmeta.cli import main

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parent / "data" / "metadat"
GOLD = json.loads((DATA / "metafor_messy.json").read_text(encoding="utf-8"))


def analyse(tmp_path: Path, name: str, *args: str):
    out = tmp_path / name
    r = CliRunner().invoke(main, ["analyse", str(DATA / f"{name}.csv"), *args, "--no-sample", "--quiet",
                                  "--out", str(out)])
    assert r.exit_code == 0 and r.exception is None, r.stderr + repr(r.exception)
    stem = next(out.glob("tables/*_frequentist.csv")).name.removesuffix("_frequentist.csv")
    freq = pd.read_csv(out / "tables" / f"{stem}_frequentist.csv").set_index("analysis")
    return freq, (out / "report.md").read_text(encoding="utf-8"), r.stderr, out / "tables" / stem


def same_reml(freq: pd.DataFrame, gold: dict) -> None:
    row = freq.loc["REML"]
    assert row["k"] == gold["k"]
    assert row["mu"] == pytest.approx(gold["mu"], rel=1e-8)
    assert row["se"] == pytest.approx(gold["se"], rel=1e-8)
    assert row["tau2"] == pytest.approx(gold["tau2"], rel=1e-8, abs=1e-10)
    assert row["Q"] == pytest.approx(gold["QE"], rel=1e-10)


def test_pagliaro1992_multi_arm_two_arms_chosen(tmp_path):
    freq, report, err, _ = analyse(tmp_path, "pagliaro1992", "--measure", "RR", "--lower-is-better", "--question",
                                   "superiority", "--experimental", "sclerotherapy", "--control", "control")
    gold = GOLD["pagliaro1992"]["sclerotherapy_vs_control"]
    same_reml(freq, gold)
    # the third arm and the seven beta-blocker-only trials are left out with a note, in the report and on stderr
    for text in (report, err):
        assert "arm 'beta-blockers' (9 rows: 1, 2, 3, 4, 5, 6, ...) left out" in text
        assert "7 studies without 'sclerotherapy' arm left out (3, 4, 5, 6, 7, 8, 9;" in text
    assert "0.5 added to every cell of the 2 studies with a zero cell (10, 20)" in report


def test_yusuf1985_not_reported_trials_and_double_zeros(tmp_path):
    freq, report, err, _ = analyse(tmp_path, "yusuf1985", "--measure", "RR", "--lower-is-better", "--question",
                                   "superiority", "--outcome", "table6")
    y = GOLD["yusuf1985"]
    same_reml(freq, y["table6_RR"])  # NA trial left out, double zeros kept with 0.5 (metafor's escalc defaults)
    assert "Snow 1 (1.8): events, n missing (ai 'NA'; n1i 'NA'; ci 'NA'; n2i 'NA' in the file), left out" in report
    assert "Snow 1 (1.8)" in err
    dz = ", ".join(y["table6_double_zero"])
    assert f"3 double-zero studies ({dz}) kept" in report
    assert "drop00 = FALSE" in report
    assert {"MH common effect (RevMan)", "MH + DL random effects (RevMan)"} <= set(freq.index)  # one row per study: MH too


def test_curtis1998_moderator_from_the_data_file(tmp_path):
    freq, report, _, stem = analyse(tmp_path, "curtis1998", "--measure", "SMD", "--higher-is-better", "--question",
                                    "superiority", "--mods", "fungrp")
    c = GOLD["curtis1998"]
    same_reml(freq, c["SMD"])
    reg = pd.read_csv(f"{stem}_metaregression.csv")
    reg = reg[reg["analysis"] == "REML (metafor default, z)"].set_index("term")
    for term, gold in (("intrcpt", "intrcpt"), ("fungrp[GYMNO]", "fungrpGYMNO"), ("fungrp[N2FIX]", "fungrpN2FIX")):
        assert reg.loc[term, "estimate"] == pytest.approx(c["mods_fungrp"]["coef"][gold], rel=1e-6)
        assert reg.loc[term, "se"] == pytest.approx(c["mods_fungrp"]["se"][gold], rel=1e-6)
    assert "Meta-regression: curtis1998" in report


def test_fine1993_one_of_four_outcomes_with_a_zero_cell(tmp_path):
    freq, report, _, _ = analyse(tmp_path, "fine1993", "--measure", "RR", "--lower-is-better", "--question",
                                 "superiority", "--outcome", "e4")
    f = GOLD["fine1993"]
    same_reml(freq, f["e4"])
    zc = ", ".join(f["e4_zero_cell"])
    assert f"0.5 added to every cell of the 2 studies with a zero cell ({zc})" in report


def test_molloy2014_contrasts_with_a_numeric_moderator(tmp_path):
    freq, _, _, stem = analyse(tmp_path, "molloy2014", "--measure", "GEN", "--higher-is-better", "--question",
                               "estimation", "--mods", "meanage")
    m = GOLD["molloy2014"]
    same_reml(freq, m["ZCOR"])
    reg = pd.read_csv(f"{stem}_metaregression.csv")
    reg = reg[reg["analysis"] == "REML (metafor default, z)"].set_index("term")
    assert reg.loc["meanage", "estimate"] == pytest.approx(m["mods_meanage"]["coef"]["meanage"], rel=1e-6)
    assert reg.loc["meanage", "se"] == pytest.approx(m["mods_meanage"]["se"]["meanage"], rel=1e-6)
