"""Build the folium map of incidents: a layer per type, area footprints, region shading, zones, legend.

Pure folium: no Streamlit, no browser; the tests assert on the returned objects and their HTML. Every text that
comes from an article or a review is hostile: popups are HTML escaped here and tooltips are plain text, and both
reach the page only as JSON data (:func:`dashboard.escape.js_json`), never as JavaScript source. folium's own
``Popup`` and ``Tooltip`` paste their text into a JavaScript template literal, where ``${...}`` is code, so they
are not used for article text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement, Template
from folium.plugins import FastMarkerCluster

from dashboard import assets, escape, i18n
from dashboard.taxonomy import IncidentType, incident_types

PERU_BOUNDS = [[-18.35, -81.33], [-0.04, -68.65]]
#: Above this many point incidents on the map, markers are aggregated per district instead of drawn one by one.
MAX_MARKERS = 1500
#: Above this many districts in an aggregated layer, aggregate per province instead.
MAX_AGGREGATES = 600
#: Incidents listed in one area popup before "and N more".
AREA_POPUP_ROWS = 8
TILES = {
    "offline": None,
    "OpenStreetMap": ("OpenStreetMap", None),
    "CartoDB Positron": ("CartoDB positron", None),
}

# Small hand-drawn glyphs (white on the type colour), so no icon font is needed offline.
_GLYPHS = {
    "crosshairs": '<circle cx="8" cy="8" r="4.5" fill="none" stroke="white" stroke-width="1.6"/>'
                  '<path d="M8 1v4M8 11v4M1 8h4M11 8h4" stroke="white" stroke-width="1.6"/>',
    "box": '<rect x="3" y="4" width="10" height="9" fill="white"/><path d="M3 7h10" stroke="#0003"/>',
    "flask": '<path d="M6 2h4v4l3.5 7.5H2.5L6 6z" fill="white"/>',
    "plane-slash": '<path d="M8 1.5l1.3 5 4.7 2.2v1.3l-4.7-1-.6 3.3 1.6 1.2v1H5.7v-1l1.6-1.2-.6-3.3-4.7 1V8.7'
                   'l4.7-2.2z" fill="white"/><path d="M2 14L14 2" stroke="white" stroke-width="1.6"/>',
    "handcuffs": '<circle cx="5" cy="9" r="3.2" fill="none" stroke="white" stroke-width="1.6"/>'
                 '<circle cx="11" cy="9" r="3.2" fill="none" stroke="white" stroke-width="1.6"/>'
                 '<path d="M8 9h0" stroke="white"/>',
    "burst": '<path d="M8 1l1.6 4.1L14 4l-2.6 3.6L15 10l-4.3.4L10 15 8 11.3 6 15l-.7-4.6L1 10l3.6-2.4L2 4l4.4 1.1z" '
             'fill="white"/>',
    "leaf": '<path d="M3 13C3 6 8 3 14 3c0 6-3 11-10 11z" fill="white"/><path d="M3 13l6-6" stroke="#0004"/>',
}
_DEFAULT_GLYPH = '<circle cx="8" cy="8" r="4" fill="white"/>'


esc = escape.html_text


def glyph_svg(kind: IncidentType, size: int = 16) -> str:
    """The type's glyph as inline SVG."""
    return (f'<svg width="{size}" height="{size}" viewBox="0 0 16 16" aria-hidden="true">'
            f"{_GLYPHS.get(kind.icon, _DEFAULT_GLYPH)}</svg>")


def _marker_icon(kind: IncidentType) -> folium.DivIcon:
    return folium.DivIcon(
        html=f'<div class="im-pin" style="background:{esc(kind.colour)}">{glyph_svg(kind, 14)}</div>',
        icon_size=(22, 22), icon_anchor=(11, 11), class_name="im-icon")


