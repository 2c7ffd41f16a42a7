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
                    file,
                    1,
                    column,
                    f"{column}={value!r} was asked for, but the file has no {column} column: leave the "
                    f"{column} out (the whole file is one {column}) or add the column",
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
        close = [p for p in present if p.lower() == value.lower()] or difflib.get_close_matches(value, present, n=1)
        raise DataError(
            Problem(
                file,
                None,
                column,
                f"{value!r} is not a {column} of the file (it has: {', '.join(present)})"
                + (f"; did you mean {close[0]!r}?" if close else ""),
            )
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


def _names(labels, n: int = 6) -> str:
    labels = list(map(str, labels))
    return ", ".join(labels[:n]) + (f" and {len(labels) - n} more" if len(labels) > n else "")


def no_information(ai, n1i, ci, n2i, labels, measure: str) -> str | None:
    """Why binary data carry no information on ``measure``, or ``None``.

    Every study without events in either arm (or with events in every participant of both arms):
    any pooled ratio or difference would come from the continuity correction alone (e.g. "RR 1.04
    [0.29, 3.64]" from 0.5 added to every cell), never from the data.
    """
    ai, n1i, ci, n2i = (np.asarray(x, float) for x in (ai, n1i, ci, n2i))
    if not len(ai):
        return None
    if np.all((ai == 0) & (ci == 0)):
        what = "no events in any arm"
        fix = ("check that the column holds events (not non-events or percentages); with no events at all "
               "there is nothing to pool: report the counts")
    elif np.all((ai == n1i) & (ci == n2i)):
        what = "every participant had the event in every arm"
        fix = "check that the column holds events, not participants"
    else:
        return None
    return (
        f"{what} of the {len(ai)} studies ({_names(labels)}): {measure} cannot be estimated (a pooled "
        f"result would come from the 0.5 continuity correction alone); {fix}"
    )


def zero_cell_note(ai, n1i, ci, n2i, labels, measure: str, zero_rule: str = "metafor") -> str | None:
    """The zero-cell rule applied to binary data, in one sentence (``None`` without zero cells).

    ``zero_rule="metafor"`` (the default for every input shape): metafor's ``escalc`` defaults
    ``add=1/2, to="only0", drop00=FALSE``; ``"revman"`` (the ``revman5``/``revman2025`` presets):
    the same correction, double-zero studies left out of RR and OR.
    """
    from bayesmeta.effects.escalc import double_zero, zero_cell

    ai, n1i, ci, n2i = (np.asarray(x, float) for x in (ai, n1i, ci, n2i))
    labels = [str(x) for x in labels]
    zc = np.asarray(zero_cell(ai, n1i, ci, n2i), bool)
    if not zc.any():
        return None
    dz = np.asarray(double_zero(ai, n1i, ci, n2i), bool)
    rule = (
        "metafor's escalc defaults add = 1/2, to = 'only0', drop00 = FALSE"
        if zero_rule == "metafor"
        else "RevMan's rule (preset)"
    )
    text = (
        f"Zero cells ({rule}): 0.5 added to every cell of the {int(zc.sum())} "
        f"stud{'y' if zc.sum() == 1 else 'ies'} with a zero cell ({_names([x for x, z in zip(labels, zc) if z])})"
    )
    if dz.any():
        names = _names([x for x, z in zip(labels, dz) if z])
        dropped = zero_rule == "revman" and get_measure(measure).code in ("RR", "OR")
        text += (
            f"; {int(dz.sum())} double-zero stud{'y' if dz.sum() == 1 else 'ies'} ({names}) "
            + (f"left out of the {measure} analyses" if dropped else "kept")
        )
    return text


def to_effects(
    table: Table, *, measure: str | None = None, outcome: str | None = None, timepoint: str | None = None
) -> EffectTable:
    """The EffectTable of a validated table.

    Arm-level and one-row-per-study tables go through the same path (:func:`tables.studies_as_arms`):
    studies with a missing value are left out with a note, other arms of multi-arm trials are left
    out with a note, zero cells follow metafor's rule (:func:`zero_cell_note`, also a note), and
    binary data without any events are refused (:func:`no_information`).

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
        lines = [table.lines[i] for i in frame.index] if table.lines else [None] * len(frame)
        return _contrasts(frame, measure, f, source, lines)
    m = _arm_measure(measure, kind, f)
    mods: dict[str, tuple] = {}
    studies_frame = None
    if not isinstance(table, ArmTable):
        studies_frame = frame.reset_index(drop=True)
        table = tables.studies_as_arms(table)
    notes: list[str] = list(table.notes)
    long = table.frame
    sel = long["study"].isin(frame["study"])
    for col in ("outcome", "timepoint"):
        if col in frame:
            sel &= long[col].isin(frame[col])
    wide = table.complete()
    keep = wide["study"].isin(long.loc[sel, "study"]) & wide["outcome"].isin(long.loc[sel, "outcome"])
    keep &= wide["timepoint"].isin(long.loc[sel, "timepoint"])
    wide = wide[keep].reset_index(drop=True)
    miss = table.missing()
    miss = miss[miss["study"].isin(long.loc[sel, "study"]) & miss["outcome"].isin(long.loc[sel, "outcome"])
                & miss["timepoint"].isin(long.loc[sel, "timepoint"])]
    for (s_, tp), g in miss.groupby(["study", "timepoint"], sort=False):
        at = "" if tp == "all" else f" ({tp})"
        notes.append(f"{s_}{at}: {', '.join(sorted(set(g['field'])))} missing ({'; '.join(dict.fromkeys(map(str, g['reason'])))}), left out")
    if "subgroup" in long:
        sg = long.drop_duplicates(["study", "timepoint"]).set_index(["study", "timepoint"])["subgroup"]
        wide["subgroup"] = [sg.get((s_, t)) for s_, t in zip(wide["study"], wide["timepoint"])]
    if wide.empty:
        raise DataError(
            Problem(
                f,
                None,
                None,
                f"no study has complete data for both arms ({len(notes)} left out: "
                + "; ".join(notes[:3]) + ")",
            )
        )
    if studies_frame is not None:
        pos = {(str(s_), str(t)): i for i, (s_, t) in enumerate(zip(
            studies_frame["study"], studies_frame["timepoint"] if "timepoint" in studies_frame else ["all"] * len(studies_frame)))}
        idx = [pos[(str(s_), str(t))] for s_, t in zip(wide["study"], wide["timepoint"])]
        mods = _moderators(studies_frame.iloc[idx].reset_index(drop=True), kind)
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
    if kind.endswith("_arms"):
        source += f"; arms {table.experimental!r} (experimental) vs {table.control!r} (control)"
    arrays = {k: np.asarray(pd.to_numeric(v), dtype=float) for k, v in arrays.items()}
    labels = wide["study"].astype(str).tolist()
    if m.data == "binary":
        why = no_information(arrays["ai"], arrays["n1i"], arrays["ci"], arrays["n2i"], labels, m.code)
        if why:
            raise DataError(Problem(f, None, "events" if kind.endswith("_arms") else "ai,ci", why))
        zn = zero_cell_note(arrays["ai"], arrays["n1i"], arrays["ci"], arrays["n2i"], labels, m.code)
        if zn:
            notes.append(zn)
    try:
        return EffectTable.from_arms(
            m.code,
            study=labels,
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


def _contrasts(frame: pd.DataFrame, measure: str | None, f: str, source: str, lines=None) -> EffectTable:
    lines = list(lines) if lines is not None else [None] * len(frame)
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
            keep = [c in (want, None) for c in codes]
            lines = [ln for ln, k in zip(lines, keep) if k]
            frame = frame[keep].reset_index(drop=True)
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
    cell = tables._Cells(frame)
    has = cell.has
    problems: list[Problem] = []
    for i in range(len(frame)):
        if has("yi", i):
            yi[i] = cell("yi", i)
            vi[i] = (
                cell("vi", i) if has("vi", i) else (cell("sei" if has("sei", i) else "se", i)) ** 2
            )
            continue
        scale = tables._SCALES[str(cell("scale", i)).lower()] if has("scale", i) else "reported"
        est = float(cell("estimate", i))
        level = float(cell("ci_level", i)) if has("ci_level", i) else 0.95
        if m.ratio:
            lb = float(cell("ci_lb", i)) if has("ci_lb", i) else float("nan")
            ub = float(cell("ci_ub", i)) if has("ci_ub", i) else float("nan")
            written = str(cell("scale", i)) if has("scale", i) else "reported"
            bad = tables.ratio_scale_problem(est, lb, ub, scale, m, written)
            if bad is not None:
                problems.append(Problem(f, lines[i], bad[0], bad[1]))
                continue
        try:  # the measure's transform (Fisher z, logit, ...) may refuse a value out of its range
            if has("se", i):
                yi[i] = float(m.to_analysis(est)) if scale == "reported" else est
                vi[i] = float(cell("se", i)) ** 2
            else:
                y, s_ = m.ci_to_analysis(
                    est, float(cell("ci_lb", i)), float(cell("ci_ub", i)), level, scale
                )
                yi[i], vi[i] = y, s_**2
        except ValueError as e:
            problems.append(Problem(f, lines[i], "estimate", f"{e} (on the reported scale of {m.code}; for "
                                    "values on the analysis scale add a column scale = analysis)"))
    if problems:
        raise DataError(problems)
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
