"""Load benchmark: a big store, many chats, many keywords — time and peak memory.

Run with ``python -m bench.bench_load`` (``--quick`` for a small CI-sized run). Defaults:
50,000 stored articles (~3 KB each), 1,000 keyword queries, 2,000 subscribed chats. Measures,
on a real SQLite file: the ingest, one full matching pass (which queues the alerts), and draining
the whole delivery backlog through the real Deliverer (claim, render, record) with an in-process
sender that has no network and no rate limits — so the figure is Kabar's own cost, not the
platforms' ceilings (see bench_delivery for those). Peak RSS is read after each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path
from random import Random

from bot.alerts.alert import Alert
from bot.delivery.pacing import Limit
from bot.delivery.worker import SENT, Deliverer, SendResult
from bot.ingest.dedup import save_articles
from bot.matching.passes import matching_pass
from handlers.telegram.format import to_telegram_html
from store import open_store
from store.models import ArticleIn

FILLER = """yang dan di ke dari untuk dengan pada ini itu tidak akan juga sudah dalam oleh karena
bahwa menurut kata pemerintah negara menteri rakyat wilayah kota provinsi ekonomi harga minggu
bulan tahun hari laporan berita sumber resmi pejabat pertemuan kunjungan kerja sama perjanjian
the of and to in said government minister people region city economy price week month year
report news source official meeting visit cooperation agreement according would
could also""".split()
SYLLABLES = "ba da ga ka la ma na pa ra sa ta wa be de ke le me ne re se te bi di ki li".split()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class NullSender:
    """Formats the Telegram HTML like the real sender, sends nowhere."""

    platform = "telegram"
    global_limits: tuple[Limit, ...] = ()

    def __init__(self) -> None:
        self.count = 0

    def target_limits(self, address: str) -> tuple[Limit, ...]:
        return ()

    async def send(self, address: str, alert: Alert) -> SendResult:
        to_telegram_html(alert)
        self.count += 1
        return SendResult(SENT, message_id=str(self.count))


def make_keywords(rng: Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize())
    return sorted(names)


def make_articles(
    rng: Random, first: int, count: int, keywords: list[str], rate: float
) -> list[ArticleIn]:
    out = []
    for i in range(first, first + count):
        words = [rng.choice(FILLER) for _ in range(420)]
        if rng.random() < rate:
            words[rng.randrange(len(words))] = rng.choice(keywords)
        out.append(
            ArticleIn(
                text=" ".join(words) + f" ({i}).",
                title=f"Berita {i}",
                url=f"https://load.example/{i}",
                source="load",
                lang="id",
            )
        )
    return out


def phase(label: str, start: float, extra: str = "") -> None:
    print(
        f"{label:<34} {time.perf_counter() - start:>8.2f} s   peak RSS {peak_rss_mb():>7.1f} MB"
        f"   {extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small run (CI)")
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--chats", type=int, default=2_000)
    parser.add_argument("--keywords", type=int, default=1_000)
    args = parser.parse_args()
    if args.quick:
        args.articles, args.chats, args.keywords = 5_000, 300, 200
    rng = Random(7)
    with tempfile.TemporaryDirectory() as folder:
        db = open_store(Path(folder, "load.db"))
        start = time.perf_counter()
        db.keywords.seed([])
        words = make_keywords(rng, args.keywords)
        for word in words:
            db.keywords.add(word, "bench")
        keywords = db.keywords.all()
        for i in range(args.chats):
            chat = db.chats.ensure("telegram", str(100_000 + i), "id")
            db.chats.subscribe(chat, rng.sample(keywords, 5))
        phase(f"{args.keywords} keywords, {args.chats} chats", start)
        start = time.perf_counter()
        batch = 2_000
        for offset in range(0, args.articles, batch):
            size = min(batch, args.articles - offset)
            save_articles(db, make_articles(rng, offset, size, words, rate=0.04))
        phase(
            f"ingest {args.articles} articles",
            start,
            f"{args.articles / (time.perf_counter() - start):.0f} articles/s",
        )
        start = time.perf_counter()
        result = matching_pass(db)
        phase(
            "matching pass",
            start,
            f"{result.checked} checked, {result.matched} matched, {result.queued} alerts queued",
        )
        start = time.perf_counter()
        sender = NullSender()
        deliverer = Deliverer(db, {"telegram": sender})
        asyncio.run(deliverer.deliver_due(limit=10**9))
        elapsed = time.perf_counter() - start
        phase(
            "deliver the backlog",
            start,
            f"{sender.count} sent, {sender.count / elapsed:.0f}"
            f" alerts/s; outbox {db.outbox.counts()}",
        )


if __name__ == "__main__":
    main()
