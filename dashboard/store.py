"""The embedded store: one SQLite file holding articles, incidents, their locations and provenance.

No server to start. Every write is one SQLite transaction on the store file (``BEGIN IMMEDIATE``): a second
writer waits for the first and then works on top of its result, so concurrent builds, ingests and uploads never
lose each other's articles, and a failed or killed write is rolled back by SQLite. A new store is written to a
temporary file and linked into place, so no half-built store is ever seen. Before each write the last good
store is copied to ``NAME.bak`` (a file copy under the write lock). A damaged file (not SQLite, failing ``PRAGMA
quick_check``, missing its tables) is refused with :class:`DamagedStoreError` and never overwritten; a zero-byte
file counts as damaged too, because this module never leaves one behind (a new store appears complete or not at
all), so an empty file means something else truncated the store. Readers open the file read-only (``mode=ro``),
so a store in a read-only folder can still be viewed and exported.

Incident ids derive from the article's content, so rebuilding gives the same ids. The ``incidents`` table is
derived from :mod:`dashboard.schema`, with GeoJSON text for footprints. A store named by a PostgreSQL URL
(``postgresql://user@host/db``) is handed to :mod:`dashboard.store_pg` by each public function here, so callers
use one interface for both.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import numpy as np  # shapely imports it anyway
import platformdirs
import shapely
import shapely.errors

from dashboard import schema
from dashboard.corpus import Article
from dashboard.errors import DamagedStoreError, StoreError
from dashboard.lazymod import lazy
from dashboard.schema import EXTRA_PROPERTIES, LIST_COLUMNS, PROPERTIES  # noqa: F401  (re-exported)

# imported when first used: a write of a few incidents (Delta.frame as records) needs neither
gpd = lazy("geopandas")
pd = lazy("pandas")

SCHEMA_VERSION = 4
ROOT = Path(__file__).resolve().parent.parent
#: The default store: in the user's data folder, never inside the installed package or the source tree.
DEFAULT_STORE = platformdirs.user_data_path("incident-map") / "incidents.sqlite"
SEEDS = ROOT / "seeds"
#: Where versions before 0.2 kept the default store (inside the source tree); adopted once by the new default.
LEGACY_STORE = ROOT / "data" / "store" / "incidents.sqlite"
#: Seconds a writer waits for another writer (a build of a large corpus holds the store for minutes).
WRITE_WAIT = 600.0
#: Seconds a reader waits while a writer commits.
READ_WAIT = 60.0
#: Temporary files of ours older than this (seconds) belong to a killed write and are removed.
STALE_TEMP_SECONDS = 3600

#: Stores addressed by URL rather than by file: PostgreSQL + PostGIS (:mod:`dashboard.store_pg`).
URL_SCHEMES = ("postgresql", "postgres")
#: A store: a SQLite file, or the URL of a PostgreSQL database.
Target = Path | str

_MAGIC = b"SQLite format 3\x00"
_TABLES = ("articles", "incidents", "locations")
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE articles (
    key TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, title TEXT, published TEXT, published_inferred INTEGER,
    published_note TEXT, byline TEXT, outlet TEXT, url TEXT, content_hash TEXT NOT NULL, path TEXT,
    text TEXT NOT NULL, language TEXT);
CREATE TABLE locations (id TEXT PRIMARY KEY, name TEXT, geo_precision TEXT, geojson TEXT NOT NULL);
""" + schema.sqlite_incidents_ddl() + """;
CREATE INDEX incidents_type ON incidents(type);
CREATE INDEX incidents_date ON incidents(date);
CREATE TABLE IF NOT EXISTS extractions (
    digest TEXT NOT NULL, version TEXT NOT NULL, summary TEXT NOT NULL, incidents TEXT NOT NULL,
    PRIMARY KEY (digest, version));
CREATE TABLE IF NOT EXISTS groups (id TEXT PRIMARY KEY, signature TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS incidents_location ON incidents(location_id);
"""
#: The extraction cache and the signature of each stored incident's sources (added to schema 4 without a new
#: version: a store without them gets them on its next write, and a store whose incidents another version of this
#: program rewrote is recognised by the ``groups_of`` stamp in ``meta``, which that version drops).
_CACHE_SCHEMA = _SCHEMA[_SCHEMA.index("CREATE TABLE IF NOT EXISTS extractions"):]
_ARTICLE_COLUMNS = ("key", "name", "title", "published", "published_inferred", "published_note", "byline",
                    "outlet", "url", "content_hash", "path", "text", "language")


def is_url(target: object) -> bool:
    """Whether ``target`` names a database server's store (``postgresql://user@host/db``) rather than a file."""
    if not isinstance(target, str) or isinstance(target, Path) or "://" not in target:
        return False
    return target.split("://", 1)[0].split("+", 1)[0].lower() in URL_SCHEMES


def store_path(path: str | Path | None = None) -> Target:
    """The store: ``path``, else ``$INCIDENT_MAP_STORE``, else ``incidents.sqlite`` in the user data folder.

    A file is returned as a :class:`~pathlib.Path`; a PostgreSQL URL (``postgresql://user@host/db``) as text.
    """
    value = path or os.environ.get("INCIDENT_MAP_STORE") or DEFAULT_STORE
    return value if is_url(value) else Path(value)


def _pg():
    """The PostGIS backend, imported only when a store URL asks for it (SQLAlchemy is slow to import)."""
    from dashboard import store_pg

    return store_pg


def describe(path: str | Path | None = None) -> str:
    """The store as shown to people: its file, or its URL without the password."""
    target = store_path(path)
    return _pg().describe(target) if is_url(target) else str(target)


def label(path: str | Path | None = None) -> str:
    """A short name for the store: its file name, or its URL without the password."""
    target = store_path(path)
    return describe(target) if is_url(target) else target.name


def version(path: str | Path | None = None) -> int:
    """A number that changes with every write to the store (0: no store), for caches keyed on its content.

    A file's modification time and size; the PostGIS store's change counter, bumped in each write transaction.
    """
    target = store_path(path)
    if is_url(target):
        return _pg().version(target)
    try:
        stat = target.stat()
    except OSError:
        return 0
    return stat.st_mtime_ns + stat.st_size


