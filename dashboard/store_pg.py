"""The PostgreSQL + PostGIS store: the same content and behaviour as the SQLite file, for a team.

Selected by URL (``--store postgresql://user@host/db`` or ``$INCIDENT_MAP_STORE``); :mod:`dashboard.store` and
:mod:`dashboard.review` hand their work here for such a store, so callers see no difference. Tables are SQLAlchemy
Core tables derived from :mod:`dashboard.schema` (lists as text arrays, the source reports as JSONB, dates as
dates), with PostGIS geometry through GeoAlchemy2: each incident's point (a footprint's representative point) and
each footprint once in ``locations``, both with spatial indexes, so spatial filters run in the database.

Writers lose nothing: every build, ingest or upload is one transaction that first takes a transaction-level
advisory lock (a second writer waits, then plans on top of the first one's result, like SQLite's ``BEGIN
IMMEDIATE``), then writes only the rows that changed (upserts and deletes by key, never a table rewrite).
Reviews live in the same database, each change one transaction under its own advisory lock, with its audit row.
Readers are never blocked (MVCC). A failed write is rolled back by the server. A database holding other tables,
or our tables without our stamp, is refused, never written to.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy.dialects.postgresql import ARRAY, JSON, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from dashboard import schema
from dashboard.corpus import Article
from dashboard.errors import DamagedStoreError, StoreError

#: Written to ``meta`` by this program: a database without it is not ours.
STAMP = "incident-map"
#: Advisory lock keys (any two 64-bit numbers no other program is likely to use): store writes, review writes.
STORE_LOCK = 0x1C1DE47_0001
REVIEW_LOCK = 0x1C1DE47_0002
#: Tables PostGIS itself creates in the public schema (not a sign of a foreign database).
_POSTGIS_TABLES = {"spatial_ref_sys"}

metadata = sa.MetaData()
meta = sa.Table("meta", metadata, sa.Column("key", sa.Text, primary_key=True), sa.Column("value", sa.Text))
articles = sa.Table(
    "articles", metadata,
    sa.Column("key", sa.Text, primary_key=True), sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text), sa.Column("published", sa.Date), sa.Column("published_inferred", sa.Boolean),
    sa.Column("published_note", sa.Text), sa.Column("byline", sa.Text), sa.Column("outlet", sa.Text),
    sa.Column("url", sa.Text), sa.Column("content_hash", sa.Text, nullable=False), sa.Column("path", sa.Text),
    sa.Column("text", sa.Text, nullable=False), sa.Column("language", sa.Text))
locations = sa.Table(
    "locations", metadata, sa.Column("id", sa.Text, primary_key=True), sa.Column("name", sa.Text),
    sa.Column("geo_precision", sa.Text),
    sa.Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False))
#: Stored fields kept as one PostGIS point column instead of two numbers.
_COORDS = ("lon", "lat")
_TYPES = {"text": sa.Text, "date": sa.Date, "int": sa.BigInteger, "real": sa.Double, "bool": sa.Boolean,
          # JSON, not JSONB: the source reports keep their key order, so exports read as from SQLite
          "json": JSON,
          # a stated figure may exceed 64 bits (SQLite keeps it as a real); NUMERIC holds it exactly
          "figure": sa.Numeric}


def _column(f: schema.Field) -> sa.Column:
    kind = ARRAY(sa.Text) if f.is_list else _TYPES[f.kind]
    extra = []
    if f.references:
        table, col = f.references.rstrip(")").split("(")
        # deferred: a write deletes and re-inserts articles and incidents in either order inside its transaction
        extra.append(sa.ForeignKey(f"{table}.{col}", deferrable=True, initially="DEFERRED"))
    return sa.Column(f.name, kind, *extra, primary_key=f.name == "id", nullable=f.nullable,
                     index=f.name in ("type", "date"))


incidents = sa.Table(
    "incidents", metadata, *(_column(f) for f in schema.STORED if f.name not in _COORDS),
    sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=True)))
extractions = sa.Table(
    "extractions", metadata, sa.Column("digest", sa.Text, primary_key=True),
    sa.Column("version", sa.Text, primary_key=True), sa.Column("summary", sa.Text, nullable=False),
    sa.Column("incidents", sa.Text, nullable=False))
groups = sa.Table("groups", metadata, sa.Column("id", sa.Text, primary_key=True),
                  sa.Column("signature", sa.Text, nullable=False))
decisions = sa.Table(
    "review_decisions", metadata, sa.Column("incident_id", sa.Text, primary_key=True),
    sa.Column("status", sa.Text, nullable=False), sa.Column("updated_at", sa.Text),
    sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False))
corrections = sa.Table(
    "review_corrections", metadata, sa.Column("incident_id", sa.Text, primary_key=True),
    sa.Column("field", sa.Text, primary_key=True), sa.Column("value", JSONB), sa.Column("updated_at", sa.Text),
    sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False))
manual = sa.Table(
    "review_manual", metadata, sa.Column("id", sa.Text, primary_key=True),
    sa.Column("record", JSONB, nullable=False), sa.Column("created_at", sa.Text))
audit = sa.Table(
    "review_audit", metadata, sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.Text, nullable=False), sa.Column("incident_id", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False), sa.Column("field", sa.Text), sa.Column("old", JSONB),
    sa.Column("new", JSONB), sa.Column("note", sa.Text))
_REQUIRED = ("meta", "articles", "incidents", "locations")

_engines: dict[str, sa.Engine] = {}


def engine(url: str) -> sa.Engine:
    """An engine for a store URL (``postgresql://`` is driven by psycopg 3).

    No pool: each operation opens its own connection, so worker processes forked by ``--jobs`` or by the tests
    never share one, and an idle dashboard holds no server connection.
    """
    if url not in _engines:
        parsed = sa.engine.make_url(url)
        _engines[url] = sa.create_engine(parsed.set(drivername="postgresql+psycopg"), poolclass=sa.pool.NullPool,
                                         json_serializer=_dumps)
    return _engines[url]


def _dumps(value: object) -> str:
    return json.dumps(schema.plain(value), ensure_ascii=False, allow_nan=False)


def describe(url: str) -> str:
    """The URL without its password."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _connect(url: str) -> sa.Connection:
    try:
        return engine(url).connect()
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot connect to store {describe(url)}: {_reason(exc)}") from exc


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


# --------------------------------------------------------------------------------------------- checks
def _state(conn: sa.Connection, url: str) -> int | None:
    """The store's schema version, None for an empty database; refuses a foreign or damaged one."""
    tables = set(sa.inspect(conn).get_table_names())
    ours = tables & set(metadata.tables)
    if not ours:
        foreign = sorted(tables - _POSTGIS_TABLES)
        if foreign:
            raise StoreError(f"database {describe(url)} is not an incident store: it holds other tables "
                             f"({', '.join(foreign[:5])}). It was left untouched; give an empty database")
        return None
    missing = [t for t in _REQUIRED if t not in tables]
    if missing:
        raise _damaged(url, "it is not an incident store (no " + ", ".join(missing) + " table)")
    values = dict(conn.execute(sa.select(meta.c.key, meta.c.value)).all())
    if values.get("store") != STAMP:
        raise _damaged(url, "its meta table lacks this program's stamp (a table of another program?)")
    try:
        return int(values.get("schema_version", ""))
    except ValueError:
        raise _damaged(url, "its schema version is not a number") from None


def _damaged(url: str, why: str) -> DamagedStoreError:
    return DamagedStoreError(f"store {describe(url)} is damaged: {why}. It was left untouched. Restore the "
                             "database from your backup (pg_dump), or move it aside and run 'incident-map build "
                             "--store URL' on an empty database, then ingest the articles again")


def _read(url: str, fn: Callable[[sa.Connection, int], object], need_version: bool = True) -> object:
    """Run ``fn(connection, schema version)`` on a checked store in a read-only transaction."""
    with _connect(url) as conn:
        try:
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            version = _state(conn, url)
            if version is None:
                raise StoreError(f"no store at {describe(url)}; run 'incident-map init-db URL' or 'incident-map "
                                 "--store URL build' first")
            if need_version and version != _store().SCHEMA_VERSION:
                raise StoreError(f"{describe(url)} has schema version {version}, expected "
                                 f"{_store().SCHEMA_VERSION}; rebuild it with 'incident-map build'")
            return fn(conn, version)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot read store {describe(url)}: {_reason(exc)}") from exc


def _store():
    from dashboard import store  # the public module imports this one lazily; no cycle at import time

    return store


def check(url: str) -> int:
    """Refuse a missing, foreign or damaged store; its schema version."""
    return _read(url, lambda conn, version: version, need_version=False)


def exists(url: str) -> bool:
    """Whether the database holds a store (or some tables; then :func:`check` says what is wrong)."""
    with _connect(url) as conn:
        return bool(set(sa.inspect(conn).get_table_names()) - _POSTGIS_TABLES)


def schema_version(url: str) -> int | None:
    """The store's schema version; None when there is no usable store (unreachable, empty, foreign)."""
    try:
        return check(url)
    except StoreError:
        return None


def version(url: str, key: str = "version") -> int:
    """The change counter ``key`` of ``meta`` (bumped by each write transaction); 0 when there is none."""
    try:
        with _connect(url) as conn:
            found = conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()
    except (StoreError, sa.exc.SQLAlchemyError):
        return 0
    return int(found or 0)


def _bump(conn: sa.Connection, key: str = "version") -> None:
    stmt = pg_insert(meta).values(key=key, value="1")
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[meta.c.key], set_={"value": sa.cast(sa.cast(meta.c.value, sa.BigInteger) + 1, sa.Text)}))


