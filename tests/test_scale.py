"""Large k (issue 20, item 2): what the analysis of a big review does instead of quadratic work,
and the bounds on what the report draws and prints. Small k with the thresholds lowered, so that the
same code paths run in a fraction of a second."""
import numpy as np
import pandas as pd
import pytest

from bayesmeta.bayes import priors as P
from bayesmeta.decide.decision import Orientation
from bayesmeta.pipeline import diagnostics as D
from bayesmeta.report import render
from bayesmeta.report.panels import ppc_panel_studies

pytestmark = pytest.mark.unit


def _data(k, seed=1):
    rng = np.random.default_rng(seed)
    sei = rng.uniform(0.1, 0.5, k)
    return rng.normal(0.1, np.sqrt(sei**2 + 0.04)), sei**2, [f"S{i + 1}" for i in range(k)]


def test_case_deletion_beyond_the_limit_is_skipped_with_a_structured_reason():
    y, v, labs = _data(12)
    kw = dict(tau_prior=P.halfnormal(0.5), mu_prior=P.normal(0.0, 1.0),
              orientation=Orientation(lower_is_better=True, measure="MD"), margin=0.2)
    d = D.diagnose(y, v, labs, case_deletion_max_k=11, bias_average_max_k=11, **kw)
    assert not d.case_deletion
    assert [(s.what, s.k, s.limit) for s in d.skipped] == [("case_deletion", 12, 11), ("bias_average", 12, 11)]
    assert d.bias_average is None and "not run" in d.bias_average_note and d.pet_peese is not None
    assert d.leave1out.empty and d.influence.empty and d.baujat.empty and d.bayes_loo.empty
    assert d.funnel is not None and d.regtest is not None  # the linear parts still run
    full = D.diagnose(y, v, labs, **kw)
    assert full.case_deletion and full.skipped == () and len(full.bayes_loo) == 12
    from bayesmeta.report.diagnostics import skipped_sentence

    s = skipped_sentence(d)
    assert "not run" in s and "k = 12" in s and "up to k = 11" in s


def test_small_study_tests_beyond_the_limit_are_skipped():
    y, v, labs = _data(12)
    d = D.diagnose(y, v, labs, tau_prior=P.halfnormal(0.5), mu_prior=P.normal(0.0, 1.0),
                   orientation=Orientation(lower_is_better=True, measure="MD"), margin=0.2, small_study_max_k=11)
    assert d.regtest is None and d.trimfill is None and d.funnel is None and "not shown" in d.small_study_note
    assert d.pet_peese is None and "PET-PEESE not run" in d.pet_peese_note
    assert {("small_study", 12, 11), ("pet_peese", 12, 11)} <= {(s.what, s.k, s.limit) for s in d.skipped}


def test_se_tau2_in_closed_form_equals_the_projection_matrices(monkeypatch):
    from bayesmeta.frequentist import rma as R

    rng = np.random.default_rng(2)
    v = rng.uniform(0.01, 0.3, 300)
    y = rng.normal(0, np.sqrt(v + 0.05))
    for m in ("DL", "HE", "SJ", "ML", "REML", "PM"):
        dense = R.se_tau2(y, v, 0.05, m)
        monkeypatch.setattr(R, "DENSE_MAX_K", 100)
        assert R.se_tau2(y, v, 0.05, m) == pytest.approx(dense, rel=1e-12), m
        monkeypatch.setattr(R, "DENSE_MAX_K", 1000)


def test_bayesian_loo_table_equals_the_library_function():
    # the table's shift_sd and p_loo now come from the table's own fits (one exact fit per study,
    # not two): the same numbers as bayes_leave1out, to the last bit
    from bayesmeta.bayes.influence import bayes_leave1out

    y, v, labs = _data(6, seed=3)
    tp, mp = P.halfnormal(0.5), P.normal(0.0, 1.0)
    d = D.diagnose(y, v, labs, tau_prior=tp, mu_prior=mp, orientation=Orientation(lower_is_better=True,
                   measure="MD"), margin=0.2)
    ref = bayes_leave1out(y, np.sqrt(v), tp, mp, labels=labs)
    np.testing.assert_array_equal(d.bayes_loo["shift_sd"].to_numpy(), ref["shift_sd"].to_numpy())
    np.testing.assert_array_equal(d.bayes_loo["p_loo"].to_numpy(), ref["p_loo"].to_numpy())


def test_predictive_draws_are_bounded():
    assert D.ppc_draws(8) == 20_000 and D.ppc_draws(400) == 20_000 and D.ppc_draws(1_000) == 8_000
    assert D.ppc_draws(2_000) == 4_000 and D.ppc_draws(20_000) == 1_000 and D.ppc_draws(10**6) == 1_000
    assert D.ppc_draws(2_000) * 2_000 <= D.PPC_DRAW_BUDGET


