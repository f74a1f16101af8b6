"""Offline gazetteer for Peru: admin areas, towns, curated zones, rivers and neighbouring countries.

The gazetteer is a geopy-style geocoder: :meth:`Gazetteer.geocode` returns :class:`geopy.location.Location`
objects whose ``raw`` holds the stable id, feature type, precision level and footprint, so it can stand beside
geopy's own geocoders. :meth:`Gazetteer.find_mentions` scans running text for place names, which is what the
extractor uses.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import geopandas as gpd
import shapely
import yaml
from geopy.location import Location
from shapely.geometry import LineString, Point
from unidecode import unidecode

from dashboard.errors import GazetteerError

# Package data, read through importlib.resources so that a wheel install finds it as an editable one does.
DATA_DIR = Path(str(resources.files("dashboard").joinpath("data")))

#: Precision levels, in the spirit of ACLED's geo_precision and UCDP's where_prec: lower is more exact.
PRECISION = {"point": 1, "district": 2, "province": 3, "region": 4, "country": 5}
PRECISION_NAMES = {v: k for k, v in PRECISION.items()}

#: Feature type -> precision level.
KIND_PRECISION = {
    "town": PRECISION["point"],
    "district": PRECISION["district"],
    "province": PRECISION["province"],
    "department": PRECISION["region"],
    "zone": PRECISION["region"],
    "river": PRECISION["region"],
    "country": PRECISION["country"],
}

# Which feature a bare name means when several share it ("Junín" alone is the region): lower ranks first.
_DEFAULT_RANK = {"department": 0, "zone": 1, "town": 2, "province": 3, "district": 4, "country": 5, "river": 9}

# Words next to a name that say which feature is meant ("Huanta province", "the Ucayali River").
_HINT_AFTER = {
    "province": "province", "provincia": "province",
    "district": "district", "distrito": "district", "municipality": "district",
    "region": "department", "department": "department", "departamento": "department",
    "river": "river", "rivers": "river",
    "city": "town", "town": "town", "port": "town", "village": "town",
    "valley": "zone", "valleys": "zone",
}
_HINT_BEFORE = {
    "province": "province", "district": "district", "region": "department", "department": "department",
    "river": "river", "rio": "river", "city": "town", "town": "town", "port": "town", "village": "town",
}
_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)


def normalize(name: str) -> str:
    """Fold a place name for matching: no accents, lower case, punctuation to spaces."""
    text = unidecode(name).lower().replace("'s", "")
    return " ".join(re.findall(r"[a-z0-9]+", text))


class _Spans:
    """``spans[i]`` is ``(start, end, word)`` of the i-th token (built from two fast regex passes)."""

    def __init__(self, text: str, words: list[str]) -> None:
        self.words = words
        self.starts = [m.start() for m in _TOKEN_RE.finditer(text)]

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, i: int) -> tuple[int, int, str]:
        word = self.words[i]
        return self.starts[i], self.starts[i] + len(word), word


@functools.lru_cache(maxsize=65536)
def _normalize_token(token: str) -> str:
    return normalize(token)


@dataclass(frozen=True)
class Place:
    """One gazetteer feature. Immutable; ``footprint`` is excluded from equality and hashing."""

    id: str
    name: str
    kind: str
    lat: float
    lon: float
    department: str | None = None
    province: str | None = None
    district: str | None = None
    footprint: object = field(default=None, compare=False, hash=False, repr=False)

    @property
    def precision(self) -> int:
        """Precision level (see :data:`PRECISION`)."""
        return KIND_PRECISION[self.kind]

    @property
    def is_peru(self) -> bool:
        """Whether the feature lies in Peru (neighbouring countries do not)."""
        return not (self.kind == "country" and self.id != "country:PER")

    def to_location(self) -> Location:
        """The place as a geopy ``Location``; ``raw`` carries id, kind, precision and footprint."""
        raw = {
            "id": self.id, "name": self.name, "kind": self.kind, "precision": self.precision,
            "geo_precision": PRECISION_NAMES[self.precision], "department": self.department,
            "province": self.province, "district": self.district, "footprint": self.footprint,
        }
        return Location(self.address, (self.lat, self.lon), raw)

    @property
    def address(self) -> str:
        """A readable name with its parents, e.g. ``"Huanta (province), Ayacucho, Peru"``."""
        parts = [f"{self.name} ({self.kind})"]
        parts += [p for p in (self.province, self.department) if p and p != self.name]
        if self.kind != "country" and self.is_peru:
            parts.append("Peru")
        return ", ".join(parts)


@dataclass(frozen=True)
class Mention:
    """A place name found in text: character span, the words as written, the hint and the candidates."""

    start: int
    end: int
    text: str
    candidates: tuple[Place, ...]
    hint: str | None = None


class Gazetteer:
    """Offline geocoder over the boundary files and the curated zone, river, town and country data.

    Parameters
    ----------
    data_dir
        Folder holding ``boundaries/`` and ``gazetteer/``; the package's ``data/`` by default.
    """

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir else DATA_DIR
        self.places: dict[str, Place] = {}
        self._index: dict[str, list[Place]] = {}
        self._first_word: dict[str, int] = {}
        self._ambiguous: set[str] = set()
        self.zone_members: dict[str, set[str]] = {}
        self.zone_sources: dict[str, str] = {}
        self._load()

    # ------------------------------------------------------------------ loading
    def _read(self, relative: str) -> gpd.GeoDataFrame:
        path = self.data_dir / relative
        if not path.exists():
            raise GazetteerError(f"gazetteer data file missing: {path}")
        frame = gpd.read_file(path)
        if frame.crs is None or frame.crs.to_epsg() != 4326:
            frame = frame.set_crs(4326, allow_override=True)
        # Some INEI polygons are invalid (self-intersections); repair before any overlay or join.
        frame["geometry"] = shapely.make_valid(frame.geometry.values)
        return frame

    def _load(self) -> None:
        names = yaml.safe_load((self.data_dir / "gazetteer" / "names.yaml").read_text(encoding="utf-8"))
        self._ambiguous = {normalize(w) for w in names.get("ambiguous_words", [])}
        dep_names: dict[str, str] = names["departments"]
        deps = self._read("boundaries/peru_departamental_simple.geojson")
        # Two provinces come in two pieces each (two features with one code): one place per code.
        provs = self._read("boundaries/peru_provincial_simple.geojson").dissolve(by="FIRST_IDPR", as_index=False)
        dists = self._read("boundaries/peru_distrital_simple.geojson")
        self._dep_by_code: dict[str, str] = {}
        for row in deps.itertuples():
            code, upper = str(row.FIRST_IDDP), str(row.NOMBDEP)
            name = dep_names.get(upper, upper.title())
            self._dep_by_code[code] = name
            place = self._add(f"dep:{code}", name, "department", row.geometry, department=name)
            for alias in names.get("department_aliases", {}).get(upper, []):
                self._alias(alias, place)
        prov_names: dict[str, str] = {}
        for row in provs.itertuples():
            code = str(row.FIRST_IDPR)
            name = _title(str(row.NOMBPROV))
            prov_names[code] = name
            self._add(f"prov:{code}", name, "province", row.geometry,
                      department=self._dep_by_code.get(code[:2]), province=name)
        district_rows = {}
        for row in dists.itertuples():
            code = str(row.IDDIST)
            name = _title(str(row.NOMBDIST))
            if row.geometry is None or row.geometry.is_empty:
                # A few districts have no polygon in the simplified layer: their name falls back to the province.
                if f"prov:{code[:4]}" in self.places:
                    self._alias(name, self.places[f"prov:{code[:4]}"])
                continue
            district_rows[code] = row
            self._add(f"dist:{code}", name, "district", row.geometry,
                      department=self._dep_by_code.get(code[:2]), province=prov_names.get(code[:4]), district=name)
        self.districts = gpd.GeoDataFrame(
            {"ubigeo": list(district_rows), "geometry": [r.geometry for r in district_rows.values()]}, crs=4326)
        self._load_capitals(prov_names)
        self._load_towns()
        self._load_district_capitals(district_rows)
        self.country_outlines = self._read("boundaries/south_america_50m.geojson")
        self._load_zones(provs)
        self._load_rivers()
        self._load_countries()

    def _load_capitals(self, prov_names: dict[str, str]) -> None:
        caps = self._read("boundaries/peru_capital_provincia.geojson")
        by_name = {(normalize(p.department or ""), normalize(p.name)): p
                   for p in self.places.values() if p.kind == "province"}
        for row in caps.itertuples():
            prov = by_name.get((normalize(str(row.DEPARTAM)), normalize(str(row.PROVINCIA))))
            name = _title(str(row.CAPITAL))
            pid = f"town:{normalize(name).replace(' ', '_')}_{prov.id[5:] if prov else 'x'}"
            self._add(pid, name, "town", row.geometry.buffer(0.01), point=row.geometry,
                      department=prov.department if prov else _title(str(row.DEPARTAM)),
                      province=prov.name if prov else _title(str(row.PROVINCIA)), district=_title(str(row.DISTRITO)))

    def _load_towns(self) -> None:
        with open(self.data_dir / "gazetteer" / "towns.csv", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                dist = self.places.get(f"dist:{row['district']}")
                pt = Point(float(row["lon"]), float(row["lat"]))
                # A curated town replaces a province-capital point of the same name in the same district.
                for p in list(self.places.values()):
                    if p.kind == "town" and dist and normalize(p.name) == normalize(row["name"]) \
                            and p.department == dist.department:
                        self._remove(p)
                place = self._add(f"town:{row['id']}", row["name"], "town", pt.buffer(0.01), point=pt,
                                  department=dist.department if dist else None,
                                  province=dist.province if dist else None, district=dist.name if dist else None)
                for alias in filter(None, row["aliases"].split("|")):
                    self._alias(alias, place)

    def _load_district_capitals(self, district_rows: dict) -> None:
        """District capitals ("Puerto Ocopa", "San Martín de Pangoa") name their district."""
        for code, row in district_rows.items():
            capital = re.sub(r"[/\d]+", " ", str(row.NOM_CAP or "")).strip()
            if not capital or normalize(capital) in self._ambiguous:
                continue
            dist = self.places[f"dist:{code}"]
            if normalize(capital) != normalize(dist.name) and not any(
                    p.kind == "town" for p in self._index.get(normalize(capital), [])):
                self._alias(_title(capital), dist)

    def _border_members(self, country: str, distance: float = 0.05) -> set[str]:
        outline = self.country_outlines.loc[self.country_outlines["name"] == country, "geometry"]
        if outline.empty:
            raise GazetteerError(f"country {country!r} not in south_america_50m.geojson")
        tree = shapely.STRtree(self.districts.geometry.values)
        hits = tree.query(outline.iloc[0].boundary, predicate="dwithin", distance=distance)
        return set(self.districts["ubigeo"].iloc[hits])

    def _load_zones(self, provs: gpd.GeoDataFrame) -> None:
        zones = yaml.safe_load((self.data_dir / "gazetteer" / "zones.yaml").read_text(encoding="utf-8"))
        for key, spec in zones.items():
            members = {str(c) for c in spec.get("districts", [])}
            if spec.get("border_with"):
                members |= self._border_members(spec["border_with"])
            for pcode in spec.get("provinces", []):
                members |= {u for u in self.districts["ubigeo"] if u.startswith(str(pcode))}
            unknown = members - set(self.districts["ubigeo"])
            if unknown:
                raise GazetteerError(f"zone {key!r} names districts not in the boundary layer: {sorted(unknown)}")
            self.zone_members[key] = members
            self.zone_sources[key] = " ".join(str(spec.get("source", "")).split())
            geom = shapely.union_all(self.districts.loc[self.districts["ubigeo"].isin(members), "geometry"].values)
            place = self._add(f"zone:{key}", spec["name"], "zone", geom)
            for alias in spec.get("aliases", []):
                self._alias(alias, place)

    def _load_rivers(self) -> None:
        rivers = yaml.safe_load((self.data_dir / "gazetteer" / "rivers.yaml").read_text(encoding="utf-8"))
        for key, spec in rivers.items():
            line = LineString([(lon, lat) for lat, lon in spec["line"]])
            mid = line.interpolate(0.5, normalized=True)
            place = self._add(f"river:{key}", spec["name"], "river", line.buffer(0.05), point=mid, index_name=False)
            for alias in spec.get("aliases", []):
                self._alias(alias, place)

    def _load_countries(self) -> None:
        countries = yaml.safe_load((self.data_dir / "gazetteer" / "countries.yaml").read_text(encoding="utf-8"))
        outlines = self.country_outlines
        by_name = {str(r.name): r.geometry for r in outlines.itertuples()}
        for name, spec in countries.items():
            if name not in by_name:
                raise GazetteerError(f"country {name!r} not in south_america_50m.geojson")
            place = self._add(f"country:{spec['id']}", name, "country", by_name[name], index_name=False)
            for alias in spec.get("aliases", []):
                self._alias(alias, place)

    def _add(self, pid: str, name: str, kind: str, footprint, *, point=None, index_name: bool = True,
             department: str | None = None, province: str | None = None, district: str | None = None) -> Place:
        if point is None:
            point = footprint.representative_point()
        place = Place(pid, name, kind, round(point.y, 6), round(point.x, 6), department, province, district,
                      footprint)
        self.places[pid] = place
        if index_name:
            self._alias(name, place)
        return place

    def _alias(self, alias: str, place: Place) -> None:
        key = normalize(alias)
        if not key:
            return
        bucket = self._index.setdefault(key, [])
        if place not in bucket:
            bucket.append(place)
        # Longest alias per first word, so the text scan tries only the n-grams that can match.
        first, n = key.split(" ", 1)[0], key.count(" ") + 1
        self._first_word[first] = max(self._first_word.get(first, 0), n)

    def _remove(self, place: Place) -> None:
        self.places.pop(place.id, None)
        for bucket in self._index.values():
            if place in bucket:
                bucket.remove(place)

    # ------------------------------------------------------------------ lookup
    def lookup(self, name: str) -> list[Place]:
        """Every place called ``name`` (any alias, accents and case ignored), best default first."""
        return sorted(self._index.get(normalize(name), []), key=_rank)

    def get(self, place_id: str) -> Place:
        """The place with this stable id; ``KeyError`` naming the id if there is none."""
        try:
            return self.places[place_id]
        except KeyError:
            raise KeyError(f"no gazetteer place with id {place_id!r}") from None

    def geocode(self, query: str, exactly_one: bool = True, context: Sequence[Place] = ()) \
            -> Location | list[Location] | None:
        """Geocode a place name, geopy-style.

        ``"Huanta province"`` is the province, ``"the Ucayali River"`` the river, ``"Junín"`` the region. Among
        several candidates, those consistent with ``context`` (the article's other places) come first.

        Returns
        -------
        Location, list of Location, or None
            The best match (``exactly_one``), all matches best first, or ``None`` / ``[]`` when nothing matches.
        """
        if not isinstance(query, str) or not query.strip():
            raise ValueError(f"geocode needs a non-empty string, got {query!r}")
        places = self.match(query, context)
        if exactly_one:
            return places[0].to_location() if places else None
        return [p.to_location() for p in places]

    def match(self, query: str, context: Sequence[Place] = ()) -> list[Place]:
        """Like :meth:`geocode` but returns :class:`Place` objects."""
        words = normalize(query).split()
        if words and words[0] == "the":
            words = words[1:]
        hint = None
        if len(words) > 1 and words[-1] in _HINT_AFTER and normalize(" ".join(words)) not in self._index:
            hint = _HINT_AFTER[words[-1]]
            words = words[:-1]
        elif len(words) > 1 and words[0] in _HINT_BEFORE and " ".join(words) not in self._index:
            hint = _HINT_BEFORE[words[0]]
            words = words[1:]
        key = " ".join(words)
        candidates = list(self._index.get(key, []))
        return rank_candidates(candidates, hint, context)

    def find_mentions(self, text: str) -> list[Mention]:
        """Place names in running text, longest match first, each with its candidates and any hint."""
        words = _TOKEN_RE.findall(text)
        norm = [_normalize_token(w) for w in words]
        tokens = _Spans(text, words)
        out: list[Mention] = []
        i = 0
        first_word = self._first_word
        while i < len(words):
            longest = first_word.get(norm[i])
            if longest is None:
                i += 1
                continue
            found = None
            capital = words[i][:1].isupper()
            for n in range(min(longest, len(words) - i), 0, -1):
                key = " ".join(w for w in norm[i:i + n] if w)
                bucket = self._index.get(key)
                # Names are capitalised in running text; only zone aliases ("the tri-border") may not be.
                if bucket and (capital or (n > 1 and all(c.kind == "zone" for c in bucket))):
                    found = (n, key)
                    break
            if not found:
                i += 1
                continue
            n, key = found
            start, end = tokens[i][0], tokens[i + n - 1][1]
            after = norm[i + n] if i + n < len(tokens) else ""
            before = norm[i - 1] if i > 0 else ""
            hint = _HINT_AFTER.get(after) or _HINT_BEFORE.get(before)
            # "the city of Callao", "the province of Huanta", "the Huallaga River"
            if before in ("the", "of") and i > 1 and norm[i - 2] in _HINT_BEFORE:
                hint = hint or _HINT_BEFORE[norm[i - 2]]
            candidates = tuple(self._index[key])
            if key in self._ambiguous and not hint:
                i += n
                continue
            if hint == "river" and not any(c.kind == "river" for c in candidates):
                hint = None
            if hint:  # the hint word belongs to the name as written ("Huanta province")
                if after and _HINT_AFTER.get(after) == hint and not text[end:tokens[i + n][0]].strip():
                    end = tokens[i + n][1]
            out.append(Mention(start, end, text[start:end], candidates, hint))
            i += n
        return out

    def resolve(self, mentions: Iterable[Mention]) -> list[Place]:
        """Pick one place per mention, preferring candidates consistent with the unambiguous mentions."""
        mentions = list(mentions)
        firm = [rank_candidates(list(m.candidates), m.hint, ())[0] for m in mentions
                if m.candidates and _is_firm(m)]
        return [rank_candidates(list(m.candidates), m.hint, firm)[0] for m in mentions if m.candidates]

    def footprint(self, place_ids: Sequence[str]):
        """Union of the footprints of several places (``"Pasco, Huánuco and Ucayali"``)."""
        return shapely.union_all([self.get(pid).footprint for pid in place_ids])

    def district_frame(self) -> gpd.GeoDataFrame:
        """Districts with ubigeo, names, department, province and their zones (list), in EPSG:4326."""
        frame = self.districts.copy()
        frame["district"] = [self.places[f"dist:{u}"].name for u in frame["ubigeo"]]
        frame["province"] = [self.places[f"dist:{u}"].province for u in frame["ubigeo"]]
        frame["department"] = [self.places[f"dist:{u}"].department for u in frame["ubigeo"]]
        frame["zones"] = [[self.places[f"zone:{z}"].name for z, m in self.zone_members.items() if u in m]
                          for u in frame["ubigeo"]]
        return frame

    def department_frame(self) -> gpd.GeoDataFrame:
        """Departments (name, id, geometry) in EPSG:4326."""
        deps = [p for p in self.places.values() if p.kind == "department"]
        return gpd.GeoDataFrame({"id": [p.id for p in deps], "name": [p.name for p in deps],
                                 "geometry": [p.footprint for p in deps]}, crs=4326)

    def zone_frame(self) -> gpd.GeoDataFrame:
        """Curated zones (name, id, source, geometry) in EPSG:4326."""
        zones = [p for p in self.places.values() if p.kind == "zone"]
        return gpd.GeoDataFrame({"id": [p.id for p in zones], "name": [p.name for p in zones],
                                 "source": [self.zone_sources[p.id[5:]] for p in zones],
                                 "geometry": [p.footprint for p in zones]}, crs=4326)


@functools.lru_cache(maxsize=100_000)
def _contains(area: Place, place: Place) -> bool:
    # Cached: the same few context areas are asked about the same candidates again and again.
    return bool(area.footprint.contains(shapely.Point(place.lon, place.lat)))


def _is_firm(mention: Mention) -> bool:
    peru = [c for c in mention.candidates if c.is_peru]
    kinds = {c.kind for c in peru}
    # One Peruvian feature, or one name for nested admin levels of the same department (Junín dep/prov/district).
    return len(peru) == 1 or len({c.department for c in peru}) == 1 and len(kinds) == len(peru)


def _rank(place: Place) -> tuple[int, str]:
    return (_DEFAULT_RANK[place.kind], place.id)


def rank_candidates(candidates: list[Place], hint: str | None, context: Sequence[Place]) -> list[Place]:
    """Order candidates: the hinted feature type, then consistency with context, then the default rank."""
    if hint:
        hinted = [c for c in candidates if c.kind == hint or (hint == "department" and c.kind == "zone")]
        if hint == "zone":
            hinted = [c for c in candidates if c.kind == "zone"]
        candidates = hinted or candidates
    if not hint or hint != "river":
        candidates = [c for c in candidates if c.kind != "river"] or candidates
    ctx_deps = {p.department for p in context if p.department}
    ctx_geoms = [p for p in context if p.kind in ("zone", "province")]

    def key(place: Place) -> tuple:
        # Feature type first ("Ucayali" is the region even beside Loreto), then consistency with the context
        # (which of ten Santa Rosa districts), then the id for a stable order.
        consistent = place.department in ctx_deps or (
            place.kind in ("district", "town", "province") and any(
                _contains(g, place) for g in ctx_geoms))
        return (_DEFAULT_RANK[place.kind], 0 if consistent else 1, place.id)

    return sorted(candidates, key=key)


def _title(upper: str) -> str:
    small = {"de", "del", "la", "las", "los", "y", "el"}
    words = upper.lower().split()
    return " ".join(w if (i and w in small) else w.capitalize() for i, w in enumerate(words))


@functools.lru_cache(maxsize=4)
def default_gazetteer(data_dir: str | None = None) -> Gazetteer:
    """The gazetteer over the package's data, loaded once per process."""
    return Gazetteer(data_dir)


__all__ = ["Gazetteer", "Mention", "Place", "PRECISION", "default_gazetteer", "normalize"]
