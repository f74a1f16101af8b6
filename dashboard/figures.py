"""Figures in news text: numbers in digits or words, casualties, drug quantities in kilograms, counts.

The phrasing comes from the language pack: "1,417 kilograms" = 1417 kg ("1.417 kilos" in Spanish), "1.5 metric
tons" = 1500 kg, "two dozen airstrips" = 24, "killing one officer and wounding two" = 1 killed, 2 wounded.
Rates ("600 kilograms per week"), chemical precursors and coca leaf are not seized drugs. Numbers too large to be
true of one event are dropped rather than stored (a 400-digit number is not a count of hectares).
"""

from __future__ import annotations

import functools
import math
import re
from typing import NamedTuple

from dashboard.langpack import LanguagePack, load_pack

# Figures are kept however large (the extractor flags implausible ones for review, the store keeps integers too
# large for SQLite as REAL); only a number too large to be finite is no figure at all (400 digits: no reading).
MAX_PEOPLE = MAX_COUNT = MAX_KG = 1e300


def parse_number(text: str, pack: LanguagePack | None = None) -> float | None:
    """``"1,417"`` -> 1417, ``"three"`` -> 3, ``"two dozen"`` -> 24, ``"twenty-one"`` -> 21."""
    value = (pack or load_pack()).parse_number(text)
    return value if value is not None and math.isfinite(value) else None


@functools.lru_cache(maxsize=16)
def _quantity_re(pack: LanguagePack) -> re.Pattern:
    units = sorted(pack.section("quantities", "units", default={}), key=len, reverse=True)
    unit_alt = "|".join(re.escape(u).replace(r"\ ", r"\s+") for u in units)
    total = pack.section("quantities", "total", default="(?!)")
    half = pack.section("numbers", "and_a_half", default="(?!)")
    before_unit = pack.section("quantities", "before_unit", default="(?!)")  # "1.200 de kilos" (pack data)
    # "ocho kilos con novecientos gramos", "two kilos and 300 grams": a figure in two units
    compound = pack.section("quantities", "compound", default="(?!)")
    return re.compile(pack.approx.replace("approx", "qapprox") + rf"(?P<total>{total})?(?P<num>{pack.num})"
                      rf"(?P<half>{half})?[\s-]*(?:{before_unit})?(?P<unit>{unit_alt})\b(?P<half2>{half})?"
                      rf"(?:\s+(?:{compound})\s+(?P<num2>{pack.num})\s+(?P<unit2>{unit_alt})\b)?"
                      r"(?=(?P<after>[^.;]{0,60}))", re.IGNORECASE)


@functools.lru_cache(maxsize=16)
def _units(pack: LanguagePack) -> dict[str, float]:
    return {" ".join(k.lower().split()): float(v) for k, v in pack.section("quantities", "units").items()}


@functools.lru_cache(maxsize=16)
def _substances(pack: LanguagePack) -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((name, re.compile(r"\b(?:" + rx + r")\b", re.IGNORECASE))
                 for name, rx in pack.section("quantities", "substances", default=[]))


def cue(pack: LanguagePack, section: str) -> re.Pattern:
    """The cheap pre-check of a section (``casualties``, ``quantities``, ``counts``)."""
    return pack.regex(section, "cue") or re.compile("(?!)")


def _number(m: re.Match, pack: LanguagePack, group: str = "n") -> float | None:
    fixed = next((k for k in m.re.groupindex if k.startswith("v") and k[1:].isdigit()), None)
    if fixed:
        return float(fixed[1:])
    text = m.groupdict().get(group)
    value = parse_number(text, pack) if text else None
    if value is not None and group == "n" and "n2" in m.re.groupindex and m.group("n2") is not None:
        # "three officers and their guide", "un policía y dos civiles": a second group of people adds up; a word
        # with no number ("their", "su") stands for one person
        second = parse_number(m.group("n2"), pack)
        value += second if second is not None else 1
    return value


