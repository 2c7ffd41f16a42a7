"""Port of metafor's test_analysis_example_morris2008.r (Morris 2008, Organ Res Methods 11:364-386:
standardized mean changes in pretest-posttest-control designs)."""

import numpy as np

import bayesmeta as bm

OUT_OF_SCOPE: dict[int, str] = {}
T = {"m_pre": [30.6, 23.5, 0.5, 53.4, 35.6], "m_post": [38.5, 26.8, 0.7, 75.9, 36.0],
     "sd_pre": [15.0, 3.1, 0.1, 14.5, 4.7], "sd_post": [11.6, 4.1, 0.1, 4.4, 4.6], "ni": [20, 50, 9, 10, 14],
     "ri": [.47, .64, .77, .89, .44]}
C = {"m_pre": [23.1, 24.9, 0.6, 55.7, 34.8], "m_post": [19.7, 25.3, 0.6, 60.7, 33.4],
     "sd_pre": [13.8, 4.1, 0.2, 17.3, 3.1], "sd_post": [14.8, 3.3, 0.2, 17.9, 6.9], "ni": [20, 42, 9, 11, 14],
     "ri": [.47, .64, .77, .89, .44]}


def _cmicalc(m):
    """Hedges' small-sample correction (metafor's .cmicalc), as the R test uses it."""
    from scipy.special import gammaln

    return np.exp(gammaln(m / 2) - np.log(np.sqrt(m / 2)) - gammaln((m - 1) / 2))


def compute() -> dict:
    v: dict = {}
    t, c = ({k: np.asarray(x, float) for k, x in g.items()} for g in (T, C))
    et, ec = (bm.escalc("SMCR", m1i=g["m_post"], m2i=g["m_pre"], sd1i=g["sd_pre"], ni=g["ni"], ri=g["ri"])
              for g in (t, c))
    v[34], v[35], v[36], v[37] = et.yi, et.vi, ec.yi, ec.vi
    v[43], v[46] = et.yi - ec.yi, et.vi + ec.vi
    # the pooled-pretest-SD estimator computed as the test does (Morris 2008, d_ppc2)
    sd_pool = np.sqrt(((t["ni"] - 1) * t["sd_pre"] ** 2 + (c["ni"] - 1) * c["sd_pre"] ** 2) / (t["ni"] + c["ni"] - 2))
    yi = _cmicalc(t["ni"] + c["ni"] - 2) * ((t["m_post"] - t["m_pre"]) - (c["m_post"] - c["m_pre"])) / sd_pool
    v[56], v[59] = yi, 2 * (1 - t["ri"]) * (1 / t["ni"] + 1 / c["ni"]) + yi**2 / (2 * (t["ni"] + c["ni"]))
    et, ec = (bm.escalc("SMCC", m1i=g["m_post"], m2i=g["m_pre"], sd1i=g["sd_post"], sd2i=g["sd_pre"], ni=g["ni"],
                        ri=g["ri"]) for g in (t, c))
    v[70], v[71], v[72], v[73] = et.yi, et.vi, ec.yi, ec.vi
    v[79], v[80] = et.yi - ec.yi, et.vi + ec.vi
    return v
