"""clientarea.locales: negotiation and the error messages (their catalogs: test_catalogs.py)."""

from __future__ import annotations

import pytest
from clientarea import errors, i18n, locales
from clientarea.locales import (
    DEFAULT,
    SUPPORTED,
    is_supported,
    message,
    negotiate,
    weak_password_reason,
)

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


# Every code the API can answer: a message missing or left over fails.
ERROR_CODES = _domain_error_codes() | WEB_ERROR_CODES
REASONS = {"too_short", "too_long", "common", "contains_login", "contains_email"}


def test_constants() -> None:
    # English, then one language per catalog (the contract's five).
    assert SUPPORTED[0] == DEFAULT == "en"
    assert set(SUPPORTED) == {"en", "uk", "ru", "pl", "pt"}
    assert SUPPORTED == i18n.LANGUAGES


def test_one_catalog_per_supported_locale_but_english() -> None:
    catalogs = {p.parent.parent.name for p in i18n.TRANSLATIONS.glob("*/LC_MESSAGES/*.po")}
    assert catalogs == set(SUPPORTED) - {"en"}


def test_every_error_code_and_reason_has_a_message() -> None:
    assert set(locales.ERRORS) | set(locales.PLURAL_ERRORS) == ERROR_CODES
    assert not set(locales.ERRORS) & set(locales.PLURAL_ERRORS)
    assert set(locales.WEAK_PASSWORD_REASONS) == REASONS


@pytest.mark.parametrize("locale", [loc for loc in SUPPORTED if loc != "en"])
def test_messages_are_actually_translated(locale: str) -> None:
    params = {"retry_after": 30, "reason": "common", "limit": 20}
    same = [
        code
        for code in ERROR_CODES
        if message(code, locale, **params) == message(code, "en", **params)
    ]
    assert same == []
    assert all(weak_password_reason(r, locale) != weak_password_reason(r, "en") for r in REASONS)


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
    assert "%(" not in text and "{" not in text


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
