"""All studies' shrinkage marginals in one kernel call (issue 20, item 1).

Independent reference: the per-study path, :meth:`NormalNormalPosterior.theta` (a
:class:`NormalMixture` per study: the global 1,001-point grid search and Brent's root finder for
the mode, the exact equal-tailed interval as the HDI's start), which the vectorised kernel
replaces in :meth:`summary`; and a closed form (a single study with tau = 0 known: theta = mu).
Tolerance 1e-10 posterior SDs (measured: at most 1.2e-13; both paths converge to 1e-13 relative,
from different starts)."""
import numpy as np
import pandas as pd
import pytest

from bayesmeta.bayes import _kernels as K
from bayesmeta.bayes import priors as P
from bayesmeta.bayes.exact import solve

pytestmark = pytest.mark.unit


def _per_study(post, prob, kind, studies=None):
    rows = []
    for i in range(post.k) if studies is None else studies:
        d = post.theta(i)
        lo, hi = d.interval(prob, kind)
        rows.append([d.mode(), d.median(), d.mean(), d.sd(), lo, hi])
    return np.array(rows)


CASES = [
    (3, P.halfnormal(0.5), P.normal(0.0, 1.0), 1),
    (8, P.halfcauchy(1.0), P.parse_prior("studentt(3, 0, 1)", "mu"), 2),
    (8, P.parse_prior("lognormal_tau2(-2.5, 1.5)", "tau"), P.flat("mu"), 3),  # spike near tau = 0
    (40, P.halfnormal(0.5), P.normal(0.0, 1.0), 4),
    (12, P.parse_prior("jeffreys()", "tau"), P.flat("mu"), 5),
]


@pytest.mark.parametrize("k,tp,mp,seed", CASES)
@pytest.mark.parametrize("kind,prob", [("hdi", 0.95), ("eti", 0.95), ("hdi", 0.8)])
def test_vectorised_marginals_equal_the_per_study_path(k, tp, mp, seed, kind, prob):
    rng = np.random.default_rng(seed)
    sei = rng.uniform(0.05, 0.6, k)
    y = rng.normal(0.2, np.sqrt(sei**2 + 0.1))
    post = solve(y, sei, tp, mp)
    new = post.theta_summary(prob, kind)
    pct = round(prob * 100)
    assert list(new.columns) == ["study", "mode", "median", "mean", "sd", f"{kind}{pct}_lb", f"{kind}{pct}_ub"]
    ref = _per_study(post, prob, kind)
    err = np.abs(new.iloc[:, 1:].to_numpy() - ref) / ref[:, [3]]
    assert err.max() < 1e-10, err.max(axis=0)


def test_summary_rows_come_from_the_kernel_and_threads_do_not_change_them():
    rng = np.random.default_rng(7)
    sei = rng.uniform(0.1, 0.5, 600)
    y = rng.normal(0.0, np.sqrt(sei**2 + 0.05))
    post = solve(y, sei, P.halfnormal(0.5), P.normal(0.0, 1.0))
    s = post.summary(0.95, "hdi")
    assert len(s) == 3 + 600 and s["parameter"].iloc[3] == "theta[study 1]" and s["map_joint"].iloc[3:].isna().all()
    one = post.theta_summary(0.95, "hdi", workers=1)
    two = post.theta_summary(0.95, "hdi", workers=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    np.testing.assert_array_equal(s.iloc[3:]["median"].to_numpy(), one["median"].to_numpy())
    sub = [0, 299, 599]
    ref = _per_study(post, 0.95, "hdi", sub)
    assert (np.abs(one.iloc[sub, 1:].to_numpy() - ref) / ref[:, [3]]).max() < 1e-10


def test_far_apart_clusters_match_the_global_search():
    # two far-apart clusters under the Jeffreys prior: study marginals mix "pooled" (tau small) and
    # "own estimate" (tau large) components
    y = np.array([-3.0, -3.0, 3.0, 3.0, 3.0, 1.0])
    sei = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 2.0])
    post = solve(y, sei, P.parse_prior("jeffreys()", "tau"), P.flat("mu"))
    new = post.theta_summary(0.95, "eti")["mode"].to_numpy()
    ref = np.array([post.theta(i).mode() for i in range(y.size)])
    np.testing.assert_allclose(new, ref, rtol=0, atol=1e-10 * post.theta(5).sd())


