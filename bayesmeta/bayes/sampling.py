r"""Sampling: nutpie (numba backend) by default, compiled once per model structure.

A :class:`Sampler` keeps the compiled model of each structure (factory, k, prior families); every
``fit_*`` takes ``engine=`` (default: the module's :data:`DEFAULT` sampler); prior hyperparameters
and data are ``pm.Data`` and are swapped with ``compiled.with_data(...)``, so a prior-sensitivity
refit costs a fraction of a second instead of a compile. PyMC's own NUTS stays available
(``sampler="pymc"``). Every fit passes the diagnostics gate of :mod:`bayesmeta.bayes.diagnostics`; on
failure it is retried once with target_accept 0.99 and doubled tuning (the same number of draws:
a result always holds exactly the draws asked for), a ``UserWarning`` says so (and what failed),
and a result that still fails is flagged as not converged in every output. With ``chains=1``
R-hat cannot be computed (it compares chains): the warning says so and the result is marked not
converged; use two or more chains.

For the marginal normal-normal model the study effects are drawn from their exact conditionals
given :math:`(\mu, \tau)`:
:math:`\theta_i \mid \mu, \tau, y \sim N\big((y_i/s_i^2 + \mu/\tau^2)/(1/s_i^2 + 1/\tau^2),\ (1/s_i^2 + 1/\tau^2)^{-1}\big)`,
and :math:`\theta_{new} \sim N(\mu, \tau^2)`.
"""
from __future__ import annotations

from bayesmeta.bayes import _env  # noqa: F401

import time
import warnings

import numpy as np
import nutpie
import pymc as pm
import xarray as xr
from scipy import stats

from bayesmeta import _progress
from bayesmeta._blas import one_blas_thread
from bayesmeta.bayes import compile_cache, forecast, models
from bayesmeta.bayes.diagnostics import ConvergenceWarning, check
from bayesmeta.bayes.priors import Prior
from bayesmeta.provenance import data_hash, versions
from bayesmeta.bayes.result import BayesResult, normal_loglik

def _hyper(tau_prior: Prior, mu_prior: Prior, extra_tau_prefix: str | None = None) -> dict:
    d = {f"tau_prior__{k}": float(v) for k, v in tau_prior.params.items()}
    if extra_tau_prefix:
        d.update({f"{extra_tau_prefix}__{k}": float(v) for k, v in tau_prior.params.items()})
    d.update({f"mu_prior__{k}": float(v) for k, v in mu_prior.params.items()})
    return d


