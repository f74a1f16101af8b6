"""Reading articles: text, Markdown and HTML files, their metadata, and the site boilerplate to drop.

Metadata comes, in order of authority, from YAML front matter, a sidecar file (``NAME.meta.yaml`` or
``NAME.meta.json`` beside ``NAME.txt``), the HTML head, the text itself (datelines such as
"PERU / 14 JUL 2014 BY JAMES BARGENT EN", "April 19, 2012", "Posted on April 25, 2019 by ..."), and last an
inference from the dates the article mentions, marked ``published_inferred``.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import yaml

from dashboard import temporal
from dashboard.errors import ArticleError

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
MAX_BYTES = 20 * 1024 * 1024

# A line that starts any of these ends the article: what follows is the site's furniture.
_END_MARKERS = re.compile(
    r"^(share icon|was this content helpful\?|related content$|related posts?$|investigations$|tags$|"
    r"read the remainder at|one thought on|\d+ thoughts? on|comments are closed|leave a reply|share this:|"
    r"about insight crime$|what are your thoughts\?|we encourage readers to copy|donate$|"
    r"subscribe to our newsletter|you may also like|more from )", re.IGNORECASE)
# Single lines to drop wherever they stand.
_NOISE = re.compile(
    r"^(see also:|brief$|news$|analysis$|home\s*news|photo:|image:|foto:|\S+-\S+-\S+$|advertisement$)",
    re.IGNORECASE)
_DATELINE = re.compile(
    r"^(?P<topic>[A-Z][A-Z .,&'-]+?)\s*/\s*(?P<date>\d{1,2}\s+[A-Z]{3}\s+\d{4})"
    r"(?:\s+BY\s+(?P<by>.+?))?(?:\s+(?:EN|ES|PT))?\s*$")
_POSTED = re.compile(r"^(?:Posted|Published)(?: on)?\s+(?P<date>[A-Z][a-z]+\.? \d{1,2},? \d{4})"
                     r"(?:\s+by\s+(?P<by>.+))?$", re.IGNORECASE)
_PLAIN_DATE = re.compile(r"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?(?P<date>[A-Z][a-z]+\.? \d{1,2},? \d{4}"
                         r"|\d{1,2} [A-Z][a-z]+ \d{4}|\d{4}-\d\d-\d\d)$")
_BYLINE = re.compile(r"^By\s+(?P<by>[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,4})$")

# Datable public events a text may lean on when it gives no year: Peru's general-election first rounds.
_ELECTION_FIRST_ROUNDS = [date(2001, 4, 8), date(2006, 4, 9), date(2011, 4, 10), date(2016, 4, 10),
                          date(2021, 4, 11), date(2026, 4, 12)]
_ELECTION_RE = re.compile(r"\b(first round of|round of)?\s*Peru(?:'s|’s)? (?:presidential|general) elections?",
                          re.IGNORECASE)


@dataclass(frozen=True)
class Article:
    """One article, cleaned. Evidence offsets of its incidents index into :attr:`text`."""

    name: str
    text: str
    title: str | None = None
    published: date | None = None
    published_inferred: bool = False
    published_note: str | None = None
    byline: str | None = None
    outlet: str | None = None
    url: str | None = None
    content_hash: str = ""
    path: str | None = None
    meta: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ReadError:
    """An article that could not be read, and why."""

    path: str
    reason: str


def read_article(path: str | Path, metadata: dict | None = None) -> Article:
    """Read one article file.

    Parameters
    ----------
    path
        A ``.txt``, ``.md`` or ``.html`` file.
    metadata
        Metadata given by the caller (publication date, URL, outlet, title); it overrides everything else.

    Raises
    ------
    ArticleError
        The file is missing, empty, binary, too large or in an encoding that cannot be told.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"{path.name}: cannot read file ({exc.strerror or exc})") from exc
    sidecar = _sidecar(path)
    meta = {**sidecar, **(metadata or {})}
    return parse_article(raw, path.name, meta, path=str(path))


def parse_article(raw: bytes, name: str, metadata: dict | None = None, path: str | None = None) -> Article:
    """Parse article bytes (the upload page and the CLI share this)."""
    if len(raw) > MAX_BYTES:
        raise ArticleError(f"{name}: file is {len(raw) / 1e6:.0f} MB, larger than the {MAX_BYTES // 2**20} MiB limit")
    # Web text carries no-break and zero-width spaces; plain spaces keep matching and offsets simple.
    text = _decode(raw, name).replace("\xa0", " ").replace("\u200b", "")
    if not text.strip():
        raise ArticleError(f"{name}: file is empty")
    meta: dict = {}
    text, front = _front_matter(text, name)
    meta.update(front)
    meta.update({k: v for k, v in (metadata or {}).items() if v not in (None, "")})
    html_meta: dict = {}
    if name.lower().endswith((".html", ".htm")) or re.match(r"\s*(<!doctype html|<html)", text, re.IGNORECASE):
        text, html_meta = _html_to_text(text)
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    head = _read_head(lines)
    outlet_guess = "InSight Crime" if "InSight Crime" in text and "HomeNewsBrief" in text[:400] else None
    body = _strip_boilerplate(lines, head.get("title"))
    if not body.strip():
        raise ArticleError(f"{name}: no article text left after removing page boilerplate")
    published, note = _as_date(meta.get("published") or meta.get("date"), name), None
    inferred = False
    if published is None:
        published = _as_date(html_meta.get("published"), name) or head.get("published")
    if published is None:
        published, note = infer_publication_date(body)
        inferred = published is not None
    return Article(
        name=name, text=body, title=meta.get("title") or html_meta.get("title") or head.get("title"),
        published=published, published_inferred=inferred, published_note=note,
        byline=meta.get("author") or meta.get("byline") or head.get("byline"),
        outlet=meta.get("outlet") or meta.get("source") or html_meta.get("outlet") or outlet_guess,
        url=meta.get("url") or html_meta.get("url"),
        content_hash=hashlib.sha256(raw).hexdigest(), path=path, meta=meta)


