r"""R-style formulas over a data frame for :mod:`bayesmeta.frequentist.multilevel` (metafor's ``rma.mv``).

* :func:`model_matrix`: the fixed effects, ``"~ 0 + outcome + outcome:I(year - 1983)"``, as R's
  ``model.matrix``: terms joined by ``+``, ``a*b`` for ``a + b + a:b``, ``a:b`` interactions, ``0``/``-1``
  drop the intercept, ``factor(x)`` and text columns enter as factors with sorted levels, ``I(expr)``
  evaluates arithmetic on the columns (with ``mean``, ``log``, ``exp``, ``sqrt``, ``abs``). A factor in a
  term is coded by treatment contrasts (first level the reference) when the term without it is in
  the model (the intercept for main effects), else by one indicator per level -- R's rule for
  terms ordered by degree (Chambers & Hastie 1992, *Statistical Models in S*, ch. 2).
* :func:`random_terms`: ``"~ 1 | a/b"`` (random intercepts for ``a`` and for ``b`` within ``a``),
  ``"~ inner | outer"`` (a structured term; ``factor(inner)`` accepted), as metafor's ``random=``.
  Levels are sorted (numerically for numeric columns); nested levels in lexical order, as R's
  ``interaction(..., lex.order=TRUE)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from bayesmeta.frequentist.multilevel import STRUCTS, SigmaTerm, StructTerm

__all__ = ["factor_codes", "model_matrix", "random_terms"]

_FUNCS = {"mean": np.mean, "log": np.log, "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs}


def _level_name(v) -> str:
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def factor_codes(col: pd.Series) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """Integer codes into the sorted levels, the level names and their numeric values (NaN if text)."""
    vals = col.to_numpy()
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    uniq = sorted(pd.unique(col.dropna()), key=(float if numeric else str))
    pos = {u: i for i, u in enumerate(uniq)}
    codes = np.array([pos[v] for v in vals], int)
    values = np.array([float(u) for u in uniq]) if numeric else np.full(len(uniq), np.nan)
    return codes, tuple(_level_name(u) for u in uniq), values


def _need(frame: pd.DataFrame, name: str, arg: str) -> pd.Series:
    if name not in frame.columns:
        raise ValueError(f"{arg}: no column {name!r} in the data; columns: {', '.join(map(str, frame.columns))}")
    return frame[name]


def _split_top(s: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in s:
        depth += (ch == "(") - (ch == ")")
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [p.strip() for p in out]


def _eval_I(expr: str, frame: pd.DataFrame, arg: str) -> np.ndarray:
    names = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", expr)) - set(_FUNCS)
    env: dict = dict(_FUNCS)
    for nm in names:
        env[nm] = _need(frame, nm, arg).to_numpy(float)
    try:
        return np.broadcast_to(np.asarray(eval(expr, {"__builtins__": {}}, env), float), (len(frame),)).copy()
    except Exception as e:  # a malformed expression: say which
        raise ValueError(f"{arg}: cannot evaluate I({expr}): {e}") from None


def _variable(tok: str, frame: pd.DataFrame, arg: str):
    """A factor (codes, level names) or a numeric column for one formula token."""
    if tok.startswith("I(") and tok.endswith(")"):
        return "num", _eval_I(tok[2:-1], frame, arg)
    if tok.startswith("factor(") and tok.endswith(")"):
        col = _need(frame, tok[7:-1].strip(), arg)
        codes, levels, _ = factor_codes(col)
        return "fac", (codes, levels)
    col = _need(frame, tok, arg)
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return "num", col.to_numpy(float)
    codes, levels, _ = factor_codes(col)
    return "fac", (codes, levels)


def _minus_one(rhs: str) -> str:
    """Top-level ``- term`` (outside parentheses) as ``+ -term``, so that ``- 1`` drops the intercept."""
    out, depth = "", 0
    for ch in rhs:
        depth += (ch == "(") - (ch == ")")
        out += "+ -" if ch == "-" and depth == 0 else ch
    return out.replace("+ - ", "+ -")


def model_matrix(frame: pd.DataFrame, formula: str, arg: str = "mods") -> tuple[np.ndarray, list[str]]:
    """Design matrix and column names of a one-sided formula over ``frame`` (see the module docstring)."""
    rhs = formula.strip()
    if not rhs.startswith("~"):
        raise ValueError(f"{arg}: a formula starts with '~' (e.g. '~ 0 + outcome'); got {formula!r}")
    intercept = True
    terms: list[tuple[str, ...]] = []
    for raw in _split_top(_minus_one(rhs[1:]), "+"):
        if raw in ("", "1"):
            continue
        if raw in ("0", "-1"):
            intercept = False
            continue
        if raw.startswith("-"):
            raise ValueError(f"{arg}: {formula!r}: only '- 1' (no intercept) can be subtracted")
        parts = _split_top(raw, "*")
        if len(parts) > 1:  # a*b*c: every non-empty sub-product, in order of degree
            for d in range(1, len(parts) + 1):
                terms += [tuple(c) for c in combinations(parts, d)]
            continue
        terms.append(tuple(_split_top(raw, ":")))
    terms = list(dict.fromkeys(terms))
    terms.sort(key=len)
    present: set[frozenset[str]] = {frozenset(t) for t in terms} | ({frozenset()} if intercept else set())
    cols: list[np.ndarray] = [np.ones(len(frame))] if intercept else []
    names: list[str] = ["intrcpt"] if intercept else []
    for t in terms:
        block: list[tuple[np.ndarray, str]] = [(np.ones(len(frame)), "")]
        for tok in t:
            kind, val = _variable(tok, frame, arg)
            if kind == "num":
                new = [(b * val, tok) for b, _ in block]
                block = [(c, f"{nb}:{n}" if nb else n) for (c, n), (_, nb) in zip(new, block, strict=True)]
                continue
            codes, levels = val
            full = frozenset(x for x in t if x != tok) not in present
            use = range(len(levels)) if full else range(1, len(levels))
            # R: the first factor of a term varies fastest
            block = [(b * (codes == lv), f"{nb}:{tok}{levels[lv]}" if nb else f"{tok}{levels[lv]}")
                     for lv in use for b, nb in block]
        cols += [c for c, _ in block]
        names += [n for _, n in block]
    X = np.column_stack(cols) if cols else np.empty((len(frame), 0))
    if X.shape[1] == 0:
        raise ValueError(f"{arg}: the formula {formula!r} has no terms")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError(f"{arg}: the design matrix of {formula!r} is rank deficient (redundant columns: "
                         f"{', '.join(names)}); drop a term or the intercept")
    return X.astype(float), names


def _group(frame: pd.DataFrame, spec: str, arg: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes and levels of ``a`` or of the nesting ``a/b`` (lexical order of the component levels)."""
    parts = [p.strip() for p in spec.split("/")]
    per = [factor_codes(_need(frame, p, arg))[:2] for p in parts]
    keys = list(zip(*[c for c, _ in per], strict=True))
    uniq = sorted(set(keys))
    pos = {u: i for i, u in enumerate(uniq)}
    levels = tuple("/".join(per[j][1][u[j]] for j in range(len(parts))) for u in uniq)
    return np.array([pos[k] for k in keys], int), levels


