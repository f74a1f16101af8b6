"""The Streamlit dashboard. ``streamlit_app.py`` calls :func:`main`; nothing in the core imports this module.

Views read the store; they never re-run the pipeline. Loaders are cached (``st.cache_resource``: the incident frame
is shared read-only, not copied on every rerun), so a filter change only filters, aggregates and draws.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import assets, escape, i18n, mapview, pipeline, query, review, store, ui_map
from dashboard.errors import IncidentMapError
from dashboard.gazetteer import PRECISION, default_gazetteer
from dashboard.review import ReviewStore, reviews_path
from dashboard.taxonomy import incident_types
from dashboard.ui_audit import audit_panel
from dashboard.ui_export import export_panel
from dashboard.ui_i18n import lang, language_switch, t, url_param
from dashboard.ui_summary import by_department, summaries_panel, timeline
from dashboard.ui_table import table_panel
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


@st.cache_resource(show_spinner="Loading incidents… / Cargando incidentes…", max_entries=2)
def _incidents(path: str, mtime: float) -> gpd.GeoDataFrame:
    # mtime is part of the cache key: a rebuilt store is loaded again, an unchanged one never.
    # Prepared here, once per store version: parsed dates and months, distinct place and actor sets (a filter
    # change on a million incidents is then array operations, and a review that only sets statuses keeps them).
    return query.prepare(store.load(path))


@st.cache_resource(show_spinner=False, max_entries=2)
def _articles(path: str, mtime: float) -> dict[str, dict]:
    """Stored articles by name (text and metadata), for reviews and the article view."""
    return store.article_records(path)


def _reviews_version(path: Path) -> int:
    """Changes whenever a review is saved (in a SQLite review file or a PostGIS store)."""
    return review.version(path)


@st.cache_resource(show_spinner=False, max_entries=4)
def _reviewed(path: Path, mtime: float, reviews_version: int) -> tuple[gpd.GeoDataFrame, tuple]:
    """The cached incidents with the reviews applied, again only when the store or the reviews change.

    Also a key of the incidents' content: the store version and what reviews changed besides statuses, for what
    is derived from places and dates only (the map's arrays), so confirming or rejecting does not recompute it.
    """
    reviews = ReviewStore(reviews_path(path))
    rows = reviews.rows()
    frame = review.apply(_incidents(str(path), mtime), reviews, default_gazetteer(), _articles(str(path), mtime),
                         rows=rows)
    if "_places" not in frame:  # a correction or an added incident: derive again
        query.prepare(frame)
    return frame, (str(path), mtime, review.content_digest(rows))


@st.cache_resource(show_spinner=False, max_entries=4)
def _options(path: Path, mtime: float, reviews_version: int) -> dict:
    """Choices for the sidebar, computed once per store and review state.

    Type counts are those of the map with no filter: reviews applied, rejected incidents and background
    statistics left out. Regions and actors come from the distinct place and actor sets (a few thousand), not
    from every row.
    """
    frame, _ = _reviewed(path, mtime, reviews_version)
    events = frame[~frame["background"] & frame["review_status"].ne("rejected")]
    places = [json.loads(c) for c in frame["_places"].cat.categories]
    actors = [json.loads(c)[0] for c in frame["_actors"].cat.categories]
    return {
        "counts": events["type"].value_counts().to_dict(),
        "regions": sorted({n for deps, zones, _, _ in places for n in (*deps, *zones)}),
        "actors": sorted({a for names in actors for a in names}),
        "dates": _date_bounds(frame),
    }


def _map(frame: gpd.GeoDataFrame, basemap: str, shade: bool, language: str):
    # Built on each run that needs it (a filter change): a folium Map rendered twice grows duplicate header
    # elements, so the Map itself is not cached; its inputs (incidents, outlines) are.
    r = _regions()
    return mapview.build_map(frame, departments=r["departments"], zones=r["zones"], countries=r["countries"],
                             choropleth=shade, basemap=basemap, lang=language)


def _ensure_store() -> Path:
    path = store.store_path()
    if not pipeline.needs_build(path):
        return path
    label = t("ui.build.updating") if store.exists(path) else t("ui.build.first")
    with st.status(label, expanded=True) as status:
        bar = st.progress(0.0)

        def progress(done: int, total: int, name: str) -> None:
            # progress text is Markdown; an article's file name is not
            bar.progress(done / total, text=t("ui.build.progress", done=done, total=total,
                                              name=escape.markdown(name)))

        report = pipeline.build(path=path, progress=progress)
        status.update(label=t("ui.build.done", articles=report.articles, incidents=report.incidents),
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


#: The panels under the map, by the key kept in the URL (``panel=``); the first is the default.
PANELS = ["timeline", "departments", "summaries", "review", "audit", "export", "upload"]


def _filter_defaults(bounds: tuple[date, date]) -> dict[str, object]:
    """Every filter widget's value when nothing is chosen (map settings are not filters)."""
    return {"f_types": [], "f_regions": [], "f_actors": [], "f_prec": [], "f_status": [], "f_text": "",
            "f_background": False, "f_undated": True, "f_dates": bounds}


def _reset_filters() -> None:
    """Back to the whole data set: every filter at its default; the panel, map and language are kept."""
    st.session_state.update(_filter_defaults(st.session_state["_bounds"]))


def _init_state(bounds: tuple[date, date]) -> None:
    """Set widget defaults once per session, from the URL when it carries a filter."""
    if st.session_state.get("_init"):
        _follow_data(bounds)
        return
    st.session_state["_bounds"] = bounds
    st.session_state["sel_id"] = st.query_params.get("incident") or None
    panel = st.query_params.get("panel")
    st.session_state["f_view"] = panel if panel in PANELS else PANELS[0]
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
    """The first and last day of the incidents' date ranges (today when none is dated); a prepared frame."""
    starts = frame["_start"].dropna()
    if starts.empty:
        today = date.today()
        return today, today
    return starts.min().date(), max(frame["_end"].max(), starts.max()).date()


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
    if st.session_state.get("f_view", PANELS[0]) != PANELS[0]:
        params["panel"] = st.session_state["f_view"]
    if st.session_state.get("sel_id"):  # the incident under review, by id: a shared link opens the same one
        params["incident"] = st.session_state["sel_id"]
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)
    st.session_state["_url_params"] = params


