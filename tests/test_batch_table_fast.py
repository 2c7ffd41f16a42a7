"""read_batch builds a valid published-results table column by column (_published_fast); any cell
that might be a problem sends the whole table through the row-by-row reader, which names file,
line and column. Checked: the fast frame equals the row-by-row frame exactly (values and dtypes)
on a varied synthetic table, and problem tables give the row reader's messages."""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesmeta.batch import table as T
from bayesmeta.errors import DataError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.batch_input import table

pytestmark = pytest.mark.unit


def _both(path, monkeypatch):
    fast = T.read_batch(path)
    with monkeypatch.context() as m:
        m.setattr(T, "_published_fast", lambda header, body: None)
        slow = T.read_batch(path)
    return fast, slow


def test_fast_frame_equals_row_by_row(tmp_path, monkeypatch):
    df = table(400, seed=4)
    df.loc[::9, "ci_lb"] = ""            # SE given instead of a CI
    df.loc[::9, "ci_ub"] = ""
    df["se"] = np.where(df["ci_lb"] == "", "0.21", "")
    df["ci_level"] = np.where(np.arange(400) % 5 == 0, "0.9", "")
    df["participants_randomised"] = np.where(np.arange(400) % 7 == 0, "40", "")
    df["lower_is_better"] = np.where(np.arange(400) % 11 == 0, "yes", df["lower_is_better"].astype(str))
    df.loc[::13, "margin"] = np.nan
    df.loc[::3, "measure"] = df.loc[::3, "measure"].str.lower()
    path = tmp_path / "p.csv"
    df.to_csv(path, index=False)
    fast, slow = _both(path, monkeypatch)
    pd.testing.assert_frame_equal(fast.frame, slow.frame, check_exact=True)
    assert fast.layout == slow.layout == "published"


@pytest.mark.parametrize("row, column", [
    ({"estimate": "0,5"}, "estimate"), ({"ci_lb": "0.9"}, "ci_lb"), ({"p": "1.5"}, "p"),
    ({"k": "2.5"}, "k"), ({"measure": "XYZ"}, "measure"), ({"lower_is_better": "maybe"}, "lower_is_better"),
    ({"margin": "1"}, "margin"), ({"estimate": "nan"}, "estimate"), ({"analysis": "ma0"}, "analysis"),
])
def test_problem_tables_get_the_row_readers_message(tmp_path, monkeypatch, row, column):
    df = table(30, seed=5).astype(str).replace("nan", "")
    df.loc[df["measure"] == "MD", "measure"] = "RR"  # ratios: margin 1 and positivity apply
    df["estimate"], df["ci_lb"], df["ci_ub"], df["margin"] = "0.80", "0.60", "1.10", "1.25"
    for k, v in row.items():
        df.loc[7, k] = v
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    msgs = []
    for fast in (True, False):
        with monkeypatch.context() as m:
            if not fast:
                m.setattr(T, "_published_fast", lambda header, body: None)
            with pytest.raises(DataError) as e:
                T.read_batch(path)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
    assert f"'{column}'" in msgs[0] or column in msgs[0]
