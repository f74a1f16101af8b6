"""One event reported by several articles becomes one incident with several sources.

Two incidents from different articles are the same event when they have the same type, their date ranges overlap
and their places are the same or one contains the other. The incident with the most precise place (then the most
precise date, then the earliest article) is kept; the others become its sources and fill its missing figures.

Incident ids hash the article's content, so a changed article gives its incidents new ids. :func:`former_ids`
links each new incident to the stored incident it continues (same article, same type, a similar evidence sentence,
or the same date and place), so an analyst's review follows the event through re-extraction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from difflib import SequenceMatcher

import shapely

from dashboard.corpus import Article
from dashboard.extraction import Incident
from dashboard.gazetteer import Gazetteer

_WORD = re.compile(r"\w+")
_DATE_RANK = {"day": 0, "range": 1, "month": 2, "year": 3, None: 4}
#: Share of the smaller footprint that must lie in the larger for two places to be "the same or containing".
CONTAINED = 0.5


def merge_across_articles(incidents: Sequence[Incident], articles: Mapping[str, Article],
                          gazetteer: Gazetteer) -> list[Incident]:
    """Merge incidents that report the same event; every incident gets its ``sources`` (one or more).

    The incidents' ``sources`` are set in place (a copy of each would double the memory of a large build).
    """
    for inc in incidents:
        inc.sources = [_source(inc, articles.get(inc.article))]
    items = incidents
    out = [_combine([items[i] for i in members], articles, gazetteer) for members in event_groups(items, gazetteer)]
    # keep the extraction order (article order, then text order) for stable output
    first = {id_: n for n, id_ in enumerate(inc.id for inc in incidents)}
    return sorted(out, key=lambda inc: first[inc.id])


def event_groups(incidents: Sequence[Incident], gazetteer: Gazetteer) -> list[list[int]]:
    """The incidents that report one event, as groups of positions (each group in ascending order)."""
    return link_events([(inc.type, inc.date, inc.date_end, inc.article, place_key(inc.place_ids), mergeable(inc))
                        for inc in incidents], gazetteer)


def place_key(place_ids: Sequence[str]) -> str:
    """The places of an incident as one text, the same whatever their order (as the store's ``location_id``)."""
    return "+".join(sorted(place_ids))


def link_events(rows: Sequence[tuple], gazetteer: Gazetteer) -> list[list[int]]:
    """:func:`event_groups` over light rows ``(type, date, date_end, article, place key, mergeable)``.

    The pipeline groups a large store from its cached summaries this way, without building incidents.
    """
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Place pairs already compared, kept on the gazetteer: a large corpus names few distinct places.
    same: dict[tuple, bool] = gazetteer.__dict__.setdefault("_same_place_cache", {})
    order = sorted((i for i, r in enumerate(rows) if r[5]), key=lambda i: rows[i][:3])
    for pos, i in enumerate(order):
        type_, _, end, article, place, _ = rows[i]
        for k in range(pos + 1, len(order)):  # indexes, not a slice: a slice would copy the rest every time
            j = order[k]
            b_type, b_date, _, b_article, b_place, _ = rows[j]
            if b_type != type_ or b_date > end:
                break  # sorted by type and start date: no later one can overlap
            if b_article != article:
                pair = (place, b_place) if place <= b_place else (b_place, place)
                if pair not in same:
                    same[pair] = _same_places(place.split("+"), b_place.split("+"), gazetteer)
                if same[pair]:
                    parent[find(j)] = find(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(rows)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def links(a: tuple, b: tuple, gazetteer: Gazetteer) -> bool:
    """Whether two rows of :func:`link_events` report one event directly (their groups then join).

    Both mergeable, the same type, different articles, overlapping dates (the later start on or before the earlier
    row's end, as :func:`link_events` compares them) and the same or a containing place.
    """
    if not (a[5] and b[5]) or a[0] != b[0] or a[3] == b[3]:
        return False
    first, second = (a, b) if a[:3] <= b[:3] else (b, a)
    if second[1] > first[2]:
        return False
    place, b_place = first[4], second[4]
    same: dict[tuple, bool] = gazetteer.__dict__.setdefault("_same_place_cache", {})
    pair = (place, b_place) if place <= b_place else (b_place, place)
    if pair not in same:
        same[pair] = _same_places(place.split("+"), b_place.split("+"), gazetteer)
    return same[pair]


def mergeable(inc: Incident) -> bool:
    """Whether an incident may merge with another article's: an event with a date and a place."""
    return not inc.background and inc.date is not None and bool(inc.place_ids)


def _same_places(a: Sequence[str], b: Sequence[str], gazetteer: Gazetteer) -> bool:
    if sorted(a) == sorted(b):
        return True
    fa, fb = gazetteer.footprint(a), gazetteer.footprint(b)
    small, large = (fa, fb) if fa.area <= fb.area else (fb, fa)
    if small.area == 0:
        return bool(large.contains(small))
    return bool(shapely.intersection(small, large).area >= CONTAINED * small.area)


def _combine(group: list[Incident], articles: Mapping[str, Article], gazetteer: Gazetteer) -> Incident:
    if len(group) == 1:
        return group[0]

    def key(inc: Incident):
        art = articles.get(inc.article)
        published = art.published.isoformat() if art and art.published else "9999"
        return (_precision(inc, gazetteer), _DATE_RANK.get(inc.date_precision, 4), published, inc.id)

    group = sorted(group, key=key)
    best = group[0]
    filled = {}
    for col in ("killed", "wounded", "quantity_kg", "substance", "count", "reported_by"):
        if getattr(best, col) in (None, ""):
            filled[col] = next((getattr(g, col) for g in group[1:] if getattr(g, col) not in (None, "")), None)
    actors = list(dict.fromkeys(a for g in group for a in g.actors))
    sources = [s for g in group for s in g.sources]
    return replace(best, **filled, actors=actors, sources=sources)


def _precision(inc: Incident, gazetteer: Gazetteer) -> float:
    # the gazetteer's precision level; several places are a wider area than one of the same level
    level = max(gazetteer.get(pid).precision for pid in inc.place_ids)
    return level + (0.5 if len(inc.place_ids) > 1 else 0.0)


def _source(inc: Incident, article: Article | None) -> dict:
    return {"article": inc.article, "title": article.title if article else None,
            "published": article.published.isoformat() if article and article.published else None,
            "outlet": article.outlet if article else None, "url": article.url if article else None,
            "reported_by": inc.reported_by, "evidence": inc.evidence, "evidence_start": inc.evidence_start,
            "evidence_end": inc.evidence_end}


#: Evidence similarity (difflib ratio over words) at which a new incident continues a stored one of the same
#: article and type.
SAME_EVIDENCE = 0.6
#: Similarity at which a stored incident is attached even to an incident that kept its own id (a merge).
NEAR_IDENTICAL = 0.9


def former_ids(old: Sequence[Mapping], new: Sequence[Mapping]) -> list[list[str]]:
    """For each new incident, the ids of the stored incidents it continues (for reviews to follow it).

    Parameters
    ----------
    old
        The stored incidents before re-extraction: ``id``, ``type``, ``article``, ``date``, ``location_id``,
        ``evidence``, ``background`` and their own ``former_ids``.
    new
        The incidents replacing them: the same fields and ``sources`` (each with ``article`` and ``evidence``).

    Returns
    -------
    list of list of str
        Per new incident, in order: the ids it replaces. An incident that keeps its id keeps its former ids; a
        stored incident whose id is gone is given to the best matching new incident that reports the same article
        with the same type and background flag, and either a similar evidence sentence (ratio at least
        :data:`SAME_EVIDENCE`) or the same date and place. Each new incident continues at most one vanished one,
        except when the vanished one's sentence reappears almost unchanged among its sources (a merge).
    """
    new = list(new)
    new_ids = {n["id"] for n in new}
    old_by_id = {o["id"]: o for o in old}
    out = [list(old_by_id[n["id"]].get("former_ids") or []) if n["id"] in old_by_id else [] for n in new]
    gone = [o for o in old if o["id"] not in new_ids]
    if not gone:
        return out
    by_article: dict[str, list[int]] = {}
    for j, n in enumerate(new):
        for src in n.get("sources") or [{"article": n.get("article"), "evidence": n.get("evidence")}]:
            by_article.setdefault(src.get("article"), []).append(j)
    pairs = []
    for i, o in enumerate(gone):
        for j in dict.fromkeys(by_article.get(o.get("article"), [])):
            n = new[j]
            if n["type"] != o["type"] or bool(n.get("background")) != bool(o.get("background")):
                continue
            sim = max(_similarity(o.get("evidence"), s.get("evidence"))
                      for s in n.get("sources") or [n] if s.get("article") == o.get("article"))
            same_date = o.get("date") is not None and o.get("date") == n.get("date")
            same_place = o.get("location_id") is not None and o.get("location_id") == n.get("location_id")
            if sim >= SAME_EVIDENCE or (same_date and same_place):
                pairs.append((sim + 0.25 * same_date + 0.25 * same_place, sim, i, j))
    pairs.sort(key=lambda p: (-p[0], p[2], p[3]))
    placed: set[int] = set()
    taken = {j for j, n in enumerate(new) if n["id"] in old_by_id}  # incidents that kept their id
    for _, _, i, j in pairs:  # one vanished incident to one new incident, best match first
        if i not in placed and j not in taken:
            placed.add(i)
            taken.add(j)
            out[j] += [gone[i]["id"], *(gone[i].get("former_ids") or [])]
    for _, sim, i, j in pairs:  # then merges: the same sentence now among another incident's sources
        if i not in placed and sim >= NEAR_IDENTICAL:
            placed.add(i)
            out[j] += [gone[i]["id"], *(gone[i].get("former_ids") or [])]
    return [list(dict.fromkeys(ids)) for ids in out]


def _similarity(a: str | None, b: str | None) -> float:
    # over words, not characters: two unrelated sentences share many letters but few words
    return SequenceMatcher(None, _WORD.findall((a or "").lower()), _WORD.findall((b or "").lower()),
                           autojunk=False).ratio()
