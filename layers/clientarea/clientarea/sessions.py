"""Login sessions: opaque bearer tokens checked by the API's Lambda authorizer.

A session token reads `<client_number>.<secret>` (256 random bits); the table keeps
only the secret's SHA-256 digest, with a TTL. Each session records the account's
`session_generation` at login; raising the account's generation revokes every
session at once. The authorizer reads session and account in one consistent
TransactGetItems call, so a revocation is in force for the very next request.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.transactions import TransactGet

from clientarea import clock, config, tokens
from clientarea.errors import Unauthorized
from clientarea.tables import AccountModel, SessionModel, connection


@dataclass(frozen=True)
class Principal:
    """Who is calling: what the authorizer hands to the functions."""

    client_number: int
    role: str
    locale: str
    session_digest: str


@dataclass(frozen=True)
class NewSession:
    token: str
    expires_at: datetime
    item: SessionModel


def new_session(account: AccountModel) -> NewSession:
    """A session for `account`, not yet saved: login saves it in a transaction."""
    secret = tokens.new_secret()
    now = clock.now()
    expires_at = now + timedelta(seconds=config.session_ttl_seconds())
    item = SessionModel(
        str(account.client_number),
        tokens.digest(secret),
        generation=account.session_generation,
        role=account.role,
        created_at=now,
        expires_at=expires_at,
        ttl=expires_at + timedelta(seconds=1),  # TTL = the expiry, rounded up to a whole second
    )
    return NewSession(token=f"{account.client_number}.{secret}", expires_at=expires_at, item=item)


def authenticate(token: object) -> Principal:
    """The principal behind a bearer token, or Unauthorized (for every failure alike)."""
    parts = tokens.split(token)
    if parts is None or not parts[0].isdigit():
        raise Unauthorized
    client_number, secret = parts
    secret_digest = tokens.digest(secret)
    with TransactGet(connection=connection()) as read:
        session_future = read.get(SessionModel, client_number, secret_digest)
        account_future = read.get(AccountModel, f"account#{client_number}")
    try:
        session = session_future.get()
        account = account_future.get()
    except SessionModel.DoesNotExist as exc:
        raise Unauthorized from exc
    except AccountModel.DoesNotExist as exc:
        raise Unauthorized from exc
    if (
        not hmac.compare_digest(session.digest, secret_digest)
        or session.generation != account.session_generation
        or clock.now() >= session.expires_at
        or account.status != "active"
    ):
        raise Unauthorized
    return Principal(
        client_number=account.client_number,
        role=account.role,
        locale=account.locale,
        session_digest=secret_digest,
    )


def end(principal: Principal) -> None:
    """Log out: delete this one session."""
    SessionModel(str(principal.client_number), principal.session_digest).delete()
