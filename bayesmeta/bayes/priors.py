r"""Priors as serialisable values (numpy/scipy only; PyMC variables are made in :mod:`models`).

A :class:`Prior` is a frozen value: family, parameters, the parameter it applies to (``tau``, the
between-study SD, or ``mu``, the overall effect), a label and a citation. It evaluates its log
density, CDF and quantiles, draws samples, and, for ``tau``, reports what it implies for
:math:`I^2` at given standard errors and for the spread of a new study's effect.

Families (parameter names are the ones :mod:`bayesmeta.bayes.models` reads):

=================  ======================  ====================================================
family             parameters              distribution
=================  ======================  ====================================================
halfnormal         scale                   tau ~ HN(scale)
halfcauchy         scale                   tau ~ HC(scale)
halfstudentt       nu, scale               tau ~ half-t_nu(scale)
exponential        rate                    tau ~ Exp(rate)
uniform            upper                   tau ~ U(0, upper)
lognormal_tau2     mean, sd                log tau^2 ~ N(mean, sd^2)  (Turner et al. 2015)
logt_tau2          loc, scale, nu          log tau^2 ~ t_nu(loc, scale) (Rhodes et al. 2015)
invgamma           alpha, beta             tau ~ IG(alpha, beta)       (Bartos et al. 2021/2023)
jeffreys           (none)                  improper, p(tau) ∝ sqrt(sum_i (tau/(s_i^2+tau^2))^2)
flat               (none)                  improper uniform (tau on [0, inf) or mu on R)
normal             loc, scale              mu ~ N(loc, scale^2)
studentt           nu, loc, scale          mu ~ t_nu(loc, scale)
=================  ======================  ====================================================

References
----------
Röver C (2020). Bayesian random-effects meta-analysis using the bayesmeta R package. J Stat Softw
    93(6). doi:10.18637/jss.v093.i06
Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Predictive distributions for
    between-study heterogeneity and simple methods for their application in Bayesian
    meta-analysis. Stat Med 34:984-998. doi:10.1002/sim.6381
Rhodes KM, Turner RM, Higgins JPT (2015). Predictive distributions were developed for the extent
    of heterogeneity in meta-analyses of continuous outcome data. J Clin Epidemiol 68:52-60.
    doi:10.1016/j.jclinepi.2014.08.012
Bartoš F, Gronau QF, Timmers B, Otte WM, Ly A, Wagenmakers EJ (2021). Bayesian model-averaged
    meta-analysis in medicine. Stat Med 40:6743-6761. doi:10.1002/sim.9170
Bartoš F, Otte WM, Gronau QF, et al. (2023). Empirical prior distributions for Bayesian
    meta-analyses of binary and time-to-event outcomes. arXiv:2306.11468
Bodnar O, Link A, Arendacká B, Possolo A, Elster C (2017). Bayesian estimation in random effects
    meta-analysis using a non-informative prior. Stat Med 36:378-399. doi:10.1002/sim.7156
Friede T, Röver C, Wandel S, Neuenschwander B (2017). Meta-analysis of few small studies in
    orphan diseases. Res Synth Methods 8:79-91. doi:10.1002/jrsm.1217
Gelman A (2006). Prior distributions for variance parameters in hierarchical models. Bayesian
    Anal 1:515-534. doi:10.1214/06-BA117A
"""
from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import special

TAU_FAMILIES = {
    "halfnormal": ("scale",), "halfcauchy": ("scale",), "halfstudentt": ("nu", "scale"),
    "exponential": ("rate",), "uniform": ("upper",), "lognormal_tau2": ("mean", "sd"),
    "logt_tau2": ("loc", "scale", "nu"), "invgamma": ("alpha", "beta"), "jeffreys": (), "flat": (),
}
MU_FAMILIES = {"normal": ("loc", "scale"), "studentt": ("nu", "loc", "scale"), "flat": ()}
CONSTRUCTORS = ("turner2015", "rhodes2015", "bartos2021", "bartos2023", "unit_information")  # literature priors
IMPROPER = {"jeffreys", "flat"}


