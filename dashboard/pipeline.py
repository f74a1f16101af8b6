"""The pipeline end to end: articles -> incidents -> merged across articles -> located -> store.

``build`` re-extracts everything (seeds plus every article ingested before); ``ingest`` adds articles, skipping
those whose content is already stored and re-extracting those that changed. Both write the store atomically.
Reviews live in their own file (:mod:`dashboard.review`), so neither touches an analyst's work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dashboard import store
from dashboard.corpus import Article, ReadError, read_corpus
from dashboard.dedup import merge_across_articles
from dashboard.errors import StoreError
from dashboard.extraction import Extractor
from dashboard.gazetteer import Gazetteer, default_gazetteer
from dashboard.regions import locate

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BuildReport:
    """What a build or an ingest did."""

    path: Path
    articles: int
    incidents: int
    errors: list[ReadError]
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def build(paths: Sequence[str | Path] = (store.SEEDS,), path: str | Path | None = None,
          gazetteer: Gazetteer | None = None, progress: Progress | None = None) -> BuildReport:
    """Build the store from article files and folders (``seeds/`` by default), replacing it atomically.

    Articles ingested earlier from elsewhere are kept and re-extracted with the rest. ``progress``, if given, is
    called as ``progress(done, total, name)`` after each article.
    """
    target = store.store_path(path)
    articles, errors = read_corpus(paths)
    if not articles:
        raise StoreError("no article could be read: " + "; ".join(e.reason for e in errors) if errors
                         else "no article files found in " + ", ".join(map(str, paths)))
    names = {a.name for a in articles}
    kept = [a for a in _stored(target) if a.name not in names]
    report = _write(target, articles + kept, gazetteer, progress)
    return BuildReport(target, report[0], report[1], errors, added=sorted(names))


def ingest(articles: Sequence[Article], path: str | Path | None = None, errors: Sequence[ReadError] = (),
           gazetteer: Gazetteer | None = None, progress: Progress | None = None) -> BuildReport:
    """Add articles to the store: the same content again changes nothing; a changed article is re-extracted.

    Articles are matched by file name; their content by hash. The store is rewritten only when something
    changed, and atomically.
    """
    target = store.store_path(path)
    stored = {a.name: a for a in _stored(target)}
    added, updated, unchanged = [], [], []
    for art in articles:
        old = stored.get(art.name)
        if old is None:
            added.append(art.name)
        elif old.content_hash == art.content_hash:
            unchanged.append(art.name)
            continue
        else:
            updated.append(art.name)
        stored[art.name] = art
    if not added and not updated:
        count = len(store.load(target)) if target.exists() else 0
        return BuildReport(target, len(stored), count, list(errors), unchanged=unchanged)
    n_articles, n_incidents = _write(target, list(stored.values()), gazetteer, progress)
    return BuildReport(target, n_articles, n_incidents, list(errors), added, updated, unchanged)


def ingest_paths(paths: Sequence[str | Path], path: str | Path | None = None,
                 progress: Progress | None = None) -> BuildReport:
    """Read files and folders, then :func:`ingest` them; unreadable files are reported, the rest ingested."""
    articles, errors = read_corpus(paths)
    if not articles:
        raise StoreError("no article could be read: " + "; ".join(e.reason for e in errors) if errors
                         else "no article files found in " + ", ".join(map(str, paths)))
    return ingest(articles, path, errors, progress=progress)


def extract_located(articles: Sequence[Article], gazetteer: Gazetteer | None = None,
                    progress: Progress | None = None):
    """Incidents of ``articles``, merged across articles and located (a GeoDataFrame)."""
    gazetteer = gazetteer or default_gazetteer()
    extractor = Extractor(gazetteer)
    incidents = []
    for i, art in enumerate(articles, 1):
        incidents += extractor.extract(art)
        if progress:
            progress(i, len(articles), art.name)
    merged = merge_across_articles(incidents, {a.name: a for a in articles}, gazetteer)
    return locate(merged, gazetteer)


def needs_build(path: str | Path | None = None) -> bool:
    """Whether the store is missing or written by an older version of this program (then it is rebuilt)."""
    return store.schema_version(path) != store.SCHEMA_VERSION


def ensure(path: str | Path | None = None, progress: Progress | None = None) -> Path:
    """The store path, building it first (from ``seeds/`` and any article it held) when :func:`needs_build`."""
    target = store.store_path(path)
    if needs_build(target):
        build(path=target, progress=progress)
    return target


def _stored(target: Path) -> list[Article]:
    return store.load_articles(target) if store.schema_version(target) is not None else []


def _write(target: Path, articles: list[Article], gazetteer, progress) -> tuple[int, int]:
    frame = extract_located(articles, gazetteer, progress)
    store.write(target, articles, frame)
    return len(articles), len(frame)
