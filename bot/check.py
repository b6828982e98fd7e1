"""The matching pass: unchecked articles x keyword index x subscriptions -> queued alerts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlite_utils import Database

from bot.matcher import KeywordIndex, QueryMatch
from bot.models import Article
from store.articles import unchecked_articles
from store.chats import subscribers
from store.keywords import list_keywords
from store.outbox import Queued, record_matches


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
    matched: Iterable[ArticleMatches], subscribers_by_query: Mapping[str, list[int]]
) -> list[Queued]:
    """Pure: one alert per (article, chat), listing every matched keyword that chat follows."""
    queued = []
    for item in matched:
        per_chat: dict[int, list[str]] = {}
        for query in item.keywords:
            for chat_id in subscribers_by_query.get(query, ()):
                per_chat.setdefault(chat_id, []).append(query)
        queued.extend(
            Queued(item.article.id, chat_id, tuple(queries))
            for chat_id, queries in per_chat.items()
        )
    return queued


def current_index(db: Database) -> KeywordIndex:
    """The keyword index for the set stored now (the database is the source of truth)."""
    return KeywordIndex(k.query for k in list_keywords(db))


@dataclass(frozen=True)
class PassResult:
    checked: int
    matched: int
    queued: int
    details: list[ArticleMatches]  # filled on a dry run only (bounded memory otherwise)


def matching_pass(db: Database, batch_size: int = 500, dry_run: bool = False) -> PassResult:
    """Check every unchecked article; queue alerts and mark them checked in one transaction
    per batch. With dry_run nothing is written."""
    index = current_index(db)
    subs = subscribers(db)
    checked = queued = matched_count = 0
    details: list[ArticleMatches] = []
    last_id = 0
    while True:
        articles = unchecked_articles(db, batch_size, after_id=last_id)
        if not articles:
            break
        last_id = articles[-1].id
        matched = match_articles(index, articles)
        matched_count += len(matched)
        checked += len(articles)
        if dry_run:
            details.extend(matched)
        else:
            queued += record_matches(db, [a.id for a in articles], plan_alerts(matched, subs))
    return PassResult(checked, matched_count, queued, details)
