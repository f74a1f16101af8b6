"""Evaluation against a hand-coded gold standard: precision, recall, F1 and field accuracy of the extractor.

The gold format is the one of the project's development sets (``shared/eval/*/gold.yaml``): one flat YAML list,
one entry per incident, with ``article`` (file name), ``type``, ``alt_types``, ``date``, ``date_end``,
``date_precision``, ``departments``, ``zones``, ``killed``, ``wounded``, ``quantity_kg``, ``count``,
``background`` and ``optional`` (other keys such as ``id``, ``place``, ``evidence`` and ``notes`` are carried along).

The matching rules are those of the development sets' ``score_incidents.py``, so that both give the same figures
on the same predictions: a predicted incident matches a gold one when it comes from the same article (file stem),
has the gold type (or, when no prediction has that type, one of the gold's ``alt_types``; further alt-type
predictions of the same event are then excused), its date range overlaps the gold one widened by a day (31 days at
month precision; a gold entry with no date accepts any date) and it shares a department or a zone with it (accents
and case ignored; a gold entry with neither accepts any place). Background predictions are left out; every other
prediction that matches nothing is a false positive, on articles with no gold entry too. Gold entries marked
``optional`` or of type ``other`` are neither required nor penalised: one prediction matching each is excused.
Matching is greedy, in gold order and prediction order.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from dashboard.corpus import SUFFIXES, Article, read_corpus
from dashboard.errors import IncidentMapError

if TYPE_CHECKING:
    from dashboard.gazetteer import Gazetteer

FIELDS = ("killed", "wounded", "quantity_kg", "count")
FIELD_TOLERANCE = 0.02  # a number within 2% of the gold one is right (rounded figures: "1.5 tons" for 1,496 kg)
DAY_TOLERANCE = 1
MONTH_TOLERANCE = 31
UNSCORED_TYPE = "other"  # protests, riots, kidnappings, crashes: outside the taxonomy, never required
# Keys of a prediction that may carry its departments (the GeoJSON export uses "departments").
_DEPARTMENT_KEYS = ("departments", "department", "region", "regions", "admin1")


class GoldError(IncidentMapError):
    """A gold file that cannot be read or is not in the gold format. The message names the file and entry."""


# ---------------------------------------------------------------------------------------------- normalisation


def norm(name: object) -> str:
    """A place name without accents, uppercased, hyphens as spaces, spaces collapsed ("Junín" -> "JUNIN")."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return " ".join(text.upper().replace("-", " ").split())


def stem(name: object) -> str:
    """An article's file name without folders and without its article suffix (``a/01_x.txt`` -> ``01_x``)."""
    text = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in SUFFIXES:
        if text.lower().endswith(suffix):
            return text[: -len(suffix)]
    return text


def _day(value: object) -> dt.date | None:
    if value in (None, ""):
        return None
    # YAML gives dates (or datetimes) as objects, JSON as strings: the first ten characters are the day either way
    return dt.date.fromisoformat(str(value)[:10])


def _as_list(value: object) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [x for x in value if x]
    return [value]


def _article_of(pred: Mapping) -> str:
    return stem(pred.get("article") or pred.get("article_id") or "")


# ---------------------------------------------------------------------------------------------- matching rules


def gold_range(gold: Mapping) -> tuple[dt.date, dt.date] | None:
    """The days a prediction's dates may overlap: the gold range widened by the tolerance; None = any date."""
    start = _day(gold.get("date"))
    if start is None:
        return None
    end = _day(gold.get("date_end")) or start
    tol = dt.timedelta(days=MONTH_TOLERANCE if gold.get("date_precision") == "month" else DAY_TOLERANCE)
    return start - tol, end + tol


def prediction_places(pred: Mapping) -> tuple[set[str], set[str]]:
    """A prediction's departments and zones, normalised with :func:`norm`."""
    deps: set[str] = set()
    for key in _DEPARTMENT_KEYS:
        deps |= {norm(x) for x in _as_list(pred.get(key))}
    zones = {norm(x) for x in _as_list(pred.get("zones")) + _as_list(pred.get("zone"))}
    return deps, zones


