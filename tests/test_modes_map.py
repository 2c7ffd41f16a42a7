"""Posterior modes and the joint MAP of the exact normal-normal posterior (issue 11 item 3).

References
----------
* ``tests/golden/bayesmeta_modes.json`` from ``validation/bayesmeta/make_golden_modes.R``: R bayesmeta
  3.4 (Röver 2020, J Stat Softw 93(6), doi:10.18637/jss.v093.i06) on four data sets (metadat
  dat.normand1999 SMD, dat.colditz1994 log RR, bayesmeta HinksEtAl2010 k = 3, Rubin1981 eight schools
  with the tau mode at 0), seven tau priors (half-normal, half-Cauchy, uniform, log-normal and log-t
  on tau^2, improper flat and Jeffreys) and a normal or improper flat mu prior.

  - "refined": bayesmeta's exact densities with tight optimisers (optimize(tol = 1e-12); marginals
    of mu, theta_new, theta_1 by integrate(rel.tol = 1e-10)); accurate to ~1e-8 SD. Tolerance
    ``REFINED_TOL`` = 2e-6 SDs of the marginal (largest measured difference: see the constant).
  - "default": what bayesmeta() prints with its defaults. Its optimisers stop early (optimize()'s
    tol = .Machine$double.eps^0.25 = 1.2e-4 absolute; optim()'s Nelder-Mead stops at reltol 1e-8 of
    the density, i.e. ~1e-4 relative in the parameters) and its mu marginal is a mixture
    approximation (delta = 0.01), so we only check agreement to ``DEFAULT_TOL`` (largest measured
    difference: see the constant).
* Closed forms: with equal standard errors and flat priors the joint MAP is the joint ML estimate
  (mu = mean of y, tau^2 = max(0, S/k - s^2)) and the marginal tau mode is the REML estimate
  (tau^2 = max(0, S/(k-1) - s^2)), S = sum (y_i - ybar)^2.
"""
import json
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from bayesmeta.bayes.exact import solve
from bayesmeta.bayes.priors import Prior, flat, halfnormal, normal

pytestmark = pytest.mark.reference

GOLDEN = json.loads((Path(__file__).parent / "golden" / "bayesmeta_modes.json").read_text())
CASES = GOLDEN["cases"]
# tolerances in posterior SDs of each marginal, see the module docstring. Measured (36 cases):
# refined: largest difference 7.9e-8 SD (joint MAP mu, eight schools), tau mode 7.8e-8, mu 3.3e-9,
# theta_new 1.5e-8, theta_1 2.6e-8 -> 1e-6 leaves room for the ~1e-8 accuracy of both sides.
# default: tau mode 7.7e-5 SD, joint MAP 1.3e-4, mu mode 1.07e-3, theta_new 4.0e-4 (bayesmeta's
# mixture with delta = 0.01), theta_i 5.3e-3 (its per-study mixtures) -> 2e-3 and 1e-2.
REFINED_TOL = 1e-6
DEFAULT_TOL = 2e-3
THETA_DEFAULT_TOL = 1e-2


def _prior(d) -> Prior:
    return Prior(d["family"], MappingProxyType(dict(d["params"] or {})), d["target"])


def _id(c):
    return f"{c['data']}-{c['tau_prior_name']}-{c['mu_prior_name']}"


_CACHE: dict = {}


def _post(c):
    key = _id(c)
    if key not in _CACHE:
        _CACHE[key] = solve(c["yi"], c["sei"], _prior(c["tau_prior"]), _prior(c["mu_prior"]))
    return _CACHE[key]


