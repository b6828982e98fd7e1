"""Sentences for display: an article's first sentence (the title of an untitled wire text) and
the one plain-string truncator (alert parts are cut by ``bot.alerts.fitting.shorten``, which
also carries highlight spans)."""

from __future__ import annotations

import re

ELLIPSIS = "…"

_ABBREVIATIONS = frozenset(
    {"dr", "drs", "dra", "ir", "prof", "jl", "no", "mr", "mrs", "ms", "st", "jr", "sr",
     "vs", "etc", "dkk", "dll", "dsb", "tsb", "kec", "kab", "gen", "lt", "kol", "u.s", "a.s"}
)  # fmt: skip


# A run of end punctuation (and closing quotes/brackets) before a space or the end. Only the
# start of a run may begin a match and the quantifiers are possessive, so a run is scanned
# once (a plain ``[.!?…]+`` retried from every dot of a 25,000-dot run: 22 s).
_SENTENCE_END_RE = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’)\]»]*+(?=\s|\Z)")


_ABBREVIATION_MAX = max(map(len, _ABBREVIATIONS)) + 4  # room for a leading quote/bracket


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the full stop at ``text[end]`` closes an abbreviation or an initial."""
    start = end
    while start > 0 and end - start <= _ABBREVIATION_MAX and not text[start - 1].isspace():
        start -= 1  # a bounded look back: the word before the full stop
    if start > 0 and not text[start - 1].isspace():
        return False  # longer than any abbreviation
    word = text[start:end].lstrip("(\"'“‘").lower()
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. Smith"
    return word in _ABBREVIATIONS


def first_sentence(text: str, limit: int = 140) -> str:
    """The first sentence of the first non-empty line, cut at a word boundary to ``limit``."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    sentence = line
    for match in _SENTENCE_END_RE.finditer(line):
        if match.group() == "." and _is_abbreviation(line, match.start()):
            continue
        sentence = line[: match.end()]
        break
    return truncate(sentence, limit)


def truncate(text: str, limit: int, *, at_word: bool = True) -> str:
    """``text`` in at most ``limit`` characters, ``…`` included when it is cut. ``at_word``:
    the cut moves back to the last space and drops trailing punctuation; otherwise it is a hard
    cut (a command word or a keyword quoted back in a reply)."""
    if len(text) <= limit:
        return text
    if not at_word:
        return text[: limit - 1] + ELLIPSIS
    if limit <= 1:
        return text[:limit]
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—") + ELLIPSIS
