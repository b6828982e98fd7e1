"""The store: the only package that talks to a database. ``store.base`` is the seam every
implementation offers, ``store.models`` its records, ``store.sqlite`` the embedded SQLite
implementation (sqlite-utils) that ``open_store`` opens."""

from store.base import Store
from store.db import DatabaseError, OperationError, StoreError, damaged, is_corrupt
from store.sqlite import SqliteStore, open_store

__all__ = [
    "DatabaseError",
    "OperationError",
    "SqliteStore",
    "Store",
    "StoreError",
    "damaged",
    "is_corrupt",
    "open_store",
]