def _cdf_halfnormal(z):
    from scipy import special

    return special.erf(z / np.sqrt(2))


def _cdf_exponential(z):
    from scipy import special

    return -special.expm1(-z)


def _cdf_uniform(z):
    return np.minimum(z, 1.0)


_CLOSED_CDF = {
    "halfnormal": _cdf_halfnormal,
    "halfcauchy": lambda z: 2.0 / np.pi * np.arctan(z),
    "exponential": _cdf_exponential,
    "uniform": _cdf_uniform,
}
"""Standardised CDFs (z = x / scale > 0) of the tau families whose CDF is elementary, in
scipy.stats' own form (``_cdf`` of halfnorm, halfcauchy, expon and uniform)."""


@dataclass(frozen=True)
class Prior:
    """A prior distribution for ``tau`` or ``mu`` (see the module docstring for the families)."""

    family: str
    params: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    target: str = "tau"
    label: str = ""
    citation: str = ""

    def __post_init__(self):
        fams = TAU_FAMILIES if self.target == "tau" else MU_FAMILIES if self.target == "mu" else None
        if fams is None:
            raise ValueError(f"target must be 'tau' or 'mu', got {self.target!r}")
        if self.family not in fams:
            raise ValueError(f"unknown {self.target} prior family {self.family!r}; "
                             f"choose one of {', '.join(sorted(fams))}")
        need = fams[self.family]
        p = {k: float(v) for k, v in dict(self.params).items()}
        if set(p) != set(need):
            raise ValueError(f"{self.family} prior needs parameters {need}, got {tuple(p)}")
        for k, v in p.items():
            if not np.isfinite(v) or (k in {"scale", "nu", "rate", "upper", "sd", "alpha", "beta"} and v <= 0):
                raise ValueError(f"{self.family} prior: parameter {k} = {v} is not valid")
        object.__setattr__(self, "params", MappingProxyType(p))
        if not self.label:
            object.__setattr__(self, "label", self._default_label())

    # --- description and serialisation -------------------------------------------------
    def _default_label(self) -> str:
        names = {"halfnormal": "half-normal", "halfcauchy": "half-Cauchy", "halfstudentt": "half-Student-t",
                 "exponential": "exponential", "uniform": "uniform", "lognormal_tau2": "log-normal on tau^2",
                 "logt_tau2": "log-t on tau^2", "invgamma": "inverse-gamma", "jeffreys": "Jeffreys (improper)",
                 "flat": "flat (improper)", "normal": "normal", "studentt": "Student-t"}
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{names[self.family]}({args})" if args else names[self.family]

    def __str__(self) -> str:
        s = f"{self.label} on {self.target}"
        return s + (f" [{self.citation}]" if self.citation else "")

    def __hash__(self):
        return hash((self.family, tuple(self.params.items()), self.target, self.label, self.citation))

    def __eq__(self, other):
        return isinstance(other, Prior) and self.to_dict() == other.to_dict()

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "params": dict(self.params), "target": self.target,
                "label": self.label, "citation": self.citation}

    @classmethod
    def from_dict(cls, d: dict) -> Prior:
        return cls(family=d["family"], params=MappingProxyType(dict(d.get("params", {}))),
                   target=d.get("target", "tau"), label=d.get("label", "") or "", citation=d.get("citation", "") or "")

    @property
    def proper(self) -> bool:
        return self.family not in IMPROPER

    @property
    def support(self) -> tuple[float, float]:
        if self.target == "mu":
            return (-np.inf, np.inf)
        return (0.0, self.params["upper"] if self.family == "uniform" else np.inf)

    # --- densities ----------------------------------------------------------------------
    def _scipy(self):
        from scipy import stats  # scipy.stats takes ~1 s to import: only where used (issue 20)

        p = self.params
        f = self.family
        if f == "halfnormal":
            return stats.halfnorm(scale=p["scale"])
        if f == "halfcauchy":
            return stats.halfcauchy(scale=p["scale"])
        if f == "exponential":
            return stats.expon(scale=1.0 / p["rate"])
        if f == "uniform":
            return stats.uniform(0.0, p["upper"])
        if f == "lognormal_tau2":  # log tau = log(tau^2)/2 ~ N(mean/2, (sd/2)^2)
            return stats.lognorm(s=p["sd"] / 2.0, scale=np.exp(p["mean"] / 2.0))
        if f == "invgamma":
            return stats.invgamma(a=p["alpha"], scale=p["beta"])
        if f == "normal":
            return stats.norm(p["loc"], p["scale"])
        if f == "studentt":
            return stats.t(p["nu"], p["loc"], p["scale"])
        return None

    def logpdf(self, x, sei=None):
        """Log density at ``x`` (``sei`` is needed by the Jeffreys prior only)."""
        from scipy import stats

        x = np.asarray(x, dtype=float)
        f, p = self.family, self.params
        if self.target == "tau":
            out = np.full(x.shape, -np.inf)
            ok = x >= 0 if f != "uniform" else (x >= 0) & (x <= p["upper"])
            xs = np.where(ok, x, 1.0)
        else:
            ok, xs, out = np.ones(x.shape, bool), x, np.empty(x.shape)
        if f == "flat":
            val = np.zeros(x.shape)
        elif f == "jeffreys":
            if sei is None:
                raise ValueError("the Jeffreys prior depends on the standard errors: pass sei")
            s2 = np.asarray(sei, dtype=float) ** 2
            t = xs[..., None]
            with np.errstate(divide="ignore"):
                val = 0.5 * np.log(np.sum((t / (s2 + t**2)) ** 2, axis=-1))
        elif f == "halfstudentt":
            val = np.log(2.0) + stats.t.logpdf(xs / p["scale"], p["nu"]) - np.log(p["scale"])
        elif f == "logt_tau2":  # log tau ~ t_nu(loc/2, scale/2)
            pos = xs > 0
            lt = np.log(np.where(pos, xs, 1.0))
            val = np.where(pos, stats.t.logpdf(lt, p["nu"], p["loc"] / 2.0, p["scale"] / 2.0) - lt, -np.inf)
        else:
            val = self._scipy().logpdf(xs)
        return np.where(ok, val, out) if self.target == "tau" else val

    def pdf(self, x, sei=None):
        return np.exp(self.logpdf(x, sei))

    def _require_proper(self):
        if not self.proper:
            raise ValueError(f"{self.label} is improper: it has no CDF, quantiles or draws")

    def cdf(self, x):
        """Prior CDF at ``x`` (proper priors only). The half-normal, half-Cauchy, exponential and
        uniform CDFs are written out as scipy.stats computes them (standardise, then
        ``erf(z / sqrt(2))``, ``2 / pi * arctan(z)``, ``-expm1(-z)``, ``z``: equal to scipy's
        to the last bit, tested), because building scipy's frozen distribution costs ~0.7 ms,
        half of a whole small exact fit, which needs this CDF at the grid's floor
        (:func:`bayesmeta.bayes.batch._tau_floor_mass`)."""
        self._require_proper()
        x = np.asarray(x, dtype=float)
        p = self.params
        closed = _CLOSED_CDF.get(self.family)
        if closed is not None:
            scale = 1.0 / p["rate"] if self.family == "exponential" else p.get("scale", p.get("upper"))
            z = x / scale
            with np.errstate(invalid="ignore"):
                return np.where(np.isnan(z), np.nan, np.where(z > 0, closed(np.maximum(z, 0.0)), 0.0))
        from scipy import stats

        if self.family == "halfstudentt":
            return np.where(x > 0, 2.0 * stats.t.cdf(np.maximum(x, 0) / p["scale"], p["nu"]) - 1.0, 0.0)
        if self.family == "logt_tau2":
            with np.errstate(divide="ignore"):
                return np.where(x > 0, stats.t.cdf(np.log(np.maximum(x, 1e-300)), p["nu"], p["loc"] / 2, p["scale"] / 2), 0.0)
        return self._scipy().cdf(x)

    def ppf(self, q):
        from scipy import stats

        self._require_proper()
        q = np.asarray(q, dtype=float)
        p = self.params
        if self.family == "halfstudentt":
            return p["scale"] * stats.t.ppf((1.0 + q) / 2.0, p["nu"])
        if self.family == "logt_tau2":
            return np.exp(stats.t.ppf(q, p["nu"], p["loc"] / 2, p["scale"] / 2))
        return self._scipy().ppf(q)

    def quantiles(self, probs=(0.025, 0.25, 0.5, 0.75, 0.975)):
        return self.ppf(np.asarray(probs, dtype=float))

    def rvs(self, size, rng=None):
        """Independent draws (inverse-CDF sampling from a seeded generator)."""
        rng = np.random.default_rng(rng)
        return self.ppf(rng.uniform(size=size))

    # --- what a tau prior implies ---------------------------------------------------------
    def implied_i2(self, sei, probs=(0.025, 0.5, 0.975)):
        r"""Quantiles of :math:`I^2 = \tau^2/(\tau^2 + s^2)` implied by the prior, with :math:`s^2`
        the typical within-study variance of Higgins & Thompson (2002, doi:10.1002/sim.1186):
        :math:`s^2 = (k-1)\sum w_i / \{(\sum w_i)^2 - \sum w_i^2\}`, :math:`w_i = 1/s_i^2`."""
        if self.target != "tau":
            raise ValueError("implied I^2 is defined for tau priors")
        w = 1.0 / np.asarray(sei, dtype=float) ** 2
        k = w.size
        s2 = (k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum()) if k > 1 else 1.0 / w.sum()
        t2 = self.ppf(np.asarray(probs, dtype=float)) ** 2  # I^2 is increasing in tau
        return t2 / (t2 + s2)

    def predictive_interval(self, prob=0.95, n_nodes: int = 4000):
        r"""Central interval of :math:`\theta_{new} - \mu \sim N(0, \tau^2)` mixed over the prior.

        :math:`P(\theta_{new}-\mu \le x) = \int \Phi(x/\tau)\,p(\tau)\,d\tau`, computed with
        ``n_nodes`` midpoint quantile nodes of the prior; the interval is symmetric about 0.
        """
        from scipy import optimize

        if self.target != "tau":
            raise ValueError("the predictive interval is defined for tau priors")
        u = (np.arange(n_nodes) + 0.5) / n_nodes
        tau = np.maximum(self.ppf(u), 1e-300)
        target = 0.5 + prob / 2

        def f(x):
            return float(np.mean(special.ndtr(x / tau))) - target

        hi = float(tau[-1]) * 10 + 1.0
        x = optimize.brentq(f, 0.0, hi, xtol=1e-10)
        return (-x, x)


