"""Language packs: what the extractor knows about one language, read from ``dashboard/data/lang/<code>.yaml``.

A pack holds the trigger phrases of each incident type, number words, month and weekday names, relative-date
phrases, casualty, quantity and count phrasing, place cues, dateline shapes, outlet cues, abbreviations and the
language's names for actors. The engine (:mod:`dashboard.temporal`, :mod:`dashboard.figures`,
:mod:`dashboard.extraction`) reads only packs, so a language is added by adding a file, like dateparser's
per-language data or spaCy's ``EntityRuler`` patterns. Slots in patterns (``{NUM}``, ``{PEOPLE}``,
``{FORCES}``, ``{APPROX}``) are filled here, once per pack.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dashboard.gazetteer import DATA_DIR

#: PyYAML's safe loader in C (libyaml) when PyYAML was built with it: the packs load ten times faster, and a
#: one-article ingest reads them every time. The same safe subset of YAML as ``yaml.safe_load``.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LANG_DIR = DATA_DIR / "lang"
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class TriggerSet:
    """One incident type's triggers in one language."""

    patterns: tuple[re.Pattern, ...]
    keywords: tuple[str, ...] = ()
    needs_any: re.Pattern | None = None
    not_any: re.Pattern | None = None
    retype_to: str | None = None
    retype_when: re.Pattern | None = None


@dataclass(frozen=True)
class RelativeDate:
    """A relative date phrase and what it means (see the ``relative`` section of a pack)."""

    pattern: re.Pattern
    days: int | None = None
    anchor: bool = False
    weekday: bool = False
    span: str | None = None
    ago: bool = False
    offset: bool = False
    cue: tuple[str, ...] = ()  # words the phrase cannot do without (one of them): it is tried only near them


