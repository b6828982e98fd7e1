"""Dedup keys: the canonical URL and the content hash an article is stored under. The store
receives them with the article and only compares them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from bot.ingest.clean import content_hash
from bot.ingest.urls import canonical_url
from bot.stories.assign import assign_stored, backfill
from bot.stories.group import GroupConfig
from bot.stories.source import RememberingSource
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


def save_articles(
    store: Store,
    items: Iterable[ArticleIn],
    stories: GroupConfig | None = None,
    memory: RememberingSource | None = None,
) -> InsertReport:
    """Store new articles in one transaction; one already stored (same canonical URL or same
    normalised text) is reported as a duplicate and left untouched. Each new article gets its
    story in the same transaction (``bot.stories.assign``; ``stories``: the window;
    ``memory``: candidates remembered from the run's earlier batches, forgotten if this
    transaction fails)."""
    config = stories or GroupConfig()
    keyed = [with_keys(item) for item in items]
    backfill(store, config)  # articles stored before stories existed come first
    try:
        with store.transaction():
            report = store.articles.insert(keyed)
            assign_stored(store, report.new_ids, config, report.new_articles, memory)
    except BaseException:
        if memory is not None:
            memory.forget()  # rolled back: what it remembered of this batch was never stored
        raise
    return report
