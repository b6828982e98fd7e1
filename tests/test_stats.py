"""`stats [DAYS]`: matches per keyword per local day from the outbox; a PNG chart by Telegram
photo (through the real python-telegram-bot to the fake Bot API), a sparkline table elsewhere."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

import handlers.telegram.adapter as telegram_adapter
from bot.app.service import Service
from bot.config import config_from_dict
from bot.ingest.dedup import save_articles
from handlers.commands import CommandContext, Settings, execute, sparkline, stats_series
from handlers.console.adapter import console_command
from handlers.slack.adapter import reply_message
from handlers.telegram.adapter import TelegramPlatform
from handlers.telegram.chart import PNG_SIGNATURE
from store import open_store
from store.clock import to_db
from store.models import ArticleIn, Queued
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "77:STATS"
WIB = ZoneInfo("Asia/Jakarta")


def test_sparkline_scales_to_the_biggest_day() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([5]) == "█"


def test_days_are_the_chats_local_days() -> None:
    days = (date(2024, 5, 1), date(2024, 5, 2))
    rows = [
        (datetime(2024, 4, 30, 17, 30, tzinfo=UTC), ("Kim",)),  # 1 May 00:30 WIB
        (datetime(2024, 5, 1, 16, 59, tzinfo=UTC), ("Kim", "rudal")),  # 1 May 23:59 WIB
        (datetime(2024, 5, 1, 17, 0, tzinfo=UTC), ("rudal", "Putin")),  # 2 May 00:00 WIB
        (datetime(2024, 4, 30, 16, 0, tzinfo=UTC), ("Kim",)),  # 30 April: outside
    ]
    assert stats_series(rows, ["Kim", "rudal", "satelit"], days, "Asia/Jakarta") == [
        ("Kim", (2, 0)),
        ("rudal", (1, 1)),
        ("satelit", (0, 0)),
    ]
    assert stats_series(rows, ["Kim"], days, "UTC") == [("Kim", (1, 0))]


def seed_matches(
    db: Database,
    address: str,
    platform: str = "telegram",
    follow: tuple[str, ...] = ("Kim", "rudal", "satelit"),
) -> None:
    """Outbox rows for the chat on the last days (local): today 3 x Kim + 1 x rudal,
    yesterday 1 x Kim and rudal, 10 days ago 5 x Kim."""
    db.keywords.seed(["Kim", "rudal", "satelit", "Putin"])
    chat = db.chats.ensure(platform, address, "en")
    db.chats.subscribe(chat, [k for k in db.keywords.all() if k.query in follow])
    now = datetime.now(WIB).replace(hour=12, minute=0, second=0, microsecond=0)
    plan = (
        [(now, ("Kim",))] * 3
        + [(now, ("rudal",))]
        + [(now - timedelta(days=1), ("Kim", "rudal"))]
        + [(now - timedelta(days=10), ("Kim",))] * 5
    )
    texts = [f"Artikel {address} nomor {n} tentang Kim dan rudal." for n in range(len(plan))]
    report = save_articles(
        db,
        [ArticleIn(text=text, origin=f"{address}-{n}", lang="id") for n, text in enumerate(texts)],
    )
    db.outbox.record_matches(
        report.new_ids,
        [Queued(i, chat.id, kw) for i, (_, kw) in zip(report.new_ids, plan, strict=True)],
    )
    for article_id, (at, _) in zip(report.new_ids, plan, strict=True):
        db.conn.execute(
            "UPDATE outbox SET created_at = ? WHERE article_id = ?", [to_db(at), article_id]
        )


def test_stats_text_table_and_chart_data(db: Database) -> None:
    seed_matches(db, "demo", platform="console")
    settings = Settings("en", frozenset())
    reply = console_command(db, "/stats 3", settings)
    assert reply.ok
    today = datetime.now(WIB).date()
    first = today - timedelta(days=2)
    assert reply.text.splitlines() == [
        f"Matches per day, the last 3 days (WIB), {first.isoformat()} – {today.isoformat()}:"
        " 6 matches",
        "Kim      ▁▄█  4",
        "rudal    ▁██  2",
        "satelit  ▁▁▁  0",
    ]
    assert reply.chart is not None
    assert reply.chart.days == (first, first + timedelta(days=1), today)
    assert reply.chart.series == (("Kim", (0, 1, 3)), ("rudal", (0, 1, 1)), ("satelit", (0, 0, 0)))
    week = console_command(db, "/stats", settings)  # default 7 days: the 10-day-old rows out
    assert week.text.splitlines()[1].endswith("  4") and len(week.chart.days) == 7
    longer = console_command(db, "/stats 11", settings)
    assert longer.text.splitlines()[1].endswith("  9")
    # Slack shows the same table (escaped mrkdwn; the blocks pass through)
    assert reply_message(reply)["text"].splitlines()[1] == "Kim      ▁▄█  4"


@pytest.mark.parametrize("args", ["0", "91", "x", "3 4", "-1"])
def test_stats_bad_days_is_a_usage_reply(db: Database, args: str) -> None:
    seed_matches(db, "demo", platform="console")
    reply = console_command(db, f"/stats {args}", Settings("en", frozenset()))
    assert not reply.ok and reply.chart is None
    assert reply.text == "Usage: /stats [DAYS], DAYS from 1 to 90 (default 7)."
    reply = console_command(db, f"/stats {args}", Settings("id", frozenset()), chat="other")
    assert reply.text == "Cara pakai: /stats [HARI], HARI dari 1 sampai 90 (bawaan 7)."


def test_stats_without_subscriptions(db: Database) -> None:
    ctx = CommandContext("slack", "C1", "U1")
    reply = execute(db, ctx, "stats", Settings("en", frozenset()), prefix="/kabar ")
    assert reply.ok and reply.chart is None
    assert reply.text == (
        "This chat follows no keywords yet: /kabar start or /kabar subscribe KEYWORD first."
    )


def test_stats_counts_only_this_chats_rows(db: Database) -> None:
    seed_matches(db, "a", platform="console")
    seed_matches(db, "b", platform="console", follow=("Kim",))
    reply = console_command(db, "/stats 1", Settings("en", frozenset()), chat="b")
    assert reply.text.splitlines()[1:] == ["Kim  █  3"]


# ---------------------------------------------------------------- Telegram: a photo


def png_size(data: bytes) -> tuple[int, int]:
    """A valid PNG: the signature, then an IHDR chunk (with a correct CRC) first."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    chunk = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert zlib.crc32(kind + chunk) == crc
    assert data.endswith(b"IEND\xaeB`\x82")
    return struct.unpack(">II", chunk[:8])


