"""Report figures and rendering.

Figures are checked for what a reader sees: every text inside the figure (nothing cut off), no
"Glyph missing" warning for CJK/emoji study names, plain tick labels on ratio axes, excluded
studies shown with their reason, heat maps in the given order with the decision boundary drawn.
The study data are Colditz et al. 1994 (data/colditz1994, Table 1 via metadat dat.bcg) plus a
made-up double-zero study and non-ASCII names (labels only; no number is checked against them).
"""
import base64
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayesmeta.effects.escalc import escalc
from bayesmeta.report import figures
from bayesmeta.report.render import (
    Code,
    Figure,
    Heading,
    Paragraph,
    Table,
    write_report,
)

pytestmark = pytest.mark.e2e

NAMES = ["李明 2019", "김서연 2020 😀", "Müller & Ødegård 2018", "Łukasz 🩺 2021", "$5 trial"]


def _bcg_studies(names=True) -> pd.DataFrame:
    d = pd.read_csv("data/colditz1994/binary_arms.csv")
    w = d.pivot_table(index="study", columns="arm", values=["events", "n"], sort=False)
    s = pd.DataFrame({"study": list(w.index), "events_e": w[("events", "vaccine")].to_numpy(),
                      "n_e": w[("n", "vaccine")].to_numpy(), "events_c": w[("events", "control")].to_numpy(),
                      "n_c": w[("n", "control")].to_numpy()})
    if names:
        s.loc[: len(NAMES) - 1, "study"] = NAMES
    s = pd.concat([s, pd.DataFrame([{"study": "Double-zero 2001", "events_e": 0, "n_e": 50, "events_c": 0,
                                     "n_c": 48}])], ignore_index=True)
    es = escalc("RR", ai=s["events_e"], n1i=s["n_e"], ci=s["events_c"], n2i=s["n_c"])
    yi, sei = es["yi"].to_numpy(), np.sqrt(es["vi"].to_numpy())
    s["yi"], s["ci_lb"], s["ci_ub"] = np.exp(yi), np.exp(yi - 1.96 * sei), np.exp(yi + 1.96 * sei)
    w_ = 1 / (sei ** 2 + 0.31)
    s["weight"] = 100 * w_ / np.nansum(w_)
    s["theta"], s["theta_lb"], s["theta_ub"] = s["yi"] ** 0.8, s["yi"] ** 0.8 * 0.8, s["yi"] ** 0.8 * 1.25
    dz = (s["events_e"] == 0) & (s["events_c"] == 0)
    s["excluded"] = np.where(dz, "double zero (no information on RR)", "")
    s.loc[dz, ["yi", "ci_lb", "ci_ub", "weight", "theta"]] = np.nan
    return s


POOLED = pd.DataFrame([
    {"label": "Random effects, DL (as published)", "kind": "frequentist", "estimate": 0.49, "lb": 0.35, "ub": 0.70},
    {"label": "Bayesian mu", "kind": "bayesian", "estimate": 0.50, "lb": 0.34, "ub": 0.72},
    {"label": "Prediction interval", "kind": "prediction", "estimate": 0.50, "lb": 0.14, "ub": 1.66}])


def _texts(fig) -> list[str]:
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(plt.Text) if t.get_visible()]


def _check(fig) -> list[str]:
    """Draw with every warning recorded; fail on a missing glyph or a text outside the figure."""
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        outside = figures.text_outside(fig)
    glyphs = [str(w.message) for w in ws if "Glyph" in str(w.message)]
    assert glyphs == [], glyphs
    assert outside == [], f"text cut off at the figure edge: {outside}"
    return _texts(fig)


