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


_HASHER = hashlib.blake2b(digest_size=8, person=_PERSON)  # copied per shingle: cheaper


def signature(shingles: Iterable[str]) -> tuple[int, ...]:
    """64 minima; empty tuple when there are no shingles."""
    start, from_bytes = _HASHER.copy, int.from_bytes
    hashes = []
    for s in shingles:
        h = start()
        h.update(s.encode("utf-8"))
        hashes.append(from_bytes(h.digest(), "big"))  # == _hash64(s)
    if not hashes:
        return ()
    hashes.sort(reverse=True)
    # per bin (the top bits) the last, i.e. smallest, hash: the one with the smallest low bits
    mins = dict(zip([h >> _SHIFT for h in hashes], hashes, strict=True))
    out: list[int] = []
    for i in range(BINS):
        j, hops = i, 0
        while (found := mins.get(j)) is None:
            j, hops = (j + 1) % BINS, hops + 1
        found &= _LOW
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
    if size == 3:  # the one used: the same strings, built without slicing
        return {f"{a} {b} {c}" for a, b, c in zip(words, words[1:], words[2:], strict=False)}
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}
