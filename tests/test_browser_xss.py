"""Hostile article, upload and review text in headless Chromium: shown literally, never run, never fetched.

Every payload, if it ran, would set ``top.__pwned`` (reaching the dashboard page from the map's iframe) or open a
dialog; every Markdown image points at ``203.0.113.9`` (a documentation address) or a ``pwned`` path, so a request
for it means Streamlit rendered article text as Markdown. A ``${...}`` that is not JavaScript would blank the map,
so the tests also count the markers. Skipped without Chromium, as the tests of ``test_browser`` are (its
``pytestmark``).
"""

import json
from pathlib import Path

import pytest
import yaml

from dashboard import pipeline, store
from dashboard.review import ReviewStore, reviews_path
from tests.test_browser import ARGS, CHROMIUM, _map_frame, _open_panel, pytestmark, run_streamlit  # noqa: F401

TITLE = ("T ${top.__pwned=1} ${not valid js} `tick` </script><script>top.__pwned=2</script> "
         "<img src=x onerror=top.__pwned=3> ![t](http://203.0.113.9/pwned-title.png) **bold**")
# A web address (others are dropped when the article is read, with a warning) that breaks out of an attribute and
# a template literal if it is not escaped; the javascript: addresses are tested in test_escape and test_mapview.
URL = "https://example.org/a\"><script>top.__pwned=4</script>${top.__pwned=4}"
UPLOAD_URL = "https://example.org/u'><img/src=x/onerror=top.__pwned=19>"
OUTLET = "O ${alert(5)} <img src=x onerror=alert(6)> [o](javascript:top.__pwned=7)"
SEIZURE = ("Police seized 640 kilograms of cocaine in Pucallpa on 2 June 2022 ${top.__pwned=8} "
           "<img src=x onerror=top.__pwned=9> `back` C:\\users\\u{zz} ![e](http://203.0.113.9/pwned-ev.png).")
AMBUSH = ("Shining Path guerrillas killed three soldiers in the VRAEM on 5 June 2022 ${alert(10)} </script> "
          "<svg onload=top.__pwned=11> $x^2$.")
# review corrections: free-text fields an analyst (or a hostile account) can set
PLACE = "P ${top.__pwned=12} <img src=x onerror=top.__pwned=13> `"
ACTOR = "A ${top.__pwned=14} </script>"
SUBSTANCE = "S ${alert(15)} \\"
NOTE = "N ${top.__pwned=16} ![n](http://203.0.113.9/pwned-note.png)"


def _article(text: str, **meta) -> str:
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + text + "\n"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xss")
    folder = tmp / "articles"
    folder.mkdir()
    (folder / "hostile.md").write_text(
        _article(SEIZURE + "\n\n" + AMBUSH, title=TITLE, url=URL, outlet=OUTLET, published="2022-06-06"),
        encoding="utf-8")
    db = tmp / "s.sqlite"
    pipeline.build([folder], path=db)
    frame = store.load(db)
    assert sorted(frame["location_id"]) == ["town:pucallpa", "zone:vraem"]
    reviews = ReviewStore(reviews_path(db))
    for rec in frame.to_dict("records"):
        reviews.correct(rec["id"], {"place": PLACE, "actors": [ACTOR, "Shining Path"], "substance": SUBSTANCE},
                        original=rec, note=NOTE)
    with run_streamlit(db, tmp) as url:
        yield url, tmp


class Watch:
    """A page with no network beyond loopback that records dialogs, page errors and Markdown-image fetches."""

    def __init__(self, browser, width: int = 1400):
        self.dialogs, self.errors, self.fetched = [], [], []
        self.context = browser.new_context(viewport={"width": width, "height": 1000}, accept_downloads=True)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route):
        url = route.request.url
        if "pwned" in url or "203.0.113.9" in url:
            self.fetched.append(url)
        if url.startswith("http://127.0.0.1"):
            route.continue_()
        else:
            route.abort()

    def pwned(self) -> list:
        """``__pwned`` as seen by every frame of the page (undefined everywhere when nothing ran).

        A rerun may replace the map's frame while it is read: then all frames are read again, once it settles.
        """
        from playwright.sync_api import Error

        for _ in range(10):
            try:
                return [f.evaluate("() => window.__pwned") for f in self.page.frames]
            except Error as exc:
                if "detached" not in str(exc):
                    raise
                self.page.wait_for_timeout(500)
        return [f.evaluate("() => window.__pwned") for f in self.page.frames]

    def assert_inert(self) -> None:
        assert self.pwned() == [None] * len(self.page.frames)
        assert self.dialogs == [] and self.fetched == []


def _folium_frame(page):
    _map_frame(page).locator(".leaflet-marker-icon.im-icon").first.wait_for(timeout=30000)
    return next(f for f in page.frames if "incident_map" in f.url)


