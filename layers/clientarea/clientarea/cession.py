"""Cession: the transfer of a service to another client account, confirmed by both.

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

Who does what. This module makes every transition a person asks for; the state
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

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from clientarea import (
    availability,
    clock,
    config,
    services,
    telemetry,
    throttling,
    tokens,
)
from clientarea.accounts import identity
from clientarea.errors import (
    CessionPending,
    Forbidden,
    InvalidOrderState,
    NotFound,
    RecipientMismatch,
    TokenInvalid,
)
from clientarea.mail import outbox
from clientarea.roles import Role
from clientarea.storage import accounts as account_store
from clientarea.tables import (
    AccountModel,
    OrderModel,
    ServiceModel,
    transaction,
)

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

logger = Logger()

_ORDER_ID = re.compile(r"^ces-[0-9a-f]{16}$")
MIN_LINK_LIFETIME = timedelta(seconds=1)
# Re-sent links per party and hour: each one is a mail to that party's address.
RESENDS_PER_PARTY_PER_HOUR = 5


def resends_per_party() -> throttling.Limit:
    return throttling.Limit("cession_resends", RESENDS_PER_PARTY_PER_HOUR, 3600)


# Recipient checks that did not match, per owner account and per address and hour: each
# answers whether a login and a client number belong together, which an enumerator wants.
RECIPIENT_MISMATCHES_PER_ACCOUNT_PER_HOUR = 10


def recipient_mismatches_per_account() -> throttling.Limit:
    return throttling.Limit(
        "cession_recipient_account", RECIPIENT_MISMATCHES_PER_ACCOUNT_PER_HOUR, 3600
    )


def recipient_mismatches_per_ip() -> throttling.Limit:
    return throttling.Limit("cession_recipient_ip", config.ip_requests_per_hour(), 3600)


class OrderStatus(StrEnum):
    AWAITING_ACTIVATION = "awaiting_activation"
    AWAITING_CONFIRMATIONS = "awaiting_confirmations"
    COMPLETED = "completed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


OPEN = frozenset({OrderStatus.AWAITING_ACTIVATION, OrderStatus.AWAITING_CONFIRMATIONS})


class Party(StrEnum):
    OWNER = "owner"
    RECIPIENT = "recipient"

    @property
    def other(self) -> Party:
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


@dataclass(frozen=True)
class PartyView:
    client_number: int
    confirmed_at: str | None


@dataclass(frozen=True)
class Order:
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
            "owner": vars(self.owner),
            "recipient": vars(self.recipient),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }


@dataclass(frozen=True)
class Answer:
    order_id: str
    party: str
    status: str


def _iso(moment: datetime | None) -> str | None:
    return clock.iso(moment) if moment is not None else None


def _view(order: OrderModel) -> Order:
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


def _status(order: OrderModel) -> OrderStatus:
    try:
        return OrderStatus(order.status)
    except ValueError as exc:  # a status this code does not know allows nothing
        raise InvalidOrderState from exc


def _require(order: OrderModel, action: Action) -> OrderStatus:
    """The order's status, if it allows `action`; InvalidOrderState otherwise."""
    status = _status(order)
    if action not in _ALLOWED.get(status, frozenset()):
        raise InvalidOrderState
    return status


def _client_number(order: OrderModel, party: Party) -> int:
    number = order.owner_client_number if party is Party.OWNER else order.recipient_client_number
    return int(number)


def _confirmed_at(order: OrderModel, party: Party) -> datetime | None:
    return order.owner_confirmed_at if party is Party.OWNER else order.recipient_confirmed_at


def _confirmed_attribute(party: Party) -> Any:
    return (
        OrderModel.owner_confirmed_at if party is Party.OWNER else OrderModel.recipient_confirmed_at
    )


def _task_token(order: OrderModel, party: Party) -> str | None:
    return order.owner_task_token if party is Party.OWNER else order.recipient_task_token


def _party_of(order: OrderModel, client_number: int) -> Party | None:
    if int(order.owner_client_number) == client_number:
        return Party.OWNER
    if int(order.recipient_client_number) == client_number:
        return Party.RECIPIENT
    return None