class Sampler:
    """Compiles each model structure once and keeps the compiled models for the object's life.

    A structure key (see :func:`bayesmeta.bayes.models.structure_key`) maps to one
    nutpie-compiled model; data and prior hyperparameters are swapped in with
    ``with_data`` for every later fit of that structure. One ``Sampler`` serves a whole run (the
    module's :data:`DEFAULT` unless a fit is given another), so a reanalysis with 20 priors of
    the same family compiles once. ``compile_log`` records (key, seconds) of every compile.

    Across processes, the numba backend compiles through
    :func:`bayesmeta.bayes.compile_cache.compile_pymc_model`, which keeps nutpie's C callbacks in
    a disk cache keyed by the model graph (``cache``: ``"default"`` for
    :func:`~bayesmeta.bayes.compile_cache.cache_dir`, a directory, or None for nutpie's own
    uncached compile): a warm process loads a structure in about a second instead of lowering it
    again, with bit-identical draws. ``compile_records`` holds one
    :class:`~bayesmeta.bayes.compile_cache.CompileRecord` (hit, miss, off, fallback) per compile.
    A long-lived process (a Dask worker, :mod:`bayesmeta.simulate.sweep`) also keeps its
    ``Sampler`` in memory and skips even that second.
    """

    def __init__(self, backend: str = "numba", cache: str | None = "default"):
        self.backend = backend
        self.cache = cache
        self._compiled: dict[tuple, object] = {}
        self._gradient_seconds: dict[tuple, float | None] = {}
        self.compile_log: list[tuple[tuple, float]] = []
        self.compile_records: list = []

    def __contains__(self, key) -> bool:
        return key in self._compiled

    def __len__(self) -> int:
        return len(self._compiled)

    def clear(self) -> None:
        """Forget every compiled model (the next fit of each structure compiles again)."""
        self._compiled.clear()
        self._gradient_seconds.clear()

    def compiled(self, key: tuple, build):
        """The nutpie-compiled model for structure ``key`` (built with ``build()`` on first use)."""
        if key not in self._compiled:
            t0 = time.perf_counter()
            if self.backend == "numba" and self.cache is not None:
                self._compiled[key], record = compile_cache.compile_pymc_model(build(), path=self.cache)
            else:
                self._compiled[key] = nutpie.compile_pymc_model(build(), backend=self.backend)
                record = compile_cache.CompileRecord("off", time.perf_counter() - t0)
            self.compile_log.append((key, time.perf_counter() - t0))
            self.compile_records.append(record)
        return self._compiled[key]

    def expected_time(self, key, comp, *, chains: int, tune: int, draws: int) -> forecast.Forecast | None:
        """The expected wall time of sampling ``comp`` (the compiled model of ``key``, data swapped
        in), from its gradient timed once per structure (:func:`bayesmeta.bayes.forecast.time_gradient`);
        None when the model cannot be timed (another backend) or anything else fails."""
        try:
            if key not in self._gradient_seconds:
                self._gradient_seconds[key] = forecast.time_gradient(comp)
            t = self._gradient_seconds[key]
            if t is None:
                return None
            family = str(key[0]) if isinstance(key, tuple) and key else "other"
            return forecast.forecast(t, n_dim=int(comp.n_dim), chains=int(chains), tune=int(tune), draws=int(draws),
                                     cores=forecast.cores_used(int(chains)), family=family)
        except Exception:  # a forecast never fails a fit
            return None

    def run(self, key, build, data: dict, *, draws, tune, chains, seed, target_accept, sampler="nutpie"):
        """Sample one model; returns a DataTree with posterior and sample_stats."""
        if sampler == "nutpie":
            name = str(key[0]).replace("_", "-") if isinstance(key, tuple) and key else "model"
            # announced only when it lasts (a compile, not a cache hit): say what to expect
            with _progress.step(f"compiling the {name} model for nutpie (first use of this model structure, "
                                "typically 10-30 s; cached for later runs)"):
                comp = self.compiled(key, build).with_data(**data)
            label = f"sampling the {name} model ({chains} chains x {tune:,} tuning + {draws:,} draws)"
            # one BLAS thread: nutpie runs a chain per core, and a dense model's gradient (the
            # multilevel one's MVN) calling a threaded OpenBLAS from each of them oversubscribes the
            # cores: 20x slower at 15 studies x 3 time points, same draws (bayes/forecast.py)
            with one_blas_thread():
                extra = {}
                if _progress.enabled():  # scripts and tests pay nothing
                    _progress.sampling_forecast(label, self.expected_time(key, comp, chains=chains, tune=tune,
                                                                          draws=draws))
                    extra = {"progress_callback": _progress.SamplingProgress(label), "progress_rate": PROGRESS_RATE_MS}
                with _progress.step(label):
                    tree = nutpie.sample(comp, draws=draws, tune=tune, chains=chains, seed=seed,
                                         target_accept=target_accept, progress_bar=False, save_warmup=False, **extra)
        elif sampler == "pymc":
            model = build()
            with model:
                pm.set_data(data)
                tree = pm.sample(draws=draws, tune=tune, chains=chains, random_seed=seed,
                                 target_accept=target_accept, progressbar=False, nuts_sampler="pymc",
                                 compute_convergence_checks=False)
            if not isinstance(tree, xr.DataTree):
                tree = xr.DataTree.from_dict({g: tree[g] for g in tree.groups()})
        else:
            raise ValueError("sampler must be 'nutpie' or 'pymc'")
        return _drop_object_vars(tree)


