"""The PostgreSQL + PostGIS store beside SQLite: same content and behaviour, spatial filters in the database,
refusals, ``init-db`` and ``copy`` both ways. Runs against the session's throwaway cluster (see conftest)."""

import geopandas as gpd
import geopandas.testing
import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa
from shapely.geometry import Point, box

from dashboard import pipeline, review, store, store_pg, transfer
from dashboard.cli import main
from dashboard.corpus import Article
from dashboard.errors import DamagedStoreError, StoreError
from dashboard.extraction import Extractor
from tests.conftest import SEEDS

CALLAO = box(-77.2, -12.1, -77.0, -11.9)  # around Callao's port


def test_seeds_read_the_same_on_both_backends(store_url):
    report = pipeline.build([SEEDS], path=store_url)
    frame = store.load(store_url)
    assert report.articles == 5 and len(frame) == report.incidents
    assert (~frame["background"]).sum() == 9 and frame["background"].sum() == 2  # as in test_store
    callao = frame[frame["location_id"] == "town:callao"].iloc[0]
    assert callao.geometry.geom_type == "Point" and callao["quantity_kg"] == 1417.0
    assert callao["title"].startswith("Shining Path guerrillas") and frame["published_inferred"].dtype == bool
    vraem = frame[frame["location_id"] == "zone:vraem"]
    assert len(vraem) and all(g.geom_type in ("Polygon", "MultiPolygon") for g in vraem.geometry)
    assert all(isinstance(v, list) for v in frame["departments"]) and frame["killed"].dtype == "Int64"
    assert store.article_text(callao["article"], store_url)["text"][callao["evidence_start"]:].startswith(
        callao["evidence"][:20])


def test_both_backends_give_the_same_frame(tmp_path, postgis):
    sqlite_db, pg = tmp_path / "s.sqlite", postgis.new_database()
    pipeline.build([SEEDS], path=sqlite_db)
    pipeline.build([SEEDS], path=pg)
    a, b = store.load(sqlite_db), store.load(pg)
    geopandas.testing.assert_geodataframe_equal(a, b[a.columns])


def test_figures_beyond_64_bits_and_infinities(store_url):
    frame = gpd.GeoDataFrame({
        "id": ["i1"], "type": ["seizure"], "article": ["a.md"], "date": ["2021-05-03"], "date_end": ["2021-05-03"],
        "date_precision": ["day"], "place": ["Pichari"], "location_id": [None], "geo_precision": [None],
        "departments": [[]], "province": [None], "district": [None], "zones": [[]], "killed": [float("inf")],
        "wounded": [None], "quantity_kg": [float("inf")], "substance": ["cocaine"], "count": [10**30],
        "actors": [[]], "reported_by": [None], "evidence": ["x"], "evidence_start": [0], "evidence_end": [1],
        "background": [False], "unlocated_reason": [None],
        "sources": [[{"article": "a.md", "evidence": "x", "weight": float("inf")}]]},
        geometry=[None], crs=4326)
    store.write(store_url, [Article(name="a.md", text="x", content_hash="0" * 64)], frame)
    (row,) = store.load(store_url).itertuples()
    assert pd.isna(row.killed) and pd.isna(row.quantity_kg) and row.count == pytest.approx(1e30)
    assert row.sources[0]["weight"] is None and row.geometry is None


def test_a_spatial_filter_reads_only_the_rows_inside(store_url, monkeypatch):
    pipeline.build([SEEDS], path=store_url)
    everything = store.load(store_url)
    expected = everything[everything.geometry.intersects(CALLAO)]
    assert 0 < len(expected) < len(everything)
    fetched = []
    real = store_pg._rows_frame
    monkeypatch.setattr(store_pg, "_rows_frame", lambda rows: fetched.append(len(rows)) or real(rows))
    inside = store.load(store_url, within=CALLAO)
    assert sorted(inside["id"]) == sorted(expected["id"])
    if store.is_url(store_url):
        assert fetched == [len(expected)]  # PostGIS filtered: only those rows came over the connection
    # a footprint counts when it overlaps: the VRAEM's polygon meets a box in Ayacucho's jungle
    vraem = store.load(store_url, within=Point(-73.9, -12.4).buffer(0.05))
    assert "zone:vraem" in set(vraem["location_id"])


def test_export_of_a_box(store_url, tmp_path):
    import json

    pipeline.build([SEEDS], path=store_url)
    everything = store.load(store_url)
    out = tmp_path / "box.geojson"
    assert main(["--store", str(store_url), "export", "--bbox=-77.2,-12.1,-77.0,-11.9", "-o", str(out)]) == 0
    ids = {f["id"] for f in json.loads(out.read_text(encoding="utf-8"))["features"]}
    assert ids == set(everything[everything.geometry.intersects(CALLAO)]["id"]) and ids
    with pytest.raises(SystemExit):
        main(["--store", str(store_url), "export", "--bbox=-77,-12", "-o", str(out)])


