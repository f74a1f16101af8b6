"""The pipeline end to end: articles -> incidents -> merged across articles -> located -> store.

``build`` rebuilds the store from the seeds plus every article ingested before; ``ingest`` adds articles, skipping
those whose content is already stored and re-extracting those that changed. Extraction is incremental: each
article's incidents are cached in the store under its digest and the extractor version (:mod:`dashboard.batch`),
so only new or changed articles are extracted (all of them after a language pack, the taxonomy, the gazetteer or
the extraction code changed); merging across articles and the spatial join are redone over the cached incidents,
and only the store rows that changed are written. ``jobs`` > 1 extracts in that many worker processes.

Both run as one write of the store
(:func:`dashboard.store.update`): a concurrent build, ingest or upload waits and then works on top of this one's
result, so nobody's articles are lost. Reviews live in their own file (:mod:`dashboard.review`); the incidents
of a changed article carry the ids they replace, so reviews follow them.

Articles are keyed by :func:`dashboard.store.article_key`: a file by its path (the same path with new content is
an update), an upload by name and content (a same-name upload with other content is stored beside the first,
under a distinct name, and listed in :attr:`BuildReport.renamed`). Each article is extracted on its own: one that
makes the extractor fail is reported by name and the others still go in.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath

from dashboard import batch, staging, store
from dashboard.corpus import Article, ReadError
from dashboard.dedup import former_ids, link_events, links, merge_across_articles
from dashboard.errors import ArticleError, StoreError
from dashboard.extraction import Incident
from dashboard.gazetteer import Gazetteer, default_gazetteer
from dashboard.regions import locate, locate_rows

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
          gazetteer: Gazetteer | None = None, progress: Progress | None = None, jobs: int = 1) -> BuildReport:
    """Build the store from article files and folders (``seeds/`` by default), rewriting every incident.

    Articles ingested earlier from elsewhere are kept. Articles the extraction cache holds for this extractor
    version are not extracted again. ``progress``, if given, is called as ``progress(done, total, name)`` after
    each extracted article; ``jobs`` is the number of extraction processes.
    """
    target = store.store_path(path)
    with _stage(target) as stage:
        articles, errors = batch.read_many(paths, jobs, stage)
        if not articles:
            raise StoreError("no article could be read: " + "; ".join(e.reason for e in errors) if errors
                             else "no article files found in " + ", ".join(map(str, paths)))
        return _run(target, articles, errors, gazetteer, progress, rebuild=True, jobs=jobs, stage=stage)


def ingest(articles: Sequence[Article], path: str | Path | None = None, errors: Sequence[ReadError] = (),
           gazetteer: Gazetteer | None = None, progress: Progress | None = None, jobs: int = 1) -> BuildReport:
    """Add articles to the store: the same content again changes nothing; a changed article is re-extracted.

    Files are matched by path, uploads by name and content (see the module notes); content by hash. Only
    articles the extraction cache lacks are extracted (in ``jobs`` processes). The store is written only when
    something changed, in one transaction.
    """
    target = store.store_path(path)
    with _stage(target) as stage:
        return _run(target, list(articles), list(errors), gazetteer, progress, rebuild=False, jobs=jobs,
                    stage=stage)


def ingest_paths(paths: Sequence[str | Path], path: str | Path | None = None,
                 progress: Progress | None = None, jobs: int = 1) -> BuildReport:
    """Read files and folders, then :func:`ingest` them; unreadable files are reported, the rest ingested."""
    target = store.store_path(path)
    with _stage(target) as stage:  # the texts wait on disk, not in memory, until the write
        articles, errors = batch.read_many(paths, jobs, stage)
        if not articles:
            raise StoreError("no article could be read: " + "; ".join(e.reason for e in errors) if errors
                             else "no article files found in " + ", ".join(map(str, paths)))
        return _run(target, articles, errors, None, progress, rebuild=False, jobs=jobs, stage=stage)


def extract_located(articles: Sequence[Article], gazetteer: Gazetteer | None = None,
                    progress: Progress | None = None, errors: list[ReadError] | None = None):
    """Incidents of ``articles``, merged across articles and located (a GeoDataFrame).

    An article that makes the extractor fail is appended to ``errors`` by name and left out; without ``errors``
    it raises :class:`ArticleError` naming the file.
    """
    gazetteer = gazetteer or default_gazetteer()
    incidents = []
    for art, found in zip(articles, batch.extract_many(articles, gazetteer, 1, progress), strict=True):
        if isinstance(found, batch.Failure):
            if errors is None:
                raise ArticleError(found.reason)
            errors.append(ReadError(art.path or art.name, found.reason))
        else:
            incidents += batch.decode(found[1], art.name)
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


def _stage(target: store.Target) -> staging.Stage:
    """Scratch space for a run's texts and extractions: beside a SQLite store, else in the temporary folder."""
    if store.is_url(target):
        return staging.Stage()
    return staging.Stage(Path(target).parent, Path(target).name)


