"""Offline gazetteer for Peru: admin areas, towns, curated zones, rivers and neighbouring countries.

The gazetteer is a geopy-style geocoder: :meth:`Gazetteer.geocode` returns :class:`geopy.location.Location`
objects whose ``raw`` holds the stable id, feature type, precision level and footprint, so it can stand beside
geopy's own geocoders. :meth:`Gazetteer.find_mentions` scans running text for place names, which is what the
extractor uses.

Towns come from three sources, in order of authority: the curated rows of ``data/gazetteer/towns.csv``, the
province capitals of the INEI/IDEP layer, and GeoNames populated places (``data/gazetteer/geonames.tsv``, the
places of Peru with at least 500 inhabitants, plus any full GeoNames country file the user imported with
:func:`import_geonames` into :func:`user_gazetteer_dir`). A GeoNames place with the name of a curated town or
capital close to it is that town: the curated coordinates and id stay, GeoNames adds its feature code, population
and alternate names. Every town is placed in its district, province and department by a spatial join against the
INEI 2007 districts, never by GeoNames' own admin codes.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import math
import os
import pickle
import re
import tempfile
import threading
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import platformdirs
import shapely
import yaml
from shapely.geometry import LineString, Point
from unidecode import unidecode

from dashboard.errors import GazetteerError

if TYPE_CHECKING:  # geopy is imported when a Location is made: it pulls in requests, a tenth of a second
    import geopandas as gpd  # imported where a frame is made: pandas and geopandas take half a second
    from geopy.location import Location

#: Held while a pickled gazetteer's frames are read out (see ``Gazetteer.__getattr__``).
_FRAMES_LOCK = threading.Lock()

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
# Region-level names (a department, a zone, a country) outrank every local place of the same name whatever the
# context ("Ucayali" is the region even beside Loreto); among local places the context comes first.
_TIER = {"department": 0, "zone": 0, "country": 0, "town": 1, "province": 1, "district": 1, "river": 2}

#: GeoNames feature codes of populated places, most important first: the capital, seats of first-, second-,
#: third- and fourth-order divisions, then other places. Codes not listed rank after ``PPL``.
FEATURE_RANK = {"PPLC": 0, "PPLA": 1, "PPLA2": 2, "PPLA3": 3, "PPLA4": 4, "PPL": 5}
# A province capital of the INEI/IDEP layer that GeoNames does not hold ranks as a seat of a second-order division.
_CAPITAL_RANK = FEATURE_RANK["PPLA2"]
# Curated rows first: they were added because the news names them.
_SOURCE_RANK = {"curated": 0, "capital": 1, "geonames": 1}

#: The 19 tab-separated columns of a GeoNames export (``PE.txt``, ``cities500.txt``), in order.
GEONAMES_COLUMNS = ("geonameid", "name", "asciiname", "alternatenames", "latitude", "longitude", "feature_class",
                    "feature_code", "country_code", "cc2", "admin1_code", "admin2_code", "admin3_code",
                    "admin4_code", "population", "elevation", "dem", "timezone", "modification_date")
#: The columns the gazetteer keeps of a GeoNames row (``data/gazetteer/geonames.tsv`` and the user's extension).
TOWN_COLUMNS = ("geonameid", "name", "alternatenames", "latitude", "longitude", "feature_code", "population")
#: File name of GeoNames places, in ``data/gazetteer/`` and in the user's gazetteer folder.
GEONAMES_FILE = "geonames.tsv"
#: Environment variable naming the user's gazetteer folder (see :func:`user_gazetteer_dir`).
USER_DIR_ENV = "INCIDENT_MAP_GAZETTEER_DIR"
# A GeoNames place this close (degrees, ~15 km) to a curated town or capital of the same name is that town.
_SAME_TOWN_DEG = 0.15
# A GeoNames point up to this far (degrees, ~5 km) outside every district (a coastal town against the simplified
# coastline) belongs to the nearest district.
_NEAREST_DISTRICT_DEG = 0.05

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
    "hamlet": "town", "settlement": "town", "community": "town",
    # Spanish: "distrito de Pichari", "la ciudad de Pucallpa", "el centro poblado Palmapampa"
    "distrito": "district", "provincia": "province", "departamento": "department", "ciudad": "town",
    "pueblo": "town", "localidad": "town", "poblado": "town", "caserio": "town", "anexo": "town",
    "comunidad": "town", "puerto": "town",
}
# Words joining a hint word to the name after it ("the town of Kimbiri", "distrito de Pichari").
_HINT_JOINERS = ("the", "of", "de", "del")
# Locative words that make a name that is also a common word plausible as a place ("in Esperanza", "en Progreso").
_CUE_BEFORE = frozenset({"in", "en", "near", "at", "from", "outside", "around", "toward", "towards", "desde",
                         "hacia", "cerca"})
# "cerca de Progreso", "the outskirts of La Esperanza", "the sector of Talavera"
_CUE_BEFORE_OF = frozenset({"cerca", "afueras", "alrededores", "outskirts", "near", "sector", "zona", "zone",
                            "area"})
_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)


_WORD_RE = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=1 << 18)
def normalize(name: str) -> str:
    """Fold a place name for matching: no accents, lower case, punctuation to spaces."""
    # Cached: loading a full GeoNames country file folds the same names several times each.
    text = unidecode(name).lower().replace("'s", "")
    return " ".join(_WORD_RE.findall(text))


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
    #: GeoNames feature code (``PPLA``, ``PPLA3``, ``PPL``...) of a town GeoNames holds; ``None`` otherwise.
    feature_code: str | None = None
    #: GeoNames population of a town (0 when GeoNames gives none); ``None`` when GeoNames does not hold it.
    population: int | None = None
    #: Where a town comes from: ``"curated"`` (towns.csv), ``"capital"`` (INEI/IDEP province capitals) or
    #: ``"geonames"``; ``None`` for admin areas, zones, rivers and countries.
    source: str | None = None
    #: A town named like a province or district that does not contain it ("Huanta", a village of Loreto): ranked
    #: after those areas when nothing else tells them apart.
    namesake: bool = False

    def __hash__(self) -> int:
        # Ids are unique within a gazetteer; hashing every field would be slow in the ranking caches.
        return hash((self.id, self.lat, self.lon))

    @property
    def precision(self) -> int:
        """Precision level (see :data:`PRECISION`)."""
        return KIND_PRECISION[self.kind]

    @functools.cached_property
    def _sort_parts(self) -> tuple[tuple, tuple]:
        # Computed once per place: ranking runs for every mention of every article.
        return _sort_parts(self)

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
            "feature_code": self.feature_code, "population": self.population, "source": self.source,
        }
        from geopy.location import Location

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
    """A place name found in text: character span, the words as written, the hint and the candidates.

    Attributes
    ----------
    start, end
        Character span in the scanned text (the hint word included when it follows the name: "Huanta province").
    text
        The words as written.
    candidates
        Every place with this name; :func:`rank_candidates` or :meth:`Gazetteer.resolve` choose among them.
    hint
        The feature type a word next to the name asks for (``"district"`` for "district of X" or "distrito de X",
        ``"town"`` for "the town of X", ``"province"``, ``"department"``, ``"river"``, ``"zone"``), or ``None``.
    weak
        ``True`` when the name needs a cue to be a place, and had one. Names that are also common words
        ("Progreso", "Esperanza", "Florida": ``common_words`` in ``names.yaml``) are reported only after a
        locative word ("in", "en", "near", "at", "from", "cerca de") or with a ``hint``; people's names and
        foreign places ("Quispe", "Santa Cruz", "Santiago": ``ambiguous_words``) only with a ``hint``. Without
        its cue such a name is not reported at all. A weak mention without a ``hint`` rests on the locative word
        alone: an extractor may want more before taking it as where an event happened (another place of the same
        department, say).
    """

    start: int
    end: int
    text: str
    candidates: tuple[Place, ...]
    hint: str | None = None
    weak: bool = False


class Gazetteer:
    """Offline geocoder over the boundary files and the curated zone, river, town and country data.

    Parameters
    ----------
    data_dir
        Folder holding ``boundaries/`` and ``gazetteer/``; the package's ``data/`` by default.
    user_dir
        A folder whose ``geonames.tsv`` (written by :func:`import_geonames`) adds GeoNames places on top of the
        package data: a row with the geonameid of a shipped one replaces it; curated towns still win.
    extensions
        Read :func:`user_gazetteer_dir` when ``user_dir`` is not given (what :func:`default_gazetteer` does).
    """

    def __init__(self, data_dir: Path | str | None = None, *, user_dir: Path | str | None = None,
                 extensions: bool = False) -> None:
        self.data_dir = Path(data_dir) if data_dir else DATA_DIR
        #: The user's gazetteer folder read on top of the package data (``None``: none is read).
        self.user_dir: Path | None = None
        if user_dir is not None:
            self.user_dir = Path(user_dir)
        elif extensions:
            self.user_dir = user_gazetteer_dir()
        self.places: dict[str, Place] = {}
        self._index: dict[str, list[Place]] = {}
        self._first_word: dict[str, int] = {}
        # First words of the multi-word zone aliases, which may be written in lower case ("the tri-border").
        self._zone_first_word: dict[str, int] = {}
        self._ambiguous: set[str] = set()
        self._common: set[str] = set()
        self.zone_members: dict[str, set[str]] = {}
        self.zone_sources: dict[str, str] = {}
        self._load()

    # ------------------------------------------------------------------ pickling
    # The pickled copy (dashboard.gazcache) keeps the frames (districts, country outlines) as a pickle inside the
    # pickle, read on first use: unpickling them imports pandas and geopandas (half a second), which extracting
    # and storing a few articles never needs.
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        frames = {k: state.pop(k) for k in list(state)
                  if type(state[k]).__module__.split(".")[0] in ("pandas", "geopandas")}
        if frames:
            state["_frames_pickled"] = (tuple(frames), pickle.dumps(frames, protocol=pickle.HIGHEST_PROTOCOL))
        return state

    def __getattr__(self, name: str):
        # called only for an attribute not set: a frame still inside the pickle. Under a lock: the dashboard's
        # sessions are threads, and one may ask while another is reading the frames out.
        with _FRAMES_LOCK:
            if name in self.__dict__:
                return self.__dict__[name]
            held = self.__dict__.get("_frames_pickled")
            if held is None or name not in held[0]:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            for key, frame in pickle.loads(held[1]).items():  # from the same trusted file as the rest (gazcache)
                self.__dict__.setdefault(key, frame)
            del self.__dict__["_frames_pickled"]
            return self.__dict__[name]

    # ------------------------------------------------------------------ loading
    def _read(self, relative: str) -> gpd.GeoDataFrame:
        path = self.data_dir / relative
        if not path.exists():
            raise GazetteerError(f"gazetteer data file missing: {path}")
        import geopandas as gpd

        frame = gpd.read_file(path)
        if frame.crs is None or frame.crs.to_epsg() != 4326:
            frame = frame.set_crs(4326, allow_override=True)
        # Some INEI polygons are invalid (self-intersections); repair before any overlay or join.
        frame["geometry"] = shapely.make_valid(frame.geometry.values)
        return frame

    def _load(self) -> None:
        names = yaml.safe_load((self.data_dir / "gazetteer" / "names.yaml").read_text(encoding="utf-8"))
        self._ambiguous = {normalize(w) for w in names.get("ambiguous_words", [])}
        self._ambiguous |= {normalize(w) for w in names.get("foreign_names", [])}
        self._common = {normalize(w) for w in names.get("common_words", [])}
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
        # Districts created after the 2007 layer have no polygon: their names point at the province holding them.
        for prov_code, new_names in (names.get("new_districts") or {}).items():
            if f"prov:{prov_code}" in self.places:
                self._alias_all(new_names, self.places[f"prov:{prov_code}"])
        import geopandas as gpd

        self.districts = gpd.GeoDataFrame(
            {"ubigeo": list(district_rows), "geometry": [r.geometry for r in district_rows.values()]}, crs=4326)
        self._district_tree = shapely.STRtree(self.districts.geometry.values)
        #: The UBIGEO of each district in ``_district_tree`` (and ``districts``) order, without pandas.
        self.district_ubigeo: tuple[str, ...] = tuple(district_rows)
        self._geonames = _GeoNamesRows(self._geonames_rows())
        self._load_capitals(prov_names)
        self._load_towns()
        self._load_geonames()
        self._load_district_capitals(district_rows)
        self.country_outlines = self._read("boundaries/south_america_50m.geojson")
        self._load_zones(provs)
        self._load_rivers()
        self._load_countries()
        # A common word that also names a department, zone or country ("San Martín") is that area: no cue needed.
        self._common = {k for k in self._common
                        if not any(_TIER[p.kind] == 0 for p in self._index.get(k, []))}

    def _load_capitals(self, prov_names: dict[str, str]) -> None:
        caps = self._read("boundaries/peru_capital_provincia.geojson")
        by_name = {(normalize(p.department or ""), normalize(p.name)): p
                   for p in self.places.values() if p.kind == "province"}
        for row in caps.itertuples():
            prov = by_name.get((normalize(str(row.DEPARTAM)), normalize(str(row.PROVINCIA))))
            name = _title(str(row.CAPITAL))
            pid = f"town:{normalize(name).replace(' ', '_')}_{prov.id[5:] if prov else 'x'}"
            gn = self._geonames.claim(name, row.geometry.y, row.geometry.x)
            if gn and normalize(gn.display_name) == normalize(name):
                name = gn.display_name  # GeoNames writes the accents the layer's upper case lost ("Tingo María")
            place = self._add(pid, name, "town", row.geometry.buffer(0.01), point=row.geometry,
                              department=prov.department if prov else _title(str(row.DEPARTAM)),
                              province=prov.name if prov else _title(str(row.PROVINCIA)),
                              district=_title(str(row.DISTRITO)), source="capital",
                              feature_code=gn.feature_code if gn else None, population=gn.population if gn else None)
            if gn:
                self._alias_all(gn.aliases, place)

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
                gn = self._geonames.claim(row["name"], pt.y, pt.x)
                place = self._add(f"town:{row['id']}", row["name"], "town", pt.buffer(0.01), point=pt,
                                  department=dist.department if dist else None,
                                  province=dist.province if dist else None, district=dist.name if dist else None,
                                  source="curated", feature_code=gn.feature_code if gn else None,
                                  population=gn.population if gn else None)
                for alias in filter(None, row["aliases"].split("|")):
                    self._alias(alias, place)
                if gn:  # GeoNames' spellings of a curated town name the curated town
                    self._alias_all(gn.aliases, place)

    def _load_district_capitals(self, district_rows: dict) -> None:
        """District capitals ("Puerto Ocopa", "San Martín de Pangoa") name their district.

        Only where no town of that name lies in the district: a GeoNames or curated point of the capital is
        better than the district's footprint.
        """
        for code, row in district_rows.items():
            capital = re.sub(r"[/\d]+", " ", str(row.NOM_CAP or "")).strip()
            if not capital or normalize(capital) in self._ambiguous:
                continue
            dist = self.places[f"dist:{code}"]
            if normalize(capital) != normalize(dist.name) and not any(
                    p.kind == "town" and p.department == dist.department and p.district == dist.name
                    for p in self._index.get(normalize(capital), [])):
                self._alias(_title(capital), dist)

    # ------------------------------------------------------------------ GeoNames
    def _geonames_rows(self) -> list[_GeoTown]:
        """GeoNames places of the package, then the user's (same geonameid: the user's row replaces ours)."""
        rows: dict[int, _GeoTown] = {}
        shipped = self.data_dir / "gazetteer" / GEONAMES_FILE
        if shipped.exists():
            rows.update((t.geonameid, t) for t in _read_towns(shipped, strict=True))
        if self.user_dir is not None:
            user = self.user_dir / GEONAMES_FILE
            if user.exists():
                rows.update((t.geonameid, t) for t in _read_towns(user, strict=False))
        regions = self._region_keys()
        for town in rows.values():
            town.aliases = tuple(self._town_aliases(town, regions))
        return list(rows.values())

    def _region_keys(self) -> set[str]:
        """Names of departments, zones and countries: a town's alternate name that is one of them is not its own."""
        keys = {k for k, bucket in self._index.items() if any(p.kind == "department" for p in bucket)}
        for relative, fields in (("zones.yaml", ("name",)), ("countries.yaml", ())):
            spec = yaml.safe_load((self.data_dir / "gazetteer" / relative).read_text(encoding="utf-8")) or {}
            for key, item in spec.items():
                keys.add(normalize(key))
                keys.update(normalize(str(item.get(f, ""))) for f in fields)
                keys.update(normalize(a) for a in item.get("aliases", []))
        return keys

    def _town_aliases(self, town: _GeoTown, regions: set[str]) -> Iterator[str]:
        """The names a GeoNames town is matched by, besides its name: parts of the name, usable alternates."""
        own = normalize(town.name)
        # "Islay (Matarani)": both names; "El Parco District": "El Parco"
        if "(" in town.name:
            yield from _PAREN_RE.findall(town.name)
            yield _PAREN_RE.sub(" ", town.name).strip()
        if town.display_name != town.name:
            yield town.display_name
        for alt in town.alternates:
            key = normalize(alt)
            # GeoNames alternates that are another feature's name ("San Martin" for Tarapoto, the region's
            # capital) or a common word ("Esperanza" for Puerto Rico) would make the town a candidate for them.
            if key == own or not key or key in regions or key in self._ambiguous or key in self._common:
                continue
            yield alt

    def _district_codes(self, points: np.ndarray) -> list[str | None]:
        """The UBIGEO of the district holding each point (the nearest within ~5 km off the coast), or None."""
        ubigeo = self.districts["ubigeo"].to_numpy()
        codes: list[str | None] = [None] * len(points)
        inside, hit = self._district_tree.query(points, predicate="within")
        for i, j in zip(inside[::-1], hit[::-1], strict=True):  # reversed: the first district wins on a border
            codes[i] = ubigeo[j]
        missing = np.array([i for i, c in enumerate(codes) if c is None], dtype=np.int64)
        if len(missing):
            near, hit = self._district_tree.query_nearest(points[missing], max_distance=_NEAREST_DISTRICT_DEG)
            for i, j in zip(near[::-1], hit[::-1], strict=True):
                codes[missing[i]] = ubigeo[j]
        return codes

    def _load_geonames(self) -> None:
        """GeoNames places that no curated town or capital claimed, each in its district, province, department."""
        towns = [t for t in self._geonames.rows if t.geonameid not in self._geonames.claimed]
        #: GeoNames places left out because they lie in no Peruvian district.
        self.towns_outside: list[int] = []
        if not towns:
            return
        lons, lats = np.array([t.lon for t in towns]), np.array([t.lat for t in towns])
        points = shapely.points(lons, lats)
        footprints = _circles(lons, lats, 0.01)
        index = self._index
        for town, point, footprint, code in zip(towns, points, footprints, self._district_codes(points),
                                                strict=True):
            if code is None:
                self.towns_outside.append(town.geonameid)
                continue
            dist = self.places[f"dist:{code}"]
            # Named like a province that does not hold it (a village called Huanta in Loreto; Tambo Quemado, alias
            # Leoncio Prado), or, when no province has the name, like districts none of which holds it.
            admins = [p for k in {normalize(n) for n in (town.name, *town.aliases)} for p in index.get(k, ())
                      if p.kind == "province" or p.kind == "district"]
            provs = {p.id for p in admins if p.kind == "province"}
            dists = {p.id for p in admins if p.kind == "district"}
            namesake = f"prov:{code[:4]}" not in provs if provs else bool(dists) and dist.id not in dists
            place = self._add(f"town:gn{town.geonameid}", town.display_name, "town", footprint, point=point,
                              index_name=False, department=dist.department, province=dist.province,
                              district=dist.name, source="geonames", feature_code=town.feature_code,
                              population=town.population, namesake=namesake)
            self._index_new(place, town.name, *town.aliases)

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
             department: str | None = None, province: str | None = None, district: str | None = None,
             **extra) -> Place:
        if point is None:
            point = footprint.representative_point()
        place = Place(pid, name, kind, round(point.y, 6), round(point.x, 6), department, province, district,
                      footprint, **extra)
        self.places[pid] = place
        if index_name:
            self._alias(name, place)
        return place

    def _alias(self, alias: str, place: Place) -> None:
        key = normalize(alias)
        if not key:
            return
        bucket = self._index.setdefault(key, [])
        if not any(p is place for p in bucket):  # identity: a dataclass == compares every field
            bucket.append(place)
        # Longest alias per first word, so the text scan tries only the n-grams that can match.
        first, n = key.split(" ", 1)[0], key.count(" ") + 1
        self._first_word[first] = max(self._first_word.get(first, 0), n)
        if place.kind == "zone" and n > 1:
            self._zone_first_word[first] = max(self._zone_first_word.get(first, 0), n)

    def _index_new(self, place: Place, *names: str) -> None:
        """Index a place created just now under several names (no bucket can hold it yet: no identity checks)."""
        first_word = self._first_word
        for key in dict.fromkeys(map(normalize, names)):
            if key:
                self._index.setdefault(key, []).append(place)
                first, n = key.split(" ", 1)[0], key.count(" ") + 1
                if first_word.get(first, 0) < n:
                    first_word[first] = n

    def _alias_all(self, aliases: Iterable[str], place: Place) -> None:
        for alias in aliases:
            self._alias(alias, place)

    def _remove(self, place: Place) -> None:
        self.places.pop(place.id, None)
        for bucket in self._index.values():
            if place in bucket:
                bucket.remove(place)

    # ------------------------------------------------------------------ lookup
    def lookup(self, name: str) -> list[Place]:
        """Every place called ``name`` (any alias, accents and case ignored), best default first.

        The order is :func:`rank_candidates`' without hint or context (rivers included, last).
        """
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
        # "the Ucayali River"; "la provincia de Huanta" (but "La Convención" keeps its article)
        if words and (words[0] == "the" or words[0] in ("el", "la") and len(words) > 2 and words[1] in _HINT_BEFORE):
            words = words[1:]
        hint = None
        if len(words) > 1 and words[-1] in _HINT_AFTER and " ".join(words) not in self._index:
            hint = _HINT_AFTER[words[-1]]
            words = words[:-1]
        elif len(words) > 1 and words[0] in _HINT_BEFORE and " ".join(words) not in self._index:
            hint = _HINT_BEFORE[words[0]]
            words = words[1:]
            # "the province of Huanta", "distrito de Pichari"
            while len(words) > 1 and words[0] in _HINT_JOINERS and " ".join(words) not in self._index:
                words = words[1:]
        key = " ".join(words)
        candidates = list(self._index.get(key, []))
        return rank_candidates(candidates, hint, context)

    def find_mentions(self, text: str) -> list[Mention]:
        """Place names in running text, longest match first, each with its candidates and any hint.

        Names must be capitalised, except multi-word zone names ("the tri-border", "triple frontera"). A name
        that is also a common word, a person's name or a foreign place is reported only with its cue, and then
        with ``weak=True`` (see :class:`Mention`).
        """
        words = _TOKEN_RE.findall(text)
        norm = [_normalize_token(w) for w in words]
        tokens = _Spans(text, words)
        out: list[Mention] = []
        i = 0
        first_word, zone_first_word = self._first_word, self._zone_first_word
        index, ambiguous, common = self._index, self._ambiguous, self._common
        taken = -1  # index of the last word a mention took (its name and a hint word after it)
        while i < len(words):
            longest = first_word.get(norm[i])
            if longest is None:  # most words: one dictionary look-up
                i += 1
                continue
            # Names are capitalised in running text; only zone aliases ("the tri-border") may not be.
            capital = words[i][:1].isupper()
            if not capital:
                longest = zone_first_word.get(norm[i])
                if longest is None:
                    i += 1
                    continue
            found = None
            for n in range(min(longest, len(words) - i), 0, -1):
                key = " ".join(w for w in norm[i:i + n] if w)
                bucket = index.get(key)
                if bucket and (capital or (n > 1 and all(c.kind == "zone" for c in bucket))):
                    found = (n, key)
                    break
            if not found:
                i += 1
                continue
            n, key = found
            start, end = tokens[i][0], tokens[i + n - 1][1]
            after = norm[i + n] if i + n < len(tokens) else ""
            # A word the previous name took as its own hint ("La Unión district of Huánuco") is not this one's.
            before = norm[i - 1] if i > 0 and i - 1 > taken else ""
            candidates = tuple(index[key])
            # A hint word after the name only when nothing stands between them: in "provincia de Huanta, región
            # Ayacucho" the region word after the comma is the next name's (Spanish puts hints before names).
            adjacent = i + n < len(tokens) and not text[end:tokens[i + n][0]].strip()
            hint = _HINT_AFTER.get(after) if adjacent else None
            if hint and i + n + 1 < len(norm) and norm[i + n + 1] in _HINT_JOINERS and any(
                    c.kind == "department" for c in candidates):
                # "the Ucayali district of Padre Abad": the word is the next name's, the region is its context
                hint = None
            hint = hint or _HINT_BEFORE.get(before)
            # "the city of Callao", "the province of Huanta", "distrito de Pichari"
            if before in _HINT_JOINERS and i - 2 > taken and norm[i - 2] in _HINT_BEFORE:
                hint = hint or _HINT_BEFORE[norm[i - 2]]
            weak = False
            if key in ambiguous or key in common:
                # Without its cue such a name is an ordinary word ("Union leaders", "Florida" the state).
                cued = key not in ambiguous and (before in _CUE_BEFORE or (
                    before in _HINT_JOINERS and i > 1 and norm[i - 2] in _CUE_BEFORE_OF))
                if not (hint or cued):
                    i += n
                    continue
                weak = True
            if hint == "river" and not any(c.kind == "river" for c in candidates):
                hint = None
            taken = i + n - 1
            if hint:  # the hint word belongs to the name as written ("Huanta province")
                if after and _HINT_AFTER.get(after) == hint and not text[end:tokens[i + n][0]].strip():
                    end = tokens[i + n][1]
                    taken += 1
            out.append(Mention(start, end, text[start:end], candidates, hint, weak))
            i += n
        return out

    def needs_cue(self, name: str) -> bool:
        """Whether :meth:`find_mentions` reports ``name`` only with a cue (and then as a weak mention)."""
        key = normalize(name)
        return key in self._ambiguous or key in self._common

    def resolve(self, mentions: Iterable[Mention]) -> list[Place]:
        """Pick one place per mention, preferring candidates consistent with the unambiguous mentions."""
        mentions = list(mentions)
        firm = [rank_candidates(list(m.candidates), m.hint, ())[0] for m in mentions
                if m.candidates and _is_firm(m)]
        firm = list(dict.fromkeys(firm))  # each place once: ranking must not slow down with repetition
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
        import geopandas as gpd

        deps = [p for p in self.places.values() if p.kind == "department"]
        return gpd.GeoDataFrame({"id": [p.id for p in deps], "name": [p.name for p in deps],
                                 "geometry": [p.footprint for p in deps]}, crs=4326)

    def zone_frame(self) -> gpd.GeoDataFrame:
        """Curated zones (name, id, source, geometry) in EPSG:4326."""
        import geopandas as gpd

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


