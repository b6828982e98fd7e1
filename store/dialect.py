"""The dialect seam: which database a store function is talking to, and the few operations
whose SQL differs between SQLite and PostgreSQL but which every store module may need.

Store modules keep writing SQLite-style SQL (``?`` placeholders, ``INSERT OR IGNORE``,
``ON CONFLICT ... DO UPDATE``, two-argument ``max``/``min``, ``total``, ``LIMIT ?`` with -1 for
"no limit") through ``db.conn.execute``; on PostgreSQL ``store.postgres`` translates it (see
that module's docstring for the exact subset). A query that truly differs names the dialect at
the place that owns it::

    if dialect(db) == POSTGRESQL:
        ...  # the PostgreSQL form, next to the SQLite one
"""

from __future__ import annotations

from typing import Any

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def dialect(db: Any) -> str:
    """``"postgresql"`` for a PostgreSQL store's handle, else ``"sqlite"`` (sqlite-utils'
    ``Database`` has no dialect attribute)."""
    return getattr(db, "dialect", SQLITE)


def serialize(db: Any, name: str) -> None:
    """Inside a transaction: wait until no other transaction of the fleet holds ``name``, and
    hold it until this one ends. SQLite's ``BEGIN IMMEDIATE`` already serialises every writer
    on the file (no-op there); PostgreSQL takes a transaction-level advisory lock."""
    if dialect(db) == POSTGRESQL:
        db.conn.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [name])
