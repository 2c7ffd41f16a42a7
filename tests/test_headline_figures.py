"""The two headline figures built from the ``answers`` Dataset (schema: docs of helper "plan",
/work/notes/INTERFACE.md), on a small hand-made Dataset of that shape: what each draws, that its
text fits, does not overlap and stays large enough for a phone."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import xarray as xr

from bayesmeta.report import figures as F

pytestmark = pytest.mark.unit


def answers_dataset() -> xr.Dataset:
    """Three outcomes (two SMD with native units, one RR), seven departures; made-up numbers
    shaped like the seed's (they test drawing, not statistics)."""
    outcomes = ["pain_1m", "odi_1m", "vasovagal"]
    deps = ["primary", "flat", "sceptical", "favours_control", "tau_rhodes", "i2_zero", "margin_0.2"]
    axis = ["primary", "effect_prior", "effect_prior", "effect_prior", "tau_prior", "heterogeneity", "margin"]
    dlabel = ["primary", "flat prior", "sceptical prior", "favours-control prior", "Rhodes tau prior",
              "I^2 = 0% read from the forest plot", "margin SMD 0.2"]
    n_o, D = len(outcomes), len(deps)
    med = np.array([[0.08, 0.10, 0.25, 0.35, 0.08, 0.10, 0.08],
                    [0.02, 0.01, 0.20, 0.30, 0.02, 0.02, 0.02],
                    [-0.01, 0.0, 0.1, 0.2, -0.01, -0.01, -0.01]])
    half = np.array([[0.39] * D, [0.40] * D, [0.75] * D])
    p = np.array([[0.985, 0.941, 0.899, 0.461, 0.99, 0.997, 0.69],
                  [0.986, 0.947, 0.890, 0.395, 0.99, 0.996, 0.80],
                  [0.76, 0.74, 0.70, 0.55, 0.75, 0.77, 0.76]])
    flips = (p >= 0.95) != (p[:, :1] >= 0.95)
    ds = xr.Dataset(
        {
            "median": (("outcome", "departure"), med),
            "lb95": (("outcome", "departure"), med - half),
            "ub95": (("outcome", "departure"), med + half),
            "largest_plausible": (("outcome", "departure"), med + half),
            "p_decision": (("outcome", "departure"), p),
            "prior_p_decision": (("outcome", "departure"), np.full((n_o, D), 0.7)),
            "bf_decision": (("outcome", "departure"), np.full((n_o, D), 2.0)),
            "p_benefit": (("outcome", "departure"), np.full((n_o, D), 0.4)),
            "flips": (("outcome", "departure"), flips),
            "available": (("outcome", "departure"), np.ones((n_o, D), bool)),
            "published_est": ("outcome", [0.10, 0.02, 0.0]),
            "published_lb": ("outcome", [-0.12, -0.21, -0.69]),
            "published_ub": ("outcome", [0.33, 0.25, 0.69]),
            "k": ("outcome", [5, 5, 4]),
            "n_participants": ("outcome", [312, 300, 250]),
            "sparse": ("outcome", [False, False, True]),
            "certainty": ("outcome", ["moderate", "moderate", "low"]),
        },
        coords={
            "outcome": outcomes,
            "departure": deps,
            "outcome_label": ("outcome", ["Pain at 1 month", "Function (ODI/NDI) at 1 month",
                                          "Vasovagal reaction (adverse event)"]),
            "measure": ("outcome", ["SMD", "SMD", "RR"]),
            "question": ("outcome", ["noninferiority"] * 3),
            "margin": ("outcome", [0.5, 0.5, float(np.log(1.25))]),
            "native_scale": ("outcome", [2.0, 13.0, np.nan]),
            "native_unit": ("outcome", ["points (0-10)", "ODI points", ""]),
            "lower_is_better": ("outcome", [True, True, True]),
            "departure_axis": ("departure", axis),
            "departure_label": ("departure", dlabel),
        },
    )
    return ds


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t, _ in F._drawn_texts(fig))


