"""bot.ingest.parse: real fixture files and hand-made bad inputs -> articles and rejections."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.ingest.parse import format_size, parse_bytes, parse_published, read_file, too_large_reason
from bot.ingest.urls import canonical_url
from store.models import IngestBatch

FIXTURES = Path(__file__).parent / "fixtures"
CAP = 5 * 1024 * 1024


def load(name: str, tmp_path: Path) -> tuple[IngestBatch, str]:
    """Copy a fixture into tmp_path and read it from there, as the CLI would."""
    path = tmp_path / name
    shutil.copy(FIXTURES / name, path)
    return read_file(path, max_bytes=CAP), str(path)


def reasons(batch: IngestBatch) -> list[str]:
    return [r.reason for r in batch.rejected]


# --- .txt -----------------------------------------------------------------------------------


def test_indonesian_txt(tmp_path: Path) -> None:
    batch, origin = load("rudal_id.txt", tmp_path)
    assert batch.rejected == []
    [article] = batch.articles
    assert article.source == "bbn"
    assert article.title == ""
    assert article.url == ""
    assert article.published is None
    assert article.origin == origin
    assert (article.lang, article.lang_confidence >= 0.7) == ("id", True)
    text = article.text
    assert text.startswith("Korea Utara kembali meluncurkan rudal")
    assert text.endswith("resolusi Dewan Keamanan PBB.")
    assert "(bbn)" not in text
    assert "Baca Juga" not in text and "Baca juga" not in text and "ADVERTISEMENT" not in text
    assert "(Rina Kusumawardani)" in text  # a reporter credit mid-text is content
    assert "\u201cmengubah keseimbangan kekuatan\u201d" in text  # curly quotes kept
    assert "\u200b" not in text and "\u00a0" not in text
    assert "Kim Jong Un" in text
    assert len(text.splitlines()) == 6  # one line per paragraph, boilerplate lines gone


def test_english_txt_with_glued_tag_and_crlf(tmp_path: Path) -> None:
    batch, _ = load("flood_en.txt", tmp_path)
    assert batch.rejected == []
    [article] = batch.articles
    assert article.source == "Reuters"
    assert article.lang == "en"
    assert article.text.endswith("urged people living near rivers to stay alert.")
    assert "\r" not in article.text
    for junk in ("Advertisement", "Scroll to continue", "Read more"):
        assert junk not in article.text


def test_txt_too_short_and_empty_after_cleaning() -> None:
    short = parse_bytes(b"Banjir.\n(bbn)", "a.txt", max_bytes=CAP)
    assert reasons(short) == ["too short (7 chars after cleaning, min 40)"]
    only_boilerplate = parse_bytes(b"Baca Juga\nADVERTISEMENT\n(ant)\n", "b.txt", max_bytes=CAP)
    assert reasons(only_boilerplate) == ["empty after cleaning"]


# --- JSON / JSONL ---------------------------------------------------------------------------


def test_json_list(tmp_path: Path) -> None:
    batch, origin = load("articles.json", tmp_path)
    first, second = batch.articles
    assert first.title == "Harga beras naik menjelang Ramadan"
    assert first.url == (
        "https://Berita.Example.ID/ekonomi/harga-beras/?utm_source=telegram&utm_medium=social&id=42"
    )  # 'link' alias, as is
    assert canonical_url(first.url) == "https://berita.example.id/ekonomi/harga-beras?id=42"
    assert first.source == "Berita Contoh"
    assert first.published == datetime(2024, 3, 5, 1, 30, tzinfo=UTC)
    assert first.lang == "id"
    assert second.url == "http://news.example.com:80/world/port-strike#comments"
    assert second.published == datetime.fromtimestamp(1709600000, UTC)
    assert second.lang == "en"
    assert {r.origin for r in batch.rejected} == {origin}
    assert reasons(batch) == [
        "JSON item 3: missing 'text'",
        "JSON item 4: too short (20 chars after cleaning, min 40)",
    ]


def test_jsonl_bad_lines_rejected_rest_kept(tmp_path: Path) -> None:
    batch, _ = load("articles.jsonl", tmp_path)
    assert [a.title for a in batch.articles] == [
        "Gempa magnitudo 5,6 guncang Sulawesi Tengah",
        "Central bank holds rates",
    ]
    assert batch.articles[0].url == "https://berita.example.id/gempa-sulteng?fbclid=abc123"
    assert batch.articles[0].published == datetime(2024, 4, 10, 19, 5, tzinfo=UTC)
    assert batch.articles[1].published == datetime(2024, 4, 11, 7, 0, tzinfo=UTC)  # naive = UTC
    assert batch.articles[1].url == "https://markets.example.com/rates/hold/"
    assert reasons(batch) == [
        "JSON line 2: malformed JSON: Unterminated string starting at column 34",
        "JSON line 5: missing 'text'",
        "JSON line 6: not an object (got list)",
    ]


def test_json_single_object_and_type_errors() -> None:
    body = "Sebuah objek JSON tunggal juga diterima sebagai satu artikel berita."
    one = parse_bytes(f'{{"text": "{body}", "title": 7}}'.encode(), "one.json", max_bytes=CAP)
    assert [a.text for a in one.articles] == [body]
    assert one.articles[0].title == ""  # a non-string optional field counts as absent
    bad_text = parse_bytes(b'[{"text": 12}]', "x.json", max_bytes=CAP)
    assert reasons(bad_text) == ["JSON item 1: 'text' must be a string (got int)"]
    scalar = parse_bytes(b'"just a string"', "x.json", max_bytes=CAP)
    assert reasons(scalar) == ["JSON must be an object or a list of objects"]
    broken = parse_bytes(b'[{"text": ', "x.json", max_bytes=CAP)
    assert reasons(broken) == ["malformed JSON: Expecting value at line 1 column 11"]


def test_json_text_with_source_tag_uses_it_as_fallback_source() -> None:
    data = '{"text": "Harga cabai rawit di pasar induk turun tajam pekan ini.\\n(ant)"}'
    [article] = parse_bytes(data.encode(), "x.json", max_bytes=CAP).articles
    assert (article.source, article.text.endswith("pekan ini.")) == ("ant", True)


def test_json_lone_surrogate_escapes_are_dropped() -> None:
    data = (
        b'{"text": "Banjir rob kembali merendam permukiman pesisir utara \\ud83d hari ini.",'
        b' "title": "Rob \\udc00 lagi", "source": "Warta \\ud800", '
        b'"url": "https://x.example/a\\ud800b"}'
    )
    [article] = parse_bytes(data, "s.json", max_bytes=CAP).articles
    for value in (article.text, article.title, article.source, article.url):
        value.encode("utf-8")  # storable: no lone surrogates left
    assert (article.title, article.source, article.url) == ("Rob lagi", "Warta", "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05T08:30:00Z", datetime(2024, 3, 5, 8, 30, tzinfo=UTC)),
        ("2024-03-05T08:30:00+07:00", datetime(2024, 3, 5, 1, 30, tzinfo=UTC)),
        ("2024-03-05T08:30:00", datetime(2024, 3, 5, 8, 30, tzinfo=UTC)),
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 08:30:00 +0700", datetime(2024, 3, 5, 1, 30, tzinfo=UTC)),
        (1709600000, datetime(2024, 3, 5, 0, 53, 20, tzinfo=UTC)),
        (1709600000.5, datetime(2024, 3, 5, 0, 53, 20, 500000, tzinfo=UTC)),
        (1709600000000, datetime(2024, 3, 5, 0, 53, 20, tzinfo=UTC)),  # milliseconds
        ("1709600000", datetime(2024, 3, 5, 0, 53, 20, tzinfo=UTC)),
        ("kemarin sore", None),
        ("", None),
        (None, None),
        (True, None),
        (float("nan"), None),
        (1e30, None),
        ([2024], None),
        ("0999-01-01T00:00:00Z", None),  # implausible dates are unknown, never stored
        ("Sat, 01 Jan 0999 00:00:00 GMT", None),
        ("999-01-01", None),
        (-86400, None),  # a negative epoch
        (0, None),
        ("2999-01-01T00:00:00Z", None),
        ("9999-12-31T23:59:59+00:00", None),
        ("0001-01-01T00:00:00+05:00", None),
    ],
)
def test_parse_published(value: object, expected: datetime | None) -> None:
    result = parse_published(value)
    assert result == expected
    if result is not None:
        assert result.utcoffset() == timedelta(0)


# --- RSS / Atom -----------------------------------------------------------------------------


def test_rss_feed(tmp_path: Path) -> None:
    batch, origin = load("feed_rss.xml", tmp_path)
    kim, floods = batch.articles
    assert kim.title == "Kim Jong Un pantau uji coba rudal jelajah baru"
    assert kim.url == (
        "https://warta.example.id/dunia/uji-rudal?utm_source=rss&utm_campaign=feed&page=2"
    )  # the article's own link
    assert kim.source == "Warta Contoh"
    assert kim.published == datetime(2024, 5, 14, 3, 15, tzinfo=UTC)
    assert kim.lang == "id"
    assert kim.origin == origin
    assert "<" not in kim.text and "trackView" not in kim.text and "Baca juga" not in kim.text
    assert "hulu ledak baru & sistem" in kim.text
    assert floods.url == "https://warta.example.id/en/floods/?fbclid=XYZ&gclid=123#top"
    assert floods.published == datetime(2024, 5, 13, 15, 40, tzinfo=UTC)
    assert floods.text.startswith("Landslides triggered") and "<p>" not in floods.text
    assert floods.lang == "en"
    assert reasons(batch) == [
        "entry 3 ('Foto hari ini'): too short (5 chars after cleaning, min 40)"
    ]


def test_atom_feed(tmp_path: Path) -> None:
    batch, _ = load("feed_atom.xml", tmp_path)
    assert batch.rejected == []
    count, port = batch.articles
    assert count.title == "Election commission confirms final count"
    assert canonical_url(count.url) == "https://newsroom.example.com/politics/final-count"
    assert count.source == "Example Newsroom"
    assert count.published == datetime(2024, 5, 14, 6, 45, tzinfo=UTC)  # from <updated>
    assert count.text == (  # the full <content>, not the short <summary>; <style> dropped
        "The election commission confirmed the final vote count on Tuesday after a week of "
        "recounts in three provinces.\n\nObservers said the process had been orderly despite "
        "delays."
    )
    assert port.published == datetime(2024, 5, 13, 3, 0, tzinfo=UTC)  # <published> wins
    assert port.lang == "id"


def test_malformed_xml_without_entries_is_rejected(tmp_path: Path) -> None:
    batch, _ = load("malformed.xml", tmp_path)
    assert batch.articles == []
    [reason] = reasons(batch)
    assert reason.startswith("malformed XML: ")
    assert "\n" not in reason


def test_malformed_xml_with_entries_keeps_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    batch, _ = load("bozo_with_entries.xml", tmp_path)
    assert [a.title for a in batch.articles] == ["Parliament passes new data protection law"]
    assert batch.rejected == []
    assert "not well-formed" in caplog.text


def test_html_is_not_a_feed(tmp_path: Path) -> None:
    data = (FIXTURES / "page.html").read_bytes()
    assert reasons(parse_bytes(data, "https://x.example/feed", kind="xml", max_bytes=CAP)) == [
        "not a feed (looks like HTML)"
    ]
    page = tmp_path / "page.rss"
    page.write_bytes(data)
    assert reasons(read_file(page, max_bytes=CAP)) == ["not a feed (looks like HTML)"]


def test_xml_without_feed_root() -> None:
    batch = parse_bytes(b"<?xml version='1.0'?><catalog><book/></catalog>", "c.xml", max_bytes=CAP)
    assert reasons(batch) == ["not a feed (no RSS or Atom root element)"]


def test_feed_bytes_are_never_treated_as_a_path_or_url(tmp_path: Path) -> None:
    # feedparser.parse(bytes) would open a file with that name; we must parse the bytes.
    data = str(FIXTURES / "feed_rss.xml").encode()
    assert parse_bytes(data, "x.xml", max_bytes=CAP).articles == []
    assert parse_bytes(b"http://127.0.0.1:9/feed", "x.xml", max_bytes=CAP).articles == []


def test_xml_with_declared_latin1_encoding_is_decoded() -> None:
    text = "Les pêcheurs de la côte nord ont été évacués avant l'arrivée de la tempête."
    data = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel>'
        f"<title>Côte</title><item><title>Tempête</title><description>{text}</description>"
        "</item></channel></rss>"
    ).encode("latin-1")
    [article] = parse_bytes(data, "f.rss", max_bytes=CAP).articles
    assert (article.text, article.source, article.lang) == (text, "Côte", "other")


# --- whole-file rejections ---------------------------------------------------------------------


def test_invalid_utf8_is_rejected_with_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"Berita dengan karakter rusak: " + b"\xff\xfe" + b" lanjut." * 10)
    assert reasons(read_file(path, max_bytes=CAP)) == ["invalid UTF-8 at byte 30"]
    jsonl = parse_bytes(b'{"text": "caf\xe9 au lait"}\n', "a.jsonl", max_bytes=CAP)
    assert reasons(jsonl) == ["invalid UTF-8 at byte 13"]
    xml = parse_bytes(
        b"<?xml version='1.0'?><rss><channel><title>\xe9</title>", "a.xml", max_bytes=CAP
    )
    assert reasons(xml) == ["invalid UTF-8 at byte 42"]  # 0-based offset


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\x00\x00\x01binary",
        b"Teks biasa\x00 dengan NUL",
        bytes(range(1, 32)) * 20,  # control bytes only, no NUL
    ],
)
def test_binary_is_rejected(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(data)
    assert reasons(read_file(path, max_bytes=CAP)) == ["binary file"]


def test_utf16_is_rejected_clearly() -> None:
    data = "Berita dalam UTF-16".encode("utf-16")
    assert reasons(parse_bytes(data, "a.txt", max_bytes=CAP)) == [
        "unsupported encoding UTF-16 (save as UTF-8)"
    ]


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t "])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    for name in ("empty.txt", "empty.json", "empty.jsonl", "empty.xml"):
        path = tmp_path / name
        path.write_bytes(data)
        assert reasons(read_file(path, max_bytes=CAP)) == ["empty file"]


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "flood_en.txt").read_bytes())
    [article] = read_file(path, max_bytes=CAP).articles
    assert article.text.startswith("Heavy monsoon rains")


def test_over_cap_file_is_rejected_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"kata " * 2_600_000)  # 13,000,000 bytes

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an over-cap file must not be opened")

    monkeypatch.setattr(Path, "open", refuse)
    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert reasons(read_file(path, max_bytes=CAP)) == ["file too large (13 MB > cap 5.2 MB)"]


def test_over_cap_bytes_are_rejected() -> None:
    assert reasons(parse_bytes(b"x" * 2048, "a.txt", max_bytes=1024)) == [
        "file too large (2 kB > cap 1 kB)"
    ]


@pytest.mark.parametrize(
    ("size", "cap", "reason"),
    [
        (12_900_000, 5_000_000, "file too large (12.9 MB > cap 5 MB)"),
        (7_700_000, 5_000_000, "file too large (7.7 MB > cap 5 MB)"),  # "> cap 4.8 MB" before
        (1025, 1024, "file too large (1025 bytes > cap 1024 bytes)"),
        (1001, 1000, "file too large (1001 bytes > cap 1000 bytes)"),  # rounding would hide it
        (900, 100, "file too large (900 B > cap 100 B)"),
    ],
)
def test_too_large_reason(size: int, cap: int, reason: str) -> None:
    assert too_large_reason(size, cap) == reason


def test_format_size() -> None:
    sizes = (0, 999, 1000, 1024, 1500, 5_000_000, 5 * 1024 * 1024, 8_400_000_000)
    assert [format_size(n) for n in sizes] == [
        "0 B",
        "999 B",
        "1 kB",
        "1 kB",
        "1.5 kB",
        "5 MB",
        "5.2 MB",
        "8.4 GB",
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("report.pdf", "unsupported file type .pdf"),
        ("page.html", "unsupported file type .html"),
        ("README", "unsupported file type (no extension)"),
    ],
)
def test_unsupported_extension(tmp_path: Path, name: str, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4 whatever")
    assert reasons(read_file(path, max_bytes=CAP)) == [reason]


def test_kind_overrides_extension() -> None:
    data = (FIXTURES / "articles.json").read_bytes()
    batch = parse_bytes(data, "export.dat", kind="json", max_bytes=CAP)
    assert len(batch.articles) == 2
    rss = (FIXTURES / "feed_rss.xml").read_bytes()
    assert len(parse_bytes(rss, "https://x.example/feed", kind="rss", max_bytes=CAP).articles) == 2
    assert reasons(parse_bytes(b"a", "a.txt", kind="pdf", max_bytes=CAP)) == [
        "unsupported file type 'pdf'"
    ]


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert reasons(read_file(tmp_path / "nope.txt", max_bytes=CAP)) == ["file not found"]
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert reasons(read_file(folder, max_bytes=CAP)) == ["not a file"]


def test_many_files_one_bad_never_stops_the_rest(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01")
    shutil.copy(FIXTURES / "rudal_id.txt", tmp_path / "good.txt")
    batch = IngestBatch()
    for path in sorted(tmp_path.iterdir()):
        batch.extend(read_file(path, max_bytes=CAP))
    assert [a.source for a in batch.articles] == ["bbn"]
    assert reasons(batch) == ["binary file"]


def test_timezone_aware_everywhere(tmp_path: Path) -> None:
    for name in ("articles.json", "articles.jsonl", "feed_rss.xml", "feed_atom.xml"):
        batch, _ = load(name, tmp_path)
        for article in batch.articles:
            if article.published is not None:
                assert article.published.tzinfo is not None
                assert article.published.utcoffset() == timedelta(0)


def test_feed_and_json_items_with_implausible_dates_are_kept_undated() -> None:
    item = (
        "<item><title>Kim {n}</title><link>https://x.id/{n}</link><pubDate>{date}</pubDate>"
        "<description>Kim Jong Un meninjau uji coba rudal baru ke-{n} di pesisir timur."
        "</description></item>"
    )
    dates = [
        "Sat, 01 Jan 0999 00:00:00 GMT",
        "Fri, 01 Jan 2999 00:00:00 GMT",
        "Tue, 05 Mar 2024 08:30:00 +0700",
    ]
    items = "".join(item.format(n=n, date=d) for n, d in enumerate(dates))
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}'
    batch = parse_bytes((feed + "</channel></rss>").encode(), "f.xml", max_bytes=CAP)
    assert [a.published for a in batch.articles] == [
        None,
        None,
        datetime(2024, 3, 5, 1, 30, tzinfo=UTC),
    ]
    text = "Kim Jong Un meninjau uji coba rudal baru di pesisir timur pagi ini."
    lines = [
        json.dumps({"text": f"{text} {n}", "published": v})
        for n, v in enumerate(["999-01-01", -1, 1709600000])
    ]
    batch = parse_bytes("\n".join(lines).encode(), "a.jsonl", max_bytes=CAP)
    assert [a.published for a in batch.articles] == [
        None,
        None,
        datetime.fromtimestamp(1709600000, UTC),
    ]