def exists(path: str | Path | None = None) -> bool:
    """Whether there is a store (of any schema version, possibly damaged) at ``path``."""
    target = store_path(path)
    return _pg().exists(target) if is_url(target) else target.exists()


def init(path: str | Path | None = None) -> bool:
    """Create an empty store with the current schema (``incident-map init-db``); False when one is there already.

    An existing store is left as it is (a damaged or foreign one is refused by the damage checks).
    """
    target = store_path(path)
    if exists(target):
        check(target)
        return False
    # an empty store only where there is none: a store another writer creates meanwhile is left alone
    return update(lambda snapshot: None if snapshot.version is not None else Delta({}, _empty_frame()), target)


def _empty_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in schema.FRAME_COLUMNS}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)


def backup_path(path: str | Path) -> Path:
    """Where the last good copy of a store is kept (``incidents.sqlite.bak``)."""
    p = Path(path)
    return p.with_name(p.name + ".bak")


def article_key(article: Article) -> str:
    """The identity of an article in the store.

    A file is known by its resolved path, so ingesting the same path again with changed content is an update,
    while ``x/report.txt`` and ``y/report.txt`` are two articles. An upload has no path: it is known by its
    name and content, so an upload never replaces a different article that has the same name; it is stored
    beside it under a distinct name (see :class:`~dashboard.pipeline.BuildReport` ``renamed``).
    """
    if article.path:
        return "path:" + str(Path(article.path).resolve())
    return f"upload:{article.name}:{article.content_hash[:16]}"


# ---------------------------------------------------------------------------------------------------- reading
def _uri(target: Path, **params: str) -> str:
    # Path.as_uri percent-encodes '?', '#' and '%', which SQLite would otherwise read as URI syntax.
    return Path(os.path.abspath(target)).as_uri() + ("?" + urlencode(params) if params else "")


def _damaged(target: Path, why: str) -> DamagedStoreError:
    bak = backup_path(target)
    if bak.is_file() and bak.stat().st_size > 0:
        saved = datetime.fromtimestamp(bak.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
        how = (f"The last good copy is {bak} (saved {saved}): move the damaged file aside and copy the backup "
               f"in its place, e.g. mv '{target}' '{target}.damaged' && cp '{bak}' '{target}'.")
    else:
        how = (f"No backup ({bak.name}) exists: move the damaged file aside and run 'incident-map build' to start "
               "a new store, then ingest the articles again.")
    return DamagedStoreError(f"store {target} is damaged: {why}. It was left untouched. {how}")


def _error(target: Path, exc: Exception, doing: str = "read") -> StoreError:
    name = getattr(exc, "sqlite_errorname", "")
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "decode" in str(exc) or (
            isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)):
        return _damaged(target, str(exc))
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")) or isinstance(exc, PermissionError):
        return StoreError(f"cannot {doing} store {target}: the file or its folder is read-only ({exc}). A read-only "
                          "store can be viewed and exported; to change it, copy it to a writable folder and "
                          "point --store or $INCIDENT_MAP_STORE there")
    if name == "SQLITE_BUSY":
        return StoreError(f"store {target} is busy: another build or ingest held it for too long; try again")
    return StoreError(f"cannot {doing} store {target}: {exc}")


def _open_ro(target: Path) -> sqlite3.Connection:
    for attempt in range(2):
        con = sqlite3.connect(_uri(target, mode="ro"), uri=True, timeout=READ_WAIT)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return con
        except sqlite3.OperationalError as exc:
            con.close()
            # A killed write leaves a "hot" journal that only a writable connection may roll back; SQLite does
            # that on open, so open once read-write when we may, then read again.
            if (attempt == 0 and getattr(exc, "sqlite_errorname", "") == "SQLITE_READONLY_ROLLBACK"
                    and os.access(target, os.W_OK) and os.access(target.parent, os.W_OK)):
                rw = sqlite3.connect(_uri(target, mode="rw"), uri=True, timeout=READ_WAIT)
                try:
                    rw.execute("SELECT count(*) FROM sqlite_master").fetchone()
                finally:
                    rw.close()
                continue
            raise
        except BaseException:
            con.close()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _adopt_legacy(target: Path) -> None:
    """Copy the store an older version kept in the source tree to the new default location, once.

    Only for the default store, only when it does not exist yet, and only from a legacy store that passes the
    damage checks; the legacy file itself is left in place.
    """
    if target != DEFAULT_STORE or target.exists() or not LEGACY_STORE.is_file():
        return
    try:
        check(LEGACY_STORE)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_file(target)
    except (StoreError, OSError):
        return  # nothing to adopt: the default store is created as new
    try:
        _copy_database(LEGACY_STORE, tmp)
        os.link(tmp, target)  # never over a store created meanwhile
    except (sqlite3.Error, OSError):
        pass
    finally:
        tmp.unlink(missing_ok=True)


#: Files that passed ``PRAGMA quick_check`` in this process, with their :func:`_file_stamp` then. The check reads
#: every page (8 s for a million incidents); a file whose stamp is unchanged has not been written since.
_CHECKED: dict[Path, tuple] = {}


