"""Story-grouping benchmark.

Run with ``python -m bench.bench_stories`` (``--quick``: stop at 10k indexed articles, < 30 s).

1. Quality on the team's evaluation set (tests/fixtures/stories): B-cubed precision, recall and
   F1 over articles, and pair recall for same-language and cross-language pairs.
   Targets: precision >= 0.95, recall >= 0.90, cross-language pair recall >= 0.75.
2. Cost: the same set interleaved with N synthetic filler articles (deterministic, seeded, one
   a minute, built from the desk's vocabulary in both languages so that they share names and
   terms with the real stories). Reports the grouping cost per article (features + candidate
   lookup + scoring + insert; median and mean over the last 2,000 assignments) at 1k, 10k and
   100k indexed articles, and the set's quality with the filler present.
   Target: cost growth 1k -> 100k <= 2x (median).
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from random import Random

from bench.stories_eval import Labelled, load_eval_set, score
from bot.stories import MemorySource, StoryIndex, StoryInput

_ACTORS = [
    "Kim Jong Un",
    "Vladimir Putin",
    "Xi Jinping",
    "Joe Biden",
    "Fumio Kishida",
    "Sergei Shoigu",
    "Sergei Lavrov",
    "Yoon Suk Yeol",
    "Volodymyr Zelensky",
]
_SYLL = "ka ri mo na su to be la di vo ran sen gor mi pak lee han jo vu sta nik".split()
_ID_TERMS = (
    "rudal satelit peluncuran uji coba Korea Utara Rusia pertemuan latihan militer "
    "sanksi pabrik amunisi peluru artileri kapal induk drone serangan pelabuhan "
    "kerja sama perdagangan gas listrik parlemen delegasi kunjungan"
).split()
_EN_TERMS = (
    "missile satellite launch test North Korea Russia meeting drills sanctions "
    "munitions factory shells artillery aircraft carrier drone attack port "
    "cooperation trade gas power parliament delegation visit"
).split()
_ID_FILL = (
    "pemerintah menyatakan bahwa rencana tersebut masih dibahas oleh pejabat terkait "
    "di ibu kota dan akan diumumkan dalam waktu dekat menurut sumber resmi"
).split()
_EN_FILL = (
    "the government said the plan was still being discussed by officials in the "
    "capital and would be announced soon according to an official source"
).split()
_ID_DAYS = "Senin Selasa Rabu Kamis Jumat Sabtu Minggu".split()
_EN_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


def _name(rng: Random) -> str:
    return "".join(rng.choice(_SYLL) for _ in range(3)).capitalize()


def _filler_text(rng: Random, lang: str) -> tuple[str, str]:
    terms, fill, days = (
        (_ID_TERMS, _ID_FILL, _ID_DAYS) if lang == "id" else (_EN_TERMS, _EN_FILL, _EN_DAYS)
    )
    people = [rng.choice(_ACTORS)] + [f"{_name(rng)} {_name(rng)}" for _ in range(2)]
    places = [_name(rng) for _ in range(2)]
    sents = []
    for _ in range(rng.randint(3, 6)):
        words = rng.sample(fill, 8) + rng.sample(terms, 3)
        rng.shuffle(words)
        extra = f" {rng.randint(10, 5000)} {rng.choice(places)} {rng.choice(days)}"
        sents.append(f"{rng.choice(people)} {' '.join(words)}{extra}.")
    return sents[0][:60], "\n".join(sents)


def fillers(count: int, end, first_id: int, seed: int = 7) -> list[StoryInput]:
    rng = Random(seed)
    out = []
    for n in range(count):
        lang = "id" if rng.random() < 0.6 else "en"
        title, text = _filler_text(rng, lang)
        out.append(
            StoryInput(
                id=first_id + n,
                title=title,
                text=text,
                lang=lang,
                source=f"Filler {n % 40}",
                published=end - timedelta(minutes=count - n),
            )
        )
    return out


def run_with_filler(count: int, items: list[Labelled]) -> dict:
    end = max(it.article.published for it in items)
    fill = fillers(count, end, first_id=1)
    eval_items = load_eval_set(first_id=count + 1)
    stream: list[tuple[object, StoryInput, str | None]] = [(a.published, a, None) for a in fill]
    stream += [(it.article.published, it.article, it.key) for it in eval_items]
    stream.sort(key=lambda r: (r[0], r[1].id))
    index = StoryIndex(MemorySource(retention=timedelta(hours=96)))  # stream is in order
    costs: list[float] = []
    predicted: dict[str, int] = {}
    members: dict[int, int] = {}
    for _, art, key in stream:
        t0 = time.perf_counter()
        story = index.assign(art)
        costs.append(time.perf_counter() - t0)
        members[story] = members.get(story, 0) + 1
        if key is not None:
            predicted[key] = story
    tail = sorted(costs[-2000:])
    quality = score(eval_items, predicted)
    sizes = {k: members[v] for k, v in predicted.items()}
    own = {k: sum(1 for v in predicted.values() if v == predicted[k]) for k in predicted}
    swallowed = sum(1 for k in predicted if sizes[k] > own[k])
    return {
        "n": count,
        "ms": 1000 * tail[len(tail) // 2],
        "mean_ms": 1000 * sum(tail) / len(tail),
        "quality": quality,
        "filler_merged": swallowed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="stop at 10k articles")
    args = parser.parse_args(argv)
    items = load_eval_set()
    index = StoryIndex()
    predicted = {it.key: index.assign(it.article) for it in items}
    q = score(items, predicted)
    stories = len({it.story for it in items})
    print(
        f"evaluation set: {q.articles} articles, {stories} gold stories "
        f"(window {index.config.window_hours:g} h)"
    )
    print(
        f"  B-cubed precision {q.precision:.3f}  recall {q.recall:.3f}  F1 {q.f1:.3f}  "
        f"(targets >= 0.95 / >= 0.90)"
    )
    print(
        f"  pair recall: same-language {q.same_lang_pair_recall:.3f}, "
        f"cross-language {q.cross_lang_pair_recall:.3f} (target >= 0.75); "
        f"wrongly merged pairs {q.false_pairs}"
    )
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    results = []
    for n in sizes:
        t0 = time.perf_counter()
        r = run_with_filler(n, items)
        results.append(r)
        fq = r["quality"]
        print(
            f"with {n:>7,} filler articles: {r['ms']:.3f} ms/article median "
            f"({r['mean_ms']:.3f} mean); set P {fq.precision:.3f}"
            f" R {fq.recall:.3f} F1 {fq.f1:.3f}, cross-language pair recall "
            f"{fq.cross_lang_pair_recall:.3f}; set articles in a story with filler "
            f"{r['filler_merged']} ({time.perf_counter() - t0:.1f} s)"
        )
    growth = results[-1]["ms"] / results[0]["ms"]
    print(f"cost growth {sizes[0]:,} -> {sizes[-1]:,}: {growth:.2f}x (target <= 2x)")
    ok = q.precision >= 0.95 and q.recall >= 0.90 and q.cross_lang_pair_recall >= 0.75
    ok = ok and growth <= 2.0
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
