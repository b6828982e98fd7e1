"""Deterministic MinHash (one permutation with densification) and LSH band keys.

Own implementation rather than a library so that the stored band keys never change with a
library upgrade: one keyed BLAKE2b hash per shingle, 64 bins by the top bits, the minimum of
each bin, empty bins filled from the next non-empty bin (Shrivastava & Li's densification),
then 16 bands of 4 rows, each band hashed into a short key ``m<band><hex>``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

BINS = 64
ROWS = 4
BANDS = BINS // ROWS
_SHIFT = 64 - 6  # top 6 bits choose the bin (2**6 == BINS)
_LOW = (1 << _SHIFT) - 1
_PERSON = b"kabar-story-v1"


def _hash64(shingle: str) -> int:
    digest = hashlib.blake2b(shingle.encode("utf-8"), digest_size=8, person=_PERSON).digest()
    return int.from_bytes(digest, "big")


def signature(shingles: Iterable[str]) -> tuple[int, ...]:
    """64 minima; empty tuple when there are no shingles."""
    mins: list[int | None] = [None] * BINS
    for s in shingles:
        h = _hash64(s)
        b, v = h >> _SHIFT, h & _LOW
        cur = mins[b]
        if cur is None or v < cur:
            mins[b] = v
    if all(m is None for m in mins):
        return ()
    out: list[int] = []
    for i in range(BINS):
        j, hops = i, 0
        while (found := mins[j]) is None:
            j, hops = (j + 1) % BINS, hops + 1
        out.append(found if hops == 0 else _hash64(f"{found}:{hops}") & _LOW)
    return tuple(out)


def band_keys(sig: tuple[int, ...]) -> tuple[str, ...]:
    keys = []
    for band in range(BANDS if sig else 0):
        rows = sig[band * ROWS : (band + 1) * ROWS]
        raw = b"".join(r.to_bytes(8, "big") for r in rows)
        keys.append(f"m{band:02d}{hashlib.blake2b(raw, digest_size=6).hexdigest()}")
    return tuple(keys)


def shingles(words: list[str], size: int = 3) -> set[str]:
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}
