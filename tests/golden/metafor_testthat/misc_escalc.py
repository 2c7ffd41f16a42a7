"""Port of metafor's test_misc_escalc.r (effect-size measures), through ``bm.escalc`` and
``EffectTable.summary`` only.

Checked: RR, SMD, SMDH, ROM; the correlations COR, UCOR (also ``vtype="UB"``), ZCOR and the partial
correlations PCOR, ZPCOR, SPCOR (dat.aloe2013); the paired changes MC, SMCRH, ROMC; PAS; IRS, IRFT;
IRSD; MNLN; ``summary(escalc)`` (zi, sei, CI) for RR and OR; a missing count giving an NA row in place.
Every other line names the measure or option bayesmeta does not offer.
"""

import warnings

from _data import dat

import bayesmeta as bm

_NOT_MEASURE = "escalc measure {m} is not offered by bm.escalc (not in bm.FAMILIES)"
_ATTRS = ("R attributes of metafor's escalc data frame (var.names, yi.names/vi.names, the 'measure', 'ni' and "
          "'slab' attributes kept through `[`, cbind() and rbind()): bm.escalc returns an EffectTable, which has "
          "no var.names option and no per-column attributes")
_INCLUDE = ("escalc's include= argument (compute only some rows of the data, leave the others NA) is not offered "
            "by bm.escalc")
_REPLACE = ("escalc's include= with replace= / add.measure= (update some rows of an existing escalc object with a "
            "second measure, a 'measure' column per row) is not offered: an EffectTable has one measure")

OUT_OF_SCOPE: dict[int, str] = {
    **{ln: _NOT_MEASURE.format(m=m) for m, lines in (
        ("PHI", (22, 23)), ("YUQ", (27, 28)), ("YUY", (32, 33)), ("RTET", (37, 38)), ("PBIT", (42, 43)),
        ("OR2D", (47, 48)), ("OR2DN", (52, 53)), ("AUC", (91, 92, 95, 96)),
        ("AUCN", (99, 100, 104, 105, 109, 110, 114, 115)), ("CVR", (124, 125)), ("VR", (130, 131)),
        ("RPB", (142, 143)), ("RBIS", (146, 147)), ("D2ORL", (156, 157)), ("D2ORN", (160, 161)),
        ("ZSPCOR", (203, 204)), ("MPRD", (251, 252)), ("MPRR", (259, 260)), ("MPOR", (268, 269)),
        ("MPORC", (276, 277)), ("MPPETO", (284, 285)), ("CVLN", (304, 305)), ("SDLN", (308, 309)),
    ) for ln in lines},
    **dict.fromkeys((318, 319, 320, 321, 322, 332, 333, 334, 335, 336, 339, 340, 348, 351), _ATTRS),
    **dict.fromkeys((366, 367), _ATTRS + "; summary()'s out.names= option is not offered either"),
    **dict.fromkeys((380, 399), _INCLUDE),
    381: _INCLUDE + "; and an EffectTable carries no 'ni' attribute",
    **dict.fromkeys((384, 387, 388, 394, 395, 400), _REPLACE),
    **dict.fromkeys((389, 396), _REPLACE + "; and an EffectTable carries no 'ni' attribute"),
}


def compute() -> dict:
    d = dat("bcg")
    es = bm.escalc("RR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg)
    v = {11: es.yi[0], 12: es.vi[0]}

    # SMD / SMDH / ROM (dat.normand1999, subset=1:4)
    n = dat("normand1999").iloc[:4]
    for measure, first in (("SMD", 62), ("SMDH", 66), ("ROM", 70)):
        s = bm.escalc(measure, m1i=n.m1i, sd1i=n.sd1i, n1i=n.n1i, m2i=n.m2i, sd2i=n.sd2i, n2i=n.n2i)
        v[first], v[first + 1] = s.yi, s.vi

    # COR / UCOR / ZCOR (dat.mcdaniel1994, subset=c(1,13,33,102))
    mc = dat("mcdaniel1994").iloc[[0, 12, 32, 101]]
    for measure, first in (("COR", 170), ("UCOR", 174), ("ZCOR", 181)):
        s = bm.escalc(measure, data=mc, ri="ri", ni="ni")
        v[first], v[first + 1] = s.yi, s.vi
    v[178] = bm.escalc("UCOR", data=mc, ri="ri", ni="ni", vtype="UB").vi

    # PCOR / ZPCOR / SPCOR (dat.aloe2013, first study)
    al = dat("aloe2013")
    for measure, first, extra in (("PCOR", 191, {}), ("ZPCOR", 195, {}), ("SPCOR", 199, {"r2i": "R2"})):
        s = bm.escalc(measure, data=al, ti="tval", ni="n", mi="preds", **extra)
        v[first], v[first + 1] = s.yi[0], s.vi[0]

    # MC / SMCRH / ROMC (one pre-post study)
    pp = {"m1i": [26], "m2i": [22], "sd1i": [30 ** 0.5], "sd2i": [20 ** 0.5], "ni": [60], "ri": [0.7]}
    for measure, first in (("MC", 211), ("SMCRH", 215), ("ROMC", 243)):
        s = bm.escalc(measure, **pp)
        v[first], v[first + 1] = s.yi, s.vi

    s = bm.escalc("PAS", xi=[10], ni=[20])
    v[223], v[224] = s.yi, s.vi
    for measure, first in (("IRS", 231), ("IRFT", 235)):
        s = bm.escalc(measure, xi=[10], ti=[20])
        v[first], v[first + 1] = s.yi, s.vi
    s = bm.escalc("IRSD", x1i=[10], x2i=[6], t1i=[20], t2i=[20])
    v[292], v[293] = s.yi, s.vi
    s = bm.escalc("MNLN", mi=[10], sdi=[2], ni=[20])
    v[300], v[301] = s.yi, s.vi

    # summary(escalc): zi, sei, ci.lb, ci.ub of the first study, RR (line 362) and OR (line 363)
    for measure, line in (("RR", 362), ("OR", 363)):
        sm = bm.escalc(measure, data=d, ai="tpos", bi="tneg", ci="cpos", di="cneg").summary().iloc[0]
        v[line] = [sm.zi, sm.sei, sm.ci95_lb, sm.ci95_ub]

    # a missing count (tpos[1] <- NA): the row keeps its place with NA (subset=1:4); bayesmeta also
    # warns that study 1 is not estimable (metafor is silent; the test checks only the values)
    allv = d.iloc[:4].astype({"tpos": float}).copy()
    allv.loc[allv.index[0], "tpos"] = float("nan")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"escalc\('RR'\): 1 of 4 rows not estimable")
        v[377] = bm.escalc("RR", data=allv, ai="tpos", bi="tneg", ci="cpos", di="cneg").yi
    return v
