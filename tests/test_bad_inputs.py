"""The bad-input catalogue: what a user gets for each kind of bad input (issue 10, item 1).

Every case copies the smallest valid analysis (``tests/bad_inputs/base``: a spec, two arm-level
files, one published result) into a temporary folder, changes one thing (a spec line, a data file,
a command-line option), runs ``bayesmeta`` in-process and asserts

* the exit code (2 for bad input; 0 where the input is legitimate and must be read correctly,
  e.g. a byte-order mark; 0 with a ``warning:`` line where the result is valid but fragile);
* the EXACT message on stderr (the temporary folder is written ``{tmp}``), which names the file
  and line and column, or the spec key, or the option, says what was expected and how to fix it;
* that no Python traceback reaches the user.

The same table is the catalogue in ``docs/bad-inputs.md``; ``test_catalogue_doc_is_current``
fails when they differ (regenerate with ``python tests/test_bad_inputs.py --write-docs``;
``python tests/test_bad_inputs.py --show ID`` prints what a case prints now).
"""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from bayesmeta.cli import main
from bayesmeta.effects.measures import MEASURES as _REGISTRY
from bayesmeta.errors import DataError

pytestmark = pytest.mark.e2e

MEASURES = tuple(_REGISTRY)  # measure lists in messages follow the registry (bayesmeta.effects.measures)
HERE = Path(__file__).resolve().parent
BASE = HERE / "bad_inputs" / "base"
DOC = HERE.parent / "docs" / "bad-inputs.md"

SPEC = ("reanalyze", "{tmp}/spec.toml", "--quiet")
EFFECTS = "study,yi,vi\na2001,0.10,0.04\nb2002,0.30,0.05\nc2003,-0.20,0.06\n"
RMA = ("rma", "{tmp}/effects.csv")
MISSING = ("missing", "{tmp}/data")  # reads and validates the arm-level files of a data folder
ANALYSE = ("analyse", "{tmp}/data/continuous_arms.csv", "--measure", "SMD", "--lower-is-better", "--margin", "0.2",
           "--no-sample", "--quiet", "--out", "{tmp}/out")
PUBLISHED = ("check-published", "{tmp}/data/published.csv")
C_HEAD = "study,outcome,timepoint,arm,n,mean,sd,source\n"
C_OK = "a2001,pain,1m,US,40,3.1,1.9,x\na2001,pain,1m,FL,41,3.4,2.0,x\n"
B_HEAD = "study,outcome,timepoint,arm,events,n,source\n"
P_HEAD = ("analysis,outcome,timepoint,measure,estimate,ci_lb,ci_ub,ci_level,p,p_relation,i2,k_studies,participants,"
          "studies,lower_is_better,model,source\n")
P_ROW = "pain_overall,pain,1m,SMD,-0.05,-0.30,0.20,0.95,0.69,=,0,3,248,a2001;b2002;c2003,true,RE,x\n"
SOLVE = ("solve", "{tmp}/effects.csv")
USAGE_RMA = "Usage: main rma [OPTIONS] CSV\nTry 'main rma --help' for help.\n\n"


@dataclass(frozen=True)
class Case:
    """One kind of bad input.

    ``spec`` edits ``spec.toml`` (pairs of old and new text, each old text must occur);
    ``files`` writes files (text or bytes) relative to the case folder; ``argv`` is the command
    line after ``bayesmeta`` (``{tmp}`` is the case folder). ``message`` is the exact stderr.
    """

    id: str
    area: str  # "data file" | "spec" | "option"
    what: str  # the bad input, as a user would describe it
    argv: tuple[str, ...]
    message: str
    fix: str
    spec: tuple[tuple[str, str], ...] = ()
    files: dict = field(default_factory=dict)
    code: int = 2


MISSING_HEAD = "study,outcome,timepoint,arm,n,mean,sd,status,missing_reason,source\n"
MISSING_ROWS = ("a2001,pain,1m,US,40,3.1,1.9,,,x\na2001,pain,1m,FL,41,3.4,2.0,,,x\n"
                "b2002,pain,1m,US,25,,,missing,not reported,x\nb2002,pain,1m,FL,24,,,missing,not reported,x\n")
PARTIAL_MESSAGE = (
    "warning: partial report (--allow-partial): 1 block(s) not run: pain_1m: outcome 'pain' has 1 complete studies "
    "(2 needed): 4 required values are missing (first: b2002 1m US mean (not reported); b2002 1m US sd (not "
    "reported); b2002 1m FL mean (not reported))\n"
)


def _xlsx(sheets: dict[str, str]) -> bytes:
    """An .xlsx workbook (openpyxl, a locked dependency) whose sheets hold the given CSV texts."""
    import io

    import pandas as pd

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, text in sheets.items():
            pd.read_csv(io.StringIO(text), dtype=object).to_excel(xw, sheet_name=name, index=False)
    return buf.getvalue()


def _arms(rows: str, head: str = C_HEAD) -> dict:
    return {"data/continuous_arms.csv": head + rows}


def _binary(rows: str) -> dict:
    return {"data/binary_arms.csv": B_HEAD + rows}


def _published(row: str) -> dict:
    return {"data/published.csv": P_HEAD + row}


def _arm_case(id, what, rows, message, fix, head=C_HEAD, argv=MISSING, **kw):
    return Case(id, "data file", what, argv, message, fix, files=_arms(rows, head), **kw)


def _pub_case(id, what, old, new, message, fix, **kw):
    assert old in P_ROW
    return Case(id, "data file", what, PUBLISHED, message, fix, files=_published(P_ROW.replace(old, new, 1)), **kw)


def _spec_case(id, what, old, new, message, fix, **kw):
    return Case(id, "spec", what, SPEC, message, fix, spec=((old, new),), **kw)


def _err(*lines: str) -> str:
    """The stderr of a DataError with the given problem lines."""
    n = len(lines)
    return "\n".join([f"error: {n} problem{'s' if n != 1 else ''} in the input:", *(f"  - {x}" for x in lines)]) + "\n"


_FLEISS = HERE.parent / "data" / "fleiss1993"


def _fleiss(suffix: str, old: str, new: str) -> bytes:
    """A Fleiss1993 RevMan file (meta's inst/extdata) with one edit."""
    path = _FLEISS / f"Fleiss1993{suffix}"
    raw = path.read_bytes()
    assert old.encode("latin-1") in raw, (path, old)
    return raw.replace(old.encode("latin-1"), new.encode("latin-1"), 1)


