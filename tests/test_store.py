import os
import random
import shutil
import sqlite3
import stat
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import platformdirs
import pytest

from dashboard import pipeline, store
from dashboard.cli import main
from dashboard.corpus import Article
from dashboard.errors import DamagedStoreError, StoreError
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "s.sqlite"
    report = pipeline.build([SEEDS], path=path)
    return path, report


def test_build_reads_every_seed(built):
    path, report = built
    assert report.articles == 5 and report.errors == []
    frame = store.load(path)
    assert len(frame) == report.incidents
    # 9 events + 2 background statistics, as read in test_extraction
    assert (~frame["background"]).sum() == 9 and frame["background"].sum() == 2


def test_rebuild_is_idempotent(built, tmp_path):
    path, _ = built
    again = tmp_path / "again.sqlite"
    pipeline.build([SEEDS], path=again)
    a, b = store.load(path), store.load(again)
    assert sorted(a["id"]) == sorted(b["id"])
    assert a.sort_values("id")["date"].tolist() == b.sort_values("id")["date"].tolist()


def test_loaded_frame_keeps_types_and_geometry(built):
    frame = store.load(built[0])
    callao = frame[frame["location_id"] == "town:callao"].iloc[0]
    assert callao.geometry.geom_type == "Point" and callao["quantity_kg"] == 1417.0
    assert callao["title"].startswith("Shining Path guerrillas")
    vraem = frame[frame["location_id"] == "zone:vraem"]
    assert all(g.geom_type in ("Polygon", "MultiPolygon") for g in vraem.geometry)
    assert isinstance(frame.iloc[0]["departments"], list)


def test_loaded_rows_are_sorted_with_unlocated_ones_empty_and_footprints_shared(store_url):
    # written out of order; one incident has no place, two share the VRAEM footprint
    from dashboard.gazetteer import default_gazetteer

    vraem = default_gazetteer().get("zone:vraem")
    frame = gpd.GeoDataFrame({
        "id": ["z9", "a1", "m5", "b2"], "type": ["seizure"] * 4, "article": "a.txt",
        "date": ["2024-03-01", "2024-03-01", None, "2023-12-31"], "date_end": [None] * 4,
        "location_id": ["zone:vraem", "zone:vraem", None, None], "geo_precision": ["region", "region", None, None],
        "location_name": [vraem.name, vraem.name, None, None], "departments": [["Ayacucho"], ["Ayacucho"], [], []],
        "zones": [["VRAEM"], ["VRAEM"], [], []], "actors": [[], ["Army"], [], []], "background": False,
        "evidence": "x", "evidence_start": 0, "evidence_end": 1},
        geometry=[vraem.footprint, vraem.footprint, None, gpd.points_from_xy([-77.1], [-12.0])[0]], crs=4326)
    art = Article(name="a.txt", text="x", title="t", published=None, content_hash="0" * 64)
    store.write(store_url, [art], frame)
    back = store.load(store_url)
    # by date then id; the undated one first (an empty date sorts before any other)
    assert list(back["id"]) == ["m5", "b2", "a1", "z9"]
    assert back.geometry.iloc[0] is None  # no place: no geometry, not a point at NaN
    assert back.geometry.iloc[1].geom_type == "Point" and back.geometry.iloc[1].x == pytest.approx(-77.1)
    assert back.geometry.iloc[2] is back.geometry.iloc[3]  # one footprint object for both
    assert back.geometry.iloc[2].equals(vraem.footprint)
    assert list(back["actors"]) == [[], [], ["Army"], []] and list(back["zones"].iloc[2:]) == [["VRAEM"]] * 2
    assert list(back["place_ids"]) == [[], [], ["zone:vraem"], ["zone:vraem"]]

def test_failed_write_leaves_previous_store(built, tmp_path, monkeypatch):
    target = tmp_path / "keep.sqlite"
    pipeline.build([SEEDS], path=target)
    before = target.read_bytes()

    def boom(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "_frame_rows", boom)
    with pytest.raises(StoreError, match="previous store is unchanged"):
        pipeline.build([SEEDS], path=target)
    assert target.read_bytes() == before
    # no temporary file left behind; the backup taken before the write holds the same store
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.sqlite", "keep.sqlite.bak"]
    assert len(store.load(target.with_name("keep.sqlite.bak"))) == len(store.load(target))


