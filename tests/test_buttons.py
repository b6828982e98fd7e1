"""Alert buttons end to end: the real python-telegram-bot (CallbackQueryHandler) over real
HTTP to the fake Bot API, the real store; what the fake received (keyboards, answers) and the
DB rows after each press, its undo, a forged or stale button and failures."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

import store.actions as actions_sql
from bot.alerts.i18n import Catalog
from bot.ingest.dedup import save_articles
from handlers import actions
from handlers.actions import Button, keyboard_for, parse_data
from store.models import Chat, Keyword
from tests.fakes.telegram_api import Failure
from tests.support import eval_article
from tests.test_telegram import (
    KIM_RUDAL,
    RUDAL_ONLY,
    Kabar,
    add_articles,
    follow,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type:DeprecationWarning")
T = Catalog("handlers")


def subscribed(kabar: Kabar, address: str) -> list[str]:
    chat = kabar.db.chats.get("telegram", address)
    assert chat is not None
    return [k.query for k in kabar.db.chats.keywords(chat)]


async def press(kabar: Kabar, message: dict[str, Any], data: str, **kwargs: Any) -> str:
    """Press a button and wait for the answer; its text."""
    before = len(kabar.fake.answers)
    kabar.fake.press(message, data, **kwargs)
    await kabar.fake.wait_for(lambda: len(kabar.fake.answers) > before)
    return str(kabar.fake.answers[-1].get("text", ""))


async def test_alert_keyboard_press_and_undo(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    follow(db, 1001)  # start: every keyword, follow_all
    add_articles(db, KIM_RUDAL)
    await kabar.check()
    [alert] = kabar.alerts(1001)
    buttons = fake.keyboard(alert)
    assert [label for label, _ in buttons] == ["🔕 Kim", "🔕 rudal", "⏸ 24 jam"]
    assert all(len(data.encode()) <= 64 and "Kim" not in data for _, data in buttons)

    answer = await press(kabar, alert, buttons[0][1], user_id=1001)
    assert answer == T.t("id", "button.muted", keyword="Kim")
    await fake.wait_for(lambda: fake.keyboard(alert)[0][0] == "↩ Urungkan")
    assert len(fake.keyboard(alert)) == 1
    assert "Kim" not in subscribed(kabar, "1001")
    chat = db.chats.get("telegram", "1001")
    assert chat is not None and not chat.follow_all
    assert db.audit.entries(1)[0].action == "button.mute"

    answer = await press(kabar, alert, fake.keyboard(alert)[0][1], user_id=1001)
    assert answer == T.t("id", "button.undone", keyword="Kim")
    await fake.wait_for(lambda: fake.keyboard(alert) == buttons)  # the keyboard as it was
    assert "Kim" in subscribed(kabar, "1001")
    chat = db.chats.get("telegram", "1001")
    assert chat is not None and chat.follow_all  # exactly what the press changed
    assert db.audit.entries(1)[0].action == "button.undo"

    # an undo pressed twice (two clients) changes nothing the second time
    before = subscribed(kabar, "1001")
    undo = "kb:u:1"
    assert await press(kabar, alert, undo, user_id=1001) == T.t("id", "button.already_undone")
    assert subscribed(kabar, "1001") == before


async def test_english_chat_and_at_most_three_buttons(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    for query in ("Korea", "balistik"):
        db.keywords.add(query, "test")
    follow(db, 1002)
    chat = db.chats.get("telegram", "1002")
    assert chat is not None
    db.chats.set_language(chat, "en")
    add_articles(db, KIM_RUDAL)  # Kim, rudal, Korea, balistik
    await kabar.check()
    [alert] = kabar.alerts(1002)
    assert [label for label, _ in fake.keyboard(alert)][3:] == ["⏸ 24 h"]  # 3 🔕, then ⏸
    assert len(fake.keyboard(alert)) == 4
    answer = await press(kabar, alert, fake.keyboard(alert)[1][1], user_id=1002)
    assert answer == "Unsubscribed from rudal."
    await fake.wait_for(lambda: fake.keyboard(alert) == [("↩ Undo", "kb:u:1")])


async def test_forged_and_stale_buttons_change_nothing(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    follow(db, 1003)
    follow(db, 1004)
    add_articles(db, KIM_RUDAL)
    await kabar.check()
    [alert3] = kabar.alerts(1003)
    [alert4] = kabar.alerts(1004)
    other = fake.keyboard(alert4)[0][1]  # chat 1004's button, pressed in chat 1003
    stale = T.t("id", "button.stale")
    for data in (other, "kb:m:1:99999", "kb:u:424242", "kb:x:1", "kb:m:abc:1"):
        assert await press(kabar, alert3, data, user_id=1003) == stale
    everything = sorted(k.query for k in db.keywords.all())
    assert sorted(subscribed(kabar, "1003")) == everything
    assert sorted(subscribed(kabar, "1004")) == everything
    assert fake.markup_edits == []  # no keyboard changed
    # an undo of chat 1004's press, pressed in chat 1003
    await press(kabar, alert4, fake.keyboard(alert4)[0][1], user_id=1004)
    undo_1004 = "kb:u:1"
    assert await press(kabar, alert3, undo_1004, user_id=1003) == stale
    assert "Kim" not in subscribed(kabar, "1004")


async def test_group_member_may_press_channel_reader_may_not(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    follow(db, -2001)
    follow(db, -1005)
    add_articles(db, RUDAL_ONLY)
    await kabar.check()
    [group_alert] = kabar.alerts(-2001)
    await press(kabar, group_alert, fake.keyboard(group_alert)[0][1], user_id=77)
    assert "rudal" not in subscribed(kabar, "-2001")

    [channel_alert] = kabar.alerts(-1005)
    data = fake.keyboard(channel_alert)[0][1]
    answer = await press(kabar, channel_alert, data, user_id=55, chat_type="channel")
    assert answer == T.t("id", "button.not_allowed")
    assert "rudal" in subscribed(kabar, "-1005")
    fake.channel_admins.add((-1005, 56))
    answer = await press(kabar, channel_alert, data, user_id=56, chat_type="channel")
    assert answer == T.t("id", "button.muted", keyword="rudal")
    assert "rudal" not in subscribed(kabar, "-1005")


async def test_platform_errors_on_answer_and_edit_keep_the_change(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    follow(db, 1006)
    add_articles(db, RUDAL_ONLY)
    await kabar.check()
    [alert] = kabar.alerts(1006)
    data = fake.keyboard(alert)[0][1]
    fake.answer_failures.append(Failure(400, "Bad Request: query is too old"))
    edits = len(fake.markup_edits)
    fake.press(alert, data, user_id=1006)
    await fake.wait_for(lambda: len(fake.markup_edits) > edits)  # the keyboard still turns
    assert "rudal" not in subscribed(kabar, "1006")
    assert fake.keyboard(alert)[0][0] == "↩ Urungkan"

    fake.markup_failures.append(Failure(400, "Bad Request: message to edit not found"))
    answer = await press(kabar, alert, fake.keyboard(alert)[0][1], user_id=1006)
    assert answer == T.t("id", "button.undone", keyword="rudal")  # answered; the undo held
    assert "rudal" in subscribed(kabar, "1006")


async def test_store_failure_on_press_changes_nothing(
    kabar: Kabar, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, db = kabar.fake, kabar.db
    follow(db, 1007)
    add_articles(db, RUDAL_ONLY)
    await kabar.check()
    [alert] = kabar.alerts(1007)

    def failing_audit(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(actions_sql, "record_audit", failing_audit)
    answer = await press(kabar, alert, fake.keyboard(alert)[0][1], user_id=1007)
    assert answer == T.t("id", "error.internal")
    assert "rudal" in subscribed(kabar, "1007")  # the delete was rolled back
    chat = db.chats.get("telegram", "1007")
    assert chat is not None and chat.follow_all
    assert fake.markup_edits == []
    assert db.conn.execute("SELECT count(*) FROM chat_actions").fetchone()[0] == 0


async def test_story_edit_keeps_the_keyboard(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    follow(db, 1008)
    save_articles(db, [eval_article("s01a", "?a=1&b=2", "s01a.json")])
    await kabar.check()
    [alert] = kabar.alerts(1008)
    before = fake.keyboard(alert)
    assert before
    save_articles(db, [eval_article("s01b", "?a=1&b=2", "s01b.json")])  # the same story
    await kabar.check()
    [edit] = fake.edits
    assert "Juga diberitakan" in alert["text"]
    assert edit["reply_markup"] and fake.keyboard(alert) == before


def test_keyboard_is_built_from_a_list_of_actions() -> None:
    chat = Chat(7, "telegram", "1", "", "en", False, True)
    keywords = [Keyword(i, f"k{i}") for i in range(1, 6)]
    assert [b.data for b in keyboard_for(chat, keywords)] == [
        "kb:m:7:1",
        "kb:m:7:2",
        "kb:m:7:3",
        "kb:p:7",
    ]
    assert keyboard_for(chat, keywords)[-1] == Button("⏸ 24 h", "kb:p:7")

    def later(chat: Chat, kws: object, language: str) -> list[Button]:
        return [Button("later", f"kb:x:{chat.id}")]

    actions.ALERT_ACTIONS.append(later)
    try:
        assert keyboard_for(chat, keywords)[-1] == Button("later", "kb:x:7")
    finally:
        actions.ALERT_ACTIONS.remove(later)
    assert parse_data("kb:p:7") == ("p", (7,)) and parse_data("kb:p:7:1") is None
    assert parse_data("kb:m:7:1") == ("m", (7, 1))
    assert parse_data("kb:u:3") == ("u", (3,))
    assert parse_data("kb:m:7") is None and parse_data("zz:m:1:2") is None
    long = Keyword(10**30, "x" * 100)
    assert all(
        len(b.data) <= 64 for b in keyboard_for(Chat(10**30, "", "", "", "id", 0, 1), [long])
    )
