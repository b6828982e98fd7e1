"""Start-up and shutdown: `kabar run` (long-running) and `kabar check` (one pass)."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.alerts.i18n import counted
from bot.app.scheduler import build_scheduler, feed_interval
from bot.app.service import Service
from bot.config import Config, store_path
from bot.delivery.worker import Sender
from store import DatabaseError, Store, StoreError, damaged, is_corrupt

log = logging.getLogger("kabar")


class Platform(Protocol):
    """A chat platform adapter: a Sender for alerts and, when listening, command handling.
    The entry points build them (``bot.platforms``); the app never imports an adapter."""

    @property
    def name(self) -> str: ...

    @property
    def sender(self) -> Sender: ...

    async def start(self, service: Service | None, *, listen: bool) -> None: ...

    async def stop(self) -> None: ...


def check_once(config: Config, db: Store, platforms: list[Platform]) -> int:
    """`kabar check`: one matching pass, then deliver what is due through ``platforms``, then
    exit."""
    return asyncio.run(_check_once(config, db, platforms))


async def _check_once(config: Config, db: Store, platforms: list[Platform]) -> int:
    for platform in platforms:
        await platform.start(None, listen=False)
    try:
        service = Service(config, db, {p.name: p.sender for p in platforms})
        result = await service.match()
        stats = await service.deliver()
    finally:
        for platform in platforms:
            await platform.stop()
    waiting = db.outbox.counts().get("pending", 0)
    checked, queued = (result.checked, result.queued) if result else (0, 0)
    print(
        f"checked {counted(checked, 'article')}, queued {counted(queued, 'alert')};"
        f" sent {stats.sent}, retry later {stats.retried}, chats gone {stats.gone};"
        f" {waiting} waiting"
    )
    return 0


QUIET_LOGGERS = ("apscheduler",)  # "Running job ..." / "... executed successfully" per tick


def run_forever(config: Config, db: Store, platforms: list[Platform]) -> int:
    """`kabar run`: the scheduler plus ``platforms`` (every configured one), until SIGINT /
    SIGTERM."""
    configure_logging()
    return asyncio.run(_run(config, db, platforms))


class _SkippedRunFilter(logging.Filter):
    """A job still running at its next tick is skipped by design (max_instances=1; the service
    runs a pass again itself when asked while one runs): APScheduler's warning for it is
    chatter, shown at debug only."""

    def filter(self, record: logging.LogRecord) -> bool:
        skipped = "maximum number of running instances reached" in record.getMessage()
        return not skipped or logging.getLogger().isEnabledFor(logging.DEBUG)


_SKIPPED_RUN_FILTER = _SkippedRunFilter()


def configure_logging(level: int = logging.INFO) -> None:
    """Log lines to stderr at ``level``; APScheduler's per-job chatter only at debug."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    quiet = max(level, logging.WARNING) if level > logging.DEBUG else logging.NOTSET
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    logging.getLogger("apscheduler.scheduler").addFilter(_SKIPPED_RUN_FILTER)


async def _run(config: Config, db: Store, platforms: list[Platform]) -> int:
    db.feeds.sync(
        [(f.url, f.name, feed_interval(config, f.interval_seconds)) for f in config.feeds]
    )
    if not platforms:
        log.warning(
            "no platform configured ([telegram] token or [slack] bot_token): alerts are"
            " queued and will be sent once one is"
        )
    service = Service(config, db, {p.name: p.sender for p in platforms})
    scheduler = build_scheduler(config, service)
    stop = asyncio.Event()
    broken = guard_store(scheduler, db, stop)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started: list[Platform] = []
    try:
        for platform in platforms:
            await platform.start(service, listen=True)
            started.append(platform)
        scheduler.start()
        log.info(
            "kabar running: %s; %d feeds; database %s",
            ", ".join(p.name for p in platforms) or "no platform",
            len(config.feeds),
            store_path(config),
        )
        await stop.wait()
    finally:
        log.info("stopping")
        if scheduler.running:
            scheduler.pause()  # no new job run; the ones running finish below
        await service.stop()  # in-flight sends finish and are recorded, the rest released
        if scheduler.running:
            scheduler.shutdown(wait=False)
        for platform in reversed(started):
            await platform.stop()
        await service.close()
        db.close()
    if broken:
        raise broken[0]  # `kabar: error: ...`, exit 2
    return 0


def guard_store(scheduler: AsyncIOScheduler, db: Store, stop: asyncio.Event) -> list[StoreError]:
    """Before every job, check the database file is still the one opened; when it was deleted
    or replaced, or a job finds it damaged, stop the bot. Returns the list that then holds
    the error."""
    broken: list[StoreError] = []
    for job in scheduler.get_jobs():
        job.modify(func=_guarded(job.func, db, stop, broken))
    return broken


def _guarded(
    func: Callable[..., Awaitable[Any]], db: Store, stop: asyncio.Event, broken: list[StoreError]
) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(func)
    async def job(*args: Any) -> Any:
        if broken:
            return None
        try:
            db.check_alive()
            return await func(*args)
        except StoreError as exc:
            broken.append(exc)
        except DatabaseError as exc:
            if not is_corrupt(exc):
                raise
            broken.append(damaged(db.path or "database", exc))
        stop.set()
        return None

    return job