# --- constructors named after the literature ------------------------------------------------

def halfnormal(scale: float, citation: str = "") -> Prior:
    return Prior("halfnormal", MappingProxyType({"scale": scale}), "tau", citation=citation)


def halfcauchy(scale: float, citation: str = "Gelman 2006, doi:10.1214/06-BA117A") -> Prior:
    return Prior("halfcauchy", MappingProxyType({"scale": scale}), "tau", citation=citation)


def normal(loc: float, scale: float, citation: str = "") -> Prior:
    return Prior("normal", MappingProxyType({"loc": loc, "scale": scale}), "mu", citation=citation)


def flat(target: str = "mu") -> Prior:
    return Prior("flat", MappingProxyType({}), target)


_TURNER2015 = {
    # (outcome, comparison): (mean, sd) of log tau^2 on the log-OR scale; Turner et al. 2015 Table IV,
    # as transcribed in the project's reference notes (only these settings are transcribed).
    ("all", "all"): (-2.56, 1.74),
    ("all-cause mortality", "pharmacological vs placebo/control"): (-3.95, 1.34),
    ("adverse events", "pharmacological vs placebo/control"): (-1.87, 1.52),
}


def turner2015(outcome: str = "all", comparison: str = "all") -> Prior:
    """Empirical log-normal prior for tau^2 (log-OR) of Turner et al. (2015), Table IV.

    ``outcome="all", comparison="all"`` is the marginal over all settings, LN(-2.56, 1.74^2).
    Any of the 80 settings of the atlas is accepted with the atlas's wording, e.g.
    ``turner2015("adverse events", "non-pharm vs non-pharm")``. doi:10.1002/sim.6381
    """
    key = (outcome, comparison)
    if key not in _TURNER2015:
        p = _atlas_lookup(f"turner2015.{_slug(outcome)}.{_slug(comparison)}")
        if p is not None:
            return p
        opts = "; ".join(f"outcome={o!r}, comparison={c!r}" for o, c in _TURNER2015)
        raise ValueError(f"turner2015: setting {key} is not available; transcribed settings: {opts}")
    m, s = _TURNER2015[key]
    return Prior("lognormal_tau2", MappingProxyType({"mean": m, "sd": s}), "tau",
                 label=f"Turner 2015 LN({m}, {s}^2) on tau^2 [{outcome}; {comparison}]",
                 citation="Turner et al. 2015, Stat Med 34:984, Table IV, doi:10.1002/sim.6381")


