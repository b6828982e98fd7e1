"""Telegram forum topics: a command inside a topic makes that topic its own target (its own
subscriptions, language, blocked words and buttons); its replies and alerts carry
message_thread_id; the General topic is the chat itself; a closed or deleted topic makes only
that target inactive; a group -> supergroup migration keeps topic targets. Real
python-telegram-bot against the fake Bot API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.alerts.i18n import Catalog
from bot.delivery.worker import GONE
from handlers.telegram.adapter import TelegramSender, base_address, thread_id
from store import open_store
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram import (
    KIM_RUDAL,
    PUTIN,
    RUDAL_ONLY,
    TOKEN,
    USERNAME,
    Kabar,
    add_articles,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type:DeprecationWarning")
T = Catalog("handlers")
FORUM = -100500
TOPIC = 7


async def say(kabar: Kabar, text: str, thread: int | None = None, user: int = 5) -> dict[str, Any]:
    """A command in the forum (in topic ``thread``, else General); the bot's reply."""
    before = len(kabar.fake.messages_to(FORUM))
    verb, _, args = text.partition(" ")
    command = f"{verb}@{USERNAME} {args}".strip()
    kabar.fake.send_text(FORUM, command, user_id=user, thread_id=thread)
    await kabar.fake.wait_for(lambda: len(kabar.fake.messages_to(FORUM)) > before)
    return kabar.fake.messages_to(FORUM)[-1]


def alerts_in(kabar: Kabar, thread: int | None) -> list[dict[str, Any]]:
    return [m for m in kabar.alerts(FORUM) if m.get("message_thread_id") == thread]


async def test_a_topic_is_its_own_target(kabar: Kabar) -> None:
    db = kabar.db
    reply = await say(kabar, "/subscribe rudal", TOPIC)
    assert reply["message_thread_id"] == TOPIC  # the reply goes into the topic
    assert reply["text"] == T.t("id", "subscribe.done", keywords="rudal")
    topic = db.chats.get("telegram", f"{FORUM}/{TOPIC}")
    assert topic is not None and db.chats.get("telegram", str(FORUM)) is None
    assert (await say(kabar, "/lang en", TOPIC))["message_thread_id"] == TOPIC

    general = await say(kabar, "/subscribe Putin")  # the General topic: the chat itself
    assert general.get("message_thread_id") is None
    chat = db.chats.get("telegram", str(FORUM))
    assert chat is not None and chat.language == "id"
    topic = db.chats.get("telegram", f"{FORUM}/{TOPIC}")
    assert topic is not None and topic.language == "en"
    assert [k.query for k in db.chats.keywords(topic)] == ["rudal"]
    assert [k.query for k in db.chats.keywords(chat)] == ["Putin"]

    add_articles(db, RUDAL_ONLY, PUTIN)
    await kabar.check()
    [in_topic] = alerts_in(kabar, TOPIC)
    assert "Keywords: rudal" in in_topic["text"]
    [in_general] = alerts_in(kabar, None)
    assert "Kata kunci: Putin" in in_general["text"]


async def test_block_and_buttons_per_topic(kabar: Kabar) -> None:
    db, fake = kabar.db, kabar.fake
    await say(kabar, "/start", TOPIC)
    await say(kabar, "/start", 9)
    await say(kabar, "/block Kim", 9)
    add_articles(db, KIM_RUDAL)
    await kabar.check()
    assert alerts_in(kabar, 9) == []  # blocked in topic 9 only
    [alert] = alerts_in(kabar, TOPIC)
    labels = fake.keyboard(alert)
    before = len(fake.answers)
    fake.press(alert, labels[1][1], user_id=5)  # 🔕 rudal, pressed inside the topic
    await fake.wait_for(lambda: len(fake.answers) > before)
    assert fake.answers[-1]["text"] == T.t("id", "button.muted", keyword="rudal")
    topic = db.chats.get("telegram", f"{FORUM}/{TOPIC}")
    other = db.chats.get("telegram", f"{FORUM}/9")
    assert topic is not None and other is not None
    assert "rudal" not in [k.query for k in db.chats.keywords(topic)]
    assert "rudal" in [k.query for k in db.chats.keywords(other)]


async def test_a_closed_topic_makes_only_that_target_inactive(kabar: Kabar) -> None:
    db, fake = kabar.db, kabar.fake
    await say(kabar, "/start", TOPIC)
    await say(kabar, "/start")
    fake.close_topic(FORUM, TOPIC)
    add_articles(db, RUDAL_ONLY)
    await kabar.check()
    topic = db.chats.get("telegram", f"{FORUM}/{TOPIC}")
    chat = db.chats.get("telegram", str(FORUM))
    assert topic is not None and not topic.active
    assert chat is not None and chat.active
    assert len(alerts_in(kabar, None)) == 1 and alerts_in(kabar, TOPIC) == []


async def test_sender_addresses_and_topic_errors(fake: FakeTelegram, tmp_path: Path) -> None:
    assert base_address("-100500/7") == "-100500" and thread_id("-100500/7") == 7
    assert thread_id("-100500") is None and base_address("@news") == "@news"
    from telegram import Bot

    bot = Bot(TOKEN, base_url=fake.base_url)
    db = open_store(tmp_path / "k.db")
    sender = TelegramSender(bot, db)
    fake.close_topic(FORUM, TOPIC)
    async with bot:
        result = await sender.notify(f"{FORUM}/{TOPIC}", "hello")
        assert result.outcome == GONE
        sent = await sender.notify(f"{FORUM}/8", "hello")
        assert sent.message_id and fake.sent[-1]["message_thread_id"] == 8
    db.close()


def test_migration_keeps_topic_targets(tmp_path: Path) -> None:
    db = open_store(tmp_path / "k.db")
    db.chats.ensure("telegram", "-55", "id")
    db.chats.ensure("telegram", "-55/3", "en")
    db.chats.ensure("telegram", "-555/3", "en")  # another chat whose id starts alike
    assert db.chats.migrate("telegram", "-55", "-10055")
    assert db.chats.get("telegram", "-10055/3") is not None
    assert db.chats.get("telegram", "-55/3") is None
    assert db.chats.get("telegram", "-555/3") is not None
    db.close()
