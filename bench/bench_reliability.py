"""Reliability under crashes and platform faults: the real `kabar run` process, killed with
SIGKILL in the middle of delivery several times, restarted on the same database, against the
fake Telegram Bot API and fake Slack Web API (both enforcing the platforms' rate limits) with
faults injected: 429 storms (one with a long retry_after), 5xx bursts, slow answers, a chat
that blocked the bot and an archived Slack channel.

Run with ``python -m bench.bench_reliability`` (``--quick`` is what the test suite runs;
``--instances 2`` runs two ``kabar run`` processes on the one database, killed and restarted
together, to show the rate limits hold for every process on the store). Reports alerts
expected / delivered / duplicated, kills, 429s the servers had to send, the inactive chats and
the database's integrity check.

Digest chats: one Telegram chat and one Slack channel in ``digest hourly`` with a digest missed
while the bot was down (sent at start, several messages each); kills land while their digests
are being sent. Reported apart: digest items expected / delivered / lost / doubled, and the
digest messages that arrived twice (at most the one in flight per chat at a kill).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import signal
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.ingest.dedup import save_articles
from bot.matching.passes import matching_pass
from store import Store, open_store
from store.models import ArticleIn
from tests.fakes import slack_api, telegram_api
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram

TITLE = re.compile(r"Laporan #(\d+)")
DIGEST_TITLE = re.compile(r"Papua #(\d+)")
DIGEST_KEYWORD = "Papua"
DIGEST_CHATS = (("telegram", "2000"), ("slack", "C9000"))
WORDS = [a + b + c for a in "bdgkmpst" for b in "aiue" for c in ("lan", "rok", "mis", "tang")]
BLOCKED_CHAT = 1001
ARCHIVED_CHANNEL = "C0002"


@dataclass
class Scenario:
    telegram_chats: int = 30
    slack_channels: int = 6
    articles: int = 6
    kills: int = 3
    kill_every: float = 2.5  # seconds of delivery between kills
    timeout: float = 240.0
    instances: int = 1  # `kabar run` processes sharing the one database
    digest_articles: int = 100  # items of each digest chat's digest (0: no digest chats)
    store_url: str = ""  # a PostgreSQL database (--store postgresql); "" = the SQLite file
    random_kills: bool = False  # kill -9 one random instance at a time (the others go on)


@dataclass
class Report:
    expected: int = 0
    delivered: int = 0
    duplicates: int = 0
    kills: int = 0
    violations: int = 0
    faults: list[str] = field(default_factory=list)
    inactive: list[str] = field(default_factory=list)
    outbox: dict[str, int] = field(default_factory=dict)
    integrity_ok: bool = False
    seconds: float = 0.0
    instances: int = 1
    violation_kinds: list[str] = field(default_factory=list)
    missing: list[tuple[str, int]] = field(default_factory=list)
    digest: DigestReport | None = None

    def lines(self) -> list[str]:
        return [
            f"faults injected: {len(self.faults)} ({'; '.join(self.faults)})",
            f"kabar run instances on the database: {self.instances};"
            f" kill -9 during delivery: {self.kills}",
            f"alerts expected {self.expected}, delivered {self.delivered}, duplicated"
            f" {self.duplicates}, missing {len(self.missing)}",
            f"429s the fake servers had to send (limit violations): {self.violations}"
            + (f" ({', '.join(self.violation_kinds[:8])})" if self.violation_kinds else ""),
            f"chats marked inactive: {', '.join(self.inactive) or '-'}",
            f"outbox: {self.outbox}; PRAGMA integrity_check ok: {self.integrity_ok}",
            *(self.digest.lines() if self.digest else []),
            f"wall time {self.seconds:.1f} s",
        ]


@dataclass
class DigestReport:
    expected: int = 0
    delivered: int = 0
    lost: int = 0
    doubled: int = 0  # items that arrived more than once
    messages: int = 0  # digest messages received
    repeated: int = 0  # digest messages that arrived more than once
    in_repeats: int = 0  # items inside those repeated messages (the most that may double)
    kills_during: int = 0  # kills while a digest was partly delivered
    digests: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"digest items expected {self.expected}, delivered {self.delivered}, lost"
            f" {self.lost}, doubled {self.doubled}; digest messages {self.messages}, repeated"
            f" {self.repeated}; kills during digest delivery {self.kills_during}",
            f"digests: {self.digests}",
        ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(
    folder: Path,
    tg: FakeTelegram,
    slack: FakeSlack | None,
    name: str = "config",
    store_url: str = "",
) -> Path:
    """A config for one instance (each instance its own Slack port, all one database);
    Telegram only when ``slack`` is None."""
    path = folder / f"{name}.toml"
    slack_part = (
        f"""[slack]
