"""The SQLite store: migrations, WAL, FTS sync, dedup, keywords, outbox uniqueness and leases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.ingest.dedup import save_articles
from store import open_store
from store.models import ArticleIn, Queued
from store.schema import SCHEMA_VERSION

BODY = (
    "Pemerintah mengumumkan uji coba rudal jarak menengah di pesisir selatan pada Selasa"
    " pagi, disaksikan para pejabat pertahanan."
)
OTHER = "The space agency said the new weather satellite reached orbit after a smooth launch."


def article(text: str = BODY, url: str = "", title: str = "") -> ArticleIn:
    return ArticleIn(
        text=text,
        url=url,
        title=title,
        source="tes",
        lang="id",
        published=datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
        origin="test",
    )


@pytest.mark.sqlite_only("WAL mode")
def test_new_database_is_migrated_and_in_wal_mode(db) -> None:
    assert db.schema_version == SCHEMA_VERSION
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {
        "articles",
        "articles_fts",
        "feeds",
        "keywords",
        "chats",
        "subscriptions",
        "outbox",
        "audit",
    } <= set(db.db.table_names())
    assert db.integrity_ok()


def test_reopening_keeps_data_and_version(tmp_path: Path) -> None:
    first = open_store(tmp_path / "k.db")
    save_articles(first, [article()])
    first.close()
    again = open_store(tmp_path / "k.db")
    assert again.schema_version == SCHEMA_VERSION
    assert again.articles.count() == 1


def test_fts_index_follows_inserts(db) -> None:
    save_articles(db, [article(), article(OTHER, title="Satellite launch")])
    assert [a.source for a in db.articles.search("rudal")] == ["tes"]
    assert [a.title for a in db.articles.search("satellite")] == ["Satellite launch"]
    assert db.articles.search("") == []


def test_same_url_with_tracking_parameters_is_a_duplicate(db) -> None:
    first = save_articles(db, [article(url="https://news.example/a?id=7&utm_source=x")])
    second = save_articles(
        db, [article(OTHER, url="https://NEWS.example/a?utm_medium=rss&id=7#top")]
    )
    assert len(first.new_ids) == 1 and second.new_ids == []
    assert second.duplicates == [("test", "same URL already stored")]
    assert db.articles.count() == 1


def test_same_text_from_a_file_and_a_feed_is_stored_once(db) -> None:
    from_file = article(BODY)
    from_feed = article(
        "  " + BODY.upper().replace(" ", "\n ") + "  ",
        url="https://feed.example/x",
        title="Uji coba rudal",
    )
    report = save_articles(db, [from_file, from_feed])
    assert len(report.new_ids) == 1
    assert report.duplicates[0][1] == "same text already stored"


def test_keywords_are_seeded_once_and_the_database_wins(db) -> None:
    assert db.keywords.seed(["Kim", "Putin"])
    db.keywords.add("rudal", "cli:test")
    assert not db.keywords.seed(["Kim", "Putin", "satelit"])
    assert [k.query for k in db.keywords.all()] == ["Kim", "Putin", "rudal"]
    assert db.keywords.drift_from_config(["Kim", "Putin", "satelit"]) == (["satelit"], ["rudal"])
    actions = [(e.actor, e.action) for e in db.audit.entries()]
    assert ("cli:test", "keyword.add") in actions


def test_follow_all_chats_get_new_keywords(db) -> None:
    db.keywords.seed(["Kim"])
    chat = db.chats.ensure("telegram", "42", "id")
    db.chats.subscribe(chat, db.keywords.all(), follow_all=True)
    db.keywords.add("satelit", "telegram:1")
    assert db.chats.subscribers() == {"Kim": [chat.id], "satelit": [chat.id]}


def test_outbox_is_unique_per_article_and_chat_across_connections(tmp_path: Path) -> None:
    one, two = open_store(tmp_path / "k.db"), open_store(tmp_path / "k.db")
    ids = save_articles(one, [article()]).new_ids
    chat = one.chats.ensure("telegram", "42", "id")
    row = Queued(ids[0], chat.id, ("rudal",))
    assert one.outbox.record_matches(ids, [row]) == 1
    assert two.outbox.record_matches(ids, [row]) == 0
    assert one.outbox.counts() == {"pending": 1}


def test_claims_are_exclusive_and_retries_wait(tmp_path: Path) -> None:
    one, two = open_store(tmp_path / "k.db"), open_store(tmp_path / "k.db")
    ids = save_articles(one, [article(), article(OTHER)]).new_ids
    chat = one.chats.ensure("slack", "C1", "en")
    one.outbox.record_matches(ids, [Queued(i, chat.id, ("rudal",)) for i in ids])
    first = one.outbox.claim_due(10)
    assert len(first) == 2 and two.outbox.claim_due(10) == []
    one.outbox.mark_sent(first[0].id, "m-1")
    one.outbox.mark_retry(first[1].id, "HTTP 500", delay_seconds=3600)
    assert two.outbox.claim_due(10) == []
    assert one.outbox.counts() == {"sent": 1, "pending": 1}
    row = one.conn.execute(
        "SELECT attempts, last_error, message_id FROM outbox WHERE id = ?", [first[0].id]
    ).fetchone()
    assert row == (1, None, "m-1")


def test_expired_lease_is_claimed_again(tmp_path: Path) -> None:
    db = open_store(tmp_path / "k.db")
    ids = save_articles(db, [article()]).new_ids
    chat = db.chats.ensure("telegram", "7", "id")
    db.outbox.record_matches(ids, [Queued(ids[0], chat.id, ("rudal",))])
    assert len(db.outbox.claim_due(10, lease_seconds=-1)) == 1  # the claimer "crashed"
    assert len(db.outbox.claim_due(10)) == 1


def test_a_renewed_lease_is_not_taken_over(tmp_path: Path) -> None:

    one, two = open_store(tmp_path / "k.db"), open_store(tmp_path / "k.db")
    ids = save_articles(one, [article()]).new_ids
    chat = one.chats.ensure("telegram", "7", "id")
    one.outbox.record_matches(ids, [Queued(ids[0], chat.id, ("rudal",))])
    held = one.outbox.claim_due(10, lease_seconds=-1)
    one.outbox.renew_lease([i.id for i in held], 60)  # still alive: the lease moves on
    assert two.outbox.claim_due(10) == []


def test_garbage_file_is_a_clear_store_error(tmp_path: Path) -> None:
    from store import StoreError

    bad = tmp_path / "not.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        open_store(bad)


def test_retention_removes_old_articles_and_sent_alerts_only(db) -> None:

    ids = save_articles(db, [article(), article(OTHER)]).new_ids
    chat = db.chats.ensure("telegram", "7", "id")
    db.outbox.record_matches(ids, [Queued(i, chat.id, ("rudal",)) for i in ids])
    sent, waiting = db.outbox.claim_due(10)
    db.outbox.mark_sent(sent.id, "1")
    db.outbox.mark_retry(waiting.id, "HTTP 502", 0)
    db.conn.execute("UPDATE articles SET ingested_at = '2020-01-01T00:00:00.000000Z'")
    db.conn.execute("UPDATE outbox SET created_at = '2020-01-01T00:00:00.000000Z'")
    assert db.outbox.delete_sent_older_than(90) == 1
    assert db.articles.delete_older_than(90) == 1  # the article whose alert still waits is kept
    assert db.outbox.counts() == {"pending": 1} and db.articles.count() == 1
    assert db.articles.search("rudal") == []  # the FTS index followed the delete
    assert [a.id for a in db.articles.search("satellite")] == [waiting.article_id]


def test_a_write_outside_transaction_is_committed_and_later_transactions_commit(
    tmp_path: Path,
) -> None:
    db, other = open_store(tmp_path / "k.db"), open_store(tmp_path / "k.db")
    db.conn.execute("INSERT INTO meta (key, value) VALUES ('note', 'stray')")  # no transaction()
    db.keywords.add("nuklir", "cli:test")
    assert not db.conn.in_transaction
    assert [k.query for k in other.keywords.all()] == ["nuklir"]  # committed, not a savepoint
    assert other.conn.execute("SELECT value FROM meta WHERE key = 'note'").fetchone() == ("stray",)


def test_no_store_operation_leaves_a_transaction_open(tmp_path: Path) -> None:
    db, other = open_store(tmp_path / "k.db"), open_store(tmp_path / "k.db")
    db.conn.execute("INSERT INTO meta (key, value) VALUES ('note', 'stray')")
    state: dict = {}

    def setup_chat() -> None:
        state["chat"] = db.chats.ensure("telegram", "42", "id")

    def queue() -> None:
        ids = save_articles(db, [article(), article(OTHER)]).new_ids
        db.outbox.record_matches(ids, [Queued(i, state["chat"].id, ("Kim",)) for i in ids])

    def claim() -> None:
        state["items"] = db.outbox.claim_due(10)

    def item(n: int) -> int:
        return state["items"][n].id

    steps = [
        ("seed_keywords", lambda: db.keywords.seed(["Kim", "Putin"])),
        ("add_keyword", lambda: db.keywords.add("rudal", "t")),
        ("remove_keyword", lambda: db.keywords.remove("Putin", "t")),
        ("ensure_chat", setup_chat),
        ("set_language", lambda: db.chats.set_language(state["chat"], "en")),
        (
            "subscribe",
            lambda: db.chats.subscribe(state["chat"], db.keywords.all(), follow_all=True),
        ),
        ("unsubscribe", lambda: db.chats.unsubscribe(state["chat"], db.keywords.all()[:1])),
        ("insert_articles + record_matches", queue),
        ("claim_due", claim),
        ("renew_lease", lambda: db.outbox.renew_lease([item(0), item(1)], 60)),
        ("mark_sent", lambda: db.outbox.mark_sent(item(0), "m1")),
        ("mark_retry", lambda: db.outbox.mark_retry(item(1), "HTTP 500", 0)),
        ("claim_due again", claim),
        ("release", lambda: db.outbox.release([item(0)])),
        ("claim_due once more", claim),
        ("mark_failed", lambda: db.outbox.mark_failed(item(0), "HTTP 400")),
        ("skip_item", lambda: db.outbox.skip_item(item(0), "gone")),
        ("skip_for_chat", lambda: db.outbox.skip_for_chat(state["chat"].id, "blocked")),
        ("set_active", lambda: db.chats.set_active(state["chat"].id, False, "blocked")),
        ("migrate_chat", lambda: db.chats.migrate("telegram", "42", "-10042")),
        ("sync_feeds", lambda: db.feeds.sync([("https://feed.example/rss", "F", 300)])),
        (
            "record_poll",
            lambda: db.feeds.record_poll(
                "https://feed.example/rss",
                etag="e",
                last_modified=None,
                error=None,
                next_in_seconds=300,
            ),
        ),
        ("record_audit", lambda: db.audit.record("t", "test.action", "x")),
        (
            "search + latest",
            lambda: (db.articles.search("rudal"), db.articles.latest(), db.outbox.counts()),
        ),
        ("delete_sent_older_than", lambda: db.outbox.delete_sent_older_than(90)),
        ("delete_older_than", lambda: db.articles.delete_older_than(90)),
    ]
    for name, step in steps:
        step()
        assert not db.conn.in_transaction, f"{name} left a transaction open"
    # and every change is visible to a second connection (another instance)
    assert other.audit.entries() == db.audit.entries()
    assert other.outbox.counts() == db.outbox.counts() == {"sent": 1, "skipped": 1}
    assert other.conn.execute("SELECT address FROM chats").fetchall() == [("-10042",)]


@pytest.mark.sqlite_only("PRAGMA defer_foreign_keys")
def test_a_failed_commit_leaves_no_transaction_open(db) -> None:
    import sqlite3

    with pytest.raises(sqlite3.IntegrityError), db.transaction():
        db.conn.execute("PRAGMA defer_foreign_keys = ON")  # checked at COMMIT, which fails
        db.conn.execute("INSERT INTO subscriptions VALUES (999, 999, 'now')")
    assert not db.conn.in_transaction
    db.keywords.add("rudal", "t")
    assert not db.conn.in_transaction


def test_a_failed_nested_transaction_undoes_only_its_own_writes(db) -> None:

    with db.transaction():
        db.keywords.add("Kim", "t")
        with pytest.raises(ValueError), db.transaction():
            db.keywords.add("Putin", "t")
            raise ValueError("inner fails")
        db.keywords.add("rudal", "t")
    assert not db.conn.in_transaction
    assert [k.query for k in db.keywords.all()] == ["Kim", "rudal"]


def test_database_and_its_wal_files_are_owner_only(tmp_path: Path) -> None:
    db = open_store(tmp_path / "k.db")
    db.keywords.add("Kim", "t")  # a write: -wal and -shm exist now
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {"k.db": 0o600, "k.db-wal": 0o600, "k.db-shm": 0o600}


def test_a_missing_folder_is_refused_not_created(tmp_path: Path) -> None:
    from store import StoreError

    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "typo" / "kabar.db")
    assert not (tmp_path / "typo").exists()


def test_check_alive_notices_a_deleted_or_replaced_file(tmp_path: Path) -> None:
    from store import StoreError

    path = tmp_path / "k.db"
    db = open_store(path)
    db.check_alive()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreError, match="deleted while Kabar was running"):
        db.check_alive()
    fresh = open_store(path)  # another file under the same name
    with pytest.raises(StoreError, match="replaced"):
        db.check_alive()
    fresh.check_alive()
    open_store(":memory:").check_alive()


# --- odd stored values (issue 15: a year-999 date stopped every alert) ---------------------------


def test_timestamps_are_stored_fixed_width_and_read_back() -> None:
    from store.clock import from_db, to_db

    old = datetime(999, 1, 1, 12, 0, tzinfo=UTC)
    assert to_db(old) == "0999-01-01T12:00:00.000000Z"
    assert from_db(to_db(old)) == old
    assert to_db(datetime(2024, 3, 5, tzinfo=UTC)) > to_db(old)  # text order = time order
    assert from_db("999-01-01T12:00:00.000000Z") == old  # as an older version stored it
    for odd in ("kemarin", "2024-13-45T99:00:00.000000Z", "", None, 1709600000, b"2024"):
        assert from_db(odd) is None


def test_an_unreadable_row_never_stops_a_pass_or_latest(db, caplog) -> None:
    from bot.matching.passes import matching_pass

    ids = save_articles(db, [article(), article(BODY + " Lagi."), article(BODY + " Dua.")]).new_ids
    db.keywords.seed(["rudal"])
    db.chats.subscribe(db.chats.ensure("telegram", "42", "id"), db.keywords.all(), follow_all=True)
    db.conn.execute(
        "UPDATE articles SET published = '999-01-01T00:00:00.000000Z' WHERE id = ?", [ids[0]]
    )  # what an older version stored for <pubDate>... 0999
    db.conn.execute("UPDATE articles SET ingested_at = 'kemarin' WHERE id = ?", [ids[1]])
    db.conn.commit()
    result = matching_pass(db)
    assert (result.checked, result.queued) == (2, 2)
    assert (
        db.conn.execute("SELECT count(*) FROM articles WHERE checked_at IS NULL").fetchone()[0] == 0
    )  # the unreadable one too: never retried
    assert f"article {ids[1]} skipped: unreadable row" in caplog.text
    latest = {a.id: a for a in db.articles.latest(5)}
    assert sorted(latest) == [ids[0], ids[2]]
    assert latest[ids[0]].published is None  # year 999 is no publication date


def test_stored_url_is_the_articles_own_link_and_dedup_uses_the_canonical_one(db) -> None:
    import json

    from bot.ingest.parse import parse_bytes

    def doc(url: str, text: str) -> bytes:
        return json.dumps({"text": text, "url": url}).encode()

    own = "https://News.example/berita/rudal/?xtor=RSS-3&id=7"
    [new] = save_articles(
        db, parse_bytes(doc(own, BODY), "a.json", max_bytes=10**6).articles
    ).new_ids
    row = db.conn.execute("SELECT url, canonical_url FROM articles WHERE id = ?", [new]).fetchone()
    assert row == (own, "https://news.example/berita/rudal?id=7")
    assert db.articles.get(new).url == own  # what alerts and /stories link to
    for variant in (
        "https://news.example/berita/rudal?id=7&msclkid=abc",
        "https://news.example/berita/rudal?ocid=xyz&id=7#top",
    ):
        again = parse_bytes(doc(variant, OTHER), "b.json", max_bytes=10**6).articles
        assert save_articles(db, again).duplicates == [("b.json", "same URL already stored")]
