"""Dates in news text: find date expressions and resolve them against a reference (publication) date.

The words come from the language pack (``dates`` section): absolute dates ("July 11, 2014", "11 de julio"), ranges,
months ("October 2016", "early April", "a inicios de junio"), years, and relative expressions ("the previous day",
"last weekend", "Tuesday night", "el pasado martes", "anteayer"). Resolution is plain calendar arithmetic on the
spans found, so it is the same for every language. Impossible dates ("February 30") are not dates.
"""

from __future__ import annotations

import bisect
import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta

from dashboard.langpack import LanguagePack, literal_trie, load_pack


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
    extra: str | None = None  # the relative meaning, the weekday or the part of the month


@dataclass(frozen=True)
class Resolved:
    """A resolved date: first day, last day (inclusive) and precision (day, range, month, year)."""

    date: date
    date_end: date
    precision: str


@functools.lru_cache(maxsize=16)
def _shapes(pack: LanguagePack) -> tuple[tuple[str, re.Pattern, tuple[str, ...]], ...]:
    months = sorted(pack.section("dates", "months", default={}), key=len, reverse=True)
    # Prefix trees match as the alternations longest first do, and are tried far faster at every word.
    month_alt = literal_trie(months) if months else ""
    parts = sorted(pack.section("dates", "month_parts", default={}), key=len, reverse=True)
    part_alt = literal_trie(parts, spaces=True) if parts else "(?!)"

    def month(g: str) -> str:
        return rf"(?P<{g}>(?:{month_alt}))\.?"

    def day(g: str) -> str:
        return rf"(?P<{g}>[0-3]?\d)(?:st|nd|rd|th|º|°)?"

    out = []
    for kind, template, *cues in pack.section("dates", "patterns", default=[]):
        rx = (template.replace("<M1>", month("m1")).replace("<M2>", month("m2"))
              .replace("<D1>", day("d1")).replace("<D2>", day("d2"))
              .replace("<Y1>", r"(?P<y1>(?:19|20)\d\d)").replace("<Y2>", r"(?P<y2>(?:19|20)\d\d)")
              .replace("<MM1>", r"(?P<mm1>[01]?\d)").replace("<PART>", rf"(?P<part>{part_alt})"))
        # cue words: the month names for a shape with a month, else the ones the pack gives (none: whole text)
        cue = ("month",) if "<M1>" in template else tuple(w.lower() for w in (cues[0] if cues else ()))
        out.append((kind, re.compile(rx, re.IGNORECASE), cue))
    return tuple(out)


def find_dates(text: str, pack: LanguagePack | None = None,
               within: list[tuple[int, int]] | None = None) -> list[DateMention]:
    """All date expressions in ``text``, without overlaps, in order of appearance.

    ``within``: sorted, non-overlapping spans of ``text`` to read (the sentences an extractor needs); all of it
    when omitted.
    """
    pack = pack or load_pack()
    lower = text.lower()
    cues = pack.section("dates", "cue_words", default=[])
    if not (re.search(r"\d", text) or any(w in lower for w in cues)):
        return []
    taken: list[tuple[int, int]] = []  # kept sorted, so that an overlap check is a binary search
    found: list[DateMention] = []

    def free(s: int, e: int) -> bool:
        # Spans taken do not overlap each other: only the one before ``s`` and those starting before ``e`` can.
        k = max(0, bisect.bisect_left(taken, (s, e)) - 1)
        while k < len(taken) and taken[k][0] < e:
            if s < taken[k][1]:
                return False
            k += 1
        return True

    seen: dict[str, list[int]] = {}  # where each cue word starts a word: several patterns share cue words
    months = _clip(_windows(_month_cues(pack), lower, seen), within)
    for kind, rx, cue in _shapes(pack):
        windows = months if cue == ("month",) else _clip(_windows(cue, lower, seen) if cue else None, within)
        for m in _finditer(rx, text, windows):
            if free(*m.span()):
                mention = _absolute(kind, m, pack)
                if mention is not None:
                    bisect.insort(taken, m.span())
                    found.append(mention)
    for rel in pack.relative_dates:
        windows = _clip(_windows(rel.cue, lower, seen) if rel.cue else None, within)
        if windows == []:
            continue
        for m in _finditer(rel.pattern, text, windows):
            if free(*m.span()):
                mention = _relative(rel, m, pack)
                if mention is not None:
                    bisect.insort(taken, m.span())
                    found.append(mention)
    return sorted(found, key=lambda d: d.start)


# A date expression reaches at most this far on either side of its cue word (a month name, "ago", "weekend").
_REACH = 90


