"""Timestamps as stored: fixed-width UTC ISO-8601 text that sorts in time order.

``to_db`` always writes ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (a four-digit year: ``strftime("%Y")``
writes ``999`` for year 999, which sorts after ``2024`` and which ``strptime`` cannot read).
``from_db`` never raises: a value it cannot read (an older database, a hand edit) is ``None``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# Earliest and latest (ahead of now) publication time taken as real; others are "unknown".
EARLIEST_PUBLISHED = datetime(1970, 1, 2, tzinfo=UTC)  # epoch 0 is a common "no date"
FUTURE_SLACK = timedelta(days=2)  # a wrong time zone or a scheduled post, not year 2999
_STORED_RE = re.compile(
    r"\s*(\d{1,4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?"
    r"\s*(?:Z|[+-]00:?00)?\s*"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond:06d}Z"
    )


def from_db(text: object) -> datetime | None:
    """The stored UTC time, or ``None`` for no value or one that cannot be read."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.strptime(text, FORMAT).replace(tzinfo=UTC)
    except ValueError:
        pass
    match = _STORED_RE.fullmatch(text)  # a short year, no fraction, a space for the T...
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def plausible_published(moment: datetime | None, now: datetime | None = None) -> datetime | None:
    """``moment`` when it can be a real publication time (from 1970-01-02 to two days ahead
    of ``now``), else ``None``: a year-999 or year-2999 date is not news, it is unknown."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    latest = (now or utcnow()) + FUTURE_SLACK
    return moment if EARLIEST_PUBLISHED <= moment <= latest else None


def now_db(offset_seconds: float = 0.0) -> str:
    return to_db(utcnow() + timedelta(seconds=offset_seconds))  # type: ignore[return-value]
