"""Read a RevMan 5 review file (``.rm5``, XML) with a hardened parser.

The XML is parsed by :mod:`defusedxml` (no entity expansion, no external entities or DTD
retrieval: a file declaring entities is refused, never expanded). The analyses live under
``ANALYSES_AND_DATA/COMPARISON``; each comparison holds ``DICH_OUTCOME`` (dichotomous),
``CONT_OUTCOME`` (continuous), ``IPD_OUTCOME`` (O-E and variance) and ``IV_OUTCOME`` (generic
inverse variance) elements, whose attributes are the settings and RevMan's pooled result and whose
``*_DATA`` children (directly or inside ``*_SUBGROUP`` elements) are the study rows. Study names
and years come from ``STUDIES_AND_REFERENCES``. The element names and attributes are those the R
package meta reads (``R/read.rm5-internal.R``) and RevMan 5.0-5.4 write.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from bayesmeta.data.revman.model import Analysis, Pooled, Review, Settings, Source, StudyRow, Subgroup
from bayesmeta.data.revman.vocab import measure_and_method, number
from bayesmeta.errors import DataError, Problem

__all__ = ["read_rm5"]

_OUTCOME_TYPES = {"DICH": "dichotomous", "CONT": "continuous", "IPD": "oe", "IV": "giv"}
_TOTALS = {"YES": "overall", "SUB": "subtotals", "NO": "none"}


class _LineBuilder(TreeBuilder):
    """A TreeBuilder that records the line of each element's start tag."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[int, int] = {}
        self.parser: Any = None

    def start(self, tag, attrs):
        el = super().start(tag, attrs)
        if self.parser is not None:
            self.lines[id(el)] = int(self.parser.parser.CurrentLineNumber)
        return el


_EXPAT_ENCODINGS = ("utf-8", "utf8", "utf-16", "utf16", "iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii")


