"""Declarative analysis specs (TOML): one file per reanalysis in ``models/``.

A spec names the data folder, the arm labels, the outcomes to reanalyse with their orientation,
question, margins (in the units of the outcome's measure) and native-unit conversions, the priors
on mu and tau per measure, the sampler settings and the seed. Everything is validated when the
spec loads: unknown keys are refused with the closest valid key suggested, every prior is built
(so a negative scale or an unknown family is reported at load time, naming the spec key), margins
must lie on the harmful side of the outcome's orientation, and nothing is chosen by name or by
order: roles (``role = "reference"``) and ``primary = true`` say what each prior and margin is
for. Paths are relative to the spec file. The full schema is in ``docs/spec.md``.

Priors have one syntax: a call such as ``"halfnormal(0.5)"``, ``"studentt(nu=5, loc=0, scale=0.43)"``,
``"flat()"`` or a literature constructor ``"rhodes2015(outcome='...', comparison='...')"``, either
as a plain string or as the ``prior`` key of a table with ``role``, ``primary``, ``rationale``,
``citation`` and ``label``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bayesmeta.bayes import priors as _priors
from bayesmeta.bayes.priors import Prior
from bayesmeta.effects import measures as _measures
from bayesmeta.errors import DataError, Problem
from bayesmeta.frequentist import presets as _presets

QUESTIONS = ("noninferiority", "superiority", "equivalence", "estimation")
MU_ROLES = ("reference", "neutral", "sceptical", "enthusiastic", "favours_control", "other")
MEASURES = tuple(_measures.MEASURES)  # the codes of the measures registry
RATIO_MEASURES = _measures.RATIO_MEASURES
CONSTRUCTORS = _priors.CONSTRUCTORS
SAMPLER_BACKENDS = ("nutpie", "pymc")
PRESETS = tuple(_presets.PRESETS)  # the program whose settings the frequentist reproduction follows

# every key the spec accepts, per table (the TOML path with [] for arrays of tables)
ANALYSIS_KEYS = (
    "id",
    "title",
    "citation",
    "data",
    "report",
    "seed",
    "experimental",
    "control",
    "interval_prob",
    "interval_kind",
    "decision_threshold",
    "preset",
)
SAMPLER_KEYS = ("backend", "chains", "draws", "tune", "target_accept", "sample")
OUTCOME_KEYS = (
    "id",
    "label",
    "measure",
    "lower_is_better",
    "question",
    "margins",
    "primary_margin",
    "rope",
    "native",
    "repeated_timepoints",
    "mu_priors",
    "tau_priors",
    "tipping_prior_sd",
    "preset",
    "superiority_threshold",
    "baseline_risk",
    "baseline_risk_source",
    "primary",
    "heterogeneity",
    "control_effect",
)
# the analysis plan (issue 16): the declared primary analysis, what the paper's figures add on
# heterogeneity, and the control's effect over placebo (M1) the margin must respect
PRIMARY_KEYS = ("likelihood", "tau_prior", "mu_prior", "margin", "k", "rationale")
HETEROGENEITY_KEYS = ("i2", "i2_source", "k_range", "k_source")
CONTROL_EFFECT_KEYS = ("value", "native", "comparison", "source")
LIKELIHOOD_NAMES = ("summary_random_effects", "published_heterogeneity")
#: keys of earlier versions of the spec, with what replaces them
MIGRATED_KEYS = {
    "primary_prior": "name the primary analysis in primary = { mu_prior = '...', tau_prior = '...' }",
    "primary_mu_prior": "use primary = { mu_prior = '...' }",
    "primary_tau_prior": "use primary = { tau_prior = '...' }",
    "primary_likelihood": "use primary = { likelihood = 'summary_random_effects' }",
    "likelihood": "use primary = { likelihood = 'summary_random_effects' | 'published_heterogeneity' }",
    "i2": "an I^2 read from a figure goes in heterogeneity = { i2 = 0, i2_source = '...' }",
    "k_range": "use heterogeneity = { k_range = [3, 6], k_source = '...' }",
    "m1": "use control_effect = { value = ..., source = '...' } (the control's effect over placebo)",
}
NATIVE_KEYS = ("unit", "sd", "margins", "sd_source", "margin_source")
REPEATED_KEYS = ("participants_randomised", "rho", "rho_source", "participant_rows", "rows_source")
STUDY_KEYS = (
    "id",
    "label",
    "file",
    "outcome",
    "measure",
    "lower_is_better",
    "question",
    "margins",
    "primary_margin",
    "rope",
    "timepoint",
    "sample",
    "mu_priors",
    "tau_priors",
    "expected_missing",
    "moderators",
    "categorical",
    "study_table",
    "preset",
    "superiority_threshold",
)
PRIOR_KEYS = ("prior", "role", "primary", "rationale", "citation", "label", "transfer")
TOP_KEYS = ("analysis", "sampler", "outcome", "study_level", "mu_priors", "tau_priors")


@dataclass(frozen=True)
class PriorSpec:
    """One named prior of the spec, built and validated at load."""

    name: str
    prior: Prior
    text: str  # the prior as written (``halfnormal(0.5)``)
    role: str | None = None  # mu priors only
    primary: bool = False
    rationale: str = ""
    #: why an empirical prior made for another measure is used here (e.g. Turner's log-OR priors
    #: for log RR); given, the measure check accepts the prior and the report prints the reason
    transfer: str = ""


@dataclass(frozen=True)
class Margins:
    """Margins of one outcome in the units of its measure (ratios as printed, on the harmful side)."""

    values: tuple[float, ...]
    primary: float | None

    def ordered(self) -> tuple[float, ...]:
        """The primary margin first, then the others in the order given."""
        if self.primary is None:
            return self.values
        return (self.primary, *(m for m in self.values if m != self.primary))


@dataclass(frozen=True)
class OutcomeSpec:
    """One published pooled result to reanalyse (``id`` refers to an analysis in ``published.csv``)."""

    id: str
    label: str
    measure: str
    lower_is_better: bool
    question: str
    margins: tuple[float, ...]  # primary first
    rope: float | None = None
    native: MappingProxyType | None = None
    repeated_timepoints: MappingProxyType | None = None
    mu_priors: str = ""  # key of the [mu_priors.<key>] set
    tipping_prior_sd: float | None = None
    tau_priors: str = ""  # key of the [tau_priors.<key>] set of the summary-level analysis ("" = none)
    preset: str | None = None  # program that made the published numbers (block's, else [analysis])
    superiority_threshold: float | None = None  # as printed, on the beneficial side (None: the null)
    baseline_risk: tuple[float, ...] = ()  # control-arm risks for risk differences per 1,000
    baseline_risk_source: str = ""
    # the analysis plan (pipeline/plan.py): declared primary (empty: the default rule), heterogeneity
    # information from the paper's figures / a plausible k range, the control's effect over placebo
    primary: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    heterogeneity: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    control_effect: MappingProxyType | None = None


@dataclass(frozen=True)
class StudyLevelSpec:
    """One study-level (hierarchical) analysis of arm-level rows in the data folder."""

    id: str
    label: str
    file: str
    outcome: str
    measure: str
    lower_is_better: bool
    question: str
    margins: tuple[float, ...]  # primary first
    mu_priors: str
    tau_priors: str
    timepoint: str | None = None
    rope: float | None = None
    sample: bool = True
    expected_missing: bool = False
    moderators: tuple[str, ...] = ()  # columns of the study table (meta-regression, one per moderator)
    categorical: tuple[str, ...] = ()  # moderators coded as categories even when their values are numbers
    study_table: str = "studies.csv"  # the study table in the data folder (one row per study)
    preset: str | None = None  # frequentist reproduction settings (block's, else [analysis])
    superiority_threshold: float | None = None  # as printed, on the beneficial side (None: the null)


@dataclass(frozen=True)
class SamplerSpec:
    backend: str = "nutpie"
    chains: int = 4
    draws: int = 2000
    tune: int = 1000
    target_accept: float = 0.95
    sample: bool = True

    def settings(self) -> dict[str, Any]:
        """Keyword arguments of the fit functions."""
        return {
            "draws": self.draws,
            "tune": self.tune,
            "chains": self.chains,
            "target_accept": self.target_accept,
            "sampler": self.backend,
        }


@dataclass(frozen=True)
class AnalysisSpec:
    """A validated analysis spec. ``raw`` keeps the parsed TOML for provenance."""

    path: Path
    id: str
    title: str
    citation: str
    data_dir: Path
    report_dir: Path
    experimental: str
    control: str
    seed: int
    interval_prob: float
    interval_kind: str
    decision_threshold: float
    sampler: SamplerSpec
    outcomes: tuple[OutcomeSpec, ...]
    mu_priors: MappingProxyType  # set -> name -> PriorSpec
    tau_priors: MappingProxyType
    study_level: tuple[StudyLevelSpec, ...] = ()
    preset: str | None = None
    raw: MappingProxyType = field(default_factory=lambda: MappingProxyType({}), repr=False)

    def to_json(self) -> str:
        """The spec as canonical JSON (stored in every result and report)."""
        return json.dumps(_plain(self.raw), sort_keys=True, default=str)

    @property
    def sha256(self) -> str:
        """sha256 of the canonical JSON of the spec (independent of comments and key order)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def priors(self, kind: str, key: str) -> dict[str, Prior]:
        """The built priors of set ``key`` (``kind`` = ``"mu"`` or ``"tau"``), in spec order."""
        sets = self.mu_priors if kind == "mu" else self.tau_priors
        return {n: p.prior for n, p in sets[key].items()}

    def prior_specs(self, kind: str, key: str) -> dict[str, PriorSpec]:
        sets = self.mu_priors if kind == "mu" else self.tau_priors
        return dict(sets[key])

    def primary(self, kind: str, key: str) -> str:
        """Name of the prior marked ``primary = true`` in set ``key``."""
        return next(
            n for n, p in (self.mu_priors if kind == "mu" else self.tau_priors)[key].items() if p.primary
        )

    def by_role(self, key: str, role: str) -> str | None:
        """Name of the mu prior of set ``key`` with ``role``, or None."""
        return next((n for n, p in self.mu_priors[key].items() if p.role == role), None)


