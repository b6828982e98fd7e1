"""Pacing: sliding windows, per-target spacing, retry-after blocks (on a fake clock); send slots
and blocks kept in the store, so two instances on one database keep the limits together."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from telegram import Bot

from bot.delivery.pacing import Limit, Pacer
from bot.delivery.worker import Deliverer
from bot.ingest.dedup import save_articles
from bot.matching.passes import matching_pass
from handlers.telegram.adapter import TelegramSender
from store import open_store
from store.models import ArticleIn
from store.pacing import IN_FLIGHT_SECONDS
from tests.fakes.telegram_api import FakeTelegram
from tests.support import drain

APART = datetime(2026, 1, 1, tzinfo=UTC)  # articles a week apart are separate stories

# PTB itself reads RetryAfter.retry_after while building the exception.
pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type:DeprecationWarning")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def send_times(pacer: Pacer, clock: Clock, targets: list[str]) -> list[float]:
    """Send to each target in turn as early as the pacer allows; the send times."""
    times = []
    for target in targets:
        clock.now = max(clock.now, pacer.ready_at(target))
        pacer.record(target)
        times.append(clock.now)
    return times


def max_in_window(times: list[float], period: float) -> int:
    return max(sum(1 for u in times if t <= u < t + period) for t in times)


def test_global_window_caps_the_rate() -> None:
    clock = Clock()
    pacer = Pacer((Limit(29, 1.0), Limit(1, 1 / 35)), clock=clock)
    times = send_times(pacer, clock, [f"chat{i}" for i in range(300)])
    assert max_in_window(times, 1.0) <= 29
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert 27 <= rate <= 29.5


def test_per_target_spacing_and_group_minute_limit() -> None:
    clock = Clock()
    pacer = Pacer(
        target_limits=lambda t: (
            (Limit(1, 1.05), Limit(20, 61.0)) if t.startswith("-") else (Limit(1, 1.05),)
        ),
        clock=clock,
    )
    private = send_times(pacer, clock, ["7"] * 5)
    assert all(b - a >= 1.05 - 1e-9 for a, b in itertools.pairwise(private))
    group = send_times(pacer, clock, ["-100"] * 25)
    assert max_in_window(group, 61.0) <= 20


@pytest.mark.parametrize("whole", [False, True])
def test_retry_after_blocks(whole: bool) -> None:
    clock = Clock()
    pacer = Pacer(clock=clock)
    if whole:
        pacer.block_all(30)
    else:
        pacer.block("7", 30)
    assert pacer.ready_at("7") == pytest.approx(130.0)
    assert pacer.ready_at("8") == pytest.approx(130.0 if whole else 0.0)


def test_idle_targets_are_forgotten() -> None:
    clock = Clock()
    pacer = Pacer(target_limits=lambda t: (Limit(1, 1.0),), clock=clock)
    for i in range(100):
        pacer.record(str(i))
    clock.now += 7200
    pacer.forget_idle(3600)
    assert pacer._targets == {}


def test_spacing_counts_from_a_slow_send_completing() -> None:
    clock = Clock()
    pacer = Pacer(target_limits=lambda t: (Limit(1, 1.05), Limit(20, 61.0)), clock=clock)
    pacer.record("7")
    clock.now += 2.0  # the platform took two seconds to answer
    pacer.settle("7")
    assert pacer.ready_at("7") == pytest.approx(clock.now + 1.05)


# ---------------------------------------------------------------- pacing kept in the store


def store_pacers(tmp_path: Path, clock: Clock, *limits: Limit) -> list[Pacer]:
    """Two instances' pacers over two connections to one SQLite file, on one fake clock."""
    pacers = []
    for _ in range(2):
        shared = open_store(tmp_path / "k.db").pacing("telegram", clock=clock)
        pacers.append(Pacer((Limit(3, 1.0),), lambda target: limits, clock=clock, shared=shared))
    return pacers


