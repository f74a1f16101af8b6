"""Filtering incidents: one function that the CLI export and the dashboard share, so they always agree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
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


def apply(frame: gpd.GeoDataFrame, flt: Filter) -> gpd.GeoDataFrame:
    """The rows of ``frame`` that pass ``flt``, in the same order."""
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
        hits = [bool(wanted & _region_names(row)) for row in frame[["departments", "zones", "province",
                                                                    "district"]].itertuples(index=False)]
        keep &= pd.Series(hits, index=frame.index, dtype=bool)
    if flt.actors:
        wanted_actors = set(flt.actors)
        keep &= frame["actors"].map(lambda a: bool(wanted_actors & set(a or []))).astype(bool)
    if flt.precisions:
        keep &= frame["geo_precision"].fillna("unknown").isin(list(flt.precisions))
    if flt.text.strip():
        needle = flt.text.strip().lower()
        hay = (frame["evidence"].fillna("") + " " + frame["place"].fillna("") + " "
               + frame.get("title", pd.Series("", index=frame.index)).fillna("")).str.lower()
        keep &= hay.str.contains(needle, regex=False)
    return frame[keep.to_numpy()]


def _region_names(row) -> set[str]:
    deps, zones, province, district = row
    names = set(deps or []) | set(zones or [])
    names |= {n for n in (province, district) if isinstance(n, str)}
    return {normalize(n) for n in names}