def test_the_version_changes_with_every_write_only(tmp_path, store_url):
    assert store.version(store_url) == 0
    pipeline.ingest([Article(name="a.md", text="Police seized 300 kilos of cocaine in Pichari on May 3, 2021.",
                             content_hash="a" * 64)], store_url)
    first = store.version(store_url)
    assert first != 0
    pipeline.ingest([Article(name="a.md", text="Police seized 300 kilos of cocaine in Pichari on May 3, 2021.",
                             content_hash="a" * 64)], store_url)
    assert store.version(store_url) == first  # nothing changed, nothing written
    pipeline.ingest([Article(name="b.md", text="Police arrested 4 people in Tumbes on May 1, 2021.",
                             content_hash="b" * 64)], store_url)
    assert store.version(store_url) != first
    before = review.version(store_url)
    review.ReviewStore(review.reviews_path(store_url)).set_status("x", "confirmed")
    assert review.version(store_url) != before


def test_init_db_creates_the_schema_in_one_command(store_url, capsys):
    assert main(["init-db", str(store_url)]) == 0
    assert "created an empty store" in capsys.readouterr().out
    assert store.schema_version(store_url) == store.SCHEMA_VERSION and len(store.load(store_url)) == 0
    assert main(["--store", str(store_url), "init-db"]) == 0
    assert "already there" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------- PostGIS only
def test_the_postgis_tables_follow_the_schema(postgis):
    url = postgis.new_database()
    store.init(url)
    with store_pg.engine(url).connect() as conn:
        columns = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("incidents")}
        geometry = set(conn.execute(sa.text("SELECT f_table_name, f_geometry_column, type, srid "
                                            "FROM geometry_columns")).all())
    assert set(columns) == {n for n in store.schema.STORED_NAMES if n not in ("lon", "lat")} | {"geom"}
    assert isinstance(columns["departments"], sa.ARRAY) and isinstance(columns["quantity_kg"], sa.Double)
    assert geometry == {("incidents", "geom", "POINT", 4326), ("locations", "geom", "GEOMETRY", 4326)}


def test_a_foreign_database_is_refused_and_left_alone(postgis, tmp_path):
    url = postgis.new_database()
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE TABLE payroll (name text)")
        con.execute("INSERT INTO payroll VALUES ('x')")
    with pytest.raises(StoreError, match="not an incident store: it holds other tables"):
        pipeline.build([SEEDS], path=url)
    with pytest.raises(StoreError, match="not an incident store"):
        store.load(url)
    with psycopg.connect(url) as con:
        assert con.execute("SELECT count(*) FROM payroll").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'incidents'").fetchone() == (0,)


def test_a_damaged_postgis_store_is_refused(postgis):
    url = postgis.new_database()
    pipeline.build([SEEDS], path=url)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DELETE FROM meta WHERE key = 'store'")
    for attempt in (lambda: store.load(url), lambda: pipeline.build([SEEDS], path=url)):
        with pytest.raises(DamagedStoreError, match="lacks this program's stamp"):
            attempt()
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("INSERT INTO meta VALUES ('store', 'incident-map')")
        con.execute("DROP TABLE locations")
    with pytest.raises(DamagedStoreError, match="no locations table"):
        store.load(url)


def test_an_empty_database_or_no_server_says_what_to_do(postgis, tmp_path):
    url = postgis.new_database()
    with pytest.raises(StoreError, match="no store at .*init-db"):
        store.load(url)
    nowhere = f"postgresql://analyst:s3cret@/incidents?host={tmp_path}"
    with pytest.raises(StoreError, match="cannot connect") as err:
        store.load(nowhere)
    assert "s3cret" not in str(err.value)


