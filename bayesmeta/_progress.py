"""Progress of long steps, for people waiting on a large review.

:func:`step` marks a step of an analysis (``with step("exact leave-one-out"): ...``). It says
nothing unless progress is on (:func:`reporting`, turned on by ``bayesmeta reanalyze`` and
``bayesmeta analyse`` without ``--quiet``). Then a step that is still running after
:data:`ANNOUNCE_AFTER` seconds is announced, and its end reported with its duration, on stderr:
styled by rich on a terminal, otherwise as plain lines (``[bayesmeta] ...``), so that a log or a
CI job shows where the time goes. Steps shorter than :data:`ANNOUNCE_AFTER` stay silent,
so a small analysis prints nothing new.
"""
from __future__ import annotations

import contextvars
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

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
