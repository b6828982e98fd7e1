"""Hostile input, end to end: what an attacker, a broken feed or a careless admin can send.

Every section feeds deliberately nasty data (quotes and dashes, SQL and FTS5 syntax, markup for
HTML / Markdown / Slack, zero-width and bidi characters, control bytes, invalid UTF-8, huge
values) into one public entry point and checks the promise the design makes about it: a clear
one-line error or a correct result, never a stray exception, and nothing stored is damaged.

The unit suites (test_query, test_matcher, test_text, test_parsers, test_commands, test_render)
pin exact behaviour on chosen examples; this file is the cross-cutting property layer on top.
"""

from __future__ import annotations

import html
import http.server
import json
import logging
import re
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from bot.alerts.alert import build_alert
from bot.alerts.fitting import safe_link
from bot.ingest.clean import clean_text
from bot.ingest.dedup import save_articles
from bot.ingest.parse import MIN_TEXT_CHARS, looks_binary, parse_bytes
from bot.matching.index import KeywordIndex
from bot.matching.passes import matching_pass
from bot.matching.query import MAX_QUERY_CHARS, QueryError, parse_query
from handlers.commands import ALIASES, VERBS, CommandContext, Reply, Settings, execute
from handlers.console.format import to_console
from handlers.slack.format import SLACK_HEADER_LIMIT, SLACK_TEXT_LIMIT, to_slack
from handlers.telegram.format import TELEGRAM_LIMIT, to_telegram_html
from store import open_store
from store.models import Article, ArticleIn, IngestBatch

# Modest example counts keep the whole file well under 20 s; no per-example deadline, since a
# first call may build the tokeniser's non-BMP tables or compile regexes.
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SEED_KEYWORDS = ("Kim", "Putin", "rudal", "satelit", '"Kim Jong Un"', "Kim -Kardashian")
ADMIN = "1001"
USER = "2002"
WHEN = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
SQL_META = (
    "'", '"', ";", "--", "%", "_", "\\", "' OR 1=1 --", '"; DROP TABLE articles; --',
    "Robert'); DROP TABLE chats;--", "NEAR(", "NEAR(a b, 2)", "*", "a*", "^", "^awal", ":",
    "title:x", "AND", "OR NOT", "NOT", "OR", "(", ")", "{", "}", "+", "''", '""', "%_%",
)  # fmt: skip
MARKUP = (
    "<b>", "</b>", "<i>x</i>", "<a href='https://evil.example'>klik</a>", "<script>", "]]>",
    "*bold*", "_x_", "~s~", "`code`", "```", "<!channel>", "<!here>", "<!everyone>", "<@U123>",
    "<#C123>", "<https://evil.example|click>", "<http://evil.example>", "&amp;", "&lt;", "&",
    "<", ">", "|", "@channel", "@here", "@Everyone", "[x](https://evil.example)",
)  # fmt: skip
WORDS = ("Kim", "Putin", "rudal", "satelit", "Kimia", "Rasputin", "Kimchi", "rudalnya", "Jong")
QUERY_PIECES = (
    '"', "“", "”", "-", '-"', " ", "  ", "OR", " OR ", "OR OR", "Kim", "rudal", "Jong-un", "Kim's",
    "e\u0301", "ß", "İ", "ǅ", "\u00a0", "\u3000", "\u2028", "\x85", "\x00", "\n", "\t", "\x1b",
    "\U0001d400", "👨‍👩‍👧", *ZERO_WIDTH, *BIDI,
)  # fmt: skip

# Any Unicode character, lone surrogates included (what a bad JSON escape can produce).
any_char = st.characters(exclude_categories=())
hostile_fragment = st.one_of(
    st.sampled_from(SQL_META + MARKUP + WORDS + QUERY_PIECES), st.text(any_char, max_size=4)
)


def joined(pieces: st.SearchStrategy[str], max_size: int, sep: str = "") -> st.SearchStrategy[str]:
    return st.lists(pieces, max_size=max_size).map(sep.join)


hostile_text = joined(hostile_fragment, 30)
# The same without lone surrogates: what a UTF-8 platform or the store can actually carry.
storable_text = hostile_text.map(lambda s: "".join(c for c in s if not 0xD800 <= ord(c) < 0xE000))


