"""Plain data of the story grouper: what goes in, what is stored per article."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class StoryInput:
    """One article as the grouper sees it. ``published`` must be timezone-aware (UTC)."""

    id: int
    title: str
    text: str
    lang: str  # "id" | "en" | "other"
    source: str
    published: datetime


@dataclass(frozen=True)
class StoryFeatures:
    """What the index keeps per article; enough to rebuild the index from stored rows.

    ``buckets``: MinHash LSH band keys of the body's word shingles (near-copies share some).
    ``terms``: salient features with their static weight. Keys are prefixed by kind:
    ``e:`` name, ``x:`` lexicon concept (language-neutral), ``n:`` number, ``d:`` date,
    ``w:`` plain content word (compared within one language only).
    """

    lang: str
    published: datetime
    buckets: tuple[str, ...]
    terms: dict[str, float] = field(default_factory=dict)

    def index_keys(self) -> tuple[str, ...]:
        """Index keys (bucket keys, then the language-neutral terms), the rows to store."""
        return self.buckets + tuple(t for t in self.terms if not t.startswith("w:"))

    def to_json(self) -> str:
        return json.dumps(
            {"lang": self.lang, "published": self.published.isoformat(),
             "buckets": list(self.buckets), "terms": self.terms},
            ensure_ascii=False, sort_keys=True, separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str) -> StoryFeatures:
        d = json.loads(raw)
        return cls(lang=d["lang"], published=datetime.fromisoformat(d["published"]),
                   buckets=tuple(d["buckets"]), terms={k: float(v) for k, v in d["terms"].items()})