def _rank(place: Place) -> tuple:
    head, tail = place._sort_parts
    return (head, True, tail)


def _sort_parts(place: Place) -> tuple[tuple, tuple]:
    """The context-free parts of a candidate's sort key, before and after its consistency with the context."""
    tier = _TIER[place.kind]
    if tier != 1:
        # Feature type first ("Ucayali" is the region even beside Loreto), then consistency with the context.
        return (tier, _DEFAULT_RANK[place.kind]), (place.id,)
    # Local places: consistency with the context first (which of ten Santa Rosa districts), a town named after an
    # area that does not hold it after that area, then the feature type (a town before its province and
    # district), then curated before GeoNames, GeoNames' feature code (PPLA > PPLA2 > PPLA3 > PPL) and the
    # larger population; the id keeps the order stable.
    if place.kind == "town":
        if place.feature_code:
            code = FEATURE_RANK.get(place.feature_code, len(FEATURE_RANK))
        else:
            code = _CAPITAL_RANK if place.source == "capital" else len(FEATURE_RANK)
        town = (_SOURCE_RANK.get(place.source or "", 1), code, -(place.population or 0))
    else:
        town = (0, 0, 0)
    return (tier, 0), (place.namesake, _DEFAULT_RANK[place.kind], *town, place.id)


