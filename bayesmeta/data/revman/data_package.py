"""Read a Cochrane data package (``.zip``; RevMan Web's "download data" of a review).

The package holds ``<CD>-analysis-data/<CD>-overall-estimates-and-settings.csv`` (one row per
analysis: settings, group labels and RevMan's pooled result), ``<CD>-data-rows.csv`` (one row per
study and analysis) and ``<CD>-subgroup-estimates.csv``; the Cochrane Library wraps them in
``<CD>-files/<CD>-data.zip`` inside a zip with the article's PDF and figures. Both layouts are
read, in memory (nothing is extracted to disk; a member larger than 100 MB is refused). Columns
are those meta's ``read.cdir`` reads (``R/read.cdir.R``). RevMan Web writes 0 for values it did
not compute (an SMD analysis it did not pool has estimate 0 and CI [0, 0]): such results are read
as missing, with a note.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import math
import re
import zipfile
from pathlib import Path
from typing import Any

from bayesmeta.data.revman.model import Analysis, Pooled, Review, Settings, Source, StudyRow, Subgroup
from bayesmeta.data.revman.vocab import data_type, measure_and_method, number
from bayesmeta.errors import DataError, Problem

__all__ = ["read_data_package"]

_MAX_BYTES = 100 * 2**20
_FILES = {
    "settings": "-overall-estimates-and-settings.csv",
    "rows": "-data-rows.csv",
    "subgroups": "-subgroup-estimates.csv",
}

_SETTINGS = {
    "Analysis group": "comp", "Analysis number": "no", "Analysis name": "name",
    "Analysis group name": "comp_name", "Data type": "type", "Log-scale data": "logscale",
    "Experimental group label": "label_1", "Control group label": "label_2",
    "Statistical method": "method", "Effect measure": "measure", "Unit of effect measure": "units",
    "Analysis model": "model", "Subgroup estimates": "subgroup_estimates", "Overall estimates": "overall",
    "Test for subgroup differences": "subgroup_test", "Swap event and non-event": "swap",
    "Study CI": "level_study", "Estimate CI": "level_total",
    "Experimental cases": "events_1", "Experimental N": "total_1", "Control cases": "events_2",
    "Control N": "total_2", "Mean": "estimate", "CI start": "ci_lb", "CI end": "ci_ub",
    "Heterogeneity Tau²": "tau2", "Heterogeneity Chi²": "Q", "Heterogeneity df": "Q_df",
    "Heterogeneity P": "Q_p", "Heterogeneity I²": "I2", "Effect Z": "z", "Effect P": "p_z",
    "Subgroup Chi²": "Q_int", "Subgroup df": "Q_int_df", "Subgroup P": "Q_int_p", "Subgroup I²": "I2_int",
}
_ROWS = {
    "Analysis group": "comp", "Analysis number": "no", "Analysis name": "name", "Subgroup": "subgroup",
    "Study": "study", "Study year": "year", "GIV Mean": "giv_estimate", "GIV SE": "giv_se",
    "Experimental mean": "mean_1", "Experimental SD": "sd_1", "Experimental cases": "events_1",
    "Experimental N": "total_1", "Control mean": "mean_2", "Control SD": "sd_2", "Control cases": "events_2",
    "Control N": "total_2", "O-E": "o_e", "Variance": "var", "Weight": "weight", "Mean": "estimate",
    "CI start": "ci_lb", "CI end": "ci_ub",
}
_SUBGROUPS = {
    "Analysis group": "comp", "Analysis number": "no", "Subgroup": "name", "Subgroup number": "g",
    "Experimental cases": "events_1", "Experimental N": "total_1", "Control cases": "events_2",
    "Control N": "total_2", "Weight": "weight", "Mean": "estimate", "CI start": "ci_lb", "CI end": "ci_ub",
    "Heterogeneity Tau²": "tau2", "Heterogeneity Chi²": "Q", "Heterogeneity df": "Q_df",
    "Heterogeneity P": "Q_p", "Heterogeneity I²": "I2", "Effect Z": "z", "Effect P": "p_z",
}
_TEXT = {"name", "comp_name", "type", "logscale", "label_1", "label_2", "method", "measure", "units", "model",
         "subgroup_estimates", "overall", "subgroup_test", "swap", "level_study", "level_total", "subgroup",
         "study", "year"}


def _members(path: Path, zf: zipfile.ZipFile, depth: int = 0) -> dict[str, tuple[str, bytes]]:
    """The package's three CSV files (name -> (member path, bytes)), looking one zip level down."""
    found: dict[str, tuple[str, bytes]] = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        if info.file_size > _MAX_BYTES:
            raise DataError(Problem(str(path), None, info.filename, "zip member larger than 100 MB; refused"))
        low = info.filename.lower()
        for key, tail in _FILES.items():
            if low.endswith(tail) and key not in found:
                found[key] = (info.filename, zf.read(info))
        if depth == 0 and low.endswith(".zip") and len(found) < len(_FILES):
            try:
                inner = zipfile.ZipFile(io.BytesIO(zf.read(info)))
            except zipfile.BadZipFile:
                continue
            for k, (name, data) in _members(path, inner, 1).items():
                found.setdefault(k, (f"{info.filename}!{name}", data))
    return found


