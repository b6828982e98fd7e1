"""A `.jsonl` file is a stream of articles: the size cap applies per line, memory stays bounded by
one batch, and the CLI stores an archive larger than the default cap."""

from __future__ import annotations

import itertools
import json
import tracemalloc
from pathlib import Path
from random import Random

import pytest

from bot.cli import main
from bot.config import config_from_dict
from bot.ingest.parse import read_file, stream_file, too_large_reason
from bot.ingest.sources import ingest_sources
from store import open_store

WORDS = (
    "pemerintah provinsi mengumumkan bahwa jalur kereta api antara kedua kota akan ditutup"
    " sementara selama tiga hari karena perbaikan jembatan yang rusak akibat banjir bandang"
    " penumpang diminta memeriksa jadwal terbaru sebelum berangkat ke stasiun"
).split()


def body(rng: Random, n: int, chars: int) -> str:
    words: list[str] = []
    size = 0
    while size < chars:
        words.append(rng.choice(WORDS))
        size += len(words[-1]) + 1
    return " ".join(words).capitalize() + f". Laporan nomor {n}."


def write_jsonl(path: Path, count: int, chars: int, seed: int = 1) -> None:
    rng = Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for n in range(count):
            fh.write(
                json.dumps(
                    {
                        "title": f"Berita {n}",
                        "text": body(rng, n, chars),
                        "url": f"https://berita.example/{n}",
                    }
                )
                + "\n"
            )


def test_cli_stores_a_jsonl_archive_larger_than_the_default_cap(
    capsys, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    archive = tmp_path / "archive.jsonl"
    write_jsonl(archive, 120, 50_000)
    default_cap = config_from_dict({}).ingest.max_bytes
    assert archive.stat().st_size > default_cap  # the old per-file cap refused it whole
    assert main(["ingest", str(archive)]) == 0
    assert capsys.readouterr().out == "new 120, duplicate 0, rejected 0\n"
    db = open_store(tmp_path / "kabar.db")
    assert db.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 120


def test_the_cap_applies_per_line_and_a_bad_line_is_rejected_alone(tmp_path: Path) -> None:
    archive = tmp_path / "a.jsonl"
    rng = Random(2)
    good = [json.dumps({"text": body(rng, n, 300)}) for n in range(4)]
    too_big = json.dumps({"text": body(rng, 9, 3_000)})
    raw = (good[0] + "\n" + too_big + "\n" + good[1] + "\n").encode()
    raw += b'{"text": "caf\xe9 ' + b"x" * 60 + b'"}\n' + (good[2] + "\r\n" + good[3]).encode()
    archive.write_bytes(raw)
    batch = read_file(archive, max_bytes=1_000)
    assert [a.text.rsplit(" ", 1)[-1] for a in batch.articles] == ["0.", "1.", "2.", "3."]
    bad_at = raw.index(b"\xe9")
    assert [r.reason for r in batch.rejected] == [
        f"JSON line 2: {too_large_reason(len(too_big) + 1, 1_000, 'article')}",
        f"JSON line 4: invalid UTF-8 at byte {bad_at}",
    ]


def test_a_line_exactly_at_the_cap_is_kept(tmp_path: Path) -> None:
    line = json.dumps({"text": body(Random(3), 0, 200)}).encode()
    path = tmp_path / "exact.jsonl"
    path.write_bytes(line + b"\n" + line.replace(b"nomor 0", b"nomor 1"))
    batch = read_file(path, max_bytes=len(line))
    assert (len(batch.articles), batch.rejected) == (2, [])
    assert [r.reason for r in read_file(path, max_bytes=len(line) - 1).rejected] == [
        f"JSON line 1: article too large ({len(line) + 1} B > cap {len(line) - 1} B)",
        f"JSON line 2: article too large ({len(line)} B > cap {len(line) - 1} B)",
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"\n  \n\r\n", "empty file"),
        (b'{"a": 1}\x00\x00' * 20, "binary file"),
        ('{"text": "x"}'.encode("utf-16"), "unsupported encoding UTF-16 (save as UTF-8)"),
    ],
)
def test_whole_file_rejections_of_a_stream(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    assert [r.reason for r in read_file(path, max_bytes=10_000).rejected] == [reason]


def test_streaming_memory_is_bounded_by_the_batch_not_the_file(tmp_path: Path) -> None:
    archive = tmp_path / "big.jsonl"
    write_jsonl(archive, 400, 30_000)
    size = archive.stat().st_size
    assert size > 12_000_000
    tracemalloc.start()
    try:
        articles = 0
        for batch in stream_file(archive, max_bytes=5_000_000, batch_size=20):
            articles += len(batch.articles)
            del batch
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert articles == 400
    assert peak < 4_000_000, f"peak {peak} bytes while streaming a {size}-byte file"


def test_ingest_sources_stores_batch_by_batch_with_progress(tmp_path: Path) -> None:
    archive = tmp_path / "a.jsonl"
    write_jsonl(archive, 1_200, 400)
    seen: list[tuple[int, int, int]] = []

    class Progress:
        def start(self, files: int, total_bytes: int) -> None:
            seen.append((files, 0, total_bytes))

        def advance(self, *, files_done: int, articles: int, bytes_done: int) -> None:
            seen.append((files_done, articles, bytes_done))

    db = open_store(tmp_path / "k.db")
    report = ingest_sources(db, [str(archive), str(archive)], 5_000_000, Progress())
    assert (report.new, report.duplicate, report.rejected) == (1_200, 1_200, [])
    size = archive.stat().st_size
    assert seen[0] == (2, 0, 2 * size)
    assert seen[-1] == (2, 2_400, 2 * size)
    assert [s[1] for s in seen[1:4]] == [500, 1_000, 1_200]  # one store call per batch
    assert all(a <= b for a, b in itertools.pairwise(seen[1:]))
