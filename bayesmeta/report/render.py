"""Reports as a list of blocks rendered to Markdown and to self-contained HTML.

A report never resamples: it is a pure function of saved results (tables, figure files,
provenance). The same blocks render to both formats, so the two never disagree. Figures are
embedded in the HTML as base64 PNG, so the HTML file stands alone, and it prints well (print
styles open every collapsed detail and keep figures whole).

Layout rules the renderer enforces, whatever the sections pass:

* headings are numbered by the renderer (``1.``, ``1.1``), starting at 1; a number a section
  wrote itself is replaced, so numbering never skips;
* a table of contents lists the numbered headings (where a :class:`TOC` block stands, or before
  the first heading);
* every table sits in its own horizontally scrolling box (a shadow at the edge says there is
  more), so a wide table never widens the page; its first column stays in place while it scrolls;
  headers wrap; a table of at most ``CARDS_MAX_ROWS`` rows becomes stacked cards on a phone (every
  cell with its header), so no column is hidden there; the decisive column (``Table.key``, else the
  first ``P(...)`` column) is highlighted and stays at the right edge of a table that scrolls;
  long tables (more than ``Table.collapse_after`` rows) are collapsed in ``<details>``;
* a figure is never shown narrower than keeps its smallest text at 9 CSS px (``figbox``
  scrolls sideways on a narrow screen);
* cell values are formatted for what they are: probabilities with three decimals (``<0.001``,
  ``>0.999``), counts as integers, estimates with the table's digits; mappings and sequences are
  written as ``key: value`` lists, never as Python reprs;
* a paragraph holding blank lines becomes several paragraphs.
"""
from __future__ import annotations

import base64
import dataclasses
import html
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bayesmeta import _io
from bayesmeta.report.columns import cell_words, column_words


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2
    numbered: bool = True


@dataclass(frozen=True)
class Paragraph:
    text: str  # plain text; **bold** and `code` are kept in Markdown and rendered in HTML


@dataclass(frozen=True)
class Note:
    """A remark set apart from the text (``kind``: ``note`` | ``warning``)."""

    text: str
    kind: str = "note"


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame
    caption: str = ""
    digits: int = 3
    formats: Mapping[str, Callable[[object], str]] | None = None  # column -> formatter
    collapse_after: int = 25  # longer tables are collapsed in <details>
    key: str | None = None  # the decisive column (highlighted; never hidden: see the CSS)


@dataclass(frozen=True)
class Figure:
    path: Path  # PNG, relative paths are resolved against the report folder
    caption: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class KeyValues:
    """A mapping written as a ``key: value`` list (never as a dict repr)."""

    items: Mapping[str, object]
    caption: str = ""


@dataclass(frozen=True)
class Details:
    """Blocks collapsed under a one-line summary (missing-value lists, full grids)."""

    summary: str
    blocks: Sequence[Block] = field(default_factory=tuple)


@dataclass(frozen=True)
class TOC:
    """Where the table of contents goes."""

    title: str = "Contents"


Block = Heading | Paragraph | Note | Table | Figure | Code | KeyValues | Details | TOC


# ---- words and numbers --------------------------------------------------------------------------

