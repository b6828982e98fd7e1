"""A small fake Slack Web API server (aiohttp.web) for the tests, on 127.0.0.1.

Routes: ``POST /api/auth.test``, ``POST /api/chat.postMessage`` (records channel, text, blocks,
unfurl flags, thread_ts; answers ``ok`` with a ``ts``), ``POST /api/chat.update`` (replaces a
posted message's text and blocks; ``message_not_found``, scripted ``cant_update_message``)
and ``POST /response/{id}``, a slash command's ``response_url`` (records the JSON posted to
it). Parameters are read from a JSON, urlencoded or multipart body and the query string.

Tests inject failures for chat.postMessage, per channel or for any channel, consumed one per
call (``rate_limited``, ``api_error``, ``server_error``, ``slow``), or make a channel fail for
good (``gone``). A limit enforcer may be turned on: a channel that gets a message less than a
second after the previous one is answered 429 and the violation counted.

Block Kit limits are always checked, as Slack does (``invalid_blocks``, counted in
``refused_blocks``): at most 50 blocks, a header's plain text at most 150 characters, a section's
text at most 3000; a ``text`` over 40000 characters is ``msg_too_long``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes import DROP, drop_connection, next_failure, serve_on_loopback

ANY = "*"
MAX_BLOCKS = 50
HEADER_TEXT_LIMIT = 150
SECTION_TEXT_LIMIT = 3000
TEXT_LIMIT = 40_000


@dataclass(frozen=True)
class Failure:
    """One scripted answer to a chat.postMessage call: an error, or a slow success."""

    status: int = 200
    error: str = ""  # Slack's error code in {"ok": false, "error": ...}
    retry_after: int | None = None  # a Retry-After header
    delay: float = 0.0
    plain_body: str = ""  # answered as text/plain instead of JSON (a proxy's 5xx page)


def rate_limited(retry_after: int = 1) -> Failure:
    return Failure(429, "ratelimited", retry_after=retry_after)


def api_error(error: str) -> Failure:
    """``{"ok": false, "error": error}`` with HTTP 200, as Slack answers most errors."""
    return Failure(200, error)


def server_error() -> Failure:
    return Failure(500, plain_body="Internal Server Error")


def slow(seconds: float) -> Failure:
    """Answer normally, but only after `seconds`."""
    return Failure(200, delay=seconds)


def message_not_found() -> Failure:
    return Failure(200, "message_not_found")


def cant_update_message() -> Failure:
    return Failure(200, "cant_update_message")


def dropped() -> Failure:
    """Close the connection mid-request without answering (the message is not posted)."""
    return Failure(0)


class FakeSlack:
    """One fake workspace with a bot user."""

    def __init__(self, token: str = "xoxb-test") -> None:
        self.token = token
        self.port = 0
        self.messages: list[dict[str, Any]] = []  # accepted chat.postMessage calls
        self.attempts: list[dict[str, Any]] = []  # every chat.postMessage call
        self.updates: list[dict[str, Any]] = []  # accepted chat.update calls
        self._update_failures: dict[str, deque[Failure]] = {}
        self.responses: list[dict[str, Any]] = []  # JSON posted to a response_url
        self.auth_tests = 0
        self.unauthorized = 0  # calls with a wrong or missing token
        self.enforcing = False
        self.violations = 0
        self.refused_blocks = 0  # messages answered invalid_blocks / msg_too_long
        self._failures: dict[str, deque[Failure]] = {}
        self._gone: dict[str, str] = {}
        self._last_post: dict[str, float] = {}
        self._ts = itertools.count(1)
        self._response_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self) -> str:
        """A fresh response_url for one slash command."""
        return f"http://127.0.0.1:{self.port}/response/{next(self._response_ids)}"

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_post("/response/{id}", self._handle_response)
        self._runner, self.port = await serve_on_loopback(app, shutdown_timeout=0.5)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- scripting

    def fail(self, *failures: Failure, channel: str = ANY) -> None:
        """Answer the next calls (to `channel`, or to any) with these, in order."""
        self._failures.setdefault(channel, deque()).extend(failures)

    def fail_updates(self, *failures: Failure, channel: str = ANY) -> None:
        """Answer the next chat.update calls (to `channel`, or to any) with these."""
        self._update_failures.setdefault(channel, deque()).extend(failures)

    def delete(self, channel: str, ts: str) -> None:
        """A user deleted the message: it can no longer be updated."""
        self.messages = [m for m in self.messages if (m["channel"], m["ts"]) != (channel, ts)]

    def gone(self, channel: str, error: str = "channel_not_found") -> None:
        """Every later post to `channel` fails with `error`."""
        self._gone[channel] = error

    def enforce_limits(self, on: bool = True) -> None:
        """429 (and a counted violation) for a second message to a channel within 1 s."""
        self.enforcing = on

    # --- inspection

    def messages_to(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["channel"] == channel]

    def attempts_to(self, channel: str) -> int:
        return sum(1 for a in self.attempts if a["channel"] == channel)

    async def wait_for(self, predicate: Callable[[], object], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the fake Slack never saw what the test waited for")
            await asyncio.sleep(0.01)

    # --- routes

    async def _handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.unauthorized += 1
            return _json({"ok": False, "error": "invalid_auth"})
        params = await _params(request)
        method = request.match_info["method"]
        if method == "auth.test":
            self.auth_tests += 1
            return _json(
                {
                    "ok": True,
                    "url": "https://kabar-test.slack.com/",
                    "team": "Kabar",
                    "user": "kabar",
                    "team_id": "T0TEST",
                    "user_id": "UBOT",
                    "bot_id": "BBOT",
                    "is_enterprise_install": False,
                }
            )
        if method == "chat.postMessage":
            response = await self._post_message(params)
            return drop_connection(request) if response is DROP else response
        if method == "chat.update":
            return await self._update(params)
        return _json({"ok": False, "error": "unknown_method"}, status=404)

    async def _update(self, params: dict[str, Any]) -> web.Response:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        failure = next_failure(self._update_failures, channel, ANY)
        if failure is not None and (failure.status != 200 or failure.error):
            return _failure(failure)
        if channel in self._gone:
            return _json({"ok": False, "error": self._gone[channel]})
        message = next(
            (m for m in self.messages if m["channel"] == channel and m["ts"] == ts), None
        )
        if message is None:
            return _json({"ok": False, "error": "message_not_found"})
        if self._over_limit(channel):
            return _failure(rate_limited(1))
        message["text"] = params.get("text", "")
        message["blocks"] = _blocks(params.get("blocks"))
        self.updates.append({"channel": channel, "ts": ts, "text": message["text"]})
        return _json({"ok": True, "channel": channel, "ts": ts, "text": message["text"]})

    async def _post_message(self, params: dict[str, Any]) -> web.Response:
        channel = str(params.get("channel", ""))
        self.attempts.append(params)
        failure = self._next_failure(channel)
        if failure is not None and failure.delay:
            await asyncio.sleep(failure.delay)
        if failure is not None and failure.status == 0:
            return DROP
        if failure is not None and (failure.status != 200 or failure.error):
            return _failure(failure)
        if channel in self._gone:
            return _json({"ok": False, "error": self._gone[channel]})
        if self._over_limit(channel):
            return _failure(rate_limited(1))
        if not channel or not (params.get("text") or params.get("blocks")):
            return _json({"ok": False, "error": "channel_not_found" if not channel else "no_text"})
        refused = _over_slack_limits(str(params.get("text") or ""), _blocks(params.get("blocks")))
        if refused:
            self.refused_blocks += 1
            return _json({"ok": False, "error": refused})
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {
            "channel": channel,
            "text": params.get("text", ""),
            "blocks": _blocks(params.get("blocks")),
            "unfurl_links": params.get("unfurl_links"),
            "unfurl_media": params.get("unfurl_media"),
            "thread_ts": params.get("thread_ts"),
            "ts": ts,
        }
        self.messages.append(message)
        return _json(
            {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message": {"text": message["text"], "ts": ts},
            }
        )

    async def _handle_response(self, request: web.Request) -> web.Response:
        payload = await request.json()
        payload["response_id"] = request.match_info["id"]
        self.responses.append(payload)
        return web.Response(text="ok", content_type="text/plain")

    def _next_failure(self, channel: str) -> Failure | None:
        return next_failure(self._failures, channel, ANY)

    def _over_limit(self, channel: str) -> bool:
        now = time.monotonic()
        last = self._last_post.get(channel)
        if self.enforcing and last is not None and now - last < 1.0:
            self.violations += 1
            return True
        self._last_post[channel] = now
        return False


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        params.update(await request.post())
    return params


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):  # form-encoded clients send blocks as a JSON string
        value = json.loads(value)
    return list(value or [])


def _over_slack_limits(text: str, blocks: list[dict[str, Any]]) -> str:
    """Slack's error for a message over its limits, else ""."""
    if len(text) > TEXT_LIMIT:
        return "msg_too_long"
    if len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        body = (block.get("text") or {}).get("text", "")
        if block.get("type") == "header" and not 0 < len(body) <= HEADER_TEXT_LIMIT:
            return "invalid_blocks"
        if block.get("type") == "section" and len(body) > SECTION_TEXT_LIMIT:
            return "invalid_blocks"
    return ""


def _json(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


def _failure(failure: Failure) -> web.Response:
    headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
    if failure.plain_body:
        return web.Response(
            status=failure.status,
            text=failure.plain_body,
            content_type="text/plain",
            headers=headers,
        )
    return _json({"ok": False, "error": failure.error or "internal_error"}, failure.status, headers)