def _area_icon(kind: IncidentType, count: int) -> folium.DivIcon:
    return folium.DivIcon(
        html=f'<div class="im-area" style="border-color:{esc(kind.colour)};color:{esc(kind.colour)}">'
             f"≈{count if count > 1 else ''}</div>",
        icon_size=(26, 26), icon_anchor=(13, 13), class_name="im-icon")


def date_text(row: Mapping, lang: str = i18n.DEFAULT) -> str:
    """``2016-09-03 – 2016-09-07``, ``2017-06 (month)``, or ``date unknown`` (ISO dates read the same everywhere)."""
    start, end, prec = row.get("date"), row.get("date_end"), row.get("date_precision")
    if not start or not isinstance(start, str):
        return i18n.text("map.date_unknown", lang)
    if prec == "month":
        return i18n.text("map.date_month", lang, month=start[:7])
    if prec == "year":
        return i18n.text("map.date_year", lang, year=start[:4])
    if isinstance(end, str) and end and end != start:
        return f"{start} – {end}"
    return str(start)


def figures_text(row: Mapping, lang: str = i18n.DEFAULT) -> str:
    """Killed/wounded, quantity and count of one incident, as plain text."""
    parts = []
    for col in ("killed", "wounded"):
        if _present(row.get(col)):
            parts.append(i18n.text(f"map.{col}", lang, n=i18n.number(int(row[col]), lang)))
    if _present(row.get("quantity_kg")):
        kg = i18n.number(round(float(row["quantity_kg"])), lang)
        substance = _text(row, "substance")
        parts.append(i18n.text("map.kg_of", lang, n=kg, substance=substance) if substance
                     else i18n.text("map.kg", lang, n=kg))
    if _present(row.get("count")):
        key = {"arrest": "map.count_arrest", "eradication": "map.count_eradication"}.get(row.get("type"),
                                                                                        "map.count_other")
        parts.append(i18n.text(key, lang, n=i18n.number(int(row["count"]), lang)))
    return ", ".join(parts)


def _present(value) -> bool:
    return value is not None and value is not pd.NA and not (isinstance(value, float) and pd.isna(value))


def popup_html(row: Mapping, types: Mapping[str, IncidentType] | None = None, lang: str = i18n.DEFAULT,
               review_link: bool = False) -> str:
    """The popup of one incident: type, date, place, figures, actors, evidence and source, all escaped.

    The source is a link only for an http(s) URL; missing parts (no outlet, no date) leave no stray punctuation.
    ``review_link`` adds a button that opens the incident in the dashboard's table (its id in ``data-id``).
    """
    t = i18n.translator(lang)
    types = types or incident_types()
    kind = types.get(row.get("type"))
    label = kind.label_in(lang) if kind else _text(row, "type")
    where = _text(row, "place") or _text(row, "location_name") or t("map.place_unknown")
    if row.get("geo_precision") not in (None, "point", "district"):
        where = t("map.somewhere_in", place=_text(row, "location_name") or where)
    source = escape.link(row.get("url"), esc(_text(row, "title") or _text(row, "article")))
    outlet = ", ".join(esc(x) for x in (_text(row, "outlet"), _text(row, "published")) if x)
    actors = [escape.text(a) for a in _items(row.get("actors"))]
    lines = [
        f'<div class="im-popup"><b style="color:{esc(kind.colour if kind else "#333")}">{esc(label)}</b>',
        f"<div>{esc(date_text(row, lang))} · {esc(where)}</div>",
    ]
    figures = figures_text(row, lang)
    if figures:
        lines.append(f"<div><b>{esc(figures)}</b></div>")
    if any(actors):
        lines.append(f"<div>{esc(t('map.actors', actors=', '.join(a for a in actors if a)))}</div>")
    if _text(row, "reported_by"):
        lines.append(f"<div>{esc(t('map.reported_by', outlet=_text(row, 'reported_by')))}</div>")
    language = f" lang='{esc(_text(row, 'language'))}'" if _text(row, "language") else ""
    lines.append(f"<blockquote{language}>“{esc(row.get('evidence'))}”</blockquote>")
    # the source is HTML already escaped above: the template's own words are escaped around it
    head, _, tail = t("map.source", source="\0").partition("\0")
    lines.append(f"<div class='im-src'>{esc(head)}{source}{' (' + outlet + ')' if outlet else ''}{esc(tail)}</div>")
    if _text(row, "language"):
        lines.append(f"<div class='im-src'>{esc(t('map.article_language', code=_text(row, 'language')))}</div>")
    others = [s for s in _items(row.get("sources"))
              if isinstance(s, Mapping) and s.get("article") != row.get("article")]
    if others:
        items = "".join(f"<li>{esc(_text(s, 'title') or _text(s, 'article'))}"
                        f"{' (' + esc(_text(s, 'published')) + ')' if _text(s, 'published') else ''}</li>"
                        for s in others)
        lines.append(f"<div class='im-src'>{esc(t('map.also_reported', n=len(others)))}<ul>{items}</ul></div>")
    if review_link and _text(row, "id"):
        lines.append(f'<button type="button" class="im-review" data-id="{esc(_text(row, "id"))}">'
                     f"{esc(t('map.open_review'))}</button>")
    lines.append("</div>")
    return "".join(lines)


