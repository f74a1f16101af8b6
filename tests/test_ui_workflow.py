"""The analyst's workflow: review queue and bulk decisions, audit log, summaries, table labels, export header,
the panel and filters in the URL, and the dashboard in Spanish."""

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import escape, i18n, pipeline, query, store, summaries
from dashboard.review import AuditEntry, ReviewError, ReviewStore, reviews_path
from dashboard.store import EXTRA_PROPERTIES, PROPERTIES
from dashboard.ui import share_link
from dashboard.ui_export import export_header, field_descriptions, filter_lines, standalone_map_html
from dashboard.ui_table import _WIDTHS, DEFAULT_COLUMNS, next_in_queue, review_queue, table_view
from tests.conftest import SEEDS

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("workflow") / "s.sqlite"
    pipeline.build([SEEDS], path=path)
    return path


@pytest.fixture
def db(seed_store, tmp_path, monkeypatch):
    """A copy of the seed store the test may review, opened by the app."""
    path = tmp_path / "own.sqlite"
    shutil.copy(seed_store, path)
    monkeypatch.setenv("INCIDENT_MAP_STORE", str(path))
    return path


def _app(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    return at


def _param(at, name):
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def metrics(at):
    return {m.label: m.value for m in at.metric}


# --- review queue and bulk decisions ------------------------------------------------------------------------


def _frame(rows):
    base = {"date": None, "review_status": "needs review", "confidence": None}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_queue_takes_the_lowest_confidence_first_and_skips_reviewed_incidents():
    frame = _frame([{"id": "a", "date": "2020-01-01", "confidence": 0.9},
                    {"id": "b", "date": "2020-01-02", "confidence": 0.4},
                    {"id": "c", "date": "2020-01-03", "confidence": 0.4},  # ties: the table's order (recent first)
                    {"id": "d", "date": "2020-01-04", "confidence": 0.1, "review_status": "confirmed"},
                    {"id": "e", "date": "2020-01-05", "confidence": None}])  # unknown: nothing vouches for it
    assert review_queue(frame) == ["e", "c", "b", "a"]


def test_next_in_queue_moves_on_from_the_current_incident():
    queue = ["e", "c", "b"]
    assert next_in_queue(queue, None) == "e"
    assert next_in_queue(queue, "c") == "b"
    assert next_in_queue(queue, "b") == "e"  # from the last, back to the first
    assert next_in_queue(queue, "x") == "e"  # the current one was just reviewed: it left the queue
    assert next_in_queue(["e"], "e") is None
    assert next_in_queue([], None) is None


def test_set_statuses_is_one_transaction(tmp_path):
    import sqlite3

    reviews = ReviewStore(tmp_path / "r.sqlite")
    assert reviews.set_statuses(["a", "b", "a"], "confirmed", "batch") == 2
    assert [(e.incident_id, e.old, e.new, e.note) for e in reviews.history()] == [
        ("a", "needs review", "confirmed", "batch"), ("b", "needs review", "confirmed", "batch")]
    # a failure on the third incident leaves the first two as they were: all or none
    con = sqlite3.connect(reviews.path)
    con.execute("CREATE TRIGGER refuse BEFORE INSERT ON audit WHEN NEW.incident_id = 'z' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    con.commit()
    con.close()
    with pytest.raises(sqlite3.IntegrityError):
        reviews.set_statuses(["a", "b", "z"], "rejected")
    statuses, _, _ = reviews.snapshot()
    assert statuses == {"a": "confirmed", "b": "confirmed"} and len(reviews.history()) == 2
    with pytest.raises(ReviewError):
        reviews.set_statuses(["a"], "corrected")


def _table_key(at) -> str:
    return next(d.key for d in at.dataframe if d.key and d.key.startswith("incident_table"))


def test_bulk_confirm_of_a_selection_says_what_was_done(db):
    at = _app(panel="review")
    frame = store.load(db)
    # the table lists "needs review" first, most recent first: the first three rows are the lab of 22 July
    # 2017 and the ambush and arrest of 21 July 2017
    latest = frame[frame["date"].isin(["2017-07-22", "2017-07-21"]) & ~frame["background"]]
    assert len(latest) == 3
    at.session_state[_table_key(at)] = {"selection": {"rows": [0, 1, 2], "columns": [], "cells": []}}
    at.run()
    at.text_input(key="bulk_note").set_value("checked against the police report")
    at.button(key="bulk_confirm").click().run()
    assert not at.exception
    history = ReviewStore(reviews_path(db)).history()
    assert sorted(e.incident_id for e in history) == sorted(latest["id"])
    assert {(e.new, e.note) for e in history} == {("confirmed", "checked against the police report")}
    (message,) = [s.value for s in at.success]
    assert message.startswith(escape.markdown("Confirmed 3 incidents: "))
    assert escape.markdown("lab dismantling, 22 Jul 2017") in message
    assert metrics(at)["Incidents"] == "9"  # confirmed incidents stay on the map


def test_bulk_reject_hides_every_selected_incident(db):
    at = _app(panel="review")
    at.session_state[_table_key(at)] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    at.button(key="bulk_reject").click().run()
    assert not at.exception
    assert metrics(at)["Incidents"] == "7"
    assert [e.new for e in ReviewStore(reviews_path(db)).history()] == ["rejected", "rejected"]


# --- the table ----------------------------------------------------------------------------------------------


def test_table_shows_labels_not_keys_and_blank_cells(seed_store):
    frame = store.load(seed_store).assign(review_status="needs review")
    view = table_view(frame, DEFAULT_COLUMNS, "en")
    assert list(view.columns) == [i18n.text(f"field.{c}", "en") for c in DEFAULT_COLUMNS]
    assert "review_status" not in view.columns and "Status" in view.columns
    text = view.to_csv()
    assert "lab_dismantling" not in text and "None" not in text and "nan" not in text
    lab = view[view["Type"] == "Lab dismantling"]
    assert not lab.empty and set(lab["Killed"]) == {""}  # no casualties stated: blank, not None
    assert set(view["Status"]) == {"needs review"}
    es = table_view(frame, DEFAULT_COLUMNS, "es")
    assert {"Estado", "Tipo", "Muertos"} <= set(es.columns) and set(es["Estado"]) == {"por revisar"}
    assert "Desmantelamiento de laboratorio" in set(es["Tipo"])


def test_default_columns_fit_a_1400px_window_beside_the_sidebar():
    # 1400 px less the sidebar (about 300 px) and the page's side padding (about 100 px) leaves about 1000 px
    assert sum(_WIDTHS[c] for c in DEFAULT_COLUMNS) <= 1000


def test_column_chooser_changes_the_table(db):
    at = _app(panel="review")
    assert list(at.dataframe[0].value.columns) == [i18n.text(f"field.{c}", "en") for c in DEFAULT_COLUMNS]
    at.multiselect(key="table_columns").set_value(["type", "title"]).run()
    assert list(at.dataframe[0].value.columns) == ["Type", "Title"]


def test_correction_form_offers_place_names(db):
    ambush = store.load(db).pipe(lambda f: f[(f["type"] == "ambush") & (f["date"] == "2017-03-18")]).iloc[0]
    at = _app(panel="review", incident=ambush["id"])
    picker = at.multiselect(key=f"place_{ambush['id']}")
    assert "dist:090704" not in [o for o in picker.options if o.startswith("dist:")]  # ids are not shown
    assert any(o.startswith("Pichari (district") for o in picker.options)
    pichari = next(o for o in picker.options if o.startswith("Pichari (district"))
    assert "Cusco" in pichari
    picker.set_value([pichari])
    next(b for b in at.button if b.label == "Save corrections").click()
    at.run()
    assert not at.exception
    (entry,) = [e for e in ReviewStore(reviews_path(db)).history() if e.field == "place_ids"]
    assert len(entry.new) == 1 and entry.new[0].startswith("dist:")
    assert at.success[0].value.endswith(escape.markdown("(Places)."))


# --- audit log ------------------------------------------------------------------------------------------------


def test_audit_times_are_converted_to_the_users_zone():
    entries = [AuditEntry("2024-05-01T03:30:00+00:00", "a", "confirmed", "status", "needs review", "confirmed",
                          None),
               AuditEntry("2024-05-02T15:00:00+00:00", "b", "corrected", "killed", 1, 3, "=HYPERLINK(\"x\")")]
    table = summaries.audit_table(entries, {"a": "ambush, 1 May 2024, Pichari"}, summaries.local_zone("America/Lima"))
    # newest first; Lima is UTC-5 all year: 03:30 UTC on 1 May is 22:30 on 30 April there
    assert [t.strftime("%Y-%m-%d %H:%M") for t in table["time"]] == ["2024-05-02 10:00", "2024-04-30 22:30"]
    assert list(table["incident"]) == ["", "ambush, 1 May 2024, Pichari"]
    assert summaries.zone_name(summaries.local_zone("America/Lima")) == "America/Lima"
    # an unknown zone name falls back to this machine's zone rather than failing
    assert summaries.local_zone("Not/AZone").utcoffset(datetime.now()) is not None
    only = summaries.filter_audit(table, actions=["corrected"])
    assert list(only["incident_id"]) == ["b"]
    assert list(summaries.filter_audit(table, since=date(2024, 5, 1))["incident_id"]) == ["b"]  # local days
    assert list(summaries.filter_audit(table, text="pichari")["incident_id"]) == ["a"]
    out = summaries.csv_bytes(table).decode()
    assert "'=HYPERLINK" in out and ",=HYPERLINK" not in out


def test_audit_log_panel_lists_filters_and_downloads_decisions(db):
    frame = store.load(db)
    callao = frame[frame["location_id"] == "town:callao"].iloc[0]
    reviews = ReviewStore(reviews_path(db))
    reviews.set_status(callao["id"], "confirmed", "@SUM(A1) seen on TV")
    lab = frame[(frame["type"] == "lab_dismantling") & (frame["date"] == "2017-07-22")].iloc[0]
    reviews.set_status(lab["id"], "rejected")
    at = _app(panel="audit")
    log = at.dataframe[0].value
    assert list(log["Action"]) == ["rejected", "confirmed"]  # newest first
    assert log["Incident"].iloc[1] == "drug seizure, 19 Mar 2017, Callao"
    assert any("2 of 2 decisions" in c.value for c in at.caption)
    at.multiselect(key="audit_actions").set_value(["confirmed"]).run()
    assert list(at.dataframe[0].value["Note"]) == ["@SUM(A1) seen on TV"]
    at.text_input(key="audit_text").set_value("nothing like this").run()
    assert at.dataframe[0].value.empty
    assert _param(at, "panel") == "audit"


def test_audit_log_without_reviews_says_so(db):
    at = _app(panel="audit")
    assert [i.value for i in at.info] == [i18n.text("audit.empty")]


# --- summaries --------------------------------------------------------------------------------------------------


def test_casualties_per_month_lists_every_month_between():
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "date": ["2020-01-05", "2020-01-20", "2020-03-02", None],
                          "killed": [2, None, 1, 9], "wounded": [None, 4, 0, 9]})
    table = summaries.casualties_per_month(frame)
    assert table.to_dict("records") == [
        {"month": date(2020, 1, 1), "incidents": 2, "killed": 2, "wounded": 4},
        {"month": date(2020, 2, 1), "incidents": 0, "killed": 0, "wounded": 0},
        {"month": date(2020, 3, 1), "incidents": 1, "killed": 1, "wounded": 0}]


