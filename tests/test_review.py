import threading

import pytest

from dashboard import pipeline, query, review, store
from dashboard.review import ReviewError, ReviewStore, reviews_path
from tests.conftest import SEEDS


@pytest.fixture
def built(store_url):
    db = store_url  # a SQLite file, then a PostGIS database
    pipeline.build([SEEDS], path=db)
    return db, ReviewStore(reviews_path(db))


def row_of(frame, **where):
    part = frame
    for k, v in where.items():
        part = part[part[k] == v]
    assert len(part) == 1, where
    return part.iloc[0]


def test_default_status_is_needs_review(built, gazetteer):
    db, rs = built
    frame = review.apply(store.load(db), rs, gazetteer)
    assert set(frame["review_status"]) == {"needs review"}


def test_confirm_reject_and_filters(built, gazetteer):
    db, rs = built
    frame = store.load(db)
    callao = row_of(frame, location_id="town:callao")
    tri = row_of(frame, location_id="zone:tri_border")
    rs.set_status(callao["id"], "rejected", note="duplicate of a later report")
    rs.set_status(tri["id"], "confirmed")
    out = review.apply(frame, rs, gazetteer)
    assert row_of(out, id=callao["id"])["review_status"] == "rejected"
    shown = query.apply(out, query.Filter())
    assert callao["id"] not in set(shown["id"]) and len(shown) == 8  # rejected: off the map and exports
    assert len(query.apply(out, query.Filter(include_rejected=True))) == 9  # but not deleted
    assert list(query.apply(out, query.Filter(statuses=["confirmed"]))["id"]) == [tri["id"]]


def test_corrections_survive_rebuild_with_audit_trail(built, gazetteer):
    db, rs = built
    frame = store.load(db)
    amb = row_of(frame, location_id="zone:tri_border")
    rs.correct(amb["id"], {"wounded": 3, "place_ids": ["town:caballococha"]}, original=amb.to_dict(),
               note="IDL Reporteros: three wounded, near Caballococha")
    pipeline.build([SEEDS], path=db)  # re-extraction: same ids, reviews untouched
    out = review.apply(store.load(db), rs, gazetteer)
    fixed = row_of(out, id=amb["id"])
    assert fixed["wounded"] == 3 and fixed["review_status"] == "corrected"
    assert fixed["location_id"] == "town:caballococha" and fixed.geometry.geom_type == "Point"
    assert fixed["departments"] == ["Loreto"] and "Amazon tri-border" in fixed["zones"]
    trail = rs.history(amb["id"])
    assert [(e.field, e.old, e.new) for e in trail] == [("wounded", None, 3),
                                                        ("place_ids", ["zone:tri_border"], ["town:caballococha"])]
    assert trail[0].note.startswith("IDL") and trail[0].at


def test_add_missing_incident(built, gazetteer):
    db, rs = built
    rec = store.article_text("000_3559e8423d935106.txt", db)
    sentence = "According to IDL Reporteros, the police patrol was targeting drug laboratories in the area."
    start = rec["text"].index(sentence)
    new_id = rs.add({"type": "lab_dismantling", "article": rec["name"], "evidence_start": start,
                     "evidence_end": start + len(sentence), "date": "2014-07-11", "date_end": "2014-07-11",
                     "date_precision": "day", "place_ids": ["zone:tri_border"]})
    out = review.apply(store.load(db), rs, gazetteer, {rec["name"]: rec})
    added = row_of(out, id=new_id)
    assert added["review_status"] == "added" and added["evidence"] == sentence
    assert added["departments"] == ["Loreto"] and added["title"].startswith("Police Killed")


def test_bad_review_actions_are_refused(built):
    _, rs = built
    with pytest.raises(ReviewError, match="'colour'"):
        rs.correct("x", {"colour": "red"}, original={})
    with pytest.raises(ReviewError, match="killed must be int"):
        rs.correct("x", {"killed": "three"}, original={})
    with pytest.raises(ReviewError, match="status 'deleted'"):
        rs.set_status("x", "deleted")
    with pytest.raises(ReviewError, match="'evidence_start'"):
        rs.add({"type": "ambush", "article": "a.txt"})
    assert rs.history() == []  # nothing was written