def _text(row: Mapping, key: str) -> str:
    """A field as text, ``""`` when missing (None, NaN, NA: a store row has NaN where an outlet is unknown)."""
    return escape.text(row.get(key)).strip()


def _items(value) -> list:
    """A list-valued field (actors, sources) as a list, whether None, NaN, a list or a numpy array."""
    if value is None or isinstance(value, (str, float)) or value is pd.NA:
        return []
    return list(value)


def tooltip_text(row: Mapping, lang: str = i18n.DEFAULT) -> str:
    """One line for a tooltip, as plain text: the map puts it into a text node, so it is never parsed as HTML."""
    types = incident_types()
    kind = types.get(row.get("type"))
    return (f"{kind.label_in(lang) if kind else _text(row, 'type')} · {date_text(row, lang)} · "
            f"{_text(row, 'place') or _text(row, 'location_name') or i18n.text('map.place_unknown', lang)}")


class BoundContent(MacroElement):
    """A popup or tooltip bound to its parent layer, its content passed as a JSON string.

    ``popup`` content is HTML that the caller has escaped (Leaflet sets it as ``innerHTML``); ``tooltip`` content
    is plain text, set as a text node. Neither is ever JavaScript source: see the module docstring.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.{{ this.method }}({{ this.content_js }}, {{ this.options_js }});
        {% endmacro %}
    """)

    def __init__(self, kind: str, content: str, **options) -> None:
        super().__init__()
        if kind not in ("popup", "tooltip"):
            raise ValueError(f"kind must be 'popup' or 'tooltip', not {kind!r}")
        self._name = "BoundContent"
        self.kind, self.content = kind, content
        self.method = "bindPopup" if kind == "popup" else "bindTooltip"
        self.data_js = escape.js_json(content)
        self.content_js = self.data_js if kind == "popup" else f"{_TEXT_NODE_JS}({self.data_js})"
        self.options_js = escape.js_json(options)


# A function that wraps plain text in a <div> as a text node (Leaflet accepts an element as content).
_TEXT_NODE_JS = "(function (t) { var d = document.createElement('div'); d.textContent = t; return d; })"


