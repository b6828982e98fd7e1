"""Helpers shared by the delivery, adapter and scheduler tests."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from sqlite_utils import Database

from bot.delivery import SENT, SendResult
from bot.pacing import Limit
from bot.render import Alert
from store.outbox import counts


class RecordingSender:
    """A Sender that records what it was asked to send; scripted failures per address."""

    platform = "telegram"
    global_limits: tuple[Limit, ...] = ()

    def __init__(self) -> None:
        self.sent: list[tuple[str, Alert]] = []
        self.calls = 0
        self.script: dict[str, deque[SendResult]] = {}

    def target_limits(self, address: str) -> tuple[Limit, ...]:
        return ()

    def fail(self, address: str, *results: SendResult) -> None:
        self.script.setdefault(address, deque()).extend(results)

    async def send(self, address: str, alert: Alert) -> SendResult:
        self.calls += 1
        script = self.script.get(address)
        if script:
            return script.popleft()
        self.sent.append((address, alert))
        return SendResult(SENT, message_id=str(len(self.sent)))


async def drain(db: Database, deliver: Callable[[], Awaitable[object]],
                timeout: float = 20.0) -> None:
    """Run delivery passes until no alert waits (retries and their backoff included); fail
    the test if the outbox is not drained within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        await deliver()
        waiting = counts(db)
        if not waiting.get("pending") and not waiting.get("sending"):
            return
        assert time.monotonic() < deadline, f"outbox not drained: {waiting}"
        await asyncio.sleep(0.05)
