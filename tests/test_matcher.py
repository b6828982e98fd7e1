"""Keyword matching: tokens, whole-word and clitic rules, phrases, OR / AND / exclusions,
offsets, ordering, and the compiled index's independence from the number of queries."""

from __future__ import annotations

import random
import unicodedata
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.matching import index as matcher
from bot.matching.index import KeywordIndex, QueryMatch, compile_queries
from bot.matching.query import QueryError, Term, parse_query
from bot.matching.spans import merge_spans
from bot.matching.tokens import (
    Token,
    clause_break,
    clitic_stems,
    english_variants,
    mask_urls,
    normalize_word,
    tokenize,
)
from store import open_store

# -- tokens ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "normalised"),
    [
        ("Kim", "kim"),
        ("KIM", "kim"),
        ("cafe\u0301", "café"),
        ("CAFÉ", "café"),
        ("Pu\u200btin", "putin"),
        ("sate\u00adlit", "satelit"),
        ("\ufeffrudal\u2060", "rudal"),
        ("Straße", "strasse"),
        ("\u200b", ""),
    ],
)
def test_normalize_word(word: str, normalised: str) -> None:
    assert normalize_word(word) == normalised


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Putin-Kim", ["Putin", "Kim"]),
        ("“Kim” (Putin) [rudal] {satelit}", ["Kim", "Putin", "rudal", "satelit"]),
        ("Kim's rudal_baru", ["Kim", "s", "rudal", "baru"]),
        ("Kim’s «satelit» — Putin…", ["Kim", "s", "satelit", "Putin"]),
        ("rudal-rudalnya", ["rudal", "rudalnya"]),
        ("Pu\u200btin \u200bKim\u200b", ["Pu\u200btin", "Kim"]),
        ("a \u200b b", ["a", "b"]),
        ("cafe\u0301 G20 2024", ["cafe\u0301", "G20", "2024"]),
        ("🚀Kim🚀 Putin", ["Kim", "Putin"]),
        ("𝐊𝐢𝐦 Kim \U0001d167x", ["𝐊𝐢𝐦", "Kim", "\U0001d167x"]),  # non-BMP letters and marks
        ("", []),
        ("... --- !!!", []),
    ],
)
def test_tokenize_words_and_offsets(text: str, words: list[str]) -> None:
    tokens = tokenize(text)
    assert [text[t.start : t.end] for t in tokens] == words


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("rudal", ("rudal",)),
        ("rudalnya", ("rudalnya", "rudal")),
        ("Kimlah", ("kimlah", "kim")),
        ("satelitpun", ("satelitpun", "satelit")),
        ("rudalnyalah", ("rudalnyalah", "rudalnya", "rudal")),
        ("satelitnyapun", ("satelitnyapun", "satelitnya", "satelit")),
        ("bukuku", ("bukuku", "buku")),
        ("rumahmukah", ("rumahmukah", "rumahmu", "rumah")),
        # the stem must keep three characters
        ("kamu", ("kamu",)),
        ("Unnya", ("unnya",)),
        ("Kimia", ("kimia",)),
        # a token that is itself an Indonesian root word (Sastrawi's dictionary) keeps its form
        ("masalah", ("masalah",)),
        ("langkah", ("langkah",)),
        ("bangku", ("bangku",)),
        ("Sekolah", ("sekolah",)),
        # names: Arabic -ullah, and a capitalised -lah on a 4+ letter root word
        ("Abdullah", ("abdullah",)),
        ("Nabilah", ("nabilah",)),
        ("satelitnya", ("satelitnya", "satelit")),
        ("masalahnya", ("masalahnya", "masalah")),
        ("Jokowilah", ("jokowilah", "jokowi")),
        # compatibility normalisation: full-width and mathematical letters
        ("ＫＩＭ", ("kim",)),
        ("𝐊𝐢𝐦", ("kim",)),
    ],
)
def test_token_forms(word: str, forms: tuple[str, ...]) -> None:
    assert tokenize(word) == [Token(0, len(word), forms)]


# -- matching ------------------------------------------------------------------------------------