bot_token = "{slack.token}"
signing_secret = "reliability-test"
base_url = "{slack.base_url}"
host = "127.0.0.1"
port = {free_port()}
"""
        if slack is not None
        else ""
    )
    path.write_text(f"""
[store]
path = "kabar.db"
{f'url = "{store_url}"' if store_url else ""}
[schedule]
check_seconds = 1
deliver_seconds = 1
claim_lease_seconds = 3
[telegram]
token = "{tg.token}"
base_url = "{tg.base_url}"
{slack_part}""")
    return path


def store_location(folder: Path, scenario: Scenario) -> str:
    return scenario.store_url or str(folder / "kabar.db")


def prepare_store(folder: Path, scenario: Scenario) -> set[tuple[str, int]]:
    """Chats, subscriptions and matching articles, with the alerts queued: the expected set."""
    db = open_store(store_location(folder, scenario))
    db.keywords.seed(["Kim", "rudal"])
    keywords = db.keywords.all()
    targets = [("telegram", str(1000 + i)) for i in range(scenario.telegram_chats)]
    targets += [("slack", f"C{i:04d}") for i in range(scenario.slack_channels)]
    for platform, address in targets:
        db.chats.subscribe(db.chats.ensure(platform, address, "id"), keywords)
    add_digest_chats(db, scenario)
    save_articles(
        db,
        digest_articles(scenario)
        + [
            ArticleIn(
                title=f"Laporan #{n:03d}: uji coba rudal",
                source="uji",
                lang="id",
                text=f"Korea Utara menembakkan rudal ke-{n} ke laut timur pada pagi hari, kata"
                " militer Korea Selatan, beberapa hari setelah Kim meninjau pangkalan.",
                published=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=7 * n),
            )  # own stories
            for n in range(scenario.articles)
        ],
    )
    matching_pass(db)
    db.close()
    gone = {("telegram", str(BLOCKED_CHAT)), ("slack", ARCHIVED_CHANNEL)}
    return {
        (f"{p}:{a}", n) for p, a in targets if (p, a) not in gone for n in range(scenario.articles)
    }


def add_digest_chats(db: Store, scenario: Scenario) -> None:
    """The digest chats: hourly digests of their own keyword, holding their alerts, with the last
    digest long ago (one is due at start, as after a night the bot was down)."""
    if not scenario.digest_articles:
        return
    keyword = db.keywords.add(DIGEST_KEYWORD, "bench")
    assert keyword is not None
    for platform, address in DIGEST_CHATS:
        chat = db.chats.ensure(platform, address, "id")
        db.chats.subscribe(chat, [keyword])
        db.chats.set_digest(chat.id, "hourly")
        db.chats.set_hold(chat.id, True)
        # nothing waits yet: this only records the last digest as long ago
        assert db.digests.open(chat.id, datetime(2000, 1, 1, tzinfo=UTC), None) is None


def digest_articles(scenario: Scenario) -> list[ArticleIn]:
    """Articles only the digest chats follow, with long titles (a digest of several messages)."""
    return [
        ArticleIn(
            title=f"Papua #{n:03d}: " + " ".join(random.Random(-n).sample(WORDS, 16)),
            url=f"https://uji.example/papua/{n}?sumber=uji&hal=1",
            source="uji",
            lang="id",
            text=f"Banjir bandang ke-{n} melanda Papua: "
            + " ".join(random.Random(n).sample(WORDS, 30)),
            published=datetime(2024, 1, 2, tzinfo=UTC) + timedelta(days=7 * n),
        )  # own stories (own words)
        for n in range(scenario.digest_articles)
    ]


def digest_expected(scenario: Scenario) -> set[tuple[str, int]]:
    if not scenario.digest_articles:
        return set()
    return {(f"{p}:{a}", n) for p, a in DIGEST_CHATS for n in range(scenario.digest_articles)}


def digest_messages(tg: FakeTelegram, slack: FakeSlack) -> list[tuple[str, str]]:
    """``(target, text)`` of every digest message the fakes received."""
    chats = {a for p, a in DIGEST_CHATS if p == "telegram"}
    channels = {a for p, a in DIGEST_CHATS if p == "slack"}
    found = [(f"telegram:{m['chat_id']}", m["text"]) for m in tg.sent if str(m["chat_id"]) in chats]
    for message in slack.messages:
        if message["channel"] in channels:
            text = "\n".join(b["text"]["text"] for b in message.get("blocks") or [] if "text" in b)
            found.append((f"slack:{message['channel']}", text or message.get("text") or ""))
    return found


def digest_received(tg: FakeTelegram, slack: FakeSlack) -> Counter[tuple[str, int]]:
    seen: Counter[tuple[str, int]] = Counter()
    for target, text in digest_messages(tg, slack):
        for number in DIGEST_TITLE.findall(text):
            seen[(target, int(number))] += 1
    return seen


def digest_in_progress(tg: FakeTelegram, slack: FakeSlack, expected: set) -> bool:
    seen = set(digest_received(tg, slack))
    return bool(seen) and not expected <= seen


async def digest_under_way(
    tg: FakeTelegram, slack: FakeSlack, expected: set, before: int, timeout: float = 20.0
) -> None:
    """Wait (bounded) until this start sends digest messages, so the kill lands during digest
    delivery; at once when the digests are all delivered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if expected <= set(digest_received(tg, slack)):
            return
        if len(digest_messages(tg, slack)) > before:
            return
        await asyncio.sleep(0.05)


