"""Message catalogs: one flat JSON object per language in ``<package>/locales/<lang>.json``.

Every catalog directory holds the same keys in each language of ``LANGUAGES`` (the tests check
it). Messages are ``str.format`` templates: ``t("id", "alert.more", count=3)``.

* Plurals: a message that depends on a number is written once per plural form of the language,
  as ``KEY_one`` / ``KEY_other`` (``PLURAL_FORMS``: English has both, Indonesian only
  ``other``). ``t(lang, "KEY", count=n)`` picks the form for ``n`` when there is no plain
  ``KEY``. The tests check that each language has exactly its own forms of every plural key.

* An unknown or unsupported language falls back to ``FALLBACK_LANGUAGE`` ("en"); a regional
  tag such as ``"en-US"`` or ``"ID"`` resolves to its primary language first.
* An unknown key raises ``KeyError`` (a missing message is a bug, never silently blank).
* Catalogs are read lazily, once per (language, package), through ``importlib.resources``;
  importing this module does no I/O. The cached mappings are read-only.

The bot's own strings live in ``bot/alerts/locales``; other layers keep their own catalog, e.g.
``Catalog("handlers")`` reads ``handlers/locales/{id,en}.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

LANGUAGES: tuple[str, ...] = ("id", "en")
FALLBACK_LANGUAGE = "en"
LOCALES_DIR = "locales"
PLURAL_FORMS: dict[str, tuple[str, ...]] = {"id": ("other",), "en": ("one", "other")}


def plural_form(lang: str, count: int) -> str:
    """The plural form of ``count`` in ``lang``: ``"one"`` or ``"other"`` (CLDR names)."""
    forms = PLURAL_FORMS[resolve_language(lang)]
    return "one" if "one" in forms and count == 1 else "other"


def counted(count: int, noun: str, plural: str = "") -> str:
    """English count phrases for the command line and logs: ``1 article``, ``2 articles``."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def resolve_language(lang: str | None) -> str:
    """The supported language for ``lang``: ``"id-ID"`` -> ``"id"``, ``"fr"``/``None`` -> en."""
    primary = (lang or "").strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else FALLBACK_LANGUAGE


@lru_cache(maxsize=64)
def load_catalog(lang: str, package: str = "bot.alerts") -> Mapping[str, str]:
    """The messages of ``<package>/locales/<lang>.json`` as a read-only mapping.

    Raises ``FileNotFoundError`` when the file is missing and ``ValueError`` when it is not a
    JSON object of string values.
    """
    resource = resources.files(package).joinpath(LOCALES_DIR, f"{lang}.json")
    name = f"{package}/{LOCALES_DIR}/{lang}.json"
    try:
        data = json.loads(resource.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{name}: expected a JSON object of messages")
    bad = sorted(key for key, value in data.items() if not isinstance(value, str))
    if bad:
        raise ValueError(f"{name}: message {bad[0]!r} is not a string")
    return MappingProxyType(data)


class Catalog:
    """The messages of one package's ``locales`` directory, in every supported language."""

    def __init__(self, package: str) -> None:
        self.package = package

    def __repr__(self) -> str:
        return f"Catalog({self.package!r})"

    def messages(self, lang: str) -> Mapping[str, str]:
        """Every message of ``lang`` (after language fallback), read-only."""
        return load_catalog(resolve_language(lang), self.package)

    def keys(self, lang: str) -> set[str]:
        """The message keys of ``lang`` (after language fallback)."""
        return set(self.messages(lang))

    def t(self, lang: str, key: str, /, **params: object) -> str:
        """The message ``key`` in ``lang``, formatted with ``params``.

        Raises ``KeyError`` for an unknown key or a placeholder missing from ``params``.
        """
        lang = resolve_language(lang)
        messages = self.messages(lang)
        template = messages.get(key)
        count = params.get("count")
        if template is None and isinstance(count, int):
            template = messages.get(f"{key}_{plural_form(lang, count)}")
        if template is None:
            raise KeyError(f"no message {key!r} in {self.package}/{LOCALES_DIR}/{lang}.json")
        try:
            return template.format(**params)
        except (KeyError, IndexError) as exc:
            raise KeyError(f"message {key!r} needs parameter {exc.args[0]!r}") from exc


_BOT = Catalog("bot.alerts")


def t(lang: str, key: str, /, **params: object) -> str:
    """A message from the bot's own catalog (``bot/alerts/locales``); see ``Catalog.t``."""
    return _BOT.t(lang, key, **params)
