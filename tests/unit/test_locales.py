"""clientarea.locales: negotiation, message catalogues and their consistency."""

from __future__ import annotations

import string
import tomllib
from pathlib import Path

import pytest
from clientarea import errors, locales
from clientarea.locales import (
    DEFAULT,
    SUPPORTED,
    is_supported,
    message,
    negotiate,
    weak_password_reason,
)

CATALOGUES = Path(locales.__file__).resolve().parent / "locales"

# Codes the web layer answers itself, without a domain error class.
WEB_ERROR_CODES = {
    "validation_error",
    "payload_too_large",
    "unsupported_media_type",
    "method_not_allowed",
    "internal_error",
    "idempotency_key_reused",
}


def _domain_error_codes(cls: type[errors.DomainError] = errors.DomainError) -> set[str]:
    codes: set[str] = set()
    for subclass in cls.__subclasses__():
        codes |= {subclass.code} | _domain_error_codes(subclass)
        if subclass.message_key:
            codes.add(subclass.message_key)
    return codes


# Every code the API can answer: a catalogue entry missing or left over fails.
ERROR_CODES = _domain_error_codes() | WEB_ERROR_CODES
REASONS = {"too_short", "too_long", "common", "contains_login", "contains_email"}


def _load(locale: str) -> dict:
    return tomllib.loads((CATALOGUES / f"{locale}.toml").read_text("utf-8"))


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_constants() -> None:
    assert SUPPORTED == ("en", "uk", "ru", "pl", "pt")
    assert DEFAULT == "en"


def test_one_catalogue_per_supported_locale() -> None:
    assert {p.stem for p in CATALOGUES.glob("*.toml")} == set(SUPPORTED)


def test_english_catalogue_has_every_error_code_and_reason() -> None:
    en = _load("en")
    assert set(en) == {"errors", "weak_password_reasons"}
    assert set(en["errors"]) == ERROR_CODES
    assert set(en["weak_password_reasons"]) == REASONS


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_catalogue_has_exactly_the_english_keys(locale: str) -> None:
    en, other = _load("en"), _load(locale)
    assert set(other) == set(en)
    for table in en:
        assert set(other[table]) == set(en[table]), table
        for key, text in other[table].items():
            assert isinstance(text, str) and text.strip(), (table, key)
            # Same placeholders as English, so every caller's params fit every locale.
            assert _placeholders(text) == _placeholders(en[table][key]), (table, key)


@pytest.mark.parametrize("locale", [loc for loc in SUPPORTED if loc != "en"])
def test_catalogues_are_actually_translated(locale: str) -> None:
    en, other = _load("en"), _load(locale)
    same = [key for key in en["errors"] if other["errors"][key] == en["errors"][key]]
    assert same == []


@pytest.mark.parametrize("locale", SUPPORTED)
def test_reasons_mention_the_limits(locale: str) -> None:
    assert "15" in weak_password_reason("too_short", locale)
    assert "128" in weak_password_reason("too_long", locale)


@pytest.mark.parametrize(
    ("account", "header", "expected"),
    [
        ("uk", "pl", "uk"),
        ("pt", None, "pt"),
        ("UK", None, "uk"),
        ("uk-UA", None, "uk"),
        ("de", "ru", "ru"),
        (None, "pl", "pl"),
        (None, "uk-UA,uk;q=0.9,en-US;q=0.8,en;q=0.7", "uk"),
        (None, "pt-BR", "pt"),
        (None, "de-DE,de;q=0.9,pl;q=0.8,en;q=0.7", "pl"),
        (None, "en;q=0.5, ru;q=0.8", "ru"),
        (None, "fr, *;q=0.5", "en"),
        (None, "*", "en"),
        (None, "ru;q=0, pl;q=0.1", "pl"),
        (None, "pl;q=0.5, ru;q=0.5", "pl"),
        (None, "de", "en"),
        (None, "", "en"),
        (None, None, "en"),
        ("", "", "en"),
        (None, "ru;q=abc, pl", "pl"),
        (None, "ru;q=2", "en"),
        (None, ";;;,,,===", "en"),
        (None, "uk UA, <script>", "en"),
        (None, "zh-Hant-TW;q=0.9, pt-PT;q=0.8", "pt"),
        (None, "uk_UA", "uk"),
    ],
)
def test_negotiate(account: str | None, header: str | None, expected: str) -> None:
    assert negotiate(account, header) == expected


