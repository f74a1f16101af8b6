"""End-to-end: ``streamlit run`` on a free local port, driven in headless Chromium (Debian's), with no network.

Skipped when Chromium is missing on a developer's machine; in CI (``CI=true``) a missing browser is a failure.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard import pipeline, store
from dashboard.review import ReviewStore, reviews_path
from tests.conftest import ROOT, SEEDS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.browser
if not CHROMIUM and os.environ.get("CI") != "true":
    pytestmark = [pytest.mark.browser, pytest.mark.skip(reason="Debian's chromium is not installed")]

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_streamlit(db: Path, tmp: Path):
    """``streamlit run`` on a free local port with ``db`` as the store; yields the URL, stops it afterwards."""
    port = _free_port()
    env = {**os.environ, "INCIDENT_MAP_STORE": str(db)}
    log = open(tmp / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start: " + (tmp / "streamlit.log").read_text()[-2000:])
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    db = tmp / "s.sqlite"
    pipeline.build([SEEDS], path=db)
    with run_streamlit(db, tmp) as url:
        yield url, tmp




MAP_IFRAME = "iframe[title='dashboard.ui_map.incident_map']"


def _map_frame(page):
    page.wait_for_selector(MAP_IFRAME, timeout=60000)
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator("body[data-digest]").wait_for(state="attached", timeout=60000)  # the incidents are drawn
    return frame


def _panel(page, name: str) -> None:
    page.locator("[data-testid='stRadio']").filter(has_text="Timeline").get_by_text(name, exact=True).click()


def _open_panel(page, name: str, ready) -> None:
    """Choose a panel and wait for ``ready``; the choice is made again if a busy rerun swallowed it."""
    for attempt in range(3):
        _panel(page, name)
        try:
            ready.wait_for(timeout=40000)
            return
        except Exception:
            if attempt == 2:
                raise


def _offline_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    # No network: anything that is not this machine's loopback is refused.
    context.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url
                  else route.abort())
    return context, context.new_page()


def test_map_shows_seed_incidents_and_type_filter_changes_it(server, browser):
    url, tmp = server
    context, page = _offline_page(browser)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    frame = _map_frame(page)
    icons = frame.locator(".leaflet-marker-icon.im-icon")
    icons.first.wait_for(timeout=30000)
    # 8 symbols: the Callao seizure pin, and one "somewhere in" marker per type and area (ambushes in the
    # tri-border, the VRAEM, Huanta province and Junín; the VRAEM labs; the airstrips in three departments;
    # the arrest in Huanta province).
    assert icons.count() == 8
    # footprints, zones and outlines are drawn on a canvas (prefer_canvas), not as SVG paths
    assert frame.locator(".leaflet-overlay-pane canvas").count() >= 1
    assert "Ambush (4)" in frame.locator(".im-legend").inner_text()
    page.screenshot(path=str(tmp / "dashboard.png"), full_page=True)

    page.goto(url + "/?type=seizure")  # a shared view: the filter lives in the URL
    frame = _map_frame(page)
    frame.locator(".leaflet-marker-icon.im-icon").first.wait_for(timeout=30000)
    page.wait_for_timeout(1500)
    assert frame.locator(".leaflet-marker-icon.im-icon").count() == 1
    page.screenshot(path=str(tmp / "seizures.png"), full_page=True)
    assert not errors, errors
    context.close()


def test_geojson_download_parses(server, browser):
    url, tmp = server
    context, page = _offline_page(browser)
    page.goto(url)
    _map_frame(page)
    button = page.get_by_role("button", name="GeoJSON", exact=True)
    _open_panel(page, "Export", button)
    with page.expect_download(timeout=30000) as info:
        button.click()
    path = Path(info.value.path())
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 9
    assert {f["properties"]["type"] for f in data["features"]} == {"ambush", "seizure", "lab_dismantling",
                                                                  "airstrip_destruction", "arrest"}
    context.close()


def test_upload_preview_then_save(server, browser, tmp_path):
    url, tmp = server
    article = tmp_path / "new-seizure.txt"
    article.write_text("Police seized 640 kilograms of cocaine in Pucallpa on 2 June 2022, Andina reported.\n",
                       encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    context, page = _offline_page(browser)
    page.goto(url)
    _map_frame(page)
    shown = _header_count(page)
    uploader = page.locator("[data-testid='stFileUploader'] input[type='file']")
    _open_panel(page, "Add articles", page.locator("[data-testid='stFileUploader']"))
    uploader.set_input_files([str(article), str(empty)])
    page.get_by_text("new-seizure.txt: 1 incident(s)").wait_for(timeout=30000)
    assert page.get_by_text("empty.txt: file is empty").count() == 1  # a clear message, and nothing else lost
    page.locator("mark", has_text="Police seized 640 kilograms").first.wait_for(timeout=30000)
    page.locator("[data-testid='stMain']").screenshot(path=str(tmp / "upload.png"))
    page.get_by_role("button", name="Save 1 article(s) to the store").click()
    page.get_by_text("1 added, 0 changed and re-extracted, 0 unchanged").wait_for(timeout=60000)
    # June 2022 is after the seeds' last date: the range left at its end grows, so the count and the map
    # include the new seizure at once, and after a reload (no stale until= in the URL)
    assert _header_count(page) == shown + 1
    assert "until=" not in page.url
    page.locator("[data-testid='stMain']").screenshot(path=str(tmp / "upload-saved.png"))
    page.reload()
    _map_frame(page)
    assert _header_count(page) == shown + 1
    context.close()
    assert "new-seizure.txt" in set(store.load(tmp / "s.sqlite")["article"])


def _header_count(page) -> int:
    """The first number of the header's "N of M incidents match the filters"."""
    return int(page.get_by_text("incidents match the filters").inner_text().split()[0])


