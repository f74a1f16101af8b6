"""The language of an article: detected from its text, or given in its metadata.

Detection uses CLD2 (``pycld2``): Google's compact language detector, compiled with its tables, so it needs no
download, runs at thousands of articles a second and gives the same answer every time. The result is an ISO 639-1
code (``en``, ``es``, ``pt``, ...), or ``und`` (undetermined) when the text is too short or CLD2 is not confident —
a headline-sized text is not enough to choose the language rules to apply.

An explicit ``language`` in an article's metadata wins over detection; it is normalised to ISO 639-1 (``ES``,
``es-PE``, ``spa``, ``Spanish`` and ``español`` all give ``es``) and an unknown value is refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from importlib import resources
from itertools import islice

import pycld2
import yaml

from dashboard.errors import ArticleError

UNDETERMINED = "und"
MIN_LETTERS = 20  # below this CLD2 guesses from a word or two; such a text is "und"
MAX_CHARS = 100_000  # the first 100,000 characters tell the language, and a 20 MiB file stays fast
MAJORITY_PERCENT = 60  # an unreliable verdict still stands for a text that is 60% one language ...
MAJORITY_BYTES = 400  # ... over at least 400 bytes of text (some 60 words)
# CLD2 still uses the withdrawn ISO 639 codes for these
_LEGACY = {"iw": "he", "jw": "jv", "in": "id", "ji": "yi"}
# CLD2 refuses text with C0/C1 controls (but tab, newlines, form feed), surrogates and noncharacters
_REFUSED = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
                      + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17)) + "]")
_LETTER = re.compile(r"[^\W\d_]")
_TAG = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$")


class LanguageError(ArticleError):
    """A ``language`` given in an article's metadata that is no known language. The message names the article."""


def detect_language(text: str) -> str:
    """The language of ``text`` as an ISO 639-1 code, or ``"und"`` when too short or unclear.

    Examples
    --------
    >>> detect_language("La policía incautó doscientos kilos de cocaína en el puerto del Callao.")
    'es'
    >>> detect_language("Hola")
    'und'
    """
    text = text[:MAX_CHARS]
    if sum(1 for _ in islice(_LETTER.finditer(text), MIN_LETTERS)) < MIN_LETTERS:
        return UNDETERMINED
    try:
        reliable, found, details = pycld2.detect(text.encode("utf-8"), isPlainText=True)
    except (UnicodeEncodeError, pycld2.error):
        # Controls, lone surrogates or noncharacters, which CLD2 refuses: cleaning them is slower, so only here
        try:
            reliable, found, details = pycld2.detect(_REFUSED.sub(" ", text).encode("utf-8"), isPlainText=True)
        except pycld2.error:  # still malformed to CLD2: no language can be told
            return UNDETERMINED
    _, code, percent, _ = details[0]
    # CLD2 calls a text unreliable when a second language takes a large share (a Spanish report quoting English
    # names); a long enough text mostly in one language is still that language
    if not (reliable or (percent >= MAJORITY_PERCENT and found >= MAJORITY_BYTES)):
        return UNDETERMINED
    if code in ("un", "xxx") or code.startswith("xx-"):
        return UNDETERMINED
    code = code.split("-")[0]
    return _LEGACY.get(code, code) if len(code) == 2 else UNDETERMINED


def normalize_language(value: object) -> str:
    """An ISO 639-1 code for a language code, tag or name (``"es-PE"``, ``"spa"``, ``"Español"`` -> ``"es"``).

    ``"und"`` (undetermined) is kept as is.

    Raises
    ------
    ValueError
        ``value`` is no language this program knows.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a language; use an ISO 639-1 code such as en or es")
    key = _fold(value)
    if key == UNDETERMINED:
        return UNDETERMINED
    names = _names()
    if key in names:
        return names[key]
    tag = _TAG.match(key.replace(" ", ""))
    if tag and tag.group(1) in names:
        return names[tag.group(1)]
    shown = "".join(ch if ch.isprintable() else "?" for ch in value.strip()[:40])
    raise ValueError(f"{shown!r} is not a known language; use an ISO 639-1 code such as en or es")


def article_language(text: str, metadata: Mapping | None = None, name: str = "article") -> str:
    """The language of an article: its metadata's ``language`` (normalised) if given, else the detected one.

    Raises
    ------
    LanguageError
        The metadata names a language this program does not know (the message names the article).
    """
    given = (metadata or {}).get("language")
    if given is None or (isinstance(given, str) and not given.strip()):
        return detect_language(text)
    try:
        return normalize_language(given)
    except ValueError as exc:
        raise LanguageError(f"{name}: language {exc}") from None


def _fold(value: str) -> str:
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return " ".join(text.lower().split())


@cache
def _names() -> dict[str, str]:
    """Every accepted spelling (folded) -> its ISO 639-1 code: CLD2's codes and names, then the project's list."""
    out: dict[str, str] = {}
    for english, code in pycld2.LANGUAGES:
        code = _LEGACY.get(code, code)
        if len(code) == 2 and code != "un":  # "un" is CLD2's unknown
            out[code] = code
            out.setdefault(_fold(english), code)
    text = resources.files("dashboard").joinpath("data", "language_names.yaml").read_text(encoding="utf-8")
    for code, aliases in yaml.safe_load(text).items():
        out[code] = code
        out.update({_fold(str(a)): code for a in aliases})
    return out
