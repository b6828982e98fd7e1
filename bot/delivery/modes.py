"""Delivery modes, the pure part: parsing the verbs' arguments, quiet hours, pauses and when a
chat's digest is due, all in the chat's local time. No I/O; ``now`` is always passed in (tests
use a fake clock).

A chat *holds* its alerts (they wait in the store instead of going at once) while it is in a
digest mode, inside its quiet hours or paused.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from store.models import Chat

DIGEST_MODES = ("off", "hourly", "daily")
DEFAULT_DIGEST_AT = "07:00"
MAX_PAUSE_HOURS = 24 * 90  # `pause 100000` is refused: at most 90 days
DEFAULT_PAUSE_HOURS = 24
# Indonesia's zones by their Indonesian names; any IANA name works too
ZONE_ALIASES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
_HHMM_RE = re.compile(r"(\d{1,2})[:.](\d{2})")
_IANA_RE = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}")


def parse_hhmm(text: str) -> str | None:
    """``"7:00"``, ``"07.00"`` -> ``"07:00"``; None for anything that is not a time of day."""
    match = _HHMM_RE.fullmatch(text.strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def parse_range(text: str) -> tuple[str, str] | None:
    """``"22:00-06:00"`` -> ``("22:00", "06:00")`` (may span midnight); None when malformed or
    empty (start == end)."""
    parts = text.replace("–", "-").split("-")
    if len(parts) != 2:
        return None
    start, end = parse_hhmm(parts[0]), parse_hhmm(parts[1])
    if start is None or end is None or start == end:
        return None
    return start, end


def parse_zone(text: str) -> str | None:
    """``WIB`` / ``WITA`` / ``WIT`` or an IANA name (``Asia/Makassar``) -> the IANA name;
    None when zoneinfo does not know it."""
    text = text.strip()
    alias = ZONE_ALIASES.get(text.upper())
    if alias:
        return alias
    if not _IANA_RE.fullmatch(text):
        return None
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return text


def parse_hours(text: str) -> int | None:
    """A pause length: a whole number of hours from 1 to MAX_PAUSE_HOURS, else None."""
    text = text.strip().lower().removesuffix("h")
    if not text.isdigit():
        return None
    hours = int(text)
    return hours if 1 <= hours <= MAX_PAUSE_HOURS else None


def zone_of(chat: Chat, default: str) -> str:
    return chat.timezone or default


def _minutes(hhmm: str) -> int:
    hour, minute = hhmm.split(":")
    return int(hour) * 60 + int(minute)


def in_quiet(start: str | None, end: str | None, local: datetime) -> bool:
    """Whether the local time is inside quiet hours ``[start, end)`` (across midnight when
    ``start`` > ``end``)."""
    if not start or not end:
        return False
    now, lo, hi = local.hour * 60 + local.minute, _minutes(start), _minutes(end)
    if lo < hi:
        return lo <= now < hi
    return now >= lo or now < hi


def is_paused(chat: Chat, now: datetime) -> bool:
    return chat.paused_until is not None and chat.paused_until > now


def pause_ended(chat: Chat, now: datetime) -> bool:
    return chat.paused_until is not None and chat.paused_until <= now


def wants_hold(chat: Chat, now: datetime, zone: str) -> bool:
    """Whether the chat's new alerts should wait instead of going at once."""
    if chat.digest != "off" or is_paused(chat, now):
        return True
    return in_quiet(chat.quiet_start, chat.quiet_end, now.astimezone(ZoneInfo(zone)))


def last_boundary(mode: str, at: str, zone: str, now: datetime) -> datetime:
    """The latest digest time at or before ``now`` (UTC): the start of the local hour
    (hourly) or today's / yesterday's ``at`` (daily)."""
    local = now.astimezone(ZoneInfo(zone))
    if mode == "hourly":
        boundary = local.replace(minute=0, second=0, microsecond=0)
    else:
        hour, minute = (int(x) for x in at.split(":"))
        boundary = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if boundary > local:
            boundary = (local - timedelta(days=1)).replace(
                hour=hour, minute=minute, second=0, microsecond=0
            )
    return boundary.astimezone(UTC)


def digest_due(chat: Chat, zone: str, now: datetime) -> datetime | None:
    """The digest time that is due for the chat (it passed since the chat's last digest; one
    missed while the bot was down is due at start), else None."""
    if chat.digest not in ("hourly", "daily"):
        return None
    boundary = last_boundary(chat.digest, chat.digest_at, zone, now)
    if chat.last_digest_at is not None and chat.last_digest_at >= boundary:
        return None
    return boundary


def next_digest(chat: Chat, zone: str, now: datetime) -> datetime | None:
    """When the chat's next digest goes (UTC), for ``list``."""
    if chat.digest not in ("hourly", "daily"):
        return None
    step = timedelta(hours=1) if chat.digest == "hourly" else timedelta(days=1)
    boundary = last_boundary(chat.digest, chat.digest_at, zone, now)
    local = (boundary.astimezone(ZoneInfo(zone)) + step).replace(tzinfo=None)
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
