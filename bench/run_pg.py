"""Store backends side by side: SQLite file against PostgreSQL + PostGIS (a throwaway local cluster).

``python bench/run_pg.py [N] [RUNS]`` (default 2,000 synthetic articles, 5 runs) times, on each backend:
building the store from N articles (extraction included, so both pay the same), adding one article to it,
loading every incident, loading the incidents in a small box (PostGIS filters in the database), and
``incident-map copy`` SQLite -> PostGIS -> SQLite. Medians with min-max, in seconds, wall clock.

Last measured with ``python bench/run_pg.py 2000 6`` (6,657 incidents; builds 3 times per backend, the rest 6
times; a 2-core machine shared with five other busy processes, so the spread is wide; PostgreSQL 15 on a unix
socket with fsync off), median (min-max) in seconds:

=====================  ===================  ===================
step                   SQLite               PostGIS
=====================  ===================  ===================
build (extraction)     23.9 (11.7-60.9)     40.3 (21.5-68.3)
add one article        0.28 (0.19-0.43)     0.91 (0.56-1.76)
load all               0.41 (0.28-0.55)     1.30 (1.00-2.82)
load a box (VRAEM)     0.64 (0.58-0.87)     0.71 (0.52-0.91)
=====================  ===================  ===================

``copy`` SQLite -> PostGIS 6.7 s (4.2-7.8), PostGIS -> SQLite 4.2 s (3.6-6.7). An earlier run under heavier load
gave the opposite order for most steps (SQLite add one article 2.35 s, PostGIS 0.56 s): on this machine the
backends are within the noise of each other except ``load all``, where PostgreSQL sends every row over its socket.
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
    out = {"incidents": len(store.load(target))}
    out["add one article"] = timed(lambda n: pipeline.ingest([new_article(n)], target), runs)
    out["load all"] = timed(lambda n: store.load(target), runs)
    out["load a box"] = timed(lambda n: store.load(target, within=VRAEM_BOX), runs)
    return out


def builds(make: dict, corpus: Path, runs: int) -> tuple[dict, dict]:
    """Build the corpus into a new store of each backend, ``runs`` times, the backends taking turns."""
    times: dict[str, list[float]] = {name: [] for name in make}
    last = {}
    for k in range(runs):
        for name in (list(make) if k % 2 == 0 else list(make)[::-1]):  # turns: neither always goes first
            target = make[name](k)
            start = time.perf_counter()
            pipeline.build([corpus], path=target)
            times[name].append(time.perf_counter() - start)
            last[name] = target
    return ({name: {"median": statistics.median(t), "min": min(t), "max": max(t)} for name, t in times.items()},
            last)


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
            built, last = builds({"SQLite": lambda k: Path(tmp) / f"b{k}.sqlite",
                                  "PostGIS": lambda k: server.new_database()}, corpus, max(1, runs // 2))
            sqlite_db, pg = last["SQLite"], last["PostGIS"]
            for name, target in last.items():
                show(name, {**bench(target, corpus, runs), "build (extraction included)": built[name]})
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
