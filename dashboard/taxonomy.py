"""Incident types, actors and outlets, loaded from ``dashboard/data/taxonomy.yaml``.

The registry is a plain dict from type key to :class:`IncidentType`; adding a type is adding an entry to the YAML
(and its triggers to the language packs). Each type declares its slots (casualties, quantity, what ``count``
counts) and which other types it absorbs, so the extractor needs no per-type code. A :class:`Lexicon` joins the
taxonomy with one language pack: the actor names of that language and its background phrases.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dashboard.gazetteer import DATA_DIR
from dashboard.langpack import SAFE_LOADER, LanguagePack, load_pack


@dataclass(frozen=True)
class IncidentType:
    """An incident type: key, label, map colour and icon, and the slots it fills."""

    key: str
    label: str
    colour: str
    icon: str
    casualties: bool = False
    quantity: bool = False
    count: str | None = None
    absorbs: tuple[str, ...] = ()
    rank: int = 9
    family: str | None = None
    labels: tuple[tuple[str, str], ...] = ()

    def label_in(self, lang: str) -> str:
        """The type's name in interface language ``lang`` (English when the taxonomy gives none)."""
        return dict(self.labels).get(lang, self.label)


@dataclass(frozen=True)
class Taxonomy:
    """Types, language-independent actor names and outlets."""

    types: dict[str, IncidentType]
    actors: dict[str, tuple[str, ...]]
    outlets: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Lexicon:
    """What the extractor matches against in one language: the taxonomy joined with a language pack."""

    types: dict[str, IncidentType]
    actors: dict[str, tuple[re.Pattern, ...]]
    outlets: tuple[str, ...]
    background: tuple[re.Pattern, ...]
    pack: LanguagePack = field(repr=False)

    @functools.cached_property
    def _actor_re(self) -> re.Pattern:
        # One pass over a sentence for all actors: a named group per actor.
        parts = [f"(?P<a{i}>" + "|".join(p.pattern for p in patterns) + ")"
                 for i, patterns in enumerate(self.actors.values()) if patterns]
        return re.compile("|".join(parts) or "(?!)")

    @functools.cached_property
    def _background_re(self) -> re.Pattern:
        return re.compile("|".join(f"(?:{p.pattern})" for p in self.background) or "(?!)", re.IGNORECASE)

    def find_actors(self, text: str) -> list[str]:
        """Canonical names of the actors named in ``text``, in taxonomy order."""
        found = {int(m.lastgroup[1:]) for m in self._actor_re.finditer(text)}
        names = list(self.actors)
        return [names[i] for i in sorted(found)]

    def is_background(self, text: str) -> bool:
        """Whether ``text`` states an aggregate (background statistic)."""
        return bool(self.background) and self._background_re.search(text) is not None


@functools.lru_cache(maxsize=4)
def load_taxonomy(path: str | None = None) -> Taxonomy:
    """Read the taxonomy YAML (the package's by default)."""
    spec = yaml.load(Path(path or DATA_DIR / "taxonomy.yaml").read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    types = {}
    for key, t in spec["types"].items():
        slots = t.get("slots") or {}
        types[key] = IncidentType(key=key, label=t["label"], colour=t["colour"], icon=t["icon"],
                                  casualties=bool(slots.get("casualties")), quantity=bool(slots.get("quantity")),
                                  count=slots.get("count"), absorbs=tuple(t.get("absorbs") or ()),
                                  rank=int(t.get("rank", 9)), family=t.get("family"),
                                  labels=tuple(sorted((t.get("labels") or {}).items())))
    actors = {name: tuple(patterns or ()) for name, patterns in spec.get("actors", {}).items()}
    return Taxonomy(types, actors, tuple(spec.get("outlets", [])))


@functools.lru_cache(maxsize=16)
def load_lexicon(language: str = "en", path: str | None = None) -> Lexicon:
    """The taxonomy joined with the pack of ``language``, every pattern compiled once."""
    tax = load_taxonomy(path)
    pack = load_pack(language)
    own = pack.section("actors", default={}) or {}
    names = list(tax.actors) + [n for n in own if n not in tax.actors]
    actors = {n: tuple(re.compile(rx) for rx in (*tax.actors.get(n, ()), *(own.get(n) or ()))) for n in names}
    return Lexicon(tax.types, actors, tax.outlets, pack.compile_all(pack.section("background")), pack)


def incident_types() -> dict[str, IncidentType]:
    """The registry of incident types, keyed by type."""
    return load_taxonomy().types
