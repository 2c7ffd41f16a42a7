"""solve_batch on a Dask cluster (issue 20, item 3): the same numbers as one solve_batch call,
chunk by chunk on the workers of a LocalCluster (threads here, so the test starts in about a second;
`address=` reaches a scheduler started with `dask scheduler`, see docs)."""
import numpy as np
import pytest
import xarray as xr

from bayesmeta.bayes import priors as P
from bayesmeta.bayes.batch import solve_batch, solve_batch_dask

pytestmark = pytest.mark.unit


def test_dask_chunks_equal_one_call():
    from distributed import Client, LocalCluster

    rng = np.random.default_rng(5)
    A, k = 23, 8
    sei = rng.uniform(0.1, 0.5, (A, k))
    y = rng.normal(0.1, np.sqrt(sei**2 + 0.04))
    y[3, 5:] = np.nan  # a ragged analysis
    sei[3, 5:] = np.nan
    tps, mps = [P.halfnormal(0.5), P.halfcauchy(1.0)], [P.normal(0.0, 1.0)]
    ref = solve_batch(y, sei, tps, mps, analyses=[f"a{i}" for i in range(A)])
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c, \
            Client(c) as client:
        ds = solve_batch_dask(y, sei, tps, mps, analyses=[f"a{i}" for i in range(A)], chunk=7, client=client)
        assert "tcp://" in c.scheduler_address or "inproc://" in c.scheduler_address
    # same rows, labels and coordinates; numbers to rounding (the padding of a chunk with a ragged
    # analysis differs from the whole table's: measured 7e-16 absolute)
    assert list(ds["analysis"].values) == list(ref["analysis"].values) and set(ds.data_vars) == set(ref.data_vars)
    xr.testing.assert_allclose(ds, ref, rtol=1e-12, atol=1e-14)
    xr.testing.assert_identical(ds.isel(analysis=slice(0, 7)), ref.isel(analysis=slice(0, 7)))  # chunk 0: exact