@dataclass(frozen=True, eq=False)
class LanguagePack:
    """A compiled language pack. Build one with :func:`load_pack`; ``spec`` is the YAML as read."""

    code: str
    name: str
    spec: dict = field(repr=False)

    # ------------------------------------------------------------------ building blocks
    def section(self, *keys: str, default=None):
        """A nested value of the pack's YAML (``section("dates", "months")``), ``default`` when absent."""
        node = self.spec
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return node

    @functools.cached_property
    def number_words(self) -> dict[str, float]:
        """Words and phrases with a fixed value ("a dozen" = 12, "una" = 1), beside what text2num reads."""
        return {k.lower(): float(v) for k, v in (self.section("numbers", "words") or {}).items()}

    @functools.cached_property
    def num(self) -> str:
        """A regular expression (no groups) for one number in digits or words."""
        nums = self.section("numbers", default={})
        dec = re.escape(nums.get("decimal_mark", "."))
        thou = re.escape(nums.get("thousands_mark", ","))
        digits = rf"\d{{1,3}}(?:{thou}\d{{3}})+(?:{dec}\d+)?|\d+(?:{dec}\d+)?"
        # Press that mixes conventions: "2.4 toneladas" beside "1.200 kilos", "3 407 kilogramos" (see _mixed).
        alt = nums.get("alt_decimal_mark")
        if alt:
            digits = rf"\d+{re.escape(alt)}(?:\d{{1,2}}|\d{{4,}})(?!\d)|" + digits
        alt_thou = nums.get("alt_thousands_mark")
        if alt_thou:
            digits = (rf"\d{{1,3}}(?:{re.escape(alt_thou)}\d{{3}})+(?:{re.escape(alt or '.')}\d+)?(?![\d.,])|"
                      + digits)
        if nums.get("space_groups"):
            digits = r"\d{1,3}(?: \d{3})+(?:[.,]\d+)?(?![\d.,])|" + digits
        # Each of these is one word, followed in every use by a space or a word's end: which one is tried first
        # does not change what matches, so they are sorted longest first for the prefix tree (see _alt).
        units = sorted(nums.get("units", []), key=len, reverse=True)
        tens = sorted(nums.get("tens", []), key=len, reverse=True)
        scales = sorted(nums.get("scales", {}), key=len, reverse=True)
        joiner = nums.get("joiner", r"[- ]")
        # the word between tens and units or after a scale: "treinta y dos", "two hundred and five" (pack data)
        conj = nums.get("conjunction", "(?!)")
        tens_units = rf"(?:{_alt(tens)})(?:{joiner}(?:{conj}\s+)?(?:{_alt(units)}))?" if tens else ""
        simple = _alt(sorted(set(units) | set(nums.get("compounds", [])), key=len, reverse=True))
        base = "|".join(p for p in (tens_units, simple) if p)
        scaled = rf"(?:(?:{base})\s+)?(?:{_alt(scales)})(?:\s+(?:{conj}\s+)?(?:{base}))?" if scales else ""
        fixed = _alt(sorted(self.number_words, key=len, reverse=True))
        words = "|".join(p for p in (scaled, fixed, base) if p)
        return rf"(?:(?<![\d.,])(?:{digits})|(?<![\w-])(?:{words})(?![\w-]))"

    @functools.cached_property
    def approx(self) -> str:
        """An optional group ``approx`` for "about", "some", "more than" before a number."""
        words = self.section("approx", default=[])
        return rf"(?P<approx>(?:{_alt(sorted(words, key=len, reverse=True))})\s+)?" if words else "(?P<approx>)"

    @functools.cached_property
    def people(self) -> str:
        """An alternation of the nouns for people (casualties and arrests are counted on them)."""
        return "(?:" + "|".join(self.section("people", default=[])) + ")"

    @functools.cached_property
    def forces(self) -> str:
        """An alternation of the nouns for security forces."""
        return "(?:" + "|".join(self.section("forces", default=[])) + ")"

    def fill(self, pattern: str) -> str:
        """Fill the pack's slots (``{NUM}``, ``{PEOPLE}``, ``{FORCES}``, ``{APPROX}``) of ``pattern``."""
        return (pattern.replace("{NUM}", self.num).replace("{PEOPLE}", self.people)
                .replace("{FORCES}", self.forces).replace("{APPROX}", self.approx))

    def compile(self, pattern: str | None, flags: int = re.IGNORECASE) -> re.Pattern | None:
        """Compile a pack pattern with its slots filled (``None`` stays ``None``)."""
        return re.compile(self.fill(pattern), flags) if pattern else None

    def compile_all(self, patterns, flags: int = re.IGNORECASE) -> tuple[re.Pattern, ...]:
        """Compile a list of pack patterns.

        An entry ``{pattern: ..., value: N}`` matches a fixed number (a singular subject: "was found dead" is one
        person); its compiled pattern gets a group ``v<N>``.
        """
        out = []
        for p in patterns or ():
            if isinstance(p, dict):
                value = int(p["value"])
                out.append(re.compile(f"(?P<v{value}>)" + self.fill(p["pattern"]), flags))
            else:
                out.append(re.compile(self.fill(p), flags))
        return tuple(out)

    # ------------------------------------------------------------------ numbers
    def parse_number(self, text: str) -> float | None:
        """A number written in digits or words in this language ("1,417" / "1.417", "three", "veintiún")."""
        from text_to_num import text2num

        nums = self.section("numbers", default={})
        dec, thou = nums.get("decimal_mark", "."), nums.get("thousands_mark", ",")
        t = " ".join(text.strip().lower().split())
        mixed = self._mixed(t, nums)
        if mixed is not None:
            return mixed
        if re.fullmatch(r"[\d.,]+", t):
            if re.fullmatch(rf"\d{{1,3}}(?:{re.escape(thou)}\d{{3}})+(?:{re.escape(dec)}\d+)?", t):
                t = t.replace(thou, "")
            if dec != "." and t.count(dec) == 1:
                t = t.replace(dec, ".")
            try:
                return float(t)
            except ValueError:
                return None
        if t in self.number_words:
            return self.number_words[t]
        try:
            return float(text2num(t, self.code))
        except ValueError:
            pass
        # "two dozen", "tres docenas": a number times a fixed word
        head, _, tail = t.rpartition(" ")
        if head and tail in self.number_words:
            first = self.parse_number(head)
            if first is not None:
                return first * self.number_words[tail]
        return None

    @staticmethod
    def _mixed(t: str, nums: dict) -> float | None:
        """Digits in the other convention a pack allows, else ``None``.

        ``alt_decimal_mark`` before 1-2 or 4+ digits, which cannot be a thousands group ("2.4", "6496.64");
        ``alt_thousands_mark`` before groups of exactly three digits ("1,173", "1,234.5": Peru's official
        convention, which the press mixes with Spain's);
        ``space_groups`` ("3 407", "2 470.850", whose other mark is then the decimal one).
        """
        alt = nums.get("alt_decimal_mark")
        if alt and re.fullmatch(rf"\d+{re.escape(alt)}(?:\d{{1,2}}|\d{{4,}})", t):
            return float(t.replace(alt, "."))
        thou = nums.get("alt_thousands_mark")
        if thou and re.fullmatch(rf"\d{{1,3}}(?:{re.escape(thou)}\d{{3}})+(?:{re.escape(alt or '.')}\d+)?", t):
            return float(t.replace(thou, "").replace(alt or ".", "."))
        if nums.get("space_groups") and re.fullmatch(r"\d{1,3}(?: \d{3})+(?:[.,]\d+)?", t):
            return float(t.replace(" ", "").replace(",", "."))
        return None

    # ------------------------------------------------------------------ lookups used by several modules
    @functools.cached_property
    def abbreviations(self) -> re.Pattern:
        """Text ending in an abbreviation's full stop, which does not end a sentence."""
        words = self.section("abbreviations", default=[])
        return re.compile(r"(?:\b(?:" + "|".join(re.escape(w) for w in words) + r")|\b[A-Z]|\b[A-Z]\.[A-Z])\.$")

    @functools.cached_property
    def triggers(self) -> dict[str, TriggerSet]:
        """Each incident type's triggers in this language."""
        out = {}
        for key, t in (self.section("triggers") or {}).items():
            out[key] = TriggerSet(patterns=self.compile_all(t.get("patterns")),
                                  keywords=tuple(w.lower() for w in t.get("keywords", [])),
                                  needs_any=self.compile(t.get("needs_any")),
                                  not_any=self.compile(t.get("not_any")),
                                  retype_to=(t.get("retype") or {}).get("to"),
                                  retype_when=self.compile((t.get("retype") or {}).get("when")))
        return out

    @functools.cached_property
    def relative_dates(self) -> tuple[RelativeDate, ...]:
        """The relative date phrases, compiled."""
        weekdays = _alt(sorted(self.section("dates", "weekdays", default={}), key=len, reverse=True))
        out = []
        for r in self.section("dates", "relative", default=[]):
            rx = self.fill(r["pattern"]).replace("<WD>", f"(?P<wd>{weekdays})")
            cue = r.get("cue") or []
            if not cue and r.get("weekday"):
                cue = list(self.section("dates", "weekdays", default={}))
            out.append(RelativeDate(re.compile(rx, re.IGNORECASE), days=r.get("days"), anchor=bool(r.get("anchor")),
                                    weekday=bool(r.get("weekday")), span=r.get("span"), ago=bool(r.get("ago")),
                                    offset=bool(r.get("offset")),
                                    cue=tuple(w.lower() for w in cue)))
        return tuple(out)

    def regex(self, *keys: str, flags: int = re.IGNORECASE) -> re.Pattern | None:
        """The compiled pattern at ``keys`` (cached), or ``None`` when the pack has none."""
        return _compiled(self, keys, flags)

    def regexes(self, *keys: str, flags: int = re.IGNORECASE) -> tuple[re.Pattern, ...]:
        """The compiled list of patterns at ``keys`` (cached)."""
        return _compiled_all(self, keys, flags)


