"""Word tokens for keyword matching.

A token is a run of Unicode letters and digits, plus combining marks. Everything else
(underscore, punctuation, hyphens, apostrophes, quotes, brackets, spaces) separates tokens.
Zero-width characters and the soft hyphen (``IGNORABLES``) never split a word: they are kept
inside the token's span but dropped from its normalised form.

Token spans are offsets into the ORIGINAL string (no normalisation is applied before
scanning), so ``text[start:end]`` is always the word as written.

Normalised forms are NFC + casefold. A text token also carries Indonesian clitic-stripped
variants: ``rudalnya`` -> ``rudal``, ``Kimlah`` -> ``kim``, ``rudalnyalah`` -> ``rudalnya``
and ``rudal``; the stem must keep at least ``MIN_STEM`` characters.

Besides the public ``Token`` / ``tokenize`` / ``normalize_word``, this module holds the
allocation-light helpers the matcher's hot path uses (``scan_patterns``, ``raw_token_set``,
``find_token``, ``next_token``, ``token_forms``, ``phrase_word_matches``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import filterfalse
from typing import NamedTuple

__all__ = [
    "IGNORABLES",
    "MIN_STEM",
    "PARTICLE_CLITICS",
    "POSSESSIVE_CLITICS",
    "Token",
    "normalize_word",
    "tokenize",
]

# Zero-width space / non-joiner / joiner, word joiner, BOM (zero-width no-break space), soft hyphen.
IGNORABLES = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
POSSESSIVE_CLITICS = ("nya", "ku", "mu")
PARTICLE_CLITICS = ("lah", "kah", "pun")
MIN_STEM = 3
# Inside a phrase, words after the first may keep a 2-character stem ("Kim Jong Unnya"):
# the preceding words already anchor the match, so the short stem is safe there.
MIN_PHRASE_STEM = 2
# Tokens longer than this (hashes, base64 runs) are never memoised, to bound memory.
LONG_TOKEN = 100

_DROP_IGNORABLES = str.maketrans(dict.fromkeys(IGNORABLES))
# bytes.translate table: ASCII letters/digits and every non-ASCII byte (UTF-8 sequences) kept,
# every other ASCII byte blanked to a space.
_ASCII_SEPARATORS = bytes(c if c >= 0x80 or chr(c).isalnum() else 0x20 for c in range(256))


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: ``text[start:end]`` is the word as written."""

    start: int
    end: int
    forms: tuple[str, ...]  # normalised word first, then clitic-stripped variants


def is_token_char(ch: str) -> bool:
    """True if ``ch`` belongs inside a word (letter, digit, combining mark or ignorable)."""
    return ch.isalnum() or (
        ch >= "\x80" and (ch in IGNORABLES or unicodedata.category(ch)[0] == "M")
    )


def _class_body(*blocks: range) -> str:
    """A regex character-class body listing every token character in ``blocks``."""
    parts: list[str] = []
    first = last = -1
    for block in blocks:
        for cp in block:
            if not is_token_char(chr(cp)):
                continue
            if cp != last + 1 and first >= 0:
                parts.append(_class_range(first, last))
                first = -1
            if first < 0:
                first = cp
            last = cp
    if first >= 0:
        parts.append(_class_range(first, last))
    return "".join(parts)


def _class_range(first: int, last: int) -> str:
    def esc(cp: int) -> str:
        return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"

    return esc(first) if first == last else f"{esc(first)}-{esc(last)}"


class ScanPatterns(NamedTuple):
    """Compiled regexes for one text: ``token`` finds words, ``separator`` the gaps between
    them, ``next`` skips to the next word (group 1)."""

    token: re.Pattern[str]
    separator: re.Pattern[str]
    next: re.Pattern[str]


def _patterns(body: str) -> ScanPatterns:
    return ScanPatterns(
        re.compile(f"[{body}]+"), re.compile(f"[^{body}]+"), re.compile(f"[^{body}]*([{body}]+)")
    )


# Basic Multilingual Plane only: the regex engine turns this class into a lookup table, which
# is several times faster than a class that mixes in \w or non-BMP ranges.
_BMP_BODY = _class_body(range(0x10000))
_BMP = _patterns(_BMP_BODY)
_NON_BMP_RE = re.compile("[\U00010000-\U0010ffff]")


@cache
def _full_patterns() -> ScanPatterns:
    """Patterns that also know non-BMP letters and marks (built on first use, ~0.1 s).

    Planes 4-13 are unassigned and planes 15-16 are private use, so they hold no token
    characters.
    """
    body = _BMP_BODY + _class_body(range(0x10000, 0x40000), range(0xE0000, 0xF0000))
    return _patterns(body)


def scan_patterns(text: str) -> ScanPatterns:
    """The cheapest patterns that tokenise ``text`` exactly."""
    if text.isascii() or _NON_BMP_RE.search(text) is None:
        return _BMP
    return _full_patterns()