def build_map(frame: gpd.GeoDataFrame, *, departments: gpd.GeoDataFrame | None = None,
              zones: gpd.GeoDataFrame | None = None, countries: gpd.GeoDataFrame | None = None,
              choropleth: bool = False, basemap: str = "offline", asset_base: str | None = assets.STREAMLIT_BASE,
              max_markers: int = MAX_MARKERS, height: str = "100%", lang: str = i18n.DEFAULT) -> folium.Map:
    """Build the incident map (the standalone HTML export; the dashboard draws :mod:`dashboard.mapdata`).

    Parameters
    ----------
    frame
        Incidents (already filtered), EPSG:4326, as loaded from the store.
    departments, zones, countries
        Region outlines: department shading and the offline basemap, zone outlines, country outlines.
    choropleth
        Show departments shaded by the number of incidents (the layer is there either way, toggled off).
    basemap
        ``"offline"`` (outlines only, no tile server) or a key of :data:`TILES`.
    asset_base
        URL folder of the local Leaflet files; ``None`` keeps folium's CDN links (for a page that is online).
    lang
        Interface language of every word on the map.
    """
    if basemap not in TILES:
        raise ValueError(f"unknown basemap {basemap!r}; choose one of {sorted(TILES)}")
    m = folium.Map(location=[-9.2, -75.0], zoom_start=5, tiles=None, control_scale=False, prefer_canvas=True,
                   height=height)
    _MetricScale().add_to(m)
    # folium puts max/min zoom on tile layers only; MarkerCluster needs the map's own when there is none.
    m.options.update({"maxZoom": 18, "minZoom": 3})
    if asset_base:
        local = assets.urls(asset_base)
        m.default_js = [("leaflet", local["leaflet.js"]), ("jquery", local["jquery.min.js"])]
        m.default_css = [("leaflet_css", local["leaflet.css"])]
    if basemap != "offline":
        name, _ = TILES[basemap]
        folium.TileLayer(name, name=basemap, control=False).add_to(m)
    _offline_outlines(m, countries, departments, lang)
    if departments is not None:  # under the incident layers, so footprints stay visible on the shading
        _choropleth(m, frame, departments, show=choropleth, lang=lang)
    types = incident_types()
    # Only the columns the map reads: slicing a wide frame per type and layer is what costs at 100,000 rows.
    keep = [c for c in dict.fromkeys(_POPUP_COLUMNS + ["id", "district", "province", "location_id"])
            if c in frame.columns]
    located = frame.loc[frame.geometry.notna().to_numpy(), keep + [frame.geometry.name]] if len(frame) else frame
    is_point = (located.geometry.geom_type == "Point").to_numpy() if len(located) else None
    # One budget for the whole map: beyond it every type is aggregated, so the page stays small and quick.
    aggregate = bool(len(located)) and int(is_point.sum()) > max_markers
    for key, kind in types.items():
        mask = (located["type"] == key).to_numpy() if len(located) else None
        if mask is None or not mask.any():
            continue
        # the layer control sets names as innerHTML
        group = folium.FeatureGroup(name=esc(f"{kind.label_in(lang)} ({int(mask.sum())})"), show=True).add_to(m)
        points = located[mask & is_point]
        if aggregate:
            _aggregate_points(group, points, kind, lang)
        else:
            _add_points(group, points, kind, asset_base, lang)
        _add_areas(group, located[mask & ~is_point], kind, lang)
    if zones is not None:
        _zones(m, zones, lang)
    # the legend counts what the layer list counts: the incidents drawn (an incident with no place is not)
    _legend(types, {k: int((located["type"] == k).sum()) for k in types} if len(located) else {}, lang).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    m.fit_bounds(bounds(located))
    return m


def bounds(frame: gpd.GeoDataFrame) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of the incidents, or Peru's when there are none."""
    if not len(frame):
        return PERU_BOUNDS
    minx, miny, maxx, maxy = frame.total_bounds
    if any(pd.isna([minx, miny, maxx, maxy])):
        return PERU_BOUNDS
    pad = 1.0 if (maxx - minx) < 1 and (maxy - miny) < 1 else 0.0  # context around a lone point
    return [[float(miny) - pad, float(minx) - pad], [float(maxy) + pad, float(maxx) + pad]]


