r"""How long a nutpie sampling run will take, stated before it starts.

A NUTS run costs about one gradient of the log density per leapfrog step. Before sampling,
:func:`time_gradient` times that gradient on the compiled model (a few tens of milliseconds);
:func:`forecast` turns it into a range of wall time,

.. math::

    T \in \big[S_{lo} + W L_{lo} c_{lo} t_{grad},\; S_{hi} + W L_{hi} (c_{hi} t_{grad} + o)\big],
    \qquad W = \frac{\text{chains} \times (\text{tune} + \text{draws})}{\min(\text{chains}, \text{cores})},

with :math:`t_{grad}` the measured seconds per gradient, :math:`W` the iterations each core runs,
:math:`L` the mean number of leapfrog steps per iteration (tuning included), :math:`c` the cost
of a step in gradients (nutpie's own work per step beyond the gradient and chains sharing a core
with each other and with other processes), :math:`o` a fixed cost per step (nuts-rs' tree
bookkeeping, which dominates when the gradient takes a few microseconds) and :math:`S` a fixed
start-up and output cost. :math:`L` cannot be known before sampling: NUTS doubles its trajectory
until it turns back (Hoffman & Gelman 2014), so the steps per iteration are :math:`2^j - 1`
for a tree depth :math:`j` set by the posterior's geometry after nutpie's mass-matrix adaptation.
Its bounds (:data:`STEPS`) are per model family and grow with the dimension :math:`d` as
:math:`d^{1/4}`, the rate at which HMC's step size must shrink to keep its acceptance rate
(Beskos et al. 2013); they were read from these runs, so a model whose posterior is harder than
those (a funnel, divergences, tree depth at its limit) takes longer than stated. The statement
is therefore followed, after a few seconds of sampling, by an estimate from the run's own pace
(:class:`bayesmeta._progress.SamplingProgress`).

Measurements (the source of the constants, :data:`STEPS`, :data:`COST`, :data:`STEP_OVERHEAD`,
:data:`START`): a 2-core VM shared with other work (1-minute load average 0.6-3.5 as stated per
row), nutpie 0.16.11 (numba backend, models compiled through
:mod:`bayesmeta.bayes.compile_cache`), 4 chains x (1,000 tuning + 2,000 draws) on 2 cores,
target_accept 0.95, tau ~ HN(0.5), mu ~ N(0, 1); :math:`L` is the mean ``n_steps`` over all
12,000 iterations (tuning from ``save_warmup=True``), "actual" the wall time of the ``nutpie.sample``
call. Simulated data: normal-normal :math:`s_i \sim U(0.1, 0.5)`, :math:`y_i \sim N(0.2, s_i^2 +
0.1)`; binomial arms of 20-200 patients, control risks U(0.1, 0.4), log odds ratios
N(0.2, 0.3^2), single-arm logits N(-1, 0.5^2); time points: 3 per study, AR(1) sampling
correlation 0.5. Every actual time lies in its stated range. The constants were read from these
rows, so the runs below them, on new data and another number of draws, are the check.

Calibration runs (gradient: median of three timings; L: measured mean, then the stated bounds;
actual: first run in a fresh process / a second run in the same process). The runs without a
second time count their tuning steps from nutpie's progress callback (a lower bound, short by at
most the 0.1 s between two reports). multilevel-timepoints 8 ran before :meth:`~bayesmeta.bayes.sampling.Sampler.run` limited BLAS
to one thread; 15 and 30 ran with ``OPENBLAS_NUM_THREADS=1`` (what the limit does; 30 beside a test
run). Before that limit, multilevel-timepoints 15 took 140.5 s against a stated 3.8-21.4 s: each
chain's MVN gradient called a threaded OpenBLAS and the chains oversubscribed the cores, which a
gradient timed alone cannot see.

    ==========================  ====  ========  ==============  =============  ===============  ====
    model, k                    d     gradient  L (steps/iter)  stated range   actual wall (s)  load
    ==========================  ====  ========  ==============  =============  ===============  ====
    binomial-intercepts, 8      10    6 us      13.5 in 7-16    0.3-2.6 s      0.90 / 0.41      3.4
    binomial-intercepts, 100    102   25 us     15.6 in 13-29   1.6-12.1 s     4.83 / 3.30      2.6
    binomial-intercepts, 1,000  1002  155 us    31.3 in 23-51   16.9-119.7 s   58.40 / 83.37    2.5
    binomial-normal, 8          18    8 us      17.3 in 14-26   0.7-4.6 s      1.04 / 0.79      3.2
    binomial-normal, 100        202   42 us     32.9 in 26-47   5.4-31.6 s     10.86 / 12.22    2.6
    binomial-normal, 500        1002  178 us    58.2 in 39-70   33.8-190.4 s   120.76           3.5
    binomial-normal, 2,000      4002  581 us    73.0 in 56-99   155.5-869.8 s  571.66           2.6
    multilevel-timepoints, 8    5     25 us     7.8 in 6-10     0.8-5.0 s      2.37 / 1.82      2.8
    multilevel-timepoints, 15   5     129 us    8.8 in 6-10     3.8-21.4 s     10.20            2.8
    multilevel-timepoints, 30   5     543 us    8.9 in 6-10     15.7-86.4 s    44.87            1.5
    normal-normal, 8            2     4 us      5.5 in 4-7      0.2-1.5 s      0.66 / 0.54      0.6
    normal-normal, 200          2     4 us      4.7 in 4-7      0.2-1.5 s      0.48 / 0.51      0.7
    normal-normal, 2,000        2     15 us     4.7 in 4-7      0.4-2.6 s      1.20 / 1.85      0.7
    normal-normal, 20,000       2     244 us    4.7 in 4-7      4.7-25.1 s     6.80 / 6.11      3.5
    ==========================  ====  ========  ==============  =============  ===============  ====

Out of sample (new data, seed 2, the fits' default 4 chains x (1,000 + 1,000) through
:func:`~bayesmeta.bayes.sampling.fit_binomial_normal` and the others with progress on; actual: the
sampling step's own "done in" time): binomial-normal 8: 0-3 s, 1.4 s; 100: 4-23 s, 6.6 s; 500:
25 s to 2.3 min, 88.5 s (load 5.2); 2,000: 2.3-12.9 min, 500.9 s (load 5.4); binomial-intercepts
100: 1-8 s, 2.3 s; 1,000: 15 s to 1.8 min, 47.5 s; normal-normal 20,000: 3-16 s, 6.8 s. One run
fell outside: binomial-intercepts 1,000 at 9-66 s took 72.8 s beside a process that oversubscribed
the cores with BLAS threads (the experiment behind the one-thread limit), a machine busier than
the range allows for. Every statement came before the run's other sampling lines.

What the range leaves out: a posterior harder than these (tuning iterations at tree depth 10, 1,023
steps each, or draws at that depth), a gradient whose cost depends on where it is evaluated, and a
machine much busier than a load of about 3-5 on 2 cores. A retry of the diagnostics gate is a
second run, stated again before it starts.

References
----------
Hoffman, M. D. & Gelman, A. (2014). The No-U-Turn Sampler: adaptively setting path lengths in
Hamiltonian Monte Carlo. JMLR 15, 1593-1623. https://jmlr.org/papers/v15/hoffman14a.html
Beskos, A., Pillai, N., Roberts, G., Sanz-Serna, J.-M. & Stuart, A. (2013). Optimal tuning of the
hybrid Monte Carlo algorithm. Bernoulli 19(5A), 1501-1534. doi:10.3150/12-BEJ414
nutpie (Seyboldt et al.), ``nutpie.sample`` documentation: ``maxdepth`` (default 10, at most
``2 ** maxdepth`` steps per draw), ``cores`` (default ``min(chains, os.cpu_count())``),
``progress_callback``; https://github.com/pymc-devs/nutpie
"""
from __future__ import annotations