def units(text: str) -> int:
    """Length in UTF-16 code units (what Telegram and Slack count)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def one_line(message: str) -> bool:
    return bool(message.strip()) and len(message.splitlines()) == 1


def keyword_rows(db: Database) -> list[tuple[int, str]]:
    return [(k.id, k.query) for k in db.keywords.all()]


def table_names(db: Database) -> set[str]:
    return {row[0] for row in db.conn.execute("SELECT name FROM sqlite_master")}


def seeded_db(articles: Sequence[ArticleIn] = ()) -> Database:
    db = open_store(":memory:")
    for query in SEED_KEYWORDS:
        db.keywords.add(query, "config")
    save_articles(db, articles)
    return db


def run(
    db: Database, text: str, *, admin: bool, platform: str = "telegram", title: str = "Redaksi"
) -> Reply:
    ctx = CommandContext(platform, "-100777", ADMIN if admin else USER, title)
    return execute(db, ctx, text, Settings("id", frozenset({ADMIN})))


# --- 1. the query parser ---------------------------------------------------------------------


query_text = st.one_of(
    joined(st.one_of(st.sampled_from(QUERY_PIECES), st.text(any_char, max_size=3)), 25),
    st.text(any_char, max_size=60),
    st.builds(lambda word, n: " ".join([word] * n), st.sampled_from(WORDS), st.integers(0, 60)),
)


@FAST
@given(query_text)
@example("a" * 50_000)
@example('"' * 999)
@example('Kim -"Kim Jong Un" OR "satelit"')
@example("\u202eKim\u202c -\u200bPutin")
@example("“Kim ”rudal”")
def test_query_parser_gives_a_query_or_a_one_line_error(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError as exc:
        message = str(exc)
        assert one_line(message) and message.isprintable(), repr(message)
        return
    assert query.alternatives
    canonical = query.canonical
    assert canonical == " ".join(canonical.split())
    assert unicodedata.is_normalized("NFC", canonical)
    assert 0 < len(canonical) <= MAX_QUERY_CHARS
    # The canonical text is a fixed point: parsing it again gives the very same query.
    assert parse_query(canonical) == query
    # Whatever parses also compiles, and matching hostile text with it is safe.
    KeywordIndex([text]).match(canonical + " " + text, title=text)


# --- 2. queries built to make a backtracking regex engine explode ----------------------------

ADVERSARIAL = "a" * 100_000 + "!"  # one 100 000-letter word, then punctuation


@pytest.mark.parametrize(
    ("query", "witness"),
    [
        ("(a+)+$", "a"),  # the classic: here just the word "a"
        ("(.*a){20}", "a{20}"),  # the phrase "a 20"
        ("(x+x+)+y", "x+x+y"),  # the phrase "x x y"
        ("^(a|a)*$", "a|a"),  # "a", alternatives spelled with a pipe are just separators
        ("a" * MAX_QUERY_CHARS, "a" * MAX_QUERY_CHARS),  # the longest single word allowed
        ('"a a a a a a a a a a a b"', "a " * 11 + "b"),  # the longest phrase allowed
        ('a -"a a a a a a a a b"', "a"),
        ('"a" "a" "a" OR a OR "a a"', "a"),
    ],
)
def test_catastrophic_regex_queries_are_cheap_and_exact(query: str, witness: str) -> None:
    index = KeywordIndex([query])
    assert index.match(ADVERSARIAL, title=ADVERSARIAL) == []  # "aaaa…a" is not the word "a"
    hit = index.match(ADVERSARIAL + " " + witness)
    assert [m.query for m in hit] == [query]
    assert hit[0].spans and hit[0].spans[0][0] == len(ADVERSARIAL) + 1


def test_phrase_over_a_long_run_of_its_own_first_word() -> None:
    # Every "a" starts a candidate phrase that fails on its last word: the worst case for
    # phrase verification (cost ~ occurrences x phrase length), still linear in the text.
    index = KeywordIndex(['"a a a a a a a a a a a b"', "b"])
    run_of_a = "a " * 50_000  # 100 KB
    assert [m.query for m in index.match(run_of_a + "b")] == ['"a a a a a a a a a a a b"', "b"]
    with pytest.raises(QueryError, match="phrase is too long"):
        KeywordIndex(['"a a a a a a a a a a a a a b"'])  # 13 words: refused


@pytest.mark.parametrize(
    "query",
    ["a" * 50_000, '""', '"“Kim ”rudal"', '"""', "-", "OR", "Kim OR", '-"a"', "Kim -Kim"],
)
def test_hostile_queries_that_cannot_be_used_say_why_on_one_line(query: str) -> None:
    with pytest.raises(QueryError) as caught:
        KeywordIndex([query])
    assert one_line(str(caught.value))


