"""The Slack adapter: the real slack-bolt / slack_sdk over real HTTP on 127.0.0.1, against a fake
Slack Web API, with signed slash-command requests and a real SQLite store."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlite_utils import Database

from bot.alerts.alert import Alert
from bot.alerts.i18n import Catalog
from bot.app.service import Service
from bot.config import Config, ConfigError, config_from_dict, store_path
from bot.delivery.worker import GONE, RETRY, SENT
from bot.ingest.dedup import save_articles
from handlers.slack.adapter import (
    CHANNEL_LIMIT,
    EVENTS_PATH,
    SlackPlatform,
    SlackSender,
    build_app,
    command_context,
    command_settings,
    command_text,
    retry_after_seconds,
    run_read_only,
    socket_mode_handler,
)
from handlers.slack.format import escape_text
from store import open_store
from store.models import ArticleIn
from tests.fakes.slack_api import FakeSlack, api_error, dropped, rate_limited, server_error, slow
from tests.support import drain

REPO = Path(__file__).resolve().parent.parent
SECRET = "test-signing-secret"
TOKEN = "xoxb-test"
CHANNEL = "C0KABAR"
ADMIN = "UADMIN"
USER = "U0USER"
KEYWORDS = ["Kim", "Putin", "rudal", "satelit"]


def make_config(tmp_path: Path, fake: FakeSlack, **slack: Any) -> Config:
    return config_from_dict(
        {
            "keywords": KEYWORDS,
            "store": {"path": str(tmp_path / "kabar.db")},
            "slack": {
                "bot_token": TOKEN,
                "signing_secret": SECRET,
                "base_url": fake.base_url,
                "admins": [ADMIN],
                **slack,
            },
        },
        env={},
    )


def sign(body: str, timestamp: int, secret: str = SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Bot:
    config: Config
    db: Database
    platform: SlackPlatform
    http: httpx.AsyncClient
    fake: FakeSlack

    def form(self, text: str, user: str, channel: str) -> dict[str, str]:
        return {
            "token": "legacy-verification-token", "team_id": "T0TEST", "team_domain": "kabar",
            "channel_id": channel, "channel_name": "berita", "user_id": user,
            "user_name": user.lower(), "command": "/kabar", "text": text,
            "api_app_id": "A0KABAR", "response_url": self.fake.response_url(),
            "trigger_id": "1.2.3",
        }  # fmt: skip

    async def post(
        self, body: str, *, timestamp: int | None = None, signature: str | None = None
    ) -> httpx.Response:
        timestamp = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature or sign(body, timestamp),
        }
        return await self.http.post(EVENTS_PATH, content=body.encode(), headers=headers)

    async def command(
        self, text: str, *, user: str = USER, channel: str = CHANNEL
    ) -> httpx.Response:
        response = await self.post(urlencode(self.form(text, user, channel)))
        assert response.status_code == 200, response.text
        return response

    async def reply(self, text: str, **kwargs: str) -> dict[str, Any]:
        """The command's reply: the acknowledgement's body, else what came to response_url."""
        before = len(self.fake.responses)
        response = await self.command(text, **kwargs)
        if response.content:
            return response.json()
        await self.fake.wait_for(lambda: len(self.fake.responses) > before)
        return self.fake.responses[-1]

    def subscriptions(self, channel: str = CHANNEL) -> list[str]:
        return [row[0] for row in self.db.conn.execute(
            "SELECT k.query FROM subscriptions s JOIN keywords k ON k.id = s.keyword_id"
            " JOIN chats c ON c.id = s.chat_id WHERE c.platform = 'slack' AND c.address = ?"
            " ORDER BY k.id", [channel])]  # fmt: skip

    def keywords(self) -> list[str]:
        return [k.query for k in self.db.keywords.all()]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack(TOKEN).start()
    yield server
    await server.stop()


@contextlib.asynccontextmanager
async def started_bot(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Bot]:
    """Kabar's Slack platform listening on 127.0.0.1 (its own store), talking to ``fake``."""
    config = make_config(tmp_path, fake)
    db = open_store(store_path(config))
    db.keywords.seed(config.keywords)
    platform = SlackPlatform(config, db, host="127.0.0.1", port=0)
    await platform.start(None, listen=True)
    assert platform.port != 0
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.port}", timeout=10)
    yield Bot(config, db, platform, http, fake)
    await http.aclose()
    await platform.stop()
    db.close()