def normalize_word(word: str) -> str:
    """NFC + casefold, with zero-width characters and soft hyphens removed."""
    if word.isascii():
        return word.lower()
    word = unicodedata.normalize("NFC", word.translate(_DROP_IGNORABLES)).casefold()
    if unicodedata.is_normalized("NFC", word):
        return word
    return unicodedata.normalize("NFC", word)


def clitic_stems(word: str, min_stem: int = MIN_STEM) -> tuple[str, ...]:
    """Stems of a normalised word after removing one clitic or a possessive+particle pair."""
    stems: list[str] = []
    for particle in PARTICLE_CLITICS:
        if word.endswith(particle):
            base = word[: -len(particle)]
            if len(base) >= min_stem:
                stems.append(base)  # rudalnyalah -> rudalnya
            stems.extend(_strip_possessive(base, min_stem))  # rudalnyalah -> rudal
            break
    stems.extend(_strip_possessive(word, min_stem))  # rudalnya -> rudal
    return tuple(stems)


def _strip_possessive(word: str, min_stem: int) -> list[str]:
    for possessive in POSSESSIVE_CLITICS:
        if word.endswith(possessive):
            stem = word[: -len(possessive)]
            return [stem] if len(stem) >= min_stem else []
    return []


def token_forms(raw: str) -> tuple[str, ...]:
    """Normalised form of a raw token followed by its clitic-stripped stems; () if empty."""
    return _cached_forms(raw) if len(raw) <= LONG_TOKEN else _forms(raw)


def _forms(raw: str) -> tuple[str, ...]:
    word = normalize_word(raw)
    if not word:
        return ()
    return (word, *clitic_stems(word))


_cached_forms = lru_cache(maxsize=1 << 16)(_forms)


def phrase_word_matches(raw: str, word: str) -> bool:
    """Does raw text token ``raw`` match ``word`` in a non-first position of a phrase?"""
    forms = token_forms(raw)
    if word in forms:
        return True
    return (
        bool(forms)
        and len(word) < MIN_STEM
        and word in clitic_stems(forms[0], min_stem=MIN_PHRASE_STEM)
    )


def trim_span(raw: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a token span so it does not begin or end with ignorable characters."""
    if raw[0] in IGNORABLES:
        start += len(raw) - len(raw.lstrip(IGNORABLES))
    if raw[-1] in IGNORABLES:
        end -= len(raw) - len(raw.rstrip(IGNORABLES))
    return start, end


def tokenize(text: str) -> list[Token]:
    """All words of ``text`` in order, with spans into ``text`` and normalised forms."""
    tokens: list[Token] = []
    for m in scan_patterns(text).token.finditer(text):
        raw = m.group()
        forms = token_forms(raw)
        if forms:  # a run of only zero-width characters is not a word
            start, end = trim_span(raw, m.start(), m.end())
            tokens.append(Token(start, end, forms))
    return tokens


def raw_token_set(text: str) -> set[str]:
    """The distinct raw (un-normalised) tokens of ``text``."""
    # Blank out ASCII separators at C speed (bytes.translate), then split on whitespace; only
    # the chunks holding non-ASCII characters (curly quotes, dashes, accented words) need the
    # regex. About twice as fast as a regex scan of the whole text.
    blanked = text.encode("utf-8", "surrogatepass").translate(_ASCII_SEPARATORS)
    chunks = set(blanked.decode("utf-8", "surrogatepass").split())
    if text.isascii():
        return chunks
    mixed = list(filterfalse(str.isascii, chunks))
    chunks.difference_update(mixed)
    for chunk in mixed:
        chunks.update(scan_patterns(chunk).token.findall(chunk))
    return chunks


def find_token(text: str, raw: str, patterns: ScanPatterns) -> list[tuple[int, int]]:
    """Spans of every whole-token occurrence of raw token ``raw`` in ``text``, trimmed of
    leading and trailing ignorables."""
    spans = []
    size = len(raw)
    limit = len(text)
    pos = text.find(raw)
    while pos >= 0:
        end = pos + size
        if (pos and is_token_char(text[pos - 1])) or (end < limit and is_token_char(text[end])):
            # inside a longer word: resume after that word's end
            gap = patterns.separator.search(text, end)
            if gap is None:
                break
            pos = text.find(raw, gap.end())
        else:
            spans.append((pos, end))
            pos = text.find(raw, end)
    if raw[0] in IGNORABLES or raw[-1] in IGNORABLES:
        return [trim_span(raw, start, end) for start, end in spans]
    return spans


def next_token(text: str, pos: int, patterns: ScanPatterns) -> tuple[str, int, int] | None:
    """The first non-empty token starting at or after ``pos``: (raw, start, end), or None."""
    while True:
        m = patterns.next.match(text, pos)
        if m is None:
            return None
        raw = m.group(1)
        pos = m.end()
        if token_forms(raw):
            return raw, m.start(1), pos
