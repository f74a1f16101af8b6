"""Interface languages: the catalogs, their fallbacks and formats, and the dashboard's language switch."""

import ast
from datetime import date
from pathlib import Path

import pytest

from dashboard import i18n
from dashboard.taxonomy import incident_types

PACKAGE = Path(i18n.__file__).resolve().parent


def _used_keys() -> set[tuple[str, str]]:
    """Every literal key passed to ``t(...)`` or ``i18n.text(...)`` in the package, with its file."""
    found = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            first = node.args[0]
            if name in {"t", "text"} and isinstance(first, ast.Constant) and isinstance(first.value, str) \
                    and "." in first.value:
                found.add((path.name, first.value))
    return found


def test_every_key_used_in_the_code_is_in_the_catalogs():
    missing = sorted((f, k) for f, k in _used_keys() if not i18n.has(k))
    assert not missing, f"keys used but not defined: {missing}"


def test_every_text_has_a_spanish_version():
    assert not [k for k, texts in i18n.catalog().items() if not texts.get("es")]


def test_spanish_and_english_templates_take_the_same_fields():
    import string

    def fields(s):
        return {f for _, f, _, _ in string.Formatter().parse(s) if f}

    bad = [k for k, tx in i18n.catalog().items() if fields(tx["en"]) != fields(tx.get("es", tx["en"]))]
    assert not bad


def test_text_fills_fields_and_falls_back_to_english(tmp_path, monkeypatch):
    (tmp_path / "a.yaml").write_text("x.n: {en: '{n} incidents', es: '{n} incidentes'}\nx.only: {en: Only}\n",
                                     encoding="utf-8")
    monkeypatch.setattr(i18n, "CATALOG_DIR", tmp_path)
    i18n.catalog.cache_clear()
    try:
        assert i18n.text("x.n", "es", n=3) == "3 incidentes"
        assert i18n.text("x.n", "en", n=3) == "3 incidents"
        assert i18n.text("x.only", "es") == "Only"
        with pytest.raises(KeyError, match="x.missing"):
            i18n.text("x.missing", "es")
    finally:
        i18n.catalog.cache_clear()


def test_a_key_defined_twice_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("k: {en: A}\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("k: {en: B}\n", encoding="utf-8")
    with pytest.raises(i18n.CatalogError, match="a.yaml"):
        i18n.catalog(str(tmp_path))


def test_unknown_language_codes_fall_back_to_the_default():
    assert i18n.language("es") == "es"
    assert i18n.language("xx") == "en"
    assert i18n.language(None) == "en"


def test_dates_and_numbers_in_each_language():
    # Babel's CLDR data: Peru writes "setiembre" and abbreviates months in lower case with a dot
    assert i18n.day(date(2017, 3, 18), "en") == "18 Mar 2017"
    assert i18n.day(date(2017, 3, 18), "es") == "18 mar. 2017"
    assert i18n.month(date(2017, 9, 1), "es").startswith("set")
    assert i18n.number(1417.5, "en", decimals=1) == "1,417.5"


def test_stored_values_get_translated_labels():
    assert i18n.label("status", "needs review", "es") == "por revisar"
    assert i18n.label("status", "no such status", "es") == "no such status"


def test_every_incident_type_has_a_spanish_name():
    types = incident_types()
    assert types["ambush"].label_in("es") == "Emboscada"
    assert all(k.label_in("es") != k.label for k in types.values())
    assert types["ambush"].label_in("fr") == "Ambush"
