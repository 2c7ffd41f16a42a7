r"""Compiled PyMC models that persist across processes (nutpie, numba backend).

nutpie (0.16) compiles a PyMC model in two steps: PyTensor turns the log density and its gradient
into numba functions (PyTensor caches those on disk, ``~/.pytensor/.../numba``), then nutpie wraps
them in two ``numba.cfunc`` C callbacks that nuts-rs calls. nutpie builds those wrappers as closures
over per-process objects (random uuid field names, the data arrays as frozen constants, the
dispatcher itself), so numba can never find them in its cache and lowers them again in every
process: that lowering is most of the compile time (measured in ``benchmarks/run_benchmarks.py``,
``compile_cache``).

:func:`compile_pymc_model` builds the same two callbacks from generated source with no closure:
the PyTensor functions are module globals of the generated code, the data are read through the
same ``user_data`` record of pointers nutpie passes to nuts-rs (field names ``s0, s1, ...`` in a
stable order), and the cfuncs are compiled with ``cache=True`` into
:func:`cache_dir`. The cache entry of a wrapper is named by the SHA-256 of

- the generated wrapper source (which fixes the number of unconstrained parameters, of expanded
  values and the rank and dtype of every shared variable),
- PyTensor's own cache keys of the log-density and expand function graphs (a hash of every Op, its
  properties, constants and the graph topology; PyTensor keys its own disk cache the same way),
- a debug print of both optimised graphs (belt and braces: a different graph never shares an
  entry even if PyTensor's key were too coarse),
- :data:`CACHE_VERSION`; numba adds its version, the CPU and the Python version to the index.

A changed model structure therefore compiles (and stores) a new entry; data and prior
hyperparameters are ``pm.Data`` (pointers in ``user_data``), so they never enter a key and a warm
process swaps them with ``with_data`` exactly as before. The callbacks call the very same PyTensor
functions as nutpie's, so draws are bit-identical to ``nutpie.compile_pymc_model`` for the same
seed (tested in ``tests/test_compile_cache.py``).

Anything that goes wrong with the cache (directory not writable, a corrupted entry, a graph PyTensor
cannot key, a nutpie without the private helpers used here) falls back to compiling without the
disk cache and prints one line saying so; it never fails a fit. ``BAYESMETA_COMPILE_CACHE``
chooses the directory (``off`` disables the cache).
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from weakref import WeakKeyDictionary

import numpy as np

CACHE_VERSION = 1
ENV = "BAYESMETA_COMPILE_CACHE"

#: generated wrapper function -> the hash naming its cache entry (read by :class:`_Locator`)
_KEYS: WeakKeyDictionary = WeakKeyDictionary()


def cache_dir() -> Path | None:
    """Directory of the compiled-model cache, or None when disabled (``BAYESMETA_COMPILE_CACHE=off``).

    Default: ``$XDG_CACHE_HOME/bayesmeta/compiled`` (``~/.cache/bayesmeta/compiled``).
    """
    value = os.environ.get(ENV, "").strip()
    if value.lower() in {"off", "0", "false", "no", "none"}:
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bayesmeta" / "compiled"


@dataclass(frozen=True)
class CompileRecord:
    """How one model was compiled: ``status`` is ``hit`` (both callbacks loaded from the disk
    cache), ``miss`` (compiled and stored), ``off`` (cache disabled) or ``fallback`` (cache
    unusable, compiled without it; ``note`` says why); ``key`` is the cache entry's hash prefix."""

    status: str
    seconds: float
    key: str = ""
    note: str = ""


def _note(message: str) -> None:
    print(f"bayesmeta: {message}", file=sys.stderr)


def _locator_class():
    from numba.core.caching import _CacheLocator

    class _Locator(_CacheLocator):
        """Sends numba's cache of the generated wrappers to :func:`cache_dir`, named by their hash."""

        def __init__(self, py_func, py_file, key, path):
            self._py_func, self._py_file, self._key, self._path = py_func, py_file, key, path

        def get_cache_path(self):
            return str(self._path)

        def get_source_stamp(self):
            return CACHE_VERSION  # the source is generated and fully described by the key

        def get_disambiguator(self):
            return self._key[:32]

        @classmethod
        def from_function(cls, py_func, py_file):
            entry = _KEYS.get(py_func)
            return None if entry is None else cls(py_func, py_file, *entry)

    return _Locator


_LOCATOR = None


