"""Filtering incidents: one function that the CLI export and the dashboard share, so they always agree.

A frame that is filtered again and again (the dashboard's, up to a million rows) is first given a few derived
columns by :func:`prepare`; :func:`apply` uses them when they are there and computes the same thing otherwise, so
the answer never depends on whether a frame was prepared (``tests/test_query.py`` checks both ways agree).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard.gazetteer import normalize


@dataclass(frozen=True)
class Filter:
    """A filter over incidents; empty fields do not filter.

    ``since``/``until`` keep incidents whose date range overlaps them; incidents without a date are kept only with
    ``include_undated``. ``regions`` match departments, zones, provinces or districts by name (accents and case
    ignored). ``text`` searches the evidence, place and title. Rejected incidents (see :mod:`dashboard.review`)
    are left out unless asked for.
    """

    types: Sequence[str] = ()
    since: date | None = None
    until: date | None = None
    regions: Sequence[str] = ()
    actors: Sequence[str] = ()
    precisions: Sequence[str] = ()
    text: str = ""
    include_background: bool = False
    include_undated: bool = True
    statuses: Sequence[str] = ()
    include_rejected: bool = False


#: The columns :func:`prepare` adds. They start with "_", like every working column, so that exports, the table and
#: popups (which name the fields they show) never show them.
PREPARED = ("_start", "_end", "_month", "_places", "_actors")


def prepare(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the columns that let :func:`apply` filter a large frame in array operations; returns ``frame``.

    ``_start``/``_end``: the date range parsed once (``_month``: the start's month, for the timeline).
    ``_places`` and ``_actors``: categoricals whose categories are the distinct (departments, zones, province,
    district) and actor lists as JSON, so a region or actor filter tests a few thousand distinct values instead
    of every row. Lists must not be changed in place afterwards
    (the dashboard's frame is shared read-only).
    """
    start = pd.to_datetime(frame["date"], errors="coerce")
    frame["_start"] = start
    frame["_end"] = pd.to_datetime(frame["date_end"], errors="coerce").fillna(start)
    frame["_month"] = start.dt.to_period("M").dt.to_timestamp()
    n = len(frame)
    deps, zones, province, district, actors = (frame[c].to_numpy(dtype=object)
                                               for c in ("departments", "zones", "province", "district", "actors"))
    frame["_places"] = _categories([_list_codes(deps), _list_codes(zones), _text_codes(province),
                                    _text_codes(district)], n,
                                   lambda r: [_list(deps[r]), _list(zones[r]), _text(province[r]), _text(district[r])])
    frame["_actors"] = _categories([_list_codes(actors)], n, lambda r: [_list(actors[r])])
    return frame


def _list(value) -> list:
    return list(value) if isinstance(value, (list, tuple, np.ndarray)) else []


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _text_codes(values: np.ndarray) -> np.ndarray:
    """Equal texts get equal codes; anything else (None, NaN) is -1."""
    return pd.factorize(np.where([isinstance(v, str) for v in values], values, None))[0]


def _list_codes(values: np.ndarray) -> np.ndarray:
    """Lists with equal items get equal codes.

    Each list object is read once: the store gives equal cells one shared list, so a million cells are a few
    thousand objects.
    """
    by_object, _ = pd.factorize(np.fromiter(map(id, values), dtype=np.int64, count=len(values)))
    _, first = np.unique(by_object, return_index=True)
    seen: dict[tuple, int] = {}
    content = np.fromiter((seen.setdefault(tuple(_list(values[i])), len(seen)) for i in first), dtype=np.int64,
                          count=len(first))
    return content[by_object] if len(values) else by_object


def _categories(codes: list[np.ndarray], n: int, row) -> pd.Categorical:
    """A categorical over rows whose columns have the given codes.

    One category per distinct combination: the JSON text of ``row(i)`` for its first row ``i``.
    """
    combined = np.zeros(n, dtype=np.int64)
    for c in codes:  # codes stay below n, so the product stays far below 2**63
        combined = pd.factorize(combined * (int(c.max(initial=-1)) + 2) + (c + 1))[0]
    _, first = np.unique(combined, return_index=True)
    return pd.Categorical.from_codes(combined.astype(np.int32),
                                     categories=[json.dumps(row(i), ensure_ascii=False) for i in first])


def _matching(column: pd.Series, test) -> np.ndarray:
    """``test`` applied to each distinct value of a :func:`prepare` categorical, spread back to the rows."""
    hits = np.fromiter((bool(test(json.loads(c))) for c in column.cat.categories), dtype=bool,
                       count=len(column.cat.categories))
    return hits[column.cat.codes.to_numpy()]


def apply(frame: gpd.GeoDataFrame, flt: Filter) -> gpd.GeoDataFrame:
    """The rows of ``frame`` that pass ``flt``, in the same order (faster on a frame given to :func:`prepare`)."""
    if frame.empty:
        return frame
    keep = pd.Series(True, index=frame.index)
    if not flt.include_background:
        keep &= ~frame["background"].astype(bool)
    if "review_status" in frame:
        if not flt.include_rejected and "rejected" not in flt.statuses:
            keep &= frame["review_status"].ne("rejected")
        if flt.statuses:
            keep &= frame["review_status"].isin(list(flt.statuses))
    if flt.types:
        keep &= frame["type"].isin(list(flt.types))
    if flt.since or flt.until:
        if "_start" in frame:
            start, end = frame["_start"], frame["_end"]
        else:
            start = pd.to_datetime(frame["date"], errors="coerce")
            end = pd.to_datetime(frame["date_end"], errors="coerce").fillna(start)
        dated = start.notna()
        ok = pd.Series(True, index=frame.index)
        if flt.since:
            ok &= end >= pd.Timestamp(flt.since)
        if flt.until:
            ok &= start <= pd.Timestamp(flt.until)
        keep &= (dated & ok) | (~dated & flt.include_undated)
    if flt.regions:
        wanted = {normalize(r) for r in flt.regions}
        if "_places" in frame:
            keep &= _matching(frame["_places"], lambda row: wanted & _region_names(row))
        else:
            hits = [bool(wanted & _region_names(row)) for row in frame[["departments", "zones", "province",
                                                                        "district"]].itertuples(index=False)]
            keep &= pd.Series(hits, index=frame.index, dtype=bool)
    if flt.actors:
        wanted_actors = set(flt.actors)
        if "_actors" in frame:
            keep &= _matching(frame["_actors"], lambda row: wanted_actors & set(row[0] or []))
        else:
            keep &= frame["actors"].map(lambda a: bool(wanted_actors & set(a or []))).astype(bool)
    if flt.precisions:
        keep &= frame["geo_precision"].fillna("unknown").isin(list(flt.precisions))
    if flt.text.strip():
        # each field searched on its own (Arrow's case-insensitive substring search, no joined copy of every
        # text): a million rows take a fraction of a second
        needle = flt.text.strip()
        found = pd.Series(False, index=frame.index)
        for col in ("evidence", "place", "title"):
            if col in frame:
                found |= frame[col].astype("string").str.contains(needle, case=False, regex=False).fillna(False)
        keep &= found
    return frame[keep.to_numpy()]


def _region_names(row) -> set[str]:
    deps, zones, province, district = row
    names = set(deps or []) | set(zones or [])
    names |= {n for n in (province, district) if isinstance(n, str)}
    return {normalize(n) for n in names}
