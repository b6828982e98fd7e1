"""The request guard in front of bolt: the signature headers each exactly once, and each
signature taken once within Slack's 5-minute timestamp window (a replayed request does not
run twice).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

SIGNATURE_HEADER = "X-Slack-Signature"


TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"


_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")


class ReplayGuard:
    """Signatures taken within Slack's 5-minute timestamp window: a request runs once."""

    def __init__(self, window: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._seen: dict[str, float] = {}

    def admit(self, signature: str) -> bool:
        """True the first time ``signature`` is offered within the window, and it is
        remembered in the same step (no await between check and remember)."""
        now = self.clock()
        oldest = next(iter(self._seen.values()), None)  # insertion order is expiry order
        if oldest is not None and oldest < now:
            self._seen = {s: t for s, t in self._seen.items() if t >= now}
        if not signature or self._seen.get(signature, 0.0) >= now:
            return False
        self._seen[signature] = now + self.window
        return True

    def forget(self, signature: str) -> None:
        """A refused request was not taken: the same signature may come again."""
        self._seen.pop(signature, None)


def header_refusal(headers: Any) -> str:
    """Why the signature headers are refused before bolt sees them ("" when they are fine):
    each exactly once, the timestamp a number."""
    for name in (SIGNATURE_HEADER, TIMESTAMP_HEADER):
        if len(headers.getall(name, [])) != 1:
            return f"expected one {name} header"
    if not _TIMESTAMP_RE.fullmatch(headers[TIMESTAMP_HEADER].strip()):
        return f"{TIMESTAMP_HEADER} is not a number"
    return ""
