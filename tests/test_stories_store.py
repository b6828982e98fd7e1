"""Stories in the store: every stored article gets exactly one story at ingest, in the same
transaction; the same order gives the same stories for one or two instances; articles stored
before the stories migration are assigned in id order; the window comes from the config."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bench.stories_eval import Labelled, load_eval_set
from bot.config import ConfigError, config_from_dict
from bot.ingest.dedup import save_articles
from bot.stories import StoryIndex
from bot.stories.assign import stories_config
from bot.stories.group import GroupConfig
from store import open_store
from store.models import ArticleIn
from store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.support import labelled_article

ITEMS = load_eval_set()


def article_in(item: Labelled) -> ArticleIn:
    return labelled_article(item, origin=item.key)


def stored_partition(db) -> set[frozenset[str]]:
    rows = db.conn.execute(
        "SELECT s.story_id, a.origin FROM story_articles s JOIN articles a ON a.id = s.article_id"
    ).fetchall()
    groups: dict[int, set[str]] = {}
    for story, origin in rows:
        groups.setdefault(story, set()).add(origin)
    return {frozenset(g) for g in groups.values()}


def memory_partition(items: Sequence[Labelled]) -> set[frozenset[str]]:
    index = StoryIndex()
    groups: dict[int, set[str]] = {}
    for it in items:
        groups.setdefault(index.assign(it.article), set()).add(it.key)
    return {frozenset(g) for g in groups.values()}


def test_every_stored_article_gets_exactly_one_story_at_ingest(db) -> None:
    report = save_articles(db, [article_in(it) for it in ITEMS])
    assert len(report.new_ids) == len(ITEMS)
    rows = db.conn.execute("SELECT article_id, count(*) FROM story_articles GROUP BY article_id")
    assert {aid: n for aid, n in rows} == {aid: 1 for aid in report.new_ids}
    assert stored_partition(db) == memory_partition(ITEMS)
    # a story id is the id of the article that started it
    for story, founder in db.conn.execute(
        "SELECT story_id, min(article_id) FROM story_articles GROUP BY story_id"
    ):
        assert story == founder


def test_syndicated_copies_share_a_story_and_reingest_changes_nothing(db) -> None:
    picked = [it for it in ITEMS if it.key in ("s01a", "s01b", "s04a")]
    first = save_articles(db, [article_in(it) for it in picked])
    by_origin = dict(
        db.conn.execute(
            "SELECT a.origin, s.story_id FROM articles a"
            " JOIN story_articles s ON s.article_id = a.id"
        )
    )
    assert by_origin["s01a"] == by_origin["s01b"] != by_origin["s04a"]
    again = save_articles(db, [article_in(it) for it in picked])
    assert again.new_ids == [] and len(again.duplicates) == 3
    assert db.conn.execute("SELECT count(*) FROM story_articles").fetchone()[0] == 3
    assert db.stories.story_of(first.new_ids[1]) == first.new_ids[0]


def test_two_instances_taking_turns_agree_with_one(db, connect) -> None:
    other = connect()
    for i, it in enumerate(ITEMS):
        save_articles(db if i % 2 else other, [article_in(it)])
    assert stored_partition(db) == memory_partition(ITEMS)


@pytest.mark.sqlite_only("EXPLAIN QUERY PLAN")
def test_story_keys_are_found_by_key_and_time(db) -> None:
    plan = db.conn.execute(
        "EXPLAIN QUERY PLAN SELECT article_id FROM story_keys WHERE key = ? AND published"
        " BETWEEN ? AND ? ORDER BY published DESC, article_id DESC LIMIT 5",
        ["x", "a", "b"],
    ).fetchall()
    assert any("story_keys_order" in row[-1] for row in plan)
    assert not any("TEMP B-TREE" in row[-1] for row in plan)  # the index serves the order


def _old_database(path: Path, items: Sequence[Labelled]) -> None:
    """A database at the schema before stories, with articles already stored."""
    conn = sqlite3.connect(path, isolation_level=None)
    for statements in MIGRATIONS[:3]:
        for statement in statements:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    for i, it in enumerate(items, start=1):
        a = it.article
        conn.execute(
            "INSERT INTO articles (id, url, content_hash, title, text, source, published, lang,"
            " origin, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                i,
                "",
                f"hash-{i}",
                a.title,
                a.text,
                a.source,
                a.published.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                a.lang,
                it.key,
                "2026-11-20T00:00:00.000000Z",
            ],
        )
    conn.close()


def test_articles_stored_before_the_migration_are_assigned_in_id_order(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    head, tail = ITEMS[:40], ITEMS[40:]
    _old_database(path, head)
    db = open_store(path)
    assert db.schema_version == SCHEMA_VERSION
    assert db.conn.execute("SELECT count(*) FROM story_articles").fetchone()[0] == 0
    save_articles(db, [article_in(it) for it in tail])  # the first ingest assigns the old ones
    assert db.conn.execute("SELECT count(*) FROM story_articles").fetchone()[0] == len(ITEMS)
    assert stored_partition(db) == memory_partition(ITEMS)
    assert db.stories.unassigned() == []
    db.close()


def test_window_hours_comes_from_the_config(db) -> None:
    config = config_from_dict({"stories": {"window_hours": 24}})
    assert stories_config(config) == GroupConfig(window_hours=24.0)
    assert config_from_dict({}).stories.window_hours == 48
    first = ITEMS[[it.key for it in ITEMS].index("s07a")]
    copy = ITEMS[[it.key for it in ITEMS].index("s07b")]
    late = replace(copy.article, published=first.article.published + timedelta(hours=30))
    save_articles(db, [article_in(first)], stories_config(config))
    save_articles(db, [article_in(replace(copy, article=late))], stories_config(config))
    assert len(stored_partition(db)) == 2
    with pytest.raises(ConfigError, match=r"stories\.window_hours"):
        config_from_dict({"stories": {"window_hours": 0}})