def read_corpus(paths: Iterable[str | Path]) -> tuple[list[Article], list[ReadError]]:
    """Read files and folders of articles; unreadable ones are reported, the others still read.

    An article with no year in its text gets its year from the corpus's other articles where a dated anchor
    (an election) leaves several years open.
    """
    articles: list[Article] = []
    errors: list[ReadError] = []
    for path in expand_paths(paths, errors):
        try:
            articles.append(read_article(path))
        except ArticleError as exc:
            errors.append(ReadError(str(path), str(exc)))
    years = [a.published.year for a in articles if a.published and not a.published_inferred]
    if years:
        prior = int(statistics.median(years))
        for i, art in enumerate(articles):
            if art.published is None or (art.published_note or "").startswith("election"):
                published, note = infer_publication_date(art.text, prior_year=prior)
                if published:
                    articles[i] = replace(art, published=published, published_inferred=True, published_note=note)
    return articles, errors


def expand_paths(paths: Iterable[str | Path], errors: list[ReadError]) -> list[Path]:
    """Files named, and article files inside folders named (sorted); a missing path is an error.

    Inside folders, notes named in capitals (``README.md``, ``ATTRIBUTION.md``) are not articles.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES
                          and not f.name.startswith(".") and not _is_folder_note(f))
        elif p.exists():
            out.append(p)
        else:
            errors.append(ReadError(str(p), f"{p}: no such file or folder"))
    return out


def _is_folder_note(path: Path) -> bool:
    # README.md, ATTRIBUTION.md, LICENSE.txt beside the articles describe the folder; they are not articles.
    stem = path.name.split(".")[0]
    return stem.isupper() and stem.isalpha()


def infer_publication_date(text: str, prior_year: int | None = None) -> tuple[date | None, str | None]:
    """Infer a reference date for an undated article from the dates it mentions.

    The article was written after the latest fully dated event it mentions; year-less dates ("March 18") that
    it reports as news fall after that, so they are rolled forward past it. With no year at all, an anchor
    such as "Peru's presidential elections" narrows the year to an election year (the one nearest
    ``prior_year`` when given).
    """
    mentions = temporal.find_dates(text)
    dated: list[date] = []
    for m in mentions:
        if m.kind in ("day", "range") and m.year:
            dated.append(date(m.year, m.month, m.day))
        elif m.kind == "month" and m.year:
            dated.append(temporal._month_end(m.year, m.month))
        elif m.kind == "year" and m.year <= date.today().year:
            dated.append(date(m.year, 12, 31) if m.year < date.today().year else date.today())
    yearless = [(m.month2 or m.month, m.day2 or m.day) for m in mentions
                if m.kind in ("day", "range") and not m.year and m.month]
    if dated:
        latest = max(dated)
        candidates = []
        for month, day in yearless:
            for year in (latest.year, latest.year + 1):
                try:
                    d = date(year, month, day)
                except ValueError:
                    continue
                if d >= latest:
                    candidates.append(d)
                    break
        ref = max([latest, *candidates])
        return ref, f"after the latest date the article mentions ({ref.isoformat()})"
    if yearless or any(m.kind == "month" for m in mentions):
        anchor = _ELECTION_RE.search(text)
        if anchor:
            options = [e for e in _ELECTION_FIRST_ROUNDS if e <= date.today()]
            pick = min(options, key=lambda e: abs(e.year - prior_year)) if prior_year else options[-1]
            latest = pick
            for month, day in yearless:
                try:
                    latest = max(latest, date(pick.year, month, day))
                except ValueError:
                    continue
            basis = f"nearest the corpus's median year {prior_year}" if prior_year else "the latest"
            return latest, f"election year from 'Peru's presidential elections' ({basis}); latest date mentioned"
    return None, None


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ArticleError(f"{name}: invalid UTF-16 text") from exc
    sample = raw[:8192]
    if b"\x00" in sample or sum(b < 9 or 13 < b < 32 for b in sample) > len(sample) * 0.05:
        raise ArticleError(f"{name}: looks like a binary file, not an article")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Windows-1252 is what older news sites and Word exports use; accept it only if the result reads as text.
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"{name}: not UTF-8, and not Windows-1252 either; re-save the file as UTF-8") from exc
    letters = sum(ch.isalpha() or ch.isspace() for ch in text)
    if letters < 0.8 * len(text):
        raise ArticleError(f"{name}: text encoding not recognised (not UTF-8); re-save the file as UTF-8")
    return text


def _front_matter(text: str, name: str) -> tuple[str, dict]:
    stripped = text.lstrip("\ufeff")
    if not stripped.startswith("---"):
        return text, {}
    end = re.search(r"^(---|\.\.\.)\s*$", stripped[3:], re.MULTILINE)
    if not end:
        return text, {}
    try:
        meta = yaml.safe_load(stripped[3:3 + end.start()]) or {}
    except yaml.YAMLError as exc:
        raise ArticleError(f"{name}: malformed YAML front matter ({exc.__class__.__name__})") from exc
    if not isinstance(meta, dict):
        raise ArticleError(f"{name}: front matter is not a mapping of keys to values")
    return stripped[3 + end.end():], {str(k).lower(): v for k, v in meta.items()}


def _sidecar(path: Path) -> dict:
    for candidate in (path.with_suffix(".meta.yaml"), path.with_suffix(".meta.yml"), path.with_suffix(".meta.json")):
        if candidate.exists():
            try:
                text = candidate.read_text(encoding="utf-8")
                meta = json.loads(text) if candidate.suffix == ".json" else yaml.safe_load(text)
            except (OSError, ValueError, yaml.YAMLError) as exc:
                raise ArticleError(f"{path.name}: unreadable metadata file {candidate.name} ({exc})") from exc
            if not isinstance(meta, dict):
                raise ArticleError(f"{path.name}: metadata file {candidate.name} is not a mapping")
            return {str(k).lower(): v for k, v in meta.items()}
    return {}


def _as_date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d %b %Y", "%d %B %Y", "%B %d, %Y", "%B %d %Y", "%b %d, %Y", "%b. %d, %Y"):
        try:
            return datetime.strptime(text[:10] if fmt == "%Y-%m-%d" else text, fmt).date()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise ArticleError(f"{name}: publication date {value!r} is not a date (use YYYY-MM-DD)") from None


def _read_head(lines: list[str]) -> dict:
    """Title, publication date and byline from the first lines of a text."""
    out: dict = {}
    nonempty = [ln for ln in lines[:40] if ln]
    if nonempty:
        first = nonempty[0]
        # "HomeNewsBriefPolice Killed ..." is a breadcrumb glued to the title that a later line repeats.
        repeat = next((ln for ln in nonempty[1:6] if len(ln) > 15 and first.endswith(ln)), None)
        out["title"] = repeat or (first if len(first) < 200 and not first.endswith(".") else None)
    for ln in nonempty[:15]:
        m = _DATELINE.match(ln)
        if m:
            out["published"] = datetime.strptime(m["date"].title(), "%d %b %Y").date()
            if m["by"]:
                out["byline"] = m["by"].strip().title()
            break
        m = _POSTED.match(ln) or _PLAIN_DATE.match(ln)
        if m:
            for fmt in ("%B %d, %Y", "%B %d %Y", "%b %d, %Y", "%b. %d, %Y", "%d %B %Y", "%Y-%m-%d"):
                try:
                    out["published"] = datetime.strptime(m["date"], fmt).date()
                    break
                except ValueError:
                    continue
            if m.groupdict().get("by"):
                out["byline"] = m["by"].strip()
            if "published" in out:
                break
        m = _BYLINE.match(ln)
        if m and "byline" not in out:
            out["byline"] = m["by"]
    return out


def _strip_boilerplate(lines: list[str], title: str | None) -> str:
    """The article's paragraphs: head furniture, datelines and everything after an end marker removed."""
    kept: list[str] = []
    for i, ln in enumerate(lines):
        if _END_MARKERS.match(ln):
            break
        if i < 12 and (ln.startswith("HomeNews") or _DATELINE.match(ln) or _POSTED.match(ln)
                       or _PLAIN_DATE.match(ln) or _BYLINE.match(ln) or (title and ln == title)):
            continue
        if _NOISE.match(ln):
            continue
        kept.append(ln)
    text = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


class _HTMLText(HTMLParser):
    _SKIP = {"script", "style", "nav", "footer", "aside", "form", "noscript", "header", "svg", "button"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "article", "section", "tr", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict = {}
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in self._SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "meta":
            key = (a.get("property") or a.get("name") or "").lower()
            mapping = {"og:title": "title", "article:published_time": "published", "og:url": "url",
                       "og:site_name": "outlet", "date": "published", "pubdate": "published"}
            if key in mapping and a.get("content"):
                self.meta.setdefault(mapping[key], a["content"])
        elif tag == "link" and a.get("rel") == "canonical" and a.get("href"):
            self.meta.setdefault("url", a["href"])
        elif tag == "time" and a.get("datetime"):
            self.meta.setdefault("published", a["datetime"])
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.meta.setdefault("title", data.strip())
        elif not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def _html_to_text(html: str) -> tuple[str, dict]:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = "\n".join(ln.strip() for ln in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text), parser.meta
