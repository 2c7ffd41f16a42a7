"""One BLAS thread for a block of code, cheaply.

OpenBLAS runs a pool of worker threads; after a threaded call they spin on the other cores for a
while, and whatever bayesmeta runs on its own threads next (the study marginals' chunks, nutpie's
chains) then gets half a core. Measured: the LAPACK eigensolver of the 32-node Gauss rules
(:func:`bayesmeta.bayes.quadrature.gauss_rules`) left them spinning, and the study marginals that
followed at k = 10,000 took 108-115 ms instead of 55-58 ms. ``threadpoolctl.threadpool_limits``
finds the loaded libraries on every use (0.67 ms); a :class:`threadpoolctl.ThreadpoolController`
kept for the process limits them in about 11 microseconds.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit the BLAS libraries (OpenBLAS, MKL) to one thread inside the block."""
    with _controller().limit(limits=1, user_api="blas"):
        yield