def _file_stamp(target: Path) -> tuple:
    # the change time too: a write that restored the modification time (os.utime) still changes it
    st = target.stat()
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _checked(target: Path) -> tuple[sqlite3.Connection, int]:
    """A read-only connection to a store that passed the damage checks, and its schema version."""
    _adopt_legacy(target)
    try:
        size = target.stat().st_size
    except FileNotFoundError:
        raise StoreError(f"no store at {target}; run 'incident-map build' first") from None
    except OSError as exc:
        raise _error(target, exc) from exc
    if size == 0:
        raise _damaged(target, "the file is empty (0 bytes)")
    try:
        with target.open("rb") as fh:
            head = fh.read(100)
    except OSError as exc:
        raise _error(target, exc) from exc
    if len(head) < 100 or not head.startswith(_MAGIC):
        raise _damaged(target, "its header is not an SQLite database header")
    try:
        con = _open_ro(target)
    except sqlite3.Error as exc:
        raise _error(target, exc) from exc
    try:
        stamp = _file_stamp(target)
        if _CHECKED.get(target) != stamp:
            result = con.execute("PRAGMA quick_check").fetchall()
            if result != [("ok",)]:
                raise _damaged(target, f"SQLite's integrity check fails ({result[0][0]})")
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in _TABLES if t not in tables]
        if missing:
            raise _damaged(target, "it is not an incident store (no " + ", ".join(missing) + " table)")
        version_ = int(con.execute("PRAGMA user_version").fetchone()[0])
        _CHECKED[target] = stamp
        return con, version_
    except sqlite3.Error as exc:
        con.close()
        raise _error(target, exc) from exc
    except BaseException:
        con.close()
        raise


def check(path: str | Path | None = None) -> int:
    """Refuse a missing or damaged store (:class:`StoreError`, :class:`DamagedStoreError`); its schema version."""
    target = store_path(path)
    if is_url(target):
        return _pg().check(target)
    con, version = _checked(target)
    con.close()
    return version


def connect(path: str | Path | None = None) -> sqlite3.Connection:
    """Open an existing SQLite store read-only; :class:`StoreError` names it if it is missing, damaged or old."""
    target = store_path(path)
    if is_url(target):
        raise StoreError(f"{describe(target)} is a PostgreSQL store: connect() opens SQLite files only")
    con, version = _checked(target)
    if version != SCHEMA_VERSION:
        con.close()
        raise StoreError(f"{target} has schema version {version}, expected {SCHEMA_VERSION}; rebuild it "
                         "with 'incident-map build'")
    return con


def load(path: str | Path | None = None, within: shapely.Geometry | None = None) -> gpd.GeoDataFrame:
    """All incidents, with article metadata, as a GeoDataFrame in EPSG:4326 (lists as Python lists).

    ``within``: only the incidents whose geometry (point or footprint) intersects this WGS84 shape. The PostGIS
    store lets the database do it (``ST_Intersects`` on its spatial indexes); a SQLite store filters here.
    """
    target = store_path(path)
    if is_url(target):
        return _pg().load(target, within)
    con = connect(target)
    try:
        cur = con.execute(
            "SELECT i.*, a.title, a.published, a.published_inferred, a.outlet, a.url, l.name AS location_name "
            "FROM incidents i JOIN articles a ON a.name = i.article LEFT JOIN locations l ON l.id = i.location_id")
        inc = rows_frame([d[0] for d in cur.description], cur.fetchall())
        frame = frame_from_rows(inc, dict(con.execute("SELECT id, geojson FROM locations")))
        if within is not None:
            frame = frame[frame.geometry.intersects(within)].reset_index(drop=True)
        return frame
    except sqlite3.Error as exc:
        raise _error(target, exc) from exc
    except (ValueError, TypeError, shapely.errors.ShapelyError) as exc:
        # damage inside a row that SQLite's page checks cannot see (a list column that is no longer JSON, ...)
        raise _damaged(target, f"a stored incident cannot be read ({exc})") from exc
    finally:
        con.close()


#: Columns that :func:`frame_from_rows` turns into Python objects (lists, or text with None): built as objects
#: straight away rather than as Arrow text first (a million rows).
_OBJECT_COLUMNS = frozenset((*LIST_COLUMNS, "sources", "former_ids", "date", "date_end", "date_precision", "place",
                             "province", "district", "substance", "reported_by", "location_id", "geo_precision",
                             "unlocated_reason", "language"))


def rows_frame(names: list[str], rows: list[tuple]) -> pd.DataFrame:
    """Database rows as a frame, column by column.

    The columns :func:`frame_from_rows` wants as Python objects are built as such, the others typed by pandas.
    """
    data = list(zip(*rows, strict=True)) or [()] * len(names)
    return pd.DataFrame({name: pd.Series(list(values), dtype=object if name in _OBJECT_COLUMNS else None)
                         for name, values in zip(names, data, strict=True)})


def frame_from_rows(inc: pd.DataFrame, footprints: Mapping[str, object]) -> gpd.GeoDataFrame:
    """Turn store rows into a GeoDataFrame: parse lists, share each footprint geometry among its incidents.

    ``footprints``: each location's footprint by id (GeoJSON text or a shapely geometry), read once per location
    rather than once per incident. Rows come out sorted by date, then id. Written for a million rows: every step works
    on arrays or on distinct values, and cells with equal lists share one list object, which callers replace
    rather than change in place.
    """
    for col in ("former_ids", "flags", "language", "confidence"):
        if col not in inc.columns:
            inc[col] = None
    # the store's order; sorted here rather than in SQL, where a million-row sort costs seconds
    order = np.lexsort((inc["id"].to_numpy(dtype=object), inc["date"].fillna("").to_numpy(dtype=object)))
    inc = inc.iloc[order].reset_index(drop=True)
    for col in (*LIST_COLUMNS, "sources", "former_ids"):
        inc[col] = _lists(inc[col])
    inc["source_count"] = np.maximum(1, np.fromiter(map(len, inc["sources"]), dtype=np.int64, count=len(inc)))
    inc["place_ids"] = _per_distinct(inc["location_id"], lambda loc: loc.split("+"), [])
    inc["background"] = inc["background"].astype(bool)
    for col in ("killed", "wounded", "count"):
        values = pd.to_numeric(inc[col])
        known = values.dropna()
        # figures beyond SQLite's 64-bit INTEGER are stored as REAL; they stay floats rather than overflow
        fits = bool(((known.abs() < 2**63) & (known == known.round())).all())
        inc[col] = values.astype("Int64") if fits else values.astype("float64")
    inc["published_inferred"] = inc["published_inferred"].fillna(0).astype(bool)
    shapes = {k: shapely.from_geojson(v) if isinstance(v, str) else v for k, v in footprints.items()
              if v is not None}
    areas = _per_distinct(inc["location_id"], shapes.get, None)
    lon, lat = (pd.to_numeric(inc[c]).to_numpy(dtype=float, na_value=np.nan) for c in ("lon", "lat"))
    points = np.where(np.isnan(lon) | np.isnan(lat), None, shapely.points(lon, lat))
    geoms = np.where(pd.isna(areas), points, areas)
    for col in ("date", "date_end", "date_precision", "place", "province", "district", "substance",
                "reported_by", "location_id", "geo_precision", "unlocated_reason", "language"):
        inc[col] = inc[col].astype(object).where(inc[col].notna(), None)
    return gpd.GeoDataFrame(inc, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)