def test_negotiate_considers_only_the_first_20_entries() -> None:
    header = ",".join(["de"] * 20 + ["uk"])
    assert negotiate(None, header) == "en"
    header = ",".join(["de"] * 19 + ["uk"])
    assert negotiate(None, header) == "uk"


def test_negotiate_survives_a_huge_header() -> None:
    assert negotiate(None, "x" * 100_000 + ",uk") == "en"
    assert negotiate(None, "," * 100_000) == "en"


def test_negotiate_ignores_non_string_inputs() -> None:
    assert negotiate(42, ["uk"]) == "en"  # type: ignore[arg-type]


def test_is_supported() -> None:
    for locale in SUPPORTED:
        assert is_supported(locale)
    for value in ("de", "EN", "uk-UA", "", None, 1, ["en"]):
        assert not is_supported(value)


@pytest.mark.parametrize("locale", SUPPORTED)
@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_message_for_every_code_and_locale(code: str, locale: str) -> None:
    text = message(code, locale, retry_after=30, reason="common", limit=20)
    assert text and text != code
    assert "{" not in text and "}" not in text


def test_message_is_localised() -> None:
    assert message("invalid_credentials", "en") == "The login or password is incorrect."
    assert message("invalid_credentials", "uk").startswith("Неправильний логін")
    assert message("invalid_credentials", "ru") == "Неверный логин или пароль."
    assert message("invalid_credentials", "pl") == "Nieprawidłowy login lub hasło."
    assert "palavra-passe" in message("invalid_credentials", "pt")


def test_message_unknown_locale_falls_back_to_english() -> None:
    assert message("not_found", "de") == message("not_found", "en") == "Not found."
    assert message("not_found", "../../etc/passwd") == "Not found."


def test_message_unknown_code_falls_back_to_the_code() -> None:
    assert message("no_such_code", "uk") == "no_such_code"


def test_rate_limited_embeds_retry_after() -> None:
    assert "17" in message("rate_limited", "en", retry_after=17)
    assert "17" in message("rate_limited", "pl", retry_after=17)


def test_missing_params_are_harmless() -> None:
    text = message("rate_limited", "en")
    assert text.startswith("Too many requests.")
    assert message("not_found", "en", unexpected="x") == "Not found."


def test_param_values_are_not_interpreted_as_format_strings() -> None:
    text = message("rate_limited", "en", retry_after="{0.__class__}")
    assert "{0.__class__}" in text


def test_weak_password_message_embeds_localised_reason() -> None:
    en = message("weak_password", "en", reason="too_short")
    assert en == "This password cannot be used: it must be at least 15 characters long."
    uk = message("weak_password", "uk", reason="contains_login")
    assert weak_password_reason("contains_login", "uk") in uk
    assert "логін" in uk


def test_weak_password_reason_fallbacks() -> None:
    assert weak_password_reason("common", "de") == weak_password_reason("common", "en")
    assert weak_password_reason("brand_new_reason", "pl") == "brand_new_reason"


@pytest.mark.parametrize("locale", sorted(SUPPORTED))
def test_a_rate_limit_message_says_how_long_to_wait(locale: str) -> None:
    # GIVEN a throttled request that may be retried in 37 seconds
    limited = errors.RateLimited(37)
    # WHEN its message is written from the error's own parameters
    text = locales.message(limited.code, locale, **limited.params)
    # THEN it names the wait (also given as Retry-After)
    assert limited.retry_after == 37
    assert "37" in text
