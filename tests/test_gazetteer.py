import json
import math
from pathlib import Path

import pytest
import shapely
from geopy.location import Location
from shapely.geometry import shape

from dashboard.gazetteer import (
    PRECISION,
    USER_DIR_ENV,
    Gazetteer,
    import_geonames,
    normalize,
    user_gazetteer_dir,
)

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
    # GeoNames holds its capital, the town of Santa Rosa: a point now, not the district's footprint.
    vraem = gazetteer.get("zone:vraem")
    best = gazetteer.match("Santa Rosa", context=[vraem])[0]
    assert (best.kind, best.district, best.province) == ("town", "Santa Rosa", "La Mar")
    assert ids(gazetteer, "Santa Rosa district", context=[vraem])[0] == "dist:050507"
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
    # NOM_CAP of Pangoa (120606) is San Martín de Pangoa, which GeoNames lacks: the name gives the district
    assert gazetteer.geocode("San Martin de Pangoa").raw["id"] == "dist:120606"


def test_district_capital_gets_a_geonames_point(gazetteer):
    # NOM_CAP of Río Tambo (120608) is Puerto Ocopa, a GeoNames PPLA3: a point inside the district now
    loc = gazetteer.geocode("Puerto Ocopa")
    assert loc.raw["geo_precision"] == "point" and loc.raw["feature_code"] == "PPLA3"
    assert gazetteer.get("dist:120608").footprint.contains(shapely.Point(loc.longitude, loc.latitude))
    assert (loc.raw["district"], loc.raw["department"]) == ("Rio Tambo", "Junín")


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


# ---------------------------------------------------------------------- GeoNames towns
GEONAMES_HEADER = "\t".join([
    "geonameid", "name", "asciiname", "alternatenames", "latitude", "longitude", "feature_class", "feature_code",
    "country_code", "cc2", "admin1_code", "admin2_code", "admin3_code", "admin4_code", "population", "elevation",
    "dem", "timezone", "modification_date"])


def geonames_line(gid, name, lat, lon, code="PPL", population=0, alternates="", fclass="P", country="PE"):
    """One line of a GeoNames export, 19 tab-separated columns (admin codes left out: the gazetteer ignores them)."""
    cols = [str(gid), name, name, alternates, str(lat), str(lon), fclass, code, country, "", "", "", "", "",
            str(population), "", "100", "America/Lima", "2024-01-01"]
    return "\t".join(cols) + "\n"


@pytest.fixture
def user_towns(tmp_path):
    """Import a hand-built GeoNames file into tmp_path and return a gazetteer that reads it."""

    def _make(*lines: str) -> Gazetteer:
        src = tmp_path / "PE.txt"
        src.write_text("".join(lines), encoding="utf-8")
        import_geonames(src, tmp_path / "user")
        return Gazetteer(user_dir=tmp_path / "user")

    return _make


def test_geonames_only_town_is_a_point_in_its_department(gazetteer):
    # Aucayacu is in GeoNames (PPLA3) and neither curated nor a province capital; it used to name only its district
    loc = gazetteer.geocode("Aucayacu")
    assert loc.raw["kind"] == "town" and loc.raw["geo_precision"] == "point"
    assert (loc.raw["department"], loc.raw["province"]) == ("Huánuco", "Leoncio Prado")
    assert gazetteer.get("dist:100604").footprint.contains(shapely.Point(loc.longitude, loc.latitude))
    (m,) = gazetteer.find_mentions("Soldiers were ambushed near Aucayacu at dawn.")
    assert gazetteer.resolve([m])[0].id == loc.raw["id"] and not m.weak


