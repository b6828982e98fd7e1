"""Plain records passed between ingest, store, matching, rendering and delivery. They import
nothing of Kabar's: every layer may use them, and every store implementation returns them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property


@dataclass(frozen=True)
class ArticleIn:
    """A cleaned article ready to be stored (not yet given an id)."""

    text: str
    title: str = ""
    url: str = ""
    source: str = ""
    published: datetime | None = None  # timezone-aware, UTC
    lang: str = "other"  # "id", "en" or "other"
    lang_confidence: float = 0.0
    origin: str = ""  # the file path or feed URL it came from
    # dedup keys, computed by bot.ingest.dedup before the article reaches the store
    canonical_url: str = ""
    content_hash: str = ""


@dataclass(frozen=True)
class Rejection:
    """One input that was not stored, and why (shown to the user on one line)."""

    origin: str
    reason: str


@dataclass
class IngestBatch:
    """What a parser produced from one or more sources."""

    articles: list[ArticleIn] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    title: str = ""  # a feed's own title (channel / feed <title>), when it has one

    def extend(self, other: IngestBatch) -> None:
        self.articles.extend(other.articles)
        self.rejected.extend(other.rejected)


@dataclass(frozen=True)
class Article:
    """A stored article."""

    id: int
    text: str
    title: str
    url: str
    source: str
    published: datetime | None
    lang: str
    ingested_at: datetime


@dataclass
class InsertReport:
    new_ids: list[int] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (origin, why)
    # The new articles as a read would return them (a store may leave this empty: a caller
    # then reads them by id).
    new_articles: list[Article] = field(default_factory=list)


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor: str
    action: str
    detail: str


@dataclass(frozen=True)
class Chat:
    id: int
    platform: str  # "telegram", "slack" or "console"
    address: str  # the platform's chat / channel id
    title: str
    language: str
    follow_all: bool
    active: bool
    # delivery modes (bot/delivery/modes.py): "off" (each alert at once), "hourly", "daily"
    digest: str = "off"
    digest_at: str = "07:00"  # local HH:MM of a daily digest
    quiet_start: str | None = None  # local HH:MM; quiet hours may span midnight
    quiet_end: str | None = None
    paused_until: datetime | None = None  # UTC; None: not paused
    paused_at: datetime | None = None  # when the pause began (skipped matches are counted since)
    timezone: str | None = None  # IANA name; None: the configured `timezone`
    hold: bool = False  # new alerts wait (status 'held') for a digest, quiet hours' end, resume
    last_digest_at: datetime | None = None  # the end of the last digest period (UTC)


@dataclass(frozen=True)
class FeedRow:
    id: int
    url: str
    name: str
    interval_seconds: int
    etag: str | None
    last_modified: str | None
    failures: int
    last_error: str | None
    last_polled_at: str | None = None
    next_poll_at: str | None = None
    added_at: str | None = None
    added_by: str = ""
    added_chat_id: int | None = None
    last_ok_at: str | None = None
    failing_since: str | None = None  # the first failure of the current run of failures
    failure_notified_at: str | None = None  # admins were told it fails (cleared on recovery)


@dataclass(frozen=True)
class Keyword:
    id: int
    query: str


@dataclass(frozen=True)
class Queued:
    article_id: int
    chat_id: int
    keywords: tuple[str, ...]


# outbox.kind: a new message; an edit of the story's first message in the chat (outbox.head_id);
# a short reply to it (the platform refused the edit)
SEND, EDIT, REPLY = "send", "edit", "reply"


@dataclass(frozen=True)
class OutboxItem:
    id: int
    article_id: int
    chat_id: int
    keywords: tuple[str, ...]
    attempts: int
    platform: str
    address: str
    language: str
    queued_at: datetime | None = None  # when the match queued it (delivery latency)
    kind: str = "send"  # "send": a new message; "edit": of the story's first message in the
    # chat; "reply": a short reply to it (the platform refused the edit)
    story_id: int | None = None
    head_id: int | None = None  # the outbox row of that first message (None: this row is it)
    head_message_id: str | None = None  # the platform's id of that first message
    group: tuple[int, ...] = ()  # every row this one message carries (this row first)
    timezone: str | None = None  # the chat's own time zone (None: the configured one)

    @property
    def row_ids(self) -> tuple[int, ...]:
        return self.group or (self.id,)


@dataclass(frozen=True)
class ThreadRow:
    """One outbox row of a story's conversation with a chat (its first message or a later
    article of the story), with what the "also reported by" line needs of its article."""

    id: int
    article_id: int
    keywords: tuple[str, ...]
    kind: str
    status: str
    origin: str


@dataclass(frozen=True)
class Slot:
    """The answer to "may I send to this target now?"."""

    granted: bool
    slot_id: int | None = None
    wait: float = 0.0  # when not granted: seconds until a slot may be free
    whole_platform: bool = False  # the wait holds for every target of the platform
    blocked: bool = False  # the wait is a retry-after block (not a full window)


@dataclass(frozen=True)
class FeedHealth:
    """One feed's polling health, for `kabar status`."""

    url: str
    name: str
    failures: int
    last_error: str | None
    last_polled_at: datetime | None
    last_ok_at: datetime | None
    next_poll_at: datetime | None