def _sidebar(options: dict) -> query.Filter:
    types = incident_types()
    counts = options["counts"]
    lo, hi = options["dates"]
    sb = st.sidebar
    language_switch(sb)
    language = lang()  # bound once: a widget's format function may run outside this script's session
    sb.header(t("ui.filters"))
    sb.button(t("ui.reset"), key="reset_filters", on_click=_reset_filters, help=t("ui.reset.help"),
              icon=":material/filter_alt_off:")
    dates = sb.date_input(t("ui.dates"), min_value=lo, max_value=hi, key="f_dates", help=t("ui.dates.help"),
                          format="DD/MM/YYYY" if lang() == "es" else "YYYY/MM/DD")
    sb.multiselect(t("ui.types"), list(types), key="f_types",
                   format_func=lambda k: f"{types[k].label_in(language)} ({i18n.number(counts.get(k, 0), language)})",
                   placeholder=t("ui.types.all"))
    sb.multiselect(t("ui.regions"), options["regions"], key="f_regions", placeholder=t("ui.regions.all"))
    sb.multiselect(t("ui.actors"), options["actors"], key="f_actors", placeholder=t("ui.actors.all"))
    sb.multiselect(t("ui.precision"), PRECISIONS, key="f_prec", placeholder=t("ui.precision.all"),
                   format_func=lambda p: i18n.label("precision", p, language))
    sb.text_input(t("ui.text"), key="f_text", placeholder=t("ui.text.placeholder"))
    sb.checkbox(t("ui.background"), key="f_background", help=t("ui.background.help"))
    sb.checkbox(t("ui.undated"), key="f_undated")
    sb.multiselect(t("ui.status"), list(review.STATUSES), key="f_status", placeholder=t("ui.status.all"),
                   format_func=lambda s: i18n.label("status", s, language), help=t("ui.status.help"))
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
    """The headline figures of a filtered frame, by metric key (``ui.metric.<key>`` names it)."""
    airstrips = frame.loc[frame["type"] == "airstrip_destruction", "count"]
    return {
        "incidents": len(frame),
        "killed": int(pd.to_numeric(frame["killed"], errors="coerce").fillna(0).sum()),
        "wounded": int(pd.to_numeric(frame["wounded"], errors="coerce").fillna(0).sum()),
        "kg": float(pd.to_numeric(frame["quantity_kg"], errors="coerce").fillna(0).sum()),
        "airstrips": int(pd.to_numeric(airstrips, errors="coerce").fillna(0).sum()),
    }


# Narrow screens (a 390 px phone): the five figures wrap three to a row instead of stacking one per line, so
# the map comes right after a short header. Streamlit stacks columns below 640 px; this overrides it only for
# the figures' container.
_PHONE_CSS = """<style>
@media (max-width: 640px) {
  h1 { font-size: 1.6rem !important; }
  .st-key-figures [data-testid="stHorizontalBlock"] { flex-direction: row; flex-wrap: wrap; gap: 0.25rem; }
  .st-key-figures [data-testid="stColumn"] { min-width: 30% !important; flex: 1 1 30% !important; }
  .st-key-figures [data-testid="stMetricValue"] { font-size: 1.3rem; }
}
</style>"""


