"""Validated, immutable tables with provenance.

Each reader parses one CSV, checks it against its schema and returns a frozen table whose
DataFrame is a read-only copy. Every problem found (missing column, wrong type, impossible value,
an arm without its partner, duplicate keys, an unknown outcome or time label, an unreadable
file) is collected and raised at once as a :class:`~bayesmeta.errors.DataError` naming the file,
the line (as an editor shows it: the header is line 1) and the column. Input files are only read.

Missing values: a value cell that is empty or says ``NA``, ``N/A``, ``n/a``, ``-``, ``NR`` or
``not reported`` (any case; :data:`MISSING_TEXTS`) is missing, as is every value of a row marked
``status = missing`` (with a ``missing_reason``). Rows with a missing value are listed by
:meth:`ArmTable.missing` (with the reason: the row's ``missing_reason``, else what the cell said)
and left out of :meth:`ArmTable.complete`; the analyses say which studies were left out and why.
One-row-per-study files are read into the same :class:`ArmTable` (:func:`studies_as_arms`), so
every input shape has the same missing-value and zero-cell rules. Every row carries a ``source``
(document and location) when the file has that column.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import itertools
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.effects.measures import get_measure
from bayesmeta.errors import DataError, Problem

#: Arm labels understood without a vocabulary (any other labels are named in ``vocabulary.toml``).
GENERIC_ARMS = ("experimental", "control")
_OPT = {"required": False, "nullable": True}


#: Cell texts read as a missing value in numeric columns (compared in lower case). ``nan`` is not
#: among them: it is refused as "not a number" (a spreadsheet's export of an error, not a choice).
MISSING_TEXTS = frozenset({"", "na", "n/a", "-", "\u2013", "\u2014", "nr", "not reported"})


#: Largest magnitude accepted in a numeric column: squares and sums of squares must stay finite
#: (an SD of 1e300 would overflow the pooled SD and give SMD = -0.0 without a word).
MAX_ABS = 1e100


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "str", "int", "float", "bool"
    required: bool = True
    nullable: bool = False  # may be empty when status == missing
    positive: bool = False
    minimum: float | None = None


SCHEMAS: dict[str, tuple[Column, ...]] = {
    "continuous_arms": (
        Column("study", "str"),
        Column("outcome", "str", required=False),
        Column("timepoint", "str", required=False),
        Column("arm", "str"),
        Column("n", "int", nullable=True, minimum=1),
        Column("mean", "float", nullable=True),
        Column("sd", "float", nullable=True, positive=True),
        Column("source", "str", required=False),
        Column("subgroup", "str", required=False),
        Column("status", "str", **_OPT),
        Column("missing_reason", "str", **_OPT),
    ),
    "binary_arms": (
        Column("study", "str"),
        Column("outcome", "str", required=False),
        Column("arm", "str"),
        Column("events", "int", nullable=True, minimum=0),
        Column("n", "int", nullable=True, minimum=1),
        Column("source", "str", required=False),
        Column("timepoint", "str", required=False),
        Column("subgroup", "str", required=False),
        Column("status", "str", **_OPT),
        Column("missing_reason", "str", **_OPT),
    ),
    "continuous_studies": (
        Column("study", "str"),
        Column("outcome", "str", required=False),
        Column("timepoint", "str", required=False),
        Column("subgroup", "str", required=False),
        Column("m1i", "float", nullable=True),
        Column("sd1i", "float", nullable=True, positive=True),
        Column("n1i", "int", nullable=True, minimum=1),
        Column("m2i", "float", nullable=True),
        Column("sd2i", "float", nullable=True, positive=True),
        Column("n2i", "int", nullable=True, minimum=1),
        Column("source", "str", required=False),
        Column("status", "str", **_OPT),
        Column("missing_reason", "str", **_OPT),
    ),
    "binary_studies": (
        Column("study", "str"),
        Column("outcome", "str", required=False),
        Column("timepoint", "str", required=False),
        Column("subgroup", "str", required=False),
        Column("ai", "int", nullable=True, minimum=0),
        Column("n1i", "int", required=False, nullable=True, minimum=1),
        Column("bi", "int", required=False, nullable=True, minimum=0),
        Column("ci", "int", nullable=True, minimum=0),
        Column("n2i", "int", required=False, nullable=True, minimum=1),
        Column("di", "int", required=False, nullable=True, minimum=0),
        Column("source", "str", required=False),
        Column("status", "str", **_OPT),
        Column("missing_reason", "str", **_OPT),
    ),
    "contrasts": (
        Column("study", "str"),
        Column("outcome", "str", required=False),
        Column("timepoint", "str", required=False),
        Column("subgroup", "str", required=False),
        Column("measure", "str", required=False),
        Column("yi", "float", **_OPT),
        Column("vi", "float", positive=True, **_OPT),
        Column("sei", "float", positive=True, **_OPT),
        Column("estimate", "float", **_OPT),
        Column("se", "float", positive=True, **_OPT),
        Column("ci_lb", "float", **_OPT),
        Column("ci_ub", "float", **_OPT),
        Column("ci_level", "float", **_OPT),
        Column("scale", "str", **_OPT),
        Column("source", "str", required=False),
    ),
    "published": (
        Column("analysis", "str"),
        Column("outcome", "str"),
        Column("timepoint", "str"),
        Column("measure", "str"),
        Column("estimate", "float"),
        Column("ci_lb", "float"),
        Column("ci_ub", "float"),
        Column("ci_level", "float"),
        Column("decimals", "int", required=False, nullable=True, minimum=0),
        Column("p", "float", nullable=True),
        Column("p_relation", "str", nullable=True),
        Column("i2", "float", nullable=True),
        Column("k_studies", "int", nullable=True, minimum=1),
        Column("participants", "int", nullable=True, minimum=1),
        Column("studies", "str", nullable=True),
        Column("lower_is_better", "bool"),
        Column("model", "str"),
        Column("source", "str"),
        Column("grade", "str", required=False, nullable=True),
    ),
    "studies": (
        Column("study", "str"),
        Column("author", "str"),
        Column("year", "int"),
        Column("country", "str"),
        Column("reference", "int"),
        Column("procedure", "str"),
        Column("n_total", "int", minimum=2),
        Column("n_experimental", "int", minimum=1),
        Column("n_control", "int", minimum=1),
        Column("age_experimental", "str", nullable=True),
        Column("age_control", "str", nullable=True),
        Column("conclusion", "str", required=False, nullable=True),
        Column("note", "str", required=False, nullable=True),
        Column("source", "str"),
    ),
}

KEYS = {
    "continuous_arms": ("study", "outcome", "timepoint", "arm"),
    "binary_arms": ("study", "outcome", "timepoint", "arm"),
    "contrasts": ("study", "outcome", "timepoint", "subgroup"),
    "continuous_studies": ("study", "outcome", "timepoint", "subgroup"),
    "binary_studies": ("study", "outcome", "timepoint", "subgroup"),
    "published": ("analysis",),
    "studies": ("study",),
}


@dataclass(frozen=True)
class Vocabulary:
    """Allowed outcome and time-point labels and the arm labels (``vocabulary.toml`` next to the data).

    ``experimental`` and ``control`` name the two arms of arm-level files; ``None`` when the
    vocabulary does not say (the labels ``experimental`` and ``control`` are then expected).
    """

    outcomes: frozenset[str]
    timepoints: frozenset[str]
    experimental: str | None = None
    control: str | None = None
    path: str = "vocabulary.toml"

    @classmethod
    def load(cls, path) -> Vocabulary:
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise DataError(Problem(str(path), None, None, f"cannot read vocabulary: {e}")) from None
        arms = raw.get("arms", {})
        problems = []
        known = {"outcomes", "timepoints", "arms"}
        for key in sorted(set(raw) - known):
            problems.append(
                Problem(str(path), None, key, f"unknown key; allowed: {', '.join(sorted(known))}")
            )
        if not isinstance(arms, dict) or set(arms) - {"experimental", "control"}:
            problems.append(
                Problem(str(path), None, "arms", "must be a table with the keys experimental and control")
            )
        elif (arms.get("experimental") is None) != (arms.get("control") is None):
            problems.append(Problem(str(path), None, "arms", "give both experimental and control"))
        if problems:
            raise DataError(problems)

        def labels(key):
            v = raw.get(key, [])
            return frozenset(v.keys() if isinstance(v, dict) else v)

        return cls(
            labels("outcomes"), labels("timepoints"), arms.get("experimental"), arms.get("control"), str(path)
        )


@dataclass(frozen=True)
class Table:
    """A validated table: read-only ``frame``, the ``path`` it came from and its ``sha256``."""

    kind: str
    path: Path
    sha256: str
    _frame: pd.DataFrame
    lines: tuple[int, ...] = ()  # the line in the file of each row of the frame (header = line 1)

    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the data (the table itself never changes)."""
        return self._frame.copy()

    def __len__(self) -> int:
        return len(self._frame)


