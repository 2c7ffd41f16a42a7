"""Reading and validating a batch table: one row per published result, or one row per study.

Two layouts are recognised from the header (names are case-insensitive, surrounding spaces ignored):

* **published results** (one row per meta-analysis): ``analysis``, ``measure``, ``estimate`` and
  either ``ci_lb`` and ``ci_ub`` (as printed; ratios as ratios) or ``se`` (analysis scale, i.e.
  of the log ratio); optional ``ci_level`` (default 0.95), ``k``, ``participants``, ``p``,
  ``decimals`` (printed decimals of estimate and CI, when trailing zeros were lost),
  ``margin`` and ``participants_randomised``;
* **studies** (one row per study, grouped by ``analysis``): ``analysis``, ``study``, ``measure``,
  ``yi`` and ``sei`` or ``vi`` (analysis scale); optional ``margin``.

Both need the orientation, as ``lower_is_better`` (true/false, yes/no, 1/0) or ``orientation``
(``lower`` / ``higher``, meaning lower or higher values favour the experimental arm). A
``margin`` is a magnitude on the harmful side (SMD/MD units, or a ratio such as 1.25). Values
that must be constant within an analysis of the study layout (measure, orientation, margin) are
checked. Every problem is reported with file, line and column.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bayesmeta.effects.measures import get_measure
from bayesmeta.errors import DataError, Problem

PUBLISHED_OPTIONAL = ("ci_lb", "ci_ub", "se", "ci_level", "k", "participants", "p", "decimals", "margin",
                      "participants_randomised", "lower_is_better", "orientation")
STUDY_OPTIONAL = ("sei", "vi", "margin", "lower_is_better", "orientation")
TRUE, FALSE = {"true", "yes", "1", "t", "y"}, {"false", "no", "0", "f", "n"}


@dataclass(frozen=True)
class BatchInput:
    """A validated batch table: ``layout`` is ``"published"`` or ``"studies"``; ``frame`` holds
    numbers on the analysis scale where stated, and ``line`` the file line of every row."""

    path: Path
    layout: str
    frame: pd.DataFrame


def _num(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v


def _decimals(text: str) -> int:
    t = text.strip().lower()
    if "e" in t:
        return 10
    return len(t.split(".")[1]) if "." in t else 0


def read_batch(path) -> BatchInput:
    """Read and validate a batch table (see the module docstring); raises :class:`DataError`."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise DataError(Problem(name, None, None, "file not found; pass the path of a CSV table"))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise DataError(Problem(name, line, None, "is not UTF-8 text; save the table as CSV UTF-8")) from None
    rows, lines = [], []
    reader = csv.reader(io.StringIO(text))
    for r in reader:
        rows.append(r)
        lines.append(reader.line_num)
    if not rows or not any(c.strip() for c in rows[0]):
        raise DataError(Problem(name, 1, None, "no header line; the first line must name the columns"))
    header = [c.strip().lower() for c in rows[0]]
    while header and header[-1] == "":  # trailing empty columns (spreadsheet export)
        header.pop()
    if len(header) == 1 and ";" in rows[0][0]:
        raise DataError(Problem(name, 1, None, "the header has one column containing ';' - the file looks "
                                "semicolon-separated; save it with commas as separators"))
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise DataError(Problem(name, 1, dup[0], "column appears more than once; keep one"))
    body = [(ln, r) for ln, r in zip(lines[1:], rows[1:], strict=True) if any(c.strip() for c in r)]
    if not body:
        raise DataError(Problem(name, None, None, "has a header but no data rows"))
    layout = "studies" if ("study" in header or "yi" in header) else "published"
    problems: list[Problem] = []
    required = (("analysis", "study", "measure", "yi") if layout == "studies" else ("analysis", "measure", "estimate"))
    for col in required:
        if col not in header:
            problems.append(Problem(name, 1, col, f"required column is missing (layout: {layout}; header: "
                                    f"{', '.join(header)})"))
    if "lower_is_better" not in header and "orientation" not in header:
        problems.append(Problem(name, 1, None, "no orientation: add a column 'lower_is_better' (true/false) or "
                                "'orientation' (lower/higher: which values favour the experimental arm)"))
    if layout == "studies" and "sei" not in header and "vi" not in header:
        problems.append(Problem(name, 1, None, "study rows need 'sei' (standard error) or 'vi' (variance) of yi"))
    if layout == "published" and "se" not in header and not {"ci_lb", "ci_ub"} <= set(header):
        problems.append(Problem(name, 1, None, "published rows need 'ci_lb' and 'ci_ub' (as printed) or 'se' "
                                "(analysis scale)"))
    known = set(required) | set(PUBLISHED_OPTIONAL if layout == "published" else STUDY_OPTIONAL) | {"study"}
    for h in header:
        if h not in known and h != "":
            problems.append(Problem(name, 1, h, f"unknown column for the {layout} layout; known: "
                                    f"{', '.join(sorted(known))}"))
    if problems:
        raise DataError(problems)
    fast = _published_fast(header, body) if layout == "published" else None
    if fast is not None:
        return _finish(path, name, layout, fast, problems)
    recs = []
    for ln, r in body:
        if len(r) > len(header) and any(c.strip() for c in r[len(header):]):
            problems.append(Problem(name, ln, None, f"has {len(r)} fields but the header has {len(header)}"))
            continue
        r = r + [""] * (len(header) - len(r))
        cell = {h: r[i].strip() for i, h in enumerate(header)}
        recs.append(_parse_row(name, ln, cell, layout, problems))
    if problems:
        raise DataError(problems)
    return _finish(path, name, layout, pd.DataFrame(recs), problems)