_RHODES2015 = {
    ("all", "all"): (-3.44, 2.59),
    ("general physical health, pain, quality of life", "pharmacological vs placebo/control"): (-3.16, 2.50),
}


def rhodes2015(outcome: str = "all", comparison: str = "all", area: str = "other") -> Prior:
    """Empirical log-t(5) prior for tau^2 (SMD) of Rhodes et al. (2015). Any of the 72 settings of
    the atlas is accepted with the atlas's wording, e.g. ``rhodes2015("general physical
    health/AE/pain/QoL", "non-pharm (any)", area="other")``. doi:10.1016/j.jclinepi.2014.08.012"""
    key = (outcome, comparison)
    if key not in _RHODES2015:
        p = _atlas_lookup(f"rhodes2015.{_slug(area)}.{_slug(outcome)}.{_slug(comparison)}")
        if p is not None:
            return p
        opts = "; ".join(f"outcome={o!r}, comparison={c!r}" for o, c in _RHODES2015)
        raise ValueError(f"rhodes2015: setting {key} is not available; transcribed settings: {opts}")
    loc, scale = _RHODES2015[key]
    return Prior("logt_tau2", MappingProxyType({"loc": loc, "scale": scale, "nu": 5.0}), "tau",
                 label=f"Rhodes 2015 log-t5({loc}, {scale}) on tau^2 [{outcome}; {comparison}]",
                 citation="Rhodes et al. 2015, J Clin Epidemiol 68:52, doi:10.1016/j.jclinepi.2014.08.012")


