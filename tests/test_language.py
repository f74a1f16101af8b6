from importlib import resources

import pytest
import yaml

from dashboard.errors import ArticleError
from dashboard.language import LanguageError, article_language, detect_language, normalize_language

ENGLISH = ("Police officers destroyed two clandestine laboratories in the jungle on Tuesday and detained four men, "
           "the interior ministry said. The suspects were taken to the nearest town for questioning.")
SPANISH = ("Los agentes destruyeron dos laboratorios clandestinos en la selva el martes y detuvieron a cuatro hombres, "
           "informó el Ministerio del Interior. Los sospechosos fueron llevados al pueblo más cercano.")
# English prose crowded with Spanish place names and an institution's Spanish name
ENGLISH_WITH_PLACES = ("Troops based in Pichari patrolled the Valle de los Ríos Apurímac, Ene y Mantaro on Friday, "
                       "moving between Santa Rosa, Llochegua and Puerto Ocopa, while the Dirección Antidrogas "
                       "reported that officers near San Gabán and Huánuco had found no trace of the missing lorry.")
PORTUGUESE = ("Os agentes destruíram dois laboratórios clandestinos na selva na terça-feira e detiveram quatro homens, "
              "informou o ministério. Os suspeitos foram levados para a cidade mais próxima.")
ITALIAN = ("Gli agenti hanno distrutto due laboratori clandestini nella giungla martedì e hanno fermato quattro "
           "uomini, ha detto il ministero. I sospettati sono stati portati nella città più vicina.")
CATALAN = ("Els agents van destruir dos laboratoris clandestins a la selva dimarts i van detenir quatre homes, "
           "segons el ministeri. Els sospitosos van ser traslladats a la ciutat més propera.")


def test_english_and_spanish():
    assert detect_language(ENGLISH) == "en"
    assert detect_language(SPANISH) == "es"


def test_spanish_place_names_do_not_make_english_text_spanish():
    assert detect_language(ENGLISH_WITH_PLACES) == "en"


def test_a_spanish_article_quoting_english_stays_spanish():
    quote = "The embassy said in a statement that it welcomes the cooperation and will keep supporting the programme."
    assert detect_language(SPANISH * 2 + " " + quote) == "es"


def test_a_short_spanish_report_behind_a_long_web_address_is_still_spanish():
    # CLD2 calls this unreliable (the address is no language); 70% Spanish over 500 bytes is Spanish all the same
    body = ("Tres policías murieron el sábado en un ataque contra una patrulla que recorría la carretera hacia el "
            "valle, informó el Ministerio del Interior. Los atacantes huyeron hacia el monte y las fuerzas del orden "
            "iniciaron una búsqueda con apoyo de helicópteros. El ministro viajó a la zona para acompañar a las "
            "familias de los agentes. ")
    url = "http://www.example.org/latam/peru/noticia-tres-policias-muertos-ataque-patrulla-valle-20120816123456.html"
    assert detect_language(f"---\npublished: 2012-08-16\nurl: {url}\ntitle: {url}\n---\n{body}") == "es"


@pytest.mark.parametrize(("text", "lang"), [(PORTUGUESE, "pt"), (ITALIAN, "it"), (CATALAN, "ca")])
def test_neighbouring_languages_are_not_taken_for_spanish(text, lang):
    assert detect_language(text) == lang


# CLD2 would name a language for a three-word greeting; a few words are too few to choose the extraction rules
@pytest.mark.parametrize("text", ["", "   \n\t", "Hola", "Buenos días señor", "Good morning sir",
                                  "Peru police seize cocaine", "12 345 678 2024-05-03",
                                  "x" * 60, "asdf qwer zxcv uiop hjkl vbnm tyui ghjk", "\x00\x01\x1b[31m"])
def test_too_short_or_unclear_text_is_undetermined(text):
    assert detect_language(text) == "und"


def test_hostile_characters_do_not_break_detection():
    # NUL, ESC, a lone surrogate and noncharacters make CLD2 refuse its input; they are cleaned on that path
    dirty = ENGLISH.replace("officers", "off\x00icers\x1b").replace("jungle", "jungle\ud800\ufffe\U0010ffff")
    assert detect_language(dirty) == "en"
    assert detect_language(SPANISH.replace(" ", " \x7f\x9f ")) == "es"


def test_only_the_beginning_of_a_huge_text_is_read():
    assert detect_language(SPANISH * 600 + ENGLISH * 3000) == "es"


@pytest.mark.parametrize(("value", "code"), [
    ("es", "es"), ("ES", "es"), (" en ", "en"), ("es-PE", "es"), ("pt_BR", "pt"), ("zh-Hant", "zh"),
    ("spa", "es"), ("eng", "en"), ("Spanish", "es"), ("Español", "es"), ("castellano", "es"), ("Inglés", "en"),
    ("Quechua", "qu"), ("que", "qu"), ("Portuguese", "pt"), ("iw", "he"), ("und", "und"),
])
def test_language_names_and_tags_normalise_to_iso_639_1(value, code):
    assert normalize_language(value) == code


@pytest.mark.parametrize("value", ["klingon", "xx", "e", "español antiguo", "", None, 7, ["es"], "es\x1b[2J"])
def test_unknown_languages_are_refused(value):
    with pytest.raises(ValueError, match="ISO 639-1") as err:
        normalize_language(value)
    assert "\x1b" not in str(err.value)


def test_every_listed_alias_gives_its_code():
    text = resources.files("dashboard").joinpath("data", "language_names.yaml").read_text(encoding="utf-8")
    for code, aliases in yaml.safe_load(text).items():
        assert len(code) == 2 and normalize_language(code) == code
        for alias in aliases:
            assert normalize_language(alias) == code, alias


def test_metadata_language_overrides_detection():
    assert article_language(ENGLISH, {"language": "Spanish"}) == "es"
    assert article_language(SPANISH, {"language": "es-PE"}) == "es"
    # absent or blank: detected
    assert article_language(SPANISH, {}) == "es"
    assert article_language(SPANISH, {"language": "  "}) == "es"
    assert article_language(ENGLISH, None) == "en"
    assert article_language("Hola", {"outlet": "X"}) == "und"


def test_unknown_metadata_language_is_refused_naming_the_article():
    with pytest.raises(LanguageError, match=r"^raid\.txt: language 'klingon' is not a known language"):
        article_language(ENGLISH, {"language": "klingon"}, name="raid.txt")
    # an ArticleError, so that reading a corpus reports the file instead of stopping
    assert issubclass(LanguageError, ArticleError)