# (query, text, the matched words as written in the text; [] = no match)
CASES = [
    # plain words
    ("Kim", "Pemimpin Korea Utara Kim meninjau pabrik traktor di Wonsan.", ["Kim"]),
    ("Putin", "Presiden Rusia Vladimir Putin menerima tamu dari Pyongyang.", ["Putin"]),
    ("rudal", "Uji coba rudal jarak menengah itu dipantau dari Tokyo.", ["rudal"]),
    ("satelit", "Badan antariksa meluncurkan satelit cuaca baru.", ["satelit"]),
    ("Putin", "Putin said the talks were useful, and Putin left early.", ["Putin", "Putin"]),
    # whole words only
    ("Kim", "Guru kimia itu memenangkan olimpiade sains tingkat provinsi.", []),
    ("Kim", "Warung di Seoul itu menjual Kimchi paling pedas se-kota.", []),
    ("Kim", "Kimia organik diajarkan pada semester dua.", []),
    ("Putin", "A new biography of Rasputin was published in Moscow this week.", []),
    ("Putin", "Para analis menyebut Putinisme sebagai ideologi yang kabur.", []),
    ("rudal", "Perusahaan itu memproduksi perudal? Tidak ada kata seperti itu.", []),
    # case
    ("Kim", "KIM TIBA DI MOSKOW DENGAN KERETA LAPIS BAJA", ["KIM"]),
    ("kim", "Kim arrived in Moscow by armoured train.", ["Kim"]),
    ("KIM", "Delegasi kIm disambut di stasiun.", ["kIm"]),
    # separators: hyphen, curly quotes, brackets, apostrophe, underscore
    ("Putin", "Pertemuan Putin-Kim berlangsung tertutup di Vladivostok.", ["Putin"]),
    ("Kim", "Pertemuan Putin-Kim berlangsung tertutup di Vladivostok.", ["Kim"]),
    ("Kim", "Media pemerintah menyebut “Kim” sebagai pemimpin tertinggi.", ["Kim"]),
    ("Putin", "Kremlin (Putin) belum memberi komentar resmi.", ["Putin"]),
    ("Kim", "Kim's speech was short.", ["Kim"]),
    ("Kim", "Kim’s speech was short.", ["Kim"]),
    ("Kim", "Tagar #Kim_Jong_Un ramai dibicarakan.", ["Kim"]),
    # Indonesian clitics
    ("satelit", "Peluncuran satelitnya ditunda karena cuaca buruk.", ["satelitnya"]),
    ("rudal", "Militer memamerkan rudal-rudal baru dalam parade.", ["rudal", "rudal"]),
    ("rudal", "Rudalnyalah yang paling ditakuti negara tetangga.", ["Rudalnyalah"]),
    ("rudal", "Mereka menguji rudal-rudalnya di lepas pantai.", ["rudal", "rudalnya"]),
    ("Kim", "Kimlah yang akhirnya memutuskan.", ["Kimlah"]),
    ("satelit", "Satelitpun tidak dapat memotret awan setebal itu.", ["Satelitpun"]),
    ("satelit", "Data satelitnyapun belum dibuka.", ["satelitnyapun"]),
    ("rudalnya", "Rudalnya meluncur pukul lima pagi.", ["Rudalnya"]),
    ("Un", "Pidato Unnya disiarkan ulang.", []),  # 2-letter stem: not stripped alone
    ("ka", "Apakah kamu melihat beritanya?", []),
    # Unicode: NFD and NFC, zero-width characters, soft hyphen
    ("café", "Wartawan menunggu di cafe\u0301 dekat kedutaan.", ["cafe\u0301"]),
    ("cafe\u0301", "Wartawan menunggu di café dekat kedutaan.", ["café"]),
    ("Pyŏngyang", "Delegasi terbang ke Pyo\u0306ngyang pada Senin.", ["Pyo\u0306ngyang"]),
    ("Putin", "Presiden Pu\u200btin berbicara melalui video.", ["Pu\u200btin"]),
    ("Putin", "Presiden \u200bPutin\u200b berbicara.", ["Putin"]),
    ("satelit", "Foto sate\u00adlit menunjukkan landasan baru.", ["sate\u00adlit"]),
    ("Kim", "Peluncuran 🚀Kim🚀 jadi meme.", ["Kim"]),
    # phrases
    ('"Kim Jong Un"', "Kim Jong Un menghadiri parade militer.", ["Kim Jong Un"]),
    ('"Kim Jong Un"', "Pemimpin Kim Jong-un menghadiri parade.", ["Kim Jong-un"]),
    ('"Kim Jong Un"', "Kebijakan Kim Jong Unnya dikritik.", ["Kim Jong Unnya"]),
    ('"Kim Jong Un"', "Pidato KIM JONG-UN disiarkan.", ["KIM JONG-UN"]),
    ("“Kim Jong Un”", "Kim  Jong\nUn hadir.", ["Kim  Jong\nUn"]),
    ("Jong-un", "Kim Jong Un hadir.", ["Jong Un"]),
    ('"Kim Jong Un"', "Kim bertemu Jong Un? Tidak, Kim Yo Jong hadir.", []),
    ('"Kim Jong Un"', "Jong Un Kim bukan urutan yang benar.", []),
    ('"rudal balistik"', "Rudalnya balistik, kata juru bicara.", ["Rudalnya balistik"]),
    ('"uji coba" rudal', "Uji-coba rudal dilakukan di laut.", ["Uji-coba", "rudal"]),
    # OR
    ("satelit OR satellite", "The satellite reached orbit on Tuesday.", ["satellite"]),
    ("satelit OR satellite", "Satelit cuaca berhasil mencapai orbit.", ["Satelit"]),
    ("satelit OR satellite", "Satelit and satellite mean the same.", ["Satelit", "satellite"]),
    ("satelit OR satellite", "Roket itu gagal meluncur.", []),
    # exclusions
    ("Kim -Kardashian", "Kim Kardashian launched a new perfume line.", []),
    ("Kim -Kardashian", "Kim meninjau pabrik pupuk di Hamhung.", ["Kim"]),
    ("Kim -Kardashian", "Kim visited; Kardashianism was not mentioned.", ["Kim"]),
    ("Kim -Kardashian", "Kim visited; the Kardashians were there.", []),  # plural excluded too
    ('Kim -"Kim Kardashian"', "Kim Kardashian dan Kim Yo Jong jadi berita.", []),
    ('Kim -"Kim Kardashian"', "Kim Yo Jong berpidato. Kardashian tidak disebut.", ["Kim"]),
    ("Kim -Kardashian OR Putin", "Kim Kardashian met Putin?", ["Putin"]),
    # AND
    ("Kim Putin", "Kim dan Putin menandatangani perjanjian.", ["Kim", "Putin"]),
    ("Kim Putin", "Kim menandatangani perjanjian.", []),
    ("Kim Putin", "Putin menandatangani perjanjian.", []),
    ("Kim Putin rudal", "Putin-Kim membahas rudal.", ["Putin", "Kim", "rudal"]),
    # digits and hostile queries are just words
    ("G20", "KTT G20 digelar di Bali.", ["G20"]),
    ("G20", "Format G200 belum pernah ada.", []),
    ("(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", []),
    ("(a+)+$", "Nilai a dan b dihitung ulang.", ["a"]),
    # empty text
    ("Kim", "", []),
    # links are not words of the article
    ("Kim", "Baca https://x.id/putin-kim-rudal untuk detailnya.", []),
    ("rudal", "Baca https://x.id/putin-kim-rudal untuk detailnya.", []),
    ("Kim", "Kim hadir (lihat www.kim.id/kim).", ["Kim"]),
    ("Kim", "Sumber: http://Kim.example/a?q=Kim, diakses Senin.", []),
    ("Kim", "Kirim surel ke kim@example.com untuk mendaftar.", []),
    ("Kim", "Baca selengkapnya di kompas.com/kim-jong-un untuk detailnya.", []),
    ("Kim", "Situs resmi kim.co.id sedang diperbaiki.", []),
    ("Kim", "Kim tiba.Putin menyambut di bandara.", ["Kim"]),
    ("rudal", "Harga Rp1.500.000 untuk model rudal.Ini mahal.", ["rudal"]),
    # a phrase stays within one clause
    ('"Korea Utara"', "Ia berasal Korea. Utara menjadi tujuan berikutnya.", []),
    ('"Korea Utara"', "Delegasi dari Korea, Utara dan Selatan, hadir.", []),
    ('"Korea Utara"', "Mereka ke Korea; Utara tidak disebut.", []),
    ('"Korea Utara"', "Tim tiba di Korea\n\nUtara menjadi tujuan berikut.", []),
    ('"Korea Utara"', "Tim tiba di Korea\nUtara kemarin.", ["Korea\nUtara"]),
    ('"U.S. Army"', "The U.S. Army said so.", ["U.S. Army"]),
    ('"Kim Jong Un"', "Kim Jong: Un tidak hadir.", []),
    # full-width and styled letters (NFKC); spans still point into the original
    ("Kim", "ＫＩＭ tiba di Moskow.", ["ＫＩＭ"]),
    ("Kim", "Pidato 𝐊𝐢𝐦 disiarkan ulang.", ["𝐊𝐢𝐦"]),
    ("rudal", "Uji ｒｕｄａｌｎｙａ gagal.", ["ｒｕｄａｌｎｙａ"]),
    # English plurals and possessives of English keywords
    ("missile", "Two missiles were fired at dawn.", ["missiles"]),
    ("satellite", "The satellites reached orbit.", ["satellites"]),
    ("launch", "Pyongyang launches again.", ["launches"]),
    ("country", "Both countries agreed.", ["countries"]),
    ("Putin", "Putin's visit and Putin’s speech.", ["Putin", "Putin"]),
    ('"ballistic missile"', "They fired ballistic missiles.", ["ballistic missiles"]),
    ("pari", "Delegasi tiba di Paris.", []),  # an Indonesian root word gets no English plural
    # clitic stripping never turns an ordinary word into another word
    ("masa", "Masalah itu belum selesai.", []),
    ("lang", "Langkah berikutnya diumumkan.", []),
    ("bang", "Ia duduk di bangku depan.", []),
    ("Abdul", "Menteri Abdullah hadir.", []),
    ("Nabi", "Juru bicara Nabilah menjawab.", []),
    ("rudal", "Rudalnya meluncur.", ["Rudalnya"]),
    ("satelit", "Orbit satelitnya stabil.", ["satelitnya"]),
]


