"""Evaluate the ports of metafor's testthat files (one ``<name>.json`` of expected values made by
validation/metafor/extract_testthat.py, one ``<name>.py`` computing them through ``import bayesmeta as bm``).

A port module defines ``compute() -> dict[int, value]`` (a value ``("pair", actual, expected)``
when the R test compares two computed quantities, both then computed through ``bm``) (source line -> the value metafor's test
checks there, computed only with ``bm.*``), ``KNOWN_MISMATCH: dict[int, str]`` (lines checked that
differ from metafor, with what is known; reported as such, never as passing), ``OUT_OF_SCOPE: dict[int, str]`` (line -> why it is not
checked) and optionally ``DEFAULT_REASON`` (the reason for every other line). A behaviour entry
(``expect_error``, ``expect_true``, ...) is checked by a value ``True`` meaning "bayesmeta behaves as
metafor's test demands".

Comparison as testthat's ``expect_equivalent(..., tolerance)`` (``all.equal``): the mean absolute
difference relative to the mean absolute expected value must be below the tolerance (absolute
when the mean absolute expected value is itself below the tolerance, as R's ``all.equal``); an expected ``NA`` must be NaN (or None). ``printed`` also
records whether every value agrees to half a unit of the last printed decimal.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the ports import their data helper as ``from _data import dat``
    sys.path.insert(0, str(HERE))


@dataclass
class Outcome:
    line: int
    status: str  # "pass", "fail", "known mismatch" (checked, differs, listed with the reason), "out of scope", "missing"
    n_values: int
    detail: str = ""
    printed: bool | None = None


def names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.json") if (HERE / f"{p.stem}.py").exists())


def all_sources() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.json"))


def load_gold(name: str) -> dict:
    return json.loads((HERE / f"{name}.json").read_text())


def load_port(name: str):
    spec = importlib.util.spec_from_file_location(f"metafor_testthat_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _flat(x) -> list:
    if isinstance(x, bool):
        return [x]
    if hasattr(x, "tolist"):
        x = x.tolist()
    if isinstance(x, list | tuple):
        out: list = []
        for v in x:
            out += _flat(v)
        return out
    return [x]


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def compare(expected: list, actual, tol: float, decimals: list[int] | None) -> tuple[bool, str, bool | None]:
    act = _flat(actual)
    if len(act) != len(expected):
        return False, f"{len(act)} values for {len(expected)} expected", None
    num_e, num_a = [], []
    for e, a in zip(expected, act, strict=True):
        if e is None:
            if not _nan(a):
                return False, f"expected NA, got {a}", None
            continue
        if _nan(a):
            return False, f"expected {e}, got NaN", None
        num_e.append(float(e))
        num_a.append(float(a))
    if not num_e:
        return True, "", True
    diff = sum(abs(x - y) for x, y in zip(num_e, num_a, strict=True)) / len(num_e)
    scale = sum(abs(x) for x in num_e) / len(num_e)
    rel = diff / scale if scale > tol else diff  # R's all.equal: absolute when mean |target| <= tolerance
    ok = rel < tol if tol > 0 else rel <= 1e-12
    printed = None
    if decimals is not None:
        dec = [d for e, d in zip(expected, decimals, strict=True) if e is not None]
        printed = all(abs(x - y) <= 0.5 * 10.0 ** (-d) + 1e-12 for x, y, d in zip(num_e, num_a, dec, strict=True))
    return ok, "" if ok else f"mean relative difference {rel:.3g} (tolerance {tol:g}): got {num_a[:6]}", printed


def evaluate(name: str) -> list[Outcome]:
    gold = load_gold(name)
    mod = load_port(name) if (HERE / f"{name}.py").exists() else None
    got = mod.compute() if mod is not None else {}
    reasons = dict(getattr(mod, "OUT_OF_SCOPE", {})) if mod is not None else {}
    known = dict(getattr(mod, "KNOWN_MISMATCH", {})) if mod is not None else {}
    default = getattr(mod, "DEFAULT_REASON", None) if mod is not None else "not ported"
    out = []
    for e in gold["entries"]:
        line, n = e["line"], e["n_values"]
        if line in got:
            val = got[line]
            if isinstance(val, tuple) and len(val) == 3 and val[0] == "pair":
                # the R test compares two computed quantities (e.g. residuals(res) with yi - coef(res)):
                # both sides computed through bm, compared at the test's tolerance
                exp_vals = [float(x) for x in _flat(val[2])]
                ok, detail, _ = compare(exp_vals, val[1], e.get("tolerance", 1.5e-8), None)
                out.append(Outcome(line, "pass" if ok else "fail", len(exp_vals), detail))
                continue
            if e.get("expected") is None and "behaviour" not in e:
                out.append(Outcome(line, "fail", n, "expected value not extracted: list the line out of scope"))
                continue
            if "behaviour" in e:
                ok = val is True
                out.append(Outcome(line, "pass" if ok else "fail", n, "" if ok else f"behaviour differs: {val!r}"))
                continue
            exp, decs = e["expected"], e.get("decimals")
            if e.get("recycle"):  # rep(x, length(v)) in the R test
                n_act = len(_flat(val))
                exp, decs = exp * n_act, (decs or [0]) * n_act
            ok, detail, printed = compare(exp, val, e["tolerance"], decs)
            if not ok and line in known:
                out.append(Outcome(line, "known mismatch", n, f"{known[line]} ({detail})", printed))
                continue
            out.append(Outcome(line, "pass" if ok else "fail", n, detail, printed))
        elif line in reasons or default:
            out.append(Outcome(line, "out of scope", n, reasons.get(line, default or "")))
        else:
            out.append(Outcome(line, "missing", n, "neither checked nor given a reason"))
    return out
