"""Benchmark: the matching pass with per-chat blocked words.

Run with ``python -m bench.bench_blocked`` (``--quick`` for a small CI-sized run).

The real user path: a real SQLite store in a temporary folder, keywords seeded, CHATS chats
subscribed to every keyword, ARTICLES stored articles (synthetic, seeded; a tenth mention
``Kardashian``), then one whole ``matching_pass`` (match, drop blocked (article, chat) pairs,
queue the outbox rows, mark checked) per scenario, on a fresh copy of the store. Scenarios differ
only in how many blocked words the chats hold: none, then 1,000 and 10,000 spread over the chats
(words that never occur, plus ``Kardashian`` blocked by 10 chats). Reported: compiling the
blocked-words index (once per change of the blocked set: the first pass after a change pays
it), the steady pass's seconds (best of the rounds) and its ratio to the pass without blocked
words; the claim is that the ratio stays near 1 whatever the number of blocked words (one
compiled index, each matched article checked once).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from random import Random

from bot.ingest.dedup import save_articles
from bot.matching.passes import blocked_index, matching_pass
from store import open_store
from store.models import ArticleIn

WORDS = (
    "yang dan di ke dari untuk dengan pada ini itu tidak akan juga sudah dalam oleh menurut"
    " presiden pemerintah negara menteri rakyat wilayah kota provinsi ekonomi harga minggu"
    " militer uji coba peluncuran pertemuan kunjungan kerja sama perjanjian sanksi bantuan"
).split()
KEYWORDS = ["Kim", "Putin", "rudal", "satelit"]


def article(rng: Random, n: int) -> ArticleIn:
    words = [rng.choice(WORDS) for _ in range(400)]
    words[rng.randrange(400)] = rng.choice(KEYWORDS)
    if n % 10 == 0:
        words[rng.randrange(400)] = "Kardashian"
    return ArticleIn(text=" ".join(words) + ".", source="bench", lang="id", url=f"https://b/{n}")


def build(folder: Path, chats: int, articles: int) -> Path:
    path = folder / "base.db"
    db = open_store(path)
    db.keywords.seed(KEYWORDS)
    keywords = db.keywords.all()
    for n in range(chats):
        chat = db.chats.ensure("telegram", str(1000 + n), "id")
        db.chats.subscribe(chat, keywords, follow_all=True)
    rng = Random(11)
    save_articles(db, [article(rng, n) for n in range(articles)])
    db.close()
    return path


def one_pass(
    base: Path, folder: Path, chats: int, blocked: int, rounds: int
) -> tuple[float, float, int]:
    best, compile_s, queued = float("inf"), 0.0, 0
    for r in range(rounds):
        path = folder / f"run-{blocked}-{r}.db"
        shutil.copy(base, path)
        db = open_store(path)
        chat_ids = [db.chats.get("telegram", str(1000 + n)).id for n in range(chats)]  # type: ignore[union-attr]
        with db.transaction():
            for n in range(blocked):
                db.blocks.add(chat_ids[n % chats], f"zq{n}x", "bench")
            if blocked:
                for chat_id in chat_ids[:10]:
                    db.blocks.add(chat_id, "Kardashian", "bench")
        blocked_index.cache_clear()
        started = time.perf_counter()  # what the first pass after a change adds, once
        blocked_index(tuple(sorted(db.blocks.blockers())))
        compile_s = time.perf_counter() - started
        started = time.perf_counter()
        result = matching_pass(db)
        best = min(best, time.perf_counter() - started)
        queued = result.queued
        db.close()
        path.unlink()
    return best, compile_s, queued


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small CI-sized run")
    args = parser.parse_args(argv)
    chats, articles, rounds = (50, 200, 1) if args.quick else (200, 1_000, 3)
    sizes = (0, 1_000, 10_000) if not args.quick else (0, 1_000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = build(folder, chats, articles)
        print(f"{articles:,} articles, {chats} chats following every keyword; best of {rounds}")
        print(f"{'blocked words':>14} {'compile s':>10} {'pass s':>8} {'queued':>8} {'ratio':>6}")
        reference = 0.0
        for blocked in sizes:
            seconds, compile_s, queued = one_pass(base, folder, chats, blocked, rounds)
            reference = reference or seconds
            ratio = seconds / reference
            print(f"{blocked:>14,} {compile_s:>10.3f} {seconds:>8.3f} {queued:>8,} {ratio:>5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
