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

from bot.matching.tokens import tokenize

__all__ = [
    "MAX_PHRASE_WORDS",
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "MESSAGES",
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


# English text of each error (CLI and logs); chat replies render ``query.<key>`` from the
# handlers' catalogs in the chat's language instead.
MESSAGES: dict[str, str] = {
    "empty": "query is empty",
    "too_long": "query is too long ({length} characters; the limit is {limit})",
    "too_many_terms": "query has too many terms ({count}; the limit is {limit})",
    "phrase_too_long": "phrase is too long ({count} words; the limit is {limit})",
    "unbalanced_quote": "unbalanced quote: the phrase starting at {start} is never closed",
    "phrase_no_letters": "phrase {phrase} has no letters or digits",
    "dash_alone": "'-' must be followed directly by the term to exclude, e.g. Kim -Kardashian",
    "term_no_letters": "term {term} has no letters or digits",
    "or_start": "'OR' at the start needs a term before it",
    "or_double": "'OR OR' needs a term between the two ORs",
    "or_end": "'OR' at the end needs a term after it",
    "only_exclusions": "query has only exclusions ({terms}); add a term to look for,"
    " e.g. Kim -Kardashian",
    "only_exclusions_alt": "alternative {index} of {total} has only exclusions ({terms}); add a"
    " term to look for, e.g. Kim -Kardashian",
    "requires_and_excludes": "query both requires and excludes {term}",
    "requires_and_excludes_alt": "alternative {index} of {total} both requires and excludes {term}",
}


class QueryError(ValueError):
    """A keyword query that cannot be used.

    ``key`` names the error (catalog message ``query.<key>``) and ``params`` fill it, so each
    caller can show it in its user's language; ``str(exc)`` is the one-line English text.
    """

    def __init__(self, key: str, /, **params: object) -> None:
        self.key = key
        self.params = params
        self.query = ""  # the query text, when the error was raised for a named query
        super().__init__(MESSAGES[key].format(**params))

    def for_query(self, text: str) -> QueryError:
        """The same error, its English text naming the query ``text``."""
        named = QueryError(self.key, **self.params)
        named.query = text
        shown = text if len(text) <= 60 else text[:57] + "..."
        named.args = (f"invalid query {shown!r}: {self}",)
        return named


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
        raise QueryError("empty")
    if len(canonical) > MAX_QUERY_CHARS:
        raise QueryError("too_long", length=len(canonical), limit=MAX_QUERY_CHARS)
    groups = _split_on_or(_lex(canonical))
    count = sum(len(group) for group in groups)
    if count > MAX_QUERY_TERMS:
        raise QueryError("too_many_terms", count=count, limit=MAX_QUERY_TERMS)
    alternatives = tuple(
        _alternative(group, index, len(groups)) for index, group in enumerate(groups, 1)
    )
    longest = max(
        (len(term.words) for alt in alternatives for term in (*alt.include, *alt.exclude)),
        default=0,
    )
    if longest > MAX_PHRASE_WORDS:
        raise QueryError("phrase_too_long", count=longest, limit=MAX_PHRASE_WORDS)
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
        raise QueryError("unbalanced_quote", start=repr(text[opening:][:30]))
    inner = text[opening + 1 : close]
    words = _words(inner)
    if not words:
        raise QueryError("phrase_no_letters", phrase=repr(text[opening : close + 1]))
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
        raise QueryError("dash_alone")
    words = _words(word)
    if not words:
        raise QueryError("term_no_letters", term=repr(chunk))
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
            raise QueryError("or_start")
        if not groups[-1]:
            raise QueryError("or_double")
        groups.append([])
    if not groups[-1]:
        raise QueryError("or_end")
    return groups


def _alternative(group: list[_Item], index: int, total: int) -> Alternative:
    include = _unique(item.term for item in group if not item.negated)
    exclude = _unique(item.term for item in group if item.negated)
    suffix, where = ("", {}) if total == 1 else ("_alt", {"index": index, "total": total})
    if not include:
        shown = " ".join(f"-{term}" for term in exclude)
        raise QueryError("only_exclusions" + suffix, terms=shown, **where)
    for term in include:
        if term in exclude:
            raise QueryError("requires_and_excludes" + suffix, term=str(term), **where)
    return Alternative(include, exclude)


def _unique(terms: Iterable[Term]) -> tuple[Term, ...]:
    return tuple(dict.fromkeys(terms))
