"""The outbox with stories, at the store seam: one first message per (story, chat), later rows
claimed as one edit behind it, edits of one message never in flight twice, and a later row
taking over when the first message was refused or removed by retention."""

from __future__ import annotations

from dataclasses import replace

from bot.ingest.dedup import save_articles
from store.models import Queued
from tests.support import eval_article


def setup(db, *keys: str) -> tuple[int, list[int]]:
    ids = save_articles(db, [replace(eval_article(k), url="") for k in keys]).new_ids
    chat = db.chats.ensure("telegram", "77", "id")
    return chat.id, ids


def queue(db, chat_id: int, *ids: int) -> None:
    db.outbox.record_matches(ids, [Queued(i, chat_id, ("Kim",)) for i in ids])


def rows(db) -> list[tuple]:
    return db.conn.execute("SELECT id, kind, head_id, status FROM outbox ORDER BY id").fetchall()


def test_rows_queued_before_the_first_message_goes_ride_with_it(db) -> None:
    chat, (a, b, c) = setup(db, "s01a", "s01b", "s01c")
    queue(db, chat, a, b, c)
    [item] = db.outbox.claim_due(10)
    assert item.kind == "send" and len(item.row_ids) == 3
    db.outbox.mark_sent(item.id, "m1")
    assert {r[3] for r in rows(db)} == {"sent"}
    assert db.conn.execute("SELECT DISTINCT message_id FROM outbox").fetchall() == [("m1",)]


def test_edits_of_one_message_are_never_in_flight_twice(db, connect) -> None:
    chat, (a, b, c) = setup(db, "s01a", "s01b", "s01c")
    queue(db, chat, a)
    [head] = db.outbox.claim_due(10)
    db.outbox.mark_sent(head.id, "m1")
    queue(db, chat, b)
    other = connect()
    [edit] = other.outbox.claim_due(10)
    assert edit.kind == "edit" and edit.head_message_id == "m1"
    queue(db, chat, c)  # arrives while the edit is in flight in the other instance
    assert db.outbox.claim_due(10) == []
    other.outbox.mark_sent(edit.id, "m1")
    [again] = db.outbox.claim_due(10)
    assert again.kind == "edit" and again.article_id == c


def test_a_refused_first_message_hands_over_to_a_later_article(db) -> None:
    chat, (a, b) = setup(db, "s01a", "s01b")
    queue(db, chat, a)
    [head] = db.outbox.claim_due(10)
    db.outbox.mark_failed(head.id, "message is too long")
    queue(db, chat, b)
    assert db.outbox.claim_due(10) == []  # handed over; claimed as a first message next
    [item] = db.outbox.claim_due(10)
    assert item.kind == "send" and item.article_id == b and item.head_id is None


def test_a_first_message_removed_by_retention_does_not_strand_later_articles(db) -> None:
    chat, (a, b) = setup(db, "s01a", "s01b")
    queue(db, chat, a)
    [head] = db.outbox.claim_due(10)
    db.outbox.mark_sent(head.id, "m1")
    queue(db, chat, b)
    db.conn.execute("DELETE FROM outbox WHERE id = ?", [head.id])  # as delete_sent_older_than
    db.outbox.claim_due(10)
    [item] = db.outbox.claim_due(10)
    assert item.kind == "send" and item.article_id == b


def test_a_refused_edit_becomes_one_reply(db) -> None:
    chat, (a, b, c) = setup(db, "s01a", "s01b", "s01c")
    queue(db, chat, a)
    [head] = db.outbox.claim_due(10)
    db.outbox.mark_sent(head.id, "m1")
    queue(db, chat, b, c)
    [edit] = db.outbox.claim_due(10)
    assert len(edit.row_ids) == 2
    db.outbox.to_reply(edit.id, "message can't be edited")
    [reply] = db.outbox.claim_due(10)
    assert reply.kind == "reply" and len(reply.row_ids) == 2 and reply.head_message_id == "m1"