def _plain(x):
    if isinstance(x, Mapping):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    return x


def _freeze(x):
    if isinstance(x, dict):
        return MappingProxyType({k: _freeze(v) for k, v in x.items()})
    if isinstance(x, list):
        return tuple(_freeze(v) for v in x)
    return x


# --- priors ----------------------------------------------------------------------------------


# the one prior syntax lives with the priors (bayesmeta.bayes.priors.parse_prior); the spec, `solve`
# and `batch` all read priors with it
parse_prior_text = _priors.parse_prior


def _build_prior(d: dict, target: str) -> tuple[Prior, str]:
    text = d["prior"]
    prior = parse_prior_text(text, target)
    name = text.split("(")[0].strip()
    if name not in CONSTRUCTORS:
        # a prior written as family(params) is labelled by its family unless a label is given;
        # the rationale is its citation unless one is given
        prior = Prior(
            prior.family,
            prior.params,
            target,
            label=d.get("label") or prior.family,
            citation=d.get("citation") or d.get("rationale", ""),
        )
    elif d.get("label") or d.get("citation"):
        prior = Prior(
            prior.family,
            prior.params,
            target,
            label=d.get("label") or prior.label,
            citation=d.get("citation") or prior.citation,
        )
    return prior, text


# --- TOML output (for the spec that `bayesmeta analyse` writes) ----------------------------------


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} as TOML")


