"""Cession orders: the items, their keys, and every write and read of them
(`clientarea.cession.*` are the only callers; the state machine reads and writes the
same items, infra/statemachines/cession.asl.json).

Each transition is one transaction conditioned on the state read; a failed condition is
the domain error the caller's step means (`InvalidOrderState`, `TokenInvalid`,
`CessionPending`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.transactions import TransactWrite

from clientarea import clock, config
from clientarea.availability import translated
from clientarea.errors import CessionPending, InvalidOrderState, NotFound, TokenInvalid
from clientarea.storage import services as service_store
from clientarea.storage.base import Model, transaction
from clientarea.storage.base import TableMeta as _Meta

_ORDER_ID = re.compile(r"^ces-[0-9a-f]{16}$")
OWNER = "owner"  # the parties, as clientarea.cession.orders.Party names them


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

    class Meta(_Meta):
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
    try:
        return OrderModel.get(order_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound from exc


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
    """A new order for `service`, holding it, in one transaction with `give_back` (counts
    returned to their limits): CessionPending if the service is held or changed owner."""
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
    try:
        with transaction() as tx:
            tx.save(order, condition=OrderModel.order_id.does_not_exist())
            service_store.hold_in(tx, service.service_id, order.order_id, owner=owner)
            for hit in give_back:
                hit.give_back(tx)
    except TransactWriteError as exc:
        raise CessionPending from exc
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
    """Open the confirmation window and store both links in one transaction, only from
    `expected`; InvalidOrderState if the order moved meanwhile. `order` is updated to
    what was written, without reading it back."""
    try:
        with transaction() as tx:
            tx.update(
                order,
                actions=[
                    OrderModel.status.set(status),
                    OrderModel.activated_at.set(now),
                    OrderModel.expires_at.set(expires_at),
                ],
                condition=OrderModel.status == expected,
            )
            for item in links:
                tx.save(item)
    except TransactWriteError as exc:
        raise InvalidOrderState from exc
    order.status = status
    order.activated_at = now
    order.expires_at = expires_at


def cancel_order(
    order: OrderModel, *, status: str, expected: Sequence[str], revoked: Iterable[Any]
) -> None:
    """Cancel in a transaction of its own; InvalidOrderState if no longer `expected`."""
    try:
        with transaction() as tx:
            cancel_order_in(tx, order, status=status, expected=expected, revoked=revoked)
    except TransactWriteError as exc:
        raise InvalidOrderState from exc


def cancel_order_in(
    tx: TransactWrite,
    order: OrderModel,
    *,
    status: str,
    expected: Sequence[str],
    revoked: Iterable[Any],
) -> None:
    """A cancellation's writes in the caller's transaction: the order closed (if its
    status is one of `expected`), the service released, `revoked` (links) deleted."""
    tx.update(
        OrderModel(order.order_id),
        actions=[OrderModel.status.set(status), OrderModel.closed_at.set(clock.iso(clock.now()))],
        condition=(
            OrderModel.status == expected[0]
            if len(expected) == 1
            else OrderModel.status.is_in(*expected)
        ),
    )
    _release_service(tx, order)
    for item in revoked:
        tx.delete(item)


def confirm_order(
    order: OrderModel, party: str, *, expected: str, consumed: tuple[Any, Any]
) -> None:
    """Record `party`'s confirmation, using up its link (`consumed`: the token item and
    its condition) in the same transaction; TokenInvalid if either condition fails."""
    confirmed_at = _confirmed_attribute(party)
    item, condition = consumed
    try:
        with transaction() as tx:
            tx.delete(item, condition=condition)
            tx.update(
                OrderModel(order.order_id),
                actions=[confirmed_at.set(clock.now())],
                condition=(OrderModel.status == expected) & confirmed_at.does_not_exist(),
            )
    except TransactWriteError as exc:
        raise TokenInvalid from exc


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
    and deleting the other party's link (`revoked`), in one transaction; TokenInvalid
    if a condition fails."""
    item, condition = consumed
    try:
        with transaction() as tx:
            tx.delete(item, condition=condition)
            tx.update(
                OrderModel(order.order_id),
                actions=[
                    OrderModel.status.set(status),
                    OrderModel.declined_by.set(party),
                    OrderModel.closed_at.set(clock.iso(clock.now())),
                ],
                condition=(OrderModel.status == expected)
                & _confirmed_attribute(party).does_not_exist(),
            )
            _release_service(tx, order)
            tx.delete(revoked)
    except TransactWriteError as exc:
        raise TokenInvalid from exc


def _confirmed_attribute(party: str) -> Any:
    return OrderModel.owner_confirmed_at if party == OWNER else OrderModel.recipient_confirmed_at


def _release_service(tx: TransactWrite, order: OrderModel) -> None:
    service_store.release_in(tx, order.service_id, order.order_id)