def test_two_tabs_at_once_lose_no_edit(built):
    _, rs = built
    other = ReviewStore(rs.path)  # a second session on the same file
    errors = []

    def edit(store_, field, values):
        try:
            for v in values:
                store_.correct("inc-1", {field: v}, original={})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t1 = threading.Thread(target=edit, args=(rs, "killed", range(1, 21)))
    t2 = threading.Thread(target=edit, args=(other, "wounded", range(1, 21)))
    t1.start(), t2.start()
    t1.join(), t2.join()
    assert errors == []
    _, corrections, _ = rs.snapshot()
    assert corrections["inc-1"] == {"killed": 20, "wounded": 20}
    assert len(rs.history("inc-1")) == 40


def test_failed_review_write_changes_nothing(built, monkeypatch):
    _, rs = built
    rs.set_status("inc-1", "confirmed")
    owner, name = (rs._pg, "write") if rs._pg else (rs, "_write")  # the transaction of either backend
    original = getattr(owner, name)

    def failing(fn):
        def boom(con, now):
            fn(con, now)
            raise RuntimeError("crash mid-write")
        return original(boom)

    monkeypatch.setattr(owner, name, failing)
    with pytest.raises(RuntimeError):
        rs.set_status("inc-1", "rejected")
    statuses, _, _ = rs.snapshot()
    assert statuses == {"inc-1": "confirmed"} and len(rs.history()) == 1


def test_cli_export_carries_review_status(built, gazetteer, tmp_path):
    import json

    from dashboard.cli import main

    db, rs = built
    frame = store.load(db)
    callao = row_of(frame, location_id="town:callao")
    rs.set_status(callao["id"], "rejected")
    out = tmp_path / "x.geojson"
    assert main(["--store", str(db), "export", "-o", str(out)]) == 0
    feats = json.loads(out.read_text())["features"]
    assert len(feats) == 8 and {f["properties"]["review_status"] for f in feats} == {"needs review"}
    assert main(["--store", str(db), "export", "--status", "rejected", "-o", str(out)]) == 0
    (feat,) = json.loads(out.read_text())["features"]
    assert feat["id"] == callao["id"] and feat["properties"]["review_status"] == "rejected"


# ------------------------------------------------------------------------------------------ reviews follow events
REPORT = ("---\npublished: 2021-05-05\n---\nPolice seized 300 kilos of cocaine in Pichari on May 3, 2021.\n\n"
          "Soldiers were ambushed in Llochegua on April 20, 2021; two soldiers died.\n")


def test_review_follows_the_incident_when_its_article_changes(tmp_path, store_url, gazetteer):
    article = tmp_path / "in" / "report.md"
    article.parent.mkdir()
    article.write_text(REPORT, encoding="utf-8")
    db = store_url
    pipeline.ingest_paths([article], db)
    rs = ReviewStore(reviews_path(db))
    before = store.load(db)
    seizure = row_of(before, type="seizure")
    ambush = row_of(before, type="ambush")
    rs.set_status(seizure["id"], "rejected", note="not in Peru")
    rs.correct(ambush["id"], {"killed": 3}, original=ambush.to_dict())
    # one line appended, one word fixed: the article's content hash, so every incident id, changes
    article.write_text(REPORT.replace("two soldiers died", "two soldiers were killed")
                       + "\nPolice arrested 4 people in Tumbes on May 1, 2021.\n", encoding="utf-8")
    report = pipeline.ingest_paths([article], db)
    assert report.updated == ["report.md"]
    after = review.apply(store.load(db), rs, gazetteer)
    new_seizure = row_of(after, type="seizure")
    new_ambush = row_of(after, type="ambush")
    assert new_seizure["id"] != seizure["id"] and new_ambush["id"] != ambush["id"]
    assert new_seizure["review_status"] == "rejected"
    assert new_ambush["review_status"] == "corrected" and new_ambush["killed"] == 3
    assert row_of(after, type="arrest")["review_status"] == "needs review"  # the new event is not reviewed
    # and through a second change too
    article.write_text(article.read_text(encoding="utf-8") + "\nMore details later.\n", encoding="utf-8")
    pipeline.ingest_paths([article], db)
    again = review.apply(store.load(db), rs, gazetteer)
    assert row_of(again, type="seizure")["review_status"] == "rejected"
    assert row_of(again, type="ambush")["killed"] == 3


