"""The platform-neutral chat command layer: parse a command, check permission, act, reply.

Telegram (``/verb args``), Slack (``/kabar verb args``) and the console share these verbs and
replies. Pure command logic: it takes data (the store, who is asking, the text) and returns a
``Reply`` whose plain text comes from ``handlers/locales/{id,en}.json`` in the chat's language.
No platform library is imported here; adapters escape and format the text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from bot.alerts.alert import DEFAULT_TIMEZONE, ZONE_ABBREVIATIONS, format_time, source_name
from bot.alerts.i18n import Catalog, resolve_language
from bot.alerts.sentence import first_sentence, truncate
from bot.app.feeds import AddOutcome, FeedOptions, add_feed, feed_origin, is_feed_url
from bot.delivery.modes import (
    DEFAULT_DIGEST_AT,
    DEFAULT_PAUSE_HOURS,
    MAX_PAUSE_HOURS,
    is_paused,
    parse_hhmm,
    parse_hours,
    parse_range,
    parse_zone,
    wants_hold,
)
from bot.ingest.hosts import url_problem
from bot.ingest.parse import format_size
from bot.ingest.urls import redact_url
from bot.matching.index import KeywordIndex
from bot.matching.query import QueryError, parse_query
from store import Store
from store.clock import from_db, utcnow
from store.models import Article, Chat, FeedRow, Keyword

__all__ = [
    "ADMIN_VERBS",
    "ALIASES",
    "MAX_COMMAND_KEYWORDS",
    "MAX_INPUT_CHARS",
    "MAX_SEARCH_CHARS",
    "VERBS",
    "CommandContext",
    "Reply",
    "Settings",
    "StatsChart",
    "catalog",
    "complete",
    "error_reply",
    "execute",
    "execute_async",
    "parse_command",
]

VERBS: tuple[str, ...] = (
    "start", "stop", "subscribe", "unsubscribe", "keywords", "list", "lang", "latest",
    "search", "stats", "help", "addkeyword", "removekeyword", "feeds", "addfeed", "removefeed",
    "block", "unblock",
)  # fmt: skip
FEED_ADMIN_VERBS: frozenset[str] = frozenset({"addfeed", "removefeed"})
ADMIN_VERBS: frozenset[str] = frozenset({"addkeyword", "removekeyword"}) | FEED_ADMIN_VERBS
ALIASES: dict[str, str] = {
    "sub": "subscribe",
    "unsub": "unsubscribe",
    "language": "lang",
    "bahasa": "lang",
    "cari": "search",
    "bantuan": "help",
    "blokir": "block",
    "buka": "unblock",
}
MAX_INPUT_CHARS = 1000
MAX_SEARCH_CHARS = 200
MAX_COMMAND_KEYWORDS = 50  # words per subscribe / unsubscribe command
LATEST_COUNT = 5
LATEST_SCAN = 2000  # `latest KW` filters this many newest articles with the matcher
HINT_LIMIT = 30  # keywords named in an error hint before "(+N more)"
LANGUAGE_NAMES = {"id": "id", "en": "en", "indonesia": "id", "indonesian": "id",
                  "english": "en", "inggris": "en"}  # fmt: skip
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "＂": '"'})
_SELF_PREFIXES = ("kabar", "/kabar")


@dataclass(frozen=True)
class CommandContext:
    platform: str  # "telegram" | "slack" | "console"
    chat_address: str  # platform chat / channel id
    user_id: str  # platform user id, "" if unknown (channel posts)
    chat_title: str = ""


@dataclass(frozen=True)
class Settings:
    default_language: str  # for a chat seen for the first time
    admins: frozenset[str]  # user ids (as strings) allowed to edit keywords on this platform
    prefix: str = "/"  # how commands are written in replies ("/kabar " on Slack)
    feeds: FeedOptions | None = None  # adding feeds (fetch limits); None: addfeed unavailable
    timezone: str = DEFAULT_TIMEZONE  # the chats' local time (``stats`` days)


@dataclass(frozen=True)
class StatsChart:
    """The data of a ``stats`` reply, for a platform that shows it as an image: matches per
    keyword per local day. Labels come in the chat's language."""

    title: str  # e.g. "Matches per day, 7 days (WIB)"
    days: tuple[date, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]  # (keyword, count per day), biggest first
    more: int = 0  # keywords left out of the chart (shown in the text only)
    caption: str = ""  # a short text to go with the image


@dataclass(frozen=True)
class Reply:
    text: str  # plain text in the chat's language; the adapter escapes / formats it
    ok: bool = True  # False for refusals and errors
    changed: bool = False  # True when the keyword set or subscriptions changed
    fetch: FeedRequest | None = None  # addfeed: the feed to fetch (``complete`` does it)
    chart: StatsChart | None = None  # ``stats``: an image where the platform shows one


@dataclass(frozen=True)
class FeedRequest:
    """An admin's ``addfeed`` (or ``subscribe URL``) that passed every check but the fetch."""

    url: str
    name: str
    via_subscribe: bool = False


Handler = Callable[[Store, CommandContext, list[str], Settings, "Chat | None"], Reply]


# --- parsing ----------------------------------------------------------------------------------


def parse_command(text: str) -> tuple[str, list[str]]:
    """``"/Start@KabarBot arg"`` -> ``("start", ["arg"])``; ``"kabar sub Kim"`` ->
    ``("subscribe", ["Kim"])``. A quoted part stays one argument with its quotes
    (``'"Kim Jong Un"'``; curly quotes become straight). Aliases resolve to their verb.
    Never raises; empty input gives ``("", [])``."""
    tokens = split_args(text)
    if tokens and tokens[0].startswith("@") and len(tokens) > 1:
        tokens = tokens[1:]  # "@KabarBot start"
    if tokens and tokens[0].lower() in _SELF_PREFIXES and len(tokens) > 1:
        tokens = tokens[1:]  # "kabar sub Kim", "/kabar sub Kim"
    if not tokens:
        return "", []
    verb = tokens[0].lstrip("/").split("@", 1)[0].lower()
    return ALIASES.get(verb, verb), tokens[1:]


