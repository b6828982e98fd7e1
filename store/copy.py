"""`kabar store copy --to postgresql://...`: an existing SQLite store into PostgreSQL.

Every table of the schema is copied in batches, each batch committed on its own, so an
interrupted copy resumes where it stopped: a table with an ``id`` from the target's largest
id on, a table without any key from the target's row count on (rows read in ``rowid`` order);
a table with another primary key (meta, subscriptions) is emptied and copied again whole
(the target then holds exactly the source's rows). No row is ever doubled. The identities
continue after the copied ids, and the copy is verified by comparing every table's row
count."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from store.db import StoreError, transaction
from store.dialect import POSTGRESQL, dialect
from store.sqlite import SqliteStore

BATCH = 2000
# Send slots and blocks are seconds-long state of running instances: not copied.
SKIPPED = {"pacing_slots", "pacing_blocks"}


@dataclass(frozen=True)
class CopiedTable:
    name: str
    source: int  # rows in the SQLite store
    target: int  # rows in the PostgreSQL store after the copy
    copied: int  # rows written by this run (0 for a table already complete)


def source_tables(source: SqliteStore) -> list[str]:
    """The store's own tables, parents before children (the migration order)."""
    rows = source.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name NOT LIKE 'articles_fts%' ORDER BY rowid"
    ).fetchall()
    return [r[0] for r in rows if r[0] not in SKIPPED]


def _columns(store: SqliteStore, table: str) -> list[str]:
    if dialect(store.db) == POSTGRESQL:
        rows = store.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema ="
            " current_schema() AND table_name = ? AND is_generated = 'NEVER'"
            " ORDER BY ordinal_position",
            [table],
        ).fetchall()
    else:
        rows = [(r[1],) for r in store.conn.execute(f"PRAGMA table_info({table})").fetchall()]
    return [r[0] for r in rows]


def _count(store: SqliteStore, table: str) -> int:
    return int(store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def copy_table(
    source: SqliteStore, target: SqliteStore, table: str, progress: Callable[[str, int], None]
) -> CopiedTable:
    target_columns = set(_columns(target, table))
    columns = [c for c in _columns(source, table) if c in target_columns]
    if not columns:
        raise StoreError(f"{table}: no column in common with the PostgreSQL store")
    listed = ", ".join(columns)
    insert = f"INSERT OR REPLACE INTO {table} ({listed}) VALUES ({', '.join('?' * len(columns))})"
    keyed = "id" in columns
    offset = 0
    if not keyed and not _has_key(target, table):
        insert = insert.replace("INSERT OR REPLACE", "INSERT", 1)
        offset = _count(target, table)  # no key at all (story_keys): resume after the rows
    elif not keyed:  # another primary key (meta, subscriptions): copied again whole
        with transaction(target.db):
            target.conn.execute(f"DELETE FROM {table}")
    copied = 0
    if keyed:
        after = int(target.conn.execute(f"SELECT COALESCE(max(id), 0) FROM {table}").fetchone()[0])
    while True:
        if keyed:
            rows = source.conn.execute(
                f"SELECT {listed} FROM {table} WHERE id > ? ORDER BY id LIMIT ?", [after, BATCH]
            ).fetchall()
        else:
            rows = source.conn.execute(
                f"SELECT {listed} FROM {table} ORDER BY rowid LIMIT ? OFFSET ?", [BATCH, offset]
            ).fetchall()
        if not rows:
            break
        with transaction(target.db):
            target.conn.executemany(insert, rows)
        copied += len(rows)
        if keyed:
            after = rows[-1][columns.index("id")]
        else:
            offset += len(rows)
        progress(table, copied)
    if keyed and dialect(target.db) == POSTGRESQL:
        target.conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" (SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)"
        )
    return CopiedTable(table, _count(source, table), _count(target, table), copied)


def _has_key(target: SqliteStore, table: str) -> bool:
    conn = target.conn
    catalog = getattr(conn, "catalog", None)
    return bool(catalog.primary_key(table)) if catalog is not None else True


def copy_store(
    source: SqliteStore,
    target: SqliteStore,
    progress: Callable[[str, int], None] = lambda table, rows: None,
) -> list[CopiedTable]:
    """Copy every table; StoreError (one line) when a count differs afterwards."""
    if source.schema_version != target.schema_version:
        raise StoreError(
            f"schema versions differ (SQLite {source.schema_version},"
            f" PostgreSQL {target.schema_version})"
        )
    done = []
    for table in source_tables(source):
        try:
            done.append(copy_table(source, target, table, progress))
        except StoreError:
            raise
        except Exception as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise StoreError(f"copying {table}: {first} (run the copy again to resume)") from None
    differ = [t for t in done if t.source != t.target]
    if differ:
        raise StoreError(
            "counts differ after the copy: "
            + ", ".join(f"{t.name} {t.source} -> {t.target}" for t in differ)
        )
    return done
