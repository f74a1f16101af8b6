"""The dashboard's audit log: every review decision, in local time, with filters and a CSV download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import escape, i18n, summaries
from dashboard.review import STATUSES, ReviewStore
from dashboard.ui_i18n import lang, t
from dashboard.ui_review import incident_summary

#: Actions the trail records: a status set, a field corrected, an incident added.
ACTIONS = list(dict.fromkeys([*STATUSES, "corrected", "added"]))
_HEADERS = {"time": "audit.time", "analyst": "audit.analyst", "incident": "audit.incident",
            "incident_id": "audit.incident_id", "action": "audit.action", "field": "audit.field", "old": "audit.old",
            "new": "audit.new", "note": "audit.note"}


def _browser_zone() -> str | None:
    """The browser's IANA time zone, when it has told the server (absent in tests and on the first run)."""
    try:
        return st.context.timezone
    except Exception:  # no browser connected (a bare run): the server's zone is used instead
        return None


def labelled(table: pd.DataFrame, language: str) -> pd.DataFrame:
    """An audit table as shown and downloaded: translated headers, actions, field names; times as text."""
    out = table.copy()
    out["time"] = out["time"].map(lambda ts: ts.strftime("%Y-%m-%d %H:%M:%S"))
    out["action"] = out["action"].map(lambda a: i18n.label("action", a, language))
    out["field"] = out["field"].map(lambda f: i18n.text(f"field.{f}", language) if f and i18n.has(f"field.{f}")
                                    else f)
    if not (out["analyst"] != "").any():  # the trail records no analyst: no empty column
        out = out.drop(columns="analyst")
    return out.rename(columns={c: i18n.text(k, language) for c, k in _HEADERS.items()})


def audit_panel(reviews: ReviewStore, frame: pd.DataFrame) -> None:
    """Every review decision, newest first, filtered by action, local day and text; downloadable as CSV."""
    entries = reviews.history()
    if not entries:
        st.info(t("audit.empty"))
        return
    language = lang()
    zone = summaries.local_zone(_browser_zone())
    names = {r["id"]: incident_summary(r, lang()) for r in frame.to_dict("records")}
    table = summaries.audit_table(entries, names, zone)
    days = table["time"].map(lambda ts: ts.date())
    lo, hi = days.min(), days.max()
    a, b, c = st.columns([2, 2, 3])
    actions = a.multiselect(t("audit.actions"), ACTIONS, key="audit_actions", placeholder=t("audit.actions.all"),
                            format_func=lambda x: i18n.label("action", x, language))
    span = b.date_input(t("audit.dates"), value=(lo, hi), min_value=lo, max_value=hi, key="audit_dates",
                        format="DD/MM/YYYY" if lang() == "es" else "YYYY/MM/DD")
    text = c.text_input(t("audit.text"), key="audit_text", placeholder=t("audit.text.placeholder"))
    since, until = (span[0], span[1]) if isinstance(span, (tuple, list)) and len(span) == 2 else (lo, hi)
    shown = summaries.filter_audit(table, actions, since, until, text)
    st.caption(escape.markdown(t("audit.count", shown=i18n.number(len(shown), lang()),
                                 total=i18n.number(len(table), lang()), zone=summaries.zone_name(zone))))
    view = labelled(shown, lang())
    st.dataframe(view, hide_index=True, width="stretch")
    st.download_button(t("audit.csv"), lambda: summaries.csv_bytes(view), "review-audit-log.csv", "text/csv",
                       key="dl_audit", on_click="ignore", icon=":material/download:")
