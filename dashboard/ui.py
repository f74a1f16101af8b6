"""The Streamlit dashboard. ``streamlit_app.py`` calls :func:`main`; nothing in the core imports this module.

Views read the store; they never re-run the pipeline. Loaders are cached (``st.cache_resource``: the incident frame
is shared read-only, not copied on every rerun), so a filter change only filters, aggregates and draws.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from pathlib import Path

import altair as alt
import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import assets, escape, export, i18n, mapview, pipeline, query, review, store, ui_map
from dashboard.errors import IncidentMapError
from dashboard.gazetteer import PRECISION, default_gazetteer
from dashboard.review import ReviewStore, reviews_path
from dashboard.taxonomy import incident_types
from dashboard.ui_i18n import lang, language_switch, t, url_param
from dashboard.ui_review import REVIEW_MESSAGE, add_incident_form, review_panel
from dashboard.ui_upload import upload_tab

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
PRECISIONS = list(PRECISION) + ["unknown"]
LOG = logging.getLogger(__name__)

# URL query parameter <-> widget key; lists are comma-separated in the URL.
_LIST_PARAMS = {"type": "f_types", "region": "f_regions", "actor": "f_actors", "prec": "f_prec",
                "status": "f_status"}
_SCALAR_PARAMS = {"q": "f_text", "bg": "f_background", "undated": "f_undated", "basemap": "f_basemap",
                  "shade": "f_shade"}


@st.cache_resource(show_spinner=False)
def _static_assets() -> Path:
    return assets.install(STATIC)


@st.cache_resource(show_spinner="Loading the gazetteer…")
def _regions() -> dict[str, gpd.GeoDataFrame]:
    g = default_gazetteer()
    deps = g.department_frame()
    deps["geometry"] = deps.geometry.simplify(0.01, preserve_topology=True)
    zones = g.zone_frame()
    countries = g.country_outlines[["name", "geometry"]].copy()
    countries["geometry"] = countries.geometry.simplify(0.02, preserve_topology=True)
    return {"departments": deps, "zones": zones, "countries": countries}


@st.cache_resource(show_spinner="Loading incidents…", max_entries=2)
def _incidents(path: str, mtime: float) -> gpd.GeoDataFrame:
    # mtime is part of the cache key: a rebuilt store is loaded again, an unchanged one never.
    frame = store.load(path)
    # the timeline's month, computed once rather than on every rerun
    frame["_month"] = pd.to_datetime(frame["date"], errors="coerce").dt.to_period("M").dt.to_timestamp()
    return frame


@st.cache_resource(show_spinner=False, max_entries=2)
def _articles(path: str, mtime: float) -> dict[str, dict]:
    """Stored articles by name (text and metadata), for reviews and the article view."""
    return store.article_records(path)


def _reviews_version(path: Path) -> int:
    """Changes whenever a review is saved (WAL mode writes the -wal file first)."""
    rp = reviews_path(path)
    files = [rp, rp.with_name(rp.name + "-wal")]
    return max((f.stat().st_mtime_ns + f.stat().st_size for f in files if f.exists()), default=0)


@st.cache_resource(show_spinner=False, max_entries=4)
def _reviewed(path: Path, mtime: float, reviews_version: int) -> gpd.GeoDataFrame:
    """The cached incidents with the reviews applied, again only when the store or the reviews change."""
    frame = review.apply(_incidents(str(path), mtime), ReviewStore(reviews_path(path)), default_gazetteer(),
                         _articles(str(path), mtime))
    if frame["_month"].isna().any():  # incidents added by an analyst
        frame["_month"] = pd.to_datetime(frame["date"], errors="coerce").dt.to_period("M").dt.to_timestamp()
    return frame


@st.cache_resource(show_spinner=False, max_entries=4)
def _options(path: Path, mtime: float, reviews_version: int) -> dict:
    """Choices for the sidebar, computed once per store and review state.

    Type counts are those of the map with no filter: reviews applied, rejected incidents and background
    statistics left out.
    """
    frame = _reviewed(path, mtime, reviews_version)
    events = frame[~frame["background"] & frame["review_status"].ne("rejected")]
    return {
        "counts": events["type"].value_counts().to_dict(),
        "regions": sorted(set(frame["departments"].explode().dropna()) | set(frame["zones"].explode().dropna())),
        "actors": sorted(set(frame["actors"].explode().dropna())),
        "dates": _date_bounds(frame),
    }


def _map(frame: gpd.GeoDataFrame, basemap: str, shade: bool):
    # Built on each run that needs it (a filter change): a folium Map rendered twice grows duplicate header
    # elements, so the Map itself is not cached; its inputs (incidents, outlines) are.
    r = _regions()
    return mapview.build_map(frame, departments=r["departments"], zones=r["zones"], countries=r["countries"],
                             choropleth=shade, basemap=basemap, lang=lang())


def _ensure_store() -> Path:
    path = store.store_path()
    if not pipeline.needs_build(path):
        return path
    label = ("Updating the incident store to this version…" if path.exists()
             else "First run: building the incident store from seeds/…")
    with st.status(label, expanded=True) as status:
        bar = st.progress(0.0)

        def progress(done: int, total: int, name: str) -> None:
            # progress text is Markdown; an article's file name is not
            bar.progress(done / total, text=f"{done}/{total} articles · {escape.markdown(name)}")

        report = pipeline.build(path=path, progress=progress)
        status.update(label=f"Built the store: {report.articles} articles, {report.incidents} incidents",
                      state="complete", expanded=False)
    return path


def _clear_caches() -> None:
    """Forget every loaded frame, so the next run reads the store again (after an upload saved articles)."""
    for loader in (_incidents, _articles, _reviewed, _options):
        loader.clear()


def _follow_data(bounds: tuple[date, date]) -> None:
    """Move a date range left at the data's first or last date along when the data grows (or shrinks).

    An end the analyst chose is kept (only clamped into the data's range): without this, a saved upload
    dated after the old last date is counted but never drawn, and the stale end is written to the URL.
    """
    old = st.session_state.get("_bounds")
    st.session_state["_bounds"] = bounds
    chosen = st.session_state.get("f_dates")
    if old is None or old == bounds or not isinstance(chosen, (tuple, list)) or len(chosen) != 2:
        return
    lo, hi = bounds
    since = lo if chosen[0] == old[0] else chosen[0]
    until = hi if chosen[1] == old[1] else chosen[1]
    st.session_state["f_dates"] = (max(lo, min(since, hi)), max(lo, min(until, hi)))


def _init_state(bounds: tuple[date, date]) -> None:
    """Set widget defaults once per session, from the URL when it carries a filter."""
    if st.session_state.get("_init"):
        _follow_data(bounds)
        return
    st.session_state["_bounds"] = bounds
    st.session_state["sel_id"] = st.query_params.get("incident") or None
    qp = st.query_params
    for param, key in _LIST_PARAMS.items():
        value = qp.get(param)
        st.session_state[key] = [v for v in value.split(",") if v] if value else []
    st.session_state["f_text"] = qp.get("q", "")
    st.session_state["f_background"] = qp.get("bg") == "1"
    st.session_state["f_undated"] = qp.get("undated", "1") == "1"
    st.session_state["f_basemap"] = qp.get("basemap", "offline") if qp.get("basemap") in mapview.TILES \
        else "offline"
    st.session_state["f_shade"] = qp.get("shade") == "1"
    lo, hi = bounds
    since, until = _parse_date(qp.get("since")) or lo, _parse_date(qp.get("until")) or hi
    st.session_state["f_dates"] = (max(lo, min(since, hi)), max(lo, min(until, hi)))
    # drop values the data does not have (an old bookmark), rather than failing
    types = incident_types()
    st.session_state["f_types"] = [t for t in st.session_state["f_types"] if t in types]
    st.session_state["f_prec"] = [p for p in st.session_state["f_prec"] if p in PRECISIONS]
    st.session_state["f_status"] = [p for p in st.session_state["f_status"] if p in review.STATUSES]
    st.session_state["_init"] = True


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _date_bounds(frame: gpd.GeoDataFrame) -> tuple[date, date]:
    starts = pd.to_datetime(frame["date"], errors="coerce").dropna()
    ends = pd.to_datetime(frame["date_end"], errors="coerce").dropna()
    if starts.empty:
        today = date.today()
        return today, today
    return starts.min().date(), max(ends.max(), starts.max()).date()


def _sync_url(flt: query.Filter, lo: date, hi: date) -> None:
    params = url_param()
    for param, key in _LIST_PARAMS.items():
        if st.session_state.get(key):
            params[param] = ",".join(st.session_state[key])
    if flt.since and flt.since != lo:
        params["since"] = flt.since.isoformat()
    if flt.until and flt.until != hi:
        params["until"] = flt.until.isoformat()
    if flt.text:
        params["q"] = flt.text
    if flt.include_background:
        params["bg"] = "1"
    if not flt.include_undated:
        params["undated"] = "0"
    if st.session_state.get("f_basemap", "offline") != "offline":
        params["basemap"] = st.session_state["f_basemap"]
    if st.session_state.get("f_shade"):
        params["shade"] = "1"
    if st.session_state.get("sel_id"):  # the incident under review, by id: a shared link opens the same one
        params["incident"] = st.session_state["sel_id"]
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


def _sidebar(options: dict) -> query.Filter:
    types = incident_types()
    counts = options["counts"]
    lo, hi = options["dates"]
    sb = st.sidebar
    language_switch(sb)
    sb.header("Filters")
    dates = sb.date_input("Date range", min_value=lo, max_value=hi, key="f_dates",
                          help="Incidents whose date range overlaps this one.")
    sb.multiselect("Incident types", list(types), key="f_types",
                   format_func=lambda k: f"{types[k].label_in(lang())} ({int(counts.get(k, 0))})",
                   placeholder="All types")
    sb.multiselect("Departments and zones", options["regions"], key="f_regions", placeholder="All of Peru")
    sb.multiselect("Actors", options["actors"], key="f_actors", placeholder="Any actor")
    sb.multiselect("Location precision", PRECISIONS, key="f_prec", placeholder="Any precision",
                   format_func=lambda p: i18n.label("precision", p, lang()))
    sb.text_input("Search the evidence", key="f_text", placeholder="e.g. helicopters, Callao")
    sb.checkbox("Include background statistics", key="f_background",
                help="Aggregates such as '185 airstrips destroyed in 2014' are not events; off by default.")
    sb.checkbox("Include incidents without a date", key="f_undated")
    sb.multiselect("Review status", list(review.STATUSES), key="f_status", placeholder="Any status",
                   format_func=lambda s: i18n.label("status", s, lang()),
                   help="Rejected incidents are hidden unless chosen here.")
    ui_map.sidebar(sb)
    since, until = (dates[0], dates[1]) if isinstance(dates, (tuple, list)) and len(dates) == 2 else (lo, hi)
    flt = query.Filter(types=tuple(st.session_state["f_types"]), since=since, until=until,
                       regions=tuple(st.session_state["f_regions"]), actors=tuple(st.session_state["f_actors"]),
                       precisions=tuple(st.session_state["f_prec"]), text=st.session_state["f_text"],
                       include_background=st.session_state["f_background"],
                       include_undated=st.session_state["f_undated"],
                       statuses=tuple(st.session_state["f_status"]))
    return flt


def headline(frame: pd.DataFrame) -> dict[str, float]:
    """The headline figures of a filtered frame."""
    airstrips = frame.loc[frame["type"] == "airstrip_destruction", "count"]
    return {
        "Incidents": len(frame),
        "Killed": int(pd.to_numeric(frame["killed"], errors="coerce").fillna(0).sum()),
        "Wounded": int(pd.to_numeric(frame["wounded"], errors="coerce").fillna(0).sum()),
        "Kilograms seized": float(pd.to_numeric(frame["quantity_kg"], errors="coerce").fillna(0).sum()),
        "Airstrips destroyed": int(pd.to_numeric(airstrips, errors="coerce").fillna(0).sum()),
    }


def _figures(frame: pd.DataFrame) -> None:
    cols = st.columns(5)
    for col, (label, value) in zip(cols, headline(frame).items(), strict=True):
        col.metric(label, f"{value:,.0f}")


def _timeline(frame: pd.DataFrame) -> None:
    types = incident_types()
    dated = frame[frame["date"].notna()]
    if dated.empty:
        st.info("No dated incidents in this selection.")
        return
    data = dated.groupby(["_month", "type"]).size().reset_index(name="incidents")
    data = data.rename(columns={"_month": "month"})
    data["type"] = [types[t].label if t in types else t for t in data["type"]]
    scale = alt.Scale(domain=[t.label for t in types.values()], range=[t.colour for t in types.values()])
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("yearmonth(month):T", title="Month"), y=alt.Y("incidents:Q", title="Incidents", stack=True,
                                      axis=alt.Axis(tickMinStep=1, format="d")),  # no "0.5 incidents"
        color=alt.Color("type:N", scale=scale, title="Type"),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="Month"), "type", "incidents"])
    st.altair_chart(chart, width="stretch")


def department_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Incidents per department, most first, then by name: the order of both the chart and the table."""
    counts = mapview.department_counts(frame)
    table = counts.rename_axis("Department").reset_index(name="Incidents")
    return table.sort_values(["Incidents", "Department"], ascending=[False, True], ignore_index=True)


def _by_department(frame: pd.DataFrame) -> None:
    table = department_table(frame)
    if table.empty:
        st.info("No incident in this selection is located to a department.")
        return
    touched = frame["departments"].map(lambda v: len(v) if pd.api.types.is_list_like(v) else 0)
    placed, spanning = int((touched > 0).sum()), int((touched > 1).sum())
    if spanning:
        st.caption(f"An incident located to an area counts once in every department the area touches: "
                   f"{spanning} of these {placed} incidents touch several, so the counts add up to "
                   f"{int(table['Incidents'].sum())}.")
    chart = alt.Chart(table).mark_bar().encode(
        x=alt.X("Incidents:Q", title="Incidents", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("Department:N", sort=table["Department"].tolist(), title=None),
        tooltip=["Department", "Incidents"])
    st.altair_chart(chart, width="stretch")
    st.dataframe(table, hide_index=True, width="stretch")


PANELS = ["Timeline", "By department", "Incidents and review", "Export", "Add articles"]
TABLE_ROWS = 2000
TABLE_COLUMNS = ["review_status", "date", "type", "place", "departments", "zones", "killed", "wounded",
                 "quantity_kg", "count", "actors", "reported_by", "geo_precision", "source_count", "language",
                 "confidence", "title"]


STATUS_ORDER = {"needs review": 0, "added": 1, "corrected": 2, "confirmed": 3, "rejected": 4}


def table_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The incidents in the table's order: "needs review" first, then the most recent."""
    order = frame["review_status"].map(STATUS_ORDER).fillna(5)
    return frame.assign(_order=order.to_numpy()).sort_values(["_order", "date", "id"], ascending=[True, False, True],
                                                             na_position="last")


def _select(iid: str | None) -> None:
    """Make ``iid`` the incident under review and clear the table's row selection (a new table key)."""
    st.session_state["sel_id"] = iid
    st.session_state["_table_gen"] = st.session_state.get("_table_gen", 0) + 1


def _table(frame: pd.DataFrame, everything: pd.DataFrame, path: Path, articles: dict[str, dict]) -> None:
    """The incident table and the review panel of the incident chosen in it.

    The panel follows the incident's id (``sel_id`` in the session and ``incident=`` in the URL), never the row
    position: a review re-sorts the table, and the same row then holds another incident. The table's key
    changes whenever its order does or the id is set by a button, so a row selection always refers to the
    order it was made in.
    """
    done = st.session_state.pop(REVIEW_MESSAGE, None)
    if done:
        _select(st.session_state.get("sel_id"))
        st.success(escape.markdown(done))
    frame = table_order(frame)
    if len(frame) > TABLE_ROWS:
        st.caption(f"The first {TABLE_ROWS:,} of {len(frame):,} incidents; the exports hold them all.")
        frame = frame.head(TABLE_ROWS)
    ids = frame["id"].tolist()
    view = frame.reindex(columns=TABLE_COLUMNS).copy()  # a store from before a column shows it empty
    view["date"] = [mapview.date_text(r) for r in frame[["date", "date_end", "date_precision"]].to_dict("records")]
    for col in ("departments", "zones", "actors"):
        view[col] = view[col].map(lambda v: ", ".join(v or []))
    digest = hashlib.blake2b("\n".join(ids).encode(), digest_size=8).hexdigest()
    key = f"incident_table_{st.session_state.get('_table_gen', 0)}_{digest}"
    event = st.dataframe(view, hide_index=True, width="stretch", key=key, on_select="rerun",
                         selection_mode="single-row")
    rows = list(event.selection.rows) if event and event.selection else []
    last_key, last_rows = st.session_state.get("_table_pick", (None, []))
    if rows and 0 <= rows[0] < len(ids):
        st.session_state["sel_id"] = ids[rows[0]]
    elif key == last_key and last_rows:  # the analyst cleared the selection
        st.session_state["sel_id"] = None
    st.session_state["_table_pick"] = (key, rows)

    pending = [i for i, s in zip(ids, frame["review_status"], strict=True) if s == "needs review"]
    iid = st.session_state.get("sel_id")
    following = [i for i in pending if i != iid]
    st.button("Next needing review", key="review_next", disabled=not following, on_click=_select,
              args=(following[0] if following else None,),
              help=f"{len(pending)} incident(s) in this selection need review." if pending
              else "No incident in this selection needs review.")
    if not iid:
        st.caption("Select a row to read its article with the evidence highlighted.")
        return
    match = everything[everything["id"] == iid]
    if match.empty:
        st.info("The incident chosen before is not in the store any more; select another row.")
        return
    row = match.iloc[0]
    if iid not in set(ids):
        st.caption(escape.markdown(f"This incident ({row['review_status']}) is outside the current filters."))
    record = articles.get(row["article"])
    if record:
        st.html(article_html(record, int(row["evidence_start"]), int(row["evidence_end"])))
    reviews = ReviewStore(reviews_path(path))
    review_panel(row, reviews)
    if record:
        add_incident_form(record, reviews)


def article_html(record: dict, start: int, end: int) -> str:
    """An article as HTML, everything escaped, with the evidence sentence in ``<mark>``.

    The article's URL is a link ("original") only when it is http(s); any other URL is shown as plain text.
    """
    text = record["text"]
    title = escape.html_text(escape.text(record.get("title")) or record["name"])
    meta = " · ".join(escape.html_text(x) for x in map(escape.text, (record.get("outlet"), record.get("published"),
                                                                     record.get("byline"))) if x)
    url = escape.text(record.get("url")).strip()
    link = ""
    if url:
        link = " · " + (escape.link(url, "original") if escape.safe_url(url) else escape.html_text(url))
    body = (escape.html_text(text[:start]) + "<mark>" + escape.html_text(text[start:end]) + "</mark>"
            + escape.html_text(text[end:])).replace("\n\n", "</p><p>")
    return (f"<div style='max-height:420px;overflow:auto;border:1px solid #ddd;padding:8px 12px'>"
            f"<h4 style='margin:0'>{title}</h4><div style='color:#666'>{meta}{link}</div><p>{body}</p></div>")


def _exports(frame: gpd.GeoDataFrame, basemap: str, shade: bool) -> None:
    # Files are made when a button is pressed (deferred data), not on every rerun: a filter change on a large
    # store must not serialise every export. on_click="ignore": a click that also reran the script re-registered
    # every deferred file under a new id while the browser was fetching the old one ("Deferred file ... not
    # found"), and the download spun forever. Fixed keys keep each button's id stable across reruns.
    st.caption(f"The {len(frame)} incidents of the current filter, with the properties of the CLI export.")
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button("GeoJSON", lambda: export.geojson_bytes(frame), "incidents.geojson", "application/geo+json",
                       key="dl_geojson", on_click="ignore")
    c2.download_button("GeoJSON per type (zip)", lambda: export.geojson_zip_bytes(frame), "incidents-by-type.zip",
                       "application/zip", key="dl_zip", on_click="ignore")
    c3.download_button("CSV", lambda: export.csv_bytes(frame), "incidents.csv", "text/csv", key="dl_csv",
                       on_click="ignore")
    c4.download_button("Map (standalone HTML)", lambda: standalone_map_html(_map(frame, basemap, shade)),
                       "incident-map.html", "text/html", key="dl_html", on_click="ignore")


def standalone_map_html(fmap) -> bytes:
    """The map as one HTML file that works offline: Leaflet and plugins inlined."""
    return assets.inline(fmap.get_root().render()).encode("utf-8")


def main() -> None:
    """Render the dashboard; a failure shows as a sentence, its traceback goes to the server's log only."""
    st.set_page_config(page_title=t("app.page_title"), page_icon="🗺️", layout="wide")
    try:
        _main()
    except IncidentMapError as exc:  # a refused store, a missing gazetteer: the message says what to do
        LOG.exception("the dashboard cannot start")
        st.error(escape.markdown(str(exc)))
    except Exception:  # st.rerun and st.stop are BaseExceptions and pass through
        _failed()


def _failed() -> None:
    LOG.exception("the dashboard failed to draw")
    st.error("Something went wrong while drawing this view, and it was left out. Changing or clearing the "
             "filters, or reloading the page, usually helps; the details are in the server's log.")


def _store_version(path: Path) -> float:
    """Changes whenever the store file is written (nanoseconds, so two saves in one second differ)."""
    stat = path.stat()
    return stat.st_mtime_ns + stat.st_size / 1e12


def _main() -> None:
    _static_assets()
    path = _ensure_store()
    mtime = _store_version(path)
    version = _reviews_version(path)
    frame = _reviewed(path, mtime, version)
    options = _options(path, mtime, version)
    _init_state(options["dates"])
    flt = _sidebar(options)
    chosen = query.apply(frame, flt)
    st.title(t("app.title"))
    st.caption(f"{len(chosen)} of {len(frame)} incidents match the filters · store: {escape.markdown(path.name)}")
    _figures(chosen)
    # drawn once per page; a filter change sends only the new incident layers (dashboard/ui_map.py)
    ui_map.draw(chosen, frame, (mtime, version), repr(flt))
    unlocated = int(chosen.geometry.isna().sum())
    if unlocated:
        st.caption(f"{unlocated} incident(s) have no known place and are listed below but not drawn.")
    # A radio rather than st.tabs: the chosen panel survives the reruns that a row selection or a review causes,
    # and only the chosen panel is computed.
    view = st.radio("Panel", PANELS, horizontal=True, key="f_view", label_visibility="collapsed")
    try:
        if view == "Timeline":
            _timeline(chosen)
        elif view == "By department":
            _by_department(chosen)
        elif view == "Incidents and review":
            _table(chosen, frame, path, _articles(str(path), mtime))
        elif view == "Export":
            _exports(chosen, st.session_state["f_basemap"], st.session_state["f_shade"])
        else:
            upload_tab(path, on_saved=_clear_caches)
    except Exception:  # one panel failing leaves the map and the figures above it in place
        _failed()
    finally:
        # last: the table may have changed the incident under review
        _sync_url(flt, *options["dates"])
