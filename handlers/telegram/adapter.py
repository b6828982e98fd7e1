"""Telegram adapter (python-telegram-bot 22): the alert sender and the chat command handlers.

The only package that imports ``telegram`` (this module; ``format`` is pure). It runs PTB's
``Application`` inside the bot's own asyncio loop (initialize / start / updater, never
``run_polling``), without PTB's rate limiter: the delivery loop paces sends itself with the
limits of ``TelegramSender``.

Send failures map to delivery outcomes:

* 429 ``RetryAfter`` -> RETRY after the server's ``retry_after``; timeouts, network errors and
  5xx -> RETRY with backoff; a bad token or base URL -> RETRY for the whole platform in 60 s.
* 403 ``Forbidden`` (blocked, kicked, deactivated) and 400s that mean the chat is unreachable
  (``chat not found``, no right to write...) -> GONE: the chat is marked inactive.
* ``ChatMigrated`` (group -> supergroup) -> the chat row moves to the new id, RETRY at once.
* 400 that the HTML was rejected (``can't parse entities``, too long) -> sent again once as
  plain text; any other 400 is about this message only -> FAILED (the chat stays active).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode, UpdateType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.alerts.alert import Alert
from bot.alerts.digest import Digest
from bot.alerts.i18n import LANGUAGES
from bot.app.feeds import FeedOptions
from bot.config import Config, ConfigError, TelegramConfig
from bot.delivery.pacing import Limit, Pacer, acquire
from bot.delivery.worker import FAILED, GONE, REFUSED, RETRY, SENT, SendResult
from handlers import actions
from handlers.actions import Button
from handlers.commands import (
    ALIASES,
    VERBS,
    CommandContext,
    Reply,
    Settings,
    catalog,
    error_reply,
    execute_async,
)
from handlers.offloop import run_off_loop, runs_off_loop
from handlers.telegram.chart import ChartCache, render_png
from handlers.telegram.format import (
    digest_messages,
    html_to_plain,
    split_message,
    to_telegram_html,
)
from store import Store
from store.base import LeaderLike
from store.models import DigestPart

log = logging.getLogger("kabar.telegram")

PLATFORM = "telegram"
ALLOWED_UPDATES = [
    UpdateType.MESSAGE.value,
    UpdateType.CHANNEL_POST.value,
    UpdateType.CALLBACK_QUERY.value,  # the alerts' buttons
]
WHOLE_PLATFORM_WAIT = 60.0  # seconds, after the Bot API rejected the token or URL
POLL_TIMEOUT = 30  # seconds a getUpdates long poll may be held open by the server
POLLING_LEADER = "kabar.telegram.polling"  # the advisory lock of the one polling instance
LEADER_CHECK_SECONDS = 2.0  # a dead leader is replaced within this (plus one long poll)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
STATE_KEY = "kabar"
REPLY_PATIENCE_SECONDS = 600.0  # a reply waits at most this long for Telegram's retry_after
REPLY_RETRIES = 3  # sends of a reply again after a 5xx, timeout or network error

# 400 descriptions (lower case) that mean the chat cannot be written to at all.
GONE_MARKERS = (
    "chat not found", "user not found", "peer_id_invalid", "chat_id_invalid",
    "chat_write_forbidden", "not enough rights to send", "have no rights to send",
    "need administrator rights", "bot is not a member", "bot was kicked", "user is deactivated",
    "group chat was deactivated", "chat is deactivated",
)  # fmt: skip
# 400 descriptions that mean a forum topic is closed or deleted: GONE for a topic's row only
# (that target becomes inactive, the chat and its other topics do not).
TOPIC_GONE_MARKERS = ("message thread not found", "topic_closed", "topic_deleted")
# 400 descriptions that mean the message cannot be edited (too old, deleted, not the bot's).
UNEDITABLE_MARKERS = (
    "message to edit not found", "message can't be edited", "message_id_invalid",
    "message can't be found",
)  # fmt: skip
UNCHANGED_MARKER = "message is not modified"  # an edit redone after a crash: already done
# 400 descriptions that mean Telegram rejected the message's HTML or length.
MARKUP_MARKERS = (
    "can't parse entities", "can't find end tag", "unsupported start tag", "unclosed",
    "unmatched end tag", "message is too long", "entities_too_long",
)  # fmt: skip


# ---------------------------------------------------------------- sending alerts


class TelegramSender:
    """Sends alerts as HTML messages without link previews; maps Bot API errors to outcomes."""

    platform = PLATFORM
    global_limits: tuple[Limit, ...] = (Limit(29, 1.0), Limit(1, 1 / 35))

    def __init__(self, bot: Bot, db: Store) -> None:
        self.bot = bot
        self.db = db

    def target_limits(self, address: str) -> tuple[Limit, ...]:
        """1 message/s per chat; groups and channels also 20 a minute."""
        if is_group(address):
            return (Limit(1, 1.05), Limit(20, 61.0))
        return (Limit(1, 1.05),)

    def pacing_key(self, address: str) -> str:
        """Telegram counts a forum topic's sends on its group (1/s, 20/min): the group."""
        return base_address(address)

    def keyboard(self, address: str, alert: Alert) -> InlineKeyboardMarkup | None:
        """The alert's buttons (``handlers.actions``) in one row; None without any."""
        return inline_keyboard(actions.alert_keyboard(self.db, PLATFORM, address, alert.keywords))

    async def send(self, address: str, alert: Alert) -> SendResult:
        text = to_telegram_html(alert)
        markup = self.keyboard(address, alert)
        try:
            try:
                message = await self._send(address, text, ParseMode.HTML, markup=markup)
            except BadRequest as exc:
                if not _mentions(exc, MARKUP_MARKERS):
                    raise
                log.warning(
                    "telegram rejected an alert's HTML for %s (%s); sending plain text",
                    address,
                    exc.message,
                )
                message = await self._send(address, html_to_plain(text), None, markup=markup)
        except TelegramError as exc:
            return self._failure(address, exc)
        return SendResult(SENT, message_id=str(message.message_id))

    def digest_parts(self, digest: Digest) -> list[DigestPart]:
        return digest_messages(digest)

    async def send_digest(self, address: str, payload: str) -> SendResult:
        """One digest message (Telegram HTML, within the limit); plain text if Telegram
        rejects the HTML."""
        try:
            try:
                message = await self._send(address, payload, ParseMode.HTML)
            except BadRequest as exc:
                if not _mentions(exc, MARKUP_MARKERS):
                    raise
                message = await self._send(address, html_to_plain(payload), None)
        except TelegramError as exc:
            return self._failure(address, exc)
        return SendResult(SENT, message_id=str(message.message_id))

    async def notify(self, address: str, text: str) -> SendResult:
        """A plain-text notice from Kabar itself (feed health)."""
        try:
            message = await self._send(address, text, None)
        except TelegramError as exc:
            return self._failure(address, exc)
        return SendResult(SENT, message_id=str(message.message_id))

    async def _send(
        self,
        address: str,
        text: str,
        parse_mode: str | None,
        reply_to: int | None = None,
        markup: InlineKeyboardMarkup | None = None,
    ) -> Message:
        reply = (
            ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        )
        return await self.bot.send_message(
            chat_id=chat_id(address),
            message_thread_id=thread_id(address),
            text=text,
            parse_mode=parse_mode,
            link_preview_options=NO_PREVIEW,
            reply_parameters=reply,
            reply_markup=markup,
        )

    async def edit(self, address: str, message_id: str, alert: Alert) -> SendResult:
        """editMessageText of the story's alert; REFUSED when Telegram will not edit it (too
        old, deleted), SENT when it already reads so (an edit redone after a crash)."""
        if not message_id.isdigit():
            return SendResult(REFUSED, error="no message id to edit")
        text = to_telegram_html(alert)
        markup = self.keyboard(address, alert)  # an edit without it would drop the buttons
        try:
            try:
                await self._edit(address, int(message_id), text, ParseMode.HTML, markup)
            except BadRequest as exc:
                if not _mentions(exc, MARKUP_MARKERS):
                    raise
                await self._edit(address, int(message_id), html_to_plain(text), None, markup)
        except BadRequest as exc:
            if _mentions(exc, (UNCHANGED_MARKER,)):
                return SendResult(SENT, message_id=message_id)
            if _mentions(exc, UNEDITABLE_MARKERS):
                return SendResult(REFUSED, error=f"BadRequest: {exc.message}")
            return self._failure(address, exc)
        except TelegramError as exc:
            return self._failure(address, exc)
        return SendResult(SENT, message_id=message_id)

    async def _edit(
        self,
        address: str,
        message_id: int,
        text: str,
        parse_mode: str | None,
        markup: InlineKeyboardMarkup | None = None,
    ) -> None:
        await self.bot.edit_message_text(
            text,
            chat_id=chat_id(address),
            message_id=message_id,
            parse_mode=parse_mode,
            link_preview_options=NO_PREVIEW,
            reply_markup=markup,
        )

    async def reply(self, address: str, message_id: str, alert: Alert) -> SendResult:
        """A short reply to the story's alert (its edit was refused)."""
        text = to_telegram_html(alert)
        reply_to = int(message_id) if message_id.isdigit() else None
        markup = self.keyboard(address, alert)
        try:
            try:
                message = await self._send(address, text, ParseMode.HTML, reply_to, markup)
            except BadRequest as exc:
                if not _mentions(exc, MARKUP_MARKERS):
                    raise
                message = await self._send(address, html_to_plain(text), None, reply_to, markup)
        except TelegramError as exc:
            return self._failure(address, exc)
        return SendResult(SENT, message_id=str(message.message_id))

    def _failure(self, address: str, exc: TelegramError) -> SendResult:
        error = f"{type(exc).__name__}: {exc.message}"
        if isinstance(exc, RetryAfter):
            return SendResult(
                RETRY, retry_after=retry_after_seconds(exc), error=error, rate_limited=True
            )
        if isinstance(exc, ChatMigrated):
            return self._migrated(address, str(exc.new_chat_id), error)
        if isinstance(exc, Forbidden):
            return SendResult(GONE, error=error)
        if isinstance(exc, BadRequest):
            gone = _mentions(exc, GONE_MARKERS) or (
                thread_id(address) is not None and _mentions(exc, TOPIC_GONE_MARKERS)
            )
            return SendResult(GONE if gone else FAILED, error=error)
        if isinstance(exc, InvalidToken | EndPointNotFound):
            return SendResult(
                RETRY, retry_after=WHOLE_PLATFORM_WAIT, error=error, whole_platform=True
            )
        return SendResult(RETRY, error=error)  # TimedOut, NetworkError (5xx, connection)...

    def _migrated(self, address: str, new_address: str, error: str) -> SendResult:
        """Move the chat row to the supergroup's id and retry there at once. If the
        supergroup already has its own row, the old group is gone. (A topic row moves with its
        group.)"""
        moved = self.db.chats.migrate(PLATFORM, base_address(address), new_address)
        if moved or self.db.chats.get(PLATFORM, address) is None:
            if moved:
                log.info("telegram chat %s is now supergroup %s", address, new_address)
            return SendResult(RETRY, retry_after=0.0, error=error)
        return SendResult(GONE, error=f"{error}; chat {new_address} is already known")


