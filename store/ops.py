"""Operations: the meta table (what the running service records about itself), the status
report of `kabar status`, and online backups (SQLite's backup API) for `kabar backup`."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

from sqlite_utils import Database

from store.clock import from_db
from store.db import FILE_MODE, StoreError, db_file, schema_version, transaction
from store.models import FeedHealth, StoreStatus

# Keys of the meta table that belong to other parts of the store (keywords seeding...): the
# status report shows only the service's own keys, which start with this.
SERVICE_PREFIX = "service."


def meta_get(db: Database, key: str) -> str | None:
    row = db.conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def meta_set(db: Database, values: Mapping[str, str]) -> None:
    """Write several keys at once (one transaction)."""
    with transaction(db):
        db.conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [(key, str(value)) for key, value in values.items()],
        )


def meta_all(db: Database, prefix: str = "") -> dict[str, str]:
    rows = db.conn.execute(
        "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ? ORDER BY key",
        [len(prefix), prefix],
    )
    return {key: value for key, value in rows}


def file_size(db: Database) -> int:
    """Bytes on disk: the database file and its write-ahead log (0 in memory)."""
    path = db_file(db)
    total = 0
    for name in (path, f"{path}-wal") if path else ():
        with contextlib.suppress(OSError):  # no WAL file right now
            total += os.path.getsize(name)
    return total


def store_status(db: Database) -> StoreStatus:
    """Everything `kabar status` shows from the store, read in one transaction (consistent)."""
    conn = db.conn
    conn.execute("BEGIN")
    try:
        keywords = conn.execute("SELECT count(*) FROM keywords").fetchone()[0]
        chats: dict[str, tuple[int, int]] = {}
        for platform, active, inactive in conn.execute(
            "SELECT platform, total(active = 1), total(active = 0) FROM chats"
            " GROUP BY platform ORDER BY platform"
        ):
            chats[platform] = (int(active), int(inactive))
        outbox = {
            status: n
            for status, n in conn.execute(
                "SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status"
            )
        }
        oldest = conn.execute(
            "SELECT min(created_at) FROM outbox"
            " WHERE status IN ('pending', 'sending', 'held', 'digest')"
        ).fetchone()[0]
        feeds = tuple(
            FeedHealth(url, name, failures, error, from_db(polled), from_db(ok), from_db(due))
            for url, name, failures, error, polled, ok, due in conn.execute(
                "SELECT url, name, failures, last_error, last_polled_at, last_ok_at,"
                " next_poll_at FROM feeds ORDER BY id"
            )
        )
        meta = meta_all(db, SERVICE_PREFIX)
    finally:
        conn.execute("COMMIT")
    return StoreStatus(
        schema_version=schema_version(db),
        size_bytes=file_size(db),
        keywords=keywords,
        chats=chats,
        outbox=outbox,
        oldest_pending=from_db(oldest),
        feeds=feeds,
        meta=meta,
    )


def backup(db: Database, target: str | Path, *, overwrite: bool = False) -> int:
    """Copy the open database to ``target`` with SQLite's online backup API: a consistent
    snapshot even while another process writes (WAL: the writer is not blocked), including
    what is still only in the write-ahead log. The copy is checked with ``integrity_check``
    and only then moved into place (an existing file is replaced only with ``overwrite``).
    Returns the copy's size in bytes; raises StoreError with one line."""
    target = Path(target)
    source = db_file(db)
    if target.exists() and not overwrite:
        raise StoreError(f"{target}: already exists (use --force to overwrite it)")
    if target.is_dir():
        raise StoreError(f"{target}: is a folder, not a file")
    if source and target.exists() and os.path.samefile(source, target):
        raise StoreError(f"{target}: is the database itself")
    if not target.parent.is_dir():
        raise StoreError(f"{target}: folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        os.close(os.open(partial, os.O_RDWR | os.O_CREAT | os.O_TRUNC, FILE_MODE))
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            db.conn.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            result = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
        if result != "ok":
            raise StoreError(
                f"{target}: the copy failed integrity_check ({result}); nothing was written"
            )
        os.replace(partial, target)
    except OSError as exc:
        raise StoreError(f"{target}: cannot write the backup: {exc.strerror or exc}") from None
    except sqlite3.Error as exc:
        raise StoreError(f"{target}: backup failed: {exc}") from None
    finally:
        for leftover in (partial, Path(f"{partial}-journal")):
            if leftover.exists():
                leftover.unlink()
    return target.stat().st_size
