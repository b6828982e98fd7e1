"""The operations endpoint of `kabar run` (``[http] port``; off by default): aiohttp on the
bot's own event loop.

* ``GET /healthz``: 200 ``ok`` when the database answers and the scheduler started a matching
  pass within 3 check intervals; else 503 with the reason on one line.
* ``GET /metrics``: the process's metrics (``bot.app.metrics``) in the Prometheus text format.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.app.metrics import CONTENT_TYPE
from bot.app.service import PASS_AT, Service
from bot.config import HttpConfig
from store import OperationError, StoreError

log = logging.getLogger("kabar.http")

STALE_INTERVALS = 3  # the scheduler is unhealthy after this many check intervals without a pass


def health(service: Service) -> tuple[bool, str]:
    """(healthy, reason): the database answers, the scheduler runs the matching pass."""
    try:
        service.db.check_alive()
        service.db.meta.get(PASS_AT)  # a real read of the file
    except (OperationError, StoreError) as exc:
        return False, f"database: {exc}"
    limit = STALE_INTERVALS * service.config.schedule.check_seconds
    age = service.seconds_since_pass()
    if age > limit:
        return False, (
            f"scheduler: no matching pass for {age:.0f} s (limit {limit} s ="
            f" {STALE_INTERVALS} x schedule.check_seconds)"
        )
    return True, "ok"


class OpsServer:
    """Serves /healthz and /metrics until ``stop()``."""

    def __init__(self, http: HttpConfig, service: Service) -> None:
        self.http = http
        self.service = service
        self._runner: web.AppRunner | None = None

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self) -> None:
        """Listen on ``[http] host:port`` (an address in use raises OSError: one line)."""
        runner = web.AppRunner(self.application(), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.http.host, self.http.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("http: /healthz and /metrics on %s:%d", self.http.host, self.http.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        ok, reason = health(self.service)
        return web.Response(status=200 if ok else 503, text=reason + "\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            counts = self.service.db.outbox.counts()
        except OperationError as exc:  # the rest is still worth scraping
            log.warning("metrics: cannot read the outbox: %s", exc)
            counts = {}
        body = self.service.metrics.render(lambda: counts)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