def _mine(post):
    return {"tau": post.tau.mode(), "mu": post.mu.mode(), "theta_new": post.theta_new.mode()}


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_modes_and_map_match_refined_bayesmeta(case):
    post = _post(case)
    sd = {"tau": post.tau.sd(), "mu": post.mu.sd(), "theta_new": post.theta_new.sd()}
    ref = case["refined"]
    mine = _mine(post)
    for name in ("tau", "mu", "theta_new"):
        assert abs(mine[name] - ref["mode"][name]) <= REFINED_TOL * sd[name], (name, mine[name], ref["mode"][name])
    th1 = float(np.atleast_1d(ref["theta_mode"])[0])  # the refined file has study 1 only
    assert abs(post.theta(0).mode() - th1) <= REFINED_TOL * post.theta(0).sd(), (post.theta(0).mode(), th1)
    jt, jm = post.joint_map
    assert abs(jt - ref["MAP"]["joint"]["tau"]) <= REFINED_TOL * sd["tau"], (jt, ref["MAP"]["joint"])
    assert abs(jm - ref["MAP"]["joint"]["mu"]) <= REFINED_TOL * sd["mu"], (jm, ref["MAP"]["joint"])
    if ref["mode"]["tau"] == 0:  # a mode on the boundary is reported exactly
        assert mine["tau"] == 0.0
    if ref["MAP"]["joint"]["tau"] == 0:
        assert jt == 0.0


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_modes_and_map_match_bayesmeta_defaults(case):
    post = _post(case)
    sd = {"tau": post.tau.sd(), "mu": post.mu.sd(), "theta_new": post.theta_new.sd()}
    d = case["default"]
    mine = _mine(post)
    for name in ("tau", "mu", "theta_new"):
        assert abs(mine[name] - d["mode"][name]) <= DEFAULT_TOL * sd[name], name
    q10, q90 = post.mu.ppf(0.1), post.mu.ppf(0.9)
    for i, ref in enumerate(d["theta_mode"]):
        # bayesmeta searches theta_i's mode only between mu's 10% and 90% quantiles (its optimize()
        # call in bayesmeta.default), so a mode outside is reported at the nearer end
        th = post.theta(i)
        assert abs(np.clip(th.mode(), q10, q90) - ref) <= THETA_DEFAULT_TOL * th.sd(), (i, th.mode(), ref)
    mp = post.map_estimate
    assert list(mp.index) == ["joint", "marginal"] and list(mp.columns) == ["tau", "mu"]
    for row in ("joint", "marginal"):
        assert abs(mp.loc[row, "tau"] - d["MAP"][row]["tau"]) <= DEFAULT_TOL * sd["tau"], row
        assert abs(mp.loc[row, "mu"] - d["MAP"][row]["mu"]) <= DEFAULT_TOL * sd["mu"], row


def test_golden_covers_boundary_and_interior_modes():
    taus = [c["refined"]["mode"]["tau"] for c in CASES]
    assert any(t == 0 for t in taus) and any(t > 0 for t in taus)
    assert {c["mu_prior_name"] for c in CASES} == {"normal", "flat"}


def test_closed_forms_equal_se_flat_priors():
    # joint MAP = joint ML; marginal tau mode = REML (flat tau prior, flat mu prior, equal SEs)
    y = np.array([0.3, -0.1, 0.8, 0.5, 1.1, -0.4])
    s = 0.2
    S = np.sum((y - y.mean()) ** 2)
    post = solve(y, np.full(y.size, s), Prior("flat", MappingProxyType({}), "tau"), flat("mu"))
    jt, jm = post.joint_map
    assert jm == pytest.approx(y.mean(), abs=1e-10)
    assert jt == pytest.approx(np.sqrt(S / y.size - s**2), rel=1e-7)
    assert post.tau.mode() == pytest.approx(np.sqrt(S / (y.size - 1) - s**2), rel=1e-7)
    # symmetric marginal of mu (equal SEs, flat prior): its mode is the mean of y
    assert post.mu.mode() == pytest.approx(y.mean(), abs=1e-10)
    # homogeneous data (S/(k-1) < s^2): both modes at the boundary, exactly 0
    y0 = y * 0.1
    post0 = solve(y0, np.full(y.size, s), Prior("flat", MappingProxyType({}), "tau"), flat("mu"))
    assert post0.tau.mode() == 0.0 and post0.joint_map[0] == 0.0
    assert post0.joint_map[1] == pytest.approx(y0.mean(), abs=1e-12)


def test_mode_is_the_density_maximum():
    post = solve([0.1, 0.3, -0.2, 0.5], [0.1, 0.2, 0.15, 0.3], halfnormal(0.5), normal(0, 1))
    for d in (post.tau, post.mu, post.theta_new, post.theta(1)):
        m = d.mode()
        h = 1e-3 * d.sd()
        grid = np.linspace(max(m - 5 * d.sd(), 1e-9 if d is post.tau else -np.inf), m + 5 * d.sd(), 2001)
        assert d.pdf(m) >= np.max(d.pdf(grid)) * (1 - 1e-9)
        assert d.pdf(m) > d.pdf(m + h) and (m - h <= 0 or d.pdf(m) > d.pdf(m - h))


def test_summary_and_print_show_modes_and_map():
    post = _post(CASES[0])
    s = post.summary(0.95, "hdi").set_index("parameter")
    assert list(s.columns[:2]) == ["mode", "median"]
    assert s.loc["tau", "mode"] == post.tau.mode() and s.loc["mu", "mode"] == post.mu.mode()
    assert (s.loc["tau", "map_joint"], s.loc["mu", "map_joint"]) == post.joint_map
    assert np.isnan(s.loc["theta_new", "map_joint"])
    assert s.loc["theta[study 1]", "mode"] == post.theta(0).mode()
    text = str(post)
    assert "mode" in text and "MAP estimates" in text and "joint" in text and "marginal" in text


