"""A sampled run states its expected time before sampling (issue 20): the forecast's arithmetic and
monotonicity, the gradient timer on a really compiled model, and the line's place among the progress
lines (before sampling when progress is on, never when it is off). No assertion on wall time."""
import ctypes
import math
from types import SimpleNamespace

import numpy as np
import pytest

from bayesmeta import _progress
from bayesmeta.bayes import forecast as F
from bayesmeta.bayes import models
from bayesmeta.bayes import sampling as fitmod
from bayesmeta.bayes.priors import halfnormal, normal

Y = np.array([28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16])
S = np.array([14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6])
LAB = list("ABCDEFGH")
RUN = dict(chains=4, tune=1000, draws=2000, cores=2)

pytestmark = pytest.mark.unit  # the two tests that compile a model are also marked sampling


@pytest.mark.unit
def test_forecast_is_the_closed_form():
    # n_dim = 16: d^(1/4) = 2 exactly; 4 chains on 2 cores -> 2 x 3,000 = 6,000 iterations per core
    t = 1e-4
    f = F.forecast(t, n_dim=16, family="binomial_normal", **RUN)
    a_lo, a_hi = F.STEPS["binomial_normal"]
    assert f.steps_low == pytest.approx(2 * a_lo) and f.steps_high == pytest.approx(2 * a_hi)
    assert f.low == pytest.approx(F.START[0] + 6000 * 2 * a_lo * F.COST[0] * t, rel=1e-12)
    assert f.high == pytest.approx(F.START[1] + 6000 * 2 * a_hi * (F.COST[1] * t + F.STEP_OVERHEAD), rel=1e-12)
    assert (f.chains, f.tune, f.draws, f.cores, f.n_dim, f.family) == (4, 1000, 2000, 2, 16, "binomial_normal")
    # fewer chains than cores: each chain has a core of its own (1 chain -> 3,000 iterations)
    one = F.forecast(t, n_dim=16, family="binomial_normal", chains=1, tune=1000, draws=2000, cores=2)
    assert one.low == pytest.approx(F.START[0] + 3000 * 2 * a_lo * F.COST[0] * t, rel=1e-12)
    with pytest.raises(AttributeError):
        f.low = 0.0  # frozen


@pytest.mark.unit
def test_an_unknown_family_takes_the_widest_bounds_and_steps_stay_within_a_tree():
    t = 1e-4
    other = F.forecast(t, n_dim=16, family="something_new", **RUN)
    assert other.family == "other"
    assert other.steps_low == pytest.approx(2 * min(v[0] for v in F.STEPS.values()))
    assert other.steps_high == pytest.approx(2 * max(v[1] for v in F.STEPS.values()))
    for fam in F.STEPS:
        known = F.forecast(t, n_dim=16, family=fam, **RUN)
        assert other.low <= known.low and known.high <= other.high
    huge = F.forecast(t, n_dim=10**16, family="binomial_normal", **RUN)
    assert huge.steps_low == huge.steps_high == F.MAX_STEPS  # a depth-10 tree at most


@pytest.mark.unit
def test_forecast_is_monotone_in_every_input_and_its_bounds_are_ordered():
    base = dict(seconds_per_gradient=2e-5, n_dim=50, chains=4, tune=1000, draws=2000, cores=2)
    grid = {"seconds_per_gradient": [1e-7, 1e-6, 2e-5, 1e-3, 0.5], "n_dim": [1, 2, 50, 4002, 10**6],
            "chains": [1, 2, 3, 4, 8], "tune": [0, 10, 1000, 5000], "draws": [1, 100, 2000, 10**5],
            "cores": [1, 2, 3, 4, 64]}
    for fam in [*F.STEPS, "other"]:
        for name, values in grid.items():
            prev = None
            for v in values:
                kw = dict(base, **{name: v})
                t = kw.pop("seconds_per_gradient")
                f = F.forecast(t, family=fam, **kw)
                assert 0 < f.low <= f.high and math.isfinite(f.high), (fam, name, v)
                assert 1 <= f.steps_low <= f.steps_high <= F.MAX_STEPS
                if prev is not None:
                    if name == "cores":  # more cores: never slower
                        assert f.low <= prev.low and f.high <= prev.high, (fam, name, v)
                    else:
                        assert f.low >= prev.low and f.high >= prev.high, (fam, name, v)
                prev = f


@pytest.mark.unit
@pytest.mark.parametrize("bad", [dict(seconds_per_gradient=0.0), dict(seconds_per_gradient=float("nan")),
                                 dict(seconds_per_gradient=-1e-5), dict(chains=0), dict(cores=0),
                                 dict(n_dim=0), dict(draws=-1)])
def test_forecast_refuses_what_is_not_a_run(bad):
    kw = dict(dict(seconds_per_gradient=1e-5, n_dim=2, **RUN), **bad)
    t = kw.pop("seconds_per_gradient")
    with pytest.raises(ValueError):
        F.forecast(t, **kw)