def test_a_second_higher_mode_is_detected():
    # 0.4 N(-2, 0.3^2) + 0.6 N(2, 0.3^2): Newton from -2 finds the lower mode; the check sees the
    # higher one and hands the study to the global search; from +2 it is the mode (exactly 2 up to
    # the other component's pull, below 1e-40 here)
    w, m, s = np.array([0.4, 0.6]), np.array([-2.0, 2.0]), np.array([0.3, 0.3])
    mean = float(w @ m)
    sd = float(np.sqrt(w @ (s**2 + (m - mean) ** 2)))
    x, ok = K._mix_mode1(w, m, s, mean, sd, -2.0, 8)
    assert not ok and abs(x + 2.0) < 1e-12
    x, ok = K._mix_mode1(w, m, s, mean, sd, 2.0, 8)
    assert ok and abs(x - 2.0) < 1e-12


def test_one_study_with_tau_fixed_at_zero_is_mu():
    # uniform(1e-9) on tau: theta_1 = mu to 1e-9; mu | y ~ N(m, V) in closed form (normal prior)
    post = solve([0.4], [0.2], P.parse_prior("uniform(1e-9)", "tau"), P.normal(0.0, 1.0))
    t = post.theta_summary(0.95, "eti").iloc[0]
    V = 1 / (1 / 0.04 + 1)
    m = V * 0.4 / 0.04
    assert abs(t["mean"] - m) < 1e-8 and abs(t["sd"] - np.sqrt(V)) < 1e-8 and abs(t["mode"] - m) < 1e-8
    assert abs(t["eti95_ub"] - (m + 1.959963984540054 * np.sqrt(V))) < 1e-7


def test_bad_arguments():
    post = solve([0.1, 0.2], [0.1, 0.1], P.halfnormal(0.5), P.normal(0, 1))
    with pytest.raises(ValueError, match="kind"):
        post.theta_summary(0.95, "hpd")
    with pytest.raises(ValueError, match="prob"):
        post.theta_summary(1.5)


def test_the_reduction_keeps_mass_mean_and_variance():
    # moment matching (closed form): the 8-group start has the row's total weight, mean and variance
    rng = np.random.default_rng(3)
    w = rng.uniform(0, 1, 60)
    m = np.sort(rng.normal(0, 1, 60))
    s = rng.uniform(0.5, 1.5, 60)
    gw, gm, gs = np.empty(61), np.empty(61), np.empty(61)
    n = K._reduce(w, m, s, 8, gw, gm, gs)
    gw, gm, gs = gw[:n], gm[:n], gs[:n]
    assert 7 <= n <= 9
    mean = w @ m / w.sum()
    assert abs(gw.sum() - w.sum()) < 1e-13
    assert abs(gw @ gm / gw.sum() - mean) < 1e-13
    var = w @ (s**2 + (m - mean) ** 2) / w.sum()
    assert abs(gw @ (gs**2 + (gm - mean) ** 2) / gw.sum() - var) < 1e-12


def test_the_concavity_certificate_gives_the_checked_mode():
    # means spread by at most the smallest SD: the certified path (no end or second-mode checks)
    # lands on the mode the checked path finds, for skewed rows
    rng = np.random.default_rng(4)
    for _ in range(50):
        s = rng.uniform(0.5, 1.0, 30)
        m = rng.uniform(0, s.min(), 30)
        w = rng.exponential(1.0, 30)
        w /= w.sum()
        mean = float(w @ m)
        sd = float(np.sqrt(w @ (s**2 + (m - mean) ** 2)))
        x1, ok1 = K._mix_mode_core(w, m, s, mean, sd, mean, 0, 0.0, True)
        x0, ok0 = K._mix_mode1(w, m, s, mean, sd, mean, 64)
        assert ok0 and ok1 and abs(x1 - x0) < 1e-12 * sd


# --- Gauss rules of the tau measure (issue 20: summary() at large k) ---------------------------

