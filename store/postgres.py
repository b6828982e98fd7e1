"""The PostgreSQL store: the same store modules and queries as SQLite, over psycopg 3.

``PgDatabase`` offers the small surface the store modules use on sqlite-utils' ``Database``
(``.conn.execute / executemany``, cursors with ``fetchone / fetchall / rowcount / lastrowid``,
``.conn.in_transaction``, ``.table(name).insert(row)``, ``.close()``) and translates each
SQLite-style statement once (cached):

- ``?`` -> ``%s`` (a literal ``%`` is doubled); ``BEGIN IMMEDIATE|DEFERRED|EXCLUSIVE`` ->
  ``BEGIN``; ``SAVEPOINT`` / ``ROLLBACK TO`` / ``RELEASE`` are the same in both;
- ``INSERT OR IGNORE INTO`` -> ``INSERT INTO ... ON CONFLICT DO NOTHING``;
  ``INSERT OR REPLACE INTO t (cols)`` -> ``... ON CONFLICT (t's primary key) DO UPDATE SET``
  the other columns; ``ON CONFLICT (...) DO UPDATE SET x = excluded.x`` is the same in both;
- ``INSERT INTO`` a table with an identity ``id`` -> ``... RETURNING id`` (``lastrowid``);
- ``INDEXED BY name`` / ``NOT INDEXED`` are dropped; ``LIMIT ?`` with a negative value means
  no limit (as in SQLite);
- ``max(a, b)``, ``min(a, b)``, ``total(x)``, ``ifnull(a, b)`` exist as functions in the
  database (``store.pg_schema``); ``PRAGMA user_version`` reads the schema version,
  ``PRAGMA integrity_check`` answers ``ok``; any other ``PRAGMA`` is refused.

Errors come out as the ``sqlite3`` exception classes the store and its callers already catch
(``IntegrityError`` for a unique violation, ``OperationalError`` for a lost server...), so
``except sqlite3.IntegrityError`` in a store module holds on both. A plain ``INSERT`` inside a
transaction runs under a savepoint, so a caught unique violation leaves the transaction usable
(SQLite keeps a transaction after a failed statement; PostgreSQL would abort it).

Not translated (write them portably): ``datetime()``/``strftime()`` (times are TEXT written
by ``store.clock``), ``rowid``, ``GROUP_CONCAT``, ``LIKE`` case rules (use ``lower()``),
double-quoted string literals, ``sqlite_master``.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool
from sqlite_utils import Database

from store.db import StoreError, transaction
from store.dialect import POSTGRESQL
from store.locks import Leader
from store.models import StoreStatus
from store.pg_schema import pg_statements
from store.schema import SCHEMA_VERSION
from store.sqlite import SqliteStore

SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_SECONDS = 5
SCHEMA_TABLE = "kabar_schema"
_MIGRATE_LOCK = "kabar.migrate"


def is_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(SCHEMES)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


# --- errors ---------------------------------------------------------------------------------


def _sqlite_error(exc: Exception) -> sqlite3.Error:
    """The sqlite3 class the store catches for a psycopg error, one line of text."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, psycopg.IntegrityError):
        error: sqlite3.Error = sqlite3.IntegrityError(text)
    elif isinstance(exc, psycopg.InterfaceError):
        error = sqlite3.InterfaceError(text)
    elif isinstance(exc, psycopg.OperationalError | psycopg.ProgrammingError | psycopg.DataError):
        error = sqlite3.OperationalError(text)  # as SQLite reports a lost lock, a bad query
    else:
        error = sqlite3.DatabaseError(text)
    error.__cause__ = exc
    return error


# --- translation ----------------------------------------------------------------------------

_BEGIN = re.compile(r"\s*BEGIN(\s+(IMMEDIATE|DEFERRED|EXCLUSIVE))?(\s+TRANSACTION)?\s*$", re.I)
_PRAGMA = re.compile(r"\s*PRAGMA\s+(\w+)\s*$", re.I)
_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.I)
_OR_REPLACE = re.compile(r"^\s*INSERT\s+OR\s+REPLACE\s+INTO\s+(\w+)\s*\(([^)]*)\)", re.I)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.I)
_INDEXED = re.compile(r"\s+(INDEXED\s+BY\s+\w+|NOT\s+INDEXED)\b", re.I)
_LIMIT = re.compile(r"\bLIMIT\s+%s", re.I)
_CONFLICT = re.compile(r"\bON\s+CONFLICT\b", re.I)
_RETURNING = re.compile(r"\bRETURNING\b", re.I)


