"""Benchmark: how long a Slack slash command waits while a long matching pass runs.

Run with ``python -m bench.bench_responsive`` (``--quick``: 10,000 articles instead of 50,000,
well under 30 s).

A SQLite store gets the articles (~3 KB each, 4 % mention one of 1,000 keyword queries) and 2,000
subscribed chats, as in bench_load. The real ``SlackPlatform`` (slack-bolt, its HTTP endpoint on
127.0.0.1) runs on the event loop against the fake Slack Web API (tests/fakes/slack_api.py),
with the ``Service`` over the same store. A client thread posts signed ``/kabar keywords``
commands (answered in the acknowledgement) every 50 ms and times each answer, first idle, then
while one matching pass over every article runs on the loop. Side by side, on a copy of the same
store: ``old`` is the previous pass loop (yield once per 500 articles,
``bench.legacy.matching_pass_old``), ``new`` is ``Service.match`` (yield after
``PASS_SLICE_SECONDS`` of work). Targets: worst <= 300 ms, median <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from random import Random
from urllib.parse import urlencode

import httpx

from bench import legacy
from bench.bench_load import make_articles, make_keywords
from bot.app.service import PASS_SLICE_SECONDS, Service
from bot.config import Config, config_from_dict
from bot.ingest.dedup import save_articles
from handlers.slack.adapter import EVENTS_PATH, SlackPlatform
from store import Store, open_store
from tests.fakes.slack_api import FakeSlack

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
EVERY = 0.05  # seconds between two commands


def build_store(path: Path, articles: int, keywords: int, chats: int) -> None:
    rng = Random(11)
    db = open_store(path)
    words = make_keywords(rng, keywords)
    for word in words:
        db.keywords.add(word, "bench")
    stored = db.keywords.all()
    for i in range(chats):
        chat = db.chats.ensure("telegram", str(100_000 + i), "id")
        db.chats.subscribe(chat, rng.sample(stored, 5))
    for offset in range(0, articles, 2_000):
        save_articles(db, make_articles(rng, offset, min(2_000, articles - offset), words, 0.04))
    db.close()


def slack_config(folder: Path, fake: FakeSlack, db_path: Path) -> Config:
    return config_from_dict(
        {
            "store": {"path": str(db_path)},
            "slack": {"bot_token": TOKEN, "signing_secret": SECRET, "base_url": fake.base_url},
        },
        env={},
    )


def signed(form: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    body = urlencode(form)
    stamp = str(int(time.time()))
    mac = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + mac.hexdigest(),
    }
    return body.encode(), headers


def probe(
    port: int, response_url: str, stop: threading.Event, out: list[float], errors: list[str]
) -> None:
    """In its own thread: post ``/kabar keywords`` every ``EVERY`` s until ``stop``; the
    milliseconds from sending to the acknowledgement (with the answer) go to ``out``, a wrong
    answer to ``errors`` (and the probe stops)."""
    form = {
        "team_id": "T0TEST", "channel_id": "C0BENCH", "channel_name": "bench", "user_id": "U0B",
        "user_name": "u", "command": "/kabar", "text": "keywords", "api_app_id": "A0B",
        "response_url": response_url, "trigger_id": "1.2.3",
    }  # fmt: skip
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        while not stop.is_set():
            form["trigger_id"] = f"{len(out)}.{time.time_ns()}"  # each request its own
            body, headers = signed(form)
            start = time.perf_counter()
            response = http.post(EVENTS_PATH, content=body, headers=headers)
            took = (time.perf_counter() - start) * 1000
            if response.status_code != 200 or "Kata kunci" not in response.text:
                errors.append(f"unexpected answer {response.status_code}: {response.text!r}")
                return
            out.append(took)
            stop.wait(EVERY)


async def latencies(
    port: int, fake: FakeSlack, work: Callable[[], Awaitable[object]]
) -> list[float]:
    """Command latencies while ``work`` runs on the loop."""
    out: list[float] = []
    errors: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=probe, args=(port, fake.response_url(), stop, out, errors))
    thread.start()
    try:
        await work()
    finally:
        stop.set()
        await asyncio.to_thread(thread.join)
    if errors:
        raise RuntimeError(errors[0])
    return out


async def run_side(folder: Path, db_path: Path, old: bool, idle: float) -> dict[str, object]:
    fake = await FakeSlack(TOKEN).start()
    config = slack_config(folder, fake, db_path)
    db: Store = open_store(db_path)
    platform = SlackPlatform(config, db, host="127.0.0.1", port=0)
    await platform.start(None, listen=True)
    service = Service(config, db, {"slack": platform.sender})
    try:
        quiet = await latencies(platform.port, fake, lambda: asyncio.sleep(idle))
        started = time.perf_counter()
        if old:
            busy = await latencies(platform.port, fake, lambda: legacy.matching_pass_old(db))
        else:
            busy = await latencies(platform.port, fake, service.match)
        seconds = time.perf_counter() - started
        unchecked = db.articles.unchecked(1)
    finally:
        await service.close()
        await platform.stop()
        await fake.stop()
        db.close()
    if unchecked:
        raise RuntimeError("the pass left articles unchecked")
    return {"idle": quiet, "busy": busy, "seconds": seconds}


def row(label: str, ms: list[float]) -> str:
    if not ms:
        return f"  {label:<24} (no answer during the pass)"
    return (
        f"  {label:<24} n={len(ms):>4}  median {statistics.median(ms):>7.1f} ms"
        f"   p95 {sorted(ms)[int(0.95 * (len(ms) - 1))]:>7.1f} ms   worst {max(ms):>7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 articles (CI)")
    parser.add_argument("--articles", type=int, default=50_000)
    args = parser.parse_args()
    articles = 10_000 if args.quick else args.articles
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        template = folder / "template.db"
        start = time.perf_counter()
        build_store(template, articles, keywords=1_000, chats=2_000)
        print(
            f"store: {articles:,} articles, 1,000 keyword queries, 2,000 chats"
            f" ({time.perf_counter() - start:.1f} s to build)"
        )
        results = {}
        for side in ("old", "new"):
            copy = folder / f"{side}.db"
            shutil.copy(template, copy)
            results[side] = asyncio.run(run_side(folder, copy, side == "old", 1.0))
        old, new = results["old"], results["new"]
        print(f"/kabar keywords latency (answered in the Slack acknowledgement), every {EVERY}s:")
        print(row("idle", new["idle"]))  # type: ignore[arg-type]
        print(f"during the pass: old (yield per 500 articles), {old['seconds']:.1f} s pass")
        print(row("old", old["busy"]))  # type: ignore[arg-type]
        print(
            f"during the pass: new (yield after {PASS_SLICE_SECONDS * 1000:.0f} ms of work),"
            f" {new['seconds']:.1f} s pass"
        )
        print(row("new", new["busy"]))  # type: ignore[arg-type]
        o, n = old["busy"], new["busy"]
        assert isinstance(o, list) and isinstance(n, list)
        if o and n:
            print(
                f"old / new: median {statistics.median(o) / statistics.median(n):.1f}x,"
                f" worst {max(o) / max(n):.1f}x; targets worst <= 300 ms, median <= 100 ms:"
                f" {'met' if max(n) <= 300 and statistics.median(n) <= 100 else 'NOT met'}"
            )


if __name__ == "__main__":
    main()
