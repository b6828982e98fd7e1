"""Word tokens for keyword matching.

A token is a run of Unicode letters and digits, plus combining marks. Everything else
(underscore, punctuation, hyphens, apostrophes, quotes, brackets, spaces) separates tokens.
Zero-width characters and the soft hyphen (``IGNORABLES``) never split a word: they are kept
inside the token's span but dropped from its normalised form.

Token spans are offsets into the ORIGINAL string (no normalisation is applied before
scanning), so ``text[start:end]`` is always the word as written.

Normalised forms are NFKC (compatibility: full-width ``ＫＩＭ`` and styled ``𝐊𝐢𝐦`` are
``kim``) + casefold. A text token also carries Indonesian clitic-stripped variants:
``rudalnya`` -> ``rudal``, ``Kimlah`` -> ``kim``, ``rudalnyalah`` -> ``rudalnya`` and
``rudal``; the stem must keep at least ``MIN_STEM`` characters. Nothing is stripped from a
token that is itself an Indonesian root word (``masalah``, ``langkah``, ``bangku``: the
dictionary the Sastrawi package ships, read on first use), from an Arabic ``-ullah`` name
(``Abdullah``), nor ``-lah`` from a capitalised token whose stem is a root word of four or more
letters (the name ``Nabilah`` is not ``nabi`` + ``lah``).

Query words, for their part, tolerate English plurals (``english_variants``: ``missile`` also
matches ``missiles``) unless they are Indonesian root words. Helpers for the matcher's other
precision rules live here too: ``mask_urls`` (links are not words of the article) and
``clause_break`` (a phrase never spans ``.`` ``,`` ``;`` or a paragraph break).

Besides the public ``Token`` / ``tokenize`` / ``normalize_word``, this module holds the
allocation-light helpers the matcher's hot path uses (``scan_patterns``, ``raw_token_set``,
``find_token``, ``next_token``, ``token_forms``, ``phrase_word_matches``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import filterfalse
from typing import NamedTuple

__all__ = [
    "IGNORABLES",
    "MIN_STEM",
    "PARTICLE_CLITICS",
    "POSSESSIVE_CLITICS",
    "Token",
    "clause_break",
    "english_variants",
    "mask_urls",
    "normalize_word",
    "root_words",
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
    """NFKC + casefold, with zero-width characters and soft hyphens removed."""
    if word.isascii():
        return word.lower()
    word = unicodedata.normalize("NFKC", word.translate(_DROP_IGNORABLES)).casefold()
    if unicodedata.is_normalized("NFKC", word):
        return word
    return unicodedata.normalize("NFKC", word)


@cache
def root_words() -> frozenset[str]:
    """Indonesian root words (kata dasar) from the dictionary the Sastrawi stemmer ships;
    read on first use (about 30,000 words)."""
    data = resources.files("Sastrawi").joinpath("Stemmer", "data", "kata-dasar.txt")
    return frozenset(data.read_text(encoding="utf-8").split())


def clitic_stems(word: str, min_stem: int = MIN_STEM) -> tuple[str, ...]:
    """Stems of a normalised word after removing one clitic or a possessive+particle pair;
    none when the word is itself a root word (``masalah`` is not ``masa`` + ``lah``)."""
    stems: list[str] = []
    if word in root_words():
        return ()
    for particle in PARTICLE_CLITICS:
        if word.endswith(particle) and not (particle == "lah" and word.endswith("ullah")):
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
    if _is_name_with_lah(raw, word):
        return (word,)  # Nabilah, a name: not nabi + lah
    return (word, *clitic_stems(word))


def _is_name_with_lah(raw: str, word: str) -> bool:
    """A capitalised token ending in -lah whose stem is a root word of 4+ letters."""
    return (
        raw[:1].isupper() and word.endswith("lah") and len(word) >= 7 and word[:-3] in root_words()
    )


@lru_cache(maxsize=1 << 14)
def english_variants(word: str) -> tuple[str, ...]:
    """A query word and its English plural (``missile`` -> ``missiles``, ``launch`` ->
    ``launches``, ``country`` -> ``countries``); Indonesian root words, short words and
    words with digits are left alone (``pari`` must not match ``Paris``)."""
    if len(word) < 3 or not word.isalpha() or word in root_words():
        return (word,)
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return (word, word + "es")
    if word.endswith("y") and word[-2] not in "aeiou":
        return (word, word[:-1] + "ies")
    return (word, word + "s")


# A link in running text: scheme or www. up to the next whitespace; an e-mail address; a bare
# domain with a path (kompas.com/kim-jong-un) or with a common top-level domain (kim.co.id).
# Every repetition is bounded, so the scan stays linear on hostile text.
_DOMAIN = r"(?:[A-Za-z0-9-]{1,63}\.){1,6}"
_URL_RE = re.compile(
    r"(?:\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://|\bwww\.)\S+"
    r"|\b[\w.+-]{1,64}@" + _DOMAIN + r"[A-Za-z]{2,24}\b"
    r"|\b" + _DOMAIN + r"[a-z]{2,24}/\S*"
    r"|\b" + _DOMAIN + r"(?:com|id|net|org|info|io|gov|edu|co|tv|news|biz)\b(?![\w@])"
)


def mask_urls(text: str) -> str:
    """``text`` with every link and e-mail address blanked to spaces (same length, so offsets
    still hold)."""
    if "." not in text:
        return text
    return _URL_RE.sub(lambda m: " " * len(m.group()), text)


_CLAUSE_MARKS = frozenset(",;!?…。、，；！？")
_SPACED_MARKS = frozenset(".:")  # a clause end only when followed by a space (not 07.10)


def clause_break(text: str, prev_start: int, gap_start: int, gap_end: int) -> bool:
    """Does the gap ``text[gap_start:gap_end]`` between two words end a clause? Commas,
    semicolons, ``!`` ``?`` and paragraph breaks do; ``.`` and ``:`` do when a space follows,
    except a ``.`` after a one-letter word (the initials of ``U.S. Army``)."""
    if gap_end - gap_start == 1 and text[gap_start] == " ":
        return False  # the common case
    gap = text[gap_start:gap_end]
    if not _CLAUSE_MARKS.isdisjoint(gap) or gap.count("\n") >= 2:
        return True
    for i, ch in enumerate(gap):
        if ch in _SPACED_MARKS and i + 1 < len(gap) and gap[i + 1].isspace():
            return not (ch == "." and gap_start - prev_start == 1 and i == 0)
    return False


_cached_forms = lru_cache(maxsize=1 << 16)(_forms)


def phrase_word_matches(raw: str, word: str) -> bool:
    """Does raw text token ``raw`` match ``word`` in a non-first position of a phrase?"""
    forms = token_forms(raw)
    if any(variant in forms for variant in english_variants(word)):
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
