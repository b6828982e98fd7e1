"""Fleet-wide exclusion for several `kabar run` instances on one PostgreSQL database: one
matching pass at a time, one Telegram polling leader. On SQLite (one machine, usually one
process) every lock is granted at once, as before."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from store.dialect import POSTGRESQL, dialect

log = logging.getLogger("kabar.store.locks")


@contextmanager
def exclusive(db: Any, name: str) -> Iterator[bool]:
    """Hold the fleet-wide lock ``name`` for the block if no other instance holds it: yields
    True (held, released after) or False (another instance is doing it; skip)."""
    if dialect(db) != POSTGRESQL:
        yield True
        return
    got = db.conn.execute("SELECT pg_try_advisory_lock(hashtext(?))", [name]).fetchone()[0]
    try:
        yield bool(got)
    finally:
        if got:
            db.conn.execute("SELECT pg_advisory_unlock(hashtext(?))", [name])


class Leader:
    """Leadership for ``name`` (e.g. Telegram polling): a session-level advisory lock on a
    connection of its own, so it ends when the leader's process or connection dies and
    another instance's ``try_lead`` then succeeds. SQLite: always the leader."""

    def __init__(self, name: str, connect: Any = None) -> None:
        self.name = name
        self._connect = connect  # () -> psycopg connection, None on SQLite
        self._conn: Any = None

    def try_lead(self) -> bool:
        """True when this instance leads (now or already)."""
        if self._connect is None:
            return True
        if self._conn is not None:
            return self.alive()
        try:
            conn = self._connect()
            got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [self.name])
            if got.fetchone()[0]:
                self._conn = conn
                return True
            conn.close()
        except Exception as exc:  # the database is away: not the leader now, try later
            log.warning("leader %s: cannot reach the database (%s)", self.name, exc)
        return False

    def alive(self) -> bool:
        """Still the leader: the lock's connection answers (else leadership is given up)."""
        if self._connect is None:
            return True
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
            return True
        except Exception:
            self.release()
            return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()  # the session lock goes with the session
            self._conn = None
