"""`/latest` lists stories: one line per story with "+N sumber" / "+N sources" for the other
outlets that reported it; `/latest KW` too."""

from __future__ import annotations

import pytest

from bot.ingest.dedup import save_articles
from tests.support import eval_article
from tests.test_commands import run


def ingest(db, *keys: str) -> None:
    save_articles(db, [eval_article(k) for k in keys])


@pytest.mark.parametrize(
    ("lang", "more", "one"), [("id", "+3 sumber", "+1 sumber"), ("en", "+3 sources", "+1 source")]
)
def test_latest_is_one_line_per_story(db, lang: str, more: str, one: str) -> None:
    ingest(db, "s02a", "s02c", "s01a", "s01b", "s01c", "s01d", "s04a")
    lines = run(db, "/latest", lang=lang).text.splitlines()
    assert len(lines) == 4  # header + three stories (newest first)
    assert lines[1].startswith("1. ") and "s04a" in lines[1] and "sumber" not in lines[1]
    assert "(Warta Nusantara) https://news.example/s01a" in lines[2]
    assert lines[2].endswith(more)
    assert "s02a" in lines[3] and lines[3].endswith(one)


def test_latest_for_a_keyword_groups_by_story(db) -> None:
    ingest(db, "s01a", "s01b", "s01c", "s04a")
    lines = run(db, "/latest Kim", lang="en").text.splitlines()
    assert lines[0] == "Latest articles for Kim:"
    assert len(lines) == 2 and lines[1].endswith("+2 sources")
