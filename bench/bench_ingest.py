"""Benchmark: `kabar ingest` articles/s on the real path, with the share of time per stage.

Run with ``python -m bench.bench_ingest`` (``--quick``: a small run for CI, well under 30 s).

The path measured is ``bot.ingest.sources.ingest_sources``, the function `kabar ingest` calls:
a ``.jsonl`` file is read and streamed in batches -> JSON parse -> clean -> language detection ->
dedup keys -> SQLite insert with the FTS5 index (triggers) -> story grouping (features,
candidate match, story rows), in the same transaction. Three generated corpora of ~3 KB
articles (seeded): Indonesian prose and English prose (shuffled sentences of the hand-written
paragraphs of the language dev set) and random syllables. Each corpus goes through

* ``new``: the current code, and
* ``old-g``: the current path with only the story grouping from before its speed work
  (``bench/legacy_stories.py``), on the old run's articles, next to a new run of them, and
* ``old``: the same path with the previous detector (langdetect), the previous hash
  normaliser (a ``unicodedata`` character loop), from ``bench/legacy.py``, and the story
  grouping before the speed work, from ``bench/legacy_stories.py``, side by side; and
* ``no-g``: a diagnostic, not a path any user runs: the current path with no story grouping,
  which shows what grouping adds per article.

The new path's stories must be the old code's: the grouping of each corpus is compared with the
record made by it (``tests/fixtures/story_groupings.json``, ``bench/story_groupings.py``), and
the run fails if they differ.

Stage times come from thin timers around the stage functions (module attributes); "store" is
the SQLite transaction (dedup lookups, INSERTs, FTS5), and the FTS5 share is measured by a third
run with the FTS insert trigger dropped. Then the whole CLI (a fresh ``python -m bot ingest``
process, default config) on a 3,000-article ``.jsonl`` (about 10 MB, over the default 5 MB
``ingest.max_bytes``: the cap is per article), new and old; and the peak RSS of that process
on two file sizes (the stream keeps memory flat; the full run extrapolates to 1 GB).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from random import Random
from typing import Any

from bench.story_groupings import RECORD, prefix

ROOT = Path(__file__).resolve().parent.parent
LANG_FIXTURES = ROOT / "tests" / "fixtures" / "lang"
ARTICLE_CHARS = 3000
TIMES: collections.defaultdict[str, float] = collections.defaultdict(float)


# --- corpora ------------------------------------------------------------------------------------


def _sentences(paragraphs: list[str]) -> list[str]:
    return [s for p in paragraphs for s in re.split(r"(?<=[.!?])\s", p) if s]


def _prose(rng: Random, sentences: list[str]) -> str:
    paras: list[str] = []
    size = 0
    while size < ARTICLE_CHARS:
        paras.append(" ".join(rng.sample(sentences, 3)))
        size += len(paras[-1]) + 2
    return "\n\n".join(paras)


def _syllables(rng: Random) -> str:
    onsets = [*"bcdghjklmnprstwyz", "", "ng"]
    vowels = [*"aeiou", "ai"]
    codas = ["", "", "n", "k", "r", "s", "t", "ng", "x"]
    out: list[str] = []
    size = 0
    while size < ARTICLE_CHARS:
        words = [
            "".join(
                rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
                for _ in range(rng.randint(1, 4))
            )
            for _ in range(rng.randint(5, 14))
        ]
        out.append(" ".join(words).capitalize() + rng.choice(".?!"))
        size += len(out[-1]) + 1
    return " ".join(out)


def corpus_texts(name: str, count: int, seed: int) -> Iterator[dict[str, str]]:
    sys.path.insert(0, str(LANG_FIXTURES))
    from texts_id_en import EN_PARAGRAPHS, EN_TITLES, ID_PARAGRAPHS, ID_TITLES

    rng = Random(seed)
    sentences = _sentences(ID_PARAGRAPHS if name == "id" else EN_PARAGRAPHS)
    titles = ID_TITLES if name == "id" else EN_TITLES
    for i in range(count):
        text = _syllables(rng) if name == "syllables" else _prose(rng, sentences)
        yield {
            "title": f"{rng.choice(titles)} ({i})",
            "text": f"{text}\n\nNomor {seed}-{i}.",
            "url": f"https://berita.example/{name}/{seed}/{i}?utm_source=x",
            "source": "Berita Contoh",
            "published": "2024-04-10T19:05:00Z",
        }


def write_jsonl(path: Path, name: str, count: int, seed: int) -> int:
    with path.open("w", encoding="utf-8") as fh:
        for row in corpus_texts(name, count, seed):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path.stat().st_size


# --- the in-process path with stage timers ----------------------------------------------------


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[name] += time.perf_counter() - start

    return wrapper


@contextlib.contextmanager
def instrumented(old: bool, old_stories: bool = False, no_stories: bool = False) -> Iterator[None]:
    """Timers around the stages; ``old``: the previous detector, hash and story grouping
    (``bench/legacy.py``, ``bench/legacy_stories.py``) swapped in; ``old_stories``: only the
    previous story grouping; ``no_stories``: no story grouping at all (a diagnostic: what the
    rest of the path costs, not a path any user runs)."""
    import bot.ingest.dedup as dedup
    import bot.ingest.parse as parse
    import bot.stories.assign as assign
    import store.articles as articles
    from bench import legacy, legacy_stories
    from bot.stories.group import StoryIndex

    saved = (parse.detect_language, parse.clean_text, dedup.content_hash, articles.insert_articles)
    saved_stories = (
        dedup.assign_stored,
        assign.features_of,
        legacy_stories.features_of,
        StoryIndex.best_match,
        legacy_stories.StoryIndex.best_match,
    )
    detect, content_hash, assign_stored = saved[0], saved[2], saved_stories[0]
    if old:
        detect, content_hash = legacy.detect_language, legacy.content_hash
    if old or old_stories:
        assign_stored = legacy_stories.assign_stored
    if no_stories:
        assign_stored = _no_grouping
    parse.detect_language = _timed("detect", detect)
    parse.clean_text = _timed("clean", parse.clean_text)
    dedup.content_hash = _timed("hash", content_hash)
    articles.insert_articles = _timed("store", articles.insert_articles)
    dedup.assign_stored = _timed("stories", assign_stored)
    assign.features_of = _timed("story features", assign.features_of)
    legacy_stories.features_of = _timed("story features", legacy_stories.features_of)
    StoryIndex.best_match = _timed("story match", StoryIndex.best_match)  # type: ignore[method-assign]
    legacy_stories.StoryIndex.best_match = _timed(  # type: ignore[method-assign]
        "story match", legacy_stories.StoryIndex.best_match
    )
    try:
        yield
    finally:
        (parse.detect_language, parse.clean_text, dedup.content_hash, articles.insert_articles) = (
            saved
        )
        (
            dedup.assign_stored,
            assign.features_of,
            legacy_stories.features_of,
            StoryIndex.best_match,
            legacy_stories.StoryIndex.best_match,
        ) = saved_stories


def _no_grouping(*_args: Any, **_kwargs: Any) -> dict[int, int]:
    return {}


def run_path(
    folder: Path,
    corpus: Path,
    old: bool,
    fts: bool = True,
    old_stories: bool = False,
    no_stories: bool = False,
) -> tuple[dict[str, float], list[list[int]]]:
    """Stage times of one run into a fresh store, and the stories it stored (the grouping of
    the article ids)."""
    from bench.story_groupings import partition
    from bot.ingest.sources import ingest_sources
    from store import open_store

    db_path = folder / f"bench-{time.perf_counter_ns()}.db"
    db = open_store(db_path)
    if not fts:
        db.conn.execute("DROP TRIGGER articles_ai")
    TIMES.clear()
    with instrumented(old, old_stories, no_stories):
        start = time.perf_counter()
        report = ingest_sources(db, [str(corpus)], 5_000_000)
        total = time.perf_counter() - start
    groups = partition(
        dict(db.conn.execute("SELECT article_id, story_id FROM story_articles").fetchall())
    )
    db.close()
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            os.remove(f"{db_path}{suffix}")
    assert report.new > 0 and not report.rejected, report.summary()
    return {"total": total, "articles": report.new, **TIMES}, groups


STAGES = (
    "read + JSON + glue",
    "clean",
    "detect",
    "hash",
    "store (SQLite + FTS5)",
    "story features",
    "story match",
    "story writes",
)


def stage_shares(result: dict[str, float]) -> dict[str, float]:
    store = result.get("store", 0.0)  # the dedup keys are made before it (``with_keys``)
    stories = result.get("stories", 0.0)
    features, match = result.get("story features", 0.0), result.get("story match", 0.0)
    other = result["total"] - sum(
        result.get(k, 0.0) for k in ("clean", "detect", "hash", "store", "stories")
    )
    values = [
        other,
        result.get("clean", 0.0),
        result.get("detect", 0.0),
        result.get("hash", 0.0),
        store,
        features,
        match,
        stories - features - match,  # story and key rows, the just-stored articles read back
    ]
    return {name: value / result["total"] for name, value in zip(STAGES, values, strict=True)}


# --- the whole CLI in a fresh process -----------------------------------------------------------

_CLI = """
import resource, sys, time
old = sys.argv[1] == "old"
if sys.argv[1] == "old-g":
    import bench.legacy_stories as legacy_stories, bot.ingest.dedup as dedup
    dedup.assign_stored = legacy_stories.assign_stored