def split_args(text: str) -> list[str]:
    """Whitespace-separated tokens; a quoted stretch (quotes kept) never splits, an unclosed
    quote runs to the end."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    tokens: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char.isspace() and not quoted:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


# --- entry point ------------------------------------------------------------------------------


_SURROGATES = re.compile("[\ud800-\udfff]")


def _valid_text(text: str) -> str:
    """Text SQLite can store: lone surrogates (possible in a platform's JSON) become U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def execute(
    db: Store, ctx: CommandContext, text: str, settings: Settings, prefix: str | None = None
) -> Reply:
    """Run one chat command and return the reply. ``prefix`` (default ``settings.prefix``)
    is how commands are written in help and usage text: ``"/"``, or ``"/kabar "`` on Slack."""
    if prefix is not None:
        settings = replace(settings, prefix=prefix)
    text, ctx = (
        _valid_text(text),
        replace(
            ctx,
            chat_address=_valid_text(ctx.chat_address),
            user_id=_valid_text(ctx.user_id),
            chat_title=_valid_text(ctx.chat_title),
        ),
    )
    chat = db.chats.get(ctx.platform, ctx.chat_address)
    if len(text) > MAX_INPUT_CHARS:
        return _say(chat, settings, "error.too_long", ok=False, limit=MAX_INPUT_CHARS)
    verb, args = parse_command(text)
    if not verb:
        return _say(chat, settings, "error.empty", ok=False)
    handler = HANDLERS.get(verb)
    if handler is None:
        verb = truncate(verb, 40, at_word=False)
        return _say(chat, settings, "error.unknown", ok=False, verb=verb)
    if verb in ADMIN_VERBS and not is_admin(ctx, settings):
        key = "admin.refused_feeds" if verb in FEED_ADMIN_VERBS else "admin.refused"
        return _say(chat, settings, key, ok=False)
    return handler(db, ctx, args, settings, chat)


def error_reply(db: Store, ctx: CommandContext | None, settings: Settings) -> Reply:
    """The reply when running a command failed, in the chat's language (the default language
    when there is no chat or it cannot be read: the failure may be the database itself)."""
    chat: Chat | None = None
    if ctx is not None:
        try:
            chat = db.chats.get(ctx.platform, ctx.chat_address)
        except Exception:
            chat = None
    return _say(chat, settings, "error.internal", ok=False)


def is_admin(ctx: CommandContext, settings: Settings) -> bool:
    return bool(ctx.user_id) and ctx.user_id in settings.admins


# --- handlers: (db, ctx, args, settings, chat) -> Reply -----------------------------------------