@functools.lru_cache(maxsize=256)
def _compiled(pack: LanguagePack, keys: tuple[str, ...], flags: int) -> re.Pattern | None:
    return pack.compile(pack.section(*keys), flags)


@functools.lru_cache(maxsize=256)
def _compiled_all(pack: LanguagePack, keys: tuple[str, ...], flags: int) -> tuple[re.Pattern, ...]:
    return pack.compile_all(pack.section(*keys), flags)


def literal_trie(words, spaces: bool = False) -> str:
    """A regular expression (no groups) matching any of ``words`` literally, written as a prefix tree.

    It matches what the plain alternation of the words sorted longest first matches (at each position the
    longest word there, then shorter ones on backtracking), but Python's engine tries one branch per letter
    instead of every word in turn: several times faster over a long text. ``spaces``: a space in a word matches
    any run of white space, as in :func:`_alt`.

    Examples
    --------
    >>> literal_trie(["ab", "abc", "b"])
    '(?:ab(?:c)?|b)'
    """
    root: dict = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def branch(node: dict) -> str:
        kids = [(r"\s+" if spaces and ch == " " else re.escape(ch)) + branch(child)
                for ch, child in sorted(node.items()) if ch]
        if not kids:
            return ""
        body = kids[0] if len(kids) == 1 else "(?:" + "|".join(kids) + ")"
        # greedy: the longer words through this node first, the one ending here on backtracking
        return f"(?:{body})?" if "" in node else body

    # no words: a pattern that never matches; the empty word alone: one that matches everywhere
    return branch(root) if root else "(?!)"


def _alt(words) -> str:
    """An alternation of literal words and phrases, longest first (spaces match any run of white space).

    Written as a prefix tree (:func:`literal_trie`): number words are tried at every word of a sentence, and
    trying a hundred of them in turn was the slowest part of reading figures. No words: the empty pattern.
    """
    return literal_trie(words, spaces=True) if words else ""


def available_languages() -> list[str]:
    """Codes of the packs shipped with the package."""
    return list(_available())


@functools.lru_cache(maxsize=1)
def _available() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in Path(LANG_DIR).glob("*.yaml")))


@functools.lru_cache(maxsize=16)
def load_pack(code: str = DEFAULT_LANGUAGE) -> LanguagePack:
    """The pack for ``code`` (``en``, ``es``); raises ``ValueError`` naming the code when there is none."""
    path = Path(LANG_DIR) / f"{code}.yaml"
    if not re.fullmatch(r"[a-z]{2,3}", code or "") or not path.is_file():
        raise ValueError(f"no language pack for {code!r} (available: {', '.join(available_languages())})")
    spec = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    return LanguagePack(code=spec.get("code", code), name=spec.get("name", code), spec=spec)


__all__ = ["LanguagePack", "RelativeDate", "TriggerSet", "available_languages", "literal_trie", "load_pack"]
