"""Operations (issue 13): `kabar --version`, `kabar status`, `kabar backup` while delivery
writes, /healthz and /metrics on a real port, log level / format, no token in any log line."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import aiohttp
import pytest
from sqlite_utils import Database

from bot.alerts.alert import Alert
from bot.app.http import OpsServer
from bot.app.service import PASS_AT, Service
from bot.cli import main
from bot.config import HttpConfig, config_from_dict
from bot.delivery.worker import RETRY, SendResult
from bot.ingest.dedup import save_articles
from store import open_store
from store.clock import now_db, to_db, utcnow
from store.models import ArticleIn
from store.schema import SCHEMA_VERSION
from tests.fakes.telegram_api import FakeTelegram
from tests.support import RecordingSender, drain

REPO = Path(__file__).resolve().parent.parent
TOKEN = "4242:SECRET-token_value"
RUDAL = (
    "Korea Utara kembali meluncurkan rudal jarak pendek ke laut timur pada Kamis pagi,"
    " kata militer Korea Selatan nomor {n}."
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(tmp_path: Path, body: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'keywords = ["rudal", "Kim"]\n{body}\n[store]\npath = "k.db"\n')
    return path


def cli_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}


async def kabar(*argv: str, cwd: Path) -> tuple[int, str, str]:
    """`python -m bot ...` as a subprocess, awaited (the test's loop keeps serving fakes)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *argv,
        cwd=cwd,
        env=cli_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


def add_rudal(db: Database, count: int, start: int = 0) -> None:
    save_articles(
        db,
        [
            ArticleIn(
                text=RUDAL.format(n=n),
                title=f"Rudal {n}",
                source="tes",
                lang="id",
                url=f"https://kabar.example/{n}",
                # a week apart: each its own story (bot/stories), so each its own alert
                published=datetime.now(UTC) - timedelta(weeks=n),
            )
            for n in range(start, start + count)
        ],
    )


# ---------------------------------------------------------------- --version and status


def test_version_comes_from_the_package_metadata(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"kabar {version('kabar')}\n"


async def test_status_healthy_then_each_problem_on_one_line(tmp_path: Path) -> None:
    fake = await FakeTelegram(TOKEN, "OpsBot").start()
    try:
        config = write_config(
            tmp_path, f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{fake.base_url}"\n'
        )
        db = open_store(tmp_path / "k.db")
        db.keywords.seed(["rudal", "Kim"])
        for address, active in (("1", True), ("2", True), ("-3", False)):
            chat = db.chats.ensure("telegram", address, "id")
            db.chats.subscribe(chat, db.keywords.all(), follow_all=True)
            if not active:
                db.chats.set_active(chat.id, False, "blocked")
        db.feeds.sync([("https://feeds.example/ok", "Good", 300)])
        db.feeds.record_poll(
            "https://feeds.example/ok",
            etag=None,
            last_modified=None,
            error=None,
            next_in_seconds=300,
        )
        db.meta.set(
            {
                PASS_AT: now_db(),
                "service.last_match_seconds": "0.25",
                "service.last_match_checked": "7",
            }
        )

        code, out, err = await kabar("status", "--config", str(config), cwd=tmp_path)
        assert (code, err) == (0, ""), out
        assert "platforms: telegram ok (@OpsBot); slack not configured" in out
        assert "chats: telegram 2 active, 1 inactive" in out
        assert "keywords: 2" in out and f"schema version {SCHEMA_VERSION}" in out
        assert re.search(
            r"^  Good https://feeds\.example/ok: last ok \d s ago, failures 0,"
            r" next poll in 4 min$",
            out,
            re.M,
        ), out
        assert "took 0.25 s, 7 article(s) checked" in out and out.rstrip().endswith("healthy")

        code, out, _ = await kabar("status", "--json", "--config", str(config), cwd=tmp_path)
        data = json.loads(out)
        assert code == 0 and data["healthy"] is True
        assert data["chats"] == {"telegram": {"active": 2, "inactive": 1}}
        assert data["platforms"]["telegram"] == {
            "configured": True,
            "reachable": True,
            "detail": "ok (@OpsBot)",
        }
        assert data["database"]["schema_version"] == SCHEMA_VERSION
        assert data["database"]["size_bytes"] >= (tmp_path / "k.db").stat().st_size

        # now: a failing feed, an old waiting alert, a stale pass, a rejected token
        db.feeds.sync([("https://feeds.example/ok", "Good", 300)])
        db.feeds.record_poll(
            "https://feeds.example/ok",
            etag=None,
            last_modified=None,
            error="HTTP 500",
            next_in_seconds=600,
        )
        add_rudal(db, 1)
        db.conn.execute(
            "INSERT INTO outbox (article_id, chat_id, keywords, next_attempt_at,"
            " created_at) VALUES (1, 1, '[\"rudal\"]', ?, ?)",
            [now_db(), to_db(utcnow().replace(year=2020))],
        )
        db.meta.set({PASS_AT: to_db(utcnow().replace(year=2020))})
        db.close()
        bad = write_config(tmp_path, f'[telegram]\ntoken = "9:WRONG"\nbase_url = "{fake.base_url}"')
        code, out, err = await kabar("status", "--config", str(bad), cwd=tmp_path)
        assert code == 1 and err == ""
        problems = out.split("needs attention:\n", 1)[1].splitlines()
        assert [p.split(":", 1)[0] for p in problems] == [
            "  - telegram",
            "  - feed Good",
            "  - outbox",
            "  - matching",
        ]
        assert problems[0] == "  - telegram: the token was rejected (getMe)"
        assert re.search(r"failed 1 time\(s\) in a row, last ok \d s ago: HTTP 500$", problems[1])
        assert "the oldest waiting alert was queued" in problems[2]
        assert "(is `kabar run` running?)" in problems[3]

        code, out, _ = await kabar(
            "status", "--offline", "--json", "--config", str(bad), cwd=tmp_path
        )
        assert code == 1
        assert json.loads(out)["platforms"]["telegram"]["detail"] == "not checked"
    finally:
        await fake.stop()


def test_status_and_backup_never_create_a_database(capsys, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    for argv in (["status", "--offline"], ["backup", str(tmp_path / "b.db")]):
        assert main([*argv, "--config", str(config)]) == 2
        err = capsys.readouterr().err
        assert (
            err.startswith("kabar: error: ") and "no database yet" in err and err.count("\n") == 1
        )
    assert not (tmp_path / "k.db").exists()


# ---------------------------------------------------------------- backup


class GatedSender(RecordingSender):
    """Sends the first ``free`` alerts, then holds every further send until ``gate`` opens:
    a delivery pass is running (and writing) for the whole backup."""

    def __init__(self, free: int) -> None:
        super().__init__()
        self.free = free
        self.gate = asyncio.Event()

    async def send(self, address: str, alert: Alert) -> SendResult:
        if self.calls >= self.free:
            await self.gate.wait()
        return await super().send(address, alert)


async def test_backup_while_delivery_runs_is_a_whole_checked_copy(tmp_path: Path) -> None:
    """`cp kabar.db` while `kabar run` wrote gave a copy with no tables (the data still in the
    WAL). `kabar backup` in another process, while delivery writes, gives a copy that opens,
    passes integrity_check and has every row committed before it."""
    config = write_config(tmp_path)
    db = open_store(tmp_path / "k.db")
    db.keywords.seed(["rudal"])
    for address in range(1, 41):
        chat = db.chats.ensure("telegram", str(address), "id")
        db.chats.subscribe(chat, db.keywords.all(), follow_all=True)
    add_rudal(db, 5)
    sender = GatedSender(free=30)
    service = Service(
        config_from_dict({"store": {"path": str(tmp_path / "k.db")}}, env={}),
        db,
        {"telegram": sender},
    )
    await service.match()
    assert db.outbox.counts() == {"pending": 200}
    # the main file alone does not have the data yet: it is in the write-ahead log
    assert (tmp_path / "k.db-wal").stat().st_size > 0
    delivery = asyncio.create_task(drain(db, service.deliver, timeout=60))
    deadline = time.monotonic() + 30
    while db.outbox.counts().get("sent", 0) < 30:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    code, out, err = await kabar(
        "backup", str(tmp_path / "copy.db"), "--config", str(config), cwd=tmp_path
    )
    still_running = not delivery.done()
    sender.gate.set()
    await delivery
    assert (code, err) == (0, ""), err
    assert out.startswith(f"backup written: {tmp_path / 'copy.db'} (") and still_running
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM articles").fetchone() == (5,)
        assert copy.execute("SELECT count(*) FROM outbox").fetchone() == (200,)
        sent = copy.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()[0]
        assert sent == 30  # a snapshot taken in the middle of the delivery
        held = copy.execute("SELECT count(*) FROM outbox WHERE status = 'sending'").fetchone()
        assert held[0] > 0  # claimed rows of the pass under way
        assert copy.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    finally:
        copy.close()
    assert (tmp_path / "copy.db").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if "copy" in p.name) == ["copy.db"]

    # never overwritten without --force; with it, replaced by a fresh copy
    before = (tmp_path / "copy.db").read_bytes()
    code, out, err = await kabar(
        "backup", str(tmp_path / "copy.db"), "--config", str(config), cwd=tmp_path
    )
    assert (code, out) == (2, "")
    assert (
        err == f"kabar: error: {tmp_path / 'copy.db'}: already exists (use --force to"
        " overwrite it)\n"
    )
    assert (tmp_path / "copy.db").read_bytes() == before
    code, _, _ = await kabar(
        "backup", str(tmp_path / "copy.db"), "--force", "--config", str(config), cwd=tmp_path
    )
    assert code == 0
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone() == (200,)
    copy.close()
    await service.close()
    db.close()


def test_backup_into_a_missing_folder_is_one_line(capsys, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    open_store(tmp_path / "k.db").close()
    assert main(["backup", str(tmp_path / "nope" / "b.db"), "--config", str(config)]) == 2
    assert capsys.readouterr().err == (
        f"kabar: error: {tmp_path / 'nope' / 'b.db'}: folder {tmp_path / 'nope'} does not exist\n"
    )


# ---------------------------------------------------------------- /healthz and /metrics


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_healthz_and_metrics(tmp_path: Path) -> None:
    db = open_store(tmp_path / "k.db")
    db.keywords.seed(["rudal"])
    for address in ("1", "2"):
        chat = db.chats.ensure("telegram", address, "id")
        db.chats.subscribe(chat, db.keywords.all(), follow_all=True)
    add_rudal(db, 2)
    config = config_from_dict(
        {"store": {"path": str(tmp_path / "k.db")}, "schedule": {"check_seconds": 10}}, env={}
    )
    sender = RecordingSender()
    sender.fail("2", SendResult(RETRY, retry_after=0.05, error="429", rate_limited=True))
    service = Service(config, db, {"telegram": sender})
    server = OpsServer(HttpConfig(port=free_port()), service)
    await server.start()
    base = f"http://127.0.0.1:{server.http.port}"
    try:
        await service.match()
        await drain(db, service.deliver)
        assert await get(f"{base}/healthz") == (200, "ok\n")
        status, text = await get(f"{base}/metrics")
        assert status == 200
        lines = set(text.splitlines())
        assert 'kabar_alerts_total{outcome="sent",platform="telegram"} 4.0' in lines
        assert 'kabar_alerts_total{outcome="retried",platform="telegram"} 1.0' in lines
        assert 'kabar_rate_limited_total{platform="telegram"} 1.0' in lines
        assert 'kabar_delivery_latency_seconds_count{platform="telegram"} 4.0' in lines
        assert "kabar_alerts_queued_total 4.0" in lines
        assert "kabar_matching_pass_seconds_count 1.0" in lines
        assert 'kabar_outbox_alerts{status="sent"} 4.0' in lines
        assert 'kabar_outbox_alerts{status="pending"} 0.0' in lines

        service.last_pass_started = time.monotonic() - 31  # 3 x check_seconds = 30
        status, text = await get(f"{base}/healthz")
        assert status == 503
        assert text == (
            "scheduler: no matching pass for 31 s (limit 30 s = 3 x schedule.check_seconds)\n"
        )
        service.last_pass_started = time.monotonic()
        for name in ("k.db", "k.db-wal", "k.db-shm"):
            (tmp_path / name).unlink(missing_ok=True)
        status, text = await get(f"{base}/healthz")
        assert status == 503 and text.startswith("database: ") and "was deleted" in text
    finally:
        await server.stop()
        await service.close()
        db.close()


def test_two_services_keep_separate_metrics(tmp_path: Path) -> None:
    """A registry per process (per Service): nothing lands in prometheus' global registry."""
    from prometheus_client import REGISTRY

    config = config_from_dict({"store": {"path": str(tmp_path / "k.db")}}, env={})
    db = open_store(tmp_path / "k.db")
    one, two = Service(config, db, {}), Service(config, db, {})
    one.metrics.feed_polled(None)
    assert b'kabar_feed_polls_total{result="ok"} 1.0' in one.metrics.render()
    assert b'kabar_feed_polls_total{result="ok"} 0.0' in two.metrics.render()
    assert REGISTRY.get_sample_value("kabar_feed_polls_total", {"result": "ok"}) is None
    db.close()


# ---------------------------------------------------------------- logs


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_kabar_run_at_debug_never_logs_the_token(tmp_path: Path, log_format: str) -> None:
    """httpx logs every request URL, and a Bot API URL holds the token: at debug the lines
    are there, with the token replaced by ***. The [http] endpoint runs on the same loop."""
    fake = await FakeTelegram(TOKEN, "OpsBot").start()
    port = free_port()
    config = write_config(
        tmp_path,
        f'log_level = "debug"\nlog_format = "{log_format}"\n'
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{fake.base_url}"'
        f"\nadmins = [1]\n[http]\nport = {port}\n"
        "[schedule]\ncheck_seconds = 1\ndeliver_seconds = 1",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        cwd=tmp_path,
        env=cli_env(),
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.wait_for(lambda: any(m == "getupdates" for m, _ in fake.calls), 30)
        fake.send_text(1, "/start")
        await fake.wait_for(lambda: fake.messages_to(1), 30)
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = await get(f"http://127.0.0.1:{port}/healthz")
                break
            except aiohttp.ClientError:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
        assert (status, body) == (200, "ok\n")
        status, body = await get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and "kabar_matching_pass_seconds_count" in body
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        await fake.stop()
    stderr = err.decode()
    assert proc.returncode == 0, stderr[-2000:]
    secret = TOKEN.split(":", 1)[1]
    assert TOKEN not in stderr and secret not in stderr
    lines = stderr.splitlines()
    requests = [line for line in lines if "HTTP Request" in line]
    assert requests and all("bot***/" in line for line in requests)
    assert any("Running job" in line for line in lines)  # apscheduler chatter, at debug
    if log_format == "json":
        records = [json.loads(line) for line in lines]
        assert all(set(r) >= {"time", "level", "logger", "message"} for r in records)
        assert {"debug", "info"} <= {r["level"] for r in records}
        assert any(r["logger"] == "httpx" for r in records)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            'log_level = "loud"',
            "'log_level' must be one of debug, info, warning, error, got 'loud'",
        ),
        ('log_format = "xml"', "'log_format' must be text or json, got 'xml'"),
        ("[http]\nport = 70000", "'http.port' must be between 0 and 65535, got 70000"),
    ],
)
def test_bad_ops_config_is_one_line(capsys, tmp_path: Path, text: str, line: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text + "\n")
    assert main(["status", "--config", str(path)]) == 2
    assert capsys.readouterr().err == f"kabar: error: {path}: {line}\n"
