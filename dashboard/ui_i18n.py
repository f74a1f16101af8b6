"""The interface language of this dashboard session: read from the URL (``lang=``), kept in session state.

Views call :func:`t` for every word they show; :mod:`dashboard.i18n` holds the catalogs and formats dates and
numbers. The switch itself is :func:`language_switch`.
"""

from __future__ import annotations

import streamlit as st

from dashboard import i18n

KEY = "ui_lang"


def lang() -> str:
    """The session's interface language: the switch's value, else the URL's ``lang=``, else English."""
    if KEY not in st.session_state:
        st.session_state[KEY] = i18n.language(st.query_params.get("lang"))
    return i18n.language(st.session_state[KEY])


def t(key: str, /, **fields: object) -> str:
    """The text of ``key`` in the session's language."""
    return i18n.text(key, lang(), **fields)


def type_label(kind, key: str | None = None) -> str:
    """An incident type's name in the session's language (the raw key for a type the taxonomy lacks)."""
    return kind.label_in(lang()) if kind is not None else str(key)


def language_switch(where=None) -> None:
    """The language selector (in the sidebar by default); its choice goes to the URL with the filters."""
    lang()
    (where or st.sidebar).selectbox("🌐 Idioma / Language", list(i18n.LANGUAGES), key=KEY,
                                    format_func=i18n.LANGUAGES.get)


def url_param() -> dict[str, str]:
    """The URL parameter that keeps the language (none for the default)."""
    return {} if lang() == i18n.DEFAULT else {"lang": lang()}
