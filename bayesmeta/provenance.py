"""Provenance: package versions and hashes of the input files and of the spec.

What a saved result records about its inputs is the sha256 of the input FILES as they were read
(the data files and the spec file, by path) and of the canonical spec; :func:`changed_inputs`
compares those against the files as they are now, so a result made from other data is refused
with the names of the files that changed.
"""

from __future__ import annotations

import hashlib
import os
import platform
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

import numpy as np

PACKAGES = (
    "bayesmeta",
    "numpy",
    "scipy",
    "pandas",
    "xarray",
    "pymc",
    "pytensor",
    "arviz",
    "nutpie",
    "matplotlib",
)


def versions() -> dict[str, str]:
    """Python and package versions."""
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


NUMERIC_PINS = ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")
"""Environment variables that choose the floating-point kernels a run uses. NumPy's float64
exp, log, log1p and expm1 on AVX-512 machines (its X86_V4 and AVX512_ICL/SPR targets) differ from
the X86_V3 (AVX2) ones in the last bit, and OpenBLAS picks its kernels per CPU; either moves the
last digits of a report's numbers. ``./dev run`` disables NumPy's AVX-512 targets and sets
OpenBLAS's Haswell (AVX2) core, so a report is the same, byte for byte, on every x86-64 machine with
AVX2 (measured: without them 34 files of the Viderman report differed in the 15th-17th significant
digit on an AVX-512 machine; with them none)."""


def numeric_pins() -> dict[str, str | None]:
    """The values of :data:`NUMERIC_PINS` in this process (None: unset), for the provenance record.

    Only the settings are recorded, never the CPU, so the record itself is the same on every
    machine a pinned run reproduces the report on."""
    return {k: os.environ.get(k) for k in NUMERIC_PINS}


def file_sha256(path) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_hashes(paths: Iterable) -> dict[str, str]:
    """``{absolute path: sha256}`` of existing files (sorted by path)."""
    return {
        str(Path(p).resolve()): file_sha256(p)
        for p in sorted({Path(p).resolve() for p in paths})
        if Path(p).is_file()
    }


def relative_inputs(inputs: Mapping[str, str], base) -> dict[str, str]:
    """Input-file hashes keyed by paths relative to ``base`` (the spec's folder), so that the
    record does not depend on where the project lies on disk or on the working directory."""
    base = Path(base).resolve()
    return {Path(os.path.relpath(Path(k).resolve(), base)).as_posix(): v for k, v in sorted(inputs.items())}


def inputs_digest(inputs: Mapping[str, str], base) -> str:
    """sha256 over the sorted (relative path, sha256) pairs of the input files: the data a run read,
    and nothing else (hashing a whole folder would read unrelated files beside a user's CSV)."""
    h = hashlib.sha256()
    for name, sha in relative_inputs(inputs, base).items():
        h.update(name.encode())
        h.update(sha.encode())
    return h.hexdigest()


def folder_hash(folder) -> str:
    """sha256 over the names and bytes of every file in ``folder`` (sorted)."""
    folder = Path(folder)
    h = hashlib.sha256()
    for p in sorted(q for q in folder.rglob("*") if q.is_file()):
        h.update(p.relative_to(folder).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def changed_inputs(recorded: Mapping[str, str], base=None) -> list[str]:
    """The recorded input files that are missing or whose bytes changed (each with the reason).
    Relative paths are read from ``base`` (the folder of the file that recorded them)."""
    out = []
    for path, sha in recorded.items():
        p = Path(base, path) if base is not None else Path(path)
        if not p.is_file():
            out.append(f"{path} (no longer exists)")
        elif file_sha256(p) != sha:
            out.append(f"{path} (changed: sha256 {sha[:12]}... when saved, {file_sha256(p)[:12]}... now)")
    return out


def data_hash(*arrays) -> str:
    """sha256 of the float64 bytes of the given arrays (shape-tagged, order-sensitive)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a, dtype=float))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()
