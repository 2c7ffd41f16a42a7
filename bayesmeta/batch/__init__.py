"""Batch reanalysis of many published meta-analyses (``bayesmeta batch TABLE.csv``).

:mod:`.table` reads and validates the table, :mod:`.engine` computes the posteriors (vectorised
for published results; one adapter to the exact solver for study rows), :mod:`.run` writes the
tidy table and provenance, :mod:`.figure` draws the summary figure (in a worker process started by
the command), :mod:`.cli` is the click command.
"""
