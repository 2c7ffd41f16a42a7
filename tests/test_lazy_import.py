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

import numpy as np
import pytest

import bayesmeta as bm

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]

# never needed to start the package or the batch command
HEAVY = ("xarray", "matplotlib", "pymc", "pytensor", "arviz", "numba", "nutpie", "scipy.stats", "scipy.optimize",
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


def test_batch_run_of_published_rows_never_imports_scipy_stats(tmp_path):
    # the whole published-rows path (read, reanalyse with Student-t and normal mu priors, write CSV,
    # figure, provenance) in a fresh interpreter: scipy.stats and scipy.optimize stay unloaded
    table = tmp_path / "t.csv"
    table.write_text("analysis,measure,estimate,ci_lb,ci_ub,p,k,participants,lower_is_better,margin\n"
                     "a,SMD,0.21,-0.05,0.47,0.11,6,400,false,0.2\nb,RR,0.80,0.66,0.97,0.02,9,2100,true,1.25\n"
                     "c,OR,1.10,0.90,1.35,,4,800,true,1.25\nd,MD,-1.5,-3.1,0.1,0.07,5,300,true,1.0\n")
    loaded = _loaded_after(f"from bayesmeta.batch.run import run_batch\n"
                           f"run_batch({str(table)!r}, {str(tmp_path / 'out')!r}, progress=False)")
    assert not loaded & {"scipy.stats", "scipy.optimize", "xarray", "numba", "bayesmeta.bayes.exact"}
    assert (tmp_path / "out" / "batch.csv").exists()


@pytest.mark.parametrize("nu", [0.5, 1.0, 3.0, 4.0, 5.0, 7.3, 30.0, 250.0])
def test_gamma_mixing_nodes_equal_scipy_stats_bit_for_bit(nu):
    # the Student-t mu prior's Gamma(nu/2, scale 2/nu) mixing density, written with scipy.special
    # (bayesmeta.batch.engine), against scipy.stats.gamma itself: equal, not merely close
    from scipy import special, stats

    from bayesmeta.batch import engine

    g = stats.gamma(a=nu / 2, scale=2.0 / nu)
    a, scale = engine._gamma_shape_scale(nu)
    assert engine._gamma_ppf(1e-30, a, scale) == g.ppf(1e-30)
    assert engine._gamma_isf(1e-20, a, scale) == g.isf(1e-20)
    lam = np.exp(np.linspace(np.log(g.ppf(1e-30)), np.log(g.isf(1e-20)) + 0.5, 128))
    assert np.array_equal(engine._gamma_logpdf(lam, a, scale), g.logpdf(lam))
    q = np.linspace(0.01, 0.999, 500)
    assert np.array_equal(special.ndtri(q), stats.norm.ppf(q))  # measures.se_from_ci's quantile


def test_import_bayesmeta_still_sets_the_compile_cache_folders_first():
    # numba and PyTensor read these when they are imported; a user who imports arviz or pymc after
    # `import bayesmeta` but before the first fit must still get bayesmeta's caches
    code = ("import os\nos.environ.pop('NUMBA_CACHE_DIR', None)\nos.environ.pop('PYTENSOR_FLAGS', None)\n"
            "import bayesmeta\nprint(os.environ['NUMBA_CACHE_DIR'], os.environ['PYTENSOR_FLAGS'])")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": "/tmp/home"})
    numba_dir, flags = out.stdout.split()
    assert numba_dir.endswith("bayesmeta/numba") and flags.startswith("compiledir=") and "bayesmeta/pytensor" in flags