def _run(target: Path, incoming: list[Article], errors: list[ReadError], gazetteer: Gazetteer | None,
         progress: Progress | None, rebuild: bool, jobs: int, stage: staging.Stage) -> BuildReport:
    with _frozen():
        return _run_frozen(target, incoming, errors, gazetteer, progress, rebuild, jobs, stage)


@contextlib.contextmanager
def _frozen():
    """Keep the objects that exist now (the gazetteer, the articles read) out of the garbage collector's scans.

    A run allocates hundreds of thousands of small objects, and each full collection would walk the gazetteer's
    too: a fifth of the time of a one-article ingest. Nothing that exists now becomes garbage during the run.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _run_frozen(target: Path, incoming: list[Article], errors: list[ReadError], gazetteer: Gazetteer | None,
                progress: Progress | None, rebuild: bool, jobs: int, stage: staging.Stage) -> BuildReport:
    """Plan and write one build or ingest.

    Memory: an incoming article whose object has no text has it in ``stage`` (:func:`batch.read_many`), and
    each extraction's incidents JSON goes there as it arrives (only its summary stays here); both are read back
    a chunk at a time, when extracted, merged and written. The store is still written once, in one transaction,
    and its write lock is taken only after the incoming articles are extracted.
    """
    gazetteer = gazetteer or default_gazetteer()
    version = batch.extractor_version(gazetteer)
    merging = _merge_version(version, gazetteer)
    extracted: dict[str, batch.Entry | batch.Failure] = {}  # digest -> result, kept if the plan runs again
    digests: dict[int, tuple[Article, str]] = {}

    def digest(art: Article) -> str:
        """:func:`batch.digest`, once per article object (the article is kept, so its id is not reused)."""
        hit = digests.get(id(art))
        if hit is None or hit[0] is not art:
            hit = digests[id(art)] = (art, batch.digest(art))
        return hit[1]

    # The store's articles come without their text (see store.Snapshot); the plan sets how to read it.
    textless: dict[int, tuple[Article, str]] = {}  # id of such an article -> (the article, its key)
    read_texts: list[Callable[[Sequence[str]], dict[str, str]]] = []

    def text_of(art: Article) -> str:
        """The text of an article whose object has none: a stored one's from the store, else the staged one."""
        hit = textless.get(id(art))
        if hit is not None and hit[0] is art:  # a stored article extracted again (a new extractor version)
            key = hit[1]
            return read_texts[0]([key]).get(key, "")
        return stage.get("text", [art.content_hash]).get(art.content_hash, "")

    def extract(articles: Sequence[Article]) -> None:
        todo = {}
        for art in articles:
            d = digest(art)
            if d not in extracted:
                todo.setdefault(d, art)
        if not todo:
            return
        order = list(todo)

        def keep(i: int, found: batch.Entry | batch.Failure) -> batch.Entry | batch.Failure:
            if isinstance(found, batch.Failure):
                return found
            stage.put("incidents", [(order[i], found[1])])  # read back when merged and written
            return found[0], None

        extracted.update(zip(order, batch.extract_many(list(todo.values()), gazetteer, jobs, progress,
                                                       text=text_of, sink=keep), strict=True))

    def written_text(art: Article) -> str:
        """The text the store gets for an article: its own, or the staged one (never an empty stand-in)."""
        if art.text:
            return art.text
        found = stage.get("text", [art.content_hash])
        if art.content_hash not in found:
            raise StoreError(f"the text of {art.name} was lost before the write; nothing was written")
        return found[art.content_hash]

    # Extract the incoming articles the store lacks before taking the write lock, so other writers are not held
    # up by it; what the plan still misses (another writer's changes, a new extractor version) is done under it.
    cached, hashes = store.extraction_state(version, target)
    extract([a for a in incoming if digest(a) not in cached and (rebuild or a.content_hash not in hashes)])
    reports: list[BuildReport] = []

    def plan(snapshot: store.Snapshot):
        reports.clear()  # a plan may run again on top of another writer's result; only the last one counts
        textless.clear()
        read_texts.clear()
        if snapshot.texts is not None:
            textless.update((id(a), (a, key)) for key, a in snapshot.articles.items())
            read_texts.append(snapshot.texts)
        p = _classify(snapshot.articles, incoming)
        errs = list(errors)
        if not rebuild and not p.added and not p.updated and snapshot.version == store.SCHEMA_VERSION:
            reports.append(BuildReport(target, len(snapshot.articles), snapshot.incident_count(), errs,
                                       unchanged=p.unchanged))
            return None
        content, entries = _assemble(p, snapshot.cached(version), extracted, extract, errs, digest)

        def incidents_json(keys: Sequence[str]) -> dict[str, str]:
            """The cached incidents of some articles: those extracted now from the stage, the others the store's."""
            fresh = {key: digest(content[key]) for key in keys
                     if isinstance(extracted.get(digest(content[key])), tuple)}
            staged = stage.get("incidents", set(fresh.values()))
            rest = {digest(content[key]): key for key in keys if key not in fresh}
            stored = snapshot.cached_incidents(version, rest)
            return {key: staged[d] for key, d in fresh.items()} | {rest[d]: blob for d, blob in stored.items()}

        delta = _incidents(snapshot, content, entries, incidents_json, gazetteer, merging, digest)
        added = sorted(a.name for a in incoming if store.article_key(a) in content) if rebuild else p.added
        reports.append(BuildReport(target, len(content), len(delta.keep) + len(delta.frame), errs, added,
                                   p.updated, p.unchanged, p.renamed))
        # the incidents of the entries extracted now are in the stage; the store writes them a chunk at a time
        cache = {digest(content[key]): (summary, None) for key, summary in entries.items()}
        return replace(delta, cache=store.Extractions(version, cache, lambda ds: stage.items("incidents", ds)),
                       text=written_text)

    store.update(plan, target)
    return reports[0]


