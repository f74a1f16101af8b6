"""Reading articles: text, Markdown and HTML files, their metadata, and the site boilerplate to drop.

Metadata comes, in order of authority, from YAML front matter, a sidecar file (``NAME.meta.yaml`` or
``NAME.meta.json`` beside ``NAME.txt``), the HTML head, the text itself (datelines such as
"PERU / 14 JUL 2014 BY JAMES BARGENT EN", "April 19, 2012", "Posted on April 25, 2019 by ..."), and last an
inference from the dates the article mentions, marked ``published_inferred``.

Every article is hostile input. Metadata the user supplies (front matter, sidecar, caller) is checked: bounded in
size, YAML without anchors or aliases (an alias bomb of a few hundred bytes would otherwise expand to gigabytes),
and each recognised value a scalar of bounded length; a bad value refuses that file with an :class:`ArticleError`
naming the file and the field. Values the page itself carries (the HTML head) are dropped with a warning instead.
Implausible publication dates are kept and flagged in :attr:`Article.warnings`. Inside a folder, symbolic links
that lead out of it are not followed.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import yaml

from dashboard import temporal
from dashboard.errors import ArticleError
from dashboard.language import article_language

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
MAX_BYTES = 20 * 1024 * 1024
#: Largest front matter block (characters) or sidecar metadata file (bytes).
MAX_META_BYTES = 16 * 1024
#: Longest metadata value (title, URL, outlet, author), in characters.
MAX_META_CHARS = 2000
#: Publication dates before this are kept but flagged as implausible for this corpus.
EARLIEST_PLAUSIBLE = date(1980, 1, 1)
# Nesting allowed in metadata YAML (front matter of other tools nests a little); deeper is refused, not recursed.
_MAX_YAML_DEPTH = 8
# Metadata keys read, and the Article field each one fills; every other key is ignored.
_TEXT_KEYS = {"title": "title", "url": "url", "outlet": "outlet", "source": "outlet", "author": "byline",
              "byline": "byline", "language": "language", "lang": "language"}
_DATE_KEYS = ("published", "date")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}")

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
    #: Things a reader should know that did not stop the article: an implausible date, a dropped head value.
    warnings: tuple[str, ...] = ()
    #: Language code given in the metadata (``en``, ``es``); None when none was given.
    language: str | None = None


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
        The file is missing, empty, binary, too large or in an encoding that cannot be told, or its metadata
        (front matter, sidecar, ``metadata``) breaks the rules in the module docstring.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ArticleError(f"{path.name}: file is {size / 1e6:.0f} MB, larger than the "
                               f"{MAX_BYTES // 2**20} MiB limit")
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)  # a device or a growing file is cut short, never read without end
    except OSError as exc:
        raise ArticleError(f"{path.name}: cannot read file ({exc.strerror or exc})") from exc
    sidecar = _sidecar(path)
    meta = {**sidecar, **_clean_meta(metadata or {}, path.name)}
    return parse_article(raw, path.name, meta, path=str(path))


def parse_article(raw: bytes, name: str, metadata: dict | None = None, path: str | None = None) -> Article:
    """Parse article bytes (the upload page and the CLI share this).

    Raises
    ------
    ArticleError
        As :func:`read_article`, and for metadata that breaks the rules (see the module docstring).
    """
    if len(raw) > MAX_BYTES:
        raise ArticleError(f"{name}: file is {len(raw) / 1e6:.0f} MB, larger than the {MAX_BYTES // 2**20} MiB limit")
    # Web text carries no-break and zero-width spaces; plain spaces keep matching and offsets simple.
    text = _decode(raw, name).replace("\xa0", " ").replace("\u200b", "")
    if not text.strip():
        raise ArticleError(f"{name}: file is empty")
    warnings: list[str] = []
    text, front = _front_matter(text, name)
    # Caller and sidecar metadata override the front matter; each is checked before it is merged.
    meta = {**_clean_meta(front, name), **_clean_meta(metadata or {}, name)}
    html_meta: dict = {}
    if name.lower().endswith((".html", ".htm")) or re.match(r"\s*(<!doctype html|<html)", text, re.IGNORECASE):
        text, html_meta = _html_to_text(text)
        html_meta = _clean_meta(html_meta, name, warnings)
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    head = _read_head(lines)
    outlet_guess = "InSight Crime" if "InSight Crime" in text and "HomeNewsBrief" in text[:400] else None
    body = _strip_boilerplate(lines, head.get("title"))
    if not body.strip():
        raise ArticleError(f"{name}: no article text left after removing page boilerplate")
    published, note = meta.get("published"), None
    inferred = False
    if published is None:
        published = html_meta.get("published") or head.get("published")
    if published is None:
        published, note = infer_publication_date(body)
        inferred = published is not None
    warnings += _date_warnings(published)
    url = meta.get("url") or html_meta.get("url")
    if url and not re.fullmatch(r"https?://\S+", url, re.IGNORECASE):
        # not a web address ("javascript:..."): it links nowhere, but it is no reason to lose the article
        warnings.append(f"url {url[:80]!r} is not a web address starting with http:// or https://; ignored")
        url = None
    return Article(
        name=name, text=body, title=meta.get("title") or html_meta.get("title") or head.get("title"),
        published=published, published_inferred=inferred, published_note=note,
        byline=meta.get("byline") or head.get("byline"),
        outlet=meta.get("outlet") or html_meta.get("outlet") or outlet_guess,
        url=url,
        content_hash=hashlib.sha256(raw).hexdigest(), path=path, meta=meta, warnings=tuple(warnings),
        language=article_language(body, meta, name))


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
    return date_from_corpus(articles), errors


def date_from_corpus(articles: list[Article], text: Callable[[Article], str] | None = None) -> list[Article]:
    """The articles, those whose dated anchor leaves several years open dated from the corpus's other articles.

    ``text(article)``, if given, reads the text of an article whose object carries none (kept aside while a
    large corpus is read).
    """
    articles = list(articles)
    years = [a.published.year for a in articles if a.published and not a.published_inferred]
    if years:
        prior = int(statistics.median(years))
        for i, art in enumerate(articles):
            if art.published is None or (art.published_note or "").startswith("election"):
                published, note = infer_publication_date(text(art) if text else art.text, prior_year=prior)
                if published:
                    kept = tuple(w for w in art.warnings if not w.startswith("publication date"))
                    articles[i] = replace(art, published=published, published_inferred=True, published_note=note,
                                          warnings=kept + tuple(_date_warnings(published)))
    return articles


def expand_paths(paths: Iterable[str | Path], errors: list[ReadError]) -> list[Path]:
    """Files named, and article files inside folders named (sorted); a missing path is an error.

    Inside folders, notes named in capitals (``README.md``, ``ATTRIBUTION.md``) are not articles, and a symbolic
    link (to a file or a folder) that leads outside the folder is not followed but reported: a corpus folder
    must not pull in ``/etc/passwd``. A file named explicitly is read wherever it leads.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            root = p.resolve()
            for f in sorted(p.rglob("*")):
                if f.name.startswith(".") or _is_folder_note(f):
                    continue
                is_article = f.suffix.lower() in SUFFIXES
                if not _leads_inside(f, root):
                    if is_article or f.is_dir():
                        errors.append(ReadError(str(f), f"{f.name}: a link leading outside the folder {p.name}; "
                                                        "not read (name the file itself to read it)"))
                    continue
                if is_article and f.is_file():
                    out.append(f)
        elif p.exists():
            out.append(p)
        else:
            errors.append(ReadError(str(p), f"{p}: no such file or folder"))
    return out


