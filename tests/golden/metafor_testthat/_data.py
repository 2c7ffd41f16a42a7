"""The metadat data sets used by the ports (CSV exported by validation/metafor/export_metadat.R)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent / "data"


def dat(name: str) -> pd.DataFrame:
    """``dat.<name>`` of R's metadat package as a DataFrame."""
    return pd.read_csv(DATA / f"{name}.csv")
