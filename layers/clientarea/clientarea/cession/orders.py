"""Cession: the transfer of a service to another client account, confirmed by both.

This module holds an order's states, its parties and what each state allows; the
steps are `ordering` (order, list, read), `lifecycle` (activate, resend, cancel),
`answers` (confirm, decline through a link), `withdrawal` (a manual recovery's
approval cancelling an account's orders), `workflow` (the state machine) and `mails`.

```mermaid
stateDiagram-v2
    [*] --> awaiting_activation: POST /services/{id}/cession (the service is held)
    awaiting_activation --> awaiting_confirmations: POST /orders/{id}/activate (links, workflow)
    awaiting_activation --> cancelled: POST /orders/{id}/cancel (owner; service released)
    awaiting_confirmations --> awaiting_confirmations: POST /cession/confirm (one party), resend
    awaiting_confirmations --> completed: workflow, both confirmed (service moves, one transaction)
    awaiting_confirmations --> declined: POST /cession/decline (either party; service released)
    awaiting_confirmations --> cancelled: POST /orders/{id}/cancel (owner; service released)
    awaiting_activation --> cancelled: staff approve a manual recovery of either party
    awaiting_confirmations --> cancelled: staff approve a manual recovery of either party
    awaiting_confirmations --> expired: workflow, window over without both (service released)
    completed --> [*]
    declined --> [*]
    cancelled --> [*]
    expired --> [*]
```

Who does what. This package makes every transition a person asks for; the state
machine (`infra/statemachines/cession.asl.json`, a Standard workflow of DynamoDB and
SQS service integrations only) makes the two that nobody asks for: the transfer once
both have confirmed, and the expiry when the window ends. The order item is the
single source of truth; the workflow's two `.waitForTaskToken` branches are only
alarm clocks:

- A branch stores its task token on the order *only if* its party has not confirmed
  and the order is still open (a conditional update), then waits.
- A confirmation is first written to the order (in one transaction with using up the
  link), then the stored token, if any, is woken with SendTaskSuccess. DynamoDB
  orders the two writes: either the token was stored first (and is woken) or the
  branch finds the confirmation and ends at once. No confirmation is ever lost, even
  one that arrives before the workflow started, and a lost wake-up only delays the
  outcome to the end of the window, where the workflow still decides from the item.
- Decline and cancel close the order, release the service and revoke the links in
  one transaction, then wake both branches. Moto's `stop_execution` does not end a
  waiting task (and the order must refuse late tokens anyway), so they never rely on it.
  A manual recovery's approval cancels every open order of the account the same way,
  inside the approval's own transaction (`withdraw_all`): the links mailed to the old
  address die with it, and the woken workflows end as after any cancel.
- The transfer is one transaction conditioned on the order being open with both
  confirmations and on the service still belonging to the owner and held by this
  order. No interleaving of confirm, decline, cancel, resend, expiry or retry can move
  a service without both confirmations, give it two owners or lose it.

Links carry a per-party secret (`clientarea.tokens`, stored hashed, one live link per
party: a resend supersedes). The task tokens never leave the order item: not in a
link, a response or a log.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from clientarea import clock, tokens
from clientarea.errors import Forbidden, InvalidOrderState, NotFound, TokenInvalid
from clientarea.statuses import OrderStatus
from clientarea.storage import orders as store
from clientarea.storage.orders import OrderModel

OPEN = frozenset({OrderStatus.AWAITING_ACTIVATION, OrderStatus.AWAITING_CONFIRMATIONS})


class Party(StrEnum):
    OWNER = "owner"
    RECIPIENT = "recipient"

    @property
    def other(self) -> "Party":
        return Party.RECIPIENT if self is Party.OWNER else Party.OWNER


class Action(StrEnum):
    ACTIVATE = "activate"
    RESEND = "resend"
    CANCEL = "cancel"
    CONFIRM = "confirm"
    DECLINE = "decline"


# What each state allows; a state or action not listed allows nothing (fails closed).
# Activating an activated order is a retry: it only makes sure the workflow runs.
_ALLOWED: dict[OrderStatus, frozenset[Action]] = {
    OrderStatus.AWAITING_ACTIVATION: frozenset({Action.ACTIVATE, Action.CANCEL}),
    OrderStatus.AWAITING_CONFIRMATIONS: frozenset(
        {Action.ACTIVATE, Action.RESEND, Action.CANCEL, Action.CONFIRM, Action.DECLINE}
    ),
}


# --- views ------------------------------------------------------------------------------


class PartyView(NamedTuple):
    client_number: int
    confirmed_at: str | None


class Order(NamedTuple):
    """An order as both parties see it (API.md: "An order is …")."""

    order_id: str
    service_id: str
    product: str
    domain: str
    status: str
    owner: PartyView
    recipient: PartyView
    created_at: str
    expires_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "type": "cession",
            "service_id": self.service_id,
            "product": self.product,
            "domain": self.domain,
            "status": self.status,
            "owner": self.owner._asdict(),
            "recipient": self.recipient._asdict(),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }


class Answer(NamedTuple):
    order_id: str
    party: str
    status: str


def _iso(moment: datetime | None) -> str | None:
    return clock.iso(moment) if moment is not None else None


def view(order: OrderModel) -> Order:
    return Order(
        order_id=order.order_id,
        service_id=order.service_id,
        product=order.product,
        domain=order.domain,
        status=order.status,
        owner=PartyView(int(order.owner_client_number), _iso(order.owner_confirmed_at)),
        recipient=PartyView(int(order.recipient_client_number), _iso(order.recipient_confirmed_at)),
        created_at=clock.iso(order.created_at),
        expires_at=_iso(order.expires_at),
    )


# --- the order item and its parties -------------------------------------------------------


def status_of(order: OrderModel) -> OrderStatus:
    try:
        return OrderStatus(order.status)
    except ValueError as exc:  # a status this code does not know allows nothing
        raise InvalidOrderState from exc


def require(order: OrderModel, action: Action) -> OrderStatus:
    """The order's status, if it allows `action`; InvalidOrderState otherwise."""
    current = status_of(order)
    if action not in _ALLOWED.get(current, frozenset()):
        raise InvalidOrderState
    return current