def _leads_inside(path: Path, root: Path) -> bool:
    """Whether ``path``, its links followed, stays inside the (resolved) folder ``root``."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a link loop
        return False


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
            dated.append(temporal.month_end(m.year, m.month))
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


class _RefusedYAML(yaml.YAMLError):
    """YAML that is well formed but not accepted as metadata."""


class _MetaLoader(yaml.SafeLoader):
    """PyYAML's safe loader for untrusted metadata: no anchors or aliases, shallow nesting, timestamps as text.

    Anchors and aliases are refused where the composer meets them, before any node is built, so an alias bomb
    costs nothing. Dates stay text so that :func:`_meta_date` can name a bad one (``2017-02-30``) in its message
    instead of PyYAML raising a bare ``ValueError``.
    """

    _depth = 0

    def compose_node(self, parent, index):  # noqa: D102 - PyYAML's hook
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _RefusedYAML("YAML anchors and aliases (&name, *name) are not accepted in metadata")
        self._depth += 1
        try:
            if self._depth > _MAX_YAML_DEPTH:
                raise _RefusedYAML("metadata is nested too deeply; give each key a plain value")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_MetaLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def _load_yaml(text: str) -> object:
    """Parse metadata YAML with :class:`_MetaLoader`; every failure is a :class:`yaml.YAMLError`."""
    try:
        return yaml.load(text, Loader=_MetaLoader)
    except (ValueError, OverflowError, RecursionError) as exc:
        # An integer longer than Python's digit limit, and the like: not a metadata value.
        raise _RefusedYAML(f"a value cannot be read ({exc.__class__.__name__})") from exc


def _front_matter(text: str, name: str) -> tuple[str, dict]:
    stripped = text.lstrip("\ufeff")
    start = re.match(r"---[ \t]*\r?\n", stripped)
    if not start:
        return text, {}
    end = re.search(r"^(---|\.\.\.)[ \t]*\r?$", stripped[start.end():], re.MULTILINE)
    if not end:
        return text, {}
    block = stripped[start.end():start.end() + end.start()]
    if len(block) > MAX_META_BYTES:
        raise ArticleError(f"{name}: front matter is larger than {MAX_META_BYTES // 1024} KiB")
    try:
        meta = _load_yaml(block) or {}
    except _RefusedYAML as exc:
        raise ArticleError(f"{name}: front matter refused: {exc}") from None
    except yaml.YAMLError as exc:
        raise ArticleError(f"{name}: malformed YAML front matter ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict):
        raise ArticleError(f"{name}: front matter is not a mapping of keys to values")
    return stripped[start.end() + end.end():], {str(k).lower(): v for k, v in meta.items()}


def _sidecar(path: Path) -> dict:
    """Checked metadata from ``NAME.meta.yaml`` / ``.meta.yml`` / ``.meta.json`` beside ``path``, if any."""
    for candidate in (path.with_suffix(".meta.yaml"), path.with_suffix(".meta.yml"), path.with_suffix(".meta.json")):
        if not candidate.exists():
            continue
        label = f"{path.name}: metadata file {candidate.name}"
        # The sidecar is found, not named: like a file in a folder, it may not lead elsewhere.
        if not _leads_inside(candidate, path.parent.resolve()):
            raise ArticleError(f"{label} is a link leading outside the article's folder; not read")
        if not candidate.is_file():
            raise ArticleError(f"{label} is not a regular file")
        try:
            with candidate.open("rb") as fh:
                data = fh.read(MAX_META_BYTES + 1)
        except OSError as exc:
            raise ArticleError(f"{label} cannot be read ({exc.strerror or exc})") from exc
        if len(data) > MAX_META_BYTES:
            raise ArticleError(f"{label} is larger than {MAX_META_BYTES // 1024} KiB")
        try:
            text = data.decode("utf-8")
            meta = json.loads(text) if candidate.suffix == ".json" else _load_yaml(text)
        except _RefusedYAML as exc:
            raise ArticleError(f"{label} refused: {exc}") from None
        except yaml.YAMLError as exc:
            raise ArticleError(f"{label} is malformed YAML ({exc.__class__.__name__})") from None
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ArticleError(f"{label} cannot be read ({exc.__class__.__name__})") from None
        if not isinstance(meta, dict):
            raise ArticleError(f"{label} is not a mapping of keys to values")
        return _clean_meta({str(k).lower(): v for k, v in meta.items()}, path.name)
    return {}


def _clean_meta(raw: dict, name: str, warnings: list[str] | None = None) -> dict:
    """Recognised metadata keys, checked, under their Article field names; other keys are ignored.

    Each value must be a scalar of at most :data:`MAX_META_CHARS` characters (numbers become text), a language a
    code such as ``es``, a date a real date; a URL that is no ``http(s)`` address is dropped later, with a warning.
    A bad value raises :class:`ArticleError` naming the file and the key; with ``warnings`` given (values read from
    the page itself) it is dropped and a warning appended instead.
    """
    out: dict = {}
    for key, value in raw.items():
        key = str(key).lower()
        if value is None or value == "" or (key not in _TEXT_KEYS and key not in _DATE_KEYS):
            continue
        try:
            if key in _DATE_KEYS:
                out.setdefault("published", _meta_date(key, value))
            else:
                out.setdefault(_TEXT_KEYS[key], _meta_text(key, value))
        except ArticleError as exc:
            if warnings is None:
                raise ArticleError(f"{name}: {exc}") from None
            warnings.append(f"{exc}; ignored")
    return out


def _meta_text(key: str, value: object) -> str:
    # bool is an int: "author: yes" is YAML for True, not a name.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ArticleError(f"{key} must be a single text value, not {_kind(value)}")
    text = str(value).strip()
    if len(text) > MAX_META_CHARS:
        raise ArticleError(f"{key} is {len(text)} characters long, more than the {MAX_META_CHARS} allowed")
    if _TEXT_KEYS[key] == "language":
        if not isinstance(value, str) or not _LANGUAGE.fullmatch(text):
            raise ArticleError(f"{key} must be a language code such as 'en' or 'es'")
        return text.lower().replace("_", "-")
    return text


def _meta_date(key: str, value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    label = "published" if key == "published" else f"published ({key})"
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ArticleError(f"{label} must be a date such as 2019-05-03, not {_kind(value)}")
    text = str(value).strip()
    if len(text) <= 64:
        for fmt in ("%Y-%m-%d", "%d %b %Y", "%d %B %Y", "%B %d, %Y", "%B %d %Y", "%b %d, %Y", "%b. %d, %Y"):
            try:
                return datetime.strptime(text[:10] if fmt == "%Y-%m-%d" else text, fmt).date()
            except ValueError:
                continue
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    shown = text if len(text) <= 40 else text[:40] + "..."
    raise ArticleError(f"{label} {shown!r} is not a date (use YYYY-MM-DD)")


def _kind(value: object) -> str:
    kinds = {list: "a list", tuple: "a list", dict: "a mapping", bool: "true/false", bytes: "binary data"}
    return kinds.get(type(value), f"a {type(value).__name__}")


def _date_warnings(published: date | None) -> list[str]:
    """Kept but flagged: a publication date before 1980 or after tomorrow is more likely a slip than news."""
    if published is None:
        return []
    if published < EARLIEST_PLAUSIBLE:
        return [f"publication date {published.isoformat()} is before {EARLIEST_PLAUSIBLE.year}; check it"]
    if published > date.today() + timedelta(days=1):
        return [f"publication date {published.isoformat()} is in the future; check it"]
    return []


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
