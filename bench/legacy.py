"""The ingest path's previous language detector and dedup normaliser, kept only so the benchmarks
can measure the old path side by side with the current one (never imported by ``bot``).

* ``detect_language``: langdetect (55 profiles, seeded, id + ms summed, 0.70 floor, caps-only
  text lower-cased), as ``bot/ingest/lang.py`` was before CLD2 replaced it.
* ``normalise_for_hash`` / ``content_hash``: the ``unicodedata.category`` character loop, as
  ``bot/ingest/clean.py`` had it (same output as the current ``str.translate`` version).

langdetect is installed with the ``test`` extra (``pip install -e ".[test]"``).
"""

from __future__ import annotations

import hashlib
import threading
import unicodedata
from functools import lru_cache
from typing import Any

from bot.ingest.clean import _INVISIBLE_RE

CONFIDENCE_FLOOR = 0.70
MIN_LETTERS = 20
CAPS_SHARE = 0.6
_INDONESIAN_CODES = ("id", "ms")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _factory() -> Any:
    from langdetect import DetectorFactory
    from langdetect.detector_factory import PROFILES_DIRECTORY

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    return factory


def _probabilities(text: str) -> dict[str, float]:
    with _lock:
        factory = _factory()
    detector = factory.create()
    detector.append(text)
    return {lang.lang: lang.prob for lang in detector.get_probabilities()}


def detect_language(text: str) -> tuple[str, float]:
    """The old detector: ("id" | "en" | "other", confidence in 0..1)."""
    from langdetect.lang_detect_exception import LangDetectException

    letters = sum(ch.isalpha() for ch in text)
    if letters < MIN_LETTERS:
        return "other", 0.0
    if sum(ch.isupper() for ch in text) > CAPS_SHARE * letters:
        text = text.lower()
    try:
        probs = _probabilities(text)
    except LangDetectException:
        return "other", 0.0
    scores = {
        "id": sum(probs.get(code, 0.0) for code in _INDONESIAN_CODES),
        "en": probs.get("en", 0.0),
    }
    lang = max(scores, key=lambda key: scores[key])
    if scores[lang] >= CONFIDENCE_FLOOR:
        return lang, round(min(scores[lang], 1.0), 4)
    return "other", round(max([*probs.values(), 0.0]), 4)


def normalise_for_hash(text: str) -> str:
    """The old character loop (about 1 ms per 3 KB article)."""
    text = unicodedata.normalize("NFKC", _INVISIBLE_RE.sub("", text)).casefold()
    chars = (" " if unicodedata.category(ch).startswith(("P", "C")) else ch for ch in text)
    return " ".join("".join(chars).split())


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8")).hexdigest()


def claim_due_old(db: Any, limit: int, lease_seconds: float = 120.0) -> list[int]:
    """The delivery claim before the ``outbox_claim`` index (migration 4): the same SELECT
    without it, so SQLite sorts every due row (``USE TEMP B-TREE FOR ORDER BY``) to take
    ``limit``; then the same lease UPDATE. Returns the ids claimed."""
    from store.clock import now_db
    from store.db import transaction

    now = now_db()
    with transaction(db):
        rows = db.conn.execute(
            "SELECT o.id FROM outbox o JOIN chats c ON c.id = o.chat_id"
            " WHERE c.active = 1 AND ((o.status = 'pending' AND o.next_attempt_at <= ?)"
            " OR (o.status = 'sending' AND o.lease_until <= ?))"
            " ORDER BY o.next_attempt_at, o.id LIMIT ?",
            [now, now, limit],
        ).fetchall()
        db.conn.executemany(
            "UPDATE outbox SET status = 'sending', lease_until = ? WHERE id = ?",
            [(now_db(lease_seconds), row[0]) for row in rows],
        )
    return [row[0] for row in rows]


async def matching_pass_old(db: Any) -> int:
    """The previous ``Service._one_pass`` loop: yield to the event loop once per batch of 500
    articles (on count, not on time). Returns the number of articles checked."""
    import asyncio

    from bot.matching.passes import IndexCache, matching_batches

    checked = 0
    for batch in matching_batches(db, 500, index=IndexCache().get(db)):
        checked += batch.checked
        await asyncio.sleep(0)
    return checked