def test_district_capital_becomes_a_point(gazetteer):
    # Kimbiri (VRAEM) was the district's footprint; GeoNames gives the town, which lies in that district
    top = gazetteer.match("Kimbiri")[0]
    assert (top.kind, top.source, top.department, top.district) == ("town", "geonames", "Cusco", "Kimbiri")
    assert ids(gazetteer, "Kimbiri district")[0] == "dist:080907"
    assert ids(gazetteer, "distrito de Kimbiri")[0] == "dist:080907"
    assert ids(gazetteer, "la provincia de La Convención")[0] == "prov:0809"
    assert ids(gazetteer, "La Convención")[0] == "prov:0809"


def test_curated_town_wins_over_geonames(gazetteer):
    # GeoNames has Pichari (3932418) at -12.5, -73.81667; the curated row (-12.519, -73.829) keeps its id and point
    assert "town:gn3932418" not in gazetteer.places
    pichari = gazetteer.get("town:pichari")
    assert (pichari.lat, pichari.lon) == (-12.519, -73.829)
    assert (pichari.source, pichari.feature_code) == ("curated", "PPLA3")  # GeoNames' code still ranks it
    assert [p.id for p in gazetteer.lookup("Pichari") if p.kind == "town"] == ["town:pichari"]


def test_curated_town_wins_over_an_imported_row(user_towns):
    g = user_towns(geonames_line(990001, "Pichari", -12.52, -73.83, "PPLA3", 20000, "Pichary"))
    assert "town:gn990001" not in g.places
    assert [p.id for p in g.lookup("Pichary")] == ["town:pichari"]  # its alternate name now names the curated town


def test_geonames_alternate_names(gazetteer):
    assert gazetteer.match("Pevas")[0].name == "Pebas"
    assert gazetteer.match("Jurimaguas")[0].name == "Yurimaguas"
    # Tarapoto's GeoNames alternates include "San Martin" (the region) and the airport code "TPP": neither names it
    assert "Tarapoto" not in [p.name for p in gazetteer.lookup("San Martín")]
    assert gazetteer.match("Tarapotas")[0].name == "Tarapoto"
    assert gazetteer.lookup("TPP") == []


def test_ambiguous_name_ranked_by_feature_code_population_and_context(user_towns):
    # Three invented towns share a name: in Loreto (PPL, 9,000), Ucayali (PPL, 20,000) and Cusco (PPLA3, 800)
    g = user_towns(
        geonames_line(990011, "Villa Quimera", -3.76, -73.26, "PPL", 9000),
        geonames_line(990012, "Villa Quimera", -8.38, -74.55, "PPL", 20000),
        geonames_line(990013, "Villa Quimera", -13.52, -71.97, "PPLA3", 800),
    )
    assert [p.id for p in g.match("Villa Quimera")] == ["town:gn990013", "town:gn990012", "town:gn990011"]
    assert [p.department for p in g.match("Villa Quimera")] == ["Cusco", "Ucayali", "Loreto"]
    assert g.match("Villa Quimera", context=[g.get("dep:16")])[0].id == "town:gn990011"  # Loreto named
    # in a story that also names Iquitos, the Loreto town
    text = "Police raided a camp in Villa Quimera. The suspects were taken to Iquitos."
    assert [p.id for p in g.resolve(g.find_mentions(text))] == ["town:gn990011", "town:iquitos"]


def test_town_named_after_a_province_elsewhere_ranks_after_it(gazetteer):
    # GeoNames' Tambo Quemado (Ayacucho) has the alternate name Leoncio Prado, a province of Huánuco
    assert ids(gazetteer, "Leoncio Prado")[0] == "prov:1006"
    # and a village called Huanta in Loreto does not take Huanta's name from the Ayacucho town
    assert ids(gazetteer, "Huanta")[0] == "town:huanta"
    assert gazetteer.match("Huanta", context=[gazetteer.get("dep:16")])[0].department == "Loreto"


