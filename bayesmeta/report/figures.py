"""Matplotlib figures for reports. Pure functions: plain arrays and frames in, ``Figure`` out.

Nothing is sampled or fitted here; the pipeline passes results. Conventions every figure keeps:

* one question per figure; axes labelled with the measure (and units where there are any);
* ratio measures (RR, OR, HR) on a log axis with plain tick labels (0.5, 1, 2), never 10^0;
* intervals say their kind and level in the axis label or legend;
* only posterior probabilities on a probability axis (a p-value gets its own panel);
* titles and labels are wrapped to the figure width (nothing is cut off), and study names are
  drawn with a font fallback chain that covers CJK scripts and (monochrome) emoji; a character no
  installed font covers is written as its Unicode name in brackets instead of an empty box.

Forest plots follow the layout readers know from RevMan and metafor (Lewis & Clarke 2001, BMJ
322:1479): study rows with their arm data and weights on the left, the interval in the middle, the
numbers on the right, pooled diamonds and the prediction interval (IntHout et al. 2016, BMJ Open
6:e010247) below. Funnel plots are drawn only with at least 10 studies (Sterne et al. 2011, BMJ
343:d4002).
"""
from __future__ import annotations

import logging
import math
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager, ticker
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon

from bayesmeta.effects.measures import RATIO_MEASURES
from bayesmeta.report.style import DPI, FONT_FAMILIES, FONT_SIZE  # importing it sets the rcParams

# palette (colour-blind safe, Okabe & Ito 2008)
BLACK, BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE, GREY = (
    "#000000", "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#7f7f7f")
_CYCLE = [BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, BLACK]


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    cps: set[int] = set()
    for fam in FONT_FAMILIES:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=fam), fallback_to_default=False)
            cps.update(FT2Font(path).get_charmap())
        except (OSError, RuntimeError, ValueError) as e:
            logging.getLogger(__name__).info("font family %s not usable: %s", fam, e)
    return frozenset(cps)


def plain(text: object) -> str:
    """Text safe to draw: mathtext ``$`` escaped, characters no installed font covers written as
    ``[unicode name]`` (so a name never becomes empty boxes), control characters dropped."""
    s = str(text)
    cov = _covered()
    out = []
    for ch in s:
        cp = ord(ch)
        if ch == "$":
            out.append(r"\$")
        elif ch in "\n\t":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf"):
            continue  # controls, zero-width joiners and variation selectors
        elif cp < 128 or cp in cov:
            out.append(ch)
        else:
            out.append(f"[{unicodedata.name(ch, f'U+{cp:04X}').lower()}]")
    return "".join(out)


@lru_cache(maxsize=1)
def _measurer():
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(100, 100, 72)  # 72 dpi: widths come out in points


def text_width(text: str, size: float = FONT_SIZE, weight: str = "normal") -> float:
    """Width of ``text`` in points when drawn at ``size`` with the report fonts."""
    prop = font_manager.FontProperties(family=FONT_FAMILIES, size=size, weight=weight)
    w = 0.0
    for line in str(text).split("\n"):
        w = max(w, _measurer().get_text_width_height_descent(line, prop, ismath=False)[0])
    return w


def wrap(text: str, width_pt: float, size: float = FONT_SIZE, weight: str = "normal") -> str:
    """Greedy word wrap of ``text`` to ``width_pt`` points (measured, not counted)."""
    lines: list[str] = []
    for para in str(text).split("\n"):
        cur = ""
        words: list[str] = []
        for word in para.split(" "):
            while text_width(word, size, weight) > width_pt and len(word) > 1:  # break an overlong word
                k = len(word) - 1
                while k > 1 and text_width(word[:k], size, weight) > width_pt:
                    k = max(1, int(k * 0.8))
                words.append(word[:k])
                word = word[k:]
            words.append(word)
        for word in words:
            cand = f"{cur} {word}" if cur else word
            if cur and text_width(cand, size, weight) > width_pt:
                lines.append(cur)
                cur = word
            else:
                cur = cand
        lines.append(cur)
    return "\n".join(lines)


def _title(fig, text: str | None, width_in: float, size: float = FONT_SIZE + 1) -> None:
    if text:
        fig.suptitle(wrap(plain(text), width_in * 72 - 16, size), fontsize=size)


# ---- number formatting and log axes ---------------------------------------------------------

def fmt_number(v: float, digits: int = 2) -> str:
    """Default number format in figures (the report passes its measure's formatter)."""
    if v is None or not np.isfinite(v):
        return "NA"
    s = f"{v:.{digits}f}"
    return s.replace("-", "\u2212")  # typographic minus


def fmt_interval(est: float, lb: float, ub: float, fmt: Callable[[float], str] = fmt_number) -> str:
    return f"{fmt(est)} [{fmt(lb)}, {fmt(ub)}]"


_NICE_COARSE = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
_NICE_FINE = sorted({round(m * 10.0 ** e, 6) for e in range(-3, 4) for m in (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8)})


def ratio_ticks(lo: float, hi: float) -> list[float]:
    """Plain tick positions (0.5, 1, 2 ...) for a ratio axis from ``lo`` to ``hi``."""
    for cand in (_NICE_COARSE, [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5,
                                7, 10, 20, 50, 100, 200, 500, 1000], _NICE_FINE):
        t = [c for c in cand if lo <= c <= hi]
        if len(t) >= 3:
            break
    while len(t) > 9:
        keep = t[::2]
        if 1 in t and 1 not in keep:
            keep = t[1::2]
        t = keep
    return t


def _plain_tick(v: float, _pos=None) -> str:
    return f"{v:g}"


def log_axis(ax, lo: float, hi: float) -> None:
    """A log x axis from ``lo`` to ``hi`` (ratio scale) labelled 0.5, 1, 2, never 10^0."""
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(ticker.FixedLocator(ratio_ticks(lo, hi)))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(_plain_tick))
    ax.xaxis.set_minor_locator(ticker.NullLocator())


def log_value_axis(ax, lo: float, hi: float, which: str = "x") -> None:
    """An x (or y) axis holding log-ratio values from ``lo`` to ``hi``, labelled with the ratios."""
    (ax.set_xlim if which == "x" else ax.set_ylim)(lo, hi)
    axis = ax.xaxis if which == "x" else ax.yaxis
    t = ratio_ticks(math.exp(lo), math.exp(hi))
    axis.set_major_locator(ticker.FixedLocator([math.log(v) for v in t]))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _p=None: f"{math.exp(v):.3g}"))
    axis.set_minor_locator(ticker.NullLocator())


def _limits(points: Sequence[float], lows: Sequence[float], highs: Sequence[float], log: bool,
            reach: float = 1.0) -> tuple[float, float]:
    """x limits: every point and pooled interval, CIs up to ``reach`` core spans beyond them."""
    f = np.log if log else (lambda v: np.asarray(v, float))
    p = f(np.asarray([v for v in points if np.isfinite(v) and (v > 0 or not log)], float))
    lo = f(np.asarray([v for v in lows if np.isfinite(v) and (v > 0 or not log)], float))
    hi = f(np.asarray([v for v in highs if np.isfinite(v) and (v > 0 or not log)], float))
    core_lo, core_hi = float(np.min(p)), float(np.max(p))
    span = max(core_hi - core_lo, 0.2 if log else 0.1)
    a = max(float(np.min(lo, initial=core_lo)), core_lo - reach * span)
    b = min(float(np.max(hi, initial=core_hi)), core_hi + reach * span)
    pad = 0.04 * (b - a)
    a, b = a - pad, b + pad
    return (math.exp(a), math.exp(b)) if log else (a, b)


# ---- forest plots -----------------------------------------------------------------------------

@dataclass
class _Row:
    left: list[str]
    right: str = ""
    kind: str = "study"  # study | excluded | frequentist | bayesian | prediction | published | posterior | group | more
    est: float = np.nan
    lb: float = np.nan
    ub: float = np.nan
    weight: float = np.nan
    shrunk: tuple[float, float, float] | None = None
    margin: float = np.nan
    color: str = BLACK


@dataclass
class _Panel:
    rows: list[_Row]
    headers: list[str]
    right_header: str
    xlabel: str
    favours: tuple[str, str]
    null: float
    log: bool
    legend: list = field(default_factory=list)


_ROW_IN = 0.24  # inches per row


def _measure_columns(p: _Panel) -> tuple[list[float], float]:
    ncol = len(p.headers)
    widths = [text_width(plain(h), weight="bold") for h in p.headers]
    rw = text_width(plain(p.right_header), weight="bold")
    for r in p.rows:
        for j, c in enumerate(r.left[:ncol]):
            w = text_width(plain(c), weight="bold" if r.kind == "group" else "normal")
            if j == 0 and r.kind == "more":
                continue  # spans the columns
            widths[j] = max(widths[j], w)
        rw = max(rw, text_width(plain(r.right)))
    return [w + 12 for w in widths], rw + 18


def _diamond(ax, y, est, lb, ub, color, h=0.32):
    ax.add_patch(Polygon([[lb, y], [est, y + h], [ub, y], [est, y - h]], closed=True, fc=color, ec=color, lw=0.8,
                         zorder=3))


