"""Shared fixtures: the real gazetteer (loaded once), the seed articles, tiny hand-built articles."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Tests never touch the real store in the user's data folder (nor one named by the developer's environment):
# the default store and the user data folder point into a temporary folder, set before the package is imported.
# (this file is imported twice, as ``conftest`` and as ``tests.conftest``: both use the same folder)
if "INCIDENT_MAP_TEST_HOME" not in os.environ:
    os.environ["INCIDENT_MAP_TEST_HOME"] = tempfile.mkdtemp(prefix="incident-map-tests-")
    atexit.register(shutil.rmtree, os.environ["INCIDENT_MAP_TEST_HOME"], ignore_errors=True)
_HOME = Path(os.environ["INCIDENT_MAP_TEST_HOME"])
os.environ["INCIDENT_MAP_STORE"] = str(_HOME / "incidents.sqlite")
os.environ["XDG_DATA_HOME"] = str(_HOME / "data")
os.environ["XDG_CACHE_HOME"] = str(_HOME / "cache")  # the pickled gazetteer (dashboard.gazcache)

import pytest  # noqa: E402

from dashboard.corpus import read_corpus  # noqa: E402
from dashboard.extraction import Extractor  # noqa: E402
from dashboard.gazetteer import default_gazetteer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def gazetteer():
    return default_gazetteer()


@pytest.fixture(scope="session")
def extractor(gazetteer):
    return Extractor(gazetteer)


@pytest.fixture(scope="session")
def seed_articles():
    articles, errors = read_corpus([SEEDS])
    assert errors == []
    return {a.name[:3]: a for a in articles}


@pytest.fixture(scope="session")
def seed_incidents(seed_articles, extractor):
    return {key: extractor.extract(a) for key, a in seed_articles.items()}


@pytest.fixture
def write_article(tmp_path):
    """Write an article file into tmp_path and return its path."""

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's build, driven by Playwright) for the browser tests."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
