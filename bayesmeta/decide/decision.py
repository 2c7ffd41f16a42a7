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
doi:10.1164/rccm.202006-2381CP). A posterior is anything with a ``cdf`` (the exact marginals of
:mod:`bayesmeta.bayes.exact`, a frozen ``scipy.stats`` distribution) or an array of draws.
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


def _cdf(posterior, x):
    """P(effect <= x) from an exact marginal (``.cdf``) or from draws."""
    x = np.asarray(x, dtype=float)
    if hasattr(posterior, "cdf"):
        return np.asarray(posterior.cdf(x), dtype=float)
    draws = np.sort(np.asarray(posterior, dtype=float).ravel())
    if draws.size == 0:
        raise ValueError("no posterior draws")
    return np.searchsorted(draws, x, side="right") / draws.size


def prob_benefit(posterior, orientation: Orientation):
    """P(the effect favours the experimental arm), i.e. P(effect < 0) when lower is better; with a
    superiority threshold, P(effect beyond it on the beneficial side) (:attr:`Orientation.benefit_bound`)."""
    p_below = _cdf(posterior, orientation.benefit_bound)
    return p_below if orientation.lower_is_better else 1.0 - p_below


def prob_harm(posterior, orientation: Orientation):
    """P(the effect favours the control arm): P(effect > 0) when lower is better (from the null,
    whatever the superiority threshold)."""
    p_below = _cdf(posterior, 0.0)
    return 1.0 - p_below if orientation.lower_is_better else p_below


def prob_noninferior(posterior, margin, orientation: Orientation):
    """P(experimental arm non-inferior): the effect is on the harmful side by less than ``margin``.

    ``margin`` is a magnitude (SMD/MD units, or a ratio such as 1.25 for ratio measures).
    """
    d = orientation.to_analysis_scale(margin)
    if orientation.lower_is_better:
        return _cdf(posterior, d)
    return 1.0 - _cdf(posterior, -d)


def prob_rope(posterior, half_width, orientation: Orientation):
    """P(|effect| < half_width): inside the region of practical equivalence (Kruschke 2018)."""
    h = orientation.to_analysis_scale(half_width, symmetric=True)
    return _cdf(posterior, h) - _cdf(posterior, -h)


def noninferiority_curve(posterior, margins, orientation: Orientation) -> pd.DataFrame:
    """P(non-inferior) over a grid of margins, with P(benefit) and P(harm) alongside."""
    margins = np.asarray(margins, dtype=float)
    return pd.DataFrame(
        {
            "margin": margins,
            "margin_analysis_scale": orientation.to_analysis_scale(margins),
            "p_noninferior": prob_noninferior(posterior, margins, orientation),
        }
    )


def decision_table(posterior, margins, orientation: Orientation, rope=None) -> pd.DataFrame:
    """One row per margin: P(non-inferior), P(benefit), P(harm), optional P(in ROPE). Without
    margins (a superiority or estimation question), one row with ``margin`` and
    ``p_noninferior`` missing."""
    if np.size(margins) == 0:
        out = pd.DataFrame({"margin": [np.nan], "margin_analysis_scale": [np.nan], "p_noninferior": [np.nan]})
    else:
        out = noninferiority_curve(posterior, margins, orientation)
    out["p_benefit"] = float(prob_benefit(posterior, orientation))
    out["p_harm"] = float(prob_harm(posterior, orientation))
    if rope is not None:
        out["rope"] = rope
        out["p_rope"] = float(prob_rope(posterior, rope, orientation))
    out["orientation"] = orientation.describe()
    return out
