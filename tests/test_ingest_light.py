"""``incident-map ingest FILE`` adds an article without importing pandas or geopandas (issue 11, item 1).

The records path (:func:`dashboard.regions.locate_rows`, a list of records as the store's ``Delta.frame``) must
give exactly what the frame path gives; the gazetteer's pickled copy keeps its frames for when they are used.
"""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from test_incremental import corpus, dump
from test_regions import make

from dashboard import pipeline, store
from dashboard.regions import locate, locate_rows

ROOT = Path(__file__).resolve().parent.parent

#: Run in a new process: the ingest command, then which heavy modules it imported.
PROBE = """
import sys
from dashboard import cli
status = cli.main(sys.argv[1:])
print(sorted(m for m in ("pandas", "geopandas", "pyarrow", "pyproj", "sqlalchemy") if m in sys.modules))
sys.exit(status)
"""


def run_ingest(args, tmp_path):
    env = dict(os.environ, INCIDENT_MAP_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


def test_the_ingest_command_adds_an_article_without_pandas_or_geopandas(tmp_path):
    db = tmp_path / "s.sqlite"
    folder = corpus(tmp_path / "c", 4)
    first = run_ingest(["--store", str(db), "ingest", "--quiet", str(folder / "a00.md"), str(folder / "a01.md")],
                       tmp_path)  # also pickles the gazetteer into the cache folder
    assert first[0].startswith("2 added")
    out = run_ingest(["--store", str(db), "ingest", "--quiet", str(folder / "a02.md")], tmp_path)
    assert out[0].startswith("1 added") and out[-1] == "[]"
    assert len(store.load(db)) == 3  # and what it wrote reads back as a frame


def test_locate_rows_gives_what_locate_gives(gazetteer, seed_incidents):
    """Every kind of place: towns (one outside every polygon), districts, provinces, departments, zones, several
    departments, a country, none, a named zone; plus the seed articles' incidents."""
    kinds = {}
    for place in gazetteer.places.values():
        kinds.setdefault(place.kind, []).append(place.id)
    chosen = [ids[k] for ids in kinds.values() for k in range(0, len(ids), max(1, len(ids) // 60))]
    incidents = [make([pid], id=f"i{n}") for n, pid in enumerate(chosen)]
    incidents += [make(["town:gn3941492"], id="shore"), make([], id="none", unlocated_reason="no place"),
                  make(["dep:19", "dep:10", "dep:25"], id="three"),
                  make(["prov:0505"], id="huanta", named_zone_ids=["zone:vraem"]),
                  make(["town:pichari"], id="pichari", killed=3, quantity_kg=1.5)]
    incidents += [inc for found in seed_incidents.values() for inc in found]
    assert len(incidents) >= 250

    def stored(frame):
        locations = {}
        rows = list(store.frame_records(frame, locations))
        return rows, {k: (name, prec, geom.wkt) for k, (name, prec, geom) in locations.items()}

    assert stored(locate_rows(incidents, gazetteer)) == stored(locate(incidents, gazetteer))


def test_records_and_frame_paths_write_the_same_store(tmp_path, monkeypatch):
    folder = corpus(tmp_path / "c", 8)
    files = sorted(folder.iterdir())
    for name, at_most in (("rows", 10_000), ("frame", 0)):
        monkeypatch.setattr(pipeline, "ROWS_AT_MOST", at_most)
        db = tmp_path / f"{name}.sqlite"
        pipeline.ingest_paths(files[:5], db)  # a new store, then one more article, then a changed one
        pipeline.ingest_paths(files[5:6], db)
        files[0].write_text(files[0].read_text().replace("seized", "seized about"), encoding="utf-8")
        pipeline.ingest_paths(files[:1] + files[6:], db)
        files[0].write_text(files[0].read_text().replace("seized about", "seized"), encoding="utf-8")
    assert dump(tmp_path / "rows.sqlite") == dump(tmp_path / "frame.sqlite")
    assert len(store.load(tmp_path / "rows.sqlite")) == 8


def test_the_pickled_gazetteer_reads_its_frames_only_when_used(gazetteer):
    copy = pickle.loads(pickle.dumps(gazetteer))
    assert "districts" not in vars(copy) and "country_outlines" not in vars(copy)
    assert copy.districts.equals(gazetteer.districts)  # read from the inner pickle on first use
    assert copy.country_outlines.equals(gazetteer.country_outlines)
    assert "districts" in vars(copy) and "_frames_pickled" not in vars(copy)
    assert list(copy.district_ubigeo) == list(gazetteer.districts["ubigeo"])
    with pytest.raises(AttributeError):
        copy.no_such_attribute  # noqa: B018
