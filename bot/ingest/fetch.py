"""Fetch RSS/Atom feeds over HTTP with conditional GET; failures become error strings."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import httpx

from bot.ingest.parse import DocumentError, format_size, parse_document
from bot.ingest.urls import redact_url, without_credentials
from store.models import IngestBatch

log = logging.getLogger(__name__)

USER_AGENT = "Kabar/0.1 (+keyword news alerts)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
# The encodings we decode ourselves, with a cap on the decoded size (zlib window bits).
ACCEPT_ENCODING = "gzip, deflate"
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


@dataclass(frozen=True)
class FeedState:
    """HTTP validators remembered between polls."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one poll; ``error`` is a one-line reason, ``batch`` empty on error."""

    status: int
    batch: IngestBatch
    state: FeedState
    not_modified: bool
    error: str | None


class _TooLarge(Exception):
    pass


class _Refused(Exception):
    """The body cannot be read safely; ``str(exc)`` is the one-line reason."""


def make_client() -> httpx.AsyncClient:
    """An HTTP client for feeds: bounded timeouts, our User-Agent, redirects followed."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(20.0, connect=10.0),
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
        follow_redirects=True,
        max_redirects=5,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


def _conditional_headers(state: FeedState) -> dict[str, str]:
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def _new_state(response: httpx.Response, old: FeedState) -> FeedState:
    """Validators from the response, falling back to the old ones when it sent none."""
    return FeedState(
        etag=response.headers.get("ETag") or old.etag,
        last_modified=response.headers.get("Last-Modified") or old.last_modified,
    )


def _decoder(response: httpx.Response) -> zlib._Decompress | None:
    """A decompressor for the body's Content-Encoding; ``None`` for identity. Stacked
    encodings (``gzip, gzip``: a 6.7 KB bomb of 8.4 GB) and unknown ones are refused."""
    codings = [
        c.strip().lower()
        for c in response.headers.get_list("Content-Encoding", split_commas=True)
        if c.strip().lower() not in ("", "identity")
    ]
    if not codings:
        return None
    if len(codings) > 1:
        raise _Refused(f"refused: stacked Content-Encoding {', '.join(codings)!r}")
    wbits = _WBITS.get(codings[0])
    if wbits is None:
        raise _Refused(f"refused: unsupported Content-Encoding {codings[0]!r}")
    return zlib.decompressobj(wbits)


def _inflate(decoder: zlib._Decompress, chunk: bytes, body: bytearray, max_bytes: int) -> None:
    """Decode ``chunk`` onto ``body``, never producing more than one byte past the cap."""
    data = chunk
    while data and not decoder.eof:
        try:
            body += decoder.decompress(data, max_bytes + 1 - len(body))
        except zlib.error as exc:
            raise _Refused(f"cannot decode the compressed body ({exc})") from None
        if len(body) > max_bytes:
            raise _TooLarge
        data = decoder.unconsumed_tail


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body; raises ``_TooLarge`` as soon as the wire bytes or the *decoded*
    bytes pass ``max_bytes`` (decoding is incremental, so memory stays within the cap)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _TooLarge
    decoder = _decoder(response)
    body, wire = bytearray(), 0
    async for chunk in response.aiter_raw():
        wire += len(chunk)
        if wire > max_bytes:
            raise _TooLarge
        if decoder is None:
            body += chunk
            if len(body) > max_bytes:
                raise _TooLarge
        else:
            _inflate(decoder, chunk, body, max_bytes)
    if decoder is not None:
        body += decoder.flush()  # bounded: input is consumed up to the cap above
        if len(body) > max_bytes:
            raise _TooLarge
    return bytes(body)


def _failure(status: int, state: FeedState, error: str) -> FetchResult:
    return FetchResult(status, IngestBatch(), state, not_modified=False, error=error)


def _describe(exc: Exception, timeout: float) -> str:
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"timeout after {timeout:g}s"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed: {exc or type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@dataclass(frozen=True)
class _Download:
    status: int
    body: bytes | None  # None: nothing to parse (304 or an error)
    state: FeedState
    error: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # for feedparser


def _split_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """``https://user:pass@host/feed`` -> the URL without them and Basic auth, so they are
    sent as a header and never appear in a request line httpx logs or an error message."""
    plain = without_credentials(url)
    if plain == url:
        return url, None
    parts = urlsplit(url)
    return plain, httpx.BasicAuth(unquote(parts.username or ""), unquote(parts.password or ""))


async def _download(
    client: httpx.AsyncClient, url: str, state: FeedState, max_bytes: int, timeout: float
) -> _Download:
    headers = _conditional_headers(state)
    plain, auth = _split_credentials(url)
    async with client.stream("GET", plain, headers=headers, timeout=timeout, auth=auth) as response:
        status = response.status_code
        if status == 304:
            return _Download(status, None, _new_state(response, state))
        if not 200 <= status < 300:
            return _Download(status, None, state, f"HTTP {status}")
        try:
            body = await _read_capped(response, max_bytes)
        except _TooLarge:
            error = f"feed too large (> cap {format_size(max_bytes)})"
            return _Download(status, None, state, error)
        except _Refused as exc:
            return _Download(status, None, state, str(exc))
        headers = {
            k.lower(): v
            for k, v in response.headers.items()
            if k.lower() not in ("content-encoding", "content-length")
        }  # decoded here
        return _Download(status, body, _new_state(response, state), headers=headers)


async def fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    state: FeedState,
    *,
    max_bytes: int,
    timeout: float = 20.0,
) -> FetchResult:
    """Poll one feed. Never raises for network or content problems: they come back in
    ``error`` (``"HTTP 500"``, ``"timeout after 20s"``, ``"feed too large ..."``,
    ``"not a feed (looks like HTML)"``, ...) with an empty batch and the old ``state``.

    ``timeout`` bounds the whole download (headers and body), not just each read.
    """
    try:
        async with asyncio.timeout(timeout):
            got = await _download(client, url, state, max_bytes, timeout)
    except (TimeoutError, httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        return _failure(0, state, _describe(exc, timeout))
    except Exception as exc:  # a poller must survive anything the network throws at it
        log.exception("unexpected error fetching %s", redact_url(url))
        return _failure(0, state, _describe(exc, timeout))
    if got.error is not None:
        return _failure(got.status, got.state, got.error)
    if got.body is None:
        return FetchResult(got.status, IngestBatch(), got.state, not_modified=True, error=None)
    if not got.body.strip():
        return _failure(got.status, state, "empty response")
    try:  # parsing (feedparser, langdetect) is CPU work: keep it off the event loop
        batch = await asyncio.to_thread(
            parse_document,
            got.body,
            without_credentials(url),
            kind="xml",
            max_bytes=max_bytes,
            headers=got.headers,
        )
    except DocumentError as exc:
        return _failure(got.status, state, str(exc))
    return FetchResult(got.status, batch, got.state, not_modified=False, error=None)
