"""The real `kabar run` process under kill -9 and platform faults (the reduced CI run of
`python -m bench.bench_reliability`): every alert arrives, duplicates only from messages in
flight at a kill, no rate limit exceeded, gone chats marked inactive, the store intact; the
digest chats' items each arrive once though kills land during digest delivery."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

from bench.bench_reliability import (
    DIGEST_CHATS,
    TITLE,
    Scenario,
    prepare_store,
    run_scenario,
    start_bot,
    write_config,
)
from store import open_store
from tests.fakes import telegram_api
from tests.fakes.telegram_api import FakeTelegram

MAX_IN_FLIGHT_PER_KILL = 3  # sends overlap only briefly at 29/s; each could be cut mid-request


async def test_kill_dash_nine_and_faults_lose_nothing(
    tmp_path: Path, backend: str, db_location: str
) -> None:
    """On both stores (PostgreSQL: `store.url` in the config, the test's database)."""
    url = db_location if backend == "postgresql" else ""
    report = await run_scenario(tmp_path, Scenario(store_url=url))
    print("\n".join(report.lines()))  # shown with pytest -s; the README quotes the bench run
    assert report.kills == 3
    assert report.missing == [], (tmp_path / "kabar-run.log").read_text()[-3000:]
    assert report.delivered == report.expected == 204
    assert report.duplicates <= report.kills * MAX_IN_FLIGHT_PER_KILL
    assert report.violations == 0
    assert report.inactive == ["telegram:1001", "slack:C0002"]
    assert report.outbox == {"sent": 204 + 200, "skipped": 12}
    assert report.integrity_ok
    # the digest chats: killed while their digests were being sent, every item exactly once
    # (beyond the items of a message in flight at a kill, which may arrive twice)
    digest = report.digest
    assert digest is not None and digest.kills_during >= 1
    assert digest.lost == 0 and digest.delivered == digest.expected == 200
    assert digest.messages >= 2 * 5  # several messages per digest (100 long items each)
    assert digest.repeated <= report.kills * len(DIGEST_CHATS)
    assert digest.doubled <= digest.in_repeats
    assert digest.digests == {"sent": 2}


def telegram_received(tg: FakeTelegram) -> Counter[tuple[int, int]]:
    return Counter(
        (m["chat_id"], int(found.group(1))) for m in tg.sent if (found := TITLE.search(m["text"]))
    )


async def test_sigterm_during_delivery_sends_nothing_twice_and_loses_nothing(
    tmp_path: Path,
) -> None:
    """SIGTERM while slow sends are in flight: they finish and are recorded, the rest is
    handed back; the restarted process sends exactly what is left."""
    scenario = Scenario(telegram_chats=20, slack_channels=0, articles=3, digest_articles=0)
    tg = await FakeTelegram().start()
    tg.enforce_limits()
    tg.fail(*[telegram_api.slow(1.0)] * 100)  # every send takes a second to be answered
    log = tmp_path / "kabar-run.log"
    try:
        config = write_config(tmp_path, tg, None)
        prepare_store(tmp_path, scenario)  # no chat blocks the bot here: all 60 are due
        expected = {(1000 + chat, n) for chat in range(20) for n in range(3)}
        proc = await start_bot(config, log)
        await tg.wait_for(lambda: len(tg.sent) >= 3, timeout=60)
        await asyncio.sleep(0.3)  # the next sends are in flight, mid-request
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        stopped_after = len(tg.sent)
        proc = await start_bot(config, log)
        await tg.wait_for(lambda: expected <= set(telegram_received(tg)), timeout=90)
        await asyncio.sleep(1.5)  # a duplicate would have time to arrive
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
        await tg.stop()
    seen = telegram_received(tg)
    assert stopped_after < len(expected)  # the stop really came mid-delivery
    assert sorted(seen.elements()) == sorted(expected), log.read_text()[-3000:]  # once each
    db = open_store(tmp_path / "kabar.db")
    assert db.outbox.counts() == {"sent": len(expected)}
    db.close()
