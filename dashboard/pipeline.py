"""The pipeline end to end: articles -> incidents -> merged across articles -> located -> store.

``build`` re-extracts everything (seeds plus every article ingested before); ``ingest`` adds articles, skipping
those whose content is already stored and re-extracting those that changed. Both run as one write of the store
(:func:`dashboard.store.update`): a concurrent build, ingest or upload waits and then works on top of this one's
result, so nobody's articles are lost. Reviews live in their own file (:mod:`dashboard.review`); the incidents
of a changed article carry the ids they replace, so reviews follow them.

Articles are keyed by :func:`dashboard.store.article_key`: a file by its path (the same path with new content is
an update), an upload by name and content (a same-name upload with other content is stored beside the first,
under a distinct name, and listed in :attr:`BuildReport.renamed`). Each article is extracted on its own: one that
makes the extractor fail is reported by name and the others still go in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath

from dashboard import store
from dashboard.corpus import Article, ReadError, read_corpus
from dashboard.dedup import former_ids, merge_across_articles
from dashboard.errors import ArticleError, StoreError
from dashboard.extraction import Extractor, Incident
from dashboard.gazetteer import Gazetteer, default_gazetteer
from dashboard.regions import locate

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BuildReport:
    """What a build or an ingest did.

    ``renamed`` lists ``(given name, stored name)`` for articles stored under a distinct name because another
    article already had theirs (``x/report.txt`` beside ``y/report.txt``, or two different uploads of one name).
    """

    path: Path
    articles: int
    incidents: int
    errors: list[ReadError]
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)


def build(paths: Sequence[str | Path] = (store.SEEDS,), path: str | Path | None = None,
          gazetteer: Gazetteer | None = None, progress: Progress | None = None) -> BuildReport:
    """Build the store from article files and folders (``seeds/`` by default), re-extracting every article.

    Articles ingested earlier from elsewhere are kept and re-extracted with the rest. ``progress``, if given, is
    called as ``progress(done, total, name)`` after each article.
    """
    articles, errors = read_corpus(paths)
    if not articles:
        raise StoreError("no article could be read: " + "; ".join(e.reason for e in errors) if errors
                         else "no article files found in " + ", ".join(map(str, paths)))
    return _run(store.store_path(path), articles, errors, gazetteer, progress, rebuild=True)


def ingest(articles: Sequence[Article], path: str | Path | None = None, errors: Sequence[ReadError] = (),
           gazetteer: Gazetteer | None = None, progress: Progress | None = None) -> BuildReport:
    """Add articles to the store: the same content again changes nothing; a changed article is re-extracted.

    Files are matched by path, uploads by name and content (see the module notes); content by hash. The store
    is written only when something changed, in one transaction.
    """
    return _run(store.store_path(path), list(articles), list(errors), gazetteer, progress, rebuild=False)


def ingest_paths(paths: Sequence[str | Path], path: str | Path | None = None,
                 progress: Progress | None = None) -> BuildReport:
    """Read files and folders, then :func:`ingest` them; unreadable files are reported, the rest ingested."""
    articles, errors = read_corpus(paths)
    if not articles:
        raise StoreError("no article could be read: " + "; ".join(e.reason for e in errors) if errors
                         else "no article files found in " + ", ".join(map(str, paths)))
    return ingest(articles, path, errors, progress=progress)


def extract_located(articles: Sequence[Article], gazetteer: Gazetteer | None = None,
                    progress: Progress | None = None, errors: list[ReadError] | None = None):
    """Incidents of ``articles``, merged across articles and located (a GeoDataFrame).

    An article that makes the extractor fail is appended to ``errors`` by name and left out; without ``errors``
    it raises :class:`ArticleError` naming the file.
    """
    gazetteer = gazetteer or default_gazetteer()
    extracted = _extract_each(articles, Extractor(gazetteer), progress)
    incidents = []
    for found in extracted:
        if isinstance(found, ReadError):
            if errors is None:
                raise ArticleError(found.reason)
            errors.append(found)
        else:
            incidents += found
    return _merge_and_locate(incidents, articles, gazetteer)


def needs_build(path: str | Path | None = None) -> bool:
    """Whether the store is missing or written by an older version of this program (then it is rebuilt)."""
    return store.schema_version(path) != store.SCHEMA_VERSION


def ensure(path: str | Path | None = None, progress: Progress | None = None) -> Path:
    """The store path, building it first (from ``seeds/`` and any article it held) when :func:`needs_build`."""
    target = store.store_path(path)
    if needs_build(target):
        build(path=target, progress=progress)
    return target


# ------------------------------------------------------------------------------------------------ internals
@dataclass
class _Plan:
    content: dict[str, Article]
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    previous: dict[str, Article] = field(default_factory=dict)  # key -> stored version of an updated article
    new_keys: set[str] = field(default_factory=set)


def _run(target: Path, incoming: list[Article], errors: list[ReadError], gazetteer: Gazetteer | None,
         progress: Progress | None, rebuild: bool) -> BuildReport:
    reports: list[BuildReport] = []

    def plan(snapshot: store.Snapshot):
        reports.clear()  # a plan may run again on top of another writer's result; only the last one counts
        p = _classify(snapshot.articles, incoming)
        errs = list(errors)
        if not rebuild and not p.added and not p.updated and snapshot.version == store.SCHEMA_VERSION:
            reports.append(BuildReport(target, len(snapshot.articles), len(snapshot.incidents), errs,
                                       unchanged=p.unchanged))
            return None
        content, frame = _extract_content(p, gazetteer, progress, errs)
        frame["former_ids"] = former_ids(snapshot.incidents, frame.to_dict("records"))
        added = sorted(a.name for a in incoming if store.article_key(a) in content) if rebuild else p.added
        reports.append(BuildReport(target, len(content), len(frame), errs, added, p.updated, p.unchanged,
                                   p.renamed))
        return content, frame

    store.update(plan, target)
    return reports[0]


def _classify(stored: Mapping[str, Article], incoming: Sequence[Article]) -> _Plan:
    """Merge incoming articles into the stored ones, by key; new articles get a name no other article has."""
    p = _Plan(dict(stored))
    hashes = {a.content_hash: key for key, a in stored.items()}
    taken = {a.name for a in stored.values()}
    for art in incoming:
        key = store.article_key(art)
        legacy = "name:" + art.name  # stores of schema 2 knew articles by file name only
        if key not in p.content and art.path and legacy in p.content:
            p.content[key] = p.content.pop(legacy)
        old = p.content.get(key)
        if old is None and art.content_hash in hashes:
            p.unchanged.append(p.content[hashes[art.content_hash]].name)  # the same content under another key
        elif old is not None and old.content_hash == art.content_hash:
            p.unchanged.append(old.name)
        elif old is not None:
            p.updated.append(old.name)
            p.previous.setdefault(key, old)
            p.content[key] = replace(art, name=old.name)
            p.new_keys.add(key)
            hashes[art.content_hash] = key
        else:
            name = _free_name(art, taken)
            taken.add(name)
            if name != art.name:
                p.renamed.append((art.name, name))
            p.added.append(name)
            p.content[key] = replace(art, name=name)
            p.new_keys.add(key)
            hashes[art.content_hash] = key
    return p


def _free_name(art: Article, taken: set[str]) -> str:
    """The article's file name, or, when another article has it, its folders before it, or a number."""
    if art.name not in taken:
        return art.name
    if art.path:
        parts = PurePath(Path(art.path).resolve()).parts
        for depth in range(2, len(parts) + 1):
            candidate = "/".join(parts[-depth:]).lstrip("/")
            if candidate not in taken:
                return candidate
    stem, dot, suffix = art.name.rpartition(".")
    stem, suffix = (stem, dot + suffix) if stem else (art.name, "")
    n = 2
    while f"{stem} ({n}){suffix}" in taken:
        n += 1
    return f"{stem} ({n}){suffix}"


