"""The SQLite store (through sqlite-utils): the ``store.base.Store`` seam over one connection.

The repositories bind the functions of ``store.articles``, ``store.chats``, ... (which take
the ``sqlite_utils.Database``) to this store's connection.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from store import actions as actions_sql
from store import articles as articles_sql
from store import audit as audit_sql
from store import chats as chats_sql
from store import db, locks
from store import digests as digests_sql
from store import feeds as feeds_sql
from store import keywords as keywords_sql
from store import ops as ops_sql
from store import outbox as outbox_sql
from store import stories as stories_sql
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
    StoreStatus,
    StoryFeatures,
    StoryRow,
    ThreadRow,
)
from store.pacing import StorePacing


class SqliteArticles:
    def __init__(self, db: Database) -> None:
        self._db = db

    def insert(self, items: Iterable[ArticleIn]) -> InsertReport:
        return articles_sql.insert_articles(self._db, items)

    def get(self, article_id: int) -> Article | None:
        return articles_sql.get_article(self._db, article_id)

    def get_many(self, ids: Iterable[int]) -> dict[int, Article]:
        return articles_sql.get_articles(self._db, ids)

    def unchecked(self, limit: int = 500, after_id: int = 0) -> list[Article]:
        return articles_sql.unchecked_articles(self._db, limit, after_id)

    def latest(self, limit: int = 5) -> list[Article]:
        return articles_sql.latest_articles(self._db, limit)

    def recent(self, limit: int = 2000) -> list[Article]:
        return articles_sql.recent_articles(self._db, limit)

    def fts_expression(self, query: str) -> str:
        return articles_sql.fts_expression(query)

    def search(self, query: str, limit: int = 5) -> list[Article]:
        return articles_sql.search_articles(self._db, query, limit)

    def count(self) -> int:
        return articles_sql.count_articles(self._db)

    def delete_older_than(self, days: int) -> int:
        return articles_sql.delete_older_than(self._db, days)


class SqliteAudit:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, actor: str, action: str, detail: str = "") -> None:
        return audit_sql.record_audit(self._db, actor, action, detail)

    def entries(self, limit: int = 100) -> list[AuditEntry]:
        return audit_sql.audit_entries(self._db, limit)


class SqliteChats:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, platform: str, address: str) -> Chat | None:
        return chats_sql.get_chat(self._db, platform, address)

    def get_by_id(self, chat_id: int) -> Chat | None:
        return chats_sql.get_chat_by_id(self._db, chat_id)

    def ensure(self, platform: str, address: str, language: str, title: str = "") -> Chat:
        return chats_sql.ensure_chat(self._db, platform, address, language, title)

    def set_language(self, chat: Chat, language: str) -> None:
        return chats_sql.set_language(self._db, chat, language)

    def set_active(self, chat_id: int, active: bool, reason: str = "") -> None:
        return chats_sql.set_active(self._db, chat_id, active, reason)

    def subscribe(
        self,
        chat: Chat,
        keywords: Iterable[Keyword],
        follow_all: bool | None = None,
    ) -> int:
        return chats_sql.subscribe(self._db, chat, keywords, follow_all)

    def unsubscribe(self, chat: Chat, keywords: Iterable[Keyword] | None = None) -> int:
        return chats_sql.unsubscribe(self._db, chat, keywords)

    def keywords(self, chat: Chat) -> list[Keyword]:
        return chats_sql.chat_keywords(self._db, chat)

    def subscribers(self) -> dict[str, list[int]]:
        return chats_sql.subscribers(self._db)

    def migrate(self, platform: str, old_address: str, new_address: str) -> bool:
        return chats_sql.migrate_chat(self._db, platform, old_address, new_address)

    def set_digest(self, chat_id: int, mode: str, at: str | None = None) -> None:
        return chats_sql.set_digest(self._db, chat_id, mode, at)

    def set_quiet(self, chat_id: int, start: str | None, end: str | None) -> None:
        return chats_sql.set_quiet(self._db, chat_id, start, end)

    def set_paused_until(self, chat_id: int, until: datetime | None) -> int:
        return chats_sql.set_paused_until(self._db, chat_id, until)

    def set_timezone(self, chat_id: int, zone: str | None) -> None:
        return chats_sql.set_timezone(self._db, chat_id, zone)

    def set_hold(self, chat_id: int, hold: bool) -> int:
        return chats_sql.set_hold(self._db, chat_id, hold)

    def with_modes(self) -> list[Chat]:
        return chats_sql.with_modes(self._db)

    def waiting_count(self, chat_id: int) -> int:
        return chats_sql.waiting_count(self._db, chat_id)


class SqliteDigests:
    def __init__(self, db: Database) -> None:
        self._db = db

    def open(self, chat_id: int, created_at: datetime, period_start: datetime | None) -> int | None:
        return digests_sql.open_digest(self._db, chat_id, created_at, period_start)

    def claim_open(
        self, lease_seconds: float, platforms: Iterable[str] | None = None, limit: int = 50
    ) -> list[DigestClaim]:
        return digests_sql.claim_open(self._db, lease_seconds, platforms, limit)

    def set_parts(self, digest_id: int, parts: Sequence[DigestPart]) -> list[DigestPart]:
        return digests_sql.set_parts(self._db, digest_id, parts)

    def part_sent(
        self, digest_id: int, seq: int, message_id: str | None, lease_seconds: float
    ) -> None:
        return digests_sql.part_sent(self._db, digest_id, seq, message_id, lease_seconds)

    def part_failed(self, digest_id: int, seq: int, error: str) -> None:
        return digests_sql.part_failed(self._db, digest_id, seq, error)

    def retry(self, digest_id: int, error: str, delay_seconds: float) -> None:
        return digests_sql.retry(self._db, digest_id, error, delay_seconds)

    def renew_lease(self, digest_ids: Sequence[int], lease_seconds: float) -> None:
        return digests_sql.renew_lease(self._db, digest_ids, lease_seconds)

    def release(self, digest_id: int) -> None:
        return digests_sql.release(self._db, digest_id)

    def skip_for_chat(self, chat_id: int, reason: str) -> int:
        return digests_sql.skip_for_chat(self._db, chat_id, reason)

    def counts(self) -> dict[str, int]:
        return digests_sql.counts(self._db)


class SqliteFeeds:
    def __init__(self, db: Database) -> None:
        self._db = db

    def sync(self, feeds: Iterable[tuple[str, str, int]]) -> list[FeedRow]:
        return feeds_sql.sync_feeds(self._db, feeds)

    def all(self) -> list[FeedRow]:
        return feeds_sql.list_feeds(self._db)

    def get(self, url: str) -> FeedRow | None:
        return feeds_sql.get_feed(self._db, url)

    def record_poll(
        self,
        url: str,
        *,
        etag: str | None,
        last_modified: str | None,
        error: str | None,
        next_in_seconds: float,
    ) -> None:
        return feeds_sql.record_poll(
            self._db,
            url,
            etag=etag,
            last_modified=last_modified,
            error=error,
            next_in_seconds=next_in_seconds,
        )

    def waiting(self, url: str) -> bool:
        return feeds_sql.feed_waiting(self._db, url)

    def find(self, text: str) -> FeedRow | None:
        return feeds_sql.find_feed(self._db, text)

    def add(
        self,
        url: str,
        name: str,
        interval: int,
        actor: str,
        chat_id: int | None = None,
    ) -> FeedRow | None:
        return feeds_sql.add_feed(self._db, url, name, interval, actor, chat_id)

    def remove(self, text: str, actor: str) -> FeedRow | None:
        return feeds_sql.remove_feed(self._db, text, actor)

    def seed(self, feeds: Iterable[tuple[str, str, int]], actor: str = "config") -> bool:
        return feeds_sql.seed_feeds(self._db, feeds, actor)

    def drift_from_config(self, urls: Iterable[str]) -> tuple[list[str], list[str]]:
        return feeds_sql.feed_drift(self._db, urls)

    def recent_counts(self, seconds: float) -> dict[str, int]:
        return feeds_sql.recent_counts(self._db, seconds)

    def set_failure_notified(self, url: str, at: str | None) -> None:
        return feeds_sql.set_failure_notified(self._db, url, at)

    def claim_poll(self, url: str, interval: float) -> bool:
        return feeds_sql.claim_poll(self._db, url, interval)


class SqliteKeywords:
    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> list[Keyword]:
        return keywords_sql.list_keywords(self._db)

    def signature(self) -> tuple[int, int, int]:
        return keywords_sql.keyword_signature(self._db)

    def find(self, query: str) -> Keyword | None:
        return keywords_sql.find_keyword(self._db, query)

    def find_many(self, texts: Iterable[str]) -> dict[str, Keyword]:
        return keywords_sql.find_keywords(self._db, texts)

    def longest_words(self) -> int:
        return keywords_sql.longest_keyword_words(self._db)

    def refresh_norms(self) -> int:
        return keywords_sql.refresh_norms(self._db)

    def add(self, query: str, actor: str) -> Keyword | None:
        return keywords_sql.add_keyword(self._db, query, actor)

    def remove(self, query: str, actor: str) -> Keyword | None:
        return keywords_sql.remove_keyword(self._db, query, actor)

    def seed(self, queries: Iterable[str], actor: str = "config") -> bool:
        return keywords_sql.seed_keywords(self._db, queries, actor)

    def drift_from_config(self, queries: Iterable[str]) -> tuple[list[str], list[str]]:
        return keywords_sql.drift_from_config(self._db, queries)


class SqliteOutbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record_matches(self, checked_ids: Iterable[int], queued: Iterable[Queued]) -> int:
        return outbox_sql.record_matches(self._db, checked_ids, queued)

    def claim_due(
        self,
        limit: int,
        lease_seconds: float = 120.0,
        platforms: Iterable[str] | None = None,
    ) -> list[OutboxItem]:
        return outbox_sql.claim_due(self._db, limit, lease_seconds, platforms)

    def mark_sent(self, item_id: int, message_id: str | None) -> None:
        return outbox_sql.mark_sent(self._db, item_id, message_id)

    def mark_retry(
        self,
        item_id: int,
        error: str,
        delay_seconds: float,
        count_attempt: bool = True,
    ) -> None:
        return outbox_sql.mark_retry(self._db, item_id, error, delay_seconds, count_attempt)

    def mark_failed(self, item_id: int, error: str) -> None:
        return outbox_sql.mark_failed(self._db, item_id, error)

    def skip_item(self, item_id: int, reason: str) -> None:
        return outbox_sql.skip_item(self._db, item_id, reason)

    def to_reply(self, item_id: int, error: str) -> None:
        return outbox_sql.to_reply(self._db, item_id, error)

    def thread(self, head_id: int) -> list[ThreadRow]:
        return outbox_sql.thread(self._db, head_id)

    def renew_lease(self, item_ids: Iterable[int], lease_seconds: float) -> None:
        return outbox_sql.renew_lease(self._db, item_ids, lease_seconds)

    def release(self, item_ids: Iterable[int]) -> None:
        return outbox_sql.release(self._db, item_ids)

    def skip_for_chat(self, chat_id: int, reason: str) -> int:
        return outbox_sql.skip_for_chat(self._db, chat_id, reason)

    def recent_sends(self, seconds: float) -> list[tuple[str, str, float]]:
        return outbox_sql.recent_sends(self._db, seconds)

    def counts(self) -> dict[str, int]:
        return outbox_sql.counts(self._db)

    def delete_sent_older_than(self, days: int) -> int:
        return outbox_sql.delete_sent_older_than(self._db, days)

    def matches_since(
        self,
        chat_id: int,
        since: datetime,
    ) -> list[tuple[datetime, tuple[str, ...]]]:
        return outbox_sql.matches_since(self._db, chat_id, since)


class SqliteMeta:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> str | None:
        return ops_sql.meta_get(self._db, key)

    def set(self, values: Mapping[str, str]) -> None:
        return ops_sql.meta_set(self._db, values)


class SqliteStories:
    """``bot.stories.CandidateSource`` in SQL, plus stories as listed."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def recent(self, key: str, lo: datetime, hi: datetime, limit: int) -> list[int]:
        return stories_sql.recent(self._db, key, lo, hi, limit)

    def recent_many(
        self, keys: list[str], lo: datetime, hi: datetime, limit: int
    ) -> list[list[int]]:
        return stories_sql.recent_many(self._db, keys, lo, hi, limit)

    def features(self, ids: Iterable[int]) -> dict[int, StoryFeatures]:
        return stories_sql.features(self._db, ids)

    def stories(self, ids: Iterable[int]) -> dict[int, int]:
        return stories_sql.stories(self._db, ids)

    def add(self, article_id: int, features: StoryFeatures, story_id: int) -> None:
        return stories_sql.add(self._db, article_id, features, story_id)

    def unassigned(self, limit: int = 500) -> list[int]:
        return stories_sql.unassigned(self._db, limit)

    def data_version(self) -> int:
        return stories_sql.data_version(self._db)

    def story_of(self, article_id: int) -> int | None:
        return stories_sql.story_of(self._db, article_id)

    def latest(self, limit: int | None = None) -> list[StoryRow]:
        return stories_sql.latest_stories(self._db, limit)

    def articles_of(self, story_id: int) -> list[Article]:
        return stories_sql.articles_of(self._db, story_id)