def _zip(members: dict[str, str]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    return buf.getvalue()


# (id, what, file name, content, message, fix) of bad RevMan files; the cases run `bayesmeta check-revman FILE`
_REVMAN_CASES = [
    ("not-revman-xml", "an XML file that is not a RevMan review", "x.rm5",
     '<?xml version="1.0"?>\n<html>\n<body/></html>\n',
     "{tmp}/x.rm5, line 2, column '<html>': not a RevMan 5 review: the root element is not <COCHRANE_REVIEW> (save the review from RevMan 5 as .rm5, or export its analyses as CSV)",
     "export the review from RevMan 5 (File > Export)"),
    ("malformed-xml", "a truncated .rm5 (an element never closed)", "broken.rm5",
     '<?xml version="1.0"?>\n<COCHRANE_REVIEW>\n<ANALYSES_AND_DATA>\n</COCHRANE_REVIEW>\n',
     '{tmp}/broken.rm5, line 4: not well-formed XML (mismatched tag: line 4, column 2); a RevMan 5 .rm5 file is XML',
     "export the review again; the line is named"),
    ("entities", "an .rm5 declaring XML entities (a 'billion laughs' bomb)", "bomb.rm5",
     '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
     "<COCHRANE_REVIEW>&b;</COCHRANE_REVIEW>\n",
     '{tmp}/bomb.rm5: refused: the XML declares entities or external references (EntitiesForbidden); RevMan files never do, and expanding them is unsafe',
     "never expanded: use the file RevMan wrote"),
    ("external-entity", "an .rm5 with an external entity (file:///etc/passwd)", "xxe.rm5",
     '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
     "<COCHRANE_REVIEW>&x;</COCHRANE_REVIEW>\n",
     '{tmp}/xxe.rm5: refused: the XML declares entities or external references (EntitiesForbidden); RevMan files never do, and expanding them is unsafe',
     "never expanded: use the file RevMan wrote"),
    ("unknown-measure", "an .rm5 with an unknown effect measure", "m.rm5",
     _fleiss(".rm5", 'EFFECT_MEASURE="OR"', 'EFFECT_MEASURE="XYZ"'),
     "{tmp}/m.rm5, line 441, column '<DICH_OUTCOME EFFECT_MEASURE>': unknown effect measure 'XYZ' for dichotomous data (RevMan's are OR, RR, RD, PETO_OR, MD, SMD or their names, e.g. 'Odds Ratio')",
     "use a measure RevMan offers (the message lists them)"),
    ("bad-number", "an .rm5 with a count that is not a number", "n.rm5",
     _fleiss(".rm5", 'EVENTS_1="49"', 'EVENTS_1="4 9"'),
     "{tmp}/n.rm5, line 447, column '<DICH_DATA EVENTS_1>': expected a number, got '4 9'",
     "correct the value at the line and attribute named"),
    ("csv-risk-of-bias", "a RevMan CSV exported with the risk-of-bias tables", "rob.csv",
     _fleiss("_CR.csv", "Year of study", "Risk of bias tables"),
     "{tmp}/rob.csv, line 1, column 'Risk of bias tables': unknown column for a RevMan 5 analysis export (RevMan's 'Risk of bias tables' field: export the analyses again without it); expected columns such as Comparison Number, Outcome Number, Subgroup Number, Name, Data Type, Statistical Method, Effect Measure, Analysis Model, Events 1, Total 1, Effect Estimate",
     "export the analyses again without them"),
    ("csv-bad-value", "a RevMan CSV with text in a number column", "v.csv",
     _fleiss("_CR.csv", ",49,0,0,615,", ",49,0,0,six hundred,"),
     "{tmp}/v.csv, line 4, column 'Total 1': expected a number, got 'six hundred'",
     "correct the cell named"),
    ("zip-without-package", "a zip that is not a Cochrane data package", "other.zip",
     _zip({"readme.txt": "hello"}),
     "{tmp}/other.zip: not a Cochrane data package: no file ending in '-overall-estimates-and-settings.csv' or '-data-rows.csv' in the zip (nor in a zip inside it); download the review's data package from the Cochrane Library, or read a RevMan 5 .rm5 file",
     "download the review's data package from the Cochrane Library"),
    ("not-a-zip", "a .zip that is not a zip file", "fake.zip", b"not a zip at all",
     '{tmp}/fake.zip: not a zip file (a Cochrane data package is a .zip)',
     "download the data package again"),
]

S = "{tmp}/spec.toml"

CASES: list[Case] = [
    # ---------------------------------------------------------------- spec: the file itself
    Case("spec-not-found", "spec", "spec file does not exist", ("reanalyze", "{tmp}/nospec.toml"),
         _err("{tmp}/nospec.toml: spec file not found"), "check the path (it is relative to the working directory)"),
    _spec_case("spec-invalid-toml", "a TOML syntax error (value missing after =)", "seed = 1", "seed = ",
               _err(f"{S}: invalid TOML: Invalid value (at line 6, column 8)"), "fix the TOML at the line and column named"),
    Case("spec-not-utf8", "spec", "spec saved in Latin-1 (a comment with an accented letter)", SPEC,
         _err(f"{S}: spec file is not UTF-8 text"), "save the spec as UTF-8",
         files={"spec.toml": b"# caf\xe9\n" + (BASE / "spec.toml").read_bytes()}),
    # ---------------------------------------------------------------- spec: [analysis]
    Case("spec-empty", "spec", "an empty spec file", SPEC,
         _err(f"{S}, key 'analysis': the [analysis] table is missing"), "start from a spec in models/ (docs/spec.md)",
         files={"spec.toml": ""}),
    _spec_case("spec-expected-missing-string", 'expected_missing = "yes"', 'timepoint = "1m"',
               'timepoint = "1m"\nexpected_missing = "yes"',
               _err(f"{S}, key 'study_level[0].expected_missing': expected true or false, got 'yes'"), "write true"),

    _spec_case("spec-unknown-key", "a misspelt key (sampel)", "sample = false", "sampel = false",
               _err(f"{S}, key 'sampler.sampel': unknown key; did you mean 'sample'?"), "use the suggested key"),
    _spec_case("spec-old-key", "a key from an older spec format (default_tau_prior)", "seed = 1",
               'seed = 1\ndefault_tau_prior = "hn"',
               _err("{tmp}/spec.toml, key 'analysis.default_tau_prior': unknown key from an older spec format: removed: mark the default prior of a set with primary = true (docs/spec.md)"),
               "remove it; mark the default prior of a set with primary = true (the message says so)"),
    _spec_case("spec-threshold-percent", "decision_threshold = 95 (a percentage)", "seed = 1",
               "seed = 1\ndecision_threshold = 95",
               _err(f"{S}, key 'analysis.decision_threshold': expected a probability in (0.5, 1), e.g. 0.95 "
                    "(not a percentage), got 95.0"), "write 0.95"),
    _spec_case("spec-interval-percent", "interval_prob = 95", "seed = 1", "seed = 1\ninterval_prob = 95",
               _err(f"{S}, key 'analysis.interval_prob': expected a probability in (0, 1), e.g. 0.95, got 95.0"),
               "write 0.95"),
    _spec_case("spec-threshold-string", 'decision_threshold = "0.95" (quoted)', "seed = 1",
               'seed = 1\ndecision_threshold = "0.95"',
               _err(f"{S}, key 'analysis.decision_threshold': expected a probability in (0.5, 1), e.g. 0.95 "
                    "(not a percentage), got '0.95'"), "remove the quotes"),
    _spec_case("spec-negative-seed", "seed = -1", "seed = 1", "seed = -1",
               _err(f"{S}, key 'analysis.seed': expected a non-negative integer, got -1"), "use a seed >= 0"),
    _spec_case("spec-missing-seed", "required key seed left out", "seed = 1\n", "",
               _err(f"{S}, key 'analysis.seed': required key is missing (expected a non-negative integer)"),
               "add seed = <integer>"),
    _spec_case("spec-same-arms", "experimental and control given the same label", 'control = "FL"', 'control = "US"',
               _err(f"{S}, key 'analysis.control': the control label equals the experimental label 'US'"),
               "name the two arms as in the data"),
    _spec_case("spec-interval-kind", 'interval_kind = "hpd"', "seed = 1", 'seed = 1\ninterval_kind = "hpd"',
               _err(f"{S}, key 'analysis.interval_kind': expected 'hdi' or 'eti', got 'hpd'"), "use 'hdi' or 'eti'"),
    # ---------------------------------------------------------------- spec: [sampler]
    _spec_case("spec-chains-zero", "chains = 0", "sample = false", "sample = false\nchains = 0",
               _err(f"{S}, key 'sampler.chains': expected an integer >= 1, got 0"), "use chains >= 1 (4 is usual)"),
    _spec_case("spec-draws-negative", "draws = -5", "sample = false", "sample = false\ndraws = -5",
               _err(f"{S}, key 'sampler.draws': expected an integer >= 1, got -5"), "use draws >= 1"),
    _spec_case("spec-draws-float", "draws = 1000.5", "sample = false", "sample = false\ndraws = 1000.5",
               _err(f"{S}, key 'sampler.draws': expected an integer >= 1, got 1000.5"), "use a whole number"),
    _spec_case("spec-target-accept", "target_accept = 95", "sample = false", "sample = false\ntarget_accept = 95",
               _err(f"{S}, key 'sampler.target_accept': expected a probability in (0, 1), got 95.0"), "e.g. 0.95"),
    _spec_case("spec-backend", 'backend = "stan"', "sample = false", 'sample = false\nbackend = "stan"',
               _err(f"{S}, key 'sampler.backend': expected 'nutpie' or 'pymc', got 'stan'"), "use nutpie or pymc"),
    # ---------------------------------------------------------------- spec: [[outcome]]
    _spec_case("spec-unknown-measure", 'measure = "SMDD"', 'measure = "SMD"', 'measure = "SMDD"',
               _err(f"{S}, key 'outcome[0].measure': expected {' | '.join(MEASURES)} "
                    "(the measure of the published result; margins are in its units), got 'SMDD'"),
               "use a measure code of the registry"),
    _spec_case("spec-margin-string", 'margins = ["0.2"] (a string)', "margins = [0.2]", 'margins = ["0.2"]',
               _err(f"{S}, key 'outcome[0].margins': expected a non-empty list of numbers in SMD units, got ['0.2']"),
               "remove the quotes"),
    _spec_case("spec-margin-negative", "an SMD margin of -0.2", "margins = [0.2]", "margins = [-0.2]",
               _err(f"{S}, key 'outcome[0].margins': SMD margins are positive distances toward the harmful side "
                    "(the side follows lower_is_better); got [-0.2]"), "give the positive distance"),
    _spec_case("spec-question", 'question = "noninferior" (typo)', 'question = "noninferiority"',
               'question = "noninferior"',
               _err(f"{S}, key 'outcome[0].question': expected 'noninferiority' | 'superiority' | 'equivalence' | "
                    "'estimation', got 'noninferior'"), "use one of the listed questions"),
    _spec_case("spec-primary-margin", "primary_margin not among the margins", "margins = [0.2]",
               "margins = [0.2, 0.3]\nprimary_margin = 0.25",
               _err(f"{S}, key 'outcome[0].primary_margin': must be one of the margins [0.2, 0.3], got 0.25"),
               "pick one of the margins"),
    _spec_case("spec-lower-is-better-string", 'lower_is_better = "yes"', "lower_is_better = true",
               'lower_is_better = "yes"',
               _err(f"{S}, key 'outcome[0].lower_is_better': expected true or false, got 'yes'"), "write true or false"),
    _spec_case("spec-outcome-not-published", "an outcome id that published.csv does not hold",
               'id = "pain_overall"', 'id = "pain_all"',
               _err("{tmp}/data/published.csv, column 'analysis': the spec asks for outcome 'pain_all', which "
                    "{tmp}/data/published.csv does not hold"), "use an analysis id of published.csv"),
    # ---------------------------------------------------------------- spec: priors
    _spec_case("prior-negative-scale", "a negative prior scale", "halfnormal(0.5)", "halfnormal(-0.5)",
               _err(f"{S}, key 'tau_priors.SMD.hn.prior': halfnormal prior: parameter scale = -0.5 is not valid"), "use a positive scale"),
    _spec_case("prior-unknown-family", "an unknown prior family (halfnormol)", "halfnormal(0.5)", "halfnormol(0.5)",
               _err(f"{S}, key 'tau_priors.SMD.hn.prior': unknown tau prior family 'halfnormol'; did you mean "
                    "'halfnormal'? Families: halfnormal, halfcauchy, halfstudentt, exponential, uniform, "
                    "lognormal_tau2, logt_tau2, invgamma, jeffreys, flat; literature priors: turner2015, rhodes2015, "
                    "bartos2021, bartos2023, unit_information"), "use the suggested family"),
    _spec_case("prior-syntax", "a prior with an unclosed bracket", "halfnormal(0.5)", "halfnormal(0.5",
               _err(f"{S}, key 'tau_priors.SMD.hn.prior': cannot read 'halfnormal(0.5': write the prior as "
                    "family(parameters), e.g. halfnormal(0.5)"), "close the bracket"),
    _spec_case("prior-string-parameter", "halfnormal(scale='abc')", "halfnormal(0.5)", "halfnormal(scale='abc')",
               _err(f"{S}, key 'tau_priors.SMD.hn.prior': halfnormal: parameter scale must be a number, got 'abc'"), "give a number"),
    _spec_case("prior-unknown-parameter", "halfnormal(sd=0.5) (wrong parameter name)", "halfnormal(0.5)",
               "halfnormal(sd=0.5)",
               _err(f"{S}, key 'tau_priors.SMD.hn.prior': halfnormal has no parameter 'sd'; its parameters are "
                    "('scale',)"), "use the parameter names listed"),
    _spec_case("prior-undefined-set", "a block naming a prior set that is not defined (tau_priors = \"RR\")",
               'timepoint = "1m"', 'timepoint = "1m"\ntau_priors = "RR"',
               _err(f"{S}, key 'study_level[0].tau_priors': no tau priors for 'RR' (defined sets: SMD); name one of "
                    "the defined sets (SMD), or set tau_priors = '<set>' to use another set explicitly"),
               "name a defined set or add [tau_priors.RR.<name>]"),
    _spec_case("prior-reference-proper", "the reference prior on mu is proper", 'prior = "flat()"',
               'prior = "normal(0, 10)"',
               _err(f"{S}, key 'mu_priors.SMD.reference.role': a 'reference' prior reproduces the frequentist result "
                    "and must be flat(); 'normal(0, 10)' is proper (use role = 'neutral' or 'other')"),
               "use flat() or another role"),
    _spec_case("prior-two-primary", "two priors of a set marked primary", 'prior = "halfnormal(0.5)"\nprimary = true',
               'prior = "halfnormal(0.5)"\nprimary = true\n\n[tau_priors.SMD.hc]\nprior = "halfcauchy(0.5)"\n'
               'primary = true',
               _err(f"{S}, key 'tau_priors.SMD': more than one prior is marked primary = true: hn, hc"),
               "mark one"),
    _spec_case("prior-tau-role", "a role given to a tau prior", 'prior = "halfnormal(0.5)"\nprimary = true',
               'prior = "halfnormal(0.5)"\nprimary = true\nrole = "neutral"',
               _err(f"{S}, key 'tau_priors.SMD.hn.role': roles are given to mu priors only; mark the default tau "
                    "prior with primary = true"), "remove role"),
    # ---------------------------------------------------------------- spec: preset, superiority, baseline risk
    _spec_case("spec-preset-unknown", 'preset = "revman" (which RevMan?)', "seed = 1", 'seed = 1\npreset = "revman"',
               _err(f"{S}, key 'analysis.preset': expected 'revman5' | 'revman2025' | 'metafor' (RevMan 5.4, "
                    "RevMan since 2025, metafor's defaults), got 'revman'; did you mean 'revman5'?"),
               "use revman5, revman2025 or metafor"),
    _spec_case("spec-superiority-threshold-negative", "an SMD superiority_threshold of -0.2 (a signed value)",
               'timepoint = "1m"', 'timepoint = "1m"\nsuperiority_threshold = -0.2',
               _err(f"{S}, key 'study_level[0].superiority_threshold': SMD thresholds of benefit are positive "
                    "distances toward the beneficial side (the side follows lower_is_better: 0.1 means benefit = "
                    "SMD < -0.1); got -0.2"), "give the positive distance (0.2)"),
    Case("spec-superiority-threshold-ratio-side", "spec", "an RR superiority_threshold of 1.25 where lower is better",
         SPEC, _err(f"{S}, key 'study_level[0].superiority_threshold': RR thresholds of benefit are ratios on the "
                    "beneficial side: with lower_is_better = true it must lie between 0 and 1; got 1.25 (did you "
                    "mean 0.8?)"), "use the reciprocal (0.8)",
         spec=(('file = "continuous_arms.csv"\noutcome = "pain"', 'file = "binary_arms.csv"\noutcome = "complications"'),
               ('timepoint = "1m"\nmeasure = "SMD"\nlower_is_better = true\nquestion = "noninferiority"\nmargins = [0.2]',
                'timepoint = "post"\nmeasure = "RR"\nlower_is_better = true\nquestion = "superiority"\n'
                'superiority_threshold = 1.25\nmu_priors = "SMD"\ntau_priors = "SMD"'))),
    _spec_case("spec-outcome-superiority-no-margins", "a superiority [[outcome]] block without margins",
               'question = "noninferiority"\nmargins = [0.2]', 'question = "superiority"',
               _err(f"{S}, key 'outcome[0].margins': required in [[outcome]] blocks, also for question = "
                    "'superiority' (the reanalysis of a published result shows P(non-inferior) over margins beside "
                    "P(benefit)); give margins in SMD units, e.g. [0.2] for SMD or [1.25] for a ratio, or analyse "
                    "the study rows in a [[study_level]] block, which needs none"), "give margins"),
    _spec_case("spec-baseline-risk-percent", "baseline_risk = [5] (a percentage)", "margins = [0.2]",
               'margins = [0.2]\nbaseline_risk = [5]\nbaseline_risk_source = "registry"',
               _err(f"{S}, key 'outcome[0].baseline_risk': expected control-arm risks in (0, 1) (a proportion, not "
                    "a percentage), e.g. [0.01, 0.05, 0.1]; got [5]"), "write 0.05"),
    _spec_case("spec-baseline-risk-continuous", "baseline_risk for an SMD outcome", "margins = [0.2]",
               'margins = [0.2]\nbaseline_risk = [0.05]\nbaseline_risk_source = "registry"',
               _err(f"{S}, key 'outcome[0].baseline_risk': risk differences per 1,000 are computed for binary "
                    "ratio measures (RR, OR); this outcome's measure is SMD"),
               "remove it (risk differences are for RR and OR)"),
    _spec_case("spec-baseline-risk-source-alone", "baseline_risk_source without baseline_risk", "margins = [0.2]",
               'margins = [0.2]\nbaseline_risk_source = "registry"',
               _err(f"{S}, key 'outcome[0].baseline_risk_source': given without baseline_risk: add "
                    "baseline_risk = [...]"), "add baseline_risk or remove the source"),
    _spec_case("spec-outcome-tau-priors-undefined", "an outcome naming a tau prior set that does not exist",
               "margins = [0.2]", 'margins = [0.2]\ntau_priors = "AE"',
               _err(f"{S}, key 'outcome[0].tau_priors': no tau priors for 'AE' (defined sets: SMD); name one of "
                    "the defined sets (SMD), or set tau_priors = '<set>' to use another set explicitly"),
               "name a defined set or add [tau_priors.AE.<name>]"),
    # ---------------------------------------------------------------- spec: ratio margins
    _spec_case("spec-rr-margin-wrong-side", "an RR margin of 0.8 for an outcome where lower is better",
               'id = "pain_overall"\nmeasure = "SMD"\nlower_is_better = true\nquestion = "noninferiority"\n'
               "margins = [0.2]",
               'id = "pain_overall"\nmeasure = "RR"\nlower_is_better = true\nquestion = "noninferiority"\n'
               "margins = [0.8]\nmu_priors = \"SMD\"",
               _err(f"{S}, key 'outcome[0].margins': RR margins are ratios on the harmful side: with lower_is_better "
                    "= true they must lie above 1; got [0.8] (did you mean 1.25?)"),
               "use the reciprocal (1.25)"),
    # ---------------------------------------------------------------- spec: study-level blocks and the data they name
    _spec_case("spec-data-folder-missing", "analysis.data names a folder that does not exist", 'data = "data"',
               'data = "dta"', _err(f"{S}, key 'analysis.data': data folder {{tmp}}/dta not found (paths are relative to "
                                    "the spec file)"), "correct the path (relative to the spec)"),
    _spec_case("study-file-missing", "a study-level block naming a file that does not exist",
               'file = "continuous_arms.csv"', 'file = "continuous.csv"',
               _err(f"{S}, key 'study_level[0].file': {{tmp}}/data/continuous.csv not found (CSV files in the data "
                    "folder: binary_arms.csv, continuous_arms.csv, published.csv)"), "name one of the files listed"),
    _spec_case("study-outcome-not-in-data", "an outcome that is not in the data (Pain for pain)",
               'outcome = "pain"', 'outcome = "Pain"',
               _err(f"{S}, key 'study_level[0].outcome': 'Pain' is not an outcome of {{tmp}}/data/continuous_arms.csv "
                    "(it has: pain)"), "use an outcome of the file"),
    _spec_case("study-smd-of-binary", "SMD asked of a binary file",
               'file = "continuous_arms.csv"\noutcome = "pain"\ntimepoint = "1m"',
               'file = "binary_arms.csv"\noutcome = "complications"\ntimepoint = "post"',
               _err(f"{S}, key 'study_level[0].measure': SMD does not fit binary_arms.csv, which holds binary data: "
                    "use RR, OR or RD"), "use RR, OR or RD (with their prior sets)"),
    _spec_case("study-timepoint-not-in-data", "a time point that the outcome does not have", 'timepoint = "1m"',
               'timepoint = "3m"',
               _err(f"{S}, key 'study_level[0].timepoint': '3m' is not a time point of 'pain' in "
                    "{tmp}/data/continuous_arms.csv (it has: 1m)"), "use a listed time point"),
    Case("study-two-timepoints", "spec", "two time points per study and no timepoint key (the same patients "
         "entered twice)", SPEC,
         _err(f"{S}, key 'study_level[0].timepoint': studies a2001 have several time points for 'pain': pooling them "
              "would count the same patients more than once; name one with timepoint = '...'"),
         "name one time point per block", spec=(('timepoint = "1m"\n', ""),),
         files=_arms(BASE.joinpath("data", "continuous_arms.csv").read_text().split("\n", 1)[1]
                     + "a2001,pain,post,US,40,3.0,1.9,x\na2001,pain,post,FL,41,3.3,2.0,x\n")),
    # ---------------------------------------------------------------- spec: moderators of a meta-regression
    _spec_case("moderator-not-a-list", 'moderators = "ablat" (a string, not a list)', 'timepoint = "1m"',
               'timepoint = "1m"\nmoderators = "ablat"', _err(f"{S}, key 'study_level[0].moderators': expected a list of column names of the study table, got 'ablat'"), "write moderators = [\"ablat\"]"),
    _spec_case("moderator-categorical-undeclared", "a categorical column that is not among the moderators",
               'timepoint = "1m"', 'timepoint = "1m"\nmoderators = ["ablat"]\ncategorical = ["alloc"]', _err(f"{S}, key 'study_level[0].categorical': 'alloc' is not in study_level[0].moderators: add it there or remove it here"),
               "list it in moderators too, or remove it from categorical"),
    Case("moderator-table-missing", "spec", "moderators declared but no study table in the data folder", SPEC, _err(f"{S}, key 'study_level[0].study_table': {{tmp}}/data/studies.csv not found: moderators (ablat) are read from a study table (one row per study: study, source, the moderator columns); CSV files in the data folder: binary_arms.csv, continuous_arms.csv, published.csv"),
         "add studies.csv (study, source, the moderator columns) or name the table with study_table",
         spec=(('timepoint = "1m"', 'timepoint = "1m"\nmoderators = ["ablat"]'),)),
    Case("moderator-unknown-column", "spec", "a moderator that is not a column of the study table (a typo)", SPEC,
         _err(f"{S}, key 'study_level[0].moderators': 'ablatt' is not a moderator column of studies.csv (its columns: ablat); did you mean 'ablat'?"), "use a column of the table (the closest is suggested)",
         spec=(('timepoint = "1m"', 'timepoint = "1m"\nmoderators = ["ablatt"]'),),
         files={"data/studies.csv": "study,ablat,source\na2001,44,x\nb2002,55,x\nc2003,42,x\n"}),
    Case("moderator-value-missing", "data file", "a moderator value missing for an analysed study", SPEC, _err("{tmp}/data/studies.csv, line 3, column 'ablat': empty for 'b2002', which the meta-regression on 'ablat' analyses: fill it in (with its source) or remove 'ablat' from the spec's study_level[0].moderators"),
         "fill it in with its source, or drop the moderator",
         spec=(('timepoint = "1m"', 'timepoint = "1m"\nmoderators = ["ablat"]'),),
         files={"data/studies.csv": "study,ablat,source\na2001,44,x\nb2002,,x\nc2003,42,x\n"}),
    Case("moderator-not-a-number", "data file", "text in a numeric moderator column (a unit typed after the number)",
         SPEC, _err("{tmp}/data/studies.csv, line 3, column 'ablat': '55 deg' is not a number, but the column's other values are: write a number (decimal point, no units), or leave it empty if unknown; for a categorical moderator list it in the spec's study_level[0].categorical"), "write the number only (or declare the moderator categorical)",
         spec=(('timepoint = "1m"', 'timepoint = "1m"\nmoderators = ["ablat"]'),),
         files={"data/studies.csv": "study,ablat,source\na2001,44,x\nb2002,55 deg,x\nc2003,42,x\n"}),
    Case("moderator-study-without-row", "data file", "an analysed study without a row in the study table", SPEC, _err("{tmp}/data/studies.csv, column 'study': no row for 1 analysed study: 'b2002' (did you mean 'b2003'?): add one row per study with the same label as the effect rows"),
         "add a row per study with the same label as the effect rows",
         spec=(('timepoint = "1m"', 'timepoint = "1m"\nmoderators = ["ablat"]'),),
         files={"data/studies.csv": "study,ablat,source\na2001,44,x\nb2003,55,x\nc2003,42,x\n"}),
    Case("moderator-table-no-source", "data file", "a study table without a source column", SPEC, _err("{tmp}/data/studies.csv, line 1, column 'source': required column is missing (one row per study: study, source, characteristics)"),
         "add a source column saying where each row comes from",
         spec=(('timepoint = "1m"', 'timepoint = "1m"\nmoderators = ["ablat"]'),),
         files={"data/studies.csv": "study,ablat\na2001,44\nb2002,55\nc2003,42\n"}),
    Case("study-values-missing", "spec", "a block whose studies lack values (fewer than 2 complete): the run fails "
         "and says why", SPEC,
         "error: 1 study-level block(s) could not run: pain_1m: outcome 'pain' has 1 complete studies (2 needed): 4 "
         "required values are missing (first: b2002 1m US mean (not reported); b2002 1m US sd (not reported); b2002 "
         "1m FL mean (not reported)). Nothing was written to {tmp}/report (a previous report there is unchanged). "
         "Enter the missing values, declare them with expected_missing = true in the spec, or rerun with "
         "--allow-partial.\n",
         "enter the values, or expected_missing = true, or --allow-partial", files=_arms(MISSING_ROWS, MISSING_HEAD),
         code=1),
    Case("study-values-missing-partial", "option", "the same with --allow-partial: the report is written and the "
         "gap named", (*SPEC, "--allow-partial"), PARTIAL_MESSAGE, "nothing to fix: the report lists what is missing",
         files=_arms(MISSING_ROWS, MISSING_HEAD), code=0),
    # ---------------------------------------------------------------- command-line options
    Case("rma-file-not-found", "option", "a data file that does not exist", ("rma", "{tmp}/nofile.csv"),
         _err("{tmp}/nofile.csv: file not found: check the path"), "check the path"),
    Case("rma-directory", "option", "a folder instead of a file", ("rma", "{tmp}/data"),
         "Usage: main rma [OPTIONS] CSV\nTry 'main rma --help' for help.\n\n"
         "Error: Invalid value for 'CSV': File '{tmp}/data' is a directory.\n", "give the CSV file"),
    Case("rma-method", "option", "an unknown --method", (*RMA, "--method", "DerSimonian"),
         "Usage: main rma [OPTIONS] CSV\nTry 'main rma --help' for help.\n\n"
         "Error: Invalid value for '--method': 'DerSimonian' is not one of 'EE', 'DL', 'REML', 'PM', 'ML'.\n",
         "use a metafor method code", files={"effects.csv": EFFECTS}),
    Case("rma-level-percent", "option", "rma --level 95", (*RMA, "--level", "95"),
         USAGE_RMA + "Error: Invalid value for '--level': expected a probability in (0, 1), e.g. 0.95 (not a "
         "percentage); got 95\n", "write 0.95", files={"effects.csv": EFFECTS}),
    Case("rma-level-zero", "option", "rma --level 0", (*RMA, "--level", "0"),
         USAGE_RMA + "Error: Invalid value for '--level': expected a probability in (0, 1), e.g. 0.95 (not a "
         "percentage); got 0\n", "write 0.95", files={"effects.csv": EFFECTS}),
    Case("rma-level-text", "option", "rma --level high", (*RMA, "--level", "high"),
         USAGE_RMA + "Error: Invalid value for '--level': expected a probability in (0, 1), e.g. 0.95; got 'high'\n",
         "write 0.95", files={"effects.csv": EFFECTS}),
    Case("solve-prob-percent", "option", "solve --prob 95", (*SOLVE, "--prob", "95"),
         "Usage: main solve [OPTIONS] CSV\nTry 'main solve --help' for help.\n\nError: Invalid value for '--prob': "
         "expected a probability in (0, 1), e.g. 0.95 (not a percentage); got 95\n", "write 0.95",
         files={"effects.csv": EFFECTS}),
    Case("rma-one-study", "option", "rma with k = 1", RMA,
         _err("{tmp}/effects.csv: 1 study: a random-effects meta-analysis needs at least 2 (with one study, report "
              "its own estimate and CI; --method EE accepts one)"), "add studies, or report the study itself",
         files={"effects.csv": "study,yi,vi\na2001,0.10,0.04\n"}),
    Case("rma-identical-studies", "option", "identical studies with the Hartung-Knapp test (zero-width interval)",
         (*RMA, "--test", "knha"),
         "warning: the Hartung-Knapp scale factor is 0 (the study estimates are identical), so the confidence "
         "interval for mu has zero width: use the test knha_adhoc (modified Hartung-Knapp, never narrower than the "
         "Wald interval) or z\n", "use --test knha_adhoc or z",
         files={"effects.csv": "study,yi,vi\na,0.1,0.04\nb,0.1,0.04\nc,0.1,0.04\n"}, code=0),
    Case("solve-prior-not-a-number", "option", 'solve --tau-prior "halfnormal(scale=abc)"',
         (*SOLVE, "--tau-prior", "halfnormal(scale=abc)"),
         _err("command line, option '--tau-prior': cannot read the arguments of 'halfnormal(scale=abc)': use numbers "
              "and quoted strings"), "give a number", files={"effects.csv": EFFECTS}),
    Case("solve-prior-negative", "option", 'solve --tau-prior "halfnormal(-1)"', (*SOLVE, "--tau-prior", "halfnormal(-1)"),
         _err("command line, option '--tau-prior': halfnormal prior: parameter scale = -1.0 is not valid"),
         "use a positive scale", files={"effects.csv": EFFECTS}),
    Case("solve-prior-old-syntax", "option", 'solve --tau-prior "halfnormal:scale=0.5" (an older syntax)',
         (*SOLVE, "--tau-prior", "halfnormal:scale=0.5"),
         _err("command line, option '--tau-prior': cannot read 'halfnormal:scale=0.5': write the prior as "
              "family(parameters), e.g. halfnormal(0.5)"), "write halfnormal(0.5)", files={"effects.csv": EFFECTS}),
    Case("solve-mu-prior-unknown", "option", 'solve --mu-prior "cauchy(0, 1)"', (*SOLVE, "--mu-prior", "cauchy(0, 1)"),
         _err("command line, option '--mu-prior': unknown mu prior family 'cauchy' Families: normal, studentt, flat; "
              "literature priors: turner2015, rhodes2015, bartos2021, bartos2023, unit_information"),
         "use studentt(nu=1, loc=0, scale=1) for a Cauchy", files={"effects.csv": EFFECTS}),
    Case("reanalyze-out-unwritable", "option", "--out inside a file (a folder that cannot be created)",
         (*SPEC, "--out", "{tmp}/spec.toml/report"),
         _err("command line, option '--out': cannot create the report folder {tmp}/spec.toml/report: {tmp}/spec.toml "
              "is not writable (Not a directory); choose a folder you can write to"), "choose a writable folder"),
    Case("reanalyze-out-is-file", "option", "--out naming a file", (*SPEC, "--out", "{tmp}/spec.toml"),
         "Usage: main reanalyze [OPTIONS] [SPEC]\nTry 'main reanalyze --help' for help.\n\nError: Invalid value for "
         "'--out': Directory '{tmp}/spec.toml' is a file.\n", "give a folder"),
    Case("spec-is-directory", "option", "a folder given as the spec", ("reanalyze", "{tmp}/data"),
         "Usage: main reanalyze [OPTIONS] [SPEC]\nTry 'main reanalyze --help' for help.\n\nError: Invalid value for "
         "'[SPEC]': File '{tmp}/data' is a directory.\n", "give the .toml file"),
    Case("analyse-no-orientation", "option", "analyse without --lower-is-better/--higher-is-better",
         ("analyse", "{tmp}/data/continuous_arms.csv", "--measure", "SMD", "--out", "{tmp}/out"),
         _err("command line, option '--lower-is-better': say which direction is better: --lower-is-better (pain, adverse events) or --higher-is-better (response, function scores)",
             "command line, option '--margin': required for question = 'noninferiority' (a list of margins in SMD units, e.g. [0.2] for SMD or [1.25] for a ratio)"), "add the orientation"),
    Case("analyse-rr-margin-wrong-side", "option", "analyse --measure RR --lower-is-better --margin 0.8",
         ("analyse", "{tmp}/data/binary_arms.csv", "--measure", "RR", "--lower-is-better", "--margin", "0.8", "--out",
          "{tmp}/out"),
         _err("command line, option '--margin': RR margins are ratios on the harmful side: with lower_is_better = "
              "true they must lie above 1; got [0.8] (did you mean 1.25?)"), "use 1.25"),
    Case("analyse-smd-of-binary", "option", "analyse a binary file with --measure SMD",
         ("analyse", "{tmp}/data/binary_arms.csv", "--measure", "SMD", "--lower-is-better", "--margin", "0.2", "--out",
          "{tmp}/out"),
         _err("command line, option '--measure': SMD needs continuous data (mean, sd, n); binary_arms.csv holds binary "
              "arms (use RR, OR or RD)"), "use RR, OR or RD"),
    Case("analyse-unknown-measure", "option", "analyse --measure SMDD",
         ("analyse", "{tmp}/data/continuous_arms.csv", "--measure", "SMDD", "--lower-is-better", "--margin", "0.2",
          "--out", "{tmp}/out"),
         _err("command line, option '--measure': unknown effect measure 'SMDD' (did you mean 'SMD'? two-group continuous: SMD, SMD_revman, MD, SMDH, SMD1, ROM); use one of "
              f"{', '.join(MEASURES)}"), "use the suggested code"),
    Case("analyse-outcome-not-in-data", "option", "analyse --outcome Pain (the file has pain)",
         (*ANALYSE, "--outcome", "Pain"),
         _err("command line, option '--outcome': 'Pain' is not an outcome of {tmp}/data/continuous_arms.csv (it has: pain); did you mean 'pain'?"), "use an outcome of the file"),
    Case("analyse-timepoint-not-in-data", "option", "analyse --timepoint 3m (the file has 1m)",
         (*ANALYSE, "--timepoint", "3m"),
         _err("command line, option '--timepoint': '3m' is not a time point of 'pain' in "
              "{tmp}/data/continuous_arms.csv (it has: 1m)"), "use a listed time point"),
    Case("analyse-prior-negative", "option", 'analyse --tau-prior "halfnormal(-1)"',
         (*ANALYSE, "--tau-prior", "halfnormal(-1)"),
         _err("command line, option '--tau-prior': halfnormal prior: parameter scale = -1.0 is not valid"),
         "use a positive scale"),
    Case("batch-file-not-found", "option", "batch of a table that does not exist",
         ("batch", "{tmp}/nope.csv", "--out", "{tmp}/b"),
         _err("{tmp}/nope.csv: file not found; pass the path of a CSV table"), "check the path"),
    Case("analyse-preset-unknown", "option", "analyse --preset revman", (*ANALYSE, "--preset", "revman"),
         "Usage: main analyse [OPTIONS] DATA\nTry 'main analyse --help' for help.\n\nError: Invalid value for "
         "'--preset': 'revman' is not one of 'revman5', 'revman2025', 'metafor'.\n",
         "use revman5, revman2025 or metafor"),
    Case("analyse-superiority-threshold-negative", "option", "analyse --superiority-threshold -0.1 (SMD)",
         (*ANALYSE, "--question", "superiority", "--superiority-threshold", "-0.1"),
         _err("command line, option '--superiority-threshold': SMD thresholds of benefit are positive distances "
              "toward the beneficial side (the side follows lower_is_better: 0.1 means benefit = SMD < -0.1); "
              "got -0.1"), "give the positive distance (0.1)"),
    Case("check-published-revman2025-no-k", "option", "check-published --preset revman2025 on a row without k",
         (*PUBLISHED, "--preset", "revman2025"),
         _err("{tmp}/data/published.csv, column 'k_studies': preset 'revman2025' prints t(k-1) intervals: the "
              "number of studies k is needed: give k_studies for every result"), "add k_studies",
         files=_published(P_ROW.replace(",0,3,248,", ",0,,248,"))),
    Case("rma-measure-unknown", "option", "rma --measure SMDD", (*RMA, "--measure", "SMDD"),
         _err("command line, option '--measure': unknown effect measure 'SMDD' (did you mean 'SMD'? two-group continuous: SMD, SMD_revman, MD, SMDH, SMD1, ROM); use one "
              "of " + ", ".join(MEASURES)), "use a measure code of the registry", files={"effects.csv": EFFECTS}),
    Case("rma-arms-without-measure", "option", "rma on arm-level data without --measure",
         ("rma", "{tmp}/data/continuous_arms.csv"),
         _err("{tmp}/data/continuous_arms.csv: continuous arms data need an effect measure: give --measure "
              "(one of SMD, SMD_revman, MD, SMDH, SMD1, ROM)"), "give --measure SMD (or MD)"),
    Case("solve-measure-wrong-data", "option", "solve --measure RR on continuous arms",
         ("solve", "{tmp}/data/continuous_arms.csv", "--measure", "RR"),
         _err("{tmp}/data/continuous_arms.csv: measure RR does not fit continuous data; use one of SMD, "
              "SMD_revman, MD, SMDH, SMD1, ROM"), "use SMD, SMD_revman or MD"),
    Case("batch-prior-old-syntax", "option", 'batch --mu-prior "normal:loc=0" (the older syntax)',
         ("batch", "{tmp}/pub.csv", "--out", "{tmp}/out", "--mu-prior", "normal:loc=0"),
         _err("command line, option '--mu-prior': cannot read 'normal:loc=0': write the prior as "
              "family(parameters), e.g. normal(0, 1)"), "write normal(0, 1)",
         files={"pub.csv": "analysis,measure,estimate,ci_lb,ci_ub,lower_is_better,margin\na,SMD,0.1,-0.1,0.3,true,0.2\n"}),
    # ---------------------------------------------------------------- arm-level data files
    _arm_case("arms-negative-n", "a negative n", "a2001,pain,1m,US,-5,3.1,1.9,x\na2001,pain,1m,FL,41,3.4,2.0,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 2, column 'n': must be >= 1, got -5"), "give the number of participants"),
    _arm_case("arms-fractional-n", "n = 40.5", "a2001,pain,1m,US,40.5,3.1,1.9,x\na2001,pain,1m,FL,41,3.4,2.0,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 2, column 'n': '40.5' is not a whole number"), "give a whole number"),
    _arm_case("arms-thousands-separator", 'n = "1,200" (thousands separator)',
              'a2001,pain,1m,US,"1,200",3.1,1.9,x\na2001,pain,1m,FL,41,3.4,2.0,x\n',
              _err("{tmp}/data/continuous_arms.csv, line 2, column 'n': '1,200' is not a whole number (a thousands separator? write 1200)"),
              "drop the separator"),
    _arm_case("arms-decimal-comma", 'mean = "3,1" (decimal comma, quoted)',
              'a2001,pain,1m,US,40,"3,1",1.9,x\na2001,pain,1m,FL,41,3.4,2.0,x\n',
              _err("{tmp}/data/continuous_arms.csv, line 2, column 'mean': '3,1' is not a number (a decimal comma? write 3.1)"),
              "use a decimal point"),
    _arm_case("arms-percent", "mean = 31%", "a2001,pain,1m,US,40,31%,1.9,x\na2001,pain,1m,FL,41,3.4,2.0,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 2, column 'mean': '31%' is not a number"), "write the number without %"),
    _arm_case("arms-sd-zero", "sd = 0", "a2001,pain,1m,US,40,3.1,0,x\na2001,pain,1m,FL,41,3.4,2.0,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 2, column 'sd': must be > 0, got 0"),
              "give the SD (an SD of 0 is a reporting error; a missing SD is status = missing)"),
    _arm_case("arms-sd-huge", "sd = 1e300", "a2001,pain,1m,US,40,3.1,1e300,x\na2001,pain,1m,FL,41,3.4,2.0,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 2, column 'sd': 1e300 is too large to compute with (beyond 1e100): a typo or a wrong unit?"),
              "correct the value"),
    _arm_case("arms-mean-huge", "mean = 1e300 (continuous data)",
              "a2001,pain,1m,US,40,1e300,1.9,x\na2001,pain,1m,FL,41,3.4,2.0,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 2, column 'mean': 1e300 is too large to compute with (beyond 1e100): a typo or a wrong "
                   "unit?"), "correct the value"),
    _arm_case("arms-duplicate-row", "the same study and arm entered twice", C_OK + "a2001,pain,1m,US,40,3.1,1.9,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 4, column 'study,outcome,timepoint,arm': duplicate key (a2001, pain, 1m, US); first on "
                   "line 2: delete one of the rows or correct its key"), "delete one row, or give the rows different time points"),
    _arm_case("arms-unknown-arm", "an arm label in another case (us)",
              "a2001,pain,1m,us,40,3.1,1.9,x\na2001,pain,1m,FL,41,3.4,2.0,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 1, column 'arm': the experimental arm 'US' (from {tmp}/data/vocabulary.toml) is not an arm of this file, whose arms are 'us', 'FL'; did you mean 'us'? Labels are case-sensitive: give {tmp}/data/vocabulary.toml the label as the file spells it"), "correct the label in the file or in vocabulary.toml (the message says which is close)"),
    _arm_case("arms-partner-missing", "a study with one arm only", C_OK + "b2002,pain,1m,US,25,2.8,1.7,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 4, column 'arm': b2002, pain, 1m: arm 'FL' is missing (only 'US' given)"),
              "add the other arm's row"),
    _arm_case("arms-empty-value", "an empty mean without status = missing: a missing value, the study left out "
              "with a note",
              "a2001,pain,1m,US,40,,1.9,x\na2001,pain,1m,FL,41,3.4,2.0,x\n",
              '',
              "enter the value (with its source) if it can be found", code=0),
    _arm_case("arms-missing-column", "no sd column", "a2001,pain,1m,US,40,3.1,x\na2001,pain,1m,FL,41,3.4,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 1, column 'sd': required column is missing"), "add the column",
              head="study,outcome,timepoint,arm,n,mean,source\n"),
    _arm_case("arms-capitalised-header", "capitalised column names (N, Mean, SD)", C_OK,
              _err("{tmp}/data/continuous_arms.csv, line 1, column 'N': column names are lower case: write 'n'",
                   "{tmp}/data/continuous_arms.csv, line 1, column 'Mean': column names are lower case: write 'mean'",
                   "{tmp}/data/continuous_arms.csv, line 1, column 'SD': column names are lower case: write 'sd'"), "write them in lower case",
              head="study,outcome,timepoint,arm,N,Mean,SD,source\n", argv=ANALYSE),
    _arm_case("arms-duplicate-column", "a column twice in the header",
              "a2001,pain,1m,US,40,3.1,1.9,1.9,x\na2001,pain,1m,FL,41,3.4,2.0,2.0,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 1, column 'sd': column appears more than once in the header: keep one"),
              "delete one", head="study,outcome,timepoint,arm,n,mean,sd,sd,source\n", argv=ANALYSE),
    _arm_case("arms-unknown-timepoint", "a time point not in vocabulary.toml",
              "a2001,pain,4w,US,40,3.1,1.9,x\na2001,pain,4w,FL,41,3.4,2.0,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 2, column 'timepoint': unknown timepoint '4w'; allowed: 1m, post",
                   "{tmp}/data/continuous_arms.csv, line 3, column 'timepoint': unknown timepoint '4w'; allowed: 1m, post"),
              "use a listed label or add it to vocabulary.toml"),
    _arm_case("arms-header-only", "a header and no rows", "",
              _err("{tmp}/data/continuous_arms.csv: has a header but no data rows: add one row per study (or arm)"), "add the rows", argv=ANALYSE),
    _arm_case("arms-empty-header-field", "an unnamed column in the middle",
              "a2001,pain,1m,US,40,3.1,1.9,7,x\na2001,pain,1m,FL,41,3.4,2.0,7,x\n",
              _err("{tmp}/data/continuous_arms.csv, line 1: field 8 of the header is empty: name every column"), "name it or delete it",
              head="study,outcome,timepoint,arm,n,mean,sd,,source\n", argv=ANALYSE),
    _arm_case("arms-value-without-column", "a value under Excel's unnamed trailing column",
              "a2001,pain,1m,US,40,3.1,1.9,x,note\na2001,pain,1m,FL,41,3.4,2.0,x,\n",
              _err("{tmp}/data/continuous_arms.csv, line 2: field 9 ('note') lies under a column without a name: name the column in the header "
                   "(line 1) or delete the value"), "name the column or delete the value",
              head="study,outcome,timepoint,arm,n,mean,sd,source,\n", argv=ANALYSE),
    _arm_case("arms-excel-trailing", "Excel's empty trailing columns and separator-only rows are skipped",
              "a2001,pain,1m,US,40,3.1,1.9,x,,\na2001,pain,1m,FL,41,3.4,2.0,x,,\n,,,,,,,,,\n",
              "", "nothing to fix", head="study,outcome,timepoint,arm,n,mean,sd,source,,\n", code=0),
    Case("binary-events-exceed-n", "data file", "events > n", MISSING,
         _err("{tmp}/data/binary_arms.csv, line 2, column 'events': events (50) exceed n (40)"), "check both numbers",
         files=_binary("a2001,complications,post,US,50,40,x\na2001,complications,post,FL,4,41,x\n")),
    Case("binary-negative-events", "data file", "negative events", MISSING,
         _err("{tmp}/data/binary_arms.csv, line 2, column 'events': must be >= 0, got -1"), "give the count",
         files=_binary("a2001,complications,post,US,-1,40,x\na2001,complications,post,FL,4,41,x\n")),
    Case("data-folder-missing", "option", "`missing` on a folder that does not exist", ("missing", "{tmp}/nodata"),
         _err("{tmp}/nodata: folder not found: give the data folder"), "check the path"),
    # ---------------------------------------------------------------- messy real files (issue 19)
    Case("multi-arm-two-chosen", "data file", "a three-arm trial: the two arms named are compared, the third left "
         "out with a note", ANALYSE, "warning: continuous_arms.csv, pain: arm 'PL' (1 row: a2001) left out: the analysis compares 'US' (experimental) with 'FL' (control)\n", "nothing to fix: the note names the arm left out",
         files=_arms(BASE.joinpath("data", "continuous_arms.csv").read_text().split("\n", 1)[1]
                     + "a2001,pain,1m,PL,39,3.9,2.1,x\n"), code=0),
    _arm_case("arms-na-spellings", "NA, n/a, -, NR and empty cells are missing values: the studies are left out "
              "with a note", "a2001,pain,1m,US,40,3.1,1.9,x\na2001,pain,1m,FL,41,3.4,2.0,x\n"
              "b2002,pain,1m,US,25,NA,n/a,x\nb2002,pain,1m,FL,24,-,NR,x\nc2003,pain,1m,US,60,3.6,2.2,x\n"
              "c2003,pain,1m,FL,58,3.5,2.1,x\nd2004,pain,1m,US,30,,2.0,x\nd2004,pain,1m,FL,31,3.2,2.0,x\n",
              "warning: continuous_arms.csv, pain: b2002 (1m): mean, sd missing (mean 'NA'; sd 'n/a' in the file; mean '-'; sd 'NR' in the file), left out; d2004 (1m): mean missing (mean empty in the file), left out\n", "nothing to fix (enter the values with their source if they can be found)", argv=ANALYSE, code=0),
    Case("studies-status-missing", "data file", "one row per study with status = missing and a reason (kept out, "
         "named)", ("analyse", "{tmp}/wide.csv", "--measure", "MD", "--lower-is-better", "--margin", "0.5",
                    "--no-sample", "--quiet", "--out", "{tmp}/out"), 'warning: wide.csv: b: mean, sd missing (only a figure), left out\n', "nothing to fix",
         files={"wide.csv": "study,m1i,sd1i,n1i,m2i,sd2i,n2i,status,missing_reason,source\n"
                            "a,3.1,1.9,40,3.4,2.0,41,,,x\nb,,,25,,,24,missing,only a figure,x\n"
                            "c,3.6,2.2,60,3.5,2.1,58,,,x\nd,2.9,1.5,30,3.3,1.6,31,,,x\n"}, code=0),
    Case("analyse-arm-case", "option", "--experimental us where the file spells the arm US",
         (*ANALYSE, "--experimental", "us", "--control", "FL"), _err("command line, option '--experimental': 'us' is not an arm of continuous_arms.csv (its arms: US, FL); did you mean 'US'? Labels are case-sensitive: give the option as the file spells it"), "give the option as the file spells the arm"),
    Case("analyse-arm-not-in-file", "option", "--control names an arm the file does not have",
         (*ANALYSE, "--experimental", "US", "--control", "placebo"), _err("command line, option '--control': 'placebo' is not an arm of continuous_arms.csv (its arms: US, FL): name one of them"), "name one of the arms listed"),
    Case("analyse-outcome-no-column", "option", "--outcome given for a file without an outcome column",
         ("analyse", "{tmp}/arms.csv", "--measure", "SMD", "--lower-is-better", "--margin", "0.2", "--outcome", "pain",
          "--no-sample", "--quiet", "--out", "{tmp}/out"), _err("command line, option '--outcome': {tmp}/arms.csv has no outcome column (the whole file is one outcome): leave --outcome out"), "leave --outcome out",
         files={"arms.csv": "study,arm,n,mean,sd\na,experimental,40,3.1,1.9\na,control,41,3.4,2.0\n"
                            "b,experimental,25,2.8,1.7\nb,control,24,3.0,1.8\n"}),
    Case("analyse-outcome-optional", "data file", "an arm file without outcome, timepoint and source columns is read",
         ("analyse", "{tmp}/arms.csv", "--measure", "SMD", "--lower-is-better", "--margin", "0.2", "--no-sample",
          "--quiet", "--out", "{tmp}/out"), "", "nothing to fix",
         files={"arms.csv": "study,arm,n,mean,sd\na,experimental,40,3.1,1.9\na,control,41,3.4,2.0\n"
                            "b,experimental,25,2.8,1.7\nb,control,24,3.0,1.8\n"}, code=0),
    Case("analyse-outcome-wide-not-in-data", "option", "--outcome not in a one-row-per-study file: the values present "
         "are listed", ("analyse", "{tmp}/wide.csv", "--measure", "MD", "--lower-is-better", "--margin", "0.5",
                        "--outcome", "function", "--no-sample", "--quiet", "--out", "{tmp}/out"), _err("command line, option '--outcome': 'function' is not an outcome of {tmp}/wide.csv (it has: pain, Function); did you mean 'Function'?"),
         "use an outcome of the file",
         files={"wide.csv": "study,outcome,m1i,sd1i,n1i,m2i,sd2i,n2i\na,pain,3.1,1.9,40,3.4,2.0,41\n"
                            "b,pain,3.6,2.2,60,3.5,2.1,58\na,Function,1,1,40,1,1,41\n"}),
    Case("analyse-timepoint-several", "option", "no --timepoint for a file with two time points per study",
         ("analyse", "{tmp}/data/continuous_arms.csv", "--measure", "SMD", "--lower-is-better", "--margin", "0.2",
          "--no-sample", "--quiet", "--out", "{tmp}/out"), _err("command line, option '--timepoint': continuous_arms.csv holds the time points 1m, post of 'pain'; the same patients would count more than once: choose one with --timepoint"), "choose one with --timepoint",
         files=_arms(BASE.joinpath("data", "continuous_arms.csv").read_text().split("\n", 1)[1]
                     + "a2001,pain,post,US,40,3.0,1.9,x\na2001,pain,post,FL,41,3.3,2.0,x\n")),
    Case("analyse-mods-unknown", "option", "--mods naming a column the file does not have",
         (*ANALYSE, "--mods", "dose"), _err("command line, option '--mods': 'dose' is not a column of continuous_arms.csv (moderator columns: none)"), "use a moderator column of the file"),
    Case("analyse-mods", "option", "--mods with a moderator column of the data file: the meta-regression runs",
         ("analyse", "{tmp}/wide.csv", "--measure", "MD", "--lower-is-better", "--margin", "0.5", "--mods", "year",
          "--no-sample", "--quiet", "--out", "{tmp}/out"), "", "nothing to fix",
         files={"wide.csv": "study,m1i,sd1i,n1i,m2i,sd2i,n2i,year,source\na,3.1,1.9,40,3.4,2.0,41,1990,x\n"
                            "b,3.6,2.2,60,3.5,2.1,58,1995,x\nc,2.9,1.5,30,3.3,1.6,31,2001,x\n"
                            "d,3.0,1.8,50,3.2,1.7,52,2008,x\n"}, code=0),
    Case("analyse-xlsx", "data file", "an Excel workbook (.xlsx, one sheet) is read as its CSV export would be",
         ("analyse", "{tmp}/data.xlsx", "--measure", "SMD", "--lower-is-better", "--margin", "0.2", "--no-sample",
          "--quiet", "--out", "{tmp}/out"), "", "nothing to fix",
         files={"data.xlsx": _xlsx({"Sheet1": "study,arm,n,mean,sd\na,experimental,40,3.1,1.9\na,control,41,3.4,2.0\n"
                                              "b,experimental,25,2.8,1.7\nb,control,24,3.0,1.8\n"})}, code=0),
    Case("analyse-xlsx-two-sheets", "data file", "a workbook with two sheets of data",
         ("analyse", "{tmp}/data.xlsx", "--measure", "SMD", "--lower-is-better", "--margin", "0.2", "--out",
          "{tmp}/out"), _err("{tmp}/data.xlsx: the workbook has 2 sheets with data (pain, notes): keep only the sheet to analyse, or save the sheet as CSV (Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'; LibreOffice: File > Save As > 'Text CSV', UTF-8)"), "keep one sheet or export it as CSV",
         files={"data.xlsx": _xlsx({"pain": "study,arm,n,mean,sd\na,experimental,40,3.1,1.9\n",
                                    "notes": "note\nfrom the paper\n"})}),
    Case("csv-is-a-workbook", "data file", "an Excel workbook saved with the suffix .csv", RMA, _err("{tmp}/effects.csv: is a workbook or zip archive, not CSV text: give it its suffix (.xlsx, .ods) to read it as a workbook, or save the sheet as CSV (Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'; LibreOffice: File > Save As > 'Text CSV', UTF-8)"),
         "give it its suffix or export it as CSV", files={"effects.csv": _xlsx({"Sheet1": EFFECTS})}),
    Case("analyse-xlsx-damaged", "data file", "a damaged Excel workbook (.xlsx)", ("analyse", "{tmp}/data.xlsx", "--measure", "SMD", "--lower-is-better", "--margin", "0.2", "--out", "{tmp}/out"), _err("{tmp}/data.xlsx: cannot read it as a .xlsx workbook (BadZipFile): save the sheet as CSV (Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'; LibreOffice: File > Save As > 'Text CSV', UTF-8)"),
         "export the sheet as CSV UTF-8, or install openpyxl", files={"data.xlsx": b"PK\x03\x04 not a real workbook"}),
    # ---------------------------------------------------------------- no silent wrong answer (issue 19)
    Case("contrasts-log-entered-as-ratios", "data file", "log RRs entered as ratios (negative values; the measure "
         "from --measure)", (*RMA, "--measure", "RR"), _err("{tmp}/effects.csv, line 2, column 'estimate': RR values are ratios as printed and must be > 0, got -0.22: these look like log RRs; add a column scale with the value log (or give yi and sei on the log scale)",
             "{tmp}/effects.csv, line 3, column 'estimate': RR values are ratios as printed and must be > 0, got -1.919: these look like log RRs; add a column scale with the value log (or give yi and sei on the log scale)",
             "{tmp}/effects.csv, line 4, column 'ci_lb': RR values are ratios as printed and must be > 0, got -0.3: these look like log RRs; add a column scale with the value log (or give yi and sei on the log scale)"), "add a column scale = log",
         files={"effects.csv": "study,estimate,ci_lb,ci_ub\na,-0.22,-0.51,0.07\nb,-1.919,-2.9,-0.9\n"
                               "c,0.10,-0.30,0.50\n"}),
    Case("contrasts-ratios-labelled-log", "data file", "printed RRs labelled scale = log (every CI asymmetric on the "
         "claimed log scale)", RMA, _err("{tmp}/effects.csv, line 2, column 'scale': declared as log RRs (scale = log), but the CI [0.6, 1.07] is not symmetric around 0.8, and it is symmetric on the log of these numbers: they are RRs as printed; write scale = reported (or leave the scale column empty)",
             "{tmp}/effects.csv, line 3, column 'scale': declared as log RRs (scale = log), but the CI [0.2, 1.25] is not symmetric around 0.5, and it is symmetric on the log of these numbers: they are RRs as printed; write scale = reported (or leave the scale column empty)",
             "{tmp}/effects.csv, line 4, column 'scale': declared as log RRs (scale = log), but the CI [0.5, 1.62] is not symmetric around 0.9, and it is symmetric on the log of these numbers: they are RRs as printed; write scale = reported (or leave the scale column empty)"), "write scale = reported",
         files={"effects.csv": "study,measure,estimate,ci_lb,ci_ub,scale\na,RR,0.80,0.60,1.07,log\n"
                               "b,RR,0.50,0.20,1.25,log\nc,RR,0.90,0.50,1.62,log\n"}),
    Case("contrasts-ratio-ci-zero", "data file", "an RR CI bound printed as 0.00 (the measure from --measure)",
         (*RMA, "--measure", "RR"), _err("{tmp}/effects.csv, line 2, column 'ci_lb': RR bound printed as 0: a ratio is > 0, so the printed value was rounded (a CI bound of 0 has an infinite log); give more decimals from the source, or the SE of the log RR (column se with scale = log)"), "give more decimals or the SE",
         files={"effects.csv": "study,estimate,ci_lb,ci_ub\na,0.80,0.00,1.30\nb,0.50,0.20,1.10\n"
                               "c,0.90,0.50,1.50\n"}),
    Case("contrasts-ratios-symmetric", "data file", "log RRs entered as positive 'ratios' (CIs symmetric as printed, "
         "not on the log scale)", (*RMA, "--measure", "RR"), _err("{tmp}/effects.csv, line 2, column 'ci_lb,ci_ub': the CI [0.1, 0.7] is symmetric around 0.4 as printed but not on the log scale, where RR CIs are symmetric: these look like log RRs; add a column scale with the value log",
             "{tmp}/effects.csv, line 3, column 'ci_lb,ci_ub': the CI [0.15, 0.95] is symmetric around 0.55 as printed but not on the log scale, where RR CIs are symmetric: these look like log RRs; add a column scale with the value log",
             "{tmp}/effects.csv, line 4, column 'ci_lb,ci_ub': the CI [0.05, 0.55] is symmetric around 0.3 as printed but not on the log scale, where RR CIs are symmetric: these look like log RRs; add a column scale with the value log"), "add a column scale = log",
         files={"effects.csv": "study,estimate,ci_lb,ci_ub\na,0.40,0.10,0.70\nb,0.55,0.15,0.95\n"
                               "c,0.30,0.05,0.55\n"}),
    Case("binary-no-events", "data file", "no events in any arm of any study (analyse)",
         ("analyse", "{tmp}/data/binary_arms.csv", "--measure", "RR", "--lower-is-better", "--question", "superiority",
          "--no-sample", "--quiet", "--out", "{tmp}/out"), _err("{tmp}/data/binary_arms.csv, column 'events': no events in any arm of the 2 studies (a2001, b2002): RR cannot be estimated (a pooled result would come from the 0.5 continuity correction alone); check that the column holds events (not non-events or percentages); with no events at all there is nothing to pool: report the counts"), "check the events column",
         files=_binary("a2001,complications,post,US,0,40,x\na2001,complications,post,FL,0,41,x\n"
                       "b2002,complications,post,US,0,25,x\nb2002,complications,post,FL,0,24,x\n")),
    Case("binary-studies-no-events", "data file", "no events in any study, one row per study (rma)",
         (*RMA, "--measure", "RR"), _err("{tmp}/effects.csv, column 'ai,ci': no events in any arm of the 3 studies (a, b, c): RR cannot be estimated (a pooled result would come from the 0.5 continuity correction alone); check that the column holds events (not non-events or percentages); with no events at all there is nothing to pool: report the counts"), "check the events columns",
         files={"effects.csv": "study,ai,n1i,ci,n2i\na,0,10,0,12\nb,0,20,0,21\nc,0,15,0,14\n"}),
    Case("study-no-events", "data file", "a study-level RR block whose studies have no events (reanalyze)", SPEC, _err("{tmp}/data/binary_arms.csv, column 'events': no events in any arm of the 2 studies (a2001, b2002): RR cannot be estimated (a pooled result would come from the 0.5 continuity correction alone); check that the column holds events (not non-events or percentages); with no events at all there is nothing to pool: report the counts"),
         "check the events column",
         spec=(('file = "continuous_arms.csv"\noutcome = "pain"', 'file = "binary_arms.csv"\noutcome = "complications"'),
               ('timepoint = "1m"\nmeasure = "SMD"\nlower_is_better = true\nquestion = "noninferiority"\nmargins = [0.2]',
                'timepoint = "post"\nmeasure = "RR"\nlower_is_better = true\nquestion = "superiority"\n'
                'mu_priors = "SMD"\ntau_priors = "SMD"')),
         files=_binary("a2001,complications,post,US,0,40,x\na2001,complications,post,FL,0,41,x\n"
                       "b2002,complications,post,US,0,25,x\nb2002,complications,post,FL,0,24,x\n")),
    Case("study-one-study", "data file", "a study-level block with one study (nothing missing): k = 1", SPEC, _err("{tmp}/data/continuous_arms.csv: outcome 'pain' at '1m' has 1 study with both arms: a meta-analysis needs at least 2 (with one study, report its own estimate and CI)"),
         "add studies, or report the one study", files=_arms(C_OK)),
    Case("analyse-both-orientations", "option", "--lower-is-better and --higher-is-better together",
         (*ANALYSE, "--higher-is-better"), _err("command line, option '--lower-is-better': given together with --higher-is-better: they contradict each other; keep the one that is true of the outcome (pain, adverse events: --lower-is-better; response, function: --higher-is-better)"), "keep the one that is true"),
    Case("analyse-several-problems", "option", "several independent problems in one run: all named at once",
         ("analyse", "{tmp}/data/continuous_arms.csv", "--measure", "SMD", "--outcome", "Pain", "--out", "{tmp}/out"),
         _err("command line, option '--lower-is-better': say which direction is better: --lower-is-better (pain, adverse events) or --higher-is-better (response, function scores)",
             "command line, option '--outcome': 'Pain' is not an outcome of {tmp}/data/continuous_arms.csv (it has: pain); did you mean 'pain'?"), "fix each"),
    Case("analyse-turner-on-smd", "option", "a Turner (log OR) tau prior on SMD data: a warning naming the prior's "
         "measure", (*ANALYSE, "--tau-prior", "turner2015()"), "warning: option '--tau-prior': Turner 2015 LN(-2.56, 1.74^2) on tau^2 [all; all] (Turner et al. 2015) is an empirical tau prior for log odds ratios (logOR), but the data's measure is SMD: its scale does not carry over; use a prior made for SMD or a generic one (e.g. halfnormal(0.5)) (used by study_level[0]) (--strict makes this an error)\n", "use a prior for SMD (rhodes2015) or a generic one",
         code=0),
    Case("analyse-turner-on-smd-strict", "option", "the same with --strict: refused",
         (*ANALYSE, "--tau-prior", "turner2015()", "--strict"), _err("command line, option '--tau-prior': Turner 2015 LN(-2.56, 1.74^2) on tau^2 [all; all] (Turner et al. 2015) is an empirical tau prior for log odds ratios (logOR), but the data's measure is SMD: its scale does not carry over; use a prior made for SMD or a generic one (e.g. halfnormal(0.5)) (used by study_level[0]); --strict refuses it"), "use a prior for SMD"),
    Case("solve-turner-on-smd", "option", "solve --measure SMD with a Turner (log OR) tau prior: a warning",
         (*SOLVE, "--measure", "SMD", "--tau-prior", "turner2015()"), "warning: option '--tau-prior': Turner 2015 LN(-2.56, 1.74^2) on tau^2 [all; all] (Turner et al. 2015) is an empirical tau prior for log odds ratios (logOR), but the data's measure is SMD: its scale does not carry over; use a prior made for SMD or a generic one (e.g. halfnormal(0.5))\n",
         "use a prior made for SMD or a generic one", files={"effects.csv": EFFECTS}, code=0),
    Case("analyse-review-mods", "option", "--mods with a RevMan review (no moderator columns to use)",
         ("analyse", "{tmp}/review.rm5", "--lower-is-better", "--mods", "year", "--no-sample", "--quiet", "--out",
          "{tmp}/out"), _err("command line, option '--mods': a RevMan review holds no moderator columns: export the analysis as a CSV with a column per moderator, or leave --mods out"), "export the analysis as CSV with the moderator",
         files={"review.rm5": (HERE.parent / "data" / "fleiss1993" / "Fleiss1993.rm5").read_bytes()}),
    # ---------------------------------------------------------------- RevMan files (check-revman, analyse)
    *[Case(f"revman-{cid}", "data file", what, ("check-revman", "{tmp}/" + name), _err(message), fix,
           files={name: content})
      for cid, what, name, content, message, fix in _REVMAN_CASES],
    Case("spec-two-blocks-two-problems", "spec", "two study-level blocks with a problem each: one message names both",
         SPEC, _err("{tmp}/spec.toml, key 'study_level[0].timepoint': '6m' is not a time point of 'pain' in {tmp}/data/continuous_arms.csv (it has: 1m)",
                     "{tmp}/spec.toml, key 'study_level[1].outcome': 'function' is not an outcome of {tmp}/data/continuous_arms.csv (it has: pain)"),
         "fix each problem named",
         spec=(('timepoint = "1m"\nmeasure', 'timepoint = "6m"\nmeasure'),
               ("[mu_priors.SMD.reference]", '[[study_level]]\nid = "fn"\nfile = "continuous_arms.csv"\n'
                'outcome = "function"\nmeasure = "SMD"\nlower_is_better = true\nquestion = "noninferiority"\n'
                'margins = [0.2]\n\n[mu_priors.SMD.reference]'))),
    Case("spec-rhodes-on-rr-strict", "spec", "a Rhodes (SMD) tau prior used by an RR block, reanalyze --strict",
         (*SPEC, "--strict"), _err("{tmp}/spec.toml, key 'tau_priors.SMD.rhodes.prior': Rhodes 2015 log-t5(-3.44, 2.59) on tau^2 [all; all] (Rhodes et al. 2015) is an empirical tau prior for standardised mean differences (SMD), but the data's measure is RR: its scale does not carry over; use a prior made for RR or a generic one (e.g. halfnormal(0.5)) (used by study_level[0]); or state why it carries over in key 'tau_priors.SMD.rhodes.transfer'; --strict refuses it"), "define a tau prior set for RR",
         spec=(('file = "continuous_arms.csv"\noutcome = "pain"', 'file = "binary_arms.csv"\noutcome = "complications"'),
               ('timepoint = "1m"\nmeasure = "SMD"\nlower_is_better = true\nquestion = "noninferiority"\nmargins = [0.2]',
                'timepoint = "post"\nmeasure = "RR"\nlower_is_better = true\nquestion = "superiority"\n'
                'mu_priors = "SMD"\ntau_priors = "SMD"'),
               ('prior = "halfnormal(0.5)"\nprimary = true', 'prior = "halfnormal(0.5)"\nprimary = true\n\n'
                '[tau_priors.SMD.rhodes]\nprior = "rhodes2015()"'))),
    _spec_case("spec-old-effect-priors", "an older spec's [effect_priors] table (now mu_priors)",
               "[mu_priors.SMD.neutral]", "[effect_priors.SMD.neutral]", _err("{tmp}/spec.toml, key 'effect_priors': unknown key from an older spec format: now called mu_priors: write [mu_priors.<set>.<name>] (the priors on mu)",
             "{tmp}/spec.toml, key 'mu_priors.SMD': mark the prior used by default with primary = true (needed by study_level[0])"), "rename it mu_priors"),
    _spec_case("spec-old-prior-family-key", "an older spec's prior written as family = ... with parameters",
               'prior = "normal(0, 1)"', 'family = "normal"\nloc = 0\nscale = 1', _err('{tmp}/spec.toml, key \'mu_priors.SMD.neutral.family\': unknown key from an older spec format: write each prior in one line, prior = "family(parameters)", e.g. prior = "normal(0, 1)" (docs/spec.md)',
             "{tmp}/spec.toml, key 'mu_priors.SMD.neutral.loc': unknown key; valid keys: prior, role, primary, rationale, citation, label, transfer",
             "{tmp}/spec.toml, key 'mu_priors.SMD.neutral.scale': unknown key; valid keys: prior, role, primary, rationale, citation, label, transfer",
             '{tmp}/spec.toml, key \'mu_priors.SMD.neutral.prior\': required key is missing (expected a prior such as "halfnormal(0.5)")',
             "{tmp}/spec.toml, key 'mu_priors.SMD': mark the prior used by default with primary = true (needed by study_level[0])"),
               'write prior = "normal(0, 1)"'),
    _spec_case("prior-hyphenated-family", "half-normal(scale=0.5) (a hyphen in the family)", "halfnormal(0.5)",
               "half-normal(scale=0.5)", _err("{tmp}/spec.toml, key 'tau_priors.SMD.hn.prior': cannot read 'half-normal(scale=0.5)': 'half-normal' is not a prior family; did you mean 'halfnormal'? Write halfnormal(scale=0.5)"), "write halfnormal(scale=0.5)"),
    # ---------------------------------------------------------------- published results
    _pub_case("published-ci-swapped", "CI bounds swapped", "-0.30,0.20", "0.20,-0.30",
              _err("{tmp}/data/published.csv, line 2, column 'ci_lb,ci_ub': ci_lb (0.2) is above ci_ub (-0.3): swap them"), "swap them"),
    _pub_case("published-estimate-outside-ci", "estimate outside its CI", "-0.05,-0.30", "0.35,-0.30",
              _err("{tmp}/data/published.csv, line 2, column 'ci_lb,ci_ub': estimate 0.35 is not inside [-0.3, 0.2]: check the three "
                   "numbers against the source (a sign or a typo?)"), "correct the numbers"),
    _pub_case("published-ratio-ci-zero", "RR CI with a lower bound printed as 0.00", "SMD,-0.05,-0.30,0.20",
              "RR,0.90,0.00,1.90",
              _err("{tmp}/data/published.csv, line 2, column 'ci_lb': RR values are ratios as printed and must be > 0, got 0: a bound "
                   "printed as 0 was rounded; give more decimals or the SE"), "give more decimals"),
    _pub_case("published-ratio-ci-negative", "RR CI with a negative bound (a log ratio?)", "SMD,-0.05,-0.30,0.20",
              "RR,0.90,-0.20,1.90",
              _err("{tmp}/data/published.csv, line 2, column 'ci_lb': RR values are ratios as printed and must be > 0, got -0.2; for log "
                   "ratios add a column scale = analysis"), "give ratios, or log ratios with scale = analysis"),
    _pub_case("published-ratio-log-values", "a published RR row holding log values (CI symmetric as printed)",
              "SMD,-0.05,-0.30,0.20", "RR,0.40,0.10,0.70", _err("{tmp}/data/published.csv, line 2, column 'ci_lb,ci_ub': the CI [0.1, 0.7] is symmetric around 0.4 as printed but not on the log scale, where RR CIs are symmetric: these look like log RRs; this file holds RRs as printed: give 1.49 [1.11, 2.01] if these are log values"), "give the RR as printed"),
    _pub_case("published-ci-level-percent", "ci_level = 95", ",0.95,", ",95,",
              _err("{tmp}/data/published.csv, line 2, column 'ci_level': must lie in (0, 1), e.g. 0.95 (not a percentage)"), "write 0.95"),
    _pub_case("published-unknown-measure", "measure SMDD", ",SMD,", ",SMDD,",
              _err("{tmp}/data/published.csv, line 2, column 'measure': unknown effect measure 'SMDD' (did you mean 'SMD'? two-group continuous: SMD, SMD_revman, MD, SMDH, SMD1, ROM); use one of "
                   f"{', '.join(MEASURES)}"), "use a registry code"),
    _pub_case("published-p-above-1", "p = 1.69", ",0.69,", ",1.69,",
              _err("{tmp}/data/published.csv, line 2, column 'p': a p-value lies in [0, 1], got 1.69"), "correct p"),
    _pub_case("published-p-relation", "p_relation = '<='", ",=,", ",<=,",
              _err("{tmp}/data/published.csv, line 2, column 'p_relation': must be '=', '<' or '>', got '<='"), "use =, < or >"),
    _pub_case("published-bool", "lower_is_better = yes", ",true,", ",yes,",
              _err("{tmp}/data/published.csv, line 2, column 'lower_is_better': 'yes' is not true or false"), "write true or false"),
    Case("published-not-found", "option", "check-published of a file that does not exist",
         ("check-published", "{tmp}/nope.csv"), _err("{tmp}/nope.csv: file not found: check the path"),
         "check the path"),
    # ---------------------------------------------------------------- effects CSV (rma, solve)
    Case("csv-no-variance", "data file", "no vi or sei column (a column 'variance' instead)", RMA,
         _err("{tmp}/effects.csv, line 1: yi needs a column vi (variance) or sei (standard error); the header has "
              "study, yi, variance"), "name the column vi (or sei for standard errors)",
         files={"effects.csv": "study,yi,variance\na,0.1,0.2\nb,0.2,0.2\n"}),
    Case("csv-negative-variance", "data file", "a negative variance", RMA,
         _err("{tmp}/effects.csv, line 2, column 'vi': must be > 0, got -0.04"), "give the variance (SE squared)",
         files={"effects.csv": "study,yi,vi\na,0.1,-0.04\nb,0.3,0.05\n"}),
    Case("csv-text-in-number", "data file", "text where a number belongs", RMA,
         _err("{tmp}/effects.csv, line 2, column 'yi': 'abc' is not a number"), "enter a number",
         files={"effects.csv": "study,yi,vi\na,abc,0.04\nb,0.3,0.05\n"}),
    Case("csv-nan", "data file", "'nan' as a value", RMA,
         _err("{tmp}/effects.csv, line 2, column 'yi': 'nan' is not a number"), "enter a number",
         files={"effects.csv": "study,yi,vi\na,nan,0.04\nb,0.3,0.05\nc,0.2,0.05\n"}),
    Case("csv-inf", "data file", "'inf' as a value", RMA,
         _err("{tmp}/effects.csv, line 2, column 'yi': 'inf' is not a number"), "enter a finite number",
         files={"effects.csv": "study,yi,vi\na,inf,0.04\nb,0.3,0.05\nc,0.2,0.05\n"}),
    Case("csv-ragged", "data file", "rows with more or fewer fields than the header", RMA,
         _err("{tmp}/effects.csv, line 2: has 4 fields, the header has 3: give one value per column (quote values "
              "that contain a comma)",
              "{tmp}/effects.csv, line 3: has 2 fields, the header has 3: give one value per column (quote values "
              "that contain a comma)"), "one value per column",
         files={"effects.csv": "study,yi,vi\na,0.1,0.04,9\nb,0.3\nc,0.2,0.05\n"}),
    Case("csv-empty", "data file", "an empty file", RMA, _err("{tmp}/effects.csv: file is empty: write a header line and one row per study (or arm)"), "export the data",
         files={"effects.csv": ""}),
    Case("csv-not-utf8", "data file", "a file saved in Latin-1 (Müller)", RMA,
         _err("{tmp}/effects.csv, line 2: not UTF-8 text (byte 0xfc at offset 13; Latin-1 or Windows-1252?): save "
              "the file as UTF-8 (in Excel: 'CSV UTF-8 (Comma delimited)')"), "save as UTF-8",
         files={"effects.csv": "study,yi,vi\nM\xfcller,0.1,0.04\nb,0.3,0.05\n".encode("latin-1")}),
    Case("csv-semicolons", "data file", "semicolon-separated (Excel in many European locales)", RMA,
         _err("{tmp}/effects.csv, line 1: the fields are separated by semicolons (';'); bayesmeta reads "
              "comma-separated files: in Excel save as 'CSV UTF-8 (Comma delimited)', or replace the semicolons by "
              "commas"), "save as comma-separated", files={"effects.csv": EFFECTS.replace(",", ";")}),
    Case("csv-semicolons-decimal-commas", "data file", "semicolons and decimal commas (0,10)", RMA,
         _err("{tmp}/effects.csv, line 1: the fields are separated by semicolons (';') and numbers with decimal commas "
              "(0,5): use decimal points (0.5); bayesmeta reads comma-separated files: in Excel save as 'CSV UTF-8 "
              "(Comma delimited)', or replace the semicolons by commas"), "save as comma-separated with decimal points",
         files={"effects.csv": EFFECTS.replace(",", ";").replace(".", ",")}),
    Case("csv-tabs", "data file", "tab-separated", RMA,
         _err("{tmp}/effects.csv, line 1: the fields are separated by tabs; bayesmeta reads comma-separated files: "
              "in Excel save as 'CSV UTF-8 (Comma delimited)', or replace the tabs by commas"),
         "save as comma-separated", files={"effects.csv": EFFECTS.replace(",", "\t")}),
    Case("csv-capitalised-header", "data file", "capitalised column names (Study, YI, VI)", RMA,
         _err("{tmp}/effects.csv, line 1, column 'Study': column names are lower case: write 'study'",
              "{tmp}/effects.csv, line 1, column 'YI': column names are lower case: write 'yi'",
              "{tmp}/effects.csv, line 1, column 'VI': column names are lower case: write 'vi'"),
         "write them in lower case", files={"effects.csv": EFFECTS.replace("study,yi,vi", "Study,YI,VI")}),
    Case("csv-header-only", "data file", "a header and no rows", RMA,
         _err("{tmp}/effects.csv: has a header but no data rows: add one row per study (or arm)"), "add the rows",
         files={"effects.csv": "study,yi,vi\n"}),
    Case("csv-huge-value", "data file", "yi = 1e300", RMA,
         _err("{tmp}/effects.csv, line 2, column 'yi': 1e300 is too large to compute with (beyond 1e100): a typo or "
              "a wrong unit?"), "correct the value", files={"effects.csv": EFFECTS.replace("0.10", "1e300")}),
    Case("csv-excel-trailing", "data file", "Excel's empty trailing columns and separator-only rows are skipped", RMA,
         "", "nothing to fix", files={"effects.csv": EFFECTS.replace("\n", ",,\n") + ",,,,\n"}, code=0),
    Case("csv-duplicate-study", "data file", "the same study twice", RMA,
         _err("{tmp}/effects.csv, line 3, column 'study': duplicate key (a); first on line 2: delete one of the rows, "
              "or tell them apart with a column outcome, timepoint, subgroup"), "delete one, or add a timepoint column",
         files={"effects.csv": "study,yi,vi\na,0.1,0.04\na,0.3,0.05\nc,0.2,0.05\n"}),
    Case("csv-decimal-comma-unquoted", "data file", "decimal commas in a comma-separated file (0,1)", RMA,
         _err("{tmp}/effects.csv, line 2: has 4 fields, the header has 3: give one value per column (quote values that "
              "contain a comma; decimal commas? write 0.5, not 0,5)"), "use decimal points",
         files={"effects.csv": "study,yi,vi\na,0,1,0.04\nb,0.3,0.05\n"}),
    Case("csv-zero-variance", "data file", "vi = 0", RMA,
         _err("{tmp}/effects.csv, line 2, column 'vi': must be > 0, got 0"), "give the variance (SE squared)",
         files={"effects.csv": "study,yi,vi\na,0.1,0\nb,0.3,0.05\n"}),
    Case("csv-empty-estimate", "data file", "an empty yi", RMA,
         _err("{tmp}/effects.csv, line 2, column 'yi': each row needs yi (with vi or sei) or estimate (with se or a CI)"),
         "enter the estimate or leave the study out", files={"effects.csv": "study,yi,vi\na,,0.04\nb,0.3,0.05\n"}),
    Case("csv-vi-and-sei", "data file", "both vi and sei given", RMA,
         _err("{tmp}/effects.csv, line 2, column 'vi': a row with yi needs exactly one of vi (variance) and sei (SE); "
              "got vi, sei",
              "{tmp}/effects.csv, line 3, column 'vi': a row with yi needs exactly one of vi (variance) and sei (SE); "
              "got vi, sei"), "keep one of the two columns",
         files={"effects.csv": "study,yi,vi,sei\na,0.1,0.04,0.2\nb,0.3,0.05,0.2\n"}),
    Case("csv-estimate-without-se", "data file", "estimates without SE or CI", RMA,
         _err("{tmp}/effects.csv, line 2, column 'se': give either se or both ci_lb and ci_ub",
              "{tmp}/effects.csv, line 3, column 'se': give either se or both ci_lb and ci_ub"), "add se or the CI",
         files={"effects.csv": "study,estimate\na,0.1\nb,0.3\n"}),
    Case("vocabulary-invalid-toml", "data file", "vocabulary.toml with a TOML error", MISSING,
         _err("{tmp}/data/vocabulary.toml: cannot read vocabulary: Unclosed array (at end of document)"),
         "fix the TOML", files={"data/vocabulary.toml": 'outcomes = ["pain"\n'}),
    Case("csv-bom", "data file", "a UTF-8 byte-order mark (Excel's 'CSV UTF-8') is read correctly", RMA,
         "", "nothing to fix", files={"effects.csv": "\ufeff" + EFFECTS}, code=0),
    Case("csv-blank-lines", "data file", "blank lines between rows are skipped", RMA, "", "nothing to fix",
         files={"effects.csv": EFFECTS.replace("\nb2002", "\n\nb2002")}, code=0),
    Case("csv-quoted-numbers", "data file", 'quoted numbers ("0.10") are read as numbers', RMA, "",
         "nothing to fix", files={"effects.csv": EFFECTS.replace("0.10", '"0.10"')}, code=0),
]


