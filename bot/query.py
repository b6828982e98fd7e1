"""Keyword query language.

One query per string, written by admins::

    rudal                      a word or name
    "Kim Jong Un"              a phrase (straight or curly quotes)
    satelit OR satellite       alternatives (uppercase OR, binds loosest)
    Kim -Kardashian            exclusion: the term must be absent; -"phrase" works too
    Kim Putin                  several terms in one alternative: all must be present

A bare word that contains separators (``Jong-un``, ``Kim's``) becomes a phrase of its words,
the way the text tokeniser would split it. Parsing is a single linear pass (no regex
backtracking), so hostile input costs nothing special.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from bot.tokens import tokenize

__all__ = [
    "MAX_PHRASE_WORDS",
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "Alternative",
    "Query",
    "QueryError",
    "Term",
    "parse_query",
]

MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 20
MAX_PHRASE_WORDS = 12  # bounds the phrase check's cost on repetitive text
QUOTES = '"“”'
OR = "OR"


class QueryError(ValueError):
    """A keyword query that cannot be used; the message is one line, fit to show a user."""


@dataclass(frozen=True)
class Term:
    """A word (one element) or a phrase (consecutive words); NFC + casefold."""

    words: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1

    def __str__(self) -> str:
        return f'"{" ".join(self.words)}"' if self.is_phrase else self.words[0]


@dataclass(frozen=True)
class Alternative:
    """Holds when every ``include`` term is present and no ``exclude`` term is."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...]


@dataclass(frozen=True)
class Query:
    """A parsed query: matches when any alternative holds."""

    text: str  # canonical text: NFC, whitespace collapsed
    alternatives: tuple[Alternative, ...]

    @property
    def canonical(self) -> str:
        return self.text


@dataclass(frozen=True)
class _Item:
    term: Term
    negated: bool


def canonical_text(text: str) -> str:
    """NFC with runs of whitespace collapsed to one space and ends stripped."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def parse_query(text: str) -> Query:
    """Parse one keyword query; raise ``QueryError`` if it is not usable."""
    canonical = canonical_text(text)
    if not canonical:
        raise QueryError("query is empty")
    if len(canonical) > MAX_QUERY_CHARS:
        raise QueryError(
            f"query is too long ({len(canonical)} characters; the limit is {MAX_QUERY_CHARS})"
        )
    groups = _split_on_or(_lex(canonical))
    count = sum(len(group) for group in groups)
    if count > MAX_QUERY_TERMS:
        raise QueryError(f"query has too many terms ({count}; the limit is {MAX_QUERY_TERMS})")
    alternatives = tuple(
        _alternative(group, index, len(groups)) for index, group in enumerate(groups, 1)
    )
    longest = max((len(term.words) for alt in alternatives
                   for term in (*alt.include, *alt.exclude)), default=0)
    if longest > MAX_PHRASE_WORDS:
        raise QueryError(
            f"phrase is too long ({longest} words; the limit is {MAX_PHRASE_WORDS})")
    return Query(canonical, alternatives)


def _lex(text: str) -> list[_Item | str]:
    """Terms and ``OR`` markers, left to right."""
    items: list[_Item | str] = []
    pos = 0
    while pos < len(text):
        if text[pos] == " ":
            pos += 1
        elif text[pos] in QUOTES or (text[pos] == "-" and _quote_at(text, pos + 1)):
            pos = _lex_phrase(text, pos, items)
        else:
            pos = _lex_word(text, pos, items)
    return items


def _quote_at(text: str, pos: int) -> bool:
    return pos < len(text) and text[pos] in QUOTES


def _lex_phrase(text: str, pos: int, items: list[_Item | str]) -> int:
    negated = text[pos] == "-"
    opening = pos + negated
    close = next((i for i in range(opening + 1, len(text)) if text[i] in QUOTES), -1)
    if close < 0:
        raise QueryError(
            f"unbalanced quote: the phrase starting at {text[opening:][:30]!r} is never closed"
        )
    inner = text[opening + 1 : close]
    words = _words(inner)
    if not words:
        raise QueryError(f"phrase {text[opening : close + 1]!r} has no letters or digits")
    items.append(_Item(Term(words), negated))
    return close + 1


def _lex_word(text: str, pos: int, items: list[_Item | str]) -> int:
    end = pos
    while end < len(text) and text[end] != " " and text[end] not in QUOTES:
        end += 1
    chunk = text[pos:end]
    if chunk == OR:
        items.append(OR)
        return end
    negated = chunk.startswith("-")
    word = chunk[1:] if negated else chunk
    if negated and not word:
        raise QueryError(
            "'-' must be followed directly by the term to exclude, e.g. Kim -Kardashian"
        )
    words = _words(word)
    if not words:
        raise QueryError(f"term {chunk!r} has no letters or digits")
    items.append(_Item(Term(words), negated))
    return end


def _words(text: str) -> tuple[str, ...]:
    return tuple(token.forms[0] for token in tokenize(text))


def _split_on_or(items: list[_Item | str]) -> list[list[_Item]]:
    groups: list[list[_Item]] = [[]]
    for position, item in enumerate(items):
        if isinstance(item, _Item):
            groups[-1].append(item)
            continue
        if position == 0:
            raise QueryError("'OR' at the start needs a term before it")
        if not groups[-1]:
            raise QueryError("'OR OR' needs a term between the two ORs")
        groups.append([])
    if not groups[-1]:
        raise QueryError("'OR' at the end needs a term after it")
    return groups


def _alternative(group: list[_Item], index: int, total: int) -> Alternative:
    include = _unique(item.term for item in group if not item.negated)
    exclude = _unique(item.term for item in group if item.negated)
    where = "query" if total == 1 else f"alternative {index} of {total}"
    if not include:
        shown = " ".join(f"-{term}" for term in exclude)
        raise QueryError(
            f"{where} has only exclusions ({shown}); add a term to look for, e.g. Kim -Kardashian"
        )
    for term in include:
        if term in exclude:
            raise QueryError(f"{where} both requires and excludes {term}")
    return Alternative(include, exclude)


def _unique(terms: Iterable[Term]) -> tuple[Term, ...]:
    return tuple(dict.fromkeys(terms))