def to_toml(raw: Mapping, header: str = "") -> str:
    """Write a spec (nested dicts as produced by ``tomllib``) as TOML that :func:`load_spec` reads."""
    out = [f"# {line}" for line in header.splitlines()]

    def table(path: str, d: Mapping, array: bool = False):
        scalars = {k: v for k, v in d.items() if not _is_table(v)}
        subs = {k: v for k, v in d.items() if _is_table(v)}
        out.append("")
        out.append(f"[[{path}]]" if array else f"[{path}]")
        out.extend(f"{k} = {_toml_value(v)}" for k, v in scalars.items())
        for k, v in subs.items():
            emit(f"{path}.{_key(k)}", v)

    def emit(path: str, v):
        if isinstance(v, list):
            for item in v:
                table(path, item, array=True)
        elif any(not _is_table(x) for x in v.values()) or not v:
            table(path, v)
        else:
            for k, x in v.items():
                emit(f"{path}.{_key(k)}", x)

    for k, v in raw.items():
        emit(_key(k), v)
    return "\n".join(out).lstrip("\n") + "\n"


def _is_table(v) -> bool:
    return (isinstance(v, Mapping) and bool(v) and all(isinstance(x, Mapping) for x in v.values())) or (
        isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)
    )


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


# --- loading ---------------------------------------------------------------------------------


#: Keys of older spec formats: (migration at the top level / inside a table) -- the new name first.
_PRIOR_TEXT = 'write each prior in one line, prior = "family(parameters)", e.g. prior = "normal(0, 1)" (docs/spec.md)'
_OLD_KEYS = {
    "effect_priors": ("now called mu_priors: write [mu_priors.<set>.<name>] (the priors on mu)",
                      "now called mu_priors"),
    "effect_prior": ("now called mu_priors: write [mu_priors.<set>.<name>]",
                     "now called mu_priors: name a set, mu_priors = '<set>'"),
    "heterogeneity_priors": ("now called tau_priors: write [tau_priors.<set>.<name>]", "now called tau_priors"),
    "default_tau_prior": ("removed: mark the default prior of a set with primary = true (docs/spec.md)",) * 2,
    "default_mu_prior": ("removed: mark the default prior of a set with primary = true (docs/spec.md)",) * 2,
    "family": (_PRIOR_TEXT,) * 2,
}