def people_count(patterns: tuple[re.Pattern, ...], text: str, pack: LanguagePack) -> int | None:
    """The largest number of people the patterns find (their group ``n``), or ``None``."""
    values = []
    singles: set[int] = set()
    for rx in patterns:
        pos = 0
        fixed = any(k.startswith("v") and k[1:].isdigit() for k in rx.groupindex)
        while (m := rx.search(text, pos)) is not None:
            pos = m.end()
            if _is_year(m):
                pos = m.end("n")  # "in May 2019 two soldiers were killed": read on after the year
                continue
            n = _number(m, pack)
            if n is not None and 0 < n <= MAX_PEOPLE:
                values.append(int(n))
                if fixed and n == 1:
                    singles.add(m.end())
    # Each person told of on their own ("the corporal died ..., the sergeant was wounded, while the private, who
    # was slightly wounded, ...") adds one: distinct singular statements, counted once per place they end.
    if len(singles) > 1:
        values.append(len(singles))
    return max(values) if values else None


def _is_year(m: re.Match) -> bool:
    """A bare four-digit year read as a number ("in May 2021 where 16 people were killed")."""
    text = m.groupdict().get("n") or ""
    return bool(re.fullmatch(r"(?:19|20)\d\d", text))


def lower_bounds(text: str, pack: LanguagePack) -> str:
    """``text`` with each range of numbers ("between 10 and 15") replaced by its lower bound.

    The bound is padded with spaces so that offsets still point into the original.
    """
    rx = pack.regex("range_number")
    if rx is None:
        return text
    return rx.sub(lambda m: m["lo"].ljust(len(m.group())), text)


def casualties(text: str, pack: LanguagePack | None = None) -> tuple[int | None, int | None]:
    """Killed and wounded stated in ``text``."""
    pack = pack or load_pack()
    if not cue(pack, "casualties").search(text):
        return None, None
    text = lower_bounds(text, pack)
    return (people_count(pack.regexes("casualties", "killed"), text, pack),
            people_count(pack.regexes("casualties", "wounded"), text, pack))


def quantities(text: str, pack: LanguagePack | None = None) -> list[tuple[int, float, bool, str | None]]:
    """Every drug quantity in ``text``: (offset, kilograms, called a total, substance), in reading order.

    Rates ("600 kg per week"), capacities ("capable of carrying 300 kg"), conversions in brackets, wrappers
    ("1,200 one-kilo packages"), precursors and coca leaf are left out.
    """
    pack = pack or load_pack()
    if not cue(pack, "quantities").search(text):
        return []
    units = _units(pack)
    rate = pack.regex("quantities", "rate")
    wrapper = pack.regex("quantities", "packages")
    capacity = pack.regex("quantities", "capacity_before")
    not_drugs = set(pack.section("quantities", "not_drugs", default=[]))
    text = lower_bounds(text, pack)
    out = []
    for m in _quantity_re(pack).finditer(text):
        factor = units.get(" ".join(m["unit"].lower().split()))
        number = _number(m, pack, "num")
        if factor is None or number is None:
            continue
        if m["half"] or m["half2"]:
            number += 0.5
        if m["num2"]:
            part, part_factor = _number(m, pack, "num2"), units.get(" ".join(m["unit2"].lower().split()))
            if part is not None and part_factor is not None and part_factor < factor:
                number += part * part_factor / factor
        if (rate and rate.search(m["after"])) or (wrapper and wrapper.search(m["after"])):
            continue
        if text[max(0, m.start() - 2):m.start()].strip().endswith(("(", "/")):
            continue  # "1.5 metric tons (1.7 tons)": a conversion of the figure just given
        if capacity and capacity.search(text[max(0, m.start() - 40):m.start()]):
            continue
        substance = _substance(pack, m["after"][:40])
        if substance is None:  # "a cocaine seizure of 2 tons": the drug named before
            substance = _substance(pack, text[max(0, m.start() - 40):m.start()], last=True)
        if substance in not_drugs:
            continue
        kg = number * factor
        if 0 < kg <= MAX_KG:
            out.append(Found(m.start(), kg, bool(m["total"]), substance, bool(m["qapprox"])))
    return out