def rank_candidates(candidates: list[Place], hint: str | None, context: Sequence[Place]) -> list[Place]:
    """Order candidates, best first.

    The hinted feature type first ("Huanta province"); rivers only when hinted. Then departments, zones and
    countries before local places of the same name; among local places (towns, provinces, districts), those
    consistent with ``context`` (in a department the text also names, or inside a zone or province it names),
    then a town before the province and district it gives its name to, then curated towns, GeoNames' feature code
    (PPLC > PPLA > PPLA2 > PPLA3 > PPLA4 > PPL) and the larger population.
    """
    if hint:
        hinted = [c for c in candidates if c.kind == hint or (hint == "department" and c.kind == "zone")]
        if hint == "zone":
            hinted = [c for c in candidates if c.kind == "zone"]
        candidates = hinted or candidates
    if not hint or hint != "river":
        candidates = [c for c in candidates if c.kind != "river"] or candidates
    if len(candidates) < 2:
        return list(candidates)
    ctx_deps = {p.department for p in context if p.department}
    ctx_geoms = [p for p in context if p.kind in ("zone", "province")]

    def agrees(place: Place) -> bool:
        return place.department in ctx_deps or (
            place.kind in ("district", "town", "province") and any(_contains(g, place) for g in ctx_geoms))

    if not context:
        return sorted(candidates, key=_rank)
    consistent = {c.id for c in candidates if agrees(c)}
    # A town inside a consistent province or district of its name is as consistent as it ("Huanta" in a VRAEM
    # story: the province reaches into the VRAEM, its capital does not): then the town's point wins.
    areas = [c for c in candidates if c.id in consistent and c.kind in ("province", "district")]
    if areas:
        consistent |= {c.id for c in candidates if c.kind == "town" and c.id not in consistent
                       and any(_contains(a, c) for a in areas)}

    def key(place: Place) -> tuple:
        head, tail = place._sort_parts
        return (head, place.id not in consistent, tail)

    return sorted(candidates, key=key)


