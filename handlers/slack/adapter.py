"""Slack adapter (slack-bolt): alerts with ``chat.postMessage``, the ``/kabar`` slash command.

The only package that imports ``slack_bolt`` / ``slack_sdk`` (this module). Thin: command
logic lives in ``handlers.commands``, message layout and escaping in ``handlers.slack.format``,
the replay guard in ``handlers.slack.replay``, pacing and retries in ``bot.delivery.worker``.

Decisions:

* Sending: one ``AsyncWebClient`` over one aiohttp session, with slack_sdk's own retry handlers
  switched off (``retry_handlers=[]``; its default would re-post after a dropped connection).
  Every failure goes back to the outbox, which waits and retries: a 429 with its
  ``Retry-After``, 5xx / ``internal_error`` / timeouts / network errors with backoff.
  ``channel_not_found``, ``is_archived``, ``not_in_channel`` and the ``restricted_action*``
  errors mean the channel is gone for us: GONE (the chat is marked inactive; ``/kabar start``
  there makes it active again). Token problems (``invalid_auth``, ``account_inactive``,
  ``token_revoked``, ``missing_scope``...) are not the channel's fault: RETRY for every channel
  after ``AUTH_RETRY_SECONDS``. ``invalid_blocks`` is retried once, at once, as plain text.
* Pacing: 1 message per 1.05 s per channel (Slack allows about 1/s) and a gentle workspace cap
  of 240 a minute (Slack: "several hundred per minute").
* ``/kabar VERB ARGS`` runs ``handlers.commands.execute`` with ``/VERB ARGS`` (``/kabar``
  alone is ``/kabar help``). Most verbs only touch the database briefly, so the reply is the
  acknowledgement itself (``ack(text=...)``, one HTTP response). ``latest`` and ``search`` may
  scan many articles: they are acknowledged at once, run in a worker thread on a read-only
  connection of their own, and answered through ``respond()`` (the ``response_url``).
* Slack sends the typed ``&``, ``<``, ``>`` as entities; they are turned back before the
  command runs (a search for ``AT&T``, a keyword ``"R&D"``).
* A reply is mrkdwn text escaped with the alerts' rule (``handlers.slack.format``): ``&``, ``<``,
  ``>`` as entities, ``* _ ~ ` `` as look-alikes, a bare ``@channel``/``@here`` broken by a word
  joiner, so an article title can neither format nor ping; a URL in it becomes an explicit ``<url>``
  link (its ``_`` and ``~`` intact). It is ``in_channel`` when it changed something (the Reply
  is ``ok`` and ``changed``: start, stop, subscribe, unsubscribe, addkeyword, removekeyword),
  so the channel sees who turned alerts on or off; everything else (help, lists, searches,
  errors, refusals) is ``ephemeral``, seen only by the person who typed it.
* Request signatures are always verified by bolt (``X-Slack-Signature`` HMAC and a 5-minute
  ``X-Slack-Request-Timestamp`` window). bolt does not detect a replay inside that window, so
  the endpoint takes each signature once for the window (``ReplayGuard.admit``: checked and
  remembered in one step, before the request is dispatched, so concurrent copies of a request
  run exactly once; forgotten again when bolt refuses the request). A request with the
  signature or the timestamp header twice, or a timestamp that is not a number, is refused
  (401) before bolt sees it: bolt would read the last copy, the guard the first.
* The token is checked at start (``auth.test``): a rejected token or an unreachable API is a
  ``ConfigError`` (one line from ``kabar run``). bolt authorizes every request with that
  answer (no second ``auth.test``), and a command from another workspace than the token's
  (``team_id``) is refused (403) before anything runs. A command that fails while it runs is
  answered with ``error.internal`` in the chat's language, never bolt's English apology.
* HTTP mode serves ``POST /slack/events`` on ``[slack] port`` on the running event loop;
  Socket Mode (``[slack] app_token``, ``xapp-...``) connects out instead and needs no public
  URL. Without ``listen`` (``kabar check``) only the sender exists.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.alert import Alert
from bot.alerts.digest import Digest
from bot.app.feeds import FeedOptions
from bot.config import Config, ConfigError, SlackConfig
from bot.delivery.pacing import Limit
from bot.delivery.worker import FAILED, GONE, REFUSED, RETRY, SENT, SendResult
from handlers import actions
from handlers.actions import Button
from handlers.commands import CommandContext, Reply, Settings, complete, error_reply, execute
from handlers.offloop import run_off_loop, runs_off_loop
from handlers.slack.format import (
    ACTION_ID_PREFIX,
    button_values,
    digest_messages,
    escape_text,
    to_slack,
    unescape_text,
    with_buttons,
)
from handlers.slack.replay import SIGNATURE_HEADER, ReplayGuard, header_refusal
from store import Store
from store.models import DigestPart

log = logging.getLogger("kabar.slack")

PLATFORM = "slack"
COMMAND = "/kabar"
COMMAND_PREFIX = "/kabar "  # how commands are written in help and usage replies
EVENTS_PATH = "/slack/events"
IN_CHANNEL, EPHEMERAL = "in_channel", "ephemeral"

CHANNEL_LIMIT = Limit(1, 1.05)
WORKSPACE_LIMIT = Limit(240, 60.0)
SEND_TIMEOUT_SECONDS = 15.0
AUTH_RETRY_SECONDS = 600.0
MAX_RETRY_AFTER_SECONDS = 3600.0

CHANNEL_GONE_ERRORS = frozenset({
    "channel_not_found", "is_archived", "not_in_channel", "restricted_action",
    "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel",
})  # fmt: skip
AUTH_ERRORS = frozenset({
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
    "missing_scope", "not_allowed_token_type", "no_permission", "org_login_required",
    "ekm_access_denied",
})  # fmt: skip
INVALID_BLOCKS_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format"})
MESSAGE_REFUSED_ERRORS = frozenset(
    {
        "msg_too_long",
        "no_text",
        "invalid_arguments",
        "too_many_attachments",
        "invalid_blocks",
        "invalid_blocks_format",
    }
)  # fmt: skip  this message can never go (after the plain-text retry): FAILED, chat active

# chat.update answers that mean this message will never be updated: reply in its thread instead
UPDATE_REFUSED_ERRORS = frozenset({
    "message_not_found", "cant_update_message", "edit_window_closed", "msg_too_long",
})  # fmt: skip

Ack = Callable[..., Awaitable[Any]]


# ---------------------------------------------------------------- sending alerts


class SlackSender:
    """Posts alerts with ``chat.postMessage``; maps Slack's answers to SENT / RETRY / GONE."""

    platform = PLATFORM
    global_limits: tuple[Limit, ...] = (WORKSPACE_LIMIT,)

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        timeout: float = SEND_TIMEOUT_SECONDS,
        db: Store | None = None,
    ) -> None:
        self.db = db  # for the alerts' buttons (none without a store)
        self.token = token
        self.base_url = base_url
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None

    def target_limits(self, address: str) -> tuple[Limit, ...]:
        return (CHANNEL_LIMIT,)

    def blocks(self, address: str, alert: Alert) -> tuple[str, list[dict[str, Any]]]:
        """The alert's fallback text and blocks, its buttons (``handlers.actions``) last."""
        fallback, blocks = to_slack(alert)
        if self.db is not None:
            buttons = actions.alert_keyboard(self.db, PLATFORM, address, alert.keywords)
            blocks = with_buttons(blocks, buttons)
        return fallback, blocks

    async def send(self, address: str, alert: Alert) -> SendResult:
        fallback, blocks = self.blocks(address, alert)
        result, code = await self._post(address, fallback, blocks)
        if code in INVALID_BLOCKS_ERRORS:
            log.warning("Slack rejected the blocks for %s (%s): sending plain text", address, code)
            result, _ = await self._post(address, fallback, None)
        return result

    def digest_parts(self, digest: Digest) -> list[DigestPart]:
        return digest_messages(digest)

    async def send_digest(self, address: str, payload: str) -> SendResult:
        """One digest message (Block Kit; its blocks' text as plain text if Slack rejects the
        blocks: header + section fit Slack's text limit whole, so no item is cut off)."""
        message = json.loads(payload)
        result, code = await self._post(address, message["text"], message["blocks"])
        if code in INVALID_BLOCKS_ERRORS:
            text = "\n".join(b["text"]["text"] for b in message["blocks"] if "text" in b)
            result, _ = await self._post(address, text, None)
        return result

    async def notify(self, address: str, text: str) -> SendResult:
        """A plain notice from Kabar itself (feed health), escaped like a command reply."""
        result, _ = await self._post(address, escape_text(text), None)
        return result

    async def edit(self, address: str, message_id: str, alert: Alert) -> SendResult:
        """``chat.update`` of the story's alert (``message_id`` is its ts); REFUSED when
        Slack will not update it (deleted, too old, not the bot's)."""
        if not message_id:
            return SendResult(REFUSED, error="no message ts to update")
        fallback, blocks = self.blocks(address, alert)  # the buttons stay
        result, code = await self._update(address, message_id, fallback, blocks)
        if code in INVALID_BLOCKS_ERRORS:
            result, code = await self._update(address, message_id, fallback, None)
        if code in UPDATE_REFUSED_ERRORS:
            return SendResult(REFUSED, error=code)
        return result

    async def reply(self, address: str, message_id: str, alert: Alert) -> SendResult:
        """A short reply in the thread of the story's alert (its update was refused)."""
        fallback, blocks = self.blocks(address, alert)
        thread = message_id or None
        result, code = await self._post(address, fallback, blocks, thread)
        if code in INVALID_BLOCKS_ERRORS:
            result, _ = await self._post(address, fallback, None, thread)
        return result

    async def _update(
        self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None
    ) -> tuple[SendResult, str]:
        try:
            await self.client().chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            return api_error_result(exc), _error_code(exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return SendResult(RETRY, error=f"network: {type(exc).__name__} {exc}".strip()), ""
        return SendResult(SENT, message_id=ts), ""

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = self._client = None

    def client(self) -> AsyncWebClient:
        """The Web API client (created on first use, inside the running event loop)."""
        if self._client is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._client = AsyncWebClient(
                token=self.token,
                base_url=self.base_url,
                timeout=max(1, round(self.timeout)),  # the session's timeout applies
                session=self._session,
                retry_handlers=[],  # the outbox retries, paced; never slack_sdk on its own
            )
        return self._client

    async def _post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None = None,
    ) -> tuple[SendResult, str]:
        """One ``chat.postMessage``: (the result, Slack's error code or "")."""
        try:
            response = await self.client().chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False,
                unfurl_media=False, thread_ts=thread_ts,
            )  # fmt: skip
        except SlackApiError as exc:
            return api_error_result(exc), _error_code(exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return SendResult(RETRY, error=f"network: {type(exc).__name__} {exc}".strip()), ""
        ts = response.get("ts")
        return SendResult(SENT, message_id=str(ts) if ts else None), ""


def api_error_result(exc: SlackApiError) -> SendResult:
    """What a failed Web API call means for delivery."""
    status = _status(exc)
    code = _error_code(exc)
    if status == 429 or code == "ratelimited":
        headers = getattr(exc.response, "headers", None) or {}
        return SendResult(
            RETRY,
            retry_after=retry_after_seconds(headers),
            error=f"429 {code or 'ratelimited'}",
            rate_limited=True,
        )
    if code in CHANNEL_GONE_ERRORS:
        return SendResult(GONE, error=code)
    if code in MESSAGE_REFUSED_ERRORS:
        return SendResult(FAILED, error=code)
    if code in AUTH_ERRORS:  # the token, not the channel: every channel waits
        return SendResult(
            RETRY,
            retry_after=AUTH_RETRY_SECONDS,
            whole_platform=True,
            error=f"{code}: check [slack] bot_token and the app's scopes",
        )
    return SendResult(RETRY, error=f"{status or '?'} {code or 'error'}")


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` header in seconds (None when missing or unreadable)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None or seconds != seconds:  # missing or NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _status(exc: SlackApiError) -> int | None:
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return status if isinstance(status, int) else None


def _error_code(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    return code if isinstance(code, str) else ""


# ---------------------------------------------------------------- the /kabar command


def reply_message(reply: Reply) -> dict[str, str]:
    """The ``ack`` / ``respond`` arguments for a command reply."""
    response_type = IN_CHANNEL if reply.ok and reply.changed else EPHEMERAL
    return {"text": escape_text(reply.text), "response_type": response_type}


def command_text(command: Mapping[str, Any]) -> str:
    """``/kabar subscribe Kim`` -> ``/subscribe Kim``; a bare ``/kabar`` is ``/help``."""
    text = unescape_text(str(command.get("text") or "")).strip()
    return f"/{text}" if text else "/help"


def command_context(command: Mapping[str, Any]) -> CommandContext:
    return CommandContext(
        platform=PLATFORM,
        chat_address=str(command.get("channel_id") or ""),
        user_id=str(command.get("user_id") or ""),
        chat_title=str(command.get("channel_name") or ""),
    )


def command_settings(config: Config) -> Settings:
    slack = config.slack or SlackConfig()
    return Settings(
        default_language=config.default_language,
        admins=frozenset(slack.admins),
        prefix=COMMAND_PREFIX,
        feeds=FeedOptions.from_config(config),
        timezone=config.timezone,
    )


async def answer_command(
    db: Store, settings: Settings, command: Mapping[str, Any], ack: Ack, respond: Ack
) -> None:
    """Handle one ``/kabar`` command; acknowledged well within Slack's 3 seconds. A failure
    while it runs is answered in the chat's language (``error.internal``) and logged."""
    ctx = command_context(command)
    text = command_text(command)
    acked = False
    try:
        if not runs_off_loop(text):  # acknowledged first, answered via response_url otherwise
            reply = execute(db, ctx, text, settings, prefix=COMMAND_PREFIX)
            if reply.fetch is not None:  # addfeed: acknowledged now, answered after the fetch
                acked = True
                await ack()
                reply = await complete(db, ctx, replace(settings, prefix=COMMAND_PREFIX), reply)
                await respond(**reply_message(reply))
                return
            acked = True
            await ack(**reply_message(reply))
            return
        acked = True
        await ack()
        reply = await run_read_only(db, ctx, text, settings)
        await respond(**reply_message(reply))
    except Exception:
        log.exception("Slack: %r failed", text[:60])
        failure = reply_message(error_reply(db, ctx, settings))
        await (respond(**failure) if acked else ack(**failure))


async def run_read_only(db: Store, ctx: CommandContext, text: str, settings: Settings) -> Reply:
    """A read-only command in a worker thread on its own connection (the event loop keeps
    serving); on the loop for an in-memory database."""
    return await run_off_loop(db, ctx, text, settings)


def build_app(config: Config, db: Store, auth: Mapping[str, Any]) -> AsyncApp:
    """The bolt app: request signatures verified, requests authorized with the start-up
    ``auth.test`` answer ``auth`` (commands from another workspace refused), one command."""
    slack = config.slack or SlackConfig()
    settings = command_settings(config)
    installed = AuthorizeResult(
        enterprise_id=auth.get("enterprise_id"), team_id=auth.get("team_id"),
        team=auth.get("team"), url=auth.get("url"), bot_id=auth.get("bot_id"),
        bot_user_id=auth.get("user_id"), bot_token=slack.bot_token,
    )  # fmt: skip

    async def authorize() -> AuthorizeResult:
        return installed

    async def same_team(
        body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        team = request_team(body)
        if team and team != installed.team_id:
            log.warning(
                "Slack: refused a request from workspace %s (installed: %s)",
                team,
                installed.team_id,
            )
            return BoltResponse(status=403, body="")
        await next()
        return None

    app = AsyncApp(
        client=AsyncWebClient(base_url=slack.base_url),  # the token comes from `authorize`
        signing_secret=slack.signing_secret,
        request_verification_enabled=True,
        authorize=authorize,
        before_authorize=same_team,
        user_facing_authorize_error_message=error_reply(db, None, settings).text,
    )

    async def kabar(ack: Ack, command: dict[str, Any], respond: Ack) -> None:
        await answer_command(db, settings, command, ack, respond)

    app.command(COMMAND)(kabar)

    async def button(ack: Ack, body: dict[str, Any], respond: Ack, client: AsyncWebClient) -> None:
        await ack()  # within Slack's 3 s; the answer follows
        await answer_button(db, settings, body, respond, client)

    app.action(re.compile(f"^{ACTION_ID_PREFIX}"))(button)
    return app


async def answer_button(
    db: Store,
    settings: Settings,
    body: Mapping[str, Any],
    respond: Ack,
    client: AsyncWebClient,
) -> None:
    """An alert's button (``block_actions``): act through ``handlers.actions``, answer the
    presser (ephemeral, in the channel's language) and update the alert's buttons
    (``chat.update``). Anyone who may use ``/kabar`` in the channel may press."""
    channel = str((body.get("channel") or {}).get("id") or "")
    user = str((body.get("user") or {}).get("id") or "")
    message = body.get("message") or {}
    pressed = (body.get("actions") or [{}])[0]
    ctx = CommandContext(platform=PLATFORM, chat_address=channel, user_id=user)
    current = tuple(
        Button(label, data) for label, data in button_values(message.get("blocks") or [])
    )
    try:
        result = actions.press(db, ctx, str(pressed.get("value") or ""), settings, current)
    except Exception:
        log.exception("Slack: a button press in %s failed", channel)
        result = actions.failure(db, ctx, settings)
    try:
        await respond(
            text=escape_text(result.answer), response_type=EPHEMERAL, replace_original=False
        )
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("Slack: answering a button press failed: %s", exc)
    ts = str(message.get("ts") or (body.get("container") or {}).get("message_ts") or "")
    if result.keyboard is None or not ts:
        return
    try:
        await client.chat_update(
            channel=channel,
            ts=ts,
            text=str(message.get("text") or ""),
            blocks=with_buttons(message.get("blocks") or [], result.keyboard),
        )
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("Slack: updating an alert's buttons failed: %s", exc)


def request_team(body: Mapping[str, Any]) -> str:
    """The workspace a request comes from: ``team_id`` (slash commands), ``team.id`` (other
    payloads); "" when it names none."""
    team = body.get("team_id")
    if not team and isinstance(body.get("team"), Mapping):
        team = body["team"].get("id")
    return str(team or "")


async def check_token(client: AsyncWebClient, base_url: str) -> dict[str, Any]:
    """``auth.test`` with the bot token: its answer, or a ConfigError in one line."""
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        code = _error_code(exc) or f"HTTP {_status(exc) or '?'}"
        raise ConfigError(f"'slack.bot_token' was rejected by Slack ({code}; {base_url})") from None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise ConfigError(
            f"the Slack API at 'slack.base_url' ({base_url}) is unreachable:"
            f" {type(exc).__name__} {exc}".rstrip()
        ) from None
    return dict(response.data) if isinstance(response.data, dict) else {}


def socket_mode_handler(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    return AsyncSocketModeHandler(app, app_token)


# ---------------------------------------------------------------- the platform


class SlackPlatform:
    """The Slack adapter for ``kabar run`` / ``kabar check``."""

    name = PLATFORM

    def __init__(
        self, config: Config, db: Store, *, host: str = "0.0.0.0", port: int | None = None
    ) -> None:
        if config.slack is None:
            raise ValueError("SlackPlatform needs a [slack] config table")
        self.config = config
        self.db = db
        self.host = host
        self.port = config.slack.port if port is None else port  # the bound port once started
        self.sender = SlackSender(config.slack.bot_token, config.slack.base_url, db=db)
        self.app: AsyncApp | None = None
        self.team_id = ""  # the workspace of the token, from auth.test at start
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None

    async def start(self, service: object | None, *, listen: bool) -> None:
        """With ``listen``: check the token (``auth.test``; a ConfigError when Slack refuses
        it or cannot be reached), then serve commands. On any failure whatever was started is
        stopped again."""
        if not listen:
            return
        try:
            await self._listen()
        except BaseException:
            await self.stop()
            raise

    async def _listen(self) -> None:
        assert self.config.slack is not None
        auth = await check_token(self.sender.client(), self.config.slack.base_url)
        self.team_id = str(auth.get("team_id") or "")
        self.app = build_app(self.config, self.db, auth)
        if self.config.slack.app_token:
            self._socket = socket_mode_handler(self.app, self.config.slack.app_token)
            await self._socket.connect_async()
            log.info("Slack: Socket Mode connected (workspace %s)", self.team_id)
            return
        await self._serve_http(self.app)
        log.info(
            "Slack: listening on http://%s:%d%s (workspace %s)",
            self.host,
            self.port,
            EVENTS_PATH,
            self.team_id,
        )

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.sender.close()

    async def _serve_http(self, app: AsyncApp) -> None:
        guard = ReplayGuard()

        async def events(request: web.Request) -> web.Response:
            refusal = header_refusal(request.headers)
            if refusal:
                log.warning("Slack: refused a request: %s", refusal)
                return web.Response(status=401, text="invalid request")
            signature = request.headers[SIGNATURE_HEADER]
            if not guard.admit(signature):
                log.warning("Slack: refused a replayed request")
                return web.Response(status=401, text="replayed request")
            try:
                response = await app.async_dispatch(await to_bolt_request(request))
            except BaseException:
                guard.forget(signature)
                raise
            if response.status != 200:  # refused (bad signature, other workspace): not taken
                guard.forget(signature)
            return await to_aiohttp_response(response)

        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, events)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise OSError(
                exc.errno,
                f"[slack] port: cannot listen on {self.host}:{self.port} ({exc.strerror or exc})",
            ) from exc
        self.port = self._runner.addresses[0][1]


# ---------------------------------------------------------------- `kabar status`


async def probe(slack: SlackConfig, timeout: float) -> tuple[bool, str]:
    """``auth.test`` with a short timeout: (reachable and the token accepted, one line)."""
    sender = SlackSender(slack.bot_token, slack.base_url, timeout=timeout)
    try:
        answer = await sender.client().auth_test()
    except SlackApiError as exc:
        return False, f"auth.test refused: {_error_code(exc) or _status(exc)}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return False, f"unreachable ({slack.base_url}): {type(exc).__name__} {exc}".strip()
    finally:
        await sender.close()
    return True, f"ok (team {answer.get('team') or '?'}, bot {answer.get('user') or '?'})"
