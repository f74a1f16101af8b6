"""What makes adding one article cheap keeps its results: the pickled gazetteer, stored articles read without
their text, events regrouped only where articles changed, the backup brought up to date block by block."""

import os
import pickle
import shutil
import sqlite3
from datetime import date, timedelta

import pytest

from dashboard import gazcache, langpack, pipeline, store
from dashboard.dedup import link_events, links

# ------------------------------------------------------------------------------------------- pickled gazetteer


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A tiny stand-in for the package's data folder, and a cache folder of its own."""
    data = tmp_path / "data"
    (data / "gazetteer").mkdir(parents=True)
    (data / "boundaries").mkdir()
    (data / "gazetteer" / "names.yaml").write_text("departments: {}\n", encoding="utf-8")
    (data / "boundaries" / "outline.geojson").write_text('{"type": "FeatureCollection", "features": []}\n')
    monkeypatch.setenv(gazcache.CACHE_ENV, str(tmp_path / "cache"))
    return data


def counting_build(value):
    calls = []

    def build():
        calls.append(1)
        return value

    return build, calls


def test_the_second_load_reads_the_pickle_instead_of_building(data_dir):
    build, calls = counting_build({"places": ["Pichari", "Kimbiri"]})
    first = gazcache.load_or_build(build, data_dir, None)
    second = gazcache.load_or_build(build, data_dir, None)
    assert calls == [1]
    assert second == first and second is not first  # read back from the file, not the same object
    (pickled,) = (gazcache.cache_dir()).glob("gazetteer-*.pickle")
    assert pickled.stat().st_mode & 0o077 == 0  # readable by this user only


def test_a_changed_data_file_or_user_file_builds_again(data_dir, tmp_path):
    build, calls = counting_build("v1")
    gazcache.load_or_build(build, data_dir, None)
    (data_dir / "gazetteer" / "names.yaml").write_text("departments: {LIMA: Lima}\n", encoding="utf-8")
    build2, calls2 = counting_build("v2")
    assert gazcache.load_or_build(build2, data_dir, None) == "v2" and calls2 == [1]
    user = tmp_path / "geonames.tsv"
    user.write_text("1\tPichari\n", encoding="utf-8")
    build3, calls3 = counting_build("v3")
    assert gazcache.load_or_build(build3, data_dir, user) == "v3" and calls3 == [1]
    # only the copy of the newest key is kept
    assert len(list(gazcache.cache_dir().glob("gazetteer-*.pickle"))) == 1


def test_a_damaged_or_foreign_writable_pickle_is_not_read(data_dir):
    build, calls = counting_build("good")
    gazcache.load_or_build(build, data_dir, None)
    (pickled,) = gazcache.cache_dir().glob("gazetteer-*.pickle")
    pickled.write_bytes(b"\x80\x05not a pickle at all")
    assert gazcache.load_or_build(build, data_dir, None) == "good" and len(calls) == 2
    # a copy others may write could have been planted: it is ignored (a pickle runs code when read)
    pickled.write_bytes(pickle.dumps("planted"))
    pickled.chmod(0o666)
    if os.name != "nt":
        assert gazcache.load_or_build(build, data_dir, None) == "good" and len(calls) == 3


def test_the_cache_can_be_turned_off(data_dir, monkeypatch):
    monkeypatch.setenv(gazcache.CACHE_ENV, "off")
    build, calls = counting_build("fresh")
    gazcache.load_or_build(build, data_dir, None)
    gazcache.load_or_build(build, data_dir, None)
    assert calls == [1, 1]


def test_the_pickled_gazetteer_geocodes_as_the_loaded_one(gazetteer):
    copy = pickle.loads(pickle.dumps(gazetteer, protocol=pickle.HIGHEST_PROTOCOL))
    assert copy.places.keys() == gazetteer.places.keys()
    for name in ("Pichari", "VRAEM", "Huánuco", "Callao", "Puerto Maldonado"):
        assert [p.id for p in copy.match(name)] == [p.id for p in gazetteer.match(name)]
    text = "Police raided a camp near Kimbiri, in the VRAEM, and another in Tocache province."
    assert ([[c.id for c in m.candidates] for m in copy.find_mentions(text)]
            == [[c.id for c in m.candidates] for m in gazetteer.find_mentions(text)])
    assert copy.footprint(["dist:080910"]).equals(gazetteer.footprint(["dist:080910"]))