PROGRESS_RATE_MS = 250
"""How often nutpie reports the chains' progress to :class:`bayesmeta._progress.SamplingProgress`
(only when progress is on)."""

DEFAULT = Sampler()
# the default sampler's cache and compile log under their former module-level names
_COMPILED = DEFAULT._compiled
COMPILE_LOG = DEFAULT.compile_log


def compiled_model(key: tuple, build):
    """The nutpie-compiled model for ``key`` from the default :class:`Sampler`."""
    return DEFAULT.compiled(key, build)


def _drop_object_vars(tree):
    ss = tree["sample_stats"].to_dataset()
    keep = [v for v in ss.data_vars if ss[v].dtype != object]
    tree["sample_stats"] = ss[keep]
    return tree


def run_sampler(key, build, data: dict, *, draws, tune, chains, seed, target_accept, sampler,
                engine: Sampler | None = None):
    """Sample one model with ``engine`` (default: :data:`DEFAULT`); returns a DataTree."""
    return (DEFAULT if engine is None else engine).run(key, build, data, draws=draws, tune=tune, chains=chains, seed=seed,
                                   target_accept=target_accept, sampler=sampler)


def _sample_with_gate(key, build, data, var_names, *, draws, tune, chains, seed, target_accept, sampler,
                      engine: Sampler | None = None):
    """Sample, check, and on a failed gate re-sample once (same draws, 2x tuning, target_accept 0.99).

    Returns the tree, its diagnostics and the attempts (settings, passed, problems of each); every
    failed attempt is reported in a ``UserWarning``, never silently.
    """
    if int(chains) < 1 or int(draws) < 1:
        raise ValueError(f"chains and draws must be positive, got chains={chains}, draws={draws}")
    settings = dict(draws=draws, tune=tune, chains=chains, seed=seed, target_accept=target_accept, sampler=sampler)
    tree = run_sampler(key, build, data, **settings, engine=engine)
    with warnings.catch_warnings():
        if int(chains) < 2:  # R-hat of one chain is NaN by definition: explained below, not numpy's warning
            warnings.simplefilter("ignore", RuntimeWarning)
        diag = check(tree, var_names)
    attempts = [dict(settings, passed=diag.passed, problems=list(diag.messages))]
    if int(chains) < 2:
        warnings.warn(
            f"chains={chains}: R-hat compares chains and needs at least 2, so convergence cannot be "
            "checked; the result is marked not converged. Sample with chains >= 2 (default 4).",
            UserWarning, stacklevel=3)
        attempts[0]["problems"] = ["R-hat needs >= 2 chains", *[m for m in diag.messages if "R-hat" not in m]]
        return tree, diag, attempts
    if not diag.passed:
        first = "; ".join(diag.messages)
        settings = dict(settings, tune=2 * tune, target_accept=max(target_accept, 0.99))
        tree = run_sampler(key, build, data, **settings, engine=engine)
        diag = check(tree, var_names)
        attempts.append(dict(settings, passed=diag.passed, problems=list(diag.messages)))
        outcome = "passed" if diag.passed else "still failed (" + "; ".join(diag.messages) + "): NOT converged"
        warnings.warn(
            f"diagnostics gate failed ({first}); re-sampled once with tune={settings['tune']} and "
            f"target_accept={settings['target_accept']:g} (draws unchanged, {draws} per chain): {outcome}",
            ConvergenceWarning, stacklevel=3)
    return tree, diag, attempts


def _group(data: dict, like) -> xr.Dataset:
    return xr.Dataset({k: (dims, v) for k, (dims, v) in data.items()},
                      coords={c: like.coords[c] for c in ("chain", "draw") if c in like.coords})


