"""A module imported when first used, for modules whose import costs more than most of their callers need.

pandas and geopandas take about half a second to import; ``incident-map ingest FILE`` (one new article) never
needs them, while other functions of the same modules (loading the whole store as a frame) always do. Such a
module is bound as ``pd = lazy("pandas")`` and imported on the first ``pd.something``.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """Stands for the module ``name``; the first attribute read imports it (once: Python caches modules)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> object:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str) -> ModuleType:
    """The module ``name``, imported when first used."""
    return LazyModule(name)  # type: ignore[return-value]  # used as the module it stands for