def test_fonts_cover_cjk_and_emoji():
    # .ci/run installs fonts-noto-cjk and fonts-symbola; without them this test says so
    assert "Noto Sans CJK JP" in figures.FONT_FAMILIES or "Droid Sans Fallback" in figures.FONT_FAMILIES, \
        f"no CJK font found ({figures.FONT_FAMILIES}): apt-get install fonts-noto-cjk"
    assert "Symbola" in figures.FONT_FAMILIES, "no emoji font found: apt-get install fonts-symbola"
    assert figures.plain("李明 😀") == "李明 😀"
    # a character no font covers becomes its name, never an empty box; $ is not mathtext
    assert figures.plain("a \U0001FA7A b") == "a [stethoscope] b"
    assert figures.plain("$5") == r"\$5"


def test_study_forest_reads_as_expected():
    s = _bcg_studies()
    fig = figures.study_forest(s, POOLED, measure="RR", arms=("vaccine", "control"),
                               favours=("favours vaccine", "favours control"), margin=1.1,
                               title="Tuberculosis cases (RR, vaccine vs control)")
    texts = _check(fig)
    joined = "\n".join(texts)
    for name in ("李明 2019", "김서연 2020 😀", "Müller & Ødegård 2018", "[stethoscope]"):
        assert name in joined
    assert "excluded: double zero (no information on RR)" in texts  # the double-zero study is shown
    assert "0/50" in texts and "0/48" in texts                      # with its arm data
    assert "4/123" in texts and "11/139" in texts                    # Aronson 1948 arm data (Table 1)
    assert "vaccine events/n" in texts and "Weight" in texts
    assert "0.49 [0.35, 0.70]" in texts                              # pooled row numbers
    assert "non-inferiority margin 1.1" in joined                   # margin in the legend
    plot = fig.axes[1]
    assert plot.get_xscale() == "log"
    ticks = [t.get_text() for t in plot.get_xticklabels()]
    assert {"0.5", "1", "2"} <= set(ticks) and not any("^" in t or "times" in t for t in ticks)
    plt.close(fig)


def test_study_forest_summarises_long_k():
    s = _bcg_studies(names=False)
    big = pd.concat([s.assign(study=s["study"] + f" {i}") for i in range(40)], ignore_index=True)  # 560 rows
    fig = figures.study_forest(big, POOLED, measure="RR", arms=("vaccine", "control"),
                               favours=("favours vaccine", "favours control"), max_studies=30)
    texts = _check(fig)
    assert fig.get_size_inches()[1] < 15  # readable: 29 study rows, not 560
    assert any(t.startswith(f"+ {len(big) - 29} more studies") for t in texts)
    assert sum(len(p) for p in figures.pages(big, 40)) == len(big)
    plt.close(fig)


def test_summary_forest_panels_per_measure():
    rows = []
    for outcome, measure, m in (("Pain, overall", "SMD", 0.2), ("ODI, 2 weeks", "SMD", 0.2), ("Complications", "RR", 1.25)):
        for label, est in (("published", 0.05), ("reference", 0.04), ("sceptical", 0.02)):
            e = np.exp(est) if measure == "RR" else est
            lb, ub = (e / 2, e * 2) if measure == "RR" else (e - 0.1, e + 0.1)
            rows.append({"outcome": outcome, "measure": measure, "label": label, "estimate": e, "lb": lb, "ub": ub, "margin": m,
                             "kind": "published" if label == "published" else "posterior"})
    fig = figures.summary_forest(pd.DataFrame(rows), favours=("favours US", "favours FL"), title="Every result")
    texts = _check(fig)
    assert {"Pain, overall", "ODI, 2 weeks", "Complications"} <= set(texts)
    scales = sorted(a.get_xscale() for a in fig.axes if a.axison)
    assert scales == ["linear", "log"]
    plt.close(fig)