def _materialise(case: Case, tmp: Path) -> list[str]:
    shutil.copytree(BASE, tmp, dirs_exist_ok=True)
    if case.spec:
        p = tmp / "spec.toml"
        text = p.read_text(encoding="utf-8")
        for old, new in case.spec:
            assert old in text, f"{case.id}: {old!r} not in the base spec"
            text = text.replace(old, new, 1)
        p.write_text(text, encoding="utf-8")
    for name, content in case.files.items():
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return [a.replace("{tmp}", str(tmp)) for a in case.argv]


def run_case(case: Case, tmp: Path):
    """Run ``case`` in folder ``tmp``; return (exit code, stdout, stderr, exception) with ``{tmp}``."""
    argv = _materialise(case, tmp)
    r = CliRunner().invoke(main, argv)
    exc = r.exception if r.exception is not None and not isinstance(r.exception, SystemExit) else None
    return r.exit_code, r.stdout.replace(str(tmp), "{tmp}"), r.stderr.replace(str(tmp), "{tmp}"), exc


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path):
    code, out, err, exc = run_case(case, tmp_path)
    assert exc is None, f"a traceback would reach the user: {type(exc).__name__}: {exc}"
    assert "Traceback" not in out + err
    assert code == case.code, err
    assert err == case.message
    if case.argv[0] == "reanalyze":  # nothing half-written: a failed run leaves no report folder
        assert (tmp_path / "report").exists() == (case.code == 0)