def test_actor_and_department_shares():
    frame = pd.DataFrame({"actors": [["Police", "Shining Path"], ["Police"], [], None],
                          "departments": [["Cusco", "Junín"], ["Cusco"], [], ["Lima"]]})
    actors = summaries.per_actor(frame)
    assert actors.to_dict("records") == [{"actor": "Police", "incidents": 2, "share": 1.0},
                                         {"actor": "Shining Path", "incidents": 1, "share": 0.5}]
    deps = summaries.per_department(frame)
    assert deps["department"].tolist() == ["Cusco", "Junín", "Lima"]
    assert deps["share"].tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 3])


def test_summaries_panel_shows_three_downloadable_tables(db):
    at = _app(panel="summaries")
    assert [s.value for s in at.subheader] == ["Killed and wounded per month", "Incidents per actor",
                                               "Incidents per department"]
    monthly, actors, deps = (d.value for d in at.dataframe)
    assert list(monthly.columns) == ["Month", "Incidents", "Killed", "Wounded"]
    # the seeds' 14 killed and 4 wounded (the headline figures) are all in dated incidents
    assert sum(int(v) for v in monthly["Killed"]) == 14 and sum(int(v) for v in monthly["Wounded"]) == 4
    assert list(deps.columns) == ["Department", "Incidents", "Share"] and deps["Share"].iloc[0].endswith(" %")
    keys = {b.key for b in at.get("download_button")}
    assert {"dl_sum_month", "dl_sum_actor", "dl_sum_department"} <= keys


