"""The faster story grouping gives what users got before: the same stories (the record made by
the code before the speed work, tests/fixtures/story_groupings.json) on the evaluation set and
through `kabar ingest`'s path, the same stored features, and the same similarity scores as the
old code (bench/legacy_stories.py) bit for bit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

import pytest

from bench import legacy_stories
from bench.stories_eval import load_eval_set
from bench.story_groupings import CORPORA, RECORD, corpus_groupings, eval_groupings, prefix
from bot.stories import StoryFeatures, StoryInput, features_of, similarity

RECORDED = json.loads(RECORD.read_text(encoding="utf-8"))


def test_evaluation_set_groups_and_features_as_recorded() -> None:
    got = eval_groupings()
    for key, want in RECORDED["eval"].items():
        assert got[key] == want, key


@pytest.mark.parametrize(("name", "seed"), CORPORA)
def test_ingest_path_groups_the_bench_corpora_as_recorded(
    name: str, seed: int, tmp_path: Path
) -> None:
    got = corpus_groupings(name, seed, 150, tmp_path)
    assert got["groups"] == prefix(RECORDED["corpora"][name]["groups"], 150)


def test_a_changed_grouping_is_caught() -> None:
    groups = RECORDED["corpora"]["syllables"]["groups"]
    moved = [list(g) for g in prefix(groups, 150)]
    moved[0], moved[1] = moved[0] + moved[1], []
    assert sorted(g for g in moved if g) != prefix(groups, 150)


_TRICKY = [
    "Kim Jong Un's visit on Rabu (13/9) ended. Putin's envoy met him on 13 September.",
    "NORTH KOREA FIRES 2 MISSILES AT 06.05 WIB, 30.000 TROOPS ON ALERT; US AND UN REACT.",
    "The U.S. said on Wednesday that 1,500 shells, 3.5 percent more, reached the port.",
    "Menurut KTT, kerja sama gas pipa dan zee berlaku mulai 1 Januari; as dan AS berbeda.",
    "rock'n'roll fan’s ’s x's ²3 September 12 may 5 Mar 3 sept 30 des 1 31/12 99/99.",
    "Baca juga:\nJudul lain\n(ant)\nSergei Lavrov and Sergei Shoigu met Xi Jinping (Foto Nama).",
]


def _articles() -> list[StoryInput]:
    out = [it.article for it in load_eval_set()]
    rng = Random(5)
    words = " ".join(_TRICKY).split()
    when = datetime(2023, 9, 13, 4, 0, tzinfo=UTC)
    for n, text in enumerate(_TRICKY):
        out.append(StoryInput(1000 + n, text.split(".")[0], text, "en", "t", when))
    for n in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 60)))
        lang = rng.choice(["id", "en", "other"])
        out.append(StoryInput(2000 + n, "", text, lang, "t", when + timedelta(hours=n)))
    return out


def test_features_are_the_old_codes() -> None:
    for article in _articles():
        new, old = features_of(article), legacy_stories.features_of(article)
        assert new.to_json() == old.to_json(), article.text
        assert list(new.neutral_terms) == [t for t in old.terms if not t.startswith("w:")]


def test_similarity_is_the_old_codes_bit_for_bit() -> None:
    feats = [features_of(a) for a in _articles()]
    rng = Random(9)
    for _ in range(3000):
        a, b = rng.sample(feats, 2)
        rarity = {t: rng.choice([0.5, 4 / 7, 1.0, 0.1]) for t in a.neutral_terms}
        assert similarity(a, b, rarity) == legacy_stories.similarity(a, b, rarity)


def test_similarity_with_hand_made_weights_and_word_rarity_is_the_old_codes() -> None:
    when = datetime(2023, 9, 13, tzinfo=UTC)
    a = StoryFeatures("en", when, (), {"w:launch": 0.3, "w:rocket": 1.0, "e:kim": 3.0})
    b = StoryFeatures("en", when, (), {"w:launch": 0.7, "w:rocket": 1.0, "e:kim": 1.5})
    c = StoryFeatures("en", when, (), {"w:launch": 1.0, "w:rocket": 1.0, "d:2023-09-13": 1.0})
    for x, y in ((a, b), (b, c), (a, c), (c, c)):
        for rarity in ({}, {"e:kim": 0.4}, {"w:rocket": 0.2, "e:kim": 0.5}):
            assert similarity(x, y, rarity) == legacy_stories.similarity(x, y, rarity)


def test_a_superscript_digit_after_a_month_is_stored_with_its_story(tmp_path: Path) -> None:
    """ "²" is a digit to str.isdigit but not to int(): the date rule raised on "Mei ²", which
    failed the whole batch."""
    from bot.ingest.sources import ingest_sources
    from store import open_store

    body = "Luas lahan bertambah pada Mei ² menurut data resmi pemerintah daerah setempat."
    feed = tmp_path / "a.jsonl"
    row = {"title": "Lahan", "text": body, "url": "https://x.example/1", "source": "X"}
    feed.write_text(json.dumps(row) + "\n", encoding="utf-8")
    store = open_store(tmp_path / "k.db")
    report = ingest_sources(store, [str(feed)], 5_000_000)
    assert (report.new, report.rejected) == (1, [])
    assert store.stories.story_of(1) == 1
    store.close()


def _two_reports(tmp_path: Path, edit_between: bool) -> tuple[int, int | None]:
    """s02a (Indonesian) in a first batch, its English report s02c (no near-copy: they join
    on terms) in a second, with one run's memory; ``edit_between``: another connection blanks
    s02a's stored features in between. Returns (s02a's story, s02c's story)."""
    from bot.ingest.dedup import save_articles
    from bot.stories.source import RememberingSource
    from store import open_store
    from tests.support import eval_article

    path = tmp_path / "k.db"
    store = open_store(path)
    memory = RememberingSource(store.stories)
    first = save_articles(store, [eval_article("s02a")], memory=memory).new_ids[0]
    if edit_between:
        other = open_store(path)
        blank = StoryFeatures("id", datetime(2023, 9, 13, tzinfo=UTC), ())
        with other.transaction():
            other.conn.execute(
                "UPDATE story_articles SET features = ? WHERE article_id = ?",
                [blank.to_json(), first],
            )
        other.close()
    second = save_articles(store, [eval_article("s02c")], memory=memory).new_ids[0]
    stories = (store.stories.story_of(first), store.stories.story_of(second))
    store.close()
    assert stories[0] == first
    return first, stories[1]