def _finish(path: Path, name: str, layout: str, df: pd.DataFrame, problems: list) -> BatchInput:
    """Checks across rows (unique ids; constant measure, orientation and margin per analysis)."""
    if layout == "published":
        seen: dict[str, int] = {}
        for a, ln in zip(df["analysis"], df["line"], strict=True):
            if a in seen:
                problems.append(Problem(name, ln, "analysis", f"id {a!r} already used on line {seen[a]}; "
                                        "each published result needs its own id"))
            seen.setdefault(a, ln)
    else:
        for a, g in df.groupby("analysis", sort=False):
            for col in ("measure", "lower_is_better", "margin"):
                vals = g[col].astype(str).unique()
                if len(vals) > 1:
                    ln = int(g["line"].iloc[list(g[col].astype(str)).index(vals[1])])
                    problems.append(Problem(name, ln, col, f"differs within analysis {a!r} ({', '.join(vals)}); "
                                            "one value per analysis"))
    if problems:
        raise DataError(problems)
    return BatchInput(path=path, layout=layout, frame=df)


_PUBLISHED_NUM = {"estimate": "estimate", "ci_lb": "ci_lb", "ci_ub": "ci_ub", "se": "se_given",
                  "ci_level": "ci_level", "decimals": "decimals", "k": "k", "participants": "participants",
                  "participants_randomised": "participants_randomised", "p": "p", "margin": "margin"}


