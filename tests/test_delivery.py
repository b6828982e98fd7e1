"""Ingest -> match -> outbox -> delivery through a recording sender: no duplicate, no loss."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlite_utils import Database

import bot.delivery.worker as delivery
from bot.app.service import Service
from bot.config import config_from_dict
from bot.delivery.pacing import Limit
from bot.delivery.worker import FAILED, GONE, RETRY, Deliverer, SendResult, backoff_seconds
from bot.ingest.dedup import save_articles
from bot.matching.passes import matching_pass
from store.models import ArticleIn
from tests.support import FailingStore, RecordingSender, drain

TEXTS = [
    "Korea Utara kembali meluncurkan rudal jarak pendek ke laut timur pada Kamis pagi,"
    " kata militer Korea Selatan.",
    "Kim Jong Un meninjau fasilitas peluncuran satelit dan memerintahkan persiapan uji coba"
    " berikutnya.",
    "Presiden Putin bertemu utusan Pyongyang untuk membahas kerja sama teknologi satelit.",
    "Harga beras di pasar induk turun setelah panen raya di beberapa provinsi.",
]


def make_articles(texts: list[str]) -> list[ArticleIn]:
    return [ArticleIn(text=t, source="tes", lang="id", origin=f"t{i}") for i, t in enumerate(texts)]


@pytest.fixture
def setup(db: Database, db_path: Path):
    config = config_from_dict({"store": {"path": str(db_path)}}, env={})
    db.keywords.seed(config.keywords)
    chats = []
    for address, lang in (("1", "id"), ("2", "en"), ("3", "id")):
        chat = db.chats.ensure("telegram", address, lang)
        db.chats.subscribe(chat, db.keywords.all(), follow_all=True)
        chats.append(chat)
    return config, db, chats


async def test_whole_path_one_alert_per_article_and_chat(setup) -> None:
    config, db, _ = setup
    save_articles(db, make_articles(TEXTS))
    result = matching_pass(db)
    assert (result.checked, result.matched, result.queued) == (4, 3, 9)
    sender = RecordingSender()
    deliverer = Deliverer(db, {"telegram": sender}, config.timezone)
    stats = await deliverer.deliver_due()
    assert stats.sent == 9
    by_chat = {(addr, a.title[:20]) for addr, a in sender.sent}
    assert len(by_chat) == 9
    kim = [a for addr, a in sender.sent if addr == "1" and "Kim" in a.keywords]
    assert kim[0].keywords == ("Kim", "satelit") and kim[0].language == "id"
    english = [a for addr, a in sender.sent if addr == "2"]
    assert {a.language for a in english} == {"en"}
    # again: nothing new, nothing re-sent, even after re-ingesting the same articles
    save_articles(db, make_articles(TEXTS))
    assert matching_pass(db).queued == 0
    assert (await deliverer.deliver_due()).sent == 0
    assert db.outbox.counts() == {"sent": 9}


async def test_restart_in_the_middle_loses_and_doubles_nothing(setup, connect) -> None:
    config, db, _ = setup
    save_articles(db, make_articles(TEXTS))
    matching_pass(db)
    first = RecordingSender()
    deliverer = Deliverer(db, {"telegram": first}, config.timezone)
    await deliverer.deliver_due(limit=4, batch=4)  # "crash" after four alerts
    reopened = connect()  # the restarted process
    assert matching_pass(reopened).queued == 0  # already checked: nothing queued twice
    second = RecordingSender()
    await Deliverer(reopened, {"telegram": second}, config.timezone).deliver_due()
    sent = [(a, al.title) for a, al in first.sent + second.sent]
    assert len(sent) == 9 and len(set(sent)) == 9
    assert reopened.integrity_ok()


async def test_transient_failures_retry_until_delivered(setup) -> None:
    config, db, _ = setup
    save_articles(db, make_articles(TEXTS[:1]))
    matching_pass(db)
    sender = RecordingSender()
    sender.fail(
        "1",
        SendResult(RETRY, retry_after=0.1, error="429 Too Many Requests"),
        SendResult(RETRY, retry_after=0.1, error="429 Too Many Requests"),
    )
    sender.fail("2", SendResult(RETRY, error="HTTP 502"))
    deliverer = Deliverer(db, {"telegram": sender}, config.timezone)
    delivery_backoff = delivery.backoff_seconds
    delivery.backoff_seconds = lambda attempts, rng=None: 0.05
    try:
        await drain(db, deliverer.deliver_due)
    finally:
        delivery.backoff_seconds = delivery_backoff
    assert sorted(addr for addr, _ in sender.sent) == ["1", "2", "3"]
    rows = dict(
        db.conn.execute(
            "SELECT c.address, o.attempts FROM outbox o JOIN chats c ON c.id = o.chat_id"
        )
    )
    assert rows == {"1": 1, "2": 2, "3": 1}  # a 429 wait is not an attempt
    assert db.outbox.counts() == {"sent": 3}


async def test_a_chat_that_blocked_the_bot_is_marked_inactive(setup) -> None:
    config, db, chats = setup
    save_articles(db, make_articles(TEXTS[:2]))
    matching_pass(db)
    sender = RecordingSender()
    sender.fail("3", SendResult(GONE, error="Forbidden: bot was blocked by the user"))
    await drain(db, Deliverer(db, {"telegram": sender}, config.timezone).deliver_due)
    assert db.chats.get_by_id(chats[2].id).active is False
    assert sorted(addr for addr, _ in sender.sent) == ["1", "1", "2", "2"]
    assert db.outbox.counts() == {"sent": 4, "skipped": 2}
    assert sender.calls == 5  # the blocked chat was tried once, not forever


async def test_service_match_and_deliver_sends_what_the_pass_queued(setup) -> None:
    config, db, _ = setup
    sender = RecordingSender()
    service = Service(config, db, {"telegram": sender})
    save_articles(db, make_articles(TEXTS[2:3]))
    await service.match_and_deliver()
    assert len(sender.sent) == 3 and db.outbox.counts() == {"sent": 3}


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    assert 0.5 <= backoff_seconds(0, lambda: 0.0) <= 1.0
    assert backoff_seconds(3, lambda: 1.0) == 8.0
    assert backoff_seconds(50, lambda: 1.0) == 600.0


async def test_a_message_the_platform_refuses_fails_alone(setup) -> None:
    config, db, chats = setup
    save_articles(db, make_articles(TEXTS[:2]))
    matching_pass(db)
    sender = RecordingSender()
    sender.fail("1", SendResult(FAILED, error="Bad Request: message is too long"))
    await drain(db, Deliverer(db, {"telegram": sender}, config.timezone).deliver_due)
    assert db.chats.get_by_id(chats[0].id).active is True  # not the chat's fault
    assert db.outbox.counts() == {"sent": 5, "failed": 1}
    assert sender.calls == 6  # the refused message was not retried


async def test_keyword_edits_take_effect_at_the_next_pass_without_restart(setup) -> None:

    config, db, _ = setup
    sender = RecordingSender()
    service = Service(config, db, {"telegram": sender})
    save_articles(db, make_articles(["Harga beras di pasar induk turun setelah panen raya."]))
    await service.match_and_deliver()
    assert sender.sent == []
    db.keywords.add("beras", "telegram:1")  # follow-all chats get it at once
    db.keywords.remove("rudal", "telegram:1")
    save_articles(
        db,
        make_articles(
            [
                "Stok beras nasional aman hingga akhir tahun, kata Bulog.",
                "Rudal baru diuji di gurun, kata juru bicara militer.",
            ]
        ),
    )
    await service.match_and_deliver()
    assert {a.keywords for _, a in sender.sent} == {("beras",)} and len(sender.sent) == 3


async def test_two_instances_on_one_database_send_each_alert_once(setup, connect) -> None:
    _config, db, _ = setup
    other = connect()  # a second instance: its own connection
    save_articles(db, make_articles(TEXTS))
    matching_pass(db)
    assert matching_pass(other).queued == 0
    one, two = RecordingSender(), RecordingSender()
    await asyncio.gather(
        Deliverer(db, {"telegram": one}).deliver_due(batch=2),
        Deliverer(other, {"telegram": two}).deliver_due(batch=2),
    )
    sent = [(addr, alert.title) for addr, alert in one.sent + two.sent]
    assert len(sent) == 9 and len(set(sent)) == 9
    assert db.outbox.counts() == {"sent": 9}


# ---------------------------------------------------------------- a send is never lost track of

STORE_FAULTS = ["database or disk is full", "database is locked"]


def outbox_rows(db) -> list[tuple]:
    return db.conn.execute(
        "SELECT c.address, o.status, o.attempts, o.last_error FROM outbox o"
        " JOIN chats c ON c.id = o.chat_id ORDER BY o.id"
    ).fetchall()


@pytest.mark.parametrize("fault", STORE_FAULTS)
async def test_a_send_the_store_cannot_record_is_recorded_later_not_sent_again(
    setup, monkeypatch, fault: str
) -> None:
    config, db, _ = setup
    save_articles(db, make_articles(TEXTS))
    matching_pass(db)
    sender = RecordingSender()
    monkeypatch.setattr(db.outbox, "mark_sent", FailingStore(db.outbox.mark_sent, 3, fault))
    deliverer = Deliverer(db, {"telegram": sender}, config.timezone, lease_seconds=1.0)
    await drain(db, deliverer.deliver_due)
    sent = [(address, alert.title) for address, alert in sender.sent]
    assert len(sent) == 9 and len(set(sent)) == 9  # each alert exactly once
    assert sender.calls == 9
    assert db.outbox.counts() == {"sent": 9}
    assert {attempts for _, _, attempts, _ in outbox_rows(db)} == {1}


@pytest.mark.parametrize("fault", STORE_FAULTS)
async def test_no_next_alert_goes_out_while_the_last_one_cannot_be_recorded(
    setup, monkeypatch, fault: str
) -> None:
    config, db, _ = setup
    save_articles(db, make_articles(TEXTS[:1]))
    matching_pass(db)
    sender = RecordingSender()
    monkeypatch.setattr(
        db.outbox, "mark_sent", FailingStore(db.outbox.mark_sent, 3, fault, sender.events)
    )
    deliverer = Deliverer(db, {"telegram": sender}, config.timezone, concurrency=1)
    await drain(db, deliverer.deliver_due)
    assert [kind for kind, _ in sender.events] == [
        "send",
        "record failed",
        "record failed",
        "record failed",
        "recorded",
        "send",
        "recorded",
        "send",
        "recorded",
    ]
    assert db.outbox.counts() == {"sent": 3}


async def test_a_row_that_keeps_failing_is_marked_failed_after_max_attempts(
    setup, monkeypatch, caplog
) -> None:
    config, db, _ = setup
    save_articles(db, make_articles(TEXTS[:1]))
    matching_pass(db)
    sender = RecordingSender()
    sender.fail("1", *[RuntimeError("boom")] * 10)
    sender.fail("2", *[SendResult(RETRY, retry_after=0.01, error="429 Too Many Requests")] * 5)
    monkeypatch.setattr(delivery, "backoff_seconds", lambda attempts, rng=None: 0.01)
    deliverer = Deliverer(db, {"telegram": sender}, config.timezone, max_attempts=3)
    await drain(db, deliverer.deliver_due)
    assert outbox_rows(db) == [
        ("1", "failed", 3, "RuntimeError: boom"),
        ("2", "sent", 1, None),  # five 429 waits did not count
        ("3", "sent", 1, None),
    ]
    assert sender.events.count(("send", "1")) == 3
    gave_up = [r for r in caplog.records if "giving up" in r.getMessage()]
    assert len(gave_up) == 1 and "RuntimeError: boom" in gave_up[0].getMessage()


async def test_a_slow_failed_send_is_not_retried_sooner_than_it_took(setup, monkeypatch) -> None:
    from store.clock import from_db, utcnow

    config, db, _ = setup
    save_articles(db, make_articles(TEXTS[:1]))
    matching_pass(db)
    answered = {}

    class SlowTimeout(RecordingSender):
        async def send(self, address, alert):
            await asyncio.sleep(0.5)  # as a request that timed out (and may have been posted)
            answered[address] = utcnow()
            return SendResult(RETRY, error="TimedOut: Timed out")

    monkeypatch.setattr(delivery, "backoff_seconds", lambda attempts, rng=None: 0.01)
    await Deliverer(db, {"telegram": SlowTimeout()}, config.timezone).deliver_due()
    for address, due in db.conn.execute(
        "SELECT c.address, o.next_attempt_at FROM outbox o JOIN chats c ON c.id = o.chat_id"
    ):
        assert (from_db(due) - answered[address]).total_seconds() >= 0.45


async def test_a_claim_waiting_for_pacing_keeps_its_lease(setup, connect) -> None:
    """A second instance finds nothing to take over while the first holds rows that wait
    longer than the lease for the per-chat limit."""
    config, db, _ = setup
    save_articles(db, make_articles(TEXTS[:2]))
    matching_pass(db)

    class OnePerTwoSeconds(RecordingSender):
        def target_limits(self, address):
            return (Limit(1, 2.0),)

    one, two = OnePerTwoSeconds(), RecordingSender()
    other = connect()

    async def second_instance() -> None:
        await asyncio.sleep(1.5)  # past the first instance's 1 s lease
        await Deliverer(other, {"telegram": two}, config.timezone).deliver_due()

    await asyncio.gather(
        Deliverer(db, {"telegram": one}, config.timezone, lease_seconds=1.0).deliver_due(),
        second_instance(),
    )
    assert two.sent == [] and len(one.sent) == 6
    assert db.outbox.counts() == {"sent": 6}


async def test_rendering_runs_off_the_event_loop(setup, monkeypatch) -> None:
    """The renderer blocks until a coroutine on the event loop lets it go: it only can if
    rendering runs in another thread."""
    config, db, _ = setup
    save_articles(db, make_articles(TEXTS[:1]))
    matching_pass(db)
    go = threading.Event()
    real = delivery.render_item

    def render_needing_the_loop(*args):
        assert go.wait(3), "the event loop was blocked while rendering"
        return real(*args)

    async def let_go() -> None:
        await asyncio.sleep(0.05)
        go.set()

    monkeypatch.setattr(delivery, "render_item", render_needing_the_loop)
    sender = RecordingSender()
    await asyncio.gather(
        Deliverer(db, {"telegram": sender}, config.timezone).deliver_due(), let_go()
    )
    assert len(sender.sent) == 3 and sender.calls == 3
    assert db.outbox.counts() == {"sent": 3}


async def test_close_lets_sends_in_flight_finish_and_be_recorded(setup) -> None:
    config, db, _ = setup
    save_articles(db, make_articles(TEXTS))
    matching_pass(db)

    class Slow(RecordingSender):
        async def send(self, address, alert):
            await asyncio.sleep(0.3)
            return await super().send(address, alert)

    sender = Slow()
    deliverer = Deliverer(db, {"telegram": sender}, config.timezone)
    running = asyncio.ensure_future(deliverer.deliver_due())
    await asyncio.sleep(0.1)  # the first three sends (one per chat) are in flight
    assert await deliverer.close(grace=5.0)
    await running
    assert len(sender.sent) == 3 and db.outbox.counts() == {"sent": 3, "pending": 6}
    assert (await deliverer.deliver_due()).sent == 0  # closed: claims nothing more


async def test_a_failing_feed_wake_up_is_logged_not_lost(setup, monkeypatch, caplog) -> None:
    """The matching pass a feed poll starts in the background is kept and its failure logged
    (it was a bare create_task: "Task exception was never retrieved")."""
    from aiohttp import web

    from tests.fakes import serve_on_loopback

    config, db, _ = setup
    rss = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Uji</title><item>"
        "<title>Uji coba rudal</title><link>https://kabar.example/rudal</link>"
        f"<description>{TEXTS[0]}</description></item></channel></rss>"
    )

    async def feed(request: web.Request) -> web.Response:
        return web.Response(text=rss, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/rss", feed)
    runner, port = await serve_on_loopback(app)
    service = Service(config, db, {"telegram": RecordingSender()})

    async def locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(service, "deliver", locked)
    url = f"http://127.0.0.1:{port}/rss"
    db.feeds.sync([(url, "uji", 300)])
    try:
        poll = await service.poll_feed(url, 300)
        assert poll.report is not None and poll.report.new == 1
        await asyncio.sleep(0.2)  # the wake-up runs and fails
        await service.close()
    finally:
        await runner.cleanup()
    [record] = [r for r in caplog.records if r.name == "kabar" and r.levelname == "ERROR"]
    assert record.getMessage() == "matching and delivery after a feed poll failed"
    assert record.exc_info and "database is locked" in str(record.exc_info[1])
    assert db.outbox.counts() == {"pending": 3}  # matched and queued; delivered at the next pass