def test_import_round_trip_reports_bad_rows(tmp_path):
    src = tmp_path / "PE.txt"
    src.write_text(
        geonames_line(990021, "Nueva Quimera", -13.52, -71.97, "PPL", 1200, "Nueva Kimera,НК,NQX")  # line 1
        + geonames_line(990022, "Río Quimera", -12.6, -73.8, "STM", fclass="H")  # line 2: a river, not a town
        + "990023\tBroken row\tonly five columns\t1\t2\n"  # line 3: malformed
        + geonames_line(990024, "Quimera Alta", "south", -73.8)  # line 4: latitude is not a number
        + geonames_line(990025, "Leticia", 4.2, -69.9, "PPLA", country="CO")  # line 5: another country
        + geonames_line(990026, "Quimera Baja", -13.53, -71.96, "PPL", 700),  # line 6
        encoding="utf-8")
    report = import_geonames(src, tmp_path / "user")
    assert (report.added, report.updated, report.ignored) == (2, 0, 2)
    assert [line for line, _ in report.errors] == [3, 4]
    assert "columns" in report.errors[0][1] and "latitude" in report.errors[1][1]
    assert report.path == tmp_path / "user" / "geonames.tsv"

    g = Gazetteer(user_dir=tmp_path / "user")
    town = g.get("town:gn990021")
    assert (town.name, town.department, town.feature_code, town.population) == ("Nueva Quimera", "Cusco", "PPL", 1200)
    assert g.match("Nueva Kimera")[0] == town  # Latin-script alternate kept; Cyrillic and the code dropped
    assert g.lookup("NQX") == [] and g.lookup("НК") == []
    assert g.lookup("Río Quimera") == []

    # importing again merges by geonameid: the new population replaces the old row, the other row stays
    src.write_text(GEONAMES_HEADER + "\n" + geonames_line(990021, "Nueva Quimera", -13.52, -71.97, "PPL", 1500),
                   encoding="utf-8")
    again = import_geonames(src, tmp_path / "user")
    assert (again.added, again.updated, again.errors) == (0, 1, [])
    g = Gazetteer(user_dir=tmp_path / "user")
    assert g.get("town:gn990021").population == 1500 and "town:gn990026" in g.places


def test_import_undecodable_row_and_failed_write_keep_previous_file(tmp_path, monkeypatch):
    src = tmp_path / "PE.txt"
    src.write_bytes(geonames_line(990031, "Quimera", -13.52, -71.97).encode() + b"990032\tQuim\xe9ra\n")
    report = import_geonames(src, tmp_path)
    assert report.added == 1 and report.errors == [(2, "not UTF-8 text")]
    before = (tmp_path / "geonames.tsv").read_bytes()

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr("dashboard.gazetteer.os.replace", boom)
    src.write_text(geonames_line(990033, "Otra Quimera", -13.52, -71.97), encoding="utf-8")
    with pytest.raises(OSError, match="disk full"):
        import_geonames(src, tmp_path)
    assert (tmp_path / "geonames.tsv").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".geonames-")] == []  # no temporary file left


def test_import_of_a_missing_file_is_an_error(tmp_path):
    from dashboard.errors import GazetteerError

    with pytest.raises(GazetteerError, match="cannot read"):
        import_geonames(tmp_path / "nope.txt", tmp_path)


