"""The one incident schema: what is derived from it, and the one missing-value rule."""

import math
import sqlite3

import numpy as np
import pandas as pd
import pytest

from dashboard import export, review, schema, store
from dashboard.corpus import Article


def test_export_properties_follow_the_readme_table():
    # README "Incident properties (stable)", in its order, then the extra properties it lists after the table
    assert schema.PROPERTIES == [
        "id", "type", "date", "date_end", "date_precision", "place", "location_id", "geo_precision", "departments",
        "province", "district", "zones", "killed", "wounded", "quantity_kg", "substance", "count", "actors",
        "reported_by", "article", "title", "published", "evidence", "background"]
    assert schema.EXTRA_PROPERTIES == [
        "location_name", "unlocated_reason", "outlet", "url", "published_inferred", "evidence_start", "evidence_end",
        "source_count", "sources", "review_status", "language", "flags", "confidence"]
    assert set(schema.LIST_COLUMNS) == {"departments", "zones", "actors", "flags"}
    # the names other modules import from the store are the schema's
    assert store.PROPERTIES is schema.PROPERTIES and store.LIST_COLUMNS is schema.LIST_COLUMNS


def test_every_field_is_defined_once():
    names = [f.name for f in schema.FIELDS]
    assert len(names) == len(set(names))


def test_review_fields_are_the_reviewable_ones_with_their_types():
    assert review.FIELDS == {"type": str, "date": str, "date_end": str, "date_precision": str, "place": str,
                             "killed": int, "wounded": int, "quantity_kg": float, "substance": str, "count": int,
                             "actors": list, "place_ids": list}
    with pytest.raises(review.ReviewError, match="'location_id' cannot be corrected"):
        review._check("location_id", "zone:vraem")


def test_the_sqlite_table_has_one_column_per_stored_field(tmp_path):
    db = tmp_path / "s.sqlite"
    assert store.init(db)
    con = sqlite3.connect(db)
    columns = {r[1]: (r[2], r[3]) for r in con.execute("PRAGMA table_info(incidents)")}
    con.close()
    assert list(columns) == list(schema.STORED_NAMES)
    assert "title" not in columns and "review_status" not in columns  # from the article and the reviews
    assert columns["killed"] == ("INTEGER", 0) and columns["quantity_kg"] == ("REAL", 0)
    assert columns["background"] == ("INTEGER", 1) and columns["type"] == ("TEXT", 1)


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), (pd.NA, None), (float("nan"), None), (pd.NaT, None), (float("inf"), None),
    (np.int64(7), 7), (np.float64(2.5), 2.5), (np.bool_(True), True), ("", ""), (0, 0),
    ((1, np.int64(2)), [1, 2]), ({"weight": float("-inf"), "n": np.int32(3)}, {"weight": None, "n": 3}),
    (np.array(["Cusco", "Junín"], dtype=object), ["Cusco", "Junín"]),
])
def test_plain_is_the_one_missing_value_rule(value, expected):
    got = schema.plain(value)
    assert got == expected and type(got) is type(expected)


def test_stored_values_by_kind():
    by = schema.BY_NAME
    assert schema.stored_value(by["departments"], None) == []
    assert schema.stored_value(by["departments"], ("Cusco",)) == ["Cusco"]
    assert schema.stored_value(by["killed"], np.float64(3.0)) == 3 and isinstance(
        schema.stored_value(by["killed"], np.float64(3.0)), int)
    big = schema.stored_value(by["count"], 10**30)  # beyond 64 bits: a real, not an overflow
    assert isinstance(big, float) and big == pytest.approx(1e30)
    assert schema.stored_value(by["quantity_kg"], float("inf")) is None
    assert schema.stored_value(by["background"], np.bool_(False)) is False
    assert schema.stored_value(by["sources"], None) == []


def test_exports_use_the_rule_for_missing_and_infinite_values(tmp_path):
    import geopandas as gpd

    frame = gpd.GeoDataFrame({"id": ["i1"], "type": ["seizure"], "killed": [pd.NA], "quantity_kg": [math.inf],
                              "actors": [("Police",)]}, geometry=[None], crs=4326)
    props = export.to_feature_collection(frame)["features"][0]["properties"]
    assert props == {"id": "i1", "type": "seizure", "killed": None, "quantity_kg": None, "actors": ["Police"]}


def test_a_written_incident_reads_back_field_by_field(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    values = {"id": "i1", "type": "seizure", "article": "a.md", "date": "2021-05-03", "date_end": "2021-05-04",
              "date_precision": "range", "place": "Pichari", "location_id": "dist:090110", "geo_precision": "district",
              "departments": ["Cusco"], "province": "La Convención", "district": "Pichari", "zones": ["VRAEM"],
              "killed": 1, "wounded": 2, "quantity_kg": 12.5, "substance": "cocaine", "count": 3,
              "actors": ["Peruvian National Police"], "reported_by": "Andina", "evidence": "x",
              "evidence_start": 0, "evidence_end": 1, "background": False, "unlocated_reason": None,
              "language": "en", "flags": ["no date"], "confidence": 0.5, "former_ids": ["old"]}
    frame = gpd.GeoDataFrame({k: [v] for k, v in values.items()}, geometry=[Point(-74.0, -12.5)], crs=4326)
    db = tmp_path / "s.sqlite"
    store.write(db, [Article(name="a.md", text="x", content_hash="0" * 64)], frame)
    row = store.load(db).iloc[0]
    for name, value in values.items():
        assert schema.plain(row[name]) == value, name
    assert (row.geometry.x, row.geometry.y) == (-74.0, -12.5)
