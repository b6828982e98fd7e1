"""The console's formatting: an Alert as plain terminal text. Matches in ``«…»`` (or ANSI bold
with ``color=True``); control characters and bidi overrides are removed from article strings
so an article cannot drive the terminal.
"""

from __future__ import annotations

import unicodedata

from bot.alerts.alert import Alert, alert_fields
from bot.alerts.digest import Digest, DigestGroup, DigestItem, Lines, pack, parts_of, source_label
from bot.alerts.fitting import also_line, compose_message, labelled, mark, safe_link
from bot.alerts.i18n import t
from store.models import DigestPart

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


_ANSI_BOLD = ("\x1b[1m", "\x1b[22m")


_ANSI_UNDERLINE = ("\x1b[4m", "\x1b[24m")


_CONSOLE_MARK = ("«", "»")


def _console_clean(text: str) -> str:
    """No control characters (ANSI escapes included) and no bidi overrides."""
    return "".join(
        ch for ch in text if ch not in _BIDI_CONTROLS and unicodedata.category(ch) != "Cc"
    )


def to_console(alert: Alert, *, color: bool = False) -> str:
    """Plain text for a terminal; matches in ``«…»``, or bold (ANSI) with ``color=True``."""
    fields = alert_fields(alert)
    lang = alert.language
    title_text, title_marks = fields["title"]
    title_tags = _ANSI_UNDERLINE if color else _CONSOLE_MARK
    title = mark(title_text, title_marks, _console_clean, title_tags)
    if color:
        title = f"{_ANSI_BOLD[0]}{title}{_ANSI_BOLD[1]}"
    snippet = mark(*fields["snippet"], _console_clean, _ANSI_BOLD if color else _CONSOLE_MARK)
    url = safe_link(alert.url)
    parts = {
        "title": title,
        "snippet": snippet,
        "keywords": labelled(t(lang, "alert.keywords"), _console_clean)(*fields["keywords"]),
        "source": labelled(t(lang, "alert.source"), _console_clean)(*fields["source"]),
        "published": labelled(t(lang, alert.date_label), _console_clean)(*fields["published"]),
        "link": f"{t(lang, 'alert.read_more')}: {url}" if url else "",
        "also": also_line(
            t(lang, "alert.also_reported"),
            [m.name for m in alert.also],
            t(lang, "alert.more_sources", n=alert.also_more) if alert.also_more else "",
            _console_clean,
        ),
    }
    if alert.reply:
        return "\n".join(p for p in (parts["also"], parts["keywords"]) if p)
    return compose_message(parts)


# ---------------------------------------------------------------- digests

CONSOLE_DIGEST_LIMIT = 4000  # characters per printed digest message (a screenful or so)


def _digest_header(digest: Digest, number: int) -> str:
    head = _console_clean(digest.header)
    return f"{head}\n{_console_clean(digest.summary)}" if number == 0 else f"{head} ({number + 1})"


def _digest_heading(digest: Digest, group: DigestGroup, continued: bool) -> str:
    more = f" {t(digest.language, 'digest.continued')}" if continued else ""
    return f"\n{_console_clean(group.keyword)}{more}"


def _digest_item(digest: Digest, item: DigestItem, linked: bool) -> str:
    url = safe_link(item.url) if linked else ""
    meta = " · ".join(p for p in (_console_clean(source_label(digest, item)), item.time) if p)
    line = f"• {_console_clean(item.title)} — {meta}"
    return f"{line}\n  {url}" if url else line


DIGEST_LINES = Lines(_digest_header, _digest_heading, _digest_item)


def digest_messages(digest: Digest, limit: int = CONSOLE_DIGEST_LIMIT) -> list[DigestPart]:
    return parts_of(pack(digest, DIGEST_LINES, limit, measure=len))
