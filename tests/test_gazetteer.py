import json
import math
from pathlib import Path

import pytest
import shapely
from geopy.location import Location
from shapely.geometry import shape

from dashboard.gazetteer import PRECISION, Gazetteer, normalize

ROOT = Path(__file__).resolve().parent.parent


def ids(gazetteer, query, **kw):
    return [loc.raw["id"] for loc in gazetteer.geocode(query, exactly_one=False, **kw)]


def test_counts_match_the_boundary_files(gazetteer):
    kinds = [p.kind for p in gazetteer.places.values()]
    assert kinds.count("department") == 25  # Callao included
    # 197 features with 195 distinct codes: Piura (2001) and one Ayacucho province (0510) come in two pieces
    assert kinds.count("province") == 195
    pieces = [shape(f["geometry"]) for f in json.loads(
        (ROOT / "dashboard/data/boundaries/peru_provincial_simple.geojson").read_text())["features"]
        if f["properties"]["FIRST_IDPR"] == "2001"]
    assert len(pieces) == 2
    piura = gazetteer.get("prov:2001").footprint
    assert math.isclose(piura.area, shapely.union_all([shapely.make_valid(p) for p in pieces]).area, rel_tol=1e-6)
    # 1,834 districts in the layer, 8 of which have no polygon in the simplified file
    assert kinds.count("district") == 1834 - 8


def test_geocode_returns_geopy_locations(gazetteer):
    loc = gazetteer.geocode("Pichari")
    assert isinstance(loc, Location)
    assert loc.raw["id"] == "town:pichari"
    assert math.isclose(loc.latitude, -12.519) and math.isclose(loc.longitude, -73.829)
    assert loc.raw["geo_precision"] == "point" and loc.raw["precision"] == PRECISION["point"]
    assert loc.raw["footprint"].contains(loc.raw["footprint"].centroid)


@pytest.mark.parametrize("query", [
    "VRAEM", "VRAE", "vraem", "Apurimac, Ene and Mantaro River Valleys", "Apurímac, Ene and Mantaro River Valley",
    "Valle de los ríos Apurímac, Ene y Mantaro",
])
def test_vraem_aliases(gazetteer, query):
    assert ids(gazetteer, query)[0] == "zone:vraem"


@pytest.mark.parametrize("query", ["Triple Border", "tri-border", "Amazon tri-border", "Tres Fronteras"])
def test_tri_border_aliases(gazetteer, query):
    assert ids(gazetteer, query)[0] == "zone:tri_border"


def test_upper_huallaga_is_the_zone(gazetteer):
    assert ids(gazetteer, "Upper Huallaga")[0] == "zone:alto_huallaga"
    assert ids(gazetteer, "Alto Huallaga")[0] == "zone:alto_huallaga"


def test_accents_and_case_do_not_matter(gazetteer):
    assert ids(gazetteer, "Junín")[0] == ids(gazetteer, "JUNIN")[0] == "dep:12"
    assert ids(gazetteer, "Huánuco")[0] == "dep:10"
    assert ids(gazetteer, "Cuzco")[0] == ids(gazetteer, "Cusco")[0] == "dep:08"


def test_hint_words_pick_the_feature_type(gazetteer):
    assert ids(gazetteer, "Huanta province")[0] == "prov:0504"
    assert ids(gazetteer, "Huanta district")[0] == "dist:050401"
    assert ids(gazetteer, "Huanta")[0] == "town:huanta"  # the town (province capital) when nothing is said
    assert ids(gazetteer, "Junín")[0] == "dep:12"  # alone, the region


@pytest.mark.parametrize("name, river", [
    ("the Ucayali River", "river:ucayali"), ("Huallaga River", "river:huallaga"),
    ("the Putumayo River", "river:putumayo"), ("Apurímac River", "river:apurimac"),
])
def test_rivers_are_their_own_features(gazetteer, name, river):
    assert ids(gazetteer, name)[0] == river
    assert gazetteer.geocode(name).raw["kind"] == "river"


def test_region_names_are_not_rivers_without_the_word(gazetteer):
    assert ids(gazetteer, "Ucayali")[0] == "dep:25"
    assert ids(gazetteer, "Putumayo")[0] == "zone:putumayo"
    assert ids(gazetteer, "Apurímac")[0] == "dep:03"


