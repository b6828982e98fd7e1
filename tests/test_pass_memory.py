"""A dry-run matching pass hands out one batch's matches at a time and keeps none of them."""

from __future__ import annotations

import asyncio
import gc
import weakref

from bot.matching.passes import PassResult, add_results, matching_pass
from store import open_store

NOW = "2024-05-01T00:00:00+00:00"


def _filled(count: int):
    db = open_store(":memory:")
    db.conn.execute("INSERT INTO keywords (query, created_at) VALUES ('rudal', ?)", [NOW])
    db.conn.executemany(
        "INSERT INTO articles (content_hash, text, ingested_at) VALUES (?, ?, ?)",
        [(f"h{i}", f"Uji coba rudal nomor {i} di pantai timur.", NOW) for i in range(count)],
    )
    return db


def test_dry_run_never_holds_more_than_one_batch_of_details() -> None:
    db = _filled(2000)
    gc.disable()  # only reference counting frees a batch: a leak cannot hide behind the GC
    try:
        seen: list[int] = []
        alive_before_each_batch: list[int] = []
        earlier: list[weakref.ref] = []

        def on_batch(batch: PassResult) -> None:
            alive_before_each_batch.append(sum(ref() is not None for ref in earlier))
            seen.append(len(batch.details))
            earlier.extend(weakref.ref(item) for item in batch.details)

        result = matching_pass(db, batch_size=100, dry_run=True, on_batch=on_batch)
    finally:
        gc.enable()
    assert seen == [100] * 20  # every article matched, handed out 100 at a time
    assert alive_before_each_batch == [0] * 20  # the previous batch was dropped before the next
    assert all(ref() is None for ref in earlier)
    assert (result.checked, result.matched, result.queued, result.details) == (2000, 2000, 0, [])
    unchecked = db.conn.execute("SELECT count(*) FROM articles WHERE checked_at IS NULL")
    assert unchecked.fetchone()[0] == 2000  # a dry run writes nothing


def test_a_real_pass_reports_counts_and_no_details() -> None:
    db = _filled(250)
    chat = db.chats.ensure("telegram", "42", "id")
    db.chats.subscribe(chat, db.keywords.all())
    sizes: list[int] = []
    result = matching_pass(db, batch_size=100, on_batch=lambda b: sizes.append(b.checked))
    assert sizes == [100, 100, 50]
    assert (result.checked, result.matched, result.queued, result.details) == (250, 250, 250, [])


def test_a_sliced_pass_pauses_mid_batch_before_writing_and_sums_the_same() -> None:
    from bot.matching.passes import PAUSE, matching_batches

    db = _filled(250)
    chat = db.chats.ensure("telegram", "42", "id")
    db.chats.subscribe(chat, db.keywords.all())
    unchecked_at_pauses: list[int] = []
    results = []
    for result in matching_batches(db, 100, slice_seconds=0.0):  # every article uses it up
        if result == PAUSE:
            unchecked_at_pauses.append(
                db.conn.execute(
                    "SELECT count(*) FROM articles WHERE checked_at IS NULL"
                ).fetchone()[0]
            )
        results.append(result)
    # one pause per article, each before its batch's transaction
    assert unchecked_at_pauses == [250] * 100 + [150] * 100 + [50] * 50
    assert add_results(results) == PassResult(250, 250, 250, [])
    assert db.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 250


async def test_the_service_pass_lets_other_work_run_inside_a_batch(tmp_path, monkeypatch) -> None:
    from bot.app import service as service_module
    from bot.app.service import Service
    from bot.config import config_from_dict

    db = _filled(300)
    monkeypatch.setattr(service_module, "PASS_SLICE_SECONDS", 0.0)
    monkeypatch.setattr(service_module, "PASS_BATCH", 300)  # one batch: only slices can yield
    turns = 0
    done = False

    async def other_work() -> None:
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    service = Service(config_from_dict({"store": {"path": str(tmp_path / "k.db")}}, env={}), db, {})
    result = await service.match()
    done = True
    await other
    assert result is not None and result.checked == 300
    assert turns >= 300  # a turn for the other task after every (0-second) slice
