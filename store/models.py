"""Plain records passed between ingest, store, matching, rendering and delivery. They import
nothing of Kabar's: every layer may use them, and every store implementation returns them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