@pytest.mark.unit
def test_the_line_says_what_the_range_rests_on(capsys, monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    f = F.Forecast(low=65.0, high=250.0, seconds_per_gradient=1.9e-4, steps_low=7.2, steps_high=31.4, n_dim=1002,
                   family="binomial_normal", **RUN)
    label = "sampling the binomial-normal model (4 chains x 1,000 tuning + 2,000 draws)"
    assert _progress.forecast_text(label, f) == (
        "sampling the binomial-normal model (4 chains x 1,000 tuning + 2,000 draws): expected 1.1-4.2 min "
        "(a gradient takes 0.19 ms; 7-31 leapfrog steps per iteration; 2 cores); "
        "a firmer estimate follows after 3 s of sampling")
    quick = F.Forecast(low=12.0, high=40.0, seconds_per_gradient=4.2e-6, steps_low=4, steps_high=6, n_dim=2,
                       family="normal_normal", chains=4, tune=1000, draws=2000, cores=1)
    assert "expected 12-40 s (a gradient takes 4.2 microseconds; 4-6 leapfrog steps per iteration; 1 core)" \
        in _progress.forecast_text("x", quick)
    assert _progress._span(20.0, 400.0) == "20 s to 6.7 min" and _progress._span(6000, 9000) == "1.7-2.5 h"
    # stated only when progress is on, a forecast exists and the run may last FORECAST_ABOVE s or more
    assert _progress.sampling_forecast(label, f) is None
    with _progress.reporting(True):
        assert _progress.sampling_forecast(label, None) is None
        short = F.Forecast(**dict(vars(f), low=1.0, high=_progress.FORECAST_ABOVE - 0.1))
        assert _progress.sampling_forecast(label, short) is None
        assert capsys.readouterr().err == ""
        assert _progress.sampling_forecast(label, f) == _progress.forecast_text(label, f)
    assert capsys.readouterr().err == f"[bayesmeta] {_progress.forecast_text(label, f)}\n"


def _compiled_eight():
    key = models.structure_key("normal_normal", Y.size, halfnormal(10), normal(0, 50))
    build = lambda: models.normal_normal(Y, S, LAB, halfnormal(10), normal(0, 50))
    data = {"yi": Y, "sei": S, **fitmod._hyper(halfnormal(10), normal(0, 50))}
    return key, fitmod.DEFAULT.compiled(key, build).with_data(**data)


@pytest.mark.sampling
def test_the_gradient_timer_times_a_compiled_model_and_declines_what_it_cannot_time():
    _, comp = _compiled_eight()
    t = F.time_gradient(comp)
    assert t is not None and math.isfinite(t) and 0 < t < 1.0  # seconds per gradient (generous bound)
    # not a nutpie numba model (e.g. the jax backend): no forecast, no error
    assert F.time_gradient(SimpleNamespace(n_dim=2)) is None
    # a callback that reports failure (non-zero), as nutpie's does for a non-finite logp
    failing = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_uint64, *[ctypes.POINTER(ctypes.c_double)] * 3,
                               ctypes.c_void_p)(lambda *a: 3)
    fake = SimpleNamespace(n_dim=2, compiled_logp_func=SimpleNamespace(ctypes=failing),
                           user_data=np.zeros(1), initial_point_func=lambda seed: np.zeros(2))
    assert F.time_gradient(fake) is None
    seen = []

    def record(n, x, grad, logp, user):
        seen.append([x[i] for i in range(n)])
        return 0

    ok = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_uint64, *[ctypes.POINTER(ctypes.c_double)] * 3,
                          ctypes.c_void_p)(record)
    # an initial point of the wrong shape: timed at zeros instead
    wrong = SimpleNamespace(**dict(vars(fake), compiled_logp_func=SimpleNamespace(ctypes=ok),
                                   initial_point_func=lambda seed: np.ones(5)))
    assert F.time_gradient(wrong) > 0 and seen[0] == [0.0, 0.0]


@pytest.mark.sampling
def test_the_forecast_comes_before_the_sampling_lines_and_never_without_progress(capsys, monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    monkeypatch.setattr(_progress, "FORECAST_ABOVE", 0.0)  # state even this short run
    monkeypatch.setattr(_progress, "ANNOUNCE_AFTER", 0.0)
    monkeypatch.setattr(_progress.SamplingProgress, "FIRST_AFTER", 0.0)
    monkeypatch.setattr(fitmod, "PROGRESS_RATE_MS", 10)
    timed = []
    real = F.time_gradient
    monkeypatch.setattr(F, "time_gradient", lambda comp, **kw: timed.append(1) or real(comp, **kw))
    engine = fitmod.Sampler()
    kw = dict(seed=5, draws=1000, tune=300, chains=2, engine=engine)
    fitmod.fit_normal_normal(Y, S, halfnormal(10), normal(0, 50), LAB, **kw)
    assert capsys.readouterr().err == "" and timed == []  # progress off: no line, no timing
    with _progress.reporting(True):
        fitmod.fit_normal_normal(Y, S, halfnormal(10), normal(0, 50), LAB, **kw)
        fitmod.fit_normal_normal(Y, S, halfnormal(3), normal(0, 20), LAB, **kw)  # same structure
    assert timed == [1]  # timed once per structure
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "sampling the normal-normal model" in ln]
    head = "[bayesmeta] sampling the normal-normal model (2 chains x 300 tuning + 1,000 draws): expected "
    forecasts = [i for i, ln in enumerate(lines) if ln.startswith(head) and "leapfrog steps per iteration" in ln]
    assert len(forecasts) == 2, lines
    # each run's forecast comes first, before the step's announcement (and any pace-based estimate)
    assert forecasts[0] == 0 and forecasts[1] > 1, lines
    assert lines[1] == head.replace(": expected ", " ...").rstrip(), lines
