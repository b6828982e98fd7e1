"""Language detection for article bodies: "id", "en" or "other", with a confidence."""

from __future__ import annotations

import threading
from functools import lru_cache

from langdetect import DetectorFactory
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException

CONFIDENCE_FLOOR = 0.70
MIN_LETTERS = 20
CAPS_SHARE = 0.6  # text with more capital letters than this is lower-cased before detection
_INDONESIAN_CODES = ("id", "ms")  # langdetect often splits Indonesian between id and ms
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _factory() -> DetectorFactory:
    """A private, seeded detector factory, loaded on first use (not at import)."""
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)  # same text -> same answer, in every process
    return factory


def _probabilities(text: str) -> dict[str, float]:
    with _lock:  # lru_cache does not stop two threads from loading profiles twice
        factory = _factory()
    detector = factory.create()
    detector.append(text)
    return {lang.lang: lang.prob for lang in detector.get_probabilities()}


def detect_language(text: str) -> tuple[str, float]:
    """Return ("id" | "en" | "other", confidence in 0..1) for an article body.

    Indonesian is the summed probability of langdetect's ``id`` and ``ms``. A language
    below ``CONFIDENCE_FLOOR`` gives "other" with the best score seen; text with fewer
    than ``MIN_LETTERS`` letters gives ("other", 0.0). Mostly-capital text (a caps-only
    paragraph) is lower-cased first.
    """
    letters = sum(ch.isalpha() for ch in text)
    if letters < MIN_LETTERS:
        return "other", 0.0
    if sum(ch.isupper() for ch in text) > CAPS_SHARE * letters:
        text = text.lower()  # langdetect's profiles are lower-case: caps-only reads as German
    try:
        probs = _probabilities(text)
    except LangDetectException:
        return "other", 0.0
    scores = {
        "id": sum(probs.get(code, 0.0) for code in _INDONESIAN_CODES),
        "en": probs.get("en", 0.0),
    }
    lang = max(scores, key=lambda key: scores[key])
    if scores[lang] >= CONFIDENCE_FLOOR:
        return lang, round(min(scores[lang], 1.0), 4)
    return "other", round(max([*probs.values(), 0.0]), 4)