@pytest.fixture(scope="module")
def ds():
    return answers_dataset()


def test_primary_forest_draws_the_primary_with_published_margin_and_native_units(ds):
    fig = F.primary_forest(ds)
    txt = _texts(fig)
    for lab in ds["outcome_label"].values:
        assert str(lab) in txt
    # primary numbers (the first departure), not a departure's
    assert "0.08 [\u22120.31, 0.47]" in txt
    assert "0.2 [\u22120.6, 0.9] points (0-10)" in txt.replace("\n", " ")  # native: SMD x SD 2
    assert "0.99 [0.47, 2.10]" in txt  # RR back-transformed: exp(-0.01 -+ 0.75)
    assert F.text_outside(fig) == []
    assert F.overlapping_texts(fig) == []
    assert F.smallest_font_pt(fig) >= 8.0
    assert fig.get_figwidth() <= 4.8
    # the margin band lies inside every panel's x range
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        edges = [p.get_x() for p in ax.patches]
        assert edges and all(lo <= e <= hi for e in edges)
    matplotlib.pyplot.close(fig)


def test_primary_forest_draws_the_no_effect_line_at_zero_on_the_analysis_scale(ds):
    """The line of no effect sits at 0 on every panel (SMD 0; log RR 0 = RR 1), never at x = 1 on
    a log-ratio axis (RR e = 2.72)."""
    fig = F.primary_forest(ds)
    for ax in fig.axes:
        if not ax.get_visible() or not ax.lines:
            continue
        verticals = {float(ln.get_xdata()[0]) for ln in ax.lines
                     if len(set(map(float, ln.get_xdata()))) == 1 and tuple(ln.get_ydata()) == (0, 1)}
        assert verticals == {0.0}, verticals
    matplotlib.pyplot.close(fig)


def test_robustness_figure_names_flips_and_draws_threshold(ds):
    fig = F.robustness_figure(ds)
    txt = _texts(fig)
    # pain: flat 0.941, sceptical 0.899, favours-control 0.461, margin 0.2 0.690 flip; Rhodes and I^2 = 0 do not
    assert "flat prior 0.941" in txt and "favours-control prior 0.461" in txt and "margin SMD 0.2 0.690" in txt
    assert "Rhodes tau prior" not in txt.split("decision threshold")[0].split("Vasovagal")[0].replace(
        "heterogeneity prior", "")
    # vasovagal: nothing reaches 0.95, so no departure flips
    assert txt.count("flips:") == 2
    ax = fig.axes[0]
    assert ax.get_xscale() == "logit"
    assert any(abs(line.get_xdata()[0] - 0.95) < 1e-12 for line in ax.lines if len(line.get_xdata()) == 2)
    assert F.text_outside(fig) == []
    assert F.overlapping_texts(fig) == []
    assert F.smallest_font_pt(fig) >= 8.0
    matplotlib.pyplot.close(fig)


def test_overlap_check_catches_overlapping_labels():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "Rosenthal et al 1960")
    ax.text(0.51, 0.5, "Rosenthal et al 1961")
    assert F.overlapping_texts(fig)
    plt.close(fig)


def test_overlap_check_equals_the_pairwise_loop_in_order():
    # the array form against the double loop it replaced, on 300 random boxes (ties at the tolerance
    # included by rounding the coordinates to whole pixels)
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    rng = np.random.default_rng(2)
    items = []
    for i in range(300):
        x0, y0 = rng.integers(0, 400, 2)
        w, h = rng.integers(1, 40, 2)
        items.append((Text(text=f"t{i}"), Bbox([[x0, y0], [x0 + w, y0 + h]])))
    ref = []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            a, b = items[i][1], items[j][1]
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 1.0 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1.0:
                ref.append((f"t{i}", f"t{j}"))
    assert len(ref) > 50
    assert F.overlapping_texts(None, items=items) == ref
    assert F.overlapping_texts(None, items=items[:1]) == []
