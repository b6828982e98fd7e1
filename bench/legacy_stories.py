"""Story grouping as it was before the ingest speed work (main at 8b07ba7), kept only so that
``bench.bench_ingest`` can measure the old path side by side with the current one (never
imported by ``bot``): per-token feature rules with three tokenisations, a MinHash hasher built
per shingle, every shared term summed in the similarity, each candidate key looked up with its
own window bounds, every candidate scored, and the just-stored articles read back
(``get_many``). The pieces that did not change are imported from ``bot.stories``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from bot.stories import features as F
from bot.stories import group as G
from bot.stories.assign import NEVER, story_input
from bot.stories.lexicon import lexicon, max_phrase
from bot.stories.minhash import _LOW, _SHIFT, BINS, _hash64, band_keys, shingles
from bot.stories.model import StoryFeatures, StoryInput
from bot.stories.text import clean_lines, number_value, sentences, tokens

_POSSESSIVE = re.compile(r"['’]s?$")


def match_at(words: list[str], i: int) -> tuple[str, int] | None:
    table = lexicon()
    for n in range(min(max_phrase(), len(words) - i), 0, -1):
        concept = table.get(tuple(words[i : i + n]))
        if concept is not None:
            return concept, n
    return None


def signature(shingle_set: Iterable[str]) -> tuple[int, ...]:
    mins: list[int | None] = [None] * BINS
    for s in shingle_set:
        h = _hash64(s)
        b, v = h >> _SHIFT, h & _LOW
        cur = mins[b]
        if cur is None or v < cur:
            mins[b] = v
    if all(m is None for m in mins):
        return ()
    out: list[int] = []
    for i in range(BINS):
        j, hops = i, 0
        while (found := mins[j]) is None:
            j, hops = (j + 1) % BINS, hops + 1
        out.append(found if hops == 0 else _hash64(f"{found}:{hops}") & _LOW)
    return tuple(out)


def features_of(article: StoryInput) -> StoryFeatures:
    lines = clean_lines(article.text)
    body_words = [t.lower() for line in lines for t in tokens(line)]
    sig = signature(shingles(body_words))
    sents = sentences(lines)
    cased = _mid_sentence_caps(sents)
    terms: dict[str, float] = {}
    ref = article.published + timedelta(hours=12)
    for sent in sents:
        _add_terms(terms, tokens(sent), article.lang, cased, ref.date(), title=False)
    if article.title.strip():
        _add_terms(terms, tokens(article.title), article.lang, cased, ref.date(), title=True)
    return StoryFeatures(
        lang=article.lang, published=article.published, buckets=band_keys(sig), terms=terms
    )


def _mid_sentence_caps(sents: list[str]) -> set[str]:
    out = set()
    for sent in sents:
        for tok in tokens(sent)[1:]:
            if tok[0].isupper():
                out.add(tok.lower())
    return out


def _add_terms(
    terms: dict[str, float], toks: list[str], lang: str, cased: set[str], ref: date, *, title: bool
) -> None:
    weights, months = F.WEIGHTS, F._MONTHS
    toks = [_POSSESSIVE.sub("", t) or t for t in toks]
    words = [t.lower() for t in toks]
    i = 0
    while i < len(toks):
        tok, low = toks[i], words[i]
        date_key, used = F._date_at(words, i, ref)
        if date_key:
            terms[date_key] = weights["d"]
            i += used
            continue
        hit = match_at(words, i)
        if hit and not (hit[1] == 1 and low in F._CASED and not tok.isupper()):
            terms["x:" + hit[0]] = weights["x"]
            i += hit[1]
            continue
        i += 1
        if low in months and len(low) > 3:
            terms[f"x:month{months[low]}"] = weights["x"]
            continue
        if tok[0].isdigit():
            value = number_value(tok, lang)
            if value is not None and (float(value) >= 10 or "." in value):
                terms["n:" + value] = weights["n"]
            continue
        if low in F._STOP or low in F._CASED or len(low) < 2:
            continue
        is_name = low in cased if title else (tok[0].isupper() and (i > 1 or low in cased))
        if is_name:
            run = F._name_run(toks, i - 1)
            terms["e:" + low] = max(terms.get("e:" + low, 0.0), weights["e"] / run)
        elif len(low) >= 4 and not any(c.isdigit() for c in low):
            terms.setdefault("w:" + low, weights["w"])


def similarity(a: StoryFeatures, b: StoryFeatures, rarity: dict[str, float]) -> float:
    shared = a.terms.keys() & b.terms.keys()
    neutral_shared = 0.0
    word_shared = 0.0
    for t in sorted(shared):
        value = a.terms[t] * b.terms[t] * rarity.get(t, 1.0)
        if t.startswith("w:"):
            word_shared += value
        else:
            neutral_shared += value
    best = G._ratio(neutral_shared, a.neutral_size, b.neutral_size)
    if a.lang == b.lang:
        best = max(best, G._ratio(neutral_shared + word_shared, a.size, b.size))
    return best * G.DATE_CONFLICT if G._dates_disagree(a, b) else best


class StoryIndex(G.StoryIndex):
    def best_match(self, feats: StoryFeatures) -> G.Match | None:
        cfg = self.config
        window = timedelta(hours=cfg.window_hours)
        lo, hi = feats.published - window, feats.published + window
        bands: dict[int, int] = {}
        for key in feats.buckets:
            for aid in self.source.recent(key, lo, hi, cfg.bucket_cap):
                bands[aid] = bands.get(aid, 0) + 1
        rarity: dict[str, float] = {}
        overlap: dict[int, float] = {}
        for term, weight in feats.terms.items():
            if term.startswith("w:"):
                continue
            ids = self.source.recent(term, lo, hi, cfg.term_cap)
            rarity[term] = G._rarity(len(ids), cfg.term_cap)
            if rarity[term] <= 0:
                continue
            for aid in ids:
                overlap[aid] = overlap.get(aid, 0.0) + weight * weight * rarity[term]
        ranked = sorted(overlap, key=lambda a: (-overlap[a], -a))[: cfg.rerank]
        pool = sorted(set(ranked) | set(bands))
        return self._pick(feats, pool, bands, rarity)

    def _pick(
        self, feats: StoryFeatures, pool: list[int], bands: dict[int, int], rarity: dict[str, float]
    ) -> G.Match | None:
        cfg = self.config
        found = self.source.features(pool)
        best: tuple[float, float, int] | None = None
        for aid in pool:
            other = found.get(aid)
            if other is None:
                continue
            score = similarity(feats, other, rarity)
            near = bands.get(aid, 0) >= cfg.near_copy_bands
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
        return G.Match(aid, story, best[0], bands.get(aid, 0))


def assign_stored(
    store: Any,
    ids: Iterable[int],
    config: G.GroupConfig,
    stored: Iterable[Any] = (),
    memory: Any = None,
) -> dict[int, int]:
    """The old ``bot.stories.assign.assign_stored``: reads the just-stored articles back
    (``stored`` and ``memory``, the new path's arguments, are ignored)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    index = StoryIndex(store.stories, config)
    found = store.articles.get_many(wanted)
    assigned: dict[int, int] = {}
    for article_id in wanted:
        article = found.get(article_id)
        if article is None:
            store.stories.add(article_id, StoryFeatures("other", NEVER, ()), article_id)
            assigned[article_id] = article_id
            continue
        assigned[article_id] = index.assign_features(article_id, features_of(story_input(article)))
    return assigned
