"""The pause button (``⏸ 24 jam`` / ``⏸ 24 h``) end to end: the real python-telegram-bot over
real HTTP to the fake Bot API and slack-bolt to the fake Slack API, the real store. A press
pauses the chat (or only its forum topic) as ``pause 24`` does; the alert that would have
come during the pause is not sent; the undo puts the pause back as it was (not paused: the
resume reply with the skipped count; paused before: that very pause); the next alert comes."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import handlers.commands as commands
import store.actions as actions_sql
from bot.alerts.i18n import Catalog
from bot.ingest.dedup import save_articles
from store.models import ArticleIn
from tests.fakes.slack_api import FakeSlack
from tests.test_buttons_slack import alert as slack_alert
from tests.test_buttons_slack import buttons as slack_buttons
from tests.test_buttons_slack import press as slack_press
from tests.test_slack import CHANNEL, Bot, deliver_all, started_bot
from tests.test_slack import TOKEN as SLACK_TOKEN
from tests.test_telegram import (
    KIM_ONLY,
    KIM_RUDAL,
    PUTIN,
    RUDAL_ONLY,
    Kabar,
    add_articles,
    follow,
)
from tests.test_topics import FORUM, TOPIC, alerts_in, say

pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type:DeprecationWarning")
T = Catalog("handlers")


async def press(kabar: Kabar, message: dict[str, Any], data: str, **kwargs: Any) -> str:
    before = len(kabar.fake.answers)
    kabar.fake.press(message, data, **kwargs)
    await kabar.fake.wait_for(lambda: len(kabar.fake.answers) > before)
    return str(kabar.fake.answers[-1].get("text", ""))


def pause_columns(kabar: Kabar, address: str) -> tuple[str | None, str | None]:
    row = kabar.db.conn.execute(
        "SELECT paused_until, paused_at FROM chats WHERE platform = 'telegram' AND address = ?",
        [address],
    ).fetchone()
    return row[0], row[1]


def skipped_rows(kabar: Kabar, address: str) -> int:
    return int(
        kabar.db.conn.execute(
            "SELECT count(*) FROM outbox o JOIN chats c ON c.id = o.chat_id WHERE c.address = ?"
            " AND o.status = 'skipped' AND o.last_error = 'paused'",
            [address],
        ).fetchone()[0]
    )


async def test_pause_press_skips_the_next_alert_and_undo_resumes(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    follow(db, 1101)
    add_articles(db, KIM_RUDAL)
    await kabar.check()
    [alert] = kabar.alerts(1101)
    buttons = fake.keyboard(alert)
    chat = db.chats.get("telegram", "1101")
    assert chat is not None and buttons[-1] == ("⏸ 24 jam", f"kb:p:{chat.id}")

    start = datetime.now(UTC)
    answer = await press(kabar, alert, buttons[-1][1], user_id=1101)
    end = datetime.now(UTC)
    chat = db.chats.get("telegram", "1101")
    assert chat is not None and chat.paused_until is not None
    assert start + timedelta(hours=24) <= chat.paused_until <= end + timedelta(hours=24)
    assert answer.startswith("Notifikasi dijeda sampai ") and "/resume" in answer
    await fake.wait_for(lambda: fake.keyboard(alert) == [("↩ Urungkan", "kb:u:1")])
    entry = db.audit.entries(1)[0]
    assert (entry.actor, entry.action, entry.detail) == (
        "telegram:1101",
        "button.pause",
        str(chat.id),
    )
    assert "/pause" not in answer and db.chats.keywords(chat)  # subscriptions are kept

    add_articles(db, RUDAL_ONLY)  # would have come during the pause
    await kabar.check()
    assert len(kabar.alerts(1101)) == 1 and skipped_rows(kabar, "1101") == 1

    answer = await press(kabar, alert, "kb:u:1", user_id=1101)
    assert answer == T.t("id", "resume.done", count=1, p="/")  # skipped, never sent
    await fake.wait_for(lambda: fake.keyboard(alert) == buttons)  # the keyboard as it was
    assert pause_columns(kabar, "1101") == (None, None)
    assert db.audit.entries(1)[0].action == "button.undo"
    chat = db.chats.get("telegram", "1101")
    assert chat is not None and not chat.hold

    add_articles(db, PUTIN)
    await kabar.check()
    assert len(kabar.alerts(1101)) == 2 and "Putin" in kabar.alerts(1101)[-1]["text"]
    assert skipped_rows(kabar, "1101") == 1  # the skipped one stays skipped

    # the undo pressed again (a second client) changes nothing
    assert await press(kabar, alert, "kb:u:1", user_id=1101) == T.t("id", "button.already_undone")
    assert pause_columns(kabar, "1101") == (None, None)


async def test_undo_puts_an_earlier_pause_back_exactly(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    follow(db, 1102)
    chat = db.chats.get("telegram", "1102")
    assert chat is not None
    db.chats.set_language(chat, "en")
    add_articles(db, KIM_RUDAL)
    await kabar.check()
    [alert] = kabar.alerts(1102)
    assert fake.keyboard(alert)[-1][0] == "⏸ 24 h"
    await kabar.say(1102, "/pause 72")
    before = pause_columns(kabar, "1102")
    assert before[0] is not None and before[1] is not None

    answer = await press(kabar, alert, fake.keyboard(alert)[-1][1], user_id=1102)
    assert answer.startswith("Alerts paused until ")
    after = pause_columns(kabar, "1102")
    assert after[0] is not None and after[0] < before[0]  # 24 h from now, not 72
    assert after[1] == before[1]  # the same pause: skipped matches are counted since its start

    await fake.wait_for(lambda: fake.keyboard(alert)[0][0] == "↩ Undo")
    answer = await press(kabar, alert, fake.keyboard(alert)[0][1], user_id=1102)
    assert answer.startswith("Undone: the pause is back as it was, until ")
    assert pause_columns(kabar, "1102") == before  # exactly the earlier pause
    add_articles(db, RUDAL_ONLY)
    await kabar.check()
    assert len(kabar.alerts(1102)) == 1  # still paused
    assert (await kabar.say(1102, "/resume")).startswith("Alerts are on again. 1 match was")


async def test_forged_and_stale_pause_buttons_change_nothing(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    follow(db, 1103)
    follow(db, 1104)
    add_articles(db, KIM_RUDAL)
    await kabar.check()
    [alert3] = kabar.alerts(1103)
    [alert4] = kabar.alerts(1104)
    other = fake.keyboard(alert4)[-1][1]  # chat 1104's pause, pressed in chat 1103
    stale = T.t("id", "button.stale")
    for data in (other, "kb:p:99999", "kb:p:", "kb:p:1:2"):
        assert await press(kabar, alert3, data, user_id=1103) == stale
    assert pause_columns(kabar, "1103") == (None, None)
    assert pause_columns(kabar, "1104") == (None, None)
    assert fake.markup_edits == []
    # chat 1104 pauses; its undo pressed in chat 1103 leaves 1104 paused
    await press(kabar, alert4, other, user_id=1104)
    assert await press(kabar, alert3, "kb:u:1", user_id=1103) == stale
    assert pause_columns(kabar, "1104")[0] is not None


async def test_a_failed_press_leaves_the_chat_unpaused(
    kabar: Kabar, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, db = kabar.fake, kabar.db
    follow(db, 1105)
    add_articles(db, KIM_RUDAL)
    await kabar.check()
    [alert] = kabar.alerts(1105)

    def full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    # after the pause itself was written: the whole press is rolled back
    monkeypatch.setattr(commands, "_apply_hold", full)
    answer = await press(kabar, alert, fake.keyboard(alert)[-1][1], user_id=1105)
    assert answer == T.t("id", "error.internal")
    assert pause_columns(kabar, "1105") == (None, None)
    assert db.conn.execute("SELECT count(*) FROM chat_actions").fetchone()[0] == 0
    assert fake.markup_edits == []
    monkeypatch.setattr(actions_sql, "record_audit", full)
    assert await press(kabar, alert, fake.keyboard(alert)[-1][1], user_id=1105) == answer
    assert pause_columns(kabar, "1105") == (None, None)


async def test_the_button_in_a_topic_pauses_only_that_topic(kabar: Kabar) -> None:
    db, fake = kabar.db, kabar.fake
    await say(kabar, "/start", TOPIC)
    await say(kabar, "/start", 9)
    await say(kabar, "/start")
    add_articles(db, KIM_RUDAL)
    await kabar.check()
    [alert] = alerts_in(kabar, TOPIC)
    topic = db.chats.get("telegram", f"{FORUM}/{TOPIC}")
    assert topic is not None and fake.keyboard(alert)[-1][1] == f"kb:p:{topic.id}"
    answer = await press(kabar, alert, fake.keyboard(alert)[-1][1], user_id=5)
    assert answer.startswith("Notifikasi dijeda sampai ")
    assert pause_columns(kabar, f"{FORUM}/{TOPIC}")[0] is not None
    assert pause_columns(kabar, f"{FORUM}/9") == (None, None)
    assert pause_columns(kabar, str(FORUM)) == (None, None)

    add_articles(db, RUDAL_ONLY)
    await kabar.check()
    assert len(alerts_in(kabar, TOPIC)) == 1  # paused
    assert len(alerts_in(kabar, 9)) == 2 and len(alerts_in(kabar, None)) == 2

    await fake.wait_for(lambda: fake.keyboard(alert)[0][0] == "↩ Urungkan")
    answer = await press(kabar, alert, fake.keyboard(alert)[0][1], user_id=5)
    assert answer == T.t("id", "resume.done", count=1, p="/")
    add_articles(db, KIM_ONLY[0])
    await kabar.check()
    assert len(alerts_in(kabar, TOPIC)) == 2


# --- Slack -------------------------------------------------------------------------------


@pytest.fixture
async def slack_fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack(SLACK_TOKEN).start()
    yield server
    await server.stop()


@pytest.fixture
async def slack(tmp_path: Path, slack_fake: FakeSlack) -> AsyncIterator[Bot]:
    async with started_bot(tmp_path, slack_fake) as started:
        yield started


def slack_articles(bot: Bot, title: str, text: str) -> None:
    """One new article (its own URL: the alert's article is ``berita.example/0``)."""
    url = f"https://berita.example/pause/{len(title)}-{len(text)}"
    save_articles(bot.db, [ArticleIn(text=text, title=title, url=url, source="tes", lang="id")])


async def test_slack_pause_press_and_undo(slack: Bot) -> None:
    message = await slack_alert(slack)
    before = slack_buttons(message)
    assert before[-1][0] == "⏸ 24 jam" and before[-1][1].startswith("kb:p:")
    answer = await slack_press(slack, message, before[-1][1])
    assert answer.startswith("Notifikasi dijeda sampai ")
    await slack.fake.wait_for(lambda: slack.fake.updates)
    assert slack_buttons(message) == [("↩ Urungkan", "kb:u:1")]
    chat = slack.db.chats.get("slack", CHANNEL)
    assert chat is not None and chat.paused_until is not None
    assert slack.db.audit.entries(1)[0].action == "button.pause"

    slack_articles(slack, "Putin di Kremlin", PUTIN)
    await deliver_all(slack)
    assert len(slack.fake.messages_to(CHANNEL)) == 1  # not sent during the pause

    answer = await slack_press(slack, message, "kb:u:1")
    assert answer == T.t("id", "resume.done", count=1, p="/kabar ")
    await slack.fake.wait_for(lambda: len(slack.fake.updates) == 2)
    assert slack_buttons(message) == before
    chat = slack.db.chats.get("slack", CHANNEL)
    assert chat is not None and chat.paused_until is None

    slack_articles(slack, "Rudal jatuh", RUDAL_ONLY)
    await deliver_all(slack)
    assert len(slack.fake.messages_to(CHANNEL)) == 2  # the next alert arrives
    assert "Rudal jatuh" in slack.fake.messages_to(CHANNEL)[-1]["text"]


async def test_slack_pause_answer_in_english(slack: Bot) -> None:
    message = await slack_alert(slack)
    await slack.command("lang en")
    answer = await slack_press(slack, message, slack_buttons(message)[-1][1])
    assert answer.startswith("Alerts paused until ")