def _lists(column: pd.Series) -> np.ndarray:
    """Each cell's JSON list text as a list, parsed once per distinct text (both backends give JSON text)."""
    return _per_distinct(column.to_numpy(dtype=object, na_value=None), _json_list, [])


def _json_list(text) -> list:
    if not isinstance(text, str):
        raise TypeError(f"not JSON text: {text!r}")
    return json.loads(text)


def _per_distinct(values, make: Callable, missing) -> np.ndarray:
    """``make(v)`` for each cell, computed once per distinct value; ``missing`` for empty cells."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    made = np.empty(len(uniques) + 1, dtype=object)
    for j, v in enumerate(uniques):
        made[j] = make(v)
    made[-1] = missing  # code -1 (an empty cell) picks the last
    return made[codes]


def schema_version(path: str | Path | None = None) -> int | None:
    """The schema version of a store file, or None when there is no readable store there."""
    target = store_path(path)
    if is_url(target):
        return _pg().schema_version(target)
    _adopt_legacy(target)
    if not target.exists():
        return None
    try:
        con = _open_ro(target)
        try:
            return int(con.execute("PRAGMA user_version").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return None


def _read_articles(con: sqlite3.Connection, text: bool = True) -> dict[str, Article]:
    # Articles read the same in every schema version so far (version 2 had no key: its name stands in), so an
    # outdated store still gives its articles to the rebuild that replaces it. ``text=False`` leaves the texts
    # out (empty): most of the file, which a write reads only for the articles it extracts again.
    columns = {r[1] for r in con.execute("PRAGMA table_info(articles)")}
    select = ", ".join(c if c in columns and (text or c != "text") else "NULL" for c in _ARTICLE_COLUMNS)
    out = {}
    for r in con.execute(f"SELECT {select} FROM articles ORDER BY name"):
        rec = dict(zip(_ARTICLE_COLUMNS, r, strict=True))
        art = Article(name=rec["name"], title=rec["title"],
                      published=date.fromisoformat(rec["published"]) if rec["published"] else None,
                      published_inferred=bool(rec["published_inferred"]), published_note=rec["published_note"],
                      byline=rec["byline"], outlet=rec["outlet"], url=rec["url"], content_hash=rec["content_hash"],
                      text=rec["text"] or "", path=rec["path"], language=rec["language"])
        out[rec["key"] or "name:" + rec["name"]] = art
    return out


def _read_texts(con: sqlite3.Connection, keys: Iterable[str]) -> dict[str, str]:
    return dict(con.execute("SELECT key, text FROM articles WHERE key IN (SELECT value FROM json_each(?))",
                            (json.dumps(list(keys)),)))


def stored_articles(path: str | Path | None = None) -> dict[str, Article]:
    """The stored articles by key (see :func:`article_key`), in any schema version."""
    target = store_path(path)
    if is_url(target):
        return _pg().stored_articles(target)
    con, _ = _checked(target)
    try:
        return _read_articles(con)
    except sqlite3.Error as exc:
        raise _error(target, exc) from exc
    finally:
        con.close()


def load_articles(path: str | Path | None = None) -> list[Article]:
    """The stored articles, as :class:`Article` objects (their cleaned text, metadata and content hash)."""
    return list(stored_articles(path).values())


def article_records(path: str | Path | None = None) -> dict[str, dict]:
    """Stored articles by name, as plain records (name, text, title, outlet, url, byline, published)."""
    return {a.name: {"name": a.name, "text": a.text, "title": a.title, "outlet": a.outlet, "url": a.url,
                     "byline": a.byline, "published": a.published.isoformat() if a.published else None,
                     "language": a.language}
            for a in load_articles(path)}


def article_text(name: str, path: str | Path | None = None) -> dict | None:
    """An article's stored record (title, published, outlet, url, text), or None."""
    target = store_path(path)
    if is_url(target):
        return _pg().article_text(name, target)
    con = connect(target)
    try:
        con.row_factory = sqlite3.Row
        row = con.execute("SELECT * FROM articles WHERE name = ?", (name,)).fetchone()
    except sqlite3.Error as exc:
        raise _error(target, exc) from exc
    finally:
        con.close()
    return dict(row) if row else None


def extras(path: str | Path | None = None) -> tuple[dict[str, str], str, dict[str, tuple[str, str]], str | None]:
    """What a copy of the store carries besides articles and incidents.

    The incidents' signatures by id and the merging version that gave them (see :attr:`Snapshot.groups`), and the
    extraction cache: ``{digest: (summary, incidents)}`` of its extractor version (None when nothing is cached).
    """
    target = store_path(path)
    if is_url(target):
        return _pg().extras(target)
    con = connect(target)
    try:
        try:
            sigs = dict(con.execute("SELECT id, signature FROM groups"))
            stamp = con.execute("SELECT value FROM meta WHERE key = 'groups_of'").fetchone()
            cache: dict[str, dict[str, tuple[str, str]]] = {}
            for d, v, summary, blob in con.execute("SELECT digest, version, summary, incidents FROM extractions"):
                cache.setdefault(v, {})[d] = (summary, blob)
        except sqlite3.OperationalError:
            return {}, "", {}, None  # a store written before the cache existed
    except sqlite3.Error as exc:
        raise _error(target, exc) from exc
    finally:
        con.close()
    # a write keeps one extractor version; should several be there, the largest is the one worth copying
    version_ = max(cache, key=lambda v: len(cache[v])) if cache else None
    return sigs, stamp[0] if stamp else "", cache.get(version_, {}), version_


