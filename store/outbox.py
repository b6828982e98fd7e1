"""The outbox: one row per (article, chat), unique, written in the same transaction that marks
the article checked. Delivery claims due rows with a lease, so two instances never send the same
row at once and a crashed instance's claims come back after the lease runs out."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlite_utils import Database

from store.clock import from_db, now_db, utcnow
from store.db import transaction
from store.models import OutboxItem, Queued

SEND, EDIT, REPLY = "send", "edit", "reply"  # outbox.kind: a new message, an edit of the story's
# first message in the chat (outbox.head_id), a short reply to it (the platform refused the edit)


def record_matches(db: Database, checked_ids: Iterable[int], queued: Iterable[Queued]) -> int:
    """Queue alerts and mark the articles checked, atomically. Returns rows newly queued
    (a row that already exists for the same article and chat is left alone)."""
    now = now_db()
    added = 0
    with transaction(db):
        for item in queued:
            story, head = _story_and_head(db, item)
            cursor = db.conn.execute(
                "INSERT OR IGNORE INTO outbox (article_id, chat_id, keywords, next_attempt_at,"
                " created_at, story_id, head_id, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [item.article_id, item.chat_id, json.dumps(list(item.keywords)), now, now,
                 story, head, EDIT if head else SEND],
            )
            added += cursor.rowcount
        db.conn.executemany(
            "UPDATE articles SET checked_at = ? WHERE id = ? AND checked_at IS NULL",
            [(now, article_id) for article_id in checked_ids],
        )
    return added


def _story_and_head(db: Database, item: Queued) -> tuple[int | None, int | None]:
    """The article's story, and the outbox row of that story's first message to this chat
    (None: this row is that message). Read inside the writing transaction: one head per
    (story, chat), whichever instance queues first (index outbox_story_head)."""
    row = db.conn.execute(
        "SELECT story_id FROM story_articles WHERE article_id = ?", [item.article_id]
    ).fetchone()
    if row is None:
        return None, None
    head = db.conn.execute(
        "SELECT id FROM outbox WHERE story_id = ? AND chat_id = ? AND head_id IS NULL",
        [row[0], item.chat_id],
    ).fetchone()
    return row[0], (head[0] if head else None)


def claim_due(
    db: Database, limit: int, lease_seconds: float = 120.0, platforms: Iterable[str] | None = None
) -> list[OutboxItem]:
    """Take up to `limit` rows that are due (or whose lease expired) for active chats."""
    now = now_db()
    where_platform = ""
    params: list[object] = [now, now]
    if platforms is not None:
        names = list(platforms)
        where_platform = f" AND c.platform IN ({','.join('?' * len(names))})"
        params += names
    with transaction(db):
        rows = db.conn.execute(
            "SELECT o.id, o.article_id, o.chat_id, o.keywords, o.attempts, c.platform,"
            " c.address, c.language FROM outbox o JOIN chats c ON c.id = o.chat_id"
            " WHERE c.active = 1 AND ((o.status = 'pending' AND o.next_attempt_at <= ?)"
            f" OR (o.status = 'sending' AND o.lease_until <= ?)){where_platform}"
            " ORDER BY o.next_attempt_at, o.id LIMIT ?",
            [*params, limit],
        ).fetchall()
        db.conn.executemany(
            "UPDATE outbox SET status = 'sending', lease_until = ? WHERE id = ?",
            [(now_db(lease_seconds), row[0]) for row in rows],
        )
    return [
        OutboxItem(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5], r[6], r[7])
        for r in rows
    ]


def mark_sent(db: Database, item_id: int, message_id: str | None) -> None:
    with transaction(db):
        db.conn.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, lease_until = NULL,"
            " attempts = attempts + 1, last_error = NULL WHERE id = ?",
            [now_db(), message_id, item_id],
        )


def mark_retry(
    db: Database, item_id: int, error: str, delay_seconds: float, count_attempt: bool = True
) -> None:
    """Back to pending, due again after `delay_seconds`; never dropped."""
    with transaction(db):
        db.conn.execute(
            "UPDATE outbox SET status = 'pending', lease_until = NULL,"
            " attempts = attempts + ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
            [int(count_attempt), error[:500], now_db(delay_seconds), item_id],
        )


def mark_failed(db: Database, item_id: int, error: str) -> None:
    """The platform will never accept this message (not the chat's fault): kept for
    inspection with status 'failed', not retried."""
    with transaction(db):
        db.conn.execute(
            "UPDATE outbox SET status = 'failed', lease_until = NULL, attempts = attempts + 1,"
            " last_error = ? WHERE id = ?",
            [error[:500], item_id],
        )


def skip_item(db: Database, item_id: int, reason: str) -> None:
    with transaction(db):
        db.conn.execute(
            "UPDATE outbox SET status = 'skipped', lease_until = NULL, last_error = ?"
            " WHERE id = ?",
            [reason[:500], item_id],
        )


def renew_lease(db: Database, item_ids: Iterable[int], lease_seconds: float) -> None:
    """Extend the lease of rows this instance still holds (it is alive and working)."""
    ids = list(item_ids)
    if not ids:
        return
    with transaction(db):
        db.conn.executemany(
            "UPDATE outbox SET lease_until = ? WHERE id = ? AND status = 'sending'",
            [(now_db(lease_seconds), i) for i in ids],
        )


def release(db: Database, item_ids: Iterable[int]) -> None:
    """Give claimed rows back untouched (shutdown before they were tried)."""
    with transaction(db):
        db.conn.executemany(
            "UPDATE outbox SET status = 'pending', lease_until = NULL WHERE id = ?"
            " AND status = 'sending'",
            [(i,) for i in item_ids],
        )


def skip_for_chat(db: Database, chat_id: int, reason: str) -> int:
    """The chat is gone (blocked the bot, deleted, archived): its waiting rows are skipped."""
    with transaction(db):
        cursor = db.conn.execute(
            "UPDATE outbox SET status = 'skipped', lease_until = NULL, last_error = ?"
            " WHERE chat_id = ? AND status IN ('pending', 'sending')",
            [reason[:500], chat_id],
        )
    return cursor.rowcount


def recent_sends(db: Database, seconds: float) -> list[tuple[str, str, float]]:
    """(platform, address, seconds ago) of alerts sent in the last `seconds`: so a restarted
    instance paces itself as if it had sent them (the rate limits span restarts)."""
    now = utcnow()
    rows = db.conn.execute(
        "SELECT c.platform, c.address, o.sent_at FROM outbox o JOIN chats c ON c.id = o.chat_id"
        " WHERE o.status = 'sent' AND o.sent_at > ? ORDER BY o.sent_at",
        [now_db(-seconds)],
    )
    return [(p, a, (now - from_db(t)).total_seconds()) for p, a, t in rows]  # type: ignore[operator]


def counts(db: Database) -> dict[str, int]:
    rows = db.conn.execute("SELECT status, count(*) FROM outbox GROUP BY status")
    return {status: n for status, n in rows}


def delete_sent_older_than(db: Database, days: int) -> int:
    with transaction(db):
        cursor = db.conn.execute(
            "DELETE FROM outbox WHERE status IN ('sent', 'skipped') AND created_at < ?",
            [now_db(-days * 86400)],
        )
    return cursor.rowcount
