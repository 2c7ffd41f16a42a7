"""Adapters from results to the report's figure functions, returning matplotlib Axes.

The drawing is :mod:`bayesmeta.report.figures` (the report's figures); each function here
collects what a result holds (study estimates and intervals, posterior densities on a grid,
P(non-inferior) over margins) into that module's arguments and returns the main ``Axes``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bayesmeta.decide.decision import Orientation, margin_grid, marginal, noninferiority_curve
from bayesmeta.effects.measures import get_measure
from bayesmeta.report import figures as F

__all__ = ["forest", "funnel", "noninferiority", "posterior"]


def _main_axes(fig: Any) -> Any:
    """The axes a figure draws its data on (the one with an x label; else the first)."""
    labelled = [a for a in fig.axes if a.get_xlabel()]
    return labelled[0] if labelled else fig.axes[0]


def _kind(obj: Any) -> str:
    if hasattr(obj, "not_estimable") and hasattr(obj, "yi") and hasattr(obj, "study"):
        return "table"
    if hasattr(obj, "theta_new") and hasattr(obj, "tau_prior"):
        return "exact"
    if hasattr(obj, "tree") and hasattr(obj, "diagnostics"):
        return "sampled"
    if hasattr(obj, "tau2") and hasattr(obj, "ci_lb") and hasattr(obj, "yi"):
        return "rma"
    raise TypeError(
        f"cannot plot a {type(obj).__name__}: pass an EffectTable (bm.escalc, bm.read_csv), a frequentist fit "
        "(bm.rma) or a posterior (bm.solve, bm.sample)"
    )


def _labels(obj: Any, k: int) -> list[str]:
    lab = list(getattr(obj, "labels", ()) or ())
    return lab if len(lab) == k else [f"study {i + 1}" for i in range(k)]


def forest(obj: Any, *, measure: str | None = None, level: float = 0.95,
           favours: tuple[str, str] = ("favours experimental", "favours control"),
           title: str | None = None, margin: float | None = None) -> Any:
    """Forest plot of an EffectTable, a frequentist fit or a posterior.

    Parameters
    ----------
    obj : EffectTable, RMAResult, exact posterior or BayesResult
        Studies with ``level`` Wald intervals; a fit adds the pooled estimate (and prediction
        interval); a posterior adds the shrunken study effects, mu and theta_new (``level``
        highest-density intervals for the exact posterior, equal-tailed for draws).
    measure : str, optional
        The measure (default: the object's; ratio measures are drawn on a log axis as ratios).
    level : float
        Interval probability (0.95).
    favours : (str, str)
        Labels left and right of the null line.
    title : str, optional
    margin : float, optional
        A non-inferiority margin as printed, drawn as a vertical line.

    Returns
    -------
    matplotlib.axes.Axes
    """
    kind = _kind(obj)
    code = measure or getattr(obj, "measure", None) or "GEN"
    m = get_measure(code)
    ratio = m.ratio
    bt = np.exp if ratio else (lambda x: np.asarray(x, dtype=float))
    z = stats.norm.ppf(0.5 + level / 2)
    pct = f"{100 * level:g}%"
    if kind == "table":
        t = obj.complete()
        yi, sei, labels = t.yi, t.sei, list(t.labels)
    elif kind == "exact":
        yi, sei = np.asarray(obj.yi, float), np.asarray(obj.sei, float)
        labels = _labels(obj, yi.size)
    elif kind == "sampled":
        od = obj.tree["observed_data"].to_dataset()
        if "y" not in od or "sei" not in od:
            raise TypeError("this sampled model has no study estimates (y, sei) to draw; plot its EffectTable")
        yi, sei = od["y"].to_numpy(), od["sei"].to_numpy()
        labels = list(obj.labels)
    else:
        yi, sei = np.asarray(obj.yi, float), np.sqrt(np.asarray(obj.vi, float))
        labels = _labels(obj, yi.size)
    rows = [{"label": lab, "kind": "observed", "estimate": bt(y), "lb": bt(y - z * s), "ub": bt(y + z * s)}
            for lab, y, s in zip(labels, yi, sei)]
    if kind == "exact":
        for i, lab in enumerate(labels):
            th = obj.theta(i)
            lo, hi = th.interval(level, "hdi")
            rows.append({"label": f"{lab} (shrunken)", "kind": "shrunken", "estimate": bt(th.median()),
                         "lb": bt(lo), "ub": bt(hi)})
        for name, k_ in (("mu", "posterior"), ("theta_new", "predictive")):
            d = getattr(obj, name)
            lo, hi = d.interval(level, "hdi")
            rows.append({"label": f"{name} ({pct} HDI)", "kind": k_, "estimate": bt(d.median()),
                         "lb": bt(lo), "ub": bt(hi)})
    elif kind == "sampled":
        for name, k_ in (("mu", "posterior"), ("theta_new", "predictive")):
            if name in obj.posterior:
                x = obj.draws(name)
                lo, med, hi = np.quantile(x, [(1 - level) / 2, 0.5, (1 + level) / 2])
                rows.append({"label": f"{name} ({pct} ETI)", "kind": k_, "estimate": bt(med),
                             "lb": bt(lo), "ub": bt(hi)})
    elif kind == "rma":
        rows.append({"label": f"{obj.method} pooled ({pct} CI)", "kind": "pooled", "estimate": bt(obj.mu),
                     "lb": bt(obj.ci_lb), "ub": bt(obj.ci_ub)})
        if not obj.common_effect and obj.k >= 3:
            p = obj.predict(level=level)
            rows.append({"label": f"prediction ({pct} PI)", "kind": "predictive", "estimate": bt(p["pred"]),
                         "lb": bt(p["pi_lb"]), "ub": bt(p["pi_ub"])})
    frame = pd.DataFrame(rows)
    fig = F.forest(frame, xlabel=m.reported_label, favours=favours, null=m.null_reported, title=title, log=ratio,
                   margin=margin)
    return _main_axes(fig)


def funnel(obj: Any, *, measure: str | None = None, min_k: int = 10, title: str | None = None) -> Any:
    """Funnel plot of an EffectTable or a frequentist fit (study effects against their SEs).

    The pseudo 95% region is centred on the fit's estimate, or for a table on the common-effect
    (inverse-variance) estimate. Needs ``min_k`` studies (10, Sterne et al. 2011,
    doi:10.1136/bmj.d4002).

    Returns
    -------
    matplotlib.axes.Axes
    """
    kind = _kind(obj)
    if kind not in ("table", "rma"):
        raise TypeError("bm.plot.funnel takes an EffectTable or a frequentist fit (bm.rma)")
    if kind == "table":
        t = obj.complete()
        yi, sei = np.asarray(t.yi), np.asarray(t.sei)
        w = 1 / sei**2
        mu = float(np.sum(w * yi) / np.sum(w))
    else:
        yi, sei, mu = np.asarray(obj.yi, float), np.sqrt(np.asarray(obj.vi, float)), float(obj.mu)
    m = get_measure(measure or getattr(obj, "measure", None) or "GEN")
    fig = F.funnel(yi, sei, mu=mu, xlabel=m.reported_label if m.ratio else m.label, ratio=m.ratio, title=title,
                   min_k=min_k)
    return _main_axes(fig)


def posterior(post: Any, parameter: str = "mu", *, measure: str | None = None, prior: bool = True,
              title: str | None = None, marks: dict[str, float] | None = None) -> Any:
    """Posterior density of ``parameter`` (``"mu"``, ``"tau"``, ``"theta_new"``) with its prior.

    The exact posterior is drawn from its exact density on a grid; sampled draws by a Gaussian
    kernel density estimate. The prior (dashed) is drawn when it is proper and ``prior=True``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    kind = _kind(post)
    if kind not in ("exact", "sampled"):
        raise TypeError("bm.plot.posterior takes a posterior (bm.solve or bm.sample)")
    d = marginal(post, parameter)
    if hasattr(d, "pdf") and hasattr(d, "ppf"):
        lo, hi = (float(v) for v in d.ppf(np.array([0.0005, 0.9995])))
        if parameter == "tau":
            lo = 0.0
        x = np.linspace(lo, hi, 400)
        dens = np.asarray(d.pdf(x), dtype=float)
    else:
        draws = np.asarray(d, dtype=float).ravel()
        lo, hi = np.quantile(draws, [0.0005, 0.9995])
        x = np.linspace(0.0 if parameter == "tau" else lo, hi, 400)
        dens = stats.gaussian_kde(draws)(x)
    pri = None
    pri_obj = None
    if kind == "exact":
        pri_obj = post.tau_prior if parameter == "tau" else post.mu_prior if parameter == "mu" else None
    else:
        from bayesmeta.bayes.priors import Prior

        spec = post.priors.get("tau" if parameter == "tau" else "mu") if parameter in ("tau", "mu") else None
        pri_obj = Prior.from_dict(spec) if spec else None
    if prior and pri_obj is not None and pri_obj.proper:
        pri = np.asarray(pri_obj.pdf(x), dtype=float)
    label = str(pri_obj) if pri_obj is not None else parameter
    code = measure or getattr(post, "measure", None) or "GEN"
    m = get_measure(code) if parameter != "tau" else None
    xlabel = parameter if m is None else f"{parameter} ({m.label})"
    fig = F.prior_posterior(x, {label: (pri, dens)}, xlabel=xlabel, title=title,
                            ratio=bool(m is not None and m.ratio), marks=marks)
    return _main_axes(fig)


def noninferiority(post: Any, *, margin: float, orientation: Orientation, threshold: float = 0.95,
                   parameter: str = "mu", title: str | None = None) -> Any:
    """P(non-inferior) against the margin, with the chosen margin and the decision threshold.

    Parameters
    ----------
    post : posterior object, marginal or draws
    margin : float
        The margin as printed (a ratio on the harmful side for ratio measures).
    orientation : Orientation
    threshold : float
        The decision threshold drawn as a horizontal line (0.95).

    Returns
    -------
    matplotlib.axes.Axes
    """
    if not isinstance(orientation, Orientation):
        raise TypeError("bm.plot.noninferiority needs orientation=bm.Orientation(lower_is_better=...)")
    largest = 2.0 * float(orientation.to_analysis_scale(margin))
    curve = noninferiority_curve(post, orientation, margin_grid(orientation, max(largest, 1e-3)), parameter=parameter)
    unit = f"{orientation.measure} (ratio on the harmful side)" if orientation.is_ratio else orientation.measure
    fig = F.noninferiority_curves({"posterior": curve}, margin=margin, threshold=threshold,
                                  xlabel=f"non-inferiority margin, {unit}", title=title, log=orientation.is_ratio)
    return _main_axes(fig)
