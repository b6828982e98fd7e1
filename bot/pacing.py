"""Pacing: sliding-window send limits per platform and per target, and retry-after blocks.

Pure bookkeeping on a monotonic clock; the delivery loop asks when a target may be sent to next
and records each send. Limits are set a little under the platforms' published ceilings.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


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
    ) -> None:
        self.clock = clock
        self._global = [Window(limit) for limit in global_limits]
        self._target_limits = target_limits
        self._targets: dict[str, list[Window]] = {}
        self._blocked: dict[str, float] = {}
        self._global_blocked = 0.0

    def _windows(self, target: str) -> list[Window]:
        if target not in self._targets:
            self._targets[target] = [Window(limit) for limit in self._target_limits(target)]
        return self._targets[target]

    def target_ready_at(self, target: str) -> float:
        """When this target's own limits and blocks allow a send (ignoring global limits)."""
        times = [w.ready_at() for w in self._windows(target)]
        return max([self._blocked.get(target, 0.0), self._global_blocked, *times])

    def global_ready_at(self) -> float:
        return max([0.0, *(w.ready_at() for w in self._global)])

    def ready_at(self, target: str) -> float:
        return max(self.target_ready_at(target), self.global_ready_at())

    def record(self, target: str, at: float | None = None) -> None:
        at = self.clock() if at is None else at
        for window in self._global:
            window.record(at)
        for window in self._windows(target):
            window.record(at)

    def settle(self, target: str, at: float | None = None) -> None:
        """A send to `target` has just completed: one-per-period spacing counts from now, as
        the platform may count a slow request when it finishes, not when it started."""
        at = self.clock() if at is None else at
        for window in self._windows(target):
            if window.limit.count == 1 and window.times:
                window.times[-1] = max(window.times[-1], at)

    def block(self, target: str, seconds: float) -> None:
        """The platform said wait (`retry_after`): nothing goes to this target until then."""
        until = self.clock() + max(0.0, seconds)
        self._blocked[target] = max(self._blocked.get(target, 0.0), until)

    def block_all(self, seconds: float) -> None:
        self._global_blocked = max(self._global_blocked, self.clock() + max(0.0, seconds))

    def forget_idle(self, older_than: float = 3600.0) -> None:
        """Drop bookkeeping for targets not used for a while (bounded memory)."""
        cutoff = self.clock() - older_than
        for target in [t for t, ws in self._targets.items()
                       if all(not w.times or w.times[-1] < cutoff for w in ws)]:
            del self._targets[target]
        for target in [t for t, until in self._blocked.items() if until < cutoff]:
            del self._blocked[target]
