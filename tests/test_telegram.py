"""The Telegram adapter: the real python-telegram-bot over real HTTP to a fake Bot API server on
127.0.0.1, a real SQLite store in tmp_path; commands in, alerts out, failures and pacing."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlite_utils import Database
from telegram import Bot
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from bot.alerts.alert import Alert
from bot.alerts.i18n import Catalog
from bot.app.service import Service
from bot.config import Config, ConfigError, config_from_dict
from bot.delivery.worker import FAILED, GONE, RETRY, SENT
from bot.ingest.dedup import save_articles
from handlers import commands
from handlers.commands import VERBS
from handlers.telegram.adapter import TelegramPlatform, TelegramSender, retry_after_seconds
from handlers.telegram.format import html_to_plain, split_message
from store import open_store
from store.models import ArticleIn
from tests.fakes.telegram_api import (
    Failure,
    FakeTelegram,
    bad_entities,
    blocked,
    chat_not_found,
    dropped,
    migrated,
    server_error,
    slow,
    too_many_requests,
)
from tests.support import drain

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123:TEST"
USERNAME = "KabarTestBot"
ADMIN = 1
KIM_RUDAL = (
    "Pemimpin Korea Utara Kim Jong Un menyaksikan peluncuran rudal balistik antarbenua"
    " dari pantai timur pada Selasa pagi, kata kantor berita KCNA."
)
KIM_ONLY = [
    "Kim Jong Un mengunjungi pabrik traktor di provinsi Hamgyong Selatan dan memuji para pekerja"
    " atas target produksi tahun ini.",
    "Kim Jong Un membuka sekolah baru di Pyongyang dan berpidato tentang pendidikan generasi muda"
    " negeri itu.",
]
RUDAL_ONLY = (
    "Militer Jepang melacak sebuah rudal yang jatuh di luar zona ekonomi eksklusif negara"
    " itu pada Rabu malam."
)
PUTIN = (
    "Presiden Rusia Vladimir Putin menerima kunjungan delegasi dagang dari Jakarta di Kremlin"
    " pada Kamis siang."
)
REFUSED = Catalog("handlers").t("id", "admin.refused")

# PTB itself reads RetryAfter.retry_after while building the exception.
pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type:DeprecationWarning")


@dataclass
class Kabar:
    """One running bot: store, Telegram platform (PTB) and service, against the fake server."""

    fake: FakeTelegram
    config: Config
    db: Database
    platform: TelegramPlatform
    service: Service

    async def say(self, chat_id: int, text: str, **kwargs: Any) -> str:
        """Send `text` into the chat and wait for the bot's reply there."""
        before = len(self.fake.messages_to(chat_id))
        self.fake.send_text(chat_id, text, **kwargs)
        await self.fake.wait_for(lambda: len(self.fake.messages_to(chat_id)) > before)
        return self.fake.messages_to(chat_id)[-1]["text"]

    async def check(self) -> None:
        """One matching pass, then delivery until the outbox is drained (retries included)."""
        await self.service.match()
        await drain(self.db, self.service.deliver)

    def alerts(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.fake.messages_to(chat_id) if m.get("parse_mode") == "HTML"]

    async def close(self) -> None:
        await self.platform.stop()
        await self.service.close()
        self.db.close()


def make_config(fake: FakeTelegram, tmp_path: Path, **telegram: Any) -> Config:
    return config_from_dict(
        {
            "telegram": {"token": TOKEN, "base_url": fake.base_url, "admins": [ADMIN], **telegram},
            "store": {"path": str(tmp_path / "kabar.db")},
        },
        env={},
    )


async def start_kabar(
    fake: FakeTelegram,
    tmp_path: Path,
    *,
    listen: bool = True,
    location: str | None = None,  # the store (a file or a PostgreSQL URL); default a file
    **telegram: Any,
) -> Kabar:
    config = make_config(fake, tmp_path, **telegram)
    db = open_store(location or tmp_path / "kabar.db")
    db.keywords.seed(config.keywords)
    platform = TelegramPlatform(config, db)
    service = Service(config, db, {"telegram": platform.sender})
    try:
        await platform.start(service, listen=listen)
    except BaseException:
        db.close()
        raise
    return Kabar(fake, config, db, platform, service)