LARGE = [  # (k, tau prior, mu prior, seed, SE range, tau^2, outliers)
    (2000, P.halfnormal(0.5), P.normal(0.0, 1.0), 1, (0.1, 0.5), 0.1, False),
    (300, P.parse_prior("lognormal_tau2(-2.5, 1.5)", "tau"), P.flat("mu"), 3, (0.05, 0.6), 0.1, False),
    (300, P.parse_prior("jeffreys()", "tau"), P.flat("mu"), 5, (0.05, 0.6), 0.3, False),
    (200, P.halfcauchy(1.0), P.normal(0.0, 1.0), 6, (0.01, 1.0), 0.5, False),
    (200, P.parse_prior("uniform(2)", "tau"), P.normal(0.0, 10.0), 7, (0.2, 0.3), 0.05, True),
    (100, P.halfnormal(0.5), P.normal(0.0, 1.0), 9, (0.1, 0.5), 1.0, False),
    # Student-t mu priors: tau and lambda (the prior's scale nodes) both reduced
    (1000, P.halfnormal(0.5), P.parse_prior("studentt(3, 0, 0.5)", "mu"), 1, (0.1, 0.5), 0.1, False),
    (300, P.halfcauchy(1.0), P.parse_prior("studentt(3, 0, 0.05)", "mu"), 2, (0.1, 0.5), 0.1, False),
]


def _large(k, tp, mp, seed, se, tau2, outliers):
    rng = np.random.default_rng(seed)
    sei = rng.uniform(*se, k)
    y = rng.normal(0.2, np.sqrt(sei**2 + tau2))
    if outliers:
        y[:5] += 3.0
    return solve(y, sei, tp, mp)


def _rule_used(post, prob=0.95, hdi=True, rules=None):
    k = post.k
    used = np.full(k, -1, dtype=np.int64)
    K.study_marginals_gauss(*(rules or post._gauss_rules), post.yi, post.sei**2, prob, hdi, post.GAUSS_TOL, 0, k,
                            np.empty((k, 6)), np.ones(k, dtype=np.bool_), used)
    return used