def bartos2021(parameter: str = "tau", subfield: str = "Cochrane") -> Prior:
    """Cochrane-wide empirical priors for SMD meta-analyses: tau ~ IG(1.71, 0.40), mu ~ t5(0, 0.43);
    ``subfield`` selects a Cochrane review group's row of the atlas (e.g. ``"Back and Neck"``).
    Bartoš et al. 2021, doi:10.1002/sim.9170"""
    if subfield != "Cochrane":
        if parameter not in ("tau", "mu"):
            raise ValueError("parameter must be 'tau' or 'mu'")
        p = _atlas_lookup(f"bartos.{_slug(subfield)}.smd.{'tau' if parameter == 'tau' else 'effect'}")
        if p is None:
            raise ValueError(f"bartos2021: no SMD {parameter} prior for subfield {subfield!r} in the atlas")
        return p
    cit = "Bartos et al. 2021, Stat Med 40:6743, doi:10.1002/sim.9170"
    if parameter == "tau":
        return Prior("invgamma", MappingProxyType({"alpha": 1.71, "beta": 0.40}), "tau", citation=cit)
    if parameter == "mu":
        return Prior("studentt", MappingProxyType({"nu": 5.0, "loc": 0.0, "scale": 0.43}), "mu", citation=cit)
    raise ValueError("parameter must be 'tau' or 'mu'")


