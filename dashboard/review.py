"""An analyst's review: confirm, correct or reject incidents, and add the ones the extractor missed.

Reviews live in their own SQLite file beside the store (``incidents.reviews.sqlite``), apart from extraction
output, so rebuilds and re-extraction never touch them; a PostGIS store keeps them in its own database, in review
tables that builds never rewrite (:class:`dashboard.store_pg.Reviews`). Incident ids are stable for an unchanged
article; when an article changes, its new incidents carry the ids they replace (``former_ids``, see
:func:`dashboard.dedup.former_ids`), and :func:`apply` follows a review to the incident that continues the
reviewed one. Every change is one transaction (two browser tabs reviewing at once lose no edit: corrections are
kept per field) and leaves an audit row: what changed, when, from what to what.

The file is created on the first review, safely when several processes do it at once. Reading never creates or
changes it (read-only connection), so a store in a read-only folder can still be viewed and exported; writing
there raises :class:`ReviewError` with a clear message.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard import query, schema, store
from dashboard.errors import IncidentMapError, StoreError
from dashboard.extraction import Incident
from dashboard.gazetteer import Gazetteer
from dashboard.regions import locate

STATUSES = ("needs review", "confirmed", "corrected", "rejected", "added")
#: Fields an analyst may correct, with the type a value must have.
FIELDS = schema.REVIEWABLE
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS decisions (incident_id TEXT PRIMARY KEY, status TEXT NOT NULL, updated_at TEXT)",
    "CREATE TABLE IF NOT EXISTS corrections (incident_id TEXT, field TEXT, value TEXT, updated_at TEXT, "
    "PRIMARY KEY (incident_id, field))",
    "CREATE TABLE IF NOT EXISTS manual (id TEXT PRIMARY KEY, record TEXT NOT NULL, created_at TEXT)",
    "CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
    "incident_id TEXT NOT NULL, action TEXT NOT NULL, field TEXT, old TEXT, new TEXT, note TEXT)",
)
#: Seconds a review waits for another writer (or for the file's first creation by another process).
TIMEOUT = 15.0
_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")


class ReviewError(IncidentMapError):
    """A review action that cannot be applied (unknown field, bad value); the message says which."""


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit trail."""

    at: str
    incident_id: str
    action: str
    field: str | None
    old: object
    new: object
    note: str | None


def reviews_path(store_file: str | Path) -> Path | str:
    """The review file that belongs to a store file; a PostGIS store's URL (reviews are in its database)."""
    if store.is_url(store_file):
        return str(store_file)
    p = Path(store_file)
    return p.with_name(p.stem + ".reviews.sqlite")


def version(store_file: str | Path) -> int:
    """A number that changes whenever a review is saved, for caches keyed on the reviews (0: none yet)."""
    if store.is_url(store_file):
        return store._pg().version(str(store_file), "reviews_version")
    rp = reviews_path(store_file)
    files = [rp, rp.with_name(rp.name + "-wal")]  # WAL mode writes the -wal file first
    return max((f.stat().st_mtime_ns + f.stat().st_size for f in files if f.exists()), default=0)


