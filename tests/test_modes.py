"""Delivery modes, the verbs and the store: parsing on a fake clock (HH:MM, quiet hours across
midnight, period boundaries in WIB / WITA / WIT), `digest`, `quiet`, `pause`, `resume`,
`timezone` and `list` through the command layer on a real SQLite store, bad input refused in
both languages with nothing changed, and rows matched while paused skipped (counted on resume)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery.modes import (
    digest_due,
    in_quiet,
    last_boundary,
    parse_hhmm,
    parse_range,
    parse_zone,
    wants_hold,
)
from bot.matching.passes import matching_pass
from handlers.commands import CommandContext, Settings, execute
from store.models import ArticleIn, Chat

CTX = CommandContext("telegram", "501", "42")
SETTINGS = Settings(default_language="id", admins=frozenset())
CHAT = Chat(1, "telegram", "501", "", "id", True, True)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def db(db):
    """The shared database fixture, with two keywords."""
    db.keywords.seed(["Kim", "rudal"])
    return db


def say(db, text: str, ctx: CommandContext = CTX):
    return execute(db, ctx, text, SETTINGS)


def chat_row(db, ctx: CommandContext = CTX) -> Chat:
    chat = db.chats.get(ctx.platform, ctx.chat_address)
    assert chat is not None
    return chat


# --- pure rules on a fake clock ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, want",
    [("07:00", "07:00"), ("7:05", "07:05"), ("07.30", "07:30"), ("23:59", "23:59"),
     ("24:00", None), ("25:00", None), ("7", None), ("07:60", None), ("-1:00", None), ("", None)],
)  # fmt: skip
def test_hhmm_parsing(text, want) -> None:
    assert parse_hhmm(text) == want


def test_ranges_and_zones() -> None:
    assert parse_range("22:00-06:00") == ("22:00", "06:00")
    assert parse_range("25:00-06:00") is None
    assert parse_range("06:00-06:00") is None
    assert parse_zone("WIB") == "Asia/Jakarta"
    assert parse_zone("wita") == "Asia/Makassar"
    assert parse_zone("WIT") == "Asia/Jayapura"
    assert parse_zone("Europe/London") == "Europe/London"
    assert parse_zone("Mars/Olympus") is None
    assert parse_zone("../../etc/passwd") is None


def test_quiet_hours_across_midnight() -> None:
    local = datetime(2026, 12, 7)
    assert in_quiet("22:00", "06:00", local.replace(hour=23, minute=30))
    assert in_quiet("22:00", "06:00", local.replace(hour=0, minute=10))
    assert in_quiet("22:00", "06:00", local.replace(hour=5, minute=59))
    assert not in_quiet("22:00", "06:00", local.replace(hour=6, minute=0))
    assert not in_quiet("22:00", "06:00", local.replace(hour=21, minute=59))
    assert in_quiet("12:00", "13:00", local.replace(hour=12, minute=30))
    assert not in_quiet("12:00", "13:00", local.replace(hour=13))
    chat = replace(CHAT, quiet_start="22:00", quiet_end="06:00")
    assert wants_hold(chat, at("2026-12-07T22:00:00"), "Asia/Jakarta")  # 05:00 WIB: quiet
    assert not wants_hold(chat, at("2026-12-07T22:00:00"), "Asia/Jayapura")  # 07:00 WIT
    assert wants_hold(chat, at("2026-12-07T14:00:00"), "Asia/Jayapura")  # 23:00 WIT


def test_daily_and_hourly_boundaries_in_local_time() -> None:
    now = at("2026-12-06T23:59:00")  # 06:59 WIB on Monday 7 Dec
    assert last_boundary("daily", "07:00", "Asia/Jakarta", now) == at("2026-12-06T00:00:00")
    now = at("2026-12-07T00:00:00")  # 07:00 WIB
    assert last_boundary("daily", "07:00", "Asia/Jakarta", now) == at("2026-12-07T00:00:00")
    assert last_boundary("daily", "07:00", "Asia/Makassar", now) == at("2026-12-06T23:00:00")
    assert last_boundary("hourly", "07:00", "Asia/Jayapura", at("2026-12-07T00:59:59")) == at(
        "2026-12-07T00:00:00"
    )
    daily = replace(CHAT, digest="daily", digest_at="07:00", last_digest_at=at("2026-12-06T00:00"))
    assert digest_due(daily, "Asia/Jakarta", at("2026-12-06T23:59:00")) is None
    assert digest_due(daily, "Asia/Jakarta", at("2026-12-07T00:00:30")) == at("2026-12-07T00:00")
    # the bot was down at 07:00: the digest is due when it comes back, once
    assert digest_due(daily, "Asia/Jakarta", at("2026-12-07T05:00")) == at("2026-12-07T00:00")
    sent = replace(daily, last_digest_at=at("2026-12-07T00:00"))
    assert digest_due(sent, "Asia/Jakarta", at("2026-12-07T05:00")) is None
    assert digest_due(replace(CHAT, digest="off"), "Asia/Jakarta", at("2026-12-07T05:00")) is None


# --- the verbs --------------------------------------------------------------------------------


def test_digest_verbs_change_the_chat(db) -> None:
    reply = say(db, "/digest daily 06:30")
    assert reply.ok and "06:30" in reply.text and "WIB" in reply.text
    chat = chat_row(db)
    assert (chat.digest, chat.digest_at, chat.hold) == ("daily", "06:30", True)
    assert chat.last_digest_at is not None  # the first period starts now
    assert say(db, "/ringkasan hourly").ok
    assert chat_row(db).digest == "hourly"
    assert say(db, "/digest off").ok
    chat = chat_row(db)
    assert (chat.digest, chat.hold) == ("off", False)
    assert say(db, "/digest now").text == "Tidak ada notifikasi yang menunggu."


def test_quiet_pause_timezone_and_list(db) -> None:
    assert say(db, "/start").ok
    assert "22:00–06:00" in say(db, "/senyap 22:00-06:00").text
    reply = say(db, "/timezone WITA")
    assert reply.ok and "WITA (Asia/Makassar)" in reply.text
    assert say(db, "/jeda 5").ok
    chat = chat_row(db)
    assert (chat.quiet_start, chat.quiet_end, chat.timezone) == ("22:00", "06:00", "Asia/Makassar")
    assert chat.paused_until is not None and chat.hold
    listing = say(db, "/list").text
    assert "Pengiriman: langsung" in listing
    assert "Jam senyap: 22:00–06:00" in listing
    assert "Jeda: sampai" in listing and "WITA" in listing
    assert "Zona waktu: WITA (Asia/Makassar)" in listing
    assert say(db, "/lanjut").text.startswith("Notifikasi berjalan lagi. 0 berita terlewat")
    assert chat_row(db).paused_until is None
    assert say(db, "/resume").text == "Chat ini tidak sedang dijeda."
    assert say(db, "/quiet off").ok and chat_row(db).quiet_start is None


BAD = ["/digest weekly", "/digest daily 25:00", "/quiet 25:00-06:00", "/quiet",
       "/timezone Mars/Olympus", "/timezone", "/pause -3", "/pause 100000", "/pause 0",
       "/pause 3 4"]  # fmt: skip


@pytest.mark.parametrize("language", ["id", "en"])
def test_bad_input_is_refused_in_the_chat_language_and_changes_nothing(db, language) -> None:
    say(db, "/start")
    say(db, f"/lang {language}")
    before = chat_row(db)
    for text in BAD:
        reply = say(db, text)
        assert not reply.ok, text
        assert chat_row(db) == before, text
        english = any(w in reply.text for w in ("Usage", "Unknown time zone"))
        assert english == (language == "en"), (text, reply.text)
    assert "Asia/Makassar" in say(db, "/timezone Mars/Olympus").text  # valid examples named
    assert "Mars/Olympus" in say(db, "/timezone Mars/Olympus").text


def test_help_names_every_mode_verb_in_both_languages(db) -> None:
    for language, words in (("id", "jeda"), ("en", "pause")):
        say(db, f"/lang {language}")
        text = say(db, "/help").text
        for verb in ("/digest", "/quiet", "/pause", "/resume", "/timezone", words):
            assert verb in text


def test_slack_and_console_contexts_run_the_verbs(db) -> None:
    for ctx in (CommandContext("slack", "C1", "U1"), CommandContext("console", "demo", "")):
        assert execute(db, ctx, "/kabar digest hourly", SETTINGS, prefix="/kabar ").ok
        assert execute(db, ctx, "pause 2", SETTINGS).ok
        chat = chat_row(db, ctx)
        assert chat.digest == "hourly" and chat.paused_until is not None


# --- the store: held and skipped rows ---------------------------------------------------------


def add_article(db, n: int) -> None:
    db.articles.insert(
        [
            ArticleIn(
                text=f"Korea Utara menembakkan rudal nomor {n} ke laut.",
                title=f"Uji rudal {n}",
                url=f"https://kabar.example/{n}",
                source="ant",
                lang="id",
                content_hash=f"h{n}",
                canonical_url=f"https://kabar.example/{n}",
                published=at("2026-12-07T00:00:00") + timedelta(minutes=n),
            )
        ]
    )


def test_matches_while_paused_are_skipped_and_counted_on_resume(db) -> None:
    say(db, "/start")
    say(db, "/pause 2")
    add_article(db, 1)
    add_article(db, 2)
    matching_pass(db)
    rows = db.conn.execute("SELECT status, last_error FROM outbox").fetchall()
    assert rows == [("skipped", "paused"), ("skipped", "paused")]
    assert db.outbox.claim_due(10) == []
    reply = say(db, "/resume")
    assert reply.text.startswith("Notifikasi berjalan lagi. 2 berita terlewat")
    assert "/latest" in reply.text
    add_article(db, 3)
    matching_pass(db)
    assert [i.article_id for i in db.outbox.claim_due(10)] == [3]  # after resume: at once


def test_digest_mode_holds_rows_and_a_digest_binds_each_row_once(db) -> None:
    say(db, "/start")
    say(db, "/digest hourly")
    add_article(db, 1)
    add_article(db, 2)
    matching_pass(db)
    assert db.outbox.counts() == {"held": 2}
    assert db.outbox.claim_due(10) == []  # never claimed by the immediate deliverer
    chat = chat_row(db)
    first = db.digests.open(chat.id, datetime.now(UTC), None)
    again = db.digests.open(chat.id, datetime.now(UTC), None)
    assert first is not None and again is None  # nothing left to bind
    [claim] = db.digests.claim_open(60)
    assert [r.article_id for r in claim.rows] == [1, 2]
    assert db.digests.claim_open(60) == []  # leased
