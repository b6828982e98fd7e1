"""Benchmark: delivery claims stay flat in the backlog (``claim_due`` reads its index in order).

Run with ``python -m bench.bench_drain`` (``--quick``: backlogs of 5k and 20k, well under 30 s).

For each backlog size (5,000 / 50,000 / 200,000 queued alerts; quick: 5,000 / 20,000) a fresh
SQLite store gets articles, chats and pending outbox rows through the store API, then the cost
of one claim of 200 (``store.outbox.claim_due``, what the Deliverer calls) is timed over 20 claims,
each followed by a no-network send (``mark_sent``). Side by side: ``old`` is the previous
claim (``bench.legacy.claim_due_old``: ``USE TEMP B-TREE FOR ORDER BY`` over every due row).
Finally a drain of 80,000 queued alerts (quick: 8,000) with the no-network sender:
alerts/s and the per-claim cost at the start and at the end of the drain.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench import legacy
from bot.ingest.dedup import save_articles
from store import Store, open_store
from store.models import ArticleIn, Queued

CLAIM = 200
CHATS = 1_000


def filled_store(path: Path, backlog: int) -> Store:
    db = open_store(path)
    chats = [db.chats.ensure("telegram", str(1_000_000 + n), "id").id for n in range(CHATS)]
    articles = -(-backlog // CHATS)
    report = save_articles(
        db,
        [
            ArticleIn(
                text=f"Kim Jong Un meninjau uji coba rudal nomor {n}.", source="bench", lang="id"
            )
            for n in range(articles)
        ],
    )
    queued = (Queued(article, chat, ("Kim",)) for article in report.new_ids for chat in chats)
    rows = [q for _, q in zip(range(backlog), queued, strict=False)]
    db.outbox.record_matches(report.new_ids, rows)
    return db


def claim_ms(db: Store, claims: int, old: bool = False) -> list[float]:
    """Milliseconds per claim of ``CLAIM`` rows (``old``: ``bench.legacy.claim_due_old``);
    then every claimed row is recorded as sent (not timed)."""
    times = []
    for _ in range(claims):
        start = time.perf_counter()
        if old:
            ids = legacy.claim_due_old(db, CLAIM)
        else:
            ids = [item.id for item in db.outbox.claim_due(CLAIM)]
        times.append((time.perf_counter() - start) * 1000)
        for item_id in ids:
            db.outbox.mark_sent(item_id, "bench")
    return times


def drain(db: Store) -> tuple[int, float, float, float]:
    sent, first, last = 0, 0.0, 0.0
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        items = db.outbox.claim_due(CLAIM)
        took = (time.perf_counter() - t0) * 1000
        if not items:
            break
        first = first or took
        last = took
        for item in items:
            db.outbox.mark_sent(item.id, "bench")
        sent += len(items)
    return sent, time.perf_counter() - start, first, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small run (CI)")
    args = parser.parse_args()
    sizes = (5_000, 20_000) if args.quick else (5_000, 50_000, 200_000)
    drain_size = 8_000 if args.quick else 80_000
    print(f"claim_due({CLAIM}) cost by backlog (median of 20 claims, ms)")
    print(f"{'backlog':>9} {'new (index)':>12} {'old (sort)':>11} {'old/new':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        medians: list[float] = []
        for size in sizes:
            new_db = filled_store(Path(tmp, f"new-{size}.db"), size)
            new = statistics.median(claim_ms(new_db, 20))
            new_db.close()
            old_db = filled_store(Path(tmp, f"old-{size}.db"), size)
            old = statistics.median(claim_ms(old_db, 20, old=True))
            old_db.close()
            medians.append(new)
            print(f"{size:>9,} {new:>12.2f} {old:>11.2f} {old / new:>7.1f}x")
        print(
            f"new: largest / smallest backlog = {medians[-1] / medians[0]:.2f}"
            " (flat: the index serves the claim order)"
        )
        db = filled_store(Path(tmp, "drain.db"), drain_size)
        sent, seconds, first, last = drain(db)
        db.close()
    print(
        f"drain of {sent:,} alerts, no-network sender: {seconds:.1f} s = {sent / seconds:,.0f}"
        f" alerts/s; claim at start {first:.2f} ms, at the end {last:.2f} ms"
    )


if __name__ == "__main__":
    main()