def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``1 study``, ``2 studies``, ``0 studies``."""
    return f"{n} {singular if n == 1 else (plural_form or singular + 's')}"


def fmt_p(p: float) -> str:
    """A probability or p-value with three decimals, ``<0.001`` and ``>0.999`` at the ends."""
    if p is None or not np.isfinite(p):
        return "NA"
    return "<0.001" if p < 0.001 else (">0.999" if p > 0.999 else f"{p:.3f}")


def fmt_estimate(v: float, measure: str | None = None, digits: int | None = None) -> str:
    """An effect estimate as printed for its measure: ratios and SMD/MD/RD with 2 decimals
    (Cochrane Handbook 6.2, section 15.3), unless ``digits`` is given."""
    if v is None or not np.isfinite(v):
        return "NA"
    d = 2 if digits is None else digits
    return f"{v:.{d}f}"


def measure_formatter(measure: str | None) -> Callable[[float], str]:
    """The number formatter for a measure (uses the measures registry when it provides one)."""
    try:
        from bayesmeta.effects import measures

        f = getattr(measures, "format_estimate", None)
        if callable(f) and measure is not None:
            return lambda v: f(v, measure)
    except ImportError:
        pass
    return lambda v: fmt_estimate(v, measure)


_PROB_COLS = re.compile(r"^(p_|p$|pval|ppp$|box_p|prob|P\()|(^|_)p_value$")
_INT_COLS = {"k", "n", "n_e", "n_c", "events_e", "events_c", "participants", "participants_randomised",
             "k_studies", "row", "line", "draws", "chains", "seed"}


REPR = re.compile(r"\{'[^']*'\s*:|\[np\.float|np\.(float|int)\d*\(|<[\w.]+ object at 0x|(^|\s)([\w<>]+\.)*[A-Z]\w*\(\w+=")
"""What a Python repr looks like in text (dict, numpy scalar, object, dataclass)."""


def _is_repr_like(s: str) -> bool:
    return bool(REPR.search(s))


def plain_value(v: object, digits: int = 3) -> str:
    """Any value as text for a report: numbers formatted, mappings as ``key: value`` lists,
    sequences comma-separated, dataclasses by their fields; never a Python repr."""
    if v is None:
        return "NA"
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        x = float(v)
        if math.isnan(x):
            return "NA"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x != 0 and (abs(x) < 10 ** (-digits) or abs(x) >= 1e6):
            return f"{x:.{digits}g}"
        return f"{x:.{digits}f}"
    if isinstance(v, Mapping):
        return "; ".join(f"{k}: {plain_value(x, digits)}" for k, x in v.items())
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        s = str(v)
        if not _is_repr_like(s):
            return s  # the class's own readable text
        return "; ".join(f"{f.name}: {plain_value(getattr(v, f.name), digits)}" for f in dataclasses.fields(v))
    if isinstance(v, np.ndarray):
        return ", ".join(plain_value(x, digits) for x in v.ravel().tolist())
    if isinstance(v, (list, tuple, set, frozenset)):
        return ", ".join(plain_value(x, digits) for x in v)
    try:
        if pd.isna(v):
            return "NA"
    except (TypeError, ValueError):
        pass
    return str(v)


def _cell(v: object, col: str, t: Table) -> str:
    v = cell_words(col, v)
    if t.formats and col in t.formats:
        return t.formats[col](v)
    if isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)):
        x = float(v)
        if _PROB_COLS.search(col):
            return fmt_p(x)
        if col in _INT_COLS and np.isfinite(x) and x == int(x):
            return str(int(x))
    return plain_value(v, t.digits)


# kept for callers of the previous API
def _fmt(v, digits: int) -> str:
    return plain_value(v, digits)


# ---- inline markup --------------------------------------------------------------------------------

def _inline_html(text: str) -> str:
    out = []
    for i, part in enumerate(str(text).split("`")):
        if i % 2:
            out.append(f"<code>{html.escape(part)}</code>")
            continue
        pieces = html.escape(part).split("**")
        out.append("".join(f"<strong>{p}</strong>" if j % 2 else p for j, p in enumerate(pieces)))
    return "".join(out)


def _bold_html(text: str) -> str:  # previous name
    return _inline_html(text)


def _paras(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", str(text)) if p.strip()]


# ---- numbering and contents ------------------------------------------------------------------------

_NUM = re.compile(r"^\s*\d+(\.\d+)*\.?\s+")


def _slug(text: str) -> str:
    s = re.sub(r"[^\w\- ]", "", text.lower(), flags=re.UNICODE)
    return re.sub(r"\s", "-", s.strip())


def _walk(blocks: Sequence[Block]):
    for b in blocks:
        yield b
        if isinstance(b, Details):
            yield from _walk(b.blocks)


def number_headings(blocks: Sequence[Block]) -> dict[int, str]:
    """Number headings ``1.``, ``1.1`` in document order (levels 2 and 3); id(block) -> text."""
    out: dict[int, str] = {}
    counters = [0, 0, 0]
    for b in _walk(blocks):
        if not isinstance(b, Heading):
            continue
        text = _NUM.sub("", b.text) if b.numbered else b.text
        if not b.numbered or b.level < 2 or b.level > 3:
            out[id(b)] = text
            continue
        if b.level == 2:
            counters[0] += 1
            counters[1] = 0
            out[id(b)] = f"{counters[0]}. {text}"
        else:
            counters[1] += 1
            out[id(b)] = f"{counters[0]}.{counters[1]} {text}"
    return out


def _with_toc(blocks: Sequence[Block]) -> list[Block]:
    bl = list(blocks)
    def numbered(b: Block) -> bool:
        return isinstance(b, Heading) and b.numbered and b.level >= 2

    if any(isinstance(b, TOC) for b in bl) or not any(numbered(b) for b in bl):
        return bl
    sections = [i for i, b in enumerate(bl) if numbered(b) and isinstance(b, Heading) and b.level == 2]
    first = sections[0] if sections else next(i for i, b in enumerate(bl) if numbered(b))
    # a report that opens with its summary keeps it on the first screen: the contents follow it
    if len(sections) > 1 and _NUM.sub("", bl[first].text).strip().lower() == "summary":  # type: ignore[union-attr]
        first = sections[1]
    return [*bl[:first], TOC(), *bl[first:]]


def _toc_entries(blocks: Sequence[Block], names: dict[int, str]) -> list[tuple[int, str]]:
    return [(b.level, names[id(b)]) for b in _walk(blocks)
            if isinstance(b, Heading) and b.level in (2, 3) and b.numbered]


# ---- Markdown -------------------------------------------------------------------------------------

MAX_TABLE_ROWS = 1000
"""A report table shows at most this many rows (a review of 20,000 studies would otherwise write
megabytes of per-study rows into report.md and report.html); the rest is counted in a last line,
and the CSV tables of the report folder keep every row."""


def _shown(t: Table) -> tuple[pd.DataFrame, str]:
    """The rows a table shows and, when it is cut at :data:`MAX_TABLE_ROWS`, the sentence saying so."""
    n = len(t.frame)
    if n <= MAX_TABLE_ROWS:
        return t.frame, ""
    return t.frame.iloc[:MAX_TABLE_ROWS], (f"First {MAX_TABLE_ROWS:,} of {n:,} rows shown; the CSV tables in "
                                           "the report's tables/ folder hold every row.")


def _md_table(t: Table) -> str:
    cols = [str(c) for c in t.frame.columns]
    rows = ["| " + " | ".join(column_words(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    frame, cut = _shown(t)
    for r in frame.itertuples(index=False):
        rows.append("| " + " | ".join(_cell(v, c, t).replace("|", "/").replace("\n", " ")
                                      for v, c in zip(r, cols)) + " |")
    return "\n".join(rows) + (f"\n\n*{cut}*" if cut else "")


def _md(b: Block, base: Path, names: dict[int, str], toc: list[tuple[int, str]]) -> str:
    if isinstance(b, Heading):
        return "#" * b.level + " " + names[id(b)]
    if isinstance(b, Paragraph):
        return "\n\n".join(_paras(b.text))
    if isinstance(b, Note):
        label = "Warning" if b.kind == "warning" else "Note"
        return "\n>\n".join(f"> {'**' + label + '.** ' if i == 0 else ''}{p}" for i, p in enumerate(_paras(b.text)))
    if isinstance(b, Code):
        return "```\n" + b.text.rstrip() + "\n```"
    if isinstance(b, KeyValues):
        lines = [f"*{b.caption}*", ""] if b.caption else []
        lines += [f"- **{k}**: {plain_value(v)}" for k, v in b.items.items()]
        return "\n".join(lines)
    if isinstance(b, Table):
        body = (f"*{b.caption}*\n\n" if b.caption else "") + _md_table(b)
        if len(b.frame) > b.collapse_after:
            return (f"<details><summary>{html.escape(b.caption or 'Table')} ({plural(len(b.frame), 'row')})"
                    f"</summary>\n\n{_md_table(b)}\n\n</details>")
        return body
    if isinstance(b, Figure):
        rel = Path(b.path)
        rel = rel.relative_to(base) if rel.is_absolute() else rel
        return f"![{b.caption}]({rel.as_posix()})\n\n*{b.caption}*"
    if isinstance(b, Details):
        inner = "\n\n".join(_md(x, base, names, toc) for x in b.blocks)
        return f"<details><summary>{html.escape(b.summary)}</summary>\n\n{inner}\n\n</details>"
    if isinstance(b, TOC):
        lines = [f"**{b.title}**", ""]
        for level, text in toc:
            lines.append(f"{'  ' * (level - 2)}- [{text}](#{_slug(text)})")
        return "\n".join(lines)
    raise TypeError(f"unknown report block {type(b).__name__}")


def render_markdown(blocks: list[Block], base: Path) -> str:
    blocks = _with_toc(blocks)
    names = number_headings(blocks)
    toc = _toc_entries(blocks, names)
    return "\n\n".join(_md(b, base, names, toc) for b in blocks) + "\n"


# ---- HTML -----------------------------------------------------------------------------------------

_CSS = """
:root{--text:#222;--muted:#555;--line:#d0d0d0;--head:#f3f3f3;--note:#eef5fb;--warn:#fdf0ec;--key:#fff6d6}
*{box-sizing:border-box}
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,"Noto Sans","Noto Sans CJK JP","Noto Color Emoji",sans-serif;
 max-width:62rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:var(--text);overflow-wrap:anywhere}