def test_a_failed_write_leaves_the_previous_store(postgis, monkeypatch):
    url = postgis.new_database()
    pipeline.build([SEEDS], path=url)
    before, version = store.load(url), store.version(url)

    def boom(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(store_pg, "_upsert", boom)
    with pytest.raises(StoreError, match="previous store is unchanged"):
        pipeline.ingest([Article(name="n.md", text="Police arrested 4 people in Tumbes on May 1, 2021.",
                                 content_hash="n" * 64)], url)
    monkeypatch.undo()
    geopandas.testing.assert_geodataframe_equal(store.load(url), before)
    assert store.version(url) == version


def test_an_outdated_postgis_store_is_rebuilt_and_keeps_its_reviews(postgis):
    url = postgis.new_database()
    pipeline.build([SEEDS], path=url)
    first = store.load(url)["id"].iloc[0]
    review.ReviewStore(url).set_status(first, "confirmed")
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    counter = store.version(url)
    assert pipeline.needs_build(url)
    with pytest.raises(StoreError, match="schema version 3, expected"):
        store.load(url)
    pipeline.ensure(url)
    assert store.schema_version(url) == store.SCHEMA_VERSION and len(store.load(url)) == 11
    assert review.ReviewStore(url).snapshot()[0] == {first: "confirmed"}
    assert store.version(url) > counter  # the change counter goes on: no cached view is taken for the new one


def test_a_write_may_name_more_ids_than_postgresql_takes_parameters(postgis):
    url = postgis.new_database()
    pipeline.build([SEEDS], path=url)
    ids = [f"gone-{n}" for n in range(70_000)] + [store.load(url)["id"].iloc[0]]
    with store_pg.engine(url).connect() as conn:
        assert len(store_pg._incident_rows(conn, ids)) == 1
        assert len(store_pg._cached_incidents(conn, "v", ids)) == 0


# ------------------------------------------------------------------------------------------------ copy
def _reviewed_store(db) -> None:
    pipeline.build([SEEDS], path=db)
    frame = store.load(db)
    rs = review.ReviewStore(review.reviews_path(db))
    callao = frame[frame["location_id"] == "town:callao"].iloc[0]
    rs.set_status(callao["id"], "rejected", note="a duplicate")
    rs.correct(callao["id"], {"killed": 2, "actors": ["Shining Path"]}, original=callao.to_dict(), note="ñ")
    rec = store.article_text(callao["article"], db)
    rs.add({"type": "arrest", "article": rec["name"], "evidence_start": 0, "evidence_end": 20,
            "place_ids": ["town:callao"]}, note="missed")


def test_copy_sqlite_to_postgis_and_back_is_equal(tmp_path, postgis, monkeypatch, gazetteer):
    source, pg, back = tmp_path / "a.sqlite", postgis.new_database(), tmp_path / "b.sqlite"
    _reviewed_store(source)
    assert main(["copy", str(source), pg]) == 0
    assert main(["copy", pg, str(back)]) == 0
    for copied in (pg, back):
        geopandas.testing.assert_geodataframe_equal(store.load(copied), store.load(source))
        assert store.stored_articles(copied) == store.stored_articles(source)
        assert store.extras(copied) == store.extras(source)
        original, other = (review.ReviewStore(review.reviews_path(x)) for x in (source, copied))
        assert other.history() == original.history() and other.snapshot() == original.snapshot()
        reviewed = review.load_reviewed(copied, gazetteer)
        assert reviewed.set_index("id")["review_status"].to_dict() == review.load_reviewed(
            source, gazetteer).set_index("id")["review_status"].to_dict()
    # the extraction cache came along: building the same seeds into a copy extracts nothing
    calls = []
    monkeypatch.setattr(Extractor, "extract", lambda self, article: calls.append(article.name) or [])
    pipeline.build([SEEDS], path=pg)
    assert calls == []


def test_copy_refuses_a_store_that_is_not_empty_unless_replace(tmp_path, postgis):
    source, pg = tmp_path / "a.sqlite", postgis.new_database()
    pipeline.build([SEEDS], path=source)
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text("Police arrested 4 people in Tumbes on May 1, 2021.\n", encoding="utf-8")
    pipeline.ingest_paths([other], pg)
    with pytest.raises(StoreError, match="not empty"):
        transfer.copy(source, pg)
    assert [a.name for a in store.load_articles(pg)] == ["x.md"]  # untouched
    assert main(["copy", "--replace", str(source), pg]) == 0
    assert sorted(a.name for a in store.load_articles(pg)) == sorted(a.name for a in store.load_articles(source))
    with pytest.raises(StoreError, match="onto itself"):
        transfer.copy(pg, pg)


# ------------------------------------------------------------------------------------------- dashboard
def test_the_dashboard_runs_on_a_postgis_store_and_sees_new_reviews(postgis, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.test_ui import APP, metrics

    url = postgis.new_database().replace("postgres@", "postgres:s3cret@")  # the test server trusts any password
    monkeypatch.setenv("INCIDENT_MAP_STORE", url)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()  # the first run builds the store from seeds/ into the database
    assert not at.exception
    # the figures of test_ui's default view: 9 events, 1,417 + 1,500 kg
    assert metrics(at)["Incidents"] == "9" and metrics(at)["Kilograms seized"] == "2,917"
    database = url.split("/")[3].split("?")[0]
    captions = [c.value.replace("\\", "") for c in at.caption]  # Markdown escapes taken off
    assert any(database in c for c in captions) and not any("s3cret" in c for c in captions), captions
    # another analyst rejects the Callao seizure: the change counter makes the next run read it
    frame = store.load(url)
    callao = frame[frame["location_id"] == "town:callao"].iloc[0]
    review.ReviewStore(review.reviews_path(url)).set_status(callao["id"], "rejected")
    at.run()
    assert metrics(at)["Incidents"] == "8" and metrics(at)["Kilograms seized"] == "1,500"
