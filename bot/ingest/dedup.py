"""Dedup keys: the canonical URL and the content hash an article is stored under. The store
receives them with the article and only compares them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from bot.ingest.clean import content_hash
from bot.ingest.urls import canonical_url
from store import Store
from store.models import ArticleIn, InsertReport


def with_keys(item: ArticleIn) -> ArticleIn:
    """``item`` with its dedup keys filled in (a key the parser already computed, such as the
    canonical URL ``parse.make_article`` checks the link with, is kept: computed once)."""
    if item.canonical_url and item.content_hash:
        return item
    return dataclasses.replace(
        item,
        canonical_url=item.canonical_url or canonical_url(item.url),
        content_hash=item.content_hash or content_hash(item.text),
    )


def save_articles(store: Store, items: Iterable[ArticleIn]) -> InsertReport:
    """Store new articles in one transaction; one already stored (same canonical URL or same
    normalised text) is reported as a duplicate and left untouched."""
    return store.articles.insert(with_keys(item) for item in items)
