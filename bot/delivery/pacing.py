"""Pacing: sliding-window send limits per platform and per target, and retry-after blocks.

Bookkeeping on a monotonic clock; the delivery loop asks when a target may be sent to next and
records each send. Limits are set a little under the platforms' published ceilings.

A Pacer may be backed by the store (``shared``, ``Store.pacing(platform)``): then
``reserve`` asks the store for the send slot, so the limits hold for every process on the
database and for every kind of send (alerts and command replies), and ``settle``, ``block`` and
``block_all`` are written there too. The in-process windows stay as a cheap first answer.

Every method takes a send's address; ``key`` maps it to the target the platform counts its
limits on (default: the address itself). Telegram counts a forum topic's sends on its group
(``-100123/7`` -> ``-100123``), so all of a group's topics share the group's windows, blocks
and store slots; the platform adapter passes that key (the core knows no platform).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from store.base import Pacing


@dataclass(frozen=True)
class Limit:
    """At most `count` sends in any `period` seconds."""

    count: int
    period: float


class Window:
    """The send times that matter for one Limit."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.times: deque[float] = deque(maxlen=limit.count)

    def ready_at(self) -> float:
        if len(self.times) < self.limit.count:
            return 0.0
        return self.times[0] + self.limit.period

    def record(self, at: float) -> None:
        self.times.append(at)


class Pacer:
    """Tracks global and per-target windows plus per-target blocks (429 retry-after)."""

    def __init__(
        self,
        global_limits: tuple[Limit, ...] = (),
        target_limits: Callable[[str], tuple[Limit, ...]] = lambda target: (),
        clock: Callable[[], float] = time.monotonic,
        shared: Pacing | None = None,
        key: Callable[[str], str] | None = None,
    ) -> None:
        self.clock = clock
        self.shared = shared
        self.key: Callable[[str], str] = key or _same
        self._global_limits = tuple(global_limits)
        self._global = [Window(limit) for limit in global_limits]
        self._target_limits = target_limits
        self._targets: dict[str, list[Window]] = {}
        self._blocked: dict[str, float] = {}
        self._global_blocked = 0.0
        self._held: dict[str, float] = {}  # the store said this target's window is full
        self._global_held = 0.0  # ... or the platform's
        self._slots: dict[str, int] = {}  # target -> its slot in the store, until settled

    def _windows(self, target: str) -> list[Window]:
        if target not in self._targets:
            self._targets[target] = [Window(limit) for limit in self._target_limits(target)]
        return self._targets[target]

    def target_ready_at(self, target: str) -> float:
        """When this target's own limits and blocks allow a send (ignoring global limits)."""
        target = self.key(target)
        times = [w.ready_at() for w in self._windows(target)]
        return max(
            [
                self._blocked.get(target, 0.0),
                self._global_blocked,
                self._held.get(target, 0.0),
                *times,
            ]
        )

    def global_ready_at(self) -> float:
        return max([0.0, self._global_held, *(w.ready_at() for w in self._global)])

    def ready_at(self, target: str) -> float:
        return max(self.target_ready_at(target), self.global_ready_at())

    def record(self, target: str, at: float | None = None) -> None:
        self._record(self.key(target), self.clock() if at is None else at)

    def _record(self, target: str, at: float) -> None:  # ``target`` is already a key
        for window in self._global:
            window.record(at)
        for window in self._windows(target):
            window.record(at)

    def reserve(self, target: str) -> bool:
        """Take the send slot for `target` now: True (recorded here and, when shared, in the
        store), or False when the store says not yet (another process used the slot or a
        block is stored); ``ready_at`` then tells when to ask again."""
        if self.shared is None:
            self.record(target)
            return True
        target = self.key(target)
        answer = self.shared.reserve(target, self._global_limits, self._target_limits(target))
        if answer.granted:
            self._record(target, self.clock())
            if answer.slot_id is not None:
                self._slots[target] = answer.slot_id
            return True
        wait = max(0.001, answer.wait)
        until = self.clock() + wait
        if answer.blocked:  # another process was told to wait: so is this one
            self._block(target, wait, answer.whole_platform, share=False)
        elif answer.whole_platform:
            self._global_held = max(self._global_held, until)
        else:
            self._held[target] = max(self._held.get(target, 0.0), until)
        return False

    def settle(self, target: str, at: float | None = None) -> None:
        """A send to `target` has just completed: one-per-period spacing counts from now, as
        the platform may count a slow request when it finishes, not when it started."""
        at = self.clock() if at is None else at
        target = self.key(target)
        for window in self._windows(target):
            if window.limit.count == 1 and window.times:
                window.times[-1] = max(window.times[-1], at)
        slot = self._slots.pop(target, None)
        if slot is not None and self.shared is not None:
            self.shared.settle(slot)

    def block(self, target: str, seconds: float) -> None:
        """The platform said wait (`retry_after`): nothing goes to this target until then
        (from any process, when shared)."""
        self._block(self.key(target), seconds, False, share=True)

    def block_all(self, seconds: float) -> None:
        self._block(None, seconds, True, share=True)

    def _block(self, target: str | None, seconds: float, whole: bool, *, share: bool) -> None:
        until = self.clock() + max(0.0, seconds)
        if whole:
            self._global_blocked = max(self._global_blocked, until)
        elif target is not None:
            self._blocked[target] = max(self._blocked.get(target, 0.0), until)
        if share and self.shared is not None:
            self.shared.block(None if whole else target, seconds)

    def forget_idle(self, older_than: float = 3600.0) -> None:
        """Drop bookkeeping for targets not used for a while (bounded memory)."""
        cutoff = self.clock() - older_than
        for target in [
            t
            for t, ws in self._targets.items()
            if all(not w.times or w.times[-1] < cutoff for w in ws)
        ]:
            del self._targets[target]
        for target in [t for t, until in self._blocked.items() if until < cutoff]:
            del self._blocked[target]
        for target in [t for t, until in self._held.items() if until < cutoff]:
            del self._held[target]


def _same(address: str) -> str:
    return address


async def acquire(pacer: Pacer, target: str) -> None:
    """Wait until `pacer` grants a send slot for `target` (it is then reserved)."""
    while True:
        wait = pacer.ready_at(target) - pacer.clock()
        if wait > 0:
            await asyncio.sleep(wait)
        elif pacer.reserve(target):
            return
