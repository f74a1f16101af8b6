"""Locate incidents: geometry from the gazetteer, then the admin hierarchy and zones by a spatial join.

``locate()`` is a short pipeline of private steps, after geopandas ``sjoin``: build geometries, join points to
districts (which carry province, department and zones), and overlay area footprints with departments and zones.
:func:`locate_rows` gives the same for a few incidents as plain records, with shapely alone: a one-article
ingest needs neither pandas nor geopandas (half a second to import), so this module imports them only in the
functions that make frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry import Point

from dashboard.extraction import Incident
from dashboard.gazetteer import PRECISION, PRECISION_NAMES, Gazetteer

if TYPE_CHECKING:
    import geopandas as gpd

#: A department counts as covered by an area when it holds at least this share of the area's footprint.
DEPARTMENT_SHARE = 0.01
#: An area is in a zone when at least this share of its footprint lies in the zone.
ZONE_SHARE = 0.5


def locate(incidents: Sequence[Incident], gazetteer: Gazetteer) -> gpd.GeoDataFrame:
    """Incidents as a GeoDataFrame (EPSG:4326) with location, admin hierarchy and zones.

    Point-level incidents (a town, a district) get a point and their own district, province and department;
    area-level ones (a province, a department, a zone, several departments, a country) keep their footprint and
    list every department they cover. Incidents with no place get no geometry and keep their reason.
    """
    frame = _frame(incidents, gazetteer)
    frame = join_points(frame, gazetteer)
    _admin_of_points_outside(frame, gazetteer)
    return _join_areas(frame, gazetteer)


def _admin_of_points_outside(frame: gpd.GeoDataFrame, gazetteer: Gazetteer) -> None:
    """Give the gazetteer's admin names to towns whose point lies outside every district polygon.

    A lake shore, a border river or the coast can put a town just outside the simplified polygons; it keeps the
    department, province and district the gazetteer gives it.
    """
    for idx, loc in frame["location_id"].items():
        deps = frame.at[idx, "departments"]
        if not isinstance(loc, str) or "+" in loc or (isinstance(deps, list) and deps):
            continue
        place = gazetteer.get(loc)
        if place.kind == "town" and place.department:
            frame.at[idx, "departments"] = [place.department]
            frame.at[idx, "province"] = place.province
            frame.at[idx, "district"] = place.district


def _place_columns(inc: Incident, gazetteer: Gazetteer) -> tuple[dict, object]:
    """An incident's fields (but its mentions), its location id, precision and name, and its geometry."""
    row = asdict(inc)
    row.pop("mentions", None)
    ids = list(inc.place_ids)
    places = [gazetteer.get(pid) for pid in ids]
    row["location_id"] = "+".join(sorted(ids)) if ids else None
    if not places:
        row["geo_precision"] = None
        row["location_name"] = None
        return row, None
    level = max(p.precision for p in places)
    row["geo_precision"] = PRECISION_NAMES[level]
    row["location_name"] = ", ".join(p.name for p in places)
    if len(places) == 1 and level <= PRECISION["district"]:
        return row, Point(places[0].lon, places[0].lat)
    return row, places[0].footprint if len(places) == 1 else gazetteer.footprint(ids)


def _frame(incidents: Sequence[Incident], gazetteer: Gazetteer) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pandas as pd

    rows, geoms = [], []
    for inc in incidents:
        row, geom = _place_columns(inc, gazetteer)
        rows.append(row)
        geoms.append(geom)
    columns = list(Incident.__dataclass_fields__) + ["location_id", "geo_precision", "location_name"]
    columns.remove("mentions")
    data = pd.DataFrame(rows, columns=columns)
    for col in ("killed", "wounded", "count", "quantity_kg", "date", "date_end"):
        data[col] = data[col].astype(object).where(data[col].notna(), None)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)


def join_points(frame: gpd.GeoDataFrame, gazetteer: Gazetteer) -> gpd.GeoDataFrame:
    """Add ``district``, ``province``, ``departments`` and ``zones`` to the point rows by one join on districts.

    Rows of one district share one ``departments`` list and one ``zones`` list (read-only), which keeps a join of
    a million points close to the cost of the bare ``sjoin``.
    """
    import geopandas as gpd
    import pandas as pd

    _check_crs(frame)
    lookup = _district_lookup(gazetteer)
    out = frame.copy(deep=False)  # new columns only: the caller's frame is left as it was
    for col in ("district", "province", "departments", "zones"):
        if col not in out:
            out[col] = None
    is_point = shapely.get_type_id(out.geometry.values) == 0  # 0 = Point; None gives -1
    if is_point.any():
        points = gpd.GeoDataFrame(geometry=out.geometry[is_point], crs=frame.crs)
        hit = gpd.sjoin(points, lookup.frame, how="left", predicate="within")
        if hit.index.has_duplicates:  # a point on a shared border: keep its first district
            hit = hit[~hit.index.duplicated(keep="first")]
        # Positions into the district tables; -1 (outside every district) picks their last, empty entry.
        pos = hit["index_right"].fillna(-1).to_numpy(dtype=np.int64)
        every = bool(is_point.all())
        for col, table in lookup.columns.items():
            values = table[pos]
            if every:  # object dtype: no conversion of a million strings to Arrow strings
                out[col] = pd.Series(values, index=out.index, dtype=object, copy=False)
            else:
                out.loc[is_point, col] = values
    return out


