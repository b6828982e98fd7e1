"""The delivery-modes job: hold and release chats' alerts, open digests when they are due, and
send open digests, each alert exactly once.

Run every ``MODES_SECONDS`` from the scheduler (and once at start, so a digest missed while the
bot was down goes then). Per chat with a mode set: a pause that ended is lifted (the chat is
told how many matches it skipped); a due digest period gets its digest (built from the rows
waiting, an empty period sends nothing); a chat that no longer holds (quiet hours over,
``digest off``, resumed) gets what waited as one digest (a single alert goes as a normal alert).

Sending: a claimed digest is rendered once by its platform's sender and its messages stored
(``store.digests``), then sent in order, paced with the alerts; each message is recorded with
the rows it carries in one transaction. When recording fails the record is retried (never the
send). Kill -9 at any point: no row is lost and none is in two digests; the one message in
flight may repeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.alerts.alert import DEFAULT_TIMEZONE
from bot.alerts.digest import Digest, build_digest
from bot.alerts.i18n import t
from bot.delivery.modes import digest_due, pause_ended, wants_hold, zone_of
from bot.delivery.pacing import Pacer, acquire
from bot.delivery.worker import (
    FAILED,
    GONE,
    RECORD_RETRY_FIRST_SECONDS,
    RECORD_RETRY_MAX_SECONDS,
    SENT,
    SendResult,
    backoff_seconds,
)
from store import OperationError, Store
from store.clock import utcnow
from store.models import Chat, DigestClaim, DigestPart

log = logging.getLogger("kabar.digests")

MODES_SECONDS = 15  # the job's period: a digest goes within this of its minute
PREFIXES = {"slack": "/kabar "}  # how commands are written on a platform (default "/")


class DigestSender(Protocol):
    platform: str

    def digest_parts(self, digest: Digest) -> list[DigestPart]: ...

    async def send_digest(self, address: str, payload: str) -> SendResult: ...


@dataclass
class ModesStats:
    opened: int = 0  # digests opened
    parts_sent: int = 0
    released: int = 0  # chats whose alerts go at once again
    resumed: int = 0  # pauses that ended


class DigestRunner:
    def __init__(
        self,
        db: Store,
        senders: Mapping[str, object],
        pacers: Mapping[str, Pacer],
        timezone: str = DEFAULT_TIMEZONE,
        lease_seconds: float = 120.0,
    ) -> None:
        self.db = db
        self.senders = {
            name: sender
            for name, sender in senders.items()
            if hasattr(sender, "send_digest") and hasattr(sender, "digest_parts")
        }
        self.notifiers = senders
        self.pacers = pacers
        self.timezone = timezone
        self.lease_seconds = lease_seconds
        self._lock = asyncio.Lock()

    async def run(self, now: datetime | None = None) -> ModesStats:
        """One pass: every chat's modes, then every open digest. Never twice at once."""
        stats = ModesStats()
        async with self._lock:
            for chat in self.db.chats.with_modes():
                if chat.platform in self.senders:
                    await self._chat(chat, now or utcnow(), stats)
            await self._send_open(stats)
        return stats

    def hold_now(self, now: datetime | None = None) -> int:
        """Chats that should hold their alerts right now (quiet hours just began) but do not
        yet hold: held before a matching pass queues alerts, so no alert goes out in the first
        seconds of quiet hours (this job sees the start up to MODES_SECONDS later). Returns
        the chats held. Releasing stays with the job (it sends what waited as one digest)."""
        now = now or utcnow()
        held = 0
        for chat in self.db.chats.with_modes():
            if not chat.hold and wants_hold(chat, now, zone_of(chat, self.timezone)):
                self.db.chats.set_hold(chat.id, True)
                held += 1
        return held

    async def _chat(self, chat: Chat, now: datetime, stats: ModesStats) -> None:
        zone = zone_of(chat, self.timezone)
        if pause_ended(chat, now):
            skipped = self.db.chats.set_paused_until(chat.id, None)
            stats.resumed += 1
            await self._notify(chat, skipped)
            chat = self.db.chats.get_by_id(chat.id) or chat
        due = digest_due(chat, zone, now)
        if due is not None and self.db.digests.open(chat.id, due, chat.last_digest_at):
            stats.opened += 1
        hold = wants_hold(chat, now, zone)
        if chat.hold and not hold:
            if self.db.chats.waiting_count(chat.id) > 1:
                self.db.digests.open(chat.id, now, chat.last_digest_at)
                stats.opened += 1
            self.db.chats.set_hold(chat.id, False)
            stats.released += 1
        elif hold and not chat.hold:
            self.db.chats.set_hold(chat.id, True)

    async def _notify(self, chat: Chat, skipped: int) -> None:
        """The chat is told its pause is over (best effort: a notice, not an alert)."""
        sender = self.notifiers.get(chat.platform)
        notify = getattr(sender, "notify", None)
        if notify is None:
            return
        prefix = PREFIXES.get(chat.platform, "/")
        text = t(chat.language, "pause.ended", count=skipped, p=prefix)
        try:
            await self._paced(chat.platform, chat.address)
            await notify(chat.address, text)
        except Exception:
            log.exception("telling chat %s its pause ended failed", chat.id)
        finally:
            self._settle(chat.platform, chat.address)

    async def send_open(self, stats: ModesStats | None = None) -> ModesStats:
        """Send the open digests now (after a pass under way, if any)."""
        async with self._lock:
            return await self._send_open(stats or ModesStats())

    async def send_if_idle(self) -> ModesStats:
        """The digests job (every ``deliver_seconds``): open digests go without waiting for the
        modes job, e.g. one a crashed instance held, as soon as its lease ran out. Nothing when
        a pass is under way (it sends them)."""
        if self._lock.locked():
            return ModesStats()
        return await self.send_open()

    async def _send_open(self, stats: ModesStats) -> ModesStats:
        claims = self.db.digests.claim_open(self.lease_seconds, self.senders)
        if not claims:
            return stats
        held = {claim.id for claim in claims}
        keeper = asyncio.create_task(self._keep_leases(held))
        try:
            for claim in claims:
                await self._send(claim, stats)
                held.discard(claim.id)
        except asyncio.CancelledError:
            for digest_id in sorted(held):
                self._release(digest_id)
            raise
        finally:
            keeper.cancel()
        return stats

    async def _keep_leases(self, held: set[int]) -> None:
        """While this instance is alive and sending, the digests it claimed stay leased to it
        (a part waiting for pacing or a slow answer never outlives the lease); after a crash
        they are free again ``lease_seconds`` later."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                self.db.digests.renew_lease(sorted(held), self.lease_seconds)
            except OperationError as exc:
                log.warning("could not renew the lease of %d digests: %s", len(held), exc)

    def _release(self, digest_id: int) -> None:
        try:
            self.db.digests.release(digest_id)
        except OperationError:
            log.warning("could not hand back digest %s (retried when its lease ends)", digest_id)

    async def _send(self, claim: DigestClaim, stats: ModesStats) -> None:
        sender: DigestSender = self.senders[claim.chat.platform]  # type: ignore[assignment]
        parts = list(claim.parts)
        if not parts:
            parts = self.db.digests.set_parts(claim.id, self._render(sender, claim))
        chat = claim.chat
        for part in parts:
            if part.status != "pending":
                continue
            await self._paced(chat.platform, chat.address)
            try:
                result = await sender.send_digest(chat.address, part.payload)
            except Exception as exc:  # a bug or an unexpected library error: retry later
                log.exception("sending digest %s part %s failed", claim.id, part.seq)
                result = SendResult("retry", error=f"{type(exc).__name__}: {exc}")
            finally:
                self._settle(chat.platform, chat.address)
            if not await self._record(claim, part, result, stats):
                return

    def _render(self, sender: DigestSender, claim: DigestClaim) -> list[DigestPart]:
        articles = self.db.articles.get_many({r.article_id for r in claim.rows})
        digest = build_digest(
            claim.rows,
            articles,
            language=claim.chat.language,
            timezone=zone_of(claim.chat, self.timezone),
            at=claim.created_at,
        )
        return sender.digest_parts(digest)

    async def _record(
        self, claim: DigestClaim, part: DigestPart, result: SendResult, stats: ModesStats
    ) -> bool:
        """Record one part's outcome, retrying the record (never the send) while the store
        fails. True: go on with the next part."""
        delay = RECORD_RETRY_FIRST_SECONDS
        while True:
            try:
                return self._record_once(claim, part, result, stats)
            except OperationError as exc:
                log.error(
                    "digest %s part %s: %s, but recording it failed (%s); retrying the record",
                    claim.id,
                    part.seq,
                    result.outcome,
                    exc,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECORD_RETRY_MAX_SECONDS)

    def _record_once(
        self, claim: DigestClaim, part: DigestPart, result: SendResult, stats: ModesStats
    ) -> bool:
        chat = claim.chat
        if result.outcome == SENT:
            self.db.digests.part_sent(claim.id, part.seq, result.message_id, self.lease_seconds)
            stats.parts_sent += 1
            return True
        if result.outcome == FAILED:
            self.db.digests.part_failed(claim.id, part.seq, result.error)
            log.error("digest %s part %s permanently refused: %s", claim.id, part.seq, result.error)
            return True
        if result.outcome == GONE:
            self.db.chats.set_active(chat.id, False, result.error)
            self.db.outbox.skip_for_chat(chat.id, result.error)
            self.db.digests.skip_for_chat(chat.id, result.error)
            return False
        wait = result.retry_after
        if wait is not None:
            pacer = self.pacers.get(chat.platform)
            if pacer is not None:
                pacer.block(chat.address, wait)
        delay = wait if wait is not None else backoff_seconds(claim.attempts)
        self.db.digests.retry(claim.id, result.error or "retry", delay)
        return False

    async def _paced(self, platform: str, address: str) -> None:
        pacer = self.pacers.get(platform)
        if pacer is not None:
            await acquire(pacer, address)

    def _settle(self, platform: str, address: str) -> None:
        pacer = self.pacers.get(platform)
        if pacer is not None:
            pacer.settle(address)
