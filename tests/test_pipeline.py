import json
from datetime import date

import pytest

from dashboard import pipeline, store
from dashboard.cli import main
from dashboard.corpus import parse_article, read_article
from dashboard.extraction import Extractor
from tests.conftest import SEEDS

A = ("---\npublished: 2021-05-04\noutlet: Andina\n---\nPolice seized 1.2 tons of cocaine in Pichari on May 3, "
     "the Interior Ministry said.\n")
B = ("---\npublished: 2021-05-05\noutlet: RPP\n---\nSoldiers seized 1,200 kilograms of cocaine in the VRAEM on "
     "May 3 and arrested two men, RPP reported.\n")
C = ("---\npublished: 2021-05-20\n---\nPolice seized 300 kilos of cocaine in Pichari on May 18.\n")


def art(text, name):
    """An uploaded article: known by its name and content."""
    return parse_article(text.encode(), name)


def file_art(folder, text, name):
    """An article read from a file: known by its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return read_article(path)


def test_same_event_in_two_articles_is_one_incident_with_both_sources(tmp_path, store_url):
    db = store_url  # a SQLite file, then a PostGIS database
    pipeline.ingest([art(A, "a.md"), art(B, "b.md"), art(C, "c.md")], db)
    frame = store.load(db)
    seizures = frame[frame["type"] == "seizure"].sort_values("date")
    assert len(seizures) == 2  # May 3 (two reports) and May 18
    may3 = seizures.iloc[0]
    # Pichari (a town) is more precise than the VRAEM, which contains it: the Pichari report is kept
    assert may3["location_id"] == "town:pichari" and may3["quantity_kg"] == 1200.0
    assert may3["source_count"] == 2
    assert sorted(s["article"] for s in may3["sources"]) == ["a.md", "b.md"]
    assert seizures.iloc[1]["source_count"] == 1


def test_ingest_skips_unchanged_and_reextracts_changed(tmp_path, store_url):
    db = store_url  # a SQLite file, then a PostGIS database
    first = pipeline.ingest([file_art(tmp_path, A, "a.md")], db)
    assert first.added == ["a.md"] and first.incidents == 1
    before = store.version(db)
    again = pipeline.ingest([file_art(tmp_path, A, "a.md")], db)
    assert again.unchanged == ["a.md"] and not again.added and not again.updated
    assert store.version(db) == before  # nothing rewritten
    changed = pipeline.ingest([file_art(tmp_path, A.replace("1.2 tons", "2.5 tons"), "a.md")], db)
    assert changed.updated == ["a.md"]  # the same path with new content: an update
    assert store.load(db)["quantity_kg"].tolist() == [2500.0]


def test_build_keeps_ingested_articles(tmp_path, store_url):
    db = store_url  # a SQLite file, then a PostGIS database
    pipeline.build([SEEDS], path=db)
    pipeline.ingest([art(C, "c.md")], db)
    report = pipeline.build([SEEDS], path=db)
    assert report.articles == 6
    assert "c.md" in set(store.load(db)["article"])


def test_ingested_ids_are_stable(tmp_path):
    db1, db2 = tmp_path / "1.sqlite", tmp_path / "2.sqlite"
    pipeline.ingest([art(A, "a.md"), art(C, "c.md")], db1)
    pipeline.ingest([art(C, "c.md")], db2)
    pipeline.ingest([art(A, "a.md")], db2)
    assert sorted(store.load(db1)["id"]) == sorted(store.load(db2)["id"])


def test_cli_ingest(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "c.md").write_text(C, encoding="utf-8")
    (tmp_path / "in" / "empty.txt").write_text("", encoding="utf-8")
    db = str(tmp_path / "s.sqlite")
    assert main(["--store", db, "ingest", str(tmp_path / "in")]) == 0
    out = capsys.readouterr()
    assert "1 added" in out.out and "empty.txt" in out.err
    assert main(["--store", db, "ingest", str(tmp_path / "in")]) == 0
    assert "0 added, 0 changed and re-extracted, 1 unchanged" in capsys.readouterr().out
    exported = tmp_path / "x.geojson"
    assert main(["--store", db, "export", "-o", str(exported)]) == 0
    (feat,) = json.loads(exported.read_text())["features"]
    assert feat["properties"]["date"] == "2021-05-18" and feat["properties"]["source_count"] == 1


def test_different_dates_are_not_merged(tmp_path, store_url):
    db = store_url  # a SQLite file, then a PostGIS database
    pipeline.ingest([art(A, "a.md"), art(C, "c.md")], db)
    assert len(store.load(db)) == 2
    assert date(2021, 5, 3).isoformat() in set(store.load(db)["date"])


def test_ingest_nothing_readable(tmp_path):
    from dashboard.errors import StoreError

    (tmp_path / "e.txt").write_text("")
    with pytest.raises(StoreError, match="e.txt"):
        pipeline.ingest_paths([tmp_path], tmp_path / "s.sqlite")


def test_outdated_store_is_rebuilt_keeping_its_articles(tmp_path):
    import sqlite3

    db = tmp_path / "s.sqlite"
    pipeline.ingest([art(C, "c.md")], db)
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 1")  # as written by the previous version
    con.commit()
    con.close()
    assert pipeline.needs_build(db)
    pipeline.ensure(db)
    assert not pipeline.needs_build(db)
    assert set(store.load(db)["article"]) >= {"c.md", "000_3559e8423d935106.txt"}


# ------------------------------------------------------------------------------------------ article keys
def test_same_file_name_in_two_folders_keeps_both(tmp_path, store_url):
    db = store_url  # a SQLite file, then a PostGIS database
    x = file_art(tmp_path / "x", A, "report.txt")
    y = file_art(tmp_path / "y", C, "report.txt")
    pipeline.ingest([x], db)
    report = pipeline.ingest([y], db)
    assert report.added == ["y/report.txt"] and report.renamed == [("report.txt", "y/report.txt")]
    assert sorted(a.name for a in store.load_articles(db)) == ["report.txt", "y/report.txt"]
    assert sorted(store.load(db)["quantity_kg"]) == [300.0, 1200.0]
    # re-ingesting x's path with new content updates x, and only x
    changed = pipeline.ingest([file_art(tmp_path / "x", A.replace("1.2 tons", "2 tons"), "report.txt")], db)
    assert changed.updated == ["report.txt"] and not changed.added
    assert sorted(store.load(db)["quantity_kg"]) == [300.0, 2000.0]


def test_upload_never_replaces_a_stored_article_of_the_same_name(tmp_path, store_url):
    db = store_url  # a SQLite file, then a PostGIS database
    pipeline.ingest([file_art(tmp_path / "in", A, "report.txt")], db)
    first = pipeline.ingest([art(C, "report.txt")], db)  # an upload (no path) with a stored file's name
    assert first.renamed == [("report.txt", "report (2).txt")]
    second = pipeline.ingest([art(B.replace("VRAEM", "Tumbes"), "report.txt")], db)  # another, same name
    assert second.added == ["report (3).txt"]
    assert pipeline.ingest([art(C, "report.txt")], db).unchanged == ["report (2).txt"]  # the same upload again
    assert len(store.load_articles(db)) == 3
    assert set(store.load(db)["article"]) == {"report.txt", "report (2).txt", "report (3).txt"}


# ------------------------------------------------------------------------------------------ isolation
def test_one_article_failing_extraction_does_not_abort_the_batch(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "in"
    for name, text in (("a.md", A), ("bad.md", B), ("c.md", C)):
        file_art(folder, text, name)
    real = Extractor.extract

    def fragile(self, article):
        if article.name == "bad.md":
            raise RecursionError("maximum recursion depth exceeded")
        return real(self, article)

    monkeypatch.setattr(Extractor, "extract", fragile)
    db = tmp_path / "s.sqlite"
    report = pipeline.ingest_paths([folder], db)
    assert report.added == ["a.md", "c.md"]
    (err,) = report.errors
    assert "bad.md" in err.reason and "RecursionError" in err.reason
    assert set(store.load(db)["article"]) == {"a.md", "c.md"}
    # the command line reports it by name and goes on
    assert main(["--store", str(tmp_path / "t.sqlite"), "ingest", str(folder)]) == 0
    out = capsys.readouterr()
    assert "bad.md" in out.err and "2 added" in out.out


def test_changed_article_failing_extraction_keeps_its_stored_version(tmp_path, store_url, monkeypatch):
    db = store_url  # a SQLite file, then a PostGIS database
    pipeline.ingest([file_art(tmp_path, A, "a.md")], db)
    real = Extractor.extract

    def fragile(self, article):
        if "2.5 tons" in article.text:
            raise ValueError("boom")
        return real(self, article)

    monkeypatch.setattr(Extractor, "extract", fragile)
    report = pipeline.ingest([file_art(tmp_path, A.replace("1.2 tons", "2.5 tons"), "a.md")], db)
    assert report.updated == [] and "a.md" in report.errors[0].reason
    assert store.load(db)["quantity_kg"].tolist() == [1200.0]


def test_extract_command_isolates_a_failing_article(tmp_path, monkeypatch, capsys):
    file_art(tmp_path, A, "a.md")
    file_art(tmp_path, C, "c.md")
    real = Extractor.extract
    monkeypatch.setattr(Extractor, "extract",
                        lambda self, article: (_ for _ in ()).throw(IndexError("x")) if article.name == "a.md"
                        else real(self, article))
    assert main(["extract", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "a.md" in captured.err
    (feat,) = json.loads(captured.out)["features"]
    assert feat["properties"]["article"] == "c.md"


# ------------------------------------------------------------------------------------------ older stores
V2_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE articles (name TEXT PRIMARY KEY, title TEXT, published TEXT, published_inferred INTEGER,
    published_note TEXT, byline TEXT, outlet TEXT, url TEXT, content_hash TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE locations (id TEXT PRIMARY KEY, name TEXT, geo_precision TEXT, geojson TEXT NOT NULL);
CREATE TABLE incidents (id TEXT PRIMARY KEY, type TEXT NOT NULL, article TEXT NOT NULL, date TEXT, date_end TEXT,
    date_precision TEXT, place TEXT, location_id TEXT, geo_precision TEXT, departments TEXT, province TEXT,
    district TEXT, zones TEXT, killed INTEGER, wounded INTEGER, quantity_kg REAL, substance TEXT, count INTEGER,
    actors TEXT, reported_by TEXT, evidence TEXT, evidence_start INTEGER, evidence_end INTEGER,
    background INTEGER NOT NULL, unlocated_reason TEXT, lon REAL, lat REAL, sources TEXT);
PRAGMA user_version = 2;
"""


