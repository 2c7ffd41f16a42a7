"""Column headers in words (issue 17): the one mapping from result identifiers to reader's words.

The browser test checks the headers the committed reports show; this one checks the mapping
itself, and every column of every committed table, without a browser.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from bayesmeta.report.columns import column_words

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
IDENTIFIER = re.compile(r"[A-Za-z0-9]_[A-Za-z0-9]|@")  # the rule of tests/test_browser.py


@pytest.mark.parametrize(("name", "words"), [
    ("hdi95_lb", "95% HDI lower"),
    ("mu_eti95_ub", "mu, 95% interval upper"),
    ("mcse_hdi95_lb", "MCSE of the 95% HDI lower"),
    ("p_noninferior@0.5", "P(no worse than 0.5)"),
    ("p_noninferior_new@0.2", "P(new study no worse than 0.2)"),
    ("p_rope@0.1", "P(within ±0.1)"),
    ("prior_p_tau_below_005", "prior P(tau < 0.05)"),
    ("p_ni", "P(no worse than the margin)"),
    ("Trials (participants)", "Trials (participants)"),   # words pass through unchanged
    ("some_new_column", "some new column"),              # unknown identifiers lose their underscores
    ("x@y", "x at y"),
])
def test_column_words(name, words):
    assert column_words(name) == words


def test_every_committed_table_column_reads_as_words():
    tables = sorted(ROOT.glob("reports/*/tables/*.csv"))
    assert tables, "no committed report tables"
    bad = sorted({(t.parent.parent.name, c) for t in tables for c in pd.read_csv(t, nrows=0).columns
                  if IDENTIFIER.search(column_words(c))})
    assert not bad, bad[:10]
