"""Feeds: the feed list and each feed's polling state (conditional GET, backoff, health).

The database is the source of truth: the config file's ``[[feeds]]`` seed it once (a meta
flag, as for keywords); afterwards feeds are added and removed from the chat or the CLI, each
change with an audit row in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from store.audit import record_audit
from store.clock import now_db
from store.db import transaction
from store.dialect import POSTGRESQL, dialect
from store.models import FeedRow

COLUMNS = (
    "id, url, name, interval_seconds, etag, last_modified, failures, last_error,"
    " last_polled_at, next_poll_at, added_at, added_by, added_chat_id, last_ok_at,"
    " failing_since, failure_notified_at"
)
SEEDED_KEY = "feeds_seeded"


def sync_feeds(db: Database, feeds: Iterable[tuple[str, str, int]]) -> list[FeedRow]:
    """Make the feeds table hold the configured (url, name, interval) set; state is kept
    for feeds that stay."""
    feeds = list(feeds)
    with transaction(db):
        for url, name, interval in feeds:
            db.conn.execute(
                "INSERT INTO feeds (url, name, interval_seconds) VALUES (?, ?, ?)"
                " ON CONFLICT(url) DO UPDATE SET name = excluded.name,"
                " interval_seconds = excluded.interval_seconds",
                [url, name, interval],
            )
        urls = [url for url, _, _ in feeds]
        marks = ",".join("?" * len(urls))
        db.conn.execute(f"DELETE FROM feeds WHERE url NOT IN ({marks})", urls)
    return list_feeds(db)


def list_feeds(db: Database) -> list[FeedRow]:
    return [FeedRow(*r) for r in db.conn.execute(f"SELECT {COLUMNS} FROM feeds ORDER BY id")]


def get_feed(db: Database, url: str) -> FeedRow | None:
    row = db.conn.execute(f"SELECT {COLUMNS} FROM feeds WHERE url = ?", [url]).fetchone()
    return FeedRow(*row) if row else None


def record_poll(
    db: Database,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    error: str | None,
    next_in_seconds: float,
) -> None:
    """After a poll: keep the validators, count consecutive failures, schedule the next."""
    with transaction(db):
        if error:
            db.conn.execute(
                "UPDATE feeds SET failures = failures + 1, last_error = ?, last_polled_at = ?,"
                " next_poll_at = ?, failing_since = coalesce(failing_since, ?) WHERE url = ?",
                [error[:500], now_db(), now_db(next_in_seconds), now_db(), url],
            )
        else:
            db.conn.execute(
                "UPDATE feeds SET failures = 0, last_error = NULL, etag = ?, last_modified = ?,"
                " last_polled_at = ?, next_poll_at = ?, last_ok_at = ?, failing_since = NULL"
                " WHERE url = ?",
                [etag, last_modified, now_db(), now_db(next_in_seconds), now_db(), url],
            )


def feed_waiting(db: Database, url: str) -> bool:
    """True while a failing feed's backoff has not run out."""
    row = db.conn.execute(
        "SELECT 1 FROM feeds WHERE url = ? AND failures > 0 AND next_poll_at > ?", [url, now_db()]
    ).fetchone()
    return row is not None


def find_feed(db: Database, text: str) -> FeedRow | None:
    """The feed whose URL is ``text``, else the first whose name is ``text`` (any case)."""
    row = db.conn.execute(f"SELECT {COLUMNS} FROM feeds WHERE url = ?", [text]).fetchone()
    if row is None:
        row = db.conn.execute(
            f"SELECT {COLUMNS} FROM feeds WHERE name != '' AND lower(name) = lower(?)"
            " ORDER BY id LIMIT 1",
            [text.strip()],
        ).fetchone()
    return FeedRow(*row) if row else None


def add_feed(
    db: Database, url: str, name: str, interval: int, actor: str, chat_id: int | None = None
) -> FeedRow | None:
    """Add a feed (audited); None when the URL is already there. ``chat_id`` is the chat it
    was added from (health notices go there)."""
    with transaction(db):
        if get_feed(db, url) is not None:
            return None
        db.conn.execute(
            "INSERT INTO feeds (url, name, interval_seconds, added_at, added_by, added_chat_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [url, name, interval, now_db(), actor, chat_id],
        )
        record_audit(db, actor, "feed.add", f"{url} {name}".strip())
    return get_feed(db, url)


def remove_feed(db: Database, text: str, actor: str) -> FeedRow | None:
    """Remove the feed named by URL or name (audited); None when there is none."""
    with transaction(db):
        feed = find_feed(db, text)
        if feed is None:
            return None
        db.conn.execute("DELETE FROM feeds WHERE id = ?", [feed.id])
        record_audit(db, actor, "feed.remove", f"{feed.url} {feed.name}".strip())
    return feed


def seed_feeds(db: Database, feeds: Iterable[tuple[str, str, int]], actor: str = "config") -> bool:
    """On the very first start, copy the config's feeds into the database; later starts
    leave it alone. A database that already holds feeds (from before feeds were managed)
    keeps them and gets the config's ones added. True if it seeded now."""
    feeds = list(feeds)
    with transaction(db):
        if db.conn.execute("SELECT 1 FROM meta WHERE key = ?", [SEEDED_KEY]).fetchone():
            return False
        for url, name, interval in feeds:
            db.conn.execute(
                "INSERT INTO feeds (url, name, interval_seconds, added_at, added_by)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(url) DO NOTHING",
                [url, name, interval, now_db(), actor],
            )
        db.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [SEEDED_KEY, now_db()])
        record_audit(db, actor, "feed.seed", ", ".join(url for url, _, _ in feeds))
    return True


def feed_drift(db: Database, urls: Iterable[str]) -> tuple[list[str], list[str]]:
    """(in config but not in the database, in the database but not in config)."""
    stored = {f.url for f in list_feeds(db)}
    wanted = list(dict.fromkeys(urls))
    return [u for u in wanted if u not in stored], sorted(stored - set(wanted))


def recent_counts(db: Database, seconds: float) -> dict[str, int]:
    """Articles ingested in the last ``seconds``, per origin (a feed's URL)."""
    rows = db.conn.execute(
        "SELECT origin, count(*) FROM articles WHERE ingested_at >= ? GROUP BY origin",
        [now_db(-seconds)],
    )
    return {origin: int(count) for origin, count in rows}


def set_failure_notified(db: Database, url: str, at: str | None) -> None:
    """Remember that the admins were told the feed fails (``at``), or that they were told it
    recovered (None)."""
    db.conn.execute("UPDATE feeds SET failure_notified_at = ? WHERE url = ?", [at, url])


def claim_poll(db: Database, url: str, interval: float) -> bool:
    """Several instances on one store: True for the one that polls the feed now. The claim
    moves ``next_poll_at`` an interval ahead; another instance's poll within half an interval
    finds it claimed (``record_poll`` sets the real next time after the poll). SQLite (one
    machine): always True, every poll runs as before."""
    if dialect(db) != POSTGRESQL:
        return True
    with transaction(db):
        cursor = db.conn.execute(
            "UPDATE feeds SET next_poll_at = ? WHERE url = ?"
            " AND (next_poll_at IS NULL OR next_poll_at <= ?)",
            [now_db(interval), url, now_db(interval / 2)],
        )
    return cursor.rowcount == 1 or get_feed(db, url) is None
