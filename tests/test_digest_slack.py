"""Digests in Slack end to end: slack-bolt / slack-sdk over HTTP to the fake Slack Web API
(which refuses what Slack refuses: more than 50 blocks, a header over 150 characters, a section
over 3000, a text over 40000). A long digest goes as several chat.postMessage calls within those
limits, each item exactly once, escaped; a message Slack refuses as blocks goes as plain text
with every item it carries; one refused as plain text too is recorded as failed, alone."""

from __future__ import annotations

import json
import random
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app.service import Service
from bot.ingest.dedup import save_articles
from store.models import ArticleIn
from tests.fakes.slack_api import (
    HEADER_TEXT_LIMIT,
    MAX_BLOCKS,
    SECTION_TEXT_LIMIT,
    TEXT_LIMIT,
    FakeSlack,
    api_error,
)
from tests.test_slack import CHANNEL, TOKEN, Bot, started_bot

ITEMS = 60
NUMBER = re.compile(r"Laporan-(\d{3})")
WORDS = [a + b + c for a in "bdgkmpst" for b in "aiue" for c in ("lan", "rok", "mis", "tang")]
BASE = datetime(2025, 1, 6, tzinfo=UTC)


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Bot]:
    fake = await FakeSlack(TOKEN).start()
    async with started_bot(tmp_path, fake) as started:
        yield started
    await fake.stop()


def hostile_article(n: int) -> ArticleIn:
    words = random.Random(n)
    return ArticleIn(
        title=f"Laporan-{n:03d} <!channel> *tebal* _miring_ & " + " ".join(words.sample(WORDS, 14)),
        text="Uji rudal: " + " ".join(words.sample(WORDS, 30)),  # its own story
        url=f"https://berita.example/{n}?a=1&b=<2>",
        source="tes",
        lang="id",
        published=BASE + timedelta(days=3 * n),
    )


async def held_digest(bot: Bot) -> Service:
    """The channel in hourly digests with ITEMS alerts waiting, a digest opened by `digest now`."""
    await bot.command("start")
    reply = await bot.reply("digest hourly")
    assert "jam" in reply["text"].lower(), reply
    save_articles(bot.db, [hostile_article(n) for n in range(ITEMS)])
    service = Service(bot.config, bot.db, {"slack": bot.platform.sender})
    await service.match()
    assert bot.db.outbox.counts() == {"held": ITEMS}
    assert bot.fake.messages_to(CHANNEL) == []  # nothing at once in digest mode
    reply = await bot.reply("digest now")
    assert str(ITEMS) in reply["text"], reply
    return service


def section_texts(message: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")


def numbers(text: str) -> list[int]:
    return [int(n) for n in NUMBER.findall(text)]


async def test_a_long_digest_goes_as_several_messages_within_slack_limits(slack: Bot) -> None:
    bot = slack
    service = await held_digest(bot)
    await service.modes.run()
    await service.close()
    messages = bot.fake.messages_to(CHANNEL)
    assert len(messages) >= 3 and bot.fake.refused_blocks == 0
    for n, message in enumerate(messages):
        blocks = message["blocks"]
        assert 2 <= len(blocks) <= MAX_BLOCKS
        header = blocks[0]["text"]["text"]
        assert blocks[0]["type"] == "header" and len(header) <= HEADER_TEXT_LIMIT
        assert header.startswith("Ringkasan Kabar — ")
        assert header.endswith(f"({n + 1})") == (n > 0)  # numbered from the second message on
        assert all(len(b["text"]["text"]) <= SECTION_TEXT_LIMIT for b in blocks[1:])
        assert len(message["text"]) <= TEXT_LIMIT
    listed = [n for m in messages for n in numbers(section_texts(m))]
    assert sorted(listed) == list(range(ITEMS))  # each item exactly once, in one message
    assert sum(section_texts(m).count("• ") for m in messages) == ITEMS
    assert f"{ITEMS} berita" in section_texts(messages[0])
    everything = json.dumps([m["blocks"] for m in messages], ensure_ascii=False)
    assert "<!channel>" not in everything and "&lt;!channel&gt;" in everything
    assert "*tebal*" not in everything  # article text cannot format
    assert "<https://berita.example/1?a=1&amp;b=%3C2%3E|" in everything
    assert bot.db.outbox.counts() == {"sent": ITEMS}
    assert bot.db.digests.counts() == {"sent": 1}


async def test_a_message_refused_as_blocks_goes_as_plain_text_with_all_its_items(
    slack: Bot,
) -> None:
    bot = slack
    service = await held_digest(bot)
    bot.fake.fail(api_error("invalid_blocks"), channel=CHANNEL)  # the first message's blocks
    await service.modes.run()
    await service.close()
    messages = bot.fake.messages_to(CHANNEL)
    plain = [m for m in messages if not m["blocks"]]
    assert len(plain) == 1 and len(messages) >= 3
    assert plain[0] is messages[0] and plain[0]["text"].startswith("Ringkasan Kabar — ")
    attempts = [a for a in bot.fake.attempts if a.get("channel") == CHANNEL]
    raw = attempts[0]["blocks"]
    refused = json.loads(raw) if isinstance(raw, str) else raw
    first_items = numbers(section_texts({"blocks": refused}))
    assert first_items and numbers(plain[0]["text"]) == first_items  # not one item cut off
    listed = numbers(plain[0]["text"]) + [
        n for m in messages[1:] for n in numbers(section_texts(m))
    ]
    assert sorted(listed) == list(range(ITEMS))
    assert bot.db.outbox.counts() == {"sent": ITEMS}
    # a full message (header 150, section 3000): its plain text keeps the section's last item
    section = "• " + "x" * (SECTION_TEXT_LIMIT - 14) + " Laporan-999"
    assert len(section) == SECTION_TEXT_LIMIT
    payload = {
        "text": "Ringkasan",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "R" * HEADER_TEXT_LIMIT}},
            {"type": "section", "text": {"type": "mrkdwn", "text": section, "verbatim": True}},
        ],
    }
    bot.fake.fail(api_error("invalid_blocks"), channel=CHANNEL)
    result = await bot.platform.sender.send_digest(CHANNEL, json.dumps(payload))
    assert result.outcome == "sent"
    last = bot.fake.messages_to(CHANNEL)[-1]
    assert last["blocks"] == [] and last["text"].endswith("Laporan-999")


async def test_a_message_refused_as_blocks_and_as_text_fails_alone(slack: Bot) -> None:
    bot = slack
    service = await held_digest(bot)
    bot.fake.fail(api_error("invalid_blocks"), api_error("invalid_blocks"), channel=CHANNEL)
    await service.modes.run()
    await service.close()
    messages = bot.fake.messages_to(CHANNEL)
    listed = [n for m in messages for n in numbers(section_texts(m))]
    assert len(set(listed)) == len(listed) and 0 < len(listed) < ITEMS  # the rest, once each
    failed = ITEMS - len(listed)
    assert bot.db.outbox.counts() == {"sent": len(listed), "failed": failed}
    assert bot.db.digests.counts() == {"sent": 1}  # done: the refused message is not retried
