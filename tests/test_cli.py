"""The `kabar` CLI: exit codes, one-line errors, ingest counts, dry-run output, keyword edits."""

from __future__ import annotations

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


# -- a bad keyword query never stops matching (issue 15) ------------------------------------


@pytest.mark.parametrize("bad", ["(", '\\"Jong Un'])
def test_bad_keyword_in_config_is_one_line_naming_it_and_exit_2(capsys, tmp_path: Path,
                                                               bad: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'keywords = ["Kim", "{bad}"]\n[store]\npath = "k.db"\n')
    code, out, err = run(capsys, "check", "--config", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "'keywords[1]' is not a valid keyword query" in err
    assert not (tmp_path / "k.db").exists()  # nothing stored


def _hand_edit(db_path: Path, *queries: str) -> None:
    db = open_db(db_path)
    for query in queries:  # an older Kabar, or a hand edit, stored queries that do not parse
        db.conn.execute("INSERT INTO keywords (query, created_at) VALUES (?, '2024-01-01')",
                        [query])
    db.conn.commit()
    db.close()


def test_stored_bad_keyword_is_skipped_and_the_others_still_match(
        capsys, caplog, config: Path, tmp_path: Path) -> None:
    run(capsys, "keywords", "list", "--config", str(config))  # seed the database
    _hand_edit(tmp_path / "k.db", "(", '"Jong Un')
    run(capsys, "ingest", "--config", str(config), str(FIXTURES / "rudal_id.txt"))
    code, out, _ = run(capsys, "check", "--dry-run", "--config", str(config))
    assert code == 0 and "Keywords: Kim, rudal" in out
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "'('" in warnings[0] and "'\"Jong Un'" in warnings[0]
    code, out, _ = run(capsys, "check", "--config", str(config))
    assert code == 0 and out.startswith("checked 1 articles")


def test_keywords_remove_removes_any_stored_text(capsys, config: Path, tmp_path: Path) -> None:
    run(capsys, "keywords", "list", "--config", str(config))
    _hand_edit(tmp_path / "k.db", "(")
    code, out, err = run(capsys, "keywords", "remove", "--config", str(config), "--", "(")
    assert (code, out, err) == (0, "removed: (\n", "")
    code, out, _ = run(capsys, "keywords", "list", "--config", str(config))
    assert out.splitlines() == ["Kim", "Putin", "rudal", "satelit"]
