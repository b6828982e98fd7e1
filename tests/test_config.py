"""Config loading: typed records, env secrets, one clear line per bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import RANGES, ConfigError, check_store_folder, load_config, store_path

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_every_documented_key() -> None:
    config = load_config(EXAMPLE, env={})
    assert config.keywords == ("Kim", "Putin", "rudal", "satelit")
    assert config.default_language == "id"
    assert config.schedule.check_seconds == 60
    assert config.schedule.feed_seconds == 300
    assert config.telegram is not None and config.telegram.admins
    assert config.slack is not None and config.slack.port == 3000


def test_defaults_when_keys_are_absent(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), env={})
    assert config.keywords == ("Kim", "Putin", "rudal", "satelit")
    assert config.store.path == "kabar.db"
    assert not config.telegram_enabled and not config.slack_enabled


def test_secrets_come_from_env(tmp_path: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s3cret",
    }
    config = load_config(write(tmp_path, ""), env=env)
    assert config.telegram is not None and config.telegram.token == "123:abc"
    assert config.slack is not None and config.slack.signing_secret == "s3cret"
    assert config.telegram_enabled and config.slack_enabled


def test_file_value_wins_over_env(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[telegram]\ntoken = "from-file"\n'), env={"TELEGRAM_BOT_TOKEN": "from-env"}
    )
    assert config.telegram is not None and config.telegram.token == "from-file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("keyword = ['Kim']", "unknown key 'keyword'"),
        ("[schedule]\nchek_seconds = 5", "unknown key 'schedule.chek_seconds'"),
        ("[schedule]\ncheck_seconds = 'often'", "'schedule.check_seconds' must be an integer"),
        ("[schedule]\ncheck_seconds = true", "'schedule.check_seconds' must be an integer"),
        (
            "[schedule]\ncheck_seconds = 0",
            "'schedule.check_seconds' must be between 1 and 86400, got 0",
        ),
        ("keywords = 'Kim'", "'keywords' must be a list"),
        ("keywords = [1]", "'keywords[0]' must be a string"),
        ("default_language = 'fr'", "'default_language' must be one of id, en"),
        ("timezone = 'Mars/Olympus'", "'timezone' is not a known time zone"),
        ("[[feeds]]\nname = 'x'", "missing key 'feeds[0].url'"),
        ("[[feeds]]\nurl = 'ftp://x'", "'feeds[0].url' must be an http(s) URL"),
        ("[telegram]\nadmins = ['me']", "'telegram.admins[0]' must be an integer"),
        ("[telegram]\nmode = 'carrier-pigeon'", "'telegram.mode' must be polling or webhook"),
        ("[slack]\nbot_token = 'xoxb'", "'slack.signing_secret' is required"),
        ("[telegram]\nmode = 'webhook'", "'telegram.webhook_url' is required"),
        ("store = 'kabar.db'", "'store' must be a table"),
        ("keywords = [", "invalid TOML"),
        ("keywords = ['Kim', '(']", "'keywords[1]' is not a valid keyword query: term '('"),
        ("keywords = ['\"Jong Un']", "'keywords[0]' is not a valid keyword query: unbalanced"),
        ("keywords = ['rudal', '-Kim']", "'keywords[1]' is not a valid keyword query"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"keywords = ['\xff']")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(bad, env={})


def test_store_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[store]\npath = 'data/k.db'"), env={})
    assert store_path(config) == tmp_path.resolve() / "data" / "k.db"


def _toml_for(key: str, value: int) -> str:
    """A config whose only number is `key` = value (`[]`: the first item of a list)."""
    *sections, name = key.split(".")
    if sections == ["feeds[]"]:
        return f"[[feeds]]\nurl = 'https://feed.example/rss'\n{name} = {value}\n"
    line = f"{name.removesuffix('[]')} = [{value}]" if name.endswith("[]") else f"{name} = {value}"
    return (f"[{sections[0]}]\n" if sections else "") + line + "\n"


@pytest.mark.parametrize(("key", "low", "high"), RANGES, ids=[r[0] for r in RANGES])
def test_every_number_has_a_range(tmp_path: Path, key: str, low: int, high: int) -> None:
    name = key.replace("[]", "[0]")
    for ok in (low, high):
        load_config(write(tmp_path, _toml_for(key, ok)), env={})
    for bad in (low - 1, high + 1, 2**63 - 1):
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, _toml_for(key, bad)), env={})
        assert str(info.value) == (
            f"{tmp_path / 'config.toml'}: '{name}' must be between {low} and {high}, got {bad}"
        )


def test_every_integer_key_is_in_the_range_table() -> None:
    import dataclasses
    import typing

    from bot.config import Config

    def keys(cls: type, prefix: str) -> set[str]:
        found = set()
        for f in dataclasses.fields(cls):
            hint = typing.get_type_hints(cls)[f.name]
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            inner = args[0] if args else hint
            suffix = "[]" if typing.get_origin(hint) is tuple else ""
            if dataclasses.is_dataclass(inner):
                found |= keys(inner, f"{prefix}{f.name}{suffix}.")
            elif inner is int:
                found.add(f"{prefix}{f.name}{suffix}")
        return found

    assert keys(Config, "") == {key for key, _, _ in RANGES}


def test_store_folder_must_exist(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[store]\npath = 'data/k.db'"), env={})
    with pytest.raises(ConfigError) as info:
        check_store_folder(config)
    assert str(info.value) == (
        f"{tmp_path / 'config.toml'}: 'store.path' folder does not exist:"
        f" {tmp_path.resolve() / 'data'}"
    )
    (tmp_path / "data").mkdir()
    assert check_store_folder(config) == tmp_path.resolve() / "data" / "k.db"


def test_a_claim_lease_too_short_for_delivery_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[schedule]\nclaim_lease_seconds = 2")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value) == (
        f"{path}: 'schedule.claim_lease_seconds' must be between 3 and 3600, got 2"
    )
    assert (
        load_config(
            write(tmp_path, "[schedule]\nclaim_lease_seconds = 3"), env={}
        ).schedule.claim_lease_seconds
        == 3
    )


def test_max_attempts_is_configurable_and_at_least_one(tmp_path: Path) -> None:
    assert load_config(EXAMPLE, env={}).schedule.max_attempts == 20
    config = load_config(write(tmp_path, "[schedule]\nmax_attempts = 5"), env={})
    assert config.schedule.max_attempts == 5
    with pytest.raises(
        ConfigError, match=r"'schedule\.max_attempts' must be between 1 and 1000, got 0"
    ):
        load_config(write(tmp_path, "[schedule]\nmax_attempts = 0"), env={})
