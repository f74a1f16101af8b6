"""The one incident schema: every field of an incident, defined once.

Each :class:`Field` says its name, its kind, whether it holds a list, whether it may be missing, whether an
analyst may correct it, where an export puts it and where its value comes from. Everything else is derived from
:data:`FIELDS`: the SQLite ``incidents`` table and its insert (:func:`sqlite_incidents_ddl`,
:data:`STORED`), the PostGIS table (:mod:`dashboard.store_pg`), the export properties (:data:`PROPERTIES`,
:data:`EXTRA_PROPERTIES`, :data:`LIST_COLUMNS`), the fields a review may correct (:data:`REVIEWABLE`), and the
one missing-value rule (:func:`plain`, :func:`stored_value`).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from datetime import date
from typing import Literal

#: ``text``; ``date`` (ISO text); ``int``; ``figure`` (a stated number: an integer, a real beyond 64 bits);
#: ``real``; ``bool``; ``json`` (a structured value: the list of source reports).
Kind = Literal["text", "date", "int", "figure", "real", "bool", "json"]
#: Where a field's value comes from: the ``incidents`` table, the incident's article, its location's footprint,
#: the review store, or computed when the store is read.
Source = Literal["incident", "article", "location", "review", "derived"]

_INT64 = (-(2**63), 2**63)


@dataclass(frozen=True)
class Field:
    """One field of an incident.

    Parameters
    ----------
    name
        Stable name: the store column, the export property and the table column.
    kind
        Value kind (see :data:`Kind`); a list field holds a list of this kind.
    is_list
        Whether the field holds a list (missing: the empty list).
    nullable
        Whether the value may be missing (None).
    reviewable
        Whether an analyst may correct it.
    export
        ``"stable"`` (the public properties, in this order), ``"extra"`` (after them) or None (not exported).
    source
        Where the value comes from (see :data:`Source`).
    references
        ``table(column)`` a stored value refers to, if any.
    """

    name: str
    kind: Kind
    is_list: bool = False
    nullable: bool = True
    reviewable: bool = False
    export: Literal["stable", "extra"] | None = "stable"
    source: Source = "incident"
    references: str | None = None

    @property
    def stored(self) -> bool:
        """Whether the field is a column of the ``incidents`` table."""
        return self.source == "incident"

    @property
    def python_type(self) -> type:
        """The Python type of a (corrected) value: ``list`` for list fields."""
        if self.is_list:
            return list
        return {"int": int, "figure": int, "real": float, "bool": bool, "json": list}.get(self.kind, str)

    def missing(self) -> object:
        """The value of a missing field: ``[]`` for lists, ``False`` for flags, else None."""
        if self.is_list or self.kind == "json":
            return []
        return False if self.kind == "bool" and not self.nullable else None


def _f(name: str, kind: Kind = "text", **kw) -> Field:
    return Field(name, kind, **kw)


#: Every field, in export order (stable properties, then extra ones), then the stored-only ones.
FIELDS: tuple[Field, ...] = (
    _f("id", nullable=False),
    _f("type", nullable=False, reviewable=True),
    _f("date", "date", reviewable=True),
    _f("date_end", "date", reviewable=True),
    _f("date_precision", reviewable=True),
    _f("place", reviewable=True),
    _f("location_id"),  # a gazetteer id: only footprints have a row in `locations`
    _f("geo_precision"),
    _f("departments", is_list=True),
    _f("province"),
    _f("district"),
    _f("zones", is_list=True),
    _f("killed", "figure", reviewable=True),
    _f("wounded", "figure", reviewable=True),
    _f("quantity_kg", "real", reviewable=True),
    _f("substance", reviewable=True),
    _f("count", "figure", reviewable=True),
    _f("actors", is_list=True, reviewable=True),
    _f("reported_by"),
    _f("article", nullable=False, references="articles(name)"),
    _f("title", source="article"),
    _f("published", "date", source="article"),
    _f("evidence"),
    _f("background", "bool", nullable=False),
    _f("location_name", export="extra", source="location"),
    _f("unlocated_reason", export="extra"),
    _f("outlet", export="extra", source="article"),
    _f("url", export="extra", source="article"),
    _f("published_inferred", "bool", nullable=False, export="extra", source="article"),
    _f("evidence_start", "int", nullable=False, export="extra"),
    _f("evidence_end", "int", nullable=False, export="extra"),
    _f("source_count", "int", nullable=False, export="extra", source="derived"),
    _f("sources", "json", export="extra"),
    _f("review_status", nullable=False, export="extra", source="review"),
    _f("language", export="extra"),
    _f("flags", is_list=True, export="extra"),
    _f("confidence", "real", export="extra"),
    # stored only: a point's coordinates (a footprint's representative point), the ids an incident replaces
    _f("lon", "real", export=None),
    _f("lat", "real", export=None),
    _f("former_ids", is_list=True, export=None),
    # read only: the gazetteer ids of the place (``location_id`` split at ``+``), which a review may correct
    _f("place_ids", is_list=True, reviewable=True, export=None, source="derived"),
)
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
#: Feature properties, in order: the stable public schema of every export (see README).
PROPERTIES: list[str] = [f.name for f in FIELDS if f.export == "stable"]
#: Extra properties, after the stable ones.
EXTRA_PROPERTIES: list[str] = [f.name for f in FIELDS if f.export == "extra"]
#: Exported fields holding lists of names (joined with ``"; "`` in flat formats).
LIST_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.is_list and f.export)
#: The columns of the ``incidents`` table, in table order.
STORED: tuple[Field, ...] = tuple(f for f in FIELDS if f.stored)
STORED_NAMES: tuple[str, ...] = tuple(f.name for f in STORED)
#: The fields an analyst may correct, with the Python type a corrected value must have.
REVIEWABLE: dict[str, type] = {f.name: f.python_type for f in FIELDS if f.reviewable}
#: The frame columns the store reads when writing incidents: the stored ones, and the location's name.
FRAME_COLUMNS: tuple[str, ...] = (*STORED_NAMES, "location_name")

_SQLITE_TYPES = {"text": "TEXT", "date": "TEXT", "int": "INTEGER", "figure": "INTEGER", "real": "REAL",
                 "bool": "INTEGER", "json": "TEXT"}


def sqlite_incidents_ddl() -> str:
    """``CREATE TABLE incidents``: one column per stored field (lists and JSON as JSON text)."""
    columns = []
    for f in STORED:
        sql = f"{f.name} {'TEXT' if f.is_list else _SQLITE_TYPES[f.kind]}"
        if f.name == "id":
            sql += " PRIMARY KEY"
        elif not f.nullable:
            sql += " NOT NULL"
        if f.references:
            sql += f" REFERENCES {f.references}"
        columns.append(sql)
    return "CREATE TABLE incidents (\n    " + ",\n    ".join(columns) + ")"


def sqlite_insert(table: str, names: tuple[str, ...], verb: str = "INSERT") -> str:
    """An insert naming its columns, so a table's column order never matters."""
    return f"{verb} INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"


