"""Feed health: a feed failing for more than ``FAILING_NOTICE_HOURS`` is reported once to the
admins, and once more when it recovers.

Who is told: the chat the feed was added from, else each admin's private chat that Kabar knows
(a chat row whose address is the admin's user id: a Telegram private chat). The notice is
remembered in the feed row (``failure_notified_at``) only once a message went out, so a
platform that is down is tried again at the next check. Senders that can send a plain notice
have ``notify(address, text)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.alerts.i18n import t
from bot.config import Config
from bot.delivery.worker import SENT
from bot.ingest.urls import redact_url
from store import Store
from store.clock import from_db, now_db, utcnow
from store.models import Chat, FeedRow

log = logging.getLogger("kabar.health")

FAILING_NOTICE_HOURS = 24


@dataclass(frozen=True)
class Notice:
    feed: str  # the feed URL (redacted)
    kind: str  # "failing" or "recovered"
    targets: tuple[tuple[str, str], ...]  # (platform, address) it was sent to


def admin_ids(config: Config) -> dict[str, tuple[str, ...]]:
    return {
        "telegram": tuple(str(a) for a in (config.telegram.admins if config.telegram else ())),
        "slack": tuple(config.slack.admins if config.slack else ()),
    }


def recipients(db: Store, config: Config, feed: FeedRow) -> list[Chat]:
    """The chat that added the feed, else every admin's known private chat."""
    if feed.added_chat_id is not None:
        chat = db.chats.get_by_id(feed.added_chat_id)
        if chat is not None and chat.active:
            return [chat]
    chats = []
    for platform, admins in admin_ids(config).items():
        for admin in admins:
            chat = db.chats.get(platform, admin)
            if chat is not None and chat.active:
                chats.append(chat)
    return chats


def due(feed: FeedRow, now: datetime) -> str | None:
    """ "failing", "recovered" or None: which notice the feed's row calls for now."""
    since = from_db(feed.failing_since)
    if feed.failure_notified_at is None:
        if since is not None and now - since > timedelta(hours=FAILING_NOTICE_HOURS):
            return "failing"
        return None
    return "recovered" if since is None else None


async def check_feed_health(
    db: Store, config: Config, senders: Mapping[str, object], now: datetime | None = None
) -> list[Notice]:
    """Send every notice that is due; the notices sent."""
    now = now or utcnow()
    sent: list[Notice] = []
    for feed in db.feeds.all():
        kind = due(feed, now)
        if kind is None:
            continue
        targets = []
        for chat in recipients(db, config, feed):
            notify = getattr(senders.get(chat.platform), "notify", None)
            if notify is None:
                continue
            text = t(
                chat.language,
                f"feed_health.{kind}",
                name=feed.name or "-",
                url=redact_url(feed.url),
                hours=FAILING_NOTICE_HOURS,
                error=feed.last_error or "-",
            )
            result = await notify(chat.address, text)
            if result.outcome == SENT:
                targets.append((chat.platform, chat.address))
            else:
                log.warning(
                    "feed health notice to %s %s failed: %s",
                    chat.platform,
                    chat.address,
                    result.error,
                )
        if targets:
            db.feeds.set_failure_notified(feed.url, now_db() if kind == "failing" else None)
            sent.append(Notice(redact_url(feed.url), kind, tuple(targets)))
            log.info("feed %s %s: told %d chat(s)", redact_url(feed.url), kind, len(targets))
    return sent
