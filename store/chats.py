"""Chats (a Telegram chat, a Slack channel, the console) and their keyword subscriptions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database

from store.audit import record_audit
from store.clock import from_db, now_db, to_db
from store.db import transaction
from store.keywords import Keyword
from store.models import Chat

CHAT_COLUMNS = (
    "id, platform, address, title, language, follow_all, active, digest, digest_at,"
    " quiet_start, quiet_end, paused_until, paused_at, timezone, hold, last_digest_at"
)


def _chat(row: tuple) -> Chat:
    return Chat(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        bool(row[5]),
        bool(row[6]),
        digest=row[7] or "off",
        digest_at=row[8] or "07:00",
        quiet_start=row[9],
        quiet_end=row[10],
        paused_until=from_db(row[11]),
        paused_at=from_db(row[12]),
        timezone=row[13],
        hold=bool(row[14]),
        last_digest_at=from_db(row[15]),
    )


def get_chat(db: Database, platform: str, address: str) -> Chat | None:
    row = db.conn.execute(
        f"SELECT {CHAT_COLUMNS} FROM chats WHERE platform = ? AND address = ?",
        [platform, address],
    ).fetchone()
    return _chat(row) if row else None


def get_chat_by_id(db: Database, chat_id: int) -> Chat | None:
    row = db.conn.execute(f"SELECT {CHAT_COLUMNS} FROM chats WHERE id = ?", [chat_id]).fetchone()
    return _chat(row) if row else None


def ensure_chat(db: Database, platform: str, address: str, language: str, title: str = "") -> Chat:
    """The chat's row, created with `language` on first contact."""
    with transaction(db):
        db.conn.execute(
            "INSERT INTO chats (platform, address, title, language, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(platform, address) DO NOTHING",
            [platform, address, title, language, now_db()],
        )
    chat = get_chat(db, platform, address)
    assert chat is not None
    return chat


def set_language(db: Database, chat: Chat, language: str) -> None:
    with transaction(db):
        db.conn.execute("UPDATE chats SET language = ? WHERE id = ?", [language, chat.id])


def set_active(db: Database, chat_id: int, active: bool, reason: str = "") -> None:
    with transaction(db):
        db.conn.execute(
            "UPDATE chats SET active = ?, inactive_reason = ? WHERE id = ?",
            [int(active), None if active else reason, chat_id],
        )
        record_audit(
            db,
            "delivery",
            "chat.active" if active else "chat.inactive",
            f"{chat_id} {reason}".strip(),
        )


def subscribe(
    db: Database, chat: Chat, keywords: Iterable[Keyword], follow_all: bool | None = None
) -> int:
    """Subscribe to these keywords (reactivating the chat); returns how many were new."""
    added = 0
    with transaction(db):
        for keyword in keywords:
            cursor = db.conn.execute(
                "INSERT OR IGNORE INTO subscriptions (chat_id, keyword_id, created_at)"
                " VALUES (?, ?, ?)",
                [chat.id, keyword.id, now_db()],
            )
            added += cursor.rowcount
        db.conn.execute(
            "UPDATE chats SET active = 1, inactive_reason = NULL WHERE id = ?", [chat.id]
        )
        if follow_all is not None:
            db.conn.execute(
                "UPDATE chats SET follow_all = ? WHERE id = ?", [int(follow_all), chat.id]
            )
    return added


def unsubscribe(db: Database, chat: Chat, keywords: Iterable[Keyword] | None = None) -> int:
    """Drop these subscriptions (all when None); the chat stops following new keywords."""
    with transaction(db):
        if keywords is None:
            cursor = db.conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", [chat.id])
            removed = cursor.rowcount
        else:
            removed = 0
            for keyword in keywords:
                removed += db.conn.execute(
                    "DELETE FROM subscriptions WHERE chat_id = ? AND keyword_id = ?",
                    [chat.id, keyword.id],
                ).rowcount
        db.conn.execute("UPDATE chats SET follow_all = 0 WHERE id = ?", [chat.id])
    return removed


def chat_keywords(db: Database, chat: Chat) -> list[Keyword]:
    rows = db.conn.execute(
        "SELECT k.id, k.query FROM subscriptions s JOIN keywords k ON k.id = s.keyword_id"
        " WHERE s.chat_id = ? ORDER BY k.id",
        [chat.id],
    )
    return [Keyword(*row) for row in rows]


def subscribers(db: Database) -> dict[str, list[int]]:
    """keyword query -> ids of active chats subscribed to it."""
    rows = db.conn.execute(
        "SELECT k.query, s.chat_id FROM subscriptions s JOIN keywords k ON k.id = s.keyword_id"
        " JOIN chats c ON c.id = s.chat_id WHERE c.active = 1 ORDER BY s.chat_id"
    )
    result: dict[str, list[int]] = {}
    for query, chat_id in rows:
        result.setdefault(query, []).append(chat_id)
    return result