def add_articles(db: Database, *texts: str) -> None:
    report = save_articles(
        db,
        [
            ArticleIn(
                text=text,
                title=f"Berita hari ini nomor {zlib.crc32(text.encode()) % 1000}",
                source="tes",
                lang="id",
                url=f"https://kabar.example/{zlib.crc32(text.encode())}",
            )
            for text in texts
        ],
    )
    assert len(report.new_ids) == len(texts)


def follow(db: Database, address: int, *queries: str) -> None:
    chat = db.chats.ensure("telegram", str(address), "id")
    keywords = [k for k in db.keywords.all() if k.query in queries] if queries else None
    db.chats.subscribe(chat, keywords or db.keywords.all(), follow_all=not queries)


def outbox_rows(db: Database, address: int) -> list[tuple[str, int, str | None]]:
    return db.conn.execute(
        "SELECT o.status, o.attempts, o.message_id FROM outbox o JOIN chats c ON c.id = o.chat_id"
        " WHERE c.address = ? ORDER BY o.id",
        [str(address)],
    ).fetchall()


# ---------------------------------------------------------------- commands and alerts


async def test_private_chat_start_alert_lang_unsubscribe_stop(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    assert "Kabar" in await kabar.say(1001, "/start")
    chat = db.chats.get("telegram", "1001")
    assert chat is not None and chat.language == "id" and chat.title == "User1001"

    add_articles(db, KIM_RUDAL)
    await kabar.check()
    [alert] = kabar.alerts(1001)
    assert alert["parse_mode"] == "HTML"
    assert "Kata kunci:" in alert["text"] and "<b>Kim</b>" in alert["text"]
    assert alert["link_preview_options"] == {"is_disabled": True}
    assert outbox_rows(db, 1001) == [("sent", 1, str(alert["message_id"]))]

    assert "English" in await kabar.say(1001, "/lang en")
    add_articles(db, KIM_ONLY[0])
    await kabar.check()
    assert len(kabar.alerts(1001)) == 2 and "Keywords:" in kabar.alerts(1001)[-1]["text"]

    await kabar.say(1001, "/unsubscribe Kim")
    add_articles(db, KIM_ONLY[1])
    await kabar.check()
    assert len(kabar.alerts(1001)) == 2  # only rudal is left

    await kabar.say(1001, "/stop")
    add_articles(db, RUDAL_ONLY)
    await kabar.check()
    assert len(kabar.alerts(1001)) == 2
    assert all(
        m.get("parse_mode") is None for m in fake.messages_to(1001) if m not in kabar.alerts(1001)
    )  # replies are plain text


async def test_group_commands_addressed_to_this_bot_only(kabar: Kabar) -> None:
    fake = kabar.fake
    reply = await kabar.say(-2001, f"/start@{USERNAME}", user_id=7)
    assert "Kabar" in reply
    chat = kabar.db.chats.get("telegram", "-2001")
    assert chat is not None and chat.title == "Test group" and chat.follow_all
    fake.send_text(-2001, "/start@OtherBot", user_id=7)  # another bot's command
    fake.send_text(-2001, "/nonsense", user_id=7)  # not ours to answer in a group
    unknown = await kabar.say(-2001, f"/nonsense@{USERNAME}", user_id=7)
    assert "/nonsense" in unknown
    assert len(fake.messages_to(-2001)) == 2
    assert "/nonsense" in await kabar.say(1002, "/nonsense")  # a private chat always gets one
    assert "rudal" in await kabar.say(1002, "/sub rudal")  # aliases work too
    assert [k.query for k in kabar.db.chats.keywords(kabar.db.chats.get("telegram", "1002"))] == [
        "rudal"
    ]


async def test_admin_edits_keywords_and_others_are_refused(kabar: Kabar) -> None:
    db = kabar.db
    reply = await kabar.say(ADMIN, "/addkeyword satelit OR satellite")
    assert "satelit OR satellite" in reply
    assert db.keywords.find("satelit OR satellite") is not None
    before = [k.query for k in db.keywords.all()]
    assert await kabar.say(5, "/addkeyword Biden") == REFUSED
    assert await kabar.say(-3001, f"/removekeyword@{USERNAME} Kim", user_id=5) == REFUSED
    assert [k.query for k in db.keywords.all()] == before


async def test_channel_post_commands(kabar: Kabar) -> None:
    fake = kabar.fake
    before = len(fake.messages_to(-1009001))
    fake.send_channel_post(-1009001, "/start")
    await fake.wait_for(lambda: len(fake.messages_to(-1009001)) > before)
    chat = kabar.db.chats.get("telegram", "-1009001")
    assert chat is not None and chat.title == "Test channel" and chat.follow_all
    fake.send_channel_post(-1009001, "/addkeyword Biden")  # no user: never an admin
    await fake.wait_for(lambda: len(fake.messages_to(-1009001)) > before + 1)
    assert fake.messages_to(-1009001)[-1]["text"] == REFUSED


async def test_command_menu_in_both_languages(kabar: Kabar) -> None:
    menus = {lang: kabar.fake.commands[("default", lang)] for lang in ("", "id", "en")}
    for menu in menus.values():
        assert [c["command"] for c in menu] == list(VERBS)
    catalog = Catalog("handlers")
    for lang in ("id", "en"):
        assert [c["description"] for c in menus[lang]] == [
            catalog.t(lang, f"menu.{verb}") for verb in VERBS
        ]
    assert menus["id"][0]["description"] == "Berlangganan semua kata kunci"
    assert menus[""] == menus["id"] != menus["en"]  # no language: default_language ("id")
    await kabar.fake.wait_for(lambda: kabar.fake.allowed_updates)
    assert kabar.fake.allowed_updates == ["message", "channel_post", "callback_query"]


async def test_menu_without_language_follows_default_language(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    config = config_from_dict(
        {
            "default_language": "en",
            "telegram": {"token": TOKEN, "base_url": fake.base_url},
            "store": {"path": str(tmp_path / "k.db")},
        },
        env={},
    )
    db = open_store(tmp_path / "k.db")
    platform = TelegramPlatform(config, db)
    try:
        await platform.start(None, listen=True)
        assert fake.commands[("default", "")] == fake.commands[("default", "en")]
        assert fake.commands[("default", "")][0]["description"] == "Subscribe to every keyword"
    finally:
        await platform.stop()
        db.close()


async def test_group_upgraded_to_supergroup_keeps_its_subscriptions(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    await kabar.say(-4001, f"/start@{USERNAME}")
    await kabar.say(-4001, f"/unsubscribe@{USERNAME} Putin")
    before = db.chats.keywords(db.chats.get("telegram", "-4001"))
    fake.migrate_group(-4001, -1004001)
    await fake.wait_for(lambda: db.chats.get("telegram", "-1004001") is not None)
    assert db.chats.get("telegram", "-4001") is None
    assert db.chats.keywords(db.chats.get("telegram", "-1004001")) == before
    add_articles(db, KIM_RUDAL)
    await kabar.check()
    assert len(kabar.alerts(-1004001)) == 1 and not kabar.alerts(-4001)


async def test_send_to_a_migrated_group_moves_the_chat_and_delivers_once(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    follow(db, -5001)
    fake.fail(migrated(-1005001), chat_id=-5001)
    add_articles(db, KIM_RUDAL, RUDAL_ONLY)
    await kabar.check()
    assert len(kabar.alerts(-1005001)) == 2 and not kabar.alerts(-5001)
    assert db.chats.get("telegram", "-1005001").follow_all
    assert db.outbox.counts() == {"sent": 2}


# ---------------------------------------------------------------- failures


async def test_429_storm_delivers_exactly_once(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    follow(db, 1101)
    follow(db, 1102)
    fake.fail(*[too_many_requests(1)] * 3, chat_id=1101)
    add_articles(db, KIM_RUDAL)
    started = time.monotonic()
    await kabar.check()
    assert time.monotonic() - started >= 2.5  # retry_after was honoured each time
    assert len(kabar.alerts(1101)) == 1 and len(kabar.alerts(1102)) == 1
    assert fake.attempts_to(1101) == 4
    [(status, attempts, message_id)] = outbox_rows(db, 1101)
    assert (status, attempts) == ("sent", 1) and message_id is not None  # 429 waits: no attempt


async def test_blocked_or_missing_chat_is_marked_inactive(kabar: Kabar) -> None:
    fake, db = kabar.fake, kabar.db
    for address in (1201, 1202, 1203):
        follow(db, address)
    fake.fail(blocked(), chat_id=1201)
    fake.fail(chat_not_found(), chat_id=1203)
    add_articles(db, KIM_RUDAL, PUTIN)
    await kabar.check()
    assert len(kabar.alerts(1202)) == 2
    for gone in (1201, 1203):
        assert db.conn.execute(
            "SELECT active FROM chats WHERE address = ?", [str(gone)]
        ).fetchone() == (0,)
        assert [row[0] for row in outbox_rows(db, gone)] == ["skipped", "skipped"]
        assert fake.attempts_to(gone) == 1 and not kabar.alerts(gone)
    assert "Kabar" in await kabar.say(1201, "/start")  # unblocked and back
    assert db.chats.get("telegram", "1201").active


async def test_server_error_then_success_delivers_once(kabar: Kabar) -> None:
    kabar.fake.fail(server_error(), chat_id=1301)
    follow(kabar.db, 1301)
    add_articles(kabar.db, KIM_RUDAL)
    await kabar.check()
    assert len(kabar.alerts(1301)) == 1 and kabar.fake.attempts_to(1301) == 2
    assert outbox_rows(kabar.db, 1301)[0][:2] == ("sent", 2)


async def test_connection_dropped_mid_request_then_success_delivers_once(kabar: Kabar) -> None:
    kabar.fake.fail(dropped(), chat_id=1302)
    follow(kabar.db, 1302)
    add_articles(kabar.db, KIM_RUDAL)
    await kabar.check()
    assert len(kabar.alerts(1302)) == 1 and kabar.fake.attempts_to(1302) == 2
    assert outbox_rows(kabar.db, 1302)[0][:2] == ("sent", 2)


async def test_rejected_html_is_sent_again_as_plain_text(kabar: Kabar) -> None:
    kabar.fake.fail(bad_entities(), chat_id=1401)
    follow(kabar.db, 1401)
    add_articles(kabar.db, KIM_RUDAL)
    await kabar.check()
    [message] = kabar.fake.messages_to(1401)
    assert message.get("parse_mode") is None
    assert "Kata kunci:" in message["text"] and "<b>" not in message["text"]
    assert outbox_rows(kabar.db, 1401)[0][:2] == ("sent", 1)


async def test_a_message_telegram_refuses_fails_alone(kabar: Kabar) -> None:
    follow(kabar.db, 1451)
    kabar.fake.fail(Failure(400, "Bad Request: message thread not found"), chat_id=1451)
    add_articles(kabar.db, KIM_RUDAL, PUTIN)
    await kabar.check()
    assert [row[0] for row in outbox_rows(kabar.db, 1451)] == ["failed", "sent"]
    assert kabar.db.chats.get("telegram", "1451").active  # the chat is fine
    assert kabar.fake.attempts_to(1451) == 2


async def test_sender_maps_bot_api_errors(fake: FakeTelegram, tmp_path: Path) -> None:
    db = open_store(tmp_path / "kabar.db")
    db.chats.ensure("telegram", "-1501", "id")
    bot = Bot(TOKEN, base_url=fake.base_url, request=HTTPXRequest(read_timeout=0.5))
    await bot.initialize()
    sender = TelegramSender(bot, db)
    alert = Alert(
        language="id", keywords=("Kim",), title="Judul", snippet="Kim tiba.", highlights=((0, 3),)
    )
    cases: list[tuple[Failure, str, float | None]] = [
        (too_many_requests(1), RETRY, 1.0),
        (server_error(), RETRY, None),
        (slow(1.0), RETRY, None),  # timed out
        (blocked(), GONE, None),
        (chat_not_found(), GONE, None),
        (Failure(400, "Bad Request: message thread not found"), FAILED, None),
        (migrated(-1001501), RETRY, 0.0),
    ]
    try:
        for failure, outcome, retry_after in cases:
            fake.fail(failure)
            result = await sender.send("-1501", alert)
            assert (result.outcome, result.retry_after) == (outcome, retry_after), failure
            assert result.error
        assert db.chats.get("telegram", "-1001501") is not None
        assert (await sender.send("-1001501", alert)).outcome == SENT
        assert sender.target_limits("-1001501") != sender.target_limits("1501")
        fake.token = "999:OTHER"  # the token was revoked: wait, for every chat
        result = await sender.send("-1001501", alert)
        assert (result.outcome, result.whole_platform) == (RETRY, True)
    finally:
        await bot.shutdown()
        db.close()


# ---------------------------------------------------------------- restart and pacing


async def test_restart_between_queued_alerts_sends_each_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    first = await start_kabar(fake, tmp_path)
    for address in (1601, 1602, 1603):
        follow(first.db, address)
    add_articles(first.db, KIM_RUDAL, *KIM_ONLY, PUTIN)
    result = await first.service.match()
    assert result is not None and result.queued == 12
    await first.service.deliverer.deliver_due(limit=5, batch=5)
    assert len(fake.sent) == 5
    await first.close()

    second = await start_kabar(fake, tmp_path)
    try:
        assert (await second.service.match()).queued == 0
        await drain(second.db, second.service.deliver)
        assert await second.say(1601, "/list")  # listening again after the restart
    finally:
        await second.close()
    alerts = [(m["chat_id"], m["text"]) for m in fake.sent if m.get("parse_mode") == "HTML"]
    assert len(alerts) == 12 and len(set(alerts)) == 12


async def test_pacing_keeps_within_telegram_limits(fake: FakeTelegram, tmp_path: Path) -> None:
    fake.enforce_limits()
    kabar = await start_kabar(fake, tmp_path, listen=False)
    try:
        for address in range(2001, 2061):
            follow(kabar.db, address, "Putin")
        follow(kabar.db, 2100, "rudal")
        drills = [
            f"Latihan ke-{i} menguji sistem pencegat rudal jarak menengah di pangkalan"
            f" udara nomor {i}."
            for i in range(5)
        ]
        add_articles(kabar.db, PUTIN)
        save_articles(
            kabar.db,
            [  # a week apart: five stories, not one story edited
                ArticleIn(
                    text=text,
                    source="tes",
                    lang="id",
                    published=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=7 * i),
                )
                for i, text in enumerate(drills)
            ],
        )
        await kabar.check()
    finally:
        await kabar.close()
    assert fake.violations == 0
    assert len(fake.sent) == 65 and len(fake.messages_to(2100)) == 5
    assert open_store(tmp_path / "kabar.db").outbox.counts() == {"sent": 65}
    methods = {method for method, _ in fake.calls}
    assert "getupdates" not in methods and "setmycommands" not in methods  # send-only


async def test_replies_are_paced_with_alerts_and_retried_never_dropped(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """Five members type /help within a second in a group that is also getting alerts, and
    Telegram answers one reply with 429: every reply and alert arrives, no limit exceeded."""
    fake.enforce_limits()
    kabar = await start_kabar(fake, tmp_path)
    group = -2501
    try:
        follow(kabar.db, group)
        add_articles(kabar.db, KIM_RUDAL, KIM_ONLY[0])
        fake.fail(too_many_requests(2), chat_id=group)
        for user in range(11, 16):
            fake.send_text(group, f"/help@{USERNAME}", user_id=user)
        await kabar.check()
        await fake.wait_for(lambda: len(fake.messages_to(group)) >= 7, timeout=30)
    finally:
        await kabar.close()
    replies = [m for m in fake.messages_to(group) if m.get("parse_mode") is None]
    assert len(replies) == 5 and all("/help" in m["text"] for m in replies)
    assert len(kabar.alerts(group)) == 2
    assert fake.violations == 0, fake.violation_kinds
    assert fake.attempts_to(group) == 8  # the one 429, then each message once


# ---------------------------------------------------------------- webhook


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_checks_the_secret(fake: FakeTelegram, tmp_path: Path) -> None:
    pytest.importorskip("tornado", reason="webhook mode needs python-telegram-bot[webhooks]")
    port = free_port()
    config = make_config(
        fake,
        tmp_path,
        mode="webhook",
        webhook_port=port,
        webhook_url="https://kabar.example/tg/hook",
        webhook_secret="s3cret",
    )
    db = open_store(tmp_path / "kabar.db")
    db.keywords.seed(config.keywords)
    platform = TelegramPlatform(config, db)
    platform.webhook_listen = "127.0.0.1"
    await platform.start(None, listen=True)
    try:
        assert fake.webhook["url"] == "https://kabar.example/tg/hook"
        assert fake.webhook["secret_token"] == "s3cret"
        url = f"http://127.0.0.1:{port}/tg/hook"
        async with aiohttp.ClientSession() as session:
            update = {"update_id": 1, "message": fake.message(1701, "/start")}
            headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            async with session.post(url, json=update, headers=headers) as response:
                assert response.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            update = {"update_id": 2, "message": fake.message(1701, "/start")}
            async with session.post(url, json=update, headers=headers) as response:
                assert response.status == 200
        await fake.wait_for(lambda: fake.messages_to(1701))
        assert len(fake.messages_to(1701)) == 1
        assert db.chats.get("telegram", "1701").follow_all
    finally:
        await platform.stop()
        db.close()


# ---------------------------------------------------------------- start-up


async def test_rejected_token_is_a_config_error(fake: FakeTelegram, tmp_path: Path) -> None:
    fake.token = "999:OTHER"
    with pytest.raises(ConfigError, match=r"'telegram\.token' was rejected"):
        await start_kabar(fake, tmp_path)


async def test_send_only_start_survives_an_unreachable_api(tmp_path: Path) -> None:
    """`kabar check` with Telegram down: the platform starts, alerts wait and retry."""
    unreachable = FakeTelegram(TOKEN)
    unreachable.port = free_port()  # nothing listens there
    kabar = await start_kabar(unreachable, tmp_path, listen=False)
    try:
        follow(kabar.db, 1801)
        add_articles(kabar.db, KIM_RUDAL)
        await kabar.service.match()
        stats = await kabar.service.deliver()
        assert (stats.sent, stats.retried) == (0, 1)
        assert outbox_rows(kabar.db, 1801)[0][:2] == ("pending", 1)
    finally:
        await kabar.close()


async def test_kabar_run_with_the_api_unreachable_is_one_line(tmp_path: Path) -> None:
    """Was a chained httpx traceback (exit 1); now one line, exit 2, as for a rejected token.
    APScheduler's job chatter stays out of the log at INFO."""
    base_url = f"http://127.0.0.1:{free_port()}/bot"  # a closed loopback port
    config = tmp_path / "config.toml"
    config.write_text(
        f'keywords = ["Kim"]\n[store]\npath = "{tmp_path / "k.db"}"\n'
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{base_url}"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert errors == [
        f"kabar: error: the Telegram Bot API at 'telegram.base_url' ({base_url})"
        " is unreachable: httpx.ConnectError: All connection attempts failed"
    ]
    assert "Traceback" not in done.stderr and "apscheduler" not in done.stderr


async def test_kabar_run_logs_no_per_job_scheduler_chatter(caplog) -> None:
    """330 of 363 log lines of a 73 s run were APScheduler's "Running job" / "executed
    successfully"; at INFO they are gone, at DEBUG they are back."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.app.runtime import configure_logging

    async def tick() -> None:
        ran.set()
        await asyncio.sleep(1.5)  # still running at its next tick: that run is skipped

    try:
        for level, expected in ((logging.INFO, False), (logging.DEBUG, True)):
            configure_logging(level)
            caplog.clear()
            caplog.set_level(level)
            ran = asyncio.Event()
            scheduler = AsyncIOScheduler()
            scheduler.add_job(tick, "interval", seconds=1, next_run_time=datetime.now(UTC))
            scheduler.start()
            await asyncio.wait_for(ran.wait(), 10)
            await asyncio.sleep(1.2)
            scheduler.shutdown(wait=False)
            chatter = [
                r
                for r in caplog.records
                if r.name.startswith("apscheduler")
                and (r.levelno < logging.WARNING or "skipped" in r.getMessage())
            ]
            assert bool(chatter) is expected, (level, [r.getMessage() for r in chatter])
    finally:
        logging.getLogger("apscheduler").setLevel(logging.NOTSET)


async def test_latest_runs_off_the_event_loop(kabar: Kabar, monkeypatch) -> None:
    """`/latest Kim` re-matches up to 2,000 articles; while it does, alerts keep going out.
    The matching is held until the alert was delivered: on the event loop, that alert would
    only have gone out after the reply."""
    follow(kabar.db, 1901, "Kim")
    add_articles(kabar.db, KIM_RUDAL)
    started, release = threading.Event(), threading.Event()
    original = commands.matching_articles

    def held(*args: Any) -> Any:
        started.set()
        release.wait(10)
        return original(*args)

    monkeypatch.setattr(commands, "matching_articles", held)
    kabar.fake.send_text(1901, "/latest Kim")
    while not started.is_set():
        await asyncio.sleep(0.01)
    await kabar.check()  # the alert, while /latest is still matching
    release.set()
    await kabar.fake.wait_for(lambda: len(kabar.fake.messages_to(1901)) == 2)
    alert, reply = kabar.fake.messages_to(1901)
    assert alert.get("parse_mode") == "HTML" and "Kim" in alert["text"]
    assert reply["text"].startswith("Berita terbaru untuk Kim:")


async def test_a_failing_command_is_answered_in_the_chat_language(kabar: Kabar) -> None:
    await kabar.say(1902, "/lang en")
    kabar.db.conn.execute("ALTER TABLE keywords RENAME TO keywords_gone")
    try:
        reply = await kabar.say(1902, "/keywords")
        other = await kabar.say(1903, "/keywords")
    finally:
        kabar.db.conn.execute("ALTER TABLE keywords_gone RENAME TO keywords")
    assert reply == Catalog("handlers").t("en", "error.internal")
    assert other == Catalog("handlers").t("id", "error.internal")


# ---------------------------------------------------------------- small pure helpers


@pytest.mark.parametrize("timedelta_env", ["false", "true"])
def test_retry_after_in_seconds_either_way(monkeypatch, timedelta_env: str) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", timedelta_env)
    assert retry_after_seconds(RetryAfter(7)) == 7.0


def test_html_to_plain_keeps_text_and_link() -> None:
    text = (
        '<b>Uji <u>rudal</u></b>\nA &amp; B &lt;x&gt;\n<a href="https://e.x/?a=1&amp;b=2">Baca</a>'
    )
    assert html_to_plain(text) == "Uji rudal\nA & B <x>\nBaca: https://e.x/?a=1&b=2"


def test_split_message_respects_the_limit() -> None:
    assert split_message("a\nb", limit=10) == ["a\nb"]
    assert split_message("aaaa\nbbbb\ncc", limit=9) == ["aaaa\nbbbb", "cc"]
    parts = split_message("😀" * 10, limit=5)
    assert "".join(parts) == "😀" * 10
    assert all(len(p.encode("utf-16-le")) // 2 <= 5 for p in parts)
