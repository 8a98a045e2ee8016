"""Who an account is: its status, the rules of addresses and login names, and finding
an account by its number, login name or contact email.

Uniqueness of contact email and login is enforced by claim items written in the same
DynamoDB transaction as the account (clientarea.storage.accounts), never by reading a
GSI first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

from clientarea.errors import InvalidEmail, InvalidLogin, NotFound
from clientarea.storage import accounts as store
from clientarea.storage.accounts import CLAIM, CONTACT

if TYPE_CHECKING:
    from clientarea.storage.accounts import AccountModel

__all__ = ["CLAIM", "CONTACT"]

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
# Generated logins look like this; nobody may choose one, so they never collide.
_GENERATED_LOGIN = re.compile(r"^client\d+$")


class AccountStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # a staff account an administrator switched off (clientarea.staff)


def normalise_email(raw: str) -> str:
    """The address as it will be written to: compatibility forms folded (NFKC), the
    domain lowercased, and refused (InvalidEmail) if a part of it mixes scripts.

    NFKC first, because an address in fullwidth letters reads as `user@example.com`:
    were they two addresses, a second account could wear the first one's address, so
    they are one, the ASCII one (where the owner's mail really goes). Mixed scripts
    (a Cyrillic a, U+0430, among Latin letters) make an address that looks like another
    without being it; no real mailbox needs that, so it is refused outright rather than
    guessed at (mapping it would need Unicode's confusables data and still guess).
    """
    from email_validator import (  # noqa: PLC0415 - 40-50 ms, for the routes taking an address
        EmailNotValidError,
        validate_email,
    )

    text = unicodedata.normalize("NFKC", raw).strip()
    try:
        address = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    local, _, domain = address.rpartition("@")
    if any(len(_scripts(part)) > 1 for part in (local, *domain.split("."))):
        raise InvalidEmail("mixed scripts")
    return address


# Scripts that one language writes together count as one (Japanese mixes all three,
# Korean Hangul with Han).
_SCRIPT_FAMILIES = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK"}


def _scripts(text: str) -> set[str]:
    """The scripts of the letters in `text`, by the first word of each letter's Unicode
    name ("LATIN SMALL LETTER A", "CYRILLIC SMALL LETTER A"): the stdlib has no Script
    property, and for letters the name's first word is the script. Digits, marks and
    punctuation belong to every script and are not counted."""
    scripts = set()
    for char in text:
        if unicodedata.category(char).startswith("L"):
            word = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
            scripts.add(_SCRIPT_FAMILIES.get(word, word))
    return scripts


def normalise_login(raw: str) -> str:
    login = unicodedata.normalize("NFKC", raw).strip().lower()
    if not _LOGIN.match(login) or _GENERATED_LOGIN.match(login):
        raise InvalidLogin
    return login


def generated_login(client_number: int) -> str:
    return f"client{client_number}"


def get_account(client_number: int | str, attributes: Sequence[str] | None = None) -> AccountModel:
    """The account, whole, or only `attributes` of it (the others are None); NotFound."""
    return store.get_account(client_number, attributes)


def claim_key_for(login_or_email: str) -> str | None:
    """The claim a login name or contact email, as typed, would be held under."""
    text = unicodedata.normalize("NFKC", login_or_email).strip()
    if "@" in text:
        try:
            return store.email_claim_key(normalise_email(text))
        except InvalidEmail:
            return None
    return store.login_claim_key(text) if text else None


def find_by_login_or_email(
    login_or_email: str, attributes: Sequence[str] | None = None
) -> AccountModel | None:
    """The account a person means by a login name or contact email, if any (whole, or
    only `attributes` of it)."""
    key = claim_key_for(login_or_email)
    if key is None:
        return None
    client_number = store.claimant(key)
    if client_number is None:
        return None
    try:
        return store.get_account(client_number, attributes)
    except NotFound:
        return None