def v2_store(path, article):
    """A store as the previous version wrote it (articles known by file name), holding one article."""
    import sqlite3

    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(V2_SCHEMA)
    con.execute("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)",
                (article.name, article.title, article.published.isoformat(), 0, None, None, None, None,
                 article.content_hash, article.text))
    con.commit()
    con.close()


def test_version_2_store_keeps_its_articles_and_adopts_them_by_path(tmp_path):
    c = file_art(tmp_path / "in", C, "c.md")
    db = tmp_path / "s.sqlite"
    v2_store(db, c)
    report = pipeline.ingest([c], db)  # the same file, now known by its path
    assert report.unchanged == ["c.md"] and not report.added
    assert [a.name for a in store.load_articles(db)] == ["c.md"]
    assert store.stored_articles(db).keys() == {store.article_key(c)}
    assert len(store.load(db)) == 1


def test_default_store_adopts_the_store_of_the_source_tree(tmp_path, monkeypatch):
    legacy = tmp_path / "repo" / "data" / "store" / "incidents.sqlite"
    v2_store(legacy, art(C, "c.md"))
    before = legacy.read_bytes()
    new_default = tmp_path / "user" / "incident-map" / "incidents.sqlite"
    monkeypatch.setattr(store, "LEGACY_STORE", legacy)
    monkeypatch.setattr(store, "DEFAULT_STORE", new_default)
    monkeypatch.delenv("INCIDENT_MAP_STORE")
    assert pipeline.ensure() == new_default
    names = {a.name for a in store.load_articles()}
    assert "c.md" in names and "000_3559e8423d935106.txt" in names  # the old upload, and the seeds
    assert legacy.read_bytes() == before  # left in place


def test_one_event_reported_in_english_and_spanish_is_one_incident_with_both_sources(tmp_path, store_url):
    # each article is read with its own language pack; the two reports of the Kimbiri seizure merge
    en = ("---\npublished: 2022-08-11\n---\nPeruvian police seized 640 kilograms of cocaine hidden in a truck in "
          "Kimbiri on Tuesday, the interior ministry said.\n")
    es = ("---\npublished: 2022-08-10\n---\nKIMBIRI, 10 ago (Andina).- La Policía Nacional incautó 640 kilos de "
          "clorhidrato de cocaína ocultos en un camión en el distrito de Kimbiri el martes, informó hoy el "
          "Ministerio del Interior.\n")
    db = store_url  # a SQLite file, then a PostGIS database
    pipeline.ingest([art(en, "en.md"), art(es, "es.md")], db)
    frame = store.load(db)
    (row,) = frame[frame["type"] == "seizure"].to_dict("records")
    assert row["source_count"] == 2 and sorted(s["article"] for s in row["sources"]) == ["en.md", "es.md"]
    assert row["quantity_kg"] == 640.0 and row["departments"] == ["Cusco"]
    assert {a.name: a.language for a in store.load_articles(db)} == {"en.md": "en", "es.md": "es"}
