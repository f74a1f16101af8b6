"""Shared fixtures: the real gazetteer (loaded once), the seed articles, tiny hand-built articles, and the stores.

``store_url`` runs a test against both backends: a SQLite file and a database on a throwaway PostgreSQL + PostGIS
cluster that the session starts on a unix socket in a temporary folder (Debian's ``postgresql`` and
``postgresql-15-postgis-3``; as ``nobody`` when the tests run as root, since ``initdb`` refuses root).
"""

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
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


# ---------------------------------------------------------------------------------------------- stores
class PostGIS:
    """A throwaway PostgreSQL + PostGIS cluster; :meth:`new_database` gives each test its own database."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
        if not found:
            raise RuntimeError("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)")
        self.bin = Path(found[-1]).parent
        # not under pytest's own temporary folder: a server running as nobody must reach its data folder
        self.dir = Path(tempfile.mkdtemp(prefix="incident-map-pg-"))
        self.user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            shutil.chown(self.dir, "nobody")
            self.user = ["runuser", "-u", "nobody", "--"]
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        options = f"-k {self.dir} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"), "-w",
                  "-t", "60", "start")
        import psycopg

        # a template with PostGIS: each test's database is a quick copy of it
        with psycopg.connect(self.url("postgres"), autocommit=True) as con:
            con.execute("CREATE DATABASE template_postgis")
        with psycopg.connect(self.url("template_postgis"), autocommit=True) as con:
            con.execute("CREATE EXTENSION postgis")

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self.user, str(self.bin / tool), *args], capture_output=True, text=True,
                              timeout=120)
        if done.returncode:
            log = self.dir / "log"
            raise RuntimeError(f"{tool} failed: {done.stderr.strip() or done.stdout.strip()}"
                               + (f"; {log.read_text()[-500:]}" if log.exists() else ""))

    def url(self, database: str) -> str:
        """The URL of a database on this cluster (psycopg reads ``host`` as the socket folder)."""
        return f"postgresql://postgres@/{database}?host={self.dir}"

    def new_database(self) -> str:
        """A new empty database with PostGIS; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url("postgres"), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name} TEMPLATE template_postgis")
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgis():
    """The session's PostGIS cluster; skipped outside CI when none can be started, a failure in CI."""
    try:
        server = PostGIS()
    except (RuntimeError, OSError, subprocess.SubprocessError, ImportError) as exc:
        reason = f"no PostgreSQL + PostGIS server could be started ({exc}); .ci/run installs them"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgis"])
def store_factory(request, tmp_path):
    """Make new, empty stores of one backend: ``make(name)`` gives a SQLite file or a PostGIS database URL."""
    if request.param == "sqlite":
        return lambda name="s": tmp_path / f"{name}.sqlite"
    server = request.getfixturevalue("postgis")
    return lambda name="s": server.new_database()


@pytest.fixture
def store_url(store_factory):
    """A new, empty store on each backend (SQLite file, PostGIS database URL)."""
    return store_factory()
