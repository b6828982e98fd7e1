"""APScheduler 3.11 (AsyncIOScheduler on the bot's loop) wiring for the Service's jobs.

Jobs have stable ids and live in memory only, so a restart never finds duplicates; each job runs
at most one instance at a time and a missed run is coalesced into one.

Feed jobs follow the database (the source of truth for feeds): the ``feeds`` job re-reads the
feed list every ``FEED_SYNC_SECONDS`` and adds a job for each new feed and removes the job of
each removed one, so a feed added or removed from a chat or the CLI is picked up without a
restart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app.service import Service
from bot.config import Config
from bot.delivery.digests import MODES_SECONDS
from store.clock import from_db

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
FEED_JOB_PREFIX = "feed:"
FEED_SYNC_SECONDS = 30  # added / removed feeds are picked up within this
HEALTH_SECONDS = 600  # feed health notices are checked this often

Job = Callable[..., Awaitable[Any]]


def feed_job_id(url: str) -> str:
    return f"{FEED_JOB_PREFIX}{url}"


def feed_interval(config: Config, interval_seconds: int) -> int:
    return interval_seconds or config.schedule.feed_seconds


class FeedJobs:
    """Keeps one polling job per feed row; ``wrap`` is applied to every job function it adds
    (the runtime's store guard)."""

    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        config: Config,
        service: Service,
        wrap: Callable[[Job], Job] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.config = config
        self.service = service
        self.wrap = wrap or (lambda func: func)

    async def sync(self) -> tuple[list[str], list[str]]:
        return self.sync_now()

    def sync_now(self) -> tuple[list[str], list[str]]:
        """Add and remove feed jobs to match the database: (urls added, urls removed)."""
        feeds = {feed_job_id(f.url): f for f in self.service.db.feeds.all()}
        jobs = {job.id for job in self.scheduler.get_jobs() if job.id.startswith(FEED_JOB_PREFIX)}
        removed = sorted(jobs - set(feeds))
        for job_id in removed:
            self.scheduler.remove_job(job_id)
        now = datetime.now(UTC)
        added = []
        for job_id, feed in feeds.items():
            if job_id in jobs:
                continue
            interval = feed_interval(self.config, feed.interval_seconds)
            due = from_db(feed.next_poll_at)
            first = max(now, due) if due is not None and feed.failures == 0 else now
            self.scheduler.add_job(
                self.wrap(self.service.poll_feed),
                "interval",
                seconds=interval,
                id=job_id,
                replace_existing=True,
                next_run_time=first,
                args=[feed.url, interval],
            )
            added.append(feed.url)
        return added, [job_id.removeprefix(FEED_JOB_PREFIX) for job_id in removed]


def build_scheduler(
    config: Config, service: Service, wrap: Callable[[Job], Job] | None = None
) -> AsyncIOScheduler:
    """A scheduler (not started) with the match, deliver, cleanup, feed-sync, feed-health and
    per-feed jobs (one per feed row in the database)."""
    scheduler = AsyncIOScheduler(job_defaults=JOB_DEFAULTS, timezone=UTC)
    wrap = wrap or (lambda func: func)
    now = datetime.now(UTC)
    feed_jobs = FeedJobs(scheduler, config, service, wrap)
    jobs: tuple[tuple[str, Job, float, timedelta], ...] = (  # id, job, every (s), first run in
        ("match", service.match_and_deliver, config.schedule.check_seconds, timedelta()),
        ("deliver", service.deliver, config.schedule.deliver_seconds, timedelta()),
        ("cleanup", service.cleanup, 6 * 3600, timedelta(minutes=5)),
        ("feeds", feed_jobs.sync, FEED_SYNC_SECONDS, timedelta(seconds=FEED_SYNC_SECONDS)),
        ("feed-health", service.check_feed_health, HEALTH_SECONDS, timedelta(minutes=1)),
        ("modes", service.run_modes, MODES_SECONDS, timedelta()),  # digests, quiet hours, pause
        ("digests", service.send_digests, config.schedule.deliver_seconds, timedelta(seconds=1)),
    )
    for job_id, job, every, first in jobs:
        scheduler.add_job(
            wrap(job),
            "interval",
            seconds=every,
            id=job_id,
            replace_existing=True,
            next_run_time=now + first,
        )
    feed_jobs.sync_now()
    return scheduler