# --------------------------------------------------------------------------------------------- reading
def load(url: str, within: shapely.Geometry | None = None) -> gpd.GeoDataFrame:
    """All incidents as :func:`dashboard.store.load` gives them; ``within`` is filtered by PostGIS."""
    i, a, loc = incidents, articles, locations
    columns = [_as_text(f, i.c[f.name]) for f in schema.STORED if f.name not in _COORDS]
    query = (sa.select(*columns, sa.func.ST_X(i.c.geom).label("lon"), sa.func.ST_Y(i.c.geom).label("lat"),
                       a.c.title, a.c.published, a.c.published_inferred, a.c.outlet, a.c.url,
                       loc.c.name.label("location_name"))
             .select_from(i.join(a, a.c.name == i.c.article).outerjoin(loc, loc.c.id == i.c.location_id)))
    if within is not None:
        query = query.where(sa.func.ST_Intersects(sa.func.coalesce(loc.c.geom, i.c.geom),
                                                  from_shape(within, srid=4326)))

    def run(conn, _):
        result = conn.execute(query)
        rows = _store().rows_frame(list(result.keys()), result.fetchall())
        # each footprint once, not once per incident (a million incidents share a few thousand places)
        shapes = {r.id: to_shape(r.geom) for r in conn.execute(sa.select(loc.c.id, loc.c.geom))}
        return rows, shapes

    rows, shapes = _read(url, run)
    return _store().frame_from_rows(_rows_frame(rows), footprints=shapes)