@pytest.mark.parametrize(("query", "text", "words"), CASES)
def test_match(query: str, text: str, words: list[str]) -> None:
    found = KeywordIndex([query]).match(text)
    if not words:
        assert found == []
        return
    (match,) = found
    assert match.query == query
    assert [text[start:end] for start, end in match.spans] == words
    assert match.title_spans == ()


@pytest.mark.parametrize(("query", "text", "words"), CASES)
def test_match_in_title(query: str, text: str, words: list[str]) -> None:
    """The same rules hold in a title; spans then point into the title."""
    found = KeywordIndex([query]).match("Teks lain sama sekali.", title=text)
    assert [[text[s:e] for s, e in m.title_spans] for m in found] == ([words] if words else [])
    assert all(m.spans == () for m in found)


@pytest.mark.parametrize(("query", "text", "words"), CASES)
def test_all_cases_in_one_index(query: str, text: str, words: list[str]) -> None:
    """Compiled together, every query still gives its own answer."""
    index = KeywordIndex(case[0] for case in CASES)
    found = {m.query: m for m in index.match(text)}
    if words:
        assert [text[s:e] for s, e in found[query].spans] == words
    else:
        assert query not in found


def test_nfd_article_offsets_point_into_the_original() -> None:
    text = unicodedata.normalize("NFD", "Delegasi tiba di Pyŏngyang; rudal dipamerkan.")
    (match,) = KeywordIndex(["rudal"]).match(text)
    assert [text[s:e] for s, e in match.spans] == ["rudal"]


