"""Independent brute-force reference for the exact summary-level posterior (issue 16, item 6).

The summary likelihood of ``bayesmeta.published.summary_likelihood`` (published estimate given mu
and tau, times the probability of the printed heterogeneity statistic given the pooled estimate,
mu and tau) is integrated here from its definition only: composite Gauss-Legendre quadrature, 20
nodes per panel, of the joint p(mu, tau | data)

* outer over x = log tau on panels of width 0.2 from -25 to log(1e8 * scale), plus (-inf, -25]
  mapped to u in (0, 1] (x = -25 + log u);
* inner over mu on 24 panels spanning +-40 conditional SDs of the normal factor times the mu prior
  around its mode (the g factor, at most 1, only cuts), cut at the point when a CDF is asked.

The g factor is evaluated at every node by the Ruben/Farebrother series (``q_cdf``, itself checked
against Imhof's integral in tests/test_summary_likelihood.py) with ``q_given_pooled``; none of the
engine's pieces (log-tau range search, 6-point rule, atom below tau0, asinh mu grid, splines of g,
Gauss-Hermite passes) is used. Quantiles are roots of the brute-force CDF by Newton steps on the
brute-force CDF and density (started from the engine's value; iterated until a step is below 1e-7
posterior SDs, so the start does not matter); the shortest interval solves f(a) = f(b),
F(b) - F(a) = 0.95 by Newton on a (b from the density condition by Newton).

Self-check: the first case is also integrated with panels of half the width in both directions;
the largest difference (in posterior SDs) is written beside its numbers (``refinement_max_diff_sd``).

Writes tests/golden/summary_bruteforce.json. Run (about 10 minutes):
    .venv/bin/python validation/summary_level/bruteforce_summary.py
"""
from __future__ import annotations

import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bayesmeta.published.quadratic_forms import q_cdf, q_given_pooled  # noqa: E402

GL = 20
X_LO = -25.0
OUT = ROOT / "tests" / "golden" / "summary_bruteforce.json"