@dataclass(frozen=True)
class StoreStatus:
    """What `kabar status` reports from the store, read in one go."""

    schema_version: int
    size_bytes: int  # the database file plus its write-ahead log
    keywords: int
    chats: dict[str, tuple[int, int]]  # platform -> (active, inactive)
    outbox: dict[str, int]  # status -> rows
    oldest_pending: datetime | None  # created_at of the oldest row still waiting
    feeds: tuple[FeedHealth, ...]
    meta: dict[str, str]  # recorded by the running service (last matching pass, ...)


@dataclass(frozen=True)
class StoryFeatures:
    """What the story index (``bot.stories``) keeps per article; enough to rebuild the index
    from stored rows.

    ``buckets``: MinHash LSH band keys of the body's word shingles (near-copies share some).
    ``terms``: salient features with their static weight. Keys are prefixed by kind:
    ``e:`` name, ``x:`` lexicon concept (language-neutral), ``n:`` number, ``d:`` date,
    ``w:`` plain content word (compared within one language only).
    """

    lang: str
    published: datetime
    buckets: tuple[str, ...]
    terms: dict[str, float] = field(default_factory=dict)

    @cached_property
    def _parts(self) -> tuple[dict[str, float], frozenset[str] | None, float, float]:
        """One pass over the terms: the neutral ones, the plain words (None unless each
        weighs 1), the neutral and the total sum of squared weights (in the terms' order)."""
        neutral: dict[str, float] = {}
        words: list[str] = []
        unit = True
        neutral_size = size = 0.0
        for t, w in self.terms.items():
            size += w * w
            if t.startswith("w:"):
                words.append(t)
                unit = unit and w == 1.0
            else:
                neutral[t] = w
                neutral_size += w * w
        return neutral, (frozenset(words) if unit else None), neutral_size, size

    @cached_property
    def neutral_size(self) -> float:
        """Sum of squared weights of the language-neutral terms (not ``w:`` words)."""
        return self._parts[2]

    @cached_property
    def size(self) -> float:
        """Sum of squared weights of every term."""
        return self._parts[3]

    @cached_property
    def dates(self) -> frozenset[str]:
        return frozenset(t for t in self._parts[0] if t.startswith("d:"))

    @cached_property
    def neutral_terms(self) -> dict[str, float]:
        """The language-neutral terms (every kind but ``w:``) with their weights."""
        return self._parts[0]

    @cached_property
    def plain_words(self) -> frozenset[str] | None:
        """The ``w:`` words when each weighs 1 (as ``bot.stories`` makes them: then their
        shared weight is a count), else None."""
        return self._parts[1]

    def index_keys(self) -> tuple[str, ...]:
        """Index keys (bucket keys, then the language-neutral terms), the rows to store."""
        return self.buckets + tuple(t for t in self.terms if not t.startswith("w:"))

    def to_json(self) -> str:
        return json.dumps(
            {
                "lang": self.lang,
                "published": self.published.isoformat(),
                "buckets": list(self.buckets),
                "terms": self.terms,
            },
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str) -> StoryFeatures:
        d = json.loads(raw)
        return cls(
            lang=d["lang"],
            published=datetime.fromisoformat(d["published"]),
            buckets=tuple(d["buckets"]),
            terms={k: float(v) for k, v in d["terms"].items()},
        )


@dataclass(frozen=True)
class StoryRow:
    """One story as listed: its id (the founding article's id) and its stored articles,
    oldest first."""

    story_id: int
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class DigestRow:
    """One outbox row inside a digest: the alert it stands for."""

    id: int
    article_id: int
    keywords: tuple[str, ...]
    story_id: int | None
    queued_at: datetime | None


@dataclass(frozen=True)
class DigestPart:
    """One message of a digest as stored: its rendered payload (the platform's own format,
    opaque to the store) and the outbox rows it delivers."""

    seq: int
    payload: str
    row_ids: tuple[int, ...]
    status: str = "pending"  # "pending", "sent" or "failed"
    message_id: str | None = None


@dataclass(frozen=True)
class DigestClaim:
    """A digest this instance holds (leased): its chat, the outbox rows bound to it and, once
    rendered, its parts. Parts already sent are never sent again."""

    id: int
    chat: Chat
    created_at: datetime
    period_start: datetime | None
    rows: tuple[DigestRow, ...]
    parts: tuple[DigestPart, ...] = ()
    attempts: int = 0


@dataclass(frozen=True)
class ChatAction:
    """A change an alert button made to one chat, kept so its undo restores exactly it."""

    id: int
    chat_id: int
    kind: str  # "mute": unsubscribed from ``keyword_id``; "pause": paused for 24 h
    keyword_id: int | None
    was_subscribed: bool  # the chat followed the keyword before the press
    was_follow_all: bool  # the chat followed every new keyword before the press
    undone: bool = False
    keyword: str = ""  # the keyword's query ("" when it was removed since)
    keyboard: tuple[tuple[str, str], ...] = ()  # the alert's (label, data) buttons before
    was_paused_until: datetime | None = None  # a pause press: the chat's pause before it
    was_paused_at: datetime | None = None
