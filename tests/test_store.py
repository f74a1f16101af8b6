import sqlite3

import pytest

from dashboard import pipeline, store
from dashboard.errors import StoreError
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


def test_failed_write_leaves_previous_store(built, tmp_path, monkeypatch):
    target = tmp_path / "keep.sqlite"
    pipeline.build([SEEDS], path=target)
    before = target.read_bytes()

    def boom(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "_insert_frame", boom)
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
