"""The content-dedup key (bot/ingest/clean.py) gives exactly the hashes of the original one.

The reference below is a frozen, verbatim copy of ``normalise_for_hash`` as it was before the
``str.translate`` version (a dedup key that changes would let every stored article in again).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ingest.clean import content_hash, normalise_for_hash

ROOT = Path(__file__).resolve().parent.parent
_REF_INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)


def reference_normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", _REF_INVISIBLE_RE.sub("", text)).casefold()
    chars = (" " if unicodedata.category(ch).startswith(("P", "C")) else ch for ch in text)
    return " ".join("".join(chars).split())


# Characters where normalisation is subtle: invisible/format characters, every kind of space,
# compatibility forms NFKC rewrites (ligatures, fullwidth, superscripts, circled, jamo),
# casefold expansions (ß, İ, ŉ, Cherokee), combining marks, punctuation of many scripts,
# private use, unassigned, surrogates, noncharacters, astral letters and emoji.
TRICKY = (
    "\x00\x01\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x7f\x85\x9f\xa0\xad\u061c\u180e\u1680"
    "\u2000\u2001\u2005\u200a\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202e\u202f"
    "\u205f\u2060\u2066\u206f\u3000\ufeff\ufff9\ufffb\ufffc\ufffd\ufffe\uffff"
    "\ufb00\ufb01\ufb06\uff01\uff21\uff41\uff5e\uff61\uffe0\u00b2\u00b9\u2070\u2075\u2460"
    "\u2474\u24b6\u3131\u314f\u1100\u1161\u11a8\uac00\u00bd\u2153\u2126\u212b\u2160\u337f"
    "\u00df\u0130\u0149\u01f0\u0390\u03c2\u03a3\u1e9e\u13a0\u13f5\uab70\u0587\ufb13\u1f80"
    "\u0301\u0308\u0323\u0345\u20dd\u0e48\u093c\u05b4\u0651"
    ".,;:!?'\"()[]{}<>-_/\\@#%&*«»‹›“”‘’„‚–—―…‰′″¡¿·•§¶、。「」『』【】〈〉！？，．；：·"
    "\u066a\u06d4\u0964\u0965\u104a\u2e18\u2e3a\ufe10\ufe30\ufe50\ufe63\uff3f"
    "\ue000\uf8ff\U000f0000\U0010fffd\u0378\u0380\U000e0001\U000e0020\U000e007f\U000e0100"
    "\ud800\udbff\udc00\udfff\U0001d400\U0001d7ce\U0001f600\U0001f1ee\U0001f3fb\U00020000"
    "aAzZ09 éÉñÑçøØåÅæıİğĞşŞ"
)
WORDS = (
    "Harga",
    "cabai",
    "naik",
    "The",
    "price",
    "of",
    "rice",
    "ROSE",
    "Jakarta",
    "2024",
    "co-operation",
    "e-mail",
    "U.S.",
    "dr.",
    "1.000",
    "50%",
    "rp10.000",
)


def hostile_texts(count: int, seed: int) -> list[str]:
    """Seeded texts: tricky characters, random code points of every plane, and words."""
    rng = Random(seed)
    out = []
    for i in range(count):
        parts = []
        for _ in range(rng.randint(1, 40)):
            roll = rng.random()
            if roll < 0.35:
                parts.append(rng.choice(TRICKY))
            elif roll < 0.55:
                parts.append(chr(rng.randrange(0x110000)))
            elif roll < 0.65:
                parts.append(chr(rng.randrange(0x3000)))
            else:
                parts.append(rng.choice(WORDS) + rng.choice((" ", "", "\n", "  ", "\t")))
        text = "".join(parts)
        out.append(text.upper() if i % 7 == 0 else text)
    return out


def corpus_texts() -> list[str]:
    """Real article text: the test fixtures, the bundled samples and the language dev set, each
    whole and line by line."""
    texts: list[str] = []
    paths = [
        *sorted((ROOT / "tests" / "fixtures").glob("*")),
        *sorted((ROOT / "bot" / "samples").glob("*")),
    ]
    for path in paths:
        if path.is_file():
            raw = path.read_text(encoding="utf-8", errors="surrogateescape")
            texts.append(raw)
            texts.extend(raw.splitlines())
    with (ROOT / "tests" / "fixtures" / "lang" / "dev.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["text"]
            texts += [text, text.upper(), text.replace('"', "“")]
    return texts


def test_identical_on_more_than_20000_hostile_and_corpus_texts() -> None:
    texts = hostile_texts(20_000, seed=15) + corpus_texts()
    assert len(texts) > 21_000
    mismatches = [t for t in texts if normalise_for_hash(t) != reference_normalise(t)]
    assert mismatches == []


def test_content_hash_is_sha256_of_the_reference_form() -> None:
    for text in hostile_texts(500, seed=16) + corpus_texts()[:500]:
        expected = hashlib.sha256(reference_normalise(text).encode("utf-8")).hexdigest()
        assert content_hash(text) == expected


def test_the_benchmarks_old_path_is_the_reference() -> None:
    from bench import legacy

    for text in hostile_texts(2_000, seed=17) + corpus_texts()[:2_000]:
        assert legacy.normalise_for_hash(text) == reference_normalise(text)
        assert legacy.content_hash(text) == content_hash(text)


@settings(max_examples=1_500, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=()), max_size=200))
def test_identical_on_any_unicode_text(text: str) -> None:
    assert normalise_for_hash(text) == reference_normalise(text)


@settings(max_examples=1_000, deadline=None)
@given(st.lists(st.sampled_from(list(TRICKY) + list(WORDS)), max_size=60).map("".join))
def test_identical_on_tricky_character_mixes(text: str) -> None:
    assert normalise_for_hash(text) == reference_normalise(text)


def test_memory_stays_bounded_on_astral_input() -> None:
    from bot.ingest import clean

    normalise_for_hash("".join(chr(cp) for cp in range(0x10000, 0x30000)))
    assert all(code <= 0xFFFF for code in clean._HASH_TABLE)