def test_store_slots_hold_the_limits_across_connections(tmp_path: Path) -> None:
    clock = Clock()
    one, two = store_pacers(tmp_path, clock, Limit(1, 1.05))
    assert one.reserve("7")
    assert not two.reserve("7")  # in flight at the other instance
    one.settle("7")
    clock.now += 0.5
    assert not two.reserve("7")
    assert two.ready_at("7") == pytest.approx(100.0 + 1.05)  # held until the slot is free
    assert two.reserve("8") and one.reserve("9")
    one.settle("9")
    two.settle("8")
    assert not one.reserve("10")  # 3 a second for the whole platform, counted in the store
    assert one.ready_at("10") == pytest.approx(101.0)
    clock.now = 101.1
    assert one.reserve("10")
    assert not two.reserve("7")  # 8, 9 (settled at 100.5) and 10 (in flight) fill the second
    clock.now = 101.6
    assert two.reserve("7")


def test_a_slot_never_settled_frees_its_target_after_the_in_flight_bound(tmp_path) -> None:
    clock = Clock()
    one, two = store_pacers(tmp_path, clock, Limit(1, 1.05))
    assert one.reserve("7")  # and the process is killed mid-send
    clock.now += IN_FLIGHT_SECONDS - 1
    assert not two.reserve("7")
    clock.now += 1 + 1.05
    assert two.reserve("7")


@pytest.mark.parametrize("whole", [False, True])
def test_retry_after_blocks_are_shared(tmp_path: Path, whole: bool) -> None:
    clock = Clock()
    one, two = store_pacers(tmp_path, clock)
    if whole:
        one.block_all(30)
    else:
        one.block("7", 30)
    assert not two.reserve("7")
    assert two.ready_at("7") == pytest.approx(130.0)
    assert two.target_ready_at("7") == pytest.approx(130.0)  # far: delivery defers the rows
    assert two.reserve("8") is not whole
    clock.now = 130.5
    assert two.reserve("7")


def test_old_slots_are_pruned(tmp_path: Path) -> None:
    clock = Clock()
    one, _ = store_pacers(tmp_path, clock)
    for target in ("1", "2", "3"):
        assert one.reserve(target)
        one.settle(target)
    clock.now += 3600
    assert one.shared is not None and one.shared.prune() == 3


async def test_two_deliverers_on_one_file_keep_the_telegram_limits(tmp_path: Path) -> None:
    """Two instances (two connections, two PTB bots) drain one outbox into the fake Bot API
    that enforces 1/s per chat and 30/s overall: no limit exceeded, every alert once."""
    fake = await FakeTelegram().start()
    fake.enforce_limits()
    db = open_store(tmp_path / "k.db")
    db.keywords.seed(["Putin", "rudal"])
    for address in range(2001, 2041):
        db.chats.subscribe(
            db.chats.ensure("telegram", str(address), "id"), [db.keywords.find("Putin")]
        )
    db.chats.subscribe(db.chats.ensure("telegram", "2100", "id"), [db.keywords.find("rudal")])
    save_articles(
        db,
        [
            ArticleIn(
                text=f"Presiden Putin menerima delegasi dagang nomor {i}"
                " di Kremlin pada Kamis siang.",
                source="tes",
                lang="id",
                published=APART + timedelta(days=7 * i),  # each its own story
            )
            for i in range(2)
        ]
        + [
            ArticleIn(
                text=f"Latihan ke-{i} menguji sistem pencegat rudal jarak"
                " menengah di pangkalan udara.",
                source="tes",
                lang="id",
                published=APART + timedelta(days=7 * (i + 2)),
            )
            for i in range(5)
        ],
    )
    assert matching_pass(db).queued == 85
    connections = [db, open_store(tmp_path / "k.db")]
    bots = [Bot(fake.token, base_url=fake.base_url) for _ in connections]
    try:
        for bot in bots:
            await bot.initialize()
        deliverers = [
            Deliverer(c, {"telegram": TelegramSender(b, c)})
            for c, b in zip(connections, bots, strict=True)
        ]
        await asyncio.gather(
            *(
                drain(c, partial(d.deliver_due, batch=10), timeout=60)
                for c, d in zip(connections, deliverers, strict=True)
            )
        )
    finally:
        for bot in bots:
            await bot.shutdown()
        await fake.stop()
    assert fake.violations == 0, fake.violation_kinds
    sent = [(m["chat_id"], m["text"]) for m in fake.sent]
    assert len(sent) == 85 and len(set(sent)) == 85
    assert db.outbox.counts() == {"sent": 85}
    assert len(fake.messages_to(2100)) == 5
