"""The rate-limits table: fixed-window hit counters and consecutive-attempt items
(clientarea.throttling says how they are counted; the keys come from it, hashed).
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from clientarea import config
from clientarea.availability import translated
from clientarea.storage.base import Model, TableMeta
from clientarea.storage.unit_of_work import UnitOfWork

ATTEMPTS = "attempts"
HIT = "hit"


class RateLimitModel(Model):
    """A fixed-window hit counter: `pk` is `<limit>#<hashed key>#<window index>`."""

    class Meta(TableMeta):
        table_name = config.rate_limits_table()

    pk = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    ttl = TTLAttribute()


class AttemptsModel(Model):
    """Consecutive attempts of one login (`clientarea.throttling.admit`): `pk` is
    `<limit>#<hashed key>`; besides `consecutive`, one number attribute per window
    (`w<window index>`), named at run time and so not declared here."""

    class Meta(TableMeta):
        table_name = config.rate_limits_table()

    pk = UnicodeAttribute(hash_key=True)
    consecutive = NumberAttribute(default=0)
    ttl = TTLAttribute()


@translated
def count(pk: str, expires: datetime) -> int:
    """Add one hit to a counter (one atomic ADD) and return the count after it."""
    counter = RateLimitModel(pk)
    hits: NumberAttribute = RateLimitModel.hits
    counter.update(actions=[hits.add(1), RateLimitModel.ttl.set(expires)])
    return int(counter.hits)


def give_back(tx: TransactWrite, pk: str, expires: datetime) -> None:
    """Un-count one hit, in the caller's transaction (HIT)."""
    item = RateLimitModel(pk)
    actions: list[Action] = [RateLimitModel.hits.add(-1), RateLimitModel.ttl.set(expires)]
    if isinstance(tx, UnitOfWork):
        tx.update(item, actions=actions, name=HIT)
    else:
        tx.update(item, actions=actions)


@translated
def admit(pk: str, window: int, *, per_window: int, consecutive: int, expires: datetime) -> bool:
    """Count one attempt if `consecutive` and this window's count (`w<window>`) have
    room, in one conditional UpdateItem (the previous window's count goes); False,
    writing nothing, when either is spent."""
    this_window = NumberAttribute(attr_name=f"w{window}")
    previous_window = NumberAttribute(attr_name=f"w{window - 1}")
    in_a_row: NumberAttribute = AttemptsModel.consecutive
    try:
        AttemptsModel(pk).update(
            actions=[
                in_a_row.add(1),
                this_window.add(1),
                previous_window.remove(),
                AttemptsModel.ttl.set(expires),
            ],
            condition=(in_a_row.does_not_exist() | (in_a_row < consecutive))
            & (this_window.does_not_exist() | (this_window < per_window)),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def clear(tx: TransactWrite, pk: str) -> None:
    """Delete a consecutive-attempts item in the caller's transaction (ATTEMPTS)."""
    if isinstance(tx, UnitOfWork):
        tx.delete(AttemptsModel(pk), name=ATTEMPTS)
    else:
        tx.delete(AttemptsModel(pk))
