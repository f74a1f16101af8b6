"""Locate incidents: geometry from the gazetteer, then the admin hierarchy and zones by a spatial join.

``locate()`` is a short pipeline of private steps, after geopandas ``sjoin``: build geometries, join points to
districts (which carry province, department and zones), and overlay area footprints with departments and zones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import Point

from dashboard.extraction import Incident
from dashboard.gazetteer import PRECISION, PRECISION_NAMES, Gazetteer

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
    return _join_areas(frame, gazetteer)


def _frame(incidents: Sequence[Incident], gazetteer: Gazetteer) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for inc in incidents:
        row = asdict(inc)
        row.pop("mentions", None)
        ids = list(inc.place_ids)
        places = [gazetteer.get(pid) for pid in ids]
        row["location_id"] = "+".join(sorted(ids)) if ids else None
        if not places:
            row["geo_precision"] = None
            row["location_name"] = None
            geoms.append(None)
        else:
            level = max(p.precision for p in places)
            row["geo_precision"] = PRECISION_NAMES[level]
            row["location_name"] = ", ".join(p.name for p in places)
            if len(places) == 1 and level <= PRECISION["district"]:
                geoms.append(Point(places[0].lon, places[0].lat))
            else:
                geoms.append(places[0].footprint if len(places) == 1 else gazetteer.footprint(ids))
        rows.append(row)
    columns = list(Incident.__dataclass_fields__) + ["location_id", "geo_precision", "location_name"]
    columns.remove("mentions")
    data = pd.DataFrame(rows, columns=columns)
    for col in ("killed", "wounded", "count", "quantity_kg", "date", "date_end"):
        data[col] = data[col].astype(object).where(data[col].notna(), None)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)


def join_points(frame: gpd.GeoDataFrame, gazetteer: Gazetteer) -> gpd.GeoDataFrame:
    """Add ``district``, ``province``, ``departments`` and ``zones`` to the point rows by one join on districts."""
    _check_crs(frame)
    districts = _district_lookup(gazetteer)
    out = frame.copy()
    for col, empty in (("district", None), ("province", None), ("departments", None), ("zones", None)):
        if col not in out:
            out[col] = empty
    is_point = out.geometry.geom_type.eq("Point").to_numpy()
    if is_point.any():
        points = out.loc[is_point, ["geometry"]]
        hit = gpd.sjoin(points, districts[["ubigeo", "geometry"]], how="left", predicate="within")
        hit = hit[~hit.index.duplicated(keep="first")]
        attrs = districts.set_index("ubigeo")
        ub = hit["ubigeo"]
        out.loc[is_point, "district"] = ub.map(attrs["district"]).to_numpy()
        out.loc[is_point, "province"] = ub.map(attrs["province"]).to_numpy()
        deps = ub.map(attrs["department"])
        out.loc[is_point, "departments"] = pd.Series([[d] if isinstance(d, str) else [] for d in deps],
                                                     dtype=object).to_numpy()
        zones = ub.map(attrs["zones"])
        out.loc[is_point, "zones"] = pd.Series([z if isinstance(z, list) else [] for z in zones],
                                               dtype=object).to_numpy()
    return out


def _join_areas(frame: gpd.GeoDataFrame, gazetteer: Gazetteer) -> gpd.GeoDataFrame:
    deps = gazetteer.department_frame()
    zones = gazetteer.zone_frame()
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


def _area_regions(geom, precision: str, deps: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) \
        -> tuple[list[str], list[str]]:
    if precision == "country":
        return [], []
    area = geom.area or 1.0
    dep_hits = deps[deps.intersects(geom)]
    dep_names = sorted(n for n, g in zip(dep_hits["name"], dep_hits.geometry, strict=True)
                       if shapely.intersection(g, geom).area >= DEPARTMENT_SHARE * area)
    zone_hits = zones[zones.intersects(geom)]
    zone_names = [n for n, g in zip(zone_hits["name"], zone_hits.geometry, strict=True)
                  if shapely.intersection(g, geom).area >= ZONE_SHARE * area]
    return dep_names, zone_names


def _district_lookup(gazetteer: Gazetteer) -> gpd.GeoDataFrame:
    cached = getattr(gazetteer, "_district_lookup_cache", None)
    if cached is None:
        cached = gazetteer.district_frame()
        gazetteer._district_lookup_cache = cached
    return cached


def _check_crs(frame: gpd.GeoDataFrame) -> None:
    if frame.crs is None:
        raise ValueError("incident frame has no CRS; expected EPSG:4326 (lon/lat)")
    if frame.crs.to_epsg() != 4326:
        raise ValueError(f"incident frame CRS is {frame.crs.to_string()!r}; expected EPSG:4326 (lon/lat)")
