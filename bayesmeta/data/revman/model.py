r"""The structure of a RevMan review: comparisons, outcomes (analyses), subgroups and study rows.

One frozen :class:`Review` holds every analysis of a RevMan 5 file (``.rm5``), of the analysis CSV
RevMan 5 exports, or of a Cochrane data package (``.zip``, RevMan Web). Each :class:`Analysis` is
one forest plot: its data type (dichotomous, continuous, O-E and variance, generic inverse
variance), the review's own settings (:class:`Settings`: MH / IV / Peto, fixed or random effects,
effect measure, totals and subtotals, confidence levels), the group and "favours" labels, the
study rows (:class:`StudyRow`, arm-level values as entered) and the results RevMan stored
(:class:`Pooled` for the outcome and each subgroup, per-study estimates and weights). Every value
carries a :class:`Source`: the file, comparison, outcome, subgroup, study and the line or element
it was read from.

Direction: arm 1 (RevMan's "experimental", ``GROUP_LABEL_1``) minus (or over) arm 2 ("control"),
as everywhere in bayesmeta. With RevMan's "swap events and non-events" the events of a study row
are already swapped (:attr:`StudyRow.events_1` counts what RevMan analysed).

References
----------
Deeks JJ, Higgins JPT (2010). Statistical algorithms in Review Manager 5. The Cochrane
Collaboration.

Schwarzer G, Carpenter JR, Rücker G (2015). Meta-Analysis with R, chapter 7 (``meta::read.rm5``,
``meta::read.cdir``). doi:10.1007/978-3-319-21416-0
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Analysis", "DATA_TYPES", "Pooled", "Review", "Settings", "Source", "StudyRow", "Subgroup"]

#: RevMan's four data types of an analysis, as named here.
DATA_TYPES = ("dichotomous", "continuous", "oe", "giv")


@dataclass(frozen=True)
class Source:
    """Where one value (or one row of values) was read.

    ``location`` is the line of the XML element (``.rm5``), the line of the CSV file, or the member
    of the zip and its line.
    """

    file: str
    format: str
    comparison: str = ""
    outcome: str = ""
    subgroup: str | None = None
    study: str | None = None
    location: str = ""

    def __str__(self) -> str:
        parts = [self.file + (f" ({self.location})" if self.location else "")]
        if self.comparison:
            parts.append(f"comparison {self.comparison}")
        if self.outcome:
            parts.append(f"outcome {self.outcome}")
        if self.subgroup:
            parts.append(f"subgroup {self.subgroup}")
        if self.study:
            parts.append(f"study {self.study}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Settings:
    """The review's own analysis settings for one outcome.

    Attributes
    ----------
    data_type : {"dichotomous", "continuous", "oe", "giv"}
    method : {"MH", "IV", "Peto"}
        Mantel-Haenszel, inverse variance or Peto (O-E and variance data are pooled by Peto's
        method: :math:`\\sum (O-E) / \\sum V`).
    measure : str
        bayesmeta's measure code (``OR``, ``RR``, ``RD``, ``MD``, ``SMD_revman``, ``HR``, ``GEN``...).
        RevMan 5's SMD is Hedges' g with RevMan's approximations, hence ``SMD_revman``.
    revman_measure : str
        The effect measure as RevMan wrote it (``"OR"``, ``"PETO_OR"``, ``"Std. Mean Difference"``).
    random : bool
        Random effects (DerSimonian-Laird in RevMan 5) or fixed effect.
    totals : {"overall", "subtotals", "none"}
        RevMan's "totals and subtotals", "subtotals only", "no totals".
    subgroups : bool
        The outcome is split into subgroups.
    subgroup_test : bool
        RevMan reports the test for subgroup differences.
    level_study, level_total : float
        Confidence levels of the study and pooled intervals (0.95).
    log_data : bool or None
        Generic inverse variance: the entered estimates are on the log scale (None otherwise).
    swap_events : bool
        Events and non-events swapped (dichotomous).
    units : str
        Units of the outcome (continuous and generic inverse variance), as RevMan stored them.
    """

    data_type: str
    method: str
    measure: str
    revman_measure: str
    random: bool
    totals: str = "overall"
    subgroups: bool = False
    subgroup_test: bool = False
    level_study: float = 0.95
    level_total: float = 0.95
    log_data: bool | None = None
    swap_events: bool = False
    units: str = ""

    @property
    def model(self) -> str:
        """``"random"`` or ``"fixed"``."""
        return "random" if self.random else "fixed"

    def describe(self) -> str:
        """One line, e.g. ``"MH, fixed effect, OR (totals and subtotals)"``."""
        tot = {"overall": "totals", "subtotals": "subtotals only", "none": "no totals"}[self.totals]
        return (
            f"{self.method}, {'random effects' if self.random else 'fixed effect'}, {self.measure} "
            f"({self.data_type}; {tot})"
        )


@dataclass(frozen=True)
class Pooled:
    """A pooled result RevMan stored (an outcome's total or a subgroup's subtotal).

    Ratio measures are on the ratio scale (as RevMan prints them). ``Q`` is the heterogeneity
    chi-squared statistic on ``Q_df`` degrees of freedom, ``I2`` in percent. ``Q_int``, ``Q_int_df``,
    ``Q_int_p`` and ``I2_int`` are the test for subgroup differences (outcome totals only).
    ``decimals`` maps each quantity to the number of decimals it was stored with (the CSV and the
    data package round), which is the precision a recomputation can be held to. Missing values are
    NaN (RevMan leaves them empty when it did not compute them).
    """

    estimate: float
    ci_lb: float
    ci_ub: float
    z: float = math.nan
    p_z: float = math.nan
    Q: float = math.nan
    Q_df: float = math.nan
    Q_p: float = math.nan
    I2: float = math.nan
    tau2: float = math.nan
    weight: float = math.nan
    k: int | None = None
    events_1: float = math.nan
    total_1: float = math.nan
    events_2: float = math.nan
    total_2: float = math.nan
    Q_int: float = math.nan
    Q_int_df: float = math.nan
    Q_int_p: float = math.nan
    I2_int: float = math.nan
    decimals: Mapping[str, int] = field(default_factory=dict)
    source: Source | None = None

    @property
    def computed(self) -> bool:
        """RevMan stored a pooled estimate (not empty)."""
        return bool(np.isfinite(self.estimate))


@dataclass(frozen=True)
class StudyRow:
    """One study's data in one analysis, as entered in RevMan, with RevMan's computed values.

    Arm 1 is the experimental arm. Missing values are NaN. ``stored_*`` are RevMan's study-level
    estimate (ratio scale for ratio measures), its SE (log scale for ratios), CI and percentage
    weight; ``estimable`` is RevMan's flag (False for a double-zero study of an RR or OR).
    """

    study: str
    year: str = ""
    subgroup_no: int | None = None
    subgroup: str | None = None
    events_1: float = math.nan
    total_1: float = math.nan
    mean_1: float = math.nan
    sd_1: float = math.nan
    events_2: float = math.nan
    total_2: float = math.nan
    mean_2: float = math.nan
    sd_2: float = math.nan
    o_e: float = math.nan
    var: float = math.nan
    giv_estimate: float = math.nan
    giv_se: float = math.nan
    stored_estimate: float = math.nan
    stored_se: float = math.nan
    stored_ci_lb: float = math.nan
    stored_ci_ub: float = math.nan
    stored_weight: float = math.nan
    estimable: bool = True
    order: int | None = None
    decimals: Mapping[str, int] = field(default_factory=dict)
    source: Source | None = None


@dataclass(frozen=True)
class Subgroup:
    """A subgroup of an outcome: its number, name and RevMan's subtotal (None if not stored)."""

    no: int
    name: str
    pooled: Pooled | None = None
    source: Source | None = None