def is_group(address: str) -> bool:
    """Groups, supergroups and channels have negative ids; private chats positive ones."""
    return address.startswith("-")


def chat_id(address: str) -> int | str:
    """The Bot API chat_id for a stored address (numeric ids as int, ``@channel`` as is; a
    forum topic's address ``<chat>/<thread>`` gives its chat)."""
    address = base_address(address)
    try:
        return int(address)
    except ValueError:
        return address


def base_address(address: str) -> str:
    """``-100123/7`` (a forum topic) -> ``-100123``; any other address as is."""
    return address.split("/", 1)[0]


def thread_id(address: str) -> int | None:
    """The forum topic of a ``<chat>/<thread>`` address (its message_thread_id); else None."""
    _, _, thread = address.partition("/")
    return int(thread) if thread.isdigit() else None


def topic_address(message: Message) -> str:
    """The target a message addresses: its forum topic (``<chat>/<thread>``) when it was sent
    inside one, else the chat itself (the General topic included)."""
    if message.is_topic_message and message.message_thread_id:
        return f"{message.chat_id}/{message.message_thread_id}"
    return str(message.chat_id)


def inline_keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in buttons]]
    )


def keyboard_buttons(markup: InlineKeyboardMarkup | None) -> tuple[Button, ...]:
    """The buttons a message carries (those with callback data)."""
    if markup is None:
        return ()
    return tuple(
        Button(b.text, str(b.callback_data))
        for row in markup.inline_keyboard
        for b in row
        if isinstance(b.callback_data, str)
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    """``RetryAfter.retry_after`` in seconds, whether PTB gives an int or a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def _mentions(exc: TelegramError, markers: tuple[str, ...]) -> bool:
    description = exc.message.lower()
    return any(marker in description for marker in markers)


# ---------------------------------------------------------------- the platform


@dataclass(frozen=True)
class HandlerState:
    """What the command handlers need, kept in ``application.bot_data``."""

    db: Store
    settings: Settings
    pacer: Pacer | None = None  # replies share the alerts' pacing (kept in the store)
    charts: ChartCache = field(default_factory=ChartCache)  # `stats` PNGs per chat and data


class TelegramPlatform:
    """The Telegram adapter: a sender for alerts and, when listening, chat commands by long
    polling or a webhook."""

    name = PLATFORM
    webhook_listen = "0.0.0.0"  # the address the webhook server binds to

    def __init__(self, config: Config, db: Store) -> None:
        if config.telegram is None or not config.telegram.token:
            raise ConfigError("'telegram.token' is required (or env TELEGRAM_BOT_TOKEN)")
        self.telegram = config.telegram
        self.default_language = config.default_language
        self.application = build_application(self.telegram)
        settings = Settings(
            default_language=config.default_language,
            admins=frozenset(str(a) for a in self.telegram.admins),
            feeds=FeedOptions.from_config(config),
            timezone=config.timezone,
        )
        self.sender = TelegramSender(self.application.bot, db)
        self._db = db
        self._watch: asyncio.Task | None = None  # the polling leader's watch (several instances)
        pacer = Pacer(
            self.sender.global_limits,
            self.sender.target_limits,
            shared=db.pacing(PLATFORM),
            key=self.sender.pacing_key,
        )
        self.application.bot_data[STATE_KEY] = HandlerState(db, settings, pacer)
        add_handlers(self.application)

    async def start(self, service: object | None, *, listen: bool) -> None:
        """Connect (getMe); with ``listen`` also publish the command menu and receive updates
        (long polling or webhook). Without it the bot only sends. A rejected token, or with
        ``listen`` an unreachable API, raises ConfigError (one line from ``kabar run``); on any
        failure whatever was started is stopped again."""
        webhook = listen and self.telegram.mode == "webhook"
        if webhook:
            check_webhook_config(self.telegram)
        quiet_http_logs()
        try:
            await self._connect(listen)
            if listen:
                try:
                    await self._listen(webhook)
                except NetworkError as exc:  # getMe answered, then the API went away
                    raise self._unreachable(exc) from None
        except BaseException:
            await self.stop()
            raise

    async def _connect(self, listen: bool) -> None:
        try:
            await self.application.initialize()
        except InvalidToken:
            raise ConfigError(
                f"'telegram.token' was rejected by the Telegram Bot API ({self.telegram.base_url})"
            ) from None
        except NetworkError as exc:
            if listen:
                raise self._unreachable(exc) from None
            # Sending needs no getMe: alerts go out (or wait and retry) when Telegram answers.
            log.warning("telegram: getMe failed (%s); sending anyway", exc)

    def _unreachable(self, exc: NetworkError) -> ConfigError:
        """`kabar run` cannot receive commands from an API it cannot reach: one line."""
        return ConfigError(
            f"the Telegram Bot API at 'telegram.base_url'"
            f" ({self.telegram.base_url}) is unreachable: {exc.message}"
        )

    async def _listen(self, webhook: bool) -> None:
        app = self.application
        updater = app.updater
        if updater is None:  # build_application always gives one
            raise RuntimeError("the Telegram application has no updater")
        await publish_commands(app.bot, self.default_language)
        if webhook:
            await updater.start_webhook(
                listen=self.webhook_listen,
                port=self.telegram.webhook_port,
                url_path=urlsplit(self.telegram.webhook_url).path.lstrip("/"),
                webhook_url=self.telegram.webhook_url,
                secret_token=webhook_secret(self.telegram),
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
        else:
            leader = self._db.leader(POLLING_LEADER)
            if leader.try_lead():
                await self._start_polling()
            else:
                log.info("telegram: another instance polls for updates; standing by")
            self._watch = asyncio.get_running_loop().create_task(self._lead(leader))
        await app.start()
        log.info("telegram: @%s receiving commands by %s", app.bot.username, self.telegram.mode)

    async def _start_polling(self) -> None:
        updater = self.application.updater
        assert updater is not None
        await updater.start_polling(
            timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
        )

    async def _lead(self, leader: LeaderLike) -> None:
        """Several instances on one PostgreSQL database: one polls (the leader, holding an
        advisory lock on a connection of its own); when it dies its lock goes with its
        connection and a standing-by instance takes over within LEADER_CHECK_SECONDS. A
        leader that loses its lock's connection stops polling. SQLite: always the leader."""
        updater = self.application.updater
        assert updater is not None
        try:
            while True:
                await asyncio.sleep(LEADER_CHECK_SECONDS)
                if updater.running and not leader.alive():
                    log.warning("telegram: lost the polling lead; standing by")
                    await updater.stop()
                elif not updater.running and leader.try_lead():
                    log.info("telegram: taking over polling for updates")
                    await self._start_polling()
        finally:
            leader.release()

    async def stop(self) -> None:
        """Undo ``start``: stop receiving, stop processing, close the HTTP clients."""
        app = self.application
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await app.bot.shutdown()  # also when getMe failed and the Application never initialized


def build_application(telegram: TelegramConfig) -> Application:
    """A PTB Application for our loop: no rate limiter (delivery paces itself), explicit
    timeouts, the configured Bot API root (``.../bot``; files under ``.../file/bot``)."""
    return (
        ApplicationBuilder()
        .token(telegram.token)
        .base_url(telegram.base_url)
        .base_file_url(file_url(telegram.base_url))
        .connect_timeout(5.0)
        .read_timeout(15.0)
        .write_timeout(15.0)
        .pool_timeout(5.0)
        .get_updates_connect_timeout(5.0)
        .get_updates_read_timeout(10.0)  # PTB adds the long-poll timeout to this
        .get_updates_pool_timeout(5.0)
        .build()
    )


def file_url(base_url: str) -> str:
    """``https://api.telegram.org/bot`` -> ``https://api.telegram.org/file/bot``."""
    base = base_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base_url


def webhook_secret(telegram: TelegramConfig) -> str:
    """The configured secret, else one derived from the token (stable across restarts; Telegram
    sends it in ``X-Telegram-Bot-Api-Secret-Token`` and PTB rejects requests without it)."""
    if telegram.webhook_secret:
        return telegram.webhook_secret
    return hashlib.sha256(f"kabar-webhook:{telegram.token}".encode()).hexdigest()


def check_webhook_config(telegram: TelegramConfig) -> None:
    if not telegram.webhook_url.startswith(("https://", "http://")):
        raise ConfigError(
            "'telegram.webhook_url' must be the public https URL Telegram posts"
            ' updates to when telegram.mode = "webhook"'
        )
    if importlib.util.find_spec("tornado") is None:
        raise ConfigError(
            'telegram.mode = "webhook" needs python-telegram-bot[webhooks] (tornado) installed'
        )


def quiet_http_logs() -> None:
    """httpx logs every request URL at INFO, and a Bot API URL contains the token."""
    logger = logging.getLogger("httpx")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


def command_menu(lang: str) -> list[BotCommand]:
    """The command menu in ``lang``: every verb with its ``menu.VERB`` catalog description."""
    return [BotCommand(verb, catalog().t(lang, f"menu.{verb}")) for verb in VERBS]


async def publish_commands(bot: Bot, default_language: str) -> None:
    """The command menu (setMyCommands) per language, and for users whose client sends no
    language (the default menu) in ``default_language``."""
    menus: list[tuple[str | None, str]] = [(None, default_language)]
    menus += [(lang, lang) for lang in LANGUAGES]  # a menu per language_code
    for language_code, lang in menus:
        try:
            await bot.set_my_commands(command_menu(lang), language_code=language_code)
        except TelegramError as exc:
            log.warning("telegram: setMyCommands (%s) failed: %s", language_code or "default", exc)


# ---------------------------------------------------------------- command handlers


def add_handlers(app: Application) -> None:
    """Every handler, in one place. Known verbs and aliases (also as channel posts; PTB skips
    ``/verb@OtherBot``), then any other command, then group -> supergroup migrations."""
    updates = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
    app.add_handler(CommandHandler([*VERBS, *ALIASES], on_command, filters=updates))
    app.add_handler(MessageHandler(filters.COMMAND & updates, on_other_command))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    app.add_handler(CallbackQueryHandler(on_button, pattern=f"^{actions.PREFIX}:"))
    app.add_error_handler(on_error)


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A Kabar verb: run it through the command layer and reply in plain text."""
    await run_command(update, context)


async def on_other_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An unknown command: answered (with the command layer's reply) only when it is meant for
    this bot: in a private chat, or addressed as ``/verb@ThisBot`` in a group."""
    message = update.effective_message
    if message is not None and addressed_to_bot(message, context.bot.username):
        await run_command(update, context)


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: keep its subscriptions under the new chat id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat_id
    else:
        return
    if _state(context).db.chats.migrate(PLATFORM, str(old), str(new)):
        log.info("telegram chat %s is now supergroup %s", old, new)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("telegram: handling an update failed", exc_info=context.error)


async def run_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or not message.text:
        return
    state = _state(context)
    ctx = CommandContext(
        platform=PLATFORM,
        chat_address=topic_address(message),
        user_id=str(user.id) if user else "",
        chat_title=chat.title or chat.full_name or "",
    )
    reply = await command_reply(state, ctx, message.text)
    if reply.chart is not None:
        png = await chart_png(state, ctx.chat_address, reply)
        if png is not None:
            caption = reply.chart.caption[:CAPTION_LIMIT]
            await _paced(
                state.pacer,
                message,
                lambda: message.reply_photo(photo=png, caption=caption, filename="kabar-stats.png"),
            )
            return
    for part in split_message(reply.text):
        await send_reply(state.pacer, message, part)


CAPTION_LIMIT = 1024  # Telegram's photo caption limit
ALLOWED_IN_CHANNEL = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An alert's button: act through ``handlers.actions``, answer the press
    (answerCallbackQuery) in the chat's language, and show the new keyboard
    (editMessageReplyMarkup). Who may press: who may send the verbs there (in a channel,
    where every reader sees the buttons, only its administrators)."""
    query = update.callback_query
    if query is None:
        return
    state = _state(context)
    message = query.message
    if not isinstance(message, Message):  # too old: Telegram no longer shows us the message
        await _answer(
            query, actions.press(state.db, _press_context(None, query), "", state.settings)
        )
        return
    ctx = _press_context(message, query)
    try:
        if not await may_press(context.bot, message, query):
            result = actions.refusal(state.db, ctx, state.settings)
        else:
            current = keyboard_buttons(message.reply_markup)
            result = actions.press(state.db, ctx, query.data or "", state.settings, current)
    except Exception:
        log.exception("telegram: a button press in chat %s failed", ctx.chat_address)
        result = actions.failure(state.db, ctx, state.settings)
    await _answer(query, result)
    if result.keyboard is not None:
        try:
            await query.edit_message_reply_markup(reply_markup=inline_keyboard(result.keyboard))
        except TelegramError as exc:
            log.warning("telegram: could not update an alert's buttons: %s", exc)


def _press_context(message: Message | None, query: CallbackQuery) -> CommandContext:
    return CommandContext(
        platform=PLATFORM,
        chat_address=topic_address(message) if message is not None else "",
        user_id=str(query.from_user.id),
    )


async def _answer(query: CallbackQuery, result: actions.PressResult) -> None:
    try:
        await query.answer(text=result.answer[:200])
    except TelegramError as exc:
        log.warning("telegram: answerCallbackQuery failed: %s", exc)


async def may_press(bot: Bot, message: Message, query: CallbackQuery) -> bool:
    """Anyone in a private chat or a group may send the verbs there; in a channel only its
    administrators post (getChatMember)."""
    if message.chat.type != ChatType.CHANNEL:
        return True
    member = await bot.get_chat_member(message.chat_id, query.from_user.id)
    return member.status in ALLOWED_IN_CHANNEL


async def chart_png(state: HandlerState, chat: str, reply: Reply) -> bytes | None:
    """The reply's chart as PNG, drawn in a worker thread (cached per chat and data); None
    when it cannot be drawn (the text table goes instead)."""
    assert reply.chart is not None
    png = state.charts.get(chat, reply.chart)
    if png is None:
        try:
            png = await asyncio.to_thread(render_png, reply.chart)
        except Exception:
            log.exception("telegram: drawing the stats chart failed; sending the table")
            return None
        state.charts.put(chat, reply.chart, png)
    return png


async def send_reply(pacer: Pacer | None, message: Message, text: str) -> None:
    """A command reply, paced with the alerts (the same per-chat and global budget, through
    the store) and sent again after a 429 (its retry_after honoured, for the alerts too) or a
    transient error: never dropped for a rate limit."""
    await _paced(pacer, message, lambda: message.reply_text(text, link_preview_options=NO_PREVIEW))


async def _paced(
    pacer: Pacer | None, message: Message, send: Callable[[], Awaitable[object]]
) -> None:
    """``send()`` (a reply into ``message``'s chat) paced and retried as ``send_reply``."""
    target = str(message.chat_id)
    pacer = pacer or Pacer()
    deadline = time.monotonic() + REPLY_PATIENCE_SECONDS
    failures = 0
    while True:
        await acquire(pacer, target)
        try:
            await send()
            return
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            pacer.block(target, wait)
            if time.monotonic() + wait > deadline:
                raise
        except BadRequest:
            raise  # about this message: sending it again cannot help
        except (TimedOut, NetworkError):
            failures += 1
            if failures > REPLY_RETRIES:
                raise
            await asyncio.sleep(2.0 ** (failures - 1))
        finally:
            pacer.settle(target)


async def command_reply(state: HandlerState, ctx: CommandContext, text: str) -> Reply:
    """The command's reply: slow read-only verbs in a worker thread (the event loop keeps
    delivering), the rest here; a failure answered in the chat's language and logged."""
    try:
        if runs_off_loop(text):
            return await run_off_loop(state.db, ctx, text, state.settings)
        return await execute_async(state.db, ctx, text, state.settings)  # addfeed fetches
    except Exception:
        log.exception("telegram: command %r in chat %s failed", text[:60], ctx.chat_address)
        return error_reply(state.db, ctx, state.settings)


def addressed_to_bot(message: Message, username: str) -> bool:
    command = (message.text or "").split(maxsplit=1)[0] if message.text else ""
    _, _, target = command.partition("@")
    if target:
        return target.lower() == username.lower()
    return message.chat.type == ChatType.PRIVATE


def _state(context: ContextTypes.DEFAULT_TYPE) -> HandlerState:
    return context.bot_data[STATE_KEY]


# ---------------------------------------------------------------- `kabar status`


async def probe(telegram: TelegramConfig, timeout: float) -> tuple[bool, str]:
    """``getMe`` with a short timeout: (reachable and the token accepted, one line)."""
    quiet_http_logs()
    request = HTTPXRequest(
        connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout, pool_timeout=timeout
    )
    bot = Bot(telegram.token, base_url=telegram.base_url, request=request)
    try:
        me = await bot.get_me()
    except InvalidToken:
        return False, "the token was rejected (getMe)"
    except TelegramError as exc:
        return False, f"unreachable ({telegram.base_url}): {exc.message}"
    finally:
        await request.shutdown()
    return True, f"ok (@{me.username})"
