"""One-time link tokens (email verification, password reset, email change, …).

A token reads `<subject>.<secret>`: the subject (a client number, an order id) names
the one item that can hold it, the secret is 256 random bits. Only the secret's SHA-256
digest is stored, in an item keyed `<purpose>#<subject>` whose TTL attribute is its
expiry. Issuing a new token for the same purpose and subject overwrites the item, so a
newer link supersedes every older one; using a token deletes the item under a
condition on its digest, so it works once even when two requests race. Expiry is
checked here too, because DynamoDB removes expired items lazily.

Every malformed, unknown, superseded, used or expired token fails the same way
(TokenInvalid): the caller cannot tell which.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from clientarea import clock, config, throttling
from clientarea.errors import TokenInvalid
from clientarea.storage import tokens as store

if TYPE_CHECKING:
    from clientarea.storage.tokens import TokenModel
    from clientarea.storage.unit_of_work import UnitOfWork

SECRET_BYTES = 32  # 256 bits
_SUBJECT = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_SECRET = re.compile(r"^[0-9A-Za-z_-]{43}$")


class Purpose(StrEnum):
    EMAIL_VERIFICATION = "email_verification"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose name, not a secret
    EMAIL_CHANGE = "email_change"
    # One live link per account and address: subject `<client_number>-<address digest>`.
    SENDER_CONFIRMATION = "sender_confirmation"
    # One live link per party of a cession order: subject `<order_id>-<owner|recipient>`.
    CESSION_ANSWER = "cession_answer"


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split(token: object) -> tuple[str, str] | None:
    """`(subject, secret)` of a well-formed token, else None."""
    if not isinstance(token, str) or len(token) > 160:
        return None
    subject, _, secret = token.rpartition(".")
    if not _SUBJECT.match(subject) or not _SECRET.match(secret):
        return None
    return subject, secret


class IssuedToken(NamedTuple):
    token: str
    expires_at: datetime
    lifetime: timedelta  # what the link's mail says it is valid for


class ValidToken(NamedTuple):
    """A token that checked out; `item` is what a consuming transaction deletes."""

    purpose: Purpose
    subject: str
    expires_at: datetime
    payload: dict[str, Any]
    item: TokenModel

    def consume_condition(self) -> Any:
        """The condition that makes deleting `item` a one-time use."""
        return store.consume_condition(self.item)

    def consume(self, uow: UnitOfWork) -> None:
        """Use the link up in `uow` (condition `storage.tokens.LINK`)."""
        store.consume(uow, self.item)


def _key(purpose: Purpose, subject: str) -> str:
    return store.key(purpose, subject)


def issue(
    purpose: Purpose, subject: str, ttl: timedelta, payload: dict[str, Any] | None = None
) -> IssuedToken:
    """Store a fresh token for `subject`, superseding any earlier one of this purpose."""
    item, issued = prepare(purpose, subject, ttl, payload)
    store.put(item)
    return issued


def prepare(
    purpose: Purpose, subject: str, ttl: timedelta, payload: dict[str, Any] | None = None
) -> tuple[TokenModel, IssuedToken]:
    """A fresh token and the item that stores it, for a caller's transaction to save
    together with the change the link is about."""
    secret = new_secret()
    now = clock.now()
    expires_at = now + ttl
    item = store.new_item(
        _key(purpose, subject),
        digest(secret),
        now=now,
        expires_at=expires_at,
        payload=payload or {},
    )
    return item, IssuedToken(token=f"{subject}.{secret}", expires_at=expires_at, lifetime=ttl)


def guesses_per_ip() -> throttling.Limit:
    return throttling.Limit("token_guesses_ip", config.ip_requests_per_hour(), 3600)


def check(purpose: Purpose, token: object, *, client_ip: str | None = None) -> ValidToken:
    """Return the live token, or raise TokenInvalid for any other case.

    With `client_ip`, the check is counted against that address *before* it is made,
    and once the address has used its allowance it gets RateLimited, right token or
    not: were only failures counted, after the check, an address over its limit would
    still learn which guess was right. Nothing is locked for the account: a guesser
    must never be able to lock the owner out.
    """
    if client_ip is not None:
        throttling.hit(guesses_per_ip(), client_ip)
    return _check(purpose, token)


def _check(purpose: Purpose, token: object) -> ValidToken:
    parts = split(token)
    if parts is None:
        raise TokenInvalid
    subject, secret = parts
    item = store.get(_key(purpose, subject))
    if item is None:
        raise TokenInvalid
    if not hmac.compare_digest(item.digest, digest(secret)):
        raise TokenInvalid
    # Valid strictly before the expiry instant: a 2-hour link works at 1:59:59, not at 2:00:00.
    if clock.now() >= item.expires_at:
        raise TokenInvalid
    return ValidToken(
        purpose=purpose,
        subject=subject,
        expires_at=item.expires_at,
        payload=item.payload.as_dict(),
        item=item,
    )


def revoke(purpose: Purpose, subject: str) -> TokenModel:
    """The item to delete (in a caller's transaction) to kill a pending link."""
    return store.item(_key(purpose, subject))


def revoke_in(uow: UnitOfWork, purpose: Purpose, subject: str) -> None:
    """Kill the pending link of `purpose` for `subject`, if any, in `uow`."""
    store.revoke(uow, _key(purpose, subject))


def save_in(uow: UnitOfWork, item: TokenModel) -> None:
    """Store a prepared link in `uow` (superseding the older one)."""
    store.save(uow, item)
