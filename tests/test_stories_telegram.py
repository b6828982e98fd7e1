"""Story alerts on Telegram, through python-telegram-bot and the fake Bot API: one message per
(story, chat), later articles edit it (editMessageText) with "Juga diberitakan:" and new
keywords, coalesced; a refused edit becomes a reply; no second message across re-ingest, a
crash mid-edit, or two instances; a chat subscribing later still gets one alert."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app.service import Service
from bot.ingest.dedup import save_articles
from handlers.telegram.adapter import TelegramSender
from store import open_store
from store.models import ArticleIn
from tests.fakes.telegram_api import FakeTelegram, cant_edit, edit_not_found
from tests.support import drain, eval_article
from tests.test_telegram import Kabar, follow, start_kabar

pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type:DeprecationWarning")

CHAT = 1001


def story_article(key: str) -> ArticleIn:
    return eval_article(key, "?a=1&b=2", f"{key}.json")


def ingest(db, *keys: str) -> list[int]:
    return save_articles(db, [story_article(k) for k in keys]).new_ids


@pytest.fixture
def kabar(kabar: Kabar) -> Kabar:
    """The shared fixture, its chat following every keyword."""
    follow(kabar.db, CHAT)
    return kabar


def statuses(db) -> list[tuple[str, str, str | None]]:
    return db.conn.execute("SELECT kind, status, message_id FROM outbox ORDER BY id").fetchall()


async def test_later_articles_edit_the_first_alert_in_place(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    ingest(db, "s01a")
    await kabar.check()
    [alert] = kabar.alerts(CHAT)
    assert "Juga diberitakan" not in alert["text"]
    ingest(db, "s01b")
    await kabar.check()
    assert len(fake.messages_to(CHAT)) == 1  # no second message
    [edit] = fake.edits
    assert edit["message_id"] == alert["message_id"] and edit["parse_mode"] == "HTML"
    text = fake.messages_to(CHAT)[0]["text"]
    assert (
        'Juga diberitakan: <a href="https://news.example/s01b?a=1&amp;b=2">Kabar Harian</a>'
    ) in text
    # two more outlets arriving together: one edit naming all three others
    ingest(db, "s01c", "s01d")
    await kabar.check()
    assert len(fake.messages_to(CHAT)) == 1 and len(fake.edits) == 2
    text = fake.messages_to(CHAT)[0]["text"]
    line = next(x for x in text.splitlines() if x.startswith("Juga diberitakan:"))
    for name in ("Kabar Harian", "Asia Wire", "Global Dispatch"):
        assert name in line
    assert "Warta Nusantara" not in line  # the first outlet is the alert's own source
    message_id = str(alert["message_id"])
    assert statuses(db) == [("send", "sent", message_id)] + [("edit", "sent", message_id)] * 3


async def test_articles_arriving_together_make_one_message(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    ingest(db, "s01a", "s01b", "s01c")
    await kabar.check()
    [alert] = fake.messages_to(CHAT)
    assert fake.edits == []
    assert "Kabar Harian" in alert["text"] and "Asia Wire" in alert["text"]
    assert {s for _, s, _ in statuses(db)} == {"sent"}


async def test_newly_matched_keywords_join_the_keyword_line(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    # s02a (English) mentions Kim and missiles, not "rudal"; the Indonesian s02c says rudal
    ingest(db, "s02a")
    await kabar.check()
    first = fake.messages_to(CHAT)[0]["text"]
    before = next(x for x in first.splitlines() if x.startswith("Kata kunci:"))
    assert "rudal" not in before
    ingest(db, "s02c")
    await kabar.check()
    assert len(fake.messages_to(CHAT)) == 1
    text = fake.messages_to(CHAT)[0]["text"]
    after = next(x for x in text.splitlines() if x.startswith("Kata kunci:"))
    assert after.startswith(before + ", ") and "rudal" in after


@pytest.mark.parametrize("refusal", [cant_edit, edit_not_found])
async def test_a_refused_edit_becomes_a_reply_to_the_first_alert(kabar: Kabar, refusal) -> None:
    fake, db = kabar.fake, kabar.db
    ingest(db, "s01a")
    await kabar.check()
    [alert] = fake.messages_to(CHAT)
    fake.fail_edits(refusal())
    ingest(db, "s01b")
    await kabar.check()
    first, reply = fake.messages_to(CHAT)
    assert first["text"] == alert["text"]  # unchanged
    assert reply["reply_parameters"]["message_id"] == alert["message_id"]
    assert reply["text"].startswith("Juga diberitakan:") and "Kabar Harian" in reply["text"]
    assert len(reply["text"]) < 400  # short
    assert [k for k, _, _ in statuses(db)] == ["send", "reply"]
    assert {s for _, s, _ in statuses(db)} == {"sent"}


async def test_a_deleted_alert_is_answered_with_a_reply(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    ingest(db, "s01a")
    await kabar.check()
    [alert] = fake.messages_to(CHAT)
    fake.delete(CHAT, alert["message_id"])
    ingest(db, "s01b")
    await kabar.check()
    [reply] = fake.messages_to(CHAT)
    assert reply["reply_parameters"]["message_id"] == alert["message_id"]


async def test_reingesting_the_story_sends_and_edits_nothing_more(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    ingest(db, "s01a")
    await kabar.check()
    ingest(db, "s01b")
    await kabar.check()
    calls = len(fake.calls)
    assert ingest(db, "s01a", "s01b") == []
    await kabar.check()
    assert len(fake.messages_to(CHAT)) == 1 and len(fake.edits) == 1
    assert len(fake.calls) == calls


async def test_an_edit_lost_to_a_crash_is_redone_never_a_second_message(
    kabar: Kabar, tmp_path: Path
) -> None:
    fake, db = kabar.fake, kabar.db
    ingest(db, "s01a")
    await kabar.check()
    ingest(db, "s01b")
    await kabar.service.match()
    # another instance claims the edit, makes it, and dies before recording it
    dying = open_store(tmp_path / "kabar.db")
    [claimed] = dying.outbox.claim_due(10, lease_seconds=0.5)
    assert claimed.kind == "edit" and claimed.head_message_id
    alert = await kabar.service.deliverer._story_alert(claimed, db.articles.get(claimed.article_id))
    assert (
        await kabar.platform.sender.edit(str(CHAT), claimed.head_message_id, alert)
    ).outcome == "sent"
    dying.close()
    assert statuses(db)[1][1] == "sending"
    await asyncio.sleep(0.6)  # the dead instance's lease runs out
    await kabar.check()
    assert len(fake.messages_to(CHAT)) == 1  # redone as an edit ("not modified"), no message
    assert statuses(db)[1] == ("edit", "sent", claimed.head_message_id)
    assert sum(1 for m, _ in fake.calls if m == "editmessagetext") == 2


async def test_two_instances_send_one_message_per_story(fake: FakeTelegram, tmp_path: Path) -> None:
    one = await start_kabar(fake, tmp_path)
    try:
        follow(one.db, CHAT)
        other_db = open_store(tmp_path / "kabar.db")
        other = Service(
            one.config, other_db, {"telegram": TelegramSender(one.platform.sender.bot, other_db)}
        )
        ingest(one.db, "s01a")
        await asyncio.gather(one.check(), other.match_and_deliver())
        ingest(other_db, "s01b", "s01c")
        await asyncio.gather(one.check(), drain(other_db, other.deliver))
        ingest(one.db, "s01d")
        await asyncio.gather(drain(one.db, one.service.deliver), other.match_and_deliver())
        await one.check()
        [message] = fake.messages_to(CHAT)
        for name in ("Kabar Harian", "Asia Wire", "Global Dispatch"):
            assert name in message["text"]
        await other.close()
        other_db.close()
    finally:
        await one.close()


async def test_a_chat_that_subscribes_later_still_gets_one_alert(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    ingest(db, "s01a")
    await kabar.check()
    follow(db, 2002)
    ingest(db, "s01b")
    await kabar.check()
    [late] = fake.messages_to(2002)
    assert "Kata kunci:" in late["text"]
    assert len(fake.messages_to(CHAT)) == 1 and len(fake.edits) == 1
    ingest(db, "s01c")
    await kabar.check()
    assert len(fake.messages_to(2002)) == 1 and len(fake.edits) == 3
