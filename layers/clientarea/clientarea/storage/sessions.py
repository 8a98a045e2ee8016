"""The sessions table: one item per login session, keyed by account and the SHA-256
digest of its secret (clientarea.sessions says what a session is).

Condition names (unit of work): `SESSION`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.transactions import TransactGet

from clientarea import config
from clientarea.availability import translated
from clientarea.storage.accounts import AccountModel, account_key
from clientarea.storage.base import Model, TableMeta, connection
from clientarea.storage.unit_of_work import UnitOfWork

SESSION = "session"
_CONDITION_FAILED = "ConditionalCheckFailedException"


class SessionModel(Model):
    """A login session, keyed by account and the SHA-256 digest of its secret."""

    class Meta(TableMeta):
        table_name = config.sessions_table()

    client_number = UnicodeAttribute(hash_key=True)
    digest = UnicodeAttribute(range_key=True)
    generation = NumberAttribute()
    role = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    # The last recorded use (written by the authorizer at most once every 5 minutes) and
    # where it came from; the client software named at login. Shown to the owner only.
    last_seen_at = UTCDateTimeAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute()  # the exact expiry the code checks
    ttl = TTLAttribute()  # the same expiry in whole seconds, for DynamoDB's lazy clean-up


def new_item(
    client_number: int | str,
    digest: str,
    *,
    generation: int,
    role: str,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
    expires_at: datetime,
) -> SessionModel:
    """A session not yet stored (`save` registers it)."""
    return SessionModel(
        str(client_number),
        digest,
        generation=generation,
        role=role,
        created_at=now,
        last_seen_at=now,
        ip=ip,
        user_agent=user_agent,
        expires_at=expires_at,
        ttl=expires_at + timedelta(seconds=1),  # TTL = the expiry, rounded up to a whole second
    )


def save(uow: UnitOfWork, item: SessionModel) -> None:
    uow.save(item, name=SESSION)


@translated
def read_with_account(client_number: str, digest: str) -> tuple[SessionModel, AccountModel] | None:
    """The session and its account, in one consistent TransactGetItems; None if either is gone."""
    with TransactGet(connection=connection()) as read:
        session_future = read.get(SessionModel, client_number, digest)
        account_future = read.get(AccountModel, account_key(client_number))
    try:
        return session_future.get(), account_future.get()
    except DoesNotExist:
        return None


@translated
def record_use(session: SessionModel, now: datetime, ip: str | None, every: timedelta) -> None:
    """`last_seen_at = now` (and `ip`) unless a use was recorded within `every` or the
    session is gone meanwhile (then nothing is written, and nothing raised)."""
    last_seen: Any = SessionModel.last_seen_at
    actions = [last_seen.set(now)]
    if ip:
        actions.append(SessionModel.ip.set(ip))
    try:
        SessionModel._get_connection().update_item(  # no ReturnValues: the policy allows none
            session.client_number,
            range_key=session.digest,
            actions=actions,
            condition=SessionModel.digest.exists()
            & (last_seen.does_not_exist() | (last_seen <= now - every)),
        )
    except PynamoDBException as exc:
        if exc.cause_response_code != _CONDITION_FAILED:
            raise


@translated
def delete(client_number: int | str, digest: str) -> None:
    SessionModel(str(client_number), digest).delete()


@translated
def delete_if_there(session: SessionModel) -> bool:
    """Delete the session; False if it was gone already (ended by a racing request)."""
    try:
        session.delete(condition=SessionModel.digest.exists())
    except PynamoDBException as exc:
        if exc.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True


@translated
def of_account(client_number: int | str) -> list[SessionModel]:
    """Every session item of the account (one consistent Query)."""
    return list(SessionModel.query(str(client_number), consistent_read=True))


def move_generation(
    uow: UnitOfWork,
    client_number: int | str,
    digest: str,
    *,
    to: int | None,
    expected: int | None = None,
) -> None:
    """Move one session to the account's next generation (SESSION): to `to`, or up by
    one; only while it exists (or, with `expected`, still has that generation)."""
    generation = SessionModel.generation
    action = generation.add(1) if to is None else generation.set(to)
    condition = SessionModel.digest.exists() if expected is None else generation == expected
    uow.update(
        SessionModel(str(client_number), digest),
        actions=[action],
        condition=condition,
        name=SESSION,
    )
