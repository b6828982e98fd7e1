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
from pathlib import Path

from bot.config import config_from_dict
from bot.models import ArticleIn
from bot.service import Service
from handlers.telegram import TelegramPlatform
from store import open_db
from store.articles import insert_articles
from store.chats import ensure_chat, subscribe
from store.keywords import list_keywords, seed_keywords
from store.outbox import counts
from tests.fakes.telegram_api import FakeTelegram

TEXT = ("Korea Utara kembali meluncurkan rudal balistik jarak pendek ke laut timur, kata militer"
        " Korea Selatan. Peluncuran ke-{n} tahun ini terjadi saat Kim Jong Un meninjau pangkalan.")


async def throughput(folder: Path, alerts: int) -> tuple[float, int, int]:
    fake = await FakeTelegram().start()
    fake.enforce_limits()
    config = config_from_dict({"store": {"path": str(folder / "t.db")},
                               "telegram": {"token": fake.token, "base_url": fake.base_url}},
                              env={})
    db = open_db(folder / "t.db")
    seed_keywords(db, ["rudal"])
    for i in range(alerts):
        subscribe(db, ensure_chat(db, "telegram", str(1000 + i), "id"), list_keywords(db))
    platform = TelegramPlatform(config, db)
    await platform.start(None, listen=False)
    service = Service(config, db, {"telegram": platform.sender})
    insert_articles(db, [ArticleIn(text=TEXT.format(n=1), source="bench", lang="id")])
    await service.match()
    start = time.perf_counter()
    while counts(db).get("pending") or counts(db).get("sending"):
        await service.deliver()
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    await platform.stop()
    await fake.stop()
    db.close()
    return elapsed, len(fake.sent), fake.violations


async def latency(folder: Path, rounds: int) -> list[float]:
    fake = await FakeTelegram().start()
    config = config_from_dict({"store": {"path": str(folder / "l.db")},
                               "telegram": {"token": fake.token, "base_url": fake.base_url}},
                              env={})
    db = open_db(folder / "l.db")
    seed_keywords(db, ["rudal"])
    subscribe(db, ensure_chat(db, "telegram", "77", "id"), list_keywords(db))
    platform = TelegramPlatform(config, db)
    await platform.start(None, listen=False)
    service = Service(config, db, {"telegram": platform.sender})
    samples = []
    for n in range(rounds):
        await asyncio.sleep(1.1)  # the per-chat limit: one message a second to one chat
        before = len(fake.sent)
        start = time.perf_counter()
        insert_articles(db, [ArticleIn(text=TEXT.format(n=n + 2), source="bench", lang="id")])
        await service.match_and_deliver()  # what a feed poll's wake-up runs
        assert len(fake.sent) == before + 1
        samples.append((time.perf_counter() - start) * 1000)
    await platform.stop()
    await fake.stop()
    db.close()
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
    print(f"{sent} alerts to {alerts} chats in {elapsed:.1f} s: {rate:.1f} msg/s ="
          f" {rate / 30 * 100:.0f}% of the 30/s ceiling; 429s from the enforcer: {violations}")
    print(f"ingest -> sendMessage latency over {len(samples)} articles: median"
          f" {statistics.median(samples):.0f} ms, max {max(samples):.0f} ms")


if __name__ == "__main__":
    main()
