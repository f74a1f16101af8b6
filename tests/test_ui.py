"""The Streamlit app through ``streamlit.testing.v1.AppTest``, on a store built from the seeds."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import escape, pipeline, store
from dashboard.ui import headline
from dashboard.ui_table import article_html
from tests.conftest import SEEDS

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


@pytest.fixture(scope="module")
def store_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ui") / "s.sqlite"
    pipeline.build([SEEDS], path=path)
    return path


@pytest.fixture
def app(store_file, monkeypatch):
    monkeypatch.setenv("INCIDENT_MAP_STORE", str(store_file))
    at = AppTest.from_file(APP, default_timeout=90)
    return at


def metrics(at):
    return {m.label: m.value for m in at.metric}


def test_default_view(app):
    app.run()
    assert not app.exception
    # 9 events (background statistics off): 14 killed (1 + 3 + 10), 4 wounded, 1,417 + 1,500 kg, 23 airstrips
    assert metrics(app) == {"Incidents": "9", "Killed": "14", "Wounded": "4", "Kilograms seized": "2,917",
                            "Airstrips destroyed": "23"}


def test_type_filter(app):
    app.run()
    app.multiselect(key="f_types").set_value(["ambush"]).run()
    assert not app.exception
    assert metrics(app)["Incidents"] == "4" and metrics(app)["Kilograms seized"] == "0"
    assert app.query_params["type"] == ["ambush"] or app.query_params["type"] == "ambush"


def test_background_toggle(app):
    app.run()
    app.checkbox(key="f_background").check().run()
    assert metrics(app)["Incidents"] == "11"
    assert metrics(app)["Airstrips destroyed"] == "208"  # 23 + the 185 of the 2014 statistic


def test_region_and_text_filters(app):
    app.run()
    app.multiselect(key="f_regions").set_value(["Loreto"]).run()
    assert metrics(app)["Incidents"] == "1" and metrics(app)["Killed"] == "1"
    app.multiselect(key="f_regions").set_value([]).run()
    app.text_input(key="f_text").set_value("helicopters").run()
    assert metrics(app)["Incidents"] == "1" and metrics(app)["Kilograms seized"] == "1,500"


def test_date_filter(app):
    import datetime as dt

    app.run()
    app.date_input(key="f_dates").set_value((dt.date(2017, 1, 1), dt.date(2017, 7, 22))).run()
    # 001 ambush and seizure, 002 two labs, the ambush and the arrest
    assert metrics(app)["Incidents"] == "6"


def test_filter_state_comes_from_the_url(store_file, monkeypatch):
    monkeypatch.setenv("INCIDENT_MAP_STORE", str(store_file))
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["type"] = "seizure,lab_dismantling"
    at.run()
    assert not at.exception
    assert at.multiselect(key="f_types").value == ["seizure", "lab_dismantling"]
    assert metrics(at)["Incidents"] == "3"


def test_headline_figures(store_file):
    frame = store.load(store_file)
    assert headline(frame[frame["type"] == "seizure"]) == {
        "incidents": 2, "killed": 0, "wounded": 0, "kg": 3417.0, "airstrips": 0}


def test_article_html_escapes_and_marks_evidence():
    record = {"name": "a.txt", "title": "<script>x</script>", "text": "One <b>two</b>.\n\nThree four.",
              "url": "javascript:alert(1)\" onclick=\"x", "outlet": None, "published": "2020-01-01"}
    out = article_html(record, 0, 15)
    assert "<script>x</script>" not in out and "&lt;script&gt;" in out
    assert "<mark>One &lt;b&gt;two&lt;/b&gt;.</mark>" in out
    assert 'onclick="x' not in out


def test_rejected_incidents_leave_the_figures(store_file, tmp_path, monkeypatch):
    import shutil

    from dashboard.review import ReviewStore, reviews_path

    db = tmp_path / "copy.sqlite"
    shutil.copy(store_file, db)
    frame = store.load(db)
    callao = frame[frame["location_id"] == "town:callao"].iloc[0]
    ReviewStore(reviews_path(db)).set_status(callao["id"], "rejected")
    monkeypatch.setenv("INCIDENT_MAP_STORE", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    assert metrics(at)["Incidents"] == "8" and metrics(at)["Kilograms seized"] == "1,500"
    at.multiselect(key="f_status").set_value(["rejected"]).run()
    assert metrics(at)["Incidents"] == "1" and metrics(at)["Kilograms seized"] == "1,417"


def test_upload_preview_highlights_escaped_evidence():
    from dashboard.ui_upload import highlighted

    out = highlighted("A <b>x</b>. Police seized 2 kg.\n\nEnd.", [(12, 31)])
    assert out == "A &lt;b&gt;x&lt;/b&gt;. <mark>Police seized 2 kg.</mark></p><p>End."


def _markdown_literal(source: str) -> str:
    """What Markdown shows for ``source`` when every ASCII punctuation character in it is backslash-escaped.

    Fails when any punctuation is left unescaped, i.e. when Markdown could read it as syntax (an image, a link,
    emphasis, maths, a colour directive).
    """
    import string

    out, i = [], 0
    while i < len(source):
        if source[i] == "\\":
            assert source[i + 1] in string.punctuation, source
            out.append(source[i + 1])
            i += 2
        else:
            assert source[i] not in string.punctuation, f"unescaped {source[i]!r} in {source!r}"
            out.append(source[i])
            i += 1
    return "".join(out)


HOSTILE_MD = "![x](http://203.0.113.9/pwned.png) **b** [l](javascript:alert(1)) $x$ :red[c] <img src=x>"


def test_article_html_links_only_http_urls():
    record = {"name": "a.txt", "title": "T", "text": "Body.", "outlet": "O", "published": "2020-01-01"}
    for bad in ("javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
                "vbscript:msgbox(1)", "java\tscript:alert(1)"):
        out = article_html({**record, "url": bad}, 0, 5)
        assert "<a" not in out and "href" not in out
        assert escape.html_text(bad) in out  # shown, as text
    out = article_html({**record, "url": "https://example.org/x?a=1&b=2"}, 0, 5)
    assert '<a href="https://example.org/x?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">original</a>' in out
    missing = article_html({**record, "url": float("nan"), "outlet": float("nan"), "title": None}, 0, 5)
    assert "nan" not in missing and "<h4 style='margin:0'>a.txt</h4>" in missing


def test_review_messages_show_typed_text_literally():
    def app():
        from dashboard.ui_review import _valid_dates
        from tests.test_ui import HOSTILE_MD

        _valid_dates({"date": HOSTILE_MD})

    at = AppTest.from_function(app, default_timeout=60)
    at.run()
    assert not at.exception
    assert [_markdown_literal(e.value) for e in at.error] == [f"Date {HOSTILE_MD!r} is not a date (YYYY-MM-DD)."]


def test_review_error_from_the_store_is_plain_text(store_file, tmp_path, monkeypatch):
    """A ReviewError message quotes the rejected value: it is shown as text, not Markdown."""
    from dashboard.review import ReviewError, ReviewStore

    def refuse(self, *args, **kwargs):
        raise ReviewError(f"date must be str, got {HOSTILE_MD!r}")

    monkeypatch.setattr(ReviewStore, "correct", refuse)
    frame = store.load(store_file)
    row = frame[frame["location_id"] == "town:callao"].iloc[0]

    def app(row, reviews_file):
        from dashboard.review import ReviewStore
        from dashboard.ui_review import review_panel

        review_panel(row, ReviewStore(reviews_file))

    at = AppTest.from_function(app, default_timeout=60, args=(row, tmp_path / "r.sqlite"))
    at.run()
    date_box = next(t for t in at.text_input if t.label == "Date (YYYY-MM-DD)")
    date_box.set_value("2017-03-20")
    next(b for b in at.button if b.label == "Save corrections").click()
    at.run()
    assert not at.exception
    assert [_markdown_literal(e.value) for e in at.error] == [f"date must be str, got {HOSTILE_MD!r}"]


def test_store_name_in_the_caption_is_plain_text(store_file, tmp_path, monkeypatch):
    import shutil

    db = tmp_path / "s_[x](pwned.png)_**b**.sqlite"
    shutil.copy(store_file, db)
    monkeypatch.setenv("INCIDENT_MAP_STORE", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    (caption,) = [c.value for c in at.caption if "incidents match the filters" in c.value]
    head, name = caption.split(" · store: ")
    assert head == "9 of 11 incidents match the filters" and _markdown_literal(name) == db.name


def test_upload_preview_has_a_time_budget_per_article():
    from datetime import date

    from dashboard.corpus import parse_article
    from dashboard.extraction import Extractor
    from dashboard.ui_upload import preview

    small = parse_article(b"Police seized 90 kilograms of cocaine in Tocache on May 2.\n", "small.txt",
                          {"published": date(2021, 5, 4)})
    huge = parse_article(b"Police seized 90 kilograms of cocaine in Tocache on May 2. " * 5000, "huge.txt",
                         {"published": date(2021, 5, 4)})
    seen = []
    out = preview([huge, small], Extractor(), budget=0.05, on_progress=lambda n, total: seen.append((n, total)))
    (a1, inc1, problem1), (a2, inc2, problem2) = out
    assert a1.name == "huge.txt" and inc1 == [] and "huge.txt" in problem1
    assert a2.name == "small.txt" and problem2 is None and [i.type for i in inc2] == ["seizure"]
    assert seen == [(1, 2), (2, 2)]


# --- the review flow, the date range after an upload, counts that agree -------------------------------------


@pytest.fixture
def own_store(store_file, tmp_path, monkeypatch):
    """A copy of the seed store that a test may review or add to, opened by the app."""
    import shutil

    db = tmp_path / "own.sqlite"
    shutil.copy(store_file, db)
    monkeypatch.setenv("INCIDENT_MAP_STORE", str(db))
    return db


def _incident(db, kind: str, day: str):
    frame = store.load(db)
    return frame[(frame["type"] == kind) & (frame["date"] == day)].iloc[0]


def _table_key(at) -> str:
    return next(d.key for d in at.dataframe if d.key and d.key.startswith("incident_table"))


def _select_row(at, n: int) -> None:
    """What a click on the table's n-th row does: the dataframe's selection state (AppTest cannot click it)."""
    at.session_state[_table_key(at)] = {"selection": {"rows": [n], "columns": [], "cells": []}}
    at.run()


def _decisions(db) -> list[tuple[str, str]]:
    """(incident id, status set), in the order the analyst set them."""
    from dashboard.review import ReviewStore, reviews_path

    return [(e.incident_id, e.new) for e in ReviewStore(reviews_path(db)).history() if e.field == "status"]


def _row_of(at, day: str, kind: str) -> int:
    """The table row showing the incident of ``kind`` (its label) on ``day`` (as the table writes it)."""
    view = at.dataframe[0].value
    return next(n for n, r in enumerate(view.to_dict("records")) if r["Date"] == day and r["Type"] == kind)


def test_review_follows_the_incident_not_the_row(own_store):
    ambush = _incident(own_store, "ambush", "2017-03-18")
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.radio(key="f_view").set_value("review").run()
    _select_row(at, _row_of(at, "18 Mar 2017", "Ambush"))
    assert at.query_params["incident"] in (ambush["id"], [ambush["id"]])
    at.button(key=f"confirm_{ambush['id']}").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        escape.markdown(f"Confirmed: ambush, 18 Mar 2017, {ambush['place']}.")]
    # the table re-sorted (the ambush went down among the confirmed), yet the panel still shows the ambush:
    # a second click confirms it again, not the incident now in its old row
    panel = escape.markdown(f"ambush, 18 Mar 2017, {ambush['place']}")
    assert f"**Review** · {panel} · status: confirmed" in [m.value for m in at.markdown]
    at.button(key=f"confirm_{ambush['id']}").click().run()
    assert _decisions(own_store) == [(ambush["id"], "confirmed")] * 2
    # only when asked: the next incident needing review is the one with the lowest confidence
    frame = store.load(own_store)
    pending = frame[~frame["background"] & (frame["id"] != ambush["id"])].sort_values("confidence")
    assert pending["confidence"].iloc[0] < pending["confidence"].iloc[1]  # one lowest, whatever the order rule
    lowest = pending.iloc[0]
    at.button(key="review_next").click().run()
    assert at.query_params["incident"] in (lowest["id"], [lowest["id"]])
    at.button(key=f"reject_{lowest['id']}").click().run()
    assert not at.exception
    assert at.success[0].value.startswith(escape.markdown("Rejected: ")) and lowest["id"] != ambush["id"]
    assert _decisions(own_store) == [(ambush["id"], "confirmed")] * 2 + [(lowest["id"], "rejected")]
    # then the second lowest
    at.button(key="review_next").click().run()
    assert at.query_params["incident"] in (pending.iloc[1]["id"], [pending.iloc[1]["id"]])


def test_review_opens_the_incident_in_the_url(own_store):
    arrest = _incident(own_store, "arrest", "2017-07-21")
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["incident"] = arrest["id"]
    at.run()
    at.radio(key="f_view").set_value("review").run()
    at.button(key=f"confirm_{arrest['id']}").click().run()
    assert _decisions(own_store) == [(arrest["id"], "confirmed")]


def test_selected_row_then_rejected_filter_shows_no_traceback(own_store):
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.radio(key="f_view").set_value("review").run()
    _select_row(at, 8)  # the last of the 9 rows
    at.multiselect(key="f_status").set_value(["rejected"]).run()  # none is rejected: an empty table
    assert not at.exception
    assert at.dataframe[0].value.empty
    assert any("outside the current filters" in c.value for c in at.caption)


def test_a_failing_view_shows_a_sentence_not_a_traceback(own_store, monkeypatch):
    import altair

    def broken(*args, **kwargs):
        raise IndexError("single positional indexer is out-of-bounds")

    monkeypatch.setattr(altair, "Chart", broken)  # the timeline, the default panel, fails
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "went wrong" in at.error[0].value and "IndexError" not in at.error[0].value
    assert metrics(at)["Incidents"] == "9"  # the rest of the page is drawn


def test_a_damaged_store_is_refused_in_a_sentence(tmp_path, monkeypatch):
    db = tmp_path / "damaged.sqlite"
    db.write_bytes(b"not an SQLite file, whatever its name says\n" * 50)
    monkeypatch.setenv("INCIDENT_MAP_STORE", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    (message,) = [e.value for e in at.error]
    assert "is damaged" in message and "left untouched" in message  # the store's own sentence, escaped
    assert db.read_bytes() == b"not an SQLite file, whatever its name says\n" * 50  # left as it was


def _ingest_later_seizure(db) -> None:
    from datetime import date

    from dashboard.corpus import parse_article

    art = parse_article(b"Police seized 75 kilograms of cocaine in Tocache on 3 May 2021.\n", "later.txt",
                        {"published": date(2021, 5, 4)})
    pipeline.ingest([art], db)


def test_date_range_left_at_its_end_grows_with_the_data(own_store):
    import datetime as dt

    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert at.date_input(key="f_dates").value[1] == dt.date(2017, 7, 22)  # the seeds' last date
    _ingest_later_seizure(own_store)
    at.run()
    assert not at.exception
    assert at.date_input(key="f_dates").value == (dt.date(2014, 1, 1), dt.date(2021, 5, 3))
    assert metrics(at)["Incidents"] == "10"
    assert "until" not in at.query_params and "since" not in at.query_params


def test_date_range_chosen_by_the_analyst_is_kept(own_store):
    import datetime as dt

    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.date_input(key="f_dates").set_value((dt.date(2017, 1, 1), dt.date(2017, 6, 30))).run()
    _ingest_later_seizure(own_store)
    at.run()
    assert at.date_input(key="f_dates").value == (dt.date(2017, 1, 1), dt.date(2017, 6, 30))
    assert at.query_params["until"] in ("2017-06-30", ["2017-06-30"])


def test_sidebar_type_counts_follow_reviews(own_store):
    from dashboard.review import ReviewStore, reviews_path

    lab = _incident(own_store, "lab_dismantling", "2017-07-22")
    ReviewStore(reviews_path(own_store)).set_status(lab["id"], "rejected")
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    # two labs in the seeds, one rejected; the seizures: Callao only (the VRAEM one is a background total)
    options = at.multiselect(key="f_types").options
    assert "Lab dismantling (1)" in options and "Drug seizure (1)" in options


def _chart_specs(at) -> list[dict]:
    import json

    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def test_department_chart_and_table_share_their_order_and_say_how_areas_count(app):
    app.run()
    app.radio(key="f_view").set_value("departments").run()
    assert not app.exception
    table = app.dataframe[0].value
    (spec,) = _chart_specs(app)
    assert spec["encoding"]["y"]["sort"] == table["Department"].tolist()
    counts = table["Incidents"].tolist()
    assert counts == sorted(counts, reverse=True)
    # 9 events, all in a department; the VRAEM ones touch 3 and the airstrips 3: the sum exceeds 9
    (caption,) = [c.value for c in app.caption if "counts once in every department" in c.value]
    assert f"add up to {sum(counts)}" in caption and "of these 9 incidents" in caption
    assert sum(counts) > 9


def test_timeline_counts_whole_incidents(app):
    app.run()
    (spec,) = _chart_specs(app)
    axis = spec["encoding"]["y"]["axis"]
    assert axis["tickMinStep"] == 1 and axis["format"] == "d"


def test_a_correction_says_what_changed(own_store):
    ambush = _incident(own_store, "ambush", "2017-03-18")
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["incident"] = ambush["id"]
    at.run()
    at.radio(key="f_view").set_value("review").run()
    next(n for n in at.number_input if n.label == "Killed").set_value(4)
    next(b for b in at.button if b.label == "Save corrections").click()
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        escape.markdown(f"Corrected: ambush, 18 Mar 2017, {ambush['place']} (Killed).")]
    panel = escape.markdown(f"ambush, 18 Mar 2017, {ambush['place']}")
    assert f"**Review** · {panel} · status: corrected" in [m.value for m in at.markdown]


def test_a_second_visitor_gets_the_map_document_without_building_it(store_file, monkeypatch):
    from dashboard import mapdata, ui, ui_map, ui_summary

    monkeypatch.setenv("INCIDENT_MAP_STORE", str(store_file))
    ui_map._document.clear()
    ui._headline.clear()
    ui_summary._monthly.clear()
    built, summed, grouped = [], [], []
    real, real_headline, real_monthly = mapdata.payload, ui.headline, ui_summary.monthly_counts
    monkeypatch.setattr(mapdata, "payload", lambda *a, **k: built.append(1) or real(*a, **k))
    monkeypatch.setattr(ui, "headline", lambda f: summed.append(1) or real_headline(f))
    monkeypatch.setattr(ui_summary, "monthly_counts", lambda f: grouped.append(1) or real_monthly(f))
    first = AppTest.from_file(APP, default_timeout=90).run()
    second = AppTest.from_file(APP, default_timeout=90).run()  # a new session, the same view
    assert not first.exception and not second.exception
    assert len(built) == 1 and len(summed) == 1 and len(grouped) == 1
    assert metrics(second) == metrics(first)
    second.multiselect(key="f_types").set_value(["ambush"]).run()  # another view: its own document
    assert len(built) == 2
    first.multiselect(key="f_types").set_value(["ambush"]).run()  # ... which the first visitor then reuses
    assert len(built) == 2


def test_confirming_keeps_the_map_arrays_a_correction_recomputes_them(tmp_path, monkeypatch):
    from dashboard import mapdata
    from dashboard.review import ReviewStore, reviews_path

    db = tmp_path / "s.sqlite"
    pipeline.build([SEEDS], path=db)
    monkeypatch.setenv("INCIDENT_MAP_STORE", str(db))
    computed = []
    real = mapdata.columns
    monkeypatch.setattr(mapdata, "columns", lambda frame: computed.append(len(frame)) or real(frame))
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception and len(computed) == 1
    frame = store.load(db)
    frame = frame[~frame["background"]]  # events: the figures count them
    rs = ReviewStore(reviews_path(db))
    rs.set_status(frame["id"].iloc[0], "rejected")  # a status: the places and dates are the same
    at.run()
    assert not at.exception and len(computed) == 1
    assert metrics(at)["Incidents"] == "8"  # ... but the figures and the map follow the review
    rs.correct(frame["id"].iloc[1], {"place_ids": ["town:caballococha"]}, original={})
    at.run()
    assert not at.exception and len(computed) == 2