@pytest.fixture
async def telegram(tmp_path: Path) -> AsyncIterator[tuple[FakeTelegram, Database]]:
    fake = await FakeTelegram(TOKEN, "StatsBot").start()
    config = config_from_dict(
        {
            "telegram": {"token": TOKEN, "base_url": fake.base_url},
            "store": {"path": str(tmp_path / "k.db")},
            "default_language": "en",
        },
        env={},
    )
    db = open_store(tmp_path / "k.db")
    platform = TelegramPlatform(config, db)
    service = Service(config, db, {"telegram": platform.sender})
    await platform.start(service, listen=True)
    try:
        yield fake, db
    finally:
        await platform.stop()
        await service.close()
        db.close()


async def test_telegram_stats_is_a_png_photo_with_caption(telegram, monkeypatch) -> None:
    fake, db = telegram
    seed_matches(db, "5")
    drawn: list[object] = []
    original = telegram_adapter.render_png

    def counting(chart):
        drawn.append(chart)
        return original(chart)

    monkeypatch.setattr(telegram_adapter, "render_png", counting)
    fake.send_text(5, "/stats 3")
    await fake.wait_for(lambda: fake.photos_to(5), timeout=60)
    photo = fake.photos_to(5)[0]
    width, height = png_size(photo["photo"])
    assert (width, height) == (1080, 675)
    assert photo["caption"].startswith("Matches per day, the last 3 days (WIB), ")
    assert photo["caption"].endswith(": 6 matches")
    assert fake.messages_to(5) == []  # the photo instead of the text table
    # the same chat asking again the same day: the cached PNG, not drawn again
    fake.send_text(5, "/stats 3")
    await fake.wait_for(lambda: len(fake.photos_to(5)) == 2, timeout=30)
    assert fake.photos_to(5)[1]["photo"] == photo["photo"] and len(drawn) == 1


async def test_telegram_stats_falls_back_to_text_when_drawing_fails(telegram, monkeypatch) -> None:
    fake, db = telegram
    seed_matches(db, "6")

    def broken(chart):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(telegram_adapter, "render_png", broken)
    fake.send_text(6, "/stats 2")
    await fake.wait_for(lambda: fake.messages_to(6), timeout=30)
    assert fake.messages_to(6)[0]["text"].splitlines()[1] == "Kim      ▄█  4"
    assert fake.photos_to(6) == []


def test_stats_is_in_help_and_the_menu() -> None:
    from handlers.telegram.adapter import command_menu

    assert [c.command for c in command_menu("en")].count("stats") == 1
    assert {c.description for c in command_menu("id") if c.command == "stats"} == {
        "Kecocokan per kata kunci per hari (grafik)"
    }