def _incidents(snapshot: store.Snapshot, content: Mapping[str, Article], entries: Mapping[str, str],
               incidents_json: Callable[[Sequence[str]], dict[str, str]], gazetteer: Gazetteer, merging: str,
               digest: Callable[[Article], str]) -> store.Delta:
    """The store's new incidents: merged across articles and located again only where their sources changed.

    Incidents are grouped into events from the cached summaries alone; an event whose signature (its members and
    their articles' metadata) the store already holds, for this merging version, keeps its stored row. Only the
    other events are decoded in full, merged, located and written. When few articles changed, only the events
    they can touch are grouped again (:func:`_touched_events`); the others keep their stored rows unread.
    """
    keys = list(entries)
    ids, rows = batch.summaries([(entries[key], content[key].name) for key in keys])
    key_of = {content[key].name: key for key in keys}  # names are unique in a store
    article_sig: dict[str, str] = {}  # article key -> its signature, for the articles of regrouped events

    def token(i: int) -> str:
        key = key_of[rows[i][3]]
        if key not in article_sig:
            article_sig[key] = _article_signature(content[key], digest(content[key]))
        return f"{ids[i]}:{article_sig[key]}"

    stored = snapshot.groups(merging)
    held = {sig: id_ for id_, sig in stored.items()}
    keep: set[str] = set()
    touched = _touched_events(snapshot, keys, content, ids, rows, stored, gazetteer)
    if touched is None:
        groups = link_events(rows, gazetteer)
    else:
        groups, keep = touched
    signature: dict[str, str] = {}  # member incident id -> its event's signature, for the events written anew
    wanted: dict[str, set[str]] = {}  # article key -> ids of its incidents in events written anew
    for members in groups:
        # plain text, not a hash: most events have one source, and hashing each costs more than comparing
        sig = token(members[0]) if len(members) == 1 else " ".join(sorted(token(i) for i in members))
        if sig in held:
            keep.add(held[sig])
            continue
        for i in members:
            signature[ids[i]] = sig
            wanted.setdefault(key_of[rows[i][3]], set()).add(ids[i])
    del groups, held
    ids, rows = [], []  # a large new store: the summaries are not kept beside the incidents
    incidents: list[Incident] = []
    todo = [key for key in keys if key in wanted]
    for start in range(0, len(todo), DECODE_CHUNK):  # a chunk of JSON at a time, not the whole store's
        part = todo[start:start + DECODE_CHUNK]
        blobs = incidents_json(part)
        incidents += [inc for key in part for inc in batch.decode(blobs[key], content[key].name)
                      if inc.id in wanted[key]]
    merged = merge_across_articles(incidents, {a.name: a for a in content.values()}, gazetteer)
    del incidents  # a new store of 100,000 articles: the unmerged incidents are not kept beside the merged
    old = snapshot.incident_rows([i for i in stored if i not in keep] if stored else None)
    # a new store has nothing to carry over: no record per incident (100,000 articles give 300,000 of them)
    formers = former_ids(old, [_former_record(inc) for inc in merged]) if old else None
    signatures = {inc.id: signature[inc.id] for inc in merged}
    if len(merged) <= ROWS_AT_MOST:  # a few: records, located without pandas or geopandas (see regions)
        frame: object = locate_rows(merged, gazetteer)
        for row, former in zip(frame, formers if formers is not None else [[]] * len(merged), strict=True):
            row["former_ids"] = former
    else:
        frame = locate_merged(merged, gazetteer, consume=True)  # its incidents now live in the frame only
        frame["former_ids"] = formers if formers is not None else [[]] * len(frame)
    return store.Delta(content, frame, frozenset(keep), signatures, merging=merging)


