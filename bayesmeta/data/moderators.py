"""Study-level moderators for meta-regression, read from a study table (one row per study).

A study table is a CSV with a ``study`` column (the labels of the effect rows), a ``source``
column (where each row's values come from) and any number of characteristic columns. The spec's
``[[study_level]]`` block names the moderators (``moderators = ["ablat"]``) and the table
(``study_table``, default ``studies.csv``). A moderator column is **continuous** when every value
is a number and **categorical** otherwise (or when listed in ``categorical``); a categorical
moderator is coded as 0/1 indicators of every level but the reference level, which is the first
level in sorted order (as R's ``factor()``, so that the coefficients are metafor's) and is named
in the result and the report.

Missing cells are allowed in the table (a characteristic the paper does not report is missing,
not guessed): :func:`moderator_values` returns them as missing, and :func:`moderator_frame` (the
values a meta-regression uses) refuses them with one problem per cell, naming file, line and
column. A column that holds both numbers and text is refused too (a typo in a number, or a
categorical column that should be declared ``categorical``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bayesmeta.errors import DataError, Problem

__all__ = ["Moderator", "read_study_table", "moderator_values", "moderator_frame"]

_MISSING = ("", "NA", "N/A", "NAN")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Moderator:
    """One moderator as a meta-regression uses it.

    ``kind`` is ``"continuous"`` or ``"categorical"``; ``levels`` (categorical) are in sorted
    order, the first being the reference level; ``columns`` are the design-matrix column names
    (``"ablat"``, or ``"alloc[random]"`` per non-reference level).
    """

    name: str
    kind: str
    levels: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()

    @property
    def reference(self) -> str | None:
        return self.levels[0] if self.levels else None


def read_study_table(path) -> pd.DataFrame:
    """The study table as text (``_line`` = line in the file), checked for ``study`` and ``source``.

    Raises
    ------
    DataError
        File missing or unreadable, no ``study`` or ``source`` column, an empty or repeated study.
    """
    from bayesmeta.data.tables import _read_csv

    path = Path(path)
    df, _ = _read_csv(path)
    f = str(path)
    problems = []
    data_file = bool({"arm", "m1i", "ai", "yi", "estimate"} & set(df.columns))
    if data_file:  # the analysed data file itself (`bayesmeta analyse --mods`): rows carry their own source
        if "source" not in df.columns:
            df["source"] = [f"{path.name}, line {line}" for line in df["_line"]]
        return _one_row_per_study(df, f)
    for col in ("study", "source"):
        if col not in df.columns:
            problems.append(
                Problem(f, 1, col, "required column is missing (one row per study: study, source, characteristics)")
            )
    if problems:
        raise DataError(problems)
    df = df.copy()
    for c in df.columns:
        if c != "_line":
            df[c] = df[c].str.strip()
    seen: dict[str, int] = {}
    for s, line, src in zip(df["study"], df["_line"], df["source"]):
        if not s:
            problems.append(Problem(f, int(line), "study", "empty; every row names its study"))
        elif s in seen:
            problems.append(Problem(f, int(line), "study", f"{s!r} repeats line {seen[s]}: one row per study"))
        else:
            seen[s] = int(line)
        if not src:
            problems.append(Problem(f, int(line), "source", "empty; say where the row's values come from"))
    if problems:
        raise DataError(problems)
    return df


def _one_row_per_study(df: pd.DataFrame, f: str) -> pd.DataFrame:
    """A data file (arm rows, time points) as one row per study; ``attrs["varies"]`` names the
    columns whose value differs between the rows of a study (refused as moderators)."""
    df = df.copy()
    for c in df.columns:
        if c != "_line":
            df[c] = df[c].str.strip()
    varies: dict[str, list[str]] = {}
    for c in df.columns:
        if c in ("_line", "source", "study"):
            continue
        n = df.groupby("study", sort=False)[c].nunique()
        if (n > 1).any():
            varies[c] = [str(x) for x in n[n > 1].index]
    out = df.drop_duplicates("study", keep="first").reset_index(drop=True)
    out.attrs["varies"] = varies
    out.attrs["file"] = f
    return out


def _is_missing(v: str) -> bool:
    return v.strip().upper() in _MISSING


def _describe(
    df: pd.DataFrame, name: str, categorical: bool, f: str, problems: list[Problem], key: str
) -> Moderator:
    vals = [v for v in df[name] if not _is_missing(v)]
    numeric = [bool(_NUMBER.fullmatch(v)) for v in vals]
    if categorical or not any(numeric):
        levels = tuple(sorted(set(vals)))
        return Moderator(name, "categorical", levels, tuple(f"{name}[{lev}]" for lev in levels[1:]))
    if not all(numeric):
        for v, line in zip(df[name], df["_line"]):
            if not _is_missing(v) and not _NUMBER.fullmatch(v):
                problems.append(
                    Problem(
                        f,
                        int(line),
                        name,
                        f"{v!r} is not a number, but the column's other values are: write a number "
                        "(decimal point, no units), or leave it empty if unknown; for a categorical "
                        f"moderator list it in the spec's {key.rsplit('.', 1)[0]}.categorical",
                    )
                )
    return Moderator(name, "continuous", (), (name,))


def moderator_values(
    path, moderators, categorical=(), *, spec_file: str = "", key: str = "moderators"
) -> tuple[pd.DataFrame, tuple[Moderator, ...]]:
    """Moderator columns of the study table, missing cells as NaN/None (nothing refused for being missing).

    Returns
    -------
    values : pandas.DataFrame
        Indexed by study: one column per moderator (float for continuous, str/None for
        categorical), plus ``_line`` and ``source``.
    mods : tuple of Moderator
    """
    path = Path(path)
    df = read_study_table(path)
    f = str(path)
    problems = []
    cols = [c for c in df.columns if c not in ("_line",)]
    for m in (*moderators, *categorical):
        if m not in df.columns or m in ("study", "source", "_line"):
            close = difflib.get_close_matches(m, [c for c in cols if c not in ("study", "source")], n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                Problem(
                    spec_file or f,
                    None,
                    key if m in moderators else key.rsplit(".", 1)[0] + ".categorical",
                    f"{m!r} is not a moderator column of {path.name} (its columns: "
                    f"{', '.join(c for c in cols if c not in ('study', 'source'))}){hint}",
                )
            )
    for m in categorical:
        if m not in moderators:
            problems.append(
                Problem(
                    spec_file or f,
                    None,
                    key.rsplit(".", 1)[0] + ".categorical",
                    f"{m!r} is declared categorical but is not in {key}: add it there or remove it here",
                )
            )
    for m in moderators:
        if m in df.attrs.get("varies", {}):
            studies = df.attrs["varies"][m]
            problems.append(
                Problem(
                    f,
                    None,
                    m,
                    f"differs between the rows of {', '.join(map(repr, studies[:3]))}: a moderator is a study "
                    "characteristic, one value per study (the same on every arm and time point row)",
                )
            )
    if problems:
        raise DataError(problems)
    mods = tuple(_describe(df, m, m in categorical, f, problems, key) for m in moderators)
    if problems:
        raise DataError(problems)
    out = pd.DataFrame(index=pd.Index(df["study"], name="study"))
    for m in mods:
        raw = df[m.name].to_numpy()
        if m.kind == "continuous":
            out[m.name] = [np.nan if _is_missing(v) else float(v) for v in raw]
        else:
            out[m.name] = [None if _is_missing(v) else v for v in raw]
    out["_line"] = df["_line"].to_numpy()
    out["source"] = df["source"].to_numpy()
    return out, mods


def moderator_frame(
    path,
    moderators,
    studies,
    categorical=(),
    *,
    spec_file: str = "",
    key: str = "moderators",
) -> tuple[pd.DataFrame, tuple[Moderator, ...]]:
    """The moderators of the analysed ``studies``, in their order, every value present.

    Parameters
    ----------
    path : path of the study table
    moderators : sequence of str
        Columns of the study table.
    studies : sequence of str
        Labels of the studies of the analysis (the effect rows); each needs a row.
    categorical : sequence of str
        Moderators to treat as categorical even when their values are numbers.
    spec_file, key : str
        The spec file and key named in problems about the moderator names.

    Returns
    -------
    frame : pandas.DataFrame
        One row per study of ``studies`` (in that order), one column per moderator; categorical
        columns as :class:`pandas.Categorical` with the sorted levels (the first is the reference).
    mods : tuple of Moderator

    Raises
    ------
    DataError
        Unknown moderator (with the closest column), mixed numbers and text, a study without a
        row, a missing value (each naming file, line and column).
    """
    path = Path(path)
    values, mods = moderator_values(path, moderators, categorical, spec_file=spec_file, key=key)
    f = str(path)
    studies = [str(s) for s in studies]
    problems = []
    absent = [s for s in studies if s not in values.index]
    if absent:
        close = {s: difflib.get_close_matches(s, list(values.index), n=1, cutoff=0.6) for s in absent}
        problems.append(
            Problem(
                f,
                None,
                "study",
                f"no row for {len(absent)} analysed "
                f"{'study' if len(absent) == 1 else 'studies'}: "
                + "; ".join(f"{s!r}" + (f" (did you mean {close[s][0]!r}?)" if close[s] else "") for s in absent)
                + ": add one row per study with the same label as the effect rows",
            )
        )
    for s in studies:
        if s not in values.index:
            continue
        for m in mods:
            v = values.at[s, m.name]
            if v is None or (isinstance(v, float) and np.isnan(v)):
                problems.append(
                    Problem(
                        f,
                        int(values.at[s, "_line"]),
                        m.name,
                        f"empty for {s!r}, which the meta-regression on {m.name!r} analyses: fill it in "
                        f"(with its source) or remove {m.name!r} from the spec's {key}",
                    )
                )
    if problems:
        raise DataError(problems)
    sub = values.loc[studies]
    frame = pd.DataFrame(index=pd.Index(studies, name="study"))
    final = []
    for m in mods:
        if m.kind == "continuous":
            frame[m.name] = sub[m.name].to_numpy(float)
            final.append(m)
        else:
            levels = tuple(sorted(set(sub[m.name])))
            frame[m.name] = pd.Categorical(sub[m.name].to_numpy(), categories=list(levels))
            final.append(Moderator(m.name, "categorical", levels, tuple(f"{m.name}[{lev}]" for lev in levels[1:])))
    frame["source"] = sub["source"].to_numpy()
    return frame, tuple(final)
