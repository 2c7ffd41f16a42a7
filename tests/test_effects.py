"""Effect-size formulas against hand-computed cases (closed forms written out)."""
import numpy as np
import pytest
from scipy import special, stats

from bayesmeta.effects import escalc, hedges_j, log_or, log_rr, md, rd, se_from_ci, smd


def test_smd_revman_convention_by_hand():
    # n1 = n2 = 10, means 5 and 4, SDs 2 and 2: pooled S = 2, d = 0.5
    # RevMan 5 (Deeks & Higgins 2010): g = d (1 - 3/(4N - 9)) = 0.5 (1 - 3/71)
    g, v = smd(5, 2, 10, 4, 2, 10, convention="revman")
    assert g == pytest.approx(0.5 * (1 - 3 / 71), rel=1e-14)
    assert v == pytest.approx(20 / 100 + g**2 / (2 * (20 - 3.94)), rel=1e-14)


def test_smd_metafor_convention_by_hand():
    # exact J(18) = Gamma(9) / (sqrt(9) Gamma(8.5))
    j = special.gamma(9) / (np.sqrt(9) * special.gamma(8.5))
    g, v = smd(5, 2, 10, 4, 2, 10, convention="metafor")
    assert hedges_j(18) == pytest.approx(j, rel=1e-14)
    assert g == pytest.approx(0.5 * j, rel=1e-14)
    assert v == pytest.approx(0.2 + g**2 / 40, rel=1e-14)
    # the two conventions differ a little in small samples and agree as N grows
    gr, _ = smd(5, 2, 10, 4, 2, 10, convention="revman")
    assert 0 < abs(g - gr) < 1e-3
    with pytest.raises(ValueError):
        smd(5, 2, 10, 4, 2, 10, convention="other")


def test_md_and_binary_by_hand():
    y, v = md(10, 3, 9, 8, 4, 16)
    assert (y, v) == pytest.approx((2.0, 1.0 + 1.0))
    # a=2/10, c=4/10: log RR = log(0.2/0.4), var = 1/2 - 1/10 + 1/4 - 1/10
    y, v = log_rr([2], [10], [4], [10])
    assert y[0] == pytest.approx(np.log(0.5)) and v[0] == pytest.approx(0.55)
    y, v = log_or([2], [10], [4], [10])
    assert y[0] == pytest.approx(np.log(2 * 6 / (8 * 4))) and v[0] == pytest.approx(1 / 2 + 1 / 8 + 1 / 4 + 1 / 6)
    y, v = rd([2], [10], [4], [10])
    assert y[0] == pytest.approx(-0.2) and v[0] == pytest.approx(0.016 + 0.024)


def test_zero_cell_rules():
    # single zero: 0.5 added to all four cells (RevMan): a=0.5, b=10.5, c=3.5, d=7.5
    y, v = log_rr([0], [10], [3], [10])
    assert y[0] == pytest.approx(np.log((0.5 / 11) / (3.5 / 11)))
    assert v[0] == pytest.approx(1 / 0.5 - 1 / 11 + 1 / 3.5 - 1 / 11)
    # double zero: not estimable for RR/OR, kept (0 difference) for RD
    y, v = log_or([0], [10], [0], [12])
    assert np.isnan(y[0]) and np.isnan(v[0])
    y, _ = rd([0], [10], [0], [12])
    assert y[0] == 0.0
    with pytest.raises(ValueError):
        log_rr([11], [10], [1], [10])


def test_se_from_ci():
    z = stats.norm.ppf(0.975)
    assert se_from_ci(0.05, 0.53) == pytest.approx(0.48 / (2 * z))
    assert se_from_ci(0.49, 1.99, log=True) == pytest.approx((np.log(1.99) - np.log(0.49)) / (2 * z))
    assert se_from_ci(0.0, 1.0, level=0.9) == pytest.approx(1 / (2 * stats.norm.ppf(0.95)))
    with pytest.raises(ValueError):
        se_from_ci(-0.1, 1.0, log=True)


def test_escalc_frame():
    df = escalc("SMD_revman", m1i=[5], sd1i=[2], n1i=[10], m2i=[4], sd2i=[2], n2i=[10])
    assert list(df.columns) == ["yi", "vi", "sei"]
    assert df["sei"].iloc[0] == pytest.approx(np.sqrt(df["vi"].iloc[0]))
    with pytest.raises(ValueError):
        escalc("HR")
