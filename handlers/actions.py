"""Alerts you can act on: the buttons under an alert and what a press does. Platform-neutral.

An alert's keyboard is built from ``ALERT_ACTIONS``, a list of pure functions (the chat, the
alert's keywords with their ids, the language) -> buttons; a later action (e.g. pause) is one
more function in that list plus its branch in ``press``. A button carries ids, never keyword
text (``callback_data`` <= 64 bytes): ``kb:m:<chat row>:<keyword id>`` unsubscribes that
chat (or topic) from that keyword, ``kb:p:<chat row>`` pauses it for 24 hours as the
``pause 24`` verb does, ``kb:u:<action id>`` undoes what an earlier press changed.
A press names its chat row, and an undo its action's, so a button copied into another chat or
made up changes nothing there. The adapters call ``alert_keyboard`` when sending or editing an
alert and ``press`` when a button is pressed; they draw the buttons and answer the press.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.alerts.i18n import resolve_language
from handlers.commands import (
    CommandContext,
    Settings,
    catalog,
    pause_chat,
    pause_restored,
    resume_chat,
)
from store import Store
from store.models import Chat, ChatAction, Keyword

PREFIX = "kb"
MAX_DATA_BYTES = 64  # Telegram's callback_data limit
MAX_MUTE_BUTTONS = 3  # one per matched keyword, the first three; none for the rest
MUTE, UNDO, PAUSE = "m", "u", "p"
PAUSE_HOURS = 24  # the pause button's pause, as ``pause 24``
LABEL_CHARS = 40  # a keyword's part of a button label


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # callback_data (Telegram) / action value (Slack)


@dataclass(frozen=True)
class PressResult:
    """What the adapter shows after a press: the short answer (answerCallbackQuery text or
    an ephemeral line) and the keyboard the alert now carries (None: leave it as it is)."""

    answer: str
    keyboard: tuple[Button, ...] | None = None
    changed: bool = False


ActionBuilder = Callable[[Chat, Sequence[Keyword], str], list[Button]]


def mute_buttons(chat: Chat, keywords: Sequence[Keyword], language: str) -> list[Button]:
    """``🔕 KEYWORD`` for each of the first MAX_MUTE_BUTTONS matched keywords."""
    return [
        Button(mute_label(keyword.query), f"{PREFIX}:{MUTE}:{chat.id}:{keyword.id}")
        for keyword in keywords[:MAX_MUTE_BUTTONS]
    ]


def pause_buttons(chat: Chat, keywords: Sequence[Keyword], language: str) -> list[Button]:
    """``⏸ 24 jam`` / ``⏸ 24 h``: pause the chat (or topic) for PAUSE_HOURS."""
    return [Button(catalog().t(language, "button.pause"), f"{PREFIX}:{PAUSE}:{chat.id}")]


ALERT_ACTIONS: list[ActionBuilder] = [mute_buttons, pause_buttons]


def mute_label(query: str) -> str:
    query = " ".join(query.split())
    if len(query) > LABEL_CHARS:
        query = query[: LABEL_CHARS - 1] + "…"
    return f"🔕 {query}"


def keyboard_for(chat: Chat, keywords: Sequence[Keyword]) -> tuple[Button, ...]:
    """Pure: the alert's buttons, every action of ALERT_ACTIONS in turn."""
    language = resolve_language(chat.language)
    buttons = [b for build in ALERT_ACTIONS for b in build(chat, keywords, language)]
    return tuple(b for b in buttons if len(b.data.encode()) <= MAX_DATA_BYTES)


def alert_keyboard(
    db: Store, platform: str, address: str, queries: Sequence[str]
) -> tuple[Button, ...]:
    """The buttons of an alert with these matched keyword queries to this chat (none when the
    chat or the keywords are not stored: an alert never waits for its buttons)."""
    chat = db.chats.get(platform, address)
    if chat is None or not queries:
        return ()
    named = db.keywords.find_many(queries)
    keywords = [named[q] for q in queries if q in named]
    return keyboard_for(chat, keywords)


def undo_button(language: str, action_id: int) -> Button:
    return Button(catalog().t(language, "button.undo"), f"{PREFIX}:{UNDO}:{action_id}")


def is_button(data: str) -> bool:
    return data.startswith(f"{PREFIX}:")


def parse_data(data: str) -> tuple[str, tuple[int, ...]] | None:
    """``kb:m:12:34`` -> ``("m", (12, 34))``; None when it is not one of ours."""
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != PREFIX or not all(p.isdigit() for p in parts[2:]):
        return None
    numbers = tuple(int(p) for p in parts[2:])
    if (parts[1], len(numbers)) not in {(MUTE, 2), (UNDO, 1), (PAUSE, 1)}:
        return None
    return parts[1], numbers


