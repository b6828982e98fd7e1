"""Which platform adapters run: the entry points (``bot.cli``, ``bot.demo``) build them here and
hand them to the app, so the app and the core never import ``handlers``. A new platform is one
more ``if`` below (and its package under ``handlers/``)."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.app.runtime import Platform
from bot.config import Config
from store import Store


def build_platforms(config: Config, db: Store) -> list[Platform]:
    """The adapters for every platform that is configured (only their modules import the
    platform libraries, and only when configured)."""
    platforms: list[Platform] = []
    if config.telegram_enabled:
        from handlers.telegram.adapter import TelegramPlatform

        platforms.append(TelegramPlatform(config, db))
    if config.slack_enabled and config.slack is not None:
        from handlers.slack.adapter import SlackPlatform

        platforms.append(SlackPlatform(config, db, host=config.slack.host))
    return platforms


def console_platform(stream: TextIO | None = None) -> Platform:
    from handlers.console.adapter import ConsolePlatform

    return ConsolePlatform(stream or sys.stdout)


PROBE_TIMEOUT_SECONDS = 5.0


def probe_platforms(
    config: Config, timeout: float = PROBE_TIMEOUT_SECONDS
) -> dict[str, tuple[bool, str]]:
    """`kabar status`: each configured platform's cheap identity call (Telegram getMe, Slack
    auth.test) with a short timeout: name -> (reachable, one line)."""
    import asyncio

    async def probe_all() -> dict[str, tuple[bool, str]]:
        found: dict[str, tuple[bool, str]] = {}
        if config.telegram_enabled and config.telegram is not None:
            from handlers.telegram.adapter import probe as probe_telegram

            found["telegram"] = await probe_telegram(config.telegram, timeout)
        if config.slack_enabled and config.slack is not None:
            from handlers.slack.adapter import probe as probe_slack

            found["slack"] = await probe_slack(config.slack, timeout)
        return found

    return asyncio.run(probe_all())
