"""The dashboard's export panel: the selection as GeoJSON, zip, CSV and a standalone HTML map; column meanings."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import assets, escape, export, i18n, query
from dashboard.store import EXTRA_PROPERTIES, PROPERTIES
from dashboard.taxonomy import incident_types
from dashboard.ui_i18n import lang, t


def filter_lines(flt: query.Filter, language: str) -> list[tuple[str, str]]:
    """The filters of a view as (label, value) pairs in ``language``: the date range, then each filter set."""
    def tx(key: str, **fields: object) -> str:
        return i18n.text(key, language, **fields)

    types = incident_types()
    lines = []
    if flt.since or flt.until:
        since = i18n.day(flt.since, language) if flt.since else "…"
        until = i18n.day(flt.until, language) if flt.until else "…"
        lines.append((tx("ui.dates"), f"{since} – {until}"))
    if flt.types:
        lines.append((tx("ui.types"), ", ".join(types[k].label_in(language) if k in types else k
                                                for k in flt.types)))
    if flt.regions:
        lines.append((tx("ui.regions"), ", ".join(flt.regions)))
    if flt.actors:
        lines.append((tx("ui.actors"), ", ".join(flt.actors)))
    if flt.precisions:
        lines.append((tx("ui.precision"), ", ".join(i18n.label("precision", p, language) for p in flt.precisions)))
    if flt.text:
        lines.append((tx("ui.text"), f"“{flt.text}”"))
    if flt.statuses:
        lines.append((tx("ui.status"), ", ".join(i18n.label("status", s, language) for s in flt.statuses)))
    lines.append((tx("ui.background"), tx("export.yes") if flt.include_background else tx("export.no")))
    lines.append((tx("ui.undated"), tx("export.yes") if flt.include_undated else tx("export.no")))
    return lines


_HEAD_CSS = ("<style>body{display:flex;flex-direction:column;margin:0}"
             ".im-export-head{flex:none;font:14px/1.35 system-ui,sans-serif;padding:8px 12px;"
             "border-bottom:1px solid #ccc;background:#fff}.im-export-head h1{font-size:18px;margin:0 0 4px}"
             ".im-export-head ul{margin:2px 0;padding-left:18px}.im-export-head .im-when{color:#555}"
             ".folium-map{flex:1 1 auto;height:auto!important;min-height:0}</style>")


def export_header(title: str, lines: list[tuple[str, str]], exported: str, language: str) -> str:
    """The HTML header of a standalone map: its title, the filters used and the export date, all escaped."""
    items = "".join(f"<li><b>{escape.html_text(k)}:</b> {escape.html_text(v)}</li>" for k, v in lines)
    when = escape.html_text(i18n.text("export.exported", language, when=exported))
    return (f"<header class='im-export-head'><h1>{escape.html_text(title)}</h1>"
            f"<div>{escape.html_text(i18n.text('export.filters', language))}</div><ul>{items}</ul>"
            f"<div class='im-when'>{when}</div></header>")


def standalone_map_html(fmap, header: str = "", title: str = "") -> bytes:
    """The map as one HTML file that works offline (Leaflet and plugins inlined).

    ``header`` (HTML, already escaped) goes above the map; ``title`` (plain text) is the document's title.
    """
    page = assets.inline(fmap.get_root().render())
    if title:
        page = re.sub(r"<head>", lambda _m: f"<head><title>{escape.html_text(title)}</title>", page, count=1)
    if header:
        page = re.sub(r"<body>", lambda _m: f"<body>{_HEAD_CSS}{header}", page, count=1)
    return page.encode("utf-8")


def field_descriptions(language: str) -> pd.DataFrame:
    """Every exported property: its name in the files, its label and what it means, in ``language``."""
    return pd.DataFrame([{i18n.text("export.property", language): name,
                          i18n.text("export.label", language): i18n.text(f"field.{name}", language),
                          i18n.text("export.meaning", language): i18n.text(f"field.{name}.help", language)}
                         for name in PROPERTIES + EXTRA_PROPERTIES])


def export_panel(frame: gpd.GeoDataFrame, flt: query.Filter, make_map: Callable[[], object]) -> None:
    """Download buttons for the current selection, then the table of exported columns.

    Files are made when a button is pressed (deferred data), not on every rerun: a filter change on a large
    store must not serialise every export. on_click="ignore": a click that also reran the script re-registered
    every deferred file under a new id while the browser was fetching the old one ("Deferred file ... not
    found"), and the download spun forever. Fixed keys keep each button's id stable across reruns.
    """
    st.caption(t("export.caption", n=i18n.number(len(frame), lang())))
    language = lang()

    def html() -> bytes:
        # runs when the button is pressed, outside the script's run: no session state, so the language is bound
        title = i18n.text("export.map_title", language)
        stamp = datetime.now().astimezone()
        exported = f"{i18n.day(stamp.date(), language)} {stamp:%H:%M %Z}"
        return standalone_map_html(make_map(), export_header(title, filter_lines(flt, language), exported,
                                                             language), title)

    c1, c2, c3, c4 = st.columns(4)
    c1.download_button(t("export.geojson"), lambda: export.geojson_bytes(frame), "incidents.geojson",
                       "application/geo+json", key="dl_geojson", on_click="ignore")
    c2.download_button(t("export.zip"), lambda: export.geojson_zip_bytes(frame), "incidents-by-type.zip",
                       "application/zip", key="dl_zip", on_click="ignore")
    c3.download_button(t("export.csv"), lambda: export.csv_bytes(frame), "incidents.csv", "text/csv", key="dl_csv",
                       on_click="ignore")
    c4.download_button(t("export.html"), html, "incident-map.html", "text/html", key="dl_html", on_click="ignore")
    st.subheader(t("export.columns"))
    st.dataframe(field_descriptions(language), hide_index=True, width="stretch")
