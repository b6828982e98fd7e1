"""Benchmark: KeywordIndex vs. a naive loop of one regex per keyword query.

Run with ``python -m bench.bench_match`` (``--quick`` for a small CI-sized run).

Everything is synthetic and deterministic (seeded ``random.Random``): ~3 KB articles drawn
from an Indonesian+English-like vocabulary, and keyword queries (mostly names, a few phrases,
ORs and exclusions) that always include Kim, Putin, rudal and satelit.

Reported per index size: compile time, queries matched per article, our µs per article
(best of several rounds; "cold" = the first pass, with an empty token memo), the naive loop's
µs per article, and the ratio naive / ours.
"""

from __future__ import annotations

import argparse
import gc
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from random import Random

from bot.matching.index import KeywordIndex
from bot.matching.query import parse_query
from bot.matching.tokens import PARTICLE_CLITICS, POSSESSIVE_CLITICS

SIZES = (100, 1_000, 20_000)
BASE_QUERIES = ("Kim", "Putin", "rudal", "satelit")
CLITICS = (*POSSESSIVE_CLITICS, *PARTICLE_CLITICS)

# Common words, written for this benchmark (Indonesian and English news-ish).
_COMMON_TEXT = """
yang dan di ke dari untuk dengan pada ini itu tidak akan juga sudah dalam oleh karena bahwa
menurut kata presiden pemerintah negara menteri rakyat wilayah kota provinsi ekonomi harga
minggu bulan tahun hari kemarin besok pagi malam laporan berita sumber resmi pejabat militer
uji coba peluncuran pertemuan kunjungan kerja sama perjanjian sanksi perdagangan bantuan
keamanan pertahanan perbatasan pasukan latihan udara laut darat pesawat kapal pelabuhan
the of and to in said government president minister people region city province economy
price week month year day yesterday tomorrow morning night report news source official
military test launch meeting visit cooperation agreement sanctions trade aid security defence
border troops exercise air sea land aircraft ship port according would could also after
before during between against about over under new old first last more most many other
"""
_SYLLABLE_TEXT = """
ba be bi bo bu da de di do du ga gi gu ha hi ja ju ka ke ki ko ku la le li lo lu ma me mi mo
mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu wa wi ya yo an
en in on ar er ir ng ny
"""
COMMON = _COMMON_TEXT.split()
SYLLABLES = _SYLLABLE_TEXT.split()
SPECIAL = (
    "Kim",
    "Putin",
    "rudal",
    "satelit",
    "rudalnya",
    "satelitnya",
    "Putin-Kim",
    "rudal-rudal",
    "Kim Jong Un",
    "Kimlah",
    "(Putin)",
    "KIM",
    "satellite",
)


@dataclass(frozen=True)
class Corpus:
    articles: list[tuple[str, str]]  # (title, text)
    queries: list[str]  # the largest query list; smaller sizes use a prefix


def _make_word(rng: Random, low: int, high: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(low, high)))


def _vocabulary(rng: Random, count: int, low: int, high: int, avoid: set[str]) -> list[str]:
    """Distinct made-up words. None ends like an Indonesian clitic (-nya, -ku, -mu, -lah, ...):
    with a syllable generator, "molimu" would otherwise be clitic-stripped to another made-up
    word "moli" far more often than real names are; clitics come from SPECIAL instead."""
    words: list[str] = []
    seen = set(avoid)
    while len(words) < count:
        word = _make_word(rng, low, high)
        if word not in seen and len(word) > 3 and not word.endswith(CLITICS):
            seen.add(word)
            words.append(word)
    return words


def _article(rng: Random, common: list[str], names: list[str], size: int) -> tuple[str, str]:
    curly = rng.random() < 0.5  # half the articles are pure ASCII, half use “ ” and —
    parts: list[str] = []
    length = 0
    while length < size:
        sentence = []
        for _ in range(rng.randint(8, 20)):
            roll = rng.random()
            if roll < 0.015:
                word = rng.choice(SPECIAL)
            elif roll < 0.04:
                word = rng.choice(names).capitalize()
            else:
                word = rng.choice(common)
            if rng.random() < 0.03:
                word = f"“{word}”" if curly else f'"{word}"'
            sentence.append(word)
        text = " ".join(sentence)
        text = text[0].upper() + text[1:] + rng.choice([".", ".", ",", " —" if curly else " -"])
        parts.append(text)
        length += len(text) + 1
    title = " ".join(rng.choice(common + names) for _ in range(rng.randint(5, 10))).capitalize()
    return title, " ".join(parts)


def _queries(rng: Random, names: list[str], count: int) -> list[str]:
    pool = iter(names)  # single-word queries use distinct names
    queries = list(BASE_QUERIES)
    while len(queries) < count:
        roll = rng.random()
        if roll < 0.04:
            query = f'"{next(pool).capitalize()} {rng.choice(names).capitalize()}"'
        elif roll < 0.07:
            query = f"{next(pool)} OR {rng.choice(names)}"
        elif roll < 0.10:
            query = f"{next(pool).capitalize()} -{rng.choice(names).capitalize()}"
        else:
            query = next(pool).capitalize()
        queries.append(query)
    return queries


