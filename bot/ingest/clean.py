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
# An element tag; comments are found with str.find (a ``<!--.*?-->`` regex rescans the rest
# of the text from every unclosed ``<!--``: minutes on 1 MB).
_ELEMENT_TAG_RE = re.compile(r"</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?>")
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


_TAG_NAME_RE = re.compile(r"[a-zA-Z][^\t\n\r\f />\x00]*")
_RAW_TEXT_TAGS = frozenset({"script", "style"})  # their content is never parsed for tags
_RAW_TEXT_END = {
    tag: re.compile(rf"</{tag}(?=[\t\n\r\f />])", re.IGNORECASE) for tag in _RAW_TEXT_TAGS
}


def _tag_end(raw: str, pos: int) -> int:
    """Index of the ``>`` closing the tag whose attributes start at ``pos`` (quoted attribute
    values may hold ``>``), or -1 when the document ends first. One forward scan."""
    n = len(raw)
    while pos < n:
        ch = raw[pos]
        if ch == ">":
            return pos
        if ch == "=":
            pos += 1
            while pos < n and raw[pos] in " \t\n\r\f":
                pos += 1
            if pos < n and raw[pos] in "\"'":
                close = raw.find(raw[pos], pos + 1)
                if close < 0:
                    return -1
                pos = close + 1
            continue
        pos += 1
    return -1


class _TextCollector:
    """Visible text; block elements become line breaks (the handlers of the scan below)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.skip_depth = 0

    def data(self, text: str) -> None:
        if text and not self.skip_depth:
            self.parts.append(_SPACES_RE.sub(" ", unescape(text).replace("\n", " ")))

    def start(self, tag: str, self_closing: bool) -> None:
        if self_closing:
            if tag == "br" or tag in _BLOCK_TAGS:
                self.parts.append("\n")
        elif tag in _SKIP_TAGS:
            self.skip_depth += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def end(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")


def _markup_end(raw: str, lt: int, out: _TextCollector) -> int:
    """Handle the markup starting with ``<`` at ``lt``; return where text resumes (-1: the
    document ends inside it, so the rest is dropped as a browser would)."""
    if raw.startswith("<!--", lt):
        end = raw.find("-->", lt + 4)
        return -1 if end < 0 else end + 3
    nxt = raw[lt + 1 : lt + 2]
    if nxt in ("!", "?"):  # a declaration, processing instruction or bogus comment
        end = raw.find(">", lt + 2)
        return -1 if end < 0 else end + 1
    closing = nxt == "/"
    name = _TAG_NAME_RE.match(raw, lt + 2 if closing else lt + 1)
    if name is None:
        if not closing:
            out.data("<")
            return lt + 1
        end = raw.find(">", lt + 2)  # "</ >": a bogus comment
        return -1 if end < 0 else end + 1
    end = _tag_end(raw, name.end())
    if end < 0:
        return -1
    tag = name.group().lower()
    if closing:
        out.end(tag)
        return end + 1
    out.start(tag, raw[end - 1] == "/" and end - 1 >= name.end())
    if tag in _RAW_TEXT_TAGS and raw[end - 1] != "/":
        close = _RAW_TEXT_END[tag].search(raw, end + 1)
        out.data(raw[end + 1 : close.start() if close else len(raw)])
        if close is None:
            return -1
        return _markup_end(raw, close.start(), out)
    return end + 1


def strip_html(raw: str) -> str:
    """Visible text of an HTML fragment (entities decoded, scripts/styles dropped).

    One forward scan with ``str.find`` (linear time on any input: Python's ``HTMLParser``
    rescans unclosed constructs and takes minutes on a few hundred KB of ``<a ``)."""
    out = _TextCollector()
    pos = 0
    while pos >= 0:
        lt = raw.find("<", pos)
        out.data(raw[pos:] if lt < 0 else raw[pos:lt])
        if lt < 0:
            break
        pos = _markup_end(raw, lt, out)
    return "".join(out.parts)


def _has_markup(text: str) -> bool:
    """True when ``text`` holds an element tag or a closed ``<!-- comment -->``."""
    if _ELEMENT_TAG_RE.search(text):
        return True
    opened = text.find("<!--")
    return opened >= 0 and text.find("-->", opened + 4) >= 0


def _is_boilerplate(line: str) -> bool:
    return bool(_BOILERPLATE_RE.fullmatch(line))


def clean_text(raw: str) -> str:
    """Plain, normalised article text: one paragraph per line, boilerplate lines dropped."""
    if not raw:
        return ""
    text = raw.replace("\r\n", "\n")
    text = strip_html(text) if _has_markup(text) else unescape(text)
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


def normalise_for_hash(text: str) -> str:
    """Casefolded, punctuation-free, whitespace-collapsed form used by ``content_hash``."""
    text = unicodedata.normalize("NFKC", _INVISIBLE_RE.sub("", text)).casefold()
    chars = (" " if unicodedata.category(ch).startswith(("P", "C")) else ch for ch in text)
    return " ".join("".join(chars).split())


def content_hash(text: str) -> str:
    """sha256 hex digest of ``normalise_for_hash(text)`` (dedups the same text from any input)."""
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8")).hexdigest()
