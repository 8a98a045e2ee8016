"""The web client's message catalogs (web/src/i18n/*.json): the same keys in every
locale, the plural forms each language needs, a human message for every error code the
API documents, every key the pages use, and Portugal's Portuguese."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel import Locale

from infra.local.stack import load

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "web" / "src" / "i18n"
LOCALES = ("en", "uk", "ru", "pl", "pt")
CATALOGS = {code: json.loads((I18N / f"{code}.json").read_text()) for code in LOCALES}
SNAKE = re.compile(r"[a-z]+(?:_[a-z]+)*")


def documented_error_codes() -> set[str]:
    """Every error code docs/openapi.json, ../shared/API.md and the template's gateway
    responses name. An OpenAPI error answer lists its codes as its examples' names."""
    codes: set[str] = set()
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith(("4", "5")):
                    media = response.get("content", {}).get("application/json", {})
                    codes |= set(media.get("examples", {}))
    api_md = ROOT.parent / "shared" / "API.md"
    if api_md.exists():
        codes |= set(re.findall(r"`[45]\d\d ([a-z_]+)`", api_md.read_text()))
        codes |= set(re.findall(r'"code": "([a-z_]+)"', api_md.read_text()))
    # And what the code can answer although no description names it yet.
    package = ROOT / "layers" / "clientarea" / "clientarea"
    codes |= set(re.findall(r'^    code = "([a-z_]+)"', (package / "errors.py").read_text(), re.M))
    codes.discard("error")  # the base class's placeholder, never answered
    for response in load().gateway_responses().values():
        body = response.get("ResponseTemplates", {}).get("application/json", "")
        codes |= set(re.findall(r'"code": "([a-z_]+)"', body))
    return codes


def test_every_locale_has_every_key() -> None:
    keys = set(CATALOGS["en"])
    for code, catalog in CATALOGS.items():
        assert set(catalog) == keys, (code, sorted(keys ^ set(catalog)))


@pytest.mark.parametrize("code", LOCALES)
def test_plural_messages_have_the_forms_the_language_needs(code: str) -> None:
    needed = set(Locale.parse(code).plural_form.tags) | {"other"}
    for key, value in CATALOGS[code].items():
        if isinstance(value, dict):
            assert needed <= set(value), (code, key, sorted(needed - set(value)))
            assert all("{count}" in text for text in value.values()), (code, key)
        else:
            assert isinstance(value, str) and value.strip(), (code, key)


@pytest.mark.parametrize("code", LOCALES)
def test_placeholders_agree_with_english(code: str) -> None:
    def names(value: object) -> set[str]:
        texts = value.values() if isinstance(value, dict) else [value]
        return {name for text in texts for name in re.findall(r"\{(\w+)\}", str(text))}

    for key, english in CATALOGS["en"].items():
        assert names(CATALOGS[code][key]) == names(english), (code, key)


def test_every_documented_error_code_has_a_message_in_every_locale() -> None:
    codes = documented_error_codes()
    # The parse finds the codes (a guard against a parser that finds nothing).
    assert {"token_invalid", "weak_password", "rate_limited", "unauthorized", "forbidden"} <= codes
    for code, catalog in CATALOGS.items():
        missing = sorted(c for c in codes if f"error.{c}" not in catalog)
        assert not missing, (code, missing)


def test_every_reason_of_a_weak_password_has_a_message() -> None:
    source = (ROOT / "layers" / "clientarea" / "clientarea" / "passwords.py").read_text()
    reasons = set(re.findall(r'WeakPassword\("([a-z_]+)"\)', source))
    assert reasons >= {"too_short", "common"}
    for code, catalog in CATALOGS.items():
        assert {f"password.weak.{r}" for r in reasons} <= set(catalog), code


def test_every_key_the_pages_use_exists() -> None:
    used: set[str] = set()
    for source in (ROOT / "web" / "src").rglob("*.ts*"):
        if source.name.endswith((".test.ts", ".test.tsx")):
            continue  # the unit tests ask for a missing key on purpose
        used |= set(re.findall(r'\bt\("([a-z_.0-9]+)"', source.read_text()))
        used |= set(re.findall(r'"(account\.tab\.[a-z_]+)"', source.read_text()))
    missing = sorted(used - set(CATALOGS["en"]))
    assert not missing, missing


def test_portuguese_is_portugals() -> None:
    text = json.dumps(CATALOGS["pt"], ensure_ascii=False).lower()
    for brazilian in ("senha", "usuário", "arquivo", "cadastr", "tela "):
        assert brazilian not in text, brazilian
    assert CATALOGS["pt"]["app.name"] == "Área de Cliente"
    assert CATALOGS["uk"]["app.name"] == "Особистий кабінет"
    assert CATALOGS["ru"]["app.name"] == "Личный кабинет"
    assert CATALOGS["pl"]["app.name"] == "Panel Klienta"
