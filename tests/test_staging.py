"""A large build or ingest keeps texts and extractions on disk until its one write (dashboard.staging)."""

import sqlite3
from dataclasses import replace

import pytest
from test_incremental import corpus, dump, loaded_without_history

from dashboard import batch, pipeline, staging, store
from dashboard.corpus import read_article, read_corpus
from dashboard.errors import StoreError


def test_a_small_stage_stays_in_memory(tmp_path):
    with staging.Stage(tmp_path, "s.sqlite", limit=100) as st:
        st.put("text", [("h1", "first"), ("h2", "second")])
        st.put("text", [("h1", "other")])  # a key keeps its first value
        assert not st.on_disk and list(tmp_path.iterdir()) == []
        assert st.get("text", ["h1", "h2", "h3"]) == {"h1": "first", "h2": "second"}
        assert st.get("incidents", ["h1"]) == {}  # kinds are apart


def test_a_large_stage_moves_to_a_file_beside_the_store_and_removes_it(tmp_path, monkeypatch):
    monkeypatch.setattr(staging, "READ_CHUNK", 3)  # several chunks for seven keys
    with staging.Stage(tmp_path, "s.sqlite", limit=10) as st:
        st.put("text", [("a", "12345")])
        assert not st.on_disk
        st.put("text", [("b", "678901")])  # 11 characters: over the limit
        assert st.on_disk
        assert st.path.parent == tmp_path and st.path.name.startswith(".s.sqlite.tmp-")  # the store's cleanup finds it
        st.put("incidents", [(f"d{k}", f"[{k}]") for k in range(7)])
        st.put("text", [("a", "changed")])
        assert st.get("text", ["a", "b", "c"]) == {"a": "12345", "b": "678901"}
        assert dict(st.items("incidents", [f"d{k}" for k in range(9)])) == {f"d{k}": f"[{k}]" for k in range(7)}
        path = st.path
        assert path.exists()
    assert not path.exists()


def test_read_many_stages_texts_and_still_dates_from_the_corpus(tmp_path):
    expected, _ = read_corpus([store.SEEDS])
    with staging.Stage(tmp_path, "s.sqlite", limit=0) as st:
        for jobs in (1, 2):
            articles, errors = batch.read_many([store.SEEDS], jobs, st)
            assert not errors and st.on_disk
            assert all(a.text == "" for a in articles)
            # metadata as read with the texts in memory: the undated seed 003 is dated from its staged text
            assert [replace(a, text="") for a in expected] == articles
            texts = st.get("text", [a.content_hash for a in expected])
            assert [texts[a.content_hash] for a in expected] == [a.text for a in expected]


def test_extract_many_reads_staged_texts_and_keeps_what_the_sink_returns(tmp_path, gazetteer):
    articles, _ = read_corpus([store.SEEDS])
    plain = batch.extract_many(articles, gazetteer)
    st = staging.Stage(tmp_path, limit=0)
    st.put("text", [(a.content_hash, a.text) for a in articles])
    for jobs in (1, 2):
        got = batch.extract_many([replace(a, text="") for a in articles], gazetteer, jobs, text=batch.staged_text(st),
                                 sink=lambda i, res: (i, res))
        assert got == list(enumerate(plain))
    st.close()


@pytest.mark.parametrize("limit", [0, staging.MEMORY_LIMIT])
def test_ingest_through_a_stage_on_disk_stores_the_same(tmp_path, monkeypatch, limit):
    """The texts and cached incidents written from the stage's file equal those of a run kept in memory."""
    folder = corpus(tmp_path / "c", 6)
    monkeypatch.setattr(staging, "MEMORY_LIMIT", staging.MEMORY_LIMIT)
    pipeline.ingest_paths([folder], tmp_path / "mem.sqlite")
    monkeypatch.setattr(staging, "MEMORY_LIMIT", limit)
    monkeypatch.setattr(staging, "READ_CHUNK", 2)
    monkeypatch.setattr(pipeline, "DECODE_CHUNK", 4)
    pipeline.ingest_paths([folder], tmp_path / "disk.sqlite", jobs=2)
    assert dump(tmp_path / "disk.sqlite", skip=("meta", "articles")) == dump(tmp_path / "mem.sqlite",
                                                                                skip=("meta", "articles"))
    con = sqlite3.connect(tmp_path / "disk.sqlite")
    texts = dict(con.execute("SELECT name, text FROM articles"))
    con.close()
    assert texts == {p.name: read_article(p).text for p in folder.iterdir()}
    assert all(texts.values())
    assert not [p for p in tmp_path.iterdir() if "stage" in p.name]  # the scratch file is gone


def test_a_failure_between_two_chunks_of_the_write_leaves_the_store_and_loses_nothing(tmp_path, store_factory,
                                                                                      monkeypatch):
    """The write streams the staged incidents a chunk at a time; failing after the first chunk changes nothing."""
    db = store_factory()
    pipeline.ingest_paths([corpus(tmp_path / "c", 3)], db)
    before = loaded_without_history(db)
    more = corpus(tmp_path / "more", 9)  # a00-a02 as stored, six new
    monkeypatch.setattr(staging, "MEMORY_LIMIT", 0)
    monkeypatch.setattr(staging, "READ_CHUNK", 2)
    written = []
    real = store.new_extractions

    def failing(cache, held):
        for row in real(cache, held):
            if len(written) == 2:  # the first chunk of two went to the store; the second fails being read
                raise OSError("the stage's disk is gone")
            written.append(row[0])
            yield row

    monkeypatch.setattr(store, "new_extractions", failing)
    with pytest.raises(StoreError, match="unchanged"):
        pipeline.ingest_paths([more], db)
    assert len(written) == 2
    assert loaded_without_history(db) == before and len(store.stored_articles(db)) == 3
    assert not [p for p in tmp_path.iterdir() if "stage" in p.name]
    monkeypatch.setattr(store, "new_extractions", real)
    report = pipeline.ingest_paths([more], db)
    assert len(report.added) == 6 and len(store.stored_articles(db)) == 9 and len(store.load(db)) == 9