def test_ppc_panel_keeps_the_most_extreme_studies_in_order(monkeypatch):
    rng = np.random.default_rng(0)
    y_rep = rng.normal(size=(4000, 10))
    y = np.zeros(10)
    y[[2, 7]] = [5.0, -4.0]  # far outside their replications
    np.testing.assert_array_equal(ppc_panel_studies(y, y_rep), np.arange(10))
    monkeypatch.setattr(D, "PPC_PANEL_MAX_STUDIES", 2)
    np.testing.assert_array_equal(ppc_panel_studies(y, y_rep), [2, 7])


def test_long_tables_are_cut_in_markdown_and_html(monkeypatch):
    monkeypatch.setattr(render, "MAX_TABLE_ROWS", 5)
    t = render.Table(pd.DataFrame({"study": [f"S{i}" for i in range(12)], "x": np.arange(12.0)}), caption="c")
    md = render._md_table(t)
    assert "| S4 |" in md and "| S5 |" not in md and "First 5 of 12 rows shown" in md
    h = render._html_table(t)
    assert ">S4<" in h and ">S5<" not in h and "First 5 of 12 rows shown" in h
    short = render.Table(pd.DataFrame({"x": [1.0, 2.0]}))
    assert "rows shown" not in render._md_table(short)


def test_progress_lines_when_not_a_terminal(capsys, monkeypatch):
    from bayesmeta import _progress

    monkeypatch.setattr(_progress, "ANNOUNCE_AFTER", 0.01)
    import time

    with _progress.step("quiet step"):
        time.sleep(0.05)
    assert capsys.readouterr().err == ""  # progress off: nothing
    with _progress.reporting(True):
        with _progress.step("long step"):
            time.sleep(0.1)
        with _progress.step("short step"):
            pass
        _progress.note("expected 3 minutes")
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "[bayesmeta] long step ..." and err[1].startswith("[bayesmeta] long step: done in ")
    assert err[2] == "[bayesmeta] expected 3 minutes" and len(err) == 3


def test_meta_regression_score_in_low_rank_form_equals_the_projection(monkeypatch):
    from bayesmeta.frequentist import metareg as M

    rng = np.random.default_rng(1)
    k = 200
    v = rng.uniform(0.01, 0.3, k)
    y = rng.normal(0, np.sqrt(v + 0.05))
    X = np.column_stack([np.ones(k), np.sqrt(v)])
    for reml in (True, False):
        for t in (0.0, 0.05):
            dense = M._score(y, v, X, t, reml)
            monkeypatch.setattr(M, "LOW_RANK_MIN_K", 100)
            assert M._score(y, v, X, t, reml) == pytest.approx(dense, rel=1e-12)
            monkeypatch.setattr(M, "LOW_RANK_MIN_K", 1000)


def test_sampling_progress_states_the_expected_time_then_the_time_left(capsys, monkeypatch):
    # fake chains and a fake clock: 4 chains of 2,000 iterations; after 5 s, 1,000 done in all ->
    # 5 s * 7,000 / 1,000 = 35 s left, 40 s in all; nothing before 3 s; next line only 30 s later
    from types import SimpleNamespace

    from bayesmeta import _progress

    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    now = [0.0]
    with _progress.reporting(True):
        prog = _progress.SamplingProgress("sampling X", clock=lambda: now[0])

    def chains(done):
        return [SimpleNamespace(finished_draws=done // 4, total_draws=2000) for _ in range(4)]

    # called as from nutpie's thread, outside the context that turned progress on
    now[0] = 2.0
    prog(chains(400))
    assert prog.lines == []
    now[0] = 5.0
    prog(chains(1000))
    now[0] = 20.0
    prog(chains(4000))  # within 30 s of the first line: silent
    now[0] = 40.0
    prog(chains(6000))
    assert prog.lines == [
        "sampling X: 1,000 of 8,000 iterations in 5 s; expected about 40 s in all (35 s left)",
        "sampling X: 75% done, about 13 s left",
    ]
    err = capsys.readouterr().err
    assert "[bayesmeta] sampling X: 1,000 of 8,000 iterations in 5 s; expected about 40 s in all" in err
    quiet = _progress.SamplingProgress("sampling Y", clock=lambda: now[0])
    now[0] = 100.0
    quiet(chains(1000))  # progress off: the line is kept, nothing printed
    assert len(quiet.lines) == 1 and capsys.readouterr().err == ""