def test_review_flow_follows_the_incident(server, browser):
    """Confirm the first row, then (only when asked) the next needing review, and reject that one."""
    url, tmp = server
    context, page = _offline_page(browser)
    page.goto(url)
    _map_frame(page)
    before = _header_count(page)
    grid = page.locator("[data-testid='stDataFrame']:visible").first
    _open_panel(page, "Incidents and review", grid)
    confirm = page.get_by_role("button", name="Confirm")
    for _ in range(10):  # the grid draws on a canvas after it appears, later on a loaded machine
        page.wait_for_timeout(1000)
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 15, box["y"] + 55)  # the first row's selection box
        try:
            confirm.wait_for(timeout=3000)
            break
        except Exception:
            continue
    page.locator("[data-testid='stMain']").screenshot(path=str(tmp / "review-selected.png"))
    page.wait_for_url("**incident=*", timeout=30000)  # the URL is updated at the end of the run
    first = _incident_in_url(page)
    confirm.click()
    done = page.locator("[data-testid='stAlertContentSuccess']")
    done.wait_for(timeout=60000)
    assert done.inner_text().startswith("Confirmed: ")
    # the table re-sorted; the panel still shows the confirmed incident, by id
    page.get_by_text("status: confirmed").wait_for(timeout=30000)
    assert _incident_in_url(page) == first
    page.locator("[data-testid='stMain']").screenshot(path=str(tmp / "review-confirmed.png"))
    page.get_by_role("button", name="Next needing review").click()
    page.get_by_text("status: needs review").wait_for(timeout=60000)
    page.wait_for_url(lambda u: "incident=" in u and f"incident={first}" not in u, timeout=30000)
    second = _incident_in_url(page)
    page.get_by_role("button", name="Reject").click()
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stAlertContentSuccess]')].some("
                           "e => e.innerText.startsWith('Rejected: '))", timeout=60000)
    assert _header_count(page) == before - 1
    page.locator("[data-testid='stMain']").screenshot(path=str(tmp / "review.png"))
    context.close()
    decisions = [(e.incident_id, e.new) for e in ReviewStore(reviews_path(tmp / "s.sqlite")).history()]
    assert decisions == [(first, "confirmed"), (second, "rejected")]


def _incident_in_url(page) -> str:
    return page.url.split("incident=")[1].split("&")[0]


