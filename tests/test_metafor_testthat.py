"""metafor's own testthat expectations (tests/golden/metafor_testthat/), checked through ``import bayesmeta as bm``.

Each ported source file of metafor 5.0-1's tests/testthat (the analysis examples with a paper behind
them, the Stata metan comparisons, the misc files) has a JSON of expected values with file and line
(made by validation/metafor/extract_testthat.py) and a port module computing them through the
public API only. Every expected value is either checked (at the test's own tolerance, testthat's
all.equal with tolerance 0.01) or listed with the reason it is out of scope; docs/metafor-testthat.md
is the coverage table (validation/metafor/coverage_table.py).
"""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.reference

GOLD = Path(__file__).resolve().parent / "golden" / "metafor_testthat"
_spec = importlib.util.spec_from_file_location("metafor_testthat_harness", GOLD / "_harness.py")
assert _spec is not None and _spec.loader is not None
_harness = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _harness
_spec.loader.exec_module(_harness)


@pytest.mark.parametrize("name", _harness.all_sources())
def test_expected_values(name):
    outcomes = _harness.evaluate(name)
    failed = [f"line {o.line}: {o.detail}" for o in outcomes if o.status == "fail"]
    missing = [o.line for o in outcomes if o.status == "missing"]
    assert not missing, f"{name}: lines neither checked nor listed out of scope: {missing}"
    assert not failed, f"{name}: " + "; ".join(failed)


def test_ports_use_only_the_public_api():
    """The ports reach bayesmeta only through ``import bayesmeta as bm`` (no internal imports)."""
    files = [*GOLD.glob("*.py"), Path(__file__)]
    bad = []
    for f in files:
        for i, line in enumerate(f.read_text().splitlines(), 1):
            if re.search(r"^\s*(from\s+bayesmeta[.\s]|import\s+bayesmeta\.)", line) or (
                re.search(r"^\s*import\s+bayesmeta\b", line) and "import bayesmeta as bm" not in line
            ):
                bad.append(f"{f.name}:{i}: {line.strip()}")
    assert not bad, "internal imports in the metafor ports: " + "; ".join(bad)


def test_every_source_file_has_a_port():
    missing = [n for n in _harness.all_sources() if not (GOLD / f"{n}.py").exists()]
    assert not missing, f"no port module for {missing}"