def test_density_and_curve_figures():
    x = np.linspace(-1.5, 0.7, 300)
    fig = figures.prior_posterior(x, {"N(0, 2^2)": (stats.norm(0, 2).pdf(x), stats.norm(-0.7, 0.2).pdf(x)),
                                      "flat": (None, stats.norm(-0.72, 0.21).pdf(x))},
                                  likelihood=stats.norm(-0.71, 0.2).pdf(x), ratio=True, xlabel="RR (log scale)",
                                  marks={"margin 1.1": np.log(1.1)}, title="x" * 200)
    texts = _check(fig)
    ax = fig.axes[0]
    # one legend entry per prior (its colour) and one per line style: short whatever the priors
    styles = sorted(line.get_linestyle() for line in ax.get_lines() if line.get_color() == figures.BLUE)
    assert styles == ["-", "--"]
    assert {"N(0, 2^2)", "flat (flat prior, not drawn)", "posterior (solid)", "prior (dashed)",
            "likelihood (normalised)", "margin 1.1"} <= set(texts)
    lo, hi = ax.get_xlim()
    assert lo < np.log(1.1) < hi  # the margin is always in range
    assert {"0.5", "1"} <= {t.get_text() for t in ax.get_xticklabels()}
    plt.close(fig)
    m = np.exp(np.linspace(0, np.log(3), 50))
    cur = {p: pd.DataFrame({"margin": m, "p_noninferior": stats.norm.cdf((np.log(m) - mu) / 0.2)})
           for p, mu in (("reference", -0.2), ("sceptical", 0.0))}
    fig = figures.noninferiority_curves(cur, margin=1.1, threshold=0.95, log=True, xlabel="margin (RR)",
                                        title="Complications: P(US non-inferior)")
    texts = _check(fig)
    assert "primary margin 1.1" in texts and "decision threshold 0.95" in texts
    assert not any("p-value" in t for t in texts)
    plt.close(fig)
    rho = np.linspace(0, 1, 11)
    fig = figures.unit_of_analysis(rho, 0.9 - 0.3 * rho, 0.05 + 0.4 * rho, posterior_label="P(favours FL)",
                                   rho_default=0.5, title="ODI: unit of analysis")
    _check(fig)
    a1, a2 = fig.axes
    assert "p-value" not in a1.get_ylabel() and "p-value" in a2.get_ylabel()  # never on the same axis
    plt.close(fig)