def test_a_review_of_the_current_id_wins_over_a_carried_one(tmp_path, store_url, gazetteer):
    article = tmp_path / "report.md"
    article.write_text(REPORT, encoding="utf-8")
    db = store_url
    pipeline.ingest_paths([article], db)
    rs = ReviewStore(reviews_path(db))
    old_id = row_of(store.load(db), type="seizure")["id"]
    rs.set_status(old_id, "rejected")
    article.write_text(REPORT + "\nUpdated at noon.\n", encoding="utf-8")
    pipeline.ingest_paths([article], db)
    new_id = row_of(store.load(db), type="seizure")["id"]
    rs.set_status(new_id, "confirmed")  # the analyst looked again
    assert row_of(review.apply(store.load(db), rs, gazetteer), id=new_id)["review_status"] == "confirmed"


def test_unrelated_incident_does_not_inherit_a_review(tmp_path, store_url, gazetteer):
    article = tmp_path / "report.md"
    article.write_text(REPORT, encoding="utf-8")
    db = store_url
    pipeline.ingest_paths([article], db)
    rs = ReviewStore(reviews_path(db))
    rs.set_status(row_of(store.load(db), type="seizure")["id"], "rejected")
    # the seizure sentence is gone; another seizure, elsewhere and on another day, is reported instead
    article.write_text(REPORT.replace("Police seized 300 kilos of cocaine in Pichari on May 3, 2021.",
                                      "Customs officers found 12 kilos of marijuana in Tacna on March 9, 2021."),
                       encoding="utf-8")
    pipeline.ingest_paths([article], db)
    after = review.apply(store.load(db), rs, gazetteer)
    assert row_of(after, type="seizure")["review_status"] == "needs review"


# ------------------------------------------------------------------------------------------ read-only reading
def test_reading_reviews_never_creates_or_changes_the_file(tmp_path):
    rs = ReviewStore(tmp_path / "s.reviews.sqlite")
    assert rs.snapshot() == ({}, {}, {}) and rs.history() == []
    assert list(tmp_path.iterdir()) == []  # no file, no WAL, no CREATE


def test_a_corrected_place_is_found_by_the_filter_of_a_prepared_frame(built, gazetteer):
    # the dashboard filters a prepared frame (dates, place and actor sets derived once); a correction must not
    # leave the filter reading the place the incident had before
    db, rs = built
    base = query.prepare(store.load(db))
    amb = row_of(base, location_id="zone:tri_border")
    assert amb["id"] not in set(query.apply(base, query.Filter(regions=["Ramón Castilla"]))["id"])
    statuses_only = review.apply(base, rs, gazetteer)
    assert "_places" in statuses_only  # no correction: the derived columns are kept as they are
    rs.correct(amb["id"], {"place_ids": ["town:caballococha"], "date": "2019-02-03",
                                "date_end": "2019-02-03"}, original=amb.to_dict())
    out = review.apply(base, rs, gazetteer)
    assert not set(query.PREPARED) & set(out.columns)  # derived from the old place and date: dropped
    query.prepare(out)
    found = query.apply(out, query.Filter(regions=["Ramón Castilla"]))
    assert list(found["id"]) == [amb["id"]]
    in_feb = query.apply(out, query.Filter(since=__import__("datetime").date(2019, 2, 1),
                                           until=__import__("datetime").date(2019, 2, 28)))
    assert amb["id"] in set(in_feb["id"])
    assert "_places" in base and len(base) == len(out)  # the shared frame is left as it was


def test_content_digest_changes_with_corrections_and_additions_not_statuses(built):
    db, rs = built
    frame = store.load(db)
    first = review.content_digest(rs.rows())
    rs.set_status(frame["id"].iloc[0], "confirmed")
    rs.set_status(frame["id"].iloc[1], "rejected")
    assert review.content_digest(rs.rows()) == first
    rs.correct(frame["id"].iloc[0], {"killed": 2}, original={"killed": None})
    second = review.content_digest(rs.rows())
    assert second != first
    rs.add({"type": "seizure", "date": "2024-01-02", "place_ids": ["town:callao"], "quantity_kg": 5.0,
            "article": frame["article"].iloc[0], "evidence_start": 0, "evidence_end": 10})
    assert review.content_digest(rs.rows()) not in (first, second)
