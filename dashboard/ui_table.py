"""The dashboard's incident table and review queue: readable columns, a column chooser, bulk decisions.

The review panel below the table follows the incident's id (``sel_id`` in the session, ``incident=`` in the URL),
never a row position: a review re-sorts the table, and the same row then holds another incident.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from dashboard import escape, i18n
from dashboard.review import ReviewError, ReviewStore, reviews_path
from dashboard.taxonomy import incident_types
from dashboard.ui_i18n import lang, t
from dashboard.ui_review import REVIEW_MESSAGE, _blank, add_incident_form, date_label, incident_summary, review_panel

TABLE_ROWS = 2000
#: Every column the chooser offers, in table order; headers come from the ``field.<name>`` catalog keys.
TABLE_COLUMNS = ["review_status", "date", "type", "place", "departments", "zones", "killed", "wounded",
                 "quantity_kg", "count", "actors", "reported_by", "geo_precision", "source_count", "language",
                 "confidence", "title"]
#: The columns shown until the analyst chooses: together they fit a 1400 px window without sideways scrolling.
DEFAULT_COLUMNS = ["review_status", "date", "type", "place", "departments", "killed", "wounded", "quantity_kg",
                   "count", "confidence"]
_WIDTHS = {"review_status": 85, "date": 100, "type": 125, "place": 150, "departments": 125, "zones": 140,
           "killed": 55, "wounded": 60, "quantity_kg": 75, "count": 55, "actors": 180, "reported_by": 110,
           "geo_precision": 80, "source_count": 60, "language": 55, "confidence": 70, "title": 240}
STATUS_ORDER = {"needs review": 0, "added": 1, "corrected": 2, "confirmed": 3, "rejected": 4}


def table_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The incidents in the table's order: "needs review" first, then the most recent."""
    order = frame["review_status"].map(STATUS_ORDER).fillna(5)
    return frame.assign(_order=order.to_numpy()).sort_values(["_order", "date", "id"], ascending=[True, False, True],
                                                             na_position="last")


def review_queue(frame: pd.DataFrame) -> list[str]:
    """Ids of the incidents that need review, lowest confidence first (then the table's order).

    An incident without a confidence (a store from before it was computed) comes first: nothing vouches for it.
    """
    ordered = table_order(frame)
    pending = ordered[ordered["review_status"] == "needs review"]
    if "confidence" in pending:
        conf = pd.to_numeric(pending["confidence"], errors="coerce").fillna(-1.0)
    else:
        conf = pd.Series(-1.0, index=pending.index)
    rank = pd.Series(range(len(pending)), index=pending.index)
    keyed = pd.DataFrame({"conf": conf, "rank": rank, "id": pending["id"]})
    return keyed.sort_values(["conf", "rank"], kind="stable")["id"].tolist()


def next_in_queue(queue: list[str], current: str | None) -> str | None:
    """The incident after ``current`` in the queue (the first when ``current`` is not in it, or the last)."""
    if not queue:
        return None
    if current in queue:
        later = queue[queue.index(current) + 1:]
        return later[0] if later else (queue[0] if queue[0] != current else None)
    return queue[0]


def table_view(frame: pd.DataFrame, columns: list[str], language: str) -> pd.DataFrame:
    """The rows as the table shows them.

    Headers and values translated, figures as the language writes them, missing values blank (never ``None``).
    """
    types = incident_types()
    cells: dict[str, list] = {}
    records = frame.reindex(columns=sorted(set(columns) | {"date", "date_end", "date_precision"})).to_dict("records")
    for col in columns:
        if col == "date":
            values = [date_label(r, language) for r in records]
        elif col == "type":
            values = [types[r["type"]].label_in(language) if r["type"] in types else escape.text(r["type"])
                      for r in records]
        elif col == "review_status":
            values = [i18n.label("status", r[col], language) if not _blank(r[col]) else "" for r in records]
        elif col == "geo_precision":
            values = [i18n.label("precision", r[col], language) if not _blank(r[col]) else "" for r in records]
        elif col in ("departments", "zones", "actors"):
            values = [", ".join(r[col]) if isinstance(r[col], (list, tuple)) else "" for r in records]
        elif col in ("killed", "wounded", "count", "source_count"):
            values = ["" if _blank(r[col]) else i18n.number(r[col], language) for r in records]
        elif col == "quantity_kg":
            values = ["" if _blank(r[col]) else i18n.number(r[col], language, decimals=1) for r in records]
        elif col == "confidence":
            values = ["" if _blank(r[col]) else i18n.number(r[col], language, decimals=2) for r in records]
        else:
            values = [escape.text(r[col]) for r in records]
        cells[i18n.text(f"field.{col}", language)] = values
    return pd.DataFrame(cells)


def _select(iid: str | None) -> None:
    """Make ``iid`` the incident under review and clear the table's row selection (a new table key)."""
    st.session_state["sel_id"] = iid
    st.session_state["_table_gen"] = st.session_state.get("_table_gen", 0) + 1


