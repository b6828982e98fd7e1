"""Feeds managed from the chat and the CLI: the real python-telegram-bot against the fake Bot
API, a real aiohttp feed server on 127.0.0.1, a real SQLite store; OPML through `kabar feeds`;
the scheduler's feed jobs; the address guard; health notices."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.alerts.i18n import Catalog
from bot.app.scheduler import build_scheduler, feed_job_id
from bot.app.service import Service
from bot.cli import main
from bot.config import Config, config_from_dict
from bot.ingest.fetch import FeedState, fetch_feed
from bot.ingest.hosts import check_host, host_guard, refused_address, url_problem
from bot.ingest.opml import OpmlError, parse_opml
from handlers.telegram.adapter import TelegramPlatform
from store import Store, open_store
from store.clock import to_db, utcnow
from tests.fakes import serve_on_loopback
from tests.fakes.telegram_api import FakeTelegram
from tests.support import drain

TOKEN = "123:TEST"
ADMIN = 1
USER = 2002
EN = Catalog("handlers")

pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type:DeprecationWarning")


def rss(title: str, items: list[tuple[str, str, datetime | None]]) -> str:
    parts = []
    for number, (item_title, text, published) in enumerate(items):
        date = f"<pubDate>{format_datetime(published)}</pubDate>" if published else ""
        parts.append(
            f"<item><title>{item_title}</title><link>https://berita.example/{number}"
            f"/{abs(hash(title)) % 1000}</link><description>{text}</description>{date}"
            "</item>"
        )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>{title}</title>"
        f"<link>https://berita.example/</link>{''.join(parts)}</channel></rss>"
    )


NOW = datetime.now(UTC)
DESK_FEED = rss(
    "Warta Desk",
    [
        (
            "Uji rudal baru",
            "Militer menguji rudal jarak menengah di lepas pantai timur pagi ini.",
            NOW - timedelta(hours=1),
        ),
        (
            "Rudal lama",
            "Arsip: uji rudal tahun lalu di gurun, dilaporkan kembali oleh kantor berita.",
            NOW - timedelta(hours=30),
        ),
        (
            "Tanpa tanggal",
            "Satu artikel rudal tanpa tanggal terbit sama sekali dari sumber lain.",
            None,
        ),
    ],
)


@dataclass
class FeedServer:
    base: str
    hits: dict[str, int] = field(default_factory=dict)


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer("")

    def count(name: str) -> None:
        server.hits[name] = server.hits.get(name, 0) + 1

    async def desk(request: web.Request) -> web.Response:
        count("desk")
        return web.Response(text=DESK_FEED, content_type="application/rss+xml")

    async def other(request: web.Request) -> web.Response:
        count(request.match_info["name"])
        return web.Response(
            text=rss(f"Feed {request.match_info['name']}", []), content_type="application/rss+xml"
        )

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text="<!doctype html><html><head><title>Beranda</title></head>"
            "<body><p>Selamat datang</p></body></html>",
            content_type="text/html",
        )

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text=DESK_FEED, content_type="application/rss+xml")

    async def to_local(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://[::1]:{request.url.port}/desk")

    async def big(request: web.Request) -> web.Response:
        items = [
            (f"Berita {i}", "Isi berita yang cukup panjang untuk membuat feed besar. " * 3, None)
            for i in range(20)
        ]
        return web.Response(text=rss("Besar", items), content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/desk", desk)
    app.router.add_get("/f/{name}", other)
    app.router.add_get("/page", page)
    app.router.add_get("/slow", slow)
    app.router.add_get("/to-local", to_local)
    app.router.add_get("/big", big)
    runner, port = await serve_on_loopback(app)
    server.base = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


@dataclass
class Kabar:
    fake: FakeTelegram
    config: Config
    db: Store
    platform: TelegramPlatform
    service: Service

    async def say(self, chat_id: int, text: str, user: int | None = None) -> str:
        before = len(self.fake.messages_to(chat_id))
        self.fake.send_text(chat_id, text, user_id=user)
        await self.fake.wait_for(lambda: len(self.fake.messages_to(chat_id)) > before, timeout=10)
        return self.fake.messages_to(chat_id)[-1]["text"]

    async def close(self) -> None:
        await self.platform.stop()
        await self.service.close()
        self.db.close()


def make_config(fake: FakeTelegram, tmp_path: Path, **ingest: Any) -> Config:
    return config_from_dict(
        {
            "telegram": {"token": TOKEN, "base_url": fake.base_url, "admins": [ADMIN]},
            "store": {"path": str(tmp_path / "kabar.db")},
            "ingest": {"allow_private_hosts": True, "timeout_seconds": 1, **ingest},
            "schedule": {"feed_seconds": 1},
        },
        env={},
    )


async def start(fake: FakeTelegram, tmp_path: Path, **ingest: Any) -> Kabar:
    config = make_config(fake, tmp_path, **ingest)
    db = open_store(tmp_path / "kabar.db")
    db.keywords.seed(config.keywords)
    platform = TelegramPlatform(config, db)
    service = Service(config, db, {"telegram": platform.sender})
    await platform.start(service, listen=True)
    return Kabar(fake, config, db, platform, service)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(TOKEN, "KabarTestBot").start()
    yield server
    await server.stop()


@pytest.fixture
async def kabar(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[Kabar]:
    bot = await start(fake, tmp_path)
    yield bot
    await bot.close()


def feed_urls(db: Store) -> list[str]:
    return [f.url for f in db.feeds.all()]


# ---------------------------------------------------------------- chat verbs


async def test_admin_adds_a_feed_with_its_title_and_count_and_no_flood(
    kabar: Kabar, feed_server: FeedServer
) -> None:
    url = f"{feed_server.base}/desk"
    await kabar.say(ADMIN, "/lang en")
    reply = await kabar.say(ADMIN, f"/addfeed {url}")
    assert reply.startswith(f"Feed added: Warta Desk — {url}. It has 3 items;")
    assert "last 6 h (1) can alert" in reply
    [feed] = kabar.db.feeds.all()
    assert (feed.url, feed.name, feed.added_by) == (url, "Warta Desk", f"telegram:{ADMIN}")
    chat = kabar.db.chats.get("telegram", str(ADMIN))
    assert chat is not None and feed.added_chat_id == chat.id
    [audit, *_] = kabar.db.audit.entries()
    assert (audit.actor, audit.action, audit.detail) == (
        f"telegram:{ADMIN}",
        "feed.add",
        f"{url} Warta Desk",
    )
    assert kabar.db.articles.count() == 3  # every item stored

    follower = 3003
    await kabar.say(follower, "/start")
    await kabar.service.match()
    await drain(kabar.db, kabar.service.deliver)
    alerts = [m for m in kabar.fake.messages_to(follower) if m.get("parse_mode") == "HTML"]
    assert [("jarak menengah" in m["text"]) for m in alerts] == [True]  # only the recent one

    again = await kabar.say(ADMIN, f"/addfeed {url}")
    assert again == f"{url} is already a feed (Warta Desk). /feeds lists them."
    assert len(kabar.db.feeds.all()) == 1

    listing = await kabar.say(USER, "/feeds")  # everyone may list
    lines = listing.splitlines()
    assert lines[0] == "1 feed:"
    assert lines[1] == f"1. Warta Desk — {url}"
    assert re.fullmatch(
        r"   pengambilan terakhir berhasil \(baru saja\); 3 artikel dalam 24 jam;"
        r" pengambilan berikutnya (sebentar lagi|1 menit lagi)",
        lines[2],
    )


async def test_a_named_feed_and_removal_by_name(kabar: Kabar, feed_server: FeedServer) -> None:
    url = f"{feed_server.base}/f/satu"
    reply = await kabar.say(ADMIN, f"/addfeed {url} Kantor Berita Satu")
    assert reply.startswith(f"Feed ditambahkan: Kantor Berita Satu — {url}. Berisi 0 item;")
    removed = await kabar.say(ADMIN, "/removefeed kantor berita satu")
    assert removed == (
        f"Feed dihapus: Kantor Berita Satu — {url}. Feed ini tidak dibaca lagi;"
        " artikelnya tetap tersimpan."
    )
    assert kabar.db.feeds.all() == []
    assert kabar.db.audit.entries()[0].action == "feed.remove"
    missing = await kabar.say(ADMIN, "/removefeed Tidak Ada")
    assert missing == "Feed tidak ditemukan: Tidak Ada. Feed: -."


async def test_non_admin_is_refused_and_nothing_changes(
    kabar: Kabar, feed_server: FeedServer
) -> None:
    url = f"{feed_server.base}/desk"
    await kabar.say(USER, "/lang en")
    assert await kabar.say(USER, f"/addfeed {url}") == EN.t("en", "admin.refused_feeds")
    assert await kabar.say(USER, f"/removefeed {url}") == EN.t("en", "admin.refused_feeds")
    sub = await kabar.say(USER, f"/sub {url}")
    assert sub.startswith(f"{url} is a feed URL. Feeds are added by Kabar admins with /addfeed")
    assert kabar.db.feeds.all() == [] and feed_server.hits.get("desk") is None  # not fetched


async def test_subscribe_url_from_an_admin_adds_the_feed_and_says_so(
    kabar: Kabar, feed_server: FeedServer
) -> None:
    url = f"{feed_server.base}/desk"
    await kabar.say(ADMIN, "/lang en")
    reply = await kabar.say(ADMIN, f"/subscribe {url}")
    first, second = reply.split("\n", 1)
    assert first == "That is a feed URL, so subscribe adds it as a feed (like /addfeed):"
    assert second.startswith(f"Feed added: Warta Desk — {url}.")
    assert feed_urls(kabar.db) == [url]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/page", "it is a web page (HTML), not an RSS or Atom feed."),
        ("/missing", "the server answered HTTP 404."),
        ("/slow", "no complete answer within 1 s (timeout)."),
    ],
)
async def test_a_feed_that_cannot_be_read_is_not_added(
    kabar: Kabar, feed_server: FeedServer, path: str, expected: str
) -> None:
    url = f"{feed_server.base}{path}"
    await kabar.say(ADMIN, "/lang en")
    reply = await kabar.say(ADMIN, f"/addfeed {url}")
    assert reply.startswith(f"Not added: {url} — {expected}")
    assert reply.endswith("Nothing was stored.")
    assert kabar.db.feeds.all() == [] and kabar.db.articles.count() == 0
    assert not [e for e in kabar.db.audit.entries() if e.action.startswith("feed.")]


async def test_a_feed_over_the_byte_cap_is_too_large(
    fake: FakeTelegram, tmp_path: Path, feed_server: FeedServer
) -> None:
    bot = await start(fake, tmp_path, max_bytes=1024)
    try:
        await bot.say(ADMIN, "/lang en")
        reply = await bot.say(ADMIN, f"/addfeed {feed_server.base}/big")
        assert "the feed is too large (over 1 kB)." in reply and bot.db.feeds.all() == []
    finally:
        await bot.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://berita.example/rss", "only http:// and https:// URLs are accepted"),
        ("file:///etc/passwd", "only http:// and https:// URLs are accepted"),
        ("http://", "the URL has no host name"),
        ("https://berita.example:99999/rss", "not a valid URL"),
    ],
)
async def test_bad_urls_are_refused_without_a_fetch(kabar: Kabar, url: str, reason: str) -> None:
    await kabar.say(ADMIN, "/lang en")
    assert await kabar.say(ADMIN, f"/addfeed {url}") == (
        f"Not added: {url} is not a feed URL ({reason})."
    )
    assert kabar.db.feeds.all() == []


async def test_addfeed_without_a_url_shows_usage(kabar: Kabar) -> None:
    await kabar.say(ADMIN, "/lang en")
    assert (await kabar.say(ADMIN, "/addfeed")).startswith("Usage: /addfeed URL [NAME]")
    assert (await kabar.say(ADMIN, "/feeds")) == "No feeds yet. Admins add one with /addfeed URL."


# ---------------------------------------------------------------- private addresses


async def test_private_addresses_are_refused_unless_allowed(
    fake: FakeTelegram, tmp_path: Path, feed_server: FeedServer
) -> None:
    port = feed_server.base.rsplit(":", 1)[1]
    bot = await start(fake, tmp_path, allow_private_hosts=False)
    try:
        await bot.say(ADMIN, "/lang en")
        for url in (
            f"http://127.0.0.1:{port}/desk",
            f"http://localhost:{port}/desk",
            f"http://[::1]:{port}/desk",
            f"{feed_server.base}/to-local",
        ):
            reply = await bot.say(ADMIN, f"/addfeed {url}")
            assert reply == (
                f"Not added: {url} — its address is refused: it is a private or"
                " local network address. Nothing was stored."
            ), url
        assert bot.db.feeds.all() == [] and feed_server.hits.get("desk") is None
    finally:
        await bot.close()


async def test_every_redirect_is_checked(feed_server: FeedServer) -> None:
    """A first hop that the rule allows, redirected to `localhost`: refused at the redirect
    (the rule here takes 127.0.0.1 for a public address so the first hop goes through)."""

    def refuse(address: str) -> bool:
        return address != "127.0.0.1"  # the redirect goes to [::1]

    async with httpx.AsyncClient(
        event_hooks={"request": [host_guard(refuse)]}, follow_redirects=True
    ) as client:
        ok = await fetch_feed(client, f"{feed_server.base}/desk", FeedState(), max_bytes=10**6)
        assert ok.error is None and len(ok.batch.articles) == 3
        redirected = await fetch_feed(
            client, f"{feed_server.base}/to-local", FeedState(), max_bytes=10**6
        )
    assert redirected.error is not None and redirected.error.startswith(
        "refused address: ::1 is private or local"
    )
    assert feed_server.hits["desk"] == 1  # the redirect target was never fetched


async def test_the_address_rule() -> None:
    for address in (
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "224.0.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "100.64.0.1",
    ):
        assert refused_address(address), address
    for address in ("93.184.216.34", "8.8.8.8", "2606:4700::1111"):
        assert not refused_address(address), address
    with pytest.raises(httpx.RequestError, match="refused address: localhost"):
        await check_host(httpx.URL("http://localhost/rss"))
    with pytest.raises(httpx.RequestError, match=r"refused address: 169\.254\.169\.254 is"):
        await check_host(httpx.URL("http://169.254.169.254/latest/meta-data"))
    assert url_problem("gopher://x") == "scheme" and url_problem("https://a.example/rss") is None


# ---------------------------------------------------------------- scheduler and health


async def test_the_scheduler_picks_up_added_and_removed_feeds(
    kabar: Kabar, feed_server: FeedServer
) -> None:
    scheduler = build_scheduler(kabar.config, kabar.service)
    sync = scheduler.get_job("feeds")
    assert sync is not None and sync.trigger.interval <= timedelta(minutes=1)
    url = f"{feed_server.base}/f/dua"
    scheduler.start()
    try:
        await kabar.say(ADMIN, f"/addfeed {url}")
        assert feed_server.hits["dua"] == 1 and scheduler.get_job(feed_job_id(url)) is None
        added, removed = await sync.func()
        assert (added, removed) == ([url], [])
        await kabar.fake.wait_for(lambda: feed_server.hits["dua"] >= 2, timeout=5)

        await kabar.say(ADMIN, f"/removefeed {url}")
        assert await sync.func() == ([], [url]) and scheduler.get_job(feed_job_id(url)) is None
        polled = feed_server.hits["dua"]
        await asyncio.sleep(2.5)  # feed_seconds = 1: a job left behind would have polled
        assert feed_server.hits["dua"] == polled
    finally:
        scheduler.shutdown(wait=False)


async def test_a_feed_failing_for_a_day_is_reported_once_and_its_recovery_once(
    kabar: Kabar, feed_server: FeedServer
) -> None:
    url = f"{feed_server.base}/desk"
    group = -100123
    await kabar.say(group, "/lang en", user=ADMIN)
    await kabar.say(group, f"/addfeed {url} Desk", user=ADMIN)
    before = len(kabar.fake.messages_to(group))

    kabar.db.feeds.record_poll(
        url, etag=None, last_modified=None, error="HTTP 503", next_in_seconds=-1
    )
    assert await kabar.service.check_feed_health() == []  # failing, but not for a day yet
    since = to_db(utcnow() - timedelta(hours=25))
    kabar.db.conn.execute("UPDATE feeds SET failing_since = ? WHERE url = ?", [since, url])
    [notice] = await kabar.service.check_feed_health()
    assert (notice.kind, notice.targets) == ("failing", (("telegram", str(group)),))
    assert await kabar.service.check_feed_health() == []  # once
    kabar.db.feeds.record_poll(
        url, etag=None, last_modified=None, error="HTTP 503", next_in_seconds=-1
    )
    assert await kabar.service.check_feed_health() == []  # still once

    await kabar.service.poll_feed(url, 60)  # the feed server answers again
    [recovered] = await kabar.service.check_feed_health()
    assert recovered.kind == "recovered"
    assert await kabar.service.check_feed_health() == []
    texts = [m["text"] for m in kabar.fake.messages_to(group)[before:]]
    assert texts == [
        f"Kabar: the feed Desk ({url}) has been failing for more than 24 hours: HTTP 503. Its"
        " articles are not arriving. /removefeed removes it; you will be told when it works"
        " again.",
        f"Kabar: the feed Desk ({url}) works again; its articles are arriving.",
    ]


async def test_a_config_feed_failing_is_reported_to_the_admins_private_chat(
    kabar: Kabar,
) -> None:
    url = "https://tidak-ada.example/rss"
    kabar.db.feeds.seed([(url, "Konfigurasi", 0)])
    await kabar.say(ADMIN, "/start")  # the admin's private chat is known from now on
    before = len(kabar.fake.messages_to(ADMIN))
    kabar.db.feeds.record_poll(
        url, etag=None, last_modified=None, error="timeout after 20s", next_in_seconds=60
    )
    since = to_db(utcnow() - timedelta(hours=30))
    kabar.db.conn.execute("UPDATE feeds SET failing_since = ? WHERE url = ?", [since, url])
    [notice] = await kabar.service.check_feed_health()
    assert notice.targets == (("telegram", str(ADMIN)),)
    [text] = [m["text"] for m in kabar.fake.messages_to(ADMIN)[before:]]
    assert text.startswith(f"Kabar: feed Konfigurasi ({url}) gagal lebih dari 24 jam: timeout")


# ---------------------------------------------------------------- CLI and OPML


def write_config(tmp_path: Path, feeds: list[str] = ()) -> Path:  # type: ignore[assignment]
    config = tmp_path / "config.toml"
    lines = [
        '[store]\npath = "kabar.db"\n',
        "[ingest]\nallow_private_hosts = true\ntimeout_seconds = 2\n",
    ]
    lines += [f'[[feeds]]\nurl = "{u}"\n' for u in feeds]
    config.write_text("\n".join(lines))
    return config


OPML_IN = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>Langganan</title></head><body>
{outlines}
<outline text="Rusak" xmlUrl="ftp://berita.example/rss"/>
<outline text="Kosong" xmlUrl=""/>
<outline text="Dua kali" xmlUrl="https://feed-000.example/rss"/>
</body></opml>
"""