class _Checker:
    """Collects every problem of a spec file, each naming the spec key."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self.failed_sets: set[tuple[str, str]] = set()  # prior sets with a prior that did not build

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, None, key, message))

    def unknown(self, table: Mapping, allowed, where: str) -> None:
        for k in table:
            if k not in allowed:
                if k in MIGRATED_KEYS and where.startswith("outcome["):
                    self.add(f"{where}.{k}", f"no longer a key: {MIGRATED_KEYS[k]}")
                    continue
                old = _OLD_KEYS.get(str(k))
                close = difflib.get_close_matches(str(k), list(allowed), n=1, cutoff=0.6)
                hint = (
                    f" from an older spec format: {old[1] if where else old[0]}"
                    if old
                    else f"; did you mean '{close[0]}'?"
                    if close
                    else f"; valid keys: {', '.join(allowed)}"
                )
                self.add(f"{where}.{k}" if where else str(k), f"unknown key{hint}")

    def get(self, table: Mapping, key: str, typ, where: str, default=..., check=None, expect: str = ""):
        """``table[key]`` checked for type (and ``check``); ``default`` when absent (``...``: required)."""
        full = f"{where}.{key}" if where else key
        if key not in table:
            if default is ...:
                self.add(full, f"required key is missing (expected {expect or _tname(typ)})")
            return None if default is ... else default
        v = table[key]
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, typ) or (typ is not bool and isinstance(v, bool)):
            self.add(full, f"expected {expect or _tname(typ)}, got {v!r}")
            return None
        if check is not None and not check(v):
            self.add(full, f"expected {expect}, got {v!r}")
            return None
        return v


def _tname(typ) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    return names.get(typ, getattr(typ, "__name__", str(typ)))


def _finite(v) -> bool:
    return math.isfinite(v)


def _check_margins(
    c: _Checker, d: Mapping, where: str, measure: str | None, lib: bool | None, question: str | None
) -> tuple[tuple[float, ...], float | None]:
    needs = question in ("noninferiority", "equivalence")
    if "margins" not in d:
        if needs:
            c.add(
                f"{where}.margins",
                f"required for question = '{question}' (a list of margins in {measure} "
                "units, e.g. [0.2] for SMD or [1.25] for a ratio)",
            )
        return (), None
    ms = d["margins"]
    if not (
        isinstance(ms, list)
        and ms
        and all(isinstance(m, int | float) and not isinstance(m, bool) and math.isfinite(m) for m in ms)
    ):
        c.add(f"{where}.margins", f"expected a non-empty list of numbers in {measure} units, got {ms!r}")
        return (), None
    ms = [float(m) for m in ms]
    if len(set(ms)) != len(ms):
        c.add(f"{where}.margins", f"margins repeat a value: {ms}")
    ok = True
    if measure is not None and lib is not None:
        if measure in RATIO_MEASURES:
            bad = [m for m in ms if (m <= 1 if lib else not 0 < m < 1)]
            if bad:
                side = "above 1" if lib else "between 0 and 1"
                flip = ", ".join(f"{1 / m:.4g}" for m in bad if m > 0)
                c.add(
                    f"{where}.margins",
                    f"{measure} margins are ratios on the harmful side: with lower_is_better = "
                    f"{'true' if lib else 'false'} they must lie {side}; got {bad}"
                    + (f" (did you mean {flip}?)" if flip else ""),
                )
                ok = False
        else:
            bad = [m for m in ms if m <= 0]
            if bad:
                c.add(
                    f"{where}.margins",
                    f"{measure} margins are positive distances toward the harmful side "
                    f"(the side follows lower_is_better); got {bad}",
                )
                ok = False
    primary = d.get("primary_margin")
    if primary is None:
        if len(ms) > 1:
            c.add(
                f"{where}.primary_margin",
                f"several margins {ms}: say which one decides, e.g. primary_margin = {ms[0]:g}",
            )
            return (), None
        primary = ms[0]
    elif isinstance(primary, bool) or not isinstance(primary, int | float) or float(primary) not in ms:
        c.add(f"{where}.primary_margin", f"must be one of the margins {ms}, got {primary!r}")
        return (), None
    primary = float(primary)
    if not ok:
        return (), None
    return (primary, *(m for m in ms if m != primary)), primary


def _rope_unit(measure: str | None) -> str:
    return f"a ratio above 1 for {measure}" if measure in RATIO_MEASURES else f"in {measure} units"


def _decision_keys(c: _Checker, d: Mapping, where: str, measure: str | None):
    """The keys that state a decision, shared by ``[[outcome]]`` and ``[[study_level]]`` blocks:
    ``lower_is_better``, ``question``, the margins (checked against both) and ``rope``."""
    lib = c.get(d, "lower_is_better", bool, where)
    q = c.get(d, "question", str, where, check=lambda v: v in QUESTIONS,
              expect=" | ".join(f"'{x}'" for x in QUESTIONS))
    margins, _ = _check_margins(c, d, where, measure, lib, q)
    return lib, q, margins, _check_rope(c, d, where, measure), _check_superiority(c, d, where, measure, lib)


def _check_superiority(c: _Checker, d: Mapping, where: str, measure: str | None, lib: bool | None) -> float | None:
    """``superiority_threshold``: the effect that counts as a benefit, on the beneficial side.

    Ratios as printed (below 1 when lower is better, e.g. RR 0.8; above 1 otherwise); differences
    a positive distance toward the beneficial side (SMD 0.1 with lower_is_better = true means
    benefit is SMD < -0.1), the same convention as the margins, which lie on the harmful side.
    """
    if "superiority_threshold" not in d:
        return None
    key = f"{where}.superiority_threshold"
    v = d["superiority_threshold"]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        c.add(key, f"expected a number in {measure or 'the measure'}'s units on the beneficial side, got {v!r}")
        return None
    v = float(v)
    if measure is None or lib is None:
        return v  # the measure or orientation problem is listed already
    if measure in RATIO_MEASURES:
        ok = 0 < v < 1 if lib else v > 1
        if not ok:
            side = "between 0 and 1" if lib else "above 1"
            flip = f" (did you mean {1 / v:.4g}?)" if v > 0 and v != 1 else ""
            c.add(
                key,
                f"{measure} thresholds of benefit are ratios on the beneficial side: with lower_is_better = "
                f"{'true' if lib else 'false'} it must lie {side}; got {v:g}{flip}",
            )
            return None
    elif v <= 0:
        c.add(
            key,
            f"{measure} thresholds of benefit are positive distances toward the beneficial side (the side "
            f"follows lower_is_better: 0.1 means benefit = {measure} {'<' if lib else '>'} "
            f"{'-' if lib else ''}0.1); got {v:g}",
        )
        return None
    return v


def _check_preset(c: _Checker, d: Mapping, where: str) -> str | None:
    """``preset``: the program whose settings the frequentist reproduction follows."""
    if "preset" not in d:
        return None
    v = d["preset"]
    if isinstance(v, str) and v.lower() in PRESETS:
        return v.lower()
    close = difflib.get_close_matches(str(v).lower(), list(PRESETS), n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    c.add(
        f"{where}.preset",
        f"expected {' | '.join(repr(x) for x in PRESETS)} (RevMan 5.4, RevMan since 2025, metafor's "
        f"defaults), got {v!r}{hint}",
    )
    return None


BINARY_RATIO_MEASURES = ("RR", "OR")


def _check_baseline_risk(c: _Checker, d: Mapping, where: str, measure: str | None) -> tuple[tuple[float, ...], str]:
    """``baseline_risk`` (control-arm risks in (0, 1)) with its required ``baseline_risk_source``."""
    if "baseline_risk" not in d:
        if "baseline_risk_source" in d:
            c.add(f"{where}.baseline_risk_source", "given without baseline_risk: add baseline_risk = [...]")
        return (), ""
    v = d["baseline_risk"]
    vals = v if isinstance(v, list) else [v]
    if not (
        vals
        and all(isinstance(x, int | float) and not isinstance(x, bool) and 0 < x < 1 for x in vals)
    ):
        c.add(
            f"{where}.baseline_risk",
            f"expected control-arm risks in (0, 1) (a proportion, not a percentage), e.g. [0.01, 0.05, 0.1]; "
            f"got {v!r}",
        )
        return (), ""
    if measure is not None and measure not in BINARY_RATIO_MEASURES:
        c.add(
            f"{where}.baseline_risk",
            f"risk differences per 1,000 are computed for binary ratio measures ({', '.join(BINARY_RATIO_MEASURES)}); "
            f"this outcome's measure is {measure}",
        )
        return (), ""
    src = c.get(
        d,
        "baseline_risk_source",
        str,
        where,
        check=lambda s: bool(s.strip()),
        expect="where the baseline risks come from (a study, a registry, or 'ASSUMPTION: ...')",
    )
    if len(set(vals)) != len(vals):
        c.add(f"{where}.baseline_risk", f"risks repeat a value: {vals}")
    return tuple(float(x) for x in vals), src or ""


def _plan_keys(
    c: _Checker, o: Mapping, where: str, measure: str | None, mu_sets: Mapping, mset: str, tau_sets: Mapping,
    tset: str, margins: tuple[float, ...] | None,
) -> tuple[dict, dict, dict | None]:
    """``primary``, ``heterogeneity`` and ``control_effect`` of an ``[[outcome]]`` (pipeline/plan.py)."""
    prim: dict = {}
    raw = o.get("primary")
    if raw is not None:
        if not isinstance(raw, dict):
            c.add(f"{where}.primary", "expected a table {likelihood, tau_prior, mu_prior, margin, k, rationale}")
        else:
            w = f"{where}.primary"
            c.unknown(raw, PRIMARY_KEYS, w)
            lik = c.get(raw, "likelihood", str, w, default=None, check=lambda v: v in LIKELIHOOD_NAMES,
                        expect=" | ".join(LIKELIHOOD_NAMES))
            mu = c.get(raw, "mu_prior", str, w, default=None)
            if mu is not None and mset in mu_sets and mu not in mu_sets[mset]:
                c.add(f"{w}.mu_prior", f"{mu!r} is not a prior of [mu_priors.{mset}] (it has: "
                      f"{', '.join(mu_sets[mset])})")
            tau = c.get(raw, "tau_prior", str, w, default=None)
            if tau is not None and (not tset or tau not in tau_sets.get(tset, {})):
                have = ", ".join(tau_sets.get(tset, {})) if tset else "none"
                c.add(f"{w}.tau_prior", f"{tau!r} is not a prior of the outcome's tau set (it has: {have})")
            if lik == "summary_random_effects" and not tset:
                c.add(f"{w}.likelihood", "summary_random_effects needs tau priors for the outcome's measure "
                      "([tau_priors.<measure>] or tau_priors = '<set>')")
            m = c.get(raw, "margin", float, w, default=None)
            if m is not None and margins is not None and float(m) not in margins:
                c.add(f"{w}.margin", f"must be one of the margins {list(margins)}, got {m!r}")
            k = c.get(raw, "k", int, w, default=None, check=lambda v: v >= 2, expect="an integer >= 2")
            c.get(raw, "rationale", str, w, default="")
            prim = {kk: v for kk, v in (("likelihood", lik), ("mu_prior", mu), ("tau_prior", tau), ("margin", m),
                                         ("k", k), ("rationale", raw.get("rationale"))) if v is not None}
    het: dict = {}
    raw = o.get("heterogeneity")
    if raw is not None:
        w = f"{where}.heterogeneity"
        if not isinstance(raw, dict):
            c.add(w, "expected a table {i2, i2_source, k_range, k_source}")
        else:
            c.unknown(raw, HETEROGENEITY_KEYS, w)
            i2 = c.get(raw, "i2", float, w, default=None, check=lambda v: 0 <= v < 100,
                       expect="I^2 in percent, in [0, 100)")
            if i2 is not None:
                src = c.get(raw, "i2_source", str, w, check=lambda v: bool(v.strip()),
                            expect="where the I^2 is read (e.g. the forest plot of Figure 2): it is an assumption, "
                            "not a value of the text")
                het.update(i2=i2, i2_source=src)
            kr = c.get(raw, "k_range", list, w, default=None,
                       check=lambda v: len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) and x >= 2
                                                           for x in v) and v[0] <= v[1],
                       expect="[smallest, largest] plausible number of trials (integers >= 2)")
            if kr is not None:
                src = c.get(raw, "k_source", str, w, check=lambda v: bool(v.strip()),
                            expect="why these k are plausible")
                het.update(k_range=tuple(range(int(kr[0]), int(kr[1]) + 1)), k_source=src)
    ce = None
    raw = o.get("control_effect")
    if raw is not None:
        w = f"{where}.control_effect"
        if not isinstance(raw, dict):
            c.add(w, "expected a table {value, native, comparison, source}")
        else:
            c.unknown(raw, CONTROL_EFFECT_KEYS, w)
            v = c.get(raw, "value", float, w, check=lambda x: x > 0 and math.isfinite(x),
                      expect=f"the control's effect over placebo (M1) as a positive {measure or ''} magnitude"
                      " (ratios as printed, e.g. 1.5)")
            nat = c.get(raw, "native", float, w, default=None, check=lambda x: x > 0, expect="a positive number")
            comp = c.get(raw, "comparison", str, w, default="")
            src = c.get(raw, "source", str, w, check=lambda x: bool(x.strip()), expect="the study that measured it")
            if v is not None and src is not None:
                ce = {"value": v, "native": nat, "comparison": comp, "source": src}
    return prim, het, ce


def _check_rope(c: _Checker, d: Mapping, where: str, measure: str | None) -> float | None:
    if "rope" not in d:
        return None
    r = d["rope"]
    okay = (
        isinstance(r, int | float)
        and not isinstance(r, bool)
        and math.isfinite(r)
        and (r > 1 if measure in RATIO_MEASURES else r > 0)
    )
    if not okay:
        c.add(
            f"{where}.rope",
            "half-width of the region of practical equivalence: a positive number "
            f"({_rope_unit(measure)}), got {r!r}",
        )
        return None
    return float(r)


def _moderator_keys(c: _Checker, b: Mapping, where: str) -> dict[str, Any]:
    """``moderators``, ``categorical`` (lists of column names) and ``study_table`` of a study-level block."""
    out: dict[str, Any] = {}
    for key in ("moderators", "categorical"):
        v = c.get(b, key, list, where, default=[], expect="a list of column names of the study table")
        if v is None:
            continue
        if not all(isinstance(x, str) and x.strip() for x in v):
            c.add(f"{where}.{key}", f"expected a list of column names (strings), got {v!r}")
            continue
        dup = sorted({x for x in v if v.count(x) > 1})
        if dup:
            c.add(f"{where}.{key}", f"{', '.join(map(repr, dup))} listed more than once")
            continue
        out[key] = tuple(v)
    st = c.get(b, "study_table", str, where, default="studies.csv",
               check=lambda v: v.lower().endswith((".csv", ".xlsx", ".xlsm", ".ods")),
               expect="a CSV file (or .xlsx/.ods workbook) in the data folder (one row per study)")
    if st is not None:
        out["study_table"] = st
    for x in out.get("categorical", ()):
        if x not in out.get("moderators", ()):
            c.add(f"{where}.categorical", f"{x!r} is not in {where}.moderators: add it there or remove it here")
    return out


def _check_prior_sets(c: _Checker, raw: Mapping, kind: str) -> dict[str, dict[str, PriorSpec]]:
    top = f"{kind}_priors"
    sets = raw.get(top, {})
    if not isinstance(sets, dict):
        c.add(top, "expected tables [" + top + ".<measure>.<name>]")
        return {}
    out: dict[str, dict[str, PriorSpec]] = {}
    for key, priors in sets.items():
        where = f"{top}.{key}"
        if not isinstance(priors, dict) or not priors:
            c.add(where, f'expected named priors, e.g. [{where}.halfnormal_05] prior = "halfnormal(0.5)"')
            continue
        built: dict[str, PriorSpec] = {}
        for name, d in priors.items():
            w = f"{where}.{name}"
            if isinstance(d, str):
                d = {"prior": d}
            if not isinstance(d, dict):
                c.add(
                    w,
                    f"expected a prior string such as \"halfnormal(0.5)\" or a table with 'prior', got {d!r}",
                )
                continue
            c.unknown(d, PRIOR_KEYS, w)
            text = c.get(d, "prior", str, w, expect='a prior such as "halfnormal(0.5)"')
            role = None
            if kind == "mu":
                role = c.get(
                    d,
                    "role",
                    str,
                    w,
                    check=lambda v: v in MU_ROLES,
                    expect=" | ".join(f"'{r}'" for r in MU_ROLES),
                )
            elif "role" in d:
                c.add(
                    f"{w}.role",
                    "roles are given to mu priors only; mark the default tau prior with primary = true",
                )
            primary = c.get(d, "primary", bool, w, default=False)
            for k in ("rationale", "citation", "label", "transfer"):
                c.get(d, k, str, w, default="")
            if text is None:
                continue
            try:
                prior, text = _build_prior(d, kind)
            except (ValueError, TypeError) as e:
                c.add(f"{w}.prior", str(e))
                c.failed_sets.add((kind, key))
                continue
            if role == "reference" and prior.proper:
                c.add(
                    f"{w}.role",
                    "a 'reference' prior reproduces the frequentist result and must be flat(); "
                    f"{text!r} is proper (use role = 'neutral' or 'other')",
                )
            built[name] = PriorSpec(name, prior, text, role, bool(primary), d.get("rationale", ""),
                                   d.get("transfer", ""))
        prim = [n for n, p in built.items() if p.primary]
        if len(prim) > 1:
            c.add(where, f"more than one prior is marked primary = true: {', '.join(prim)}")
        if kind == "mu" and sum(p.role == "reference" for p in built.values()) > 1:
            c.add(where, "more than one prior has role = 'reference'")
        out[key] = built
    return out


def _prior_set_for(
    c: _Checker,
    d: Mapping,
    where: str,
    kind: str,
    measure: str | None,
    sets: dict,
    need_primary: bool,
    need_reference: bool = False,
) -> str:
    key = d.get(f"{kind}_priors", measure)
    if key is None:
        return ""  # no valid measure to take the set's name from: that problem is already listed
    if not isinstance(key, str):
        c.add(f"{where}.{kind}_priors", f"expected the name of a [{kind}_priors.<name>] set, got {key!r}")
        return ""
    if key not in sets:
        have = ", ".join(sets) or "none"
        how = (
            f"add [{kind}_priors.{key}.<name>] tables"
            if f"{kind}_priors" not in d
            else f"name one of the defined sets ({have})"
        )
        c.add(
            f"{where}.{kind}_priors" if f"{kind}_priors" in d else where,
            f"no {kind} priors for {key!r} (defined sets: {have}); {how}, or set {kind}_priors = '<set>'"
            " to use another set explicitly",
        )
        return ""
    if (kind, key) in c.failed_sets:
        return key  # its problems are already listed
    if need_primary and not any(p.primary for p in sets[key].values()):
        c.add(
            f"{kind}_priors.{key}", f"mark the prior used by default with primary = true (needed by {where})"
        )
    if need_reference and not any(p.role == "reference" for p in sets[key].values()):
        c.add(
            f"{kind}_priors.{key}",
            f"{where} reanalyses a published result: add a prior with "
            'prior = "flat()" and role = "reference" (it reproduces the published result)',
        )
    return key


def load_spec(path) -> AnalysisSpec:
    """Read and validate a spec file; raise :class:`DataError` listing every problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(Problem(str(path), None, None, "spec file not found")) from None
    except IsADirectoryError:
        raise DataError(Problem(str(path), None, None, "is a folder; give the spec file (.toml)")) from None
    except UnicodeDecodeError:
        raise DataError(Problem(str(path), None, None, "spec file is not UTF-8 text")) from None
    except tomllib.TOMLDecodeError as e:
        raise DataError(Problem(str(path), getattr(e, "lineno", None), None, f"invalid TOML: {e}")) from None
    return spec_from_dict(raw, path)


