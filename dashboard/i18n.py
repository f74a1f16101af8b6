"""The dashboard's words in each interface language: catalogs in ``dashboard/data/i18n/*.yaml``.

Every file maps a key to its text in each language (``key: {en: "...", es: "..."}``); one file per dashboard
module, so the words of a view live beside no code. Keys are global: the same key in two files is an error, found
by the tests. Texts are ``str.format`` templates (``"{n} incidents"``); a language that lacks a key falls back to
English, and an unknown key is an error (a typo must not show as a raw key). Dates and numbers are formatted by
Babel with the language's locale (Peru's for Spanish: "setiembre").

This module is core: it never imports Streamlit. The dashboard keeps the chosen language in the URL (``lang=``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml
from babel.dates import format_date
from babel.numbers import format_decimal

from dashboard.gazetteer import DATA_DIR

#: Interface languages, each with its name in itself (what the switch shows).
LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT = "en"
#: Babel locale of each interface language.
LOCALES = {"en": "en_GB", "es": "es_PE"}
CATALOG_DIR = DATA_DIR / "i18n"


class CatalogError(ValueError):
    """A catalog file that cannot be read, or a key defined twice."""


@functools.lru_cache(maxsize=2)
def catalog(folder: str | None = None) -> dict[str, dict[str, str]]:
    """Every key of every catalog file in ``folder`` (the package's by default), with its texts by language."""
    merged: dict[str, dict[str, str]] = {}
    where: dict[str, str] = {}
    for path in sorted(Path(folder or CATALOG_DIR).glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(spec, dict):
            raise CatalogError(f"{path.name}: not a mapping of keys to texts")
        for key, texts in spec.items():
            if key in merged:
                raise CatalogError(f"{path.name}: key {key!r} is already defined in {where[key]}")
            if not isinstance(texts, dict) or DEFAULT not in texts:
                raise CatalogError(f"{path.name}: key {key!r} needs a mapping with at least an {DEFAULT!r} text")
            merged[key] = {str(lang): str(text) for lang, text in texts.items()}
            where[key] = path.name
    return merged


def language(code: object) -> str:
    """``code`` when it is an interface language, else the default (an old or hand-edited URL never fails)."""
    return code if isinstance(code, str) and code in LANGUAGES else DEFAULT


def text(key: str, lang: str = DEFAULT, /, **fields: object) -> str:
    """The text of ``key`` in ``lang`` (English when that language lacks it), with ``fields`` filled in."""
    try:
        texts = catalog()[key]
    except KeyError:
        raise KeyError(f"no interface text {key!r} in {CATALOG_DIR}") from None
    template = texts.get(lang) or texts[DEFAULT]
    return template.format(**fields) if fields else template


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **fields)`` bound to one language."""
    lang = language(lang)

    def t(key: str, /, **fields: object) -> str:
        return text(key, lang, **fields)

    return t


def has(key: str) -> bool:
    """Whether the catalogs define ``key`` (for labels with an optional translation, such as stored values)."""
    return key in catalog()


def label(prefix: str, value: object, lang: str = DEFAULT) -> str:
    """The translated label of a stored value (``status.needs review``), or the value itself when none is defined."""
    key = f"{prefix}.{value}"
    return text(key, lang) if has(key) else str(value)


def day(value: date, lang: str = DEFAULT) -> str:
    """``18 Mar 2017`` / ``18 mar. 2017``."""
    return format_date(value, "d MMM y", locale=LOCALES[language(lang)])


def month(value: date, lang: str = DEFAULT) -> str:
    """``Mar 2017`` / ``mar. 2017``."""
    return format_date(value, "MMM y", locale=LOCALES[language(lang)])


def number(value: float, lang: str = DEFAULT, decimals: int = 0) -> str:
    """A figure with the language's grouping (``1,234``); ``decimals`` digits after the mark at most."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=LOCALES[language(lang)])