@dataclass(frozen=True)
class ArmTable(Table):
    """Arm-level rows (continuous or binary) with explicit missing values."""

    experimental: str = ""
    control: str = ""
    notes: tuple[str, ...] = ()  # what the reader left out and why (other arms of multi-arm trials)

    def value_columns(self) -> tuple[str, ...]:
        return ("n", "mean", "sd") if self.kind == "continuous_arms" else ("events", "n")

    def missing(self) -> pd.DataFrame:
        """One row per missing value: study, outcome, timepoint, arm, field, reason, source."""
        f = self._frame
        rows = []
        for _, r in f.iterrows():
            for c in self.value_columns():
                if pd.isna(r[c]):
                    rows.append(
                        {
                            "study": r["study"],
                            "outcome": r["outcome"],
                            "timepoint": r.get("timepoint", ""),
                            "arm": r["arm"],
                            "field": c,
                            "reason": r.get("missing_reason", ""),
                            "source": r.get("source", ""),
                        }
                    )
        return pd.DataFrame(
            rows, columns=["study", "outcome", "timepoint", "arm", "field", "reason", "source"]
        )

    def complete(self) -> pd.DataFrame:
        """Wide table, one row per study/outcome/timepoint with both arms complete (suffixes _e, _c)."""
        f = self._frame
        vc = list(self.value_columns())
        ok = f[vc].notna().all(axis=1)
        key = ["study", "outcome", "timepoint"]
        e = f[ok & (f["arm"] == self.experimental)].set_index(key)[vc]
        c = f[ok & (f["arm"] == self.control)].set_index(key)[vc]
        w = e.add_suffix("_e").join(c.add_suffix("_c"), how="inner").reset_index()
        order = {s: i for i, s in enumerate(dict.fromkeys(f["study"]))}
        return w.sort_values("study", key=lambda s: s.map(order)).reset_index(drop=True)


#: Spreadsheet suffixes read through pandas, with the package that reads each.
SPREADSHEETS = {".xlsx": "openpyxl", ".xlsm": "openpyxl", ".ods": "odfpy", ".xls": "xlrd"}
_EXPORT = ("save the sheet as CSV (Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'; LibreOffice: "
           "File > Save As > 'Text CSV', UTF-8)")


