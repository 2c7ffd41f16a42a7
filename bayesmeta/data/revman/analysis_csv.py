"""Read the analysis CSV that RevMan 5 exports ("File > Export > Data and analyses").

One row per comparison (outcome number 0), per outcome (a data type and the outcome's settings and
pooled result), per subgroup (a data type and a subgroup number) and per study (no data type), in
that order; columns as the R package meta's ``read.rm5`` reads them (``R/read.rm5-internal.R``,
``read.rm5.csv``). Every column of the file must be known: an unknown column is an error naming
it (a "Risk of bias tables" export, which meta refuses too, cannot be read; export without it).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import math
import re
from pathlib import Path
from typing import Any

from bayesmeta.data.revman.model import Analysis, Pooled, Review, Settings, Source, StudyRow, Subgroup
from bayesmeta.data.revman.vocab import data_type, measure_and_method, number
from bayesmeta.errors import DataError, Problem

__all__ = ["COLUMNS", "read_analysis_csv"]

#: RevMan 5's column names (normalised: lower case, letters and digits only) -> field names here.
COLUMNS = {
    "comparisonnumber": "comp",
    "outcomenumber": "outcome",
    "subgroupnumber": "subgroup",
    "name": "name",
    "datatype": "type",
    "statisticalmethod": "method",
    "effectmeasure": "measure",
    "analysismodel": "model",
    "swapeventandnonevent": "swap",
    "entereddataareonlogscalegenericinversevarianceonly": "logscale",
    "enternumberofparticipantsgenericinversevarianceforldisplayonly": "enter_n",
    "enternumberofparticipantsgenericinversevariancefordisplayonly": "enter_n",
    "events1": "events_1",
    "mean1": "mean_1",
    "sd1": "sd_1",
    "total1": "total_1",
    "events2": "events_2",
    "mean2": "mean_2",
    "sd2": "sd_2",
    "total2": "total_2",
    "oe": "o_e",
    "var": "var",
    "variance": "var",
    "effectestimate": "estimate",
    "se": "se",
    "cistart": "ci_lb",
    "ciend": "ci_ub",
    "weight": "weight",
    "q": "Q",
    "pq": "Q_p",
    "i2q": "I2",
    "tau2": "tau2",
    "z": "z",
    "pz": "p_z",
    "qint": "Q_int",
    "pqint": "Q_int_p",
    "i2qint": "I2_int",
    "df": "df",
    "grouplabel1": "label_1",
    "grouplabel2": "label_2",
    "leftgraphlabel": "left",
    "rightgraphlabel": "right",
    "yearofstudy": "year",
    "userdefinedorder": "order",
}


def _norm(name: str) -> str:
    s = name.replace("²", "2").replace("Â", "").casefold()
    return re.sub(r"[^a-z0-9]", "", s)


def _decode(path: Path, data: bytes) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError(Problem(str(path), None, None, "not text (neither UTF-8 nor Windows-1252)"))


def read_analysis_csv(path: str | Path, data: bytes | None = None) -> Review:
    """Read every analysis of a RevMan 5 analysis CSV export.

    The CSV carries no confidence levels (95% assumed, as RevMan's default; noted) and no
    "totals" setting (an outcome with a stored pooled estimate has totals).

    Raises
    ------
    DataError
        Unknown or missing columns, a value that is not a number, an unknown data type or measure,
        a study row before any outcome row; each problem names the file, line and column.
    """
    path = Path(path)
    if data is None:
        data = path.read_bytes()
    text = _decode(path, data)
    first = text.split("\n", 1)[0]
    delim = max((",", ";", "\t"), key=first.count)
    decimal_comma = delim != ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    f = str(path)
    if not rows or not any(c.strip() for c in rows[0]):
        raise DataError(Problem(f, 1, None, "empty file; expected RevMan 5's analysis export (a header row first)"))
    header = rows[0]
    problems: list[Problem] = []
    fields: list[str | None] = []
    for name in header:
        key = COLUMNS.get(_norm(name))
        if key is None and name.strip():
            hint = (
                " (RevMan's 'Risk of bias tables' field: export the analyses again without it)"
                if "bias" in name.casefold()
                else ""
            )
            problems.append(
                Problem(f, 1, name, f"unknown column for a RevMan 5 analysis export{hint}; expected "
                        "columns such as Comparison Number, Outcome Number, Subgroup Number, Name, Data Type, "
                        "Statistical Method, Effect Measure, Analysis Model, Events 1, Total 1, Effect Estimate")
            )
        fields.append(key)
    need = ("comp", "outcome", "subgroup", "name", "type")
    missing = [n for n in need if n not in fields]
    if missing:
        problems.append(
            Problem(f, 1, None, "not a RevMan 5 analysis export: missing column(s) "
                    + ", ".join({"comp": "Comparison Number", "outcome": "Outcome Number", "subgroup":
                                 "Subgroup Number", "name": "Name", "type": "Data Type"}[m] for m in missing))
        )
    if problems:
        raise DataError(problems)

    def rec(row: list[str], line: int) -> tuple[dict[str, Any], dict[str, int]]:
        if len(row) != len(header):
            problems.append(Problem(f, line, None, f"{len(row)} fields, the header has {len(header)}"))
        d: dict[str, Any] = {}
        dec: dict[str, int] = {}
        for key, name, val in zip(fields, header, row):
            if key is None:
                continue
            if key in ("name", "type", "method", "measure", "model", "label_1", "label_2", "left", "right", "year", "swap", "logscale", "enter_n"):
                d[key] = val.strip()
                continue
            got = number(val.replace(".", "").replace(",", ".") if decimal_comma and "," in val else val)
            if got is None:
                problems.append(Problem(f, line, name, f"expected a number, got {val!r}"))
                d[key] = math.nan
            else:
                d[key], dd = got
                if dd is not None:
                    dec[key] = dd
        return d, dec

    comps: dict[int, str] = {}
    outcomes: list[dict[str, Any]] = []
    notes = ["confidence levels are not in RevMan's CSV export: 95% assumed (RevMan's default)"]
    if decimal_comma:
        notes.append(f"fields separated by {delim!r}: decimal commas read as decimal points")
    for i, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        d, dec = rec(row, i)
        c, o, g = d.get("comp"), d.get("outcome"), d.get("subgroup")
        if not all(isinstance(x, float) and math.isfinite(x) for x in (c, o, g)):
            problems.append(Problem(f, i, "Comparison Number", "comparison, outcome and subgroup numbers are required"))
            continue
        c, o, g = int(c), int(o), int(g)  # type: ignore[arg-type]
        if o == 0:
            comps[c] = d["name"]
            continue
        if d.get("type"):
            if g == 0:
                outcomes.append({"row": d, "dec": dec, "line": i, "comp": c, "no": o, "studies": [], "subgroups": {}})
            else:
                if not outcomes or (outcomes[-1]["comp"], outcomes[-1]["no"]) != (c, o):
                    problems.append(Problem(f, i, "Subgroup Number", "a subgroup row before its outcome row"))
                    continue
                outcomes[-1]["subgroups"][g] = (d, dec, i)
            continue
        if not outcomes or (outcomes[-1]["comp"], outcomes[-1]["no"]) != (c, o):
            problems.append(Problem(f, i, "Outcome Number", f"a study row ({d.get('name')!r}) before its outcome row"))
            continue
        cur = outcomes[-1]
        if g > 0 and g not in cur["subgroups"] and not any(x[3] == g for x in cur["studies"]) and _subgroup_row(d):
            cur["subgroups"][g] = (d, dec, i)  # a subgroup row written without a data type
            continue
        cur["studies"].append((d, dec, i, g))
    if problems:
        raise DataError(problems)

    analyses: list[Analysis] = []
    for out in outcomes:
        d, dec, line = out["row"], out["dec"], out["line"]
        dtype = data_type(d["type"])
        if dtype is None:
            problems.append(Problem(f, line, "Data Type", f"unknown data type {d['type']!r} (RevMan's: DIC, CON, IV, IPD)"))
            continue
        got = measure_and_method(d.get("measure", ""), d.get("method", ""), dtype)
        if isinstance(got, str):
            problems.append(Problem(f, line, "Effect Measure", got))
            continue
        code, method = got
        model = d.get("model", "").casefold()
        if model not in ("fixed", "random", ""):
            problems.append(Problem(f, line, "Analysis Model", f"expected Fixed or Random, got {d.get('model')!r}"))
            continue
        logscale = d.get("logscale", "").casefold()
        settings = Settings(
            data_type=dtype,
            method=method,
            measure=code,
            revman_measure=d.get("measure", ""),
            random=model == "random",
            totals="overall" if math.isfinite(d.get("estimate", math.nan)) else "none",
            subgroups=bool(out["subgroups"]),
            subgroup_test=bool(out["subgroups"]),
            log_data=None if not logscale else logscale in ("yes", "true", "y"),
            swap_events=d.get("swap", "").casefold() in ("yes", "true", "y"),
        )
        comp = comps.get(out["comp"], "")
        oid = f"{out['comp']}.{out['no']}"
        src = Source(f, "csv", f"{out['comp']} {comp}".strip(), f"{oid} {d['name']}".strip(), None, None, f"line {line}")
        subgroups = []
        for gno, (gd, gdec, gline) in sorted(out["subgroups"].items()):
            gsrc = Source(f, "csv", src.comparison, src.outcome, gd["name"], None, f"line {gline}")
            subgroups.append(Subgroup(gno, gd["name"], _pooled(gd, gdec, gsrc, False), gsrc))
        gnames = {s.no: s.name for s in subgroups}
        studies = []
        from bayesmeta.effects.measures import get_measure

        ratio = get_measure(code).ratio
        for sd, sdec, sline, g in out["studies"]:
            ssrc = Source(f, "csv", src.comparison, src.outcome, gnames.get(g) if g else None, sd["name"], f"line {sline}")
            studies.append(_study(sd, sdec, dtype, ratio, settings, ssrc, g, gnames.get(g)))
        pooled = _pooled(d, dec, src, bool(subgroups))
        if subgroups:
            pooled = dataclasses.replace(pooled, Q_int_df=float(len(subgroups) - 1))
        analyses.append(
            Analysis(
                comparison_no=out["comp"],
                outcome_no=out["no"],
                comparison=comp,
                name=d["name"],
                settings=settings,
                experimental=d.get("label_1") or "Experimental",
                control=d.get("label_2") or "Control",
                favours_left=d.get("left", ""),
                favours_right=d.get("right", ""),
                studies=tuple(studies),
                subgroups=tuple(subgroups),
                pooled=pooled,
                source=src,
            )
        )
    if problems:
        raise DataError(problems)
    if not analyses:
        raise DataError(Problem(f, None, None, "no outcome rows (rows with a Data Type); is this RevMan's analysis export?"))
    sha = hashlib.sha256(data).hexdigest()
    return Review(
        file=f,
        format="csv",
        title=next(iter(comps.values()), path.stem) if len(comps) == 1 else path.stem,
        sha256=sha,
        analyses=tuple(dataclasses.replace(a, review_sha256=sha) for a in analyses),
        notes=tuple(notes),
    )


def _subgroup_row(d: dict[str, Any]) -> bool:
    """A row that pools (heterogeneity df or Q given) or holds no study values: a subgroup's row."""
    nan = lambda k: not math.isfinite(d.get(k, math.nan))
    pools = not nan("df") or not nan("Q")
    empty = all(nan(k) for k in ("events_1", "total_1", "mean_1", "sd_1", "events_2", "total_2", "o_e", "var", "se"))
    return pools or empty


def _pooled(d: dict[str, Any], dec: dict[str, int], src: Source, with_int: bool) -> Pooled:
    g = lambda k: d.get(k, math.nan)
    df = g("df")
    kw: dict[str, Any] = {}
    if with_int:
        kw = {"Q_int": g("Q_int"), "Q_int_p": g("Q_int_p"), "I2_int": g("I2_int")}
    return Pooled(
        estimate=g("estimate"),
        ci_lb=g("ci_lb"),
        ci_ub=g("ci_ub"),
        z=g("z"),
        p_z=g("p_z"),
        Q=g("Q"),
        Q_df=df,
        Q_p=g("Q_p"),
        I2=g("I2"),
        tau2=g("tau2"),
        weight=g("weight"),
        k=int(df) + 1 if math.isfinite(df) else None,
        events_1=g("events_1"),
        total_1=g("total_1"),
        events_2=g("events_2"),
        total_2=g("total_2"),
        decimals=dec,
        source=src,
        **kw,
    )


def _study(d, dec, dtype: str, ratio: bool, settings: Settings, src: Source, g: int, gname: str | None) -> StudyRow:
    g_ = lambda k: d.get(k, math.nan)
    vals: dict[str, float] = {k: g_(k) for k in ("events_1", "total_1", "mean_1", "sd_1", "events_2", "total_2", "mean_2", "sd_2", "o_e", "var")}
    # RevMan writes 0 in the fields a data type does not use (meta's read.rm5 treats them as missing)
    if dtype != "continuous":
        for k in ("mean_1", "sd_1", "mean_2", "sd_2"):
            vals[k] = math.nan
    if dtype != "dichotomous":
        vals["events_1"] = vals["events_2"] = math.nan
    if dtype != "oe":
        vals["o_e"] = vals["var"] = math.nan
    if dtype in ("oe", "giv"):
        for k in ("total_1", "total_2"):
            if vals[k] == 0:
                vals[k] = math.nan
    if settings.swap_events and dtype == "dichotomous":
        vals["events_1"], vals["events_2"] = vals["total_1"] - vals["events_1"], vals["total_2"] - vals["events_2"]
    est, se = g_("estimate"), g_("se")
    giv_est = math.nan
    if dtype == "giv":
        # the export's "Effect Estimate" is RevMan's display value: the ratio for ratio measures
        giv_est = (math.log(est) if est > 0 else math.nan) if ratio else est
    year = d.get("year", "")
    order = g_("order")
    return StudyRow(
        study=d["name"],
        year=str(year),
        subgroup_no=g or None,
        subgroup=gname,
        giv_estimate=giv_est,
        giv_se=se if dtype == "giv" else math.nan,
        stored_estimate=est,
        stored_se=se,
        stored_ci_lb=g_("ci_lb"),
        stored_ci_ub=g_("ci_ub"),
        stored_weight=g_("weight"),
        estimable=bool(math.isfinite(est)),
        order=int(order) if math.isfinite(order) else None,
        decimals={("stored_" + k if k in ("estimate", "se", "ci_lb", "ci_ub", "weight") else k): v for k, v in dec.items()},
        source=src,
        **vals,
    )
