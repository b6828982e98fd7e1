"""A small fake Telegram Bot API server (aiohttp.web) for the tests, on 127.0.0.1.

Routes ``/bot{token}/{method}``: getMe, deleteWebhook, setWebhook, getWebhookInfo, getUpdates
(long poll with offsets, woken when an update is queued), sendMessage, editMessageText,
setMyCommands,
getMyCommands, close, logOut, sendPhoto (a multipart upload). Parameters are read from the query
string and from a JSON, urlencoded or multipart body (python-telegram-bot posts urlencoded forms
whose non-string values are JSON-encoded).

Alert buttons: ``press`` queues a ``callback_query`` update for a sent message's button;
answerCallbackQuery answers are kept in ``answers``, editMessageReplyMarkup changes the message's
``reply_markup`` (kept on every sent and edited message, so ``keyboard(message)`` reads what a
user sees); getChatMember answers ``administrator`` for ``channel_admins``, else ``member``.
``answer_failures`` / ``markup_failures`` script errors for those two methods. Forum topics:
``send_text(..., thread_id=N)`` is a message inside topic N; ``close_topic`` makes sends there
fail with "message thread not found".

Tests queue updates (``send_text``, ``send_channel_post``, ``migrate_group``), inject failures for
sendMessage (per chat or for any chat: ``too_many_requests``, ``blocked``, ``chat_not_found``,
``server_error``, ``bad_entities``, ``migrated``, ``slow``), and may turn on a limit enforcer that
answers 429 when a chat gets more than one message per second, a group more than 20 a minute,
or the bot more than 30 a second overall, counting each violation.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes import DROP, drop_connection, next_failure, serve_on_loopback

# Parameters python-telegram-bot sends JSON-encoded inside a form body.
JSON_PARAMS = frozenset({
    "link_preview_options", "reply_parameters", "reply_markup", "entities", "commands",
    "scope", "allowed_updates",
})  # fmt: skip
TEXT_LIMIT = 4096  # UTF-16 units of a message text
INT_PARAMS = frozenset({"chat_id", "offset", "limit", "message_thread_id", "message_id", "user_id"})
FLOAT_PARAMS = frozenset({"timeout"})
BOOL_PARAMS = frozenset({"drop_pending_updates", "disable_notification", "protect_content"})


@dataclass(frozen=True)
class Failure:
    """One scripted answer to a sendMessage call: an error, or a slow success (status 200)."""

    status: int
    description: str = ""
    parameters: dict[str, Any] | None = None
    delay: float = 0.0


def too_many_requests(retry_after: int = 1) -> Failure:
    return Failure(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def blocked() -> Failure:
    return Failure(403, "Forbidden: bot was blocked by the user")


def chat_not_found() -> Failure:
    return Failure(400, "Bad Request: chat not found")


def server_error() -> Failure:
    return Failure(500, "Internal Server Error")


def bad_entities() -> Failure:
    return Failure(
        400, 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
    )


def migrated(new_chat_id: int) -> Failure:
    """The group became a supergroup; every later send to the old id fails the same way."""
    return Failure(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


def slow(seconds: float) -> Failure:
    """Answer normally, but only after `seconds`. Like Telegram, the message is delivered even
    when the client gave up waiting (so a client that then retries sends it twice)."""
    return Failure(200, delay=seconds)


def dropped() -> Failure:
    """Close the connection mid-request without answering (the message is not delivered)."""
    return Failure(0, "connection dropped")


def chat_type_of(chat_id: int) -> str:
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


def edit_not_found() -> Failure:
    return Failure(400, "Bad Request: message to edit not found")


def cant_edit() -> Failure:
    return Failure(400, "Bad Request: message can't be edited")


class FakeTelegram:
    """The fake Bot API. ``await start()`` then point the bot at ``base_url``."""

    def __init__(self, token: str = "123:TEST", username: str = "KabarTestBot") -> None:
        self.refused_too_long = 0  # sendMessage texts refused for length
        self.token = token
        self.username = username
        self.bot_id = int(token.split(":", 1)[0])
        self.port = 0
        # what the bot did
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every request: (method, params)
        self.sent: list[dict[str, Any]] = []  # accepted sendMessage params + message_id
        self.photos: list[dict[str, Any]] = []  # accepted sendPhoto params (photo: bytes)
        # accepted editMessageText params; the edited message in `sent` gets the new text
        self.edits: list[dict[str, Any]] = []
        self.edit_failures: dict[int | None, deque[Failure]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}  # (scope, lang) -> list
        self.webhook: dict[str, Any] = {}
        self.allowed_updates: list[str] | None = None
        self.answers: list[dict[str, Any]] = []  # answerCallbackQuery params
        self.markup_edits: list[dict[str, Any]] = []  # accepted editMessageReplyMarkup params
        self.answer_failures: deque[Failure] = deque()
        self.markup_failures: deque[Failure] = deque()
        self.channel_admins: set[tuple[int, int]] = set()  # (chat id, user id)
        self.closed_topics: set[tuple[int, int]] = set()  # (chat id, thread id)
        self._callback_ids = itertools.count(1)
        # what the tests script
        self.failures: dict[int | None, deque[Failure]] = {}
        self.migrations: dict[int, int] = {}  # group id -> its supergroup's id
        self.enforcing = False
        self.violations = 0
        self.violation_kinds: list[str] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._wakeup = asyncio.Event()
        self._closing = False
        self._chat_sends: dict[int, deque[float]] = {}
        self._all_sends: deque[float] = deque()
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """For python-telegram-bot's ``base_url`` (the token is appended to it)."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner, self.port = await serve_on_loopback(app)
        return self

    async def stop(self) -> None:
        self._closing = True
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ scripting

    def fail(self, *failures: Failure, chat_id: int | None = None) -> None:
        """Answer the next sendMessage calls (to `chat_id`, or to any chat) with `failures`."""
        self.failures.setdefault(chat_id, deque()).extend(failures)

    def fail_edits(self, *failures: Failure, chat_id: int | None = None) -> None:
        """Answer the next editMessageText calls (to `chat_id`, or any chat) with `failures`."""
        self.edit_failures.setdefault(chat_id, deque()).extend(failures)

    def delete(self, chat_id: int, message_id: int) -> None:
        """The message is deleted in the chat (by a user): it can no longer be edited."""
        self.sent = [
            m for m in self.sent if (m["chat_id"], m["message_id"]) != (chat_id, message_id)
        ]

    def enforce_limits(self, on: bool = True) -> None:
        """429 (retry_after 1) for a send over 1/s per chat, 20/min per group or 30/s overall."""
        self.enforcing = on

    def enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (its ``update_id`` is assigned here) for getUpdates."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._wake()
        return update

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        title: str = "Test group",
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """A text message (a command when it starts with "/") from a user in a chat; with
        ``thread_id`` inside that forum topic of a supergroup."""
        message = self.message(chat_id, text, user_id=user_id, chat_type=chat_type, title=title)
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            message["chat"]["is_forum"] = True
        return self.enqueue({"message": message})

    def press(
        self, message: dict[str, Any], data: str, *, user_id: int = 1, chat_type: str | None = None
    ) -> dict[str, Any]:
        """A user presses the button with callback ``data`` under a sent ``message``."""
        chat_id = message["chat_id"]
        sent: dict[str, Any] = {
            "message_id": message["message_id"],
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type or chat_type_of(chat_id)),
            "text": message["text"],
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "Kabar"},
        }
        if message.get("reply_markup"):
            sent["reply_markup"] = message["reply_markup"]
        if message.get("message_thread_id"):
            sent["message_thread_id"] = message["message_thread_id"]
            sent["is_topic_message"] = True
        query = {
            "id": str(next(self._callback_ids)),
            "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
            "chat_instance": f"ci{chat_id}",
            "message": sent,
            "data": data,
        }
        return self.enqueue({"callback_query": query})

    @staticmethod
    def keyboard(message: dict[str, Any]) -> list[tuple[str, str]]:
        """(label, callback data) of every button a message shows now."""
        markup = message.get("reply_markup") or {}
        return [
            (b["text"], b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]

    def close_topic(self, chat_id: int, thread_id: int) -> None:
        self.closed_topics.add((chat_id, thread_id))

    def send_channel_post(self, chat_id: int, text: str, title: str = "Test channel") -> dict:
        post = self.message(chat_id, text, chat_type="channel", title=title)
        del post["from"]
        post["sender_chat"] = post["chat"]
        return self.enqueue({"channel_post": post})

    def migrate_group(self, old_chat_id: int, new_chat_id: int, user_id: int = 1) -> None:
        """A group upgraded to a supergroup: the service messages in the old and new chat
        (sends to the old id fail with ``migrate_to_chat_id`` from now on)."""
        self.migrations[old_chat_id] = new_chat_id
        old = self.message(old_chat_id, None, user_id=user_id)
        old["migrate_to_chat_id"] = new_chat_id
        self.enqueue({"message": old})
        new = self.message(new_chat_id, None, user_id=user_id, chat_type="supergroup")
        new["migrate_from_chat_id"] = old_chat_id
        self.enqueue({"message": new})

    def message(
        self,
        chat_id: int,
        text: str | None,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        title: str = "Test group",
    ) -> dict[str, Any]:
        chat_type = chat_type or chat_type_of(chat_id)
        user = user_id if user_id is not None else (chat_id if chat_id > 0 else 1)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type, title),
            "from": {
                "id": user,
                "is_bot": False,
                "first_name": f"User{user}",
                "language_code": "id",
            },
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                length = len(text.split()[0].encode("utf-16-le")) // 2
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return message

    @staticmethod
    def chat(chat_id: int, chat_type: str, title: str = "Test group") -> dict[str, Any]:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
        return {"id": chat_id, "type": chat_type, "title": title}

    # ------------------------------------------------------------------ inspection

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["chat_id"] == chat_id]

    def attempts_to(self, chat_id: int) -> int:
        """sendMessage calls for `chat_id`, failed ones included."""
        return sum(
            1 for method, p in self.calls if method == "sendmessage" and p.get("chat_id") == chat_id
        )

    def pending_updates(self) -> int:
        return len(self._updates)

    async def wait_for(self, predicate: Callable[[], object], timeout: float = 5.0) -> None:
        """Until `predicate()` is true; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("fake Telegram: condition not met in time")
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ HTTP

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"].lower()
        params = await _params(request)
        self.calls.append((method, params))
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        response = await handler(params)
        if response is DROP:
            return drop_connection(request)
        return response

    async def _api_getme(self, params: dict[str, Any]) -> web.Response:
        return _ok(
            {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "Kabar",
                "username": self.username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    async def _api_deletewebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = {}
        return _ok(True)

    async def _api_setwebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = dict(params)
        return _ok(True)

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> web.Response:
        return _ok(
            {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
        )

    async def _api_close(self, params: dict[str, Any]) -> web.Response:
        return _ok(True)

    _api_logout = _api_close

    async def _api_setmycommands(self, params: dict[str, Any]) -> web.Response:
        self.commands[_commands_key(params)] = list(params.get("commands") or [])
        return _ok(True)

    async def _api_getmycommands(self, params: dict[str, Any]) -> web.Response:
        return _ok(self.commands.get(_commands_key(params), []))

    async def _api_deletemycommands(self, params: dict[str, Any]) -> web.Response:
        self.commands.pop(_commands_key(params), None)
        return _ok(True)

    async def _api_getupdates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if "allowed_updates" in params:
            self.allowed_updates = params["allowed_updates"] or None
        if offset:  # confirms every update before it
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while True:
            ready = [u for u in self._updates if self._allowed(u)][:limit]
            left = deadline - time.monotonic()
            if ready or left <= 0 or self._closing:
                return _ok(ready)
            wakeup = self._wakeup
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), left)

    def _allowed(self, update: dict[str, Any]) -> bool:
        if not self.allowed_updates:
            return True
        return any(kind in update for kind in self.allowed_updates)

    async def _api_sendmessage(self, params: dict[str, Any]) -> web.Response:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or not params.get("text"):
            return _error(400, "Bad Request: chat_id and text are required")
        failure = self._next_failure(chat_id)
        moved_to = (failure.parameters or {}).get("migrate_to_chat_id") if failure else None
        if moved_to:
            self.migrations[chat_id] = moved_to
        if chat_id in self.migrations:  # the group is gone for good
            failure = migrated(self.migrations[chat_id])
        if failure is not None and failure.delay:
            await asyncio.sleep(failure.delay)
        if failure is not None and failure.status == 0:
            return DROP
        if failure is not None and failure.status != 200:
            return _error(failure.status, failure.description, failure.parameters)
        if (chat_id, params.get("message_thread_id")) in self.closed_topics:
            return _error(400, "Bad Request: message thread not found")
        if self.enforcing and self._over_limit(chat_id):
            self.violations += 1
            return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        if len(str(params.get("text") or "").encode("utf-16-le")) // 2 > TEXT_LIMIT:
            self.refused_too_long += 1  # Telegram refuses a text over 4096 UTF-16 units
            return _error(400, "Bad Request: message is too long")
        message_id = next(self._message_ids)
        self.sent.append({**params, "message_id": message_id})
        chat = self.chat(chat_id, chat_type_of(chat_id))
        return _ok(
            {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat,
                "from": {
                    "id": self.bot_id,
                    "is_bot": True,
                    "first_name": "Kabar",
                    "username": self.username,
                },
                "text": params["text"],
            }
        )

    async def _api_sendphoto(self, params: dict[str, Any]) -> web.Response:
        """A photo uploaded as multipart/form-data (``photo`` the file's bytes, or
        ``attach://NAME`` naming the part that holds them)."""
        chat_id = params.get("chat_id")
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo.removeprefix("attach://"))
        if not isinstance(chat_id, int) or not isinstance(photo, bytes) or not photo:
            return _error(400, "Bad Request: chat_id and an uploaded photo are required")
        failure = self._next_failure(chat_id)
        if failure is not None and failure.status not in (0, 200):
            return _error(failure.status, failure.description, failure.parameters)
        message_id = next(self._message_ids)
        self.photos.append({**params, "photo": photo, "message_id": message_id})
        return _ok(
            {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self.chat(chat_id, chat_type_of(chat_id)),
                "photo": [
                    {
                        "file_id": f"photo{message_id}",
                        "file_unique_id": f"u{message_id}",
                        "width": 1080,
                        "height": 675,
                    }
                ],
                "caption": params.get("caption", ""),
            }
        )

    def photos_to(self, chat_id: int) -> list[dict[str, Any]]:
        return [p for p in self.photos if p["chat_id"] == chat_id]

    async def _api_editmessagetext(self, params: dict[str, Any]) -> web.Response:
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if (
            not isinstance(chat_id, int)
            or not isinstance(message_id, int)
            or not params.get("text")
        ):
            return _error(400, "Bad Request: chat_id, message_id and text are required")
        failure = next_failure(self.edit_failures, chat_id, None)
        if failure is not None and failure.status == 0:
            return DROP
        if failure is not None and failure.status != 200:
            return _error(failure.status, failure.description, failure.parameters)
        message = self._sent_message(chat_id, message_id)
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        if message["text"] == params["text"]:
            return _error(
                400,
                "Bad Request: message is not modified: specified new message"
                " content and reply markup are exactly the same as a current"
                " content and reply markup of the message",
            )
        if self.enforcing and self._over_limit(chat_id):
            self.violations += 1
            return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        message["text"] = params["text"]
        message["parse_mode"] = params.get("parse_mode")
        message["reply_markup"] = params.get("reply_markup")  # an edit without one drops it
        self.edits.append(dict(params))
        chat = self.chat(chat_id, chat_type_of(chat_id))
        return _ok(
            {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat,
                "edit_date": int(time.time()),
                "text": params["text"],
                "from": {
                    "id": self.bot_id,
                    "is_bot": True,
                    "first_name": "Kabar",
                    "username": self.username,
                },
            }
        )

    def _sent_message(self, chat_id: Any, message_id: Any) -> dict[str, Any] | None:
        """The message this fake sent with these ids (None: no such message)."""
        return next(
            (m for m in self.sent if m["chat_id"] == chat_id and m["message_id"] == message_id),
            None,
        )

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> web.Response:
        if not params.get("callback_query_id"):
            return _error(400, "Bad Request: callback_query_id is required")
        if self.answer_failures:
            failure = self.answer_failures.popleft()
            return _error(failure.status, failure.description, failure.parameters)
        self.answers.append(dict(params))
        return _ok(True)

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> web.Response:
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if self.markup_failures:
            failure = self.markup_failures.popleft()
            return _error(failure.status, failure.description, failure.parameters)
        message = self._sent_message(chat_id, message_id)
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        message["reply_markup"] = params.get("reply_markup")
        self.markup_edits.append(dict(params))
        return _ok(
            {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self.chat(chat_id, chat_type_of(chat_id)),
                "text": message["text"],
            }
        )

    async def _api_getchatmember(self, params: dict[str, Any]) -> web.Response:
        chat_id, user_id = params.get("chat_id"), params.get("user_id")
        admin = (chat_id, user_id) in self.channel_admins
        member: dict[str, Any] = {
            "status": "administrator" if admin else "member",
            "user": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
        }
        if admin:
            member.update(
                {
                    "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
                    "can_delete_messages": True, "can_manage_video_chats": True,
                    "can_restrict_members": True, "can_promote_members": False,
                    "can_change_info": True, "can_invite_users": True, "can_post_stories": True,
                    "can_edit_stories": True, "can_delete_stories": True,
                }
            )  # fmt: skip
        return _ok(member)

    def _next_failure(self, chat_id: int) -> Failure | None:
        return next_failure(self.failures, chat_id, None)

    def _over_limit(self, chat_id: int) -> bool:
        now = time.monotonic()
        while self._all_sends and self._all_sends[0] <= now - 1.0:
            self._all_sends.popleft()
        chat = self._chat_sends.setdefault(chat_id, deque())
        while chat and chat[0] <= now - 60.0:
            chat.popleft()
        too_fast = bool(chat) and now - chat[-1] < 1.0
        group_full = chat_id < 0 and len(chat) >= 20
        if too_fast or group_full or len(self._all_sends) >= 30:
            kind = "chat" if too_fast else "group" if group_full else "overall"
            self.violation_kinds.append(f"{kind} {chat_id}")
            return True
        chat.append(now)
        self._all_sends.append(now)
        return False


def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return (
        json.dumps(scope, sort_keys=True) if scope != {"type": "default"} else "default",
        params.get("language_code") or "",
    )


async def _params(request: web.Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                return {**raw, **body}
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, str):
                    raw[key] = value
                elif isinstance(value, web.FileField):  # an uploaded file: its bytes
                    raw[key] = value.file.read()
    return {key: _decode(key, value) for key, value in raw.items()}


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if key in JSON_PARAMS:
            return json.loads(value)
        if key in INT_PARAMS:
            return int(value)
        if key in FLOAT_PARAMS:
            return float(value)
    except ValueError:
        return value
    if key in BOOL_PARAMS:
        return value == "true"
    return value


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