@dataclass(frozen=True)
class Analysis:
    """One RevMan analysis (one outcome of one comparison; one forest plot).

    Attributes
    ----------
    comparison_no, outcome_no : int
        RevMan's numbers (analysis ``"1.2"`` is comparison 1, outcome 2).
    comparison, name : str
        Names of the comparison and of the outcome.
    settings : Settings
    experimental, control : str
        Group labels (``GROUP_LABEL_1``/``_2``; "Experimental"/"Control" when RevMan left them out).
    favours_left, favours_right : str
        The forest plot's "favours" labels (``GRAPH_LABEL_1``/``_2``), "" when not stored.
    studies : tuple of StudyRow
    subgroups : tuple of Subgroup
    pooled : Pooled or None
        RevMan's overall result (None when the file holds none, e.g. "no totals").
    source : Source
    review_sha256 : str
        sha256 of the review file (the provenance of :meth:`arm_table`).
    """

    comparison_no: int
    outcome_no: int
    comparison: str
    name: str
    settings: Settings
    experimental: str
    control: str
    favours_left: str
    favours_right: str
    studies: tuple[StudyRow, ...]
    subgroups: tuple[Subgroup, ...] = ()
    pooled: Pooled | None = None
    source: Source | None = None
    review_sha256: str = ""

    @property
    def id(self) -> str:
        """RevMan's analysis number, ``"comparison.outcome"`` (e.g. ``"1.2"``)."""
        return f"{self.comparison_no}.{self.outcome_no}"

    @property
    def k(self) -> int:
        """Number of study rows."""
        return len(self.studies)

    @property
    def measure(self) -> str:
        return self.settings.measure

    def arms(self) -> pd.DataFrame:
        """The arm-level data with metafor's names (one row per study).

        Dichotomous: ``study, subgroup, ai, n1i, ci, n2i``; continuous: ``study, subgroup, m1i,
        sd1i, n1i, m2i, sd2i, n2i``; O-E: ``study, subgroup, o_e, v``; generic inverse variance:
        ``study, subgroup, yi, sei`` (yi on the analysis scale: log for ratio measures).
        """
        t = self.settings.data_type
        rows: list[dict[str, Any]] = []
        for s in self.studies:
            r: dict[str, Any] = {"study": s.study, "subgroup": s.subgroup}
            if t == "dichotomous":
                r.update(ai=s.events_1, n1i=s.total_1, ci=s.events_2, n2i=s.total_2)
            elif t == "continuous":
                r.update(m1i=s.mean_1, sd1i=s.sd_1, n1i=s.total_1, m2i=s.mean_2, sd2i=s.sd_2, n2i=s.total_2)
            elif t == "oe":
                r.update(o_e=s.o_e, v=s.var)
            else:
                r.update(yi=s.giv_estimate, sei=s.giv_se)
            rows.append(r)
        return pd.DataFrame(rows)

    def arm_table(self):
        """Dichotomous or continuous study rows as the toolkit's validated
        :class:`~bayesmeta.data.tables.ArmTable` (one row per arm, the group labels as arm names, the
        analysis number as outcome, the subgroup, each row's source; rows RevMan holds without values
        have ``status = "missing"`` and a reason). O-E and generic inverse variance data have no arms:
        use :meth:`effect_table`."""
        from bayesmeta.data.revman.effects import arm_table

        return arm_table(self)

    def effect_table(self, preset: str = "revman5", subgroup: int | None = None):
        """The studies as an :class:`~bayesmeta.effects.table.EffectTable` (analysis scale).

        Dichotomous and continuous rows go through :func:`bayesmeta.effects.escalc.escalc` with the
        preset's zero-cell rule (RevMan: 0.5 added to zero-cell studies, double zeros left out of
        RR and OR, with a note); Peto analyses use Peto's log OR per study,
        :math:`(O-E)/V` with variance :math:`1/V`; O-E rows likewise; generic inverse variance rows
        are taken as entered (log scale for ratio measures). Studies with missing values are left
        out with a note naming them.

        Parameters
        ----------
        preset : str
            Zero-cell rule and SMD variant (:mod:`bayesmeta.frequentist.presets`).
        subgroup : int, optional
            Only the studies of this subgroup number.
        """
        from bayesmeta.data.revman.effects import effect_table

        return effect_table(self, preset=preset, subgroup=subgroup)

    def to_frame(self) -> pd.DataFrame:
        """Every study row with RevMan's stored values and the provenance, one row per study."""
        rows = []
        for s in self.studies:
            d = {k: getattr(s, k) for k in StudyRow.__dataclass_fields__ if k not in ("decimals", "source")}
            d["source"] = str(s.source) if s.source else ""
            rows.append({"analysis": self.id, "outcome": self.name, **d})
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class Review:
    """A RevMan review's analyses (read by :func:`bayesmeta.read_revman`).

    Attributes
    ----------
    file : str
        The file read.
    format : {"rm5", "csv", "zip"}
    title : str
    sha256 : str
        Hash of the file's bytes.
    analyses : tuple of Analysis
    notes : tuple of str
        What the reader did or left out (analyses with no study rows, ...).
    """

    file: str
    format: str
    title: str
    sha256: str
    analyses: tuple[Analysis, ...]
    notes: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Analysis]:
        return iter(self.analyses)

    def __len__(self) -> int:
        return len(self.analyses)

    def __getitem__(self, key: str | int) -> Analysis:
        """An analysis by number (``"1.2"``) or position."""
        if isinstance(key, int):
            return self.analyses[key]
        for a in self.analyses:
            if a.id == str(key):
                return a
        raise KeyError(f"{self.file} has no analysis {key!r} (it has {', '.join(a.id for a in self.analyses)})")

    def select(self, comparison: str | None = None, outcome: str | None = None) -> tuple[Analysis, ...]:
        """The analyses of a comparison and/or outcome, each given by number or (case-insensitive) name.

        ``outcome`` may also be an analysis number ``"1.2"``, or several numbers separated by commas
        (``"1.1, 1.3"``). Raises ``KeyError`` listing what the review has when nothing matches.
        """
        import re

        if outcome is not None and "," in outcome:
            parts = [p.strip() for p in outcome.split(",")]
            if all(re.fullmatch(r"\d+(\.\d+)?", p) for p in parts):
                chosen = {a.id: a for p in parts for a in self.select(comparison, p)}
                return tuple(a for a in self.analyses if a.id in chosen)

        def match(num: int, name: str, key: str | None, full: str | None = None) -> bool:
            if key is None:
                return True
            k = str(key).strip()
            return k == str(num) or k.casefold() == name.strip().casefold() or (full is not None and k == full)

        out = tuple(
            a
            for a in self.analyses
            if match(a.comparison_no, a.comparison, comparison) and match(a.outcome_no, a.name, outcome, a.id)
        )
        if not out:
            have = "; ".join(f"{a.id} {a.comparison} / {a.name}" for a in self.analyses)
            raise KeyError(
                f"no analysis of {self.file} matches comparison={comparison!r}, outcome={outcome!r} "
                f"(it has: {have})"
            )
        return out

    def to_frame(self) -> pd.DataFrame:
        """Every study row of every analysis (tidy: one row per study and analysis, with sources)."""
        frames = [a.to_frame() for a in self.analyses]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def summary(self) -> pd.DataFrame:
        """One row per analysis: number, names, settings, k and RevMan's stored total."""
        rows = []
        for a in self.analyses:
            p = a.pooled
            rows.append(
                {
                    "analysis": a.id,
                    "comparison": a.comparison,
                    "outcome": a.name,
                    "data_type": a.settings.data_type,
                    "method": a.settings.method,
                    "model": a.settings.model,
                    "measure": a.settings.measure,
                    "k": a.k,
                    "subgroups": len(a.subgroups),
                    "experimental": a.experimental,
                    "control": a.control,
                    "estimate": p.estimate if p else math.nan,
                    "ci_lb": p.ci_lb if p else math.nan,
                    "ci_ub": p.ci_ub if p else math.nan,
                    "I2": p.I2 if p else math.nan,
                    "tau2": p.tau2 if p else math.nan,
                }
            )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return f"<Review {self.title!r} ({self.format}, {len(self.analyses)} analyses) from {self.file}>"