def random_terms(frame: pd.DataFrame, random: str | Sequence[str], struct: str | Sequence[str] = "CS"):
    """The :class:`SigmaTerm`/:class:`StructTerm` list and the formulas, from metafor-style ``random``."""
    forms = [random] if isinstance(random, str) else list(random)
    structs = [struct] if isinstance(struct, str) else list(struct)
    terms: list = []
    n_struct = 0
    for f in forms:
        s = f.strip()
        if not s.startswith("~") or "|" not in s:
            raise ValueError(f"random: each term is '~ 1 | group', '~ 1 | outer/inner' or '~ inner | outer'; "
                             f"got {f!r}")
        inner, outer = (x.strip() for x in s[1:].split("|", 1))
        if ":" in outer or not outer:
            raise ValueError(f"random: {f!r}: write nesting with '/' (e.g. '~ 1 | district/school')")
        if inner == "1":
            parts = [p.strip() for p in outer.split("/")]
            for d in range(1, len(parts) + 1):
                name = "/".join(parts[:d])
                codes, levels = _group(frame, name, "random")
                terms.append(SigmaTerm(name=name, groups=codes, levels=levels))
            continue
        st = (structs[n_struct] if n_struct < len(structs) else structs[-1]).upper()
        if st not in STRUCTS:
            raise ValueError(f"struct: unknown structure {st!r}; one of {', '.join(STRUCTS)}")
        n_struct += 1
        iname = inner[7:-1].strip() if inner.startswith("factor(") and inner.endswith(")") else inner
        icodes, ilevels, ivalues = factor_codes(_need(frame, iname, "random"))
        if st in ("AR", "HAR", "CAR") and np.isnan(ivalues).any():
            raise ValueError(f"random: struct={st!r} needs a numeric inner variable (time); {iname!r} is text")
        ocodes, olevels = _group(frame, outer, "random")
        terms.append(StructTerm(inner_name=inner, outer_name=outer, struct=st, inner=icodes, outer=ocodes,
                                inner_levels=ilevels, inner_values=ivalues, outer_levels=olevels))
    return terms, [str(f).strip() for f in forms]