def _published_fast(header: list[str], body: list) -> pd.DataFrame | None:
    """The published-layout frame built column by column, or None when any cell might be a
    problem (then :func:`_parse_row` reads the table row by row and names every problem).

    Only tables that :func:`_parse_row` accepts without a message take this path, and they give
    the same frame (same values and dtypes; tested), in a fraction of the time."""
    H = len(header)
    if any(len(r) > H and any(c.strip() for c in r[H:]) for _, r in body):
        return None
    if "lower_is_better" not in header:
        return None
    col = {h: [(r[i].strip() if i < len(r) else "") for _, r in body] for i, h in enumerate(header) if h}
    analysis = col["analysis"]
    if not all(analysis):
        return None
    codes = {}
    for t in set(col["measure"]):
        try:
            codes[t] = get_measure(t)
        except (ValueError, KeyError):
            return None
    meas = [codes[t] for t in col["measure"]]
    lib_txt = [t.lower() for t in col["lower_is_better"]]
    if not all(t in TRUE or t in FALSE for t in lib_txt):
        return None
    n = len(body)
    num: dict[str, np.ndarray] = {}
    for c in _PUBLISHED_NUM:
        if c not in col:
            num[c] = np.full(n, np.nan)
            continue
        vals = col[c]
        if any("," in t for t in vals):
            return None
        try:
            v = np.array([float(t) if t != "" else np.nan for t in vals], dtype=float)
        except ValueError:
            return None
        given = np.array([t != "" for t in vals], dtype=bool)
        if np.any(given & ~np.isfinite(v)):
            return None
        num[c] = v
    ratio = np.array([m.ratio for m in meas], dtype=bool)
    est, lb, ub, se = num["estimate"], num["ci_lb"], num["ci_ub"], num["se"]
    lev = np.where(np.isnan(num["ci_level"]), 0.95, num["ci_level"])
    has_ci = np.array([a != "" or b != "" for a, b in zip(col.get("ci_lb", [""] * n), col.get("ci_ub", [""] * n),
                                                          strict=True)], dtype=bool)
    with np.errstate(invalid="ignore"):
        bad = (np.isnan(est) | (ratio & ~(est > 0)) | ~((lev > 0) & (lev < 1))
               | (has_ci & (np.isnan(lb) | np.isnan(ub) | (ratio & ~((lb > 0) & (ub > 0)))))
               | (~has_ci & np.isnan(se)) | (np.isfinite(se) & ~(se > 0))
               | (has_ci & ~((lb <= est) & (est <= ub))))
        g = num["margin"]
        bad |= np.isfinite(g) & np.where(ratio, ~(g > 0) | (g == 1.0), g < 0)
        d = num["decimals"]
        bad |= np.isfinite(d) & ((d < 0) | (d != np.floor(d)))
        for c in ("k", "participants", "participants_randomised"):
            v = num[c]
            bad |= np.isfinite(v) & (~(v > 0) | (v != np.floor(v)))
        bad |= np.isfinite(num["p"]) & ((num["p"] < 0) | (num["p"] > 1))
    if bad.any():
        return None
    dec = d.copy()
    need = np.isnan(dec) & has_ci
    if need.any():
        e_t, l_t, u_t = col["estimate"], col["ci_lb"], col["ci_ub"]
        dec[need] = [max(_decimals(e_t[i]), _decimals(l_t[i]), _decimals(u_t[i])) for i in np.nonzero(need)[0]]
    return pd.DataFrame({
        "line": [ln for ln, _ in body], "analysis": analysis, "measure": [m.code for m in meas],
        "lower_is_better": [t in TRUE for t in lib_txt], "margin": num["margin"], "ci_level": lev,
        "estimate": est, "ci_lb": lb, "ci_ub": ub, "se_given": se, "decimals": dec, "k": num["k"],
        "participants": num["participants"], "participants_randomised": num["participants_randomised"],
        "p": num["p"]})


