import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from dashboard.extraction import Incident
from dashboard.regions import join_points, locate


def make(place_ids, **kw):
    base = dict(id="x", type="seizure", article="a.txt", date="2020-01-01", date_end="2020-01-01",
                date_precision="day", place=None, place_ids=place_ids, killed=None, wounded=None, quantity_kg=None,
                substance=None, count=None, actors=[], reported_by=None, evidence="e", evidence_start=0,
                evidence_end=1)
    base.update(kw)
    return Incident(**base)


def test_point_gets_its_district_province_department_and_zone(gazetteer):
    (row,) = locate([make(["town:pichari"])], gazetteer).to_dict("records")
    assert row["geometry"].geom_type == "Point"
    assert (row["district"], row["province"], row["departments"]) == ("Pichari", "La Convencion", ["Cusco"])
    assert row["zones"] == ["VRAEM"] and row["geo_precision"] == "point"


def test_callao_point(gazetteer):
    (row,) = locate([make(["town:callao"])], gazetteer).to_dict("records")
    assert row["departments"] == ["Callao"] and row["zones"] == []
    assert row["geometry"].x == pytest.approx(-77.147) and row["geometry"].y == pytest.approx(-12.063)


def test_area_lists_every_department_it_covers(gazetteer):
    (row,) = locate([make(["dep:19", "dep:10", "dep:25"])], gazetteer).to_dict("records")
    assert row["geometry"].geom_type in ("Polygon", "MultiPolygon")
    assert row["departments"] == ["Huánuco", "Pasco", "Ucayali"]
    assert row["province"] is None and row["district"] is None
    assert row["location_id"] == "dep:10+dep:19+dep:25"


def test_vraem_covers_three_departments(gazetteer):
    # DEVIDA's VRAEM districts lie in Ayacucho (Huanta, La Mar), Cusco (La Convención) and Junín (Satipo).
    (row,) = locate([make(["zone:vraem"])], gazetteer).to_dict("records")
    assert row["departments"] == ["Ayacucho", "Cusco", "Junín"] and row["zones"] == ["VRAEM"]


def test_province_area_keeps_its_province(gazetteer):
    (row,) = locate([make(["prov:0504"], named_zone_ids=["zone:vraem"])], gazetteer).to_dict("records")
    assert row["province"] == "Huanta" and row["departments"] == ["Ayacucho"]
    assert row["zones"] == ["VRAEM"]  # named beside it: "the VRAEM's Huanta province"


def test_province_without_named_zone_is_not_in_vraem(gazetteer):
    # Only Sivia and Llochegua of Huanta province are VRAEM districts: less than half its area.
    (row,) = locate([make(["prov:0504"])], gazetteer).to_dict("records")
    assert row["zones"] == []


def test_unlocated_incident_is_kept(gazetteer):
    (row,) = locate([make([], unlocated_reason="no place")], gazetteer).to_dict("records")
    assert row["geometry"] is None and row["departments"] == [] and row["unlocated_reason"] == "no place"


def test_join_points_checks_crs(gazetteer):
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(-74, -12)], crs=3857)
    with pytest.raises(ValueError, match="EPSG:3857"):
        join_points(frame, gazetteer)
    with pytest.raises(ValueError, match="no CRS"):
        join_points(gpd.GeoDataFrame({"a": [1]}, geometry=[Point(-74, -12)]), gazetteer)


def test_point_outside_peru_has_no_department(gazetteer):
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(-69.941, -4.215)], crs=4326)  # Leticia, Colombia
    out = join_points(frame, gazetteer)
    assert out.loc[0, "departments"] == [] and out.loc[0, "zones"] == []
    assert pd.isna(out.loc[0, "district"])


def test_town_just_outside_every_district_polygon_keeps_its_department(gazetteer):
    # Desaguadero's GeoNames point lies on the lake shore, outside the simplified district polygons
    place = gazetteer.get("town:gn3941492")
    assert not gazetteer.district_frame().contains(Point(place.lon, place.lat)).any()
    (row,) = locate([make(["town:gn3941492"])], gazetteer).to_dict("records")
    assert (row["departments"], row["province"], row["district"]) == (["Puno"], "Chucuito", "Desaguadero")
