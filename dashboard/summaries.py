"""Tables behind the dashboard's summaries and audit log, and their CSV form.

Core module (no Streamlit): each function takes the reviewed, filtered incident frame (or the audit trail) and
returns a plain table with stable column names; the dashboard translates the headers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from dashboard.escape import csv_cell


def _numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").fillna(0).astype(int)


def casualties_per_month(frame: pd.DataFrame) -> pd.DataFrame:
    """Killed and wounded per month of the incident's (first) date, oldest first; undated incidents left out.

    Columns ``month`` (first day of the month), ``incidents``, ``killed``, ``wounded``. Every month between the
    first and the last is listed, a quiet month with zeros, so a chart or a reader sees the gaps.
    """
    columns = ["month", "incidents", "killed", "wounded"]
    months = pd.to_datetime(frame["date"], errors="coerce").dt.to_period("M")
    dated = frame.assign(_m=months)[months.notna()]
    if dated.empty:
        return pd.DataFrame(columns=columns)
    grouped = dated.groupby("_m").agg(incidents=("id", "size"),
                                      killed=("killed", lambda s: int(_numbers(s).sum())),
                                      wounded=("wounded", lambda s: int(_numbers(s).sum())))
    span = pd.period_range(grouped.index.min(), grouped.index.max(), freq="M")
    grouped = grouped.reindex(span, fill_value=0)
    out = grouped.reset_index(names="month")
    out["month"] = [p.to_timestamp().date() for p in out["month"]]
    return out[columns].astype({"incidents": int, "killed": int, "wounded": int})


def _shares(counts: pd.Series, name: str, total: int) -> pd.DataFrame:
    """Counts as a table, most first then by name, with each count's share of ``total`` (0–1)."""
    table = counts.rename_axis(name).reset_index(name="incidents")
    table["share"] = table["incidents"] / total if total else 0.0
    return table.sort_values(["incidents", name], ascending=[False, True], ignore_index=True)


def per_actor(frame: pd.DataFrame) -> pd.DataFrame:
    """Incidents per actor named; ``share`` is of the incidents that name any actor (one may name several)."""
    actors = frame["actors"].map(lambda v: list(dict.fromkeys(v)) if isinstance(v, (list, tuple)) else [])
    named = int((actors.map(len) > 0).sum())
    return _shares(actors.explode().dropna().value_counts(), "actor", named)


def per_department(frame: pd.DataFrame) -> pd.DataFrame:
    """Incidents per department; ``share`` is of the incidents located to any department.

    An area incident counts once in every department it touches, so the shares may add up to more than 1.
    """
    deps = frame["departments"].map(lambda v: list(dict.fromkeys(v)) if isinstance(v, (list, tuple)) else [])
    placed = int((deps.map(len) > 0).sum())
    return _shares(deps.explode().dropna().value_counts(), "department", placed)


def local_zone(name: str | None) -> tzinfo:
    """The IANA zone ``name`` (the browser's), else this machine's local zone."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return datetime.now().astimezone().tzinfo


def zone_name(zone: tzinfo) -> str:
    """``America/Lima`` for an IANA zone, else the zone's abbreviation now (``UTC``, ``CET``)."""
    return getattr(zone, "key", None) or datetime.now(zone).tzname() or "UTC"


def audit_table(entries: Iterable, summaries: Mapping[str, str], zone: tzinfo) -> pd.DataFrame:
    """One row per review decision, newest first, with its time in ``zone``.

    ``entries`` are :class:`dashboard.review.AuditEntry` rows; ``summaries`` maps incident ids to a short
    description (an incident no longer in the store keeps its id only). Columns: ``time`` (timezone-aware),
    ``analyst`` (when the trail records one), ``incident``, ``incident_id``, ``action``, ``field``, ``old``,
    ``new``, ``note``.
    """
    rows = []
    for e in entries:
        at = pd.Timestamp(e.at)
        at = (at.tz_localize("UTC") if at.tzinfo is None else at).tz_convert(zone)
        rows.append({"time": at, "analyst": getattr(e, "analyst", None) or "", "incident": summaries.get(
            e.incident_id, ""), "incident_id": e.incident_id, "action": e.action, "field": e.field or "",
            "old": _value(e.old) if e.action != "added" else "", "new": _value(e.new) if e.action != "added"
            else "", "note": e.note or ""})
    columns = ["time", "analyst", "incident", "incident_id", "action", "field", "old", "new", "note"]
    table = pd.DataFrame(rows, columns=columns)
    return table.iloc[::-1].reset_index(drop=True)


def _value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def filter_audit(table: pd.DataFrame, actions: Iterable[str] = (), since: date | None = None,
                 until: date | None = None, text: str = "") -> pd.DataFrame:
    """The rows of an :func:`audit_table` that pass the filters.

    One of ``actions`` (any when empty), a local day in [since, until], and ``text`` (case-insensitive) in the
    incident, its id, the analyst, the field, the values or the note.
    """
    keep = pd.Series(True, index=table.index)
    actions = list(actions)
    if actions:
        keep &= table["action"].isin(actions)
    days = table["time"].map(lambda t: t.date())
    if since:
        keep &= days >= since
    if until:
        keep &= days <= until
    needle = text.strip().casefold()
    if needle:
        hay = table[["incident", "incident_id", "analyst", "field", "old", "new", "note"]].astype(str).agg(
            " ".join, axis=1).str.casefold()
        keep &= hay.str.contains(needle, regex=False)
    return table[keep]


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV with CRLF line ends; text a spreadsheet would run as a formula starts with ``'``.

    The rules of :func:`dashboard.export.csv_bytes`: only text cells change, numbers stay numbers.
    """
    out = table.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map(csv_cell)
    return out.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