def matches(gold: Mapping, pred: Mapping, types: set[str]) -> bool:
    """Whether ``pred`` reports the gold incident when its type is one of ``types`` (see the module docstring)."""
    if stem(gold["article"]) != _article_of(pred):
        return False
    if pred.get("type") not in types:
        return False
    window = gold_range(gold)
    if window is not None:
        start = _day(pred.get("date"))
        if start is None:
            return False
        end = _day(pred.get("date_end")) or start
        if end < window[0] or start > window[1]:
            return False
    gdeps = {norm(x) for x in _as_list(gold.get("departments"))}
    gzones = {norm(x) for x in _as_list(gold.get("zones"))}
    if gdeps or gzones:
        pdeps, pzones = prediction_places(pred)
        if not (gdeps & pdeps or gzones & pzones):
            return False
    return True


def field_right(gold_value: float, predicted: object) -> bool:
    """Whether a predicted number is within :data:`FIELD_TOLERANCE` of the gold one (a missing one is wrong)."""
    if predicted is None:
        return False
    return abs(float(predicted) - float(gold_value)) <= FIELD_TOLERANCE * float(gold_value) + 1e-9


def is_scored(gold: Mapping) -> bool:
    """Whether a gold entry is required: not background, not optional, not of type ``other``."""
    return not gold.get("background") and not gold.get("optional") and gold["type"] != UNSCORED_TYPE


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Miss:
    """A gold incident no prediction matched."""

    article: str
    gold_id: str | None
    type: str
    date: str | None
    place: str | None


@dataclass(frozen=True)
class Extra:
    """A prediction that matched no gold incident (a false positive)."""

    article: str
    type: str | None
    date: str | None
    date_end: str | None
    departments: list[str]
    zones: list[str]
    place: str | None
    evidence: str | None


@dataclass(frozen=True)
class FieldError:
    """A number of a matched incident that is missing or off by more than the tolerance."""

    article: str
    gold_id: str | None
    type: str
    field: str
    gold: float
    got: float | None


@dataclass
class Evaluation:
    """The outcome of scoring predictions against a gold standard."""

    gold: int = 0
    tp: int = 0
    fp: int = 0
    excused: int = 0
    fields_right: int = 0
    fields_total: int = 0
    articles: int = 0
    misses: list[Miss] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)
    field_errors: list[FieldError] = field(default_factory=list)
    unknown_articles: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def predicted(self) -> int:
        """Scored predictions: matches plus false positives (background and excused ones left out)."""
        return self.tp + self.fp

    @property
    def fn(self) -> int:
        """Gold incidents missed."""
        return self.gold - self.tp

    @property
    def precision(self) -> float:
        """Share of scored predictions that match a gold incident."""
        return self.tp / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        """Share of gold incidents found."""
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def field_accuracy(self) -> float:
        """Share of the gold numbers (killed, wounded, quantity_kg, count) of matched incidents got right."""
        return self.fields_right / self.fields_total if self.fields_total else 1.0

    def summary(self) -> str:
        """One line: counts and figures (the same leading fields as ``score_incidents.py``)."""
        return (f"gold={self.gold} pred={self.predicted} tp={self.tp} precision={self.precision:.2f} "
                f"recall={self.recall:.2f} F1={self.f1:.2f} fields={self.fields_right}/{self.fields_total} "
                f"field_accuracy={self.field_accuracy:.2f}")

    def as_dict(self) -> dict:
        """Everything, JSON-ready: figures unrounded, then the misses, extras and wrong fields."""
        return {"gold": self.gold, "predicted": self.predicted, "tp": self.tp, "fp": self.fp, "fn": self.fn,
                "excused": self.excused, "articles": self.articles, "precision": self.precision,
                "recall": self.recall, "f1": self.f1, "fields_right": self.fields_right,
                "fields_total": self.fields_total, "field_accuracy": self.field_accuracy,
                "misses": [asdict(m) for m in self.misses], "extras": [asdict(e) for e in self.extras],
                "field_errors": [asdict(f) for f in self.field_errors],
                "unknown_articles": self.unknown_articles, "skipped": self.skipped}

    def report_lines(self) -> list[str]:
        """Human-readable lines: every miss, wrong field and extra with its article, then the summary.

        Text from articles and gold files is shown with control characters escaped, so that a hostile article
        cannot drive the analyst's terminal.
        """
        lines = [f"WARNING gold names an article not among the evaluated ones: {_safe(a)}"
                 for a in self.unknown_articles]
        lines += [f"MISS {_safe(m.article)} [{_safe(m.gold_id)}]: {_safe(m.type)} {_safe(m.date or 'no-date')}"
                  + (f" {_safe(m.place)}" if m.place else "") for m in self.misses]
        lines += [f"FIELD {_safe(f.article)} [{_safe(f.gold_id)}]: {_safe(f.type)} {f.field} gold={_num(f.gold)} "
                  f"got={_num(f.got)}" for f in self.field_errors]
        for e in self.extras:
            span = e.date or "no-date"
            if e.date_end not in (None, e.date):
                span += f"..{e.date_end}"
            lines.append(f"EXTRA {_safe(e.article)}: {_safe(e.type)} {_safe(span)} place={_safe(e.place)} "
                         f"departments={_safe(', '.join(e.departments))} zones={_safe(', '.join(e.zones))} "
                         f"evidence={_safe(_clip(e.evidence))}")
        lines.append(self.summary())
        return lines


