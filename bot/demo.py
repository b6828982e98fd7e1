"""`kabar demo`: the whole bot in a terminal, with no tokens and no network.

A local SQLite file, the bundled sample articles (written for Kabar) arriving one by one as if
from a news wire, the console chat for commands, and alerts printed as they are delivered.
Interactive on a terminal; a scripted tour when stdin is not a terminal (pipes, CI). Like
``bot.cli`` it is an entry point: it wires the console platform to the app.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from importlib import resources
from pathlib import Path
from typing import TextIO

from bot.app.service import Service
from bot.config import Config, StoreConfig, config_from_dict, load_config, store_path
from bot.ingest.sources import ingest_sources
from bot.stories.assign import stories_config
from handlers.commands import Settings
from handlers.console.adapter import ConsolePlatform, console_command, console_text
from store import open_store

DEMO_DB = "kabar-demo.db"
DEMO_USER = "demo"

SCRIPT_FIRST = ("/help", "/start")
SCRIPT_MIDDLE = ("/lang en",)
SCRIPT_LAST = ("/latest", "/search satelit", '/addkeyword "Kim Jong Un"', "/list", "/stop")


def sample_files() -> list[Path]:
    """The bundled sample articles, in wire order."""
    folder = resources.files("bot") / "samples"
    return sorted(Path(str(p)) for p in folder.iterdir() if not p.name.startswith("."))


def demo_config(config_path: str | None) -> Config:
    """Keywords, language and time zone from --config if given; always the demo's own fresh
    database in the current folder and no platform (a demo never touches real data)."""
    config = load_config(config_path) if config_path else config_from_dict({})
    return dataclasses.replace(
        config, store=StoreConfig(DEMO_DB), source="", telegram=None, slack=None
    )


class Demo:
    def __init__(self, config: Config, out: TextIO, fresh: bool) -> None:
        path = store_path(config)
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        self.db = open_store(path)
        self.db.keywords.seed(config.keywords)
        self.out = out
        self.config = config
        self.platform = ConsolePlatform(out, color=out.isatty())
        self.service = Service(config, self.db, {"console": self.platform.sender})
        self.settings = Settings(
            config.default_language, frozenset({DEMO_USER}), timezone=config.timezone
        )
        self.wire = list(sample_files())
        self.wire_task: asyncio.Task | None = None

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def status(self, key: str, /, **params: object) -> str:
        """A demo status line from the catalogs, in the console chat's language."""
        return console_text(self.db, self.settings, key, **params)

    def command(self, text: str) -> bool:
        reply = console_command(self.db, text, self.settings, user=DEMO_USER)
        self.say(reply.text)
        return reply.ok

    async def typed(self, text: str) -> bool:
        """One line typed at the prompt: the command's reply, then what the delivery modes let
        go now (``/digest now``, ``/digest off``, ``/resume``: the waiting digest is printed)."""
        ok = self.command(text)
        await self.service.run_modes()
        return ok

    async def ingest_next(self) -> bool:
        if not self.wire:
            return False
        path = self.wire.pop(0)
        report = ingest_sources(
            self.db, [str(path)], self.config.ingest.max_bytes, stories=stories_config(self.config)
        )
        counts = {
            "new": report.new,
            "duplicate": report.duplicate,
            "rejected": len(report.rejected),
        }
        self.say("\n" + self.status("wire", name=path.name, **counts))
        result = await self.service.match()
        await self.service.deliver()
        await self.service.run_modes()
        if result is not None and report.new and not result.queued:
            self.say("  " + self.status("no_match"))
        return True

    async def run_wire(self, delay: float) -> None:
        while await self.ingest_next():
            await asyncio.sleep(delay)

    def start_wire(self, delay: float) -> None:
        if self.wire_task is None:
            self.wire_task = asyncio.get_running_loop().create_task(self.run_wire(delay))


async def scripted(demo: Demo) -> None:
    for text in SCRIPT_FIRST:
        demo.say(f"\n> {text}")
        demo.command(text)
    half = len(demo.wire) // 2
    for _ in range(half):
        await demo.ingest_next()
    for text in SCRIPT_MIDDLE:
        demo.say(f"\n> {text}")
        demo.command(text)
    while await demo.ingest_next():
        pass
    for text in SCRIPT_LAST:
        demo.say(f"\n> {text}")
        demo.command(text)


async def interactive(demo: Demo, stdin: TextIO, delay: float) -> None:
    while True:
        demo.out.write("> ")
        demo.out.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line or line.strip().lower() in ("quit", "exit", "/quit", "/exit"):
            break
        if not line.strip():
            continue
        ok = await demo.typed(line.strip())
        verb = line.strip().split()[0].lstrip("/").split("@")[0].lower()
        if ok and verb in ("start", "subscribe"):
            demo.start_wire(delay)
    if demo.wire_task:
        demo.wire_task.cancel()


def run_demo(
    config_path: str | None,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    *,
    interactive_mode: bool | None = None,
    delay: float = 3.0,
) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    config = demo_config(config_path)
    demo = Demo(config, out, fresh=True)
    keywords = ", ".join(config.keywords)
    demo.say(demo.status("banner", db=store_path(config), keywords=keywords) + "\n")
    if interactive_mode is None:
        interactive_mode = stdin.isatty()
    try:
        asyncio.run(interactive(demo, stdin, delay) if interactive_mode else scripted(demo))
        done = demo.status("done")
    finally:
        demo.db.close()
    demo.say("\n" + done)
    return 0
