"""Several writers at once, in separate processes: nobody's articles, incidents or review decisions are lost."""

import multiprocessing as mp
import sqlite3
from datetime import date, timedelta

import pytest

from dashboard import pipeline, store
from dashboard.corpus import parse_article
from dashboard.review import ReviewStore, reviews_path

PER_WRITER = 4
TRIALS = 3


def _text(writer: int, k: int) -> str:
    day = date(2019, 1, 1) + timedelta(days=40 * writer + 3 * k)  # one distinct day per article: never merged
    kilos = 100 + 10 * writer + k
    return (f"---\npublished: {day + timedelta(days=1)}\n---\nPolice seized {kilos} kilos of cocaine in Pichari "
            f"on {day:%B} {day.day}, {day.year}.\n")


def _cli_writer(db: str, folder: str, barrier) -> None:
    barrier.wait()
    pipeline.ingest_paths([folder], db)


def _upload_writer(db: str, writer: int, barrier) -> None:
    # the dashboard's "Add articles" panel: bytes parsed with parse_article, then pipeline.ingest
    articles = [parse_article(_text(writer, k).encode(), f"upload-{k}.md") for k in range(PER_WRITER)]
    barrier.wait()
    pipeline.ingest(articles, db)


def _context():
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


@pytest.mark.parametrize("trial", range(TRIALS))
def test_two_ingests_and_an_upload_at_once_keep_everything(tmp_path, store_url, trial):
    db = store_url  # a SQLite file, then a PostGIS database
    folders = []
    for writer in (0, 1):
        folder = tmp_path / f"in{writer}"
        folder.mkdir()
        for k in range(PER_WRITER):
            (folder / f"w{writer}-{k}.md").write_text(_text(writer, k), encoding="utf-8")
        folders.append(folder)
    ctx = _context()
    barrier = ctx.Barrier(3)
    procs = [ctx.Process(target=_cli_writer, args=(str(db), str(folders[0]), barrier)),
             ctx.Process(target=_cli_writer, args=(str(db), str(folders[1]), barrier)),
             ctx.Process(target=_upload_writer, args=(str(db), 2, barrier))]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    frame = store.load(db)
    expected_kilos = {float(100 + 10 * w + k) for w in range(3) for k in range(PER_WRITER)}
    assert set(frame["quantity_kg"]) == expected_kilos
    assert len(frame) == 3 * PER_WRITER
    assert len(store.load_articles(db)) == 3 * PER_WRITER


def _review_writer(path: str, n: int, barrier, errors) -> None:
    barrier.wait()
    try:
        reviews = ReviewStore(path)
        for _ in range(3):  # readers and writers opening the new file together
            reviews.snapshot()
        reviews.set_status(f"inc-{n}", "confirmed")
        reviews.history()
    except sqlite3.Error as exc:  # reported to the parent, asserted empty there
        errors.append(f"{n}: {exc}")


@pytest.mark.parametrize("trial", range(5))
def test_reviews_file_created_by_several_processes_at_once(tmp_path, trial):
    path = reviews_path(tmp_path / "s.sqlite")
    ctx = _context()
    n = 8
    barrier = ctx.Barrier(n)
    with ctx.Manager() as manager:
        errors = manager.list()
        procs = [ctx.Process(target=_review_writer, args=(str(path), i, barrier, errors)) for i in range(n)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        errors = list(errors)
    assert errors == []
    statuses, _, _ = ReviewStore(path).snapshot()
    assert statuses == {f"inc-{i}": "confirmed" for i in range(n)}


def _analyst(db: str, ids: list[str], status: str, barrier, errors) -> None:
    # one analyst's dashboard: its own process, its own connections to the store
    reviews = ReviewStore(reviews_path(db))
    barrier.wait()
    try:
        for n, iid in enumerate(ids):
            reviews.set_status(iid, status, note=f"{status} {n}")
            reviews.correct(iid, {"killed": n}, original={})
    except Exception as exc:  # reported to the parent, asserted empty there
        errors.append(f"{status}: {exc!r}")


@pytest.mark.parametrize("trial", range(2))
def test_two_analysts_reviewing_at_once_lose_no_decision(tmp_path, store_url, trial):
    db = store_url
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(PER_WRITER):
        (folder / f"a{k}.md").write_text(_text(0, k), encoding="utf-8")
    pipeline.ingest_paths([folder], db)
    ids = sorted(store.load(db)["id"])
    assert len(ids) == PER_WRITER
    # both analysts go through every incident, each in a different order, so their writes interleave
    ctx = _context()
    barrier = ctx.Barrier(2)
    with ctx.Manager() as manager:
        errors = manager.list()
        procs = [ctx.Process(target=_analyst, args=(str(db), ids, "confirmed", barrier, errors)),
                 ctx.Process(target=_analyst, args=(str(db), ids[::-1], "rejected", barrier, errors))]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
        errors = list(errors)
    assert errors == [] and [p.exitcode for p in procs] == [0, 0]
    reviews = ReviewStore(reviews_path(db))
    trail = reviews.history()
    # every decision and correction of both analysts has its audit row: nothing overwritten unseen
    assert sorted((e.incident_id, e.new) for e in trail if e.field == "status") == sorted(
        [(i, "confirmed") for i in ids] + [(i, "rejected") for i in ids])
    assert len([e for e in trail if e.field == "killed"]) == 2 * len(ids)
    # each incident ends with the decision written last, and the audit trail says who came last
    statuses, corrections, _ = reviews.snapshot()
    for iid in ids:
        last = [e for e in trail if e.incident_id == iid and e.field == "status"][-1]
        assert statuses[iid] == last.new
        first = [e for e in trail if e.incident_id == iid and e.field == "status"][0]
        assert last.old == first.new  # the second decision saw the first one, not "needs review"
