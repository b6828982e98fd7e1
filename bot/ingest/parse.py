"""Turn raw bytes (a file or a fetched feed) into cleaned ``ArticleIn`` records.

Whole-document problems (too large, binary, invalid UTF-8, malformed JSON/XML, HTML instead
of a feed, unsupported type) reject the document with one ``Rejection``; problems with one
item (a JSON line, a feed entry) reject only that item.
"""

from __future__ import annotations

import calendar
import io
import json
import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import feedparser

from bot.ingest.clean import clean_text, split_source_tag
from bot.ingest.lang import detect_language
from bot.ingest.urls import canonical_url
from store.clock import plausible_published
from store.models import ArticleIn, IngestBatch, Rejection

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 40
KINDS = {
    "txt": "txt",
    "json": "json",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "xml": "xml",
    "rss": "xml",
    "atom": "xml",
}
_TEXT_CONTROL_BYTES = frozenset(b"\t\n\r\f\x1b")
_BINARY_SAMPLE = 8192
_BINARY_RATIO = 0.10
_XML_ENCODING_RE = re.compile(
    rb"(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)"
)


class DocumentError(Exception):
    """The whole document is rejected; ``str(exc)`` is the one-line reason."""


class ItemError(Exception):
    """One item of a document is rejected; ``str(exc)`` is the one-line reason."""


# --- sizes, sniffing, decoding ---------------------------------------------------------------


def format_size(n: int) -> str:
    """Human size in decimal (SI) units: ``"512 B"``, ``"3.4 kB"``, ``"12.3 MB"``, ``"2 GB"``
    (1 MB = 1,000,000 bytes, so the default cap of 5,000,000 bytes reads ``5 MB``)."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            break
        size /= 1000
    text = f"{size:.1f}".removesuffix(".0") if unit != "B" else str(n)
    return f"{text} {unit}"


def too_large_reason(size: int, cap: int) -> str:
    """``"file too large (12.9 MB > cap 5 MB)"``; exact bytes when rounding hides the gap."""
    got, limit = format_size(size), format_size(cap)
    if got == limit:
        got, limit = f"{size} bytes", f"{cap} bytes"
    return f"file too large ({got} > cap {limit})"


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or more than 10% control bytes in the first 8 KB."""
    if b"\x00" in data:
        return True
    sample = data[:_BINARY_SAMPLE]
    controls = sum(1 for b in sample if (b < 0x20 and b not in _TEXT_CONTROL_BYTES) or b == 0x7F)
    return bool(sample) and controls / len(sample) > _BINARY_RATIO