def fit_normal_normal(yi, sei, tau_prior: Prior, mu_prior: Prior, labels=None, *, measure: str = "SMD",
                      draws: int = 1000, tune: int = 1000, chains: int = 4, seed: int = 0,
                      target_accept: float = 0.95, sampler: str = "nutpie", spec: dict | None = None,
                      engine: Sampler | None = None) -> BayesResult:
    """Sample the normal-normal model (marginal form) and return a gated :class:`BayesResult`."""
    yi = np.asarray(yi, dtype=float)
    sei = np.asarray(sei, dtype=float)
    labels = list(labels) if labels is not None else [f"study {i + 1}" for i in range(yi.size)]
    if yi.ndim != 1 or yi.shape != sei.shape or len(labels) != yi.size:
        raise ValueError(f"yi, sei and labels must have one entry per study (got {yi.size}, {sei.size}, {len(labels)})")
    key = models.structure_key("normal_normal", yi.size, tau_prior, mu_prior)
    build = lambda: models.normal_normal(yi, sei, labels, tau_prior, mu_prior)
    data = {"yi": yi, "sei": sei, **_hyper(tau_prior, mu_prior)}
    t0 = time.perf_counter()
    tree, diag, attempts = _sample_with_gate(key, build, data, ("mu", "tau"), draws=draws, tune=tune,
                                             chains=chains, seed=seed, target_accept=target_accept, sampler=sampler,
                                             engine=engine)
    elapsed = time.perf_counter() - t0
    post = tree["posterior"].to_dataset()
    mu = post["mu"].to_numpy()
    tau = post["tau"].to_numpy()
    rng = np.random.default_rng([seed, 1])
    v = sei**2
    t2 = np.maximum(tau[..., None] ** 2, 1e-300)
    prec = 1 / v + 1 / t2
    theta = rng.normal((yi / v + mu[..., None] / t2) / prec, np.sqrt(1 / prec))
    theta_new = rng.normal(mu, tau)
    y_rep = rng.normal(theta, sei)
    post = post.assign(theta=(("chain", "draw", "study"), theta), theta_new=(("chain", "draw"), theta_new))
    post = post.assign_coords(study=labels)
    loglik = normal_loglik(yi, sei, mu, tau)
    logprior_mu = np.asarray(mu_prior.logpdf(mu))
    logprior_tau = np.asarray(tau_prior.logpdf(tau))
    cd = {"study": labels}
    groups = {
        "posterior": post,
        "posterior_predictive": _group({"y": (("chain", "draw", "study"), y_rep)}, post).assign_coords(cd),
        "log_likelihood": _group({"y": (("chain", "draw", "study"), loglik)}, post).assign_coords(cd),
        "log_prior": _group({"mu": (("chain", "draw"), logprior_mu), "tau": (("chain", "draw"), logprior_tau)}, post),
        "observed_data": xr.Dataset({"y": ("study", yi), "sei": ("study", sei)}, coords=cd),
        "sample_stats": tree["sample_stats"].to_dataset(),
    }
    return BayesResult.build(
        groups, model="normal-normal (marginal form; theta, theta_new by exact conditional draws)",
        measure=measure, labels=labels, priors={"tau": tau_prior.to_dict(), "mu": mu_prior.to_dict()},
        diagnostics=diag, seed=seed, sampler=sampler, attempts=attempts, seconds=elapsed,
        data_sha256=data_hash(yi, sei), spec=spec or {}, versions=versions())


