r"""One registry of effect measures: what each measure is and how it is analysed.

Every rule that depends on the measure lives here and nowhere else: whether it is a ratio, the
scale it is analysed on (log for ratios), its null value, the back-transform, the standard error
implied by a confidence interval, and which side of the null favours the experimental arm.

Direction: every effect is *experimental minus control* (ratios *experimental / control*), as
metafor's ``escalc`` computes it (arm 1 minus arm 2).

The registry (:data:`MEASURES`) holds every measure of metafor's ``escalc`` a reanalyst meets,
grouped in families (:data:`FAMILIES`): two-group continuous (``MD``, ``SMD``, ``SMD_revman``,
``SMDH``, ``SMD1``, ``ROM``), two-group binary (``RR``, ``OR``, ``PETO``, ``RD``, ``AS``),
time-to-event (``HR``), two-group rates (``IRR``, ``IRD``, ``IRSD``), correlations (``COR``,
``UCOR``, ``ZCOR``, ``PCOR``, ``ZPCOR``, ``SPCOR``), single-group proportions (``PR``, ``PLN``,
``PLO``, ``PAS``, ``PFT``), single-group rates (``IR``, ``IRLN``, ``IRS``, ``IRFT``), single-group
means (``MN``, ``MNLN``), change scores (``MC``, ``SMCC``, ``SMCR``, ``SMCRH``, ``ROMC``) and
``GEN`` (a generic effect on its analysis scale). Each knows its analysis scale (its
``transform``: log for ratios, Fisher's z for ZCOR, logit for PLO, ...) and the back-transform
that reports it (r from z, proportions from logits, rate ratios; the Freeman-Tukey inverses with
the harmonic mean of the sample sizes, as metafor's ``transf.ipft.hm``).

A Wald confidence interval is symmetric on the analysis scale, so the standard error it implies is

.. math:: \mathrm{SE} = \frac{g(u) - g(l)}{2\,z_{(1+\text{level})/2}},

with :math:`g = \log` for ratio measures and the identity otherwise (Cochrane Handbook 6.2,
section 6.3.2; Altman & Bland 2011, doi:10.1136/bmj.d2090).

References
----------
Deeks JJ, Higgins JPT (2010). Statistical algorithms in Review Manager 5. The Cochrane
Collaboration.

Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).
doi:10.18637/jss.v036.i03

Higgins JPT, Li T, Deeks JJ (2021). Choosing effect measures and computing estimates of effect.
Cochrane Handbook for Systematic Reviews of Interventions 6.2, chapter 6.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = ["FAMILIES", "MEASURES", "RATIO_MEASURES", "Measure", "get_measure", "is_ratio", "se_from_ci"]


_TRANSFORMS = ("identity", "log", "logit", "fisher_z", "arcsine", "pft", "sqrt", "irft")


def _harmonic(n: ArrayLike | None, what: str, code: str, step: str = "back-transform") -> float:
    if n is None:
        raise ValueError(
            f"the {code} {step} needs the {what} (metafor's transf.i{code.lower()}.hm uses their "
            f"harmonic mean): pass {'ni' if what == 'sample sizes' else 'ti'}="
        )
    a = np.atleast_1d(np.asarray(n, dtype=float))
    a = a[np.isfinite(a)]
    if a.size == 0 or np.any(a <= 0):
        raise ValueError(f"the {code} back-transform needs positive {what}")
    return float(1.0 / np.mean(1.0 / a))


@dataclass(frozen=True)
class Measure:
    r"""An effect measure and the rules that depend on it.

    Parameters
    ----------
    code : str
        Short code as metafor and RevMan spell it (``"SMD"``, ``"RR"``, ``"ZCOR"``, ...).
    name : str
        Plain-language name.
    ratio : bool
        A two-group ratio measure: analysed on the log scale, reported as a ratio, null value 1.
    data : str
        The kind of data it is computed from: ``"continuous"`` or ``"binary"`` arms,
        ``"time-to-event"``, ``"count"`` (two-group events and person-time), ``"correlation"``,
        ``"partial correlation"``, ``"proportion"``, ``"rate"`` (one group), ``"mean"`` (one group),
        ``"change"`` (paired pre/post), ``"any"`` (given as contrasts only).
    family : str
        The family a reader looks in (``"two-group continuous"``, ``"correlation"``, ...): unknown
        codes are answered with the codes of the nearest family.
    transform : str, optional
        The analysis scale: ``"identity"``, ``"log"``, ``"logit"``, ``"fisher_z"``, ``"arcsine"``
        (:math:`\arcsin\sqrt p`), ``"pft"`` (Freeman-Tukey double arcsine), ``"sqrt"``, ``"irft"``
        (Freeman-Tukey for rates). Default: ``"log"`` for ratios, else ``"identity"``.
    inputs : tuple of str
        The arguments of :func:`bayesmeta.effects.escalc.escalc` it needs (metafor's names).
    reported : str, optional
        Label of the back-transformed (reported) quantity; default the code.
    """

    code: str
    name: str
    ratio: bool
    data: str
    family: str = "generic"
    transform: str = ""
    inputs: tuple[str, ...] = ()
    reported: str = ""

    def __post_init__(self) -> None:
        t = self.transform or ("log" if self.ratio else "identity")
        if t not in _TRANSFORMS:
            raise ValueError(f"unknown transform {t!r}")
        object.__setattr__(self, "transform", t)

    @property
    def scale(self) -> str:
        """The analysis scale (the transform): ``"log"`` for ratios, ``"fisher_z"`` for ZCOR, ..."""
        return self.transform

    @property
    def label(self) -> str:
        """Label of the analysis-scale quantity (``"log RR"``, ``"SMD"``, ``"Fisher's z (ZCOR)"``)."""
        code = "SMD" if self.code == "SMD_revman" else self.code
        if self.ratio:
            return f"log {code}"
        return {"log": f"log {self.reported_label} ({code})", "logit": f"logit {self.reported_label} ({code})",
                "fisher_z": f"Fisher's z ({code})"}.get(self.transform, code)

    @property
    def reported_label(self) -> str:
        """Label of the reported quantity (``"RR"``, ``"SMD"``, ``"r"`` for ZCOR, ``"proportion"``)."""
        if self.reported:
            return self.reported
        return "SMD" if self.code == "SMD_revman" else self.code

    @property
    def null(self) -> float:
        """The null value on the analysis scale (0 for every measure)."""
        return 0.0

    @property
    def null_reported(self) -> float:
        """The null value as reported (1 for ratios, 0 otherwise)."""
        return 1.0 if self.ratio else 0.0

    def to_analysis(self, x: ArrayLike, ni: ArrayLike | None = None) -> NDArray[np.float64]:
        """A reported value (a ratio, a proportion, a correlation) on the analysis scale.

        Parameters
        ----------
        x : array_like
            Values as reported.
        ni : array_like, optional
            Sample sizes (person-times for IRFT), needed for the Freeman-Tukey transforms only.

        Raises
        ------
        ValueError
            For a value outside the measure's range (a non-positive ratio, a proportion outside
            [0, 1], a correlation outside (-1, 1)).
        """
        x = np.asarray(x, dtype=float)
        t = self.transform
        if t == "log":
            if np.any(x <= 0):
                what = "ratio scale" if self.ratio else "reported scale"
                raise ValueError(f"{self.code} values on the {what} must be positive, got {x}")
            return np.log(x)
        if t == "logit":
            if np.any((x <= 0) | (x >= 1)):
                raise ValueError(f"{self.code}: proportions must lie in (0, 1), got {x}")
            return np.log(x / (1 - x))
        if t == "fisher_z":
            if np.any(np.abs(x) >= 1):
                raise ValueError(f"{self.code}: correlations must lie in (-1, 1), got {x}")
            return np.arctanh(x)
        if t == "arcsine":
            if np.any((x < 0) | (x > 1)):
                raise ValueError(f"{self.code}: proportions must lie in [0, 1], got {x}")
            return np.arcsin(np.sqrt(x))
        if t == "sqrt":
            if np.any(x < 0):
                raise ValueError(f"{self.code}: rates must be non-negative, got {x}")
            return np.sqrt(x)
        if t == "pft":
            n = _harmonic(ni, "sample sizes", self.code, "transform")
            return 0.5 * (np.arcsin(np.sqrt(x * n / (n + 1))) + np.arcsin(np.sqrt((x * n + 1) / (n + 1))))
        if t == "irft":
            tt = _harmonic(ni, "person-times", self.code, "transform")
            return 0.5 * (np.sqrt(x) + np.sqrt(x + 1 / tt))
        return x

    def back_transform(self, x: ArrayLike, ni: ArrayLike | None = None) -> NDArray[np.float64]:
        r"""An analysis-scale value as reported (metafor's ``transf.*`` functions).

        ``exp`` for ratios and log measures (PLN, IRLN, MNLN), the inverse logit for PLO,
        :math:`r = \tanh z` for ZCOR and ZPCOR (``transf.ztor``), :math:`\sin^2 x` for PAS
        (``transf.iarcsin``), :math:`x^2` for IRS, the inverse Freeman-Tukey transforms for PFT
        (Miller 1978, ``transf.ipft.hm``) and IRFT (``transf.iirft``) with the harmonic mean of
        the sample sizes (person-times) ``ni``, the identity otherwise.

        Parameters
        ----------
        x : array_like
            Values on the analysis scale (a pooled estimate, its interval bounds).
        ni : array_like, optional
            Sample sizes (PFT) or person-times (IRFT) of the studies; their harmonic mean is used.

        Returns
        -------
        ndarray

        References
        ----------
        Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine transformation. Am Stat
        32:138. doi:10.1080/00031305.1978.10479283

        Examples
        --------
        >>> round(float(get_measure("ZCOR").back_transform(0.5)), 6)  # tanh(0.5)
        0.462117
        >>> round(float(get_measure("PLO").back_transform(0.0)), 6)
        0.5
        """
        x = np.asarray(x, dtype=float)
        t = self.transform
        if t == "log":
            return np.exp(x)
        if t == "logit":
            return 1.0 / (1.0 + np.exp(-x))
        if t == "fisher_z":
            return np.tanh(x)
        if t == "arcsine":
            return np.where(x < 0, 0.0, np.where(x > np.pi / 2, 1.0, np.sin(x) ** 2))
        if t == "sqrt":
            return np.where(x < 0, 0.0, x**2)
        if t == "pft":
            n = _harmonic(ni, "sample sizes", self.code)
            with np.errstate(invalid="ignore", divide="ignore"):
                s2 = np.sin(2 * x)
                z = 0.5 * (1 - np.sign(np.cos(2 * x)) * np.sqrt(1 - (s2 + (s2 - 1 / s2) / n) ** 2))
            lo = np.arcsin(np.sqrt(1 / (n + 1))) / 2  # transf.pft(0, n)
            hi = (np.arcsin(np.sqrt(n / (n + 1))) + np.pi / 2) / 2  # transf.pft(1, n)
            return np.where(x > hi, 1.0, np.where(x < lo, 0.0, z))
        if t == "irft":
            tt = _harmonic(ni, "person-times", self.code)
            with np.errstate(invalid="ignore", divide="ignore"):
                z = (1 / tt - 8 * x**2 + 16 * tt * x**4) / (16 * x**2 * tt)
            z = np.where(x < 0.5 * np.sqrt(1 / tt), 0.0, z)  # below transf.irft(0, ti)
            return np.where(z <= np.finfo(float).eps, 0.0, z)
        return x

    def se_from_ci(
        self, lb: ArrayLike, ub: ArrayLike, level: float = 0.95, scale: str = "reported"
    ) -> NDArray[np.float64]:
        """Standard error on the analysis scale implied by a Wald confidence interval.

        Parameters
        ----------
        lb, ub : array_like
            Bounds of the interval.
        level : float
            Its coverage (0.95).
        scale : {"reported", "analysis"}
            ``"reported"``: bounds as printed (ratios for ratio measures, correlations for ZCOR,
            proportions for PLO); ``"analysis"``: bounds already on the analysis scale.

        Returns
        -------
        ndarray
            The SE on the analysis scale (of the log ratio for ratio measures).

        Examples
        --------
        >>> round(float(get_measure("RR").se_from_ci(0.5, 2.0)), 6)  # log(4) / (2 * 1.959964)
        0.353653
        """
        if scale not in ("reported", "analysis"):
            raise ValueError("scale must be 'reported' or 'analysis'")
        if scale == "analysis" or self.transform == "identity":
            return se_from_ci(lb, ub, level=level)
        if self.transform == "log":
            return se_from_ci(lb, ub, level=level, log=True)
        return se_from_ci(self.to_analysis(lb), self.to_analysis(ub), level=level)

    def ci_to_analysis(
        self, estimate: float, lb: float, ub: float, level: float = 0.95, scale: str = "reported"
    ) -> tuple[float, float]:
        """``(estimate, se)`` on the analysis scale from an estimate and its CI."""
        est = float(self.to_analysis(estimate)) if scale == "reported" else float(estimate)
        return est, float(self.se_from_ci(lb, ub, level, scale))

    def favours(self, lower_is_better: bool) -> str:
        """Which side of the null favours the experimental arm, on the reported scale.

        Examples
        --------
        >>> get_measure("RR").favours(lower_is_better=True)
        'RR < 1'
        >>> get_measure("SMD").favours(lower_is_better=False)
        'SMD > 0'
        """
        side = "<" if lower_is_better else ">"
        return f"{self.reported_label} {side} {self.null_reported:g}"

    def benefit_sign(self, lower_is_better: bool) -> int:
        """Sign of analysis-scale effects that favour the experimental arm (-1 or +1)."""
        return -1 if lower_is_better else 1


_CONT = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
_BIN = ("ai", "n1i", "ci", "n2i")
_RATES = ("x1i", "t1i", "x2i", "t2i")
_CHANGE = ("m1i", "m2i", "sd1i", "sd2i", "ni", "ri")
_F2C, _F2B, _F2R = "two-group continuous", "two-group binary", "two-group rates"
_FCOR, _FPR, _FIR, _FMN, _FCH = (
    "correlation", "single-group proportion", "single-group rate", "single-group mean", "change score"
)

_ALL = (
    Measure("SMD", "standardised mean difference (Hedges' g, metafor convention)", False, "continuous",
            _F2C, inputs=_CONT),
    Measure("SMD_revman", "standardised mean difference (Hedges' g, RevMan 5 convention)", False, "continuous",
            _F2C, inputs=_CONT),
    Measure("MD", "mean difference", False, "continuous", _F2C, inputs=_CONT),
    Measure("SMDH", "standardised mean difference with heteroscedastic SDs (Bonett 2009)", False, "continuous",
            _F2C, inputs=_CONT),
    Measure("SMD1", "mean difference standardised by the control arm's SD (Glass's delta)", False,
            "continuous", _F2C, inputs=("m1i", "n1i", "m2i", "sd2i", "n2i")),
    Measure("ROM", "ratio of means", True, "continuous", _F2C, inputs=_CONT),
    Measure("RR", "risk ratio", True, "binary", _F2B, inputs=_BIN),
    Measure("OR", "odds ratio", True, "binary", _F2B, inputs=_BIN),
    Measure("PETO", "Peto's one-step odds ratio", True, "binary", _F2B, inputs=_BIN, reported="OR"),
    Measure("RD", "risk difference", False, "binary", _F2B, inputs=_BIN),
    Measure("AS", "arcsine square-root risk difference", False, "binary", _F2B, inputs=_BIN),
    Measure("HR", "hazard ratio", True, "time-to-event", "time-to-event"),
    Measure("IRR", "incidence rate ratio", True, "count", _F2R, inputs=_RATES),
    Measure("IRD", "incidence rate difference", False, "count", _F2R, inputs=_RATES),
    Measure("IRSD", "square-root transformed incidence rate difference", False, "count", _F2R, inputs=_RATES),
    Measure("COR", "raw correlation coefficient", False, "correlation", _FCOR, inputs=("ri", "ni"),
            reported="r"),
    Measure("UCOR", "bias-corrected correlation coefficient (Olkin & Pratt 1958)", False, "correlation", _FCOR,
            inputs=("ri", "ni"), reported="r"),
    Measure("ZCOR", "Fisher's r-to-z transformed correlation", False, "correlation", _FCOR, "fisher_z",
            ("ri", "ni"), "r"),
    Measure("PCOR", "partial correlation (from a regression t statistic)", False, "partial correlation",
            _FCOR, inputs=("ti", "ni", "mi"), reported="partial r"),
    Measure("ZPCOR", "Fisher's z transformed partial correlation", False, "partial correlation", _FCOR,
            "fisher_z", ("ti", "ni", "mi"), "partial r"),
    Measure("SPCOR", "semi-partial correlation", False, "partial correlation", _FCOR,
            inputs=("ti", "ni", "mi", "r2i"), reported="semi-partial r"),
    Measure("PR", "raw proportion", False, "proportion", _FPR, inputs=("xi", "ni"), reported="proportion"),
    Measure("PLN", "log proportion", False, "proportion", _FPR, "log", ("xi", "ni"), "proportion"),
    Measure("PLO", "logit proportion (log odds)", False, "proportion", _FPR, "logit", ("xi", "ni"),
            "proportion"),
    Measure("PAS", "arcsine square-root proportion", False, "proportion", _FPR, "arcsine", ("xi", "ni"),
            "proportion"),
    Measure("PFT", "Freeman-Tukey double arcsine proportion", False, "proportion", _FPR, "pft", ("xi", "ni"),
            "proportion"),
    Measure("IR", "incidence rate", False, "rate", _FIR, inputs=("xi", "ti"), reported="rate"),
    Measure("IRLN", "log incidence rate", False, "rate", _FIR, "log", ("xi", "ti"), "rate"),
    Measure("IRS", "square-root incidence rate", False, "rate", _FIR, "sqrt", ("xi", "ti"), "rate"),
    Measure("IRFT", "Freeman-Tukey transformed incidence rate", False, "rate", _FIR, "irft", ("xi", "ti"),
            "rate"),
    Measure("MN", "raw mean", False, "mean", _FMN, inputs=("mi", "sdi", "ni"), reported="mean"),
    Measure("MNLN", "log mean", False, "mean", _FMN, "log", ("mi", "sdi", "ni"), "mean"),
    Measure("MC", "raw mean change (paired)", False, "change", _FCH, inputs=_CHANGE),
    Measure("SMCC", "standardised mean change, change-score standardisation", False, "change", _FCH,
            inputs=_CHANGE),
    Measure("SMCR", "standardised mean change, raw-score standardisation (Becker 1988)", False, "change", _FCH,
            inputs=("m1i", "m2i", "sd1i", "ni", "ri")),
    Measure("SMCRH", "standardised mean change, raw-score standardisation, heteroscedastic", False, "change",
            _FCH, inputs=_CHANGE),
    Measure("ROMC", "ratio of means for paired data (log)", True, "change", _FCH, inputs=_CHANGE),
    Measure("GEN", "generic effect on its analysis scale", False, "any", "generic"),
)

#: The registry, by code.
MEASURES: dict[str, Measure] = {m.code: m for m in _ALL}
#: Codes of the ratio measures (analysed on the log scale).
RATIO_MEASURES: frozenset[str] = frozenset(m.code for m in _ALL if m.ratio)
#: Codes by family (the vocabulary a reader is shown).
FAMILIES: dict[str, tuple[str, ...]] = {}
for _m in _ALL:
    FAMILIES[_m.family] = (*FAMILIES.get(_m.family, ()), _m.code)
_ALIASES = {
    "SMD_REVMAN": "SMD_revman",
    "HEDGES": "SMD",
    "HEDGESG": "SMD",
    "G": "SMD",
    "GLASS": "SMD1",
    "YI": "GEN",
    "GENERIC": "GEN",
    "LOGRR": "RR",
    "LOGOR": "OR",
    "LOGHR": "HR",
    "LOGROM": "ROM",
    "LOGIRR": "IRR",
    "R": "COR",
    "CORR": "COR",
    "CORRELATION": "COR",
    "FISHERZ": "ZCOR",
    "Z": "ZCOR",
    "PROPORTION": "PR",
    "LOGIT": "PLO",
    "RATE": "IR",
    "MEAN": "MN",
}
_FAMILY_WORDS = (("COR", _FCOR), ("PROP", _FPR), ("RATE", _FIR), ("MEAN", _FMN), ("CHANGE", _FCH))


#: metafor escalc measures this registry does not offer -> (what they are, the family a user of them
#: would reach for); an unknown-measure message names them and that family, never a distant near-spelling
_NOT_OFFERED: dict[str, tuple[str, str]] = {
    **{c: (w, _FCOR) for c, w in (
        ("RTET", "tetrachoric correlation"), ("PHI", "phi coefficient"), ("YUQ", "Yule's Q"),
        ("YUY", "Yule's Y"), ("RPB", "point-biserial correlation"), ("RBIS", "biserial correlation"),
        ("ZPHI", "Fisher's z of the phi coefficient"), ("ZTET", "Fisher's z of the tetrachoric correlation"),
        ("ZPB", "Fisher's z of the point-biserial correlation"), ("ZBIS", "Fisher's z of the biserial correlation"),
        ("ZSPCOR", "Fisher's z of the semi-partial correlation"), ("RZ", "r from z"))},
    **{c: (w, "two-group binary") for c, w in (
        ("PBIT", "probit transformed risk difference"), ("OR2DN", "OR converted to an SMD (normal)"),
        ("OR2DL", "OR converted to an SMD (logistic)"), ("MPRD", "paired risk difference"),
        ("MPRR", "paired risk ratio"), ("MPOR", "paired odds ratio"), ("MPORC", "conditional paired odds ratio"),
        ("MPPETO", "paired Peto odds ratio"), ("MPORM", "paired odds ratio (marginal)"))},
    **{c: (w, "two-group continuous") for c, w in (
        ("D2ORN", "SMD converted to a log OR (normal)"), ("D2ORL", "SMD converted to a log OR (logistic)"),
        ("CVR", "log coefficient-of-variation ratio"), ("VR", "log variability ratio"),
        ("AUC", "area under the curve (common-language effect size)"), ("AUCN", "AUC under normality"),
        ("CLES", "common-language effect size"), ("CLESN", "CLES under normality"))},
    **{c: (w, "single-group mean") for c, w in (
        ("CVLN", "log coefficient of variation"), ("SDLN", "log standard deviation"),
        ("SMN", "single-group standardised mean"))},
}


def _suggestion(up: str) -> str:
    """' (did you mean 'X'? <family>: A, B, C)' for an unknown code, or ''."""
    if up in _NOT_OFFERED:
        what, near = _NOT_OFFERED[up]
        return (f" (metafor's {up}, {what}, is not offered; the {near} measures here: "
                f"{', '.join(FAMILIES[near])}; or enter precomputed yi and vi with measure GEN)")
    family = next((f for word, f in _FAMILY_WORDS if word in up), None)
    pool = list(FAMILIES[family]) if family else [*MEASURES, *_ALIASES]
    close = difflib.get_close_matches(up, [c.upper() for c in pool], n=1, cutoff=0.6)
    if not close and family is None:
        return ""
    best = None
    if close:
        best = get_measure(next(c for c in pool if c.upper() == close[0]))
    fam = best.family if best is not None else family
    members = FAMILIES[fam] if fam else ()
    head = f"did you mean {best.code!r}? " if best is not None else ""
    return f" ({head}{fam}: {', '.join(members)})"


def get_measure(code: str | Measure) -> Measure:
    """The registry entry for ``code`` (case-insensitive; ``SMD_revman`` and a few aliases).

    Parameters
    ----------
    code : str or Measure
        A code of :data:`MEASURES` or an alias (``yi``, ``logRR``, ...); a Measure is returned as is.

    Returns
    -------
    Measure

    Raises
    ------
    ValueError
        Naming the valid codes and the closest one, with the codes of its family (a
        correlation is offered correlations, never an odds ratio).

    Examples
    --------
    >>> get_measure("or").label
    'log OR'
    >>> get_measure("zcor").reported_label
    'r'
    """
    if isinstance(code, Measure):
        return code
    key = str(code).strip()
    up = key.upper().replace("-", "").replace(" ", "")
    if up in MEASURES:
        return MEASURES[up]
    if up in _ALIASES:
        return MEASURES[_ALIASES[up]]
    if up == "SMD_REVMAN":
        return MEASURES["SMD_revman"]
    raise ValueError(f"unknown effect measure {code!r}{_suggestion(up)}; use one of {', '.join(MEASURES)}")


def is_ratio(code: str | Measure) -> bool:
    """True for ratio measures (analysed on the log scale).

    Parameters
    ----------
    code : str or Measure

    Returns
    -------
    bool
    """
    return get_measure(code).ratio


def se_from_ci(lb: ArrayLike, ub: ArrayLike, level: float = 0.95, log: bool = False) -> NDArray[np.float64]:
    r"""Standard error implied by a symmetric Wald confidence interval.

    .. math:: \mathrm{SE} = \frac{u - l}{2\,z_{(1+\text{level})/2}}

    on the scale where the interval is symmetric: for ratios (RR, OR, HR) pass the bounds as
    printed and ``log=True``, which uses :math:`\log u - \log l` (Cochrane Handbook 6.2,
    section 6.3.2; Altman & Bland 2011, doi:10.1136/bmj.d2090). :meth:`Measure.se_from_ci`
    chooses ``log`` from the measure.

    Parameters
    ----------
    lb, ub : array_like
        Lower and upper bounds.
    level : float
        Coverage of the interval (0.95).
    log : bool
        Bounds are ratios; the SE is of the log ratio.

    Returns
    -------
    ndarray
        The SE (of the log ratio when ``log=True``).

    Examples
    --------
    >>> round(float(se_from_ci(0.5, 2.0, log=True)), 6)  # log(4) / (2 * 1.959964)
    0.353653
    """
    lo, hi = np.asarray(lb, dtype=float), np.asarray(ub, dtype=float)
    if not 0 < level < 1:
        raise ValueError("level must lie in (0, 1)")
    if log:
        if np.any((lo <= 0) | (hi <= 0)):
            raise ValueError("ratio CI bounds must be positive")
        lo, hi = np.log(lo), np.log(hi)
    if np.any(hi < lo):
        raise ValueError("ci upper bound below lower bound")
    return (hi - lo) / (2 * special.ndtri(0.5 + level / 2))  # the normal quantile (scipy.stats.norm.ppf)
