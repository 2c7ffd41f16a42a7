"""bayesmeta: Bayesian reanalysis of published meta-analyses.

Reproduce a published (RevMan / metafor) random-effects meta-analysis exactly, then reanalyse it
with explicit, literature-backed priors: exact normal-normal posteriors by numerical integration,
hierarchical models in PyMC sampled with nutpie, ArviZ diagnostics, decision probabilities.
"""
import sys as _sys

if _sys.version_info < (3, 12):  # pragma: no cover - guarded at install time too
    raise ImportError(
        "bayesmeta needs Python >= 3.12 (PyMC >= 6 and ArviZ >= 1.3 do not support "
        f"Python {_sys.version.split()[0]}). Run ./dev, which finds a suitable interpreter."
    )

__version__ = "0.1.0"