# ---------------------------------------------------------------------------------------------------- writing
@dataclass(frozen=True)
class Snapshot:
    """What the store held when a write began (under the write lock).

    ``version`` is None for a store that does not exist yet. The other parts are read on demand, while the plan
    runs: ``incident_rows(ids)`` gives stored incident rows (id, type, article, date, location_id, evidence,
    background, sources, former_ids; all of them when ``ids`` is None) for carrying reviews over;
    ``cached(version)`` the extraction cache of that extractor version, ``{digest: summary JSON}``, and
    ``cached_incidents(version, digests)`` the incidents JSON of some of its entries; ``groups(merging)`` each
    stored incident's signature by id (empty when unknown or given by another merging version). When ``texts``
    is given, ``articles`` carry an empty text and ``texts(keys)`` reads the texts of some of them by key.
    """

    version: int | None
    articles: dict[str, Article] = field(default_factory=dict)
    incident_rows: Callable[[Iterable[str] | None], list[dict]] = field(default=lambda ids=None: [], repr=False)
    cached: Callable[[str], dict[str, str]] = field(default=lambda version: {}, repr=False)
    cached_incidents: Callable[[str, Iterable[str]], dict[str, str]] = field(
        default=lambda version, digests: {}, repr=False)
    groups: Callable[[str], dict[str, str]] = field(default=lambda merging: {}, repr=False)
    incident_count: Callable[[], int] = field(default=lambda: 0, repr=False)
    texts: Callable[[Iterable[str]], dict[str, str]] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Extractions:
    """The extraction cache to keep after a write: by article digest, the summary and the incidents (JSON).

    Entries of other extractor versions, and digests not listed, are removed; listed ones already stored are not
    rewritten (and may give None for the incidents, which the plan need not have read). ``staged(digests)``, if
    given, yields ``(digest, incidents)`` for listed entries given with None that the store lacks: a large run
    keeps them on disk (:mod:`dashboard.staging`) and they are written a chunk at a time.
    """

    version: str
    entries: Mapping[str, tuple[str, str | None]]
    staged: Callable[[list[str]], Iterable[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class Delta:
    """A write: the complete set of articles, the stored incidents kept, and the incidents written anew.

    Every stored incident whose id is not in ``keep`` is deleted; ``frame`` rows are then written, with their
    ``signatures`` (by id; see :attr:`Snapshot.groups`). Articles are written only where they differ from the
    stored ones.
    """

    articles: Mapping[str, Article]
    frame: gpd.GeoDataFrame
    keep: frozenset[str] = frozenset()
    signatures: Mapping[str, str] = field(default_factory=dict)
    cache: Extractions | None = None
    #: The version of the merging that gave the signatures (:attr:`Snapshot.groups` reads them only for it).
    merging: str = ""
    #: The text to store for an article written now, when the writer keeps texts outside the :class:`Article`
    #: objects (a large run stages them on disk); None: each article's own ``text``.
    text: Callable[[Article], str] | None = None


#: A write plan: given the snapshot, the new content (a :class:`Delta`, or ``(articles by key, incident frame)``
#: for "exactly this"), or None for "nothing to change".
Plan = Callable[[Snapshot], "Delta | tuple[Mapping[str, Article], gpd.GeoDataFrame] | None"]


def extraction_state(version: str, path: str | Path | None = None) -> tuple[set[str], set[str]]:
    """The article digests whose extraction by ``version`` the store caches, and the stored content hashes.

    Read without the write lock (empty when there is no usable store), so that a writer can extract what is
    missing before taking the lock; the write checks again under it.
    """
    target = store_path(path)
    if is_url(target):
        return _pg().extraction_state(version, target)
    if not target.is_file():
        return set(), set()
    try:
        # no damage checks here (they read the whole file): the write runs them, and refuses a damaged store
        con = _open_ro(target)
    except sqlite3.Error:
        return set(), set()
    try:
        hashes = {r[0] for r in con.execute("SELECT content_hash FROM articles")}
        try:
            digests = {r[0] for r in con.execute("SELECT digest FROM extractions WHERE version = ?", (version,))}
        except sqlite3.OperationalError:
            digests = set()  # a store written before the cache existed
        return digests, hashes
    except sqlite3.Error:
        return set(), set()
    finally:
        con.close()


class _CreatedMeanwhile(Exception):
    """Another writer created the store while this one was building a new one; plan again on top of it."""


def update(plan: Plan, path: str | Path | None = None) -> bool:
    """Run one write: ``plan`` sees the store's content under the write lock and returns its new content.

    A second writer waits (up to :data:`WRITE_WAIT` seconds) and then plans on top of the first one's result, so
    no writer loses another's work. Returns whether anything was written.
    """
    target = store_path(path)
    if is_url(target):
        return _pg().update(plan, target)
    _adopt_legacy(target)
    for _ in range(5):
        try:
            if target.exists():
                return _update_existing(target, plan)
            return _create(target, plan)
        except _CreatedMeanwhile:
            continue
    raise StoreError(f"could not write store {target}: it kept being replaced by another program")


def write(target: str | Path, articles: Iterable[Article], frame: gpd.GeoDataFrame) -> None:
    """Replace the whole content of the store at ``target`` with ``articles`` and their incidents ``frame``."""
    content = {article_key(a): a for a in articles}
    update(lambda snapshot: (content, frame), target)


def _update_existing(target: Path, plan: Plan) -> bool:
    version = check(target)  # a damaged file is refused here and never touched
    _writable(target)
    _clean_stale_temps(target)
    try:
        con = sqlite3.connect(_uri(target, mode="rw"), uri=True, timeout=WRITE_WAIT, isolation_level=None)
    except sqlite3.Error as exc:
        raise _error(target, exc, "write") from exc
    try:
        try:
            # the write lock, taken before reading: a second writer waits here, then reads our result
            con.execute("BEGIN IMMEDIATE")
            # read again under the lock: the writer we waited for may have upgraded the schema
            version = int(con.execute("PRAGMA user_version").fetchone()[0])
            current = version == SCHEMA_VERSION  # another version is rewritten in full: texts included
            snapshot = Snapshot(version, _read_articles(con, text=not current),
                                lambda ids=None: _read_incident_rows(con, ids),
                                # a store of another schema version is rewritten in full, its cache dropped
                                lambda v: _read_cache(con, v) if current else {},
                                lambda v, ds: _read_cached_incidents(con, v, ds),
                                lambda m: _read_groups(con, m) if current else {},
                                lambda: con.execute("SELECT count(*) FROM incidents").fetchone()[0],
                                (lambda keys: _read_texts(con, keys)) if current else None)
        except sqlite3.Error as exc:
            raise _error(target, exc, "write") from exc
        try:
            content = plan(snapshot)
            if content is None:
                con.execute("ROLLBACK")
                return False
            _backup(target)
            delta = _delta(content)
            if version != SCHEMA_VERSION:
                _drop_all(con)
                _create_schema(con)
                _fill(con, delta)
            else:
                # only the rows that changed: adding one article to a large store rewrites a few rows
                _apply(con, snapshot.articles, delta)
            con.execute("COMMIT")
            return True
        except BaseException as exc:
            if con.in_transaction:
                try:
                    con.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite rolls back from its journal when the connection closes or the file next opens
            if isinstance(exc, (sqlite3.Error, OSError)):
                raise StoreError(f"could not write store {target}: {exc}; the previous store is unchanged") from exc
            raise
    finally:
        con.close()


def _drop_all(con: sqlite3.Connection) -> None:
    # An outdated store gets the current schema inside the same transaction as its new content (SQLite's DDL
    # is transactional, so a failure leaves the old tables).
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                               "AND name NOT LIKE 'sqlite_%'").fetchall():
        con.execute(f'DROP TABLE "{name}"')


def _create(target: Path, plan: Plan) -> bool:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _error(target, exc, "create") from exc
    _writable(target)
    _clean_stale_temps(target)
    content = plan(Snapshot(None))
    if content is None:
        return False
    tmp = None
    try:
        tmp = _temp_file(target)
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            _create_schema(con)
            _fill(con, _delta(content))
            con.execute("COMMIT")
        finally:
            con.close()
        try:
            # link, not replace: a store another writer created meanwhile is never overwritten
            os.link(tmp, target)
        except FileExistsError:
            raise _CreatedMeanwhile from None
        except OSError:
            if target.exists():  # a file system without hard links: the same check, with a small window
                raise _CreatedMeanwhile from None
            os.replace(tmp, target)
        return True
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"could not write store {target}: {exc}; nothing was written") from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
            Path(str(tmp) + "-journal").unlink(missing_ok=True)


