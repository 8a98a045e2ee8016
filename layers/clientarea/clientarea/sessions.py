"""Login sessions: opaque bearer tokens checked by the API's Lambda authorizer.

A session token reads `<client_number>.<secret>` (256 random bits); the table keeps
only the secret's SHA-256 digest, with a TTL. Each session records the account's
`session_generation` at login; raising the account's generation revokes every
session at once. The authorizer reads session and account in one consistent
TransactGetItems call, so a revocation is in force for the very next request.

A session ends at the first of: its absolute lifetime (`SessionTtlSeconds` after login),
`SessionIdleTimeoutSeconds` without a recorded use, logout, its owner ending it (one, or
every other), and a password change, reset or contact-email change (every other one).
A use is recorded (`last_seen_at`, and the address it came from) by the authorizer at
most once every 5 minutes per session, with a conditional write, so that almost every
request costs the authorizer its one read: the idle time is counted from the last
recorded use, which is at most 5 minutes older than the real one (a session may end
up to 5 minutes early, never late).

The owner sees sessions by a `session_id`: a one-way function of the stored digest,
from which neither the token nor the digest can be had.

This module is imported by the authorizer, which has a strict cold-start budget: it
must not import anything the authorizer does not need (no pydantic, no Powertools
resolver).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple, cast

from clientarea import clock, config, tokens
from clientarea.errors import ConditionsFailed, DomainError, NotFound, Unauthorized
from clientarea.storage import access as account_access
from clientarea.storage import sessions as store
from clientarea.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from clientarea.storage.accounts import AccountModel
    from clientarea.storage.sessions import SessionModel

if TYPE_CHECKING:
    from clientarea.schema.accounts import Session

# A use is recorded at most this often per session.
RECORD_USE_EVERY = timedelta(minutes=5)
USER_AGENT_MAX = 256
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


class Principal(NamedTuple):
    """Who is calling: what the authorizer hands to the functions."""

    client_number: int
    role: str
    locale: str
    session_digest: str


class NewSession(NamedTuple):
    token: str
    expires_at: datetime
    item: SessionModel


def session_id(digest: str) -> str:
    """How the owner's session list names a session (never the token or its digest)."""
    return hashlib.sha256(f"clientarea session id:{digest}".encode()).hexdigest()[:32]


def new_session(
    account: AccountModel, *, ip: str | None = None, user_agent: str | None = None
) -> NewSession:
    """A session for `account`, not yet saved: login saves it in a transaction."""
    secret = tokens.new_secret()
    now = clock.now()
    expires_at = now + timedelta(seconds=config.session_ttl_seconds())
    item = store.new_item(
        int(account.client_number),
        tokens.digest(secret),
        generation=int(account.session_generation),
        role=account.role,
        now=now,
        ip=ip,
        user_agent=user_agent[:USER_AGENT_MAX] if user_agent else None,
        expires_at=expires_at,
    )
    return NewSession(token=f"{account.client_number}.{secret}", expires_at=expires_at, item=item)


def save(uow: UnitOfWork, session: NewSession) -> None:
    """Store a new session in `uow` (login's transaction)."""
    store.save(uow, session.item)


def _last_seen(session: SessionModel) -> datetime:
    return session.last_seen_at or session.created_at


def _live(session: SessionModel, now: datetime) -> bool:
    """Within its absolute lifetime and its idle time (the generation is checked apart)."""
    idle = timedelta(seconds=config.session_idle_timeout_seconds())
    return now < session.expires_at and now < _last_seen(session) + idle


def authenticate(token: object, *, ip: str | None = None) -> Principal:
    """The principal behind a bearer token, or Unauthorized (for every failure alike).

    One read; and, at most once every 5 minutes per session, one conditional write
    that records the use (`ip`: the address it came from)."""
    parts = tokens.split(token)
    if parts is None or not parts[0].isdigit():
        raise Unauthorized
    client_number, secret = parts
    secret_digest = tokens.digest(secret)
    found = store.read_with_account(client_number, secret_digest)
    if found is None:
        raise Unauthorized
    session, account = found
    now = clock.now()
    if (
        not hmac.compare_digest(session.digest, secret_digest)
        or session.generation != account.session_generation
        or not _live(session, now)
        or account.status != "active"
    ):
        raise Unauthorized
    if now - _last_seen(session) >= RECORD_USE_EVERY:
        _record_use(session, now, ip)
    return Principal(
        client_number=cast(int, account.client_number),  # a NumberAttribute: int | float
        role=account.role,
        locale=account.locale,
        session_digest=secret_digest,
    )