def build_corpus(seed: int, articles: int, queries: int) -> Corpus:
    rng = Random(seed)
    avoid = {w.lower() for w in COMMON} | {"kim", "putin", "rudal", "satelit", "satellite"}
    common = COMMON + _vocabulary(rng, 3_000, 2, 3, avoid)
    names = _vocabulary(rng, 2 * queries + 1_000, 2, 4, avoid | set(common))
    docs = [_article(rng, common, names, 3_000) for _ in range(articles)]
    return Corpus(docs, _queries(rng, names, queries))


# -- the two contenders --------------------------------------------------------------------


def naive_matcher(queries: Sequence[str]) -> Callable[[str, str], list[str]]:
    """One precompiled ``\\b...\\b`` IGNORECASE regex per query, searched one by one.

    Positive terms only (exclusions and AND are ignored): it is a cost baseline.
    """
    compiled = []
    for query in queries:
        terms = [t for alt in parse_query(query).alternatives for t in alt.include]
        body = "|".join(r"[\W_]+".join(map(re.escape, t.words)) for t in terms)
        compiled.append((query, re.compile(rf"\b(?:{body})\b", re.IGNORECASE)))

    def match(text: str, title: str) -> list[str]:
        full = f"{title}\n{text}"
        return [query for query, regex in compiled if regex.search(full)]

    return match


def per_article_us(match: Callable[[str, str], object], docs: Sequence[tuple[str, str]]) -> float:
    gc.collect()
    start = time.perf_counter()
    for title, text in docs:
        match(text, title)
    return (time.perf_counter() - start) / len(docs) * 1e6


@dataclass
class Row:
    size: int
    compile_ms: float
    cold_us: float
    ours_us: float = float("inf")
    matches: float = 0.0  # queries matched per article
    naive_us: float | None = None
    naive_articles: int = 0


def run(quick: bool, seed: int) -> list[Row]:
    n_articles = 60 if quick else 300
    naive_articles = {100: 20, 1_000: 5} if quick else {100: 100, 1_000: 20, 20_000: 3}
    rounds = 3 if quick else 7
    corpus = build_corpus(seed, n_articles, max(SIZES))
    docs = corpus.articles
    size_kb = sum(len(t) + len(x) for t, x in docs) / len(docs) / 1024
    print(f"{n_articles} articles, {size_kb:.1f} KB average; seed {seed}")
    indexes: dict[int, KeywordIndex] = {}
    rows: dict[int, Row] = {}
    for size in SIZES:
        start = time.perf_counter()
        indexes[size] = index = KeywordIndex(corpus.queries[:size])
        compile_ms = (time.perf_counter() - start) * 1e3
        rows[size] = Row(size, compile_ms, cold_us=per_article_us(index.match, docs))
    check_agreement(indexes, docs)
    # Rounds interleave the sizes so that noise from other processes hits them alike;
    # the best round of each size is reported.
    for _ in range(rounds):
        for size, index in indexes.items():
            rows[size].ours_us = min(rows[size].ours_us, per_article_us(index.match, docs))
    for size, index in indexes.items():
        rows[size].matches = sum(len(index.match(x, t)) for t, x in docs) / len(docs)
        count = naive_articles.get(size, 0)
        if count:
            naive = naive_matcher(corpus.queries[:size])
            rows[size].naive_us = per_article_us(naive, docs[:count])
            rows[size].naive_articles = count
    return list(rows.values())


def check_agreement(indexes: dict[int, KeywordIndex], docs: Sequence[tuple[str, str]]) -> None:
    """Every index size must report the base queries on exactly the same articles."""
    answers = {
        size: [[m.query for m in index.match(x, t) if m.query in BASE_QUERIES] for t, x in docs]
        for size, index in indexes.items()
    }
    smallest = answers[min(answers)]
    for size, found in answers.items():
        if found != smallest:
            raise SystemExit(f"index of {size} queries disagrees with the smallest index")


def report(rows: list[Row]) -> None:
    print()
    print(
        f"{'queries':>8} {'compile ms':>11} {'matches/art':>12} {'ours µs/art':>12} "
        f"{'(cold)':>9} {'naive µs/art':>13} {'naive/ours':>11}"
    )
    for row in rows:
        naive = f"{row.naive_us:13.0f}" if row.naive_us is not None else f"{'-':>13}"
        ratio = f"{row.naive_us / row.ours_us:10.0f}×" if row.naive_us is not None else f"{'-':>11}"
        print(
            f"{row.size:>8} {row.compile_ms:11.1f} {row.matches:12.1f} {row.ours_us:12.1f} "
            f"{row.cold_us:9.1f} {naive} {ratio}"
        )
    by_size = {row.size: row for row in rows}
    growth = by_size[max(SIZES)].ours_us / by_size[min(SIZES)].ours_us
    print()
    print(f"ours@{max(SIZES)} / ours@{min(SIZES)} = {growth:.2f}  (target ≤ 2)")
    if 1_000 in by_size and by_size[1_000].naive_us is not None:
        speedup = by_size[1_000].naive_us / by_size[1_000].ours_us
        print(f"naive / ours @1000 = {speedup:.0f}×  (target ≥ 100×)")
    naive_counts = ", ".join(f"{r.size}: {r.naive_articles}" for r in rows if r.naive_articles)
    print(f"(naive timed on fewer articles — {naive_counts})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small CI-sized run")
    parser.add_argument("--seed", type=int, default=20240611)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report(run(args.quick, args.seed))
    print(f"total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
