"""Turn an article into incidents: rules and lexicons, no trained model.

The pipeline per article: split into paragraphs and sentences; find trigger phrases of each incident type
(``dashboard/data/taxonomy.yaml``); for each trigger collect the date, places, casualties, quantities, counts, actors and the
outlet from its sentence (places and outlet also from the next or previous sentence of the paragraph when the
sentence has none); drop generic statements ("destroying airstrips has little impact"); flag aggregates as
background; and merge mentions of one event into one incident.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field, replace

from dashboard import figures, temporal
from dashboard.corpus import Article
from dashboard.gazetteer import Gazetteer, Mention, Place, default_gazetteer, rank_candidates
from dashboard.taxonomy import Lexicon, load_lexicon

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
        Incident types, actors, outlets and background phrases; ``dashboard/data/taxonomy.yaml`` when omitted.
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
        # Then the trigger patterns, on those sentences only; places and dates are read around the hits.
        triggered: dict[int, dict[str, list[re.Match]]] = {}
        for i, kinds in maybe.items():
            hits = self._triggers(sentences[i].text, kinds)
            if hits:
                triggered[i] = hits
        if not triggered:
            return []
        place_at = self._place_index(article.text, sentences, triggered)
        dates = self._dates(article, sentences, set(triggered))
        candidates: list[_Candidate] = []
        for i, hits in triggered.items():
            candidates += self._candidates(sentences, i, place_at, dates, hits)
        return self._merge(article, candidates)

    def _triggers(self, text: str, kinds: set[str]) -> dict[str, list[re.Match]]:
        """Trigger matches per incident type in one sentence (types whose keywords it holds)."""
        out = {}
        for key in kinds:
            itype = self.lexicon.types[key]
            if itype.needs_any and not itype.needs_any.search(text):
                continue
            hits = [m for rx in itype.triggers for m in rx.finditer(text)]
            if hits:
                out[key] = hits
        return out

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
                    triggered: dict[str, list[re.Match]]) -> list[_Candidate]:
        sent = sentences[i]
        found: list[tuple[str, re.Match]] = []
        for key in self.lexicon.types:  # lexicon order, so output order does not depend on set order
            hits = triggered.get(key)
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
        if "ambush" in kinds and figures.CASUALTY_WORDS.search(text):
            killed = figures.first_number(figures.KILLED, text)
            wounded = figures.first_number(figures.WOUNDED, text)
        qty, qty_total, substance = figures.quantity(text) if figures.WEIGHT_WORDS.search(text) else (None, False, None)
        count, count_approx = figures.count_of(text) if figures.COUNT_WORDS.search(text) else (None, False)
        arrested = figures.arrested(text) if "arrest" in kinds else None
        hectares = figures.hectares(text) if "eradication" in kinds else None
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
        if re.search(figures.NUM + r"\s+(?:[\w-]+\s+){0,2}$", before, re.IGNORECASE):
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


__all__ = ["Extractor", "Incident", "Mention", "Sentence", "split_sentences"]