def _page_ready(page) -> None:
    """The dashboard has run once (without waiting for the map, so these checks do not depend on it)."""
    page.get_by_text("incidents match the filters").wait_for(timeout=60000)


def _settled(page) -> None:
    """Wait until the script run a widget change started has finished (Streamlit's "running" widget is gone)."""
    page.wait_for_timeout(500)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60000)


def _open_popup(frame, marker_selector: str) -> str:
    # dispatched events: the layer control and an earlier popup may cover the marker on a small map
    frame.locator(marker_selector).first.dispatch_event("click")
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10000)
    assert popup.locator("img, svg, script").count() == 0  # no markup from the text
    # the source link, if any, is the hostile address kept whole in its attribute
    assert all(a.get_attribute("href") in (URL, UPLOAD_URL) for a in popup.locator("a").all())
    return popup.inner_text()


def _close_popup(frame) -> None:
    frame.locator(".leaflet-popup-close-button").dispatch_event("click")
    frame.locator(".leaflet-popup").wait_for(state="detached", timeout=10000)  # after Leaflet's fade-out


def _hover_tooltip(frame, marker_selector: str) -> str:
    frame.locator(marker_selector).first.dispatch_event("mouseover")
    tip = frame.locator(".leaflet-tooltip").last
    tip.wait_for(timeout=10000)
    assert tip.locator("img, svg, script, a").count() == 0
    return tip.inner_text()


def _check_map(frame) -> None:
    """Both markers drawn; popups and tooltips show the hostile text as written."""
    assert frame.locator(".leaflet-marker-icon.im-icon").count() == 2  # the Pucallpa pin and the VRAEM area
    area = ".leaflet-marker-icon:has(.im-area)"
    text = _open_popup(frame, area)
    assert TITLE in text and AMBUSH in text and ACTOR in text and "(O ${alert(5)}" in text
    _close_popup(frame)
    assert _hover_tooltip(frame, area).startswith("Somewhere in VRAEM: 1")
    pin = ".leaflet-marker-icon:has(.im-pin)"
    text = _open_popup(frame, pin)
    assert TITLE in text and SEIZURE in text and PLACE in text and SUBSTANCE in text and OUTLET in text
    _close_popup(frame)
    assert PLACE in _hover_tooltip(frame, pin)


def test_map_popups_and_tooltips_show_hostile_text_literally(hostile, browser):
    url, tmp = hostile
    w = Watch(browser)
    w.page.goto(url)
    frame = _folium_frame(w.page)
    w.page.wait_for_timeout(1000)
    w.assert_inert()  # nothing ran while the page loaded ...
    _check_map(frame)  # ... nor on opening the popups and tooltips
    w.page.screenshot(path=str(tmp / "xss-map.png"), full_page=True)
    w.assert_inert()
    assert w.errors == []
    w.context.close()


def test_table_article_view_and_review_show_hostile_text_literally(hostile, browser):
    url, tmp = hostile
    w = Watch(browser, width=2400)  # wide, so that the grids draw (and expose) every column
    page = w.page
    page.goto(url)
    _page_ready(page)
    grid = page.locator("[data-testid='stDataFrame']:visible").first
    _open_panel(page, "Incidents and review", grid)
    grid = page.locator("[data-testid='stDataFrame']:visible").first
    article = page.locator("[data-testid='stHtml']").first
    for _ in range(10):  # the grid draws on a canvas after it appears
        page.wait_for_timeout(1000)
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 15, box["y"] + 55)  # the first row's selection box
        try:
            article.wait_for(timeout=3000)
            break
        except Exception:
            continue
    # the table's cells hold the text as is (the grid keeps an accessible copy of the cells it draws on its
    # canvas), and so does the audit trail of the corrections
    # (the default columns hold the corrected place; the actors and title are in the trail and the article view)
    grid.locator("td").filter(has_text="top.__pwned=12").first.wait_for(state="attached", timeout=30000)
    cells = [c.strip() for c in grid.locator("td").all_inner_texts()]
    assert cells.count(PLACE) == 2, json.dumps(cells)
    trail = page.locator("[data-testid='stDataFrame']:visible").nth(1)
    trail.scroll_into_view_if_needed()
    trail.locator("td").filter(has_text="top.__pwned=16").first.wait_for(state="attached", timeout=30000)
    trail_cells = [c.strip() for c in trail.locator("td").all_inner_texts()]
    assert PLACE in trail_cells and NOTE in trail_cells, json.dumps(trail_cells)
    assert f"{ACTOR}, Shining Path" in trail_cells  # the corrected actors
    assert article.locator("h4").inner_text() == TITLE
    assert article.locator("mark").inner_text() in (SEIZURE, AMBUSH)
    # the one link in the article view carries the hostile address intact in its attribute (or none at all, when
    # Streamlit's HTML sanitiser drops it); nothing else is markup
    assert [a.get_attribute("href") in (URL, None) for a in article.locator("a").all()] == [True]
    assert article.locator("img, svg, script").count() == 0
    # the correction form: a date that is no date comes back in an error message, as typed
    day = page.get_by_label("Date (YYYY-MM-DD)").first
    typed = "![p](http://203.0.113.9/pwned-date.png) **b** ${top.__pwned=17}"
    day.fill(typed)
    error = page.locator("[data-testid='stAlertContentError']").first
    for attempt in range(3):  # a rerun still drawing the page may swallow the click: click again
        page.get_by_role("button", name="Save corrections").click()
        try:
            error.wait_for(timeout=20000)
            break
        except Exception:
            if attempt == 2:
                raise
    assert error.inner_text() == f"Date {typed!r} is not a date (YYYY-MM-DD)."
    page.locator("[data-testid='stMain']").screenshot(path=str(tmp / "xss-review.png"))
    w.assert_inert()
    w.context.close()