def test_title_only_match() -> None:
    (match,) = KeywordIndex(["Putin"]).match(
        "Kunjungan kenegaraan dimulai hari ini.", title="Putin tiba di Beijing"
    )
    assert match == QueryMatch(query="Putin", spans=(), title_spans=((0, 5),))


def test_condition_spans_title_and_text() -> None:
    index = KeywordIndex(["Kim Putin", "Kim -Kardashian"])
    found = index.match("Putin menyambut tamunya.", title="Kim Kardashian tiba di Moskow")
    assert [m.query for m in found] == ["Kim Putin"]
    assert found[0].spans == ((0, 5),)
    assert found[0].title_spans == ((0, 3),)


def test_results_follow_query_order() -> None:
    text = "Putin dan Kim membahas rudal dan satelit."
    queries = ["satelit", "Kim", "zzz", "rudal", "Putin"]
    assert [m.query for m in KeywordIndex(queries).match(text)] == [
        "satelit",
        "Kim",
        "rudal",
        "Putin",
    ]
    reordered = list(reversed(queries))
    assert [m.query for m in KeywordIndex(reordered).match(text)] == [
        "Putin",
        "rudal",
        "Kim",
        "satelit",
    ]


def test_spans_are_sorted_and_overlaps_merged() -> None:
    text = "Kim Jong Un dan Kim Yo Jong."
    (match,) = KeywordIndex(['"Kim Jong Un" OR Kim']).match(text)
    assert [text[s:e] for s, e in match.spans] == ["Kim Jong Un", "Kim"]


