"""Synthetic articles for benchmarks: the project's own templates filled with gazetteer places, dates and numbers.

``python bench/synth.py OUT_DIR N`` writes N articles of about 600 words each.
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path

EVENT_TEMPLATES = [
    "On {day}, anti-drug police seized {num} kilograms of cocaine in {place}, reported {outlet}.",
    "Shining Path guerrillas ambushed a military patrol near {place} on {day}, killing {small} soldiers and "
    "wounding {small2} others.",
    "Security forces dismantled a cocaine laboratory in {place} on {day}, the Interior Ministry said.",
    "Between {day} and {day2}, police destroyed {small} clandestine airstrips in {place}, according to {outlet}.",
    "Authorities confiscated {tons} metric tons of coca paste at the port of {place} on {day}.",
]
FILLER = [
    "Analysts say the trade has adapted to pressure from the state, moving routes and changing methods.",
    "The government has announced a new strategy focused on alternative development and interdiction.",
    "Local residents told reporters that the presence of armed groups has grown in recent years.",
    "Officials did not say whether any arrests were made during the operation or afterwards.",
    "The region has long been a hub for coca cultivation and cocaine production in the Andes.",
    "Critics argue that eradication alone does little to change the economics of the drug trade.",
    "Prosecutors are investigating possible links between local officials and trafficking networks.",
    "Coca farmers have protested against forced eradication, demanding support for legal crops.",
]
PLACES = ["Pichari", "Llochegua", "Huanta province", "the VRAEM", "Callao", "Pucallpa", "Iquitos", "Tingo Maria",
          "Junín", "Ayacucho", "Puerto Inca province", "Ucayali", "Masisea district", "Santa Rosa de Yavarí",
          "the Triple Border", "the Upper Huallaga", "Tocache", "Satipo", "Paita", "Tumbes", "Puno", "Cusco"]
# Share of sentences that report an event. The seeds hold 8 events in about 150 article sentences (~5%); 8% keeps
# the synthetic articles a little denser than real news, so the benchmark errs on the slow side.
EVENT_SHARE = 0.08
OUTLETS = ["El Comercio", "La República", "Andina", "RPP", "Correo", "Peru21"]


def article(rng: random.Random, index: int) -> str:
    """One synthetic article (~600 words) with a dateline and several incidents."""
    pub = date(2015, 1, 1) + timedelta(days=rng.randrange(3000))
    lines = [f"Synthetic incident report {index}", "", f"PERU / {pub.strftime('%d %b %Y').upper()} BY BENCH BOT EN",
             ""]
    words = 0
    while words < 600:
        para = []
        for _ in range(rng.randint(3, 5)):
            if rng.random() < EVENT_SHARE:
                d = pub - timedelta(days=rng.randrange(1, 20))
                s = rng.choice(EVENT_TEMPLATES).format(
                    day=d.strftime("%B %-d"), day2=(d + timedelta(days=3)).strftime("%B %-d"),
                    place=rng.choice(PLACES), outlet=rng.choice(OUTLETS), num=f"{rng.randint(5, 3000):,}",
                    small=rng.randint(2, 9), small2=rng.randint(1, 5), tons=rng.randint(1, 9))
            else:
                s = rng.choice(FILLER)
            para.append(s)
            words += len(s.split())
        lines += [" ".join(para), ""]
    return "\n".join(lines)


def write_corpus(out: Path, n: int, seed: int = 7) -> list[Path]:
    """Write ``n`` synthetic articles into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        path = out / f"synthetic_{i:05d}.txt"
        path.write_text(article(rng, i), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    write_corpus(Path(sys.argv[1]), int(sys.argv[2]))