def test_build_with_nothing_readable(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(StoreError, match="empty"):
        pipeline.build([tmp_path], path=tmp_path / "s.sqlite")
    assert not (tmp_path / "s.sqlite").exists()


def test_missing_store_message(tmp_path):
    with pytest.raises(StoreError, match="incident-map build"):
        store.load(tmp_path / "nope.sqlite")


def test_article_text(built):
    rec = store.article_text("002_a1f0015beb47e473.txt", built[0])
    assert rec["published"] == "2017-07-24" and "four helicopters" in rec["text"]


# ------------------------------------------------------------------------------------------ damaged stores
SEIZURE = ("---\npublished: 2021-05-05\n---\nPolice seized 300 kilos of cocaine in Pichari on May 3, 2021.\n")
AMBUSH = ("---\npublished: 2021-06-02\n---\nSoldiers were ambushed in Llochegua on June 1, 2021; two died.\n")


def two_article_store(folder):
    """A store that received two ingests (so a backup of the first exists) and the files it was made from."""
    db = folder / "s.sqlite"
    (folder / "in").mkdir()
    (folder / "in" / "a.md").write_text(SEIZURE, encoding="utf-8")
    (folder / "in" / "b.md").write_text(AMBUSH, encoding="utf-8")
    pipeline.ingest_paths([folder / "in" / "a.md"], db)
    pipeline.ingest_paths([folder / "in" / "b.md"], db)
    return db


def new_article(folder):
    (folder / "new").mkdir(exist_ok=True)
    path = folder / "new" / "c.md"
    path.write_text(SEIZURE.replace("300 kilos", "20 kilos").replace("Pichari", "Tumbes"), encoding="utf-8")
    return path


def test_overwritten_header_is_refused_and_left_untouched(tmp_path):
    db = two_article_store(tmp_path)
    raw = bytearray(db.read_bytes())
    raw[:100] = b"\x00" * 100
    db.write_bytes(bytes(raw))
    with pytest.raises(DamagedStoreError, match="damaged") as info:
        pipeline.ingest_paths([new_article(tmp_path)], db)
    assert db.read_bytes() == bytes(raw)  # never overwritten, never "1 articles"
    message = str(info.value)
    assert str(store.backup_path(db)) in message and "cp " in message  # how to restore
    with pytest.raises(DamagedStoreError):
        store.load(db)
    with pytest.raises(DamagedStoreError):
        pipeline.build([SEEDS], path=db)
    assert db.read_bytes() == bytes(raw)


def test_backup_holds_the_store_before_the_last_write(tmp_path):
    db = two_article_store(tmp_path)
    # the backup was taken before the second ingest: the first article only
    assert [a.name for a in store.load_articles(store.backup_path(db))] == ["a.md"]
    assert [a.name for a in store.load_articles(db)] == ["a.md", "b.md"]
    # restoring as the message says gives a working store again
    db.write_bytes(b"\x00" * 4096)
    with pytest.raises(DamagedStoreError):
        store.load(db)
    shutil.copy(store.backup_path(db), db)
    assert len(store.load(db)) == 1


def test_zero_byte_store_is_refused(tmp_path):
    db = tmp_path / "s.sqlite"
    db.write_bytes(b"")
    with pytest.raises(DamagedStoreError, match="empty"):
        store.load(db)
    with pytest.raises(DamagedStoreError, match="empty"):
        pipeline.ingest_paths([new_article(tmp_path)], db)
    assert db.read_bytes() == b"" and not store.backup_path(db).exists()


def test_damaged_page_in_the_middle_is_refused_not_a_traceback(tmp_path):
    db = two_article_store(tmp_path)
    raw = bytearray(db.read_bytes())
    page = int.from_bytes(raw[16:18], "big")  # the page size, from the SQLite header
    assert len(raw) >= 3 * page
    raw[page:page + 64] = random.Random(7).randbytes(64)  # page 2: a b-tree page header and its cell pointers
    db.write_bytes(bytes(raw))
    with pytest.raises(DamagedStoreError):
        store.load(db)
    with pytest.raises(DamagedStoreError):
        pipeline.ingest_paths([new_article(tmp_path)], db)
    assert db.read_bytes() == bytes(raw)


def test_damage_after_a_good_read_is_still_refused(tmp_path):
    # the full page check runs once per version of the file in a process; damage is a new version, even when
    # whoever damaged the file put its modification time back
    db = two_article_store(tmp_path)
    assert len(store.load(db)) > 0
    assert len(store.load(db)) > 0  # unchanged: read again without the check, same answer
    before = db.stat()
    raw = bytearray(db.read_bytes())
    page = int.from_bytes(raw[16:18], "big")
    raw[page:page + 64] = random.Random(11).randbytes(64)
    db.write_bytes(bytes(raw))
    os.utime(db, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(DamagedStoreError):
        store.load(db)


def test_a_file_that_is_no_store_is_refused(tmp_path):
    other = tmp_path / "s.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (t TEXT)")
    con.commit()
    con.close()
    before = other.read_bytes()
    with pytest.raises(DamagedStoreError, match="not an incident store"):
        pipeline.ingest_paths([new_article(tmp_path)], other)
    assert other.read_bytes() == before


def test_cli_reports_a_damaged_store_without_traceback(tmp_path, capsys):
    db = two_article_store(tmp_path)
    db.write_bytes(b"garbage" * 100)
    assert main(["--store", str(db), "ingest", str(new_article(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert "damaged" in err and str(store.backup_path(db)) in err and "Traceback" not in err
    assert main(["--store", str(db), "export", "-o", str(tmp_path / "x.geojson")]) == 1
    assert "damaged" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ paths and files
def test_store_path_with_uri_characters(tmp_path):
    folder = tmp_path / "odd?mode=memory#x"
    folder.mkdir()
    db = folder / "s?.sqlite"
    pipeline.ingest_paths([new_article(tmp_path)], db)
    assert db.is_file() and len(store.load(db)) == 1
    # nothing was written under the name before '?' (which an unescaped URI would have opened)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "odd?mode=memory#x"]
    assert sorted(p.name for p in folder.iterdir()) == ["s?.sqlite"]


def test_writes_keep_the_file_mode(tmp_path):
    db = two_article_store(tmp_path)
    db.chmod(0o640)
    pipeline.ingest_paths([new_article(tmp_path)], db)
    assert stat.S_IMODE(db.stat().st_mode) == 0o640
    assert stat.S_IMODE(store.backup_path(db).stat().st_mode) == 0o640


def test_new_store_gets_the_umask_default_mode(tmp_path):
    old = os.umask(0o027)
    try:
        pipeline.ingest_paths([new_article(tmp_path)], tmp_path / "s.sqlite")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "s.sqlite").stat().st_mode) == 0o640  # 0o666 & ~0o027, not mkstemp's 0600


def test_stale_temporary_files_are_cleaned(tmp_path):
    db = two_article_store(tmp_path)
    stale = tmp_path / ".s.sqlite.tmp-4242-deadbeef0000"
    fresh = tmp_path / ".s.sqlite.tmp-4243-deadbeef0001"
    foreign = tmp_path / ".other.sqlite.tmp-1-x"
    for f in (stale, fresh, foreign):
        f.write_bytes(b"partial")
    old = time.time() - store.STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))
    os.utime(foreign, (old, old))
    pipeline.ingest_paths([new_article(tmp_path)], db)
    assert not stale.exists()
    assert fresh.exists()  # maybe another writer's, still being written
    assert foreign.exists()  # not ours


def test_failed_new_store_leaves_no_file(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise sqlite3.OperationalError("disk full")

    monkeypatch.setattr(store, "_frame_rows", boom)
    with pytest.raises(StoreError, match="nothing was written"):
        pipeline.ingest_paths([new_article(tmp_path)], tmp_path / "s.sqlite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


def test_default_store_is_in_the_user_data_folder(monkeypatch):
    monkeypatch.delenv("INCIDENT_MAP_STORE", raising=False)
    expected = platformdirs.user_data_path("incident-map") / "incidents.sqlite"
    assert store.store_path() == expected
    assert store.ROOT not in expected.parents  # not inside the source tree
    monkeypatch.setenv("INCIDENT_MAP_STORE", "/elsewhere/x.sqlite")
    assert store.store_path() == Path("/elsewhere/x.sqlite")
    assert store.store_path("given.sqlite") == Path("given.sqlite")


def test_tests_never_use_the_real_user_data_folder():
    real = platformdirs.user_data_path("incident-map")
    assert real not in store.store_path().parents


# ------------------------------------------------------------------------------------------ figures
def test_figure_too_large_for_integer_is_stored_as_real(tmp_path):
    path = tmp_path / "huge.md"
    path.write_text("---\npublished: 2021-05-04\n---\nPolice arrested 100000000000000000000000 people in Pichari "
                    "on May 3, 2021.\n", encoding="utf-8")
    db = tmp_path / "s.sqlite"
    report = pipeline.ingest_paths([path], db)
    assert report.added == ["huge.md"]
    (row,) = store.load(db).itertuples()
    assert row.count == pytest.approx(1e23)
    con = sqlite3.connect(db)
    assert con.execute("SELECT typeof(count) FROM incidents").fetchone() == ("real",)
    con.close()


def test_no_infinity_in_the_store(tmp_path):
    frame = gpd.GeoDataFrame({
        "id": ["i1"], "type": ["seizure"], "article": ["a.md"], "date": ["2021-05-03"], "date_end": ["2021-05-03"],
        "date_precision": ["day"], "place": ["Pichari"], "location_id": [None], "geo_precision": [None],
        "departments": [[]], "province": [None], "district": [None], "zones": [[]], "killed": [float("inf")],
        "wounded": [None], "quantity_kg": [float("inf")], "substance": ["cocaine"], "count": [10**30],
        "actors": [[]], "reported_by": [None], "evidence": ["x"], "evidence_start": [0], "evidence_end": [1],
        "background": [False], "unlocated_reason": [None],
        "sources": [[{"article": "a.md", "evidence": "x", "weight": float("inf")}]]},
        geometry=[None], crs=4326)
    art = Article(name="a.md", text="x", content_hash="0" * 64)
    db = tmp_path / "s.sqlite"
    store.write(db, [art], frame)
    assert b"Infinity" not in db.read_bytes()
    (row,) = store.load(db).itertuples()
    assert pd.isna(row.killed) and pd.isna(row.quantity_kg) and row.count == pytest.approx(1e30)
    assert row.sources[0]["weight"] is None


def test_random_damage_anywhere_gives_a_store_error_never_a_traceback(tmp_path):
    good = two_article_store(tmp_path)
    size = good.stat().st_size
    rng = random.Random(11)
    for n, offset in enumerate(range(0, size - 100, max(1, (size - 100) // 16))):
        db = tmp_path / f"d{n}.sqlite"
        raw = bytearray(good.read_bytes())
        raw[offset:offset + 100] = rng.randbytes(100)
        db.write_bytes(bytes(raw))
        for attempt in (lambda db=db: store.load(db),
                        lambda db=db: pipeline.ingest_paths([new_article(tmp_path)], db)):
            try:
                attempt()
            except StoreError:
                assert db.read_bytes() == bytes(raw)  # refused, and left untouched


def test_undecodable_text_in_a_row_is_damage(tmp_path):
    db = two_article_store(tmp_path)
    con = sqlite3.connect(db)
    con.execute("UPDATE articles SET title = CAST(x'fffe41' AS TEXT) WHERE name = 'a.md'")  # not UTF-8
    con.commit()
    con.close()
    before = db.read_bytes()
    with pytest.raises(DamagedStoreError, match="damaged"):
        store.load(db)
    with pytest.raises(DamagedStoreError, match="damaged"):
        pipeline.ingest_paths([new_article(tmp_path)], db)
    assert db.read_bytes() == before


def test_language_and_flags_round_trip(tmp_path):
    # The article's language (given or detected when read) and the extractor's review flags are stored and
    # exported with every incident.
    path = tmp_path / "flagged.md"
    path.write_text("---\npublished: 2021-05-04\nlanguage: en\n---\nPolice seized 250 tonnes of cocaine in "
                    "Paita on May 3, 2021.\n", encoding="utf-8")
    db = tmp_path / "s.sqlite"
    pipeline.ingest_paths([path], db)
    (row,) = store.load(db).to_dict("records")
    assert row["language"] == "en"
    assert "implausible quantity_kg" in row["flags"]
    assert store.load_articles(db)[0].language == "en"
