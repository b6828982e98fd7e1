"""claim_due takes the oldest due rows through the outbox_claim index, never sorting them all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.ingest.dedup import save_articles
from store import open_store
from store.models import ArticleIn, Queued
from store.schema import SCHEMA_VERSION

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def test_claim_plan_reads_the_index_in_order(tmp_path: Path) -> None:
    import store.outbox as outbox

    db = open_store(tmp_path / "k.db")
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    seen: list[str] = []
    real_execute = db.conn.execute

    class Spy:
        def __init__(self, conn: object) -> None:
            self.conn = conn

        def execute(self, sql: str, params: object = ()) -> object:
            if sql.startswith("SELECT o.id"):
                plan = real_execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
                seen.extend(row[3] for row in plan)
            return real_execute(sql, params)

        def __getattr__(self, name: str) -> object:
            return getattr(real_execute.__self__, name)

    class Db:
        conn = Spy(None)

    outbox.claim_due(Db(), 10)  # type: ignore[arg-type]
    assert any("USING INDEX outbox_claim" in step for step in seen), seen
    assert not any("TEMP B-TREE" in step for step in seen), seen


def test_claims_oldest_due_first_and_takes_back_expired_leases(tmp_path: Path) -> None:
    db = open_store(tmp_path / "k.db")
    chats = [db.chats.ensure("telegram", str(n), "id").id for n in range(3)]
    week = timedelta(days=7)  # a week apart: four stories, not one (bot/stories)
    articles = [
        ArticleIn(text=f"Kim Jong Un meninjau rudal nomor {n}.", published=START + n * week)
        for n in range(4)
    ]
    ids = save_articles(db, articles).new_ids
    db.outbox.record_matches(ids, [Queued(a, c, ("Kim",)) for a in ids for c in chats])
    first = db.outbox.claim_due(5, lease_seconds=-1)  # a lease that has already run out
    rows = [(i.article_id, i.chat_id) for i in first]
    assert rows == [(a, c) for a in ids for c in chats][:5]
    again = db.outbox.claim_due(20)
    assert len(again) == 12  # the expired claims come back, with every other due row
    db.chats.set_active(chats[0], False)
    assert db.outbox.claim_due(20, lease_seconds=-1) == []  # all held now
