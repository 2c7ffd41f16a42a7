"""Provenance: package versions and hashes of input data."""
from __future__ import annotations

import hashlib
import platform
from importlib import metadata

import numpy as np

PACKAGES = ("bayesmeta", "numpy", "scipy", "pandas", "xarray", "pymc", "pytensor", "arviz", "nutpie", "matplotlib")


def versions() -> dict[str, str]:
    """Python and package versions."""
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def data_hash(*arrays) -> str:
    """sha256 of the float64 bytes of the given arrays (shape-tagged, order-sensitive)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a, dtype=float))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()
