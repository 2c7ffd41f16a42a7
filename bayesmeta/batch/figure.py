"""The batch command's summary figure, drawn in this process or in a worker process.

Importing matplotlib and the report style takes about 1 s, as long as reading and reanalysing
10,000 published results. The command therefore starts :class:`FigureWorker` first: a second
Python process imports them while this one works, then receives the few columns the figure shows
(:func:`figure_data`) through a pipe and draws the same PNG byte for byte (the same code and
style). Should the worker fail, the figure is drawn here instead, so the output never depends on
it. ``python -m bayesmeta.batch.figure`` is the worker.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np


def figure_data(table) -> dict[str, np.ndarray]:
    """The columns :func:`draw` needs, as float and bool arrays, from the batch table."""
    p_ni = table["p_noninferior"].to_numpy(float)
    return {"p_benefit": table["p_benefit"].to_numpy(float),
            "p_noninferior": p_ni,
            "flag": (table["consistent"].eq(False) | table["uoa_flag"].astype(bool)).to_numpy(bool),
            "log10_bf10": table["log10_bf10_effect"].to_numpy(float)}


def draw(data: dict[str, np.ndarray], path, threshold: float = 0.95) -> None:
    """Two panels: P(benefit) against P(non-inferior) (flags marked) and the Bayes factors."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayesmeta._io import atomic_path
    from bayesmeta.report import style  # noqa: F401  (the report's fonts and sizes, set on import)

    fig, ax = plt.subplots(1, 2, figsize=(10, 4.2))
    pn_all = data["p_noninferior"]
    has_ni = np.isfinite(pn_all)
    flag = data["flag"]
    a = ax[0]
    pb = data["p_benefit"]
    pn = np.where(has_ni, pn_all, np.nan)
    a.scatter(pb[~flag], np.where(has_ni, pn, pb)[~flag], s=8, alpha=0.5, color="#4C72B0", label="no flag")
    a.scatter(pb[flag], np.where(has_ni, pn, pb)[flag], s=14, alpha=0.8, color="#C44E52", marker="x",
              label="consistency or unit-of-analysis flag")
    a.axhline(threshold, color="0.4", ls="--", lw=0.8)
    a.axvline(threshold, color="0.4", ls="--", lw=0.8)
    a.set_xlabel("P(benefit)")
    a.set_ylabel("P(non-inferior) (P(benefit) where no margin)")
    n_ni = int(np.nansum(pn >= threshold))
    a.set_title(f"{pb.size} analyses; {n_ni} non-inferior at P >= {threshold:g}", fontsize=9)
    a.legend(fontsize=7, loc="lower right")
    b = ax[1]
    lb = data["log10_bf10"]
    lb = lb[np.isfinite(lb)]
    if lb.size:
        b.hist(np.clip(lb, -3, 6), bins=40, color="#8172B2")
        for x in (-1, 0, 1):
            b.axvline(x, color="0.4", ls=":" if x else "--", lw=0.8)
    b.set_xlabel("log10 BF10 (effect vs none; clipped to [-3, 6])")
    b.set_ylabel("analyses")
    b.set_title(f"Bayes factors ({lb.size} with a proper mu prior)", fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def summary_figure(table, path, threshold: float = 0.95) -> None:
    """Draw the batch table's summary figure to ``path`` in this process."""
    draw(figure_data(table), path, threshold)


class FigureWorker:
    """A process that imports matplotlib and the report style at once and draws one summary figure
    when :meth:`draw` sends it the data; a context manager (leaving it ends the process).

    Parameters
    ----------
    timeout : float
        Seconds to wait for the worker's figure before drawing it here instead.
    """

    def __init__(self, timeout: float = 120.0):
        self.timeout = timeout
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
               "MPLBACKEND": "Agg"}
        try:
            self._proc: subprocess.Popen | None = subprocess.Popen(
                [sys.executable, "-m", "bayesmeta.batch.figure"], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        except OSError:  # no process to spare: draw here
            self._proc = None

    def draw(self, table, path, threshold: float = 0.95) -> None:
        """Draw the summary figure of ``table`` to ``path``: in the worker, or here if it fails."""
        data = figure_data(table)
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.communicate(pickle.dumps((data, str(path), float(threshold))), timeout=self.timeout)
                if proc.returncode == 0:
                    return
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        draw(data, path, threshold)

    def close(self) -> None:
        """End the worker if it was not used (its input closes: it exits without drawing)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.communicate(b"", timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()

    def __enter__(self) -> FigureWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _worker() -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # imported while the parent works

    from bayesmeta.report import style  # noqa: F401

    payload = sys.stdin.buffer.read()
    if not payload:  # the parent did not need a figure (e.g. the input was refused)
        return 0
    data, path, threshold = pickle.loads(payload)  # from the parent process, through its own pipe
    draw(data, path, threshold)
    return 0


if __name__ == "__main__":
    sys.exit(_worker())
