"""Delivery benchmark: the real Telegram sender (python-telegram-bot over HTTP on 127.0.0.1)
against the fake Bot API with its rate-limit enforcer on (it answers 429 to any send over 1/s
per chat, 20/min per group or 30/s overall, and counts them).

Run with ``python -m bench.bench_delivery`` (``--quick``: 200 alerts). Reports:
- throughput of N alerts to N private chats, as a share of Telegram's 30 messages/s ceiling,
  and the number of 429s the server had to send (target: >= 90 %, zero 429s);
- end-to-end latency from an article being stored to the sendMessage arriving at the server
  (ingest -> matching pass -> outbox -> delivery), the path a feed poll wakes.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from bot.app.service import Service
from bot.config import config_from_dict
from bot.ingest.dedup import save_articles
from handlers.telegram.adapter import TelegramPlatform
from store import open_store
from store.models import ArticleIn
from tests.fakes.telegram_api import FakeTelegram

TEXT = (
    "Korea Utara kembali meluncurkan rudal balistik jarak pendek ke laut timur, kata militer"
    " Korea Selatan. Peluncuran ke-{n} tahun ini terjadi saat Kim Jong Un meninjau pangkalan."
)


@asynccontextmanager
async def telegram_bot(
    db_path: Path, chats: int, *, enforce: bool
) -> AsyncIterator[tuple[FakeTelegram, Database, Service]]:
    """The fake Bot API, a store with `chats` chats following `rudal`, and a sending-only
    Telegram adapter wired into a Service."""
    fake = await FakeTelegram().start()
    fake.enforce_limits(enforce)
    config = config_from_dict(
        {
            "store": {"path": str(db_path)},
            "telegram": {"token": fake.token, "base_url": fake.base_url},
        },
        env={},
    )
    db = open_store(db_path)
    db.keywords.seed(["rudal"])
    for i in range(chats):
        db.chats.subscribe(db.chats.ensure("telegram", str(1000 + i), "id"), db.keywords.all())
    platform = TelegramPlatform(config, db)
    await platform.start(None, listen=False)
    try:
        yield fake, db, Service(config, db, {"telegram": platform.sender})
    finally:
        await platform.stop()
        await fake.stop()
        db.close()


def store_article(db: Database, n: int) -> None:
    save_articles(
        db,
        [
            ArticleIn(  # a week apart: each its own story (a message, not an edit)
                text=TEXT.format(n=n),
                source="bench",
                lang="id",
                published=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=7 * n),
            )
        ],
    )


async def throughput(folder: Path, alerts: int) -> tuple[float, int, int]:
    async with telegram_bot(folder / "t.db", alerts, enforce=True) as (fake, db, service):
        store_article(db, 1)
        await service.match()
        start = time.perf_counter()
        while db.outbox.counts().get("pending") or db.outbox.counts().get("sending"):
            await service.deliver()
            await asyncio.sleep(0.05)
        return time.perf_counter() - start, len(fake.sent), fake.violations


async def latency(folder: Path, rounds: int) -> list[float]:
    samples = []
    async with telegram_bot(folder / "l.db", 1, enforce=False) as (fake, db, service):
        for n in range(rounds):
            await asyncio.sleep(1.1)  # the per-chat limit: one message a second to one chat
            before = len(fake.sent)
            start = time.perf_counter()
            store_article(db, n + 2)
            await service.match_and_deliver()  # what a feed poll's wake-up runs
            assert len(fake.sent) == before + 1
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small run (CI)")
    args = parser.parse_args()
    alerts = 200 if args.quick else 1000
    with tempfile.TemporaryDirectory() as folder:
        elapsed, sent, violations = asyncio.run(throughput(Path(folder), alerts))
        samples = asyncio.run(latency(Path(folder), 5 if args.quick else 20))
    rate = sent / elapsed
    print(
        f"{sent} alerts to {alerts} chats in {elapsed:.1f} s: {rate:.1f} msg/s ="
        f" {rate / 30 * 100:.0f}% of the 30/s ceiling; 429s from the enforcer: {violations}"
    )
    print(
        f"ingest -> sendMessage latency over {len(samples)} articles: median"
        f" {statistics.median(samples):.0f} ms, max {max(samples):.0f} ms"
    )


if __name__ == "__main__":
    main()