def _windows(cues: tuple[str, ...], lower: str, seen: dict[str, list[int]] | None = None) -> list[tuple[int, int]]:
    """Merged spans of text around the cue words (lower-case substrings).

    They are the only places a cued pattern can match; substring search is far cheaper than a regular expression
    over the whole article. ``seen`` keeps the offsets of each cue word found in ``lower``, for the next call.
    """
    hits = []
    for cue in cues:
        starts = seen.get(cue) if seen is not None else None
        if starts is None:
            starts = _word_starts(cue, lower)
            if seen is not None:
                seen[cue] = starts
        hits += [(max(0, k - _REACH), min(len(lower), k + len(cue) + _REACH)) for k in starts]
    out: list[tuple[int, int]] = []
    for a, b in sorted(hits):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _word_starts(cue: str, lower: str) -> list[int]:
    """Offsets where ``cue`` starts a word of ``lower`` ("mar" in "marzo", not in "summary")."""
    out = []
    k = lower.find(cue)
    while k != -1:
        if k == 0 or not lower[k - 1].isalpha():
            out.append(k)
        k = lower.find(cue, k + 1)
    return out


def _clip(windows: list[tuple[int, int]] | None, within: list[tuple[int, int]] | None):
    """The parts of ``windows`` (``None``: the whole text) that lie within the ``within`` spans."""
    if within is None:
        return windows
    if windows is None:
        return list(within)
    out, k = [], 0
    for a, b in windows:
        while k < len(within) and within[k][1] <= a:
            k += 1
        j = k
        while j < len(within) and within[j][0] < b:
            out.append((max(a, within[j][0]), min(b, within[j][1])))
            j += 1
    return out


def _finditer(rx: re.Pattern, text: str, windows: list[tuple[int, int]] | None):
    """Run ``rx`` over ``text``, or only within ``windows``.

    Scanning a whole article with a pattern full of optional words costs far more than scanning a few short
    spans around its cue words.
    """
    if windows is None:
        yield from rx.finditer(text)
        return
    for a, b in windows:
        yield from rx.finditer(text, a, b)


@functools.lru_cache(maxsize=16)
def _month_cues(pack: LanguagePack) -> tuple[str, ...]:
    return tuple(sorted({m.lower() for m in pack.section("dates", "months", default={})}))


def _absolute(kind: str, m: re.Match, pack: LanguagePack) -> DateMention | None:
    g = m.groupdict()
    months = pack.section("dates", "months", default={})
    needs_caps = set(pack.section("dates", "month_needs_caps", default=[]))
    for key in ("m1", "m2"):
        word = g.get(key)
        if word and word.lower() in needs_caps and not word[0].isupper():
            return None
    if kind == "month" and (g.get("m1") or "").isupper() and len(g["m1"]) > 3:
        return None  # "MAY" in a headline
    if (kind == "month" and (g.get("m1") or "").lower() in pack.section("dates", "month_alone_ambiguous", default=[])
            and not g.get("y1") and not g.get("part")):
        return None
    month = g.get("mm1") and int(g["mm1"]) or months.get((g.get("m1") or "").lower())
    month2 = months.get((g.get("m2") or "").lower())
    day = int(g["d1"]) if g.get("d1") else None
    day2 = int(g["d2"]) if g.get("d2") else None
    if (day is not None and not 1 <= day <= 31) or (day2 is not None and not 1 <= day2 <= 31):
        return None
    if month is not None and not 1 <= month <= 12:
        return None
    year = int(g["y1"]) if g.get("y1") else None
    year2 = int(g["y2"]) if g.get("y2") else None
    part = " ".join((g.get("part") or "").lower().split()) or None
    return DateMention(m.start(), m.end(), kind, m.group(), year, month, day, year2, month2, day2, part)


def _relative(rel, m: re.Match, pack: LanguagePack) -> DateMention | None:
    g = m.groupdict()
    if rel.weekday:
        wd = (g.get("wd") or "").lower()
        weekdays = pack.section("dates", "weekdays", default={})
        if wd not in weekdays:
            return None
        if not g["wd"][0].isupper() and pack.section("dates", "weekday_needs_caps", default=False):
            return None
        return DateMention(m.start(), m.end(), "rel_day", m.group(), extra=f"weekday:{weekdays[wd]}")
    if rel.days is not None:
        return DateMention(m.start(), m.end(), "rel_day", m.group(),
                           extra=f"{'anchor' if rel.anchor else 'ref'}:{rel.days}")
    if rel.span:
        return DateMention(m.start(), m.end(), "rel_span", m.group(), extra=f"span:{rel.span}")
    units = pack.section("dates", "units", default={})
    unit = units.get((g.get("unit") or "").lower())
    if unit is None:
        return None
    n_text = " ".join((g.get("n") or "").lower().split())
    vague = pack.section("dates", "vague_counts", default={})
    n = vague.get(n_text) or pack.parse_number(n_text)
    if n is None or n > 1000:
        return None
    if rel.ago:
        return DateMention(m.start(), m.end(), "rel_span", m.group(), extra=f"ago:{int(n)}:{unit}")
    if not rel.offset:
        return None  # an entry that says none of what it means is no date (a pack error, not a guess)
    sign = int(pack.section("dates", "directions", default={}).get((g.get("dir") or "").lower(), -1))
    return DateMention(m.start(), m.end(), "offset", m.group(), extra=f"{sign}:{int(n)}:{unit}")


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


