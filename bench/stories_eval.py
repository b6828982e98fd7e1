"""The story evaluation set (tests/fixtures/stories) and its scores: B-cubed precision,
recall and F1 over articles, and pair recall for same-language and cross-language pairs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from pathlib import Path

from bot.stories import GroupConfig, StoryIndex, StoryInput

EVAL_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "stories"


@dataclass(frozen=True)
class Labelled:
    key: str
    story: str  # gold label
    article: StoryInput


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    same_lang_pair_recall: float
    cross_lang_pair_recall: float
    false_pairs: int
    articles: int


def load_eval_set(folder: Path = EVAL_DIR, first_id: int = 1) -> list[Labelled]:
    """Every article of the set, in publication order, with ids from ``first_id``."""
    rows = []
    for path in sorted(folder.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for a in doc["articles"]:
            rows.append((datetime.fromisoformat(a["published"]), a["key"], doc["story"], a))
    rows.sort(key=lambda r: (r[0], r[1]))
    out = []
    for n, (published, key, story, a) in enumerate(rows):
        art = StoryInput(
            id=first_id + n,
            title=a["title"],
            text="\n".join(a["text"]),
            lang=a["lang"],
            source=a["source"],
            published=published,
        )
        out.append(Labelled(key=key, story=story, article=art))
    return out


def group(
    items: Iterable[Labelled], index: StoryIndex | None = None, config: GroupConfig | None = None
) -> dict[str, int]:
    index = index or StoryIndex(config=config)
    return {it.key: index.assign(it.article) for it in items}


def score(items: list[Labelled], predicted: dict[str, int]) -> Scores:
    gold = {it.key: it.story for it in items}
    lang = {it.key: it.article.lang for it in items}
    by_gold: dict[str, set[str]] = {}
    by_pred: dict[int, set[str]] = {}
    for k in gold:
        by_gold.setdefault(gold[k], set()).add(k)
        by_pred.setdefault(predicted[k], set()).add(k)
    p = r = 0.0
    for k in gold:
        both = len(by_gold[gold[k]] & by_pred[predicted[k]])
        p += both / len(by_pred[predicted[k]])
        r += both / len(by_gold[gold[k]])
    n = len(gold)
    p, r = p / n, r / n
    hit = {True: [0, 0], False: [0, 0]}
    false_pairs = 0
    for a, b in combinations(sorted(gold), 2):
        together = predicted[a] == predicted[b]
        if gold[a] == gold[b]:
            bucket = hit[lang[a] == lang[b]]
            bucket[0] += together
            bucket[1] += 1
        elif together:
            false_pairs += 1
    return Scores(
        precision=p,
        recall=r,
        f1=2 * p * r / (p + r) if p + r else 0.0,
        same_lang_pair_recall=hit[True][0] / max(hit[True][1], 1),
        cross_lang_pair_recall=hit[False][0] / max(hit[False][1], 1),
        false_pairs=false_pairs,
        articles=n,
    )


def mistakes(items: list[Labelled], predicted: dict[str, int]) -> list[str]:
    """Readable list of wrong merges and missed joins, for tuning and failure messages."""
    gold = {it.key: it.story for it in items}
    out = []
    for a, b in combinations(sorted(gold), 2):
        together = predicted[a] == predicted[b]
        if together and gold[a] != gold[b]:
            out.append(f"merged {a} + {b}")
        elif gold[a] == gold[b] and not together:
            out.append(f"missed {a} ~ {b}")
    return out