def _title(upper: str) -> str:
    small = {"de", "del", "la", "las", "los", "y", "el"}
    words = upper.lower().split()
    return " ".join(w if (i and w in small) else w.capitalize() for i, w in enumerate(words))


def user_gazetteer_dir() -> Path:
    """The user's gazetteer folder, which :func:`import_geonames` writes and :func:`default_gazetteer` reads.

    ``$INCIDENT_MAP_GAZETTEER_DIR`` when set; otherwise ``gazetteer/`` in the platform's user data folder
    (platformdirs: ``~/.local/share/incident-map/gazetteer`` on Linux).
    """
    env = os.environ.get(USER_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("incident-map", appauthor=False)) / "gazetteer"


@functools.lru_cache(maxsize=4)
def default_gazetteer(data_dir: str | None = None) -> Gazetteer:
    """The gazetteer over the package's data and the user's imported GeoNames places, loaded once per process.

    Read from a pickled copy in the user's cache folder when one was built from the same files
    (:mod:`dashboard.gazcache`).
    """
    from dashboard import gazcache  # imported here: it imports this module

    folder = Path(data_dir) if data_dir else DATA_DIR
    return gazcache.load_or_build(lambda: Gazetteer(data_dir, extensions=True), folder,
                                  user_gazetteer_dir() / GEONAMES_FILE)


