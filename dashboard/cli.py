"""Command line: ``incident-map`` (also ``python -m dashboard``). A thin layer over the library.

The modules only some commands need (export, review, evaluation, copy: pandas and geopandas behind them) are
imported by those commands, so ``incident-map ingest FILE``, run once per new article, does not pay for them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path

# Before numpy is imported: its OpenBLAS starts a thread per core that spins while it waits, which costs a
# command of one article a tenth of a second of CPU. Nothing this program computes uses BLAS (a user's own
# setting is kept).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from dashboard import batch, pipeline, store  # noqa: E402
from dashboard.errors import IncidentMapError  # noqa: E402
from dashboard.gazetteer import USER_DIR_ENV, default_gazetteer, import_geonames  # noqa: E402
from dashboard.taxonomy import incident_types  # noqa: E402


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number between 0 and 1")
    return value


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        west = east = south = north = float("nan")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise argparse.ArgumentTypeError(f"{text!r} is not a box; use WEST,SOUTH,EAST,NORTH in degrees (lon, lat)")
    return west, south, east, north


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes (1 or more)")
    return value


class _LazyChoices(Sequence[str]):
    """Choices of an option, computed when the option is used or shown (its module is slow to import)."""

    def __init__(self, values: Callable[[], Sequence[str]]) -> None:
        self._values = values

    def __getitem__(self, i):  # noqa: ANN001 - int or slice, as Sequence has it
        return self._values()[i]

    def __len__(self) -> int:
        return len(self._values())

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __contains__(self, value: object) -> bool:
        return value in self._values()


def _statuses() -> Sequence[str]:
    from dashboard import review

    return review.STATUSES


def _extraction_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-j", "--jobs", type=_jobs, default=1,
                        help="extract in this many processes (default 1); only new or changed articles are "
                             "extracted, the others come from the store's extraction cache")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar (none when stderr is not a "
                        "terminal either)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="incident-map", description=__doc__)
    p.add_argument("--store", help="store file, or a PostgreSQL + PostGIS URL postgresql://user@host/db (default: "
                   "$INCIDENT_MAP_STORE, else "
                   + str(store.DEFAULT_STORE).replace("%", "%%") + ")")
    sub = p.add_subparsers(dest="command", required=True)

    ex = sub.add_parser("extract", help="GeoJSON of the incidents in articles, without touching the store")
    ex.add_argument("paths", nargs="+", help="article files or folders (.txt, .md, .html)")
    ex.add_argument("-o", "--output", help="output file (default: standard output)")

    b = sub.add_parser("build", help="build the store from seeds/ (or the given files and folders)")
    b.add_argument("paths", nargs="*", help="article files or folders (default: seeds/)")
    _extraction_options(b)

    i = sub.add_parser("ingest", help="add articles to the store (unchanged ones are skipped)")
    i.add_argument("paths", nargs="+", help="article files or folders (.txt, .md, .html)")
    _extraction_options(i)

    e = sub.add_parser("export", help="export incidents from the store")
    e.add_argument("--type", action="append", default=[], choices=sorted(incident_types()), dest="types")
    e.add_argument("--since", type=_date)
    e.add_argument("--until", type=_date)
    e.add_argument("--region", action="append", default=[], dest="regions",
                   help="department, zone, province or district name (repeatable)")
    e.add_argument("--bbox", type=_bbox, help="only incidents whose point or footprint meets this box, given as --bbox="
                   "WEST,SOUTH,EAST,NORTH in degrees (read by PostGIS itself on a PostGIS store)")
    e.add_argument("--background", action="store_true", help="include background statistics")
    # a metavar, so that argparse lists the choices only when asked for help (the review module loads pandas)
    e.add_argument("--status", action="append", default=[], dest="statuses", choices=_LazyChoices(_statuses),
                   metavar="STATUS", help="review status, one of: %(choices)s (repeatable); rejected incidents "
                   "are left out unless named here")
    e.add_argument("--format", default="geojson", choices=["geojson", "csv", "gpkg", "zip"])
    e.add_argument("-o", "--output", required=True)

    init = sub.add_parser("init-db", help="create an empty store (for a team: the tables of a PostGIS database)")
    init.add_argument("url", nargs="?", help="store URL or file (default: --store, $INCIDENT_MAP_STORE)")

    cp = sub.add_parser("copy", help="copy a store, reviews included: SQLite to PostGIS and back")
    cp.add_argument("source", help="store file or postgresql:// URL to copy from")
    cp.add_argument("dest", help="store file or postgresql:// URL to copy to")
    cp.add_argument("--replace", action="store_true", help="replace the content of a destination that is not empty")

    ev = sub.add_parser("evaluate", help="score the extractor on hand-coded gold incidents (precision, recall, F1)")
    ev.add_argument("articles", help="folder (or file) of the evaluated articles; all of them count for precision")
    ev.add_argument("gold", help="gold YAML file (see README: gold format)")
    ev.add_argument("--json", action="store_true", help="machine-readable output")
    ev.add_argument("--min-f1", type=_fraction, help="exit with status 1 when F1 is below this (0 to 1)")
    ev.add_argument("--quiet", action="store_true", help="the summary line only")

    g = sub.add_parser("geocode", help="the gazetteer's matches for a place name, best first")
    g.add_argument("text", nargs="+")

    gz = sub.add_parser("gazetteer", help="extend the gazetteer")
    gz_sub = gz.add_subparsers(dest="gazetteer_command", required=True)
    gi = gz_sub.add_parser("import", help="add the populated places of a GeoNames country file (PE.txt)")
    gi.add_argument("file", help="GeoNames export: 19 tab-separated columns, e.g. PE.txt from PE.zip")
    gi.add_argument("--into", help=f"gazetteer folder (default: ${USER_DIR_ENV} or the user data folder)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except IncidentMapError as exc:
        print(f"incident-map: error: {exc}", file=sys.stderr)
        return 1


def _extract(args) -> int:
    from dashboard import export
    from dashboard.corpus import read_corpus

    articles, errors = read_corpus(args.paths)
    frame = pipeline.extract_located(articles, errors=errors) if articles else None
    for err in errors:
        print(f"incident-map: skipped {err.reason}", file=sys.stderr)
    for art in articles:
        for warning in art.warnings:
            print(f"incident-map: warning: {art.name}: {warning}", file=sys.stderr)
    failed = {e.path for e in errors}
    articles = [a for a in articles if (a.path or a.name) not in failed]
    if frame is None or not articles:
        print("incident-map: error: no article could be processed", file=sys.stderr)
        return 1
    meta = {a.name: a for a in articles}
    frame["title"] = [meta[n].title for n in frame["article"]]
    frame["published"] = [meta[n].published.isoformat() if meta[n].published else None for n in frame["article"]]
    frame["published_inferred"] = [meta[n].published_inferred for n in frame["article"]]
    frame["outlet"] = [meta[n].outlet for n in frame["article"]]
    frame["url"] = [meta[n].url for n in frame["article"]]
    data = export.geojson_bytes(frame)
    if args.output:
        export.write(frame, args.output, "geojson")
        print(f"{len(frame)} incidents from {len(articles)} articles -> {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(data.decode("utf-8") + "\n")
    return 0


def _build(args) -> int:
    progress, close = batch.progress_bar(not args.quiet)
    try:
        report = pipeline.build(args.paths or [store.SEEDS], path=args.store, progress=progress, jobs=args.jobs)
    finally:
        close()
    for err in report.errors:
        print(f"incident-map: skipped {err.reason}", file=sys.stderr)
    print(f"built {store.describe(report.path)}: {report.articles} articles, {report.incidents} incidents")
    return 0


def _ingest(args) -> int:
    progress, close = batch.progress_bar(not args.quiet)
    try:
        report = pipeline.ingest_paths(args.paths, path=args.store, progress=progress, jobs=args.jobs)
    finally:
        close()
    for err in report.errors:
        print(f"incident-map: skipped {err.reason}", file=sys.stderr)
    for given, stored in report.renamed:
        print(f"incident-map: another article is already stored as {given}; this one is stored as {stored}",
              file=sys.stderr)
    print(f"{len(report.added)} added, {len(report.updated)} changed and re-extracted, "
          f"{len(report.unchanged)} unchanged; store {store.describe(report.path)}: {report.articles} articles, "
          f"{report.incidents} incidents")
    return 0


def _export(args) -> int:
    import shapely

    from dashboard import export, query, review

    path = store.store_path(args.store)
    within = shapely.box(*args.bbox) if args.bbox else None
    frame = review.load_reviewed(path, default_gazetteer(), store.load(path, within=within))
    if within is not None:  # incidents an analyst added or moved are placed after the store's read
        frame = frame[frame.geometry.intersects(within)]
    flt = query.Filter(types=args.types, since=args.since, until=args.until, regions=args.regions,
                       include_background=args.background, statuses=args.statuses)
    chosen = query.apply(frame, flt)
    export.write(chosen, Path(args.output), args.format)
    print(f"{len(chosen)} of {len(frame)} incidents -> {args.output}")
    return 0


def _init_db(args) -> int:
    target = store.store_path(args.url or args.store)
    created = store.init(target)
    print(f"{'created an empty store' if created else 'a store is already there'}: {store.describe(target)} "
          f"(schema version {store.SCHEMA_VERSION})")
    return 0


def _copy(args) -> int:
    from dashboard import transfer

    report = transfer.copy(args.source, args.dest, replace=args.replace)
    print(f"copied {report.articles} articles, {report.incidents} incidents and {report.reviews} review rows: "
          f"{report.source} -> {report.dest}")
    return 0


def _evaluate(args) -> int:
    from dashboard import evaluation

    result = evaluation.evaluate(args.articles, args.gold)
    for reason in result.skipped:
        print(f"incident-map: skipped {reason}", file=sys.stderr)
    if args.json:
        print(evaluation.to_json(result))
    else:
        print("\n".join(result.report_lines()[-1:] if args.quiet else result.report_lines()))
    if args.min_f1 is not None and result.f1 < args.min_f1:
        print(f"incident-map: F1 {result.f1:.3f} is below --min-f1 {args.min_f1}", file=sys.stderr)
        return 1
    return 0


def _geocode(args) -> int:
    text = " ".join(args.text)
    places = default_gazetteer().match(text)
    if not places:
        print(f"no match for {text!r}", file=sys.stderr)
        return 1
    for p in places:
        print(json.dumps({"id": p.id, "name": p.name, "kind": p.kind, "geo_precision": p.to_location().raw[
            "geo_precision"], "lat": p.lat, "lon": p.lon, "address": p.address}, ensure_ascii=False))
    return 0


#: Malformed rows listed one by one before the rest are only counted.
_MAX_ROW_ERRORS = 20


def _gazetteer(args) -> int:
    report = import_geonames(args.file, args.into)
    for lineno, reason in report.errors[:_MAX_ROW_ERRORS]:
        print(f"incident-map: {args.file}, line {lineno}: {reason}; row skipped", file=sys.stderr)
    if len(report.errors) > _MAX_ROW_ERRORS:
        print(f"incident-map: ... and {len(report.errors) - _MAX_ROW_ERRORS} more malformed rows", file=sys.stderr)
    print(f"{report.added} places added, {report.updated} updated, {report.ignored} ignored (not populated places "
          f"of Peru), {len(report.errors)} malformed rows skipped -> {report.path}")
    return 0 if report.added or report.updated else 1


_COMMANDS = {"extract": _extract, "build": _build, "ingest": _ingest, "export": _export, "geocode": _geocode,
             "evaluate": _evaluate, "gazetteer": _gazetteer, "init-db": _init_db, "copy": _copy}