@pytest.fixture
async def bot(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Bot]:
    async with started_bot(tmp_path, fake) as started:
        yield started


def add_articles(db: Database, *articles: tuple[str, str]) -> None:
    save_articles(db, [
        ArticleIn(text=text, title=title, url=f"https://berita.example/{i}", source="tes",
                  lang="id", origin=f"test-{i}-{time.time_ns()}")
        for i, (title, text) in enumerate(articles)
    ])  # fmt: skip


async def deliver_all(bot: Bot, seconds: float = 30.0) -> Service:
    """Match, then deliver until nothing waits (retries with their backoff included), for at
    most `seconds`."""
    service = Service(bot.config, bot.db, {"slack": bot.platform.sender})
    await service.match()
    await drain(bot.db, service.deliver, seconds)
    await service.close()
    return service


# ---------------------------------------------------------------- every verb


async def test_start_subscribes_the_channel_and_says_so_in_channel(bot: Bot) -> None:
    reply = await bot.reply("start")
    assert reply["response_type"] == "in_channel"
    assert "Kabar aktif" in reply["text"] and "Kim, Putin, rudal, satelit" in reply["text"]
    assert "/kabar list" in reply["text"] and "/kabar stop" in reply["text"]
    assert bot.subscriptions() == KEYWORDS
    chat = bot.db.chats.get("slack", CHANNEL)
    assert chat is not None and chat.follow_all and chat.active and chat.title == "berita"
    assert bot.fake.auth_tests == 1  # at start; bolt authorizes with that answer


async def test_stop_unsubscribes_everything(bot: Bot) -> None:
    await bot.command("start")
    reply = await bot.reply("stop")
    assert reply["response_type"] == "in_channel" and "dicabut" in reply["text"]
    assert bot.subscriptions() == []
    again = await bot.reply("stop")
    assert again["response_type"] == "ephemeral" and "/kabar start" in again["text"]


async def test_subscribe_and_unsubscribe(bot: Bot) -> None:
    reply = await bot.reply("subscribe Kim rudal")
    assert reply["response_type"] == "in_channel"
    assert reply["text"] == "Langganan aktif untuk: Kim, rudal."
    assert bot.subscriptions() == ["Kim", "rudal"]

    unknown = await bot.reply("subscribe Kimia")
    assert unknown["response_type"] == "ephemeral" and "Kimia" in unknown["text"]
    assert bot.subscriptions() == ["Kim", "rudal"]

    reply = await bot.reply("unsubscribe rudal")
    assert reply["response_type"] == "in_channel" and "rudal" in reply["text"]
    assert bot.subscriptions() == ["Kim"]

    usage = await bot.reply("unsubscribe")
    assert usage["response_type"] == "ephemeral" and "/kabar unsubscribe" in usage["text"]


async def test_keywords_and_list(bot: Bot) -> None:
    reply = await bot.reply("keywords")
    assert reply["response_type"] == "ephemeral"
    assert "(4): Kim, Putin, rudal, satelit" in reply["text"]
    assert "/kabar subscribe" in reply["text"]

    empty = await bot.reply("list")
    assert "belum berlangganan" in empty["text"]
    await bot.command("subscribe satelit")
    listed = await bot.reply("list")
    assert listed["response_type"] == "ephemeral" and "1 kata kunci: satelit" in listed["text"]


async def test_lang_switches_replies_to_english(bot: Bot) -> None:
    reply = await bot.reply("lang en")
    assert reply["text"] == "This chat's language is now English."
    chat = bot.db.chats.get("slack", CHANNEL)
    assert chat is not None and chat.language == "en"
    listed = await bot.reply("keywords")
    assert listed["text"].startswith("Configured keywords (4)")
    usage = await bot.reply("lang fr")
    assert usage["response_type"] == "ephemeral" and "/kabar lang id|en" in usage["text"]