def test_duplicate_queries_compile_once() -> None:
    index = compile_queries(["Kim", "Putin", "Kim", "  Kim ", "kim"])
    assert index.queries == ("Kim", "Putin", "  Kim ", "kim")
    assert len(index) == 4
    assert len(index._alternatives) == 3  # "Kim" and "  Kim " share one compiled query
    found = index.match("Kim tiba.")
    assert [m.query for m in found] == ["Kim", "  Kim ", "kim"]
    assert {m.spans for m in found} == {((0, 3),)}


def test_empty_index_and_empty_text() -> None:
    assert len(KeywordIndex([])) == 0
    assert KeywordIndex([]).match("Kim dan Putin") == []
    assert KeywordIndex(["Kim"]).match("") == []
    assert KeywordIndex(["Kim"]).match("", title="") == []


@pytest.mark.parametrize(
    ("queries", "message"),
    [
        (["Kim", ""], "invalid query '': query is empty"),
        (["Kim", "-Putin"], "invalid query '-Putin': query has only exclusions"),
        (['"Kim Jong Un'], "invalid query '\"Kim Jong Un': unbalanced quote"),
        (["Kim OR"], "invalid query 'Kim OR': 'OR' at the end"),
        (["x" * 500], "invalid query 'xxxxx"),
    ],
)
def test_bad_query_is_named(queries: list[str], message: str) -> None:
    with pytest.raises(QueryError) as caught:
        KeywordIndex(queries)
    assert str(caught.value).startswith(message)
    assert len(str(caught.value)) < 200


def test_lenient_index_leaves_out_bad_queries_and_matches_the_rest() -> None:
    index = KeywordIndex(["(", "Kim", '"Jong Un', "rudal"], strict=False)
    assert index.queries == ("Kim", "rudal")
    assert [str(exc) for exc in index.rejected] == [
        "invalid query '(': term '(' has no letters or digits",
        "invalid query '\"Jong Un': unbalanced quote: the phrase starting at '\"Jong Un' is never"
        " closed",
    ]
    assert [m.query for m in index.match("Kim melihat rudal (baru)")] == ["Kim", "rudal"]


NOW = "2024-06-11T08:00:00.000000Z"


def test_matching_pass_skips_a_stored_bad_query_with_one_warning(caplog) -> None:
    from bot.matching.passes import IndexCache, matching_batches, matching_pass

    db = open_store(":memory:")
    for query in ("(", "Kim", '"Jong Un'):  # stored by an older Kabar or by hand
        db.conn.execute("INSERT INTO keywords (query, created_at) VALUES (?, '2024')", [query])
    db.conn.execute(
        "INSERT INTO articles (content_hash, text, ingested_at) VALUES"
        " ('h1', 'Kim Jong Un meninjau uji coba.', ?), ('h2', 'Kim lagi.', ?)",
        [NOW, NOW],
    )
    chat = db.chats.ensure("telegram", "42", "id")
    db.chats.subscribe(chat, db.keywords.all())
    caplog.set_level("WARNING")
    assert matching_pass(db).queued == 2
    list(matching_batches(db, index=IndexCache().get(db)))  # the `kabar run` path
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2 and all("'('" in w and "Jong Un" in w for w in warnings)
    rows = db.conn.execute("SELECT keywords FROM outbox ORDER BY article_id").fetchall()
    assert [row[0] for row in rows] == ['["Kim"]', '["Kim"]']