def _draw_panel(container, p: _Panel, plot_w: float, col_w: list[float], right_w: float,
                height: float, top: float, bottom: float) -> None:
    """Draw one forest panel into ``container`` (Figure or SubFigure) sized in inches."""
    W = sum(col_w) / 72 + plot_w + right_w / 72 + 0.3
    H = height
    n = len(p.rows)
    y_of = {i: n - i for i in range(n)}  # first row on top
    ylim = (0.4, n + 1.5)
    left_in = sum(col_w) / 72 + 0.15
    axl = container.add_axes((0.15 / W, bottom / H, (left_in - 0.15) / W, (H - top - bottom) / H))
    ax = container.add_axes((left_in / W, bottom / H, plot_w / W, (H - top - bottom) / H))
    axr = container.add_axes(((left_in + plot_w) / W, bottom / H, (right_w / 72) / W, (H - top - bottom) / H))
    for a in (axl, axr):
        a.set_ylim(*ylim)
        a.set_xlim(0, 1)
        a.axis("off")
    ax.set_ylim(*ylim)
    ax.set_yticks([])
    for s in ("left", "right", "top"):
        ax.spines[s].set_visible(False)
    # headers
    x = 0.0
    total = sum(col_w)
    for j, h in enumerate(p.headers):
        axl.text(x / total, n + 1, plain(h), ha="left", va="center", fontweight="bold")
        x += col_w[j]
    axr.text(0.08, n + 1, plain(p.right_header), ha="left", va="center", fontweight="bold")
    # x range
    pts = [p.null] + [r.est for r in p.rows] + [r.margin for r in p.rows if np.isfinite(r.margin)]
    lows = [r.lb for r in p.rows] + [r.shrunk[1] for r in p.rows if r.shrunk]
    highs = [r.ub for r in p.rows] + [r.shrunk[2] for r in p.rows if r.shrunk]
    pooled_kinds = ("frequentist", "bayesian", "prediction", "published", "posterior")
    pts += [v for r in p.rows if r.kind in pooled_kinds for v in (r.lb, r.ub)]
    lo, hi = _limits(pts, lows, highs, p.log)
    if p.log:
        log_axis(ax, lo, hi)
    else:
        ax.set_xlim(lo, hi)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _p=None: f"{v:g}".replace("-", "\u2212")))
    wmax = max([r.weight for r in p.rows if np.isfinite(r.weight)], default=np.nan)
    for i, r in enumerate(p.rows):
        y = y_of[i]
        x = 0.0
        for j, c in enumerate(r.left[:len(col_w)]):
            style = {"fontweight": "bold"} if r.kind == "group" else {}
            if r.kind in ("excluded", "more"):
                style = {"color": GREY}
            axl.text(x / total, y, plain(c), ha="left", va="center", **style)
            x += col_w[j]
        if r.right:
            axr.text(0.08, y, plain(r.right), ha="left", va="center",
                     color=GREY if r.kind in ("excluded", "more") else BLACK,
                     style="italic" if r.kind == "excluded" else "normal")
        if not np.isfinite(r.est):
            continue
        a, b = max(r.lb, lo), min(r.ub, hi)
        if r.kind in ("frequentist", "bayesian"):
            _diamond(ax, y, r.est, r.lb, r.ub, r.color)
        elif r.kind == "prediction":
            ax.plot([a, b], [y, y], color=r.color, lw=2.2, solid_capstyle="butt")
            ax.plot([r.est], [y], "|", color=r.color, ms=8)
        else:
            ms = 5.0
            if r.kind == "study" and np.isfinite(r.weight) and np.isfinite(wmax) and wmax > 0:
                ms = 3 + 7 * math.sqrt(r.weight / wmax)
            ax.plot([a, b], [y, y], "-", color=r.color, lw=1.0)
            ax.plot([r.est], [y], "s" if r.kind in ("study", "published") else "o", color=r.color, ms=ms, zorder=3)
            if r.lb < lo:
                ax.plot([lo], [y], "<", color=r.color, ms=4)
            if r.ub > hi:
                ax.plot([hi], [y], ">", color=r.color, ms=4)
        if r.shrunk is not None and np.all(np.isfinite(r.shrunk)):
            e, sl, su = r.shrunk
            ax.plot([max(sl, lo), min(su, hi)], [y - 0.3, y - 0.3], "-", color=SKY, lw=1.0)
            ax.plot([e], [y - 0.3], "o", mfc="white", mec=BLUE, ms=3.5, zorder=3)
    ax.axvline(p.null, color=GREY, lw=0.8, zorder=1)
    # margins: one dashed segment per run of rows sharing a margin
    runs: list[tuple[float, int, int]] = []
    for i, r in enumerate(p.rows):
        if np.isfinite(r.margin):
            if runs and runs[-1][0] == r.margin and runs[-1][2] == i - 1:
                runs[-1] = (r.margin, runs[-1][1], i)
            else:
                runs.append((r.margin, i, i))
    for m, i0, i1 in runs:
        ax.plot([m, m], [y_of[i1] - 0.45, y_of[i0] + 0.45], "--", color=VERMILLION, lw=1.1, zorder=2)
    # favours labels at the header row, on either side of the null line
    tr = ax.get_yaxis_transform()  # x in axes fraction, y in data
    ax.text(0.0, n + 1, plain(f"\u2190 {p.favours[0]}"), transform=tr, ha="left", va="center", fontsize=FONT_SIZE - 0.5)
    ax.text(1.0, n + 1, plain(f"{p.favours[1]} \u2192"), transform=tr, ha="right", va="center", fontsize=FONT_SIZE - 0.5)
    ax.set_xlabel(wrap(plain(p.xlabel), plot_w * 72 - 4))


def _legend_for(rows: Sequence[_Row], margin_label: str | None) -> list:
    h: list = []
    kinds = {r.kind for r in rows}
    if "study" in kinds:
        h.append(Line2D([], [], color=BLACK, marker="s", ms=5, label="study: estimate, 95% CI (size: weight)"))
    if any(r.shrunk for r in rows):
        h.append(Line2D([], [], color=SKY, marker="o", mfc="white", mec=BLUE, ms=4, label="shrunken study estimate"))
    if "published" in kinds:
        h.append(Line2D([], [], color=BLACK, marker="s", ms=5, label="published estimate, 95% CI"))
    if "frequentist" in kinds:
        h.append(Patch(fc=BLACK, label="pooled, frequentist (95% CI)"))
    if "bayesian" in kinds:
        h.append(Patch(fc=BLUE, label="pooled, Bayesian (posterior interval)"))
    if "posterior" in kinds:
        h.append(Line2D([], [], color=BLUE, marker="o", ms=4, label="posterior median and interval"))
    if "prediction" in kinds:
        h.append(Line2D([], [], color=GREEN, lw=2.2, label="prediction interval (new study)"))
    if margin_label:
        h.append(Line2D([], [], color=VERMILLION, ls="--", lw=1.1, label=margin_label))
    return h