# ---------------------------------------------------------------------- GeoNames files
@dataclass
class _GeoTown:
    """One GeoNames populated place, as the gazetteer keeps it."""

    geonameid: int
    name: str
    alternates: tuple[str, ...]
    lat: float
    lon: float
    feature_code: str
    population: int
    aliases: tuple[str, ...] = ()  # the alternates the gazetteer uses (set by the loader)
    display_name: str = ""  # the name without stray spaces or a trailing "District" (set on creation)

    def __post_init__(self) -> None:
        # "Florida ( Pomacochas)" -> "Florida (Pomacochas)"; "Marcara District" -> "Marcara"
        name = " ".join(self.name.split())
        if "(" in name:
            name = name.replace("( ", "(").replace(" )", ")")
        self.display_name = name[:-len(" District")] if name.endswith(" District") else name

    def row(self) -> list[str]:
        """The row of the gazetteer's own file (:data:`TOWN_COLUMNS`)."""
        return [str(self.geonameid), self.name, ",".join(self.alternates), f"{self.lat:.5f}", f"{self.lon:.5f}",
                self.feature_code, str(self.population)]


class _GeoNamesRows:
    """GeoNames towns by every name, so a curated town or capital can claim the GeoNames row of the same place."""

    def __init__(self, rows: list[_GeoTown]) -> None:
        self.rows = rows
        self.claimed: set[int] = set()
        self._by_key: dict[str, list[_GeoTown]] = {}
        for town in rows:
            for name in {normalize(n) for n in (town.name, *town.aliases)}:
                self._by_key.setdefault(name, []).append(town)

    def claim(self, name: str, lat: float, lon: float) -> _GeoTown | None:
        """The nearest GeoNames town called ``name`` within ~15 km of (lat, lon), marked as claimed; or None."""
        near = [(math.hypot(t.lat - lat, t.lon - lon), t.geonameid, t) for t in self._by_key.get(normalize(name), [])]
        near = [n for n in near if n[0] <= _SAME_TOWN_DEG]
        if not near:
            return None
        town = min(near)[2]
        self.claimed.add(town.geonameid)
        return town