def fit_binomial_normal(events_e, n_e, events_c, n_c, tau_prior: Prior, mu_prior: Prior, labels=None, *,
                        draws: int = 1000, tune: int = 1000, chains: int = 4, seed: int = 0,
                        target_accept: float = 0.95, sampler: str = "nutpie", alpha_sd: float = 10.0,
                        spec: dict | None = None, engine: Sampler | None = None) -> BayesResult:
    """Sample the binomial-normal model (log-OR scale, exact likelihood, no continuity correction)."""
    ee, ne, ec, nc = (np.asarray(a, dtype=float) for a in (events_e, n_e, events_c, n_c))
    arrs = (ee, ne, ec, nc)
    k = arrs[0].size
    labels = list(labels) if labels is not None else [f"study {i + 1}" for i in range(k)]
    key = models.structure_key("binomial_normal", k, tau_prior, mu_prior)
    build = lambda: models.binomial_normal(*arrs, labels, tau_prior, mu_prior, alpha_sd)
    data = {"events_e": arrs[0], "n_e": arrs[1], "events_c": arrs[2], "n_c": arrs[3], "alpha_sd": float(alpha_sd),
            **_hyper(tau_prior, mu_prior)}
    t0 = time.perf_counter()
    tree, diag, attempts = _sample_with_gate(key, build, data, ("mu", "tau", "alpha", "z"), draws=draws, tune=tune,
                                             chains=chains, seed=seed, target_accept=target_accept, sampler=sampler,
                                             engine=engine)
    elapsed = time.perf_counter() - t0
    post = tree["posterior"].to_dataset().assign_coords(study=labels)
    rng = np.random.default_rng([seed, 1])
    post = post.assign(theta_new=(("chain", "draw"), rng.normal(post["mu"].to_numpy(), post["tau"].to_numpy())))
    alpha, theta = post["alpha"].to_numpy(), post["theta"].to_numpy()
    pc, pe = 1 / (1 + np.exp(-alpha)), 1 / (1 + np.exp(-(alpha + theta)))
    cd = {"study": labels}
    ll_c = stats.binom.logpmf(arrs[2], arrs[3], pc)
    ll_e = stats.binom.logpmf(arrs[0], arrs[1], pe)
    groups = {
        "posterior": post,
        "posterior_predictive": _group({"y_e": (("chain", "draw", "study"), rng.binomial(arrs[1].astype(int), pe)),
                                        "y_c": (("chain", "draw", "study"), rng.binomial(arrs[3].astype(int), pc))},
                                       post).assign_coords(cd),
        "log_likelihood": _group({"y": (("chain", "draw", "study"), ll_c + ll_e)}, post).assign_coords(cd),
        "log_prior": _group({"mu": (("chain", "draw"), np.asarray(mu_prior.logpdf(post["mu"].to_numpy()))),
                             "tau": (("chain", "draw"), np.asarray(tau_prior.logpdf(post["tau"].to_numpy())))}, post),
        "observed_data": xr.Dataset({"events_e": ("study", arrs[0]), "n_e": ("study", arrs[1]),
                                     "events_c": ("study", arrs[2]), "n_c": ("study", arrs[3])}, coords=cd),
        "sample_stats": tree["sample_stats"].to_dataset(),
    }
    return BayesResult.build(
        groups, model=f"binomial-normal (logit link, fixed study intercepts ~ N(0, {alpha_sd:g}^2), exact binomial likelihood)",
        measure="OR", labels=labels, priors={"tau": tau_prior.to_dict(), "mu": mu_prior.to_dict()},
        diagnostics=diag, seed=seed, sampler=sampler, attempts=attempts, seconds=elapsed,
        data_sha256=data_hash(*arrs), spec=spec or {}, versions=versions())