def _add_points(group, points: gpd.GeoDataFrame, kind: IncidentType, asset_base, lang: str) -> None:
    """Point incidents as clustered markers built in the browser from one data array."""
    if not len(points):
        return
    rows = [[geom.y, geom.x, popup_html(row, lang=lang), tooltip_text(row, lang)]
            for row, geom in zip(points.to_dict("records"), points.geometry, strict=True)]
    icon = escape.js_json(f'<div class="im-pin" style="background:{esc(kind.colour)}">{glyph_svg(kind, 14)}</div>')
    # row = [lat, lon, popup HTML (escaped in Python), tooltip (plain text)], passed as JSON data (tojson): the
    # popup becomes innerHTML, the tooltip a text node, and neither is ever evaluated as code
    callback = ("function (row) { var m = L.marker(new L.LatLng(row[0], row[1]), {icon: L.divIcon({html: "
                f"{icon}, className: 'im-icon', iconSize: [22, 22], iconAnchor: [11, 11]}})}}); "
                "m.bindPopup(row[2], {maxWidth: 360}); "
                f"m.bindTooltip(function () {{ return {_TEXT_NODE_JS}(row[3]); }}); return m; }}")
    cluster = FastMarkerCluster(rows, callback=callback, name=esc(kind.label_in(lang)), control=False,
                                options={"maxClusterRadius": 40})
    if asset_base:
        local = assets.urls(asset_base)
        cluster.default_js = [("markerclusterjs", local["leaflet.markercluster.js"])]
        cluster.default_css = [("markerclustercss", local["MarkerCluster.css"]),
                               ("markerclusterdefaultcss", local["MarkerCluster.Default.css"])]
    cluster.add_to(group)


def _aggregate_points(group, points: gpd.GeoDataFrame, kind: IncidentType, lang: str) -> None:
    """Many incidents: one circle per district (per province when districts are too many), with the count."""
    if not len(points):
        return
    level = "district" if points["district"].nunique() <= MAX_AGGREGATES else "province"
    data = pd.DataFrame({"key": points[level].fillna("?").to_numpy(dtype=object),
                         "province": points["province"].fillna("?").to_numpy(dtype=object),
                         "x": points.geometry.x.to_numpy(), "y": points.geometry.y.to_numpy(),
                         "date": points["date"].to_numpy(dtype=object)})
    agg = data.groupby(["key", "province"], sort=False).agg(
        n=("x", "size"), x=("x", "mean"), y=("y", "mean"), first=("date", "min"), last=("date", "max"))
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(x, 4), round(y, 4)]},
                 "properties": {"n": int(n), "label": esc(key if level == "province" else f"{key} ({prov})"),
                                "span": esc(f"{first or '?'} – {last or '?'}")}}
                for (key, prov), n, x, y, first, last in zip(agg.index, agg["n"], agg["x"], agg["y"],
                                                             agg["first"], agg["last"], strict=True)]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        marker=folium.CircleMarker(radius=6, fill=True, fill_opacity=0.6, weight=1, color=kind.colour,
                                   fill_color=kind.colour),
        # circle area grows with the count, within bounds that keep small places visible
        style_function=lambda f: {"radius": min(22.0, 3.0 + 1.2 * f["properties"]["n"] ** 0.5)},
        tooltip=folium.GeoJsonTooltip(["label", "n", "span"], aliases=[
            esc(i18n.text(f"map.level_{level}", lang).capitalize()), esc(i18n.text("map.tooltip_incidents", lang)),
            esc(i18n.text("map.tooltip_dates", lang))]),
        name=esc(kind.label_in(lang)), control=False,
    ).add_to(group)