async def test_latest_is_acknowledged_at_once_and_answered_at_response_url(bot: Bot) -> None:
    add_articles(
        bot.db,
        ("Uji rudal di pesisir", "Korea Utara meluncurkan rudal lagi."),
        ("Harga beras", "Harga beras turun setelah panen raya."),
    )
    started = time.monotonic()
    response = await bot.command("latest")
    assert time.monotonic() - started < 3.0
    assert response.content == b""  # the acknowledgement; the answer comes separately
    await bot.fake.wait_for(lambda: bot.fake.responses)
    reply = bot.fake.responses[-1]
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("Berita terbaru:")
    assert "Uji rudal di pesisir (tes) <https://berita.example/0>" in reply["text"]
    assert "Harga beras" in reply["text"]

    filtered = await bot.reply("latest rudal")
    assert "Berita terbaru untuk rudal:" in filtered["text"]
    assert "Harga beras" not in filtered["text"]


async def test_search_answers_at_response_url_escaped(bot: Bot) -> None:
    add_articles(bot.db, ("Satelit baru <b>", "Peluncuran satelit cuaca berhasil & lancar."))
    reply = await bot.reply("search satelit cuaca")
    assert reply["text"].startswith("Hasil pencarian")
    assert "Satelit baru &lt;b&gt;" in reply["text"] and "<b>" not in reply["text"]

    nothing = await bot.reply("search <!channel> zzz")
    assert "<!channel>" not in nothing["text"] and "&lt;!channel&gt;" in nothing["text"]
    usage = await bot.reply("search")
    assert usage["response_type"] == "ephemeral" and "/kabar search" in usage["text"]
    entity = await bot.reply("search AT&amp;T")  # Slack sends a typed & as &amp;
    assert "“AT&amp;T”" in entity["text"]  # escaped once, not twice


async def test_slow_verbs_run_inline_on_an_in_memory_database(bot: Bot) -> None:
    db = open_store(":memory:")
    try:
        ctx = command_context({"channel_id": CHANNEL, "user_id": USER})
        reply = await run_read_only(db, ctx, "/search rudal", command_settings(bot.config))
    finally:
        db.close()
    assert not reply.changed and "rudal" in reply.text


async def test_port_in_use_is_a_clear_error(bot: Bot) -> None:
    other = SlackPlatform(bot.config, bot.db, host="127.0.0.1", port=bot.platform.port)
    with pytest.raises(OSError, match=r"\[slack\] port"):
        await other.start(None, listen=True)
    await other.stop()


async def test_help_and_bare_command(bot: Bot) -> None:
    reply = await bot.reply("help")
    assert reply["response_type"] == "ephemeral"
    for verb in ("start", "stop", "subscribe", "latest", "search", "addkeyword"):
        assert f"/kabar {verb}" in reply["text"]
    bare = await bot.reply("")
    assert bare["text"] == reply["text"]


async def test_unknown_verb(bot: Bot) -> None:
    reply = await bot.reply("frobnicate now")
    assert reply["response_type"] == "ephemeral"
    assert reply["text"] == "Perintah tidak dikenal: /kabar frobnicate. Ketik /kabar help."


async def test_admin_edits_keywords(bot: Bot) -> None:
    await bot.command("start")
    reply = await bot.reply('addkeyword "Kim Jong Un"', user=ADMIN)
    assert reply["response_type"] == "in_channel" and "Kim Jong Un" in reply["text"]
    assert bot.keywords() == [*KEYWORDS, '"Kim Jong Un"']
    assert '"Kim Jong Un"' in bot.subscriptions()  # the channel follows every keyword

    removed = await bot.reply("removekeyword Putin", user=ADMIN)
    assert removed["response_type"] == "in_channel" and "Putin" in removed["text"]
    assert "Putin" not in bot.keywords()


async def test_non_admin_cannot_edit_keywords(bot: Bot) -> None:
    reply = await bot.reply("addkeyword nuklir")
    assert reply["response_type"] == "ephemeral" and "hanya admin" in reply["text"]
    refused = await bot.reply("removekeyword Kim")
    assert "hanya admin" in refused["text"]
    assert bot.keywords() == KEYWORDS


# ---------------------------------------------------------------- request verification