def spec_from_dict(raw: dict, path) -> AnalysisSpec:
    """Validate a parsed spec (``path``: the file it came from; relative paths are resolved from it)."""
    path = Path(path)
    c = _Checker(str(path))
    c.unknown(raw, TOP_KEYS, "")
    a = raw.get("analysis")
    if not isinstance(a, dict):
        raise DataError(Problem(str(path), None, "analysis", "the [analysis] table is missing"))
    c.unknown(a, ANALYSIS_KEYS, "analysis")
    aid = c.get(a, "id", str, "analysis")
    data = c.get(a, "data", str, "analysis", expect="the data folder, relative to the spec")
    report = c.get(a, "report", str, "analysis", expect="the report folder, relative to the spec")
    seed = c.get(a, "seed", int, "analysis", check=lambda v: v >= 0, expect="a non-negative integer")
    exp = c.get(
        a,
        "experimental",
        str,
        "analysis",
        check=lambda v: bool(v.strip()),
        expect="the experimental arm's label, as in the data",
    )
    ctl = c.get(
        a,
        "control",
        str,
        "analysis",
        check=lambda v: bool(v.strip()),
        expect="the control arm's label, as in the data",
    )
    if exp is not None and exp == ctl:
        c.add("analysis.control", f"the control label equals the experimental label {exp!r}")
    prob = c.get(
        a,
        "interval_prob",
        float,
        "analysis",
        default=0.95,
        check=lambda v: 0 < v < 1,
        expect="a probability in (0, 1), e.g. 0.95",
    )
    kind = c.get(
        a,
        "interval_kind",
        str,
        "analysis",
        default="hdi",
        check=lambda v: v in ("hdi", "eti"),
        expect="'hdi' or 'eti'",
    )
    thr = c.get(
        a,
        "decision_threshold",
        float,
        "analysis",
        default=0.95,
        check=lambda v: 0.5 < v < 1,
        expect="a probability in (0.5, 1), e.g. 0.95 (not a percentage)",
    )
    for k in ("title", "citation"):
        c.get(a, k, str, "analysis", default="")
    preset = _check_preset(c, a, "analysis")

    s = raw.get("sampler", {})
    sampler = SamplerSpec()
    if not isinstance(s, dict):
        c.add("sampler", "expected a table [sampler]")
    else:
        c.unknown(s, SAMPLER_KEYS, "sampler")
        sampler = SamplerSpec(
            backend=c.get(
                s,
                "backend",
                str,
                "sampler",
                default="nutpie",
                check=lambda v: v in SAMPLER_BACKENDS,
                expect="'nutpie' or 'pymc'",
            )
            or "nutpie",
            chains=c.get(
                s, "chains", int, "sampler", default=4, check=lambda v: v >= 1, expect="an integer >= 1"
            )
            or 4,
            draws=c.get(
                s, "draws", int, "sampler", default=2000, check=lambda v: v >= 1, expect="an integer >= 1"
            )
            or 2000,
            tune=c.get(
                s, "tune", int, "sampler", default=1000, check=lambda v: v >= 0, expect="an integer >= 0"
            )
            or 0,
            target_accept=c.get(
                s,
                "target_accept",
                float,
                "sampler",
                default=0.95,
                check=lambda v: 0 < v < 1,
                expect="a probability in (0, 1)",
            )
            or 0.95,
            sample=bool(c.get(s, "sample", bool, "sampler", default=True)),
        )

    mu_sets = _check_prior_sets(c, raw, "mu")
    tau_sets = _check_prior_sets(c, raw, "tau")

    outcomes = []
    raw_out = raw.get("outcome", [])
    if not isinstance(raw_out, list):
        c.add("outcome", "expected [[outcome]] blocks")
        raw_out = []
    for i, o in enumerate(raw_out):
        where = f"outcome[{i}]"
        c.unknown(o, OUTCOME_KEYS, where)
        oid = c.get(o, "id", str, where, expect="the id of an analysis in published.csv")
        measure = c.get(
            o,
            "measure",
            str,
            where,
            check=lambda v: v in MEASURES,
            expect=" | ".join(MEASURES) + " (the measure of the published result; margins are in its units)",
        )
        lib, q, margins, rope, sup = _decision_keys(c, o, where, measure)
        if q is not None and q not in ("noninferiority", "equivalence") and "margins" not in o:
            # a published result is reanalysed over margins (curves, tipping points, bottom line)
            c.add(
                f"{where}.margins",
                f"required in [[outcome]] blocks, also for question = '{q}' (the reanalysis of a published "
                f"result shows P(non-inferior) over margins beside P(benefit)); give margins in {measure} units, "
                "e.g. [0.2] for SMD or [1.25] for a ratio, or analyse the study rows in a [[study_level]] "
                "block, which needs none",
            )
        o_preset = _check_preset(c, o, where) or preset
        risks, risk_src = _check_baseline_risk(c, o, where, measure)
        native = o.get("native")
        if native is not None:
            if not isinstance(native, dict):
                c.add(f"{where}.native", "expected a table {unit, sd, margins, sd_source, margin_source}")
                native = None
            else:
                c.unknown(native, NATIVE_KEYS, f"{where}.native")
                c.get(native, "unit", str, f"{where}.native")
                c.get(
                    native,
                    "sd",
                    float,
                    f"{where}.native",
                    check=lambda v: v > 0 and math.isfinite(v),
                    expect="a positive number (the SD that converts native units to SMD units)",
                )
                c.get(
                    native,
                    "sd_source",
                    str,
                    f"{where}.native",
                    check=lambda v: bool(v.strip()),
                    expect="where the SD comes from",
                )
                c.get(native, "margin_source", str, f"{where}.native", default="")
                nm = c.get(
                    native,
                    "margins",
                    list,
                    f"{where}.native",
                    check=lambda v: (
                        bool(v)
                        and all(isinstance(x, int | float) and not isinstance(x, bool) and x > 0 for x in v)
                    ),
                    expect="a non-empty list of positive margins in native units",
                )
                if measure is not None and measure not in ("SMD", "SMD_revman"):
                    c.add(
                        f"{where}.native",
                        f"native-unit margins convert SMD margins; this outcome's measure is {measure}",
                    )
                if nm is None:
                    native = None
        rt = o.get("repeated_timepoints")
        if rt is not None:
            if not isinstance(rt, dict):
                c.add(
                    f"{where}.repeated_timepoints",
                    "expected a table {participants_randomised, rho, rho_source}",
                )
                rt = None
            else:
                c.unknown(rt, REPEATED_KEYS, f"{where}.repeated_timepoints")
                c.get(
                    rt,
                    "participants_randomised",
                    int,
                    f"{where}.repeated_timepoints",
                    check=lambda v: v > 0,
                    expect="a positive integer",
                )
                c.get(
                    rt,
                    "rho",
                    float,
                    f"{where}.repeated_timepoints",
                    default=0.5,
                    check=lambda v: 0 <= v <= 1,
                    expect="a correlation in [0, 1]",
                )
                c.get(rt, "rho_source", str, f"{where}.repeated_timepoints", default="")
                rows = c.get(rt, "participant_rows", int, f"{where}.repeated_timepoints", default=None,
                             check=lambda v: v > 0, expect="a positive integer (participants summed over the "
                             "pooled rows: time points or component outcomes)")
                if rows is not None:
                    c.get(rt, "rows_source", str, f"{where}.repeated_timepoints",
                          check=lambda v: bool(v.strip()), expect="where the participant rows are counted")
                if measure in RATIO_MEASURES and rows is None:
                    c.add(
                        f"{where}.repeated_timepoints",
                        "for a ratio measure give participant_rows (participants summed over the pooled "
                        "component outcomes or time points): the rows per patient cannot be implied from an RR",
                    )
        tip = c.get(
            o,
            "tipping_prior_sd",
            float,
            where,
            default=None,
            check=lambda v: v > 0 and math.isfinite(v),
            expect="a positive prior SD on the analysis scale",
        )
        mset = _prior_set_for(c, o, where, "mu", measure, mu_sets, need_primary=False, need_reference=True)
        if "tau_priors" in o or measure in tau_sets:
            # the summary-level random-effects analysis: the block's set, else the measure's set if any
            tset = _prior_set_for(c, o, where, "tau", measure, tau_sets, need_primary=True)
        else:
            tset = ""
        c.get(o, "label", str, where, default="")
        prim, het, ce = _plan_keys(c, o, where, measure, mu_sets, mset, tau_sets, tset, margins)
        if oid is not None and lib is not None and measure is not None and q is not None:
            outcomes.append(
                OutcomeSpec(
                    id=oid,
                    label=o.get("label") or oid,
                    measure=measure,
                    lower_is_better=lib,
                    question=q,
                    margins=margins,
                    rope=rope,
                    native=_freeze(native) if native else None,
                    repeated_timepoints=_freeze(rt) if rt else None,
                    mu_priors=mset,
                    tipping_prior_sd=tip,
                    tau_priors=tset,
                    preset=o_preset,
                    superiority_threshold=sup,
                    baseline_risk=risks,
                    baseline_risk_source=risk_src,
                    primary=_freeze(prim),
                    heterogeneity=_freeze(het),
                    control_effect=_freeze(ce) if ce else None,
                )
            )

    study_level = []
    raw_sl = raw.get("study_level", [])
    if not isinstance(raw_sl, list):
        c.add("study_level", "expected [[study_level]] blocks")
        raw_sl = []
    for i, b in enumerate(raw_sl):
        where = f"study_level[{i}]"
        c.unknown(b, STUDY_KEYS, where)
        bid = c.get(b, "id", str, where)
        file = c.get(b, "file", str, where, expect="an arm-level CSV in the data folder")
        outc = c.get(b, "outcome", str, where, expect="an outcome label of the data file")
        measure = c.get(b, "measure", str, where, check=lambda v: v in MEASURES, expect=" | ".join(MEASURES))
        lib, q, margins, rope, sup = _decision_keys(c, b, where, measure)
        b_preset = _check_preset(c, b, where) or preset
        tp = c.get(b, "timepoint", str, where, default=None)
        sample = c.get(b, "sample", bool, where, default=True)
        em = c.get(b, "expected_missing", bool, where, default=False)
        c.get(b, "label", str, where, default="")
        mods = _moderator_keys(c, b, where)
        mset = _prior_set_for(c, b, where, "mu", measure, mu_sets, need_primary=True)
        tset = _prior_set_for(c, b, where, "tau", measure, tau_sets, need_primary=True)
        if None not in (bid, file, outc, measure, lib, q):
            study_level.append(
                StudyLevelSpec(
                    id=bid,
                    label=b.get("label") or bid,
                    file=file,
                    outcome=outc,
                    measure=measure,
                    lower_is_better=lib,
                    question=q,
                    margins=margins,
                    mu_priors=mset,
                    tau_priors=tset,
                    timepoint=tp,
                    rope=rope,
                    sample=bool(sample),
                    expected_missing=bool(em),
                    **mods,
                    preset=b_preset,
                    superiority_threshold=sup,
                )
            )
    ids = [o.id for o in outcomes] + [b.id for b in study_level]
    dup = sorted({x for x in ids if ids.count(x) > 1})
    if dup:
        c.add(
            "outcome", f"ids must be unique across [[outcome]] and [[study_level]]: {', '.join(dup)} repeat"
        )
    if not raw_out and not raw_sl and not c.problems:
        c.add("outcome", "no [[outcome]] or [[study_level]] blocks: nothing to analyse")
    if c.problems:
        raise DataError(c.problems)
    base = path.parent
    return AnalysisSpec(
        path=path,
        id=aid,
        title=a.get("title") or aid,
        citation=a.get("citation", ""),
        data_dir=(base / data).resolve(),
        report_dir=(base / report).resolve(),
        experimental=exp,
        control=ctl,
        seed=seed,
        interval_prob=float(prob),
        interval_kind=kind,
        decision_threshold=float(thr),
        sampler=sampler,
        outcomes=tuple(outcomes),
        mu_priors=MappingProxyType({k: MappingProxyType(v) for k, v in mu_sets.items()}),
        tau_priors=MappingProxyType({k: MappingProxyType(v) for k, v in tau_sets.items()}),
        study_level=tuple(study_level),
        preset=preset,
        raw=_freeze(raw),
    )
