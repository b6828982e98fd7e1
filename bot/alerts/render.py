"""Alert rendering: an article and its matches -> a platform-neutral ``Alert`` -> message text.

Pure functions: no I/O, no platform imports. Every user-visible word comes from the message
catalog (``bot/alerts/locales``); only punctuation lives here.

Decisions:

* Lengths are measured in UTF-16 code units (what Telegram counts; never fewer than code
  points), over the *formatted* string, tags and entities included, so every limit also holds
  for whatever a platform counts after parsing.
* Text is only ever cut in plain text, before escaping and markup, at a word boundary when one
  is near and never inside a combining sequence, an emoji ZWJ sequence or a flag; a cut end
  gets ``…``. So a cut can never split a tag or an entity.
* When a message is too long, parts are shortened in this order: snippet, title, keywords,
  source, time; each first only down to a floor (``_TRIM_FLOORS``: the snippet keeps ~240
  units, the title 140...), then further in the same order if still needed; the link is dropped
  last. A part is never dropped while a shorter form fits.
* Telegram (HTML parse mode): article strings escaped with ``html.escape(quote=False)``, the
  link ``href`` with ``quote=True``; the title is bold with its matches underlined, snippet
  matches are ``<b>``; only ``http``/``https`` URLs of at most ``URL_LIMIT`` characters link.
* Slack (Block Kit): every article string (and keyword) has ``&``, ``<``, ``>`` escaped, so no
  ``<!channel>``/``<@U…>``/``<url|text>`` can be formed. In mrkdwn text the formatting
  characters ``* _ ~ ` `` are replaced by look-alikes (``∗ ˍ ∼ ˋ``) so article text can neither
  open formatting nor break the ``*bold*`` highlight, a bare ``@channel``/``@here``/``@everyone``
  gets an invisible word joiner after ``@``, and mrkdwn objects are sent ``verbatim`` (no
  automatic link or mention parsing). A highlight is widened to its whole word, since Slack only
  renders ``*bold*`` on word boundaries (``rudalnya`` is bold as a whole). The link is
  ``<url|Read more>`` in a context block (no button: no interaction payload to acknowledge).
* Console: matches in ``«…»`` (or ANSI bold with ``color=True``); control characters and bidi
  overrides are removed from article strings so an article cannot drive the terminal.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.alerts.i18n import resolve_language, t
from bot.ingest.clean import first_sentence
from store.models import Article

Span = tuple[int, int]
Renderer = Callable[[str, Sequence[Span]], str]

DEFAULT_TIMEZONE = "Asia/Jakarta"
# Official Indonesian zone names; other zones use zoneinfo's own abbreviation (%Z).
ZONE_ABBREVIATIONS: Mapping[str, str] = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}

# Wire-service and outlet tags (the trailing "(ant)" of a wire text) -> the name readers
# know. Matched case-insensitively on the tag, or its part before "/" ("ant/ida": an editor's
# initials after the slash); an unknown tag is shown as written.
SOURCE_NAMES: Mapping[str, str] = {
    "ant": "Antara",
    "antara": "Antara",
    "afp": "AFP",
    "ap": "AP",
    "rtr": "Reuters",
    "reuters": "Reuters",
    "xinhua": "Xinhua",
    "yonhap": "Yonhap",
    "kyodo": "Kyodo",
    "bernama": "Bernama",
    "bbc": "BBC",
}

ELLIPSIS = "…"
TITLE_LIMIT = 140  # characters, ellipsis included
SNIPPET_LIMIT = 240  # characters of body text around the first match
SOURCE_LIMIT = 100
URL_LIMIT = 2048  # longer URLs are not linked
TELEGRAM_LIMIT = 4096
SLACK_TEXT_LIMIT = 3000
SLACK_HEADER_LIMIT = 150
_MAX_WORD = 40  # a cut moves back to a word boundary at most this far
_TRAILING = " ,;:-–—\t\n"  # stripped before an ellipsis
_TRIM_ORDER = ("snippet", "title", "keywords", "source", "published")
# What each part keeps (in formatted UTF-16 units) until every part is down to it; only then
# are parts cut further, in the same order. The floors plus a URL_LIMIT link fit every limit.
_TRIM_FLOORS: Mapping[str, int] = {
    "snippet": 240,
    "title": 140,
    "keywords": 400,
    "source": 100,
    "published": 64,
}
_SEPARATOR_SLACK = 3  # the widest separator a part brings with it (" · ")

_NON_SPACE_RE = re.compile(r"\S")
_ZWJ = "\u200d"
_JOINERS = frozenset("\u200d\u200c\ufe0e\ufe0f\u20e3")
_SLACK_LOOKALIKES = str.maketrans(
    {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb", "&": "&amp;", "<": "&lt;",
     ">": "&gt;"}
)  # fmt: skip
_SLACK_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_SLACK_MENTION_RE = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ANSI_BOLD = ("\x1b[1m", "\x1b[22m")
_ANSI_UNDERLINE = ("\x1b[4m", "\x1b[24m")
_CONSOLE_MARK = ("«", "»")


@dataclass(frozen=True)
class Alert:
    """Everything a formatter needs, platform-neutral, already in display form."""

    language: str  # "id" or "en"
    keywords: tuple[str, ...]  # every matched keyword query, in order
    title: str
    snippet: str  # body text around the first match, "…" at cut ends
    highlights: tuple[Span, ...] = ()  # match spans inside ``snippet``, merged, sorted
    source: str = ""
    published: str = ""  # display string, e.g. "13 Sep 2023 14:05 WIB"
    url: str = ""  # as given; formatters link it only when it is a safe http(s) URL
    title_highlights: tuple[Span, ...] = ()  # match spans inside ``title``
    received: bool = False  # no publication date: ``published`` is the time it was received

    @property
    def date_label(self) -> str:
        """The catalog key labelling ``published``: ``Terbit:`` or, undated, ``Diterima:``."""
        return "alert.received" if self.received else "alert.published"


# ---------------------------------------------------------------- building an Alert


def build_alert(
    article: Article,
    keywords: Sequence[str],
    spans: Sequence[Span],
    title_spans: Sequence[Span] = (),
    *,
    language: str,
    timezone: str = DEFAULT_TIMEZONE,
) -> Alert:
    """The alert for ``article``: ``spans`` index ``article.text``, ``title_spans`` the title.

    Raises ``zoneinfo.ZoneInfoNotFoundError`` for an unknown ``timezone``.
    """
    language = resolve_language(language)
    body, spans = article.text, list(spans)
    if article.title.strip():
        title, title_highlights = _alert_title(article, title_spans)
    else:
        title, title_highlights, cut = _title_from_text(article.text, spans)
        body, spans = body[cut:], [(a - cut, b - cut) for a, b in spans if a >= cut]
    snippet, highlights = make_snippet(body, spans)
    source, _ = _shorten(source_name(article.source), (), SOURCE_LIMIT - 1)
    return Alert(
        language=language,
        keywords=_unique(keywords),
        title=title or t(language, "alert.no_title"),
        snippet=snippet,
        highlights=highlights,
        source=source,
        published=format_time(article.published or article.ingested_at, language, timezone),
        url=(article.url or "").strip(),
        title_highlights=title_highlights,
        received=article.published is None,
    )


def source_name(source: str) -> str:
    """``"ant"`` -> ``"Antara"`` (``SOURCE_NAMES``); any other source as written."""
    source = " ".join(source.split())
    key = source.lower()
    return SOURCE_NAMES.get(key) or SOURCE_NAMES.get(key.split("/", 1)[0] if "/" in key
                                                      else "", source)


def make_snippet(
    text: str, spans: Sequence[Span], limit: int = SNIPPET_LIMIT
) -> tuple[str, tuple[Span, ...]]:
    """About ``limit`` characters of ``text`` around the first span, cut at word boundaries.

    Whitespace runs (line breaks included) become one space; cut ends get ``…``. Returns the
    snippet and the spans that fall inside it, moved to snippet offsets and merged. Without
    spans the snippet is the start of the text.
    """
    spans = _normalise(spans, len(text))
    if not _NON_SPACE_RE.search(text):
        return "", ()
    start, end = _window(text, spans[0] if spans else (0, 0), limit)
    body, marks = _collapse_whitespace(text[start:end], _clip(spans, start, end))
    if _NON_SPACE_RE.search(text, end):
        body = body.rstrip(_TRAILING)
        marks = _normalise(marks, len(body))
        body += ELLIPSIS
    if _NON_SPACE_RE.search(text, 0, start):
        body = ELLIPSIS + body
        marks = [(a + 1, b + 1) for a, b in marks]
    return body, tuple(marks)


def format_time(moment: datetime, language: str, timezone: str = DEFAULT_TIMEZONE) -> str:
    """``moment`` in ``timezone`` as ``13 Sep 2023 14:05 WIB`` (id) / ``13 Sep 2023, 14:05 WIB``.

    A naive ``moment`` is taken as UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(timezone))
    zone = ZONE_ABBREVIATIONS.get(timezone) or local.strftime("%Z") or timezone
    return t(
        language,
        "alert.datetime",
        day=local.day,
        month=t(language, f"month.short.{local.month}"),
        year=local.year,
        time=f"{local:%H:%M}",
        zone=zone,
    )


