"""Cession orders: the items, their keys, and every write and read of them
(`clientarea.cession.*` are the only callers; the state machine reads and writes the
same items, infra/statemachines/cession.asl.json).

Each transition is one unit of work conditioned on the state read, its conditions named
(`NEW_ORDER`, `ORDER_STATE`, the links' `tokens.LINK`, the service's `services.HOLD` and
`RELEASE`); refused, it is the domain error the caller's step means (`InvalidOrderState`,
`TokenInvalid`, `CessionPending`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from clientarea import clock, config
from clientarea.availability import translated
from clientarea.errors import CessionPending, InvalidOrderState, NotFound, TokenInvalid
from clientarea.storage import services as service_store
from clientarea.storage import tokens as token_store
from clientarea.storage.base import Model, TableMeta, get_or_not_found
from clientarea.storage.unit_of_work import UnitOfWork, joining

_ORDER_ID = re.compile(r"^ces-[0-9a-f]{16}$")
OWNER = "owner"  # the parties, as clientarea.cession.orders.Party names them
# Condition names (unit of work).
NEW_ORDER = "new order"  # an order id is used once
ORDER_STATE = "order state"  # the order is still in the status the step was decided on


# What an order view needs, never the task tokens (template.yaml projects the same).
_ORDER_VIEW = [
    "type",
    "status",
    "service_id",
    "product",
    "domain",
    "owner_confirmed_at",
    "recipient_confirmed_at",
    "activated_at",
    "expires_at",
    "closed_at",
    "declined_by",
]


class OrdersByOwner(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "by-owner"
        projection = IncludeProjection([*_ORDER_VIEW, "recipient_client_number"])

    owner_client_number = NumberAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OrdersByRecipient(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "by-recipient"
        projection = IncludeProjection([*_ORDER_VIEW, "owner_client_number"])

    recipient_client_number = NumberAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OrderModel(Model):
    """A cession order, keyed by `order_id`; the state machine reads and writes it too.

    The attribute names are shared with the state machine definition: change both.
    `*_task_token` are the Step Functions task tokens of the waiting branches; they
    never leave clientarea.cession (no view, no log, no link).
    """

    class Meta(TableMeta):
        table_name = config.orders_table()

    order_id = UnicodeAttribute(hash_key=True)
    order_type = UnicodeAttribute(attr_name="type", default="cession")
    status = UnicodeAttribute()  # OrderStatus
    service_id = UnicodeAttribute()
    product = UnicodeAttribute()  # what was ordered, as it was then
    domain = UnicodeAttribute()
    owner_client_number = NumberAttribute()
    recipient_client_number = NumberAttribute()
    owner_confirmed_at = UTCDateTimeAttribute(null=True)
    recipient_confirmed_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    activated_at = UTCDateTimeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    # ISO 8601 text: the state machine writes it too, in its own format.
    closed_at = UnicodeAttribute(null=True)
    declined_by = UnicodeAttribute(null=True)  # Party
    owner_task_token = UnicodeAttribute(null=True)
    recipient_task_token = UnicodeAttribute(null=True)
    by_owner = OrdersByOwner()
    by_recipient = OrdersByRecipient()


# --- orders -----------------------------------------------------------------------------


@translated
def get_order(order_id: str) -> OrderModel:
    """The order as it is now (a consistent read); NotFound for a malformed or unknown
    id alike."""
    if not _ORDER_ID.match(order_id):
        raise NotFound
    return get_or_not_found(OrderModel, order_id)


@translated
def refresh(order: OrderModel) -> None:
    """Read the order again (consistently), in place."""
    order.refresh(consistent_read=True)


@translated
def orders_of(client_number: int, *, statuses: Sequence[str] = ()) -> list[OrderModel]:
    """The orders where `client_number` is the owner or the recipient (from the indexes,
    which may lag a write by milliseconds), only those in `statuses` if given."""
    condition = OrderModel.status.is_in(*statuses) if statuses else None
    found = {
        order.order_id: order
        for index in (OrderModel.by_owner, OrderModel.by_recipient)
        for order in index.query(client_number, filter_condition=condition)
    }
    return list(found.values())


def create_order(
    service: Any, *, status: str, recipient: int, give_back: Iterable[Any]
) -> OrderModel:
    """A new order for `service`, holding it, in one unit of work with `give_back`
    (counts returned to their limits): CessionPending if the service is held or changed
    owner."""
    owner = int(service.owner_client_number)
    order = OrderModel(
        f"ces-{secrets.token_hex(8)}",
        status=status,
        service_id=service.service_id,
        product=service.product,
        domain=service.domain,
        owner_client_number=owner,
        recipient_client_number=recipient,
        created_at=clock.now(),
    )
    with UnitOfWork(refused=CessionPending) as uow:
        uow.save(order, condition=OrderModel.order_id.does_not_exist(), name=NEW_ORDER)
        service_store.hold(uow, service.service_id, order.order_id, owner=owner)
        for hit in give_back:
            hit.give_back(uow)
    return order


def activate_order(
    order: OrderModel,
    *,
    expected: str,
    status: str,
    now: datetime,
    expires_at: datetime,
    links: Iterable[Any],
) -> None:
    """Open the confirmation window and store both links in one unit of work, only from
    `expected`; InvalidOrderState if the order moved meanwhile. `order` is updated to
    what was written, without reading it back."""
    window = [
        OrderModel.status.set(status),
        OrderModel.activated_at.set(now),
        OrderModel.expires_at.set(expires_at),
    ]
    with UnitOfWork(refused=InvalidOrderState) as uow:
        _transition(uow, order, expected, window, model=order)
        for item in links:
            token_store.save(uow, item)
    order.status = status
    order.activated_at = now
    order.expires_at = expires_at


def cancel_order(
    order: OrderModel,
    *,
    status: str,
    expected: Sequence[str],
    revoked: Iterable[Any],
    uow: UnitOfWork | None = None,
) -> None:
    """Close the order as `status` (if its status is one of `expected`: ORDER_STATE),
    release the service and delete `revoked` (links): in the caller's `uow` if given,
    else in one of its own, InvalidOrderState if it is refused."""
    closing = [OrderModel.status.set(status), OrderModel.closed_at.set(clock.iso(clock.now()))]
    with joining(uow, refused=InvalidOrderState) as unit:
        _transition(unit, order, expected, closing)
        _release_service(unit, order)
        _revoke(unit, revoked)


def confirm_order(
    order: OrderModel, party: str, *, expected: str, consumed: tuple[Any, Any]
) -> None:
    """Record `party`'s confirmation, using up its link (`consumed`: the token item and
    its condition) in the same unit of work; TokenInvalid if either condition fails."""
    confirmed_at = _confirmed_attribute(party)
    unanswered = confirmed_at.does_not_exist()
    with UnitOfWork(refused=TokenInvalid) as uow:
        _use_link(uow, consumed)
        _transition(uow, order, expected, [confirmed_at.set(clock.now())], extra=unanswered)


def decline_order(
    order: OrderModel,
    party: str,
    *,
    expected: str,
    status: str,
    consumed: tuple[Any, Any],
    revoked: Any,
) -> None:
    """Close the order as declined by `party`, using up its link, releasing the service
    and deleting the other party's link (`revoked`), in one unit of work; TokenInvalid
    if a condition fails."""
    declined = [
        OrderModel.status.set(status),
        OrderModel.declined_by.set(party),
        OrderModel.closed_at.set(clock.iso(clock.now())),
    ]
    unanswered = _confirmed_attribute(party).does_not_exist()
    with UnitOfWork(refused=TokenInvalid) as uow:
        _use_link(uow, consumed)
        _transition(uow, order, expected, declined, extra=unanswered)
        _release_service(uow, order)
        _revoke(uow, [revoked])


def _transition(
    uow: UnitOfWork,
    order: OrderModel,
    expected: str | Sequence[str],
    actions: list[Any],
    *,
    extra: Any = None,
    model: OrderModel | None = None,
) -> None:
    """Update the order with `actions` only from `expected` (and `extra`): ORDER_STATE."""
    condition: Any
    if isinstance(expected, str) or len(expected) == 1:
        condition = OrderModel.status == (expected if isinstance(expected, str) else expected[0])
    else:
        condition = OrderModel.status.is_in(*expected)
    if extra is not None:
        condition &= extra
    target = model if model is not None else OrderModel(order.order_id)
    uow.update(target, actions=actions, condition=condition, name=ORDER_STATE)


def _use_link(uow: UnitOfWork, consumed: tuple[Any, Any]) -> None:
    item, condition = consumed
    uow.delete(item, condition=condition, name=token_store.LINK)


def _revoke(uow: UnitOfWork, revoked: Iterable[Any]) -> None:
    for item in revoked:
        token_store.revoke(uow, item.pk)


def _confirmed_attribute(party: str) -> Any:
    return OrderModel.owner_confirmed_at if party == OWNER else OrderModel.recipient_confirmed_at


def _release_service(uow: UnitOfWork, order: OrderModel) -> None:
    service_store.release(uow, order.service_id, order.order_id)
