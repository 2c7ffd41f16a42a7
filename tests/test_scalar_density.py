"""Compiled scalar log densities and Brent's bounded search for the modes (bayesmeta.bayes._scalar_density).

Independent references: the NumPy log densities of :class:`bayesmeta.bayes.exact._LogDensity`
(``marginal``, ``joint_profile``) and SciPy's ``minimize_scalar(method="bounded")``, which the
compiled path replaces (the joint density under every mu prior, the marginal under a flat or
normal one; a Student-t prior's best mu per tau is SciPy's brentq line for line). Where NumPy's exp, log and log1p are the C
library's (``./dev run`` pins them, bayesmeta.provenance.NUMERIC_PINS) the compiled path gives the
same floating-point numbers (checked in a subprocess with the pins: every tau prior family, flat,
normal and Student-t mu priors, k = 1 ... 60); elsewhere (NumPy's AVX-512 kernels) the densities agree to
1e-13 relative."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from bayesmeta.bayes import _scalar_density as SD
from bayesmeta.bayes import priors as P
from bayesmeta.bayes.exact import solve
from bayesmeta.provenance import NUMERIC_PINS

pytestmark = pytest.mark.unit

TAUS = ["halfnormal(0.5)", "halfcauchy(1)", "halfstudentt(3, 0.5)", "exponential(2)", "uniform(3)",
        "lognormal_tau2(-2.5, 1.5)", "logt_tau2(-3.4, 2.6, 5)", "invgamma(1, 0.1)", "jeffreys()", "flat()"]
MUS = [P.flat("mu"), P.normal(0.0, 1.0), P.normal(0.3, 0.2), P.parse_prior("studentt(3, 0, 0.5)", "mu"),
       P.parse_prior("studentt(5, 0.2, 0.05)", "mu")]


def _posts(seed, reps):
    rng = np.random.default_rng(seed)
    for _ in range(reps):
        for tp in TAUS:
            for mp in MUS:
                k = int(rng.choice([1, 2, 3, 5, 8, 20, 60]))
                if tp in ("jeffreys()", "flat()") and mp.family == "flat":
                    k = max(k, 3)  # improper tau and mu priors need three studies (Roever 2020, app. B)
                sei = rng.uniform(0.05, 0.6, k)
                y = rng.normal(0.2, np.sqrt(sei**2 + rng.choice([0.0, 0.01, 0.1, 1.0])))
                yield tp, mp, y, sei


def test_densities_equal_the_numpy_ones():
    for tp, mp, y, sei in _posts(1, 2):
        ld = solve(y, sei, P.parse_prior(tp, "tau"), mp).tau._logdens
        yv, v, k, code, q, mm, mj = ld._scalar_args
        for tau in (1e-6, 0.01, 0.2, 1.0, 7.0):
            for joint, fn, m in ((False, ld.marginal, mm), (True, ld.joint_profile, mj)):
                if m is None:  # the marginal under a Student-t mu prior: the NumPy path only
                    assert not joint and mp.family == "studentt"
                    continue
                ref = float(fn(np.array([tau]))[0])
                got = SD.log_density(joint, tau, yv, v, k, code, q, m)
                assert got == pytest.approx(ref, rel=1e-13, abs=1e-13), (tp, mp.family, tau, joint)


def test_student_t_mu_prior_compiles_the_joint_density_only():
    # the marginal sums the prior's scale mixture (NumPy); the joint density's best mu per tau is
    # the compiled grid-and-brentq search (SciPy's brentq line for line)
    rng = np.random.default_rng(2)
    sei = rng.uniform(0.1, 0.5, 8)
    post = solve(rng.normal(0, sei), sei, P.halfnormal(0.5), P.parse_prior("studentt(3, 0, 0.5)", "mu"))
    args = post.tau._logdens._scalar_args
    assert args[5] is None and args[6][0] == 2.0 and post.tau.mode() >= 0


_PINNED = """
import json, warnings
import numpy as np
warnings.filterwarnings("ignore")
sys_path = __import__("sys").path; sys_path.insert(0, "tests")
from test_scalar_density import _posts
from bayesmeta.bayes import priors as P
from bayesmeta.bayes.exact import solve
same = n = 0
for tp, mp, y, sei in _posts(5, 2):
    new = solve(y, sei, P.parse_prior(tp, "tau"), mp)
    old = solve(y, sei, P.parse_prior(tp, "tau"), mp)
    old.tau._logdens.__dict__["_scalar_args"] = None  # SciPy's minimize_scalar on the NumPy densities
    a = (new.tau.mode(), *new.joint_map)
    b = (old.tau.mode(), *old.joint_map)
    n += 1
    same += a == b
print(json.dumps({"n": n, "same": same}))
"""


def test_modes_bit_identical_to_scipy_with_the_pinned_kernels():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if k not in NUMERIC_PINS}
    env["NPY_DISABLE_CPU_FEATURES"] = "X86_V4 AVX512_ICL AVX512_SPR"
    out = subprocess.run([sys.executable, "-c", _PINNED], cwd=root, env=env, capture_output=True, text=True,
                         check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["n"] == 100 and res["same"] == res["n"], res  # measured: 100 of 100