def opml_outlines(count: int) -> str:
    """`count` feeds in nested folders, named by title, text, or not at all."""
    parts = []
    for folder in range(0, count, 50):
        parts.append(f'<outline text="Folder {folder // 50}">')
        parts.append('<outline text="Sub">')
        for i in range(folder, folder + 50):
            name = (
                f'title="Berita &amp; Analisis {i}" text="x"'
                if i % 3 == 0
                else f'text="Kanal {i}"'
                if i % 3 == 1
                else 'text=""'
            )
            parts.append(
                f'<outline type="rss" {name} xmlUrl="https://feed-{i:03d}.example/rss"'
                ' htmlUrl="https://site.example/"/>'
            )
        parts.append("</outline></outline>")
    return "\n".join(parts)


def test_opml_round_trip_with_200_feeds(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = write_config(tmp_path)
    source = tmp_path / "in.opml"
    source.write_text(OPML_IN.format(outlines=opml_outlines(200)), encoding="utf-8")
    assert main(["feeds", "import", str(source), "--config", str(config)]) == 1  # 2 invalid
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"{source}: added 200, already there 1, invalid 2"
    assert out[0] == "added: https://feed-000.example/rss"
    assert "invalid: ftp://berita.example/rss: only http and https URLs are allowed" in out
    assert "invalid: (empty xmlUrl): only http and https URLs are allowed" in out
    assert "already there: https://feed-000.example/rss" in out

    exported = tmp_path / "out.opml"
    assert main(["feeds", "export", str(exported), "--config", str(config)]) == 0
    first = parse_opml(exported.read_bytes())
    assert len(first) == 200
    assert first[0].name == "Berita & Analisis 0" and first[1].name == "Kanal 1"
    assert first[2].name == ""

    other = tmp_path / "other"
    other.mkdir()
    config2 = write_config(other)
    assert main(["feeds", "import", str(exported), "--config", str(config2)]) == 0
    again = other / "again.opml"
    assert main(["feeds", "export", str(again), "--config", str(config2)]) == 0
    assert again.read_bytes() == exported.read_bytes()  # identical
    db1, db2 = open_store(tmp_path / "kabar.db"), open_store(other / "kabar.db")
    try:
        assert [(f.url, f.name) for f in db1.feeds.all()] == [
            (f.url, f.name) for f in db2.feeds.all()
        ]
        assert db2.audit.entries()[0].action == "feed.add"
    finally:
        db1.close()
        db2.close()


def test_opml_with_a_dtd_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><opml version="2.0"><body>'
        '<outline text="&b;" xmlUrl="https://x.example/rss"/></body></opml>'
    )
    path = tmp_path / "bomb.opml"
    path.write_text(bomb)
    assert main(["feeds", "import", str(path), "--config", str(write_config(tmp_path))]) == 2
    assert capsys.readouterr().err == (
        f"kabar: error: {path}: OPML with a DTD or entity declarations is refused\n"
    )
    with pytest.raises(OpmlError, match="not OPML"):
        parse_opml(b"<rss version='2.0'/>")