def looks_like_html(data: bytes) -> bool:
    """True when the document starts like an HTML page rather than an XML feed."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    while head.startswith(b"<!--"):
        end = head.find(b"-->")
        if end < 0:
            break
        head = head[end + 3 :].lstrip()
    return head.startswith((b"<!doctype html", b"<html"))


def _check_document(data: bytes, kind: str, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise DocumentError(too_large_reason(len(data), max_bytes))
    if not data.strip():
        raise DocumentError("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError("unsupported encoding UTF-16 (save as UTF-8)")
    if looks_binary(data):
        raise DocumentError("binary file")
    if kind == "xml" and looks_like_html(data):
        raise DocumentError("not a feed (looks like HTML)")
    if kind != "xml" or _declared_xml_encoding(data) in ("", "utf-8", "utf8"):
        _decode(data)  # UTF-8 is required unless an XML declaration names another encoding


def _declared_xml_encoding(data: bytes) -> str:
    match = _XML_ENCODING_RE.match(data[:512])
    return match.group(1).decode("ascii").lower() if match else ""


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"invalid UTF-8 at byte {exc.start}") from None


# --- building articles ------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(clean_text(text).split())


def _own_link(url: str) -> str:
    """The article's link as published (stripped), when it is a usable http(s) URL; its
    canonical form is computed by the store, for deduplication only."""
    url = (url or "").strip()
    return url if canonical_url(url) else ""


def make_article(
    text: str,
    origin: str,
    *,
    title: str = "",
    url: str = "",
    source: str = "",
    published: datetime | None = None,
) -> ArticleIn:
    """Clean and check one article; raises ``ItemError`` when it must be rejected.

    A trailing source tag is split off the text and used when ``source`` is empty.
    """
    body, tag = split_source_tag(clean_text(text))
    if not body:
        raise ItemError("empty after cleaning")
    if len(body) < MIN_TEXT_CHARS:
        raise ItemError(f"too short ({len(body)} chars after cleaning, min {MIN_TEXT_CHARS})")
    lang, confidence = detect_language(body)
    return ArticleIn(
        text=body,
        title=_one_line(title),
        url=_own_link(url),
        source=_one_line(source) or tag,
        published=published,
        lang=lang,
        lang_confidence=confidence,
        origin=origin,
    )


# --- dates ---------------------------------------------------------------------------------


def _from_epoch(value: float) -> datetime | None:
    if not math.isfinite(value):
        return None
    if abs(value) > 1e11:  # milliseconds since the epoch
        value /= 1000
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_published(value: object) -> datetime | None:
    """ISO-8601 (``Z``/offset; naive = UTC), RFC 2822 or epoch seconds/ms -> aware UTC.

    ``None`` when absent, unreadable or implausible (before 1970-01-02, a negative epoch,
    more than two days ahead): the article's date is then unknown."""
    return plausible_published(_parse_any_date(value))


def _parse_any_date(value: object) -> datetime | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value)) if abs(value) < 1e300 else None  # huge JSON ints
    if not isinstance(value, str) or not value.strip():
        return None
    raw = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            try:
                return _from_epoch(float(raw))
            except ValueError:
                return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00:00+05:00"
        return None


# --- .txt --------------------------------------------------------------------------------------


def _parse_txt(data: bytes, origin: str) -> IngestBatch:
    try:
        article = make_article(_decode(data), origin)
    except ItemError as exc:
        raise DocumentError(str(exc)) from None
    return IngestBatch(articles=[article])


# --- .json / .jsonl -------------------------------------------------------------------------------


def _str_field(obj: Mapping[str, Any], *names: str) -> str:
    """First string value among ``names`` (non-string values count as absent)."""
    for name in names:
        value = obj.get(name)
        if isinstance(value, str):
            return value
    return ""


def _json_article(obj: object, origin: str) -> ArticleIn:
    if not isinstance(obj, dict):
        raise ItemError(f"not an object (got {type(obj).__name__})")
    if "text" not in obj or obj["text"] is None:
        raise ItemError("missing 'text'")
    if not isinstance(obj["text"], str):
        raise ItemError(f"'text' must be a string (got {type(obj['text']).__name__})")
    return make_article(
        obj["text"],
        origin,
        title=_str_field(obj, "title"),
        url=_str_field(obj, "url", "link"),
        source=_str_field(obj, "source"),
        published=parse_published(obj.get("published")),
    )


def _add_json_item(batch: IngestBatch, label: str, obj: object, origin: str) -> None:
    try:
        batch.articles.append(_json_article(obj, origin))
    except ItemError as exc:
        batch.rejected.append(Rejection(origin, f"{label}: {exc}"))


def _json_error(exc: json.JSONDecodeError, where: str) -> str:
    """``"Expecting value at column 3"`` (some messages already end in "at")."""
    return f"{exc.msg} {where}" if exc.msg.endswith(" at") else f"{exc.msg} at {where}"


TOO_MANY_DIGITS = "a number has too many digits"
TOO_DEEP = "nested too deeply"