def test_run_memory_answers_candidates_of_earlier_batches(tmp_path: Path) -> None:
    first, second_story = _two_reports(tmp_path, edit_between=False)
    assert second_story == first  # joined, from the remembered features


def test_run_memory_is_forgotten_when_another_connection_commits(tmp_path: Path) -> None:
    first, second_story = _two_reports(tmp_path, edit_between=True)
    assert second_story != first  # the stored (blanked) features were read, not the memory


def test_run_memory_is_forgotten_when_the_batch_rolls_back(tmp_path: Path) -> None:
    from bot.ingest.dedup import save_articles
    from bot.stories.source import RememberingSource
    from store import open_store
    from tests.support import eval_article

    store = open_store(tmp_path / "k.db")
    memory = RememberingSource(store.stories)
    save_articles(store, [eval_article("s02a")], memory=memory)
    assert set(memory.features([1])) == {1}
    store.conn.execute(  # the second article of the next batch cannot get its story
        "CREATE TRIGGER refuse BEFORE INSERT ON story_articles WHEN NEW.article_id = 3"
        " BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    with pytest.raises(Exception, match="refused"):
        save_articles(store, [eval_article("s03a"), eval_article("s03c")], memory=memory)
    assert store.articles.get_many([2, 3]) == {}  # rolled back
    assert memory.features([2]) == {}  # article 2 was remembered, then forgotten
    assert set(memory.features([1])) == {1}  # read from the store again
    store.close()