def placeholders(sql: str) -> str:
    """``?`` -> ``%s`` and ``%`` -> ``%%`` outside quoted strings and identifiers."""
    out: list[str] = []
    quote = ""
    for ch in sql:
        if quote:
            if ch == quote:
                quote = ""
            out.append("%%" if ch == "%" else ch)
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


class Translation:
    """One statement's PostgreSQL text and whether it returns the new row's id."""

    __slots__ = ("returns_id", "sql", "statement_savepoint")

    def __init__(self, sql: str, returns_id: bool, statement_savepoint: bool) -> None:
        self.sql = sql
        self.returns_id = returns_id
        self.statement_savepoint = statement_savepoint


class Catalog:
    """What the translator needs to know about the tables: identity ids, primary keys."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._identity: set[str] | None = None
        self._keys: dict[str, list[str]] = {}

    def forget(self) -> None:
        self._identity = None
        self._keys = {}

    def identity_tables(self) -> set[str]:
        if self._identity is None:
            rows = self._conn.execute(
                "SELECT table_name FROM information_schema.columns WHERE table_schema ="
                " current_schema() AND column_name = 'id' AND is_identity = 'YES'"
            ).fetchall()
            self._identity = {r[0] for r in rows}
        return self._identity

    def primary_key(self, table: str) -> list[str]:
        if table not in self._keys:
            rows = self._conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                [table],
            ).fetchall()
            self._keys[table] = [r[0] for r in rows]
        return self._keys[table]


def translate(sql: str, catalog: Catalog) -> Translation:
    """The PostgreSQL form of one SQLite-style statement (see the module docstring)."""
    text = placeholders(sql.strip().rstrip(";"))
    text = _INDEXED.sub("", text)
    text = _LIMIT.sub("LIMIT NULLIF(GREATEST(%s, -1), -1)", text)
    returns_id = False
    savepoint = False
    replace_match = _OR_REPLACE.match(text)
    if _OR_IGNORE.match(text):
        text = _OR_IGNORE.sub("INSERT INTO", text, count=1) + " ON CONFLICT DO NOTHING"
    elif replace_match:
        table = replace_match.group(1)
        columns = [c.strip() for c in replace_match.group(2).split(",")]
        key = catalog.primary_key(table)
        others = [c for c in columns if c not in key]
        action = (
            "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in others)
            if others
            else "DO NOTHING"
        )
        text = (
            re.sub(r"^\s*INSERT\s+OR\s+REPLACE\s+INTO", "INSERT INTO", text, count=1, flags=re.I)
            + f" ON CONFLICT ({', '.join(key)}) {action}"
        )
    insert = _INSERT.match(text)
    if insert and not _RETURNING.search(text):
        if insert.group(1) in catalog.identity_tables():
            text += " RETURNING id"
            returns_id = True
        savepoint = not _CONFLICT.search(text)
    return Translation(text, returns_id, savepoint)


# --- the connection adapter -----------------------------------------------------------------


class PgCursor:
    """The part of a sqlite3 cursor the store reads."""

    def __init__(self, rows: list[tuple] | None, rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows or []
        self._next = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> Any:  # a tuple or None, typed as sqlite3's
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[tuple]:
        rows = self._rows[self._next :]
        self._next = len(self._rows)
        return rows

    def __iter__(self) -> Iterator[tuple]:
        while (row := self.fetchone()) is not None:
            yield row


def _values(params: Sequence[Any] | Mapping[str, Any]) -> Any:
    """Parameters as psycopg takes them; a NUL character (PostgreSQL text cannot hold one)
    becomes U+FFFD."""
    if isinstance(params, Mapping):
        return {k: _no_nul(v) for k, v in params.items()}
    return [_no_nul(v) for v in params]


def _no_nul(value: Any) -> Any:
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value


class PgConnection:
    """A psycopg connection in autocommit mode that takes SQLite-style statements."""

    def __init__(self, raw: psycopg.Connection) -> None:
        self.raw = raw
        self.catalog = Catalog(raw)
        self._translated: dict[str, Translation] = {}

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def _special(self, sql: str) -> str | None:
        if _BEGIN.match(sql):
            return "BEGIN"
        pragma = _PRAGMA.match(sql)
        if pragma is None:
            return None
        name = pragma.group(1).lower()
        if name == "user_version":
            return f"SELECT COALESCE((SELECT max(version) FROM {SCHEMA_TABLE}), 0)"
        if name == "integrity_check":
            return "SELECT 'ok'"
        raise sqlite3.OperationalError(f"PRAGMA {name}: SQLite only (this store is PostgreSQL)")

    def _translation(self, sql: str) -> Translation:
        found = self._translated.get(sql)
        if found is None:
            special = self._special(sql)
            try:
                found = (
                    Translation(special, False, False) if special else translate(sql, self.catalog)
                )
            except psycopg.Error as exc:
                raise _sqlite_error(exc) from None
            self._translated[sql] = found
        return found

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> PgCursor:
        t = self._translation(sql)
        values = _values(params)
        savepoint = t.statement_savepoint and self.in_transaction
        try:
            if savepoint:
                self.raw.execute("SAVEPOINT kabar_statement")
            try:
                cursor = self.raw.execute(t.sql, values)
            except psycopg.Error:
                if savepoint and self.in_transaction:
                    self.raw.execute("ROLLBACK TO SAVEPOINT kabar_statement")
                    self.raw.execute("RELEASE SAVEPOINT kabar_statement")
                raise
            rows = cursor.fetchall() if cursor.description is not None else None
            if savepoint:
                self.raw.execute("RELEASE SAVEPOINT kabar_statement")
        except psycopg.Error as exc:
            raise _sqlite_error(exc) from None
        lastrowid = None
        if t.returns_id and rows:
            lastrowid = rows[-1][0]
            rows = None
        return PgCursor(rows, cursor.rowcount, lastrowid)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> PgCursor:
        t = self._translation(sql)
        text = t.sql.removesuffix(" RETURNING id") if t.returns_id else t.sql
        rows = [_values(p) for p in seq]
        if not rows:
            return PgCursor(None, 0, None)
        try:
            with self.raw.cursor() as cursor:
                cursor.executemany(text, rows)
                return PgCursor(None, cursor.rowcount, None)
        except psycopg.Error as exc:
            raise _sqlite_error(exc) from None

    def commit(self) -> None:
        if self.in_transaction:
            self.execute("COMMIT")

    def close(self) -> None:
        self.raw.close()


class _Table:
    def __init__(self, db: PgDatabase, name: str) -> None:
        self.db = db
        self.name = name

    def insert(self, record: Mapping[str, Any]) -> _Table:
        columns = list(record)
        self.db.conn.execute(
            f"INSERT INTO {self.name} ({', '.join(columns)})"
            f" VALUES ({', '.join('?' * len(columns))})",
            [record[c] for c in columns],
        )
        return self


class PgDatabase:
    """What the store modules use of sqlite-utils' ``Database``, on PostgreSQL."""

    dialect = POSTGRESQL

    def __init__(self, raw: psycopg.Connection, url: str, give_back: Any = None) -> None:
        self.conn = PgConnection(raw)
        self.url = url
        self._give_back = give_back

    def table(self, name: str) -> _Table:
        return _Table(self, name)

    def close(self) -> None:
        if self._give_back is not None:
            if self.conn.in_transaction:
                self.conn.raw.rollback()
            self._give_back(self.conn.raw)
            self._give_back = None
        elif not self.conn.raw.closed:
            self.conn.close()


