"""Match spans: ``(start, end)`` offsets into a text, and the one way they are merged."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Span = tuple[int, int]


def merge_spans(
    spans: Iterable[Sequence[int]], length: int | None = None, *, touching: bool = True
) -> list[Span]:
    """Spans sorted, overlapping ones merged (with ``touching``, also spans that only meet).
    With ``length``: clipped to ``[0, length)`` first and empty ones dropped."""
    pairs = ((int(a), int(b)) for a, b in spans)
    if length is not None:
        pairs = ((max(0, a), min(length, b)) for a, b in pairs)
    merged: list[Span] = []
    for start, end in sorted(pairs):
        if length is not None and start >= end:
            continue
        if merged and (start <= merged[-1][1] if touching else start < merged[-1][1]):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
