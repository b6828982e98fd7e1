"""Delivery: claim due outbox rows, render them, send them paced per platform and target.

A transient failure (429, 5xx, timeout, network) puts the row back with a delay: an alert is
never dropped for it. A chat that is gone (blocked the bot, deleted, archived) is marked
inactive and its waiting rows are skipped.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlite_utils import Database

from bot.matcher import KeywordIndex
from bot.models import Article
from bot.pacing import Limit, Pacer
from bot.render import Alert, build_alert
from store.articles import get_articles
from store.chats import set_active
from store.outbox import (
    OutboxItem,
    claim_due,
    mark_failed,
    mark_retry,
    mark_sent,
    recent_sends,
    release,
    renew_lease,
    skip_for_chat,
    skip_item,
)
from store.pacing import StorePacing

log = logging.getLogger("kabar.delivery")

SENT, RETRY, GONE, FAILED = "sent", "retry", "gone", "failed"
HORIZON_SECONDS = 20.0  # a target not ready within this is handed back to the store
MAX_BACKOFF_SECONDS = 600.0
RECENT_SECONDS = 62.0  # sends this recent count toward the limits after a restart
Target = tuple[str, str]  # (platform, address)


@dataclass(frozen=True)
class SendResult:
    outcome: str  # SENT, RETRY, GONE (the chat is gone) or FAILED (this message can never go)
    message_id: str | None = None
    retry_after: float | None = None  # the platform's own wait, in seconds
    error: str = ""
    whole_platform: bool = False  # the wait applies to every target (a global flood limit)


class Sender(Protocol):
    platform: str
    global_limits: tuple[Limit, ...]

    def target_limits(self, address: str) -> tuple[Limit, ...]: ...

    async def send(self, address: str, alert: Alert) -> SendResult: ...


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    gone: int = 0
    failed: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)
    gone_targets: set[tuple[str, str]] = field(default_factory=set)

    def add(self, other: DeliveryStats) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.gone += other.gone
        self.failed += other.failed
        self.deferred += other.deferred
        self.errors.extend(other.errors[-20:])


def backoff_seconds(attempts: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: ~1 s, 2 s, 4 s ... capped at 10 minutes."""
    base = min(MAX_BACKOFF_SECONDS, 2.0 ** min(attempts, 10))
    return base * (0.5 + rng() / 2)


def render_item(item: OutboxItem, article: Article, timezone: str) -> Alert:
    """The alert for one outbox row: the article re-matched against its keywords for spans."""
    spans: list[tuple[int, int]] = []
    title_spans: list[tuple[int, int]] = []
    for match in KeywordIndex(item.keywords).match(article.text, article.title):
        spans.extend(match.spans)
        title_spans.extend(match.title_spans)
    return build_alert(
        article,
        item.keywords,
        sorted(spans),
        sorted(title_spans),
        language=item.language,
        timezone=timezone,
    )


