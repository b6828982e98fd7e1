"""Telegram's formatting: an Alert as Telegram HTML (parse_mode="HTML", at most 4096 UTF-16
units), HTML back to plain text, long replies split within the limit.

Article strings are escaped with ``html.escape(quote=False)``, the link ``href`` with
``quote=True``; the title is bold with its matches underlined, snippet matches are ``<b>``.
"""

from __future__ import annotations

import html
import re

from bot.alerts.alert import Alert, alert_fields
from bot.alerts.digest import Digest, DigestGroup, DigestItem, Lines, pack, parts_of, source_label
from bot.alerts.fitting import (
    Renderer,
    also_line,
    compose_message,
    fit_layout,
    labelled,
    mark,
    safe_link,
    utf16_len,
)
from bot.alerts.i18n import t
from store.models import DigestPart

TELEGRAM_LIMIT = 4096  # UTF-16 units of a message (telegram.constants.MessageLimit.MAX_TEXT_LENGTH)


def _tg_escape(text: str) -> str:
    return html.escape(text, quote=False)


def to_telegram_html(alert: Alert) -> str:
    """The alert as Telegram HTML (parse_mode="HTML"), at most 4096 UTF-16 units."""
    lang = alert.language
    renderers: dict[str, Renderer] = {
        "title": lambda s, m: f"<b>{mark(s, m, _tg_escape, ('<u>', '</u>'))}</b>" if s else "",
        "snippet": lambda s, m: mark(s, m, _tg_escape, ("<b>", "</b>")),
        "keywords": labelled(t(lang, "alert.keywords"), _tg_escape),
        "source": labelled(t(lang, "alert.source"), _tg_escape),
        "published": labelled(t(lang, alert.date_label), _tg_escape),
    }
    url = safe_link(alert.url)
    link = ""
    if url:
        href = html.escape(url, quote=True)
        link = f'<a href="{href}">{_tg_escape(t(lang, "alert.read_more"))}</a>'
    fields = alert_fields(alert)
    fixed = {"link": link, "also": _also(alert)}
    if alert.reply:  # the short reply to the story's first message: who else, which keywords
        return "\n".join(
            p for p in (fixed["also"], renderers["keywords"](*fields["keywords"])) if p
        )
    return fit_layout(fields, renderers, compose_message, TELEGRAM_LIMIT, fixed)


def _also(alert: Alert) -> str:
    """``Juga diberitakan: <a>Outlet</a>, …`` (links when safe; plain when too long)."""
    lang = alert.language
    names = [m.name for m in alert.also]
    linked = []
    for m in alert.also:
        url = safe_link(m.url)
        linked.append(
            f'<a href="{html.escape(url, quote=True)}">{_tg_escape(m.name)}</a>'
            if url
            else _tg_escape(m.name)
        )
    more = t(lang, "alert.more_sources", n=alert.also_more) if alert.also_more else ""
    return also_line(t(lang, "alert.also_reported"), names, more, _tg_escape, linked)


_LINK_RE = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)


_TAG_RE = re.compile(r"</?[a-z]+(?: [^>]*)?>")


def html_to_plain(text: str) -> str:
    """Telegram HTML as plain text: tags dropped, links as ``label: url``, entities decoded."""
    text = _LINK_RE.sub(lambda m: f"{m.group(2)}: {m.group(1)}", text)
    return html.unescape(_TAG_RE.sub("", text))


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-16 units, cut at line breaks when possible."""
    parts: list[str] = []
    current = ""
    for line in (text or "-").split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while utf16_len(line) > limit:
            cut = limit
            while (excess := utf16_len(line[:cut]) - limit) > 0:
                cut -= max(1, (excess + 1) // 2)  # a code point is 1 or 2 units
            parts.append(line[:cut])
            line = line[cut:]
        current = line
    parts.append(current)
    return [part for part in parts if part] or ["-"]


# ---------------------------------------------------------------- digests


def _digest_header(digest: Digest, number: int) -> str:
    head = f"<b>{_tg_escape(digest.header)}</b>"
    return f"{head}\n{_tg_escape(digest.summary)}" if number == 0 else f"{head} ({number + 1})"


def _digest_heading(digest: Digest, group: DigestGroup, continued: bool) -> str:
    more = f" {_tg_escape(t(digest.language, 'digest.continued'))}" if continued else ""
    return f"\n<b>{_tg_escape(group.keyword)}</b>{more}"


def _digest_item(digest: Digest, item: DigestItem, linked: bool) -> str:
    url = safe_link(item.url) if linked else ""
    title = _tg_escape(item.title)
    if url:
        title = f'<a href="{html.escape(url, quote=True)}">{title}</a>'
    meta = " · ".join(p for p in (_tg_escape(source_label(digest, item)), item.time) if p)
    return f"• {title} — {meta}"


DIGEST_LINES = Lines(_digest_header, _digest_heading, _digest_item)


def digest_messages(digest: Digest, limit: int = TELEGRAM_LIMIT) -> list[DigestPart]:
    """The digest as Telegram HTML messages of at most ``limit`` UTF-16 units, each with the
    outbox rows it delivers."""
    return parts_of(pack(digest, DIGEST_LINES, limit))
