"""The dashboard's map, Streamlit side: the map component, its sidebar widgets, and the incident chosen on it.

The map is a Streamlit component drawn once per page (``dashboard/data/mapjs``, installed into ``static/``); each
run sends it only the document of :mod:`dashboard.mapdata`, and the browser redraws the incident layers only when
that document changed, keeping zoom and position. Its view is kept in the URL (``view=lat,lon,zoom``) by the
browser; a popup's "show in the table" button sends the incident's id back, which selects it here.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import streamlit as st
import streamlit.components.v1 as components

from dashboard import assets, mapdata
from dashboard.gazetteer import default_gazetteer
from dashboard.ui_i18n import lang, t

COMPONENT_DIR = Path(__file__).resolve().parent.parent / "static" / "incident_map"
HEIGHT = 560
#: The panel that shows the incident table and the review of the selected incident (``f_view`` in ui.py).
REVIEW_PANEL = "review"


@st.cache_resource(show_spinner=False)
def _component():
    """Install the component's files (once per server) and declare it."""
    g = default_gazetteer()
    provinces = [p for p in g.places.values() if p.kind == "province"]
    province_frame = gpd.GeoDataFrame({"name": [p.name for p in provinces]},
                                      geometry=[p.footprint for p in provinces], crs=4326)
    basemap = mapdata.basemap(g.department_frame(), g.country_outlines[["name", "geometry"]], g.zone_frame(),
                              province_frame)
    assets.install_component(COMPONENT_DIR, basemap)
    return components.declare_component("incident_map", path=str(COMPONENT_DIR))


def sidebar(sb) -> None:
    """The map's widgets (basemap, department shading, time playback) in the sidebar ``sb``."""
    st.session_state.setdefault("f_playback", st.query_params.get("play") == "1")
    sb.header(t("map.sidebar_header"))
    offline = t("map.basemap_offline")  # bound now: a format function may run outside this session
    sb.selectbox(t("map.sidebar_basemap"), list(mapdata.TILES), key="f_basemap",
                 format_func=lambda k: offline if k == "offline" else k,
                 help=t("map.sidebar_basemap_help"))
    sb.toggle(t("map.sidebar_shade"), key="f_shade")
    sb.toggle(t("map.sidebar_playback"), key="f_playback", help=t("map.sidebar_playback_help"))


@st.cache_resource(show_spinner=False, max_entries=2)
def _columns(version: object, _everything: gpd.GeoDataFrame) -> mapdata.Columns:
    # per store and review state: a filter change then only looks rows up in these arrays
    return mapdata.columns(_everything)


@st.cache_resource(show_spinner=False, max_entries=32)
def _document(key: tuple, _chosen: gpd.GeoDataFrame, _cols: mapdata.Columns) -> tuple[str, str]:
    """The map document (text, digest) of one view, shared by every session.

    A new visitor opening the usual view of a million incidents gets it without building it. ``key`` (data
    versions, filter, language, map settings) decides the document; the frames are not hashed (leading
    underscores).
    """
    _, _, language, shade, basemap, playback = key
    doc = mapdata.payload(_chosen, cols=_cols, lang=language, shade=shade, basemap=basemap, playback=playback)
    return mapdata.dumps(doc)


def draw(chosen: gpd.GeoDataFrame, everything: gpd.GeoDataFrame, version: object, filter_key: object,
         content: object | None = None) -> None:
    """Draw (or update) the map of the filtered incidents ``chosen``, rows of ``everything``.

    ``version`` identifies ``everything`` (the store and review versions) and ``filter_key`` the filter: the same
    pair reuses the document already sent, so a rerun caused elsewhere (a table click) costs nothing here.
    ``content`` identifies what the map's arrays are computed from (places, dates, types; not review statuses),
    by default ``version``. The incident chosen in the table is looked up in ``everything``.
    """
    component = _component()
    _take_pick(st.session_state.get("incident_map"))
    language = lang()
    shade, basemap = bool(st.session_state.get("f_shade")), st.session_state.get("f_basemap", "offline")
    playback = bool(st.session_state.get("f_playback"))
    key = (version, filter_key, language, shade, basemap, playback)
    memo = st.session_state.get("_map_doc")
    if not memo or memo[0] != key:
        memo = (key, *_document(key, chosen, _columns(version if content is None else content, everything)))
        st.session_state["_map_doc"] = memo
    _, text, digest = memo
    if "_map_view0" not in st.session_state:  # the view of a shared link; later the browser keeps its own
        st.session_state["_map_view0"] = st.query_params.get("view", "")
    chosen_one = mapdata.selected(everything, st.session_state.get("sel_id"), language)
    component(doc=text, digest=digest, selected=chosen_one, view=st.session_state["_map_view0"], height=HEIGHT,
              key="incident_map", default=None)


def _take_pick(value: object) -> None:
    """A popup's "show in the table" click: select that incident and open the table and review panel."""
    if not isinstance(value, dict) or not isinstance(value.get("select"), str):
        return
    stamp = (value.get("seq"), value.get("t"))
    if st.session_state.get("_map_pick") == stamp:
        return  # the component keeps returning its last value on every run
    st.session_state["_map_pick"] = stamp
    st.session_state["sel_id"] = value["select"]
    st.session_state["f_view"] = REVIEW_PANEL
    # a new table key clears a row selection made before, which would otherwise win over this choice
    st.session_state["_table_gen"] = st.session_state.get("_table_gen", 0) + 1
