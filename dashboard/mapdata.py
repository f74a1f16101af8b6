"""The dashboard map's data: filtered incidents as one compact JSON document that the browser draws.

The map in the dashboard is drawn once (Leaflet, :mod:`dashboard.assets` serves it from ``static/``); a filter
change sends it only this document, and it redraws the incident layers in place, keeping zoom and position. The
basemap (outlines and place names) is a separate static file, :func:`basemap`, fetched once.

Every text that comes from an article or a review is hostile. Popups are HTML escaped here (the browser sets them
as ``innerHTML``); tooltips and labels are plain text (the browser puts them into text nodes). The document
reaches the page only as JSON data, never as JavaScript source.

Core module: no Streamlit. Words come from :mod:`dashboard.i18n` in the language passed in.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import escape, i18n
from dashboard.mapview import (
    _POPUP_COLUMNS,
    AREA_POPUP_ROWS,
    MAX_AGGREGATES,
    MAX_MARKERS,
    PERU_BOUNDS,
    SHADES,
    glyph_svg,
    popup_html,
    tooltip_text,
)
from dashboard.taxonomy import incident_types

esc = escape.html_text

#: Tile layers that need the internet; ``offline`` is outlines only. URL templates and their attributions.
TILES: dict[str, tuple[str, str] | None] = {
    "offline": None,
    "OpenStreetMap": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors"),
    "CartoDB Positron": ("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png",
                         "© OpenStreetMap contributors © CARTO"),
}
#: Beyond this many (item, time bin) pairs, playback bins by month instead of by day.
MAX_DAY_BINS = 60_000
_EPOCH = np.datetime64("1970-01-01", "D")
_TEXT_KEYS = ["layer_outlines", "layer_zones", "layer_labels", "layer_shading", "layer_heat", "legend_title",
              "legend_area", "legend_shading", "empty", "fit", "wheel_hint", "play", "pause", "step_week",
              "step_month", "mode_cumulative", "mode_window", "time_all", "time_until", "time_window",
              "time_reset"]


@dataclass(frozen=True)
class Columns:
    """What the map reads of a whole incident frame, as arrays: computed once per store and review state.

    A filtered frame keeps the row labels of the frame it came from (:func:`dashboard.query.apply` does), so its
    rows are found here by label and a filter change costs array lookups, not a pass over wide rows.
    """

    index: pd.Index
    type_code: np.ndarray  #: index into the taxonomy's types; -1 for a type it lacks
    shape: np.ndarray  #: 0 no place, 1 point, 2 area
    x: np.ndarray  #: a point's longitude (NaN for areas)
    y: np.ndarray
    day: np.ndarray  #: days since 1970-01-01 of the first date; -1 when undated
    district: np.ndarray  #: codes into ``district_labels`` ("district (province)"); -1 for none
    district_labels: np.ndarray
    province: np.ndarray  #: codes into ``province_labels``; -1 for none
    province_labels: np.ndarray
    location: np.ndarray  #: codes into ``location_ids``
    location_ids: np.ndarray
    location_bounds: np.ndarray  #: (minx, miny, maxx, maxy) of each location's footprint
    dep_rows: np.ndarray  #: for every (row, department) pair: the row ...
    dep_codes: np.ndarray  #: ... and the department, a code into ``dep_names``
    dep_names: np.ndarray


def columns(frame: gpd.GeoDataFrame) -> Columns:
    """The map's arrays of ``frame`` (see :class:`Columns`)."""
    n = len(frame)
    geoms = np.asarray(frame.geometry.array, dtype=object) if n else np.zeros(0, object)
    kind = shapely.get_type_id(geoms)
    shape = np.where(kind < 0, 0, np.where(kind == 0, 1, 2)).astype("int8")
    shape[shapely.is_empty(geoms)] = 0
    district = frame["district"] if "district" in frame else pd.Series(None, index=frame.index, dtype=object)
    province = frame["province"] if "province" in frame else pd.Series(None, index=frame.index, dtype=object)
    # districts of one name lie in several provinces: the province is part of a district's key and label
    dist_key = district.astype("string") + " (" + province.fillna("?").astype("string") + ")"
    dist_codes, dist_labels = pd.factorize(dist_key.to_numpy(dtype=object))
    prov_codes, prov_labels = pd.factorize(province.to_numpy(dtype=object))
    loc_codes, loc_ids = pd.factorize(frame["location_id"].fillna("").to_numpy(dtype=object)) if n \
        else (np.zeros(0, "int64"), np.zeros(0, object))
    loc_bounds = np.full((len(loc_ids), 4), np.nan)
    if n:
        first = pd.Series(np.arange(n)).groupby(loc_codes).first().to_numpy() if len(loc_ids) else []
        loc_bounds[:] = shapely.bounds(geoms[first])
    lists = frame["departments"].to_numpy(dtype=object) if "departments" in frame else np.empty(n, object)
    lengths = np.fromiter((len(v) if isinstance(v, (list, tuple, np.ndarray)) else 0 for v in lists), "int64", n)
    flat = [d for v in lists if isinstance(v, (list, tuple, np.ndarray)) for d in v]
    dep_codes, dep_names = pd.factorize(np.asarray(flat, dtype=object)) if flat \
        else (np.zeros(0, "int64"), np.zeros(0, object))
    return Columns(
        index=frame.index, type_code=pd.Index(list(incident_types())).get_indexer(frame["type"].to_numpy(object)),
        shape=shape, x=shapely.get_x(geoms), y=shapely.get_y(geoms), day=_days(frame["date"]),
        district=np.where(district.isna().to_numpy(), -1, dist_codes), district_labels=np.asarray(dist_labels),
        province=prov_codes, province_labels=np.asarray(prov_labels), location=loc_codes,
        location_ids=np.asarray(loc_ids), location_bounds=loc_bounds,
        dep_rows=np.repeat(np.arange(n), lengths), dep_codes=dep_codes, dep_names=np.asarray(dep_names))