class SqliteBlocks:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, chat_id: int, query: str, actor: str) -> bool:
        return actions_sql.add_block(self._db, chat_id, query, actor)

    def remove(self, chat_id: int, query: str, actor: str) -> str | None:
        return actions_sql.remove_block(self._db, chat_id, query, actor)

    def of_chat(self, chat_id: int) -> list[str]:
        return actions_sql.chat_blocks(self._db, chat_id)

    def blockers(self) -> dict[str, list[int]]:
        return actions_sql.blockers(self._db)


class SqliteActions:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, action_id: int) -> ChatAction | None:
        return actions_sql.get_action(self._db, action_id)

    def mute(
        self,
        chat_id: int,
        keyword_id: int,
        actor: str,
        keyboard: Sequence[tuple[str, str]] = (),
    ) -> ChatAction | None:
        return actions_sql.mute(self._db, chat_id, keyword_id, actor, keyboard)

    def undo(self, action_id: int, actor: str) -> ChatAction | None:
        return actions_sql.undo(self._db, action_id, actor)

    def record_pause(
        self, chat_id: int, actor: str, keyboard: Sequence[tuple[str, str]] = ()
    ) -> ChatAction | None:
        return actions_sql.record_pause(self._db, chat_id, actor, keyboard)


class SqliteStore:
    """An open SQLite database file (or ":memory:") behind the ``Store`` seam."""

    def __init__(self, database: Database) -> None:
        self.db = database  # the sqlite-utils handle, for this implementation and its tests
        self.articles = SqliteArticles(database)
        self.audit = SqliteAudit(database)
        self.chats = SqliteChats(database)
        self.feeds = SqliteFeeds(database)
        self.keywords = SqliteKeywords(database)
        self.outbox = SqliteOutbox(database)
        self.meta = SqliteMeta(database)
        self.stories = SqliteStories(database)
        self.digests = SqliteDigests(database)
        self.blocks = SqliteBlocks(database)
        self.actions = SqliteActions(database)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @property
    def path(self) -> str:
        return db.db_file(self.db)

    @property
    def schema_version(self) -> int:
        return db.schema_version(self.db)

    def pacing(self, platform: str, clock: Callable[[], float] | None = None) -> StorePacing:
        return StorePacing(self.db, platform, clock or time.time)

    @contextmanager
    def transaction(self) -> Iterator[SqliteStore]:
        with db.transaction(self.db):
            yield self

    def reader(self) -> SqliteStore | None:
        """A read-only connection to the same file, opened in the calling thread (no SQL runs
        on this store's own connection, so any thread may ask)."""
        file = db.db_file(self.db)
        return SqliteStore(db.open_reader(file)) if file else None

    def check_alive(self) -> None:
        db.check_alive(self.db)

    def integrity_ok(self) -> bool:
        return db.integrity_ok(self.db)

    def status(self) -> StoreStatus:
        return ops_sql.store_status(self.db)

    def backup(self, target: str | Path, *, overwrite: bool = False) -> int:
        return ops_sql.backup(self.db, target, overwrite=overwrite)

    def close(self) -> None:
        self.db.close()

    def exclusive(self, name: str) -> AbstractContextManager[bool]:
        return locks.exclusive(self.db, name)

    def leader(self, name: str) -> locks.Leader:
        return locks.Leader(name)


def open_store(path: str | Path, *, busy_timeout_ms: int = 10_000) -> SqliteStore:
    """Open (creating if needed, mode 0600) and migrate the SQLite store at ``path``; a
    ``postgresql://`` URL opens the PostgreSQL store (``store.postgres``) instead."""
    if isinstance(path, str) and path.startswith(("postgresql://", "postgres://")):
        from store.postgres import open_pg_store

        return open_pg_store(path)
    return SqliteStore(db.open_db(path, busy_timeout_ms=busy_timeout_ms))
