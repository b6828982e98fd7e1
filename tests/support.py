"""Helpers shared by the delivery, adapter and scheduler tests."""

from __future__ import annotations

import asyncio
import sqlite3
import string
import time
from collections import deque
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

from bot.alerts.alert import Alert
from bot.delivery.pacing import Limit
from bot.delivery.worker import SENT, SendResult
from store import Store
from store.models import ArticleIn


class RecordingSender:
    """A Sender that records what it was asked to send; scripted failures per address."""

    platform = "telegram"
    global_limits: tuple[Limit, ...] = ()

    def __init__(self) -> None:
        self.sent: list[tuple[str, Alert]] = []
        self.calls = 0
        self.script: dict[str, deque[SendResult | Exception]] = {}
        self.events: list[tuple[str, str]] = []  # ("send", address) per call, in order
        self.edits: list[tuple[str, str, Alert]] = []  # (address, message id, alert)

    def target_limits(self, address: str) -> tuple[Limit, ...]:
        return ()

    def fail(self, address: str, *results: SendResult | Exception) -> None:
        """The next sends to `address` answer `results` in turn (an exception is raised)."""
        self.script.setdefault(address, deque()).extend(results)

    async def send(self, address: str, alert: Alert) -> SendResult:
        self.calls += 1
        self.events.append(("send", address))
        script = self.script.get(address)
        if script:
            scripted = script.popleft()
            if isinstance(scripted, Exception):
                raise scripted
            return scripted
        self.sent.append((address, alert))
        return SendResult(SENT, message_id=str(len(self.sent)))

    async def edit(self, address: str, message_id: str, alert: Alert) -> SendResult:
        self.calls += 1
        self.events.append(("edit", address))
        self.edits.append((address, message_id, alert))
        return SendResult(SENT, message_id=message_id)

    async def reply(self, address: str, message_id: str, alert: Alert) -> SendResult:
        self.calls += 1
        self.events.append(("reply", address))
        self.sent.append((address, alert))
        return SendResult(SENT, message_id=str(len(self.sent)))


class FailingStore:
    """Wraps a store function so that its first `times` calls raise
    sqlite3.OperationalError(`message`) ("database or disk is full", "database is locked"),
    as a full disk or a long-held lock would; every call is logged in `events`."""

    def __init__(
        self,
        func: Callable[..., Any],
        times: int,
        message: str,
        events: list[tuple[str, str]] | None = None,
    ) -> None:
        self.func = func
        self.left = times
        self.message = message
        self.events = [] if events is None else events

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.left > 0:
            self.left -= 1
            self.events.append(("record failed", self.message))
            raise sqlite3.OperationalError(self.message)
        self.events.append(("recorded", ""))
        return self.func(*args, **kwargs)


async def drain(db: Store, deliver: Callable[[], Awaitable[object]], timeout: float = 20.0) -> None:
    """Run delivery passes until no alert waits (retries and their backoff included); fail
    the test if the outbox is not drained within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        await deliver()
        waiting = db.outbox.counts()
        if not waiting.get("pending") and not waiting.get("sending"):
            return
        assert time.monotonic() < deadline, f"outbox not drained: {waiting}"
        await asyncio.sleep(0.05)


# --- message catalogs: the key and placeholder conventions the catalog tests check ----------


def plural_key(key: str) -> tuple[str, str]:
    """``"list.some_one"`` -> ``("list.some", "one")``; a plain key -> ``(key, "")``."""
    base, _, form = key.rpartition("_")
    return (base, form) if base and form in ("one", "other") else (key, "")


def placeholders(message: str) -> set[str]:
    """The ``str.format`` field names used in ``message``: ``"{n} of {total:d}"`` -> n, total."""
    fields = (field for _, field, _, _ in string.Formatter().parse(message) if field is not None)
    return {field.split(".", 1)[0].split("[", 1)[0] for field in fields if field}


@cache
def _eval_items() -> dict[str, Any]:
    from bench.stories_eval import load_eval_set

    return {it.key: it for it in load_eval_set()}


def eval_article(key: str, query: str = "", origin: str = "") -> ArticleIn:
    """One article of the stories evaluation set (tests/fixtures/stories), as ingested:
    linked at ``https://news.example/KEY`` plus ``query``."""
    return labelled_article(_eval_items()[key], query, origin)


def labelled_article(item: Any, query: str = "", origin: str = "") -> ArticleIn:
    """An evaluation item (``bench.stories_eval.Labelled``) as ingested."""
    a = item.article
    return ArticleIn(
        text=a.text,
        title=a.title,
        source=a.source,
        lang=a.lang,
        published=a.published,
        url=f"https://news.example/{item.key}{query}",
        origin=origin,
    )
