"""The dashboard map's document (:mod:`dashboard.mapdata`) and its component files, without a browser."""

import html as html_mod
import json
from datetime import date

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from dashboard import assets, mapdata, pipeline, store
from dashboard.taxonomy import incident_types
from tests.conftest import SEEDS

TYPES = list(incident_types())


@pytest.fixture(scope="module")
def frame(tmp_path_factory):
    path = tmp_path_factory.mktemp("mapdata") / "s.sqlite"
    pipeline.build([SEEDS], path=path)
    f = store.load(path)
    return f[~f["background"]]


def _row(i: int, kind: str = "seizure", day: str | None = "2020-01-01", **extra) -> dict:
    row = {"id": f"i{i}", "type": kind, "date": day, "date_end": day, "date_precision": "day", "place": "Pichari",
           "evidence": "Police seized cocaine.", "title": "T", "article": "a.txt", "district": "Pichari",
           "province": "La Convención", "departments": ["Cusco"], "zones": [], "geo_precision": "point",
           "location_id": "town:pichari", "location_name": "Pichari"}
    return {**row, **extra}


def _frame(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)


def test_seed_incidents_become_one_pin_and_seven_area_markers(frame):
    doc = mapdata.payload(frame)
    counts = dict(zip(TYPES, doc["counts"], strict=True))
    # the seeds (background totals left out): four ambushes, one seizure, two labs, one airstrip, one arrest
    assert counts == {"ambush": 4, "armed_attack": 0, "seizure": 1, "lab_dismantling": 2,
                      "airstrip_destruction": 1, "arrest": 1, "eradication": 0}
    ((lat, lon, kind, iid, day, popup, tooltip),) = doc["points"]  # only the Callao seizure is a town
    assert (lat, lon) == pytest.approx((-12.063, -77.147), abs=1e-3) and TYPES[kind] == "seizure"
    assert day == (date(2017, 3, 19) - date(1970, 1, 1)).days
    assert "1,417 kg of cocaine" in popup and "Callao" in tooltip
    assert f'<button type="button" class="im-review" data-id="{iid}">Show in the table and review</button>' in popup
    # areas: per type and place; the two VRAEM labs share one marker
    areas = {(a[0], TYPES[a[1]]): a[2] for a in doc["areas"]}
    assert len(areas) == 7 and areas[("zone:vraem", "lab_dismantling")] == 2
    assert set(doc["shapes"]) == {a[0] for a in doc["areas"]}  # one footprint per place, shared by the types
    assert all(s["type"] in ("Polygon", "MultiPolygon") for s in doc["shapes"].values())
    vraem = next(a for a in doc["areas"] if a[0] == "zone:vraem" and TYPES[a[1]] == "ambush")
    assert vraem[6] == "Somewhere in VRAEM: 1 ambush" and vraem[7] == "Ambush: somewhere in VRAEM (1)"
    assert "Somewhere in VRAEM — 1 incident(s)" in vraem[5]
    assert doc["drawn"] == doc["total"] == len(frame) and doc["points"] and not doc["aggregates"]


def test_document_is_small_json(frame):
    text, digest = mapdata.dumps(mapdata.payload(frame))
    assert json.loads(text)["total"] == len(frame)
    assert len(text) < 60_000  # the folium page of the same incidents was 543 KB
    again, same = mapdata.dumps(mapdata.payload(frame))
    assert (again, same) == (text, digest)  # the same selection, the same digest: the browser draws nothing new
    assert mapdata.dumps(mapdata.payload(frame.iloc[:3]))[1] != digest


def test_many_points_become_circles_per_district():
    rows = [_row(i, day=f"2020-01-0{i + 1}") for i in range(5)] + [_row(9, district="Kimbiri", day=None)]
    f = _frame(rows, [Point(-73.829, -12.519)] * 5 + [Point(-73.8, -12.6)])
    doc = mapdata.payload(f, max_markers=2, playback=True)
    assert doc["points"] == []
    circles = {c[4].split(":")[0]: c for c in doc["aggregates"]}
    assert set(circles) == {"Pichari (La Convención)", "Kimbiri (La Convención)"}
    pichari = circles["Pichari (La Convención)"]
    assert pichari[3] == 5 and pichari[4] == "Pichari (La Convención): 5 incident(s), 2020-01-01 – 2020-01-05"
    # large selections play back by month: the five January days are one bin, the undated incident none
    assert doc["bins"] == "month"
    jan = (date(2020, 1, 1) - date(1970, 1, 1)).days
    assert pichari[5] == [[jan, 5]] and circles["Kimbiri (La Convención)"][5] == []
    assert "incidents per district" in doc["texts"]["legend_aggregated"]


def test_playback_bins_area_incidents_by_day():
    rows = [_row(i, kind="ambush", day=d, geo_precision="region", location_id="zone:x", location_name="X zone")
            for i, d in enumerate(["2021-05-02", "2021-05-02", "2021-06-10", None])]
    doc = mapdata.payload(_frame(rows, [box(-74, -13, -73, -12)] * 4), playback=True)
    ((loc, kind, n, *_rest, hist),) = doc["areas"]
    d1 = (date(2021, 5, 2) - date(1970, 1, 1)).days
    d2 = (date(2021, 6, 10) - date(1970, 1, 1)).days
    assert (loc, TYPES[kind], n) == ("zone:x", "ambush", 4) and hist == [[d1, 2], [d2, 1]]
    assert doc["bins"] == "day"
    assert mapdata.payload(_frame(rows, [box(-74, -13, -73, -12)] * 4))["areas"][0][-1] == []  # only on request


