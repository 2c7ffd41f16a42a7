"""Notebook display of frequentist results: the printed summary as ``__repr__`` and an HTML block
(the summary lines and the result's tidy table) as ``_repr_html_`` -- never a dump of arrays."""

from __future__ import annotations

import html

import pandas as pd


def html_block(text: str, table: pd.DataFrame | None = None) -> str:
    """The summary text in a <pre> block, followed by the table (4 significant decimals)."""
    out = f"<pre style='margin:0'>{html.escape(text)}</pre>"
    if table is not None:
        out += table.to_html(float_format=lambda v: f"{v:.4f}", index=False, border=0)
    return out


class Displayed:
    """Mixin: ``__repr__`` is ``__str__``; ``_repr_html_`` shows ``__str__`` and ``summary()`` if present.

    Dataclasses using it must be declared with ``repr=False`` (else the generated repr wins).
    """

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        table = None
        summ = getattr(self, "summary", None)
        if callable(summ):
            try:
                table = summ()
            except Exception:
                table = None
        return html_block(str(self), table if isinstance(table, pd.DataFrame) else None)