async def test_cli_add_list_remove_and_the_config_drift_note(
    tmp_path: Path, capsys: pytest.CaptureFixture, feed_server: FeedServer
) -> None:
    async def kabar(*args: str) -> int:  # in a thread: the feed server runs on this loop
        return await asyncio.to_thread(main, [*args, "--config", str(config)])

    seeded = f"{feed_server.base}/f/konfig"
    config = write_config(tmp_path, [seeded])
    url = f"{feed_server.base}/desk"
    assert await kabar("feeds", "add", url, "--name", "Desk") == 0
    assert capsys.readouterr().out == (
        f"added: {url} (Warta Desk; 3 items, 1 recent enough to alert)\n"
    )
    assert await kabar("feeds", "add", url) == 0
    assert capsys.readouterr().out == f"already there: {url}\n"
    assert await kabar("feeds", "add", f"{feed_server.base}/missing") == 2
    assert capsys.readouterr().err == (
        f"kabar: error: {feed_server.base}/missing: not added: HTTP 404\n"
    )
    assert await kabar("feeds", "list") == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith(f"{seeded} [not polled yet")  # seeded from config once
    assert listed[1].startswith(f"{url} Desk [ok ")

    assert await kabar("feeds", "remove", seeded) == 0
    assert capsys.readouterr().out == f"removed: {seeded}\n"
    assert await kabar("feeds", "remove", seeded) == 2
    assert capsys.readouterr().err == f"kabar: error: no such feed: {seeded}\n"

    assert await kabar("check", "--dry-run") == 0
    err = capsys.readouterr().err
    assert (
        f"kabar: note: feeds are kept in the database; config [[feeds]] only seed a new"
        f" database (config-only: {seeded}; database-only: {url})"
    ) in err
    db = open_store(tmp_path / "kabar.db")
    try:
        assert feed_urls(db) == [url]  # the removed config feed did not come back
    finally:
        db.close()
