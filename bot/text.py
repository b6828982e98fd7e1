"""Pure text helpers: clean raw article text, split off source tags, hash for dedup.

Cleaning rules (``clean_text``):

* HTML tags are stripped only when the input contains tags; entities are always decoded.
  ``<script>``/``<style>`` (and similar) contents are dropped, block elements and ``<br>``
  become line breaks, and whitespace inside HTML text collapses like in a browser.
* Zero-width and bidi format characters, the BOM, soft hyphens, lone surrogates and control
  characters are removed (newlines are kept; tabs and other spaces become a plain space),
  then the text is NFC-normalised.
* Every line is trimmed and inner runs of spaces collapse to one space. A paragraph is one
  line; runs of blank lines collapse to a single blank line (``\\n\\n``).
* Whole lines matching ``BOILERPLATE_PATTERNS`` (case-insensitive) are dropped.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from html import unescape
from html.parser import HTMLParser

# Whole-line boilerplate (matched case-insensitively against a trimmed line).
BOILERPLATE_PATTERNS: tuple[str, ...] = (
    r"baca juga\s*(?::.*)?",  # "Baca Juga", "Baca juga: <linked title>"
    r"lihat juga\s*(?::.*)?",  # "Lihat juga", "Lihat juga: <linked title>"
    r"lihat juga video\b.*",  # "Lihat juga Video: <title>"
    r"simak video\b.*",  # "Simak Video "<title>""
    r"advertisement",  # "ADVERTISEMENT", "Advertisement"
    r"scroll to continue with content",
    r"read more\s*(?::.*)?",  # "Read more", "Read more: <linked title>"
)
_BOILERPLATE_RE = re.compile("|".join(f"(?:{p})" for p in BOILERPLATE_PATTERNS), re.IGNORECASE)

# Tags whose text content is never article text.
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "head"})
# Tags that start/end a line of their own.
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "header", "footer", "aside", "main", "nav",
        "blockquote", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6",
        "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "pre", "hr", "address",
    }
)  # fmt: skip
_TAG_RE = re.compile(r"<(?:/?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?|!--.*?--)>", re.DOTALL)
# Control characters (not \t or \n), zero-width and bidi format characters, BOM, soft
# hyphen, lone surrogates (from bad JSON escapes) and Unicode tag characters.
_INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)
_LINE_BREAKS = str.maketrans(dict.fromkeys("\r\x0b\x0c\x85\u2028\u2029", "\n"))
_SPACES_RE = re.compile(r"[^\S\n]+")  # any whitespace except a newline
_BLANK_RUN_RE = re.compile(r"\n{3,}")

# A trailing source tag: one parenthesised token such as "(bbn)", "(ant)", "(Reuters)".
_TAG_TOKEN = r"\(([A-Za-z][A-Za-z0-9.&/-]{0,19})\)"
_OWN_LINE_TAG_RE = re.compile(rf"(?:\A|\n)[^\S\n]*{_TAG_TOKEN}[^\S\n]*\Z")
_GLUED_TAG_RE = re.compile(rf"(?<=[.!?\"'”’»])[^\S\n]*{_TAG_TOKEN}[^\S\n]*\Z")

_ABBREVIATIONS = frozenset(
    {"dr", "drs", "dra", "ir", "prof", "jl", "no", "mr", "mrs", "ms", "st", "jr", "sr",
     "vs", "etc", "dkk", "dll", "dsb", "tsb", "kec", "kab", "gen", "lt", "kol", "u.s", "a.s"}
)  # fmt: skip
_SENTENCE_END_RE = re.compile(r"[.!?…]+[\"'”’)\]»]*(?=\s|\Z)")


class _HTMLTextExtractor(HTMLParser):
    """Collects visible text; block elements become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" or tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(_SPACES_RE.sub(" ", data.replace("\n", " ")))


def strip_html(raw: str) -> str:
    """Visible text of an HTML fragment (entities decoded, scripts/styles dropped)."""
    parser = _HTMLTextExtractor()
    parser.feed(raw)
    parser.close()
    return "".join(parser.parts)


def _is_boilerplate(line: str) -> bool:
    return bool(_BOILERPLATE_RE.fullmatch(line))


def clean_text(raw: str) -> str:
    """Plain, normalised article text: one paragraph per line, boilerplate lines dropped."""
    if not raw:
        return ""
    text = raw.replace("\r\n", "\n")
    text = strip_html(text) if _TAG_RE.search(text) else unescape(text)
    text = _INVISIBLE_RE.sub("", text.translate(_LINE_BREAKS))
    text = unicodedata.normalize("NFC", text)
    lines = (_SPACES_RE.sub(" ", line).strip() for line in text.split("\n"))
    kept = "\n".join(line for line in lines if not _is_boilerplate(line))
    return _BLANK_RUN_RE.sub("\n\n", kept).strip()


def split_source_tag(text: str) -> tuple[str, str]:
    """Split a trailing source tag off cleaned text: ``"...\\n(bbn)"`` -> ``("...", "bbn")``.

    A tag is a single parenthesised token (a letter then up to 19 letters, digits or
    ``.&/-``; no spaces) that is either the whole last line or glued to the end of the last
    line right after sentence-final punctuation (``"... kata dia. (ant)"``). Multi-word
    parentheses such as a reporter credit ``(Nizar Fachri Rabbani)`` and parenthesised words
    inside a sentence (``"... Korea Utara (DPRK)"``) are left alone. The tag is returned as
    written, without parentheses; ``""`` when there is none.
    """
    stripped = text.rstrip()
    match = _OWN_LINE_TAG_RE.search(stripped) or _GLUED_TAG_RE.search(stripped)
    if match is None:
        return text, ""
    return stripped[: match.start()].rstrip(), match.group(1)


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the full stop at ``text[end]`` closes an abbreviation or an initial."""
    word = text[:end].rsplit(None, 1)[-1] if text[:end].strip() else ""
    word = word.lstrip("(\"'“‘").lower()
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
    return _truncate(sentence, limit)


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—") + "…"


def normalise_for_hash(text: str) -> str:
    """Casefolded, punctuation-free, whitespace-collapsed form used by ``content_hash``."""
    text = unicodedata.normalize("NFKC", _INVISIBLE_RE.sub("", text)).casefold()
    chars = (" " if unicodedata.category(ch).startswith(("P", "C")) else ch for ch in text)
    return " ".join("".join(chars).split())


def content_hash(text: str) -> str:
    """sha256 hex digest of ``normalise_for_hash(text)`` (dedups the same text from any input)."""
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8")).hexdigest()
