"""Audit log: who changed what, when."""

from __future__ import annotations

from sqlite_utils import Database

from store.clock import now_db
from store.models import AuditEntry


def record_audit(db: Database, actor: str, action: str, detail: str = "") -> None:
    """Append one row; call inside the transaction that makes the change."""
    db.table("audit").insert({"at": now_db(), "actor": actor, "action": action, "detail": detail})


def audit_entries(db: Database, limit: int = 100) -> list[AuditEntry]:
    rows = db.conn.execute(
        "SELECT at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?", [limit]
    )
    return [AuditEntry(*row) for row in rows]
