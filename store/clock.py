"""Timestamps as stored: UTC ISO-8601 text that sorts in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(FORMAT)


def from_db(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text, FORMAT).replace(tzinfo=UTC)


def now_db(offset_seconds: float = 0.0) -> str:
    return to_db(utcnow() + timedelta(seconds=offset_seconds))  # type: ignore[return-value]
