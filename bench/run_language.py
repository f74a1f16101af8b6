"""Language detection speed and agreement: ``python bench/run_language.py [--n 4000]``.

Target (issue #9): at least 2,000 articles a second for 600-word articles, deterministic. The articles are built
from a few sentences written for this benchmark, shuffled per article. When the development sets are beside the
repository (``../shared/eval/{en,es}/articles``, or ``$INCIDENT_MAP_SHARED_EVAL``), it also reports how many of
them are detected as their folder's language (read at run time, never copied).

Last measured (2 cores shared with other jobs, pycld2 0.42): 4,200-6,300 articles/s for 600-word articles;
development sets 68/68 (36 en, 32 es) detected as their folder's language.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.language import detect_language  # noqa: E402

SENTENCES = {
    "en": ["Police officers destroyed two clandestine laboratories in the jungle on Tuesday.",
           "The navy said the boat carried several hundred kilos of cocaine paste down the river.",
           "Residents of the valley told reporters that armed men had crossed the bridge at night.",
           "Prosecutors opened an investigation into the mayor and three of his advisers last month.",
           "Farmers in the district say the price of coca leaf has fallen sharply since the spring."],
    "es": ["Los agentes destruyeron dos laboratorios clandestinos en la selva el martes por la tarde.",
           "La Marina informó que la embarcación llevaba varios cientos de kilos de pasta básica.",
           "Los vecinos del valle contaron a la prensa que hombres armados cruzaron el puente de noche.",
           "La fiscalía abrió una investigación contra el alcalde y tres de sus asesores el mes pasado.",
           "Los agricultores del distrito dicen que el precio de la hoja de coca cayó desde la primavera."],
}


def articles(n: int, words: int = 600, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        lang = "en" if i % 2 else "es"
        text: list[str] = []
        while len(" ".join(text).split()) < words:
            text.append(rng.choice(SENTENCES[lang]))
        out.append((lang, " ".join(text)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    n = ap.parse_args().n
    data = articles(n)
    start = time.perf_counter()
    got = [detect_language(text) for _, text in data]
    elapsed = time.perf_counter() - start
    right = sum(g == lang for g, (lang, _) in zip(got, data, strict=True))
    print(f"{n} articles of 600 words: {n / elapsed:,.0f} articles/s, {right}/{n} right")
    assert got == [detect_language(text) for _, text in data], "not deterministic"
    shared = Path(os.environ.get("INCIDENT_MAP_SHARED_EVAL") or ROOT.parent / "shared" / "eval")
    if shared.is_dir():
        total = right = 0
        for lang in ("en", "es"):
            for path in sorted((shared / lang / "articles").glob("*.txt")):
                total += 1
                right += detect_language(path.read_text(encoding="utf-8")) == lang
        print(f"development sets: {right}/{total} detected as their folder's language")


if __name__ == "__main__":
    main()
