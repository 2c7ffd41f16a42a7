"""RevMan 5 and Cochrane review files in: :func:`read_revman` returns a frozen :class:`Review`."""

from bayesmeta.data.revman.model import Analysis, Pooled, Review, Settings, Source, StudyRow, Subgroup
from bayesmeta.data.revman.read import read_revman

__all__ = ["Analysis", "Pooled", "Review", "Settings", "Source", "StudyRow", "Subgroup", "read_revman"]
