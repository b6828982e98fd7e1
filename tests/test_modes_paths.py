"""Delivery modes on the remaining user paths: the notice when `pause HOURS` runs out (fake
clock, python-telegram-bot against the fake Bot API), the Telegram command menu with the mode
verbs in both languages, the verbs typed at the `kabar demo` console prompt, and quiet hours
holding alerts from their first second (not only once the 15 s modes job has seen them)."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.demo import Demo, demo_config
from bot.ingest.dedup import save_articles
from handlers.commands import catalog
from handlers.console.adapter import CHAT as CONSOLE_CHAT
from store.clock import utcnow
from store.models import ArticleIn
from tests.test_telegram import Kabar, follow

pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type:DeprecationWarning")

CHAT = 1001
MODE_VERBS = ("digest", "quiet", "pause", "resume", "timezone")
WORDS = [a + b + c for a in "bdgkmpst" for b in "aiue" for c in ("lan", "rok", "mis", "tang")]


def article(n: int) -> ArticleIn:
    words = random.Random(n)
    return ArticleIn(
        title=f"Laporan {n} " + " ".join(words.sample(WORDS, 6)),
        text="Uji rudal: " + " ".join(words.sample(WORDS, 30)),  # its own story
        url=f"https://kabar.example/{n}",
        source="ant",
        lang="id",
        published=datetime(2025, 1, 6, tzinfo=UTC) + timedelta(days=3 * n),
    )


@pytest.fixture
def kabar(kabar: Kabar) -> Kabar:
    """The shared fixture, its chat following every keyword."""
    follow(kabar.db, CHAT)
    return kabar


def chat_row(kabar: Kabar):
    chat = kabar.db.chats.get("telegram", str(CHAT))
    assert chat is not None
    return chat


# ---------------------------------------------------------------- the end of `pause HOURS`


async def test_the_end_of_a_pause_is_announced_with_the_skipped_count(kabar: Kabar) -> None:
    db = kabar.db
    assert "2" in await kabar.say(CHAT, "/pause 2")
    until = chat_row(kabar).paused_until
    assert until is not None and timedelta(hours=1, minutes=59) < until - utcnow() <= timedelta(
        hours=2
    )
    save_articles(db, [article(n) for n in range(1, 4)])
    await kabar.check()
    assert kabar.alerts(CHAT) == [] and db.outbox.counts() == {"skipped": 3}
    before = len(kabar.fake.messages_to(CHAT))
    await kabar.service.modes.run(now=until - timedelta(minutes=1))  # not yet
    assert len(kabar.fake.messages_to(CHAT)) == before and chat_row(kabar).paused_until
    await kabar.service.modes.run(now=until + timedelta(seconds=10))
    [notice] = kabar.fake.messages_to(CHAT)[before:]
    assert notice["text"] == (
        "Jeda Kabar berakhir: notifikasi berjalan lagi. 3 berita terlewat selama jeda;"
        " /latest menampilkan yang terbaru."
    )
    assert notice.get("parse_mode") is None  # a plain notice, not an alert
    chat = chat_row(kabar)
    assert chat.paused_until is None and not chat.hold
    await kabar.service.modes.run(now=until + timedelta(minutes=1))  # told once
    assert len(kabar.fake.messages_to(CHAT)) == before + 1
    save_articles(db, [article(9)])  # alerts go at once again
    await kabar.check()
    [alert] = kabar.alerts(CHAT)
    assert "Laporan 9" in alert["text"]
    assert db.outbox.counts() == {"skipped": 3, "sent": 1}


async def test_a_pause_that_ends_in_english_uses_the_singular(kabar: Kabar) -> None:
    await kabar.say(CHAT, "/lang en")
    await kabar.say(CHAT, "/pause 1")
    save_articles(kabar.db, [article(1)])
    await kabar.check()
    until = chat_row(kabar).paused_until
    assert until is not None
    before = len(kabar.fake.messages_to(CHAT))
    await kabar.service.modes.run(now=until + timedelta(seconds=1))
    [notice] = kabar.fake.messages_to(CHAT)[before:]
    assert "1 match was skipped during the pause; /latest" in notice["text"]


# ---------------------------------------------------------------- the command menu


async def test_the_command_menu_has_the_mode_verbs_in_both_languages(kabar: Kabar) -> None:
    literal = {
        "id": {
            "digest": "Langsung atau ringkasan per jam / harian",
            "pause": "Jeda notifikasi (jam)",
        },
        "en": {
            "digest": "Alerts at once or an hourly / daily digest",
            "pause": "Pause alerts (hours)",
        },
    }
    for lang, expected in literal.items():
        menu = {c["command"]: c["description"] for c in kabar.fake.commands[("default", lang)]}
        for verb in MODE_VERBS:
            assert menu[verb] == catalog().t(lang, f"menu.{verb}")
            assert 3 <= len(menu[verb]) <= 256  # Telegram's limits for a description
        for verb, description in expected.items():
            assert menu[verb] == description
    default = kabar.fake.commands[("default", "")]  # clients without a language: default "id"
    assert [c["command"] for c in default] == [
        c["command"] for c in kabar.fake.commands[("default", "id")]
    ]


# ---------------------------------------------------------------- the demo console


async def test_the_mode_verbs_typed_at_the_demo_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the demo's own database in the current folder
    out = io.StringIO()
    demo = Demo(demo_config(None), out, fresh=True)
    db = demo.db
    try:
        assert await demo.typed("/start")
        assert await demo.typed("/ringkasan hourly")  # the Indonesian alias
        assert "Mode ringkasan per jam" in out.getvalue()
        while await demo.ingest_next():  # the whole sample wire
            pass
        printed = out.getvalue()
        assert "Kata kunci:" not in printed  # held: no alert printed in digest mode
        waiting = db.outbox.counts().get("held", 0)
        assert waiting >= 2
        mark = len(out.getvalue())
        assert await demo.typed("/list")
        assert "ringkasan" in out.getvalue()[mark:].lower()
        for bad, hint in (
            ("/digest weekly", "daily"),
            ("/quiet 25:00-06:00", "22:00-06:00"),
            ("/timezone Mars/Olympus", "WIB"),
            ("/pause -3", "pause"),
        ):
            mark = len(out.getvalue())
            assert not await demo.typed(bad), bad
            assert hint in out.getvalue()[mark:], (bad, out.getvalue()[mark:])
        chat = db.chats.get("console", CONSOLE_CHAT)
        assert chat is not None and chat.digest == "hourly" and chat.quiet_start is None
        assert chat.timezone is None and chat.paused_until is None  # nothing changed
        mark = len(out.getvalue())
        assert await demo.typed("/digest now")
        shown = out.getvalue()[mark:]
        assert f"Ringkasan {waiting} notifikasi" in shown  # the reply
        assert "Ringkasan Kabar — " in shown  # and the digest itself, printed at once
        assert db.outbox.counts().get("held", 0) == 0
        assert await demo.typed("/senyap 22:00-06:00")
        assert await demo.typed("/timezone WITA")
        assert await demo.typed("/jeda 3")
        mark = len(out.getvalue())
        assert await demo.typed("/lanjut")
        assert "/latest" in out.getvalue()[mark:]
        chat = db.chats.get("console", CONSOLE_CHAT)
        assert chat is not None and (chat.quiet_start, chat.quiet_end) == ("22:00", "06:00")
        assert chat.timezone == "Asia/Makassar" and chat.paused_until is None
    finally:
        db.close()


# ---------------------------------------------------------------- quiet hours from their start


async def test_alerts_in_the_first_seconds_of_quiet_hours_are_held(kabar: Kabar) -> None:
    """Quiet hours that began a moment ago (the modes job has not run since): a match queued
    now waits, it does not go out at once."""
    db = kabar.db
    chat = chat_row(kabar)
    local = utcnow().astimezone(ZoneInfo("Asia/Jakarta"))
    start, end = local, local + timedelta(hours=2)
    db.chats.set_quiet(chat.id, f"{start:%H:%M}", f"{end:%H:%M}")  # set before; it begins now
    assert not chat_row(kabar).hold
    save_articles(db, [article(1), article(2)])
    await kabar.check()
    assert kabar.alerts(CHAT) == []
    assert db.outbox.counts() == {"held": 2} and chat_row(kabar).hold
    # the end of quiet hours (fake clock): what waited goes as one digest
    await kabar.service.modes.run(now=end.astimezone(UTC) + timedelta(minutes=1))
    [digest] = kabar.alerts(CHAT)
    assert digest["text"].startswith("<b>Ringkasan Kabar") and digest["text"].count("• ") == 2
    assert db.outbox.counts() == {"sent": 2} and not chat_row(kabar).hold