_PAREN_RE = re.compile(r"\(([^()]*)\)")


def _circles(lons: np.ndarray, lats: np.ndarray, radius: float) -> np.ndarray:
    """Circles (16-gons) around many points at once, built from coordinates: far faster than GEOS buffers."""
    angles = np.linspace(0, 2 * np.pi, 17)
    angles[-1] = 0.0  # closed ring: last vertex exactly the first
    xs = lons[:, None] + radius * np.cos(angles)[None, :]
    ys = lats[:, None] + radius * np.sin(angles)[None, :]
    return shapely.polygons(np.stack([xs, ys], axis=-1))


_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


_DIGIT_RE = re.compile(r"\d")
# Letters beyond Latin Extended-B: Cyrillic, Greek, Arabic, CJK... (not how the news writes a Peruvian place)
_NON_LATIN_RE = re.compile(r"[^\W\d_\u0000-\u024f]")


def _usable_alternate(name: str) -> bool:
    """Whether a GeoNames alternate name is worth keeping: Latin script, no digits, no codes or transliterations."""
    if not name or len(name) > 100 or _DIGIT_RE.search(name) or _NON_LATIN_RE.search(name):
        return False
    if name.isupper() and len(name) <= 5:  # IATA and other codes ("TPP", "YMS")
        return False
    return name != name.lower()  # all lower case: a romanisation ("pu ka er pa"), not a name in use