def month_end(year: int, month: int) -> date:
    """The last day of ``month`` in ``year``."""
    return _month_end(year, month)


def _shift_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def resolve(mention: DateMention, ref: date | None, anchor: Resolved | None = None,
            pack: LanguagePack | None = None) -> Resolved | None:
    """Resolve a date mention; ``None`` when it cannot be (no reference, or an impossible date).

    Parameters
    ----------
    mention
        From :func:`find_dates`.
    ref
        The reference date (publication date); year-less dates fall on or before it.
    anchor
        The date last established in the text, for "the previous day" or "a month after".
    pack
        The language pack the mention was found with (month parts); English when omitted.
    """
    try:
        return _resolve(mention, ref, anchor, pack or load_pack())
    except (ValueError, OverflowError):
        return None


def _resolve(mention: DateMention, ref: date | None, anchor: Resolved | None, pack: LanguagePack) -> Resolved | None:
    k = mention.kind
    if k == "day":
        if mention.year:
            d = date(mention.year, mention.month, mention.day)
        elif ref:
            d = _last_on_or_before(mention.month, mention.day, ref)
        else:
            return None
        return Resolved(d, d, "day") if d else None
    if k == "range":
        y1 = mention.year or mention.year2
        m2 = mention.month2 or mention.month
        m1 = mention.month or m2
        if y1:
            start = date(y1, m1, mention.day)
        elif ref:
            start = _last_on_or_before(m1, mention.day, ref)
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
        parts = pack.section("dates", "month_parts", default={})
        if mention.extra in parts:
            first, last = parts[mention.extra]
            start = date(year, mention.month, first)
            end = date(year, mention.month, min(last, end.day))
        return Resolved(start, end, "month")
    if k == "year":
        return Resolved(date(mention.year, 1, 1), date(mention.year, 12, 31), "year")
    if k == "rel_day":
        rel = mention.extra or ""
        if rel.startswith("weekday:"):
            if ref is None:
                return None
            delta = (ref.weekday() - int(rel.split(":")[1])) % 7
            d = ref - timedelta(days=delta)
            return Resolved(d, d, "day")
        base_kind, n = rel.split(":")
        base = anchor.date if base_kind == "anchor" and anchor else ref
        if base is None:
            return None
        d = base + timedelta(days=int(n))
        return Resolved(d, d, "day")
    if k == "rel_span":
        if ref is None:
            return None
        what, _, rest = (mention.extra or "").partition(":")
        if what == "ago":
            n, unit = rest.split(":")
            return _offset(ref, -int(n), unit)
        return _span(rest, ref)
    if k == "offset":
        if anchor is None:
            return None
        sign, n, unit = (mention.extra or "-1:1:day").split(":")
        # the pack says which way: "X happened a month after Y" puts Y before X's date; "two days later" after it
        return _offset(anchor.date, int(sign) * int(n), unit)
    return None


def _span(name: str, ref: date) -> Resolved | None:
    monday = ref - timedelta(days=ref.weekday())
    if name == "last_week":
        start = monday - timedelta(days=7)
        return Resolved(start, start + timedelta(days=6), "range")
    if name == "this_week":
        return Resolved(monday, ref, "range")
    if name == "last_weekend":
        # The weekend just past: Saturday and Sunday on or before the reference (the same weekend on a Sunday).
        sunday = ref - timedelta(days=(ref.weekday() + 1) % 7)
        return Resolved(sunday - timedelta(days=1), sunday, "range")
    if name == "last_month":
        prev = _shift_months(ref.replace(day=1), -1)
        return Resolved(prev, _month_end(prev.year, prev.month), "month")
    if name == "this_month":
        return Resolved(ref.replace(day=1), ref, "month")
    if name == "last_year":
        return Resolved(date(ref.year - 1, 1, 1), date(ref.year - 1, 12, 31), "year")
    if name == "this_year":
        return Resolved(date(ref.year, 1, 1), ref, "year")
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
