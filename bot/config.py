"""Configuration: one TOML file loaded by the entry point into frozen, typed records.

Every key is checked: an unknown key, a wrong type or a bad value raises ConfigError with one
line naming the key. Secrets may come from the environment instead of the file.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.alerts.alert import DEFAULT_TIMEZONE
from bot.alerts.i18n import LANGUAGES

DEFAULT_KEYWORDS = ("Kim", "Putin", "rudal", "satelit")
# Delivery renews a claim every third of the lease, waits included; below this a stalled event
# loop (a long command, a busy store) could let a claim lapse while its alert waits or is sent.
MIN_CLAIM_LEASE_SECONDS = 3


class ConfigError(ValueError):
    """A bad config file or key; the message is one line that names it."""


# (key, min, max) for every number in the config: a value outside is refused with one line
# naming the key. `[]` stands for every item of a list. Bounds keep values meaningful and far
# from overflowing timedelta, SQLite integers or a port number.
RANGES: tuple[tuple[str, int, int], ...] = (
    ("schedule.check_seconds", 1, 86_400),
    ("schedule.feed_seconds", 1, 7 * 86_400),
    ("schedule.deliver_seconds", 1, 3_600),
    ("schedule.retention_days", 1, 36_500),
    # renewed every third of it while alerts wait for pacing or a send: not below 3 s
    ("schedule.claim_lease_seconds", MIN_CLAIM_LEASE_SECONDS, 3_600),
    ("schedule.max_attempts", 1, 1_000),
    ("ingest.max_bytes", 1024, 1_000_000_000),
    ("feeds[].interval_seconds", 0, 7 * 86_400),
    ("telegram.webhook_port", 1, 65_535),
    ("telegram.admins[]", 1, 2**52 - 1),  # Telegram user ids have at most 52 bits
    ("slack.port", 1, 65_535),
    ("ingest.timeout_seconds", 1, 600),
    ("ingest.backfill_hours", 0, 8_760),
    ("http.port", 0, 65_535),
    ("stories.window_hours", 1, 8_760),
)
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class StoreConfig:
    path: str = "kabar.db"
    url: str = ""  # postgresql://user:password@host/db (or env KABAR_DATABASE_URL): PostgreSQL


@dataclass(frozen=True)
class ScheduleConfig:
    check_seconds: int = 60  # matching + delivery pass
    feed_seconds: int = 300  # default feed polling interval
    deliver_seconds: int = 5  # delivery pass for queued and retried alerts
    retention_days: int = 90  # articles and sent alerts older than this are removed
    claim_lease_seconds: int = 30  # a crashed instance's claimed alerts are retried after this
    max_attempts: int = 20  # failed sends (429 waits not counted) before an alert is `failed`


@dataclass(frozen=True)
class IngestConfig:
    max_bytes: int = 5_000_000  # larger files and feed bodies are rejected
    timeout_seconds: int = 20  # a whole feed download (headers and body)
    allow_private_hosts: bool = False  # feeds on private / loopback addresses are refused
    backfill_hours: int = 6  # a new feed's items alert only when published this recently


@dataclass(frozen=True)
class FeedConfig:
    url: str
    interval_seconds: int = 0  # 0: use schedule.feed_seconds
    name: str = ""


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    admins: tuple[int, ...] = ()
    mode: str = "polling"  # "polling" or "webhook"
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_port: int = 8443


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str = ""
    signing_secret: str = ""
    base_url: str = "https://slack.com/api/"
    port: int = 3000
    host: str = "0.0.0.0"  # interface the HTTP endpoint listens on
    admins: tuple[str, ...] = ()
    app_token: str = ""  # xapp-...: Socket Mode instead of HTTP


@dataclass(frozen=True)
class HttpConfig:
    port: int = 0  # 0: no HTTP endpoint; else GET /healthz and GET /metrics on it
    host: str = "127.0.0.1"  # interface it listens on


@dataclass(frozen=True)
class StoriesConfig:
    window_hours: int = 48  # a new article joins a story with an article published this close


@dataclass(frozen=True)
class Config:
    keywords: tuple[str, ...] = DEFAULT_KEYWORDS
    default_language: str = "id"
    timezone: str = DEFAULT_TIMEZONE
    store: StoreConfig = field(default_factory=StoreConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    feeds: tuple[FeedConfig, ...] = ()
    telegram: TelegramConfig | None = None
    slack: SlackConfig | None = None
    http: HttpConfig = field(default_factory=HttpConfig)
    log_level: str = "info"  # debug | info | warning | error
    log_format: str = "text"  # text | json (one JSON object per line)
    stories: StoriesConfig = field(default_factory=StoriesConfig)
    source: str = ""  # the file it was read from ("" = built-in defaults)

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram is not None and bool(self.telegram.token)

    @property
    def slack_enabled(self) -> bool:
        return self.slack is not None and bool(self.slack.bot_token)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every configured secret (tokens, signing secret): never written to a log line."""
        values = []
        if self.telegram is not None:
            values += [self.telegram.token, self.telegram.webhook_secret]
        if self.slack is not None:
            values += [self.slack.bot_token, self.slack.signing_secret, self.slack.app_token]
        return tuple(v for v in values if v)


