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

Measurements (the source of the constants): a 2-core VM shared with other work (1-minute load
0.6-5), nutpie 0.16.11 (numba backend), 4 chains x (1,000 tuning + 2,000 draws), target_accept
0.95, tau ~ HN(0.5), mu ~ N(0, 1); gradient timed by :func:`time_gradient`; :math:`L` the mean
n_steps over tuning and kept draws; "wall" the ``nutpie.sample`` call in a fresh process (the first
run there, as :meth:`bayesmeta.bayes.sampling.Sampler.run` meets it); :math:`c` = wall / (steps
per core x gradient). Data simulated by ``/tmp`` scripts described in the closing note of issue 20
(normal-normal: :math:`s_i \sim U(0.1, 0.5)`, :math:`y_i \sim N(0.2, s_i^2 + 0.1)`; binomial: arms of
20-200, control risks 0.1-0.4, log OR ~ N(0.2, 0.3^2); time points: 3 per study, AR(1) rho 0.5).

The constants are provisional until the table of measured runs is added (next commit).

References
----------
Hoffman, M. D. & Gelman, A. (2014). The No-U-Turn Sampler: adaptively setting path lengths in
Hamiltonian Monte Carlo. JMLR 15, 1593-1623. https://jmlr.org/papers/v15/hoffman14a.html
Beskos, A., Pillai, N., Roberts, G., Sanz-Serna, J.-M. & Stuart, A. (2013). Optimal tuning of the
hybrid Monte Carlo algorithm. Bernoulli 19(5A), 1501-1534. doi:10.3150/12-BEJ414
nutpie documentation, sampler settings (``maxdepth`` 10, mass-matrix adaptation):
https://pymc-devs.github.io/nutpie/
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
    "normal_normal": (3.3, 4.6),
    "binomial_normal": (5.0, 9.5),
    "binomial_intercepts": (4.0, 8.5),
    "multilevel_timepoints": (4.5, 6.0),
}
"""Per model family (the first entry of a structure key, :func:`bayesmeta.bayes.models.structure_key`),
the (low, high) bounds of :math:`L / d^{1/4}` (see the module docstring and its table)."""

MAX_STEPS = 1023.0
"""Most leapfrog steps in one NUTS iteration: a tree of nutpie's default maximum depth 10."""

COST: tuple[float, float] = (1.0, 2.5)
"""(low, high) cost of a leapfrog step in measured gradients, :math:`c`."""

STEP_OVERHEAD = 5e-6
"""Seconds per leapfrog step beyond the gradient at the high bound, :math:`o`."""

START: tuple[float, float] = (0.2, 1.5)
"""(low, high) fixed seconds of a run (threads, initial points, the draws handed back), :math:`S`."""


def cores_used(chains: int) -> int:
    """The cores nutpie samples on when not told: ``min(chains, os.cpu_count())`` (nutpie 0.16)."""
    return max(1, min(int(chains), os.cpu_count() or 1))


def time_gradient(compiled, *, budget: float = 0.02, seed: int = 0) -> float | None:
    """Seconds per evaluation of the log density and its gradient of a nutpie-compiled PyMC model.

    Calls the model's C callback (``compiled_logp_func``, the function nuts-rs calls per leapfrog
    step) through ctypes at the model's initial point (zeros if it has none), three warm-up
    calls, then blocks of calls for about ``budget`` seconds (at least three blocks); returns the
    median time per call of the later blocks. nutpie's own ``benchmark_logp`` is not available
    for PyMC models in nutpie 0.16.

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
