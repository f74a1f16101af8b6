"""``incident-map copy SRC DEST``: move a store between SQLite and PostGIS (or between two of either kind).

Everything goes: articles, incidents with their geometry, the extraction cache and the incidents' signatures (so
an ingest into the copy extracts nothing again), and the reviews with their audit trail. The destination is
written the way every write is (one transaction under its write lock; rows by key), so a copy never leaves half a
store. A destination that already holds articles or reviews is refused unless ``replace`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboard import review, store
from dashboard.errors import StoreError


@dataclass(frozen=True)
class CopyReport:
    """What was copied."""

    source: str
    dest: str
    articles: int
    incidents: int
    reviews: int


def copy(source: str | Path, dest: str | Path, replace: bool = False) -> CopyReport:
    """Copy the store ``source`` (file or URL) to ``dest``; ``replace`` allows a non-empty destination.

    Raises :class:`StoreError` for a missing or damaged source, a damaged or foreign destination, the same store
    twice, or a non-empty destination without ``replace``.
    """
    src, dst = store.store_path(source), store.store_path(dest)
    if str(src) == str(dst) or (not store.is_url(src) and not store.is_url(dst) and Path(dst).exists()
                                and Path(src).resolve() == Path(dst).resolve()):
        raise StoreError(f"{store.describe(src)} cannot be copied onto itself")
    articles = store.stored_articles(src)
    frame = store.load(src)
    signatures, merging, entries, version = store.extras(src)
    src_reviews = review.ReviewStore(review.reviews_path(src)).dump()
    dst_reviews = review.ReviewStore(review.reviews_path(dst))

    def refuse_if_full(held: int) -> None:
        if held and not replace:
            raise StoreError(f"{store.describe(dst)} is not empty ({held} articles and reviews); nothing was "
                             "copied. Give --replace to replace its content")

    if store.exists(dst):
        store.check(dst)  # a damaged or foreign destination is refused, never overwritten
        refuse_if_full(sum(len(v) for v in dst_reviews.dump().values()))

    def plan(snapshot: store.Snapshot) -> store.Delta:
        refuse_if_full(len(snapshot.articles))  # checked again under the write lock
        cache = store.Extractions(version, entries) if version else None
        return store.Delta(articles, frame, frozenset(), signatures, cache, merging)

    store.update(plan, dst)
    if src_reviews or replace:
        dst_reviews.restore(src_reviews)
    held = sum(len(v) for v in src_reviews.values())
    return CopyReport(store.describe(src), store.describe(dst), len(articles), len(frame), held)
