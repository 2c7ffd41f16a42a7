"""The batch engine's scratch memory stays with the process (bayesmeta.bayes._heap): a repeated
solve_batch call does not fault its pages in again chunk after chunk."""
import platform
import resource
import sys

import numpy as np
import pytest

from bayesmeta.bayes import _heap
from bayesmeta.bayes.batch import solve_batch
from bayesmeta.bayes.priors import halfnormal, normal

pytestmark = pytest.mark.unit

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def test_keep_heap_top_is_set_on_glibc_and_nothing_elsewhere():
    assert _heap.keep_heap_top() is GLIBC


@pytest.mark.skipif(not GLIBC, reason="M_TOP_PAD is a glibc malloc parameter; elsewhere nothing is set")
def test_repeated_batch_does_not_refault_its_scratch_pages():
    # 2,000 analyses = 8 chunks of 250 on one thread; with glibc's default thresholds this warm
    # rerun faulted 14,300 pages in again (measured with keep_heap_top disabled), with the pad 2
    rng = np.random.default_rng(3)
    s = rng.uniform(0.1, 0.5, (2000, 8))
    y = rng.normal(0.1, np.sqrt(s**2 + 0.04))
    for _ in range(2):
        solve_batch(y, s, halfnormal(0.5), normal(0, 1), workers=1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    solve_batch(y, s, halfnormal(0.5), normal(0, 1), workers=1)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 1000, faults
