"""Slack's formatting: an Alert as Block Kit, and replies as mrkdwn.

Every article string (and keyword) has ``&``, ``<``, ``>`` escaped, so no
``<!channel>``/``<@U…>``/``<url|text>`` can be formed. In mrkdwn text the formatting characters
``* _ ~ ` `` are replaced by look-alikes (``∗ ˍ ∼ ˋ``) so article text can neither open
formatting nor break the ``*bold*`` highlight, a bare ``@channel``/``@here``/``@everyone`` gets
an invisible word joiner after ``@``, and mrkdwn objects are sent ``verbatim``. A highlight is
widened to its whole word, since Slack only renders ``*bold*`` on word boundaries. The link is
``<url|Read more>`` in a context block (no button: no interaction payload to acknowledge).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.alerts.alert import Alert, alert_fields
from bot.alerts.digest import Digest, DigestGroup, DigestItem, Lines, pack, source_label
from bot.alerts.fitting import (
    Renderer,
    Span,
    also_line,
    fit,
    fit_layout,
    join_parts,
    labelled,
    mark,
    safe_link,
    word_spans,
)
from bot.alerts.i18n import t
from store.models import DigestPart

SLACK_TEXT_LIMIT = 3000


SLACK_HEADER_LIMIT = 150


ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}  # what Slack escapes, both ways
_LOOKALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}  # mrkdwn formatting
_SLACK_ENTITIES = str.maketrans(ENTITIES)
_SLACK_LOOKALIKES = str.maketrans(_LOOKALIKES | ENTITIES)


_SLACK_MENTION_RE = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)


def _slack_plain(text: str) -> str:
    """For plain_text objects: only ``&``, ``<``, ``>`` escaped."""
    return text.translate(_SLACK_ENTITIES)


def mrkdwn_text(text: str) -> str:
    """For mrkdwn: entities escaped, formatting characters neutralised, no bare @channel."""
    return _SLACK_MENTION_RE.sub("@\u2060", text.translate(_SLACK_LOOKALIKES))


def _slack_link(url: str, label: str = "") -> str:
    """``<url|label>`` (``<url>`` without a label): the URL with ``&`` escaped and ``<``, ``>``,
    ``|`` percent-encoded."""
    target = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E")
    target = target.replace("|", "%7C")
    return f"<{target}|{mrkdwn_text(label)}>" if label else f"<{target}>"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def to_slack(alert: Alert) -> tuple[str, list[dict[str, Any]]]:
    """``(fallback text, Block Kit blocks)``: a header, the snippet, keywords, source/time/link.

    Header ≤ 150, each mrkdwn text and the fallback ≤ 3000 UTF-16 units.
    """
    fields = alert_fields(alert)
    also = _slack_also(alert)
    if alert.reply:  # the short reply in the story's thread: who else, which keywords
        keywords = fit(*fields["keywords"], _slack_label(alert, "alert.keywords"), SLACK_TEXT_LIMIT)
        short = [{"type": "section", "text": _mrkdwn(x)} for x in (also, keywords) if x]
        return also or keywords or "…", short
    title = fit(fields["title"][0], (), lambda s, _: _slack_plain(s), SLACK_HEADER_LIMIT)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title or "…"}}
    ]
    snippet, marks = fields["snippet"]
    text = fit(snippet, word_spans(snippet, marks), _slack_bold, SLACK_TEXT_LIMIT)
    if text:
        blocks.append({"type": "section", "text": _mrkdwn(text)})
    keywords = fit(*fields["keywords"], _slack_label(alert, "alert.keywords"), SLACK_TEXT_LIMIT)
    if keywords:
        blocks.append({"type": "section", "text": _mrkdwn(keywords)})
    if also:
        blocks.append({"type": "section", "text": _mrkdwn(also)})
    context = _slack_context(alert, fields)
    if context:
        blocks.append({"type": "context", "elements": [_mrkdwn(item) for item in context]})
    return _slack_fallback(alert, fields), blocks


def _slack_also(alert: Alert) -> str:
    """``Also reported by: <url|Outlet>, …`` (links when safe), at most 3000 units."""
    lang = alert.language
    names = [m.name for m in alert.also]
    linked = [
        _slack_link(url, m.name) if (url := safe_link(m.url)) else mrkdwn_text(m.name)
        for m in alert.also
    ]
    more = t(lang, "alert.more_sources", n=alert.also_more) if alert.also_more else ""
    return also_line(
        t(lang, "alert.also_reported"), names, more, mrkdwn_text, linked, budget=SLACK_TEXT_LIMIT
    )


def _slack_bold(text: str, spans: Sequence[Span]) -> str:
    return mark(text, spans, mrkdwn_text, ("*", "*"))


def _slack_label(alert: Alert, key: str) -> Renderer:
    return labelled(t(alert.language, key), mrkdwn_text)


def _slack_context(alert: Alert, fields: Mapping[str, tuple[str, Sequence[Span]]]) -> list[str]:
    items = [
        fit(*fields[name], _slack_label(alert, key), SLACK_TEXT_LIMIT)
        for name, key in (("source", "alert.source"), ("published", alert.date_label))
    ]
    url = safe_link(alert.url)
    if url:
        items.append(_slack_link(url, t(alert.language, "alert.read_more")))
    return [item for item in items if item]


def _slack_fallback(alert: Alert, fields: Mapping[str, tuple[str, Sequence[Span]]]) -> str:
    """Notification text: the title, then the keywords line, escaped like mrkdwn."""
    renderers: dict[str, Renderer] = {
        "title": lambda s, _: mrkdwn_text(s),
        "keywords": _slack_label(alert, "alert.keywords"),
    }
    chosen = {name: fields[name] for name in renderers}
    return fit_layout(chosen, renderers, _compose_fallback, SLACK_TEXT_LIMIT)


def _compose_fallback(parts: Mapping[str, str]) -> str:
    return join_parts("\n", parts["title"], parts["keywords"])


_URL_RE = re.compile(r"https?://\S+")


def escape_text(text: str) -> str:
    """Text made safe for Slack mrkdwn: no formatting, mention, ping or ``<...>`` link can be
    formed from it; each ``http(s)://`` URL in it becomes an explicit ``<url>`` link."""
    parts: list[str] = []
    end = 0
    for match in _URL_RE.finditer(text):
        parts.append(mrkdwn_text(text[end : match.start()]))
        parts.append(_slack_link(match.group()))
        end = match.end()
    parts.append(mrkdwn_text(text[end:]))
    return "".join(parts)


