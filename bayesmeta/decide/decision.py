r"""Decision quantities: probability of non-inferiority, benefit, harm, practical equivalence.

Every quantity is a posterior probability about an effect on the analysis scale (SMD, MD, log RR,
log OR, RD) of *experimental minus control* (ratio experimental/control). The orientation of the
outcome says which side favours the experimental arm:

* ``lower_is_better=True`` (pain, disability, complications): a negative effect favours the
  experimental arm; the harmful side is positive.
* ``lower_is_better=False`` (response, satisfaction): the opposite.

Non-inferiority with margin :math:`\delta > 0` (on the harmful side) is
:math:`P(\text{effect} < \delta)` when lower is better and :math:`P(\text{effect} > -\delta)`
otherwise (Spiegelhalter, Abrams & Myles 2004, ch. 6; Zampieri et al. 2021,
doi:10.1164/rccm.202006-2381CP).

A posterior is a posterior object (the exact posterior of :func:`bayesmeta.solve`, a sampled
:class:`~bayesmeta.bayes.result.BayesResult`: their ``mu`` is used unless ``parameter=`` says
otherwise), one marginal with a ``cdf`` (the exact marginals of :mod:`bayesmeta.bayes.exact`, a
frozen ``scipy.stats`` distribution) or an array of draws.

Every function takes ``(posterior, orientation, ...)`` in that order, then its own argument
(``margin``, ``margins``, ``half_width``): ``bm.prob_benefit(post, o)``,
``bm.prob_noninferior(post, o, 1.25)``, ``bm.noninferiority_curve(post, o, margins)``. The older
order with the orientation last (``prob_noninferior(post, 1.25, o)``) still works: an
:class:`Orientation` is recognised wherever it is passed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesmeta.effects.measures import RATIO_MEASURES


@dataclass(frozen=True)
class Orientation:
    """Which direction of the effect favours the experimental arm.

    Parameters
    ----------
    lower_is_better : bool
        True when a lower outcome value is better (pain, ODI, complications).
    measure : str
        Effect measure; ratio measures (RR, OR, HR) are analysed on the log scale.
    experimental, control : str
        Arm labels used in printed statements (from the spec or the data; the library has no
        default names beyond the generic "experimental" and "control").
    superiority_threshold : float, optional
        The effect that counts as a benefit, as printed and on the beneficial side: a ratio below 1
        when lower is better (RR 0.8: benefit is RR < 0.8), above 1 otherwise; for differences a
        positive distance toward benefit (SMD 0.1 with lower is better: benefit is SMD < -0.1).
        None (default): the null (RR 1, difference 0). Used by :func:`prob_benefit`; P(harm) is
        always measured from the null.
    """

    lower_is_better: bool
    measure: str = "SMD"
    experimental: str = "experimental"
    control: str = "control"
    superiority_threshold: float | None = None

    @property
    def harmful_sign(self) -> int:
        """+1 when a positive effect harms the experimental arm, else -1."""
        return 1 if self.lower_is_better else -1

    @property
    def is_ratio(self) -> bool:
        return self.measure.upper() in RATIO_MEASURES

    def to_analysis_scale(self, margin, symmetric: bool = False):
        """A margin as printed -> analysis-scale magnitude.

        For ratio measures the margin is the ratio on the harmful side: at or above 1 when lower is
        better (RR 1.25: up to 25% more events with the experimental arm), at or below 1 otherwise
        (RR 0.8 for a response). A ratio on the other side raises ``ValueError`` instead of being
        silently mirrored (an RR margin 0.8 is not the same statement as 1.25). ``symmetric=True``
        (half-widths of a ROPE or an equivalence region) accepts either side.
        """
        margin = np.asarray(margin, dtype=float)
        if self.is_ratio:
            if np.any(margin <= 0):
                raise ValueError("ratio margins must be positive")
            if not symmetric:
                wrong = margin[margin < 1] if self.lower_is_better else margin[margin > 1]
                if wrong.size:
                    side = "at or above 1" if self.lower_is_better else "at or below 1"
                    raise ValueError(
                        f"{self.measure} margin {wrong[0]:g} is on the beneficial side: with "
                        f"lower_is_better={self.lower_is_better} a non-inferiority margin is a ratio {side} "
                        f"(did you mean {1 / wrong[0]:.4g}?)"
                    )
            return np.abs(np.log(margin))
        if np.any(margin < 0):
            raise ValueError("margins are magnitudes on the harmful side and must be >= 0")
        return margin

    @property
    def benefit_bound(self) -> float:
        """The analysis-scale effect below (lower is better) or above which the experimental arm
        benefits: 0 without a superiority threshold, else the signed threshold (log for ratios)."""
        t = self.superiority_threshold
        if t is None:
            return 0.0
        if self.is_ratio:
            return float(np.log(t))
        return -abs(float(t)) if self.lower_is_better else abs(float(t))

    def benefit_text(self) -> str:
        """'RR < 0.8', 'SMD < -0.1', 'RR < 1' (the event P(benefit) is about)."""
        side = "<" if self.lower_is_better else ">"
        if self.superiority_threshold is None:
            return f"{self.measure} {side} {1 if self.is_ratio else 0}"
        b = self.superiority_threshold if self.is_ratio else self.benefit_bound
        return f"{self.measure} {side} {b:g}"

    def describe(self) -> str:
        """One line stating the direction, printed next to every probability."""
        if self.is_ratio:
            fav = "< 1" if self.lower_is_better else "> 1"
            return (
                f"{self.measure} = {self.experimental}/{self.control}; {self.measure} {fav} "
                f"favours {self.experimental}"
            )
        fav = "< 0" if self.lower_is_better else "> 0"
        return (
            f"{self.measure} = {self.experimental} minus {self.control}; {self.measure} {fav} "
            f"favours {self.experimental}"
        )


def margin_grid(orientation: Orientation, largest: float, n: int = 121):
    """Margins from no margin to ``largest`` (analysis-scale magnitude), as printed: ratios on the
    harmful side of ``orientation`` (1 to exp(largest), or 1 to exp(-largest)), else 0 to ``largest``."""
    if orientation.is_ratio:
        return np.exp(orientation.harmful_sign * np.linspace(0.0, largest, n))
    return np.linspace(0.0, largest, n)


def decision_flips(verdict, reference_verdict):
    """The one definition of a decision flip: a verdict (``P >= threshold``) that differs from the
    verdict of the reference analysis (the reference prior of the same likelihood scenario, or the
    primary prior pair). Both arguments are booleans or boolean arrays/Series (broadcast)."""
    return np.asarray(verdict, dtype=bool) != np.asarray(reference_verdict, dtype=bool)


def margin_from_native(margin_native, sd):
    """Convert a margin in native units (VAS or ODI points) to SMD units through a stated SD."""
    sd = float(sd)
    if sd <= 0:
        raise ValueError("sd must be positive")
    return np.asarray(margin_native, dtype=float) / sd


def marginal(posterior, parameter: str = "mu"):
    """The marginal of ``parameter`` in a posterior object, or ``posterior`` itself when it already
    is one marginal (an object with ``cdf``, or draws).

    Exact posteriors (``bm.solve``) give their exact marginal (``mu``, ``tau``, ``theta_new``);
    sampled results (``bm.sample``) and DataTrees give the draws of ``parameter``.
    """
    if isinstance(posterior, Orientation):
        raise TypeError("a posterior was expected, got an Orientation: pass (posterior, orientation, ...)")
    if hasattr(posterior, "cdf"):
        return posterior
    exact = getattr(posterior, parameter, None) if parameter.isidentifier() else None
    if exact is not None and hasattr(exact, "cdf"):  # the exact posterior: its marginal
        return exact
    if hasattr(posterior, "posterior") and hasattr(posterior, "draws") and callable(posterior.draws):
        return posterior.draws(parameter)  # a sampled BayesResult
    tree = getattr(posterior, "children", None)
    if tree is not None and "posterior" in tree:  # an xarray DataTree
        return np.asarray(posterior["posterior"][parameter])
    if hasattr(posterior, "data_vars") and parameter in posterior.data_vars:  # an xarray Dataset
        return np.asarray(posterior[parameter])
    if isinstance(posterior, dict) and parameter in posterior:
        return np.asarray(posterior[parameter])
    return posterior


def _args(fn: str, posterior, orientation, value, name: str, new: str):
    """(orientation, value) from either order: (post, orientation, value) or (post, value, orientation)."""
    if isinstance(orientation, Orientation):
        if isinstance(value, Orientation):
            raise TypeError(f"{fn}: two orientations given; call {new}")
        return orientation, value
    if isinstance(value, Orientation):  # the older order, orientation last
        return value, orientation
    raise TypeError(
        f"{fn} needs an Orientation (bm.Orientation(lower_is_better=...)); call {new}, got "
        f"{type(orientation).__name__} and {type(value).__name__} for orientation and {name}"
    )


def _cdf(posterior, x, parameter: str = "mu"):
    """P(effect <= x) from a posterior object, an exact marginal (``.cdf``) or draws."""
    x = np.asarray(x, dtype=float)
    posterior = marginal(posterior, parameter)
    if hasattr(posterior, "cdf"):
        return np.asarray(posterior.cdf(x), dtype=float)
    draws = np.sort(np.asarray(posterior, dtype=float).ravel())
    if draws.size == 0:
        raise ValueError("no posterior draws")
    return np.searchsorted(draws, x, side="right") / draws.size


def prob_benefit(posterior, orientation: Orientation, *, parameter: str = "mu"):
    """P(the effect favours the experimental arm), i.e. P(effect < 0) when lower is better; with a
    superiority threshold, P(effect beyond it on the beneficial side) (:attr:`Orientation.benefit_bound`).

    Parameters
    ----------
    posterior : posterior object, marginal or draws
        ``bm.solve(...)`` or ``bm.sample(...)`` results (their ``parameter``), one marginal, draws.
    orientation : Orientation
    parameter : str
        Which parameter of a posterior object (``"mu"``; ``"theta_new"`` for a new study).
    """
    if not isinstance(orientation, Orientation):
        raise TypeError(f"prob_benefit(posterior, orientation): orientation must be an Orientation, got "
                        f"{type(orientation).__name__}")
    p_below = _cdf(posterior, orientation.benefit_bound, parameter)
    return p_below if orientation.lower_is_better else 1.0 - p_below


def prob_harm(posterior, orientation: Orientation, *, parameter: str = "mu"):
    """P(the effect favours the control arm): P(effect > 0) when lower is better (from the null,
    whatever the superiority threshold). Arguments as :func:`prob_benefit`."""
    if not isinstance(orientation, Orientation):
        raise TypeError(f"prob_harm(posterior, orientation): orientation must be an Orientation, got "
                        f"{type(orientation).__name__}")
    p_below = _cdf(posterior, 0.0, parameter)
    return 1.0 - p_below if orientation.lower_is_better else p_below


def prob_noninferior(posterior, orientation, margin=None, *, parameter: str = "mu"):
    """P(experimental arm non-inferior): the effect is on the harmful side by less than ``margin``.

    Parameters
    ----------
    posterior : posterior object, marginal or draws
        As :func:`prob_benefit`.
    orientation : Orientation
    margin : float or array_like
        A magnitude (SMD/MD units, or a ratio on the harmful side such as 1.25 for ratio measures).
    parameter : str
        Which parameter of a posterior object (``"mu"``).

    Notes
    -----
    The older order ``prob_noninferior(posterior, margin, orientation)`` is accepted too.
    """
    orientation, margin = _args("prob_noninferior", posterior, orientation, margin, "margin",
                                "prob_noninferior(posterior, orientation, margin)")
    if margin is None:
        raise TypeError("prob_noninferior(posterior, orientation, margin): margin is missing")
    d = orientation.to_analysis_scale(margin)
    if orientation.lower_is_better:
        return _cdf(posterior, d, parameter)
    return 1.0 - _cdf(posterior, -d, parameter)


def prob_rope(posterior, orientation, half_width=None, *, parameter: str = "mu"):
    """P(|effect| < half_width): inside the region of practical equivalence (Kruschke 2018).

    Arguments ``(posterior, orientation, half_width)``; the older ``(posterior, half_width,
    orientation)`` is accepted too.
    """
    orientation, half_width = _args("prob_rope", posterior, orientation, half_width, "half_width",
                                    "prob_rope(posterior, orientation, half_width)")
    if half_width is None:
        raise TypeError("prob_rope(posterior, orientation, half_width): half_width is missing")
    h = orientation.to_analysis_scale(half_width, symmetric=True)
    return _cdf(posterior, h, parameter) - _cdf(posterior, -h, parameter)


def noninferiority_curve(posterior, orientation, margins=None, *, parameter: str = "mu") -> pd.DataFrame:
    """P(non-inferior) over a grid of margins.

    Arguments ``(posterior, orientation, margins)`` as its siblings (the older ``(posterior,
    margins, orientation)`` is accepted too); ``margins`` defaults to :func:`margin_grid` up to
    0.5 on the analysis scale.

    Returns
    -------
    pandas.DataFrame
        ``margin`` (as printed), ``margin_analysis_scale``, ``p_noninferior``.
    """
    orientation, margins = _args("noninferiority_curve", posterior, orientation, margins, "margins",
                                 "noninferiority_curve(posterior, orientation, margins)")
    margins = margin_grid(orientation, 0.5) if margins is None else np.asarray(margins, dtype=float)
    return pd.DataFrame(
        {
            "margin": margins,
            "margin_analysis_scale": orientation.to_analysis_scale(margins),
            "p_noninferior": prob_noninferior(posterior, orientation, margins, parameter=parameter),
        }
    )


def decision_table(posterior, orientation, margins=None, rope=None, *, parameter: str = "mu") -> pd.DataFrame:
    """One row per margin: P(non-inferior), P(benefit), P(harm), optional P(in ROPE). Without
    margins (a superiority or estimation question), one row with ``margin`` and
    ``p_noninferior`` missing. Arguments ``(posterior, orientation, margins)`` as its siblings
    (the older ``(posterior, margins, orientation)`` is accepted too)."""
    orientation, margins = _args("decision_table", posterior, orientation, margins, "margins",
                                 "decision_table(posterior, orientation, margins)")
    post = marginal(posterior, parameter)
    if margins is None or np.size(margins) == 0:
        out = pd.DataFrame({"margin": [np.nan], "margin_analysis_scale": [np.nan], "p_noninferior": [np.nan]})
    else:
        out = noninferiority_curve(post, orientation, margins)
    out["p_benefit"] = float(prob_benefit(post, orientation))
    out["p_harm"] = float(prob_harm(post, orientation))
    if rope is not None:
        out["rope"] = rope
        out["p_rope"] = float(prob_rope(post, orientation, rope))
    out["orientation"] = orientation.describe()
    return out
