"""Which of our languages an inbound mail is written in: what it declares, else a guess
from the letters it uses. Auto-replies go out in it."""

from __future__ import annotations

from email.message import EmailMessage

from clientarea import locales

_UKRAINIAN_ONLY = set("іїєґ")
_RUSSIAN_ONLY = set("ыэъё")
_POLISH = set("ąćęłńśźż")
_PORTUGUESE = set("ãõç")


def language_of_text(text: str) -> str:
    """A guess among our locales from the letters used (_UKRAINIAN_ONLY against
    _RUSSIAN_ONLY in Cyrillic text, then _POLISH, then _PORTUGUESE); else English."""
    letters = set(text.lower())
    if any("\u0400" <= ch <= "\u04ff" for ch in letters):
        uk, ru = len(letters & _UKRAINIAN_ONLY), len(letters & _RUSSIAN_ONLY)
        return "uk" if uk > ru or (uk and not ru) else "ru"
    if letters & _POLISH:
        return "pl"
    if letters & _PORTUGUESE:
        return "pt"
    return locales.DEFAULT


def guess_language(message: EmailMessage, text: str) -> str:
    """Content-Language or Accept-Language when the mail says it, else the letters."""
    for header in ("Content-Language", "Accept-Language"):
        value = message.get(header)
        if value:
            declared = locales.negotiate(None, str(value))
            if declared != locales.DEFAULT or str(value).strip().lower().startswith("en"):
                return declared
    return language_of_text(text)
