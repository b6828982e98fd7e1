"""The detector (bot/ingest/lang.py) on the labelled dev set, and its contract on any input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.bench_lang import KINDS, accuracy, load_dev_set
from bot.ingest.lang import detect_language as detect

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def scores() -> dict[str, float]:
    return accuracy(detect, load_dev_set())


def test_dev_set_is_large_and_covers_every_kind() -> None:
    rows = load_dev_set()
    kinds = {row["kind"] for row in rows}
    assert len(rows) >= 300
    assert kinds == set(KINDS)  # every kind the benchmark reports is in the set
    assert {row["lang"] for row in rows} == {"id", "en", "other"}


def test_bodies_at_least_99_percent(scores: dict[str, float]) -> None:
    assert scores["body"] >= 0.99


def test_every_foreign_and_gibberish_text_is_other(scores: dict[str, float]) -> None:
    assert scores["foreign"] == 1.0
    assert scores["gibberish"] == 1.0


def test_malay_like_indonesian_and_first_sentences(scores: dict[str, float]) -> None:
    assert scores["malay_like"] >= 0.99
    assert scores["first_sentence"] >= 0.95


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Pemerintah Provinsi Jawa Barat menyiapkan anggaran tambahan untuk memperbaiki jalan.",
            "id",
        ),
        (
            "The city council voted on Tuesday to extend the late-night bus service for a year.",
            "en",
        ),
        (
            "Le gouvernement a annoncé mardi une nouvelle série de mesures pour les agriculteurs.",
            "other",
        ),
        (
            "Bohngikyokjing ginyur cikdungse nyin juyokyis ngewinyunro cuhjonpukuk wongasbih "
            "wetngis wangmiwurkang nga yuh gatnyi genyannyungrus saspanu.",
            "other",
        ),
        ("Banjir!", "other"),
        ("", "other"),
    ],
)
def test_examples(text: str, expected: str) -> None:
    lang, confidence = detect(text)
    assert lang == expected
    assert 0.0 <= confidence <= 1.0


def test_text_cld2_refuses_is_still_detected() -> None:
    body = (
        "Pemerintah Provinsi Jawa Barat menyiapkan anggaran tambahan untuk memperbaiki jalan "
        "yang rusak akibat banjir di wilayah selatan."
    )
    for junk in ("\x00", "\x85", "\ud800", "\ufffe", "\U0010ffff", "\x1b"):
        assert detect(junk + body + junk)[0] == "id"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=()), max_size=300))
def test_never_raises_and_answers_in_contract(text: str) -> None:
    lang, confidence = detect(text)
    assert lang in ("id", "en", "other")
    assert 0.0 <= confidence <= 1.0


def test_deterministic_across_processes() -> None:
    code = (
        "import bot.ingest.lang as m;"
        "print(m.detect_language('The city council voted on Tuesday to extend the bus'))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout
        for _ in range(2)
    }
    assert len(runs) == 1