def _as_text(f: schema.Field, column: sa.Column) -> sa.ColumnElement:
    """Lists and JSON as JSON text, the SQLite store's form.

    The client then parses each distinct text once, rather than the driver every item (a million incidents).
    """
    if f.is_list:
        return sa.cast(sa.func.array_to_json(column), sa.Text).label(f.name)
    if f.kind == "json":
        return sa.cast(column, sa.Text).label(f.name)
    return column


def _rows_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Database values as the SQLite store gives them: ISO dates, figures as numbers."""
    for f in (*schema.STORED, schema.BY_NAME["published"]):
        if f.kind == "date" and f.name in rows:
            rows[f.name] = [v.isoformat() if isinstance(v, date) else None for v in rows[f.name]]
        elif f.kind == "figure":
            rows[f.name] = [_figure(v) for v in rows[f.name]]
    # the columns in the order of the SQLite store's ``SELECT i.*, ...``
    return rows[[*schema.STORED_NAMES, *(c for c in rows.columns if c not in schema.STORED_NAMES)]]


def _figure(value: object) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, Decimal) and value == value.to_integral_value():
        number = int(value)
        return number if -(2**63) <= number < 2**63 else float(number)
    return float(value)


def _articles(conn: sa.Connection) -> dict[str, Article]:
    out = {}
    for r in conn.execute(sa.select(articles).order_by(articles.c.name)).mappings():
        out[r["key"]] = Article(name=r["name"], title=r["title"], published=r["published"],
                                published_inferred=bool(r["published_inferred"]), published_note=r["published_note"],
                                byline=r["byline"], outlet=r["outlet"], url=r["url"],
                                content_hash=r["content_hash"], text=r["text"], path=r["path"],
                                language=r["language"])
    return out


def stored_articles(url: str) -> dict[str, Article]:
    """The stored articles by key."""
    return _read(url, lambda conn, _: _articles(conn), need_version=False)


def article_text(name: str, url: str) -> dict | None:
    """An article's stored record, or None (as :func:`dashboard.store.article_text`)."""
    def run(conn, _):
        row = conn.execute(sa.select(articles).where(articles.c.name == name)).mappings().first()
        if row is None:
            return None
        rec = dict(row)
        rec["published"] = rec["published"].isoformat() if rec["published"] else None
        rec["published_inferred"] = int(bool(rec["published_inferred"]))
        return rec
    return _read(url, run)