def test_standalone_html_export_is_inert(hostile, browser):
    url, tmp = hostile
    w = Watch(browser)
    w.page.goto(url)
    _page_ready(w.page)
    button = w.page.get_by_role("button", name="Map (standalone HTML)")
    _open_panel(w.page, "Export", button)
    with w.page.expect_download(timeout=60000) as info:
        button.click()
    html = Path(info.value.path()).read_text(encoding="utf-8")
    w.assert_inert()
    w.page.set_content(html)
    frame = w.page.main_frame
    frame.locator(".leaflet-marker-icon.im-icon").first.wait_for(timeout=30000)
    w.assert_inert()
    _check_map(frame)
    w.assert_inert()
    w.context.close()


def test_upload_with_hostile_metadata_and_names(hostile, browser, tmp_path):
    url, tmp = hostile
    title = "U ${top.__pwned=18} ![u](http://203.0.113.9/pwned-upload.png) **b** :red[c] $y$"
    good = tmp_path / "up-load_[x](pwned.png).md"
    good.write_text(_article("Police seized 90 kilograms of cocaine in Iquitos on 4 July 2021.", title=title),
                    encoding="utf-8")
    empty = tmp_path / "empty ![e](pwned-empty.png) **b**.txt"
    empty.write_text("", encoding="utf-8")
    w = Watch(browser)
    page = w.page
    page.goto(url)
    _page_ready(page)
    _open_panel(page, "Add articles", page.get_by_label("URL (optional)"))
    page.get_by_label("URL (optional)").fill(UPLOAD_URL)
    page.get_by_label("Outlet (optional)").fill("V ${top.__pwned=20} ![v](http://203.0.113.9/pwned-outlet.png)")
    page.get_by_label("Outlet (optional)").press("Enter")
    # the Enter reruns the script: files given to the uploader while it is drawn again are lost
    _settled(page)
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files([str(good), str(empty)])
    label = f"{good.name}: 1 incident(s) · en · {title}"  # name, count, language, title
    page.get_by_text(label, exact=True).wait_for(timeout=30000)
    assert page.get_by_text(f"Not added: {empty.name}: file is empty", exact=True).count() == 1
    page.locator("mark", has_text="Police seized 90 kilograms").first.wait_for(timeout=30000)
    page.get_by_role("button", name="Save 1 article(s) to the store").click()
    page.get_by_text("1 added, 0 changed and re-extracted, 0 unchanged").wait_for(timeout=60000)
    w.assert_inert()
    saved = store.load(Path(tmp) / "s.sqlite")
    row = saved[saved["article"] == good.name].iloc[0]
    assert (row["url"], row["title"]) == (UPLOAD_URL, title)
    # the saved article on the map: its popup shows the upload metadata as text, with no link
    page.goto(url)
    frame = _folium_frame(page)
    page.wait_for_timeout(1000)
    assert frame.locator(".leaflet-marker-icon.im-icon").count() == 3
    frame.locator(".leaflet-marker-icon:has(.im-pin)").nth(0).wait_for(timeout=10000)
    texts = []
    for i in range(2):
        frame.locator(".leaflet-marker-icon:has(.im-pin)").nth(i).dispatch_event("click")
        popup = frame.locator(".leaflet-popup-content")
        popup.wait_for(timeout=10000)
        assert popup.locator("img, svg, script").count() == 0
        # the source link, if any, is the hostile address kept whole in its attribute
        assert all(a.get_attribute("href") in (URL, UPLOAD_URL) for a in popup.locator("a").all())
        texts.append(popup.inner_text())
        _close_popup(frame)
    assert any(title in t and "(V ${top.__pwned=20}" in t for t in texts), json.dumps(texts)
    w.assert_inert()
    w.context.close()
