"""Shared fixtures: one real, migrated SQLite database file per test (sqlite-utils' `fresh_db`
habit), and hypothesis settings that make CI runs reproducible."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlite_utils import Database

from store import open_store

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
def db(db_path: Path) -> Iterator[Database]:
    """A fresh, migrated database file. Every store operation commits or rolls back: a test
    that leaves a transaction open on it fails at teardown."""
    database = open_store(db_path)
    yield database
    assert not database.conn.in_transaction, "a store operation left a transaction open"
    database.close()


@pytest.fixture
def connect(db_path: Path) -> Iterator[Callable[[], Database]]:
    """Open further connections to the test's database file (a second instance), each closed
    at teardown."""
    opened: list[Database] = []

    def _connect() -> Database:
        opened.append(open_store(db_path))
        return opened[-1]

    yield _connect
    for database in opened:
        database.close()