def _title_from_text(text: str, spans: Sequence[Span]) -> tuple[str, tuple[Span, ...], int]:
    """An untitled article (the wire's .txt shape): its first sentence is the title, with its
    matches highlighted, and the snippet continues after it instead of repeating it. Returns
    (title, title highlights, offset in text where the rest begins)."""
    title = first_sentence(text, TITLE_LIMIT)
    lead = len(text) - len(text.lstrip())
    sentence = title.removesuffix(ELLIPSIS)
    if not sentence or not text.startswith(sentence, lead):
        return title, (), 0
    cut = lead + len(sentence)  # a cut title: the snippet picks up where it stops
    if not _NON_SPACE_RE.search(text, cut):  # a one-sentence article: said once, as the title
        cut = len(text)
    marks = [(a - lead, b - lead) for a, b in _normalise(spans, len(text)) if b <= cut]
    return title, tuple(marks), cut


def _alert_title(article: Article, title_spans: Sequence[Span]) -> tuple[str, tuple[Span, ...]]:
    title, marks = _collapse_whitespace(article.title or "", title_spans)
    if not title:
        return first_sentence(article.text, TITLE_LIMIT), ()
    title, marks = _shorten(title, marks, TITLE_LIMIT - 1)
    return title, tuple(marks)


def _unique(keywords: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(keywords, str):
        keywords = (keywords,)
    cleaned = (" ".join(str(k).split()) for k in keywords)
    return tuple(dict.fromkeys(k for k in cleaned if k))


# ---------------------------------------------------------------- spans


def _normalise(spans: Iterable[Sequence[int]], length: int) -> list[Span]:
    """Spans sorted, clipped to ``[0, length)``, empty ones dropped, overlapping ones merged."""
    merged: list[Span] = []
    for start, end in sorted((max(0, int(a)), min(length, int(b))) for a, b in spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _clip(spans: Iterable[Span], lo: int, hi: int) -> list[Span]:
    """The parts of ``spans`` inside ``[lo, hi)``, as offsets from ``lo``."""
    return [(max(a, lo) - lo, min(b, hi) - lo) for a, b in spans if a < hi and b > lo]


def _collapse_whitespace(text: str, spans: Iterable[Sequence[int]]) -> tuple[str, list[Span]]:
    """``text`` trimmed with each whitespace run turned into one space; spans follow along."""
    stripped = text.lstrip()
    lead = len(text) - len(stripped)
    stripped = stripped.rstrip()
    marks = _clip(_normalise(spans, len(text)), lead, lead + len(stripped))
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
    return "".join(out), _normalise(((new_at[a], new_at[b]) for a, b in marks), len(out))


def _word_spans(text: str, spans: Iterable[Span]) -> list[Span]:
    """Spans widened to whole words (letters, digits and combining marks)."""
    widened = []
    for a, b in spans:
        while a > 0 and _is_word_char(text[a - 1]):
            a -= 1
        while b < len(text) and _is_word_char(text[b]):
            b += 1
        widened.append((a, b))
    return _normalise(widened, len(text))


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def _mark(
    text: str, spans: Iterable[Span], escape: Callable[[str], str], tags: Sequence[str]
) -> str:
    """``text`` escaped, each span wrapped in ``tags[0]`` ... ``tags[1]``."""
    out, pos = [], 0
    for a, b in spans:
        out += [escape(text[pos:a]), tags[0], escape(text[a:b]), tags[1]]
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


# ---------------------------------------------------------------- cutting and fitting


def _units(text: str) -> int:
    """Length in UTF-16 code units (an astral-plane character counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _window(text: str, match: Span, limit: int) -> tuple[int, int]:
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


def _shorten(text: str, spans: Iterable[Span], n: int) -> tuple[str, list[Span]]:
    """``text`` cut to at most ``n`` characters (at a word boundary when near) plus ``…``."""
    if n >= len(text):
        return text, list(spans)
    head = text[: _snap_end(text, max(0, n), 0)].rstrip(_TRAILING)
    if not head:
        return "", []
    return head + ELLIPSIS, _normalise(spans, len(head))


def _fit(text: str, spans: Sequence[Span], render: Renderer, budget: int) -> str:
    """``render(text, spans)``, shortened as little as needed to fit ``budget`` units."""
    full = render(text, spans)
    if _units(full) <= budget:
        return full
    best, lo, hi = "", 0, len(text) - 1  # a cut to 0 characters renders as ""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        candidate = render(*_shorten(text, spans, mid))
        if _units(candidate) <= budget:
            best, lo = candidate, mid
        else:
            hi = mid - 1
    return best


def _fit_layout(
    fields: Mapping[str, tuple[str, Sequence[Span]]],
    renderers: Mapping[str, Renderer],
    compose: Callable[[Mapping[str, str]], str],
    limit: int,
    fixed: Mapping[str, str] | None = None,
) -> str:
    """``compose`` of every rendered field (plus ``fixed`` parts) within ``limit`` units.

    Fields are shortened in ``_TRIM_ORDER``, first no further than ``_TRIM_FLOORS``, then as
    far as needed; a ``link`` part is dropped when nothing else helps.
    """
    parts = dict(fixed or {})
    parts.update((name, renderers[name](*value)) for name, value in fields.items())
    for floors in (_TRIM_FLOORS, None):
        for name in (n for n in _TRIM_ORDER if n in fields):
            if _units(compose(parts)) <= limit:
                break
            budget = limit - _units(compose({**parts, name: ""})) - _SEPARATOR_SLACK
            if floors:
                budget = max(budget, floors[name])
            if _units(parts[name]) > budget:
                parts[name] = _fit(*fields[name], renderers[name], budget)
    message = compose(parts)
    if _units(message) > limit and parts.get("link"):
        message = compose({**parts, "link": ""})
    return message


def _join(separator: str, *items: str) -> str:
    return separator.join(item for item in items if item)


def _labelled(label: str, escape: Callable[[str], str]) -> Renderer:
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


def _common_fields(alert: Alert) -> dict[str, tuple[str, Sequence[Span]]]:
    title = alert.title.strip() or t(alert.language, "alert.no_title")
    return {
        "title": (title, _normalise(alert.title_highlights, len(title))),
        "snippet": (alert.snippet, _normalise(alert.highlights, len(alert.snippet))),
        "keywords": (", ".join(alert.keywords), ()),
        "source": (alert.source.strip(), ()),
        "published": (alert.published.strip(), ()),
    }


# ---------------------------------------------------------------- Telegram


def _tg_escape(text: str) -> str:
    return html.escape(text, quote=False)


def to_telegram_html(alert: Alert) -> str:
    """The alert as Telegram HTML (parse_mode="HTML"), at most 4096 UTF-16 units."""
    lang = alert.language
    renderers: dict[str, Renderer] = {
        "title": lambda s, m: f"<b>{_mark(s, m, _tg_escape, ('<u>', '</u>'))}</b>" if s else "",
        "snippet": lambda s, m: _mark(s, m, _tg_escape, ("<b>", "</b>")),
        "keywords": _labelled(t(lang, "alert.keywords"), _tg_escape),
        "source": _labelled(t(lang, "alert.source"), _tg_escape),
        "published": _labelled(t(lang, alert.date_label), _tg_escape),
    }
    url = safe_link(alert.url)
    link = ""
    if url:
        href = html.escape(url, quote=True)
        link = f'<a href="{href}">{_tg_escape(t(lang, "alert.read_more"))}</a>'
    fields = _common_fields(alert)
    return _fit_layout(fields, renderers, _compose_message, TELEGRAM_LIMIT, {"link": link})


def _compose_message(parts: Mapping[str, str]) -> str:
    """Title and snippet, a blank line, then keywords, source · time and the link."""
    body = _join("\n", parts["title"], parts["snippet"])
    meta = _join(" · ", parts["source"], parts["published"])
    footer = _join("\n", parts["keywords"], meta, parts["link"])
    return _join("\n\n", body, footer)


# ---------------------------------------------------------------- Slack


def _slack_plain(text: str) -> str:
    """For plain_text objects: only ``&``, ``<``, ``>`` escaped."""
    return text.translate(_SLACK_ENTITIES)


def _slack_text(text: str) -> str:
    """For mrkdwn: entities escaped, formatting characters neutralised, no bare @channel."""
    return _SLACK_MENTION_RE.sub("@\u2060", text.translate(_SLACK_LOOKALIKES))


def _slack_link(url: str, label: str) -> str:
    """``<url|label>``: the URL with ``&`` escaped and ``<``, ``>``, ``|`` percent-encoded."""
    target = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E")
    return f"<{target.replace('|', '%7C')}|{_slack_text(label)}>"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def to_slack(alert: Alert) -> tuple[str, list[dict[str, Any]]]:
    """``(fallback text, Block Kit blocks)``: a header, the snippet, keywords, source/time/link.

    Header ≤ 150, each mrkdwn text and the fallback ≤ 3000 UTF-16 units.
    """
    fields = _common_fields(alert)
    title = _fit(fields["title"][0], (), lambda s, _: _slack_plain(s), SLACK_HEADER_LIMIT)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title or "…"}}
    ]
    snippet, marks = fields["snippet"]
    text = _fit(snippet, _word_spans(snippet, marks), _slack_bold, SLACK_TEXT_LIMIT)
    if text:
        blocks.append({"type": "section", "text": _mrkdwn(text)})
    keywords = _fit(*fields["keywords"], _slack_label(alert, "alert.keywords"), SLACK_TEXT_LIMIT)
    if keywords:
        blocks.append({"type": "section", "text": _mrkdwn(keywords)})
    context = _slack_context(alert, fields)
    if context:
        blocks.append({"type": "context", "elements": [_mrkdwn(item) for item in context]})
    return _slack_fallback(alert, fields), blocks


def _slack_bold(text: str, spans: Sequence[Span]) -> str:
    return _mark(text, spans, _slack_text, ("*", "*"))


def _slack_label(alert: Alert, key: str) -> Renderer:
    return _labelled(t(alert.language, key), _slack_text)


def _slack_context(alert: Alert, fields: Mapping[str, tuple[str, Sequence[Span]]]) -> list[str]:
    items = [
        _fit(*fields[name], _slack_label(alert, key), SLACK_TEXT_LIMIT)
        for name, key in (("source", "alert.source"), ("published", alert.date_label))
    ]
    url = safe_link(alert.url)
    if url:
        items.append(_slack_link(url, t(alert.language, "alert.read_more")))
    return [item for item in items if item]


def _slack_fallback(alert: Alert, fields: Mapping[str, tuple[str, Sequence[Span]]]) -> str:
    """Notification text: the title, then the keywords line, escaped like mrkdwn."""
    renderers: dict[str, Renderer] = {
        "title": lambda s, _: _slack_text(s),
        "keywords": _slack_label(alert, "alert.keywords"),
    }
    chosen = {name: fields[name] for name in renderers}
    return _fit_layout(chosen, renderers, _compose_fallback, SLACK_TEXT_LIMIT)


def _compose_fallback(parts: Mapping[str, str]) -> str:
    return _join("\n", parts["title"], parts["keywords"])


# ---------------------------------------------------------------- console


def _console_clean(text: str) -> str:
    """No control characters (ANSI escapes included) and no bidi overrides."""
    return "".join(
        ch for ch in text if ch not in _BIDI_CONTROLS and unicodedata.category(ch) != "Cc"
    )


def to_console(alert: Alert, *, color: bool = False) -> str:
    """Plain text for a terminal; matches in ``«…»``, or bold (ANSI) with ``color=True``."""
    fields = _common_fields(alert)
    lang = alert.language
    title_text, title_marks = fields["title"]
    title_tags = _ANSI_UNDERLINE if color else _CONSOLE_MARK
    title = _mark(title_text, title_marks, _console_clean, title_tags)
    if color:
        title = f"{_ANSI_BOLD[0]}{title}{_ANSI_BOLD[1]}"
    snippet = _mark(*fields["snippet"], _console_clean, _ANSI_BOLD if color else _CONSOLE_MARK)
    url = safe_link(alert.url)
    parts = {
        "title": title,
        "snippet": snippet,
        "keywords": _labelled(t(lang, "alert.keywords"), _console_clean)(*fields["keywords"]),
        "source": _labelled(t(lang, "alert.source"), _console_clean)(*fields["source"]),
        "published": _labelled(t(lang, alert.date_label), _console_clean)(*fields["published"]),
        "link": f"{t(lang, 'alert.read_more')}: {url}" if url else "",
    }
    return _compose_message(parts)
