"""A RevMan analysis as the toolkit's EffectTable (one rule per data type and method)."""

from __future__ import annotations

import numpy as np

from bayesmeta.data.revman.model import Analysis
from bayesmeta.effects.table import EffectTable

__all__ = ["arm_table", "effect_table", "study_values"]


def study_values(a: Analysis, preset: str = "revman5", subgroup: int | None = None):
    """``(labels, yi, vi, subgroups, notes, rows)`` of the analysis' studies on the analysis scale.

    NaN where a study is not estimable (double zero under RevMan's rule, missing values).
    """
    from bayesmeta.effects.escalc import escalc, peto_or
    from bayesmeta.frequentist.presets import get_preset

    pre = get_preset(preset)
    rows = [s for s in a.studies if subgroup is None or s.subgroup_no == subgroup]
    s = a.settings
    f = lambda name: np.array([getattr(r, name) for r in rows], dtype=float)
    notes: list[str] = []
    if s.data_type == "dichotomous":
        ai, n1, ci, n2 = f("events_1"), f("total_1"), f("events_2"), f("total_2")
        ok = np.isfinite(ai) & np.isfinite(n1) & np.isfinite(ci) & np.isfinite(n2) & (n1 > 0) & (n2 > 0)
        yi = np.full(len(rows), np.nan)
        vi = np.full(len(rows), np.nan)
        if ok.any():
            if s.method == "Peto":
                y, v = peto_or(ai[ok], n1[ok], ci[ok], n2[ok])
            else:
                es = escalc(s.measure, ai=ai[ok], n1i=n1[ok], ci=ci[ok], n2i=n2[ok], zero_rule=pre.zero_rule)
                y, v = es["yi"].to_numpy(), es["vi"].to_numpy()
            yi[ok], vi[ok] = y, v
    elif s.data_type == "continuous":
        m1, s1, n1, m2, s2, n2 = (f(k) for k in ("mean_1", "sd_1", "total_1", "mean_2", "sd_2", "total_2"))
        code = "SMD_revman" if s.measure == "SMD_revman" and pre.smd == "SMD_revman" else (
            "SMD" if s.measure.startswith("SMD") else s.measure)
        if code == "ROM":
            yi, vi = np.log(m1 / m2), s1**2 / (n1 * m1**2) + s2**2 / (n2 * m2**2)
        else:
            es = escalc(code, m1i=m1, sd1i=s1, n1i=n1, m2i=m2, sd2i=s2, n2i=n2)
            yi, vi = es["yi"].to_numpy(), es["vi"].to_numpy()
    elif s.data_type == "oe":
        oe, v = f("o_e"), f("var")
        with np.errstate(divide="ignore", invalid="ignore"):
            yi, vi = np.where(v > 0, oe / v, np.nan), np.where(v > 0, 1.0 / v, np.nan)
    else:
        yi, vi = f("giv_estimate"), f("giv_se") ** 2
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(yi) & np.isfinite(vi) & (vi > 0))
    for i in np.flatnonzero(bad):
        why = (
            "no events in either arm (or only events): not estimable for " + s.measure
            if s.data_type == "dichotomous" and s.method != "Peto"
            and np.isfinite(rows[i].events_1) and np.isfinite(rows[i].events_2)
            else "values missing or not estimable"
        )
        notes.append(f"{rows[i].study}: {why}; left out")
    labels = [r.study for r in rows]
    groups = [r.subgroup for r in rows]
    return labels, yi, vi, groups, notes, rows


def effect_table(a: Analysis, preset: str = "revman5", subgroup: int | None = None) -> EffectTable:
    """See :meth:`bayesmeta.data.revman.model.Analysis.effect_table`."""
    labels, yi, vi, groups, notes, _rows = study_values(a, preset, subgroup)
    ok = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    if not ok.any():
        raise ValueError(f"analysis {a.id} ({a.name}): no estimable study" + (f" ({'; '.join(notes)})" if notes else ""))
    measure = a.settings.measure
    arms = a.arms() if a.settings.data_type in ("dichotomous", "continuous") else None
    sub = [g or "" for g, o in zip(groups, ok) if o]
    return EffectTable(
        study=tuple(lab for lab, o in zip(labels, ok) if o),
        yi=yi[ok],
        vi=vi[ok],
        measure=measure if a.settings.method != "Peto" or measure != "OR" else "OR",
        subgroup=tuple(sub) if any(sub) else None,
        arms=arms,
        source=f"{a.source.file if a.source else ''}: analysis {a.id} {a.name}".strip(),
        notes=tuple(notes),
    )


def arm_table(a: Analysis):
    """See :meth:`bayesmeta.data.revman.model.Analysis.arm_table`."""
    from pathlib import Path

    import pandas as pd

    from bayesmeta.data.tables import ArmTable

    t = a.settings.data_type
    if t not in ("dichotomous", "continuous"):
        raise ValueError(f"analysis {a.id} holds {t} data, not arms; use effect_table()")
    values = ("events", "n") if t == "dichotomous" else ("n", "mean", "sd")
    rows = []
    for s in a.studies:
        src = f"{Path(s.source.file).name} ({s.source.location}), analysis {a.id}" if s.source else ""
        for arm, e, n, m, sd in ((a.experimental, s.events_1, s.total_1, s.mean_1, s.sd_1),
                                 (a.control, s.events_2, s.total_2, s.mean_2, s.sd_2)):
            vals = {"events": e, "n": n} if t == "dichotomous" else {"n": n, "mean": m, "sd": sd}
            missing = not all(np.isfinite(v) for v in vals.values())
            rows.append({"study": s.study, "outcome": a.id, "timepoint": "all", "arm": arm, **vals,
                         "source": src, "subgroup": s.subgroup or "",
                         "status": "missing" if missing else "reported",
                         "missing_reason": "no values in the review" if missing else ""})
    df = pd.DataFrame(rows)
    for c in values:
        df[c] = df[c].astype("Float64") if c in ("mean", "sd") else df[c].round().astype("Int64")
    for c in ("study", "outcome", "timepoint", "arm", "source", "subgroup", "status", "missing_reason"):
        df[c] = df[c].astype("string")
    return ArmTable(kind="binary_arms" if t == "dichotomous" else "continuous_arms",
                    path=Path(a.source.file) if a.source else Path(""), sha256=a.review_sha256, _frame=df,
                    experimental=a.experimental, control=a.control)