def extraction_state(version_: str, url: str) -> tuple[set[str], set[str]]:
    """Cached digests of ``version_`` and stored content hashes; empty when there is no usable store."""
    def run(conn, _):
        digests = set(conn.execute(sa.select(extractions.c.digest).where(extractions.c.version == version_))
                      .scalars())
        return digests, set(conn.execute(sa.select(articles.c.content_hash)).scalars())
    try:
        return _read(url, run)
    except StoreError:
        return set(), set()


def _incident_rows(conn: sa.Connection, ids: Iterable[str] | None) -> list[dict]:
    wanted = ("id", "type", "article", "date", "location_id", "evidence", "background", "sources", "former_ids")
    query = sa.select(*(incidents.c[n] for n in wanted))
    if ids is not None:
        query = query.where(_among(incidents.c.id, ids))
    rows = []
    for r in conn.execute(query).mappings():
        rec = dict(r)
        rec["date"] = rec["date"].isoformat() if rec["date"] else None
        rec["sources"], rec["former_ids"] = rec["sources"] or [], list(rec["former_ids"] or [])
        rows.append(rec)
    return rows


def _groups_of(conn: sa.Connection) -> str | None:
    return conn.execute(sa.select(meta.c.value).where(meta.c.key == "groups_of")).scalar()


def _groups(conn: sa.Connection, merging: str) -> dict[str, str]:
    if _groups_of(conn) != merging:
        return {}
    found = dict(conn.execute(sa.select(groups.c.id, groups.c.signature)).all())
    ids = set(conn.execute(sa.select(incidents.c.id)).scalars())
    return found if set(found) == ids else {}


def extras(url: str) -> tuple[dict[str, str], str, dict[str, tuple[str, str]], str | None]:
    """What a copy carries besides articles and incidents: signatures, their merging version, the cache."""
    def run(conn, _):
        sigs = dict(conn.execute(sa.select(groups.c.id, groups.c.signature)).all())
        cache: dict[str, dict[str, tuple[str, str]]] = {}
        for d, v, s, blob in conn.execute(sa.select(extractions)).all():
            cache.setdefault(v, {})[d] = (s, blob)
        version_ = max(cache, key=lambda v: len(cache[v])) if cache else None
        return sigs, _groups_of(conn) or "", cache.get(version_, {}), version_
    return _read(url, run)


