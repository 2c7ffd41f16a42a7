"""Compiled models persist across processes (issue 12 item 4): the disk cache of nutpie's C
callbacks (bayesmeta.bayes.compile_cache) gives bit-identical draws, is keyed by the model graph,
and a broken cache never fails a fit.

Reference for "identical": nutpie's own ``compile_pymc_model`` on the same model and seed (the
callbacks call the same PyTensor functions, so every draw must be equal bit for bit, no tolerance).
Speed (cold against warm) is measured in benchmarks/run_benchmarks.py, not here.
"""
import os
import subprocess
import sys

import numpy as np
import nutpie
import pytest

from bayesmeta.bayes import compile_cache, models
from bayesmeta.bayes.priors import halfcauchy, halfnormal, normal
from bayesmeta.bayes.sampling import Sampler, fit_normal_normal

pytestmark = pytest.mark.sampling

Y = np.array([0.12, 0.35, -0.20, 0.48])
S = np.array([0.20, 0.25, 0.18, 0.30])
LAB = list("ABCD")
DRAWS = dict(draws=200, tune=200, chains=2, progress_bar=False)


def model(tau_prior=None, y=Y):
    return models.normal_normal(y, S, LAB, tau_prior or halfnormal(0.5), normal(0, 10))


def draws(compiled, seed=3, **data):
    tree = nutpie.sample(compiled.with_data(**data) if data else compiled, seed=seed, **DRAWS)
    return np.stack([tree["posterior"][v].to_numpy() for v in ("mu", "tau")])


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A cache directory holding the entry of :func:`model` (compiled once, a miss)."""
    path = tmp_path_factory.mktemp("compiled")
    compiled, record = compile_cache.compile_pymc_model(model(), path=path)
    assert record.status == "miss", record
    return path, compiled


@pytest.fixture(scope="module")
def reference():
    """Draws from nutpie's own (uncached) compile of the same model: what every path must equal."""
    compiled = nutpie.compile_pymc_model(model())
    return draws(compiled), draws(compiled, seed=9, yi=Y + 0.3, tau_prior__scale=1.0)


def test_cold_compile_equals_nutpie_bit_for_bit(cache, reference):
    _, cold = cache
    np.testing.assert_array_equal(draws(cold), reference[0])
    np.testing.assert_array_equal(draws(cold, seed=9, yi=Y + 0.3, tau_prior__scale=1.0), reference[1])


def test_warm_compile_loads_from_disk_and_equals_cold(cache, reference):
    path, _ = cache
    warm, record = compile_cache.compile_pymc_model(model(), path=path)
    assert record.status == "hit", record
    assert warm.compiled_logp_func.cache_hits == 1 and warm.compiled_expand_func.cache_hits == 1
    np.testing.assert_array_equal(draws(warm), reference[0])
    np.testing.assert_array_equal(draws(warm, seed=9, yi=Y + 0.3, tau_prior__scale=1.0), reference[1])
    # other data and prior scale are pm.Data, never part of the key: the same entry serves them
    # (their draws differ only through PyMC's initial point, which reads the model's own data)
    assert compile_cache.compile_pymc_model(model(halfnormal(2.0), y=Y - 1), path=path)[1].status == "hit"


def test_warm_process_hits_the_cache(cache, reference):
    # a fresh interpreter: nothing in memory, only the directory
    path, _ = cache
    code = ("from tests.test_compile_cache import model, draws\n"
            "from bayesmeta.bayes import compile_cache\n"
            f"c, r = compile_cache.compile_pymc_model(model(), path={str(path)!r})\n"
            "print(r.status, draws(c).tobytes().hex())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(__file__)), env=dict(os.environ))
    status, hexdraws = out.stdout.split()
    assert status == "hit", out.stderr
    assert bytes.fromhex(hexdraws) == reference[0].tobytes()


def test_structure_change_gets_its_own_entry(cache):
    path, _ = cache
    before = set(path.iterdir())
    # same number of parameters, different graph (half-Cauchy log density): must not reuse the entry
    other, record = compile_cache.compile_pymc_model(model(halfcauchy(0.5)), path=path)
    assert record.status == "miss", record
    assert set(path.iterdir()) > before
    np.testing.assert_array_equal(draws(other), draws(nutpie.compile_pymc_model(model(halfcauchy(0.5)))))
    assert compile_cache.compile_pymc_model(model(halfcauchy(0.5)), path=path)[1].status == "hit"


def test_corrupted_entry_is_replaced_with_one_line_note(tmp_path, capfd, reference):
    compile_cache.compile_pymc_model(model(), path=tmp_path)
    files = sorted(tmp_path.iterdir())
    assert files
    for f in files:
        f.write_bytes(b"\x80not a pickle")
    capfd.readouterr()
    compiled, record = compile_cache.compile_pymc_model(model(), path=tmp_path)
    err = capfd.readouterr().err.strip().splitlines()
    assert record.status == "fallback" and "replaced" in record.note
    assert len(err) == 1 and "unreadable" in err[0] and "recompiled" in err[0], err
    np.testing.assert_array_equal(draws(compiled), reference[0])
    assert compile_cache.compile_pymc_model(model(), path=tmp_path)[1].status == "hit"


def test_unwritable_cache_compiles_without_it(tmp_path, capfd, reference):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    capfd.readouterr()
    compiled, record = compile_cache.compile_pymc_model(model(), path=blocker / "cache")
    err = capfd.readouterr().err.strip().splitlines()
    assert record.status == "fallback", record
    assert len(err) == 1 and "not writable" in err[0], err
    np.testing.assert_array_equal(draws(compiled), reference[0])


def test_cache_switched_off_by_environment(monkeypatch):
    monkeypatch.setenv(compile_cache.ENV, "off")
    assert compile_cache.cache_dir() is None
    monkeypatch.setenv(compile_cache.ENV, "/some/where")
    assert str(compile_cache.cache_dir()) == "/some/where"


def test_sampler_records_cache_status_and_fits_are_identical(cache):
    path, _ = cache
    cold = Sampler(cache=None)  # nutpie's own compile
    warm = Sampler(cache=str(path))
    kw = dict(seed=4, draws=500, tune=500, chains=4)  # enough for the diagnostics gate: no retry, no warning
    a = fit_normal_normal(Y, S, halfnormal(0.5), normal(0, 10), LAB, engine=cold, **kw)
    b = fit_normal_normal(Y, S, halfnormal(0.5), normal(0, 10), LAB, engine=warm, **kw)
    assert [r.status for r in cold.compile_records] == ["off"]
    assert [r.status for r in warm.compile_records] == ["hit"]
    for v in ("mu", "tau", "theta"):
        np.testing.assert_array_equal(a.posterior[v].values, b.posterior[v].values)
