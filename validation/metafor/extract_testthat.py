"""Extract the expected values of metafor's testthat files into tests/golden/metafor_testthat/*.json.

Every ``expect_equivalent`` / ``expect_equal`` call (also over several lines) becomes one entry with
its source line, the R expression checked, the expected numbers when they are written as literals
(a number, ``c(...)`` of numbers, ``NA``), the test's tolerance (``.tol[[...]]`` from settings.r,
all 0.01; testthat's ``all.equal`` semantics: mean absolute difference relative to the mean absolute
expected value) and the decimals printed. ``expect_true``/``expect_error``/``expect_warning`` calls are
kept as behaviour entries. Run from the repository root (plain Python, no dependencies):

    python validation/metafor/extract_testthat.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

MIRROR = Path("/work/.mirror/cran+metafor/repo")
OUT = Path("tests/golden/metafor_testthat")
FILES = [
    *(f"test_analysis_example_{n}.r" for n in (
        "berkey1995", "berkey1998", "dersimonian2007", "gleser2009", "henmi2010", "ishak2007", "jackson2014",
        "konstantopoulos2011", "law2016", "lipsey2001", "miller1978", "morris2008", "normand1999",
        "raudenbush1985", "raudenbush2009", "rothman2008", "stijnen2010", "vanhouwelingen1993",
        "vanhouwelingen2002", "viechtbauer2005", "viechtbauer2007a", "viechtbauer2007b", "yusuf1985")),
    "test_misc_metan_vs_rma.mh_with_dat.bcg.r", "test_misc_metan_vs_rma.peto_with_dat.bcg.r",
    "test_misc_metan_vs_rma.uni_with_dat.bcg.r",
    "test_misc_escalc.r", "test_misc_confint.r", "test_misc_influence.r", "test_misc_pub_bias.r",
    "test_misc_selmodel.r", "test_misc_rma_glmm.r", "test_misc_residuals.r", "test_misc_calc_q.r",
    "test_misc_anova.r", "test_misc_handling_of_edge_cases_due_to_zeros.r", "test_misc_handling_nas.r",
]
TOL = 0.01  # settings.r: .tol[1:length(.tol)] <- .01 (count = 0 before that line, overwritten too)
DEFAULT_TOL = 1.4901161193847656e-08  # all.equal without tolerance: sqrt(.Machine$double.eps)
NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(MIRROR), *args], capture_output=True, text=True, check=True).stdout


def split_args(s: str) -> list[str]:
    out, depth, cur, quote = [], 0, "", None
    for ch in s:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def parse_numbers(text: str):
    """Numbers of a literal expected value, or None when it is not a literal."""
    t = re.sub(r"\s+", "", text)
    t = re.sub(r"(?<![\w.])(\d+)L(?![\w.])", r"\1", t)  # R integer literals (3L)
    if t in ("NA", "NA_real_"):
        return [None], [0]
    if re.fullmatch(NUM, t):
        return [float(t)], [len(t.split(".")[1].split("e")[0]) if "." in t else 0]
    r = re.fullmatch(rf"rep\(({NUM}),length\([\w.$]+\)\)", t)
    if r:  # rep(x, length(v)): every value is x (the harness recycles it)
        return [float(r.group(1))], [len(r.group(1).split(".")[1].split("e")[0]) if "." in r.group(1) else 0]
    m = re.fullmatch(r"c\((.*)\)", t)
    if m:
        vals, decs = [], []
        for part in split_args(m.group(1)):
            if part in ("NA", "NA_real_"):
                vals.append(None)
                decs.append(0)
            elif re.fullmatch(NUM, part):
                vals.append(float(part))
                decs.append(len(part.split(".")[1].split("e")[0]) if "." in part else 0)
            else:
                return None, None
        return vals, decs
    return None, None


def assigned_numbers(src: str, line: int, var: str):
    """Numbers of ``var <- structure(c(...), ...)`` or ``var <- c(...)`` assigned before ``line``
    (a matrix is read in R's column-major order)."""
    head = "\n".join(src.split("\n")[: line - 1])
    hits = [m for m in re.finditer(rf"(?m)^\s*{re.escape(var)}\s*<-\s*(structure\()?c\(", head)]
    lists = [m for m in re.finditer(rf"(?m)^\s*{re.escape(var)}\s*<-\s*structure\(list\(", head)]
    if lists and (not hits or lists[-1].start() > hits[-1].start()):
        m = lists[-1]
        i, depth = m.end(), 1
        while depth and i < len(head):
            depth += {"(": 1, ")": -1}.get(head[i], 0)
            i += 1
        body = re.sub(r"digits\s*=\s*c\([^()]*\)", "", head[m.end():i - 1])
        vals: list = []
        decs: list = []
        # named components in order: name = number, or name = c(numbers) (a data frame's columns)
        for g in re.finditer(rf"([A-Za-z.][\w.]*)\s*=\s*(c\([^()]*\)|{NUM}(?![\w.:]))", body):
            v, d = parse_numbers(g.group(2))
            if v is not None:
                vals += v
                decs += d
        return (vals, decs) if vals else (None, None)
    if not hits:
        return None, None
    m = hits[-1]
    i, depth = m.end(), 1
    while depth and i < len(head):
        depth += {"(": 1, ")": -1}.get(head[i], 0)
        i += 1
    return parse_numbers("c(" + head[m.end():i - 1] + ")")


def matrix_rows(src: str, line: int, var: str) -> int | None:
    """Rows of ``var <- structure(..., .Dim = c(nL, mL))`` (or ``.Dim = n:m``) assigned before ``line``."""
    head = "\n".join(src.split("\n")[: line - 1])
    i = head.rfind(f"{var} <- structure(")
    if i < 0:
        return None
    m = re.search(r"\.Dim\s*=\s*(?:c\((\d+)L?\s*,|(\d+):)", head[i:])
    return int(m.group(1) or m.group(2)) if m else None


def calls(src: str):
    """(line, name, argument text) of every expect_* call, also over several lines."""
    for m in re.finditer(r"\b(expect_equivalent|expect_equal|expect_true|expect_false|expect_error|"
                         r"expect_warning|expect_that|expect_identical|expect_null)\s*\(", src):
        line = src.count("\n", 0, m.start()) + 1
        prefix = src[src.rfind("\n", 0, m.start()) + 1:m.start()]
        if prefix.lstrip().startswith("#"):
            continue
        i, depth, quote = m.end(), 1, None
        while depth and i < len(src):
            ch = src[i]
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "\"'":
                quote = ch
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            i += 1
        yield line, m.group(1), src[m.end():i - 1]


def context_of(src: str, line: int) -> str:
    head = src.split("\n")[:line]
    for ln in reversed(head):
        mm = re.search(r'test_that\("([^"]*)"', ln)
        if mm:
            return mm.group(1)
    return ""


def main() -> int:
    sha = git("rev-parse", "HEAD").strip()
    version = re.search(r"Version:\s*(\S+)", git("show", "HEAD:DESCRIPTION")).group(1)
    OUT.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        src = git("show", f"HEAD:tests/testthat/{f}")
        entries = []
        for line, name, args in calls(src):
            a = split_args(args)
            e = {"line": line, "call": name, "context": context_of(src, line),
                 "actual": a[0] if a else "", "source": f"metafor {version} tests/testthat/{f}:{line}"}
            if name in ("expect_equivalent", "expect_equal", "expect_identical") and len(a) >= 2:
                tol = next((x for x in a[2:] if x.replace(" ", "").startswith("tolerance=")), None)
                e["expected_text"] = a[1]
                vals, decs = parse_numbers(a[1])
                if vals is None and re.fullmatch(r"[A-Za-z.][\w.]*", a[1].strip()):
                    vals, decs = assigned_numbers(src, line, a[1].strip())
                if vals is None and re.fullmatch(r"[A-Za-z.][\w.]*", a[0].strip()):  # expect_equivalent(expected, actual)
                    vals, decs = assigned_numbers(src, line, a[0].strip())
                    if vals is not None:
                        e["actual"] = a[1]
                col = re.fullmatch(r"([A-Za-z.][\w.]*)\[\s*,\s*(\d+)\s*\]", a[1].strip())
                if vals is None and col:
                    vals, decs = assigned_numbers(src, line, col.group(1))
                    nrow = matrix_rows(src, line, col.group(1))
                    if vals is not None and nrow:
                        j = int(col.group(2)) - 1
                        vals, decs = vals[j * nrow:(j + 1) * nrow], decs[j * nrow:(j + 1) * nrow]
                    else:
                        vals = decs = None
                e["expected"] = vals
                e["decimals"] = decs
                if re.match(r"\s*rep\(", a[1]):
                    e["recycle"] = True
                e["tolerance"] = DEFAULT_TOL if tol is None else (TOL if ".tol" in tol else float(tol.split("=")[1]))
                e["tol_name"] = (re.search(r'\.tol\[\["(\w+)"\]\]', tol).group(1) if tol and ".tol" in tol else None)
                e["n_values"] = len(vals) if vals is not None else 1
            else:
                e["n_values"] = 1
                e["behaviour"] = args.strip()
            entries.append(e)
        name = f.removeprefix("test_").removesuffix(".r").replace(".", "_")
        (OUT / f"{name}.json").write_text(json.dumps(
            {"file": f"tests/testthat/{f}", "metafor": version, "commit": sha,
             "tolerance_rule": "testthat all.equal: mean(|expected - actual|) / mean(|expected|) < tolerance "
                               "(absolute when mean |expected| <= tolerance, as all.equal)",
             "entries": entries}, indent=1) + "\n")
        print(f"{name}: {len(entries)} calls, {sum(e['n_values'] for e in entries)} values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
