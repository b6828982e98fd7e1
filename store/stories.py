"""Stories: the grouper's candidate source in SQL (one features row per article, one row per
index key found by ``(key, published)``), the assignment of articles stored before stories
existed, and stories as listed (newest first)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlite_utils import Database

from store.articles import COLUMNS, _readable
from store.clock import to_db
from store.db import transaction
from store.dialect import POSTGRESQL, dialect
from store.models import Article, StoryFeatures, StoryRow

BACKFILL_KEY = "stories_backfill_upto"


def _marks(ids: list[int]) -> str:
    return ",".join("?" * len(ids))


def recent(db: Database, key: str, lo: datetime, hi: datetime, limit: int) -> list[int]:
    rows = db.conn.execute(
        "SELECT article_id FROM story_keys WHERE key = ? AND published BETWEEN ? AND ?"
        " ORDER BY published DESC, article_id DESC LIMIT ?",
        [key, to_db(lo), to_db(hi), limit],
    )
    return [r[0] for r in rows]


_RECENT = (
    "SELECT article_id FROM story_keys WHERE key = ? AND published BETWEEN ? AND ?"
    " ORDER BY published DESC, article_id DESC LIMIT ?"
)


def recent_many(
    db: Database, keys: list[str], lo: datetime, hi: datetime, limit: int
) -> list[list[int]]:
    """``recent`` for each of ``keys``, the window's bounds written once. (One statement per
    key: a UNION ALL of them measured slower in the ingest path.)"""
    low, high = to_db(lo), to_db(hi)
    run = db.conn.execute
    return [[r[0] for r in run(_RECENT, (key, low, high, limit))] for key in keys]


def features(db: Database, ids: Iterable[int]) -> dict[int, StoryFeatures]:
    return {aid: _parsed(raw) for aid, raw in _column_of(db, "features", ids)}


def _column_of(db: Database, column: str, ids: Iterable[int]) -> list[tuple[int, Any]]:
    """(article id, ``column``) of the story_articles rows of ``ids`` (a fixed column name)."""
    wanted = list(ids)
    if not wanted:
        return []
    return db.conn.execute(
        f"SELECT article_id, {column} FROM story_articles WHERE article_id IN ({_marks(wanted)})",
        wanted,
    ).fetchall()


@lru_cache(maxsize=4096)
def _parsed(raw: str) -> StoryFeatures:
    """Stored features, parsed once per distinct text (a recent article is a candidate for
    many later ones; keyed by the text itself, so a reused row id can never return another
    article's features)."""
    return StoryFeatures.from_json(raw)


def stories(db: Database, ids: Iterable[int]) -> dict[int, int]:
    return dict(_column_of(db, "story_id", ids))


def add(db: Database, article_id: int, feats: StoryFeatures, story_id: int) -> None:
    """Store one article's story and index keys. Alerts already queued for it (an article
    stored before stories existed) learn their story: the first per (story, chat) stays the
    story's message there, a later one becomes an edit of it."""
    when = to_db(feats.published)
    with transaction(db):
        db.conn.execute(
            "INSERT INTO story_articles (article_id, story_id, published, lang, features)"
            " VALUES (?, ?, ?, ?, ?)",
            [article_id, story_id, when, feats.lang, feats.to_json()],
        )
        db.conn.executemany(
            "INSERT INTO story_keys (key, published, article_id) VALUES (?, ?, ?)",
            [(key, when, article_id) for key in dict.fromkeys(feats.index_keys())],
        )
        rows = db.conn.execute(
            "SELECT id, chat_id FROM outbox WHERE article_id = ? AND story_id IS NULL ORDER BY id",
            [article_id],
        ).fetchall()
        for row_id, chat_id in rows:
            head = db.conn.execute(
                "SELECT id FROM outbox WHERE story_id = ? AND chat_id = ? AND head_id IS NULL",
                [story_id, chat_id],
            ).fetchone()
            db.conn.execute(
                "UPDATE outbox SET story_id = ?, head_id = ?, kind = ? WHERE id = ?",
                [story_id, head[0] if head else None, "edit" if head else "send", row_id],
            )


_NEVER_SAME = itertools.count()


def data_version(db: Database) -> int:
    """Changes whenever another connection commits to the database (``PRAGMA data_version``;
    this connection's own commits leave it). PostgreSQL cannot tell: a new value at every call,
    so what a run remembers is forgotten at each transaction there."""
    if dialect(db) == POSTGRESQL:
        return -1 - next(_NEVER_SAME)
    return int(db.conn.execute("PRAGMA data_version").fetchone()[0])


def unassigned(db: Database, limit: int = 500) -> list[int]:
    """Ids (in id order) of articles stored before stories existed that have no story yet;
    once there are none, the marker is removed and this costs one lookup."""
    row = db.conn.execute("SELECT value FROM meta WHERE key = ?", [BACKFILL_KEY]).fetchone()
    if row is None:
        return []
    ids = [
        r[0]
        for r in db.conn.execute(
            "SELECT a.id FROM articles a LEFT JOIN story_articles s ON s.article_id = a.id"
            " WHERE a.id <= ? AND s.article_id IS NULL ORDER BY a.id LIMIT ?",
            [int(row[0]), limit],
        )
    ]
    if not ids:
        with transaction(db):
            db.conn.execute("DELETE FROM meta WHERE key = ?", [BACKFILL_KEY])
    return ids


def story_of(db: Database, article_id: int) -> int | None:
    row = db.conn.execute(
        "SELECT story_id FROM story_articles WHERE article_id = ?", [article_id]
    ).fetchone()
    return row[0] if row else None


def latest_stories(db: Database, limit: int | None = None) -> list[StoryRow]:
    """Stories newest first (by their newest article's publication, else storage, time),
    each with its stored articles oldest first."""
    rows = db.conn.execute(
        "SELECT s.story_id, MAX(COALESCE(a.published, a.ingested_at)) AS newest"
        " FROM story_articles s JOIN articles a ON a.id = s.article_id"
        " GROUP BY s.story_id ORDER BY newest DESC, s.story_id DESC LIMIT ?",
        [-1 if limit is None else limit],
    ).fetchall()
    ids = [r[0] for r in rows]
    members: dict[int, list[Article]] = {i: [] for i in ids}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        found = db.conn.execute(
            f"SELECT s.story_id, {', '.join('a.' + c.strip() for c in COLUMNS.split(','))}"
            " FROM story_articles s JOIN articles a ON a.id = s.article_id"
            f" WHERE s.story_id IN ({_marks(chunk)})"
            " ORDER BY COALESCE(a.published, a.ingested_at), a.id",
            chunk,
        ).fetchall()
        by_id = {r[1]: r[0] for r in found}
        for article in _readable([r[1:] for r in found]):
            members[by_id[article.id]].append(article)
    return [StoryRow(i, tuple(members[i])) for i in ids if members[i]]


def articles_of(db: Database, story_id: int) -> list[Article]:
    rows = db.conn.execute(
        f"SELECT {', '.join('a.' + c.strip() for c in COLUMNS.split(','))}"
        " FROM story_articles s JOIN articles a ON a.id = s.article_id WHERE s.story_id = ?"
        " ORDER BY COALESCE(a.published, a.ingested_at), a.id",
        [story_id],
    )
    return _readable(rows)
