"""Articles: insert with dedup (canonical URL, content hash), full-text search, latest."""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
from collections.abc import Iterable, Sequence

from sqlite_utils import Database

from store.clock import from_db, now_db, plausible_published, to_db
from store.db import transaction
from store.dialect import POSTGRESQL, dialect
from store.models import Article, ArticleIn, InsertReport
from store.pg_schema import TEXT_SEARCH

log = logging.getLogger(__name__)

COLUMNS = "id, text, title, url, source, published, lang, ingested_at"


_INSERT_COLUMNS = (
    "url",
    "canonical_url",
    "content_hash",
    "title",
    "text",
    "source",
    "published",
    "lang",
    "lang_confidence",
    "origin",
    "ingested_at",
)
_INSERT_SQL = (
    f"INSERT INTO articles ({', '.join(_INSERT_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})"
)
_LOOKUP_CHUNK = 500  # values per "IN (...)" lookup (well under SQLite's variable limit)


def insert_articles(db: Database, items: Iterable[ArticleIn]) -> InsertReport:
    """Store new articles in one transaction; an article already stored (same canonical URL
    or same normalised text) is reported as a duplicate and left untouched. Each item
    carries its dedup keys (``bot.ingest.dedup.with_keys``). The stored keys are looked up
    once per batch (one ``IN (...)`` query per 500 URLs and per 500 hashes), not per article;
    the unique indexes still refuse a key another process stored meanwhile."""
    report = InsertReport()
    now = now_db()
    rows = [(item, _row(item, now)) for item in items]
    if not rows:
        return report
    with transaction(db):
        urls = _stored(db, "canonical_url", {row[1] for _item, row in rows if row[1]})
        hashes = _stored(db, "content_hash", {row[2] for _item, row in rows})
        for item, row in rows:
            canonical, digest = row[1], row[2]
            why = (
                "same URL already stored"
                if canonical and canonical in urls
                else "same text already stored"
                if digest in hashes
                else ""
            )
            if why:
                report.duplicates.append((item.origin or item.url, why))
                continue
            try:
                cursor = db.conn.execute(_INSERT_SQL, row)
            except sqlite3.IntegrityError:  # a second instance stored it a moment ago
                report.duplicates.append((item.origin or item.url, "already stored"))
                continue
            if canonical:
                urls.add(canonical)
            hashes.add(digest)
            new_id = int(cursor.lastrowid or 0)
            report.new_ids.append(new_id)
            # the row as ``get_articles`` reads it back (same columns, same conversions); one
            # that a read would skip is left to the reader, who logs it
            with contextlib.suppress(UnreadableRow):
                report.new_articles.append(
                    _article((new_id, row[4], row[3], row[0], row[5], row[6], row[7], row[10]))
                )
    return report


def _row(item: ArticleIn, now: str) -> tuple[object, ...]:
    """The values of ``_INSERT_COLUMNS`` for ``item``."""
    return (
        item.url,
        item.canonical_url or None,
        _required_hash(item),
        item.title,
        item.text,
        item.source,
        to_db(item.published),
        item.lang,
        item.lang_confidence,
        item.origin,
        now,
    )


def _required_hash(item: ArticleIn) -> str:
    if not item.content_hash:
        raise ValueError(
            f"{item.origin or item.url or 'article'}: no content hash (dedup keys"
            " are computed before storing)"
        )
    return item.content_hash


def _stored(db: Database, column: str, values: set[object]) -> set[object]:
    """Which of ``values`` are already stored in ``column`` (canonical_url or content_hash:
    both have a unique index)."""
    found: set[object] = set()
    pending = list(values)
    for i in range(0, len(pending), _LOOKUP_CHUNK):
        chunk = pending[i : i + _LOOKUP_CHUNK]
        found.update(
            value
            for (value,) in db.conn.execute(
                f"SELECT {column} FROM articles WHERE {column} IN ({','.join('?' * len(chunk))})",
                chunk,
            )
        )
    return found


class UnreadableRow(ValueError):
    """A stored article row that cannot become an ``Article`` (hand edit, older bug)."""