async def test_forged_signature_is_rejected(bot: Bot) -> None:
    body = urlencode(bot.form("start", USER, CHANNEL))
    now = int(time.time())
    forged = await bot.post(body, timestamp=now, signature=sign(body, now, "wrong-secret"))
    assert forged.status_code == 401
    missing = await bot.http.post(
        EVENTS_PATH,
        content=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert missing.status_code == 401
    tampered = await bot.post(
        body.replace("start", "stop"), timestamp=now, signature=sign(body, now)
    )
    assert tampered.status_code == 401
    assert bot.db.chats.get("slack", CHANNEL) is None


async def test_stale_timestamp_is_rejected(bot: Bot) -> None:
    body = urlencode(bot.form("start", USER, CHANNEL))
    stale = int(time.time()) - 6 * 60
    response = await bot.post(body, timestamp=stale)  # correctly signed, but 6 minutes old
    assert response.status_code == 401
    assert bot.db.chats.get("slack", CHANNEL) is None and bot.subscriptions() == []


def test_replay_guard_forgets_after_the_window() -> None:
    from handlers.slack.replay import ReplayGuard

    now = [1000.0]
    guard = ReplayGuard(window=300, clock=lambda: now[0])
    assert guard.admit("v0=abc") and not guard.admit("v0=abc") and not guard.admit("")
    now[0] += 301
    assert guard.admit("v0=abc")  # the window is over: Slack itself would refuse it now
    guard.forget("v0=abc")
    assert guard.admit("v0=abc")


async def test_a_replayed_request_is_refused(bot: Bot) -> None:
    """bolt checks the signature and the 5-minute window; the endpoint also refuses the same
    signed request a second time within that window."""
    body = urlencode(bot.form("subscribe Kim", USER, CHANNEL))
    now = int(time.time())
    first = await bot.post(body, timestamp=now)
    assert first.status_code == 200 and bot.subscriptions() == ["Kim"]
    await bot.post(urlencode(bot.form("stop", USER, CHANNEL)), timestamp=now + 1)
    replay = await bot.post(body, timestamp=now)
    assert replay.status_code == 401
    assert bot.subscriptions() == []  # the replayed subscribe changed nothing


def signed_headers(
    body: str, timestamp: int | str, *extra: tuple[str, str]
) -> list[tuple[str, str]]:
    """Raw request headers (a list, so a header can come twice), `extra` ones first."""
    return [
        *extra,
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("X-Slack-Request-Timestamp", str(timestamp)),
        ("X-Slack-Signature", sign(body, int(timestamp))),
    ]


async def test_an_extra_signature_header_is_refused_and_cannot_replay(bot: Bot) -> None:
    """A junk X-Slack-Signature before the real one: the guard read the first, bolt the last,
    so every replay got through."""
    body = urlencode(bot.form("subscribe Kim", USER, CHANNEL))
    now = int(time.time())
    first = await bot.post(body, timestamp=now)
    assert first.status_code == 200 and bot.subscriptions() == ["Kim"]
    await bot.command("stop")
    for junk in ("v0=junk", "v0=other"):
        replay = await bot.http.post(
            EVENTS_PATH,
            content=body.encode(),
            headers=signed_headers(body, now, ("X-Slack-Signature", junk)),
        )
        assert replay.status_code == 401
    twice = await bot.http.post(
        EVENTS_PATH,
        content=body.encode(),
        headers=signed_headers(body, now, ("X-Slack-Request-Timestamp", str(now))),
    )
    assert twice.status_code == 401
    assert bot.subscriptions() == []  # no replay ran


async def test_concurrent_copies_of_one_request_run_once(bot: Bot) -> None:
    body = urlencode(bot.form('addkeyword "Kim Jong Un"', ADMIN, CHANNEL))
    now = int(time.time())
    responses = await asyncio.gather(*[bot.post(body, timestamp=now) for _ in range(5)])
    assert sorted(r.status_code for r in responses) == [200, 401, 401, 401, 401]
    [taken] = [r for r in responses if r.status_code == 200]
    assert taken.json()["text"].startswith("Kata kunci ditambahkan")
    assert bot.keywords() == [*KEYWORDS, '"Kim Jong Un"']


async def test_a_non_numeric_timestamp_is_refused_not_an_error(bot: Bot) -> None:
    body = urlencode(bot.form("start", USER, CHANNEL))
    for stamp in ("soon", "1e9", "", "-5", "17000000000000"):
        response = await bot.http.post(
            EVENTS_PATH,
            content=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": sign(body, 0),
            },
        )
        assert response.status_code == 401, stamp
    assert bot.db.chats.get("slack", CHANNEL) is None