def test_near_miss_flood_never_matches_whole_word_keywords() -> None:
    index = KeywordIndex(["Kim", "Putin", '"Kim Jong Un"'])
    flood = "Kimia Rasputin Kimchi Putinisme Kimono " * 2_500  # ~100 KB
    assert [m.query for m in index.match(flood)] == []
    assert [m.query for m in index.match(flood + "Kim")] == ["Kim"]


# --- 3. chat commands on a real store --------------------------------------------------------

command_prefix = st.sampled_from(["/", "", "/kabar ", "kabar ", "@KabarBot /", "//"])
command_verb = st.sampled_from([*VERBS, *ALIASES, "START", "Start@KabarBot", "x", ""])
# st.text() never yields lone surrogates; they are covered on their own below.
command_args = joined(st.one_of(st.sampled_from(SQL_META + MARKUP + WORDS), st.text()), 10, " ")
NEWS = [
    ArticleIn(
        text="Kim Jong Un menonton uji coba rudal; ' OR 1=1 -- satelit.", title="Rudal' --",
        url="https://berita.example/a?b=';--", source="bbn%_", published=WHEN,
    ),
    ArticleIn(text="Putin bertemu Kim di Vostochny.", title="", url="", source="", published=WHEN),
]  # fmt: skip


@FAST
@given(
    prefix=command_prefix,
    verb=command_verb,
    args=command_args,
    admin=st.booleans(),
    platform=st.sampled_from(["telegram", "slack", "console"]),
)
def test_any_command_gets_a_reply_and_leaves_the_store_intact(
    prefix: str, verb: str, args: str, admin: bool, platform: str
) -> None:
    db = seeded_db(NEWS)
    keywords, tables = keyword_rows(db), table_names(db)
    text = f"{prefix}{verb} {args}"
    reply = run(db, text, admin=admin, platform=platform)
    assert reply.text.strip()
    assert "{p}" not in reply.text or "{p}" in text  # every template placeholder was filled
    assert db.integrity_ok()
    assert table_names(db) == tables
    assert db.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == len(NEWS)
    after = keyword_rows(db)
    if not admin:
        assert after == keywords
    elif after != keywords:  # only the admin verbs edit the set, and only with valid queries
        assert reply.changed
        for _, query in set(after) - set(keywords):
            assert parse_query(query).canonical == query


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("/subscribe \ud800", ""),
        ("/latest Kim\udfff", ""),
        ("/unsubscribe \udc80", ""),
        ("/removekeyword x\ud800", ""),
        ("/addkeyword Kim\ud800", ""),
        ("/start", "Redaksi \ud800"),
    ],
)
def test_lone_surrogates_in_a_command_get_a_reply(text: str, title: str) -> None:
    # python-telegram-bot decodes updates with json.loads, which accepts "\ud800" escapes.
    db = seeded_db()
    reply = run(db, text, admin=True, title=title)
    assert reply.text and db.integrity_ok()


# --- 4. SQL and FTS5 metacharacters ----------------------------------------------------------

meta_text = joined(st.sampled_from(SQL_META), 8, " ")


@SLOW
@given(title=meta_text, body=meta_text, url=meta_text, source=meta_text)
@example(
    title="' OR 1=1 --",
    body='"; DROP TABLE articles; -- NEAR( * ^ : AND OR NOT',
    url="https://x.example/?q=' OR 1=1 --&r=%_\\",
    source="\\%_';",
)
def test_metacharacters_in_article_fields_are_stored_verbatim_and_searchable(
    title: str, body: str, url: str, source: str
) -> None:
    db = seeded_db()
    text = f"{body} penandaunik {body}"
    item = ArticleIn(text=text, title=title, url=url, source=source, published=WHEN, lang="id")
    (article_id,) = save_articles(db, [item]).new_ids
    stored = db.articles.get(article_id)
    assert stored is not None
    assert (stored.title, stored.text, stored.url, stored.source) == (title, text, url, source)
    for query in (title, body, url, source, *SQL_META):
        db.articles.search(query)  # never an FTS5 syntax error
    # Every word of the hostile text is an ordinary search term, so its own text finds it.
    assert [a.id for a in db.articles.search(f"{body} penandaunik")] == [article_id]
    assert db.integrity_ok() and {"articles", "articles_fts", "keywords"} <= table_names(db)