class ReviewStore:
    """Reviews for one store.

    Parameters
    ----------
    path
        The review file (see :func:`reviews_path`), created on first write; or a PostGIS store's URL.
    """

    def __init__(self, path: str | Path) -> None:
        self._pg = store._pg().Reviews(str(path)) if store.is_url(path) else None
        self.path = str(path) if self._pg else Path(path)

    def exists(self) -> bool:
        """Whether reviews may exist (the review file is there; always for a PostGIS store)."""
        return self._pg is not None or self.path.exists()

    def _pg_write(self, method: str, *args) -> None:
        try:
            getattr(self._pg, method)(*args)
        except StoreError as exc:
            raise ReviewError(str(exc)) from exc

    def _connect(self) -> sqlite3.Connection:
        """A read-write connection to the file, created with its tables if needed."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(_uri(self.path, mode="rwc"), uri=True, timeout=TIMEOUT, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._write_error(exc) from exc
        try:
            _prepare(con)
        except sqlite3.Error as exc:
            con.close()
            raise self._write_error(exc) from exc
        return con

    def _write_error(self, exc: Exception) -> Exception:
        name = getattr(exc, "sqlite_errorname", "")
        if isinstance(exc, PermissionError) or name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
            return ReviewError(f"cannot save the review: {self.path} or its folder is read-only ({exc}); the store "
                               "can be viewed and exported, but reviews need a writable folder")
        return exc

    def _read(self) -> sqlite3.Connection | None:
        """A read-only connection, or None when there is no review file (then there are no reviews)."""
        if not self.path.exists():
            return None
        try:
            con = sqlite3.connect(_uri(self.path, mode="ro"), uri=True, timeout=TIMEOUT)
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return con
        except sqlite3.OperationalError:
            # A WAL file in a read-only folder cannot get its shared-memory file: nobody can be writing there,
            # so the file may be read as immutable.
            con = sqlite3.connect(_uri(self.path, mode="ro", immutable="1"), uri=True, timeout=TIMEOUT)
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return con

    def _write(self, fn) -> None:
        con = self._connect()
        try:
            try:
                con.execute("BEGIN IMMEDIATE")  # one writer at a time; a second tab waits, then applies on top
            except sqlite3.Error as exc:
                raise self._write_error(exc) from exc
            try:
                fn(con, datetime.now(UTC).isoformat(timespec="seconds"))
                con.execute("COMMIT")
            except BaseException as exc:
                con.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._write_error(exc) from exc
                raise
        finally:
            con.close()

    # ------------------------------------------------------------------ actions
    def set_status(self, incident_id: str, status: str, note: str | None = None) -> None:
        """Confirm or reject an incident (or send it back to "needs review")."""
        if status not in ("confirmed", "rejected", "needs review"):
            raise ReviewError(f"status {status!r} cannot be set; use confirmed, rejected or needs review")
        if self._pg:
            return self._pg_write("set_status", incident_id, status, note)

        def run(con, now):
            row = con.execute("SELECT status FROM decisions WHERE incident_id=?", (incident_id,)).fetchone()
            con.execute("INSERT INTO decisions VALUES (?,?,?) ON CONFLICT(incident_id) DO UPDATE SET "
                        "status=excluded.status, updated_at=excluded.updated_at", (incident_id, status, now))
            con.execute("INSERT INTO audit (at, incident_id, action, field, old, new, note) VALUES (?,?,?,?,?,?,?)",
                        (now, incident_id, status, "status", json.dumps(row[0] if row else "needs review"),
                         json.dumps(status), note))
        self._write(run)

    def correct(self, incident_id: str, changes: Mapping[str, object], original: Mapping[str, object],
                note: str | None = None) -> None:
        """Correct fields of an incident; ``original`` holds the values being replaced (for the audit trail)."""
        for name, value in changes.items():
            _check(name, value)
        if self._pg:
            return self._pg_write("correct", incident_id, dict(changes), dict(original), note)

        def run(con, now):
            for name, value in changes.items():
                prev = con.execute("SELECT value FROM corrections WHERE incident_id=? AND field=?",
                                   (incident_id, name)).fetchone()
                old = json.loads(prev[0]) if prev else original.get(name)
                con.execute("INSERT INTO corrections VALUES (?,?,?,?) ON CONFLICT(incident_id, field) DO UPDATE "
                            "SET value=excluded.value, updated_at=excluded.updated_at",
                            (incident_id, name, json.dumps(value, ensure_ascii=False), now))
                con.execute("INSERT INTO audit (at, incident_id, action, field, old, new, note) "
                            "VALUES (?,?,?,?,?,?,?)", (now, incident_id, "corrected", name,
                                                       json.dumps(schema.plain(old), ensure_ascii=False),
                                                       json.dumps(value, ensure_ascii=False), note))
        self._write(run)

    def add(self, record: Mapping[str, object], note: str | None = None) -> str:
        """Add an incident the extractor missed; ``record`` needs type, article and evidence offsets."""
        for required in ("type", "article", "evidence_start", "evidence_end"):
            if record.get(required) in (None, ""):
                raise ReviewError(f"a new incident needs {required!r}")
        for name, value in record.items():
            if name in FIELDS:
                _check(name, value)
        key = f"{record['article']}:{record['type']}:{record['evidence_start']}:{record['evidence_end']}"
        new_id = "manual-" + hashlib.sha1(key.encode()).hexdigest()[:12]
        if self._pg:
            self._pg_write("add", new_id, dict(record), note)
            return new_id

        def run(con, now):
            con.execute("INSERT INTO manual VALUES (?,?,?) ON CONFLICT(id) DO UPDATE SET record=excluded.record",
                        (new_id, json.dumps(dict(record), ensure_ascii=False), now))
            con.execute("INSERT INTO audit (at, incident_id, action, field, old, new, note) VALUES (?,?,?,?,?,?,?)",
                        (now, new_id, "added", None, None, json.dumps(dict(record), ensure_ascii=False), note))
        self._write(run)
        return new_id

    # ------------------------------------------------------------------ copying
    def dump(self) -> dict[str, list[dict]]:
        """Every review row (decisions, corrections, added incidents, audit), oldest first, for a copy."""
        if self._pg:
            return self._pg.dump()
        con = self._read()
        if con is None:
            return {}
        loads = lambda v: json.loads(v) if v else None  # noqa: E731
        try:
            return {
                "review_decisions": [{"incident_id": i, "status": s, "updated_at": u} for i, s, u in con.execute(
                    "SELECT incident_id, status, updated_at FROM decisions ORDER BY rowid")],
                "review_corrections": [{"incident_id": i, "field": f, "value": loads(v), "updated_at": u}
                                       for i, f, v, u in con.execute("SELECT incident_id, field, value, updated_at "
                                                                     "FROM corrections ORDER BY rowid")],
                "review_manual": [{"id": i, "record": loads(r), "created_at": c} for i, r, c in con.execute(
                    "SELECT id, record, created_at FROM manual ORDER BY rowid")],
                "review_audit": [{"at": a, "incident_id": i, "action": ac, "field": f, "old": loads(o),
                                  "new": loads(n), "note": note} for a, i, ac, f, o, n, note in con.execute(
                    "SELECT at, incident_id, action, field, old, new, note FROM audit ORDER BY seq")]}
        finally:
            con.close()

    def restore(self, dump: Mapping[str, list[dict]]) -> None:
        """Replace every review row with those of :meth:`dump` (of this or another backend), in one transaction."""
        if self._pg:
            return self._pg_write("restore", dict(dump))

        def text(v):
            return None if v is None else json.dumps(v, ensure_ascii=False)

        def run(con, _now):
            for table in ("decisions", "corrections", "manual", "audit"):
                con.execute(f"DELETE FROM {table}")
            con.executemany("INSERT INTO decisions VALUES (?,?,?)", [
                (r["incident_id"], r["status"], r["updated_at"]) for r in dump.get("review_decisions", [])])
            con.executemany("INSERT INTO corrections VALUES (?,?,?,?)", [
                (r["incident_id"], r["field"], text(r["value"]), r["updated_at"])
                for r in dump.get("review_corrections", [])])
            con.executemany("INSERT INTO manual VALUES (?,?,?)", [
                (r["id"], text(r["record"]), r["created_at"]) for r in dump.get("review_manual", [])])
            con.executemany("INSERT INTO audit (at, incident_id, action, field, old, new, note) "
                            "VALUES (?,?,?,?,?,?,?)", [(r["at"], r["incident_id"], r["action"], r["field"],
                                                        text(r["old"]), text(r["new"]), r["note"])
                                                       for r in dump.get("review_audit", [])])
        self._write(run)

    # ------------------------------------------------------------------ reading
    def snapshot(self) -> tuple[dict[str, str], dict[str, dict], dict[str, dict]]:
        """Statuses, corrections (id -> field -> value) and manual incidents (id -> record)."""
        decisions, changes, manual = self._rows()
        statuses = {iid: status for iid, status, _ in decisions}
        corrections: dict[str, dict] = {}
        for iid, name, value, _ in changes:
            corrections.setdefault(iid, {})[name] = value
        return statuses, corrections, manual

    def rows(self) -> tuple[list[tuple], list[tuple], dict[str, dict]]:
        """Decisions (id, status, when) and corrections (id, field, value, when), oldest first; manual records."""
        return self._rows()

    def _rows(self) -> tuple[list[tuple], list[tuple], dict[str, dict]]:
        if self._pg:
            return self._pg.rows()
        con = self._read()
        if con is None:
            return [], [], {}
        try:
            decisions = con.execute("SELECT incident_id, status, updated_at FROM decisions "
                                    "ORDER BY updated_at, rowid").fetchall()
            changes = [(iid, name, json.loads(value), at) for iid, name, value, at in con.execute(
                "SELECT incident_id, field, value, updated_at FROM corrections ORDER BY updated_at, rowid")]
            manual = {iid: json.loads(rec) for iid, rec in con.execute("SELECT id, record FROM manual")}
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # created by another process a moment ago, tables not yet in
                return [], [], {}
            raise
        finally:
            con.close()
        return decisions, changes, manual

    def history(self, incident_id: str | None = None) -> list[AuditEntry]:
        """The audit trail, oldest first (of one incident, or of all)."""
        if self._pg:
            return [AuditEntry(*r) for r in self._pg.history(incident_id)]
        con = self._read()
        if con is None:
            return []
        try:
            sql = "SELECT at, incident_id, action, field, old, new, note FROM audit"
            rows = (con.execute(sql + " WHERE incident_id=? ORDER BY seq", (incident_id,)) if incident_id
                    else con.execute(sql + " ORDER BY seq")).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        finally:
            con.close()
        return [AuditEntry(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else None,
                           json.loads(r[5]) if r[5] else None, r[6]) for r in rows]

    def set_statuses(self, incident_ids: Iterable[str], status: str, note: str | None = None) -> int:
        """Set one status on several incidents in one transaction (all or none); returns how many."""
        if status not in ("confirmed", "rejected", "needs review"):
            raise ReviewError(f"status {status!r} cannot be set; use confirmed, rejected or needs review")
        ids = list(dict.fromkeys(incident_ids))  # a repeated id is one decision, not two audit rows

        def run(con, now):
            for iid in ids:
                row = con.execute("SELECT status FROM decisions WHERE incident_id=?", (iid,)).fetchone()
                con.execute("INSERT INTO decisions VALUES (?,?,?) ON CONFLICT(incident_id) DO UPDATE SET "
                            "status=excluded.status, updated_at=excluded.updated_at", (iid, status, now))
                con.execute("INSERT INTO audit (at, incident_id, action, field, old, new, note) "
                            "VALUES (?,?,?,?,?,?,?)", (now, iid, status, "status",
                                                       json.dumps(row[0] if row else "needs review"),
                                                       json.dumps(status), note))
        if ids:
            self._write(run)
        return len(ids)


def _uri(path: Path, **params: str) -> str:
    # percent-encoded, so '?' and '#' in a folder name are part of the path, not URI syntax
    return Path(os.path.abspath(path)).as_uri() + "?" + urlencode(params)


def _prepare(con: sqlite3.Connection) -> None:
    """Give a new review file its tables and WAL mode, retrying while another process does the same.

    Switching to WAL needs the file to itself, and SQLite reports "database is locked" at once (without waiting
    for the busy timeout) when two connections try it together; so both steps are retried until
    :data:`TIMEOUT`.
    """
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            if con.execute("PRAGMA user_version").fetchone()[0] < 1:
                con.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA:
                    con.execute(statement)
                con.execute("PRAGMA user_version = 1")
                con.execute("COMMIT")
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                con.execute("PRAGMA journal_mode=WAL")  # readers never block the one writer
            return
        except sqlite3.OperationalError as exc:
            if con.in_transaction:
                con.execute("ROLLBACK")
            if getattr(exc, "sqlite_errorname", "") not in _BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.02 + random.random() * 0.05)  # jitter: the contenders do not retry in lockstep


def _check(name: str, value) -> None:
    if name not in FIELDS:
        raise ReviewError(f"field {name!r} cannot be corrected; choose from {sorted(FIELDS)}")
    kind = FIELDS[name]
    if value is None:
        return
    if kind is float and isinstance(value, int):
        return
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ReviewError(f"{name} must be {kind.__name__}, got {value!r}")


def apply(frame: gpd.GeoDataFrame, reviews: ReviewStore, gazetteer: Gazetteer,
          articles: Mapping[str, dict] | None = None, rows: tuple | None = None) -> gpd.GeoDataFrame:
    """The incidents as reviewed: a ``review_status`` column, corrections applied, added incidents appended.

    Rejected incidents stay in the frame (marked); filters hide them by default. Corrected places are located
    again with the gazetteer. ``articles`` (name -> stored record) gives added incidents their evidence text.
    ``rows``: :meth:`ReviewStore.rows`, when already read. Columns derived from the incidents' fields (the
    filter's, :data:`dashboard.query.PREPARED`) are dropped when a correction or an added incident changes them.
    """
    decisions, changes, manual = rows if rows is not None else reviews.rows()
    statuses, corrections = _follow(frame, decisions, changes)
    out = frame.copy(deep=False)  # new and corrected columns only; the cached frame stays as loaded
    if corrections:
        out = frame.copy()
    # ids as plain objects: iterating an Arrow-backed column item by item is several times slower (a million rows)
    out["review_status"] = [statuses.get(i, "needs review") for i in out["id"].to_numpy(dtype=object)]
    if corrections or manual:
        out = out.drop(columns=[c for c in query.PREPARED if c in out.columns])
    if corrections:
        out = _apply_corrections(out, corrections, gazetteer)
    if manual:
        added = _manual_frame(manual, gazetteer, articles or {})
        added["review_status"] = [statuses.get(i, "added") for i in added["id"]]
        out = pd.concat([out, added], ignore_index=True)
        out = gpd.GeoDataFrame(out, geometry="geometry", crs=4326)
    return out


def content_digest(rows: tuple) -> str:
    """A digest of what reviews change in the incidents besides their status: corrections and added incidents.

    ``rows``: :meth:`ReviewStore.rows`. Confirming or rejecting leaves it unchanged, so what is derived from the
    incidents' places and dates (the map's arrays) is kept across such reviews.
    """
    _, changes, manual = rows
    text = json.dumps([[c[:3] for c in changes], manual], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _follow(frame: gpd.GeoDataFrame, decisions: Iterable[tuple], changes: Iterable[tuple]):
    """Statuses and corrections by current incident id: a review of a replaced id goes to its successor.

    A review of the current id wins over one carried over from a former id; among carried-over ones the latest
    wins (rows come oldest first).
    """
    decisions, changes = list(decisions), list(changes)
    # only the reviewed ids are looked up: a million incidents, a few hundred reviews
    reviewed = {r[0] for r in decisions} | {r[0] for r in changes}
    current = frame["id"]
    ids = set(current[current.isin(list(reviewed))].to_numpy(dtype=object)) if reviewed else set()
    gone = reviewed - ids
    alias: dict[str, str] = {}
    if gone and "former_ids" in frame.columns:
        former_ids = frame["former_ids"].to_numpy(dtype=object)
        sizes = np.fromiter((len(f) if isinstance(f, list) else 0 for f in former_ids), dtype=np.int64,
                            count=len(former_ids))
        names = current.to_numpy(dtype=object)
        for row in np.flatnonzero(sizes):
            for old in former_ids[row]:
                if old in gone:
                    alias.setdefault(old, names[row])
    statuses: dict[str, str] = {}
    for iid, status, _ in decisions:
        if iid not in ids and iid in alias:
            statuses[alias[iid]] = status
    for iid, status, _ in decisions:
        if iid in ids or iid not in alias:
            statuses[iid] = status
    corrections: dict[str, dict] = {}
    for iid, name, value, _ in changes:
        if iid not in ids and iid in alias:
            corrections.setdefault(alias[iid], {})[name] = value
    for iid, name, value, _ in changes:
        if iid in ids or iid not in alias:
            corrections.setdefault(iid, {})[name] = value
    return statuses, corrections


def load_reviewed(store_file: str | Path, gazetteer: Gazetteer, frame: gpd.GeoDataFrame | None = None):
    """The store's incidents with its reviews applied (``frame``: the store's incidents, if already loaded)."""
    frame = store.load(store_file) if frame is None else frame
    reviews = ReviewStore(reviews_path(store_file))
    articles = {}
    if reviews.exists():
        articles = store.article_records(store_file)
    return apply(frame, reviews, gazetteer, articles)


def _apply_corrections(out: gpd.GeoDataFrame, corrections: dict[str, dict], gazetteer: Gazetteer):
    for idx in out.index[out["id"].isin(list(corrections))]:
        changes = corrections[out.at[idx, "id"]]
        for name, value in changes.items():
            if name != "place_ids":
                out.at[idx, name] = value
        if "place_ids" in changes:
            inc = _incident_from(out.loc[idx].to_dict(), changes["place_ids"])
            loc = locate([inc], gazetteer).iloc[0]
            for col in ("location_id", "geo_precision", "location_name", "departments", "province", "district",
                        "zones", "unlocated_reason"):
                out.at[idx, col] = loc[col]
            out.loc[[idx], "geometry"] = gpd.GeoSeries([loc.geometry], index=[idx], crs=4326)
        if out.at[idx, "review_status"] == "needs review":
            out.at[idx, "review_status"] = "corrected"
    return out


def _incident_from(rec: dict, place_ids: list[str]) -> Incident:
    def opt(name):
        v = rec.get(name)
        return None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v

    return Incident(
        id=rec["id"], type=rec["type"], article=rec.get("article") or "", date=opt("date"),
        date_end=opt("date_end"), date_precision=opt("date_precision"), place=opt("place"),
        place_ids=list(place_ids or []), killed=opt("killed"), wounded=opt("wounded"),
        quantity_kg=opt("quantity_kg"), substance=opt("substance"), count=opt("count"),
        actors=list(rec.get("actors") or []), reported_by=opt("reported_by"), evidence=rec.get("evidence") or "",
        evidence_start=int(rec.get("evidence_start") or 0), evidence_end=int(rec.get("evidence_end") or 0),
        unlocated_reason=None if place_ids else "no place given by the analyst")


def _manual_frame(manual: dict[str, dict], gazetteer: Gazetteer, articles: Mapping[str, dict]):
    incidents = []
    for iid, rec in manual.items():
        art = articles.get(rec["article"], {})
        text = art.get("text") or ""
        start, end = int(rec["evidence_start"]), int(rec["evidence_end"])
        full = {**rec, "id": iid, "evidence": text[start:end] if text else rec.get("evidence", "")}
        incidents.append(_incident_from(full, rec.get("place_ids") or []))
    frame = locate(incidents, gazetteer)
    for col, key in (("title", "title"), ("published", "published"), ("outlet", "outlet"), ("url", "url")):
        frame[col] = [articles.get(a, {}).get(key) for a in frame["article"]]
    frame["published_inferred"] = False
    frame["sources"] = [[{"article": a, "evidence": e}] for a, e in zip(frame["article"], frame["evidence"],
                                                                       strict=True)]
    frame["source_count"] = 1
    return frame