def _record_use(session: SessionModel, now: datetime, ip: str | None) -> None:
    """`last_seen_at = now` unless another request recorded a use within the last 5
    minutes (then it was that one's to write) or the session is gone meanwhile (never
    recreate one). A failed write is only logged: the session was valid, and the next
    request tries again."""
    try:
        store.record_use(session, now, ip, RECORD_USE_EVERY)
    except DomainError as exc:  # translated by the store: throttled, down, or refused
        _log_unrecorded_use(exc)


def _log_unrecorded_use(exc: DomainError) -> None:
    from aws_lambda_powertools import Logger  # noqa: PLC0415 - only on this rare path

    from clientarea import availability  # noqa: PLC0415

    logger = Logger(service="clientarea")
    if availability.is_access_denied(exc):
        # Not a passing failure: without the write every session idles out while in use.
        availability.report_access_denied(exc, logger)
        return
    code = getattr(exc.__cause__, "cause_response_code", None)
    logger.warning("session use not recorded", extra={"error_code": code})


def end(principal: Principal) -> None:
    """Log out: delete this one session."""
    store.delete(principal.client_number, principal.session_digest)


# --- the owner's view (GET/DELETE /account/sessions, revoke-others) -------------------------


def _own_live_sessions(principal: Principal) -> list[SessionModel]:
    """The caller's sessions that would pass the authorizer now: live, and of the
    generation of the caller's own session (which the authorizer has just matched to
    the account's), read with one consistent Query."""
    found = store.of_account(principal.client_number)
    own = next((s for s in found if s.digest == principal.session_digest), None)
    if own is None:
        return []
    now = clock.now()
    return [s for s in found if s.generation == own.generation and _live(s, now)]


def list_own(principal: Principal) -> list[Session]:
    """The caller's live sessions, most recently used first, in the answer's shape.
    Imported here: the authorizer imports this module and never needs the shape."""
    from clientarea.schema.accounts import Session  # noqa: PLC0415

    sessions = sorted(_own_live_sessions(principal), key=_last_seen, reverse=True)
    return [
        Session(
            session_id=session_id(s.digest),
            created_at=clock.iso(s.created_at),
            last_seen_at=clock.iso(_last_seen(s)),
            user_agent=s.user_agent,
            ip=s.ip,
            current=s.digest == principal.session_digest,
        )
        for s in sessions
    ]


def end_one(principal: Principal, wanted: str) -> None:
    """End one of the caller's live sessions by its id; NotFound for any other id
    (another account's included: ids are looked up among the caller's own only)."""
    if not _SESSION_ID.match(wanted):
        raise NotFound
    for session in _own_live_sessions(principal):
        if hmac.compare_digest(session_id(session.digest), wanted):
            if not store.delete_if_there(session):
                raise NotFound  # ended by a racing request
            return
    raise NotFound


def keep_across_generation(
    uow: UnitOfWork,
    client_number: int,
    digest: str,
    generation: int,
    *,
    expected: int | None = None,
) -> None:
    """Move one session (the caller's) to the account's new `generation` in `uow` (a
    password or contact-email change): every other session stays behind and dies.
    Only while it exists (condition `storage.sessions.SESSION`), and with `expected`,
    only if it is still of that generation."""
    store.move_generation(uow, client_number, digest, to=generation, expected=expected)


def end_others(principal: Principal) -> None:
    """End every session of the caller's account but the caller's, in one transaction:
    the account's generation goes up by one and the caller's session with it, so a
    session opened meanwhile dies too. (Like a password change, it also ends a pending
    contact-email change, which is bound to the generation it was asked in.)"""
    try:
        with UnitOfWork() as uow:
            account_access.revoke_sessions(uow, principal.client_number)
            store.move_generation(uow, principal.client_number, principal.session_digest, to=None)
    except ConditionsFailed as exc:
        raise Unauthorized from exc  # the caller's own session ended meanwhile