def test_several_downloads_in_a_row_all_arrive(server, browser):
    """Each export, twice over: a click used to rerun the app, which revoked the file being fetched."""
    url, tmp = server
    context, page = _offline_page(browser)
    page.goto(url)
    _map_frame(page)
    names = ["GeoJSON", "GeoJSON per type (zip)", "CSV", "Map (standalone HTML)"]
    _open_panel(page, "Export", page.get_by_role("button", name="GeoJSON", exact=True))
    got = []
    for name in names * 2:
        with page.expect_download(timeout=30000) as info:
            page.get_by_role("button", name=name, exact=True).click()
        got.append((info.value.suggested_filename, Path(info.value.path()).stat().st_size > 0))
    assert got == [(f, True) for f in ["incidents.geojson", "incidents-by-type.zip", "incidents.csv",
                                       "incident-map.html"] * 2]
    context.close()


def _zoom(page) -> float:
    return page.frame(url=lambda u: "incident_map" in u).evaluate("() => window.imMap.getZoom()")


def test_filter_change_redraws_the_map_in_place(server, browser):
    """A filter change keeps the map's zoom and position and its page (no reload); only the incidents change."""
    url, tmp = server
    context, page = _offline_page(browser)
    page.goto(url)
    frame = _map_frame(page)
    frame.locator(".leaflet-marker-icon.im-icon").first.wait_for(timeout=30000)
    leaflet = page.frame(url=lambda u: "incident_map" in u)
    assert leaflet.evaluate("() => window.imMap.scrollWheelZoom.enabled()") is False  # the wheel scrolls the page
    # the analyst zooms in on Lima; the page is marked so that a reload of the map would show
    leaflet.evaluate("() => { window.imMap.setView([-12.05, -77.05], 8, {animate: false}); window.__kept = 1; }")
    digest = leaflet.evaluate("() => document.body.getAttribute('data-digest')")
    page.wait_for_timeout(800)  # the view goes into the URL after the map settles
    assert "view=-12.050%2C-77.050%2C8" in page.url or "view=-12.050,-77.050,8" in page.url
    types = page.locator("[data-testid='stMultiSelect']").filter(has_text="Incident types")
    types.locator("input").click()
    page.get_by_role("option").filter(has_text="Drug seizure").first.click()
    page.mouse.click(1300, 150)  # close the dropdown
    leaflet.wait_for_function("(d) => document.body.getAttribute('data-digest') !== d", arg=digest, timeout=30000)
    assert leaflet.evaluate("() => window.__kept") == 1  # the same page: nothing reloaded
    assert _zoom(page) == 8
    center = leaflet.evaluate("() => window.imMap.getCenter()")
    assert abs(center["lat"] + 12.05) < 0.01 and abs(center["lng"] + 77.05) < 0.01
    frame.locator(".leaflet-marker-icon.im-icon").first.wait_for(timeout=10000)
    # seizures only (the seeds' Callao seizure, and one an earlier test of this module may have uploaded): pins
    # near Lima, and nothing else in the legend
    icons = frame.locator(".leaflet-marker-icon.im-icon")
    assert icons.count() >= 1 and frame.locator(".leaflet-marker-icon.im-icon:has(.im-pin)").count() == icons.count()
    legend = frame.locator(".im-legend").inner_text()
    assert "Ambush (0)" in legend and "Lab dismantling (0)" in legend and "Drug seizure (0)" not in legend
    page.screenshot(path=str(tmp / "map-filtered-zoomed.png"))
    # a filter that matches nothing says so on the map
    page.get_by_label("Search the evidence").fill("no incident says this")
    page.get_by_label("Search the evidence").press("Enter")
    frame.get_by_text("No incident matches these filters.").wait_for(timeout=30000)
    assert _zoom(page) == 8
    context.close()


def test_popup_opens_its_incident_in_the_table(server, browser):
    """A popup's button selects its incident for review; the map then rings the selected incident."""
    url, tmp = server
    context, page = _offline_page(browser)
    page.goto(url + "/?type=seizure")
    frame = _map_frame(page)
    pin = frame.locator(".leaflet-marker-icon:has(.im-pin)")
    pin.first.wait_for(timeout=30000)
    pin.first.dispatch_event("click")
    button = frame.get_by_role("button", name="Show in the table and review")
    iid = button.get_attribute("data-id")
    button.click()
    page.wait_for_url(f"**incident={iid}*", timeout=30000)
    page.get_by_role("button", name="Confirm").wait_for(timeout=60000)  # the review panel of that incident
    frame.locator(".im-selected").wait_for(timeout=30000)
    assert _zoom(page) >= 8  # centred on it
    page.screenshot(path=str(tmp / "map-selected.png"))
    context.close()