def _create_schema(con: sqlite3.Connection) -> None:
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            con.execute(statement)


def _writable(target: Path) -> None:
    folder = target.parent
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise StoreError(f"cannot write store {target}: the file or its folder is read-only. A read-only store "
                         "can be viewed and exported; to change it, copy it to a writable folder and point "
                         "--store or $INCIDENT_MAP_STORE there")


def _temp_file(target: Path, suffix: str = "") -> Path:
    # O_EXCL with mode 0o666: the umask decides the final mode, as for any new file (mkstemp would force 0600)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}{suffix}")
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    return tmp


def _clean_stale_temps(target: Path) -> None:
    """Remove temporary files of ours left by a killed write (older than :data:`STALE_TEMP_SECONDS`)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for leftover in target.parent.glob(f".{target.name}.tmp-*"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass  # another writer removed it, or it is not ours to remove


def _copy_database(source: Path, dest_path: Path) -> None:
    """Copy a store's committed content into ``dest_path`` with SQLite's backup API (read-only on the source)."""
    src = sqlite3.connect(_uri(source, mode="ro"), uri=True, timeout=READ_WAIT)
    dest = sqlite3.connect(dest_path)
    try:
        src.backup(dest)
    finally:
        dest.close()
        src.close()


def _backup(target: Path) -> None:
    """Copy the store (its committed content, as seen under our write lock) to ``NAME.bak``, atomically.

    An existing backup is renamed to a temporary name, brought up to date where it differs from the store (a
    write changes a few pages of a large store: rewriting them all cost most of a one-article ingest), and
    renamed back; while it is updated no backup exists, so a half-updated copy is never taken for one (the store
    itself is untouched until the backup is in place).
    """
    tmp = _temp_file(target, ".bak")
    bak = backup_path(target)
    try:
        if bak.is_file() and not bak.is_symlink() and bak.stat().st_size > 0:
            os.replace(bak, tmp)
            _sync_file(target, tmp)
        else:
            _copy_file(target, tmp)
        os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, backup_path(target))
    finally:
        tmp.unlink(missing_ok=True)


def _copy_file(target: Path, tmp: Path) -> None:
    """Copy the store file while this process holds its write lock (and has written nothing yet).

    The file then holds exactly the last committed store (taking the lock rolled back any hot journal), so a
    file copy is a consistent backup, and several times faster than SQLite's page-by-page backup API. It runs in
    another process (``cp``) on POSIX systems: SQLite's documentation ("How To Corrupt An SQLite Database File",
    2.2) warns that closing another descriptor of the file in this process drops the POSIX advisory locks through
    which SQLite holds the write lock, which would let another writer in.
    """
    if os.name == "nt":  # Windows locks belong to their handle: a copy here leaves SQLite's lock alone
        shutil.copyfile(target, tmp)
        return
    try:
        subprocess.run(["cp", "--", os.fspath(target), os.fspath(tmp)], check=True, capture_output=True)
        return
    except (OSError, subprocess.CalledProcessError):
        pass  # no cp: SQLite's backup API, through a second, read-only connection
    _copy_database(target, tmp)


#: Run in a separate process by :func:`_sync_file`: make ``argv[2]`` equal ``argv[1]``, writing only the 1 MiB
#: blocks that differ.
_SYNC_SCRIPT = """
import sys
with open(sys.argv[1], "rb") as src, open(sys.argv[2], "r+b") as dst:
    while True:
        pos = src.tell()
        block = src.read(1 << 20)
        if not block:
            break
        if dst.read(len(block)) != block:
            dst.seek(pos)
            dst.write(block)
    dst.truncate(src.tell())
