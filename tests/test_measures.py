"""The measures registry: one place for ratio/log scale, null, back-transform, SE from a CI, favours.

Sources: the SE of a Wald CI is (g(u) - g(l)) / (2 z) with g = log for ratios (Cochrane Handbook
6.2, section 6.3.2; Altman & Bland 2011, doi:10.1136/bmj.d2090), worked here by hand with
z = 1.959963984540054 (qnorm(0.975) in R); everything else is definition.
"""
import doctest

import numpy as np
import pytest

import bayesmeta as bm
import bayesmeta.effects.measures as measures_module
from bayesmeta.effects.measures import MEASURES, RATIO_MEASURES, get_measure, is_ratio, se_from_ci

pytestmark = pytest.mark.unit

Z975 = 1.959963984540054


def test_registry_members_and_scales():
    assert {"SMD", "SMD_revman", "MD", "RR", "OR", "RD", "HR", "ROM", "IRR", "GEN"} <= set(MEASURES)
    assert RATIO_MEASURES == {"RR", "OR", "PETO", "HR", "ROM", "IRR", "ROMC"}
    for code, m in MEASURES.items():
        assert m.null == 0.0
        if code in RATIO_MEASURES:
            assert m.scale == "log"
        assert m.null_reported == (1.0 if m.ratio else 0.0)
    assert get_measure("RR").label == "log RR" and get_measure("SMD_revman").label == "SMD"


def test_lookup_is_case_insensitive_with_aliases_and_suggestions():
    assert get_measure("or").code == "OR"
    assert get_measure("smd_revman").code == "SMD_revman"
    assert get_measure("yi").code == "GEN" and get_measure("logRR").code == "RR"
    assert is_ratio("hr") and not is_ratio("RD")
    with pytest.raises(ValueError, match=r"unknown effect measure 'RRR'.*did you mean 'RR'"):
        get_measure("RRR")


def test_transforms_round_trip():
    rr = get_measure("RR")
    x = np.array([0.25, 1.0, 3.0])
    np.testing.assert_allclose(rr.back_transform(rr.to_analysis(x)), x, rtol=1e-15)
    assert rr.to_analysis(1.0) == 0.0
    with pytest.raises(ValueError, match="must be positive"):
        rr.to_analysis(0.0)
    md = get_measure("MD")
    assert md.to_analysis(-2.5) == -2.5 and md.back_transform(-2.5) == -2.5


def test_se_from_ci_by_measure_and_scale():
    # SMD 0.13 [-0.00, 0.25]: SE = 0.25 / (2 z) = 0.0637767...
    assert get_measure("SMD").se_from_ci(-0.00, 0.25) == pytest.approx(0.25 / (2 * Z975), rel=1e-14)
    # RR 0.99 [0.49, 1.99]: SE of log RR = (log 1.99 - log 0.49) / (2 z)
    rr = get_measure("RR")
    want = (np.log(1.99) - np.log(0.49)) / (2 * Z975)
    assert rr.se_from_ci(0.49, 1.99) == pytest.approx(want, rel=1e-14)
    assert rr.se_from_ci(np.log(0.49), np.log(1.99), scale="analysis") == pytest.approx(want, rel=1e-14)
    est, se = rr.ci_to_analysis(0.99, 0.49, 1.99)
    assert est == pytest.approx(np.log(0.99), rel=1e-15) and se == pytest.approx(want, rel=1e-14)
    # 90% interval: z = 1.6448536269514722 (qnorm(0.95))
    assert se_from_ci(0.0, 1.0, level=0.9) == pytest.approx(1 / (2 * 1.6448536269514722), rel=1e-12)
    with pytest.raises(ValueError, match="scale"):
        rr.se_from_ci(0.5, 2, scale="log")


def test_favours_and_benefit_sign():
    assert get_measure("RR").favours(lower_is_better=True) == "RR < 1"
    assert get_measure("OR").favours(lower_is_better=False) == "OR > 1"
    assert get_measure("SMD_revman").favours(lower_is_better=True) == "SMD < 0"
    assert get_measure("MD").benefit_sign(True) == -1 and get_measure("MD").benefit_sign(False) == 1


def test_one_definition_of_ratio_measures_in_the_package():
    # the modules that used to carry their own sets now read the registry
    from bayesmeta.decide import decision
    from bayesmeta.published import consistency, rounding
    from bayesmeta.report import figures
    assert decision.RATIO_MEASURES is RATIO_MEASURES
    assert consistency.RATIO is RATIO_MEASURES
    assert figures.RATIO_MEASURES is RATIO_MEASURES and rounding.RATIO_MEASURES is RATIO_MEASURES


def test_docstring_examples():
    assert doctest.testmod(measures_module).failed == 0


@pytest.mark.parametrize(("code", "family"), [("RTET", "correlation"), ("PHI", "correlation"), ("VR", "two-group continuous"),
                                              ("OR2DL", "two-group binary"), ("MPOR", "two-group binary"),
                                              ("CVLN", "single-group mean")])
def test_metafor_measures_not_offered_point_to_their_family(code, family):
    """metafor measures outside the registry (escalc's documented list) are named as not offered,
    with the measures of their own family, never a distant near-spelling (a correlation is never told OR)."""
    with pytest.raises(ValueError) as e:
        bm.escalc(code, ri=[0.1], ni=[10])
    msg = str(e.value)
    assert f"metafor's {code}" in msg and "is not offered" in msg and "did you mean" not in msg
    assert f"the {family} measures here: {', '.join(bm.FAMILIES[family])}" in msg