class Deliverer:
    """Sends due outbox rows through one Sender per platform, within the platform limits."""

    def __init__(
        self,
        db: Database,
        senders: dict[str, Sender],
        timezone: str = "Asia/Jakarta",
        *,
        concurrency: int = 16,
        lease_seconds: float = 30.0,
    ) -> None:
        self.db = db
        self.senders = senders
        self.timezone = timezone
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.pacers = {  # backed by the store: the limits hold for every process on it
            name: Pacer(sender.global_limits, sender.target_limits,
                        shared=StorePacing(db, name))
            for name, sender in senders.items()
        }
        for platform, address, ago in recent_sends(db, RECENT_SECONDS):
            if platform in self.pacers:
                pacer = self.pacers[platform]
                pacer.record(address, pacer.clock() - ago)
        self._lock = asyncio.Lock()

    async def deliver_due(self, limit: int = 5000, batch: int = 200) -> DeliveryStats:
        """One delivery pass over the rows due now, claimed `batch` at a time. Claimed rows
        carry a lease that is renewed while they are held, so another instance takes them
        over only if this one died. Never runs twice at once in one process."""
        stats = DeliveryStats()
        if not self.senders:
            return stats
        async with self._lock:
            done = 0
            while done < limit:
                items = claim_due(self.db, min(batch, limit - done), self.lease_seconds,
                                  self.senders)
                if not items:
                    break
                done += len(items)
                stats.add(await self._send_all(items))
        return stats

    async def _send_all(self, items: list[OutboxItem]) -> DeliveryStats:
        articles = get_articles(self.db, {item.article_id for item in items})
        alerts: dict[tuple, Alert] = {}  # one rendering per (article, keywords, language)
        queues: dict[Target, deque[OutboxItem]] = {}
        for item in items:
            queues.setdefault((item.platform, item.address), deque()).append(item)
        stats = DeliveryStats()
        in_flight: dict[Target, tuple[asyncio.Task, OutboxItem]] = {}  # one send per target
        semaphore = asyncio.Semaphore(self.concurrency)
        renewed = time.monotonic()
        try:
            while queues or in_flight:
                if time.monotonic() - renewed > self.lease_seconds / 3:
                    held = [i.id for q in queues.values() for i in q]
                    renew_lease(self.db, held + [i.id for _, i in in_flight.values()],
                                self.lease_seconds)
                    renewed = time.monotonic()
                for key in stats.gone_targets:  # its waiting rows were skipped in the store
                    queues.pop(key, None)
                self._defer_far_targets(queues, in_flight, stats)
                key, wait = self._next_ready(queues, in_flight)
                if key is None or wait > 0:
                    await self._wait(in_flight, wait if key is not None else None)
                    continue
                if not self.pacers[key[0]].reserve(key[1]):
                    continue  # the store says not yet (another process's send): wait
                item = queues[key].popleft()
                if not queues[key]:
                    del queues[key]
                await semaphore.acquire()
                task = asyncio.create_task(self._deliver_one(
                    item, articles.get(item.article_id), alerts, stats))
                task.add_done_callback(lambda _t: semaphore.release())
                in_flight[key] = (task, item)
        finally:
            leftover = [i.id for q in queues.values() for i in q]
            if leftover:
                release(self.db, leftover)
        return stats

    def _next_ready(
        self, queues: dict[Target, deque[OutboxItem]], in_flight: dict
    ) -> tuple[Target | None, float]:
        for key in [k for k, (task, _) in in_flight.items() if task.done()]:
            del in_flight[key]
        best: Target | None = None
        best_at = float("inf")
        for key in queues:
            if key in in_flight:
                continue
            at = self.pacers[key[0]].ready_at(key[1])
            # ties (many targets ready now) go to the longest queue, so one busy chat is
            # not kept waiting behind every other chat's single alert
            if at < best_at or (at == best_at and best is not None
                                and len(queues[key]) > len(queues[best])):
                best, best_at = key, at
        if best is None:
            return None, 0.0
        return best, max(0.0, best_at - self.pacers[best[0]].clock())

    async def _wait(self, in_flight: dict, timeout: float | None) -> None:
        tasks = [task for task, _ in in_flight.values() if not task.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        elif timeout:
            await asyncio.sleep(timeout)

    def _defer_far_targets(self, queues: dict, in_flight: dict, stats: DeliveryStats) -> None:
        """Targets blocked for long (retry-after, group minute limit) go back to the store
        as pending, due when the block ends, instead of being held here."""
        for key in list(queues):
            pacer = self.pacers[key[0]]
            wait = pacer.target_ready_at(key[1]) - pacer.clock()
            if wait > HORIZON_SECONDS and key not in in_flight:
                for item in queues.pop(key):
                    mark_retry(self.db, item.id, "waiting for the platform's rate limit", wait,
                               count_attempt=False)
                    stats.deferred += 1

    async def _deliver_one(
        self, item: OutboxItem, article: Article | None, alerts: dict[tuple, Alert],
        stats: DeliveryStats,
    ) -> None:
        if article is None:  # removed by retention while queued
            skip_item(self.db, item.id, "article no longer stored")
            return
        sender = self.senders[item.platform]
        try:
            key = (item.article_id, item.keywords, item.language)
            if key not in alerts:
                alerts[key] = render_item(item, article, self.timezone)
            result = await sender.send(item.address, alerts[key])
        except Exception as exc:  # a bug or an unexpected library error: retry later
            log.exception("sending outbox row %s failed", item.id)
            result = SendResult(RETRY, error=f"{type(exc).__name__}: {exc}")
        self.pacers[item.platform].settle(item.address)
        self._record(item, result, stats)

    def _record(self, item: OutboxItem, result: SendResult, stats: DeliveryStats) -> None:
        pacer = self.pacers[item.platform]
        if result.outcome == SENT:
            mark_sent(self.db, item.id, result.message_id)
            stats.sent += 1
        elif result.outcome == GONE:
            set_active(self.db, item.chat_id, False, result.error)
            skip_for_chat(self.db, item.chat_id, result.error)
            stats.gone += 1
            stats.gone_targets.add((item.platform, item.address))
        elif result.outcome == FAILED:  # e.g. the platform refuses this message's content
            log.error("outbox row %s permanently refused: %s", item.id, result.error)
            mark_failed(self.db, item.id, result.error)
            stats.failed += 1
            stats.errors.append(result.error)
        else:
            if result.retry_after is not None:
                if result.whole_platform:
                    pacer.block_all(result.retry_after)
                pacer.block(item.address, result.retry_after)
                delay = result.retry_after
            else:
                delay = backoff_seconds(item.attempts)
            mark_retry(self.db, item.id, result.error or "retry", delay)
            stats.retried += 1
            stats.errors.append(result.error)
