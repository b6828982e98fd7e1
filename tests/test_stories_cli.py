"""`kabar stories [--json]` through the CLI: every stored story newest first, the contract's
JSON shape, `url` as the article gave it, a one-line error on a bad store."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from bot.cli import main

MEETING = Path(__file__).parent / "fixtures" / "story_meeting"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('keywords = ["Kim", "Putin"]\n[store]\npath = "k.db"\n')
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_stories_json_groups_one_event_and_keeps_others_apart(
    capsys, config: Path, tmp_path: Path
) -> None:
    feed = tmp_path / "later.json"
    feed.write_text(
        json.dumps(
            [
                {
                    "title": "Putin dan Xi Jinping bertemu di Beijing",
                    "text": "Presiden Rusia Vladimir Putin bertemu Presiden China Xi Jinping"
                    " di Beijing untuk membahas perdagangan energi dan proyek pipa gas baru.",
                    "url": "https://news.example/putin-xi?utm_source=feed&id=7",
                    "source": "Warta Contoh",
                    "published": "2099-01-01T00:00:00Z",
                },
                {
                    "title": "Putin meets Xi in Beijing",
                    "text": "Russian President Vladimir Putin met Chinese President Xi Jinping"
                    " in Beijing.",
                    "url": "https://news.example/en/putin-xi",
                    "source": "Example Wire",
                    "published": "2023-09-20T03:00:00Z",
                },
            ]
        )
    )
    files = [str(p) for p in sorted(MEETING.glob("*.txt"))]
    code, out, _ = run(capsys, "ingest", "--config", str(config), *files)
    assert code == 0 and out.startswith("new 4,")
    code, out, _ = run(capsys, "ingest", "--config", str(config), str(feed))
    assert code == 0
    code, out, err = run(capsys, "stories", "--json", "--config", str(config))
    assert code == 0 and err == ""
    stories = json.loads(out)
    assert [set(s) for s in stories] == [{"story", "title", "articles"}] * len(stories)
    sizes = sorted(len(s["articles"]) for s in stories)
    assert sizes == [1, 1, 1, 3]  # the meeting (3 outlets, 2 languages), the factory, 2 x Xi
    meeting = next(s for s in stories if len(s["articles"]) == 3)
    assert {a["source"] for a in meeting["articles"]} == {"wrt", "khr", "kabar-en"}
    assert {a["lang"] for a in meeting["articles"]} == {"id", "en"}
    for story in stories:
        assert isinstance(story["story"], str) and story["story"].isdigit()
        for a in story["articles"]:
            assert set(a) == {"url", "source", "lang", "published", "title"}
            assert datetime.fromisoformat(a["published"]).tzinfo is not None
            assert a["title"]
    # newest first: by the story's newest article; the feed's URL exactly as given
    newest = [max(a["published"] for a in s["articles"]) for s in stories]
    assert newest == sorted(newest, reverse=True)
    xi = [a for s in stories for a in s["articles"] if "putin-xi" in a["url"]]
    assert xi[0]["url"] == "https://news.example/putin-xi?utm_source=feed&id=7"


def test_stories_text_lists_one_block_per_story(capsys, config: Path) -> None:
    files = [str(p) for p in sorted(MEETING.glob("*_vostochny*.txt"))]
    run(capsys, "ingest", "--config", str(config), *files)
    code, out, _ = run(capsys, "stories", "--config", str(config))
    assert code == 0
    heads = [line for line in out.splitlines() if line.startswith("#")]
    assert len(heads) == 1 and "(3 articles, 3 sources)" in heads[0]
    assert sum(1 for line in out.splitlines() if line.startswith("    [")) == 3


def test_stories_on_an_empty_store_prints_an_empty_array(capsys, config: Path) -> None:
    code, out, _ = run(capsys, "stories", "--json", "--config", str(config))
    assert code == 0 and json.loads(out) == []


def test_stories_with_a_missing_store_folder_is_one_line(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[store]\npath = "nowhere/k.db"\n')
    code, out, err = run(capsys, "stories", "--config", str(bad))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "store.path" in err