class Found(NamedTuple):
    """A drug quantity in a text.

    Where it is, how many kilograms, whether the text calls it a total, the substance, and whether it is
    approximate ("more than 2.4 tonnes").
    """

    offset: int
    kg: float
    total: bool
    substance: str | None
    approx: bool = False


def quantity_found(text: str, pack: LanguagePack | None = None, near: int = 0) -> Found | None:
    """The drug quantity a sentence reports for its event.

    A stated total wins; else the first quantity after the trigger at offset ``near`` ("seized 70 kg ... but
    believe they hid 200 kg"), else the last one before it.
    """
    found = quantities(text, pack)
    if not found:
        return None
    totals = [q for q in found if q.total]
    after = [q for q in found if q.offset >= near]
    return max(totals, key=lambda q: q.kg) if totals else after[0] if after else found[-1]


def quantity(text: str, pack: LanguagePack | None = None, near: int = 0) -> tuple[float | None, bool, str | None]:
    """The kilograms, total flag and substance of :func:`quantity_found` (``None, False, None`` when none)."""
    q = quantity_found(text, pack, near)
    return (q.kg, q.total, q.substance) if q else (None, False, None)


def _substance(pack: LanguagePack, window: str, last: bool = False) -> str | None:
    hits = [(m.start(), -len(m.group()), name) for name, rx in _substances(pack) for m in [rx.search(window)] if m]
    if not hits:
        return None
    # The substance nearest the number (the first after it, the last before it), the longest name at a place.
    if last:
        end = max(h[0] for h in hits)
        return min(h for h in hits if h[0] == end)[2]
    return min(hits)[2]


def arrested(text: str, pack: LanguagePack | None = None) -> int | None:
    """People arrested ("three people were arrested", "detained 14 suspects")."""
    pack = pack or load_pack()
    return people_count(pack.regexes("counts", "arrested"), text, pack)


def hectares(text: str, pack: LanguagePack | None = None) -> int | None:
    """Hectares named in the text ("1,250 hectares of coca")."""
    pack = pack or load_pack()
    rx = pack.regex("counts", "hectares")
    for m in rx.finditer(text) if rx else ():
        n = _number(m, pack)
        if n is not None and 0 < n <= MAX_COUNT:
            return int(n)
    return None


@functools.lru_cache(maxsize=32)
def _object_re(pack: LanguagePack, unit: str) -> re.Pattern | None:
    obj = pack.section("counts", "objects", unit)
    if not obj:
        return None
    return re.compile(pack.approx + rf"(?P<n>{pack.num})\s+(?:[\w-]+\s+){{0,3}}?(?P<obj>{obj})\b", re.IGNORECASE)


def count_of(text: str, unit: str, pack: LanguagePack | None = None) -> tuple[int | None, bool]:
    """How many ``unit`` (airstrips, labs, arrested, hectares) the text counts, and whether it is approximate."""
    pack = pack or load_pack()
    text = lower_bounds(text, pack)
    if unit == "arrested":
        return arrested(text, pack), False
    if unit == "hectares":
        return hectares(text, pack), False
    rx = _object_re(pack, unit)
    for m in rx.finditer(text) if rx else ():
        n = _number(m, pack)
        if n is not None and 0 < n <= MAX_COUNT:
            return int(n), bool(m["approx"])
    # "destroyed the airstrip", "destruyeron la pista": one thing named with an article and no number
    rx = _single_re(pack, unit)
    plural = pack.regex("plural_object")
    for m in rx.finditer(text) if rx else ():
        last = m["obj"].split()[0].lower()
        if not (plural and plural.search(last)):
            return 1, False
    return None, False


@functools.lru_cache(maxsize=32)
def _single_re(pack: LanguagePack, unit: str) -> re.Pattern | None:
    obj = pack.section("counts", "objects", unit)
    single = pack.section("counts", "single", default=None)
    if not obj or not single:
        return None
    return re.compile(rf"\b(?:{single})\s+(?P<obj>{obj})\b", re.IGNORECASE)
