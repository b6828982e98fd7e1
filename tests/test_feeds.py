"""bot.ingest.fetch against a real HTTP server on 127.0.0.1 (stdlib, in a thread)."""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from bot.ingest.fetch import USER_AGENT, FeedState, fetch_feed, make_client

FIXTURES = Path(__file__).parent / "fixtures"
RSS = (FIXTURES / "feed_rss.xml").read_bytes()
ATOM = (FIXTURES / "feed_atom.xml").read_bytes()
ETAG = '"rss-v1"'
LAST_MODIFIED = "Tue, 14 May 2024 09:00:00 GMT"
CAP = 1024 * 1024
SLOW_SECONDS = 3.0
EMPTY_FEED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
    b"<title>Sepi</title><link>https://sepi.example.id/</link></channel></rss>"
)


def _gzip_zeros(size: int) -> bytes:
    """A gzip stream of ``size`` zero bytes, compressed piece by piece (~1000:1)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    piece = bytes(1024 * 1024)
    parts = [packer.compress(piece) for _ in range(size // len(piece))]
    return b"".join([*parts, packer.flush()])


BOMB = _gzip_zeros(100 * 1024 * 1024)  # 100 MB decoded
DOUBLE_BOMB = gzip.compress(BOMB)  # a few KB on the wire


@dataclass
class Seen:
    """Request headers the server received, per path."""

    headers: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def last(self, path: str) -> dict[str, str]:
        return self.headers[path][-1]


class FeedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: Seen  # set on the per-server subclass

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.seen.headers.setdefault(path, []).append(dict(self.headers.items()))
        route: Callable[[], None] | None = getattr(self, "route_" + path.strip("/"), None)
        try:
            if route is None:
                self.reply(404, b"not found", "text/plain")
            else:
                route()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on us, as it should for slow/huge bodies

    def reply(self, status: int, body: bytes, ctype: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def route_rss(self) -> None:
        """Full conditional GET support: ETag and Last-Modified."""
        if (
            self.headers.get("If-None-Match") == ETAG
            or self.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            self.send_response(304)
            self.send_header("ETag", ETAG)
            self.end_headers()
            return
        self.reply(200, RSS, "application/rss+xml", ETag=ETAG, Last_Modified=LAST_MODIFIED)

    def route_lastmod(self) -> None:
        """Only Last-Modified: the client must send If-Modified-Since."""
        if self.headers.get("If-Modified-Since") == LAST_MODIFIED:
            self.send_response(304)
            self.end_headers()
            return
        self.reply(200, ATOM, "application/atom+xml", Last_Modified=LAST_MODIFIED)

    def route_atom(self) -> None:
        self.reply(200, ATOM, "text/xml; charset=utf-8")

    def route_error(self) -> None:
        self.reply(500, b"Internal Server Error", "text/plain")

    def route_gone(self) -> None:
        self.reply(404, b"Not Found", "text/plain")

    def route_empty(self) -> None:
        self.reply(200, b"", "application/rss+xml")

    def route_html(self) -> None:
        self.reply(200, (FIXTURES / "page.html").read_bytes(), "text/html; charset=utf-8")

    def route_malformed(self) -> None:
        self.reply(200, (FIXTURES / "malformed.xml").read_bytes(), "application/xml")

    def route_redirect(self) -> None:
        self.send_response(301)
        self.send_header("Location", "/rss")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_slow(self) -> None:
        """Hangs before answering, longer than the client's timeout."""
        time.sleep(SLOW_SECONDS)
        self.reply(200, RSS, "application/rss+xml")

    def route_drip(self) -> None:
        """Answers at once, then drips the body: each read is quick, the whole is slow."""
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(RSS)))
        self.end_headers()
        for i in range(0, len(RSS), 64):
            self.wfile.write(RSS[i : i + 64])
            self.wfile.flush()
            time.sleep(0.05)

    def route_huge(self) -> None:
        """An endless chunked body (no Content-Length): only the client's cap stops it."""
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"<!-- " + b"x" * 65_000 + b" -->\n"
        for _ in range(2000):  # ~130 MB at most, so a broken client still finishes
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def route_gzip(self) -> None:
        self.reply(200, gzip.compress(RSS), "application/rss+xml", Content_Encoding="gzip")

    def route_bomb(self) -> None:
        self.reply(200, BOMB, "application/rss+xml", Content_Encoding="gzip")

    def route_double_bomb(self) -> None:
        self.reply(200, DOUBLE_BOMB, "application/rss+xml", Content_Encoding="gzip, gzip")

    def route_empty_feed(self) -> None:
        self.reply(200, EMPTY_FEED, "application/rss+xml; charset=utf-8")

    def route_plain_feed(self) -> None:
        self.reply(200, EMPTY_FEED, "text/plain")

    def route_declared_huge(self) -> None:
        """Announces a body far over the cap (and never sends it)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(50 * CAP))
        self.end_headers()
        self.wfile.flush()
        time.sleep(SLOW_SECONDS)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Seen]]:
    seen = Seen()
    handler = type("Handler", (FeedHandler,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c


async def test_first_fetch_then_not_modified(
    server: tuple[str, Seen], client: httpx.AsyncClient
) -> None:
    base, seen = server
    first = await fetch_feed(client, f"{base}/rss", FeedState(), max_bytes=CAP)
    assert first.error is None
    assert (first.status, first.not_modified) == (200, False)
    assert first.state == FeedState(etag=ETAG, last_modified=LAST_MODIFIED)
    assert [a.title for a in first.batch.articles] == [
        "Kim Jong Un pantau uji coba rudal jelajah baru",
        "Floods cut off mountain villages",
    ]
    assert first.batch.articles[0].url == (
        "https://warta.example.id/dunia/uji-rudal?utm_source=rss&utm_campaign=feed&page=2"
    )
    assert first.batch.articles[0].origin == f"{base}/rss"
    assert first.batch.articles[0].source == "Warta Contoh"
    assert len(first.batch.rejected) == 1  # the too-short photo entry
    assert "If-None-Match" not in seen.last("/rss")
    assert seen.last("/rss")["User-Agent"] == USER_AGENT

    second = await fetch_feed(client, f"{base}/rss", first.state, max_bytes=CAP)
    assert (second.status, second.not_modified, second.error) == (304, True, None)
    assert second.batch.articles == [] and second.batch.rejected == []
    assert second.state == first.state
    assert seen.last("/rss")["If-None-Match"] == ETAG
    assert seen.last("/rss")["If-Modified-Since"] == LAST_MODIFIED


async def test_last_modified_only(server: tuple[str, Seen], client: httpx.AsyncClient) -> None:
    base, seen = server
    first = await fetch_feed(client, f"{base}/lastmod", FeedState(), max_bytes=CAP)
    assert first.state == FeedState(etag=None, last_modified=LAST_MODIFIED)
    assert len(first.batch.articles) == 2
    second = await fetch_feed(client, f"{base}/lastmod", first.state, max_bytes=CAP)
    assert second.not_modified
    assert second.state == first.state  # kept although the 304 repeated nothing
    assert "If-None-Match" not in seen.last("/lastmod")


async def test_feed_without_validators(server: tuple[str, Seen], client: httpx.AsyncClient) -> None:
    base, _ = server
    result = await fetch_feed(client, f"{base}/atom", FeedState(), max_bytes=CAP)
    assert result.error is None
    assert result.state == FeedState()
    assert [a.source for a in result.batch.articles] == ["Example Newsroom"] * 2


async def test_redirect_is_followed(server: tuple[str, Seen], client: httpx.AsyncClient) -> None:
    base, _ = server
    result = await fetch_feed(client, f"{base}/redirect", FeedState(), max_bytes=CAP)
    assert (result.status, result.error, len(result.batch.articles)) == (200, None, 2)


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [("/error", 500, "HTTP 500"), ("/gone", 404, "HTTP 404"), ("/empty", 200, "empty response")],
)
async def test_http_errors(
    server: tuple[str, Seen], client: httpx.AsyncClient, path: str, status: int, error: str
) -> None:
    base, _ = server
    old = FeedState(etag='"old"')
    result = await fetch_feed(client, f"{base}{path}", old, max_bytes=CAP)
    assert (result.error, result.status, result.not_modified) == (error, status, False)
    assert result.batch.articles == [] and result.batch.rejected == []
    assert result.state == old


async def test_html_is_not_a_feed(server: tuple[str, Seen], client: httpx.AsyncClient) -> None:
    base, _ = server
    result = await fetch_feed(client, f"{base}/html", FeedState(), max_bytes=CAP)
    assert result.error == "not a feed (looks like HTML)"
    assert result.batch.articles == [] and result.batch.rejected == []


async def test_malformed_feed(server: tuple[str, Seen], client: httpx.AsyncClient) -> None:
    base, _ = server
    result = await fetch_feed(client, f"{base}/malformed", FeedState(), max_bytes=CAP)
    assert result.error is not None and result.error.startswith("malformed XML: ")
    assert result.batch.articles == []


async def test_slow_server_times_out(server: tuple[str, Seen], client: httpx.AsyncClient) -> None:
    base, _ = server
    started = time.monotonic()
    result = await fetch_feed(client, f"{base}/slow", FeedState(), max_bytes=CAP, timeout=0.3)
    assert time.monotonic() - started < SLOW_SECONDS - 1
    assert result.error == "timeout after 0.3s"
    assert (result.status, result.batch.articles) == (0, [])


async def test_dripping_body_hits_the_total_timeout(
    server: tuple[str, Seen], client: httpx.AsyncClient
) -> None:
    base, _ = server
    started = time.monotonic()
    result = await fetch_feed(client, f"{base}/drip", FeedState(), max_bytes=CAP, timeout=0.5)
    assert time.monotonic() - started < 2.0
    assert result.error == "timeout after 0.5s"


async def test_huge_body_is_cut_off(server: tuple[str, Seen], client: httpx.AsyncClient) -> None:
    base, _ = server
    started = time.monotonic()
    result = await fetch_feed(client, f"{base}/huge", FeedState(), max_bytes=200_000)
    assert time.monotonic() - started < 5.0
    assert result.error == "feed too large (> cap 200 kB)"
    assert (result.status, result.batch.articles) == (200, [])


async def test_declared_huge_body_is_refused_at_once(
    server: tuple[str, Seen], client: httpx.AsyncClient
) -> None:
    base, _ = server
    started = time.monotonic()
    result = await fetch_feed(client, f"{base}/declared_huge", FeedState(), max_bytes=CAP)
    assert time.monotonic() - started < SLOW_SECONDS - 1
    assert result.error == "feed too large (> cap 1 MB)"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused(client: httpx.AsyncClient) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/feed"
    result = await fetch_feed(client, url, FeedState(), max_bytes=CAP, timeout=2)
    assert result.error is not None and result.error.startswith("connection failed")
    assert (result.status, result.not_modified) == (0, False)


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/feed", "http://"])
async def test_bad_urls_come_back_as_errors(client: httpx.AsyncClient, url: str) -> None:
    result = await fetch_feed(client, url, FeedState(), max_bytes=CAP, timeout=2)
    assert result.error
    assert result.batch.articles == []


async def test_many_feeds_concurrently(server: tuple[str, Seen], client: httpx.AsyncClient) -> None:
    base, _ = server
    paths = ["/rss", "/atom", "/error", "/html", "/slow"]
    results = await asyncio.gather(
        *(fetch_feed(client, base + p, FeedState(), max_bytes=CAP, timeout=1) for p in paths)
    )
    assert [r.error for r in results] == [
        None,
        None,
        "HTTP 500",
        "not a feed (looks like HTML)",
        "timeout after 1s",
    ]


async def test_make_client_settings() -> None:
    async with make_client() as client:
        assert client.headers["User-Agent"] == "Kabar/0.1 (+keyword news alerts)"
        assert client.follow_redirects is True
        assert client.timeout.connect is not None and client.timeout.read is not None


async def test_gzip_feed_is_decoded(server: tuple[str, Seen], client: httpx.AsyncClient) -> None:
    base, seen = server
    result = await fetch_feed(client, f"{base}/gzip", FeedState(), max_bytes=CAP)
    assert (result.error, len(result.batch.articles)) == (None, 2)
    assert seen.last("/gzip")["Accept-Encoding"] == "gzip, deflate"


async def test_gzip_bomb_is_cut_off_at_the_decoded_cap(
    server: tuple[str, Seen], client: httpx.AsyncClient
) -> None:
    base, _ = server
    assert len(BOMB) < CAP  # it passes a cap on the wire bytes
    tracemalloc.start()
    try:
        result = await fetch_feed(client, f"{base}/bomb", FeedState(), max_bytes=CAP)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error == "feed too large (> cap 1 MB)"
    assert (result.status, result.batch.articles) == (200, [])
    assert peak < 4 * CAP  # decoded bytes held never pass the cap (100 MB before)


async def test_stacked_encodings_are_refused(
    server: tuple[str, Seen], client: httpx.AsyncClient
) -> None:
    base, _ = server
    tracemalloc.start()
    try:
        result = await fetch_feed(client, f"{base}/double_bomb", FeedState(), max_bytes=CAP)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error == "refused: stacked Content-Encoding 'gzip, gzip'"
    assert result.batch.articles == []
    assert peak < 4 * CAP


@pytest.mark.parametrize("path", ["/empty_feed", "/plain_feed"])
async def test_valid_feed_without_items_is_a_success(
    server: tuple[str, Seen], client: httpx.AsyncClient, path: str, caplog
) -> None:
    base, _ = server
    result = await fetch_feed(client, base + path, FeedState(), max_bytes=CAP)
    assert (result.status, result.error) == (200, None)
    assert result.batch.articles == [] and result.batch.rejected == []


async def test_fetched_feed_is_not_flagged_not_well_formed(
    server: tuple[str, Seen], client: httpx.AsyncClient, caplog
) -> None:
    base, _ = server
    with caplog.at_level(logging.WARNING):
        result = await fetch_feed(client, f"{base}/rss", FeedState(), max_bytes=CAP)
    assert result.error is None and len(result.batch.articles) == 2
    assert "not well-formed" not in caplog.text


async def test_feed_credentials_stay_out_of_articles_and_logs(
    server: tuple[str, Seen], client: httpx.AsyncClient
) -> None:
    base, seen = server
    url = base.replace("http://", "http://reader:s3cret@") + "/rss"
    result = await fetch_feed(client, url, FeedState(), max_bytes=CAP)
    assert result.error is None
    assert seen.last("/rss")["Authorization"] == "Basic cmVhZGVyOnMzY3JldA=="  # still sent
    assert all("s3cret" not in a.origin + a.url for a in result.batch.articles)