def _extract_content(p: _Plan, gazetteer: Gazetteer | None, progress: Progress | None,
                     errors: list[ReadError]):
    """Extract every article of the plan; a failing new article is left out, a failing update rolled back."""
    gazetteer = gazetteer or default_gazetteer()
    extractor = Extractor(gazetteer)
    extracted = _extract_each(list(p.content.values()), extractor, progress)
    content = dict(p.content)
    incidents: list[Incident] = []
    for (key, art), found in zip(p.content.items(), extracted, strict=True):
        if isinstance(found, ReadError):
            errors.append(found)
            if key in p.previous:  # keep the stored version of a changed article that cannot be extracted
                old = p.previous[key]
                content[key] = old
                p.updated.remove(old.name)
                (found,) = _extract_each([old], extractor, None)
            elif key in p.new_keys:  # a new article that cannot be extracted is not stored
                del content[key]
                p.added.remove(art.name)
                p.renamed[:] = [r for r in p.renamed if r[1] != art.name]
                continue
            if isinstance(found, ReadError):  # a stored article: kept, without incidents until it extracts
                continue
        incidents += found
    return content, _merge_and_locate(incidents, list(content.values()), gazetteer)


def _extract_each(articles: Sequence[Article], extractor: Extractor,
                  progress: Progress | None) -> list[list[Incident] | ReadError]:
    """Each article's incidents, or a :class:`ReadError` naming it when the extractor fails on it."""
    out: list[list[Incident] | ReadError] = []
    for i, art in enumerate(articles, 1):
        try:
            out.append(extractor.extract(art))
        except Exception as exc:  # noqa: BLE001 - one hostile article must not abort the others
            out.append(ReadError(art.path or art.name, f"{art.name}: extraction failed "
                                                            f"({type(exc).__name__}: {exc})"))
        if progress:
            progress(i, len(articles), art.name)
    return out


def _merge_and_locate(incidents: list[Incident], articles: Sequence[Article], gazetteer: Gazetteer):
    merged = merge_across_articles(incidents, {a.name: a for a in articles}, gazetteer)
    return locate(merged, gazetteer)
