"""Effect-size formulas against hand-computed cases (the arithmetic is written out in comments).

Sources: metafor escalc() (Viechtbauer 2010, doi:10.18637/jss.v036.i03; Hedges 1981,
doi:10.3102/10769986006002107) and RevMan 5 (Deeks & Higgins 2010, "Statistical algorithms in
Review Manager 5"). The RevMan SMD convention has no R implementation to compare with: it is checked
against its published formula worked by hand. metafor's values are checked in
test_frequentist_golden.py::test_effect_sizes.
"""
import numpy as np
import pytest
from scipy import special, stats

from bayesmeta.effects.escalc import double_zero, escalc, hedges_j, log_or, log_rr, md, rd, se_from_ci, smd, zero_cell

pytestmark = pytest.mark.unit


def test_smd_revman_convention_by_hand():
    # n1 = n2 = 10, means 5 and 4, SDs 2 and 2: pooled S = sqrt((9*4 + 9*4)/18) = 2, d = 0.5
    # RevMan 5: g = d (1 - 3/(4N - 9)) = 0.5 (1 - 3/71) = 0.5 * 68/71 = 34/71 = 0.478873...
    # variance N/(n1 n2) + g^2/(2(N - 3.94)) = 20/100 + (34/71)^2/32.12
    g, v = smd(5, 2, 10, 4, 2, 10, convention="revman")
    assert g == pytest.approx(34 / 71, rel=1e-14)
    assert v == pytest.approx(0.2 + (34 / 71) ** 2 / 32.12, rel=1e-14)
    # unequal arms: n1 = 8 (m 12, sd 3), n2 = 12 (m 10, sd 4), N = 20
    # S^2 = (7*9 + 11*16)/18 = 239/18, d = 2/sqrt(239/18), g = d (1 - 3/71)
    # v = 20/96 + g^2/(2*16.06)
    g, v = smd(12, 3, 8, 10, 4, 12, convention="revman")
    d = 2 / np.sqrt(239 / 18)
    assert g == pytest.approx(d * 68 / 71, rel=1e-14)
    assert v == pytest.approx(20 / 96 + g**2 / 32.12, rel=1e-14)


def test_smd_metafor_convention_by_hand():
    # exact J(18) = Gamma(9) / (sqrt(9) Gamma(8.5)) = 40320 / (3 * 14034.407...) = 0.957...
    j = special.gamma(9) / (np.sqrt(9) * special.gamma(8.5))
    g, v = smd(5, 2, 10, 4, 2, 10, convention="metafor")
    assert hedges_j(18) == pytest.approx(j, rel=1e-14)
    assert g == pytest.approx(0.5 * j, rel=1e-14)
    assert v == pytest.approx(0.2 + g**2 / 40, rel=1e-14)  # 1/n1 + 1/n2 + g^2/(2N)
    # J is finite for huge m (log-gamma) and tends to the RevMan approximation 1 - 3/(4m - 1)
    assert hedges_j(1e6) == pytest.approx(1 - 3 / (4e6 - 1), rel=1e-9)  # error O(m^-2)
    # the conventions differ in small samples: g by ~1e-4 here, vi by the 3.94 term
    gr, vr = smd(5, 2, 10, 4, 2, 10, convention="revman")
    assert 1e-5 < abs(g - gr) < 1e-3 and abs(v - vr) > 1e-3
    with pytest.raises(ValueError):
        smd(5, 2, 10, 4, 2, 10, convention="other")


def test_smd_direction_and_vectorised():
    g, v = smd([5, 4], [2, 2], [10, 10], [4, 5], [2, 2], [10, 10])
    assert g.shape == (2,) and g[0] == pytest.approx(-g[1]) and v[0] == pytest.approx(v[1])


def test_md_by_hand():
    # 10 - 8 = 2; 3^2/9 + 4^2/16 = 1 + 1
    y, v = md(10, 3, 9, 8, 4, 16)
    assert (float(y), float(v)) == pytest.approx((2.0, 2.0), rel=1e-14)


def test_binary_without_zero_cells_by_hand():
    # a=2/10, c=4/10: log RR = log(0.2/0.4) = log 0.5, var = 1/2 - 1/10 + 1/4 - 1/10 = 0.55
    y, v = log_rr([2], [10], [4], [10])
    assert y[0] == pytest.approx(np.log(0.5), rel=1e-14) and v[0] == pytest.approx(0.55, rel=1e-14)
    # log OR = log(2*6/(8*4)) = log(0.375), var = 1/2 + 1/8 + 1/4 + 1/6
    y, v = log_or([2], [10], [4], [10])
    assert y[0] == pytest.approx(np.log(0.375), rel=1e-14) and v[0] == pytest.approx(1 / 2 + 1 / 8 + 1 / 4 + 1 / 6)
    # RD = 0.2 - 0.4, var = 0.2*0.8/10 + 0.4*0.6/10 = 0.016 + 0.024
    y, v = rd([2], [10], [4], [10])
    assert y[0] == pytest.approx(-0.2, rel=1e-14) and v[0] == pytest.approx(0.04, rel=1e-14)


