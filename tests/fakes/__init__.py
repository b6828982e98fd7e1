"""Small fake platform servers (Telegram Bot API, ...) that the tests run on 127.0.0.1."""

import socket
from collections import deque
from collections.abc import Hashable
from typing import Any, TypeVar

from aiohttp import web

F = TypeVar("F")


def next_failure(failures: dict[Hashable, deque[F]], *keys: Hashable) -> F | None:
    """The next scripted failure for the first key that has one (a target, then "any")."""
    for key in keys:
        queue = failures.get(key)
        if queue:
            return queue.popleft()
    return None


DROP: Any = object()  # a handler's answer meaning: cut the connection, answer nothing


def drop_connection(request: web.Request) -> web.Response:
    """Abort the TCP connection mid-request, as a crashing proxy would."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)


async def serve_on_loopback(
    app: web.Application, shutdown_timeout: float = 1.0
) -> tuple[web.AppRunner, int]:
    """Serve `app` on 127.0.0.1 at a free port: (the runner, to clean up; the port)."""
    runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    return runner, sock.getsockname()[1]
