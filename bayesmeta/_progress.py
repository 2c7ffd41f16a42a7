"""Progress of long steps, for people waiting on a large review.

:func:`step` marks a step of an analysis (``with step("exact leave-one-out"): ...``). It says
nothing unless progress is on (:func:`reporting`, turned on by ``bayesmeta reanalyze`` and
``bayesmeta analyse`` without ``--quiet``). Then a step that is still running after
:data:`ANNOUNCE_AFTER` seconds is announced, and its end reported with its duration, on stderr:
styled by rich on a terminal, otherwise as plain lines (``[bayesmeta] ...``), so that a log or a
CI job shows where the time goes. Steps shorter than :data:`ANNOUNCE_AFTER` stay silent,
so a small analysis prints nothing new.

A nutpie sampling run is stated before it starts (:func:`sampling_forecast`, from the range of
:func:`bayesmeta.bayes.forecast.forecast`) when it may last :data:`FORECAST_ABOVE` seconds or
more, then refined from its own pace after a few seconds (:class:`SamplingProgress`).
"""
from __future__ import annotations

import contextvars
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bayesmeta.bayes.forecast import Forecast

ANNOUNCE_AFTER = 2.0
"""Seconds after which a running step is announced."""

_ON: contextvars.ContextVar[bool] = contextvars.ContextVar("bayesmeta_progress", default=False)


@contextmanager
def reporting(enabled: bool = True) -> Iterator[None]:
    """Turn step reports on (or off) inside the ``with`` block."""
    token = _ON.set(enabled)
    try:
        yield
    finally:
        _ON.reset(token)


def note(text: str) -> None:
    """One line for the user now (when progress is on), e.g. an expected duration."""
    if _ON.get():
        _line(text)


@contextmanager
def step(name: str) -> Iterator[None]:
    """A long step (see the module docstring)."""
    if not _ON.get():
        yield
        return
    t0 = time.perf_counter()
    lock = threading.Lock()
    state = {"announced": False, "finished": False}

    def announce() -> None:
        with lock:
            if not state["finished"]:
                state["announced"] = True
                _line(f"{name} ...")

    timer = threading.Timer(ANNOUNCE_AFTER, announce)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["finished"] = True
            if state["announced"]:
                _line(f"{name}: done in {time.perf_counter() - t0:.1f} s")


def _line(text: str) -> None:
    """One progress line on stderr: styled by rich on a terminal (beside its progress bars), plain
    otherwise."""
    if sys.stderr.isatty():
        from rich.console import Console

        Console(stderr=True).print(f"[dim]\\[bayesmeta][/dim] {text}", highlight=False)
    else:
        print(f"[bayesmeta] {text}", file=sys.stderr, flush=True)


def enabled() -> bool:
    """Whether progress is on (:func:`reporting`)."""
    return _ON.get()


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


FORECAST_ABOVE = ANNOUNCE_AFTER
"""A sampling run whose forecast (upper bound) is shorter than this many seconds is not stated
before it starts: the same threshold as a step's announcement (:data:`ANNOUNCE_AFTER`), so every
run that may be announced is stated first, and only runs that certainly end sooner stay silent.
Measured (:mod:`bayesmeta.bayes.forecast`): normal-normal at k = 8 and 200 is forecast at 1.5 s at
most (silent; took 0.5-0.7 s), at k = 2,000 at 0.4-2.6 s (stated; took 1.2-1.9 s), binomial-normal
at k = 100 at 6-33 s (18.6 s in ``bayesmeta analyse``); one line per sampled model of a review."""


def _span(low: float, high: float) -> str:
    """A range of seconds, in the unit of its upper end where the lower end reads well in it:
    ``20-50 s``, ``1.1-4.2 min``, ``12 s to 2.6 min``."""
    if high < 90:
        return f"{low:.0f}-{high:.0f} s"
    if high < 5400 and low >= 30:
        return f"{low / 60:.1f}-{high / 60:.1f} min"
    if high >= 5400 and low >= 1800:
        return f"{low / 3600:.1f}-{high / 3600:.1f} h"
    return f"{_duration(low)} to {_duration(high)}"


def _per_gradient(seconds: float) -> str:
    if seconds < 1e-4:
        return f"{seconds * 1e6:.2g} microseconds"
    return f"{seconds * 1e3:.2g} ms"


def forecast_text(label: str, forecast: Forecast) -> str:
    """The sentence that states a sampling run's expected time before it starts, with what the
    range rests on (the measured gradient, the assumed leapfrog steps, the cores)."""
    f = forecast
    cores = f"{f.cores} core" + ("s" if f.cores != 1 else "")
    return (f"{label}: expected {_span(f.low, f.high)} (a gradient takes {_per_gradient(f.seconds_per_gradient)}; "
            f"{f.steps_low:.0f}-{f.steps_high:.0f} leapfrog steps per iteration; {cores}); "
            f"a firmer estimate follows after {SamplingProgress.FIRST_AFTER:.0f} s of sampling")


def sampling_forecast(label: str, forecast: Forecast | None) -> str | None:
    """State a sampling run's expected time before it starts (when progress is on, a forecast
    could be made and its upper bound reaches :data:`FORECAST_ABOVE`); returns the line stated."""
    if forecast is None or not _ON.get() or forecast.high < FORECAST_ABOVE:
        return None
    text = forecast_text(label, forecast)
    _line(text)
    return text


class SamplingProgress:
    """A nutpie ``progress_callback`` (called on nutpie's thread with one ``ChainProgress`` per
    chain) that states the expected duration of a sampling run once ``first_after`` seconds of
    sampling have shown its pace, then the time left every ``every`` seconds, as progress lines
    (when progress was on where it was made). The estimate is the elapsed time scaled by the iterations left (tuning iterations,
    which come first, are usually the slower ones, so it errs long); ``clock`` is injectable
    for tests."""

    FIRST_AFTER = 3.0
    EVERY = 30.0

    def __init__(self, label: str, *, first_after: float | None = None, every: float | None = None,
                 clock=time.perf_counter):
        self.label = label
        self.first_after = self.FIRST_AFTER if first_after is None else first_after
        self.every = self.EVERY if every is None else every
        self.clock = clock
        self.t0 = clock()
        self.last: float | None = None
        self.lines: list[str] = []
        self.on = _ON.get()  # read here: nutpie calls from its own thread, where the context is not set

    def __call__(self, chains) -> None:
        done = sum(int(c.finished_draws) for c in chains)
        total = sum(int(c.total_draws) for c in chains)
        now = self.clock()
        elapsed = now - self.t0
        if done <= 0 or total <= 0 or done >= total or elapsed < self.first_after:
            return
        if self.last is not None and now - self.last < self.every:
            return
        left = elapsed * (total - done) / done
        if self.last is None:
            text = (f"{self.label}: {done:,} of {total:,} iterations in {_duration(elapsed)}; "
                    f"expected about {_duration(elapsed + left)} in all ({_duration(left)} left)")
        else:
            text = f"{self.label}: {100 * done / total:.0f}% done, about {_duration(left)} left"
        self.last = now
        self.lines.append(text)
        if self.on:
            _line(text)
