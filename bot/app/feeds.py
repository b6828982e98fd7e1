"""Adding a feed (from a chat or the CLI): check the URL, fetch it once, store it and its items.

``add_feed`` fetches the URL with the configured timeout, byte cap and address guard
(``bot.ingest.hosts``) and stores nothing when that fails; the reason comes back as one of
``REASONS`` (for the chat's catalog) with the fetcher's one-line detail. A new feed's items are
stored, but only those published within ``ingest.backfill_hours`` may alert: the others are
marked checked at once (no flood of old news when a feed is added).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.config import Config
from bot.ingest.fetch import FeedState, fetch_feed, make_client
from bot.ingest.hosts import url_problem
from bot.ingest.sources import store_batch
from bot.ingest.urls import without_credentials
from bot.stories.assign import stories_config
from bot.stories.group import GroupConfig
from store import Store
from store.clock import utcnow
from store.models import FeedRow, IngestBatch

# Why a fetch failed, for the reply (catalog key ``feed.reason.<reason>``).
REASONS = ("refused", "http", "timeout", "too_large", "html", "not_feed", "network", "other")


@dataclass(frozen=True)
class FeedOptions:
    """What adding and polling feeds needs from the config."""

    max_bytes: int = 5_000_000
    timeout_seconds: float = 20.0
    allow_private_hosts: bool = False
    backfill_hours: int = 6
    interval_seconds: int = 0  # stored per feed; 0 = schedule.feed_seconds
    feed_seconds: int = 300  # schedule.feed_seconds
    stories: GroupConfig = field(default_factory=GroupConfig)  # [stories]: the grouping window

    @classmethod
    def from_config(cls, config: Config) -> FeedOptions:
        ingest = config.ingest
        return cls(
            max_bytes=ingest.max_bytes,
            timeout_seconds=ingest.timeout_seconds,
            allow_private_hosts=ingest.allow_private_hosts,
            backfill_hours=ingest.backfill_hours,
            feed_seconds=config.schedule.feed_seconds,
            stories=stories_config(config),
        )


@dataclass(frozen=True)
class AddOutcome:
    """``status``: "added", "exists", "invalid" (the URL itself) or "failed" (the fetch)."""

    status: str
    url: str
    feed: FeedRow | None = None
    title: str = ""
    items: int = 0
    new: int = 0  # items stored (not already known)
    alerting: int = 0  # of those, recent enough to alert
    reason: str = ""  # "failed": one of REASONS; "invalid": the problem
    detail: str = ""  # the fetcher's one-line error


def classify(error: str) -> str:
    """The REASONS entry for a fetcher error line."""
    text = error.lower()
    if text.startswith(("refused address", "cannot resolve host")):
        return "refused"
    if text.startswith("http "):
        return "http"
    if text.startswith("timeout"):
        return "timeout"
    if "too large" in text:
        return "too_large"
    if "looks like html" in text:
        return "html"
    if text.startswith(
        ("not a feed", "malformed", "empty", "binary", "invalid utf-8", "unsupported encoding")
    ):
        return "not_feed"
    if text.startswith(("connection failed", "too many redirects")):
        return "network"
    return "other"


@dataclass(frozen=True)
class Probe:
    error: str | None
    batch: IngestBatch = field(default_factory=IngestBatch)
    state: FeedState = field(default_factory=FeedState)


async def probe(url: str, options: FeedOptions) -> Probe:
    """Fetch ``url`` once with the configured limits and guard."""
    async with make_client(allow_private_hosts=options.allow_private_hosts) as client:
        result = await fetch_feed(
            client, url, FeedState(), max_bytes=options.max_bytes, timeout=options.timeout_seconds
        )
    return Probe(result.error, result.batch, result.state)


def is_feed_url(text: str) -> bool:
    """Whether a command argument is meant as a URL (so ``subscribe URL`` is about feeds)."""
    return "://" in text or text.lower().startswith("www.")


async def add_feed(
    db: Store, url: str, name: str, actor: str, options: FeedOptions, chat_id: int | None = None
) -> AddOutcome:
    """Check, fetch once and store a feed (see the module docstring)."""
    url = url.strip()
    problem = url_problem(url)
    if problem is not None:
        return AddOutcome("invalid", url, reason=problem)
    existing = db.feeds.get(url)
    if existing is not None:
        return AddOutcome("exists", url, feed=existing)
    got = await probe(url, options)
    if got.error is not None:
        return AddOutcome("failed", url, reason=classify(got.error), detail=got.error)
    title = got.batch.title
    items = len(got.batch.articles) + len(got.batch.rejected)
    with db.transaction():
        feed = db.feeds.add(
            url, " ".join(name.split()) or title, options.interval_seconds, actor, chat_id
        )
        if feed is None:  # added meanwhile (another chat, the CLI)
            return AddOutcome("exists", url, feed=db.feeds.get(url))
        new, alerting = store_backfill(db, got.batch, options.backfill_hours, options.stories)
        db.feeds.record_poll(
            url,
            etag=got.state.etag,
            last_modified=got.state.last_modified,
            error=None,
            next_in_seconds=options.interval_seconds or options.feed_seconds,
        )
    return AddOutcome(
        "added",
        url,
        feed=db.feeds.get(url) or feed,
        title=title,
        items=items,
        new=new,
        alerting=alerting,
    )


def store_backfill(
    db: Store, batch: IngestBatch, backfill_hours: int, stories: GroupConfig | None = None
) -> tuple[int, int]:
    """Store a new feed's items; those published before the last ``backfill_hours`` (or with
    no date) are marked checked so they never alert. (stored, may alert)."""
    with db.transaction():
        report = store_batch(db, batch, stories) if batch.articles else None
        if report is None or not report.new_ids:
            return 0, 0
        cutoff = utcnow() - timedelta(hours=backfill_hours)
        stored = db.articles.get_many(report.new_ids)
        old = [i for i, a in stored.items() if a.published is None or a.published < cutoff]
        if old:
            db.outbox.record_matches(old, [])
    return len(report.new_ids), len(report.new_ids) - len(old)


def first_poll_backfills(feed: FeedRow | None) -> bool:
    """A feed added from a chat, the CLI or an OPML file that was never fetched successfully:
    its first poll stores the backlog without alerting it (a config feed alerts as before)."""
    return feed is not None and feed.last_ok_at is None and feed.added_by not in ("", "config")


def feed_origin(url: str) -> str:
    """The ``origin`` a feed's articles are stored with."""
    return without_credentials(url)
