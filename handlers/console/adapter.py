"""Console adapter: a terminal chat for `kabar demo` and `kabar check` (no platform library).

Its own lines (the demo's banner and wire status) come from ``handlers/locales``
(``console.*``) in the console chat's language: the default language until ``/lang`` changes it.
"""

from __future__ import annotations

from typing import TextIO

from bot.alerts.alert import Alert
from bot.alerts.digest import Digest
from bot.alerts.i18n import resolve_language, t
from bot.delivery.pacing import Limit
from bot.delivery.worker import SENT, SendResult
from handlers.commands import CommandContext, Reply, Settings, catalog, execute
from handlers.console.format import digest_messages, to_console
from store import Store
from store.models import DigestPart

PLATFORM = "console"
CHAT = "demo"


class ConsoleSender:
    """Prints each alert as it is delivered."""

    platform = PLATFORM
    global_limits: tuple[Limit, ...] = ()

    def __init__(self, stream: TextIO, color: bool = False) -> None:
        self.stream = stream
        self.color = color
        self.count = 0

    def target_limits(self, address: str) -> tuple[Limit, ...]:
        return ()

    async def send(self, address: str, alert: Alert) -> SendResult:
        self.count += 1
        self.stream.write("\n" + to_console(alert, color=self.color) + "\n")
        self.stream.flush()
        return SendResult(SENT, message_id=f"console-{self.count}")

    def digest_parts(self, digest: Digest) -> list[DigestPart]:
        return digest_messages(digest)

    async def send_digest(self, address: str, payload: str) -> SendResult:
        self.count += 1
        self.stream.write("\n" + payload + "\n")
        self.stream.flush()
        return SendResult(SENT, message_id=f"console-{self.count}")

    async def notify(self, address: str, text: str) -> SendResult:
        self.count += 1
        self.stream.write("\n" + text + "\n")
        self.stream.flush()
        return SendResult(SENT, message_id=f"console-{self.count}")

    async def edit(self, address: str, message_id: str, alert: Alert) -> SendResult:
        """A terminal cannot change printed text: the alert is printed again, marked as an
        update of the earlier one."""
        label = t(alert.language, "alert.updated")
        self.stream.write(
            f"\n[{label}: {message_id}]\n" + to_console(alert, color=self.color) + "\n"
        )
        self.stream.flush()
        return SendResult(SENT, message_id=message_id)

    async def reply(self, address: str, message_id: str, alert: Alert) -> SendResult:
        self.count += 1
        label = t(alert.language, "alert.in_reply_to")
        self.stream.write(
            f"\n[{label} {message_id}]\n" + to_console(alert, color=self.color) + "\n"
        )
        self.stream.flush()
        return SendResult(SENT, message_id=f"console-{self.count}")


class ConsolePlatform:
    name = PLATFORM

    def __init__(self, stream: TextIO, color: bool = False) -> None:
        self.sender = ConsoleSender(stream, color)

    async def start(self, service: object, *, listen: bool) -> None:
        return None

    async def stop(self) -> None:
        return None


def console_text(db: Store, settings: Settings, key: str, /, **params: object) -> str:
    """The console's own message ``console.KEY`` in the console chat's language."""
    row = db.chats.get(PLATFORM, CHAT)
    lang = resolve_language(row.language if row else settings.default_language)
    return catalog().t(lang, f"console.{key}", **params)


def console_command(
    db: Store, text: str, settings: Settings, chat: str = CHAT, user: str = "demo"
) -> Reply:
    """Run one typed command for the console chat."""
    ctx = CommandContext(platform=PLATFORM, chat_address=chat, user_id=user, chat_title="terminal")
    return execute(db, ctx, text, settings)
