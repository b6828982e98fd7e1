"""The SQLite store: migrations, WAL, FTS sync, dedup, keywords, outbox uniqueness and leases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from store import integrity_ok, open_db
from store.articles import count_articles, insert_articles, search_articles
from store.audit import audit_entries
from store.chats import ensure_chat, subscribe, subscribers
from store.db import schema_version
from store.keywords import add_keyword, drift_from_config, list_keywords, seed_keywords
from store.models import ArticleIn
from store.outbox import Queued, claim_due, counts, mark_retry, mark_sent, record_matches
from store.schema import SCHEMA_VERSION

BODY = ("Pemerintah mengumumkan uji coba rudal jarak menengah di pesisir selatan pada Selasa"
        " pagi, disaksikan para pejabat pertahanan.")
OTHER = "The space agency said the new weather satellite reached orbit after a smooth launch."


def article(text: str = BODY, url: str = "", title: str = "") -> ArticleIn:
    return ArticleIn(text=text, url=url, title=title, source="tes", lang="id",
                     published=datetime(2026, 11, 20, 3, 0, tzinfo=UTC), origin="test")


def test_new_database_is_migrated_and_in_wal_mode(db) -> None:
    assert schema_version(db) == SCHEMA_VERSION
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"articles", "articles_fts", "feeds", "keywords", "chats", "subscriptions", "outbox",
            "audit"} <= set(db.table_names())
    assert integrity_ok(db)


def test_reopening_keeps_data_and_version(tmp_path: Path) -> None:
    first = open_db(tmp_path / "k.db")
    insert_articles(first, [article()])
    first.close()
    again = open_db(tmp_path / "k.db")
    assert schema_version(again) == SCHEMA_VERSION
    assert count_articles(again) == 1


def test_fts_index_follows_inserts(db) -> None:
    insert_articles(db, [article(), article(OTHER, title="Satellite launch")])
    assert [a.source for a in search_articles(db, "rudal")] == ["tes"]
    assert [a.title for a in search_articles(db, "satellite")] == ["Satellite launch"]
    assert search_articles(db, "") == []


def test_same_url_with_tracking_parameters_is_a_duplicate(db) -> None:
    first = insert_articles(db, [article(url="https://news.example/a?id=7&utm_source=x")])
    second = insert_articles(
        db, [article(OTHER, url="https://NEWS.example/a?utm_medium=rss&id=7#top")])
    assert len(first.new_ids) == 1 and second.new_ids == []
    assert second.duplicates == [("test", "same URL already stored")]
    assert count_articles(db) == 1


def test_same_text_from_a_file_and_a_feed_is_stored_once(db) -> None:
    from_file = article(BODY)
    from_feed = article("  " + BODY.upper().replace(" ", "\n ") + "  ",
                        url="https://feed.example/x", title="Uji coba rudal")
    report = insert_articles(db, [from_file, from_feed])
    assert len(report.new_ids) == 1
    assert report.duplicates[0][1] == "same text already stored"


def test_keywords_are_seeded_once_and_the_database_wins(db) -> None:
    assert seed_keywords(db, ["Kim", "Putin"])
    add_keyword(db, "rudal", "cli:test")
    assert not seed_keywords(db, ["Kim", "Putin", "satelit"])
    assert [k.query for k in list_keywords(db)] == ["Kim", "Putin", "rudal"]
    assert drift_from_config(db, ["Kim", "Putin", "satelit"]) == (["satelit"], ["rudal"])
    actions = [(e.actor, e.action) for e in audit_entries(db)]
    assert ("cli:test", "keyword.add") in actions


def test_follow_all_chats_get_new_keywords(db) -> None:
    seed_keywords(db, ["Kim"])
    chat = ensure_chat(db, "telegram", "42", "id")
    subscribe(db, chat, list_keywords(db), follow_all=True)
    add_keyword(db, "satelit", "telegram:1")
    assert subscribers(db) == {"Kim": [chat.id], "satelit": [chat.id]}


def test_outbox_is_unique_per_article_and_chat_across_connections(tmp_path: Path) -> None:
    one, two = open_db(tmp_path / "k.db"), open_db(tmp_path / "k.db")
    ids = insert_articles(one, [article()]).new_ids
    chat = ensure_chat(one, "telegram", "42", "id")
    row = Queued(ids[0], chat.id, ("rudal",))
    assert record_matches(one, ids, [row]) == 1
    assert record_matches(two, ids, [row]) == 0
    assert counts(one) == {"pending": 1}


def test_claims_are_exclusive_and_retries_wait(tmp_path: Path) -> None:
    one, two = open_db(tmp_path / "k.db"), open_db(tmp_path / "k.db")
    ids = insert_articles(one, [article(), article(OTHER)]).new_ids
    chat = ensure_chat(one, "slack", "C1", "en")
    record_matches(one, ids, [Queued(i, chat.id, ("rudal",)) for i in ids])
    first = claim_due(one, 10)
    assert len(first) == 2 and claim_due(two, 10) == []
    mark_sent(one, first[0].id, "m-1")
    mark_retry(one, first[1].id, "HTTP 500", delay_seconds=3600)
    assert claim_due(two, 10) == []
    assert counts(one) == {"sent": 1, "pending": 1}
    row = one.conn.execute(
        "SELECT attempts, last_error, message_id FROM outbox WHERE id = ?", [first[0].id]
    ).fetchone()
    assert row == (1, None, "m-1")


def test_expired_lease_is_claimed_again(tmp_path: Path) -> None:
    db = open_db(tmp_path / "k.db")
    ids = insert_articles(db, [article()]).new_ids
    chat = ensure_chat(db, "telegram", "7", "id")
    record_matches(db, ids, [Queued(ids[0], chat.id, ("rudal",))])
    assert len(claim_due(db, 10, lease_seconds=-1)) == 1  # the claimer "crashed"
    assert len(claim_due(db, 10)) == 1


def test_a_renewed_lease_is_not_taken_over(tmp_path: Path) -> None:
    from store.outbox import renew_lease

    one, two = open_db(tmp_path / "k.db"), open_db(tmp_path / "k.db")
    ids = insert_articles(one, [article()]).new_ids
    chat = ensure_chat(one, "telegram", "7", "id")
    record_matches(one, ids, [Queued(ids[0], chat.id, ("rudal",))])
    held = claim_due(one, 10, lease_seconds=-1)
    renew_lease(one, [i.id for i in held], 60)  # still alive: the lease moves on
    assert claim_due(two, 10) == []


def test_garbage_file_is_a_clear_store_error(tmp_path: Path) -> None:
    from store import StoreError

    bad = tmp_path / "not.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        open_db(bad)


def test_retention_removes_old_articles_and_sent_alerts_only(db) -> None:
    from store.articles import delete_older_than
    from store.outbox import delete_sent_older_than

    ids = insert_articles(db, [article(), article(OTHER)]).new_ids
    chat = ensure_chat(db, "telegram", "7", "id")
    record_matches(db, ids, [Queued(i, chat.id, ("rudal",)) for i in ids])
    sent, waiting = claim_due(db, 10)
    mark_sent(db, sent.id, "1")
    mark_retry(db, waiting.id, "HTTP 502", 0)
    db.conn.execute("UPDATE articles SET ingested_at = '2020-01-01T00:00:00.000000Z'")
    db.conn.execute("UPDATE outbox SET created_at = '2020-01-01T00:00:00.000000Z'")
    assert delete_sent_older_than(db, 90) == 1
    assert delete_older_than(db, 90) == 1  # the article whose alert still waits is kept
    assert counts(db) == {"pending": 1} and count_articles(db) == 1
    assert search_articles(db, "rudal") == []  # the FTS index followed the delete
    assert [a.id for a in search_articles(db, "satellite")] == [waiting.article_id]


def test_a_write_outside_transaction_is_committed_and_later_transactions_commit(
    tmp_path: Path,
) -> None:
    db, other = open_db(tmp_path / "k.db"), open_db(tmp_path / "k.db")
    db.conn.execute("INSERT INTO meta (key, value) VALUES ('note', 'stray')")  # no transaction()
    add_keyword(db, "nuklir", "cli:test")
    assert not db.conn.in_transaction
    assert [k.query for k in list_keywords(other)] == ["nuklir"]  # committed, not a savepoint
    assert other.conn.execute("SELECT value FROM meta WHERE key = 'note'").fetchone() == ("stray",)


def test_no_store_operation_leaves_a_transaction_open(tmp_path: Path) -> None:
    from store import articles, audit, chats, feeds, keywords, outbox

    db, other = open_db(tmp_path / "k.db"), open_db(tmp_path / "k.db")
    db.conn.execute("INSERT INTO meta (key, value) VALUES ('note', 'stray')")
    state: dict = {}

    def setup_chat() -> None:
        state["chat"] = chats.ensure_chat(db, "telegram", "42", "id")

    def queue() -> None:
        ids = articles.insert_articles(db, [article(), article(OTHER)]).new_ids
        outbox.record_matches(db, ids, [Queued(i, state["chat"].id, ("Kim",)) for i in ids])

    def claim() -> None:
        state["items"] = outbox.claim_due(db, 10)

    def item(n: int) -> int:
        return state["items"][n].id

    steps = [
        ("seed_keywords", lambda: keywords.seed_keywords(db, ["Kim", "Putin"])),
        ("add_keyword", lambda: keywords.add_keyword(db, "rudal", "t")),
        ("remove_keyword", lambda: keywords.remove_keyword(db, "Putin", "t")),
        ("ensure_chat", setup_chat),
        ("set_language", lambda: chats.set_language(db, state["chat"], "en")),
        ("subscribe", lambda: chats.subscribe(db, state["chat"], keywords.list_keywords(db),
                                              follow_all=True)),
        ("unsubscribe", lambda: chats.unsubscribe(db, state["chat"],
                                                  keywords.list_keywords(db)[:1])),
        ("insert_articles + record_matches", queue),
        ("claim_due", claim),
        ("renew_lease", lambda: outbox.renew_lease(db, [item(0), item(1)], 60)),
        ("mark_sent", lambda: outbox.mark_sent(db, item(0), "m1")),
        ("mark_retry", lambda: outbox.mark_retry(db, item(1), "HTTP 500", 0)),
        ("claim_due again", claim),
        ("release", lambda: outbox.release(db, [item(0)])),
        ("claim_due once more", claim),
        ("mark_failed", lambda: outbox.mark_failed(db, item(0), "HTTP 400")),
        ("skip_item", lambda: outbox.skip_item(db, item(0), "gone")),
        ("skip_for_chat", lambda: outbox.skip_for_chat(db, state["chat"].id, "blocked")),
        ("set_active", lambda: chats.set_active(db, state["chat"].id, False, "blocked")),
        ("migrate_chat", lambda: chats.migrate_chat(db, "telegram", "42", "-10042")),
        ("sync_feeds", lambda: feeds.sync_feeds(db, [("https://feed.example/rss", "F", 300)])),
        ("record_poll", lambda: feeds.record_poll(db, "https://feed.example/rss", etag="e",
                                                  last_modified=None, error=None,
                                                  next_in_seconds=300)),
        ("record_audit", lambda: audit.record_audit(db, "t", "test.action", "x")),
        ("search + latest", lambda: (articles.search_articles(db, "rudal"),
                                     articles.latest_articles(db), outbox.counts(db))),
        ("delete_sent_older_than", lambda: outbox.delete_sent_older_than(db, 90)),
        ("delete_older_than", lambda: articles.delete_older_than(db, 90)),
    ]
    for name, step in steps:
        step()
        assert not db.conn.in_transaction, f"{name} left a transaction open"
    # and every change is visible to a second connection (another instance)
    assert audit_entries(other) == audit_entries(db)
    assert counts(other) == counts(db) == {"sent": 1, "skipped": 1}
    assert other.conn.execute("SELECT address FROM chats").fetchall() == [("-10042",)]


def test_a_failed_commit_leaves_no_transaction_open(db) -> None:
    import sqlite3

    from store import transaction

    with pytest.raises(sqlite3.IntegrityError), transaction(db):
        db.conn.execute("PRAGMA defer_foreign_keys = ON")  # checked at COMMIT, which fails
        db.conn.execute("INSERT INTO subscriptions VALUES (999, 999, 'now')")
    assert not db.conn.in_transaction
    add_keyword(db, "rudal", "t")
    assert not db.conn.in_transaction


def test_a_failed_nested_transaction_undoes_only_its_own_writes(db) -> None:
    from store import transaction

    with transaction(db):
        add_keyword(db, "Kim", "t")
        with pytest.raises(ValueError), transaction(db):
            add_keyword(db, "Putin", "t")
            raise ValueError("inner fails")
        add_keyword(db, "rudal", "t")
    assert not db.conn.in_transaction
    assert [k.query for k in list_keywords(db)] == ["Kim", "rudal"]


def test_database_and_its_wal_files_are_owner_only(tmp_path: Path) -> None:
    db = open_db(tmp_path / "k.db")
    add_keyword(db, "Kim", "t")  # a write: -wal and -shm exist now
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {"k.db": 0o600, "k.db-wal": 0o600, "k.db-shm": 0o600}


def test_a_missing_folder_is_refused_not_created(tmp_path: Path) -> None:
    from store import StoreError

    with pytest.raises(StoreError, match="does not exist"):
        open_db(tmp_path / "typo" / "kabar.db")
    assert not (tmp_path / "typo").exists()


def test_check_alive_notices_a_deleted_or_replaced_file(tmp_path: Path) -> None:
    from store import StoreError, check_alive

    path = tmp_path / "k.db"
    db = open_db(path)
    check_alive(db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreError, match="deleted while Kabar was running"):
        check_alive(db)
    fresh = open_db(path)  # another file under the same name
    with pytest.raises(StoreError, match="replaced"):
        check_alive(db)
    check_alive(fresh)
    check_alive(open_db(":memory:"))


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
    from store.articles import latest_articles

    ids = insert_articles(db, [article(), article(BODY + " Lagi."), article(BODY + " Dua.")]
                          ).new_ids
    seed_keywords(db, ["rudal"])
    subscribe(db, ensure_chat(db, "telegram", "42", "id"), list_keywords(db), follow_all=True)
    db.conn.execute("UPDATE articles SET published = '999-01-01T00:00:00.000000Z' WHERE id = ?",
                    [ids[0]])  # what an older version stored for <pubDate>... 0999
    db.conn.execute("UPDATE articles SET ingested_at = 'kemarin' WHERE id = ?", [ids[1]])
    db.conn.commit()
    result = matching_pass(db)
    assert (result.checked, result.queued) == (2, 2)
    assert db.conn.execute("SELECT count(*) FROM articles WHERE checked_at IS NULL"
                           ).fetchone()[0] == 0  # the unreadable one too: never retried
    assert f"article {ids[1]} skipped: unreadable row" in caplog.text
    latest = {a.id: a for a in latest_articles(db, 5)}
    assert sorted(latest) == [ids[0], ids[2]]
    assert latest[ids[0]].published is None  # year 999 is no publication date


def test_stored_url_is_the_articles_own_link_and_dedup_uses_the_canonical_one(db) -> None:
    import json

    from bot.ingest.parse import parse_bytes
    from store.articles import get_article

    def doc(url: str, text: str) -> bytes:
        return json.dumps({"text": text, "url": url}).encode()

    own = "https://News.example/berita/rudal/?xtor=RSS-3&id=7"
    [new] = insert_articles(db, parse_bytes(doc(own, BODY), "a.json", max_bytes=10**6).articles
                            ).new_ids
    row = db.conn.execute("SELECT url, canonical_url FROM articles WHERE id = ?", [new]).fetchone()
    assert row == (own, "https://news.example/berita/rudal?id=7")
    assert get_article(db, new).url == own  # what alerts and /stories link to
    for variant in ("https://news.example/berita/rudal?id=7&msclkid=abc",
                    "https://news.example/berita/rudal?ocid=xyz&id=7#top"):
        again = parse_bytes(doc(variant, OTHER), "b.json", max_bytes=10**6).articles
        assert insert_articles(db, again).duplicates == [("b.json", "same URL already stored")]