def test_heatmap_order_and_boundary():
    rows = [{"tau": t, "mu": m, "p": p} for t, ps in (("halfnormal_05", (0.93, 0.96, 0.99)),
                                                     ("halfnormal_1", (0.94, 0.97, 0.99)),
                                                     ("bartos2023", (0.92, 0.94, 0.98)))
            for m, p in zip(("sceptical", "neutral", "vague"), ps)]
    fig = figures.sensitivity_heatmap(pd.DataFrame(rows), row="tau", col="mu", value="p", title="P(non-inferior)",
                                      threshold=0.95)
    _check(fig)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["halfnormal_05", "halfnormal_1", "bartos2023"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["sceptical", "neutral", "vague"]
    # boundary: between columns 0|1 in rows 0-1, 1|2 in row 2, and row 1|2 in column 1 -> 4 segments
    thick = [line for line in ax.get_lines() if line.get_linewidth() == 2.5]
    assert len(thick) == 4
    plt.close(fig)
    fig = figures.sensitivity_heatmap(pd.DataFrame(rows).assign(p=0.99), row="tau", col="mu", value="p",
                                      title="all above", threshold=0.95)
    assert any("no decision boundary" in t for t in _check(fig))
    plt.close(fig)


def test_funnel_needs_ten_studies():
    s = _bcg_studies(names=False)
    ok = np.isfinite(s["yi"])
    y, se = np.log(s["yi"])[ok].to_numpy(), ((np.log(s["ci_ub"]) - np.log(s["yi"])) / 1.96)[ok].to_numpy()
    fig = figures.funnel(y, se, mu=np.log(0.49), ratio=True, xlabel="RR (log scale)", title="Funnel")
    _check(fig)
    plt.close(fig)
    with pytest.raises(ValueError, match="at least 10"):
        figures.funnel(y[:9], se[:9], mu=0.0, xlabel="RR")


def test_ppc_and_ratio_ticks():
    rng = np.random.default_rng(0)
    rep = rng.normal(0, 1, size=(500, 5))
    fig = figures.ppc_studies(np.array([0, 0.5, 3.5, -0.2, 0.1]), rep, NAMES, xlabel="SMD", title="PPC " * 30)
    _check(fig)
    plt.close(fig)
    assert figures.ratio_ticks(0.3, 3) == [0.5, 1, 2]
    assert figures.ratio_ticks(0.9, 1.3) == [1, 1.25]


def test_markdown_and_html_agree(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    figures.save(fig, tmp_path / "fig" / "line.png")
    blocks = [
        Heading("Results"),
        Paragraph("P(non-inferior) is **0.97** <for> SMD margin 0.2."),
        Table(pd.DataFrame({"prior": ["neutral"], "p": [0.97123]}), caption="Decision table", digits=2),
        Figure(tmp_path / "fig" / "line.png", "A line"),
        Code("seed = 1"),
    ]
    md, hp = write_report(blocks, tmp_path, "T")
    text = md.read_text()
    assert "| prior | p |" in text and "| neutral | 0.971 |" in text  # a probability column: 3 decimals
    assert "![A line](fig/line.png)" in text
    h = hp.read_text()
    assert "<strong>0.97</strong>" in h and "&lt;for&gt;" in h
    png = base64.b64encode((tmp_path / "fig" / "line.png").read_bytes()).decode()
    assert png in h  # self-contained
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_layout_rules(tmp_path):
    from dataclasses import dataclass

    from bayesmeta.report.render import (
        TOC,
        Details,
        KeyValues,
        Note,
        plain_value,
        plural,
    )

    @dataclass(frozen=True)
    class Diag:
        r_hat: float
        ok: bool

    wide = pd.DataFrame({f"column_{i}": [0.123456789, np.nan] for i in range(30)})
    long = pd.DataFrame({"study": [f"s{i}" for i in range(40)], "p_harm": np.linspace(0, 1, 40)})
    blocks = [
        Paragraph("Bottom line first."),
        TOC(),
        Heading("3. Summary"),  # a number written by a section is replaced: sections start at 1
        Paragraph("First note.\n\nSecond note."),
        Note("Values are missing."),
        Heading("Details", 3),
        Table(wide, caption="Wide"),
        Table(long, caption="Long"),
        Details("Missing values (40)", (Table(long.head(3), caption="inside"),)),
        KeyValues({"diagnostics": {"r_hat": 1.01, "divergences": 0}, "fit": Diag(1.002, True)}),
        Heading("Methods"),
    ]
    md, hp = write_report(blocks, tmp_path, "Title")
    h, m = hp.read_text(), md.read_text()
    assert "<h2 id='1-summary'>1. Summary</h2>" in h and "<h3 id='11-details'>1.1 Details</h3>" in h
    assert "<h2 id='2-methods'>2. Methods</h2>" in h and "3. Summary" not in h
    assert "[1. Summary](#1-summary)" in m and "## 1. Summary" in m
    assert h.index("<nav class='toc'") < h.index("<h2")
    assert "<p>First note.</p><p>Second note.</p>" in h
    assert "<div class='scroll'><table>" in h                         # wide table scrolls in its own box
    assert "<details><summary>Long (40 rows; click to show)</summary>" in h  # long table collapsed
    assert "<details><summary>Missing values (40)</summary>" in h and "<details><summary>Missing" in m
    assert "<dt>diagnostics</dt><dd>r_hat: 1.010; divergences: 0</dd>" in h
    assert "{'" not in h and "{'" not in m and "Diag(" not in h
    assert "<0.001" not in m.split("Long")[0]                          # wide numbers are estimates, not p
    assert "| s0 | <0.001 |" in m and "| s39 | >0.999 |" in m          # p_ columns as probabilities
    assert "@media print" in h and "details::details-content" in h
    assert plural(1, "study", "studies") == "1 study" and plural(2, "study", "studies") == "2 studies"
    assert plain_value([np.float64(0.5), 2]) == "0.500, 2"
    assert plain_value({"a": np.float32(1.5)}) == "a: 1.500"


def test_contents_after_the_title(tmp_path):
    _md, hp = write_report([Paragraph("Lead."), Heading("A"), Heading("B", 3)], tmp_path, "Title")
    h = hp.read_text()
    assert h.index("<h1") < h.index("<nav class='toc'") < h.index("<h2")
    assert "<li><a href='#1-a'>1. A</a><ol><li><a href='#11-b'>1.1 B</a></li></ol></li>" in h


def test_contents_after_the_summary(tmp_path):
    # a report that opens with its summary keeps it on the first screen; the contents follow it
    _md, hp = write_report([Heading("Summary"), Paragraph("Bottom line."), Heading("A"), Heading("B", 3)],
                           tmp_path, "Title")
    h = hp.read_text()
    assert h.index("Bottom line.") < h.index("<nav class='toc'") < h.index("2. A</h2>")


def test_study_rows_weights_and_exclusions():
    # two studies, tau2 = 0.1: weights 1/(0.1+0.1) = 5 and 1/(0.3+0.1) = 2.5 -> 66.7% and 33.3%
    arms = pd.DataFrame({"study": ["A", "B", "Z"], "events_e": [1, 2, 0], "n_e": [10, 10, 10],
                         "events_c": [2, 3, 0], "n_c": [10, 10, 10]})
    rows = figures.study_rows(["A", "B"], np.log([0.5, 2.0]), np.sqrt([0.1, 0.3]), ratio=True, tau2=0.1, arms=arms,
                              excluded_reason="double zero")
    assert list(rows["study"]) == ["A", "B", "Z"]
    np.testing.assert_allclose(rows["weight"][:2], [200 / 3, 100 / 3])
    np.testing.assert_allclose(rows["yi"][:2], [0.5, 2.0])
    np.testing.assert_allclose(rows["ci_ub"][0], 0.5 * np.exp(1.959963984540054 * np.sqrt(0.1)))
    assert list(rows["excluded"]) == ["", "", "double zero"]


def test_study_framing_follows_the_question():
    """Issue 9: the spec's question decides the framing (one function); closed-form texts."""
    from bayesmeta.decide.decision import Orientation
    from bayesmeta.report.panels import study_framing
    from bayesmeta.report.sections import ratio_effect_text, study_bottom_line

    o = Orientation(measure="RR", experimental="vaccine", control="control", lower_is_better=True)
    sup = study_framing("superiority", o, "RR", 1.1)
    assert (sup["key"], sup["label"], sup["margin"]) == ("p_benefit", "P(benefit) = P(RR < 1)", False)
    assert "non-inferior" not in sup["caption"]
    est = study_framing("estimation", o, "RR", None)
    assert est["key"] is None and est["caption"] == ""
    assert study_bottom_line("estimation", o, "RR", None, {"p_benefit": 0.99}) == ""
    ni = study_framing("noninferiority", o, "RR", 1.1)
    assert (ni["key"], ni["margin"]) == ("p_noninferior", True)
    line = study_bottom_line("superiority", o, "RR", 1.1, {"p_benefit": 0.9995})
    assert line == "Vaccine is almost certainly better than control: P(benefit) = P(RR < 1) > 0.999."
    # 1 - RR by hand: 1 - 0.49 = 51%, interval [1 - 0.69, 1 - 0.35] = [31%, 65%]
    assert ratio_effect_text(0.49, 0.35, 0.69, "RR", True) == (
        "RR 0.49 [0.35, 0.69]; relative risk reduction (1 - RR) 51% [31%, 65%]"
    )
    assert ratio_effect_text(1.3, 1.1, 1.6, "OR", False) == "OR 1.30 [1.10, 1.60]"
