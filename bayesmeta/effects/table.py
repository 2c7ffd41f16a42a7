r"""The effect table: one row per study (or study and time point), the input of every estimator.

An :class:`EffectTable` holds study labels, the estimates ``yi`` on the analysis scale (log for
ratio measures, see :mod:`bayesmeta.effects.measures`), their sampling variances ``vi`` (and
``sei = sqrt(vi)``), the measure, and optional time point, subgroup and moderator columns, with
its provenance and a content hash. It is frozen and checked when it is made: equal lengths, unique
study labels (unique study and time point when time points are given), finite estimates and
positive finite variances.

Raw numbers enter only through constructors that name what they are, so that standard errors
and variances cannot be swapped by position:

* :meth:`EffectTable.from_yi_vi` (estimates and sampling variances),
* :meth:`EffectTable.from_yi_sei` (estimates and standard errors),
* :meth:`EffectTable.from_ci` (estimates and confidence intervals, on the analysis or the
  reported ratio scale),
* :meth:`EffectTable.from_arms` / :func:`escalc` (arm-level means or counts, as metafor's
  ``escalc``).

Every estimator of the public API (``bm.rma``, ``bm.solve``, ``bm.sample``, ...) takes an
EffectTable as its first argument, as PyMARE's estimators take a ``Dataset`` and metafor's ``rma``
takes the ``escalc`` frame.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).
doi:10.18637/jss.v036.i03

Salo T et al. (2023). NiMARE / PyMARE: Python meta-analysis. https://pymare.readthedocs.io
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from bayesmeta.effects import escalc as _escalc
from bayesmeta.effects.measures import Measure, get_measure

__all__ = ["ARM_COLUMNS", "EffectTable", "escalc"]

#: Arm-level arguments of :func:`escalc`, by kind of data (metafor's names; arm 1 = experimental).
ARM_COLUMNS = {
    "continuous": ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
    "binary": ("ai", "n1i", "ci", "n2i"),
}


def _readonly(x: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        a = np.array(x, dtype=float, copy=True)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers") from None
    a = np.atleast_1d(a)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    a.flags.writeable = False
    return a


def _labels(x: Sequence[Any] | None, name: str) -> tuple[str, ...] | None:
    if x is None:
        return None
    if isinstance(x, str):
        raise ValueError(f"{name} must be a sequence of labels, not one string")
    return tuple(str(v) for v in x)


@dataclass(frozen=True, eq=False, kw_only=True)
class EffectTable:
    """Study estimates on the analysis scale with their sampling variances.

    Make one with a named constructor (:meth:`from_yi_vi`, :meth:`from_yi_sei`, :meth:`from_ci`,
    :meth:`from_arms`), with :func:`escalc`, or by reading a CSV (:func:`bayesmeta.read_csv`).
    All fields are keyword-only.

    Parameters
    ----------
    study : sequence of str
        Study labels (unique, or unique with ``timepoint``).
    yi : array_like
        Estimates on the analysis scale (log for ratio measures).
    vi : array_like
        Sampling variances (> 0).
    measure : str
        Code of the measure in :data:`bayesmeta.effects.measures.MEASURES` (``"GEN"`` if unknown).
    timepoint, subgroup : sequence of str, optional
        Time point and subgroup of each row.
    moderators : mapping of str to sequence, optional
        Study-level covariates, one value per row.
    arms : pandas.DataFrame, optional
        The arm-level data the estimates were computed from (metafor's column names: ``ai, n1i,
        ci, n2i`` or ``m1i, sd1i, n1i, m2i, sd2i, n2i``, with ``study``), including studies that
        are not estimable on the measure's scale; used by Mantel-Haenszel and binomial models.
    source : str
        Where the numbers come from (a file path, a call).
    notes : tuple of str
        What was done on the way (studies left out and why).
    not_estimable : mapping of str to str
        Rows kept with ``yi = vi = NaN`` (row label -> reason), as :func:`escalc` keeps rows it
        cannot compute; :meth:`complete` drops them. Every other row must be finite.

    Examples
    --------
    >>> es = EffectTable.from_yi_sei([0.1, 0.3, -0.2], [0.1, 0.2, 0.15], study=["a", "b", "c"], measure="SMD")
    >>> es.k, es.measure, es.vi.round(4).tolist()
    (3, 'SMD', [0.01, 0.04, 0.0225])
    """

    study: tuple[str, ...]
    yi: NDArray[np.float64]
    vi: NDArray[np.float64]
    measure: str = "GEN"
    timepoint: tuple[str, ...] | None = None
    subgroup: tuple[str, ...] | None = None
    moderators: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    arms: pd.DataFrame | None = None
    source: str = ""
    notes: tuple[str, ...] = ()
    not_estimable: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        yi = _readonly(self.yi, "yi")
        vi = _readonly(self.vi, "vi")
        k = yi.size
        study = _labels(self.study, "study")
        if study is None:
            raise ValueError("study labels are required")
        problems = []
        if k == 0:
            problems.append("no studies")
        if vi.size != k:
            problems.append(f"yi has {k} values but vi has {vi.size}")
        if len(study) != k:
            problems.append(f"{len(study)} study labels for {k} estimates")
        tp = _labels(self.timepoint, "timepoint")
        sg = _labels(self.subgroup, "subgroup")
        for name, col in (("timepoint", tp), ("subgroup", sg)):
            if col is not None and len(col) != k:
                problems.append(f"{len(col)} {name} values for {k} estimates")
        mods = {}
        for name, vals in dict(self.moderators).items():
            vals = tuple(vals)
            if len(vals) != k:
                problems.append(f"moderator {name!r} has {len(vals)} values for {k} estimates")
            mods[str(name)] = vals
        if problems:
            raise ValueError("EffectTable: " + "; ".join(problems))
        labels = [f"{s} ({t})" for s, t in zip(study, tp)] if tp is not None else list(study)
        missing = {str(k): str(v) for k, v in dict(self.not_estimable).items()}
        unknown = [k_ for k_ in missing if k_ not in labels]
        if unknown:
            problems.append(f"not_estimable names rows that are not in the table: {', '.join(unknown)}")
        na = np.array([lab in missing for lab in labels], dtype=bool)
        bad_na = [labels[i] for i in np.flatnonzero(na & ~(np.isnan(yi) & np.isnan(vi)))]
        if bad_na:
            problems.append(f"rows marked not estimable must have yi and vi NaN: {', '.join(bad_na)}")
        bad_y = [study[i] for i in np.flatnonzero(~np.isfinite(yi) & ~na)]
        if bad_y:
            problems.append(f"yi is not a finite number for {', '.join(bad_y)}")
        bad_v = [study[i] for i in np.flatnonzero(~(np.isfinite(vi) & (vi > 0)) & ~na)]
        if bad_v:
            problems.append(f"vi must be a positive finite variance; not so for {', '.join(bad_v)}")
        keys = list(zip(study, tp)) if tp is not None else list(study)
        seen: set = set()
        dup = [k_ for k_ in keys if k_ in seen or seen.add(k_)]  # type: ignore[func-returns-value]
        if dup:
            what = "study and timepoint" if tp is not None else "study label"
            hint = "" if tp is not None else " (repeated measurements need a timepoint column)"
            problems.append(f"duplicate {what}: {', '.join(map(str, dict.fromkeys(dup)))}{hint}")
        try:
            code = get_measure(self.measure).code
        except ValueError as e:
            problems.append(str(e))
            code = str(self.measure)
        if problems:
            raise ValueError("EffectTable: " + "; ".join(problems))
        arms = None
        if self.arms is not None:
            arms = pd.DataFrame(self.arms).copy()
        set_ = object.__setattr__
        set_(self, "study", study)
        set_(self, "yi", yi)
        set_(self, "vi", vi)
        set_(self, "measure", code)
        set_(self, "timepoint", tp)
        set_(self, "subgroup", sg)
        set_(self, "moderators", mods)
        set_(self, "arms", arms)
        set_(self, "notes", tuple(self.notes))
        set_(self, "not_estimable", missing)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_yi_vi(
        cls,
        yi: ArrayLike,
        vi: ArrayLike,
        *,
        study: Sequence[Any] | None = None,
        measure: str = "GEN",
        **kwargs: Any,
    ) -> EffectTable:
        """An effect table from estimates and their sampling **variances**.

        Parameters
        ----------
        yi : array_like
            Estimates on the analysis scale (log for ratio measures).
        vi : array_like
            Sampling variances (squared standard errors).
        study : sequence, optional
            Study labels (default ``"study 1"``, ...).
        measure : str
            Measure code (``"GEN"`` when not stated).
        **kwargs
            ``timepoint``, ``subgroup``, ``moderators``, ``source``, ``notes``.

        Examples
        --------
        >>> EffectTable.from_yi_vi([0.1, 0.3], [0.01, 0.04]).sei.tolist()
        [0.1, 0.2]
        """
        yi = _readonly(yi, "yi")
        kwargs.setdefault("source", "EffectTable.from_yi_vi")
        return cls(
            study=_default_study(study, yi.size), yi=yi, vi=_readonly(vi, "vi"), measure=measure, **kwargs
        )

    @classmethod
    def from_yi_sei(
        cls,
        yi: ArrayLike,
        sei: ArrayLike,
        *,
        study: Sequence[Any] | None = None,
        measure: str = "GEN",
        **kwargs: Any,
    ) -> EffectTable:
        """An effect table from estimates and their **standard errors** (``vi = sei**2``).

        Parameters are as for :meth:`from_yi_vi`, with ``sei`` in place of ``vi``.

        Examples
        --------
        >>> EffectTable.from_yi_sei([0.1, 0.3], [0.1, 0.2]).vi.round(6).tolist()
        [0.01, 0.04]
        """
        yi = _readonly(yi, "yi")
        sei = _readonly(sei, "sei")
        if np.any(sei < 0):
            raise ValueError("EffectTable.from_yi_sei: standard errors must be positive")
        kwargs.setdefault("source", "EffectTable.from_yi_sei")
        return cls(study=_default_study(study, yi.size), yi=yi, vi=sei**2, measure=measure, **kwargs)

    @classmethod
    def from_ci(
        cls,
        estimate: ArrayLike,
        ci_lb: ArrayLike,
        ci_ub: ArrayLike,
        *,
        measure: str,
        level: float = 0.95,
        scale: str = "reported",
        study: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> EffectTable:
        """An effect table from estimates and Wald confidence intervals.

        Parameters
        ----------
        estimate, ci_lb, ci_ub : array_like
            Estimates and interval bounds.
        measure : str
            Measure code; for ratio measures (RR, OR, HR, ROM, IRR) ``scale`` says whether the numbers
            are ratios as printed (``"reported"``) or log ratios (``"analysis"``).
        level : float
            Coverage of the intervals (0.95).
        scale : {"reported", "analysis"}
        study : sequence, optional
        **kwargs
            ``timepoint``, ``subgroup``, ``moderators``, ``source``, ``notes``.

        Notes
        -----
        The SE is :math:`(g(u) - g(l)) / (2 z_{(1+\\text{level})/2})` with :math:`g = \\log` for ratios
        (:meth:`bayesmeta.effects.measures.Measure.se_from_ci`).

        Examples
        --------
        >>> es = EffectTable.from_ci([0.5], [0.25], [1.0], measure="RR")
        >>> round(float(es.yi[0]), 4), round(float(es.sei[0]), 4)  # log 0.5, log(4) / (2 * 1.96)
        (-0.6931, 0.3537)
        """
        m = get_measure(measure)
        if scale not in ("reported", "analysis"):
            raise ValueError("scale must be 'reported' (ratios as printed) or 'analysis' (log ratios)")
        est = np.atleast_1d(np.asarray(estimate, dtype=float))
        lb = np.atleast_1d(np.asarray(ci_lb, dtype=float))
        ub = np.atleast_1d(np.asarray(ci_ub, dtype=float))
        if not est.shape == lb.shape == ub.shape:
            raise ValueError(
                f"EffectTable.from_ci: {est.size} estimates, {lb.size} lower and {ub.size} upper bounds"
            )
        outside = np.flatnonzero(~((lb <= est) & (est <= ub)))
        if outside.size:
            labs = _default_study(study, est.size)
            raise ValueError(
                "EffectTable.from_ci: estimate outside its interval for "
                + ", ".join(str(labs[i]) for i in outside)
            )
        yi = m.to_analysis(est) if scale == "reported" else est
        sei = m.se_from_ci(lb, ub, level, scale)
        kwargs.setdefault("source", f"EffectTable.from_ci (level {level:g}, {scale} scale)")
        return cls(
            study=_default_study(study, est.size), yi=yi, vi=np.asarray(sei) ** 2, measure=m.code, **kwargs
        )

    @classmethod
    def from_arms(
        cls,
        measure: str,
        *,
        study: Sequence[Any] | None = None,
        add: float | None = None,
        to: str = "only0",
        drop00: bool | None = None,
        vtype: str | Sequence[str] = "LS",
        zero_rule: str = "metafor",
        missing: str = "drop",
        **kwargs: Any,
    ) -> EffectTable:
        """An effect table from raw data through :func:`bayesmeta.effects.escalc.escalc`.

        Parameters
        ----------
        measure : str
            Any measure of :data:`bayesmeta.effects.measures.MEASURES` computed from raw data
            (``SMD``, ``RR``, ``ZCOR``, ``PLO``, ``IRR``, ``SMCR``, ...).
        study : sequence, optional
        add, to, drop00, vtype, zero_rule
            metafor's arguments (see :func:`bayesmeta.effects.escalc.escalc`: ``zero_rule="metafor"``
            keeps double-zero studies with 0.5 added, ``"revman"`` drops them from RR and OR).
        missing : {"drop", "keep"}
            Rows that cannot be computed (double-zero studies under ``drop00``, missing inputs,
            ``ni <= 3`` for correlations, ...): ``"drop"`` leaves them out with a note (the readers'
            behaviour); ``"keep"`` keeps them with ``yi = vi = NaN``, listed in
            :attr:`not_estimable` with the reason (metafor's ``escalc``; estimators of the public
            API omit them with a warning).
        **kwargs
            The measure's inputs with metafor's names, arm 1 experimental
            (:func:`bayesmeta.effects.escalc.required_inputs`: ``m1i, sd1i, n1i, m2i, sd2i, n2i``;
            ``ai, n1i, ci, n2i`` or ``ai, bi, ci, di``; ``ri, ni``; ``xi, ni``; ``x1i, t1i, x2i,
            t2i``; ...); and ``timepoint``, ``subgroup``, ``moderators``, ``source``, ``notes``.

        Notes
        -----
        :attr:`arms` keeps the raw data of every study, including those not estimable on the
        measure's scale (Mantel-Haenszel and binomial models use every study).

        Examples
        --------
        >>> es = EffectTable.from_arms("RR", ai=[4, 0], n1i=[100, 50], ci=[8, 0], n2i=[100, 50],
        ...                            zero_rule="revman")
        >>> es.k, es.notes
        (1, ('study 2: not estimable for RR (no events in either arm, or only events), left out',))
        """
        m = get_measure(measure)
        if not m.inputs:
            raise ValueError(
                f"{m.code} is not computed from arm-level data; use EffectTable.from_ci or from_yi_sei"
            )
        if missing not in ("drop", "keep"):
            raise ValueError("missing must be 'drop' or 'keep'")
        arrays = {k: kwargs.pop(k) for k in list(kwargs) if k in RAW_ARGUMENTS}
        if m.data == "binary":
            for ev, non, n in (("ai", "bi", "n1i"), ("ci", "di", "n2i")):
                if n not in arrays and non in arrays and ev in arrays:
                    arrays[n] = np.asarray(arrays[ev], dtype=float) + np.asarray(arrays.pop(non), dtype=float)
        cols: dict[str, Any] = {c: np.atleast_1d(np.asarray(v, dtype=float)) for c, v in arrays.items()}
        sizes = {c: v.size for c, v in cols.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(
                "arm-level arrays differ in length: " + ", ".join(f"{c}={n}" for c, n in sizes.items())
            )
        opts: dict[str, Any] = {"add": add, "to": to, "drop00": drop00, "vtype": vtype, "zero_rule": zero_rule}
        es = _escalc.escalc(m.code, **opts, **cols)
        yi, vi = es["yi"].to_numpy(), es["vi"].to_numpy()
        k = yi.size
        labels = _default_study(study, k)
        if len(labels) != k:
            raise ValueError(f"{len(labels)} study labels for {k} studies")
        ok = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
        reasons = _reasons(m.code, cols, yi, vi, ok, drop00, zero_rule)
        notes = list(kwargs.pop("notes", ()))
        arms = pd.DataFrame({"study": labels, **cols})
        per_row: dict[str, Any] = {}
        for name in ("timepoint", "subgroup"):
            if kwargs.get(name) is not None:
                vals = list(kwargs.pop(name))
                if len(vals) != k:
                    raise ValueError(f"{len(vals)} {name} values for {k} studies")
                per_row[name] = vals
                arms[name] = vals
        mods = {n: tuple(v) for n, v in dict(kwargs.pop("moderators", {})).items()}
        kwargs.setdefault("source", f"escalc({m.code!r}, ...)")
        tp = per_row.get("timepoint")
        row_labels = [f"{s} ({t})" for s, t in zip(labels, tp)] if tp is not None else list(labels)
        if missing == "keep":
            return cls(
                study=labels, yi=np.where(ok, yi, np.nan), vi=np.where(ok, vi, np.nan), measure=m.code,
                arms=arms, moderators=mods, notes=tuple(notes),
                not_estimable={row_labels[i]: reasons[i] for i in np.flatnonzero(~ok)}, **per_row, **kwargs,
            )
        for i in np.flatnonzero(~ok):
            notes.append(f"{row_labels[i]}: not estimable for {m.code} ({reasons[i]}), left out")
        if not ok.any():
            raise ValueError(f"no study is estimable for {m.code}: " + "; ".join(notes[-k:]))
        return cls(
            study=tuple(s for s, o in zip(labels, ok) if o),
            yi=yi[ok],
            vi=vi[ok],
            measure=m.code,
            arms=arms,
            moderators={n: tuple(v for v, o in zip(vals, ok) if o) for n, vals in mods.items()},
            notes=tuple(notes),
            **{n: tuple(v for v, o in zip(vals, ok) if o) for n, vals in per_row.items()},  # type: ignore[arg-type]
            **kwargs,
        )

    # ------------------------------------------------------------------ views
    @property
    def sei(self) -> NDArray[np.float64]:
        """Standard errors, ``sqrt(vi)``."""
        s = np.sqrt(self.vi)
        s.flags.writeable = False
        return s

    @property
    def k(self) -> int:
        """Number of rows (studies, or study-time points)."""
        return int(self.yi.size)

    @property
    def labels(self) -> tuple[str, ...]:
        """Row labels: the study, with the time point when there is one."""
        if self.timepoint is None:
            return self.study
        return tuple(f"{s} ({t})" for s, t in zip(self.study, self.timepoint))

    @property
    def measure_info(self) -> Measure:
        """The registry entry of :attr:`measure`."""
        return get_measure(self.measure)

    @property
    def sha256(self) -> str:
        """Content hash over the measure, labels, estimates, variances and extra columns."""
        h = hashlib.sha256()
        meta = {
            "measure": self.measure,
            "study": self.study,
            "timepoint": self.timepoint,
            "subgroup": self.subgroup,
            "moderators": {k: list(map(str, v)) for k, v in self.moderators.items()},
        }
        h.update(json.dumps(meta, sort_keys=True).encode())
        h.update(np.ascontiguousarray(self.yi).tobytes())
        h.update(np.ascontiguousarray(self.vi).tobytes())
        return h.hexdigest()

    def __len__(self) -> int:
        return self.k

    def __repr__(self) -> str:
        extra = [n for n in ("timepoint", "subgroup") if getattr(self, n) is not None] + list(self.moderators)
        more = f", columns {extra}" if extra else ""
        na = f", {len(self.not_estimable)} not estimable" if self.not_estimable else ""
        return (
            f"EffectTable(k={self.k}{na}, measure={self.measure!r} ({self.measure_info.label}){more}, "
            f"source={self.source!r})"
        )

    def _repr_html_(self) -> str:
        from html import escape

        head = escape(repr(self))
        na = "".join(f"<li>{escape(k)}: {escape(v)}</li>" for k, v in self.not_estimable.items())
        notes = "".join(f"<li>{escape(n)}</li>" for n in self.notes)
        body = self.summary().to_html(index=False, float_format=lambda v: f"{v:.4f}", na_rep="NaN")
        return (f"<div><b>{head}</b>{body}"
                + (f"<br>not estimable (kept as NaN):<ul>{na}</ul>" if na else "")
                + (f"notes:<ul>{notes}</ul>" if notes else "") + "</div>")

    def back_transform(self, x: ArrayLike) -> NDArray[np.float64]:
        """Analysis-scale values (a pooled estimate, its interval) on the measure's reported scale.

        As :meth:`bayesmeta.effects.measures.Measure.back_transform`, with the sample sizes (PFT) or
        person-times (IRFT) of this table's studies for the Freeman-Tukey inverses (their harmonic
        mean, metafor's ``transf.ipft.hm``).

        Examples
        --------
        >>> es = escalc("PFT", xi=[3, 10, 0], ni=[20, 40, 15])
        >>> round(float(es.back_transform(0.5)), 4)  # harmonic mean n = 21.2
        0.2175
        """
        m = self.measure_info
        n = None
        if m.transform in ("pft", "irft"):
            col = "ni" if m.transform == "pft" else "ti"
            if self.arms is None or col not in self.arms:
                raise ValueError(f"the {m.code} back-transform needs the studies' {col}: make the table with escalc")
            used = {s for s, lab in zip(self.study, self.labels) if lab not in self.not_estimable}
            a = self.arms[self.arms["study"].isin(used)] if "study" in self.arms else self.arms
            n = a[col].to_numpy(float)
        return np.asarray(m.back_transform(x, ni=n), dtype=float)

    def to_frame(self) -> pd.DataFrame:
        """One row per study: ``study``, [``timepoint``, ``subgroup``,] ``yi``, ``vi``, ``sei``, moderators.

        Examples
        --------
        >>> EffectTable.from_yi_vi([0.1], [0.04], study=["a"]).to_frame().columns.tolist()
        ['study', 'yi', 'vi', 'sei']
        """
        d: dict[str, Any] = {"study": list(self.study)}
        if self.timepoint is not None:
            d["timepoint"] = list(self.timepoint)
        if self.subgroup is not None:
            d["subgroup"] = list(self.subgroup)
        d.update({"yi": self.yi.copy(), "vi": self.vi.copy(), "sei": self.sei.copy()})
        for name, vals in self.moderators.items():
            d[name] = list(vals)
        return pd.DataFrame(d)

    def select(
        self, mask: ArrayLike | None = None, *, timepoint: str | None = None, subgroup: str | None = None
    ) -> EffectTable:
        """The rows where ``mask`` is true and/or with the given time point or subgroup.

        Examples
        --------
        >>> es = EffectTable.from_yi_vi([0.1, 0.2, 0.3], [0.1, 0.1, 0.1], study=["a", "a", "b"],
        ...                             timepoint=["1m", "3m", "1m"])
        >>> es.select(timepoint="1m").study
        ('a', 'b')
        """
        keep = np.ones(self.k, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        if keep.shape != (self.k,):
            raise ValueError(f"mask must have one entry per row ({self.k})")
        for name, want in (("timepoint", timepoint), ("subgroup", subgroup)):
            if want is None:
                continue
            col = getattr(self, name)
            if col is None:
                raise ValueError(f"this table has no {name} column")
            if want not in col:
                raise ValueError(f"no rows with {name} {want!r}; present: {', '.join(dict.fromkeys(col))}")
            keep &= np.array([v == want for v in col])
        if not keep.any():
            raise ValueError("the selection is empty")
        idx = np.flatnonzero(keep)

        def pick(col: Sequence[Any]) -> tuple[Any, ...]:
            return tuple(col[int(i)] for i in idx)

        def pick_opt(col: Sequence[Any] | None) -> tuple[Any, ...] | None:
            return None if col is None else pick(col)

        arms = self.arms
        if arms is not None and "study" in arms:
            arms = arms[arms["study"].isin(set(pick(self.study)))].reset_index(drop=True)
        return replace(
            self,
            study=pick(self.study),
            yi=self.yi[idx],
            vi=self.vi[idx],
            timepoint=pick_opt(self.timepoint),
            subgroup=pick_opt(self.subgroup),
            moderators={n: pick(v) for n, v in self.moderators.items()},
            arms=arms,
            not_estimable={k: v for k, v in self.not_estimable.items() if k in set(pick(self.labels))},
        )

    def complete(self) -> EffectTable:
        """The table without its not-estimable rows (each noted), as estimators use it.

        Examples
        --------
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     es = escalc("RR", ai=[4, 0], n1i=[100, 50], ci=[8, 0], n2i=[100, 50], drop00=True)
        >>> es.k, es.complete().k, es.complete().notes
        (2, 1, ('study 2: not estimable for RR (no events in either arm, or only events), left out',))
        """
        if not self.not_estimable:
            return self
        keep = np.array([lab not in self.not_estimable for lab in self.labels])
        if not keep.any():
            raise ValueError(
                "no row is estimable: " + "; ".join(f"{k} ({v})" for k, v in self.not_estimable.items())
            )
        notes = tuple(f"{k}: not estimable for {self.measure} ({v}), left out" for k, v in self.not_estimable.items())
        out = self.select(keep)
        return replace(out, notes=(*self.notes, *notes), not_estimable={}, arms=self.arms)  # MH uses every study

    def summary(self, level: float = 0.95, back_transform: bool = False) -> pd.DataFrame:
        r"""Per-study estimates with Wald tests and intervals (metafor's ``summary(escalc)``).

        Parameters
        ----------
        level : float
            Interval coverage, a probability (0.95; 95 is read as 95%, as metafor).
        back_transform : bool
            Report ``yi`` and the interval on the measure's reported scale (ratios, r from z,
            proportions from logits; the Freeman-Tukey inverses with each study's own ``ni`` or
            ``ti``), as ``summary(escalc, transf=...)``: ``vi``, ``sei``, ``zi`` and ``pval`` are
            then left out.

        Returns
        -------
        pandas.DataFrame
            ``study`` [``timepoint``], ``yi``, ``vi``, ``sei``, ``zi`` (:math:`y_i/\mathrm{SE}_i`),
            ``pval`` (two-sided), ``ci{L}_lb``, ``ci{L}_ub`` (e.g. ``ci95_lb``); NaN rows stay.

        Examples
        --------
        >>> es = EffectTable.from_yi_sei([0.5], [0.25], study=["a"])
        >>> [float(x) for x in es.summary().round(4).iloc[0].tolist()[1:]]
        [0.5, 0.0625, 0.25, 2.0, 0.0455, 0.01, 0.99]
        """
        from scipy import stats

        if level >= 1 and level < 100:
            level = level / 100
        if not 0 < level < 1:
            raise ValueError(f"level must be a probability in (0, 1) (or a percentage), got {level}")
        tag = f"ci{100 * level:g}".replace(".", "_")
        z = stats.norm.ppf(0.5 + level / 2)
        yi, sei = self.yi, self.sei
        lb, ub = yi - z * sei, yi + z * sei
        d: dict[str, Any] = {"study": list(self.study)}
        if self.timepoint is not None:
            d["timepoint"] = list(self.timepoint)
        m = self.measure_info
        if back_transform:
            if m.transform in ("pft", "irft"):
                col = "ni" if m.transform == "pft" else "ti"
                if self.arms is None or col not in self.arms:
                    raise ValueError(f"the {m.code} back-transform needs each study's {col} (make the table with escalc)")
                n = self.arms[col].to_numpy(float)
                if n.size != self.k:
                    raise ValueError(f"the {m.code} back-transform needs one {col} per row")

                def bt(x: NDArray[np.float64]) -> NDArray[np.float64]:
                    return np.array([float(m.back_transform(v, ni=[ni])) for v, ni in zip(x, n)])
            else:

                def bt(x: NDArray[np.float64]) -> NDArray[np.float64]:
                    return np.asarray(m.back_transform(x), dtype=float)

            d.update({"yi": bt(yi), f"{tag}_lb": bt(lb), f"{tag}_ub": bt(ub)})
            out = pd.DataFrame(d)
            out.attrs["scale"] = m.reported_label
            return out
        with np.errstate(invalid="ignore"):
            zi = yi / sei
        d.update({"yi": yi.copy(), "vi": self.vi.copy(), "sei": sei.copy(), "zi": zi,
                  "pval": 2 * stats.norm.sf(np.abs(zi)), f"{tag}_lb": lb, f"{tag}_ub": ub})
        out = pd.DataFrame(d)
        out.attrs["scale"] = m.label
        return out


def _default_study(study: Sequence[Any] | None, k: int) -> tuple[str, ...]:
    if study is None:
        return tuple(f"study {i + 1}" for i in range(k))
    if isinstance(study, str):
        raise ValueError("study must be a sequence of labels, not one string")
    return tuple(str(s) for s in study)


#: Every raw-data argument name of metafor's ``escalc`` that :func:`escalc` understands.
RAW_ARGUMENTS = frozenset(
    {"ai", "bi", "ci", "di", "n1i", "n2i", "m1i", "m2i", "sd1i", "sd2i", "x1i", "x2i", "t1i", "t2i",
     "ri", "ni", "ti", "mi", "xi", "sdi", "r2i"}
)


def _reasons(code: str, cols: Mapping[str, NDArray[np.float64]], yi: NDArray[np.float64],
             vi: NDArray[np.float64], ok: NDArray[np.bool_], drop00: bool | None, zero_rule: str) -> list[str]:
    """Why each row is not estimable ('' for rows that are)."""
    m = get_measure(code)
    out = []
    for i in range(yi.size):
        if ok[i]:
            out.append("")
            continue
        absent = [c for c, v in cols.items() if not np.isfinite(v[i])]
        if absent:
            out.append(f"missing {', '.join(absent)}")
        elif m.data == "binary" and bool(_escalc.double_zero(cols["ai"][i], cols["n1i"][i], cols["ci"][i],
                                                             cols["n2i"][i])):
            out.append("no events in either arm, or only events")
        elif m.data == "count" and cols["x1i"][i] == 0 and cols["x2i"][i] == 0:
            out.append("no events in either group")
        elif (code in ("COR", "ZCOR") and cols["ni"][i] <= 3) or (code == "UCOR" and cols["ni"][i] <= 4):
            out.append(f"ni = {cols['ni'][i]:g} is too small for {code}")
        elif np.isfinite(vi[i]) and vi[i] <= 0:
            out.append("its sampling variance is 0")
        else:
            out.append(f"yi = {yi[i]:.4g}, vi = {vi[i]:.4g} from these values")
    return out


def escalc(
    measure: str,
    *,
    data: pd.DataFrame | None = None,
    study: Any = None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool | None = None,
    vtype: str | Sequence[str] = "LS",
    zero_rule: str = "metafor",
    **arrays: Any,
) -> EffectTable:
    r"""Effect sizes from raw data, as an :class:`EffectTable` (metafor's ``escalc``).

    One row per input row, in input order: a row that cannot be computed (a double-zero study under
    ``drop00``, a missing value, ``ni <= 3`` for a correlation, a zero variance) keeps its place
    with ``yi = vi = NaN`` and its reason in :attr:`EffectTable.not_estimable`, and a
    ``UserWarning`` names it; the estimators of ``import bayesmeta as bm`` then omit it with a
    warning, as metafor's ``rma`` does. :meth:`EffectTable.summary` gives the per-study table of
    metafor's ``summary(escalc)``.

    Parameters
    ----------
    measure : str
        Any measure computed from raw data (:data:`bayesmeta.effects.measures.MEASURES`): ``MD``,
        ``SMD`` (Hedges' g as metafor), ``SMD_revman`` (as RevMan 5), ``SMDH``, ``SMD1``, ``ROM``;
        ``RR``, ``OR``, ``PETO``, ``RD``, ``AS``; ``IRR``, ``IRD``, ``IRSD``; ``COR``, ``UCOR``,
        ``ZCOR``, ``PCOR``, ``ZPCOR``, ``SPCOR``; ``PR``, ``PLN``, ``PLO``, ``PAS``, ``PFT``;
        ``IR``, ``IRLN``, ``IRS``, ``IRFT``; ``MN``, ``MNLN``; ``MC``, ``SMCC``, ``SMCR``, ``SMCRH``,
        ``ROMC``.
    data : pandas.DataFrame, optional
        When given, every other argument may name a column of ``data`` (as in metafor).
    study : sequence or str, optional
        Study labels (or the name of a column of ``data``).
    add, to, drop00, vtype, zero_rule
        metafor's arguments with metafor's defaults (see :func:`bayesmeta.effects.escalc.escalc`;
        ``add`` is 0.5, but 0 for AS, IRSD, PAS, PFT, IRS and IRFT; ``zero_rule="revman"`` drops
        double-zero studies from RR and OR as RevMan does).
    **arrays
        The measure's inputs with metafor's names, arm 1 experimental, arm 2 control
        (``m1i, sd1i, n1i, m2i, sd2i, n2i``; ``ai, bi, ci, di`` or ``ai, n1i, ci, n2i``; ``ri, ni``;
        ``xi, ni``; ``xi, ti``; ``x1i, t1i, x2i, t2i``; ``mi, sdi, ni``; ``m1i, m2i, sd1i, sd2i, ni,
        ri``; ``ti, ni, mi``); and ``timepoint``, ``subgroup``, ``moderators``, ``source``.

    Returns
    -------
    EffectTable

    References
    ----------
    Viechtbauer W (2010), doi:10.18637/jss.v036.i03 (``escalc``); Deeks & Higgins (2010), RevMan 5
    statistical algorithms.

    Examples
    --------
    >>> es = escalc("RR", ai=[4, 6], n1i=[100, 120], ci=[8, 10], n2i=[100, 110], study=["A", "B"])
    >>> es.yi.round(4).tolist()  # log(4/100) - log(8/100); log(6/120) - log(10/110) = log 0.55
    [-0.6931, -0.5978]
    >>> es = escalc("ZCOR", ri=[0.3, 0.5], ni=[30, 53])
    >>> es.vi.round(4).tolist(), es.measure_info.back_transform(es.yi).round(2).tolist()  # 1/(n-3), r = tanh z
    ([0.037, 0.02], [0.3, 0.5])
    """
    if data is not None:

        def col(v: Any) -> Any:
            if isinstance(v, str):
                if v not in data.columns:
                    raise ValueError(
                        f"escalc: data has no column {v!r}; columns: {', '.join(map(str, data.columns))}"
                    )
                return data[v].tolist()
            return v

        study = col(study)
        arrays = {k: (col(v) if k not in ("source",) else v) for k, v in arrays.items()}
    if study is not None and not isinstance(study, str) and arrays.get("timepoint") is None:
        labels = [str(v) for v in study]
        dup = sorted({v for v in labels if labels.count(v) > 1})
        if dup:  # as metafor's .make.unique for slab: "Smith.1", "Smith.2"; said, never silent
            seen: dict[str, int] = {}
            out = []
            for v in labels:
                if v in dup:
                    seen[v] = seen.get(v, 0) + 1
                    out.append(f"{v}.{seen[v]}")
                else:
                    out.append(v)
            study = out
            warnings.warn(f"escalc: study labels repeated ({', '.join(dup)}) were numbered as metafor does "
                          "(label.1, label.2); pass unique labels or a timepoint column", UserWarning, stacklevel=2)
    es = EffectTable.from_arms(
        measure, study=study, add=add, to=to, drop00=drop00, vtype=vtype, zero_rule=zero_rule,
        missing="keep", **arrays
    )
    if es.not_estimable:
        warnings.warn(
            f"escalc({es.measure!r}): {len(es.not_estimable)} of {es.k} rows not estimable, kept as NaN: "
            + "; ".join(f"{k} ({v})" for k, v in es.not_estimable.items()),
            UserWarning,
            stacklevel=2,
        )
    return es
