"""Story grouper (bot/stories): joins, hard negatives, window, determinism, rebuilding the index
from stored features over a SQL-backed source, and the evaluation-set targets."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import combinations
from random import Random

import pytest

from bench.stories_eval import load_eval_set, mistakes, score
from bot.stories import (
    GroupConfig,
    MemorySource,
    StoryFeatures,
    StoryIndex,
    StoryInput,
    features_of,
)
from bot.stories.text import clean_lines
from store import open_store

EVAL = {it.key: it.article for it in load_eval_set()}


def _group(keys: list[str], index: StoryIndex | None = None) -> dict[str, int]:
    index = index or StoryIndex()
    return {k: index.assign(EVAL[k]) for k in keys}


JOINS = [
    ("wire near-copy: no headline, trimmed paragraph, other Baca Juga and tag", ["s01a", "s01b"]),
    ("wire near-copy in English, other boilerplate line", ["s14a", "s14b"]),
    ("same-language rewrite (en)", ["s04a", "s04b"]),
    ("same-language rewrite (id)", ["s16a", "s16b"]),
    ("Indonesian and English coverage of one launch", ["s02a", "s02c"]),
    ("English first, Indonesian later", ["s12a", "s12c"]),
    ("Indonesian wire then English rewrite", ["s03a", "s03c"]),
    ("four outlets, two languages", ["s01a", "s01b", "s01c", "s01d"]),
]


@pytest.mark.parametrize(("case", "keys"), JOINS, ids=[c for c, _ in JOINS])
def test_reports_of_one_event_join_one_story(case: str, keys: list[str]) -> None:
    stories = _group(keys)
    assert len(set(stories.values())) == 1, stories


APART = [
    ("Putin meets Xi vs Putin meets Kim", ["s01c", "s04a"]),
    ("Kim at a munitions factory vs Kim at a Russian aircraft factory", ["s05a", "n11a"]),
    ("Kim in Russia (summit) vs Kim in Russia (Pacific Fleet)", ["s01a", "n21a"]),
    ("Kim at a munitions factory vs Kim at an artillery drill", ["s05c", "n03a"]),
    ("ballistic missiles vs cruise missiles the next day", ["s02a", "n04a"]),
    ("Putin and Prabowo vs Putin's forum speech", ["s16a", "n12a"]),
    ("Lavrov meets Choe vs Putin receives Choe", ["s10a", "n07a"]),
    ("Kim receives Shoigu vs Kim receives a Chinese delegation", ["s15c", "n13a"]),
    ("Kim Yo Jong on the drills vs Kim Yo Jong on Japan", ["s11a", "n06a"]),
    ("satellite launch notice vs the failed launch", ["n14a", "s03a"]),
    ("Indonesian satellite vs South Korean satellite on the same rocket", ["s09a", "n09a"]),
    ("drone attack on Kyiv vs missile strike on Odesa", ["s12a", "n20a"]),
]


@pytest.mark.parametrize(("case", "keys"), APART, ids=[c for c, _ in APART])
def test_different_events_about_the_same_people_stay_apart(case: str, keys: list[str]) -> None:
    stories = _group(keys)
    assert len(set(stories.values())) == len(keys), stories


def test_the_same_launch_wording_a_week_later_is_a_new_story() -> None:
    stories = _group(["s02c", "n05a"])
    assert stories["s02c"] != stories["n05a"]


@pytest.mark.parametrize(("hours", "joins"), [(47, True), (49, False)])
def test_window_limits_which_articles_are_compared(hours: int, joins: bool) -> None:
    first = EVAL["s07a"]
    copy = replace(EVAL["s07b"], published=first.published + timedelta(hours=hours))
    index = StoryIndex()
    assert (index.assign(first) == index.assign(copy)) is joins


def test_window_hours_is_configurable() -> None:
    first = EVAL["s07a"]
    copy = replace(EVAL["s07b"], published=first.published + timedelta(hours=30))
    index = StoryIndex(config=GroupConfig(window_hours=24))
    assert index.assign(first) != index.assign(copy)


def _partition(stories: dict[str, int]) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for key, story in stories.items():
        groups.setdefault(story, set()).add(key)
    return {frozenset(g) for g in groups.values()}


def test_same_articles_in_same_order_give_the_same_stories() -> None:
    keys = list(EVAL)
    assert _group(keys) == _group(keys)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_order_of_unrelated_stories_does_not_change_related_grouping(seed: int) -> None:
    """Feeds deliver roughly in publication order: articles of different stories published
    within a few hours of each other arrive in a shuffled order; each story's own articles keep
    their order. (Term rarity is counted over what is indexed, so a wholly different arrival
    order can move a borderline article; see the report in bench/bench_stories.py.)"""
    items = load_eval_set()
    rng = Random(seed)
    jittered = sorted(
        items, key=lambda it: it.article.published.timestamp() + rng.uniform(0, 6 * 3600)
    )
    order: list[str] = []
    queues: dict[str, list[str]] = {}
    for it in items:
        queues.setdefault(it.story, []).append(it.key)
    for it in jittered:  # the story's next article takes this slot: own order kept
        order.append(queues[it.story].pop(0))
    assert order != [it.key for it in items]
    assert _partition(_group(order)) == _partition(_group([it.key for it in items]))


def test_boilerplate_and_source_tags_are_dropped() -> None:
    text = "Satu kalimat berita.\nBaca Juga\nJudul Berita Lain\nBaca Juga: Judul Lain\n(knh/ant)"
    assert clean_lines(text) == ["Satu kalimat berita."]
    assert clean_lines("Kalimat terakhir. (Nama Fotografer)\n(bbn)") == ["Kalimat terakhir."]


def _article(i: int, lang: str, text: str, when: str) -> StoryInput:
    return StoryInput(
        id=i,
        title="",
        text=text,
        lang=lang,
        source="t",
        published=datetime.fromisoformat(when).replace(tzinfo=UTC),
    )


def test_numbers_and_days_are_the_same_feature_in_both_languages() -> None:
    ind = features_of(
        _article(1, "id", "Sekitar 30.000 tentara ikut pada Rabu (13/9) lalu.", "2023-09-13T03:00")
    )
    eng = features_of(
        _article(2, "en", "About 30,000 troops took part on Wednesday.", "2023-09-13T05:00")
    )
    shared = set(ind.terms) & set(eng.terms)
    assert {"n:30000", "d:2023-09-13", "x:army"} <= shared


def test_features_round_trip_as_plain_data() -> None:
    feats = features_of(EVAL["s01a"])
    again = StoryFeatures.from_json(feats.to_json())
    assert again == feats
    assert all(isinstance(b, str) for b in again.buckets) and len(again.buckets) == 16


class SqliteSource:
    """The store's SQL candidate source (``store.stories``) on a fresh database, counting
    its key lookups. Feature rows reference stored articles, so each article is stored first."""

    def __init__(self) -> None:
        self.store = open_store(":memory:")
        self.queries = 0

    def recent(self, key: str, lo: datetime, hi: datetime, limit: int) -> list[int]:
        self.queries += 1
        return self.store.stories.recent(key, lo, hi, limit)

    def features(self, ids) -> dict[int, StoryFeatures]:
        return self.store.stories.features(ids)

    def stories(self, ids) -> dict[int, int]:
        return self.store.stories.stories(ids)

    def add(self, article_id: int, features: StoryFeatures, story_id: int) -> None:
        self.store.conn.execute(
            "INSERT INTO articles (id, content_hash, text, ingested_at) VALUES (?, ?, ?, ?)",
            [article_id, f"h{article_id}", "x", "2023-09-13T00:00:00.000000Z"],
        )
        self.store.stories.add(article_id, features, story_id)


def test_sql_backed_index_groups_like_the_memory_index() -> None:
    items = load_eval_set()
    mem_index, sql_index = StoryIndex(MemorySource()), StoryIndex(SqliteSource())
    memory = {it.key: mem_index.assign(it.article) for it in items}
    sql = {it.key: sql_index.assign(it.article) for it in items}
    assert sql == memory


def test_index_rebuilt_from_stored_features_continues_the_same_stories() -> None:
    items = load_eval_set()
    head, tail = items[:50], items[50:]
    live = StoryIndex()
    stored = [
        (it.article.id, features_of(it.article).to_json(), live.assign(it.article)) for it in head
    ]
    rebuilt_source = SqliteSource()
    for aid, raw, story in stored:
        rebuilt_source.add(aid, StoryFeatures.from_json(raw), story)
    rebuilt = StoryIndex(rebuilt_source)
    assert [rebuilt.assign(it.article) for it in tail] == [live.assign(it.article) for it in tail]


def test_lookups_per_article_are_bounded_by_its_keys_not_the_store() -> None:
    source = SqliteSource()
    index = StoryIndex(source)
    for it in load_eval_set():
        before = source.queries
        feats = features_of(it.article)
        index.assign_features(it.article.id, feats)
        assert source.queries - before <= len(feats.index_keys())


def test_evaluation_set_meets_the_targets() -> None:
    items = load_eval_set()
    index = StoryIndex()
    predicted = {it.key: index.assign(it.article) for it in items}
    s = score(items, predicted)
    detail = "; ".join(mistakes(items, predicted))
    assert s.precision >= 0.95, detail
    assert s.recall >= 0.90, detail
    assert s.cross_lang_pair_recall >= 0.75, detail


def test_evaluation_set_has_the_promised_shape() -> None:
    items = load_eval_set()
    stories: dict[str, set[str]] = {}
    for it in items:
        stories.setdefault(it.story, set()).add(it.article.lang)
    multi = [s for s in stories if sum(1 for it in items if it.story == s) >= 2]
    cross = [s for s in multi if len(stories[s]) == 2]
    negatives = [s for s in stories if s.startswith("n")]
    assert len(multi) >= 15 and len(cross) >= 5 and len(negatives) >= 20
    for it in items:
        sources = [o.article.source for o in items if o.story == it.story]
        assert len(sources) == len(set(sources)), it.story  # different outlets per story
    for a, b in combinations(items, 2):
        assert a.article.text != b.article.text or a.story == b.story
