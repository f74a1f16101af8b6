"""Incremental ingest: only new or changed articles are extracted; --jobs spreads extraction over processes."""

import os
import shutil
import sqlite3
from datetime import date, timedelta

import pytest

from dashboard import batch, langpack, pipeline, store
from dashboard.cli import main
from dashboard.corpus import parse_article
from dashboard.extraction import Extractor

A = ("---\npublished: 2021-05-04\noutlet: Andina\n---\nPolice seized 1.2 tons of cocaine in Pichari on May 3, "
     "the Interior Ministry said.\n")
B = ("---\npublished: 2021-05-05\noutlet: RPP\n---\nSoldiers seized 1,200 kilograms of cocaine in the VRAEM on "
     "May 3 and arrested two men, RPP reported.\n")
C = "---\npublished: 2021-05-20\n---\nPolice seized 300 kilos of cocaine in Pichari on May 18.\n"


def upload(text, name):
    return parse_article(text.encode(), name)


@pytest.fixture
def calls(monkeypatch):
    """The names of the articles the extractor is run on (in this process)."""
    seen = []
    real = Extractor.extract

    def counting(self, article):
        seen.append(article.name)
        return real(self, article)

    monkeypatch.setattr(Extractor, "extract", counting)
    return seen


def dump(db, skip=("meta",)):
    """Every table of a store, rows sorted (what two stores must agree on)."""
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"'))) for t in tables if t not in skip}
    finally:
        con.close()


def incidents_without_history(db):
    """Incident rows without ``former_ids`` (which record the ingest history, not the content)."""
    con = sqlite3.connect(db)
    try:
        con.row_factory = sqlite3.Row
        return sorted(repr({k: r[k] for k in r.keys() if k != "former_ids"})
                      for r in con.execute("SELECT * FROM incidents"))
    finally:
        con.close()


def loaded_without_history(db):
    """The incidents as loaded from either backend, without ``former_ids``, geometry as WKT, sorted."""
    frame = store.load(db)
    frame["wkt"] = [g.wkt if g is not None else None for g in frame.geometry]
    records = frame.drop(columns=["former_ids", "geometry"]).to_dict("records")
    return sorted(repr(sorted(r.items())) for r in records)