def test_damaged_user_file_warns_and_keeps_good_rows(tmp_path):
    (tmp_path / "geonames.tsv").write_text(
        "geonameid\tname\talternatenames\tlatitude\tlongitude\tfeature_code\tpopulation\n"
        "990041\tQuimera Norte\t\t-12.53\t-73.84\tPPL\t900\n"
        "990042\tQuimera Sur\t\tnorth\t-73.84\tPPL\t900\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="line 3"):
        g = Gazetteer(user_dir=tmp_path)
    assert "town:gn990041" in g.places and "town:gn990042" not in g.places


def test_user_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(USER_DIR_ENV, str(tmp_path / "mine"))
    assert user_gazetteer_dir() == tmp_path / "mine"
    src = tmp_path / "PE.txt"
    src.write_text(geonames_line(990051, "Quimera Este", -13.52, -71.97), encoding="utf-8")
    assert import_geonames(src).path == tmp_path / "mine" / "geonames.tsv"
    assert "town:gn990051" in Gazetteer(extensions=True).places
    assert "town:gn990051" not in Gazetteer().places  # only asked for: tests and tools stay reproducible


# ---------------------------------------------------------------------- zone variants
@pytest.mark.parametrize("text, zone", [
    ("the valley of the Apurímac and Ene rivers", "zone:vraem"),
    ("Apurímac-Ene valley", "zone:vraem"),
    ("VRAE", "zone:vraem"), ("VRAEM", "zone:vraem"), ("Vraem", "zone:vraem"),
    ("valle de los ríos Apurímac, Ene y Mantaro", "zone:vraem"),
    ("VALLE DE LOS RIOS APURIMAC, ENE Y MANTARO", "zone:vraem"),
    ("Upper Huallaga", "zone:alto_huallaga"), ("Alto Huallaga", "zone:alto_huallaga"),
    ("Huallaga valley", "zone:alto_huallaga"), ("valle del Huallaga", "zone:alto_huallaga"),
    ("the tri-border", "zone:tri_border"), ("triple frontera", "zone:tri_border"),
    ("tres fronteras", "zone:tri_border"),
    ("zona de frontera con Colombia", "zone:border_colombia"), ("frontera con Brasil", "zone:border_brazil"),
    ("Putumayo", "zone:putumayo"), ("cuenca del Putumayo", "zone:putumayo"),
])
def test_zone_variants_in_both_languages(gazetteer, text, zone):
    assert ids(gazetteer, text)[0] == zone
    (m,) = gazetteer.find_mentions(f"Troops were deployed to {text} last week.")
    assert gazetteer.resolve([m])[0].id == zone


def test_a_hint_word_belongs_to_one_name(gazetteer):
    # "district" is La Unión's; Huánuco after "of" is the region, not a district
    first, second = gazetteer.find_mentions("Police patrolled La Unión district of Huánuco.")
    assert (first.text, first.hint) == ("La Unión district", "district")
    assert second.hint is None and gazetteer.resolve([second])[0].id == "dep:10"
    # but in "the Ucayali district of Padre Abad" the word names Padre Abad, and Ucayali is the region
    first, second = gazetteer.find_mentions("He was taken to the Ucayali district of Padre Abad.")
    assert (first.text, first.hint) == ("Ucayali", None) and gazetteer.resolve([first])[0].id == "dep:25"
    assert second.hint == "district" and gazetteer.resolve([second])[0].id == "dist:250301"


def test_spanish_hint_words(gazetteer):
    (m,) = gazetteer.find_mentions("en el distrito de Pichari, en la provincia de La Convención")[:1]
    assert m.hint == "district" and gazetteer.resolve([m])[0].id == "dist:080910"
    found = gazetteer.find_mentions("llegaron a la ciudad de Pucallpa")
    assert [(m.text, m.hint) for m in found] == [("Pucallpa", "town")]


# ---------------------------------------------------------------------- common words
def test_common_word_place_needs_a_cue_and_is_weak(gazetteer):
    assert gazetteer.needs_cue("La Esperanza") and not gazetteer.needs_cue("Pichari")
    assert gazetteer.find_mentions("La Esperanza was all the families had left.") == []
    (m,) = gazetteer.find_mentions("A cocaine lab was found in La Esperanza on Friday.")
    assert m.weak and m.hint is None and "town:gn3695886" in [c.id for c in m.candidates]
    (m,) = gazetteer.find_mentions("the district of La Esperanza")
    assert m.weak and m.hint == "district"
    (m,) = gazetteer.find_mentions("Los detenidos fueron llevados cerca de La Esperanza.")
    assert m.weak


def test_people_and_foreign_places_need_a_feature_hint(gazetteer):
    # "in" is not enough for a name better known abroad or as a person
    assert gazetteer.find_mentions("The shipment was seized in Santa Cruz, Bolivia.")[0].text == "Bolivia"
    assert gazetteer.find_mentions("He flew into Jorge Chávez airport.") == []
    assert gazetteer.find_mentions("Members of the Mara Salvatrucha were arrested.") == []
    (m,) = gazetteer.find_mentions("the province of Santa Cruz")
    assert m.weak and m.hint == "province"


def test_department_names_are_never_held_back(gazetteer):
    # "San Martín" is also a saint and a Piura neighbourhood in GeoNames: the region needs no cue
    (m,) = gazetteer.find_mentions("San Martín reported new coca fields.")
    assert not m.weak and gazetteer.resolve([m])[0].id == "dep:22"


def test_cli_gazetteer_import(tmp_path, capsys):
    from dashboard.cli import main

    src = tmp_path / "PE.txt"
    src.write_text(geonames_line(990061, "Quimera Oeste", -13.52, -71.97, "PPL", 600) + "not\ta\tgeonames\trow\n",
                   encoding="utf-8")
    assert main(["gazetteer", "import", str(src), "--into", str(tmp_path / "g")]) == 0
    out, err = capsys.readouterr()
    assert "line 2:" in err and "row skipped" in err
    assert out.startswith("1 places added, 0 updated, 0 ignored") and "1 malformed" in out
    assert "town:gn990061" in Gazetteer(user_dir=tmp_path / "g").places
    # a file with no usable row: non-zero status, nothing written
    src.write_text("garbage\n", encoding="utf-8")
    assert main(["gazetteer", "import", str(src), "--into", str(tmp_path / "h")]) == 1
    assert not (tmp_path / "h").exists()
    assert main(["gazetteer", "import", str(tmp_path / "missing.txt"), "--into", str(tmp_path / "h")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_default_user_dir_is_in_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(USER_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # platformdirs follows the XDG variable on Linux
    import sys

    if sys.platform.startswith("linux"):
        assert user_gazetteer_dir() == tmp_path / "incident-map" / "gazetteer"
    assert user_gazetteer_dir().parts[-2:] == ("incident-map", "gazetteer")


def test_concurrent_imports_keep_each_others_places(tmp_path, monkeypatch):
    import threading

    import dashboard.gazetteer as gz

    first_writing, release = threading.Event(), threading.Event()
    real_write = gz._write_towns

    def slow_write(path, towns):
        towns = list(towns)
        if any(t.geonameid == 990071 for t in towns) and not release.is_set():
            first_writing.set()  # the first import has read the folder and is about to write
            release.wait(10)
        real_write(path, towns)

    monkeypatch.setattr(gz, "_write_towns", slow_write)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(geonames_line(990071, "Quimera Uno", -13.52, -71.97), encoding="utf-8")
    b.write_text(geonames_line(990072, "Quimera Dos", -13.52, -71.97), encoding="utf-8")
    first = threading.Thread(target=import_geonames, args=(a, tmp_path / "g"))
    first.start()
    assert first_writing.wait(10)
    second = threading.Thread(target=import_geonames, args=(b, tmp_path / "g"))
    second.start()
    second.join(0.5)
    assert second.is_alive()  # it waits for the first import instead of reading the folder under it
    release.set()
    first.join(10)
    second.join(10)
    g = Gazetteer(user_dir=tmp_path / "g")
    assert {"town:gn990071", "town:gn990072"} <= set(g.places)


def test_districts_created_after_2007_resolve_to_their_province(gazetteer):
    # no polygon in the 2007 layer: "somewhere in Satipo province", never a made-up point
    (place, *_) = gazetteer.match("Vizcatán del Ene")
    assert place.id == "prov:1206" and place.kind == "province"
    assert gazetteer.match("Villa Kintiarina")[0].id == "prov:0809"