# ------------------------------------------------------------------------------------------- regrouping events
def rows_of_links(rows, gazetteer):
    """Connected groups of the pairs that :func:`links` joins (what :func:`link_events` must give)."""
    parent = list(range(len(rows)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            if links(rows[i], rows[j], gazetteer):
                parent[find(j)] = find(i)
    groups = {}
    for i in range(len(rows)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values())


def test_links_joins_exactly_the_pairs_link_events_groups(gazetteer):
    rows = [
        ("seizure", "2021-05-03", "2021-05-03", "a.md", "dist:080910", True),
        ("seizure", "2021-05-03", "2021-05-04", "b.md", "zone:vraem", True),  # Pichari lies in the VRAEM
        ("seizure", "2021-05-04", "2021-05-04", "c.md", "dist:080910", True),  # starts on b's last day
        ("seizure", "2021-05-05", "2021-05-05", "d.md", "dist:080910", True),  # after every other's end
        ("seizure", "2021-05-03", "2021-05-03", "a.md", "dist:080910", True),  # a's own second mention
        ("arrest", "2021-05-03", "2021-05-03", "e.md", "dist:080910", True),  # another type
        ("seizure", "2021-05-03", "2021-05-03", "f.md", "dist:080910", False),  # background: never merged
        ("seizure", "2021-05-03", "2021-05-03", "g.md", "dist:150101", True),  # Lima, not in Pichari
    ]
    assert links(rows[0], rows[1], gazetteer) and links(rows[1], rows[2], gazetteer)
    assert not links(rows[0], rows[4], gazetteer) and not links(rows[2], rows[3], gazetteer)
    assert not links(rows[0], rows[6], gazetteer) and not links(rows[0], rows[7], gazetteer)
    assert sorted(link_events(rows, gazetteer)) == rows_of_links(rows, gazetteer)
    assert [0, 1, 2, 4] in link_events(rows, gazetteer)


def seizure(day, place="Pichari", kilos=100, who="Police"):
    return (f"---\npublished: {day + timedelta(days=1)}\n---\n{who} seized {kilos} kilos of cocaine in {place} on "
            f"{day:%B} {day.day}, {day.year}.\n")


def dump(db):
    """Incident rows without ``former_ids`` (ingest history, not content), and the event signatures."""
    con = sqlite3.connect(db)
    try:
        con.row_factory = sqlite3.Row
        incidents = sorted(repr({k: r[k] for k in r.keys() if k != "former_ids"})
                           for r in con.execute("SELECT * FROM incidents"))
        groups = sorted(map(tuple, con.execute("SELECT id, signature FROM groups")))
        return incidents, groups
    finally:
        con.close()


@pytest.fixture
def regrouped(monkeypatch):
    """The number of rows each call of link_events in the pipeline groups."""
    sizes = []
    real = pipeline.link_events

    def counting(rows, gazetteer):
        sizes.append(len(rows))
        return real(rows, gazetteer)

    monkeypatch.setattr(pipeline, "link_events", counting)
    return sizes


def test_changed_and_new_articles_regroup_only_their_events_and_match_a_new_store(tmp_path, regrouped):
    folder = tmp_path / "in"
    folder.mkdir()
    start = date(2021, 1, 4)
    for k in range(30):  # thirty seizures on days of their own
        (folder / f"a{k:02d}.md").write_text(seizure(start + timedelta(days=3 * k), kilos=100 + k))
    # two more reports of the seizure of a05 (one names the VRAEM, which holds Pichari): one event, three sources
    (folder / "m1.md").write_text(seizure(start + timedelta(days=15), kilos=105, who="Anti-drug officers"))
    (folder / "m2.md").write_text(seizure(start + timedelta(days=15), place="the VRAEM", kilos=105))
    db = tmp_path / "s.sqlite"
    pipeline.ingest_paths([folder], db)
    incidents = store.load(db)
    assert sorted(len(s) for s in incidents["sources"]) == [1] * 29 + [3]

    def same_as_new_store(step):
        fresh = tmp_path / f"fresh{step}.sqlite"
        pipeline.ingest_paths([folder], fresh)
        return dump(db) == dump(fresh)

    # m1 now reports another day: the three-source event splits, and only it and m1 are grouped again
    (folder / "m1.md").write_text(seizure(start + timedelta(days=16), kilos=105, who="Anti-drug officers"))
    regrouped.clear()
    pipeline.ingest_paths([folder / "m1.md"], db)
    assert regrouped[0] < 5  # m1's incident and the three of the event it left, not all 32
    assert sorted(len(s) for s in store.load(db)["sources"]) == [1] * 29 + [1, 2]
    assert same_as_new_store(1)
    # a new article about a07's seizure joins that event
    (folder / "n1.md").write_text(seizure(start + timedelta(days=21), place="the VRAEM", kilos=107))
    regrouped.clear()
    pipeline.ingest_paths([folder / "n1.md"], db)
    assert regrouped[0] < 5
    assert sorted(len(s) for s in store.load(db)["sources"]) == [1] * 28 + [1, 2, 2]
    assert same_as_new_store(2)


def test_stored_articles_extracted_again_are_read_with_their_text(tmp_path, monkeypatch):
    # The store's articles are read without their text; a new extractor version extracts them all again and
    # must read their texts first (with an empty text they would lose every incident).
    packs = tmp_path / "lang"
    shutil.copytree(langpack.LANG_DIR, packs)
    monkeypatch.setattr(langpack, "LANG_DIR", packs)
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(3):
        (folder / f"a{k}.md").write_text(seizure(date(2020, 3, 2) + timedelta(days=4 * k), kilos=200 + k))
    db = tmp_path / "s.sqlite"
    pipeline.ingest_paths([folder], db)
    before = dump(db)[0]
    texts = {a.name: a.text for a in store.load_articles(db)}
    with open(packs / "en.yaml", "a", encoding="utf-8") as fh:
        fh.write("\n# an analyst's note\n")
    (folder / "b.md").write_text(seizure(date(2020, 5, 2), kilos=50))
    pipeline.ingest_paths([folder / "b.md"], db)
    after = dump(db)[0]
    assert len(after) == 4 and set(before) <= set(after)
    assert {a.name: a.text for a in store.load_articles(db) if a.name in texts} == texts


def test_locate_merged_can_hand_its_incidents_to_the_frame(gazetteer, extractor, seed_articles):
    incidents = [inc for art in seed_articles.values() for inc in extractor.extract(art)]
    kept = pipeline.locate_merged(list(incidents), gazetteer)
    handed = list(incidents)
    frame = pipeline.locate_merged(handed, gazetteer, consume=True)
    assert handed == []
    assert frame.drop(columns="geometry").equals(kept.drop(columns="geometry"))
    assert list(frame.geometry) == list(kept.geometry)


# --------------------------------------------------------------------------------------------------- backup
def test_sync_file_writes_the_blocks_that_differ_and_truncates(tmp_path):
    source, dest = tmp_path / "s", tmp_path / "d"
    data = bytearray(os.urandom(3 * 2**20 + 123))
    source.write_bytes(bytes(data))
    old = bytearray(data)
    old[2**20 + 7] ^= 0xFF  # one changed byte in the second block
    dest.write_bytes(bytes(old) + b"tail of a larger older copy")
    store._sync_file(source, dest)
    assert dest.read_bytes() == bytes(data)
    # and a shorter older copy grows
    dest.write_bytes(bytes(data[:100]))
    store._sync_file(source, dest)
    assert dest.read_bytes() == bytes(data)


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


def test_updating_an_existing_backup_keeps_the_write_lock_and_gives_the_previous_store(tmp_path, monkeypatch):
    import multiprocessing as mp

    folder = tmp_path / "in"
    folder.mkdir()
    db = tmp_path / "s.sqlite"
    for k in range(2):  # the second ingest leaves a backup that the third one updates
        (folder / f"a{k}.md").write_text(seizure(date(2020, 1, 6) + timedelta(days=5 * k)))
        pipeline.ingest_paths([folder / f"a{k}.md"], db)
    assert store.backup_path(db).exists()
    before = db.read_bytes()
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
    (folder / "a2.md").write_text(seizure(date(2020, 2, 6)))
    pipeline.ingest_paths([folder / "a2.md"], db)
    assert seen == ["database is locked"]
    assert store.backup_path(db).read_bytes() == before
    assert len(store.load(store.backup_path(db))) == 2 and len(store.load(db)) == 3
    assert not list(tmp_path.glob(".s.sqlite.tmp-*"))
