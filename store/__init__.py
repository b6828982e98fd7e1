"""SQLite storage (through sqlite-utils). The only package that writes SQL."""

from store.db import StoreError, integrity_ok, open_db, transaction

__all__ = ["StoreError", "integrity_ok", "open_db", "transaction"]
