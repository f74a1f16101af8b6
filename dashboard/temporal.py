"""Dates in news text: find date expressions and resolve them against a reference (publication) date.

Handles absolute dates ("July 11, 2014", "14 JUL 2014", "11 July"), ranges ("between September 3 and September 7",
"from May 8 through May 13"), months ("October 2016", "early April"), years ("in 2014") and relative expressions
("the previous day", "last month", "last week", "on Tuesday", "little more than a month after ...").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS |= {"sept": 9}
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "several": 3, "a few": 3}

_M = r"(?P<{0}>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|" \
     r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\.?"
_D = r"(?P<{0}>[0-3]?\d)(?:st|nd|rd|th)?"
_Y = r"(?P<{0}>(?:19|20)\d\d)"

_PATTERNS: list[tuple[str, str]] = [
    # ranges first, so "between September 3 and September 7" is not two single days
    ("range", r"\b(?i:between|from)\s+" + _M.format("m1") + r"\s+" + _D.format("d1") + r"(?:,?\s+" + _Y.format("y1")
     + r")?\s+(?i:and|to|through|until|till)\s+(?:" + _M.format("m2") + r"\s+)?" + _D.format("d2")
     + r"(?:,?\s+" + _Y.format("y2") + r")?\b"),
    ("range", r"\b" + _M.format("m1") + r"\s+" + _D.format("d1") + r"\s*(?:-|–|to)\s*" + _D.format("d2")
     + r"(?:,?\s+" + _Y.format("y1") + r")?\b"),
    ("range", r"\b(?i:between|from)\s+" + _D.format("d1") + r"\s+(?:" + _M.format("m1") + r"\s+)?(?:and|to|through)\s+"
     + _D.format("d2") + r"\s+" + _M.format("m2") + r"(?:,?\s+" + _Y.format("y1") + r")?\b"),
    ("day", r"\b" + _M.format("m1") + r"\s+" + _D.format("d1") + r"(?:,?\s+" + _Y.format("y1") + r")?(?![\d:])"),
    ("day", r"\b" + _D.format("d1") + r"\s+(?:of\s+)?" + _M.format("m1") + r"(?:,?\s+" + _Y.format("y1") + r")?\b"),
    ("month", r"\b(?P<part>early|mid|late|the end of|the beginning of|the start of)?[\s-]*" + _M.format("m1")
     + r"(?:\s+(?:of\s+)?" + _Y.format("y1") + r")?\b"),
    ("year", r"\b(?:in|since|during|of|throughout|by)\s+(?:early\s+|late\s+|mid-)?" + _Y.format("y1") + r"\b"),
    ("rel_day", r"\b(?P<rel>yesterday|the previous day|the day before|the day prior|the following day|"
     r"the next day|today|this morning|last night|on (?:last )?(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|"
     r"Saturday|Sunday)|last (?P<wd2>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday))\b"),
    ("rel_span", r"\b(?P<rel>last week|last month|last year|earlier this month|earlier this year|this month|"
     r"this week|this year|(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|a few|several) "
     r"(?P<unit>days?|weeks?|months?) (?:ago|earlier))\b"),
    ("offset", r"\b(?:(?:little |a little |just |some |barely )?(?:more|less) than |about |nearly |almost |"
     r"some |just |roughly )?(?P<n>a|an|one|two|three|four|five|six|seven|eight|nine|ten|\d+) "
     r"(?P<unit>days?|weeks?|months?) (?P<dir>after|before|later|earlier)\b"),
]
_COMPILED = [(kind, re.compile(rx, re.IGNORECASE if kind.startswith(("rel", "offset")) else 0))
             for kind, rx in _PATTERNS]
# Cheap pre-check: text with none of these holds no date expression.
_DIGIT = re.compile(r"\d")
_DATE_WORDS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "day", "week",
               "month", "year", "night", "morning")
# Month names that are also ordinary words ("may", "march") count only capitalised.
_MONTH_WORDS_NEED_CAPS = {"may", "march", "jan", "mar", "sept", "sep", "dec", "aug"}


@dataclass(frozen=True)
class DateMention:
    """A date expression found in text, unresolved: the fields it gives and its span."""

    start: int
    end: int
    kind: str  # range, day, month, year, rel_day, rel_span, offset
    text: str
    year: int | None = None
    month: int | None = None
    day: int | None = None
    year2: int | None = None
    month2: int | None = None
    day2: int | None = None
    extra: str | None = None  # the relative phrase, the weekday or the part of the month


@dataclass(frozen=True)
class Resolved:
    """A resolved date: first day, last day (inclusive) and precision (day, range, month, year)."""

    date: date
    date_end: date
    precision: str


def find_dates(text: str) -> list[DateMention]:
    """All date expressions in ``text``, without overlaps, in order of appearance."""
    lower = text.lower()
    if not (_DIGIT.search(text) or any(w in lower for w in _DATE_WORDS)):
        return []
    taken: list[tuple[int, int]] = []
    found: list[DateMention] = []
    for kind, rx in _COMPILED:
        for m in rx.finditer(text):
            s, e = m.span()
            if any(s < te and ts < e for ts, te in taken):
                continue
            mention = _mention(kind, m)
            if mention is None:
                continue
            taken.append((s, e))
            found.append(mention)
    return sorted(found, key=lambda d: d.start)


def _mention(kind: str, m: re.Match) -> DateMention | None:
    g = m.groupdict()
    for key in ("m1", "m2"):
        word = g.get(key)
        if word and word.lower().rstrip(".") in _MONTH_WORDS_NEED_CAPS and not word[0].isupper():
            return None
    if kind == "month" and g.get("m1", "").isupper() and len(g["m1"]) > 3:
        return None
    month = MONTHS.get((g.get("m1") or "").lower().rstrip("."))
    month2 = MONTHS.get((g.get("m2") or "").lower().rstrip("."))
    day = int(g["d1"]) if g.get("d1") else None
    day2 = int(g["d2"]) if g.get("d2") else None
    if (day and not 1 <= day <= 31) or (day2 and not 1 <= day2 <= 31):
        return None
    if kind == "month" and g.get("m1") == "May" and not g.get("y1") and not g.get("part"):
        # "May" alone is more often the verb than the month
        return None
    year = int(g["y1"]) if g.get("y1") else None
    year2 = int(g["y2"]) if g.get("y2") else None
    extra = (g.get("rel") or g.get("part") or "").lower() or None
    if kind == "rel_day" and (g.get("wd") or g.get("wd2")):
        extra = "weekday:" + (g.get("wd") or g.get("wd2")).lower()
    if kind in ("rel_span", "offset") and g.get("unit"):
        n = g.get("n").lower()
        count = int(n) if n.isdigit() else _WORD_NUMBERS.get(n, 1)
        unit = g["unit"].lower().rstrip("s")
        extra = f"{g.get('dir', 'ago').lower()}:{count}:{unit}" if kind == "offset" or g.get("unit") else extra
        if kind == "rel_span":
            extra = f"ago:{count}:{unit}"
    return DateMention(m.start(), m.end(), kind, m.group(), year, month, day, year2, month2 or None, day2, extra)


def _last_on_or_before(month: int, day: int, ref: date) -> date | None:
    """The most recent month/day on or before ``ref`` (news reports past events)."""
    for year in (ref.year, ref.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= ref:
            return candidate
    return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _shift_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def resolve(mention: DateMention, ref: date | None, anchor: Resolved | None = None) -> Resolved | None:
    """Resolve a date mention.

    Parameters
    ----------
    mention
        From :func:`find_dates`.
    ref
        The reference date (publication date); year-less dates fall on or before it.
    anchor
        The date last established in the text, for "the previous day" or "a month after".
    """
    k = mention.kind
    try:
        if k == "day":
            if mention.year:
                d = date(mention.year, mention.month, mention.day)
            elif ref:
                d = _last_on_or_before(mention.month, mention.day, ref)
                if d is None:
                    return None
            else:
                return None
            return Resolved(d, d, "day")
        if k == "range":
            y1 = mention.year or mention.year2
            m2 = mention.month2 or mention.month
            if y1:
                start = date(y1, mention.month, mention.day)
            elif ref:
                start = _last_on_or_before(mention.month, mention.day, ref)
                if start is None:
                    return None
            else:
                return None
            end = date(mention.year2 or start.year, m2, mention.day2)
            if end < start:
                end = date(end.year + 1, end.month, end.day)
            return Resolved(start, end, "range")
        if k == "month":
            if mention.year:
                year = mention.year
            elif ref:
                year = ref.year if mention.month <= ref.month else ref.year - 1
            else:
                return None
            start, end = date(year, mention.month, 1), _month_end(year, mention.month)
            part = mention.extra or ""
            if part == "early" or "beginning" in part or "start" in part:
                end = date(year, mention.month, 10)
            elif part == "mid":
                start, end = date(year, mention.month, 11), date(year, mention.month, 20)
            elif part in ("late", "the end of"):
                start = date(year, mention.month, 21)
            return Resolved(start, end, "month")
        if k == "year":
            return Resolved(date(mention.year, 1, 1), date(mention.year, 12, 31), "year")
        if k == "rel_day":
            base = anchor.date if anchor and mention.extra in (
                "the previous day", "the day before", "the day prior", "the following day", "the next day") else ref
            if base is None:
                return None
            rel = mention.extra or ""
            if rel.startswith("weekday:"):
                target = WEEKDAYS[rel.split(":")[1]]
                delta = (base.weekday() - target) % 7 or 7
                d = base - timedelta(days=delta)
            elif rel in ("the following day", "the next day"):
                d = base + timedelta(days=1)
            elif rel in ("today", "this morning"):
                d = base
            else:
                d = base - timedelta(days=1)
            return Resolved(d, d, "day")
        if k == "rel_span":
            if ref is None:
                return None
            rel = mention.text.lower()
            if rel == "last week":
                start = ref - timedelta(days=ref.weekday() + 7)
                return Resolved(start, start + timedelta(days=6), "range")
            if rel in ("this week",):
                start = ref - timedelta(days=ref.weekday())
                return Resolved(start, ref, "range")
            if rel == "last month":
                prev = _shift_months(ref.replace(day=1), -1)
                return Resolved(prev, _month_end(prev.year, prev.month), "month")
            if rel in ("this month", "earlier this month"):
                return Resolved(ref.replace(day=1), ref, "month")
            if rel == "last year":
                return Resolved(date(ref.year - 1, 1, 1), date(ref.year - 1, 12, 31), "year")
            if rel in ("this year", "earlier this year"):
                return Resolved(date(ref.year, 1, 1), ref, "year")
            _, n, unit = (mention.extra or "ago:1:day").split(":")
            return _offset(ref, -int(n), unit)
        if k == "offset":
            base = anchor.date if anchor else None
            if base is None:
                return None
            direction, n, unit = (mention.extra or "after:1:day").split(":")
            # "X happened a month after Y": the anchor is X's date, so Y lies before it
            sign = -1 if direction in ("after", "later") else 1
            return _offset(base, sign * int(n), unit)
    except ValueError:
        return None
    return None


def _offset(base: date, n: int, unit: str) -> Resolved:
    if unit == "day":
        d = base + timedelta(days=n)
        return Resolved(d, d, "day")
    if unit == "week":
        d = base + timedelta(weeks=n)
        return Resolved(d - timedelta(days=3), d + timedelta(days=3), "range")
    d = _shift_months(base, n)
    return Resolved(d.replace(day=1), _month_end(d.year, d.month), "month")
