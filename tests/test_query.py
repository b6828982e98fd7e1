"""Keyword query language: parsing, canonical text, errors."""

from __future__ import annotations

import dataclasses

import pytest

from bot.matching.query import (
    MAX_QUERY_CHARS,
    MAX_QUERY_TERMS,
    Alternative,
    Query,
    QueryError,
    Term,
    parse_query,
)


def shape(query: Query) -> list[tuple[list[tuple[str, ...]], list[tuple[str, ...]]]]:
    """Alternatives as plain lists: [(include words..., exclude words...), ...]."""
    return [
        ([t.words for t in alt.include], [t.words for t in alt.exclude])
        for alt in query.alternatives
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rudal", [([("rudal",)], [])]),
        ("Kim", [([("kim",)], [])]),
        ("PUTIN", [([("putin",)], [])]),
        ("satelit", [([("satelit",)], [])]),
        ('"Kim Jong Un"', [([("kim", "jong", "un")], [])]),
        ("“Kim Jong Un”", [([("kim", "jong", "un")], [])]),
        ('"Kim Jong Un”', [([("kim", "jong", "un")], [])]),
        ("satelit OR satellite", [([("satelit",)], []), ([("satellite",)], [])]),
        ("Kim -Kardashian", [([("kim",)], [("kardashian",)])]),
        ('Kim -"Kim Kardashian"', [([("kim",)], [("kim", "kardashian")])]),
        ("Kim -“Kim Kardashian”", [([("kim",)], [("kim", "kardashian")])]),
        ("Kim Putin", [([("kim",), ("putin",)], [])]),
        (
            "Kim Putin OR rudal -latihan",
            [([("kim",), ("putin",)], []), ([("rudal",)], [("latihan",)])],
        ),
        # a bare word with separators inside is a phrase of its words
        ("Jong-un", [([("jong", "un")], [])]),
        ("Kim's", [([("kim", "s")], [])]),
        # lowercase "or" is an ordinary word; a quoted OR is a phrase word
        ("rock or roll", [([("rock",), ("or",), ("roll",)], [])]),
        ('"OR"', [([("or",)], [])]),
        # repeated terms are kept once
        ("Kim Kim", [([("kim",)], [])]),
        # NFD input is composed; zero-width characters vanish
        ("cafe\u0301", [([("café",)], [])]),
        ("Pu\u200btin", [([("putin",)], [])]),
        ("Straße", [([("strasse",)], [])]),
        # hostile regex-looking input is just words here
        ("(a+)+$", [([("a",)], [])]),
        ("Kim* [Putin]", [([("kim",), ("putin",)], [])]),
        ("a" * MAX_QUERY_CHARS, [([("a" * MAX_QUERY_CHARS,)], [])]),
        ("G20", [([("g20",)], [])]),
    ],
)
def test_parse(text: str, expected: list) -> None:
    assert shape(parse_query(text)) == expected


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("Kim", "Kim"),
        ("  Kim \t Jong\n Un  ", "Kim Jong Un"),
        ("satelit   OR\u00a0satellite", "satelit OR satellite"),
        ("cafe\u0301", "café"),
        ('"Kim  Jong  Un"', '"Kim Jong Un"'),
    ],
)
def test_canonical_text(text: str, canonical: str) -> None:
    query = parse_query(text)
    assert query.canonical == canonical
    assert query.text == canonical


def test_same_canonical_form_parses_equal() -> None:
    assert parse_query(" Kim  -Kardashian ") == parse_query("Kim -Kardashian")
    assert hash(parse_query("rudal")) == hash(parse_query("rudal "))


def test_records_are_frozen() -> None:
    query = parse_query("Kim")
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.text = "Putin"  # type: ignore[misc]
    assert query.alternatives == (Alternative(include=(Term(("kim",)),), exclude=()),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \t\n", "empty"),
        ("-Kim", "only exclusions"),
        ('-"Kim Jong Un"', "only exclusions"),
        ("Kim OR -Putin", "alternative 2 of 2 has only exclusions"),
        ('"Kim Jong Un', "unbalanced quote"),
        ("“Kim Jong Un", "unbalanced quote"),
        ('Kim "', "unbalanced quote"),
        ("OR Kim", "'OR' at the start"),
        ("Kim OR", "'OR' at the end"),
        ("Kim OR OR Putin", "'OR OR'"),
        ("OR", "'OR' at the start"),
        ("!!!", "no letters or digits"),
        ("Kim ---", "no letters or digits"),
        ('""', "no letters or digits"),
        ('"... ?"', "no letters or digits"),
        ("\u200b", "no letters or digits"),
        ("-", "'-' must be followed"),
        ("Kim -", "'-' must be followed"),
        ("Kim -Kim", "both requires and excludes"),
        ("a" * (MAX_QUERY_CHARS + 1), "too long"),
        ("x" * 100_000, "too long"),
        (" ".join(f"w{i}" for i in range(MAX_QUERY_TERMS + 1)), "too many terms"),
        (" OR ".join(f"w{i}" for i in range(MAX_QUERY_TERMS + 1)), "too many terms"),
        ("(" * 150, "no letters or digits"),
        ("^.*$ Kim", "no letters or digits"),
        ('"' * 3, "no letters or digits"),
    ],
)
def test_invalid_queries(text: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_query_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        parse_query("")


def test_limits_are_inclusive() -> None:
    most_terms = parse_query(" ".join(f"w{i}" for i in range(MAX_QUERY_TERMS)))
    assert len(most_terms.alternatives[0].include) == MAX_QUERY_TERMS
    longest = parse_query("satelit " + "x" * (MAX_QUERY_CHARS - 8))
    assert len(longest.canonical) == MAX_QUERY_CHARS
