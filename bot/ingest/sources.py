"""Ingest: turn sources (files, feed URLs) into stored articles and a report of what happened."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bot.ingest.dedup import save_articles
from bot.ingest.fetch import FeedState, fetch_feed, make_client
from bot.ingest.parse import KINDS, stream_file
from bot.ingest.urls import redact_url
from bot.stories.group import GroupConfig
from bot.stories.source import RememberingSource
from store import Store
from store.models import IngestBatch, Rejection


@dataclass
class IngestReport:
    new: int = 0
    duplicate: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return f"new {self.new}, duplicate {self.duplicate}, rejected {len(self.rejected)}"

    def add(self, other: IngestReport, *, ids: bool = True) -> None:
        self.new += other.new
        self.duplicate += other.duplicate
        self.rejected.extend(other.rejected)
        self.duplicates.extend(other.duplicates)
        if ids:
            self.new_ids.extend(other.new_ids)


class IngestProgress(Protocol):
    """What ``ingest_sources`` reports while it runs (the CLI draws a progress bar from it)."""

    def start(self, files: int, total_bytes: int) -> None: ...

    def advance(self, *, files_done: int, articles: int, bytes_done: int) -> None: ...


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def store_batch(
    db: Store,
    batch: IngestBatch,
    stories: GroupConfig | None = None,
    memory: RememberingSource | None = None,
) -> IngestReport:
    """Insert a parsed batch (each new article gets its story); duplicates and rejections are
    counted, never fatal. ``memory``: story candidates remembered across a run's batches."""
    inserted = save_articles(db, batch.articles, stories, memory)
    return IngestReport(
        new=len(inserted.new_ids),
        duplicate=len(inserted.duplicates),
        rejected=list(batch.rejected),
        duplicates=inserted.duplicates,
        new_ids=inserted.new_ids,
    )


def folder_files(folder: Path) -> Iterator[Path]:
    """The supported files under ``folder``, recursively, in sorted order (hidden files and
    folders skipped, symlinked folders not followed)."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root, name)
            if not name.startswith(".") and path.suffix.lower().lstrip(".") in KINDS:
                yield path


async def _fetch_all(urls: Iterable[str], max_bytes: int) -> IngestBatch:
    batch = IngestBatch()
    async with make_client() as client:
        results = await asyncio.gather(
            *(fetch_feed(client, url, FeedState(), max_bytes=max_bytes) for url in urls)
        )
    for url, result in zip(urls, results, strict=True):
        batch.extend(result.batch)
        if result.error:
            batch.rejected.append(Rejection(redact_url(url), result.error))
    return batch


def _files_of(sources: Sequence[str]) -> Iterator[tuple[str, list[Path] | None]]:
    """Each file source with ``None``; each folder with its supported files."""
    for source in sources:
        if not is_url(source):
            path = Path(source)
            yield (source, list(folder_files(path))) if path.is_dir() else (source, None)


def _size(path: Path | str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


@dataclass
class _Run:
    """One ``ingest_sources`` call: the report so far and what the progress display shows."""

    db: Store
    progress: IngestProgress | None
    stories: GroupConfig | None = None
    report: IngestReport = field(default_factory=IngestReport)
    files_done: int = 0
    bytes_done: int = 0  # of the files finished
    in_file: int = 0  # bytes read of the current file
    articles: int = 0
    memory: RememberingSource | None = None

    def store(self, batch: IngestBatch) -> None:
        if batch.articles or batch.rejected:
            if self.memory is None:
                self.memory = RememberingSource(self.db.stories)
            self.report.add(store_batch(self.db, batch, self.stories, self.memory), ids=False)
            self.articles += len(batch.articles)
        self.tell()

    def at(self, position: int) -> None:
        self.in_file = position

    def file_done(self, size: int) -> None:
        self.files_done, self.bytes_done, self.in_file = (
            self.files_done + 1,
            self.bytes_done + size,
            0,
        )
        self.tell()

    def tell(self) -> None:
        if self.progress is not None:
            self.progress.advance(
                files_done=self.files_done,
                articles=self.articles,
                bytes_done=self.bytes_done + self.in_file,
            )


def ingest_sources(
    db: Store,
    sources: Sequence[str],
    max_bytes: int,
    progress: IngestProgress | None = None,
    stories: GroupConfig | None = None,
) -> IngestReport:
    """Read, parse and store every source in batches (a ``.jsonl`` file streamed, see
    ``parse.stream_file``): memory is bounded by one batch, whatever the files' sizes, plus
    one line per duplicate or rejection for the report. The report's ``new_ids`` stay empty
    (a caller that needs them stores a batch with ``store_batch``)."""
    plan = [
        (source, found if found is not None else [Path(source)], found is not None)
        for source, found in _files_of(sources)
    ]
    if progress is not None:
        progress.start(
            sum(len(paths) for _s, paths, _f in plan),
            sum(_size(path) for _s, paths, _f in plan for path in paths),
        )
    run = _Run(db, progress, stories)
    for source, paths, is_folder in plan:
        produced = False
        for path in paths:
            size = _size(path)
            for batch in stream_file(path, max_bytes=max_bytes, on_position=run.at):
                produced = produced or bool(batch.articles or batch.rejected)
                run.store(batch)
            run.file_done(size)
        if is_folder and not produced:
            kinds = ", ".join(f".{k}" for k in KINDS)
            run.report.rejected.append(
                Rejection(source, f"folder has no supported files ({kinds})")
            )
    urls = [s for s in sources if is_url(s)]
    if urls:
        run.store(asyncio.run(_fetch_all(urls, max_bytes)))
    return run.report
