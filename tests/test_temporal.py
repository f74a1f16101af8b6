from datetime import date, timedelta

import pytest

from dashboard.temporal import Resolved, find_dates, resolve

REF = date(2017, 7, 24)  # a Monday


def _one(text, ref=REF, anchor=None):
    found = find_dates(text)
    assert found, f"no date found in {text!r}"
    return resolve(found[0], ref, anchor)


@pytest.mark.parametrize("text, start, end, precision", [
    ("On July 11, agents were attacked", date(2017, 7, 11), date(2017, 7, 11), "day"),
    ("on March 18", date(2017, 3, 18), date(2017, 3, 18), "day"),
    ("on 14 July 2014", date(2014, 7, 14), date(2014, 7, 14), "day"),
    ("July 11, 2014", date(2014, 7, 11), date(2014, 7, 11), "day"),
    ("between September 3 and September 7", date(2016, 9, 3), date(2016, 9, 7), "range"),
    ("From May 8 through May 13", date(2017, 5, 8), date(2017, 5, 13), "range"),
    ("in October 2016", date(2016, 10, 1), date(2016, 10, 31), "month"),
    ("last month", date(2017, 6, 1), date(2017, 6, 30), "month"),
    ("in 2014", date(2014, 1, 1), date(2014, 12, 31), "year"),
    ("on Tuesday", date(2017, 7, 18), date(2017, 7, 18), "day"),
    ("last week", date(2017, 7, 17), date(2017, 7, 23), "range"),
    ("two days ago", date(2017, 7, 22), date(2017, 7, 22), "day"),
])
def test_resolution(text, start, end, precision):
    ref = date(2016, 9, 12) if "September" in text else REF
    r = _one(text, ref)
    assert (r.date, r.date_end, r.precision) == (start, end, precision)


def test_yearless_date_after_reference_falls_in_previous_year():
    r = _one("on December 30", ref=date(2017, 1, 5))
    assert r.date == date(2016, 12, 30)


def test_previous_day_uses_anchor():
    anchor = Resolved(date(2017, 7, 22), date(2017, 7, 22), "day")
    assert _one("the previous day", anchor=anchor).date == date(2017, 7, 21)


def test_month_after_offset_counts_back_from_anchor():
    anchor = Resolved(date(2016, 5, 8), date(2016, 5, 13), "range")
    r = _one("little more than a month after the group ambushed a convoy", anchor=anchor)
    assert (r.date, r.date_end, r.precision) == (date(2016, 4, 1), date(2016, 4, 30), "month")


def test_may_the_verb_is_not_a_month():
    assert find_dates("the attack may backfire") == []


# ----------------------------------------------------------------------------- relative phrasing (English pack)
@pytest.mark.parametrize("text, start, end", [
    # REF is Monday 24 July 2017
    ("the raid happened Tuesday evening", date(2017, 7, 18), date(2017, 7, 18)),
    ("early on Saturday morning", date(2017, 7, 22), date(2017, 7, 22)),
    ("over the weekend", date(2017, 7, 22), date(2017, 7, 23)),
    ("Last weekend the patrol", date(2017, 7, 22), date(2017, 7, 23)),
    ("earlier this week", date(2017, 7, 24), date(2017, 7, 24)),
    ("the night before", None, None),  # needs an anchor
])
def test_relative_phrases(text, start, end):
    found = find_dates(text)
    assert found, text
    r = resolve(found[0], REF)
    if start is None:
        assert r is not None and r.date == REF - timedelta(days=1)
    else:
        assert (r.date, r.date_end) == (start, end)


def test_weekend_told_on_a_sunday_is_that_weekend():
    r = _one("during the weekend", ref=date(2017, 7, 23))
    assert (r.date, r.date_end) == (date(2017, 7, 22), date(2017, 7, 23))


def test_impossible_dates_are_not_dates():
    # February 30 is no day: no crash, no date
    found = find_dates("the raid of February 30, 2017")
    assert all(resolve(m, REF) is None for m in found)


def test_iso_dates_and_day_month_ranges():
    r = _one("seized on 2019-04-12 at the port")
    assert (r.date, r.precision) == (date(2019, 4, 12), "day")
    r = _one("operations carried out 4-6 March 2020")
    assert (r.date, r.date_end) == (date(2020, 3, 4), date(2020, 3, 6))


def test_the_year_before_a_noun_is_a_year():
    r = _one("since the 1992 capture of its leader")
    assert (r.date, r.precision) == (date(1992, 1, 1), "year")


def test_dates_are_read_only_within_the_spans_asked_for():
    text = "Police acted on July 3. Nothing happened. Soldiers left on July 9."
    second = text.index("Soldiers")
    assert [m.day for m in find_dates(text)] == [3, 9]
    assert [m.day for m in find_dates(text, within=[(second, len(text))])] == [9]
    assert find_dates(text, within=[]) == []
