"""The platform-neutral digest: a chat's waiting alerts -> a ``Digest`` (a header, then stories
grouped by keyword, newest first), and the packing of its lines into messages within a limit.

Pure functions: no I/O, no platform imports. A story is listed once (all its alerts in the
digest fold into one item, with the number of outlets that reported it); each item carries the
outbox rows it stands for, so every message knows exactly which alerts it delivers. Every
user-visible word comes from ``bot/alerts/locales``; each platform's formatter
(``handlers/*/format.py``) renders the lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.alerts.alert import SOURCE_LIMIT, TITLE_LIMIT, ZONE_ABBREVIATIONS, source_name
from bot.alerts.fitting import collapse_whitespace, shorten, utf16_len
from bot.alerts.i18n import resolve_language, t
from bot.alerts.sentence import first_sentence
from store.models import Article, DigestPart, DigestRow


@dataclass(frozen=True)
class DigestItem:
    """One story in a digest."""

    title: str
    url: str
    source: str  # the first outlet's display name
    sources: int  # outlets that reported it among the digest's alerts
    time: str  # local time, e.g. "14.05" (id) / "14:05" (en), with the day when not the header's
    row_ids: tuple[int, ...]  # the outbox rows (alerts) this item delivers
    at: datetime  # newest article time, UTC (sort key)


@dataclass(frozen=True)
class DigestGroup:
    keyword: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True)
class Digest:
    language: str
    header: str  # "Ringkasan Kabar — Senin, 7 Des 07.00 WIB"
    summary: str  # "12 berita"
    groups: tuple[DigestGroup, ...]

    @property
    def row_ids(self) -> tuple[int, ...]:
        return tuple(r for g in self.groups for i in g.items for r in i.row_ids)


def zone_name(zone: str, local: datetime) -> str:
    return ZONE_ABBREVIATIONS.get(zone) or local.strftime("%Z") or zone


def clock_time(language: str, local: datetime) -> str:
    return t(language, "digest.time", hour=f"{local:%H}", minute=f"{local:%M}")


def digest_header(language: str, at: datetime, zone: str) -> str:
    """``Ringkasan Kabar — Senin, 7 Des 07.00 WIB`` / ``Kabar digest — Monday 7 Dec, 07:00 WIB``."""
    language = resolve_language(language)
    local = at.astimezone(ZoneInfo(zone))
    return t(
        language,
        "digest.header",
        weekday=t(language, f"day.long.{local.weekday()}"),
        day=local.day,
        month=t(language, f"month.short.{local.month}"),
        time=clock_time(language, local),
        zone=zone_name(zone, local),
    )


def _moment(article: Article) -> datetime:
    moment = article.published or article.ingested_at
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _title(article: Article) -> str:
    title, _ = collapse_whitespace(article.title or "", ())
    if not title:
        title = first_sentence(article.text, TITLE_LIMIT)
    title, _ = shorten(title, (), TITLE_LIMIT - 1)
    return title


def build_digest(
    rows: Sequence[DigestRow],
    articles: Mapping[int, Article],
    *,
    language: str,
    timezone: str,
    at: datetime,
) -> Digest:
    """The digest of ``rows`` (rows whose article is gone are left out: their ids are in no
    item). A story's rows fold into one item under the story's first keyword."""
    language = resolve_language(language)
    zone = ZoneInfo(timezone)
    header_day = at.astimezone(zone).date()
    stories: dict[int, list[tuple[DigestRow, Article]]] = {}
    for row in rows:
        article = articles.get(row.article_id)
        if article is None:
            continue
        key = row.story_id if row.story_id is not None else -row.article_id
        stories.setdefault(key, []).append((row, article))
    groups: dict[str, list[DigestItem]] = {}
    for members in stories.values():
        first = min(members, key=lambda m: (_moment(m[1]), m[1].id))[1]
        newest = max(_moment(a) for _, a in members)
        keywords = list(dict.fromkeys(k for r, _ in members for k in r.keywords)) or ["-"]
        outlets = {source_name(a.source).casefold() or f"#{a.id}" for _, a in members}
        local = newest.astimezone(zone)
        when = clock_time(language, local)
        if local.date() != header_day:
            month = t(language, f"month.short.{local.month}")
            when = t(language, "digest.item_day", day=local.day, month=month, time=when)
        source, _ = shorten(source_name(first.source), (), SOURCE_LIMIT - 1)
        groups.setdefault(keywords[0], []).append(
            DigestItem(
                title=_title(first) or t(language, "alert.no_title"),
                url=(first.url or "").strip(),
                source=source,
                sources=len(outlets),
                time=when,
                row_ids=tuple(r.id for r, _ in members),
                at=newest,
            )
        )
    ordered = [
        DigestGroup(keyword, tuple(sorted(items, key=lambda i: (i.at, i.row_ids), reverse=True)))
        for keyword, items in groups.items()
    ]
    ordered.sort(key=lambda g: (-len(g.items), -g.items[0].at.timestamp(), g.keyword.casefold()))
    count = sum(len(g.items) for g in ordered)
    return Digest(
        language=language,
        header=digest_header(language, at, timezone),
        summary=t(language, "digest.count", count=count),
        groups=tuple(ordered),
    )


def source_label(digest: Digest, item: DigestItem) -> str:
    """``Antara`` or, for a story several outlets reported, ``Antara (3 sumber)``."""
    if item.sources > 1:
        return t(digest.language, "digest.sources", source=item.source or "?", count=item.sources)
    return item.source


@dataclass(frozen=True)
class Lines:
    """How a platform writes a digest's lines (each already escaped / formatted)."""

    header: Callable[[Digest, int], str]  # (digest, message number from 0) -> the top lines
    heading: Callable[[Digest, DigestGroup, bool], str]  # (.., continued) -> the group's line
    item: Callable[[Digest, DigestItem, bool], str]  # (.., linked) -> the item's line(s)


def pack(
    digest: Digest,
    lines: Lines,
    limit: int,
    separator: str = "\n",
    measure: Callable[[str], int] = utf16_len,
) -> list[tuple[str, tuple[int, ...]]]:
    """The digest as messages of at most ``limit`` units: ``(text, outbox rows it carries)``,
    the header on top of each, a group's heading repeated (continued) on the next message.
    An item too long for a message even alone is written without its link; an item is never
    cut in two and never dropped."""
    messages: list[tuple[str, tuple[int, ...]]] = []
    text, rows = "", list[int]()

    def joined(base: str, heading: str, entry: str) -> str:
        return separator.join(p for p in (base, heading, entry) if p)

    for group in digest.groups:
        group_open = False  # the group's heading is in the message being filled
        for n, item in enumerate(group.items):
            for linked in (True, False):
                entry = lines.item(digest, item, linked)
                if rows:
                    heading = "" if group_open else lines.heading(digest, group, n > 0)
                    candidate = joined(text, heading, entry)
                    if measure(candidate) <= limit:
                        break
                    messages.append((text, tuple(rows)))
                    text, rows, group_open = "", [], False
                heading = lines.heading(digest, group, n > 0)
                candidate = joined(lines.header(digest, len(messages)), heading, entry)
                if measure(candidate) <= limit or not linked:
                    break
            text, rows, group_open = candidate, [*rows, *item.row_ids], True
    if rows:
        messages.append((text, tuple(rows)))
    return messages


def parts_of(messages: Sequence[tuple[str, tuple[int, ...]]]) -> list[DigestPart]:
    return [DigestPart(seq, payload, rows) for seq, (payload, rows) in enumerate(messages)]