"""


def _sync_file(target: Path, dest: Path) -> None:
    """Make ``dest`` (an older copy of the store) equal the store file, writing only the blocks that differ.

    In another process, for the reason given at :func:`_copy_file`; a full copy when that process cannot run.
    """
    try:
        subprocess.run([sys.executable, "-I", "-S", "-c", _SYNC_SCRIPT, os.fspath(target), os.fspath(dest)],
                       check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        _copy_file(target, dest)


def _read_incident_rows(con: sqlite3.Connection, ids: Iterable[str] | None = None) -> list[dict]:
    columns = {r[1] for r in con.execute("PRAGMA table_info(incidents)")}
    wanted = ("id", "type", "article", "date", "location_id", "evidence", "background", "sources", "former_ids")
    select = f"SELECT {', '.join(c if c in columns else 'NULL' for c in wanted)} FROM incidents"
    if ids is None:
        found: Iterable = con.execute(select)
    else:
        found = [r for id_ in ids for r in con.execute(select + " WHERE id = ?", (id_,))]
    rows = []
    for r in found:
        rec = dict(zip(wanted, r, strict=True))
        for col in ("sources", "former_ids"):
            try:
                rec[col] = json.loads(rec[col]) if rec[col] else []
            except ValueError:
                rec[col] = []
        rows.append(rec)
    return rows


def _delta(content) -> Delta:
    if isinstance(content, Delta):
        return content
    articles, frame = content
    return Delta(articles, frame)


def _fill(con: sqlite3.Connection, delta: Delta) -> None:
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    con.execute("INSERT INTO meta VALUES ('built_at', ?)", (datetime.now(UTC).isoformat(),))
    # a generator: with staged texts, one article's text is in memory at a time
    con.executemany(f"INSERT INTO articles VALUES ({','.join('?' * len(_ARTICLE_COLUMNS))})",
                    (_article_row(key, a, delta.text) for key, a in delta.articles.items()))
    locations: dict[str, tuple] = {}
    con.executemany(_INSERT_INCIDENT, _frame_rows(delta.frame, locations))
    con.executemany("INSERT INTO locations VALUES (?,?,?,?)", list(locations.values()))
    _write_extras(con, delta)


def _apply(con: sqlite3.Connection, stored: Mapping[str, Article], delta: Delta) -> None:
    """Make the store hold ``delta``'s content, writing only what changed (same schema version)."""
    con.execute("INSERT OR REPLACE INTO meta VALUES ('built_at', ?)", (datetime.now(UTC).isoformat(),))
    articles = delta.articles
    gone = [(key,) for key in stored if key not in articles]
    con.executemany("DELETE FROM articles WHERE key = ?", gone)  # before inserts: a name may pass to a new key
    changed = [key for key, a in articles.items()
               if key not in stored or (stored[key] is not a and _article_row(key, stored[key])
                                        != _article_row(key, a))]
    con.executemany(f"INSERT OR REPLACE INTO articles VALUES ({','.join('?' * len(_ARTICLE_COLUMNS))})",
                    (_article_row(key, articles[key], delta.text) for key in changed))
    locations: dict[str, tuple] = {}
    rows = list(_frame_rows(delta.frame, locations))
    held = {r[0]: r for r in con.execute(f"SELECT {', '.join(schema.STORED_NAMES)} FROM incidents WHERE id IN "
                                         "(SELECT value FROM json_each(?))", (json.dumps([r[0] for r in rows]),))}
    dropped = [(i,) for (i,) in con.execute("SELECT id FROM incidents") if i not in delta.keep]
    con.executemany("DELETE FROM incidents WHERE id = ?", [d for d in dropped if held.get(d[0]) is None])
    con.executemany(_REPLACE_INCIDENT,
                    [r for r in rows if held.get(r[0]) != r])  # a row written again unchanged is left alone
    con.executemany("INSERT OR REPLACE INTO locations VALUES (?,?,?,?)", list(locations.values()))
    con.execute("DELETE FROM locations WHERE id NOT IN (SELECT location_id FROM incidents "
                "WHERE location_id IS NOT NULL)")
    _write_extras(con, delta, [d for d in dropped if d[0] not in delta.signatures])


def _write_extras(con: sqlite3.Connection, delta: Delta, dropped: list[tuple[str]] | None = None) -> None:
    """The extraction cache and the incidents' signatures; ``dropped``: ids deleted (None: a new store)."""
    columns = [r[1] for r in con.execute("PRAGMA table_info(extractions)")]
    if columns and columns != ["digest", "version", "summary", "incidents"]:
        con.execute("DROP TABLE extractions")  # a cache of another layout: only a cache, so started again
    for statement in _CACHE_SCHEMA.split(";"):  # a schema-4 store written before the cache existed gets them now
        if statement.strip():
            con.execute(statement)
    if dropped is None or not _groups_valid(con):
        # Stored signatures cannot be trusted: kept incidents get none, and the next write recomputes them all.
        con.execute("DELETE FROM groups")
    else:
        con.executemany("DELETE FROM groups WHERE id = ?", dropped)
    con.executemany("INSERT OR REPLACE INTO groups VALUES (?, ?)", list(delta.signatures.items()))
    con.execute("INSERT OR REPLACE INTO meta VALUES ('groups_of', ?)", (delta.merging,))
    cache = delta.cache
    if cache is None:
        return
    held = {(d, v) for d, v in con.execute("SELECT digest, version FROM extractions")}
    con.executemany("DELETE FROM extractions WHERE digest = ? AND version = ?",
                    [k for k in held if k[1] != cache.version or k[0] not in cache.entries])
    con.executemany("INSERT INTO extractions VALUES (?, ?, ?, ?)", new_extractions(cache, {
        d for d, v in held if v == cache.version}))