# --- migrations -----------------------------------------------------------------------------


def schema_version(db: PgDatabase) -> int:
    row = db.conn.execute(f"SELECT to_regclass('{SCHEMA_TABLE}')").fetchone()
    if row is None or row[0] is None:
        return 0
    return int(db.conn.execute(f"SELECT max(version) FROM {SCHEMA_TABLE}").fetchone()[0] or 0)


def migrate(db: PgDatabase) -> int:
    """Apply pending migrations in one transaction under an advisory lock (two instances
    starting at once migrate once); refuse a schema newer than this program."""
    version = schema_version(db)
    if version == SCHEMA_VERSION:
        return version
    with transaction(cast(Database, db)):
        db.conn.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [_MIGRATE_LOCK])
        db.conn.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (version INTEGER NOT NULL)")
        version = schema_version(db)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database schema version {version} is newer than this Kabar ({SCHEMA_VERSION})"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in pg_statements(number):
                db.conn.execute(statement)
                db.conn.catalog.forget()
            db.conn.execute(f"DELETE FROM {SCHEMA_TABLE}")
            db.conn.execute(f"INSERT INTO {SCHEMA_TABLE} (version) VALUES (?)", [number])
    db.conn.catalog.forget()
    db.conn._translated.clear()
    return SCHEMA_VERSION


