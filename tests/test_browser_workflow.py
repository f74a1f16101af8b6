"""End-to-end in headless Chromium: a review survives a reload, the Spanish interface, the standalone map's
header, the audit log, and the phone layout. Screenshots go to the test's temporary folder (and to
``$INCIDENT_MAP_SCREENSHOTS`` when set, for a person to look at)."""

import os
import shutil
from pathlib import Path

import pytest

from dashboard import pipeline, store
from dashboard.review import ReviewStore, reviews_path
from tests.conftest import SEEDS
from tests.test_browser import (
    MAP_IFRAME,
    _header_count,
    _map_frame,
    _offline_page,
    _open_panel,
    pytestmark,
    run_streamlit,
)

__all__ = ["pytestmark"]  # the browser marker, and the skip when Chromium is missing


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e-workflow")
    db = tmp / "s.sqlite"
    pipeline.build([SEEDS], path=db)
    with run_streamlit(db, tmp) as url:
        yield url, tmp


def _shot(page, tmp: Path, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main element, so the window is made as tall as that first."""
    path = tmp / name
    size = page.viewport_size
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 5000)})
    page.wait_for_timeout(1000)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    keep = os.environ.get("INCIDENT_MAP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)


def _incident(db: Path, kind: str, day: str):
    frame = store.load(db)
    return frame[(frame["type"] == kind) & (frame["date"] == day)].iloc[0]


def test_a_review_survives_a_reload(server, browser):
    url, tmp = server
    arrest = _incident(tmp / "s.sqlite", "arrest", "2017-07-21")
    context, page = _offline_page(browser)
    page.goto(f"{url}/?panel=review&incident={arrest['id']}")
    _map_frame(page)
    page.get_by_text("status: needs review").wait_for(timeout=60000)
    _shot(page, tmp, "review-queue.png")
    page.get_by_role("button", name="Confirm").click()
    page.locator("[data-testid='stAlertContentSuccess']", has_text="Confirmed: arrest").wait_for(timeout=60000)
    page.reload()
    _map_frame(page)
    # the same incident, opened from the URL, with the status saved before the reload
    page.get_by_text("status: confirmed").wait_for(timeout=60000)
    assert f"incident={arrest['id']}" in page.url and "panel=review" in page.url
    assert page.get_by_text("status: needs review").count() == 0
    context.close()
    assert [(e.incident_id, e.new) for e in ReviewStore(reviews_path(tmp / "s.sqlite")).history()] == [
        (arrest["id"], "confirmed")]


def test_audit_log_page_lists_the_decisions(server, browser):
    url, tmp = server
    context, page = _offline_page(browser)
    page.goto(f"{url}/?panel=audit")
    _map_frame(page)
    page.get_by_role("button", name="Download the audit log (CSV)").wait_for(timeout=60000)
    # the browser's time zone is used (Chromium's default here: the machine's); the caption names it
    assert page.get_by_text("decisions · times in").count() == 1
    _shot(page, tmp, "audit-log.png")
    with page.expect_download(timeout=30000) as info:
        page.get_by_role("button", name="Download the audit log (CSV)").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("Time,Incident,Incident id,Action")
    context.close()


def test_the_interface_switches_to_spanish_and_keeps_it_in_the_url(server, browser):
    url, tmp = server
    context, page = _offline_page(browser)
    page.goto(url)
    _map_frame(page)
    page.get_by_text("Filters", exact=True).wait_for(timeout=30000)
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name="Español").click()
    page.get_by_text("Filtros", exact=True).wait_for(timeout=60000)
    page.get_by_text("Rango de fechas").wait_for(timeout=30000)
    assert page.get_by_text("Kilos incautados").count() == 1
    page.wait_for_url("**lang=es*", timeout=30000)
    _shot(page, tmp, "spanish.png")
    page.reload()
    _map_frame(page)
    page.get_by_text("incidentes cumplen los filtros").wait_for(timeout=60000)
    assert page.get_by_text("Cronología", exact=True).count() == 1
    context.close()


def test_the_standalone_map_says_what_it_shows(server, browser):
    url, tmp = server
    context, page = _offline_page(browser)
    page.goto(f"{url}/?type=seizure&panel=export")
    _map_frame(page)
    button = page.get_by_role("button", name="Map (standalone HTML)", exact=True)
    button.wait_for(timeout=60000)
    with page.expect_download(timeout=30000) as info:
        button.click()
    html = Path(info.value.path()).read_text(encoding="utf-8")
    assert "<title>Incidents of Peru&#x27;s cocaine economy, from the news</title>" in html
    assert "<b>Incident types:</b> Drug seizure" in html and "Exported " in html
    context.close()


def test_phone_layout_starts_with_filters_collapsed_and_the_map_early(server, browser):
    url, tmp = server
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url
                  else route.abort())
    page = context.new_page()
    page.goto(url)
    _map_frame(page)
    assert _header_count(page) == 9
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.get_attribute("data-collapsed") == "true"
    box = page.locator(MAP_IFRAME).bounding_box()
    # the five figures wrap three to a row: the map starts within the first screen and a half
    assert box["y"] < 844 * 1.5, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    _shot(page, tmp, "phone.png")
    context.close()


def test_landing_page_table_fits_1400px(server, browser):
    url, tmp = server
    context, page = _offline_page(browser)
    page.goto(url)
    _map_frame(page)
    _shot(page, tmp, "landing.png")
    grid = page.locator("[data-testid='stDataFrame']:visible").first
    _open_panel(page, "Incidents and review", grid)
    page.wait_for_timeout(2000)
    # the grid's horizontal scroller is no wider than its frame: every default column is visible
    widths = grid.evaluate("""el => { const s = el.querySelector('.dvn-scroller');
                                      return s ? [s.scrollWidth, s.clientWidth] : [0, 0]; }""")
    assert widths[0] <= widths[1] + 1, widths
    assert page.get_by_text("review_status").count() == 0 and page.get_by_text("lab_dismantling").count() == 0
    _shot(page, tmp, "table.png")
    context.close()
