"""The parties' answers through their emailed links: confirm or decline.

A confirmation is first written to the order (in one transaction with using up the
link), then the stored task token, if any, is woken: either the workflow's branch
stored its token first (and is woken) or it finds the confirmation and ends at once.
A decline closes the order, releases the service and revokes the other link in one
transaction, then wakes both branches.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from clientarea import telemetry, tokens
from clientarea.cession import mails, workflow
from clientarea.cession.orders import (
    Action,
    Answer,
    Party,
    link_subject,
    load,
    parse_subject,
    require,
    task_token,
)
from clientarea.errors import InvalidOrderState, NotFound, TokenInvalid
from clientarea.statuses import OrderStatus
from clientarea.storage import orders as store
from clientarea.storage.orders import OrderModel


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
    order_id, party = parse_subject(valid.subject)
    try:
        order = load(order_id)
        require(order, Action(decision))
    except (NotFound, InvalidOrderState) as exc:
        raise TokenInvalid from exc
    return step(order, party, valid)


def _confirm(order: OrderModel, party: Party, valid: tokens.ValidToken) -> Answer:
    store.confirm_order(
        order,
        party,
        expected=OrderStatus.AWAITING_CONFIRMATIONS,
        consumed=(valid.item, valid.consume_condition()),
    )
    # Recorded first, then woken: read after the commit, the token is there exactly
    # when the branch stored it before our write (else the branch sees our write).
    store.refresh(order)
    workflow.wake(task_token(order, party))
    return Answer(order.order_id, party, order.status)


def _decline(order: OrderModel, party: Party, valid: tokens.ValidToken) -> Answer:
    store.decline_order(
        order,
        party,
        expected=OrderStatus.AWAITING_CONFIRMATIONS,
        status=OrderStatus.DECLINED,
        consumed=(valid.item, valid.consume_condition()),
        revoked=tokens.revoke(
            tokens.Purpose.CESSION_ANSWER, link_subject(order.order_id, party.other)
        ),
    )
    telemetry.count(telemetry.Metric.CESSION_DECLINED)
    store.refresh(order)
    mails.notify(order, "cession_declined", declined_by=str(party))
    workflow.wake_both(order)  # after the mail: should waking fail, the parties know anyway
    return Answer(order.order_id, party, order.status)


_ANSWERS: dict[Decision, Callable[[OrderModel, Party, tokens.ValidToken], Answer]] = {
    Decision.CONFIRM: _confirm,
    Decision.DECLINE: _decline,
}