@pytest.mark.parametrize("case", LARGE, ids=[f"k{c[0]}-seed{c[3]}" for c in LARGE])
@pytest.mark.parametrize("kind,prob", [("hdi", 0.95), ("eti", 0.95), ("hdi", 0.8), ("eti", 0.99)])
def test_gauss_rules_give_the_full_mixture_numbers(case, kind, prob):
    # reference: every study on the full mixture (reduction=False; that kernel is checked against
    # the per-study path above); the Gauss path must be the one taken (not a vacuous pass)
    post = _large(*case)
    used = _rule_used(post, prob, kind == "hdi")
    assert (used >= 0).mean() > 0.95
    new = post.theta_summary(prob, kind)
    ref = post.theta_summary(prob, kind, reduction=False)
    err = np.abs(new.iloc[:, 1:].to_numpy() - ref.iloc[:, 1:].to_numpy()) / ref[["sd"]].to_numpy()
    assert err.max() < 1e-10, err.max(axis=0)  # measured: at most 1.6e-13 SDs
    sub = [0, post.k // 2, post.k - 1]
    per = _per_study(post, prob, kind, sub)
    assert (np.abs(new.iloc[sub, 1:].to_numpy() - per) / per[:, [3]]).max() < 1e-10


def _same_as_full_mixture(post):
    """theta_summary against the full mixture from the 8-component reduction for every study
    (reduction=False) and the per-study path on three studies, to 1e-10 SDs."""
    for kind, prob in (("hdi", 0.95), ("eti", 0.9)):
        new = post.theta_summary(prob, kind)
        ref = post.theta_summary(prob, kind, reduction=False)
        err = np.abs(new.iloc[:, 1:].to_numpy() - ref.iloc[:, 1:].to_numpy()) / ref[["sd"]].to_numpy()
        assert err.max() < 1e-10, err.max(axis=0)
        sub = [0, post.k // 2, post.k - 1]
        per = _per_study(post, prob, kind, sub)
        assert (np.abs(new.iloc[sub, 1:].to_numpy() - per) / per[:, [3]]).max() < 1e-10


def test_wide_rules_when_the_posterior_of_tau_reaches_zero():
    # tau piled up near 0 with k large: each study's marginal is a wide mixture of narrow
    # components (mu | tau moves by many component SDs across tau), which no rule of up to 16
    # nodes reproduces to 1e-12; the probe then tries the wide ladder, whose (28, 32) pair agrees
    # on nearly every study (measured 0.994; the rest take the full mixture). Same numbers as the
    # full mixture (measured: at most 4.2e-13 SDs apart)
    rng = np.random.default_rng(9)
    sei = rng.uniform(0.1, 0.5, 1500)
    post = solve(rng.normal(0.2, np.sqrt(sei**2 + 0.001)), sei, P.halfnormal(0.5), P.normal(0.0, 1.0))
    assert (_rule_used(post) < 0).all()
    assert (_rule_used(post, rules=post._gauss_rules_wide) >= 0).mean() > 0.95
    _same_as_full_mixture(post)


def test_studies_no_rule_reaches_go_to_the_full_mixture():
    # at k = 10,000 with tau^2 = 0.001 not even the 32-node rule agrees to 1e-12: every study
    # takes the full mixture, started from the 16-node rule's summaries instead of the
    # 8-component reduction, with the same numbers (measured: at most 3.7e-13 SDs apart)
    rng = np.random.default_rng(1)
    sei = rng.uniform(0.1, 0.5, 10_000)
    post = solve(rng.normal(0.2, np.sqrt(sei**2 + 0.001)), sei, P.halfnormal(0.5), P.normal(0.0, 1.0))
    assert (_rule_used(post, rules=post._gauss_rules_wide) < 0).mean() > 0.99
    start = post._start_rule(post._gauss_rules, int((post._rows.w[0] > 0).sum()))
    assert start[0].size == post.GAUSS_LADDER[-1]  # the 16-node rule starts the iterations
    _same_as_full_mixture(post)


def test_no_wide_rules_under_a_student_t_mu_prior():
    rng = np.random.default_rng(9)
    sei = rng.uniform(0.1, 0.5, 200)
    post = solve(rng.normal(0.2, sei), sei, P.halfnormal(0.5), P.parse_prior("studentt(3, 0, 0.5)", "mu"))
    assert post._gauss_rules_wide is None and post._gauss_rules is not None


def test_the_rule_variable_keeps_the_range_short_when_tau_reaches_zero():
    # xi = log(1 + tau^2 / c): where the posterior of tau reaches down to 0 the 16-node rule in xi
    # reproduces a study's cdf far better than the same rule in log tau (the engine's variable);
    # reference: the full mixture's cdf, the sum over the engine's nodes written out with scipy
    from scipy import stats

    from bayesmeta.bayes.quadrature import gauss_rules
    rng = np.random.default_rng(1)
    sei = rng.uniform(0.1, 0.5, 1000)
    y = rng.normal(0.2, sei)
    post = solve(y, sei, P.halfnormal(0.5), P.normal(0.0, 1.0))
    r = post._rows
    keep = r.w[0] > 0
    w, m, V, tc = (np.asarray(a[0], dtype=float)[keep] for a in (r.w, r.m, r.V, r.tau_c))
    c = 1.0 / np.sum(1.0 / sei**2)

    def mu_given(t):  # mu | tau under N(0, 1): variance 1 / (S0 + 1), mean V S1
        wt = 1.0 / (sei[None, :] ** 2 + t[:, None] ** 2)
        Vt = 1.0 / (wt.sum(1) + 1.0)
        return Vt * (wt * y[None, :]).sum(1), Vt

    def cdf(wt, t, mt, Vt, i, x):
        b = t * t / (sei[i] ** 2 + t * t)
        return np.sum(wt * stats.norm.cdf((x - (b * y[i] + (1 - b) * mt)) / np.sqrt(b * sei[i] ** 2 + (1 - b) ** 2 * Vt)))

    errs = {"xi": 0.0, "log": 0.0}
    for name, fwd, inv in (("xi", lambda t: np.log1p(t * t / c), lambda x: np.sqrt(c * np.expm1(x))),
                           ("log", np.log, np.exp)):
        (x, gw), = gauss_rules(fwd(tc), w, [16])
        t = inv(x)
        mt, Vt = mu_given(t)
        for i in (0, 500, 999):
            d = post.theta(i)
            for q in (0.025, 0.5, 0.975):
                xq = d.ppf(q)
                errs[name] = max(errs[name], abs(cdf(gw, t, mt, Vt, i, xq) - cdf(w / w.sum(), tc, m, V, i, xq)))
    assert errs["xi"] < 1e-7 and errs["xi"] < 1e-2 * errs["log"], errs  # measured: 1.4e-10 and 5.6e-7


def test_few_studies_use_the_full_mixture_only():
    rng = np.random.default_rng(2)
    sei = rng.uniform(0.1, 0.5, 20)
    post = solve(rng.normal(0.0, np.sqrt(sei**2 + 0.1)), sei, P.halfnormal(0.5), P.normal(0.0, 1.0))
    assert post.k < post.GAUSS_MIN_K
    pd.testing.assert_frame_equal(post.theta_summary(), post.theta_summary(reduction=False), check_exact=True)


def test_student_t_rules_reduce_lambda_at_every_tau_node():
    # each tau node of rule p carries GAUSS_LAMBDA_LADDER[p] lambda components, whose weights
    # sum to the tau node's weight; the rules' weights sum to one
    rng = np.random.default_rng(5)
    sei = rng.uniform(0.1, 0.5, 200)
    post = solve(rng.normal(0.1, np.sqrt(sei**2 + 0.1)), sei, P.halfnormal(0.5),
                 P.parse_prior("studentt(3, 0, 0.5)", "mu"))
    RW, RT, _, _, RN, _, _ = post._gauss_rules
    for p in range(RN.size):
        t = RT[p, : RN[p]]
        nodes = np.unique(t)
        assert RN[p] == nodes.size * post.GAUSS_LAMBDA_LADDER[p]
        assert nodes.size == post.GAUSS_LADDER[p] and abs(RW[p, : RN[p]].sum() - 1.0) < 1e-12


def test_the_rules_carry_the_atom_at_tau_zero():
    # a prior with a spike at 0 gives the engine an atom at tau = 0; it is a component of every rule
    rng = np.random.default_rng(4)
    sei = rng.uniform(0.1, 0.4, 200)
    post = solve(rng.normal(0.1, sei), sei, P.parse_prior("lognormal_tau2(-6, 1)", "tau"), P.normal(0.0, 1.0))
    RW, RT, _, _, RN, _, _ = post._gauss_rules
    r = post._rows
    has_atom = bool((r.tau_c[0][r.w[0] > 0] == 0).any())
    assert has_atom == bool((RT[:, 0] == 0).all())
    for p in range(RN.size):
        assert abs(RW[p, : RN[p]].sum() - 1.0) < 1e-12
    ref = post.theta_summary(reduction=False)
    new = post.theta_summary()
    assert (np.abs(new.iloc[:, 1:].to_numpy() - ref.iloc[:, 1:].to_numpy()) / ref[["sd"]].to_numpy()).max() < 1e-10


def test_density_on_a_grid_by_ratios_equals_one_exp_per_point():
    # the second-mode check evaluates the density at 8 equispaced points with three exps per
    # component (_mix_pdf_grid), the global mode search at 1,001 (restarting every GRID_RESTART
    # points); reference: scipy's normal pdf at each point. Grids of 1-1,001 points; components
    # inside and outside the grid, much narrower and much wider than its spacing, and far enough
    # away to underflow. Tolerance 1e-11 relative wherever the density does not underflow: exp(x)
    # carries a relative error of about |x| ulp (|x| up to 745, in the reference as here) and z
    # is rounded differently along a long grid (measured on 2,000 grids: at most 1.9e-12; the
    # mode search compares neighbours that differ by ~1e-4)
    from scipy import stats
    rng = np.random.default_rng(11)
    for _ in range(300):
        C = int(rng.integers(1, 90))
        w = rng.random(C)
        w[rng.random(C) < 0.1] = 0.0
        m = rng.normal(0.0, 10 ** rng.uniform(-3, 1), C)
        s = 10 ** rng.uniform(-4, 0.5, C)
        n = int(rng.integers(1, 12)) if rng.random() < 0.7 else int(rng.integers(12, 1002))
        g0, dg = rng.normal(0.0, 0.5), 10 ** rng.uniform(-4, 0) * min(1.0, 12 / n)
        out = np.empty(n)
        K._mix_pdf_grid(w, m, s, g0, dg, out)
        g = g0 + dg * np.arange(n)
        ref = (w[:, None] * stats.norm.pdf(g[None, :], m[:, None], s[:, None])).sum(0)
        ok = ref > 1e-300
        assert np.all(out[~ok] < 1e-290)
        np.testing.assert_allclose(out[ok], ref[ok], rtol=1e-11, atol=0)
