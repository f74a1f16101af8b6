"""The dashboard's review panel: confirm, correct or reject the selected incident; add a missed one.

Streamlit renders messages as Markdown: anything an analyst typed or an article holds goes through
:func:`dashboard.escape.markdown` first, so it shows as typed.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import streamlit as st

from dashboard import escape, i18n
from dashboard.extraction import split_sentences
from dashboard.gazetteer import default_gazetteer
from dashboard.review import ReviewError, ReviewStore
from dashboard.taxonomy import incident_types
from dashboard.ui_i18n import lang, t

PRECISIONS = ["day", "range", "month", "year"]
#: Session-state key of the sentence that says what the last review did; the dashboard shows it after the rerun.
REVIEW_MESSAGE = "review_message"


def _day(text: str, language: str) -> str:
    """``2017-03-18`` as ``18 Mar 2017`` (``18 mar. 2017``); anything else as it is."""
    try:
        d = date.fromisoformat(text)
    except (TypeError, ValueError):
        return str(text)
    return i18n.day(d, language)


def incident_summary(row, language: str = i18n.DEFAULT) -> str:
    """``ambush, 18 Mar 2017, VRAEM``: what an analyst needs to recognise an incident (plain text)."""
    types = incident_types()
    kind = row.get("type")
    label = types[kind].label_in(language).lower() if kind in types else escape.text(kind)
    start, end, prec = row.get("date"), row.get("date_end"), row.get("date_precision")
    if not isinstance(start, str) or not start:
        when = i18n.text("review.date_unknown", language)
    elif prec == "month":
        when = i18n.month(date.fromisoformat(start[:7] + "-01"), language) if len(start) >= 7 else start
    elif prec == "year":
        when = start[:4]
    elif isinstance(end, str) and end and end != start:
        when = f"{_day(start, language)} – {_day(end, language)}"
    else:
        when = _day(start, language)
    place = escape.text(row.get("place")) or i18n.text("review.place_unknown", language)
    return f"{label}, {when}, {place}"


def _done(action: str, row, detail: str = "") -> None:
    """Remember what was done, as a sentence, and rerun so that every view shows the new state."""
    st.session_state[REVIEW_MESSAGE] = t(f"review.done.{action}", what=incident_summary(row, lang()), detail=detail)
    st.rerun()


def _blank(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def date_label(row, language: str) -> str:
    """An incident's date as the language writes it (``18 Mar 2017``, ``Mar 2017``, a range); blank if none."""
    start, end, prec = row.get("date"), row.get("date_end"), row.get("date_precision")
    if _blank(start) or not start:
        return ""
    try:
        first = date.fromisoformat(str(start)[:10])
    except ValueError:
        return str(start)
    if prec == "year":
        return str(first.year)
    if prec == "month":
        return i18n.month(first, language)
    if isinstance(end, str) and end and end != start:
        try:
            return f"{i18n.day(first, language)} – {i18n.day(date.fromisoformat(end[:10]), language)}"
        except ValueError:
            pass
    return i18n.day(first, language)