def _finish_legend(fig, handles: list, W: float, y_in: float, H: float) -> None:
    if not handles:
        return
    # as many columns as fit the width
    widths = [text_width(h.get_label()) + 34 for h in handles]
    ncol = max(1, min(len(handles), int((W * 72 - 20) // max(widths))))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, y_in / H), ncol=ncol, frameon=False,
               fontsize=FONT_SIZE - 0.5, handlelength=2.2)


def _forest_figure(panels: list[_Panel], title: str | None, legend: list, plot_w: float = 4.2,
                   note: str | None = None) -> Figure:
    measured = [_measure_columns(p) for p in panels]
    ncols = max(len(m[0]) for m in measured)
    col_w = [max((m[0][j] for m in measured if j < len(m[0])), default=0) for j in range(ncols)]
    right_w = max(m[1] for m in measured)
    W = sum(col_w) / 72 + plot_w + right_w / 72 + 0.3
    wrapped_title = wrap(plain(title), W * 72 - 16, FONT_SIZE + 1) if title else ""
    title_in = 0.25 + 0.18 * (wrapped_title.count("\n") + 1) if title else 0.1
    xl_lines = [wrap(plain(p.xlabel), plot_w * 72 - 4).count("\n") + 1 for p in panels]
    # legend rows
    widths = [text_width(h.get_label()) + 34 for h in legend] or [0]
    ncol = max(1, min(len(legend), int((W * 72 - 20) // max(widths)))) if legend else 1
    legend_in = (math.ceil(len(legend) / ncol) * 0.2 + 0.1) if legend else 0.0
    note_w = wrap(plain(note), W * 72 - 20) if note else ""
    note_in = (0.16 * (note_w.count("\n") + 1) + 0.05) if note else 0.0
    heights = [(len(p.rows) + 1.1) * _ROW_IN + 0.35 + 0.16 * xl + 0.12 for p, xl in zip(panels, xl_lines)]
    H = title_in + sum(heights) + legend_in + note_in + 0.1
    fig = plt.figure(figsize=(W, H), dpi=DPI)
    if title:
        fig.suptitle(wrapped_title, y=1 - 0.08 / H, va="top", fontsize=FONT_SIZE + 1)
    y_top = H - title_in
    for p, h, xl in zip(panels, heights, xl_lines):
        bottom = y_top - h + 0.35 + 0.16 * xl + 0.05  # inches from figure bottom to axes bottom
        top_in = y_top - (bottom + (len(p.rows) + 1.1) * _ROW_IN)
        _draw_panel(fig, p, plot_w, col_w, right_w, H, top=H - y_top + top_in, bottom=bottom)
        y_top -= h
    if note:
        fig.text(0.5, (legend_in + 0.06) / H, note_w, ha="center", va="bottom", fontsize=FONT_SIZE - 0.5, color=GREY)
    _finish_legend(fig, legend, W, 0.04, H)
    return fig


def _arm_cells(r: Mapping, arms: tuple[str, str], binary: bool) -> tuple[list[str], list[str]]:
    def num(v, d=0):
        return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else (
            f"{int(v)}" if d == 0 else f"{v:.{d}f}".replace("-", "\u2212"))

    if binary:
        heads = [f"{arms[0]} events/n", f"{arms[1]} events/n"]
        cells = [f"{num(r.get('events_e'))}/{num(r.get('n_e'))}", f"{num(r.get('events_c'))}/{num(r.get('n_c'))}"]
    else:
        heads = [f"{arms[0]} n", f"{arms[0]} mean (SD)", f"{arms[1]} n", f"{arms[1]} mean (SD)"]
        def msd(m, s):
            if m is None or not np.isfinite(m):
                return ""
            d = 0 if abs(m) >= 100 else (1 if abs(m) >= 10 else 2)
            return f"{num(m, d)} ({num(s, d)})"
        cells = [num(r.get("n_e")), msd(r.get("mean_e"), r.get("sd_e")), num(r.get("n_c")),
                 msd(r.get("mean_c"), r.get("sd_c"))]
    return heads, cells


def study_forest(studies: pd.DataFrame, pooled: pd.DataFrame | None = None, *, measure: str,
                 arms: tuple[str, str], favours: tuple[str, str], xlabel: str | None = None,
                 null: float | None = None, margin: float | None = None, margin_label: str | None = None,
                 title: str | None = None, max_studies: int = 40,
                 fmt: Callable[[float], str] = fmt_number) -> Figure:
    """Study-level forest plot: arm data, weights, CIs, shrunken estimates, pooled diamonds.

    Parameters
    ----------
    studies : DataFrame
        One row per study, in the order to draw. ``study``; ``yi``, ``ci_lb``, ``ci_ub`` on the
        display scale (ratios for ratio measures; NaN for a study not estimable); optional
        ``weight`` (percent), ``theta``, ``theta_lb``, ``theta_ub`` (shrunken estimate and
        interval), ``excluded`` (reason shown in place of the numbers, e.g. "double zero: no
        information on RR"), and arm data ``n_e``, ``n_c`` with ``mean_e``, ``sd_e``, ``mean_c``,
        ``sd_c`` (continuous) or ``events_e``, ``events_c`` (binary).
    pooled : DataFrame, optional
        ``label``, ``kind`` (``frequentist`` | ``bayesian`` | ``prediction``), ``estimate``,
        ``lb``, ``ub`` on the display scale, drawn as diamonds (bar for a prediction interval).
    measure : str
        Effect measure; ratio measures get a log axis with plain ticks.
    arms : (str, str)
        Experimental and control arm names (column headers).
    favours : (str, str)
        Labels for the left and right side of the null line.
    margin : float, optional
        Non-inferiority margin on the display scale and on its side of the null (e.g. 1.1 or 0.2).
    max_studies : int
        With more studies, the ``max_studies - 1`` with the largest weight (or smallest CI) are
        drawn in their order and the rest summarised in one row, so 500 studies stay readable;
        :func:`pages` splits a table for a full listing instead.
    fmt : callable
        Number formatter for the right-hand column (the measure's formatter).
    """
    ratio = measure.upper() in RATIO_MEASURES
    null = (1.0 if ratio else 0.0) if null is None else null
    df = studies.reset_index(drop=True)
    binary = "events_e" in df.columns
    has_arms = any(c in df.columns for c in ("n_e", "events_e", "mean_e"))
    heads = ["Study"]
    if has_arms:
        heads += _arm_cells({}, arms, binary)[0]
    has_w = "weight" in df.columns
    if has_w:
        heads.append("Weight")
    note = None
    shown = df
    if len(df) > max_studies:
        key = df["weight"] if has_w else -(df["ci_ub"] - df["ci_lb"]).abs()
        keep = key.fillna(-np.inf).sort_values(ascending=False).index[: max_studies - 1]
        shown = df.loc[sorted(keep)]
        rest = df.drop(index=keep)
        wrest = f", {rest['weight'].sum():.1f}% of the weight" if has_w else ""
        note = (f"{len(rest)} of {len(df)} studies with the smallest weight are summarised in one row{wrest}; "
                "the full list is in the study table.")
    rows: list[_Row] = []
    ycol = "yi"
    for _, r in shown.iterrows():
        d = r.to_dict()
        cells = [str(d["study"])]
        if has_arms:
            cells += _arm_cells(d, arms, binary)[1]
        if has_w:
            cells.append("" if not np.isfinite(d.get("weight", np.nan)) else f"{d['weight']:.1f}%")
        reason = d.get("excluded")
        excluded = isinstance(reason, str) and reason != ""
        est = float(d.get(ycol, np.nan))
        if excluded or not np.isfinite(est):
            rows.append(_Row(cells, f"excluded: {reason}" if excluded else "not estimable", kind="excluded"))
            continue
        sh = None
        if "theta" in d and np.isfinite(d.get("theta", np.nan)):
            sh = (float(d["theta"]), float(d["theta_lb"]), float(d["theta_ub"]))
        rows.append(_Row(cells, fmt_interval(est, d["ci_lb"], d["ci_ub"], fmt), kind="study", est=est,
                         lb=float(d["ci_lb"]), ub=float(d["ci_ub"]),
                         weight=float(d.get("weight", np.nan)) if has_w else np.nan, shrunk=sh))
    if note is not None:
        rest = df.drop(index=shown.index)
        cells = [f"+ {len(rest)} more studies"] + [""] * (len(heads) - 1)
        if has_w:
            cells[-1] = f"{rest['weight'].sum():.1f}%"
        rows.append(_Row(cells, "see study table", kind="more"))
    if pooled is not None and len(pooled):
        rows.append(_Row([""], kind="blank"))
        for _, r in pooled.iterrows():
            kind = str(r["kind"])
            color = {"frequentist": BLACK, "bayesian": BLUE, "prediction": GREEN}.get(kind, BLACK)
            rows.append(_Row([str(r["label"])] + [""] * (len(heads) - 1),
                             fmt_interval(r["estimate"], r["lb"], r["ub"], fmt), kind=kind,
                             est=float(r["estimate"]), lb=float(r["lb"]), ub=float(r["ub"]), color=color))
    if margin is not None and np.isfinite(margin):
        for r in rows:
            r.margin = float(margin)
    mlabel = margin_label or (f"non-inferiority margin {margin:g}" if margin is not None else None)
    panel = _Panel(rows, heads, f"{measure} [95% CI]", xlabel or f"{measure} ({arms[0]} vs {arms[1]})",
                   favours, null, ratio)
    return _forest_figure([panel], title, _legend_for(rows, mlabel), note=note)


def study_rows(studies: Sequence[str], yi: np.ndarray, sei: np.ndarray, *, ratio: bool, tau2: float = 0.0,
               arms: pd.DataFrame | None = None, theta: np.ndarray | None = None, level: float = 0.95,
               excluded_reason: str = "not estimable") -> pd.DataFrame:
    """The ``studies`` frame of :func:`study_forest` from analysis-scale results.

    Parameters
    ----------
    studies, yi, sei : the studies in the analysis and their effects and SEs (analysis scale).
    ratio : bool
        Back-transform (exp) to the ratio scale for display.
    tau2 : float
        Between-study variance of the random-effects model whose weights are shown,
        ``w_i = 1 / (sei_i^2 + tau2)`` as percentages (RevMan's and metafor's weights).
    arms : DataFrame, optional
        Arm data of every study (``study`` and ``n_e``, ``n_c`` with ``mean_*``/``sd_*`` or
        ``events_*``), in drawing order; a study here but not in ``studies`` is shown as excluded
        with ``excluded_reason`` (e.g. "double zero: no information on RR").
    theta : array (k, 3), optional
        Shrunken study estimates: median, lower, upper bound (analysis scale).
    """
    from scipy import stats

    yi, sei = np.asarray(yi, float), np.asarray(sei, float)
    z = float(stats.norm.ppf(0.5 + level / 2))
    tr = np.exp if ratio else (lambda v: v)
    w = 1.0 / (sei ** 2 + tau2)
    res = pd.DataFrame({"study": list(studies), "yi": tr(yi), "ci_lb": tr(yi - z * sei), "ci_ub": tr(yi + z * sei),
                        "weight": 100 * w / w.sum(), "excluded": ""})
    if theta is not None:
        th = np.asarray(theta, float)
        res["theta"], res["theta_lb"], res["theta_ub"] = tr(th[:, 0]), tr(th[:, 1]), tr(th[:, 2])
    if arms is None:
        return res
    a = arms.copy()
    a["study"] = a["study"].astype(str)
    out = a.merge(res, on="study", how="left")
    out["excluded"] = np.where(out["yi"].isna(), excluded_reason, out["excluded"].fillna(""))
    return out


def pages(frame: pd.DataFrame, size: int = 40) -> Iterator[pd.DataFrame]:
    """Split a study table into pages of ``size`` rows (for a full forest listing of long k)."""
    for i in range(0, len(frame), size):
        yield frame.iloc[i:i + size]


def summary_forest(results: pd.DataFrame, *, favours: Mapping[str, tuple[str, str]] | tuple[str, str],
                   title: str | None = None, xlabels: Mapping[str, str] | None = None,
                   fmt: Callable[[float], str] = fmt_number) -> Figure:
    """One forest of every published result: per outcome, the published estimate and CI and the
    posterior under each prior, with the outcome's non-inferiority margin.

    Parameters
    ----------
    results : DataFrame
        Rows in drawing order: ``outcome`` (group label, e.g. "Pain, 1 month"), ``measure``,
        ``label`` (e.g. "published" or the prior's name), ``kind`` (``published`` | ``posterior``),
        ``estimate``, ``lb``, ``ub`` (display scale: ratios for ratio measures), optional
        ``margin`` (display scale, on its side of the null).
    favours : (str, str) or mapping measure -> (str, str)
        Labels for the two sides of the null line.
    xlabels : mapping measure -> str, optional
        Axis label per measure (default: the measure and the interval kinds).
    """
    panels = []
    for measure, part in results.groupby("measure", sort=False):
        ratio = str(measure).upper() in RATIO_MEASURES
        rows: list[_Row] = []
        for outcome, g in part.groupby("outcome", sort=False):
            rows.append(_Row([str(outcome)], kind="group"))
            for _, r in g.iterrows():
                kind = "published" if r["kind"] == "published" else "posterior"
                m = float(r["margin"]) if "margin" in r and pd.notna(r["margin"]) else np.nan
                rows.append(_Row([f"   {r['label']}"], fmt_interval(r["estimate"], r["lb"], r["ub"], fmt), kind=kind,
                                 est=float(r["estimate"]), lb=float(r["lb"]), ub=float(r["ub"]), margin=m,
                                 color=BLACK if kind == "published" else BLUE))
        fav = favours if isinstance(favours, tuple) else favours[str(measure)]
        xl = (xlabels or {}).get(str(measure)) or (f"{measure}{' (log scale)' if ratio else ''}: published 95% CI; "
                                                   "posterior median and 95% interval")
        panels.append(_Panel(rows, ["Outcome / analysis"], f"{measure} [interval]", xl, fav,
                             1.0 if ratio else 0.0, ratio))
    allrows = [r for p in panels for r in p.rows]
    has_m = any(np.isfinite(r.margin) for r in allrows)
    return _forest_figure(panels, title, _legend_for(allrows, "non-inferiority margin" if has_m else None))


def forest(rows: pd.DataFrame, *, xlabel: str, favours: tuple[str, str], null: float = 0.0,
           title: str | None = None, log: bool = False, margin: float | None = None) -> Figure:
    """Generic interval plot (kept for callers of the previous API): ``label``, ``kind``
    (``observed`` | ``shrunken`` | ``pooled`` | ``predictive`` | ``posterior``), ``estimate``,
    ``lb``, ``ub``, drawn top to bottom."""
    kinds = {"observed": "published", "shrunken": "posterior", "pooled": "frequentist",
             "predictive": "prediction", "posterior": "posterior"}
    colors = {"published": BLACK, "posterior": BLUE, "frequentist": BLACK, "prediction": GREEN}
    rs = []
    for _, r in rows.iterrows():
        k = kinds.get(str(r["kind"]), "posterior")
        rs.append(_Row([str(r["label"])], fmt_interval(r["estimate"], r["lb"], r["ub"]), kind=k,
                       est=float(r["estimate"]), lb=float(r["lb"]), ub=float(r["ub"]), color=colors[k],
                       margin=float(margin) if margin is not None else np.nan))
    p = _Panel(rs, [""], "estimate [interval]", xlabel, favours, null, log)
    return _forest_figure([p], title, _legend_for(rs, f"margin {margin:g}" if margin is not None else None))


# ---- densities ----------------------------------------------------------------------------------

def _legend_below(fig, ax, ncol: int | None = None) -> None:
    h, lab = ax.get_legend_handles_labels()
    if not h:
        return
    W = fig.get_figwidth()
    widths = [text_width(x) + 34 for x in lab]
    n = ncol or max(1, min(len(h), int((W * 72 - 20) // max(widths))))
    fig.legend(h, lab, loc="outside lower center", ncol=n, frameon=False, fontsize=FONT_SIZE - 0.5)


def prior_posterior(x: np.ndarray, curves: Mapping[str, tuple[np.ndarray | None, np.ndarray]], *,
                    xlabel: str, title: str | None = None, likelihood: np.ndarray | None = None,
                    ratio: bool = False, marks: Mapping[str, float] | None = None,
                    width: float = 4.8, prior_x: np.ndarray | None = None,
                    priors: Mapping[str, np.ndarray | None] | None = None) -> Figure:
    """Prior (dashed) and posterior (solid) densities of one parameter, one colour per prior.

    The legend names each prior once (its colour) and the two line styles once, so it stays short
    whatever the number of priors. The x range covers the posteriors and every mark (the margin is
    always inside); priors are drawn over that whole range when ``prior_x``/``priors`` give their
    densities there.

    Parameters
    ----------
    x : array
        Grid on the analysis scale (log ratio for ratio measures; tau >= 0).
    curves : mapping label -> (prior density or None, posterior density)
        ``None`` marks an improper (flat) prior, named in the legend but not drawn.
    likelihood : array, optional
        The data's likelihood on ``x``; drawn grey dotted, normalised to unit area.
    ratio : bool
        ``x`` holds log ratios: tick labels show the ratios (0.5, 1, 2).
    marks : mapping label -> x, optional
        Vertical reference lines (published estimate, margin), on the analysis scale.
    prior_x, priors : array and mapping label -> density on ``prior_x``, optional
        Prior densities on a wider grid (drawn instead of the ones in ``curves``).
    """
    fig, ax = plt.subplots(figsize=(width, 3.9), dpi=DPI, layout="constrained")
    x = np.asarray(x, float)
    handles: list = []
    for i, (label, (prior, post)) in enumerate(curves.items()):
        c = _CYCLE[i % len(_CYCLE)]
        ax.plot(x, post, "-", color=c, lw=1.6)
        px, pd_ = (prior_x, priors.get(label)) if (priors is not None and prior_x is not None) else (x, prior)
        if pd_ is not None:
            ax.plot(px, pd_, "--", color=c, lw=1.0)
        handles.append(Patch(color=c, label=plain(label if pd_ is not None else f"{label} (flat prior, not drawn)")))
    if len(curves) > 1 or any(p is not None for p, _ in curves.values()):
        handles += [Line2D([], [], color=GREY, lw=1.6, label="posterior (solid)"),
                    Line2D([], [], color=GREY, lw=1.0, ls="--", label="prior (dashed)")]
    if likelihood is not None:
        lk = np.asarray(likelihood, float)
        area = np.trapezoid(lk, x)
        if area > 0:
            ax.plot(x, lk / area, ":", color=BLACK, lw=1.2)
            handles.append(Line2D([], [], color=BLACK, lw=1.2, ls=":", label="likelihood (normalised)"))
    lo, hi = float(x.min()), float(x.max())
    mk = dict(marks or {})
    for i, (label, x0) in enumerate(mk.items()):
        style = [("-.", BLACK), ("--", VERMILLION), (":", BLACK)][i % 3]
        ax.axvline(x0, color=style[1], ls=style[0], lw=1.0)
        handles.append(Line2D([], [], color=style[1], ls=style[0], lw=1.0, label=plain(label)))
    if mk:
        vals = list(mk.values())
        span = max(hi, *vals) - min(lo, *vals)
        lo, hi = min(lo, min(vals) - 0.06 * span), max(hi, max(vals) + 0.06 * span)
    if ratio:
        log_value_axis(ax, lo, hi)
    else:
        ax.set_xlim(lo, hi)
    ax.set_xlabel(wrap(plain(xlabel), width * 72 - 40))
    ax.set_ylabel("probability density")
    ax.set_ylim(bottom=0)
    _title(fig, title, width)
    widths = [text_width(h.get_label(), FONT_SIZE - 0.5) + 34 for h in handles]
    ncol = 2 if 2 * max(widths) <= width * 72 - 10 else 1
    fig.legend(handles=handles, loc="outside lower center", ncol=ncol, frameon=False, fontsize=FONT_SIZE - 0.5)
    return fig


def densities(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, xlabel: str,
              title: str | None = None, vlines: Mapping[str, float] | None = None) -> Figure:
    """Overlay of densities, each ``label -> (x, density)``; labels starting with "prior" are
    dashed (kept for callers of the previous API; prefer :func:`prior_posterior`)."""
    fig, ax = plt.subplots(figsize=(6.8, 3.6), dpi=DPI, layout="constrained")
    for i, (label, (x, d)) in enumerate(curves.items()):
        ls = "--" if label.lower().startswith("prior") else "-"
        ax.plot(x, d, ls, color=_CYCLE[i % len(_CYCLE)], label=plain(label))
    for i, (label, x0) in enumerate((vlines or {}).items()):
        ax.axvline(x0, color=GREY, ls=["-.", "--", ":"][i % 3], lw=0.9, label=plain(label))
    ax.set_xlabel(wrap(plain(xlabel), 6.8 * 72 - 40))
    ax.set_ylabel("probability density")
    ax.set_ylim(bottom=0)
    _title(fig, title, 6.8)
    _legend_below(fig, ax)
    return fig


# ---- probabilities ----------------------------------------------------------------------------

def noninferiority_curves(curves: Mapping[str, pd.DataFrame], *, margin: float, threshold: float,
                          xlabel: str, title: str | None = None, x: str = "margin", y: str = "p_noninferior",
                          log: bool = False, ylabel: str = "posterior probability of non-inferiority",
                          width: float = 4.8, native: tuple[float, str] | None = None,
                          span: float = 2.0) -> Figure:
    """P(non-inferior) against the margin, one line per posterior (prior or scenario).

    Only posterior probabilities are drawn on this axis. The curves are cut at ``span`` times the
    primary margin (beyond it every curve is flat at 1), so the margin is always in range; the
    margin is a vertical dashed line and the decision threshold a horizontal dotted line. With
    ``native = (sd, unit)`` a second x axis (top) gives the margin in the outcome's units
    (SMD x sd), instead of a second figure.
    """
    fig, ax = plt.subplots(figsize=(width, 3.7), dpi=DPI, layout="constrained")
    for i, (label, df) in enumerate(curves.items()):
        ax.plot(df[x], df[y], color=_CYCLE[i % len(_CYCLE)], lw=1.5, label=plain(label))
    ax.axvline(margin, color=VERMILLION, ls="--", lw=1.0, label=f"primary margin {margin:g}")
    ax.axhline(threshold, color=GREY, ls=":", lw=1.0, label=f"decision threshold {threshold:g}")
    xs = np.concatenate([np.asarray(df[x], float) for df in curves.values()])
    lo = float(np.nanmin(xs))
    if log:
        hi = float(np.exp(np.log(margin) * span)) if margin > 1 else float(np.nanmax(xs))
        log_axis(ax, lo, max(hi, margin * 1.05))
    else:
        hi = margin * span if np.isfinite(margin) and margin > 0 else float(np.nanmax(xs))
        ax.set_xlim(lo, max(hi, margin * 1.05))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(wrap(plain(xlabel), width * 72 - 40))
    ax.set_ylabel(wrap(plain(ylabel), 3.0 * 72))
    if native is not None and not log:
        sd, unit = float(native[0]), str(native[1])
        def to_native(v: Any) -> Any:
            return np.asarray(v, dtype=float) * sd

        def from_native(v: Any) -> Any:
            return np.asarray(v, dtype=float) / sd

        sec = ax.secondary_xaxis("top", functions=(to_native, from_native))
        sec.set_xlabel(wrap(plain(f"margin in {unit} (SMD x SD {sd:g}, a stated assumption)"), width * 72 - 40))
        sec.xaxis.set_major_locator(ticker.MaxNLocator(6))
    _title(fig, title, width)
    _legend_below(fig, ax)
    return fig


def probability_curves(curves: Mapping[str, pd.DataFrame], *, x: str, y: str, xlabel: str,
                       ylabel: str, title: str | None = None, marks: Sequence[float] = (),
                       thresholds: Sequence[float] = (0.95,), log: bool = False) -> Figure:
    """Posterior probability curves against a parameter (previous API; the first mark is taken
    as the primary margin). Do not put p-values on this axis: see :func:`unit_of_analysis`."""
    m = marks[0] if len(marks) else float("nan")
    fig = noninferiority_curves(curves, margin=m, threshold=thresholds[0] if thresholds else 0.95, xlabel=xlabel,
                                title=title, x=x, y=y, log=log, ylabel=ylabel)
    return fig


def unit_of_analysis(rho: np.ndarray, p_posterior: np.ndarray, pvalue: np.ndarray, *, posterior_label: str,
                     rho_default: float | None = None, title: str | None = None, width: float = 4.8) -> Figure:
    """What the unit-of-analysis correction does, in two stacked panels: the posterior probability
    (flat prior) against rho, and the two-sided p-value against rho, each on its own axis."""
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(width, 5.4), dpi=DPI, layout="constrained")
    a1.plot(rho, p_posterior, color=BLUE, lw=1.6)
    a1.axhline(0.95, color=GREY, ls=":", lw=1.0)
    a1.set_ylim(0, 1.02)
    a1.set_ylabel(wrap(plain(posterior_label), 2.2 * 72 - 20))
    a1.set_title("posterior probability (flat prior)", fontsize=FONT_SIZE)
    a2.plot(rho, pvalue, color=VERMILLION, lw=1.6)
    a2.axhline(0.05, color=GREY, ls=":", lw=1.0)
    a2.set_ylim(0, 1.02)
    a2.set_ylabel("two-sided p-value (frequentist)")
    a2.set_title("p-value; dotted: 0.05", fontsize=FONT_SIZE)
    for a in (a1, a2):
        a.set_xlabel("within-patient correlation between time points (rho)")
        a.set_xlim(float(np.min(rho)), float(np.max(rho)))
        if rho_default is not None:
            a.axvline(rho_default, color=BLACK, ls="--", lw=0.8)
    _title(fig, title, width)
    return fig


def sensitivity_heatmap(table: pd.DataFrame, *, row: str, col: str, value: str, title: str,
                        threshold: float | None = 0.95, row_order: Sequence | None = None,
                        col_order: Sequence | None = None, row_label: str | None = None,
                        col_label: str | None = None, cbar_label: str = "posterior probability",
                        fmt: Callable[[float], str] | str | None = None) -> Figure:
    """Heat map of a posterior probability over a prior grid with the decision boundary drawn.

    Rows and columns keep the given order (``row_order``/``col_order``, else first appearance in
    ``table``: the caller orders priors logically, e.g. by their spread), never alphabetical. The
    colour scale is centred on ``threshold`` so cells just above and below it differ visibly; the
    boundary between cells on either side of it is a thick black line, and a grid entirely on
    one side says so under the title.
    """
    ro = list(row_order) if row_order is not None else list(pd.unique(table[row]))
    co = list(col_order) if col_order is not None else list(pd.unique(table[col]))
    piv = table.pivot_table(index=row, columns=col, values=value, aggfunc="first", sort=False)
    piv = piv.reindex(index=[r for r in ro if r in piv.index], columns=[c for c in co if c in piv.columns])
    vals = piv.to_numpy(dtype=float)
    nr, nc = vals.shape
    rlabels = [plain(r) for r in piv.index]
    clabels = [plain(c) for c in piv.columns]
    lw = max(text_width(s) for s in rlabels) / 72 + 0.5
    cw = max(0.95, max(text_width(s) for s in clabels) / 72 + 0.15)
    W = max(5.6, lw + nc * cw + 1.4)
    H = 0.42 * nr + 2.2
    fig, ax = plt.subplots(figsize=(W, H), dpi=DPI, layout="constrained")
    t = 0.95 if threshold is None else threshold
    lo = min(float(np.nanmin(vals)), t - 0.05, 0.5)
    norm = TwoSlopeNorm(vmin=lo, vcenter=t, vmax=1.0)
    im = ax.imshow(vals, cmap="RdBu", norm=norm, aspect="auto")
    ax.set_xticks(range(nc), clabels)
    ax.set_yticks(range(nr), rlabels)
    if any(text_width(s) > cw * 72 - 6 for s in clabels):
        plt.setp(ax.get_xticklabels(), rotation=25, ha="right")
    f = fmt if callable(fmt) else (lambda v: ("NA" if not np.isfinite(v) else ">0.999" if v > 0.999 else
                                               "<0.001" if v < 0.001 else f"{v:.3f}"))
    for i in range(nr):
        for j in range(nc):
            v = vals[i, j]
            dark = np.isfinite(v) and abs(norm(v) - 0.5) > 0.35
            ax.text(j, i, f(v), ha="center", va="center", fontsize=FONT_SIZE - 0.5, color="white" if dark else "black")
    subtitle = ""
    if threshold is not None:
        above = vals >= threshold
        for i in range(nr):
            for j in range(nc):
                if j + 1 < nc and above[i, j] != above[i, j + 1]:
                    ax.plot([j + 0.5, j + 0.5], [i - 0.5, i + 0.5], color="black", lw=2.5)
                if i + 1 < nr and above[i, j] != above[i + 1, j]:
                    ax.plot([j - 0.5, j + 0.5], [i + 0.5, i + 0.5], color="black", lw=2.5)
        fin = np.isfinite(vals)
        if above[fin].all():
            subtitle = f"every cell is at or above {threshold:g}: no decision boundary inside the grid"
        elif not above[fin].any():
            subtitle = f"every cell is below {threshold:g}: no decision boundary inside the grid"
        else:
            subtitle = f"black line: decision boundary at {threshold:g}"
    ax.set_xlabel(plain(col_label or col))
    ax.set_ylabel(plain(row_label or row))
    cb = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
    cb.set_label(cbar_label)
    full = title + (f"\n({subtitle})" if subtitle else "")
    ax.set_title(wrap(plain(full), W * 72 - 30), fontsize=FONT_SIZE + 0.5)
    return fig


# ---- checks -----------------------------------------------------------------------------------

def ppc_studies(observed: np.ndarray, replicated: np.ndarray, labels: Sequence[str], *,
                xlabel: str, prob: float = 0.95, title: str | None = None, ratio: bool = False) -> Figure:
    """Replicated study effects (posterior predictive intervals) against the observed ones.

    ``replicated`` has shape (draws, k); with ``ratio`` the values are log ratios and the axis is
    labelled with the ratios.
    """
    k = len(labels)
    lo, hi = np.quantile(replicated, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    med = np.median(replicated, axis=0)
    ys = np.arange(k)[::-1]
    labs = [plain(s) for s in labels]
    lw = max(text_width(s) for s in labs) / 72 + 0.3
    W = max(6.4, lw + 4.5)
    fig, ax = plt.subplots(figsize=(W, 0.3 * k + 1.9), dpi=DPI, layout="constrained")
    ax.hlines(ys, lo, hi, color=SKY, lw=3, label=f"replicated effect, {round(prob * 100)}% interval")
    ax.plot(med, ys, "|", color=BLUE, ms=10)
    observed = np.asarray(observed, float)
    outside = (observed < lo) | (observed > hi)
    ax.plot(observed[~outside], ys[~outside], "o", color=BLACK, ms=5, label="observed effect")
    if outside.any():
        ax.plot(observed[outside], ys[outside], "o", color=VERMILLION, ms=6, label="observed, outside the interval")
    ax.set_yticks(ys, labs)
    if ratio:
        a, b = ax.get_xlim()
        log_value_axis(ax, a, b)
    ax.set_xlabel(wrap(plain(xlabel), (W - lw) * 72 - 20))
    _title(fig, title, W)
    _legend_below(fig, ax)
    return fig


def funnel(yi: np.ndarray, sei: np.ndarray, *, mu: float, xlabel: str, ratio: bool = False,
           title: str | None = None, min_k: int = 10, labels: Sequence[str] | None = None) -> Figure:
    """Funnel plot: study effects against their standard errors (inverted), with the pseudo 95%
    region mu +- 1.96 SE around the pooled estimate. Needs ``min_k`` studies (default 10, Sterne
    et al. 2011); raises ``ValueError`` with fewer."""
    yi, sei = np.asarray(yi, float), np.asarray(sei, float)
    ok = np.isfinite(yi) & np.isfinite(sei)
    if ok.sum() < min_k:
        raise ValueError(f"a funnel plot needs at least {min_k} studies (Sterne et al. 2011); {int(ok.sum())} given")
    yi, sei = yi[ok], sei[ok]
    fig, ax = plt.subplots(figsize=(6.2, 4.2), dpi=DPI, layout="constrained")
    smax = float(sei.max()) * 1.08
    s = np.linspace(0, smax, 50)
    ax.fill_betweenx(s, mu - 1.959964 * s, mu + 1.959964 * s, color="#eeeeee", label="pseudo 95% region")
    ax.plot(mu - 1.959964 * s, s, color=GREY, lw=0.8, ls="--")
    ax.plot(mu + 1.959964 * s, s, color=GREY, lw=0.8, ls="--")
    ax.axvline(mu, color=BLUE, lw=1.0, label="pooled estimate")
    ax.plot(yi, sei, "o", color=BLACK, ms=5, label="study")
    ax.set_ylim(smax, 0)
    lo = min(float(yi.min()), mu - 1.959964 * smax)
    hi = max(float(yi.max()), mu + 1.959964 * smax)
    pad = 0.05 * (hi - lo)
    if ratio:
        log_value_axis(ax, lo - pad, hi + pad)
    else:
        ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel(wrap(plain(xlabel), 6.2 * 72 - 40))
    ax.set_ylabel("standard error" + (" (log scale of the ratio)" if ratio else ""))
    _title(fig, title, 6.2)
    _legend_below(fig, ax)
    return fig


# ---- influence, small-study effects and meta-regression (issue 11) -------------------------------

def _freeze_layout(fig) -> None:
    """Run the constrained layout once and keep it (labels placed afterwards keep their places)."""
    fig.canvas.draw()
    fig.set_layout_engine("none")


def place_labels(ax, x: np.ndarray, y: np.ndarray, labels: Sequence[str], order: Sequence[int] | None = None,
                 fontsize: float = FONT_SIZE - 0.5, limit: int | None = None) -> int:
    """Name points without overlap: each label (in ``order``, most important first) is tried at
    eight offsets around its point and kept at the first where its box overlaps no label already
    placed, no marker box of another point and stays inside the axes; a label that fits nowhere
    is left out. Returns the number of labels left out (say so in the figure)."""
    fig = ax.figure
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    axbox = ax.get_window_extent(r)
    pts = ax.transData.transform(np.column_stack([x, y]))
    placed: list = []
    order = list(range(len(labels))) if order is None else list(order)
    offsets = [(5, 4, "left", "bottom"), (5, -4, "left", "top"), (-5, 4, "right", "bottom"),
               (-5, -4, "right", "top"), (0, 7, "center", "bottom"), (0, -7, "center", "top"),
               (8, 0, "left", "center"), (-8, 0, "right", "center")]
    px = fig.dpi / 72.0
    shown = 0
    for i in order:
        if limit is not None and shown >= limit:
            break
        ok = False
        for dx, dy, ha, va in offsets:
            t = ax.annotate(plain(labels[i]), (x[i], y[i]), xytext=(dx, dy), textcoords="offset points",
                            fontsize=fontsize, ha=ha, va=va)
            e = t.get_window_extent(r)
            inside = e.x0 >= axbox.x0 and e.x1 <= axbox.x1 and e.y0 >= axbox.y0 and e.y1 <= axbox.y1
            hits_label = any(e.overlaps(b) for b in placed)
            hits_point = any(e.x0 - 2 * px < pts[j, 0] < e.x1 + 2 * px and e.y0 - 2 * px < pts[j, 1] < e.y1 + 2 * px
                             for j in range(len(labels)) if j != i)
            if inside and not hits_label and not hits_point:
                placed.append(e)
                ok = True
                break
            t.remove()
        shown += ok
    return len(labels) - shown


def baujat(x: np.ndarray, y: np.ndarray, labels: Sequence[str], *, flagged: Sequence[bool] | None = None,
           title: str | None = None, width: float = 5.2) -> Figure:
    """Baujat plot (Baujat et al. 2002): each study's contribution to Cochran's Q (x) against its
    influence on the pooled estimate (y); studies flagged influential drawn in vermillion."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    flag = np.zeros(x.size, bool) if flagged is None else np.asarray(flagged, bool)
    fig, ax = plt.subplots(figsize=(width, 4.4), dpi=DPI, layout="constrained")
    ax.plot(x[~flag], y[~flag], "o", color=BLUE, ms=5, label="study")
    if flag.any():
        ax.plot(x[flag], y[flag], "o", color=VERMILLION, ms=6, label="influential (metafor's rules)")
    xr, yr = (x.max() - x.min()) or 1.0, (y.max() - y.min()) or 1.0
    ax.set_xlim(x.min() - 0.05 * xr, x.max() + 0.3 * xr)
    ax.set_ylim(y.min() - 0.05 * yr, y.max() + 0.12 * yr)
    # names from the furthest-out study inwards (flagged first), each where it overlaps nothing; at
    # most 10 beyond 20 studies
    score = x / (x.max() or 1.0) + y / (y.max() or 1.0) + 10.0 * flag

    def xlab(n: int | str) -> str:
        return wrap("contribution to the heterogeneity statistic Q"
                    + (f"; {n} studies not named (no room without overlap): see the table" if n else ""),
                    width * 72 - 40)

    ax.set_ylabel("influence on the pooled estimate")
    ax.set_xlabel(xlab("00"))  # the longest label: the layout is fixed before the names are placed
    _title(fig, title, width)
    _legend_below(fig, ax)
    _freeze_layout(fig)
    unnamed = place_labels(ax, x, y, list(labels), order=list(np.argsort(-score)),
                           limit=10 if x.size > 20 else None)
    ax.set_xlabel(xlab(unnamed))
    ax.set_ylabel("influence on the pooled estimate")
    return fig


def gosh(estimate: np.ndarray, i2: np.ndarray, *, xlabel: str, ratio: bool = False, title: str | None = None,
         full: tuple[float, float] | None = None, width: float = 6.4) -> Figure:
    """GOSH plot (Olkin et al. 2012): pooled estimate against I^2 for every fitted subset of studies;
    ``full`` marks the fit to all studies. Many subsets are drawn as a density of hexagons."""
    est, i2 = np.asarray(estimate, float), np.asarray(i2, float)
    ok = np.isfinite(est) & np.isfinite(i2)
    est, i2 = est[ok], i2[ok]
    fig, ax = plt.subplots(figsize=(width, 4.4), dpi=DPI, layout="constrained")
    if est.size > 2000:
        hb = ax.hexbin(est, i2, gridsize=45, bins="log", cmap="Blues", mincnt=1)
        fig.colorbar(hb, ax=ax, label="subsets (log count)", shrink=0.8)
    else:
        ax.plot(est, i2, "o", color=BLUE, ms=3, alpha=0.35, label="subset of studies")
    if full is not None:
        ax.plot([full[0]], [full[1]], "D", color=VERMILLION, ms=7, label="all studies")
    lo, hi = float(est.min()), float(est.max())
    pad = 0.04 * ((hi - lo) or 1.0)
    if ratio:
        log_value_axis(ax, lo - pad, hi + pad)
    else:
        ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(-3, 103)
    ax.set_xlabel(wrap(plain(xlabel), width * 72 - 60))
    ax.set_ylabel("I^2 (%)")
    _title(fig, title, width)
    _legend_below(fig, ax)
    return fig


def funnel_filled(yi: np.ndarray, sei: np.ndarray, *, mu: float, xlabel: str, filled_yi: np.ndarray | None = None,
                  filled_sei: np.ndarray | None = None, mu_filled: float | None = None, ratio: bool = False,
                  title: str | None = None, min_k: int = 10, width: float = 6.4) -> Figure:
    """Funnel plot with the pseudo 95% region around ``mu`` and, when trim-and-fill imputed studies,
    the filled-in studies (open circles) and the adjusted estimate. Needs ``min_k`` studies."""
    yi, sei = np.asarray(yi, float), np.asarray(sei, float)
    if yi.size < min_k:
        raise ValueError(f"a funnel plot needs at least {min_k} studies (Sterne et al. 2011); {yi.size} given")
    fy = np.asarray(filled_yi if filled_yi is not None else [], float)
    fs = np.asarray(filled_sei if filled_sei is not None else [], float)
    z = 1.959964
    fig, ax = plt.subplots(figsize=(width, 4.4), dpi=DPI, layout="constrained")
    smax = float(np.concatenate([sei, fs]).max()) * 1.08
    s = np.linspace(0, smax, 50)
    ax.fill_betweenx(s, mu - z * s, mu + z * s, color="#eeeeee", label="pseudo 95% region")
    ax.plot(mu - z * s, s, color=GREY, lw=0.8, ls="--")
    ax.plot(mu + z * s, s, color=GREY, lw=0.8, ls="--")
    ax.axvline(mu, color=BLUE, lw=1.0, label="pooled estimate")
    ax.plot(yi, sei, "o", color=BLACK, ms=5, label="study")
    if fy.size:
        ax.plot(fy, fs, "o", mfc="white", mec=VERMILLION, ms=6, label="filled in (trim and fill)")
        if mu_filled is not None:
            ax.axvline(mu_filled, color=VERMILLION, lw=1.0, ls=":", label="estimate after trim and fill")
    ax.set_ylim(smax, 0)
    allx = np.concatenate([yi, fy, [mu - z * smax, mu + z * smax]])
    lo, hi = float(allx.min()), float(allx.max())
    pad = 0.05 * (hi - lo)
    if ratio:
        log_value_axis(ax, lo - pad, hi + pad)
    else:
        ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel(wrap(plain(xlabel), width * 72 - 40))
    ax.set_ylabel("standard error" + (" (log scale of the ratio)" if ratio else ""))
    _title(fig, title, width)
    _legend_below(fig, ax)
    return fig


def bubble(x: Sequence, yi: np.ndarray, weight: np.ndarray, line: pd.DataFrame, *, moderator: str, xlabel: str,
           ylabel: str, ratio: bool = False, categorical: bool = False, labels: Sequence[str] | None = None,
           prob: float = 0.95, title: str | None = None, width: float = 5.2) -> Figure:
    """Meta-regression bubble plot: study estimates against the moderator, point area by weight,
    the fitted mean with its CI band (frequentist, ``freq_*`` columns of ``line``) and the Bayesian
    posterior median with its interval (``bayes_*``). Categorical moderators: one column per level."""
    yi, w = np.asarray(yi, float), np.asarray(weight, float)
    pct = round(prob * 100)
    fig, ax = plt.subplots(figsize=(width, 4.6), dpi=DPI, layout="constrained")
    size = 20 + 380 * w / w.max()
    if categorical:
        levels = list(line[moderator])
        pos = {lev: i for i, lev in enumerate(levels)}
        xs = np.array([pos[v] for v in x], float)
        jitter = np.linspace(-0.12, 0.12, len(xs)) if len(xs) > 1 else np.zeros(1)
        ax.scatter(xs + jitter, yi, s=size, facecolor="none", edgecolor=BLACK, lw=0.9, label="study (area: weight)")
        p = np.arange(len(levels), dtype=float)
        ax.errorbar(p - 0.28, line["freq_mean"], yerr=[line["freq_mean"] - line["freq_lb"],
                    line["freq_ub"] - line["freq_mean"]], fmt="s", color=BLUE, ms=5, capsize=3,
                    label=f"fitted mean, REML + Knapp-Hartung ({pct}% CI)")
        ax.errorbar(p + 0.28, line["bayes_median"], yerr=[line["bayes_median"] - line["bayes_lb"],
                    line["bayes_ub"] - line["bayes_median"]], fmt="D", color=VERMILLION, ms=5, capsize=3,
                    label=f"posterior median, Bayesian ({pct}% ETI)")
        ax.set_xticks(p, [wrap(plain(lev), 90) for lev in levels])
        ax.set_xlim(-0.7, len(levels) - 0.3)
    else:
        xs = np.asarray(x, float)
        gx = line[moderator].to_numpy(float)
        ax.fill_between(gx, line["freq_lb"], line["freq_ub"], color=SKY, alpha=0.3,
                        label=f"REML + Knapp-Hartung, {pct}% CI")
        ax.plot(gx, line["freq_mean"], color=BLUE, lw=1.4, label="fitted mean (REML)")
        ax.plot(gx, line["bayes_median"], color=VERMILLION, lw=1.2, ls="--", label="posterior median (Bayesian)")
        ax.plot(gx, line["bayes_lb"], color=VERMILLION, lw=0.7, ls=":", label=f"Bayesian {pct}% ETI")
        ax.plot(gx, line["bayes_ub"], color=VERMILLION, lw=0.7, ls=":")
        ax.scatter(xs, yi, s=size, facecolor="none", edgecolor=BLACK, lw=0.9, label="study (area: weight)")
        span = gx.max() - gx.min()
        ax.set_xlim(gx.min() - 0.02 * span, gx.max() + 0.12 * span)
    ax.axhline(0.0, color=GREY, lw=0.8)
    lo = float(np.nanmin(np.concatenate([yi, line["freq_lb"], line["bayes_lb"]])))
    hi = float(np.nanmax(np.concatenate([yi, line["freq_ub"], line["bayes_ub"]])))
    pad = 0.08 * (hi - lo)
    if ratio:
        log_value_axis(ax, lo - pad, hi + pad, which="y")
    else:
        ax.set_ylim(lo - pad, hi + pad)
    def xlab(n: int | str) -> str:
        note = f" ({n} of {len(yi)} studies not named: no room without overlap)" if n else ""
        return wrap(plain(xlabel + note), width * 72 - 40)

    named = labels is not None and not categorical
    ax.set_xlabel(xlab("00" if named else 0))  # the longest label: the layout is fixed before placing names
    ax.set_ylabel(wrap(plain(ylabel), 3.2 * 72))
    _title(fig, title, width)
    _legend_below(fig, ax, ncol=1)
    if named:
        _freeze_layout(fig)
        left_out = (place_labels(ax, np.asarray(x, float), yi, list(labels or []), order=list(np.argsort(-w)))
                    if len(yi) <= 20 else len(yi))
        ax.set_xlabel(xlab(left_out))
    return fig


# ---- the headline figures, from the answers Dataset (docs: /work/notes/INTERFACE.md) --------------

_AXIS_COLOURS = {"effect_prior": BLUE, "tau_prior": GREEN, "heterogeneity": ORANGE, "margin": PURPLE,
                 "rounding": SKY, "rho": BLACK, "likelihood": GREY}
_AXIS_MARKERS = {"effect_prior": "o", "tau_prior": "s", "heterogeneity": "^", "margin": "v", "rounding": "D",
                 "rho": "P", "likelihood": "X"}
_AXIS_WORDS = {"effect_prior": "effect prior", "tau_prior": "heterogeneity prior",
               "heterogeneity": "heterogeneity information", "margin": "margin", "rounding": "rounding",
               "rho": "within-patient correlation", "likelihood": "likelihood"}


def _coord(ds, name: str, o, default=None):
    if name in ds.coords or name in ds:
        v = ds[name].sel(outcome=o).values
        return v.item() if hasattr(v, "item") else v
    return default


def primary_forest(answers, *, title: str | None = None, width: float = 4.8) -> Figure:
    """The primary answer per outcome: posterior median and 95% interval of mu (blue) under the
    primary analysis, the published estimate and CI (grey), the margin as a shaded band on the
    harmful side, and the posterior in native units where the outcome has them (right column).

    One panel per measure (ratio measures on a log axis with ratio tick labels); outcomes in the
    Dataset's order. Narrow by design (4.8 in: its text stays above 9 CSS px on a 390 px phone).

    Parameters
    ----------
    answers : xarray.Dataset
        The ``answers`` structure (dims ``outcome`` x ``departure``; ``primary`` the first
        departure): variables ``median``, ``lb95``, ``ub95``, coordinates ``outcome_label``,
        ``measure``, ``margin``, ``lower_is_better``, ``native_scale``, ``native_unit`` and the
        published ``published_est``/``published_lb``/``published_ub`` (analysis scale).
    """
    ds = answers
    prim = ds.sel(departure="primary") if "primary" in ds["departure"].values else ds.isel(departure=0)
    outs = [str(o) for o in ds["outcome"].values]
    measures = list(dict.fromkeys(str(_coord(ds, "measure", o, "")) for o in outs))
    groups = [(m, [o for o in outs if str(_coord(ds, "measure", o, "")) == m]) for m in measures]
    band = 0.62
    heights = [len(g) * band + 0.55 for _, g in groups]
    H = sum(heights) + 0.95 + (0.35 if title else 0.0)
    fig = plt.figure(figsize=(width, H), dpi=DPI)
    left_in, num_in = 0.12, 1.6
    plot_w = width - left_in - num_in - 0.12
    y_top = H - (0.45 if title else 0.1)
    if title:
        fig.suptitle(wrap(plain(title), width * 72 - 16, FONT_SIZE + 1), y=1 - 0.06 / H, va="top",
                     fontsize=FONT_SIZE + 1)
    for (measure, group), h_in in zip(groups, heights, strict=True):
        ratio = measure.upper() in RATIO_MEASURES
        bottom = y_top - h_in
        ax = fig.add_axes((left_in / width, (bottom + 0.45) / H, plot_w / width, (h_in - 0.55) / H))
        y_top = bottom - 0.1
        n = len(group)
        vals = []
        for o in group:
            r = prim.sel(outcome=o)
            vals += [float(r["lb95"]), float(r["ub95"])]
            for k in ("published_lb", "published_ub"):
                v = float(_coord(ds, k, o, np.nan))
                if np.isfinite(v):
                    vals.append(v)
            mg = float(_coord(ds, "margin", o, np.nan))
            if np.isfinite(mg):
                vals.append(_harm_sign(ds, o) * abs(mg) * 1.3)  # the band beyond the margin stays visible
        vals.append(0.0)
        lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
        pad = 0.08 * ((hi - lo) or 1.0)
        lo, hi = lo - pad, hi + pad
        for i, o in enumerate(group):
            y0 = n - 1 - i  # top to bottom
            r = prim.sel(outcome=o)
            mg = float(_coord(ds, "margin", o, np.nan))
            if np.isfinite(mg):
                edge = _harm_sign(ds, o) * abs(mg)
                a, b = (edge, hi) if edge > 0 else (lo, edge)
                ax.add_patch(plt.Rectangle((a, y0 - 0.45), b - a, 0.9, color=VERMILLION, alpha=0.13, lw=0))
                ax.plot([edge, edge], [y0 - 0.45, y0 + 0.45], color=VERMILLION, lw=0.9)
            pe, pl, pu = (float(_coord(ds, k, o, np.nan)) for k in ("published_est", "published_lb", "published_ub"))
            if np.isfinite(pl) and np.isfinite(pu):
                ax.plot([pl, pu], [y0 + 0.02, y0 + 0.02], color=GREY, lw=1.6, solid_capstyle="butt")
                if np.isfinite(pe):
                    ax.plot([pe], [y0 + 0.02], "s", color=GREY, ms=4)
            ax.plot([float(r["lb95"]), float(r["ub95"])], [y0 - 0.2, y0 - 0.2], color=BLUE, lw=2.4,
                    solid_capstyle="butt")
            ax.plot([float(r["median"])], [y0 - 0.2], "o", color=BLUE, ms=5.5)
            ax.text(0.01, y0 + 0.3, plain(str(_coord(ds, "outcome_label", o, o))), transform=ax.get_yaxis_transform(),
                    ha="left", va="center", fontsize=FONT_SIZE)
            # numbers on the right: posterior median (interval), then native units
            tr = np.exp if ratio else (lambda v: v)
            txt = fmt_interval(float(tr(r["median"])), float(tr(r["lb95"])), float(tr(r["ub95"])))
            sc = float(_coord(ds, "native_scale", o, np.nan))
            unit = str(_coord(ds, "native_unit", o, "") or "")
            lines = [txt]
            if np.isfinite(sc) and not ratio and unit:
                lines.append(fmt_interval(float(r["median"]) * sc, float(r["lb95"]) * sc, float(r["ub95"]) * sc,
                                          fmt=lambda v: fmt_number(v, 1)) + f" {unit}")
            body = "\n".join(wrap(plain(x), num_in * 72 - 6, FONT_SIZE - 0.5) for x in lines)
            ax.text(1.0 + 0.12 / plot_w, y0 - 0.05, body, transform=ax.get_yaxis_transform(),
                    ha="left", va="center", fontsize=FONT_SIZE - 0.5, linespacing=1.25)
        ax.axvline(0.0, color=BLACK, lw=0.7)  # no effect: values are on the analysis scale (log for ratios)
        ax.set_ylim(-0.6, n - 0.4 + 0.35)
        ax.set_yticks([])
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        if ratio:
            log_value_axis(ax, lo, hi)
        else:
            ax.set_xlim(lo, hi)
            ax.xaxis.set_major_locator(ticker.MaxNLocator(5))
        ax.set_xlabel(plain(f"{measure}{' (log scale)' if ratio else ''}"), labelpad=1)
        ax.text(1.0 + 0.12 / plot_w, n - 0.4 + 0.3, plain("median (95% interval)"), transform=ax.get_yaxis_transform(),
                ha="left", va="bottom", fontsize=FONT_SIZE - 0.5, color=GREY)
    handles = [Line2D([], [], color=BLUE, lw=2.4, marker="o", ms=5, label="primary posterior, 95% interval"),
               Line2D([], [], color=GREY, lw=1.6, marker="s", ms=4, label="published estimate, 95% CI"),
               Patch(color=VERMILLION, alpha=0.25, label="beyond the margin (worse)")]
    fig.legend(handles=handles, loc="lower center", ncol=1, frameon=False, fontsize=FONT_SIZE - 0.5,
               bbox_to_anchor=(0.5, 0.0))
    return fig


def _harm_sign(ds, o) -> float:
    lib = _coord(ds, "lower_is_better", o, True)
    return 1.0 if bool(lib) else -1.0


def robustness_figure(answers, *, threshold: float = 0.95, title: str | None = None,
                      width: float = 4.8) -> Figure:
    """How robust is the answer: P(decision) per outcome under the primary analysis (black
    diamond) and under each named departure (marker by axis of departure), on a logit axis so that
    0.9, 0.95 and 0.99 are told apart; the decision threshold as a vertical line. A departure whose
    decision differs from the primary's (``flips``) is ringed in vermillion and named, with its
    probability, under the outcome's label (names, not labels in the plot: nothing overlaps).

    Replaces the one-column sensitivity heat maps: one row per outcome, one scale, one order.
    """
    ds = answers
    outs = [str(o) for o in ds["outcome"].values]
    deps = [str(d) for d in ds["departure"].values]
    prim = "primary" if "primary" in deps else deps[0]
    rows = []
    for o in outs:
        flips = []
        for d in deps:
            if d == prim:
                continue
            av = bool(ds["available"].sel(outcome=o, departure=d)) if "available" in ds else True
            p = float(ds["p_decision"].sel(outcome=o, departure=d))
            if av and np.isfinite(p) and bool(ds["flips"].sel(outcome=o, departure=d)):
                lab = str(ds["departure_label"].sel(departure=d).values) if "departure_label" in ds.coords else d
                flips.append(f"{lab} {fmt_prob(p)}")
        rows.append(flips)
    # row heights: label line + wrapped flip lines
    plot_w = width - 0.35
    flip_text = [wrap(plain("flips: " + "; ".join(f)), plot_w * 72 - 10, FONT_SIZE - 0.5) if f else "" for f in rows]
    hts = [0.55 + 0.16 * (t.count("\n") + 1 if t else 0) for t in flip_text]
    H_plot = sum(hts)
    # room below the axis: tick labels and axis label (0.55 in), then the legend (2 columns: primary,
    # threshold, one entry per axis of departure present, flips)
    present = {str(ds["departure_axis"].sel(departure=d).values) if "departure_axis" in ds.coords else "likelihood"
               for d in deps if d != prim}
    legend_rows = math.ceil((3 + len(present)) / 2)
    below = 0.62 + 0.2 * legend_rows
    H = H_plot + below + 0.25 + (0.35 if title else 0.0)
    fig = plt.figure(figsize=(width, H), dpi=DPI)
    ax = fig.add_axes((0.2 / width, below / H, plot_w / width, H_plot / H))
    if title:
        fig.suptitle(wrap(plain(title), width * 72 - 16, FONT_SIZE + 1), y=1 - 0.06 / H, va="top",
                     fontsize=FONT_SIZE + 1)
    lo_p, hi_p = 0.02, 0.998
    y = H_plot
    axes_used: dict[str, bool] = {}
    for o, ft, h in zip(outs, flip_text, hts, strict=True):
        top = y
        y -= h
        mid = top - 0.42
        ax.text(0.0, top - 0.06, plain(str(_coord(ds, "outcome_label", o, o))), transform=ax.get_yaxis_transform(),
                ha="left", va="top", fontsize=FONT_SIZE)
        if ft:
            ax.text(0.0, mid - 0.13, ft, transform=ax.get_yaxis_transform(), ha="left", va="top",
                    fontsize=FONT_SIZE - 0.5, color=VERMILLION)
        ax.axhline(y, color="#e0e0e0", lw=0.6)
        for d in deps:
            if d == prim:
                continue
            av = bool(ds["available"].sel(outcome=o, departure=d)) if "available" in ds else True
            p = float(ds["p_decision"].sel(outcome=o, departure=d))
            if not (av and np.isfinite(p)):
                continue
            axis = str(ds["departure_axis"].sel(departure=d).values) if "departure_axis" in ds.coords else "likelihood"
            axes_used[axis] = True
            flip = bool(ds["flips"].sel(outcome=o, departure=d))
            ax.plot([np.clip(p, lo_p, hi_p)], [mid], _AXIS_MARKERS.get(axis, "o"), ms=5.5,
                    color=_AXIS_COLOURS.get(axis, GREY), alpha=0.85,
                    mec=VERMILLION if flip else "white", mew=1.4 if flip else 0.5)
        p0 = float(ds["p_decision"].sel(outcome=o, departure=prim))
        if np.isfinite(p0):
            ax.plot([np.clip(p0, lo_p, hi_p)], [mid], "D", color=BLACK, ms=7, mec="white", mew=0.8, zorder=5)
    ax.set_xscale("logit")
    ax.set_xlim(lo_p, hi_p)
    ticks = [t for t in (0.05, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99) if lo_p < t < hi_p]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.axvline(threshold, color=VERMILLION, lw=1.0, ls="--")
    ax.set_ylim(0, H_plot)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    q = {str(_coord(ds, "question", o, "noninferiority")) for o in outs}
    what = ("P(no worse than the margin)" if q <= {"noninferiority"} else
            "P(benefit)" if q <= {"superiority"} else "P(decision): no worse than the margin, or benefit")
    ax.set_xlabel(plain(f"{what} (logit scale)"), labelpad=2)
    handles = [Line2D([], [], ls="", marker="D", color=BLACK, ms=6, label="primary analysis"),
               Line2D([], [], color=VERMILLION, ls="--", lw=1.0, label=f"decision threshold {threshold:g}")]
    handles += [Line2D([], [], ls="", marker=_AXIS_MARKERS.get(a, "o"), color=_AXIS_COLOURS.get(a, GREY), ms=5.5,
                       label=_AXIS_WORDS.get(a, a)) for a in axes_used]
    handles.append(Line2D([], [], ls="", marker="o", mfc="white", mec=VERMILLION, mew=1.4, ms=6,
                          label="flips the decision"))
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False, fontsize=FONT_SIZE - 0.5,
               bbox_to_anchor=(0.5, 0.0), handletextpad=0.4, columnspacing=1.0)
    return fig


def fmt_prob(p: float) -> str:
    """A probability as the report prints it (three decimals, <0.001 and >0.999 at the ends)."""
    if p is None or not np.isfinite(p):
        return "NA"
    return "<0.001" if p < 0.001 else (">0.999" if p > 0.999 else f"{p:.3f}")


# ---- output -----------------------------------------------------------------------------------

def _drawn_texts(fig) -> list:
    """(text artist, window extent) of every visible, non-empty text drawn on ``fig`` (tick
    labels only where their axis draws them). The figure is laid out and measured without
    rasterising (``draw_without_rendering``: the same layout pass and renderer as a draw, and the
    same saved image, at a fraction of the cost: text rasterisation dominates a large forest)."""
    fig.draw_without_rendering()
    r = fig.canvas.get_renderer()
    ticks: set[int] = set()
    drawn: set[int] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tk in axis.majorTicks + axis.minorTicks:
                ticks.update((id(tk.label1), id(tk.label2)))
            if ax.axison and axis.get_visible():
                drawn.update(id(lab) for tk in axis._update_ticks() for lab in (tk.label1, tk.label2)
                             if lab.get_visible())
    out = []
    for t in fig.findobj(matplotlib.text.Text):
        if not t.get_visible() or not t.get_text().strip() or (id(t) in ticks and id(t) not in drawn):
            continue
        out.append((t, t.get_window_extent(r)))
    return out


def text_outside(fig) -> list[str]:
    """Texts whose drawn extent leaves the figure (empty when nothing is cut off)."""
    box = fig.bbox
    bad = []
    for t, e in _drawn_texts(fig):
        if e.x0 < box.x0 - 1 or e.x1 > box.x1 + 1 or e.y0 < box.y0 - 1 or e.y1 > box.y1 + 1:
            bad.append(t.get_text())
    return bad


def overlapping_texts(fig, tol: float = 1.0, items: list | None = None) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose boxes overlap by more than ``tol`` pixels each way (empty when
    no label sits on another), in drawing order. ``items``: :func:`_drawn_texts` of ``fig`` when
    already known (one render fewer). All pairs are compared at once (arrays), not in a Python
    double loop: a forest of 1,000 rows has ~2,000 texts."""
    items = _drawn_texts(fig) if items is None else items
    if len(items) < 2:
        return []
    box = np.array([(e.x0, e.x1, e.y0, e.y1) for _, e in items])
    x0, x1, y0, y1 = box.T
    over = (np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :]) > tol) & \
        (np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :]) > tol)
    ii, jj = np.nonzero(np.triu(over, k=1))  # row-major: the order of the double loop over i < j
    return [(items[i][0].get_text(), items[j][0].get_text()) for i, j in zip(ii, jj, strict=True)]


def smallest_font_pt(fig, items: list | None = None) -> float:
    """The smallest font size (points) of the texts drawn on ``fig`` (``items`` as in
    :func:`overlapping_texts`)."""
    sizes = [t.get_fontsize() for t, _ in (_drawn_texts(fig) if items is None else items)]
    return float(min(sizes)) if sizes else float(FONT_SIZE)


#: PNG text key holding the smallest font size of a saved figure, in image pixels (the HTML report
#: keeps every figure wide enough for that text to stay at least 9 CSS px: render.py)
MIN_FONT_KEY = "bayesmeta-min-font-px"
#: PNG text key listing the pairs of texts that overlap on a saved figure ("none"; tests read it)
OVERLAP_KEY = "bayesmeta-overlapping-texts"


def save(fig, path) -> None:
    """Save a figure as PNG atomically (temporary file, then rename) and close it; the PNG records
    its smallest font size in pixels (``MIN_FONT_KEY``)."""
    from bayesmeta._io import atomic_path

    try:
        # the layout engine refines positions on every layout pass, so the saved image depends on
        # how often the figure was laid out before: keep the two passes the checks always made
        # (as layouts only: nothing is rasterised before savefig)
        fig.draw_without_rendering()
        items = _drawn_texts(fig)
        meta = {"Software": None, MIN_FONT_KEY: f"{smallest_font_pt(fig, items) * DPI / 72:.2f}",
                OVERLAP_KEY: "; ".join(f"{a} / {b}" for a, b in overlapping_texts(fig, items=items)) or "none"}
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=DPI, format="png", metadata=meta)
    finally:
        plt.close(fig)


__all__ = [
    "FONT_FAMILIES",
    "baujat",
    "bubble",
    "densities",
    "fmt_interval",
    "fmt_number",
    "forest",
    "funnel",
    "funnel_filled",
    "gosh",
    "log_axis",
    "log_value_axis",
    "noninferiority_curves",
    "overlapping_texts",
    "pages",
    "place_labels",
    "plain",
    "ppc_studies",
    "primary_forest",
    "prior_posterior",
    "probability_curves",
    "ratio_ticks",
    "robustness_figure",
    "save",
    "sensitivity_heatmap",
    "smallest_font_pt",
    "study_forest",
    "summary_forest",
    "text_outside",
    "text_width",
    "unit_of_analysis",
    "wrap",
]