def new_extractions(cache: Extractions, held: set[str]) -> Iterator[tuple[str, str, str, str]]:
    """``(digest, version, summary, incidents)`` of the cache entries to write: those not ``held`` already.

    A generator: staged incidents are read a chunk at a time, never all at once.
    """
    staged = []
    for d, (summary, blob) in cache.entries.items():
        if d in held:
            continue
        if blob is not None:
            yield d, cache.version, summary, blob
        else:
            staged.append(d)
    if staged and cache.staged is not None:
        for d, blob in cache.staged(staged):
            yield d, cache.version, cache.entries[d][0], blob


def _groups_valid(con: sqlite3.Connection, merging: str | None = None) -> bool:
    """Whether the ``groups`` table describes the stored incidents (and was written by ``merging``, if given).

    Another version of this program that rewrote the incidents dropped the ``groups_of`` stamp from ``meta``.
    """
    try:
        stamp = con.execute("SELECT value FROM meta WHERE key = 'groups_of'").fetchone()
    except sqlite3.Error:
        return False
    return stamp is not None and (merging is None or stamp[0] == merging)


def _read_groups(con: sqlite3.Connection, merging: str) -> dict[str, str]:
    if not _groups_valid(con, merging):
        return {}
    try:
        groups = dict(con.execute("SELECT id, signature FROM groups"))
    except sqlite3.OperationalError:
        return {}  # no table yet
    # the same ids as the incidents (both are primary keys), compared by SQLite rather than as two Python sets
    (count, unmatched), = con.execute("SELECT count(*), count(*) - count(g.id) FROM incidents i "
                                      "LEFT JOIN groups g ON g.id = i.id")
    return groups if count == len(groups) and not unmatched else {}


def _read_cache(con: sqlite3.Connection, version: str) -> dict[str, str]:
    try:  # no table yet, or a cache of another layout (rebuilt by the write): nothing cached
        return dict(con.execute("SELECT digest, summary FROM extractions WHERE version = ?", (version,)))
    except sqlite3.OperationalError:
        return {}


def _read_cached_incidents(con: sqlite3.Connection, version: str, digests: Iterable[str]) -> dict[str, str]:
    try:
        return dict(con.execute("SELECT digest, incidents FROM extractions WHERE version = ? AND digest IN "
                                "(SELECT value FROM json_each(?))", (version, json.dumps(list(digests)))))
    except sqlite3.OperationalError:
        return {}


def _article_row(key: str, a: Article, text: Callable[[Article], str] | None = None) -> tuple:
    return (key, a.name, a.title, a.published.isoformat() if a.published else None, int(a.published_inferred),
            a.published_note, a.byline, a.outlet, a.url, a.content_hash, a.path, text(a) if text else a.text,
            a.language)


_INSERT_INCIDENT = schema.sqlite_insert("incidents", schema.STORED_NAMES)
_REPLACE_INCIDENT = schema.sqlite_insert("incidents", schema.STORED_NAMES, "INSERT OR REPLACE")


def _frame_rows(frame: gpd.GeoDataFrame | list[dict], locations: dict[str, tuple]) -> Iterator[tuple]:
    """The ``incidents`` rows of an incident frame (columns :data:`schema.STORED_NAMES`), one at a time.

    ``locations`` gets their footprints by id, as ``(id, name, geo_precision, GeoJSON)``.
    """
    shapes: dict[str, tuple] = {}
    for rec in frame_records(frame, shapes):
        yield tuple(_sqlite_value(f, rec[f.name]) for f in schema.STORED)
    for loc, (name, precision, geom) in shapes.items():
        locations[loc] = (loc, name, precision, shapely.to_geojson(geom))


def frame_records(frame: gpd.GeoDataFrame | list[dict], locations: dict[str, tuple]) -> Iterator[dict]:
    """The stored fields of each incident of a frame (:func:`schema.stored_value` applied), one at a time.

    ``frame``: a GeoDataFrame, or a list of records with the same columns and ``geometry`` (a few incidents,
    located without pandas: :func:`dashboard.regions.locate_rows`). ``lon``/``lat`` are a point's coordinates,
    or a footprint's representative point; ``locations`` gets each footprint once by location id, as ``(name,
    geo_precision, geometry)``. A generator over the frame's columns, not ``to_dict("records")``: a store of a
    million incidents would otherwise hold every row twice.
    """
    points: dict[str, tuple] = {}  # location id -> representative point, computed once per footprint
    if isinstance(frame, list):
        pairs: Iterator[tuple[dict, object]] = (({c: row.get(c) for c in schema.FRAME_COLUMNS}, row["geometry"])
                                                for row in frame)
    else:
        columns = {c: frame[c].tolist() if c in frame else [None] * len(frame) for c in schema.FRAME_COLUMNS}
        pairs = (({c: values[n] for c, values in columns.items()}, geom) for n, geom in enumerate(frame.geometry))
    for rec, geom in pairs:
        lon = lat = None
        if geom is not None and not geom.is_empty:
            if geom.geom_type == "Point":
                lon, lat = geom.x, geom.y
            else:
                loc = rec["location_id"]
                if loc not in locations:
                    locations[loc] = (rec.get("location_name"), rec["geo_precision"], geom)
                    pt = geom.representative_point()
                    points[loc] = (pt.x, pt.y)
                lon, lat = points[loc]
        rec["lon"], rec["lat"] = lon, lat
        rec["sources"] = _sources(rec)
        yield {f.name: schema.stored_value(f, rec[f.name]) for f in schema.STORED}


def _sqlite_value(f: schema.Field, value):
    if f.is_list or f.kind == "json":
        return _json(value)
    if f.kind == "bool":
        return int(value)
    return value


def _sources(rec: dict) -> list[dict]:
    sources = rec.get("sources")
    if isinstance(sources, list) and sources:
        return sources
    return [{"article": rec["article"], "reported_by": schema.plain(rec.get("reported_by")),
             "evidence": rec["evidence"], "evidence_start": int(rec["evidence_start"]),
             "evidence_end": int(rec["evidence_end"])}]


def _json(value) -> str:
    return json.dumps(schema.plain(value), ensure_ascii=False, allow_nan=False)
