"""Password hashing (argon2id) and the NIST SP 800-63B-4 acceptance rules.

Password is the only factor, so the rules are: 15 to 128 characters, no composition
rules, and refuse values that are common or that contain the account's own login or
email. Passwords are NFKC-normalised before checking and hashing (63B-4 §3.1.1.2), so
the same passphrase typed on two keyboards is the same password.
"""

from __future__ import annotations

import gzip
import string
import unicodedata
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from clientarea.errors import WeakPassword

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_LENGTH = 15
MAX_LENGTH = 128


@cache
def _hasher() -> PasswordHasher:
    """OWASP's argon2id minimum: m=19 MiB, t=2, p=1 (~18 ms here). Imported on first
    use: most requests of a function that hashes never do (sessions, reads)."""
    from argon2 import PasswordHasher  # noqa: PLC0415 - see above

    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    """A hash of a password nobody has, so that an unknown login costs the same time as
    a wrong password (login answers must not reveal which accounts exist). Made on first
    use, not at import: it would cost every cold start ~20 ms."""
    return _hasher().hash("clientarea: equalise the time of unknown logins")


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@cache
def _common_passwords() -> frozenset[str]:
    """Django's list of 20,000 common passwords (from Royce Williams' corpus), lowercased."""
    data = resources.files("clientarea").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def _is_repetition(password: str) -> bool:
    """One short chunk typed again and again ("abcabcabc…", "aaaa…") is as weak as a common word."""
    text = password.lower()
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return True
    return False


def _is_padded_common(lowered: str) -> bool:
    """A common word padded with digits and symbols to reach the length ("qwerty123456789")
    is an expected value; so is a password of digits and symbols only."""
    core = lowered.strip(string.digits + string.punctuation + string.whitespace)
    return not core or (len(core) <= len(lowered) // 2 and core in _common_passwords())


def check_policy(password: str, *, login: str | None, email: str | None) -> None:
    """Raise WeakPassword naming the first rule the password breaks."""
    password = normalise(password)
    if len(password) < MIN_LENGTH:
        raise WeakPassword("too_short")
    if len(password) > MAX_LENGTH:
        raise WeakPassword("too_long")
    lowered = password.casefold()
    if lowered in _common_passwords() or _is_repetition(password) or _is_padded_common(lowered):
        raise WeakPassword("common")
    if login and login.casefold() in lowered:
        raise WeakPassword("contains_login")
    if email:
        email_lower = email.casefold()
        local_part = email_lower.split("@", 1)[0]
        if email_lower in lowered or (len(local_part) >= 4 and local_part in lowered):
            raise WeakPassword("contains_email")


def hash_password(password: str) -> str:
    return _hasher().hash(normalise(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-work check: an absent hash still costs one argon2 verification."""
    from argon2.exceptions import InvalidHashError, VerificationError  # noqa: PLC0415

    try:
        return _hasher().verify(password_hash or _dummy_hash(), normalise(password)) and (
            password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False
