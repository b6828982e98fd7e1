"""Prometheus metrics of one `kabar run` process (prometheus-client), in a registry of its own:
nothing is registered in the library's global default registry, so two services (or two
tests) in one process never collide.

Counters: articles ingested (by source type and language), alerts queued, delivered by platform
and outcome (sent / retried / failed / gone), 429 answers by platform, feed polls by result.
Histograms: delivery latency from queue to send (by platform), matching pass duration.
Gauge: outbox depth by status, read from the store when scraped.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.delivery.worker import SendResult
from store.clock import utcnow
from store.models import OutboxItem

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, float("inf"))
PASS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, float("inf"))


class Metrics:
    """The process's metrics; ``render()`` is the /metrics body."""

    def __init__(self, platforms: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.articles = Counter(
            "kabar_articles_ingested", "New articles stored", ["source", "lang"], registry=r
        )
        self.queued = Counter("kabar_alerts_queued", "Alerts queued by matching passes", registry=r)
        self.alerts = Counter(
            "kabar_alerts",
            "Sends recorded, by platform and outcome (sent, retried, failed, gone)",
            ["platform", "outcome"],
            registry=r,
        )
        self.rate_limited = Counter(
            "kabar_rate_limited", "429 answers from a platform", ["platform"], registry=r
        )
        self.latency = Histogram(
            "kabar_delivery_latency_seconds",
            "From queued to sent",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.feed_polls = Counter(
            "kabar_feed_polls", "Feed polls, by result (ok, error)", ["result"], registry=r
        )
        self.match_seconds = Histogram(
            "kabar_matching_pass_seconds",
            "Duration of a matching pass",
            buckets=PASS_BUCKETS,
            registry=r,
        )
        self.outbox = Gauge("kabar_outbox_alerts", "Outbox rows by status", ["status"], registry=r)
        for platform in platforms:  # shown as 0 before the first send
            self.rate_limited.labels(platform)
            for outcome in ("sent", "retried", "failed", "gone"):
                self.alerts.labels(platform, outcome)
        self.feed_polls.labels("ok")
        self.feed_polls.labels("error")

    # ------------------------------------------------------------------ events

    def delivered(self, item: OutboxItem, result: SendResult, outcome: str) -> None:
        """The delivery observer (``bot.delivery.worker.DeliveryObserver``)."""
        self.alerts.labels(item.platform, outcome).inc()
        if result.rate_limited:
            self.rate_limited.labels(item.platform).inc()
        if outcome == "sent" and item.queued_at is not None:
            waited = (utcnow() - item.queued_at).total_seconds()
            self.latency.labels(item.platform).observe(max(0.0, waited))

    def ingested(self, source: str, langs: Iterable[str]) -> None:
        for lang, count in Tally(langs).items():
            self.articles.labels(source, lang).inc(count)

    def matching_pass(self, seconds: float, queued: int) -> None:
        self.match_seconds.observe(seconds)
        self.queued.inc(queued)

    def feed_polled(self, error: str | None) -> None:
        self.feed_polls.labels("error" if error else "ok").inc()

    # ------------------------------------------------------------------ exposition

    def render(self, outbox_counts: Callable[[], dict[str, int]] | None = None) -> bytes:
        """The Prometheus text format; the outbox gauge is read from the store now."""
        if outbox_counts is not None:
            counts = outbox_counts()
            for status in {"pending", "sending", "sent", "failed", "skipped", *counts}:
                self.outbox.labels(status).set(counts.get(status, 0))
        return generate_latest(self.registry)
