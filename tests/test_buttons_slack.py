"""Alert buttons on Slack end to end: alerts carry an ``actions`` block; a press is a signed
``block_actions`` request to ``POST /slack/events`` through the real slack-bolt (app.action),
answered ephemerally at the response_url in the channel's language; the alert's buttons are
updated with chat.update (fake Web API). Forged, replayed and stale presses change nothing."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.alerts.i18n import Catalog
from tests.fakes.slack_api import FakeSlack, api_error
from tests.test_slack import (
    CHANNEL,
    TOKEN,
    USER,
    Bot,
    add_articles,
    deliver_all,
    sign,
    started_bot,
)

T = Catalog("handlers")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack(TOKEN).start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Bot]:
    async with started_bot(tmp_path, fake) as started:
        yield started


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    for block in message["blocks"]:
        if block["type"] == "actions":
            return [(e["text"]["text"], e["value"]) for e in block["elements"]]
    return []


def payload(bot: Bot, message: dict[str, Any], value: str, channel: str = CHANNEL) -> str:
    element = {"action_id": "kabar_0", "block_id": "kabar_actions", "type": "button"}
    body = {
        "type": "block_actions",
        "team": {"id": "T0TEST", "domain": "kabar"},
        "user": {"id": USER, "username": "u", "team_id": "T0TEST"},
        "api_app_id": "A0KABAR",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel},
        "trigger_id": "1.2.3",
        "channel": {"id": channel, "name": "berita"},
        "message": {"type": "message", "ts": message["ts"], "text": message["text"],
                    "blocks": message["blocks"]},
        "response_url": bot.fake.response_url(),
        "actions": [{**element, "value": value, "text": {"type": "plain_text", "text": "x"},
                     "action_ts": str(time.time())}],
    }  # fmt: skip
    return urlencode({"payload": json.dumps(body)})


async def press(bot: Bot, message: dict[str, Any], value: str, **kwargs: Any) -> str:
    before = len(bot.fake.responses)
    response = await bot.post(payload(bot, message, value, **kwargs))
    assert response.status_code == 200, response.text
    await bot.fake.wait_for(lambda: len(bot.fake.responses) > before)
    answer = bot.fake.responses[-1]
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    return str(answer["text"])


async def alert(bot: Bot) -> dict[str, Any]:
    await bot.command("start")
    add_articles(bot.db, ("Rudal dan Kim", "Kim Jong Un menyaksikan uji rudal baru."))
    await deliver_all(bot)
    [message] = bot.fake.messages_to(CHANNEL)
    return message


async def test_press_and_undo(bot: Bot) -> None:
    message = await alert(bot)
    before = buttons(message)
    assert [label for label, _ in before] == ["🔕 Kim", "🔕 rudal", "⏸ 24 jam"]
    answer = await press(bot, message, before[1][1])
    assert answer == T.t("id", "button.muted", keyword="rudal")
    await bot.fake.wait_for(lambda: bot.fake.updates)
    assert buttons(message) == [("↩ Urungkan", "kb:u:1")]
    assert "Kata kunci:" in json.dumps(message["blocks"], ensure_ascii=False)  # the alert stays
    assert "rudal" not in bot.subscriptions()

    answer = await press(bot, message, "kb:u:1")
    assert answer == T.t("id", "button.undone", keyword="rudal")
    await bot.fake.wait_for(lambda: len(bot.fake.updates) == 2)
    assert buttons(message) == before
    assert "rudal" in bot.subscriptions()


async def test_english_answer(bot: Bot) -> None:
    message = await alert(bot)
    await bot.command("lang en")
    assert await press(bot, message, buttons(message)[0][1]) == "Unsubscribed from Kim."


async def test_forged_replayed_and_stale_presses_change_nothing(bot: Bot) -> None:
    message = await alert(bot)
    value = buttons(message)[0][1]
    body = payload(bot, message, value)
    now = int(time.time())
    forged = await bot.post(body, timestamp=now, signature=sign(body, now, "wrong-secret"))
    assert forged.status_code == 401
    assert "Kim" in bot.subscriptions()

    # a button of this channel pressed (copied) in another channel, made-up ids
    stale = T.t("id", "button.stale")
    assert await press(bot, message, value, channel="C0OTHER") == stale
    assert await press(bot, message, "kb:m:1:9999") == stale
    assert await press(bot, message, "kb:u:77") == stale
    assert "Kim" in bot.subscriptions() and bot.fake.updates == []

    ok = await bot.post(body, timestamp=now)
    assert ok.status_code == 200
    await bot.fake.wait_for(lambda: "Kim" not in bot.subscriptions())
    replayed = await bot.post(body, timestamp=now)  # the same signed request again
    assert replayed.status_code == 401
    assert bot.db.conn.execute("SELECT count(*) FROM chat_actions").fetchone()[0] == 1


async def test_update_failure_keeps_the_change_and_answers(bot: Bot) -> None:
    message = await alert(bot)
    bot.fake.fail_updates(api_error("cant_update_message"))
    answer = await press(bot, message, buttons(message)[0][1])
    assert answer == T.t("id", "button.muted", keyword="Kim")
    assert "Kim" not in bot.subscriptions()
    assert buttons(message)[0][0] == "🔕 Kim"  # Slack refused the update: the old buttons


def test_manifest_enables_interactivity() -> None:
    text = (Path(__file__).resolve().parent.parent / "slack-manifest.yml").read_text()
    assert "interactivity:" in text and "is_enabled: true" in text
    assert "request_url: https://YOUR-HOST/slack/events" in text


async def test_store_failure_on_press_changes_nothing(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import store.actions as actions_sql

    message = await alert(bot)

    def full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(actions_sql, "record_audit", full)
    assert await press(bot, message, buttons(message)[0][1]) == T.t("id", "error.internal")
    assert "Kim" in bot.subscriptions() and bot.fake.updates == []
