"""The embedded store: one SQLite file holding articles, incidents, their locations and provenance.

No server to start. A build writes a new file beside the old one and moves it into place, so a failed build
leaves the previous store intact. Incident ids derive from the article's content, so rebuilding gives the same
ids. The tables are plain SQL with GeoJSON text for footprints, so a PostGIS backend could replace this module.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import Point

from dashboard.corpus import Article
from dashboard.errors import StoreError

SCHEMA_VERSION = 2
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STORE = ROOT / "data" / "store" / "incidents.sqlite"
SEEDS = ROOT / "seeds"

#: Feature properties, in order: the stable public schema of every export (see README).
PROPERTIES = ["id", "type", "date", "date_end", "date_precision", "place", "location_id", "geo_precision",
              "departments", "province", "district", "zones", "killed", "wounded", "quantity_kg", "substance",
              "count", "actors", "reported_by", "article", "title", "published", "evidence", "background"]
#: Extra properties, after the stable ones.
EXTRA_PROPERTIES = ["location_name", "unlocated_reason", "outlet", "url", "published_inferred", "evidence_start",
                    "evidence_end", "source_count", "sources", "review_status"]
LIST_COLUMNS = ("departments", "zones", "actors")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE articles (
    name TEXT PRIMARY KEY, title TEXT, published TEXT, published_inferred INTEGER, published_note TEXT,
    byline TEXT, outlet TEXT, url TEXT, content_hash TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE locations (id TEXT PRIMARY KEY, name TEXT, geo_precision TEXT, geojson TEXT NOT NULL);
CREATE TABLE incidents (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, article TEXT NOT NULL REFERENCES articles(name),
    date TEXT, date_end TEXT, date_precision TEXT, place TEXT, location_id TEXT REFERENCES locations(id),
    geo_precision TEXT, departments TEXT, province TEXT, district TEXT, zones TEXT, killed INTEGER,
    wounded INTEGER, quantity_kg REAL, substance TEXT, count INTEGER, actors TEXT, reported_by TEXT,
    evidence TEXT, evidence_start INTEGER, evidence_end INTEGER, background INTEGER NOT NULL,
    unlocated_reason TEXT, lon REAL, lat REAL, sources TEXT);
CREATE INDEX incidents_type ON incidents(type);
CREATE INDEX incidents_date ON incidents(date);
"""


def store_path(path: str | Path | None = None) -> Path:
    """The store file: ``path``, else ``$INCIDENT_MAP_STORE``, else ``data/store/incidents.sqlite``."""
    return Path(path or os.environ.get("INCIDENT_MAP_STORE") or DEFAULT_STORE)


