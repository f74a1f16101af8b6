"""Turn an article into incidents: rules read from a language pack and the taxonomy, no trained model.

Per article: choose the language pack; split into paragraphs and sentences; find trigger phrases of each incident
type; for each trigger read the date, places, casualties, quantities, counts, actors and outlet of its sentence,
falling back on the paragraph and then on the article's lead (news states the event's date and place once, early,
and goes on about "the attack"); drop generic statements; flag aggregates and old events recalled in passing as
background; merge the mentions of one event, and fold into an event the types it absorbs (arrests in a raid, the
drugs found in a lab). Nothing here names a word of any language: that is the pack's job.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import math
import re
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from shapely.geometry import Point

from dashboard import figures, temporal
from dashboard.corpus import Article
from dashboard.errors import ExtractionTimeout
from dashboard.gazetteer import Gazetteer, Mention, Place, default_gazetteer, rank_candidates
from dashboard.langpack import DEFAULT_LANGUAGE, LanguagePack, available_languages, literal_trie, load_pack
from dashboard.language import detect_language
from dashboard.taxonomy import Lexicon, load_lexicon

# An event whose only date ends this long before the article is recalled in passing, not reported.
RECALL_DAYS = 365
# Figures beyond these are kept but flagged for review.
IMPLAUSIBLE = {"quantity_kg": 100_000.0, "killed": 1000, "wounded": 1000, "count": 100_000}
EARLIEST_YEAR = 1980
LEAD_MIN_WORDS = 10


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
    language: str | None = None
    flags: list[str] = field(default_factory=list)
    confidence: float | None = None


@dataclass
class _Candidate:
    type: str
    sentence: Sentence
    index: int
    trigger_start: int
    when: temporal.Resolved | None
    date_strength: int  # 3 a day in its sentence, 2 a vaguer date there, 1 a neighbour's, 0 the lead's/a report date
    places: list[Place]
    place_text: str | None
    place_strength: int  # 2 in its sentence, 1 from context
    unknown_place: str | None
    killed: int | None
    wounded: int | None
    qty: float | None
    qty_total: bool
    qty_approx: bool
    substance: str | None
    count: int | None
    count_approx: bool
    actors: list[str]
    reported_by: str | None
    background: bool
    named_zones: list[Place] = field(default_factory=list)
    anaphoric: bool = False  # "the airstrips were blown up": refers to an event told elsewhere


class Extractor:
    """Rule-based incident extractor.

    Parameters
    ----------
    gazetteer
        Places to recognise; the package's default gazetteer when omitted.
    lexicon
        Force one lexicon (taxonomy + language pack) for every article; by default each article's language
        chooses its pack.
    """

    def __init__(self, gazetteer: Gazetteer | None = None, lexicon: Lexicon | None = None) -> None:
        self.gazetteer = gazetteer or default_gazetteer()
        self.lexicon = lexicon
        self._state: dict[str, _PackState] = {}

    # ------------------------------------------------------------------ public
    def language_of(self, article: Article) -> str:
        """The pack for the article's language, given or detected when it was read.

        English when there is no pack for it: an undetermined or third language is read with the default pack
        rather than not at all.
        """
        code = (article.language or detect_language(article.text) or "").lower()[:2]
        return code if code in available_languages() else DEFAULT_LANGUAGE

    def extract(self, article: Article, budget: float | None = None) -> list[Incident]:
        """Incidents reported by ``article``: events first in text order, then background statistics.

        Parameters
        ----------
        article
            The article.
        budget
            Seconds the extraction may take (an upload previewed while the analyst waits); past them
            :class:`~dashboard.errors.ExtractionTimeout` names the article. No limit when omitted.
        """
        lex = self.lexicon or load_lexicon(self.language_of(article))
        st = self._state.get(lex.pack.code) if self.lexicon is None else None
        if st is None:
            st = _PackState(lex)
            if self.lexicon is None:
                self._state[lex.pack.code] = st
        deadline = time.monotonic() + budget if budget is not None else None
        return _Run(self, st, article, deadline).incidents()


class _PackState:
    """What the extractor compiles once per lexicon."""

    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex
        self.pack: LanguagePack = lex.pack
        triggers = self.pack.triggers
        # keyword -> every type that lists it (two types may share a keyword)
        self.keyword_type: dict[str, set[str]] = {}
        for k, t in triggers.items():
            if k in lex.types:
                for w in t.keywords:
                    self.keyword_type.setdefault(w, set()).add(k)
        self.no_keywords = [k for k, t in triggers.items() if not t.keywords and k in lex.types]
        # As a prefix tree: the same matches as the alternation of the keywords longest first, three times faster.
        self.keyword_re = re.compile(literal_trie(self.keyword_type))
        outlets = sorted(lex.outlets, key=len, reverse=True)
        self.outlet_re = re.compile(r"\b(?:" + "|".join(re.escape(o) for o in outlets) + r")\b")
        p = self.pack
        self.dateline = p.regex("places", "dateline", flags=0)
        self.relational = p.regex("places", "relational")
        self.not_place = p.regex("places", "not_place", flags=0)
        self.direction = p.regex("places", "direction")
        self.not_place_after = p.regex("places", "not_place_after", flags=0)
        self.unknown = p.regex("places", "unknown", flags=0)
        self.generic = p.regex("generic")
        self.generic_clause = p.regex("generic_clause")
        self.anaphora = p.regex("anaphora", flags=0)
        self.clause_break = p.regex("clause_break")
        self.roundup = p.regex("roundup")
        self.definite = p.regex("definite")
        self.plural = p.regex("plural_object")
        self.relative = p.section("relative_pronouns") and "|".join(p.section("relative_pronouns"))
        # Compiled here, not per trigger: the re module's cache hashes a 3,000-character pattern on every lookup.
        self.relative_clause = re.compile(r",\s*(?:" + self.relative + r")\b[^,]*,") if self.relative else None
        self.forces_end = re.compile(p.forces + "$", re.IGNORECASE)
        self.counted = re.compile("(" + p.num + r")\s+(?:[\w-]+\s+){0,3}$", re.IGNORECASE)
        self.recall = p.regex("recall")
        self.report = p.regex("dates", "report_verbs")
        self.tally = p.regex("casualties", "tally")
        self.outlet_after = p.regex("outlets", "after", flags=0)
        self.outlet_before = p.regex("outlets", "before", flags=0)
        self.outlet_cue = p.regex("outlets", "cue")
        self.not_outlet = p.regex("outlets", "not_outlet")
        self.wire = p.regex("outlets", "wire", flags=0)
        hints = p.section("places", "hints", default={}) or {}
        self.rank = {k: t.rank for k, t in lex.types.items()}
        # Words that may stand beside a place name without making it a person's ("Satipo Province").
        self.place_words = {w.lower() for w in p.section("places", "name_words", default=[])}
        self.place_words |= {w.lower() for words in hints.values() for w in words}


class _Run:
    """One article through the extractor."""

    def __init__(self, ex: Extractor, st: _PackState, article: Article, deadline: float | None = None) -> None:
        self.ex, self.st, self.article = ex, st, article
        self.deadline = deadline
        self.g = ex.gazetteer
        self.pack = st.pack
        self.sentences = split_sentences(article.text, self.pack)
        self.ref = article.published

    # ------------------------------------------------------------------ the steps
    def incidents(self) -> list[Incident]:
        triggered = self._triggered()
        if not triggered:
            return []
        self.triggered = triggered
        self._check_time()
        self.datelines = self._datelines()
        self.place_at = self._place_index(triggered)
        self._check_time()
        self.dates = self._dates()
        self._check_time()
        self.lead_when = self._lead_date()
        self.lead_places = self._lead_places()
        candidates: list[_Candidate] = []
        for i, hits in sorted(triggered.items()):
            self._check_time()
            parts = self._roundup(i, hits)
            for sent, part_hits in parts or [(self.sentences[i], hits)]:
                candidates += self._candidates(i, part_hits, sent)
        self.eventful = {c.index for c in candidates}
        return self._merge(candidates)

    def _check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ExtractionTimeout(f"{self.article.name}: extraction took longer than its time budget; the "
                                    "article is too long to preview here (add it with 'incident-map ingest')")

    def _triggered(self) -> dict[int, dict[str, list[re.Match]]]:
        st, sentences = self.st, self.sentences
        # Substring checks find the sentences that hold any type's keywords (most hold none) far faster than
        # running every trigger pattern on every sentence.
        starts = self._starts
        maybe: dict[int, set[str]] = {}
        for m in st.keyword_re.finditer(self.article.text.lower()):
            i = bisect.bisect_right(starts, m.start()) - 1
            if i >= 0 and m.start() < sentences[i].end:
                maybe.setdefault(i, set()).update(st.keyword_type[m.group()])
        for key in st.no_keywords:
            for i in range(len(sentences)):
                maybe.setdefault(i, set()).add(key)
        out = {}
        for i, kinds in maybe.items():
            text = sentences[i].text
            hits = {}
            for key in kinds:
                t = self.pack.triggers[key]
                if (t.needs_any and not t.needs_any.search(text)) or (t.not_any and t.not_any.search(text)):
                    continue
                found = [m for rx in t.patterns for m in rx.finditer(text)]
                if found and t.retype_when and t.retype_to in self.st.lex.types and t.retype_when.search(text):
                    key = t.retype_to  # the pack says this phrasing is another type's ("a plane was captured")
                if found:
                    hits.setdefault(key, []).extend(found)
            if hits:
                out[i] = hits
        return out

    def _datelines(self) -> list[tuple[int, int]]:
        """Spans of datelines ("PICHARI, Peru (AP) -"): where the story was filed, not where it happened."""
        out = []
        if self.st.dateline is None:
            return out
        for para in re.finditer(r"[^\n]+", self.article.text[:3000]):
            m = self.st.dateline.match(para.group())
            if m and m.end() < len(para.group()):
                out.append((para.start(), para.start() + m.end()))
        return out

    def _place_index(self, triggered: dict) -> dict[tuple[int, int], Place]:
        """Resolved places by character span, read in the candidate sentences, their neighbours and the lead.

        The rest of the article is read only when a name there is ambiguous (ten districts called Santa Rosa):
        then every place the article names is context for choosing among them.
        """
        sentences, text = self.sentences, self.article.text
        near = {j for i in triggered for j in range(i - 3, i + 2) if 0 <= j < len(sentences)}
        near |= set(self.lead)
        mentions = []
        for j in sorted(near):
            sent = sentences[j]
            for m in self.g.find_mentions(text[sent.start:sent.end]):
                # (names that are also common words come only with their cue: the gazetteer checks that)
                mentions.append(replace(m, start=m.start + sent.start, end=m.end + sent.start))
        mentions = [m for m in mentions if m.candidates and not self._in_dateline(m.start)]
        if any(_ambiguous(m) for m in mentions):
            context = self.g.resolve([m for m in self.g.find_mentions(text) if not self._in_dateline(m.start)])
            context = list(dict.fromkeys(context))  # each place once: ranking cost must not grow with repetition
            ranked = [rank_candidates(list(m.candidates), m.hint, context)[0] for m in mentions]
        else:
            ranked = self.g.resolve(mentions)
        return {(m.start, m.end): p for m, p in zip(mentions, ranked, strict=True)}

    def _in_dateline(self, pos: int) -> bool:
        return any(s <= pos < e for s, e in self.datelines)

    def _dates(self) -> dict[int, list[tuple[int, temporal.Resolved, str, int, bool]]]:
        """Resolved dates per sentence: (offset, resolved, kind, end, is_report_date), in reading order."""
        out: dict[int, list] = {}
        anchor: temporal.Resolved | None = None
        text = self.article.text
        starts = self._starts
        # One pass over the text is far cheaper than one per sentence; each date goes to its sentence. Only the
        # sentences a date can matter to are read: the lead and those within three of a trigger.
        wanted = sorted({j for i in self.triggered for j in range(i - 3, i + 4) if 0 <= j < len(self.sentences)}
                        | set(self.lead))
        spans: list[tuple[int, int]] = []
        for j in wanted:
            a, b = self.sentences[j].start, self.sentences[j].end
            if spans and a <= spans[-1][1] + 1:
                spans[-1] = (spans[-1][0], b)
            else:
                spans.append((a, b))
        for m in temporal.find_dates(text, self.pack, spans):
            i = bisect.bisect_right(starts, m.start) - 1
            if i < 0 or m.end > self.sentences[i].end:
                continue
            r = temporal.resolve(m, self.ref, anchor, self.pack)
            if r is None or not _plausible_date(r, self.ref):
                continue
            before = text[max(self.sentences[i].start, m.start - 24):m.start]
            # "said on Friday" and a dateline's "LIMA, 12 ene (EFE).-" date the report, not the event
            report = bool(self.st.report and m.kind == "rel_day" and self.st.report.search(before)) or \
                self._in_dateline(m.start)
            out.setdefault(i, []).append((m.start, r, m.kind, m.end, report))
            if r.precision in ("day", "range") and not report:
                anchor = r if r.precision == "day" else temporal.Resolved(r.date, r.date, "day")
        return out

    @functools.cached_property
    def lead(self) -> list[int]:
        """The article's lead: its first three sentences of running text (titles and bylines are too short)."""
        return [i for i, s in enumerate(self.sentences) if len(s.text.split()) >= LEAD_MIN_WORDS][:3]

    def _lead_date(self) -> temporal.Resolved | None:
        """The first date of the article's lead, report dates last.

        A specific date first, else one of up to a month ("between May 10 and 31"); a report date ("said on
        Tuesday") only when the lead gives no other, as when the story was told says least about the event.
        """
        found = [(rep, not _specific(r), off, r) for i in self.lead
                 for off, r, kind, _, rep in self.dates.get(i, [])
                 if (_specific(r) or (r.date_end - r.date).days <= 31) and not self._old(r)]
        return min(found, key=lambda t: t[:3])[3] if found else None

    def _lead_places(self) -> tuple[list[Place], str | None]:
        """The places of the article's lead: where most news says its main event happened.

        Then even a place of origin in the lead ("shipped from Lima's airport": better than no place at all); a
        lead that names no place but the country ("in southern Peru") leaves it to the first place given later.
        """
        order = [(i, False) for i in self.lead] + [(i, True) for i in self.lead]
        order += [(i, False) for i in range(len(self.sentences)) if i not in self.lead]
        for i, lenient in order:
            places, text, _, _ = self._places(self.sentences[i], lenient)
            if places and not all(p.kind == "country" for p in places):
                return places, text
        return self._title_places()

    def _title_places(self) -> tuple[list[Place], str | None]:
        """Places of Peru the headline names, for an article whose text names none ("... cocaine in Piura")."""
        title = self.article.title if isinstance(self.article.title, str) else ""
        mentions = [m for m in self.g.find_mentions(title) if m.candidates]
        found = [(m, p) for m, p in zip(mentions, self.g.resolve(mentions), strict=True)
                 if p.is_peru and p.kind != "country"
                 and not (self.st.relational and self.st.relational.search(title[max(0, m.start - 40):m.start]))]
        if not found:
            return [], None
        places = _choose_places([p for _, p in found])
        return places, ", ".join(dict.fromkeys(m.text for m, p in found if p in places))

    def _old(self, r: temporal.Resolved) -> bool:
        """A date of an earlier event recalled in passing: a past year, or a day over a year before."""
        if self.ref is None:
            return False
        if r.precision == "year":
            return r.date_end.year < self.ref.year
        return r.date_end < self.ref - timedelta(days=RECALL_DAYS)

    # ------------------------------------------------------------------ candidates
    def _roundup(self, i: int, hits: dict[str, list[re.Match]]) -> list[tuple[Sentence, dict]] | None:
        """Cut a round-up of several operations in one sentence into its parts.

        "seized 120 kg in Tocache on Monday and another 80 kg in Puerto Maldonado on Wednesday" is cut at the
        pack's round-up cues into parts that each name a place of their own; ``None`` when the sentence is no
        such round-up.
        """
        cue = self.st.roundup
        sent = self.sentences[i]
        cuts = [m.start() for m in cue.finditer(sent.text)] if cue else []
        if not cuts:
            return None
        bounds = [0, *cuts, len(sent.text)]
        parts = [Sentence(sent.start + a, sent.start + b, sent.text[a:b], sent.paragraph)
                 for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
        if len(parts) < 2 or not all(self._places(p)[0] for p in parts):
            return None
        out = []
        for part in parts:
            part_hits = {}
            for key in hits:
                found = [m for rx in self.pack.triggers[key].patterns for m in rx.finditer(part.text)]
                # A part with no trigger of its own ("and another 80 kg in ...") goes on with the type before it.
                part_hits[key] = found or [re.match(r"\S*", part.text)]
            out.append((part, part_hits))
        return out

    def _candidates(self, i: int, triggered: dict[str, list[re.Match]],
                    sent: Sentence | None = None) -> list[_Candidate]:
        """Candidate incidents of sentence ``i`` (or of ``sent``, a part of it)."""
        st, pack = self.st, self.pack
        sent = sent or self.sentences[i]
        text = sent.text
        found: list[tuple[str, re.Match]] = []
        for key in st.lex.types:  # taxonomy order, so output order does not depend on set order
            hits = triggered.get(key)
            if not hits:
                continue
            events = [m for m in hits if not self._generic(m, sent)]
            if events:
                found.append((key, min(events, key=lambda m: m.start())))
        if not found:
            return []
        types = st.lex.types
        # Drugs found on the people arrested make the raid a seizure ("detained two traffickers carrying 400 kg
        # of cocaine"): the most general type with a quantity slot that absorbs the type found takes over.
        holders = {k: max((q for q in types.values() if q.quantity and k in q.absorbs), key=lambda q: q.rank,
                          default=None) for k, _ in found if not types[k].quantity}
        if any(holders.values()) and figures.quantities(text, pack):
            found += [(h.key, m) for k, m in found if (h := holders.get(k)) and h.key not in dict(found)]
        # One sentence, one event: a type absorbed by another found here is that event's attribute.
        kinds = {k for k, _ in found}
        absorbed = {a for k in kinds for a in st.lex.types[k].absorbs}
        found = [(k, m) for k, m in found if k not in absorbed] or found
        # Aggregates are read in the trigger's clause: "captured two leaders, accused of attacks which have
        # left 20 dead over the past two years" reports a capture, with a tally in a relative clause.
        first = min(m.start() for _, m in found)
        brk = st.clause_break.search(text, first) if st.clause_break else None
        background = st.lex.is_background(text[:brk.start()] if brk else text)
        killed = wounded = None
        # Casualties are read whatever the type: a shoot-out in a raid, a pilot shot as he was detained. The
        # event's type decides, once its mentions are merged, whether it reports them (its slots).
        killed, wounded = figures.casualties(_untallied(text, st.tally), pack)
        q = (figures.quantity_found(text, pack, near=min(m.start() for _, m in found))
             if any(types[k].quantity for k, _ in found) else None)
        qty, qty_total, substance, qty_approx = (q.kg, q.total, q.substance, q.approx) if q else (None, False, None,
                                                                                                  False)
        actors = st.lex.find_actors(text)
        places, place_text, unknown, _ = self._places(sent)
        place_strength = 2 if places else 0
        named_zones = self._zones_named(sent)
        reported = self._outlet(text)
        # Context when the sentence names no place: the sentences before it in its paragraph, else the next one
        # when it goes on about the same thing ("The airstrips were located in ..."), else the article's lead.
        if not places or all(p.kind == "country" for p in places):
            mine = {k for k, _ in found}
            for j in (i - 1, i + 1, i - 2, i - 3):
                # a neighbour that reports an event of another kind is another operation, with its own place
                other_event = (j in self.triggered and not mine & set(self.triggered[j])
                               and not (self.st.anaphora and self.st.anaphora.match(self.sentences[j].text)))
                if 0 <= j < len(self.sentences) and self.sentences[j].paragraph == sent.paragraph \
                        and not other_event:
                    more, more_text, _, more_excl = self._places(self.sentences[j])
                    if more and not more_excl and not all(p.kind == "country" for p in more):
                        places, place_text, place_strength = more, more_text, 1
                        named_zones = self._zones_named(self.sentences[j])
                        break
            else:
                if self.lead_places[0]:
                    places, place_text = self.lead_places
                    place_strength = 1
        if reported is None and i + 1 < len(self.sentences) and self.sentences[i + 1].paragraph == sent.paragraph:
            reported = self._outlet(self.sentences[i + 1].text)
        out = []
        for key, m in found:
            itype = types[key]
            when, strength = self._date_for(m, i, sent)
            count, approx = (figures.count_of(text, itype.count, pack) if itype.count else (None, False))
            recalled = (when is not None and strength >= 2 and self._old(when)) or bool(
                st.recall and st.recall.search(text))
            is_background = background or recalled
            out.append(_Candidate(
                type=key, sentence=sent, index=i, trigger_start=sent.start + m.start(), when=when,
                date_strength=strength, places=places, place_text=place_text, place_strength=place_strength,
                unknown_place=unknown, killed=killed, wounded=wounded, qty=qty if itype.quantity else None,
                qty_total=qty_total, qty_approx=qty_approx, substance=substance if itype.quantity else None,
                count=count,
                count_approx=approx, actors=actors, reported_by=reported, background=is_background,
                named_zones=named_zones, anaphoric=self._anaphoric(m, sent)))
        return out

    def _generic(self, m: re.Match, sent: Sentence) -> bool:
        """Whether the trigger states a kind of event, not an event.

        A modal or habitual clause before the trigger, or a plural object with no number and no date beside it
        ("destroying airstrips has little impact").
        """
        st = self.st
        # A relative clause (", who vowed they would ...,") says nothing of the main verb's mood.
        prefix = st.relative_clause.sub(",", sent.text[:m.start()]) if st.relative_clause else sent.text[:m.start()]
        if st.generic and st.generic.search(prefix):
            return True
        clause = re.split(r"[,;:]", sent.text[max(0, m.start() - 60):m.start()])[-1] + m.group()
        if st.generic_clause and st.generic_clause.search(clause):
            return True
        obj = m.groupdict().get("object")
        if not obj:
            return False
        lowered = obj.lower()
        if not self._plural(lowered) or self.st.forces_end.search(lowered):
            return False
        before = sent.text[max(0, m.start("object") - 40):m.start("object")]
        if self._anaphoric(m, sent):
            return False  # "the airstrips were blown up": ones the article has told of
        counted = self.st.counted.search(before)
        if counted and self.pack.parse_number(counted.group(1)) not in (None, 1.0):
            return False  # "five active clandestine drug labs" (but "a record quantity of coca plants" is no count)
        pos = sent.start + m.start()
        return not any(abs(off - pos) < 60 for off, _, kind, _, _ in self.dates.get(self._index(sent), [])
                       if kind != "year")

    def _anaphoric(self, m: re.Match, sent: Sentence) -> bool:
        """Whether the trigger opens on a definite plural object ("The airstrips were blown up").

        Such a mention refers to things the article has told of: it joins their event and never starts one.
        """
        obj = m.groupdict().get("object")
        if not obj or not self._plural(obj.lower()) or m.start("object") != m.start() or not self.st.definite:
            return False
        return bool(self.st.definite.search(sent.text[max(0, m.start() - 40):m.start()]))

    def _plural(self, word: str) -> bool:
        """Whether the pack reads ``word`` as a plural ("airstrips", "pistas")."""
        return bool(self.st.plural and self.st.plural.search(word))

    def _index(self, sent: Sentence) -> int:
        return bisect.bisect_left(self._starts, sent.start)

    @functools.cached_property
    def _starts(self) -> list[int]:
        return [s.start for s in self.sentences]

    def _date_for(self, m: re.Match, i: int, sent: Sentence) -> tuple[temporal.Resolved | None, int]:
        """The event's date and how firmly the text ties it to the trigger (see ``_Candidate``)."""
        pos = sent.start + m.start()
        usable = []
        for off, r, kind, _end, report in self.dates.get(i, []):
            if not sent.start <= off < sent.end:
                continue
            if kind == "offset" and off > pos:
                continue  # "X happened a month after <the event>": only when the event follows the phrase
            span = (r.date_end - r.date).days
            order = 0 if span <= 2 else 1 if span <= 31 else 2
            usable.append((report, order, abs(off - pos), r))
        if usable:
            report, order, _, r = min(usable, key=lambda t: t[:3])
            if not report:
                return r, 3 if order == 0 else 2
            report_date = r
        else:
            report_date = None
        # Context: an earlier sentence of the paragraph, or the next one when it goes on about the same thing
        # ("The interventions, carried out in mid-May, ..."), then the lead; a report date of its own sentence last.
        for j in (i - 1, i + 1, i - 2):
            if not (0 <= j < len(self.sentences) and self.sentences[j].paragraph == sent.paragraph):
                continue
            if j == i + 1 and not (self.st.anaphora and self.st.anaphora.match(self.sentences[j].text)):
                continue
            dated = [(not _specific(r), r) for _, r, kind, _, rep in self.dates.get(j, [])
                     if not rep and r.precision != "year"]
            if dated:
                return min(dated, key=lambda t: t[0])[1], 1
        if self.lead_when is not None:
            return self.lead_when, 0
        if report_date is not None:
            return report_date, 0
        return None, 0

    def _places_in(self, sent: Sentence) -> list[tuple[int, int, Place]]:
        """The resolved places within a sentence's span, in order (a binary search, not a scan)."""
        spans = self._spans
        k = bisect.bisect_left(spans, (sent.start, -1))
        out = []
        while k < len(spans) and spans[k][0] < sent.end:
            out.append((*spans[k], self.place_at[spans[k]]))
            k += 1
        return out

    @functools.cached_property
    def _spans(self) -> list[tuple[int, int]]:
        return sorted(self.place_at)

    def _places(self, sent: Sentence, lenient: bool = False) -> tuple[list[Place], str | None, str | None, bool]:
        """The event places a sentence names.

        Returns the places, their text, a name the gazetteer lacks, and whether a Peruvian place was left out as
        the event's origin or destination (``lenient``: keep those).
        """
        st = self.st
        here = self._places_in(sent)
        kept: list[tuple[int, int, Place]] = []
        excluded = False
        for s, e, p in here:
            before = sent.text[max(0, s - sent.start - 40):s - sent.start]
            if st.relational and st.relational.search(before):  # "north of the VRAEM", "bound for Belgium"
                # lenient: an origin or destination will do for want of anything better, a direction never
                if not lenient or (st.direction and st.direction.search(before)):
                    excluded = excluded or p.is_peru
                    continue
            if st.not_place and st.not_place.search(before):  # "reported Diario Cronicas Iquitos"
                continue
            if st.not_place_after and st.not_place_after.search(sent.text[e - sent.start:e - sent.start + 30]):
                continue  # "Jorge Chávez International Airport": a facility named after someone
            if p.kind in ("district", "town") and self._in_name(sent, s - sent.start, e - sent.start):
                continue  # "Carlos Zuniga", "Marco Aquino": a person who shares a district's name
            kept.append((s, e, p))
        kept = [t for t in kept if t[2].is_peru] or kept
        unknown = None
        if not kept:
            um = st.unknown.search(sent.text) if st.unknown else None
            if um and not self.g.lookup(um["p"]):
                unknown = um["p"]
            return [], None, unknown, excluded
        places = _choose_places([p for _, _, p in kept], self._shared_names(kept))
        written = {}
        for s, e, p in kept:
            if p in places and p not in written:
                written[p] = sent.text[s - sent.start:e - sent.start]
        return places, ", ".join(written.values()), unknown, excluded

    def _shared_names(self, kept: list[tuple[int, int, Place]]) -> frozenset[str]:
        """Names of the towns among ``kept`` that other places of the gazetteer share ("Nuevo Progreso")."""
        return frozenset(p.name for _, _, p in kept if p.kind == "town"
                         and len({c.id for c in self.g.lookup(p.name)}) > 1)

    def _in_name(self, sent: Sentence, s: int, e: int) -> bool:
        """Whether a place name at ``s:e`` of the sentence is part of a longer proper name (a person's).

        That is: next to a capitalised word that is neither a place, a place cue ("Province") nor the sentence's
        first word.
        """
        before = re.search(r"([A-ZÁÉÍÓÚÑ][a-záéíóúñ]+)\s+$", sent.text[max(0, s - 30):s])
        after = re.match(r"\s+([A-ZÁÉÍÓÚÑ][a-záéíóúñ]+)", sent.text[e:e + 30])
        cues = self.st.place_words
        for m, at_start in ((before, before is not None and s - len(before.group()) <= 0), (after, False)):
            if m and not at_start:
                word = m.group(1)
                if word.lower() not in cues and not self.g.lookup(word):
                    return True
        return False

    def _zones_named(self, sent: Sentence) -> list[Place]:
        rel = self.st.relational
        return [p for s, _, p in self._places_in(sent) if p.kind == "zone"
                and not (rel and rel.search(sent.text[max(0, s - sent.start - 40):s - sent.start]))]

    def _outlet(self, text: str) -> str | None:
        st = self.st
        wire = st.wire.search(text) if st.wire else None
        if wire:
            return wire.group(1)
        m = st.outlet_after.search(text) if st.outlet_after else None
        if m:
            name = m["o"].rstrip(".,")
            known = st.outlet_re.search(name)
            if known:
                return known.group()
            if len(name.split()) <= 5 and not (st.not_outlet and st.not_outlet.match(name)):
                return name
        m = st.outlet_re.search(text)
        if m and st.outlet_cue and st.outlet_cue.search(text):
            return m.group()
        m = st.outlet_before.search(text) if st.outlet_before else None
        return m["o"] if m and st.outlet_re.fullmatch(m["o"]) else None

    # ------------------------------------------------------------------ merging
    def _merge(self, cands: list[_Candidate]) -> list[Incident]:
        types = self.st.lex.types
        events: list[list[_Candidate]] = []
        background: list[list[_Candidate]] = []
        loose: list[_Candidate] = []
        for c in cands:
            if c.background:
                group = next((g for g in background if g[0].type == c.type and _same_numbers(g[0], c)), None)
                if group:
                    group.append(c)
                else:
                    background.append(_Group([c]))
            elif c.date_strength < 2:
                loose.append(c)  # a mention dated only by its context: it joins an event if one fits
            else:
                group = next((g for g in events if _same_event(g, c)), None)
                if group:
                    group.append(c)
                else:
                    events.append(_Group([c]))
        for c in sorted(loose, key=lambda c: c.anaphoric):  # anaphoric mentions once the others have events
            targets = [g for g in events if _joins(types, g[0].type, c.type)
                       and _places_compatible(g, c) and _dates_compatible(g, c)]
            # A mention right after an event of its own type, with no date of its own, goes on about that event
            # ("the first clash took place on Monday ... The clash left two dead"), whatever date its context
            # lends it.
            previous = [g for g in events if g[0].type == c.type and any(m.index == c.index - 1 for m in g)
                        and _places_compatible(g, c)]
            targets = previous or [g for g in targets if g[0].type == c.type] or targets  # its own type first
            if targets:
                before = [g for g in targets if g[0].trigger_start <= c.trigger_start]
                # the event told last before the mention (its latest mention before it, not after it)
                target = (max(before, key=lambda g: max(m.trigger_start for m in g
                                                        if m.trigger_start <= c.trigger_start)) if before
                          else min(targets, key=lambda g: g[0].trigger_start))
                target.append(c)
                continue
            # A date guessed from the lead (strength 0): any event of its type and place is a better home, but
            # for the lead itself, which tells the story's own event: a dated event told further down ("on 14
            # March a soldier died ...") is then an earlier one.
            guessed = c.date_strength == 0 and c.index not in self.lead
            group = next((g for g in events if g[0].type == c.type and _places_compatible(g, c)
                          and (guessed or _dates_compatible(g, c))), None)
            if group:
                group.append(c)
            elif not c.anaphoric:  # "the operations" with no event told before them: nothing new
                events.append(_Group([c]))
        # An absorbed type's event that fits an absorbing event is part of it (the arrests of a seizure).
        merged: list[_Group] = []
        for g in sorted(events, key=lambda g: self.st.rank.get(g[0].type, 9)):
            host = next((h for h in merged if g[0].type in types[h[0].type].absorbs and _places_compatible(h, g[0])
                         and _dates_compatible(h, g[0], strict=True)), None)
            if host:
                host.extend(g)
            else:
                merged.append(g)
        merged.sort(key=lambda g: g[0].trigger_start)
        incidents = [self._incident(g, False) for g in merged]
        incidents += [self._incident(g, True) for g in background]
        return incidents

    def _casualties_nearby(self, group: list[_Candidate]) -> tuple[int | None, int | None]:
        """Casualties told beside a mention, in sentences that report no event of their own.

        "... was among the three dead", said of the clash the sentence before reports.
        """
        killed = wounded = None
        for text in self._nearby(group):
            k, w = figures.casualties(_untallied(text, self.st.tally), self.pack)
            killed = killed if killed is not None else k
            wounded = wounded if wounded is not None else w
        return killed, wounded

    def _nearby(self, group: list[_Candidate], ahead: int = 2):
        """Sentences near a mention that report no event of their own.

        Within two sentences of a mention, no aggregate or recall; before the mention only in its own paragraph or
        the lead.
        """
        seen = set()
        for c in group:
            for j in (*range(c.index + 1, c.index + ahead + 1), c.index - 1, c.index - 2):
                if j in seen or not 0 <= j < len(self.sentences) or j in self.eventful:
                    continue
                seen.add(j)
                if j < c.index and self.sentences[j].paragraph != c.sentence.paragraph and j not in self.lead:
                    continue
                text = self.sentences[j].text
                if self.st.lex.is_background(text) or (self.st.recall and self.st.recall.search(text)):
                    continue
                if any(self._old(r) for _, r, _, _, _ in self.dates.get(j, [])):
                    continue  # "a conflict that began in 1980 has left 69,000 dead": history, not this event
                yield text

    def _quantity_nearby(self, group: list[_Candidate], substance: str | None) -> tuple[float | None, str | None]:
        """A drug quantity told beside the event ("The drugs found weighed a total of 56.5 kilos")."""
        # The weight often comes once the drug is described and tested, a sentence or two further on.
        for text in self._nearby(group, ahead=3):
            qty, _, sub = figures.quantity(text, self.pack)
            if qty is not None:
                return qty, substance or sub
        return None, substance

    def _incident(self, group: list[_Candidate], background: bool) -> Incident:
        types = self.st.lex.types
        # The group's type: the most specific one that absorbs the others ("attacked" + "the ambush" = ambush).
        kinds = {c.type for c in group}
        best = min(kinds, key=lambda k: types[k].rank)
        if all(k == best or k in types[best].absorbs for k in kinds) and best != group[0].type:
            group = [c for c in group if c.type == best] + [c for c in group if c.type != best]
        primary = group[0]
        own = [c for c in group if c.type == primary.type]
        ordered = own + [c for c in group if c.type != primary.type]
        firm = sorted(ordered, key=lambda c: -c.date_strength)
        when = firm[0].when
        places = _best_places(ordered)
        casualties = types[primary.type].casualties
        killed = _pick(c.killed for c in ordered) if casualties else None
        wounded = _pick(c.wounded for c in ordered) if casualties else None
        if casualties and types[primary.type].family == "violence" and (killed is None or wounded is None) \
                and not background:
            more_killed, more_wounded = self._casualties_nearby(ordered)
            killed = killed if killed is not None else more_killed
            wounded = wounded if wounded is not None else more_wounded
        qty_cands = [c for c in ordered if c.qty is not None]
        qty = None
        substance = _pick(c.substance for c in ordered)
        if qty_cands:
            # A stated total, else the figure of the firmest mention of the event (a lead's round figure or a
            # later aside is less exact than the sentence that dates and places the seizure).
            totals = [c.qty for c in qty_cands if c.qty_total]
            # Between equally firm mentions, the one naming the narrower place: a summary of "two sites in the
            # VRAEM" gives way to the sentence about one of them.
            # An exact figure beats a rounded one ("more than 2.4 tonnes" in the lead, "2,470.85 kg" further on).
            qty = max(totals) if totals else max(qty_cands, key=lambda c: (not c.qty_approx, c.date_strength,
                                                                           c.place_strength, -_area(c.places))).qty
            substance = next((c.substance for c in qty_cands if c.qty == qty and c.substance), substance)
        if qty is None and types[primary.type].quantity and not background:
            qty, substance = self._quantity_nearby(ordered, substance)
        exact = [c.count for c in own if c.count is not None and not c.count_approx]
        counts = exact or [c.count for c in own if c.count is not None]
        # Actors from the mentions that say something about the event, not from a passing "the attack".
        informative = [c for c in ordered if c.date_strength >= 2 or c.place_strength >= 2 or c.killed
                       or c.wounded or c.qty or c.count]
        actors = list(dict.fromkeys(a for c in informative or ordered for a in c.actors))
        reported = _pick(c.reported_by for c in ordered)
        place_text = next((c.place_text for c in firm if c.places and c.places == places), None)
        reason = None
        if not places:
            unknown = _pick(c.unknown_place for c in ordered)
            reason = (f"place {unknown!r} is not in the gazetteer" if unknown
                      else "the article names no place for this incident")
        count = counts[0] if counts else None
        values = {"quantity_kg": qty, "killed": killed, "wounded": wounded, "count": count}
        flags = [f"implausible {k}" for k, v in values.items() if v is not None and v > IMPLAUSIBLE[k]]
        if when is None:
            flags.append("no date")
        elif firm[0].date_strength < 2:
            flags.append("date from context")
        confidence = _confidence(firm[0].date_strength, max(c.place_strength for c in ordered), len(ordered),
                                 bool(places), flags)
        key = f"{self.article.content_hash}:{primary.type}:{primary.sentence.start}:{int(background)}"
        return Incident(
            id=hashlib.sha1(key.encode()).hexdigest()[:16], type=primary.type, article=self.article.name,
            date=when.date.isoformat() if when else None, date_end=when.date_end.isoformat() if when else None,
            date_precision=when.precision if when else None, place=place_text,
            place_ids=[p.id for p in places], killed=killed, wounded=wounded,
            quantity_kg=round(qty, 3) if qty is not None else None, substance=substance,
            count=count, actors=actors, reported_by=reported,
            evidence=primary.sentence.text, evidence_start=primary.sentence.start,
            evidence_end=primary.sentence.end, background=background, unlocated_reason=reason,
            named_zone_ids=list(dict.fromkeys(z.id for c in ordered if c.places == places for z in c.named_zones)),
            mentions=[(c.sentence.start, c.sentence.end) for c in ordered], language=self.pack.code, flags=flags,
            confidence=confidence)


# ----------------------------------------------------------------------------- helpers
def split_sentences(text: str, pack: LanguagePack | None = None) -> list[Sentence]:
    """Split text into sentences with spans; paragraphs are separated by blank lines."""
    abbrev = (pack or load_pack()).abbreviations
    out: list[Sentence] = []
    for p_index, para in enumerate(re.finditer(r"[^\n]+(?:\n[^\n]+)*", text)):
        start = para.start()
        chunk = para.group()
        last = 0
        for m in re.finditer(r"[.!?][\"”’')\]]*(?=\s+[\"“‘(\[¿¡]?[A-ZÁÉÍÓÚÑ0-9])", chunk):
            if abbrev.search(chunk[max(0, m.start() - 8):m.start() + 1]):
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


def _confidence(date_strength: int, place_strength: int, mentions: int, located: bool, flags: list[str]) -> float:
    """How much of an incident the text states itself, from 0 to 1: a review queue takes the lowest first.

    A date and a place in the event's own sentence count most, then ones taken from the paragraph, then from the
    lead; several mentions of the event add a little; an implausible figure or no place at all take away.
    """
    score = 0.3 + (0.1, 0.15, 0.25, 0.3)[min(date_strength, 3)] + (0.0, 0.15, 0.3)[min(place_strength, 2)]
    score += 0.05 * min(mentions - 1, 2)
    if not located:
        score -= 0.15
    if any(f.startswith("implausible") for f in flags):
        score -= 0.3
    return round(min(max(score, 0.05), 0.99), 2)


def _untallied(text: str, tally: re.Pattern | None) -> str:
    """The sentence up to a tally ("... killed 43 people since 2008"): numbers after it are not this event's."""
    if tally is None:
        return text
    m = tally.search(text)
    return text[:m.start()] if m and m.start() > 20 else text


def _specific(r: temporal.Resolved) -> bool:
    """A date precise enough to be an event's: a day, or a span of up to three days ("last weekend")."""
    return (r.date_end - r.date).days <= 2


def _plausible_date(r: temporal.Resolved, ref: date | None) -> bool:
    """Dates before 1980 or after the article (plus a day) are not events it reports."""
    if r.date.year < EARLIEST_YEAR:
        return False
    return ref is None or r.date <= ref + timedelta(days=1)


def _ambiguous(mention: Mention) -> bool:
    """Several features of the kind this mention would resolve to, in different places (context decides)."""
    if not mention.candidates:
        return False
    top = rank_candidates(list(mention.candidates), mention.hint, ())[0]
    return len({c.id for c in mention.candidates if c.kind == top.kind and c.is_peru}) > 1


def _choose_places(places: list[Place], shared: frozenset[str] = frozenset()) -> list[Place]:
    """One place, or several of one kind ("Pasco, Huánuco and Ucayali"); nested places give the innermost."""
    unique = list(dict.fromkeys(places))
    if len(unique) == 1:
        return unique
    non_country = [p for p in unique if p.kind != "country"] or unique
    # "Vista Alegre, in Curimaná district, Padre Abad province": a town or district outside every province and
    # department named beside it is a namesake elsewhere, when another one lies inside them.
    wide = [p for p in non_country if p.kind in ("department", "province")]
    fine = [p for p in non_country if p.kind in ("district", "town")]
    inside = [p for p in fine if any(_inside(p, w) for w in wide)]
    if inside and len(inside) < len(fine):
        non_country = [p for p in non_country if p not in fine or p in inside]
    # "the hamlet of Nuevo Progreso, in Pichari district": a town whose name several places share (``shared``),
    # outside the district named beside it, is a namesake elsewhere (the gazetteer lacks the hamlet); the
    # district is then the place. A town of a name of its own beside a district is a list of places.
    districts = [p for p in non_country if p.kind == "district"]
    towns = [p for p in non_country if p.kind == "town" and p.name in shared]
    if districts and towns:
        outside = [t for t in towns if not any(_in_district(t, d) for d in districts)]
        non_country = [p for p in non_country if p not in outside] or non_country
    kinds = {p.kind for p in non_country}
    if len(kinds) == 1 and len(non_country) > 1 and non_country[0].kind in ("department", "province", "district"):
        return non_country
    return [min(non_country, key=lambda p: (p.precision, 0 if p.kind != "river" else 1))]


def _inside(place: Place, wide: Place) -> bool:
    """Whether a town or district lies in a department or province, by the gazetteer's admin names."""
    if wide.kind == "department":
        return place.department == wide.department
    return (place.department, place.province) == (wide.department, wide.province)


def _in_district(town: Place, district: Place) -> bool:
    """Whether a town lies in (or within about 2 km of) a district's footprint."""
    return district.footprint is not None and district.footprint.distance(Point(town.lon, town.lat)) < 0.02


def _best_places(group: list[_Candidate]) -> list[Place]:
    """The most specific places the firmest mentions of the event give, the primary mention first among equals."""
    options = [c for c in group if c.places]
    if not options:
        return []
    strongest = max(c.place_strength for c in options)
    return min((c.places for c in options if c.place_strength == strongest),
               key=lambda ps: min(p.precision for p in ps))


def _pick(values):
    for v in values:
        if v not in (None, ""):
            return v
    return None


def _overlap(a: temporal.Resolved, b: temporal.Resolved, slack: int = 0) -> bool:
    pad = timedelta(days=slack)
    return a.date - pad <= b.date_end and b.date - pad <= a.date_end


def _same_event(group: list[_Candidate], c: _Candidate) -> bool:
    a = group[0]
    if a.type != c.type or a.when is None or c.when is None:
        return False
    if _different_amounts(group, c):
        return False
    return _overlap(a.when, c.when) and _places_compatible(group, c)


def _different_amounts(group: list[_Candidate], c: _Candidate) -> bool:
    """Whether two stated quantities far apart make two seizures.

    Even on one day in one place (30 kg at the airport, 1.5 t in a warehouse); a total is no such evidence.
    """
    if c.qty is None or c.qty_total:
        return False
    stated = (group.qtys if isinstance(group, _Group)
              else {g.qty for g in group if g.qty is not None and not g.qty_total})
    return bool(stated) and all(abs(q - c.qty) > 0.1 * max(q, c.qty) for q in stated)


def _dates_compatible(group: list[_Candidate], c: _Candidate, strict: bool = False) -> bool:
    """Dates that may be one event's (``strict``: both known; an undated mention is no evidence of sameness)."""
    a = group[0]
    if a.when is None or c.when is None:
        return not strict
    return _overlap(a.when, c.when, slack=0 if strict else 1)


def _joins(types, event_type: str, mention_type: str) -> bool:
    """Whether a mention of ``mention_type`` can be part of an event of ``event_type``."""
    if event_type == mention_type or mention_type in types[event_type].absorbs:
        return True
    family = types[event_type].family
    return family is not None and family == types[mention_type].family


def _same_numbers(a: _Candidate, b: _Candidate) -> bool:
    return (a.qty, a.count, a.killed) == (b.qty, b.count, b.killed)


class _Group(list):
    """The mentions of one event.

    The distinct places and quantities they state are kept as mentions are added, so that comparing a new mention
    with the group does not grow with the group.
    """

    def __init__(self, items=()) -> None:
        super().__init__()
        self.places: dict[str, Place] = {}
        self.qtys: set[float] = set()
        self.extend(items)

    def append(self, c: _Candidate) -> None:
        super().append(c)
        if c.place_strength >= 2:
            self.places.update((p.id, p) for p in c.places if p.kind != "country")
        if c.qty is not None and not c.qty_total:
            self.qtys.add(c.qty)

    def extend(self, items) -> None:
        for c in items:
            self.append(c)


def _places_compatible(group: list[_Candidate], c: _Candidate) -> bool:
    """Whether the places the mentions name themselves may be one event's (places from context say nothing)."""
    mine = list(group.places.values()) if isinstance(group, _Group) else [
        p for g in group if g.place_strength >= 2 for p in g.places if p.kind != "country"]
    theirs = [p for p in c.places if p.kind != "country"] if c.place_strength >= 2 else []
    if not mine or not theirs:
        return True
    # Every place the group names must fit: a summary naming the region ("two sites in the VRAEM") takes the
    # first site's mention, and a second site in another district of that region is then another event.
    fits = [any(_overlap_places(a, b) for b in theirs) for a in mine]
    return all(fits) or (any(fits) and not _consistent(mine))


def _area(places: list[Place]) -> float:
    """The footprint of a mention's narrowest place (infinite when it names none)."""
    return min((p.footprint.area for p in places), default=math.inf)


def _consistent(places: list[Place]) -> bool:
    """Whether the places form one nested chain (region, province, district), not two sites side by side."""
    return all(_overlap_places(a, b) for i, a in enumerate(places) for b in places[i + 1:])


@functools.lru_cache(maxsize=65536)
def _overlap_places(a: Place, b: Place) -> bool:
    """Whether two places' footprints overlap by more than a sliver (cached: the same pairs recur)."""
    return bool(a.footprint.intersects(b.footprint) and
                a.footprint.intersection(b.footprint).area > 0.05 * min(a.footprint.area, b.footprint.area))


__all__ = ["Extractor", "Incident", "Mention", "Sentence", "split_sentences"]
