"""The test tiers mean what the README says (tests/conftest.py): `slow` runs only when `-m` names
it, so `-m unit` is the fast tier; a test marked both `unit` and `slow` stops the collection.

Each case runs pytest in a subprocess on a throw-away folder holding a copy of tests/conftest.py."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
TESTS = Path(__file__).resolve().parent

INI = """[pytest]
addopts = -m 'not slow' -p no:cacheprovider
markers =
    unit: fast
    slow: heavy
"""

MODULE = """import pytest

@pytest.mark.unit
def test_fast():
    pass

@pytest.mark.slow
def test_heavy(validation_out):
    (validation_out / "ran").write_text("x")
"""


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # 0.5 s a run instead of 4 s (hypothesis, zarr)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rN", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "tests").mkdir()
    shutil.copy(TESTS / "conftest.py", tmp_path / "tests" / "conftest.py")
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "tests" / "test_m.py").write_text(MODULE)
    return tmp_path


@pytest.mark.parametrize("args,ran", [
    ((), "1 passed, 1 deselected"),
    (("-m", "unit"), "1 passed, 1 deselected"),         # a user -m no longer lets slow tests in
    (("-m", "unit or sampling"), "1 passed, 1 deselected"),
    (("-k", "heavy"), "2 deselected"),                   # neither by name
    (("-m", "slow"), "1 passed, 1 deselected"),          # ./dev validate
])
def test_slow_runs_only_when_asked(folder, args, ran):
    r = _pytest(folder, *args)
    assert r.returncode in (0, 5), r.stdout + r.stderr
    assert ran in r.stdout, r.stdout
    assert (folder / ".cache" / "validation" / "ran").exists() == (args == ("-m", "slow"))


def test_validation_writes_where_told(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    r = _pytest(folder, "-m", "slow", f"--validation-out={out}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (out / "ran").exists() and not (folder / ".cache").exists()


def test_unit_and_slow_together_stop_the_collection(folder):
    (folder / "tests" / "test_both.py").write_text("import pytest\n\n@pytest.mark.unit\n@pytest.mark.slow\n"
                                         "def test_both():\n    pass\n")
    r = _pytest(folder)
    assert r.returncode == 4, r.stdout + r.stderr  # usage error
    assert "marked both `unit` and `slow`" in r.stderr and "test_both.py::test_both" in r.stderr


def test_the_suite_has_no_test_marked_unit_and_slow():
    r = subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "-m", "slow or not slow",
                        str(TESTS / "test_validation_full.py"), str(TESTS / "test_calibration.py"),
                        str(TESTS / "test_coverage.py")], cwd=TESTS.parent, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "test_validation_full.py::test_sbc_full_run" in r.stdout
