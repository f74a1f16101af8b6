import html as html_mod
import json

import folium
import geopandas as gpd
import pytest
from folium.plugins import FastMarkerCluster
from shapely.geometry import Point

from dashboard import assets, mapview, pipeline, store
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def frame(tmp_path_factory):
    path = tmp_path_factory.mktemp("map") / "s.sqlite"
    pipeline.build([SEEDS], path=path)
    f = store.load(path)
    return f[~f["background"]]


@pytest.fixture(scope="module")
def regions(gazetteer):
    return {"departments": gazetteer.department_frame(), "zones": gazetteer.zone_frame(),
            "countries": gazetteer.country_outlines}


def children(element, cls):
    out = []
    for child in element._children.values():
        if isinstance(child, cls):
            out.append(child)
        out += children(child, cls)
    return out


def groups(m):
    return {g.layer_name: g for g in m._children.values() if isinstance(g, folium.FeatureGroup)}


def test_one_layer_per_type_with_counts(frame, regions):
    m = mapview.build_map(frame, **regions)
    names = set(groups(m))
    assert {"Ambush (4)", "Drug seizure (1)", "Lab dismantling (2)",
            "Airstrip destruction (1)"} <= names
    assert "Zones (VRAEM, tri-border, ...)" in names and "Outlines (offline basemap)" in names
    assert any(isinstance(c, folium.LayerControl) for c in m._children.values())


def test_only_point_incidents_are_pins(frame, regions):
    m = mapview.build_map(frame, **regions)
    seizure = groups(m)["Drug seizure (1)"]
    (cluster,) = children(seizure, FastMarkerCluster)
    ((lat, lon, popup, tooltip),) = cluster.data
    assert (lat, lon) == pytest.approx((-12.063, -77.147))
    assert "1,417 kg of cocaine" in popup and "Callao" in tooltip


