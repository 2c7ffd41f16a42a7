"""Every escalc measure against metafor 3.8 (issue 18, item 2).

Golden values: ``validation/metafor/make_golden_measures.R`` -> ``tests/golden/metafor_measures.json``
(metafor's escalc with its add / to / drop00 / vtype arguments, its transf.* back-transforms and
summary(escalc)). Tolerance rtol 1e-10: both sides evaluate the same closed forms in double
precision (UCOR's hypergeometric function: gsl in R, scipy in Python). Rows metafor returns as NA
must be NaN here, in the same places (row positions never shift).

metafor's own testthat expectations (metafor 5.0-1) are checked too, at the test's own tolerance
(metafor's settings.r: .tol[["est"]] = .001, .tol[["var"]] = .001 relative); file and line are cited.
Where metafor 4.6 changed a formula (the SMDH and SMCRH variances), bm.escalc follows current metafor
and the 3.8.1 golden values are checked through the stated relation (see ``_j2``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import bayesmeta as bm
from bayesmeta.effects.escalc import escalc as escalc_frame
from bayesmeta.effects.escalc import hedges_j
from bayesmeta.effects.measures import FAMILIES, MEASURES, get_measure

pytestmark = pytest.mark.unit

GOLDEN = json.loads((Path(__file__).parent / "golden" / "metafor_measures.json").read_text())
CASES = GOLDEN["cases"]


def _arr(v):
    v = v if isinstance(v, list) else [v]
    return np.array([np.nan if x is None else x for x in v], dtype=float)


# metafor 4.6-0 changed two variances (NEWS: "calculation of the sampling variances for measures SMDH,
# SMD1H, and SMCRH was slightly adjusted for consistency"); bm.escalc follows current metafor (its test
# suite, test_misc_escalc.r lines 66-68 and 205-207, is checked below). Against the 3.8.1 golden values:
# 3.8's SMDH (LS) and SMCRH variances are ours times J^2; 3.8's SMDH LS2 is another formula (only yi checked).
def _j2(case, data):
    if case["measure"] == "SMDH":
        return hedges_j(data["n1i"] + data["n2i"] - 2) ** 2
    return hedges_j(data["ni"] - 1) ** 2


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_escalc_matches_metafor(case):
    data = {k: _arr(v) for k, v in case["data"].items()}
    opts = case["options"] or {}
    opts = opts if isinstance(opts, dict) else {}
    got = escalc_frame(case["measure"], **opts, **data)
    ref_yi, ref_vi = _arr(case["yi"]), _arr(case["vi"])
    if case["id"] in ("normand_SMDH_LS", "paired_SMCRH"):
        got["vi"] = got["vi"] * _j2(case, data)
    elif case["id"] == "normand_SMDH_LS2":
        ref_vi = got["vi"].to_numpy()  # formula changed in metafor 4.6 (no 3.8 reference): yi only
    np.testing.assert_array_equal(np.isnan(got["yi"].to_numpy()), np.isnan(ref_yi), err_msg=case["call"])
    np.testing.assert_array_equal(np.isnan(got["vi"].to_numpy()), np.isnan(ref_vi), err_msg=case["call"])
    np.testing.assert_allclose(got["yi"], ref_yi, rtol=1e-10, atol=1e-15, err_msg=case["call"])
    np.testing.assert_allclose(got["vi"], ref_vi, rtol=1e-10, atol=1e-15, err_msg=case["call"])


@pytest.mark.parametrize("case", [c for c in CASES if c["id"].endswith(("_ZCOR", "_PLO", "_IRR", "_drop00"))],
                         ids=lambda c: c["id"])
def test_front_door_keeps_rows_and_names_the_missing(case):
    """bm.escalc keeps every row in place; rows metafor leaves NA are NaN and named in a warning."""
    data = {k: _arr(v) for k, v in case["data"].items()}
    opts = case["options"] if isinstance(case["options"], dict) else {}
    ref_yi = _arr(case["yi"])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        es = bm.escalc(case["measure"], **opts, **data)
    assert es.k == ref_yi.size
    bad = np.isnan(ref_yi) | np.isnan(_arr(case["vi"]))
    np.testing.assert_array_equal(np.isnan(es.yi), bad)
    assert len(es.not_estimable) == int(bad.sum())
    if bad.any():
        assert any("kept as NaN" in str(x.message) for x in w)
        assert all(f"study {i + 1}" in es.not_estimable for i in np.flatnonzero(bad))
        with pytest.warns(UserWarning, match="not-estimable row"):
            fit = bm.rma(es, method="DL")
        assert fit.k == es.k - int(bad.sum())
    np.testing.assert_allclose(es.complete().yi, ref_yi[~bad], rtol=1e-10)


@pytest.mark.parametrize("bt", GOLDEN["back_transform"], ids=lambda b: f"{b['measure']}:{b['call']}")
def test_back_transforms_match_metafor(bt):
    m = get_measure(bt["measure"])
    got = m.back_transform(_arr(bt["x"]), ni=_arr(bt["ni"]) if "ni" in bt else None)
    np.testing.assert_allclose(got, _arr(bt["out"]), rtol=1e-10, atol=1e-15, err_msg=bt["call"])
    if m.transform not in ("pft", "irft", "arcsine", "sqrt"):  # invertible on the whole line
        np.testing.assert_allclose(m.to_analysis(got), _arr(bt["x"]), rtol=1e-10, atol=1e-12)


def test_pft_back_transform_needs_sample_sizes():
    with pytest.raises(ValueError, match=r"harmonic mean.*pass ni="):
        get_measure("PFT").back_transform(0.5)


def test_summary_matches_metafor_summary_escalc():
    s = GOLDEN["summary"]["bcg_RR"]
    es = bm.escalc("RR", ai=s["tpos"], bi=s["tneg"], ci=s["cpos"], di=s["cneg"])  # dat.bcg
    got = es.summary()
    for col, ref in (("yi", "yi"), ("vi", "vi"), ("sei", "sei"), ("zi", "zi"), ("pval", "pval"),
                     ("ci95_lb", "ci_lb"), ("ci95_ub", "ci_ub")):
        np.testing.assert_allclose(got[col], s[ref], rtol=1e-10, err_msg=col)
    s90 = GOLDEN["summary"]["bcg_RR_90"]
    for level in (0.90, 90):  # metafor's level = 90 is read as 90%
        got = es.summary(level=level)
        np.testing.assert_allclose(got["ci90_lb"], s90["ci_lb"], rtol=1e-10)
        np.testing.assert_allclose(got["ci90_ub"], s90["ci_ub"], rtol=1e-10)
    z = GOLDEN["summary"]["mcdaniel_ZCOR_ztor"]
    bt = bm.escalc("ZCOR", ri=z["ri"], ni=z["ni"]).summary(back_transform=True)
    assert list(bt.columns) == ["study", "yi", "ci95_lb", "ci95_ub"] and bt.attrs["scale"] == "r"
    for col, ref in (("yi", "yi"), ("ci95_lb", "ci_lb"), ("ci95_ub", "ci_ub")):
        np.testing.assert_allclose(bt[col], z[ref], rtol=1e-10)


# metafor's testthat expectations (tests/testthat/test_misc_escalc.r of the CRAN source in
# /work/.mirror/cran+metafor/repo); tolerance .001 relative (tests/testthat/settings.r).
TESTTHAT = [
    # line 214-216: escalc(measure="PAS", xi=10, ni=20)
    ("test_misc_escalc.r:214", "PAS", {"xi": [10], "ni": [20]}, [0.7854], [0.0125]),
    # line 222-224 and 226-228: IRS / IRFT with xi=10, ti=20
    ("test_misc_escalc.r:222", "IRS", {"xi": [10], "ti": [20]}, [0.7071], [0.0125]),
    ("test_misc_escalc.r:226", "IRFT", {"xi": [10], "ti": [20]}, [0.7244], [0.0125]),
    # line 201-203 / 205-207: MC / SMCRH
    ("test_misc_escalc.r:201", "MC", {"m1i": [26], "m2i": [22], "sd1i": [30**0.5], "sd2i": [20**0.5], "ni": [60],
                                      "ri": [0.7]}, [4.0], [0.2618]),
    # line 234-236: ROMC
    ("test_misc_escalc.r:234", "ROMC", {"m1i": [26], "m2i": [22], "sd1i": [30**0.5], "sd2i": [20**0.5],
                                        "ni": [60], "ri": [0.7]}, [0.1671], [0.0004]),
    # line 274-276: IRSD
    ("test_misc_escalc.r:274", "IRSD", {"x1i": [10], "x2i": [6], "t1i": [20], "t2i": [20]}, [0.1594], [0.0250]),
    # line 282-284: MNLN
    ("test_misc_escalc.r:282", "MNLN", {"mi": [10], "sdi": [2], "ni": [20]}, [2.3026], [0.0020]),
]


@pytest.mark.parametrize("where,measure,data,yi,vi", TESTTHAT, ids=[t[0] for t in TESTTHAT])
def test_metafor_testthat_expectations(where, measure, data, yi, vi):
    got = escalc_frame(measure, **data)
    np.testing.assert_allclose(got["yi"], yi, rtol=1e-3, atol=5e-5, err_msg=where)
    np.testing.assert_allclose(got["vi"], vi, rtol=1e-3, atol=5e-5, err_msg=where)


def test_metafor_testthat_normand_smdh_rom_and_mcdaniel_correlations():
    # test_misc_escalc.r lines 66-76 (dat.normand1999, rows 1-4) and 166-183 (dat.mcdaniel1994 rows 1, 13, 33, 102)
    case = next(c for c in CASES if c["id"] == "normand_SMDH_LS")
    np.testing.assert_allclose(case["yi"][:4], [-0.3553, -0.3465, -2.3018, -1.8880], atol=5e-5)
    d = {k: _arr(v)[:4] for k, v in case["data"].items()}
    got = escalc_frame("SMDH", **d)
    np.testing.assert_allclose(got["yi"], [-0.3553, -0.3465, -2.3018, -1.8880], rtol=1e-3, atol=5e-5)
    # the variances of metafor >= 4.6 (test_misc_escalc.r line 67), which bm.escalc follows
    np.testing.assert_allclose(got["vi"], [0.0132, 0.0674, 0.0515, 0.1961], rtol=1e-3, atol=5e-5)
    pair = {"m1i": [26], "m2i": [22], "sd1i": [30**0.5], "sd2i": [20**0.5], "ni": [60], "ri": [0.7]}
    got = escalc_frame("SMCRH", **pair)  # test_misc_escalc.r lines 205-207
    np.testing.assert_allclose(got["yi"], [0.7210], rtol=1e-3)
    np.testing.assert_allclose(got["vi"], [0.0133], rtol=1e-3, atol=5e-5)
    got = escalc_frame("ROM", **d)
    np.testing.assert_allclose(got["yi"], [-0.3102, -0.0715, -0.6202, -0.7303], rtol=1e-3, atol=5e-5)
    np.testing.assert_allclose(got["vi"], [0.0094, 0.0028, 0.0018, 0.0119], rtol=1e-3, atol=5e-5)
    mc = next(c for c in CASES if c["id"] == "mcdaniel_ZCOR")
    ri, ni = _arr(mc["data"]["ri"])[40:43], _arr(mc["data"]["ni"])[40:43]  # rows 13, 33, 102
    ri, ni = np.r_[_arr(mc["data"]["ri"])[0], ri], np.r_[_arr(mc["data"]["ni"])[0], ni]
    z = escalc_frame("ZCOR", ri=ri, ni=ni)
    np.testing.assert_allclose(z["yi"], [0.0000, 0.7250, 2.6467, -0.1307], rtol=1e-3, atol=5e-5)
    np.testing.assert_allclose(z["vi"], [0.0083, 0.0833, 0.3333, 0.0263], rtol=1e-3, atol=5e-5)
    u = escalc_frame("UCOR", ri=ri, ni=ni)
    np.testing.assert_allclose(u["yi"], [0.0000, 0.6363, 0.9925, -0.1317], rtol=1e-3, atol=5e-5)
    u = escalc_frame("UCOR", ri=ri, ni=ni, vtype="UB")
    np.testing.assert_allclose(u["vi"], [0.0084, 0.0283, 0.0000, 0.0261], rtol=1e-3, atol=5e-5)


def test_unknown_measures_suggest_their_family():
    with pytest.raises(ValueError, match=r"did you mean 'ZCOR'\? correlation: COR, UCOR, ZCOR") as e:
        get_measure("ZCORR")
    assert "'OR'?" not in str(e.value)
    with pytest.raises(ValueError, match=r"did you mean 'PFT'\? single-group proportion"):
        get_measure("PFTT")
    with pytest.raises(ValueError, match=r"correlation: COR"):
        get_measure("correlationz")
    for fam, codes in FAMILIES.items():
        assert all(MEASURES[c].family == fam for c in codes)


def test_vtype_and_add_errors_are_clear():
    with pytest.raises(ValueError, match="vtype for ZCOR must be LS"):
        escalc_frame("ZCOR", ri=[0.3], ni=[20], vtype="UB")
    with pytest.raises(ValueError, match="vtype for PLO must be one of LS, AV; got UB"):
        escalc_frame("PLO", xi=[3], ni=[20], vtype="UB")
    with pytest.raises(ValueError, match="do not belong to it"):
        escalc_frame("ZCOR", ri=[0.3], ni=[20], xi=[3])
    with pytest.raises(ValueError, match="correlations must lie in"):
        escalc_frame("COR", ri=[1.3], ni=[20])


def test_cli_rma_on_fisher_z_contrasts_reports_r(tmp_path):
    """`bayesmeta rma --measure ZCOR` on Fisher-z contrasts prints the pooled r (tanh of mu and its CI)."""
    from click.testing import CliRunner

    from bayesmeta.cli import main

    f = tmp_path / "effects.csv"
    f.write_text("study,yi,vi\na,0.31,0.037\nb,0.55,0.02\nc,0.12,0.05\n")
    res = CliRunner().invoke(main, ["rma", str(f), "--measure", "ZCOR", "--method", "DL"])
    assert res.exit_code == 0, res.output
    fit = bm.rma(bm.EffectTable.from_yi_vi([0.31, 0.55, 0.12], [0.037, 0.02, 0.05], measure="ZCOR"), method="DL")
    assert f"mu as r: {np.tanh(fit.mu):.4f} [{np.tanh(fit.ci_lb):.4f}, {np.tanh(fit.ci_ub):.4f}]" in res.output
    res = CliRunner().invoke(main, ["rma", str(f), "--measure", "ZCORR"])
    assert res.exit_code == 2 and "did you mean 'ZCOR'? correlation: COR, UCOR, ZCOR" in res.output
    # printed correlations with CIs and a measure column: read on Fisher's z, reported as r
    g = tmp_path / "printed.csv"
    g.write_text("study,measure,estimate,ci_lb,ci_ub\na,ZCOR,0.3,0.1,0.48\nb,ZCOR,0.5,0.2,0.7\n")
    es = bm.read_csv(g)
    np.testing.assert_allclose(es.yi, np.arctanh([0.3, 0.5]), rtol=1e-14)
    res = CliRunner().invoke(main, ["rma", str(g), "--method", "DL"])
    assert res.exit_code == 0 and "mu as r:" in res.output
    g.write_text("study,measure,estimate,ci_lb,ci_ub\na,ZCOR,0.3,0.1,1.2\nb,ZCOR,0.5,0.2,0.7\n")
    res = CliRunner().invoke(main, ["rma", str(g)])
    assert res.exit_code == 2 and "column 'estimate': ZCOR: correlations must lie in (-1, 1)" in res.output and "line 2" in res.output


def test_vtype_per_study_as_metafor():
    """metafor takes one vtype per study: each row gets its own variance."""
    d = {"ri": [0.2, 0.5, -0.1], "ni": [40, 25, 60]}
    ls_, av = escalc_frame("COR", **d, vtype="LS"), escalc_frame("COR", **d, vtype="AV")
    mixed = escalc_frame("COR", **d, vtype=["LS", "AV", "LS"])
    np.testing.assert_allclose(mixed["vi"], [ls_["vi"][0], av["vi"][1], ls_["vi"][2]], rtol=1e-15)
    with pytest.raises(ValueError, match="vtype has 2 entries for 3 studies"):
        escalc_frame("COR", **d, vtype=["LS", "AV"])


def test_from_ci_on_the_reported_scale_of_transformed_measures():
    """A printed r with its CI enters on Fisher's z (the scale where the Wald interval is symmetric)."""
    es = bm.EffectTable.from_ci([0.3], [0.1], [0.48], measure="ZCOR")
    assert es.yi[0] == pytest.approx(np.arctanh(0.3), rel=1e-14)
    assert es.sei[0] == pytest.approx((np.arctanh(0.48) - np.arctanh(0.1)) / (2 * 1.959963984540054), rel=1e-12)
    es = bm.EffectTable.from_ci([0.2], [0.1], [0.35], measure="PLO")  # a proportion with its CI -> logit
    assert es.yi[0] == pytest.approx(np.log(0.2 / 0.8), rel=1e-14)
    with pytest.raises(ValueError, match="correlations must lie in"):
        bm.EffectTable.from_ci([0.3], [0.1], [1.2], measure="ZCOR")
    with pytest.raises(ValueError, match="PFT transform needs the sample sizes"):
        bm.EffectTable.from_ci([0.3], [0.1], [0.5], measure="PFT")


def test_table_back_transform_uses_its_own_sample_sizes():
    """PFT: the pooled value back-transformed with the harmonic mean of the table's ni (transf.ipft.hm)."""
    bt = next(b for b in GOLDEN["back_transform"] if b["measure"] == "PFT")
    ni = _arr(bt["ni"])
    es = bm.escalc("PFT", xi=np.floor(ni / 3), ni=ni)
    np.testing.assert_allclose(es.back_transform(_arr(bt["x"])), _arr(bt["out"]), rtol=1e-10, atol=1e-15)
    html = es._repr_html_()
    assert html.count("<tr") == 1 + ni.size and "ci95_lb" in html


def test_escalc_numbers_repeated_labels_as_metafor():
    with pytest.warns(UserWarning, match=r"repeated \(Smith\) were numbered as metafor does"):
        es = bm.escalc("ZCOR", ri=[0.1, 0.2, 0.3], ni=[30, 40, 50], study=["Smith", "Jones", "Smith"])
    assert es.study == ("Smith.1", "Jones", "Smith.2")