def digest_report(
    tg: FakeTelegram, slack: FakeSlack, expected: set, kills_during: int, db: Store
) -> DigestReport:
    seen = digest_received(tg, slack)
    messages = Counter(digest_messages(tg, slack))
    return DigestReport(
        expected=len(expected),
        delivered=len(expected & set(seen)),
        lost=len(expected - set(seen)),
        doubled=sum(1 for n in seen.values() if n > 1),
        messages=sum(messages.values()),
        repeated=sum(n - 1 for n in messages.values() if n > 1),
        in_repeats=len(
            {
                (target, int(number))
                for (target, text), n in messages.items()
                if n > 1
                for number in DIGEST_TITLE.findall(text)
            }
        ),
        kills_during=kills_during,
        digests=db.digests.counts(),
    )


def inject_faults(tg: FakeTelegram, slack: FakeSlack) -> list[str]:
    tg.fail(*[telegram_api.too_many_requests(1)] * 4, chat_id=1003)
    tg.fail(telegram_api.too_many_requests(6), chat_id=1004)
    tg.fail(*[telegram_api.server_error()] * 5)
    tg.fail(telegram_api.slow(2.0), chat_id=1005)
    tg.fail(telegram_api.dropped(), telegram_api.dropped(), chat_id=1006)
    tg.fail(telegram_api.blocked(), chat_id=BLOCKED_CHAT)
    slack.fail(*[slack_api.rate_limited(1)] * 3, channel="C0001")
    slack.fail(*[slack_api.server_error()] * 3)
    slack.fail(slack_api.dropped(), channel="C0003")
    slack.gone(ARCHIVED_CHANNEL, "is_archived")
    return [
        "Telegram 429 x4 (retry_after 1)",
        "Telegram 429 retry_after 6",
        "Telegram 500 x5",
        "Telegram slow answer 2 s",
        "Telegram connection dropped mid-request x2",
        "Telegram 403 blocked chat",
        "Slack 429 x3 (Retry-After 1)",
        "Slack 500 x3",
        "Slack connection dropped",
        "Slack is_archived channel",
    ]


def received(tg: FakeTelegram, slack: FakeSlack) -> Counter[tuple[str, int]]:
    seen: Counter[tuple[str, int]] = Counter()
    for message in tg.sent:
        found = TITLE.search(message["text"])
        if found:
            seen[(f"telegram:{message['chat_id']}", int(found.group(1)))] += 1
    for message in slack.messages:
        found = TITLE.search(message.get("text") or "")
        if found:
            seen[(f"slack:{message['channel']}", int(found.group(1)))] += 1
    return seen


async def start_bot(config: Path, log: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(config),
            stdout=out,
            stderr=out,
            env=env,
        )


async def start_bots(configs: list[Path], folder: Path) -> list[asyncio.subprocess.Process]:
    return [
        await start_bot(config, folder / (f"kabar-run-{n}.log" if n else "kabar-run.log"))
        for n, config in enumerate(configs)
    ]


async def kill_all(procs: list[asyncio.subprocess.Process], sig: int) -> None:
    for proc in procs:
        if proc.returncode is None:  # one that exited on its own is already done
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
    for proc in procs:
        await asyncio.wait_for(proc.wait(), 30)


async def delivery_under_way(tg: FakeTelegram, slack: FakeSlack) -> None:
    before = sum(received(tg, slack).values())
    deadline = time.monotonic() + 60
    while sum(received(tg, slack).values()) == before and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # kill only once delivery is under way


