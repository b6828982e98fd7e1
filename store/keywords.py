"""The keyword set. The database is the single source of truth; the config file's `keywords`
seed it once, on first start. Every change is written with an audit row in one transaction."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlite_utils import Database

from store.audit import record_audit
from store.clock import now_db
from store.db import transaction
from store.models import Keyword

SEEDED_KEY = "keywords_seeded"


def list_keywords(db: Database) -> list[Keyword]:
    rows = db.conn.execute("SELECT id, query FROM keywords ORDER BY id")
    return [Keyword(*row) for row in rows]


def keyword_signature(db: Database) -> tuple[int, int, int]:
    """Changes whenever the keyword set does (ids are never reused): (count, max id, id sum)."""
    row = db.conn.execute("SELECT count(*), max(id), total(id) FROM keywords").fetchone()
    return int(row[0]), int(row[1] or 0), int(row[2])


_IN_CHUNK = 500  # bound parameters per `IN (...)` lookup


def keyword_norm(text: str) -> str:
    """The indexed lookup key of a query text: NFC, whitespace collapsed, casefolded."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def find_keyword(db: Database, query: str) -> Keyword | None:
    """Exact match first, then case-insensitive (one indexed lookup)."""
    row = db.conn.execute(
        "SELECT id, query FROM keywords WHERE norm = ? ORDER BY query = ? DESC, id LIMIT 1",
        [keyword_norm(query), query],
    ).fetchone()
    return Keyword(*row) if row else None


def find_keywords(db: Database, texts: Iterable[str]) -> dict[str, Keyword]:
    """``find_keyword`` for many texts in a few indexed lookups: text -> keyword, for each
    text that names one."""
    wanted = {text: keyword_norm(text) for text in texts}
    norms = sorted(set(wanted.values()))
    by_norm: dict[str, list[Keyword]] = {}
    for i in range(0, len(norms), _IN_CHUNK):
        chunk = norms[i : i + _IN_CHUNK]
        rows = db.conn.execute(
            f"SELECT id, query, norm FROM keywords WHERE norm IN ({','.join('?' * len(chunk))})"
            " ORDER BY id",
            chunk,
        )
        for keyword_id, query, norm in rows:
            by_norm.setdefault(norm, []).append(Keyword(keyword_id, query))
    found: dict[str, Keyword] = {}
    for text, norm in wanted.items():
        same = by_norm.get(norm)
        if same:
            found[text] = next((k for k in same if k.query == text), same[0])
    return found


def longest_keyword_words(db: Database) -> int:
    """The number of space-separated words of the longest stored query (at least 1)."""
    row = db.conn.execute(
        "SELECT max(length(norm) - length(replace(norm, ' ', ''))) FROM keywords"
    ).fetchone()
    return int(row[0] or 0) + 1


def refresh_norms(db: Database) -> int:
    """Recompute ``norm`` where it is stale (rows migrated with SQL's ASCII-only lower(), or
    edited by hand); the number of rows fixed."""
    rows = db.conn.execute("SELECT id, query, norm FROM keywords").fetchall()
    stale = [
        (keyword_norm(query), keyword_id)
        for keyword_id, query, norm in rows
        if norm != keyword_norm(query)
    ]
    if stale:
        with transaction(db):
            db.conn.executemany("UPDATE keywords SET norm = ? WHERE id = ?", stale)
    return len(stale)


def add_keyword(db: Database, query: str, actor: str) -> Keyword | None:
    """Add a (validated, canonical) query; None if it was already there. Chats that follow
    every keyword are subscribed to it at once."""
    with transaction(db):
        if find_keyword(db, query):
            return None
        cursor = db.conn.execute(
            "INSERT INTO keywords (query, norm, created_at, created_by) VALUES (?, ?, ?, ?)",
            [query, keyword_norm(query), now_db(), actor],
        )
        keyword = Keyword(int(cursor.lastrowid or 0), query)
        db.conn.execute(
            "INSERT OR IGNORE INTO subscriptions (chat_id, keyword_id, created_at)"
            " SELECT id, ?, ? FROM chats WHERE follow_all = 1",
            [keyword.id, now_db()],
        )
        record_audit(db, actor, "keyword.add", query)
    return keyword


def remove_keyword(db: Database, query: str, actor: str) -> Keyword | None:
    """Remove a query (and its subscriptions); None if there was no such query."""
    with transaction(db):
        keyword = find_keyword(db, query)
        if keyword is None:
            return None
        db.conn.execute("DELETE FROM subscriptions WHERE keyword_id = ?", [keyword.id])
        db.conn.execute("DELETE FROM keywords WHERE id = ?", [keyword.id])
        record_audit(db, actor, "keyword.remove", keyword.query)
    return keyword


def seed_keywords(db: Database, queries: Iterable[str], actor: str = "config") -> bool:
    """On the very first start, copy the config's keywords into the database. Later starts
    leave the database alone (it is the source of truth). True if it seeded now."""
    refresh_norms(db)
    with transaction(db):
        if db.conn.execute("SELECT 1 FROM meta WHERE key = ?", [SEEDED_KEY]).fetchone():
            return False
        for query in queries:
            if not find_keyword(db, query):
                db.conn.execute(
                    "INSERT INTO keywords (query, norm, created_at, created_by)"
                    " VALUES (?, ?, ?, ?)",
                    [query, keyword_norm(query), now_db(), actor],
                )
        db.table("meta").insert({"key": SEEDED_KEY, "value": now_db()})
        record_audit(db, actor, "keyword.seed", ", ".join(queries))
    return True


def drift_from_config(db: Database, queries: Iterable[str]) -> tuple[list[str], list[str]]:
    """(in config but not in the database, in the database but not in config)."""
    stored = {k.query for k in list_keywords(db)}
    wanted = list(dict.fromkeys(queries))
    return [q for q in wanted if q not in stored], sorted(stored - set(wanted))