def write(target: Path, articles: Iterable[Article], frame: gpd.GeoDataFrame) -> None:
    """Write a complete store to ``target`` atomically (temporary file, then ``os.replace``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".incidents-", suffix=".sqlite", dir=target.parent)
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        try:
            with con:
                con.executescript(_SCHEMA)
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                con.execute("INSERT INTO meta VALUES ('built_at', ?)", (datetime.now(UTC).isoformat(),))
                con.executemany("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)", [
                    (a.name, a.title, a.published.isoformat() if a.published else None, int(a.published_inferred),
                     a.published_note, a.byline, a.outlet, a.url, a.content_hash, a.text) for a in articles])
                _insert_frame(con, frame)
        finally:
            con.close()
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, (sqlite3.Error, OSError)):
            raise StoreError(f"could not write store {target}: {exc}; the previous store is unchanged") from exc
        raise


def _insert_frame(con: sqlite3.Connection, frame: gpd.GeoDataFrame) -> None:
    locations = {}
    rows = []
    for rec, geom in zip(frame.to_dict("records"), frame.geometry, strict=True):
        lon = lat = None
        if geom is not None and not geom.is_empty:
            if geom.geom_type == "Point":
                lon, lat = geom.x, geom.y
            else:
                locations.setdefault(rec["location_id"], (rec["location_id"], rec.get("location_name"),
                                                          rec["geo_precision"], shapely.to_geojson(geom)))
                pt = geom.representative_point()
                lon, lat = pt.x, pt.y
        rows.append((
            rec["id"], rec["type"], rec["article"], _none(rec["date"]), _none(rec["date_end"]),
            _none(rec["date_precision"]), _none(rec["place"]), _none(rec["location_id"]),
            _none(rec["geo_precision"]), json.dumps(rec["departments"] or [], ensure_ascii=False),
            _none(rec["province"]), _none(rec["district"]), json.dumps(rec["zones"] or [], ensure_ascii=False),
            _int(rec["killed"]), _int(rec["wounded"]), _none(rec["quantity_kg"]), _none(rec["substance"]),
            _int(rec["count"]), json.dumps(rec["actors"] or [], ensure_ascii=False), _none(rec["reported_by"]),
            rec["evidence"], int(rec["evidence_start"]), int(rec["evidence_end"]), int(bool(rec["background"])),
            _none(rec["unlocated_reason"]), lon, lat,
            json.dumps(_sources(rec), ensure_ascii=False)))
    con.executemany("INSERT INTO locations VALUES (?,?,?,?)", list(locations.values()))
    con.executemany(f"INSERT INTO incidents VALUES ({','.join('?' * 28)})", rows)


def _sources(rec: dict) -> list[dict]:
    sources = rec.get("sources")
    if isinstance(sources, list) and sources:
        return sources
    return [{"article": rec["article"], "reported_by": _none(rec.get("reported_by")), "evidence": rec["evidence"],
             "evidence_start": int(rec["evidence_start"]), "evidence_end": int(rec["evidence_end"])}]


def _none(value):
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _int(value):
    value = _none(value)
    return None if value is None else int(value)


def connect(path: str | Path | None = None) -> sqlite3.Connection:
    """Open an existing store read-only; :class:`StoreError` names the file if it is missing or not a store."""
    target = store_path(path)
    if not target.exists():
        raise StoreError(f"no store at {target}; run 'incident-map build' first")
    try:
        con = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        version = con.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise StoreError(f"{target} is not a readable store: {exc}") from exc
    if version != SCHEMA_VERSION:
        con.close()
        raise StoreError(f"{target} has schema version {version}, expected {SCHEMA_VERSION}; rebuild it")
    return con


def load(path: str | Path | None = None) -> gpd.GeoDataFrame:
    """All incidents, with article metadata, as a GeoDataFrame in EPSG:4326 (lists as Python lists)."""
    con = connect(path)
    try:
        inc = pd.read_sql_query(
            "SELECT i.*, a.title, a.published, a.published_inferred, a.outlet, a.url, l.name AS location_name, "
            "l.geojson FROM incidents i JOIN articles a ON a.name = i.article "
            "LEFT JOIN locations l ON l.id = i.location_id ORDER BY i.date, i.id", con)
    finally:
        con.close()
    return frame_from_rows(inc)


def frame_from_rows(inc: pd.DataFrame) -> gpd.GeoDataFrame:
    """Turn store rows into a GeoDataFrame: parse lists, share each footprint geometry among its incidents."""
    for col in (*LIST_COLUMNS, "sources"):
        inc[col] = [json.loads(v) if isinstance(v, str) else [] for v in inc[col]]
    inc["source_count"] = [max(1, len(s)) for s in inc["sources"]]
    inc["place_ids"] = [loc.split("+") if isinstance(loc, str) else [] for loc in inc["location_id"]]
    inc["background"] = inc["background"].astype(bool)
    for col in ("killed", "wounded", "count"):
        inc[col] = inc[col].astype("Int64")
    inc["published_inferred"] = inc["published_inferred"].fillna(0).astype(bool)
    shapes: dict[str, object] = {}
    geoms = []
    for gj, lon, lat in zip(inc["geojson"], inc["lon"], inc["lat"], strict=True):
        if isinstance(gj, str):
            if gj not in shapes:
                shapes[gj] = shapely.from_geojson(gj)
            geoms.append(shapes[gj])
        elif pd.notna(lon) and pd.notna(lat):
            geoms.append(Point(lon, lat))
        else:
            geoms.append(None)
    inc = inc.drop(columns=["geojson"])
    for col in ("date", "date_end", "date_precision", "place", "province", "district", "substance",
                "reported_by", "location_id", "geo_precision", "unlocated_reason"):
        inc[col] = inc[col].astype(object).where(inc[col].notna(), None)
    return gpd.GeoDataFrame(inc, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)


def schema_version(path: str | Path | None = None) -> int | None:
    """The schema version of a store file, or None when there is no readable store there."""
    target = store_path(path)
    if not target.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            return int(con.execute("PRAGMA user_version").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return None


def load_articles(path: str | Path | None = None) -> list[Article]:
    """The stored articles, as :class:`Article` objects (their cleaned text, metadata and content hash).

    Articles read the same in every schema version so far, so an outdated store still gives its articles to
    the rebuild that replaces it.
    """
    target = store_path(path)
    if not target.exists():
        raise StoreError(f"no store at {target}; run 'incident-map build' first")
    con = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT name, title, published, published_inferred, published_note, byline, outlet, "
                           "url, content_hash, text FROM articles ORDER BY name").fetchall()
    finally:
        con.close()
    return [Article(name=r[0], title=r[1], published=date.fromisoformat(r[2]) if r[2] else None,
                    published_inferred=bool(r[3]), published_note=r[4], byline=r[5], outlet=r[6], url=r[7],
                    content_hash=r[8], text=r[9]) for r in rows]


def article_records(path: str | Path | None = None) -> dict[str, dict]:
    """Stored articles by name, as plain records (name, text, title, outlet, url, byline, published)."""
    return {a.name: {"name": a.name, "text": a.text, "title": a.title, "outlet": a.outlet, "url": a.url,
                     "byline": a.byline, "published": a.published.isoformat() if a.published else None}
            for a in load_articles(path)}


def article_text(name: str, path: str | Path | None = None) -> dict | None:
    """An article's stored record (title, published, outlet, url, text), or None."""
    con = connect(path)
    try:
        con.row_factory = sqlite3.Row
        row = con.execute("SELECT * FROM articles WHERE name = ?", (name,)).fetchone()
    finally:
        con.close()
    return dict(row) if row else None