import ctypes
import math
import os
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Forecast:
    """The expected wall time of one sampling run, and what it rests on.

    Attributes
    ----------
    low, high : float
        Bounds of the expected wall time, seconds.
    seconds_per_gradient : float
        The measured time of one log-density gradient.
    steps_low, steps_high : float
        Mean leapfrog steps per iteration assumed at each bound.
    chains, tune, draws, cores : int
        The run: chains of ``tune`` tuning and ``draws`` kept iterations, ``cores`` of them at once.
    n_dim : int
        Unconstrained parameters of the model.
    family : str
        Model family whose step bounds were used (``"other"`` when none was known).
    """

    low: float
    high: float
    seconds_per_gradient: float
    steps_low: float
    steps_high: float
    chains: int
    tune: int
    draws: int
    cores: int
    n_dim: int
    family: str


STEPS: dict[str, tuple[float, float]] = {
    "normal_normal": (3.3, 5.5),
    "binomial_normal": (7.0, 12.5),
    "binomial_intercepts": (4.0, 9.0),
    "multilevel_timepoints": (4.0, 7.0),
}
"""Per model family (the first entry of a structure key, :func:`bayesmeta.bayes.models.structure_key`),
the (low, high) bounds of :math:`L / d^{1/4}` (see the module docstring and its table)."""