def test_a_single_string_is_rejected() -> None:
    with pytest.raises(TypeError):
        KeywordIndex("Kim")  # type: ignore[arg-type]


# -- hostile input -----------------------------------------------------------------------------


def test_hostile_texts_are_handled() -> None:
    index = KeywordIndex(["a", "Kim", "(a+)+$", '"a a"'])
    huge_word = "a" * 200_000
    assert index.match(huge_word + "!") == []
    found = index.match(huge_word + " a")
    assert [m.spans for m in found] == [((200_001, 200_002),), ((200_001, 200_002),)]
    many = "a " * 20_000
    assert len(index.match(many)[0].spans) == 20_000
    zero_width = "K" + "\u200b" * 10_000 + "im"
    assert index.match(zero_width)[0].spans == ((0, len(zero_width)),)
    assert index.match("\u200b" * 10_000 + "Kimx" * 10_000) == []


def test_long_words_are_matched_without_memo() -> None:
    word = "panjang" * 20  # longer than the memo's token limit
    index = KeywordIndex([word])
    for _ in range(2):
        (match,) = index.match(f"Kata {word.upper()} muncul.")
        assert match.spans == ((5, 5 + len(word)),)


def test_memo_eviction_keeps_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher, "MEMO_LIMIT", 3)
    index = KeywordIndex(["Kim", "rudal"])
    text = "Kim meninjau rudal baru bersama para jenderal di pantai timur."
    first = index.match(text)
    for _ in range(3):
        assert index.match(text) == first
    assert [m.query for m in first] == ["Kim", "rudal"]


def test_concurrent_matching_agrees() -> None:
    index = KeywordIndex(["Kim", "Putin", '"Kim Jong Un"', "rudal -latihan"])
    texts = [f"Berita {i}: Kim Jong Un dan Putin membahas rudal nomor {i}." for i in range(200)]
    expected = [index.match(t) for t in texts]
    fresh = KeywordIndex(index.queries)
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(fresh.match, texts)) == expected


# -- the index does not depend on how many queries it holds ------------------------------------

FIVE = ["Kim", "Putin", "rudal", "satelit OR satellite", '"Kim Jong Un" -Kardashian']
ARTICLES = [
    ("Parade di Pyongyang", "Kim Jong Un menyaksikan rudal-rudal baru melintas di alun-alun."),
    ("Kunjungan", "Putin-Kim bertemu di Vladivostok; satelitnya ikut dibahas."),
    ("Selebritas", "Kim Kardashian and Kim Jong Un trended on the same day."),
    ("", "The satellite launch was delayed. Rasputin and Kimchi were not involved."),
    ("Cuaca", "Hujan deras mengguyur Jakarta sepanjang sore."),
    ("KIM", "Rudalnyalah yang dipamerkan, kata pejabat (Putin) kepada wartawan."),
]