def _text(value: object, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UnreadableRow(f"{name} is {type(value).__name__}, not text")
    return value


def _article(row: Sequence) -> Article:
    """The ``Article`` of a row; raises ``UnreadableRow``. A publication time that cannot be
    read, or is not plausible (a year-999 date stored by an older version), is unknown."""
    ingested_at = from_db(row[7])
    if ingested_at is None:
        raise UnreadableRow(f"ingested_at {row[7]!r} is not a time")
    text = _text(row[1], "text")
    if not text:
        raise UnreadableRow("text is empty")
    return Article(
        id=row[0],
        text=text,
        title=_text(row[2], "title"),
        url=_text(row[3], "url"),
        source=_text(row[4], "source"),
        published=plausible_published(from_db(row[5]), ingested_at),
        lang=_text(row[6], "lang") or "other",
        ingested_at=ingested_at,
    )


def _readable(rows: Iterable[Sequence], bad: list[int] | None = None) -> list[Article]:
    """The rows that can be read, in order; each other one is logged and skipped (its id
    added to ``bad``), so one odd row never stops a matching pass or a reply."""
    articles = []
    for row in rows:
        try:
            articles.append(_article(row))
        except UnreadableRow as exc:
            log.warning("article %s skipped: unreadable row (%s)", row[0], exc)
            if bad is not None:
                bad.append(row[0])
    return articles


def get_article(db: Database, article_id: int) -> Article | None:
    row = db.conn.execute(f"SELECT {COLUMNS} FROM articles WHERE id = ?", [article_id]).fetchone()
    found = _readable([row]) if row else []
    return found[0] if found else None


def get_articles(db: Database, ids: Iterable[int]) -> dict[int, Article]:
    ids = list(ids)
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.conn.execute(f"SELECT {COLUMNS} FROM articles WHERE id IN ({marks})", ids)
    return {article.id: article for article in _readable(rows)}


def unchecked_articles(db: Database, limit: int = 500, after_id: int = 0) -> list[Article]:
    """Up to ``limit`` unchecked articles after ``after_id``; unreadable rows are skipped
    with a warning and marked checked (they can never match), so a pass moves past them."""
    while True:
        rows = db.conn.execute(
            f"SELECT {COLUMNS} FROM articles WHERE checked_at IS NULL AND id > ?"
            " ORDER BY id LIMIT ?",
            [after_id, limit],
        ).fetchall()
        bad: list[int] = []
        articles = _readable(rows, bad)
        if bad:
            _mark_checked(db, bad)
        if articles or len(rows) < limit:
            return articles
        after_id = rows[-1][0]  # a whole batch of unreadable rows: read on


def _mark_checked(db: Database, ids: Sequence[int]) -> None:
    marks = ",".join("?" * len(ids))
    with transaction(db):
        db.conn.execute(
            f"UPDATE articles SET checked_at = ? WHERE id IN ({marks})", [now_db(), *ids]
        )


def latest_articles(db: Database, limit: int = 5) -> list[Article]:
    rows = db.conn.execute(
        f"SELECT {COLUMNS} FROM articles ORDER BY COALESCE(published, ingested_at) DESC, id DESC"
        " LIMIT ?",
        [limit],
    )
    return _readable(rows)


def recent_articles(db: Database, limit: int = 2000) -> list[Article]:
    """The newest stored articles (by id), for filtering in Python with the matcher."""
    rows = db.conn.execute(f"SELECT {COLUMNS} FROM articles ORDER BY id DESC LIMIT ?", [limit])
    return _readable(rows)


_FTS_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fts_expression(query: str) -> str:
    """Turn user text into a safe FTS5 expression: every word quoted, ANDed; a quoted
    phrase stays a phrase. No FTS5 operator in user text is ever interpreted."""
    parts: list[str] = []
    for i, chunk in enumerate(re.split(r"[\"“”]", query)):
        words = _FTS_WORD.findall(chunk)
        if not words:
            continue
        if i % 2 == 1:
            parts.append('"' + " ".join(words) + '"')
        else:
            parts.extend(f'"{w}"' for w in words)
    return " ".join(parts)


def search_articles(db: Database, query: str, limit: int = 5) -> list[Article]:
    """Full-text search (FTS5, diacritics-insensitive), best match first."""
    expression = fts_expression(query)
    if not expression:
        return []
    if dialect(db) == POSTGRESQL:  # a tsvector column (store/pg_schema.py), same expression
        rows = db.conn.execute(
            f"SELECT {COLUMNS} FROM articles, websearch_to_tsquery('{TEXT_SEARCH}', ?) q"
            " WHERE fts @@ q ORDER BY ts_rank(fts, q) DESC, id DESC LIMIT ?",
            [expression, limit],
        )
        return _readable(rows)
    rows = db.conn.execute(
        f"SELECT {', '.join('a.' + c.strip() for c in COLUMNS.split(','))} FROM articles_fts"
        " JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ?"
        " ORDER BY bm25(articles_fts), a.id DESC LIMIT ?",
        [expression, limit],
    )
    return _readable(rows)


def count_articles(db: Database) -> int:
    return db.conn.execute("SELECT count(*) FROM articles").fetchone()[0]


def delete_older_than(db: Database, days: int) -> int:
    """Retention: remove articles ingested more than `days` ago (their alerts go with them),
    keeping any whose alert is still waiting to be delivered."""
    cutoff = now_db(-days * 86400)
    with transaction(db):
        cursor = db.conn.execute(
            "DELETE FROM articles WHERE ingested_at < ? AND checked_at IS NOT NULL AND id NOT IN"
            " (SELECT article_id FROM outbox"
            " WHERE status IN ('pending', 'sending', 'held', 'digest'))",
            [cutoff],
        )
    return cursor.rowcount
