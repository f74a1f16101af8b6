"""Dump every incident the extractor finds in some corpora, to check that a speed-up changes no output.

``python bench/dump_extraction.py OUT.jsonl DIR [DIR ...]`` writes one JSON line per incident (every field of
:class:`~dashboard.extraction.Incident`), articles in name order; ``diff`` two dumps taken before and after a
change.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.corpus import read_corpus  # noqa: E402
from dashboard.extraction import Extractor  # noqa: E402


def dump(out: Path, folders: list[str]) -> int:
    """Write the incidents of every article under ``folders`` to ``out``; returns how many were written."""
    ex = Extractor()
    n = 0
    with open(out, "w", encoding="utf-8") as fh:
        for folder in folders:
            articles, _ = read_corpus([folder])
            for art in sorted(articles, key=lambda a: a.name):
                for inc in ex.extract(art):
                    row = {"folder": folder, **dataclasses.asdict(inc)}
                    fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) + "\n")
                    n += 1
    return n


if __name__ == "__main__":
    print(dump(Path(sys.argv[1]), sys.argv[2:]), "incidents")
