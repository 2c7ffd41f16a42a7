"""The reports' figure style: fonts with a fallback chain, sizes and resolution, set in matplotlib's
rcParams on import.

Kept apart from :mod:`bayesmeta.report.figures` so that a process drawing one figure (the batch
command's summary figure, drawn in a worker process while the analyses run) sets the same style
without importing the report's figure code.
"""
from __future__ import annotations

import logging

import matplotlib
from matplotlib import font_manager

FONT_SIZE = 8.5
DPI = 110

# ---- fonts ----------------------------------------------------------------------------------

# family -> file names of Debian packages that provide it (fonts-noto-cjk, fonts-droid-fallback,
# fonts-symbola). Noto Color Emoji is a bitmap font matplotlib cannot scale; the browser uses it.
_FALLBACKS: dict[str, tuple[str, ...]] = {
    "Noto Sans CJK JP": ("NotoSansCJK-Regular.ttc",),
    "Droid Sans Fallback": ("DroidSansFallbackFull.ttf", "DroidSansFallback.ttf"),
    "Symbola": ("Symbola_hint.ttf", "Symbola.ttf"),
}


def _available_families() -> list[str]:
    have = {f.name for f in font_manager.fontManager.ttflist}
    missing = [fam for fam in _FALLBACKS if fam not in have]
    if missing:  # installed after matplotlib's font cache was built: register the files directly
        wanted = {name: fam for fam in missing for name in _FALLBACKS[fam]}
        for path in font_manager.findSystemFonts():
            fam = wanted.get(path.rsplit("/", 1)[-1])
            if fam is not None:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, NotImplementedError) as e:  # unreadable: not used
                    logging.getLogger(__name__).info("font %s not usable: %s", path, e)
        have = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans"] + [fam for fam in _FALLBACKS if fam in have]


class _NoBoldFallbackNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:  # fallback fonts have no bold face: fine
        return "Failed to find font weight" not in record.getMessage()


logging.getLogger("matplotlib.font_manager").addFilter(_NoBoldFallbackNoise())
FONT_FAMILIES = _available_families()
matplotlib.rcParams["font.family"] = FONT_FAMILIES
matplotlib.rcParams["font.size"] = FONT_SIZE
matplotlib.rcParams["axes.titlesize"] = FONT_SIZE + 1
matplotlib.rcParams["svg.fonttype"] = "none"
