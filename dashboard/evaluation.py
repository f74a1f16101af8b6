"""Scoring the extractor against hand-coded expectations (incident-level precision, recall, F1; field accuracy).

An expected incident matches a predicted one of the same type whose date range, widened by a day on each side,
holds the expected date, and whose departments or zones include one of the expected regions. Matching is greedy
in article order. Background statistics are not scored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from dashboard.gazetteer import normalize

FIELDS = ("killed", "wounded", "quantity_kg", "count")


@dataclass
class Score:
    """Counts and the resulting figures; ``misses`` and ``extras`` say what went wrong."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    fields_right: int = 0
    fields_total: int = 0
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """Share of predicted incidents that match an expected one."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Share of expected incidents found."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def field_accuracy(self) -> float:
        """Share of expected casualty, quantity and count fields that the matched incidents got right."""
        return self.fields_right / self.fields_total if self.fields_total else 1.0

    def as_dict(self) -> dict:
        """The figures, rounded, with the misses and extras."""
        return {"precision": round(self.precision, 3), "recall": round(self.recall, 3), "f1": round(self.f1, 3),
                "field_accuracy": round(self.field_accuracy, 3), "tp": self.tp, "fp": self.fp, "fn": self.fn,
                "misses": self.misses, "extras": self.extras}


def _matches(exp: Mapping, pred: Mapping) -> bool:
    if exp["type"] != pred["type"] or not pred.get("date"):
        return False
    day = date.fromisoformat(exp["date"])
    start = date.fromisoformat(pred["date"]) - timedelta(days=1)
    end = date.fromisoformat(pred.get("date_end") or pred["date"]) + timedelta(days=1)
    if not start <= day <= end:
        return False
    regions = {normalize(r) for r in (pred.get("departments") or []) + (pred.get("zones") or [])}
    return bool(regions & {normalize(r) for r in exp["regions"]})


def _field_right(name: str, expected, predicted) -> bool:
    if predicted is None:
        return False
    if name == "quantity_kg":
        return abs(float(predicted) - float(expected)) <= 0.01 * float(expected)
    return int(predicted) == int(expected)


def score(expected: Mapping[str, Sequence[Mapping]], predicted: Mapping[str, Sequence[Mapping]]) -> Score:
    """Score predicted incidents (article -> list of property dicts) against expected ones."""
    result = Score()
    for article, wanted in expected.items():
        if article.startswith("_"):
            continue
        left = [p for p in predicted.get(article, []) if not p.get("background")]
        for exp in wanted:
            hit = next((p for p in left if _matches(exp, p)), None)
            if hit is None:
                result.fn += 1
                result.misses.append(f"{article}: {exp['type']} {exp['date']} {exp['regions']}")
                continue
            left.remove(hit)
            result.tp += 1
            for name in FIELDS:
                if name in exp:
                    result.fields_total += 1
                    result.fields_right += _field_right(name, exp[name], hit.get(name))
        result.fp += len(left)
        result.extras += [f"{article}: {p['type']} {p.get('date')} {p.get('place')}" for p in left]
    return result