def _add_areas(group, areas: gpd.GeoDataFrame, kind: IncidentType, lang: str) -> None:
    """Area-level incidents: the footprint drawn once per place, with a marker that says "somewhere in"."""
    if not len(areas):
        return
    for loc_id, part in areas.groupby("location_id", sort=True):
        geom = part.geometry.iloc[0]
        name = escape.text(part["location_name"].iloc[0]) or loc_id
        footprint = folium.GeoJson(
            _footprint_geojson(loc_id, geom),
            style_function=lambda _f, c=kind.colour: {"color": c, "weight": 2, "dashArray": "6 4",
                                                      "fillColor": c, "fillOpacity": 0.08},
            control=False,
        ).add_to(group)
        label = kind.label_in(lang)
        footprint.add_child(BoundContent("tooltip", i18n.text("map.footprint_tooltip", lang, type=label, place=name,
                                                              n=len(part)), sticky=True))
        total = len(part)
        first = np.argsort(part["date"].fillna("9999").to_numpy(dtype=str), kind="stable")[:AREA_POPUP_ROWS]
        cols = [c for c in _POPUP_COLUMNS if c in part.columns]
        shown = pd.DataFrame(part[cols].iloc[first]).to_dict("records")
        body = "".join(popup_html(r, lang=lang) for r in shown)
        if total > AREA_POPUP_ROWS:
            body += f"<div>{esc(i18n.text('map.and_more', lang, n=total - AREA_POPUP_ROWS))}</div>"
        head = f"<div class='im-area-head'>{esc(i18n.text('map.area_head', lang, place=name, n=total))}</div>"
        pt = geom.representative_point()
        marker = folium.Marker([pt.y, pt.x], icon=_area_icon(kind, total)).add_to(group)
        marker.add_child(BoundContent("popup", head + body, maxWidth=380))
        marker.add_child(BoundContent("tooltip", i18n.text("map.area_tooltip", lang, place=name, n=total,
                                                           type=label.lower() if lang == "en" else label),
                                      sticky=True))


_FOOTPRINTS: dict[tuple, dict] = {}
# What popup_html reads: selecting these first keeps popups of large areas cheap.
_POPUP_COLUMNS = ["type", "date", "date_end", "date_precision", "place", "location_name", "geo_precision", "title",
                  "article", "url", "outlet", "published", "actors", "reported_by", "evidence", "killed", "wounded",
                  "quantity_kg", "substance", "count", "sources"]


def _footprint_geojson(loc_id: str, geom) -> dict:
    """A simplified footprint as GeoJSON, memoised: the same places recur on every rerun."""
    key = (loc_id, geom.bounds, round(geom.area, 9))
    if key not in _FOOTPRINTS:
        if len(_FOOTPRINTS) > 5000:
            _FOOTPRINTS.clear()
        simple = geom.simplify(0.01, preserve_topology=True)
        _FOOTPRINTS[key] = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(simple))}]}
    return _FOOTPRINTS[key]


def _geojson(frame: gpd.GeoDataFrame, columns: list[str]) -> dict:
    """The frame as a GeoJSON dict, memoised on the frame: outlines are the same on every rerun."""
    key = "_geojson_" + "_".join(columns)
    if key not in frame.attrs:
        frame.attrs[key] = json.loads(frame[columns + ["geometry"]].to_json())
    return frame.attrs[key]


def _offline_outlines(m: folium.Map, countries, departments, lang: str) -> None:
    group = folium.FeatureGroup(name=esc(i18n.text("map.layer_outlines", lang)), show=True).add_to(m)
    if countries is not None:
        folium.GeoJson(_geojson(countries, ["name"]), style_function=lambda _f: {
            "color": "#9aa4ad", "weight": 1, "fillColor": "#eef1f3", "fillOpacity": 1},
            tooltip=folium.GeoJsonTooltip(["name"], labels=False), control=False).add_to(group)
    if departments is not None:
        folium.GeoJson(_geojson(departments, ["name"]), style_function=lambda _f: {
            "color": "#7b8794", "weight": 0.8, "fillColor": "#ffffff", "fillOpacity": 0.6},
            control=False).add_to(group)


