"""Benchmark: articles/s into the SQLite store (FTS5 index kept in sync by triggers).

Run with ``python -m bench.bench_ingest`` (``--quick`` for a small run). Side by side in one
run: one transaction per batch of 500 (what `kabar ingest` and feed polls do) versus one
transaction per article. Articles are synthetic (~3 KB each, seeded), on a real file database
in WAL mode in a temporary folder.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from random import Random

from bot.ingest.dedup import save_articles
from store import open_store
from store.models import ArticleIn

WORDS = """yang dan di ke dari untuk dengan pada ini itu presiden pemerintah rudal satelit
Kim Putin militer uji coba peluncuran pertemuan laut udara kapal pelabuhan harga
the of and to in said government launch meeting security border""".split()


def make_articles(count: int, seed: int) -> list[ArticleIn]:
    rng = Random(seed)
    out = []
    for i in range(count):
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < 3000:
            words.append(rng.choice(WORDS))
        out.append(
            ArticleIn(
                text=" ".join(words) + f" nomor {seed}-{i}.",
                title=f"Berita {i}",
                url=f"https://bench.example/{seed}/{i}",
                source="bench",
                lang="id",
            )
        )
    return out


def timed_insert(path: Path, articles: list[ArticleIn], batch: int) -> float:
    db = open_store(path)
    start = time.perf_counter()
    for i in range(0, len(articles), batch):
        save_articles(db, articles[i : i + batch])
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small run (CI)")
    args = parser.parse_args()
    count = 1000 if args.quick else 10_000
    single_count = min(count, 1000 if args.quick else 2000)
    with tempfile.TemporaryDirectory() as folder:
        batched = timed_insert(Path(folder, "batched.db"), make_articles(count, 1), 500)
        single = timed_insert(Path(folder, "single.db"), make_articles(single_count, 2), 1)
        db = open_store(Path(folder, "batched.db"))
        start = time.perf_counter()
        hits = db.conn.execute(
            "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'rudal'"
        ).fetchone()[0]
        search_ms = (time.perf_counter() - start) * 1000
    print(f"{'mode':<28} {'articles':>9} {'seconds':>8} {'articles/s':>11}")
    print(f"{'batched (500/transaction)':<28} {count:>9} {batched:>8.2f} {count / batched:>11.0f}")
    print(
        f"{'one per transaction':<28} {single_count:>9} {single:>8.2f}"
        f" {single_count / single:>11.0f}"
    )
    print(f"batched / single speed-up: {(count / batched) / (single_count / single):.1f}x")
    print(f"FTS5 query over {count} articles: {hits} hits in {search_ms:.1f} ms")


if __name__ == "__main__":
    main()
