"""Language packs and the taxonomy: every type is documented and found in every language, packs load and parse."""

import re
from pathlib import Path

import pytest

from dashboard.langpack import available_languages, literal_trie, load_pack
from dashboard.taxonomy import incident_types, load_lexicon

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_type_is_documented_and_has_a_colour():
    for key, itype in incident_types().items():
        assert f"`{key}`" in README, key
        assert itype.colour.startswith("#") and itype.label


@pytest.mark.parametrize("code", available_languages())
def test_every_type_has_triggers_in_every_pack(code):
    pack = load_pack(code)
    assert set(incident_types()) <= set(pack.triggers), code
    for key, trig in pack.triggers.items():
        assert trig.patterns, (code, key)


@pytest.mark.parametrize("code", available_languages())
def test_absorbed_and_retyped_types_exist(code):
    types = incident_types()
    for itype in types.values():
        assert set(itype.absorbs) <= set(types)
    for trig in load_pack(code).triggers.values():
        assert trig.retype_to is None or trig.retype_to in types


def test_unknown_language_is_refused_by_name():
    with pytest.raises(ValueError, match="'xx'"):
        load_pack("xx")


@pytest.mark.parametrize("text, value", [
    ("1,417", 1417), ("1.5", 1.5), ("1,5", 1.5), ("twenty-one", 21), ("two dozen", 24), ("a", 1),
    ("three hundred", 300), ("another", 1)])
def test_english_numbers(text, value):
    assert load_pack("en").parse_number(text) == value


@pytest.mark.parametrize("code", available_languages())
def test_slots_are_filled_in_every_compiled_pattern(code):
    import re

    pack = load_pack(code)
    compiled = [*pack.regexes("casualties", "killed"), *pack.regexes("casualties", "wounded"),
                *pack.regexes("counts", "arrested"), pack.regex("counts", "hectares"), pack.regex("range_number")]
    compiled += [rx for trig in pack.triggers.values() for rx in trig.patterns]
    compiled += [r.pattern for r in pack.relative_dates]
    for rx in compiled:
        assert rx is not None and not re.search(r"\{[A-Z]+\}", rx.pattern), rx.pattern[:80]


def test_lexicon_joins_taxonomy_actor_names_with_the_packs_words():
    lex = load_lexicon("en")
    # "Sendero" comes from the taxonomy (a proper name), "narcoterrorists" from the English pack
    assert lex.find_actors("Sendero remnants and narcoterrorists attacked") == ["Shining Path"]
    assert "Drug traffickers" in lex.find_actors("drug traffickers fled")


def test_number_conjunctions_come_from_the_pack():
    # numbers.conjunction: "and" / "y" join scales and tens to what follows
    assert load_pack("en").parse_number("two hundred and five") == 205
    assert load_pack("es").parse_number("treinta y dos") == 32
    import re

    assert re.fullmatch(load_pack("en").num, "two hundred and five")
    assert re.fullmatch(load_pack("es").num, "treinta y dos")
    assert not re.fullmatch(load_pack("en").num, "twenty y two")  # "y" is Spanish's, not the engine's


# ---------------------------------------------------------------------------------------------------- prefix trees
def test_literal_trie_matches_longest_word_first_like_the_sorted_alternation():
    rx = re.compile(literal_trie(["ab", "abc", "b"]))
    # at 0 the longest word ("abc"), then "ab" where "abc" does not fit, then "b"
    assert [m.group() for m in rx.finditer("abcd ab b")] == ["abc", "ab", "b"]


def test_literal_trie_backtracks_to_a_shorter_word():
    # "abc" cannot be followed by "d" here, so the match falls back on "ab" + "d"
    rx = re.compile(f"(?:{literal_trie(['ab', 'abc'])})d")
    assert rx.fullmatch("abd") and rx.fullmatch("abcd") and not rx.fullmatch("ad")


def test_literal_trie_spaces_and_edge_cases():
    assert re.fullmatch(literal_trie(["cerca de"], spaces=True), "cerca \t de")
    assert not re.fullmatch(literal_trie(["cerca de"]), "cerca  de")  # without ``spaces`` a space is one space
    assert re.fullmatch(literal_trie(["a.b"]), "a.b") and not re.fullmatch(literal_trie(["a.b"]), "axb")
    assert re.search(literal_trie([]), "anything") is None
    assert re.fullmatch(literal_trie([""]), "")
