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
