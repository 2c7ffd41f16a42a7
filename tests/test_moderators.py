"""Moderators from a study table (bayesmeta.data.moderators) and what the seed's meta-regression needs.

Checked against the files themselves: data/colditz1994/studies.csv (exported from metadat's
dat.colditz1994) and data/viderman2023/moderators.csv (coded from Viderman 2023 Table 1 and its
reference list, one source per cell). Bad input (unknown column, missing value, text in a number,
study without a row, no table) is covered with the exact messages in tests/test_bad_inputs.py.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bayesmeta.cli import main
from bayesmeta.data.moderators import moderator_frame, moderator_values
from bayesmeta.errors import DataError
from bayesmeta.pipeline.spec import load_spec
from bayesmeta.pipeline.study_level import moderator_needs, moderator_status

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
COLDITZ = ROOT / "data" / "colditz1994" / "studies.csv"
SEED = ROOT / "data" / "viderman2023" / "moderators.csv"


def test_colditz_moderators_continuous_and_categorical():
    studies = pd.read_csv(ROOT / "data" / "colditz1994" / "binary_arms.csv")["study"].unique().tolist()
    frame, mods = moderator_frame(COLDITZ, ["ablat", "alloc"], studies)
    assert [m.kind for m in mods] == ["continuous", "categorical"]
    assert list(frame.index) == studies
    # dat.colditz1994: latitudes of the first and last trial, allocation levels in R's factor() order
    assert frame["ablat"].iloc[0] == 44 and frame["ablat"].iloc[-1] == 33
    assert mods[1].levels == ("alternate", "random", "systematic") and mods[1].reference == "alternate"
    assert mods[1].columns == ("alloc[random]", "alloc[systematic]")


def test_numeric_column_declared_categorical(tmp_path):
    p = tmp_path / "studies.csv"
    p.write_text("study,dose,source\na,2,x\nb,1,x\nc,2,x\n")
    frame, (m,) = moderator_frame(p, ["dose"], ["a", "b", "c"], categorical=["dose"])
    assert m.kind == "categorical" and m.levels == ("1", "2")
    assert isinstance(frame["dose"].dtype, pd.CategoricalDtype)


def test_missing_cells_are_listed_not_refused_until_analysed(tmp_path):
    p = tmp_path / "studies.csv"
    p.write_text("study,x,source\na,1.5,s\nb,,s\nc,NA,s\n")
    values, _ = moderator_values(p, ["x"])
    assert values["x"].isna().tolist() == [False, True, True]
    frame, _ = moderator_frame(p, ["x"], ["a"])  # b and c are not analysed: no problem
    assert frame["x"].tolist() == [1.5]
    with pytest.raises(DataError) as e:
        moderator_frame(p, ["x"], ["a", "b", "c"])
    assert [(q.row, q.column) for q in e.value.problems] == [(3, "x"), (4, "x")]


def test_seed_moderators_coded_from_the_paper_with_a_source_per_cell():
    values, _mods = moderator_values(SEED, ["site", "injection"])
    raw = pd.read_csv(SEED).set_index("study")
    assert set(values.index) == set(pd.read_csv(ROOT / "data" / "viderman2023" / "studies.csv")["study"])
    assert values.loc["jee2013", "site"] == "cervical"  # Table 1: 'in the lower cervical spine'
    assert (values["site"] == "cervical").sum() == 1
    assert values.loc["yang2016", "injection"] == "transforaminal epidural"
    assert values.loc[["soneji2016", "jee2014"], "injection"].eq("sacroiliac joint").all()
    # Evansa 2015: neither the level nor the approach is stated: missing, with the reason
    assert values.loc["evansa2015", ["site", "injection"]].isna().all()
    for m in ("site", "injection"):
        for st, src in raw[f"{m}_source"].items():
            coded = isinstance(raw.at[st, m], str)
            assert ("Table 1" in src or "ref." in src) if coded else src.startswith("not stated")


def test_seed_meta_regression_says_what_it_needs():
    spec = load_spec(ROOT / "models" / "viderman2023.toml")
    text = moderator_needs(spec)
    assert "study_level[0] pain_study_level: meta-regression on site, injection" in text
    assert "cannot run: it needs the per-study effect values of 'pain' at '1m'" in text
    assert "evansa2015 site: not stated" in text
    st = moderator_status(spec, spec.study_level[0])
    assert (st["status"] == "missing").sum() == 2
    out = CliRunner().invoke(main, ["missing", str(ROOT / "models" / "viderman2023.toml")])
    assert out.exit_code == 0 and "meta-regression on site, injection" in out.output


def test_weights_and_fitted_values_of_a_categorical_regression():
    """The fitted mean of each level of a categorical moderator is the intercept plus its coefficient."""
    from bayesmeta.pipeline.diagnostics import meta_regression

    studies = pd.read_csv(ROOT / "data" / "colditz1994" / "binary_arms.csv")["study"].unique().tolist()
    frame, mods = moderator_frame(COLDITZ, ["alloc"], studies)
    rng = np.random.default_rng(1)
    yi, vi = rng.normal(-0.5, 0.3, 13), rng.uniform(0.01, 0.1, 13)
    from bayesmeta.bayes.priors import halfnormal

    m = meta_regression(yi, vi, studies, frame, mods[0], tau_prior=halfnormal(0.5))
    fit = m.fits["REML + Knapp-Hartung"]
    line = m.line.set_index("alloc")
    assert line.loc["alternate", "freq_mean"] == pytest.approx(fit.beta[0], rel=1e-12)
    assert line.loc["random", "freq_mean"] == pytest.approx(fit.beta[0] + fit.beta[1], rel=1e-12)
    assert m.data["weight"].sum() == pytest.approx(100)


def test_moderator_with_one_level_among_the_studies_is_not_estimable():
    """A moderator that takes one value among the analysed studies gives a note, not a crash."""
    from bayesmeta.bayes.priors import halfnormal
    from bayesmeta.data.moderators import Moderator
    from bayesmeta.pipeline.diagnostics import meta_regression

    frame = pd.DataFrame({"site": pd.Categorical(["lumbar"] * 5)}, index=[f"s{i}" for i in range(5)])
    m = meta_regression(np.linspace(-0.3, 0.3, 5), np.full(5, 0.04), list(frame.index), frame,
                        Moderator("site", "categorical", ("lumbar",), ()), tau_prior=halfnormal(0.5))
    assert m.table.empty and m.bayes is None and "single value" in m.note
