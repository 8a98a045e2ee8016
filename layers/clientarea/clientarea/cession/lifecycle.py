"""The transitions the owner (and, for its own link, the recipient) asks for: activate
the order (the window opens, the workflow starts, both get a link), re-send a link,
cancel the order (the service is released)."""

from __future__ import annotations

from datetime import timedelta

from clientarea import clock, config, throttling, tokens
from clientarea.cession import mails, workflow
from clientarea.cession.mails import MIN_LINK_LIFETIME
from clientarea.cession.orders import (
    Action,
    Order,
    Party,
    confirmed_at,
    link_subject,
    load,
    owner_order,
    party_order,
    require,
    revoked_links,
    status_of,
    view,
)
from clientarea.errors import Forbidden, InvalidOrderState
from clientarea.statuses import OrderStatus
from clientarea.storage import orders as store

# Re-sent links per party and hour: each one is a mail to that party's address.
RESENDS_PER_PARTY_PER_HOUR = 5


def resends_per_party() -> throttling.Limit:
    return throttling.Limit("cession_resends", RESENDS_PER_PARTY_PER_HOUR, 3600)


def activate(client_number: int, order_id: str) -> Order:
    """Start the confirmations: the window opens, the workflow starts, both get a link."""
    order = owner_order(client_number, order_id)
    if require(order, Action.ACTIVATE) is OrderStatus.AWAITING_CONFIRMATIONS:
        workflow.start(order.order_id)  # a retry: make sure the workflow runs, send nothing
        return view(order)
    now = clock.now()
    expires_at = now + timedelta(seconds=config.cession_timeout_seconds())
    lifetime = max(expires_at - now, MIN_LINK_LIFETIME)
    links = {
        party: tokens.prepare(
            tokens.Purpose.CESSION_ANSWER, link_subject(order.order_id, party), lifetime
        )
        for party in Party
    }
    # The window and both links in one transaction: a failure leaves the order waiting
    # for activation (so that a retry activates and mails), never an open window whose
    # links were never stored. (`order` then holds what the transaction wrote.)
    try:
        store.activate_order(
            order,
            expected=OrderStatus.AWAITING_ACTIVATION,
            status=OrderStatus.AWAITING_CONFIRMATIONS,
            now=now,
            expires_at=expires_at,
            links=[item for item, _ in links.values()],
        )
    except InvalidOrderState as exc:
        # A concurrent activate or cancel won: answer as a retry, or refuse.
        return _after_lost_race(order_id, exc)
    # Started before the links go out, so that a crash in between leaves a running
    # workflow (the parties can have their links re-sent), never links without one.
    workflow.start(order.order_id)
    for party, (_, issued) in links.items():
        mails.mail_link(order, party, issued)
    return view(order)


def _after_lost_race(order_id: str, exc: Exception) -> Order:
    order = load(order_id)
    if status_of(order) is not OrderStatus.AWAITING_CONFIRMATIONS:
        raise InvalidOrderState from exc
    return view(order)


def resend(client_number: int, order_id: str, party: Party) -> None:
    """A new link for `party`, which kills its previous one.

    The owner may resend either link; the recipient only its own (so that it cannot
    keep killing the owner's). Each link is mailed to its own party's address only.
    """
    order, caller = party_order(client_number, order_id)
    if caller is Party.RECIPIENT and party is not Party.RECIPIENT:
        raise Forbidden
    require(order, Action.RESEND)
    if confirmed_at(order, party) is not None:
        raise InvalidOrderState  # that party has answered: there is nothing to confirm
    throttling.hit(resends_per_party(), link_subject(order_id, party))
    mails.send_link(order, party)


def cancel(client_number: int, order_id: str) -> Order:
    """The owner withdraws the order (until it is finished); the service is released."""
    order = owner_order(client_number, order_id)
    was = require(order, Action.CANCEL)
    # (InvalidOrderState if it changed meanwhile: completed, declined, …)
    store.cancel_order(
        order, status=OrderStatus.CANCELLED, expected=(was,), revoked=revoked_links(order.order_id)
    )
    store.refresh(order)
    if was is OrderStatus.AWAITING_CONFIRMATIONS:  # only then had anyone been mailed
        mails.notify(order, "cession_cancelled", cancelled_by="owner")
    workflow.wake_both(order)  # after the mail: should waking fail, the parties know anyway
    return view(order)
