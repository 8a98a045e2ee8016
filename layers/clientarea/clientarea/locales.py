"""Locale negotiation and localized error messages.

Human-facing text follows the account's `locale`, else the request's
`Accept-Language`, among the supported locales; anything else falls back to English.
Messages live in `locales/<locale>.toml`: an `[errors]` table keyed by the contract's
stable error codes and a `[weak_password_reasons]` table keyed by WeakPassword reasons.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

__all__ = [
    "DEFAULT",
    "SUPPORTED",
    "is_supported",
    "message",
    "negotiate",
    "weak_password_reason",
]

SUPPORTED: tuple[str, ...] = ("en", "uk", "ru", "pl", "pt")
DEFAULT = "en"

MAX_ACCEPT_LANGUAGE_ENTRIES = 20
MAX_ACCEPT_LANGUAGE_LENGTH = 4096

# A BCP 47-ish language range ("uk", "uk-UA", "zh-Hant-TW"; "_" tolerated) or "*".
_RANGE = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*)$")
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


def _primary(tag: str) -> str:
    return tag.replace("_", "-").split("-", 1)[0].lower()


def is_supported(locale: object) -> bool:
    """True only for an exact supported code such as "uk" (not "uk-UA", not None)."""
    return isinstance(locale, str) and locale in SUPPORTED


def _normalise(locale: object) -> str | None:
    """Map "uk", "UK", "uk-UA" or "uk_UA" to "uk"; anything unsupported to None."""
    if not isinstance(locale, str):
        return None
    tag = locale.strip()
    if not tag or len(tag) > 64 or not _RANGE.match(tag) or tag == "*":
        return None
    primary = _primary(tag)
    return primary if primary in SUPPORTED else None


def _parse_entry(entry: str) -> tuple[str, float] | None:
    """One Accept-Language entry ("pt-BR;q=0.8") → ("pt-BR", 0.8); malformed → None."""
    parts = [part.strip() for part in entry.split(";")]
    tag, params = parts[0], parts[1:]
    if not _RANGE.match(tag):
        return None
    quality = 1.0
    for param in params:
        name, sep, value = param.partition("=")
        if not sep:
            return None
        if name.strip().lower() != "q":
            continue  # unknown parameters are ignored
        value = value.strip()
        if not _QVALUE.match(value):
            return None
        quality = float(value)
    return tag, quality


def _from_accept_language(header: str) -> str | None:
    if len(header) > MAX_ACCEPT_LANGUAGE_LENGTH:
        header = header[:MAX_ACCEPT_LANGUAGE_LENGTH]
    entries = header.split(",", MAX_ACCEPT_LANGUAGE_ENTRIES)[:MAX_ACCEPT_LANGUAGE_ENTRIES]
    ranked: list[tuple[float, int, str]] = []
    for position, raw in enumerate(entries):
        if not raw.strip():
            continue
        parsed = _parse_entry(raw)
        if parsed is None:
            continue
        tag, quality = parsed
        if tag == "*" or quality <= 0:
            continue
        locale = _normalise(tag)
        if locale is not None:
            ranked.append((-quality, position, locale))
    return min(ranked)[2] if ranked else None


def negotiate(account_locale: str | None, accept_language: str | None) -> str:
    """The account's locale if supported, else the best supported Accept-Language, else en."""
    locale = _normalise(account_locale)
    if locale is not None:
        return locale
    if isinstance(accept_language, str):
        locale = _from_accept_language(accept_language)
        if locale is not None:
            return locale
    return DEFAULT


@functools.cache
def _catalogue(locale: str) -> dict[str, Any]:
    import tomllib  # noqa: PLC0415 - on the first message only, not in every cold start

    data = resources.files("clientarea").joinpath("locales", f"{locale}.toml").read_bytes()
    return tomllib.loads(data.decode("utf-8"))


def _lookup(table: str, key: str, locale: str) -> str | None:
    candidates = (locale, DEFAULT) if locale != DEFAULT and is_supported(locale) else (DEFAULT,)
    for candidate in candidates:
        value = _catalogue(candidate).get(table, {}).get(key)
        if isinstance(value, str):
            return value
    return None


class _KeepMissing(dict[str, object]):
    """format_map() mapping that leaves an unknown `{placeholder}` as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def weak_password_reason(reason: str, locale: str) -> str:
    """The localized explanation of a WeakPassword reason ("too_short", …); else the reason."""
    return _lookup("weak_password_reasons", reason, locale) or reason


def message(code: str, locale: str, **params: object) -> str:
    """The localized human message for an error `code` (falls back to en, then to the code).

    For `weak_password`, a `reason` given as a reason code is replaced by its localized text.
    """
    template = _lookup("errors", code, locale)
    if template is None:
        return code
    if code == "weak_password" and isinstance(params.get("reason"), str):
        params["reason"] = weak_password_reason(str(params["reason"]), locale)
    try:
        return template.format_map(_KeepMissing(params))
    except (ValueError, IndexError, AttributeError, TypeError, KeyError):
        return template
