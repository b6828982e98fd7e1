"""Benchmark: language detection accuracy per kind and time per ~3 KB article, side by side.

Run with ``python -m bench.bench_lang`` (``--quick``: only the current detector and the new one,
under 20 s). On the labelled dev set ``tests/fixtures/lang/dev.jsonl`` it compares:

* ``langdetect`` -- ``bench.legacy.detect_language``, the detector ingest used before (seeded,
  0.70 floor, id+ms summed, caps lower-cased);
* ``langdetect-500`` -- the same on a 500-character prefix;
* ``cld2`` -- ``bot.ingest.lang.detect_language`` (pycld2 with the reliability rule), the
  current one;
* ``py3langid`` and ``lingua`` (all languages), with the same id+ms sum and 0.70 floor
  (full mode only, each skipped when not installed).

Time per article is the mean over the dev set's ~3 KB bodies after one warm-up call (the
warm-up, which loads profiles or models, is reported as "load").
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

DEV_SET = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "lang" / "dev.jsonl"
KINDS = (
    "body",
    "title",
    "first_sentence",
    "short",
    "mixed",
    "malay_like",
    "caps",
    "foreign",
    "gibberish",
)
FLOOR = 0.70
Detector = Callable[[str], tuple[str, float]]


def load_dev_set(path: Path = DEV_SET) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _pick(scores: dict[str, float]) -> tuple[str, float]:
    """id (id + ms) or en when above the floor, else other: the old decision rule."""
    lang = max(scores, key=lambda key: scores[key])
    return (lang, scores[lang]) if scores[lang] >= FLOOR else ("other", scores[lang])


def _langdetect() -> Detector:
    from bench.legacy import detect_language

    return detect_language


def _langdetect_prefix() -> Detector:
    from bench.legacy import detect_language

    return lambda text: detect_language(text[:500])


def _cld2() -> Detector:
    from bot.ingest.lang import detect_language as detect

    return detect


def _py3langid() -> Detector:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def detect(text: str) -> tuple[str, float]:
        probs = dict(ident.rank(text))
        return _pick(
            {"id": probs.get("id", 0.0) + probs.get("ms", 0.0), "en": probs.get("en", 0.0)}
        )

    return detect


def _lingua() -> Detector:
    from lingua import Language, LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().build()

    def detect(text: str) -> tuple[str, float]:
        values = {v.language: v.value for v in detector.compute_language_confidence_values(text)}
        return _pick(
            {
                "id": values.get(Language.INDONESIAN, 0.0) + values.get(Language.MALAY, 0.0),
                "en": values.get(Language.ENGLISH, 0.0),
            }
        )

    return detect


CANDIDATES: dict[str, Callable[[], Detector]] = {
    "langdetect": _langdetect,
    "langdetect-500": _langdetect_prefix,
    "cld2": _cld2,
    "py3langid": _py3langid,
    "lingua": _lingua,
}
QUICK = ("langdetect", "cld2")


def accuracy(detect: Detector, rows: list[dict[str, str]]) -> dict[str, float]:
    """Share of correct labels per kind, plus "all" and "other" (foreign + gibberish)."""
    hits: dict[str, list[bool]] = {}
    for row in rows:
        ok = detect(row["text"])[0] == row["lang"]
        hits.setdefault(row["kind"], []).append(ok)
        hits.setdefault("all", []).append(ok)
        if row["lang"] == "other":
            hits.setdefault("other", []).append(ok)
    return {kind: sum(oks) / len(oks) for kind, oks in hits.items()}


def time_per_article(detect: Detector, texts: list[str], rounds: int) -> float:
    """Mean milliseconds per text over ``rounds`` passes."""
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            detect(text)
    return (time.perf_counter() - start) * 1000 / (rounds * len(texts))


def measure(name: str, rows: list[dict[str, str]], rounds: int) -> dict[str, float] | None:
    try:
        factory = CANDIDATES[name]
        start = time.perf_counter()
        detect = factory()
        detect(rows[0]["text"])
        load = time.perf_counter() - start
    except ImportError:
        return None
    articles = [r["text"] for r in rows if r["kind"] == "body" and len(r["text"]) >= 2500]
    result = accuracy(detect, rows)
    result["load_s"] = load
    result["ms_per_article"] = time_per_article(detect, articles, rounds)
    result["article_chars"] = sum(map(len, articles)) / len(articles)
    return result


def render(results: dict[str, dict[str, float]]) -> str:
    names = list(results)
    lines = [f"{'kind':<16}" + "".join(f"{n:>15}" for n in names)]
    for kind in (*KINDS, "other", "all"):
        lines.append(f"{kind:<16}" + "".join(f"{results[n].get(kind, 0):>15.3f}" for n in names))
    lines.append(
        f"{'ms/3KB article':<16}" + "".join(f"{results[n]['ms_per_article']:>15.3f}" for n in names)
    )
    lines.append(f"{'load s':<16}" + "".join(f"{results[n]['load_s']:>15.2f}" for n in names))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="current and new detector only (CI)")
    args = parser.parse_args()
    rows = load_dev_set()
    names = QUICK if args.quick else tuple(CANDIDATES)
    results: dict[str, dict[str, float]] = {}
    for name in names:
        result = measure(name, rows, rounds=1 if args.quick else 3)
        if result is None:
            print(f"{name}: not installed, skipped")
        else:
            results[name] = result
    chars = next(iter(results.values()))["article_chars"]
    print(f"dev set: {len(rows)} texts ({DEV_SET.name}); articles for timing ~{chars:.0f} chars")
    print(render(results))
    if "langdetect" in results and "cld2" in results:
        speedup = results["langdetect"]["ms_per_article"] / results["cld2"]["ms_per_article"]
        print(f"cld2 vs langdetect: {speedup:.0f}x faster per article")


if __name__ == "__main__":
    main()
