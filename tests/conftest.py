"""Shared test settings: compile caches inside the repository (kept between runs by ./dev)."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PYTENSOR_FLAGS", f"compiledir={ROOT / '.cache' / 'pytensor'}")
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))
os.environ.setdefault("BAYESMETA_COMPILE_CACHE", str(ROOT / ".cache" / "bayesmeta-compiled"))
os.environ.setdefault("MPLBACKEND", "Agg")
