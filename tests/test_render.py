"""Alert rendering: bot.alerts (build_alert, make_snippet, format_time) and each platform's
formatter (handlers/*/format.py)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from bot.alerts.alert import Alert, build_alert, format_time, make_snippet
from bot.alerts.fitting import safe_link
from handlers.console.format import to_console
from handlers.slack.format import to_slack
from handlers.telegram.format import TELEGRAM_LIMIT, to_telegram_html
from store.models import Article

PUBLISHED = datetime(2023, 9, 13, 7, 5, tzinfo=UTC)
INGESTED = datetime(2024, 1, 2, 3, 4, tzinfo=UTC)

ID_TEXT = (
    "Pemimpin Korea Utara Kim Jong Un tiba di Vladivostok dengan kereta lapis baja. "
    "Ia dijadwalkan bertemu Presiden Rusia Vladimir Putin di kosmodrom Vostochny.\n\n"
    "Para analis menduga pembicaraan akan menyentuh kerja sama rudal dan satelit."
)
EN_TEXT = (
    "Heavy rain flooded three districts on Tuesday. Officials said the river rose two metres "
    "overnight.\nA satellite image showed the extent of the damage near the coast."
)


def article(
    text: str = ID_TEXT,
    *,
    title: str = "",
    url: str = "https://berita.example/korea/kim-putin",
    source: str = "bbn",
    published: datetime | None = PUBLISHED,
    lang: str = "id",
) -> Article:
    return Article(1, text, title, url, source, published, lang, INGESTED)


def spans_of(text: str, *words: str) -> list[tuple[int, int]]:
    """Whole-word, case-sensitive spans of ``words`` in ``text`` (a stand-in for the matcher)."""
    pattern = "|".join(re.escape(w) for w in words)
    return [m.span() for m in re.finditer(rf"(?<!\w)(?:{pattern})(?!\w)", text)]


def alert_for(text: str, *words: str, language: str = "id", **kwargs: Any) -> Alert:
    return build_alert(
        article(text, **kwargs), list(words), spans_of(text, *words), language=language
    )


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TagChecker(HTMLParser):
    """Collects Telegram HTML structure errors: unknown or unbalanced tags."""

    allowed = frozenset({"b", "u", "a"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.allowed:
            self.errors.append(f"tag <{tag}>")
        if tag == "a" and [name for name, _ in attrs] != ["href"]:
            self.errors.append(f"attributes {attrs}")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_telegram(message: str) -> str:
    """Asserts the Telegram HTML is well formed and within the limit; returns its visible text."""
    checker = _TagChecker()
    checker.feed(message)
    checker.close()
    assert not checker.errors, checker.errors
    assert not checker.stack, f"unclosed {checker.stack}"
    assert re.search(r"&(?!(?:amp|lt|gt|quot|#x?[0-9a-fA-F]+);)", message) is None, "bare &"
    assert 0 < units(message) <= TELEGRAM_LIMIT
    return "".join(checker.text)


def slack_texts(blocks: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """(type, text) of every text object in the blocks."""
    for block in blocks:
        objects = [block["text"]] if "text" in block else block.get("elements", [])
        for obj in objects:
            yield obj["type"], obj["text"]


def check_slack(fallback: str, blocks: list[dict[str, Any]]) -> None:
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["type"] == "plain_text"
    assert 0 < units(blocks[0]["text"]["text"]) <= 150
    assert 0 < units(fallback) <= 3000
    for kind, text in slack_texts(blocks):
        assert 0 < units(text) <= (150 if kind == "plain_text" else 3000)
    for block in blocks[1:]:
        for obj in [block["text"]] if "text" in block else block["elements"]:
            assert obj == {"type": "mrkdwn", "text": obj["text"], "verbatim": True}


def render_all(alert: Alert) -> tuple[str, str, list[dict[str, Any]], str]:
    telegram = to_telegram_html(alert)
    check_telegram(telegram)
    fallback, blocks = to_slack(alert)
    check_slack(fallback, blocks)
    return telegram, fallback, blocks, to_console(alert)


# --- labels and keywords -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "label", "source_label", "link"),
    [
        ("id", "Kata kunci:", "Sumber:", "Baca selengkapnya"),
        ("en", "Keywords:", "Source:", "Read more"),
        ("en-US", "Keywords:", "Source:", "Read more"),
        ("fr", "Keywords:", "Source:", "Read more"),  # unknown language -> English
    ],
)
def test_label_and_keywords_per_language(
    language: str, label: str, source_label: str, link: str
) -> None:
    alert = alert_for(ID_TEXT, "Kim", "Putin", "rudal", language=language)
    telegram, fallback, blocks, console = render_all(alert)
    line = f"{label} Kim, Putin, rudal"
    assert line in telegram
    assert line in fallback
    assert line in console
    assert any(text == line for _, text in slack_texts(blocks))
    assert f"{source_label} bbn" in telegram
    assert f'<a href="https://berita.example/korea/kim-putin">{link}</a>' in telegram
    slack_link = f"<https://berita.example/korea/kim-putin|{link}>"
    assert any(text == slack_link for _, text in slack_texts(blocks))


def test_keywords_keep_order_and_drop_duplicates() -> None:
    alert = build_alert(article(), ["rudal", "Kim", "rudal", " "], [], language="id")
    assert alert.keywords == ("rudal", "Kim")
    assert build_alert(article(), "Kim", [], language="id").keywords == ("Kim",)


def test_keyword_queries_are_shown_as_written() -> None:
    alert = alert_for(ID_TEXT, "Kim", language="en")
    alert = Alert(**{**alert.__dict__, "keywords": ('"Kim Jong Un"', "satelit OR satellite")})
    assert 'Keywords: "Kim Jong Un", satelit OR satellite' in to_telegram_html(alert)


# --- title -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title", "expected"),
    [
        (
            ID_TEXT,
            "",
            "Pemimpin Korea Utara Kim Jong Un tiba di Vladivostok dengan kereta lapis baja.",
        ),
        (EN_TEXT, "", "Heavy rain flooded three districts on Tuesday."),
        ("\n\n  Dr. Sari tiba di Jakarta. Ia disambut.", "", "Dr. Sari tiba di Jakarta."),
        (ID_TEXT, "Kim  dan\nPutin bertemu", "Kim dan Putin bertemu"),
        ("", "", "(tanpa judul)"),
    ],
)
def test_title_is_the_article_title_or_the_first_sentence(
    text: str, title: str, expected: str
) -> None:
    alert = build_alert(article(text, title=title), ["Kim"], [], language="id")
    assert alert.title == expected


def test_untitled_english_alert() -> None:
    assert build_alert(article(""), ["Kim"], [], language="en").title == "(untitled)"


@pytest.mark.parametrize("title", ["", "Judul " * 60])
def test_long_title_is_cut_at_a_word_with_an_ellipsis(title: str) -> None:
    text = "Sebuah kalimat pembuka yang sangat panjang " * 10 + "berakhir di sini. Lalu."
    alert = build_alert(article(text, title=title), ["Kim"], [], language="id")
    assert len(alert.title) <= 140
    assert alert.title.endswith("…")
    assert alert.title[:-1].rstrip() == alert.title[:-1]
    assert (title or text).startswith(alert.title[:-1])


def test_title_matches_are_highlighted() -> None:
    text = "Pertemuan berlangsung tertutup di Vostochny."
    title = "Kim bertemu Putin di Rusia"
    alert = build_alert(
        article(text, title=title), ["Kim", "Putin"], [], spans_of(title, "Kim", "Putin"),
        language="id",
    )  # fmt: skip
    assert alert.title_highlights == ((0, 3), (12, 17))
    telegram, _, blocks, console = render_all(alert)
    assert "<b><u>Kim</u> bertemu <u>Putin</u> di Rusia</b>" in telegram
    assert blocks[0]["text"]["text"] == title
    assert "«Kim» bertemu «Putin» di Rusia" in console


# --- snippet and highlights ---------------------------------------------------------------------

FILLER_ID = "Cuaca di ibu kota cerah berawan sepanjang hari dan lalu lintas lancar. " * 40
FILLER_EN = "The weather in the capital was mild and traffic moved freely all day. " * 40


@pytest.mark.parametrize(
    ("text", "word", "language"),
    [
        (ID_TEXT, "Kim", "id"),
        (ID_TEXT, "Putin", "id"),
        (ID_TEXT, "satelit", "id"),
        (EN_TEXT, "satellite", "en"),
        (FILLER_ID + "Korea Utara meluncurkan rudal balistik. " + FILLER_ID, "rudal", "id"),
        (FILLER_EN + "A Kim spokesman declined to comment. " + FILLER_EN, "Kim", "en"),
        ("Kim", "Kim", "id"),
        ("Bahan kimia dan Kimia terbakar, kata Kim.", "Kim", "id"),
    ],
)
def test_snippet_contains_the_match_and_highlights_exactly_it(
    text: str, word: str, language: str
) -> None:
    alert = alert_for(text, word, language=language)
    # an untitled article's first sentence is its title: a match there is highlighted there
    marked = [alert.snippet[a:b] for a, b in alert.highlights] + [
        alert.title[a:b] for a, b in alert.title_highlights
    ]
    assert len(alert.snippet) <= 250
    assert marked and all(m == word for m in marked)
    telegram, _, blocks, console = render_all(alert)
    assert f"<b>{word}</b>" in telegram or f"<u>{word}</u>" in telegram
    assert f"«{word}»" in console
    assert "<b>Kimia" not in telegram and "*Kimia" not in str(blocks)


def test_untitled_article_does_not_repeat_its_first_sentence() -> None:
    text = "Kim meninjau pabrik rudal di Pyongyang. Ia meminta produksi rudal ditingkatkan."
    alert = alert_for(text, "rudal", language="id")
    assert alert.title == "Kim meninjau pabrik rudal di Pyongyang."
    assert [alert.title[a:b] for a, b in alert.title_highlights] == ["rudal"]
    assert alert.snippet == "Ia meminta produksi rudal ditingkatkan."
    assert [alert.snippet[a:b] for a, b in alert.highlights] == ["rudal"]


def test_snippet_far_into_the_text_is_cut_at_words_on_both_ends() -> None:
    text = FILLER_ID + "Korea Utara meluncurkan rudal balistik jarak pendek. " + FILLER_ID
    snippet, marks = make_snippet(text, spans_of(text, "rudal"))
    assert snippet.startswith("…") and snippet.endswith("…")
    assert 200 <= len(snippet) <= 242
    words = set(text.split())
    inner = snippet[1:-1].split()
    assert all(word in words for word in inner), "a word was cut in half"
    a, b = marks[0]
    assert snippet[a:b] == "rudal"
    assert a < len(snippet) / 2, "the match sits in the first half"


@pytest.mark.parametrize(
    ("text", "starts", "ends"),
    [
        ("Kim tiba. " + FILLER_ID, False, True),  # match at the start: no leading ellipsis
        (FILLER_ID + "Lalu Kim tiba.", True, False),  # match at the end: no trailing ellipsis
        ("Singkat saja, kata Kim.", False, False),
    ],
)
def test_snippet_ellipsis_only_where_text_was_cut(text: str, starts: bool, ends: bool) -> None:
    snippet, marks = make_snippet(text, spans_of(text, "Kim"))
    assert snippet.startswith("…") is starts
    assert snippet.endswith("…") is ends
    assert [snippet[a:b] for a, b in marks] == ["Kim"]


def test_snippet_joins_lines_and_keeps_highlights_aligned() -> None:
    text = "Baris pertama.\n\n   Kim   hadir\tdi sana.\nPutin juga."
    snippet, marks = make_snippet(text, spans_of(text, "Kim", "Putin"))
    assert snippet == "Baris pertama. Kim hadir di sana. Putin juga."
    assert [snippet[a:b] for a, b in marks] == ["Kim", "Putin"]


def test_snippet_merges_overlapping_and_ignores_bad_spans() -> None:
    text = "Kim Jong Un tiba di Vladivostok."
    snippet, marks = make_snippet(text, [(0, 8), (4, 11), (20, 20), (-5, -1), (40, 99), (31, 5)])
    assert snippet == text
    assert marks == ((0, 11),)


def test_snippet_without_spans_is_the_start_of_the_text() -> None:
    snippet, marks = make_snippet(FILLER_EN, [])
    assert FILLER_EN.startswith(snippet[:-1]) and snippet.endswith("…")
    assert marks == ()
    assert make_snippet("  \n ", []) == ("", ())


def test_part_of_a_word_match_is_exact_in_telegram_and_whole_word_in_slack() -> None:
    text = "Militer menyatakan rudalnya jatuh di laut."
    alert = build_alert(
        article(text, title="Uji coba"), ["rudal"], [(19, 24)], language="id"
    )  # "rudal|nya"
    telegram, _, blocks, console = render_all(alert)
    assert "<b>rudal</b>nya" in telegram
    assert "*rudalnya*" in blocks[1]["text"]["text"]  # Slack only bolds on word boundaries
    assert "«rudal»nya" in console


def test_match_only_in_title_gives_the_start_of_the_text() -> None:
    title = "Kim tiba di Rusia"
    alert = build_alert(
        article(FILLER_ID, title=title), ["Kim"], [], spans_of(title, "Kim"), language="id"
    )
    assert FILLER_ID.startswith(alert.snippet[:-1])
    assert alert.highlights == ()
    render_all(alert)


def test_title_only_article_renders_without_snippet() -> None:
    alert = build_alert(article("", title="Kim tiba"), ["Kim"], [], [(0, 3)], language="en")
    telegram, _, blocks, _ = render_all(alert)
    assert telegram.startswith("<b><u>Kim</u> tiba</b>\n\nKeywords: Kim")
    assert [b["type"] for b in blocks] == ["header", "section", "context"]


# --- time ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "language", "zone", "expected"),
    [
        (PUBLISHED, "id", "Asia/Jakarta", "13 Sep 2023 14:05 WIB"),
        (PUBLISHED, "en", "Asia/Jakarta", "13 Sep 2023, 14:05 WIB"),
        (PUBLISHED, "id", "Asia/Makassar", "13 Sep 2023 15:05 WITA"),
        (PUBLISHED, "en", "Asia/Jayapura", "13 Sep 2023, 16:05 WIT"),
        (PUBLISHED, "en", "UTC", "13 Sep 2023, 07:05 UTC"),
        (PUBLISHED, "en", "Europe/London", "13 Sep 2023, 08:05 BST"),
        (datetime(2023, 12, 31, 20, 0, tzinfo=UTC), "id", "Asia/Jakarta", "1 Jan 2024 03:00 WIB"),
        (datetime(2024, 5, 2, 1, 0, tzinfo=UTC), "id", "Asia/Jakarta", "2 Mei 2024 08:00 WIB"),
        (datetime(2024, 5, 2, 1, 0, tzinfo=UTC), "en", "Asia/Jakarta", "2 May 2024, 08:00 WIB"),
        (datetime(2024, 8, 17, 3, 0, tzinfo=UTC), "id", "Asia/Jakarta", "17 Agu 2024 10:00 WIB"),
        (datetime(2024, 10, 1, 3, 0), "id", "Asia/Jakarta", "1 Okt 2024 10:00 WIB"),  # naive=UTC
        (datetime(2024, 12, 1, 3, 0, tzinfo=UTC), "id", "Asia/Jakarta", "1 Des 2024 10:00 WIB"),
    ],
)
def test_format_time(moment: datetime, language: str, zone: str, expected: str) -> None:
    assert format_time(moment, language, zone) == expected


def test_alert_time_is_local_and_falls_back_to_ingestion_time() -> None:
    published = build_alert(article(), ["Kim"], [], language="id")
    assert published.published == "13 Sep 2023 14:05 WIB"
    assert "Terbit: 13 Sep 2023 14:05 WIB" in to_telegram_html(published)
    undated = build_alert(article(published=None), ["Kim"], [], language="id")
    assert undated.published == "2 Jan 2024 10:04 WIB"
    assert "Diterima: 2 Jan 2024 10:04 WIB" in to_telegram_html(undated)  # not "Terbit:"
    makassar = build_alert(article(), ["Kim"], [], language="en", timezone="Asia/Makassar")
    assert makassar.published == "13 Sep 2023, 15:05 WITA"


# --- escaping ------------------------------------------------------------------------------------

HOSTILE_TITLE = "<script>alert(1)</script> Kim & Putin <!channel>"
HOSTILE_TEXT = (
    "Pembuka. <b>Kim</b> & Putin <!here> hadir, <@U123> ikut, klik <http://evil|click> "
    'atau <a href="javascript:alert(1)">ini</a>. @channel @here *tebal* _miring_ ~coret~ `kode`'
)
HOSTILE_SOURCE = "bbn & <!channel>"


def hostile_alert(language: str = "id") -> Alert:
    return build_alert(
        article(HOSTILE_TEXT, title=HOSTILE_TITLE, source=HOSTILE_SOURCE),
        ["Kim", "<!everyone>"],
        spans_of(HOSTILE_TEXT, "Kim"),
        spans_of(HOSTILE_TITLE, "Kim"),
        language=language,
    )


def test_telegram_escapes_every_article_string() -> None:
    telegram = to_telegram_html(hostile_alert())
    visible = check_telegram(telegram)
    for raw in (
        "<script>",
        "<!channel>",
        "<!here>",
        "<@U123>",
        "<http://evil|click>",
        '<a href="j',
    ):
        assert raw not in telegram
    for escaped in (
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<u>Kim</u> &amp; Putin &lt;!channel&gt;",
        "&lt;b&gt;<b>Kim</b>&lt;/b&gt; &amp; Putin &lt;!here&gt;",
        "&lt;@U123&gt;",
        "&lt;http://evil|click&gt;",
        '&lt;a href="javascript:alert(1)"&gt;ini&lt;/a&gt;',
        "Sumber: bbn &amp; &lt;!channel&gt;",
        "Kata kunci: Kim, &lt;!everyone&gt;",
    ):
        assert escaped in telegram
    assert HOSTILE_TITLE in visible  # the reader sees the text as written
    assert "<!here>" in visible


def test_slack_escapes_every_article_string() -> None:
    fallback, blocks = to_slack(hostile_alert())
    check_slack(fallback, blocks)
    texts = [fallback] + [text for _, text in slack_texts(blocks)]
    for text in texts:
        for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<http://evil", "<script"):
            assert raw not in text
        links = re.findall(r"<[^>]*>", text)
        assert links in ([], ["<https://berita.example/korea/kim-putin|Baca selengkapnya>"])
        assert not re.search(r"(?<![\w\u2060])@(channel|here|everyone)", text.replace("&lt;!", ""))
    header, section = blocks[0]["text"]["text"], blocks[1]["text"]["text"]
    assert header == "&lt;script&gt;alert(1)&lt;/script&gt; Kim &amp; Putin &lt;!channel&gt;"
    assert "&lt;b&gt;*Kim*&lt;/b&gt; &amp; Putin &lt;!here&gt;" in section
    assert "&lt;@U123&gt;" in section and "&lt;http://evil|click&gt;" in section
    assert "Kata kunci: Kim, &lt;!everyone&gt;" in texts
    assert "Sumber: bbn &amp; &lt;!channel&gt;" in texts
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fallback
    assert "Kata kunci: Kim, &lt;!everyone&gt;" in fallback


def test_slack_neutralises_mrkdwn_formatting_in_article_text() -> None:
    _, blocks = to_slack(hostile_alert())
    section = blocks[1]["text"]["text"]
    assert section.count("*") == 2 and "*Kim*" in section  # only our highlight is bold
    for char in "_~`":
        assert char not in section
    assert "∗tebal∗ ˍmiringˍ ∼coret∼ ˋkodeˋ" in section
    assert "@\u2060channel @\u2060here" in section


def test_console_strips_terminal_control_sequences() -> None:
    text = "Kim tiba \x1b[2J\x1b[31mmerah\x1b[0m di \u202eRusia\x07."
    alert = build_alert(
        article(text, title="\x1b]0;judul\x07Kim"), ["Kim"], [(0, 3)], language="id"
    )
    console = to_console(alert)
    assert "\x1b" not in console and "\x07" not in console and "\u202e" not in console
    assert "«Kim» tiba [2J[31mmerah[0m di Rusia." in console
    colored = to_console(alert, color=True)
    assert "\x1b[1mKim\x1b[22m tiba" in colored
    assert colored.count("\x1b[") == 4  # bold title, bold match: nothing from the article


# --- links ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "  javascript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "ftp://files.example/a.txt",
        "https://",
        "https://berita.example/a b",
        "//berita.example/a",
        "",
        "https://berita.example/" + "a" * 3000,
    ],
)
def test_unsafe_or_odd_urls_are_not_linked(url: str) -> None:
    alert = build_alert(article(url=url), ["Kim"], spans_of(ID_TEXT, "Kim"), language="en")
    telegram, _, blocks, console = render_all(alert)
    assert "<a " not in telegram and "href" not in telegram
    assert "javascript" not in telegram.lower()
    assert all("Read more" not in text for _, text in slack_texts(blocks))
    assert "Read more" not in console
    assert safe_link(url) == ""


def test_url_is_escaped_in_href_and_slack_link() -> None:
    url = 'https://berita.example/cari?q="kim"&a=1&b=<2>|x'
    alert = build_alert(article(url=url), ["Kim"], [], language="en")
    telegram, _, blocks, console = render_all(alert)
    assert (
        '<a href="https://berita.example/cari?q=&quot;kim&quot;&amp;a=1&amp;b=&lt;2&gt;|x">'
        in telegram
    )
    link = blocks[-1]["elements"][-1]["text"]
    assert link == '<https://berita.example/cari?q="kim"&amp;a=1&amp;b=%3C2%3E%7Cx|Read more>'
    assert f"Read more: {url}" in console


# --- limits --------------------------------------------------------------------------------------

LONG_TEXT = ("Sebuah paragraf panjang tentang Kim & Putin <di> Vladivostok. " * 1700)[:100_000]
LONG_TITLE = ("Judul <sangat> panjang & berulang " * 160)[:5_000]


def test_long_article_through_build_alert_stays_within_limits() -> None:
    alert = build_alert(
        article(LONG_TEXT, title=LONG_TITLE, source="Kantor Berita " * 500),
        ["Kim", "Putin"],
        spans_of(LONG_TEXT, "Kim", "Putin"),
        spans_of(LONG_TITLE, "Judul"),
        language="id",
    )
    assert len(alert.title) <= 140 and len(alert.snippet) <= 250 and len(alert.source) <= 100
    telegram, _, blocks, _ = render_all(alert)
    assert "<b>Kim</b>" in telegram and "*Kim*" in blocks[1]["text"]["text"]


@pytest.mark.parametrize(
    ("title", "snippet"),
    [
        (LONG_TITLE, LONG_TEXT),
        ("Judul pendek", LONG_TEXT),
        (LONG_TITLE, "Cuplikan pendek tentang Kim."),
        ("&" * 5000, "<" * 100_000),  # every character grows to a 4-5 character entity
        ("🚀" * 5000, "🇮🇩" * 30_000),  # astral plane: 2 UTF-16 units each
        ("👩‍👩‍👧‍👦 " * 1000, "e\u0301" * 50_000),  # ZWJ sequences, combining accents
        ("x" * 5000, "y" * 100_000),  # no word boundary anywhere
    ],
)
def test_huge_alert_parts_are_trimmed_within_platform_limits(title: str, snippet: str) -> None:
    alert = Alert(
        language="en",
        keywords=tuple(f"kata{i}" for i in range(2000)),
        title=title,
        snippet=snippet,
        highlights=((0, 4), (len(snippet) - 4, len(snippet))),
        source="S & <x> " * 2000,
        published="13 Sep 2023, 14:05 WIB",
        url="https://berita.example/a",
        title_highlights=((0, 2),),
    )
    telegram, fallback, blocks, console = render_all(alert)
    assert telegram.startswith("<b>")  # the title survives, trimmed
    assert "…" in telegram
    assert "Keywords: kata0, kata1" in telegram and "Keywords: kata0, kata1" in fallback
    assert blocks[1]["text"]["text"].startswith("*")
    assert console.startswith("«")


def test_snippet_is_trimmed_before_the_title() -> None:
    alert = Alert("id", ("Kim",), "Judul utuh tentang Kim", "Kim " * 5000, ((0, 3),))
    telegram = to_telegram_html(alert)
    check_telegram(telegram)
    assert telegram.startswith("<b>Judul utuh tentang Kim</b>\n<b>Kim</b> Kim")
    assert telegram.endswith("Kata kunci: Kim")
    assert 4000 <= units(telegram) <= 4096


@pytest.mark.parametrize(
    ("title", "cluster"),
    [
        ("e\u0301" * 3000, "e\u0301"),
        ("👩‍👩‍👧‍👦" * 1000, "👩‍👩‍👧‍👦"),
        ("🇮🇩" * 3000, "🇮🇩"),
        ("👍🏽" * 3000, "👍🏽"),
    ],
)
def test_cuts_never_split_a_character_cluster(title: str, cluster: str) -> None:
    alert = Alert("en", ("Kim",), title, "", ())
    telegram = to_telegram_html(alert)
    check_telegram(telegram)
    kept = telegram.removeprefix("<b>").split("…</b>", 1)[0]
    assert kept and kept == cluster * (len(kept) // len(cluster))
    header = to_slack(alert)[1][0]["text"]["text"]
    assert units(header) <= 150
    kept = header.removesuffix("…")
    assert kept and kept == cluster * (len(kept) // len(cluster))


def test_alert_is_frozen() -> None:
    alert = alert_for(ID_TEXT, "Kim")
    with pytest.raises(AttributeError):
        alert.title = "x"  # type: ignore[misc]


def test_telegram_html_unescapes_to_the_article() -> None:
    alert = alert_for(ID_TEXT, "Kim", "Putin", language="en", title="Kim & Putin <bertemu>")
    visible = check_telegram(to_telegram_html(alert))
    assert html.unescape(visible).startswith("Kim & Putin <bertemu>\n")


# --- one whole alert pinned per platform and language (a change to any label, separator or
# --- escape shows up here) ----------------------------------------------------------------------

PINNED_TITLE = "Kim & Putin <bertemu> di Vostochny"
PINNED_SNIPPET = (
    "Pemimpin Korea Utara {b}Kim{e} Jong Un tiba di Vladivostok dengan kereta lapis baja. Ia"
    " dijadwalkan bertemu Presiden Rusia Vladimir {b}Putin{e} di kosmodrom Vostochny. Para analis"
    " menduga pembicaraan akan menyentuh kerja sama rudal dan satelit."
)
PINNED_URL = "https://berita.example/korea/kim-putin"
PINNED_LABELS = {
    "id": (
        "Kata kunci: Kim, Putin",
        "Sumber: Antara",
        "Terbit: 13 Sep 2023 14:05 WIB",
        "Baca selengkapnya",
    ),
    "en": (
        "Keywords: Kim, Putin",
        "Source: Antara",
        "Published: 13 Sep 2023, 14:05 WIB",
        "Read more",
    ),
}


def pinned_alert(language: str) -> Alert:
    return alert_for(ID_TEXT, "Kim", "Putin", language=language, title=PINNED_TITLE, source="ant")


@pytest.mark.parametrize("language", ["id", "en"])
def test_whole_telegram_alert(language: str) -> None:
    keywords, source, published, more = PINNED_LABELS[language]
    assert to_telegram_html(pinned_alert(language)) == (
        "<b>Kim &amp; Putin &lt;bertemu&gt; di Vostochny</b>\n"
        + PINNED_SNIPPET.format(b="<b>", e="</b>")
        + "\n\n"
        + f"{keywords}\n{source} · {published}\n"
        + f'<a href="{PINNED_URL}">{more}</a>'
    )


@pytest.mark.parametrize("language", ["id", "en"])
def test_whole_slack_alert(language: str) -> None:
    keywords, source, published, more = PINNED_LABELS[language]
    escaped_title = "Kim &amp; Putin &lt;bertemu&gt; di Vostochny"
    fallback, blocks = to_slack(pinned_alert(language))
    assert fallback == f"{escaped_title}\n{keywords}"

    def mrkdwn(text: str) -> dict[str, Any]:
        return {"type": "mrkdwn", "text": text, "verbatim": True}

    assert blocks == [
        {"type": "header", "text": {"type": "plain_text", "text": escaped_title}},
        {"type": "section", "text": mrkdwn(PINNED_SNIPPET.format(b="*", e="*"))},
        {"type": "section", "text": mrkdwn(keywords)},
        {
            "type": "context",
            "elements": [mrkdwn(source), mrkdwn(published), mrkdwn(f"<{PINNED_URL}|{more}>")],
        },
    ]


@pytest.mark.parametrize("language", ["id", "en"])
def test_whole_console_alert(language: str) -> None:
    keywords, source, published, more = PINNED_LABELS[language]
    assert to_console(pinned_alert(language)) == (
        f"{PINNED_TITLE}\n"
        + PINNED_SNIPPET.format(b="«", e="»")
        + "\n\n"
        + f"{keywords}\n{source} · {published}\n{more}: {PINNED_URL}"
    )


# --- undated, untitled and wire-tagged articles (issue 15: what users see) ------------------------


@pytest.mark.parametrize(
    ("language", "label", "other"),
    [("id", "Diterima:", "Terbit:"), ("en", "Received:", "Published:")],
)
def test_an_undated_article_shows_when_it_was_received(
    language: str, label: str, other: str
) -> None:
    alert = build_alert(article(published=None), ["Kim"], [], language=language)
    telegram, _, blocks, console = render_all(alert)
    for text in (telegram, str(blocks[-1]), console):
        assert f"{label} {alert.published}" in text and other not in text
    dated = build_alert(article(), ["Kim"], [], language=language)
    assert other in to_telegram_html(dated) and label not in to_telegram_html(dated)


@pytest.mark.parametrize(
    ("sample", "word", "source"),
    [("01_rudal_pesisir.txt", "Kim", "Antara"), ("02_kimia.txt", "kimia", "bbn")],
)
def test_seed_wire_texts_title_snippet_and_source(sample: str, word: str, source: str) -> None:
    from pathlib import Path

    from bot.ingest.parse import read_file

    path = Path(__file__).parent.parent / "bot" / "samples" / sample
    [parsed] = read_file(path, max_bytes=10**6).articles  # no title line, a "(ant)" tag
    stored = Article(
        1,
        parsed.text,
        parsed.title,
        parsed.url,
        parsed.source,
        parsed.published,
        parsed.lang,
        INGESTED,
    )
    alert = build_alert(stored, [word], spans_of(parsed.text, word), language="id")
    title = alert.title.removesuffix("…")
    assert parsed.text.startswith(title)
    assert not alert.snippet.lstrip("…").startswith(title[:40])  # it continues after the title
    assert f"Sumber: {source} · Diterima:" in to_telegram_html(alert)


def test_source_names() -> None:
    from bot.alerts.alert import source_name

    assert [
        source_name(s) for s in ("ant", "ANT", "ant/ida", "Reuters", "bbn", "Warta Contoh", "")
    ] == ["Antara", "Antara", "Antara", "Reuters", "bbn", "Warta Contoh", ""]


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_one_sentence_untitled_article_is_said_once(language: str) -> None:
    text = "Kim Jong Un tiba di Vladivostok dengan kereta lapis baja pagi ini."
    alert = alert_for(text, "Kim", language=language)
    assert (alert.title, alert.snippet) == (text, "")
    telegram, _, blocks, console = render_all(alert)
    assert telegram.count("Vladivostok") == console.count("Vladivostok") == 1
    assert str(blocks).count("Vladivostok") == 1
    assert console.startswith("«Kim» Jong Un tiba")  # the match is still shown