class Brute:
    def __init__(self, case, tau_prior, mu_prior, refine: int = 1):
        self.est, self.vi, self.a = case["estimate"], np.array(case["vi"]), np.array(case["a"])
        self.q = case["q_interval"]
        self.tp, self.mp = tau_prior, mu_prior
        self.s02, self.a2 = float(np.sum(self.a**2 * self.vi)), float(np.sum(self.a**2))
        gx, gw = np.polynomial.legendre.leggauss(GL)
        self.gx, self.gw = (gx + 1) / 2, gw / 2
        scale = max(abs(self.est), float(np.sqrt(self.vi.max())))
        width = 0.2 / refine
        edges = np.arange(X_LO, np.log(1e8 * scale) + width, width)
        x = (edges[:-1, None] + width * self.gx[None, :]).ravel()
        w = np.repeat(np.full(edges.size - 1, width), GL) * np.tile(self.gw, edges.size - 1)
        u = self.gx  # (-inf, X_LO]: x = X_LO + log u
        x = np.concatenate([X_LO + np.log(u), x])
        wx = np.concatenate([self.gw / u, w])
        tau = np.exp(x)
        with np.errstate(divide="ignore"):
            lpt = np.asarray(tau_prior.logpdf(tau), dtype=float) + x
        keep = np.isfinite(lpt) & (lpt > np.max(lpt) - 200)
        self.x, self.wx, self.tau, self.logp_tau = x[keep], wx[keep], tau[keep], lpt[keep]
        self.V = self.s02 + self.a2 * self.tau**2
        self.panels = 24 * refine
        if self.q is not None:
            dec = [q_given_pooled(self.vi, float(t), self.a) for t in self.tau]
            r = {d[0].size for d in dec}
            if len(r) != 1:
                raise RuntimeError("eigenvalues dropped at some tau")
            self.LAM = np.array([d[0] for d in dec])
            self.H = np.array([d[1] for d in dec])
            self.KAP = np.array([d[2] for d in dec])

    def log_g(self, idx, e):
        """log g at e (len(idx), M) for tau nodes idx."""
        if self.q is None:
            return np.zeros_like(e)
        lam = np.repeat(self.LAM[idx], e.shape[1], axis=0)
        d2 = (e.reshape(-1, 1) * np.repeat(self.H[idx], e.shape[1], axis=0)) ** 2
        s = (e**2 * self.KAP[idx][:, None]).ravel()
        p = q_cdf(self.q[1] - s, lam, d2)
        if self.q[0] > 0:
            p = p - q_cdf(self.q[0] - s, lam, d2)
        with np.errstate(divide="ignore"):
            return np.log(np.maximum(p, 0.0)).reshape(e.shape)

    def _mode(self, V):
        if self.mp.family == "normal":
            s0 = self.mp.params["scale"] ** 2
            return (self.est / V + self.mp.params["loc"] / s0) / (1 / V + 1 / s0), 1 / np.sqrt(1 / V + 1 / s0)
        return np.full_like(V, self.est), np.sqrt(V)

    def integral(self, lo=-np.inf, hi=np.inf, power=0, xmax=np.inf):
        """int over tau (x <= xmax) and mu in [lo, hi] of mu^power p(mu, tau, data)."""
        tot = 0.0
        idx_all = np.nonzero(self.x <= xmax)[0]
        for blk in np.array_split(idx_all, max(1, idx_all.size // 200)):
            V = self.V[blk]
            m, s = self._mode(V)
            a = np.maximum(m - 40 * s, lo)
            b = np.minimum(m + 40 * s, hi)
            ok = b > a
            if not ok.any():
                continue
            blk, V, a, b = blk[ok], V[ok], a[ok], b[ok]
            t = np.linspace(0.0, 1.0, self.panels + 1)
            edges = a[:, None] + (b - a)[:, None] * t[None, :]
            d = np.diff(edges, axis=1)
            mu = (edges[:, :-1, None] + d[:, :, None] * self.gx[None, None, :]).reshape(blk.size, -1)
            w = (d[:, :, None] * self.gw[None, None, :]).reshape(blk.size, -1)
            lp = np.asarray(self.mp.logpdf(mu), dtype=float) \
                - 0.5 * (np.log(2 * np.pi * V)[:, None] + (self.est - mu) ** 2 / V[:, None])
            lp = lp + self.log_g(blk, self.est - mu) + self.logp_tau[blk][:, None]
            tot += float(np.sum(self.wx[blk][:, None] * w * mu**power * np.exp(lp)))
        return tot

    def density(self, mu):
        idx = np.arange(self.tau.size)
        e = np.full((idx.size, 1), self.est - mu)
        lp = float(self.mp.logpdf(mu)) - 0.5 * (np.log(2 * np.pi * self.V) + (self.est - mu) ** 2 / self.V) \
            + self.log_g(idx, e)[:, 0] + self.logp_tau
        return float(np.sum(self.wx * np.exp(lp))) / self.Z

    def setup(self):
        self.Z = self.integral()
        m1 = self.integral(power=1) / self.Z
        m2 = self.integral(power=2) / self.Z
        self.mean, self.sd = m1, float(np.sqrt(m2 - m1**2))

    def cdf(self, c):
        return self.integral(hi=c) / self.Z

    def quantile(self, p, start):
        x = start
        for _ in range(30):
            step = (self.cdf(x) - p) / self.density(x)
            x -= step
            if abs(step) < 1e-7 * self.sd:
                return x
        raise RuntimeError("Newton did not converge")

    def _dlog(self, x):
        h = 1e-4 * self.sd
        return (np.log(self.density(x + h)) - np.log(self.density(x - h))) / (2 * h)

    def _partner(self, a, b):
        """b on the other side of the mode with f(b) = f(a) (Newton on log f, numerical slope)."""
        fa = np.log(self.density(a))
        for _ in range(40):
            step = (np.log(self.density(b)) - fa) / self._dlog(b)
            b -= step
            if abs(step) < 1e-9 * self.sd:
                return b
        raise RuntimeError("partner did not converge")

    def hdi(self, prob, start):
        a, b = start
        for _ in range(30):
            b = self._partner(a, b)
            mass = self.integral(lo=a, hi=b) / self.Z
            # d mass / da along f(a) = f(b): f(a) (f'(a)/f'(b) - 1), slopes of log f
            dm = self.density(a) * (self._dlog(a) / self._dlog(b) - 1.0)
            step = (mass - prob) / dm
            a -= step
            if abs(step) < 1e-7 * self.sd:
                return a, self._partner(a, b)
        raise RuntimeError("HDI did not converge")


def cases():
    """The seed's summary data (the published results of Viderman 2023) under the heavy-tailed
    priors of its spec, read through the library's own reader (the data, not the integrator)."""
    from bayesmeta.pipeline import outcome as O
    from bayesmeta.pipeline.spec import load_spec
    spec = load_spec(ROOT / "models" / "viderman2023.toml")
    pub = pd.read_csv(spec.data_dir / "published.csv")
    chosen = [("odi_1m", "rhodes2015_nonpharm"), ("pain_1m", "bartos_back_neck"),
              ("pain_overall", "rhodes2015_nonpharm"), ("vasovagal", "turner2015_adverse")]
    out = []
    for oid, tname in chosen:
        o = next(x for x in spec.outcomes if x.id == oid)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = O._summary_level(spec, o, pub[pub.analysis == oid].iloc[0])
        taus = spec.priors("tau", o.tau_priors)
        neutral = spec.priors("mu", o.mu_priors)[spec.by_role(o.mu_priors, "neutral")]
        d = r.data
        out.append({"outcome": oid, "tau_prior_name": tname, "tau_prior": taus[tname].to_dict(),
                    "mu_prior": neutral.to_dict(), "estimate": d.estimate, "se": d.se, "vi": d.vi.tolist(),
                    "a": d.a.tolist(), "q_interval": None if d.q_interval is None else list(d.q_interval),
                    "thresholds": [0.2, float(r.margin)]})
    return out


def main():
    from bayesmeta.bayes.priors import Prior
    from bayesmeta.published import summary_likelihood as sl
    results = []
    for case in cases():
        t0 = time.time()
        tp, mp = Prior.from_dict(case["tau_prior"]), Prior.from_dict(case["mu_prior"])
        data = sl.SummaryData(case["estimate"], case["se"], np.array(case["vi"]), np.array(case["a"]),
                              None if case["q_interval"] is None else tuple(case["q_interval"]), 1.0)
        eng = sl.posterior(data, tp, mp)
        vals = {}
        for refine in ((1, 2) if not results else (1,)):
            b = Brute(case, tp, mp, refine)
            b.setup()
            v = {"mean": b.mean, "sd": b.sd,
                 "median": b.quantile(0.5, eng.mu.median())}
            lo, hi = b.hdi(0.95, eng.mu.interval(0.95, "hdi"))
            v["hdi95_lb"], v["hdi95_ub"] = lo, hi
            for c in case["thresholds"]:
                v[f"p_mu_below_{c:.6g}"] = b.cdf(c)
            vals[refine] = v
            print(case["outcome"], case["tau_prior_name"], refine, v, f"{time.time() - t0:.0f} s", flush=True)
        ref = vals[max(vals)]
        diff = max(abs(vals[1][k] - vals[2][k]) / ref["sd"] for k in ref) if 2 in vals else None
        results.append({**case, "reference": ref, "refinement_max_diff_sd": diff})
        OUT.write_text(json.dumps({
            "description": "brute-force composite Gauss-Legendre (panels halved: refinement_max_diff_sd) of the "
                           "summary-level posterior of mu; validation/summary_level/bruteforce_summary.py",
            "versions": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__},
            "cases": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
