"""The Streamlit app through ``streamlit.testing.v1.AppTest``, on a store built from the seeds."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import pipeline, store
from dashboard.ui import article_html, headline
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
        "Incidents": 2, "Killed": 0, "Wounded": 0, "Kilograms seized": 3417.0, "Airstrips destroyed": 0}


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
