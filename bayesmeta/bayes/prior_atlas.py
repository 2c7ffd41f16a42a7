r"""An atlas of empirical priors, selectable by name.

Every setting of Turner et al. (2015, 80 log-OR tau^2 priors), Rhodes et al. (2015, 72 SMD tau^2
priors), the Cochrane subfield priors of Bartoš et al. (2021, 2023; effect and heterogeneity for
SMD, log OR, log RR, RD and log HR) and the unit-information defaults of Röver et al. (2021) as
RoBMA uses them. The tables are package data (``bayesmeta/bayes/atlas/*.csv``; sources in the
README there) and are read, never edited, here.

Names are dotted, lower case, with non-alphanumerics as ``_``:

=============  ==========================================================  ==========================
source         name                                                         example
=============  ==========================================================  ==========================
Turner 2015    ``turner2015.<outcome>.<comparison>``                        ``turner2015.all_cause_mortality.pharm_vs_placebo_control``
Rhodes 2015    ``rhodes2015.<area>.<outcome>.<comparison>``                 ``rhodes2015.other.general_physical_health_ae_pain_qol.non_pharm_any``
Bartoš         ``bartos.<subfield>.<measure>.<effect|tau>``                 ``bartos.back_and_neck.smd.tau``
Röver 2021     ``roever2021.<measure>.<mu|tau>``                            ``roever2021.smd.tau``
=============  ==========================================================  ==========================

Each prior is reported with its quantiles and, for tau, the implied :math:`I^2 = \tau^2/(\tau^2 +
s^2)` at a stated reference within-study SE :math:`s` for its measure (:data:`REFERENCE_SE`: a
study of 100 participants in two equal arms, SMD near 0 or risks of 50%, 50 events for log HR), or
at the standard errors of the user's studies (:func:`describe`).

Inverse-gamma tau priors have almost no mass near tau = 0: they rule out homogeneity a priori.
RoBMA always pairs them with a tau = 0 model; :func:`from_atlas` warns when one is selected (use
:mod:`bayesmeta.bayes.model_averaging`, which averages over tau = 0 and tau > 0).

References
----------
Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Stat Med 34:984-998. doi:10.1002/sim.6381
Rhodes KM, Turner RM, Higgins JPT (2015). J Clin Epidemiol 68:52-60. doi:10.1016/j.jclinepi.2014.08.012
Bartoš F, Gronau QF, Timmers B, Otte WM, Ly A, Wagenmakers EJ (2021). Stat Med 40:6743-6761.
    doi:10.1002/sim.9170
Bartoš F, Otte WM, Gronau QF, et al. (2023). Empirical prior distributions for Bayesian
    meta-analyses of binary and time-to-event outcomes. arXiv:2306.11468
Röver C, Bender R, Dias S, et al. (2021). On weakly informative prior distributions for the
    heterogeneity parameter in Bayesian random-effects meta-analysis. Res Synth Methods 12:448-474.
    doi:10.1002/jrsm.1475
Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Stat Med
    21:1539-1558. doi:10.1002/sim.1186

Examples
--------
>>> from bayesmeta.bayes import priors
>>> p = priors.from_atlas("rhodes2015.other.general_physical_health_ae_pain_qol.pharm_vs_placebo_control")
>>> round(float(p.params["loc"]), 2)
-3.16
"""
from __future__ import annotations

import re
import warnings
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

import numpy as np
import pandas as pd

from bayesmeta.bayes.priors import Prior

#: Reference within-study SE per measure used for the implied I^2 column of :func:`atlas`:
#: a study of 100 participants in two arms of 50 (closed-form large-sample variances).
REFERENCE_SE = {
    "SMD": 0.2,        # var(d) ~ (n1+n2)/(n1 n2) = 4/100 at d = 0
    "logOR": 0.4,      # 1/a+1/b+1/c+1/d = 16/100 at risks of 50%
    "logRR": 0.2,      # (1-p1)/(n1 p1) + (1-p2)/(n2 p2) = 4/100 at risks of 50%
    "RD": 0.1,         # p1(1-p1)/n1 + p2(1-p2)/n2 = 1/100 at risks of 50%
    "logHR": 0.2828,   # 4/events with 50 events
    "fisher_z": 0.1015,  # 1/(n-3)
}

