"""Digests: several alerts of one chat delivered as one or more messages, each alert exactly once.

``open_digest`` binds the chat's waiting outbox rows to a new digest (status 'digest',
``digest_id``) in one transaction, so no row is in two digests. The digest's messages are
rendered once and stored (``set_parts``); ``part_sent`` records one message and marks the rows it
carries sent in the same transaction. A digest whose holder died is claimed again when its lease
runs out and goes on with the parts not yet recorded: at most the one message in flight at a
crash is sent twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlite_utils import Database

from store.chats import CHAT_COLUMNS, _chat
from store.clock import from_db, now_db, to_db
from store.db import transaction
from store.models import DigestClaim, DigestPart, DigestRow


def open_digest(
    db: Database, chat_id: int, created_at: datetime, period_start: datetime | None
) -> int | None:
    """A new digest of every alert waiting for the chat (held or pending); its period ends at
    ``created_at`` (recorded as the chat's last digest). None when nothing waits."""
    now = now_db()
    with transaction(db):
        db.conn.execute(
            "UPDATE chats SET last_digest_at = ? WHERE id = ?", [to_db(created_at), chat_id]
        )
        waiting = [
            r[0]
            for r in db.conn.execute(
                "SELECT id FROM outbox WHERE chat_id = ? AND status IN ('held', 'pending')"
                " ORDER BY id",
                [chat_id],
            )
        ]
        if not waiting:
            return None
        cursor = db.conn.execute(
            "INSERT INTO digests (chat_id, created_at, period_start, next_attempt_at)"
            " VALUES (?, ?, ?, ?)",
            [chat_id, to_db(created_at), to_db(period_start), now],
        )
        digest_id = int(cursor.lastrowid or 0)
        db.conn.executemany(
            "UPDATE outbox SET status = 'digest', digest_id = ?, lease_until = NULL WHERE id = ?"
            " AND status IN ('held', 'pending')",
            [(digest_id, row_id) for row_id in waiting],
        )
    return digest_id


def claim_open(
    db: Database, lease_seconds: float, platforms: Iterable[str] | None = None, limit: int = 50
) -> list[DigestClaim]:
    """Digests not yet fully sent that are due and held by no one (or whose lease ran out),
    leased to the caller, oldest first."""
    now = now_db()
    params: list[object] = [now, now]
    where_platform = ""
    if platforms is not None:
        names = list(platforms)
        where_platform = f" AND c.platform IN ({','.join('?' * len(names))})"
        params += names
    claims: list[DigestClaim] = []
    with transaction(db):
        rows = db.conn.execute(
            "SELECT d.id, d.chat_id, d.created_at, d.period_start, d.attempts FROM digests d"
            " JOIN chats c ON c.id = d.chat_id WHERE d.status = 'sending' AND c.active = 1"
            " AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?)"
            f"{where_platform} ORDER BY d.id LIMIT ?",
            [*params, limit],
        ).fetchall()
        lease = now_db(lease_seconds)
        for digest_id, chat_id, created, start, attempts in rows:
            db.conn.execute("UPDATE digests SET lease_until = ? WHERE id = ?", [lease, digest_id])
            chat_row = db.conn.execute(
                f"SELECT {CHAT_COLUMNS} FROM chats WHERE id = ?", [chat_id]
            ).fetchone()
            claims.append(
                DigestClaim(
                    id=digest_id,
                    chat=_chat(chat_row),
                    created_at=from_db(created) or from_db(now),  # type: ignore[arg-type]
                    period_start=from_db(start),
                    rows=tuple(_rows(db, digest_id)),
                    parts=tuple(_parts(db, digest_id)),
                    attempts=attempts,
                )
            )
    return claims


def _rows(db: Database, digest_id: int) -> list[DigestRow]:
    rows = db.conn.execute(
        "SELECT id, article_id, keywords, story_id, created_at FROM outbox WHERE digest_id = ?"
        " ORDER BY id",
        [digest_id],
    )
    return [DigestRow(r[0], r[1], tuple(json.loads(r[2])), r[3], from_db(r[4])) for r in rows]


def _parts(db: Database, digest_id: int) -> list[DigestPart]:
    rows = db.conn.execute(
        "SELECT seq, payload, row_ids, status, message_id FROM digest_parts WHERE digest_id = ?"
        " ORDER BY seq",
        [digest_id],
    )
    return [DigestPart(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4]) for r in rows]


