"""Scale past one machine: the PostgreSQL store selected by URL, several instances on one
database (claims, shared pacing, feed polls, one matching pass, one polling leader), the
search on a tsvector, and `kabar store copy`. Tests taking `backend` run on both stores."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.cli import main
from bot.delivery.pacing import Limit
from bot.ingest.dedup import save_articles
from store import StoreError, open_store
from store.models import ArticleIn, Queued
from store.schema import SCHEMA_VERSION
from tests.conftest import need_pg


def article(i: int, text: str = "") -> ArticleIn:
    return ArticleIn(
        text=text or f"Kim menguji rudal nomor {i} di dekat Pyongyang pagi ini.",
        title=f"Berita {i}",
        url=f"https://example.com/{i}",
        source="tes",
    )


def queue(db, articles: int, chats: int) -> int:
    ids = save_articles(db, [article(i) for i in range(articles)]).new_ids
    chat_ids = [db.chats.ensure("telegram", str(1000 + c), "id").id for c in range(chats)]
    db.outbox.record_matches(ids, [Queued(a, c, ("Kim",)) for a in ids for c in chat_ids])
    return len(ids) * len(chat_ids)


def test_concurrent_claims_never_take_a_row_twice(db, db_location: str, backend: str) -> None:
    total = queue(db, 30, 4)
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def instance() -> None:
        store = open_store(db_location)  # an instance: its own connection, in its thread
        try:
            while True:
                items = store.outbox.claim_due(7, lease_seconds=300)
                if not items:
                    return
                with lock:
                    claimed.extend(i for item in items for i in item.group)
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=instance) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(claimed) == total
    assert max(Counter(claimed).values()) == 1


def test_pacing_limits_hold_for_the_whole_fleet(db, db_location: str, backend: str) -> None:
    """Three instances reserve slots for one chat at once: 2 sends per 0.3 s, fleet-wide."""
    per_target = (Limit(2, 0.3),)
    granted: list[float] = []
    lock = threading.Lock()
    stop = time.time() + 1.5

    def instance() -> None:
        store = open_store(db_location)
        pacing = store.pacing("telegram")
        while time.time() < stop:
            slot = pacing.reserve("42", (), per_target)
            if slot.granted:
                with lock:
                    granted.append(time.time())
                pacing.settle(slot.slot_id)
            else:
                time.sleep(min(slot.wait, 0.05))
        store.close()

    threads = [threading.Thread(target=instance) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    stored = sorted(
        r[0] for r in db.conn.execute("SELECT done FROM pacing_slots WHERE target = '42'")
    )
    assert len(stored) == len(granted) >= 6
    for i in range(2, len(stored)):  # any 3 consecutive completions span at least the period
        assert stored[i] - stored[i - 2] >= 0.3 - 1e-3, (i, stored[i - 2 : i + 1])


def test_one_instance_polls_a_feed_per_interval(db, connect, backend: str) -> None:
    db.feeds.sync([("https://example.com/rss", "", 60)])
    other = connect()
    first = db.feeds.claim_poll("https://example.com/rss", 60)
    second = other.feeds.claim_poll("https://example.com/rss", 60)
    assert first
    assert second is (backend == "sqlite")  # SQLite (one machine): every poll runs as before


def test_one_matching_pass_at_a_time(db, connect, backend: str) -> None:
    other = connect()
    with db.exclusive("kabar.matching") as mine:
        assert mine
        with other.exclusive("kabar.matching") as theirs:
            assert theirs is (backend == "sqlite")
    with other.exclusive("kabar.matching") as theirs:
        assert theirs  # released after the first pass


def test_polling_leader_is_replaced_when_it_dies(db, connect, backend: str) -> None:
    a = db.leader("kabar.telegram.polling")
    b = connect().leader("kabar.telegram.polling")
    assert a.try_lead()
    assert b.try_lead() is (backend == "sqlite")
    a.release()  # its connection closes, as when the leader's process is killed
    assert b.try_lead() and b.alive()
    b.release()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_search_is_accent_and_case_insensitive_without_stemming(db, backend: str) -> None:
    save_articles(
        db,
        [
            article(1, "Presiden Café Müller bertemu para menteri di Jakarta hari ini."),
            article(2, "Pemerintah mempertemukan para pihak di Surabaya untuk berunding."),
        ],
    )
    assert [a.title for a in db.articles.search("cafe MULLER")] == ["Berita 1"]
    assert [a.title for a in db.articles.search("bertemu")] == ["Berita 1"]  # not "temu"
    assert [a.title for a in db.articles.search('"para pihak"')] == ["Berita 2"]
    assert db.articles.search("OR AND NOT") == []


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_newer_schema_is_refused(db, db_location: str, backend: str) -> None:
    db.conn.execute("UPDATE kabar_schema SET version = ?", [SCHEMA_VERSION + 1])
    with pytest.raises(StoreError, match="newer than this Kabar"):
        open_store(db_location)
    db.conn.execute("UPDATE kabar_schema SET version = ?", [SCHEMA_VERSION])


def test_bad_or_unreachable_url_is_one_line_and_exit_2(capsys, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    for url, message in (
        ("postgresql://kabar:secret@127.0.0.1:1/kabar", "cannot connect to PostgreSQL"),
        ("postgresql://kabar@127.0.0.1:5432/kabar?sslmode=bogus", "invalid sslmode value"),
        ("mysql://x/y", "'store.url' must be a postgresql:// URL"),
    ):
        config.write_text(f'[store]\nurl = "{url}"\n')
        assert main(["keywords", "list", "--config", str(config)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("kabar: error: ") and message in err, err
        assert len(err.strip().splitlines()) == 1 and "secret" not in err


def test_env_url_selects_postgresql(capsys, tmp_path, pg_server, monkeypatch) -> None:
    server = need_pg(pg_server)
    name, url = server.fresh()
    try:
        config = tmp_path / "config.toml"
        config.write_text('keywords = ["Kim", "rudal"]\n')
        monkeypatch.setenv("KABAR_DATABASE_URL", url)
        assert main(["keywords", "list", "--config", str(config)]) == 0
        assert "rudal" in capsys.readouterr().out
        assert not (tmp_path / "kabar.db").exists()  # nothing went to the SQLite file
        store = open_store(url)
        assert [k.query for k in store.keywords.all()] == ["Kim", "rudal"]
        store.close()
    finally:
        server.release(name)


def sqlite_store_with_data(path: Path):
    db = open_store(path)
    db.keywords.seed(["Kim", "rudal"])
    db.feeds.seed([("https://example.com/rss", "Contoh", 300)])
    queue(db, 7, 3)
    db.outbox.mark_sent(db.outbox.claim_due(1)[0].id, "m1")
    db.audit.record("cli:test", "note", "x")
    return db


def test_store_copy_is_resumable_and_verified_by_counts(
    capsys, tmp_path: Path, pg_server, monkeypatch
) -> None:
    import store.copy as copy

    server = need_pg(pg_server)
    name, url = server.empty()
    try:
        sqlite_store_with_data(tmp_path / "kabar.db").close()
        config = tmp_path / "config.toml"
        config.write_text('[store]\npath = "kabar.db"\n')
        monkeypatch.setattr(copy, "BATCH", 2)
        calls = []

        def interrupted(table: str, rows: int) -> None:
            calls.append(table)
            if table == "outbox" and rows >= 4:
                raise OSError("connection reset")  # a copy cut off half-way through outbox

        monkeypatch.setattr(copy, "copy_table", _with_progress(copy.copy_table, interrupted))
        assert main(["store", "copy", "--to", url, "--config", str(config)]) == 2
        err = capsys.readouterr().err
        assert "copying outbox: connection reset (run the copy again to resume)" in err
        monkeypatch.undo()
        monkeypatch.setattr(copy, "BATCH", 2)
        assert main(["store", "copy", "--to", url, "--config", str(config)]) == 0
        out = capsys.readouterr().out
        assert "outbox: 21 rows (17 copied now)" in out  # 4 were there: resumed, not doubled
        assert "articles: 7 rows (0 copied now)" in out
        assert "every table's row count matches" in out
        target = open_store(url)
        assert [k.query for k in target.keywords.all()] == ["Kim", "rudal"]
        source = open_store(tmp_path / "kabar.db")
        assert target.outbox.counts() == source.outbox.counts()
        assert target.outbox.counts()["sent"] >= 1
        source.close()
        assert [a.title for a in target.articles.search("Pyongyang")][:1] == ["Berita 6"]
        assert target.meta.get("keywords_seeded") is not None
        # the identities continue after the copied ids
        assert target.keywords.add("Seoul", "cli:test").id == 3  # type: ignore[union-attr]
        target.close()
    finally:
        server.drop(name)


def _with_progress(real, progress):
    def copy_table(source, target, table, _progress):
        return real(source, target, table, progress)

    return copy_table


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_sqlite_style_sql_and_portable_ddl_run_on_postgresql(db, backend: str) -> None:
    """What a later migration and its queries may use, written once in SQLite style."""
    from store.pg_schema import ddl

    for statement in (
        "CREATE TABLE portable_rows (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, at REAL,"
        " note TEXT NOT NULL DEFAULT '')",
        "ALTER TABLE chats ADD COLUMN digest_hour INTEGER",
        "CREATE UNIQUE INDEX portable_chat ON portable_rows(chat_id) WHERE at IS NOT NULL",
    ):
        db.conn.execute(ddl(statement))
    first = db.conn.execute("INSERT INTO portable_rows (chat_id, at) VALUES (?, ?)", [7, 1.5])
    assert first.lastrowid == 1
    again = db.conn.execute(
        "INSERT OR IGNORE INTO portable_rows (chat_id, at) VALUES (?, ?)", [7, 2.5]
    )
    assert again.rowcount == 0
    db.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", ["k", "a"])
    db.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", ["k", "50%"])
    assert db.meta.get("k") == "50%"
    rows = db.conn.execute(
        "SELECT max(at, ?), note FROM portable_rows WHERE note LIKE '%' LIMIT ?", [2.0, -1]
    ).fetchall()
    assert rows == [(2.0, "")]
    assert db.conn.execute("SELECT total(at), total(at > 9) FROM portable_rows").fetchone() == (
        1.5,
        0,
    )
    with pytest.raises(ValueError, match="OVERRIDES"):
        ddl("CREATE VIRTUAL TABLE x USING fts5(a)")
