"""PynamoDB models: the shape of every item in every table, in one place.

Domain modules are the only users of these classes; handlers never touch them. Each
table name comes from the function's environment (template.yaml `!Ref`s it in), read
when this module is first imported.
"""

from __future__ import annotations

import os

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.models import Model

from clientarea import config

_REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1"


class _Meta:
    region = _REGION
    # Lambda's own retries are enough; a throttled write surfaces as a clear error.
    max_retry_attempts = 2


class AccountModel(Model):
    """An account: `pk` is `account#<client_number>`."""

    class Meta(_Meta):
        table_name = config.accounts_table()

    pk = UnicodeAttribute(hash_key=True)
    client_number = NumberAttribute()
    login = UnicodeAttribute()
    email = UnicodeAttribute()
    full_name = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(default="en")
    password_hash = UnicodeAttribute()
    status = UnicodeAttribute()  # AccountStatus
    role = UnicodeAttribute(default="client")  # Role
    # Raised to revoke every session at once: a session is valid only while its
    # generation equals the account's.
    session_generation = NumberAttribute(default=0)
    failed_logins = NumberAttribute(default=0)
    login_blocked_until = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class ClaimModel(Model):
    """A uniqueness claim, `email#<normalized>` or `login#<login>`, owned by one account.

    Written in the same transaction as the account, so two registrations racing for
    one address or login cannot both win (a GSI read-then-write could).
    """

    class Meta(_Meta):
        table_name = config.accounts_table()

    pk = UnicodeAttribute(hash_key=True)
    client_number = NumberAttribute()


class CounterModel(Model):
    """A monotonically increasing counter (`counter#client_number`): numbers are never reused."""

    class Meta(_Meta):
        table_name = config.accounts_table()

    pk = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)


class SessionModel(Model):
    """A login session, keyed by account and the SHA-256 digest of its secret."""

    class Meta(_Meta):
        table_name = config.sessions_table()

    client_number = UnicodeAttribute(hash_key=True)
    digest = UnicodeAttribute(range_key=True)
    generation = NumberAttribute()
    role = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()  # the exact expiry the code checks
    ttl = TTLAttribute()  # the same expiry in whole seconds, for DynamoDB's lazy clean-up


class TokenModel(Model):
    """A one-time link secret: `pk` is `<purpose>#<subject>`, so a newer link replaces the older."""

    class Meta(_Meta):
        table_name = config.tokens_table()

    pk = UnicodeAttribute(hash_key=True)
    digest = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()  # the exact expiry the code checks
    ttl = TTLAttribute()  # the same expiry in whole seconds, for DynamoDB's lazy clean-up
    payload = MapAttribute(default=dict)  # type: ignore[var-annotated]


class RateLimitModel(Model):
    """A fixed-window hit counter: `pk` is `<limit>#<hashed key>#<window index>`."""

    class Meta(_Meta):
        table_name = config.rate_limits_table()

    pk = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    ttl = TTLAttribute()


def connection() -> Connection:
    """The low-level connection transactions are committed on."""
    return AccountModel._get_connection().connection