def test_empty_selection_says_so():
    rows = [_row(0)]
    nothing = mapdata.payload(_frame(rows, [Point(-73.8, -12.5)]).iloc[:0])
    assert nothing["drawn"] == 0 and nothing["texts"]["empty"] == "No incident matches these filters."
    assert nothing["bounds"] == mapdata.PERU_BOUNDS
    unplaced = mapdata.payload(_frame([_row(0), _row(1)], [None, None]))
    assert unplaced["drawn"] == 0 and unplaced["total"] == 2
    assert unplaced["texts"]["empty"] == "2 incident(s) match these filters, but none has a known place."


def test_spanish_words(frame):
    doc = mapdata.payload(frame, lang="es")
    assert doc["types"][TYPES.index("seizure")]["label"] == "Incautación de droga"
    assert doc["texts"]["layer_heat"] == "Densidad (mapa de calor)"
    popup = doc["points"][0][5]
    assert "1,417 kg de cocaine" in popup  # CLDR es_PE groups with a comma; substances are stored in English
    assert "Fuente: " in popup and "Ver en la tabla y revisar" in popup
    vraem = next(a for a in doc["areas"] if a[0] == "zone:vraem" and TYPES[a[1]] == "ambush")
    assert vraem[6] == "En algún lugar de VRAEM: 1 × Emboscada"
    assert mapdata.payload(frame.iloc[:0], lang="es")["texts"]["empty"] == \
        "Ningún incidente coincide con estos filtros."


def test_hostile_text_is_escaped_in_popups_and_plain_in_tooltips():
    evil = "<img src=x onerror=alert(1)> ${top.__pwned=1} </script>"
    rows = [_row(0, place=evil, title=evil, evidence=evil, id='x" onclick="alert(2)'),
            _row(1, kind="ambush", geo_precision="region", location_id="zone:x", location_name=evil)]
    doc = mapdata.payload(_frame(rows, [Point(-73.8, -12.5), box(-74, -13, -73, -12)]))
    (point,) = doc["points"]
    assert "<img" not in point[5] and html_mod.escape(evil, quote=True) in point[5]
    assert 'data-id="x&quot; onclick=&quot;alert(2)"' in point[5]
    assert point[6].endswith(evil)  # a tooltip is text: the browser puts it into a text node as written
    (area,) = doc["areas"]
    assert "<img" not in area[5] and area[6].startswith(f"Somewhere in {evil}:")
    text, _ = mapdata.dumps(doc)
    assert json.loads(text)["points"][0][6].endswith(evil)  # JSON data, never JavaScript source


def test_selected_incident_is_located(frame):
    callao = frame[frame["location_id"] == "town:callao"].iloc[0]
    sel = mapdata.selected(frame, callao["id"])
    assert sel["id"] == callao["id"] and (sel["lat"], sel["lon"]) == pytest.approx((-12.063, -77.147), abs=1e-3)
    assert "Drug seizure" in sel["text"]
    vraem = frame[frame["location_id"] == "zone:vraem"].iloc[0]
    inside = mapdata.selected(frame, vraem["id"])  # an area: a point inside its footprint
    assert vraem.geometry.contains(Point(inside["lon"], inside["lat"]))
    assert mapdata.selected(frame, "no-such-id") is None and mapdata.selected(frame, None) is None
    unplaced = _frame([_row(0)], [None])
    assert mapdata.selected(unplaced, "i0") is None


def test_basemap_labels(gazetteer):
    zones = gazetteer.zone_frame()
    doc = mapdata.basemap(gazetteer.department_frame(), gazetteer.country_outlines[["name", "geometry"]], zones)
    deps = {name for _, _, name in doc["labels"]["departments"]}
    assert {"Lima", "Callao", "Ayacucho", "Loreto"} <= deps and len(deps) == 25
    assert {name for _, _, name in doc["labels"]["zones"]} == {"VRAEM", "Amazon tri-border", "Alto Huallaga",
                                                               "Putumayo"}  # border strips get no label
    assert len(doc["zones"]["features"]) == len(zones)
    for lat, lon, name in doc["labels"]["departments"]:  # each label lies in its department
        geom = gazetteer.department_frame().set_index("name").geometry[name]
        assert geom.buffer(0.01).contains(Point(lon, lat)), name


def test_unknown_basemap_is_refused(frame):
    with pytest.raises(ValueError, match="'mars'"):
        mapdata.payload(frame, basemap="mars")
    assert mapdata.payload(frame, basemap="OpenStreetMap")["tiles"][0].startswith("https://tile.openstreetmap.org/")
    assert mapdata.payload(frame)["tiles"] is None


def test_component_files_are_installed_and_offline(tmp_path):
    folder = assets.install_component(tmp_path / "incident_map", {"labels": {"zones": [[1, 2, "VRAEM"]]}})
    page = (folder / "index.html").read_text(encoding="utf-8")
    for ref in ("vendor/leaflet.js", "vendor/leaflet.markercluster.js", "vendor/leaflet.css", "map.js", "map.css"):
        assert f'"{ref}"' in page and (folder / ref).stat().st_size > 0
    assert "://" not in page and "://" not in (folder / "map.js").read_text(encoding="utf-8")  # no CDN
    assert (folder / "vendor" / "leaflet.js").read_bytes() == assets.FILES["leaflet.js"].read_bytes()
    assert json.loads((folder / "basemap.json").read_text(encoding="utf-8"))["labels"]["zones"] == [[1, 2, "VRAEM"]]
    before = (folder / "map.js").stat().st_mtime_ns
    assets.install_component(folder, {"labels": {}})  # unchanged files are left alone, changed ones replaced
    assert (folder / "map.js").stat().st_mtime_ns == before
    assert json.loads((folder / "basemap.json").read_text(encoding="utf-8")) == {"labels": {}}
    assert not [p for p in folder.rglob(".*")]  # no temporary file left behind