def _parse_json(data: bytes, origin: str) -> IngestBatch:
    try:
        doc = json.loads(_decode(data))
    except json.JSONDecodeError as exc:
        reason = f"malformed JSON: {_json_error(exc, f'line {exc.lineno} column {exc.colno}')}"
        raise DocumentError(reason) from None
    except ValueError:  # an integer past Python's digit limit
        raise DocumentError(f"malformed JSON: {TOO_MANY_DIGITS}") from None
    except RecursionError:  # e.g. a million "[": the decoder recurses per level
        raise DocumentError(f"malformed JSON: {TOO_DEEP}") from None
    batch = IngestBatch()
    if isinstance(doc, dict):
        _add_json_item(batch, "JSON object", doc, origin)
    elif isinstance(doc, list):
        for number, obj in enumerate(doc, 1):
            _add_json_item(batch, f"JSON item {number}", obj, origin)
    else:
        raise DocumentError("JSON must be an object or a list of objects")
    return batch


def _parse_jsonl(data: bytes, origin: str) -> IngestBatch:
    batch = IngestBatch()
    # split("\n"), not splitlines(): U+2028 and friends are legal inside JSON strings.
    for number, line in enumerate(_decode(data).split("\n"), 1):
        if not line.strip():
            continue
        label = f"JSON line {number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            reason = f"{label}: malformed JSON: {_json_error(exc, f'column {exc.colno}')}"
            batch.rejected.append(Rejection(origin, reason))
            continue
        except ValueError:  # an integer past Python's digit limit
            batch.rejected.append(Rejection(origin, f"{label}: malformed JSON: {TOO_MANY_DIGITS}"))
            continue
        except RecursionError:
            batch.rejected.append(Rejection(origin, f"{label}: malformed JSON: {TOO_DEEP}"))
            continue
        _add_json_item(batch, label, obj, origin)
    return batch


# --- RSS / Atom -----------------------------------------------------------------------------


def _entry_published(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        # dict.get: no feedparser fallback from a missing key to the other (and its warning)
        parsed = dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)
        if parsed:
            try:
                moment = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, OSError, ValueError):
                continue
            if plausible_published(moment) is not None:
                return moment
    return None


def _entry_text(entry: Mapping[str, Any]) -> str:
    """The longest of the entry's content blocks and summary (raw HTML)."""
    candidates = [c.get("value", "") for c in entry.get("content", []) or []]
    candidates.append(entry.get("summary", "") or "")
    return max(candidates, key=len)


def _feed_source(feed: Mapping[str, Any], origin: str) -> str:
    title = _one_line(feed.get("title", "") or "")
    if title:
        return title
    for url in (feed.get("link", "") or "", origin):
        host = urlsplit(url).hostname if "://" in url else None
        if host:
            return host.removeprefix("www.")
    return ""


def _bozo_message(exc: BaseException) -> str:
    """One line from feedparser's bozo exception (SAX errors get line/column)."""
    get_message = getattr(exc, "getMessage", None)
    get_line = getattr(exc, "getLineNumber", None)
    get_column = getattr(exc, "getColumnNumber", None)
    if callable(get_message) and callable(get_line) and callable(get_column):
        return f"{get_message()} at line {get_line()}, column {get_column()}"
    return " ".join(str(exc).split()) or type(exc).__name__