def cmd_start(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    chat = chat or _ensure_chat(db, ctx, settings)
    keywords = db.keywords.all()
    added = db.chats.subscribe(chat, keywords, follow_all=True)
    changed = bool(added) or not chat.follow_all or not chat.active
    if not keywords:
        return _say(chat, settings, "start.no_keywords", changed=changed)
    return _say(
        chat,
        settings,
        "start.done",
        changed=changed,
        count=len(keywords),
        keywords=_names(keywords),
    )


def cmd_stop(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    current = db.chats.keywords(chat) if chat else []
    if chat is None or (not current and not chat.follow_all):
        return _say(chat, settings, "stop.nothing")
    db.chats.unsubscribe(chat, None)
    return _say(chat, settings, "stop.done", changed=True, count=len(current))


def cmd_subscribe(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    if args and is_feed_url(args[0]):
        if not is_admin(ctx, settings):
            return _say(
                chat,
                settings,
                "subscribe.feed_admins_only",
                ok=False,
                url=truncate(args[0], 200, at_word=False),
            )
        return _request_feed(db, ctx, args, settings, chat, via_subscribe=True)
    resolved = _keyword_args(db, chat, settings, args, "subscribe.usage")
    if isinstance(resolved, Reply):
        return resolved
    found, unknown = resolved
    lines: list[str] = []
    new: list[Keyword] = []
    if found:
        chat = chat or _ensure_chat(db, ctx, settings)
        current = {k.id for k in db.chats.keywords(chat)}
        new = [k for k in found if k.id not in current]
        db.chats.subscribe(chat, found)
        old = [k for k in found if k.id in current]
        if new:
            lines.append(_t(chat, settings, "subscribe.done", keywords=_names(new)))
        if old:
            lines.append(_t(chat, settings, "subscribe.already", keywords=_names(old)))
    if unknown:
        lines.append(_unknown_line(db, chat, settings, unknown))
    changed = bool(new) or bool(found and chat and not chat.active)
    return Reply("\n".join(lines), ok=not unknown, changed=changed)


def cmd_unsubscribe(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    resolved = _keyword_args(db, chat, settings, args, "unsubscribe.usage")
    if isinstance(resolved, Reply):
        return resolved
    found, unknown = resolved
    current = {k.id for k in db.chats.keywords(chat)} if chat else set()
    removed = [k for k in found if k.id in current]
    missing = [k for k in found if k.id not in current]
    lines: list[str] = []
    if removed and chat:
        db.chats.unsubscribe(chat, removed)
        lines.append(_t(chat, settings, "unsubscribe.done", keywords=_names(removed)))
        if chat.follow_all:
            lines.append(_t(chat, settings, "unsubscribe.no_follow_all"))
    if missing:
        lines.append(_t(chat, settings, "unsubscribe.not_subscribed", keywords=_names(missing)))
    if unknown:
        lines.append(_unknown_line(db, chat, settings, unknown))
    return Reply("\n".join(lines), ok=not unknown, changed=bool(removed))


def cmd_keywords(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    keywords = db.keywords.all()
    if not keywords:
        return _say(chat, settings, "keywords.none")
    return _say(chat, settings, "keywords.list", count=len(keywords), keywords=_names(keywords))


def cmd_list(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    current = db.chats.keywords(chat) if chat else []
    blocked = _blocked_line(db, chat, settings)
    if chat is None or not current:
        key = "list.none_follow_all" if chat and chat.follow_all else "list.none"
        return Reply("\n".join([_t(chat, settings, key), *blocked]))
    lines = [_t(chat, settings, "list.some", count=len(current), keywords=_names(current))]
    if chat.follow_all:
        lines.append(_t(chat, settings, "list.follow_all"))
    if not chat.active:
        lines.append(_t(chat, settings, "list.inactive"))
    return Reply("\n".join([*lines, *blocked]))


def cmd_lang(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    language = LANGUAGE_NAMES.get(args[0].lower()) if len(args) == 1 else None
    if language is None:
        return _say(chat, settings, "lang.usage", ok=False, current=_language(chat, settings))
    if chat is None:
        chat = db.chats.ensure(ctx.platform, ctx.chat_address, language, ctx.chat_title)
    if chat.language != language:
        db.chats.set_language(chat, language)
        chat = replace(chat, language=language)
    return _say(chat, settings, "lang.set")


def cmd_latest(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    if not args:
        stories = db.stories.latest(LATEST_COUNT)
        if not stories:
            return _say(chat, settings, "latest.none")
        return _story_listing(
            chat,
            settings,
            _t(chat, settings, "latest.header"),
            [(s.articles[0], s.articles) for s in stories],
        )
    text = " ".join(args)
    keyword = lookup_keyword(db, text)
    try:
        query = keyword.query if keyword else parse_query(text).canonical
    except QueryError as exc:
        return _invalid(chat, settings, exc)
    try:
        articles = matching_articles(db, query, LATEST_COUNT * 4)
    except QueryError as exc:  # a stored keyword that no longer parses
        return _invalid(chat, settings, exc)
    if not articles:
        return _say(chat, settings, "latest.none_for", query=query)
    return _story_listing(
        chat,
        settings,
        _t(chat, settings, "latest.header_for", query=query),
        _by_story(db, articles),
    )


def cmd_search(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    query = " ".join(args)
    if len(query) > MAX_SEARCH_CHARS:
        return _say(chat, settings, "search.too_long", ok=False, limit=MAX_SEARCH_CHARS)
    if not db.articles.fts_expression(query):
        return _say(chat, settings, "search.usage", ok=False)
    articles = db.articles.search(query, LATEST_COUNT)
    return _listing(chat, settings, articles, "search.header", "search.none", query=query)


def cmd_help(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    mark = _t(chat, settings, "help.admin_mark")
    lines = [_t(chat, settings, "help.header")]
    for verb in VERBS:
        line = _t(chat, settings, f"help.{verb}")
        lines.append(f"{line} {mark}" if verb in ADMIN_VERBS else line)
    return Reply("\n".join(lines))


def cmd_addkeyword(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    if not args:
        return _say(chat, settings, "addkeyword.usage", ok=False)
    try:
        query = parse_query(" ".join(args)).canonical
    except QueryError as exc:
        return _invalid(chat, settings, exc)
    if db.keywords.add(query, _actor(ctx)) is None:
        existing = db.keywords.find(query)
        return _say(
            chat, settings, "addkeyword.exists", query=existing.query if existing else query
        )
    return _say(chat, settings, "addkeyword.done", changed=True, query=query)


def cmd_removekeyword(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    if not args:
        return _usage_with_keywords(db, chat, settings, "removekeyword.usage")
    text = " ".join(args)
    keyword = lookup_keyword(db, text)
    if keyword is None:
        try:
            parse_query(text)
        except QueryError as exc:
            return _invalid(chat, settings, exc)
        return _say(
            chat,
            settings,
            "removekeyword.missing",
            ok=False,
            query=text,
            keywords=_names(db.keywords.all(), HINT_LIMIT),
        )
    db.keywords.remove(keyword.query, _actor(ctx))
    return _say(chat, settings, "removekeyword.done", changed=True, query=keyword.query)


STATS_DEFAULT_DAYS = 7
STATS_MAX_DAYS = 90
STATS_CHART_SERIES = 8  # lines in a chart (readable on a phone); the text lists every keyword
SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(counts: Sequence[int]) -> str:
    """One block per day, scaled to the biggest day: 0 is ``▁``, the biggest ``█``."""
    top = max(counts, default=0)
    if top <= 0:
        return SPARKS[0] * len(counts)
    steps = len(SPARKS) - 1
    return "".join(
        SPARKS[0] if n <= 0 else SPARKS[max(1, math.ceil(n / top * steps))] for n in counts
    )


def zone_label(timezone: str) -> str:
    return ZONE_ABBREVIATIONS.get(timezone, timezone)


def stats_series(
    rows: Iterable[tuple[datetime, tuple[str, ...]]],
    keywords: Sequence[str],
    days: Sequence[date],
    timezone: str,
) -> list[tuple[str, tuple[int, ...]]]:
    """Pure: matches per keyword per local day (a row counts once for each of its keywords
    that is in ``keywords``), biggest total first, then in ``keywords`` order."""
    zone = ZoneInfo(timezone)
    index = {day: i for i, day in enumerate(days)}
    counts = {keyword: [0] * len(days) for keyword in keywords}
    for at, matched in rows:
        i = index.get(at.astimezone(zone).date())
        if i is None:
            continue
        for keyword in set(matched):
            if keyword in counts:
                counts[keyword][i] += 1
    order = {keyword: n for n, keyword in enumerate(keywords)}
    ranked = sorted(counts.items(), key=lambda kv: (-sum(kv[1]), order[kv[0]]))
    return [(keyword, tuple(values)) for keyword, values in ranked]


def cmd_stats(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    days_count = STATS_DEFAULT_DAYS
    if args:
        if len(args) > 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= STATS_MAX_DAYS:
            return _say(chat, settings, "stats.usage", ok=False, max=STATS_MAX_DAYS)
        days_count = int(args[0])
    keywords = [k.query for k in db.chats.keywords(chat)] if chat else []
    if chat is None or not keywords:
        return _say(chat, settings, "stats.none")
    zone = ZoneInfo(settings.timezone)
    today = datetime.now(zone).date()
    days = tuple(today - timedelta(days=n) for n in range(days_count - 1, -1, -1))
    since = datetime.combine(days[0], time(), tzinfo=zone)
    series = stats_series(
        db.outbox.matches_since(chat.id, since), keywords, days, settings.timezone
    )
    total = sum(sum(values) for _, values in series)
    zone_name = zone_label(settings.timezone)
    title = _t(chat, settings, "stats.title", count=days_count, zone=zone_name)
    span = f"{days[0].isoformat()} – {days[-1].isoformat()}"
    header = _t(chat, settings, "stats.header", count=total, title=title, span=span)
    width = max(len(keyword) for keyword, _ in series)
    lines = [header]
    lines += [
        f"{keyword.ljust(width)}  {sparkline(values)}  {sum(values)}" for keyword, values in series
    ]
    shown = tuple(series[:STATS_CHART_SERIES])
    more = len(series) - len(shown)
    caption = (
        header if not more else "\n".join([header, _t(chat, settings, "stats.more", count=more)])
    )
    chart = StatsChart(title=title, days=days, series=shown, more=more, caption=caption)
    return Reply("\n".join(lines), chart=chart)


HANDLERS: dict[str, Handler] = {
    "start": cmd_start,
    "stop": cmd_stop,
    "subscribe": cmd_subscribe,
    "unsubscribe": cmd_unsubscribe,
    "keywords": cmd_keywords,
    "list": cmd_list,
    "lang": cmd_lang,
    "latest": cmd_latest,
    "search": cmd_search,
    "stats": cmd_stats,
    "help": cmd_help,
    "addkeyword": cmd_addkeyword,
    "removekeyword": cmd_removekeyword,
}


# --- keywords and articles --------------------------------------------------------------------


def lookup_keyword(db: Store, text: str) -> Keyword | None:
    """The configured keyword written as ``text`` (case-insensitive); an unquoted multiword
    text also finds the phrase keyword (``Kim Jong Un`` -> ``"Kim Jong Un"``)."""
    keyword = db.keywords.find(text)
    if keyword is None and " " in text and '"' not in text:
        keyword = db.keywords.find(f'"{text}"')
    return keyword


def _keyword_args(
    db: Store, chat: Chat | None, settings: Settings, args: list[str], usage: str
) -> tuple[list[Keyword], list[str]] | Reply:
    """The keywords a subscribe / unsubscribe names (found, unknown), or the reply refusing
    its arguments (none: ``usage``; too many)."""
    if not args:
        return _usage_with_keywords(db, chat, settings, usage)
    if len(args) > MAX_COMMAND_KEYWORDS:
        return _too_many(chat, settings, args)
    return resolve_keywords(db, args)


def _too_many(chat: Chat | None, settings: Settings, args: list[str]) -> Reply:
    """The refusal of more than MAX_COMMAND_KEYWORDS arguments in one command."""
    count, limit = len(args), MAX_COMMAND_KEYWORDS
    return _say(chat, settings, "keywords.too_many", ok=False, count=count, limit=limit)


def resolve_keywords(db: Store, args: Sequence[str]) -> tuple[list[Keyword], list[str]]:
    """Split arguments into configured keywords and unknown words. The longest run of
    arguments that names a keyword wins, so ``Kim -Kardashian rudal`` finds the keywords
    ``Kim -Kardashian`` and ``rudal`` without quotes.

    Every candidate run is looked up at once through the keywords' normalised-text index
    (callers bound ``args`` to ``MAX_COMMAND_KEYWORDS``), so the cost does not depend on the
    number of stored keywords."""
    longest = min(db.keywords.longest_words(), len(args))
    runs = {
        " ".join(args[start : start + size])
        for start in range(len(args))
        for size in range(1, min(longest, len(args) - start) + 1)
    }
    phrases = {f'"{run}"' for run in runs if " " in run and '"' not in run}
    named = db.keywords.find_many(runs | phrases)

    def lookup(text: str) -> Keyword | None:  # as lookup_keyword, from the batch
        keyword = named.get(text)
        if keyword is None and " " in text and '"' not in text:
            keyword = named.get(f'"{text}"')
        return keyword

    found: dict[int, Keyword] = {}
    unknown: list[str] = []
    start = 0
    while start < len(args):
        for size in range(min(longest, len(args) - start), 0, -1):
            keyword = lookup(" ".join(args[start : start + size]))
            if keyword is not None:
                found.setdefault(keyword.id, keyword)
                start += size
                break
        else:
            if args[start] not in unknown:
                unknown.append(args[start])
            start += 1
    return list(found.values()), unknown


def matching_articles(db: Store, query: str, limit: int) -> list[Article]:
    """The newest `limit` articles (by publication time) among the last LATEST_SCAN stored
    that match `query`."""
    index = KeywordIndex([query])
    matched = [a for a in db.articles.recent(LATEST_SCAN) if index.match(a.text, a.title)]
    matched.sort(key=lambda a: (a.published or a.ingested_at, a.id), reverse=True)
    return matched[:limit]


def article_line(number: int, article: Article, untitled: str) -> str:
    """``1. Title (source) https://link`` on one line: the title, else the first sentence."""
    title = " ".join((article.title or first_sentence(article.text, 120)).split()) or untitled
    parts = [f"{number}. {title}"]
    if article.source:
        parts.append(f"({source_name(article.source)})")
    if article.url:
        parts.append(article.url)
    return " ".join(parts)


# --- replies ----------------------------------------------------------------------------------


@cache
def _catalog() -> Catalog:
    return Catalog("handlers")


def catalog() -> Catalog:
    """The command layer's messages (``handlers/locales``), also the adapters' (menus)."""
    return _catalog()


def _language(chat: Chat | None, settings: Settings) -> str:
    return resolve_language(chat.language if chat else settings.default_language)


def _t(chat: Chat | None, settings: Settings, key: str, /, **params: object) -> str:
    """Message `key` in the chat's language; `{p}` is the command prefix."""
    return _catalog().t(_language(chat, settings), key, p=settings.prefix, **params)


def _say(
    chat: Chat | None,
    settings: Settings,
    key: str,
    /,
    *,
    ok: bool = True,
    changed: bool = False,
    **params: object,
) -> Reply:
    return Reply(_t(chat, settings, key, **params), ok=ok, changed=changed)


def _names(keywords: Iterable[Keyword], limit: int = 0) -> str:
    queries = [k.query for k in keywords]
    if not queries:
        return "-"
    if limit and len(queries) > limit:
        return ", ".join(queries[:limit]) + f", … (+{len(queries) - limit})"
    return ", ".join(queries)


def _unknown_line(db: Store, chat: Chat | None, settings: Settings, unknown: list[str]) -> str:
    return _t(
        chat,
        settings,
        "keyword.unknown",
        unknown=", ".join(truncate(u, 60, at_word=False) for u in unknown),
        keywords=_names(db.keywords.all(), HINT_LIMIT),
    )


def _usage_with_keywords(db: Store, chat: Chat | None, settings: Settings, key: str) -> Reply:
    keywords = _names(db.keywords.all(), HINT_LIMIT)
    return _say(chat, settings, key, ok=False, keywords=keywords)


def _listing(
    chat: Chat | None,
    settings: Settings,
    articles: Sequence[Article],
    header: str,
    none: str,
    **params: object,
) -> Reply:
    """Message ``header`` over one numbered line per article, or ``none`` when there is none."""
    if not articles:
        return Reply(_t(chat, settings, none, **params))
    untitled = _t(chat, settings, "article.untitled")
    lines = [article_line(n, a, untitled) for n, a in enumerate(articles, 1)]
    return Reply("\n".join([_t(chat, settings, header, **params), *lines]))


def _by_story(db: Store, articles: Sequence[Article]) -> list[tuple[Article, list[Article]]]:
    """The newest matching article of each of the first LATEST_COUNT stories, with the
    story's articles."""
    story_of = db.stories.stories(a.id for a in articles)
    picked: dict[int, Article] = {}
    for article in articles:
        picked.setdefault(story_of.get(article.id, -article.id), article)
        if len(picked) == LATEST_COUNT:
            break
    return [(a, db.stories.articles_of(story) if story > 0 else [a]) for story, a in picked.items()]


def _story_listing(
    chat: Chat | None,
    settings: Settings,
    header: str,
    stories: Sequence[tuple[Article, Sequence[Article]]],
) -> Reply:
    """One line per story: its article, then ``+N sumber`` for the story's other outlets."""
    untitled = _t(chat, settings, "article.untitled")
    lines = [header]
    for n, (article, members) in enumerate(stories, 1):
        line = article_line(n, article, untitled)
        own = source_name(article.source).casefold()
        others = {
            source_name(m.source).casefold() or f"#{m.id}" for m in members if m.id != article.id
        } - {own}
        if others:
            line += " " + _t(chat, settings, "latest.more_sources", count=len(others))
        lines.append(line)
    return Reply("\n".join(lines))


def _ensure_chat(db: Store, ctx: CommandContext, settings: Settings) -> Chat:
    language = resolve_language(settings.default_language)
    return db.chats.ensure(ctx.platform, ctx.chat_address, language, ctx.chat_title)


def _actor(ctx: CommandContext) -> str:
    return f"{ctx.platform}:{ctx.user_id}"


def _invalid(chat: Chat | None, settings: Settings, exc: QueryError) -> Reply:
    """The query error in the chat's language (catalog ``query.<key>``)."""
    error = _t(chat, settings, f"query.{exc.key}", **exc.params)
    return _say(chat, settings, "keyword.invalid", ok=False, error=error)


# --- feeds ------------------------------------------------------------------------------------

FEED_RECENT_SECONDS = 24 * 3600  # `feeds` counts the articles of the last day
FEED_NAME_CHARS = 100


def cmd_feeds(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    """Every feed: name, URL, last poll (ok / the error), articles in 24 h, next poll."""
    feeds = db.feeds.all()
    if not feeds:
        return _say(chat, settings, "feeds.none")
    counts = db.feeds.recent_counts(FEED_RECENT_SECONDS)
    lines = [_t(chat, settings, "feeds.header", count=len(feeds))]
    for number, feed in enumerate(feeds, 1):
        lines.append(_feed_line(chat, settings, number, feed, counts))
    return Reply("\n".join(lines))


def _feed_line(
    chat: Chat | None, settings: Settings, number: int, feed: FeedRow, counts: dict[str, int]
) -> str:
    if feed.last_error:
        status = _t(
            chat,
            settings,
            "feeds.failed",
            count=feed.failures,
            error=truncate(feed.last_error, 120, at_word=False),
        )
    elif feed.last_polled_at:
        status = _t(chat, settings, "feeds.ok", when=_ago(chat, settings, feed.last_polled_at))
    else:
        status = _t(chat, settings, "feeds.never")
    recent = _t(chat, settings, "feeds.recent", count=counts.get(feed_origin(feed.url), 0))
    next_poll = _t(chat, settings, "feeds.next", when=_ahead(chat, settings, feed.next_poll_at))
    return _t(
        chat,
        settings,
        "feeds.line",
        number=number,
        name=feed.name or "-",
        url=_shown_url(feed.url),
        status=status,
        recent=recent,
        next=next_poll,
    )


def _minutes_between(text: str | None, ahead: bool) -> int | None:
    moment = from_db(text)
    if moment is None:
        return None
    seconds = (moment - utcnow()).total_seconds()
    return max(0, round((seconds if ahead else -seconds) / 60))


def _ago(chat: Chat | None, settings: Settings, text: str | None) -> str:
    minutes = _minutes_between(text, ahead=False)
    if minutes is None or minutes < 1:
        return _t(chat, settings, "time.just_now")
    if minutes < 120:
        return _t(chat, settings, "time.minutes_ago", count=minutes)
    return _t(chat, settings, "time.hours_ago", count=minutes // 60)


def _ahead(chat: Chat | None, settings: Settings, text: str | None) -> str:
    minutes = _minutes_between(text, ahead=True)
    if minutes is None or minutes < 1:
        return _t(chat, settings, "time.soon")
    if minutes < 120:
        return _t(chat, settings, "time.in_minutes", count=minutes)
    return _t(chat, settings, "time.in_hours", count=minutes // 60)


def _shown_url(url: str) -> str:
    return redact_url(url)


def cmd_addfeed(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    if not args:
        return _say(chat, settings, "addfeed.usage", ok=False)
    return _request_feed(db, ctx, args, settings, chat)


def _request_feed(
    db: Store,
    ctx: CommandContext,
    args: list[str],
    settings: Settings,
    chat: Chat | None,
    via_subscribe: bool = False,
) -> Reply:
    """Every check of an addfeed that needs no network; the fetch is ``complete``'s."""
    url, name = args[0].strip("<>"), truncate(" ".join(args[1:]), FEED_NAME_CHARS)
    shown = truncate(url, 200, at_word=False)
    problem = url_problem(url)
    if problem is not None:
        reason = _t(chat, settings, f"feed.invalid.{problem}")
        return _feed_reply(
            chat, settings, "addfeed.invalid", via_subscribe, ok=False, url=shown, reason=reason
        )
    existing = db.feeds.get(url)
    if existing is not None:
        return _feed_reply(
            chat, settings, "addfeed.exists", via_subscribe, url=shown, name=existing.name or "-"
        )
    if settings.feeds is None:
        return _feed_reply(chat, settings, "addfeed.unavailable", via_subscribe, ok=False)
    return Reply("", fetch=FeedRequest(url, name, via_subscribe))


def _feed_reply(
    chat: Chat | None,
    settings: Settings,
    key: str,
    via_subscribe: bool,
    /,
    *,
    ok: bool = True,
    changed: bool = False,
    **params: object,
) -> Reply:
    text = _catalog().t(_language(chat, settings), key, p=settings.prefix, **params)
    if via_subscribe:
        text = _t(chat, settings, "subscribe.as_addfeed") + "\n" + text
    return Reply(text, ok=ok, changed=changed)


async def complete(db: Store, ctx: CommandContext, settings: Settings, reply: Reply) -> Reply:
    """Finish a reply that asks for a fetch (``reply.fetch``): fetch the feed once and store
    it, answering with its title and item count or the one reason it was not added."""
    request = reply.fetch
    if request is None:
        return reply
    chat = db.chats.get(ctx.platform, ctx.chat_address)
    if settings.feeds is None:
        return _feed_reply(chat, settings, "addfeed.unavailable", request.via_subscribe, ok=False)
    chat = chat or _ensure_chat(db, ctx, settings)
    outcome = await add_feed(
        db, request.url, request.name, _actor(ctx), settings.feeds, chat_id=chat.id
    )
    return _outcome_reply(chat, settings, outcome, request.via_subscribe)


def _outcome_reply(
    chat: Chat | None, settings: Settings, outcome: AddOutcome, via_subscribe: bool
) -> Reply:
    options = settings.feeds or FeedOptions()
    url = truncate(outcome.url, 200, at_word=False)
    if outcome.status == "invalid":
        reason = _t(chat, settings, f"feed.invalid.{outcome.reason}")
        return _feed_reply(
            chat, settings, "addfeed.invalid", via_subscribe, ok=False, url=url, reason=reason
        )
    if outcome.status == "exists":
        name = outcome.feed.name if outcome.feed else ""
        return _feed_reply(
            chat, settings, "addfeed.exists", via_subscribe, url=url, name=name or "-"
        )
    if outcome.status == "failed":
        reason = _t(
            chat,
            settings,
            f"feed.reason.{outcome.reason}",
            detail=truncate(outcome.detail, 200, at_word=False),
            seconds=f"{options.timeout_seconds:g}",
            size=format_size(options.max_bytes),
        )
        return _feed_reply(
            chat, settings, "addfeed.failed", via_subscribe, ok=False, url=url, reason=reason
        )
    name = outcome.feed.name if outcome.feed and outcome.feed.name else outcome.title
    return _feed_reply(
        chat,
        settings,
        "addfeed.done",
        via_subscribe,
        changed=True,
        name=name or "-",
        title=outcome.title or "-",
        url=url,
        count=outcome.items,
        alerting=outcome.alerting,
        hours=options.backfill_hours,
    )


async def execute_async(
    db: Store, ctx: CommandContext, text: str, settings: Settings, prefix: str | None = None
) -> Reply:
    """``execute``, and for ``addfeed`` (an admin's ``subscribe URL``) the fetch as well."""
    if prefix is not None:
        settings = replace(settings, prefix=prefix)
    return await complete(db, ctx, settings, execute(db, ctx, text, settings))


def cmd_removefeed(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    names = ", ".join(f.name or _shown_url(f.url) for f in db.feeds.all()[:HINT_LIMIT]) or "-"
    if not args:
        return _say(chat, settings, "removefeed.usage", ok=False, feeds=names)
    text = " ".join(args).strip("<>")
    feed = db.feeds.remove(text, _actor(ctx))
    if feed is None:
        return _say(
            chat,
            settings,
            "removefeed.missing",
            ok=False,
            feed=truncate(text, 200, at_word=False),
            feeds=names,
        )
    return _say(
        chat,
        settings,
        "removefeed.done",
        changed=True,
        name=feed.name or "-",
        url=_shown_url(feed.url),
    )


HANDLERS.update({"feeds": cmd_feeds, "addfeed": cmd_addfeed, "removefeed": cmd_removefeed})


# --- delivery modes: digest, quiet hours, pause, time zone (bot.delivery.modes) ---------------

MODE_VERBS: tuple[str, ...] = ("digest", "quiet", "pause", "resume", "timezone")
VERBS += MODE_VERBS
ALIASES.update({"ringkasan": "digest", "senyap": "quiet", "jeda": "pause", "lanjut": "resume"})


# catalog keys per digest mode: (the reply to `digest MODE`, the mode's name in `list`)
MODE_KEYS = {
    "off": ("digest.off", "mode.off"),
    "hourly": ("digest.hourly", "mode.hourly"),
    "daily": ("digest.daily", "mode.daily"),
}


def _chat_zone(chat: Chat | None, settings: Settings) -> str:
    return (chat.timezone if chat else None) or settings.timezone


def _zone_shown(zone: str) -> str:
    label = zone_label(zone)
    return label if label == zone else f"{label} ({zone})"


def _apply_hold(db: Store, chat_id: int, settings: Settings) -> None:
    """Hold the chat's alerts at once when its modes now say so; a release with at most one
    waiting alert happens at once too (more go as one digest from the modes job)."""
    chat = db.chats.get_by_id(chat_id)
    if chat is None:
        return
    hold = wants_hold(chat, utcnow(), _chat_zone(chat, settings))
    if hold and not chat.hold:
        db.chats.set_hold(chat.id, True)
    elif not hold and chat.hold and db.chats.waiting_count(chat.id) <= 1:
        db.chats.set_hold(chat.id, False)


def cmd_digest(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    mode = args[0].lower() if args else ""
    at = parse_hhmm(args[1]) if len(args) == 2 else None
    valid = (
        (mode in ("off", "hourly", "now") and len(args) == 1)
        or (mode == "daily" and len(args) == 1)
        or (mode == "daily" and at is not None)
    )
    if not valid:
        current = _mode_text(chat, settings)
        return _say(chat, settings, "digest.usage", ok=False, mode=current)
    chat = chat or _ensure_chat(db, ctx, settings)
    zone = _chat_zone(chat, settings)
    if mode == "now":
        count = db.chats.waiting_count(chat.id)
        if not count or db.digests.open(chat.id, utcnow(), chat.last_digest_at) is None:
            return _say(chat, settings, "digest.now_none")
        return _say(chat, settings, "digest.now", count=count)
    db.chats.set_digest(chat.id, mode, at or (DEFAULT_DIGEST_AT if mode == "daily" else None))
    _apply_hold(db, chat.id, settings)
    chat = db.chats.get_by_id(chat.id) or chat
    return _say(
        chat, settings, MODE_KEYS[mode][0], changed=True, time=chat.digest_at, zone=zone_label(zone)
    )


def cmd_quiet(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    text = "".join(args)
    if text.lower() == "off":
        if chat is not None:
            db.chats.set_quiet(chat.id, None, None)
            _apply_hold(db, chat.id, settings)
        return _say(chat, settings, "quiet.off", changed=True)
    span = parse_range(text) if args else None
    if span is None:
        return _say(chat, settings, "quiet.usage", ok=False)
    chat = chat or _ensure_chat(db, ctx, settings)
    db.chats.set_quiet(chat.id, *span)
    _apply_hold(db, chat.id, settings)
    zone = zone_label(_chat_zone(chat, settings))
    return _say(chat, settings, "quiet.set", changed=True, start=span[0], end=span[1], zone=zone)


def pause_chat(
    db: Store, ctx: CommandContext, settings: Settings, hours: int = DEFAULT_PAUSE_HOURS
) -> Reply:
    """Pause the chat's alerts for ``hours`` (a button handler calls this as the verb does)."""
    chat = db.chats.get(ctx.platform, ctx.chat_address) or _ensure_chat(db, ctx, settings)
    until = utcnow() + timedelta(hours=hours)
    db.chats.set_paused_until(chat.id, until)
    _apply_hold(db, chat.id, settings)
    shown = format_time(until, _language(chat, settings), _chat_zone(chat, settings))
    return _say(chat, settings, "pause.set", changed=True, until=shown)


def resume_chat(db: Store, ctx: CommandContext, settings: Settings) -> Reply:
    """End the chat's pause: how many matches were skipped during it."""
    chat = db.chats.get(ctx.platform, ctx.chat_address)
    if chat is None or chat.paused_until is None:
        return _say(chat, settings, "resume.not_paused")
    skipped = db.chats.set_paused_until(chat.id, None)
    _apply_hold(db, chat.id, settings)
    return _say(chat, settings, "resume.done", changed=True, count=skipped)


def pause_restored(db: Store, ctx: CommandContext, settings: Settings) -> Reply:
    """After a pause button's undo put the chat's earlier pause back (store): hold as its
    modes now say, and say until when."""
    chat = db.chats.get(ctx.platform, ctx.chat_address)
    if chat is None or chat.paused_until is None:
        return _say(chat, settings, "resume.not_paused")
    _apply_hold(db, chat.id, settings)
    shown = format_time(chat.paused_until, _language(chat, settings), _chat_zone(chat, settings))
    return _say(chat, settings, "button.pause_restored", changed=True, until=shown)


def cmd_pause(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    hours = parse_hours(args[0]) if len(args) == 1 else None
    if (args and hours is None) or len(args) > 1:
        return _say(
            chat,
            settings,
            "pause.usage",
            ok=False,
            max=MAX_PAUSE_HOURS,
            default=DEFAULT_PAUSE_HOURS,
        )
    return pause_chat(db, ctx, settings, hours or DEFAULT_PAUSE_HOURS)


def cmd_resume(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    return resume_chat(db, ctx, settings)


def cmd_timezone(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    zone = parse_zone(args[0]) if len(args) == 1 else None
    if zone is None:
        current = _zone_shown(_chat_zone(chat, settings))
        shown = truncate(" ".join(args), 60, at_word=False) or "-"
        return _say(chat, settings, "timezone.usage", ok=False, zone=shown, current=current)
    chat = chat or _ensure_chat(db, ctx, settings)
    db.chats.set_timezone(chat.id, zone)
    _apply_hold(db, chat.id, settings)
    return _say(chat, settings, "timezone.set", changed=True, zone=_zone_shown(zone))


def _mode_text(chat: Chat | None, settings: Settings) -> str:
    mode = chat.digest if chat else "off"
    key = MODE_KEYS.get(mode, MODE_KEYS["off"])[1]
    return _t(chat, settings, key, time=chat.digest_at if chat else DEFAULT_DIGEST_AT)


def modes_line(chat: Chat, settings: Settings) -> str:
    """``list``'s line: delivery mode, quiet hours, pause, time zone."""
    zone = _chat_zone(chat, settings)
    none = _t(chat, settings, "mode.none")
    quiet = f"{chat.quiet_start}–{chat.quiet_end}" if chat.quiet_start else none
    pause = none
    if is_paused(chat, utcnow()) and chat.paused_until is not None:
        until = format_time(chat.paused_until, _language(chat, settings), zone)
        pause = _t(chat, settings, "mode.until", until=until)
    return _t(
        chat,
        settings,
        "list.modes",
        mode=_mode_text(chat, settings),
        quiet=quiet,
        pause=pause,
        zone=_zone_shown(zone),
    )


def cmd_list_with_modes(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    reply = cmd_list(db, ctx, args, settings, chat)
    if chat is None:
        return reply
    return replace(reply, text=f"{reply.text}\n{modes_line(chat, settings)}")


HANDLERS.update(
    {
        "digest": cmd_digest,
        "quiet": cmd_quiet,
        "pause": cmd_pause,
        "resume": cmd_resume,
        "timezone": cmd_timezone,
        "list": cmd_list_with_modes,
    }
)
# --- blocked words ----------------------------------------------------------------------------


def block_queries(args: Sequence[str]) -> list[str]:
    """The queries a ``block`` / ``unblock`` names: each argument (a quoted phrase is one),
    or the whole text as one query when it uses ``OR`` or an exclusion (``Kim -Jong``).
    Raises QueryError for the first that does not parse."""
    if any(a == "OR" or a.startswith("-") for a in args):
        return [parse_query(" ".join(args)).canonical]
    return list(dict.fromkeys(parse_query(a).canonical for a in args))


def _blocked_line(db: Store, chat: Chat | None, settings: Settings) -> list[str]:
    blocked = db.blocks.of_chat(chat.id) if chat else []
    if not blocked:
        return []
    return [_t(chat, settings, "list.blocked", count=len(blocked), words=", ".join(blocked))]


def _block_args(
    chat: Chat | None, settings: Settings, args: list[str], usage: str
) -> list[str] | Reply:
    if not args:
        return _say(chat, settings, usage, ok=False)
    if len(args) > MAX_COMMAND_KEYWORDS:
        return _too_many(chat, settings, args)
    try:
        return block_queries(args)
    except QueryError as exc:
        return _invalid(chat, settings, exc)


def cmd_block(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    """Never alert this chat an article containing these words (whatever it matched)."""
    queries = _block_args(chat, settings, args, "block.usage")
    if isinstance(queries, Reply):
        return queries
    chat = chat or _ensure_chat(db, ctx, settings)
    added = [q for q in queries if db.blocks.add(chat.id, q, _actor(ctx))]
    old = [q for q in queries if q not in added]
    lines = []
    if added:
        lines.append(_t(chat, settings, "block.done", words=", ".join(added)))
    if old:
        lines.append(_t(chat, settings, "block.already", words=", ".join(old)))
    return Reply("\n".join(lines), changed=bool(added))


def cmd_unblock(
    db: Store, ctx: CommandContext, args: list[str], settings: Settings, chat: Chat | None
) -> Reply:
    queries = _block_args(chat, settings, args, "unblock.usage")
    if isinstance(queries, Reply):
        return queries
    removed: list[str] = []
    missing: list[str] = []
    for query in queries:
        found = db.blocks.remove(chat.id, query, _actor(ctx)) if chat else None
        (removed if found is not None else missing).append(found or query)
    lines = []
    if removed:
        lines.append(_t(chat, settings, "unblock.done", words=", ".join(removed)))
    if missing:
        blocked = ", ".join(db.blocks.of_chat(chat.id)) if chat else ""
        lines.append(_t(chat, settings, "unblock.missing", words=", ".join(missing)))
        lines.append(_t(chat, settings, "unblock.blocked", words=blocked or "-"))
    return Reply("\n".join(lines), ok=not missing, changed=bool(removed))


HANDLERS.update({"block": cmd_block, "unblock": cmd_unblock})
