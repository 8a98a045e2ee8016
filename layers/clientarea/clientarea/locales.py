"""Locale negotiation and localized error messages.

Human-facing text follows the account's `locale`, else the request's
`Accept-Language`, among the supported locales (English and one per catalog, see
`clientarea.i18n`); anything else falls back to English. The error messages are
written here in English, keyed by the contract's stable error codes, and translated
through the catalogs like every other word.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from clientarea import i18n
from clientarea.i18n import N_, Nn_

if TYPE_CHECKING:
    from gettext import NullTranslations

__all__ = [
    "DEFAULT",
    "SUPPORTED",
    "is_supported",
    "message",
    "negotiate",
    "weak_password_reason",
]

SUPPORTED: tuple[str, ...] = i18n.LANGUAGES
DEFAULT = i18n.SOURCE

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


# The error messages, by code (or by an error's `message_key`, where one code has a more
# specific message). `%(name)s` is a parameter of the error; `retry_after` (whole
# seconds) is written as a duration ("37 seconds", "1 minute").
ERRORS: dict[str, str] = {
    "token_invalid": N_(
        "This link is invalid, has already been used or has expired. Please request a new one."
    ),
    "invalid_credentials": N_("The login or password is incorrect."),
    "weak_password": N_("This password cannot be used: %(reason)s"),
    "invalid_login": N_("This login name cannot be used. Please choose another one."),
    "invalid_email": N_("This email address is not valid. Please check it and try again."),
    "not_found": N_("Not found."),
    "unauthorized": N_("Please log in to continue."),
    "forbidden": N_("You do not have permission to do this."),
    "rate_limited": N_("Too many requests. Please try again in %(retry_after)s."),
    "login_rate_limited": N_(
        "Too many failed sign-in attempts for this login. You can always unlock it at once "
        'by resetting your password by email ("Forgot your password?"); otherwise, try '
        "again in %(retry_after)s at the earliest."
    ),
    "conflict": N_("This request conflicts with the current state. Please reload and try again."),
    "validation_error": N_("Some fields are missing or invalid."),
    "payload_too_large": N_("The request is too large."),
    "unsupported_media_type": N_("The request must be sent as JSON."),
    "method_not_allowed": N_("This method is not allowed here."),
    "internal_error": N_("Something went wrong on our side. Please try again later."),
    "service_unavailable": N_(
        "The service is busy right now. Nothing was changed; please try again in a few seconds."
    ),
    "email_taken": N_("This email address is already used by another account."),
    "already_authorised": N_(
        "This address is already allowed to write to support for your account."
    ),
    "idempotency_key_reused": N_("This Idempotency-Key was already used with a different request."),
    "recipient_mismatch": N_(
        "No other client account has this login and this client number. "
        "Please check both with the client taking over the service."
    ),
    "cession_pending": N_(
        "This service already has a cession in progress. Finish or cancel it first."
    ),
    "invalid_order_state": N_("This order cannot do that in its current state. Please reload it."),
    "email_unchanged": N_("This is already your contact email address."),
    "ticket_closed": N_("This ticket is closed. Please open a new ticket."),
    "documents_missing": N_("Upload every required document before submitting the request."),
    "invalid_recovery_state": N_("This recovery request cannot do that in its current status."),
    "no_matching_account": N_("This request names no account: it can only be rejected."),
}
# Messages with a number in them: the parameter that counts, and the two English forms.
PLURAL_ERRORS: dict[str, tuple[str, tuple[str, str]]] = {
    "too_many_authorised_emails": (
        "limit",
        Nn_(
            "You can authorise at most %(limit)s address. Remove it first.",
            "You can authorise at most %(limit)s addresses. Remove one first.",
        ),
    ),
}
WEAK_PASSWORD_REASONS: dict[str, str] = {
    "too_short": N_("it must be at least 15 characters long."),
    "too_long": N_("it must be at most 128 characters long."),
    "common": N_("it is too common and easy to guess."),
    "contains_login": N_("it must not contain your login name."),
    "contains_email": N_("it must not contain your email address."),
}


def _words(locale: str) -> NullTranslations:
    return i18n.translation(locale if is_supported(locale) else DEFAULT)


class _KeepMissing(dict[str, object]):
    """%-format mapping that leaves an unknown `%(placeholder)s` as written."""

    def __missing__(self, key: str) -> str:
        return f"%({key})s"


def weak_password_reason(reason: str, locale: str) -> str:
    """The localized explanation of a WeakPassword reason ("too_short", …); else the reason."""
    english = WEAK_PASSWORD_REASONS.get(reason)
    return reason if english is None else _words(locale).gettext(english)


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def message(code: str, locale: str, **params: object) -> str:
    """The localized human message for an error `code` (falls back to en, then to the code).

    For `weak_password`, a `reason` given as a reason code is replaced by its localized
    text; a whole number of seconds `retry_after` becomes a localized duration.
    """
    words = _words(locale)
    if code in PLURAL_ERRORS:
        counted, (singular, plural) = PLURAL_ERRORS[code]
        template = words.ngettext(singular, plural, _count(params.get(counted)) or 0)
    elif code in ERRORS:
        template = words.gettext(ERRORS[code])
    else:
        return code
    if code == "weak_password" and isinstance(params.get("reason"), str):
        params["reason"] = weak_password_reason(str(params["reason"]), locale)
    seconds = _count(params.get("retry_after"))
    if seconds is not None:
        lang = locale if is_supported(locale) else DEFAULT
        params["retry_after"] = i18n.duration(seconds, lang)
    try:
        return template % _KeepMissing(params)
    except (ValueError, TypeError, KeyError):
        return template