def test_partial_report_names_what_is_missing(tmp_path):
    case = next(c for c in CASES if c.id == "study-values-missing-partial")
    code, _out, _err, exc = run_case(case, tmp_path)
    assert code == 0 and exc is None
    text = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "pain_1m" in text and "b2002" in text and "not reported" in text


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    """--debug (before or after the command) lets the exception through; without it, one line."""
    case = next(c for c in CASES if c.id == "csv-text-in-number")
    argv = _materialise(case, tmp_path)
    for line in (["--debug", *argv], [*argv, "--debug"]):
        r = CliRunner().invoke(main, line)
        assert isinstance(r.exception, DataError) and "'abc' is not a number" in str(r.exception)
    # an unexpected failure (a bug, not bad input): one line, exit 1, the traceback only with --debug
    import bayesmeta.frequentist.rma as rma_module

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(rma_module, "rma", boom)
    r = CliRunner().invoke(main, list(_rma_args(tmp_path)))
    assert r.exit_code == 1 and not isinstance(r.exception, RuntimeError)
    assert r.stderr == ("error: RuntimeError: boom\n(an unexpected failure; rerun with --debug for the traceback and "
                        "report it)\n")
    r = CliRunner().invoke(main, ["--debug", *_rma_args(tmp_path)])
    assert isinstance(r.exception, RuntimeError)


