"""`kabar feeds list|add|remove|import|export`: the feed list from the command line.

``add`` fetches the feed once (as ``addfeed`` in a chat) and stores nothing when that fails;
``import`` reads an OPML file and adds every entry without fetching (each is fetched at its
first poll, its backlog stored without alerts), reporting added / already there / invalid per
entry; ``export`` writes OPML that ``import`` reads back to the same list.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.app.feeds import FeedOptions, add_feed
from bot.config import Config
from bot.ingest.hosts import URL_PROBLEMS, url_problem
from bot.ingest.opml import OpmlError, OpmlFeed, parse_opml, write_opml
from bot.ingest.urls import redact_url
from store import Store


class FeedCliError(Exception):
    """One line for `kabar: error: ...` (exit 2)."""


def run(db: Store, config: Config, args: argparse.Namespace, actor: str) -> int:
    action = args.action
    if action == "list":
        return list_feeds(db)
    if action == "add":
        return add(db, config, args.url, args.name, actor)
    if action == "remove":
        feed = db.feeds.remove(args.url, actor)
        if feed is None:
            raise FeedCliError(f"no such feed: {args.url}")
        print(f"removed: {redact_url(feed.url)}")
        return 0
    if action == "import":
        return import_opml(db, Path(args.file), actor)
    return export_opml(db, args.file)


def list_feeds(db: Store) -> int:
    for feed in db.feeds.all():
        if feed.last_error:
            state = f"failing ({feed.failures}): {feed.last_error}"
        elif feed.last_polled_at:
            state = f"ok {feed.last_polled_at}"
        else:
            state = "not polled yet"
        name = f" {feed.name}" if feed.name else ""
        print(f"{redact_url(feed.url)}{name} [{state}; next {feed.next_poll_at or 'soon'}]")
    return 0


def add(db: Store, config: Config, url: str, name: str, actor: str) -> int:
    outcome = asyncio.run(add_feed(db, url, name, actor, FeedOptions.from_config(config)))
    shown = redact_url(outcome.url)
    if outcome.status == "invalid":
        raise FeedCliError(f"{shown}: {URL_PROBLEMS[outcome.reason]}")
    if outcome.status == "failed":
        raise FeedCliError(f"{shown}: not added: {outcome.detail}")
    if outcome.status == "exists":
        print(f"already there: {shown}")
        return 0
    print(
        f"added: {shown} ({outcome.title or '-'}; {outcome.items} items, {outcome.alerting}"
        f" recent enough to alert)"
    )
    return 0


def import_opml(db: Store, path: Path, actor: str) -> int:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FeedCliError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        entries = parse_opml(data)
    except OpmlError as exc:
        raise FeedCliError(f"{path}: {exc}") from None
    added = there = invalid = 0
    for entry in entries:
        problem = url_problem(entry.url)
        shown = redact_url(entry.url) or "(empty xmlUrl)"
        if problem is not None:
            invalid += 1
            print(f"invalid: {shown}: {URL_PROBLEMS[problem]}")
        elif db.feeds.add(entry.url.strip(), entry.name, 0, actor) is None:
            there += 1
            print(f"already there: {shown}")
        else:
            added += 1
            print(f"added: {shown}")
    print(f"{path}: added {added}, already there {there}, invalid {invalid}")
    return 1 if invalid else 0


def export_opml(db: Store, file: str | None) -> int:
    data = write_opml(OpmlFeed(f.url, f.name) for f in db.feeds.all())
    if file is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    try:
        Path(file).write_bytes(data)
    except OSError as exc:
        raise FeedCliError(f"{file}: cannot write: {exc.strerror or exc}") from None
    print(f"exported {len(db.feeds.all())} feeds to {file}", file=sys.stderr)
    return 0