async def test_a_command_from_another_workspace_is_refused(bot: Bot) -> None:
    form = {**bot.form("start", USER, CHANNEL), "team_id": "T0OTHER"}
    response = await bot.post(urlencode(form))
    assert response.status_code == 403
    assert bot.db.chats.get("slack", CHANNEL) is None and bot.subscriptions() == []
    assert bot.fake.responses == []
    assert (await bot.reply("keywords"))["text"].startswith("Kata kunci")  # its own: fine


async def test_a_failing_command_is_answered_in_the_chat_language(bot: Bot) -> None:
    await bot.command("lang en")
    bot.db.conn.execute("ALTER TABLE keywords RENAME TO keywords_gone")
    try:
        reply = await bot.reply("keywords")
        other = await bot.reply("keywords", channel="C0OTHER")
    finally:
        bot.db.conn.execute("ALTER TABLE keywords_gone RENAME TO keywords")
    catalog = Catalog("handlers")
    assert reply == {"text": catalog.t("en", "error.internal"), "response_type": "ephemeral"}
    assert other["text"] == catalog.t("id", "error.internal")  # a new chat: default language


async def test_latest_and_search_replies_cannot_format_or_ping(bot: Bot) -> None:
    title = "*Kim* _rudal_ ~uji~ `kode` @channel @here <!channel> >kutip"
    add_articles(bot.db, (title, "Kim menguji rudal lagi di pesisir."))
    for command in ("latest", "latest Kim", "search rudal"):
        sent = (await bot.reply(command))["text"]
        line = sent.splitlines()[1]
        for raw in ("*", "_", "~", "`", "<!channel>", "@channel", "@here", ">kutip"):
            assert raw not in line.replace("<https://berita.example/0>", ""), (command, raw)
        assert "\u2217Kim\u2217" in line and "&lt;!channel&gt;" in line
        assert "@\u2060channel" in line and line.endswith("(tes) <https://berita.example/0>")


async def test_rejected_token_stops_the_start(tmp_path: Path, fake: FakeSlack) -> None:
    config = make_config(tmp_path, fake, bot_token="xoxb-revoked")
    db = open_store(store_path(config))
    platform = SlackPlatform(config, db, host="127.0.0.1", port=0)
    try:
        with pytest.raises(
            ConfigError,
            match=r"^'slack\.bot_token' was rejected by Slack"
            r" \(invalid_auth;",
        ):
            await platform.start(None, listen=True)
    finally:
        await platform.stop()
        db.close()
    assert platform.port == 0  # nothing listens


