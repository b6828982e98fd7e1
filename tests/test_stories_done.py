"""The issue's done-check: `kabar ingest` of two Indonesian wire articles about one meeting plus
an English article about it gives ONE alert in a subscribed Telegram chat, naming all three
sources. Our own fixtures (tests/fixtures/story_meeting); the shared seeds too when present
(read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram import follow, start_kabar

pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type:DeprecationWarning")

REPO = Path(__file__).resolve().parent.parent
MEETING = REPO / "tests" / "fixtures" / "story_meeting"
ENGLISH = MEETING / "en_vostochny_meeting.txt"
SEEDS = next(
    (
        p
        for p in (REPO.parent / "shared" / "seeds", REPO.parent.parent / "shared" / "seeds")
        if p.is_dir()
    ),
    None,
)
CHAT = 4242


async def ingest_then_alert(fake: FakeTelegram, tmp_path: Path, files: list[Path], capsys) -> str:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "kabar.db"}"\n')
    kabar = await start_kabar(fake, tmp_path, listen=False)
    try:
        follow(kabar.db, CHAT)  # subscribed before the articles arrive
        assert main(["ingest", "--config", str(config), *map(str, files)]) == 0
        assert capsys.readouterr().out.startswith(f"new {len(files)},")
        await kabar.check()
        messages = fake.messages_to(CHAT)
        assert len(messages) == 1, [m["text"][:80] for m in messages]
        return messages[0]["text"]
    finally:
        await kabar.close()


def also_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Juga diberitakan:"))


async def test_two_indonesian_outlets_and_an_english_one_make_one_alert(
    fake: FakeTelegram, tmp_path: Path, capsys
) -> None:
    files = [MEETING / "id_wire_vostochny.txt", MEETING / "id_rewrite_vostochny.txt", ENGLISH]
    text = await ingest_then_alert(fake, tmp_path, files, capsys)
    assert "Sumber: wrt" in text  # the first article's own source
    assert also_line(text) == "Juga diberitakan: khr, kabar-en"
    assert "Kata kunci: Kim, Putin, satelit, rudal" in text  # rudal: from the rewrite


async def test_an_unrelated_article_in_the_same_ingest_is_its_own_alert(
    fake: FakeTelegram, tmp_path: Path, capsys
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "kabar.db"}"\n')
    kabar = await start_kabar(fake, tmp_path, listen=False)
    try:
        follow(kabar.db, CHAT)
        files = sorted(MEETING.glob("*.txt"))
        assert main(["ingest", "--config", str(config), *map(str, files)]) == 0
        await kabar.check()
        texts = [m["text"] for m in fake.messages_to(CHAT)]
    finally:
        await kabar.close()
    assert len(texts) == 2  # the meeting (3 outlets) and the munitions factory
    factory = next(t for t in texts if "pabrik amunisi" in t)
    assert "Juga diberitakan" not in factory


@pytest.mark.skipif(SEEDS is None, reason="../shared/seeds is not present")
async def test_the_shared_seeds_plus_an_english_article_make_one_alert(
    fake: FakeTelegram, tmp_path: Path, capsys
) -> None:
    assert SEEDS is not None
    seeds = sorted(SEEDS.glob("*.txt"))
    assert len(seeds) == 2
    text = await ingest_then_alert(fake, tmp_path, [*seeds, ENGLISH], capsys)
    named = [
        text.split("Sumber: ")[1].split(" ·")[0].split("\n")[0],
        *also_line(text).removeprefix("Juga diberitakan: ").split(", "),
    ]
    assert len(named) == 3 and "kabar-en" in named
    # the second seed carries no source tag and no link: it is named by its file
    assert seeds[1].name in named
