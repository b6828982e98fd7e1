"""Where the index finds candidates: a protocol, and the in-memory implementation.

The app backs the protocol with SQL (one row per article and index key, an index on
``(key, published)``); ``MemorySource`` is the reference implementation and what tests and the
benchmark use.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from .model import StoryFeatures

V = TypeVar("V")


class CandidateSource(Protocol):
    def recent(self, key: str, lo: datetime, hi: datetime, limit: int) -> list[int]:
        """Ids of articles with index ``key`` published in [lo, hi], most recent first,
        at most ``limit``."""
        ...

    def features(self, ids: Iterable[int]) -> dict[int, StoryFeatures]: ...

    def stories(self, ids: Iterable[int]) -> dict[int, int]: ...

    def add(self, article_id: int, features: StoryFeatures, story_id: int) -> None: ...


class MemorySource:
    """Postings per key, sorted by publication time.

    With a ``retention``, articles published more than that before the newest one are
    forgotten (never a candidate again; their story ids are kept), which bounds memory for a
    long, roughly chronological stream; an article arriving later than that is not indexed.
    Without one (the default) nothing is forgotten."""

    def __init__(self, retention: timedelta | None = None) -> None:
        self.retention = retention
        self._postings: dict[str, list[tuple[datetime, int]]] = {}
        self._features: dict[int, StoryFeatures] = {}
        self._stories: dict[int, int] = {}
        self._by_time: list[tuple[datetime, int]] = []
        self._newest: datetime | None = None

    def recent(self, key: str, lo: datetime, hi: datetime, limit: int) -> list[int]:
        plist = self._postings.get(key)
        if not plist:
            return []
        start = bisect.bisect_left(plist, (lo, -1))
        end = bisect.bisect_right(plist, (hi, 1 << 62))
        return [aid for _, aid in plist[max(start, end - limit) : end][::-1]]

    def features(self, ids: Iterable[int]) -> dict[int, StoryFeatures]:
        return {i: self._features[i] for i in ids if i in self._features}

    def stories(self, ids: Iterable[int]) -> dict[int, int]:
        return {i: self._stories[i] for i in ids if i in self._stories}

    def add(self, article_id: int, features: StoryFeatures, story_id: int) -> None:
        self._stories[article_id] = story_id
        self._features[article_id] = features
        entry = (features.published, article_id)
        for key in features.index_keys():
            bisect.insort(self._postings.setdefault(key, []), entry)
        heapq.heappush(self._by_time, entry)
        if self._newest is None or features.published > self._newest:
            self._newest = features.published
        if self.retention is not None:
            self._forget(self._newest - self.retention)

    def _forget(self, cutoff: datetime) -> None:
        while self._by_time and self._by_time[0][0] < cutoff:
            published, aid = heapq.heappop(self._by_time)
            feats = self._features.pop(aid, None)
            for key in feats.index_keys() if feats else ():
                plist = self._postings.get(key)
                if plist is None:
                    continue
                i = bisect.bisect_left(plist, (published, aid))
                if i < len(plist) and plist[i] == (published, aid):
                    del plist[i]
                if not plist:
                    del self._postings[key]


class RememberingSource:
    """A source that remembers what was added through it: the features and story of an
    article added through it are answered from memory, not read back and parsed (they are
    exactly what was written).

    One per ingest run: call ``begin`` inside each transaction, once it holds the write lock
    (after the articles' insert). What is remembered stays valid while no other connection
    commits (the store's ``data_version``; a store that cannot tell forgets at every
    transaction); ``forget`` after a rollback. At most ``cap`` articles are remembered (the
    oldest go first), so memory stays bounded for a long run."""

    def __init__(self, inner: CandidateSource, cap: int = 4096) -> None:
        self.inner = inner
        self.cap = cap
        self._features: dict[int, StoryFeatures] = {}
        self._stories: dict[int, int] = {}
        self._version: object = None

    def begin(self, inner: CandidateSource) -> None:
        """Start a transaction on ``inner``: forget everything if the database may have been
        changed by anyone else since the last one."""
        probe = getattr(inner, "data_version", None)
        version = probe() if probe is not None else object()
        if inner is not self.inner or version != self._version:
            self.forget()
        self.inner, self._version = inner, version

    def forget(self) -> None:
        self._features.clear()
        self._stories.clear()
        self._version = None

    def recent(self, key: str, lo: datetime, hi: datetime, limit: int) -> list[int]:
        return self.inner.recent(key, lo, hi, limit)

    def recent_many(
        self, keys: list[str], lo: datetime, hi: datetime, limit: int
    ) -> list[list[int]]:
        many = getattr(self.inner, "recent_many", None)
        if many is not None:
            return many(keys, lo, hi, limit)
        return [self.inner.recent(key, lo, hi, limit) for key in keys]

    def features(self, ids: Iterable[int]) -> dict[int, StoryFeatures]:
        return _remembered(self._features, ids, self.inner.features)

    def stories(self, ids: Iterable[int]) -> dict[int, int]:
        return _remembered(self._stories, ids, self.inner.stories)

    def add(self, article_id: int, features: StoryFeatures, story_id: int) -> None:
        self.inner.add(article_id, features, story_id)
        self._features[article_id] = features
        self._stories[article_id] = story_id
        while len(self._features) > self.cap:
            oldest = next(iter(self._features))
            del self._features[oldest]
            self._stories.pop(oldest, None)


def _remembered(
    memory: dict[int, V], ids: Iterable[int], read: Callable[[list[int]], dict[int, V]]
) -> dict[int, V]:
    """What ``memory`` knows of ``ids``, the rest read (once, together) through ``read``."""
    wanted = list(ids)
    known = {i: memory[i] for i in wanted if i in memory}
    rest = [i for i in wanted if i not in known]
    if rest:
        known.update(read(rest))
    return known
