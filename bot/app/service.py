"""The running bot's work, independent of what triggers it: poll a feed, run a matching pass,
deliver the outbox, clean up. The scheduler and the CLI both call these."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import httpx

from bot.alerts.i18n import counted
from bot.app.feeds import first_poll_backfills, store_backfill
from bot.app.health import Notice, check_feed_health
from bot.app.metrics import Metrics
from bot.config import Config
from bot.delivery.digests import DigestRunner, ModesStats
from bot.delivery.worker import STOP_GRACE_SECONDS, Deliverer, DeliveryStats, Sender
from bot.ingest.fetch import FeedState, fetch_feed, make_client
from bot.ingest.sources import IngestReport, store_batch
from bot.ingest.urls import redact_url
from bot.matching.passes import IndexCache, PassResult, add_results, matching_batches
from bot.stories.assign import stories_config
from store import Store
from store.clock import now_db

log = logging.getLogger("kabar")

MAX_FEED_BACKOFF_SECONDS = 6 * 3600
# what the service records in the store's meta table (shown by `kabar status`)
MATCH_LOCK = "kabar.matching"  # one matching pass at a time across instances (store.exclusive)
PASS_AT = "service.last_match_at"  # when the last matching pass started (UTC, stored format)
PASS_SECONDS = "service.last_match_seconds"  # how long it took
PASS_CHECKED = "service.last_match_checked"  # articles it checked
# the pass yields to the event loop after this much work (on time, not per batch: a command or
# a Slack acknowledgement waits at most about this long; bench/bench_responsive.py)
PASS_SLICE_SECONDS = 0.005
PASS_BATCH = 200  # articles per transaction (fetch + record stay short between slices)


def feed_backoff(interval: float, failures: int) -> float:
    """Next poll delay for a feed that failed `failures` times in a row."""
    if failures <= 0:
        return interval
    return min(MAX_FEED_BACKOFF_SECONDS, interval * 2 ** min(failures, 10))


@dataclass(frozen=True)
class FeedPoll:
    url: str
    report: IngestReport | None
    error: str | None
    next_in: float


class Service:
    """One bot instance's jobs over one database."""

    def __init__(
        self,
        config: Config,
        db: Store,
        senders: dict[str, Sender],
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.metrics = metrics or Metrics(senders)
        self.deliverer = Deliverer(
            db,
            senders,
            config.timezone,
            lease_seconds=config.schedule.claim_lease_seconds,
            max_attempts=config.schedule.max_attempts,
            observer=self.metrics,
        )
        self.modes = DigestRunner(
            db,
            senders,
            self.deliverer.pacers,
            config.timezone,
            lease_seconds=config.schedule.claim_lease_seconds,  # renewed while sending
        )
        self.started = time.monotonic()
        self.last_pass_started: float | None = None  # monotonic; for GET /healthz
        self._index_cache = IndexCache()
        self._match_lock = asyncio.Lock()
        self._match_again = False
        self._feed_locks: dict[str, asyncio.Lock] = {}
        self._client: httpx.AsyncClient | None = None
        self._background: set[asyncio.Task] = set()  # feed wake-ups, kept until they finish

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Graceful stop: delivery claims nothing more, the sends in flight finish and are
        recorded (bounded by `grace`), the wake-ups still running are cancelled."""
        await self.deliverer.close(grace)
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    def wake_matching(self) -> None:
        """Run a matching pass and the delivery of what it queued in the background (a feed
        poll brought new articles); the task is kept and its failure logged."""
        task = asyncio.get_running_loop().create_task(self.match_and_deliver())
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("matching and delivery after a feed poll failed", exc_info=task.exception())

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def match(self) -> PassResult | None:
        """A matching pass; a call that arrives while one runs makes it run once more after."""
        if self._match_lock.locked():
            self._match_again = True
            return None
        async with self._match_lock:
            results = [await self._one_pass()]
            while self._match_again:
                self._match_again = False
                results.append(await self._one_pass())
        result = add_results(results)
        if result.queued:
            log.info(
                "matched %s, queued %s",
                counted(result.matched, "article"),
                counted(result.queued, "alert"),
            )
        return result

    async def _one_pass(self) -> PassResult:
        """A matching pass that yields to the event loop between batches, so a long pass
        never holds up a slash command's 3-second acknowledgement or a delivery. Its time
        and duration are recorded in the store's meta table (`kabar status`) and the
        metrics."""
        self.last_pass_started = started = time.monotonic()
        at = now_db()
        self.modes.hold_now()  # a chat whose quiet hours began holds what this pass queues
        results = []
        with self.db.exclusive(MATCH_LOCK) as mine:
            if not mine:  # another instance on the database is matching: its pass covers it
                return PassResult(0, 0, 0, [])
            for batch in matching_batches(
                self.db,
                PASS_BATCH,
                index=self._index_cache.get(self.db),
                slice_seconds=PASS_SLICE_SECONDS,
            ):
                results.append(batch)
                await asyncio.sleep(0)
        result = add_results(results)
        seconds = time.monotonic() - started
        self.metrics.matching_pass(seconds, result.queued)
        self.db.meta.set(
            {PASS_AT: at, PASS_SECONDS: f"{seconds:.3f}", PASS_CHECKED: str(result.checked)}
        )
        return result

    def seconds_since_pass(self) -> float:
        """Since the last matching pass started (since start-up before the first)."""
        return time.monotonic() - (self.last_pass_started or self.started)

    async def deliver(self) -> DeliveryStats:
        stats = await self.deliverer.deliver_due()
        if stats.sent or stats.retried or stats.gone:
            log.info("delivered %d, retry %d, gone %d", stats.sent, stats.retried, stats.gone)
        return stats

    async def run_modes(self) -> ModesStats:
        """Delivery modes: held alerts, due digests, ended pauses (bot.delivery.digests)."""
        stats = await self.modes.run()
        if stats.opened or stats.parts_sent or stats.resumed:
            log.info(
                "digests opened %d, messages sent %d, pauses ended %d",
                stats.opened,
                stats.parts_sent,
                stats.resumed,
            )
        return stats

    async def send_digests(self) -> ModesStats:
        """Open digests (e.g. one a crashed instance held) between the modes job's runs."""
        return await self.modes.send_if_idle()

    async def match_and_deliver(self) -> None:
        """A matching pass, then at once the delivery of what it queued (the scheduled match
        job and a feed poll's wake-up both run this; the deliver job handles retries)."""
        await self.match()
        await self.deliver()

    async def poll_feed(self, url: str, interval: float) -> FeedPoll:
        """Poll one feed (never twice at once; not before a failing feed's backoff is over);
        new articles wake the matching pass."""
        lock = self._feed_locks.setdefault(url, asyncio.Lock())
        if lock.locked():
            return FeedPoll(url, None, "already polling", interval)
        if self.db.feeds.waiting(url):
            return FeedPoll(url, None, "backing off", interval)
        if not self.db.feeds.claim_poll(url, interval):
            return FeedPoll(url, None, "polled by another instance", interval)
        async with lock:
            return await self._poll(url, interval)

    async def _poll(self, url: str, interval: float) -> FeedPoll:
        row = self.db.feeds.get(url)
        state = FeedState(row.etag, row.last_modified) if row else FeedState()
        ingest = self.config.ingest
        if self._client is None:
            self._client = make_client(allow_private_hosts=ingest.allow_private_hosts)
        result = await fetch_feed(
            self._client, url, state, max_bytes=ingest.max_bytes, timeout=ingest.timeout_seconds
        )
        report: IngestReport | None = None
        if result.batch.articles and first_poll_backfills(row):
            # a feed added without a fetch (OPML import): its backlog is stored, not alerted
            new, _ = store_backfill(
                self.db, result.batch, ingest.backfill_hours, stories_config(self.config)
            )
            report = IngestReport(new=new)
        elif result.batch.articles:
            report = store_batch(self.db, result.batch, stories_config(self.config))
        self.metrics.feed_polled(result.error)
        if report and report.new_ids:
            stored = self.db.articles.get_many(report.new_ids)
            self.metrics.ingested("feed", (a.lang for a in stored.values()))
        failures = (row.failures + 1 if row else 1) if result.error else 0
        next_in = feed_backoff(interval, failures)
        self.db.feeds.record_poll(
            url,
            etag=result.state.etag,
            last_modified=result.state.last_modified,
            error=result.error,
            next_in_seconds=next_in,
        )
        if result.error:
            log.warning("feed %s: %s (next try in %.0f s)", redact_url(url), result.error, next_in)
        if report and report.new:
            log.info("feed %s: %s", redact_url(url), report.summary())
            self.wake_matching()
        return FeedPoll(url, report, result.error, next_in)

    async def check_feed_health(self) -> list[Notice]:
        """Tell the admins about feeds failing for more than a day, and their recovery."""
        return await check_feed_health(self.db, self.config, self.deliverer.senders)

    async def cleanup(self) -> tuple[int, int]:
        days = self.config.schedule.retention_days
        return self.db.outbox.delete_sent_older_than(days), self.db.articles.delete_older_than(days)