def _rma_args(tmp: Path) -> list[str]:
    (tmp / "effects.csv").write_text(EFFECTS, encoding="utf-8")
    return ["rma", str(tmp / "effects.csv")]


def test_ids_unique_and_enough():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 60


def render_doc() -> str:
    """The catalogue as Markdown (docs/bad-inputs.md)."""
    def cell(s: str) -> str:
        return s.strip().replace("|", "\\|").replace("\n", "<br>") or "(nothing: accepted)"

    out = ["# Bad inputs and what bayesmeta says", "",
           "Generated from `tests/test_bad_inputs.py` (`python tests/test_bad_inputs.py --write-docs`); a test",
           "fails when this page and the tested messages differ. Every message is printed on stderr and",
           "`bayesmeta` exits with the code shown (2: bad input; 0: accepted). `{tmp}` is the folder of the case;",
           "`--debug` shows the Python traceback of an error instead of the message.", ""]
    for area in ("spec", "option", "data file"):
        out += [f"## {area.capitalize()}", "", "| case | command | exit | message | fix |", "|---|---|---|---|---|"]
        for c in (c for c in CASES if c.area == area):
            cmd = "bayesmeta " + " ".join(c.argv)
            out.append(f"| {cell(c.what)} (`{c.id}`) | `{cell(cmd)}` | {c.code} | {cell(c.message)} | {cell(c.fix)} |")
        out.append("")
    return "\n".join(out)


def test_catalogue_doc_is_current():
    assert DOC.read_text(encoding="utf-8") == render_doc()


if __name__ == "__main__":  # pragma: no cover
    import tempfile

    if sys.argv[1:2] == ["--write-docs"]:
        DOC.write_text(render_doc(), encoding="utf-8")
    elif sys.argv[1:2] == ["--show"]:
        for c in CASES:
            if c.id in sys.argv[2:] or sys.argv[2:] == ["all"]:
                with tempfile.TemporaryDirectory() as d:
                    code, out, err, exc = run_case(c, Path(d))
                print(f"=== {c.id}: exit {code}{' EXC ' + repr(exc) if exc else ''}\n{err}")