def set_parts(db: Database, digest_id: int, parts: Sequence[DigestPart]) -> list[DigestPart]:
    """Store the digest's rendered messages, once: a digest rendered before (by an instance
    that died after) keeps its first rendering. Returns the stored parts. Rows of the digest
    no part carries (an article removed since) are skipped."""
    with transaction(db):
        stored = _parts(db, digest_id)
        if stored:
            return stored
        db.conn.executemany(
            "INSERT INTO digest_parts (digest_id, seq, payload, row_ids) VALUES (?, ?, ?, ?)",
            [(digest_id, p.seq, p.payload, json.dumps(list(p.row_ids))) for p in parts],
        )
        carried = {r for p in parts for r in p.row_ids}
        orphans = [r.id for r in _rows(db, digest_id) if r.id not in carried]
        db.conn.executemany(
            "UPDATE outbox SET status = 'skipped', last_error = 'article no longer stored'"
            " WHERE id = ? AND status = 'digest'",
            [(row_id,) for row_id in orphans],
        )
        _finish_if_done(db, digest_id)
        return _parts(db, digest_id)


def part_sent(
    db: Database, digest_id: int, seq: int, message_id: str | None, lease_seconds: float
) -> None:
    """One message of the digest went: it and every row it carries are recorded as sent, in
    one transaction; the lease is extended for the next part."""
    now = now_db()
    with transaction(db):
        ids = _part_rows(db, digest_id, seq)
        if ids is None:
            return
        db.conn.execute(
            "UPDATE digest_parts SET status = 'sent', message_id = ?, sent_at = ?"
            " WHERE digest_id = ? AND seq = ?",
            [message_id, now, digest_id, seq],
        )
        db.conn.executemany(
            "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, lease_until = NULL,"
            " attempts = attempts + 1, last_error = NULL WHERE id = ? AND status = 'digest'",
            [(now, message_id, row_id) for row_id in ids],
        )
        db.conn.execute(
            "UPDATE digests SET lease_until = ?, last_error = NULL WHERE id = ?",
            [now_db(lease_seconds), digest_id],
        )
        _finish_if_done(db, digest_id)


def part_failed(db: Database, digest_id: int, seq: int, error: str) -> None:
    """The platform will never accept this message: it and its rows are kept as failed."""
    with transaction(db):
        ids = _part_rows(db, digest_id, seq)
        if ids is None:
            return
        db.conn.execute(
            "UPDATE digest_parts SET status = 'failed' WHERE digest_id = ? AND seq = ?",
            [digest_id, seq],
        )
        db.conn.executemany(
            "UPDATE outbox SET status = 'failed', last_error = ?, attempts = attempts + 1"
            " WHERE id = ? AND status = 'digest'",
            [(error[:500], row_id) for row_id in ids],
        )
        _finish_if_done(db, digest_id)


def _part_rows(db: Database, digest_id: int, seq: int) -> list[int] | None:
    """The outbox rows one message of the digest carries (None: no such message)."""
    row = db.conn.execute(
        "SELECT row_ids FROM digest_parts WHERE digest_id = ? AND seq = ?", [digest_id, seq]
    ).fetchone()
    return None if row is None else json.loads(row[0])


def _finish_if_done(db: Database, digest_id: int) -> None:
    left = db.conn.execute(
        "SELECT count(*) FROM digest_parts WHERE digest_id = ? AND status = 'pending'",
        [digest_id],
    ).fetchone()[0]
    if not left:  # every message recorded (or none to send: every article gone)
        db.conn.execute(
            "UPDATE digests SET status = 'sent', sent_at = ?, lease_until = NULL WHERE id = ?",
            [now_db(), digest_id],
        )


def retry(db: Database, digest_id: int, error: str, delay_seconds: float) -> None:
    """A transient failure: the digest (its parts not yet sent) goes again after the delay."""
    with transaction(db):
        db.conn.execute(
            "UPDATE digests SET lease_until = NULL, next_attempt_at = ?, last_error = ?,"
            " attempts = attempts + 1 WHERE id = ?",
            [now_db(delay_seconds), error[:500], digest_id],
        )


def renew_lease(db: Database, digest_ids: Sequence[int], lease_seconds: float) -> None:
    """The holder is alive and still sending these digests: their leases are extended."""
    lease = now_db(lease_seconds)
    with transaction(db):
        db.conn.executemany(
            "UPDATE digests SET lease_until = ? WHERE id = ? AND status = 'sending'"
            " AND lease_until IS NOT NULL",
            [(lease, digest_id) for digest_id in digest_ids],
        )


def release(db: Database, digest_id: int) -> None:
    """Hand the digest back untouched (stopping)."""
    with transaction(db):
        db.conn.execute("UPDATE digests SET lease_until = NULL WHERE id = ?", [digest_id])


def skip_for_chat(db: Database, chat_id: int, reason: str) -> int:
    """The chat is gone: its unsent digests are dropped (their rows are skipped with the
    chat's other waiting rows, ``outbox.skip_for_chat``)."""
    with transaction(db):
        cursor = db.conn.execute(
            "UPDATE digests SET status = 'skipped', lease_until = NULL, last_error = ?"
            " WHERE chat_id = ? AND status = 'sending'",
            [reason[:500], chat_id],
        )
    return cursor.rowcount


def counts(db: Database) -> dict[str, int]:
    rows = db.conn.execute("SELECT status, count(*) FROM digests GROUP BY status")
    return {status: n for status, n in rows}
