"""Which feed URLs Kabar may fetch: http/https only, and (unless ``ingest.allow_private_hosts``)
never a host that resolves to a private, loopback, link-local, multicast or otherwise
non-public address, checked again for every redirect (an admin's ``addfeed`` must not become a
way to read the bot's own network).

The check runs as an httpx request hook, so it sees the first request and every redirect
httpx follows (their number is capped by the client's ``max_redirects``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx

SCHEMES = ("http", "https")


class RefusedHost(httpx.RequestError):
    """A request to an address that is not allowed; ``str(exc)`` is the one-line reason."""


# url_problem() codes -> the CLI's line (chats use the catalog key ``feed.invalid.<code>``)
URL_PROBLEMS = {
    "malformed": "not a valid URL",
    "scheme": "only http and https URLs are allowed",
    "no_host": "the URL has no host",
}


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a feed URL at all, as a ``URL_PROBLEMS`` code (None when it can)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "malformed"
    if parts.scheme.lower() not in SCHEMES:
        return "scheme"
    if not parts.hostname:
        return "no_host"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "malformed"
    return None


def refused_address(address: str) -> bool:
    """True for an address a public feed cannot be on (private, loopback, link-local,
    multicast, reserved, unspecified; IPv4-mapped IPv6 judged as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal: itself)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def check_host(url: httpx.URL, refuse: Callable[[str], bool] = refused_address) -> None:
    """Raise ``RefusedHost`` when ``url`` is not http(s) or its host resolves to an address
    ``refuse`` refuses (or does not resolve)."""
    request = httpx.Request("GET", url)
    if url.scheme not in SCHEMES:
        raise RefusedHost(f"refused address: {url.scheme} URLs are not allowed", request=request)
    host = url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        addresses = await resolve(host, port)
    except OSError as exc:
        raise RefusedHost(
            f"cannot resolve host {host}: {exc.strerror or exc}", request=request
        ) from None
    bad = [a for a in addresses if refuse(a)]
    if bad or not addresses:
        where = host if bad == [host] else f"{host} ({', '.join(bad) or 'no address'})"
        raise RefusedHost(
            f"refused address: {where} is private or local"
            " (ingest.allow_private_hosts = true allows it)",
            request=request,
        )


def host_guard(
    refuse: Callable[[str], bool] = refused_address,
) -> Callable[[httpx.Request], Awaitable[None]]:
    """An httpx ``request`` event hook that refuses requests (and redirects) to hosts on
    non-public addresses (``refuse``: which addresses; the default is the rule above)."""

    async def guard(request: httpx.Request) -> None:
        await check_host(request.url, refuse)

    return guard