def _bulk(ids: list[str], status: str, frame: pd.DataFrame, reviews: ReviewStore) -> None:
    """Set ``status`` on every selected incident in one transaction, and say what was done."""
    note = st.session_state.get("bulk_note") or None
    try:
        n = reviews.set_statuses(ids, status, note)
    except ReviewError as exc:
        st.session_state["_bulk_error"] = str(exc)
        return
    rows = frame[frame["id"].isin(ids)]
    listed = "; ".join(incident_summary(r, lang()) for r in rows.to_dict("records")[:5])
    more = t("table.bulk.more", n=n - 5) if n > 5 else ""
    st.session_state[REVIEW_MESSAGE] = t(f"table.bulk.done.{status}", n=n, listed=listed, more=more)
    st.session_state["bulk_note"] = ""
    _select(st.session_state.get("sel_id"))


def table_panel(frame: pd.DataFrame, everything: pd.DataFrame, path, articles: dict[str, dict]) -> None:
    """The incident table, the review queue and bulk decisions, then the panel of the incident under review.

    The table's key changes whenever its order does or the id is set by a button, so a row selection always
    refers to the order it was made in.
    """
    done = st.session_state.pop(REVIEW_MESSAGE, None)
    if done:
        _select(st.session_state.get("sel_id"))
        st.success(escape.markdown(done))
    failed = st.session_state.pop("_bulk_error", None)
    if failed:
        st.error(escape.markdown(failed))
    reviews = ReviewStore(reviews_path(path))
    language = lang()
    queue = review_queue(frame)
    iid = st.session_state.get("sel_id")
    upcoming = next_in_queue(queue, iid)
    top = st.columns([2, 3], vertical_alignment="bottom")
    top[0].button(t("table.next"), key="review_next", disabled=upcoming is None, on_click=_select, args=(upcoming,),
                  help=t("table.next.help", n=len(queue)) if queue else t("table.next.none"), type="primary",
                  icon=":material/skip_next:")
    columns = top[1].multiselect(t("table.columns"), TABLE_COLUMNS, default=DEFAULT_COLUMNS, key="table_columns",
                                 format_func=lambda c: i18n.text(f"field.{c}", language))
    columns = [c for c in TABLE_COLUMNS if c in columns] or DEFAULT_COLUMNS  # table order, never empty

    frame = table_order(frame)
    if len(frame) > TABLE_ROWS:
        st.caption(t("table.first_rows", rows=i18n.number(TABLE_ROWS, lang()), total=i18n.number(len(frame), lang())))
        frame = frame.head(TABLE_ROWS)
    ids = frame["id"].tolist()
    view = table_view(frame, columns, lang())
    config = {t(f"field.{c}"): st.column_config.TextColumn(t(f"field.{c}"), width=_WIDTHS.get(c, 100),
                                                           help=t(f"field.{c}.help")) for c in columns}
    digest = hashlib.blake2b("\n".join(ids).encode(), digest_size=8).hexdigest()
    key = f"incident_table_{st.session_state.get('_table_gen', 0)}_{digest}"
    event = st.dataframe(view, hide_index=True, width="stretch", key=key, on_select="rerun",
                         selection_mode="multi-row", column_config=config)
    rows = [r for r in (event.selection.rows if event and event.selection else []) if 0 <= r < len(ids)]
    last_key, last_rows = st.session_state.get("_table_pick", (None, []))
    added = [r for r in rows if key != last_key or r not in last_rows]
    if added:  # the row ticked last is the one read and reviewed below
        st.session_state["sel_id"] = ids[added[-1]]
    elif key == last_key and last_rows and not rows:  # the analyst cleared the selection
        st.session_state["sel_id"] = None
    st.session_state["_table_pick"] = (key, rows)
    picked = [ids[r] for r in rows]
    if len(picked) > 1:
        with st.container(border=True):
            st.markdown(t("table.bulk", n=len(picked)))
            st.text_input(t("review.note"), key="bulk_note")
            a, b, _ = st.columns([1, 1, 3])
            a.button(t("table.bulk.confirm", n=len(picked)), key="bulk_confirm", on_click=_bulk,
                     args=(picked, "confirmed", everything, reviews), icon=":material/done_all:")
            b.button(t("table.bulk.reject", n=len(picked)), key="bulk_reject", on_click=_bulk,
                     args=(picked, "rejected", everything, reviews), help=t("review.reject.help"),
                     icon=":material/block:")

    iid = st.session_state.get("sel_id")
    if not iid:
        st.caption(t("table.pick"))
        return
    match = everything[everything["id"] == iid]
    if match.empty:
        st.info(t("table.gone"))
        return
    row = match.iloc[0]
    if iid not in set(ids):
        st.caption(escape.markdown(t("table.outside", status=i18n.label("status", row["review_status"], lang()))))
    record = articles.get(row["article"])
    if record:
        st.html(article_html(record, int(row["evidence_start"]), int(row["evidence_end"]), lang()))
    review_panel(row, reviews)
    if record:
        add_incident_form(record, reviews)


def article_html(record: dict, start: int, end: int, language: str = i18n.DEFAULT) -> str:
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
        label = escape.html_text(i18n.text("table.original", language))
        link = " · " + (escape.link(url, label) if escape.safe_url(url) else escape.html_text(url))
    body = (escape.html_text(text[:start]) + "<mark>" + escape.html_text(text[start:end]) + "</mark>"
            + escape.html_text(text[end:])).replace("\n\n", "</p><p>")
    return (f"<div style='max-height:420px;overflow:auto;border:1px solid #ddd;padding:8px 12px'>"
            f"<h4 style='margin:0'>{title}</h4><div style='color:#666'>{meta}{link}</div><p>{body}</p></div>")
