"""The `kabar` CLI: exit codes, one-line errors, ingest counts, dry-run output, keyword edits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from store import open_store

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('keywords = ["Kim", "Putin", "rudal", "satelit"]\n[store]\npath = "k.db"\n')
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_reports_new_duplicate_and_rejected(capsys, config: Path, tmp_path: Path) -> None:
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    bad_utf8 = tmp_path / "bad.txt"
    bad_utf8.write_bytes(b"Rudal diluncurkan pagi ini dari pesisir timur." + b"\xff\xfe")
    sources = [
        str(FIXTURES / "rudal_id.txt"),
        str(FIXTURES / "feed_rss.xml"),
        str(binary),
        str(bad_utf8),
        str(FIXTURES / "malformed.xml"),
    ]
    code, out, _ = run(capsys, "ingest", "--config", str(config), *sources)
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith("new ") and "rejected 4" in first
    assert f"rejected: {binary}: binary file" in out
    assert f"rejected: {bad_utf8}: invalid UTF-8" in out
    assert f"rejected: {FIXTURES / 'malformed.xml'}: malformed XML" in out
    stored = open_store(tmp_path / "k.db").conn.execute("SELECT count(*) FROM articles").fetchone()
    code, out, _ = run(capsys, "ingest", "--config", str(config), str(FIXTURES / "rudal_id.txt"))
    assert code == 0 and out.startswith("new 0, duplicate 1, rejected 0")
    assert stored[0] >= 2


def test_check_dry_run_prints_matches_and_changes_nothing(
    capsys, config: Path, tmp_path: Path
) -> None:
    run(capsys, "ingest", "--config", str(config), str(FIXTURES / "rudal_id.txt"))
    code, out, _ = run(capsys, "check", "--dry-run", "--config", str(config))
    assert code == 0
    assert "Keywords: Kim, rudal" in out
    assert "dry run" in out
    db = open_store(tmp_path / "k.db")
    assert (
        db.conn.execute("SELECT count(*) FROM articles WHERE checked_at IS NULL").fetchone()[0] >= 1
    )
    assert db.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_keywords_add_list_remove(capsys, config: Path, tmp_path: Path) -> None:
    assert run(capsys, "keywords", "add", "--config", str(config), '"Kim Jong Un"')[1] == (
        'added: "Kim Jong Un"\n'
    )
    code, out, _ = run(capsys, "keywords", "list", "--config", str(config))
    assert out.splitlines() == ["Kim", "Putin", "rudal", "satelit", '"Kim Jong Un"']
    assert run(capsys, "keywords", "remove", "--config", str(config), "rudal")[1] == (
        "removed: rudal\n"
    )
    code, _, err = run(capsys, "keywords", "remove", "--config", str(config), "rudal")
    assert code == 2 and err == "kabar: error: no such keyword: rudal\n"
    code, _, err = run(capsys, "keywords", "add", "--config", str(config), "--", "-Kim")
    assert code == 2 and err.startswith("kabar: error: invalid keyword query:")
    actors = (
        open_store(tmp_path / "k.db")
        .conn.execute("SELECT actor, action FROM audit WHERE action LIKE 'keyword.%' ORDER BY id")
        .fetchall()
    )
    assert [a for _, a in actors] == ["keyword.seed", "keyword.add", "keyword.remove"]
    assert actors[1][0].startswith("cli:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[schedule]\nchek_seconds = 1\n", "unknown key 'schedule.chek_seconds'"),
        ("default_language = 'de'\n", "'default_language' must be one of id, en"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(capsys, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    code, out, err = run(capsys, "check", "--dry-run", "--config", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and str(path) in err


def test_missing_config_file_named(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "keywords", "list", "--config", str(tmp_path / "nope.toml"))
    assert code == 2 and "nope.toml: config file not found" in err


def test_python_dash_m_bot_runs_as_the_console_script(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "keywords", "list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["Kim", "Putin", "rudal", "satelit"]
    assert (tmp_path / "kabar.db").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[schedule]\nclaim_lease_seconds = 400000000000\n",
            "'schedule.claim_lease_seconds' must be between 3 and 3600, got 400000000000",
        ),
        (
            "[schedule]\ncheck_seconds = 9223372036854775807\n",
            "'schedule.check_seconds' must be between 1 and 86400, got 9223372036854775807",
        ),
        ("[slack]\nport = 70000\n", "'slack.port' must be between 1 and 65535, got 70000"),
        (
            "[[feeds]]\nurl = 'https://x.example/rss'\ninterval_seconds = -5\n",
            "'feeds[0].interval_seconds' must be between 0 and 604800, got -5",
        ),
    ],
)
def test_a_number_out_of_range_is_one_line_and_exit_2(
    capsys, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    for argv in (["check"], ["run"], ["keywords", "list"]):
        code, out, err = run(capsys, *argv, "--config", str(path))
        assert (code, out, err) == (2, "", f"kabar: error: {path}: {message}\n")
    assert not (tmp_path / "kabar.db").exists()


def test_a_store_path_in_a_missing_folder_is_refused(capsys, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[store]\npath = 'dta/kabar.db'\n")  # a typo of data/
    for argv in (["keywords", "list"], ["check"], ["run"], ["ingest", str(FIXTURES)]):
        code, out, err = run(capsys, *argv, "--config", str(path))
        assert (code, out) == (2, "")
        assert err == (
            f"kabar: error: {path}: 'store.path' folder does not exist:"
            f" {tmp_path.resolve() / 'dta'}\n"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_the_database_is_created_owner_only(capsys, config: Path, tmp_path: Path) -> None:
    code, _, _ = run(capsys, "ingest", "--config", str(config), str(FIXTURES / "rudal_id.txt"))
    assert code == 0
    assert (tmp_path / "k.db").stat().st_mode & 0o777 == 0o600


def damage_articles_table(db_file: Path) -> None:
    """Overwrite the first page of the articles table (not read at start-up) with garbage."""
    import sqlite3

    conn = sqlite3.connect(db_file)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'articles'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(db_file, "r+b") as f:
        f.seek((root - 1) * size)
        f.write(b"\xff" * size)


def test_a_damaged_database_is_one_line_and_exit_2(capsys, config: Path, tmp_path: Path) -> None:
    assert run(capsys, "ingest", "--config", str(config), str(FIXTURES / "rudal_id.txt"))[0] == 0
    damage_articles_table(tmp_path / "k.db")
    line = (
        f"kabar: error: {tmp_path.resolve() / 'k.db'}: database disk image is malformed"
        " (the database file is damaged: restore a backup)\n"
    )
    for argv in (["check"], ["check", "--dry-run"], ["ingest", str(FIXTURES / "feed_rss.xml")]):
        code, _, err = run(capsys, *argv, "--config", str(config))
        assert (code, err) == (2, line), argv


def start_run(tmp_path: Path, config: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error" in line.lower() or "Traceback" in line]


def test_run_stops_with_one_line_when_the_database_is_damaged(
    capsys, config: Path, tmp_path: Path
) -> None:
    assert run(capsys, "ingest", "--config", str(config), str(FIXTURES / "rudal_id.txt"))[0] == 0
    damage_articles_table(tmp_path / "k.db")
    proc = start_run(tmp_path, config)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert errors(stderr) == [
        f"kabar: error: {tmp_path.resolve() / 'k.db'}: database disk image"
        " is malformed (the database file is damaged: restore a backup)"
    ]


def test_run_stops_with_one_line_when_the_database_is_deleted(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[store]\npath = 'k.db'\n[schedule]\ndeliver_seconds = 1\n")
    proc = start_run(tmp_path, config)
    try:
        db = tmp_path / "k.db"
        deadline = time.monotonic() + 60
        files = ("k.db", "k.db-wal", "k.db-shm")
        while not all((tmp_path / f).exists() for f in files):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        assert {f: (tmp_path / f).stat().st_mode & 0o777 for f in files} == dict.fromkeys(
            files, 0o600
        )
        for name in files:
            (tmp_path / name).unlink()
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2
    assert errors(stderr) == [
        f"kabar: error: {db.resolve()}: the database file was deleted"
        " while Kabar was running; restart to create a new one"
    ]


# -- a bad keyword query never stops matching (issue 15) ------------------------------------


@pytest.mark.parametrize("bad", ["(", '\\"Jong Un'])
def test_bad_keyword_in_config_is_one_line_naming_it_and_exit_2(
    capsys, tmp_path: Path, bad: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'keywords = ["Kim", "{bad}"]\n[store]\npath = "k.db"\n')
    code, out, err = run(capsys, "check", "--config", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "'keywords[1]' is not a valid keyword query" in err
    assert not (tmp_path / "k.db").exists()  # nothing stored


def _hand_edit(db_path: Path, *queries: str) -> None:
    db = open_store(db_path)
    for query in queries:  # an older Kabar, or a hand edit, stored queries that do not parse
        db.conn.execute(
            "INSERT INTO keywords (query, created_at) VALUES (?, '2024-01-01')", [query]
        )
    db.conn.commit()
    db.close()


def test_stored_bad_keyword_is_skipped_and_the_others_still_match(
    capsys, caplog, config: Path, tmp_path: Path
) -> None:
    run(capsys, "keywords", "list", "--config", str(config))  # seed the database
    _hand_edit(tmp_path / "k.db", "(", '"Jong Un')
    run(capsys, "ingest", "--config", str(config), str(FIXTURES / "rudal_id.txt"))
    code, out, _ = run(capsys, "check", "--dry-run", "--config", str(config))
    assert code == 0 and "Keywords: Kim, rudal" in out
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "'('" in warnings[0] and "'\"Jong Un'" in warnings[0]
    code, out, _ = run(capsys, "check", "--config", str(config))
    assert code == 0 and out.startswith("checked 1 article, queued 0 alerts;")


def test_keywords_remove_removes_any_stored_text(capsys, config: Path, tmp_path: Path) -> None:
    run(capsys, "keywords", "list", "--config", str(config))
    _hand_edit(tmp_path / "k.db", "(")
    code, out, err = run(capsys, "keywords", "remove", "--config", str(config), "--", "(")
    assert (code, out, err) == (0, "removed: (\n", "")
    code, out, _ = run(capsys, "keywords", "list", "--config", str(config))
    assert out.splitlines() == ["Kim", "Putin", "rudal", "satelit"]


def test_ingest_a_folder_takes_its_supported_files_recursively(
    capsys, config: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "news"
    (folder / "b" / "deeper").mkdir(parents=True)
    (folder / ".git").mkdir()
    shutil.copy(FIXTURES / "rudal_id.txt", folder / "b" / "deeper" / "rudal.txt")
    shutil.copy(FIXTURES / "flood_en.txt", folder / "a.txt")
    shutil.copy(FIXTURES / "rudal_id.txt", folder / ".git" / "copy.txt")
    (folder / "notes.md").write_text("not news")
    code, out, _ = run(capsys, "ingest", "--config", str(config), str(folder))
    assert (code, out) == (0, "new 2, duplicate 0, rejected 0\n")
    origins = (
        open_store(tmp_path / "k.db")
        .conn.execute("SELECT origin FROM articles ORDER BY id")
        .fetchall()
    )
    assert origins == [(str(folder / "a.txt"),), (str(folder / "b" / "deeper" / "rudal.txt"),)]
    (tmp_path / "empty").mkdir()
    code, out, _ = run(capsys, "ingest", "--config", str(config), str(tmp_path / "empty"))
    assert code == 1 and f"rejected: {tmp_path / 'empty'}: folder has no supported files" in out


def test_deeply_nested_json_is_one_rejection_and_the_rest_is_stored(
    capsys, config: Path, tmp_path: Path
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 1_000_000)
    lines = tmp_path / "deep.jsonl"
    lines.write_bytes(b'{"text": ' + b"[" * 1_000_000 + b"\n")
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps({"text": (FIXTURES / "rudal_id.txt").read_text()}))
    code, out, err = run(capsys, "ingest", "--config", str(config), str(deep), str(lines), str(ok))
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "new 1, duplicate 0, rejected 2",
        f"rejected: {deep}: malformed JSON: nested too deeply",
        f"rejected: {lines}: JSON line 1: malformed JSON: nested too deeply",
    ]
    db = open_store(tmp_path / "k.db")
    assert db.conn.execute("SELECT origin FROM articles").fetchall() == [(str(ok),)]


def test_ingest_on_a_full_disk_is_one_line(
    capsys, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.cli

    run(capsys, "ingest", "--config", str(config), str(FIXTURES / "flood_en.txt"))

    def full_disk_db(path: object, **kwargs: object):
        db = open_store(path, **kwargs)  # the real store; SQLite then cannot grow the file
        pages = db.conn.execute("PRAGMA page_count").fetchone()[0]
        db.conn.execute(f"PRAGMA max_page_count = {pages}")
        return db

    monkeypatch.setattr(bot.cli, "open_store", full_disk_db)
    big = tmp_path / "big.txt"
    big.write_text((FIXTURES / "rudal_id.txt").read_text() + " kata" * 100_000)
    code, out, err = run(capsys, "ingest", "--config", str(config), str(big))
    assert (code, out) == (2, "")
    assert (
        err == f"kabar: error: {tmp_path / 'k.db'}: cannot store articles: database or disk"
        " is full\n"
    )
    db = open_store(tmp_path / "k.db")
    assert db.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 1  # kept