def payload(frame: gpd.GeoDataFrame, *, cols: Columns | None = None, lang: str = i18n.DEFAULT,
            shade: bool = False, basemap: str = "offline", playback: bool = False,
            max_markers: int = MAX_MARKERS) -> dict:
    """The map document of the filtered incidents ``frame`` (EPSG:4326, as loaded from the store).

    Point incidents are drawn one by one up to ``max_markers`` (the browser clusters them), beyond that as one
    circle per district (per province when the districts are too many). Area incidents are one footprint and one
    "somewhere in" marker per type and place. ``playback`` adds what the time slider needs: each item's incidents
    per day (per month for large selections). ``cols`` are the :func:`columns` of the frame ``frame`` was
    filtered from (computed here when not given). Keys are short: the document crosses the websocket on every
    change.
    """
    if basemap not in TILES:
        raise ValueError(f"unknown basemap {basemap!r}; choose one of {sorted(TILES)}")
    lang = i18n.language(lang)
    cols = cols if cols is not None else columns(frame)
    pos = cols.index.get_indexer(frame.index)
    if (pos < 0).any():
        raise ValueError("the frame has rows that its columns do not: pass the columns of the frame it came from")
    types = incident_types()
    t, shp = cols.type_code[pos], cols.shape[pos]
    drawn = np.flatnonzero((shp > 0) & (t >= 0))  # positions in ``frame``
    points, areas = drawn[shp[drawn] == 1], drawn[shp[drawn] == 2]
    aggregate = len(points) > max_markers
    bins = "month" if playback and aggregate else "day"  # one bin per day only for a modest selection
    chosen = np.zeros(len(cols.index), bool)
    chosen[pos] = True
    deps = np.bincount(cols.dep_codes[chosen[cols.dep_rows]], minlength=len(cols.dep_names))
    doc: dict = {
        "lang": lang,
        "types": [{"key": k, "label": kind.label_in(lang), "colour": kind.colour, "glyph": glyph_svg(kind, 14)}
                  for k, kind in types.items()],
        "texts": {k: i18n.text(f"map.{k}", lang) for k in _TEXT_KEYS},
        "tiles": TILES[basemap],
        "shade": bool(shade),
        "shades": SHADES,
        "playback": bool(playback),
        "bins": bins,
        "total": len(frame),
        "drawn": len(drawn),
        "bounds": _bounds(cols, pos[points], pos[areas]),
        "counts": [int(n) for n in np.bincount(t[drawn], minlength=len(types))],
        "departments": {str(k): int(v) for k, v in zip(cols.dep_names, deps, strict=True) if v},
        "points": [], "aggregates": [], "areas": [], "shapes": {},
    }
    if not len(drawn) and len(frame):
        doc["texts"]["empty"] = i18n.text("map.empty_unplaced", lang, n=i18n.number(len(frame), lang))
    if aggregate:
        doc["aggregates"], level = _aggregates(cols, pos[points], lang, playback, bins)
        doc["level"] = i18n.text(f"map.level_{level}", lang)
        doc["texts"]["legend_aggregated"] = i18n.text("map.legend_aggregated", lang, level=doc["level"])
    else:
        doc["points"] = _points(frame, points, cols, pos[points], types, lang)
    doc["areas"], doc["shapes"] = _areas(frame, areas, cols, pos[areas], types, lang, playback, bins)
    return doc


