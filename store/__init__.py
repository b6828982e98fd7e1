"""SQLite storage (through sqlite-utils). The only package that writes SQL."""

from store.db import (
    StoreError,
    check_alive,
    damaged,
    db_file,
    integrity_ok,
    is_corrupt,
    open_db,
    transaction,
)

__all__ = ["StoreError", "check_alive", "damaged", "db_file", "integrity_ok", "is_corrupt",
           "open_db", "transaction"]
