"""The story grouper: each new article joins the story of its best earlier match inside the
time window, or starts a story of its own (story id = the founding article's id)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .features import WEIGHTS, features_of
from .model import StoryFeatures, StoryInput
from .source import CandidateSource, MemorySource

DATE_CONFLICT = 0.5  # score factor when two articles date their events on different days


@dataclass(frozen=True)
class GroupConfig:
    window_hours: float = 48.0
    threshold: float = 0.30  # same-language score needed to join
    cross_threshold: float = 0.30  # cross-language score needed to join
    near_copy_bands: int = 2  # shared LSH bands that make a near-copy outright
    bucket_cap: int = 32  # candidates read per LSH bucket
    term_cap: int = 64  # candidates read per term; a term this common is ignored
    rerank: int = 24  # best candidates by term overlap scored in full


@dataclass(frozen=True)
class Match:
    article_id: int
    story_id: int
    score: float
    shared_bands: int


class StoryIndex:
    def __init__(
        self, source: CandidateSource | None = None, config: GroupConfig | None = None
    ) -> None:
        self.source: CandidateSource = source if source is not None else MemorySource()
        self.config = config or GroupConfig()

    def assign(self, article: StoryInput) -> int:
        """Story id of ``article`` (added to the index)."""
        return self.assign_features(article.id, features_of(article))

    def assign_features(self, article_id: int, feats: StoryFeatures) -> int:
        match = self.best_match(feats)
        story_id = match.story_id if match else article_id
        self.source.add(article_id, feats, story_id)
        return story_id

    def best_match(self, feats: StoryFeatures) -> Match | None:
        """The best earlier article above the thresholds, or None (index unchanged)."""
        cfg = self.config
        window = timedelta(hours=cfg.window_hours)
        lo, hi = feats.published - window, feats.published + window
        bands: dict[int, int] = {}
        for found in self._recent(list(feats.buckets), lo, hi, cfg.bucket_cap):
            for aid in found:
                bands[aid] = bands.get(aid, 0) + 1
        rarity: dict[str, float] = {}
        overlap: dict[int, float] = {}
        neutral = feats.neutral_terms
        posted = self._recent(list(neutral), lo, hi, cfg.term_cap)
        for (term, weight), ids in zip(neutral.items(), posted, strict=True):
            rarity[term] = _rarity(len(ids), cfg.term_cap)
            if rarity[term] <= 0:
                continue
            for aid in ids:
                overlap[aid] = overlap.get(aid, 0.0) + weight * weight * rarity[term]
        ranked = sorted(overlap, key=lambda a: (-overlap[a], -a))[: cfg.rerank]
        pool = sorted(set(ranked) | set(bands))
        return self._pick(feats, pool, bands, rarity)

    def _recent(self, keys: list[str], lo: datetime, hi: datetime, limit: int) -> list[list[int]]:
        """``source.recent`` of each key, in one call when the source can (the store: one
        statement instead of one per key)."""
        many = getattr(self.source, "recent_many", None)
        if many is not None:
            return many(keys, lo, hi, limit)
        return [self.source.recent(key, lo, hi, limit) for key in keys]

    def _pick(
        self, feats: StoryFeatures, pool: list[int], bands: dict[int, int], rarity: dict[str, float]
    ) -> Match | None:
        cfg = self.config
        found = self.source.features(pool)
        best: tuple[float, float, int] | None = None
        # The best key is a maximum over distinct keys (the id breaks ties), so the order of
        # scoring does not change it: near-copies first. A score is at most 1 (each term's
        # rarity is at most 1: Cauchy-Schwarz), so once a near-copy leads with 1 + score above
        # 1, no other candidate can pass it and none is scored.
        near_first = sorted(pool, key=lambda a: bands.get(a, 0) < cfg.near_copy_bands)
        for aid in near_first:
            near = bands.get(aid, 0) >= cfg.near_copy_bands
            if not near and best is not None and best[0] > _BEYOND_ANY_SCORE:
                break
            other = found.get(aid)
            if other is None:
                continue
            score = similarity(feats, other, rarity)
            need = cfg.threshold if other.lang == feats.lang else cfg.cross_threshold
            if not near and score < need:
                continue
            gap = abs((feats.published - other.published).total_seconds())
            key = (1.0 + score if near else score, -gap, aid)
            if best is None or key > best:
                best = key
        if best is None:
            return None
        aid = best[2]
        story = self.source.stories([aid]).get(aid, aid)
        return Match(article_id=aid, story_id=story, score=best[0], shared_bands=bands.get(aid, 0))


_BEYOND_ANY_SCORE = 1.0 + 1e-9  # above any similarity, rounding included


def _rarity(df: int, cap: int, half: float = 4.0) -> float:
    """1 for a term no other article in the window has, 1/2 at ``half`` articles, falling
    like 1/df; 0 (ignored) once the term reaches the cap."""
    return 0.0 if df >= cap else half / (half + df)


def similarity(a: StoryFeatures, b: StoryFeatures, rarity: dict[str, float]) -> float:
    """Overlap of shared terms, each weighted by its rarity in the window, over the geometric
    mean of both articles' (static) sizes. Plain words count only within one language.

    ``rarity`` is known for index terms only (``best_match``): a plain word weighs 1 in both
    articles and has rarity 1, so the plain words' share is the size of a set intersection;
    the neutral terms are summed in sorted order (the same sum whatever the dicts' order)."""
    an, bn = a.neutral_terms, b.neutral_terms
    small, big = (an, bn) if len(an) <= len(bn) else (bn, an)
    neutral_shared = 0.0
    for t in sorted([t for t in small if t in big]):
        neutral_shared += an[t] * bn[t] * rarity.get(t, 1.0)
    best = _ratio(neutral_shared, a.neutral_size, b.neutral_size)
    if a.lang == b.lang:
        best = max(best, _ratio(neutral_shared + _word_shared(a, b, rarity), a.size, b.size))
    return best * DATE_CONFLICT if _dates_disagree(a, b) else best


def _word_shared(a: StoryFeatures, b: StoryFeatures, rarity: dict[str, float]) -> float:
    aw, bw = a.plain_words, b.plain_words
    if aw is not None and bw is not None:
        shared = aw & bw
        if shared.isdisjoint(rarity):  # each adds 1.0 * 1.0 * 1.0: exact, in any order
            return float(len(shared))
    total = 0.0  # weights other than 1 or a rarity given for a word: the general sum
    for t in sorted(a.terms.keys() & b.terms.keys()):
        if t.startswith("w:"):
            total += a.terms[t] * b.terms[t] * rarity.get(t, 1.0)
    return total


def _dates_disagree(a: StoryFeatures, b: StoryFeatures) -> bool:
    """Both name days (``Rabu (13/9)``, ``on Wednesday``) and none in common."""
    return bool(a.dates and b.dates and not a.dates & b.dates)


def _ratio(shared: float, size_a: float, size_b: float) -> float:
    if not size_a or not size_b:
        return 0.0
    return shared / math.sqrt(size_a * size_b)


__all__ = ["WEIGHTS", "GroupConfig", "Match", "StoryIndex", "similarity"]