def _register_locator() -> None:
    global _LOCATOR
    if _LOCATOR is None:
        from numba.core.caching import CacheImpl

        _LOCATOR = _locator_class()
        CacheImpl._locator_classes.insert(0, _LOCATOR)


def _wrapper_source(kind: str, n_dim: int, n_expanded: int, shared: list[tuple[str, int]]) -> str:
    """Source of the C callback nuts-rs calls (same contract as nutpie's ``_make_c_*_func``)."""
    lines = ["ud = numba.carray(user_data_, (), RECORD)['shared']"] if shared else []
    args = []
    for i, (key, ndim) in enumerate(shared):
        shape = "(" + "".join(f"int(ud['shape']['{key}'][{j}]), " for j in range(ndim)) + ")"
        lines.append(f"a{i} = numba.carray(address_as_void_pointer(ud['data']['{key}'][()]), "
                     f"int(ud['size']['{key}'][()]), DTYPE{i}).reshape({shape})")
        args.append(f"a{i}")
    call = ", ".join(["x", *args])
    body = "\n        ".join(lines)
    if kind == "logp":
        return f"""
def bayesmeta_logp(dim, x_, out_, logp_, user_data_):
    if dim != {n_dim}:
        return -1
    try:
        x = numba.carray(x_, ({n_dim},))
        out = numba.carray(out_, ({n_dim},))
        logp = numba.carray(logp_, ())
        {body}
        logp_val, grad = FN({call})
        logp[()] = logp_val
        out[...] = grad
        if not np.all(np.isfinite(out)):
            return 3
        if not np.isfinite(logp_val):
            return 4
    except Exception:
        return 1
    return 0
"""
    return f"""
def bayesmeta_expand(dim, expanded, x_, out_, user_data_):
    if dim != {n_dim}:
        return -1
    if expanded != {n_expanded}:
        return -1
    try:
        x = numba.carray(x_, ({n_dim},))
        out = numba.carray(out_, ({n_expanded},))
        {body}
        (values,) = FN({call})
        out[...] = values
    except Exception:
        return -2
    return 0
"""


def _graph_key(fn_pt) -> str | None:
    """PyTensor's cache key of a compiled numba function plus a debug print of its graph."""
    import pytensor
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    try:
        key = CACHED_SRC_FUNCTIONS.get(fn_pt.vm.jit_fn.py_func)
        text = pytensor.dprint(fn_pt.maker.fgraph, file="str", print_type=True)
    except Exception:  # no key: the caller compiles without the disk cache
        return None
    return None if key is None else f"{key}\n{text}"


def _make_cfunc(kind, src, globs, sig, key, path):
    """Compile one wrapper; with ``path`` the cfunc is loaded from / stored in the disk cache."""
    import numba

    code = compile(src, f"<bayesmeta-{kind}-{key[:12]}>", "exec")
    env = dict(globs, __name__=__name__)  # numba rebuilds a cached function's environment by module name
    exec(code, env)
    fn = env[f"bayesmeta_{kind}"]
    if path is None:
        return numba.cfunc(sig)(fn)
    _register_locator()
    _KEYS[fn] = (key, path)
    return numba.cfunc(sig, cache=True)(fn)


def _compile_wrappers(parts: dict, digest: str, cache: Path | None) -> dict:
    return {kind: _make_cfunc(kind, src, globs, sig, digest or "nocache", cache)
            for kind, (src, globs, sig, _) in parts.items()}


def _unwritable(path: Path) -> str:
    """Why ``path`` cannot hold the cache ('' if it can)."""
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return ""