h1{font-size:1.6rem;line-height:1.25}h2{margin-top:2.2rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{margin-top:1.6rem}
nav.toc{background:#fafafa;border:1px solid var(--line);padding:.4rem 1rem;margin:1rem 0;font-size:.86rem;line-height:1.35}
nav.toc>ol{columns:2;column-gap:2rem}nav.toc li{break-inside:avoid}
nav.toc ol{margin:.1rem 0;padding-left:.8rem;list-style:none}nav.toc a{text-decoration:none}
.toc-title{font-weight:bold;margin:0}
.scroll,.figbox{overflow-x:auto;max-width:100%;margin:.4rem 0 1.4rem;
 background:linear-gradient(to right,#fff 30%,rgba(255,255,255,0)),linear-gradient(to right,rgba(255,255,255,0),#fff 70%) 100% 0,
 radial-gradient(farthest-side at 0 50%,rgba(0,0,0,.28),rgba(0,0,0,0)),radial-gradient(farthest-side at 100% 50%,rgba(0,0,0,.28),rgba(0,0,0,0)) 100% 0;
 background-repeat:no-repeat;background-size:2.5rem 100%,2.5rem 100%,.9rem 100%,.9rem 100%;
 background-attachment:local,local,scroll,scroll}
.figbox{margin:0}
table{border-collapse:separate;border-spacing:0;font-size:.83rem;font-variant-numeric:tabular-nums}
th,td{border:1px solid var(--line);border-width:0 1px 1px 0;padding:.2rem .5rem;text-align:right;vertical-align:top}
tr>:first-child{border-left-width:1px}thead th{border-top-width:1px}
th{background:var(--head);white-space:normal;min-width:4.5rem;vertical-align:bottom;font-weight:600}
td{overflow-wrap:normal;white-space:nowrap}
td:first-child,th:first-child{text-align:left;position:sticky;left:0;z-index:1;white-space:normal;min-width:7rem}
td:first-child{background:#fff}
th.key,td.key{background:var(--key);font-weight:600;position:sticky;right:0;z-index:1;box-shadow:-3px 0 4px rgba(0,0,0,.12)}
table.cards td{white-space:normal}
td.text{text-align:left;min-width:12rem;max-width:28rem;white-space:normal}
.caption{font-style:italic;margin:.6rem 0 .2rem}
figure{margin:1rem 0;break-inside:avoid}figcaption{font-style:italic;font-size:.9rem;color:var(--muted)}
img{max-width:100%;height:auto}
pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;font-size:.8rem;white-space:pre-wrap}
code{background:#f3f3f3;padding:0 .2rem;border-radius:2px}
details{margin:.4rem 0 1rem;border-left:3px solid var(--line);padding-left:.6rem}
summary{cursor:pointer;color:var(--muted)}
.note{background:var(--note);border-left:4px solid #5b9bd5;padding:.4rem .8rem}
.warning{background:var(--warn);border-left:4px solid #d55e00;padding:.4rem .8rem}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem;font-size:.9rem}dl.kv dt{font-weight:bold}dl.kv dd{margin:0}
@media (max-width:40rem){
 body{margin:1rem auto;padding:0 .7rem}
 h1{font-size:1.3rem}h2{font-size:1.2rem;margin-top:1.6rem}h3{font-size:1.05rem}
 nav.toc>ol{columns:1}
 dl.kv{grid-template-columns:auto}
 table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
 table.cards thead{display:none}
 table.cards tr{border:1px solid var(--line);margin:0 0 .6rem;padding:.2rem .4rem}
 table.cards td{position:static;display:flex;justify-content:space-between;gap:1rem;border:0;border-bottom:1px dotted var(--line);
  white-space:normal;text-align:right;min-width:0;max-width:none}
 table.cards td:last-child{border-bottom:0}
 table.cards td::before{content:attr(data-label);font-weight:600;text-align:left;color:var(--muted)}
 table.cards td:first-child{font-weight:600}
 table.cards td.key{position:static;box-shadow:none}
}
@media print{
 body{max-width:none;margin:0;font-size:10pt}
 nav.toc{break-after:page}
 .scroll,.figbox{overflow:visible;background:none}
 img{min-width:0!important}
 td:first-child,th:first-child{position:static}
 table{font-size:7.5pt}
 h2,h3{break-after:avoid}
 figure,table,pre{break-inside:avoid}
 details::details-content{content-visibility:visible;display:contents}
 summary{display:none}
 a{color:inherit;text-decoration:none}
}
"""

_JS = ("window.addEventListener('beforeprint',function(){document.querySelectorAll('details')"
       ".forEach(function(d){d.setAttribute('open','')})});")


#: tables with at most this many rows become stacked cards on a phone (every column visible)
CARDS_MAX_ROWS = 12


def key_column(t: Table) -> str | None:
    """The decisive column of a table: ``Table.key``, else the first column headed ``P(...)``."""
    if t.key is not None:
        return t.key
    return next((str(c) for c in t.frame.columns if str(c).startswith("P(")), None)


def _html_table(t: Table) -> str:
    cols = [str(c) for c in t.frame.columns]
    shown, cut = _shown(t)
    key = key_column(t)
    textcols = {c for c in cols if t.frame[c].dtype == object and
                t.frame[c].map(lambda v: isinstance(v, str) and len(v) > 40).any()}

    def cls(c: str) -> str:
        names = [n for n, on in (("text", c in textcols), ("key", key == c)) if on]
        return f" class='{' '.join(names)}'" if names else ""

    head = "".join(f"<th scope='col'{' class=key' if key == c else ''}>{html.escape(column_words(c))}</th>"
                   for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td{cls(c)} data-label='{html.escape(column_words(c))}'>{html.escape(_cell(v, c, t))}</td>"
                         for v, c in zip(r, cols)) + "</tr>"
        for r in shown.itertuples(index=False))
    cards = " class='cards'" if len(shown) <= CARDS_MAX_ROWS and len(cols) >= 3 else ""
    tbl = f"<div class='scroll'><table{cards}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    if cut:
        tbl += f"<p class='caption'>{html.escape(cut)}</p>"
    if len(t.frame) > t.collapse_after:
        return (f"<details><summary>{html.escape(t.caption or 'Table')} ({plural(len(t.frame), 'row')}; "
                f"click to show)</summary>{tbl}</details>")
    cap = f"<p class='caption'>{html.escape(t.caption)}</p>" if t.caption else ""
    return cap + tbl


#: the smallest text a figure may show, in CSS pixels (a figure never shrinks below this)
MIN_FIGURE_FONT_PX = 9.0


def _figure_html(path: Path, caption: str) -> str:
    """A figure as an embedded PNG: shown at its natural width where there is room, never narrower
    than keeps its smallest text at ``MIN_FIGURE_FONT_PX`` (a narrow screen scrolls it sideways,
    with a shadow as the cue); the PNG records its smallest font (figures.MIN_FONT_KEY)."""
    from PIL import Image

    from bayesmeta.report.figures import MIN_FONT_KEY

    raw = path.read_bytes()
    with Image.open(path) as im:
        w, h = im.size
        f = im.info.get(MIN_FONT_KEY)
    data = base64.b64encode(raw).decode()
    attrs = f"width='{w}' height='{h}'"
    if f:
        fpx = float(f)
        minw = min(w, math.ceil(w * MIN_FIGURE_FONT_PX / fpx))
        attrs += f" data-min-font-px='{fpx:g}' style='min-width:{minw}px'"
    return (f"<figure><div class='figbox'><img alt='{html.escape(caption)}' {attrs} "
            f"src='data:image/png;base64,{data}'></div><figcaption>{html.escape(caption)}</figcaption></figure>")


def _html(b: Block, base: Path, names: dict[int, str], toc: list[tuple[int, str]]) -> str:
    if isinstance(b, Heading):
        text = names[id(b)]
        return f"<h{b.level} id='{html.escape(_slug(text))}'>{html.escape(text)}</h{b.level}>"
    if isinstance(b, Paragraph):
        return "".join(f"<p>{_inline_html(p)}</p>" for p in _paras(b.text))
    if isinstance(b, Note):
        cls = "warning" if b.kind == "warning" else "note"
        return f"<div class='{cls}'>" + "".join(f"<p>{_inline_html(p)}</p>" for p in _paras(b.text)) + "</div>"
    if isinstance(b, Code):
        return f"<pre>{html.escape(b.text)}</pre>"
    if isinstance(b, KeyValues):
        cap = f"<p class='caption'>{html.escape(b.caption)}</p>" if b.caption else ""
        kv = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(plain_value(v))}</dd>"
                     for k, v in b.items.items())
        return f"{cap}<dl class='kv'>{kv}</dl>"
    if isinstance(b, Table):
        return _html_table(b)
    if isinstance(b, Figure):
        p = Path(b.path)
        return _figure_html(p if p.is_absolute() else base / p, b.caption)
    if isinstance(b, Details):
        inner = "".join(_html(x, base, names, toc) for x in b.blocks)
        return f"<details><summary>{html.escape(b.summary)}</summary>{inner}</details>"
    if isinstance(b, TOC):
        items: list[str] = []
        open_sub = False
        for level, text in toc:
            link = f"<a href='#{html.escape(_slug(text))}'>{html.escape(text)}</a>"
            if level == 2:
                if open_sub:
                    items.append("</ol></li>")
                    open_sub = False
                elif items:
                    items.append("</li>")
                items.append(f"<li>{link}")
            else:
                if not open_sub:
                    items.append("<ol>")
                    open_sub = True
                items.append(f"<li>{link}</li>")
        items.append("</ol></li>" if open_sub else "</li>" if items else "")
        return (f"<nav class='toc' aria-label='{html.escape(b.title)}'><p class='toc-title'>{html.escape(b.title)}</p>"
                f"<ol>{''.join(items)}</ol></nav>")
    raise TypeError(f"unknown report block {type(b).__name__}")


def render_html(blocks: list[Block], base: Path, title: str) -> str:
    blocks = _with_toc(blocks)
    names = number_headings(blocks)
    toc = _toc_entries(blocks, names)
    out = [("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
           "<meta name='viewport' content='width=device-width, initial-scale=1'>"
           f"<title>{html.escape(title)}</title><style>{_CSS}</style><script>{_JS}</script></head><body>")]
    out += [_html(b, base, names, toc) for b in blocks]
    out.append("</body></html>")
    return "\n".join(out)


def write_report(blocks: list[Block], folder, title: str, stem: str = "report") -> tuple[Path, Path]:
    """Write ``report.md`` and self-contained ``report.html`` into ``folder`` (atomically)."""
    folder = Path(folder)
    md, hp = folder / f"{stem}.md", folder / f"{stem}.html"
    _io.write_text(md, f"# {title}\n\n" + render_markdown(blocks, folder))
    _io.write_text(hp, render_html([Heading(title, 1, numbered=False), *blocks], folder, title))
    return md, hp