# --- URL, reset, copy link ---------------------------------------------------------------------------------------


def test_panel_is_kept_in_the_url(db):
    at = _app()
    assert "panel" not in at.query_params  # the default panel needs no parameter
    at.radio(key="f_view").set_value("summaries").run()
    assert _param(at, "panel") == "summaries"
    again = _app(panel="summaries")
    assert again.radio(key="f_view").value == "summaries"
    assert _app(panel="no-such-panel").radio(key="f_view").value == "timeline"


def test_reset_filters_restores_every_filter_but_keeps_the_panel(db):
    at = _app(type="ambush", q="Sendero", panel="summaries", lang="es")
    assert metrics(at)["Incidentes"] != "9"
    at.button(key="reset_filters").click().run()
    assert not at.exception
    assert metrics(at)["Incidentes"] == "9"
    assert at.multiselect(key="f_types").value == [] and at.text_input(key="f_text").value == ""
    assert {k: _param(at, k) for k in at.query_params} == {"panel": "summaries", "lang": "es"}


def test_copy_link_carries_the_view(db):
    assert share_link("http://host:8501/?old=1#x", {"type": "ambush", "panel": "audit"}) == \
        "http://host:8501/?type=ambush&panel=audit"
    assert share_link("http://host:8501/", {}) == "http://host:8501/"
    at = _app(type="seizure", panel="export")
    (code,) = [c.value for c in at.code]
    assert code.endswith("?type=seizure&panel=export")


