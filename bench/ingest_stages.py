"""Experiment (pre-restructuring layout): where `kabar ingest` spends its time, stage by stage.

``python -m bench.ingest_stages [--fast]`` writes a 3,000-article ``.jsonl`` of ~3.4 KB
Indonesian prose (seeded, from the language dev set's hand-written paragraphs) and a config with
``ingest.max_bytes`` raised (the 5 MB default refuses the 10 MB file whole), then runs the real
CLI in-process with thin timers around the stage functions. ``--fast`` swaps in
``bot.lang_fast.detect`` and ``bot.text_hash.content_hash``. It patches module attributes of the
current layout (bot.parsers, store.articles, bot.ingest, bot.cli): update it when they move.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COUNT = 3000
T: collections.Counter[str] = collections.Counter()


def write_corpus(path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "lang"))
    from texts_id_en import ID_PARAGRAPHS, ID_TITLES

    rng = Random(3)
    sentences = [s for p in ID_PARAGRAPHS for s in re.split(r"(?<=[.!?])\s", p)]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(COUNT):
            paras: list[str] = []
            while sum(len(p) + 2 for p in paras) < 3000:
                paras.append(" ".join(rng.sample(sentences, 3)))
            paras.append(f"Laporan nomor {i} dari meja redaksi.")
            row = {"title": f"{rng.choice(ID_TITLES)} ({i})", "text": "\n\n".join(paras),
                   "url": f"https://berita.example.id/{i}", "source": "Berita Contoh",
                   "published": "2024-04-10T19:05:00Z"}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            T[name] += time.perf_counter() - start

    return wrapper


def run(config: Path, corpus: Path, fast: bool) -> float:
    import bot.cli as cli
    import bot.ingest as ingest
    import bot.parsers as parsers
    import store.articles as articles

    if fast:
        import bot.lang_fast
        import bot.text_hash

        parsers.detect_language = bot.lang_fast.detect
        articles.content_hash = bot.text_hash.content_hash
    parsers.detect_language = timed("detect", parsers.detect_language)
    parsers.clean_text = timed("clean", parsers.clean_text)
    articles.content_hash = timed("hash", articles.content_hash)
    load, store = timed("load", ingest.load_sources), timed("store", ingest.store_batch)
    cli.ingest_sources = lambda db, sources, cap: store(db, load(sources, cap))
    start = time.perf_counter()
    with contextlib.suppress(SystemExit):
        cli.main(["ingest", "--config", str(config), str(corpus)])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fast", action="store_true", help="CLD2 detector + fast hash")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        corpus, config = Path(folder, "id3000.jsonl"), Path(folder, "kabar.toml")
        write_corpus(corpus)
        config.write_text('[store]\npath = "kabar.db"\n[ingest]\nmax_bytes = 50000000\n')
        total = run(config, corpus, args.fast)
    stages = [("detect (incl. profile load)", T["detect"]), ("clean_text", T["clean"]),
              ("read + JSON parse + glue", T["load"] - T["detect"] - T["clean"]),
              ("content_hash", T["hash"]), ("SQLite insert + FTS5", T["store"] - T["hash"]),
              ("CLI startup, config, other", total - T["load"] - T["store"])]
    print(f"total {total:.2f} s -> {COUNT / total:.0f} articles/s")
    for name, seconds in stages:
        print(f"  {name:<30} {seconds:7.2f} s {seconds / total * 100:5.1f}%"
              f" {seconds / COUNT * 1000:7.3f} ms/article")


if __name__ == "__main__":
    main()