def fit_binomial_intercepts(events, n, tau_prior: Prior, mu_prior: Prior, labels=None, *, draws=1000, tune=1000,
                            chains=4, seed=0, target_accept=0.95, sampler="nutpie",
                            engine: Sampler | None = None) -> BayesResult:
    """Random-intercept binomial model (single arm per study); theta_new is a new study's logit."""
    events, n = np.asarray(events, float), np.asarray(n, float)
    labels = list(labels) if labels is not None else [f"study {i + 1}" for i in range(events.size)]
    key = models.structure_key("binomial_intercepts", events.size, tau_prior, mu_prior)
    build = lambda: models.binomial_intercepts(events, n, labels, tau_prior, mu_prior)
    data = {"events": events, "n": n, **_hyper(tau_prior, mu_prior)}
    t0 = time.perf_counter()
    tree, diag, attempts = _sample_with_gate(key, build, data, ("mu", "tau", "z"), draws=draws, tune=tune,
                                             chains=chains, seed=seed, target_accept=target_accept, sampler=sampler,
                                             engine=engine)
    post = tree["posterior"].to_dataset().assign_coords(study=labels)
    rng = np.random.default_rng([seed, 1])
    post = post.assign(theta_new=(("chain", "draw"), rng.normal(post["mu"].to_numpy(), post["tau"].to_numpy())))
    p = 1 / (1 + np.exp(-post["theta"].to_numpy()))
    cd = {"study": labels}
    groups = {
        "posterior": post,
        "log_likelihood": _group({"y": (("chain", "draw", "study"), stats.binom.logpmf(events, n, p))}, post).assign_coords(cd),
        "observed_data": xr.Dataset({"events": ("study", events), "n": ("study", n)}, coords=cd),
        "sample_stats": tree["sample_stats"].to_dataset(),
    }
    return BayesResult.build(groups, model="binomial random intercepts (logit)", measure="logit",
                             labels=labels, priors={"tau": tau_prior.to_dict(), "mu": mu_prior.to_dict()},
                             diagnostics=diag, seed=seed, sampler=sampler, attempts=attempts,
                             seconds=time.perf_counter() - t0, data_sha256=data_hash(events, n), spec={},
                             versions=versions())


def fit_multilevel_timepoints(yi, vi, study, timepoint, tau_prior: Prior, mu_prior: Prior, *, rho: float = 0.5,
                              correlation: str = "ar1", timepoint_order=None, draws: int = 1000, tune: int = 1000,
                              chains: int = 4, seed: int = 0, target_accept: float = 0.95,
                              sampler: str = "nutpie", measure: str = "MD",
                              engine: Sampler | None = None) -> BayesResult:
    """Sample :func:`bayesmeta.bayes.models.multilevel_timepoints`; one effect per time point.

    ``rho`` (within-study correlation of sampling errors between time points) is data: refits over
    a grid of ``rho`` reuse the compiled model.
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    study, timepoint = list(study), list(timepoint)
    studies = list(dict.fromkeys(study))
    tps = list(timepoint_order) if timepoint_order is not None else list(dict.fromkeys(timepoint))
    si = np.array([studies.index(x) for x in study])
    ti = np.array([tps.index(x) for x in timepoint])
    key = ("multilevel_timepoints", tuple(si), tuple(ti), correlation, tau_prior.family, mu_prior.family)
    build = lambda: models.multilevel_timepoints(yi, vi, si, ti, studies, tps, tau_prior, mu_prior, rho, correlation)
    data = {"yi": yi, "rho": float(rho), **_hyper(tau_prior, mu_prior, "tau_within_prior")}
    t0 = time.perf_counter()
    tree, diag, attempts = _sample_with_gate(key, build, data, ("mu", "tau_study", "tau_within"), draws=draws,
                                             tune=tune, chains=chains, seed=seed, target_accept=target_accept,
                                             sampler=sampler, engine=engine)
    post = tree["posterior"].to_dataset().assign_coords(timepoint=tps)
    groups = {"posterior": post,
              "observed_data": xr.Dataset({"y": ("obs", yi), "vi": ("obs", vi), "study": ("obs", np.array(study)),
                                           "timepoint": ("obs", np.array(timepoint))}),
              "sample_stats": tree["sample_stats"].to_dataset()}
    return BayesResult.build(groups, model=f"multilevel time points (marginal MVN; {correlation} sampling correlation rho={rho:g})",
                             measure=measure, labels=studies, priors={"tau": tau_prior.to_dict(), "mu": mu_prior.to_dict()},
                             diagnostics=diag, seed=seed, sampler=sampler, attempts=attempts,
                             seconds=time.perf_counter() - t0, data_sha256=data_hash(yi, vi, si, ti, [rho]),
                             spec={"rho": rho, "correlation": correlation}, versions=versions())
