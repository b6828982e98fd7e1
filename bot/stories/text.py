"""Text preparation for grouping: boilerplate off, sentences, tokens, numbers."""

from __future__ import annotations

import re

_BOILER_LINE = re.compile(
    r"^\s*(baca juga|lihat juga|simak juga|baca selengkapnya|read more|related|see also|"
    r"reporting by|editing by|writing by|additional reporting)\b",
    re.IGNORECASE,
)
_BARE_READ_ALSO = re.compile(r"^\s*(baca juga|lihat juga|simak juga)\s*:?\s*$", re.IGNORECASE)
_SOURCE_TAG = re.compile(r"^\s*\(\s*[a-z]{1,8}(?:\s*/\s*[a-z]{1,8})*\s*\)\s*$", re.IGNORECASE)
_TRAILING_TAG = re.compile(
    r"\s*\((?:[a-z]{1,8}(?:/[a-z]{1,8})*|[A-Z][\w.]+(?: [A-Z][\w.]+)+)\)\s*$"
)
_TOKEN = re.compile(r"\d+(?:[.,:/]\d+)*|[^\W\d_]+(?:[-'’][^\W_]+)*(?:-\d+)?", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?”\"])\s+(?=[“\"A-Z(])")


def clean_lines(text: str) -> list[str]:
    """Paragraphs without read-also lines, the headline under a bare ``Baca Juga``,
    source tags such as ``(bbn)`` / ``(knh/ant)`` and trailing credits such as ``(Nama Foto)``."""
    out: list[str] = []
    skip_next = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if skip_next:
            skip_next = False
            continue
        if _BARE_READ_ALSO.match(line):
            skip_next = True
            continue
        if _BOILER_LINE.match(line) or _SOURCE_TAG.match(line):
            continue
        line = _TRAILING_TAG.sub("", line)
        if line:
            out.append(line)
    return out


def sentences(lines: list[str]) -> list[str]:
    return [s for line in lines for s in _SENTENCE_END.split(line) if s.strip()]


def tokens(sentence: str) -> list[str]:
    return _TOKEN.findall(sentence)


def number_value(token: str, lang: str) -> str | None:
    """Canonical value of a digit token (``30.000`` id == ``30,000`` en), None if not a plain
    number (times such as ``11:43``, dates such as ``13/9``)."""
    if ":" in token or "/" in token:
        return None
    if lang == "id":
        body = token.replace(".", "").replace(",", ".")
        if token.count(".") == 1 and len(token.split(".")[1]) != 3:
            return None  # 06.05 is a time in Indonesian copy, not a number
    else:
        body = token.replace(",", "")
    try:
        value = float(body)
    except ValueError:
        return None
    if value.is_integer():
        return str(int(value))
    return f"{value:g}"
