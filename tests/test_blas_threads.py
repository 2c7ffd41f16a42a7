"""bayesmeta._blas.one_blas_thread: BLAS limited to one thread inside the block, restored after.

Independent reference: threadpoolctl's own report of the loaded BLAS libraries' thread counts."""
import pytest
from threadpoolctl import threadpool_info

from bayesmeta._blas import one_blas_thread

pytestmark = pytest.mark.unit


def _blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_one_thread_inside_and_restored_after():
    before = _blas_threads()
    assert before, "no BLAS library loaded (numpy's OpenBLAS expected)"
    with one_blas_thread():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_gauss_rules_run_with_one_blas_thread(monkeypatch):
    # the rules' LAPACK eigensolver must not wake OpenBLAS's worker threads (they would spin
    # beside the study marginals' threads that follow); the kernel is called inside the limit
    from bayesmeta.bayes import quadrature

    seen = []
    real = quadrature._gauss_ladder

    def spy(*args):
        seen.append(_blas_threads())
        return real(*args)

    monkeypatch.setattr(quadrature, "_gauss_ladder", spy)
    import numpy as np
    quadrature.gauss_rules(np.linspace(0, 1, 50), np.ones(50), [4, 8])
    assert seen and set(seen[0]) == {1}