_BARTOS2023 = {
    "logOR": {"tau": ("invgamma", {"alpha": 1.77, "beta": 0.55}), "mu": ("studentt", {"nu": 4.0, "loc": 0.0, "scale": 0.58})},
    "logRR": {"tau": ("invgamma", {"alpha": 1.51, "beta": 0.23}), "mu": ("studentt", {"nu": 3.0, "loc": 0.0, "scale": 0.32})},
    "RD": {"tau": ("halfnormal", {"scale": 0.099})},
}


def bartos2023(measure: str = "logOR", parameter: str = "tau", subfield: str = "Cochrane") -> Prior:
    """Cochrane-wide empirical priors for binary outcomes (Bartoš et al. 2023, arXiv:2306.11468);
    ``subfield`` selects a Cochrane review group's row of the atlas (e.g. ``"Back and Neck"``)."""
    if subfield != "Cochrane":
        p = _atlas_lookup(f"bartos.{_slug(subfield)}.{measure.lower()}.{'tau' if parameter == 'tau' else 'effect'}")
        if p is None:
            raise ValueError(f"bartos2023: no {measure} {parameter} prior for subfield {subfield!r} in the atlas")
        return p
    if measure not in _BARTOS2023 or parameter not in _BARTOS2023[measure]:
        raise ValueError(f"bartos2023: available: {[(m, p) for m in _BARTOS2023 for p in _BARTOS2023[m]]}")
    fam, par = _BARTOS2023[measure][parameter]
    return Prior(fam, MappingProxyType(par), parameter,
                 citation=f"Bartos et al. 2023, arXiv:2306.11468 ({measure})")


def unit_information(measure: str) -> Prior:
    """Unit-information prior for mu: log-OR N(0, 4^2), log-RR N(0, 2^2) (Röver 2020, appendix A)."""
    sd = {"logOR": 4.0, "OR": 4.0, "logRR": 2.0, "RR": 2.0}.get(measure)
    if sd is None:
        raise ValueError("unit_information: defined for 'logOR' and 'logRR'")
    return Prior("normal", MappingProxyType({"loc": 0.0, "scale": sd}), "mu",
                 label=f"unit-information N(0, {sd:g}^2)", citation="Roever 2020, J Stat Softw 93(6), appendix A")


