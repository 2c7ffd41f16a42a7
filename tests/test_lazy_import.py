"""Start-up cost (issue 20): ``import bayesmeta`` and the `bayesmeta batch` command load only what
they use. The front door resolves every public name on first use (PEP 562), so these tests check
(a) in a fresh interpreter, which heavy modules an import pulls in (``sys.modules``), and (b) that
the lazy table, the type checkers' imports and ``__all__`` name the same objects.

Why these modules: before, `bayesmeta batch` on 10,000 published results spent ~4 s of its ~7 s
importing the exact engine (numba kernels), xarray, scipy.optimize, the report writer and PyMC's
stack, none of which the batch path of published results uses (benchmarks/scale.md, row 3).
"""
import ast
import doctest
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import bayesmeta as bm

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]

# never needed to start the package or the batch command
HEAVY = ("xarray", "matplotlib", "pymc", "pytensor", "arviz", "numba", "nutpie",
         "bayesmeta.bayes.exact", "bayesmeta.bayes._kernels", "bayesmeta.api", "bayesmeta.report.writer")


def _loaded_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"})
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_import_bayesmeta_loads_no_scientific_stack():
    loaded = _loaded_after("import bayesmeta")
    assert not loaded & {*HEAVY, "numpy", "pandas", "scipy"}, sorted(loaded & {*HEAVY, "numpy", "pandas", "scipy"})


@pytest.mark.parametrize("statement", ["import bayesmeta.batch.cli", "import bayesmeta.cli",
                                       "import bayesmeta.batch.run"])
def test_batch_command_modules_load_nothing_heavy(statement):
    loaded = _loaded_after(statement)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_batch_command_help_loads_nothing_heavy():
    # click builds the command tree and prints the batch command's help: what every call pays
    loaded = _loaded_after("import io, contextlib\nfrom bayesmeta.cli import main\n"
                           "with contextlib.redirect_stdout(io.StringIO()):\n"
                           "    try:\n        main(['batch', '--help'])\n    except SystemExit:\n        pass")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def _type_checking_imports() -> dict[str, str]:
    """name -> module of the imports under ``if _TYPE_CHECKING:`` in bayesmeta/__init__.py."""
    tree = ast.parse((ROOT / "bayesmeta" / "__init__.py").read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "_TYPE_CHECKING")
    names = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom), ast.dump(node)
        for a in node.names:
            names[a.asname or a.name] = f"{node.module}.{a.name}" if a.name in ("plot", "priors") else node.module
    return names


def test_lazy_table_matches_type_checking_imports_and_all():
    lazy = bm._LAZY
    assert _type_checking_imports() == lazy
    eager = {"__version__", "reanalyze", "load"}
    assert set(bm.__all__) == set(lazy) | eager
    assert len(bm.__all__) == len(set(bm.__all__))


def test_every_public_name_resolves_to_its_module_object():
    for name, module in bm._LAZY.items():
        value = getattr(bm, name)
        mod = importlib.import_module(module)
        assert value is (mod if name in bm._MODULES else getattr(mod, name)), name
    assert set(bm.__all__) <= set(dir(bm))
    from bayesmeta import rma, solve  # noqa: F401  (from-imports go through __getattr__ too)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        bm.no_such_name  # noqa: B018


def test_front_door_docstring_example_runs():
    assert doctest.testmod(bm, raise_on_error=False).failed == 0
