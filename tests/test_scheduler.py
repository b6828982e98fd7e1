"""Scheduler and service jobs against a real local feed server: conditional polling, backoff for a
failing feed, unstable GUIDs without duplicate alerts, ingest waking the matching pass."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.app.scheduler import build_scheduler, feed_job_id
from bot.app.service import Service, feed_backoff
from bot.config import config_from_dict
from store import open_store
from tests.support import RecordingSender

ITEM = """<item><title>{title}</title><link>https://kabar.example/{slug}</link>
<guid>{guid}</guid><description>{text}</description></item>"""
ITEMS = [
    (
        "Uji coba rudal di laut timur",
        "rudal-laut",
        "Korea Utara menembakkan rudal jarak pendek ke laut timur, kata militer Korea Selatan pagi"
        " ini.",
    ),
    (
        "Pasar saham menguat",
        "saham",
        "Indeks harga saham gabungan ditutup menguat didorong saham perbankan dan energi hari ini.",
    ),
]


def rss(guid_suffix: str = "") -> bytes:
    items = "".join(
        ITEM.format(title=t, slug=s, guid=f"{s}{guid_suffix}", text=x) for t, s, x in ITEMS
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Uji</title>{items}'
        "</channel></rss>"
    ).encode()


@pytest.fixture
async def feed_server() -> AsyncIterator[tuple[str, dict[str, int]]]:
    hits: dict[str, int] = {}

    async def good(request: web.Request) -> web.Response:
        hits["good"] = hits.get("good", 0) + 1
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(
            body=rss(), content_type="application/rss+xml", headers={"ETag": '"v1"'}
        )

    async def broken(request: web.Request) -> web.Response:
        hits["broken"] = hits.get("broken", 0) + 1
        return web.Response(status=500, text="oops")

    async def unstable(request: web.Request) -> web.Response:
        hits["unstable"] = hits.get("unstable", 0) + 1
        return web.Response(body=rss(f"-{hits['unstable']}"), content_type="application/rss+xml")

    async def hang(request: web.Request) -> web.Response:
        hits["hang"] = hits.get("hang", 0) + 1
        await asyncio.sleep(3600)
        return web.Response(status=204)

    async def html(request: web.Request) -> web.Response:
        hits["html"] = hits.get("html", 0) + 1
        return web.Response(
            text="<!doctype html><html><body>Bukan feed</body></html>", content_type="text/html"
        )

    async def huge(request: web.Request) -> web.StreamResponse:
        hits["huge"] = hits.get("huge", 0) + 1
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        chunk = b"<rss><channel>" + b"x" * 65_536
        for _ in range(200 * 16):  # 200 MB, if anyone read it all
            await response.write(chunk)
        return response

    app = web.Application()
    app.add_routes(
        [
            web.get("/good", good),
            web.get("/broken", broken),
            web.get("/unstable", unstable),
            web.get("/hang", hang),
            web.get("/html", html),
            web.get("/huge", huge),
        ]
    )
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", hits
    await runner.cleanup()


def make_service(tmp_path: Path, feeds: list[str], **schedule: int):
    config = config_from_dict(
        {
            "store": {"path": str(tmp_path / "k.db")},
            "feeds": [{"url": u} for u in feeds],
            "schedule": schedule,
            "ingest": {"allow_private_hosts": True},
        },
        env={},
    )
    db = open_store(tmp_path / "k.db")
    db.keywords.seed(config.keywords)
    db.feeds.sync([(u, "", 0) for u in feeds])  # 0: schedule.feed_seconds
    chat = db.chats.ensure("telegram", "1", "id")
    db.chats.subscribe(chat, db.keywords.all(), follow_all=True)
    sender = RecordingSender()
    return config, db, Service(config, db, {"telegram": sender}), sender


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.02)


async def test_poll_is_conditional_and_new_articles_wake_matching(feed_server, tmp_path) -> None:
    base, hits = feed_server
    _, db, service, sender = make_service(tmp_path, [f"{base}/good"])
    first = await service.poll_feed(f"{base}/good", 60)
    assert first.error is None and first.report is not None and first.report.new == 2
    await settle()  # the wake-up task matched and delivered without waiting for a tick
    assert [a.keywords for _, a in sender.sent] == [("rudal",)]
    second = await service.poll_feed(f"{base}/good", 60)
    assert second.report is None and second.error is None and hits["good"] == 2
    assert db.feeds.get(f"{base}/good").etag == '"v1"'
    await service.close()


async def test_failing_feed_backs_off(feed_server, tmp_path) -> None:
    base, hits = feed_server
    _, db, service, _ = make_service(tmp_path, [f"{base}/broken"])
    poll = await service.poll_feed(f"{base}/broken", 60)
    assert poll.error == "HTTP 500" and poll.next_in == 120
    again = await service.poll_feed(f"{base}/broken", 60)
    assert again.error == "backing off" and hits["broken"] == 1
    row = db.feeds.get(f"{base}/broken")
    assert row.failures == 1 and row.last_error == "HTTP 500"
    assert feed_backoff(60, 3) == 480 and feed_backoff(60, 30) == 6 * 3600
    await service.close()


async def test_changing_guids_do_not_duplicate_alerts(feed_server, tmp_path) -> None:
    base, hits = feed_server
    _, db, service, sender = make_service(tmp_path, [f"{base}/unstable"])
    for _ in range(3):
        await service.poll_feed(f"{base}/unstable", 60)
        await settle()
    assert hits["unstable"] == 3
    assert db.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
    assert len(sender.sent) == 1 and db.outbox.counts() == {"sent": 1}
    await service.close()


async def test_scheduler_runs_jobs_with_stable_ids(feed_server, tmp_path) -> None:
    base, hits = feed_server
    urls = [f"{base}/good", f"{base}/broken"]
    config, _db, service, sender = make_service(
        tmp_path, urls, check_seconds=1, deliver_seconds=1, feed_seconds=1
    )
    scheduler = build_scheduler(config, service)
    ids = sorted(job.id for job in scheduler.get_jobs())
    assert ids == sorted(
        [
            "match",
            "deliver",
            "cleanup",
            "feeds",
            "feed-health",
            "modes",
            "digests",
            *map(feed_job_id, urls),
        ]
    )
    again = build_scheduler(config, service)  # a restart builds the same set, no duplicates
    assert sorted(job.id for job in again.get_jobs()) == ids
    scheduler.start()
    try:
        await asyncio.sleep(2.5)
    finally:
        scheduler.shutdown(wait=False)
    assert len(sender.sent) == 1
    assert hits["good"] >= 2 and hits["broken"] == 1  # the broken feed waits out its backoff
    await service.close()


async def test_bad_feeds_back_off_while_the_good_one_is_served(feed_server, tmp_path) -> None:
    import resource

    base, hits = feed_server
    bad = [f"{base}/hang", f"{base}/html", f"{base}/huge", f"{base}/broken"]
    config, db, service, sender = make_service(
        tmp_path, [*bad, f"{base}/good"], check_seconds=1, deliver_seconds=1, feed_seconds=1
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scheduler = build_scheduler(config, service)
    scheduler.start()
    try:
        await asyncio.sleep(3.0)
    finally:
        scheduler.shutdown(wait=False)
    assert len(sender.sent) == 1  # the good feed's matching article, despite the others
    assert hits["good"] >= 2
    for url, error in (
        (f"{base}/html", "not a feed"),
        (f"{base}/huge", "feed too large"),
        (f"{base}/broken", "HTTP 500"),
    ):
        row = db.feeds.get(url)
        assert row.failures == 1 and error in row.last_error  # polled once, then backing off
    assert hits["hang"] == 1  # never two polls of one feed at once
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mb < 50  # the 200 MB body was cut off at ingest.max_bytes
    await service.close()
