"""Per-article features: LSH band keys of the body and weighted salient terms."""

from __future__ import annotations

import re
from datetime import date, timedelta

from .lexicon import first_words as _first_words
from .lexicon import match_at
from .minhash import band_keys, shingles, signature
from .model import StoryFeatures, StoryInput
from .text import clean_lines, number_value, sentences, tokens

WEIGHTS = {"e": 3.0, "x": 2.0, "n": 2.5, "d": 1.0, "w": 1.0}

_WEEKDAYS = {
    "senin": 0,
    "selasa": 1,
    "rabu": 2,
    "kamis": 3,
    "jumat": 4,
    "sabtu": 5,
    "minggu": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_MONTHS = {
    "januari": 1,
    "january": 1,
    "jan": 1,
    "februari": 2,
    "february": 2,
    "feb": 2,
    "maret": 3,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "juni": 6,
    "june": 6,
    "jun": 6,
    "juli": 7,
    "july": 7,
    "jul": 7,
    "agustus": 8,
    "august": 8,
    "aug": 8,
    "agu": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "oktober": 10,
    "october": 10,
    "oct": 10,
    "okt": 10,
    "november": 11,
    "nov": 11,
    "desember": 12,
    "december": 12,
    "dec": 12,
    "des": 12,
}
_POSSESSIVE_ENDS = ("'s", "’s")  # what ``['’]s?$`` can strip from a token
_DAY_MONTH = re.compile(r"^(\d{1,2})/(\d{1,2})$")
_CASED = {"as", "us", "ri", "pm", "un", "zee", "ktt", "uav"}  # only when written in capitals
_STOP = frozenset(
    """
yang dan di ke dari untuk dengan pada ini itu tersebut akan telah sudah juga tidak bahwa
dalam oleh atau karena sebagai para kata katanya mengatakan menyebut menurut sekitar lebih
kepada antara setelah sebelum saat ketika hingga sampai masih belum bisa dapat harus ada
mereka kami kita ia dia nya pun lagi hanya namun tetapi serta maupun bagi tahun hari pekan
jam pukul lalu kedua pertama selama usai menjadi merupakan lain sejumlah beberapa banyak
the a an of to in on at for from by with and or but as is are was were be been being it its
this that these those he she they his her their them we our you said says say told would
could will can may might also not no than then there here which who whom whose what when
where while after before about into over under more most some any all each other such only
own same so very just now new last next year years week day days time had has have do does
did according officials official including since around about nearly almost per
""".split()
)


def features_of(article: StoryInput) -> StoryFeatures:
    """Features of one article, a pure function of the article."""
    lines = clean_lines(article.text)
    sents = sentences(lines)
    # One tokenisation: a sentence split only removes whitespace, which no token contains, so
    # the sentences' tokens are the lines' tokens.
    sent_toks = [tokens(sent) for sent in sents]
    body_words = [t.lower() for toks in sent_toks for t in toks]
    sig = signature(shingles(body_words))
    cased = _mid_sentence_caps(sent_toks)
    terms: dict[str, float] = {}
    ref = (article.published + timedelta(hours=12)).date()  # local dates east of UTC
    for toks in sent_toks:
        _add_body_terms(terms, toks, article.lang, cased, ref)
    if article.title.strip():
        _add_terms(terms, tokens(article.title), article.lang, cased, ref, title=True)
    return StoryFeatures(
        lang=article.lang, published=article.published, buckets=band_keys(sig), terms=terms
    )


def _mid_sentence_caps(sent_toks: list[list[str]]) -> set[str]:
    out = set()
    for toks in sent_toks:
        for tok in toks[1:]:
            if tok[0].isupper():
                out.add(tok.lower())
    return out


def _unpossessive(tok: str) -> str:
    """``tok`` without a trailing ``'s`` / ``’s`` (a token never ends in a bare apostrophe)."""
    return (tok[:-2] or tok) if tok.endswith(_POSSESSIVE_ENDS) else tok


def _add_terms(
    terms: dict[str, float],
    toks: list[str],
    lang: str,
    cased: set[str],
    ref: date,
    *,
    title: bool,
    plain: list[str] | None = None,
) -> None:
    """The terms of one sentence (or the title). ``plain``: per token (already without its
    possessive), its ``_plain_term`` (body sentences only)."""
    if plain is None:
        toks = [_unpossessive(t) for t in toks]
    words = [t.lower() for t in toks]
    first = _first_words()
    date_words = _DATE_WORDS
    stop = _SKIP
    i = 0
    n = len(toks)
    while i < n:
        if plain is not None and plain[i] != _SPECIAL:
            if plain[i]:
                terms.setdefault(plain[i], WEIGHTS["w"])
            i += 1
            continue
        tok, low = toks[i], words[i]
        if low[0].isdigit() or low in date_words:
            date_key, used = _date_at(words, i, ref)
            if date_key:
                terms[date_key] = WEIGHTS["d"]
                i += used
                continue
        if low in first:
            hit = match_at(words, i)
            if hit and not (hit[1] == 1 and low in _CASED and not tok.isupper()):
                terms["x:" + hit[0]] = WEIGHTS["x"]
                i += hit[1]
                continue
        i += 1
        if low in _MONTHS and len(low) > 3:
            terms[f"x:month{_MONTHS[low]}"] = WEIGHTS["x"]
            continue
        if tok[0].isdigit():
            value = number_value(tok, lang)
            if value is not None and (float(value) >= 10 or "." in value):
                terms["n:" + value] = WEIGHTS["n"]
            continue
        if low in stop or len(low) < 2:
            continue
        is_name = low in cased if title else (tok[0].isupper() and (i > 1 or low in cased))
        if is_name:
            run = _name_run(toks, i - 1)  # a person counts once: Kim Jong Un = 3 x 1/3
            terms["e:" + low] = max(terms.get("e:" + low, 0.0), WEIGHTS["e"] / run)
        elif len(low) >= 4 and not any(map(str.isdigit, low)):
            terms.setdefault("w:" + low, WEIGHTS["w"])


_SKIP = _STOP | _CASED
_DATE_WORDS = frozenset(_MONTHS) | frozenset(_WEEKDAYS)  # a date starts with one or a digit


_PLAIN_CACHE: dict[str, str] = {}  # body token -> its plain-word term, "" none, absent: special
_PLAIN_CACHE_MAX = 200_000
_SPECIAL = "?"  # a token that needs the full rules (not a valid term)


def _plain_term(tok: str) -> str:
    """What a body token adds by itself: ``_SPECIAL`` when its meaning depends on the
    tokens around it or on its case (capitalised, a digit, a date word, a lexicon form's first
    word), else its plain-word term ("w:..." or "" for none), as ``_add_terms`` gives it."""
    low = tok.lower()
    if tok[0].isupper() or low[0].isdigit() or low in _DATE_WORDS or low in _first_words():
        return _SPECIAL
    if low in _SKIP or len(low) < 2:
        return ""
    if len(low) >= 4 and not any(map(str.isdigit, low)):
        return "w:" + low
    return ""


def _add_body_terms(
    terms: dict[str, float], toks: list[str], lang: str, cased: set[str], ref: date
) -> None:
    """``_add_terms`` for a body sentence: the same terms in the same order, with each token
    that means the same wherever it stands (most of them) looked up instead of ruled on."""
    ends = _POSSESSIVE_ENDS
    toks = [(t[:-2] or t) if t.endswith(ends) else t for t in toks]  # == _unpossessive
    cache = _PLAIN_CACHE
    plain = list(map(cache.get, toks))
    if None in plain:
        if len(cache) >= _PLAIN_CACHE_MAX:
            cache.clear()
        for i, kind in enumerate(plain):
            if kind is None:
                plain[i] = cache[toks[i]] = _plain_term(toks[i])
    known: list[str] = plain  # type: ignore[assignment]  # no None left
    if _SPECIAL not in known:
        weight = WEIGHTS["w"]
        for kind in known:
            if kind:
                terms.setdefault(kind, weight)
        return
    _add_terms(terms, toks, lang, cased, ref, title=False, plain=known)


def _name_run(toks: list[str], i: int) -> int:
    """Length of the run of capitalised words around ``toks[i]`` (a multi-word name)."""
    lo = hi = i
    while lo > 0 and toks[lo - 1][:1].isupper():
        lo -= 1
    while hi + 1 < len(toks) and toks[hi + 1][:1].isupper():
        hi += 1
    return min(hi - lo + 1, 3)


def _date_at(words: list[str], i: int, ref: date) -> tuple[str | None, int]:
    """A date at ``words[i]``: ``13/9``, ``13 September``, ``September 13`` or a weekday
    (resolved to the latest such day on or before the reference date)."""
    w = words[i]
    m = _DAY_MONTH.match(w)
    if m:
        return _date_key(ref, int(m.group(2)), int(m.group(1))), 1
    nxt = words[i + 1] if i + 1 < len(words) else ""
    # isdecimal, not isdigit: "²" is a digit that int() refuses (it raised on "Mei ²")
    if w.isdecimal() and nxt in _MONTHS and 1 <= int(w) <= 31:
        return _date_key(ref, _MONTHS[nxt], int(w)), 2
    ambiguous = {"may", "mar", "jun", "jul", "des", "sep"}
    if w in _MONTHS and w not in ambiguous and nxt.isdecimal() and 1 <= int(nxt) <= 31:
        return _date_key(ref, _MONTHS[w], int(nxt)), 2
    if w in _WEEKDAYS:
        back = (ref.weekday() - _WEEKDAYS[w]) % 7
        return "d:" + (ref - timedelta(days=back)).isoformat(), 1
    return None, 0


def _date_key(ref: date, month: int, day: int) -> str | None:
    for year in (ref.year, ref.year - 1):
        try:
            d = date(year, month, day)
        except ValueError:
            return None
        if d <= ref + timedelta(days=1):
            return "d:" + d.isoformat()
    return None
