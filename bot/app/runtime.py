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
from bot.app.http import OpsServer
from bot.app.logs import LEVELS, configure_logging
from bot.app.scheduler import build_scheduler
from bot.app.service import Service
from bot.config import Config, store_path
from bot.delivery.worker import Sender
from store import DatabaseError, Store, StoreError, damaged, is_corrupt

log = logging.getLogger("kabar")

__all__ = ["Platform", "check_once", "configure_logging", "run_forever"]


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


def run_forever(config: Config, db: Store, platforms: list[Platform]) -> int:
    """`kabar run`: the scheduler plus ``platforms`` (every configured one), until SIGINT /
    SIGTERM."""
    configure_logging(LEVELS[config.log_level], config.log_format, config.secrets)
    return asyncio.run(_run(config, db, platforms))


async def _run(config: Config, db: Store, platforms: list[Platform]) -> int:
    db.feeds.seed([(f.url, f.name, f.interval_seconds) for f in config.feeds])
    if not platforms:
        log.warning(
            "no platform configured ([telegram] token or [slack] bot_token): alerts are"
            " queued and will be sent once one is"
        )
    service = Service(config, db, {p.name: p.sender for p in platforms})
    stop = asyncio.Event()
    broken: list[StoreError] = []
    scheduler = build_scheduler(config, service, wrap=lambda func: _guarded(func, db, stop, broken))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started: list[Platform] = []
    ops = OpsServer(config.http, service) if config.http.port else None
    try:
        if ops is not None:
            await ops.start()
        for platform in platforms:
            await platform.start(service, listen=True)
            started.append(platform)
        scheduler.start()
        log.info(
            "kabar running: %s; %d feeds; database %s",
            ", ".join(p.name for p in platforms) or "no platform",
            len(db.feeds.all()),
            db.path or store_path(config),
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
        if ops is not None:
            await ops.stop()
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
