"""`kabar ingest`'s progress bar: drawn on a terminal once a run takes longer than the
threshold, never on a pipe (stdout stays the one summary line)."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from bot.progress import IngestBar, terminal_bar
from tests.test_ingest_stream import write_jsonl

REPO = Path(__file__).resolve().parent.parent
# the real CLI, with the bar's threshold injected (0 s: even a short test run draws it)
CLI = (
    "import sys, bot.progress; bot.progress.SHOW_AFTER_SECONDS = float(sys.argv[1]);"
    " from bot.cli import main; raise SystemExit(main(sys.argv[2:]))"
)


def _setup(tmp_path: Path, count: int = 300) -> tuple[Path, Path]:
    config = tmp_path / "config.toml"
    config.write_text('keywords = ["rudal"]\n[store]\npath = "k.db"\n')
    archive = tmp_path / "archive.jsonl"
    write_jsonl(archive, count, 400)
    return config, archive


def _argv(threshold: float, config: Path, archive: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        CLI,
        str(threshold),
        "ingest",
        "--config",
        str(config),
        str(archive),
    ]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    return {**env, "COLUMNS": "160", "TERM": "xterm", "PYTHONPATH": str(REPO)}


def _in_pty(argv: list[str], cwd: Path) -> tuple[int, str]:
    master, slave = pty.openpty()
    os.set_blocking(master, True)
    proc = subprocess.Popen(argv, stdout=slave, stderr=slave, stdin=slave, cwd=cwd, env=_env())
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_shows_the_bar_with_files_articles_rate_and_eta(tmp_path: Path) -> None:
    config, archive = _setup(tmp_path)
    code, screen = _in_pty(_argv(0.0, config, archive), tmp_path)
    assert code == 0, screen
    assert "ingest" in screen and "files 1/1" in screen
    assert "300 articles" in screen and "articles/s" in screen and "ETA" in screen
    assert "━" in screen  # rich's bar
    assert "new 300, duplicate 0, rejected 0" in screen


def test_a_quick_run_on_a_terminal_prints_only_the_summary(tmp_path: Path) -> None:
    config, archive = _setup(tmp_path, count=20)
    code, screen = _in_pty(_argv(60.0, config, archive), tmp_path)
    assert code == 0
    assert screen.strip() == "new 20, duplicate 0, rejected 0"


def test_a_pipe_gets_the_one_summary_line_and_no_bar(tmp_path: Path) -> None:
    config, archive = _setup(tmp_path)
    done = subprocess.run(
        _argv(0.0, config, archive), capture_output=True, text=True, cwd=tmp_path, env=_env()
    )
    assert done.returncode == 0
    assert done.stdout == "new 300, duplicate 0, rejected 0\n"
    assert done.stderr == ""


def test_the_bar_waits_for_the_threshold() -> None:
    now = [0.0]
    screen = io.StringIO()
    bar = IngestBar(screen, show_after=1.0, clock=lambda: now[0])
    bar.start(files=2, total_bytes=1000)
    now[0] = 0.5
    bar.advance(files_done=1, articles=400, bytes_done=500)
    assert screen.getvalue() == ""  # under a second: nothing drawn
    now[0] = 2.0
    bar.advance(files_done=2, articles=1000, bytes_done=1000)
    bar.close()
    drawn = screen.getvalue()
    assert "files 2/2" in drawn and "1,000 articles" in drawn and "500 articles/s" in drawn


def test_no_bar_off_a_terminal() -> None:
    assert terminal_bar(io.StringIO()) is None