@SLOW
@given(title=meta_text, body=meta_text, url=meta_text, source=meta_text)
def test_metacharacters_survive_json_ingest_into_the_store(
    title: str, body: str, url: str, source: str
) -> None:
    text = f"Uji coba rudal balistik di pesisir timur. {body} penandaunik."
    link = f"https://berita.example/{url}"
    doc = json.dumps({"title": title, "text": text, "url": link, "source": source}).encode()
    batch = parse_bytes(doc, "hostile.json", max_bytes=1 << 20)
    assert not batch.rejected, batch.rejected
    (parsed,) = batch.articles
    assert parsed.text == " ".join(text.split())  # SQL_META holds no markup to clean
    assert parsed.title == " ".join(title.split())
    db = seeded_db()
    (article_id,) = save_articles(db, batch.articles).new_ids
    stored = db.articles.get(article_id)
    assert stored is not None
    assert (stored.title, stored.text, stored.url, stored.source) == (
        parsed.title,
        parsed.text,
        parsed.url,
        parsed.source,
    )


@SLOW
@given(
    verb=st.sampled_from(["subscribe", "unsubscribe", "search", "cari", "latest", "lang"]),
    arg=meta_text,
)
@example(verb="search", arg="' OR 1=1 --")
@example(verb="search", arg='NEAR(rudal satelit, 2) OR NOT "')
@example(verb="latest", arg='"; DROP TABLE articles; --')
def test_metacharacters_in_command_arguments(verb: str, arg: str) -> None:
    db = seeded_db(NEWS)
    keywords, tables = keyword_rows(db), table_names(db)
    reply = run(db, f"/{verb} {arg}", admin=False)
    assert reply.text.strip()
    assert db.integrity_ok() and table_names(db) == tables and keyword_rows(db) == keywords
    assert db.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == len(NEWS)


@SLOW
@given(
    words=st.lists(st.sampled_from(SQL_META), min_size=1, max_size=6), anchor=st.sampled_from(WORDS)
)
@example(words=["'", ");", "DROP", "TABLE", "chats;--"], anchor="Robert")
def test_admin_keywords_with_metacharacters_round_trip(words: list[str], anchor: str) -> None:
    db = seeded_db(NEWS)
    tables = table_names(db)
    text = " ".join([anchor, *words])
    added = run(db, f"/addkeyword {text}", admin=True)
    assert added.text.strip() and db.integrity_ok() and table_names(db) == tables
    if not added.changed:
        return  # refused as an invalid query (with the reason) or already present
    query = keyword_rows(db)[-1][1]
    assert query == parse_query(query).canonical  # stored exactly as canonicalised
    assert run(db, f"/subscribe {query}", admin=False).ok
    assert run(db, f"/latest {query}", admin=False).ok
    assert run(db, f"/removekeyword {query}", admin=True).changed
    assert [q for _, q in keyword_rows(db)] == list(SEED_KEYWORDS)


# --- 5. the text cleaner ---------------------------------------------------------------------

html_piece = st.sampled_from(
    ["<p>", "</p>", "<br>", "<br/>", "<div>", "<script>alert(1)</script>", "<style>", "</style>",
     "<!-- c -->", "&amp;", "&lt;", "&gt;", "&#x41;", "&#0;", "&#xD800;", "&nbsp;", "&lt;b&gt;",
     "&amp;lt;", "Baca Juga", "Baca juga: x", "ADVERTISEMENT", "\r\n", "\n\n\n", "\t", "\x0c"]
)  # fmt: skip
cleaner_input = joined(st.one_of(html_piece, hostile_fragment, st.text(any_char, max_size=3)), 40)
FORBIDDEN_AFTER_CLEANING = set(ZERO_WIDTH)


@FAST
@given(cleaner_input)
@example("&lt;b&gt;x&lt;/b&gt;")
@example("a\u200b\u202eb\ud800c\x00d\u0301\r\ne")
def test_clean_text_output_is_normalised_and_stable(raw: str) -> None:
    cleaned = clean_text(raw)
    assert unicodedata.is_normalized("NFC", cleaned)
    assert not FORBIDDEN_AFTER_CLEANING & set(cleaned)
    assert all(ch == "\n" or unicodedata.category(ch) != "Cc" for ch in cleaned)
    assert all(line == line.strip() for line in cleaned.split("\n"))
    # Cleaning decodes one level of HTML: "&lt;b&gt;" becomes the text "<b>", which a second
    # pass would (rightly) read as a tag. So full idempotence only holds when the output has
    # no "&" or "<"; in general, the output re-encoded as HTML text cleans back to itself.
    assert clean_text(html.escape(cleaned, quote=False)) == cleaned
    if "&" not in cleaned and "<" not in cleaned:
        assert clean_text(cleaned) == cleaned


