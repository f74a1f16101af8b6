"""The dashboard's "Add articles" tab: upload, preview the extracted incidents, then save to the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import escape, i18n, pipeline
from dashboard.corpus import Article, ReadError, parse_article
from dashboard.errors import ExtractionTimeout, IncidentMapError
from dashboard.extraction import Extractor
from dashboard.gazetteer import default_gazetteer
from dashboard.taxonomy import incident_types
from dashboard.ui_i18n import lang, t
from dashboard.ui_review import date_label

#: Seconds one article's preview may take (a 600-word article takes a few milliseconds).
UPLOAD_BUDGET_S = 20.0


def _parse(files, published: date | None, url: str, outlet: str) -> tuple[list[Article], list[ReadError]]:
    meta = {"published": published, "url": url.strip() or None, "outlet": outlet.strip() or None}
    articles, errors = [], []
    for f in files:
        try:
            articles.append(parse_article(f.getvalue(), Path(f.name).name, meta))
        except IncidentMapError as exc:
            errors.append(ReadError(f.name, str(exc)))
    return articles, errors


def preview(articles: list[Article], extractor: Extractor, budget: float, on_progress=None):
    """Each article with its incidents and the problem that stopped its extraction (or None).

    A preview runs while the analyst waits, so each article has a time ``budget``: a hostile or huge file gets a
    message and cannot hold the server; ``on_progress(done, total)`` is called after each article.
    """
    out = []
    for n, art in enumerate(articles, 1):
        try:
            out.append((art, extractor.extract(art, budget=budget), None))
        except ExtractionTimeout as exc:
            out.append((art, [], str(exc)))
        if on_progress:
            on_progress(n, len(articles))
    return out


def highlighted(text: str, spans: list[tuple[int, int]]) -> str:
    """The text escaped, with each span in ``<mark>``."""
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out += [escape.html_text(text[pos:start]), "<mark>", escape.html_text(text[start:end]), "</mark>"]
        pos = end
    out.append(escape.html_text(text[pos:]))
    return "".join(out).replace("\n\n", "</p><p>")


def _figure(value, decimals: int = 0) -> str:
    """A figure as the session's language writes it; blank when the article gives none."""
    return "" if value is None else i18n.number(value, lang(), decimals=decimals)


#: Session-state key of what the last save did, shown after the rerun that redraws the map and the counts.
SAVE_MESSAGES = "upload_saved"


def upload_tab(store_file: Path, on_saved: Callable[[], None] | None = None) -> None:
    """Upload several articles, preview their incidents with the evidence highlighted, then save them.

    After a save ``on_saved`` is called (the dashboard forgets its cached frames) and the script reruns, so the
    header count, the date range and the map include the new incidents at once.
    """
    for kind, message in st.session_state.pop(SAVE_MESSAGES, []):
        if kind == "success":
            st.success(message)
        else:  # plain text, not markdown: file names are untrusted
            st.text(message)
    st.caption(t("upload.help"))
    files = st.file_uploader(t("upload.files"), type=["txt", "md", "html", "htm"], accept_multiple_files=True,
                             key="upload_files")
    a, b, c = st.columns(3)
    published = a.date_input(t("upload.published"), value=None, key="upload_published",
                             format="DD/MM/YYYY" if lang() == "es" else "YYYY/MM/DD")
    url = b.text_input(t("upload.url"), key="upload_url")
    outlet = c.text_input(t("upload.outlet"), key="upload_outlet")
    if not files:
        return
    articles, errors = _parse(files, published, url, outlet)
    for err in errors:
        st.error(escape.markdown(t("upload.not_added", reason=err.reason)))
    if not articles:
        return
    extractor = Extractor(default_gazetteer())
    progress = st.progress(0.0, text=t("upload.reading"))
    previews = preview(articles, extractor, UPLOAD_BUDGET_S, lambda n, total: progress.progress(
        n / total, text=t("upload.read", n=n, total=total)))
    types = incident_types()
    progress.empty()
    for art, incidents, problem in previews:
        title = f" · {art.title}" if art.title else ""
        language = f" · {art.language}" if art.language else ""
        # an expander label is Markdown (images included): the file name and title must show as written
        with st.expander(escape.markdown(t("upload.found", name=art.name, n=len(incidents), language=language,
                                           title=title)), expanded=True):
            if problem:
                st.error(escape.markdown(problem))
            elif incidents:
                st.dataframe(pd.DataFrame([{
                    t("field.type"): types[i.type].label_in(lang()) if i.type in types else i.type,
                    t("field.date"): date_label(vars(i), lang()), t("field.place"): escape.text(i.place),
                    t("field.killed"): _figure(i.killed), t("field.wounded"): _figure(i.wounded),
                    t("field.quantity_kg"): _figure(i.quantity_kg, 1), t("field.count"): _figure(i.count),
                    t("field.background"): t("export.yes") if i.background else t("export.no")}
                    for i in incidents]), hide_index=True, width="stretch")
            else:
                pack = extractor.language_of(art)
                st.caption(escape.markdown(t("upload.none", language=art.language or t("upload.undetermined"),
                                             pack=pack)))
            st.html("<div style='max-height:300px;overflow:auto;border:1px solid #ddd;padding:6px 10px'><p>"
                    + highlighted(art.text, [(i.evidence_start, i.evidence_end) for i in incidents]) + "</p></div>")
    if st.button(t("upload.save", n=len(articles)), type="primary", key="upload_save"):
        with st.spinner(t("upload.saving")):
            report = pipeline.ingest(articles, store_file, errors)
        messages = [("success", t("upload.saved", added=len(report.added), updated=len(report.updated),
                                  unchanged=len(report.unchanged), incidents=i18n.number(report.incidents, lang())))]
        messages += [("text", t("upload.renamed", given=given, stored=stored)) for given, stored in report.renamed]
        st.session_state[SAVE_MESSAGES] = messages
        if on_saved:
            on_saved()
        st.rerun()
