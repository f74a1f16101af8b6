"""Incident types, actors and outlets: the extractor's lexicon, loaded from ``dashboard/data/taxonomy.yaml``.

The registry is a plain dict from type key to :class:`IncidentType`; adding a type is adding an entry to the YAML.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from dashboard.gazetteer import DATA_DIR


@dataclass(frozen=True)
class IncidentType:
    """An incident type: key, label, map colour and icon, and the trigger patterns that find it."""

    key: str
    label: str
    colour: str
    icon: str
    triggers: tuple[re.Pattern, ...]
    needs_any: re.Pattern | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Lexicon:
    """Everything the extractor matches against."""

    types: dict[str, IncidentType]
    actors: dict[str, tuple[re.Pattern, ...]]
    outlets: tuple[str, ...]
    background: tuple[re.Pattern, ...]

    @functools.cached_property
    def _actor_re(self) -> re.Pattern:
        # One pass over a sentence for all actors: a named group per actor.
        parts = [f"(?P<a{i}>" + "|".join(p.pattern for p in patterns) + ")"
                 for i, patterns in enumerate(self.actors.values())]
        return re.compile("|".join(parts))

    @functools.cached_property
    def _background_re(self) -> re.Pattern:
        return re.compile("|".join(f"(?:{p.pattern})" for p in self.background), re.IGNORECASE)

    def find_actors(self, text: str) -> list[str]:
        """Canonical names of the actors named in ``text``, in lexicon order."""
        found = {int(m.lastgroup[1:]) for m in self._actor_re.finditer(text)}
        names = list(self.actors)
        return [names[i] for i in sorted(found)]

    def is_background(self, text: str) -> bool:
        """Whether ``text`` states an aggregate (background statistic)."""
        return bool(self.background) and self._background_re.search(text) is not None


@functools.lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> Lexicon:
    """Load the taxonomy YAML (the package's by default), compiling every pattern once."""
    spec = yaml.safe_load(Path(path or DATA_DIR / "taxonomy.yaml").read_text(encoding="utf-8"))
    types = {}
    for key, t in spec["types"].items():
        types[key] = IncidentType(
            key=key, label=t["label"], colour=t["colour"], icon=t["icon"],
            triggers=tuple(re.compile(rx, re.IGNORECASE) for rx in t["triggers"]),
            needs_any=re.compile(t["needs_any"], re.IGNORECASE) if t.get("needs_any") else None,
            keywords=tuple(w.lower() for w in t.get("keywords", [])))
    actors = {name: tuple(re.compile(rx) for rx in patterns) for name, patterns in spec["actors"].items()}
    return Lexicon(types, actors, tuple(spec.get("outlets", [])),
                   tuple(re.compile(rx, re.IGNORECASE) for rx in spec.get("background", [])))


def incident_types() -> dict[str, IncidentType]:
    """The registry of incident types, keyed by type."""
    return load_lexicon().types
