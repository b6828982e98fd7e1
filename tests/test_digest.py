"""Digests through the real adapters: python-telegram-bot against the fake Bot API (which
refuses a text over 4096 units), the console; built from held outbox rows, split within the
limits, one story once with its source count, each alert delivered exactly once (also when the
store fails while a digest message is recorded, and when a digest is resumed after a crash),
quiet hours releasing one digest, a single held alert going as a normal alert."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.alerts.digest import build_digest
from bot.ingest.dedup import save_articles
from handlers.console.adapter import ConsoleSender
from handlers.console.format import digest_messages as console_digest
from handlers.slack.format import digest_messages as slack_digest
from handlers.telegram.format import digest_messages as telegram_digest
from store.models import ArticleIn
from tests.support import FailingStore
from tests.test_telegram import Kabar, follow

pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type:DeprecationWarning")

CHAT = 1001
MONDAY_7 = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # 07:00 WIB
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


WORDS = [a + b + c for a in "bdgkmpst" for b in ("a", "i", "u", "e") for c in ("lan", "rok", "mis")]


def article(n: int, title: str = "", source: str = "ant") -> ArticleIn:
    return ArticleIn(
        text=" ".join(random.Random(n).sample(WORDS, 40)) + " rudal.",  # one story per article
        title=title or f"Laporan z{n}q{n * 7} <{n}> & co",
        url=f"https://kabar.example/{n}?a=1&b=2",
        source=source,
        lang="id",
        published=NOW - timedelta(days=3 * n, minutes=n),  # apart: one story each
    )


@pytest.fixture
def kabar(kabar: Kabar) -> Kabar:
    """The shared fixture, its chat following every keyword."""
    follow(kabar.db, CHAT)
    return kabar


def digest_chat(db):
    chat = db.chats.get("telegram", str(CHAT))
    assert chat is not None
    return chat


async def test_a_daily_digest_goes_once_as_html_with_every_alert(kabar: Kabar) -> None:
    db = kabar.db
    assert "07:00" in await kabar.say(CHAT, "/digest daily 07:00")
    save_articles(db, [article(n) for n in range(1, 4)])
    await kabar.check()
    assert kabar.alerts(CHAT) == []  # held: no alert at once
    assert db.outbox.counts() == {"held": 3}
    chat = digest_chat(db)
    db.conn.execute("UPDATE chats SET last_digest_at = ? WHERE id = ?",
                    ["2026-12-05T00:00:00.000000Z", chat.id])  # fmt: skip
    await kabar.service.modes.run(now=MONDAY_7 + timedelta(seconds=20))
    [message] = kabar.alerts(CHAT)
    text = message["text"]
    assert text.startswith("<b>Ringkasan Kabar — Senin, 7 Des 07.00 WIB</b>\n3 berita")
    assert "&lt;1&gt; &amp; co" in text  # article strings escaped
    assert '<a href="https://kabar.example/1?a=1&amp;b=2">' in text
    assert text.index("&lt;1&gt;") < text.index("&lt;3&gt;")  # newest first
    assert db.outbox.counts() == {"sent": 3}
    # the next minutes send nothing more (the period was recorded)
    await kabar.service.modes.run(now=MONDAY_7 + timedelta(minutes=1))
    assert len(kabar.alerts(CHAT)) == 1


async def test_a_long_digest_is_split_within_the_telegram_limit(kabar: Kabar) -> None:
    db = kabar.db
    await kabar.say(CHAT, "/lang en")
    await kabar.say(CHAT, "/digest hourly")
    long_title = "Missile test report " + "ŝ" * 100 + " 🚀" * 10
    save_articles(db, [article(n, f"{long_title} {n}", source=f"s{n}") for n in range(1, 80)])
    await kabar.check()
    assert "79 waiting alerts" in await kabar.say(CHAT, "/digest now")
    await kabar.service.modes.run()
    parts = kabar.alerts(CHAT)
    assert len(parts) > 1 and kabar.fake.refused_too_long == 0
    assert all(len(m["text"].encode("utf-16-le")) // 2 <= 4096 for m in parts)
    assert parts[0]["text"].startswith("<b>Kabar digest — ")
    assert parts[1]["text"].startswith("<b>Kabar digest — ") and "</b> (2)\n" in parts[1]["text"]
    assert "(continued)" in parts[1]["text"]
    listed = sum(m["text"].count("• ") for m in parts)
    assert listed == 79  # each alert once, in exactly one message
    assert db.outbox.counts() == {"sent": 79}


async def test_a_store_failure_while_recording_a_digest_loses_and_doubles_nothing(
    kabar: Kabar, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = kabar.db
    await kabar.say(CHAT, "/digest hourly")
    save_articles(db, [article(n) for n in range(1, 4)])
    await kabar.check()
    events: list[tuple[str, str]] = []
    failing = FailingStore(db.digests.part_sent, 2, "database or disk is full", events)
    monkeypatch.setattr(db.digests, "part_sent", failing)
    db.digests.open(digest_chat(db).id, datetime.now(UTC), None)
    await kabar.service.modes.send_open()
    assert events == [("record failed", "database or disk is full")] * 2 + [("recorded", "")]
    assert len(kabar.alerts(CHAT)) == 1  # sent once, its record retried (never the send)
    assert db.outbox.counts() == {"sent": 3}


async def test_a_digest_resumed_after_a_crash_sends_only_the_unrecorded_parts(
    kabar: Kabar,
) -> None:
    db = kabar.db
    await kabar.say(CHAT, "/digest hourly")
    save_articles(db, [article(n, "Judul panjang " * 20 + str(n)) for n in range(1, 60)])
    await kabar.check()
    digest_id = db.digests.open(digest_chat(db).id, datetime.now(UTC), None)
    [claim] = db.digests.claim_open(0.2)
    sender = kabar.platform.sender
    parts = db.digests.set_parts(claim.id, kabar.service.modes._render(sender, claim))
    assert len(parts) >= 2
    # the first part was sent and recorded, then the process died (lease left to run out)
    result = await sender.send_digest(str(CHAT), parts[0].payload)
    db.digests.part_sent(digest_id, 0, result.message_id, 0.2)
    db.conn.execute("UPDATE digests SET lease_until = '2000-01-01T00:00:00.000000Z'")
    await kabar.service.modes.send_open()
    texts = [m["text"] for m in kabar.alerts(CHAT)]
    assert len(texts) == len(parts)  # no part twice
    assert sum(t.count("• ") for t in texts) == 59
    assert db.outbox.counts() == {"sent": 59}
    rows = db.conn.execute("SELECT count(DISTINCT digest_id) FROM outbox").fetchone()
    assert rows == (1,)


async def test_quiet_hours_release_one_digest_and_a_single_alert_goes_alone(
    kabar: Kabar,
) -> None:
    db = kabar.db
    await kabar.say(CHAT, "/quiet 22:00-06:00")
    chat = digest_chat(db)
    night = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # 23:00 WIB
    await kabar.service.modes.run(now=night)
    assert digest_chat(db).hold
    save_articles(db, [article(n) for n in range(1, 3)])
    await kabar.check()
    assert kabar.alerts(CHAT) == []
    await kabar.service.modes.run(now=night + timedelta(hours=7, minutes=1))  # 06:01 WIB
    [digest] = kabar.alerts(CHAT)
    assert digest["text"].count("• ") == 2 and not digest_chat(db).hold
    # the next night: one held alert goes as a normal alert when quiet hours end
    await kabar.service.modes.run(now=night + timedelta(days=1))
    save_articles(db, [article(9)])
    await kabar.check()
    await kabar.service.modes.run(now=night + timedelta(days=1, hours=7, minutes=1))
    await kabar.check()
    alerts = kabar.alerts(CHAT)
    assert len(alerts) == 2 and "Kata kunci:" in alerts[1]["text"]
    assert chat.id and db.outbox.counts() == {"sent": 3}


async def test_digest_off_sends_what_waited_and_times_follow_the_chat_zone(
    kabar: Kabar,
) -> None:
    db = kabar.db
    await kabar.say(CHAT, "/timezone WIT")
    await kabar.say(CHAT, "/digest daily")
    save_articles(db, [article(1), article(2)])
    await kabar.check()
    await kabar.say(CHAT, "/digest off")
    await kabar.service.modes.run()
    [digest] = kabar.alerts(CHAT)
    assert " WIT</b>" in digest["text"]
    save_articles(db, [article(3)])
    await kabar.check()
    alert = kabar.alerts(CHAT)[-1]["text"]
    shown = (NOW - timedelta(days=9, minutes=3)).astimezone(ZoneInfo("Asia/Jayapura"))
    assert f"{shown:%H:%M} WIT" in alert  # the chat's zone, not the configured WIB
    assert db.outbox.counts() == {"sent": 3}


def test_stories_fold_and_every_platform_fits_its_limits() -> None:
    from store import open_store

    db = open_store(":memory:")
    save_articles(db, [article(n, f"T{n}") for n in range(1, 4)])
    articles = db.articles.get_many([1, 2, 3])
    from store.models import DigestRow

    rows = [
        DigestRow(10, 1, ("Kim",), 7, None),
        DigestRow(11, 2, ("rudal",), 7, None),  # same story as row 10
        DigestRow(12, 3, ("rudal",), None, None),
    ]
    at = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    digest = build_digest(rows, articles, language="en", timezone="Asia/Jakarta", at=at)
    assert digest.header == "Kabar digest — Monday 7 Dec, 07:00 WIB"
    assert sum(len(g.items) for g in digest.groups) == 2
    [story] = [i for g in digest.groups for i in g.items if i.row_ids == (10, 11)]
    assert story.sources == 1  # both from Antara
    for messages, limit in ((telegram_digest(digest, 300), 300), (console_digest(digest), 4000)):
        assert sorted(r for m in messages for r in m.row_ids) == [10, 11, 12]
        assert all(len(m.payload) <= limit for m in messages)
    [slack] = slack_digest(digest)
    assert '"type": "header"' in slack.payload and "<https://kabar.example/" in slack.payload
    out = io.StringIO()
    console = ConsoleSender(out)
    assert console.digest_parts(digest)[0].payload.startswith("Kabar digest — Monday")
    db.close()
