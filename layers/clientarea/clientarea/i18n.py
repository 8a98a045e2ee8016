"""The words of the API and of its mails in every language: gettext catalogs.

Every human-facing text is written once, in English, where it is used (a mail
template, the error table in `locales`, the recovery texts) and marked for
translation; Babel extracts them into `translations/messages.pot` (`make messages`).
Each other language is one catalog, `translations/<code>/LC_MESSAGES/messages.po`,
compiled to `messages.mo` at build (the layer's Makefile for `sam build`; `make
install` for the tests and the dev server). Only the `.mo` files are read here, with
the standard library, once per language and container.

The languages are English (the source) plus one per catalog: adding a language is
adding a catalog (docs/translations.md). A catalog's `Language` header names the CLDR
locale its dates are written in: the `pt` catalog says `pt_PT`, since Babel's plain
`pt` is Brazilian Portuguese.
"""

from __future__ import annotations

import functools
import gettext
import os
from pathlib import Path

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "N_",
    "SOURCE",
    "TRANSLATIONS",
    "Nn_",
    "cldr_locale",
    "duration",
    "translation",
]

SOURCE = "en"
DOMAIN = "messages"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def _catalog_languages() -> tuple[str, ...]:
    with os.scandir(TRANSLATIONS) as entries:
        return tuple(sorted(e.name for e in entries if e.is_dir() and e.name.isalpha()))


# English first, then one language per catalog directory.
LANGUAGES: tuple[str, ...] = (SOURCE, *(lang for lang in _catalog_languages() if lang != SOURCE))


def N_(message: str) -> str:
    """Marks `message` for extraction; it is translated where it is used."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a message with a plural form for extraction (babel.cfg: `Nn_:1,2`)."""
    return singular, plural


@functools.cache
def translation(language: str) -> gettext.NullTranslations:
    """The compiled catalog of `language` (one of LANGUAGES); English is the source."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for {language!r}")
    if language == SOURCE:
        return gettext.NullTranslations()
    with (TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as compiled:
        return gettext.GNUTranslations(compiled)


def cldr_locale(language: str) -> str:
    """The Babel/CLDR locale for dates in `language` (its catalog's Language header)."""
    return translation(language).info().get("language", language)


def _unit(words: gettext.NullTranslations, seconds: int, count: int) -> str:
    # Each unit reads as in "the link is valid for 2 hours" and "try again in 1 second":
    # the accusative, in the languages with cases.
    if seconds == 86400:
        # Translators: as in "valid for 1 day" / "try again in 1 day" (accusative).
        text = words.npgettext("duration", "%(num)d day", "%(num)d days", count)
    elif seconds == 3600:
        # Translators: as in "valid for 1 hour" / "try again in 1 hour" (accusative).
        text = words.npgettext("duration", "%(num)d hour", "%(num)d hours", count)
    elif seconds == 60:
        # Translators: as in "valid for 1 minute" / "try again in 1 minute" (accusative).
        text = words.npgettext("duration", "%(num)d minute", "%(num)d minutes", count)
    else:
        # Translators: as in "valid for 1 second" / "try again in 1 second" (accusative).
        text = words.npgettext("duration", "%(num)d second", "%(num)d seconds", count)
    return text % {"num": count}


_UNITS = (86400, 3600, 60, 1)


def duration(seconds: int, language: str) -> str:
    """Whole units, never rounded up: the largest unit `seconds` holds at least twice
    (7200 → "2 hours", 5400 → "90 minutes", 86400 → "24 hours"), then what is left in
    the next smaller unit, if any (307 980 → "3 days and 13 hours", never "4 days")."""
    seconds = max(0, int(seconds))
    words = translation(language)
    position = next((i for i, unit in enumerate(_UNITS) if seconds >= 2 * unit), len(_UNITS) - 1)
    unit = _UNITS[position]
    whole, rest = divmod(seconds, unit)
    larger = _unit(words, unit, whole)
    if position + 1 == len(_UNITS) or rest < _UNITS[position + 1]:
        return larger
    smaller_unit = _UNITS[position + 1]
    smaller = _unit(words, smaller_unit, rest // smaller_unit)
    # Translators: two parts of one duration, e.g. "3 days and 13 hours".
    return words.pgettext("duration", "%(larger)s and %(smaller)s") % {
        "larger": larger,
        "smaller": smaller,
    }
