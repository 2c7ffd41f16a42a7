"""The one entry point: the file's format from its suffix and content, then the matching reader."""

from __future__ import annotations

from pathlib import Path

from bayesmeta.data.revman.model import Review
from bayesmeta.errors import DataError, Problem

__all__ = ["REVMAN_SUFFIXES", "is_revman_file", "read_revman"]

REVMAN_SUFFIXES = (".rm5", ".csv", ".zip")


def read_revman(path: str | Path) -> Review:
    """Read a RevMan review: a RevMan 5 file, its analysis CSV export, or a Cochrane data package.

    Parameters
    ----------
    path : str or Path
        ``.rm5`` (RevMan 5 XML), ``.csv`` (RevMan 5 "export analysis data", the file meta's
        ``read.rm5`` reads) or ``.zip`` (the Cochrane Library's data package of a review, RevMan
        Web; also a zip holding it, as meta's ``read.cdir`` reads).

    Returns
    -------
    Review
        Frozen; every analysis with its settings, labels, study rows and RevMan's stored results,
        each value with its source. ``Review[...]`` takes an analysis number (``"1.2"``);
        :meth:`Analysis.effect_table` gives the EffectTable every estimator takes.

    Raises
    ------
    DataError
        A file that is not RevMan's, a zip without the data package's files, a CSV with unknown
        columns; the message names the file and the line, element or column.

    Examples
    --------
    >>> import bayesmeta as bm
    >>> rev = bm.read_revman("data/fleiss1993/Fleiss1993.rm5")
    >>> [a.id for a in rev], rev["1.1"].settings.describe()
    (['1.1', '1.2'], 'MH, fixed effect, OR (dichotomous; totals)')
    """
    path = Path(path)
    if not path.exists():
        raise DataError(Problem(str(path), None, None, "file not found"))
    if not path.is_file():
        raise DataError(Problem(str(path), None, None, "is not a file"))
    suffix = path.suffix.lower()
    with open(path, "rb") as fh:
        head = fh.read(8)
    if suffix == ".zip" or head.startswith(b"PK\x03\x04"):
        from bayesmeta.data.revman.data_package import read_data_package

        return read_data_package(path)
    if suffix == ".rm5" or head.lstrip().startswith(b"<?xml") or head.lstrip().startswith(b"<"):
        from bayesmeta.data.revman.rm5 import read_rm5

        return read_rm5(path)
    if suffix == ".csv":
        from bayesmeta.data.revman.analysis_csv import read_analysis_csv

        return read_analysis_csv(path)
    raise DataError(
        Problem(
            str(path),
            None,
            None,
            f"not a RevMan file: expected .rm5 (RevMan 5), .csv (RevMan 5 analysis export) or .zip "
            f"(Cochrane data package), got {suffix or 'no suffix'}",
        )
    )


def is_revman_file(path: str | Path) -> bool:
    """A RevMan file by suffix (``.rm5``, ``.zip``) or, for a CSV, by RevMan's export header."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".rm5", ".zip"):
        return True
    if suffix != ".csv" or not path.is_file():
        return False
    with open(path, "rb") as fh:
        head = fh.read(4096).decode("utf-8-sig", errors="replace").splitlines()[:1]
    first = head[0].casefold().replace(" ", "") if head else ""
    return first.startswith("comparisonnumber,") or "comparisonnumber,outcomenumber" in first