@st.cache_resource(show_spinner=False, max_entries=64)
def _headline(view: tuple, _frame: pd.DataFrame) -> dict[str, float]:
    # shared by every session: a new visitor's usual view of a million incidents is not summed again
    return headline(_frame)


def _figures(frame: pd.DataFrame, view: tuple) -> None:
    st.html(_PHONE_CSS)
    with st.container(key="figures"):
        cols = st.columns(5)
        for col, (key, value) in zip(cols, _headline(view, frame).items(), strict=True):
            col.metric(t(f"ui.metric.{key}"), i18n.number(value, lang()))


def share_link(base: str, params: dict[str, str]) -> str:
    """The page's address with the view's parameters: filters, panel, incident and language."""
    base = base.split("?")[0].split("#")[0]
    return base + ("?" + urlencode(params) if params else "")


def _copy_link(where) -> None:
    """A popover with the view's link in a code block (its copy button puts it on the clipboard)."""
    with where.popover(t("ui.link"), icon=":material/link:"):
        st.caption(t("ui.link.help"))
        st.code(share_link(st.context.url or "", st.session_state.get("_url_params", {})), language=None,
                wrap_lines=True)


def main() -> None:
    """Render the dashboard; a failure shows as a sentence, its traceback goes to the server's log only."""
    # initial_sidebar_state="auto": Streamlit starts the sidebar (the filters) collapsed on narrow screens
    st.set_page_config(page_title=t("app.page_title"), page_icon="🗺️", layout="wide",
                       initial_sidebar_state="auto")
    try:
        _main()
    except IncidentMapError as exc:  # a refused store, a missing gazetteer: the message says what to do
        LOG.exception("the dashboard cannot start")
        st.error(escape.markdown(str(exc)))
    except Exception:  # st.rerun and st.stop are BaseExceptions and pass through
        _failed()


def _failed() -> None:
    LOG.exception("the dashboard failed to draw")
    st.error(t("ui.failed"))


def _store_version(path: Path) -> float:
    """Changes whenever the store is written (a file's time and size, a PostGIS store's change counter)."""
    return store.version(path)


def _main() -> None:
    _static_assets()
    path = _ensure_store()
    mtime = _store_version(path)
    version = _reviews_version(path)
    frame, content = _reviewed(path, mtime, version)
    options = _options(path, mtime, version)
    _init_state(options["dates"])
    flt = _sidebar(options)
    chosen = query.apply(frame, flt)
    st.title(t("app.title"))
    head, link = st.columns([5, 1], vertical_alignment="center")
    head.caption(t("ui.matching", shown=i18n.number(len(chosen), lang()), total=i18n.number(len(frame), lang()),
                   store=escape.markdown(store.label(path))))
    link = link.empty()  # filled last, when the URL of this view is known
    # what the view shows is decided by the data's versions and the filter: summaries are shared on that key
    view_key = (str(path), mtime, version, repr(flt))
    _figures(chosen, view_key)
    # drawn once per page; a filter change sends only the new incident layers (dashboard/ui_map.py)
    ui_map.draw(chosen, frame, (str(path), mtime, version), repr(flt), content)
    unlocated = int(chosen.geometry.isna().sum())
    if unlocated:
        st.caption(t("ui.unlocated", n=i18n.number(unlocated, lang())))
    # A radio rather than st.tabs: the chosen panel survives the reruns that a row selection or a review causes,
    # and only the chosen panel is computed.
    language = lang()
    view = st.radio(t("ui.panel"), PANELS, horizontal=True, key="f_view", label_visibility="collapsed",
                    format_func=lambda p: i18n.text(f"ui.panel.{p}", language))
    try:
        if view == "timeline":
            timeline(chosen, view_key)
        elif view == "departments":
            by_department(chosen)
        elif view == "summaries":
            summaries_panel(chosen)
        elif view == "review":
            table_panel(chosen, frame, path, _articles(str(path), mtime))
        elif view == "audit":
            audit_panel(ReviewStore(reviews_path(path)), frame)
        elif view == "export":
            # The settings are read now: the file is made when its button is pressed, outside this run and its
            # session state.
            basemap, shade = st.session_state["f_basemap"], st.session_state["f_shade"]
            export_panel(chosen, flt, lambda: _map(chosen, basemap, shade, language))
        else:
            upload_tab(path, on_saved=_clear_caches)
    except Exception:  # one panel failing leaves the map and the figures above it in place
        _failed()
    finally:
        # last: the table may have changed the incident under review
        _sync_url(flt, *options["dates"])
        _copy_link(link)
