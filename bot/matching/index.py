"""Match articles against many keyword queries at once.

All queries are compiled into one index, so the cost of matching an article does not grow
with the number of queries:

* every distinct term (word or phrase, positive or excluded) gets one id; terms are indexed
  by their first word (``first word -> term ids``);
* the article's distinct raw tokens are looked up once each in a per-index memo
  (``raw token -> term ids`` for all of its clitic forms, plus the set of raw tokens that hit
  nothing). After warm-up this is one C-level set difference per text, whatever the number
  of queries;
* only the tokens that hit are located in the text (``str.find`` + word-boundary check);
  phrases are verified forward from their first word;
* only the queries that contain at least one hit positive term are evaluated.

Precision rules (see ``bot.matching.tokens``): links are blanked before scanning, a phrase
matches only within one clause, words compare NFKC + casefold, and query words tolerate
English plurals.
Spans always point into the original text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter

from bot.matching.query import Query, QueryError, parse_query
from bot.matching.spans import Span, merge_spans
from bot.matching.tokens import (
    LONG_TOKEN,
    ScanPatterns,
    clause_break,
    english_variants,
    find_token,
    mask_urls,
    next_token,
    phrase_word_matches,
    raw_token_set,
    scan_patterns,
    token_forms,
    trim_span,
)

__all__ = ["KeywordIndex", "QueryMatch", "compile_queries"]

# Per-index memo of raw token -> term ids, dropped and rebuilt when it reaches this size.
MEMO_LIMIT = 200_000


@dataclass(frozen=True)
class QueryMatch:
    """One query that matched an article, with spans of its matched positive terms."""

    query: str  # the query's text as given to compile
    spans: tuple[Span, ...]  # in the body text, sorted, overlaps merged
    title_spans: tuple[Span, ...]  # same for the title


# (include term ids, exclude term ids) for each alternative of one query
_Alternatives = tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
# Per-index memo of raw tokens already looked up: (raws that hit nothing, raw -> term ids).
_Memo = tuple[set[str], dict[str, tuple[int, ...]]]


class KeywordIndex:
    """Compiled keyword queries. Thread-safe for concurrent ``match`` calls."""

    def __init__(self, queries: Iterable[str], *, strict: bool = True) -> None:
        """Compile ``queries``. A query that does not parse raises ``QueryError`` naming it;
        with ``strict=False`` it is left out instead and listed in ``rejected``, so one bad
        stored query never stops the others from matching."""
        if isinstance(queries, str):
            raise TypeError("KeywordIndex takes an iterable of query strings, not one string")
        self.rejected: list[QueryError] = []  # with strict=False: the queries left out
        self._texts: list[str] = []  # distinct query texts as given, in order
        self._aliases: list[list[int]] = []  # compiled query id -> positions in _texts
        self._alternatives: list[_Alternatives] = []  # by compiled query id
        self._terms: list[tuple[str, ...]] = []  # words, by term id
        self._term_ids: dict[tuple[str, ...], int] = {}
        self._queries_of: list[list[int]] = []  # term id -> compiled queries including it
        self._by_first: dict[str, list[int]] = {}  # first word -> term ids
        compiled: dict[str, int] = {}  # canonical text -> compiled query id
        given: set[str] = set()
        for text in queries:
            if text in given:
                continue  # the very same text again
            try:
                parsed = _parse(text)
            except QueryError as exc:
                if strict:
                    raise
                given.add(text)
                self.rejected.append(exc)
                continue
            query_id = compiled.get(parsed.canonical)
            if query_id is None:
                query_id = compiled[parsed.canonical] = self._add(parsed)
            given.add(text)
            self._aliases[query_id].append(len(self._texts))
            self._texts.append(text)
        self._memo: _Memo = (set(), {})

    def __len__(self) -> int:
        return len(self._texts)

    def __repr__(self) -> str:
        return f"<KeywordIndex {len(self)} queries, {len(self._terms)} terms>"

    @property
    def queries(self) -> tuple[str, ...]:
        """The distinct query texts, in the order given.

        Texts with the same canonical form (``"Kim"``, ``" Kim "``) are compiled and evaluated
        once, but each is kept and reported under its own spelling, so callers can look
        matches up by the exact text they stored.
        """
        return tuple(self._texts)

    def match(self, text: str, title: str = "") -> list[QueryMatch]:
        """Queries whose condition holds over ``title`` + ``text``, in the order given."""
        memo = self._memo
        body_hits = self._scan(text, memo)
        title_hits = self._scan(title, memo)
        if not body_hits and not title_hits:
            return []
        present = body_hits.keys() | title_hits.keys()
        candidates: set[int] = set()
        for term_id in present:
            candidates.update(self._queries_of[term_id])
        texts = self._texts
        matches: list[tuple[int, QueryMatch]] = []
        for query_id in candidates:
            spans = self._evaluate(query_id, present, body_hits, title_hits)
            if spans is not None:
                for position in self._aliases[query_id]:
                    matches.append((position, QueryMatch(texts[position], *spans)))
        matches.sort(key=itemgetter(0))
        return [match for _, match in matches]

    # -- compiling -------------------------------------------------------------------------

    def _add(self, parsed: Query) -> int:
        query_id = len(self._alternatives)
        self._aliases.append([])
        alternatives = []
        for alternative in parsed.alternatives:
            include = tuple(self._term_id(term.words) for term in alternative.include)
            exclude = tuple(self._term_id(term.words) for term in alternative.exclude)
            alternatives.append((include, exclude))
            for term_id in include:
                owners = self._queries_of[term_id]
                if not owners or owners[-1] != query_id:
                    owners.append(query_id)
        self._alternatives.append(tuple(alternatives))
        return query_id

    def _term_id(self, words: tuple[str, ...]) -> int:
        term_id = self._term_ids.get(words)
        if term_id is None:
            term_id = self._term_ids[words] = len(self._terms)
            self._terms.append(words)
            self._queries_of.append([])
            for variant in english_variants(words[0]):  # missile also finds missiles
                self._by_first.setdefault(variant, []).append(term_id)
        return term_id

    # -- matching --------------------------------------------------------------------------

    def _scan(self, text: str, memo: _Memo) -> dict[int, tuple[Span, ...]]:
        """Term id -> sorted spans of every indexed term occurring in ``text``."""
        if not text:
            return {}
        text = mask_urls(text)  # links are not words of the article (offsets unchanged)
        patterns: ScanPatterns | None = None  # only needed once something hits
        raws = raw_token_set(text)
        misses, hitting = memo
        found: dict[int, list[Span]] = {}
        terms = self._terms
        # One C-level pass drops the (many) raws known to hit nothing; what is left is the
        # few raws that hit, plus any never seen before.
        for raw in raws.difference(misses):
            term_ids = hitting.get(raw)
            if term_ids is None:
                term_ids = self._resolve(raw, memo)
                if not term_ids:
                    continue
            if patterns is None:
                patterns = scan_patterns(text)
            spans = find_token(text, raw, patterns)
            for term_id in term_ids:
                words = terms[term_id]
                if len(words) > 1:
                    spans_of_term = self._phrase_spans(text, patterns, words, spans)
                    if not spans_of_term:
                        continue
                else:
                    spans_of_term = spans
                found.setdefault(term_id, []).extend(spans_of_term)
        return {
            term_id: tuple(merge_spans(spans, touching=False)) for term_id, spans in found.items()
        }

    def _resolve(self, raw: str, memo: _Memo) -> tuple[int, ...]:
        """Term ids whose first word equals any form of ``raw``; remembered in ``memo``."""
        by_first = self._by_first
        term_ids = tuple(term_id for form in token_forms(raw) for term_id in by_first.get(form, ()))
        if len(raw) > LONG_TOKEN:
            return term_ids  # not memoised: bounded memory whatever the input
        misses, hitting = memo
        if len(misses) + len(hitting) >= MEMO_LIMIT and memo is self._memo:
            self._memo = (set(), {})  # callers holding the old memo keep using it
        if term_ids:
            hitting[raw] = term_ids
        else:
            misses.add(raw)
        return term_ids

    @staticmethod
    def _phrase_spans(
        text: str, patterns: ScanPatterns, words: tuple[str, ...], firsts: list[Span]
    ) -> list[Span]:
        """Spans of phrase ``words`` starting at the given spans of its first word, each
        within one clause."""
        spans = []
        for start, end in firsts:
            previous = start
            for word in words[1:]:
                token = next_token(text, end, patterns)
                if (
                    token is None
                    or clause_break(text, previous, end, token[1])
                    or not phrase_word_matches(token[0], word)
                ):
                    break
                previous, end = trim_span(*token)
            else:
                spans.append((start, end))
        return spans

    def _evaluate(
        self,
        query_id: int,
        present: set[int],
        body_hits: dict[int, tuple[Span, ...]],
        title_hits: dict[int, tuple[Span, ...]],
    ) -> tuple[tuple[Span, ...], tuple[Span, ...]] | None:
        """(body spans, title spans) of the query's matched positive terms, or None."""
        alternatives = self._alternatives[query_id]
        if len(alternatives) == 1 and len(alternatives[0][0]) == 1:  # the common case
            include, exclude = alternatives[0]
            if exclude and not present.isdisjoint(exclude):
                return None
            return body_hits.get(include[0], ()), title_hits.get(include[0], ())
        terms: set[int] = set()
        for include, exclude in alternatives:
            if present.issuperset(include) and present.isdisjoint(exclude):
                terms.update(include)
        if not terms:
            return None
        return (
            tuple(merge_spans((s for t in terms for s in body_hits.get(t, ())), touching=False)),
            tuple(merge_spans((s for t in terms for s in title_hits.get(t, ())), touching=False)),
        )


def _parse(text: str) -> Query:
    try:
        return parse_query(text)
    except QueryError as exc:
        raise exc.for_query(text) from exc


def compile_queries(queries: Iterable[str]) -> KeywordIndex:
    """Compile keyword queries into one index; raises ``QueryError`` naming a bad query."""
    return KeywordIndex(queries)
