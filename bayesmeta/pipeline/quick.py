"""A spec for one data file: what ``bayesmeta analyse DATA.csv ...`` runs, and writes beside its report.

:func:`spec_for_data` turns a data file and a few choices (measure, orientation, margins, priors,
question) into the plain dict of a spec (``[analysis]``, ``[sampler]``, one ``[[study_level]]``
block, prior sets), validated by :func:`bayesmeta.pipeline.spec.spec_from_dict` exactly as a
hand-written spec. Paths are written relative to the report folder, so ``bayesmeta reanalyze
DIR/spec.toml`` repeats the run and the file can be edited.

Default priors (each can be replaced by ``--tau-prior`` / ``--mu-prior`` in the spec syntax):

* tau: half-normal(0.5) (primary), half-normal(1.0), half-Cauchy(0.5) for SMD/MD/RD/GEN; for
  log RR / log OR also the Cochrane-wide empirical priors of Bartos et al. (2023), for SMD the
  empirical prior of Bartos et al. (2021);
* mu: a weakly informative normal (SMD: N(0, 1); log RR: N(0, 2^2) and log OR: N(0, 4^2), the
  unit-information priors of Roever 2020) as primary, and a sceptical N(0, s^2) putting 95% within
  the primary margin (when one is given) for superiority, centred on the margin (prior P(non-inferior)
  = 0.5) for non-inferiority.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bayesmeta.effects.measures import get_measure
from bayesmeta.errors import DataError, Problem
from bayesmeta.pipeline.spec import QUESTIONS
from bayesmeta.pipeline.study_level import data_kind

_TAU_DEFAULT = {
    "halfnormal_05": "halfnormal(scale=0.5)",
    "halfnormal_1": "halfnormal(scale=1.0)",
    "halfcauchy_05": "halfcauchy(scale=0.5)",
}
_TAU_EXTRA = {
    "RR": {"bartos2023": "bartos2023(measure='logRR')"},
    "OR": {"bartos2023": "bartos2023(measure='logOR')"},
    "SMD": {"bartos2021": "bartos2021()"},
    "SMD_revman": {"bartos2021": "bartos2021()"},
}
#: Columns of the data vocabulary (docs/data-format.md); any other column can be a moderator.
_DATA_COLUMNS = frozenset({
    "study", "outcome", "timepoint", "subgroup", "arm", "n", "mean", "sd", "events", "source", "status",
    "missing_reason", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "ai", "bi", "ci", "di", "yi", "vi", "sei",
    "estimate", "se", "ci_lb", "ci_ub", "ci_level", "scale", "measure",
})
_MU_SD = {"RR": 2.0, "OR": 4.0, "HR": 2.0, "ROM": 2.0, "SMD": 1.0, "SMD_revman": 1.0}


def _frame(path: Path):
    """The data file as text (every cell a string), or None when unreadable (the reader says why)."""
    from bayesmeta.data.tables import _read_csv

    try:
        df, _ = _read_csv(path)
    except DataError:
        return None
    return df.drop(columns="_line").apply(lambda c: c.str.strip())


def _present(df, column: str, where=None) -> list[str]:
    if df is None or column not in df:
        return []
    vals = df[column] if where is None else df.loc[where, column]
    return list(dict.fromkeys(v for v in vals if v))


def _closest(value: str, present: list[str]) -> str:
    import difflib

    close = [p for p in present if p.lower() == value.lower()] or difflib.get_close_matches(value, present, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def spec_for_data(
    data: Path,
    out: Path,
    *,
    measure: str,
    lower_is_better: bool,
    question: str,
    margins: list[float],
    tau_priors: list[str],
    mu_priors: list[str],
    outcome: str | None,
    timepoint: str | None,
    experimental: str | None,
    control: str | None,
    seed: int,
    sample: bool,
    draws: int,
    chains: int,
    mods: tuple[str, ...] | list[str] = (),
) -> dict[str, Any]:
    """The spec (as a dict) for analysing ``data`` into ``out`` (see module docstring).

    Raises :class:`DataError` naming the command-line option when a choice is missing or invalid.
    """
    data, out = Path(data).resolve(), Path(out).resolve()
    problems: list[Problem] = []

    def bad(option: str, message: str) -> None:
        problems.append(Problem("command line", None, option, message))

    try:
        m = get_measure(measure)
    except ValueError as e:
        raise DataError(Problem("command line", None, "--measure", str(e))) from None
    if question not in QUESTIONS:
        bad("--question", f"expected one of {', '.join(QUESTIONS)}")
    kind = data_kind(data)
    if kind not in ("continuous_arms", "binary_arms", "continuous_studies", "binary_studies", "contrasts"):
        raise DataError(
            Problem(
                str(data),
                1,
                None,
                f"holds {kind}, not study data; `bayesmeta analyse` takes "
                "arm-level rows, one row per study, or contrasts",
            )
        )
    df = _frame(data)
    has_outcome = df is not None and "outcome" in df
    outcomes = _present(df, "outcome")
    if outcome is not None and df is not None and not has_outcome:
        bad("--outcome", f"{data} has no outcome column (the whole file is one outcome): leave --outcome out")
    elif outcome is not None and df is not None and outcome not in outcomes:
        bad("--outcome", f"{outcome!r} is not an outcome of {data} (it has: {', '.join(outcomes)})"
            + _closest(outcome, outcomes))
    elif outcome is None and len(outcomes) > 1:
        bad("--outcome", f"{data.name} holds outcomes {', '.join(outcomes)}: name one")
    elif outcome is None and len(outcomes) == 1:
        outcome = outcomes[0]
    if df is not None and "timepoint" in df and not any(p.column == "--outcome" for p in problems):
        rows = df["outcome"] == outcome if has_outcome and outcome is not None else None
        tps = _present(df, "timepoint", rows)
        of = f" of {outcome!r}" if has_outcome else ""
        if timepoint is not None and timepoint not in tps:
            bad("--timepoint", f"{timepoint!r} is not a time point{of} in {data} (it has: {', '.join(tps) or 'none'})"
                + _closest(timepoint, tps))
        elif timepoint is None and len(tps) > 1:
            key = [c for c in ("study", "arm") if c in df]
            sub = df if rows is None else df[rows]
            if sub.duplicated(key).any():
                bad("--timepoint", f"{data.name} holds the time points {', '.join(tps)}{of}; the same patients "
                    "would count more than once: choose one with --timepoint")
    elif timepoint is not None and df is not None:
        bad("--timepoint", f"{data} has no timepoint column: leave --timepoint out")
    if kind in ("continuous_arms", "binary_arms"):
        arms = _present(df, "arm")
        vfile = data.parent / "vocabulary.toml"
        if experimental is None and control is None and vfile.exists():
            from bayesmeta.data.tables import Vocabulary

            v = Vocabulary.load(vfile)
            experimental, control = v.experimental, v.control
        if experimental is None or control is None:
            if set(arms) <= {"experimental", "control"} and experimental is None and control is None:
                experimental, control = "experimental", "control"
            else:
                bad(
                    "--experimental",
                    f"name the two arms to compare with --experimental and --control (the arm column holds "
                    f"{', '.join(arms) or 'nothing'}; effects are experimental minus control; other arms are left "
                    "out with a note)",
                )
        for opt, label in (("--experimental", experimental), ("--control", control)):
            if label is not None and arms and label not in arms:
                hint = _closest(label, arms)
                bad(opt, f"{label!r} is not an arm of {data.name} (its arms: {', '.join(arms)})"
                    + (f"{hint} Labels are case-sensitive: give the option as the file spells it" if hint
                       else ": name one of them"))
        if experimental is not None and experimental == control:
            bad("--control", f"the control arm equals the experimental arm {experimental!r}: name two arms")
        if m.ratio and kind == "continuous_arms" and m.code != "ROM":
            bad(
                "--measure",
                f"{m.code} needs binary data (events, n); {data.name} holds continuous arms "
                "(use SMD, SMD_revman, MD or ROM)",
            )
        if kind == "binary_arms" and m.code not in ("RR", "OR", "RD"):
            bad(
                "--measure",
                f"{m.code} needs continuous data (mean, sd, n); {data.name} holds binary arms "
                "(use RR, OR or RD)",
            )
    elif kind != "contrasts":
        if m.data not in ("continuous" if kind == "continuous_studies" else "binary", "any"):
            data_ = "continuous" if kind == "continuous_studies" else "binary"
            fits = "SMD, SMD_revman, MD or ROM" if data_ == "continuous" else "RR, OR or RD"
            bad("--measure", f"{m.code} does not fit {data.name}, which holds {data_} data (use {fits})")
    if outcome is None:
        outcome = "all" if kind != "contrasts" else data.stem
    for mod in mods:
        if df is not None and mod not in df:
            cols = [c for c in df.columns if c not in _DATA_COLUMNS]
            bad("--mods", f"{mod!r} is not a column of {data.name} (moderator columns: {', '.join(cols) or 'none'})"
                + _closest(mod, cols))
    experimental = experimental or "experimental"
    control = control or "control"
    if problems:
        raise DataError(problems)
    code = m.code
    mu_sd = _MU_SD.get(code, 1.0)
    block: dict[str, Any] = {
        "id": _ident(data.stem),
        "label": f"{data.stem if outcome == 'all' else outcome} ({code})",
        "file": data.name,
        "outcome": outcome,
        "measure": code,
        "lower_is_better": lower_is_better,
        "question": question,
    }
    if timepoint is not None:
        block["timepoint"] = timepoint
    if mods:
        block["moderators"] = list(mods)
        block["study_table"] = data.name
    if margins:
        block["margins"] = [float(x) for x in margins]
        block["primary_margin"] = float(margins[0])
    if not sample:
        block["sample"] = False
    taus: dict[str, Any] = {}
    if tau_priors:
        for i, t in enumerate(tau_priors):
            taus[f"tau_prior_{i + 1}"] = {"prior": t, "primary": i == 0}
    else:
        taus = {k: {"prior": v, "primary": k == "halfnormal_05"} for k, v in _TAU_DEFAULT.items()}
        taus.update({k: {"prior": v} for k, v in _TAU_EXTRA.get(code, {}).items()})
    mus: dict[str, Any] = {}
    if mu_priors:
        for i, t in enumerate(mu_priors):
            mus[f"mu_prior_{i + 1}"] = {
                "prior": t,
                "role": "reference" if t.replace(" ", "") in ("flat()", "flat") else "other",
                "primary": i == 0,
            }
    else:
        mus["weakly_informative"] = {
            "prior": f"normal(loc=0.0, scale={mu_sd:g})",
            "role": "neutral",
            "primary": True,
            "rationale": (
                "unit-information prior (Roever 2020, J Stat Softw 93(6), appendix A)"
                if code in ("RR", "OR")
                else "weakly informative: 95% of effects within +-2 units"
            ),
        }
        if margins:
            d = float(get_measure(code).to_analysis(margins[0])) if m.ratio else float(margins[0])
            if question in ("noninferiority", "equivalence"):
                # sceptical of non-inferiority: centred ON the margin (harmful side), prior P(NI) = 0.5
                # (Spiegelhalter, Freedman & Parmar 1994; issue 16)
                loc = abs(d) if lower_is_better else -abs(d)
                mus["sceptical"] = {
                    "prior": f"normal(loc={loc:.4g}, scale={abs(d) / 1.6448536269514722:.4g})",
                    "role": "sceptical",
                    "rationale": f"centred on the primary margin {margins[0]:g}: prior P(non-inferior) = 0.5",
                }
            else:
                s = abs(d) / 1.959963984540054
                mus["sceptical"] = {
                    "prior": f"normal(loc=0.0, scale={s:.4g})",
                    "role": "sceptical",
                    "rationale": f"centred on no difference with 95% probability within {margins[0]:g}: "
                    "prior P(benefit) = 0.5",
                }
    common = os.path.commonpath([data.parent, out])
    rel = os.path.relpath(data.parent, out) if common != os.path.sep else str(data.parent)
    return {
        "analysis": {
            "id": _ident(data.stem),
            "title": f"Bayesian meta-analysis of {data.name}",
            "data": Path(rel).as_posix(),
            "report": ".",
            "seed": int(seed),
            "experimental": experimental,
            "control": control,
        },
        "sampler": {
            "chains": int(chains),
            "draws": int(draws),
            "tune": 1000,
            "target_accept": 0.95,
            "sample": bool(sample),
        },
        "study_level": [block],
        "mu_priors": {code: mus},
        "tau_priors": {code: taus},
    }


def _ident(stem: str) -> str:
    s = "".join(c if c.isalnum() else "_" for c in stem).strip("_")
    return s or "analysis"


__all__ = ["spec_for_data"]
