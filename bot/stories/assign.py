"""Stories in the store: each stored article gets exactly one story, in id order, inside the
transaction that stores it (``bot.ingest.dedup.save_articles``), so the assignment is
deterministic, stored, and the same for every instance on the database."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from bot.config import Config
from store import Store
from store.models import Article

from .features import features_of
from .group import GroupConfig, StoryIndex
from .model import StoryFeatures, StoryInput
from .source import RememberingSource

NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # an unreadable row: a story of its own, never matched


def story_input(article: Article) -> StoryInput:
    """The grouper's view of a stored article (an undated one: the time it was stored)."""
    return StoryInput(
        id=article.id,
        title=article.title,
        text=article.text,
        lang=article.lang,
        source=article.source,
        published=article.published or article.ingested_at,
    )


def assign_stored(
    store: Store,
    ids: Iterable[int],
    config: GroupConfig,
    stored: Iterable[Article] = (),
    memory: RememberingSource | None = None,
) -> dict[int, int]:
    """Give each of the stored articles ``ids`` its story, in id order: call inside the
    transaction that stored them (one writer at a time, so two instances agree). ``stored``:
    those articles as just stored (``InsertReport.new_articles``); the others are read.
    ``memory``: the run's remembered candidates (kept across the run's transactions)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    source = memory if memory is not None else RememberingSource(store.stories)
    source.begin(store.stories)
    index = StoryIndex(source, config)
    asked = set(wanted)
    found = {a.id: a for a in stored if a.id in asked}
    missing = [i for i in wanted if i not in found]
    if missing:
        found.update(store.articles.get_many(missing))
    assigned: dict[int, int] = {}
    for article_id in wanted:
        article = found.get(article_id)
        if article is None:  # a row that cannot be read still belongs to one story: its own
            store.stories.add(article_id, StoryFeatures("other", NEVER, ()), article_id)
            assigned[article_id] = article_id
            continue
        assigned[article_id] = index.assign_features(article_id, features_of(story_input(article)))
    return assigned


def backfill(store: Store, config: GroupConfig, batch: int = 500) -> int:
    """Assign the articles stored before stories existed (in id order, ``batch`` per
    transaction). Once done this is one lookup. Returns how many were assigned."""
    total = 0
    while True:
        with store.transaction():
            ids = store.stories.unassigned(batch)
            if not ids:
                return total
            assign_stored(store, ids, config)
        total += len(ids)


def stories_config(config: Config) -> GroupConfig:
    """The grouper's settings from the config file (``[stories]``)."""
    return GroupConfig(window_hours=float(config.stories.window_hours))
