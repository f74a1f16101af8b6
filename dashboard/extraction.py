"""Turn an article into incidents: rules and lexicons, no trained model.

The pipeline per article: split into paragraphs and sentences; find trigger phrases of each incident type
(``data/taxonomy.yaml``); for each trigger collect the date, places, casualties, quantities, counts, actors and the
outlet from its sentence (places and outlet also from the next or previous sentence of the paragraph when the
sentence has none); drop generic statements ("destroying airstrips has little impact"); flag aggregates as
background; and merge mentions of one event into one incident.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field, replace

from dashboard import temporal
from dashboard.corpus import Article
from dashboard.gazetteer import Gazetteer, Mention, Place, default_gazetteer, rank_candidates
from dashboard.taxonomy import Lexicon, load_lexicon

# ----------------------------------------------------------------------------- numbers
_UNITS = {"zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
          "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
          "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
          "hundred": 100, "dozen": 12, "a dozen": 12, "half a dozen": 6}
_NUMWORD = (r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[- ](?:one|two|three|four|five|six|seven|"
            r"eight|nine)|half a dozen|(?:a|one|two|three|four|five|six|seven|eight|nine|ten) (?:dozen|hundred)|"
            r"a dozen|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
            r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)")
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|" + _NUMWORD + r")"
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
_QTY = re.compile(_APPROX.replace("approx", "qapprox") + r"(?P<total>(?:the )?total(?: of)? )?(?P<num>" + _NUM
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
_KILLED = [
    re.compile(r"\b(?P<n>" + _NUM + r")\s+(?:[\w-]+\s+){0,3}?(?:were\s+|was\s+|have been\s+|had been\s+)?"
               r"(?:killed|dead|murdered|slain|died|shot dead|assassinated|lost their lives)\b", re.IGNORECASE),
    re.compile(r"\b(?:killed|killing|murdered|murdering|assassinated|assassinating|shot dead|slew|massacred|"
               r"assassination of|murder of|killing of|deaths of)\s+(?:the\s+)?(?P<n>a|an|" + _NUM
               + r")\s+(?:[\w'’-]+\s+){0,3}?" + _PEOPLE + r"\b", re.IGNORECASE),
]
# "A police officer died", "one soldier was killed": a single casualty named by an article rather than a number.
_KILLED.append(re.compile(r"\b(?P<n>a|an|one)\s+(?:[\w-]+\s+){0,2}?" + _PEOPLE + r"\s+(?:was\s+)?"
                          r"(?:killed|died|murdered|slain|shot dead|assassinated)\b", re.IGNORECASE))
# "killing one officer and wounding two": after the verb, a bare number counts people too.
_KILLED.append(re.compile(r"\b(?:killing|killed)\s+(?P<n>" + _NUM + r")\b(?!\s*(?:percent|%|kilo|ton|hect|"
                          r"years?|days?))", re.IGNORECASE))
_WOUNDED = [
    re.compile(r"\b(?P<n>" + _NUM + r")\s+(?:[\w-]+\s+){0,3}?(?:were\s+|was\s+|have been\s+|had been\s+)?"
               r"(?:wounded|injured|hurt)\b", re.IGNORECASE),
    re.compile(r"\b(?:wounded|wounding|injured|injuring)\s+(?:the\s+)?(?P<n>a|an|" + _NUM + r")\s+(?:[\w'’-]+\s+){0,3}?"
               + _PEOPLE + r"\b", re.IGNORECASE),
    re.compile(r"\b(?:wounding|injuring)\s+(?P<n>" + _NUM + r")\b(?!\s*(?:percent|%|kilo|ton|hect))",
               re.IGNORECASE),
]
_ARRESTED = re.compile(r"\b(?P<n>" + _NUM + r")\s+(?:[\w-]+\s+){0,3}?" + _PEOPLE
                       + r"\s+(?:were|have been|had been|was)\s+(?:arrested|detained|captured)|"
                       r"\b(?:arrested|detained|captured)\s+(?P<n2>" + _NUM + r")\s+(?:[\w-]+\s+){0,3}?" + _PEOPLE,
                       re.IGNORECASE)
_HECTARES = re.compile(r"\b(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?:hectares|ha)\b", re.IGNORECASE)
_COUNT_OBJECT = re.compile(_APPROX + r"(?P<n>" + _NUM + r")\s+(?:[\w-]+\s+){0,2}?(?P<obj>air ?strips?|landing strips?|"
                           r"runways?|labs?|laborator(?:y|ies)|maceration pits?|complex(?:es)?)\b", re.IGNORECASE)
_OUTLET_AFTER = re.compile(r"\b(?:reported|according to|reports)\s+(?:the\s+)?(?P<o>(?:[A-Z][\w'’.-]*|"
                           r"de|del|la|el|los)(?:\s+(?:[A-Z][\w'’.-]*|de|del|la|el|los))*)")
_OUTLET_BEFORE = re.compile(r"(?P<o>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,4})\s+(?:reported|said in a report)\b")
_RELATIONAL = re.compile(r"\b(?:north|south|east|west|northeast|northwest|southeast|southwest|outside|away|far)\s+"
                         r"(?:of|from)\s+(?:the\s+)?$|\b(?:bound for|destined for|sent (?:from|to)|headed (?:for|to)|"
                         r"into|to|toward|towards|from|across the border with|border with|with)\s+(?:the\s+)?$",
                         re.IGNORECASE)
_UNKNOWN_PLACE = re.compile(r"\b(?:in|near|at)\s+(?:the\s+)?(?:town|village|district|province|region|city)?"
                            r"\s*(?:of\s+)?(?P<p>[A-Z][a-zá-úñ]+(?:\s+(?:de|del|la)?\s*[A-Z][a-zá-úñ]+){0,3})")
_WIRE_DATELINE = re.compile(r"^[A-ZÁÉÍÓÚÑ][\w ,.]{0,40}?\((AP|AFP|Reuters|EFE|Andina|ANSA|dpa|Xinhua)\)\s*[—–-]")
_IN_OUTLET = re.compile(r"\b(?:reported|according to|reports|told)\s+(?:[A-Z][\w'’.-]*\s+){0,4}$")
# Cheap pre-checks before the costly number patterns.
_CASUALTY_WORDS = re.compile(r"kill|dead|die|murder|slain|assassin|wound|injur|hurt|lost their lives", re.IGNORECASE)
_WEIGHT_WORDS = re.compile(r"ton|kilo|kg|gram|pound|lb|\dt\b|\st\b", re.IGNORECASE)
_COUNT_WORDS = re.compile(r"strip|runway|lab|complex|pit", re.IGNORECASE)
_HAS_DIGIT = re.compile(r"\d")
_ANAPHORA = re.compile(r"(?:The|These|Those|This|It|They|Both|All|Each|Some|Most|Many)\b")
_ABBREV = re.compile(r"(?:\b(?:Gen|Col|Lt|Capt|Sgt|Maj|Dr|Mr|Mrs|Ms|St|No|Jr|Sr|Gov|Sen|Rep|Inc|Co|vs|approx|"
                     r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)|\b[A-Z]|\b[A-Z]\.[A-Z])\.$")


@dataclass(frozen=True)
class Sentence:
    """A sentence with its character span in the article text and its paragraph number."""

    start: int
    end: int
    text: str
    paragraph: int


@dataclass
class Incident:
    """One incident found in an article. Dates are ISO strings; ``places`` are gazetteer place ids."""

    id: str
    type: str
    article: str
    date: str | None
    date_end: str | None
    date_precision: str | None
    place: str | None
    place_ids: list[str]
    killed: int | None
    wounded: int | None
    quantity_kg: float | None
    substance: str | None
    count: int | None
    actors: list[str]
    reported_by: str | None
    evidence: str
    evidence_start: int
    evidence_end: int
    background: bool = False
    unlocated_reason: str | None = None
    named_zone_ids: list[str] = field(default_factory=list)
    mentions: list[tuple[int, int]] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)


@dataclass
class _Candidate:
    type: str
    sentence: Sentence
    trigger_start: int
    when: temporal.Resolved | None
    explicit_date: bool
    places: list[Place]
    place_text: str | None
    unknown_place: str | None
    killed: int | None
    wounded: int | None
    qty: float | None
    qty_total: bool
    substance: str | None
    count: int | None
    count_approx: bool
    actors: list[str]
    reported_by: str | None
    background: bool
    named_zones: list[Place] = field(default_factory=list)


class Extractor:
    """Rule-based incident extractor.

    Parameters
    ----------
    gazetteer
        Places to recognise; the package's default gazetteer when omitted.
    lexicon
        Incident types, actors, outlets and background phrases; ``data/taxonomy.yaml`` when omitted.
    """

    def __init__(self, gazetteer: Gazetteer | None = None, lexicon: Lexicon | None = None) -> None:
        self.gazetteer = gazetteer or default_gazetteer()
        self.lexicon = lexicon or load_lexicon()
        # Keyword -> type; a type without keywords is tried on every sentence.
        self._keyword_type = {w: k for k, t in self.lexicon.types.items() for w in t.keywords}
        self._no_keywords = [k for k, t in self.lexicon.types.items() if not t.keywords]
        words = sorted(self._keyword_type, key=len, reverse=True)
        self._keyword_re = re.compile("|".join(map(re.escape, words)) if words else "(?!)")
        outlets = sorted(self.lexicon.outlets, key=len, reverse=True)
        self._outlet_re = re.compile(r"\b(?:" + "|".join(re.escape(o) for o in outlets) + r")\b")

    # ------------------------------------------------------------------ public
    def extract(self, article: Article) -> list[Incident]:
        """Incidents reported by ``article``: events first in text order, then background statistics."""
        sentences = split_sentences(article.text)
        # Substring checks find the sentences that hold any type's keywords (most hold none) far faster than
        # running every trigger pattern on every sentence.
        starts = [s.start for s in sentences]
        maybe: dict[int, set[str]] = {}
        for m in self._keyword_re.finditer(article.text.lower()):
            i = bisect.bisect_right(starts, m.start()) - 1
            if i >= 0:
                maybe.setdefault(i, set()).add(self._keyword_type[m.group()])
        for key in self._no_keywords:
            for i in range(len(sentences)):
                maybe.setdefault(i, set()).add(key)
        if not maybe:
            return []
        place_at = self._place_index(article.text, sentences, maybe)
        dates = self._dates(article, sentences, set(maybe))
        candidates: list[_Candidate] = []
        for i, kinds in maybe.items():
            candidates += self._candidates(sentences, i, place_at, dates, kinds)
        return self._merge(article, candidates)

    def _place_index(self, text: str, sentences: list[Sentence], maybe: dict[int, set[str]]) -> dict:
        """Resolved places by character span: read in the candidate sentences and their neighbours.

        The rest of the article is read only when a name there is ambiguous (ten districts called Santa Rosa):
        then every place the article names is context for choosing among them.
        """
        near = sorted({j for i in maybe for j in (i - 1, i, i + 1) if 0 <= j < len(sentences)})
        mentions = []
        for j in near:
            sent = sentences[j]
            for m in self.gazetteer.find_mentions(text[sent.start:sent.end]):
                mentions.append(replace(m, start=m.start + sent.start, end=m.end + sent.start))
        if any(_ambiguous(m) for m in mentions):
            context = self.gazetteer.resolve(self.gazetteer.find_mentions(text))
            ranked = [rank_candidates(list(m.candidates), m.hint, context)[0] for m in mentions if m.candidates]
        else:
            ranked = self.gazetteer.resolve(mentions)
        return {(m.start, m.end): p for m, p in zip([m for m in mentions if m.candidates], ranked, strict=True)}

    # ------------------------------------------------------------------ dates
    def _dates(self, article: Article, sentences: list[Sentence], wanted: set[int]) -> dict[int, list]:
        """Resolved dates per sentence index (offset, resolved, kind, end), in reading order.

        Only sentences that may report an event, or hold a digit (an explicit date that later "the previous day"
        leans on), are read: the others cannot change a result.
        """
        ref = article.published
        out: dict[int, list] = {}
        anchor_day: temporal.Resolved | None = None
        for i, sent in enumerate(sentences):
            if i not in wanted and not _HAS_DIGIT.search(sent.text):
                continue
            for m in temporal.find_dates(sent.text):
                anchor = anchor_day
                r = temporal.resolve(m, ref, anchor)
                if r is None:
                    continue
                out.setdefault(i, []).append((sent.start + m.start, r, m.kind, sent.start + m.end))
                if r.precision in ("day", "range"):
                    anchor_day = r if r.precision == "day" else temporal.Resolved(r.date, r.date, "day")
        return out

    # ------------------------------------------------------------------ candidates
    def _candidates(self, sentences: list[Sentence], i: int, place_at: dict, dates: dict,
                    maybe_types: set[str]) -> list[_Candidate]:
        sent = sentences[i]
        found: list[tuple[str, re.Match]] = []
        for key, itype in self.lexicon.types.items():
            if key not in maybe_types:
                continue
            if itype.needs_any and not itype.needs_any.search(sent.text):
                continue
            hits = [m for rx in itype.triggers for m in rx.finditer(sent.text)]
            if not hits:
                continue
            events = [m for m in hits if not self._generic(m, sent, dates.get(i, []))]
            if events:
                found.append((key, min(events, key=lambda m: m.start())))
        if not found:
            return []
        text = sent.text
        background = self.lexicon.is_background(text)
        kinds = {k for k, _ in found}
        killed = wounded = None
        if "ambush" in kinds and _CASUALTY_WORDS.search(text):
            killed = _first_number(_KILLED, text)
            wounded = _first_number(_WOUNDED, text)
        qty, qty_total, substance = _quantity(text) if _WEIGHT_WORDS.search(text) else (None, False, None)
        count, count_approx = _count(text) if _COUNT_WORDS.search(text) else (None, False)
        arrested = _arrested(text) if "arrest" in kinds else None
        hectares = _hectares(text) if "eradication" in kinds else None
        actors = self.lexicon.find_actors(text)
        places, place_text, unknown, excluded = self._places(sent, place_at)
        named_zones = self._zones_named(sent, place_at)
        reported = self._outlet(text)
        # Context from the paragraph when the sentence names no place or outlet: the next sentence when it goes
        # on about the same thing ("The airstrips were located in ..."), else the previous one.
        for j in (i + 1, i - 1):
            if 0 <= j < len(sentences) and sentences[j].paragraph == sent.paragraph:
                follows = j == i - 1 or _ANAPHORA.match(sentences[j].text)
                if follows and not excluded and (not places or all(p.kind == "country" for p in places)):
                    more, more_text, _, _ = self._places(sentences[j], place_at)
                    if more and not all(p.kind == "country" for p in more):
                        places, place_text = more, more_text
                        named_zones = self._zones_named(sentences[j], place_at)
                if reported is None and j == i + 1:
                    reported = self._outlet(sentences[j].text)
        out = []
        for key, m in found:
            when, explicit = self._date_for(m, sent, dates.get(i, []))
            if when is None and key not in self._dated_types(sentences, i - 1, dates):
                # "... seized 450 kg in Ayacucho on January 30. Three people were arrested.": the next
                # sentence of the paragraph goes on with the same day, for an event of another type
                when = self._previous_day(sentences, i, dates)
            out.append(_Candidate(
                type=key, sentence=sent, trigger_start=sent.start + m.start(), when=when, explicit_date=explicit,
                places=places, place_text=place_text, unknown_place=unknown,
                killed=killed if key == "ambush" else None, wounded=wounded if key == "ambush" else None,
                qty=qty if key in ("seizure", "lab_dismantling") else None, qty_total=qty_total,
                substance=substance if key in ("seizure", "lab_dismantling") else None,
                count=(count if key in ("airstrip_destruction", "lab_dismantling")
                       else arrested if key == "arrest" else hectares if key == "eradication" else None),
                count_approx=count_approx, actors=actors, reported_by=reported, background=background,
                named_zones=named_zones))
        # A seizure in a dismantled lab is the lab's seizure ("a large cocaine seizure in a dismantled lab").
        if any(c.type == "lab_dismantling" for c in out):
            out = [c for c in out if c.type != "seizure"]
        return out

    def _previous_day(self, sentences: list[Sentence], i: int, dates: dict) -> temporal.Resolved | None:
        if i == 0 or sentences[i - 1].paragraph != sentences[i].paragraph:
            return None
        days = [r for _, r, kind, _ in dates.get(i - 1, []) if r.precision == "day" and kind != "year"]
        return days[-1] if days else None

    def _dated_types(self, sentences: list[Sentence], j: int, dates: dict) -> set[str]:
        """Types the lexicon finds in sentence ``j`` (a same-type mention is the same event, not a new one)."""
        if j < 0:
            return set()
        text = sentences[j].text
        return {k for k, t in self.lexicon.types.items() if any(rx.search(text) for rx in t.triggers)}

    def _generic(self, m: re.Match, sent: Sentence, sent_dates: list) -> bool:
        """A plural object with no number and no date beside it is a statement about a kind of event."""
        obj = m.groupdict().get("object")
        if not obj:
            return False
        lowered = obj.lower()
        plural = lowered.endswith(("s", "ies")) and lowered not in ("police", "troops", "agents", "forces",
                                                                    "security forces", "marines")
        if lowered in ("agents", "troops", "marines"):
            return False
        if not plural:
            return False
        before = sent.text[max(0, m.start("object") - 40):m.start("object")]
        if re.search(_NUM + r"\s+(?:[\w-]+\s+){0,2}$", before, re.IGNORECASE):
            return False
        pos = sent.start + m.start()
        return not any(abs(off - pos) < 60 for off, _, kind, _ in sent_dates if kind not in ("year",))

    def _date_for(self, m: re.Match, sent: Sentence, sent_dates: list) -> tuple[temporal.Resolved | None, bool]:
        pos = sent.start + m.start()
        usable = []
        for off, r, kind, _end in sent_dates:
            if kind == "offset" and off > pos:
                continue  # "X happened a month after <the event>": only when the event follows the phrase
            usable.append((abs(off - pos), kind, r))
        if not usable:
            return None, False
        # Prefer specific dates; among them the nearest to the trigger.
        order = {"range": 0, "day": 0, "rel_day": 0, "offset": 1, "month": 1, "rel_span": 1, "year": 2}
        usable.sort(key=lambda t: (order.get(t[1], 3), t[0]))
        return usable[0][2], True

    def _places(self, sent: Sentence, place_at: dict) -> tuple[list[Place], str | None, str | None, bool]:
        here = [(s, e, p) for (s, e), p in place_at.items() if sent.start <= s < sent.end]
        here.sort()
        kept: list[tuple[int, int, Place]] = []
        excluded = False
        for s, e, p in here:
            # "north of the VRAEM", "bound for Belgium": a place the event is not in
            before = sent.text[max(0, s - sent.start - 40):s - sent.start]
            if _RELATIONAL.search(before):
                excluded = excluded or p.is_peru
                continue
            if _IN_OUTLET.search(before):  # "reported Diario Cronicas Iquitos" names a newspaper, not a place
                continue
            kept.append((s, e, p))
        peru = [t for t in kept if t[2].is_peru]
        kept = peru or kept
        unknown = None
        if not kept:
            um = _UNKNOWN_PLACE.search(sent.text)
            if um and not self.gazetteer.lookup(um["p"]):
                unknown = um["p"]
        if not kept:
            return [], None, unknown, excluded
        places = _choose_places([p for _, _, p in kept])
        written = {}
        for s, e, p in kept:
            if p in places and p not in written:
                written[p] = sent.text[s - sent.start:e - sent.start]
        return places, ", ".join(written.values()), unknown, excluded

    def _zones_named(self, sent: Sentence, place_at: dict) -> list[Place]:
        return [p for (s, _), p in sorted(place_at.items()) if sent.start <= s < sent.end and p.kind == "zone"
                and not _RELATIONAL.search(sent.text[max(0, s - sent.start - 40):s - sent.start])]

    def _outlet(self, text: str) -> str | None:
        wire = _WIRE_DATELINE.search(text)  # "LIMA, Peru (AP) — ..."
        if wire:
            return wire.group(1)
        m = _OUTLET_AFTER.search(text)
        if m:
            name = m["o"].rstrip(".,")
            known = self._outlet_re.search(name)
            if known:
                return known.group()
            if len(name.split()) <= 5 and not re.match(r"(?:the|a|he|she|they|it|police|authorities)\b", name,
                                                       re.IGNORECASE):
                return name
        m = self._outlet_re.search(text)
        if m and re.search(r"\b(?:reported|according to|report)\b", text):
            return m.group()
        m = _OUTLET_BEFORE.search(text)
        return m["o"] if m and self._outlet_re.fullmatch(m["o"]) else None

    # ------------------------------------------------------------------ merging
    def _merge(self, article: Article, cands: list[_Candidate]) -> list[Incident]:
        events: list[list[_Candidate]] = []
        background: list[list[_Candidate]] = []
        undated: list[_Candidate] = []
        for c in cands:
            if c.background:
                group = next((g for g in background if g[0].type == c.type and _same_numbers(g[0], c)), None)
                if group:
                    group.append(c)
                else:
                    background.append([c])
            elif c.when is None:
                undated.append(c)
            else:
                group = next((g for g in events if _same_event(g[0], c)), None)
                if group:
                    group.append(c)
                else:
                    events.append([c])
        for c in undated:
            targets = [g for g in events if _compatible_type(g[0].type, c.type) and _places_compatible(g, c)]
            if targets:
                before = [g for g in targets if g[0].trigger_start <= c.trigger_start]
                target = (max(before, key=lambda g: g[0].trigger_start) if before
                          else min(targets, key=lambda g: g[0].trigger_start))
                target.append(c)
            else:
                events.append([c])
        # Undated groups of one type with compatible places are one event too ("the attack ... this assault").
        merged: list[list[_Candidate]] = []
        for g in events:
            if g[0].when is None:
                other = next((h for h in merged if h[0].type == g[0].type and h[0].when is None
                              and _places_compatible(h, g[0])), None)
                if other:
                    other.extend(g)
                    continue
            merged.append(g)
        incidents = [self._incident(article, g, False) for g in merged]
        incidents += [self._incident(article, g, True) for g in background]
        return incidents

    def _incident(self, article: Article, group: list[_Candidate], background: bool) -> Incident:
        primary = group[0]
        ordered = [primary] + sorted(group[1:], key=lambda c: c.trigger_start)
        when = primary.when
        places = _best_places(ordered)
        killed = _pick(c.killed for c in ordered)
        wounded = _pick(c.wounded for c in ordered)
        qty_cands = [c for c in ordered if c.qty is not None]
        qty = None
        substance = _pick(c.substance for c in ordered)
        if qty_cands:
            totals = [c.qty for c in qty_cands if c.qty_total]
            qty = max(totals) if totals else max(c.qty for c in qty_cands)
            substance = next((c.substance for c in qty_cands if c.qty == qty and c.substance), substance)
        exact_counts = [c.count for c in ordered if c.count is not None and not c.count_approx]
        counts = exact_counts or [c.count for c in ordered if c.count is not None]
        # Actors from the mentions that say something about the event, not from a passing "the attack".
        informative = [c for c in ordered if c.when or c.places or c.killed or c.wounded or c.qty or c.count]
        actors = list(dict.fromkeys(a for c in informative or ordered for a in c.actors))
        reported = _pick(c.reported_by for c in ordered)
        place_text = next((c.place_text for c in ordered if c.places and c.places == places), None)
        reason = None
        if not places:
            unknown = _pick(c.unknown_place for c in ordered)
            reason = (f"place {unknown!r} is not in the gazetteer" if unknown
                      else "the article names no place for this incident")
        key = f"{article.content_hash}:{primary.type}:{primary.sentence.start}:{int(background)}"
        return Incident(
            id=hashlib.sha1(key.encode()).hexdigest()[:16], type=primary.type, article=article.name,
            date=when.date.isoformat() if when else None, date_end=when.date_end.isoformat() if when else None,
            date_precision=when.precision if when else None, place=place_text,
            place_ids=[p.id for p in places], killed=killed, wounded=wounded,
            quantity_kg=round(qty, 3) if qty is not None else None, substance=substance,
            count=counts[0] if counts else None, actors=actors, reported_by=reported,
            evidence=primary.sentence.text, evidence_start=primary.sentence.start,
            evidence_end=primary.sentence.end, background=background, unlocated_reason=reason,
            named_zone_ids=list(dict.fromkeys(z.id for c in ordered if c.places == places for z in c.named_zones)),
            mentions=[(c.sentence.start, c.sentence.end) for c in ordered])


# ----------------------------------------------------------------------------- helpers
def split_sentences(text: str) -> list[Sentence]:
    """Split text into sentences with spans; paragraphs are separated by blank lines."""
    out: list[Sentence] = []
    for p_index, para in enumerate(re.finditer(r"[^\n]+(?:\n[^\n]+)*", text)):
        start = para.start()
        chunk = para.group()
        last = 0
        for m in re.finditer(r"[.!?][\"”’')\]]*(?=\s+[\"“‘(\[]?[A-Z0-9])", chunk):
            if _ABBREV.search(chunk[max(0, m.start() - 8):m.start() + 1]):
                continue
            piece = chunk[last:m.end()]
            if piece.strip():
                lead = len(piece) - len(piece.lstrip())
                out.append(Sentence(start + last + lead, start + m.end(), piece.strip(), p_index))
            last = m.end()
        piece = chunk[last:]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append(Sentence(start + last + lead, start + last + lead + len(piece.strip()), piece.strip(), p_index))
    return out


def _ambiguous(mention: Mention) -> bool:
    """Several features of the kind this mention would resolve to, in different places (context decides)."""
    if not mention.candidates:
        return False
    top = rank_candidates(list(mention.candidates), mention.hint, ())[0]
    return len({c.id for c in mention.candidates if c.kind == top.kind and c.is_peru}) > 1


def _first_number(patterns: list[re.Pattern], text: str) -> int | None:
    values = []
    for rx in patterns:
        for m in rx.finditer(text):
            n = parse_number(m["n"])
            if n is not None and n < 10000:
                values.append(int(n))
    return max(values) if values else None


def _quantity(text: str) -> tuple[float | None, bool, str | None]:
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


def _arrested(text: str) -> int | None:
    """People arrested ("three people were arrested", "detained 14 suspects")."""
    for m in _ARRESTED.finditer(text):
        n = parse_number(m["n"] or m["n2"])
        if n is not None:
            return int(n)
    return None


def _hectares(text: str) -> int | None:
    m = _HECTARES.search(text)
    return int(float(m["n"].replace(",", ""))) if m else None


def _count(text: str) -> tuple[int | None, bool]:
    for m in _COUNT_OBJECT.finditer(text):
        n = parse_number(m["n"])
        if n is not None and n < 100000:
            return int(n), bool(m["approx"]) or "dozen" in m["n"].lower()
    return None, False


def _choose_places(places: list[Place]) -> list[Place]:
    """One place, or several of one kind ("Pasco, Huánuco and Ucayali"); nested places give the innermost."""
    unique = list(dict.fromkeys(places))
    if len(unique) == 1:
        return unique
    non_country = [p for p in unique if p.kind != "country"] or unique
    kinds = {p.kind for p in non_country}
    if len(kinds) == 1 and len(non_country) > 1 and non_country[0].kind in ("department", "province", "district"):
        return non_country
    return [min(non_country, key=lambda p: (p.precision, 0 if p.kind != "river" else 1))]


def _best_places(group: list[_Candidate]) -> list[Place]:
    """The most specific places any mention of the event gives, the primary mention first among equals."""
    options = [c.places for c in group if c.places]
    if not options:
        return []
    return min(options, key=lambda ps: min(p.precision for p in ps))


def _pick(values):
    for v in values:
        if v not in (None, ""):
            return v
    return None


def _same_event(a: _Candidate, b: _Candidate) -> bool:
    if a.type != b.type or a.when is None or b.when is None:
        return False
    overlap = a.when.date <= b.when.date_end and b.when.date <= a.when.date_end
    return overlap and _places_compatible([a], b)


def _same_numbers(a: _Candidate, b: _Candidate) -> bool:
    return (a.qty, a.count, a.killed) == (b.qty, b.count, b.killed)


def _compatible_type(event_type: str, mention_type: str) -> bool:
    return event_type == mention_type or (event_type == "lab_dismantling" and mention_type == "seizure")


def _places_compatible(group: list[_Candidate], c: _Candidate) -> bool:
    mine = [p for g in group for p in g.places if p.kind != "country"]
    theirs = [p for p in c.places if p.kind != "country"]
    if not mine or not theirs:
        return True
    return any(a.footprint.intersects(b.footprint) and
               a.footprint.intersection(b.footprint).area > 0.05 * min(a.footprint.area, b.footprint.area)
               for a in mine for b in theirs)


__all__ = ["Extractor", "Incident", "Mention", "Sentence", "parse_number", "split_sentences"]