def filler_queries(count: int, seed: int = 7) -> list[str]:
    """Distinct made-up names, with a query sharing terms with FIVE every 100th."""
    rng = random.Random(seed)
    syllables = ("ba", "ka", "ma", "ta", "ra", "sa", "la", "pe", "ri", "to", "se", "di", "wo")
    words: dict[str, None] = {}
    while len(words) < count:
        words["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))] = None
    extras = ['"rudal balistik"', '"Kim Yo Jong"', "Kim Putin", "satelit -cuaca", "Kardashian"]
    return [extras[i // 100 % 5] if i % 100 == 0 else w.capitalize() for i, w in enumerate(words)]


def test_large_index_gives_the_same_results() -> None:
    small = KeywordIndex(FIVE)
    fillers = filler_queries(4_995)
    mixed = [q for pair in zip(FIVE, fillers[:5], strict=True) for q in pair] + fillers[5:]
    large = KeywordIndex(mixed)
    assert len(large) > 4_900
    for title, text in ARTICLES:
        expected = small.match(text, title)
        assert [m for m in large.match(text, title) if m.query in FIVE] == expected
    assert any(small.match(text, title) for title, text in ARTICLES)


# -- the optimised index agrees with a plain token-by-token reference -------------------------

REFERENCE_QUERIES = [
    "missile",
    '"U.S. Kim"',
    "Kim",
    "Putin",
    "rudal",
    "satelit",
    '"Kim Jong Un"',
    "Kim -Kardashian",
    "satelit OR rudal",
    "Kim Putin",
    '"Jong Un"',
    "café",
    "a",
    '"a a"',
    "Un",
    "Kimia -rudal",
]
WORDS = [
    "Kim", "kim", "KIM", "Kimia", "Kimlah", "Putin", "Rasputin", "rudal", "rudalnya",
    "rudalnyalah", "satelit", "Jong", "Un", "Unnya", "a", "Kardashian", "café", "cafe\u0301",
    "Pu\u200btin", "\u200bKim", "Kim\u200b", "\u200b", "𝐊im", "🚀", "2024", "ＫＩＭ", "missiles",
    "Kims", "masalah", "U", "S",
]  # fmt: skip
SEPARATORS = [
    " ",
    " ",
    "-",
    "“",
    "”",
    "'",
    "_",
    ", ",
    "\n",
    "\u00a0",
    "—",
    "",
    "(",
    ")",
    ". ",
    "\n\n",
    " https://x.id/kim-rudal ",
    "; ",
    ".",
]


def reference_spans(term: Term, tokens: list[Token], text: str) -> list[tuple[int, int]]:
    """Where ``term`` occurs in a token list, checked word by word."""
    spans = []
    for i, token in enumerate(tokens):
        following = tokens[i + 1 : i + len(term.words)]
        if any(v in token.forms for v in english_variants(term.words[0])) and continues(
            term.words[1:], [token, *following], text
        ):
            spans.append((token.start, (following[-1] if following else token).end))
    return spans


def continues(words: tuple[str, ...], tokens: list[Token], text: str) -> bool:
    """Later phrase words: equal to a form (or its plural), or a 2-letter stem before a
    clitic; never across a clause break."""
    following = tokens[1:]
    return len(following) == len(words) and all(
        not clause_break(text, prev.start, prev.end, t.start)
        and (
            any(v in t.forms for v in english_variants(word))
            or (len(word) < 3 and word in clitic_stems(t.forms[0], 2))
        )
        for word, prev, t in zip(words, tokens, following, strict=False)
    )


def reference_match(queries: list[str], text: str, title: str) -> list[QueryMatch]:
    text, title = mask_urls(text), mask_urls(title)
    body, head = tokenize(text), tokenize(title)
    found = []
    for query in queries:
        in_body: list[tuple[int, int]] = []
        in_title: list[tuple[int, int]] = []
        for alt in parse_query(query).alternatives:
            present = [
                t
                for t in (*alt.include, *alt.exclude)
                if reference_spans(t, body, text) or reference_spans(t, head, title)
            ]
            if set(alt.include) <= set(present) and not set(alt.exclude) & set(present):
                for term in alt.include:
                    in_body += reference_spans(term, body, text)
                    in_title += reference_spans(term, head, title)
        if in_body or in_title:
            found.append(
                QueryMatch(
                    query,
                    tuple(merge_spans(in_body, touching=False)),
                    tuple(merge_spans(in_title, touching=False)),
                )
            )
    return found


def texts() -> st.SearchStrategy[str]:
    pieces = st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS))
    return st.lists(pieces, max_size=25).map(lambda ps: "".join(w + s for w, s in ps))


REFERENCE_INDEX = KeywordIndex(REFERENCE_QUERIES)


@settings(max_examples=300, deadline=None)
@given(text=texts(), title=texts())
def test_index_agrees_with_reference(text: str, title: str) -> None:
    assert REFERENCE_INDEX.match(text, title) == reference_match(REFERENCE_QUERIES, text, title)


def test_root_word_dictionary_is_read_on_first_use_only() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bot.matching.index, bot.matching.tokens;"
        " assert bot.matching.tokens.root_words.cache_info()"
        ".currsize == 0; print(len(bot.matching.tokens.root_words()) > 25000,"
        " 'Sastrawi' in ' '.join(sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["True", "True"]
