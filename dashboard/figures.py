"""Figures in news text: numbers in digits or words, casualties, drug quantities in kilograms, counts.

"1,417 kilograms" = 1417 kg, "1.5 metric tons" = 1500 kg, "two dozen airstrips" = 24, "killing one officer and
wounding two" = 1 killed, 2 wounded. Rates ("600 kilograms per week") and chemical precursors are not seized drugs.
"""

from __future__ import annotations

import re

_UNITS = {"zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
          "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
          "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
          "hundred": 100, "dozen": 12, "a dozen": 12, "half a dozen": 6}
_NUMWORD = (r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[- ](?:one|two|three|four|five|six|seven|"
            r"eight|nine)|half a dozen|(?:a|one|two|three|four|five|six|seven|eight|nine|ten) (?:dozen|hundred)|"
            r"a dozen|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
            r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)")
NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|" + _NUMWORD + r")"
_APPROX = (r"(?P<approx>nearly|almost|about|around|some|roughly|approximately|more than|over|at least|up to|"
           r"close to)?\s*")


def parse_number(text: str) -> float | None:
    """``"1,417"`` -> 1417, ``"three"`` -> 3, ``"two dozen"`` -> 24, ``"twenty-one"`` -> 21."""
    t = text.strip().lower()
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", t):
        return float(t.replace(",", ""))
    if t in _UNITS:
        return float(_UNITS[t])
    parts = re.split(r"[- ]", t)
    if len(parts) == 2 and parts[1] in ("dozen", "hundred"):
        return float(_UNITS.get(parts[0], 1) * _UNITS[parts[1]])
    if len(parts) == 2 and parts[0] in _UNITS and parts[1] in _UNITS:
        return float(_UNITS[parts[0]] + _UNITS[parts[1]])
    return None


_KG_PER = {"t": 1000.0, "ton": 1000.0, "tonne": 1000.0, "metric ton": 1000.0, "metric tonne": 1000.0,
           "kg": 1.0, "kilo": 1.0, "kilogram": 1.0, "kilogramme": 1.0, "g": 0.001, "gram": 0.001,
           "pound": 0.45359237, "lb": 0.45359237}
_QTY = re.compile(_APPROX.replace("approx", "qapprox") + r"(?P<total>(?:the )?total(?: of)? )?(?P<num>" + NUM
                  + r")[\s-]*(?P<unit>metric tons?|metric tonnes?|tons?|tonnes?|t|kilograms?|kilogrammes?|kilos?|kgs?|"
                  r"grams?|g|pounds?|lbs?)\b(?P<after>[^.;]{0,60})", re.IGNORECASE)
_RATE = re.compile(r"^\s*(?:of \w+(?: \w+)? )?(?:per|a|each|every) (?:day|week|month|year)|^[^,]*\b(?:weekly|monthly|"
                   r"annually|a year|per year|each year|every year|capacity)\b", re.IGNORECASE)
_SUBSTANCES = [
    ("cocaine base paste", r"(?:cocaine )?base paste|basic cocaine paste|pasta b[aá]sica"),
    ("coca paste", r"coca paste"),
    ("liquid cocaine", r"liquid cocaine"),
    ("cocaine", r"cocaine(?: hydrochloride)?|clorhidrato"),
    ("marijuana", r"marijuana|marihuana|cannabis"),
    ("heroin", r"heroin"),
    ("coca leaf", r"coca leaf|coca leaves"),
    ("methamphetamine", r"methamphetamine|crystal meth"),
    ("chemical precursors", r"(?:chemical )?precursors?|chemicals|insumos"),
]
_SUBSTANCE_RES = [(name, re.compile(r"\b(?:" + rx + r")\b", re.IGNORECASE)) for name, rx in _SUBSTANCES]
_NON_DRUGS = {"chemical precursors"}

_PEOPLE = (r"(?:police(?:m[ae]n|wom[ae]n)?|police officers?|officers?|soldiers?|troops|agents|people|persons|civilians|"
           r"members|policemen|marines?|servicem[ae]n|major|captain|lieutenant|sergeant|commander|guards?|"
           r"workers|farmers|residents|children|villagers|attackers|assailants|traffickers|gunmen|suspects|rebels|"
           r"guerrillas|insurgents|individuals|men|women)")
KILLED = [
    re.compile(r"\b(?P<n>" + NUM + r")\s+(?:[\w-]+\s+){0,3}?(?:were\s+|was\s+|have been\s+|had been\s+)?"
               r"(?:killed|dead|murdered|slain|died|shot dead|assassinated|lost their lives)\b", re.IGNORECASE),
    re.compile(r"\b(?:killed|killing|murdered|murdering|assassinated|assassinating|shot dead|slew|massacred|"
               r"assassination of|murder of|killing of|deaths of)\s+(?:the\s+)?(?P<n>a|an|" + NUM
               + r")\s+(?:[\w'’-]+\s+){0,3}?" + _PEOPLE + r"\b", re.IGNORECASE),
]
# "A police officer died", "one soldier was killed": a single casualty named by an article rather than a number.
KILLED.append(re.compile(r"\b(?P<n>a|an|one)\s+(?:[\w-]+\s+){0,2}?" + _PEOPLE + r"\s+(?:was\s+)?"
                          r"(?:killed|died|murdered|slain|shot dead|assassinated)\b", re.IGNORECASE))
