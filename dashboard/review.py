"""An analyst's review: confirm, correct or reject incidents, and add the ones the extractor missed.

Reviews live in their own SQLite file beside the store (``incidents.reviews.sqlite``), apart from extraction
output, so rebuilds and re-extraction never touch them; incident ids are stable, so reviews find their incidents
again. Every change is one transaction (two browser tabs reviewing at once lose no edit: corrections are kept per
field) and leaves an audit row: what changed, when, from what to what.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from dashboard.errors import IncidentMapError
from dashboard.extraction import Incident
from dashboard.gazetteer import Gazetteer
from dashboard.regions import locate

STATUSES = ("needs review", "confirmed", "corrected", "rejected", "added")
#: Fields an analyst may correct, with the type a value must have.
FIELDS = {"type": str, "date": str, "date_end": str, "date_precision": str, "place_ids": list, "place": str,
          "killed": int, "wounded": int, "quantity_kg": float, "substance": str, "count": int, "actors": list}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (incident_id TEXT PRIMARY KEY, status TEXT NOT NULL, updated_at TEXT);
CREATE TABLE IF NOT EXISTS corrections (incident_id TEXT, field TEXT, value TEXT, updated_at TEXT,
    PRIMARY KEY (incident_id, field));
CREATE TABLE IF NOT EXISTS manual (id TEXT PRIMARY KEY, record TEXT NOT NULL, created_at TEXT);
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, incident_id TEXT NOT NULL,
    action TEXT NOT NULL, field TEXT, old TEXT, new TEXT, note TEXT);
"""


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


def reviews_path(store_file: str | Path) -> Path:
    """The review file that belongs to a store file."""
    p = Path(store_file)
    return p.with_name(p.stem + ".reviews.sqlite")


class ReviewStore:
    """Reviews for one store.

    Parameters
    ----------
    path
        The review file (see :func:`reviews_path`); created on first write.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")  # readers never block the one writer
        con.executescript(_SCHEMA)
        return con

    def _write(self, fn) -> None:
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")  # one writer at a time; a second tab waits, then applies on top
            try:
                fn(con, datetime.now(UTC).isoformat(timespec="seconds"))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()

    # ------------------------------------------------------------------ actions
    def set_status(self, incident_id: str, status: str, note: str | None = None) -> None:
        """Confirm or reject an incident (or send it back to "needs review")."""
        if status not in ("confirmed", "rejected", "needs review"):
            raise ReviewError(f"status {status!r} cannot be set; use confirmed, rejected or needs review")

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
                                                       json.dumps(_plain(old), ensure_ascii=False),
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

        def run(con, now):
            con.execute("INSERT INTO manual VALUES (?,?,?) ON CONFLICT(id) DO UPDATE SET record=excluded.record",
                        (new_id, json.dumps(dict(record), ensure_ascii=False), now))
            con.execute("INSERT INTO audit (at, incident_id, action, field, old, new, note) VALUES (?,?,?,?,?,?,?)",
                        (now, new_id, "added", None, None, json.dumps(dict(record), ensure_ascii=False), note))
        self._write(run)
        return new_id

    # ------------------------------------------------------------------ reading
    def snapshot(self) -> tuple[dict[str, str], dict[str, dict], dict[str, dict]]:
        """Statuses, corrections (id -> field -> value) and manual incidents (id -> record)."""
        if not self.path.exists():
            return {}, {}, {}
        con = self._connect()
        try:
            statuses = dict(con.execute("SELECT incident_id, status FROM decisions").fetchall())
            corrections: dict[str, dict] = {}
            for iid, name, value in con.execute("SELECT incident_id, field, value FROM corrections"):
                corrections.setdefault(iid, {})[name] = json.loads(value)
            manual = {iid: json.loads(rec) for iid, rec in con.execute("SELECT id, record FROM manual")}
        finally:
            con.close()
        return statuses, corrections, manual

    def history(self, incident_id: str | None = None) -> list[AuditEntry]:
        """The audit trail, oldest first (of one incident, or of all)."""
        if not self.path.exists():
            return []
        con = self._connect()
        try:
            sql = "SELECT at, incident_id, action, field, old, new, note FROM audit"
            rows = (con.execute(sql + " WHERE incident_id=? ORDER BY seq", (incident_id,)) if incident_id
                    else con.execute(sql + " ORDER BY seq")).fetchall()
        finally:
            con.close()
        return [AuditEntry(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else None,
                           json.loads(r[5]) if r[5] else None, r[6]) for r in rows]


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


def _plain(value):
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def apply(frame: gpd.GeoDataFrame, reviews: ReviewStore, gazetteer: Gazetteer,
          articles: Mapping[str, dict] | None = None) -> gpd.GeoDataFrame:
    """The incidents as reviewed: a ``review_status`` column, corrections applied, added incidents appended.

    Rejected incidents stay in the frame (marked); filters hide them by default. Corrected places are located
    again with the gazetteer. ``articles`` (name -> stored record) gives added incidents their evidence text.
    """
    statuses, corrections, manual = reviews.snapshot()
    out = frame.copy(deep=False)  # new and corrected columns only; the cached frame stays as loaded
    if corrections:
        out = frame.copy()
    out["review_status"] = [statuses.get(i, "needs review") for i in out["id"]]
    if corrections:
        out = _apply_corrections(out, corrections, gazetteer)
    if manual:
        added = _manual_frame(manual, gazetteer, articles or {})
        added["review_status"] = [statuses.get(i, "added") for i in added["id"]]
        out = pd.concat([out, added], ignore_index=True)
        out = gpd.GeoDataFrame(out, geometry="geometry", crs=4326)
    return out


def load_reviewed(store_file: str | Path, gazetteer: Gazetteer, frame: gpd.GeoDataFrame | None = None):
    """The store's incidents with its reviews applied (``frame``: the store's incidents, if already loaded)."""
    from dashboard import store  # the store does not depend on reviews; only this helper joins them

    frame = store.load(store_file) if frame is None else frame
    reviews = ReviewStore(reviews_path(store_file))
    articles = {}
    if reviews.path.exists():
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
