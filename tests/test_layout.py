"""The folder tree is the flow: imports point one way (entry points -> platform adapters ->
app -> core stages -> store), and each outside library stays in the one place that owns it.
Every import counts, including those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "store")

ENTRY = ("bot.cli", "bot.__main__", "bot.demo", "bot.platforms", "bot.progress")
CORE = ("bot.ingest", "bot.matching", "bot.alerts", "bot.delivery", "bot.config", "bot.stories")
# layer -> the layers it may import (its own included)
LAYERS = {
    "entry": {"entry", "handlers", "app", "core", "store"},
    "handlers": {"handlers", "app", "core", "store"},
    "app": {"app", "core", "store"},
    "core": {"core", "store"},
    "store": {"store"},
}
# an outside library -> the only modules that may import it
OWNERS = {
    "telegram": ("handlers.telegram",),
    "slack_bolt": ("handlers.slack",),
    "slack_sdk": ("handlers.slack",),
    "sqlite3": ("store",),
    "sqlite_utils": ("store",),
    "prometheus_client": ("bot.app.metrics",),
    "matplotlib": ("handlers.telegram.chart",),
    "aiohttp": ("bot.app.http", "handlers.slack"),
    "rich": ("bot.progress",),
}


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def layer(module: str) -> str | None:
    if _within(module, ENTRY):
        return "entry"
    if _within(module, ("handlers",)):
        return "handlers"
    if _within(module, ("bot.app",)):
        return "app"
    if _within(module, CORE):
        return "core"
    if _within(module, ("store",)):
        return "store"
    return None


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


MODULES = modules()


def test_every_module_has_a_layer() -> None:
    assert [name for name in MODULES if name != "bot" and layer(name) is None] == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_one_way(name: str) -> None:
    own = layer(name)
    if own is None:
        return  # the bare `bot` package
    wrong = sorted(
        f"{target} ({layer(target)})"
        for target in imports(MODULES[name])
        if target in MODULES and layer(target) and layer(target) not in LAYERS[own]
    )
    assert wrong == [], f"{name} ({own}) imports upward"


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_library_is_imported_only_by_its_owner(library: str) -> None:
    users = sorted(
        name
        for name, path in MODULES.items()
        if any(t == library or t.startswith(library + ".") for t in imports(path))
    )
    assert [name for name in users if not _within(name, OWNERS[library])] == []
    assert users, f"nothing imports {library}: the rule is stale"


def test_the_store_imports_nothing_of_the_rest() -> None:
    for name, path in MODULES.items():
        if layer(name) == "store":
            assert {t for t in imports(path) if t.split(".")[0] in ("bot", "handlers")} == set()


def test_the_records_import_nothing_of_ours() -> None:
    assert {t for t in imports(MODULES["store.models"]) if t.split(".")[0] in PACKAGES} == set()