def _table(path: Path, member: str, data: bytes, columns: dict[str, str], problems: list[Problem]):
    text = data.decode("utf-8-sig", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    where = f"{path}!{member}"
    if not rows:
        problems.append(Problem(where, 1, None, "empty file"))
        return []
    header = [h.strip() for h in rows[0]]
    need = [c for c in columns if c in ("Analysis group", "Analysis number")]
    missing = [c for c in need if c not in header]
    if missing:
        problems.append(Problem(where, 1, None, f"missing column(s) {', '.join(missing)}; not a Cochrane data package file"))
        return []
    out = []
    for i, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        d: dict[str, Any] = {"_line": i}
        dec: dict[str, int] = {}
        for name, val in zip(header, row):
            key = columns.get(name)
            if key is None:
                continue  # the package carries more columns (footnotes, applicability, IDs) than are needed
            if key in _TEXT:
                d[key] = val.strip()
                continue
            got = number(val)
            if got is None:
                problems.append(Problem(where, i, name, f"expected a number, got {val!r}"))
                d[key] = math.nan
            else:
                d[key], dd = got
                if dd is not None:
                    dec[key] = dd
        d["_dec"] = dec
        out.append(d)
    return out


def _truthy(s: str) -> bool:
    return str(s).strip().casefold() in ("true", "yes", "y", "1")


def _level(s: str) -> float:
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*$", str(s))
    return float(m.group(1)) / 100 if m else 0.95


def _not_computed(d: dict[str, Any]) -> bool:
    return all(d.get(k) == 0 for k in ("estimate", "ci_lb", "ci_ub"))


def _pooled(d: dict[str, Any], src: Source, with_int: bool) -> Pooled:
    if _not_computed(d):
        return Pooled(estimate=math.nan, ci_lb=math.nan, ci_ub=math.nan, source=src)
    g = lambda k: d.get(k, math.nan)
    kw: dict[str, Any] = {}
    if with_int:
        kw = {k: g(k) for k in ("Q_int", "Q_int_df", "Q_int_p", "I2_int")}
    df = g("Q_df")
    return Pooled(
        estimate=g("estimate"), ci_lb=g("ci_lb"), ci_ub=g("ci_ub"), z=g("z"), p_z=g("p_z"), Q=g("Q"),
        Q_df=df, Q_p=g("Q_p"), I2=g("I2"), tau2=g("tau2"), weight=g("weight"),
        k=int(df) + 1 if math.isfinite(df) else None, events_1=g("events_1"), total_1=g("total_1"),
        events_2=g("events_2"), total_2=g("total_2"), decimals=dict(d["_dec"]), source=src, **kw,
    )


def read_data_package(path: str | Path) -> Review:
    """Read every analysis of a Cochrane data package (see the module docstring).

    Raises
    ------
    DataError
        Not a zip, a zip without the package's analysis files (naming the files expected), a value
        that is not a number, an unknown data type or measure (file, member, line and column).
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise DataError(Problem(str(path), None, None, "not a zip file (a Cochrane data package is a .zip)")) from None
    found = _members(path, zf)
    missing = [k for k in _FILES if k not in found]
    if "settings" in missing or "rows" in missing:
        raise DataError(
            Problem(
                str(path), None, None,
                "not a Cochrane data package: no file ending in "
                + " or ".join(repr(_FILES[k]) for k in missing if k != "subgroups")
                + " in the zip (nor in a zip inside it); download the review's data package from the "
                "Cochrane Library, or read a RevMan 5 .rm5 file",
            )
        )
    problems: list[Problem] = []
    settings_rows = _table(path, found["settings"][0], found["settings"][1], _SETTINGS, problems)
    data_rows = _table(path, found["rows"][0], found["rows"][1], _ROWS, problems)
    sub_rows = _table(path, *found["subgroups"], _SUBGROUPS, problems) if "subgroups" in found else []
    if problems:
        raise DataError(problems)
    notes: list[str] = []
    f = str(path)
    analyses: list[Analysis] = []
    for s in settings_rows:
        sm = f"{found['settings'][0]} line {s['_line']}"
        where = f"{path}!{found['settings'][0]}"
        if not (math.isfinite(s.get("comp", math.nan)) and math.isfinite(s.get("no", math.nan))):
            problems.append(Problem(where, s["_line"], "Analysis number", "analysis group and number are required"))
            continue
        c, o = int(s["comp"]), int(s["no"])
        dtype = data_type(s.get("type", ""))
        if dtype is None:
            problems.append(Problem(where, s["_line"], "Data type", f"unknown data type {s.get('type')!r} "
                                    "(Dichotomous, Continuous, Contrast level, O-E and variance)"))
            continue
        got = measure_and_method(s.get("measure", ""), s.get("method", ""), dtype)
        if isinstance(got, str):
            problems.append(Problem(where, s["_line"], "Effect measure", got))
            continue
        code, method = got
        model = s.get("model", "").casefold()
        overall = _truthy(s.get("overall", "true"))
        sub_est = _truthy(s.get("subgroup_estimates", "false"))
        settings = Settings(
            data_type=dtype, method=method, measure=code, revman_measure=s.get("measure", ""),
            random=model.startswith("random"),
            totals="overall" if overall else ("subtotals" if sub_est else "none"),
            subgroups=False, subgroup_test=_truthy(s.get("subgroup_test", "false")),
            level_study=_level(s.get("level_study", "")), level_total=_level(s.get("level_total", "")),
            log_data=_truthy(s["logscale"]) if s.get("logscale") else None,
            swap_events=_truthy(s.get("swap", "false")), units=s.get("units", ""),
        )
        comp = s.get("comp_name", "")
        oid = f"{c}.{o}"
        src = Source(f, "zip", f"{c} {comp}".strip(), f"{oid} {s.get('name', '')}".strip(), None, None, sm)
        gs = [g for g in sub_rows if int(g.get("comp", -1)) == c and int(g.get("no", -1)) == o]
        subgroups: list[Subgroup] = []
        for g in gs:
            gsrc = Source(f, "zip", src.comparison, src.outcome, g.get("name"), None,
                          f"{found['subgroups'][0]} line {g['_line']}")
            gno = int(g["g"]) if math.isfinite(g.get("g", math.nan)) else len(subgroups) + 1
            subgroups.append(Subgroup(gno, g.get("name", ""), _pooled(g, gsrc, False), gsrc))
        gnums = {sg.name: sg.no for sg in subgroups}
        from bayesmeta.effects.measures import get_measure

        ratio = get_measure(code).ratio
        studies = []
        for d in data_rows:
            if int(d.get("comp", -1)) != c or int(d.get("no", -1)) != o:
                continue
            gname = d.get("subgroup") or None
            ssrc = Source(f, "zip", src.comparison, src.outcome, gname, d.get("study"),
                          f"{found['rows'][0]} line {d['_line']}")
            studies.append(_study(d, dtype, ratio, settings, ssrc, gname, gnums))
        if not studies:
            notes.append(f"analysis {oid} ({s.get('name')}) has no study rows; left out")
            continue
        settings = dataclasses.replace(settings, subgroups=bool(subgroups))
        pooled = _pooled(s, src, bool(subgroups))
        if not pooled.computed:
            notes.append(f"analysis {oid} ({s.get('name')}): the package stores no pooled result (0 written)")
        analyses.append(
            Analysis(
                comparison_no=c, outcome_no=o, comparison=comp, name=s.get("name", ""), settings=settings,
                experimental=s.get("label_1") or "Experimental", control=s.get("label_2") or "Control",
                favours_left="", favours_right="", studies=tuple(studies), subgroups=tuple(subgroups),
                pooled=pooled, source=src,
            )
        )
    if problems:
        raise DataError(problems)
    if not analyses:
        raise DataError(Problem(f, None, None, "the data package holds no analyses with study rows"))
    title = analyses[0].comparison if len({a.comparison for a in analyses}) == 1 else path.stem
    notes.append("the data package stores no 'favours' labels")
    sha = hashlib.sha256(raw).hexdigest()
    return Review(file=f, format="zip", title=title, sha256=sha,
                  analyses=tuple(dataclasses.replace(a, review_sha256=sha) for a in analyses),
                  notes=tuple(notes))


def _study(d, dtype: str, ratio: bool, settings: Settings, src: Source, gname, gnums) -> StudyRow:
    g = lambda k: d.get(k, math.nan)
    vals = {k: g(k) for k in ("events_1", "total_1", "mean_1", "sd_1", "events_2", "total_2", "mean_2", "sd_2",
                              "o_e", "var", "giv_estimate", "giv_se")}
    keep = {
        "dichotomous": ("events_1", "total_1", "events_2", "total_2"),
        "continuous": ("mean_1", "sd_1", "total_1", "mean_2", "sd_2", "total_2"),
        "oe": ("o_e", "var", "total_1", "total_2"),
        "giv": ("giv_estimate", "giv_se", "total_1", "total_2"),
    }[dtype]
    for k in vals:  # the package writes 0 in the fields a data type does not use
        if k not in keep:
            vals[k] = math.nan
    if dtype in ("oe", "giv"):
        for k in ("total_1", "total_2"):
            if vals[k] == 0:
                vals[k] = math.nan
        if dtype == "giv" and ratio and settings.log_data is False:
            vals["giv_estimate"] = math.log(vals["giv_estimate"]) if vals["giv_estimate"] > 0 else math.nan
    if settings.swap_events and dtype == "dichotomous":
        vals["events_1"], vals["events_2"] = vals["total_1"] - vals["events_1"], vals["total_2"] - vals["events_2"]
    computed = not _not_computed(d)
    nan = math.nan
    dec = {("stored_" + k if k in ("estimate", "ci_lb", "ci_ub", "weight") else k): v for k, v in d["_dec"].items()}
    return StudyRow(
        study=d.get("study", ""), year=d.get("year", ""), subgroup_no=gnums.get(gname), subgroup=gname,
        stored_estimate=g("estimate") if computed else nan, stored_ci_lb=g("ci_lb") if computed else nan,
        stored_ci_ub=g("ci_ub") if computed else nan, stored_weight=g("weight") if computed else nan,
        decimals=dec, source=src, **vals,
    )