def _choropleth(m: folium.Map, frame, departments: gpd.GeoDataFrame, show: bool, lang: str) -> None:
    counts = department_counts(frame)
    shaded = json.loads(json.dumps(_geojson(departments, ["name"])))  # a copy: the counts change per filter
    for feat in shaded["features"]:
        feat["properties"]["incidents"] = int(counts.get(feat["properties"]["name"], 0))
    top = max([1] + [f["properties"]["incidents"] for f in shaded["features"]])
    ramp = SHADES

    def style(feature):
        n = feature["properties"]["incidents"]
        colour = ramp[0] if n == 0 else ramp[min(len(ramp) - 1, 1 + int((len(ramp) - 2) * n / top))]
        return {"color": "#666", "weight": 0.6, "fillColor": colour, "fillOpacity": 0.75}

    folium.GeoJson(shaded, name=esc(i18n.text("map.layer_shading", lang)), show=show, style_function=style,
                   tooltip=folium.GeoJsonTooltip(["name", "incidents"], aliases=[
                       esc(i18n.text("map.tooltip_department", lang)), esc(i18n.text("map.tooltip_incidents", lang))]),
                   ).add_to(m)


def department_counts(frame) -> pd.Series:
    """Incidents per department; an area incident counts once in every department it covers."""
    if not len(frame):
        return pd.Series(dtype=int)
    return frame["departments"].explode().dropna().value_counts()


def _zones(m: folium.Map, zones: gpd.GeoDataFrame, lang: str) -> None:
    group = folium.FeatureGroup(name=esc(i18n.text("map.layer_zones", lang)), show=True).add_to(m)
    for row in zones.itertuples():
        outline = folium.GeoJson(
            _footprint_geojson(f"zone-outline:{row.id}", row.geometry),
            style_function=lambda _f: {"color": "#333", "weight": 1.5, "dashArray": "2 4", "fill": False},
            control=False).add_to(group)
        outline.add_child(BoundContent("tooltip", escape.text(row.name), sticky=True))


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)


#: Grey shades for the departments: no incident type is grey, so shading never reads as an incident colour.
SHADES = ["#f4f4f4", "#dcdcdc", "#bdbdbd", "#969696", "#737373", "#525252"]


_LEGEND = Template("""
{% macro header(this, kwargs) %}
<style>
.im-icon {background: none; border: none;}
.im-pin {width: 22px; height: 22px; border-radius: 50%; border: 2px solid white; box-shadow: 0 0 2px #0008;
  display: flex; align-items: center; justify-content: center;}
.im-area {width: 22px; height: 22px; border-radius: 50%; border: 2px dashed; background: #ffffffcc;
  font: bold 11px sans-serif; display: flex; align-items: center; justify-content: center;}
.im-popup blockquote {margin: 4px 0; padding-left: 6px; border-left: 3px solid #ccc; font-style: italic;}
.im-popup {font: 12px sans-serif; margin-bottom: 6px;}
.im-src {color: #555;}
.im-legend {position: absolute; z-index: 1000; bottom: 24px; right: 10px; background: #fffe; padding: 6px 8px;
  border-radius: 4px; box-shadow: 0 0 4px #0004; font: 12px sans-serif;}
.im-legend div {display: flex; align-items: center; gap: 6px; margin: 2px 0;}
.im-legend .im-pin, .im-legend .im-area {width: 16px; height: 16px;}
</style>
{% endmacro %}
{% macro html(this, kwargs) %}
<div class="im-legend" id="{{ this.get_name() }}">{{ this.body }}</div>
{% endmacro %}
""")


def _legend(types: Mapping[str, IncidentType], counts: Mapping[str, int], lang: str) -> MacroElement:
    # bottom right: the scale is bottom left, and Lima and Callao lie on the left half at a country zoom
    rows = [f'<div><span class="im-pin" style="background:{esc(t.colour)}">{glyph_svg(t, 11)}</span>'
            f"{esc(t.label_in(lang))} ({counts.get(k, 0)})</div>" for k, t in types.items()]
    rows.append('<div><span class="im-area" style="border-color:#555;color:#555">≈</span>'
                f"{esc(i18n.text('map.legend_area', lang))}</div>")
    el = MacroElement()
    el._template = _LEGEND
    el.body = "".join(rows)
    return el
