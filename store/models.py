"""Plain records passed between ingest, store, matching, rendering and delivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ArticleIn:
    """A cleaned article ready to be stored (not yet given an id)."""

    text: str
    title: str = ""
    url: str = ""
    source: str = ""
    published: datetime | None = None  # timezone-aware, UTC
    lang: str = "other"  # "id", "en" or "other"
    lang_confidence: float = 0.0
    origin: str = ""  # the file path or feed URL it came from


@dataclass(frozen=True)
class Rejection:
    """One input that was not stored, and why (shown to the user on one line)."""

    origin: str
    reason: str


@dataclass
class IngestBatch:
    """What a parser produced from one or more sources."""

    articles: list[ArticleIn] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def extend(self, other: IngestBatch) -> None:
        self.articles.extend(other.articles)
        self.rejected.extend(other.rejected)


@dataclass(frozen=True)
class Article:
    """A stored article."""

    id: int
    text: str
    title: str
    url: str
    source: str
    published: datetime | None
    lang: str
    ingested_at: datetime
