"""Read-only commands off the event loop, for every adapter (Telegram, Slack).

``latest`` and ``search`` may scan up to ``LATEST_SCAN`` articles (``latest KW`` re-matches
them all: ~0.5 s for 2,000). On the event loop that would hold up delivery, Slack
acknowledgements and every other chat, so they run in a worker thread on a read-only store
of their own (``Store.reader()``; the SQLite store's WAL lets it read while the loop writes).
A store that cannot be shared (in memory) runs the command on the loop.
"""

from __future__ import annotations

import asyncio
import logging

from handlers.commands import CommandContext, Reply, Settings, execute, parse_command
from store import OperationError, Store

log = logging.getLogger("kabar.commands")

OFF_LOOP_VERBS: frozenset[str] = frozenset({"latest", "search"})  # read-only, scan articles


def runs_off_loop(text: str) -> bool:
    """Whether the command in ``text`` is one of the slow, read-only verbs."""
    return parse_command(text)[0] in OFF_LOOP_VERBS


async def run_off_loop(db: Store, ctx: CommandContext, text: str, settings: Settings) -> Reply:
    """Run a read-only command in a worker thread on a reader of ``db`` (on the loop for a
    store that has none, or if the reader cannot be opened)."""
    if db.path:
        try:
            return await asyncio.to_thread(_execute_read_only, db, ctx, text, settings)
        except OperationError:
            log.exception("read-only command failed on a second connection; retrying inline")
    return execute(db, ctx, text, settings)


def _execute_read_only(db: Store, ctx: CommandContext, text: str, settings: Settings) -> Reply:
    reader = db.reader()
    if reader is None:  # not reached: only a store with a path is read off the loop
        raise OperationError("the store has no reader")
    try:
        return execute(reader, ctx, text, settings)
    finally:
        reader.close()
