"""The `kabar` command line. Config is loaded here, once, and passed down."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.alerts.i18n import counted
from bot.alerts.sentence import first_sentence
from bot.config import (
    Config,
    ConfigError,
    check_store_folder,
    config_from_dict,
    load_config,
    resolve_path,
    store_location,
    store_path,
)
from bot.ingest.sources import ingest_sources
from bot.ingest.urls import redact_url
from bot.matching.passes import ArticleMatches, PassResult, matching_pass
from bot.matching.query import QueryError, parse_query
from bot.progress import terminal_bar
from bot.stories.assign import backfill, stories_config
from bot.stories.listing import stories_json, stories_text
from store import DatabaseError, Store, StoreError, damaged, is_corrupt, open_store


class CliError(Exception):
    """Printed as one line `kabar: error: ...`, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default ./config.toml, else env KABAR_CONFIG)",
    )
    parser = argparse.ArgumentParser(
        prog="kabar", description="Keyword news alerts for Telegram and Slack.", parents=[common]
    )
    parser.add_argument("--version", action="version", version=f"kabar {kabar_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("demo", parents=[common], help="try Kabar in the terminal: no tokens needed")
    sub.add_parser("run", parents=[common], help="run the scheduler and configured platforms")
    ingest = sub.add_parser("ingest", parents=[common], help="add articles from files or feeds")
    ingest.add_argument("sources", nargs="+", metavar="SOURCE", help="file or feed URL")
    check = sub.add_parser("check", parents=[common], help="one matching + delivery pass")
    check.add_argument("--dry-run", action="store_true", help="print matches, send nothing")
    keywords = sub.add_parser("keywords", parents=[common], help="list or edit the keyword set")
    kw_sub = keywords.add_subparsers(dest="action", required=True, metavar="ACTION")
    kw_sub.add_parser("list", parents=[common], help="show the keyword queries")
    for verb in ("add", "remove"):
        p = kw_sub.add_parser(verb, parents=[common], help=f"{verb} a keyword query")
        p.add_argument("query", nargs="+", metavar="QUERY")
    add_feeds_parser(sub, common)
    status = sub.add_parser(
        "status",
        parents=[common],
        help="platforms, chats, feeds, outbox, last pass; exit 1 if unwell",
    )
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.add_argument(
        "--offline",
        action="store_true",
        help="do not contact the platforms (reachable: not checked)",
    )
    backup = sub.add_parser(
        "backup",
        parents=[common],
        help="consistent copy of the database, also while `kabar run` runs",
    )
    backup.add_argument("path", metavar="PATH", help="the copy to write")
    backup.add_argument("--force", action="store_true", help="overwrite an existing file")
    stories = sub.add_parser("stories", parents=[common], help="list stored stories, newest first")
    add_store_parser(sub, common)
    stories.add_argument("--json", action="store_true", help="print one JSON array")
    return parser


def kabar_version() -> str:
    """The installed package's version (package metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kabar")
    except PackageNotFoundError:
        return "unknown (not installed)"


def read_config(explicit: str | None) -> Config:
    """The config file; built-in defaults when the default ./config.toml does not exist."""
    path = resolve_path(explicit)
    if explicit is None and not path.exists() and path == Path("config.toml"):
        return config_from_dict({})
    return load_config(path)


def configured_store(config: Config) -> Store:
    db = open_store(store_location(config))
    db.keywords.seed(config.keywords)
    db.feeds.seed([(f.url, f.name, f.interval_seconds) for f in config.feeds])
    backfill(db, stories_config(config))  # articles stored before stories: once, in id order
    return db


def warn_keyword_drift(db: Store, config: Config) -> None:
    """The database is the source of truth; say so when the config file disagrees."""
    only_config, only_db = db.keywords.drift_from_config(config.keywords)
    if only_config or only_db:
        print(
            "kabar: note: keywords are kept in the database; config 'keywords' only seeds a new"
            f" database (config-only: {', '.join(only_config) or '-'};"
            f" database-only: {', '.join(only_db) or '-'})",
            file=sys.stderr,
        )


def cmd_ingest(config: Config, args: argparse.Namespace) -> int:
    try:
        db = configured_store(config)
        bar = terminal_bar()
        try:
            report = ingest_sources(
                db, args.sources, config.ingest.max_bytes, bar, stories=stories_config(config)
            )
        finally:
            if bar is not None:
                bar.close()
    except DatabaseError as exc:  # a full disk, a read-only file: nothing was stored
        if is_corrupt(exc):
            raise  # the damaged-database line, like every other command
        raise CliError(f"{store_path(config)}: cannot store articles: {exc}") from None
    print(report.summary())
    for origin, why in report.duplicates:
        print(f"duplicate: {origin}: {why}")
    for rejection in report.rejected:
        print(f"rejected: {rejection.origin}: {rejection.reason}")
    return 1 if report.rejected else 0


def cmd_check(config: Config, args: argparse.Namespace) -> int:
    db = configured_store(config)
    warn_keyword_drift(db, config)
    warn_feed_drift(db, config)
    if args.dry_run:
        result = matching_pass(db, dry_run=True, on_batch=print_matches)
        print(
            f"checked {counted(result.checked, 'article')}, {result.matched} matched (dry run:"
            " nothing queued or sent)"
        )
        return 0
    from bot.app.runtime import check_once
    from bot.platforms import build_platforms, console_platform

    return check_once(config, db, [*build_platforms(config, db), console_platform()])


def print_matches(batch: PassResult) -> None:
    """One dry-run batch's matches, printed as they come (nothing kept to the end)."""
    for item in batch.details:
        print(describe_match(item))


def describe_match(item: ArticleMatches) -> str:
    article = item.article
    title = article.title or first_sentence(article.text, 80)
    source = f" ({article.source})" if article.source else ""
    keywords = ", ".join(item.keywords)
    return f"#{article.id} [{article.lang}]{source} {title}\n    Keywords: {keywords}"


def cmd_keywords(config: Config, args: argparse.Namespace) -> int:
    db = configured_store(config)
    actor = f"cli:{getpass.getuser()}"
    if args.action == "list":
        for keyword in db.keywords.all():
            print(keyword.query)
        return 0
    text = " ".join(args.query)
    if args.action == "remove" and db.keywords.find(text):
        query = text  # any stored text can be removed, even one that no longer parses
    else:
        try:
            query = parse_query(text).canonical
        except QueryError as exc:
            raise CliError(f"invalid keyword query: {exc}") from None
    if args.action == "add":
        done = db.keywords.add(query, actor)
        print(f"added: {query}" if done else f"already there: {query}")
        return 0
    done = db.keywords.remove(query, actor)
    if not done:
        raise CliError(f"no such keyword: {query}")
    print(f"removed: {done.query}")
    return 0


def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo(args.config)


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    from bot.app.runtime import run_forever
    from bot.platforms import build_platforms

    db = configured_store(config)
    return run_forever(config, db, build_platforms(config, db))


def add_feeds_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    feeds = sub.add_parser("feeds", parents=[common], help="list, edit, import or export feeds")
    actions = feeds.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", parents=[common], help="show the feeds and their last poll")
    add = actions.add_parser("add", parents=[common], help="fetch a feed once and add it")
    add.add_argument("url", metavar="URL")
    add.add_argument("--name", default="", metavar="N", help="a label (default: its title)")
    remove = actions.add_parser("remove", parents=[common], help="remove a feed")
    remove.add_argument("url", metavar="URL", help="the feed's URL or name")
    imp = actions.add_parser("import", parents=[common], help="add the feeds of an OPML file")
    imp.add_argument("file", metavar="FILE.opml")
    exp = actions.add_parser("export", parents=[common], help="write the feeds as OPML")
    exp.add_argument("file", nargs="?", metavar="FILE", help="default: standard output")


def warn_feed_drift(db: Store, config: Config) -> None:
    """Feeds are kept in the database too; say so when config [[feeds]] disagrees."""
    only_config, only_db = db.feeds.drift_from_config(f.url for f in config.feeds)
    if only_config or only_db:
        print(
            "kabar: note: feeds are kept in the database; config [[feeds]] only seed a new"
            f" database (config-only: {', '.join(map(redact_url, only_config)) or '-'};"
            f" database-only: {', '.join(map(redact_url, only_db)) or '-'})",
            file=sys.stderr,
        )


def cmd_feeds(config: Config, args: argparse.Namespace) -> int:
    from bot.app import feedcli

    db = configured_store(config)
    actor = f"cli:{getpass.getuser()}"
    try:
        return feedcli.run(db, config, args, actor)
    except feedcli.FeedCliError as exc:
        raise CliError(str(exc)) from None


def existing_store(config: Config) -> Store:
    """The database, which must exist already (status and backup never create one)."""
    if config.store.url:
        return open_store(config.store.url)
    path = check_store_folder(config)
    if path.as_posix() != ":memory:" and not path.exists():
        raise CliError(
            f"{path}: no database yet ('store.path'; `kabar run` or `kabar ingest` creates it)"
        )
    return open_store(path)


def cmd_status(config: Config, args: argparse.Namespace) -> int:
    import json

    from bot.app.status import build_status, status_text
    from bot.platforms import probe_platforms

    db = existing_store(config)
    try:
        store = db.status()
        database = db.path or str(store_path(config))
    finally:
        db.close()
    probes = None if args.offline else probe_platforms(config)
    report = build_status(config, store, probes, version=kabar_version(), database=database)
    print(
        json.dumps(report.data, ensure_ascii=False, indent=2) if args.json else status_text(report)
    )
    return 0 if report.healthy else 1


def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    db = existing_store(config)
    try:
        size = db.backup(args.path, overwrite=args.force)
    finally:
        db.close()
    print(f"backup written: {args.path} ({size} bytes, integrity_check ok)")
    return 0


def cmd_stories(config: Config, args: argparse.Namespace) -> int:
    db = configured_store(config)
    found = db.stories.latest()
    if args.json:
        print(stories_json(found))
    else:
        for line in stories_text(found, config.timezone):
            print(line)
    return 0


COMMANDS = {
    "feeds": cmd_feeds,
    "ingest": cmd_ingest,
    "check": cmd_check,
    "keywords": cmd_keywords,
    "demo": cmd_demo,
    "run": cmd_run,
    "status": cmd_status,
    "backup": cmd_backup,
    "stories": cmd_stories,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config: Config | None = None
    try:
        config = read_config(args.config) if args.command != "demo" else None
        if config is not None:
            from bot.app.logs import redact_last_resort

            redact_last_resort(config.secrets)
        return COMMANDS[args.command](config, args)  # type: ignore[arg-type]
    except (ConfigError, StoreError, CliError) as exc:
        print(f"kabar: error: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:
        if not is_corrupt(exc):
            raise
        print(
            f"kabar: error: {damaged(store_path(config) if config else 'database', exc)}",
            file=sys.stderr,
        )
        return 2
    except OSError as exc:  # a port in use, an unwritable database folder...
        print(
            f"kabar: error: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""),
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())


def add_store_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    store = sub.add_parser("store", parents=[common], help="move the store to PostgreSQL")
    actions = store.add_subparsers(dest="action", required=True, metavar="ACTION")
    copy = actions.add_parser(
        "copy",
        parents=[common],
        help="copy the SQLite store into PostgreSQL (resumable, verified by counts)",
    )
    copy.add_argument("--to", required=True, metavar="URL", help="postgresql://user@host/db")


def cmd_store(config: Config, args: argparse.Namespace) -> int:
    """`kabar store copy --to URL`: the configured SQLite file (store.path) into PostgreSQL."""
    from store.copy import copy_store

    if not args.to.startswith(("postgresql://", "postgres://")):
        raise CliError(f"--to must be a postgresql:// URL, got {args.to!r}")
    path = check_store_folder(config)
    if not path.exists():
        raise CliError(f"{path}: no SQLite store to copy ('store.path')")
    source = open_store(path)
    try:
        target = open_store(args.to)
        try:
            copied = copy_store(source, target)
        finally:
            target.close()
    finally:
        source.close()
    for table in copied:
        print(f"{table.name}: {table.target} rows ({table.copied} copied now)")
    print(f"store copied to {redact_url(args.to)}: every table's row count matches")
    return 0


COMMANDS["store"] = cmd_store