def parse_prior(text: str, target: str) -> Prior:
    """Build a prior from its text, the one prior syntax of specs and the command line:
    ``family(args)`` or a literature constructor (docs/spec.md).

    Positional arguments follow the family's parameter order (``halfnormal(scale)``,
    ``normal(loc, scale)``, ``studentt(nu, loc, scale)``, ...); keywords name them. Raises
    ``ValueError`` with a message saying what was expected.

    Examples
    --------
    >>> parse_prior("halfnormal(0.5)", "tau").params["scale"]
    0.5
    >>> parse_prior("studentt(nu=5, loc=0, scale=0.43)", "mu").family
    'studentt'
    """
    fams = TAU_FAMILIES if target == "tau" else MU_FAMILIES
    head, sep, rest = text.strip().partition("(")
    if sep and head.strip() and not head.strip().isidentifier():  # half-normal(0.5), Half Normal(0.5)
        squashed = re.sub(r"[^a-z0-9]", "", head.lower())
        close = [n for n in (*fams, *CONSTRUCTORS) if n == squashed] or difflib.get_close_matches(
            squashed, [*fams, *CONSTRUCTORS], n=1
        )
        if close:
            raise ValueError(
                f"cannot read {text!r}: {head.strip()!r} is not a prior family; did you mean {close[0]!r}? "
                f"Write {close[0]}({rest}"
            )
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(
            f"cannot read {text!r}: write the prior as family(parameters), "
            f"e.g. {'halfnormal(0.5)' if target == 'tau' else 'normal(0, 1)'}"
        ) from None
    if isinstance(node, ast.Name):
        node = ast.Call(func=node, args=[], keywords=[])
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise ValueError(f"cannot read {text!r}: write the prior as family(parameters)")
    name = node.func.id
    try:
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg is not None}
    except ValueError:
        raise ValueError(f"cannot read the arguments of {text!r}: use numbers and quoted strings") from None
    if name in CONSTRUCTORS:
        fn = globals()[name]
        if name in ("bartos2021", "bartos2023") and "parameter" not in kwargs:
            kwargs["parameter"] = target
        prior = fn(*args, **kwargs)
        if prior.target != target:
            raise ValueError(f"{text!r} is a prior on {prior.target}, but a prior on {target} is needed here")
        return prior
    if name not in fams:
        close = difflib.get_close_matches(name, [*fams, *CONSTRUCTORS], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown {target} prior family {name!r}{hint} Families: {', '.join(fams)}; "
            f"literature priors: {', '.join(CONSTRUCTORS)}"
        )
    need = fams[name]
    if len(args) > len(need):
        raise ValueError(f"{name} takes {len(need)} parameter(s) {need}, got {len(args)} in {text!r}")
    params = dict(zip(need, args))
    for k, v in kwargs.items():
        if k not in need:
            raise ValueError(f"{name} has no parameter {k!r}; its parameters are {need}")
        if k in params:
            raise ValueError(f"{name}: parameter {k!r} given twice in {text!r}")
        params[k] = v
    missing = [k for k in need if k not in params]
    if missing:
        raise ValueError(
            f"{name} needs {', '.join(missing)} (parameters {need}), e.g. "
            f"{name}({', '.join(f'{k}=...' for k in need)})"
        )
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"{name}: parameter {k} must be a number, got {v!r}")
    return Prior(name, MappingProxyType({k: float(v) for k, v in params.items()}), target)


def _slug(text: str) -> str:
    from bayesmeta.bayes.prior_atlas import slug
    return slug(text)


def _atlas_lookup(name: str) -> Prior | None:
    from bayesmeta.bayes import prior_atlas
    # constructors are used by specs, which pair inverse-gamma tau priors with a tau = 0 model in the
    # model averaging and flag them in the tables; direct from_atlas calls warn
    return prior_atlas.from_atlas(name, warn=False) if name in prior_atlas.names() else None


# --- the atlas of empirical priors (tables and lookup in :mod:`bayesmeta.bayes.prior_atlas`) ---

def atlas():
    """Every empirical prior of the atlas as a DataFrame (Turner 2015, Rhodes 2015, Bartos
    Cochrane subfields, Roever 2021 defaults) with quantiles and implied I^2; see
    :mod:`bayesmeta.bayes.prior_atlas`."""
    from bayesmeta.bayes import prior_atlas
    return prior_atlas.atlas()


def from_atlas(name: str, warn: bool = True) -> Prior:
    """The atlas prior called ``name`` (e.g. ``"bartos.back_and_neck.smd.tau"``); warns for
    inverse-gamma tau priors and flagged source values. See :mod:`bayesmeta.bayes.prior_atlas`."""
    from bayesmeta.bayes import prior_atlas
    return prior_atlas.from_atlas(name, warn=warn)


def describe(prior: Prior, sei=None, measure: str | None = None) -> str:
    """Quantiles of a prior and, for tau, its implied I^2 (see :func:`prior_atlas.describe`)."""
    from bayesmeta.bayes import prior_atlas
    return prior_atlas.describe(prior, sei=sei, measure=measure)