# --- 6. the document parsers -----------------------------------------------------------------

KINDS = ("txt", "json", "jsonl", "xml")
LONG_ENOUGH = "Pemimpin Korea Utara Kim Jong Un meninjau uji coba rudal baru di pesisir timur."
byte_piece = st.sampled_from(
    [b"<rss>", b"<channel>", b"<item>", b"</item>", b"<title>", b"</title>", b"<description>",
     b"</description>", b"<![CDATA[", b"]]>", b"<?xml version='1.0'?>",
     b'<?xml version="1.0" encoding="latin-1"?>', b'<?xml version="1.0" encoding="bogus"?>',
     b"<feed xmlns='http://www.w3.org/2005/Atom'>", b"<entry>", b"<content type='html'>",
     b"<link>", b"</link>", b"<pubDate>", b"</pubDate>", b"&amp;", b"&lt;b&gt;", b"&#0;",
     b"&#x41;", b"&bogus;", b"<!DOCTYPE x [<!ENTITY e 'y'>]>", b"<html>", b"{", b"}", b"[", b"]",
     b'{"text": "', b'"}', b'"published": 1e999', b'"published": -1e20', b'"title": null',
     b'"\\ud800"', b",", b":", b'"', b"\n", b"\r\n", b"\x00", b"\xff", b"\xc3(",
     b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\xff\xfe", b"\x1b", b"\xe2\x80\xae",
     LONG_ENOUGH.encode()]
)  # fmt: skip
document_bytes = st.one_of(st.binary(max_size=400), st.lists(byte_piece, max_size=30).map(b"".join))
_CHARREF = re.compile(rb"&#([0-9]+|[xX][0-9a-fA-F]+)")


def has_unencodable_charref(data: bytes) -> bool:
    """A numeric character reference no UTF-8 text can hold (surrogate, > U+10FFFF)."""
    for match in _CHARREF.finditer(data):
        ref = match.group(1).lower()
        if len(ref) > 8:
            return True
        value = int(ref[1:], 16) if ref.startswith(b"x") else int(ref)
        if value > 0x10FFFF or 0xD800 <= value < 0xE000:
            return True
    return False


def has_raw_surrogate(data: bytes) -> bool:
    """UTF-8-encoded surrogates (what ``surrogatepass`` writes): invalid UTF-8."""
    return any(0xD800 <= ord(c) < 0xE000 for c in data.decode("utf-8", "surrogatepass"))


def assert_well_formed(batch: IngestBatch, origin: str) -> None:
    """Rejections name the origin and say why on one line; articles are clean text."""
    for rejection in batch.rejected:
        assert rejection.origin == origin
        assert one_line(rejection.reason), repr(rejection.reason)
    invisible = set(ZERO_WIDTH) | set(BIDI) | {"\x00", "\r"}
    for article in batch.articles:
        assert len(article.text) >= MIN_TEXT_CHARS
        if "&" not in article.text and "<" not in article.text:  # see the clean_text test
            assert clean_text(article.text) == article.text
        assert "\n" not in article.title and "\n" not in article.source
        assert not set(article.text + article.title + article.source) & invisible


@FAST
@given(data=document_bytes, kind=st.sampled_from(KINDS))
@example(data=b"\x00" * 3, kind="txt")
@example(data=b"<rss><channel><item><title>\x00</title></item></channel></rss>", kind="xml")
def test_parse_bytes_never_raises(data: bytes, kind: str) -> None:
    origin = f"hostile.{kind}"
    batch = parse_bytes(data, origin, max_bytes=4096)
    assert_well_formed(batch, origin)
    if b"\x00" in data:
        assert not batch.articles and len(batch.rejected) == 1
    if kind == "txt":
        assert len(batch.articles) + len(batch.rejected) == 1


