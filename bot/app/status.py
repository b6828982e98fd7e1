"""`kabar status`: what an operator needs at a glance, and whether anything needs attention.

Pure: it takes the config, the store's report (``Store.status()``) and the platform probes,
and returns the report as data (``--json``) and as text; each problem is one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.app.service import PASS_AT, PASS_CHECKED, PASS_SECONDS
from bot.config import Config
from bot.ingest.urls import redact_url
from store.clock import from_db, utcnow
from store.models import StoreStatus

STALE_INTERVALS = 3  # no matching pass within this many check intervals: attention
PENDING_ATTENTION_SECONDS = 15 * 60  # an alert waiting longer than this (and 3 intervals)
PLATFORMS = ("telegram", "slack")


@dataclass
class StatusReport:
    data: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


def ago(seconds: float | None) -> str:
    """``42 s``, ``5 min``, ``3 h``, ``2 d`` (rounded down)."""
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def size_text(size: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _age(moment: datetime | None, now: datetime) -> float | None:
    return (now - moment).total_seconds() if moment else None


def build_status(
    config: Config,
    store: StoreStatus,
    probes: dict[str, tuple[bool, str]] | None,
    *,
    version: str,
    database: str,
    now: datetime | None = None,
) -> StatusReport:
    """The report. ``probes`` None: platforms were not checked (``--offline``)."""
    now = now or utcnow()
    problems: list[str] = []
    check = config.schedule.check_seconds

    platforms: dict[str, Any] = {}
    enabled = {"telegram": config.telegram_enabled, "slack": config.slack_enabled}
    for name in PLATFORMS:
        if not enabled[name]:
            platforms[name] = {"configured": False, "reachable": None, "detail": ""}
            continue
        if probes is None:
            platforms[name] = {"configured": True, "reachable": None, "detail": "not checked"}
            continue
        reachable, detail = probes.get(name, (False, "not checked"))
        platforms[name] = {"configured": True, "reachable": reachable, "detail": detail}
        if not reachable:
            problems.append(f"{name}: {detail}")
    if not any(enabled.values()):
        problems.append(
            "no platform configured ([telegram] token or [slack] bot_token):"
            " alerts are queued but not sent"
        )

    feeds = []
    for feed in store.feeds:
        url = redact_url(feed.url)
        feeds.append(
            {
                "url": url,
                "name": feed.name,
                "failures": feed.failures,
                "last_error": feed.last_error,
                "last_polled": _iso(feed.last_polled_at),
                "last_ok": _iso(feed.last_ok_at),
                "next_poll": _iso(feed.next_poll_at),
            }
        )
        if feed.failures:
            problems.append(
                f"feed {feed.name or url}: failed {feed.failures} time(s) in a row,"
                f" last ok {ago(_age(feed.last_ok_at, now))} ago:"
                f" {feed.last_error or 'error'}"
            )

    pending_age = _age(store.oldest_pending, now)
    if pending_age is not None and pending_age > max(
        PENDING_ATTENTION_SECONDS, STALE_INTERVALS * check
    ):
        problems.append(f"outbox: the oldest waiting alert was queued {ago(pending_age)} ago")
    failed = store.outbox.get("failed", 0)
    if failed:
        problems.append(f"outbox: {failed} alert(s) failed for good (status 'failed')")

    last_at = from_db(store.meta.get(PASS_AT))
    last_age = _age(last_at, now)
    seconds = store.meta.get(PASS_SECONDS)
    if last_age is None:
        problems.append("matching: no pass recorded yet (is `kabar run` running?)")
    elif last_age > STALE_INTERVALS * check:
        problems.append(
            f"matching: the last pass was {ago(last_age)} ago, expected every"
            f" {check} s (is `kabar run` running?)"
        )

    data = {
        "version": version,
        "healthy": not problems,
        "problems": problems,
        "database": {
            "path": database,
            "size_bytes": store.size_bytes,
            "schema_version": store.schema_version,
        },
        "platforms": platforms,
        "chats": {p: {"active": a, "inactive": i} for p, (a, i) in store.chats.items()},
        "keywords": store.keywords,
        "feeds": feeds,
        "outbox": {
            "counts": dict(store.outbox),
            "oldest_pending": _iso(store.oldest_pending),
            "oldest_pending_age_seconds": pending_age,
        },
        "last_match": {
            "at": _iso(last_at),
            "age_seconds": last_age,
            "seconds": float(seconds) if seconds else None,
            "checked": int(store.meta.get(PASS_CHECKED) or 0),
        },
    }
    return StatusReport(data, problems)


def status_text(report: StatusReport) -> str:
    d = report.data
    db = d["database"]
    lines = [
        f"kabar {d['version']}: database {db['path']} ({size_text(db['size_bytes'])},"
        f" schema version {db['schema_version']})"
    ]
    parts = []
    for name, p in d["platforms"].items():
        if not p["configured"]:
            parts.append(f"{name} not configured")
        else:
            parts.append(f"{name} {p['detail']}")
    lines.append("platforms: " + "; ".join(parts))
    chats = [f"{p} {c['active']} active, {c['inactive']} inactive" for p, c in d["chats"].items()]
    lines.append("chats: " + ("; ".join(chats) or "none"))
    lines.append(f"keywords: {d['keywords']}")
    lines.append(f"feeds: {len(d['feeds'])}")
    now = utcnow()
    for f in d["feeds"]:
        last_ok = (
            ago(_age(datetime.fromisoformat(f["last_ok"]), now)) + " ago"
            if f["last_ok"]
            else "never"
        )
        due = datetime.fromisoformat(f["next_poll"]) if f["next_poll"] else None
        next_poll = f"in {ago(-(_age(due, now) or 0.0))}" if due else "at start"
        label = f"{f['name']} {f['url']}" if f["name"] else f["url"]
        lines.append(
            f"  {label}: last ok {last_ok}, failures {f['failures']}, next poll {next_poll}"
        )
    counts = d["outbox"]["counts"]
    outbox = ", ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "empty"
    oldest = d["outbox"]["oldest_pending_age_seconds"]
    lines.append(
        f"outbox: {outbox}" + (f"; oldest pending {ago(oldest)} ago" if oldest is not None else "")
    )
    m = d["last_match"]
    if m["at"]:
        took = f", took {m['seconds']:.2f} s" if m["seconds"] is not None else ""
        lines.append(
            f"last matching pass: {ago(m['age_seconds'])} ago ({m['at']}){took},"
            f" {m['checked']} article(s) checked"
        )
    else:
        lines.append("last matching pass: none recorded")
    if report.problems:
        lines.append("needs attention:")
        lines.extend(f"  - {problem}" for problem in report.problems)
    else:
        lines.append("healthy")
    return "\n".join(lines)
