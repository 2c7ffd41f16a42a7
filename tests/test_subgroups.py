"""Subgroup analysis and the test for subgroup differences against metafor (golden JSON)."""
import json
from pathlib import Path

import pytest

from bayesmeta.subgroups import subgroup_analysis

G = json.loads((Path(__file__).parent / "golden" / "metafor.json").read_text())["subgroups"]


def test_subgroups_against_metafor():
    r = subgroup_analysis(G["yi"], G["vi"], G["groups"], method="DL")
    for g, est in G["estimates"].items():
        assert r.subgroups[g].mu == pytest.approx(est, rel=1e-6)
        assert r.subgroups[g].se == pytest.approx(G["se"][g], rel=1e-6)
    assert r.Q_between == pytest.approx(G["QM"], rel=1e-6)
    assert r.p == pytest.approx(G["QMp"], rel=1e-6)
    assert r.df == 2
    assert "Test for subgroup differences" in str(r)
