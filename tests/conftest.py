"""Shared fixtures: the real gazetteer (loaded once), the seed articles, tiny hand-built articles."""

from pathlib import Path

import pytest

from dashboard.corpus import read_corpus
from dashboard.extraction import Extractor
from dashboard.gazetteer import default_gazetteer

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
