"""Escaping untrusted text for the context it lands in: HTML, JavaScript, URLs, Markdown and CSV cells.

Every article, upload and review text is hostile. One function per output context, so a caller picks the one
that matches where the text goes, never a general "sanitise". Core module: no Streamlit, no folium.
"""

from __future__ import annotations

import html
import json
import math
import string

#: Schemes that may become a link; anything else (``javascript:``, ``data:``, ``vbscript:``, ...) stays text.
LINK_SCHEMES = ("http://", "https://")
#: A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# CommonMark lets a backslash escape any ASCII punctuation character, and only those.
_MARKDOWN_SPECIAL = {ord(c): "\\" + c for c in string.punctuation}
# Characters that end a <script> element, open an HTML comment or end a JS string in old engines.
_JS_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027", "\u2028": "\\u2028",
              "\u2029": "\\u2029"}


def text(value: object) -> str:
    """A value as display text: ``""`` for None, NaN and ``pd.NA``, else ``str(value)``."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if type(value).__name__ == "NAType":  # pandas' NA, without importing pandas here
        return ""
    return str(value)


def html_text(value: object) -> str:
    """Text for HTML element content or a double- or single-quoted attribute value: ``& < > " '`` escaped."""
    return html.escape(text(value), quote=True)


def js_json(value: object) -> str:
    """A JSON literal that is safe as JavaScript source inside an HTML ``<script>`` element.

    Untrusted text reaches a script only this way, as data: never inside a template literal (where ``${...}``,
    a backtick or a backslash is code) and never able to close the script (``</script>``, ``<!--``).
    """
    encoded = json.dumps(value, ensure_ascii=False)
    return "".join(_JS_UNSAFE.get(c, c) for c in encoded)


def safe_url(value: object) -> str | None:
    """The URL when it is an absolute http(s) link, else None (``javascript:``, ``data:``, relative, ...).

    Browsers drop tabs and newlines inside a scheme (``java<TAB>script:``), so any control character
    makes the URL unsafe rather than being stripped here.
    """
    url = text(value).strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    if not url.lower().startswith(LINK_SCHEMES) or len(url) <= len("https://"):
        return None
    return url


def link(url: object, label_html: str) -> str:
    """``label_html`` (already escaped) as a link to ``url`` when it is http(s), else as plain text."""
    safe = safe_url(url)
    if safe is None:
        return label_html
    return f'<a href="{html_text(safe)}" target="_blank" rel="noopener noreferrer">{label_html}</a>'


def markdown(value: object) -> str:
    """Text that Markdown renders literally: every ASCII punctuation character backslash-escaped.

    That disarms images (``![](url)``, an outbound request), links, emphasis, headings, lists, code, HTML tags
    and entities, and Streamlit's ``$...$`` maths and ``:colour[...]`` directives.
    """
    return text(value).translate(_MARKDOWN_SPECIAL)


def csv_cell(value: object) -> object:
    """A text cell a spreadsheet will not run as a formula: a leading ``= + - @``, tab or CR gets a ``'``.

    Only text is changed; numbers (a genuine ``-3.5``) pass through as numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