def _opt_int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _opt_float(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


@st.cache_resource(show_spinner=False, max_entries=2)
def place_choices(language: str) -> dict[str, str]:
    """Gazetteer places an analyst may choose, by id, each named with its kind, province and department.

    Towns, districts, provinces, departments, zones and rivers; "Pichari (district, La Convención, Cusco)" tells
    apart places of one name.
    """
    g = default_gazetteer()
    choices = {}
    for pid, place in g.places.items():
        if place.kind == "country":
            continue
        where = [i18n.text(f"review.kind.{place.kind}", language) if i18n.has(f"review.kind.{place.kind}")
                 else place.kind]
        where += [x for x in (place.province, place.department) if x and x != place.name]
        choices[pid] = f"{place.name} ({', '.join(where)})"
    return dict(sorted(choices.items(), key=lambda kv: kv[1].casefold()))


def _place_picker(where, label: str, key: str, chosen: list[str]) -> list[str]:
    """A multiselect of place names (their ids kept behind the names); an unknown stored id stays choosable."""
    choices = place_choices(lang())
    options = list(choices) + [p for p in chosen if p not in choices]
    return where.multiselect(label, options, default=[p for p in chosen if p in options], key=key,
                             format_func=lambda p: choices.get(p, p), placeholder=t("review.place.placeholder"))


def review_panel(row: pd.Series, reviews: ReviewStore) -> None:
    """Status buttons, a correction form and the audit trail of one incident."""
    iid = row["id"]
    language = lang()  # bound once: a widget's format function may run outside this script's session
    status = i18n.label("status", row.get("review_status", "needs review"), lang())
    # which incident the buttons act on, in words: the table's row selection is cleared after each review
    st.markdown(t("review.heading", what=escape.markdown(incident_summary(row, lang())),
                  status=escape.markdown(status)))
    c1, c2, c3 = st.columns(3)
    note = st.text_input(t("review.note"), key=f"note_{iid}")
    if c1.button(t("review.confirm"), key=f"confirm_{iid}", icon=":material/check:"):
        reviews.set_status(iid, "confirmed", note or None)
        _done("confirmed", row)
    if c2.button(t("review.reject"), key=f"reject_{iid}", help=t("review.reject.help"), icon=":material/block:"):
        reviews.set_status(iid, "rejected", note or None)
        _done("rejected", row)
    if c3.button(t("review.reset"), key=f"reset_{iid}", icon=":material/undo:"):
        reviews.set_status(iid, "needs review", note or None)
        _done("reset", row)
    types = incident_types()
    with st.form(key=f"correct_{iid}"):
        st.caption(t("review.correct.help"))
        a, b, c = st.columns(3)
        kind = a.selectbox(t("field.type"), list(types),
                           index=list(types).index(row["type"]) if row["type"] in types else 0,
                           format_func=lambda k: types[k].label_in(language))
        start = b.text_input(t("review.date"), value=row.get("date") or "")
        end = c.text_input(t("review.date_end"), value=row.get("date_end") or "")
        precision = a.selectbox(t("field.date_precision"), PRECISIONS,
                                index=PRECISIONS.index(row["date_precision"])
                                if row.get("date_precision") in PRECISIONS else 0,
                                format_func=lambda p: i18n.text(f"review.precision.{p}", language))
        places = _place_picker(b, t("review.place"), f"place_{iid}", list(row.get("place_ids") or []))
        actors = c.text_input(t("review.actors"), value=", ".join(row.get("actors") or []))
        killed = a.number_input(t("field.killed"), min_value=0, value=_opt_int(row.get("killed")), step=1)
        wounded = b.number_input(t("field.wounded"), min_value=0, value=_opt_int(row.get("wounded")), step=1)
        kg = c.number_input(t("field.quantity_kg"), min_value=0.0, value=_opt_float(row.get("quantity_kg")))
        count = a.number_input(t("field.count"), min_value=0, value=_opt_int(row.get("count")), step=1)
        if st.form_submit_button(t("review.save")):
            new = {"type": kind, "date": start or None, "date_end": end or start or None,
                   "date_precision": precision,
                   "killed": None if killed is None else int(killed),
                   "wounded": None if wounded is None else int(wounded),
                   "quantity_kg": None if kg is None else float(kg), "count": None if count is None else int(count),
                   "actors": [x.strip() for x in actors.split(",") if x.strip()], "place_ids": list(places)}
            old = row.to_dict()
            changes = {k: v for k, v in new.items() if _differs(old.get(k), v)}
            if _valid_dates(changes):
                try:
                    if changes:
                        reviews.correct(iid, changes, original=old, note=note or None)
                        fields = ", ".join(t(f"field.{k}") if i18n.has(f"field.{k}") else k for k in changes)
                        _done("corrected", {**old, **changes}, f" ({fields})")
                    st.info(t("review.unchanged"))
                except ReviewError as exc:
                    st.error(escape.markdown(exc))
    trail = reviews.history(iid)
    if trail:
        st.dataframe(pd.DataFrame([{t("audit.time"): e.at, t("audit.action"): i18n.label("action", e.action, lang()),
                                    t("audit.field"): t(f"field.{e.field}") if e.field and i18n.has(f"field.{e.field}")
                                    else escape.text(e.field), t("audit.old"): _shown(e.old),
                                    t("audit.new"): _shown(e.new), t("audit.note"): escape.text(e.note)}
                                   for e in trail]), hide_index=True, width="stretch")


def _shown(value) -> str:
    """A trail value as text: lists joined with commas, nothing as blank."""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(escape.text, value))
    return escape.text(value)


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
                st.error(escape.markdown(t("review.bad_date", field=t(f"field.{key}"), value=repr(changes[key]))))
                return False
    return True


def add_incident_form(article: dict, reviews: ReviewStore) -> None:
    """Add an incident the extractor missed, pointing at its sentence in the article."""
    sentences = split_sentences(article["text"])
    if not sentences:
        return
    types = incident_types()
    language = lang()
    with st.form(key=f"add_{article['name']}"):
        st.caption(t("review.add.help"))
        pick = st.selectbox(t("review.add.sentence"), range(len(sentences)),
                            format_func=lambda i: sentences[i].text[:140])
        a, b, c = st.columns(3)
        kind = a.selectbox(t("field.type"), list(types), format_func=lambda k: types[k].label_in(language))
        day = b.text_input(t("review.date"))
        ids = _place_picker(c, t("review.place"), f"add_place_{article['name']}", [])
        killed = a.number_input(t("field.killed"), min_value=0, value=None, step=1)
        wounded = b.number_input(t("field.wounded"), min_value=0, value=None, step=1)
        kg = c.number_input(t("field.quantity_kg"), min_value=0.0, value=None)
        if st.form_submit_button(t("review.add")):
            if not _valid_dates({"date": day}):
                return
            sent = sentences[pick]
            record = {"type": kind, "article": article["name"], "evidence_start": sent.start,
                      "evidence_end": sent.end, "date": day or None, "date_end": day or None,
                      "date_precision": "day" if day else None, "place_ids": list(ids),
                      "killed": None if killed is None else int(killed),
                      "wounded": None if wounded is None else int(wounded),
                      "quantity_kg": None if kg is None else float(kg)}
            try:
                reviews.add(record)
            except ReviewError as exc:
                st.error(escape.markdown(exc))
                return
            names = place_choices(lang())
            _done("added", {**record, "place": ", ".join(names.get(p, p).split(" (")[0] for p in ids)})
