"""Story assignments as a fixed record: which articles share a story, on the story evaluation set
(in memory, through the store's SQL source, and among look-alike filler) and on the ingest
benchmark's three corpora through `kabar ingest`'s real path (``ingest_sources``), plus a digest
of every article's stored features.

The record in ``tests/fixtures/story_groupings.json`` was made by the code before the ingest
speed work (main at 8b07ba7) with ``python -m bench.story_groupings --record``; the tests
(tests/test_stories_groupings.py) and ``bench.bench_ingest`` check that the current code gives
the same groupings and the same stored features. ``python -m bench.story_groupings`` checks all
of it (3,000 articles per corpus; ``--quick``: the first 400).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "tests" / "fixtures" / "story_groupings.json"
CORPORA = (("id", 1), ("en", 2), ("syllables", 3))  # bench_ingest's corpora and seeds
CORPUS_COUNT = 3000
FILLER_COUNT = 1000


def partition(assigned: dict[int, int] | dict[str, int]) -> list[list]:
    """The grouping as sorted groups of member keys (story ids themselves left out, so two runs
    compare whatever ids they were given; within one run the story id is the founder's)."""
    groups: dict[int, list] = {}
    for key, story in assigned.items():
        groups.setdefault(story, []).append(key)
    return sorted(sorted(g) for g in groups.values())


def _digest(lines: Iterable[str]) -> str:
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode("utf-8") + b"\n")
    return h.hexdigest()


class SqliteSource:
    """The store's SQL candidate source on a fresh in-memory database (each article row is
    stored first: feature rows reference it), as tests/test_stories_group.py uses it."""

    def __init__(self) -> None:
        from store import open_store

        self.store = open_store(":memory:")

    def recent(self, key, lo, hi, limit):  # type: ignore[no-untyped-def]
        return self.store.stories.recent(key, lo, hi, limit)

    def features(self, ids):  # type: ignore[no-untyped-def]
        return self.store.stories.features(ids)

    def stories(self, ids):  # type: ignore[no-untyped-def]
        return self.store.stories.stories(ids)

    def add(self, article_id, features, story_id):  # type: ignore[no-untyped-def]
        self.store.conn.execute(
            "INSERT INTO articles (id, content_hash, text, ingested_at) VALUES (?, ?, ?, ?)",
            [article_id, f"h{article_id}", "x", "2023-09-13T00:00:00.000000Z"],
        )
        self.store.stories.add(article_id, features, story_id)


def eval_groupings() -> dict[str, object]:
    """The evaluation set: memory index, SQL index, and with 1,000 filler articles."""
    from bench.bench_stories import fillers
    from bench.stories_eval import load_eval_set
    from bot.stories import MemorySource, StoryIndex, features_of

    items = load_eval_set()
    memory = StoryIndex(MemorySource())
    sql = StoryIndex(SqliteSource())
    out: dict[str, object] = {
        "memory": partition({it.key: memory.assign(it.article) for it in items}),
        "sql": partition({it.key: sql.assign(it.article) for it in items}),
        "features": _digest(features_of(it.article).to_json() for it in items),
    }
    end = max(it.article.published for it in items)
    fill = fillers(FILLER_COUNT, end, first_id=1)
    labelled = load_eval_set(first_id=FILLER_COUNT + 1)
    stream = sorted(
        [(a.published, a.id, a) for a in fill]
        + [(x.article.published, x.article.id, x.article) for x in labelled]
    )
    index = StoryIndex(MemorySource())
    with_filler = {aid: index.assign(art) for _p, aid, art in stream}
    out["with_filler"] = partition(with_filler)
    out["filler_features"] = _digest(features_of(a).to_json() for a in fill)
    return out


def corpus_groupings(name: str, seed: int, count: int, folder: Path) -> dict[str, object]:
    """One bench corpus through ``ingest_sources`` into a fresh store: the grouping of the
    stored article ids and a digest of their stored features (in id order)."""
    from bench.bench_ingest import write_jsonl
    from bot.ingest.sources import ingest_sources
    from store import open_store

    corpus = folder / f"{name}-{count}.jsonl"
    write_jsonl(corpus, name, count, seed)
    db_path = folder / f"groupings-{time.perf_counter_ns()}.db"
    store = open_store(db_path)
    try:
        report = ingest_sources(store, [str(corpus)], 5_000_000)
        assert report.new == count, report.summary()
        rows = store.conn.execute(
            "SELECT article_id, story_id, features FROM story_articles ORDER BY article_id"
        ).fetchall()
    finally:
        store.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.remove(f"{db_path}{suffix}")
    return {
        "groups": partition({aid: story for aid, story, _f in rows}),
        "features": _digest(f for _a, _s, f in rows),
    }


def prefix(groups: list[list[int]], upto: int) -> list[list[int]]:
    """The grouping of the first ``upto`` articles (articles are assigned in id order, so the
    first ``upto`` of a longer run are grouped exactly as a run of ``upto`` alone)."""
    cut = [[a for a in g if a <= upto] for g in groups]
    return sorted(g for g in cut if g)


def record(count: int = CORPUS_COUNT) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        return {
            "made_by": "main 8b07ba7 (before the ingest speed work)",
            "eval": eval_groupings(),
            "corpora": {
                name: corpus_groupings(name, seed, count, Path(tmp)) for name, seed in CORPORA
            },
            "count": count,
        }


def compare(count: int) -> list[str]:
    """Differences between the current code and the record (empty: identical), checking the
    first ``count`` articles of each corpus (features digest only for a full-length run)."""
    want = json.loads(RECORD.read_text(encoding="utf-8"))
    problems = []
    got_eval = eval_groupings()
    for key, value in want["eval"].items():
        if got_eval[key] != value:
            problems.append(f"evaluation set: {key} differs")
    with tempfile.TemporaryDirectory() as tmp:
        for name, seed in CORPORA:
            got = corpus_groupings(name, seed, count, Path(tmp))
            rec = want["corpora"][name]
            if got["groups"] != prefix(rec["groups"], count):
                problems.append(f"corpus {name}: groupings of {count} articles differ")
            if count == want["count"] and got["features"] != rec["features"]:
                problems.append(f"corpus {name}: stored features differ")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write the record (old code)")
    parser.add_argument("--quick", action="store_true", help="first 400 articles per corpus")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.record:
        RECORD.write_text(json.dumps(record(), separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"recorded {RECORD}")
        return 0
    count = 400 if args.quick else CORPUS_COUNT
    problems = compare(count)
    for p in problems:
        print(p)
    print("groupings identical to the record" if not problems else "GROUPINGS DIFFER")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