TYPO_NOTE = ("likely typo in the source: location -3.85 is very probably -2.85 (every other "
             "non-pharmacological cell sits about +0.14 above its row's pharmacological-vs-placebo "
             "cell); the source's value is kept")
INVGAMMA_NOTE = ("inverse-gamma tau prior: almost no mass near tau = 0, so it rules out homogeneity "
                 "a priori; pair it with a tau = 0 model (bayesmeta.bayes.model_averaging)")

_CIT = {
    "turner2015": "Turner et al. 2015, Stat Med 34:984, Table IV, doi:10.1002/sim.6381",
    "rhodes2015": "Rhodes et al. 2015, J Clin Epidemiol 68:52, doi:10.1016/j.jclinepi.2014.08.012",
    "bartos": ("Bartos et al. 2021, Stat Med 40:6743, doi:10.1002/sim.9170; Bartos et al. 2023, "
               "arXiv:2306.11468 (BayesTools priors-informed.R)"),
    "roever2021": "Roever et al. 2021, Res Synth Methods 12:448, doi:10.1002/jrsm.1475 (as RoBMA 4 uses it)",
}
_BARTOS_MEASURES = {"smd": "SMD", "logor": "logOR", "logrr": "logRR", "rd": "RD", "loghr": "logHR"}


def slug(text: str) -> str:
    """Lower case, runs of non-alphanumerics as one ``_`` (the atlas's naming rule)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _read(name: str) -> pd.DataFrame:
    with resources.files("bayesmeta.bayes").joinpath("atlas", name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


_PARSE = re.compile(r"^\s*(t|invgamma|half-normal)\((.*)\)\s*$")


def _parse_bayestools(text: str) -> tuple[str, dict[str, float]]:
    m = _PARSE.match(text)
    if not m:
        raise ValueError(f"atlas: cannot parse BayesTools prior {text!r}")
    args = {k.strip(): float(v) for k, v in (a.split("=") for a in m.group(2).split(","))}
    if m.group(1) == "t":
        return "studentt", {"nu": args["df"], "loc": args["location"], "scale": args["scale"]}
    if m.group(1) == "invgamma":
        return "invgamma", {"alpha": args["shape"], "beta": args["scale"]}
    return "halfnormal", {"scale": args["sd"]}


@lru_cache(maxsize=1)
def _entries() -> tuple[dict, ...]:
    rows: list[dict] = []
    for r in _read("turner2015.csv").to_dict("records"):
        rows.append({"name": f"turner2015.{slug(r['outcome'])}.{slug(r['comparison'])}", "source": "turner2015",
                         "measure": "logOR", "parameter": "tau", "family": "lognormal_tau2",
                         "params": {"mean": float(r["mu_log_tau2"]), "sd": float(r["sigma_log_tau2"])},
                         "setting": f"{r['outcome']}; {r['comparison']}", "note": ""})
    for r in _read("rhodes2015.csv").to_dict("records"):
        typo = (r["area"], r["outcome"], r["comparison"]) == ("other", "mental health", "non-pharm (any)")
        rows.append({"name": f"rhodes2015.{slug(r['area'])}.{slug(r['outcome'])}.{slug(r['comparison'])}",
                         "source": "rhodes2015", "measure": "SMD", "parameter": "tau", "family": "logt_tau2",
                         "params": {"loc": float(r["location_log_tau2"]), "scale": float(r["scale_log_tau2"]), "nu": 5.0},
                         "setting": f"{r['area']}; {r['outcome']}; {r['comparison']}", "note": TYPO_NOTE if typo else ""})
    for r in _read("bartos_cochrane.csv").to_dict("records"):
        for col, measure in _BARTOS_MEASURES.items():
            for part, parameter in (("effect", "mu"), ("tau", "tau")):
                cell = r[f"{col}_{part}"].strip()
                if not cell:
                    continue
                fam, par = _parse_bayestools(cell)
                rows.append({"name": f"bartos.{slug(r['subfield'])}.{col}.{part}", "source": "bartos",
                                 "measure": measure, "parameter": parameter, "family": fam, "params": par,
                                 "setting": f"{r['subfield']}; {measure}",
                                 "note": INVGAMMA_NOTE if fam == "invgamma" else ""})
    for r in _read("roever2021.csv").to_dict("records"):
        m = r["measure"]
        rows.append({"name": f"roever2021.{slug(m)}.mu", "source": "roever2021", "measure": m, "parameter": "mu",
                         "family": "normal", "params": {"loc": 0.0, "scale": float(r["mu_sd"])},
                         "setting": f"{m}; UISD {float(r['uisd']):.4g}", "note": r["note"]})
        rows.append({"name": f"roever2021.{slug(m)}.tau", "source": "roever2021", "measure": m, "parameter": "tau",
                         "family": "halfnormal", "params": {"scale": float(r["tau_scale"])},
                         "setting": f"{m}; UISD {float(r['uisd']):.4g}", "note": r["note"]})
    names = [e["name"] for e in rows]
    dup = {n for n in names if names.count(n) > 1}
    if dup:  # a naming collision would make a name ambiguous: fail loudly
        raise RuntimeError(f"atlas: duplicate prior names {sorted(dup)}")
    return tuple(rows)


def _label(e: dict) -> str:
    p = e["params"]
    f = e["family"]
    if f == "lognormal_tau2":
        d = f"log tau^2 ~ N({p['mean']:g}, {p['sd']:g}^2)"
    elif f == "logt_tau2":
        d = f"log tau^2 ~ t5({p['loc']:g}, {p['scale']:g})"
    elif f == "studentt":
        d = f"mu ~ t{p['nu']:g}({p['loc']:g}, {p['scale']:g})"
    elif f == "invgamma":
        d = f"tau ~ IG({p['alpha']:g}, {p['beta']:g})"
    elif f == "halfnormal":
        d = f"tau ~ HN({p['scale']:g})"
    else:
        d = f"mu ~ N({p['loc']:g}, {p['scale']:g}^2)"
    return f"{e['name']}: {d}"


def _prior(e: dict) -> Prior:
    return Prior(e["family"], MappingProxyType(dict(e["params"])), e["parameter"], label=_label(e),
                 citation=_CIT[e["source"]] + (f"; {e['setting']}" if e["setting"] else ""))


def names() -> list[str]:
    """All atlas names."""
    return [e["name"] for e in _entries()]


def from_atlas(name: str, warn: bool = True) -> Prior:
    """The atlas prior called ``name`` (see :func:`atlas` for the list).

    Warns (``UserWarning``) for an inverse-gamma tau prior (it excludes tau near 0) and for the
    flagged Rhodes cell with a likely typo, unless ``warn=False``.
    """
    for e in _entries():
        if e["name"] == name:
            if warn and e["note"] and (e["family"] == "invgamma" or e["note"] == TYPO_NOTE):
                warnings.warn(f"{name}: {e['note']}", UserWarning, stacklevel=2)
            return _prior(e)
    close = [n for n in names() if all(part in n for part in slug(name).split("_")[:2])][:5]
    hint = f"; close names: {', '.join(close)}" if close else "; list them with bayesmeta.bayes.priors.atlas()"
    raise KeyError(f"no prior called {name!r} in the atlas{hint}")


def describe(prior: Prior, sei=None, measure: str | None = None,
             probs=(0.025, 0.25, 0.5, 0.75, 0.975)) -> str:
    """Quantiles of ``prior`` and, for tau, its implied I^2 at ``sei`` (the studies' standard
    errors) or, if not given, at :data:`REFERENCE_SE` of ``measure``."""
    probs = tuple(float(p) for p in probs)
    lines = [str(prior)]
    if not prior.proper:
        return lines[0] + "\n  improper: no quantiles"
    q = prior.quantiles(probs)
    lines.append("  quantiles: " + ", ".join(f"{100 * p:g}%: {v:.4g}" for p, v in zip(probs, q)))
    if prior.target == "tau":
        if sei is None:
            if measure not in REFERENCE_SE:
                return "\n".join(lines)
            sei, where = [REFERENCE_SE[measure]] * 2, f"reference SE {REFERENCE_SE[measure]:g} ({measure})"
        else:
            where = "the studies' standard errors"
        i2 = prior.implied_i2(sei, probs=probs)
        lines.append(f"  implied I^2 at {where}: " + ", ".join(f"{100 * p:g}%: {100 * v:.1f}%" for p, v in zip(probs, i2)))
        lines.append(f"  P(tau < 0.05) = {float(prior.cdf(0.05)):.3g}")
    return "\n".join(lines)


def atlas() -> pd.DataFrame:
    """Every atlas prior: name, source, measure, parameter, family, parameters, setting, note,
    quantiles (2.5%, 50%, 97.5%) and, for tau, the implied I^2 at :data:`REFERENCE_SE` and
    P(tau < 0.05)."""
    out = []
    for e in _entries():
        p = _prior(e)
        q = p.quantiles((0.025, 0.5, 0.975))
        row = {"name": e["name"], "source": e["source"], "measure": e["measure"], "parameter": e["parameter"],
                   "family": e["family"], "params": ", ".join(f"{k}={v:g}" for k, v in e["params"].items()),
                   "setting": e["setting"], "q025": q[0], "q50": q[1], "q975": q[2],
                   "i2_q025": np.nan, "i2_q50": np.nan, "i2_q975": np.nan, "reference_se": np.nan, "p_tau_below_005": np.nan,
                   "note": e["note"], "citation": p.citation}
        if e["parameter"] == "tau":
            s = REFERENCE_SE[e["measure"]]
            i2 = p.implied_i2([s, s], probs=(0.025, 0.5, 0.975))
            row.update(i2_q025=i2[0], i2_q50=i2[1], i2_q975=i2[2], reference_se=s,
                       p_tau_below_005=float(p.cdf(0.05)))
        out.append(row)
    return pd.DataFrame(out)


#: The effect measures (registry codes) an empirical prior's measure was estimated on.
_FITS = {"SMD": ("SMD", "SMD_revman"), "logOR": ("OR",), "logRR": ("RR",), "RD": ("RD",), "logHR": ("HR",)}
_NAMES = {"SMD": "standardised mean differences", "logOR": "log odds ratios", "logRR": "log risk ratios",
          "RD": "risk differences", "logHR": "log hazard ratios", "fisher_z": "Fisher z correlations"}


def prior_measure(prior: Prior) -> str | None:
    """The measure an empirical (or unit-information) prior was made for, or ``None`` for a generic one.

    ``"logOR"`` (Turner 2015, Bartoš 2023 logOR), ``"SMD"`` (Rhodes 2015, Bartoš 2021), ``"logRR"``,
    ``"RD"``, ``"logHR"``; atlas priors carry their measure; generic families (``halfnormal(0.5)``)
    give ``None``.

    Examples
    --------
    >>> from bayesmeta.bayes import priors
    >>> prior_measure(priors.turner2015()), prior_measure(priors.rhodes2015()), prior_measure(priors.halfnormal(0.5))
    ('logOR', 'SMD', None)
    """
    label, cit = prior.label or "", prior.citation or ""
    name = label.split(":", 1)[0]
    for e in _entries():
        if e["name"] == name:
            return str(e["measure"])
    if cit.startswith("Turner et al. 2015"):
        return "logOR"
    if cit.startswith("Rhodes et al. 2015") or cit.startswith("Bartos et al. 2021"):
        return "SMD"
    m = re.match(r"Bartos et al\. 2023, arXiv:2306\.11468 \((\w+)\)", cit)
    if m:
        return m.group(1)
    if label.startswith("unit-information"):
        return {4.0: "logOR", 2.0: "logRR"}.get(float(prior.params.get("scale", 0.0)))
    return None


def measure_mismatch(prior: Prior, measure: str) -> str | None:
    """Why ``prior`` does not fit data on ``measure`` (a registry code), or ``None`` when it fits.

    An empirical heterogeneity prior is a statement about tau on one scale: Turner's log-OR
    priors put tau on the log odds-ratio scale, Rhodes' on the SMD scale; on another measure its
    numbers mean something else (tau of log RR is smaller than of log OR for the same trials; an
    SMD tau has no units of an MD). ``GEN`` (a generic effect) is never checked.
    """
    pm = prior_measure(prior)
    if pm is None or measure == "GEN" or measure in _FITS.get(pm, ()):
        return None
    what = prior.label.split(":", 1)[0] if prior.label else f"{prior.family}{dict(prior.params)}"
    src = prior.citation.split(",")[0] if prior.citation else what
    return (
        f"{what} ({src}) is an empirical {prior.target} prior for {_NAMES.get(pm, pm)} ({pm}), but the data's "
        f"measure is {measure}: its scale does not carry over; use a prior made for {measure} or a generic one "
        "(e.g. halfnormal(0.5))"
    )