def _parse_row(name, ln, cell, layout, problems) -> dict:
    out: dict = {"line": ln}

    def need_num(col, positive=False, nonneg=False, integer=False, optional=False):
        t = cell.get(col, "")
        if t == "":
            if not optional:
                problems.append(Problem(name, ln, col, "is empty; a number is required"))
            return np.nan
        v = _num(t.replace(",", ".") if t.count(",") == 1 and "." not in t else t)
        if v is None or not np.isfinite(v):
            hint = " (decimal comma? use a point)" if "," in t else ""
            problems.append(Problem(name, ln, col, f"expected a number, got {t!r}{hint}"))
            return np.nan
        if "," in t:
            problems.append(Problem(name, ln, col, f"decimal comma in {t!r}; write {t.replace(',', '.')}"))
            return np.nan
        if positive and not v > 0:
            problems.append(Problem(name, ln, col, f"must be > 0, got {t}"))
        if nonneg and v < 0:
            problems.append(Problem(name, ln, col, f"must be >= 0, got {t}"))
        if integer and v != int(v):
            problems.append(Problem(name, ln, col, f"must be a whole number, got {t}"))
        return v

    out["analysis"] = cell["analysis"]
    if not out["analysis"]:
        problems.append(Problem(name, ln, "analysis", "is empty; give every row an analysis id"))
    try:
        m = get_measure(cell["measure"])
        out["measure"] = m.code
    except (ValueError, KeyError) as e:
        problems.append(Problem(name, ln, "measure", str(e).strip("'\"")))
        m = None
        out["measure"] = cell["measure"]
    # orientation
    lib = None
    if "lower_is_better" in cell and cell["lower_is_better"] != "":
        t = cell["lower_is_better"].lower()
        lib = True if t in TRUE else False if t in FALSE else None
        if lib is None:
            problems.append(Problem(name, ln, "lower_is_better", f"expected true or false, got {cell['lower_is_better']!r}"))
    elif "orientation" in cell and cell["orientation"] != "":
        t = cell["orientation"].lower().replace("_", " ")
        lib = True if t in {"lower", "lower is better"} else False if t in {"higher", "higher is better"} else None
        if lib is None:
            problems.append(Problem(name, ln, "orientation", f"expected 'lower' or 'higher', got {cell['orientation']!r}"))
    else:
        col = "lower_is_better" if "lower_is_better" in cell else "orientation"
        problems.append(Problem(name, ln, col, "is empty; say whether lower values favour the experimental arm"))
    out["lower_is_better"] = lib
    ratio = bool(m is not None and m.ratio)
    margin = need_num("margin", optional=True, positive=ratio, nonneg=not ratio) if "margin" in cell else np.nan
    if ratio and margin == 1.0:
        problems.append(Problem(name, ln, "margin", "a ratio margin of 1 is no margin; use e.g. 1.25"))
    out["margin"] = margin
    if layout == "studies":
        out["study"] = cell["study"]
        if not out["study"]:
            problems.append(Problem(name, ln, "study", "is empty; label every study"))
        out["yi"] = need_num("yi")
        if cell.get("sei", "") != "":
            out["sei"] = need_num("sei", positive=True)
        elif cell.get("vi", "") != "":
            vi = need_num("vi", positive=True)
            out["sei"] = float(np.sqrt(vi)) if vi > 0 else np.nan
        else:
            problems.append(Problem(name, ln, "sei" if "sei" in cell else "vi", "is empty; give sei or vi"))
            out["sei"] = np.nan
        return out
    est = need_num("estimate", positive=ratio)
    level = need_num("ci_level", optional=True) if "ci_level" in cell else np.nan
    level = 0.95 if np.isnan(level) else level
    if not 0 < level < 1:
        problems.append(Problem(name, ln, "ci_level", f"must lie in (0, 1), e.g. 0.95; got {cell.get('ci_level')}"))
        level = 0.95
    out["ci_level"] = level
    has_ci = cell.get("ci_lb", "") != "" or cell.get("ci_ub", "") != ""
    lb = need_num("ci_lb", positive=ratio) if has_ci else np.nan
    ub = need_num("ci_ub", positive=ratio) if has_ci else np.nan
    se = need_num("se", positive=True, optional=True) if "se" in cell else np.nan
    if not has_ci and np.isnan(se):
        problems.append(Problem(name, ln, "ci_lb" if "ci_lb" in cell else "se", "no CI and no SE: give ci_lb and "
                                "ci_ub, or se"))
    if has_ci and np.isfinite([est, lb, ub]).all() and not lb <= est <= ub:
        problems.append(Problem(name, ln, "ci_lb" if est < lb else "ci_ub",
                                f"the CI [{cell['ci_lb']}, {cell['ci_ub']}] does not contain the estimate {cell['estimate']}"
                                + (" (are the bounds swapped?)" if ub < lb else "")))
    dec = need_num("decimals", nonneg=True, integer=True, optional=True) if "decimals" in cell else np.nan
    if np.isnan(dec) and has_ci:
        dec = max(_decimals(cell[c]) for c in ("estimate", "ci_lb", "ci_ub"))
    out.update(estimate=est, ci_lb=lb, ci_ub=ub, se_given=se, decimals=dec)
    for col, kw in (("k", {"positive": True, "integer": True}), ("participants", {"positive": True, "integer": True}),
                    ("participants_randomised", {"positive": True, "integer": True}), ("p", {"nonneg": True})):
        out[col] = need_num(col, optional=True, **kw) if col in cell else np.nan
    if np.isfinite(out["p"]) and out["p"] > 1:
        problems.append(Problem(name, ln, "p", f"a p-value lies in [0, 1], got {cell['p']}"))
    return out