def test_spike_prior_mode_and_map_at_zero():
    # log-t prior on tau^2 (Rhodes et al. 2015 form): its density 2/tau * t(log tau^2) is infinite at
    # tau = 0, so the marginal mode and the joint MAP of tau are 0 (bayesmeta's rule), and the joint
    # MAP of mu is the conditional mean at tau = 0: the inverse-variance weighted mean (flat mu prior)
    y, s = np.array([0.1, 0.3, -0.2, 0.5]), np.array([0.1, 0.2, 0.15, 0.3])
    logt = Prior("logt_tau2", MappingProxyType({"loc": -3.44, "scale": 2.59, "nu": 5}), "tau")
    post = solve(y, s, logt, flat("mu"))
    assert post.tau.mode() == 0.0
    tau, mu = post.joint_map
    w = 1 / s**2
    assert tau == 0.0 and mu == pytest.approx(np.sum(w * y) / np.sum(w), abs=1e-12)


def test_joint_map_student_t_mu_prior_against_direct_2d_optimisation():
    # the joint log density written out with scipy's densities, maximised by Nelder-Mead in (log tau, mu)
    from scipy import optimize, stats

    y, s = np.array([0.1, 0.3, -0.2, 0.5, 0.9]), np.array([0.1, 0.2, 0.15, 0.3, 0.25])
    tp = halfnormal(0.5)
    mp = Prior("studentt", MappingProxyType({"nu": 3.0, "loc": 0.5, "scale": 0.2}), "mu")
    post = solve(y, s, tp, mp)

    def neg(z):
        tau, mu = np.exp(z[0]), z[1]
        return -(float(tp.logpdf(tau)) + float(mp.logpdf(mu))
                 + np.sum(stats.norm.logpdf(y, mu, np.sqrt(s**2 + tau**2))))

    t0, m0 = post.joint_map
    res = optimize.minimize(neg, [np.log(t0) + 0.3, m0 - 0.05], method="Nelder-Mead",
                            options={"xatol": 1e-11, "fatol": 1e-14, "maxiter": 20000})
    # Nelder-Mead stops within ~1e-7 of the optimum here (xatol is on the simplex size)
    assert t0 == pytest.approx(np.exp(res.x[0]), rel=1e-6)
    assert m0 == pytest.approx(res.x[1], abs=1e-6 * post.mu.sd())
    assert -neg([np.log(t0), m0]) >= -res.fun - 1e-12


def test_solve_batch_modes_match_golden_and_solve():
    # solve_batch(modes=True): three golden data sets (one call each, padded with NaN to the largest
    # k) under the half-normal and flat tau priors and both mu priors, against the refined bayesmeta
    # values (REFINED_TOL) and the single-analysis solver (same computation: to rounding)
    from bayesmeta.bayes.batch import solve_batch

    by_data: dict = {}
    for c in CASES:
        by_data.setdefault(c["data"], []).append(c)
    names = list(by_data)
    K = max(len(by_data[n][0]["yi"]) for n in names)
    yi = np.full((len(names), K), np.nan)
    sei = np.full((len(names), K), np.nan)
    for a, n in enumerate(names):
        k = len(by_data[n][0]["yi"])
        yi[a, :k], sei[a, :k] = by_data[n][0]["yi"], by_data[n][0]["sei"]
    tau_names = ["halfnormal", "flat"]
    tps = {}
    for c in CASES:
        if c["tau_prior_name"] in tau_names and c["data"] in ("normand1999_SMD", "hinks2010_k3", "rubin1981_8schools"):
            tps.setdefault((c["data"], c["tau_prior_name"]), _prior(c["tau_prior"]))
    for a, n in enumerate(names):
        cases = [c for c in by_data[n] if (n, c["tau_prior_name"]) in tps]
        if not cases:
            continue
        tau_priors = list(dict.fromkeys(tps[(n, c["tau_prior_name"])] for c in cases))
        mu_priors = list(dict.fromkeys(_prior(c["mu_prior"]) for c in cases))
        ds = solve_batch(yi[a:a + 1], sei[a:a + 1], tau_priors, mu_priors, modes=True, workers=1)
        for c in cases:
            t = tau_priors.index(tps[(n, c["tau_prior_name"])])
            m = mu_priors.index(_prior(c["mu_prior"]))
            row = ds.isel(analysis=0, prior=t * len(mu_priors) + m)
            post = _post(c)
            got = {k: float(row[f"{k}_mode"]) for k in ("tau", "mu", "theta_new")}
            ref = c["refined"]
            for k, sd in (("tau", post.tau.sd()), ("mu", post.mu.sd()), ("theta_new", post.theta_new.sd())):
                assert abs(got[k] - ref["mode"][k]) <= REFINED_TOL * sd, (_id(c), k)
            assert float(row["tau_map_joint"]) == pytest.approx(post.joint_map[0], rel=1e-9, abs=1e-12)
            assert float(row["mu_map_joint"]) == pytest.approx(post.joint_map[1], rel=1e-9, abs=1e-12)
            assert got["mu"] == pytest.approx(post.mu.mode(), rel=1e-9, abs=1e-12)
    ds = solve_batch(yi[:1], sei[:1], [halfnormal(0.5)], [normal(0, 4)])
    assert "tau_mode" not in ds  # off by default (batch throughput)
