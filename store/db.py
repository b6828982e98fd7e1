"""Opening the database: WAL, busy timeout, foreign keys, migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from store.schema import MIGRATIONS, SCHEMA_VERSION


class StoreError(RuntimeError):
    """The database cannot be opened or is newer than this program."""


def open_db(path: str | Path, *, busy_timeout_ms: int = 10_000) -> Database:
    """Open (creating if needed) and migrate the database at `path` (":memory:" allowed)."""
    path = str(path)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        db = Database(path) if path != ":memory:" else Database(memory=True)
        db.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        db.conn.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            db.enable_wal()
            db.conn.execute("PRAGMA synchronous = NORMAL")
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open database: {exc}") from None
    return db


def schema_version(db: Database) -> int:
    return db.conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: Database) -> int:
    """Apply pending migrations; safe when two processes start at once."""
    if schema_version(db) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(db)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database schema version {version} is newer than this Kabar ({SCHEMA_VERSION})"
            )
        for number in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def integrity_ok(db: Database) -> bool:
    return db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """BEGIN IMMEDIATE ... COMMIT (a savepoint when nested): one writer at a time, no
    deadlock on lock upgrade when a second instance shares the file."""
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