def _bounds(cols: Columns, points: np.ndarray, areas: np.ndarray) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of the drawn incidents (Peru's when none), as :func:`mapview.bounds`."""
    boxes = cols.location_bounds[np.unique(cols.location[areas])] if len(areas) else np.zeros((0, 4))
    xs = np.concatenate([cols.x[points], boxes[:, 0], boxes[:, 2]])
    ys = np.concatenate([cols.y[points], boxes[:, 1], boxes[:, 3]])
    if not len(xs) or np.isnan(xs).all():
        return PERU_BOUNDS
    minx, miny, maxx, maxy = np.nanmin(xs), np.nanmin(ys), np.nanmax(xs), np.nanmax(ys)
    pad = 1.0 if (maxx - minx) < 1 and (maxy - miny) < 1 else 0.0  # context around a lone point
    return [[float(miny) - pad, float(minx) - pad], [float(maxy) + pad, float(maxx) + pad]]


def dumps(doc: Mapping) -> tuple[str, str]:
    """The document as compact JSON and a short digest of it (the browser redraws only when the digest changes)."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text, hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _days(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of ISO dates; -1 for no date (playback leaves those out)."""
    parsed = pd.to_datetime(dates, errors="coerce", format="ISO8601").to_numpy(dtype="datetime64[D]")
    out = (parsed - _EPOCH).astype("int64")
    out[np.isnat(parsed)] = -1
    return out


def _month_start(days: np.ndarray) -> np.ndarray:
    """The first day of each day's month (days since 1970), -1 kept."""
    months = (days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]") - _EPOCH).astype("int64")
    return np.where(days < 0, -1, months)


def _histograms(group: np.ndarray, days: np.ndarray, groups: int, bins: str) -> list[list[list[int]]]:
    """Per group ``[[bin start day, incidents], ...]`` of its dated incidents, in date order."""
    dated = days >= 0
    group, days = group[dated], days[dated]
    if bins == "month":
        days = _month_start(days)
    key = group.astype("int64") * 1_000_000 + days  # days since 1970 stay far below a million
    values, counts = np.unique(key, return_counts=True)
    out: list[list[list[int]]] = [[] for _ in range(groups)]
    for v, c in zip(values.tolist(), counts.tolist(), strict=True):
        out[v // 1_000_000].append([v % 1_000_000, c])
    return out


def _records(frame: gpd.GeoDataFrame, rows: np.ndarray) -> list[dict]:
    """The rows (positions in ``frame``) as dicts of the columns popups and tooltips read."""
    keep = [c for c in dict.fromkeys(_POPUP_COLUMNS + ["id", "language"]) if c in frame.columns]
    return pd.DataFrame(frame.iloc[rows][keep]).to_dict("records")


def _points(frame: gpd.GeoDataFrame, rows: np.ndarray, cols: Columns, at: np.ndarray, types, lang: str) -> list:
    """``[lat, lon, type index, id, day, popup HTML, tooltip text]`` per point incident."""
    if not len(rows):
        return []
    return [[round(float(y), 5), round(float(x), 5), int(t), escape.text(r.get("id")), int(d),
             popup_html(r, types, lang, review_link=True), tooltip_text(r, lang)]
            for r, x, y, t, d in zip(_records(frame, rows), cols.x[at], cols.y[at], cols.type_code[at],
                                     cols.day[at], strict=True)]


def _aggregates(cols: Columns, at: np.ndarray, lang: str, playback: bool, bins: str) -> tuple[list, str]:
    """One circle per type and district (per province when districts are too many).

    Each is ``[lat, lon, type, n, tooltip, histogram]``; the level is returned beside them.
    """
    district = cols.district[at]
    level = "district" if len(np.unique(district)) <= MAX_AGGREGATES else "province"
    codes, labels = (district, cols.district_labels) if level == "district" else \
        (cols.province[at], cols.province_labels)
    width = len(labels) + 1  # code -1 (no district or province) becomes the last: "?"
    combo = cols.type_code[at].astype("int64") * width + np.where(codes < 0, width - 1, codes)
    keys, group, n = np.unique(combo, return_inverse=True, return_counts=True)
    x = np.bincount(group, weights=cols.x[at]) / n
    y = np.bincount(group, weights=cols.y[at]) / n
    days = pd.Series(np.where(cols.day[at] >= 0, cols.day[at], np.nan))
    first, last = _iso(days.groupby(group).min().to_numpy()), _iso(days.groupby(group).max().to_numpy())
    hists = _histograms(group, cols.day[at], len(keys), bins) if playback else [[] for _ in keys]
    out = []
    for k, count, lon, lat, d0, d1, hist in zip(keys.tolist(), n.tolist(), x, y, first, last, hists, strict=True):
        code = k % width
        place = escape.text(labels[code]) if code < len(labels) else "?"
        tip = i18n.text("map.agg_tooltip", lang, place=place, n=_number(count, lang), first=d0, last=d1)
        out.append([round(float(lat), 4), round(float(lon), 4), k // width, count, tip, hist])
    return out, level


def _iso(days: np.ndarray) -> list[str]:
    """ISO dates of days since 1970 (NaN: ``?``)."""
    text = np.datetime_as_string(_EPOCH + np.nan_to_num(days, nan=0).astype("int64"), unit="D")
    return np.where(np.isnan(days), "?", text).tolist()


@functools.lru_cache(maxsize=4096)
def _number(value: int, lang: str) -> str:
    """:func:`dashboard.i18n.number`, remembered: the same small counts recur in every document."""
    return i18n.number(value, lang)


def _areas(frame: gpd.GeoDataFrame, rows: np.ndarray, cols: Columns, at: np.ndarray, types, lang: str,
           playback: bool, bins: str) -> tuple[list, dict]:
    """Area incidents per type and place, and each place's simplified footprint by id.

    Each is ``[place id, type, n, lat, lon, popup, tooltip, footprint tooltip, histogram]``; a footprint is sent
    once per place, whatever the types there. A popup lists the earliest :data:`AREA_POPUP_ROWS` incidents.
    """
    if not len(rows):
        return [], {}
    keys_list = list(types)
    width = len(keys_list)
    combo = cols.location[at].astype("int64") * width + cols.type_code[at]
    keys, group, n = np.unique(combo, return_inverse=True, return_counts=True)
    day = cols.day[at]
    order = np.lexsort((np.where(day >= 0, day, np.iinfo("int64").max), group))  # by place and type, then date
    starts = np.searchsorted(group[order], np.arange(len(keys)))
    shown = [order[s:s + min(c, AREA_POPUP_ROWS)] for s, c in zip(starts, n, strict=True)]
    records = _records(frame, rows[np.concatenate(shown)])
    hists = _histograms(group, day, len(keys), bins) if playback else [[] for _ in keys]
    out, shapes, taken = [], {}, 0
    for k, total, picks, hist in zip(keys.tolist(), n.tolist(), shown, hists, strict=True):
        kind = types[keys_list[k % width]]
        loc_id = str(cols.location_ids[k // width])
        part = records[taken:taken + len(picks)]
        taken += len(picks)
        geom = frame.geometry.iloc[rows[picks[0]]]
        name = escape.text(part[0].get("location_name")) or loc_id
        if loc_id not in shapes:
            shapes[loc_id] = _footprint(loc_id, geom)
        label = kind.label_in(lang)
        body = "".join(popup_html(r, types, lang, review_link=True) for r in part)
        if total > AREA_POPUP_ROWS:
            body += f"<div>{esc(i18n.text('map.and_more', lang, n=_number(total - AREA_POPUP_ROWS, lang)))}</div>"
        head = (f"<div class='im-area-head'>"
                f"{esc(i18n.text('map.area_head', lang, place=name, n=_number(total, lang)))}</div>")
        pt = geom.representative_point()
        tip = i18n.text("map.area_tooltip", lang, place=name, n=_number(total, lang),
                        type=label.lower() if lang == "en" else label)
        foot = i18n.text("map.footprint_tooltip", lang, type=label, place=name, n=_number(total, lang))
        out.append([loc_id, k % width, total, round(pt.y, 5), round(pt.x, 5), head + body, tip, foot, hist])
    return out, shapes


_FOOTPRINTS: dict[tuple, dict] = {}


def _footprint(loc_id: str, geom) -> dict:
    """A simplified footprint as a GeoJSON geometry, memoised: the same places recur on every change."""
    key = (loc_id, geom.bounds, round(geom.area, 9))
    if key not in _FOOTPRINTS:
        if len(_FOOTPRINTS) > 5000:
            _FOOTPRINTS.clear()
        simple = shapely.set_precision(geom.simplify(0.01, preserve_topology=True), 1e-4)
        _FOOTPRINTS[key] = json.loads(shapely.to_geojson(simple))
    return _FOOTPRINTS[key]


def selected(frame: gpd.GeoDataFrame, iid: str | None, lang: str = i18n.DEFAULT) -> dict | None:
    """Where the incident ``iid`` lies, for the map to highlight and centre it.

    ``{"id", "lat", "lon", "text"}``, or ``None`` when there is no such incident or it has no place.
    """
    if not iid or not len(frame):
        return None
    match = frame[frame["id"].to_numpy() == iid]
    if match.empty or match.geometry.iloc[0] is None or match.geometry.iloc[0].is_empty:
        return None
    geom = match.geometry.iloc[0]
    pt = geom if geom.geom_type == "Point" else geom.representative_point()
    return {"id": str(iid), "lat": round(pt.y, 5), "lon": round(pt.x, 5),
            "text": tooltip_text(match.iloc[0].to_dict(), lang)}


def basemap(departments: gpd.GeoDataFrame, countries: gpd.GeoDataFrame, zones: gpd.GeoDataFrame,
            provinces: gpd.GeoDataFrame | None = None) -> dict:
    """The offline basemap: country and department outlines, zone outlines, and label points.

    Labels are ``[lat, lon, name]``: departments (shown at a country zoom), provinces (when zoomed in) and the
    curated zones (always). Names come from the gazetteer's data, yet the browser still sets them as text.
    """
    def outlines(frame: gpd.GeoDataFrame, tolerance: float) -> dict:
        geoms = shapely.set_precision(frame.geometry.simplify(tolerance, preserve_topology=True).to_numpy(), 1e-4)
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": escape.text(name)},
             "geometry": json.loads(shapely.to_geojson(g))}
            for name, g in zip(frame["name"], geoms, strict=True) if g is not None and not g.is_empty]}

    def labels(frame: gpd.GeoDataFrame | None) -> list:
        if frame is None or not len(frame):
            return []
        pts = frame.geometry.representative_point()
        return [[round(p.y, 3), round(p.x, 3), escape.text(n)] for n, p in zip(frame["name"], pts, strict=True)]

    # the border strips are long and thin: a label at their middle names no place anyone looks for
    zone_labels = labels(zones[~zones["id"].astype(str).str.startswith("zone:border_")] if "id" in zones else zones)
    return {"countries": outlines(countries, 0.02), "departments": outlines(departments, 0.01),
            "zones": outlines(zones, 0.005), "labels": {"departments": labels(departments),
                                                        "provinces": labels(provinces), "zones": zone_labels}}
