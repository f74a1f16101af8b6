"""Incremental ingest benchmarks (issue 11, item 1). Run: ``python bench/run_ingest.py [--quick] [--large N]``.

Targets:

- adding one article to a 10,000-article store: <= 1 s (median of several runs, each adding a new article);
- ``incident-map ingest --jobs N``: a large synthetic corpus ingests into a new store at >= 0.8 x N x the
  ``--jobs 1`` rate (100,000 articles in the issue);
- peak memory of the whole process tree (the command and its workers) for 100,000 articles: < 2 GiB.

The machine is shared (2 cores, five other agents): each figure is given as wall-clock time and CPU time (the CPU
time of the process tree, which load from other programs does not inflate), and the load average is printed.

Last measured (2026-11-23, 2 cores shared with five other agents, load average 3-6; synthetic articles of ~630
words from ``bench/synth.py``):

- adding one article to a 10,000-article store (27,241 incidents, 104 MiB file), seven runs: median 1.29 s wall
  (1.03-1.75) and 1.23 s CPU (0.96-1.62) with SQLite's backup API for the ``.bak`` copy; 1.81 s wall (1.11-1.98)
  and 1.04 s CPU (0.86-1.25) with the copy in a ``cp`` process (its time is not in the CPU figure) on a busier
  machine. Target missed by about a quarter on CPU time. Where it goes (10,000 articles): ``PRAGMA quick_check``
  before the write ~0.1 s, reading the stored articles ~0.15-0.25 s, grouping 27,000 cached summaries into
  events ~0.25 s, signatures ~0.1 s, the backup copy of the whole file 0.1-0.5 s; extracting, merging, locating
  and writing the new article's events is a few hundredths. The same article again (nothing to do): 0.2-0.3 s.
  Before this change the same ingest re-extracted every article: about 70 s.
- 20,000 articles (44,882 incidents) into a new store: ``--jobs 1`` 188.6 s wall, 131.6 s CPU (106 articles/s);
  ``--jobs 2`` 91.4 s wall, 129.5 s CPU (219 articles/s): rate ratio 2.06, target 1.6 (an earlier run under
  heavier load: 182.9 s and 160.2 s wall, ratio 1.14, with the same CPU time, 126 s and 130 s: the work
  divides without overhead, the wall clock depends on what else runs). Peak memory of the process tree: 711 MiB
  PSS (824 MiB summed RSS, which counts the forked workers' shared gazetteer pages twice) with ``--jobs 2``,
  708 MiB with ``--jobs 1``.
- 100,000 articles (88,076 incidents: the synthetic corpus has few distinct places, so many reports merge),
  ``--jobs 2`` only (``--jobs 1`` would have taken a quarter of an hour more): 444 s wall, 631 s CPU, 225
  articles/s, the same rate as 20,000 with ``--jobs 2`` (the CPU time per article is also the same: linear).
  Peak memory of the tree 2,465 MiB PSS: over the 2 GiB target (measured before the workers forked with the
  parent's objects frozen out of the collector and before merging set sources in place; those two changes took
  20,000 articles with ``--jobs 2`` from 711 to 695 MiB, 69 s wall at load 1-2, 289 articles/s). The peak is
  the parent's, after extraction, while it holds at once every article (text included), every cache entry
  (JSON text), the decoded incidents and the incident frame being written; the workers are gone by then.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import article, write_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _tree_rss(pid: int) -> tuple[int, int]:
    """Resident memory of a process and all its descendants, in bytes, read from Linux's ``/proc``.

    The sum of their RSS (which counts the pages forked workers share with the parent once per process) and of
    their PSS (shared pages divided among the processes sharing them); zeros where ``/proc`` is missing.
    """
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    rss = pss = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:
            pass
    return rss, pss


def run_cli(args: list[str]) -> dict:
    """Run ``python -m dashboard ARGS``; wall time, CPU time of the whole tree and its peak summed RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peak = [0, 0]

    def sample() -> None:
        while proc.poll() is None:
            rss, pss = _tree_rss(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its workers, all waited for
    if proc.returncode:
        raise RuntimeError(f"incident-map {' '.join(args)} failed: {err}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_tree_rss_mib": round(peak[0] / 2**20),
            "peak_tree_pss_mib": round(peak[1] / 2**20), "output": out.strip()}


def bench_add_one(n: int, runs: int, jobs: int) -> dict:
    """Build an ``n``-article store, then add one new article ``runs`` times (each a separate ingest)."""
    import random

    from dashboard import pipeline
    from dashboard.corpus import parse_article
    from dashboard.gazetteer import default_gazetteer

    with tempfile.TemporaryDirectory() as tmp:
        corpus, db = Path(tmp) / "corpus", Path(tmp) / "s.sqlite"
        write_corpus(corpus, n)
        build = run_cli(["--store", str(db), "ingest", "--quiet", "--jobs", str(jobs), str(corpus)])
        default_gazetteer()  # loaded once, as in the dashboard's server process
        rng = random.Random(11)
        walls, cpus = [], []
        for k in range(runs):
            art = parse_article(article(rng, 900_000 + k).encode(), f"new_{k}.txt")
            t, c = time.perf_counter(), time.process_time()
            report = pipeline.ingest([art], db)
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
            assert report.added == [f"new_{k}.txt"], report
        t, c = time.perf_counter(), time.process_time()
        pipeline.ingest([art], db)  # the same article again: nothing to do
        unchanged = (time.perf_counter() - t, time.process_time() - c)
        size = db.stat().st_size
    return {"articles": n, "store_mib": round(size / 2**20), "build": build,
            "add_one_wall_s": {"median": round(statistics.median(walls), 2), "min": round(min(walls), 2),
                               "max": round(max(walls), 2)},
            "add_one_cpu_s": {"median": round(statistics.median(cpus), 2), "min": round(min(cpus), 2),
                              "max": round(max(cpus), 2)},
            "unchanged_again_wall_s": round(unchanged[0], 2), "unchanged_again_cpu_s": round(unchanged[1], 2),
            "target_s": 1.0}


def bench_jobs(n: int, jobs: list[int]) -> dict:
    """Ingest ``n`` synthetic articles into a new store with each ``--jobs`` value; rates and their ratio."""
    out: dict = {"articles": n, "cores": os.cpu_count(), "load_average": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        write_corpus(corpus, n)
        for j in jobs:
            db = Path(tmp) / f"s{j}.sqlite"
            res = run_cli(["--store", str(db), "ingest", "--quiet", "--jobs", str(j), str(corpus)])
            res["articles_per_s"] = round(n / res["wall_s"], 1)
            out[f"jobs_{j}"] = res
            db.unlink()
            Path(tmp, f"s{j}.sqlite.bak").unlink(missing_ok=True)
    base = out[f"jobs_{jobs[0]}"]["articles_per_s"]
    for j in jobs[1:]:
        out[f"rate_ratio_{j}_to_{jobs[0]}"] = round(out[f"jobs_{j}"]["articles_per_s"] / base, 2)
        out[f"target_ratio_{j}"] = round(0.8 * j, 2)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.add_argument("--store-size", type=int, default=10_000, help="articles in the store one article is added to")
    p.add_argument("--large", type=int, default=100_000, help="articles for the --jobs comparison")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--only", choices=["add_one", "jobs"], help="run one of the two benchmarks")
    p.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values to compare (first: base)")
    args = p.parse_args()
    small, large = (300, 600) if args.quick else (args.store_size, args.large)
    results = {}
    if args.only in (None, "add_one"):
        results["add_one"] = bench_add_one(small, 3 if args.quick else args.runs, 2)
    if args.only in (None, "jobs"):
        results["jobs"] = bench_jobs(large, args.jobs)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