async def kill_random_instances(
    configs: list[Path],
    folder: Path,
    scenario: Scenario,
    tg: FakeTelegram,
    slack: FakeSlack,
    report: Report,
) -> list[asyncio.subprocess.Process]:
    """All instances run; every ``kill_every`` seconds one of them, chosen at random, is
    killed with SIGKILL and started again while the others go on."""
    rng = random.Random(14)
    procs = await start_bots(configs, folder)
    await delivery_under_way(tg, slack)
    for _ in range(scenario.kills):
        await asyncio.sleep(scenario.kill_every)
        victim = rng.randrange(len(procs))
        await kill_all([procs[victim]], signal.SIGKILL)
        report.kills += 1
        procs[victim] = await start_bot(configs[victim], folder / f"kabar-run-{victim}.log")
    return procs


async def run_scenario(folder: Path, scenario: Scenario) -> Report:
    report = Report(instances=scenario.instances)
    started = time.monotonic()
    tg, slack = await FakeTelegram().start(), await FakeSlack().start()
    tg.enforce_limits()
    slack.enforce_limits()
    try:
        configs = [
            write_config(folder, tg, slack, f"config-{n}" if n else "config", scenario.store_url)
            for n in range(scenario.instances)
        ]
        expected = prepare_store(folder, scenario)
        report.expected = len(expected)
        digests = digest_expected(scenario)
        kills_during = 0
        report.faults = inject_faults(tg, slack) if scenario.kills else []
        if scenario.random_kills:
            procs = await kill_random_instances(configs, folder, scenario, tg, slack, report)
        else:
            for _ in range(scenario.kills):
                procs = await start_bots(configs, folder)
                await delivery_under_way(tg, slack)
                if digests:
                    await digest_under_way(tg, slack, digests, len(digest_messages(tg, slack)))
                await asyncio.sleep(scenario.kill_every)
                kills_during += digest_in_progress(tg, slack, digests)
                await kill_all(procs, signal.SIGKILL)
                report.kills += 1
            procs = await start_bots(configs, folder)
        deadline = time.monotonic() + scenario.timeout
        while time.monotonic() < deadline and not (
            expected <= set(received(tg, slack)) and digests <= set(digest_received(tg, slack))
        ):
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.5)  # anything still to come (a duplicate) has time to arrive
        await kill_all(procs, signal.SIGTERM)
        seen = received(tg, slack)
        report.delivered = len(expected & set(seen))
        report.duplicates = sum(n - 1 for n in seen.values() if n > 1)
        report.missing = sorted(expected - set(seen))
        report.violations = tg.violations + slack.violations
        report.violation_kinds = list(tg.violation_kinds)
        db = open_store(store_location(folder, scenario))
        report.inactive = [
            f"{p}:{a}"
            for p, a in db.conn.execute(
                "SELECT platform, address FROM chats WHERE active = 0 ORDER BY id"
            )
        ]
        report.outbox = db.outbox.counts()
        report.integrity_ok = db.integrity_ok()
        if digests:
            report.digest = digest_report(tg, slack, digests, kills_during, db)
        db.close()
    finally:
        await tg.stop()
        await slack.stop()
    report.seconds = time.monotonic() - started
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the reduced run the tests use")
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        help="kabar run processes sharing the database (default 1)",
    )
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="postgresql: a throwaway server (tests/pg.py), 3 instances, random kill -9s,"
        " and delivery throughput with 1 vs 3 instances",
    )
    args = parser.parse_args()
    scenario = (
        Scenario()
        if args.quick
        else Scenario(telegram_chats=80, slack_channels=12, articles=8, kills=5)
    )
    scenario.instances = max(1, args.instances)
    if args.store == "postgresql":
        postgresql(scenario)
        return
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        report = asyncio.run(run_scenario(Path(folder), scenario))
    print("\n".join(report.lines()))


def postgresql(scenario: Scenario) -> None:
    """3 instances on one PostgreSQL database with random kill -9s; then a backlog without
    faults or kills delivered by 1 and by 3 instances (alerts per second)."""
    import tempfile

    from tests.pg import PgServer

    server = PgServer().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            scenario.store_url = server.empty()[1]
            scenario.instances = max(3, scenario.instances)
            scenario.random_kills = True
            report = asyncio.run(run_scenario(Path(folder), scenario))
        print("\n".join(report.lines()))
        for instances in (1, 3):
            with tempfile.TemporaryDirectory() as folder:
                plain = Scenario(
                    telegram_chats=scenario.telegram_chats,
                    slack_channels=scenario.slack_channels,
                    articles=scenario.articles,
                    kills=0,
                    instances=instances,
                    store_url=server.empty()[1],
                )
                result = asyncio.run(run_scenario(Path(folder), plain))
            print(
                f"throughput, {instances} instance(s), no faults: {result.delivered} alerts in"
                f" {result.seconds:.1f} s wall ({result.delivered / result.seconds:.1f}/s),"
                f" duplicated {result.duplicates}, violations {result.violations}"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
