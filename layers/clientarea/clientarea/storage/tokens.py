"""The tokens table: one item per live one-time link, keyed `<purpose>#<subject>`
(`key`), holding only the secret's digest (clientarea.tokens says what a link is).

Condition names (unit of work): `LINK` (a link used up: its digest still the one read).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import MapAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from clientarea import config
from clientarea.availability import translated
from clientarea.storage.base import Model, TableMeta
from clientarea.storage.unit_of_work import UnitOfWork

LINK = "link"


class TokenModel(Model):
    """A one-time link secret: `pk` is `<purpose>#<subject>`, so a newer link replaces the older."""

    class Meta(TableMeta):
        table_name = config.tokens_table()

    pk = UnicodeAttribute(hash_key=True)
    digest = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()  # the exact expiry the code checks
    ttl = TTLAttribute()  # the same expiry in whole seconds, for DynamoDB's lazy clean-up
    payload = MapAttribute(default=dict)  # type: ignore[var-annotated]


def key(purpose: str, subject: str) -> str:
    return f"{purpose}#{subject}"


def new_item(
    pk: str, digest: str, *, now: datetime, expires_at: datetime, payload: dict[str, Any]
) -> TokenModel:
    return TokenModel(
        pk,
        digest=digest,
        created_at=now,
        expires_at=expires_at,
        ttl=expires_at + timedelta(seconds=1),  # TTL = the expiry, rounded up to a whole second
        payload=payload,
    )


@translated
def put(item: TokenModel) -> None:
    """Store a link (overwriting, so superseding, the older one of its key)."""
    item.save()


def save(uow: UnitOfWork, item: TokenModel) -> None:
    uow.save(item, name=LINK)


@translated
def get(pk: str) -> TokenModel | None:
    try:
        return TokenModel.get(pk, consistent_read=True)
    except DoesNotExist:
        return None


def consume_condition(item: TokenModel) -> Any:
    """The condition that makes deleting `item` a one-time use."""
    return TokenModel.digest == item.digest


def consume(uow: UnitOfWork, item: TokenModel) -> None:
    """Use a link up (LINK: fails if it was used or superseded since it was read)."""
    uow.delete(item, condition=consume_condition(item), name=LINK)


def item(pk: str) -> TokenModel:
    """The item of a key, to delete in a transaction (kills a pending link)."""
    return TokenModel(pk)


def revoke(uow: UnitOfWork, pk: str) -> None:
    """Kill the pending link of a key, if any (no condition: never fails)."""
    uow.delete(TokenModel(pk), name="revoked " + pk.split("#", 1)[0])