def test_single_zero_cell_rule():
    # RevMan/metafor: 0.5 added to all four cells of a study with a zero cell: a=0.5, b=10.5, c=3.5, d=7.5
    # log RR = log((0.5/11)/(3.5/11)) = log(1/7); var = 1/0.5 - 1/11 + 1/3.5 - 1/11
    y, v = log_rr([0], [10], [3], [10])
    assert y[0] == pytest.approx(np.log(1 / 7), rel=1e-14)
    assert v[0] == pytest.approx(2 - 2 / 11 + 1 / 3.5, rel=1e-14)
    # log OR = log(0.5*7.5/(10.5*3.5)), var = 1/0.5 + 1/10.5 + 1/3.5 + 1/7.5
    y, v = log_or([0], [10], [3], [10])
    assert y[0] == pytest.approx(np.log(3.75 / 36.75), rel=1e-14)
    assert v[0] == pytest.approx(2 + 1 / 10.5 + 1 / 3.5 + 1 / 7.5, rel=1e-14)
    # a zero non-event cell (all events in arm 2) triggers the rule too: a=4.5, b=6.5, c=10.5, d=0.5
    y, _ = log_rr([4], [10], [10], [10])
    assert y[0] == pytest.approx(np.log((4.5 / 11) / (10.5 / 11)), rel=1e-14)
    # the correction touches only the zero-cell study
    y, _ = log_rr([0, 2], [10, 10], [3, 4], [10, 10])
    assert y[1] == pytest.approx(np.log(0.5), rel=1e-14)
    # and can be switched off or applied to all studies
    y, v = log_or([2], [10], [4], [10], to="all")
    assert y[0] == pytest.approx(np.log(2.5 * 6.5 / (8.5 * 4.5)), rel=1e-14)
    with np.errstate(divide="ignore"):
        y, _ = log_rr([0], [10], [3], [10], to="none")
    assert y[0] == -np.inf


def test_double_zero_rule():
    # no events in either arm: not estimable on a ratio scale (RevMan excludes it from RR/OR pooling)
    assert double_zero([0, 10, 0], [10, 10, 10], [0, 12, 1], [12, 12, 12]).tolist() == [True, True, False]
    assert zero_cell([0, 10, 0, 3], [10, 10, 10, 10], [0, 12, 1, 4], [12, 12, 12, 12]).tolist() == [True] * 3 + [False]
    y, v = log_or([0], [10], [0], [12], drop00=True)  # RevMan's rule
    assert np.isnan(y[0]) and np.isnan(v[0])
    y, v = log_rr([0], [10], [0], [12], drop00=False)  # metafor escalc(drop00=FALSE): 0.5 added
    assert y[0] == pytest.approx(np.log((0.5 / 11) / (0.5 / 13)), rel=1e-14)
    # RD keeps the study, with 0.5 added (metafor escalc): p1 = 0.5/11, p2 = 0.5/13
    y, v = rd([0], [10], [0], [12])
    p1, p2 = 0.5 / 11, 0.5 / 13
    assert y[0] == pytest.approx(p1 - p2, rel=1e-14)
    assert v[0] == pytest.approx(p1 * (1 - p1) / 11 + p2 * (1 - p2) / 13, rel=1e-14)
    y, v = rd([0], [10], [0], [12], to="none")
    assert y[0] == 0.0 and v[0] == 0.0
    # the participants stay: escalc returns a row (NaN) for every input study
    es = escalc("RR", ai=[0, 3], n1i=[10, 10], ci=[0, 1], n2i=[12, 10], zero_rule="revman")
    assert len(es) == 2 and es["yi"].isna().tolist() == [True, False]
    # metafor's default (escalc drop00=FALSE) keeps it with 0.5 added to its cells
    es = escalc("RR", ai=[0, 3], n1i=[10, 10], ci=[0, 1], n2i=[12, 10])
    assert es["yi"].iloc[0] == pytest.approx(np.log((0.5 / 11) / (0.5 / 13)), rel=1e-14)
    with pytest.raises(ValueError):
        log_rr([11], [10], [1], [10])


def test_se_from_ci():
    z = stats.norm.ppf(0.975)  # 1.959964
    # MD 0.29 [0.05, 0.53]: SE = 0.48/(2 * 1.959964) = 0.122451
    assert se_from_ci(0.05, 0.53) == pytest.approx(0.48 / (2 * z), rel=1e-14)
    assert se_from_ci(0.05, 0.53) == pytest.approx(0.122451, abs=5e-7)
    # RR 0.99 [0.49, 1.99]: SE(log RR) = (log 1.99 - log 0.49)/(2 z) = 1.401498/3.919928 = 0.357528
    se = se_from_ci(0.49, 1.99, log=True)
    assert se == pytest.approx((np.log(1.99) - np.log(0.49)) / (2 * z), rel=1e-14)
    assert se == pytest.approx(0.357528, abs=5e-7)
    # 90% interval uses z_0.95 = 1.644854
    assert se_from_ci(0.0, 1.0, level=0.9) == pytest.approx(1 / (2 * 1.6448536269514722), rel=1e-12)
    np.testing.assert_allclose(se_from_ci([0, 1], [2, 5]), np.array([2, 4]) / (2 * z))
    with pytest.raises(ValueError):
        se_from_ci(-0.1, 1.0, log=True)
    with pytest.raises(ValueError):
        se_from_ci(1.0, 0.5)


def test_escalc_frame():
    df = escalc("SMD_revman", m1i=[5], sd1i=[2], n1i=[10], m2i=[4], sd2i=[2], n2i=[10])
    assert list(df.columns) == ["yi", "vi", "sei"]
    assert df["yi"].iloc[0] == pytest.approx(34 / 71, rel=1e-14)
    assert df["sei"].iloc[0] == pytest.approx(np.sqrt(df["vi"].iloc[0]), rel=1e-14)
    m = escalc("SMD", m1i=[5], sd1i=[2], n1i=[10], m2i=[4], sd2i=[2], n2i=[10])
    assert m["yi"].iloc[0] == pytest.approx(0.5 * hedges_j(18), rel=1e-14)
    assert escalc("RD", ai=[2], n1i=[10], ci=[4], n2i=[10])["yi"].iloc[0] == pytest.approx(-0.2)
    with pytest.raises(ValueError, match="HR is not computed from raw data"):
        escalc("HR")
    with pytest.raises(ValueError, match="needs"):
        escalc("RR", ai=[1], n1i=[10])