#: At most this many incidents written anew go to the store as records rather than a frame: the incremental
#: ingest of a few articles then never imports pandas or geopandas (half a second of a one-article command).
ROWS_AT_MOST = 1000
#: Articles whose incidents JSON is read and decoded at once.
DECODE_CHUNK = 2000
#: Above this share of changed articles, every event is grouped again (as for a new store).
REGROUP_SHARE = 0.05


def _touched_events(snapshot: store.Snapshot, keys: Sequence[str], content: Mapping[str, Article],
                    ids: Sequence[str], rows: Sequence[tuple], stored: Mapping[str, str],
                    gazetteer: Gazetteer) -> tuple[list[list[int]], set[str]] | None:
    """The events that changed articles can touch, grouped again, and the stored events they cannot touch.

    Returns ``(groups, untouched)``: groups of row positions (as :func:`link_events` gives them) covering every
    row of a new or changed article and every stored event that lost a member or that such a row links to; and
    the ids of the other stored events, whose members and articles are all as stored. None when the stored
    grouping cannot be used (none stored, or too many changes): then every row is grouped again.

    Events are the connected groups of :func:`link_events`, so an event none of whose members changed and that
    no changed row links to is still exactly one event.
    """
    if not stored or not rows:
        return None
    same = {key for key in keys if snapshot.articles.get(key) is content[key]}
    if len(keys) - len(same) > REGROUP_SHARE * len(keys):
        return None
    key_of = {content[key].name: key for key in keys}
    dirty = [i for i, r in enumerate(rows) if key_of[r[3]] not in same]
    same_ids = {ids[i] for i, r in enumerate(rows) if key_of[r[3]] in same}
    member_event: dict[str, str] = {}  # member id -> stored event id (members of several-source events only)
    lost: set[str] = set()  # stored events with a member that is gone or changed
    for event, sig in stored.items():
        if " " not in sig:  # one source: the event's id is its member's
            if event not in same_ids:
                lost.add(event)
            continue
        for tok in sig.split(" "):
            member = tok[:tok.index(":")]
            member_event[member] = event
            if member not in same_ids:
                lost.add(event)
    if any(i not in stored and i not in member_event for i in same_ids):
        return None  # an unchanged incident in no stored event: the stored grouping is not this store's
    by_type: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if r[5] and key_of[r[3]] in same:
            by_type.setdefault(r[0], []).append(i)
    linked: set[str] = set(lost)
    for i in dirty:
        if rows[i][5]:
            linked.update(member_event.get(ids[j], ids[j]) for j in by_type.get(rows[i][0], ())
                          if links(rows[i], rows[j], gazetteer))
    regroup = dirty + [i for i in range(len(rows)) if ids[i] in same_ids
                       and member_event.get(ids[i], ids[i]) in linked]
    regroup.sort()
    groups = [[regroup[k] for k in members] for members in link_events([rows[i] for i in regroup], gazetteer)]
    return groups, {event for event in stored if event not in linked}


