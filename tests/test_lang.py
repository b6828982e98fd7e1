"""Language detection: id / en / other, deterministic, no import-time side effects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ingest import lang
from bot.ingest.lang import detect_language

ROOT = Path(__file__).resolve().parents[1]

INDONESIAN = (
    "Pemerintah provinsi mengumumkan bahwa jalur kereta api antara kedua kota akan ditutup "
    "sementara selama tiga hari karena perbaikan jembatan yang rusak akibat banjir bandang. "
    "Penumpang diminta memeriksa jadwal terbaru sebelum berangkat ke stasiun."
)
ENGLISH = (
    "The provincial government announced that the railway line between the two cities will "
    "be closed for three days while engineers repair a bridge damaged by flash floods. "
    "Passengers were asked to check the latest timetable before travelling to the station."
)
FRENCH = (
    "Le gouvernement provincial a annoncé que la ligne de chemin de fer entre les deux villes "
    "sera fermée pendant trois jours pour réparer un pont endommagé par les inondations."
)


def test_indonesian_paragraph() -> None:
    code, confidence = detect_language(INDONESIAN)
    assert code == "id"
    assert 0.70 <= confidence <= 1.0


def test_english_paragraph() -> None:
    code, confidence = detect_language(ENGLISH)
    assert code == "en"
    assert 0.70 <= confidence <= 1.0


def test_other_language() -> None:
    code, confidence = detect_language(FRENCH)
    assert code == "other"
    assert 0.0 <= confidence <= 1.0


@pytest.mark.parametrize(
    "text", ["", "ok", "Rudal! 123 456 789 ...", "   \n\t  ", "1234567890" * 9]
)
def test_short_or_letterless_text_is_other(text: str) -> None:
    assert detect_language(text) == ("other", 0.0)


def test_malay_counts_towards_indonesian(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lang, "_probabilities", lambda _text: {"ms": 0.45, "id": 0.40})
    assert detect_language(INDONESIAN) == ("id", 0.85)


def test_below_floor_is_other(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lang, "_probabilities", lambda _text: {"id": 0.55, "en": 0.40})
    assert detect_language(INDONESIAN) == ("other", 0.55)


def test_deterministic_within_process() -> None:
    mixed = "Presiden said the meeting berjalan lancar and both sides sepakat to continue talks."
    assert detect_language(mixed) == detect_language(mixed)
    assert [detect_language(INDONESIAN) for _ in range(3)] == [detect_language(INDONESIAN)] * 3


def test_deterministic_across_processes() -> None:
    mixed = "Presiden said the meeting berjalan lancar and both sides sepakat to continue talks."
    script = (
        "import json, sys\n"
        "from bot.ingest.lang import detect_language\n"
        "print(json.dumps([detect_language(t) for t in json.loads(sys.argv[1])]))\n"
    )
    texts = [INDONESIAN, ENGLISH, mixed]
    out = subprocess.run(
        [sys.executable, "-c", script, json.dumps(texts)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [tuple(pair) for pair in json.loads(out)] == [detect_language(t) for t in texts]


def test_import_has_no_side_effects() -> None:
    script = (
        "import bot.ingest.lang\n"
        "from langdetect import DetectorFactory, detector_factory\n"
        "assert DetectorFactory.seed is None, 'global seed changed'\n"
        "assert detector_factory._factory is None, 'global factory loaded'\n"
        "assert bot.ingest.lang._factory.cache_info().currsize == 0, 'profiles loaded at import'\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (INDONESIAN.upper(), "id"),
        (ENGLISH.upper(), "en"),
        (
            "KOREA UTARA KEMBALI MELUNCURKAN RUDAL BALISTIK KE ARAH LAUT JEPANG PADA SELASA PAGI,"
            " MENURUT KEPALA STAF GABUNGAN KOREA SELATAN.",
            "id",
        ),
        (
            "NORTH KOREA FIRED A BALLISTIC MISSILE TOWARDS THE SEA OF JAPAN ON TUESDAY MORNING,"
            " SOUTH KOREA'S JOINT CHIEFS OF STAFF SAID.",
            "en",
        ),
    ],
)
def test_caps_only_paragraph_is_detected_as_its_language(text: str, expected: str) -> None:
    code, confidence = detect_language(text)
    assert code == expected and confidence >= lang.CONFIDENCE_FLOOR
