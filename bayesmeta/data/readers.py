"""The front-door readers: the table type is chosen from the columns, never from the file name.

:func:`read_table` returns a validated table (:mod:`bayesmeta.data.tables`); :func:`read_csv`
goes one step further and returns the :class:`~bayesmeta.effects.table.EffectTable` every
estimator takes. The CSV vocabulary (every column, its type and meaning) is documented in
``docs/data-format.md``:

==========================  =============================================================
type                        recognised by the columns
==========================  =============================================================
``continuous_arms``         ``arm`` with ``mean`` (one row per arm: n, mean, sd)
``binary_arms``             ``arm`` with ``events`` (one row per arm: events, n)
``continuous_studies``      ``m1i`` (one row per study: m1i, sd1i, n1i, m2i, sd2i, n2i)
``binary_studies``          ``ai`` (one row per study: ai, n1i or bi, ci, n2i or di)
``contrasts``               ``yi`` or ``estimate`` (yi with vi or sei; estimate with se or CI)
``published``               ``analysis`` with ``estimate`` (published pooled results)
``studies``                 ``n_total`` with ``author`` (study characteristics)
==========================  =============================================================

Every problem is reported at once as a :class:`~bayesmeta.errors.DataError` naming the file, the
line and the column.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.data import tables
from bayesmeta.data.tables import ArmTable, Table, Vocabulary
from bayesmeta.effects.measures import MEASURES, get_measure
from bayesmeta.effects.table import EffectTable
from bayesmeta.errors import DataError, Problem

__all__ = ["TYPES", "detect_type", "read_csv", "read_table", "to_effects"]

#: Table types and the columns that identify them (checked in this order).
TYPES: dict[str, tuple[str, ...]] = {
    "published": ("analysis", "estimate"),
    "studies": ("n_total", "author"),
    "binary_arms": ("arm", "events"),
    "continuous_arms": ("arm", "mean"),
    "binary_studies": ("ai",),
    "continuous_studies": ("m1i",),
    "contrasts": ("yi",),
}
_DOC = "see docs/data-format.md"


def detect_type(columns: Iterable[str], file: str = "<data>") -> str:
    """The table type for a header (see the module table).

    Parameters
    ----------
    columns : iterable of str
        The header's column names.
    file : str
        File name used in the error message.

    Returns
    -------
    str
        One of :data:`TYPES`.

    Raises
    ------
    DataError
        When no type matches, naming the columns found and the closest known column names.

    Examples
    --------
    >>> detect_type(["study", "ai", "n1i", "ci", "n2i"])
    'binary_studies'
    >>> detect_type(["study", "estimate", "ci_lb", "ci_ub"])
    'contrasts'
    """
    cols = {c.strip() for c in columns}
    for kind, need in TYPES.items():
        if set(need) <= cols:
            return kind
    if "estimate" in cols:
        return "contrasts"
    known = sorted({c.name for cs in tables.SCHEMAS.values() for c in cs})
    hints = []
    for c in sorted(cols):
        m = difflib.get_close_matches(c, known, n=1, cutoff=0.75)
        if m and m[0] != c:
            hints.append(f"'{c}' -> '{m[0]}'?")
    lower = {c.lower() for c in cols} - cols
    if lower & set(known):
        hints.append("column names are case-sensitive (use lower case)")
    hint = f" Possible fixes: {'; '.join(hints)}." if hints else ""
    raise DataError(
        Problem(
            file,
            1,
            None,
            f"cannot tell the data type from the columns {', '.join(sorted(cols))}: expected "
            "arm-level rows (arm with mean, sd, n or with events, n), one row per study "
            "(m1i, sd1i, n1i, m2i, sd2i, n2i or ai, n1i, ci, n2i) or contrasts (yi with vi or "
            f"sei; estimate with se or ci_lb, ci_ub); {_DOC}, or pass type=.{hint}",
        )
    )


def _header(path: Path) -> list[str]:
    raw, _ = tables._read_csv(path)
    return [c for c in raw.columns if c != "_line"]


def read_table(
    path: str | Path,
    type: str | None = None,
    vocabulary: Any = None,
    experimental: str | None = None,
    control: str | None = None,
) -> Table:
    """Read and validate a CSV; its type comes from ``type`` or from its columns.

    Parameters
    ----------
    path : str or Path
    type : str, optional
        One of :data:`TYPES`; by default chosen from the header (never from the file name).
    vocabulary : Vocabulary or path, optional
        Allowed outcome/time-point labels and arm labels (default: ``vocabulary.toml`` next to
        the file, if there is one).
    experimental, control : str, optional
        Arm labels of arm-level files (override the vocabulary).

    Returns
    -------
    Table
        An :class:`~bayesmeta.data.tables.ArmTable` for arm-level files.
    """
    path = Path(path)
    if type is None:
        type = detect_type(_header(path), str(path))
    elif type not in TYPES:
        close = difflib.get_close_matches(str(type), list(TYPES), n=1)
        raise ValueError(
            f"unknown table type {type!r}"
            + (f" (did you mean {close[0]!r}?)" if close else "")
            + f"; one of {', '.join(TYPES)}"
        )
    if type in ("continuous_arms", "binary_arms"):
        reader = tables.read_continuous_arms if type == "continuous_arms" else tables.read_binary_arms
        return reader(path, vocabulary, experimental=experimental, control=control)
    return tables.read_table(path, type, vocabulary)


def read_csv(
    path: str | Path,
    *,
    measure: str | None = None,
    type: str | None = None,
    outcome: str | None = None,
    timepoint: str | None = None,
    vocabulary: Any = None,
    experimental: str | None = None,
    control: str | None = None,
) -> EffectTable:
    """Read a CSV of study data and return its :class:`~bayesmeta.effects.table.EffectTable`.

    Parameters
    ----------
    path : str or Path
        A CSV in the vocabulary of ``docs/data-format.md``.
    measure : str, optional
        Effect measure. Required for arm-level data (``SMD``, ``SMD_revman``, ``MD`` for
        continuous; ``RR``, ``OR``, ``RD`` for binary); for contrasts it defaults to the file's
        ``measure`` column, else ``GEN``.
    type : str, optional
        Table type (:data:`TYPES`); by default chosen from the columns.
    outcome, timepoint : str, optional
        Select one outcome (required when the file holds several) or one time point (when not
        given, rows of several time points are kept with a ``timepoint`` column).
    vocabulary, experimental, control
        As for :func:`read_table`.

    Returns
    -------
    EffectTable

    Examples
    --------
    >>> from pathlib import Path
    >>> import bayesmeta as bm
    >>> bcg = Path(bm.__file__).parents[1] / "data" / "colditz1994" / "binary_arms.csv"
    >>> es = bm.read_csv(bcg, measure="RR")
    >>> es.k, es.measure
    (13, 'RR')
    """
    path = Path(path)
    table = read_table(path, type, vocabulary, experimental, control)
    return to_effects(table, measure=measure, outcome=outcome, timepoint=timepoint)


def _select(frame: pd.DataFrame, column: str, value: str | None, file: str, required: bool) -> pd.DataFrame:
    if column not in frame:
        if value is not None:
            raise DataError(
                Problem(
                    file, 1, column, f"{column}={value!r} was asked for, but the file has no {column} column"
                )
            )
        return frame
    present = list(dict.fromkeys(frame[column].dropna().astype(str)))
    if value is None:
        if required and len(present) > 1:
            raise DataError(
                Problem(
                    file,
                    None,
                    column,
                    f"the file holds several {column}s ({', '.join(present)}); choose one with {column}=...",
                )
            )
        return frame
    if value not in present:
        raise DataError(
            Problem(file, None, column, f"no rows with {column} {value!r}; present: {', '.join(present)}")
        )
    return frame[frame[column].astype(str) == value]


def _moderators(frame: pd.DataFrame, kind: str) -> dict[str, tuple]:
    known = {c.name for c in tables.SCHEMAS[kind]}
    out = {}
    for c in frame.columns:
        if c in known or c.startswith("_"):
            continue
        vals = frame[c]
        num = pd.to_numeric(vals, errors="coerce")
        out[c] = tuple(num.tolist()) if num.notna().all() else tuple(vals.astype(str).tolist())
    return out


def _common(frame: pd.DataFrame) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    for col in ("timepoint", "subgroup"):
        if col in frame and frame[col].notna().all() and frame[col].astype(str).nunique() > 1:
            kw[col] = frame[col].astype(str).tolist()
    return kw


def to_effects(
    table: Table, *, measure: str | None = None, outcome: str | None = None, timepoint: str | None = None
) -> EffectTable:
    """The EffectTable of a validated table.

    Parameters
    ----------
    table : Table
        From :func:`read_table`.
    measure, outcome, timepoint
        As for :func:`read_csv`.

    Returns
    -------
    EffectTable
    """
    f = str(table.path)
    kind = table.kind
    source = f"{f} (sha256 {table.sha256[:12]}; {kind})"
    if kind in ("published", "studies"):
        raise DataError(
            Problem(
                f, None, None, f"a {kind} table holds no study effects; read it with bayesmeta.read_table"
            )
        )
    frame = table.frame
    frame = _select(frame, "outcome", outcome, f, required=True)
    frame = _select(frame, "timepoint", timepoint, f, required=False)
    if kind == "contrasts":
        return _contrasts(frame, measure, f, source)
    m = _arm_measure(measure, kind, f)
    notes: list[str] = []
    if isinstance(table, ArmTable):
        wide = table.complete()
        keep = wide["outcome"].isin(frame["outcome"]) & wide["timepoint"].isin(frame["timepoint"])
        wide = wide[keep].reset_index(drop=True)
        miss = table.missing()
        miss = miss[miss["outcome"].isin(frame["outcome"]) & miss["timepoint"].isin(frame["timepoint"])]
        for (s, tp), g in miss.groupby(["study", "timepoint"], sort=False):
            notes.append(
                f"{s} ({tp}): {', '.join(sorted(set(g['field'])))} missing ({g['reason'].iat[0]}), left out"
            )
        if "subgroup" in frame:
            sg = frame.drop_duplicates(["study", "timepoint"]).set_index(["study", "timepoint"])["subgroup"]
            wide["subgroup"] = [sg.get((s, t)) for s, t in zip(wide["study"], wide["timepoint"])]
        if wide.empty:
            raise DataError(
                Problem(
                    f,
                    None,
                    None,
                    f"no study has complete data for both arms ({len(notes)} left out for missing values)",
                )
            )
        if m.data == "continuous":
            arrays = {
                "m1i": wide["mean_e"],
                "sd1i": wide["sd_e"],
                "n1i": wide["n_e"],
                "m2i": wide["mean_c"],
                "sd2i": wide["sd_c"],
                "n2i": wide["n_c"],
            }
        else:
            arrays = {"ai": wide["events_e"], "n1i": wide["n_e"], "ci": wide["events_c"], "n2i": wide["n_c"]}
        source += f"; arms {table.experimental!r} (experimental) vs {table.control!r} (control)"
        mods: dict[str, tuple] = {}
    else:
        wide = frame.reset_index(drop=True)
        names = tables.SCHEMAS[kind]
        cols = [c.name for c in names if c.name in wide and c.name[-1] == "i" and c.name != "study"]
        arrays = {c: wide[c] for c in cols}
        mods = _moderators(wide, kind)
    arrays = {k: np.asarray(pd.to_numeric(v), dtype=float) for k, v in arrays.items()}
    try:
        return EffectTable.from_arms(
            m.code,
            study=wide["study"].astype(str).tolist(),
            source=source,
            notes=tuple(notes),
            moderators=mods,
            **_common(wide),
            **arrays,
        )
    except ValueError as e:
        raise DataError(Problem(f, None, None, str(e))) from None


def _arm_measure(measure: str | None, kind: str, f: str):
    data = "continuous" if kind.startswith("continuous") else "binary"
    allowed = ", ".join(c for c, mm in MEASURES.items() if mm.data == data)  # the measures registry
    if measure is None:
        raise DataError(
            Problem(
                f,
                None,
                None,
                f"{kind.replace('_', ' ')} data need an effect measure: pass measure= (one of {allowed})",
            )
        )
    try:
        m = get_measure(measure)
    except ValueError as e:
        raise DataError(Problem(f, None, None, str(e))) from None
    if m.data != data:
        raise DataError(
            Problem(f, None, None, f"measure {m.code} does not fit {data} data; use one of {allowed}")
        )
    return m


def _contrasts(frame: pd.DataFrame, measure: str | None, f: str, source: str) -> EffectTable:
    frame = frame.reset_index(drop=True)
    codes = (
        [get_measure(str(v)).code if pd.notna(v) else None for v in frame["measure"]]
        if "measure" in frame
        else [None] * len(frame)
    )
    if measure is not None:
        try:
            want = get_measure(measure).code
        except ValueError as e:
            raise DataError(Problem(f, None, "measure", str(e))) from None
        if any(c is not None for c in codes):
            if want not in codes:
                raise DataError(
                    Problem(
                        f,
                        None,
                        "measure",
                        f"no rows with measure {want}; present: {', '.join(sorted({c for c in codes if c}))}",
                    )
                )
            frame = frame[[c in (want, None) for c in codes]].reset_index(drop=True)
    else:
        present = sorted({c for c in codes if c})
        if len(present) > 1:
            raise DataError(
                Problem(
                    f,
                    None,
                    "measure",
                    f"the file holds several measures ({', '.join(present)}); choose one with measure=...",
                )
            )
        want = present[0] if present else "GEN"
    m = get_measure(want)
    yi, vi = np.empty(len(frame)), np.empty(len(frame))
    has = lambda c, i: c in frame and pd.notna(frame[c].iat[i])
    for i in range(len(frame)):
        if has("yi", i):
            yi[i] = frame["yi"].iat[i]
            vi[i] = (
                frame["vi"].iat[i] if has("vi", i) else (frame["sei" if has("sei", i) else "se"].iat[i]) ** 2
            )
            continue
        scale = tables._SCALES[str(frame["scale"].iat[i]).lower()] if has("scale", i) else "reported"
        est = float(frame["estimate"].iat[i])
        if has("se", i):
            yi[i] = float(m.to_analysis(est)) if scale == "reported" else est
            vi[i] = float(frame["se"].iat[i]) ** 2
        else:
            level = float(frame["ci_level"].iat[i]) if has("ci_level", i) else 0.95
            y, s = m.ci_to_analysis(
                est, float(frame["ci_lb"].iat[i]), float(frame["ci_ub"].iat[i]), level, scale
            )
            yi[i], vi[i] = y, s**2
    try:
        return EffectTable.from_yi_vi(
            yi,
            vi,
            study=frame["study"].astype(str).tolist(),
            measure=m.code,
            source=source,
            moderators=_moderators(frame, "contrasts"),
            **_common(frame),
        )
    except ValueError as e:
        raise DataError(Problem(f, None, None, str(e))) from None


def vocabulary(path: str | Path) -> Vocabulary:
    """Load a ``vocabulary.toml`` (allowed outcome/time-point labels and the arm labels)."""
    return Vocabulary.load(path)