# --- opening --------------------------------------------------------------------------------


def check_reachable(url: str) -> None:
    """Raise StoreError (one line, no password) when ``url`` is not a PostgreSQL URL that a
    server answers."""
    shown = redacted(url)
    try:
        conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise StoreError(f"{shown}: not a valid PostgreSQL URL ({_first_line(exc)})") from None
    try:
        psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True).close()
    except psycopg.Error as exc:
        raise StoreError(f"{shown}: cannot connect to PostgreSQL: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines[:2]) if lines else type(exc).__name__


def _reset(raw: psycopg.Connection) -> None:
    raw.execute("RESET ALL")  # a reader's read-only setting does not outlive it


class Pool:
    """The connection pool one store and its readers and leader locks share."""

    def __init__(self, url: str, max_size: int = 8) -> None:
        self.url = url
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
            reset=_reset,
            open=False,
            name="kabar",
        )
        self._users = 0
        self._lock = threading.Lock()

    def open(self) -> None:
        self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS * 2)

    def database(self) -> PgDatabase:
        raw = self._pool.getconn(timeout=CONNECT_TIMEOUT_SECONDS * 2)
        with self._lock:
            self._users += 1
        return PgDatabase(raw, self.url, self._give_back)

    def connect(self) -> psycopg.Connection:
        """A connection of its own (not from the pool): a session-level advisory lock lives
        and dies with it."""
        return psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)

    def _give_back(self, raw: psycopg.Connection) -> None:
        if raw.broken or raw.closed:
            raw.close()
        self._pool.putconn(raw)
        with self._lock:
            self._users -= 1
            last = self._users == 0
        if last:
            self._pool.close()


def open_pg_database(url: str) -> tuple[PgDatabase, Pool]:
    check_reachable(url)
    pool = Pool(url)
    try:
        pool.open()
        db = pool.database()
    except Exception as exc:
        raise StoreError(f"{redacted(url)}: cannot connect to PostgreSQL: {exc}") from None
    try:
        migrate(db)
    except sqlite3.Error as exc:
        db.close()
        raise StoreError(f"{redacted(url)}: cannot open database: {exc}") from None
    except BaseException:
        db.close()
        raise
    return db, pool


def store_status_size(db: PgDatabase) -> int:
    return int(db.conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])


def with_size(status: StoreStatus, size: int) -> StoreStatus:
    return replace(status, size_bytes=size)


def no_backup(target: str | Path) -> StoreError:
    return StoreError(
        f"{target}: `kabar backup` copies a SQLite file; back up a PostgreSQL store with pg_dump"
    )


# --- the store ------------------------------------------------------------------------------


class PgStore(SqliteStore):
    """A PostgreSQL database behind the ``Store`` seam: the SQL store's repositories (every
    one of them, whoever adds it) over a ``PgDatabase``; only what is about files differs."""

    def __init__(self, database: PgDatabase, pool: Pool) -> None:
        super().__init__(cast(Database, database))
        self.pg = database
        self.pool = pool

    @property
    def path(self) -> str:
        return redacted(self.pg.url)

    @property
    def schema_version(self) -> int:
        return schema_version(self.pg)

    def reader(self) -> PgStore:
        """A second connection from the pool, read-only, for a worker thread."""
        database = self.pool.database()
        database.conn.execute("SET default_transaction_read_only = on")
        return PgStore(database, self.pool)

    def check_alive(self) -> None:
        raw = self.pg.conn.raw
        if raw.closed or raw.broken:
            raise StoreError(
                f"{self.path}: the connection to PostgreSQL was lost; restart to reconnect"
            )

    def status(self) -> StoreStatus:
        return with_size(super().status(), store_status_size(self.pg))

    def backup(self, target: str | Path, *, overwrite: bool = False) -> int:
        raise no_backup(target)

    def close(self) -> None:
        self.pg.close()

    def leader(self, name: str) -> Leader:
        return Leader(name, self.pool.connect)


def open_pg_store(url: str) -> PgStore:
    """Connect (one line naming the URL without its password when that fails), migrate."""
    database, pool = open_pg_database(url)
    return PgStore(database, pool)