def _load(order_id: str) -> OrderModel:
    if not _ORDER_ID.match(order_id):
        raise NotFound
    try:
        return OrderModel.get(order_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound from exc


def _party_order(client_number: int, order_id: str) -> tuple[OrderModel, Party]:
    """The order and the caller's side of it; another client's order does not exist."""
    order = _load(order_id)
    party = _party_of(order, client_number)
    if party is None:
        raise NotFound
    return order, party


def _owner_order(client_number: int, order_id: str) -> OrderModel:
    order, party = _party_order(client_number, order_id)
    if party is not Party.OWNER:
        raise Forbidden
    return order


def _link_subject(order_id: str, party: Party) -> str:
    return f"{order_id}-{party}"


def _parse_subject(subject: str) -> tuple[str, Party]:
    order_id, _, party = subject.rpartition("-")
    try:
        return order_id, Party(party)
    except ValueError as exc:
        raise TokenInvalid from exc


# --- ordering -------------------------------------------------------------------------------


def order_cession(
    owner: int,
    service_id: str,
    *,
    recipient_login: str,
    recipient_client_number: int,
    client_ip: str,
) -> Order:
    """Create an order to give `service_id` to another account, holding the service.

    The order and the hold on the service are one transaction: two orders racing for
    one service cannot both be created. The recipient check is counted, per address and
    per owner account, before it is made (so that no burst gets more answers than the
    limits), and a match gives its counts back in the order's transaction: only
    mismatches are limited.
    """
    service = services.get(service_id)
    if service.owner_client_number != owner:
        raise NotFound  # someone else's service looks like no service at all
    if service.open_order_id is not None:
        raise CessionPending
    counted = [
        throttling.hit(recipient_mismatches_per_ip(), client_ip),
        throttling.hit(recipient_mismatches_per_account(), str(owner)),
    ]
    recipient = _recipient(recipient_login, recipient_client_number, owner=owner)
    order = OrderModel(
        f"ces-{secrets.token_hex(8)}",
        status=OrderStatus.AWAITING_ACTIVATION,
        service_id=service.service_id,
        product=service.product,
        domain=service.domain,
        owner_client_number=owner,
        recipient_client_number=int(recipient.client_number),
        created_at=clock.now(),
    )
    try:
        with transaction() as tx:
            tx.save(order, condition=OrderModel.order_id.does_not_exist())
            tx.update(
                ServiceModel(service.service_id),
                actions=[ServiceModel.open_order_id.set(order.order_id)],
                condition=(ServiceModel.owner_client_number == owner)
                & ServiceModel.open_order_id.does_not_exist(),
            )
            for hit in counted:
                hit.give_back(tx)
    except TransactWriteError as exc:
        if services.get(service_id).owner_client_number != owner:
            raise NotFound from exc
        raise CessionPending from exc
    return _view(order)


def _recipient(login: str, client_number: int, *, owner: int) -> AccountModel:
    """The one active client account that both the login and the number name.

    Every failure is the same RecipientMismatch, so the form cannot be used to find
    out which logins exist or which number belongs to which login.
    """
    if client_number == owner:
        raise RecipientMismatch
    if account_store.claimant(account_store.login_claim_key(login.strip())) != client_number:
        raise RecipientMismatch
    try:
        account = identity.get_account(client_number, ("client_number", "role", "status"))
    except NotFound as exc:
        raise RecipientMismatch from exc
    if account.role != Role.CLIENT or account.status != identity.AccountStatus.ACTIVE:
        raise RecipientMismatch
    return account


def list_orders(client_number: int) -> list[Order]:
    """Orders where the caller is the owner or the recipient, newest first (from the
    indexes, which may lag a write by milliseconds; GET /orders/{id} reads the item)."""
    found = {
        order.order_id: order
        for index in (OrderModel.by_owner, OrderModel.by_recipient)
        for order in index.query(client_number)
    }
    newest_first = sorted(found.values(), key=lambda o: o.created_at, reverse=True)
    return [_view(order) for order in newest_first]


def get_order(client_number: int, order_id: str) -> Order:
    order, _ = _party_order(client_number, order_id)
    return _view(order)


# --- transitions the parties ask for -----------------------------------------------------


def activate(client_number: int, order_id: str) -> Order:
    """Start the confirmations: the window opens, the workflow starts, both get a link."""
    order = _owner_order(client_number, order_id)
    if _require(order, Action.ACTIVATE) is OrderStatus.AWAITING_CONFIRMATIONS:
        _start_workflow(order.order_id)  # a retry: make sure the workflow runs, send nothing
        return _view(order)
    now = clock.now()
    expires_at = now + timedelta(seconds=config.cession_timeout_seconds())
    lifetime = max(expires_at - now, MIN_LINK_LIFETIME)
    links = {
        party: tokens.prepare(
            tokens.Purpose.CESSION_ANSWER, _link_subject(order.order_id, party), lifetime
        )
        for party in Party
    }
    # The window and both links in one transaction: a failure leaves the order waiting
    # for activation (so that a retry activates and mails), never an open window whose
    # links were never stored.
    try:
        with transaction() as tx:
            tx.update(
                order,
                actions=[
                    OrderModel.status.set(OrderStatus.AWAITING_CONFIRMATIONS),
                    OrderModel.activated_at.set(now),
                    OrderModel.expires_at.set(expires_at),
                ],
                condition=OrderModel.status == OrderStatus.AWAITING_ACTIVATION,
            )
            for item, _ in links.values():
                tx.save(item)
    except TransactWriteError as exc:
        # A concurrent activate or cancel won: answer as a retry, or refuse.
        return _after_lost_race(order_id, exc)
    # What the transaction wrote (it does not update `order`), without reading it back.
    order.status = OrderStatus.AWAITING_CONFIRMATIONS
    order.activated_at = now
    order.expires_at = expires_at
    # Started before the links go out, so that a crash in between leaves a running
    # workflow (the parties can have their links re-sent), never links without one.
    _start_workflow(order.order_id)
    for party, (_, issued) in links.items():
        _mail_link(order, party, issued, lifetime)
    return _view(order)


def _after_lost_race(order_id: str, exc: Exception) -> Order:
    order = _load(order_id)
    if _status(order) is not OrderStatus.AWAITING_CONFIRMATIONS:
        raise InvalidOrderState from exc
    return _view(order)


def resend(client_number: int, order_id: str, party: Party) -> None:
    """A new link for `party`, which kills its previous one.

    The owner may resend either link; the recipient only its own (so that it cannot
    keep killing the owner's). Each link is mailed to its own party's address only.
    """
    order, caller = _party_order(client_number, order_id)
    if caller is Party.RECIPIENT and party is not Party.RECIPIENT:
        raise Forbidden
    _require(order, Action.RESEND)
    if _confirmed_at(order, party) is not None:
        raise InvalidOrderState  # that party has answered: there is nothing to confirm
    throttling.hit(resends_per_party(), _link_subject(order_id, party))
    _send_link(order, party)


def cancel(client_number: int, order_id: str) -> Order:
    """The owner withdraws the order (until it is finished); the service is released."""
    order = _owner_order(client_number, order_id)
    was = _require(order, Action.CANCEL)
    try:
        with transaction() as tx:
            _cancel_in(tx, order, OrderModel.status == was)
    except TransactWriteError as exc:
        raise InvalidOrderState from exc  # it changed meanwhile: completed, declined, …
    order.refresh(consistent_read=True)
    if was is OrderStatus.AWAITING_CONFIRMATIONS:  # only then had anyone been mailed
        _notify(order, "cession_cancelled", cancelled_by="owner")
    _wake_both(order)  # after the mail: should waking fail, the parties know anyway
    return _view(order)


def _cancel_in(tx: TransactWrite, order: OrderModel, condition: Any) -> None:
    """A cancellation's writes: the order closed (if `condition` holds), the service
    released, both parties' links revoked."""
    tx.update(
        OrderModel(order.order_id),
        actions=[
            OrderModel.status.set(OrderStatus.CANCELLED),
            OrderModel.closed_at.set(clock.iso(clock.now())),
        ],
        condition=condition,
    )
    _release_service(tx, order)
    for party in Party:
        tx.delete(
            tokens.revoke(tokens.Purpose.CESSION_ANSWER, _link_subject(order.order_id, party))
        )


# At most this many orders are cancelled inside the caller's transaction (DynamoDB takes
# 100 items; each order is 4, and the recovery approval needs 7 of its own). Any beyond
# are cancelled right after it commits, each in a transaction of its own.
WITHDRAW_IN_TRANSACTION = 20


@dataclass
class Withdrawal:
    """Every open order of one account (as owner or recipient), to cancel within the
    caller's transaction: `cancel_in(tx)` adds the writes, and once that transaction has
    committed `finish()` wakes the workflows and tells both parties of each order."""

    orders: list[OrderModel]

    @property
    def order_ids(self) -> list[str]:
        return [order.order_id for order in self.orders]

    def cancel_in(self, tx: TransactWrite) -> None:
        for order in self.orders[:WITHDRAW_IN_TRANSACTION]:
            _cancel_in(tx, order, OrderModel.status.is_in(*OPEN))

    def finish(self) -> None:
        cancelled = self.orders[:WITHDRAW_IN_TRANSACTION]
        for order in self.orders[WITHDRAW_IN_TRANSACTION:]:
            try:
                with transaction() as tx:
                    _cancel_in(tx, order, OrderModel.status.is_in(*OPEN))
            except TransactWriteError:
                logger.warning(
                    "order finished before it could be cancelled",
                    extra={"order_id": order.order_id},
                )
                continue
            cancelled.append(order)
        for order in cancelled:
            # After the commit: a branch that stored its token before it is woken, one
            # that tries later finds the order closed and ends at once.
            order.refresh(consistent_read=True)
            _wake_both(order)
            _notify(order, "cession_cancelled", cancelled_by="staff")


def withdraw_all(client_number: int) -> Withdrawal:
    """The account's open orders, as owner and as recipient, from the indexes (an order
    created in the last few milliseconds may not be in them yet; a finished one found
    open there makes the caller's transaction fail, to be retried)."""
    found = {
        order.order_id: order
        for index in (OrderModel.by_owner, OrderModel.by_recipient)
        for order in index.query(client_number, filter_condition=OrderModel.status.is_in(*OPEN))
    }
    return Withdrawal(sorted(found.values(), key=lambda order: order.created_at))


def _release_service(tx: TransactWrite, order: OrderModel) -> None:
    tx.update(
        ServiceModel(order.service_id),
        actions=[ServiceModel.open_order_id.remove()],
        condition=ServiceModel.open_order_id == order.order_id,
    )


# --- answers through the emailed links ---------------------------------------------------


class Decision(StrEnum):
    CONFIRM = "confirm"
    DECLINE = "decline"


def answer(token: str, decision: Decision, *, client_ip: str) -> Answer:
    """Confirm or decline with a link's token; TokenInvalid for anything but a live link
    on an order that is waiting for this party's answer."""
    step = _ANSWERS.get(decision)
    if step is None:
        raise TokenInvalid
    valid = tokens.check(tokens.Purpose.CESSION_ANSWER, token, client_ip=client_ip)
    order_id, party = _parse_subject(valid.subject)
    try:
        order = _load(order_id)
        _require(order, Action(decision))
    except (NotFound, InvalidOrderState) as exc:
        raise TokenInvalid from exc
    return step(order, party, valid)


def _confirm(order: OrderModel, party: Party, valid: tokens.ValidToken) -> Answer:
    confirmed_at = _confirmed_attribute(party)
    try:
        with transaction() as tx:
            tx.delete(valid.item, condition=valid.consume_condition())
            tx.update(
                OrderModel(order.order_id),
                actions=[confirmed_at.set(clock.now())],
                condition=(OrderModel.status == OrderStatus.AWAITING_CONFIRMATIONS)
                & confirmed_at.does_not_exist(),
            )
    except TransactWriteError as exc:
        raise TokenInvalid from exc
    # Recorded first, then woken: read after the commit, the token is there exactly
    # when the branch stored it before our write (else the branch sees our write).
    order.refresh(consistent_read=True)
    _wake(_task_token(order, party))
    return Answer(order.order_id, party, order.status)


def _decline(order: OrderModel, party: Party, valid: tokens.ValidToken) -> Answer:
    try:
        with transaction() as tx:
            tx.delete(valid.item, condition=valid.consume_condition())
            tx.update(
                OrderModel(order.order_id),
                actions=[
                    OrderModel.status.set(OrderStatus.DECLINED),
                    OrderModel.declined_by.set(party),
                    OrderModel.closed_at.set(clock.iso(clock.now())),
                ],
                condition=(OrderModel.status == OrderStatus.AWAITING_CONFIRMATIONS)
                & _confirmed_attribute(party).does_not_exist(),
            )
            _release_service(tx, order)
            other_link = _link_subject(order.order_id, party.other)
            tx.delete(tokens.revoke(tokens.Purpose.CESSION_ANSWER, other_link))
    except TransactWriteError as exc:
        raise TokenInvalid from exc
    telemetry.count(telemetry.Metric.CESSION_DECLINED)
    order.refresh(consistent_read=True)
    _notify(order, "cession_declined", declined_by=str(party))
    _wake_both(order)  # after the mail: should waking fail, the parties know anyway
    return Answer(order.order_id, party, order.status)


_ANSWERS = {Decision.CONFIRM: _confirm, Decision.DECLINE: _decline}


# --- the workflow ------------------------------------------------------------------------


@cache
def _sfn() -> SFNClient:
    import boto3  # noqa: PLC0415 - only the requests that call this service pay for it

    return boto3.client("stepfunctions")


def _start_workflow(order_id: str) -> None:
    """Start the order's execution; its name is the order id, so a second start of the
    same order is refused by Step Functions instead of running twice."""
    try:
        _sfn().start_execution(
            stateMachineArn=config.cession_state_machine_arn(),
            name=order_id,
            input=json.dumps({"order_id": order_id}),
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise


# A branch that no longer waits for this token: it moved on, nothing to wake.
_GONE = frozenset({"InvalidToken", "TaskDoesNotExist", "TaskTimedOut"})


def _wake(task_token: str | None) -> None:
    """Wake a waiting branch. The decision is already on the order, so a branch that
    no longer waits is fine, and a throttled call only delays the outcome to the end of
    the window (logged, without the token). Anything else raises: a refused callback
    (AccessDenied) would leave every order waiting out its window without a word, so
    the request fails instead and the refusal is counted and alarmed (clientarea.web)."""
    if not task_token:
        return
    try:
        _sfn().send_task_success(taskToken=task_token, output="{}")
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in _GONE:
            return
        if availability.is_transient(exc):
            logger.warning("could not wake a cession branch", extra={"error_code": code})
            return
        raise


def _wake_both(order: OrderModel) -> None:
    for party in Party:
        _wake(_task_token(order, party))


# --- mail ------------------------------------------------------------------------------


def _mail_params(order: OrderModel, party: Party) -> dict[str, Any]:
    return {
        "party": str(party),
        "order_id": order.order_id,
        "product": order.product,
        "domain": order.domain,
        "other_client_number": _client_number(order, party.other),
        "order_link": outbox.page(f"/orders/{order.order_id}"),
    }


def _send_link(order: OrderModel, party: Party) -> None:
    expires_at = order.expires_at
    now = clock.now()
    if expires_at is None or now >= expires_at:
        raise InvalidOrderState  # the window is over; the workflow is closing the order
    lifetime = max(expires_at - now, MIN_LINK_LIFETIME)
    issued = tokens.issue(
        tokens.Purpose.CESSION_ANSWER, _link_subject(order.order_id, party), lifetime
    )
    _mail_link(order, party, issued, lifetime)


def _mail_link(
    order: OrderModel, party: Party, issued: tokens.IssuedToken, lifetime: timedelta
) -> None:
    account = identity.get_account(_client_number(order, party), identity.CONTACT)
    outbox.send(
        "cession_confirm",
        account.email,
        account.locale,
        full_name=account.full_name,
        link=outbox.link("/cession", issued.token),
        expires_at=clock.iso(order.expires_at),
        valid_for_seconds=int(lifetime.total_seconds()),
        **_mail_params(order, party),
    )


def _notify(order: OrderModel, kind: str, **extra: Any) -> None:
    """Tell both parties how the order ended (the workflow does it for completion and
    expiry, with the same parameters)."""
    for party in Party:
        account = identity.get_account(_client_number(order, party), identity.CONTACT)
        outbox.send(
            kind,
            account.email,
            account.locale,
            full_name=account.full_name,
            **_mail_params(order, party),
            **extra,
        )
