"""The outbox: one row per (article, chat), unique, written in the same transaction that marks
the article checked. Delivery claims due rows with a lease, so two instances never send the same
row at once and a crashed instance's claims come back after the lease runs out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database

from store.chats import PAUSED
from store.clock import from_db, now_db, to_db, utcnow
from store.db import transaction
from store.dialect import POSTGRESQL, SQLITE, dialect, serialize
from store.models import EDIT, REPLY, SEND, OutboxItem, Queued, ThreadRow


def record_matches(db: Database, checked_ids: Iterable[int], queued: Iterable[Queued]) -> int:
    """Queue alerts and mark the articles checked, atomically. Returns rows newly queued
    (a row that already exists for the same article and chat is left alone)."""
    now = now_db()
    added = 0
    states: dict[int, tuple[str, str | None]] = {}
    with transaction(db):
        for item in queued:
            story, head = _story_and_head(db, item)
            if item.chat_id not in states:
                states[item.chat_id] = _arrival(db, item.chat_id, now)
            status, error = states[item.chat_id]
            cursor = db.conn.execute(
                "INSERT OR IGNORE INTO outbox (article_id, chat_id, keywords, next_attempt_at,"
                " created_at, story_id, head_id, kind, status, last_error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    item.article_id,
                    item.chat_id,
                    json.dumps(list(item.keywords)),
                    now,
                    now,
                    story,
                    head,
                    EDIT if head else SEND,
                    status,
                    error,
                ],
            )
            added += cursor.rowcount
        db.conn.executemany(
            "UPDATE articles SET checked_at = ? WHERE id = ? AND checked_at IS NULL",
            [(now, article_id) for article_id in checked_ids],
        )
    return added


def _arrival(db: Database, chat_id: int, now: str) -> tuple[str, str | None]:
    """The status a new alert of the chat starts in: skipped while the chat is paused (it is
    counted on resume, never sent), held while the chat holds its alerts (digest mode, quiet
    hours), else pending."""
    row = db.conn.execute("SELECT paused_until, hold FROM chats WHERE id = ?", [chat_id]).fetchone()
    if row is None:
        return "pending", None
    if row[0] is not None and row[0] > now:
        return "skipped", PAUSED
    return ("held", None) if row[1] else ("pending", None)


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
    """Take up to `limit` messages that are due (or whose lease expired) for active chats.

    A story's first message to a chat carries the later articles of the story already queued
    for it (one message, not a message and an edit). A later article waits until that message
    is sent, then all of the story's waiting rows of one kind for the chat go as one edit (or
    one reply), and never while another edit of the same message is in flight: edits of one
    message are serialised across instances. A later article whose first message was refused
    or skipped becomes the story's first message in that chat instead. Rows are read in the
    claim order the ``outbox_claim`` index serves (no sort of every due row)."""
    now = now_db()
    where_platform = ""
    params: list[object] = [now, now, now]
    if platforms is not None:
        names = list(platforms)
        where_platform = f" AND c.platform IN ({','.join('?' * len(names))})"
        params += names
    claimed: list[OutboxItem] = []
    with transaction(db):
        serialize(db, "outbox.claim")  # the story grouping below reads rows beyond its own
        rows = db.conn.execute(
            "SELECT o.id, o.article_id, o.chat_id, o.keywords, o.attempts, c.platform,"
            " c.address, c.language, o.kind, o.story_id, o.head_id, h.message_id, h.status,"
            " o.created_at, c.timezone, h.digest_id FROM outbox o INDEXED BY outbox_claim"
            " JOIN chats c ON c.id = o.chat_id"
            " LEFT JOIN outbox h ON h.id = o.head_id"
            " WHERE o.status IN ('pending', 'sending') AND o.next_attempt_at <= ?"
            " AND c.active = 1 AND c.hold = 0"
            " AND ((o.status = 'pending' AND o.next_attempt_at <= ?)"
            f" OR (o.status = 'sending' AND o.lease_until <= ?)){where_platform}"
            " AND (o.head_id IS NULL OR h.id IS NULL OR h.status IN ('sent', 'failed', 'skipped'))"
            " ORDER BY o.next_attempt_at, o.id LIMIT ?" + _SKIP_LOCKED[dialect(db)],
            [*params, limit],
        ).fetchall()
        taken: set[int] = set()
        lease = now_db(lease_seconds)
        for r in rows:
            row_id, head_id, head_status = r[0], r[10], r[12]
            if row_id in taken:
                continue
            if head_id is not None and (head_status != "sent" or r[15] is not None):
                # the first message was refused, skipped, removed by retention or went inside
                # a digest (no message of its own to edit): this row is the story's first
                # message in the chat now (claimed as such next time)
                _promote(db, head_id, row_id)
                taken.add(row_id)
                continue
            group = _claimable_group(db, row_id, head_id, r[8], now)
            if not group:
                continue
            taken.update(group)
            db.conn.execute(
                f"UPDATE outbox SET status = 'sending', lease_until = ? WHERE id IN"
                f" ({','.join('?' * len(group))})",
                [lease, *group],
            )
            claimed.append(
                OutboxItem(
                    row_id,
                    r[1],
                    r[2],
                    tuple(json.loads(r[3])),
                    r[4],
                    r[5],
                    r[6],
                    r[7],
                    kind=r[8],
                    story_id=r[9],
                    head_id=head_id,
                    head_message_id=r[11],
                    group=tuple(group),
                    queued_at=from_db(r[13]),
                    timezone=r[14],
                )
            )
    return claimed


# PostgreSQL: rows another instance is writing (marking sent, renewing) are skipped, not
# waited for; SQLite has one writer at a time (BEGIN IMMEDIATE), nothing to skip
_SKIP_LOCKED = {SQLITE: "", POSTGRESQL: " FOR UPDATE OF o SKIP LOCKED"}

_WAITING = "(status = 'pending' OR (status = 'sending' AND lease_until <= ?))"


def _claimable_group(
    db: Database,
    row_id: int,
    head_id: int | None,
    kind: str,
    now: str,
) -> list[int]:
    """The rows one message carries: a first message and the story's rows queued behind it;
    or every waiting row of one kind behind a sent first message ([] while another edit of
    that message is in flight)."""
    if head_id is None:
        rest = db.conn.execute(
            f"SELECT id FROM outbox WHERE head_id = ? AND {_WAITING} ORDER BY id",
            [row_id, now],
        ).fetchall()
        return [row_id, *(x[0] for x in rest)]
    busy = db.conn.execute(
        "SELECT 1 FROM outbox WHERE head_id = ? AND status = 'sending' AND lease_until > ?",
        [head_id, now],
    ).fetchone()
    if busy:
        return []
    rest = db.conn.execute(
        f"SELECT id FROM outbox WHERE head_id = ? AND kind = ? AND id != ? AND {_WAITING}"
        " ORDER BY id",
        [head_id, kind, row_id, now],
    ).fetchall()
    return [row_id, *(x[0] for x in rest)]


def _promote(db: Database, old_head: int, new_head: int) -> None:
    """The story's first message in the chat was refused or skipped: ``new_head`` (a later
    article) takes its place, the other rows follow it."""
    db.conn.execute(
        "UPDATE outbox SET head_id = ? WHERE head_id = ? AND id != ?",
        [new_head, old_head, new_head],
    )
    db.conn.execute("UPDATE outbox SET head_id = ? WHERE id = ?", [new_head, old_head])
    db.conn.execute("UPDATE outbox SET head_id = NULL, kind = ? WHERE id = ?", [SEND, new_head])


def _carried(db: Database, item_id: int) -> list[int]:
    """``item_id`` and the rows its message carries (claimed with it, still 'sending')."""
    row = db.conn.execute(
        "SELECT head_id, kind, status FROM outbox WHERE id = ?", [item_id]
    ).fetchone()
    if row is None or row[2] != "sending":
        return [item_id]
    head_id, kind, _ = row
    if head_id is None:
        rest = db.conn.execute(
            "SELECT id FROM outbox WHERE head_id = ? AND status = 'sending'", [item_id]
        )
    else:
        rest = db.conn.execute(
            "SELECT id FROM outbox WHERE head_id = ? AND kind = ? AND status = 'sending'"
            " AND id != ?",
            [head_id, kind, item_id],
        )
    return [item_id, *(x[0] for x in rest)]


def _in(ids: list[int]) -> str:
    return f"({','.join('?' * len(ids))})"


def mark_sent(db: Database, item_id: int, message_id: str | None) -> None:
    """The message went (or the edit was made): the row and every row it carried are sent,
    with the message's id (an edit keeps the first message's id)."""
    with transaction(db):
        ids = _carried(db, item_id)
        db.conn.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, lease_until = NULL,"
            f" attempts = attempts + 1, last_error = NULL WHERE id IN {_in(ids)}",
            [now_db(), message_id, *ids],
        )


def mark_retry(
    db: Database, item_id: int, error: str, delay_seconds: float, count_attempt: bool = True
) -> None:
    """Back to pending, due again after `delay_seconds`; never dropped."""
    with transaction(db):
        ids = _carried(db, item_id)
        db.conn.execute(
            "UPDATE outbox SET status = 'pending', lease_until = NULL,"
            f" attempts = attempts + ?, last_error = ?, next_attempt_at = ? WHERE id IN {_in(ids)}",
            [int(count_attempt), error[:500], now_db(delay_seconds), *ids],
        )


def mark_failed(db: Database, item_id: int, error: str) -> None:
    """The platform will never accept this message (not the chat's fault): kept for
    inspection with status 'failed', not retried. Rows a refused first message carried wait
    again (one of them becomes the story's first message)."""
    with transaction(db):
        _release_carried(db, item_id)
        ids = _carried(db, item_id)
        db.conn.execute(
            "UPDATE outbox SET status = 'failed', lease_until = NULL, attempts = attempts + 1,"
            f" last_error = ? WHERE id IN {_in(ids)}",
            [error[:500], *ids],
        )


def _release_carried(db: Database, item_id: int) -> None:
    """A first message that will not go: the later rows it carried wait again."""
    db.conn.execute(
        "UPDATE outbox SET status = 'pending', lease_until = NULL WHERE head_id = ?"
        " AND status = 'sending' AND (SELECT head_id FROM outbox WHERE id = ?) IS NULL",
        [item_id, item_id],
    )


def skip_item(db: Database, item_id: int, reason: str) -> None:
    with transaction(db):
        _release_carried(db, item_id)
        ids = _carried(db, item_id)
        db.conn.execute(
            f"UPDATE outbox SET status = 'skipped', lease_until = NULL, last_error = ?"
            f" WHERE id IN {_in(ids)}",
            [reason[:500], *ids],
        )


def to_reply(db: Database, item_id: int, error: str) -> None:
    """The platform refused to edit the story's first message: the rows of that edit go as
    one short reply to it instead, at once (paced like any send)."""
    with transaction(db):
        ids = _carried(db, item_id)
        db.conn.execute(
            f"UPDATE outbox SET kind = '{REPLY}', status = 'pending', lease_until = NULL,"
            f" last_error = ?, next_attempt_at = ? WHERE id IN {_in(ids)}",
            [error[:500], now_db(), *ids],
        )


def thread(db: Database, head_id: int) -> list[ThreadRow]:
    """The story's first message to a chat and every later row of the story for that chat,
    oldest first."""
    rows = db.conn.execute(
        "SELECT o.id, o.article_id, o.keywords, o.kind, o.status, a.origin FROM outbox o"
        " JOIN articles a ON a.id = o.article_id WHERE o.id = ? OR o.head_id = ? ORDER BY o.id",
        [head_id, head_id],
    )
    return [ThreadRow(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], r[5] or "") for r in rows]


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
            " WHERE chat_id = ? AND status IN ('pending', 'sending', 'held', 'digest')",
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


def matches_since(
    db: Database, chat_id: int, since: datetime
) -> list[tuple[datetime, tuple[str, ...]]]:
    """(queued at, matched keywords) of every alert queued for the chat since ``since``,
    whatever became of it (sent, waiting, skipped): the chat's matches, for `stats`."""
    rows = db.conn.execute(
        "SELECT created_at, keywords FROM outbox WHERE chat_id = ? AND created_at >= ?"
        " ORDER BY created_at",
        [chat_id, to_db(since)],
    )
    found = []
    for created, keywords in rows:
        at = from_db(created)
        if at is not None:
            found.append((at, tuple(json.loads(keywords))))
    return found