def migrate_chat(db: Database, platform: str, old_address: str, new_address: str) -> bool:
    """A Telegram group became a supergroup: keep its row (subscriptions, language, alerts)
    under the new id. False if there was nothing to move."""
    with transaction(db):
        if get_chat(db, platform, new_address):
            return False
        cursor = db.conn.execute(
            "UPDATE chats SET address = ? WHERE platform = ? AND address = ?",
            [new_address, platform, old_address],
        )
        # its forum topics (address "<chat>/<thread>") move with it
        db.conn.execute(
            "UPDATE chats SET address = ? || substr(address, ?) WHERE platform = ?"
            " AND substr(address, 1, ?) = ?",
            [new_address, len(old_address) + 1, platform, len(old_address) + 1, old_address + "/"],
        )
        if cursor.rowcount:
            record_audit(db, "platform", "chat.migrate", f"{old_address} -> {new_address}")
    return bool(cursor.rowcount)


# --- delivery modes (bot/delivery/modes.py decides; these only store) -------------------------


def set_digest(db: Database, chat_id: int, mode: str, at: str | None = None) -> None:
    """The chat's digest mode (and a daily digest's local HH:MM). Switching into a digest
    mode starts its first period now (no "missed" digest for the time before)."""
    with transaction(db):
        db.conn.execute(
            "UPDATE chats SET last_digest_at = ? WHERE id = ? AND digest = 'off' AND ? != 'off'",
            [now_db(), chat_id, mode],
        )
        db.conn.execute(
            "UPDATE chats SET digest = ?, digest_at = COALESCE(?, digest_at) WHERE id = ?",
            [mode, at, chat_id],
        )


def set_quiet(db: Database, chat_id: int, start: str | None, end: str | None) -> None:
    with transaction(db):
        db.conn.execute(
            "UPDATE chats SET quiet_start = ?, quiet_end = ? WHERE id = ?", [start, end, chat_id]
        )


def set_paused_until(db: Database, chat_id: int, until: datetime | None) -> int:
    """Pause until ``until`` (None: resume). Returns, on resume, how many matches were skipped
    during the pause; 0 otherwise."""
    with transaction(db):
        skipped = 0
        if until is None:
            row = db.conn.execute(
                "SELECT paused_at FROM chats WHERE id = ? AND paused_until IS NOT NULL", [chat_id]
            ).fetchone()
            if row is not None:
                skipped = paused_skipped(db, chat_id, row[0])
            db.conn.execute(
                "UPDATE chats SET paused_until = NULL, paused_at = NULL WHERE id = ?", [chat_id]
            )
        else:
            db.conn.execute(
                "UPDATE chats SET paused_until = ?, paused_at = COALESCE(paused_at, ?)"
                " WHERE id = ?",
                [to_db(until), now_db(), chat_id],
            )
    return skipped


PAUSED = "paused"  # outbox.last_error of a match skipped while its chat was paused


def paused_skipped(db: Database, chat_id: int, since: str | None) -> int:
    row = db.conn.execute(
        "SELECT count(*) FROM outbox WHERE chat_id = ? AND status = 'skipped'"
        " AND last_error = ? AND created_at >= ?",
        [chat_id, PAUSED, since or ""],
    ).fetchone()
    return int(row[0])


def set_timezone(db: Database, chat_id: int, zone: str | None) -> None:
    with transaction(db):
        db.conn.execute("UPDATE chats SET timezone = ? WHERE id = ?", [zone, chat_id])


def set_hold(db: Database, chat_id: int, hold: bool) -> int:
    """Hold the chat's new alerts (status 'held') or let them go (back to 'pending', due now);
    returns the rows moved. Rows in flight ('sending') are left to finish."""
    with transaction(db):
        db.conn.execute("UPDATE chats SET hold = ? WHERE id = ?", [int(hold), chat_id])
        if hold:
            cursor = db.conn.execute(
                "UPDATE outbox SET status = 'held' WHERE chat_id = ? AND status = 'pending'",
                [chat_id],
            )
        else:
            cursor = db.conn.execute(
                "UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE chat_id = ?"
                " AND status = 'held'",
                [now_db(), chat_id],
            )
    return cursor.rowcount


def with_modes(db: Database) -> list[Chat]:
    """Active chats with any delivery mode set (or still holding alerts): what the modes job
    looks at every run."""
    rows = db.conn.execute(
        f"SELECT {CHAT_COLUMNS} FROM chats WHERE active = 1 AND (digest != 'off'"
        " OR quiet_start IS NOT NULL OR paused_until IS NOT NULL OR hold = 1) ORDER BY id"
    )
    return [_chat(row) for row in rows]


def waiting_count(db: Database, chat_id: int) -> int:
    """Alerts of the chat waiting for a digest (held, or not yet claimed)."""
    row = db.conn.execute(
        "SELECT count(*) FROM outbox WHERE chat_id = ? AND status IN ('held', 'pending')",
        [chat_id],
    ).fetchone()
    return int(row[0])
