"""Store backends side by side: SQLite file against PostgreSQL + PostGIS (a throwaway local cluster).

``python bench/run_pg.py [N] [RUNS]`` (default 2,000 synthetic articles, 5 runs) times, on each backend:
building the store from N articles (extraction included, so both pay the same), adding one article to it,
loading every incident, loading the incidents in a small box (PostGIS filters in the database), and
``incident-map copy`` SQLite -> PostGIS -> SQLite. Medians with min-max, in seconds, wall clock.

Last measured (2,000 articles, 6,6xx incidents, 5 runs, a 2-core machine shared with other work; PostgreSQL 15
on a unix socket with fsync off): see the README's Benchmarks section.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from shapely.geometry import box  # noqa: E402
from synth import write_corpus  # noqa: E402

from dashboard import pipeline, store, transfer  # noqa: E402
from dashboard.corpus import Article  # noqa: E402
from tests.conftest import PostGIS  # noqa: E402

VRAEM_BOX = box(-74.5, -13.0, -73.5, -12.0)


def timed(fn, runs: int) -> dict:
    times = []
    for n in range(runs):
        start = time.perf_counter()
        fn(n)
        times.append(time.perf_counter() - start)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def new_article(n: int) -> Article:
    return Article(name=f"bench-{n}-{time.time_ns()}.md", content_hash=f"{time.time_ns():064x}",
                   text=f"Police seized {100 + n} kilos of cocaine in Pichari on May {1 + n % 28}, 2021.")


def bench(target, corpus: Path, runs: int) -> dict:
    out = {"build": timed(lambda n: pipeline.build([corpus], path=target), 1)}
    out["incidents"] = len(store.load(target))
    out["add one article"] = timed(lambda n: pipeline.ingest([new_article(n)], target), runs)
    out["load all"] = timed(lambda n: store.load(target), runs)
    out["load a box"] = timed(lambda n: store.load(target, within=VRAEM_BOX), runs)
    return out


def show(name: str, result: dict) -> None:
    print(f"{name}: {result['incidents']} incidents")
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"  {key:16s} median {value['median']:.3f} s (min {value['min']:.3f}, max {value['max']:.3f})")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    server = PostGIS()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus"
            write_corpus(corpus, n)
            sqlite_db, pg = Path(tmp) / "s.sqlite", server.new_database()
            show("SQLite", bench(sqlite_db, corpus, runs))
            show("PostGIS", bench(pg, corpus, runs))
            for name, (src, dst) in {"copy SQLite -> PostGIS": (sqlite_db, None),
                                     "copy PostGIS -> SQLite": (pg, "file")}.items():
                def run(k, src=src, dst=dst):
                    target = server.new_database() if dst is None else Path(tmp) / f"c{k}.sqlite"
                    transfer.copy(src, target)
                result = timed(run, runs)
                print(f"{name}: median {result['median']:.3f} s (min {result['min']:.3f}, max {result['max']:.3f})")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
