"""Opening the database: autocommit, WAL, busy timeout, foreign keys, migrations, a private
file mode; noticing a database file that was deleted or replaced while it is open."""

from __future__ import annotations

import os
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from store.schema import MIGRATIONS, SCHEMA_VERSION

FILE_MODE = 0o600  # the database holds chat ids and subscriptions: owner only (-wal, -shm too)

# (path, st_dev, st_ino) of the file each open database was opened on
_FILES: weakref.WeakKeyDictionary[Database, tuple[str, int, int]] = weakref.WeakKeyDictionary()


READ_TIMEOUT_SECONDS = 10.0  # a read-only second connection waits this long for a lock

# What a failed store operation raises (a locked or full database, a read-only file, ...), and
# the part of it the database itself reported: callers catch these, never sqlite3's names.
OperationError = sqlite3.Error
DatabaseError = sqlite3.DatabaseError


class StoreError(RuntimeError):
    """The database cannot be opened, is newer than this program, or is gone or broken."""


def open_db(path: str | Path, *, busy_timeout_ms: int = 10_000) -> Database:
    """Open (creating if needed, mode 0600) and migrate the database at `path` (":memory:"
    allowed). Its folder must exist. The connection is in autocommit mode: every write is
    either in `transaction()` or committed at once, never left in an implicit transaction."""
    path = str(path)
    memory = path == ":memory:"
    if not memory:
        _create_private(path)
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        db = Database(conn)
        if not memory:  # before anything else, so a file deleted during start-up is noticed
            info = os.stat(path)
            _FILES[db] = (os.path.abspath(path), info.st_dev, info.st_ino)
        db.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        db.conn.execute("PRAGMA foreign_keys = ON")
        if not memory:
            db.enable_wal()
            db.conn.execute("PRAGMA synchronous = NORMAL")
        migrate(db)
    except BaseException as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, sqlite3.DatabaseError):
            raise StoreError(f"{path}: cannot open database: {exc}") from None
        raise
    return db


def _create_private(path: str) -> None:
    """Create the file owner-only before SQLite opens it (SQLite gives its -wal and -shm
    files the database file's mode). An existing file is left as it is."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise StoreError(f"{path}: folder {folder} does not exist")
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"{path}: cannot create database: {exc.strerror or exc}") from None


def check_alive(db: Database) -> None:
    """Raise StoreError when the open database's file was deleted or replaced by another file
    (writes would go to an unlinked file and be lost). No-op for an in-memory database."""
    known = _FILES.get(db)
    if known is None:
        return
    path, dev, ino = known
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise StoreError(
            f"{path}: the database file was deleted while Kabar was running;"
            " restart to create a new one"
        ) from None
    if (info.st_dev, info.st_ino) != (dev, ino):
        raise StoreError(
            f"{path}: the database file was replaced while Kabar was running;"
            " restart to open the new one"
        )


def is_corrupt(exc: BaseException) -> bool:
    """True for "database disk image is malformed" / "file is not a database": the file is
    broken and no retry will help."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def damaged(where: str | Path, exc: BaseException) -> StoreError:
    """The one-line error for a database file found damaged (see is_corrupt)."""
    return StoreError(f"{where}: {exc} (the database file is damaged: restore a backup)")


def db_file(db: Database) -> str:
    """The absolute path of the file `db` was opened on ("" for an in-memory database)."""
    return _FILES[db][0] if db in _FILES else ""


def open_reader(path: str) -> Database:
    """A second, read-only connection (``PRAGMA query_only``) to the database file at
    ``path``; WAL lets it read while the first connection writes."""
    conn = sqlite3.connect(path, timeout=READ_TIMEOUT_SECONDS)
    try:
        conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return Database(conn)


def schema_version(db: Database) -> int:
    return db.conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: Database) -> int:
    """Apply pending migrations; safe when two processes start at once."""
    if schema_version(db) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    with transaction(db):
        version = schema_version(db)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database schema version {version} is newer than this Kabar ({SCHEMA_VERSION})"
            )
        for number in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[number]:
                db.conn.execute(statement)
            db.conn.execute(f"PRAGMA user_version = {number + 1}")
    return SCHEMA_VERSION


def integrity_ok(db: Database) -> bool:
    return db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """BEGIN IMMEDIATE ... COMMIT (a savepoint when nested): one writer at a time, no
    deadlock on lock upgrade when a second instance shares the file. However it ends
    (a failed COMMIT included), no transaction is left open on the connection."""
    conn = db.conn
    if conn.in_transaction:
        with _savepoint(conn):
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextmanager
def _savepoint(conn: sqlite3.Connection) -> Iterator[None]:
    # one name for every level: ROLLBACK TO / RELEASE act on the innermost of that name
    conn.execute("SAVEPOINT kabar_nested")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # an error may already have ended the whole transaction
            conn.execute("ROLLBACK TO kabar_nested")
            conn.execute("RELEASE kabar_nested")
        raise
    conn.execute("RELEASE kabar_nested")
