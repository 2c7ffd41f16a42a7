"""RevMan's words for data types, methods and effect measures, mapped to bayesmeta's codes (one place).

RevMan 5 (``.rm5`` attributes and the analysis CSV) writes codes (``DIC``, ``MH``, ``PETO_OR``,
``SMD``), the Cochrane data package (RevMan Web) words (``Dichotomous``, ``Odds Ratio``, ``Fixed
effect``); generic inverse variance outcomes of RevMan 5 carry the measure as free text. The
mapping follows the R package meta (``em2sm``, ``sm2meth`` in ``R/meta-aux.R``; ``read.cdir``).
"""

from __future__ import annotations

import math
import re

__all__ = ["data_type", "measure_and_method", "number"]

_DATA_TYPES = {
    "dic": "dichotomous",
    "dich": "dichotomous",
    "dichotomous": "dichotomous",
    "con": "continuous",
    "cont": "continuous",
    "continuous": "continuous",
    "ipd": "oe",
    "o-e": "oe",
    "oe": "oe",
    "o-e and variance": "oe",
    "iv": "giv",
    "giv": "giv",
    "inv": "giv",
    "generic inverse variance": "giv",
    "contrast level": "giv",
}

_MEASURES = {
    "or": "OR",
    "odds ratio": "OR",
    "odds ratio (non-event)": "OR",
    "peto_or": "OR",
    "peto odds ratio": "OR",
    "rr": "RR",
    "risk ratio": "RR",
    "rd": "RD",
    "risk difference": "RD",
    "md": "MD",
    "mean difference": "MD",
    "smd": "SMD_revman",
    "std. mean difference": "SMD_revman",
    "standardized mean difference": "SMD_revman",
    "standardised mean difference": "SMD_revman",
    "hr": "HR",
    "hazard ratio": "HR",
    "rate ratio": "IRR",
    "ratio of means": "ROM",
}

_METHODS = {
    "mh": "MH",
    "mantel-haenszel": "MH",
    "iv": "IV",
    "inverse variance": "IV",
    "inverse": "IV",
    "peto": "Peto",
    "exp_o_e_var": "Peto",
}


def data_type(raw: str) -> str | None:
    """``"dichotomous"``, ``"continuous"``, ``"oe"`` or ``"giv"`` for RevMan's word, None if unknown."""
    return _DATA_TYPES.get(str(raw).strip().casefold())


def measure_and_method(raw_measure: str, raw_method: str, dtype: str) -> tuple[str, str] | str:
    """bayesmeta's (measure code, method) for RevMan's effect measure and method, or a message why not.

    Peto's odds ratio (``PETO_OR``) is an OR pooled by Peto's method; O-E and variance data are
    pooled by Peto's method whatever the method field says; a generic inverse variance outcome
    whose measure is free text RevMan does not name is ``GEN`` (pooled as entered).
    """
    m = str(raw_measure).strip()
    key = m.casefold()
    meth_key = str(raw_method).strip().casefold()
    code = _MEASURES.get(key)
    if code is None:
        if dtype in ("giv", "oe"):
            code = "GEN"
        else:
            return (
                f"unknown effect measure {m!r} for {dtype} data (RevMan's are OR, RR, RD, PETO_OR, MD, "
                "SMD or their names, e.g. 'Odds Ratio')"
            )
    if dtype == "oe" or "peto" in key:
        method = "Peto"
    elif meth_key == "":
        method = "IV"
    else:
        found = _METHODS.get(meth_key)
        if found is None:
            return f"unknown statistical method {raw_method!r} (RevMan's are MH, IV and PETO)"
        method = found
    if dtype == "continuous" and code not in ("MD", "SMD_revman", "ROM"):
        return f"effect measure {m!r} does not fit continuous data (MD or SMD)"
    if dtype == "dichotomous" and code not in ("OR", "RR", "RD"):
        return f"effect measure {m!r} does not fit dichotomous data (OR, RR, RD or Peto OR)"
    if method == "Peto" and dtype == "dichotomous" and code != "OR":
        return f"Peto's method gives an odds ratio, but the effect measure is {m!r}"
    if method == "MH" and dtype != "dichotomous":
        return f"the Mantel-Haenszel method needs dichotomous data, not {dtype}"
    return code, method


_NUM = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def number(text: str | None) -> tuple[float, int | None] | None:
    """``(value, decimals)`` of a number as RevMan wrote it; NaN for empty (and RevMan's "Not
    estimable"); None if not a number.

    ``decimals`` counts the digits after the decimal point (less the exponent), the precision the
    value was stored with; None for empty values and infinities. Thousands separators (``1,234``)
    are accepted.
    """
    if text is None:
        return math.nan, None
    s = str(text).strip().replace(",", "")
    if s == "" or s.casefold() in ("nan", "#n/a", "na", "not estimable", "not applicable"):
        return math.nan, None
    if s.casefold() in ("infinity", "+infinity", "inf"):
        return math.inf, None
    if s.casefold() in ("-infinity", "-inf"):
        return -math.inf, None
    if not _NUM.match(s):
        return None
    mant, _, exp = s.lower().partition("e")
    dec = len(mant.split(".")[1]) if "." in mant else 0
    if exp:
        dec -= int(exp)
    return float(s), max(dec, 0)