class _DistrictLookup:
    """Districts for the join, and per-district attribute tables keyed by UBIGEO."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        frame = gazetteer.district_frame()
        self.frame = frame[["geometry"]].reset_index(drop=True)
        self.columns = {col: _table(list(frame[col]) + [None]) for col in ("district", "province")}
        self.columns["departments"] = _table([[d] for d in frame["department"]] + [[]])
        self.columns["zones"] = _table(list(frame["zones"]) + [[]])


def _table(values: list) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def _outlines(gazetteer: Gazetteer, kind: str) -> list[tuple[str, object]]:
    """``(name, footprint)`` of the gazetteer's departments or zones, in its order (that of its frames)."""
    return [(p.name, p.footprint) for p in gazetteer.places.values() if p.kind == kind]


def _join_areas(frame: gpd.GeoDataFrame, gazetteer: Gazetteer) -> gpd.GeoDataFrame:
    deps = _outlines(gazetteer, "department")
    zones = _outlines(gazetteer, "zone")
    cache: dict[str, tuple[list[str], list[str]]] = {}
    for idx in frame.index[frame.geometry.notna() & ~frame.geometry.geom_type.eq("Point")]:
        loc = frame.at[idx, "location_id"]
        if loc not in cache:
            cache[loc] = _area_regions(frame.geometry[idx], frame.at[idx, "geo_precision"], deps, zones)
        dep_names, zone_names = cache[loc]
        places = [gazetteer.get(pid) for pid in frame.at[idx, "place_ids"]]
        # A zone named as the place, or named beside it ("the VRAEM's Huanta province"), holds the incident.
        named = [p.name for p in places if p.kind == "zone"] + [
            gazetteer.get(z).name for z in frame.at[idx, "named_zone_ids"]
            if gazetteer.get(z).footprint.intersects(frame.geometry[idx])]
        frame.at[idx, "departments"] = dep_names
        frame.at[idx, "zones"] = list(dict.fromkeys(named + zone_names))
        single = places[0] if len(places) == 1 else None
        frame.at[idx, "province"] = single.province if single and single.kind == "province" else None
        frame.at[idx, "district"] = None
    for idx in frame.index[frame.geometry.isna()]:
        frame.at[idx, "departments"] = []
        frame.at[idx, "zones"] = []
    return frame


def _area_regions(geom, precision: str, deps: Sequence[tuple[str, object]],
                  zones: Sequence[tuple[str, object]]) -> tuple[list[str], list[str]]:
    """The departments (sorted) and zones (in order) an area covers; ``deps``, ``zones``: (name, footprint)."""
    if precision == "country":
        return [], []
    area = geom.area or 1.0
    dep_names = sorted(n for n, g in deps
                       if g.intersects(geom) and shapely.intersection(g, geom).area >= DEPARTMENT_SHARE * area)
    zone_names = [n for n, g in zones
                  if g.intersects(geom) and shapely.intersection(g, geom).area >= ZONE_SHARE * area]
    return dep_names, zone_names


def locate_rows(incidents: Sequence[Incident], gazetteer: Gazetteer) -> list[dict]:
    """:func:`locate` for a few incidents, as records, with shapely alone (no pandas, no geopandas).

    One dict per incident: the columns :func:`locate` gives (the incident's fields but ``mentions``, location id,
    precision and name, ``district``, ``province``, ``departments``, ``zones``) and ``geometry``. The same
    rules: a point's district is the first (in the districts' order) whose polygon holds it, as ``sjoin`` keeps
    it; a town outside every polygon keeps the gazetteer's admin names; an area lists the departments and zones
    it covers (:func:`_area_regions`), and the zones it is named in.
    """
    out = []
    areas: dict[str, tuple[list[str], list[str]]] = {}
    for inc in incidents:
        row, geom = _place_columns(inc, gazetteer)
        row.update(district=None, province=None, departments=[], zones=[], geometry=geom)
        if geom is None:
            pass
        elif geom.geom_type == "Point":
            hit = gazetteer._district_tree.query(geom, predicate="within")
            if len(hit):
                dist = gazetteer.places[f"dist:{gazetteer.district_ubigeo[int(hit.min())]}"]
                row.update(district=dist.name, province=dist.province, departments=[dist.department],
                           zones=[gazetteer.places[f"zone:{z}"].name for z, members in gazetteer.zone_members.items()
                                  if dist.id[5:] in members])
            elif "+" not in row["location_id"]:
                place = gazetteer.get(row["location_id"])
                if place.kind == "town" and place.department:  # as _admin_of_points_outside
                    row.update(departments=[place.department], province=place.province, district=place.district)
        else:
            loc = row["location_id"]
            if loc not in areas:
                areas[loc] = _area_regions(geom, row["geo_precision"], _outlines(gazetteer, "department"),
                                           _outlines(gazetteer, "zone"))
            dep_names, zone_names = areas[loc]
            places = [gazetteer.get(pid) for pid in inc.place_ids]
            named = [p.name for p in places if p.kind == "zone"] + [
                gazetteer.get(z).name for z in inc.named_zone_ids if gazetteer.get(z).footprint.intersects(geom)]
            single = places[0] if len(places) == 1 else None
            row.update(departments=list(dep_names), zones=list(dict.fromkeys(named + zone_names)),
                       province=single.province if single and single.kind == "province" else None)
        out.append(row)
    return out


def _district_lookup(gazetteer: Gazetteer) -> _DistrictLookup:
    cached = getattr(gazetteer, "_district_lookup_cache", None)
    if cached is None:
        cached = _DistrictLookup(gazetteer)
        gazetteer._district_lookup_cache = cached
    return cached


def _check_crs(frame: gpd.GeoDataFrame) -> None:
    if frame.crs is None:
        raise ValueError("incident frame has no CRS; expected EPSG:4326 (lon/lat)")
    if frame.crs.to_epsg() != 4326:
        raise ValueError(f"incident frame CRS is {frame.crs.to_string()!r}; expected EPSG:4326 (lon/lat)")
