"""Read-only commands off the event loop, for every adapter (Telegram, Slack).

``latest`` and ``search`` may scan up to ``LATEST_SCAN`` articles (``latest KW`` re-matches
them all: ~0.5 s for 2,000). On the event loop that would hold up delivery, Slack
acknowledgements and every other chat, so they run in a worker thread on a read-only
connection of their own (``PRAGMA query_only``; WAL lets it read while the loop writes). An
in-memory database cannot be shared across connections: the command runs on the loop there.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from sqlite_utils import Database

from handlers.commands import CommandContext, Reply, Settings, execute, parse_command

log = logging.getLogger("kabar.commands")

OFF_LOOP_VERBS: frozenset[str] = frozenset({"latest", "search"})  # read-only, scan articles
READ_TIMEOUT_SECONDS = 10.0


def runs_off_loop(text: str) -> bool:
    """Whether the command in ``text`` is one of the slow, read-only verbs."""
    return parse_command(text)[0] in OFF_LOOP_VERBS


async def run_off_loop(
    db: Database, ctx: CommandContext, text: str, settings: Settings
) -> Reply:
    """Run a read-only command in a worker thread on its own connection to ``db``'s file (on
    the loop for an in-memory database, or if a second connection cannot be opened)."""
    path = database_file(db)
    if path:
        try:
            return await asyncio.to_thread(_execute_read_only, path, ctx, text, settings)
        except sqlite3.Error:
            log.exception("read-only command failed on a second connection; retrying inline")
    return execute(db, ctx, text, settings)


def _execute_read_only(path: str, ctx: CommandContext, text: str, settings: Settings) -> Reply:
    conn = sqlite3.connect(path, timeout=READ_TIMEOUT_SECONDS)
    try:
        conn.execute("PRAGMA query_only = ON")
        return execute(Database(conn), ctx, text, settings)
    finally:
        conn.close()


def database_file(db: Database) -> str:
    """The main database's file name ("" for an in-memory database)."""
    for _seq, name, file in db.conn.execute("PRAGMA database_list"):
        if name == "main":
            return file or ""
    return ""