def test_area_incidents_are_footprints_with_somewhere_marker(frame, regions):
    m = mapview.build_map(frame, **regions)
    ambush = groups(m)["Ambush (4)"]
    assert not children(ambush, FastMarkerCluster)  # all four ambushes are area-level: no falsely precise pin
    footprints = [g for g in children(ambush, folium.GeoJson)]
    assert len(footprints) == 4  # tri-border, VRAEM, Huanta province, Junín
    for fp in footprints:
        assert fp.data["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    html = m.get_root().render()
    assert "Somewhere in VRAEM" in html and "Somewhere in Huanta" in html


def test_bounds_fit_the_filtered_incidents(frame, regions):
    callao = frame[frame["location_id"] == "town:callao"]
    m = mapview.build_map(callao, **regions)
    (fit,) = [c for c in m._children.values() if isinstance(c, folium.map.FitBounds)]
    (s, w), (n, e) = fit.bounds
    assert s < -12.063 < n and w < -77.147 < e and n - s <= 2.5  # a lone point keeps some context
    empty = mapview.build_map(frame.iloc[:0], **regions)
    (fit,) = [c for c in empty._children.values() if isinstance(c, folium.map.FitBounds)]
    assert fit.bounds == mapview.PERU_BOUNDS


def test_popup_html_is_escaped(frame, regions):
    evil = frame[frame["location_id"] == "town:callao"].copy()
    evil["title"] = "<script>alert('title')</script>"
    evil["evidence"] = 'Police seized <img src=x onerror="alert(1)"> cocaine'
    evil["place"] = "<b>Callao</b>"
    html = mapview.build_map(evil, **regions).get_root().render()
    assert "<script>alert('title')</script>" not in html
    assert '<img src=x onerror="alert(1)">' not in html
    # the popup is escaped in Python, then JSON-encoded into the page (tojson turns < > & ' into \\u escapes)
    (cluster,) = children(mapview.build_map(evil, **regions), FastMarkerCluster)
    popup = cluster.data[0][2]
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in popup
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in popup and "<img" not in popup


def test_popup_contents(frame):
    row = frame[frame["location_id"] == "town:callao"].iloc[0].to_dict()
    text = mapview.popup_html(row)
    assert "Drug seizure" in text and "2017-03-19" in text and "1,417 kg of cocaine" in text
    assert "La República" in text and "Shining Path guerrillas killed three policemen" in text


def test_no_cdn_when_assets_are_local(frame, regions, tmp_path):
    html = mapview.build_map(frame, **regions).get_root().render()
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html and "code.jquery" not in html
    assert "/app/static/vendor/leaflet.js" in html
    vendor = assets.install(tmp_path)
    for name, src in assets.FILES.items():
        assert (vendor / name).read_bytes() == src.read_bytes()
    standalone = assets.inline(html)
    assert "/app/static/vendor" not in standalone and "L.map(" in standalone


def test_many_points_are_aggregated(regions):
    rows = []
    for i in range(5):
        rows.append({"id": str(i), "type": "seizure", "date": f"2020-01-0{i + 1}", "date_end": None,
                     "district": "Pichari", "province": "La Convencion", "departments": ["Cusco"], "zones": [],
                     "evidence": "x", "place": "Pichari", "geo_precision": "point", "location_id": "town:pichari",
                     "location_name": "Pichari"})
    f = gpd.GeoDataFrame(rows, geometry=[Point(-73.829, -12.519)] * 5, crs=4326)
    m = mapview.build_map(f, max_markers=2, **regions)
    seizure = groups(m)["Drug seizure (5)"]
    assert not children(seizure, FastMarkerCluster)
    (agg,) = children(seizure, folium.GeoJson)
    assert agg.data["features"][0]["properties"]["n"] == 5


def test_basemap_choice(frame, regions):
    with pytest.raises(ValueError, match="'mars'"):
        mapview.build_map(frame, basemap="mars", **regions)
    m = mapview.build_map(frame, basemap="OpenStreetMap", **regions)
    assert any(isinstance(c, folium.TileLayer) for c in m._children.values())
    offline = mapview.build_map(frame, **regions)
    assert not any(isinstance(c, folium.TileLayer) for c in offline._children.values())


def test_department_counts_count_areas_in_each_department(frame):
    counts = mapview.department_counts(frame)
    # VRAEM ambush + two VRAEM labs cover Ayacucho, Cusco, Junín; Huanta ambush and arrest Ayacucho; Junín ambush.
    assert counts["Ayacucho"] == 5 and counts["Junín"] == 4 and counts["Cusco"] == 3
    assert counts["Loreto"] == 1 and counts["Callao"] == 1 and counts["Pasco"] == 1


# Hostile text for every field an article or a review controls. Each payload would run (or break the page) if it
# reached JavaScript source: a template literal (${...}, backticks, a backslash), a <script> (</script>), HTML
# (<img onerror>) or a link (javascript:).
PAYLOADS = {
    "title": "T ${top.__pwned='title'} `tick` </script><script>top.__pwned=2</script>",
    "place": "P ${top.__pwned=3} <img src=x onerror=top.__pwned=4>",
    "evidence": "E ${top.__pwned=5} \\u{zz} C:\\users <img src=x onerror=top.__pwned=6> `x`",
    "outlet": "O ${top.__pwned=7} </script>",
    "reported_by": "R ${top.__pwned=8} `",
    "substance": "S ${top.__pwned=9}",
    "url": "javascript:top.__pwned=10",
}
ACTORS = ["A ${top.__pwned=11}", "<img src=x onerror=top.__pwned=12>"]


@pytest.fixture
def hostile(frame):
    """The Callao seizure (a pin) and the VRAEM ambush (an area marker), every text field hostile."""
    rows = frame[frame["location_id"].isin(["town:callao", "zone:vraem"]) & (frame["type"] != "lab_dismantling")]
    rows = rows.copy()
    assert sorted(rows["location_id"]) == ["town:callao", "zone:vraem"]
    for col, value in PAYLOADS.items():
        rows[col] = value
    rows["actors"] = [ACTORS] * len(rows)
    rows["quantity_kg"] = 5.0
    rows["sources"] = [[{"article": "other.txt", "title": "Other ${top.__pwned=13}", "published": "`2020`"}]] * 2
    return rows


def _script_strings(element) -> list[str]:
    """The JSON encodings through which content may enter the page: bound popups/tooltips and cluster data."""
    from branca.element import Template

    out = [b.content_js for b in children(element, mapview.BoundContent)]
    out += [Template("{{ x|tojson }}").render(x=c.data) for c in children(element, FastMarkerCluster)]
    return out


def test_hostile_text_reaches_the_page_only_as_json_data(hostile, regions):
    m = mapview.build_map(hostile, **regions)
    # folium's Popup and Tooltip put their text into a JavaScript template literal: none may carry article text
    assert not children(m, folium.Popup) and not children(m, folium.Tooltip)
    page = m.get_root().render()
    assert "__pwned" in page  # the text is on the page ...
    rest = page
    for encoded in _script_strings(m):
        rest = rest.replace(encoded, "")
    assert "__pwned" not in rest  # ... but only inside JSON string data, nowhere a script could run it
    standalone = assets.inline(page)
    for encoded in _script_strings(m):
        standalone = standalone.replace(encoded, "")
    assert "__pwned" not in standalone


def test_bound_popups_and_tooltips_carry_the_text_literally(hostile, regions):
    m = mapview.build_map(hostile, **regions)
    bound = children(m, mapview.BoundContent)
    popups = [b for b in bound if b.kind == "popup"]
    tooltips = [b for b in bound if b.kind == "tooltip"]
    (area_popup,) = popups  # the VRAEM marker; the Callao pin's popup travels in the cluster data
    assert json.loads(area_popup.content_js) == area_popup.content
    assert "T ${top.__pwned=&#x27;title&#x27;} `tick` &lt;/script&gt;&lt;script&gt;" in area_popup.content
    assert "E ${top.__pwned=5} \\u{zz} C:\\users &lt;img" in area_popup.content
    # a tooltip is plain text put into a text node: the hostile place shows as written, unescaped
    assert all(b.content_js == f"{mapview._TEXT_NODE_JS}({b.data_js})" for b in tooltips)
    texts = [json.loads(b.data_js) for b in tooltips]
    assert any(t.startswith("Somewhere in VRAEM") for t in texts)
    (cluster,) = children(m, FastMarkerCluster)
    ((_lat, _lon, popup, tooltip),) = cluster.data
    assert tooltip.endswith("· P ${top.__pwned=3} <img src=x onerror=top.__pwned=4>")
    assert "<img" not in popup and "textContent = t" in cluster.callback


def test_popup_escapes_every_field_and_links_only_http(hostile):
    row = hostile[hostile["location_id"] == "town:callao"].iloc[0].to_dict()
    out = mapview.popup_html(row)
    for col in ("title", "place", "evidence", "outlet", "reported_by", "substance"):
        assert html_mod.escape(PAYLOADS[col], quote=True) in out, col
    for actor in ACTORS:
        assert html_mod.escape(actor, quote=True) in out
    assert "<img" not in out and "<script" not in out and "</script" not in out
    assert "href" not in out and "javascript:" not in out  # a javascript: URL is no link, and not shown
    row["url"] = "https://example.org/a?b=1&c=2"
    assert '<a href="https://example.org/a?b=1&amp;c=2" target="_blank"' in mapview.popup_html(row)
    for bad in ("data:text/html,<script>x</script>", "vbscript:x", " JavaScript:x"):
        row["url"] = bad
        assert "<a " not in mapview.popup_html(row)


def test_popup_source_without_outlet_has_no_stray_comma(frame):
    row = frame[frame["location_id"] == "town:callao"].iloc[0].to_dict()
    row["published"] = "2017-03-19"
    for missing in (None, float("nan"), ""):
        row["outlet"] = missing
        out = mapview.popup_html(row)
        assert "(, " not in out and "(2017-03-19)</div>" in out
    row["published"] = float("nan")
    row["outlet"] = "La República"
    assert "(La República)</div>" in mapview.popup_html(row)
    row["outlet"] = None
    assert mapview.popup_html(row).endswith("</div></div>") and "()" not in mapview.popup_html(row)


def test_missing_substance_is_left_out():
    assert mapview.figures_text({"quantity_kg": 5.0, "substance": float("nan")}) == "5 kg"
    assert mapview.figures_text({"quantity_kg": 1500.0, "substance": "cocaine"}) == "1,500 kg of cocaine"


def test_popup_names_the_article_language():
    from dashboard.mapview import popup_html

    html = popup_html({"type": "seizure", "date": "2021-05-02", "place": "Pichari", "evidence": "Se incautaron",
                       "language": "es", "title": "Nota"})
    assert "Article language: es" in html and "<blockquote lang='es'>" in html
    assert "Article language" not in popup_html({"type": "seizure", "evidence": "x", "title": "t"})


def test_legend_counts_what_the_layer_list_counts(frame):
    """An incident with no place is not drawn: neither the legend nor the layer list counts it."""
    import re

    from folium.elements import MacroElement

    from dashboard.taxonomy import incident_types

    f = frame.copy()
    callao = f.index[f["location_id"] == "town:callao"][0]
    f.loc[callao, "geometry"] = None  # the Callao seizure, now unlocated
    m = mapview.build_map(f)
    label = incident_types()["seizure"].label
    (legend,) = [e for e in children(m, MacroElement) if "located only to an area" in getattr(e, "body", "")]
    legend_counts = dict(re.findall(r"</span>([^<(]+) \((\d+)\)</div>", legend.body))
    layer_counts = dict(re.findall(r"^(.+) \((\d+)\)$", "\n".join(groups(m)), re.M))
    # the seeds' only other seizure is a background total, left out of this frame: no seizure drawn
    assert legend_counts[label] == "0" and label not in layer_counts
    assert {k: v for k, v in legend_counts.items() if v != "0"} == layer_counts