def _safe(value: object) -> str:
    text = "" if value is None else str(value)
    # Cc (controls, ESC included) and Cf (bidi overrides, zero-width) are escaped, never printed raw
    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf") else f"\\u{ord(ch):04x}" for ch in text)


def _clip(text: str | None, width: int = 100) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _num(value: float | None) -> str:
    if value is None:
        return "none"
    return str(int(value)) if float(value).is_integer() else str(value)


# ---------------------------------------------------------------------------------------------- scoring


def score(gold: Sequence[Mapping], predictions: Sequence[Mapping],
          articles: Iterable[str] | None = None) -> Evaluation:
    """Score predicted incidents against gold entries.

    Parameters
    ----------
    gold
        Gold entries (see :func:`load_gold`); background ones are ignored.
    predictions
        Predicted incidents as property mappings (``article``, ``type``, ``date``, ``date_end``, ``departments``,
        ``zones``, the numbers), in the order the extractor gave them.
    articles
        Every evaluated article (file names): predictions on them count even when the gold has no entry for the
        article. Predictions on articles neither named here nor in the gold are left out. None: only articles
        named in the gold are scored.
    """
    entries = [g for g in gold if not g.get("background")]
    required = [g for g in entries if is_scored(g)]
    optional = [g for g in entries if not is_scored(g)]
    names = {stem(g["article"]) for g in entries}
    evaluated = {stem(a) for a in articles} if articles is not None else set()
    scope = names | evaluated
    preds = [p for p in predictions if not p.get("background") and _article_of(p) in scope]
    result = Evaluation(gold=len(required), articles=len(scope))
    if articles is not None:
        result.unknown_articles = sorted(names - evaluated)
    used: set[int] = set()
    excused: set[int] = set()
    for g in required:
        alt = {str(t) for t in _as_list(g.get("alt_types"))}
        hit = None
        for types in ({g["type"]}, alt):  # the coded type first, then its alternatives
            hit = next((i for i, p in enumerate(preds) if i not in used and matches(g, p, types)), None)
            if hit is not None:
                break
        if hit is None:
            result.misses.append(Miss(stem(g["article"]), _opt_str(g.get("id")), g["type"],
                                      _opt_str(g.get("date")), _opt_str(g.get("place"))))
            continue
        used.add(hit)
        result.tp += 1
        # a companion record of the same event under an alternative type is not an error
        excused |= {i for i, p in enumerate(preds) if i not in used and matches(g, p, alt)}
        for name in FIELDS:
            if g.get(name) is None:
                continue
            result.fields_total += 1
            got = preds[hit].get(name)
            if field_right(g[name], got):
                result.fields_right += 1
            else:
                result.field_errors.append(FieldError(stem(g["article"]), _opt_str(g.get("id")), g["type"], name,
                                                      float(g[name]), None if got is None else float(got)))
    for g in optional:
        types = {g["type"]} | {str(t) for t in _as_list(g.get("alt_types"))}
        hit = next((i for i, p in enumerate(preds) if i not in used and i not in excused and matches(g, p, types)),
                   None)
        if hit is not None:
            excused.add(hit)
    result.excused = len(excused - used)
    for i, p in enumerate(preds):
        if i in used or i in excused:
            continue
        result.fp += 1
        result.extras.append(Extra(_article_of(p), _opt_str(p.get("type")), _opt_str(p.get("date")),
                                   _opt_str(p.get("date_end")), [str(x) for x in _as_list(p.get("departments"))],
                                   [str(x) for x in _as_list(p.get("zones"))], _opt_str(p.get("place")),
                                   _opt_str(p.get("evidence"))))
    return result


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