# --- export ----------------------------------------------------------------------------------------------------


def test_fields_catalog_describes_every_exported_property():
    for name in PROPERTIES + EXTRA_PROPERTIES:
        for lang in i18n.LANGUAGES:
            assert i18n.text(f"field.{name}", lang) and i18n.text(f"field.{name}.help", lang) != f"field.{name}"
    table = field_descriptions("es")
    assert table["Propiedad"].tolist() == PROPERTIES + EXTRA_PROPERTIES
    assert table.loc[table["Propiedad"] == "killed", "Etiqueta"].item() == "Muertos"


def test_standalone_map_carries_title_filters_and_date_escaped():
    import folium

    flt = query.Filter(types=("ambush",), since=date(2017, 1, 1), until=date(2017, 9, 30),
                       text="<img src=x onerror=alert(1)>")
    lines = filter_lines(flt, "es")
    assert ("Tipos de incidente", "Emboscada") in lines
    assert ("Rango de fechas", "1 ene. 2017 – 30 set. 2017") in lines  # Peru: "setiembre"
    header = export_header("Mapa <b>", lines, "23 nov. 2026 10:00", "es")
    page = standalone_map_html(folium.Map(), header, "Mapa <b>").decode()
    assert "<title>Mapa &lt;b&gt;</title>" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    assert "Exportado el 23 nov. 2026 10:00" in page
    assert page.index("im-export-head") < page.index("folium-map")


