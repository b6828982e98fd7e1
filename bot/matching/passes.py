"""The matching pass: unchecked articles x keyword index x subscriptions -> queued alerts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from bot.matching.index import KeywordIndex, QueryMatch
from store import Store
from store.models import Article, Queued

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleMatches:
    article: Article
    matches: tuple[QueryMatch, ...]

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(m.query for m in self.matches)


def match_articles(index: KeywordIndex, articles: Iterable[Article]) -> list[ArticleMatches]:
    """Pure: the articles that matched at least one query, with their matches."""
    found = []
    for article in articles:
        matches = index.match(article.text, article.title)
        if matches:
            found.append(ArticleMatches(article, tuple(matches)))
    return found


def plan_alerts(
    matched: Iterable[ArticleMatches],
    subscribers_by_query: Mapping[str, list[int]],
    blocked: Mapping[int, frozenset[int]] | None = None,
) -> list[Queued]:
    """Pure: one alert per (article, chat), listing every matched keyword that chat follows;
    none to a chat in ``blocked[article id]`` (it blocked a word the article contains)."""
    queued: list[Queued] = []
    blocked = blocked or {}
    for item in matched:
        per_chat: dict[int, list[str]] = {}
        for query in item.keywords:
            for chat_id in subscribers_by_query.get(query, ()):
                per_chat.setdefault(chat_id, []).append(query)
        refused = blocked.get(item.article.id, frozenset())
        queued.extend(
            Queued(item.article.id, chat_id, tuple(queries))
            for chat_id, queries in per_chat.items()
            if chat_id not in refused
        )
    return queued


@lru_cache(maxsize=4)
def blocked_index(queries: tuple[str, ...]) -> KeywordIndex:
    """Every chat's blocked queries compiled into one index (rebuilt only when the set of
    blocked queries changes), so checking an article costs the same however many chats
    block however many words."""
    return KeywordIndex(queries, strict=False)


def blocked_chats(
    matched: Iterable[ArticleMatches], blockers: Mapping[str, list[int]]
) -> dict[int, frozenset[int]]:
    """Pure: article id -> the chats that blocked a word or phrase the article contains (only
    the matched articles are scanned, once each, against the one blocked-words index)."""
    if not blockers:
        return {}
    index = blocked_index(tuple(sorted(blockers)))
    result: dict[int, frozenset[int]] = {}
    for item in matched:
        hits = index.match(item.article.text, item.article.title)
        if hits:
            result[item.article.id] = frozenset(c for m in hits for c in blockers[m.query])
    return result


def current_index(db: Store) -> KeywordIndex:
    """The keyword index for the set stored now (the database is the source of truth).
    A stored query that does not parse (an older database, a hand edit) is left out: see
    ``warn_rejected``."""
    return KeywordIndex((k.query for k in db.keywords.all()), strict=False)


def warn_rejected(index: KeywordIndex) -> None:
    """One warning naming every stored query the index had to leave out."""
    if index.rejected:
        log.warning(
            "skipping %d stored keyword(s) that do not parse (fix or remove them with"
            " `kabar keywords remove`): %s",
            len(index.rejected),
            "; ".join(str(exc) for exc in index.rejected),
        )


class IndexCache:
    """The compiled index, rebuilt only when the stored keyword set changed (an admin edit
    takes effect at the next pass, without recompiling thousands of queries every pass)."""

    def __init__(self) -> None:
        self._signature: tuple[int, int, int] | None = None
        self._index: KeywordIndex | None = None

    def get(self, db: Store) -> KeywordIndex:
        signature = db.keywords.signature()
        if self._index is None or signature != self._signature:
            self._index, self._signature = current_index(db), signature
        return self._index


@dataclass(frozen=True)
class PassResult:
    checked: int
    matched: int
    queued: int
    details: list[ArticleMatches]  # one batch's matches, on a dry run only (never summed)


PAUSE = PassResult(0, 0, 0, [])  # a time slice is used up: nothing new is written yet


def matching_batches(
    db: Store,
    batch_size: int = 500,
    dry_run: bool = False,
    index: KeywordIndex | None = None,
    slice_seconds: float | None = None,
) -> Iterator[PassResult]:
    """Check every unchecked article, one batch at a time: queue its alerts and mark it
    checked in one transaction per batch (nothing is written on a dry run). Yields each
    batch's result, so an async caller can let other work run in between; with
    ``slice_seconds`` it also yields ``PAUSE`` (all zeros) whenever that much time has gone by
    since the last yield, in the middle of a batch's matching (outside any transaction)."""
    index = index if index is not None else current_index(db)
    warn_rejected(index)
    subs = db.chats.subscribers()
    blockers = db.blocks.blockers()
    last_id = 0
    clock, budget = time.perf_counter, slice_seconds or 0.0
    deadline = clock() + budget if slice_seconds is not None else None
    while articles := db.articles.unchecked(batch_size, after_id=last_id):
        last_id = articles[-1].id
        if deadline is None:
            matched = match_articles(index, articles)
        else:
            matched = []
            for article in articles:
                matched.extend(match_articles(index, (article,)))
                if clock() >= deadline:
                    yield PAUSE
                    deadline = clock() + budget
        queued = 0
        if not dry_run:
            plan = plan_alerts(matched, subs, blocked_chats(matched, blockers))
            queued = db.outbox.record_matches([a.id for a in articles], plan)
        result = PassResult(len(articles), len(matched), queued, matched if dry_run else [])
        del matched  # the caller holds the only reference: one batch's details at a time
        yield result
        del result
        if deadline is not None:
            deadline = clock() + budget


def add_results(results: Iterable[PassResult]) -> PassResult:
    """The counts summed; ``details`` stay empty (a dry run's caller reads each batch's as it
    comes, see ``matching_pass``'s ``on_batch``, so memory stays bounded by one batch)."""
    checked = matched = queued = 0
    for result in results:
        checked, matched, queued = (
            checked + result.checked,
            matched + result.matched,
            queued + result.queued,
        )
    return PassResult(checked, matched, queued, [])


def matching_pass(
    db: Store,
    batch_size: int = 500,
    dry_run: bool = False,
    on_batch: Callable[[PassResult], None] | None = None,
) -> PassResult:
    """A whole matching pass (see matching_batches): the summed counts. ``on_batch`` sees each
    batch's result (with its details on a dry run) before the next batch is matched."""

    def batches() -> Iterator[PassResult]:
        for result in matching_batches(db, batch_size, dry_run):
            if on_batch is not None:
                on_batch(result)
            yield PassResult(result.checked, result.matched, result.queued, [])

    return add_results(batches())
