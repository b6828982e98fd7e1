"""OPML 1.0 / 2.0 feed lists: read the ones other readers export, write one that reads back.

Reading takes every ``<outline>`` with an ``xmlUrl``, at any depth (folders are nested
outlines), its name from ``title`` else ``text``. The stdlib parser is used on a document
with no DTD: a ``<!DOCTYPE`` or ``<!ENTITY`` is refused outright, so no entity expansion
(billion laughs) and no external entity can happen.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

MAX_OPML_BYTES = 20_000_000


class OpmlError(ValueError):
    """The file is not OPML that can be read; ``str(exc)`` is the one-line reason."""


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    name: str


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Every feed outline, in document order (an outline without ``xmlUrl`` is a folder)."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"file too large (over {MAX_OPML_BYTES} bytes)")
    head = data.upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise OpmlError("OPML with a DTD or entity declarations is refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise OpmlError(f"malformed XML: {exc}") from None
    if root.tag.lower() != "opml":
        raise OpmlError(f"not OPML (the root element is <{root.tag}>)")
    body = next((child for child in root if child.tag.lower() == "body"), None)
    if body is None:
        raise OpmlError("not OPML (no <body>)")
    feeds = []
    for outline in body.iter():
        if outline.tag.lower() != "outline":
            continue
        attrs = {k.lower(): v for k, v in outline.attrib.items()}
        url = attrs.get("xmlurl", "").strip()
        if url or "xmlurl" in attrs:
            name = " ".join((attrs.get("title") or attrs.get("text") or "").split())
            feeds.append(OpmlFeed(url, "" if name == url else name))
    return feeds


def write_opml(feeds: Iterable[OpmlFeed], title: str = "Kabar feeds") -> bytes:
    """An OPML 2.0 document with one ``rss`` outline per feed."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attrs = {"type": "rss", "text": feed.name or feed.url}
        if feed.name:
            attrs["title"] = feed.name
        ET.SubElement(body, "outline", attrs, xmlUrl=feed.url)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
