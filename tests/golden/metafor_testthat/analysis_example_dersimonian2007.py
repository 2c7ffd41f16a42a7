"""Port of metafor's test_analysis_example_dersimonian2007.r (DerSimonian & Kacker 2007, CLASP example)."""

import numpy as np

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}


def compute() -> dict:
    es = bm.escalc("OR", ai=[5, 5, 12, 69, 9, 313], n1i=[156, 303, 565, 1570, 103, 4659],
                   ci=[8, 17, 9, 94, 11, 352], n2i=[74, 303, 477, 1565, 105, 4650])
    vi = es.vi
    pm, ca, dl = (bm.rma(es, method=m) for m in ("PM", "HE", "DL"))
    ca2 = bm.rma(es, method="GENQ", weights=1 / (vi + ca.tau2))
    dl2 = bm.rma(es, method="GENQ", weights=1 / (vi + dl.tau2))
    ca2, dl2 = bm.rma(es, tau2=ca2.tau2), bm.rma(es, tau2=dl2.tau2)
    fits = [pm, ca, dl, ca2, dl2, *(bm.rma(es, method=m) for m in ("EB", "ML", "REML", "HS", "SJ")),
            bm.rma(es, method="SJ", control={"tau2_init": ca.tau2}), bm.rma(es, method="HSk"),
            bm.rma(es, method="GENQM", weights=1 / vi), bm.rma(es, method="PMM")]
    return {60: np.sqrt([f.tau2 for f in fits]), 61: [f.beta[0] for f in fits], 62: [f.se for f in fits]}
