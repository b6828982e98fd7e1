"""Chats (a Telegram chat, a Slack channel, the console) and their keyword subscriptions."""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from store.audit import record_audit
from store.clock import now_db
from store.db import transaction
from store.keywords import Keyword
from store.models import Chat

CHAT_COLUMNS = "id, platform, address, title, language, follow_all, active"


def _chat(row: tuple) -> Chat:
    return Chat(row[0], row[1], row[2], row[3], row[4], bool(row[5]), bool(row[6]))


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
