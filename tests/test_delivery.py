"""Ingest -> match -> outbox -> delivery through a recording sender: no duplicate, no loss."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.check import matching_pass
from bot.config import config_from_dict
from bot.delivery import FAILED, GONE, RETRY, Deliverer, SendResult, backoff_seconds
from bot.models import ArticleIn
from bot.service import Service
from store import integrity_ok, open_db
from store.articles import insert_articles
from store.chats import ensure_chat, get_chat_by_id, subscribe
from store.keywords import list_keywords, seed_keywords
from store.outbox import counts
from tests.support import RecordingSender, drain

TEXTS = [
    "Korea Utara kembali meluncurkan rudal jarak pendek ke laut timur pada Kamis pagi,"
    " kata militer Korea Selatan.",
    "Kim Jong Un meninjau fasilitas peluncuran satelit dan memerintahkan persiapan uji coba"
    " berikutnya.",
    "Presiden Putin bertemu utusan Pyongyang untuk membahas kerja sama teknologi satelit.",
    "Harga beras di pasar induk turun setelah panen raya di beberapa provinsi.",
]


def make_articles(texts: list[str]) -> list[ArticleIn]:
    return [ArticleIn(text=t, source="tes", lang="id", origin=f"t{i}") for i, t in
            enumerate(texts)]


@pytest.fixture
def setup(tmp_path: Path):
    config = config_from_dict({"store": {"path": str(tmp_path / "k.db")}}, env={})
    db = open_db(tmp_path / "k.db")
    seed_keywords(db, config.keywords)
    chats = []
    for address, lang in (("1", "id"), ("2", "en"), ("3", "id")):
        chat = ensure_chat(db, "telegram", address, lang)
        subscribe(db, chat, list_keywords(db), follow_all=True)
        chats.append(chat)
    return config, db, chats


async def test_whole_path_one_alert_per_article_and_chat(setup) -> None:
    config, db, _ = setup
    insert_articles(db, make_articles(TEXTS))
    result = matching_pass(db)
    assert (result.checked, result.matched, result.queued) == (4, 3, 9)
    sender = RecordingSender()
    deliverer = Deliverer(db, {"telegram": sender}, config.timezone)
    stats = await deliverer.deliver_due()
    assert stats.sent == 9
    by_chat = {(addr, a.snippet[:20]) for addr, a in sender.sent}
    assert len(by_chat) == 9
    kim = [a for addr, a in sender.sent if addr == "1" and "Kim" in a.keywords]
    assert kim[0].keywords == ("Kim", "satelit") and kim[0].language == "id"
    english = [a for addr, a in sender.sent if addr == "2"]
    assert {a.language for a in english} == {"en"}
    # again: nothing new, nothing re-sent, even after re-ingesting the same articles
    insert_articles(db, make_articles(TEXTS))
    assert matching_pass(db).queued == 0
    assert (await deliverer.deliver_due()).sent == 0
    assert counts(db) == {"sent": 9}


async def test_restart_in_the_middle_loses_and_doubles_nothing(setup, tmp_path: Path) -> None:
    config, db, _ = setup
    insert_articles(db, make_articles(TEXTS))
    matching_pass(db)
    first = RecordingSender()
    deliverer = Deliverer(db, {"telegram": first}, config.timezone)
    await deliverer.deliver_due(limit=4, batch=4)  # "crash" after four alerts
    db.close()
    reopened = open_db(tmp_path / "k.db")
    assert matching_pass(reopened).queued == 0  # already checked: nothing queued twice
    second = RecordingSender()
    await Deliverer(reopened, {"telegram": second}, config.timezone).deliver_due()
    sent = [(a, al.snippet) for a, al in first.sent + second.sent]
    assert len(sent) == 9 and len(set(sent)) == 9
    assert integrity_ok(reopened)


async def test_transient_failures_retry_until_delivered(setup) -> None:
    config, db, _ = setup
    insert_articles(db, make_articles(TEXTS[:1]))
    matching_pass(db)
    sender = RecordingSender()
    sender.fail("1", SendResult(RETRY, retry_after=0.1, error="429 Too Many Requests"),
                SendResult(RETRY, retry_after=0.1, error="429 Too Many Requests"))
    sender.fail("2", SendResult(RETRY, error="HTTP 502"))
    deliverer = Deliverer(db, {"telegram": sender}, config.timezone)
    import bot.delivery as delivery

    delivery_backoff = delivery.backoff_seconds
    delivery.backoff_seconds = lambda attempts, rng=None: 0.05
    try:
        await drain(db, deliverer.deliver_due)
    finally:
        delivery.backoff_seconds = delivery_backoff
    assert sorted(addr for addr, _ in sender.sent) == ["1", "2", "3"]
    rows = dict(db.conn.execute(
        "SELECT c.address, o.attempts FROM outbox o JOIN chats c ON c.id = o.chat_id"))
    assert rows == {"1": 1, "2": 2, "3": 1}  # a 429 wait is not an attempt
    assert counts(db) == {"sent": 3}


async def test_a_chat_that_blocked_the_bot_is_marked_inactive(setup) -> None:
    config, db, chats = setup
    insert_articles(db, make_articles(TEXTS[:2]))
    matching_pass(db)
    sender = RecordingSender()
    sender.fail("3", SendResult(GONE, error="Forbidden: bot was blocked by the user"))
    await drain(db, Deliverer(db, {"telegram": sender}, config.timezone).deliver_due)
    assert get_chat_by_id(db, chats[2].id).active is False
    assert sorted(addr for addr, _ in sender.sent) == ["1", "1", "2", "2"]
    assert counts(db) == {"sent": 4, "skipped": 2}
    assert sender.calls == 5  # the blocked chat was tried once, not forever


async def test_service_match_and_deliver_sends_what_the_pass_queued(setup) -> None:
    config, db, _ = setup
    sender = RecordingSender()
    service = Service(config, db, {"telegram": sender})
    insert_articles(db, make_articles(TEXTS[2:3]))
    await service.match_and_deliver()
    assert len(sender.sent) == 3 and counts(db) == {"sent": 3}


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    assert 0.5 <= backoff_seconds(0, lambda: 0.0) <= 1.0
    assert backoff_seconds(3, lambda: 1.0) == 8.0
    assert backoff_seconds(50, lambda: 1.0) == 600.0


async def test_a_message_the_platform_refuses_fails_alone(setup) -> None:
    config, db, chats = setup
    insert_articles(db, make_articles(TEXTS[:2]))
    matching_pass(db)
    sender = RecordingSender()
    sender.fail("1", SendResult(FAILED, error="Bad Request: message is too long"))
    await drain(db, Deliverer(db, {"telegram": sender}, config.timezone).deliver_due)
    assert get_chat_by_id(db, chats[0].id).active is True  # not the chat's fault
    assert counts(db) == {"sent": 5, "failed": 1}
    assert sender.calls == 6  # the refused message was not retried


async def test_keyword_edits_take_effect_at_the_next_pass_without_restart(setup) -> None:
    from store.keywords import add_keyword, remove_keyword

    config, db, _ = setup
    sender = RecordingSender()
    service = Service(config, db, {"telegram": sender})
    insert_articles(db, make_articles(["Harga beras di pasar induk turun setelah panen raya."]))
    await service.match_and_deliver()
    assert sender.sent == []
    add_keyword(db, "beras", "telegram:1")  # follow-all chats get it at once
    remove_keyword(db, "rudal", "telegram:1")
    insert_articles(db, make_articles(["Stok beras nasional aman hingga akhir tahun, kata Bulog.",
                                       "Rudal baru diuji di gurun, kata juru bicara militer."]))
    await service.match_and_deliver()
    assert {a.keywords for _, a in sender.sent} == {("beras",)} and len(sender.sent) == 3


async def test_two_instances_on_one_database_send_each_alert_once(setup, tmp_path) -> None:
    _config, db, _ = setup
    other = open_db(tmp_path / "k.db")  # a second instance: its own connection
    insert_articles(db, make_articles(TEXTS))
    matching_pass(db)
    assert matching_pass(other).queued == 0
    one, two = RecordingSender(), RecordingSender()
    await asyncio.gather(Deliverer(db, {"telegram": one}).deliver_due(batch=2),
                         Deliverer(other, {"telegram": two}).deliver_due(batch=2))
    sent = [(addr, alert.snippet) for addr, alert in one.sent + two.sent]
    assert len(sent) == 9 and len(set(sent)) == 9
    assert counts(db) == {"sent": 9}