def one_item_document(kind: str, text: str) -> bytes:
    body = LONG_ENOUGH + " " + text
    if kind == "txt":
        return body.encode("utf-8", "surrogatepass")
    if kind in ("json", "jsonl"):
        item = {"title": text[:80], "text": body, "url": "https://berita.example/a"}
        return json.dumps([item] if kind == "json" else item).encode("utf-8", "surrogatepass")
    return (
        "<rss version='2.0'><channel><title>t</title><item><title>"
        + html.escape(text[:80])
        + "</title><link>https://berita.example/a</link><description>"
        + html.escape(body)
        + "</description></item></channel></rss>"
    ).encode("utf-8", "surrogatepass")


@FAST
@given(text=hostile_text, kind=st.sampled_from(KINDS))
def test_a_hostile_one_item_document_gives_exactly_one_outcome(text: str, kind: str) -> None:
    """Never an empty batch: the one item is stored clean or rejected with a reason."""
    origin = f"hostile.{kind}"
    batch = parse_bytes(one_item_document(kind, text), origin, max_bytes=1 << 20)
    assert outcomes(batch) == 1, (batch.articles, batch.rejected)
    assert_well_formed(batch, origin)
    if batch.articles:
        assert "Kim Jong Un" in batch.articles[0].text


@FAST
@given(
    head=st.text(st.characters(max_codepoint=0x7E, min_codepoint=0x20), max_size=60),
    bad=st.sampled_from([b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]),
    tail=st.text(max_size=60),
    kind=st.sampled_from(KINDS),
)
def test_invalid_utf8_is_rejected_whole(head: str, bad: bytes, tail: str, kind: str) -> None:
    data = (LONG_ENOUGH + head).encode() + bad + tail.encode()
    batch = parse_bytes(data, f"x.{kind}", max_bytes=4096)
    assert not batch.articles
    assert len(batch.rejected) == 1 and one_line(batch.rejected[0].reason)


json_value = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from([10**400, -(10**400), 2**63]),
    st.floats(), st.text(max_size=10), hostile_text,
    st.builds(lambda s: LONG_ENOUGH + s, hostile_text), st.lists(st.integers(), max_size=2),
)  # fmt: skip
json_item = st.one_of(
    st.dictionaries(
        st.sampled_from(["text", "title", "url", "link", "source", "published", "extra"]),
        json_value,
        max_size=6,
    ),
    json_value,
)