# ------------------------------------------------------------------------------------------- missing values
def is_missing(value: object) -> bool:
    """Whether a scalar is a missing value: None, ``pd.NA``, NaN, ``NaT`` (a list is never missing)."""
    if value is None:
        return True
    loaded = sys.modules.get("pandas")  # without pandas imported, no value is one of its markers
    if loaded is not None and (value is loaded.NA or value is loaded.NaT):
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, (str, int, date, list, tuple, dict, bytes)):
        return False  # plain values, as a few incidents written without pandas have them
    import pandas as pd

    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict, str, bytes)) else False
    except (TypeError, ValueError):
        return False


def plain(value: object) -> object:
    """A value as plain JSON-able Python: missing and non-finite numbers None, numpy scalars unwrapped.

    Lists, tuples and mappings are converted element by element (a tuple becomes a list).
    """
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)) and getattr(value, "ndim", 0) > 0:
        return [plain(v) for v in value.tolist()]  # a numpy array (pyarrow lists come back as arrays)
    if is_missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None  # an infinity is no figure (and no JSON)
    return value


def stored_value(f: Field, value: object) -> object:
    """``value`` as field ``f`` stores it: the missing-value rule, then its kind.

    Lists are plain lists (missing: empty); a figure beyond 64-bit integers is a real, never an overflow; an
    infinity is missing.
    """
    if f.is_list or f.kind == "json":
        value = plain(value)
        return value if isinstance(value, list) else []
    value = plain(value)
    if value is None:
        return f.missing()
    if f.kind == "bool":
        return bool(value)
    if f.kind == "int":
        return int(value)
    if f.kind == "figure":
        number = int(value)
        return number if _INT64[0] <= number < _INT64[1] else _real(number)
    if f.kind == "real":
        return _real(value)
    return value


def _real(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