def party_number(order: OrderModel, party: Party) -> int:
    number = order.owner_client_number if party is Party.OWNER else order.recipient_client_number
    return int(number)


def confirmed_at(order: OrderModel, party: Party) -> datetime | None:
    return order.owner_confirmed_at if party is Party.OWNER else order.recipient_confirmed_at


def task_token(order: OrderModel, party: Party) -> str | None:
    return order.owner_task_token if party is Party.OWNER else order.recipient_task_token


def party_of(order: OrderModel, client_number: int) -> Party | None:
    if int(order.owner_client_number) == client_number:
        return Party.OWNER
    if int(order.recipient_client_number) == client_number:
        return Party.RECIPIENT
    return None


def load(order_id: str) -> OrderModel:
    """The order (a consistent read); NotFound for a malformed or unknown id alike."""
    return store.get_order(order_id)


def party_order(client_number: int, order_id: str) -> tuple[OrderModel, Party]:
    """The order and the caller's side of it; another client's order does not exist."""
    order = load(order_id)
    party = party_of(order, client_number)
    if party is None:
        raise NotFound
    return order, party


def owner_order(client_number: int, order_id: str) -> OrderModel:
    order, party = party_order(client_number, order_id)
    if party is not Party.OWNER:
        raise Forbidden
    return order


def link_subject(order_id: str, party: Party) -> str:
    return f"{order_id}-{party}"


def parse_subject(subject: str) -> tuple[str, Party]:
    order_id, _, party = subject.rpartition("-")
    try:
        return order_id, Party(party)
    except ValueError as exc:
        raise TokenInvalid from exc


def revoked_links(order_id: str) -> list[Any]:
    """Both parties' links, to delete in the transaction that closes the order."""
    return [
        tokens.revoke(tokens.Purpose.CESSION_ANSWER, link_subject(order_id, party))
        for party in Party
    ]
