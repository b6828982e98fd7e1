"""Fitting alert text within a platform's limit: spans, safe cuts, shortening, layout.

The toolkit every formatter (``handlers/*/format.py``) uses; pure functions, no platform
rules. Lengths are UTF-16 code units (``utf16_len``: what Telegram and Slack count, never
fewer than code points). Text is cut in plain text only, before escaping and markup, at a word
boundary when one is near and never inside a grapheme cluster; a cut end gets ``…``. When a
message is too long, parts are shortened in ``TRIM_ORDER`` (snippet, title, keywords, source,
time), each first only down to its floor (``TRIM_FLOORS``), then further; the link goes last.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from bot.alerts.sentence import ELLIPSIS
from bot.matching.spans import Span, merge_spans

Renderer = Callable[[str, Sequence[Span]], str]
URL_LIMIT = 2048  # longer URLs are not linked
_MAX_WORD = 40  # a cut moves back to a word boundary at most this far
TRAILING = " ,;:-–—\t\n"  # stripped before an ellipsis
TRIM_ORDER = ("snippet", "title", "keywords", "source", "published")
# What each part keeps (in formatted UTF-16 units) until every part is down to it; only then
# are parts cut further, in the same order. The floors plus a URL_LIMIT link fit every limit.
TRIM_FLOORS: Mapping[str, int] = {
    "snippet": 240,
    "title": 140,
    "keywords": 400,
    "source": 100,
    "published": 64,
}
_SEPARATOR_SLACK = 3  # the widest separator a part brings with it (" · ")
NON_SPACE_RE = re.compile(r"\S")
_ZWJ = "\u200d"
_JOINERS = frozenset("\u200d\u200c\ufe0e\ufe0f\u20e3")


def fit(text: str, spans: Sequence[Span], render: Renderer, budget: int) -> str:
    """``render(text, spans)``, shortened as little as needed to fit ``budget`` units."""
    full = render(text, spans)
    if utf16_len(full) <= budget:
        return full
    best, lo, hi = "", 0, len(text) - 1  # a cut to 0 characters renders as ""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        candidate = render(*shorten(text, spans, mid))
        if utf16_len(candidate) <= budget:
            best, lo = candidate, mid
        else:
            hi = mid - 1
    return best


def fit_layout(
    fields: Mapping[str, tuple[str, Sequence[Span]]],
    renderers: Mapping[str, Renderer],
    compose: Callable[[Mapping[str, str]], str],
    limit: int,
    fixed: Mapping[str, str] | None = None,
) -> str:
    """``compose`` of every rendered field (plus ``fixed`` parts) within ``limit`` units.

    Fields are shortened in ``TRIM_ORDER``, first no further than ``TRIM_FLOORS``, then as
    far as needed; a ``link`` part is dropped when nothing else helps.
    """
    parts = dict(fixed or {})
    parts.update((name, renderers[name](*value)) for name, value in fields.items())
    for floors in (TRIM_FLOORS, None):
        for name in (n for n in TRIM_ORDER if n in fields):
            if utf16_len(compose(parts)) <= limit:
                break
            budget = limit - utf16_len(compose({**parts, name: ""})) - _SEPARATOR_SLACK
            if floors:
                budget = max(budget, floors[name])
            if utf16_len(parts[name]) > budget:
                parts[name] = fit(*fields[name], renderers[name], budget)
    message = compose(parts)
    if utf16_len(message) > limit and parts.get("link"):
        message = compose({**parts, "link": ""})
    return message


def join_parts(separator: str, *items: str) -> str:
    return separator.join(item for item in items if item)


def labelled(label: str, escape: Callable[[str], str]) -> Renderer:
    """A renderer for ``Label: value`` lines; an empty value renders nothing."""
    return lambda text, _spans: f"{escape(label)} {escape(text)}" if text else ""


def safe_link(url: str) -> str:
    """``url`` stripped when it is an http(s) URL fit to link, else ``""``."""
    url = (url or "").strip()
    if not url or len(url) > URL_LIMIT:
        return ""
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else ""


def compose_message(parts: Mapping[str, str]) -> str:
    """Title and snippet, a blank line, then keywords, source · time and the link."""
    body = join_parts("\n", parts["title"], parts["snippet"])
    meta = join_parts(" · ", parts["source"], parts["published"])
    footer = join_parts("\n", parts["keywords"], parts.get("also", ""), meta, parts["link"])
    return join_parts("\n\n", body, footer)


def also_line(
    label: str,
    names: Sequence[str],
    more: str,
    escape: Callable[[str], str],
    linked: Sequence[str] | None = None,
    budget: int = 900,
) -> str:
    """``Label name, name … +N more``: ``linked`` (already formatted links, one per name)
    when they fit ``budget`` units, else the escaped names; "" without names."""
    if not names:
        return ""
    tail = f" {escape(more)}" if more else ""
    if linked is not None:
        text = f"{escape(label)} {', '.join(linked)}{tail}"
        if utf16_len(text) <= budget:
            return text
    return f"{escape(label)} {', '.join(escape(n) for n in names)}{tail}"


def clip_spans(spans: Iterable[Span], lo: int, hi: int) -> list[Span]:
    """The parts of ``spans`` inside ``[lo, hi)``, as offsets from ``lo``."""
    return [(max(a, lo) - lo, min(b, hi) - lo) for a, b in spans if a < hi and b > lo]


def collapse_whitespace(text: str, spans: Iterable[Sequence[int]]) -> tuple[str, list[Span]]:
    """``text`` trimmed with each whitespace run turned into one space; spans follow along."""
    stripped = text.lstrip()
    lead = len(text) - len(stripped)
    stripped = stripped.rstrip()
    marks = clip_spans(merge_spans(spans, len(text)), lead, lead + len(stripped))
    out: list[str] = []
    new_at = [0] * (len(stripped) + 1)
    for i, ch in enumerate(stripped):
        new_at[i] = len(out)
        if ch.isspace():
            if stripped[i - 1].isspace():  # i > 0: a stripped text starts with no space
                continue
            ch = " "
        out.append(ch)
    new_at[len(stripped)] = len(out)
    return "".join(out), merge_spans(((new_at[a], new_at[b]) for a, b in marks), len(out))


def word_spans(text: str, spans: Iterable[Span]) -> list[Span]:
    """Spans widened to whole words (letters, digits and combining marks)."""
    widened = []
    for a, b in spans:
        while a > 0 and _is_word_char(text[a - 1]):
            a -= 1
        while b < len(text) and _is_word_char(text[b]):
            b += 1
        widened.append((a, b))
    return merge_spans(widened, len(text))


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def mark(
    text: str, spans: Iterable[Span], escape: Callable[[str], str], tags: Sequence[str]
) -> str:
    """``text`` escaped, each span wrapped in ``tags[0]`` ... ``tags[1]``."""
    out, pos = [], 0
    for a, b in spans:
        out += [escape(text[pos:a]), tags[0], escape(text[a:b]), tags[1]]
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (an astral-plane character counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def snippet_window(text: str, match: Span, limit: int) -> tuple[int, int]:
    """``[start, end)`` of about ``limit`` characters around ``match``, a third of it before."""
    a, b = match
    start = max(0, a - max(0, (limit - (b - a)) // 3))
    end = min(len(text), max(b, start + limit))
    start = min(a, max(0, end - limit))  # near the end of the text: more context before
    return _snap_start(text, start, a), _snap_end(text, end, b)


def _snap_start(text: str, start: int, floor_end: int) -> int:
    """Move ``start`` forward to the next word start (not past ``floor_end``) when near."""
    if start == 0 or text[start - 1].isspace() or text[start].isspace():
        return start
    for i in range(start, min(floor_end, start + _MAX_WORD)):
        if text[i].isspace():
            return i + 1
    return _safe_cut(text, start)


def _snap_end(text: str, end: int, floor: int) -> int:
    """Move ``end`` back to the previous word end (not before ``floor``) when near."""
    if end <= floor or end >= len(text) or text[end].isspace() or text[end - 1].isspace():
        return end
    for i in range(end - 1, max(floor, end - _MAX_WORD) - 1, -1):
        if text[i].isspace():
            return i
    return max(floor, _safe_cut(text, end))


def _safe_cut(text: str, i: int) -> int:
    """``i`` moved back so it does not split a grapheme cluster (marks, ZWJ, flags...)."""
    while 0 < i < len(text) and _joins_previous(text, i):
        i -= 1
    return i


def _joins_previous(text: str, i: int) -> bool:
    ch, prev = text[i], text[i - 1]
    if prev == _ZWJ or ch in _JOINERS or unicodedata.category(ch).startswith("M"):
        return True
    code = ord(ch)
    if 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:  # skin tones, tag chars
        return True
    return _is_regional(ch) and _is_regional(prev) and _regional_run(text, i) % 2 == 1


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _regional_run(text: str, i: int) -> int:
    run = 0
    while i - run - 1 >= 0 and _is_regional(text[i - run - 1]):
        run += 1
    return run


def shorten(text: str, spans: Iterable[Span], n: int) -> tuple[str, list[Span]]:
    """``text`` cut to at most ``n`` characters (at a word boundary when near) plus ``…``."""
    if n >= len(text):
        return text, list(spans)
    head = text[: _snap_end(text, max(0, n), 0)].rstrip(TRAILING)
    if not head:
        return "", []
    return head + ELLIPSIS, merge_spans(spans, len(head))
