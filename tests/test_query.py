"""The shared filter: the same answers on a plain frame and on one given to ``query.prepare``."""

from datetime import date
from itertools import product

import geopandas as gpd
import pytest
from shapely.geometry import Point

from dashboard import query


def _frame() -> gpd.GeoDataFrame:
    rows = [
        # id, type, date, date_end, departments, zones, province, district, actors, evidence, place, title, bg
        ("a", "ambush", "2023-03-02", "2023-03-02", ["Ayacucho", "Cusco"], ["VRAEM"], None, None,
         ["Shining Path"], "A patrol was attacked near the river.", "Pichari", "Patrol attacked", False),
        ("b", "seizure", "2023-05-10", "2023-05-12", ["Callao"], [], "Callao", "Callao", [],
         "Police found cocaine in a container.", "Port of Callao", "Cocaine at the port", False),
        ("c", "seizure", None, None, ["Ucayali"], [], "Coronel Portillo", "Callería", ["Police", "Army"],
         "Soldiers seized coca paste.", None, None, False),
        ("d", "lab_dismantling", "2022-12-30", "2023-01-02", ["Junín"], ["VRAEM"], "Satipo", "Pangoa",
         ["Army"], "Un laboratorio fue destruido en la selva.", "Pangoa", "Laboratorio destruido", False),
        ("e", "ambush", "2021-06-01", "2021-06-01", ["Ayacucho"], ["VRAEM"], "Huanta", "Llochegua",
         ["Shining Path"], "Statistics for the year.", None, "Annual figures", True),
        ("f", "arrest", "2023-05-11", "2023-05-11", [], [], None, None, None,
         "ÁREA de frontera: detuvieron a dos.", "Santa Rosa", "Frontera", False),
    ]
    cols = ["id", "type", "date", "date_end", "departments", "zones", "province", "district", "actors", "evidence",
            "place", "title", "background"]
    frame = gpd.GeoDataFrame([dict(zip(cols, r, strict=True)) for r in rows],
                             geometry=[Point(-74.0, -12.0)] * len(rows), crs=4326)
    frame["geo_precision"] = ["district", "town", "district", "district", "district", None]
    frame["review_status"] = ["confirmed", "needs review", "rejected", "needs review", "needs review", "corrected"]
    return frame


CASES = [
    (query.Filter(), ["a", "b", "d", "f"]),
    (query.Filter(include_background=True), ["a", "b", "d", "e", "f"]),
    (query.Filter(include_rejected=True), ["a", "b", "c", "d", "f"]),
    (query.Filter(statuses=["rejected"]), ["c"]),
    (query.Filter(types=["seizure", "arrest"]), ["b", "f"]),
    # the lab's range (30 Dec - 2 Jan) overlaps January; undated incidents stay unless asked otherwise
    (query.Filter(since=date(2023, 1, 1), until=date(2023, 1, 31)), ["d"]),
    (query.Filter(since=date(2023, 5, 12), include_rejected=True), ["b", "c"]),
    (query.Filter(since=date(2023, 5, 12), include_undated=False, include_rejected=True), ["b"]),
    (query.Filter(regions=["vraem"]), ["a", "d"]),
    (query.Filter(regions=["JUNIN"]), ["d"]),  # accents and case ignored
    (query.Filter(regions=["callao", "pangoa"]), ["b", "d"]),  # a province or district name matches too
    (query.Filter(regions=["Huanta"], include_background=True), ["e"]),
    (query.Filter(actors=["Army"], include_rejected=True), ["c", "d"]),
    (query.Filter(actors=["Shining Path"]), ["a"]),
    (query.Filter(text="COCAINE"), ["b"]),  # evidence and title, any case
    (query.Filter(text="port of"), ["b"]),  # the place
    (query.Filter(text="área"), ["f"]),  # non-ASCII letters compared without case
    (query.Filter(text="laboratorio destruido"), ["d"]),  # the title
    (query.Filter(precisions=["unknown"]), ["f"]),
    (query.Filter(types=["ambush"], regions=["Cusco"], actors=["Shining Path"], text="patrol"), ["a"]),
]


@pytest.mark.parametrize(("flt", "expected"), CASES)
def test_plain_and_prepared_frames_give_the_same_rows(flt, expected):
    plain = query.apply(_frame(), flt)
    prepared = query.apply(query.prepare(_frame()), flt)
    assert list(plain["id"]) == expected
    assert list(prepared["id"]) == expected
    assert list(prepared.index) == list(plain.index)  # row labels kept: the map finds rows by label


def test_prepared_columns_survive_filtering_and_still_work():
    # the dashboard filters a frame that was itself cut by reviews or an earlier filter
    frame = query.prepare(_frame())
    part = query.apply(frame, query.Filter(types=["ambush", "lab_dismantling"], include_background=True))
    assert list(part["id"]) == ["a", "d", "e"]
    again = query.apply(part, query.Filter(regions=["Ayacucho"], include_background=True))
    assert list(again["id"]) == ["a", "e"]


def test_prepare_groups_rows_with_the_same_places():
    frame = query.prepare(_frame())
    # a and d share no place set; e shares Ayacucho/VRAEM with a but has a province: every row distinct here
    assert len(frame["_places"].cat.categories) == len(frame)
    twice = query.prepare(gpd.GeoDataFrame(
        {"date": ["2024-01-01"] * 3, "date_end": [None] * 3, "departments": [["Puno"], ["Puno"], []],
         "zones": [[], [], []], "province": [None] * 3, "district": [None] * 3, "actors": [[], [], ["Navy"]]},
        geometry=[None] * 3))
    assert len(twice["_places"].cat.categories) == 2
    assert len(twice["_actors"].cat.categories) == 2
    assert list(twice["_end"]) == list(twice["_start"])  # no end date: the range is the one day


@pytest.mark.parametrize(("types", "regions"), list(product([(), ("seizure",)], [(), ("Callao",), ("vraem",)])))
def test_combinations_agree(types, regions):
    flt = query.Filter(types=types, regions=regions, include_rejected=True, include_background=True)
    assert list(query.apply(_frame(), flt)["id"]) == list(query.apply(query.prepare(_frame()), flt)["id"])