MAX_STEPS = 1024.0
"""Most leapfrog steps in one NUTS iteration: ``2 ** maxdepth`` for nutpie's default maximum tree
depth 10 (``nutpie.sample``'s docstring)."""

COST: tuple[float, float] = (0.8, 2.5)
"""(low, high) cost of a leapfrog step in measured gradients, :math:`c`. Measured: 0.9-1.3 for the
runs over 5 s at a load below 3, 1.9-2.2 at a load of 2.5-3.5 (two sampling threads sharing 2 cores
with other work); below 1 only for gradients of a few microseconds, where the ctypes call of
:func:`time_gradient` costs more than nuts-rs' direct one."""

STEP_OVERHEAD = 3e-6
"""Seconds per leapfrog step beyond the gradient at the high bound, :math:`o` (nuts-rs' own work per
step, which matters only next to gradients of a few microseconds)."""

START: tuple[float, float] = (0.1, 1.0)
"""(low, high) fixed seconds of a run (threads, initial points, the draws handed back), :math:`S`;
the shortest measured run took 0.41 s in all."""


def cores_used(chains: int) -> int:
    """The cores nutpie samples on when not told: ``min(chains, os.cpu_count())`` (nutpie 0.16)."""
    return max(1, min(int(chains), os.cpu_count() or 1))


