"""Packaging: deploy/kabar.service and the Dockerfile. No container engine runs on this machine
(docker has no daemon here), so the image is not built: the Dockerfile is linted, its config
loaded, and its HEALTHCHECK command run against a real /healthz. The unit file is parsed and,
where systemd-analyze exists, verified by systemd itself."""

from __future__ import annotations

import asyncio
import configparser
import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.app.http import OpsServer
from bot.app.service import Service
from bot.config import HttpConfig, load_config
from store import open_store

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "kabar.service"
DOCKERFILE = ROOT / "Dockerfile"
DOCKER_CONFIG = ROOT / "deploy" / "docker-config.toml"
# ExecStartPre commands that could lose data (delete, move, truncate, re-create the database)
DANGEROUS = re.compile(r"\b(rm|mv|truncate|shred|dd|sqlite3|install|cp)\b")


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_unit_file_runs_kabar_safely_as_a_dedicated_user() -> None:
    parsed = unit()
    assert set(parsed.sections()) == {"Unit", "Service", "Install"}
    service = parsed["Service"]
    assert service["User"] not in ("", "root") and service["Group"] == service["User"]
    assert service["StateDirectory"] == "kabar"
    assert service["EnvironmentFile"].startswith("/etc/kabar/")
    assert service["Restart"] == "on-failure"
    assert shlex.split(service["ExecStart"])[-3:] == ["run", "--config", "/etc/kabar/config.toml"]
    assert service["KillSignal"] == "SIGTERM"
    pre = [v for k, v in service.items() if k.startswith("ExecStartPre")]
    assert not any(DANGEROUS.search(command) for command in pre), pre
    assert "TOKEN" not in "".join(v for k, v in service.items() if k == "Environment")
    assert parsed["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in parsed["Unit"]["After"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_unit_file_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """systemd's own check; ExecStart points at this checkout's installed `kabar` (the unit's
    /opt/kabar does not exist here)."""
    kabar = Path(sys.executable).with_name("kabar")
    text = UNIT.read_text(encoding="utf-8").replace("/opt/kabar/bin/kabar", str(kabar))
    copy = tmp_path / "kabar.service"
    copy.write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # and it does catch a broken unit
    copy.write_text(text.replace("Restart=on-failure", "Restart=sometimes"), encoding="utf-8")
    broken = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=120
    )
    assert "restart specifier" in broken.stderr


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_dockerfile_small_base_non_root_volume_healthcheck() -> None:
    steps = instructions()
    kinds = [kind for kind, _ in steps]
    assert kinds[0] == "FROM" and re.fullmatch(r"python:3\.1[1-9]-slim", steps[0][1])
    users = [args for kind, args in steps if kind == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert kinds.index("USER") < kinds.index("ENTRYPOINT")
    config = load_config(DOCKER_CONFIG)
    volume = json.loads(next(args for kind, args in steps if kind == "VOLUME"))
    assert str(Path(config.store.path).parent) in volume  # the database is on the volume
    health = next(args for kind, args in steps if kind == "HEALTHCHECK")
    assert f"127.0.0.1:{config.http.port}/healthz" in health
    assert config.http.host == "0.0.0.0" and f"EXPOSE {config.http.port}" in DOCKERFILE.read_text(
        encoding="utf-8"
    )
    assert json.loads(next(args for kind, args in steps if kind == "CMD")) == ["run"]
    for kind, args in steps:
        if kind == "COPY":
            *sources, _ = args.split()
            assert all((ROOT / source).exists() for source in sources), args


def healthcheck_command(port: int) -> list[str]:
    health = next(args for kind, args in instructions() if kind == "HEALTHCHECK")
    command = json.loads(health.split("CMD", 1)[1])
    command[0] = sys.executable
    return [part.replace("127.0.0.1:8080", f"127.0.0.1:{port}") for part in command]


async def test_dockerfile_healthcheck_follows_healthz(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = load_config(DOCKER_CONFIG)
    db = open_store(tmp_path / "k.db")
    service = Service(config, db, {})
    server = OpsServer(HttpConfig(port=port), service)
    await server.start()
    try:
        for stale, expected in ((False, 0), (True, 1)):
            if stale:
                service.last_pass_started = time.monotonic() - 10 * config.schedule.check_seconds
            proc = await asyncio.create_subprocess_exec(
                *healthcheck_command(port), stderr=asyncio.subprocess.DEVNULL
            )
            assert await asyncio.wait_for(proc.wait(), 30) == expected
    finally:
        await server.stop()
        await service.close()
        db.close()
