"""One test per output context of :mod:`dashboard.escape`: HTML, JavaScript, URL, Markdown, CSV."""

import json
import math
import string
from html.parser import HTMLParser

import pandas as pd
import pytest

from dashboard import escape

HOSTILE = ["${top.__pwned=1}", "`tick`", "</script><script>top.__pwned=2</script>",
           '<img src=x onerror="top.__pwned=3">', "javascript:top.__pwned=4", "it's \"quoted\" & <b>bold</b>",
           "C:\\users\\x \\u{zz}", "line\u2028break\u2029", "<!-- comment"]


class _Collect(HTMLParser):
    """Tags and text of an HTML fragment, as a browser's tokenizer sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(fragment: str) -> _Collect:
    p = _Collect()
    p.feed(fragment)
    p.close()
    return p


def test_text_treats_missing_values_as_empty():
    assert escape.text(None) == "" and escape.text(float("nan")) == "" and escape.text(pd.NA) == ""
    assert escape.text(0) == "0" and escape.text("x") == "x"


@pytest.mark.parametrize("value", HOSTILE)
def test_html_text_makes_no_tags_and_reads_back_literally(value):
    out = escape.html_text(value)
    parsed = parse(f"<div>{out}</div>")
    assert parsed.tags == [("div", {})]
    assert "".join(parsed.text) == value
    # inside a quoted attribute too: the value comes back whole and no attribute is added
    attr = parse(f"<a title=\"{out}\" class='{out}'>x</a>").tags
    assert attr == [("a", {"title": value, "class": value})]


@pytest.mark.parametrize("value", HOSTILE + [{"k": HOSTILE, "n": [1, -2.5]}])
def test_js_json_is_data_that_cannot_leave_the_script(value):
    out = escape.js_json(value)
    assert json.loads(out) == value  # the same value back, as data
    # nothing that closes a <script>, opens a comment, or ends a string in an old JS engine
    for bad in ("<", ">", "&", "'", "\u2028", "\u2029"):
        assert bad not in out
    # a JSON string is double-quoted: ${...} and backticks inside it are plain characters, not a template
    if isinstance(value, str):
        assert out.startswith('"') and out.endswith('"')


@pytest.mark.parametrize("url", ["http://example.org/a?b=1&c=2", "https://example.org/", "HTTPS://EXAMPLE.ORG/x",
                                 "  https://example.org/padded  "])
def test_safe_url_keeps_http_links(url):
    assert escape.safe_url(url) == url.strip()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
                                 "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>",
                                 "vbscript:msgbox(1)", "//example.org/x", "/relative", "example.org",
                                 "https://", "https://exa\nmple.org", "", None, float("nan")])
def test_safe_url_refuses_everything_else(url):
    assert escape.safe_url(url) is None


def test_link_is_an_anchor_only_for_http():
    good = parse(escape.link('https://example.org/?q="x"', "T")).tags
    assert good == [("a", {"href": 'https://example.org/?q="x"', "target": "_blank", "rel": "noopener noreferrer"})]
    for bad in ("javascript:top.__pwned=1", "data:text/html,x", "vbscript:x"):
        out = escape.link(bad, "Title &amp; more")
        assert out == "Title &amp; more" and "<a" not in out


@pytest.mark.parametrize("value", HOSTILE + ["![img](http://203.0.113.9/x.png)", "[a](javascript:x)", "**b** _i_",
                                             "# head", "1. item", "$x^2$", ":red[colour]", "&amp; &#x41;",
                                             "a \\ b"])
def test_markdown_escapes_every_ascii_punctuation(value):
    out = escape.markdown(value)
    # CommonMark: a backslash before ASCII punctuation is that character, literally; nothing else is escaped.
    # Reading the output back that way gives the input, and no punctuation is left unescaped.
    back, i = [], 0
    while i < len(out):
        if out[i] == "\\":
            assert out[i + 1] in string.punctuation
            back.append(out[i + 1])
            i += 2
        else:
            assert out[i] not in string.punctuation
            back.append(out[i])
            i += 1
    assert "".join(back) == value


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cell_neutralises_formula_text(value):
    assert escape.csv_cell(value) == "'" + value


def test_csv_cell_leaves_numbers_and_plain_text():
    assert escape.csv_cell(-77.1) == -77.1 and escape.csv_cell(-3) == -3
    assert escape.csv_cell("Callao") == "Callao" and escape.csv_cell("") == "" and escape.csv_cell(None) is None
    assert math.isnan(escape.csv_cell(float("nan")))