def _parse_geonames(line: str) -> _GeoTown | None:
    """A GeoNames export line as a town; ``None`` for a feature that is not a Peruvian populated place.

    Raises ``ValueError`` with the reason for a malformed line.
    """
    cols = line.rstrip("\r\n").split("\t")
    if len(cols) != len(GEONAMES_COLUMNS):
        raise ValueError(f"expected {len(GEONAMES_COLUMNS)} tab-separated columns, got {len(cols)}")
    rec = dict(zip(GEONAMES_COLUMNS, cols, strict=True))
    if rec["feature_class"] != "P" or rec["country_code"] != "PE":
        return None
    return _town(rec["geonameid"], rec["name"], rec["alternatenames"], rec["latitude"], rec["longitude"],
                 rec["feature_code"], rec["population"])


def _town(geonameid: str, name: str, alternates: str, lat: str, lon: str, code: str, population: str,
          *, checked: bool = False) -> _GeoTown:
    """Checked fields of one row; ``ValueError`` naming the first bad one.

    ``checked``: the alternate names come from a gazetteer file, already filtered when it was written.
    """
    if not geonameid.isdigit():
        raise ValueError(f"geonameid {geonameid!r} is not a number")
    name = unicodedata.normalize("NFC", name.strip())
    if not name or _BAD_CHARS.search(name) or len(name) > 200:
        raise ValueError(f"unusable name {name[:40]!r}")
    try:
        y, x = float(lat), float(lon)
    except ValueError:
        raise ValueError(f"latitude/longitude {lat!r}, {lon!r} are not numbers") from None
    if not (math.isfinite(y) and math.isfinite(x) and -90 <= y <= 90 and -180 <= x <= 180):
        raise ValueError(f"latitude/longitude {lat!r}, {lon!r} out of range")
    pop = population.strip() or "0"
    if not pop.isdigit():
        raise ValueError(f"population {population!r} is not a whole number")
    if not re.fullmatch(r"[A-Z0-9]{1,10}", code):
        raise ValueError(f"feature code {code!r} is not a GeoNames code")
    if checked:
        alts = tuple(alternates.split(",")) if alternates else ()
    else:
        alts = tuple(dict.fromkeys(
            a for a in (unicodedata.normalize("NFC", a.strip()) for a in alternates.split(","))
            if _usable_alternate(a) and not _BAD_CHARS.search(a) and a != name))
    return _GeoTown(int(geonameid), name, alts, y, x, code, int(pop))


