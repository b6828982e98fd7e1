"""Message catalogs: bot.alerts.i18n and every ``<package>/locales`` directory in the repo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.alerts.i18n import (
    LANGUAGES,
    PLURAL_FORMS,
    Catalog,
    load_catalog,
    plural_form,
    resolve_language,
    t,
)
from tests.support import placeholders, plural_key

ROOT = Path(__file__).resolve().parent.parent


def _folder(package: str) -> Path:
    return ROOT.joinpath(*package.split("."))


CATALOG_PACKAGES = [
    name for name in ("bot.alerts", "handlers") if (_folder(name) / "locales").is_dir()
]  # handlers/locales is checked as soon as it exists


def _raw(package: str, lang: str) -> dict[str, str]:
    path = _folder(package) / "locales" / f"{lang}.json"
    return json.loads(path.read_text(encoding="utf-8"))


# --- every catalog in the repo ----------------------------------------------------------------


@pytest.mark.parametrize("package", CATALOG_PACKAGES)
def test_catalog_has_a_file_per_language_and_nothing_else(package: str) -> None:
    files = {path.stem for path in (_folder(package) / "locales").glob("*.json")}
    assert files == set(LANGUAGES)


def _grouped(package: str, lang: str) -> dict[str, dict[str, str]]:
    """Messages by base key: ``{"list.some": {"one": ..., "other": ...}, "x": {"": ...}}``."""
    groups: dict[str, dict[str, str]] = {}
    for key, value in _raw(package, lang).items():
        base, form = plural_key(key)
        groups.setdefault(base, {})[form] = value
    return groups


@pytest.mark.parametrize("package", CATALOG_PACKAGES)
def test_catalog_key_sets_match_across_languages(package: str) -> None:
    keys = {lang: set(_grouped(package, lang)) for lang in LANGUAGES}
    reference = keys[LANGUAGES[0]]
    for lang, found in keys.items():
        assert found == reference, (
            f"{package}/locales/{lang}.json: missing {sorted(reference - found)}, "
            f"extra {sorted(found - reference)}"
        )


@pytest.mark.parametrize("package", CATALOG_PACKAGES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_keys_have_exactly_the_languages_forms(package: str, lang: str) -> None:
    for base, forms in _grouped(package, lang).items():
        if "" not in forms:
            assert tuple(sorted(forms)) == tuple(sorted(PLURAL_FORMS[lang])), (package, base)
            assert all("{count" in text for text in forms.values()), (package, base)


@pytest.mark.parametrize("package", CATALOG_PACKAGES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_values_are_non_empty_strings(package: str, lang: str) -> None:
    for key, value in _raw(package, lang).items():
        assert isinstance(value, str), f"{package}/{lang}: {key}"
        assert value.strip(), f"{package}/locales/{lang}.json: {key} is empty"


@pytest.mark.parametrize("package", CATALOG_PACKAGES)
def test_catalog_placeholders_match_across_languages(package: str) -> None:
    catalogs = {lang: _grouped(package, lang) for lang in LANGUAGES}
    for key in catalogs[LANGUAGES[0]]:
        fields = {
            f"{lang}:{form}": frozenset(placeholders(text))
            for lang, catalog in catalogs.items()
            for form, text in catalog[key].items()
        }
        assert len(set(fields.values())) == 1, f"{package}: {key}: {fields}"


@pytest.mark.parametrize("package", CATALOG_PACKAGES)
def test_catalog_loads_through_the_package(package: str) -> None:
    catalog = Catalog(package)
    for lang in LANGUAGES:
        assert catalog.keys(lang) == set(_raw(package, lang))


def test_bot_catalog_has_the_alert_keys() -> None:
    needed = {"alert.keywords", "alert.source", "alert.published", "alert.read_more"}
    needed |= {"alert.no_title", "alert.datetime"} | {f"month.short.{m}" for m in range(1, 13)}
    assert needed <= Catalog("bot.alerts").keys("id")


# --- t() and language fallback -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "Kata kunci:"),
        ("en", "Keywords:"),
        ("ID", "Kata kunci:"),
        ("id-ID", "Kata kunci:"),
        ("en_US", "Keywords:"),
        ("fr", "Keywords:"),  # unknown language -> en
        ("", "Keywords:"),
        ("other", "Keywords:"),
    ],
)
def test_t_resolves_language_with_english_fallback(lang: str, expected: str) -> None:
    assert t(lang, "alert.keywords") == expected


@pytest.mark.parametrize(("lang", "expected"), [("id", "id"), ("EN-gb", "en"), (None, "en")])
def test_resolve_language(lang: str | None, expected: str) -> None:
    assert resolve_language(lang) == expected


def test_t_formats_parameters() -> None:
    params = {"day": 5, "month": "Mei", "year": 2024, "time": "09:30", "zone": "WITA"}
    assert t("id", "alert.datetime", **params) == "5 Mei 2024 09:30 WITA"
    assert t("en", "alert.datetime", **{**params, "month": "May"}) == "5 May 2024, 09:30 WITA"


@pytest.mark.parametrize("lang", ["id", "en", "fr"])
def test_t_unknown_key_raises_key_error(lang: str) -> None:
    with pytest.raises(KeyError, match=r"no\.such\.key"):
        t(lang, "no.such.key")


def test_t_missing_parameter_raises_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="zone"):
        t("en", "alert.datetime", day=1, month="Jan", year=2024, time="00:00")


def test_load_catalog_is_cached_and_read_only() -> None:
    first = load_catalog("id")
    assert load_catalog("id") is first
    with pytest.raises(TypeError):
        first["alert.keywords"] = "x"  # type: ignore[index]
    assert first["alert.keywords"] == "Kata kunci:"


def test_importing_does_no_catalog_io() -> None:
    code = (
        "import bot.alerts.alert, bot.alerts.i18n;"
        " print(bot.alerts.i18n.load_catalog.cache_info().currsize)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "0"


# --- Catalog for another package -----------------------------------------------------------------


def _make_package(tmp_path: Path, name: str, catalogs: dict[str, object]) -> None:
    locales = tmp_path / name / "locales"
    locales.mkdir(parents=True)
    (tmp_path / name / "__init__.py").write_text("")
    for lang, content in catalogs.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (locales / f"{lang}.json").write_text(text, encoding="utf-8")


def test_catalog_reads_another_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _make_package(
        tmp_path,
        "kabar_fake_replies",
        {"id": {"reply.ok": "Oke, {name}."}, "en": {"reply.ok": "OK, {name}."}},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    replies = Catalog("kabar_fake_replies")
    assert replies.t("id", "reply.ok", name="Sari") == "Oke, Sari."
    assert replies.t("de", "reply.ok", name="Sari") == "OK, Sari."
    assert replies.keys("id") == {"reply.ok"}
    with pytest.raises(KeyError):
        replies.t("id", "reply.missing")


@pytest.mark.parametrize(
    ("content", "error"),
    [("[1, 2]", "JSON object"), ('{"a": 1}', "not a string"), ("{oops", "invalid JSON")],
)
def test_catalog_rejects_a_malformed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, error: str
) -> None:
    name = f"kabar_bad_{abs(hash(content))}"
    _make_package(tmp_path, name, {"id": content, "en": content})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match=error):
        Catalog(name).t("id", "a")


def test_placeholders() -> None:
    assert placeholders("{n} dari {total:d} {x.y} {{literal}}") == {"n", "total", "x"}
    assert placeholders("tanpa parameter") == set()


def test_plural_forms_are_chosen_by_count() -> None:
    assert [plural_form("en", n) for n in (0, 1, 2, 21)] == ["other", "one", "other", "other"]
    assert {plural_form("id", n) for n in (0, 1, 2)} == {"other"}
    assert plural_key("list.some_one") == ("list.some", "one")
    assert plural_key("list.none_follow_all") == ("list.none_follow_all", "")
    catalog = Catalog("handlers")
    one = catalog.t("en", "list.some", count=1, keywords="Kim")
    assert one == "This chat is subscribed to 1 keyword: Kim."
    assert catalog.t("en", "list.some", count=2, keywords="Kim, rudal").startswith(
        "This chat is subscribed to 2 keywords:"
    )
    assert catalog.t("id", "list.some", count=1, keywords="Kim") == (
        "Chat ini berlangganan 1 kata kunci: Kim."
    )
    with pytest.raises(KeyError):
        catalog.t("en", "list.some", keywords="Kim")  # a plural message needs its count


def test_demo_status_lines_follow_the_chat_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scripted demo (default language id, `/lang en` halfway): its own lines were
    English whatever the language."""
    import io

    from bot.demo import run_demo

    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert run_demo(None, io.StringIO(""), out, interactive_mode=False) == 0
    before, _, after = out.getvalue().partition("> /lang en")
    assert before.startswith("Demo Kabar — peringatan berita berdasarkan kata kunci")
    assert "— kabar masuk: 01_" in before and "1 baru, 0 duplikat, 0 ditolak" in before
    assert "(tidak ada kata kunci yang cocok" in before
    for english in ("wire:", "no keyword matched", "Done.", "Keywords /"):
        assert english not in before
    assert "— wire: 03_articles.json: new 2, duplicate 0, rejected 0" in after
    assert after.rstrip().endswith("and run `kabar run`.")
