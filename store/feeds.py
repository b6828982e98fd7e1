"""Feeds: the polling state of each configured feed (conditional GET, backoff)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from store.clock import now_db
from store.db import transaction
from store.models import FeedRow

COLUMNS = "id, url, name, interval_seconds, etag, last_modified, failures, last_error"


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
                " next_poll_at = ? WHERE url = ?",
                [error[:500], now_db(), now_db(next_in_seconds), url],
            )
        else:
            db.conn.execute(
                "UPDATE feeds SET failures = 0, last_error = NULL, etag = ?, last_modified = ?,"
                " last_polled_at = ?, last_ok_at = ?, next_poll_at = ? WHERE url = ?",
                [etag, last_modified, now_db(), now_db(), now_db(next_in_seconds), url],
            )


def feed_waiting(db: Database, url: str) -> bool:
    """True while a failing feed's backoff has not run out."""
    row = db.conn.execute(
        "SELECT 1 FROM feeds WHERE url = ? AND failures > 0 AND next_poll_at > ?", [url, now_db()]
    ).fetchone()
    return row is not None
