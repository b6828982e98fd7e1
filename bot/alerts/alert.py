"""The platform-neutral alert: an article and its matches -> an ``Alert`` (title, snippet,
keywords, source, time, link), already in display form. Each platform's formatter
(``handlers/*/format.py``) turns it into a message with the toolkit in ``bot.alerts.fitting``.

Pure functions: no I/O, no platform imports. Every user-visible word comes from the message
catalog (``bot/alerts/locales``); only punctuation lives here. An untitled article's first
sentence is its title; the snippet is about ``SNIPPET_LIMIT`` characters around the first
match, cut at word boundaries with ``…``; times are shown in the configured zone (WIB, WITA,
WIT by their Indonesian names).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.alerts.fitting import (
    NON_SPACE_RE,
    TRAILING,
    Span,
    clip_spans,
    collapse_whitespace,
    merge_spans,
    shorten,
    snippet_window,
)
from bot.alerts.i18n import resolve_language, t
from bot.alerts.sentence import ELLIPSIS, first_sentence
from store.models import Article

DEFAULT_TIMEZONE = "Asia/Jakarta"
# Official Indonesian zone names; other zones use zoneinfo's own abbreviation (%Z).
ZONE_ABBREVIATIONS: Mapping[str, str] = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}

# Wire-service and outlet tags (the trailing "(ant)" of a wire text) -> the name readers
# know. Matched case-insensitively on the tag, or its part before "/" ("ant/ida": an editor's
# initials after the slash); an unknown tag is shown as written.
SOURCE_NAMES: Mapping[str, str] = {
    "ant": "Antara",
    "antara": "Antara",
    "afp": "AFP",
    "ap": "AP",
    "rtr": "Reuters",
    "reuters": "Reuters",
    "xinhua": "Xinhua",
    "yonhap": "Yonhap",
    "kyodo": "Kyodo",
    "bernama": "Bernama",
    "bbc": "BBC",
}

TITLE_LIMIT = 140  # characters, ellipsis included
SNIPPET_LIMIT = 240  # characters of body text around the first match
SOURCE_LIMIT = 100


@dataclass(frozen=True)
class Mention:
    """Another outlet that reported the story: its display name and link (may be "")."""

    name: str
    url: str = ""


ALSO_LIMIT = 8  # other sources named on the "Juga diberitakan:" line; then "+N"


@dataclass(frozen=True)
class Alert:
    """Everything a formatter needs, platform-neutral, already in display form."""

    language: str  # "id" or "en"
    keywords: tuple[str, ...]  # every matched keyword query, in order
    title: str
    snippet: str  # body text around the first match, "…" at cut ends
    highlights: tuple[Span, ...] = ()  # match spans inside ``snippet``, merged, sorted
    source: str = ""
    published: str = ""  # display string, e.g. "13 Sep 2023 14:05 WIB"
    url: str = ""  # as given; formatters link it only when it is a safe http(s) URL
    title_highlights: tuple[Span, ...] = ()  # match spans inside ``title``
    received: bool = False  # no publication date: ``published`` is the time it was received
    also: tuple[Mention, ...] = ()  # other outlets of the story (at most ALSO_LIMIT)
    also_more: int = 0  # further outlets, shown as "+N"
    reply: bool = False  # a short reply to the story's first message (its edit was refused)

    @property
    def date_label(self) -> str:
        """The catalog key labelling ``published``: ``Terbit:`` or, undated, ``Diterima:``."""
        return "alert.received" if self.received else "alert.published"


# ---------------------------------------------------------------- building an Alert


def build_alert(
    article: Article,
    keywords: Sequence[str],
    spans: Sequence[Span],
    title_spans: Sequence[Span] = (),
    *,
    language: str,
    timezone: str = DEFAULT_TIMEZONE,
) -> Alert:
    """The alert for ``article``: ``spans`` index ``article.text``, ``title_spans`` the title.

    Raises ``zoneinfo.ZoneInfoNotFoundError`` for an unknown ``timezone``.
    """
    language = resolve_language(language)
    body, spans = article.text, list(spans)
    if article.title.strip():
        title, title_highlights = _alert_title(article, title_spans)
    else:
        title, title_highlights, cut = _title_from_text(article.text, spans)
        body, spans = body[cut:], [(a - cut, b - cut) for a, b in spans if a >= cut]
    snippet, highlights = make_snippet(body, spans)
    source, _ = shorten(source_name(article.source), (), SOURCE_LIMIT - 1)
    return Alert(
        language=language,
        keywords=_unique(keywords),
        title=title or t(language, "alert.no_title"),
        snippet=snippet,
        highlights=highlights,
        source=source,
        published=format_time(article.published or article.ingested_at, language, timezone),
        url=(article.url or "").strip(),
        title_highlights=title_highlights,
        received=article.published is None,
    )


def source_name(source: str) -> str:
    """``"ant"`` -> ``"Antara"`` (``SOURCE_NAMES``); any other source as written."""
    source = " ".join(source.split())
    key = source.lower()
    return SOURCE_NAMES.get(key) or SOURCE_NAMES.get(
        key.split("/", 1)[0] if "/" in key else "", source
    )


def make_snippet(
    text: str, spans: Sequence[Span], limit: int = SNIPPET_LIMIT
) -> tuple[str, tuple[Span, ...]]:
    """About ``limit`` characters of ``text`` around the first span, cut at word boundaries.

    Whitespace runs (line breaks included) become one space; cut ends get ``…``. Returns the
    snippet and the spans that fall inside it, moved to snippet offsets and merged. Without
    spans the snippet is the start of the text.
    """
    spans = merge_spans(spans, len(text))
    if not NON_SPACE_RE.search(text):
        return "", ()
    start, end = snippet_window(text, spans[0] if spans else (0, 0), limit)
    body, marks = collapse_whitespace(text[start:end], clip_spans(spans, start, end))
    if NON_SPACE_RE.search(text, end):
        body = body.rstrip(TRAILING)
        marks = merge_spans(marks, len(body))
        body += ELLIPSIS
    if NON_SPACE_RE.search(text, 0, start):
        body = ELLIPSIS + body
        marks = [(a + 1, b + 1) for a, b in marks]
    return body, tuple(marks)


def format_time(moment: datetime, language: str, timezone: str = DEFAULT_TIMEZONE) -> str:
    """``moment`` in ``timezone`` as ``13 Sep 2023 14:05 WIB`` (id) / ``13 Sep 2023, 14:05 WIB``.

    A naive ``moment`` is taken as UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(timezone))
    zone = ZONE_ABBREVIATIONS.get(timezone) or local.strftime("%Z") or timezone
    return t(
        language,
        "alert.datetime",
        day=local.day,
        month=t(language, f"month.short.{local.month}"),
        year=local.year,
        time=f"{local:%H:%M}",
        zone=zone,
    )