@FAST
@given(items=st.lists(json_item, max_size=6), ascii_only=st.booleans(), blank=st.booleans())
def test_every_json_item_is_an_article_or_a_rejection(
    items: list[Any], ascii_only: bool, blank: bool
) -> None:
    lines = [json.dumps(item, ensure_ascii=ascii_only) for item in items]
    document = json.dumps(items, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    batch = parse_bytes(document, "x.json", max_bytes=1 << 20)
    assert_well_formed(batch, "x.json")
    assert outcomes(batch) == expected_outcomes(document, len(items))
    separator = "\n\n  \n" if blank else "\n"
    jsonl = separator.join(lines).encode("utf-8", "surrogatepass")
    batch = parse_bytes(jsonl, "x.jsonl", max_bytes=1 << 20)
    assert_well_formed(batch, "x.jsonl")
    if items:  # (no items at all is an empty file)
        assert outcomes(batch) == expected_outcomes(jsonl, len(items))


def outcomes(batch: IngestBatch) -> int:
    return len(batch.articles) + len(batch.rejected)


def expected_outcomes(document: bytes, items: int) -> int:
    """One outcome per item, unless the whole document is rejected (one rejection)."""
    return 1 if has_raw_surrogate(document) or looks_binary(document) else items


@pytest.mark.parametrize("ref", [b"&#xD800;", b"&#x110000;", b"&#99999999999999999999;"])
def test_feed_with_unencodable_character_reference(ref: bytes) -> None:
    data = b"<rss><channel><item><description>" + LONG_ENOUGH.encode() + ref
    data += b"</description></item></channel></rss>"
    assert has_unencodable_charref(data)
    batch = parse_bytes(data, "feed.xml", max_bytes=4096)
    assert_well_formed(batch, "feed.xml")


@pytest.mark.parametrize("kind", ["json", "jsonl"])
def test_json_integer_over_the_digit_limit(kind: str) -> None:
    data = b'{"text": "%s", "published": 1%s}' % (LONG_ENOUGH.encode(), b"0" * 5000)
    batch = parse_bytes(data, f"x.{kind}", max_bytes=1 << 20)
    assert_well_formed(batch, f"x.{kind}")


def test_json_integer_too_big_for_a_float_is_no_date() -> None:
    data = b'{"text": "%s", "published": 1%s}' % (LONG_ENOUGH.encode(), b"0" * 400)
    batch = parse_bytes(data, "x.json", max_bytes=1 << 20)
    assert [a.published for a in batch.articles] == [None] and not batch.rejected


# --- 7. rendering ----------------------------------------------------------------------------


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.closed: list[str] = []
        self.data: list[str] = []

    def handle_data(self, data: str) -> None:
        self.data.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self.closed.append(tag)

    def handle_comment(self, data: str) -> None:
        self.tags.append(("!--", []))

    def handle_decl(self, decl: str) -> None:
        self.tags.append(("!", []))

    def unknown_decl(self, data: str) -> None:
        self.tags.append(("![", []))


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for block in blocks:
        for item in [block["text"]] if "text" in block else block.get("elements", []):
            yield block["type"], item


render_text = joined(
    st.one_of(
        st.sampled_from(MARKUP + WORDS + (" ", "\n", *ZERO_WIDTH, *BIDI)), st.text(max_size=4)
    ),
    40,
)
render_url = st.one_of(
    st.sampled_from(
        ["https://evil.example/a?x=1&y=<2>|z\"'", "javascript:alert(1)", "<https://evil|click>",
         "https://ok.example/\u202eexe.txt", "", "https://a.example/" + "x" * 3000,
         "https://berita.example/rudal"]
    ),
    render_text,
)  # fmt: skip
RENDER_INDEX = KeywordIndex(["Kim", "Putin", "rudal", '"Kim Jong Un"', "satelit OR satellite"])


@FAST
@given(
    text=render_text,
    title=render_text,
    source=render_text,
    url=render_url,
    repeat=st.sampled_from([1, 1, 40, 400]),
    language=st.sampled_from(["id", "en"]),
)
@example(
    text="<!channel> *rudal* <@U123> `code` _x_ &amp; <https://evil|click>",
    title="<b>Kim</b> <!here>",
    source="<@U999>",
    url="https://evil.example/?a=<b>&c=|",
    repeat=1,
    language="en",
)
def test_rendered_alerts_carry_only_our_markup(
    text: str, title: str, source: str, url: str, repeat: int, language: str
) -> None:
    text = text * repeat
    article = Article(1, text, title, url, source, WHEN, "id", WHEN)
    matches = RENDER_INDEX.match(text, title)
    alert = build_alert(
        article,
        [m.query for m in matches] or ["<!channel> *x*"],
        [span for m in matches for span in m.spans],
        [span for m in matches for span in m.title_spans],
        language=language,
    )

    message = to_telegram_html(alert)
    assert units(message) <= TELEGRAM_LIMIT
    parser = TagCollector()
    parser.feed(message)
    parser.close()
    assert {tag for tag, _ in parser.tags} <= {"b", "u", "a"}
    assert set(parser.closed) <= {"b", "u", "a"}
    link = safe_link(url)
    links = [dict(attrs) for tag, attrs in parser.tags if tag == "a"]
    assert all(set(attrs) == {"href"} for attrs in links)
    assert [attrs["href"] for attrs in links] in ([], [link] if link else [])
    # The article's own markup is shown as text, not obeyed (a title this short is never cut).
    visible = "".join(parser.data)
    if len(title) <= 100:
        assert all(m in visible for m in MARKUP if m in title and m.strip() == m)

    fallback, blocks = to_slack(alert)
    assert units(fallback) <= SLACK_TEXT_LIMIT and "<" not in fallback and ">" not in fallback
    for block_type, item in mrkdwn_texts(blocks):
        body = item["text"]
        if block_type == "header":
            assert item["type"] == "plain_text" and units(body) <= SLACK_HEADER_LIMIT
        else:
            assert item["type"] == "mrkdwn" and item["verbatim"] is True
            assert units(body) <= SLACK_TEXT_LIMIT
            assert not re.search(r"@(channel|here|everyone)\b", body, re.IGNORECASE)
        if block_type == "context" and link and body.startswith("<http"):
            target, _, label = body[1:-1].partition("|")  # our own "Read more" link
            assert body.endswith(">") and not set(target) & set("<>| ") and "<" not in label
            continue
        assert "<" not in body and ">" not in body, body

    console = to_console(alert)
    assert not set(console) & set(BIDI) and "\x1b" not in console


# --- 8. the matching pass, end to end --------------------------------------------------------

KIMIA = "Kimia Rasputin Kimchi"
CONTROL = "Kim bertemu Putin membahas rudal dan satelit."
hostile_article = st.builds(
    lambda text, title, url, source: ArticleIn(
        text=text or "-", title=title, url=url, source=source, published=WHEN
    ),
    storable_text,
    storable_text,
    st.one_of(storable_text, st.just("https://berita.example/x?y=' OR 1=1 --")),
    storable_text,
)


@SLOW
@given(articles=st.lists(hostile_article, max_size=8), hostile_keyword=st.sampled_from(
    ["Robert'); DROP TABLE chats;--", '"Kim Jong Un" OR rudal', "Kimia -Kimchi", "satelit"]
))  # fmt: skip
def test_matching_pass_on_hostile_articles(articles: list[ArticleIn], hostile_keyword: str) -> None:
    db = seeded_db()
    db.keywords.add(parse_query(hostile_keyword).canonical, "admin")
    chat = db.chats.ensure("telegram", "-100777", "id")
    db.chats.subscribe(chat, db.keywords.all(), follow_all=True)
    kimia, control = save_articles(
        db, [ArticleIn(text=KIMIA), ArticleIn(text=CONTROL, url="https://berita.example/kim")]
    ).new_ids
    stored = save_articles(db, articles).new_ids

    result = matching_pass(db)
    assert result.checked == 2 + len(stored)
    outbox = {
        article_id: json.loads(keywords)
        for article_id, keywords in db.conn.execute("SELECT article_id, keywords FROM outbox")
    }
    assert len(outbox) == result.queued  # one row per (article, chat): a single chat here
    assert kimia not in outbox  # "Kim" / "Putin" are never parts of "Kimia" / "Rasputin"
    assert outbox[control][:2] == ["Kim", "Putin"]
    index = KeywordIndex(k.query for k in db.keywords.all())
    for article_id, keywords in outbox.items():
        article = db.articles.get(article_id)
        assert article is not None
        assert keywords == [m.query for m in index.match(article.text, article.title)]
    again = matching_pass(db)
    assert (again.checked, again.queued) == (0, 0)  # at most once
    assert db.integrity_ok()


# --- feed URLs with credentials, empty feeds: what the running bot logs and records ---------------


class _FeedServer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/empty":
            body = (
                b'<?xml version="1.0"?><rss version="2.0"><channel><title>Sepi</title>'
                b"</channel></rss>"
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
        else:
            body = b"oops"
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def feed_base() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FeedServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://reader:s3cret@127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


async def test_feed_credentials_never_reach_a_log_line(feed_base: str, tmp_path, caplog) -> None:
    from bot.app.service import Service
    from bot.config import config_from_dict

    db = open_store(tmp_path / "k.db")
    service = Service(config_from_dict({}, env={}), db, {})
    with caplog.at_level(logging.DEBUG):
        poll = await service.poll_feed(f"{feed_base}/broken", 60)
    await service.close()
    assert poll.error == "HTTP 500"
    assert "feed http://***@127.0.0.1:" in caplog.text and "HTTP 500" in caplog.text
    assert "s3cret" not in caplog.text


def test_kabar_ingest_never_prints_feed_credentials(feed_base: str, tmp_path, capsys) -> None:
    from bot.cli import main

    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "k.db"\n')
    assert main(["ingest", "--config", str(config), f"{feed_base}/broken"]) == 1
    out, err = capsys.readouterr()
    assert (
        out.splitlines()[1] == f"rejected: {feed_base.replace('reader:s3cret', '***')}"
        "/broken: HTTP 500"
    )
    assert "s3cret" not in out + err


async def test_a_valid_empty_feed_is_a_success_not_a_failure(feed_base: str, tmp_path) -> None:
    from bot.app.service import Service
    from bot.config import config_from_dict

    url = f"{feed_base}/empty"
    db = open_store(tmp_path / "k.db")
    db.feeds.sync([(url, "", 60)])
    service = Service(config_from_dict({}, env={}), db, {})
    poll = await service.poll_feed(url, 60)
    await service.close()
    assert (poll.error, poll.next_in) == (None, 60)  # no backoff
    row = db.feeds.get(url)
    assert (row.failures, row.last_error) == (0, None)