async def test_kabar_run_with_a_revoked_token_exits_with_one_line(
    tmp_path: Path, fake: FakeSlack
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""keywords = ["Kim"]
[store]
path = "{tmp_path / "kabar.db"}"
[slack]
bot_token = "xoxb-revoked"
signing_secret = "{SECRET}"
base_url = "{fake.base_url}"
host = "127.0.0.1"
port = {free_port()}
""")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    errors = [line for line in err.decode().splitlines() if "error" in line.lower()]
    assert process.returncode == 2, err.decode()
    assert errors == [
        f"kabar: error: 'slack.bot_token' was rejected by Slack (invalid_auth; {fake.base_url})"
    ]
    assert "Traceback" not in err.decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- alerts


HOSTILE_TITLE = "Kim <!channel> <script>alert(1)</script>"
HOSTILE_TEXT = (
    "Kim Jong Un <!here> menyapa <@U123> saat uji rudal <script>x</script> di"
    " pesisir timur & barat."
)


async def test_alert_is_escaped_and_never_pings(bot: Bot) -> None:
    await bot.command("start")
    add_articles(bot.db, (HOSTILE_TITLE, HOSTILE_TEXT))
    await deliver_all(bot)
    [message] = bot.fake.messages_to(CHANNEL)
    assert message["unfurl_links"] is False and message["unfurl_media"] is False
    assert message["ts"]
    sent = message["text"] + json.dumps(message["blocks"], ensure_ascii=False)
    for raw in ("<!channel>", "<!here>", "<@U123>", "<script>"):
        assert raw not in sent
    for escaped in ("&lt;!channel&gt;", "&lt;!here&gt;", "&lt;@U123&gt;", "&lt;script&gt;"):
        assert escaped in sent
    assert "Kata kunci:" in sent
    assert message["blocks"][0]["type"] == "header"
    outbox = bot.db.conn.execute("SELECT status, message_id FROM outbox").fetchall()
    assert outbox == [("sent", message["ts"])]


async def test_alert_in_english_after_lang_en(bot: Bot) -> None:
    await bot.command("start")
    await bot.command("lang en")
    add_articles(bot.db, ("Rudal baru", "Korea Utara menguji rudal baru."))
    await deliver_all(bot)
    [message] = bot.fake.messages_to(CHANNEL)
    sent = message["text"] + json.dumps(message["blocks"], ensure_ascii=False)
    assert "Keywords:" in sent and "Kata kunci:" not in sent


async def test_rate_limited_alert_arrives_exactly_once(bot: Bot) -> None:
    await bot.command("start")
    bot.fake.fail(rate_limited(1), rate_limited(1), channel=CHANNEL)
    add_articles(bot.db, ("Rudal", "Uji rudal jarak pendek."))
    await deliver_all(bot)
    assert bot.fake.attempts_to(CHANNEL) == 3
    assert len(bot.fake.messages_to(CHANNEL)) == 1
    assert bot.db.outbox.counts() == {"sent": 1}


async def test_server_errors_are_retried(bot: Bot) -> None:
    await bot.command("start")
    bot.fake.fail(server_error(), api_error("internal_error"), dropped(), channel=CHANNEL)
    add_articles(bot.db, ("Satelit", "Peluncuran satelit ditunda."))
    await deliver_all(bot)
    assert bot.fake.attempts_to(CHANNEL) == 4
    assert len(bot.fake.messages_to(CHANNEL)) == 1


async def test_one_channel_is_paced_to_one_message_a_second(bot: Bot) -> None:
    await bot.command("start")
    bot.fake.enforce_limits()
    save_articles(bot.db, [  # a week apart: five stories, five messages (not one story)
        ArticleIn(text=f"Uji rudal nomor {i} di laut.", title=f"Rudal {i}", source="tes",
                  lang="id", url=f"https://berita.example/{i}",
                  published=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=7 * i))
        for i in range(5)
    ])  # fmt: skip
    started = time.monotonic()
    await deliver_all(bot)
    elapsed = time.monotonic() - started
    assert len(bot.fake.messages_to(CHANNEL)) == 5
    assert bot.fake.violations == 0
    assert elapsed >= 4 * CHANNEL_LIMIT.period - 0.1


async def test_channel_not_found_marks_the_chat_inactive(bot: Bot) -> None:
    await bot.command("start")
    bot.fake.gone(CHANNEL, "channel_not_found")
    add_articles(bot.db, ("Rudal", "Uji rudal pertama."), ("Putin", "Putin berpidato."))
    await deliver_all(bot)
    chat = bot.db.chats.get("slack", CHANNEL)
    assert chat is not None and not chat.active
    assert bot.db.outbox.counts() == {"skipped": 2}
    assert bot.fake.attempts_to(CHANNEL) == 1 and bot.fake.messages == []
    listed = await bot.reply("list")
    assert "dihentikan" in listed["text"]  # the channel is told delivery is paused
    await bot.command("start")  # ... and /kabar start resumes it
    chat = bot.db.chats.get("slack", CHANNEL)
    assert chat is not None and chat.active


# ---------------------------------------------------------------- the sender on its own


ALERT = Alert(
    language="id",
    keywords=("Kim",),
    title="Kim <!channel>",
    snippet="Kim menyapa.",
    highlights=((0, 3),),
)


@pytest.fixture
async def sender(fake: FakeSlack) -> AsyncIterator[SlackSender]:
    client = SlackSender(TOKEN, fake.base_url, timeout=0.5)
    yield client
    await client.close()


@pytest.mark.parametrize("error", ["channel_not_found", "is_archived", "not_in_channel"])
async def test_gone_errors(fake: FakeSlack, sender: SlackSender, error: str) -> None:
    fake.fail(api_error(error), channel="C1")
    result = await sender.send("C1", ALERT)
    assert result.outcome == GONE and result.error == error


async def test_rate_limit_carries_retry_after(fake: FakeSlack, sender: SlackSender) -> None:
    fake.fail(rate_limited(7))
    result = await sender.send("C1", ALERT)
    assert result.outcome == RETRY and result.retry_after == 7.0 and not result.whole_platform
    assert fake.attempts_to("C1") == 1  # slack_sdk did not retry on its own


@pytest.mark.parametrize(
    "error",
    ["ratelimited", "internal_error", "fatal_error", "service_unavailable", "something_new"],
)
async def test_transient_errors_retry(fake: FakeSlack, sender: SlackSender, error: str) -> None:
    fake.fail(api_error(error))
    result = await sender.send("C1", ALERT)
    assert result.outcome == RETRY
    assert fake.attempts_to("C1") == 1


async def test_server_error_and_timeout_retry(fake: FakeSlack, sender: SlackSender) -> None:
    fake.fail(server_error(), slow(2.0))
    assert (await sender.send("C1", ALERT)).outcome == RETRY
    result = await sender.send("C1", ALERT)
    assert result.outcome == RETRY and "Timeout" in result.error
    assert (await sender.send("C1", ALERT)).outcome == SENT


async def test_bad_token_waits_for_every_channel(fake: FakeSlack) -> None:
    sender = SlackSender("xoxb-revoked", fake.base_url)
    try:
        result = await sender.send("C1", ALERT)
    finally:
        await sender.close()
    assert result.outcome == RETRY and result.whole_platform and result.retry_after == 600.0
    assert "invalid_auth" in result.error


async def test_invalid_blocks_fall_back_to_plain_text(fake: FakeSlack, sender: SlackSender) -> None:
    fake.fail(api_error("invalid_blocks"))
    result = await sender.send("C1", ALERT)
    assert result.outcome == SENT
    [message] = fake.messages
    assert message["blocks"] == [] and "&lt;!channel&gt;" in message["text"]


async def test_network_error_retries() -> None:
    sender = SlackSender(TOKEN, "http://127.0.0.1:9/api/", timeout=1.0)  # nothing listens
    try:
        result = await sender.send("C1", ALERT)
    finally:
        await sender.close()
    assert result.outcome == RETRY and result.error.startswith("network:")


def test_retry_after_parsing() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after": "1.5"}) == 1.5
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({"Retry-After": "-4"}) == 0.0
    assert retry_after_seconds({"Retry-After": "999999"}) == 3600.0


def test_escape_text() -> None:
    assert escape_text("a & <!channel> <@U1>") == "a &amp; &lt;!channel&gt; &lt;@U1&gt;"


def test_command_text() -> None:
    assert command_text({"text": "  subscribe Kim "}) == "/subscribe Kim"
    assert command_text({"text": ""}) == command_text({}) == "/help"
    assert command_text({"text": "search AT&amp;T &lt;b&gt;"}) == "/search AT&T <b>"


# ---------------------------------------------------------------- modes


async def test_without_listen_only_the_sender_exists(tmp_path: Path, fake: FakeSlack) -> None:
    config = make_config(tmp_path, fake)
    db = open_store(store_path(config))
    platform = SlackPlatform(config, db, host="127.0.0.1", port=0)
    await platform.start(None, listen=False)
    try:
        assert platform.app is None and platform.port == 0
        assert platform.sender.platform == "slack"
        assert platform.sender.target_limits(CHANNEL) == (CHANNEL_LIMIT,)
        assert (await platform.sender.send(CHANNEL, ALERT)).outcome == SENT
    finally:
        await platform.stop()
        db.close()


async def test_socket_mode_handler_is_built_on_the_configured_api(
    tmp_path: Path, fake: FakeSlack
) -> None:
    config = make_config(tmp_path, fake, app_token="xapp-1-test")
    db = open_store(store_path(config))
    try:
        handler = socket_mode_handler(build_app(config, db, {"team_id": "T0TEST"}), "xapp-1-test")
        assert handler.app_token == "xapp-1-test"
        assert handler.client.web_client.base_url == fake.base_url
        await handler.close_async()
    finally:
        db.close()
