"""Packaging: every import is a declared dependency, every dependency is used, the shipped Streamlit config."""

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# Declared but never imported, on purpose.
NOT_IMPORTED = {
    "pyogrio": "geopandas reads the boundary files and writes GeoPackage exports through it",
    "ruff": "a command that .ci/run runs",
    "psycopg": "SQLAlchemy's driver for the PostGIS store (postgresql+psycopg); only the tests import it",
}


def _name(requirement: str) -> str:
    """PEP 503 normalised distribution name of a requirement string."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group()).lower()


def _third_party_imports(files: list[Path]) -> set[str]:
    """Dotted names imported by ``files`` (``from a.b import c`` gives ``a.b.c``), stdlib and local ones left out."""
    local = {p.stem for p in ROOT.glob("*/*.py")} | {p.stem for p in ROOT.glob("*.py")}
    local |= {p.name for p in ROOT.iterdir() if p.is_dir()}
    found: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {m for m in found if (top := m.split(".")[0]) not in sys.stdlib_module_names
            and top not in local and top != "__future__"}


def _distributions(module: str) -> set[str]:
    """Distributions providing ``module``; a namespace package (``xstatic``) is split by the files each ships."""
    parts = module.split(".")
    candidates = importlib.metadata.packages_distributions().get(parts[0], [])
    if len(candidates) > 1:
        for n in range(len(parts), 1, -1):
            stem = "/".join(parts[:n])
            owners = [d for d in candidates if any(str(f) in (f"{stem}.py", f"{stem}/__init__.py")
                                                   for f in importlib.metadata.distribution(d).files or [])]
            if owners:
                return {_name(d) for d in owners}
    return {_name(d) for d in candidates}


APP_FILES = sorted(ROOT.glob("dashboard/**/*.py")) + [ROOT / "streamlit_app.py"]
RUNTIME = {_name(r) for r in PROJECT["dependencies"]}
TEST = {_name(r) for r in PROJECT["optional-dependencies"]["test"]}


def test_every_import_of_the_app_is_a_declared_dependency():
    missing = {m: _distributions(m) for m in _third_party_imports(APP_FILES) if not _distributions(m) & RUNTIME}
    assert missing == {}, "imported by the app but not in [project] dependencies"


def test_every_import_of_the_tests_and_benchmarks_is_declared():
    files = sorted(ROOT.glob("tests/*.py")) + sorted(ROOT.glob("bench/*.py"))
    missing = {m: _distributions(m) for m in _third_party_imports(files)
               if not _distributions(m) & (RUNTIME | TEST)}
    assert missing == {}, "imported by tests or benchmarks but in neither dependencies nor the test extra"


def test_every_declared_dependency_is_used():
    app = set().union(*(_distributions(m) for m in _third_party_imports(APP_FILES)))
    tests = set().union(*(_distributions(m) for m in _third_party_imports(sorted(ROOT.glob("tests/*.py")))))
    unused = (RUNTIME - app) | (TEST - tests)
    assert unused - set(NOT_IMPORTED) == set()


def test_streamlit_config_listens_locally_and_hides_error_details():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["enableStaticServing"] is True  # the map's Leaflet files are served from ./static
    assert config["server"]["enableXsrfProtection"] is True
    assert config["browser"]["gatherUsageStats"] is False


def test_streamlit_itself_reads_those_settings(tmp_path):
    # Streamlit ignores unknown keys and misplaced sections silently; ask the installed version what it uses.
    env = {**os.environ, "HOME": str(tmp_path)}  # no user-level config.toml to mask the project's
    shown = subprocess.run([sys.executable, "-m", "streamlit", "config", "show"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120, check=True).stdout
    active = {line.strip() for line in shown.splitlines() if not line.startswith("#")}
    for setting in ('address = "127.0.0.1"', 'showErrorDetails = "none"', "enableStaticServing = true",
                    "enableXsrfProtection = true", "gatherUsageStats = false"):
        assert setting in active
