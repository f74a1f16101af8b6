"""The dashboard's chart and summary panels: the timeline, incidents per department, and the summaries.

The tables come from :mod:`dashboard.summaries`; this module only labels them in the session's language, draws
them and offers each as CSV.
"""

from __future__ import annotations

import json
from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import i18n, mapview, summaries
from dashboard.taxonomy import incident_types
from dashboard.ui_i18n import lang, t


@st.cache_resource(show_spinner=False, max_entries=64)
def _monthly(view: object, _frame: pd.DataFrame) -> pd.DataFrame:
    """Incidents per month and type of one view, shared by every session (``view``: data versions and filter)."""
    return monthly_counts(_frame)


def monthly_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Incidents per (month, type), from the prepared month (:func:`dashboard.query.prepare`).

    Undated incidents have no month and fall out of the grouping, without a test of a million date strings.
    """
    return frame.groupby(["_month", "type"]).size().reset_index(name="incidents")


def timeline(frame: pd.DataFrame, view: object | None = None) -> None:
    """Incidents per month, stacked by type, in the types' map colours (``view``: see :func:`_monthly`)."""
    types = incident_types()
    data = monthly_counts(frame) if view is None else _monthly(view, frame)
    if data.empty:
        st.info(t("summary.no_dated"))
        return
    data = data.rename(columns={"_month": "month"})
    data["type"] = [types[k].label_in(lang()) if k in types else k for k in data["type"]]
    scale = alt.Scale(domain=[k.label_in(lang()) for k in types.values()],
                      range=[k.colour for k in types.values()])
    month, count, kind = t("summary.month"), t("summary.incidents"), t("summary.type")
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("yearmonth(month):T", title=month, axis=alt.Axis(labelExpr=month_labels(lang()))),
        y=alt.Y("incidents:Q", title=count, stack=True, axis=alt.Axis(tickMinStep=1, format="d")),  # no "0.5"
        color=alt.Color("type:N", scale=scale, title=kind),
        tooltip=[alt.Tooltip("yearmonth(month):T", title=month), alt.Tooltip("type:N", title=kind),
                 alt.Tooltip("incidents:Q", title=count)])
    st.altair_chart(chart, width="stretch")


def month_labels(language: str) -> str:
    """A Vega label expression that writes a time axis's months in ``language`` (Vega itself speaks English)."""
    names = [i18n.month(date(2000, m, 1), language).rsplit(" ", 1)[0] for m in range(1, 13)]
    return f"{json.dumps(names, ensure_ascii=False)}[month(datum.value)] + ' ' + timeFormat(datum.value, '%Y')"


def department_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Incidents per department, most first, then by name: the order of both the chart and the table."""
    counts = mapview.department_counts(frame)
    table = counts.rename_axis("Department").reset_index(name="Incidents")
    return table.sort_values(["Incidents", "Department"], ascending=[False, True], ignore_index=True)


def _areas_caption(frame: pd.DataFrame, total: int) -> None:
    """Say so when area incidents count in several departments (the counts then add up to more)."""
    touched = frame["departments"].map(lambda v: len(v) if pd.api.types.is_list_like(v) else 0)
    placed, spanning = int((touched > 0).sum()), int((touched > 1).sum())
    if spanning:
        st.caption(t("summary.areas", spanning=spanning, placed=placed, total=total))


def by_department(frame: pd.DataFrame) -> None:
    """A bar chart and a table of incidents per department, in one order."""
    table = department_table(frame)
    if table.empty:
        st.info(t("summary.no_department"))
        return
    _areas_caption(frame, int(table["Incidents"].sum()))
    department, count = t("summary.department"), t("summary.incidents")
    chart = alt.Chart(table).mark_bar().encode(
        x=alt.X("Incidents:Q", title=count, axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("Department:N", sort=table["Department"].tolist(), title=None),
        tooltip=[alt.Tooltip("Department:N", title=department), alt.Tooltip("Incidents:Q", title=count)])
    st.altair_chart(chart, width="stretch")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "Department": st.column_config.TextColumn(department), "Incidents": st.column_config.NumberColumn(count)})


def _labelled(table: pd.DataFrame, headers: dict[str, str]) -> pd.DataFrame:
    """The table with translated headers and figures as the language writes them (shares as percentages)."""
    out = pd.DataFrame(index=table.index)
    for col, key in headers.items():
        values = table[col]
        if col == "month":
            values = values.map(lambda d: i18n.month(d, lang()))
        elif col == "share":
            values = values.map(lambda v: i18n.number(100 * v, lang(), decimals=1) + " %")
        elif col in ("incidents", "killed", "wounded"):
            values = values.map(lambda v: i18n.number(v, lang()))
        out[t(key)] = values
    return out


def _download(table: pd.DataFrame, headers: dict[str, str], name: str, key: str) -> None:
    """The table as CSV, headers in the session's language, figures as plain numbers."""
    plain = table[list(headers)].rename(columns={c: t(k) for c, k in headers.items()})
    st.download_button(t("summary.csv"), lambda: summaries.csv_bytes(plain), name, "text/csv", key=key,
                       on_click="ignore", icon=":material/download:")


_MONTH = {"month": "summary.month", "incidents": "summary.incidents", "killed": "field.killed",
          "wounded": "field.wounded"}
_ACTOR = {"actor": "summary.actor", "incidents": "summary.incidents", "share": "summary.share"}
_DEPARTMENT = {"department": "summary.department", "incidents": "summary.incidents", "share": "summary.share"}


def summaries_panel(frame: pd.DataFrame) -> None:
    """Killed and wounded per month, incidents per actor and per department with shares, each as CSV."""
    st.subheader(t("summary.casualties"))
    monthly = summaries.casualties_per_month(frame)
    if monthly.empty:
        st.info(t("summary.no_dated"))
    else:
        st.dataframe(_labelled(monthly, _MONTH), hide_index=True, width="stretch")
        _download(monthly, _MONTH, "casualties-per-month.csv", "dl_sum_month")

    st.subheader(t("summary.actors"))
    actors = summaries.per_actor(frame)
    if actors.empty:
        st.info(t("summary.no_actor"))
    else:
        st.caption(t("summary.actors.help"))
        st.dataframe(_labelled(actors, _ACTOR), hide_index=True, width="stretch")
        _download(actors, _ACTOR, "incidents-per-actor.csv", "dl_sum_actor")

    st.subheader(t("summary.departments"))
    deps = summaries.per_department(frame)
    if deps.empty:
        st.info(t("summary.no_department"))
    else:
        _areas_caption(frame, int(deps["incidents"].sum()))
        st.caption(t("summary.departments.help"))
        st.dataframe(_labelled(deps, _DEPARTMENT), hide_index=True, width="stretch")
        _download(deps, _DEPARTMENT, "incidents-per-department.csv", "dl_sum_department")
