"""The vectorised consistency checks of published results (check_published_many, used by
``bayesmeta batch``) against the row function check_published they replace in the batch path.

Source of truth: :func:`bayesmeta.published.consistency.check_published` (itself tested against
hand computations in test_published.py). Tolerance 1e-12 relative (both run the same IEEE
arithmetic through the same scipy.special functions; measured: equal bit for bit).
"""
import numpy as np
import pytest

from bayesmeta.published.consistency import check_published, check_published_many

pytestmark = pytest.mark.unit


def _rows(n, seed):
    rng = np.random.default_rng(seed)
    meas = rng.choice(["SMD", "MD", "RR", "OR", "HR", "smd", "rr"], n)
    ratio = np.isin(np.char.upper(meas), ["RR", "OR", "HR"])
    est, se = rng.normal(0, 0.4, n), rng.uniform(0.01, 0.6, n)
    est[::17] = 0.0                                              # estimate at the null
    skew = np.where(rng.random(n) < 0.3, rng.normal(0, 0.3, n) * se, 0.0)  # asymmetric CIs
    dec = rng.choice([1, 2, 3], n)
    lev = rng.choice([0.95, 0.9, 0.99], n)
    f = 10.0**dec
    e = np.round(np.where(ratio, np.exp(est), est) * f) / f
    lb = np.round(np.where(ratio, np.exp(est - 1.96 * se + skew), est - 1.96 * se + skew) * f) / f
    ub = np.round(np.where(ratio, np.exp(est + 1.96 * se + skew), est + 1.96 * se + skew) * f) / f
    lb = np.where(ratio, np.maximum(lb, 1.0 / f), lb)           # a ratio bound printed as 0.01: lo() clamps
    p = np.round(2 * np.exp(-np.abs(est / se)) * rng.uniform(0.5, 1.5, n), rng.integers(2, 4))
    p[rng.random(n) < 0.35] = np.nan                             # missing p
    rel = rng.choice(["=", "=", "<", ">"], n)
    k = rng.integers(2, 40, n).astype(float)
    known = rng.random(n) < 0.5                                  # decimals given or inferred
    return meas, e, lb, ub, p, lev, np.where(known, dec, np.nan), rel, k


def _compare(row, many, i):
    for f in ("estimate", "ci_lb", "ci_ub", "se", "se_min", "se_max", "p_implied", "p_implied_min",
              "p_implied_max"):
        a, b = getattr(row, f), getattr(many, f)[i]
        assert b == pytest.approx(a, rel=1e-12, abs=1e-300), (i, f)
    assert bool(many.ci_symmetric[i]) is row.ci_symmetric, i
    if row.p_consistent is None:
        assert np.isnan(many.p_consistent[i]) and np.isnan(many.p[i]), i
    else:
        assert bool(many.p_consistent[i]) is row.p_consistent, i
    for f in ("n_implied", "n_implied_min", "n_implied_max"):
        a, b = getattr(row, f), getattr(many, f)[i]
        assert (a is None and np.isnan(b)) or b == pytest.approx(a, rel=1e-12), (i, f)


@pytest.mark.parametrize("preset", [None, "revman5", "revman2025"])
def test_many_equals_row_function(preset):
    meas, e, lb, ub, p, lev, dec, rel, k = _rows(300, seed={None: 1, "revman5": 2, "revman2025": 3}[preset])
    many = check_published_many(e, lb, ub, p, level=lev, measure=meas, decimals=dec, p_relation=rel,
                                preset=preset, k=k)
    for i in range(e.size):
        row = check_published(e[i], lb[i], ub[i], None if np.isnan(p[i]) else p[i], level=lev[i], measure=meas[i],
                              decimals=None if np.isnan(dec[i]) else int(dec[i]), p_relation=rel[i],
                              preset=preset, k=int(k[i]))
        _compare(row, many, i)
    # the rows cover the edge cases they are meant to
    assert np.isnan(p).sum() > 50 and (~np.asarray(many.ci_symmetric)).sum() > 5
    assert (many.p_consistent == 0).sum() > 5 and (many.p_consistent == 1).sum() > 50


def test_scalars_and_missing_k():
    one = check_published_many(0.5, 0.2, 0.8, 0.001, measure="SMD")
    row = check_published(0.5, 0.2, 0.8, 0.001, measure="SMD")
    _compare(row, one, 0)
    with pytest.raises(ValueError, match="number of studies k"):
        check_published_many([0.5, 0.4], [0.2, 0.1], [0.8, 0.7], preset="revman2025", k=[5, np.nan])