def time_gradient(compiled, *, budget: float = 0.02, seed: int = 0) -> float | None:
    """Seconds per evaluation of the log density and its gradient of a nutpie-compiled PyMC model.

    Calls the model's C callback (``compiled_logp_func``, the function nuts-rs calls per leapfrog
    step; signature in ``nutpie.compile_pymc._make_c_logp_func``) through ctypes at the model's
    initial point (zeros if it has none): three warm-up calls, then blocks of calls, doubling
    until a block lasts a millisecond, for about ``budget`` seconds (at least three blocks); the
    result is the median time per call of the later half of the blocks, in CPU time of the calling
    thread where that clock resolves a microsecond (so other processes on the machine do not
    inflate it; :data:`COST` covers them), else in wall time. A gradient slower than ``budget``
    is timed by its third warm-up call alone. nutpie's own ``CompiledModel.benchmark_logp`` is not
    available for PyMC models in nutpie 0.16 (its model object has no such method).

    Returns
    -------
    float or None
        None when the model cannot be timed this way (another backend, an evaluation that fails):
        the caller then states nothing before sampling.
    """
    try:
        n_dim = int(compiled.n_dim)
        fn = compiled.compiled_logp_func.ctypes
        user_data = ctypes.c_void_p(compiled.user_data.ctypes.data)
        try:
            x = np.ascontiguousarray(compiled.initial_point_func(seed), dtype=np.float64)
        except Exception:
            x = np.zeros(n_dim)
        if x.shape != (n_dim,) or not np.all(np.isfinite(x)):
            x = np.zeros(n_dim)
        grad = np.empty(n_dim)
        logp = np.empty(())
        dbl = ctypes.POINTER(ctypes.c_double)
        args = (n_dim, x.ctypes.data_as(dbl), grad.ctypes.data_as(dbl), logp.ctypes.data_as(dbl), user_data)
        # CPU time of this thread where the clock is fine enough (the gradient's own cost, not
        # the share of a core other processes leave it; :data:`COST` covers sharing), else wall time
        clock = time.thread_time if time.get_clock_info("thread_time").resolution <= 1e-6 else time.perf_counter
        for _ in range(3):  # warm-up: the first calls touch code and data
            t0 = clock()
            if fn(*args) != 0:
                return None
            slow = clock() - t0
        if slow >= budget:  # a gradient slower than the whole budget: one more call is the timing
            return slow if math.isfinite(slow) and slow > 0 else None
        per_call: list[float] = []
        calls = 1
        start = time.perf_counter()
        while len(per_call) < 3 or (time.perf_counter() - start < budget and len(per_call) < 100):
            t0 = clock()
            for _ in range(calls):
                if fn(*args) != 0:
                    return None
            dt = clock() - t0
            per_call.append(dt / calls)
            if dt < 1e-3:  # blocks of about a millisecond, far above the clock's resolution
                calls *= 2
        t = float(np.median(per_call[len(per_call) // 2:]))
        return t if math.isfinite(t) and t > 0 else None
    except Exception:
        return None


def forecast(seconds_per_gradient: float, *, n_dim: int, chains: int, tune: int, draws: int, cores: int,
             family: str = "other") -> Forecast:
    """The range of wall time of a nutpie run (see the module docstring for the formula).

    Parameters
    ----------
    seconds_per_gradient : float
        Time of one gradient of the log density (:func:`time_gradient`), > 0.
    n_dim : int
        Unconstrained parameters of the model.
    chains, tune, draws : int
        The run's chains, tuning and kept iterations per chain.
    cores : int
        Chains run at once (:func:`cores_used`).
    family : str
        Model family (a key of :data:`STEPS`); another name takes the widest bounds of all.

    Returns
    -------
    Forecast

    Examples
    --------
    >>> f = forecast(1.9e-4, n_dim=1002, chains=4, tune=1000, draws=2000, cores=2, family="binomial_normal")
    >>> round(f.low), round(f.high), round(f.steps_low), round(f.steps_high)
    (36, 203, 39, 70)
    """
    t = float(seconds_per_gradient)
    if not (math.isfinite(t) and t > 0):
        raise ValueError(f"seconds_per_gradient must be positive and finite, got {seconds_per_gradient!r}")
    if min(chains, cores, n_dim) < 1 or min(tune, draws) < 0:
        raise ValueError(f"need chains, cores, n_dim >= 1 and tune, draws >= 0 (got chains={chains}, "
                         f"cores={cores}, n_dim={n_dim}, tune={tune}, draws={draws})")
    known = family in STEPS
    a_lo, a_hi = STEPS[family] if known else (min(v[0] for v in STEPS.values()), max(v[1] for v in STEPS.values()))
    scale = n_dim ** 0.25
    l_lo = min(max(1.0, a_lo * scale), MAX_STEPS)
    l_hi = min(max(1.0, a_hi * scale), MAX_STEPS)
    per_core = chains * (tune + draws) / min(chains, cores)
    low = START[0] + per_core * l_lo * COST[0] * t
    high = START[1] + per_core * l_hi * (COST[1] * t + STEP_OVERHEAD)
    return Forecast(low=low, high=high, seconds_per_gradient=t, steps_low=l_lo, steps_high=l_hi,
                    chains=int(chains), tune=int(tune), draws=int(draws), cores=int(cores), n_dim=int(n_dim),
                    family=family if known else "other")
