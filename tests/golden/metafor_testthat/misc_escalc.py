"""Port of metafor's test_misc_escalc.r (effect-size measures): the measures RR, SMD, SMDH and ROM are
checked; the other blocks (measures such as PHI, YUQ, RTET, PBIT, OR2D, AUC, CVR, VR, RPB, D2OR, the
vtype/add/to variants) are listed with the default reason."""

from _data import dat

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}
DEFAULT_REASON = ("escalc measure or option not checked here (measures are the measures registry's work, helper "
                  "'nb'; this port covers RR, SMD, SMDH, ROM)")


def compute() -> dict:
    d = dat("bcg")
    es = bm.escalc("RR", ai=d.tpos, bi=d.tneg, ci=d.cpos, di=d.cneg)
    v = {11: es.yi[0], 12: es.vi[0]}
    n = dat("normand1999").iloc[:4]
    for measure, first in (("SMD", 62), ("SMDH", 66), ("ROM", 70)):
        s = bm.escalc(measure, m1i=n.m1i, sd1i=n.sd1i, n1i=n.n1i, m2i=n.m2i, sd2i=n.sd2i, n2i=n.n2i)
        v[first], v[first + 1] = s.yi, s.vi
    return v
