"""Ingest: turn sources (files, feed URLs) into stored articles and a report of what happened."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.ingest.dedup import save_articles
from bot.ingest.fetch import FeedState, fetch_feed, make_client
from bot.ingest.parse import KINDS, read_file
from bot.ingest.urls import redact_url
from bot.stories.group import GroupConfig
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


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def store_batch(
    db: Store,
    batch: IngestBatch,
    stories: GroupConfig | None = None,
) -> IngestReport:
    """Insert a parsed batch (each new article gets its story); duplicates and rejections are
    counted, never fatal."""
    inserted = save_articles(db, batch.articles, stories)
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


def _read_source(source: str, max_bytes: int) -> IngestBatch:
    """A file, or every supported file of a folder (one rejection when there is none)."""
    if not Path(source).is_dir():
        return read_file(source, max_bytes=max_bytes)
    batch = IngestBatch()
    for path in folder_files(Path(source)):
        batch.extend(read_file(path, max_bytes=max_bytes))
    if not batch.articles and not batch.rejected:
        kinds = ", ".join(f".{k}" for k in KINDS)
        batch.rejected.append(Rejection(source, f"folder has no supported files ({kinds})"))
    return batch


def load_sources(sources: Sequence[str], max_bytes: int) -> IngestBatch:
    """Read every file (a folder: its supported files) and fetch every URL; one bad source
    never stops the others."""
    batch = IngestBatch()
    urls = [s for s in sources if is_url(s)]
    for source in sources:
        if not is_url(source):
            batch.extend(_read_source(source, max_bytes))
    if urls:
        batch.extend(asyncio.run(_fetch_all(urls, max_bytes)))
    return batch


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


def ingest_sources(
    db: Store,
    sources: Sequence[str],
    max_bytes: int,
    stories: GroupConfig | None = None,
) -> IngestReport:
    return store_batch(db, load_sources(sources, max_bytes), stories)