# "killing one officer and wounding two": after the verb, a bare number counts people too.
KILLED.append(re.compile(r"\b(?:killing|killed)\s+(?P<n>" + NUM + r")\b(?!\s*(?:percent|%|kilo|ton|hect|"
                          r"years?|days?))", re.IGNORECASE))
WOUNDED = [
    re.compile(r"\b(?P<n>" + NUM + r")\s+(?:[\w-]+\s+){0,3}?(?:were\s+|was\s+|have been\s+|had been\s+)?"
               r"(?:wounded|injured|hurt)\b", re.IGNORECASE),
    re.compile(r"\b(?:wounded|wounding|injured|injuring)\s+(?:the\s+)?(?P<n>a|an|" + NUM + r")\s+(?:[\w'’-]+\s+){0,3}?"
               + _PEOPLE + r"\b", re.IGNORECASE),
    re.compile(r"\b(?:wounding|injuring)\s+(?P<n>" + NUM + r")\b(?!\s*(?:percent|%|kilo|ton|hect))",
               re.IGNORECASE),
]
_ARRESTED = re.compile(r"\b(?P<n>" + NUM + r")\s+(?:[\w-]+\s+){0,3}?" + _PEOPLE
                       + r"\s+(?:were|have been|had been|was)\s+(?:arrested|detained|captured)|"
                       r"\b(?:arrested|detained|captured)\s+(?P<n2>" + NUM + r")\s+(?:[\w-]+\s+){0,3}?" + _PEOPLE,
                       re.IGNORECASE)
_HECTARES = re.compile(r"\b(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?:hectares|ha)\b", re.IGNORECASE)
_COUNT_OBJECT = re.compile(_APPROX + r"(?P<n>" + NUM + r")\s+(?:[\w-]+\s+){0,2}?(?P<obj>air ?strips?|landing strips?|"
                           r"runways?|labs?|laborator(?:y|ies)|maceration pits?|complex(?:es)?)\b", re.IGNORECASE)

# Cheap pre-checks before the costly number patterns.
CASUALTY_WORDS = re.compile(r"kill|dead|die|murder|slain|assassin|wound|injur|hurt|lost their lives", re.IGNORECASE)
WEIGHT_WORDS = re.compile(r"ton|kilo|kg|gram|pound|lb|\dt\b|\st\b", re.IGNORECASE)
COUNT_WORDS = re.compile(r"strip|runway|lab|complex|pit", re.IGNORECASE)


def first_number(patterns: list[re.Pattern], text: str) -> int | None:
    """The largest number the patterns find (their group ``n``), under 10,000."""
    values = []
    for rx in patterns:
        for m in rx.finditer(text):
            n = parse_number(m["n"])
            if n is not None and n < 10000:
                values.append(int(n))
    return max(values) if values else None


def quantity(text: str) -> tuple[float | None, bool, str | None]:
    """Find the largest drug quantity in kilograms (rates and precursors excluded).

    Returns the kilograms, whether the text calls it a total, and the substance.
    """
    best: tuple[float, bool, str | None] | None = None
    for m in _QTY.finditer(text):
        unit = m["unit"].lower().rstrip("s") if m["unit"].lower() not in ("lbs", "kgs") else m["unit"].lower()[:-1]
        unit = {"kilogramme": "kilogram"}.get(unit, unit)
        factor = _KG_PER.get(unit)
        number = parse_number(m["num"])
        if factor is None or number is None:
            continue
        if _RATE.search(m["after"]):
            continue
        substance = None
        window = m["after"][:40]
        for name, rx in _SUBSTANCE_RES:
            if rx.search(window):
                substance = name
                break
        if substance is None:  # "1,417 kilograms" with the drug named before ("cocaine seizure of 2 tons")
            for name, rx in _SUBSTANCE_RES:
                if rx.search(text[max(0, m.start() - 40):m.start()]):
                    substance = name
                    break
        if substance in _NON_DRUGS:
            continue
        kg = number * factor
        total = bool(m["total"])
        if best is None or (total, kg) > (best[1], best[0]):
            best = (kg, total, substance)
    return best if best else (None, False, None)


def arrested(text: str) -> int | None:
    """People arrested ("three people were arrested", "detained 14 suspects")."""
    for m in _ARRESTED.finditer(text):
        n = parse_number(m["n"] or m["n2"])
        if n is not None:
            return int(n)
    return None


def hectares(text: str) -> int | None:
    """Hectares named in the text ("1,250 hectares of coca")."""
    m = _HECTARES.search(text)
    return int(float(m["n"].replace(",", ""))) if m else None


def count_of(text: str) -> tuple[int | None, bool]:
    """Airstrips, labs or pits counted in the text, and whether the count is approximate."""
    for m in _COUNT_OBJECT.finditer(text):
        n = parse_number(m["n"])
        if n is not None and n < 100000:
            return int(n), bool(m["approx"]) or "dozen" in m["n"].lower()
    return None, False