def press(
    db: Store,
    ctx: CommandContext,
    data: str,
    settings: Settings,
    keyboard: Sequence[Button] = (),
) -> PressResult:
    """A button pressed in ``ctx``'s chat by ``ctx.user_id`` (the adapter has checked that
    they may send the verb there); ``keyboard`` is what the alert carried, restored by the
    undo. A stale or forged button changes nothing and is answered politely; a store failure
    raises (nothing changed: one transaction per press)."""
    chat = db.chats.get(ctx.platform, ctx.chat_address)
    language = resolve_language(chat.language if chat else settings.default_language)

    def say(key: str, **params: object) -> str:
        return catalog().t(language, key, **params)

    parsed = parse_data(data)
    if parsed is None or chat is None:
        return PressResult(say("button.stale"))
    kind, numbers = parsed
    actor = f"{ctx.platform}:{ctx.user_id}"
    if kind == MUTE:
        chat_id, keyword_id = numbers
        if chat_id != chat.id:
            return PressResult(say("button.stale"))
        before = [(b.label, b.data) for b in keyboard]
        action = db.actions.mute(chat.id, keyword_id, actor, before)
        if action is None:  # the keyword was removed since
            return PressResult(say("button.stale"))
        key = "button.muted" if action.was_subscribed else "button.not_subscribed"
        return PressResult(
            say(key, keyword=action.keyword),
            (undo_button(language, action.id),),
            changed=action.was_subscribed or action.was_follow_all,
        )
    if kind == PAUSE:
        (chat_id,) = numbers
        if chat_id != chat.id:
            return PressResult(say("button.stale"))
        before = [(b.label, b.data) for b in keyboard]
        with db.transaction():  # the pause as it was, then the verb's own pause: one change
            paused = db.actions.record_pause(chat.id, actor, before)
            if paused is None:
                return PressResult(say("button.stale"))
            reply = pause_chat(db, ctx, settings, PAUSE_HOURS)
        return PressResult(reply.text, (undo_button(language, paused.id),), changed=True)
    (action_id,) = numbers
    found = db.actions.get(action_id)
    if found is None or found.chat_id != chat.id:
        return PressResult(say("button.stale"))
    if found.kind == "pause":
        return undo_pause(db, ctx, settings, chat, action_id, actor) or PressResult(
            say("button.already_undone")
        )
    undone = None if found.undone else db.actions.undo(action_id, actor)
    if undone is None:
        return PressResult(say("button.already_undone"))
    return PressResult(
        say("button.undone", keyword=undone.keyword or "-"), restored_keyboard(chat, undone), True
    )


def restored_keyboard(chat: Chat, action: ChatAction) -> tuple[Button, ...]:
    """The alert's keyboard before the press (rebuilt when it was not kept)."""
    restored = tuple(Button(label, data) for label, data in action.keyboard)
    if restored:
        return restored
    keywords = [Keyword(action.keyword_id, action.keyword)] if action.keyword_id else []
    return keyboard_for(chat, [k for k in keywords if k.query])


def undo_pause(
    db: Store, ctx: CommandContext, settings: Settings, chat: Chat, action_id: int, actor: str
) -> PressResult | None:
    """Put the chat's pause back as it was before the press (None: already undone). Not
    paused before: the undo is ``resume`` (its reply counts the matches skipped meanwhile;
    they stay skipped, as every match during a pause is, and ``latest`` shows them). Paused
    before: that pause (its end and its start) again."""
    with db.transaction():  # the check, the resume and the restore: one change
        found = db.actions.get(action_id)
        if found is None or found.undone:
            return None
        if found.was_paused_until is None:
            reply = resume_chat(db, ctx, settings)
            undone = db.actions.undo(action_id, actor)
        else:
            undone = db.actions.undo(action_id, actor)
            reply = pause_restored(db, ctx, settings)
    if undone is None:
        return None
    return PressResult(reply.text, restored_keyboard(chat, undone), True)


def refusal(db: Store, ctx: CommandContext, settings: Settings) -> PressResult:
    """The answer to someone who may not send the verbs here (e.g. a channel's reader)."""
    chat = db.chats.get(ctx.platform, ctx.chat_address)
    language = resolve_language(chat.language if chat else settings.default_language)
    return PressResult(catalog().t(language, "button.not_allowed"))


def failure(db: Store, ctx: CommandContext, settings: Settings) -> PressResult:
    """The answer when a press failed (the store, a bug): nothing changed."""
    try:
        chat = db.chats.get(ctx.platform, ctx.chat_address)
    except Exception:
        chat = None
    language = resolve_language(chat.language if chat else settings.default_language)
    return PressResult(catalog().t(language, "error.internal"))