def _read_towns(path: Path, *, strict: bool) -> Iterator[_GeoTown]:
    """Rows of a gazetteer GeoNames file (:data:`TOWN_COLUMNS`): bad rows raise (``strict``) or warn."""
    with open(path, encoding="utf-8", newline="") as fh:
        header = fh.readline().rstrip("\r\n").split("\t")
        if tuple(header) != TOWN_COLUMNS:
            message = f"{path}: not a gazetteer GeoNames file (header {header[:3]}...)"
            if strict:
                raise GazetteerError(message)
            warnings.warn(message + "; ignored", stacklevel=3)
            return
        for lineno, line in enumerate(fh, start=2):
            cols = line.rstrip("\r\n").split("\t")
            try:
                if len(cols) != len(TOWN_COLUMNS):
                    raise ValueError(f"expected {len(TOWN_COLUMNS)} columns, got {len(cols)}")
                yield _town(*cols, checked=True)
            except ValueError as exc:
                if strict:
                    raise GazetteerError(f"{path}, line {lineno}: {exc}") from None
                warnings.warn(f"{path}, line {lineno}: {exc}; row ignored", stacklevel=3)


@dataclass
class ImportReport:
    """What :func:`import_geonames` did.

    Attributes
    ----------
    path
        The gazetteer file written.
    added, updated
        Places new to that file, and places it already held (same geonameid) now replaced.
    ignored
        Well-formed rows that are not populated places of Peru (feature class other than P, another country).
    errors
        ``(line number, reason)`` of each malformed row, which was skipped.
    """

    path: Path
    added: int = 0
    updated: int = 0
    ignored: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def import_geonames(source: Path | str, into: Path | str | None = None) -> ImportReport:
    """Add the populated places of a GeoNames country file (``PE.txt``) to a gazetteer folder.

    Reads GeoNames' 19 tab-separated columns (a header row naming them is allowed), keeps feature class ``P`` of
    country ``PE``, and merges them by geonameid into ``into/geonames.tsv`` (:func:`user_gazetteer_dir` by
    default), which :func:`default_gazetteer` reads on top of the package data. Malformed rows (wrong column
    count, bad coordinates, undecodable bytes) are reported by line and skipped. The file is replaced atomically:
    a failed import leaves the previous one intact.

    Returns
    -------
    ImportReport
        Counts and the malformed lines.
    """
    target_dir = Path(into) if into is not None else user_gazetteer_dir()
    target = target_dir / GEONAMES_FILE
    report = ImportReport(target)
    towns: dict[int, _GeoTown] = {}
    try:
        fh = open(source, "rb")
    except OSError as exc:
        raise GazetteerError(f"cannot read {source}: {exc.strerror or exc}") from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                report.errors.append((lineno, "not UTF-8 text"))
                continue
            if not line.strip() or (lineno == 1 and line.startswith("geonameid\t")):
                continue
            try:
                town = _parse_geonames(line)
            except ValueError as exc:
                report.errors.append((lineno, str(exc)))
                continue
            if town is None:
                report.ignored += 1
            else:
                towns[town.geonameid] = town
    if not towns:  # nothing to add: leave any previous file as it was
        return report
    target_dir.mkdir(parents=True, exist_ok=True)
    # Read, merge and replace under a lock: two imports at once must not drop each other's places.
    with _locked(target_dir / ".geonames.lock"):
        existing: dict[int, _GeoTown] = {}
        if target.exists():
            existing = {t.geonameid: t for t in _read_towns(target, strict=True)}
        report.updated = sum(1 for g in towns if g in existing)
        report.added = len(towns) - report.updated
        existing.update(towns)
        _write_towns(target, sorted(existing.values(), key=lambda t: t.geonameid))
    return report


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if need be) for the ``with`` block; waits for other holders."""
    with open(path, "a+b") as fh:
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _write_towns(path: Path, towns: Iterable[_GeoTown]) -> None:
    """Write a gazetteer GeoNames file atomically (temporary file in the same folder, then rename)."""
    fd, tmp = tempfile.mkstemp(prefix=".geonames-", suffix=".tsv", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write("\t".join(TOWN_COLUMNS) + "\n")
            for town in towns:
                fh.write("\t".join(town.row()) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the file from the user's other accounts
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["FEATURE_RANK", "Gazetteer", "ImportReport", "Mention", "PRECISION", "Place", "default_gazetteer",
           "import_geonames", "normalize", "rank_candidates", "user_gazetteer_dir"]
