"""The store seam: what every store implementation offers (SQLite today, PostgreSQL next).

Callers get one ``Store`` (``store.open_store``) and reach each table family through its
repository attribute: ``store.articles``, ``.keywords``, ``.chats``, ``.outbox``, ``.feeds``,
``.audit``, ``.blocks`` (per-chat blocked words), ``.actions`` (what alert buttons changed),
plus ``store.pacing(platform)`` for shared send slots. Records are the plain
dataclasses of ``store.models``. A new implementation implements these Protocols; nothing
outside ``store/`` names a database library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Protocol

from store.models import (
    Article,
    ArticleIn,
    AuditEntry,
    Chat,
    ChatAction,
    DigestClaim,
    DigestPart,
    FeedRow,
    InsertReport,
    Keyword,
    OutboxItem,
    Queued,
    Slot,
    StoreStatus,
    StoryFeatures,
    StoryRow,
    ThreadRow,
)


class Articles(Protocol):
    """Stored articles: insert with precomputed dedup keys, read, search, prune."""

    def insert(self, items: Iterable[ArticleIn]) -> InsertReport: ...

    def get(self, article_id: int) -> Article | None: ...

    def get_many(self, ids: Iterable[int]) -> dict[int, Article]: ...

    def unchecked(self, limit: int = 500, after_id: int = 0) -> list[Article]: ...

    def latest(self, limit: int = 5) -> list[Article]: ...

    def recent(self, limit: int = 2000) -> list[Article]: ...

    def fts_expression(self, query: str) -> str: ...

    def search(self, query: str, limit: int = 5) -> list[Article]: ...

    def count(self) -> int: ...

    def delete_older_than(self, days: int) -> int: ...


class Audit(Protocol):
    """Who changed what (keywords, subscriptions)."""

    def record(self, actor: str, action: str, detail: str = "") -> None: ...

    def entries(self, limit: int = 100) -> list[AuditEntry]: ...


class Chats(Protocol):
    """Chats (one per platform address) and their subscriptions."""

    def get(self, platform: str, address: str) -> Chat | None: ...

    def get_by_id(self, chat_id: int) -> Chat | None: ...

    def ensure(self, platform: str, address: str, language: str, title: str = "") -> Chat: ...

    def set_language(self, chat: Chat, language: str) -> None: ...

    def set_active(self, chat_id: int, active: bool, reason: str = "") -> None: ...

    def subscribe(
        self,
        chat: Chat,
        keywords: Iterable[Keyword],
        follow_all: bool | None = None,
    ) -> int: ...

    def unsubscribe(self, chat: Chat, keywords: Iterable[Keyword] | None = None) -> int: ...

    def keywords(self, chat: Chat) -> list[Keyword]: ...

    def subscribers(self) -> dict[str, list[int]]: ...

    def migrate(self, platform: str, old_address: str, new_address: str) -> bool: ...

    # delivery modes (bot.delivery.modes decides what they mean)
    def set_digest(self, chat_id: int, mode: str, at: str | None = None) -> None: ...

    def set_quiet(self, chat_id: int, start: str | None, end: str | None) -> None: ...

    def set_paused_until(self, chat_id: int, until: datetime | None) -> int:
        """Pause until ``until``; None resumes and returns how many matches were skipped."""
        ...

    def set_timezone(self, chat_id: int, zone: str | None) -> None: ...

    def set_hold(self, chat_id: int, hold: bool) -> int: ...

    def with_modes(self) -> list[Chat]: ...

    def waiting_count(self, chat_id: int) -> int: ...


class Digests(Protocol):
    """Digests: a chat's waiting alerts bound to one digest, its messages rendered once and
    each recorded with the alerts it carries (store/digests.py)."""

    def open(
        self, chat_id: int, created_at: datetime, period_start: datetime | None
    ) -> int | None: ...

    def claim_open(
        self, lease_seconds: float, platforms: Iterable[str] | None = None, limit: int = 50
    ) -> list[DigestClaim]: ...

    def set_parts(self, digest_id: int, parts: Sequence[DigestPart]) -> list[DigestPart]: ...

    def part_sent(
        self, digest_id: int, seq: int, message_id: str | None, lease_seconds: float
    ) -> None: ...

    def part_failed(self, digest_id: int, seq: int, error: str) -> None: ...

    def retry(self, digest_id: int, error: str, delay_seconds: float) -> None: ...

    def release(self, digest_id: int) -> None: ...

    def skip_for_chat(self, chat_id: int, reason: str) -> int: ...

    def counts(self) -> dict[str, int]: ...

    def renew_lease(self, digest_ids: Sequence[int], lease_seconds: float) -> None: ...


class Feeds(Protocol):
    """Feed rows: URL, name, interval, HTTP validators, poll results, health; the database is
    the source of truth (config seeds it once), every change audited."""

    def sync(self, feeds: Iterable[tuple[str, str, int]]) -> list[FeedRow]: ...

    def all(self) -> list[FeedRow]: ...

    def get(self, url: str) -> FeedRow | None: ...

    def record_poll(
        self,
        url: str,
        *,
        etag: str | None,
        last_modified: str | None,
        error: str | None,
        next_in_seconds: float,
    ) -> None: ...

    def waiting(self, url: str) -> bool: ...

    def find(self, text: str) -> FeedRow | None: ...

    def add(
        self,
        url: str,
        name: str,
        interval: int,
        actor: str,
        chat_id: int | None = None,
    ) -> FeedRow | None: ...

    def remove(self, text: str, actor: str) -> FeedRow | None: ...

    def seed(self, feeds: Iterable[tuple[str, str, int]], actor: str = "config") -> bool: ...

    def drift_from_config(self, urls: Iterable[str]) -> tuple[list[str], list[str]]: ...

    def recent_counts(self, seconds: float) -> dict[str, int]: ...

    def set_failure_notified(self, url: str, at: str | None) -> None: ...

    def claim_poll(self, url: str, interval: float) -> bool: ...


class Keywords(Protocol):
    """The keyword queries everyone can subscribe to."""

    def all(self) -> list[Keyword]: ...

    def signature(self) -> tuple[int, int, int]: ...

    def find(self, query: str) -> Keyword | None: ...

    def find_many(self, texts: Iterable[str]) -> dict[str, Keyword]: ...

    def longest_words(self) -> int: ...

    def refresh_norms(self) -> int: ...

    def add(self, query: str, actor: str) -> Keyword | None: ...

    def remove(self, query: str, actor: str) -> Keyword | None: ...

    def seed(self, queries: Iterable[str], actor: str = "config") -> bool: ...

    def drift_from_config(self, queries: Iterable[str]) -> tuple[list[str], list[str]]: ...


class Outbox(Protocol):
    """One row per article x chat: claimed, sent, retried, failed or skipped."""

    def record_matches(self, checked_ids: Iterable[int], queued: Iterable[Queued]) -> int: ...

    def claim_due(
        self,
        limit: int,
        lease_seconds: float = 120.0,
        platforms: Iterable[str] | None = None,
    ) -> list[OutboxItem]: ...

    def mark_sent(self, item_id: int, message_id: str | None) -> None: ...

    def mark_retry(
        self,
        item_id: int,
        error: str,
        delay_seconds: float,
        count_attempt: bool = True,
    ) -> None: ...

    def mark_failed(self, item_id: int, error: str) -> None: ...

    def skip_item(self, item_id: int, reason: str) -> None: ...

    def to_reply(self, item_id: int, error: str) -> None: ...

    def thread(self, head_id: int) -> list[ThreadRow]: ...

    def renew_lease(self, item_ids: Iterable[int], lease_seconds: float) -> None: ...

    def release(self, item_ids: Iterable[int]) -> None: ...

    def skip_for_chat(self, chat_id: int, reason: str) -> int: ...

    def recent_sends(self, seconds: float) -> list[tuple[str, str, float]]: ...

    def counts(self) -> dict[str, int]: ...

    def delete_sent_older_than(self, days: int) -> int: ...

    def matches_since(
        self,
        chat_id: int,
        since: datetime,
    ) -> list[tuple[datetime, tuple[str, ...]]]: ...


class Meta(Protocol):
    """Small named values the running service records about itself (last matching pass...)."""

    def get(self, key: str) -> str | None: ...

    def set(self, values: Mapping[str, str]) -> None: ...


class Stories(Protocol):
    """Story grouping's stored state: the candidate source of ``bot.stories.StoryIndex``
    (``recent``, ``features``, ``stories``, ``add``) and stories as listed."""

    def recent(self, key: str, lo: datetime, hi: datetime, limit: int) -> list[int]: ...

    def features(self, ids: Iterable[int]) -> dict[int, StoryFeatures]: ...

    def stories(self, ids: Iterable[int]) -> dict[int, int]: ...

    def add(self, article_id: int, features: StoryFeatures, story_id: int) -> None: ...

    def unassigned(self, limit: int = 500) -> list[int]: ...

    def story_of(self, article_id: int) -> int | None: ...

    def latest(self, limit: int | None = None) -> list[StoryRow]: ...

    def articles_of(self, story_id: int) -> list[Article]: ...


class LimitLike(Protocol):
    """A rate limit: at most ``count`` sends per ``period`` seconds."""

    @property
    def count(self) -> int: ...

    @property
    def period(self) -> float: ...


class Pacing(Protocol):
    """Send slots of one platform, shared by every process on the same store."""

    def reserve(
        self,
        target: str,
        global_limits: Sequence[LimitLike],
        target_limits: Sequence[LimitLike],
    ) -> Slot: ...

    def settle(self, slot_id: int) -> None: ...

    def block(self, target: str | None, seconds: float) -> None: ...

    def prune(self) -> int: ...


class Blocks(Protocol):
    """Per-chat blocked words (canonical keyword queries), every change audited."""

    def add(self, chat_id: int, query: str, actor: str) -> bool: ...

    def remove(self, chat_id: int, query: str, actor: str) -> str | None: ...

    def of_chat(self, chat_id: int) -> list[str]: ...

    def blockers(self) -> dict[str, list[int]]: ...


class Actions(Protocol):
    """What alert buttons changed in a chat (for their undo), every change audited."""

    def get(self, action_id: int) -> ChatAction | None: ...

    def mute(
        self,
        chat_id: int,
        keyword_id: int,
        actor: str,
        keyboard: Sequence[tuple[str, str]] = (),
    ) -> ChatAction | None: ...

    def undo(self, action_id: int, actor: str) -> ChatAction | None: ...

    def record_pause(
        self, chat_id: int, actor: str, keyboard: Sequence[tuple[str, str]] = ()
    ) -> ChatAction | None: ...


class LeaderLike(Protocol):
    """One instance of the fleet leads; it is replaced when it dies."""

    def try_lead(self) -> bool: ...

    def alive(self) -> bool: ...

    def release(self) -> None: ...


class Store(Protocol):
    """One open store: its repositories, transactions and health checks."""

    @property
    def articles(self) -> Articles: ...

    @property
    def audit(self) -> Audit: ...

    @property
    def chats(self) -> Chats: ...

    @property
    def feeds(self) -> Feeds: ...

    @property
    def keywords(self) -> Keywords: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def meta(self) -> Meta: ...

    @property
    def stories(self) -> Stories: ...

    @property
    def digests(self) -> Digests: ...

    @property
    def blocks(self) -> Blocks: ...

    @property
    def actions(self) -> Actions: ...

    @property
    def path(self) -> str:
        """Where the store lives, for messages ("" when it has no file)."""
        ...

    @property
    def schema_version(self) -> int: ...

    def pacing(self, platform: str, clock: Callable[[], float] | None = None) -> Pacing: ...

    def transaction(self) -> AbstractContextManager[object]:
        """One atomic unit of writes (nested: a savepoint)."""
        ...

    def reader(self) -> Store | None:
        """A second, read-only store on the same data for a worker thread (None when the
        store cannot be shared, e.g. in memory)."""
        ...

    def check_alive(self) -> None:
        """Raise StoreError when the store's file was deleted or replaced."""
        ...

    def integrity_ok(self) -> bool: ...

    def status(self) -> StoreStatus:
        """What `kabar status` reports from the store (one consistent read)."""
        ...

    def backup(self, target: str | Path, *, overwrite: bool = False) -> int:
        """A consistent copy at ``target`` while others write, checked before it is moved
        into place; its size in bytes. StoreError (one line) when it cannot be made."""
        ...

    def close(self) -> None: ...

    def exclusive(self, name: str) -> AbstractContextManager[bool]:
        """Hold a fleet-wide lock for a block if free (True), else False: one matching pass
        at a time across instances on one PostgreSQL database (always True on SQLite)."""
        ...

    def leader(self, name: str) -> LeaderLike:
        """Leadership among instances (Telegram polling); always the leader on SQLite."""
        ...
