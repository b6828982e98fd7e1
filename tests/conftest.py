"""Shared fixtures: one real, migrated SQLite database file per test (sqlite-utils' `fresh_db`
habit) -- or, for the store, delivery, command and reliability tests, also one PostgreSQL
database per test (the `backend` parameter) --, the fake Telegram Bot API with Kabar wired to
it, and hypothesis settings that make CI runs reproducible."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings
from sqlite_utils import Database

from store import open_store

if TYPE_CHECKING:
    from tests.fakes.telegram_api import FakeTelegram
    from tests.pg import PgServer as PgServerType
    from tests.test_telegram import Kabar

# CI runs the same examples every time (derandomised, no example database); a developer's run
# keeps exploring new ones.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's database file lives (a second connection may open it too)."""
    return tmp_path / "kabar.db"


@pytest.fixture
def db(db_location: str) -> Iterator[Database]:
    """A fresh, migrated database (a file; a PostgreSQL database for a test of BOTH_BACKENDS
    run with backend "postgresql"). Every store operation commits or rolls back: a test that
    leaves a transaction open on it fails at teardown."""
    database = open_store(db_location)
    yield database
    assert not database.conn.in_transaction, "a store operation left a transaction open"
    database.close()


@pytest.fixture
def connect(db_location: str) -> Iterator[Callable[[], Database]]:
    """Open further connections to the test's database (a second instance), each closed
    at teardown."""
    opened: list[Database] = []

    def _connect() -> Database:
        opened.append(open_store(db_location))
        return opened[-1]

    yield _connect
    for database in opened:
        database.close()


# --- both backends ---------------------------------------------------------------------------
# The tests of these modules that use `db` / `connect` / `db_location` / `backend` run on SQLite
# and on PostgreSQL (a real server started once per session, tests/pg.py); a test marked
# `sqlite_only` (a file, a PRAGMA) runs on SQLite only.
BOTH_BACKENDS = {
    "test_store",
    "test_delivery",
    "test_commands",
    "test_reliability",
    "test_pacing",
    "test_claim_order",
    "test_stories_outbox",
    "test_stories_store",
    "test_scale",
    "test_modes",
    "test_digest",
    "test_modes_paths",
    "test_blocked",
    "test_buttons",
    "test_topics",
    "test_pause_button",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): runs on the SQLite store only")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if (
        "backend" in metafunc.fixturenames
        and module in BOTH_BACKENDS
        and metafunc.definition.get_closest_marker("sqlite_only") is None
        and not any(
            "backend" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize")
        )
    ):
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The store the test runs on: "sqlite", or "postgresql" (see BOTH_BACKENDS)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """The session's PostgreSQL server, or the reason it could not start (a str)."""
    from tests.pg import PgServer

    server = PgServer()
    try:
        server.start()
    except Exception as exc:  # no binaries, no port, ...: the tests that need it say why
        with contextlib.suppress(Exception):
            server.stop()
        yield f"PostgreSQL could not start: {exc}"
        return
    yield server
    server.stop()


def need_pg(pg_server: object) -> PgServerType:
    """The server, or fail (CI) / skip (elsewhere) the test with the reason it is missing."""
    if isinstance(pg_server, str):
        if os.environ.get("CI"):
            pytest.fail(pg_server)
        pytest.skip(pg_server)
    return pg_server  # type: ignore[return-value]


@pytest.fixture
def db_location(backend: str, db_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """Where the test's database lives: the file path, or a fresh PostgreSQL database's URL."""
    if backend == "sqlite":
        yield str(db_path)
        return
    server = need_pg(request.getfixturevalue("pg_server"))
    name, url = server.fresh()
    yield url
    server.release(name)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A fake Telegram Bot API on 127.0.0.1 (a module testing another platform's fake
    defines its own ``fake``)."""
    from tests.fakes.telegram_api import FakeTelegram
    from tests.test_telegram import TOKEN, USERNAME

    server = await FakeTelegram(TOKEN, USERNAME).start()
    yield server
    await server.stop()


@pytest.fixture
async def kabar(fake: FakeTelegram, tmp_path: Path, db_location: str) -> AsyncIterator[Kabar]:
    """Kabar on the test's store, its real Telegram platform talking to ``fake``."""
    from tests.test_telegram import start_kabar

    bot = await start_kabar(fake, tmp_path, location=db_location)
    yield bot
    await bot.close()
