"""Plots for notebooks and scripts: ``bm.plot.forest``, ``funnel``, ``posterior``, ``noninferiority``.

Each takes a result (or an EffectTable) and returns the matplotlib ``Axes`` it drew on, so a user
can keep styling it (``ax.set_xlim(...)``, ``ax.figure.savefig(...)``). They draw with the same
functions as the report (:mod:`bayesmeta.report.figures`); this package only turns results into
the arguments those functions take.

Examples
--------
>>> import bayesmeta as bm
>>> es = bm.EffectTable.from_yi_sei([0.1, 0.3, -0.2], [0.1, 0.2, 0.15], measure="SMD")
>>> ax = bm.plot.forest(es)
>>> ax.get_xlabel()
'SMD'
"""

from bayesmeta.plot.plots import forest, funnel, noninferiority, posterior

__all__ = ["forest", "funnel", "noninferiority", "posterior"]