def unescape_text(text: str) -> str:
    """Slack sends typed ``&``, ``<``, ``>`` as entities: back to the characters typed."""
    for char, entity in reversed(ENTITIES.items()):  # "&amp;" last: "&amp;lt;" stays "&lt;"
        text = text.replace(entity, char)
    return text


# ---------------------------------------------------------------- digests


def _digest_top(digest: Digest, number: int) -> str:
    return mrkdwn_text(digest.summary) if number == 0 else ""


def _digest_heading(digest: Digest, group: DigestGroup, continued: bool) -> str:
    more = f" {mrkdwn_text(t(digest.language, 'digest.continued'))}" if continued else ""
    return f"\n*{mrkdwn_text(group.keyword)}*{more}"


def _digest_item(digest: Digest, item: DigestItem, linked: bool) -> str:
    url = safe_link(item.url) if linked else ""
    title = _slack_link(url, item.title) if url else mrkdwn_text(item.title)
    meta = " · ".join(p for p in (mrkdwn_text(source_label(digest, item)), item.time) if p)
    return f"• {title} — {meta}"


DIGEST_LINES = Lines(_digest_top, _digest_heading, _digest_item)


def digest_messages(digest: Digest, limit: int = SLACK_TEXT_LIMIT) -> list[DigestPart]:
    """The digest as Block Kit messages: a header block (the digest's title, numbered from the
    second message on) and one mrkdwn section of at most ``limit`` units. Each payload is
    ``{"text": fallback, "blocks": [...]}`` as JSON, with the outbox rows it delivers."""
    parts = []
    for seq, (text, rows) in enumerate(pack(digest, DIGEST_LINES, limit)):
        title = digest.header if seq == 0 else f"{digest.header} ({seq + 1})"
        title = fit(title, (), lambda s, _: _slack_plain(s), SLACK_HEADER_LIMIT)
        blocks = [
            {"type": "header", "text": {"type": "plain_text", "text": title or "…"}},
            {"type": "section", "text": _mrkdwn(text.strip() or "…")},
        ]
        fallback = fit(digest.header, (), lambda s, _: mrkdwn_text(s), SLACK_TEXT_LIMIT)
        payload = json.dumps({"text": fallback, "blocks": blocks}, ensure_ascii=False)
        parts.append(DigestPart(seq, payload, rows))
    return parts


# ---------------------------------------------------------------- alert buttons

ACTIONS_BLOCK_ID = "kabar_actions"
ACTION_ID_PREFIX = "kabar_"  # action_id of the n-th button: kabar_0, kabar_1, ...


def actions_block(buttons: Sequence[Any]) -> dict[str, Any]:
    """The alert's buttons (``handlers.actions.Button``) as a Block Kit ``actions`` block:
    plain-text labels (never parsed as mrkdwn), the callback data as each button's value."""
    return {
        "type": "actions",
        "block_id": ACTIONS_BLOCK_ID,
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": b.label[:75], "emoji": True},
                "action_id": f"{ACTION_ID_PREFIX}{n}",
                "value": b.data,
            }
            for n, b in enumerate(buttons)
        ],
    }


def with_buttons(blocks: Sequence[dict[str, Any]], buttons: Sequence[Any]) -> list[dict[str, Any]]:
    """``blocks`` without their buttons block, then ``buttons`` (if any) as the new one."""
    kept = [b for b in blocks if b.get("block_id") != ACTIONS_BLOCK_ID]
    return [*kept, actions_block(buttons)] if buttons else kept


def button_values(blocks: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(label, value) of every button in a message's buttons block."""
    for block in blocks:
        if block.get("block_id") == ACTIONS_BLOCK_ID:
            return [
                (str((e.get("text") or {}).get("text", "")), str(e.get("value", "")))
                for e in block.get("elements") or []
                if e.get("type") == "button"
            ]
    return []
