"""Send slots shared by every process on the store, so the platforms' rate limits hold for all
of them together (a second `kabar run` on the same database, command replies and alerts).

Before a send, an instance reserves a slot for (platform, target) in one short ``BEGIN
IMMEDIATE`` transaction: the store checks the retry-after blocks and the recent slots against the
limits and either records the slot (granted) or says how long to wait. When the send completes
the slot is settled with its completion time. Times are wall-clock seconds (``time.time()``),
the one clock every process on a machine shares.

A slot counts, for a limit, at its completion time (a platform counts a request when it gets it,
which is before we see the answer); while in flight it counts as "now", for at most
``IN_FLIGHT_SECONDS`` (a process killed mid-send never settles its slot). Global spacing limits
(one send per 1/35 s) count from the slot's start, or every send would wait for the previous one.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence

from sqlite_utils import Database

from store.base import LimitLike
from store.db import transaction
from store.dialect import serialize
from store.models import Slot

log = logging.getLogger("kabar.store.pacing")

IN_FLIGHT_SECONDS = 15.0  # an unsettled slot counts as in flight this long (the send timeout)
KEEP_SECONDS = 180.0  # settled slots older than this are pruned (longest limit period + margin)
PRUNE_EVERY = 200  # reservations between two prunes
BUSY_WAIT = 0.5  # seconds to wait when the store cannot be written (locked, full disk)
ALL = ""  # the target of a block for every target of the platform


class StorePacing:
    """The store side of pacing for one platform, over one connection."""

    def __init__(self, db: Database, platform: str, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.platform = platform
        self.clock = clock
        self._reservations = 0

    def reserve(
        self,
        target: str,
        global_limits: Sequence[LimitLike],
        target_limits: Sequence[LimitLike],
    ) -> Slot:
        """Record a send slot for `target` now if blocks and limits allow, else say when.
        Without any limit only the blocks are read (nothing to count, nothing recorded)."""
        try:
            if not global_limits and not target_limits:
                now = self.clock()
                block = self._blocked_until(target, now)
                if block is None:
                    return Slot(True)
                return Slot(False, wait=block[0] - now, whole_platform=block[1], blocked=True)
            with transaction(self.db):
                serialize(self.db, f"pacing.{self.platform}")  # one count-and-record at a time
                slot = self._reserve(target, global_limits, target_limits, self.clock())
        except sqlite3.Error as exc:  # never send without a recorded slot
            log.warning("pacing: cannot reserve a send slot (%s); waiting", exc)
            return Slot(False, wait=BUSY_WAIT, whole_platform=True)
        self._reservations += 1
        if self._reservations % PRUNE_EVERY == 0:
            self.prune()
        return slot

    def _reserve(
        self,
        target: str,
        global_limits: Sequence[LimitLike],
        target_limits: Sequence[LimitLike],
        now: float,
    ) -> Slot:
        block = self._blocked_until(target, now)
        if block is not None:
            until, whole = block
            return Slot(False, wait=until - now, whole_platform=whole, blocked=True)
        ready = _ready_at(self._target_times(target, target_limits, now), target_limits, now)
        if ready > now:
            return Slot(False, wait=ready - now)
        ready = self._global_ready_at(global_limits, now)
        if ready > now:
            return Slot(False, wait=ready - now, whole_platform=True)
        cursor = self.db.conn.execute(
            "INSERT INTO pacing_slots (platform, target, at) VALUES (?, ?, ?)",
            [self.platform, target, now],
        )
        return Slot(True, slot_id=cursor.lastrowid)

    def _blocked_until(self, target: str, now: float) -> tuple[float, bool] | None:
        rows = self.db.conn.execute(
            "SELECT target, until FROM pacing_blocks WHERE platform = ? AND target IN (?, ?)"
            " AND until > ? ORDER BY until DESC LIMIT 1",
            [self.platform, target, ALL, now],
        ).fetchall()
        return (rows[0][1], rows[0][0] == ALL) if rows else None

    def _target_times(self, target: str, limits: Sequence[LimitLike], now: float) -> list[float]:
        if not limits:
            return []
        since = now - max(limit.period for limit in limits) - IN_FLIGHT_SECONDS
        rows = self.db.conn.execute(
            "SELECT at, done FROM pacing_slots WHERE platform = ? AND target = ? AND at > ?",
            [self.platform, target, since],
        )
        return [_counted_at(at, done, now) for at, done in rows]

    def _global_ready_at(self, limits: Sequence[LimitLike], now: float) -> float:
        spacing = [limit for limit in limits if limit.count == 1]
        windows = [limit for limit in limits if limit.count > 1]
        ready = 0.0
        if spacing:
            row = self.db.conn.execute(
                "SELECT max(at) FROM pacing_slots WHERE platform = ? AND at > ?",
                [self.platform, now - max(limit.period for limit in spacing)],
            ).fetchone()
            if row[0] is not None:
                ready = max(ready, row[0] + max(limit.period for limit in spacing))
        if windows:
            period = max(limit.period for limit in windows)
            rows = self.db.conn.execute(
                "SELECT at, done FROM pacing_slots WHERE platform = ? AND done > ?"
                " UNION ALL SELECT at, done FROM pacing_slots WHERE platform = ?"
                " AND done IS NULL AND at > ?",
                [self.platform, now - period, self.platform, now - period - IN_FLIGHT_SECONDS],
            ).fetchall()
            times = [_counted_at(at, done, now) for at, done in rows]
            ready = max(ready, _ready_at(times, windows, now))
        return ready

    def settle(self, slot_id: int) -> None:
        """The send of this slot has completed (with any outcome): it counts from now."""
        try:
            with transaction(self.db):
                self.db.conn.execute(
                    "UPDATE pacing_slots SET done = max(at, ?) WHERE id = ? AND done IS NULL",
                    [self.clock(), slot_id],
                )
        except sqlite3.Error as exc:  # the slot then counts as in flight a little longer
            log.warning("pacing: cannot settle send slot %s (%s)", slot_id, exc)

    def block(self, target: str | None, seconds: float) -> None:
        """The platform said wait: no process sends to `target` (None: to any target of the
        platform) for `seconds`."""
        until = self.clock() + max(0.0, seconds)
        try:
            with transaction(self.db):
                self.db.conn.execute(
                    "INSERT INTO pacing_blocks (platform, target, until) VALUES (?, ?, ?)"
                    " ON CONFLICT (platform, target) DO UPDATE SET"
                    " until = max(until, excluded.until)",
                    [self.platform, ALL if target is None else target, until],
                )
        except sqlite3.Error as exc:  # this process still honours the block
            log.warning("pacing: cannot store a retry-after block (%s)", exc)

    def prune(self) -> int:
        """Forget slots too old to count for any limit and blocks that have ended."""
        now = self.clock()
        try:
            with transaction(self.db):
                slots = self.db.conn.execute(
                    "DELETE FROM pacing_slots WHERE platform = ? AND (done < ? OR"
                    " (done IS NULL AND at < ?))",
                    [self.platform, now - KEEP_SECONDS, now - KEEP_SECONDS],
                ).rowcount
                self.db.conn.execute(
                    "DELETE FROM pacing_blocks WHERE platform = ? AND until < ?",
                    [self.platform, now],
                )
        except sqlite3.Error as exc:
            log.warning("pacing: cannot prune send slots (%s)", exc)
            return 0
        return slots


def _counted_at(at: float, done: float | None, now: float) -> float:
    """When a slot counts: its completion; while in flight "now", for a bounded time."""
    if done is not None:
        return done
    return min(now, at + IN_FLIGHT_SECONDS)


def _ready_at(times: list[float], limits: Sequence[LimitLike], now: float) -> float:
    """When one more send fits every limit, given the times the recent sends count at."""
    ready = 0.0
    ordered = sorted(times, reverse=True)
    for limit in limits:
        recent = [t for t in ordered if t > now - limit.period]
        if len(recent) >= limit.count:
            ready = max(ready, recent[limit.count - 1] + limit.period)
    return ready
