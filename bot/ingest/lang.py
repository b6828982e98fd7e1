"""Language detection for article bodies with CLD2: "id", "en" or "other", with a confidence.

It replaced the langdetect detector (same contract): about two orders of magnitude faster
(0.1-0.2 ms per 3 KB article instead of 5-30 ms; no profiles to load) and, on the labelled dev
set ``tests/fixtures/lang/dev.jsonl``, as accurate on bodies and never fooled by random
syllables (``python -m bench.bench_lang``; the old detector lives on in ``bench/legacy.py``).

Rules:

* CLD2 (``pycld2``) scores the first ``MAX_CHARS`` characters as plain text. Its top language
  decides: ``id`` or ``ms`` (CLD2 calls some Indonesian Malay) -> "id", ``en`` -> "en".
* CLD2 must call its result reliable and the chosen language must cover at least
  ``MIN_SHARE`` percent of the text; otherwise, or when CLD2 finds no language (too little
  text), the answer is "other". Random syllables and letter mash are never reliable (0 of
  7,200 generated texts), while 280 of 285 id/en texts of the dev set are.
  The confidence is that share (Indonesian: ``id`` + ``ms``) as a fraction, rounded to 4 places.
* Text with fewer than ``MIN_LETTERS`` letters gives ("other", 0.0).
* Characters CLD2 refuses (NUL and other control characters, lone surrogates,
  non-characters) are dropped before a second try; the function never raises.

Pure and deterministic: no state, nothing loaded from disk or the network at import or run time
beyond the compiled-in CLD2 tables.
"""

from __future__ import annotations

import re

import pycld2  # type: ignore[import-untyped]

MIN_LETTERS = 20
MIN_SHARE = 40  # percent of the scored text in the chosen language
MAX_CHARS = 4096  # a prefix decides: bounded time on very long articles
_SHORT = 4 * MIN_LETTERS  # only texts shorter than this can have fewer than MIN_LETTERS letters
_INDONESIAN_CODES = ("id", "ms")
# Code points CLD2 rejects as "invalid UTF-8": C0/C1 controls (tab, newline, CR kept), lone
# surrogates (unencodable), and Unicode non-characters.
_REFUSED_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U0004fffe\U0004ffff"
    "\U0005fffe\U0005ffff\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff"
    "\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe\U000bffff\U000cfffe\U000cffff"
    "\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)


def _languages(text: str) -> tuple[tuple[str, int], ...]:
    """CLD2's (code, percent) for up to three languages, best first; () when it cannot score
    the text or calls its answer unreliable."""
    for attempt in (text, None):
        if attempt is None:
            attempt = _REFUSED_RE.sub("", text)
        try:
            reliable, _bytes, details = pycld2.detect(attempt, isPlainText=True)
        except (pycld2.error, UnicodeEncodeError, ValueError):
            continue
        if not reliable:
            return ()
        return tuple((code, percent) for _name, code, percent, _score in details)
    return ()


def detect_language(text: str) -> tuple[str, float]:
    """Return ("id" | "en" | "other", confidence in 0..1) for an article body."""
    if len(text) < _SHORT and sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return "other", 0.0
    details = _languages(text[:MAX_CHARS])
    if not details:
        return "other", 0.0
    top = details[0][0]
    if top in _INDONESIAN_CODES:
        lang, share = "id", sum(p for code, p in details if code in _INDONESIAN_CODES)
    elif top == "en":
        lang, share = "en", details[0][1]
    else:
        return "other", round(details[0][1] / 100, 4) if top != "un" else 0.0
    if share < MIN_SHARE:
        return "other", round(share / 100, 4)
    return lang, round(min(share, 100) / 100, 4)