# --------------------------------------------------------------------------------------------- writing
def update(plan, url: str) -> bool:
    """One write, as :func:`dashboard.store.update`: plan under the advisory lock, then write what changed."""
    st = _store()
    with _connect(url) as conn:
        try:
            with conn.begin():
                # the write lock, taken before reading: a second writer waits here, then reads our result
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(STORE_LOCK)))
                version_ = _state(conn, url)
                if version_ is None:
                    snapshot = st.Snapshot(None)
                else:
                    current = version_ == st.SCHEMA_VERSION
                    snapshot = st.Snapshot(
                        version_, _articles(conn), lambda ids=None: _incident_rows(conn, ids),
                        lambda v: _cache(conn, v) if current else {},
                        lambda v, ds: _cached_incidents(conn, v, ds),
                        lambda m: _groups(conn, m) if current else {},
                        lambda: conn.execute(sa.select(sa.func.count()).select_from(incidents)).scalar())
                content = plan(snapshot)
                if content is None:
                    conn.rollback()
                    return False
                delta = st._delta(content)
                if version_ != st.SCHEMA_VERSION:
                    _create_schema(conn, drop=version_ is not None)
                    _write(conn, {}, delta, new=True)
                else:
                    _write(conn, snapshot.articles, delta, new=False)
                _bump(conn)
            return True
        except (sa.exc.SQLAlchemyError, OSError) as exc:  # OSError: reading what the write streams (staging)
            raise StoreError(f"could not write store {describe(url)}: {_reason(exc)}; the previous store is "
                             "unchanged") from exc


def _create_schema(conn: sa.Connection, drop: bool) -> None:
    """The tables (PostGIS first); an outdated store's tables are dropped in the same transaction."""
    conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    if drop:
        # reviews outlive any schema change; meta keeps its change counter, so no cache key comes back
        kept = [meta, decisions, corrections, manual, audit]
        metadata.drop_all(conn, tables=[t for t in metadata.sorted_tables if t not in kept])
    metadata.create_all(conn)
    _upsert(conn, meta, [{"key": "store", "value": STAMP},
                         {"key": "schema_version", "value": str(_store().SCHEMA_VERSION)}])


def _cache(conn: sa.Connection, version_: str) -> dict[str, str]:
    return dict(conn.execute(sa.select(extractions.c.digest, extractions.c.summary)
                             .where(extractions.c.version == version_)).all())


def _cached_incidents(conn: sa.Connection, version_: str, digests: Iterable[str]) -> dict[str, str]:
    return dict(conn.execute(sa.select(extractions.c.digest, extractions.c.incidents).where(
        extractions.c.version == version_, _among(extractions.c.digest, digests))).all())


def _article_record(key: str, a: Article, text: Callable[[Article], str] | None = None) -> dict:
    return {"key": key, "name": a.name, "title": a.title, "published": a.published,
            "published_inferred": bool(a.published_inferred), "published_note": a.published_note,
            "byline": a.byline, "outlet": a.outlet, "url": a.url, "content_hash": a.content_hash, "path": a.path,
            "text": text(a) if text else a.text, "language": a.language}


def _incident_record(rec: dict) -> dict:
    out = {n: v for n, v in rec.items() if n not in _COORDS}
    for f in schema.STORED:
        if f.kind == "date" and isinstance(out.get(f.name), str):
            out[f.name] = date.fromisoformat(out[f.name])
    lon, lat = rec["lon"], rec["lat"]
    out["geom"] = from_shape(Point(lon, lat), srid=4326) if lon is not None and lat is not None else None
    return out


def _among(column: sa.ColumnElement, values: Iterable[str]) -> sa.ColumnElement[bool]:
    """``column = ANY(array)``: one array parameter.

    ``IN`` would need one parameter per value, and PostgreSQL takes at most 65,535: a write that drops a hundred
    thousand incidents would fail.
    """
    return column == sa.any_(sa.bindparam(None, list(values), type_=ARRAY(sa.Text)))


def _upsert(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    if not rows:
        return
    stmt = pg_insert(table)
    keys = [c.name for c in table.primary_key]
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_={
        c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}), rows)