def corpus(folder, n):
    """``n`` short articles, one event each on its own day (none merge), written as files."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        day = date(2020, 1, 1) + timedelta(days=3 * k)
        (folder / f"a{k:02d}.md").write_text(
            f"---\npublished: {day + timedelta(days=1)}\n---\nPolice seized {100 + k} kilos of cocaine in Pichari "
            f"on {day:%B} {day.day}, {day.year}.\n", encoding="utf-8")
    return folder


def test_adding_an_article_extracts_only_that_article(store_factory, calls):
    db = store_factory("s")
    pipeline.ingest([upload(A, "a.md"), upload(C, "c.md")], db)
    assert sorted(calls) == ["a.md", "c.md"]
    calls.clear()
    report = pipeline.ingest([upload(B, "b.md")], db)
    assert calls == ["b.md"]
    assert report.added == ["b.md"] and report.articles == 3
    # the cross-article merge is redone: b.md's report of the May 3 seizure joins a.md's
    may3 = store.load(db).query("date == '2021-05-03'")
    assert len(may3) == 1 and sorted(s["article"] for s in may3.iloc[0]["sources"]) == ["a.md", "b.md"]
    # and the store holds what one ingest of all three gives
    calls.clear()
    once = store_factory("once")
    pipeline.ingest([upload(A, "a.md"), upload(C, "c.md"), upload(B, "b.md")], once)
    assert loaded_without_history(db) == loaded_without_history(once)


def test_build_takes_unchanged_articles_from_the_cache(tmp_path, store_url, calls):
    folder = corpus(tmp_path / "in", 3)
    db = store_url
    pipeline.build([folder], db)
    assert len(calls) == 3
    calls.clear()
    (folder / "a01.md").write_text(C, encoding="utf-8")
    report = pipeline.build([folder], db)
    assert calls == ["a01.md"] and report.incidents == 3


def test_a_changed_language_pack_re_extracts_everything(tmp_path, monkeypatch, calls):
    packs = tmp_path / "lang"
    shutil.copytree(langpack.LANG_DIR, packs)
    monkeypatch.setattr(langpack, "LANG_DIR", packs)
    db = tmp_path / "s.sqlite"
    pipeline.ingest([upload(A, "a.md")], db)
    pipeline.ingest([upload(C, "c.md")], db)
    assert calls == ["a.md", "c.md"]
    before = batch.extractor_version()
    with open(packs / "en.yaml", "a", encoding="utf-8") as fh:
        fh.write("\n# an analyst's edit\n")
    assert batch.extractor_version() != before
    calls.clear()
    pipeline.ingest([upload(B, "b.md")], db)
    assert sorted(calls) == ["a.md", "b.md", "c.md"]
    # the cache keeps only the entries of the current version
    con = sqlite3.connect(db)
    assert {r[0] for r in con.execute("SELECT DISTINCT version FROM extractions")} == {batch.extractor_version()}
    con.close()


def test_the_cache_key_covers_what_extraction_reads_besides_the_name():
    base = upload(C, "c.md")
    # the publication date anchors relative dates and the language picks the pack: other incidents
    assert batch.digest(parse_article(C.encode(), "c.md", {"published": date(2022, 5, 20)})) != batch.digest(base)
    assert batch.digest(parse_article(C.encode(), "c.md", {"language": "es"})) != batch.digest(base)
    assert batch.digest(upload(C.replace("300", "301"), "c.md")) != batch.digest(base)
    # the name is not read: a renamed copy reuses the entry (its incidents then name the new article)
    assert batch.digest(upload(C, "renamed.md")) == batch.digest(base)


def test_jobs_2_gives_the_same_store_as_jobs_1(tmp_path):
    folder = corpus(tmp_path / "in", 2 * batch.CHUNK + 3)  # more than one task per worker
    one, two = tmp_path / "one.sqlite", tmp_path / "two.sqlite"
    assert main(["--store", str(one), "ingest", "--jobs", "1", str(folder)]) == 0
    assert main(["--store", str(two), "ingest", "--jobs", "2", "--quiet", str(folder)]) == 0
    first = dump(one)
    assert len(first["articles"]) == 2 * batch.CHUNK + 3 and len(first["incidents"]) == 2 * batch.CHUNK + 3
    assert first == dump(two)


def test_a_worker_that_dies_on_one_article_reports_it_and_the_rest_go_in(tmp_path, store_url, monkeypatch):
    folder = corpus(tmp_path / "in", 2 * batch.CHUNK + 3)
    real = Extractor.extract

    def lethal(self, article):
        if article.name == "a05.md":
            os._exit(3)  # the worker process dies (as on a crash or an out-of-memory kill)
        if article.name == "a09.md":
            raise RecursionError("maximum recursion depth exceeded")
        return real(self, article)

    monkeypatch.setattr(Extractor, "extract", lethal)  # forked workers inherit it
    db = store_url
    report = pipeline.ingest_paths([folder], db, jobs=2)
    reasons = sorted(e.reason for e in report.errors)
    assert len(reasons) == 2
    assert reasons[0].startswith("a05.md") and "died" in reasons[0]
    assert reasons[1].startswith("a09.md") and "RecursionError" in reasons[1]
    stored = set(store.load(db)["article"])
    assert stored == {f"a{k:02d}.md" for k in range(2 * batch.CHUNK + 3)} - {"a05.md", "a09.md"}


def test_incidents_rewritten_by_another_version_are_rebuilt_in_full(tmp_path):
    db = tmp_path / "s.sqlite"
    pipeline.ingest([upload(A, "a.md"), upload(C, "c.md")], db)
    # an older version of the program rewrites the incidents (here: loses them) and drops the stamp
    con = sqlite3.connect(db)
    con.execute("DELETE FROM incidents")
    con.execute("DELETE FROM meta")
    con.commit()
    con.close()
    pipeline.ingest([upload(B, "b.md")], db)
    once = tmp_path / "once.sqlite"
    pipeline.ingest([upload(A, "a.md"), upload(C, "c.md"), upload(B, "b.md")], once)
    assert incidents_without_history(db) == incidents_without_history(once)


def test_an_unchanged_ingest_writes_nothing_and_a_new_one_few_rows(tmp_path):
    folder = corpus(tmp_path / "in", 6)
    db = tmp_path / "s.sqlite"
    pipeline.ingest_paths([folder], db)
    con = sqlite3.connect(db)
    before = dict(con.execute("SELECT id, rowid FROM incidents"))
    con.close()
    corpus(tmp_path / "more", 7)  # a06.md is new (its day is not among the first six)
    pipeline.ingest_paths([tmp_path / "more" / "a06.md"], db)
    con = sqlite3.connect(db)
    after = dict(con.execute("SELECT id, rowid FROM incidents"))
    con.close()
    # the six stored incidents keep their rows (not deleted and inserted again); one row is added
    assert {i: after[i] for i in before} == before and len(after) == 7


def test_progress_bar_is_quiet_without_a_terminal():
    progress, close = batch.progress_bar(True)  # pytest captures stderr: not a terminal
    assert progress is None
    close()


def _try_write(db: str, queue) -> None:
    con = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        queue.put("got the write lock")
        con.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        queue.put(str(exc))
    finally:
        con.close()


def test_the_backup_keeps_the_write_lock(tmp_path, monkeypatch):
    # The backup is taken under the write lock, and the copy must not release it (SQLite's documentation warns
    # that closing another descriptor of the file in the same process drops POSIX locks). Another process checks.
    import multiprocessing as mp

    db = tmp_path / "s.sqlite"
    pipeline.ingest([upload(A, "a.md")], db)
    real = store._backup
    seen = []

    def backup_then_probe(target):
        real(target)
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=_try_write, args=(str(target), queue))
        proc.start()
        seen.append(queue.get(timeout=60))
        proc.join(30)

    monkeypatch.setattr(store, "_backup", backup_then_probe)
    pipeline.ingest([upload(C, "c.md")], db)
    assert seen == ["database is locked"]
    assert len(store.load(store.backup_path(db))) == 1 and len(store.load(db)) == 2