def _parse_feed(
    data: bytes, origin: str, response_headers: Mapping[str, str] | None = None
) -> IngestBatch:
    """A feed; ``response_headers`` are the HTTP headers it came with (feedparser reads the
    Content-Type and the charset from them: without them every fetched feed is flagged
    not well-formed, and a valid feed with no items would be rejected as malformed)."""
    headers = {k.lower(): v for k, v in (response_headers or {}).items()}
    if origin.startswith(("http://", "https://")):
        headers["content-location"] = origin
    # A BytesIO, never bytes/str: feedparser would treat a short str/bytes as a path or URL.
    try:
        parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    except (ValueError, OverflowError):  # the loose parser on e.g. "&#xD800;"
        raise DocumentError("malformed XML: invalid character reference") from None
    entries = parsed.get("entries", [])
    bozo = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(bozo, feedparser.NonXMLContentType) and parsed.get("version"):
        bozo = None  # served as text/plain or similar, but a well-formed feed all the same
    if not entries:
        if bozo is not None:
            raise DocumentError(f"malformed XML: {_bozo_message(bozo)}")
        if not parsed.get("version"):
            raise DocumentError("not a feed (no RSS or Atom root element)")
    elif bozo is not None:
        log.warning("%s: feed is not well-formed (%s); kept %d entries", origin, bozo, len(entries))
    source = _feed_source(parsed.get("feed", {}), origin)
    batch = IngestBatch()
    for number, entry in enumerate(entries, 1):
        try:
            batch.articles.append(_entry_article(entry, origin, source))
        except ItemError as exc:
            title = _one_line(entry.get("title", "") or "")[:60]
            label = f"entry {number} ({title!r})" if title else f"entry {number}"
            batch.rejected.append(Rejection(origin, f"{label}: {exc}"))
    return batch


def _entry_article(entry: Mapping[str, Any], origin: str, source: str) -> ArticleIn:
    return make_article(
        _entry_text(entry),
        origin,
        title=entry.get("title", "") or "",
        url=entry.get("link", "") or "",
        source=source,
        published=_entry_published(entry),
    )


# --- dispatch -----------------------------------------------------------------------------


_PARSERS = {"txt": _parse_txt, "json": _parse_json, "jsonl": _parse_jsonl, "xml": _parse_feed}


def kind_for(origin: str, kind: str | None = None) -> str:
    """Normalised kind ("txt", "json", "jsonl", "xml") or raise ``DocumentError``."""
    if kind is not None:
        normalised = KINDS.get(kind.lower().lstrip("."))
        if normalised is None:
            raise DocumentError(f"unsupported file type {kind!r}")
        return normalised
    path = urlsplit(origin).path if "://" in origin else origin
    suffix = PurePosixPath(path.replace("\\", "/")).suffix.lower()
    normalised = KINDS.get(suffix.lstrip("."))
    if normalised is None:
        raise DocumentError(f"unsupported file type {suffix or '(no extension)'}")
    return normalised


def parse_document(
    data: bytes,
    origin: str,
    *,
    kind: str | None = None,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
) -> IngestBatch:
    """Like ``parse_bytes`` but raises ``DocumentError`` for a whole-document rejection.

    ``headers``: the HTTP response headers of a fetched feed."""
    resolved = kind_for(origin, kind)
    _check_document(data, resolved, max_bytes)
    if resolved == "xml":
        return _parse_feed(data, origin, headers)
    return _PARSERS[resolved](data, origin)


def parse_bytes(
    data: bytes, origin: str, *, kind: str | None = None, max_bytes: int
) -> IngestBatch:
    """Parse a .txt/.json/.jsonl/.xml(.rss/.atom) document; never raises for bad input.

    ``kind`` overrides the type taken from ``origin``'s extension.
    """
    try:
        return parse_document(data, origin, kind=kind, max_bytes=max_bytes)
    except DocumentError as exc:
        return IngestBatch(rejected=[Rejection(origin, str(exc))])


def read_file(path: str | Path, *, max_bytes: int) -> IngestBatch:
    """Read and parse one file; the size is checked before reading."""
    origin = str(path)
    try:
        kind = kind_for(origin)
        data = _read_capped(Path(path), max_bytes)
    except DocumentError as exc:
        return IngestBatch(rejected=[Rejection(origin, str(exc))])
    return parse_bytes(data, origin, kind=kind, max_bytes=max_bytes)


def _read_capped(path: Path, max_bytes: int) -> bytes:
    try:
        if not path.is_file():
            raise DocumentError("not a file" if path.exists() else "file not found")
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(too_large_reason(size, max_bytes))
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise DocumentError(f"file too large (> cap {format_size(max_bytes)})")
    return data
