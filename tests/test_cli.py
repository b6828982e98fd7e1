"""The `kabar` CLI: exit codes, one-line errors, ingest counts, dry-run output, keyword edits."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from store import open_db

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
    sources = [str(FIXTURES / "rudal_id.txt"), str(FIXTURES / "feed_rss.xml"), str(binary),
               str(bad_utf8), str(FIXTURES / "malformed.xml")]
    code, out, _ = run(capsys, "ingest", "--config", str(config), *sources)
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith("new ") and "rejected 4" in first
    assert f"rejected: {binary}: binary file" in out
    assert f"rejected: {bad_utf8}: invalid UTF-8" in out
    assert f"rejected: {FIXTURES / 'malformed.xml'}: malformed XML" in out
    stored = open_db(tmp_path / "k.db").conn.execute("SELECT count(*) FROM articles").fetchone()
    code, out, _ = run(capsys, "ingest", "--config", str(config), str(FIXTURES / "rudal_id.txt"))
    assert code == 0 and out.startswith("new 0, duplicate 1, rejected 0")
    assert stored[0] >= 2


def test_check_dry_run_prints_matches_and_changes_nothing(capsys, config: Path,
                                                          tmp_path: Path) -> None:
    run(capsys, "ingest", "--config", str(config), str(FIXTURES / "rudal_id.txt"))
    code, out, _ = run(capsys, "check", "--dry-run", "--config", str(config))
    assert code == 0
    assert "Keywords: Kim, rudal" in out
    assert "dry run" in out
    db = open_db(tmp_path / "k.db")
    assert db.conn.execute("SELECT count(*) FROM articles WHERE checked_at IS NULL"
                           ).fetchone()[0] >= 1
    assert db.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_keywords_add_list_remove(capsys, config: Path, tmp_path: Path) -> None:
    assert run(capsys, "keywords", "add", "--config", str(config), '"Kim Jong Un"')[1] == (
        'added: "Kim Jong Un"\n')
    code, out, _ = run(capsys, "keywords", "list", "--config", str(config))
    assert out.splitlines() == ["Kim", "Putin", "rudal", "satelit", '"Kim Jong Un"']
    assert run(capsys, "keywords", "remove", "--config", str(config), "rudal")[1] == (
        "removed: rudal\n")
    code, _, err = run(capsys, "keywords", "remove", "--config", str(config), "rudal")
    assert code == 2 and err == "kabar: error: no such keyword: rudal\n"
    code, _, err = run(capsys, "keywords", "add", "--config", str(config), "--", "-Kim")
    assert code == 2 and err.startswith("kabar: error: invalid keyword query:")
    actors = open_db(tmp_path / "k.db").conn.execute(
        "SELECT actor, action FROM audit WHERE action LIKE 'keyword.%' ORDER BY id").fetchall()
    assert [a for _, a in actors] == ["keyword.seed", "keyword.add", "keyword.remove"]
    assert actors[1][0].startswith("cli:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[schedule]\nchek_seconds = 1\n", "unknown key 'schedule.chek_seconds'"),
        ("default_language = 'de'\n", "'default_language' must be one of id, en"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(capsys, tmp_path: Path, text: str,
                                           message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    code, out, err = run(capsys, "check", "--dry-run", "--config", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and str(path) in err


def test_missing_config_file_named(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "keywords", "list", "--config", str(tmp_path / "nope.toml"))
    assert code == 2 and "nope.toml: config file not found" in err


def test_python_dash_m_bot_runs_as_the_console_script(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bot", "keywords", "list"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["Kim", "Putin", "rudal", "satelit"]
    assert (tmp_path / "kabar.db").exists()


def test_ingest_a_folder_takes_its_supported_files_recursively(capsys, config: Path,
                                                               tmp_path: Path) -> None:
    folder = tmp_path / "news"
    (folder / "b" / "deeper").mkdir(parents=True)
    (folder / ".git").mkdir()
    shutil.copy(FIXTURES / "rudal_id.txt", folder / "b" / "deeper" / "rudal.txt")
    shutil.copy(FIXTURES / "flood_en.txt", folder / "a.txt")
    shutil.copy(FIXTURES / "rudal_id.txt", folder / ".git" / "copy.txt")
    (folder / "notes.md").write_text("not news")
    code, out, _ = run(capsys, "ingest", "--config", str(config), str(folder))
    assert (code, out) == (0, "new 2, duplicate 0, rejected 0\n")
    origins = open_db(tmp_path / "k.db").conn.execute(
        "SELECT origin FROM articles ORDER BY id").fetchall()
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
    db = open_db(tmp_path / "k.db")
    assert db.conn.execute("SELECT origin FROM articles").fetchall() == [(str(ok),)]


def test_ingest_on_a_full_disk_is_one_line(capsys, config: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.cli

    run(capsys, "ingest", "--config", str(config), str(FIXTURES / "flood_en.txt"))

    def full_disk_db(path: object, **kwargs: object):
        db = open_db(path, **kwargs)  # the real store; SQLite then cannot grow the file
        pages = db.conn.execute("PRAGMA page_count").fetchone()[0]
        db.conn.execute(f"PRAGMA max_page_count = {pages}")
        return db

    monkeypatch.setattr(bot.cli, "open_db", full_disk_db)
    big = tmp_path / "big.txt"
    big.write_text((FIXTURES / "rudal_id.txt").read_text() + " kata" * 100_000)
    code, out, err = run(capsys, "ingest", "--config", str(config), str(big))
    assert (code, out) == (2, "")
    assert err == f"kabar: error: {tmp_path / 'k.db'}: cannot store articles: database or disk" \
                  " is full\n"
    db = open_db(tmp_path / "k.db")
    assert db.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 1  # kept
