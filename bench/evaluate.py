"""Score the extractor on a labelled set: ``python bench/evaluate.py ARTICLES_DIR EXPECTED_JSON``.

EXPECTED_JSON maps each article's file name to its incidents: ``{"type", "date" (a day the incident happened),
"regions" (departments or zones it lies in), and optionally "killed", "wounded", "quantity_kg", "count"}``.
The issue's targets: incident-level F1 >= 0.85, >= 90% of casualty and quantity fields right.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.corpus import read_corpus  # noqa: E402
from dashboard.evaluation import score  # noqa: E402
from dashboard.extraction import Extractor  # noqa: E402
from dashboard.gazetteer import default_gazetteer  # noqa: E402
from dashboard.regions import locate  # noqa: E402


def predict(folder: str) -> dict[str, list[dict]]:
    """Incidents per article, as property dicts, extracted and located article by article."""
    articles, errors = read_corpus([folder])
    for err in errors:
        print(f"skipped {err.reason}", file=sys.stderr)
    g = default_gazetteer()
    ex = Extractor(g)
    out: dict[str, list[dict]] = {}
    for art in articles:
        frame = locate(ex.extract(art), g)
        out[art.name] = frame.drop(columns="geometry").to_dict("records")
    return out


if __name__ == "__main__":
    expected = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    print(json.dumps(score(expected, predict(sys.argv[1])).as_dict(), indent=2, ensure_ascii=False))