def _write(conn: sa.Connection, stored: dict[str, Article], delta, new: bool) -> None:
    """Make the store hold ``delta``'s content, writing only the rows that changed."""
    st = _store()
    _upsert(conn, meta, [{"key": "built_at", "value": datetime.now(UTC).isoformat()}])
    content = delta.articles
    gone = [key for key in stored if key not in content]
    if gone:  # before the upserts: a name may pass to a new key
        conn.execute(sa.delete(articles).where(_among(articles.c.key, gone)))
    changed = [key for key, a in content.items()
               if key not in stored or (stored[key] is not a and st._article_row(key, stored[key])
                                        != st._article_row(key, a))]
    # a batch at a time: with staged texts (Delta.text), only a batch of texts is in memory
    for batch in _batches(changed):
        _upsert(conn, articles, [_article_record(key, content[key], delta.text) for key in batch])
    shapes: dict[str, tuple] = {}
    rows = [_incident_record(rec) for rec in st.frame_records(delta.frame, shapes)]
    written = {r["id"] for r in rows}
    held = set(conn.execute(sa.select(incidents.c.id)).scalars())
    dropped = [i for i in held if i not in delta.keep and i not in written]
    if dropped:
        conn.execute(sa.delete(incidents).where(_among(incidents.c.id, dropped)))
    _upsert(conn, incidents, rows)
    _upsert(conn, locations, [{"id": loc, "name": name, "geo_precision": precision,
                               "geom": from_shape(geom, srid=4326)}
                              for loc, (name, precision, geom) in shapes.items()])
    conn.execute(sa.delete(locations).where(~locations.c.id.in_(
        sa.select(incidents.c.location_id).where(incidents.c.location_id.is_not(None)))))
    gone_ids = [i for i in dropped if i not in delta.signatures]
    if new or _groups_of(conn) is None:
        conn.execute(sa.delete(groups))  # stored signatures cannot be trusted: the next write recomputes them
    elif gone_ids:
        conn.execute(sa.delete(groups).where(_among(groups.c.id, gone_ids)))
    _upsert(conn, groups, [{"id": i, "signature": s} for i, s in delta.signatures.items()])
    _upsert(conn, meta, [{"key": "groups_of", "value": delta.merging}])
    cache = delta.cache
    if cache is None:
        return
    conn.execute(sa.delete(extractions).where(extractions.c.version != cache.version))
    held_cache = set(conn.execute(sa.select(extractions.c.digest)).scalars())
    stale = [d for d in held_cache if d not in cache.entries]
    if stale:
        conn.execute(sa.delete(extractions).where(_among(extractions.c.digest, stale)))
    for fresh in _batches(st.new_extractions(cache, held_cache)):
        conn.execute(pg_insert(extractions).on_conflict_do_nothing(),
                     [{"digest": d, "version": v, "summary": summary, "incidents": blob}
                      for d, v, summary, blob in fresh])


#: Rows per statement when a write streams many (article texts, cached incidents).
BATCH = 1000


def _batches(items: Iterable, size: int = BATCH) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