def _cell_text(v: Any) -> str:
    """A spreadsheet cell as the text a CSV export would hold (12.0 -> '12', NaN -> '')."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _spreadsheet_text(path: Path) -> str:
    """The one sheet with data of an .xlsx/.xlsm/.ods/.xls workbook as CSV text (row i = line i)."""
    import importlib

    f = str(path)
    pkg = SPREADSHEETS[path.suffix.lower()]
    try:
        importlib.import_module("odf" if pkg == "odfpy" else pkg)
    except ImportError:
        raise DataError(
            Problem(f, None, None, f"{path.suffix} workbooks are read with the Python package {pkg}, which is not "
                    f"installed: install it (pip install {pkg}), or {_EXPORT}")
        ) from None
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object,
                               engine="odf" if pkg == "odfpy" else pkg)
    except Exception as e:  # a damaged or mislabelled workbook: say so, by name
        raise DataError(
            Problem(f, None, None, f"cannot read it as a {path.suffix} workbook ({type(e).__name__}): {_EXPORT}")
        ) from None
    full = {name: df for name, df in sheets.items() if not df.dropna(how="all").empty}
    if not full:
        raise DataError(Problem(f, None, None, "the workbook has no sheet with data"))
    if len(full) > 1:
        raise DataError(
            Problem(f, None, None, f"the workbook has {len(full)} sheets with data ({', '.join(map(str, full))}): "
                    f"keep only the sheet to analyse, or {_EXPORT}")
        )
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for row in next(iter(full.values())).itertuples(index=False):
        w.writerow([_cell_text(v) for v in row])
    return out.getvalue()


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    f = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(Problem(f, None, None, "file not found: check the path")) from None
    except IsADirectoryError:
        raise DataError(Problem(f, None, None, "is a folder, not a CSV file: give the file's path")) from None
    except OSError as e:
        raise DataError(Problem(f, None, None, f"cannot read file: {e.strerror}")) from None
    if path.suffix.lower() in SPREADSHEETS:
        text = _spreadsheet_text(path)
    elif raw[:4] == b"PK\x03\x04" or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise DataError(
            Problem(f, None, None, "is a workbook or zip archive, not CSV text: give it its suffix (.xlsx, .ods) "
                    f"to read it as a workbook, or {_EXPORT}")
        )
    else:
        text = _decode(raw, f)
    return _parse_text(text, raw, f)


def _decode(raw: bytes, f: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(
            Problem(
                f,
                line,
                None,
                f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}; "
                "Latin-1 or Windows-1252?): save the file as UTF-8 (in Excel: "
                "'CSV UTF-8 (Comma delimited)')",
            )
        ) from None


def _parse_text(text: str, raw: bytes, f: str) -> tuple[pd.DataFrame, str]:
    if not text.strip():
        raise DataError(
            Problem(f, None, None, "file is empty: write a header line and one row per study (or arm)")
        )
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]]
    _check_separator(f, header, text)
    # Excel writes empty columns after the last one ("a,b,,") and rows of separators only (",,,"):
    # both carry nothing and are skipped (a value under a column without a name is an error)
    named = len(header)
    while named and not header[named - 1]:
        named -= 1
    lines = [(i, r) for i, r in enumerate(rows[1:], start=2) if any(x.strip() for x in r)]
    problems = []
    for i, r in lines:
        if len(r) != len(header):
            problems.append(
                Problem(
                    f,
                    i,
                    None,
                    f"has {len(r)} fields, the header has {len(header)}: give one "
                    "value per column (quote values that contain a comma"
                    + (
                        "; decimal commas? write 0.5, not 0,5)"
                        if len(r) > len(header) and _split_decimals(r)
                        else ")"
                    ),
                )
            )
        elif any(x.strip() for x in r[named:]):
            j = next(j for j in range(named, len(r)) if r[j].strip())
            problems.append(
                Problem(
                    f,
                    i,
                    None,
                    f"field {j + 1} ({r[j]!r}) lies under a column without a name: "
                    "name the column in the header (line 1) or delete the value",
                )
            )
    header = header[:named]
    for j, h in enumerate(header):
        if not h:
            problems.append(Problem(f, 1, None, f"field {j + 1} of the header is empty: name every column"))
    dup = {h for h in header if h and header.count(h) > 1}
    for h in sorted(dup):
        problems.append(Problem(f, 1, h, "column appears more than once in the header: keep one"))
    known = {c.name for cols in SCHEMAS.values() for c in cols} | {"yi", "vi", "sei"}
    for h in header:
        if h != h.lower() and h.lower() in known:
            problems.append(Problem(f, 1, h, f"column names are lower case: write '{h.lower()}'"))
    if not lines and not problems:
        problems.append(
            Problem(f, None, None, "has a header but no data rows: add one row per study (or arm)")
        )
    if problems:
        raise DataError(problems)
    df = pd.DataFrame([r[:named] for _, r in lines], columns=header, dtype=str)
    df["_line"] = [i for i, _ in lines]
    return df, hashlib.sha256(raw).hexdigest()


def _split_decimals(fields: list[str]) -> bool:
    """Two neighbouring fields that look like one number split at a decimal comma (``0,5``)."""
    return any(
        re.fullmatch(r"-?\d+", a.strip()) and re.fullmatch(r"\d+", b.strip())
        for a, b in itertools.pairwise(fields)
    )


def _check_separator(f: str, header: list[str], text: str) -> None:
    """Refuse semicolon- or tab-separated files (Excel in many locales) with the fix."""
    if len(header) != 1:
        return
    for sep, name in ((";", "semicolons (';')"), ("\t", "tabs")):
        if sep in header[0]:
            comma = (
                " and numbers with decimal commas (0,5): use decimal points (0.5)"
                if re.search(r"\d,\d", text)
                else ""
            )
            raise DataError(
                Problem(
                    f,
                    1,
                    None,
                    f"the fields are separated by {name}{comma}; bayesmeta reads "
                    "comma-separated files: in Excel save as 'CSV UTF-8 (Comma "
                    f"delimited)', or replace the {name.split()[0]} by commas",
                )
            )


def _parse(
    df: pd.DataFrame,
    cols: tuple[Column, ...],
    f: str,
    problems: list[Problem],
    blanks: dict[int, list[str]] | None = None,
) -> pd.DataFrame:
    """Typed columns of the raw text ``df``; problems appended; missing value cells of nullable
    numeric columns recorded in ``blanks`` (row index -> ``["sd 'NR'", "mean empty"]``)."""
    out = pd.DataFrame({"_line": df["_line"].to_numpy()})
    line_of = df["_line"].to_numpy()
    if "status" in df:
        bad = ~df["status"].str.strip().str.lower().isin(["", "reported", "missing"])
        for i in map(int, np.flatnonzero(bad.to_numpy())):
            problems.append(
                Problem(
                    f,
                    int(df["_line"].iat[i]),
                    "status",
                    f"must be 'reported' or 'missing', got {df['status'].iat[i]!r}",
                )
            )
    for c in cols:
        if c.name not in df.columns:
            if c.required:
                problems.append(Problem(f, 1, c.name, "required column is missing"))
            continue
        vals = df[c.name].str.strip()
        parsed: list[Any] = []
        for i, v in enumerate(vals):
            line = int(line_of[i])
            if v.lower() in MISSING_TEXTS if c.kind in ("int", "float") else v == "" or v.upper() == "NA":
                if c.kind == "str" and not c.nullable:
                    problems.append(Problem(f, line, c.name, "empty; a value is required"))
                elif c.kind != "str" and not c.nullable:
                    problems.append(
                        Problem(f, line, c.name, f"{'empty' if not v else repr(v)}; a number is required")
                    )
                elif blanks is not None and c.kind != "str":
                    blanks.setdefault(i, []).append(f"{c.name} {'empty' if not v else repr(v)}")
                parsed.append(None)
                continue
            try:
                if c.kind == "int":
                    x = float(v)
                    if not x.is_integer():
                        raise ValueError
                    x = int(x)
                elif c.kind == "float":
                    x = float(v)
                    if not np.isfinite(x):
                        raise ValueError
                elif c.kind == "bool":
                    if v.lower() not in ("true", "false"):
                        raise ValueError
                    x = v.lower() == "true"
                else:
                    x = v
            except ValueError:
                want = {"int": "a whole number", "float": "a number", "bool": "true or false"}[c.kind]
                hint = (
                    f" (a thousands separator? write {v.replace(',', '')})"
                    if c.kind == "int" and re.fullmatch(r"\d{1,3}(,\d{3})+", v)
                    else f" (a decimal comma? write {v.replace(',', '.')})"
                    if re.fullmatch(r"[-+]?\d*,\d+", v)
                    else ""
                )
                problems.append(Problem(f, line, c.name, f"{v!r} is not {want}{hint}"))
                parsed.append(None)
                continue
            if c.kind in ("int", "float") and abs(x) > MAX_ABS:
                problems.append(
                    Problem(
                        f,
                        line,
                        c.name,
                        f"{v} is too large to compute with (beyond 1e100): a typo or a wrong unit?",
                    )
                )
                parsed.append(None)
                continue
            if c.positive and x <= 0:
                problems.append(Problem(f, line, c.name, f"must be > 0, got {v}"))
            if c.minimum is not None and x < c.minimum:
                problems.append(Problem(f, line, c.name, f"must be >= {c.minimum:g}, got {v}"))
            parsed.append(x)
        dtype = {"int": "Int64", "float": "Float64", "bool": "boolean", "str": "string"}[c.kind]
        out[c.name] = pd.array(parsed, dtype=dtype)
    return out


def _check_keys(df: pd.DataFrame, kind: str, f: str, problems: list[Problem]) -> None:
    key = [k for k in KEYS[kind] if k in df.columns]
    if not key or key[0] != KEYS[kind][0]:
        return
    extra = [k for k in KEYS[kind] if k not in key]
    d = df[key].astype(str).duplicated(keep="first")
    for i in np.flatnonzero(d.to_numpy()):
        first = df.loc[(df[key].astype(str) == df[key].astype(str).iloc[i]).all(axis=1), "_line"].iat[0]
        problems.append(
            Problem(
                f,
                int(df["_line"].iat[i]),
                ",".join(key),
                f"duplicate key ({', '.join(str(df[k].iat[i]) for k in key)}); first on line {first}: "
                + (
                    f"delete one of the rows, or tell them apart with a column {', '.join(extra)}"
                    if extra
                    else "delete one of the rows or correct its key"
                ),
            )
        )


def _check_vocab(df, vocab: Vocabulary | None, f, problems, columns=("outcome", "timepoint")):
    if vocab is None:
        return
    allowed = {"outcome": vocab.outcomes, "timepoint": vocab.timepoints}
    for c in columns:
        if c in df.columns and allowed[c]:
            for i, v in enumerate(df[c]):
                if pd.notna(v) and v not in allowed[c]:
                    problems.append(
                        Problem(
                            f,
                            int(df["_line"].iat[i]),
                            c,
                            f"unknown {c} {v!r}; allowed: {', '.join(sorted(allowed[c]))}",
                        )
                    )


def _arm_labels(
    df, vocab: Vocabulary | None, experimental, control, f: str, problems: list[Problem]
) -> tuple[str, str]:
    """The experimental and control labels: passed in, else from the vocabulary, else generic."""
    if (experimental is None) != (control is None):
        raise ValueError("give both experimental and control arm labels, or neither")
    if experimental is not None:
        return str(experimental), str(control)
    if vocab is not None and vocab.experimental is not None:
        return vocab.experimental, str(vocab.control)
    found = list(dict.fromkeys(a for a in df["arm"].dropna()))
    if set(found) <= set(GENERIC_ARMS):
        return GENERIC_ARMS
    where = f"in {vocab.path} " if vocab is not None else "in a vocabulary.toml next to the data "
    problems.append(
        Problem(
            f,
            1,
            "arm",
            f"cannot tell which arm is experimental: the file has arms {', '.join(map(repr, found[:6]))}; "
            f'name them {where}([arms] experimental = "...", control = "..."), pass '
            f"experimental=/control=, or label the arms 'experimental' and 'control'",
        )
    )
    return GENERIC_ARMS


def _check_arms(
    df, exp: str, ctl: str, f: str, problems: list[Problem], named: str | None = None, notes: list[str] | None = None
) -> pd.DataFrame:
    """Both arms per study; labels as named; other arms (a multi-arm trial's third arm) left out.

    ``named`` says where the labels come from (``experimental=/control=``, a vocabulary path);
    a label that the file spells only in another case is a problem of that source (the labels
    given are wrong, not the data); rows of other arms are dropped with a line in ``notes``.
    Returns the rows of the two arms.
    """
    found = list(dict.fromkeys(str(a) for a in df["arm"].dropna()))
    where = f" (from {named})" if named else ""
    for role, label in (("experimental", exp), ("control", ctl)):
        if label in found:
            continue
        case = [a for a in found if a.lower() == label.lower()]
        typo = difflib.get_close_matches(label, found, n=1)
        if not case and not typo and set(found) <= {exp, ctl}:
            continue  # the label is right, its rows are absent: each study says so below
        src = named or "experimental=/control="
        hint = (
            f"; did you mean {case[0]!r}? Labels are case-sensitive: give {src} the label as the file spells it"
            if case
            else f"; the file has {typo[0]!r}: correct the spelling in the file or in {src}"
            if typo
            else f"; name the two arms to compare ({src})"
        )
        problems.append(
            Problem(
                f,
                1,
                "arm",
                f"the {role} arm {label!r}{where} is not an arm of this file, whose arms are "
                f"{', '.join(map(repr, found))}{hint}",
            )
        )
    if any(p.column == "arm" and p.row == 1 for p in problems):
        return df
    for i, a in enumerate(df["arm"]):
        if pd.notna(a) and a not in (exp, ctl) and str(a).lower() in (exp.lower(), ctl.lower()):
            want = exp if str(a).lower() == exp.lower() else ctl
            problems.append(
                Problem(
                    f,
                    int(df["_line"].iat[i]),
                    "arm",
                    f"arm {a!r} differs from {want!r}, used on other rows, only in case: write {want!r}",
                )
            )
    other = df["arm"].notna() & ~df["arm"].isin([exp, ctl])
    if other.any() and notes is not None:
        for a, g in df[other].groupby("arm", sort=False):
            if str(a).lower() in (exp.lower(), ctl.lower()):
                continue
            notes.append(
                f"arm {a!r} ({len(g)} row{'s' if len(g) != 1 else ''}: {', '.join(map(str, g['study'].unique()[:6]))}"
                f"{', ...' if g['study'].nunique() > 6 else ''}) left out: the analysis compares {exp!r} "
                f"(experimental) with {ctl!r} (control)"
            )
    key = [k for k in ("study", "outcome", "timepoint") if k in df.columns]
    lacking: dict[tuple[str, str], list[str]] = {}  # (missing arm, arms present) -> studies
    for _, g in df.groupby(key, sort=False, dropna=False):
        arms = set(g["arm"].dropna())
        two = arms & {exp, ctl}
        name = " ".join(str(g[k].iat[0]) for k in key if str(g[k].iat[0]) != "all")
        if len(two) == 1 and arms - two:  # a trial of other arms: it does not make this comparison
            have = next(iter(two))
            absent = ctl if have == exp else exp
            lacking.setdefault((absent, ", ".join(map(repr, sorted(map(str, arms))))), []).append(name)
        elif len(two) == 1:
            have = next(iter(two))
            problems.append(
                Problem(
                    f,
                    int(g["_line"].iat[0]),
                    "arm",
                    f"{', '.join(str(g[k].iat[0]) for k in key)}: arm {(ctl if have == exp else exp)!r} is missing "
                    f"(only {have!r} given"
                        + ")",
                )
            )
        elif not two and arms:
            lacking.setdefault((f"{exp!r} or {ctl!r}", ", ".join(map(repr, sorted(map(str, arms))))), []).append(name)
    if notes is not None:
        for (absent, present), studies in lacking.items():
            n = len(studies)
            notes.append(
                f"{n} stud{'y' if n == 1 else 'ies'} without {absent if ' or ' in absent else repr(absent)} "
                f"arm{'s' if ' or ' in absent else ''} left out ({', '.join(studies[:8])}"
                f"{', ...' if n > 8 else ''}; their arms: {present})"
            )
    return df[~other | df["arm"].isna()].reset_index(drop=True)


def _vocab_for(path: Path, vocabulary) -> Vocabulary | None:
    if isinstance(vocabulary, Vocabulary):
        return vocabulary
    p = path.parent / "vocabulary.toml" if vocabulary is None else Path(vocabulary)
    return Vocabulary.load(p) if p.exists() else None


def _finish(kind, path, df, sha, problems, cls=Table, **extra):
    if problems:
        raise DataError(problems)
    lines = tuple(int(x) for x in df["_line"])
    df = df.drop(columns="_line").reset_index(drop=True)
    return cls(kind=kind, path=path, sha256=sha, _frame=df, lines=lines, **extra)


def read_table(path, kind: str, vocabulary=None) -> Table:
    """Read and validate ``path`` as ``kind`` (one of the keys of :data:`SCHEMAS`).

    :func:`bayesmeta.data.readers.read_table` chooses ``kind`` from the columns.
    """
    readers: dict[str, Callable[..., Table]] = {
        "continuous_arms": read_continuous_arms,
        "binary_arms": read_binary_arms,
        "continuous_studies": read_continuous_studies,
        "binary_studies": read_binary_studies,
        "contrasts": read_contrasts,
        "published": read_published,
        "studies": read_studies,
    }
    if kind not in readers:
        raise ValueError(f"unknown table type {kind!r}; one of {', '.join(readers)}")
    return readers[kind](path, vocabulary) if kind != "studies" else read_studies(path)


def _fill(df: pd.DataFrame, column: str, value: str) -> None:
    if column not in df.columns:
        df[column] = pd.array([value] * len(df), dtype="string")


def _mark_missing(df: pd.DataFrame, blanks: dict[int, list[str]], f: str, problems: list[Problem]) -> None:
    """Rows with a missing value cell become ``status = missing``; the reason is the row's
    ``missing_reason``, else what the cells said (``"sd 'NR' in the file"``). A row
    marked missing by the user must say why."""
    if "status" not in df.columns:
        df["status"] = pd.array(["reported"] * len(df), dtype="string")
    if "missing_reason" not in df.columns:
        df["missing_reason"] = pd.array([""] * len(df), dtype="string")
    for j in np.flatnonzero((df["status"].fillna("").str.lower() == "missing").to_numpy()):
        reason = df["missing_reason"].iat[j]
        if pd.isna(reason) or not str(reason).strip():
            problems.append(Problem(f, int(df["_line"].iat[j]), "missing_reason", "a missing row must say why"))
    st, mr = df.columns.get_loc("status"), df.columns.get_loc("missing_reason")
    for i, cells in sorted(blanks.items()):
        if str(df["status"].iat[i]).lower() == "missing":
            continue
        df.iloc[i, st] = "missing"
        reason = df["missing_reason"].iat[i]
        if pd.isna(reason) or not str(reason).strip():
            df.iloc[i, mr] = f"{'; '.join(cells)} in the file"


def _read_arms(path, kind, vocabulary, extra_checks, experimental=None, control=None) -> ArmTable:
    path = Path(path)
    f = str(path)
    raw, sha = _read_csv(path)
    problems: list[Problem] = []
    blanks: dict[int, list[str]] = {}
    df = _parse(raw, SCHEMAS[kind], f, problems, blanks)
    _fill(df, "outcome", "all")
    _fill(df, "timepoint", "all")
    if any(p.row == 1 and p.message.startswith("required column") for p in problems):
        raise DataError(problems)
    _mark_missing(df, blanks, f, problems)
    vocab = _vocab_for(path, vocabulary)
    n_before = len(problems)
    exp, ctl = _arm_labels(df, vocab, experimental, control, f, problems)
    extra_checks(df, f, problems)
    _check_keys(df, kind, f, problems)
    _check_vocab(df, vocab, f, problems)
    notes: list[str] = []
    if len(problems) == n_before or not any(p.column == "arm" and p.row == 1 for p in problems[n_before:]):
        named = (
            "experimental=/control="
            if experimental is not None
            else vocab.path if vocab is not None and vocab.experimental else None
        )
        df = _check_arms(df, exp, ctl, f, problems, named, notes)
    return _finish(kind, path, df, sha, problems, cls=ArmTable, experimental=exp, control=ctl, notes=tuple(notes))


def read_continuous_arms(path, vocabulary=None, experimental=None, control=None) -> ArmTable:
    """Arm-level continuous outcomes, one row per arm (see docs/data-format.md).

    Columns: study, [outcome,] [timepoint,] arm, n, mean, sd, [source, subgroup, status,
    missing_reason]. The arm labels come from ``experimental``/``control``, else from the
    ``[arms]`` table of ``vocabulary.toml`` next to the file, else they must be ``experimental``
    and ``control``.
    """
    return _read_arms(path, "continuous_arms", vocabulary, lambda df, f, p: None, experimental, control)


def read_binary_arms(path, vocabulary=None, experimental=None, control=None) -> ArmTable:
    """Arm-level binary outcomes, one row per arm: study, [outcome,] [timepoint,] arm, events, n.

    Arm labels as for :func:`read_continuous_arms`.
    """

    def events_le_n(df, f, problems):
        bad = (df["events"] > df["n"]).fillna(False).to_numpy(dtype=bool)
        for i in np.flatnonzero(bad):
            problems.append(
                Problem(
                    f,
                    int(df["_line"].iat[i]),
                    "events",
                    f"events ({df['events'].iat[i]}) exceed n ({df['n'].iat[i]})",
                )
            )

    return _read_arms(path, "binary_arms", vocabulary, events_le_n, experimental, control)


def _decimals(x: float) -> int:
    """Decimals of ``x`` as printed (its shortest repr): 0.25 -> 2, 1.0 -> 0."""
    t = repr(float(x))
    if "e" in t or "." not in t:
        return 0
    d = t.split(".")[1].rstrip("0")
    return len(d)


def ratio_scale_problem(
    est: float, lb: float, ub: float, scale: str, m, written: str = "log", has_scale: bool = True
) -> tuple[str, str] | None:
    """A printed ratio (estimate and CI) that contradicts its declared scale: ``(column, message)``.

    A Wald CI is symmetric on the analysis (log) scale. Rounded to ``d`` decimals, the asymmetry
    ``ub + lb - 2 est`` can reach ``2 * 10^-d`` (half a unit in each bound, one in twice the
    estimate); on the log scale ``0.5 * 10^-d * (1/lb + 1/ub + 2/est)``. A CI clearly asymmetric on
    the declared scale but symmetric on the other says which scale the numbers are on.
    """
    code = m.code
    unit = 10.0 ** -max(_decimals(est), _decimals(lb), _decimals(ub))
    if scale == "reported":
        for col, v in (("estimate", est), ("ci_lb", lb), ("ci_ub", ub)):
            if v == 0:
                return col, (
                    f"{code} {'bound' if col != 'estimate' else 'estimate'} printed as 0: a ratio is > 0, so the "
                    "printed value was rounded (a CI bound of 0 has an infinite log); give more decimals from "
                    f"the source, or the SE of the log {code} (column se with scale = log)"
                )
        if min(est, lb, ub) < 0:
            col, v = next((c, x) for c, x in (("estimate", est), ("ci_lb", lb), ("ci_ub", ub)) if x < 0)
            return col, (
                f"{code} values are ratios as printed and must be > 0, got {v:g}: these look like "
                f"log {code}s; add a column scale with the value log (or give yi and sei on the log scale)"
            )
        if np.isnan(lb) or np.isnan(ub):
            return None
        sym_ratio = abs(ub + lb - 2 * est) <= 2 * unit + 1e-12
        asym_log = abs(np.log(ub) + np.log(lb) - 2 * np.log(est)) > 0.5 * unit * (1 / lb + 1 / ub + 2 / est) + 1e-12
        if sym_ratio and asym_log and (ub - lb) > 4 * unit:
            fix = (
                "add a column scale with the value log"
                if has_scale
                else f"this file holds {code}s as printed: give {np.exp(est):.2f} [{np.exp(lb):.2f}, {np.exp(ub):.2f}]"
                " if these are log values"
            )
            return "ci_lb,ci_ub", (
                f"the CI [{lb:g}, {ub:g}] is symmetric around {est:g} as printed but not on the log scale, where "
                f"{code} CIs are symmetric: these look like log {code}s; {fix}"
            )
        return None
    if np.isnan(lb) or np.isnan(ub):
        return None
    asym = abs(ub + lb - 2 * est) > 2 * unit + 1e-12
    if not asym:
        return None
    if min(est, lb, ub) > 0:
        sym_log = abs(np.log(ub) + np.log(lb) - 2 * np.log(est)) <= 0.5 * unit * (1 / lb + 1 / ub + 2 / est) + 1e-12
        if sym_log:
            return "scale", (
                f"declared as log {code}s (scale = {written}), but the CI [{lb:g}, {ub:g}] is not symmetric around "
                f"{est:g}, and it is symmetric on the log of these numbers: they are {code}s as printed; write "
                "scale = reported (or leave the scale column empty)"
            )
    return "ci_lb,ci_ub", (
        f"declared as log {code}s (scale = {written}), but the CI [{lb:g}, {ub:g}] is not symmetric around {est:g} "
        f"as a Wald CI on the log scale is: check the three numbers and the scale column"
    )


def _ratio_measure(measure):
    """The registry's ratio measure named by ``measure`` (a cell), else None."""
    if measure is None or pd.isna(measure):
        return None
    try:
        m = get_measure(str(measure))
    except ValueError:
        return None  # the measure column reports it
    return m if m.ratio else None


def _check_interval(
    f: str, line: int, est, lb, ub, problems: list[Problem], measure=None, scale="reported", has_scale: bool = True
) -> None:
    """An estimate with its CI: bounds in order, the estimate inside, ratios (as printed) positive."""
    vals = {"estimate": est, "ci_lb": lb, "ci_ub": ub}
    ratio = False
    if measure is not None and pd.notna(measure):
        try:
            ratio = (
                get_measure(str(measure)).ratio and _SCALES.get(str(scale).lower(), "reported") == "reported"
            )
        except ValueError:
            pass  # the measure column reports it
    if ratio:
        for c, v in vals.items():
            if v is not None and pd.notna(v) and v <= 0:
                problems.append(
                    Problem(
                        f,
                        line,
                        c,
                        f"{measure} values are ratios as printed and must be > 0, got {v:g}"
                        + (
                            ": a bound printed as 0 was rounded; give more decimals or the SE"
                            if v == 0
                            else "; for log ratios add a column scale = analysis"
                        ),
                    )
                )
                return
    if any(v is None or pd.isna(v) for v in vals.values()):
        return
    if lb > ub:
        problems.append(Problem(f, line, "ci_lb,ci_ub", f"ci_lb ({lb:g}) is above ci_ub ({ub:g}): swap them"))
    elif lb <= est <= ub and (m := _ratio_measure(measure)) is not None:
        written = "reported" if scale is None or pd.isna(scale) else str(scale)
        bad = ratio_scale_problem(float(est), float(lb), float(ub), _SCALES.get(written.lower(), "reported"),
                                  m, written, has_scale=has_scale)
        if bad is not None:
            problems.append(Problem(f, line, bad[0], bad[1]))
    elif not lb <= est <= ub:
        problems.append(
            Problem(
                f,
                line,
                "ci_lb,ci_ub",
                f"estimate {est:g} is not inside [{lb:g}, {ub:g}]: check the "
                "three numbers against the source (a sign or a typo?)",
            )
        )


def _check_ci(df, f, problems, need_se_or_ci: bool):
    for i in range(len(df)):
        line = int(df["_line"].iat[i])
        est = df["estimate"].iat[i]
        lb = df["ci_lb"].iat[i] if "ci_lb" in df else pd.NA
        ub = df["ci_ub"].iat[i] if "ci_ub" in df else pd.NA
        _check_interval(f, line, est, lb, ub, problems, df["measure"].iat[i] if "measure" in df else None,
                        has_scale=False)
        if (
            need_se_or_ci
            and pd.isna(df["se"].iat[i] if "se" in df else pd.NA)
            and (pd.isna(lb) or pd.isna(ub))
        ):
            problems.append(Problem(f, line, "se", "give either se or both ci_lb and ci_ub"))
        if "ci_level" in df and pd.notna(df["ci_level"].iat[i]) and not 0 < df["ci_level"].iat[i] < 1:
            problems.append(Problem(f, line, "ci_level", "must lie in (0, 1), e.g. 0.95 (not a percentage)"))
        if "measure" in df and pd.notna(df["measure"].iat[i]):
            try:
                get_measure(str(df["measure"].iat[i]))
            except ValueError as e:
                problems.append(Problem(f, line, "measure", str(e)))
        if "p" in df and pd.notna(df["p"].iat[i]) and not 0 <= df["p"].iat[i] <= 1:
            problems.append(Problem(f, line, "p", f"a p-value lies in [0, 1], got {df['p'].iat[i]:g}"))


_SCALES = {"reported": "reported", "ratio": "reported", "analysis": "analysis", "log": "analysis"}


def _extra_columns(raw: pd.DataFrame, df: pd.DataFrame, kind: str) -> None:
    """Keep columns the schema does not know (moderators such as year or dose) as text."""
    known = {c.name for c in SCHEMAS[kind]} | {"_line"}
    for c in raw.columns:
        if c not in known and c.strip():
            df[c] = pd.array(raw[c].str.strip().tolist(), dtype="string")


class _Cells:
    """Cells by (column, row) from numpy copies of a frame's columns: pandas' ``.iat`` costs
    microseconds per cell, which made the row-by-row checks the slowest step of reading a file of
    thousands of studies. ``cells(c, i)`` is the value, ``cells.has(c, i)`` whether the column exists
    and the cell is not missing."""

    __slots__ = ("_ok", "_v")

    def __init__(self, df: pd.DataFrame):
        self._v = {c: df[c].to_numpy(dtype=object) for c in df.columns}
        self._ok = {c: pd.notna(v) for c, v in self._v.items()}

    def __call__(self, c: str, i: int):
        return self._v[c][i]

    def has(self, c: str, i: int) -> bool:
        return c in self._ok and bool(self._ok[c][i])


def _check_contrast_rows(df: pd.DataFrame, f: str, problems: list[Problem]) -> None:
    cell = _Cells(df)
    has = cell.has
    if "yi" in df and not {"vi", "sei", "se"} & set(df.columns):
        header = ", ".join(c for c in df.columns if not c.startswith("_"))
        problems.append(
            Problem(
                f,
                1,
                None,
                f"yi needs a column vi (variance) or sei (standard error); the header has {header}",
            )
        )
        return
    for i in range(len(df)):
        line = int(cell("_line", i))
        if has("measure", i):
            try:
                get_measure(str(cell("measure", i)))
            except ValueError as e:
                problems.append(Problem(f, line, "measure", str(e)))
        if has("scale", i) and str(cell("scale", i)).lower() not in _SCALES:
            problems.append(
                Problem(
                    f,
                    line,
                    "scale",
                    f"must be 'reported' (ratios as printed) or 'analysis' "
                    f"(log ratios), got {cell('scale', i)!r}",
                )
            )
        if has("ci_level", i) and not 0 < cell("ci_level", i) < 1:
            problems.append(Problem(f, line, "ci_level", "must lie in (0, 1), e.g. 0.95 (not a percentage)"))
        if has("yi", i) and has("estimate", i):
            problems.append(Problem(f, line, "yi,estimate", "give yi (analysis scale) or estimate, not both"))
        elif has("yi", i):
            given = [c for c in ("vi", "sei", "se") if has(c, i)]
            if len(given) != 1:
                problems.append(
                    Problem(
                        f,
                        line,
                        "vi",
                        "a row with yi needs exactly one of vi (variance) and sei (SE)"
                        + (f"; got {', '.join(given)}" if given else ""),
                    )
                )
            for c in ("ci_lb", "ci_ub"):
                if has(c, i):
                    problems.append(Problem(f, line, c, "give a CI with estimate, not with yi"))
        elif has("estimate", i):
            lb, ub, est = (cell(c, i) if has(c, i) else None for c in ("ci_lb", "ci_ub", "estimate"))
            if has("vi", i) or has("sei", i):
                problems.append(
                    Problem(
                        f,
                        line,
                        "vi" if has("vi", i) else "sei",
                        "vi and sei go with yi; with estimate give se or ci_lb and ci_ub",
                    )
                )
            _check_interval(
                f,
                line,
                est,
                lb,
                ub,
                problems,
                cell("measure", i) if has("measure", i) else None,
                cell("scale", i) if has("scale", i) else "reported",
            )
            if not has("se", i) and (lb is None or ub is None):
                problems.append(Problem(f, line, "se", "give either se or both ci_lb and ci_ub"))
        elif not any(p.row == line and p.column in ("yi", "estimate") for p in problems):  # else reported
            problems.append(
                Problem(f, line, "yi", "each row needs yi (with vi or sei) or estimate (with se or a CI)")
            )


def read_contrasts(path, vocabulary=None) -> Table:
    """Study-level contrasts, one row per study (and time point); see docs/data-format.md.

    Each row gives ``yi`` on the analysis scale with ``vi`` or ``sei``, or ``estimate`` with ``se``
    or ``ci_lb``/``ci_ub`` (``ci_level``, default 0.95); for ratio measures ``scale`` says whether
    ``estimate`` and its CI are ratios as printed (``reported``, the default) or log ratios
    (``analysis``). Optional: measure, outcome, timepoint, subgroup, source; other columns are kept
    as moderators.
    """
    path = Path(path)
    f = str(path)
    raw, sha = _read_csv(path)
    problems: list[Problem] = []
    df = _parse(raw, SCHEMAS["contrasts"], f, problems)
    _extra_columns(raw, df, "contrasts")
    _check_contrast_rows(df, f, problems)
    _check_keys(df, "contrasts", f, problems)
    _check_vocab(df, _vocab_for(path, vocabulary), f, problems)
    return _finish("contrasts", path, df, sha, problems)


def _read_studies_wide(path, kind, vocabulary) -> Table:
    path = Path(path)
    f = str(path)
    raw, sha = _read_csv(path)
    problems: list[Problem] = []
    blanks: dict[int, list[str]] = {}
    df = _parse(raw, SCHEMAS[kind], f, problems, blanks)
    _extra_columns(raw, df, kind)
    _mark_missing(df, blanks, f, problems)
    if kind == "binary_studies":
        for ev, non, n in (("ai", "bi", "n1i"), ("ci", "di", "n2i")):
            if (n in df) == (non in df):
                problems.append(
                    Problem(f, 1, n, f"give {n} (participants) or {non} (non-events), exactly one")
                )
            elif n in df and ev in df:
                bad = (df[ev] > df[n]).fillna(False).to_numpy(dtype=bool)
                for i in np.flatnonzero(bad):
                    problems.append(
                        Problem(
                            f,
                            int(df["_line"].iat[i]),
                            ev,
                            f"events ({df[ev].iat[i]}) exceed {n} ({df[n].iat[i]})",
                        )
                    )
    _check_keys(df, kind, f, problems)
    _check_vocab(df, _vocab_for(path, vocabulary), f, problems)
    return _finish(kind, path, df, sha, problems)


def studies_as_arms(table: Table, experimental: str = "experimental", control: str = "control") -> ArmTable:
    """A one-row-per-study table (``continuous_studies`` or ``binary_studies``) as arm rows.

    Arm 1 (``m1i``/``ai``) is ``experimental``, arm 2 the ``control``; ``n`` is ``ai + bi`` where
    the file gives non-events. Status, missing reason, source, outcome, time point and subgroup
    are carried to both rows, so every input shape goes through the same
    :meth:`ArmTable.complete` / :meth:`ArmTable.missing` (and the same zero-cell rule later).
    """
    if table.kind not in ("continuous_studies", "binary_studies"):
        raise ValueError(f"studies_as_arms takes one-row-per-study tables, not {table.kind}")
    w = table.frame
    binary = table.kind == "binary_studies"
    rows = []
    for arm, (a, b, c) in (
        (experimental, ("ai", "bi", "n1i") if binary else ("m1i", "sd1i", "n1i")),
        (control, ("ci", "di", "n2i") if binary else ("m2i", "sd2i", "n2i")),
    ):
        part = pd.DataFrame({"study": w["study"]})
        for col in ("outcome", "timepoint", "subgroup", "source", "status", "missing_reason"):
            if col in w.columns:
                part[col] = w[col]
        part["arm"] = arm
        if binary:
            part["events"] = w[a]
            part["n"] = w[c] if c in w.columns else w[a] + w[b]
        else:
            part["n"], part["mean"], part["sd"] = w[c], w[a], w[b]
        part["_order"] = np.arange(len(w))
        rows.append(part)
    long = pd.concat(rows, ignore_index=True).sort_values("_order", kind="stable").drop(columns="_order")
    for col in ("outcome", "timepoint"):
        if col not in long.columns:
            long[col] = "all"
    kind = "binary_arms" if binary else "continuous_arms"
    return ArmTable(
        kind=kind, path=table.path, sha256=table.sha256, _frame=long.reset_index(drop=True),
        experimental=experimental, control=control,
    )


def read_binary_studies(path, vocabulary=None) -> Table:
    """Binary outcomes, one row per study (metafor's names): study, ai, n1i (or bi), ci, n2i (or di).

    ``ai``/``ci`` are events in the experimental (1) and control (2) arm; optional outcome,
    timepoint, subgroup, source; other columns are kept as moderators.
    """
    return _read_studies_wide(path, "binary_studies", vocabulary)


def read_continuous_studies(path, vocabulary=None) -> Table:
    """Continuous outcomes, one row per study (metafor's names): study, m1i, sd1i, n1i, m2i, sd2i, n2i."""
    return _read_studies_wide(path, "continuous_studies", vocabulary)


def read_published(path, vocabulary=None) -> Table:
    """Published pooled results (one row per analysis) with provenance."""
    path = Path(path)
    f = str(path)
    raw, sha = _read_csv(path)
    problems: list[Problem] = []
    df = _parse(raw, SCHEMAS["published"], f, problems)
    if {"estimate", "ci_lb", "ci_ub"} <= set(df.columns):
        _check_ci(df, f, problems, need_se_or_ci=False)
    if "p_relation" in df:
        for i, v in enumerate(df["p_relation"]):
            if pd.notna(v) and v not in ("=", "<", ">"):
                problems.append(
                    Problem(f, int(df["_line"].iat[i]), "p_relation", f"must be '=', '<' or '>', got {v!r}")
                )
    _check_keys(df, "published", f, problems)
    _check_vocab(df, _vocab_for(path, vocabulary), f, problems)
    return _finish("published", path, df, sha, problems)


def read_studies(path) -> Table:
    """Included-study characteristics (one row per study)."""
    path = Path(path)
    f = str(path)
    raw, sha = _read_csv(path)
    problems: list[Problem] = []
    df = _parse(raw, SCHEMAS["studies"], f, problems)
    if {"n_total", "n_experimental", "n_control"} <= set(df.columns):
        bad = (df["n_experimental"] + df["n_control"] != df["n_total"]).fillna(False).to_numpy(dtype=bool)
        for i in np.flatnonzero(bad):
            problems.append(
                Problem(
                    f, int(df["_line"].iat[i]), "n_total", "n_experimental + n_control differs from n_total"
                )
            )
    _check_keys(df, "studies", f, problems)
    return _finish("studies", path, df, sha, problems)


def read_effects_csv(path, measure=None):
    """``(yi, vi, labels)`` from any study-data CSV (see :func:`bayesmeta.data.readers.read_csv`).

    Kept for the command line; new code should use :func:`bayesmeta.read_csv`, which returns the
    :class:`~bayesmeta.effects.table.EffectTable`.
    """
    from bayesmeta.data.readers import read_csv

    es = read_csv(path, measure=measure)
    return np.asarray(es.yi), np.asarray(es.vi), list(es.labels)