def test_context_disambiguates_santa_rosa(gazetteer):
    # Ten districts are called Santa Rosa; in a VRAEM article it is Santa Rosa of La Mar (050507).
    vraem = gazetteer.get("zone:vraem")
    assert ids(gazetteer, "Santa Rosa", context=[vraem])[0] == "dist:050507"
    puno = gazetteer.get("dep:21")
    assert gazetteer.match("Santa Rosa", context=[puno])[0].department == "Puno"


def test_find_mentions_in_text(gazetteer):
    text = ("Police were ambushed in the VRAEM's Huanta province, near the Ucayali River, and in the regions of "
            "Pasco, Huánuco and Ucayali.")
    found = {m.text: (m.hint, [c.id for c in m.candidates]) for m in gazetteer.find_mentions(text)}
    assert "zone:vraem" in found["VRAEM"][1]
    assert found["Huanta province"][0] == "province"
    assert found["Ucayali River"][1] == ["river:ucayali"]
    resolved = [p.id for p in gazetteer.resolve(gazetteer.find_mentions(text))]
    assert resolved == ["zone:vraem", "prov:0504", "river:ucayali", "dep:19", "dep:10", "dep:25"]


def test_lowercase_words_are_not_places(gazetteer):
    assert gazetteer.find_mentions("the police will pampas union progress") == []


def test_ambiguous_common_words_need_a_hint(gazetteer):
    assert gazetteer.find_mentions("Union leaders met the minister.") == []
    found = gazetteer.find_mentions("in La Unión district of Huánuco")
    assert found[0].hint == "district" and "dist:100301" in [c.id for c in found[0].candidates]


def test_zone_is_union_of_its_districts(gazetteer):
    vraem = gazetteer.get("zone:vraem").footprint
    pichari = gazetteer.get("dist:080910").footprint
    assert vraem.contains(pichari.representative_point())
    huanta_town = gazetteer.get("town:huanta")  # Huanta district is not in DEVIDA's VRAEM
    assert not vraem.contains(huanta_town.footprint.centroid)


def test_precision_levels(gazetteer):
    expected = {"town:callao": "point", "dist:080910": "district", "prov:0504": "province", "dep:12": "region",
                "zone:vraem": "region", "river:ucayali": "region", "country:PER": "country"}
    for pid, level in expected.items():
        assert gazetteer.get(pid).to_location().raw["geo_precision"] == level


def test_neighbouring_countries(gazetteer):
    assert ids(gazetteer, "Brazil") == ["country:BRA"]
    assert not gazetteer.get("country:COL").is_peru


def test_unknown_name_and_bad_query(gazetteer):
    assert gazetteer.geocode("Atlantis") is None
    assert gazetteer.geocode("Atlantis", exactly_one=False) == []
    with pytest.raises(ValueError, match="non-empty"):
        gazetteer.geocode("  ")
    with pytest.raises(KeyError, match="dist:999999"):
        gazetteer.get("dist:999999")


def test_normalize():
    assert normalize("Apurímac, Ene  y Mantaro") == "apurimac ene y mantaro"
    assert normalize("VRAEM's") == "vraem"


def test_missing_data_dir_raises(tmp_path):
    from dashboard.errors import GazetteerError

    (tmp_path / "gazetteer").mkdir()
    (tmp_path / "gazetteer" / "names.yaml").write_text("departments: {}\n")
    with pytest.raises(GazetteerError, match="missing"):
        Gazetteer(tmp_path)


def test_district_capitals_name_their_district(gazetteer):
    # NOM_CAP of Río Tambo (120608) is Puerto Ocopa; of Pangoa (120606), San Martín de Pangoa
    assert gazetteer.geocode("Puerto Ocopa").raw["id"] == "dist:120608"
    assert gazetteer.geocode("San Martin de Pangoa").raw["id"] == "dist:120606"


@pytest.mark.parametrize("name, zone, department", [
    ("border with Bolivia", "zone:border_bolivia", "Puno"), ("Peru-Ecuador border", "zone:border_ecuador", "Tumbes"),
    ("Brazilian border", "zone:border_brazil", "Ucayali"), ("Colombian border", "zone:border_colombia", "Loreto"),
])
def test_border_zones(gazetteer, name, zone, department):
    assert ids(gazetteer, name)[0] == zone
    members = gazetteer.zone_members[zone.split(":")[1]]
    assert department in {gazetteer.get(f"dist:{u}").department for u in members}
    # only border districts: Lima is on no land border
    assert "Lima" not in {gazetteer.get(f"dist:{u}").department for u in members}