# --------------------------------------------------------------------------------------------- reviews
class Reviews:
    """The review tables of a PostGIS store (see :class:`dashboard.review.ReviewStore`, which hands work here)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def write(self, fn: Callable[[sa.Connection, str], None]) -> None:
        """Run ``fn(connection, now)`` in one transaction, after any other analyst's review (advisory lock)."""
        with _connect(self.url) as conn:
            try:
                with conn.begin():
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(REVIEW_LOCK)))
                    if _state(conn, self.url) is None:
                        raise StoreError(f"no store at {describe(self.url)}; build it before reviewing")
                    fn(conn, datetime.now(UTC).isoformat(timespec="seconds"))
                    _bump(conn, "reviews_version")
            except sa.exc.SQLAlchemyError as exc:
                raise StoreError(f"could not save the review in {describe(self.url)}: {_reason(exc)}") from exc

    def set_status(self, incident_id: str, status: str, note: str | None) -> None:
        """Record a decision and its audit row."""
        def run(conn, now):
            old = conn.execute(sa.select(decisions.c.status).where(decisions.c.incident_id == incident_id)
                               .with_for_update()).scalar()
            stmt = pg_insert(decisions).values(incident_id=incident_id, status=status, updated_at=now)
            conn.execute(stmt.on_conflict_do_update(index_elements=[decisions.c.incident_id], set_={
                "status": stmt.excluded.status, "updated_at": stmt.excluded.updated_at}))
            self._audit(conn, now, incident_id, status, "status", old or "needs review", status, note)
        self.write(run)

    def correct(self, incident_id: str, changes: dict, original: dict, note: str | None) -> None:
        """Record corrections, one audit row per field."""
        def run(conn, now):
            for name, value in changes.items():
                prev = conn.execute(sa.select(corrections.c.value).where(
                    corrections.c.incident_id == incident_id, corrections.c.field == name).with_for_update()).first()
                old = prev[0] if prev else original.get(name)
                stmt = pg_insert(corrections).values(incident_id=incident_id, field=name, value=value,
                                                     updated_at=now)
                conn.execute(stmt.on_conflict_do_update(index_elements=[corrections.c.incident_id,
                                                                        corrections.c.field], set_={
                    "value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at}))
                self._audit(conn, now, incident_id, "corrected", name, old, value, note)
        self.write(run)

    def add(self, new_id: str, record: dict, note: str | None) -> None:
        """Record an added incident."""
        def run(conn, now):
            stmt = pg_insert(manual).values(id=new_id, record=record, created_at=now)
            conn.execute(stmt.on_conflict_do_update(index_elements=[manual.c.id],
                                                    set_={"record": stmt.excluded.record}))
            self._audit(conn, now, new_id, "added", None, None, record, note)
        self.write(run)

    @staticmethod
    def _audit(conn, now, incident_id, action, field, old, new, note) -> None:
        # JSON null and SQL NULL both read back as None, as in the SQLite review file
        conn.execute(sa.insert(audit).values(at=now, incident_id=incident_id, action=action, field=field,
                                             old=old, new=new,
                                             note=note))

    def rows(self) -> tuple[list[tuple], list[tuple], dict[str, dict]]:
        """Decisions and corrections oldest first, and the added incidents (as the SQLite review file)."""
        def run(conn, _):
            if "review_decisions" not in sa.inspect(conn).get_table_names():
                return [], [], {}
            ds = [tuple(r) for r in conn.execute(sa.select(decisions.c.incident_id, decisions.c.status,
                                                           decisions.c.updated_at)
                                                 .order_by(decisions.c.updated_at, decisions.c.seq))]
            cs = [tuple(r) for r in conn.execute(sa.select(corrections.c.incident_id, corrections.c.field,
                                                           corrections.c.value, corrections.c.updated_at)
                                                 .order_by(corrections.c.updated_at, corrections.c.seq))]
            ms = dict(conn.execute(sa.select(manual.c.id, manual.c.record)).all())
            return ds, cs, ms
        return self._read(run, ([], [], {}))

    def history(self, incident_id: str | None) -> list[tuple]:
        """Audit rows ``(at, incident_id, action, field, old, new, note)``, oldest first."""
        query = sa.select(audit.c.at, audit.c.incident_id, audit.c.action, audit.c.field, audit.c.old,
                          audit.c.new, audit.c.note).order_by(audit.c.seq)
        if incident_id:
            query = query.where(audit.c.incident_id == incident_id)

        def run(conn, _):
            if "review_audit" not in sa.inspect(conn).get_table_names():
                return []
            return [tuple(r) for r in conn.execute(query)]
        return self._read(run, [])

    def _read(self, fn, empty):
        try:
            return _read(self.url, fn, need_version=False)
        except StoreError as exc:
            if str(exc).startswith("no store at"):
                return empty  # no store yet, so no reviews
            raise

    def dump(self) -> dict[str, list[dict]]:
        """Every review row, for ``incident-map copy``."""
        def run(conn, _):
            order = {decisions: decisions.c.seq, corrections: corrections.c.seq, manual: manual.c.id,
                     audit: audit.c.seq}  # oldest first, so a restore keeps the order of equal timestamps
            return {t.name: [{k: v for k, v in r.items() if k != "seq"}
                             for r in conn.execute(sa.select(t).order_by(order[t])).mappings()]
                    for t in order}
        return _read(self.url, run, need_version=False)

    def restore(self, dump: dict[str, list[dict]]) -> None:
        """Replace every review row with ``dump``'s (one transaction)."""
        def run(conn, _now):
            for t in (decisions, corrections, manual, audit):
                conn.execute(sa.delete(t))
                rows = list(dump.get(t.name, []))
                if rows:
                    conn.execute(sa.insert(t), rows)
        self.write(run)