ENV_SECRETS = {
    ("telegram", "token"): "TELEGRAM_BOT_TOKEN",
    ("slack", "bot_token"): "SLACK_BOT_TOKEN",
    ("slack", "signing_secret"): "SLACK_SIGNING_SECRET",
    ("slack", "app_token"): "SLACK_APP_TOKEN",
    ("store", "url"): "KABAR_DATABASE_URL",
}


def resolve_path(path: str | None) -> Path:
    """`--config` if given, else env KABAR_CONFIG, else ./config.toml."""
    return Path(path or os.environ.get("KABAR_CONFIG") or "config.toml")


def load_config(path: str | Path, env: typing.Mapping[str, str] | None = None) -> Config:
    """Read and validate a TOML config file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return config_from_dict(raw, env=env, source=str(path))


def config_from_dict(
    raw: dict[str, Any], env: typing.Mapping[str, str] | None = None, source: str = ""
) -> Config:
    """Build a Config from parsed TOML, applying env secrets; raises ConfigError."""
    env = os.environ if env is None else env
    raw = dict(raw)
    for (section, key), var in ENV_SECRETS.items():
        if env.get(var):
            table = raw.setdefault(section, {})
            if isinstance(table, dict):
                table.setdefault(key, env[var])
    try:
        config = _build(Config, raw, "")
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}" if source else str(exc)) from None
    config = dataclasses.replace(config, source=source)
    _check_values(config, source)
    return config


def _build(cls: type, raw: Any, prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"'{prefix.rstrip('.')}' must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    kwargs = {}
    for key, value in raw.items():
        if key not in fields:
            raise ConfigError(f"unknown key '{prefix}{key}'")
        kwargs[key] = _convert(hints[key], value, f"{prefix}{key}")
    missing = [
        name
        for name, f in fields.items()
        if name not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"missing key '{prefix}{missing[0]}'")
    return cls(**kwargs)


_SCALAR_TYPES: dict[type, type | tuple[type, ...]] = {
    int: int,
    str: str,
    bool: bool,
    float: (int, float),
}


def _convert(hint: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        inner = next(a for a in typing.get_args(hint) if a is not type(None))
        return _convert(inner, value, key)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, f"{key}.")
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ConfigError(f"'{key}' must be a list")
        return tuple(_convert(item, v, f"{key}[{i}]") for i, v in enumerate(value))
    expected = _SCALAR_TYPES[hint]
    if (isinstance(value, bool) and hint is not bool) or not isinstance(value, expected):
        raise ConfigError(f"'{key}' must be {_type_name(hint)}, got {value!r}")
    return value


def _type_name(hint: Any) -> str:
    return {int: "an integer", str: "a string", bool: "true or false", float: "a number"}[hint]


def _check_values(config: Config, source: str) -> None:
    def fail(msg: str) -> None:
        raise ConfigError(f"{source}: {msg}" if source else msg)

    _check_keywords(config.keywords, fail)
    if config.default_language not in LANGUAGES:
        fail(
            f"'default_language' must be one of {', '.join(LANGUAGES)}, got "
            f"{config.default_language!r}"
        )
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"'timezone' is not a known time zone: {config.timezone!r}")
    for key, low, high in RANGES:
        for name, value in _values(config, key):
            if not low <= value <= high:
                fail(f"'{name}' must be between {low} and {high}, got {value}")
    if not config.store.path:
        fail("'store.path' must not be empty")
    if config.store.url and not config.store.url.startswith(("postgresql://", "postgres://")):
        fail("'store.url' must be a postgresql:// URL (or leave it empty for the SQLite file)")
    for i, feed in enumerate(config.feeds):
        if not feed.url.startswith(("http://", "https://")):
            fail(f"'feeds[{i}].url' must be an http(s) URL, got {feed.url!r}")
    if config.telegram and config.telegram.mode not in ("polling", "webhook"):
        fail(f"'telegram.mode' must be polling or webhook, got {config.telegram.mode!r}")
    if (
        config.telegram
        and config.telegram.mode == "webhook"
        and not config.telegram.webhook_url.startswith(("https://", "http://"))
    ):
        fail("'telegram.webhook_url' is required when telegram.mode = \"webhook\"")
    if config.log_level not in LOG_LEVELS:
        fail(f"'log_level' must be one of {', '.join(LOG_LEVELS)}, got {config.log_level!r}")
    if config.log_format not in LOG_FORMATS:
        fail(f"'log_format' must be text or json, got {config.log_format!r}")
    if not config.http.host:
        fail("'http.host' must not be empty")
    if (
        config.slack
        and config.slack.bot_token
        and not (config.slack.signing_secret or config.slack.app_token)
    ):
        fail("'slack.signing_secret' is required (or env SLACK_SIGNING_SECRET)")


def _values(config: Config, key: str) -> list[tuple[str, int]]:
    """(name, value) for a RANGES key: one for a plain key, one per item for `[]`, none when
    its section is absent."""
    found: list[tuple[str, Any]] = [("", config)]
    for part in key.split("."):
        attr, many = part.removesuffix("[]"), part.endswith("[]")
        found = [
            (f"{name}.{attr}".lstrip("."), getattr(obj, attr))
            for name, obj in found
            if obj is not None
        ]
        if many:
            found = [
                (f"{name}[{i}]", item) for name, items in found for i, item in enumerate(items)
            ]
    return found


def check_store_folder(config: Config) -> Path:
    """The database path, refused (one line naming `store.path`) when its folder does not
    exist: a typo must not look like a fresh, empty bot."""
    path = store_path(config)
    if path.as_posix() != ":memory:" and not path.parent.is_dir():
        where = f"{config.source}: " if config.source else ""
        raise ConfigError(f"{where}'store.path' folder does not exist: {path.parent}")
    return path


def _check_keywords(keywords: tuple[str, ...], fail: typing.Callable[[str], None]) -> None:
    """Every keyword query must parse: a bad one would otherwise be stored and skipped."""
    from bot.matching.query import QueryError, parse_query

    for i, query in enumerate(keywords):
        try:
            parse_query(query)
        except QueryError as exc:
            fail(f"'keywords[{i}]' is not a valid keyword query: {exc}")


def store_path(config: Config) -> Path:
    """The database path, relative to the config file's folder when not absolute."""
    path = Path(config.store.path)
    if path.is_absolute() or not config.source or path.as_posix() == ":memory:":
        return path
    return Path(config.source).resolve().parent / path


def store_location(config: Config) -> str:
    """What ``store.open_store`` opens: the ``store.url`` (PostgreSQL) when set, else the
    SQLite file path (its folder checked, see ``check_store_folder``)."""
    return config.store.url or str(check_store_folder(config))