def _title_from_text(text: str, spans: Sequence[Span]) -> tuple[str, tuple[Span, ...], int]:
    """An untitled article (the wire's .txt shape): its first sentence is the title, with its
    matches highlighted, and the snippet continues after it instead of repeating it. Returns
    (title, title highlights, offset in text where the rest begins)."""
    title = first_sentence(text, TITLE_LIMIT)
    lead = len(text) - len(text.lstrip())
    sentence = title.removesuffix(ELLIPSIS)
    if not sentence or not text.startswith(sentence, lead):
        return title, (), 0
    cut = lead + len(sentence)  # a cut title: the snippet picks up where it stops
    if not NON_SPACE_RE.search(text, cut):  # a one-sentence article: said once, as the title
        cut = len(text)
    marks = [(a - lead, b - lead) for a, b in merge_spans(spans, len(text)) if b <= cut]
    return title, tuple(marks), cut


def _alert_title(article: Article, title_spans: Sequence[Span]) -> tuple[str, tuple[Span, ...]]:
    title, marks = collapse_whitespace(article.title or "", title_spans)
    if not title:
        return first_sentence(article.text, TITLE_LIMIT), ()
    title, marks = shorten(title, marks, TITLE_LIMIT - 1)
    return title, tuple(marks)


def _unique(keywords: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(keywords, str):
        keywords = (keywords,)
    cleaned = (" ".join(str(k).split()) for k in keywords)
    return tuple(dict.fromkeys(k for k in cleaned if k))


def alert_fields(alert: Alert) -> dict[str, tuple[str, Sequence[Span]]]:
    title = alert.title.strip() or t(alert.language, "alert.no_title")
    return {
        "title": (title, merge_spans(alert.title_highlights, len(title))),
        "snippet": (alert.snippet, merge_spans(alert.highlights, len(alert.snippet))),
        "keywords": (", ".join(alert.keywords), ()),
        "source": (alert.source.strip(), ()),
        "published": (alert.published.strip(), ()),
    }


# ---------------------------------------------------------------- stories


def mention_of(article: Article, origin: str = "") -> Mention:
    """The outlet of ``article`` as named on the "also reported by" line: its source, else its
    link's host, else the file it came from."""
    name = source_name(article.source)
    if not name and article.url:
        try:
            name = urlsplit(article.url.strip()).hostname or ""
        except ValueError:
            name = ""
    if not name and origin:
        name = origin.replace("\\", "/").rsplit("/", 1)[-1]
    name, _ = shorten(name or "?", (), SOURCE_LIMIT - 1)
    return Mention(name=name, url=(article.url or "").strip())


def story_alert(
    alert: Alert,
    others: Sequence[tuple[Mention, Sequence[str]]],
    *,
    reply: bool = False,
) -> Alert:
    """``alert`` (the story's first article in this chat) with the other outlets that reported
    the story (each once, not the first one's own; at most ALSO_LIMIT named, then "+N") and
    their newly matched keywords added to the keyword line."""
    own = "" if reply else alert.source.casefold()
    seen: dict[str, Mention] = {}
    keywords = list(alert.keywords)
    for mention, kws in others:
        key = mention.name.casefold()
        if key != own and key not in seen:
            seen[key] = mention
        keywords.extend(kws)
    named = tuple(seen.values())
    return replace(
        alert,
        keywords=_unique(keywords),
        also=named[:ALSO_LIMIT],
        also_more=max(0, len(named) - ALSO_LIMIT),
        reply=reply,
    )
