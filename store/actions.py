"""Per-chat blocked words and the changes alert buttons make (kept for their undo).

Every change is written with its audit row in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlite_utils import Database

from store.audit import record_audit
from store.clock import from_db, now_db
from store.db import transaction
from store.models import ChatAction

ACTION_COLUMNS = (
    "a.id, a.chat_id, a.kind, a.keyword_id, a.was_subscribed, a.was_follow_all, a.undone_at,"
    " k.query, a.keyboard, a.was_paused_until, a.was_paused_at"
)


def block_norm(query: str) -> str:
    return query.casefold()


def add_block(db: Database, chat_id: int, query: str, actor: str) -> bool:
    """Block ``query`` (canonical) in the chat; False when it already was."""
    with transaction(db):
        cursor = db.conn.execute(
            "INSERT INTO blocked_words (chat_id, query, norm, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(chat_id, norm) DO NOTHING",
            [chat_id, query, block_norm(query), now_db(), actor],
        )
        if cursor.rowcount:
            record_audit(db, actor, "block.add", f"{chat_id} {query}")
    return bool(cursor.rowcount)


def remove_block(db: Database, chat_id: int, query: str, actor: str) -> str | None:
    """Unblock ``query`` (case-insensitive); the stored spelling, None when not blocked."""
    with transaction(db):
        row = db.conn.execute(
            "SELECT id, query FROM blocked_words WHERE chat_id = ? AND norm = ?",
            [chat_id, block_norm(query)],
        ).fetchone()
        if row is None:
            return None
        db.conn.execute("DELETE FROM blocked_words WHERE id = ?", [row[0]])
        record_audit(db, actor, "block.remove", f"{chat_id} {row[1]}")
    return str(row[1])


def chat_blocks(db: Database, chat_id: int) -> list[str]:
    rows = db.conn.execute(
        "SELECT query FROM blocked_words WHERE chat_id = ? ORDER BY id", [chat_id]
    )
    return [row[0] for row in rows]


def blockers(db: Database) -> dict[str, list[int]]:
    """blocked query -> ids of the active chats that blocked it (one spelling per norm)."""
    rows = db.conn.execute(
        "SELECT b.norm, b.query, b.chat_id FROM blocked_words b JOIN chats c ON c.id = b.chat_id"
        " WHERE c.active = 1 ORDER BY b.id"
    )
    spelling: dict[str, str] = {}
    result: dict[str, list[int]] = {}
    for norm, query, chat_id in rows:
        result.setdefault(spelling.setdefault(norm, query), []).append(chat_id)
    return result


def _action(row: tuple) -> ChatAction:
    return ChatAction(
        row[0],
        row[1],
        row[2],
        row[3],
        bool(row[4]),
        bool(row[5]),
        undone=row[6] is not None,
        keyword=row[7] or "",
        keyboard=_keyboard(row[8]),
        was_paused_until=from_db(row[9]),
        was_paused_at=from_db(row[10]),
    )


def _keyboard(text: str) -> tuple[tuple[str, str], ...]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return ()
    if not isinstance(value, list):
        return ()
    return tuple((str(b[0]), str(b[1])) for b in value if isinstance(b, list) and len(b) == 2)


def get_action(db: Database, action_id: int) -> ChatAction | None:
    row = db.conn.execute(
        f"SELECT {ACTION_COLUMNS} FROM chat_actions a LEFT JOIN keywords k"
        " ON k.id = a.keyword_id WHERE a.id = ?",
        [action_id],
    ).fetchone()
    return _action(row) if row else None


def mute(
    db: Database,
    chat_id: int,
    keyword_id: int,
    actor: str,
    keyboard: Sequence[tuple[str, str]] = (),
) -> ChatAction | None:
    """Unsubscribe the chat from the keyword (it stops following new keywords, as the
    ``unsubscribe`` verb does), remembering what it had; None when chat or keyword is gone."""
    with transaction(db):
        chat = db.conn.execute("SELECT follow_all FROM chats WHERE id = ?", [chat_id]).fetchone()
        keyword = db.conn.execute(
            "SELECT query FROM keywords WHERE id = ?", [keyword_id]
        ).fetchone()
        if chat is None or keyword is None:
            return None
        removed = db.conn.execute(
            "DELETE FROM subscriptions WHERE chat_id = ? AND keyword_id = ?", [chat_id, keyword_id]
        ).rowcount
        db.conn.execute("UPDATE chats SET follow_all = 0 WHERE id = ?", [chat_id])
        cursor = db.conn.execute(
            "INSERT INTO chat_actions (chat_id, kind, keyword_id, was_subscribed, was_follow_all,"
            " keyboard, actor, created_at) VALUES (?, 'mute', ?, ?, ?, ?, ?, ?)",
            [
                chat_id,
                keyword_id,
                int(bool(removed)),
                int(chat[0]),
                json.dumps([list(b) for b in keyboard], ensure_ascii=False),
                actor,
                now_db(),
            ],
        )
        action_id = cursor.lastrowid
        record_audit(db, actor, "button.mute", f"{chat_id} {keyword[0]}")
    return ChatAction(
        action_id or 0,
        chat_id,
        "mute",
        keyword_id,
        bool(removed),
        bool(chat[0]),
        keyword=keyword[0],
        keyboard=tuple(keyboard),
    )


def undo(db: Database, action_id: int, actor: str) -> ChatAction | None:
    """Restore what the action changed (once); None when it is unknown or already undone."""
    with transaction(db):
        action = get_action(db, action_id)
        if action is None or action.undone:
            return None
        if action.kind == "mute" and action.keyword_id is not None:
            if action.was_subscribed:
                db.conn.execute(
                    "INSERT OR IGNORE INTO subscriptions (chat_id, keyword_id, created_at)"
                    " SELECT ?, id, ? FROM keywords WHERE id = ?",
                    [action.chat_id, now_db(), action.keyword_id],
                )
            db.conn.execute(
                "UPDATE chats SET follow_all = ? WHERE id = ?",
                [int(action.was_follow_all), action.chat_id],
            )
        if action.kind == "pause":  # the pause as it was, to the stored text (NULL: none)
            was = db.conn.execute(
                "SELECT was_paused_until, was_paused_at FROM chat_actions WHERE id = ?",
                [action_id],
            ).fetchone()
            db.conn.execute(
                "UPDATE chats SET paused_until = ?, paused_at = ? WHERE id = ?",
                [was[0], was[1], action.chat_id],
            )
        db.conn.execute("UPDATE chat_actions SET undone_at = ? WHERE id = ?", [now_db(), action_id])
        record_audit(
            db, actor, "button.undo", f"{action.chat_id} {action.kind} {action.keyword_id}"
        )
    return action


def record_pause(
    db: Database, chat_id: int, actor: str, keyboard: Sequence[tuple[str, str]] = ()
) -> ChatAction | None:
    """Remember the chat's pause (``paused_until`` / ``paused_at``, NULL when not paused)
    before a pause press changes it, audited; the caller pauses the chat in the same
    transaction. None when the chat is gone."""
    with transaction(db):
        cursor = db.conn.execute(
            "INSERT INTO chat_actions (chat_id, kind, was_paused_until, was_paused_at, keyboard,"
            " actor, created_at) SELECT id, 'pause', paused_until, paused_at, ?, ?, ? FROM chats"
            " WHERE id = ?",
            [json.dumps([list(b) for b in keyboard], ensure_ascii=False), actor, now_db(), chat_id],
        )
        if not cursor.rowcount:
            return None
        record_audit(db, actor, "button.pause", str(chat_id))
        action = get_action(db, cursor.lastrowid or 0)
    return action
