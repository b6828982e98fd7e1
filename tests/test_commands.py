"""The platform-neutral chat command layer, against a real SQLite store."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

import handlers.commands as commands
from bot.app.feeds import REASONS
from bot.ingest.dedup import save_articles
from bot.ingest.hosts import URL_PROBLEMS
from bot.matching.query import MESSAGES
from handlers.commands import (
    ADMIN_VERBS,
    VERBS,
    CommandContext,
    Reply,
    Settings,
    execute,
    parse_command,
)
from store import open_store
from store.models import ArticleIn, Chat
from tests.support import plural_key

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ["Kim", "Putin", "rudal", "satelit", '"Kim Jong Un"']
ADMIN = "1001"
USER = "2002"
PLATFORM = "telegram"
CHAT = "-100123"


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def db(db: Database) -> Database:
    """The shared database (tests/conftest.py) with the seed keywords."""
    for query in SEEDS:
        db.keywords.add(query, "config")
    return db


def when(day: int) -> datetime:
    return datetime(2024, 5, day, 8, 0, tzinfo=UTC)


ARTICLES = [
    ArticleIn(
        title="Korea Utara uji coba rudal balistik baru",
        text="Korea Utara kembali menguji rudal balistik jarak menengah pada Selasa pagi. "
        "Kim Jong Un menyaksikan langsung peluncuran itu.",
        url="https://example.test/a1", source="Kabar Timur", published=when(1), lang="id",
    ),
    ArticleIn(
        text="Putin meets envoys in Moscow. The talks covered energy and trade.",
        url="https://example.test/a2", source="Wire", published=when(2), lang="en",
    ),
    ArticleIn(
        title="Satelit cuaca baru diluncurkan",
        text="Badan antariksa meluncurkan satelit cuaca dari Kalimantan. "
        "Satelit-satelit itu akan memantau hujan.",
        url="https://example.test/a3", source="Kabar Timur", published=when(3), lang="id",
    ),
    ArticleIn(
        title="Harga beras stabil",
        text="Harga beras di pasar induk stabil sepekan terakhir.",
        url="https://example.test/a4", source="Warta Pasar", published=when(4), lang="id",
    ),
    ArticleIn(
        title="Latihan militer gabungan",
        text="Rudalnya jatuh di perairan terbuka, kata pejabat militer.",
        url="https://example.test/a5", source="Kabar Timur", published=when(5), lang="id",
    ),
    ArticleIn(
        title="Pasar saham menguat",
        text="Indeks saham menguat tipis pada penutupan perdagangan.",
        url="https://example.test/a6", source="Warta Pasar", published=when(6), lang="id",
    ),
    ArticleIn(
        title="Kimia Farma melaporkan laba",
        text="Perusahaan Kimia Farma melaporkan laba naik pada kuartal pertama.",
        url="https://example.test/a7", source="Warta Pasar", published=when(7), lang="id",
    ),
]  # fmt: skip


@pytest.fixture
def news_db(db: Database) -> Database:
    assert len(save_articles(db, ARTICLES).new_ids) == len(ARTICLES)
    return db


def run(
    db: Database,
    text: str,
    *,
    user: str = USER,
    lang: str = "id",
    chat: str = CHAT,
    prefix: str | None = None,
) -> Reply:
    ctx = CommandContext(platform=PLATFORM, chat_address=chat, user_id=user, chat_title="Redaksi")
    settings_ = Settings(default_language=lang, admins=frozenset({ADMIN}))
    return execute(db, ctx, text, settings_, prefix=prefix)


def the_chat(db: Database, address: str = CHAT) -> Chat:
    chat = db.chats.get(PLATFORM, address)
    assert chat is not None
    return chat


def subscribed(db: Database, address: str = CHAT) -> list[str]:
    chat = db.chats.get(PLATFORM, address)
    return [k.query for k in db.chats.keywords(chat)] if chat else []


def keyword_queries(db: Database) -> list[str]:
    return [k.query for k in db.keywords.all()]


def audit_count(db: Database) -> int:
    return db.conn.execute("SELECT count(*) FROM audit").fetchone()[0]


def snapshot(db: Database) -> dict[str, list[tuple]]:
    """Every row of the tables a command may write."""
    tables = ("keywords", "chats", "subscriptions", "audit")
    return {t: db.conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall() for t in tables}


# --- parse_command -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", ("start", [])),
        ("/Start@KabarBot arg", ("start", ["arg"])),
        ("/start@KabarBot", ("start", [])),
        ("kabar sub Kim", ("subscribe", ["Kim"])),
        ("/kabar unsub Kim", ("unsubscribe", ["Kim"])),
        ("LIST", ("list", [])),
        ("@KabarBot help", ("help", [])),
        ('subscribe "Kim Jong Un" rudal', ("subscribe", ['"Kim Jong Un"', "rudal"])),
        ("subscribe “Kim Jong Un”", ("subscribe", ['"Kim Jong Un"'])),
        ('search Kim -"Jong Un"', ("search", ["Kim", '-"Jong Un"'])),
        ('/addkeyword "unbalanced phrase', ("addkeyword", ['"unbalanced phrase'])),
        ("  /lang \t en  \n", ("lang", ["en"])),
        ("", ("", [])),
        ("   ", ("", [])),
        ("/", ("", [])),
    ],
)
def test_parse_command(text: str, expected: tuple[str, list[str]]) -> None:
    assert parse_command(text) == expected


@given(st.text(max_size=300))
def test_parse_command_never_raises(text: str) -> None:
    verb, args = parse_command(text)
    assert verb == verb.lower() and not verb.startswith("/") and "@" not in verb
    if not text.split():
        assert (verb, args) == ("", [])
    elif verb not in commands.ALIASES.values():  # otherwise the verb is a word of the text itself
        assert verb in unicodedata.normalize("NFC", text).translate(commands._QUOTES).lower()
    assert all(arg and not arg.isspace() for arg in args)


def test_verbs_are_the_contract_in_help_order() -> None:
    assert VERBS == (
        "start", "stop", "subscribe", "unsubscribe", "keywords", "list", "lang", "latest",
        "search", "stats", "help", "addkeyword", "removekeyword", "feeds", "addfeed", "removefeed",
        "block", "unblock",
        "digest", "quiet", "pause", "resume", "timezone",
    )  # fmt: skip
    assert set(commands.HANDLERS) == set(VERBS)
    assert sorted(ADMIN_VERBS) == ["addfeed", "addkeyword", "removefeed", "removekeyword"]


# --- start / stop --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Langganan aktif untuk semua 5 kata kunci: Kim, Putin, rudal, satelit,"
               ' "Kim Jong Un".'),
        ("en", 'Subscribed to all 5 keywords: Kim, Putin, rudal, satelit, "Kim Jong Un".'),
    ],
)  # fmt: skip
def test_start_subscribes_to_everything_and_follows_new_keywords(
    db: Database, lang: str, expected: str
) -> None:
    reply = run(db, "/start", lang=lang)
    assert reply.ok and reply.changed
    assert expected in reply.text
    assert "/stop" in reply.text
    chat = the_chat(db)
    assert (chat.language, chat.follow_all, chat.title) == (lang, True, "Redaksi")
    assert subscribed(db) == SEEDS
    again = run(db, "/start", lang=lang)
    assert again.ok and not again.changed


def test_start_addressed_to_the_bot(db: Database) -> None:
    reply = run(db, "/start@KabarBot")
    assert reply.ok and reply.text.startswith("Kabar aktif di chat ini.")
    assert subscribed(db) == SEEDS


def test_start_without_keywords() -> None:
    empty = open_store(":memory:")
    reply = run(empty, "/start", lang="en")
    assert reply.ok
    assert "no keywords are configured yet" in reply.text
    assert the_chat(empty).follow_all


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Notifikasi dihentikan: langganan 5 kata kunci dicabut. Ketik /start untuk"
               " berlangganan lagi."),
        ("en", "Alerts stopped: unsubscribed from 5 keywords. Send /start to subscribe again."),
    ],
)  # fmt: skip
def test_stop_unsubscribes_everything(db: Database, lang: str, expected: str) -> None:
    run(db, "/start", lang=lang)
    reply = run(db, "/stop", lang=lang)
    assert (reply.text, reply.ok, reply.changed) == (expected, True, True)
    assert subscribed(db) == []
    assert not the_chat(db).follow_all
    db.keywords.add("Seoul", "config")  # no longer followed automatically
    assert subscribed(db) == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Chat ini tidak berlangganan apa pun. Ketik /start untuk berlangganan semua"
               " kata kunci."),
        ("en", "This chat has no subscriptions. Send /start to subscribe to every keyword."),
    ],
)  # fmt: skip
def test_stop_with_nothing_to_stop(db: Database, lang: str, expected: str) -> None:
    reply = run(db, "/stop", lang=lang)
    assert (reply.text, reply.changed) == (expected, False)
    assert db.chats.get(PLATFORM, CHAT) is None  # a read-only command creates no chat


# --- subscribe / unsubscribe ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", 'Langganan aktif untuk: Kim, "Kim Jong Un", rudal.'),
        ("en", 'Subscribed to: Kim, "Kim Jong Un", rudal.'),
    ],
)
def test_subscribe_several_with_a_quoted_phrase(db: Database, lang: str, expected: str) -> None:
    reply = run(db, '/subscribe kim "Kim Jong Un" RUDAL', lang=lang)
    assert (reply.text, reply.ok, reply.changed) == (expected, True, True)
    assert subscribed(db) == ["Kim", "rudal", '"Kim Jong Un"']  # stored order (keyword id)
    chat = the_chat(db)
    assert chat.language == lang and not chat.follow_all


def test_subscribe_unquoted_phrase_and_multiword_query(db: Database) -> None:
    db.keywords.add("Kim -Kardashian", "config")
    reply = run(db, "/subscribe Kim Jong Un Kim -Kardashian satelit", lang="en")
    assert reply.text == 'Subscribed to: "Kim Jong Un", Kim -Kardashian, satelit.'
    assert subscribed(db) == ["satelit", '"Kim Jong Un"', "Kim -Kardashian"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Langganan aktif untuk: Putin.\nSudah berlangganan: Kim."),
        ("en", "Subscribed to: Putin.\nAlready subscribed to: Kim."),
    ],
)
def test_subscribe_already_subscribed(db: Database, lang: str, expected: str) -> None:
    run(db, "/subscribe Kim", lang=lang)
    reply = run(db, "/subscribe Kim Putin", lang=lang)
    assert (reply.text, reply.changed) == (expected, True)
    assert subscribed(db) == ["Kim", "Putin"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Langganan aktif untuk: Putin.\nBukan kata kunci yang terdaftar: Trump, Kimia."
               ' Kata kunci yang tersedia: Kim, Putin, rudal, satelit, "Kim Jong Un".'),
        ("en", "Subscribed to: Putin.\nNot a configured keyword: Trump, Kimia."
               ' Configured keywords: Kim, Putin, rudal, satelit, "Kim Jong Un".'),
    ],
)  # fmt: skip
def test_subscribe_unknown_keyword_is_named(db: Database, lang: str, expected: str) -> None:
    reply = run(db, "/subscribe Trump Putin Kimia", lang=lang)
    assert (reply.text, reply.ok, reply.changed) == (expected, False, True)
    assert subscribed(db) == ["Putin"]


def test_subscribe_only_unknown_changes_nothing(db: Database) -> None:
    before = snapshot(db)
    reply = run(db, "/subscribe Trump")
    assert not reply.ok and not reply.changed
    assert "Bukan kata kunci yang terdaftar: Trump." in reply.text
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Cara pakai: /subscribe KATA_KUNCI…"),
        ("en", "Usage: /subscribe KEYWORD…"),
    ],
)
def test_subscribe_without_arguments_shows_usage(db: Database, lang: str, expected: str) -> None:
    reply = run(db, "/subscribe", lang=lang)
    assert not reply.ok and reply.text.startswith(expected)
    assert '"Kim Jong Un"' in reply.text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Langganan dicabut untuk: Kim, rudal.\nTidak sedang berlangganan: Putin."),
        ("en", "Unsubscribed from: Kim, rudal.\nNot subscribed to: Putin."),
    ],
)
def test_unsubscribe(db: Database, lang: str, expected: str) -> None:
    run(db, "/subscribe Kim rudal satelit", lang=lang)
    reply = run(db, "/unsubscribe KIM rudal Putin", lang=lang)
    assert (reply.text, reply.ok, reply.changed) == (expected, True, True)
    assert subscribed(db) == ["satelit"]


def test_unsubscribe_after_start_stops_following_new_keywords(db: Database) -> None:
    run(db, "/start", lang="en")
    reply = run(db, '/unsubscribe "Kim Jong Un"', lang="en")
    assert reply.text == (
        'Unsubscribed from: "Kim Jong Un".\nNew keywords are no longer added automatically;'
        " send /start to subscribe to everything again."
    )
    assert subscribed(db) == ["Kim", "Putin", "rudal", "satelit"]
    assert not the_chat(db).follow_all


def test_unsubscribe_unknown_keyword(db: Database) -> None:
    reply = run(db, "/unsubscribe Trump", lang="en")
    assert not reply.ok and not reply.changed
    assert reply.text.startswith("Not a configured keyword: Trump.")


# --- keywords / list / lang ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", 'Kata kunci yang terdaftar (5): Kim, Putin, rudal, satelit, "Kim Jong Un".'
               " Berlangganan dengan /subscribe KATA_KUNCI, atau semuanya dengan /start."),
        ("en", 'Configured keywords (5): Kim, Putin, rudal, satelit, "Kim Jong Un".'
               " Subscribe with /subscribe KEYWORD, or to all of them with /start."),
    ],
)  # fmt: skip
def test_keywords(db: Database, lang: str, expected: str) -> None:
    assert run(db, "/keywords", lang=lang) == Reply(expected)


@pytest.mark.parametrize(
    ("lang", "start", "listed", "stopped"),
    [
        ("en", "Subscribed to 1 keyword: Kim.", "This chat is subscribed to 1 keyword: Kim.",
         "Alerts stopped: unsubscribed from 1 keyword."),
        ("id", "semua 1 kata kunci: Kim.", "Chat ini berlangganan 1 kata kunci: Kim.",
         "langganan 1 kata kunci dicabut."),
    ],
)  # fmt: skip
def test_one_keyword_is_singular(lang: str, start: str, listed: str, stopped: str) -> None:
    """Was "all 1 keywords" / "1 keywords" in English."""
    db = open_store(":memory:")
    db.keywords.add("Kim", "config")
    assert start in run(db, "/start", lang=lang).text
    assert run(db, "/list", lang=lang).text.startswith(listed)
    assert stopped in run(db, "/stop", lang=lang).text


def test_keywords_when_none_are_configured() -> None:
    reply = run(open_store(":memory:"), "keywords", lang="en")
    assert reply.text == "No keywords are configured yet."


@pytest.mark.parametrize(
    ("lang", "none", "some"),
    [
        ("id", "Chat ini belum berlangganan. Ketik /start",
         "Chat ini berlangganan 2 kata kunci: Kim, rudal."),
        ("en", "This chat has no subscriptions. Send /start",
         "This chat is subscribed to 2 keywords: Kim, rudal."),
    ],
)  # fmt: skip
def test_list(db: Database, lang: str, none: str, some: str) -> None:
    assert run(db, "/list", lang=lang).text.startswith(none)
    run(db, "/subscribe rudal Kim", lang=lang)
    first, modes = run(db, "/list", lang=lang).text.split("\n")
    assert first == some
    assert modes.endswith("WIB (Asia/Jakarta).")  # delivery mode, quiet hours, pause, zone


def test_list_after_start_mentions_following_and_paused_delivery(db: Database) -> None:
    run(db, "/start", lang="en")
    db.chats.set_active(the_chat(db).id, False, "blocked")
    text = run(db, "/list", lang="en").text
    assert "New keywords are added automatically." in text
    assert "Delivery to this chat is paused" in text
    run(db, "/subscribe Kim", lang="en")  # any subscription reactivates the chat
    assert the_chat(db).active


@pytest.mark.parametrize(
    ("command", "language", "expected"),
    [
        ("/lang en", "en", "This chat's language is now English."),
        ("/lang EN", "en", "This chat's language is now English."),
        ("/lang id", "id", "Bahasa chat ini sekarang Bahasa Indonesia."),
        ("/bahasa indonesia", "id", "Bahasa chat ini sekarang Bahasa Indonesia."),
    ],
)
def test_lang_sets_the_chat_language(
    db: Database, command: str, language: str, expected: str
) -> None:
    run(db, "/start", lang="id")
    reply = run(db, command, lang="id")
    assert (reply.text, reply.ok) == (expected, True)
    assert the_chat(db).language == language
    assert subscribed(db) == SEEDS  # language only


def test_lang_creates_a_new_chat_in_that_language(db: Database) -> None:
    assert run(db, "/lang en", lang="id").text == "This chat's language is now English."
    chat = the_chat(db)
    assert chat.language == "en" and subscribed(db) == []


@pytest.mark.parametrize("command", ["/lang", "/lang fr", "/lang id en", "/lang '; --"])
@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Cara pakai: /lang id|en (id = Bahasa Indonesia, en = English). Bahasa chat ini"
               " sekarang: id."),
        ("en", "Usage: /lang id|en (id = Bahasa Indonesia, en = English). This chat's language"
               " now: en."),
    ],
)  # fmt: skip
def test_lang_usage(db: Database, command: str, lang: str, expected: str) -> None:
    reply = run(db, command, lang=lang)
    assert (reply.text, reply.ok) == (expected, False)
    assert db.chats.get(PLATFORM, CHAT) is None


def test_replies_use_the_stored_chat_language_over_the_default(db: Database) -> None:
    run(db, "/lang en", lang="id")
    assert run(db, "/list", lang="id").text.startswith("This chat has no subscriptions.")


# --- latest / search -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "header"), [("id", "Berita terbaru:"), ("en", "Latest articles:")]
)
def test_latest_lists_the_five_newest(news_db: Database, lang: str, header: str) -> None:
    reply = run(news_db, "/latest", lang=lang)
    assert reply.ok
    assert reply.text.splitlines() == [
        header,
        "1. Kimia Farma melaporkan laba (Warta Pasar) https://example.test/a7",
        "2. Pasar saham menguat (Warta Pasar) https://example.test/a6",
        "3. Latihan militer gabungan (Kabar Timur) https://example.test/a5",
        "4. Harga beras stabil (Warta Pasar) https://example.test/a4",
        "5. Satelit cuaca baru diluncurkan (Kabar Timur) https://example.test/a3",
    ]


@pytest.mark.parametrize(
    ("command", "lang", "expected"),
    [
        ("/latest rudal", "id", [
            "Berita terbaru untuk rudal:",
            "1. Latihan militer gabungan (Kabar Timur) https://example.test/a5",
            "2. Korea Utara uji coba rudal balistik baru (Kabar Timur) https://example.test/a1",
        ]),
        ("/latest KIM", "en", [  # whole words: "Kimia" is not "Kim"
            "Latest articles for Kim:",
            "1. Korea Utara uji coba rudal balistik baru (Kabar Timur) https://example.test/a1",
        ]),
        ("/latest Putin", "en", [  # no title: the first sentence
            "Latest articles for Putin:",
            "1. Putin meets envoys in Moscow. (Wire) https://example.test/a2",
        ]),
        ("/latest Kim Jong Un", "id", [
            'Berita terbaru untuk "Kim Jong Un":',
            "1. Korea Utara uji coba rudal balistik baru (Kabar Timur) https://example.test/a1",
        ]),
        ("/latest beras OR saham", "en", [  # any valid query, not only a configured one
            "Latest articles for beras OR saham:",
            "1. Pasar saham menguat (Warta Pasar) https://example.test/a6",
            "2. Harga beras stabil (Warta Pasar) https://example.test/a4",
        ]),
    ],
)  # fmt: skip
def test_latest_for_a_keyword(news_db: Database, command: str, lang: str, expected: list) -> None:
    reply = run(news_db, command, lang=lang)
    assert reply.ok
    assert reply.text.splitlines() == expected


def test_every_query_error_has_a_catalog_message_with_its_parameters() -> None:
    from bot.alerts.i18n import Catalog
    from tests.support import placeholders

    catalog = Catalog("handlers")
    for lang in ("id", "en"):
        for key, english in MESSAGES.items():
            assert placeholders(catalog.messages(lang)[f"query.{key}"]) == placeholders(english)


def test_latest_for_a_stored_query_that_no_longer_parses_is_a_reply(db: Database) -> None:
    db.conn.execute("INSERT INTO keywords (query, created_at) VALUES ('(', '2024')")
    reply = run(db, "/latest (", lang="id")
    assert not reply.ok
    assert reply.text.startswith("Kueri kata kunci tidak valid: istilah '(' tidak berisi huruf")


@pytest.mark.parametrize(
    ("command", "lang", "expected", "ok"),
    [
        ("/latest Seoul", "id", "Belum ada berita terbaru yang cocok dengan Seoul.", True),
        ("/latest Seoul", "en", "No recent articles match Seoul.", True),
        ("/latest -Kim", "en", "Invalid keyword query: query has only exclusions", False),
    ],
)
def test_latest_nothing_or_invalid(
    news_db: Database, command: str, lang: str, expected: str, ok: bool
) -> None:
    reply = run(news_db, command, lang=lang)
    assert reply.text.startswith(expected) and reply.ok is ok


@pytest.mark.parametrize(("lang", "expected"), [("id", "Belum ada berita"), ("en", "No articles")])
def test_latest_with_an_empty_store(db: Database, lang: str, expected: str) -> None:
    assert run(db, "/latest", lang=lang).text.startswith(expected)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", ["Hasil pencarian “satelit cuaca”:",
                "1. Satelit cuaca baru diluncurkan (Kabar Timur) https://example.test/a3"]),
        ("en", ["Search results for “satelit cuaca”:",
                "1. Satelit cuaca baru diluncurkan (Kabar Timur) https://example.test/a3"]),
    ],
)  # fmt: skip
def test_search(news_db: Database, lang: str, expected: list[str]) -> None:
    reply = run(news_db, "/search satelit cuaca", lang=lang)
    assert reply.ok and reply.text.splitlines() == expected


def test_search_phrase(news_db: Database) -> None:
    lines = run(news_db, '/search "Kim Jong Un"', lang="en").text.splitlines()
    assert lines[1:] == [
        "1. Korea Utara uji coba rudal balistik baru (Kabar Timur) https://example.test/a1"
    ]


@pytest.mark.parametrize(
    ("command", "lang", "expected", "ok"),
    [
        ("/search gempa", "id", "Tidak ada berita yang cocok dengan “gempa”.", True),
        ("/search gempa", "en", "No articles found for “gempa”.", True),
        ("/search", "id", "Cara pakai: /search KATA…", False),
        ("/search", "en", "Usage: /search WORDS…", False),
        ("/search * ( )", "en", "Usage: /search WORDS…", False),
        ("/search " + "kata " * 41, "id", "Teks pencarian terlalu panjang (maksimal 200", False),
        ("/search " + "word " * 41, "en", "Search text too long (at most 200 characters).", False),
    ],
)
def test_search_nothing_empty_or_too_long(
    news_db: Database, command: str, lang: str, expected: str, ok: bool
) -> None:
    reply = run(news_db, command, lang=lang)
    assert reply.text.startswith(expected) and reply.ok is ok


@pytest.mark.parametrize(
    "query",
    ["Kim OR", "OR", "NEAR(", "NEAR(Kim rudal)", "*", "rud*", "Kim AND NOT", "title:Kim",
     "^Kim", '"', '"Kim', "Kim -", "(((", "{Kim}", "Kim + rudal", "Kim\x00rudal"],
)  # fmt: skip
def test_search_with_fts_operators_never_raises(news_db: Database, query: str) -> None:
    reply = run(news_db, f"/search {query}", lang="en")
    assert reply.text
    assert news_db.integrity_ok()


# --- help ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "header", "mark", "line"),
    [
        ("id", "Perintah Kabar:", "(khusus admin)", "/lang id|en — ganti bahasa balasan"),
        ("en", "Kabar commands:", "(admins only)", "/lang id|en — change the language of"),
    ],
)
def test_help_lists_every_verb_and_marks_admin_verbs(
    db: Database, lang: str, header: str, mark: str, line: str
) -> None:
    lines = run(db, "/help", lang=lang).text.splitlines()
    assert lines[0] == header
    assert [entry.split()[0] for entry in lines[1:]] == [f"/{verb}" for verb in VERBS]
    for verb, entry in zip(VERBS, lines[1:], strict=True):
        assert entry.endswith(mark) is (verb in ADMIN_VERBS), entry
    assert any(entry.startswith(line) for entry in lines)


def test_slack_prefix_in_help_and_usage(db: Database) -> None:
    lines = run(db, "help", lang="en", prefix="/kabar ").text.splitlines()
    assert lines[1].startswith("/kabar start — ")
    assert run(db, "lang", lang="en", prefix="/kabar ").text.startswith("Usage: /kabar lang")
    assert run(db, "foo", lang="en", prefix="/kabar ").text == (
        "Unknown command: /kabar foo. Try /kabar help."
    )


# --- admin verbs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Kata kunci ditambahkan: Seoul OR Pyongyang. Chat yang berlangganan semua"
               " kata kunci (lewat /start) otomatis ikut berlangganan."),
        ("en", "Keyword added: Seoul OR Pyongyang. Chats that follow every keyword (via /start)"
               " are subscribed to it automatically."),
    ],
)  # fmt: skip
def test_admin_adds_a_keyword(db: Database, lang: str, expected: str) -> None:
    run(db, "/start", lang=lang)  # follows every keyword
    run(db, "/subscribe Kim", chat="-2", lang=lang)  # picked one: does not follow new ones
    reply = run(db, "/addkeyword  Seoul   OR Pyongyang", user=ADMIN, lang=lang)
    assert (reply.text, reply.ok, reply.changed) == (expected, True, True)
    assert keyword_queries(db) == [*SEEDS, "Seoul OR Pyongyang"]
    assert subscribed(db) == [*SEEDS, "Seoul OR Pyongyang"]
    assert subscribed(db, "-2") == ["Kim"]
    entry = db.audit.entries(1)[0]
    assert (entry.actor, entry.action, entry.detail) == (
        f"telegram:{ADMIN}",
        "keyword.add",
        "Seoul OR Pyongyang",
    )


@pytest.mark.parametrize(
    ("command", "lang", "expected"),
    [
        ("/addkeyword KIM", "id", "Kim sudah ada di daftar kata kunci."),
        ("/addkeyword “kim jong un”", "en", '"Kim Jong Un" is already a keyword.'),
    ],
)
def test_admin_adds_a_duplicate(db: Database, command: str, lang: str, expected: str) -> None:
    before = snapshot(db)
    reply = run(db, command, user=ADMIN, lang=lang)
    assert (reply.text, reply.ok, reply.changed) == (expected, True, False)
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("command", "lang", "expected"),
    [
        ('/addkeyword "unbalanced', "en",
         "Invalid keyword query: unbalanced quote: the phrase starting at '\"unbalanced' is"
         ' never closed. Examples: rudal, "Kim Jong Un", satelit OR satellite, Kim -Kardashian.'),
        ("/addkeyword -Kim", "id",
         "Kueri kata kunci tidak valid: kueri hanya berisi pengecualian (-kim); tambahkan"
         " istilah yang dicari, misalnya Kim -Kardashian. Contoh: rudal"),
        ("/addkeyword (", "id",
         "Kueri kata kunci tidak valid: istilah '(' tidak berisi huruf atau angka. Contoh:"),
        ("/addkeyword Kim OR OR Putin", "id",
         "Kueri kata kunci tidak valid: 'OR OR' memerlukan istilah di antara kedua OR."),
        ("/addkeyword Kim OR -Kim", "id",
         "Kueri kata kunci tidak valid: alternatif 2 dari 2 hanya berisi pengecualian (-kim)"),
        ("/addkeyword Kim OR", "en", "Invalid keyword query: 'OR' at the end"),
        ("/addkeyword", "en", "Usage: /addkeyword QUERY, for example /addkeyword rudal"),
        ("/addkeyword", "id", "Cara pakai: /addkeyword KUERI, misalnya /addkeyword rudal"),
        ("/removekeyword", "en", "Usage: /removekeyword QUERY. Configured keywords: Kim,"),
        ('/removekeyword "unbalanced', "id",
         "Kueri kata kunci tidak valid: tanda kutip tidak berpasangan: frasa yang dimulai di"
         " '\"unbalanced' tidak pernah ditutup. Contoh:"),
        ("/removekeyword Seoul", "en", "No such keyword: Seoul. Configured keywords: Kim, Putin"),
        ("/removekeyword Seoul", "id", "Kata kunci tidak ditemukan: Seoul. Kata kunci yang"),
    ],
)  # fmt: skip
def test_admin_invalid_or_missing_query(
    db: Database, command: str, lang: str, expected: str
) -> None:
    before = snapshot(db)
    reply = run(db, command, user=ADMIN, lang=lang)
    assert reply.text.startswith(expected), reply.text
    assert not reply.ok and not reply.changed
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("command", "lang", "removed", "expected"),
    [
        ("/removekeyword rudal", "id", "rudal",
         "Kata kunci dihapus: rudal. Semua langganannya ikut dihapus."),
        ("/removekeyword kim jong un", "en", '"Kim Jong Un"',
         'Keyword removed: "Kim Jong Un", along with its subscriptions.'),
    ],
)  # fmt: skip
def test_admin_removes_a_keyword(
    db: Database, command: str, lang: str, removed: str, expected: str
) -> None:
    run(db, "/start", lang=lang)
    reply = run(db, command, user=ADMIN, lang=lang)
    assert (reply.text, reply.ok, reply.changed) == (expected, True, True)
    assert removed not in keyword_queries(db)
    assert subscribed(db) == [q for q in SEEDS if q != removed]
    entry = db.audit.entries(1)[0]
    assert (entry.actor, entry.action, entry.detail) == (
        f"telegram:{ADMIN}",
        "keyword.remove",
        removed,
    )


@pytest.mark.parametrize("user", [USER, "", "admin", f" {ADMIN}"])
@pytest.mark.parametrize(
    "command",
    ["/addkeyword Seoul", "/removekeyword Kim", "/addkeyword", "/removekeyword",
     '/addkeyword "unbalanced', "/ADDKEYWORD@KabarBot Seoul", "kabar removekeyword rudal"],
)  # fmt: skip
@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Maaf, hanya admin Kabar yang boleh mengubah daftar kata kunci. Tidak ada yang"
               " diubah."),
        ("en", "Sorry, only Kabar admins can change the keyword set. Nothing was changed."),
    ],
)  # fmt: skip
def test_non_admins_are_refused_and_nothing_changes(
    db: Database, user: str, command: str, lang: str, expected: str
) -> None:
    run(db, "/start", lang=lang)
    before = snapshot(db)
    reply = run(db, command, user=user, lang=lang)
    assert (reply.text, reply.ok, reply.changed) == (expected, False, False)
    assert snapshot(db) == before
    assert keyword_queries(db) == SEEDS


def test_admins_are_per_platform_settings(db: Database) -> None:
    ctx = CommandContext(platform="slack", chat_address="C1", user_id="U0ADMIN")
    slack = Settings(default_language="en", admins=frozenset({"U0ADMIN"}))
    reply = execute(db, ctx, "addkeyword Seoul", slack, prefix="/kabar ")
    assert reply.ok and reply.changed
    assert db.audit.entries(1)[0].actor == "slack:U0ADMIN"


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "lang", "expected"),
    [
        ("/foo", "id", "Perintah tidak dikenal: /foo. Ketik /help."),
        ("/foo bar", "en", "Unknown command: /foo. Try /help."),
        ("/FOO@KabarBot", "en", "Unknown command: /foo. Try /help."),
        ("/" + "x" * 100, "en", f"Unknown command: /{'x' * 39}…. Try /help."),
        ("", "id", "Tulis sebuah perintah, misalnya /start. Ketik /help untuk daftar perintah."),
        ("  \n ", "en", "Type a command, for example /start. Send /help for the list of commands."),
        ("/start " + "x" * 994, "id",
         "Pesan terlalu panjang (maksimal 1000 karakter). Perintah tidak dijalankan."),
        ("/search " + "y" * 2000, "en",
         "Message too long (at most 1000 characters). The command was not run."),
    ],
)  # fmt: skip
def test_unknown_empty_and_overlong_input(
    db: Database, command: str, lang: str, expected: str
) -> None:
    before = snapshot(db)
    reply = run(db, command, lang=lang)
    assert (reply.text, reply.ok, reply.changed) == (expected, False, False)
    assert snapshot(db) == before


def test_input_of_exactly_the_limit_is_accepted(db: Database) -> None:
    text = "/start " + "x" * (1000 - len("/start "))
    assert len(text) == 1000
    assert run(db, text).ok and subscribed(db) == SEEDS


HOSTILE = [
    "'; DROP TABLE keywords; --",
    "Robert'); DROP TABLE chats;--",
    "%",
    "_",
    '"',
    '""',
    "\\",
    "' OR '1'='1",
    "*",
    "NEAR(",
    "\x00",
    "{p}{0}{keywords}",
]


@pytest.mark.parametrize("payload", HOSTILE)
@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("user", [ADMIN, USER])
def test_sql_metacharacters_in_every_argument(
    news_db: Database, verb: str, payload: str, user: str
) -> None:
    run(news_db, "/start")
    reply = run(news_db, f"/{verb} {payload}", user=user)
    assert reply.text.strip()
    assert "{p}" not in reply.text.replace(payload, "")  # every template was filled
    assert news_db.integrity_ok()
    assert keyword_queries(news_db)[: len(SEEDS)] == SEEDS
    for table in ("keywords", "chats", "subscriptions", "articles", "audit"):  # none dropped
        news_db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert news_db.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == len(ARTICLES)


def test_hostile_keyword_is_stored_as_plain_text(db: Database) -> None:
    reply = run(db, "/addkeyword Robert'); DROP TABLE chats;--", user=ADMIN, lang="en")
    assert reply.ok, reply.text
    assert keyword_queries(db)[-1] == "Robert'); DROP TABLE chats;--"
    assert run(db, "/subscribe Robert'); DROP TABLE chats;--", lang="en").ok
    assert run(db, "/removekeyword Robert'); DROP TABLE chats;--", user=ADMIN).changed
    assert keyword_queries(db) == SEEDS


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=120), admin=st.booleans())
def test_execute_never_raises(text: str, admin: bool) -> None:
    database = open_store(":memory:")
    subscribe_to = database.keywords.add("Kim", "config")
    assert subscribe_to is not None
    reply = run(database, text, user=ADMIN if admin else USER)
    assert reply.text.strip()
    assert database.integrity_ok()


# --- catalog -------------------------------------------------------------------------------------


def test_every_message_key_used_exists_and_every_key_is_used() -> None:
    source = (ROOT / "handlers" / "commands.py").read_text(encoding="utf-8")
    source += (ROOT / "handlers" / "actions.py").read_text(encoding="utf-8")  # the buttons
    used = set(re.findall(r'"([a-z_]+\.[a-z_]+)"', source)) | {f"help.{v}" for v in VERBS}
    used |= {f"menu.{v}" for v in VERBS}  # the Telegram command menu
    console = (ROOT / "handlers" / "console" / "adapter.py").read_text(encoding="utf-8")
    console += (ROOT / "bot" / "demo.py").read_text(encoding="utf-8")
    used |= {f"console.{key}" for key in re.findall(r'status\("([a-z_]+)"', console)}
    used |= {f"query.{key}" for key in MESSAGES}  # rendered as f"query.{exc.key}"
    used |= {f"feed.invalid.{code}" for code in URL_PROBLEMS}  # f"feed.invalid.{problem}"
    used |= {f"feed.reason.{reason}" for reason in REASONS}  # f"feed.reason.{reason}"
    for lang in ("id", "en"):
        path = ROOT / "handlers" / "locales" / f"{lang}.json"
        keys = {plural_key(k)[0] for k in json.loads(path.read_text(encoding="utf-8"))}
        assert used - keys == set(), lang
        assert keys - used == set(), lang


def test_importing_has_no_side_effects() -> None:
    code = (
        "import handlers.commands, bot.alerts.i18n;"
        " print(bot.alerts.i18n.load_catalog.cache_info().currsize)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "0"


def test_chat_seen_first_by_subscribe_gets_default_language(db: Database) -> None:
    run(db, "/subscribe Kim", lang="en")
    assert the_chat(db).language == "en"
    db.chats.subscribe(the_chat(db), db.keywords.all())  # store-level change shows up in /list
    assert run(db, "/list").text.startswith("This chat is subscribed to 5 keywords")


# --- many words against many keywords (issue 15: one /subscribe stalled the bot) -------------


@pytest.fixture
def big_db(db: Database) -> Database:
    """10,000 stored keywords (as an older database or a hand import left them) plus one long
    OR query, the shape that made one /subscribe take minutes."""
    rows = [(f"Nama{i:05d}", "2024-05-01T00:00:00.000000Z") for i in range(10_000)]
    rows.append((" OR ".join(f"kata{i}" for i in range(20)), "2024-05-01T00:00:00.000000Z"))
    db.conn.executemany("INSERT INTO keywords (query, created_at) VALUES (?, ?)", rows)
    db.keywords.seed([])  # what every start does: brings the lookup index up to date
    return db


def test_subscribe_with_too_many_words_is_refused_in_the_chat_language(big_db: Database) -> None:
    words = " ".join(chr(97 + i % 26) for i in range(494))  # 494 words within 1000 chars
    before = snapshot(big_db)
    for lang, expected in (
        ("id", "Terlalu banyak kata kunci dalam satu perintah (494; paling banyak 50)."),
        ("en", "Too many keywords in one command (494; at most 50)."),
    ):
        reply = run(big_db, f"/subscribe {words}", lang=lang)
        assert reply.text.startswith(expected) and not reply.ok
        reply = run(big_db, f"/unsubscribe {words}", lang=lang)
        assert reply.text.startswith(expected) and not reply.ok
    assert snapshot(big_db) == before


@pytest.mark.sqlite_only("set_trace_callback")
def test_subscribe_resolves_many_words_in_a_few_indexed_lookups(big_db: Database) -> None:
    args = ["nama09999", "Kim", "kata0", "OR", "kata1", "OR", "Seoul"] + [
        f"Nama{i:05d}" for i in range(43)
    ]  # 50 words
    statements: list[str] = []
    big_db.conn.set_trace_callback(statements.append)
    reply = run(big_db, "/subscribe " + " ".join(args))
    big_db.conn.set_trace_callback(None)
    assert reply.text.splitlines()[0].startswith("Langganan aktif untuk: Nama09999, Kim, Nama00000")
    assert "Seoul" in reply.text.splitlines()[-1] and "kata0" in reply.text.splitlines()[-1]
    keyword_lookups = [s for s in statements if "FROM keywords" in s]
    assert len(keyword_lookups) <= 10, len(keyword_lookups)
    plan = " ".join(
        str(row)
        for row in big_db.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM keywords WHERE norm IN (?)", ["kim"]
        )
    )
    assert "keywords_norm" in plan


def test_an_older_database_gets_the_keyword_index_on_start(tmp_path: Path) -> None:
    import sqlite3

    from store.schema import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:  # a database made by the first schema
        conn.execute(statement)
    conn.executemany(
        "INSERT INTO keywords (query, created_at) VALUES (?, '2024')",
        [("Kim",), ("Ünal",), ('"Kim Jong Un"',)],
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    database = open_store(path)
    database.keywords.seed([])  # every start
    assert database.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    reply = run(database, "/subscribe kim ÜNAL kim jong un", lang="en")
    assert reply.text == 'Subscribed to: Kim, Ünal, "Kim Jong Un".'


def test_latest_names_wire_tags_like_alerts_do(db: Database) -> None:
    save_articles(
        db,
        [
            ArticleIn(
                title="Rudal baru diuji",
                text="Korea Utara menguji rudal baru pada Senin pagi.",
                url="https://example.test/w1",
                source="ant",
                published=when(9),
                lang="id",
            )
        ],
    )
    assert run(db, "/latest").text.splitlines()[1] == (
        "1. Rudal baru diuji (Antara) https://example.test/w1"
    )
