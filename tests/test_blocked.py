"""Per-chat blocked words: ``block`` / ``unblock`` (``blokir`` / ``buka``) and ``list`` in all
three adapters (Telegram through the real python-telegram-bot and the fake Bot API, Slack
through slack-bolt, the console of the demo), whole-word and clitic-aware like keywords, and
the one compiled index the matching pass checks them with."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.alerts.i18n import Catalog
from bot.config import config_from_dict
from bot.demo import Demo
from bot.ingest.dedup import save_articles
from bot.matching import passes
from bot.matching.passes import ArticleMatches, blocked_chats, blocked_index
from handlers.commands import CommandContext, Settings, execute
from store import open_store
from store.models import Article, ArticleIn
from tests.test_telegram import USERNAME, Kabar, follow

pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type:DeprecationWarning")
T = Catalog("handlers")
KIM_KARDASHIAN = "Kim Kardashian tampil di acara televisi bersama keluarganya pada Senin malam."
KARDASHIANNYA = "Kim menonton acara Kardashiannya sampai larut malam bersama teman-temannya."
KIM_JONG = "Kim Jong Un memeriksa pabrik traktor di Hamgyong Selatan pada Selasa pagi."
KARDASHEV = "Kim menjelaskan skala Kardashev kepada para mahasiswa astronomi di Bandung."


def add(db, *texts: str) -> None:
    save_articles(
        db,
        [
            ArticleIn(
                text=t, title="", source="tes", lang="id", url=f"https://b.example/{i}-{t[:9]}"
            )
            for i, t in enumerate(texts)
        ],
    )


def queued(kabar: Kabar, address: str) -> int:
    """Outbox rows (alerts and story edits) queued for the chat."""
    return kabar.db.conn.execute(
        "SELECT count(*) FROM outbox o JOIN chats c ON c.id = o.chat_id WHERE c.address = ?",
        [address],
    ).fetchone()[0]


async def test_block_in_a_telegram_group_by_a_member(kabar: Kabar) -> None:
    db = kabar.db
    await kabar.say(-3001, f"/start@{USERNAME}", user_id=41)
    follow(db, 1009)  # another chat, no blocks
    reply = await kabar.say(-3001, f"/block@{USERNAME} Kardashian", user_id=42)  # not an admin
    assert reply == T.t("id", "block.done", words="Kardashian")
    add(db, KIM_KARDASHIAN, KARDASHIANNYA, KIM_JONG, KARDASHEV)
    await kabar.check()
    group = [m["text"] for m in kabar.alerts(-3001)]
    assert len(group) == 2  # Kim Jong Un, and Kardashev (another word)
    assert any("Jong" in t for t in group) and any("Kardashev" in t for t in group)
    assert queued(kabar, "1009") == 4  # the block is this chat's only (some are story edits)
    assert queued(kabar, "-3001") == 2

    listing = await kabar.say(-3001, f"/list@{USERNAME}", user_id=42)
    assert T.t("id", "list.blocked", count=1, words="Kardashian") in listing
    again = await kabar.say(-3001, f"/blokir@{USERNAME} kardashian", user_id=42)
    assert again == T.t("id", "block.already", words="kardashian")

    reply = await kabar.say(-3001, f"/buka@{USERNAME} KARDASHIAN", user_id=43)
    assert reply == T.t("id", "unblock.done", words="Kardashian")
    add(db, "Pada Rabu, Kim Kardashian meluncurkan produk kosmetik baru di Los Angeles.")
    await kabar.check()
    assert len(kabar.alerts(-3001)) == 3 and "kosmetik" in kabar.alerts(-3001)[-1]["text"]
    audit = [(e.action, e.detail) for e in db.audit.entries(10) if e.action.startswith("block")]
    assert [a for a, _ in audit] == ["block.remove", "block.add"]


async def test_block_phrases_exclusions_and_bad_input() -> None:
    db = open_store(":memory:")
    db.keywords.seed(["Kim"])
    settings = Settings("en", frozenset())
    ctx = CommandContext("console", "demo", "u1")

    def run(text: str):
        return execute(db, ctx, text, settings)

    assert run('/block "Kim Jong Un" Kardashian').text == T.t(
        "en", "block.done", words='"Kim Jong Un", Kardashian'
    )
    assert run("/block Kim -Kardashian").text == T.t("en", "block.done", words="Kim -Kardashian")
    bad = run("/block -x")
    assert not bad.ok and bad.text.startswith("Invalid keyword query")
    assert not run("/block").ok and not run("/unblock").ok
    missing = run("/unblock Jenner")
    assert not missing.ok and T.t("en", "unblock.missing", words="Jenner") in missing.text
    chat = db.chats.get("console", "demo")
    assert chat is not None
    assert db.blocks.of_chat(chat.id) == ['"Kim Jong Un"', "Kardashian", "Kim -Kardashian"]


async def test_block_on_slack(tmp_path: Path) -> None:
    import httpx

    from handlers.slack.adapter import SlackPlatform
    from tests.fakes.slack_api import FakeSlack
    from tests.test_slack import CHANNEL, Bot, deliver_all, make_config

    fake = await FakeSlack("xoxb-test").start()
    config = make_config(tmp_path, fake)
    db = open_store(tmp_path / "kabar.db")
    db.keywords.seed(config.keywords)
    platform = SlackPlatform(config, db, host="127.0.0.1", port=0)
    await platform.start(None, listen=True)
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.port}", timeout=10)
    bot = Bot(config, db, platform, http, fake)
    try:
        await bot.command("start")
        reply = await bot.reply("blokir Kardashian")
        assert reply["text"] == T.t("id", "block.done", words="Kardashian")
        assert reply["response_type"] == "in_channel"  # it changed what the channel gets
        add(db, KIM_KARDASHIAN, KIM_JONG)
        await deliver_all(bot)
        [message] = fake.messages_to(CHANNEL)
        assert "Jong" in message["text"]
        listing = await bot.reply("list")
        assert "Kardashian" in listing["text"]
    finally:
        await http.aclose()
        await platform.stop()
        db.close()
        await fake.stop()


async def test_block_in_the_console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    demo = Demo(config_from_dict({"default_language": "en"}), out, fresh=True)
    try:
        assert demo.command("/start")
        assert demo.command("/block Kardashian")
        assert "Blocked: Kardashian." in out.getvalue()
        add(demo.db, KIM_KARDASHIAN, KIM_JONG)
        await demo.service.match()
        await demo.service.deliver()
        printed = out.getvalue()
        assert "Jong" in printed and "televisi" not in printed
        demo.command("/list")
        assert "Blocked (1): Kardashian." in out.getvalue()
    finally:
        await demo.service.close()
        demo.db.close()


def article(article_id: int, text: str) -> Article:
    db = open_store(":memory:")
    save_articles(db, [ArticleIn(text=text, source="t", lang="id", url="")])
    stored = db.articles.get(1)
    assert stored is not None
    db.close()
    return Article(**{**stored.__dict__, "id": article_id})


def test_one_index_for_every_chat_and_word() -> None:
    blockers = {f"word{n}": [n] for n in range(2000)} | {"Kardashian": [7, 8]}
    items = [
        ArticleMatches(article(1, KARDASHIANNYA), ()),
        ArticleMatches(article(2, KIM_JONG), ()),
        ArticleMatches(article(3, "Kim dan word17 dan word1999."), ()),
    ]
    blocked_index.cache_clear()
    assert blocked_chats(items, blockers) == {1: frozenset({7, 8}), 3: frozenset({17, 1999})}
    blocked_chats(items, blockers)  # the next pass: the same compiled index
    info = blocked_index.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert blocked_chats(items, {}) == {}
    assert passes.plan_alerts([ArticleMatches(items[0].article, ())], {}, {1: frozenset({7})}) == []