def _article_signature(art: Article, digest: str) -> str:
    """What an event's row reads of one of its articles: its digest, and the metadata its sources show."""
    key = "\0".join((digest, art.name, art.title or "", art.published.isoformat() if art.published
                      else "", art.outlet or "", art.url or ""))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _merge_version(version: str, gazetteer: Gazetteer) -> str:
    """The extractor version plus the code and boundaries that merge and locate incidents and write their rows."""
    h = hashlib.sha256(version.encode())
    package = Path(__file__).resolve().parent
    for path in [package / f"{m}.py" for m in ("dedup", "regions", "pipeline", "store")] + sorted(
            (gazetteer.data_dir / "boundaries").rglob("*")):
        try:
            h.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:  # a folder, or a file this user cannot read (the gazetteer could not either)
            h.update(path.name.encode())
    return h.hexdigest()[:32]


def _assemble(p: _Plan, cache: Mapping[str, str], extracted: dict[str, batch.Entry | batch.Failure],
              extract: Callable[[Sequence[Article]], None], errors: list[ReadError],
              digest: Callable[[Article], str]):
    """Each article's cache entry, from the cache or extracted now.

    A failing new article is left out, a failing update rolled back to the stored version, a failing stored
    article kept without incidents. Returns the articles to store and the summaries (JSON) of those with
    incidents.
    """
    extract([a for a in p.content.values() if digest(a) not in cache])
    content = dict(p.content)
    entries: dict[str, str] = {}
    for key, art in p.content.items():
        d = digest(art)
        found = cache.get(d) or extracted[d]
        if isinstance(found, batch.Failure):
            errors.append(ReadError(art.path or art.name, found.reason))
            if key in p.previous:  # keep the stored version of a changed article that cannot be extracted
                old = p.previous[key]
                content[key] = old
                p.updated.remove(old.name)
                d = digest(old)
                if d not in cache:
                    extract([old])
                found = cache.get(d) or extracted[d]
            elif key in p.new_keys:  # a new article that cannot be extracted is not stored
                del content[key]
                p.added.remove(art.name)
                p.renamed[:] = [r for r in p.renamed if r[1] != art.name]
                continue
            if isinstance(found, batch.Failure):  # a stored article: kept, without incidents until it extracts
                continue
        entries[key] = found if isinstance(found, str) else found[0]
    return content, entries


def _former_record(inc: Incident) -> dict:
    """What :func:`former_ids` reads of a merged incident (its location id as :func:`locate` writes it)."""
    return {"id": inc.id, "type": inc.type, "article": inc.article, "date": inc.date,
            "location_id": "+".join(sorted(inc.place_ids)) if inc.place_ids else None, "evidence": inc.evidence,
            "background": inc.background, "sources": inc.sources}


def locate_merged(incidents: Sequence[Incident], gazetteer: Gazetteer, consume: bool = False):
    """:func:`~dashboard.regions.locate`, run once per distinct place (the same result, much cheaper at scale).

    Everything ``locate`` adds depends only on an incident's ``place_ids`` and ``named_zone_ids``, so one
    incident per distinct pair is located and its location columns are given to the others. ``consume`` empties
    ``incidents`` (a list) once their fields are in the frame, so a large build does not hold both.
    """
    import pandas as pd

    reps: dict[tuple, Incident] = {}
    keys = []
    for inc in incidents:
        key = (tuple(inc.place_ids), tuple(inc.named_zone_ids))
        keys.append(key)
        reps.setdefault(key, inc)
    located = locate(list(reps.values()), gazetteer)
    pos = {key: n for n, key in enumerate(reps)}
    out = located.iloc[[pos[k] for k in keys]].reset_index(drop=True)
    columns = [f for f in Incident.__dataclass_fields__ if f != "mentions"]
    # column by column: a list per row would be one more object per incident
    own = pd.DataFrame({c: [getattr(inc, c) for inc in incidents] for c in columns}, columns=columns)
    if consume:
        reps.clear()
        incidents.clear()  # the incidents' fields live on in the frame; their objects go
    for col in ("killed", "wounded", "count", "quantity_kg", "date", "date_end"):  # as locate() leaves them
        own[col] = own[col].astype(object).where(own[col].notna(), None)
    for col in columns:
        out[col] = own[col].to_numpy()
    return out


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


def _merge_and_locate(incidents: list[Incident], articles: Sequence[Article], gazetteer: Gazetteer):
    merged = merge_across_articles(incidents, {a.name: a for a in articles}, gazetteer)
    return locate_merged(merged, gazetteer)