def _recode(data: bytes) -> tuple[bytes, str | None]:
    """Bytes expat can read, and a note when they had to be re-encoded.

    Expat knows only UTF-8, UTF-16, ISO-8859-1 and ASCII. A file declaring another encoding
    (``windows-1252``) is decoded by Python and re-declared as UTF-8; a file whose bytes are not
    valid in its declared UTF-8 (RevMan 5 files with Windows characters, which meta's ``read.rm5``
    transliterates) is read as Windows-1252, with a note.
    """
    m = re.match(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']", data[:300])
    declared = m.group(1).decode("ascii").lower() if m else "utf-8"
    if declared.replace("_", "-") not in _EXPAT_ENCODINGS:
        try:
            text = data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            text = data.decode("cp1252", errors="replace")
        return _redeclare(text), f"declared encoding {declared!r} re-encoded as UTF-8"
    if declared.startswith("utf-8") or declared == "utf8":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            return _redeclare(data.decode("cp1252", errors="replace")), (
                f"bytes not valid UTF-8 (first at byte {e.start}); read as Windows-1252"
            )
    return data, None


def _redeclare(text: str) -> bytes:
    return re.sub(r"^(\s*<\?xml[^>]*encoding=)[\"'][^\"']*[\"']", r'\1"UTF-8"', text, count=1).encode("utf-8")


def _parse(path: Path, data: bytes) -> tuple[Element, dict[int, int]]:
    import defusedxml
    from defusedxml.ElementTree import DefusedXMLParser

    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        raise DataError(
            Problem(str(path), line, None, f"not well-formed XML ({e}); a RevMan 5 .rm5 file is XML")
        ) from None
    except defusedxml.DefusedXmlException as e:
        raise DataError(
            Problem(
                str(path),
                None,
                None,
                f"refused: the XML declares entities or external references ({type(e).__name__}); "
                "RevMan files never do, and expanding them is unsafe",
            )
        ) from None
    return root, builder.lines


class _Reader:
    def __init__(self, path: Path, lines: dict[int, int]):
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []
        self.notes: list[str] = []

    def line(self, el: Element) -> int | None:
        return self.lines.get(id(el))

    def where(self, el: Element) -> str:
        ln = self.line(el)
        return f"line {ln}, <{el.tag}>" if ln else f"<{el.tag}>"

    def num(self, el: Element, attr: str, dec: dict[str, int] | None = None, key: str | None = None) -> float:
        raw = el.get(attr)
        got = number(raw)
        if got is None:
            self.problems.append(
                Problem(str(self.path), self.line(el), f"<{el.tag} {attr}>", f"expected a number, got {raw!r}")
            )
            return math.nan
        value, d = got
        if dec is not None and d is not None:
            dec[key or attr] = d
        return value

    def text(self, el: Element, child: str) -> str:
        c = el.find(child)
        return "" if c is None or c.text is None else " ".join(c.text.split())


def _pooled(r: _Reader, el: Element, src: Source, with_int: bool) -> Pooled:
    dec: dict[str, int] = {}
    n = lambda a, k=None: r.num(el, a, dec, k)
    studies = n("STUDIES")
    kw: dict[str, Any] = {}
    if with_int:
        kw = {"Q_int": n("Q", "Q_int"), "Q_int_p": n("P_Q", "Q_int_p"), "I2_int": n("I2_Q", "I2_int")}
    return Pooled(
        estimate=n("EFFECT_SIZE", "estimate"),
        ci_lb=n("CI_START", "ci_lb"),
        ci_ub=n("CI_END", "ci_ub"),
        z=n("Z", "z"),
        p_z=n("P_Z", "p_z"),
        Q=n("CHI2", "Q"),
        Q_df=n("DF", "Q_df"),
        Q_p=n("P_CHI2", "Q_p"),
        I2=n("I2"),
        tau2=n("TAU2", "tau2"),
        weight=n("WEIGHT", "weight"),
        k=int(studies) if math.isfinite(studies) else None,
        events_1=n("EVENTS_1", "events_1"),
        total_1=n("TOTAL_1", "total_1"),
        events_2=n("EVENTS_2", "events_2"),
        total_2=n("TOTAL_2", "total_2"),
        decimals=dec,
        source=src,
        **kw,
    )


def _study(
    r: _Reader, el: Element, names: dict[str, tuple[str, str]], settings: Settings, src: Source,
    subgroup: tuple[int, str] | None,
) -> StudyRow:
    sid = el.get("STUDY_ID", "")
    if sid in names:
        name, year = names[sid]
    else:
        name, year = (sid[4:] if sid.startswith("STD-") else sid), ""
        r.notes.append(f"{r.where(el)}: study {sid!r} is not among the review's studies; named {name!r}")
    src = Source(src.file, "rm5", src.comparison, src.outcome, subgroup[1] if subgroup else None, name, r.where(el))
    dec: dict[str, int] = {}
    n = lambda a, k=None: r.num(el, a, dec, k)
    e1, t1, e2, t2 = n("EVENTS_1", "events_1"), n("TOTAL_1", "total_1"), n("EVENTS_2", "events_2"), n("TOTAL_2", "total_2")
    if settings.swap_events and settings.data_type == "dichotomous":
        e1, e2 = t1 - e1, t2 - e2
    est = n("EFFECT_SIZE", "stored_estimate")
    giv_est, giv_se = math.nan, math.nan
    if settings.data_type == "giv":
        from bayesmeta.effects.measures import get_measure

        giv_se = n("SE", "giv_se")
        if get_measure(settings.measure).ratio:
            log_es = el.get("LOG_EFFECT_SIZE")
            if log_es not in (None, ""):
                giv_est = n("LOG_EFFECT_SIZE", "giv_estimate")
            else:  # meta's rule (metacr): ratio estimates stored on the ratio scale
                giv_est = math.log(est) if est > 0 else math.nan
        else:
            giv_est = est
    order = n("ORDER")
    return StudyRow(
        study=name,
        year=year,
        subgroup_no=subgroup[0] if subgroup else None,
        subgroup=subgroup[1] if subgroup else None,
        events_1=e1,
        total_1=t1,
        mean_1=n("MEAN_1", "mean_1"),
        sd_1=n("SD_1", "sd_1"),
        events_2=e2,
        total_2=t2,
        mean_2=n("MEAN_2", "mean_2"),
        sd_2=n("SD_2", "sd_2"),
        o_e=n("O_E", "o_e"),
        var=n("VAR", "var"),
        giv_estimate=giv_est,
        giv_se=giv_se,
        stored_estimate=est,
        stored_se=n("SE", "stored_se"),
        stored_ci_lb=n("CI_START", "stored_ci_lb"),
        stored_ci_ub=n("CI_END", "stored_ci_ub"),
        stored_weight=n("WEIGHT", "stored_weight"),
        estimable=el.get("ESTIMABLE", "YES") != "NO",
        order=int(order) if math.isfinite(order) else None,
        decimals=dec,
        source=src,
    )


def _analysis(r: _Reader, el: Element, kind: str, comp_no: int, comp: str, names) -> Analysis | None:
    tag = el.tag.split("_")[0]
    dtype = _OUTCOME_TYPES[tag]
    out_no = r.num(el, "NO")
    name = r.text(el, "NAME")
    loc = r.where(el)
    if not math.isfinite(out_no):
        r.problems.append(Problem(str(r.path), r.line(el), f"<{el.tag} NO>", "the outcome has no number"))
        return None
    raw_measure = el.get("EFFECT_MEASURE") or r.text(el, "EFFECT_MEASURE")
    raw_method = el.get("METHOD", "")
    got = measure_and_method(raw_measure, raw_method, dtype)
    if isinstance(got, str):
        r.problems.append(Problem(str(r.path), r.line(el), f"<{el.tag} EFFECT_MEASURE>", got))
        return None
    code, method = got
    level = lambda a: (v / 100 if math.isfinite(v := r.num(el, a)) else 0.95)
    log_data = el.get("LOG_DATA")
    settings = Settings(
        data_type=dtype,
        method=method,
        measure=code,
        revman_measure=raw_measure,
        random=el.get("RANDOM", "NO") == "YES",
        totals=_TOTALS.get(el.get("TOTALS", "YES"), "overall"),
        subgroups=el.get("SUBGROUPS", "NO") == "YES",
        subgroup_test=el.get("SUBGROUP_TEST", "NO") == "YES",
        level_study=level("CI_STUDY"),
        level_total=level("CI_TOTAL"),
        log_data=None if log_data is None else log_data == "YES",
        swap_events=el.get("SWAP_EVENTS", "NO") == "YES",
        units=el.get("UNITS", ""),
    )
    oid = f"{comp_no}.{int(out_no)}"
    src = Source(str(r.path), "rm5", f"{comp_no} {comp}".strip(), f"{oid} {name}".strip(), None, None, loc)
    studies: list[StudyRow] = []
    subgroups: list[Subgroup] = []
    for child in el:
        if child.tag == f"{tag}_DATA":
            studies.append(_study(r, child, names, settings, src, None))
        elif child.tag == f"{tag}_SUBGROUP":
            g_no = r.num(child, "NO")
            g_name = r.text(child, "NAME")
            g = (int(g_no) if math.isfinite(g_no) else len(subgroups) + 1, g_name)
            gsrc = Source(str(r.path), "rm5", src.comparison, src.outcome, g_name, None, r.where(child))
            subgroups.append(Subgroup(g[0], g_name, _pooled(r, child, gsrc, False), gsrc))
            for d in child:
                if d.tag == f"{tag}_DATA":
                    studies.append(_study(r, d, names, settings, src, g))
    pooled = _pooled(r, el, src, with_int=settings.subgroups)
    if el.get("ESTIMABLE") == "NO":  # RevMan writes 0 for what it could not estimate
        pooled = Pooled(estimate=math.nan, ci_lb=math.nan, ci_ub=math.nan, k=pooled.k, source=src)
    if settings.subgroups and subgroups:
        pooled = dataclasses.replace(pooled, Q_int_df=float(len(subgroups) - 1))
    if not pooled.computed:
        r.notes.append(f"analysis {oid} ({name}): RevMan stored no pooled result ({loc})")
    return Analysis(
        comparison_no=comp_no,
        outcome_no=int(out_no),
        comparison=comp,
        name=name,
        settings=settings,
        experimental=r.text(el, "GROUP_LABEL_1") or "Experimental",
        control=r.text(el, "GROUP_LABEL_2") or "Control",
        favours_left=r.text(el, "GRAPH_LABEL_1"),
        favours_right=r.text(el, "GRAPH_LABEL_2"),
        studies=tuple(studies),
        subgroups=tuple(subgroups),
        pooled=pooled,
        source=src,
    )


def read_rm5(path: str | Path, data: bytes | None = None) -> Review:
    """Read every analysis of a RevMan 5 ``.rm5`` file.

    Parameters
    ----------
    path : str or Path
    data : bytes, optional
        The file's bytes (read from ``path`` when not given).

    Returns
    -------
    Review

    Raises
    ------
    DataError
        Not XML, not a RevMan review (root element not ``COCHRANE_REVIEW``), entities declared,
        an unknown data type or effect measure, a number that is not one; each problem names the
        file, the line and the element.
    """
    import hashlib

    path = Path(path)
    if data is None:
        data = path.read_bytes()
    raw = data
    data, recoded = _recode(data)
    root, lines = _parse(path, data)
    if root.tag != "COCHRANE_REVIEW":
        raise DataError(
            Problem(
                str(path),
                lines.get(id(root)),
                f"<{root.tag}>",
                "not a RevMan 5 review: the root element is not <COCHRANE_REVIEW> (save the review "
                "from RevMan 5 as .rm5, or export its analyses as CSV)",
            )
        )
    r = _Reader(path, lines)
    names: dict[str, tuple[str, str]] = {}
    for st in root.iter("STUDY"):
        sid = st.get("ID")
        if sid:
            names[sid] = (st.get("NAME", sid), st.get("YEAR", ""))
    title = " ".join((root.findtext("COVER_SHEET/TITLE") or "").split()) or path.stem
    aad = root.find("ANALYSES_AND_DATA")
    analyses: list[Analysis] = []
    if aad is None:
        raise DataError(
            Problem(str(path), lines.get(id(root)), "<ANALYSES_AND_DATA>", "the review holds no analyses")
        )
    for comp in aad.findall("COMPARISON"):
        cno = r.num(comp, "NO")
        cname = r.text(comp, "NAME")
        for el in comp:
            tag = el.tag.split("_")[0]
            if el.tag.endswith("_OUTCOME") and tag in _OUTCOME_TYPES:
                a = _analysis(r, el, tag, int(cno) if math.isfinite(cno) else 0, cname, names)
                if a is None:
                    continue
                if not a.studies:
                    r.notes.append(f"analysis {a.id} ({a.name}) has no study rows; left out")
                    continue
                analyses.append(a)
            elif el.tag == "OTHER_OUTCOME":
                r.notes.append(f"{r.where(el)}: 'other data' outcome {r.text(el, 'NAME')!r} holds no numbers to pool; left out")
    if r.problems:
        raise DataError(r.problems)
    if not analyses:
        raise DataError(Problem(str(path), lines.get(id(aad)), "<ANALYSES_AND_DATA>", "the review holds no analyses with study data"))
    sha = hashlib.sha256(raw).hexdigest()
    return Review(
        file=str(path),
        format="rm5",
        title=title,
        sha256=sha,
        analyses=tuple(dataclasses.replace(a, review_sha256=sha) for a in analyses),
        notes=((recoded,) if recoded else ()) + tuple(r.notes),
    )
