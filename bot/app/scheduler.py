"""APScheduler 3.11 (AsyncIOScheduler on the bot's loop) wiring for the Service's jobs.

Jobs have stable ids and live in memory only, so a restart never finds duplicates; each job runs
at most one instance at a time and a missed run is coalesced into one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app.service import Service
from bot.config import Config

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}


def feed_job_id(url: str) -> str:
    return f"feed:{url}"


def feed_interval(config: Config, interval_seconds: int) -> int:
    return interval_seconds or config.schedule.feed_seconds


def build_scheduler(config: Config, service: Service) -> AsyncIOScheduler:
    """A scheduler (not started) with the match, deliver, cleanup and per-feed jobs."""
    scheduler = AsyncIOScheduler(job_defaults=JOB_DEFAULTS, timezone=UTC)
    now = datetime.now(UTC)
    for job_id, job, seconds in (
        ("match", service.match_and_deliver, config.schedule.check_seconds),
        ("deliver", service.deliver, config.schedule.deliver_seconds),
    ):
        scheduler.add_job(
            job, "interval", seconds=seconds, id=job_id, replace_existing=True, next_run_time=now
        )
    scheduler.add_job(
        service.cleanup,
        "interval",
        hours=6,
        id="cleanup",
        replace_existing=True,
        next_run_time=now + timedelta(minutes=5),
    )
    for feed in config.feeds:
        interval = feed_interval(config, feed.interval_seconds)
        scheduler.add_job(
            service.poll_feed,
            "interval",
            seconds=interval,
            id=feed_job_id(feed.url),
            replace_existing=True,
            next_run_time=now,
            args=[feed.url, interval],
        )
    return scheduler
