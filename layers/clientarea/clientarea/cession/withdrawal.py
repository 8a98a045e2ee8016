"""A manual recovery's approval cancels every open order of the account, inside the
approval's own transaction: the links mailed to the old address die with it, and the
woken workflows end as after any cancel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from clientarea.cession import mails, workflow
from clientarea.cession.orders import OPEN, revoked_links
from clientarea.errors import InvalidOrderState
from clientarea.statuses import OrderStatus
from clientarea.storage import orders as store
from clientarea.storage.orders import OrderModel

if TYPE_CHECKING:
    from clientarea.storage.unit_of_work import UnitOfWork

logger = Logger()

# At most this many orders are cancelled inside the caller's transaction (DynamoDB takes
# 100 items; each order is 4, and the recovery approval needs 7 of its own). Any beyond
# are cancelled right after it commits, each in a transaction of its own.
WITHDRAW_IN_TRANSACTION = 20


@dataclass
class Withdrawal:
    """Every open order of one account (as owner or recipient), to cancel within the
    caller's unit of work: `cancel(uow)` adds the writes (each order's condition is
    `storage.orders.ORDER_STATE`), and once that unit has committed `finish()` wakes the
    workflows and tells both parties of each order."""

    orders: list[OrderModel]

    @property
    def order_ids(self) -> list[str]:
        return [order.order_id for order in self.orders]

    def cancel(self, uow: UnitOfWork) -> None:
        for order in self.orders[:WITHDRAW_IN_TRANSACTION]:
            store.cancel_order(order, **_cancellation(order), uow=uow)

    def finish(self) -> None:
        cancelled = self.orders[:WITHDRAW_IN_TRANSACTION]
        for order in self.orders[WITHDRAW_IN_TRANSACTION:]:
            try:
                store.cancel_order(order, **_cancellation(order))
            except InvalidOrderState:
                logger.warning(
                    "order finished before it could be cancelled",
                    extra={"order_id": order.order_id},
                )
                continue
            cancelled.append(order)
        for order in cancelled:
            # After the commit: a branch that stored its token before it is woken, one
            # that tries later finds the order closed and ends at once.
            store.refresh(order)
            workflow.wake_both(order)
            mails.notify(order, "cession_cancelled", cancelled_by="staff")


def _cancellation(order: OrderModel) -> dict[str, Any]:
    """Cancelled if still open, the service released, both links revoked."""
    return {
        "status": OrderStatus.CANCELLED,
        "expected": tuple(OPEN),
        "revoked": revoked_links(order.order_id),
    }


def withdraw_all(client_number: int) -> Withdrawal:
    """The account's open orders, as owner and as recipient, from the indexes (an order
    created in the last few milliseconds may not be in them yet; a finished one found
    open there makes the caller's transaction fail, to be retried)."""
    found = store.orders_of(client_number, statuses=tuple(OPEN))
    return Withdrawal(sorted(found, key=lambda order: order.created_at))
