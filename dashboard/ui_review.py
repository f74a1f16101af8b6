"""The dashboard's review panel: confirm, correct or reject the selected incident; add a missed one.

Streamlit renders messages as Markdown: anything an analyst typed or an article holds goes through
:func:`dashboard.escape.markdown` first, so it shows as typed.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import escape
from dashboard.extraction import split_sentences
from dashboard.gazetteer import default_gazetteer
from dashboard.review import ReviewError, ReviewStore
from dashboard.taxonomy import incident_types

PRECISIONS = ["day", "range", "month", "year"]
#: Session-state key of the sentence that says what the last review did; the dashboard shows it after the rerun.
REVIEW_MESSAGE = "review_message"


def _day(text: str) -> str:
    """``2017-03-18`` as ``18 Mar 2017``; anything else as it is."""
    try:
        d = date.fromisoformat(text)
    except (TypeError, ValueError):
        return str(text)
    return f"{d.day} {d:%b %Y}"


def incident_summary(row) -> str:
    """``ambush, 18 Mar 2017, VRAEM``: what an analyst needs to recognise an incident (plain text)."""
    types = incident_types()
    kind = row.get("type")
    label = types[kind].label.lower() if kind in types else escape.text(kind)
    start, end, prec = row.get("date"), row.get("date_end"), row.get("date_precision")
    if not isinstance(start, str) or not start:
        when = "date unknown"
    elif prec == "month":
        when = f"{date.fromisoformat(start[:7] + '-01'):%b %Y}" if len(start) >= 7 else start
    elif prec == "year":
        when = start[:4]
    elif isinstance(end, str) and end and end != start:
        when = f"{_day(start)} – {_day(end)}"
    else:
        when = _day(start)
    place = escape.text(row.get("place")) or "place unknown"
    return f"{label}, {when}, {place}"


def _done(action: str, row, detail: str = "") -> None:
    """Remember what was done, as a sentence, and rerun so that every view shows the new state."""
    st.session_state[REVIEW_MESSAGE] = f"{action}: {incident_summary(row)}{detail}."
    st.rerun()


def _opt_int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _opt_float(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _place_ids(text: str) -> list[str] | None:
    """Place ids for what an analyst typed: gazetteer ids as they are, else the best match of each name."""
    g = default_gazetteer()
    ids = []
    for part in [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]:
        if part in g.places:
            ids.append(part)
            continue
        match = g.match(part)
        if not match:
            st.error(escape.markdown(f"No place called {part!r} in the gazetteer."))
            return None
        ids.append(match[0].id)
    return ids


def review_panel(row: pd.Series, reviews: ReviewStore) -> None:
    """Status buttons, a correction form and the audit trail of one incident."""
    iid = row["id"]
    # which incident the buttons act on, in words: the table's row selection is cleared after each review
    st.markdown(f"**Review** · {escape.markdown(incident_summary(row))} · "
                f"status: {escape.markdown(row.get('review_status', 'needs review'))}")
    c1, c2, c3 = st.columns(3)
    note = st.text_input("Note for the audit trail", key=f"note_{iid}")
    if c1.button("Confirm", key=f"confirm_{iid}"):
        reviews.set_status(iid, "confirmed", note or None)
        _done("Confirmed", row)
    if c2.button("Reject", key=f"reject_{iid}", help="Hidden from the map and exports, not deleted."):
        reviews.set_status(iid, "rejected", note or None)
        _done("Rejected", row, " (hidden from the map and exports; choose 'rejected' under Review status to see it)")
    if c3.button("Needs review", key=f"reset_{iid}"):
        reviews.set_status(iid, "needs review", note or None)
        _done("Sent back to review", row)
    types = incident_types()
    with st.form(key=f"correct_{iid}"):
        st.caption("Correct the fields that are wrong; only changed fields are saved.")
        a, b, c = st.columns(3)
        kind = a.selectbox("Type", list(types), index=list(types).index(row["type"]) if row["type"] in types else 0,
                           format_func=lambda k: types[k].label)
        start = b.text_input("Date (YYYY-MM-DD)", value=row.get("date") or "")
        end = c.text_input("Date end", value=row.get("date_end") or "")
        precision = a.selectbox("Date precision", PRECISIONS,
                                index=PRECISIONS.index(row["date_precision"])
                                if row.get("date_precision") in PRECISIONS else 0)
        place = b.text_input("Place (names or gazetteer ids, comma-separated)",
                             value=", ".join(row.get("place_ids") or []))
        actors = c.text_input("Actors (comma-separated)", value=", ".join(row.get("actors") or []))
        killed = a.number_input("Killed", min_value=0, value=_opt_int(row.get("killed")), step=1)
        wounded = b.number_input("Wounded", min_value=0, value=_opt_int(row.get("wounded")), step=1)
        kg = c.number_input("Quantity (kg)", min_value=0.0, value=_opt_float(row.get("quantity_kg")))
        count = a.number_input("Count", min_value=0, value=_opt_int(row.get("count")), step=1)
        if st.form_submit_button("Save corrections"):
            new = {"type": kind, "date": start or None, "date_end": end or start or None,
                   "date_precision": precision,
                   "killed": None if killed is None else int(killed),
                   "wounded": None if wounded is None else int(wounded),
                   "quantity_kg": None if kg is None else float(kg), "count": None if count is None else int(count),
                   "actors": [x.strip() for x in actors.split(",") if x.strip()]}
            ids = _place_ids(place)
            if ids is not None:
                new["place_ids"] = ids
            old = row.to_dict()
            changes = {k: v for k, v in new.items() if _differs(old.get(k), v)}
            if _valid_dates(changes):
                try:
                    if changes:
                        reviews.correct(iid, changes, original=old, note=note or None)
                        _done("Corrected", {**old, **changes}, " (" + ", ".join(changes) + ")")
                    st.info("Nothing changed.")
                except ReviewError as exc:
                    st.error(escape.markdown(exc))
    trail = reviews.history(iid)
    if trail:
        st.dataframe(pd.DataFrame([{"when": e.at, "action": e.action, "field": e.field, "from": str(e.old),
                                    "to": str(e.new), "note": e.note} for e in trail]),
                     hide_index=True, width="stretch")


def _differs(old, new) -> bool:
    if old is None or (not isinstance(old, list) and pd.isna(old)):
        old = None
    if isinstance(old, list) or isinstance(new, list):
        return list(old or []) != list(new or [])
    if isinstance(old, float) and isinstance(new, float):
        return abs(old - new) > 1e-9
    return old != new


def _valid_dates(changes: dict) -> bool:
    for key in ("date", "date_end"):
        if changes.get(key):
            try:
                date.fromisoformat(changes[key])
            except ValueError:
                st.error(escape.markdown(f"{key} {changes[key]!r} is not a date (YYYY-MM-DD)."))
                return False
    return True


def add_incident_form(article: dict, reviews: ReviewStore) -> None:
    """Add an incident the extractor missed, pointing at its sentence in the article."""
    sentences = split_sentences(article["text"])
    if not sentences:
        return
    types = incident_types()
    with st.form(key=f"add_{article['name']}"):
        st.caption("Add an incident the extractor missed in this article.")
        pick = st.selectbox("Evidence sentence", range(len(sentences)),
                            format_func=lambda i: sentences[i].text[:140])
        a, b, c = st.columns(3)
        kind = a.selectbox("Type", list(types), format_func=lambda k: types[k].label)
        day = b.text_input("Date (YYYY-MM-DD)")
        place = c.text_input("Place (name or gazetteer id)")
        killed = a.number_input("Killed", min_value=0, value=None, step=1)
        wounded = b.number_input("Wounded", min_value=0, value=None, step=1)
        kg = c.number_input("Quantity (kg)", min_value=0.0, value=None)
        if st.form_submit_button("Add incident"):
            ids = _place_ids(place) if place.strip() else []
            if ids is None or not _valid_dates({"date": day}):
                return
            sent = sentences[pick]
            record = {"type": kind, "article": article["name"], "evidence_start": sent.start,
                      "evidence_end": sent.end, "date": day or None, "date_end": day or None,
                      "date_precision": "day" if day else None, "place_ids": ids,
                      "killed": None if killed is None else int(killed),
                      "wounded": None if wounded is None else int(wounded),
                      "quantity_kg": None if kg is None else float(kg)}
            try:
                reviews.add(record)
            except ReviewError as exc:
                st.error(escape.markdown(exc))
                return
            _done("Added", {**record, "place": place.strip()})