def compile_pymc_model(model, *, path: Path | str | None = "default"):
    """Compile ``model`` for nutpie (numba backend) with the wrappers cached on disk.

    Same result as ``nutpie.compile_pymc_model(model)`` (default arguments): the same PyTensor
    functions, initial points and shared-data layout, so ``with_data`` and ``nutpie.sample`` behave
    identically. ``path`` overrides :func:`cache_dir` (None: no disk cache). Returns
    ``(compiled, record)`` with a :class:`CompileRecord`.
    """
    t0 = time.perf_counter()
    cache = cache_dir() if path == "default" else (None if path is None else Path(path))
    try:
        import numba
        from nutpie import compile_pymc as cp
        from pymc.initial_point import make_initial_point_fn
    except ImportError as exc:  # pragma: no cover - nutpie without the helpers used here
        import nutpie

        _note(f"compiled-model cache unavailable ({exc}); compiling without it")
        return nutpie.compile_pymc_model(model), CompileRecord("fallback", time.perf_counter() - t0, note=str(exc))

    initial_point_fn = cp._wrap_with_lock(make_initial_point_fn(
        model=model, overrides=None, default_strategy="support_point", jitter_rvs=set(model.free_RVs),
        return_transformed=True))
    n_dim, n_expanded, logp_pt, expand_pt, init_fn, shape_info, reparam = cp._make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=True, pymc_initial_point_fn=initial_point_fn,
        var_names=None)

    shared_data: dict[str, np.ndarray] = {}
    shared_var_keys: dict = {}
    for var in [*logp_pt.get_shared(), *expand_pt.get_shared()]:
        if var in shared_var_keys:
            continue
        key = f"s{len(shared_var_keys)}"
        value = np.array(var.get_value(), order="C", copy=True)
        value.flags.writeable = False
        shared_data[key] = value
        shared_var_keys[var] = key
    user_data = cp.make_user_data(shared_var_keys, shared_data)
    record = user_data.dtype

    sig_logp = numba.types.int64(numba.types.uint64, numba.types.CPointer(numba.types.double),
                                 numba.types.CPointer(numba.types.double), numba.types.CPointer(numba.types.double),
                                 numba.types.voidptr)
    sig_expand = numba.types.int64(numba.types.uint64, numba.types.uint64, numba.types.CPointer(numba.types.double),
                                   numba.types.CPointer(numba.types.double), numba.types.voidptr)
    parts = {}
    for kind, fn_pt, sig in (("logp", logp_pt, sig_logp), ("expand", expand_pt, sig_expand)):
        shared = [(shared_var_keys[v], shared_data[shared_var_keys[v]].ndim) for v in fn_pt.get_shared()]
        globs = {"numba": numba, "np": np, "address_as_void_pointer": cp.address_as_void_pointer,
                 "RECORD": record, "FN": fn_pt.vm.jit_fn}
        globs.update({f"DTYPE{i}": shared_data[k].dtype for i, (k, _) in enumerate(shared)})
        parts[kind] = (_wrapper_source(kind, n_dim, n_expanded, shared), globs, sig, fn_pt)

    status, note, digest = ("off", "", "") if cache is None else ("miss", "", "")
    if cache is not None:
        graph_keys = [_graph_key(p[3]) for p in parts.values()]
        if any(g is None for g in graph_keys):
            status, note, cache = "fallback", "PyTensor could not key this graph", None
            _note(f"compiled-model cache not used: {note}; compiling")
        else:
            h = hashlib.sha256(f"bayesmeta compile cache v{CACHE_VERSION}\n{record.descr}\n".encode())
            for (src, *_), g in zip(parts.values(), graph_keys):
                h.update(src.encode())
                h.update(str(g).encode())
            digest = h.hexdigest()
    if cache is not None:
        problem = _unwritable(cache)
        if problem:
            status, note, cache = "fallback", problem, None
            _note(f"compiled-model cache not writable ({problem}); compiling without it")
    try:
        cfuncs = _compile_wrappers(parts, digest, cache)
    except Exception as exc:  # any cache failure: compile without it, never fail the fit
        if cache is None:
            raise
        note = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        status = "fallback"
        try:  # an unreadable entry (truncated, corrupted): drop it and store a fresh one
            for f in Path(str(cache)).glob(f"*{digest[:32]}*"):
                f.unlink()
            cfuncs = _compile_wrappers(parts, digest, cache)
            _note(f"compiled-model cache entry {digest[:12]} in {cache} was unreadable ({note}); recompiled and replaced it")
            note = f"entry replaced after {note}"
        except Exception:
            _note(f"compiled-model cache at {cache} unusable ({note}); compiling without it")
            cfuncs = _compile_wrappers(parts, digest, None)
    if status == "miss" and all(c.cache_hits for c in cfuncs.values()):
        status = "hit"

    dims, coords = cp._prepare_dims_and_coords(model, shape_info, reparam)
    compiled = cp.CompiledPyMCModel(
        _n_dim=n_dim, dims=dims, _coords=coords, _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info)},
        compiled_logp_func=cfuncs["logp"], compiled_expand_func=cfuncs["expand"], initial_point_func=init_fn,
        shared_data=shared_data, shared_var_keys=shared_var_keys, user_data=user_data, n_expanded=n_expanded,
        shape_info=shape_info, logp_func=logp_pt, expand_func=expand_pt, reparameterized_names=reparam)
    return compiled, CompileRecord(status, time.perf_counter() - t0, digest[:16], note)