def test_export_panel_shows_the_column_descriptions(db):
    at = _app(panel="export", lang="es")
    table = at.dataframe[0].value
    assert table["Propiedad"].tolist() == PROPERTIES + EXTRA_PROPERTIES
    assert {b.label for b in at.get("download_button")} >= {"Mapa (HTML autónomo)", "GeoJSON por tipo (zip)"}


# --- Spanish ---------------------------------------------------------------------------------------------------


def test_the_dashboard_speaks_spanish(db):
    at = _app(lang="es")
    # Peru's CLDR locale groups thousands with a comma and writes decimals with a point
    assert metrics(at) == {"Incidentes": "9", "Muertos": "14", "Heridos": "4", "Kilos incautados": "2,917",
                           "Pistas destruidas": "23"}
    assert at.multiselect(key="f_types").label == "Tipos de incidente"
    assert "Emboscada (4)" in at.multiselect(key="f_types").options
    assert at.date_input(key="f_dates").label == "Rango de fechas"
    assert any(c.value.startswith("9 de 11 incidentes cumplen los filtros") for c in at.caption)
    assert at.radio(key="f_view").options == ["Cronología", "Por región", "Resúmenes", "Incidentes y revisión",
                                              "Registro de auditoría", "Exportar", "Añadir artículos"]
    ambush = store.load(db).pipe(lambda f: f[(f["type"] == "ambush") & (f["date"] == "2017-03-18")]).iloc[0]
    at = _app(lang="es", panel="review", incident=ambush["id"])
    assert "Estado" in at.dataframe[0].value.columns
    at.button(key=f"confirm_{ambush['id']}").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        escape.markdown(f"Confirmado: emboscada, 18 mar. 2017, {ambush['place']}.")]
    summary = escape.markdown(f"emboscada, 18 mar. 2017, {ambush['place']}")
    assert f"**Revisión** · {summary} · estado: confirmado" in [m.value for m in at.markdown]
    assert _param(at, "lang") == "es"


def test_audit_entries_use_utc_iso_times(tmp_path):
    # the audit log converts from UTC: the review file must store aware UTC times for that to hold
    reviews = ReviewStore(tmp_path / "r.sqlite")
    reviews.set_status("a", "confirmed")
    at = datetime.fromisoformat(reviews.history()[0].at)
    assert at.utcoffset() == UTC.utcoffset(None)


def test_keys_built_at_run_time_are_in_the_catalogs():
    # keys made from a value (f"ui.panel.{p}") escape the literal-key check of test_i18n
    from dashboard import ui, ui_review, ui_table
    from dashboard.review import STATUSES

    keys = [f"ui.panel.{p}" for p in ui.PANELS] + [f"ui.metric.{k}" for k in ("incidents", "killed", "wounded",
                                                                             "kg", "airstrips")]
    keys += [f"review.done.{a}" for a in ("confirmed", "rejected", "reset", "corrected", "added")]
    keys += [f"table.bulk.done.{s}" for s in ("confirmed", "rejected", "needs review")]
    keys += [f"review.precision.{p}" for p in ui_review.PRECISIONS]
    keys += [f"field.{c}" for c in ui_table.TABLE_COLUMNS] + [f"field.{c}.help" for c in ui_table.TABLE_COLUMNS]
    keys += [f"action.{s}" for s in STATUSES] + [f"status.{s}" for s in STATUSES]
    keys += [f"review.kind.{k}" for k in ("town", "district", "province", "department", "zone", "river")]
    missing = [k for k in keys if not i18n.has(k) or not i18n.catalog()[k].get("es")]
    assert not missing


def test_timeline_months_are_written_in_the_interface_language(db):
    import json

    at = _app(lang="es")
    (chart,) = at.get("vega_lite_chart")
    expr = json.loads(chart.proto.spec)["encoding"]["x"]["axis"]["labelExpr"]
    assert '"set."' in expr and '"ene."' in expr  # Peru: setiembre
