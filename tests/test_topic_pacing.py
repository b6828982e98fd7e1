"""Forum topics are paced as their group: Telegram counts 1 message/s per chat and 20/min per
group on the chat, whatever its topic, so the pacing target of ``<chat>/<thread>`` is
``<chat>`` (the Telegram sender's ``pacing_key``): in the process (the Pacer's windows and
blocks, alerts, digests and command replies alike) and in the store's shared slots. Through
the limit-enforcing fake Bot API (it counts per ``chat_id``, not per topic) and on a fake
clock for the minute window."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import Bot

from bot.delivery.pacing import Pacer
from handlers.telegram.adapter import TelegramSender
from store import open_store
from tests.fakes.telegram_api import FakeTelegram
from tests.test_pacing import Clock, max_in_window, send_times
from tests.test_telegram import KIM_RUDAL, PUTIN, TOKEN, Kabar, add_articles, start_kabar

pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type:DeprecationWarning")
FORUM = -100700
TOPICS = (3, 4, 5)


def topic_targets(kabar: Kabar) -> list[str]:
    """The forum's General topic (the chat) and three topics, each following every keyword."""
    addresses = [str(FORUM), *(f"{FORUM}/{t}" for t in TOPICS)]
    for address in addresses:
        chat = kabar.db.chats.ensure("telegram", address, "id")
        kabar.db.chats.subscribe(chat, kabar.db.keywords.all(), follow_all=True)
    return addresses


def in_thread(fake: FakeTelegram, thread: int | None) -> list[dict]:
    return [m for m in fake.messages_to(FORUM) if m.get("message_thread_id") == thread]


async def test_busy_topics_of_one_group_keep_the_group_limits(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    fake.enforce_limits()
    kabar = await start_kabar(fake, tmp_path, listen=False)
    try:
        topic_targets(kabar)
        add_articles(kabar.db, KIM_RUDAL, PUTIN)
        await kabar.check()
    finally:
        await kabar.close()
    assert fake.violations == 0, fake.violation_kinds
    assert len(fake.messages_to(FORUM)) == 8  # every alert, each once
    for thread in (None, *TOPICS):
        assert len(in_thread(fake, thread)) == 2
    db = open_store(tmp_path / "kabar.db")
    assert db.outbox.counts() == {"sent": 8}
    # the store's shared slots count the group, never a topic
    targets = {row[0] for row in db.conn.execute("SELECT DISTINCT target FROM pacing_slots")}
    assert targets == {str(FORUM)}
    db.close()


async def test_a_topics_digest_and_other_topics_alerts_share_the_group(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    fake.enforce_limits()
    kabar = await start_kabar(fake, tmp_path, listen=False)
    try:
        db = kabar.db
        topic_targets(kabar)
        digest = db.chats.get("telegram", f"{FORUM}/{TOPICS[0]}")
        assert digest is not None
        db.chats.set_digest(digest.id, "hourly", None)
        db.chats.set_hold(digest.id, True)
        add_articles(db, KIM_RUDAL, PUTIN)
        await kabar.service.match()
        assert db.digests.open(digest.id, datetime.now(UTC), None) is not None
        await asyncio.gather(kabar.check(), kabar.service.run_modes())
    finally:
        await kabar.close()
    assert fake.violations == 0, fake.violation_kinds
    [summary] = in_thread(fake, TOPICS[0])  # the digest: one message with both items
    assert "Ringkasan Kabar" in summary["text"]
    for thread in (None, *TOPICS[1:]):
        assert len(in_thread(fake, thread)) == 2


def sender(tmp_path: Path) -> TelegramSender:
    return TelegramSender(Bot(TOKEN), open_store(tmp_path / "k.db"))


def test_topics_share_the_groups_minute_window_and_blocks(tmp_path: Path) -> None:
    telegram = sender(tmp_path)
    clock = Clock()
    pacer = Pacer(telegram.global_limits, telegram.target_limits, clock, key=telegram.pacing_key)
    topics = [f"-100500/{t}" for t in range(1, 6)]
    times = send_times(pacer, clock, topics * 6)  # 30 sends to five topics of one group
    assert all(b - a >= 1.05 - 1e-9 for a, b in itertools.pairwise(times))
    assert max_in_window(times, 61.0) <= 20
    pacer.block("-100500/2", 30)  # a 429 in one topic holds the group (Telegram's is per chat)
    assert pacer.ready_at("-100500/4") >= clock.now + 30 - 1e-9
    assert pacer.ready_at("-100500") >= clock.now + 30 - 1e-9
    assert pacer.ready_at("-100600/2") < clock.now + 30  # another group is not held
    # the default (no key): an address is its own target, as before
    plain = Pacer(telegram.global_limits, telegram.target_limits, clock)
    plain.record("-100500/1")
    assert plain.target_ready_at("-100500/2") == 0.0


def test_store_slots_are_per_group(tmp_path: Path) -> None:
    telegram = sender(tmp_path)
    clock = Clock()
    one, two = (
        Pacer(
            telegram.global_limits,
            telegram.target_limits,
            clock,
            shared=open_store(tmp_path / "k.db").pacing("telegram", clock=clock),
            key=telegram.pacing_key,
        )
        for _ in range(2)
    )
    assert one.reserve("-100500/1")
    assert not two.reserve("-100500/2")  # the group's slot is in flight at the other instance
    one.settle("-100500/1")
    clock.now += 1.1
    assert two.reserve("-100500/2")
    two.settle("-100500/2")
    two.block("-100500/3", 10)  # stored for the group: the other instance sees it
    clock.now += 1.1
    assert not one.reserve("-100500/1")
