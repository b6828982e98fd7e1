"""Pure text and URL helpers: bot.ingest.clean and bot.urls."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.alerts.sentence import first_sentence
from bot.ingest import clean as clean_module
from bot.ingest.clean import clean_text, content_hash, split_source_tag
from bot.ingest.urls import canonical_url

# --- clean_text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Baca Juga",
        "BACA JUGA:",
        "Baca juga: Harga Cabai Turun Jelang Lebaran",
        "Lihat juga",
        "Lihat juga: Banjir di Pesisir Utara",
        "Lihat juga Video: Detik-detik Jembatan Ambruk",
        "Simak Video \u201cWarga Bertahan di Pengungsian\u201d",
        "ADVERTISEMENT",
        "Advertisement",
        "Scroll to continue with content",
        "Read more:",
        "Read more: Floods hit the capital again",
        "   baca juga   ",
    ],
)
def test_boilerplate_lines_are_dropped(line: str) -> None:
    raw = f"Paragraf pertama berita.\n{line}\nParagraf kedua berita."
    assert clean_text(raw) == "Paragraf pertama berita.\nParagraf kedua berita."


@pytest.mark.parametrize(
    "line",
    [
        "Warga diminta membaca juga petunjuk evakuasi.",
        "He said: read more books, not fewer.",
        "Advertisement spending fell 3% this year.",
    ],
)
def test_sentences_mentioning_boilerplate_words_are_kept(line: str) -> None:
    assert clean_text(line) == line


def test_nfc_normalisation() -> None:
    decomposed = "Cafe\u0301 di Bandung ramai pengunjung"
    cleaned = clean_text(decomposed)
    assert cleaned == "Café di Bandung ramai pengunjung"
    assert unicodedata.is_normalized("NFC", cleaned)


def test_zero_width_bom_and_control_characters_removed() -> None:
    raw = "\ufeffHar\u200bga ba\u200dhan\u2060 pokok\x07 naik\u00ad.\x00"
    assert clean_text(raw) == "Harga bahan pokok naik."


def test_lone_surrogates_and_bidi_controls_removed() -> None:
    assert clean_text("Rudal\ud83d diluncurkan \u202ebesok\u202c.") == "Rudal diluncurkan besok."


def test_whitespace_normalised_and_paragraphs_kept() -> None:
    raw = "  Satu\t\t dua \u00a0 tiga  \r\nBaris kedua.\r\n\r\n\r\n\r\n   \nParagraf baru.  \n\n"
    assert clean_text(raw) == "Satu dua tiga\nBaris kedua.\n\nParagraf baru."


def test_html_stripped_entities_decoded_scripts_and_styles_dropped() -> None:
    raw = (
        "<div><p>Menteri <b>Keuangan</b> &amp; gubernur bank sentral&nbsp;bertemu.</p>"
        "<script>var x = '<p>tracking</p>';</script><style>p { color: red }</style>"
        "<p>Rapat\n   berlangsung   tertutup.<br>Hasilnya diumumkan besok.</p></div>"
    )
    assert clean_text(raw) == (
        "Menteri Keuangan & gubernur bank sentral bertemu.\n\n"
        "Rapat berlangsung tertutup.\nHasilnya diumumkan besok."
    )


def test_html_boilerplate_paragraph_dropped() -> None:
    raw = "<p>Isi berita utama.</p><p>Baca juga: <a href='/x'>Judul lain</a></p><p>Penutup.</p>"
    assert clean_text(raw) == "Isi berita utama.\n\nPenutup."


def test_plain_text_with_angle_brackets_is_not_mangled() -> None:
    raw = "Inflasi 2 < 3 persen dan x<y tetap berlaku; AT&T &amp; rekan."
    assert clean_text(raw) == "Inflasi 2 < 3 persen dan x<y tetap berlaku; AT&T & rekan."


def test_empty_input() -> None:
    assert clean_text("") == ""
    assert clean_text(" \n\u200b\n\t") == ""


# --- split_source_tag --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "body", "tag"),
    [
        (
            "Kalimat pertama.\nKalimat terakhir.\n(bbn)",
            "Kalimat pertama.\nKalimat terakhir.",
            "bbn",
        ),
        ("Kalimat terakhir.\n(ant)\n", "Kalimat terakhir.", "ant"),
        ("Kalimat terakhir. (ant)", "Kalimat terakhir.", "ant"),
        ("Kalimat terakhir.(bbn)", "Kalimat terakhir.", "bbn"),
        (
            "\u201cKami siap,\u201d katanya.\u201d (Reuters)",
            "\u201cKami siap,\u201d katanya.\u201d",
            "Reuters",
        ),
        ("The last line.\n  (AFP)  ", "The last line.", "AFP"),
        ("Berita.\n(ant/bbn)", "Berita.", "ant/bbn"),
    ],
)
def test_source_tag_split(text: str, body: str, tag: str) -> None:
    assert split_source_tag(text) == (body, tag)


@pytest.mark.parametrize(
    "text",
    [
        # A reporter credit mid-text, and a real tag-less ending.
        "Ia menolak berkomentar. (Nizar Rahman Putra)\nBerita berlanjut di sini.",
        # A multi-word credit at the very end is a credit, not a source tag.
        "Ia menolak berkomentar. (Nizar Rahman Putra)",
        # A parenthesised acronym that ends a sentence without punctuation before it.
        "Uji coba dilakukan oleh Korea Utara (DPRK)",
        "No tag at all.",
        "",
    ],
)
def test_no_source_tag(text: str) -> None:
    assert split_source_tag(text) == (text, "")


# --- first_sentence --------------------------------------------------------------------------


def test_first_sentence_basic() -> None:
    text = "Gempa mengguncang Palu pagi ini. Warga berhamburan keluar rumah.\nParagraf dua."
    assert first_sentence(text) == "Gempa mengguncang Palu pagi ini."


def test_first_sentence_skips_abbreviations_and_decimals() -> None:
    text = "Dr. Andi dan J. Smith tiba di Jl. Merdeka pukul 07.30 dengan inflasi 2.5 persen. Lalu."
    assert first_sentence(text) == (
        "Dr. Andi dan J. Smith tiba di Jl. Merdeka pukul 07.30 dengan inflasi 2.5 persen."
    )


def test_first_sentence_keeps_closing_quote() -> None:
    assert (
        first_sentence("\u201cKami siap!\u201d kata dia. Lalu pergi.") == "\u201cKami siap!\u201d"
    )


def test_first_sentence_truncates_at_word_boundary() -> None:
    text = "Pemerintah daerah mengumumkan rencana pembangunan jalan tol baru " * 5
    result = first_sentence(text, limit=50)
    assert len(result) <= 50
    assert result.endswith("…")
    assert text.startswith(result[:-1])
    assert text[len(result) - 1] == " "  # cut between words


def test_first_sentence_without_punctuation_and_empty() -> None:
    assert first_sentence("\n\n  Judul tanpa titik  \nLain") == "Judul tanpa titik"
    assert first_sentence("") == ""


# --- content_hash ----------------------------------------------------------------------------


def test_content_hash_ignores_whitespace_case_and_punctuation() -> None:
    a = "\u201cKorea Utara\u201d meluncurkan rudal, kata Kim.\nParagraf dua."
    b = '  "korea utara" MELUNCURKAN rudal  kata kim\n\n\nparagraf   dua '
    assert content_hash(a) == content_hash(b)
    assert len(content_hash(a)) == 64
    assert content_hash(a) != content_hash("Korea Selatan meluncurkan rudal, kata Kim.")


def test_content_hash_same_for_file_and_feed_versions() -> None:
    from_file = clean_text("Harga emas naik tajam.\nBaca Juga\nInvestor cemas.\u200b")
    from_feed = clean_text("<p>Harga emas naik tajam.</p><p>Investor cemas.</p>")
    assert content_hash(from_file) == content_hash(from_feed)


def test_content_hash_nfc_and_nfd_agree() -> None:
    assert content_hash("Café baru") == content_hash("Cafe\u0301 baru")


# --- canonical_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?utm_source=x&utm_medium=y", "https://example.com/a"),
        ("HTTPS://Example.COM/Path/?b=2&a=1", "https://example.com/Path?a=1&b=2"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com:443/x", "https://example.com/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com/x#section-2", "https://example.com/x"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com/news/", "https://example.com/news"),
        (
            "https://example.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&ref=5&ref_src=6"
            "&igshid=7&_ga=8&spm=9&UTM_Campaign=10&id=11",
            "https://example.com/a?id=11",
        ),
        ("https://example.com/a?q=kim+jong+un&page=", "https://example.com/a?page=&q=kim+jong+un"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://[2001:db8::1]:443/a", "https://[2001:db8::1]/a"),
        ("", ""),
        ("ftp://example.com/file", ""),
        ("mailto:redaksi@example.com", ""),
        ("javascript:alert(1)", ""),
        ("example.com/no-scheme", ""),
        ("https://", ""),
        ("https://example.com:notaport/x", ""),
        ("https://example.com:99999/x", ""),
        ("https://example.com/a\x00b", ""),
        ("https://example.com/a\ud800", ""),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


_hosts = st.sampled_from(["example.com", "News.Example.ID", "a.b.c", "127.0.0.1"])
_segments = st.lists(st.text("abcXYZ-_.~%20", min_size=0, max_size=6), max_size=4)
_params = st.lists(
    st.tuples(
        st.sampled_from(["utm_source", "id", "q", "ref", "page", "A", "fbclid"]),
        st.text("abc 12+&=%", max_size=5),
    ),
    max_size=5,
)


@given(
    scheme=st.sampled_from(["http", "https", "HTTP"]),
    host=_hosts,
    port=st.sampled_from(["", ":80", ":443", ":8080"]),
    segments=_segments,
    params=_params,
    trailing=st.booleans(),
)
def test_canonical_url_is_idempotent(
    scheme: str,
    host: str,
    port: str,
    segments: list[str],
    params: list[tuple[str, str]],
    trailing: bool,
) -> None:
    from urllib.parse import urlencode

    path = "/" + "/".join(segments) + ("/" if trailing else "")
    url = f"{scheme}://{host}{port}{path}?{urlencode(params)}#frag"
    once = canonical_url(url)
    assert once.startswith(("http://", "https://"))
    assert "utm_" not in once and "fbclid" not in once and "#" not in once
    assert canonical_url(once) == once


# --- linear time on hostile text (each input took minutes before) -------------------------------


@pytest.mark.timeout(20)
def test_first_sentence_of_a_long_run_of_dots() -> None:
    dots = "." * 100_000  # 40,000 dots took 75 s
    assert first_sentence("Kim " + dots + "x", 20) == "Kim…"
    assert first_sentence("Kim" + dots + " Jong Un.", 1_000_000) == "Kim" + dots


@pytest.mark.timeout(20)
def test_first_sentence_over_many_initials() -> None:
    initials = "J. " * 100_000
    assert first_sentence(initials + "Smith tiba. Lalu", 1_000_000) == initials + "Smith tiba."


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<!--" * 250_000, "<!--" * 250_000),  # 1 MB of unclosed comments: ~50 min before
        ("Kim <!--" + "x" * 10 + "<!--" * 100_000, "Kim <!--xxxxxxxxxx" + "<!--" * 100_000),
        ("<p>Kim</p>" + "<a " * 100_000, "Kim"),  # unclosed tags: HTMLParser rescans them
        ("<p>Kim</p>" + "<a b='" * 50_000, "Kim"),
        ("<p>Kim</p>" + "<!--" * 100_000, "Kim"),
    ],
    ids=["comments", "text-then-comments", "open-tags", "open-quotes", "tag-then-comments"],
)
def test_clean_text_is_linear_on_unclosed_markup(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_html_scan_keeps_browser_text() -> None:
    raw = (
        "<p class='a>b'>Kim <b>Jong</b> Un</p><SCRIPT>if (a<b) x='</p>';</SCRIPT>"
        "<!-- note --><p>Rudal&nbsp;diluncurkan.<br/>Lagi.</p><?php x ?>a < b"
    )
    assert clean_text(raw) == "Kim Jong Un\n\nRudal diluncurkan.\nLagi.\n\na < b"


# --- one-line fast path of clean_text -----------------------------------------------------------


@given(
    st.one_of(
        st.text(alphabet=st.characters(blacklist_categories=()), max_size=80),
        st.lists(
            st.sampled_from(
                [
                    "Read more",
                    "Baca juga: x",
                    "ADVERTISEMENT",
                    " ",
                    "  ",
                    "Kim",
                    "é",
                    "e\u0301",
                    "<b>",
                    "&amp;",
                    "\u00a0",
                    "\u200b",
                    "“Putin”",
                    "Lihat juga video",
                    "\t",
                    "Rudal",
                    ".",
                ]
            ),
            max_size=8,
        ).map("".join),
    )
)
def test_one_line_fast_path_is_the_full_cleaning(text: str) -> None:
    assert clean_text(text) == clean_module._clean_full(text)


def test_plain_titles_take_the_fast_path() -> None:
    assert clean_module._plain_line("Korea Utara luncurkan rudal “Hwasong” lagi")
    assert not clean_module._plain_line("Kim &amp; Putin")
    assert not clean_module._plain_line("Cafe\u0301")
    assert clean_text("  Read more  ") == ""
