"""Story alerts on Slack, through slack_sdk and the fake Web API: one message per (story,
channel); later articles update it (chat.update) with "Also reported by:" and new keywords;
a refused update (message_not_found, cant_update_message) becomes a reply in its thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app.service import Service
from bot.config import config_from_dict
from bot.ingest.dedup import save_articles
from handlers.slack.adapter import SlackSender
from store import open_store
from store.models import ArticleIn
from tests.fakes.slack_api import FakeSlack, cant_update_message, message_not_found
from tests.support import drain, eval_article

CHANNEL = "C0STORY"


def article(key: str) -> ArticleIn:
    return eval_article(key)


class Desk:
    def __init__(self, db, service: Service, fake: FakeSlack) -> None:
        self.db, self.service, self.fake = db, service, fake

    def ingest(self, *keys: str) -> None:
        save_articles(self.db, [article(k) for k in keys])

    async def check(self) -> None:
        await self.service.match()
        await drain(self.db, self.service.deliver)

    def text(self) -> str:
        """The channel's alert as shown: its blocks' texts."""
        [message] = [m for m in self.fake.messages_to(CHANNEL) if not m["thread_ts"]]
        return "\n".join(b["text"]["text"] for b in message["blocks"] if "text" in b)


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    fake = await FakeSlack("xoxb-test").start()
    config = config_from_dict(
        {
            "store": {"path": str(tmp_path / "k.db")},
            "slack": {"bot_token": "xoxb-test", "signing_secret": "s", "base_url": fake.base_url},
        },
        env={},
    )
    db = open_store(tmp_path / "k.db")
    db.keywords.seed(config.keywords)
    chat = db.chats.ensure("slack", CHANNEL, "en")
    db.chats.subscribe(chat, db.keywords.all(), follow_all=True)
    sender = SlackSender("xoxb-test", fake.base_url)
    service = Service(config, db, {"slack": sender})
    yield Desk(db, service, fake)
    await sender.close()
    await service.close()
    db.close()
    await fake.stop()


async def test_later_articles_update_the_first_message(desk: Desk) -> None:
    desk.ingest("s01c")
    await desk.check()
    assert "Also reported by" not in desk.text()
    desk.ingest("s01d", "s01a")
    await desk.check()
    assert len(desk.fake.messages_to(CHANNEL)) == 1 and len(desk.fake.updates) == 1
    text = desk.text()
    assert (
        "Also reported by: <https://news.example/s01d|Global Dispatch>,"
        " <https://news.example/s01a|Warta Nusantara>"
    ) in text
    statuses = desk.db.conn.execute("SELECT kind, status, message_id FROM outbox").fetchall()
    ts = desk.fake.messages_to(CHANNEL)[0]["ts"]
    assert statuses == [("send", "sent", ts), ("edit", "sent", ts), ("edit", "sent", ts)]


@pytest.mark.parametrize("refusal", [message_not_found, cant_update_message])
async def test_a_refused_update_becomes_a_reply_in_the_thread(desk: Desk, refusal) -> None:
    desk.ingest("s01c")
    await desk.check()
    [first] = desk.fake.messages_to(CHANNEL)
    desk.fake.fail_updates(refusal())
    desk.ingest("s01d")
    await desk.check()
    first_again, reply = desk.fake.messages_to(CHANNEL)
    assert first_again["ts"] == first["ts"] and "Also reported by" not in desk.text()
    assert reply["thread_ts"] == first["ts"]
    assert reply["text"].startswith("Also reported by:") and "Global Dispatch" in reply["text"]


async def test_a_deleted_message_gets_a_thread_reply(desk: Desk) -> None:
    desk.ingest("s01c")
    await desk.check()
    [first] = desk.fake.messages_to(CHANNEL)
    desk.fake.delete(CHANNEL, first["ts"])
    desk.ingest("s01d")
    await desk.check()
    [reply] = desk.fake.messages_to(CHANNEL)
    assert reply["thread_ts"] == first["ts"]


async def test_an_article_cannot_ping_the_channel_through_the_sources_line(desk: Desk) -> None:
    desk.ingest("s01c")
    await desk.check()
    evil = replace(eval_article("s01d"), url="", lang="en", source="<!channel> *Bold* & co")
    save_articles(desk.db, [evil])
    await desk.check()
    text = desk.text()
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "&amp; co" in text
