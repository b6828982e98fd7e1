"""Delivery: claim due outbox rows, render them, send them paced per platform and target.

A transient failure (429, 5xx, timeout, network) puts the row back with a delay: an alert is
never dropped for it. A chat that is gone (blocked the bot, deleted, archived) is marked
inactive and its waiting rows are skipped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.alerts.alert import DEFAULT_TIMEZONE, Alert, build_alert, mention_of, story_alert
from bot.delivery.pacing import Limit, Pacer
from bot.matching.index import KeywordIndex
from store import OperationError, Store
from store.models import EDIT, REPLY, SEND, Article, OutboxItem, ThreadRow

log = logging.getLogger("kabar.delivery")

SENT, RETRY, GONE, FAILED = "sent", "retry", "gone", "failed"
RETRIED = "retried"  # what the store records for a RETRY: pending again, due later
REFUSED = "refused"  # an edit the platform will not make (too old, deleted): reply instead
HORIZON_SECONDS = 20.0  # a target not ready within this is handed back to the store
MAX_BACKOFF_SECONDS = 600.0
RECENT_SECONDS = 62.0  # sends this recent count toward the limits after a restart
STOP_GRACE_SECONDS = 10.0  # on shutdown, sends in flight get this long to finish and be recorded
CANCEL_GRACE_SECONDS = 2.0  # then they are cancelled and given this long to wind down
RECORD_RETRY_FIRST_SECONDS = 0.1  # a failed record is retried after this, doubling ...
RECORD_RETRY_MAX_SECONDS = 5.0  # ... up to this
Target = tuple[str, str]  # (platform, address)


@dataclass(frozen=True)
class SendResult:
    outcome: str  # SENT, RETRY, GONE (the chat is gone), FAILED (this message can never go)
    # or, for an edit, REFUSED (the message cannot be edited)
    message_id: str | None = None
    retry_after: float | None = None  # the platform's own wait, in seconds
    error: str = ""
    whole_platform: bool = False  # the wait applies to every target (a global flood limit)
    rate_limited: bool = False  # the platform answered 429 (counted in the metrics)


class DeliveryObserver(Protocol):
    """Told once per recorded send: ``outcome`` is what the store now says (``sent``,
    ``retried``, ``gone`` or ``failed``); the metrics implement it (``bot.app.metrics``)."""

    def delivered(self, item: OutboxItem, result: SendResult, outcome: str) -> None: ...


class Sender(Protocol):
    """A platform's alert sender. It may also have ``pacing_key(address) -> target`` (see
    ``pacing_key`` below): the target its platform counts the rate limits on."""

    platform: str
    global_limits: tuple[Limit, ...]

    def target_limits(self, address: str) -> tuple[Limit, ...]: ...

    async def send(self, address: str, alert: Alert) -> SendResult: ...

    async def edit(self, address: str, message_id: str, alert: Alert) -> SendResult:
        """Replace the text of an alert already sent (the story grew); REFUSED when the
        platform will not edit it, SENT when it already reads so."""
        ...

    async def reply(self, address: str, message_id: str, alert: Alert) -> SendResult:
        """A short message in reply to (Slack: in the thread of) an alert already sent."""
        ...


def pacing_key(sender: Sender) -> Callable[[str], str] | None:
    """The sender's optional ``pacing_key(address) -> target``: the target its platform counts
    rate limits on (Telegram: a forum topic's group); None: every address is its own."""
    key = getattr(sender, "pacing_key", None)
    return key if callable(key) else None


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


def _merged(first: tuple[str, ...], rows: Sequence[ThreadRow]) -> tuple[str, ...]:
    """The first message's keywords, then each later article's new ones, in order."""
    return tuple(dict.fromkeys([*first, *(k for r in rows for k in r.keywords)]))


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
    """Sends due outbox rows through one Sender per platform, within the platform limits.

    A send is always followed by its record: if the store cannot record it (disk full, database
    locked), the record is retried with backoff while the lease is held, and no other row is
    sent until it succeeds. `close()` stops claiming, lets the sends in flight finish and be
    recorded (bounded) and hands the rows not yet tried back to the store."""

    def __init__(
        self,
        db: Store,
        senders: dict[str, Sender],
        timezone: str = DEFAULT_TIMEZONE,
        *,
        concurrency: int = 16,
        lease_seconds: float = 30.0,
        max_attempts: int = 20,
        observer: DeliveryObserver | None = None,
    ) -> None:
        self.db = db
        self.observer = observer
        self.senders = senders
        self.timezone = timezone
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.pacers = {  # backed by the store: the limits hold for every process on it
            name: Pacer(
                sender.global_limits,
                sender.target_limits,
                shared=db.pacing(name),
                key=pacing_key(sender),
            )
            for name, sender in senders.items()
        }
        for platform, address, ago in db.outbox.recent_sends(RECENT_SECONDS):
            if platform in self.pacers:
                pacer = self.pacers[platform]
                pacer.record(address, pacer.clock() - ago)
        self._lock = asyncio.Lock()
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._recording: set[int] = set()  # rows sent whose record is being retried
        self._in_flight: dict[Target, tuple[asyncio.Task, OutboxItem]] = {}
        self._tried: set[int] = set()  # rows whose send completed: never released as untried

    async def deliver_due(self, limit: int = 5000, batch: int = 200) -> DeliveryStats:
        """One delivery pass over the rows due now, claimed `batch` at a time. Claimed rows
        carry a lease that is renewed while they are held, so another instance takes them
        over only if this one died. Never runs twice at once in one process."""
        stats = DeliveryStats()
        if not self.senders or self._stopping:
            return stats
        async with self._lock:
            done = 0
            while done < limit and not self._stopping:
                items = self.db.outbox.claim_due(
                    min(batch, limit - done), self.lease_seconds, self.senders
                )
                if not items:
                    break
                done += len(items)
                stats.add(await self._send_all(items))
        return stats

    def stop(self) -> None:
        """Claim nothing more; the pass under way starts no new send."""
        self._stopping = True
        self._stop_event.set()

    async def close(self, grace: float = STOP_GRACE_SECONDS) -> bool:
        """Graceful stop: no new claim or send, the sends in flight finish and are recorded
        (at most `grace` seconds, then they are cancelled), the rows not tried are released.
        False if a pass was still running after that."""
        self.stop()
        for wait, cancel in ((grace, False), (CANCEL_GRACE_SECONDS, True)):
            if cancel:
                log.warning(
                    "delivery still busy after %.0f s: cancelling %d sends in flight",
                    grace,
                    len(self._in_flight),
                )
                for task, _ in list(self._in_flight.values()):
                    task.cancel()
            try:
                await asyncio.wait_for(self._lock.acquire(), wait)
            except TimeoutError:
                continue
            self._lock.release()
            return True
        return False

    async def _send_all(self, items: list[OutboxItem]) -> DeliveryStats:
        articles = self.db.articles.get_many({item.article_id for item in items})
        alerts: dict[tuple, asyncio.Future[Alert]] = {}  # one rendering per (article, kw, lang)
        queues: dict[Target, deque[OutboxItem]] = {}
        for item in items:
            queues.setdefault((item.platform, item.address), deque()).append(item)
        stats = DeliveryStats()
        in_flight = self._in_flight = {}  # one send per target
        released: list[int] = []  # rows whose send was never completed
        stop_waiter = asyncio.ensure_future(self._stop_event.wait())
        renew_at = time.monotonic() + self.lease_seconds / 3
        try:
            while True:
                self._reap(in_flight, released)
                if not in_flight and (not queues or self._stopping):
                    break
                if time.monotonic() >= renew_at:
                    self._renew(queues, in_flight)
                    renew_at = time.monotonic() + self.lease_seconds / 3
                # every wait ends in time for the next renewal: a row waiting for pacing or for
                # a free slot never outlives its lease
                until_renewal = max(0.0, renew_at - time.monotonic())
                key, wait = self._next_step(queues, in_flight, stats)
                if key is None or wait > 0:
                    await self._wait(in_flight, min(wait, until_renewal), stop_waiter)
                    continue
                if not self.pacers[key[0]].reserve(key[1]):
                    continue  # the store says not yet (another process's send): wait
                item = queues[key].popleft()
                if not queues[key]:
                    del queues[key]
                task = asyncio.create_task(
                    self._deliver_one(item, articles.get(item.article_id), alerts, stats)
                )
                in_flight[key] = (task, item)
        finally:
            await self._finish(queues, in_flight, released, stop_waiter)
        return stats

    def _next_step(
        self, queues: dict[Target, deque[OutboxItem]], in_flight: dict, stats: DeliveryStats
    ) -> tuple[Target | None, float]:
        """The target to send to now, or how long to wait (inf: until a send completes).
        Nothing new goes out while a send could not be recorded, or once stopping."""
        if self._stopping or self._recording or len(in_flight) >= self.concurrency:
            return None, float("inf")
        for gone in stats.gone_targets:  # its waiting rows were skipped in the store
            queues.pop(gone, None)
        self._defer_far_targets(queues, in_flight, stats)
        key, wait = self._next_ready(queues, in_flight)
        return key, (wait if key is not None else float("inf"))

    def _reap(self, in_flight: dict, released: list[int]) -> None:
        """Read the result of every finished send task (none is left unread)."""
        for key, (task, item) in list(in_flight.items()):
            if not task.done():
                continue
            del in_flight[key]
            if task.cancelled():
                released.extend(item.row_ids)
            elif task.exception() is not None:
                log.error("delivering outbox row %s failed", item.id, exc_info=task.exception())
                released.extend(item.row_ids)

    def _renew(self, queues: dict, in_flight: dict) -> None:
        held = [r for q in queues.values() for i in q for r in i.row_ids]
        held += [r for _, i in in_flight.values() for r in i.row_ids]
        try:
            self.db.outbox.renew_lease(held, self.lease_seconds)
        except OperationError as exc:
            log.warning("could not renew the lease of %d alerts: %s", len(held), exc)

    async def _finish(
        self, queues: dict, in_flight: dict, released: list[int], stop_waiter: asyncio.Future
    ) -> None:
        """After the loop (normally, cancelled or on an error): no send task is left behind,
        and the rows not sent go back to the store."""
        stop_waiter.cancel()
        if in_flight:
            tasks = [task for task, _ in in_flight.values()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._reap(in_flight, released)
        leftover = [i for i in released if i not in self._tried]
        leftover += [r for q in queues.values() for i in q for r in i.row_ids]
        self._tried.clear()
        if leftover:
            try:
                self.db.outbox.release(leftover)
            except OperationError as exc:
                log.warning(
                    "could not hand back %d alerts (retried when their lease ends): %s",
                    len(leftover),
                    exc,
                )

    def _next_ready(
        self, queues: dict[Target, deque[OutboxItem]], in_flight: dict
    ) -> tuple[Target | None, float]:
        best: Target | None = None
        best_at = float("inf")
        for key in queues:
            if key in in_flight:
                continue
            at = self.pacers[key[0]].ready_at(key[1])
            # ties (many targets ready now) go to the longest queue, so one busy chat is
            # not kept waiting behind every other chat's single alert
            if at < best_at or (
                at == best_at and best is not None and len(queues[key]) > len(queues[best])
            ):
                best, best_at = key, at
        if best is None:
            return None, 0.0
        return best, max(0.0, best_at - self.pacers[best[0]].clock())

    async def _wait(self, in_flight: dict, timeout: float, stop_waiter: asyncio.Future) -> None:
        """Until a send completes, `timeout` passes or delivery is told to stop."""
        waiters = [task for task, _ in in_flight.values() if not task.done()]
        if not stop_waiter.done():
            waiters.append(stop_waiter)
        if waiters:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        else:
            await asyncio.sleep(timeout)

    def _defer_far_targets(self, queues: dict, in_flight: dict, stats: DeliveryStats) -> None:
        """Targets blocked for long (retry-after, group minute limit) go back to the store
        as pending, due when the block ends, instead of being held here."""
        for key in list(queues):
            pacer = self.pacers[key[0]]
            wait = pacer.target_ready_at(key[1]) - pacer.clock()
            if wait > HORIZON_SECONDS and key not in in_flight:
                queue = queues[key]
                while queue:
                    try:
                        self.db.outbox.mark_retry(
                            queue[0].id,
                            "waiting for the platform's rate limit",
                            wait,
                            count_attempt=False,
                        )
                    except OperationError as exc:  # kept here (and renewed) until it works
                        log.warning("could not defer outbox row %s: %s", queue[0].id, exc)
                        return
                    queue.popleft()
                    stats.deferred += 1
                del queues[key]

    async def _deliver_one(
        self,
        item: OutboxItem,
        article: Article | None,
        alerts: dict[tuple, asyncio.Future],
        stats: DeliveryStats,
    ) -> None:
        if article is None:  # removed by retention while queued
            self.db.outbox.skip_item(item.id, "article no longer stored")
            self.pacers[item.platform].settle(item.address)  # its slot counts from now, not 15 s
            return
        sender = self.senders[item.platform]
        started = time.monotonic()
        try:
            result = await self._transmit(sender, item, article, alerts)
        except Exception as exc:  # a bug or an unexpected library error: retry later
            log.exception("sending outbox row %s failed", item.id)
            result = SendResult(RETRY, error=f"{type(exc).__name__}: {exc}")
        self.pacers[item.platform].settle(item.address)
        await self._record_until_done(item, result, stats, time.monotonic() - started)

    async def _transmit(
        self,
        sender: Sender,
        item: OutboxItem,
        article: Article,
        alerts: dict[tuple, asyncio.Future],
    ) -> SendResult:
        """Send, edit or reply, as the row's kind says. A story's first message carrying no
        later article is rendered once per (article, keywords, language) in a batch."""
        if item.kind == SEND and len(item.row_ids) == 1:
            return await sender.send(item.address, await self._render(item, article, alerts))
        alert = await self._story_alert(item, article)
        if item.kind == SEND:
            return await sender.send(item.address, alert)
        message_id = item.head_message_id or ""
        if item.kind == EDIT:
            return await sender.edit(item.address, message_id, alert)
        return await sender.reply(item.address, message_id, alert)

    async def _story_alert(self, item: OutboxItem, article: Article) -> Alert:
        """The story's message in this chat: its first article, with every later article
        already shown (sent) and those this message carries; a reply names only those."""
        head_id = item.head_id if item.head_id is not None else item.id
        rows = self.db.outbox.thread(head_id)
        carried = set(item.row_ids)
        first_row = None if item.kind == REPLY else next((r for r in rows if r.id == head_id), None)
        shown = [
            r
            for r in rows
            if r.id != head_id
            and (r.id in carried or (first_row is not None and r.status == "sent"))
        ]
        wanted = {r.article_id for r in shown} | ({first_row.article_id} if first_row else set())
        found = self.db.articles.get_many(wanted)
        first = (found.get(first_row.article_id) if first_row else None) or article
        keywords = _merged(first_row.keywords if first_row else (), shown)
        others = [
            (mention_of(found[r.article_id], r.origin), r.keywords)
            for r in shown
            if r.article_id in found and (first_row is None or r.article_id != first.id)
        ]
        base = await asyncio.to_thread(
            render_item,
            dataclasses.replace(item, keywords=keywords),
            first,
            item.timezone or self.timezone,
        )
        return story_alert(base, others, reply=item.kind == REPLY)

    async def _render(
        self, item: OutboxItem, article: Article, alerts: dict[tuple, asyncio.Future]
    ) -> Alert:
        """The alert, rendered in a worker thread (a huge article never blocks the loop),
        once per (article, keywords, language) in a batch."""
        key = (item.article_id, item.keywords, item.language, item.timezone)
        future = alerts.get(key)
        if future is None:
            future = alerts[key] = asyncio.ensure_future(
                asyncio.to_thread(render_item, item, article, item.timezone or self.timezone)
            )
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
        return await asyncio.shield(future)

    async def _record_until_done(
        self, item: OutboxItem, result: SendResult, stats: DeliveryStats, elapsed: float
    ) -> None:
        """Record the send's outcome; when the store fails, retry the record (never the send)
        with backoff, holding the lease, while no other row is sent."""
        delay = RECORD_RETRY_FIRST_SECONDS
        tries = 0
        try:
            while True:
                try:
                    outcome = self._record(item, result, stats, elapsed)
                    break
                except OperationError as exc:
                    tries += 1
                    if tries == 1:
                        self._recording.add(item.id)
                        log.error(
                            "outbox row %s: %s, but recording it failed (%s); no alert is"
                            " sent until it is recorded",
                            item.id,
                            result.outcome,
                            exc,
                        )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RECORD_RETRY_MAX_SECONDS)
        except asyncio.CancelledError:
            self._last_try(item, result, stats, elapsed)
            raise
        finally:
            self._recording.discard(item.id)
        if tries:
            log.info("outbox row %s recorded after %d failed tries", item.id, tries)
        self._observe(item, result, outcome)

    def _observe(self, item: OutboxItem, result: SendResult, outcome: str) -> None:
        if self.observer is None:
            return
        try:
            self.observer.delivered(item, result, outcome)
        except Exception:  # counting must never stop a delivery
            log.exception("delivery observer failed")

    def _last_try(
        self, item: OutboxItem, result: SendResult, stats: DeliveryStats, elapsed: float
    ) -> None:
        """Stopping while a record is failing: one more try; the row is never handed back
        as untried (it was tried)."""
        self._tried.update(item.row_ids)
        try:
            self._observe(item, result, self._record(item, result, stats, elapsed))
        except OperationError:
            log.error(
                "outbox row %s: %s, but it could not be recorded before stopping; it"
                " may be sent again",
                item.id,
                result.outcome,
            )

    def _record(
        self, item: OutboxItem, result: SendResult, stats: DeliveryStats, elapsed: float = 0.0
    ) -> str:
        """Store the outcome of one send (may raise OperationError; safe to call again);
        returns what was recorded: SENT, GONE, FAILED or "retried"."""
        if result.outcome == SENT:
            self.db.outbox.mark_sent(item.id, result.message_id)
            stats.sent += 1
            return SENT
        if result.outcome == REFUSED:  # the edit will never be made: a reply goes instead
            self.db.outbox.to_reply(item.id, result.error)
            log.info("outbox row %s: edit refused (%s); replying instead", item.id, result.error)
            stats.retried += 1
            return REFUSED
        if result.outcome == GONE:
            self.db.chats.set_active(item.chat_id, False, result.error)
            self.db.outbox.skip_for_chat(item.chat_id, result.error)
            stats.gone += 1
            stats.gone_targets.add((item.platform, item.address))
            return GONE
        if result.outcome == FAILED:  # e.g. the platform refuses this message's content
            self.db.outbox.mark_failed(item.id, result.error)
            log.error("outbox row %s permanently refused: %s", item.id, result.error)
            stats.failed += 1
            stats.errors.append(result.error)
            return FAILED
        return self._record_retry(item, result, stats, elapsed)

    def _record_retry(
        self, item: OutboxItem, result: SendResult, stats: DeliveryStats, elapsed: float
    ) -> str:
        """A platform wait (429 retry_after) is not an attempt; any other failure is, and after
        `max_attempts` of them the row is marked failed with its last error."""
        error = result.error or "retry"
        if result.retry_after is not None:
            self.db.outbox.mark_retry(item.id, error, result.retry_after, count_attempt=False)
            pacer = self.pacers[item.platform]
            if result.whole_platform:
                pacer.block_all(result.retry_after)
            pacer.block(item.address, result.retry_after)
        elif item.attempts + 1 >= self.max_attempts:
            self.db.outbox.mark_failed(item.id, error)
            log.error(
                "outbox row %s failed %d times, giving up: %s", item.id, item.attempts + 1, error
            )
            stats.failed += 1
            stats.errors.append(error)
            return FAILED
        else:
            # a slow answer (a timeout) may still have been posted: never retry it sooner
            # than the send took
            self.db.outbox.mark_retry(item.id, error, max(backoff_seconds(item.attempts), elapsed))
        stats.retried += 1
        stats.errors.append(error)
        return RETRIED
