"""Extracting many articles: the extraction cache's keys, and extraction spread over worker processes.

Each article's incidents are cached in the store under the article's :func:`digest` (what the extractor reads of
it) and the :func:`extractor_version` (the package version, the extraction code and every data file it reads:
language packs, taxonomy, gazetteer, the user's imported places), so an unchanged article is never extracted twice
and editing a pack invalidates every entry. :func:`extract_many` extracts in this process or in ``jobs`` worker
processes (a process pool; each worker builds its own :class:`~dashboard.extraction.Extractor` once), returns
plain data (incidents as JSON text, and a summary for merging) and isolates failures: an article that makes the
extractor raise, or kills its worker process, is reported by name and the others still go in.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing as mp
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, fields, replace
from pathlib import Path

from dashboard import __version__, langpack
from dashboard.corpus import Article, ArticleError, ReadError, date_from_corpus, expand_paths, read_article
from dashboard.dedup import mergeable, place_key
from dashboard.extraction import Extractor, Incident
from dashboard.gazcache import hash_files
from dashboard.gazetteer import DATA_DIR, GEONAMES_FILE, Gazetteer, default_gazetteer
from dashboard.staging import Stage

Progress = Callable[[int, int, str], None]

#: The modules whose code decides what the extractor finds (a change to one invalidates the cache).
_CODE = ("corpus", "extraction", "temporal", "figures", "langpack", "taxonomy", "language", "gazetteer", "batch")
#: Incident fields kept in the cache: the article's name is the current one's, ``sources`` are set by merging and
#: ``mentions`` are not used after extraction.
_FIELDS = tuple(f.name for f in fields(Incident) if f.name not in ("article", "sources", "mentions"))
#: Articles per task sent to a worker: large enough to amortise the round trip, small enough for a smooth bar.
CHUNK = 8


def extractor_version(gazetteer: Gazetteer | None = None) -> str:
    """A hash of everything extraction depends on besides the article (see the module notes)."""
    gazetteer = gazetteer or default_gazetteer()
    h = hashlib.sha256(f"incident-map {__version__}\n".encode())
    package = Path(__file__).resolve().parent
    files = [package / f"{name}.py" for name in _CODE]
    files += sorted(Path(langpack.LANG_DIR).glob("*.yaml"))
    files += [DATA_DIR / "taxonomy.yaml", DATA_DIR / "language_names.yaml"]
    files += sorted(p for p in (gazetteer.data_dir / "gazetteer").rglob("*") if p.is_file())
    if gazetteer.user_dir is not None:
        files.append(gazetteer.user_dir / GEONAMES_FILE)
    hash_files(h, files)
    return h.hexdigest()[:32]


def digest(article: Article) -> str:
    """The cache key of an article: what the extractor reads of it, besides its text.

    The content hash (of the article's bytes, from which its text is cleaned, and from which incident ids
    derive), the publication date and the language. The cleaning code is part of :func:`extractor_version`.
    """
    key = "\0".join((article.content_hash, article.published.isoformat() if article.published else "",
                      str(int(article.published_inferred)), article.language or ""))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def encode(incidents: Sequence[Incident]) -> tuple[str, str]:
    """Incidents as the cache keeps them (both JSON text).

    A summary of each for merging (see :func:`summaries`), and the whole incidents.
    """
    return (json.dumps([[inc.id, inc.type, inc.date, inc.date_end, mergeable(inc), place_key(inc.place_ids)]
                        for inc in incidents], ensure_ascii=False),
            json.dumps([{f: getattr(inc, f) for f in _FIELDS} for inc in incidents], ensure_ascii=False))


def decode(blob: str, article: str) -> list[Incident]:
    """The incidents of a cache entry, reported by the article named ``article``."""
    return [Incident(article=article, **rec) for rec in json.loads(blob)]


def summaries(entries: Sequence[tuple[str, str]]) -> tuple[list[str], list[tuple]]:
    """The incident ids of several cache entries, and their rows for :func:`dashboard.dedup.link_events`.

    ``entries`` are ``(summary JSON, article name)``; the results are in their order.
    """
    # one parse of the joined texts: ten thousand small json.loads calls cost several times more
    parsed = json.loads("[" + ",".join(summary for summary, _ in entries) + "]")
    ids = [rec[0] for found in parsed for rec in found]
    rows = [(t, d, e, article, place, m) for found, (_, article) in zip(parsed, entries, strict=True)
            for _, t, d, e, m, place in found]
    return ids, rows


#: A cache entry: (summary JSON, incidents JSON).
Entry = tuple[str, str]


@dataclass(frozen=True)
class Failure:
    """An article the extractor failed on (an exception, or its worker process died)."""

    reason: str


def extract_many(articles: Sequence[Article], gazetteer: Gazetteer | None = None, jobs: int = 1,
                 progress: Progress | None = None, text: Callable[[Article], str] | None = None,
                 sink: Sink | None = None) -> list:
    """Each article's cache entry (:func:`encode`), or a :class:`Failure`, in the order of ``articles``.

    ``jobs`` > 1 spreads the articles over that many worker processes. ``progress(done, total, name)`` is called
    as articles finish. ``text(article)``, if given, is the text of an article whose object carries none (the
    run keeps texts in a :class:`~dashboard.staging.Stage`): it is read just before the article is extracted,
    so only the articles in flight have theirs in memory. ``sink(i, result)``, if given, is called as each
    result arrives, and what it returns is kept in its place (a run that stages the incidents JSON keeps only
    the summary).
    """
    gazetteer = gazetteer or default_gazetteer()
    total = len(articles)
    loaded = _with_text(text)
    if jobs <= 1 or total <= CHUNK:
        extractor = Extractor(gazetteer)
        out: list = []
        for i, art in enumerate(articles):
            res = _extract_one(extractor, loaded(art))
            out.append(sink(i, res) if sink else res)
            if progress:
                progress(i + 1, total, art.name)
        return out
    return _extract_pool(articles, gazetteer, jobs, progress, loaded, sink)


#: Called with an article's position and its extraction result; returns what to keep of it.
Sink = Callable[[int, "Entry | Failure"], object]


def _with_text(text: Callable[[Article], str] | None) -> Callable[[Article], Article]:
    """The article with its text, from ``text`` when the object carries none."""
    if text is None:
        return lambda art: art
    return lambda art: art if art.text else replace(art, text=text(art))


def read_many(paths: Sequence[str | Path], jobs: int = 1,
              stage: Stage | None = None) -> tuple[list[Article], list[ReadError]]:
    """:func:`~dashboard.corpus.read_corpus`, reading the files in ``jobs`` worker processes.

    With a ``stage``, each article's text goes there as it is read (by content hash, see :func:`staged_text`)
    and the article is returned without it, so a large corpus is never in memory whole.
    """
    errors: list[ReadError] = []
    files = expand_paths(paths, errors)
    articles = []

    def take(path: Path, found: Article | str) -> None:
        if not isinstance(found, Article):
            errors.append(ReadError(str(path), found))
            return
        if stage is not None:
            stage.put("text", [(found.content_hash, found.text)])
            found = replace(found, text="")
        articles.append(found)

    if jobs <= 1:
        for path in files:
            take(path, _read_one(path))
    else:
        with ProcessPoolExecutor(jobs, mp_context=_context()) as pool:
            for path, found in zip(files, pool.map(_read_one, files, chunksize=64), strict=True):
                take(path, found)
    return date_from_corpus(articles, staged_text(stage) if stage is not None else None), errors


def staged_text(stage: Stage) -> Callable[[Article], str]:
    """The text of an article that :func:`read_many` put in ``stage``."""
    def text(art: Article) -> str:
        return art.text or stage.get("text", [art.content_hash])[art.content_hash]
    return text


def _read_one(path: Path) -> Article | str:
    try:
        return read_article(path)
    except ArticleError as exc:
        return str(exc)


def progress_bar(enabled: bool = True) -> tuple[Progress | None, Callable[[], None]]:
    """A progress callback drawing a bar on stderr, and a function closing it.

    Quiet (no callback) when ``enabled`` is false or stderr is not a terminal.
    """
    if not enabled or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm  # only when a bar is drawn

    bar: list[tqdm] = []

    def update(done: int, total: int, name: str) -> None:
        if not bar:
            bar.append(tqdm(total=total, unit="article", file=sys.stderr, dynamic_ncols=True))
        bar[0].n = done
        bar[0].refresh()

    return update, lambda: bar[0].close() if bar else None


# ------------------------------------------------------------------------------------------------ internals
def _extract_one(extractor: Extractor, art: Article) -> Entry | Failure:
    try:
        return encode(extractor.extract(art))
    except Exception as exc:  # noqa: BLE001 - one hostile article must not abort the others
        return Failure(f"{art.name}: extraction failed ({type(exc).__name__}: {exc})")


_worker_extractor: Extractor | None = None
_parent_gazetteer: Gazetteer | None = None  # inherited by forked workers, so they need not load their own


def _init_worker(data_dir: str, user_dir: str | None) -> None:
    global _worker_extractor
    gazetteer = _parent_gazetteer
    if gazetteer is None:  # a spawned worker: load the same gazetteer as the parent
        gazetteer = Gazetteer(data_dir, user_dir=user_dir)
    _worker_extractor = Extractor(gazetteer)


def _work(chunk: list[Article]) -> list[Entry | Failure]:
    assert _worker_extractor is not None
    return [_extract_one(_worker_extractor, art) for art in chunk]


def _context() -> mp.context.BaseContext:
    # fork shares the loaded gazetteer with the workers; elsewhere each worker loads its own
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def _extract_pool(articles: Sequence[Article], gazetteer: Gazetteer, jobs: int, progress: Progress | None,
                  loaded: Callable[[Article], Article], sink: Sink | None) -> list:
    """Extract in a process pool; when a worker dies, find the article that killed it and go on without it."""
    global _parent_gazetteer
    results: list = [None] * len(articles)
    done = 0

    def record(i: int, res: Entry | Failure) -> None:
        nonlocal done
        results[i] = sink(i, res) if sink else res
        done += 1
        if progress:
            progress(done, len(articles), articles[i].name)

    rest, suspects = list(range(len(articles))), []
    initargs = (str(gazetteer.data_dir), str(gazetteer.user_dir) if gazetteer.user_dir else None)
    _parent_gazetteer = gazetteer
    # Forked workers share the parent's memory until they write to it; the garbage collector would write to
    # every object it scans (a large corpus already read), so the parent's objects are kept out of its reach.
    gc.freeze()
    try:
        while rest or suspects:
            # After a worker died, the articles that were in flight run one at a time in one worker, so the next
            # death names its article; the articles not yet sent then run at full width again.
            one_by_one = bool(suspects)
            batch = suspects if one_by_one else rest
            workers, size = (1, 1) if one_by_one else (jobs, CHUNK)
            lost, unsent = _pool_round(articles, batch, workers, size, initargs, record, loaded)
            if one_by_one:
                if lost:  # the first unfinished article was the one in flight: it killed the worker
                    record(lost[0], Failure(f"{articles[lost[0]].name}: extraction failed (the worker process "
                                            "extracting it died)"))
                suspects = lost[1:] + unsent
            else:
                suspects, rest = lost, unsent
    finally:
        _parent_gazetteer = None
        gc.unfreeze()
    missing = Failure("extraction failed")
    return [r if r is not None else sink(i, missing) if sink else missing for i, r in enumerate(results)]


def _pool_round(articles: Sequence[Article], batch: list[int], workers: int, size: int, initargs: tuple,
                record: Callable[[int, Entry | Failure], None],
                loaded: Callable[[Article], Article]) -> tuple[list[int], list[int]]:
    """Extract ``batch`` (indexes into ``articles``) in a new pool, ``size`` articles a task.

    Each task's articles get their texts (``loaded``) as it is sent: only the tasks in flight hold texts.

    Runs until done or until a worker dies; returns the articles sent but unfinished, and those never sent.
    """
    queue = iter([batch[k:k + size] for k in range(0, len(batch), size)])
    running: dict[Future, list[int]] = {}
    lost: list[int] = []
    with ProcessPoolExecutor(workers, mp_context=_context(), initializer=_init_worker,
                             initargs=initargs) as pool:
        while True:
            for chunk in queue:  # at most two tasks a worker in flight: memory stays flat, workers never idle
                running[pool.submit(_work, [loaded(articles[i]) for i in chunk])] = chunk
                if len(running) >= 2 * workers:
                    break
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                chunk = running.pop(fut)
                try:
                    for i, res in zip(chunk, fut.result(), strict=True):
                        record(i, res)
                except BrokenProcessPool:
                    lost += chunk
            if lost:
                lost += [i for chunk in running.values() for i in chunk]
                break
    return sorted(lost), sorted(i for chunk in queue for i in chunk)