# ---------------------------------------------------------------------------------------------- gold files


def load_gold(path: str | Path) -> list[dict]:
    """Read and check a gold YAML file.

    Raises
    ------
    GoldError
        The file cannot be read or parsed, or an entry lacks ``article`` or ``type``, has a date that is not
        ``YYYY-MM-DD``, or a number that is not a number.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GoldError(f"{path}: cannot read gold file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise GoldError(f"{path}: gold file is not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        raise GoldError(f"{path}: not valid YAML ({_safe(str(exc).splitlines()[0])})") from exc
    except ValueError as exc:  # PyYAML raises it for a date-shaped scalar that is no date (2021-13-40)
        raise GoldError(f"{path}: a value is not a date; use YYYY-MM-DD ({_safe(exc)})") from exc
    if data is None:
        raise GoldError(f"{path}: gold file is empty; write one YAML list entry per incident")
    if not isinstance(data, list):
        raise GoldError(f"{path}: a gold file is a YAML list of incidents, found a {type(data).__name__}")
    return [_check_entry(entry, i, path) for i, entry in enumerate(data, 1)]


def _check_entry(entry: object, index: int, path: Path) -> dict:
    where = f"{path}: entry {index}"
    if not isinstance(entry, dict):
        raise GoldError(f"{where}: expected a mapping with article and type, found {type(entry).__name__}")
    if entry.get("id") is not None:
        where += f" (id {_safe(entry['id'])})"
    for key in ("article", "type"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise GoldError(f"{where}: missing {key!r}")
    for key in ("date", "date_end"):
        try:
            _day(entry.get(key))
        except ValueError:
            raise GoldError(f"{where}: {key} {_safe(entry[key])!r} is not a date; use YYYY-MM-DD") from None
    for key in FIELDS:
        value = entry.get(key)
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number) or number < 0:
            raise GoldError(f"{where}: {key} {_safe(value)!r} is not a number (null when the text gives none)")
    for key in ("departments", "zones", "alt_types"):
        value = entry.get(key)
        if value is not None and not isinstance(value, (str, list)):
            raise GoldError(f"{where}: {key} must be a list of names")
    return entry


# ---------------------------------------------------------------------------------------------- the extractor


def predict(articles: Sequence[Article], gazetteer: Gazetteer | None = None) -> list[dict]:
    """The extractor's incidents on ``articles`` as GeoJSON property dicts, exactly as ``incident-map extract``.

    The same path as the ``extract`` command (extraction, merging across articles, location, the GeoJSON export's
    property cleaning), so that scoring them equals scoring that command's output.
    """
    from dashboard import export, pipeline  # the pipeline pulls in geopandas; imported only when predicting

    frame = pipeline.extract_located(articles, gazetteer)
    return [f["properties"] for f in export.to_feature_collection(frame)["features"]]


def evaluate(articles: str | Path | Sequence[str | Path], gold: str | Path,
             gazetteer: Gazetteer | None = None) -> Evaluation:
    """Run the extractor over ``articles`` (files or folders) and score it against the gold file.

    Every article read belongs to the evaluation: predictions on an article without gold entries are false
    positives. Unreadable articles are listed in :attr:`Evaluation.skipped`.

    Raises
    ------
    GoldError
        The gold file is unusable.
    IncidentMapError
        No article could be read.
    """
    entries = load_gold(gold)
    paths = [articles] if isinstance(articles, (str, Path)) else list(articles)
    read, errors = read_corpus(paths)
    if not read:
        raise IncidentMapError("no article could be read: " + "; ".join(e.reason for e in errors) if errors
                               else "no article files found in " + ", ".join(map(str, paths)))
    result = score(entries, predict(read, gazetteer), articles=[a.name for a in read])
    result.skipped = [e.reason for e in errors]
    return result


def to_json(result: Evaluation) -> str:
    """The evaluation as JSON text; control and format characters from articles are written as escapes.

    ``json.dumps`` leaves C1 controls (U+009B starts a terminal command) and bidi overrides raw; escaped, the
    text reads back the same and cannot drive the terminal it is shown in.
    """
    return _CONTROL.sub(_json_escape, json.dumps(result.as_dict(), ensure_ascii=False, indent=2))


_CONTROL = re.compile("[\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
                      "\ufff9-\ufffb\U000e0000-\U000e007f]")


def _json_escape(match: re.Match) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # JSON spells an astral character as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"