if sys.argv[1] == "no-g":
    import bench.bench_ingest as bench, bot.ingest.dedup as dedup
    dedup.assign_stored = bench._no_grouping
if old:
    import bench.legacy as legacy, bot.ingest.dedup as dedup, bot.ingest.parse as parse
    import bench.legacy_stories as legacy_stories
    parse.detect_language, dedup.content_hash = legacy.detect_language, legacy.content_hash
    dedup.assign_stored = legacy_stories.assign_stored
from bot.cli import main
start = time.perf_counter()
code = main(["ingest", *sys.argv[2:]])
print("ELAPSED", time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""


def run_cli(folder: Path, corpus: Path, old: bool | str) -> tuple[float, int, str]:
    """Wall seconds of the whole process, its peak RSS in kB, and its summary line."""
    work = Path(tempfile.mkdtemp(dir=folder))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("KABAR_CONFIG", None)
    mode = old if isinstance(old, str) else "old" if old else "new"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CLI, mode, str(corpus)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    lines = done.stdout.splitlines()
    if done.returncode != 0 or not lines or not lines[-1].startswith("ELAPSED"):
        raise SystemExit(f"kabar ingest failed ({done.returncode}): {done.stdout}{done.stderr}")
    return wall, int(lines[-1].split()[2]), lines[0]


# --- report -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small run (CI)")
    args = parser.parse_args()
    count, old_count = (400, 60) if args.quick else (3000, 300)
    cli_count, cli_old_count = (3000, 150) if args.quick else (3000, 3000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(
            f"real path (bot.ingest.sources.ingest_sources), ~{ARTICLE_CHARS / 1000:.0f} KB"
            " articles, one core"
        )
        print(
            f"{'corpus':<11} {'path':<5} {'articles':>8} {'art/s':>7}  "
            + "  ".join(f"{s[:14]:>14}" for s in STAGES)
        )
        warm = folder / "warm.jsonl"
        write_jsonl(warm, "id", 50, 99)
        run_path(folder, warm, old=False)  # imports, regex and translate tables: not measured
        run_path(folder, warm, old=True)
        record = json.loads(RECORD.read_text(encoding="utf-8"))["corpora"]
        differ = []
        for seed, name in enumerate(("id", "en", "syllables"), 1):
            new_file, old_file = folder / f"{name}.jsonl", folder / f"{name}-old.jsonl"
            write_jsonl(new_file, name, count, seed)
            write_jsonl(old_file, name, old_count, seed + 10)
            new, groups = run_path(folder, new_file, old=False)
            no_fts, _groups = run_path(folder, new_file, old=False, fts=False)
            bare, _groups = run_path(folder, new_file, old=False, no_stories=True)
            old, _groups = run_path(folder, old_file, old=True)
            before, before_groups = run_path(folder, old_file, old=False, old_stories=True)
            after, after_groups = run_path(folder, old_file, old=False)
            if groups != prefix(record[name]["groups"], count) or before_groups != after_groups:
                differ.append(name)
            for label, result in (("new", new), ("old", old), ("old-g", before), ("no-g", bare)):
                shares = stage_shares(result)
                print(
                    f"{name:<11} {label:<5} {result['articles']:>8.0f}"
                    f" {result['articles'] / result['total']:>7.0f}  "
                    + "  ".join(f"{shares[s] * 100:>13.1f}%" for s in STAGES)
                )
            new_rate, old_rate = (new["articles"] / new["total"], old["articles"] / old["total"])
            grouping = (after["articles"] / after["total"]) / (before["articles"] / before["total"])
            fts_ms = max(new["store"] - no_fts["store"], 0.0) * 1000 / new["articles"]
            print(
                f"{'':<11} new/old {new_rate / old_rate:.1f}x, new/old-g {grouping:.2f}x"
                f" (same {old_count} articles, only the grouping old); FTS5 index:"
                f" {fts_ms:.3f} ms/article ({fts_ms / 1000 * new['articles'] / new['total']:.0%}"
                f" of new; store without FTS5 {no_fts['store'] / new['store']:.0%} of store)"
            )
            bare_ms = bare["total"] * 1000 / bare["articles"]
            grouping_ms = new["total"] * 1000 / new["articles"] - bare_ms
            print(
                f"{'':<11} no-g (diagnostic, the same path without story grouping):"
                f" {bare_ms:.2f} ms/article; grouping adds {grouping_ms:.2f} ms/article"
            )
        print(
            f"story groupings of the new path vs the old code's (its record {RECORD.name},"
            " and the old-g run):"
            + (f" DIFFERENT for {', '.join(differ)}" if differ else " identical on all three")
        )
        cli_file, cli_old = folder / "cli.jsonl", folder / "cli-old.jsonl"
        size = write_jsonl(cli_file, "id", cli_count, 40)
        write_jsonl(cli_old, "id", cli_old_count, 41)
        wall, rss, line = run_cli(folder, cli_file, old=False)
        old_wall, _rss, old_line = run_cli(folder, cli_old, old=True)
        print(
            f"\nwhole CLI, default config: `kabar ingest` on a {cli_count:,}-article .jsonl"
            f" ({size / 1e6:.1f} MB > the 5 MB default cap)"
        )
        print(f"  new: {wall:.2f} s wall -> {cli_count / wall:.0f} articles/s ({line})")
        grouping_wall, _rss, grouping_line = run_cli(folder, cli_file, old="old-g")
        print(
            f"  old-g: {grouping_wall:.2f} s wall -> {cli_count / grouping_wall:.0f} articles/s"
            f" ({grouping_line}; only the grouping old); new/old-g {grouping_wall / wall:.2f}x"
        )
        bare_wall, _rss, bare_line = run_cli(folder, cli_file, old="no-g")
        print(
            f"  no-g: {bare_wall:.2f} s wall -> {cli_count / bare_wall:.0f} articles/s"
            f" ({bare_line}; diagnostic: no story grouping, not a user path)"
        )
        old_rate = cli_old_count / old_wall
        print(
            f"  old: {old_wall:.2f} s wall for {cli_old_count:,} -> {old_rate:.0f}"
            f" articles/s ({old_line}); new/old {cli_count / wall / old_rate:.1f}x"
        )
        sizes = (500, 2_000) if args.quick else (3_000, 30_000)
        print("\nstreamed .jsonl, peak RSS of the whole `kabar ingest` process:")
        peaks = []
        for n in sizes:
            big = folder / f"mem-{n}.jsonl"
            mb = write_jsonl(big, "en", n, 50 + n) / 1e6
            wall, rss, _line = run_cli(folder, big, old=False)
            peaks.append(rss)
            print(
                f"  {mb:7.1f} MB ({n:,} articles): peak RSS {rss / 1024:.0f} MB,"
                f" {n / wall:.0f} articles/s"
            )
            big.unlink()
        print(
            f"  file x{sizes[1] / sizes[0]:.0f} -> peak RSS x{peaks[1] / peaks[0]:.2f}"
            " (flat: memory is bounded by one batch, so a 1 GB file peaks the same)"
        )
    if differ:
        raise SystemExit(f"story groupings differ from the record: {', '.join(differ)}")


if __name__ == "__main__":
    main()
