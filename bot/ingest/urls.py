"""Pure URL helpers: a canonical form of article links for dedup and display."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "igshid",
        "_ga",
        "spm",
        "xtor",
        "msclkid",
        "ocid",
    }
)
TRACKING_PREFIXES = ("utm_",)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _netloc(scheme: str, url: str) -> str:
    """Lower-cased host with any non-default port; raises ValueError when unusable."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    if not host or any(ch.isspace() for ch in host):
        raise ValueError("no host")
    port = parts.port  # ValueError on a non-numeric or out-of-range port
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    if parts.username is not None or parts.password is not None:
        userinfo = parts.netloc.rpartition("@")[0]
        host = f"{userinfo}@{host}"
    return host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"


def canonical_url(url: str) -> str:
    """Canonical http(s) URL: lower-case scheme/host, no fragment, default port or tracking
    parameters, remaining query sorted, no trailing slash (root stays ``/``).

    Returns ``""`` for empty, invalid or non-http(s) input. Idempotent.
    """
    url = (url or "").strip()
    if not url or not url.isprintable():  # control chars, lone surrogates, odd spaces
        return ""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            return ""
        netloc = _netloc(scheme, url)
    except ValueError:
        return ""
    path = parts.path.rstrip("/") or "/"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    )
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def without_credentials(url: str, replacement: str = "") -> str:
    """``url`` with any ``user:password@`` removed (or replaced by ``replacement + "@"``); any
    other text unchanged. For every log line, error line and base URL built from a feed URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{replacement}@{host}" if replacement else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact_url(url: str) -> str:
    """``https://user:pass@host/feed`` -> ``https://***@host/feed`` (for logs and errors)."""
    return without_credentials(url, "***")
