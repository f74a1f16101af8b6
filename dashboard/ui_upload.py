"""The dashboard's "Add articles" tab: upload, preview the extracted incidents, then save to the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import escape, mapview, pipeline
from dashboard.corpus import Article, ReadError, parse_article
from dashboard.errors import ExtractionTimeout, IncidentMapError
from dashboard.extraction import Extractor
from dashboard.gazetteer import default_gazetteer

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
    st.caption("`.txt`, `.md` or `.html` news articles, several at once. Given metadata overrides what the text says. "
               "Re-uploading an unchanged article changes nothing; a different article with a stored name is stored "
               "beside it under a distinct name.")
    files = st.file_uploader("Articles", type=["txt", "md", "html", "htm"], accept_multiple_files=True,
                             key="upload_files")
    a, b, c = st.columns(3)
    published = a.date_input("Publication date (optional)", value=None, key="upload_published")
    url = b.text_input("URL (optional)", key="upload_url")
    outlet = c.text_input("Outlet (optional)", key="upload_outlet")
    if not files:
        return
    articles, errors = _parse(files, published, url, outlet)
    for err in errors:
        st.error(escape.markdown(f"Not added: {err.reason}"))
    if not articles:
        return
    extractor = Extractor(default_gazetteer())
    progress = st.progress(0.0, text="Reading the articles…")
    previews = preview(articles, extractor, UPLOAD_BUDGET_S, lambda n, total: progress.progress(
        n / total, text=f"Read {n} of {total} article(s)"))
    progress.empty()
    for art, incidents, problem in previews:
        title = f" · {art.title}" if art.title else ""
        language = f" · {art.language}" if art.language else ""
        # an expander label is Markdown (images included): the file name and title must show as written
        with st.expander(escape.markdown(f"{art.name}: {len(incidents)} incident(s){language}{title}"),
                         expanded=True):
            if problem:
                st.error(escape.markdown(problem))
            elif incidents:
                st.dataframe(pd.DataFrame([{
                    "type": i.type, "date": mapview.date_text(vars(i)), "place": i.place, "killed": i.killed,
                    "wounded": i.wounded, "kg": i.quantity_kg, "count": i.count, "background": i.background}
                    for i in incidents]), hide_index=True, width="stretch")
            else:
                lang = extractor.language_of(art)
                st.caption(escape.markdown(
                    f"No incident found in this article (read as {art.language or 'undetermined'}, with the "
                    f"'{lang}' language pack). The extractor looks for seizures, labs and airstrips destroyed, "
                    "eradication, arrests, ambushes and armed attacks, each with a date or place in the text; a "
                    "wrong language can be set with a 'language' field in the article's front matter."))
            st.html("<div style='max-height:300px;overflow:auto;border:1px solid #ddd;padding:6px 10px'><p>"
                    + highlighted(art.text, [(i.evidence_start, i.evidence_end) for i in incidents]) + "</p></div>")
    if st.button(f"Save {len(articles)} article(s) to the store", type="primary", key="upload_save"):
        with st.spinner("Extracting and saving…"):
            report = pipeline.ingest(articles, store_file, errors)
        messages = [("success", f"{len(report.added)} added, {len(report.updated)} changed and re-extracted, "
                                f"{len(report.unchanged)} unchanged. The store now holds {report.incidents} "
                                "incidents.")]
        messages += [("text", f"Another article is already stored as {given}; this one is stored as {stored}.")
                     for given, stored in report.renamed]
        st.session_state[SAVE_MESSAGES] = messages
        if on_saved:
            on_saved()
        st.rerun()
