"""How the report looks: figures never shown with text below 9 CSS px, tables that keep their
decisive column visible, labels that never overlap (issue 17, items 5-7)."""
from __future__ import annotations

import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from bayesmeta.report import figures as F
from bayesmeta.report import render as R

pytestmark = pytest.mark.unit


def test_saved_figure_records_smallest_font_and_overlaps(tmp_path):
    fig, ax = plt.subplots(figsize=(4.0, 3.0), dpi=F.DPI)
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("x label", fontsize=10)
    ax.text(0.5, 0.5, "small", fontsize=7)
    F.save(fig, tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as im:
        assert float(im.info[F.MIN_FONT_KEY]) == round(7 * F.DPI / 72, 2)
        assert im.info[F.OVERLAP_KEY] == "none"
    fig, ax = plt.subplots(figsize=(4.0, 3.0), dpi=F.DPI)
    ax.text(0.5, 0.5, "Rosenthal et al 1960")
    ax.text(0.5, 0.51, "Rosenthal et al 1961")
    F.save(fig, tmp_path / "b.png")
    with Image.open(tmp_path / "b.png") as im:
        assert "Rosenthal et al 1960 / Rosenthal et al 1961" in im.info[F.OVERLAP_KEY]


def test_figure_html_never_shrinks_text_below_9_css_px(tmp_path):
    fig, ax = plt.subplots(figsize=(6.8, 3.0), dpi=F.DPI)
    ax.set_xlabel("label at 8 pt", fontsize=8)
    ax.tick_params(labelsize=8)
    F.save(fig, tmp_path / "f.png")
    html = R._figure_html(tmp_path / "f.png", "caption")
    w = int(re.search(r"width='(\d+)'", html).group(1))
    f = float(re.search(r"data-min-font-px='([\d.]+)'", html).group(1))
    minw = int(re.search(r"min-width:(\d+)px", html).group(1))
    assert f == round(8 * F.DPI / 72, 2)
    assert minw == math.ceil(w * 9 / f)  # at min-width the 8 pt text is 9 CSS px
    assert "class='figbox'" in html  # the box scrolls sideways on a narrow screen


def test_small_tables_become_cards_with_labels_and_key():
    t = R.Table(pd.DataFrame({"Outcome": ["Pain", "Function"], "Trials (participants)": ["5 (312)", "5 (300)"],
                              "P(no worse than 1 point)": [0.985, 0.986]}), key="P(no worse than 1 point)")
    html = R._html_table(t)
    assert "<table class='cards'>" in html
    assert "data-label='P(no worse than 1 point)'" in html
    assert "<th scope='col' class=key>P(no worse than 1 point)</th>" in html
    assert "class='key'" in html
    big = R.Table(pd.DataFrame({"a": range(30), "b": range(30), "c": range(30)}))
    assert "class='cards'" not in R._html_table(big)


def test_place_labels_never_overlaps_and_counts_what_it_leaves_out():
    fig, ax = plt.subplots(figsize=(4.8, 3.5), dpi=F.DPI)
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 0.01, 8), [1.0, 2.0]])  # eight crowded points near the origin
    y = np.concatenate([rng.normal(0, 0.01, 8), [1.0, 2.0]])
    ax.plot(x, y, "o")
    ax.set_xlim(-0.5, 2.6)
    ax.set_ylim(-0.5, 2.6)
    labels = [f"Rosenthal et al 19{60 + i}" for i in range(10)]
    left_out = F.place_labels(ax, x, y, labels, order=[9, 8, *range(8)])
    assert 0 < left_out < 10
    assert F.overlapping_texts(fig) == []
    plt.close(fig)


def test_bubble_axis_says_what_the_moderator_is(tmp_path):
    from types import SimpleNamespace

    from bayesmeta.report.diagnostics import moderator_words

    (tmp_path / "studies.csv").write_text(
        'study,ablat,source\n"A 1948",44,"metadat dat.colditz1994: ablat = absolute latitude of the study '
        'location in degrees, year = year of publication"\n', encoding="utf-8")
    spec = SimpleNamespace(data_dir=tmp_path)
    assert moderator_words(spec, "ablat") == "ablat: absolute latitude of the study location in degrees"
    assert moderator_words(spec, "year") == "year: year of publication"
    assert moderator_words(spec, "alloc") == "alloc"  # not defined in the data: the name alone
