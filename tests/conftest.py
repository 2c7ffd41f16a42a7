"""Shared test settings: compile caches inside the repository (kept between runs by ./dev), and the
test tiers.

Tiers (pytest markers, README "Tests"): ``unit``, ``reference``, ``sampling``, ``e2e`` and ``slow``.
``slow`` (heavy validation: calibration and coverage sweeps, nested quadrature) never runs unless
asked for: a test marked ``slow`` is deselected unless the ``-m`` expression names ``slow``
(``./dev validate`` passes ``-m slow``). So ``-m unit`` (which replaces the configured
``-m 'not slow'``) is still the fast tier. ``unit`` and ``slow`` exclude each other: a test
carrying both marks stops the collection with a message naming it.

Heavy validation never writes into the checkout's tracked files: it writes below
``--validation-out=DIR`` (default ``.cache/validation/``, ignored by git; ``./dev validate --out DIR``).
"""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PYTENSOR_FLAGS", f"compiledir={ROOT / '.cache' / 'pytensor'}")
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))
os.environ.setdefault("BAYESMETA_COMPILE_CACHE", str(ROOT / ".cache" / "bayesmeta-compiled"))
os.environ.setdefault("MPLBACKEND", "Agg")

DEFAULT_VALIDATION_OUT = ROOT / ".cache" / "validation"


def pytest_addoption(parser):
    parser.addoption(
        "--validation-out",
        default=None,
        help="folder for the outputs of heavy validation (`slow` tests); default .cache/validation/",
    )


def both_unit_and_slow(items) -> list[str]:
    """Node ids of the tests carrying both the ``unit`` and the ``slow`` mark (a contradiction)."""
    return [it.nodeid for it in items if it.get_closest_marker("unit") and it.get_closest_marker("slow")]


def mentions_slow(markexpr: str) -> bool:
    """Whether a ``-m`` expression asks about ``slow`` at all (``slow``, ``not slow``, ``unit or slow``)."""
    import re

    return re.search(r"\bslow\b", markexpr or "") is not None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    bad = both_unit_and_slow(items)
    if bad:
        raise pytest.UsageError(
            "tests marked both `unit` and `slow` (the marks exclude each other; move the slow test to a "
            "module marked `slow`): " + ", ".join(bad)
        )
    if mentions_slow(config.getoption("markexpr")):
        return  # `-m slow`, `-m 'not slow'`, ...: the expression decides
    slow = [it for it in items if it.get_closest_marker("slow")]
    if slow:
        items[:] = [it for it in items if not it.get_closest_marker("slow")]
        config.hook.pytest_deselected(items=slow)


@pytest.fixture(scope="session")
def validation_out(request) -> Path:
    """Where heavy validation writes (never the tracked files unless asked with --validation-out)."""
    opt = request.config.getoption("--validation-out")
    out = Path(opt).resolve() if opt else DEFAULT_VALIDATION_OUT
    out.mkdir(parents=True, exist_ok=True)
    return out
